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
    check_conv_volume,
    check_mean_aware_score,
    run_check,
)
from helpers.experiments.learned_filters import orientation_coherence
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
    for case in ch04.VOLUME.make_cases():
        x, w, b = case.args
        want = torch.nn.functional.conv2d(*map(torch.from_numpy, (x[None], w, b)))[0].numpy()
        np.testing.assert_allclose(ch04.conv_volume(x, w, b), want, atol=1e-12)


def test_mean_aware_score_by_hand():
    edge = np.tile(np.arange(5.0) - 2.0, (5, 1))          # zero mean, perfectly oriented
    tilted = edge + 10.0                                    # same gradient, mostly mean
    scores = ch04.mean_aware_score(np.stack([edge, tilted])[:, None])
    assert scores[0] == pytest.approx(1.0)
    assert scores[1] == pytest.approx(1 - 25 * 100 / ((edge + 10) ** 2).sum())
    red_minus_green = np.stack([np.ones((3, 3)), -np.ones((3, 3)), np.zeros((3, 3))])
    assert ch04.mean_aware_score(red_minus_green[None])[0] == 0.0    # no gradient at all


# --------------------------------------------------------------------------- 4.1 mutants

def _loops(x, w, b, taps=lambda f, c: (f, c), channels=None, reduce=sum, flip=False, bias=True):
    """A learner's four nested loops; the keyword arguments inject one mistake each."""
    k, c_in, kh, kw = w.shape
    _, h, wd = x.shape
    out = np.zeros((k, h - kh + 1, wd - kw + 1))
    for f in range(k):
        for i in range(h - kh + 1):
            for j in range(wd - kw + 1):
                terms = []
                for c in (range(c_in) if channels is None else channels):
                    kernel = w[taps(f, c)]
                    if flip:
                        kernel = kernel[::-1, ::-1]
                    terms.append((kernel * x[c, i:i + kh, j:j + kw]).sum())
                out[f, i, j] = reduce(terms) + (b[f] if bias else 0.0)
    return out


def loops_right(x, w, b):
    return _loops(x, w, b)


def channel_mean_loops(x, w, b):
    return _loops(x, w, b, reduce=np.mean)


def first_channel_only(x, w, b):
    return _loops(x, w, b, channels=[0])


def flipped_kernel(x, w, b):
    return _loops(x, w, b, flip=True)


def bias_forgotten(x, w, b):
    return _loops(x, w, b, bias=False)


def filter_zero_everywhere(x, w, b):
    return _loops(x, w, b, taps=lambda f, c: (0, c))


def swapped_filter_axes(x, w, b):          # w read as (C, K, kh, kw): fails when K != C
    return _loops(x, w, b, taps=lambda f, c: (c, f))


def one_too_small(x, w, b):
    return loops_right(x, w, b)[:, :-1, :-1]


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

def plain_coherence(w):
    return orientation_coherence(w)


def coherence_of_zero_mean(w):
    return orientation_coherence(w - w.mean(axis=(1, 2, 3), keepdims=True))


def times_dc_share(w):
    mean = w.mean(axis=(1, 2, 3))
    dc = w[0].size * mean ** 2 / (w ** 2).sum(axis=(1, 2, 3))
    return orientation_coherence(w) * dc


def only_one_minus_dc(w):
    mean = w.mean(axis=(1, 2, 3))
    return 1 - w[0].size * mean ** 2 / (w ** 2).sum(axis=(1, 2, 3))


def without_n(w):
    mean = w.mean(axis=(1, 2, 3))
    return orientation_coherence(w) * (1 - mean ** 2 / (w ** 2).sum(axis=(1, 2, 3)))


def absolute_mean(w):
    mean = np.abs(w).mean(axis=(1, 2, 3))
    return orientation_coherence(w) * (1 - w[0].size * mean ** 2 / (w ** 2).sum(axis=(1, 2, 3)))


def channel_means(w):
    centred = w - w.mean(axis=(2, 3), keepdims=True)
    share = 1 - (centred ** 2).sum(axis=(1, 2, 3)) / (w ** 2).sum(axis=(1, 2, 3))
    return orientation_coherence(w) * (1 - share)


def float32_score(w):
    return ch04.mean_aware_score(w).astype(np.float32)


MUTANTS = [
    ("4.1", channel_mean_loops, "wrong", "you averaged over the input channels"),
    ("4.1", first_channel_only, "wrong", "only input channel 0"),
    ("4.1", flipped_kernel, "wrong", "you flipped the kernel"),
    ("4.1", bias_forgotten, "wrong", "the bias is missing"),
    ("4.1", filter_zero_everywhere, "wrong", "every output map used filter 0"),
    ("4.1", swapped_filter_axes, "error", "raised IndexError"),
    ("4.1", one_too_small, "wrong", "expected shape (2, 3, 4) = (K, H - kh + 1, W - kw + 1)"),
    ("4.2", no_bias, "wrong", "the biases are missing"),
    ("4.2", no_channels, "wrong", "you ignored the input channels"),
    ("4.2", channels_not_chained, "wrong", "first layer's input channels for every layer"),
    ("4.2", kernel_not_squared, "wrong", "square the kernel size"),
    ("4.2", bias_per_layer, "wrong", "one bias per layer"),
    ("4.2", float_total, "bad_type", "expected an int"),
    ("4.3", plain_coherence, "wrong", "your score equals the plain coherence"),
    ("4.3", coherence_of_zero_mean, "wrong", "Subtracting the mean first changes no gradient"),
    ("4.3", times_dc_share, "wrong", "multiplied by the DC share itself"),
    ("4.3", only_one_minus_dc, "wrong", "ignores the direction"),
    ("4.3", without_n, "wrong", "missing the factor n"),
    ("4.3", absolute_mean, "wrong", "mean of |w|"),
    ("4.3", channel_means, "wrong", "mean over ALL its weights"),
    ("4.3", float32_score, "bad_type", "dtype float32; expected float64"),
]


# ----------------------------------------------------------------------- more mutants (issue 28)

def kernel_height_for_width(x, w, b):
    k, c, kh, _ = w.shape
    _, h, wd = x.shape
    out = np.zeros((k, h - kh + 1, wd - kh + 1))
    for f in range(k):
        for i in range(h - kh + 1):
            for j in range(wd - kh + 1):
                out[f, i, j] = (w[f] * x[:, i:i + kh, j:j + kh]).sum() + b[f]
    return out


def next_channels_first(in_channels, layers):
    total = 0
    for out_channels, kernel_size in layers:
        channels = out_channels
        total += out_channels * (kernel_size * kernel_size * channels + 1)
    return total


def bias_per_input_channel(in_channels, layers):
    total, channels = 0, in_channels
    for out_channels, kernel_size in layers:
        total += out_channels * kernel_size * kernel_size * channels + channels
        channels = out_channels
    return total


def share_counted_twice(w):
    from helpers.experiments.learned_filters import orientation_coherence
    w = np.asarray(w, dtype=np.float64)
    n = w[0].size
    share = n * n * w.mean(axis=(1, 2, 3)) ** 2 / (w ** 2).sum(axis=(1, 2, 3))
    return orientation_coherence(w) * (1 - share)


MUTANTS += [
    ("4.1", kernel_height_for_width, "error", "could not be broadcast"),
    ("4.2", next_channels_first, "wrong", "wrong result"),
    ("4.2", bias_per_input_channel, "wrong", "wrong result"),
    ("4.3", share_counted_twice, "wrong", "a score must lie in [0, 1]"),
]


(test_mutant_is_rejected_with_the_right_diagnosis,
 test_each_exercise_has_at_least_five_diagnosed_mutants) = mutant_tests(CHECKERS, MUTANTS)


def test_other_right_answers_pass():
    assert run_check(ch04.VOLUME, loops_right).passed

    def with_einsum(x, w, b):
        kh, kw = w.shape[2:]
        windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))
        return np.einsum("fcuv,cijuv->fij", w, windows) + b[:, None, None]

    assert run_check(ch04.VOLUME, with_einsum).passed

    def score_from_centred_energy(w):
        centred = w - w.mean(axis=(1, 2, 3), keepdims=True)
        share_kept = (centred ** 2).sum(axis=(1, 2, 3)) / (w ** 2).sum(axis=(1, 2, 3))
        return orientation_coherence(w) * share_kept

    assert run_check(ch04.SCORE, score_from_centred_energy).passed


def test_broken_learner_code_is_handled(capsys):
    def forgot_return(in_channels, layers):
        sum(k * (kk * kk * in_channels + 1) for k, kk in layers)

    verdict = run_check(ch04.STACK_PARAMETERS, forgot_return)
    assert verdict.status == "bad_type" and "forget `return`" in verdict.message

    def stub(x, w, b):
        raise NotImplementedError("Exercise 4.1: A convolution over a volume")

    assert hands_back_reference(check_conv_volume(stub), check_conv_volume.exercise)
    assert capsys.readouterr().out.startswith("⏳ Exercise 4.1 is not implemented yet")
    assert hands_back_reference(check_mean_aware_score(lambda w: 1 / 0), ch04.SCORE)
    assert "raised ZeroDivisionError" in capsys.readouterr().out
