"""Chapter 10 exercises: the course's measures together.

====  ===============================================  ==========================================
10.1  ``stack_profile(layers, in_channels,              ``{"parameters", "macs", "field"}`` of a
      input_size)``                                     stack of ``("conv", K, k, s, p)`` and
                                                        ``("pool", k, s)`` layers on a square
                                                        input of side ``input_size``
10.2  ``design(in_channels, image_size,                 a model from ``helpers.models`` that
      num_classes)``                                    meets :data:`DESIGN_BRIEF`: (N, C, n, n)
                                                        -> (N, num_classes), convolutional, within
                                                        the parameter and multiply-add budgets,
                                                        its last spatial layer seeing the image
10.3  ``choose_scaling(candidates, max_parameters,      of a base trunk scaled deeper, wider or
      max_macs)``                                       sharper (:func:`scaling_candidates`), the
                                                        one within both budgets whose field
                                                        covers the image that spends the most
                                                        multiply-adds, with its three numbers
====  ===============================================  ==========================================

10.1 gathers chapter 4's parameter count, chapter 6's multiply-adds and chapter 5's receptive
field in one pass over a stack (tests check the reference against ``count_parameters``,
``count_macs`` and ``receptive_field`` of the same stack built with ``torch.nn``).

10.2 has many right answers, so it is checked against the brief, not against the reference
model: :func:`brief_violations` measures a model with the course's tools and returns the
constraints it breaks, each with by how much. Two designs "agree" when they break the same
constraints, so each Mistake is a design that breaks exactly one of them, and its message says
how to fix that one.

10.3 is checked on candidate sets built by :func:`scaling_candidates` (10.2's reference trunk,
a strided trunk and random stacks), with budgets under which each slip in counting (FLOPs for
multiply-adds, biases as multiply-adds, sizes taken before the stride) still leaves a candidate
that fits, so that the slip shows in the numbers returned; the side not carried from layer to
layer usually leaves none, and the error hint says so.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass
from functools import partial

import torch
from torch import nn

from helpers.attention import MultiHeadSelfAttention
from helpers.exercises.core import CallRecorder, Case, Exercise, Mistake, _function_name, checker
from helpers.layers import conv_output_size
from helpers.models import lenet5, mlp, small_cnn, tiny_vit
from helpers.receptive_field import receptive_field
from helpers.summary import count_macs, count_parameters

__all__ = ["check_choose_scaling", "check_design", "check_stack_profile"]


# --------------------------------------------------------------------------- 10.1 one pass

def stack_profile(layers, in_channels, input_size):
    """Parameters (weights and biases), multiply-adds per image and receptive field (pixels per
    side) of a stack applied to a (in_channels, input_size, input_size) input. ``layers``:
    ``("conv", out_channels, kernel_size, stride, padding)`` (with a bias) or ``("pool",
    kernel_size, stride)`` (no padding), in order."""
    channels, side = in_channels, input_size
    parameters = macs = 0
    field, jump = 1, 1
    for kind, *spec in layers:
        if kind == "conv":
            out_channels, kernel_size, stride, padding = spec
        else:
            (kernel_size, stride), out_channels, padding = spec, channels, 0
        side = conv_output_size(side, kernel_size, stride, padding)
        if kind == "conv":
            weights = out_channels * channels * kernel_size * kernel_size
            parameters += weights + out_channels
            macs += weights * side * side
        field += (kernel_size - 1) * jump
        jump *= stride
        channels = out_channels
    return {"parameters": parameters, "macs": macs, "field": field}


def _mistakes(variant, rows) -> list[Mistake]:
    """One :class:`Mistake` per ``(message, options)`` row: ``variant`` called with the
    exercise's arguments and those keyword options."""
    return [Mistake(message, partial(variant, **options)) for message, options in rows]


def _numbers(layers, in_channels, input_size, *, biases=True, macs_at_input=False, macs_per=1,
             bias_macs=False, propagate=True, carry_side=True, pools_shrink=True,
             padding_sides=2, jump_grows=True, pools_in_field=True):
    """:func:`stack_profile`, with one slip injected per keyword (for the mistakes of 10.1 and
    10.3). Never raises."""
    channels, side = in_channels, input_size
    parameters = macs = 0
    field, jump = 1, 1
    for kind, *spec in layers:
        if kind == "conv":
            out_channels, k, s, p = spec
        else:
            (k, s), out_channels, p = spec, channels, 0
        before = side
        if kind == "conv" or pools_shrink:
            side = ((side if carry_side else input_size) + padding_sides * p - k) // s + 1
        if kind == "conv":
            weights = out_channels * (channels if propagate else in_channels) * k * k
            parameters += weights + (out_channels if biases else 0)
            at = before if macs_at_input else side
            macs += macs_per * weights * at * at + (out_channels * at * at if bias_macs else 0)
        elif not pools_in_field:
            continue
        field += (k - 1) * (jump if jump_grows else 1)
        jump *= s
        channels = out_channels
    return {"parameters": parameters, "macs": macs, "field": field}


LENET = [("conv", 6, 5, 1, 0), ("pool", 2, 2), ("conv", 16, 5, 1, 0), ("pool", 2, 2)]
ALEXNET = [("conv", 64, 11, 4, 2), ("pool", 3, 2), ("conv", 192, 5, 1, 2), ("pool", 3, 2),
           ("conv", 384, 3, 1, 1), ("conv", 256, 3, 1, 1), ("conv", 256, 3, 1, 1),
           ("pool", 3, 2)]
VGG_BLOCK = [("conv", 64, 3, 1, 1), ("conv", 64, 3, 1, 1), ("pool", 2, 2)]


def _random_stack(rng, side):
    """A stack of 2-6 layers whose every output is at least 1 pixel, with distinct widths."""
    layers = []
    for _ in range(int(rng.integers(2, 7))):
        if layers and rng.random() < 0.3 and side >= 4:
            k, s = int(rng.choice([2, 3])), 2
            layers.append(("pool", k, s))
        else:
            k = int(rng.choice([1, 3, 5]))
            s, p = int(rng.choice([1, 1, 2])), int(rng.integers(0, k // 2 + 1))
            if (side + 2 * p - k) // s + 1 < 1:
                continue
            layers.append(("conv", int(rng.integers(2, 65)), k, s, p))
        side = conv_output_size(side, k, s, p if layers[-1][0] == "conv" else 0)
    return layers


def _profile_cases(rng) -> list[Case]:
    cases = [Case(([], 3, 32), label="no layers"),
             Case(([("conv", 8, 3, 1, 1)], 3, 16), label="one padded 3×3 conv"),
             Case((LENET, 1, 32), label="LeNet-5's trunk"),
             Case((VGG_BLOCK, 3, 224), label="VGG-16's first block"),
             Case((ALEXNET, 3, 224), label="AlexNet's trunk"),
             Case(([("conv", 16, 3, 2, 1), ("conv", 32, 3, 2, 1), ("conv", 64, 3, 1, 1)], 3, 64),
                  label="strided convolutions, no pooling")]
    for _ in range(6):
        side = int(rng.integers(16, 65))
        cases.append(Case((_random_stack(rng, side), int(rng.integers(1, 5)), side)))
    return cases


STACK_PROFILE = Exercise(
    number="10.1", title="Parameters, multiply-adds and field in one pass",
    reference=stack_profile, cases=_profile_cases,
    mistakes=_mistakes(_numbers, [
        ("the parameters miss the biases: each convolution has one bias per output "
         "channel, K·C·k² + K in all (chapter 4).",
         {"biases": False}),
        ("your multiply-adds use the size of each convolution's INPUT; its filters are "
         "applied once per OUTPUT position, so compute the new side first, then "
         "K·C·k²·H'·W' (chapter 6).",
         {"macs_at_input": True}),
        ("every convolution gets the stack's in_channels as its input channels; a layer "
         "reads the channels the layer before it produced: keep the channel count as you "
         "go.",
         {"propagate": False}),
        ("the poolings do not shrink your map: a k×k pooling with stride s changes the "
         "side like a convolution does, (n − k) // s + 1, and the later convolutions run "
         "on the smaller map.",
         {"pools_shrink": False}),
        ("your field ignores the strides: after a stride-s layer neighbouring units are "
         "s times further apart in the input, so keep a jump j (j ← j·s) and grow the "
         "field by (k − 1)·j (chapter 5).",
         {"jump_grows": False}),
        ("the poolings are missing from your field: a pooling window is a layer like a "
         "convolution, with no weights; it grows the field by (k − 1)·j and multiplies "
         "the jump by its stride.",
         {"pools_in_field": False}),
        ("you added the padding on one side only; it is added on BOTH sides of the map: "
         "(n + 2p − k) // s + 1.",
         {"padding_sides": 1}),
    ]),
)
check_stack_profile = checker(STACK_PROFILE, "check_stack_profile")


# --------------------------------------------------------------------------- 10.2 a design brief

@dataclass(frozen=True)
class Brief:
    """What the network must do, and what it may cost."""

    in_channels: int = 1               # greyscale
    image_size: int = 28               # 28×28 pixels
    num_classes: int = 10
    train_images: int = 1_000          # labelled images to train on
    max_parameters: int = 10_000       # the whole model, weights and biases
    max_macs: int = 1_000_000          # multiply-adds per image (helpers.summary.count_macs)


DESIGN_BRIEF = Brief()


def design(in_channels, image_size, num_classes):
    """(N, in_channels, image_size, image_size) -> (N, num_classes): a small CNN whose three
    5×5 stages give its last spatial layer a field wider than the image."""
    return small_cnn(channels=(4, 8, 16), kernel_size=5, in_channels=in_channels,
                     input_size=image_size, num_classes=num_classes)


def _is_attention(module: nn.Module) -> bool:
    return isinstance(module, (nn.MultiheadAttention, MultiHeadSelfAttention))


_ATTENTION_CALLS = ("scaled_dot_product_attention", "multi_head_attention_forward")
_PRODUCTS = ("matmul", "bmm", "einsum", "Tensor.matmul", "Tensor.bmm", "baddbmm")


_ELEMENTWISE_PRODUCTS = ("mul", "Tensor.mul", "Tensor.__mul__", "Tensor.__rmul__")
_SOFTMAXES = ("softmax", "log_softmax", "Tensor.softmax", "Tensor.log_softmax")


class _TokenMixing(CallRecorder):
    """Records attention calls of any implementation: the library's attention functions;
    products of two activations (neither operand a parameter of the model), which is what
    q kᵀ and (weights) v are; and attention written by broadcasting, a softmax whose input
    derives from an elementwise product of two activations that is larger than either (an
    outer product over tokens, such as ``(q[:, :, None] * k[:, None]).sum(-1)``)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.weights = {p.untyped_storage().data_ptr() for p in model.parameters()}
        self.mixing: list[str] = []
        self._derived: list[torch.Tensor] = []    # kept alive, so that their ids stay theirs
        self._derived_ids: set[int] = set()

    def _activation(self, t) -> bool:
        return isinstance(t, torch.Tensor) and \
            t.untyped_storage().data_ptr() not in self.weights

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = _function_name(func)
        tensors = [a for a in (*args, *(kwargs or {}).values()) if isinstance(a, torch.Tensor)]
        if name in _ATTENTION_CALLS:
            self.mixing.append(name)
        elif name in _PRODUCTS:
            operands = tensors
            if name.endswith("einsum") and args and isinstance(args[-1], (list, tuple)):
                operands = [a for a in args[-1] if isinstance(a, torch.Tensor)]
            if len(operands) >= 2 and all(self._activation(t) for t in operands):
                self.mixing.append(f"a product of two activations ({name})")
        elif name in _SOFTMAXES and tensors and id(tensors[0]) in self._derived_ids:
            self.mixing.append("a softmax of an elementwise product of two activations, "
                               "attention written by broadcasting")
        out = super().__torch_function__(func, types, args, kwargs)
        outer = name in _ELEMENTWISE_PRODUCTS and len(tensors) == 2 and \
            all(self._activation(t) for t in tensors) and isinstance(out, torch.Tensor) and \
            out.numel() > max(t.numel() for t in tensors)
        if outer or any(id(t) in self._derived_ids for t in tensors):
            for t in (out if isinstance(out, (tuple, list)) else (out,)):
                if isinstance(t, torch.Tensor):
                    self._derived.append(t)
                    self._derived_ids.add(id(t))
        return out


def _first_conv_kernel(model: nn.Module) -> int | None:
    conv = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
    return None if conv is None else max(conv.kernel_size)


_MEASURED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _max_first_kernel(n: int) -> int:
    """The largest first kernel the brief allows on an n×n image: a quarter of its side."""
    return n // 4


def brief_violations(model, brief: Brief = DESIGN_BRIEF) -> dict[str, str]:
    """The constraints of ``brief`` that ``model`` breaks, ``{name: by how much, in words}``,
    in this order: ``"runs"`` (it does not map (1, C, n, n) to (1, num_classes); nothing else
    is measured then), ``"dense"`` (a fully connected first layer), ``"attention"``,
    ``"parameters"``, ``"macs"``, ``"field"`` (the last spatial layer sees less than the image;
    not measured for attention models, whose units see the whole image after one block).
    Empty when the model meets the brief."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"expected a torch.nn.Module, got {type(model).__name__}")
    key = (brief, id(model))
    cached = _MEASURED.get(model)
    if cached is not None and cached[0] == key:
        return dict(cached[1])
    found = _measure(model, brief)
    _MEASURED[model] = (key, found)
    return dict(found)


def _measure(model: nn.Module, brief: Brief) -> dict[str, str]:
    n, c, classes = brief.image_size, brief.in_channels, brief.num_classes
    shape = (1, c, n, n)
    was_training = model.training
    try:
        model.eval()
        mixing = _TokenMixing(model)
        with torch.no_grad(), mixing:
            out = model(torch.randn(shape, generator=torch.Generator().manual_seed(0)))
    except Exception as exc:  # a learner's model may fail in any way
        text = " ".join(str(exc).split())[:120]
        return {"runs": f"calling it on a {shape} batch raised {type(exc).__name__}: {text}"}
    finally:
        model.train(was_training)
    got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
    if got != (1, classes):
        return {"runs": f"on a {shape} batch it returned {got}; the brief needs (1, {classes})"}
    found = {}
    try:
        field = receptive_field(model)
    except ValueError as exc:
        field = None
        found["field"] = f"its receptive field cannot be computed ({exc})"
    attention = any(_is_attention(m) for m in model.modules()) or bool(mixing.mixing)
    if field is not None and not field.layers:
        found["dense"] = (f"its first layer ({field.stopped_at}) is fully connected, not a "
                          "convolution")
    if attention:
        how = f" ({mixing.mixing[0]})" if mixing.mixing else ""
        found["attention"] = f"it mixes tokens by attention{how}"
    kernel = _first_conv_kernel(model)
    if kernel is not None and field is not None and field.layers and \
            kernel > _max_first_kernel(n):
        found["local"] = (f"its first convolution sees {kernel}×{kernel} pixels of the "
                          f"{n}×{n} image at once, more than a quarter of its side "
                          f"({_max_first_kernel(n)}×{_max_first_kernel(n)} at most): not a "
                          "local feature detector")
    params = count_parameters(model, trainable_only=False)
    if params > brief.max_parameters:
        over = params - brief.max_parameters
        found["parameters"] = (f"{params:,} parameters, {over:,} over the budget of "
                               f"{brief.max_parameters:,} ({over / brief.max_parameters:.0%})")
    macs = count_macs(model, shape[1:])
    if macs > brief.max_macs:
        over = macs - brief.max_macs
        found["macs"] = (f"{macs:,} multiply-adds per image, {over:,} over the budget of "
                         f"{brief.max_macs:,} ({over / brief.max_macs:.0%})")
    if field is not None and field.layers and not attention and field.size < n:
        found["field"] = (f"its last spatial layer sees {field.size}×{field.size} pixels, "
                          f"{n - field.size} short of the whole {n}×{n} image")
    return found


_ADVICE = {
    "runs": "the model must take the images your arguments describe, (N, in_channels, "
            "image_size, image_size), and return (N, num_classes) class scores: pass "
            "in_channels, num_classes (and input_size where the constructor has one) on to "
            "the zoo's constructor; LeNet-5 as built in chapter 6 expects 32×32 images.",
    "dense": "a fully connected first layer ties each weight to one pixel position, so a digit "
             "in a place it was not trained on is new to it (chapter 1): start with "
             "convolutions.",
    "local": "the brief asks for locality built in: the first convolution's kernel may be at "
             "most a quarter of the image's side (7×7 on 28×28); small neighbourhoods (3×3, "
             "5×5) are usual, and the field should grow by stacking and pooling (chapters 2 "
             "and 5).",
    "attention": "with about a thousand labelled images, a Vision Transformer has to learn "
                 "locality from too little data (chapter 9); choose a convolutional network, "
                 "which has it built in.",
    "parameters": "too many parameters. A convolution costs K·C·k² + K (chapter 4) and a dense "
                  "layer on a flattened map far more (chapter 6): narrow the widest stage, and "
                  "pool globally before the classifier.",
    "macs": "too many multiply-adds. A convolution costs K·C·k² per OUTPUT position (chapter "
            "6), so the layers at full resolution dominate: keep the first stages narrow and "
            "widen only after pooling.",
    "field": "the units of your last spatial layer do not see the whole image. After each "
             "pooling every layer grows the field twice as fast (chapter 5): add a stage, or use "
             "larger kernels in the later stages.",
}


def _case_brief(case) -> Brief:
    """The brief of a case: its (in_channels, image_size, num_classes), the budgets of
    :data:`DESIGN_BRIEF`."""
    if case is None:
        return DESIGN_BRIEF
    in_channels, image_size, num_classes = case.args
    return Brief(in_channels=in_channels, image_size=image_size, num_classes=num_classes,
                 train_images=DESIGN_BRIEF.train_images,
                 max_parameters=DESIGN_BRIEF.max_parameters, max_macs=DESIGN_BRIEF.max_macs)


def _compare_designs(got, expected, case=None) -> str | None:
    """None when ``got`` breaks the same constraints as ``expected`` (none, for the reference)
    under the case's brief, else what ``got`` breaks, by how much."""
    if not isinstance(got, nn.Module):
        return (f"returned a {type(got).__name__}; expected a model (a torch.nn.Module), such "
                "as one built by a constructor of helpers.models")
    brief = _case_brief(case)
    mine, theirs = brief_violations(got, brief), brief_violations(expected, brief)
    if set(mine) == set(theirs):
        return None
    return "; ".join(mine.values()) if mine else "it meets the brief"


def _design_hint(case, got, expected) -> str | None:
    """For a design that breaks several constraints: the first one's advice."""
    if not isinstance(got, nn.Module):
        return None
    broken = list(brief_violations(got, _case_brief(case)))
    if not broken:
        return None
    if len(broken) == 1:
        return _ADVICE[broken[0]]
    return f"{len(broken)} constraints are broken; one at a time — first, {_ADVICE[broken[0]]}"


def _large_first_kernel(c, n, k):
    """A design that meets the brief but for a first kernel one wider than it allows."""
    return nn.Sequential(nn.Conv2d(c, 4, _max_first_kernel(n) + 1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 8, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 5, padding=2), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(16, k))


def _brief_case(rng) -> list[Case]:
    b = DESIGN_BRIEF
    return [Case((b.in_channels, b.image_size, b.num_classes), label="the brief"),
            Case((3, 32, 5), label="colour 32×32 images, 5 classes: the same budgets")]


DESIGN = Exercise(
    number="10.2", title="A network for a design brief", reference=design, cases=_brief_case,
    compare=_compare_designs, diagnose=_design_hint, time_limit=20.0,
    mistakes=[
        Mistake(_ADVICE["runs"], lambda c, n, k: lenet5()),
        Mistake(_ADVICE["dense"], lambda c, n, k: mlp(in_features=c * n * n, hidden=(3,),
                                                      num_classes=k)),
        Mistake(_ADVICE["local"], _large_first_kernel),
        Mistake(_ADVICE["attention"], lambda c, n, k: tiny_vit(
            patch=4, dim=16, depth=1, heads=2, mlp_ratio=2, in_channels=c, image_size=n,
            num_classes=k)),
        Mistake(_ADVICE["parameters"], lambda c, n, k: small_cnn(
            channels=(4, 8, 16, 64), in_channels=c, input_size=n, num_classes=k)),
        Mistake(_ADVICE["macs"], lambda c, n, k: small_cnn(
            channels=(48, 8, 16, 16), in_channels=c, input_size=n, num_classes=k)),
        Mistake(_ADVICE["field"], lambda c, n, k: small_cnn(
            channels=(8, 16, 32), in_channels=c, input_size=n, num_classes=k)),
    ],
)
check_design = checker(DESIGN, "check_design")



# --------------------------------------------------------------------------- 10.3 a scaling budget

def choose_scaling(candidates, max_parameters, max_macs):
    """The candidate to build: of those within both budgets (parameters <= max_parameters,
    multiply-adds per image <= max_macs) whose last layer sees the whole image (field >= the
    input side), the one that spends the most multiply-adds. ``candidates``: ``{name: (layers,
    in_channels, input_size)}``, each stack in Exercise 10.1's format. Returns ``{"choice":
    name, "parameters": int, "macs": int, "field": int}`` of the chosen candidate."""
    return _choose(candidates, max_parameters, max_macs)


def _choose(candidates, max_parameters, max_macs, *, rank="macs", parameter_budget=True,
            mac_budget=True, needs_field=True, strict=False, field_beyond=False, **slips):
    """The reference with one thing done wrong (for the mistakes below); never raises."""
    fits = []
    for name, (layers, in_channels, input_size) in candidates.items():
        numbers = _numbers(layers, in_channels, input_size, **slips)
        within = (lambda v, limit: v < limit) if strict else (lambda v, limit: v <= limit)
        if parameter_budget and not within(numbers["parameters"], max_parameters):
            continue
        if mac_budget and not within(numbers["macs"], max_macs):
            continue
        if needs_field and (numbers["field"] <= input_size if field_beyond
                            else numbers["field"] < input_size):
            continue
        fits.append((name, numbers))
    if not fits:
        return None
    if rank == "fewest macs":
        name, numbers = min(fits, key=lambda item: item[1]["macs"])
    else:
        name, numbers = max(fits, key=lambda item: item[1][rank])
    return {"choice": name, **numbers}


def scaling_candidates(layers, in_channels, input_size, *, width=1.5, side=1.5):
    """``{name: (layers, in_channels, input_size)}``: a base stack (10.1's format) and the ways
    of scaling it up. "deeper": every convolution followed by a 3×3 convolution of the same
    width (stride 1, padding 1); "wider": every convolution ``width`` times as many filters;
    "sharper": the input side ``side`` times larger; "deeper and sharper"; "all three"."""
    if not (width > 0 and side > 0):
        raise ValueError(f"scaling_candidates: width and side must be > 0, got {width}, {side}")

    def deeper(stack):
        out = []
        for layer in stack:
            out.append(layer)
            if layer[0] == "conv":
                out.append(("conv", layer[1], 3, 1, 1))
        return out

    def wider(stack):
        return [("conv", max(1, round(layer[1] * width)), *layer[2:]) if layer[0] == "conv"
                else layer for layer in stack]

    big = round(input_size * side)
    return {"base": (list(layers), in_channels, input_size),
            "deeper": (deeper(layers), in_channels, input_size),
            "wider": (wider(layers), in_channels, input_size),
            "sharper": (list(layers), in_channels, big),
            "deeper and sharper": (deeper(layers), in_channels, big),
            "all three": (deeper(wider(layers)), in_channels, big)}


BRIEF_BASE = [("conv", 4, 5, 1, 2), ("pool", 2, 2), ("conv", 8, 5, 1, 2), ("pool", 2, 2),
              ("conv", 16, 5, 1, 2), ("pool", 2, 2)]
STRIDED_BASE = [("conv", 8, 3, 2, 1), ("conv", 16, 3, 2, 1), ("conv", 32, 3, 2, 1),
                ("conv", 32, 3, 1, 1)]


_SLIPS_THAT_STILL_FIT = ({"macs_per": 2}, {"bias_macs": True}, {"macs_at_input": True},
                         {"biases": False})


def _scaling_cases(rng) -> list[Case]:
    """Candidate sets where at least one candidate fits, no two spend the same multiply-adds,
    and a slip in counting (except the side not carried along) still leaves one that fits."""
    def case(base, channels, input_size, max_parameters, max_macs, label="", **scale):
        return Case((scaling_candidates(base, channels, input_size, **scale), max_parameters,
                     max_macs), label=label)

    brief = scaling_candidates(BRIEF_BASE, 1, 28)
    deeper = _numbers(*brief["deeper"])["parameters"]
    cases = [case(BRIEF_BASE, 1, 28, 10_000, 1_000_000, label="10.2's brief"),
             case(BRIEF_BASE, 1, 28, 8_000, 1_000_000, label="fewer parameters"),
             case(BRIEF_BASE, 1, 28, deeper, 1_000_000, label="deeper exactly at the budget"),
             case(BRIEF_BASE, 1, 36, 10_000, 1_500_000, label="a field exactly the image"),
             case(BRIEF_BASE, 1, 20, 12_000, 600_000, label="20×20 images"),
             case(STRIDED_BASE, 3, 32, 40_000, 2_000_000, label="strided convolutions"),
             case(STRIDED_BASE, 3, 24, 30_000, 2_000_000, label="strided, 24×24",
                  width=1.25, side=2.0)]
    while len(cases) < 13:
        side = int(rng.integers(16, 49))
        base = _random_stack(rng, side)
        channels = int(rng.integers(1, 4))
        cands = scaling_candidates(base, channels, side, width=float(rng.choice([1.25, 1.5, 2])),
                                   side=float(rng.choice([1.25, 1.5, 2])))
        numbers = [_numbers(*args) for args in cands.values()]
        limits = (int(numbers[0]["parameters"] * rng.uniform(1.2, 3)),
                  int(numbers[0]["macs"] * rng.uniform(2.5, 5)))
        macs = [n["macs"] for n in numbers]
        if len(set(macs)) == len(macs) and _choose(cands, *limits) is not None and \
                all(_choose(cands, *limits, **slip) for slip in _SLIPS_THAT_STILL_FIT):
            cases.append(Case((cands, *limits)))
    return cases


def _slip(**slips):
    """A mistake: the reference with one slip; an empty choice (never None) when nothing fits
    by the slipped counts, so that it never matches a function that forgot to return."""
    def wrong(candidates, max_parameters, max_macs):
        found = _choose(candidates, max_parameters, max_macs, **slips)
        return found or {"choice": None, "parameters": 0, "macs": 0, "field": 0}
    return wrong


_NOTHING_FITS = ("no candidate fits by your counts, yet at least one does: check your "
                 "multiply-adds (one per weight per OUTPUT position, biases not counted, the "
                 "map shrunk by every earlier stride and pooling)")


def _scaling_error(case, exc) -> str | None:
    text = str(exc)
    if (isinstance(exc, ValueError) and "empty" in text) or \
            (isinstance(exc, TypeError) and "NoneType" in text):
        return _NOTHING_FITS + "."
    return None


SCALING = Exercise(
    number="10.3", title="Scaling up within a budget", reference=choose_scaling,
    cases=_scaling_cases, explain_error=_scaling_error, time_limit=30.0,
    none_hint=(f"returned None: {_NOTHING_FITS} and your field (the jump multiplied by every "
               "stride, poolings included)"),
    mistakes=[
        Mistake("you counted FLOPs, two per multiply-add (FlopCounterMode's convention in "
                "chapter 2); the budget is in multiply-adds, K·C·k² per output position of "
                "a convolution.", _slip(macs_per=2)),
        Mistake("you counted each bias as a multiply-add; adding a bias is one addition per "
                "output value, not a multiply-add, and count_macs leaves it out: K·C·k²·H'·W' "
                "per convolution.", _slip(bias_macs=True)),
        Mistake("every layer's map size starts from the input image's side; a stride or a "
                "pooling shrinks the map for ALL later layers, so carry the side from layer to "
                "layer.", _slip(carry_side=False)),
        Mistake("your multiply-adds use each convolution's INPUT size; its filters are applied "
                "once per OUTPUT position: compute the new side first, then K·C·k²·H'·W'.",
                _slip(macs_at_input=True)),
        Mistake("the parameters miss the biases: a convolution has K·C·k² + K.",
                _slip(biases=False)),
        Mistake("your choice breaks the multiply-add budget: a candidate must fit BOTH "
                "budgets.", _slip(mac_budget=False)),
        Mistake("your choice breaks the parameter budget: a candidate must fit BOTH budgets "
                "(width costs parameters, resolution does not).", _slip(parameter_budget=False)),
        Mistake("your choice's last layer does not see the whole image (field < its input "
                "side): a larger input needs a larger field, which the deeper candidates "
                "have.", _slip(needs_field=False)),
        Mistake("you chose the cheapest candidate that fits; the rule spends as much of the "
                "budget as it can: the one with the MOST multiply-adds.",
                _slip(rank="fewest macs")),
        Mistake("you ranked the candidates by parameters; the rule ranks those that fit by "
                "multiply-adds.", _slip(rank="parameters")),
        Mistake("a field exactly as wide as the image covers it: the condition is field >= "
                "input side, not >.", _slip(field_beyond=True)),
        Mistake("you ranked the candidates by receptive field; the field only has to cover the "
                "image, and among those that do the rule picks the most multiply-adds.",
                _slip(rank="field")),
        Mistake("a candidate exactly at a budget fits it: compare with <=, not <.",
                _slip(strict=True)),
    ],
)
check_choose_scaling = checker(SCALING, "check_choose_scaling")

EXERCISES = [STACK_PROFILE, DESIGN, SCALING]
