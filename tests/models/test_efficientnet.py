"""helpers.models.efficientnet: squeeze-and-excitation and MBConv against their formulas,
EfficientNet-B0's multiply-adds against the paper's 0.39 B (Tan & Le 2019, Table 2).

Tolerances: float32 outputs compared with atol = rtol = 1e-5.
"""
from __future__ import annotations

import pytest
import torch
from torch import nn

import helpers.layers as scratch
from helpers.models.efficientnet import MBConv, SqueezeExcitation, efficientnet_b0
from helpers.summary import count_macs

TOL = {"atol": 1e-5, "rtol": 1e-5}


def test_squeeze_excitation_gates_each_channel_by_the_global_mean():
    torch.manual_seed(0)
    se = SqueezeExcitation(channels=6, squeeze=2)
    x = torch.randn(3, 6, 5, 7)
    mean = x.mean(dim=(2, 3), keepdim=True)
    hidden = nn.functional.silu(nn.functional.conv2d(mean, se.reduce.weight, se.reduce.bias))
    gate = torch.sigmoid(nn.functional.conv2d(hidden, se.expand.weight, se.expand.bias))
    torch.testing.assert_close(se(x), x * gate, **TOL)


@pytest.mark.parametrize("stride, c_in, c_out, residual", [(1, 8, 8, True), (2, 8, 8, False),
                                                           (1, 8, 12, False)])
def test_mbconv_shapes_and_residual(stride, c_in, c_out, residual):
    block = MBConv(in_channels=c_in, out_channels=c_out, expansion=6, kernel_size=5,
                   stride=stride).eval()
    x = torch.randn(2, c_in, 9, 6)
    y = block(x)
    assert y.shape == (2, c_out, (9 - 1) // stride + 1, (6 - 1) // stride + 1)
    assert block.residual is residual
    if residual:
        torch.testing.assert_close(y - x, block.project(block.se(block.depthwise(
            block.expand(x)))), **TOL)


def test_from_scratch_layers_give_the_same_block():
    torch.manual_seed(1)
    ours = MBConv(in_channels=4, out_channels=4, expansion=3, kernel_size=3, stride=1).eval()
    scratch_block = MBConv(in_channels=4, out_channels=4, expansion=3, kernel_size=3, stride=1,
                           layers=scratch).eval()
    scratch_block.load_state_dict(ours.state_dict())
    x = torch.randn(2, 4, 7, 5)
    torch.testing.assert_close(scratch_block(x), ours(x), **TOL)


def test_b0_multiply_adds_match_the_paper():
    with torch.device("meta"):
        model = efficientnet_b0()
    macs = count_macs(model, (3, 224, 224))
    assert round(macs / 1e9, 2) == 0.39   # Tan & Le 2019, Table 2: 0.39 B FLOPS (multiply-adds)


def test_b0_runs_on_a_small_image():
    model = efficientnet_b0(num_classes=7).eval()
    assert model(torch.randn(2, 3, 64, 48)).shape == (2, 7)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="expansion"):
        MBConv(in_channels=4, out_channels=4, expansion=0, kernel_size=3, stride=1)
