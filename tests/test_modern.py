"""helpers.modern: depthwise separable convs and the ConvNeXt block, against PyTorch.

Tolerances: float32 outputs compared with atol = rtol = 1e-5 (the from-scratch conv sums in a
different order from torch's).
"""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from helpers.modern import (
    ConvNeXtBlock,
    DepthwiseSeparableConv,
    LayerNorm2d,
    convnext_block_params,
    separable_ratio,
)
from helpers.summary import count_macs, count_parameters

TOL = {"atol": 1e-5, "rtol": 1e-5}


@settings(max_examples=15, deadline=None)
@given(C=st.integers(1, 6), K=st.integers(1, 6), k=st.sampled_from([1, 3, 5]),
       stride=st.integers(1, 2), size=st.integers(5, 9), bias=st.booleans())
def test_depthwise_separable_equals_torch_grouped_conv(C, K, k, stride, size, bias):
    torch.manual_seed(0)
    block = DepthwiseSeparableConv(C, K, k, stride=stride, bias=bias, layers="scratch")
    x = torch.randn(2, C, size, size)
    dw, pw = block.depthwise, block.pointwise
    expected = F.conv2d(F.conv2d(x, dw.weight, dw.bias, stride, k // 2, groups=C),
                        pw.weight, pw.bias)
    torch.testing.assert_close(block(x), expected, **TOL)
    assert count_parameters(block) == C * k * k + C * K + (C + K if bias else 0)


def test_scratch_and_torch_layers_build_the_same_block():
    torch.manual_seed(1)
    a = DepthwiseSeparableConv(4, 8, layers="scratch")
    torch.manual_seed(1)
    b = DepthwiseSeparableConv(4, 8)
    assert isinstance(b.depthwise, nn.Conv2d) and not isinstance(a.depthwise, nn.Conv2d)
    x = torch.randn(1, 4, 10, 10)
    torch.testing.assert_close(a(x), b(x), **TOL)


@pytest.mark.parametrize("C,K,k", [(32, 64, 3), (128, 256, 3), (16, 16, 5), (3, 1, 7)])
def test_separable_ratio_matches_counted_weights_and_macs(C, K, k):
    standard = nn.Conv2d(C, K, k, padding=k // 2, bias=False)
    separable = DepthwiseSeparableConv(C, K, k, bias=False)
    ratio = separable_ratio(K, k)
    assert count_parameters(separable) / count_parameters(standard) == pytest.approx(ratio)
    macs = [count_macs(m, (C, 12, 12)) for m in (separable, standard)]
    assert macs[0] / macs[1] == pytest.approx(ratio)


def test_layernorm2d_normalises_channels_at_each_position():
    torch.manual_seed(2)
    norm = LayerNorm2d(5)
    nn.init.normal_(norm.weight)
    nn.init.normal_(norm.bias)
    x = torch.randn(2, 5, 3, 4)
    expected = F.layer_norm(x.permute(0, 2, 3, 1), (5,), norm.weight, norm.bias, 1e-6)
    torch.testing.assert_close(norm(x), expected.permute(0, 3, 1, 2), **TOL)
    with pytest.raises(ValueError, match=r"\(N, 5, H, W\)"):
        norm(torch.randn(2, 4, 3, 3))


class TorchvisionStyleCNBlock(nn.Module):
    """ConvNeXt's block as torchvision writes it: depthwise conv, then channels-last
    LayerNorm, Linear, GELU, Linear, layer scale, residual."""

    def __init__(self, dim: int):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.fc1, self.fc2 = nn.Linear(dim, 4 * dim), nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(torch.randn(dim))

    def forward(self, x):
        y = self.norm(self.dwconv(x).permute(0, 2, 3, 1))
        y = self.fc2(F.gelu(self.fc1(y))) * self.gamma
        return x + y.permute(0, 3, 1, 2)


def test_convnext_block_equals_the_linear_layer_formulation():
    torch.manual_seed(3)
    dim = 8
    ref = TorchvisionStyleCNBlock(dim)
    block = ConvNeXtBlock(dim, layers="scratch")
    with torch.no_grad():
        block.dwconv.weight.copy_(ref.dwconv.weight)
        block.dwconv.bias.copy_(ref.dwconv.bias)
        block.pwconv1.weight.copy_(ref.fc1.weight[:, :, None, None])
        block.pwconv1.bias.copy_(ref.fc1.bias)
        block.pwconv2.weight.copy_(ref.fc2.weight[:, :, None, None])
        block.pwconv2.bias.copy_(ref.fc2.bias)
        block.gamma.copy_(ref.gamma)
    x = torch.randn(2, dim, 9, 9)
    torch.testing.assert_close(block(x), ref(x), **TOL)
    assert count_parameters(block) == count_parameters(ref)


def test_convnext_block_starts_as_the_identity_up_to_layer_scale():
    block = ConvNeXtBlock(6, layer_scale=0.0)
    x = torch.randn(1, 6, 8, 8)
    torch.testing.assert_close(block(x), x)


@settings(max_examples=15, deadline=None)
@given(C=st.integers(1, 40), k=st.sampled_from([3, 5, 7]), e=st.integers(1, 4))
def test_convnext_param_formula(C, k, e):
    assert count_parameters(ConvNeXtBlock(C, k, e)) == convnext_block_params(C, k, e)


def test_convnext_t_stage1_block_size():
    assert convnext_block_params(96) == 79_296 == 8 * 96 ** 2 + (49 + 9) * 96


@pytest.mark.parametrize("make,match", [
    (lambda: DepthwiseSeparableConv(0, 4), "in_channels"),
    (lambda: DepthwiseSeparableConv(4, 4, kernel_size=2.5), "kernel_size"),
    (lambda: ConvNeXtBlock(8, kernel_size=4), "odd"),
    (lambda: ConvNeXtBlock(8, expansion=0), "expansion"),
    (lambda: separable_ratio(0, 3), "out_channels"),
    (lambda: LayerNorm2d(True), "channels"),
])
def test_bad_arguments_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()
