"""Chapter 2 exercises: convolution as a sliding filter.

====  ===============================================  ==========================================
2.1   ``output_size(n, kernel_size, stride=1,           spatial output length of a convolution,
      padding=0)``                                      padding per side (an int)
2.2   ``conv2d_loops(x, w, b=None, stride=1,            cross-correlation with loops, NumPy
      padding=0)``                                      float64: ``(N, C, H, W) x (K, C, kh, kw)
                                                        -> (N, K, H', W')``
2.3   ``diagonal_edge_filter()``                        a 3×3 kernel that fires on a diagonal
                                                        edge, dark top-left / bright bottom-right
====  ===============================================  ==========================================

The references of 2.1 and 2.2 are the course's own :func:`helpers.layers.conv_output_size` and
:func:`helpers.layers.conv2d_naive`. Exercise 2.3 has many right answers, so it is checked by
behaviour: the kernel is slid over step edges in eight directions and over a flat image, and
what it responds to most is compared with what the exercise asks for.
"""
from __future__ import annotations

import numpy as np

from helpers.device import to_numpy
from helpers.exercises.core import Case, Exercise, Mistake, checker
from helpers.layers import conv2d_naive, conv_output_size

__all__ = ["check_conv2d_loops", "check_diagonal_edge_filter", "check_output_size"]


# --------------------------------------------------------------------------- 2.1 output size

def output_size(n, kernel_size, stride=1, padding=0):
    """n' = (n + 2·padding - kernel_size) // stride + 1 (padding on each side)."""
    return conv_output_size(n, kernel_size, stride, padding)


def _output_size_cases(rng) -> list[Case]:
    cases = [Case((5, 3), label="by hand"),
             Case((256, 3), label="valid padding"),
             Case((256, 3), {"padding": 1}, label="same padding"),
             Case((256, 3), {"stride": 2, "padding": 1}, label="stride 2"),
             Case((7, 3), {"stride": 2}), Case((28, 5), {"padding": 2}),
             Case((10, 4), {"stride": 3, "padding": 1}), Case((3, 3), label="kernel as big as n")]
    for _ in range(6):
        k = int(rng.integers(1, 8))
        cases.append(Case((int(rng.integers(k, 60)), k),
                          {"stride": int(rng.integers(1, 5)), "padding": int(rng.integers(0, 4))}))
    return cases


OUTPUT_SIZE = Exercise(
    number="2.1", title="Output size of a convolution", reference=output_size,
    cases=_output_size_cases,
    mistakes=[
        Mistake("you added `padding` once, but it is added on BOTH sides: use n + 2·padding.",
                lambda n, k, stride=1, padding=0: (n + padding - k) // stride + 1),
        Mistake("you forgot the + 1: the first window position counts too (a kernel as big as "
                "the input still gives one output).",
                lambda n, k, stride=1, padding=0: (n + 2 * padding - k) // stride),
        Mistake("you rounded up; the last window must fit entirely inside the padded input, so "
                "round DOWN (`//`).",
                lambda n, k, stride=1, padding=0: -(-(n + 2 * padding - k) // stride) + 1),
        Mistake("you ignored the stride: with stride s the window jumps s pixels, so divide the "
                "free room n + 2·padding − kernel_size by s before adding 1.",
                lambda n, k, stride=1, padding=0: n + 2 * padding - k + 1),
        Mistake("you divided (n + 2·padding − kernel_size + 1) by the stride; divide only the "
                "free room n + 2·padding − kernel_size, then add 1.",
                lambda n, k, stride=1, padding=0: (n + 2 * padding - k + 1) // stride),
    ],
)
check_output_size = checker(OUTPUT_SIZE, "check_output_size")


# --------------------------------------------------------------------------- 2.2 conv with loops

def conv2d_loops(x, w, b=None, stride=1, padding=0):
    """Cross-correlation, (N, C, H, W) x (K, C, kh, kw) -> (N, K, H', W'),
    H' = (H + 2·padding - kh) // stride + 1, plus one bias per filter."""
    return conv2d_naive(x, w, b, stride=stride, padding=padding)


def _conv_cases(rng) -> list[Case]:
    def normal(*shape):
        return rng.standard_normal(shape)

    hand_x = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)
    hand_w = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])
    cases = [
        Case((hand_x, hand_w), label="4×4 by hand"),
        Case((normal(1, 1, 5, 5), normal(1, 1, 3, 3), np.array([0.5])), {"padding": 1},
             label="same padding, bias"),
        Case((normal(2, 3, 6, 7), normal(4, 3, 3, 3), normal(4)), label="3 channels, 4 filters"),
        Case((normal(1, 2, 7, 7), normal(2, 2, 3, 3), normal(2)), {"stride": 2, "padding": 1},
             label="stride 2"),
        Case((normal(1, 1, 6, 6), normal(2, 1, 3, 3)), {"padding": 2}, label="padding 2"),
        Case((normal(2, 2, 5, 4), normal(3, 2, 1, 1), normal(3)), label="1×1 kernel"),
        Case((normal(1, 3, 9, 8), normal(2, 3, 3, 2), normal(2)), {"stride": 3, "padding": 2},
             label="stride 3, 3×2 kernel"),
    ]
    for _ in range(3):
        c, k = (int(v) for v in rng.integers(1, 4, size=2))
        kh, kw = (int(v) for v in rng.integers(1, 4, size=2))
        h, w_ = (int(v) for v in rng.integers(4, 9, size=2))
        cases.append(Case((normal(int(rng.integers(1, 3)), c, h, w_), normal(k, c, kh, kw),
                           normal(k)),
                          {"stride": int(rng.integers(1, 3)), "padding": int(rng.integers(0, 3))}))
    return cases


def _flipped(x, w, b=None, stride=1, padding=0):
    return conv2d_naive(x, w[:, :, ::-1, ::-1], b, stride=stride, padding=padding)


def _padding_total(x, w, b=None, stride=1, padding=0):
    return conv2d_naive(x, w, b, stride=stride, padding=padding // 2)


def _no_bias(x, w, b=None, stride=1, padding=0):
    return conv2d_naive(x, w, None, stride=stride, padding=padding)


def _stride_ignored(x, w, b=None, stride=1, padding=0):
    return conv2d_naive(x, w, b, stride=1, padding=padding)


def _start_not_strided(x, w, b=None, stride=1, padding=0):
    """The right output size, but the window of output (i, j) starts at (i, j), not (i·s, j·s)."""
    h, w_out = conv2d_loops(x, w, b, stride=stride, padding=padding).shape[2:]
    return conv2d_naive(x, w, b, stride=1, padding=padding)[:, :, :h, :w_out]


def _one_short(x, w, b=None, stride=1, padding=0):
    return conv2d_naive(x, w, b, stride=stride, padding=padding)[:, :, :-1, :-1]


def _first_channel(x, w, b=None, stride=1, padding=0):
    return conv2d_naive(x[:, :1], w[:, :1], b, stride=stride, padding=padding)


CONV2D_LOOPS = Exercise(
    number="2.2", title="Convolution with loops", reference=conv2d_loops,
    cases=_conv_cases, shape_hint="(N, K, (H + 2p - kh) // s + 1, (W + 2p - kw) // s + 1)",
    mistakes=[
        Mistake("you flipped the kernel (that is convolution in the signal-processing sense); "
                "deep-learning 'convolution' is cross-correlation: multiply "
                "x_pad[i·s + u, j·s + v] by w[u, v] without flipping.", _flipped),
        Mistake("you treated `padding` as the total; it is PER SIDE: add `padding` zeros at the "
                "top AND the bottom (and left and right), e.g. `np.pad(x, ((0, 0), (0, 0), "
                "(p, p), (p, p)))`.", _padding_total),
        Mistake("the bias is missing: add b[k] to every output pixel of filter k (when b is "
                "not None).", _no_bias),
        Mistake("your window of output (i, j) starts at row i, column j; with a stride it starts "
                "at row i·stride, column j·stride: `x_pad[:, :, i*s:i*s+kh, j*s:j*s+kw]`.",
                _start_not_strided),
        Mistake("you ignored the stride: output pixel (i, j) starts at row i·stride, column "
                "j·stride, and H' = (H + 2p − kh) // stride + 1.", _stride_ignored),
        Mistake("your output is one row and one column too small: there are "
                "(H + 2p − kh) // s + 1 window positions — loop over range(H_out) with that "
                "H_out (the + 1 matters).", _one_short),
        Mistake("only the first input channel is used: a filter spans ALL C input channels, so "
                "sum the products over c as well as over the kernel rows and columns.",
                _first_channel),
    ],
    time_limit=20.0,
)
check_conv2d_loops = checker(CONV2D_LOOPS, "check_conv2d_loops")


# --------------------------------------------------------------------------- 2.3 an edge filter

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
    number="2.3", title="A filter for diagonal edges", reference=diagonal_edge_filter,
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


EXERCISES = [OUTPUT_SIZE, CONV2D_LOOPS, EDGE_FILTER]
