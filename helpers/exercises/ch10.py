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
10.3  ``field_per_million(model)``                      receptive field of the last spatial layer
                                                        (pixels per side) per million parameters
                                                        of the whole model
====  ===============================================  ==========================================

10.1 gathers chapter 4's parameter count, chapter 6's multiply-adds and chapter 5's receptive
field in one pass over a stack (tests check the reference against ``count_parameters``,
``count_macs`` and ``receptive_field`` of the same stack built with ``torch.nn``).

10.2 has many right answers, so it is checked against the brief, not against the reference
model: :func:`brief_violations` measures a model with the course's tools and returns the
constraints it breaks, each with by how much. Two designs "agree" when they break the same
constraints, so each Mistake is a design that breaks exactly one of them, and its message says
how to fix that one.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass

import torch
from torch import nn

from helpers.attention import MultiHeadSelfAttention
from helpers.exercises.core import CallRecorder, Case, Exercise, Mistake, _function_name, checker
from helpers.layers import conv_output_size
from helpers.models import (
    alexnet,
    cifar_resnet,
    lenet5,
    mlp,
    small_cnn,
    small_vgg,
    tiny_vit,
    vgg16,
)
from helpers.receptive_field import receptive_field
from helpers.summary import count_macs, count_parameters

__all__ = ["check_design", "check_field_per_million", "check_stack_profile"]


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


def _profile(layers, in_channels, input_size, *, bias=True, macs_at_input=False,
             propagate=True, pools_shrink=True, jump_grows=True, pools_in_field=True,
             padding_sides=2):
    """The reference with one thing done wrong (for the mistakes below); never raises."""
    channels, side = in_channels, input_size
    parameters = macs = 0
    field, jump = 1, 1
    for kind, *spec in layers:
        if kind == "conv":
            out_channels, k, s, p = spec
            before = side
            side = (side + padding_sides * p - k) // s + 1
            c = channels if propagate else in_channels
            weights = out_channels * c * k * k
            parameters += weights + (out_channels if bias else 0)
            at = before if macs_at_input else side
            macs += weights * at * at
            channels = out_channels
        else:
            k, s = spec
            if pools_shrink:
                side = (side - k) // s + 1
            if not pools_in_field:
                continue
        field += (k - 1) * (jump if jump_grows else 1)
        jump *= s
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
    mistakes=[
        Mistake("the parameters miss the biases: each convolution has one bias per output "
                "channel, K·C·k² + K in all (chapter 4).",
                lambda *a: _profile(*a, bias=False)),
        Mistake("your multiply-adds use the size of each convolution's INPUT; its filters are "
                "applied once per OUTPUT position, so compute the new side first, then "
                "K·C·k²·H'·W' (chapter 6).", lambda *a: _profile(*a, macs_at_input=True)),
        Mistake("every convolution gets the stack's in_channels as its input channels; a layer "
                "reads the channels the layer before it produced: keep the channel count as you "
                "go.", lambda *a: _profile(*a, propagate=False)),
        Mistake("the poolings do not shrink your map: a k×k pooling with stride s changes the "
                "side like a convolution does, (n − k) // s + 1, and the later convolutions run "
                "on the smaller map.", lambda *a: _profile(*a, pools_shrink=False)),
        Mistake("your field ignores the strides: after a stride-s layer neighbouring units are "
                "s times further apart in the input, so keep a jump j (j ← j·s) and grow the "
                "field by (k − 1)·j (chapter 5).", lambda *a: _profile(*a, jump_grows=False)),
        Mistake("the poolings are missing from your field: a pooling window is a layer like a "
                "convolution, with no weights; it grows the field by (k − 1)·j and multiplies "
                "the jump by its stride.", lambda *a: _profile(*a, pools_in_field=False)),
        Mistake("you added the padding on one side only; it is added on BOTH sides of the map: "
                "(n + 2p − k) // s + 1.", lambda *a: _profile(*a, padding_sides=1)),
    ],
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
    """(N, in_channels, image_size, image_size) -> (N, num_classes): a small CNN whose four
    5×5 stages give its last spatial layer a field wider than the image."""
    return small_cnn(channels=(4, 8, 16), kernel_size=5, in_channels=in_channels,
                     input_size=image_size, num_classes=num_classes)


def _is_attention(module: nn.Module) -> bool:
    return isinstance(module, (nn.MultiheadAttention, MultiHeadSelfAttention))


_ATTENTION_CALLS = ("scaled_dot_product_attention", "multi_head_attention_forward")
_PRODUCTS = ("matmul", "bmm", "einsum", "Tensor.matmul", "Tensor.bmm", "baddbmm")


class _TokenMixing(CallRecorder):
    """Records attention calls of any implementation: the library's attention functions, and
    products of two activations (neither operand a parameter of the model), which is what
    q kᵀ and (weights) v are."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.weights = {p.untyped_storage().data_ptr() for p in model.parameters()}
        self.mixing: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = _function_name(func)
        if name in _ATTENTION_CALLS:
            self.mixing.append(name)
        elif name in _PRODUCTS:
            tensors = [a for a in args if isinstance(a, torch.Tensor)]
            if name.endswith("einsum") and args and isinstance(args[-1], (list, tuple)):
                tensors = [a for a in args[-1] if isinstance(a, torch.Tensor)]
            if len(tensors) >= 2 and all(t.untyped_storage().data_ptr() not in self.weights
                                         for t in tensors):
                self.mixing.append(f"a product of two activations ({name})")
        return super().__torch_function__(func, types, args, kwargs)


def _first_conv_kernel(model: nn.Module) -> int | None:
    conv = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
    return None if conv is None else max(conv.kernel_size)


_MEASURED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


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
    if kernel is not None and field is not None and field.layers and 2 * kernel > n:
        found["local"] = (f"its first convolution sees {kernel}×{kernel} pixels of the "
                          f"{n}×{n} image at once: that is a dense layer in disguise, not a "
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
    "runs": "the model must take the brief's images, (N, "
            f"{DESIGN_BRIEF.in_channels}, {DESIGN_BRIEF.image_size}, {DESIGN_BRIEF.image_size}),"
            f" and return (N, {DESIGN_BRIEF.num_classes}) class scores: pass in_channels, "
            "num_classes (and input_size where the "
            "constructor has one) on to the zoo's constructor; LeNet-5 as built in chapter 6 "
            "expects 32×32 images.",
    "dense": "a fully connected first layer ties each weight to one pixel position, so a digit "
             "in a place it was not trained on is new to it (chapter 1): start with "
             "convolutions.",
    "local": "the brief asks for locality built in: the first layers should see small "
             "neighbourhoods (3×3, 5×5), well below the image, and the field should grow by "
             "stacking and pooling (chapters 2 and 5).",
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


def _compare_designs(got, expected) -> str | None:
    """None when ``got`` breaks the same constraints as ``expected`` (none, for the reference),
    else what ``got`` breaks, by how much."""
    if not isinstance(got, nn.Module):
        return (f"returned a {type(got).__name__}; expected a model (a torch.nn.Module), such "
                "as one built by a constructor of helpers.models")
    mine, theirs = brief_violations(got), brief_violations(expected)
    if set(mine) == set(theirs):
        return None
    return "; ".join(mine.values()) if mine else "it meets the brief"


def _design_hint(case, got, expected) -> str | None:
    """For a design that breaks several constraints: the first one's advice."""
    if not isinstance(got, nn.Module):
        return None
    broken = list(brief_violations(got))
    if not broken:
        return None
    if len(broken) == 1:
        return _ADVICE[broken[0]]
    return f"{len(broken)} constraints are broken; one at a time — first, {_ADVICE[broken[0]]}"


def _brief_case(rng) -> list[Case]:
    b = DESIGN_BRIEF
    return [Case((b.in_channels, b.image_size, b.num_classes))]


DESIGN = Exercise(
    number="10.2", title="A network for a design brief", reference=design, cases=_brief_case,
    compare=_compare_designs, diagnose=_design_hint, time_limit=20.0,
    mistakes=[
        Mistake(_ADVICE["runs"], lambda c, n, k: lenet5()),
        Mistake(_ADVICE["dense"], lambda c, n, k: mlp(hidden=(12,))),
        Mistake(_ADVICE["local"], lambda c, n, k: nn.Sequential(nn.Conv2d(c, k, n),
                                                                nn.Flatten())),
        Mistake(_ADVICE["attention"], lambda c, n, k: tiny_vit(dim=16, depth=1, heads=2,
                                                               mlp_ratio=2)),
        Mistake(_ADVICE["parameters"], lambda c, n, k: small_cnn(channels=(4, 8, 16, 64))),
        Mistake(_ADVICE["macs"], lambda c, n, k: small_cnn(channels=(48, 8, 16, 16))),
        Mistake(_ADVICE["field"], lambda c, n, k: small_cnn(channels=(8, 16, 32))),
    ],
)
check_design = checker(DESIGN, "check_design")



# --------------------------------------------------------------------------- 10.3 field per weight

def field_per_million(model):
    """``receptive_field(model).size`` (the field of the last spatial layer, pixels per side)
    divided by the model's parameters in millions (all of them, head included), a float."""
    return receptive_field(model).size / (count_parameters(model) / 1e6)


def _per_million(model, *, value="size", params="all", scale=1e6):
    rf = receptive_field(model)
    numerator = {"size": rf.size, "area": rf.size ** 2, "jump": rf.stride}[value]
    counted = model.features if params == "trunk" else model
    return numerator / (count_parameters(counted) / scale)


def _zoo_cases(rng) -> list[Case]:
    """ImageNet models on the meta device (shapes only, no weights: fast), small ones real (on
    the meta device their random initialisers would load torch's compiler stack: slow)."""
    torch.manual_seed(int(rng.integers(2**31)))
    with torch.device("meta"):
        big = [(lenet5(), "LeNet-5"), (alexnet(), "AlexNet"), (vgg16(), "VGG-16")]
    small = [(small_cnn(), "small CNN"), (small_vgg(), "small VGG"),
             (cifar_resnet(20), "ResNet-20 for 28×28 images"),
             (cifar_resnet(8, width=4), "ResNet-8, 4 channels wide"), (tiny_vit(), "tiny ViT")]
    return [Case((model,), label=label) for model, label in big + small]


FIELD_PER_MILLION = Exercise(
    number="10.3", title="Receptive field per parameter", reference=field_per_million,
    cases=_zoo_cases, rtol=1e-9, allow_inplace=True,  # meta tensors have no values to compare
    mistakes=[
        Mistake("you divided by the number of parameters, not by millions of them: divide "
                "count_parameters(model) by 1e6 first.",
                lambda m: _per_million(m, scale=1.0)),
        Mistake("you used the field's area; the exercise asks for its side, "
                "receptive_field(model).size, in pixels.", lambda m: _per_million(m, value="area")),
        Mistake("`.stride` is the jump between neighbouring units' fields, not the field "
                "itself: use `.size`.", lambda m: _per_million(m, value="jump")),
        Mistake("you counted only the parameters of `model.features`; count the whole model, "
                "head included: what a design costs is all of its parameters.",
                lambda m: _per_million(m, params="trunk")),
        Mistake("you divided the other way round: pixels of field per million parameters is "
                "field / (parameters / 1e6).", lambda m: 1.0 / field_per_million(m)),
    ],
)
check_field_per_million = checker(FIELD_PER_MILLION, "check_field_per_million")

EXERCISES = [STACK_PROFILE, DESIGN, FIELD_PER_MILLION]
