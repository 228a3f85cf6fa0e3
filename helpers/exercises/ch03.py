"""Chapter 3 exercises: stride and pooling.

====  ===============================================  ==========================================
3.1   ``max_pool_loops(x, kernel_size,                  max pooling with loops, NumPy float64:
      stride=None)``                                    ``(N, C, H, W) -> (N, C, H', W')``,
                                                        H' = (H - k) // s + 1, s = k by default
3.2   ``max_pool_backward(x, grad_out, kernel_size,     gradient of max pooling with respect to
      stride=None)``                                    its input: ``dx`` shaped like ``x``
3.3   ``stack_shapes(input_shape, layers)``             the (C, H, W) shape after each layer of
                                                        a stack of ``("conv", K, k, s, p)`` and
                                                        ``("pool", k, s)`` layers (a list)
3.4   ``blur_downsample(x)``                            anti-aliased downsampling, NumPy float64:
                                                        binomial 3×3 blur of each channel (zero
                                                        padding 1), then stride 2:
                                                        ``(N, C, H, W) -> (N, C, ⌈H/2⌉, ⌈W/2⌉)``
====  ===============================================  ==========================================

The reference of 3.1 is the course's :func:`helpers.layers.max_pool2d` (which is tested against
PyTorch), 3.3 uses :func:`helpers.layers.conv_output_size`, and 3.4's reference is
:func:`helpers.layers.blur_pool2d`. The reference of 3.2 follows PyTorch's rule for ties: each
window's gradient goes to its FIRST maximum in row-major order (``tests/exercises/test_ch03.py``
checks it against autograd).
"""
from __future__ import annotations

import numpy as np
import torch

from helpers.exercises.core import Case, Exercise, Mistake, checker
from helpers.layers import avg_pool2d, blur_pool2d, conv_output_size, max_pool2d

__all__ = ["check_blur_downsample", "check_max_pool_backward", "check_max_pool_loops",
           "check_stack_shapes"]


def _torch_pool(pool, x, kernel_size, stride):
    return pool(torch.from_numpy(np.ascontiguousarray(x)), kernel_size, stride).numpy()


# --------------------------------------------------------------------------- 3.1 max pooling

def max_pool_loops(x, kernel_size, stride=None):
    """Largest value of each k×k window: (N, C, H, W) -> (N, C, H', W'),
    H' = (H - k) // s + 1, with s = k when stride is None."""
    return _torch_pool(max_pool2d, x, kernel_size, stride)


def _pool_cases(rng) -> list[Case]:
    def normal(*shape):
        return rng.standard_normal(shape)

    hand = np.array([[[[1.0, 3, 2, 0], [4, 2, 1, 1], [0, 1, 5, 6], [2, 2, 7, 0]]]])
    cases = [Case((hand, 2), label="4×4 by hand"),
             Case((normal(2, 3, 6, 6), 2), label="3 channels"),
             Case((normal(1, 2, 7, 7), 3), {"stride": 2}, label="overlapping windows"),
             Case((normal(1, 1, 5, 8), 2), label="odd height: the last row is dropped"),
             Case((normal(2, 2, 9, 9), 3), label="3×3 windows"),
             Case((normal(1, 2, 8, 6), 2), {"stride": 2}, label="stride given"),
             Case((normal(1, 3, 6, 7), 2), {"stride": 1}, label="stride 1")]
    for _ in range(3):
        k = int(rng.integers(2, 4))
        h, w = (int(v) for v in rng.integers(k + 1, 10, size=2))
        stride = None if rng.random() < 0.5 else int(rng.integers(1, 4))
        cases.append(Case((normal(int(rng.integers(1, 3)), int(rng.integers(1, 4)), h, w), k),
                          {"stride": stride}))
    return cases


def _pool_window_one_short(x, kernel_size, stride=None):
    s = kernel_size if stride is None else stride
    h = conv_output_size(x.shape[2], kernel_size, s)
    w = conv_output_size(x.shape[3], kernel_size, s)
    return _torch_pool(max_pool2d, x, kernel_size - 1, s)[:, :, :h, :w]


def _over_channels(x, kernel_size, stride=None):
    pooled = _torch_pool(max_pool2d, x.max(axis=1, keepdims=True), kernel_size, stride)
    return np.repeat(pooled, x.shape[1], axis=1)


def _pool_start_not_strided(x, kernel_size, stride=None):
    """The right output size, but the window of output (i, j) starts at (i, j), not (i·s, j·s)."""
    h, w = max_pool_loops(x, kernel_size, stride).shape[2:]
    return _torch_pool(max_pool2d, x, kernel_size, 1)[:, :, :h, :w]


MAX_POOL_LOOPS = Exercise(
    number="3.1", title="Max pooling with loops", reference=max_pool_loops,
    cases=_pool_cases, shape_hint="(N, C, (H - k) // s + 1, (W - k) // s + 1)",
    mistakes=[
        Mistake("you took the mean of each window (average pooling); max pooling keeps the "
                "largest value: `window.max()`.",
                lambda x, k, stride=None: _torch_pool(avg_pool2d, x, k, stride)),
        Mistake("you ignored the stride: the window of output pixel (i, j) starts at row "
                "i·s, column j·s, and H' = (H − k) // s + 1.",
                lambda x, k, stride=None: _torch_pool(max_pool2d, x, k, 1)),
        Mistake("your window of output (i, j) starts at row i, column j; with stride s it "
                "starts at row i·s, column j·s: `x[:, :, i*s:i*s+k, j*s:j*s+k]`.",
                _pool_start_not_strided),
        Mistake("with stride=None the stride must default to kernel_size (non-overlapping "
                "windows), not to 1: `if stride is None: stride = kernel_size`.",
                lambda x, k, stride=None: _torch_pool(max_pool2d, x, k,
                                                      1 if stride is None else stride)),
        Mistake("you took the maximum over all channels at once: pooling works on each channel "
                "separately — take the max over the window's rows and columns only, "
                "`x[n, c, rows, cols].max()`.", _over_channels),
        Mistake("your windows are one pixel too small: the window of output (i, j) is "
                "`x[..., i*s : i*s + k, j*s : j*s + k]` (the slice end is excluded, so + k, "
                "not + k − 1).", _pool_window_one_short),
    ],
    time_limit=20.0,
)
check_max_pool_loops = checker(MAX_POOL_LOOPS, "check_max_pool_loops")


# --------------------------------------------------------------------------- 3.2 backward

def _windows(x, kernel_size, stride):
    """Yield (n, c, rows, cols, i, j) for every pooling window of x (N, C, H, W)."""
    s = kernel_size if stride is None else stride
    n_img, channels, height, width = x.shape
    out_h = (height - kernel_size) // s + 1
    out_w = (width - kernel_size) // s + 1
    for n in range(n_img):
        for c in range(channels):
            for i in range(out_h):
                for j in range(out_w):
                    yield (n, c, slice(i * s, i * s + kernel_size),
                           slice(j * s, j * s + kernel_size), i, j)


def max_pool_backward(x, grad_out, kernel_size, stride=None):
    """dL/dx of max pooling: (N, C, H, W), (N, C, H', W') -> (N, C, H, W).

    Each window passes its output gradient to the position of its maximum (the first one in
    row-major order if there are ties); windows that overlap add their contributions.
    """
    dx = np.zeros_like(x)
    for n, c, rows, cols, i, j in _windows(x, kernel_size, stride):
        window = x[n, c, rows, cols]
        u, v = np.unravel_index(np.argmax(window), window.shape)
        dx[n, c, rows.start + u, cols.start + v] += grad_out[n, c, i, j]
    return dx


def _spread_evenly(x, grad_out, kernel_size, stride=None):
    dx = np.zeros_like(x)
    for n, c, rows, cols, i, j in _windows(x, kernel_size, stride):
        dx[n, c, rows, cols] += grad_out[n, c, i, j] / kernel_size**2
    return dx


def _to_first_element(x, grad_out, kernel_size, stride=None):
    dx = np.zeros_like(x)
    for n, c, rows, cols, i, j in _windows(x, kernel_size, stride):
        dx[n, c, rows.start, cols.start] += grad_out[n, c, i, j]
    return dx


def _to_all_maxima(x, grad_out, kernel_size, stride=None):
    dx = np.zeros_like(x)
    for n, c, rows, cols, i, j in _windows(x, kernel_size, stride):
        window = x[n, c, rows, cols]
        dx[n, c, rows, cols] += (window == window.max()) * grad_out[n, c, i, j]
    return dx


def _overwrite(x, grad_out, kernel_size, stride=None):
    dx = np.zeros_like(x)
    for n, c, rows, cols, i, j in _windows(x, kernel_size, stride):
        window = x[n, c, rows, cols]
        u, v = np.unravel_index(np.argmax(window), window.shape)
        dx[n, c, rows.start + u, cols.start + v] = grad_out[n, c, i, j]
    return dx


def _last_tied_maximum(x, grad_out, kernel_size, stride=None):
    dx = np.zeros_like(x)
    for n, c, rows, cols, i, j in _windows(x, kernel_size, stride):
        window = x[n, c, rows, cols]
        flat = window.size - 1 - int(np.argmax(window.ravel()[::-1]))
        u, v = np.unravel_index(flat, window.shape)
        dx[n, c, rows.start + u, cols.start + v] += grad_out[n, c, i, j]
    return dx


def _backward_cases(rng) -> list[Case]:
    def case(shape, kernel_size, stride=None, label=""):
        x = rng.integers(0, 4, size=shape).astype(np.float64)   # small ints: ties happen
        s = kernel_size if stride is None else stride
        out = (shape[0], shape[1], (shape[2] - kernel_size) // s + 1,
               (shape[3] - kernel_size) // s + 1)
        kwargs = {} if stride is None else {"stride": stride}
        return Case((x, rng.standard_normal(out), kernel_size), kwargs, label=label)

    hand_x = np.array([[[[1.0, 3, 3, 0], [3, 2, 1, 1], [0, 1, 5, 6], [2, 2, 7, 0]]]])
    return [Case((hand_x, np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), 2), label="4×4 by hand"),
            case((1, 1, 6, 6), 2, label="non-overlapping"),
            case((2, 3, 6, 7), 2),
            case((1, 2, 7, 7), 3, 2, label="overlapping windows"),
            case((1, 1, 6, 6), 3, 1, label="stride 1"),
            case((2, 2, 8, 8), 3, 3),
            case((1, 2, 5, 9), 2, 1)]


def _start_not_strided(x, grad_out, kernel_size, stride=None):
    dx = np.zeros_like(x)
    k = kernel_size
    for n, c, i, j in np.ndindex(*grad_out.shape):
        window = x[n, c, i:i + k, j:j + k]
        u, v = np.unravel_index(np.argmax(window), window.shape)
        dx[n, c, i + u, j + v] += grad_out[n, c, i, j]
    return dx


MAX_POOL_BACKWARD = Exercise(
    number="3.2", title="Where the gradient of max pooling goes", reference=max_pool_backward,
    cases=_backward_cases, shape_hint="x.shape",
    mistakes=[
        Mistake("you spread each gradient evenly over its window (that is the gradient of "
                "AVERAGE pooling); in max pooling only the maximum influenced the output, so "
                "only it receives the gradient.", _spread_evenly),
        Mistake("you sent every gradient to the first (top-left) element of its window; it "
                "belongs to the position of the window's MAXIMUM (np.argmax + "
                "np.unravel_index).", _to_first_element),
        Mistake("where several values tie for the maximum you chose the LAST one; the "
                "statement (and PyTorch) take the FIRST in row-major order, which is what "
                "`np.argmax` returns.", _last_tied_maximum),
        Mistake("with ties you gave the full gradient to every maximum; the output came from "
                "ONE of them, so pick one — the first in row-major order (np.argmax), as "
                "PyTorch does.", _to_all_maxima),
        Mistake("overlapping windows can share their maximum: ADD each window's gradient "
                "(`dx[...] += g`) instead of overwriting it (`dx[...] = g`).", _overwrite),
        Mistake("your window of output (i, j) starts at row i, column j; with stride s it "
                "starts at row i·s, column j·s.", _start_not_strided),
        Mistake("you returned grad_out itself, of the pooled shape (N, C, H', W'); dL/dx has "
                "the shape of x: start from np.zeros_like(x) and send each gradient to its "
                "window's maximum.", lambda x, grad_out, kernel_size, stride=None: grad_out.copy()),
    ],
    time_limit=20.0,
)
check_max_pool_backward = checker(MAX_POOL_BACKWARD, "check_max_pool_backward")


# --------------------------------------------------------------------------- 3.3 shapes

def stack_shapes(input_shape, layers):
    """[(C, H, W) after each layer] for ("conv", K, k, s, p) and ("pool", k, s) layers."""
    c, h, w = input_shape
    shapes = []
    for layer in layers:
        if layer[0] == "conv":
            _, c, k, s, p = layer
        else:
            _, k, s = layer
            p = 0
        h, w = conv_output_size(h, k, s, p), conv_output_size(w, k, s, p)
        shapes.append((c, h, w))
    return shapes


def _shapes_with(input_shape, layers, size, conv_channels=True, pool_stride=True):
    """stack_shapes with a different size formula (for the mistakes below)."""
    c, h, w = input_shape
    shapes = []
    for layer in layers:
        if layer[0] == "conv":
            _, k_out, k, s, p = layer
            c = k_out if conv_channels else c
        else:
            _, k, s = layer
            s, p = (s if pool_stride else 1), 0
        h, w = size(h, k, s, p), size(w, k, s, p)
        shapes.append((c, h, w))
    return shapes


def _stack_cases(rng) -> list[Case]:
    lenet = [("conv", 6, 5, 1, 0), ("pool", 2, 2), ("conv", 16, 5, 1, 0), ("pool", 2, 2)]
    vgg_block = [("conv", 64, 3, 1, 1), ("conv", 64, 3, 1, 1), ("pool", 2, 2),
                 ("conv", 128, 3, 1, 1), ("pool", 2, 2)]
    strided = [("conv", 32, 3, 2, 1), ("conv", 64, 3, 2, 1), ("conv", 128, 3, 2, 1)]
    cases = [Case(((1, 32, 32), lenet), label="LeNet-5's trunk"),
             Case(((3, 224, 224), vgg_block), label="the start of VGG"),
             Case(((1, 256, 256), strided), label="stride-2 convolutions"),
             Case(((3, 227, 227), [("conv", 96, 11, 4, 0), ("pool", 3, 2)]),
                  label="AlexNet's first layers"),
             Case(((1, 28, 28), [("conv", 8, 3, 1, 1), ("pool", 2, 2), ("conv", 16, 3, 1, 0)])),
             Case(((3, 37, 50), [("conv", 8, 3, 2, 1), ("pool", 2, 2), ("conv", 4, 5, 1, 2)]),
                  label="37×50: height and width differ"),
             Case(((2, 64, 33), [("conv", 5, 7, 3, 0), ("pool", 3, 2)]),
                  label="64×33, stride 3")]
    while len(cases) < 8:
        c, size, width = (int(rng.integers(1, 4)), int(rng.integers(24, 64)),
                          int(rng.integers(24, 64)))
        layers = []
        for _ in range(int(rng.integers(2, 5))):
            if rng.random() < 0.6:
                layers.append(("conv", int(rng.integers(4, 33)), int(rng.choice([1, 3, 5])),
                               int(rng.integers(1, 3)), int(rng.integers(0, 3))))
            else:
                layers.append(("pool", 2, 2))
        try:
            stack_shapes((c, size, width), layers)
        except ValueError:      # a kernel larger than what is left: draw another stack
            continue
        cases.append(Case(((c, size, width), layers)))
    return cases


def _size(n, k, s, p):
    return (n + 2 * p - k) // s + 1


def _compare_shapes(got, expected) -> str | None:
    from helpers.exercises.core import _Problem, compare_outputs
    if isinstance(got, list) and got and all(isinstance(g, (list, tuple)) for g in got) and \
            not all(isinstance(g, tuple) for g in got):
        kind = type(next(g for g in got if not isinstance(g, tuple))).__name__
        return _Problem("type", f"returned a list of {kind}s; the statement asks for a list "
                        "of (C, H, W) TUPLES (`shapes.append((c, h, w))`)")
    return compare_outputs(got, expected)


STACK_SHAPES = Exercise(
    number="3.3", title="Shapes through a stack of layers", reference=stack_shapes,
    cases=_stack_cases, compare=_compare_shapes,
    mistakes=[
        Mistake("a convolution with K filters outputs K channels, whatever C it received: set "
                "C = K after each conv layer (pooling keeps C).",
                lambda shape, layers: _shapes_with(shape, layers, _size, conv_channels=False)),
        Mistake("you added `padding` once; it is added on both sides: n + 2·padding − k.",
                lambda shape, layers: _shapes_with(
                    shape, layers, lambda n, k, s, p: (n + p - k) // s + 1)),
        Mistake("your pooling layers ignore their stride: a 2×2 pool with stride 2 halves H "
                "and W, (H − k) // s + 1.",
                lambda shape, layers: _shapes_with(shape, layers, _size, pool_stride=False)),
        Mistake("you forgot the + 1 in (n + 2p − k) // s + 1.",
                lambda shape, layers: _shapes_with(
                    shape, layers, lambda n, k, s, p: (n + 2 * p - k) // s)),
        Mistake("return the shape after EVERY layer, as a list of (C, H, W) tuples, not only "
                "the final shape.", lambda shape, layers: stack_shapes(shape, layers)[-1]),
    ],
)
check_stack_shapes = checker(STACK_SHAPES, "check_stack_shapes")


# --------------------------------------------------------------------------- 3.4 blur-pool

_BINOMIAL = np.outer([1.0, 2.0, 1.0], [1.0, 2.0, 1.0])


def blur_downsample(x):
    """Blur each channel with [1, 2, 1] ⊗ [1, 2, 1] / 16 (one ring of zero padding), then keep
    every second row and column from the first: (N, C, H, W) -> (N, C, ⌈H/2⌉, ⌈W/2⌉)."""
    return blur_pool2d(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64))).numpy()


def _blur(x, kernel, mode="constant"):
    """Stride-1 'same' filtering of every (n, c) map with a 3×3 ``kernel``, padding ``mode``."""
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), mode=mode)
    h, w = x.shape[2:]
    out = np.zeros(x.shape)
    for u in range(3):
        for v in range(3):
            out += kernel[u, v] * padded[:, :, u:u + h, v:v + w]
    return out


def _blur_cases(rng) -> list[Case]:
    def normal(*shape):
        return rng.standard_normal(shape)

    dot = np.zeros((1, 1, 5, 5))
    dot[0, 0, 2, 2] = 16.0
    stripes = np.tile([1.0, 0.0], (1, 2, 6, 3))
    stripes[0, 1] *= 2
    return [Case((dot,), label="one bright pixel"),
            Case((stripes,), label="1-pixel stripes, 2 channels"),
            Case((normal(1, 3, 6, 6),), label="3 channels"),
            Case((normal(2, 1, 7, 5),), label="odd height and width"),
            Case((normal(1, 2, 8, 9),)),
            Case((np.abs(normal(2, 2, 6, 7)),), label="positive values, as after a ReLU"),
            Case((normal(1, 4, 5, 8),))]


def _blur_unnormalised(x):
    return _blur(x, _BINOMIAL)[:, :, ::2, ::2]


def _blur_across_channels(x):
    summed = _blur(x, _BINOMIAL / 16).sum(axis=1, keepdims=True)
    return np.repeat(summed, x.shape[1], axis=1)[:, :, ::2, ::2]


def _blur_edge_padding(x):
    return _blur(x, _BINOMIAL / 16, mode="edge")[:, :, ::2, ::2]


def _blur_box(x):
    return _blur(x, np.full((3, 3), 1 / 9))[:, :, ::2, ::2]


def _blur_after_subsampling(x):
    return _blur(x[:, :, ::2, ::2], _BINOMIAL / 16)


def _blur_odd_positions(x):
    return _blur(x, _BINOMIAL / 16)[:, :, 1::2, 1::2]


def _blur_no_padding(x):
    return _blur(x, _BINOMIAL / 16)[:, :, 1:-1:2, 1:-1:2]


def _blur_not_subsampled(x):
    return _blur(x, _BINOMIAL / 16)


BLUR_DOWNSAMPLE = Exercise(
    number="3.4", title="Blur, then subsample", reference=blur_downsample,
    cases=_blur_cases, shape_hint="(N, C, (H + 1) // 2, (W + 1) // 2)",
    mistakes=[
        Mistake("your values are 16 times too large: the weights [1, 2, 1] ⊗ [1, 2, 1] add up to "
                "16, so divide by 16 — a blur must keep a flat image at the same brightness.",
                _blur_unnormalised),
        Mistake("you mixed the channels: the blur works on each channel on its own (a "
                "depthwise filter), so channel c of the output depends on channel c of x only.",
                _blur_across_channels),
        Mistake("your border is wrong: pad with one ring of ZEROS (np.pad's default "
                "mode='constant'), not by repeating the edge pixels.", _blur_edge_padding),
        Mistake("your border is wrong: pad with one ring of ZEROS (np.pad's default "
                "mode='constant'), not by mirroring the pixels next to the edge.",
                lambda x: _blur(x, _BINOMIAL / 16, mode="reflect")[:, :, ::2, ::2]),
        Mistake("you blurred along the rows only (the kernel [1, 2, 1] / 4 across each row); "
                "the binomial filter is 2-D, [1, 2, 1] ⊗ [1, 2, 1] / 16: blur down the columns "
                "too.", lambda x: _blur(x, np.outer([0.0, 1.0, 0.0], [1.0, 2.0, 1.0]) / 4)
                [:, :, ::2, ::2]),
        Mistake("your border wraps around (circular padding, np.roll or mode='wrap'): the "
                "pixels beyond the edge are ZEROS, not the ones from the opposite side.",
                lambda x: _blur(x, _BINOMIAL / 16, mode="wrap")[:, :, ::2, ::2]),
        Mistake("you used a box blur (all nine weights 1/9); the blur here is the binomial "
                "[1, 2, 1] ⊗ [1, 2, 1] / 16, which weights the centre most.", _blur_box),
        Mistake("you subsampled first and blurred afterwards: by then the fine detail has "
                "already folded into coarse false patterns — blur the full-resolution map, "
                "then keep every second pixel.", _blur_after_subsampling),
        Mistake("you kept the odd rows and columns (1, 3, 5, ...); keep every second one "
                "starting from the first, row 0.", _blur_odd_positions),
        Mistake("without padding the border pixels have no full window: pad one ring of zeros "
                "first, so that the output has ⌈H/2⌉ rows.", _blur_no_padding),
        Mistake("you blurred but did not subsample: keep every second row and column of the "
                "blurred map.", _blur_not_subsampled),
    ],
)
check_blur_downsample = checker(BLUR_DOWNSAMPLE, "check_blur_downsample")


EXERCISES = [MAX_POOL_LOOPS, MAX_POOL_BACKWARD, STACK_SHAPES, BLUR_DOWNSAMPLE]
