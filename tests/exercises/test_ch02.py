"""Chapter 2 exercises: references pass; typical learner mistakes get the right diagnosis.

The mutants are written the way a learner would write them (loops, slices, np.pad), not as
copies of the Mistake functions in helpers/exercises/ch02.py, so each diagnosis is proven by
behaviour.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from helpers.exercises import (
    ch02,
    check_diagonal_edge_filter,
    run_check,
)
from tests.exercises.harness import checkers_of, hands_back_reference, mutant_tests

CHECKERS = checkers_of(chapter=2)


def test_references_agree_with_torch():
    conv = torch.nn.Conv2d(1, 1, 3, stride=2, padding=1)
    assert conv(torch.zeros(1, 1, 256, 200)).shape[-2:] == ch02.output_size(256, 200, 3, 2, 1) \
        == (128, 100)
    cases = ch02.OUTPUT_SIZE.make_cases()
    for case in cases:
        height, width, kernel_size = case.args
        x = torch.empty(1, 1, height, width, device="meta")
        w = torch.empty(1, 1, *ch02._pair(kernel_size), device="meta")
        assert tuple(F.conv2d(x, w, **case.kwargs).shape[2:]) == ch02.output_size(*case.args,
                                                                                 **case.kwargs)
    # the cases vary every setting per axis, with dilation, and where floor and ceil differ
    settings = [dict(zip(("kernel_size", "stride", "padding", "dilation"),
                         (case.args[2], *(case.kwargs.get(k, d) for k, d in
                                         (("stride", 1), ("padding", 0), ("dilation", 1))))))
                for case in cases]
    for name in ("kernel_size", "stride", "padding", "dilation"):
        assert any(ch02._pair(s[name])[0] != ch02._pair(s[name])[1] for s in settings), name
    assert any(case.args[0] != case.args[1] for case in cases)
    want = F.conv2d(torch.tensor(ch02.EXAMPLE_X, dtype=torch.float64)[None],
                    torch.tensor(ch02.EXAMPLE_W, dtype=torch.float64))[0].numpy()
    np.testing.assert_array_equal(ch02.multichannel_by_hand(), want)
    for case in ch02.IM2COL.make_cases():
        x, w, *rest = case.args
        b = rest[0] if rest else None
        want = F.conv2d(x, w, b, **case.kwargs)
        torch.testing.assert_close(ch02.conv2d_im2col(x, w, b, **case.kwargs), want)
        torch.testing.assert_close(im2col_right(x, w, b, **case.kwargs), want)


def test_right_answers_in_other_forms_pass():
    assert run_check(ch02.BY_HAND, by_hand_list).passed
    assert run_check(ch02.IM2COL, im2col_right).passed


# --------------------------------------------------------------------------- 2.1 mutants

def _settings(kernel_size, stride, padding, dilation):
    """Each setting as (rows, columns), as a learner would unpack it."""
    return [v if isinstance(v, tuple) else (v, v) for v in (kernel_size, stride, padding,
                                                           dilation)]


def dilation_ignored(height, width, kernel_size, stride=1, padding=0, dilation=1):
    k, s, p, _ = _settings(kernel_size, stride, padding, dilation)
    return tuple((n + 2 * p[a] - k[a]) // s[a] + 1 for a, n in enumerate((height, width)))


def span_d_times_k(height, width, kernel_size, stride=1, padding=0, dilation=1):
    k, s, p, d = _settings(kernel_size, stride, padding, dilation)
    span = [d[a] * k[a] for a in range(2)]
    return tuple((n + 2 * p[a] - span[a]) // s[a] + 1 for a, n in enumerate((height, width)))


def span_without_plus_one(height, width, kernel_size, stride=1, padding=0, dilation=1):
    k, s, p, d = _settings(kernel_size, stride, padding, dilation)
    out = []
    for a, n in enumerate((height, width)):
        span = d[a] * (k[a] - 1)
        out.append((n + 2 * p[a] - span) // s[a] + 1)
    return tuple(out)


def one_gap_only(height, width, kernel_size, stride=1, padding=0, dilation=1):
    k, s, p, d = _settings(kernel_size, stride, padding, dilation)
    span = [k[a] + (d[a] - 1) for a in range(2)]
    return tuple((n + 2 * p[a] - span[a]) // s[a] + 1 for a, n in enumerate((height, width)))


def dilated_padding_once(height, width, kernel_size, stride=1, padding=0, dilation=1):
    k, s, p, d = _settings(kernel_size, stride, padding, dilation)
    return tuple((n + p[a] - d[a] * (k[a] - 1) - 1) // s[a] + 1
                 for a, n in enumerate((height, width)))


def chapter_count_over_stride(height, width, kernel_size, stride=1, padding=0, dilation=1):
    k, s, p, d = _settings(kernel_size, stride, padding, dilation)
    stride_one = [n + 2 * p[a] - d[a] * (k[a] - 1) for a, n in enumerate((height, width))]
    return stride_one[0] // s[0], stride_one[1] // s[1]


def dilated_rounds_up(height, width, kernel_size, stride=1, padding=0, dilation=1):
    import math
    k, s, p, d = _settings(kernel_size, stride, padding, dilation)
    return tuple(math.ceil((n + 2 * p[a] - d[a] * (k[a] - 1) - 1) / s[a]) + 1
                 for a, n in enumerate((height, width)))


def square_assumed(height, width, kernel_size, stride=1, padding=0, dilation=1):
    k, s, p, d = _settings(kernel_size, stride, padding, dilation)
    side = (height + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    return side, side


def first_entries_only(height, width, kernel_size, stride=1, padding=0, dilation=1):
    k, s, p, d = _settings(kernel_size, stride, padding, dilation)
    return tuple((n + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1 for n in (height, width))


def width_first(height, width, kernel_size, stride=1, padding=0, dilation=1):
    k, s, p, d = _settings(kernel_size, stride, padding, dilation)
    out_w = (width + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    out_h = (height + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    return out_w, out_h


def ints_only(height, width, kernel_size, stride=1, padding=0, dilation=1):
    span = dilation * (kernel_size - 1) + 1
    return tuple((n + 2 * padding - span) // stride + 1 for n in (height, width))


def returns_a_list(height, width, kernel_size, stride=1, padding=0, dilation=1):
    k, s, p, d = _settings(kernel_size, stride, padding, dilation)
    return [(n + 2 * p[a] - d[a] * (k[a] - 1) - 1) // s[a] + 1
            for a, n in enumerate((height, width))]


def true_division(height, width, kernel_size, stride=1, padding=0, dilation=1):
    k, s, p, d = _settings(kernel_size, stride, padding, dilation)
    return tuple((n + 2 * p[a] - d[a] * (k[a] - 1) - 1) / s[a] + 1
                 for a, n in enumerate((height, width)))


def by_running_a_layer(height, width, kernel_size, stride=1, padding=0, dilation=1):
    layer = torch.nn.Conv2d(1, 1, kernel_size, stride, padding, dilation, device="meta")
    return tuple(layer(torch.empty(1, 1, height, width, device="meta")).shape[2:])


def dilation_squared(height, width, kernel_size, stride=1, padding=0, dilation=1):
    k, s, p, d = _settings(kernel_size, stride, padding, dilation)
    return tuple((n + 2 * p[a] - d[a] ** 2 * (k[a] - 1) - 1) // s[a] + 1
                 for a, n in enumerate((height, width)))


# --------------------------------------------------------------------------- 2.2 mutants
# The example: x[0] = [[2, 0, 1], [1, 3, 0], [0, 1, 2]], x[1] = [[1, 1, 0], [0, 2, 1], [3, 0, 1]];
# w[0] = ([[1, 0], [0, -1]], [[0, 1], [1, 0]]), w[1] = ([[1, 1], [0, 0]], [[0, 0], [-1, 1]]).
# Right answer: y[0] = [[0, 2], [5, 2]], y[1] = [[4, 0], [1, 4]].

def by_hand_channel_0_only():       # x[0] ⊙ w[f, 0] only
    return np.array([[[-1, 0], [0, 1]], [[2, 1], [4, 3]]], dtype=float)


def by_hand_depthwise():            # filter 0 on channel 0, filter 1 on channel 1
    return np.array([[[-1, 0], [0, 1]], [[2, -1], [-3, 1]]], dtype=float)


def by_hand_filters_swapped():
    return np.array([[[4, 0], [1, 4]], [[0, 2], [5, 2]]])


def by_hand_flipped():              # w[f, c] turned round before sliding
    return np.array([[[2, 2], [5, 0]], [[4, 4], [-1, 4]]], dtype=float)


def by_hand_channel_1_only():       # x[1] ⊙ w[f, 1] only
    return np.array([[[1, 2], [5, 1]], [[2, -1], [-3, 1]]], dtype=float)


def by_hand_slices_crossed():       # w[f, 0] slid over x[1], w[f, 1] over x[0]
    return np.array([[[0, 4], [3, 2]], [[4, -2], [3, 4]]], dtype=float)


def by_hand_list():                 # right numbers, but a list of lists: accepted
    return [[[0, 2], [5, 2]], [[4, 0], [1, 4]]]


def by_hand_one_slip():
    return np.array([[[0, 2], [5, 2]], [[4, 0], [1, 5]]], dtype=float)


def by_hand_flat():
    return np.array([0, 2, 5, 2, 4, 0, 1, 4], dtype=float)


def by_hand_tensor():
    return torch.tensor([[[0.0, 2], [5, 2]], [[4, 0], [1, 4]]])


# --------------------------------------------------------------------------- 2.3 mutants

def _im2col_loops(x, w, b=None, stride=1, padding=0, *, window_order="cuv", rows="ij",
                  start=None, pad=None, flip=False, transpose_back=True, bias=True):
    """A learner's im2col: loops over output pixels, one matrix multiply, with switches."""
    n, c, height, width = x.shape
    k, _, kh, kw = w.shape
    p = padding if pad is None else pad
    xp = F.pad(x, (p, p, p, p))
    oh = (height + 2 * padding - kh) // stride + 1
    ow = (width + 2 * padding - kw) // stride + 1
    s = stride if start is None else start
    order = [(i, j) for i in range(oh) for j in range(ow)] if rows == "ij" else \
        [(i, j) for j in range(ow) for i in range(oh)]
    patches = []
    for i, j in order:
        window = xp[:, :, i * s:i * s + kh, j * s:j * s + kw]            # (N, C, kh, kw)
        if window.shape[2:] != (kh, kw):
            window = F.pad(window, (0, kw - window.shape[3], 0, kh - window.shape[2]))
        if window_order == "uvc":
            window = window.permute(0, 2, 3, 1)
        patches.append(window.reshape(n, -1))
    cols = torch.stack(patches, dim=1)                                   # (N, H' W', C kh kw)
    filters = (w.flip(-2, -1) if flip else w).reshape(k, -1)
    out = cols @ filters.T                                               # (N, H' W', K)
    if b is not None and bias:
        out = out + b
    if transpose_back:
        out = out.transpose(1, 2)
    return out.reshape(n, k, oh, ow)


def im2col_right(x, w, b=None, stride=1, padding=0):
    return _im2col_loops(x, w, b, stride, padding)


def im2col_channels_last(x, w, b=None, stride=1, padding=0):
    return _im2col_loops(x, w, b, stride, padding, window_order="uvc")


def im2col_reshape_only(x, w, b=None, stride=1, padding=0):
    return _im2col_loops(x, w, b, stride, padding, transpose_back=False)


def im2col_columns_first(x, w, b=None, stride=1, padding=0):
    return _im2col_loops(x, w, b, stride, padding, rows="ji")


def im2col_flipped(x, w, b=None, stride=1, padding=0):
    return _im2col_loops(x, w, b, stride, padding, flip=True)


def im2col_unpadded(x, w, b=None, stride=1, padding=0):
    return _im2col_loops(x, w, b, stride, padding, pad=0)


def im2col_unstrided_start(x, w, b=None, stride=1, padding=0):
    return _im2col_loops(x, w, b, stride, padding, start=1)


def im2col_no_bias(x, w, b=None, stride=1, padding=0):
    return _im2col_loops(x, w, b, stride, padding, bias=False)


def im2col_filters_not_transposed(x, w, b=None, stride=1, padding=0):
    cols = F.unfold(x, w.shape[2:], padding=padding, stride=stride).transpose(1, 2)
    return cols @ w.reshape(w.shape[0], -1)                              # shape error


def im2col_numpy(x, w, b=None, stride=1, padding=0):
    return _im2col_loops(x, w, b, stride, padding).numpy()


def im2col_float32(x, w, b=None, stride=1, padding=0):
    return _im2col_loops(x.float(), w.float(), None if b is None else b.float(), stride, padding)


# --------------------------------------------------------------------------- 2.4 mutants

def bright_top_left():
    return np.array([[2.0, 1.0, 0.0], [1.0, 0.0, -1.0], [0.0, -1.0, -2.0]])


def other_diagonal():
    return np.array([[0, -1, -2], [1, 0, -1], [2, 1, 0]])


def all_positive():
    return np.array([[0.0, 0.0, 0.0], [0.0, 1.0, 1.0], [0.0, 1.0, 1.0]])


def sobel_horizontal():
    return [[-1, -2, -1], [0, 0, 0], [1, 2, 1]]        # a list of lists is accepted


def sobel_vertical():
    return torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])


def corners_only():   # diagonal and zero-sum, but as strong on horizontal/vertical edges
    return np.array([[-1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 1.0]])


def scaled_answer():  # a different kernel with the right behaviour must pass
    return 0.5 * np.array([[-1.0, -1.0, 0.0], [-1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])


def five_by_five():
    return np.zeros((5, 5))


MUTANTS = [
    ("2.1", dilation_ignored, "wrong", "you ignored the dilation"),
    ("2.1", span_d_times_k, "wrong", "you took d·k as the dilated kernel's span"),
    ("2.1", span_without_plus_one, "wrong", "leaving out the first tap's own cell"),
    ("2.1", one_gap_only, "wrong", "one gap of d − 1 cells in all"),
    ("2.1", dilated_padding_once, "wrong", "padding` once"),
    ("2.1", chapter_count_over_stride, "wrong", "divided the stride-1 count"),
    ("2.1", dilated_rounds_up, "wrong", "you rounded up"),
    ("2.1", square_assumed, "wrong", "your width is computed from the height"),
    ("2.1", first_entries_only, "wrong", "first entry of every pair for both axes"),
    ("2.1", width_first, "wrong", "your two sizes are in the wrong order"),
    ("2.1", ints_only, "error", "TypeError"),
    ("2.1", returns_a_list, "bad_type", "returned a list; expected a tuple of 2"),
    ("2.1", true_division, "bad_type", "use `//` instead of `/`"),
    ("2.1", by_running_a_layer, "wrong", "without F.conv2d; your code calls it"),
    ("2.1", dilation_squared, "wrong", "wrong result"),
    ("2.2", by_hand_channel_0_only, "wrong", "only input channel 0"),
    ("2.2", by_hand_depthwise, "wrong", "filter f to input channel f only"),
    ("2.2", by_hand_filters_swapped, "wrong", "output maps are swapped"),
    ("2.2", by_hand_flipped, "wrong", "you flipped the kernels"),
    ("2.2", by_hand_channel_1_only, "wrong", "only input channel 1"),
    ("2.2", by_hand_slices_crossed, "wrong", "paired the slices with the wrong channels"),
    ("2.2", by_hand_one_slip, "wrong", "y[1, 1, 1] should be 4, you have 5"),
    ("2.2", by_hand_flat, "wrong", "expected shape (2, 2, 2)"),
    ("2.2", by_hand_tensor, "wrong", "returned Tensor; expected a NumPy array"),
    ("2.3", im2col_channels_last, "wrong", "not in the order of the flattened filters"),
    ("2.3", im2col_reshape_only, "wrong", "reshaping it straight to (N, K, H', W')"),
    ("2.3", im2col_columns_first, "wrong", "run down the columns of the output"),
    ("2.3", im2col_flipped, "wrong", "you flipped the kernel"),
    ("2.3", im2col_unpadded, "wrong", "cut from the unpadded input"),
    ("2.3", im2col_unstrided_start, "wrong", "starts at row i, column j"),
    ("2.3", im2col_no_bias, "wrong", "the bias is missing"),
    ("2.3", im2col_filters_not_transposed, "error", "RuntimeError"),
    ("2.3", im2col_numpy, "bad_type", "returned a NumPy array; expected a torch tensor"),
    ("2.3", im2col_float32, "bad_type", "dtype torch.float32; expected torch.float64"),
    ("2.4", bright_top_left, "wrong", "signs the wrong way round"),
    ("2.4", other_diagonal, "wrong", "finds the other diagonal"),
    ("2.4", all_positive, "wrong", "do not sum to 0"),
    ("2.4", sobel_horizontal, "wrong", "horizontal-edge filter"),
    ("2.4", sobel_vertical, "wrong", "vertical-edge filter"),
    ("2.4", corners_only, "wrong", "equally strongly to several edge directions"),
    ("2.4", five_by_five, "wrong", "expected a 3×3 kernel, got shape (5, 5)"),
]


# ----------------------------------------------------------------------- more mutants (issue 28)

def ceil_n_over_stride(height, width, kernel_size, stride=1, padding=0, dilation=1):
    s = stride if isinstance(stride, tuple) else (stride, stride)
    return -(-height // s[0]), -(-width // s[1])


def stride_divides_n_only(height, width, kernel_size, stride=1, padding=0, dilation=1):
    k, s, p, d = _settings(kernel_size, stride, padding, dilation)
    return tuple(n // s[a] + 2 * p[a] - d[a] * (k[a] - 1) for a, n in enumerate((height, width)))


def im2col_with_conv2d(x, w, b=None, stride=1, padding=0):
    return torch.nn.functional.conv2d(x, w, b, stride=stride, padding=padding)


def im2col_with_unfold(x, w, b=None, stride=1, padding=0):
    n, k = x.shape[0], w.shape[0]
    cols = torch.nn.functional.unfold(x, w.shape[2:], padding=padding, stride=stride)
    out = w.reshape(k, -1) @ cols
    if b is not None:
        out = out + b[:, None]
    oh = (x.shape[2] + 2 * padding - w.shape[2]) // stride + 1
    return out.reshape(n, k, oh, -1)


def im2col_height_for_width(x, w, b=None, stride=1, padding=0):
    n, _, height, _ = x.shape
    k, _, kh, _ = w.shape
    x_pad = torch.nn.functional.pad(x, (padding,) * 4)
    out_h = (height + 2 * padding - kh) // stride + 1
    rows = [x_pad[:, :, i * stride:i * stride + kh, j * stride:j * stride + kh].reshape(n, -1)
            for i in range(out_h) for j in range(out_h)]
    out = torch.stack(rows, dim=1) @ w.reshape(k, -1).T
    if b is not None:
        out = out + b
    return out.transpose(1, 2).reshape(n, k, out_h, out_h)


def absolute_values():
    return np.abs(np.array([[-2.0, -1.0, 0.0], [-1.0, 0.0, 1.0], [0.0, 1.0, 2.0]]))


MUTANTS += [
    ("2.1", ceil_n_over_stride, "wrong", "TensorFlow's 'same' padding"),
    ("2.1", stride_divides_n_only, "wrong", "wrong result"),
    ("2.3", im2col_with_conv2d, "wrong", "without F.conv2d; your code calls it"),
    ("2.3", im2col_with_unfold, "wrong", "without F.unfold; your code calls it"),
    ("2.3", im2col_height_for_width, "error", "RuntimeError"),
    ("2.4", absolute_values, "wrong", "do not sum to 0"),
]


# --------------------------------------------------------------------------- review findings (2.1)

def by_the_course_helper(height, width, kernel_size, stride=1, padding=0, dilation=1):
    from helpers.layers import conv_output_size
    pair = lambda v: v if isinstance(v, tuple) else (v, v)  # noqa: E731
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = map(pair, (kernel_size, stride, padding, dilation))
    return conv_output_size(height, kh, sh, ph, dh), conv_output_size(width, kw, sw, pw, dw)


def by_unfold(height, width, kernel_size, stride=1, padding=0, dilation=1):
    cols = F.unfold(torch.zeros(1, 1, height, width), kernel_size, dilation, padding, stride)
    pair = lambda v: v if isinstance(v, tuple) else (v, v)  # noqa: E731
    (kh, _), (sh, _), (ph, _), (dh, _) = map(pair, (kernel_size, stride, padding, dilation))
    rows = (height + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    return rows, cols.shape[-1] // rows


def padding_after_stride(height, width, kernel_size, stride=1, padding=0, dilation=1):
    pair = lambda v: v if isinstance(v, tuple) else (v, v)  # noqa: E731
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = map(pair, (kernel_size, stride, padding, dilation))
    return ((height - dh * (kh - 1) - 1) // sh + 1 + 2 * ph // sh,
            (width - dw * (kw - 1) - 1) // sw + 1 + 2 * pw // sw)


def numpy_integers(height, width, kernel_size, stride=1, padding=0, dilation=1):
    return tuple(np.int64(v) for v in ch02.output_size(height, width, kernel_size, stride,
                                                       padding, dilation))


def test_reference_is_the_helper_formula():
    from helpers.layers import conv_output_size
    for n, k, s, p, d in [(7, 3, 2, 0, 2), (64, 2, 1, 0, 8), (17, 4, 3, 0, 3), (30, 3, 2, 2, 2)]:
        assert ch02._right_count(n, k, s, p, d) == conv_output_size(n, k, s, p, d)


MUTANTS += [
    ("2.1", by_the_course_helper, "wrong", "without helpers.layers.conv_output_size"),
    ("2.1", by_unfold, "wrong", "without F.unfold"),
    ("2.1", padding_after_stride, "wrong", "you added the padding after dividing by the stride"),
    ("2.1", numpy_integers, "bad_type", "expected a Python int"),
]


(test_mutant_is_rejected_with_the_right_diagnosis,
 test_each_exercise_has_at_least_five_diagnosed_mutants) = mutant_tests(CHECKERS, MUTANTS)


def test_a_different_but_correct_edge_filter_passes():
    assert run_check(ch02.EDGE_FILTER, scaled_answer).passed


def test_edge_responses_of_the_reference():
    r = ch02.edge_responses(ch02.diagonal_edge_filter())
    assert r["down-right"] == 4.0 and r["down"] == r["right"] == 3.0 and r["flat"] == 0.0
    assert max(r[d] for d in ("up", "left", "up-left", "up-right", "down-left")) == 0.0


def test_broken_learner_code_is_handled(capsys):
    def returns_none(height, width, kernel_size, stride=1, padding=0, dilation=1):
        k, s, p, d = _settings(kernel_size, stride, padding, dilation)
        (height + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1, \
            (width + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1

    verdict = run_check(ch02.OUTPUT_SIZE, returns_none)
    assert verdict.status == "bad_type" and "forget `return`" in verdict.message

    def stub():
        raise NotImplementedError("Exercise 2.4: A filter for diagonal edges")

    assert hands_back_reference(check_diagonal_edge_filter(stub), ch02.EDGE_FILTER)
    assert capsys.readouterr().out.startswith("⏳ Exercise 2.4 is not implemented yet")
    assert run_check(ch02.EDGE_FILTER, lambda: "diagonal").status == "wrong"


