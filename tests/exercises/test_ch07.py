"""Chapter 7 exercises: the references pass; typical learner mistakes get the right diagnosis.

The mutants are written the way a learner would write them (not copies of the Mistake
functions in helpers/exercises/ch07.py), so each diagnosis is proven by behaviour.
"""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from helpers.exercises import ch07, run_check
from helpers.models.resnet import BasicBlock, Bottleneck
from helpers.summary import count_parameters
from tests.exercises.harness import checkers_of, mutant_tests

CHECKERS = checkers_of(chapter=7)


# --------------------------------------------------------------------------- the references

@pytest.mark.parametrize("c_in, c_out, stride", [(16, 16, 1), (16, 32, 2), (64, 64, 2),
                                                  (3, 8, 1)])
def test_shortcut_params_is_the_zoo_count(c_in, c_out, stride):
    block = BasicBlock(in_channels=c_in, out_channels=c_out, stride=stride)
    assert ch07.shortcut_params(c_in, c_out, stride) == count_parameters(block.shortcut)


def test_batch_norm_matches_nn_batchnorm2d_over_several_steps():
    torch.manual_seed(0)
    bn = nn.BatchNorm2d(3, momentum=0.2)
    nn.init.uniform_(bn.weight, 0.5, 1.5)
    nn.init.normal_(bn.bias)
    mean, var = bn.running_mean.clone(), bn.running_var.clone()
    for _ in range(3):                                    # training: batch stats, updates
        x = 3 * torch.randn(4, 3, 5, 5) + 2
        y, mean, var = ch07.batch_norm(x, bn.weight, bn.bias, mean, var, True, momentum=0.2)
        torch.testing.assert_close(y, bn.train()(x))
        torch.testing.assert_close(mean, bn.running_mean)
        torch.testing.assert_close(var, bn.running_var)
    x = torch.randn(2, 3, 4, 4)                           # evaluation: running stats, no update
    y, mean2, var2 = ch07.batch_norm(x, bn.weight, bn.bias, mean, var, False, momentum=0.2)
    torch.testing.assert_close(y, bn.eval()(x))
    torch.testing.assert_close(mean2, bn.running_mean)
    torch.testing.assert_close(var2, bn.running_var)


def test_block_references_are_the_zoo_blocks():
    assert issubclass(ch07.ResidualBlock, BasicBlock)
    assert issubclass(ch07.BottleneckBlock, Bottleneck)
    block = ch07.ResidualBlock(8, 16, 2)
    assert block(torch.randn(1, 8, 7, 7)).shape == (1, 16, 4, 4)
    assert ch07.BottleneckBlock(8, 4)(torch.randn(1, 8, 5, 5)).shape == (1, 16, 5, 5)


def test_block_comparison_reports_missing_layers_and_wrong_outputs():
    ref = BasicBlock(in_channels=4, out_channels=8, stride=2)
    assert ch07._compare_blocks(ch07.ResidualBlock(4, 8, 2), ref) is None
    assert "missing shortcut" in ch07._compare_blocks(
        BasicBlock(in_channels=4, out_channels=8, stride=2, shortcut=False), ref)
    assert "nn.Module" in ch07._compare_blocks(torch.zeros(3), ref)


# --------------------------------------------------------------------------- 7.1 mutants

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


def as_float(in_channels, out_channels, stride=1):
    return float(ch07.shortcut_params(in_channels, out_channels, stride))


# --------------------------------------------------------------------------- 7.2 mutants

class _Block(nn.Module):
    """A learner's basic block; the subclasses below each get one thing wrong."""

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1,
                               bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels))
        else:
            self.shortcut = nn.Identity()

    def branch(self, x):
        return self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))

    def forward(self, x):
        return F.relu(self.branch(x) + self.shortcut(x))


class ReluBeforeAdd(_Block):
    def forward(self, x):
        return F.relu(self.branch(x)) + self.shortcut(x)


class NoFinalRelu(_Block):
    def forward(self, x):
        return self.branch(x) + self.shortcut(x)


class NoProjection(_Block):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__(in_channels, out_channels, stride)
        self.shortcut = nn.Identity()


class ProjectsOnChannelsOnly(_Block):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__(in_channels, out_channels, stride)
        if in_channels == out_channels:
            self.shortcut = nn.Identity()


class ProjectionWithoutBN(_Block):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__(in_channels, out_channels, stride)
        if not isinstance(self.shortcut, nn.Identity):
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride,
                                                    bias=False))


class StrideInSecondConv(_Block):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__(in_channels, out_channels, stride)
        self.conv1.stride = (1, 1)
        self.conv2.stride = (stride, stride)


class NoInnerRelu(_Block):
    def branch(self, x):
        return self.bn2(self.conv2(self.bn1(self.conv1(x))))


class OtherNames(_Block):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__(in_channels, out_channels, stride)
        self.skip = self.shortcut
        del self.shortcut

    def forward(self, x):
        return F.relu(self.branch(x) + self.skip(x))


# --------------------------------------------------------------------------- 7.3 mutants

def _bn(x, weight, bias, mean, var, eps):
    shape = (1, -1, 1, 1)
    return (x - mean.view(shape)) / torch.sqrt(var.view(shape) + eps) * weight.view(shape) \
        + bias.view(shape)


def biased_running_var(x, weight, bias, running_mean, running_var, training, momentum=0.1,
                       eps=1e-5):
    if not training:
        return _bn(x, weight, bias, running_mean, running_var, eps), running_mean, running_var
    mean, var = x.mean((0, 2, 3)), x.var((0, 2, 3), unbiased=False)
    return (_bn(x, weight, bias, mean, var, eps), (1 - momentum) * running_mean + momentum * mean,
            (1 - momentum) * running_var + momentum * var)


def batch_stats_in_eval(x, weight, bias, running_mean, running_var, training, momentum=0.1,
                        eps=1e-5):
    mean, var = x.mean((0, 2, 3)), x.var((0, 2, 3), unbiased=False)
    y = _bn(x, weight, bias, mean, var, eps)
    if training:
        n = x.numel() / x.shape[1]
        running_mean = (1 - momentum) * running_mean + momentum * mean
        running_var = (1 - momentum) * running_var + momentum * var * n / (n - 1)
    return y, running_mean, running_var


def momentum_backwards(x, weight, bias, running_mean, running_var, training, momentum=0.1,
                       eps=1e-5):
    if not training:
        return _bn(x, weight, bias, running_mean, running_var, eps), running_mean, running_var
    mean, var = x.mean((0, 2, 3)), x.var((0, 2, 3), unbiased=False)
    unbiased = x.var((0, 2, 3))
    return (_bn(x, weight, bias, mean, var, eps), momentum * running_mean + (1 - momentum) * mean,
            momentum * running_var + (1 - momentum) * unbiased)


def per_image(x, weight, bias, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    if not training:
        return _bn(x, weight, bias, running_mean, running_var, eps), running_mean, running_var
    mu = x.mean((2, 3), keepdim=True)
    sigma2 = x.var((2, 3), unbiased=False, keepdim=True)
    y = (x - mu) / torch.sqrt(sigma2 + eps) * weight.view(1, -1, 1, 1) + bias.view(1, -1, 1, 1)
    return (y, (1 - momentum) * running_mean + momentum * x.mean((0, 2, 3)),
            (1 - momentum) * running_var + momentum * x.var((0, 2, 3)))


def unbiased_everywhere(x, weight, bias, running_mean, running_var, training, momentum=0.1,
                        eps=1e-5):
    if not training:
        return _bn(x, weight, bias, running_mean, running_var, eps), running_mean, running_var
    mean, var = x.mean((0, 2, 3)), x.var((0, 2, 3))
    return (_bn(x, weight, bias, mean, var, eps), (1 - momentum) * running_mean + momentum * mean,
            (1 - momentum) * running_var + momentum * var)


def eps_outside_sqrt(x, weight, bias, running_mean, running_var, training, momentum=0.1,
                     eps=1e-5):
    if training:
        mean, var = x.mean((0, 2, 3)), x.var((0, 2, 3), unbiased=False)
        new_mean = (1 - momentum) * running_mean + momentum * mean
        new_var = (1 - momentum) * running_var + momentum * x.var((0, 2, 3))
    else:
        mean, var, new_mean, new_var = running_mean, running_var, running_mean, running_var
    shape = (1, -1, 1, 1)
    y = (x - mean.view(shape)) / (var.view(shape).sqrt() + eps)
    return y * weight.view(shape) + bias.view(shape), new_mean, new_var


# --------------------------------------------------------------------------- 7.4 mutants

class _Neck(nn.Module):
    """A learner's bottleneck; the subclasses below each get one thing wrong."""

    expansion = 4

    def __init__(self, in_channels, width, stride=1):
        super().__init__()
        out = width * self.expansion
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out, 1, stride=stride,
                                                    bias=False), nn.BatchNorm2d(out))

    def branch(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        return self.bn3(self.conv3(x))

    def forward(self, x):
        return F.relu(self.branch(x) + self.shortcut(x))


class StrideInFirstConv(_Neck):
    def __init__(self, in_channels, width, stride=1):
        super().__init__(in_channels, width, stride)
        self.conv1.stride, self.conv2.stride = (stride, stride), (1, 1)


class NoExpansion(_Neck):
    expansion = 1


class ProjectsOnStrideOnly(_Neck):
    def __init__(self, in_channels, width, stride=1):
        super().__init__(in_channels, width, stride)
        if stride == 1:
            self.shortcut = nn.Identity()


class ReluOnBranch(_Neck):
    def forward(self, x):
        return F.relu(F.relu(self.branch(x)) + self.shortcut(x))


class NeckWithoutFinalRelu(_Neck):
    def forward(self, x):
        return self.branch(x) + self.shortcut(x)


MUTANTS = [
    ("7.1", always_projects, "wrong", "always counted a projection"),
    ("7.1", ignores_stride, "wrong", "must downsample too"),
    ("7.1", forgets_batchnorm, "wrong", "BatchNorm after the 1×1 conv is missing"),
    ("7.1", counts_running_stats, "wrong", "buffers"),
    ("7.1", three_by_three, "wrong", "not 3×3"),
    ("7.1", with_bias, "wrong", "no bias"),
    ("7.1", as_float, "bad_type", "expected an int"),
    ("7.2", ReluBeforeAdd, "wrong", "ReLU comes before the addition"),
    ("7.2", NoFinalRelu, "wrong", "final ReLU is missing"),
    ("7.2", NoProjection, "wrong", "no projection where the shape changes"),
    ("7.2", ProjectsOnChannelsOnly, "wrong", "must downsample too"),
    ("7.2", ProjectionWithoutBN, "wrong", "projection has no batch norm"),
    ("7.2", StrideInSecondConv, "wrong", "FIRST 3×3 convolution"),
    ("7.2", NoInnerRelu, "wrong", "ReLU between the two convolutions"),
    ("7.2", OtherNames, "wrong", "unexpected skip"),
    ("7.3", biased_running_var, "wrong", "UNBIASED estimate"),
    ("7.3", batch_stats_in_eval, "wrong", "evaluation uses running_mean"),
    ("7.3", momentum_backwards, "wrong", "other way round"),
    ("7.3", per_image, "wrong", "each image separately"),
    ("7.3", unbiased_everywhere, "wrong", "normalised with the unbiased variance"),
    ("7.3", eps_outside_sqrt, "wrong", "inside the square root"),
    ("7.4", StrideInFirstConv, "wrong", "v1.5"),
    ("7.4", NoExpansion, "wrong", "does not expand"),
    ("7.4", ProjectsOnStrideOnly, "wrong", "even at stride 1"),
    ("7.4", ReluOnBranch, "wrong", "ReLU follows bn3"),
    ("7.4", NeckWithoutFinalRelu, "wrong", "final ReLU, after the sum"),
]

# ----------------------------------------------------------------------- more mutants (issue 28)

def zero_shortcut_always(in_channels, out_channels, stride=1):
    return 0 if in_channels == out_channels else in_channels * out_channels + 2 * out_channels


class ReluTwice(_Block):
    def forward(self, x):
        return F.relu(F.relu(self.branch(x)) + self.shortcut(x))


class OverwrittenX(_Block):
    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.bn2(self.conv2(x))
        return F.relu(x + self.shortcut(x))


def _bn_over(x, weight, bias, running_mean, running_var, training, momentum, eps, dims):
    if training:
        mean, var = x.mean(dim=dims, keepdim=True), x.var(dim=dims, keepdim=True, unbiased=False)
        m = x.numel() // x.shape[1]
        new_mean = (1 - momentum) * running_mean + momentum * x.mean(dim=(0, 2, 3))
        new_var = (1 - momentum) * running_var + momentum * x.var(dim=(0, 2, 3)) * 1.0
        del m
    else:
        mean, var = running_mean.view(1, -1, 1, 1), running_var.view(1, -1, 1, 1)
        new_mean, new_var = running_mean.clone(), running_var.clone()
    y = (x - mean) / torch.sqrt(var + eps) * weight.view(1, -1, 1, 1) + bias.view(1, -1, 1, 1)
    return y, new_mean, new_var


def stats_over_n_only(x, weight, bias, running_mean, running_var, training, momentum=0.1,
                      eps=1e-5):
    return _bn_over(x, weight, bias, running_mean, running_var, training, momentum, eps, (0,))


def stats_over_chw(x, weight, bias, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    return _bn_over(x, weight, bias, running_mean, running_var, training, momentum, eps,
                    (1, 2, 3))


def stats_over_n_and_h(x, weight, bias, running_mean, running_var, training, momentum=0.1,
                       eps=1e-5):
    return _bn_over(x, weight, bias, running_mean, running_var, training, momentum, eps, (0, 2))


def running_updated_in_eval(x, weight, bias, running_mean, running_var, training, momentum=0.1,
                            eps=1e-5):
    y, _, _ = _bn_over(x, weight, bias, running_mean, running_var, training, momentum, eps,
                       (0, 2, 3))
    new_mean = (1 - momentum) * running_mean + momentum * x.mean(dim=(0, 2, 3))
    new_var = (1 - momentum) * running_var + momentum * x.var(dim=(0, 2, 3))
    return y, new_mean, new_var


class NeckOverwrittenX(_Neck):
    def forward(self, x):
        x = self.branch(x)
        return F.relu(x + self.shortcut(x))


class NeckReluTwice(_Neck):
    def forward(self, x):
        return F.relu(F.relu(self.branch(x)) + self.shortcut(x))


class NeckStrideInShortcutOnly(_Neck):
    def __init__(self, in_channels, width, stride=1):
        super().__init__(in_channels, width, stride)
        self.conv2.stride = (1, 1)


MUTANTS += [
    ("7.1", zero_shortcut_always, "wrong", "must downsample too"),
    ("7.2", ReluTwice, "wrong", "before the addition AND to the sum"),
    ("7.2", OverwrittenX, "wrong", "wrong"),
    ("7.3", stats_over_n_only, "wrong", "over the batch axis N only"),
    ("7.3", stats_over_chw, "wrong", "that is layer norm"),
    ("7.3", stats_over_n_and_h, "wrong", "over N and H but not W"),
    ("7.3", running_updated_in_eval, "wrong", "updated the running statistics in evaluation"),
    ("7.4", NeckOverwrittenX, "wrong", "wrong"),
    ("7.4", NeckReluTwice, "wrong", "wrong"),
    ("7.4", NeckStrideInShortcutOnly, "wrong", "wrong"),
]


(test_mutant_is_rejected_with_the_right_diagnosis,
 test_each_exercise_has_at_least_five_diagnosed_mutants) = mutant_tests(CHECKERS, MUTANTS)


def test_a_right_block_written_from_scratch_passes():
    assert run_check(CHECKERS["7.2"].exercise, _Block).status == "passed"
    assert run_check(CHECKERS["7.4"].exercise, _Neck).status == "passed"
