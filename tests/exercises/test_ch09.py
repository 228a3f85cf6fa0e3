"""Chapter 9 exercises: references agree with the course's helpers and PyTorch; learner-style
mutants (written the way a learner would, not copies of the Mistake functions) get the right
diagnosis. (Broken code of every kind is tested for all exercises in test_every_exercise.py.)
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from helpers.exercises import (
    ch09,
    check_attention,
    check_separable_params,
    run_check,
)
from helpers.exercises.ch09 import _mha_variant
from helpers.models.mobilenet import DepthwiseSeparableConv
from helpers.models.vit import PatchEmbedding
from helpers.summary import count_parameters
from tests.exercises.harness import (
    checkers_of,
    hands_back_reference,
    mutant_tests,
    named_mutants,
    with_slips,
)

CHECKERS = checkers_of(chapter=9)


# --------------------------------------------------------------------------- references

def test_patchify_times_flattened_filters_is_the_patch_embedding():
    torch.manual_seed(0)
    embed = PatchEmbedding(in_channels=3, dim=8, patch_size=4)
    x = torch.randn(2, 3, 12, 8)
    tokens = ch09.patchify(x, 4) @ embed.proj.weight.reshape(8, -1).T + embed.proj.bias
    torch.testing.assert_close(tokens, embed(x), atol=1e-5, rtol=1e-5)


def test_patchify_matches_unfold():
    x = torch.randn(2, 3, 8, 12)
    torch.testing.assert_close(ch09.patchify(x, 4), F.unfold(x, 4, stride=4).transpose(1, 2))


def test_attention_matches_torch():
    for case in ch09.ATTENTION.make_cases():
        q, k, v = case.args
        torch.testing.assert_close(ch09.attention(q, k, v),
                                   F.scaled_dot_product_attention(q, k, v))


def test_separable_params_counts_the_module():
    for case in ch09.SEPARABLE_PARAMS.make_cases():
        c, k_out, k = case.args
        bias = case.kwargs.get("bias", True)
        module = DepthwiseSeparableConv(in_channels=c, out_channels=k_out, kernel_size=k, bias=bias)
        assert ch09.separable_params(c, k_out, k, bias=bias) == count_parameters(module)


# --------------------------------------------------------------------------- 9.1 mutants

def patchify_loops(images, patch_size, col_major=False, channels_last=False, col_first=False):
    """A learner's loop version with switches for typical slips."""
    n, c, h, w = images.shape
    p = patch_size
    rows, cols = h // p, w // p
    tokens = []
    order = [(j, i) for i in range(cols) for j in range(rows)] if col_major \
        else [(i, j) for i in range(rows) for j in range(cols)]
    for i, j in order:
        patch = images[:, :, i * p:(i + 1) * p, j * p:(j + 1) * p]   # (N, C, p, p)
        if channels_last:
            patch = patch.permute(0, 2, 3, 1)
        if col_first:
            patch = patch.transpose(-1, -2)
        tokens.append(patch.reshape(n, -1))
    return torch.stack(tokens, dim=1)


def patchify_plain_reshape(images, patch_size):
    n, c, h, w = images.shape
    return images.reshape(n, -1, c * patch_size * patch_size)


def patchify_unfold(images, patch_size):
    return F.unfold(images, kernel_size=patch_size, stride=patch_size)


def patchify_numpy(images, patch_size):
    return patchify_loops(images, patch_size).numpy()


def patchify_square_only(images, patch_size):
    n, c, h, w = images.shape
    side = h // patch_size
    x = images.reshape(n, c, side, patch_size, side, patch_size)   # fails when H != W
    return x.permute(0, 2, 4, 1, 3, 5).reshape(n, side * side, -1)


def patchify_learner_ok(images, patch_size):
    return patchify_loops(images, patch_size)


# --------------------------------------------------------------------------- 9.2 mutants

def attention_unscaled(q, k, v):
    weights = torch.softmax(torch.matmul(q, k.transpose(-1, -2)), dim=-1)
    return torch.matmul(weights, v)


def attention_divided_by_d(q, k, v):
    d = q.shape[-1]
    return torch.softmax(q @ k.transpose(-1, -2) / d, dim=-1) @ v


def attention_value_scale(q, k, v):
    return torch.softmax(q @ k.mT / v.shape[-1] ** 0.5, dim=-1) @ v


def attention_softmax_wrong_axis(q, k, v):
    scores = q @ k.mT / math.sqrt(q.size(-1))
    return F.softmax(scores, dim=-2) @ v


def attention_returns_weights(q, k, v):
    return torch.softmax(q @ k.mT / math.sqrt(q.size(-1)), dim=-1)


def attention_returns_tuple(q, k, v):
    weights = torch.softmax(q @ k.mT / math.sqrt(q.size(-1)), dim=-1)
    return weights @ v, weights


def attention_without_softmax(q, k, v):
    return (q @ k.mT / math.sqrt(q.size(-1))) @ v


def attention_2d_only(q, k, v):
    return torch.softmax(q @ k.T / math.sqrt(q.shape[-1]), dim=-1) @ v   # .T breaks on >2-D


def attention_float32(q, k, v):
    q, k, v = q.float(), k.float(), v.float()
    return torch.softmax(q @ k.mT / math.sqrt(q.shape[-1]), dim=-1) @ v


def attention_learner_ok(q, k, v):
    q = q / math.sqrt(q.shape[-1])
    scores = torch.einsum("...qd,...kd->...qk", q, k)
    scores = scores - scores.amax(dim=-1, keepdim=True)
    weights = scores.exp() / scores.exp().sum(dim=-1, keepdim=True)
    return torch.einsum("...qk,...kd->...qd", weights, v)


# --------------------------------------------------------------------------- 9.3 mutants

def params_standard(in_channels, out_channels, kernel_size, bias=True):
    return in_channels * out_channels * kernel_size ** 2 + (out_channels if bias else 0)


def params_full_depthwise(in_channels, out_channels, kernel_size, bias=True):
    depthwise = in_channels * in_channels * kernel_size ** 2 + (in_channels if bias else 0)
    return depthwise + in_channels * out_channels + (out_channels if bias else 0)


def params_no_bias(in_channels, out_channels, kernel_size, bias=True):
    return in_channels * kernel_size ** 2 + in_channels * out_channels


def params_one_bias(in_channels, out_channels, kernel_size, bias=True):
    total = in_channels * kernel_size * kernel_size + in_channels * out_channels
    return total + out_channels if bias else total


def params_k_not_squared(in_channels, out_channels, kernel_size, bias=True):
    extra = in_channels + out_channels if bias else 0
    return in_channels * kernel_size + in_channels * out_channels + extra


def params_no_pointwise(in_channels, out_channels, kernel_size, bias=True):
    return in_channels * kernel_size ** 2 + (in_channels if bias else 0)


def params_float(in_channels, out_channels, kernel_size, bias=True):
    return float(in_channels * kernel_size ** 2 + in_channels * out_channels
                 + (in_channels + out_channels) * bias)


def params_with_modules(in_channels, out_channels, kernel_size, bias=True):
    block = torch.nn.Sequential(
        torch.nn.Conv2d(in_channels, in_channels, kernel_size, groups=in_channels, bias=bias),
        torch.nn.Conv2d(in_channels, out_channels, 1, bias=bias))
    return sum(p.numel() for p in block.parameters())


# --------------------------------------------------------------------------- broken code


MUTANTS = named_mutants("9.1", with_slips(patchify_loops), [
    ("patchify_column_major", "column order", {"col_major": True}),
    ("patchify_channels_last", "channels-last", {"channels_last": True}),
    ("patchify_columns_first", "column by column", {"col_first": True}),
])
MUTANTS += [
    ("9.1", patchify_plain_reshape, "wrong", "without moving the axes"),
    ("9.1", patchify_unfold, "wrong", "layout F.unfold gives"),
    ("9.1", patchify_numpy, "bad_type", "returned a NumPy array"),
    ("9.1", patchify_square_only, "error", "raised RuntimeError"),
    ("9.2", attention_unscaled, "wrong", "the scores are not scaled"),
    ("9.2", attention_divided_by_d, "wrong", "you divided the scores by d"),
    ("9.2", attention_value_scale, "wrong", "size of the values"),
    ("9.2", attention_softmax_wrong_axis, "wrong", "softmax runs over the wrong axis"),
    ("9.2", attention_returns_weights, "wrong", "returned the attention weights"),
    ("9.2", attention_returns_tuple, "bad_type", "return only the output"),
    ("9.2", attention_without_softmax, "wrong", "the softmax is missing"),
    ("9.2", attention_float32, "bad_type", "dtype torch.float32"),
    ("9.3", params_standard, "wrong", "standard k×k convolution"),
    ("9.3", params_full_depthwise, "wrong", "full C→C convolution"),
    ("9.3", params_no_bias, "wrong", "the biases are missing"),
    ("9.3", params_one_bias, "wrong", "only one bias vector"),
    ("9.3", params_k_not_squared, "wrong", "not squared"),
    ("9.3", params_no_pointwise, "wrong", "pointwise convolution is missing"),
    ("9.3", params_float, "bad_type", "float"),
]


# ----------------------------------------------------------------------- more mutants (issue 28)

def patchify_with_class_token(images, patch_size):
    n, c, h, w = images.shape
    p = patch_size
    x = images.reshape(n, c, h // p, p, w // p, p).permute(0, 2, 4, 1, 3, 5)
    tokens = x.reshape(n, (h // p) * (w // p), c * p * p)
    return torch.cat([torch.zeros(n, 1, c * p * p), tokens], dim=1)


def attention_library(q, k, v):
    return torch.nn.functional.scaled_dot_product_attention(q, k, v)


def attention_scaled_by_queries(q, k, v):
    return torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-2]), dim=-1) @ v


def attention_k_dot_t(q, k, v):
    return torch.softmax(q @ k.T / math.sqrt(q.shape[-1]), dim=-1) @ v


def attention_bmm(q, k, v):
    scores = torch.bmm(q, k.transpose(1, 2)) / math.sqrt(q.shape[-1])
    return torch.bmm(torch.softmax(scores, dim=-1), v)


def params_pointwise_k_squared(in_channels, out_channels, kernel_size, bias=True):
    k2 = kernel_size * kernel_size
    return in_channels * k2 + in_channels * out_channels * k2 + \
        ((in_channels + out_channels) if bias else 0)


def mha_library(x, w_q, w_k, w_v, w_o, num_heads):
    n, t, d = x.shape
    split = [(x @ w).reshape(n, t, num_heads, -1).transpose(1, 2) for w in (w_q, w_k, w_v)]
    out = torch.nn.functional.scaled_dot_product_attention(*split)
    return out.transpose(1, 2).reshape(n, t, d) @ w_o


def mha_one_head_for_all(x, w_q, w_k, w_v, w_o, num_heads):
    q, k, v = x @ w_q, x @ w_k, x @ w_v
    dh = x.shape[-1] // num_heads
    return torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(dh), dim=-1) @ v @ w_o


MUTANTS += [
    ("9.1", patchify_with_class_token, "wrong", "prepended a token"),
    ("9.2", attention_library, "wrong", "without F.scaled_dot_product_attention"),
    ("9.2", attention_scaled_by_queries, "wrong", "√(number of queries)"),
    ("9.2", attention_k_dot_t, "error", "use `k.transpose(-2, -1)`"),
    ("9.2", attention_bmm, "error", "use `k.transpose(-2, -1)`"),
    ("9.3", params_pointwise_k_squared, "wrong", "wrong result"),
    ("9.4", mha_library, "wrong", "without F.scaled_dot_product_attention"),
    ("9.4", mha_one_head_for_all, "wrong", "wrong result"),
]


# the checker's own variants of multi-head attention
MUTANTS += named_mutants("9.4", with_slips(_mha_variant), [
    ("mha_split_without_transpose", "mixing tokens into heads", {"split": "no_transpose"}),
    ("mha_merge_without_transpose", "merged the heads with a plain reshape",
     {"merge": "no_transpose"}),
    ("mha_interleaved_heads", "every num_heads-th feature", {"split": "interleaved"}),
    ("mha_scaled_by_model_width", "you scaled by √D", {"scale": "model"}),
    ("mha_unscaled", "not scaled", {"scale": "none"}),
    ("mha_no_output_projection", "output projection is missing", {"project": False}),
    ("mha_softmax_over_queries", "wrong result", {"softmax_dim": -2}),
])


(test_mutant_is_rejected_with_the_right_diagnosis,
 test_each_exercise_has_at_least_five_diagnosed_mutants) = mutant_tests(CHECKERS, MUTANTS)


@pytest.mark.parametrize("number, solution", [("9.1", patchify_learner_ok),
                                              ("9.2", attention_learner_ok),
                                              ("9.3", params_with_modules)])
def test_other_correct_solutions_pass(number, solution):
    assert run_check(CHECKERS[number].exercise, solution).passed


def test_checks_are_deterministic(capsys):
    for checker in CHECKERS.values():
        checker(attention_unscaled)
    first = capsys.readouterr().out
    for checker in CHECKERS.values():
        checker(attention_unscaled)
    assert capsys.readouterr().out == first
    paths = first.replace("n/a", "").replace("H / p", "").replace("W / p", "")
    assert "0x" not in first and "/" not in paths          # no addresses, no file paths


def test_a_failing_check_returns_the_reference():
    assert hands_back_reference(check_attention(attention_unscaled), ch09.ATTENTION)
    np.testing.assert_equal(check_separable_params(params_standard)(32, 64, 3), 2432)
