"""Chapter 4 exercises: feature maps and multiple filters.

====  ===============================================  ==========================================
4.1   ``red_green_filter()``                            one 3×3 filter over RGB, shape (3, 3, 3)
                                                        = (channel, row, column): positive on
                                                        red, negative on green, 0 on any grey
                                                        and on pure blue
4.2   ``conv_stack_parameters(in_channels, layers)``    parameters (weights + biases) of a stack
                                                        of convolutions ``[(K, k), ...]``
4.3   ``pointwise_conv(x, w, b)``                       a 1×1 convolution as a per-pixel matrix
                                                        product, NumPy float64: ``(N, C, H, W) x
                                                        (K, C, 1, 1) + (K,) -> (N, K, H, W)``
====  ===============================================  ==========================================

Exercise 4.1 has many right answers, so it is checked by behaviour: the filter's response to
a uniform patch of each primary colour (its per-channel weight sums) decides what it detects.
The reference of 4.3 is the course's :func:`helpers.layers.conv2d` (tested against PyTorch).
"""
from __future__ import annotations

import numpy as np
import torch

from helpers.device import to_numpy
from helpers.exercises.core import Case, Exercise, Mistake, checker
from helpers.layers import conv2d

__all__ = ["check_conv_stack_parameters", "check_pointwise_conv", "check_red_green_filter"]


# --------------------------------------------------------------------------- 4.1 colour filter

def red_green_filter():
    """(3, 3, 3) = (R/G/B channel, row, column): +1/9 over the red channel, -1/9 over green."""
    w = np.zeros((3, 3, 3))
    w[0] = 1.0 / 9
    w[1] = -1.0 / 9
    return w


def colour_responses(filt) -> dict[str, float]:
    """Response of a (3, kh, kw) filter to uniform patches: value 1 in one channel (``red``,
    ``green``, ``blue``), and to a uniform grey patch (``grey``: 1 in every channel)."""
    sums = np.asarray(filt, dtype=np.float64).sum(axis=(1, 2))
    return {"red": float(sums[0]), "green": float(sums[1]), "blue": float(sums[2]),
            "grey": float(sums.sum())}


def _colour_class(filt, layout_check: bool = True) -> str:
    """What the filter detects, from its responses to uniform colour patches; a filter that is
    right only when read with the channel axis last is ``"channels-last"``."""
    r = colour_responses(filt)
    tol = 1e-6 * max(1.0, float(np.abs(filt).max()))
    if abs(r["grey"]) <= tol and r["red"] > tol and abs(r["blue"]) <= tol:
        return "red-green"
    if layout_check and _colour_class(np.moveaxis(filt, -1, 0), False) == "red-green":
        return "channels-last"
    if abs(r["grey"]) > tol:
        return "grey"
    if abs(r["blue"]) > tol:
        return "blue"
    return "nothing" if abs(r["red"]) <= tol else "green-red"


_CLASS_TEXT = {
    "grey": "responds to grey and white regions too (the weights of the three channels do not "
            "sum to 0)",
    "nothing": "responds to no uniform colour at all (every channel's weights sum to 0)",
    "green-red": "is positive on green and negative on red",
    "blue": "responds to blue (the blue channel's weights do not sum to 0)",
    "red-green": "is positive on red, negative on green, and 0 on grey and blue",
    "channels-last": "would be right with the channel axis LAST (row, column, channel)",
}


def _as_filter(value) -> tuple[np.ndarray | None, str | None]:
    try:
        filt = to_numpy(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None, f"returned {type(value).__name__}; expected a (3, 3, 3) NumPy array"
    if filt.shape != (3, 3, 3):
        return None, (f"expected shape (3, 3, 3) = (channel, row, column), got {filt.shape}"
                      + (" — drop the leading 1, one filter is (C, kh, kw)"
                         if filt.shape == (1, 3, 3, 3) else ""))
    if not np.isfinite(filt).all():
        return None, "your filter contains NaN or infinity"
    return filt, None


def _compare_colour_filters(got, expected) -> str | None:
    filt, problem = _as_filter(got)
    if problem:
        return problem
    want, have = _colour_class(np.asarray(expected, dtype=np.float64)), _colour_class(filt)
    if have == want:
        return None
    return f"your filter {_CLASS_TEXT[have]}; the task asks for one that {_CLASS_TEXT[want]}"


_ADVICE = {
    "grey": "make the three channels' weights sum to 0 together, so grey and white give 0.",
    "nothing": "give the red kernel a positive sum and the green kernel the opposite sum.",
    "green-red": "swap the signs of the red and green kernels.",
    "blue": "leave the blue kernel at zero (or make it sum to 0).",
    "channels-last": "one filter is (channel, row, column), so w[0] is the red kernel.",
}


def _diagnose_colour_filter(case, got, expected) -> str | None:
    filt, problem = _as_filter(got)
    if problem:
        return None
    have = _colour_class(filt)
    return f"your filter {_CLASS_TEXT[have]}: {_ADVICE[have]}" if have in _ADVICE else None


RED_GREEN = Exercise(
    number="4.1", title="A red-versus-green filter", reference=red_green_filter,
    cases=[Case(label="uniform red, green, blue and grey patches")],
    compare=_compare_colour_filters, diagnose=_diagnose_colour_filter,
    mistakes=[
        Mistake("your filter has the colours the wrong way round (positive on green): swap the "
                "signs of the red and green kernels.", lambda: -red_green_filter()),
        Mistake("the channel axis must come FIRST: one filter is (C, kh, kw), so w[0] is the "
                "3×3 kernel applied to the red channel (use np.moveaxis(w, -1, 0)).",
                lambda: np.moveaxis(red_green_filter(), 0, -1)),
        Mistake("your filter responds to brightness: white (1, 1, 1) and grey give a non-zero "
                "response. Make the green weights cancel the red ones (and leave blue at 0).",
                lambda: np.stack([np.full((3, 3), 1 / 9), np.zeros((3, 3)), np.zeros((3, 3))])),
        Mistake("your filter uses the blue channel; red versus green should ignore blue "
                "entirely (blue kernel all zeros, or summing to 0).",
                lambda: np.stack([np.full((3, 3), 2 / 9), np.full((3, 3), -1 / 9),
                                  np.full((3, 3), -1 / 9)])),
    ],
)
check_red_green_filter = checker(RED_GREEN, "check_red_green_filter")


# --------------------------------------------------------------------------- 4.2 parameters

def conv_stack_parameters(in_channels, layers):
    """Weights + biases of convolutions ``layers = [(out_channels, kernel_size), ...]`` applied
    one after the other to ``in_channels`` channels: sum of K (k² C + 1), C <- K."""
    total, channels = 0, in_channels
    for out_channels, kernel_size in layers:
        total += out_channels * (kernel_size * kernel_size * channels + 1)
        channels = out_channels
    return total


def _params(in_channels, layers, per_filter, chain=True, per_layer_bias=False):
    total, channels = 0, in_channels
    for k_out, k in layers:
        total += k_out * per_filter(k, channels) + per_layer_bias
        channels = k_out if chain else channels
    return total


def _stack_cases(rng) -> list[Case]:
    vgg_block = [(64, 3), (64, 3)]
    cases = [Case((3, [(64, 3)]), label="VGG-16's first layer"),
             Case((3, vgg_block), label="VGG-16's first block"),
             Case((1, [(6, 5), (16, 5)]), label="LeNet-5's convolutions"),
             Case((256, [(64, 1), (64, 3), (256, 1)]), label="a ResNet bottleneck"),
             Case((3, [(96, 11)]), label="one big kernel"),
             Case((7, [(1, 1)]), label="a single 1×1 filter")]
    for _ in range(6):
        layers = [(int(rng.integers(1, 65)), int(rng.choice([1, 3, 5, 7])))
                  for _ in range(int(rng.integers(1, 5)))]
        cases.append(Case((int(rng.integers(1, 33)), layers)))
    return cases


STACK_PARAMETERS = Exercise(
    number="4.2", title="Parameters of a stack of convolutions",
    reference=conv_stack_parameters, cases=_stack_cases,
    mistakes=[
        Mistake("the biases are missing: every filter has one bias, so a layer has K·(k²·C + 1) "
                "parameters.", lambda c, layers: _params(c, layers, lambda k, ch: k * k * ch)),
        Mistake("you ignored the input channels: a k×k filter spans ALL C input channels, so it "
                "has k²·C weights (plus 1 bias), not k².",
                lambda c, layers: _params(c, layers, lambda k, ch: k * k + 1)),
        Mistake("you used the first layer's input channels for every layer; layer l sees the "
                "K filters' outputs of layer l − 1 as its channels.",
                lambda c, layers: _params(c, layers, lambda k, ch: k * k * ch + 1, chain=False)),
        Mistake("a k×k kernel has k² weights per channel, not k: square the kernel size.",
                lambda c, layers: _params(c, layers, lambda k, ch: k * ch + 1)),
        Mistake("you counted one bias per layer; there is one per filter (K per layer).",
                lambda c, layers: _params(c, layers, lambda k, ch: k * k * ch,
                                          per_layer_bias=1)),
    ],
)
check_conv_stack_parameters = checker(STACK_PARAMETERS, "check_conv_stack_parameters")


# --------------------------------------------------------------------------- 4.3 1x1 conv

def pointwise_conv(x, w, b):
    """1×1 convolution: out[n, k, i, j] = sum_c w[k, c, 0, 0] x[n, c, i, j] + b[k];
    (N, C, H, W) x (K, C, 1, 1) + (K,) -> (N, K, H, W)."""
    return conv2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b)).numpy()


def _pointwise_cases(rng) -> list[Case]:
    shapes = [(1, 3, 4, 5, 2), (2, 4, 3, 3, 4), (1, 1, 6, 2, 3), (3, 6, 2, 7, 1), (1, 3, 5, 5, 3),
              (2, 8, 4, 4, 16)]
    cases = []
    for n, c, h, w, k in shapes:
        cases.append(Case((rng.standard_normal((n, c, h, w)),
                           rng.standard_normal((k, c, 1, 1)), rng.standard_normal(k))))
    return cases


def _channels_last(x, w, b):
    return np.einsum("kc,nhwc->nhwk", w[:, :, 0, 0], x.transpose(0, 2, 3, 1)) + b


def _no_transpose(x, w, b):
    n, c, h, wd = x.shape
    flat = x.reshape(n * h * wd, c)     # the channel axis is not last: pixels and channels mix
    return (flat @ w[:, :, 0, 0].T + b).reshape(n, w.shape[0], h, wd)


POINTWISE = Exercise(
    number="4.3", title="A 1×1 convolution as a matrix product", reference=pointwise_conv,
    cases=_pointwise_cases, shape_hint="(N, K, H, W)",
    mistakes=[
        Mistake("your output has the channels LAST, (N, H, W, K); move them back to axis 1, "
                "e.g. `.transpose(0, 3, 1, 2)`.", _channels_last),
        Mistake("the bias is missing: add b[k] to every pixel of output channel k, e.g. "
                "`+ b[None, :, None, None]`.",
                lambda x, w, b: np.einsum("kc,nchw->nkhw", w[:, :, 0, 0], x)),
        Mistake("you reshaped (N, C, H, W) straight to (N·H·W, C): that mixes pixels and "
                "channels. Move the channel axis last FIRST (x.transpose(0, 2, 3, 1)), then "
                "reshape, multiply, and move it back.", _no_transpose),
        Mistake("you averaged over the input channels; a 1×1 convolution SUMS w[k, c]·x[c] over "
                "c (no division by C).",
                lambda x, w, b: np.einsum("kc,nchw->nkhw", w[:, :, 0, 0], x) / x.shape[1]
                + b[None, :, None, None]),
    ],
)
check_pointwise_conv = checker(POINTWISE, "check_pointwise_conv")

EXERCISES = [RED_GREEN, STACK_PARAMETERS, POINTWISE]
