"""AlexNet (Krizhevsky, Sutskever and Hinton, 2012), torchvision's single-tower variant.

Read top-down (224x224 input)::

    conv 64 @ 11x11 /4, pad 2 -> 64x55x55     ReLU, max pool 3x3 /2 -> 27x27
    conv 192 @ 5x5, pad 2     -> 192x27x27    ReLU, max pool 3x3 /2 -> 13x13
    conv 384 @ 3x3, pad 1     -> 384x13x13    ReLU
    conv 256 @ 3x3, pad 1     -> 256x13x13    ReLU
    conv 256 @ 3x3, pad 1     -> 256x13x13    ReLU, max pool 3x3 /2 -> 6x6
    adaptive avg pool 6x6, flatten -> 9216
    dropout, FC 4096, ReLU, dropout, FC 4096, ReLU, FC 1000        total 61,100,840

Variant choices (as torchvision, after Krizhevsky's "one weird trick" paper, 2014): one tower
instead of two GPUs' worth of grouped convolutions, 64-192-384-256-256 channels, no local
response normalisation, and an adaptive average pool to 6x6 so other input sizes also work.

:func:`alexnet2012` is the network of the 2012 paper, for counting: 96-256-384-384-256
channels, conv 2, 4 and 5 split in two groups (each GPU's half saw only its own half of the
maps), local response normalisation after conv 1 and 2; 60,965,224 parameters.
"""
from __future__ import annotations

from torch import nn

from helpers.models.base import FeaturesClassifier, resolve_layers


def dense_head(num_classes: int, dropout: float) -> list[nn.Module]:
    """(N, 256·6·6) -> (N, num_classes): AlexNet's three fully connected layers, dropout before
    the first two (the same in the 2012 and torchvision variants)."""
    return [nn.Dropout(dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes)]


class AlexNet(FeaturesClassifier):
    """(N, 3, 224, 224) -> (N, num_classes)."""

    def __init__(self, *, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5,
                 layers=None):
        super().__init__()
        L = resolve_layers(layers)
        self.features = nn.Sequential(
            L.Conv2d(in_channels, 64, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True),
            L.MaxPool2d(kernel_size=3, stride=2),
            L.Conv2d(64, 192, kernel_size=5, padding=2), nn.ReLU(inplace=True),
            L.MaxPool2d(kernel_size=3, stride=2),
            L.Conv2d(192, 384, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            L.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            L.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            L.MaxPool2d(kernel_size=3, stride=2),
        )
        self.classifier = nn.Sequential(
            nn.AdaptiveAvgPool2d((6, 6)), nn.Flatten(), *dense_head(num_classes, dropout))


def alexnet(**kwargs) -> AlexNet:
    """AlexNet, torchvision variant: 61,100,840 parameters for 1000 classes; ``kwargs`` as
    :class:`AlexNet`."""
    return AlexNet(**kwargs)


#: The paper's LRN (n = 5, alpha = 1e-4, beta = 0.75, k = 2) in PyTorch's convention, which
#: uses ``alpha / size`` in the sum: alpha = 1e-4 * 5.
LRN_2012 = dict(size=5, alpha=1e-4 * 5, beta=0.75, k=2.0)


class AlexNet2012(FeaturesClassifier):
    """(N, 3, 224, 224) -> (N, num_classes): the two-GPU network of Krizhevsky et al. (2012)
    as one model -- the two towers are the two ``groups`` of conv 2, 4 and 5 (conv 3 and the
    fully connected layers read both towers) -- with local response normalisation after conv 1
    and conv 2 (§3.3: n = 5, alpha = 1e-4, beta = 0.75, k = 2).

    The paper's normalisation is
    ``b_i = a_i / (k + alpha * sum_{j in window(i, n)} a_j**2) ** beta``;
    PyTorch's :class:`~torch.nn.LocalResponseNorm` divides ``alpha`` by ``size``, so the paper's
    alpha = 1e-4 is ``alpha = 1e-4 * 5 = 5e-4`` there (see :data:`LRN_2012`)."""

    def __init__(self, *, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5):
        super().__init__()
        lrn = LRN_2012
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 96, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True),
            nn.LocalResponseNorm(**lrn), nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(96, 256, kernel_size=5, padding=2, groups=2), nn.ReLU(inplace=True),
            nn.LocalResponseNorm(**lrn), nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(256, 384, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 384, kernel_size=3, padding=1, groups=2), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1, groups=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), *dense_head(num_classes, dropout))


def alexnet2012(**kwargs) -> AlexNet2012:
    """AlexNet as in the 2012 paper: 60,965,224 parameters for 1000 classes; ``kwargs`` as
    :class:`AlexNet2012`."""
    return AlexNet2012(**kwargs)
