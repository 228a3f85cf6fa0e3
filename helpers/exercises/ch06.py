"""Chapter 6 exercises: LeNet-5, AlexNet and VGG.

====  ===============================================  ==========================================
6.1   ``conv_macs(in_channels, out_channels,            multiply-adds of one convolution on a
      kernel_size, input_size, stride=1, padding=0)``   square input
6.2   ``layer_costs(model, input_size)``                ``{layer name: (parameters,
                                                        multiply-adds)}`` for every ``nn.Conv2d``
                                                        and ``nn.Linear``, one (C, H, W) input
6.3   ``dropout(x, p, training=True, seed=0)``          inverted dropout, drawing its own mask
6.4   ``shift_images(images, dy, dx)``                  ``(N, H, W)`` -> same shape, content moved
                                                        ``dy`` rows down and ``dx`` columns right,
                                                        zeros moved in
6.5   ``vgg_block(in_channels, out_channels,            one VGG stage: ``num_convs`` 3x3
      num_convs)``                                      convolutions with ReLU, then a 2x2 max
                                                        pool; the zoo's ``vgg_trunk`` stage
====  ===============================================  ==========================================
"""
from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from helpers.exercises.core import Case, Exercise, Mistake, checker
from helpers.models import lenet5, small_cnn, small_vgg
from helpers.models.vgg import vgg_trunk

__all__ = ["check_conv_macs", "check_dropout", "check_layer_costs", "check_shift_images",
           "check_vgg_block"]


# --------------------------------------------------------------------------- 6.1 multiply-adds

def conv_macs(in_channels, out_channels, kernel_size, input_size, stride=1, padding=0):
    """Multiply-adds of a convolution on one square input of side ``input_size``; ``padding``
    per side, biases ignored."""
    side = (input_size + 2 * padding - kernel_size) // stride + 1
    return out_channels * in_channels * kernel_size * kernel_size * side * side


def _macs(c, k_out, k, n, stride=1, padding=0, *, side=None, per_pos=None):
    """Variants of the count for the mistakes below."""
    side = (n + 2 * padding - k) // stride + 1 if side is None else side
    per_pos = k_out * c * k * k if per_pos is None else per_pos
    return per_pos * side * side


def _macs_cases(rng) -> list[Case]:
    cases = [Case((1, 6, 5, 32), label="LeNet-5, conv 1"),
             Case((6, 16, 5, 14), label="LeNet-5, conv 2"),
             Case((3, 64, 11, 224), {"stride": 4, "padding": 2}, label="AlexNet, conv 1"),
             Case((64, 64, 3, 224), {"padding": 1}, label="VGG-16, conv 1_2"),
             Case((256, 64, 1, 56), label="a 1×1 convolution"),
             Case((3, 8, 3, 7), {"stride": 2}, label="stride 2, no padding")]
    for _ in range(5):
        k = int(rng.choice([1, 3, 5, 7]))
        s, p = int(rng.integers(1, 3)), int(rng.integers(0, k // 2 + 1))
        cases.append(Case((int(rng.integers(1, 65)), int(rng.integers(1, 129)), k,
                           int(rng.integers(k, 60))), {"stride": s, "padding": p}))
    return cases


CONV_MACS = Exercise(
    number="6.1", title="Multiply-adds of a convolution", reference=conv_macs,
    cases=_macs_cases,
    mistakes=[
        Mistake("you used the INPUT size; the filters are applied once per OUTPUT position, "
                "H' = (n + 2·padding − k) // stride + 1 of them per side.",
                lambda c, ko, k, n, stride=1, padding=0: _macs(c, ko, k, n, side=n)),
        Mistake("the input channels are missing: each of the K filters spans all C input "
                "channels, k²·C multiply-adds per output value.",
                lambda c, ko, k, n, stride=1, padding=0: _macs(c, ko, k, n, stride, padding,
                                                               per_pos=ko * k * k)),
        Mistake("a k×k kernel has k² weights per channel, not k: square the kernel size.",
                lambda c, ko, k, n, stride=1, padding=0: _macs(c, ko, k, n, stride, padding,
                                                               per_pos=ko * c * k)),
        Mistake("the + 1 is inside the division: (n + 2·padding − k + 1) // stride counts the "
                "positions wrongly for stride > 1; the formula is (n + 2·padding − k) // stride "
                "+ 1 (the first window, plus one for every stride step that still fits).",
                lambda c, ko, k, n, stride=1, padding=0: _macs(
                    c, ko, k, n, side=(n + 2 * padding - k + 1) // stride)),
        Mistake("you added the padding once; it is added on BOTH sides: n + 2·padding.",
                lambda c, ko, k, n, stride=1, padding=0: _macs(
                    c, ko, k, n, side=(n + padding - k) // stride + 1)),
        Mistake("the stride is ignored: with stride s only every s-th position is computed, "
                "H' = (n + 2·padding − k) // s + 1.",
                lambda c, ko, k, n, stride=1, padding=0: _macs(c, ko, k, n, 1, padding)),
        Mistake("you counted the bias as a multiply-add (k²·C + 1 per output value); the bias "
                "is one addition, not a multiplication: ignore it, as the statement says.",
                lambda c, ko, k, n, stride=1, padding=0: _macs(c, ko, k, n, stride, padding,
                                                               per_pos=ko * (c * k * k + 1))),
        Mistake("you counted FLOPs (a multiply and an add, ×2); the statement counts "
                "multiply-adds, one per weight and output position.",
                lambda c, ko, k, n, stride=1, padding=0: 2 * conv_macs(c, ko, k, n, stride,
                                                                       padding)),
        Mistake("you counted one side of the output only; the output is H' × H' positions, so "
                "multiply by the side twice.",
                lambda c, ko, k, n, stride=1, padding=0: _macs(c, ko, k, n, stride, padding)
                // max((n + 2 * padding - k) // stride + 1, 1)),
    ],
)
check_conv_macs = checker(CONV_MACS, "check_conv_macs")


# --------------------------------------------------------------------------- 6.2 layer costs

def layer_costs(model, input_size):
    """``{name: (parameters, multiply-adds)}`` of every ``nn.Conv2d`` and ``nn.Linear`` of
    ``model`` (names as in ``model.named_modules()``) for one input of shape ``input_size``
    (C, H, W); measured with forward hooks during one forward pass."""
    costs = {}

    def hook(name):
        def record(module, inputs, output):
            params = sum(p.numel() for p in module.parameters())
            if isinstance(module, nn.Conv2d):
                k = module.weight.shape           # (C_out, C_in / groups, k, k)
                macs = output.numel() * k[1] * k[2] * k[3]
            else:
                macs = output.numel() * module.in_features
            costs[name] = (params, macs)
        return record

    handles = [m.register_forward_hook(hook(name)) for name, m in model.named_modules()
               if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        with torch.no_grad():
            model(torch.zeros(1, *input_size))
    finally:
        for h in handles:
            h.remove()
    return costs


def _cost_cases(rng) -> list[Case]:
    torch.manual_seed(int(rng.integers(2**31)))
    strided = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(),
                            nn.Conv2d(8, 4, 5, bias=False), nn.Flatten(), nn.Linear(4 * 4 * 4, 6))
    grouped = nn.Sequential(nn.Conv2d(4, 8, 3, groups=2), nn.ReLU(),
                            nn.Conv2d(8, 12, (3, 2), padding=1, groups=4), nn.ReLU(),
                            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(12, 5))
    return [Case((lenet5(), (1, 32, 32)), label="LeNet-5"),
            Case((lenet5(input_size=28), (1, 28, 28)), label="LeNet-5, 28x28 digits"),
            Case((small_vgg(channels=(8, 16), hidden=32), (1, 28, 28)), label="small VGG"),
            Case((small_cnn(), (1, 28, 28)), label="small CNN with global pooling"),
            Case((strided, (3, 15, 15)), label="stride 2, padding 1, a conv without bias"),
            Case((grouped, (4, 12, 10)), label="grouped convolutions, as in AlexNet's two "
                 "towers; 12×10 input")]


def _costs_with(model, input_size, *, params=None, macs=None, keep=(nn.Conv2d, nn.Linear)):
    """Variants of the reference for the mistakes: other parameter or multiply-add counts."""
    costs = layer_costs(model, input_size)
    out_sizes = {}
    handles = [m.register_forward_hook(
        lambda mod, inp, out, name=name: out_sizes.__setitem__(name, (inp[0], out)))
        for name, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        model(torch.zeros(1, *input_size))
    for h in handles:
        h.remove()
    modules = dict(model.named_modules())
    result = {}
    for name, (p, m) in costs.items():
        module = modules[name]
        if not isinstance(module, keep):
            continue
        inp, out = out_sizes[name]
        result[name] = (p if params is None else params(module),
                        m if macs is None else macs(module, inp, out, m))
    return result


def _weights_only(model, input_size):
    return _costs_with(model, input_size, params=lambda m: m.weight.numel())


def _conv_at_input_size(model, input_size):
    def macs(m, inp, out, ref):
        return ref if isinstance(m, nn.Linear) else m.weight.numel() * inp.shape[-2] * inp.shape[-1]
    return _costs_with(model, input_size, macs=macs)


def _macs_are_params(model, input_size):
    def macs(m, inp, out, ref):
        return ref if isinstance(m, nn.Conv2d) else sum(p.numel() for p in m.parameters())
    return _costs_with(model, input_size, macs=macs)


def _conv_macs_are_params(model, input_size):
    def macs(m, inp, out, ref):
        return ref if isinstance(m, nn.Linear) else m.weight.numel()
    return _costs_with(model, input_size, macs=macs)


def _groups_ignored(model, input_size):
    def macs(m, inp, out, ref):
        return ref if isinstance(m, nn.Linear) else ref * m.groups
    return _costs_with(model, input_size, macs=macs)


def _conv_without_in_channels(model, input_size):
    def macs(m, inp, out, ref):
        return ref if isinstance(m, nn.Linear) else ref // m.weight.shape[1]
    return _costs_with(model, input_size, macs=macs)


def _costs_explain_error(case, exc) -> str | None:
    """A shape error inside the model's own layers: most likely the input had no batch axis."""
    text = str(exc)
    if any(s in text for s in ("cannot be multiplied", "size mismatch", "shapes not aligned",
                               "Expected 3D (unbatched) or 4D (batched)", "must match the size")):
        size = tuple(case.args[1])
        return (f"the model's own layers raised a shape error, so the input was not what a "
                f"model expects: a BATCH of images. `torch.zeros(*input_size)` has shape {size}, "
                f"with no batch dimension (the convolutions then read it as one unbatched image "
                f"and `Flatten` merges the wrong axes); run `model(torch.zeros(1, *input_size))`,"
                f" a batch of one, shape {(1, *size)}.")
    return None


def _costs_diagnose(case, got, expected) -> str | None:
    """Every multiply-add count the same whole multiple N ≥ 2 of the right one, parameters
    right: the model ran on a batch of N images."""
    if not isinstance(got, dict) or set(got) != set(expected):
        return None
    try:
        if any(int(got[k][0]) != expected[k][0] for k in expected):
            return None
        factors = {int(got[k][1]) / expected[k][1] for k in expected if expected[k][1]}
    except (TypeError, IndexError, ValueError):
        return None
    if len(factors) != 1:
        return None
    factor = factors.pop()
    if factor >= 2 and factor == int(factor):
        n = int(factor)
        flops = " or counted a multiply and an add apart" if n == 2 else ""
        return (f"every multiply-add count is {n} times the right one: you ran a batch of {n} "
                f"images (`output.numel()` counts every image of the batch){flops}. "
                f"Count for ONE input: `model(torch.zeros(1, *input_size))`.")
    return None


LAYER_COSTS = Exercise(
    number="6.2", title="Where the parameters live, and where the work is done",
    reference=layer_costs, cases=_cost_cases,
    mistakes=[
        Mistake("the parameters lack the biases: count every parameter of the layer "
                "(`module.parameters()`), weights and biases.", _weights_only),
        Mistake("a convolution's filters are applied once per OUTPUT position: multiply the "
                "weights by the output's height and width, not the input's.",
                _conv_at_input_size),
        Mistake("for a convolution you counted each weight once, as for a linear layer; a filter "
                "is applied at every output position, so its weights are used H'·W' times.",
                _conv_macs_are_params),
        Mistake("a linear layer's multiply-adds are in_features × out_features: the bias is an "
                "addition, not a multiply-add.", _macs_are_params),
        Mistake("each output value of a convolution sums over ALL input channels: C_in·k² "
                "multiply-adds per output value.", _conv_without_in_channels),
        Mistake("the linear layers are missing: record every `nn.Conv2d` AND every `nn.Linear`.",
                lambda model, input_size: _costs_with(model, input_size, keep=nn.Conv2d)),
        Mistake("you ignored `groups`: in a grouped convolution each filter reads only "
                "C_in / groups channels (`module.weight.shape[1]`), so it costs C_in·k²/groups "
                "multiply-adds per output value (AlexNet's towers: 724 M, not 1,135 M).",
                _groups_ignored),
    ],
    side_effects=("hooks",), explain_error=_costs_explain_error, diagnose=_costs_diagnose,
)
check_layer_costs = checker(LAYER_COSTS, "check_layer_costs")


# --------------------------------------------------------------------------- 6.3 dropout

def dropout(x, p, training=True, seed=0):
    """Inverted dropout of ``x`` (any shape) with drop probability ``p`` in [0, 1]: the units
    where ``torch.rand(x.shape, generator=torch.Generator().manual_seed(seed))`` is below ``p``
    are dropped, the others rescaled so that every unit keeps its expected value; ``x``
    unchanged when not ``training``."""
    if not training or p == 0:
        return x
    if p == 1:
        return torch.zeros_like(x)
    u = torch.rand(x.shape, generator=torch.Generator().manual_seed(seed))
    return torch.where(u >= p, x / (1 - p), torch.zeros_like(x))


def _dropout_cases(rng) -> list[Case]:
    g = torch.Generator().manual_seed(int(rng.integers(2**31)))
    cases = []
    for shape, p, training, seed in (((4, 10), 0.5, True, 0), ((2, 3, 5, 5), 0.2, True, 1),
                                     ((8, 16), 0.5, False, 2), ((3, 7), 0.9, True, 3),
                                     ((6, 6), 0.3, False, 4), ((1, 4096), 0.5, True, 5),
                                     ((5, 5), 0.0, True, 6), ((4, 4), 1.0, True, 7)):
        x = torch.randn(shape, generator=g)
        label = ("evaluation" if not training else "p = 1: every unit dropped" if p == 1
                 else "p = 0: nothing dropped" if p == 0 else "training")
        cases.append(Case((x, p), {"training": training, "seed": seed}, label=label))
    return cases


def _mask(x, p, seed):
    return torch.rand(x.shape, generator=torch.Generator().manual_seed(seed)) >= p


def _no_rescale(x, p, training=True, seed=0):
    return torch.where(_mask(x, p, seed), x, torch.zeros_like(x)) if training else x


def _original_dropout(x, p, training=True, seed=0):
    if not training:
        return x * (1 - p)
    return torch.where(_mask(x, p, seed), x, torch.zeros_like(x))


def _times_keep(x, p, training=True, seed=0):
    return torch.where(_mask(x, p, seed), x * (1 - p), torch.zeros_like(x)) if training else x


def _over_p(x, p, training=True, seed=0):
    if not training or p == 0:
        return x
    return torch.where(_mask(x, p, seed), x / p, torch.zeros_like(x))


def _always(x, p, training=True, seed=0):
    return dropout(x, p, True, seed)


def _drop_the_kept(x, p, training=True, seed=0):
    if not training or p == 1:
        return dropout(x, p, training, seed)
    keep = ~_mask(x, p, seed)
    return torch.where(keep, x / (1 - p), torch.zeros_like(x))


def _nan_at_one(x, p, training=True, seed=0):
    if not training:
        return x
    return x * _mask(x, p, seed) / (1 - p)


DROPOUT = Exercise(
    number="6.3", title="Inverted dropout", reference=dropout, cases=_dropout_cases,
    mistakes=[
        Mistake("you scaled at test time, as AlexNet did (survivors unchanged in training, "
                "x·(1 − p) in evaluation); INVERTED dropout scales in training, dividing the "
                "survivors by (1 − p), and returns x unchanged in evaluation (`training=False`).",
                _original_dropout),
        Mistake("the surviving units are not rescaled, so the layer's output is smaller on "
                "average in training than in evaluation: make each unit's expected value what it "
                "was without dropout.", _no_rescale),
        Mistake("you multiplied the survivors by (1 − p), which shrinks them further; they must "
                "GROW to make up for the dropped ones (the original paper multiplied by (1 − p) "
                "at TEST time instead).", _times_keep),
        Mistake("you scaled by 1/p; a unit survives with probability 1 − p, and that is the "
                "probability to make up for.", _over_p),
        Mistake("dropout must do nothing in evaluation mode (`training=False`): return x "
                "unchanged.", _always),
        Mistake("you kept the units that should be dropped: a unit is dropped where its random "
                "number is BELOW p, so that it is dropped with probability p.", _drop_the_kept),
        Mistake("with p = 1 every unit is dropped and 0 / 0 gives NaN: handle p = 1 (return "
                "zeros) before dividing.", _nan_at_one),
    ],
    side_effects=("rng",),
)
check_dropout = checker(DROPOUT, "check_dropout")


# --------------------------------------------------------------------------- 6.4 augmentation

def shift_images(images, dy, dx):
    """(N, H, W) -> (N, H, W): content moved ``dy`` rows down and ``dx`` columns right (negative:
    up / left); the pixels moved in are 0 and those moved out are lost; dtype kept."""
    n, h, w = images.shape
    out = np.zeros_like(images)
    if abs(dy) >= h or abs(dx) >= w:              # everything moved out
        return out
    src = images[:, max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
    out[:, max(dy, 0):max(dy, 0) + src.shape[1], max(dx, 0):max(dx, 0) + src.shape[2]] = src
    return out


def _shift_cases(rng) -> list[Case]:
    def batch(n, h, w, dtype=np.uint8):
        return rng.integers(1, 256, size=(n, h, w)).astype(dtype)

    cases = [Case((batch(2, 6, 6), 1, 2), label="down and right"),
             Case((batch(2, 6, 6), -2, 1), label="up and right"),
             Case((batch(1, 5, 7), 0, -3), label="left only"),
             Case((batch(3, 7, 5), 2, 0), label="down only, non-square"),
             Case((batch(1, 4, 4), 0, 0), label="no shift"),
             Case((batch(2, 28, 28, np.float32), -1, -1), label="float32 digits"),
             Case((batch(1, 5, 5), 5, 0), label="shifted out entirely")]
    for _ in range(3):
        dy, dx = (int(v) for v in rng.integers(-3, 4, size=2))
        cases.append(Case((batch(2, 9, 8), dy, dx)))
    # shifts larger than the image (last, so that an ordinary mistake is named first)
    cases += [Case((batch(2, 5, 6), 8, 1), label="shifted further down than the image is tall"),
              Case((batch(1, 6, 5), -1, 9), label="shifted further right than the image is wide"),
              Case((batch(1, 5, 5), -7, -6), label="shifted further up and left than the image")]
    return cases


def _rolled(images, dy, dx):
    return np.roll(images, (dy, dx), axis=(1, 2))


def _opposite(images, dy, dx):
    return shift_images(images, -dy, -dx)


def _swapped(images, dy, dx):
    return shift_images(images, dx, dy)


def _float_out(images, dy, dx):
    return shift_images(images, dy, dx).astype(np.float64)


def _from_a_copy(images, dy, dx):
    out = images.copy()
    moved = shift_images(images, dy, dx)
    n, h, w = images.shape
    rows = slice(max(dy, 0), h + min(dy, 0))
    cols = slice(max(dx, 0), w + min(dx, 0))
    out[:, rows, cols] = moved[:, rows, cols]
    return out


def _shift_explain_error(case, exc) -> str | None:
    images, dy, dx = case.args
    _, h, w = images.shape
    if abs(dy) > h or abs(dx) > w:
        return (f"this shift ({dy}, {dx}) is larger than the image ({h}×{w}): a slice end such as "
                f"`h - dy` is then NEGATIVE, and Python counts it from the end instead of giving "
                f"an empty slice. When |dy| ≥ H or |dx| ≥ W every pixel moves out: return zeros.")
    return None


SHIFT_IMAGES = Exercise(
    number="6.4", title="Shift images for data augmentation", reference=shift_images,
    cases=_shift_cases, shape_hint="(N, H, W)", explain_error=_shift_explain_error,
    mistakes=[
        Mistake("`np.roll` wraps around: what leaves at the bottom comes back at the top. Fill "
                "the uncovered rows and columns with zeros instead.", _rolled),
        Mistake("your shift goes the wrong way: positive `dy` moves the content DOWN (to larger "
                "row indices), positive `dx` to the RIGHT.", _opposite),
        Mistake("you swapped the axes: `dy` moves rows (axis 1), `dx` moves columns (axis 2).",
                _swapped),
        Mistake("keep the images' dtype: start from `np.zeros_like(images)`.", _float_out),
        Mistake("the pixels moved in still hold the old image: start from "
                "`np.zeros_like(images)`, not from a copy, so that they are 0.", _from_a_copy),
    ],
)
check_shift_images = checker(SHIFT_IMAGES, "check_shift_images")


# --------------------------------------------------------------------------- 6.5 VGG block

def vgg_block(in_channels, out_channels, num_convs):
    """One VGG stage as an ``nn.Sequential``: (N, in_channels, H, W) -> (N, out_channels,
    H // 2, W // 2), built like one stage of ``helpers.models.vgg.vgg_trunk``."""
    return vgg_trunk([out_channels] * num_convs + ["M"], in_channels=in_channels)


def _block_cases(rng) -> list[Case]:
    cases = [Case((1, 8, 2), label="VGG's first stage, small"),
             Case((3, 4, 1), label="one convolution"),
             Case((4, 6, 3), label="three convolutions"),
             Case((2, 2, 2), label="as many channels in as out")]
    for _ in range(2):
        cases.append(Case((int(rng.integers(1, 6)), int(rng.integers(1, 9)),
                           int(rng.integers(1, 4)))))
    return cases


def _first_conv(block):
    return next((m for m in block.modules() if isinstance(m, nn.Conv2d)), None)


def _run_block(block, x, training: bool):
    """``block(x)`` in training or evaluation mode with a fixed random state; the exception
    instead of a result when it raises (the learner's module may raise anything)."""
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            return block.train(training)(x.clone())
    except Exception as error:   # noqa: BLE001
        return error


def compare_blocks(got, expected) -> str | None:
    """Same parameter shapes, and the same output once ``got`` has ``expected``'s weights?"""
    if not isinstance(got, nn.Module):
        return f"returned {type(got).__name__}; expected an nn.Module (an nn.Sequential)"
    mine, theirs = list(got.parameters()), list(expected.parameters())
    shapes = [tuple(q.shape) for q in mine]
    wanted = [tuple(q.shape) for q in theirs]
    if shapes != wanted:
        return f"parameter shapes {shapes}, expected {wanted}"
    got, expected = copy.deepcopy(got), copy.deepcopy(expected)
    c = _first_conv(expected).in_channels
    with torch.no_grad():
        for q, r in zip(got.parameters(), theirs):
            q.copy_(r)
        # inputs of about ±10 (conv outputs well beyond 6), an even and an odd size, in
        # evaluation and in training mode (the same random state for both blocks)
        for side in (8, 7):
            x = 10 * torch.randn(2, c, side, side, generator=torch.Generator().manual_seed(side))
            for mode in ("evaluation", "training"):
                b = _run_block(expected, x, mode == "training")
                a = _run_block(got, x, mode == "training")
                if isinstance(a, Exception):
                    if isinstance(b, Exception) and repr(a) == repr(b):
                        continue        # both fail the same way (comparing two wrong blocks)
                    return f"running your block on a (2, {c}, {side}, {side}) input raised {a!r}"
                if isinstance(b, Exception):
                    return (f"your block runs on a (2, {c}, {side}, {side}) input where the "
                            f"expected one raises {b!r}")
                if a.shape != b.shape:
                    return (f"with the same weights, output shape {tuple(a.shape)} for a "
                            f"(2, {c}, {side}, {side}) input, expected {tuple(b.shape)}")
                if not torch.allclose(a, b, rtol=1e-5, atol=1e-5):
                    return (f"with the same weights, in {mode} mode, the outputs for a "
                            f"(2, {c}, {side}, {side}) input differ by up to "
                            f"{(a - b).abs().max():.3g}")
    return None


def _block(in_channels, out_channels, num_convs, *, padding=1, relu=True, pool="end",
           kernel=3, first_in=True, unit=nn.ReLU, dropout=0.0, ceil_mode=False):
    layers = []
    channels = in_channels
    for _ in range(num_convs):
        layers.append(nn.Conv2d(channels, out_channels, kernel, padding=padding))
        if relu:
            layers.append(unit())
        if dropout:
            layers.append(nn.Dropout(dropout))
        if pool == "each":
            layers.append(nn.MaxPool2d(2, ceil_mode=ceil_mode))
        channels = out_channels if first_in else in_channels
    if pool == "end":
        layers.append(nn.MaxPool2d(2, ceil_mode=ceil_mode))
    return nn.Sequential(*layers)


VGG_BLOCK = Exercise(
    number="6.5", title="A VGG block", reference=vgg_block, cases=_block_cases,
    compare=compare_blocks,
    mistakes=[
        Mistake("the convolutions shrink the maps: a 3×3 convolution needs padding 1 to keep H "
                "and W; only the pooling halves them.",
                lambda c, k, n: _block(c, k, n, padding=0)),
        Mistake("the ReLU after each convolution is missing: without it the stacked "
                "convolutions collapse into one linear map.",
                lambda c, k, n: _block(c, k, n, relu=False)),
        Mistake("the 2×2 max pooling at the end of the block is missing.",
                lambda c, k, n: _block(c, k, n, pool="none")),
        Mistake("you pooled after every convolution; VGG pools once, after the last "
                "convolution of the block.", lambda c, k, n: _block(c, k, n, pool="each")),
        Mistake("you used 5×5 filters; VGG uses only 3×3 (two of them see a 5×5 patch).",
                lambda c, k, n: _block(c, k, n, kernel=5, padding=2)),
        Mistake("there is a dropout in your block; VGG's dropout sits in the first two fully "
                "connected layers, not in the convolutional stages (it changes the output in "
                "training mode).", lambda c, k, n: _block(c, k, n, dropout=0.5)),
        Mistake("`nn.ReLU6` clips at 6; VGG uses the plain `nn.ReLU`, which does not clip "
                "large activations.", lambda c, k, n: _block(c, k, n, unit=nn.ReLU6)),
        Mistake("`ceil_mode=True` keeps the half window at the edge of an odd-sized map "
                "(7×7 → 4×4); VGG's pooling drops it (7×7 → 3×3): `nn.MaxPool2d(2, 2)` with "
                "the default `ceil_mode=False`.", lambda c, k, n: _block(c, k, n, ceil_mode=True)),
    ],
)
check_vgg_block = checker(VGG_BLOCK, "check_vgg_block")


EXERCISES = [CONV_MACS, LAYER_COSTS, DROPOUT, SHIFT_IMAGES, VGG_BLOCK]
