"""Chapter 5 exercises: the receptive field.

====  ===============================================  ==========================================
5.1   ``receptive_field_size(layers)``                  field size (pixels per side) after a
                                                        stack ``[(kernel_size, stride), ...]``;
                                                        1 for an empty stack
5.2   ``depth_for_field(target, kernel_size=3)``        fewest stride-1 k×k convolutions whose
                                                        field is at least ``target`` pixels
5.3   ``field_box(layers, i)``                          ``(first, last)`` input positions
                                                        (inclusive; negative = padding) seen by
                                                        output unit ``i`` of a stack
                                                        ``[(kernel_size, stride, padding), ...]``
====  ===============================================  ==========================================

All three work along one axis (fields are squares). The references use the recurrence of
:mod:`helpers.receptive_field`: size r <- r + (k - 1) j, jump j <- j s, offset P <- P + p j,
starting from r = 1, j = 1, P = 0 (tests check them against ``receptive_field`` and against
measured gradients).
"""
from __future__ import annotations

import math

from helpers.exercises.core import Case, Exercise, Mistake, checker

__all__ = ["check_depth_for_field", "check_field_box", "check_receptive_field_size"]

ALEXNET = [(11, 4), (3, 2), (5, 1), (3, 2), (3, 1), (3, 1), (3, 1), (3, 2)]
VGG16 = [(3, 1), (3, 1), (2, 2)] * 2 + [(3, 1), (3, 1), (3, 1), (2, 2)] * 3


# --------------------------------------------------------------------------- 5.1 the recurrence

def receptive_field_size(layers):
    """r_l = r_{l-1} + (k_l - 1) j_{l-1}, j_l = j_{l-1} s_l, from r_0 = j_0 = 1."""
    size, jump = 1, 1
    for kernel_size, stride in layers:
        size += (kernel_size - 1) * jump
        jump *= stride
    return size


def _field_cases(rng) -> list[Case]:
    cases = [Case(([],), label="no layers"), Case(([(3, 1)],), label="one 3×3 conv"),
             Case(([(3, 1)] * 10,), label="ten 3×3 convs"),
             Case(([(3, 1), (2, 2), (3, 1)],), label="conv, pool, conv"),
             Case((ALEXNET,), label="AlexNet"), Case((VGG16,), label="VGG-16")]
    for _ in range(6):
        layers = [(int(rng.choice([1, 2, 3, 5, 7])), int(rng.choice([1, 1, 2, 3])))
                  for _ in range(int(rng.integers(2, 7)))]
        cases.append(Case((layers,)))
    return cases


def _strides_ignored(layers):
    return 1 + sum(k - 1 for k, _ in layers)


def _new_jump(layers):
    size, jump = 1, 1
    for k, s in layers:
        jump *= s
        size += (k - 1) * jump
    return size


def _top_down_walked_up(layers):
    size = 1
    for k, s in layers:
        size = s * size + (k - s)
    return size


def _kernel_not_minus_one(layers):
    size, jump = 1, 1
    for k, s in layers:
        size += k * jump
        jump *= s
    return size


RECEPTIVE_FIELD = Exercise(
    number="5.1", title="The receptive-field recurrence", reference=receptive_field_size,
    cases=_field_cases,
    mistakes=[
        Mistake("you ignored the strides: after a stride-s layer, neighbouring units are s "
                "times further apart in the input, so keep a jump j (j ← j·s) and grow the "
                "field by (k − 1)·j.", _strides_ignored),
        Mistake("you updated the jump before growing the field. A layer's kernel steps over "
                "units of the layer BELOW it, so use the old jump: first r ← r + (k − 1)·j, "
                "then j ← j·s.", _new_jump),
        Mistake("r ← s·r + (k − s) is the top-down formula: it is right when you walk from the "
                "LAST layer back to the input, not from the first layer up. Walk the list "
                "reversed, or use the jump.", _top_down_walked_up),
        Mistake("a k×k kernel adds k − 1 pixels to the field (the centre pixel is already "
                "counted), not k: r ← r + (k − 1)·j.", _kernel_not_minus_one),
        Mistake("start from r = 1: with no layers a unit sees exactly one pixel (itself).",
                lambda layers: receptive_field_size(layers) - 1),
    ],
)
check_receptive_field_size = checker(RECEPTIVE_FIELD, "check_receptive_field_size")


# --------------------------------------------------------------------------- 5.2 depth needed

def depth_for_field(target, kernel_size=3):
    """Fewest L with 1 + L (k - 1) >= target, i.e. ceil((target - 1) / (k - 1))."""
    return -(-(target - 1) // (kernel_size - 1))


def _depth_cases(rng) -> list[Case]:
    cases = [Case((1,), label="one pixel"), Case((3,), label="3×3"),
             Case((101,), label="101×101"), Case((100,), label="an even target"),
             Case((224,), label="a whole 224×224 image"),
             Case((7, 7), label="one 7×7 kernel"), Case((10, 5)), Case((57, 5)),
             Case((2, 2), label="2×2 kernels"), Case((31, 7))]
    for _ in range(6):
        cases.append(Case((int(rng.integers(2, 400)), int(rng.choice([2, 3, 5, 7])))))
    return cases


DEPTH_FOR_FIELD = Exercise(
    number="5.2", title="How deep for a given field?", reference=depth_for_field,
    cases=_depth_cases,
    mistakes=[
        Mistake("you rounded down, so the field falls short of the target: round UP, "
                "math.ceil((target − 1) / (k − 1)) (or -(-(target − 1) // (k − 1))).",
                lambda t, k=3: (t - 1) // (k - 1)),
        Mistake("the field of L layers is 1 + L·(k − 1): subtract the 1 before dividing, "
                "L = ceil((target − 1) / (k − 1)).",
                lambda t, k=3: math.ceil(t / (k - 1))),
        Mistake("each layer grows the field by k − 1, not k (the centre pixel is shared): "
                "divide by k − 1.", lambda t, k=3: math.ceil((t - 1) / k)),
        Mistake("your answer only works for 3×3 kernels (2 pixels per layer); use "
                "kernel_size: each layer adds kernel_size − 1.",
                lambda t, k=3: math.ceil((t - 1) / 2)),
    ],
)
check_depth_for_field = checker(DEPTH_FOR_FIELD, "check_depth_for_field")


# --------------------------------------------------------------------------- 5.3 the box

def field_box(layers, i):
    """(first, last) input positions seen by output unit i: first = i·j - P, last = first +
    r - 1, with r, j, P from the recurrence (P <- P + p·j before j <- j·s)."""
    size, jump, offset = 1, 1, 0
    for kernel_size, stride, padding in layers:
        size += (kernel_size - 1) * jump
        offset += padding * jump
        jump *= stride
    first = i * jump - offset
    return first, first + size - 1


def _box(layers, i, *, pad_scale="old", use_jump=True, inclusive=True, use_padding=True):
    size, jump, offset = 1, 1, 0
    for k, s, p in layers:
        size += (k - 1) * jump
        new_jump = jump * s
        scale = {"old": jump, "none": 1, "new": new_jump}[pad_scale]
        offset += p * scale if use_padding else 0
        jump = new_jump
    first = i * (jump if use_jump else 1) - offset
    return first, first + size - (1 if inclusive else 0)


def _box_cases(rng) -> list[Case]:
    cases = [Case(([(3, 1, 1)], 0), label="one padded 3×3 conv, unit 0"),
             Case(([(3, 1, 0)], 4), label="no padding"),
             Case(([(3, 2, 1), (3, 2, 1)], 3), label="two stride-2 convs"),
             Case(([(3, 1, 1), (2, 2, 0), (3, 1, 1), (2, 2, 0)], 2),
                  label="conv, pool, conv, pool"),
             Case(([(11, 4, 2), (3, 2, 0), (5, 1, 2)], 5), label="AlexNet's start"),
             Case(([(7, 2, 3), (3, 2, 1), (3, 1, 1)], 0), label="ResNet's stem, unit 0")]
    for _ in range(6):
        layers = []
        for _ in range(int(rng.integers(2, 5))):
            k = int(rng.choice([1, 2, 3, 5]))
            layers.append((k, int(rng.choice([1, 2, 2, 3])), int(rng.integers(0, k // 2 + 2))))
        cases.append(Case((layers, int(rng.integers(0, 6)))))
    return cases


FIELD_BOX = Exercise(
    number="5.3", title="Where a unit looks", reference=field_box, cases=_box_cases,
    mistakes=[
        Mistake("you ignored the padding: zeros added around a layer's input shift every field "
                "up and left, by p·j pixels of the image for a layer padded by p.",
                lambda layers, i: _box(layers, i, use_padding=False)),
        Mistake("you added the paddings as they are; a layer's padding is counted in units of "
                "ITS input, so it moves the field by p·j pixels, with j the jump BEFORE that "
                "layer.", lambda layers, i: _box(layers, i, pad_scale="none")),
        Mistake("you scaled each padding by the jump AFTER its layer; use the jump before it "
                "(update P ← P + p·j first, then j ← j·s).",
                lambda layers, i: _box(layers, i, pad_scale="new")),
        Mistake("unit i starts i·j pixels after unit 0 — multiply i by the jump j (the "
                "product of the strides).", lambda layers, i: _box(layers, i, use_jump=False)),
        Mistake("`last` is inclusive: a field of r pixels starting at `first` ends at "
                "first + r − 1.", lambda layers, i: _box(layers, i, inclusive=False)),
    ],
)
check_field_box = checker(FIELD_BOX, "check_field_box")

EXERCISES = [RECEPTIVE_FIELD, DEPTH_FOR_FIELD, FIELD_BOX]
