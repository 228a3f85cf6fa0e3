"""Chapter 2 exercises: convolution as a sliding filter.

====  ===============================================  ==========================================
2.1   ``output_size(height, width, kernel_size,         (H', W') of a dilated, strided
      stride=1, padding=0, dilation=1)``                convolution; each setting an int or a
                                                        (rows, columns) pair, as in nn.Conv2d
2.2   ``multichannel_by_hand()``                        the (2, 2, 2) output of a 2-channel,
                                                        2-filter example, worked out by hand
2.3   ``conv2d_im2col(x, w, b=None, stride=1,           convolution as a patch matrix and one
      padding=0)``                                      matrix multiply, torch float64:
                                                        ``(N, C, H, W) x (K, C, kh, kw)
                                                        -> (N, K, H', W')``
2.4   ``diagonal_edge_filter()``                        a 3×3 kernel that fires on a diagonal
                                                        edge, dark top-left / bright bottom-right
====  ===============================================  ==========================================

The reference of 2.1 is the formula of :func:`helpers.layers.conv_output_size` (per axis,
written out: the exercise forbids calling the helper); 2.3's is :func:`helpers.layers.im2col`;
2.2's is :func:`helpers.layers.conv2d_naive` on the example
(``EXAMPLE_X``, ``EXAMPLE_W``). Exercise 2.4 has many right answers, so it is checked by
behaviour: the kernel is slid over step edges in eight directions and over a flat image, and
what it responds to most is compared with what the exercise asks for.
"""
from __future__ import annotations

import numpy as np
import torch

from helpers.device import to_numpy
from helpers.exercises.core import (
    Case,
    Exercise,
    Mistake,
    _Problem,
    _type_name,
    checker,
    compare_outputs,
)
from helpers.layers import conv2d_naive, conv_output_size, im2col

__all__ = ["check_conv2d_im2col", "check_diagonal_edge_filter", "check_multichannel_by_hand",
           "check_output_size"]


# --------------------------------------------------------------------------- 2.1 output shape

def _pair(value):
    """An ``nn.Conv2d`` setting as (rows, columns): an int applies to both axes."""
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def _right_count(n, k, s, p, d):
    """One axis, as :func:`helpers.layers.conv_output_size` computes it (tests check they
    agree); written out because the exercise forbids calling that helper."""
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def output_size(height, width, kernel_size, stride=1, padding=0, dilation=1):
    """(H', W') of a convolution on an H×W input; each setting an int or a (rows, columns) pair,
    as in ``nn.Conv2d``: per axis n' = (n + 2p - d(k - 1) - 1) // s + 1, the dilated kernel
    spanning d(k - 1) + 1 cells and ``padding`` p added on EACH side."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = map(_pair, (kernel_size, stride, padding, dilation))
    return (_right_count(height, kh, sh, ph, dh), _right_count(width, kw, sw, pw, dw))


def _per_axis(count):
    """A wrong answer that applies ``count(n, k, s, p, d)`` on each axis with its own settings."""
    def wrong(height, width, kernel_size, stride=1, padding=0, dilation=1):
        (kh, kw), (sh, sw), (ph, pw), (dh, dw) = map(_pair, (kernel_size, stride, padding,
                                                             dilation))
        return count(height, kh, sh, ph, dh), count(width, kw, sw, pw, dw)
    return wrong


def _height_for_width(height, width, kernel_size, stride=1, padding=0, dilation=1):
    rows = _right_count(height, *(_pair(v)[0] for v in (kernel_size, stride, padding, dilation)))
    return rows, rows


def _row_settings_for_both(height, width, kernel_size, stride=1, padding=0, dilation=1):
    first = [_pair(v)[0] for v in (kernel_size, stride, padding, dilation)]
    return output_size(height, width, *first)


def _width_first(height, width, kernel_size, stride=1, padding=0, dilation=1):
    return output_size(height, width, kernel_size, stride, padding, dilation)[::-1]


def _output_size_cases(rng) -> list[Case]:
    cases = [Case((7, 9, 3), {"stride": 2, "dilation": 2}, label="on paper"),
             Case((9, 7, 3), {"dilation": 2}, label="dilation 2"),
             Case((33, 48, 3), {"padding": 2, "dilation": 2}, label="dilated, size kept"),
             Case((5, 11, 3), {"dilation": 2}, label="dilated kernel as tall as the input"),
             Case((224, 160, 7), {"stride": 2, "padding": 3}, label="no dilation"),
             Case((28, 20, (3, 5)), {"padding": (1, 2)}, label="3×5 kernel"),
             Case((19, 24, (5, 3)), {"stride": (2, 3), "dilation": (2, 1)},
                  label="per-axis stride and dilation"),
             Case((1, 64, (1, 2)), {"dilation": (1, 8)}, label="one row, dilation 8 along it"),
             Case((30, 31, 3), {"stride": 2, "padding": (2, 1), "dilation": (2, 3)}),
             Case((17, 12, (4, 2)), {"stride": (3, 2), "padding": (0, 3), "dilation": 3}),
             Case((8, 10, 2), {"stride": (1, 4), "padding": 1, "dilation": (1, 2)}),
             Case((40, 25, 4), {"stride": 3, "dilation": (3, 1)}, label="even kernel")]
    for _ in range(4):
        k = [int(v) for v in rng.integers(1, 6, size=2)]
        s, p, d = ([int(v) for v in rng.integers(lo, hi, size=2)]
                   for lo, hi in ((1, 5), (0, 4), (1, 5)))
        span = [d[a] * (k[a] - 1) + 1 for a in range(2)]
        h, w = (int(rng.integers(max(1, span[a] - 2 * p[a]), 70)) for a in range(2))
        cases.append(Case((h, w, tuple(k)), {"stride": tuple(s), "padding": tuple(p),
                                             "dilation": tuple(d)}))
    return cases


def _compare_sizes(got, expected) -> str | None:
    """The default comparison, and each size a Python int (not a NumPy integer or a bool)."""
    problem = compare_outputs(got, expected)
    if problem is not None:
        return problem
    for i, value in enumerate(got):
        if type(value) is not int:
            return _Problem(
                "type", f"element [{i}]: returned {_type_name(value)} ({value}); expected a "
                        "Python int — wrap it in `int(...)`")
    return None


def _output_size_error(case, exc) -> str | None:
    text = str(exc)
    if isinstance(exc, TypeError) and ("tuple" in text or "non-iterable int" in text
                                       or "not subscriptable" in text):
        return ("each setting is either an int (the same on both axes) or a (rows, columns) "
                "pair; turn it into a pair first, e.g. `kh, kw = k if isinstance(k, tuple) "
                "else (k, k)`.")
    return None


OUTPUT_SIZE = Exercise(
    number="2.1", title="Output shape of a dilated, strided convolution", reference=output_size,
    cases=_output_size_cases,
    mistakes=[
        Mistake("you ignored the dilation: a kernel of k taps spaced d cells apart spans "
                "d·(k − 1) + 1 cells, and that span, not k, must fit in the padded axis.",
                _per_axis(lambda n, k, s, p, d: (n + 2 * p - k) // s + 1)),
        Mistake("you took d·k as the dilated kernel's span; k taps have k − 1 gaps of d cells, "
                "so the span is d·(k − 1) + 1 (a 3-tap kernel with dilation 2 covers 5 cells, "
                "not 6).", _per_axis(lambda n, k, s, p, d: (n + 2 * p - d * k) // s + 1)),
        Mistake("you took d·(k − 1) as the span, leaving out the first tap's own cell: the "
                "span is d·(k − 1) + 1, so the free room is n + 2p − d·(k − 1) − 1.",
                _per_axis(lambda n, k, s, p, d: (n + 2 * p - d * (k - 1)) // s + 1)),
        Mistake("you spread the taps by one gap of d − 1 cells in all (span k + d − 1); "
                "dilation puts d − 1 empty cells between EVERY two neighbouring taps: span "
                "d·(k − 1) + 1.",
                _per_axis(lambda n, k, s, p, d: (n + 2 * p - k - d + 1) // s + 1)),
        Mistake("you added `padding` once, but it is added on BOTH sides of each axis: "
                "n + 2·p.",
                _per_axis(lambda n, k, s, p, d: (n + p - d * (k - 1) - 1) // s + 1)),
        Mistake("you divided the stride-1 count n + 2p − d(k − 1) by the stride and rounded "
                "down; the first position always counts, and then one more per s cells of the "
                "remaining free room: (n + 2p − d(k − 1) − 1) // s + 1.",
                _per_axis(lambda n, k, s, p, d: (n + 2 * p - d * (k - 1)) // s)),
        Mistake("you added the padding after dividing by the stride (… // s + 1 + 2p // s); "
                "the padding widens the axis BEFORE the windows are counted: "
                "(n + 2p − d(k − 1) − 1) // s + 1.",
                _per_axis(lambda n, k, s, p, d: (n - d * (k - 1) - 1) // s + 1 + 2 * p // s)),
        Mistake("you forgot the + 1: the first window position counts too (a dilated kernel "
                "exactly as long as the padded axis still gives one output).",
                _per_axis(lambda n, k, s, p, d: (n + 2 * p - d * (k - 1) - 1) // s)),
        Mistake("you rounded up; the last window must fit entirely inside the padded axis, so "
                "round DOWN (`//`).",
                _per_axis(lambda n, k, s, p, d: -(-(n + 2 * p - d * (k - 1) - 1) // s) + 1)),
        Mistake("you ignored the stride: with stride s the window jumps s cells, so divide the "
                "free room n + 2p − d(k − 1) − 1 by s before adding 1.",
                _per_axis(lambda n, k, s, p, d: n + 2 * p - d * (k - 1))),
        Mistake("you used ⌈n / stride⌉, the output size of TensorFlow's 'same' padding; that "
                "ignores the kernel, the padding and the dilation you were given.",
                _per_axis(lambda n, k, s, p, d: -(-n // s))),
        Mistake("your width is computed from the height: the second entry must use `width` "
                "and the column settings (the second of each pair).", _height_for_width),
        Mistake("you used the first entry of every pair for both axes; a pair is (rows, "
                "columns), like nn.Conv2d's: the width needs the second entries.",
                _row_settings_for_both),
        Mistake("your two sizes are in the wrong order: return (H', W'), rows first, like the "
                "last two axes of an (N, C, H, W) tensor.", _width_first),
    ],
    explain_error=_output_size_error,
    compare=_compare_sizes,
    forbidden=("conv2d", "conv1d", "unfold", "max_pool2d", "avg_pool2d", conv_output_size),
    forbidden_reason="the statement asks you to derive the shape from the settings",
)
check_output_size = checker(OUTPUT_SIZE, "check_output_size")


# --------------------------------------------------------------------------- 2.2 by hand

EXAMPLE_X = np.array([[[2, 0, 1], [1, 3, 0], [0, 1, 2]],
                      [[1, 1, 0], [0, 2, 1], [3, 0, 1]]])            # (C=2, 3, 3)
EXAMPLE_W = np.array([[[[1, 0], [0, -1]], [[0, 1], [1, 0]]],
                      [[[1, 1], [0, 0]], [[0, 0], [-1, 1]]]])        # (K=2, C=2, 2, 2)


def _example_conv(x=EXAMPLE_X, w=EXAMPLE_W) -> np.ndarray:
    return conv2d_naive(np.asarray(x, np.float64)[None], np.asarray(w, np.float64))[0]


def multichannel_by_hand():
    """The (K, H', W') = (2, 2, 2) output of the 2-filter layer on the 2-channel example."""
    return _example_conv()


def _compare_by_hand(got, expected) -> str | None:
    if isinstance(got, torch.Tensor) or not isinstance(got, (np.ndarray, list, tuple)):
        return (f"returned {type(got).__name__}; expected a NumPy array of shape (2, 2, 2): "
                "y[f, i, j] for filter f at output pixel (i, j)")
    try:
        got = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return "expected numbers in a (2, 2, 2) NumPy array"
    if got.shape != expected.shape:
        return (f"expected shape (2, 2, 2) — (filters, rows, columns) — got {got.shape}")
    if np.allclose(got, expected):
        return None
    f, i, j = (int(v) for v in np.argwhere(~np.isclose(got, expected))[0])
    return f"y[{f}, {i}, {j}] should be {expected[f, i, j]:g}, you have {got[f, i, j]:g}"


BY_HAND = Exercise(
    number="2.2", title="Two channels, two filters, by hand", reference=multichannel_by_hand,
    cases=[Case(label="the 2-channel example")], compare=_compare_by_hand,
    mistakes=[
        Mistake("you used only input channel 0: each filter has one 2×2 slice per input "
                "channel, and its output adds the sums over BOTH channels.",
                lambda: _example_conv(EXAMPLE_X[:1], EXAMPLE_W[:, :1])),
        Mistake("you used only input channel 1: each filter has one 2×2 slice per input "
                "channel, and its output adds the sums over BOTH channels.",
                lambda: _example_conv(EXAMPLE_X[1:], EXAMPLE_W[:, 1:])),
        Mistake("you applied filter f to input channel f only. Filter f covers every channel: "
                "y[f] = (x[0] ⊙ w[f, 0]) + (x[1] ⊙ w[f, 1]) at each position.",
                lambda: np.stack([_example_conv(EXAMPLE_X[f:f + 1], EXAMPLE_W[f:f + 1, f:f + 1])[0]
                                  for f in range(2)])),
        Mistake("you paired the slices with the wrong channels: w[f, c] multiplies input "
                "channel c (w[f, 0] goes with x[0], w[f, 1] with x[1]).",
                lambda: _example_conv(EXAMPLE_X[::-1], EXAMPLE_W)),
        Mistake("your two output maps are swapped: the first index of y is the filter, y[0] "
                "comes from w[0].", lambda: _example_conv()[::-1]),
        Mistake("you flipped the kernels (true convolution); a convolutional layer "
                "cross-correlates: w[f, c, u, v] multiplies x[c, i + u, j + v].",
                lambda: _example_conv(EXAMPLE_X, EXAMPLE_W[:, :, ::-1, ::-1])),
    ],
)
check_multichannel_by_hand = checker(BY_HAND, "check_multichannel_by_hand")


# --------------------------------------------------------------------------- 2.3 im2col

def conv2d_im2col(x, w, b=None, stride=1, padding=0):
    """Cross-correlation as one matrix multiply: (N, C, H, W) x (K, C, kh, kw) -> (N, K, H', W')."""
    n, k = x.shape[0], w.shape[0]
    kh, kw = w.shape[2:]
    windows = torch.nn.functional.pad(x, (padding,) * 4).unfold(2, kh, stride) \
        .unfold(3, kw, stride)                                         # (N, C, H', W', kh, kw)
    cols = windows.permute(0, 2, 3, 1, 4, 5).reshape(n, -1, w[0].numel())  # (N, H' W', C kh kw)
    out = cols @ w.reshape(k, -1).T                                    # (N, H' W', K)
    if b is not None:
        out = out + b
    oh = conv_output_size(x.shape[2], w.shape[2], stride, padding)
    ow = conv_output_size(x.shape[3], w.shape[3], stride, padding)
    return out.transpose(1, 2).reshape(n, k, oh, ow)


def _im2col_cases(rng) -> list[Case]:
    def normal(*shape):
        return torch.from_numpy(rng.standard_normal(shape))

    hand_x = torch.arange(16, dtype=torch.float64).reshape(1, 1, 4, 4)
    hand_w = torch.tensor([[[[1.0, 0.0], [0.0, -1.0]]]], dtype=torch.float64)
    cases = [
        Case((hand_x, hand_w), label="4×4 by hand"),
        Case((normal(1, 2, 3, 3), normal(2, 2, 2, 2)), label="2 channels, 2 filters"),
        Case((normal(2, 3, 6, 7), normal(4, 3, 3, 3), normal(4)), label="3 channels, bias"),
        Case((normal(1, 2, 7, 7), normal(3, 2, 3, 3), normal(3)), {"stride": 2, "padding": 1},
             label="stride 2, padding 1"),
        Case((normal(1, 1, 5, 8), normal(2, 1, 3, 3)), {"padding": 2}, label="padding 2"),
        Case((normal(2, 3, 9, 8), normal(2, 3, 3, 2), normal(2)), {"stride": 3, "padding": 1},
             label="stride 3, 3×2 kernel"),
        Case((normal(3, 2, 5, 9), normal(3, 2, 2, 4), normal(3)), {"stride": 2},
             label="5×9 input, 2×4 kernel, stride 2"),
        Case((normal(2, 4, 10, 7), normal(5, 4, 1, 3)), {"padding": 1},
             label="1×3 kernel, 4 channels, 5 filters"),
    ]
    for _ in range(3):
        c, k, kh, kw = (int(v) for v in rng.integers(1, 4, size=4))
        h, w_ = (int(v) for v in rng.integers(4, 9, size=2))
        cases.append(Case((normal(int(rng.integers(1, 3)), c, h, w_), normal(k, c, kh, kw),
                           normal(k)),
                          {"stride": int(rng.integers(1, 3)), "padding": int(rng.integers(0, 3))}))
    return cases


def _columns_uvc(x, w, b=None, stride=1, padding=0):
    """Patch columns in (u, v, c) order, filters flattened in (c, u, v) order."""
    cols = im2col(x, w.shape[2:], stride=stride, padding=padding)
    n, rows = cols.shape[:2]
    c, kh, kw = w.shape[1:]
    cols = cols.reshape(n, rows, c, kh, kw).permute(0, 1, 3, 4, 2).reshape(n, rows, -1)
    out = cols @ w.reshape(w.shape[0], -1).T + (0 if b is None else b)
    return out.transpose(1, 2).reshape(conv2d_im2col(x, w, b, stride, padding).shape)


def _reshape_no_transpose(x, w, b=None, stride=1, padding=0):
    """(N, H' W', K) reshaped straight to (N, K, H', W')."""
    cols = im2col(x, w.shape[2:], stride=stride, padding=padding)
    out = cols @ w.reshape(w.shape[0], -1).T + (0 if b is None else b)
    return out.reshape(conv2d_im2col(x, w, b, stride, padding).shape)


def _rows_column_major(x, w, b=None, stride=1, padding=0):
    """Patch rows listed column by column, (j, i), then read back row by row, (i, j)."""
    right = conv2d_im2col(x, w, b, stride, padding)
    n, k, oh, ow = right.shape
    listed = right.transpose(2, 3).reshape(n, k, oh * ow)        # row r = (j, i) = divmod(r, oh)
    return listed.reshape(n, k, oh, ow)


def _im2col_flipped(x, w, b=None, stride=1, padding=0):
    return conv2d_im2col(x, w.flip(-2, -1), b, stride, padding)


def _im2col_no_padding(x, w, b=None, stride=1, padding=0):
    """Windows cut from the unpadded input at the padded output's positions (the ones that run
    off the end filled with zeros)."""
    p = 2 * padding
    return conv2d_im2col(torch.nn.functional.pad(x, (0, p, 0, p)), w, b, stride, 0)


def _im2col_start_not_strided(x, w, b=None, stride=1, padding=0):
    oh, ow = conv2d_im2col(x, w, b, stride, padding).shape[2:]
    return conv2d_im2col(x, w, b, 1, padding)[:, :, :oh, :ow]


def _im2col_no_bias(x, w, b=None, stride=1, padding=0):
    return conv2d_im2col(x, w, None, stride, padding)


IM2COL = Exercise(
    number="2.3", title="Convolution as one matrix multiply", reference=conv2d_im2col,
    cases=_im2col_cases, shape_hint="(N, K, H', W')",
    mistakes=[
        Mistake("the columns of your patch matrix are not in the order of the flattened "
                "filters. `w.reshape(K, -1)` lists each filter channel first, then row, then "
                "column (c, u, v); flatten every window the same way, e.g. "
                "`x_pad[n, :, top:top + kh, left:left + kw].reshape(-1)`.", _columns_uvc),
        Mistake("the product has shape (N, H'·W', K), one column per filter; reshaping it "
                "straight to (N, K, H', W') mixes filters and positions. Bring K forward first "
                "(`.transpose(1, 2)`), then reshape.", _reshape_no_transpose),
        Mistake("your patch rows run down the columns of the output (j outer, i inner) but "
                "are read back row by row. List the windows row by row: output pixel (i, j) "
                "is row i·W' + j.", _rows_column_major),
        Mistake("you flipped the kernel; a convolutional layer cross-correlates: take the "
                "window as it is and the filter as it is.", _im2col_flipped),
        Mistake("the windows were cut from the unpadded input; pad x with `padding` zeros on "
                "each side first (`F.pad(x, (p, p, p, p))`), then cut the windows from it.",
                _im2col_no_padding),
        Mistake("your window for output (i, j) starts at row i, column j; with a stride it "
                "starts at row i·stride, column j·stride.", _im2col_start_not_strided),
        Mistake("the bias is missing: add b[k] to every output pixel of filter k (when b is "
                "not None).", _im2col_no_bias),
    ],
    time_limit=20.0,
    forbidden=("conv2d", "unfold", im2col),
    forbidden_reason="the statement asks for the convolution as your own patch matrix and one "
                     "matrix multiply",
)
check_conv2d_im2col = checker(IM2COL, "check_conv2d_im2col")


# --------------------------------------------------------------------------- 2.4 an edge filter

DIRECTIONS = ("up", "up-right", "right", "down-right", "down", "down-left", "left", "up-left")
_STEP = {"up": (-1, 0), "up-right": (-1, 1), "right": (0, 1), "down-right": (1, 1),
         "down": (1, 0), "down-left": (1, -1), "left": (0, -1), "up-left": (-1, -1)}
TARGET = "down-right"


def diagonal_edge_filter():
    """A 3×3 kernel: large where the image is dark top-left and bright bottom-right."""
    return np.array([[-2.0, -1.0, 0.0], [-1.0, 0.0, 1.0], [0.0, 1.0, 2.0]])


def _step_image(direction: str, size: int = 9) -> np.ndarray:
    """0 (dark) on one side of a straight edge through the centre, 1 (bright) on the side
    ``direction`` points to."""
    dy, dx = _STEP[direction]
    r = np.arange(size) - size // 2
    return ((dy * r[:, None] + dx * r[None, :]) > 0).astype(np.float64)


def edge_responses(kernel) -> dict[str, float]:
    """Strongest response of ``kernel`` along a step edge in each direction, and on a flat
    image (key ``"flat"``)."""
    kernel = np.asarray(kernel, dtype=np.float64)[None, None]
    out = {d: float(conv2d_naive(_step_image(d)[None, None], kernel).max()) for d in DIRECTIONS}
    out["flat"] = float(kernel.sum())
    return out


def _behaviour(kernel) -> tuple[bool, str]:
    """(responds to flat regions?, direction it responds to most, or 'no single direction').

    A kernel that responds to flat regions is classed by that alone: on a bright region its
    response is its sum, whatever the direction of any edge nearby.
    """
    r = edge_responses(kernel)
    scale = max(1.0, float(np.abs(np.asarray(kernel, dtype=np.float64)).max()))
    if abs(r["flat"]) > 1e-6 * scale:
        return True, ""
    ranked = sorted(DIRECTIONS, key=lambda d: -r[d])
    best = ranked[0] if r[ranked[0]] > r[ranked[1]] + 1e-6 * scale else "no single direction"
    return False, best


def _as_kernel(value) -> tuple[np.ndarray | None, str | None]:
    try:
        kernel = to_numpy(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None, f"returned {type(value).__name__}; expected a 3×3 NumPy array of numbers"
    if kernel.shape != (3, 3):
        return None, f"expected a 3×3 kernel, got shape {kernel.shape}"
    if not np.isfinite(kernel).all():
        return None, "your kernel contains NaN or infinity"
    return kernel, None


def _describe(flat: bool, best: str) -> str:
    if flat:
        return "responds to flat regions (its weights do not sum to 0)"
    if best in DIRECTIONS:
        return f"responds most to an edge whose bright side lies {best}"
    return "responds equally strongly to several edge directions"


def _compare_edge_filters(got, expected) -> str | None:
    kernel, problem = _as_kernel(got)
    if problem:
        return problem
    want = _behaviour(np.asarray(expected, dtype=np.float64))
    have = _behaviour(kernel)
    if have == want:
        return None
    return f"your kernel {_describe(*have)}; the task asks for one that {_describe(*want)}"


EDGE_FILTER = Exercise(
    number="2.4", title="A filter for diagonal edges", reference=diagonal_edge_filter,
    cases=[Case(label="step edges in 8 directions and a flat image")],
    compare=_compare_edge_filters,
    mistakes=[
        Mistake("your filter has the signs the wrong way round: it fires on bright top-left / "
                "dark bottom-right. Multiply every weight by −1.",
                lambda: -diagonal_edge_filter()),
        Mistake("your filter finds the other diagonal (dark top-right, bright bottom-left); "
                "mirror it left-right: negative weights top-left, positive bottom-right.",
                lambda: diagonal_edge_filter()[:, ::-1]),
        Mistake("your weights do not sum to 0, so the filter also responds to flat regions; "
                "make the negative weights cancel the positive ones.",
                lambda: diagonal_edge_filter() + 0.5),
        Mistake("this is a horizontal-edge filter (Sobel): it compares the rows above and "
                "below; for a diagonal edge compare the top-left corner with the bottom-right "
                "one.", lambda: np.outer([-1.0, 0.0, 1.0], [1.0, 2.0, 1.0])),
        Mistake("this is a vertical-edge filter (Sobel): it compares the columns left and "
                "right; for a diagonal edge compare the top-left corner with the bottom-right "
                "one.", lambda: np.outer([1.0, 2.0, 1.0], [-1.0, 0.0, 1.0])),
    ],
)
check_diagonal_edge_filter = checker(EDGE_FILTER, "check_diagonal_edge_filter")


EXERCISES = [OUTPUT_SIZE, BY_HAND, IM2COL, EDGE_FILTER]
