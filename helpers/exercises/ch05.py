"""Chapter 5 exercises: the receptive field.

====  ===============================================  ==========================================
5.1   ``receptive_field_size(layers)``                  field size (pixels per side) after a
                                                        stack ``[(kernel_size, stride), ...]``;
                                                        1 for an empty stack
5.2   ``resnet_layers(blocks_per_stage, version)``      the ``[(kernel_size, stride), ...]``
                                                        main path of a bottleneck ResNet, v1 or
                                                        v1.5 (ResNet-50: 483 or 427 pixels)
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

from helpers.exercises.core import Case, Exercise, Mistake, checker

__all__ = ["check_field_box", "check_receptive_field_size", "check_resnet_layers"]

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


def _jump_is_stride(layers):
    size, jump = 1, 1
    for kernel_size, stride in layers:
        size += (kernel_size - 1) * jump
        jump = stride
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
        Mistake("you set the jump to the layer's own stride (j ← s); the jump is the spacing "
                "of the layer's units in INPUT pixels, the product of all strides so far: "
                "j ← j·s.", _jump_is_stride),
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


# --------------------------------------------------------------------------- 5.2 ResNet v1, v1.5

STEM = [(7, 2), (3, 2)]          # 7x7 convolution, stride 2; 3x3 max pool, stride 2


def resnet_layers(blocks_per_stage, version):
    """The main path of a bottleneck ResNet as (kernel_size, stride) pairs: the stem, then per
    block 1x1, 3x3, 1x1; the first block of every stage after the first strides by 2, on its
    first 1x1 in "v1" (He et al. 2016) or on its 3x3 in "v1.5" (torchvision)."""
    if version not in ("v1", "v1.5"):
        raise ValueError(f"version must be 'v1' or 'v1.5', got {version!r}")
    layers = list(STEM)
    for stage, blocks in enumerate(blocks_per_stage):
        for block in range(blocks):
            s = 2 if stage > 0 and block == 0 else 1
            if version == "v1":
                layers += [(1, s), (3, 1), (1, 1)]
            else:
                layers += [(1, 1), (3, s), (1, 1)]
    return layers


def _resnet_cases(rng) -> list[Case]:
    cases = [Case(((3, 4, 6, 3), "v1.5"), label="ResNet-50, v1.5"),
             Case(((3, 4, 6, 3), "v1"), label="ResNet-50, v1"),
             Case(((3, 4, 23, 3), "v1"), label="ResNet-101, v1"),
             Case(((1,), "v1"), label="one stage of one block"),
             Case(((2, 1), "v1.5"), label="two stages"),
             Case(((1, 1, 1), "v1"), label="three one-block stages")]
    for _ in range(4):
        blocks = tuple(int(b) for b in rng.integers(1, 4, size=int(rng.integers(2, 5))))
        cases.append(Case((blocks, str(rng.choice(["v1", "v1.5"])))))
    return cases


def _built(blocks_per_stage, version, *, swap=False, every_block=False, first_stage=False,
           stem=(7, 2, 3, 2), shortcut=False, slim=False):
    """resnet_layers with one thing done wrong (for the Mistakes below). ``slim``: "v1" in
    TensorFlow-Slim's layout (stride 2 in the 3×3 of the LAST block of every stage but the last)."""
    v1 = (version == "v1") != swap
    layers = [(stem[i], stem[i + 1]) for i in range(0, len(stem), 2)]
    for stage, blocks in enumerate(blocks_per_stage):
        for block in range(blocks):
            if slim and v1:
                s = 2 if stage < len(blocks_per_stage) - 1 and block == blocks - 1 else 1
                layers += [(1, 1), (3, s), (1, 1)]
                continue
            down = (stage > 0 or first_stage) and (block == 0 or every_block)
            s = 2 if down else 1
            layers += [(1, s), (3, 1), (1, 1)] if v1 else [(1, 1), (3, s), (1, 1)]
            if shortcut and down:
                layers.append((1, s))
    return layers


RESNET_LAYERS = Exercise(
    number="5.2", title="ResNet-50 v1 versus v1.5", reference=resnet_layers,
    cases=_resnet_cases,
    mistakes=[
        Mistake("both versions give the v1 layout — check how you test the version: "
                "`\"v1\" in version` is also true for \"v1.5\"; compare with `version == \"v1\"`.",
                lambda b, v: _built(b, "v1")),
        Mistake("that is TensorFlow-Slim's layout (the stride in the 3×3 of each stage's LAST "
                "block): it ends with the same field as v1, but the exercise asks for v1 as He et "
                "al. built it, the stride on the first 1×1 of each stage's FIRST block.",
                lambda b, v: _built(b, v, slim=True)),
        Mistake("your v1 and v1.5 are swapped: v1 (He et al.) strides on the FIRST 1×1 "
                "convolution of the block, v1.5 (torchvision) on the 3×3.",
                lambda b, v: _built(b, v, swap=True)),
        Mistake("you gave every block of a stage stride 2; only the FIRST block of a stage "
                "halves the resolution, the others keep it (stride 1).",
                lambda b, v: _built(b, v, every_block=True)),
        Mistake("the first stage keeps the resolution: the stem has already downsampled by 4, "
                "so only stages 2, 3, 4, ... start with a stride-2 block.",
                lambda b, v: _built(b, v, first_stage=True)),
        Mistake("the shortcut is not a layer of the chain: it runs BESIDE the block, in "
                "parallel, and its 1×1 field lies inside the main path's. Leave it out, or the "
                "stride counts twice.", lambda b, v: _built(b, v, shortcut=True)),
        Mistake("the stem has two layers: the 7×7 convolution (stride 2) AND the 3×3 max pool "
                "(stride 2).", lambda b, v: _built(b, v, stem=(7, 2))),
        Mistake("start with the stem: a 7×7 convolution with stride 2, then a 3×3 max pool "
                "with stride 2, before the first block.", lambda b, v: _built(b, v, stem=())),
    ],
)
check_resnet_layers = checker(RESNET_LAYERS, "check_resnet_layers")


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

EXERCISES = [RECEPTIVE_FIELD, RESNET_LAYERS, FIELD_BOX]
