"""helpers.models.convnext: the ConvNeXt block and its LayerNorm, against PyTorch.

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

from helpers.models.convnext import ConvNeXtBlock, LayerNorm2d, convnext_block_params
from helpers.summary import count_parameters

TOL = {"atol": 1e-5, "rtol": 1e-5}


def test_layernorm2d_normalises_channels_at_each_position():
    torch.manual_seed(2)
    norm = LayerNorm2d(channels=5)
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
    block = ConvNeXtBlock(channels=dim, layers="scratch")
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
    block = ConvNeXtBlock(channels=6, layer_scale=0.0)
    x = torch.randn(1, 6, 8, 8)
    torch.testing.assert_close(block(x), x)


@settings(max_examples=15, deadline=None)
@given(C=st.integers(1, 40), k=st.sampled_from([3, 5, 7]), e=st.integers(1, 4))
def test_convnext_param_formula(C, k, e):
    block = ConvNeXtBlock(channels=C, kernel_size=k, expansion=e)
    assert count_parameters(block) == convnext_block_params(C, k, e)


def test_convnext_t_stage1_block_size():
    assert convnext_block_params(96) == 79_296 == 8 * 96 ** 2 + (49 + 9) * 96


@pytest.mark.parametrize("make,match", [
    (lambda: ConvNeXtBlock(channels=8, kernel_size=4), "odd"),
    (lambda: ConvNeXtBlock(channels=8, expansion=0), "expansion"),
    (lambda: LayerNorm2d(channels=True), "channels"),
])
def test_bad_arguments_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_convnext_tiny_multiply_adds_match_the_paper():
    from helpers.models.convnext import convnext_tiny
    from helpers.summary import count_macs
    with torch.device("meta"):
        model = convnext_tiny()
    assert round(count_macs(model, (3, 224, 224)) / 1e9, 1) == 4.5   # Liu et al. 2022, Table 1


def test_convnext_runs_and_checks_its_arguments():
    from helpers.models.convnext import ConvNeXt
    model = ConvNeXt(depths=(1, 1), dims=(8, 16), num_classes=3).eval()
    assert model(torch.randn(2, 3, 32, 64)).shape == (2, 3)
    with pytest.raises(ValueError, match="depths"):
        ConvNeXt(depths=(1,), dims=(8, 16))
