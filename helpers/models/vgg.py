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

:class:`SmallVGG` (:func:`small_vgg`) is the same recipe at small width for 28x28 images on a
CPU: stages of 3x3 convs and a 2x2 max pool, then FC ``hidden``, FC classes.
"""
from __future__ import annotations

from torch import nn

from helpers.models.base import (
    FeaturesClassifier,
    activation_module,
    resolve_layers,
    spatial_after_pools,
)

CONFIGS = {
    "vgg11": (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "vgg13": (64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "vgg16": (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
              512, 512, 512, "M"),
    "vgg19": (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
              512, 512, 512, 512, "M"),
}


def vgg_trunk(config, *, in_channels: int = 3, batch_norm: bool = False, layers=None,
              activation: str = "relu") -> nn.Sequential:
    """(N, in_channels, H, W) -> (N, last width, H / 2**pools, W / 2**pools): 3x3 convs
    (padding 1, so H and W are kept), each followed by ``activation`` ("relu" or "tanh"), and
    2x2 max pools (H, W halved) per ``config``."""
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
        modules.append(nn.ReLU(inplace=True) if activation == "relu"
                       else activation_module(activation))
        channels = item
    return nn.Sequential(*modules)


class VGG(FeaturesClassifier):
    """(N, 3, 224, 224) -> (N, num_classes); the trunk gives (N, 512, 7, 7)."""

    def __init__(self, *, config, num_classes: int = 1000, in_channels: int = 3,
                 batch_norm: bool = False, dropout: float = 0.5, layers=None):
        super().__init__()
        self.features = vgg_trunk(config, in_channels=in_channels, batch_norm=batch_norm,
                                  layers=layers)
        self.classifier = nn.Sequential(
            nn.AdaptiveAvgPool2d((7, 7)), nn.Flatten(),
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(4096, num_classes),
        )


def vgg11(**kwargs) -> VGG:
    """VGG-11 (config A): 8 convs + 3 FC; 132,863,336 parameters. ``kwargs`` as :class:`VGG`."""
    return VGG(config=CONFIGS["vgg11"], **kwargs)


def vgg13(**kwargs) -> VGG:
    """VGG-13 (config B): 10 convs + 3 FC; 133,047,848 parameters."""
    return VGG(config=CONFIGS["vgg13"], **kwargs)


def vgg16(**kwargs) -> VGG:
    """VGG-16 (config D): 13 convs + 3 FC; 138,357,544 parameters."""
    return VGG(config=CONFIGS["vgg16"], **kwargs)


def vgg19(**kwargs) -> VGG:
    """VGG-19 (config E): 16 convs + 3 FC; 143,667,240 parameters."""
    return VGG(config=CONFIGS["vgg19"], **kwargs)


class SmallVGG(FeaturesClassifier):
    """(N, C, S, S) -> (N, num_classes), S = ``input_size``; the trunk gives (N, c, S', S'),
    S' = S // 2**len(channels)."""

    def __init__(self, *, channels=(32, 64), convs_per_stage: int = 2, hidden: int = 128,
                 num_classes: int = 10, in_channels: int = 1, input_size: int = 28,
                 batch_norm: bool = False, dropout: float = 0.5, layers=None,
                 activation: str = "relu"):
        super().__init__()
        config = [item for c in channels for item in [c] * convs_per_stage + ["M"]]
        self.features = vgg_trunk(config, in_channels=in_channels, batch_norm=batch_norm,
                                  layers=layers, activation=activation)
        side = spatial_after_pools(input_size, len(channels))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(channels[-1] * side * side, hidden),
            activation_module(activation),
            nn.Dropout(dropout), nn.Linear(hidden, num_classes))


def small_vgg(**kwargs) -> SmallVGG:
    """Stages of ``convs_per_stage`` 3x3 convs + 2x2 max pool, then FC ``hidden``, FC classes.

    Keyword arguments (those of :class:`SmallVGG`): ``channels=(32, 64)`` (filters per stage),
    ``convs_per_stage=2``, ``hidden=128``, ``num_classes=10``, ``in_channels=1``,
    ``input_size=28``, ``batch_norm=False``, ``dropout=0.5``, ``activation="relu"``,
    ``layers=None``. (N, in_channels, S, S) -> (N, num_classes), S = ``input_size``."""
    return SmallVGG(**kwargs)
