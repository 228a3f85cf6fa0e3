"""Chapter 4 exercises: references pass; typical learner mistakes get the right diagnosis.

The mutants are written the way a learner would write them, not as copies of the Mistake
functions in helpers/exercises/ch04.py, so each diagnosis is proven by behaviour.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers.exercises import (
    ch04,
    check_pointwise_conv,
    check_red_green_filter,
    run_check,
)
from tests.exercises.harness import checkers_of, hands_back_reference, mutant_tests

CHECKERS = checkers_of(chapter=4)


def test_references_agree_with_torch():
    for case in ch04.STACK_PARAMETERS.make_cases():
        in_channels, layers = case.args
        convs, c = [], in_channels
        for k_out, k in layers:
            convs.append(torch.nn.Conv2d(c, k_out, k, device="meta"))
            c = k_out
        assert ch04.conv_stack_parameters(*case.args) == sum(
            p.numel() for conv in convs for p in conv.parameters())
    for case in ch04.POINTWISE.make_cases():
        x, w, b = case.args
        want = torch.nn.functional.conv2d(*map(torch.from_numpy, (x, w, b))).numpy()
        np.testing.assert_allclose(ch04.pointwise_conv(x, w, b), want, atol=1e-12)


def test_colour_responses_of_the_reference():
    r = ch04.colour_responses(ch04.red_green_filter())
    assert r["red"] == pytest.approx(1.0) and r["green"] == pytest.approx(-1.0)
    assert r["blue"] == 0.0 and r["grey"] == pytest.approx(0.0)


# --------------------------------------------------------------------------- 4.1 mutants

def centre_taps():                   # a different right answer: only the centre pixel
    w = np.zeros((3, 3, 3))
    w[0, 1, 1], w[1, 1, 1] = 2.0, -2.0
    return w


def green_minus_red():
    w = np.zeros((3, 3, 3))
    w[0], w[1] = -1.0, 1.0
    return w


def channels_last():
    w = np.zeros((3, 3, 3))
    w[:, :, 0], w[:, :, 1] = 1.0, -1.0
    return w


def red_only():
    w = np.zeros((3, 3, 3))
    w[0] = 1.0
    return w


def red_minus_cyan():
    w = np.zeros((3, 3, 3))
    w[0], w[1], w[2] = 1.0, -0.5, -0.5
    return w


def all_zero():
    return np.zeros((3, 3, 3))


def batch_of_one():
    return centre_taps()[None]


def as_torch():
    return torch.from_numpy(centre_taps())


# --------------------------------------------------------------------------- 4.2 mutants

def no_bias(in_channels, layers):
    total, c = 0, in_channels
    for k_out, k in layers:
        total += k_out * k * k * c
        c = k_out
    return total


def no_channels(in_channels, layers):
    return sum(k_out * (k * k + 1) for k_out, k in layers)


def channels_not_chained(in_channels, layers):
    return sum(k_out * (k * k * in_channels + 1) for k_out, k in layers)


def kernel_not_squared(in_channels, layers):
    total, c = 0, in_channels
    for k_out, k in layers:
        total += k_out * (k * c + 1)
        c = k_out
    return total


def bias_per_layer(in_channels, layers):
    total, c = 0, in_channels
    for k_out, k in layers:
        total += k_out * k * k * c + 1
        c = k_out
    return total


def float_total(in_channels, layers):
    return float(ch04.conv_stack_parameters(in_channels, layers))


# --------------------------------------------------------------------------- 4.3 mutants

def forgot_to_move_channels_back(x, w, b):
    out = x.transpose(0, 2, 3, 1) @ w[:, :, 0, 0].T + b
    return out


def without_bias(x, w, b):
    n, c, h, wd = x.shape
    out = w[:, :, 0, 0] @ x.reshape(n, c, h * wd)
    return out.reshape(n, -1, h, wd)


def reshape_only(x, w, b):
    n, c, h, wd = x.shape
    pixels = x.reshape(-1, c)
    return (pixels @ w[:, :, 0, 0].T + b).reshape(n, -1, h, wd)


def channel_mean(x, w, b):
    out = np.einsum("kc,nchw->nkhw", w[:, :, 0, 0], x) / x.shape[1]
    return out + b[None, :, None, None]


def float32_result(x, w, b):
    return ch04.pointwise_conv(x, w, b).astype(np.float32)


def weight_transposed(x, w, b):
    return np.einsum("ck,nchw->nkhw", w[:, :, 0, 0], x) + b[None, :, None, None]


MUTANTS = [
    ("4.1", green_minus_red, "wrong", "colours the wrong way round"),
    ("4.1", channels_last, "wrong", "channel axis must come FIRST"),
    ("4.1", red_only, "wrong", "responds to brightness"),
    ("4.1", red_minus_cyan, "wrong", "uses the blue channel"),
    ("4.1", all_zero, "wrong", "responds to no uniform colour at all"),
    ("4.1", batch_of_one, "wrong", "drop the leading 1"),
    ("4.2", no_bias, "wrong", "the biases are missing"),
    ("4.2", no_channels, "wrong", "you ignored the input channels"),
    ("4.2", channels_not_chained, "wrong", "first layer's input channels for every layer"),
    ("4.2", kernel_not_squared, "wrong", "square the kernel size"),
    ("4.2", bias_per_layer, "wrong", "one bias per layer"),
    ("4.2", float_total, "bad_type", "expected an int"),
    ("4.3", forgot_to_move_channels_back, "wrong", "channels LAST"),
    ("4.3", without_bias, "wrong", "the bias is missing"),
    ("4.3", reshape_only, "wrong", "mixes pixels and channels"),
    ("4.3", channel_mean, "wrong", "you averaged over the input channels"),
    ("4.3", float32_result, "bad_type", "dtype float32; expected float64"),
    ("4.3", weight_transposed, "error", "raised ValueError"),
]


(test_mutant_is_rejected_with_the_right_diagnosis,
 test_each_exercise_has_at_least_five_diagnosed_mutants) = mutant_tests(CHECKERS, MUTANTS)


def test_other_right_answers_pass():
    assert run_check(ch04.RED_GREEN, centre_taps).passed
    assert run_check(ch04.RED_GREEN, as_torch).passed

    def with_einsum(x, w, b):
        return np.einsum("kc,nchw->nkhw", w[:, :, 0, 0], x) + b[None, :, None, None]

    assert run_check(ch04.POINTWISE, with_einsum).passed


def test_broken_learner_code_is_handled(capsys):
    def forgot_return(in_channels, layers):
        sum(k * (kk * kk * in_channels + 1) for k, kk in layers)

    verdict = run_check(ch04.STACK_PARAMETERS, forgot_return)
    assert verdict.status == "bad_type" and "forget `return`" in verdict.message

    def stub(x, w, b):
        raise NotImplementedError("Exercise 4.3: A 1×1 convolution as a matrix product")

    assert hands_back_reference(check_pointwise_conv(stub), check_pointwise_conv.exercise)
    assert capsys.readouterr().out.startswith("⏳ Exercise 4.3 is not implemented yet")
    assert run_check(ch04.RED_GREEN, lambda: "red").status == "wrong"
    assert hands_back_reference(check_red_green_filter(lambda: 1 / 0), ch04.RED_GREEN)
    assert "raised ZeroDivisionError" in capsys.readouterr().out


