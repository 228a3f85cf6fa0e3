"""Chapter 7 exercises: the references pass; typical learner mistakes get the right diagnosis.

The mutants are written the way a learner would write them (not copies of the Mistake
functions in helpers/exercises/ch07.py), so each diagnosis is proven by behaviour.
"""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from helpers.exercises import (
    ch07,
    run_check,
)
from helpers.models import cifar_resnet, resnet18, resnet50
from helpers.models.resnet import BasicBlock
from helpers.summary import count_parameters
from tests.exercises.harness import checkers_of

CHECKERS = checkers_of(chapter=7)


def verdict_of(number, fn):
    return run_check(CHECKERS[number].exercise, fn)


# --------------------------------------------------------------------------- the references

def test_residual_forward_is_the_zoo_block():
    torch.manual_seed(0)
    for block in (BasicBlock(in_channels=8, out_channels=8).eval(),
                  BasicBlock(in_channels=8, out_channels=16, stride=2).eval()):
        x = torch.randn(2, 8, 6, 6)
        shortcut = None if isinstance(block.shortcut, nn.Identity) else block.shortcut
        got = ch07.residual_forward(x, block.residual, shortcut)
        assert torch.allclose(got, block(x))


@pytest.mark.parametrize("c_in, c_out, stride", [(16, 16, 1), (16, 32, 2), (64, 64, 2),
                                                  (3, 8, 1)])
def test_shortcut_params_is_the_zoo_count(c_in, c_out, stride):
    block = BasicBlock(in_channels=c_in, out_channels=c_out, stride=stride)
    assert ch07.shortcut_params(c_in, c_out, stride) == count_parameters(block.shortcut)


def test_gradient_factor_matches_autograd():
    slopes = [0.5, -0.3, 1.2, 0.1]
    for residual in (True, False):
        x = torch.tensor(1.0, requires_grad=True)
        y = x
        for d in slopes:
            y = y + d * y if residual else d * y
        y.backward()
        assert math.isclose(ch07.gradient_factor(slopes, residual), x.grad.item(), rel_tol=1e-6)


def test_count_weight_layers_gives_the_names():
    with torch.device("meta"):
        assert ch07.count_weight_layers(resnet18()) == 18
        assert ch07.count_weight_layers(resnet50()) == 50
    assert ch07.count_weight_layers(cifar_resnet(20, width=4)) == 20


# --------------------------------------------------------------------------- 7.1 mutants

def relu_then_add(x, residual, shortcut=None):
    out = torch.relu(residual(x))
    return out + (x if shortcut is None else shortcut(x))


def sum_without_relu(x, residual, shortcut=None):
    skip = x if shortcut is None else shortcut(x)
    return residual(x) + skip


def plain_block(x, residual, shortcut=None):
    return torch.relu(residual(x))


def two_relus(x, residual, shortcut=None):
    skip = x if shortcut is None else shortcut(x)
    return nn.functional.relu(residual(x)) + nn.functional.relu(skip)


@pytest.mark.parametrize("mutant, expected", [
    (relu_then_add, "before adding the shortcut"),
    (sum_without_relu, "final ReLU is missing"),
    (plain_block, "plain block"),
    (two_relus, "separately"),
])
def test_residual_forward_mistakes_are_diagnosed(mutant, expected):
    verdict = verdict_of("7.1", mutant)
    assert verdict.status == "wrong"
    assert expected in verdict.message


def test_residual_forward_ignoring_the_shortcut_fails_on_the_shape_change():
    def ignores_shortcut(x, residual, shortcut=None):
        return torch.relu(residual(x) + x)

    verdict = verdict_of("7.1", ignores_shortcut)
    assert verdict.status == "error" and "must match" in verdict.message


def test_residual_forward_in_place_relu_on_the_input_is_caught():
    def modifies_input(x, residual, shortcut=None):
        out = residual(x)
        out += x if shortcut is None else shortcut(x)
        x.relu_()
        return torch.relu(out)

    verdict = verdict_of("7.1", modifies_input)
    assert verdict.status == "wrong" and "in place" in verdict.message


# --------------------------------------------------------------------------- 7.2 mutants

def always_projects(in_channels, out_channels, stride=1):
    return in_channels * out_channels + 2 * out_channels


def ignores_stride(in_channels, out_channels, stride=1):
    if in_channels == out_channels:
        return 0
    return in_channels * out_channels + 2 * out_channels


def forgets_batchnorm(in_channels, out_channels, stride=1):
    if stride == 1 and in_channels == out_channels:
        return 0
    return in_channels * out_channels


def counts_running_stats(in_channels, out_channels, stride=1):
    if stride == 1 and in_channels == out_channels:
        return 0
    return in_channels * out_channels + 4 * out_channels


def three_by_three(in_channels, out_channels, stride=1):
    if stride == 1 and in_channels == out_channels:
        return 0
    return 3 * 3 * in_channels * out_channels + 2 * out_channels


def with_bias(in_channels, out_channels, stride=1):
    if stride == 1 and in_channels == out_channels:
        return 0
    return in_channels * out_channels + out_channels + 2 * out_channels


@pytest.mark.parametrize("mutant, expected", [
    (always_projects, "always counted a projection"),
    (ignores_stride, "must downsample too"),
    (forgets_batchnorm, "BatchNorm after the 1×1 conv is missing"),
    (counts_running_stats, "buffers"),
    (three_by_three, "not 3×3"),
    (with_bias, "no bias"),
])
def test_shortcut_params_mistakes_are_diagnosed(mutant, expected):
    verdict = verdict_of("7.2", mutant)
    assert verdict.status == "wrong"
    assert expected in verdict.message


# --------------------------------------------------------------------------- 7.3 mutants

def summed(derivatives, residual=True):
    return sum((1 + d) if residual else d for d in derivatives)


def bare_product(derivatives, residual=True):
    return math.prod(derivatives)


def one_plus_product(derivatives, residual=True):
    product = math.prod(derivatives)
    return 1 + product if residual else product


def ignores_flag(derivatives, residual=True):
    return math.prod(1 + d for d in derivatives)


@pytest.mark.parametrize("mutant, expected", [
    (summed, "MULTIPLIES"),
    (bare_product, "plain network's factor"),
    (one_plus_product, "added the 1 once"),
    (ignores_flag, "`residual=False` was ignored"),
])
def test_gradient_factor_mistakes_are_diagnosed(mutant, expected):
    verdict = verdict_of("7.3", mutant)
    assert verdict.status == "wrong"
    assert expected in verdict.message


def test_gradient_factor_with_numpy_is_fine():
    import numpy as np

    def with_numpy(derivatives, residual=True):
        d = np.asarray(derivatives, dtype=float)
        return float(np.prod(1 + d) if residual else np.prod(d))

    assert verdict_of("7.3", with_numpy).passed


# --------------------------------------------------------------------------- 7.4 mutants

def counts_shortcuts(model):
    return sum(isinstance(m, (nn.Conv2d, nn.Linear)) for m in model.modules())


def convs_only(model):
    return len([m for name, m in model.named_modules()
                if type(m) is nn.Conv2d and "shortcut" not in name])


def counts_norms(model):
    kinds = (nn.Conv2d, nn.Linear, nn.BatchNorm2d)
    return len([m for name, m in model.named_modules()
                if isinstance(m, kinds) and "shortcut" not in name])


@pytest.mark.parametrize("mutant, expected", [
    (counts_shortcuts, "projection convs of the shortcuts"),
    (convs_only, "fully connected layers are missing"),
    (counts_norms, "BatchNorm layers too"),
])
def test_count_weight_layers_mistakes_are_diagnosed(mutant, expected):
    verdict = verdict_of("7.4", mutant)
    assert verdict.status == "wrong"
    assert expected in verdict.message


# --------------------------------------------------------------------------- broken learner code


def test_wrong_type_for_a_count():
    def as_float(in_channels, out_channels, stride=1):
        return float(ch07.shortcut_params(in_channels, out_channels, stride))

    verdict = verdict_of("7.2", as_float)
    assert verdict.status == "bad_type" and "expected an int" in verdict.message
