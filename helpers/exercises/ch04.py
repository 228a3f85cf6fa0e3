"""Chapter 4 exercises: feature maps and multiple filters.

====  ===============================================  ==========================================
4.1   ``conv_volume(x, w, b)``                          a valid convolution of one (C, H, W)
                                                        volume with K filters (K, C, kh, kw) and
                                                        biases (K,) -> (K, H', W'), NumPy
4.2   ``conv_stack_parameters(in_channels, layers)``    parameters (weights + biases) of a stack
                                                        of convolutions ``[(K, k), ...]``
4.3   ``mean_aware_score(w)``                           orientation coherence times (1 - the
                                                        share of energy in the filter's mean),
                                                        (K, C, kh, kw) -> (K,)
====  ===============================================  ==========================================

The reference of 4.1 is the course's :func:`helpers.layers.conv2d` (tested against PyTorch);
that of 4.3 is :func:`helpers.experiments.learned_filters.oriented_score`.
"""
from __future__ import annotations

import numpy as np
import torch

from helpers.exercises.core import Case, Exercise, Mistake, checker
from helpers.experiments.learned_filters import orientation_coherence, oriented_score
from helpers.layers import conv2d

__all__ = ["check_conv_stack_parameters", "check_conv_volume", "check_mean_aware_score"]


# --------------------------------------------------------------------------- 4.1 conv of a volume

def conv_volume(x, w, b):
    """Valid multi-channel cross-correlation of one volume, NumPy float64:
    (C, H, W) x (K, C, kh, kw) + (K,) -> (K, H - kh + 1, W - kw + 1),
    y[f, i, j] = b[f] + sum over c, u, v of w[f, c, u, v] x[c, i + u, j + v]."""
    x, w, b = (np.ascontiguousarray(a, dtype=np.float64) for a in (x, w, b))
    return conv2d(torch.from_numpy(x)[None], torch.from_numpy(w),
                  torch.from_numpy(b))[0].numpy()


def _volume_cases(rng) -> list[Case]:
    shapes = [(3, 5, 6, 2, 3, 3), (1, 4, 4, 3, 2, 2), (4, 7, 5, 1, 3, 1), (2, 6, 6, 5, 1, 1),
              (3, 8, 8, 4, 5, 5), (5, 4, 9, 2, 2, 4)]
    cases = []
    for c, h, wd, k, kh, kw in shapes:
        cases.append(Case((rng.standard_normal((c, h, wd)), rng.standard_normal((k, c, kh, kw)),
                           rng.standard_normal(k)), label=f"C={c}, K={k}, {kh}×{kw} kernel"))
    return cases


def _per_channel(x, w, b, reduce):
    c = x.shape[0]
    maps = np.stack([conv_volume(x[i:i + 1], w[:, i:i + 1], np.zeros(len(b))) for i in range(c)])
    return reduce(maps) + b[:, None, None]


def _flipped(x, w, b):
    return conv_volume(x, w[..., ::-1, ::-1].copy(), b)


VOLUME = Exercise(
    number="4.1", title="A convolution over a volume", reference=conv_volume,
    cases=_volume_cases, shape_hint="(K, H - kh + 1, W - kw + 1)",
    mistakes=[
        Mistake("you averaged over the input channels; a filter SUMS its products over all C "
                "channels (and all taps): no division by C.",
                lambda x, w, b: _per_channel(x, w, b, lambda m: m.mean(axis=0))),
        Mistake("only input channel 0 enters your output; the sum runs over every input "
                "channel c, with the filter's own kernel w[f, c] for each.",
                lambda x, w, b: _per_channel(x, w, b, lambda m: m[0])),
        Mistake("you flipped the kernel (true convolution). Layers compute cross-correlation, "
                "w[f, c, u, v] times x[c, i + u, j + v], as in chapter 2.", _flipped),
        Mistake("the bias is missing: add b[f] to every pixel of output map f.",
                lambda x, w, b: conv_volume(x, w, np.zeros_like(b))),
        Mistake("every output map used filter 0; output map f needs its own filter w[f].",
                lambda x, w, b: np.repeat(conv_volume(x, w[:1], b[:1]), len(b), axis=0)
                + (b - b[0])[:, None, None]),
    ],
)
check_conv_volume = checker(VOLUME, "check_conv_volume")


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


# --------------------------------------------------------------------------- 4.3 oriented score

def mean_aware_score(w):
    """Orientation coherence times (1 - DC share): (K, C, kh, kw) -> (K,), float64. The DC
    share is the fraction of a filter's energy sum(w^2) carried by its mean over ALL of its
    C·kh·kw weights: n·mean^2 / sum(w^2)."""
    return np.asarray(oriented_score(w), dtype=np.float64)


def _score_cases(rng) -> list[Case]:
    ramp = np.tile(np.arange(5.0) - 2.0, (5, 1))                    # a zero-mean edge
    tilted_blob = np.tile(np.arange(5.0) + 6.0, (5, 1))               # all positive, tilted
    grey = np.stack([np.stack([ramp, ramp + 3.0]), np.stack([tilted_blob, -tilted_blob])])
    cases = [Case((grey,), label="an edge and a tilted blob, two channels")]
    for k, c, size in [(4, 1, 5), (3, 3, 5), (6, 2, 3), (2, 3, 7), (5, 1, 4)]:
        w = rng.standard_normal((k, c, size, size)) + rng.normal(0, 1.5, (k, 1, 1, 1))
        cases.append(Case((w,), label=f"{k} random filters over {c} channel(s), {size}×{size}"))
    return cases


def _dc_share(w, axes, n=None, absolute=False):
    w = np.asarray(w, dtype=np.float64)
    m = np.abs(w).mean(axis=axes) if absolute else w.mean(axis=axes)
    n = np.prod([w.shape[a] for a in axes]) if n is None else n
    return n * m ** 2 / (w * w).sum(axis=axes)


def _per_channel_score(w):
    share = (_dc_share(w, (2, 3)) * (w * w).sum(axis=(2, 3))).sum(axis=1) \
        / (w * w).sum(axis=(1, 2, 3))
    return orientation_coherence(w) * (1 - share)


def _score_out_of_range(case, got, expected):
    try:
        values = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if values.shape == np.shape(expected) and values.size and \
            (values.min() < -1e-9 or values.max() > 1 + 1e-9):
        return (f"a score must lie in [0, 1] — κ does, and so does 1 − DC share, because the "
                f"mean can account for at most all of a filter's energy (n·mean² ≤ Σw²); yours "
                f"reaches {values.min():.2g} … {values.max():.2g}: is your DC share above 1 "
                "(n counted twice, or the mean of a part of the filter)?")
    return None


SCORE = Exercise(
    number="4.3", title="An orientation score that sees the mean", reference=mean_aware_score,
    cases=_score_cases, shape_hint="(K,)",
    diagnose=_score_out_of_range,
    mistakes=[
        Mistake("your score equals the plain coherence. Subtracting the mean first changes no "
                "gradient, so the coherence cannot see it: multiply by (1 − DC share).",
                lambda w: orientation_coherence(w - w.mean(axis=(1, 2, 3), keepdims=True))),
        Mistake("you multiplied by the DC share itself; the score must FALL as the mean's share "
                "grows: use (1 − DC share).",
                lambda w: orientation_coherence(w) * _dc_share(w, (1, 2, 3))),
        Mistake("your score ignores the direction: it is only (1 − DC share); multiply it by "
                "the orientation coherence.", lambda w: 1 - _dc_share(w, (1, 2, 3))),
        Mistake("your DC share is mean²/sum(w²), missing the factor n (the number of weights). "
                "The mean contributes n·mean² to sum(w²): a constant filter must have share 1.",
                lambda w: orientation_coherence(w) * (1 - _dc_share(w, (1, 2, 3), n=1))),
        Mistake("you took the mean of |w|: that is large for every filter. The DC share needs "
                "the signed mean, so that + and − weights cancel.",
                lambda w: orientation_coherence(w) * (1 - _dc_share(w, (1, 2, 3), absolute=True))),
        Mistake("you removed each channel's own mean; a filter's DC part is its mean over ALL "
                "its weights, channels included (a red-minus-green filter has mean 0 even though "
                "each channel is constant).", _per_channel_score),
    ],
)
check_mean_aware_score = checker(SCORE, "check_mean_aware_score")

EXERCISES = [VOLUME, STACK_PARAMETERS, SCORE]
