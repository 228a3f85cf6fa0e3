"""Chapter 4 exercises: feature maps and multiple filters.

====  ===============================================  ==========================================
4.1   ``activation_counts(input_shape, layers)``        values in each layer's output for one
                                                        (C, H, W) image, a stack of convs,
                                                        pools and linear layers (the VGG memory
                                                        breakdown, by hand)
4.2   ``conv_stack_parameters(in_channels, layers)``    parameters (weights + biases) of a stack
                                                        of convolutions ``[(K, k), ...]``
4.3   ``mean_aware_score(w)``                           orientation coherence times (1 - the
                                                        share of energy in the filter's mean),
                                                        (K, C, kh, kw) -> (K,)
====  ===============================================  ==========================================

The reference of 4.1 is tested against the output sizes of the same stacks run on PyTorch's
``meta`` device (forward hooks, as the chapter measures VGG-16); that of 4.3 is
:func:`helpers.experiments.learned_filters.oriented_score`.
"""
from __future__ import annotations

import numpy as np

from helpers.exercises.core import Case, Exercise, Mistake, checker
from helpers.experiments.learned_filters import orientation_coherence, oriented_score

__all__ = ["check_activation_counts", "check_conv_stack_parameters", "check_mean_aware_score"]


# --------------------------------------------------------------------------- 4.1 activations

def activation_counts(input_shape, layers):
    """Values in each layer's output for ONE image, in order (a list of ints).

    ``input_shape`` = (C, H, W). ``layers``: ``("conv", K, k, p)`` — K filters k×k, stride 1,
    p zeros per side: (C, H, W) -> (K, H + 2p - k + 1, W + 2p - k + 1);
    ``("pool", s)`` — s×s max pooling, stride s: (C, H, W) -> (C, H // s, W // s);
    ``("linear", F)`` — after flattening: -> (F,).
    """
    shape, counts = tuple(input_shape), []
    for layer in layers:
        kind, *settings = layer
        if kind == "conv":
            k_out, k, p = settings
            shape = (k_out, shape[1] + 2 * p - k + 1, shape[2] + 2 * p - k + 1)
        elif kind == "pool":
            (size,) = settings
            shape = (shape[0], shape[1] // size, shape[2] // size)
        elif kind == "linear":
            shape = (settings[0],)
        else:
            raise ValueError(f"activation_counts: unknown layer kind {kind!r}")
        counts.append(int(np.prod(shape)))
    return counts


def _counts_with(*, conv=None, pool=None, linear=None, count=None, square=False):
    """A wrong activation_counts: the right one with one rule replaced.

    ``conv(shape, K, k, p)``, ``pool(shape, s)``, ``linear(shape, F)`` -> the next shape;
    ``count(shape, layer)`` -> the number recorded; ``square``: the width taken as the height.
    """
    conv = conv or (lambda sh, k_out, k, p: (k_out, sh[1] + 2 * p - k + 1, sh[2] + 2 * p - k + 1))
    pool = pool or (lambda sh, s: (sh[0], sh[1] // s, sh[2] // s))
    linear = linear or (lambda sh, f: (f,))
    count = count or (lambda sh, layer: int(np.prod(sh)))

    def wrong(input_shape, layers):
        shape = tuple(input_shape)
        if square:
            shape = (shape[0], shape[1], shape[1])
        out = []
        for layer in layers:
            kind, *settings = layer
            shape = {"conv": conv, "pool": pool, "linear": linear}[kind](shape, *settings)
            out.append(count(shape, layer))
        return out
    return wrong


def _next_shape(shape, layer):
    kind, *settings = layer
    if kind == "conv":
        k_out, k, p = settings
        return (k_out, shape[1] + 2 * p - k + 1, shape[2] + 2 * p - k + 1)
    if kind == "pool":
        return (shape[0], shape[1] // settings[0], shape[2] // settings[0])
    return (settings[0],)


def _layer_parameters(input_shape, layers):
    """Each layer's parameters (the other memory): K(k²C + 1), 0 for a pool, F(in + 1)."""
    shape, out = tuple(input_shape), []
    for layer in layers:
        kind, *settings = layer
        if kind == "conv":
            out.append(settings[0] * (settings[1] ** 2 * shape[0] + 1))
        elif kind == "linear":
            out.append(settings[0] * (int(np.prod(shape)) + 1))
        else:
            out.append(0)
        shape = _next_shape(shape, layer)
    return out


def _running_total(input_shape, layers):
    return [int(v) for v in np.cumsum(activation_counts(input_shape, layers))]


def _with_input(input_shape, layers):
    return [int(np.prod(input_shape)), *activation_counts(input_shape, layers)]


def _activation_cases(rng) -> list[Case]:
    lenet = [("conv", 6, 5, 0), ("pool", 2), ("conv", 16, 5, 0), ("pool", 2),
             ("linear", 120), ("linear", 84), ("linear", 10)]
    cifar_vgg = [("conv", 32, 3, 1), ("conv", 32, 3, 1), ("pool", 2), ("conv", 64, 3, 1),
                 ("pool", 2), ("linear", 10)]
    cases = [Case(((1, 32, 32), lenet), label="LeNet-5"),
             Case(((3, 32, 32), cifar_vgg), label="a small VGG on CIFAR-10"),
             Case(((3, 48, 64), [("conv", 16, 3, 1), ("pool", 2), ("conv", 8, 5, 2),
                                 ("pool", 2)]), label="a 48×64 photo"),
             Case(((2, 15, 9), [("conv", 4, 3, 0), ("pool", 2), ("conv", 5, 1, 0)]),
                  label="odd sizes before the pool"),
             Case(((1, 5, 7), [("conv", 3, 3, 2), ("conv", 2, 1, 1)]),
                  label="padding that grows the map"),
             Case(((4, 20, 12), [("pool", 3), ("conv", 6, 3, 0), ("linear", 7)]),
                  label="a 3×3 pool first"),
             Case(((3, 11, 10), [("conv", 4, 2, 0), ("conv", 5, 4, 1)]), label="even kernels"),
             Case(((2, 16, 13), [("conv", 6, 4, 2), ("pool", 2), ("conv", 3, 2, 1)]),
                  label="even kernels with padding")]
    for _ in range(4):
        c, h, w = int(rng.integers(1, 5)), int(rng.integers(12, 40)), int(rng.integers(12, 40))
        layers, hh, ww = [], h, w
        for _ in range(int(rng.integers(2, 5))):
            if rng.random() < 0.35 and min(hh, ww) >= 4:
                size = int(rng.choice([2, 3]))
                layers.append(("pool", size))
                hh, ww = hh // size, ww // size
            else:
                k = int(rng.choice([1, 3, 5]))
                p = int(rng.integers(0, 3))
                if min(hh, ww) + 2 * p - k + 1 < 2:
                    continue
                layers.append(("conv", int(rng.integers(2, 17)), k, p))
                hh, ww = hh + 2 * p - k + 1, ww + 2 * p - k + 1
        if rng.random() < 0.5:
            layers.append(("linear", int(rng.integers(2, 50))))
        cases.append(Case(((c, h, w), layers)))
    return cases


ACTIVATIONS = Exercise(
    number="4.1", title="The activations of a stack, layer by layer",
    reference=activation_counts, cases=_activation_cases,
    mistakes=[
        Mistake("you counted each layer's parameters, the other memory; an activation count is "
                "the size of the layer's OUTPUT volume, K·H'·W' for a convolution, C·H'·W' for "
                "a pool, F for a linear layer.", _layer_parameters),
        Mistake("your counts leave out the channels: a feature-map volume holds K maps of "
                "H'·W' values (a pool keeps the C channels it receives).",
                _counts_with(count=lambda sh, layer: int(np.prod(sh[1:])) if len(sh) == 3
                             else sh[0])),
        Mistake("a convolution's output has one map per FILTER: K·H'·W', not the C input "
                "channels.",
                _counts_with(conv=lambda sh, k_out, k, p: (sh[0], sh[1] + 2 * p - k + 1,
                                                           sh[2] + 2 * p - k + 1))),
        Mistake("you ignored the padding: each convolution's map is H + 2p − k + 1 rows by "
                "W + 2p − k + 1 columns.",
                _counts_with(conv=lambda sh, k_out, k, p: (k_out, sh[1] - k + 1, sh[2] - k + 1))),
        Mistake("you added the padding once; it is added on BOTH sides: H + 2p − k + 1.",
                _counts_with(conv=lambda sh, k_out, k, p: (k_out, sh[1] + p - k + 1,
                                                           sh[2] + p - k + 1))),
        Mistake("you took k // 2 off each side (H + 2p − 2·(k // 2)); that holds for odd k "
                "only: a k×k window fits in H + 2p − k + 1 positions, so an even kernel loses "
                "k − 1 rows in all, not k.",
                _counts_with(conv=lambda sh, k_out, k, p: (k_out, sh[1] + 2 * p - 2 * (k // 2),
                                                           sh[2] + 2 * p - 2 * (k // 2)))),
        Mistake("you kept every convolution's map at its input size, as VGG's 3×3 convolutions "
                "with padding 1 do; in general it is H + 2p − k + 1.",
                _counts_with(conv=lambda sh, k_out, k, p: (k_out, sh[1], sh[2]))),
        Mistake("your pools do not shrink the maps; an s×s pool with stride s keeps one value "
                "per block: H // s by W // s.", _counts_with(pool=lambda sh, s: sh)),
        Mistake("you rounded the pooled size up; PyTorch's pooling drops a last incomplete "
                "block (floor: H // s).",
                _counts_with(pool=lambda sh, s: (sh[0], -(-sh[1] // s), -(-sh[2] // s)))),
        Mistake("your maps are square: the width must follow its own size, W + 2p − k + 1 and "
                "W // s, not the height's.", _counts_with(square=True)),
        Mistake("you returned running totals; the list holds each layer's own output, not the "
                "sum so far.", _running_total),
        Mistake("your list starts with the input image; it should hold one count per LAYER, "
                "the first being the first layer's output.", _with_input),
        Mistake("you returned bytes (4 per float32 value); the task asks for the number of "
                "values.", _counts_with(count=lambda sh, layer: 4 * int(np.prod(sh)))),
    ],
    forbidden=("conv2d", "max_pool2d", "linear"),
    forbidden_reason="the statement asks you to work each shape out from the layer list",
)
check_activation_counts = checker(ACTIVATIONS, "check_activation_counts")


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

EXERCISES = [ACTIVATIONS, STACK_PARAMETERS, SCORE]
