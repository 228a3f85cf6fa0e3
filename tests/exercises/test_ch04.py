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
    check_activation_counts,
    check_mean_aware_score,
    run_check,
)
from helpers.experiments.learned_filters import orientation_coherence
from tests.exercises.harness import (
    checkers_of,
    hands_back_reference,
    mutant_tests,
    named_mutants,
    with_slips,
)

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
    for case in ch04.ACTIVATIONS.make_cases():
        assert ch04.activation_counts(*case.args) == measured_counts(*case.args)


def measured_counts(input_shape, layers):
    """The stack built from torch modules on the meta device, its outputs' sizes recorded by
    forward hooks, as chapter 4 measures VGG-16."""
    modules, channels = [], input_shape[0]
    for kind, *settings in layers:
        if kind == "conv":
            modules.append(torch.nn.Conv2d(channels, settings[0], settings[1],
                                           padding=settings[2], device="meta"))
            channels = settings[0]
        elif kind == "pool":
            modules.append(torch.nn.MaxPool2d(settings[0]))
        else:
            if not any(isinstance(m, torch.nn.Flatten) for m in modules):
                modules.append(torch.nn.Flatten())
            modules.append(torch.nn.LazyLinear(settings[0], device="meta"))
    sizes = []
    for m in modules:
        if not isinstance(m, torch.nn.Flatten):
            m.register_forward_hook(lambda mod, inputs, out: sizes.append(out[0].numel()))
    torch.nn.Sequential(*modules)(torch.empty(1, *input_shape, device="meta"))
    return sizes


def test_the_cases_vary_what_the_mistakes_need():
    cases = ch04.ACTIVATIONS.make_cases()
    assert any(h != w for (_, h, w), _ in (c.args for c in cases))
    assert any(c > 1 for (c, _, _), _ in (case.args for case in cases))
    kinds = {layer[0] for case in cases for layer in case.args[1]}
    assert kinds == {"conv", "pool", "linear"}
    paddings = {layer[3] for case in cases for layer in case.args[1] if layer[0] == "conv"}
    assert {0, 1, 2} <= paddings


def test_mean_aware_score_by_hand():
    edge = np.tile(np.arange(5.0) - 2.0, (5, 1))          # zero mean, perfectly oriented
    tilted = edge + 10.0                                    # same gradient, mostly mean
    scores = ch04.mean_aware_score(np.stack([edge, tilted])[:, None])
    assert scores[0] == pytest.approx(1.0)
    assert scores[1] == pytest.approx(1 - 25 * 100 / ((edge + 10) ** 2).sum())
    red_minus_green = np.stack([np.ones((3, 3)), -np.ones((3, 3)), np.zeros((3, 3))])
    assert ch04.mean_aware_score(red_minus_green[None])[0] == 0.0    # no gradient at all


# --------------------------------------------------------------------------- 4.1 mutants

def _walk(input_shape, layers, *, pad_sides=2, keep_size=False, pool_shrinks=True,
          pool_ceil=False, channels=True, conv_channels="out", square=False,
          pool_channels=False, trimmed=lambda k: k - 1):
    """A learner's loop over the layers, keeping (C, H, W); keywords inject one slip each."""
    c, h, w = input_shape
    if square:
        w = h
    counts, flat = [], None
    for layer in layers:
        if layer[0] == "conv":
            _, k_out, k, p = layer
            if not keep_size:
                h, w = h + pad_sides * p - trimmed(k), w + pad_sides * p - trimmed(k)
            c = k_out if conv_channels == "out" else c
        elif layer[0] == "pool":
            s = layer[1]
            if pool_shrinks:
                h, w = (-(-h // s), -(-w // s)) if pool_ceil else (h // s, w // s)
            if pool_channels:
                c = c // s
        else:
            flat = layer[1]
        counts.append(flat if flat is not None else (c * h * w if channels else h * w))
    return counts


def counts_right(input_shape, layers):
    return _walk(input_shape, layers)


def counts_running_total(input_shape, layers):
    total, out = 0, []
    for n in _walk(input_shape, layers):
        total += n
        out.append(total)
    return out


def counts_parameters(input_shape, layers):
    c, h, w = input_shape
    out = []
    for layer in layers:
        if layer[0] == "conv":
            _, k_out, k, p = layer
            out.append(k_out * (k * k * c + 1))
            c, h, w = k_out, h + 2 * p - k + 1, w + 2 * p - k + 1
        elif layer[0] == "pool":
            out.append(0)
            h, w = h // layer[1], w // layer[1]
        else:
            out.append(layer[1] * (c * h * w + 1))
            c, h, w = layer[1], 1, 1
    return out


def counts_in_bytes(input_shape, layers):
    return [4 * n for n in _walk(input_shape, layers)]


def counts_with_input(input_shape, layers):
    c, h, w = input_shape
    return [c * h * w] + _walk(input_shape, layers)


def counts_as_array(input_shape, layers):
    return np.array(_walk(input_shape, layers))


def counts_in_mib(input_shape, layers):
    return [4 * n / 2**20 for n in _walk(input_shape, layers)]


def counts_by_running(input_shape, layers):
    return measured_counts(input_shape, layers)


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


MUTANTS = named_mutants("4.1", with_slips(_walk), [
    ("counts_without_channels", "your counts leave out the channels", {"channels": False}),
    ("counts_input_channels", "one map per FILTER", {"conv_channels": "in"}),
    ("counts_no_padding", "you ignored the padding", {"pad_sides": 0}),
    ("counts_padding_once", "you added the padding once", {"pad_sides": 1}),
    ("counts_same_size", "you kept every convolution's map at its input size",
     {"keep_size": True}),
    ("counts_pool_kept", "your pools do not shrink the maps", {"pool_shrinks": False}),
    ("counts_pool_ceil", "you rounded the pooled size up", {"pool_ceil": True}),
    ("counts_square", "your maps are square", {"square": True}),
    ("counts_pool_on_channels", "wrong result", {"pool_channels": True}),
    ("counts_half_kernel_per_side", "you took k // 2 off each side",
     {"trimmed": lambda k: 2 * (k // 2)}),
])
MUTANTS += [
    ("4.1", counts_parameters, "wrong", "you counted each layer's parameters"),
    ("4.1", counts_running_total, "wrong", "you returned running totals"),
    ("4.1", counts_with_input, "wrong", "your list starts with the input image"),
    ("4.1", counts_in_bytes, "wrong", "you returned bytes"),
    ("4.1", counts_as_array, "bad_type", "returned a NumPy array; expected a list"),
    ("4.1", counts_in_mib, "bad_type", "expected an int"),
    ("4.1", counts_by_running, "wrong", "without F.conv2d; your code calls it"),
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
    ("4.2", next_channels_first, "wrong", "wrong result"),
    ("4.2", bias_per_input_channel, "wrong", "wrong result"),
    ("4.3", share_counted_twice, "wrong", "a score must lie in [0, 1]"),
]


(test_mutant_is_rejected_with_the_right_diagnosis,
 test_each_exercise_has_at_least_five_diagnosed_mutants) = mutant_tests(CHECKERS, MUTANTS)


def test_other_right_answers_pass():
    assert run_check(ch04.ACTIVATIONS, counts_right).passed

    def as_tuple_of_numpy_ints(input_shape, layers):
        return tuple(np.int64(n) for n in counts_right(input_shape, layers))

    assert run_check(ch04.ACTIVATIONS, as_tuple_of_numpy_ints).passed

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

    def stub(input_shape, layers):
        raise NotImplementedError("Exercise 4.1: The activations of a stack, layer by layer")

    assert hands_back_reference(check_activation_counts(stub), check_activation_counts.exercise)
    assert capsys.readouterr().out.startswith("⏳ Exercise 4.1 is not implemented yet")
    assert hands_back_reference(check_mean_aware_score(lambda w: 1 / 0), ch04.SCORE)
    assert "raised ZeroDivisionError" in capsys.readouterr().out
