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
    assert conv(torch.zeros(1, 1, 256, 256)).shape[-1] == ch02.output_size(256, 3, 2, 1) == 128
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

def padding_once(n, kernel_size, stride=1, padding=0):
    return (n + padding - kernel_size) // stride + 1


def no_plus_one(n, kernel_size, stride=1, padding=0):
    return (n + 2 * padding - kernel_size) // stride


def rounds_up(n, kernel_size, stride=1, padding=0):
    import math
    return math.ceil((n + 2 * padding - kernel_size) / stride) + 1


def stride_ignored(n, kernel_size, stride=1, padding=0):
    return n + 2 * padding - kernel_size + 1


def divides_too_much(n, kernel_size, stride=1, padding=0):
    return (n + 2 * padding - kernel_size + 1) // stride


def true_division(n, kernel_size, stride=1, padding=0):
    return (n + 2 * padding - kernel_size) / stride + 1


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
    ("2.1", padding_once, "wrong", "padding` once"),
    ("2.1", no_plus_one, "wrong", "you forgot the + 1"),
    ("2.1", rounds_up, "wrong", "you rounded up"),
    ("2.1", stride_ignored, "wrong", "you ignored the stride"),
    ("2.1", divides_too_much, "wrong", "divide only the free room"),
    ("2.1", true_division, "bad_type", "use `//` instead of `/`"),
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

def ceil_n_over_stride(n, kernel_size, stride=1, padding=0):
    return -(-n // stride)


def stride_divides_n_only(n, kernel_size, stride=1, padding=0):
    return n // stride + 2 * padding - kernel_size + 1


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


(test_mutant_is_rejected_with_the_right_diagnosis,
 test_each_exercise_has_at_least_five_diagnosed_mutants) = mutant_tests(CHECKERS, MUTANTS)


def test_a_different_but_correct_edge_filter_passes():
    assert run_check(ch02.EDGE_FILTER, scaled_answer).passed


def test_edge_responses_of_the_reference():
    r = ch02.edge_responses(ch02.diagonal_edge_filter())
    assert r["down-right"] == 4.0 and r["down"] == r["right"] == 3.0 and r["flat"] == 0.0
    assert max(r[d] for d in ("up", "left", "up-left", "up-right", "down-left")) == 0.0


def test_broken_learner_code_is_handled(capsys):
    def returns_none(n, kernel_size, stride=1, padding=0):
        (n + 2 * padding - kernel_size) // stride + 1

    verdict = run_check(ch02.OUTPUT_SIZE, returns_none)
    assert verdict.status == "bad_type" and "forget `return`" in verdict.message

    def stub():
        raise NotImplementedError("Exercise 2.4: A filter for diagonal edges")

    assert hands_back_reference(check_diagonal_edge_filter(stub), ch02.EDGE_FILTER)
    assert capsys.readouterr().out.startswith("⏳ Exercise 2.4 is not implemented yet")
    assert run_check(ch02.EDGE_FILTER, lambda: "diagonal").status == "wrong"


