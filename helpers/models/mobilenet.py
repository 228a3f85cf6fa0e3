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
