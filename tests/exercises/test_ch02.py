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
    for case in ch02.CONV2D_LOOPS.make_cases():
        x, w, *rest = case.args
        b = rest[0] if rest else None
        want = F.conv2d(torch.from_numpy(x), torch.from_numpy(w),
                        None if b is None else torch.from_numpy(b), **case.kwargs).numpy()
        np.testing.assert_allclose(ch02.conv2d_loops(x, w, b, **case.kwargs), want, atol=1e-10)


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

def _loops(x, w, b, stride, pad_per_side, flip=False, out_minus=0, channels=None,
           start_stride=None):
    """A learner's loop implementation with switches for typical slips."""
    n_img, c_in, height, width = x.shape
    k_out, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad_per_side, pad_per_side), (pad_per_side, pad_per_side)))
    out_h = (height + 2 * pad_per_side - kh) // stride + 1 - out_minus
    out_w = (width + 2 * pad_per_side - kw) // stride + 1 - out_minus
    kernel = w[:, :, ::-1, ::-1] if flip else w
    s = stride if start_stride is None else start_stride     # where window (i, j) starts: i·s
    out = np.zeros((n_img, k_out, out_h, out_w))
    for n in range(n_img):
        for k in range(k_out):
            for i in range(out_h):
                for j in range(out_w):
                    patch = xp[n, :channels, i * s:i * s + kh, j * s:j * s + kw]
                    out[n, k, i, j] = (patch * kernel[k, :channels]).sum()
                    if b is not None:
                        out[n, k, i, j] += b[k]
    return out


def kernel_flipped(x, w, b=None, stride=1, padding=0):
    return _loops(x, w, b, stride, padding, flip=True)


def padding_as_total(x, w, b=None, stride=1, padding=0):
    return _loops(x, w, b, stride, padding // 2)


def bias_missing(x, w, b=None, stride=1, padding=0):
    return _loops(x, w, None, stride, padding)


def conv_stride_ignored(x, w, b=None, stride=1, padding=0):
    return _loops(x, w, b, 1, padding)


def window_start_not_strided(x, w, b=None, stride=1, padding=0):
    return _loops(x, w, b, stride, padding, start_stride=1)


def off_by_one_size(x, w, b=None, stride=1, padding=0):
    return _loops(x, w, b, stride, padding, out_minus=1)


def first_channel_only(x, w, b=None, stride=1, padding=0):
    return _loops(x, w, b, stride, padding, channels=1)


def float32_output(x, w, b=None, stride=1, padding=0):
    return _loops(x, w, b, stride, padding).astype(np.float32)


def torch_output(x, w, b=None, stride=1, padding=0):
    return torch.from_numpy(_loops(x, w, b, stride, padding))


def pads_input_in_place(x, w, b=None, stride=1, padding=0):
    out = _loops(x, w, b, stride, padding)
    x[...] = 0.0
    return out


def bias_always(x, w, b=None, stride=1, padding=0):
    return _loops(x, w, b + 0, stride, padding)      # crashes when b is None


# --------------------------------------------------------------------------- 2.3 mutants

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
    ("2.2", kernel_flipped, "wrong", "you flipped the kernel"),
    ("2.2", padding_as_total, "wrong", "`padding` as the total"),
    ("2.2", bias_missing, "wrong", "the bias is missing"),
    ("2.2", conv_stride_ignored, "wrong", "you ignored the stride"),
    ("2.2", window_start_not_strided, "wrong", "starts at row i, column j"),
    ("2.2", off_by_one_size, "wrong", "one row and one column too small"),
    ("2.2", first_channel_only, "wrong", "only the first input channel"),
    ("2.2", float32_output, "bad_type", "dtype float32; expected float64"),
    ("2.2", torch_output, "bad_type", "returned a torch tensor; expected a NumPy array"),
    ("2.2", pads_input_in_place, "wrong", "values match, but you changed `x` in place"),
    ("2.2", bias_always, "error", "raised TypeError"),
    ("2.3", bright_top_left, "wrong", "signs the wrong way round"),
    ("2.3", other_diagonal, "wrong", "finds the other diagonal"),
    ("2.3", all_positive, "wrong", "do not sum to 0"),
    ("2.3", sobel_horizontal, "wrong", "horizontal-edge filter"),
    ("2.3", sobel_vertical, "wrong", "vertical-edge filter"),
    ("2.3", corners_only, "wrong", "equally strongly to several edge directions"),
    ("2.3", five_by_five, "wrong", "expected a 3×3 kernel, got shape (5, 5)"),
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
        raise NotImplementedError("Exercise 2.3: A filter for diagonal edges")

    assert hands_back_reference(check_diagonal_edge_filter(stub), ch02.EDGE_FILTER)
    assert capsys.readouterr().out.startswith("⏳ Exercise 2.3 is not implemented yet")
    assert run_check(ch02.EDGE_FILTER, lambda: "diagonal").status == "wrong"


