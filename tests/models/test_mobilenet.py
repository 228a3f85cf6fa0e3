"""helpers.models.mobilenet: depthwise separable convs against PyTorch's grouped conv.

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

from helpers.models.mobilenet import DepthwiseSeparableConv, separable_ratio
from helpers.summary import count_macs, count_parameters

TOL = {"atol": 1e-5, "rtol": 1e-5}


@settings(max_examples=15, deadline=None)
@given(C=st.integers(1, 6), K=st.integers(1, 6), k=st.sampled_from([1, 3, 5]),
       stride=st.integers(1, 2), size=st.integers(5, 9), bias=st.booleans())
def test_depthwise_separable_equals_torch_grouped_conv(C, K, k, stride, size, bias):
    torch.manual_seed(0)
    block = DepthwiseSeparableConv(in_channels=C, out_channels=K, kernel_size=k, stride=stride,
                                   bias=bias, layers="scratch")
    x = torch.randn(2, C, size, size)
    dw, pw = block.depthwise, block.pointwise
    expected = F.conv2d(F.conv2d(x, dw.weight, dw.bias, stride, k // 2, groups=C),
                        pw.weight, pw.bias)
    torch.testing.assert_close(block(x), expected, **TOL)
    assert count_parameters(block) == C * k * k + C * K + (C + K if bias else 0)


def test_scratch_and_torch_layers_build_the_same_block():
    torch.manual_seed(1)
    a = DepthwiseSeparableConv(in_channels=4, out_channels=8, layers="scratch")
    torch.manual_seed(1)
    b = DepthwiseSeparableConv(in_channels=4, out_channels=8)
    assert isinstance(b.depthwise, nn.Conv2d) and not isinstance(a.depthwise, nn.Conv2d)
    x = torch.randn(1, 4, 10, 10)
    torch.testing.assert_close(a(x), b(x), **TOL)


@pytest.mark.parametrize("C,K,k", [(32, 64, 3), (128, 256, 3), (16, 16, 5), (3, 1, 7)])
def test_separable_ratio_matches_counted_weights_and_macs(C, K, k):
    standard = nn.Conv2d(C, K, k, padding=k // 2, bias=False)
    separable = DepthwiseSeparableConv(in_channels=C, out_channels=K, kernel_size=k, bias=False)
    ratio = separable_ratio(K, k)
    assert count_parameters(separable) / count_parameters(standard) == pytest.approx(ratio)
    macs = [count_macs(m, (C, 12, 12)) for m in (separable, standard)]
    assert macs[0] / macs[1] == pytest.approx(ratio)


@pytest.mark.parametrize("make,match", [
    (lambda: DepthwiseSeparableConv(in_channels=0, out_channels=4), "in_channels"),
    (lambda: DepthwiseSeparableConv(in_channels=4, out_channels=4, kernel_size=2.5),
     "kernel_size"),
    (lambda: separable_ratio(0, 3), "out_channels"),
])
def test_bad_arguments_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_mobilenet_v1_multiply_adds_match_the_paper():
    from helpers.models.mobilenet import mobilenet_v1
    from helpers.summary import count_macs
    with torch.device("meta"):
        model = mobilenet_v1()
    # Howard et al. 2017, Table 8: 1.0 MobileNet-224, 569 million multiply-adds
    assert round(count_macs(model, (3, 224, 224)) / 1e6) == 569


def test_mobilenet_v1_runs_and_checks_its_arguments():
    from helpers.models.mobilenet import mobilenet_v1
    model = mobilenet_v1(num_classes=5).eval()
    assert model(torch.randn(1, 3, 64, 96)).shape == (1, 5)
    with pytest.raises(ValueError, match="num_classes"):
        mobilenet_v1(num_classes=0)
