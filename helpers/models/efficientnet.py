"""EfficientNet-B0 (Tan & Le, 2019): inverted bottlenecks with squeeze-and-excitation.

:class:`SqueezeExcitation` (Hu et al. 2018): a global average pool, two 1 x 1 convs and a
sigmoid give each channel a gate in (0, 1) computed from the whole image.
:class:`MBConv` (MobileNetV2's inverted bottleneck, Sandler et al. 2018): expand with a 1 x 1
conv, filter each channel with a k x k depthwise conv, gate with squeeze-and-excitation,
project back with a 1 x 1 conv, and add the input when the shapes allow.
:class:`EfficientNet`: a stem, the seven stages of ``EFFICIENTNET_B0_STAGES``, a 1 x 1 conv to
1,280 channels and a linear classifier.

Convolutions come from ``layers`` as in the rest of the model zoo (``None``: ``torch.nn``;
``"scratch"`` or ``helpers.layers``: the course's from-scratch ``Conv2d``).
"""
from __future__ import annotations

import torch
from torch import nn

from helpers.models.base import positive_int, resolve_layers


class SqueezeExcitation(nn.Module):
    """(N, C, H, W) -> (N, C, H, W): x * sigmoid(W2 SiLU(W1 mean_hw(x))), W1: C -> squeeze."""

    def __init__(self, *, channels: int, squeeze: int, layers=None):
        super().__init__()
        L = resolve_layers(layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.reduce = L.Conv2d(positive_int(channels, "channels"),
                               positive_int(squeeze, "squeeze"), 1)
        self.act = nn.SiLU()
        self.expand = L.Conv2d(squeeze, channels, 1)
        self.gate = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.gate(self.expand(self.act(self.reduce(self.pool(x)))))
        return x * scale


def conv_bn_silu(L, in_channels: int, out_channels: int, kernel_size: int, *, stride: int = 1,
                 groups: int = 1, act: bool = True) -> nn.Sequential:
    """(N, C, H, W) -> (N, K, H', W'), H' = (H + 2 (k // 2) - k) // s + 1: conv, BN, SiLU."""
    parts = [L.Conv2d(in_channels, out_channels, kernel_size, stride=stride,
                      padding=kernel_size // 2, groups=groups, bias=False),
             nn.BatchNorm2d(out_channels)]
    return nn.Sequential(*parts, *([nn.SiLU()] if act else []))


class MBConv(nn.Module):
    """(N, C, H, W) -> (N, K, H', W'), H' = (H - 1) // s + 1: expand C -> e C (1 x 1, skipped
    when e = 1), k x k depthwise at stride s, squeeze-and-excitation to max(1, C // 4),
    project e C -> K (1 x 1, no activation); plus the input when s = 1 and C = K."""

    def __init__(self, *, in_channels: int, out_channels: int, expansion: int, kernel_size: int,
                 stride: int, layers=None):
        super().__init__()
        L = resolve_layers(layers)
        C, K = positive_int(in_channels, "in_channels"), positive_int(out_channels, "out_channels")
        hidden = C * positive_int(expansion, "expansion")
        self.expand = conv_bn_silu(L, C, hidden, 1) if expansion != 1 else nn.Identity()
        self.depthwise = conv_bn_silu(L, hidden, hidden, kernel_size, stride=stride,
                                      groups=hidden)
        self.se = SqueezeExcitation(channels=hidden, squeeze=max(1, C // 4), layers=layers)
        self.project = conv_bn_silu(L, hidden, K, 1, act=False)
        self.residual = stride == 1 and C == K

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.expand(x)
        y = self.depthwise(y)
        y = self.se(y)
        y = self.project(y)
        return x + y if self.residual else y


# (expansion, kernel, stride, out_channels, blocks) per stage: Tan & Le 2019, Table 1
EFFICIENTNET_B0_STAGES = ((1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2),
                          (6, 3, 2, 80, 3), (6, 5, 1, 112, 3), (6, 5, 2, 192, 4),
                          (6, 3, 1, 320, 1))


class EfficientNet(nn.Module):
    """(N, 3, 224, 224) -> (N, num_classes): a 3 x 3 stride-2 conv to 32 channels, the
    :class:`MBConv` stages of ``stages`` (224 -> 7 pixels), a 1 x 1 conv to 1,280 channels,
    global average pooling, dropout and a linear layer."""

    def __init__(self, *, stages=EFFICIENTNET_B0_STAGES, num_classes: int = 1000,
                 in_channels: int = 3, dropout: float = 0.2, layers=None):
        super().__init__()
        L = resolve_layers(layers)
        parts, channels = [conv_bn_silu(L, positive_int(in_channels, "in_channels"), 32, 3,
                                        stride=2)], 32
        for expansion, kernel, stride, out_channels, blocks in stages:
            for i in range(blocks):
                parts.append(MBConv(in_channels=channels, out_channels=out_channels,
                                    expansion=expansion, kernel_size=kernel,
                                    stride=stride if i == 0 else 1, layers=layers))
                channels = out_channels
        parts.append(conv_bn_silu(L, channels, 1280, 1))
        self.features = nn.Sequential(*parts)
        self.classifier = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                        nn.Dropout(dropout), nn.Linear(1280, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        return self.classifier(x)


def efficientnet_b0(**kwargs) -> EfficientNet:
    """EfficientNet-B0 (Tan & Le 2019) at 224 x 224: 5,288,548 parameters."""
    return EfficientNet(**kwargs)
