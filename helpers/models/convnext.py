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
    Stochastic depth is left out (it only matters when training large models).
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
