"""VGG (Simonyan and Zisserman, 2014): only 3x3 convolutions, a 2x2 max pool after each stage,
channels doubling from 64 to 512, then three fully connected layers.

Configurations (numbers are 3x3 conv widths, ``"M"`` a 2x2 max pool)::

    vgg11 (A): 64 M 128 M 256 256 M 512 512 M 512 512 M              132,863,336 parameters
    vgg13 (B): 64 64 M 128 128 M 256 256 M 512 512 M 512 512 M        133,047,848
    vgg16 (D): 64 64 M 128 128 M 256 256 256 M 512 512 512 M 512 512 512 M   138,357,544
    vgg19 (E): ... four convs in each of the last three stages         143,667,240

then adaptive avg pool 7x7, flatten (25,088), FC 4096, ReLU, dropout, FC 4096, ReLU, dropout,
FC 1000. Variant choices (as torchvision): no local response normalisation (config A-LRN is
omitted); ``batch_norm=True`` adds a BatchNorm after every conv (the later "vgg*_bn" models);
the adaptive pool lets other input sizes through. The counts above are for ``batch_norm=False``.
"""
from __future__ import annotations

from torch import nn

from helpers.models.base import FeaturesClassifier, resolve_layers

CONFIGS = {
    "vgg11": (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "vgg13": (64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "vgg16": (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
              512, 512, 512, "M"),
    "vgg19": (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
              512, 512, 512, 512, "M"),
}


def vgg_trunk(config, in_channels: int = 3, batch_norm: bool = False, layers=None) -> nn.Sequential:
    """3x3 convs (padding 1, so H and W are kept) and 2x2 max pools (H, W halved) per ``config``."""
    L = resolve_layers(layers)
    modules: list[nn.Module] = []
    channels = in_channels
    for item in config:
        if item == "M":
            modules.append(L.MaxPool2d(kernel_size=2, stride=2))
            continue
        if not isinstance(item, int) or item <= 0:
            raise ValueError(f"VGG config entries are positive ints or 'M', got {item!r}")
        modules.append(L.Conv2d(channels, item, kernel_size=3, padding=1))
        if batch_norm:
            modules.append(nn.BatchNorm2d(item))
        modules.append(nn.ReLU(inplace=True))
        channels = item
    return nn.Sequential(*modules)


class VGG(FeaturesClassifier):
    """(N, 3, 224, 224) -> (N, num_classes); the trunk gives (N, 512, 7, 7)."""

    def __init__(self, config, num_classes: int = 1000, in_channels: int = 3,
                 batch_norm: bool = False, dropout: float = 0.5, layers=None):
        super().__init__()
        self.features = vgg_trunk(config, in_channels, batch_norm, layers)
        self.classifier = nn.Sequential(
            nn.AdaptiveAvgPool2d((7, 7)), nn.Flatten(),
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(4096, num_classes),
        )


def _vgg(name: str, num_classes: int, in_channels: int, batch_norm: bool, dropout: float,
         layers) -> VGG:
    return VGG(CONFIGS[name], num_classes, in_channels, batch_norm, dropout, layers)


def vgg11(num_classes=1000, in_channels=3, batch_norm=False, dropout=0.5, layers=None) -> VGG:
    """VGG-11 (config A): 8 convs + 3 FC; 132,863,336 parameters."""
    return _vgg("vgg11", num_classes, in_channels, batch_norm, dropout, layers)


def vgg13(num_classes=1000, in_channels=3, batch_norm=False, dropout=0.5, layers=None) -> VGG:
    """VGG-13 (config B): 10 convs + 3 FC; 133,047,848 parameters."""
    return _vgg("vgg13", num_classes, in_channels, batch_norm, dropout, layers)


def vgg16(num_classes=1000, in_channels=3, batch_norm=False, dropout=0.5, layers=None) -> VGG:
    """VGG-16 (config D): 13 convs + 3 FC; 138,357,544 parameters."""
    return _vgg("vgg16", num_classes, in_channels, batch_norm, dropout, layers)


def vgg19(num_classes=1000, in_channels=3, batch_norm=False, dropout=0.5, layers=None) -> VGG:
    """VGG-19 (config E): 16 convs + 3 FC; 143,667,240 parameters."""
    return _vgg("vgg19", num_classes, in_channels, batch_norm, dropout, layers)
