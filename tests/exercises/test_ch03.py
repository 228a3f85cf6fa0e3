"""Chapter 3 exercises: references pass (and agree with PyTorch); typical learner mistakes get
the right diagnosis. Mutants are written the way a learner would write them."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from helpers.exercises import (
    ch03,
    check_stack_shapes,
    run_check,
)
from tests.exercises.harness import checkers_of, hands_back_reference, mutant_tests

CHECKERS = checkers_of(chapter=3)


def test_pooling_references_agree_with_torch_including_ties():
    for case in ch03.MAX_POOL_BACKWARD.make_cases():
        x, grad_out, k = case.args
        stride = case.kwargs.get("stride")
        xt = torch.from_numpy(x).requires_grad_()
        y = F.max_pool2d(xt, k, stride)
        np.testing.assert_array_equal(ch03.max_pool_loops(x, k, stride), y.detach().numpy())
        y.backward(torch.from_numpy(grad_out))
        np.testing.assert_allclose(ch03.max_pool_backward(x, grad_out, k, stride),
                                   xt.grad.numpy(), atol=1e-12)


def test_stack_shapes_agree_with_real_layers():
    for case in ch03.STACK_SHAPES.make_cases():
        shape, layers = case.args
        x = torch.zeros(1, *shape)
        got = []
        for layer in layers:
            if layer[0] == "conv":
                _, k_out, k, s, p = layer
                x = torch.nn.Conv2d(x.shape[1], k_out, k, s, p, bias=False)(x)
            else:
                x = torch.nn.MaxPool2d(layer[1], layer[2])(x)
            got.append(tuple(x.shape[1:]))
        assert ch03.stack_shapes(shape, layers) == got


# --------------------------------------------------------------------------- 3.1 mutants

def _pool(x, k, s, reduce=np.max, window_extra=0, over_channels=False, start_stride=None):
    n_img, channels, height, width = x.shape
    out_h, out_w = (height - k) // s + 1, (width - k) // s + 1
    out = np.zeros((n_img, channels, out_h, out_w))
    t = s if start_stride is None else start_stride          # where window (i, j) starts: i·t
    for n in range(n_img):
        for c in range(channels):
            for i in range(out_h):
                for j in range(out_w):
                    rows = slice(i * t, i * t + k + window_extra)
                    cols = slice(j * t, j * t + k + window_extra)
                    window = x[n, :, rows, cols] if over_channels else x[n, c, rows, cols]
                    out[n, c, i, j] = reduce(window)
    return out


def average_instead(x, kernel_size, stride=None):
    return _pool(x, kernel_size, stride or kernel_size, reduce=np.mean)


def pool_stride_ignored(x, kernel_size, stride=None):
    return _pool(x, kernel_size, 1)


def default_stride_one(x, kernel_size, stride=None):
    return _pool(x, kernel_size, 1 if stride is None else stride)


def max_over_channels_too(x, kernel_size, stride=None):
    return _pool(x, kernel_size, stride or kernel_size, over_channels=True)


def pool_start_not_strided(x, kernel_size, stride=None):
    return _pool(x, kernel_size, stride or kernel_size, start_stride=1)


def window_one_short(x, kernel_size, stride=None):
    return _pool(x, kernel_size, stride or kernel_size, window_extra=-1)


def reshape_trick(x, kernel_size, stride=None):   # only right when k divides H and W
    n, c, h, w = x.shape
    k = kernel_size
    return x[:, :, :h // k * k, :w // k * k].reshape(n, c, h // k, k, w // k, k).max(axis=(3, 5))


# --------------------------------------------------------------------------- 3.2 mutants

def _backward(x, grad_out, k, stride, rule, accumulate=True):
    s = k if stride is None else stride
    dx = np.zeros_like(x)
    n_img, channels, out_h, out_w = grad_out.shape
    for n in range(n_img):
        for c in range(channels):
            for i in range(out_h):
                for j in range(out_w):
                    window = x[n, c, i * s:i * s + k, j * s:j * s + k]
                    g = grad_out[n, c, i, j]
                    target = dx[n, c, i * s:i * s + k, j * s:j * s + k]
                    if rule == "even":
                        target += g / window.size
                    elif rule == "first":
                        target[0, 0] += g
                    elif rule == "all":
                        target[window == window.max()] += g
                    else:
                        u, v = np.unravel_index(window.argmax(), window.shape)
                        if accumulate:
                            target[u, v] += g
                        else:
                            target[u, v] = g
    return dx


def spread_evenly(x, grad_out, kernel_size, stride=None):
    return _backward(x, grad_out, kernel_size, stride, "even")


def to_first_element(x, grad_out, kernel_size, stride=None):
    return _backward(x, grad_out, kernel_size, stride, "first")


def to_all_maxima(x, grad_out, kernel_size, stride=None):
    return _backward(x, grad_out, kernel_size, stride, "all")


def overwrites(x, grad_out, kernel_size, stride=None):
    return _backward(x, grad_out, kernel_size, stride, "argmax", accumulate=False)


def returns_pooled_shape(x, grad_out, kernel_size, stride=None):
    return grad_out.copy()


def window_start_not_strided(x, grad_out, kernel_size, stride=None):
    return _backward(x, grad_out, kernel_size, 1, "argmax")   # window (i, j) starts at i, j


# --------------------------------------------------------------------------- 3.3 mutants

def _shapes(input_shape, layers, formula, conv_sets_channels=True, pool_uses_stride=True):
    c, h, w = input_shape
    shapes = []
    for layer in layers:
        if layer[0] == "conv":
            _, filters, k, s, p = layer
            if conv_sets_channels:
                c = filters
        else:
            _, k, s = layer
            p = 0
            if not pool_uses_stride:
                s = 1
        h, w = formula(h, k, s, p), formula(w, k, s, p)
        shapes.append((c, h, w))
    return shapes


def _right(n, k, s, p):
    return (n + 2 * p - k) // s + 1


def channels_unchanged(input_shape, layers):
    return _shapes(input_shape, layers, _right, conv_sets_channels=False)


def padding_once_in_stack(input_shape, layers):
    return _shapes(input_shape, layers, lambda n, k, s, p: (n + p - k) // s + 1)


def pool_without_stride(input_shape, layers):
    return _shapes(input_shape, layers, _right, pool_uses_stride=False)


def forgot_plus_one(input_shape, layers):
    return _shapes(input_shape, layers, lambda n, k, s, p: (n + 2 * p - k) // s)


def final_shape_only(input_shape, layers):
    return _shapes(input_shape, layers, _right)[-1]


def float_sizes(input_shape, layers):
    return [(c, h * 1.0, w) for c, h, w in _shapes(input_shape, layers, _right)]


# --------------------------------------------------------------------------- 3.4 mutants

def _blur_loops(x, weights, pad_mode="constant", pad=1, step=2, start=0, mix_channels=False):
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode=pad_mode)
    n_img, channels = x.shape[:2]
    rows, cols = padded.shape[2] - 2, padded.shape[3] - 2
    blurred = np.zeros((n_img, channels, rows, cols))
    for n in range(n_img):
        for c in range(channels):
            for i in range(rows):
                for j in range(cols):
                    if mix_channels:
                        window = padded[n, :, i:i + 3, j:j + 3]
                        blurred[n, c, i, j] = (window * weights).sum()
                    else:
                        blurred[n, c, i, j] = (padded[n, c, i:i + 3, j:j + 3] * weights).sum()
    return blurred[:, :, start::step, start::step]


BINOMIAL = np.outer([1, 2, 1], [1, 2, 1])


def forgot_to_normalise(x):
    return _blur_loops(x, BINOMIAL)


def blurs_across_channels(x):
    return _blur_loops(x, BINOMIAL / 16, mix_channels=True)


def reflect_padding(x):
    return _blur_loops(x, BINOMIAL / 16, pad_mode="reflect")


def box_filter(x):
    return _blur_loops(x, np.ones((3, 3)) / 9)


def subsample_then_blur(x):
    return _blur_loops(x[:, :, ::2, ::2], BINOMIAL / 16, step=1)


def keeps_odd_rows(x):
    return _blur_loops(x, BINOMIAL / 16, start=1)


def no_padding(x):
    return _blur_loops(x, BINOMIAL / 16, pad=0)


MUTANTS = [
    ("3.1", average_instead, "wrong", "average pooling"),
    ("3.1", pool_stride_ignored, "wrong", "you ignored the stride"),
    ("3.1", pool_start_not_strided, "wrong", "starts at row i, column j"),
    ("3.1", default_stride_one, "wrong", "must default to kernel_size"),
    ("3.1", max_over_channels_too, "wrong", "maximum over all channels at once"),
    ("3.1", window_one_short, "wrong", "windows are one pixel too small"),
    ("3.1", reshape_trick, "wrong", "wrong output shape"),
    ("3.2", spread_evenly, "wrong", "spread each gradient evenly"),
    ("3.2", to_first_element, "wrong", "first (top-left) element"),
    ("3.2", to_all_maxima, "wrong", "full gradient to every maximum"),
    ("3.2", overwrites, "wrong", "ADD each window's gradient"),
    ("3.2", returns_pooled_shape, "wrong", "expected shape (1, 1, 4, 4) = x.shape"),
    ("3.2", window_start_not_strided, "wrong", "starts at row i·s"),
    ("3.3", channels_unchanged, "wrong", "outputs K channels"),
    ("3.3", padding_once_in_stack, "wrong", "added `padding` once"),
    ("3.3", pool_without_stride, "wrong", "pooling layers ignore their stride"),
    ("3.3", forgot_plus_one, "wrong", "forgot the + 1"),
    ("3.3", final_shape_only, "wrong", "after EVERY layer"),
    ("3.3", float_sizes, "bad_type", "expected an int"),
    ("3.4", forgot_to_normalise, "wrong", "divide by 16"),
    ("3.4", blurs_across_channels, "wrong", "mixed the channels"),
    ("3.4", reflect_padding, "wrong", "ZEROS"),
    ("3.4", box_filter, "wrong", "box blur"),
    ("3.4", subsample_then_blur, "wrong", "subsampled first"),
    ("3.4", keeps_odd_rows, "wrong", "odd rows"),
    ("3.4", no_padding, "wrong", "without padding"),
]


# ----------------------------------------------------------------------- more mutants (issue 28)

def pool_height_for_width(x, kernel_size, stride=None):
    s = stride or kernel_size
    n_img, channels, height, _ = x.shape
    out_h = (height - kernel_size) // s + 1
    out = np.zeros((n_img, channels, out_h, out_h))
    for i in range(out_h):
        for j in range(out_h):
            out[:, :, i, j] = x[:, :, i * s:i * s + kernel_size,
                                j * s:j * s + kernel_size].max(axis=(2, 3))
    return out


def last_tied_maximum(x, grad_out, kernel_size, stride=None):
    s = kernel_size if stride is None else stride
    dx = np.zeros_like(x)
    for n, c, i, j in np.ndindex(*grad_out.shape):
        window = x[n, c, i * s:i * s + kernel_size, j * s:j * s + kernel_size]
        best = None
        for u in range(kernel_size):
            for v in range(kernel_size):
                if best is None or window[u, v] >= window[best]:
                    best = (u, v)
        dx[n, c, i * s + best[0], j * s + best[1]] += grad_out[n, c, i, j]
    return dx


def backward_via_reshape(x, grad_out, kernel_size, stride=None):
    n, c, h, w = x.shape
    k = kernel_size
    windows = x.reshape(n, c, h // k, k, w // k, k)
    mask = windows == windows.max(axis=(3, 5), keepdims=True)
    return (mask * grad_out[:, :, :, None, :, None]).reshape(x.shape)


def shapes_height_for_width(input_shape, layers):
    c, h, _ = input_shape
    shapes = []
    for layer in layers:
        if layer[0] == "conv":
            _, c, k, s, p = layer
        else:
            _, k, s = layer
            p = 0
        h = (h + 2 * p - k) // s + 1
        shapes.append((c, h, h))
    return shapes


def list_of_lists(input_shape, layers):
    c, h, w = input_shape
    shapes = []
    for layer in layers:
        if layer[0] == "conv":
            _, c, k, s, p = layer
        else:
            _, k, s = layer
            p = 0
        h, w = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        shapes.append([c, h, w])
    return shapes


def blur_rows_only(x):
    return _blur_loops(x, np.outer([0, 1, 0], [1, 2, 1]) / 4)


def circular_padding(x):
    return _blur_loops(x, BINOMIAL / 16, pad_mode="wrap")


MUTANTS += [
    ("3.1", pool_height_for_width, "error", "the result should have shape"),
    ("3.2", last_tied_maximum, "wrong", "you chose the LAST one"),
    ("3.2", backward_via_reshape, "error", "ValueError"),
    ("3.3", shapes_height_for_width, "wrong", "wrong result"),
    ("3.3", list_of_lists, "bad_type", "the statement asks for a list of (C, H, W) TUPLES"),
    ("3.4", blur_rows_only, "wrong", "along the rows only"),
    ("3.4", circular_padding, "wrong", "circular padding"),
]


(test_mutant_is_rejected_with_the_right_diagnosis,
 test_each_exercise_has_at_least_five_diagnosed_mutants) = mutant_tests(CHECKERS, MUTANTS)


def test_broken_learner_code_is_handled(capsys):
    def crashes(x, kernel_size, stride=None):
        return x[:, :, ::kernel_size, ::stride].max(axis=7)

    verdict = run_check(ch03.MAX_POOL_LOOPS, crashes)
    assert verdict.status == "error" and "AxisError" in verdict.message

    def stub(input_shape, layers):
        raise NotImplementedError("Exercise 3.3: Shapes through a stack of layers")

    assert hands_back_reference(check_stack_shapes(stub), check_stack_shapes.exercise)
    assert capsys.readouterr().out.startswith("⏳ Exercise 3.3 is not implemented yet")

    def changes_x(x, grad_out, kernel_size, stride=None):
        dx = ch03.max_pool_backward(x, grad_out, kernel_size, stride)
        x *= 0
        return dx

    verdict = run_check(ch03.MAX_POOL_BACKWARD, changes_x)
    assert verdict.status == "wrong" and "you changed `x` in place" in verdict.message


