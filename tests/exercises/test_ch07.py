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
from tests.exercises.harness import checkers_of, mutant_tests

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


def ignores_shortcut(x, residual, shortcut=None):
    return torch.relu(residual(x) + x)


def modifies_input(x, residual, shortcut=None):
    out = residual(x)
    out += x if shortcut is None else shortcut(x)
    x.relu_()
    return torch.relu(out)


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


# --------------------------------------------------------------------------- broken learner code


def as_float(in_channels, out_channels, stride=1):
    return float(ch07.shortcut_params(in_channels, out_channels, stride))


def starts_at_zero(derivatives, residual=True):
    factor = 0
    for d in derivatives:
        factor = factor * (1 + d if residual else d)
    return float(factor)


def children_only(model):
    return len([m for m in model.children() if isinstance(m, (nn.Conv2d, nn.Linear))])


def every_module(model):
    return sum(1 for _ in model.modules())


MUTANTS = [
    ("7.1", relu_then_add, "wrong", "before adding the shortcut"),
    ("7.1", sum_without_relu, "wrong", "final ReLU is missing"),
    ("7.1", plain_block, "wrong", "plain block"),
    ("7.1", two_relus, "wrong", "separately"),
    ("7.2", always_projects, "wrong", "always counted a projection"),
    ("7.2", ignores_stride, "wrong", "must downsample too"),
    ("7.2", forgets_batchnorm, "wrong", "BatchNorm after the 1×1 conv is missing"),
    ("7.2", counts_running_stats, "wrong", "buffers"),
    ("7.2", three_by_three, "wrong", "not 3×3"),
    ("7.2", with_bias, "wrong", "no bias"),
    ("7.3", summed, "wrong", "MULTIPLIES"),
    ("7.3", bare_product, "wrong", "plain network's factor"),
    ("7.3", one_plus_product, "wrong", "added the 1 once"),
    ("7.3", ignores_flag, "wrong", "`residual=False` was ignored"),
    ("7.4", counts_shortcuts, "wrong", "projection convs of the shortcuts"),
    ("7.4", convs_only, "wrong", "fully connected layers are missing"),
    ("7.4", counts_norms, "wrong", "BatchNorm layers too"),
    ("7.1", ignores_shortcut, "error", "must match"),
    ("7.1", modifies_input, "wrong", "in place"),
    ("7.2", as_float, "bad_type", "expected an int"),
    ("7.3", starts_at_zero, "wrong", "starts at 0"),
    ("7.4", children_only, "wrong", "model.children()"),
    ("7.4", every_module, "wrong", "every module"),
]

(test_mutant_is_rejected_with_the_right_diagnosis,
 test_each_exercise_has_at_least_five_diagnosed_mutants) = mutant_tests(CHECKERS, MUTANTS)
