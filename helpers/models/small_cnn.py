"""A small convolutional network for CPU experiments on 28x28 images.

Read top-down (the defaults, ``channels=(16, 32)``)::

    per stage: conv c @ 3x3 (same padding), ReLU, max pool 2x2     28 -> 14 -> 7
    global average pool -> 32, FC 10

With ``global_pool=True`` (the default) it takes any input size; ``global_pool=False`` flattens
the last feature map instead, like LeNet and VGG, so the head depends on ``input_size``.
"""
from __future__ import annotations

from torch import nn

from helpers.models.base import FeaturesClassifier, resolve_layers, spatial_after_pools


class SmallCNN(FeaturesClassifier):
    """(N, C, H, W) -> (N, num_classes). With ``global_pool`` any H, W >= 2**len(channels)
    works; without, the flattened trunk must match ``input_size``."""

    def __init__(self, *, channels=(16, 32), num_classes: int = 10, global_pool: bool = True,
                 in_channels: int = 1, kernel_size: int = 3, input_size: int = 28,
                 batch_norm: bool = False, layers=None):
        super().__init__()
        L = resolve_layers(layers)
        modules: list[nn.Module] = []
        prev = in_channels
        for c in channels:
            modules.append(L.Conv2d(prev, c, kernel_size, padding=kernel_size // 2))
            if batch_norm:
                modules.append(nn.BatchNorm2d(c))
            modules += [nn.ReLU(inplace=True), L.MaxPool2d(kernel_size=2, stride=2)]
            prev = c
        self.features = nn.Sequential(*modules)
        if global_pool:
            head = [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(prev, num_classes)]
        else:
            side = spatial_after_pools(input_size, len(channels))
            head = [nn.Flatten(), nn.Linear(prev * side * side, num_classes)]
        self.classifier = nn.Sequential(*head)


def small_cnn(**kwargs) -> SmallCNN:
    """Per stage: conv (same padding), ReLU, 2x2 max pool; then global avg pool and linear.

    Keyword arguments (those of :class:`SmallCNN`): ``channels=(16, 32)`` (filters per stage,
    one stage each), ``kernel_size=3``, ``in_channels=1``, ``num_classes=10``,
    ``input_size=28`` (used when ``global_pool=False``), ``global_pool=True``,
    ``batch_norm=False``, ``layers=None``. (N, in_channels, H, W) -> (N, num_classes)."""
    return SmallCNN(**kwargs)
