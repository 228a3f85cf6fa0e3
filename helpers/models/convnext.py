"""The ConvNeXt block (Liu et al., 2022): a CNN block built on the transformer's recipe.

:class:`ConvNeXtBlock`: a 7 x 7 depthwise conv, LayerNorm over channels, 1 x 1 conv to 4C, GELU,
1 x 1 conv back to C, a learned per-channel scale, plus the input. ConvNeXt borrows the
transformer's recipe (one spatial mixing step, then a per-position MLP with an inverted
bottleneck) while keeping convolutions.

Convolutions come from ``layers`` as in the rest of the model zoo (``None``: ``torch.nn``;
``"scratch"`` or ``helpers.layers``: the course's from-scratch ``Conv2d``).
"""
from __future__ import annotations

import torch
from torch import nn

from helpers.models.base import positive_int, resolve_layers


class LayerNorm2d(nn.LayerNorm):
    """(N, C, H, W) -> (N, C, H, W): LayerNorm over the C channels at every position (what
    ConvNeXt does), i.e. ``nn.LayerNorm(C)`` applied to the channels-last tensor."""

    def __init__(self, *, channels: int, eps: float = 1e-6):
        super().__init__(positive_int(channels, "channels"), eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.normalized_shape[0]:
            raise ValueError(f"LayerNorm2d({self.normalized_shape[0]}) needs (N, "
                             f"{self.normalized_shape[0]}, H, W), got {tuple(x.shape)}")
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class ConvNeXtBlock(nn.Module):
    """(N, C, H, W) -> (N, C, H, W)::

        y = dwconv k x k (groups=C, padding k // 2)     C k^2 + C
        y = LayerNorm over channels                    2 C
        y = 1 x 1 conv C -> 4C, GELU                   4 C^2 + 4 C
        y = 1 x 1 conv 4C -> C                         4 C^2 + C
        out = x + gamma * y     (gamma: C, starts at layer_scale)

    8 C^2 + (k^2 + 9) C parameters; 79,296 for C = 96, k = 7 (a ConvNeXt-T stage-1 block).
    Stochastic depth is left out: it has no parameters and acts only in training (Liu et al.
    drop a block with probability up to 0.1 in ConvNeXt-T).
    """

    def __init__(self, *, channels: int, kernel_size: int = 7, expansion: int = 4,
                 layer_scale: float = 1e-6, layers=None):
        super().__init__()
        C = positive_int(channels, "channels")
        k = positive_int(kernel_size, "kernel_size")
        hidden = positive_int(expansion, "expansion") * C
        if k % 2 == 0:
            raise ValueError(f"kernel_size={k} must be odd so that padding k // 2 keeps H and W")
        L = resolve_layers(layers)
        self.dwconv = L.Conv2d(C, C, k, padding=k // 2, groups=C)
        self.norm = LayerNorm2d(channels=C)
        self.pwconv1 = L.Conv2d(C, hidden, 1)
        self.act = nn.GELU()
        self.pwconv2 = L.Conv2d(hidden, C, 1)
        self.gamma = nn.Parameter(torch.full((C,), float(layer_scale)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pwconv2(self.act(self.pwconv1(self.norm(self.dwconv(x)))))
        return x + self.gamma.view(1, -1, 1, 1) * y


def convnext_block_params(channels: int, kernel_size: int = 7, expansion: int = 4) -> int:
    """Closed form of :class:`ConvNeXtBlock`'s parameter count (8 C^2 + (k^2 + 9) C at e = 4)."""
    C, k, e = channels, kernel_size, expansion
    return (C * k * k + C) + 2 * C + (C * e * C + e * C) + (e * C * C + C) + C


class ConvNeXt(nn.Module):
    """(N, 3, H, W) -> (N, num_classes), H divisible by 32 (Liu et al. 2022, Fig. 2 / §2):

        stem      4 x 4 conv, stride 4 ("patchify"), LayerNorm        H/4
        stage i   ``depths[i]`` :class:`ConvNeXtBlock` s at ``dims[i]`` channels
        between   LayerNorm, 2 x 2 conv, stride 2                      H/8, H/16, H/32
        head      global average pool, LayerNorm, linear
    """

    def __init__(self, *, depths=(3, 3, 9, 3), dims=(96, 192, 384, 768),
                 num_classes: int = 1000, in_channels: int = 3, layers=None):
        super().__init__()
        if len(depths) != len(dims) or not depths:
            raise ValueError(f"depths {depths} and dims {dims} must be non-empty and as long")
        L = resolve_layers(layers)
        parts = [L.Conv2d(positive_int(in_channels, "in_channels"), dims[0], 4, stride=4),
                 LayerNorm2d(channels=dims[0])]
        for i, (depth, dim) in enumerate(zip(depths, dims)):
            if i:
                parts += [LayerNorm2d(channels=dims[i - 1]),
                          L.Conv2d(dims[i - 1], dim, 2, stride=2)]
            parts += [ConvNeXtBlock(channels=dim, layers=layers)
                      for _ in range(positive_int(depth, "depth"))]
        self.features = nn.Sequential(*parts)
        self.classifier = nn.Sequential(nn.AdaptiveAvgPool2d(1), LayerNorm2d(channels=dims[-1]),
                                        nn.Flatten(), nn.Linear(dims[-1], num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        return self.classifier(x)


def convnext_tiny(**kwargs) -> ConvNeXt:
    """ConvNeXt-T (Liu et al. 2022): depths (3, 3, 9, 3), widths 96-768; 28,589,128 parameters."""
    return ConvNeXt(**kwargs)
