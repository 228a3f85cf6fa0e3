"""Depthwise separable convolutions (MobileNets, Howard et al., 2017).

:class:`DepthwiseSeparableConv`: a k x k convolution with ``groups = in_channels`` (each channel
filtered on its own), then a 1 x 1 convolution that mixes the channels. A standard conv has
C K k^2 weights; the pair has C k^2 + C K, a ratio of 1/K + 1/k^2 (see :func:`separable_ratio`).

Convolutions come from ``layers`` as in the rest of the model zoo (``None``: ``torch.nn``;
``"scratch"`` or ``helpers.layers``: the course's from-scratch ``Conv2d``).
"""
from __future__ import annotations

import torch
from torch import nn

from helpers.models.base import positive_int, resolve_layers


def separable_ratio(out_channels: int, kernel_size: int) -> float:
    """Weights (and multiply-adds) of a depthwise separable conv over a standard one, biases
    left out: (C k^2 + C K) / (C K k^2) = 1/K + 1/k^2, independent of C and of H x W."""
    K, k = positive_int(out_channels, "out_channels"), positive_int(kernel_size, "kernel_size")
    return 1 / K + 1 / k ** 2


class DepthwiseSeparableConv(nn.Module):
    """(N, C, H, W) -> (N, K, H', W'), H' = (H + 2p - k) // s + 1, p = k // 2 by default.

    ``depthwise``: Conv2d(C, C, k, stride s, padding p, groups=C) -- C k^2 (+ C) parameters;
    ``pointwise``: Conv2d(C, K, 1) -- C K (+ K) parameters.
    """

    def __init__(self, *, in_channels: int, out_channels: int, kernel_size: int = 3,
                 stride: int = 1, padding: int | None = None, bias: bool = True, layers=None):
        super().__init__()
        C = positive_int(in_channels, "in_channels")
        K = positive_int(out_channels, "out_channels")
        k = positive_int(kernel_size, "kernel_size")
        padding = k // 2 if padding is None else padding
        L = resolve_layers(layers)
        self.depthwise = L.Conv2d(C, C, k, stride=stride, padding=padding, groups=C, bias=bias)
        self.pointwise = L.Conv2d(C, K, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


class SeparableBlock(nn.Sequential):
    """(N, C, H, W) -> (N, K, H', W'), H' = (H + 2 - 3) // s + 1: MobileNet's unit, a 3 x 3
    depthwise conv, BN, ReLU, then a 1 x 1 conv, BN, ReLU (Howard et al. 2017, Fig. 3)."""

    def __init__(self, *, in_channels: int, out_channels: int, stride: int = 1, layers=None):
        C, K = positive_int(in_channels, "in_channels"), positive_int(out_channels, "out_channels")
        L = resolve_layers(layers)
        super().__init__(
            L.Conv2d(C, C, 3, stride=stride, padding=1, groups=C, bias=False),
            nn.BatchNorm2d(C), nn.ReLU(),
            L.Conv2d(C, K, 1, bias=False), nn.BatchNorm2d(K), nn.ReLU())


# (out_channels, stride) of the 13 separable blocks, Howard et al. 2017, Table 1. The table
# prints "s2" for the last depthwise layer, a typo: the output stays 7 x 7, so it is stride 1.
MOBILENET_V1_BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
                       (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1))


class MobileNetV1(nn.Module):
    """(N, 3, 224, 224) -> (N, num_classes): a 3 x 3 stride-2 conv to 32 channels, the 13
    :class:`SeparableBlock` s of ``MOBILENET_V1_BLOCKS`` (224 -> 7 pixels, 1,024 channels),
    global average pooling and one linear layer (Howard et al. 2017, width multiplier 1)."""

    def __init__(self, *, num_classes: int = 1000, in_channels: int = 3, layers=None):
        super().__init__()
        L = resolve_layers(layers)
        blocks, channels = [], 32
        for out_channels, stride in MOBILENET_V1_BLOCKS:
            blocks.append(SeparableBlock(in_channels=channels, out_channels=out_channels,
                                         stride=stride, layers=layers))
            channels = out_channels
        self.features = nn.Sequential(
            L.Conv2d(positive_int(in_channels, "in_channels"), 32, 3, stride=2, padding=1,
                     bias=False),
            nn.BatchNorm2d(32), nn.ReLU(), *blocks)
        self.classifier = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                        nn.Linear(channels, positive_int(num_classes,
                                                                         "num_classes")))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        return self.classifier(x)


def mobilenet_v1(**kwargs) -> MobileNetV1:
    """MobileNet (Howard et al. 2017) at width 1 and 224 x 224: 4,231,976 parameters."""
    return MobileNetV1(**kwargs)
