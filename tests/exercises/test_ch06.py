"""Chapter 6 exercises: the references pass; typical learner mistakes get the right diagnosis.

The mutants are written the way a learner would write them (not copies of the Mistake
functions in helpers/exercises/ch06.py), so each diagnosis is proven by behaviour.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from helpers.exercises import (
    ch06,
    run_check,
)
from helpers.models import alexnet, lenet5, vgg16
from helpers.summary import count_macs
from tests.exercises.harness import checkers_of, mutant_tests

CHECKERS = checkers_of(chapter=6)


def verdict_of(number, fn):
    return run_check(CHECKERS[number].exercise, fn)


# --------------------------------------------------------------------------- the references

def test_conv_macs_agrees_with_count_macs():
    for c, k_out, k, n, s, p in [(1, 6, 5, 32, 1, 0), (3, 64, 11, 224, 4, 2),
                                 (64, 128, 3, 56, 2, 1), (16, 8, 1, 9, 1, 0)]:
        conv = nn.Conv2d(c, k_out, k, stride=s, padding=p, bias=False)
        assert ch06.conv_macs(c, k_out, k, n, s, p) == count_macs(conv, (c, n, n))


def test_fc_fraction_of_the_zoo():
    assert ch06.fc_fraction(lenet5()) == pytest.approx(59_134 / 61_706)
    with torch.device("meta"):
        assert round(ch06.fc_fraction(alexnet()), 3) == 0.960
        assert round(ch06.fc_fraction(vgg16()), 2) == 0.89


def test_dropout_reference_matches_torch_scaling():
    torch.manual_seed(0)
    x = torch.randn(1000)
    keep = torch.rand(1000) >= 0.3
    out = ch06.dropout_forward(x, keep, 0.3)
    assert torch.allclose(out[keep], x[keep] / 0.7)
    assert (out[~keep] == 0).all()
    assert ch06.dropout_forward(x, keep, 0.3, training=False) is x


def test_shift_images_reference():
    x = np.arange(1, 10, dtype=np.uint8).reshape(1, 3, 3)
    assert ch06.shift_images(x, 1, 0).tolist() == [[[0, 0, 0], [1, 2, 3], [4, 5, 6]]]
    assert ch06.shift_images(x, 0, -1).tolist() == [[[2, 3, 0], [5, 6, 0], [8, 9, 0]]]
    assert ch06.shift_images(x, 3, 0).sum() == 0
    assert ch06.shift_images(x, 0, 0).tolist() == x.tolist()


# --------------------------------------------------------------------------- 6.1 mutants

def macs_input_size(in_channels, out_channels, kernel_size, input_size, stride=1, padding=0):
    return out_channels * in_channels * kernel_size ** 2 * input_size ** 2


def macs_no_in_channels(in_channels, out_channels, kernel_size, input_size, stride=1, padding=0):
    out = (input_size + 2 * padding - kernel_size) // stride + 1
    return out_channels * kernel_size * kernel_size * out * out


def macs_padding_once(in_channels, out_channels, kernel_size, input_size, stride=1, padding=0):
    out = (input_size + padding - kernel_size) // stride + 1
    return out_channels * in_channels * kernel_size ** 2 * out ** 2


def macs_no_stride(in_channels, out_channels, kernel_size, input_size, stride=1, padding=0):
    out = input_size + 2 * padding - kernel_size + 1
    return out_channels * in_channels * kernel_size ** 2 * out ** 2


def macs_float(in_channels, out_channels, kernel_size, input_size, stride=1, padding=0):
    out = (input_size + 2 * padding - kernel_size) / stride + 1
    return out_channels * in_channels * kernel_size ** 2 * out ** 2


# --------------------------------------------------------------------------- 6.2 mutants

def fraction_percent(model):
    linear = sum(p.numel() for m in model.modules() if isinstance(m, nn.Linear)
                 for p in m.parameters())
    return 100 * linear / sum(p.numel() for p in model.parameters())


def fraction_weights_only(model):
    linear = sum(m.weight.numel() for m in model.modules() if isinstance(m, nn.Linear))
    return linear / sum(p.numel() for p in model.parameters())


def fraction_of_convs(model):
    conv = sum(p.numel() for m in model.modules() if isinstance(m, nn.Conv2d)
               for p in m.parameters())
    return conv / sum(p.numel() for p in model.parameters())


def fraction_of_layers(model):
    kinds = [type(m) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    return kinds.count(nn.Linear) / len(kinds)


def fraction_as_tensor(model):
    return torch.tensor(ch06.fc_fraction(model))


# --------------------------------------------------------------------------- 6.3 mutants

def dropout_no_rescale(x, keep, p, training=True):
    if not training:
        return x
    return x * keep


def dropout_times_keep_prob(x, keep, p, training=True):
    if not training:
        return x
    return x * keep * (1 - p)


def dropout_over_p(x, keep, p, training=True):
    if not training:
        return x
    return torch.where(keep, x / p, torch.zeros_like(x))


def dropout_always(x, keep, p, training=True):
    return x * keep / (1 - p)


def dropout_inverted_mask(x, keep, p, training=True):
    if not training:
        return x
    return x.masked_fill(keep, 0.0) / (1 - p)


def dropout_in_place(x, keep, p, training=True):
    if training:
        x *= keep
        x /= 1 - p
    return x


# --------------------------------------------------------------------------- 6.4 mutants

def shift_roll(images, dy, dx):
    return np.roll(np.roll(images, dy, axis=1), dx, axis=2)


def shift_wrong_way(images, dy, dx):
    out = np.zeros_like(images)
    h, w = images.shape[1:]
    for i in range(h):
        for j in range(w):
            if 0 <= i + dy < h and 0 <= j + dx < w:
                out[:, i, j] = images[:, i + dy, j + dx]
    return out


def shift_swapped(images, dy, dx):
    out = np.zeros_like(images)
    h, w = images.shape[1:]
    for i in range(h):
        for j in range(w):
            if 0 <= i - dx < h and 0 <= j - dy < w:
                out[:, i, j] = images[:, i - dx, j - dy]
    return out


def shift_float(images, dy, dx):
    n, h, w = images.shape
    padded = np.pad(images.astype(float), ((0, 0), (h, h), (w, w)))
    return padded[:, h - dy:2 * h - dy, w - dx:2 * w - dx]


def shift_from_a_copy(images, dy, dx):
    out = images.copy()
    h, w = images.shape[1:]
    rows, cols = slice(max(dy, 0), h + min(dy, 0)), slice(max(dx, 0), w + min(dx, 0))
    out[:, rows, cols] = np.roll(images, (dy, dx), axis=(1, 2))[:, rows, cols]
    return out


# --------------------------------------------------------------------------- broken learner code


def test_passing_the_result_instead_of_the_function():
    verdict = verdict_of("6.1", 42)
    assert verdict.status == "bad_type" and "expected a function" in verdict.message


MUTANTS = [
    ("6.1", macs_input_size, "wrong", "OUTPUT position"),
    ("6.1", macs_no_in_channels, "wrong", "input channels are missing"),
    ("6.1", macs_padding_once, "wrong", "BOTH sides"),
    ("6.1", macs_no_stride, "wrong", "stride is ignored"),
    ("6.2", fraction_percent, "wrong", "percentage"),
    ("6.2", fraction_weights_only, "wrong", "not their biases"),
    ("6.2", fraction_of_convs, "wrong", "convolutions' share"),
    ("6.2", fraction_of_layers, "wrong", "counted layers, not parameters"),
    ("6.3", dropout_no_rescale, "wrong", "not rescaled"),
    ("6.3", dropout_times_keep_prob, "wrong", "multiplied by (1 − p)"),
    ("6.3", dropout_over_p, "wrong", "divided by p"),
    ("6.3", dropout_always, "wrong", "evaluation mode"),
    ("6.3", dropout_inverted_mask, "wrong", "KEPT"),
    ("6.4", shift_roll, "wrong", "wraps around"),
    ("6.4", shift_wrong_way, "wrong", "wrong way"),
    ("6.4", shift_swapped, "wrong", "swapped the axes"),
    ("6.4", shift_float, "bad_type", "dtype"),
    ("6.1", macs_float, "bad_type", "//"),
    ("6.2", fraction_as_tensor, "bad_type", ".item()"),
    ("6.3", dropout_in_place, "wrong", "in place"),
    ("6.4", shift_from_a_copy, "wrong", "still hold the old image"),
]

(test_mutant_is_rejected_with_the_right_diagnosis,
 test_each_exercise_has_at_least_five_diagnosed_mutants) = mutant_tests(CHECKERS, MUTANTS)
