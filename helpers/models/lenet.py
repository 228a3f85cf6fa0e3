"""LeNet-5 (LeCun et al., 1998), in the modern fully connected form most courses use.

Read top-down::

    input 1x32x32
    conv 6 @ 5x5      -> 6x28x28      156 parameters
    avg pool 2x2      -> 6x14x14
    conv 16 @ 5x5     -> 16x10x10    2,416
    avg pool 2x2      -> 16x5x5
    flatten           -> 400
    FC 120                          48,120
    FC 84                           10,164
    FC 10                              850     total 61,706

Variant choices: every conv-2 filter sees all 6 input maps (the paper's sparse C3 connection
table is dropped), the subsampling layers are plain average pools without trainable
coefficients, and the output layer is a linear layer (no RBF units). ``input_size=28`` pads
conv 1 by 2 so MNIST's 28x28 digits give the same shapes and the same parameter count.
"""
from __future__ import annotations

from torch import nn

from helpers.models.base import FeaturesClassifier, activation_module, resolve_layers


class LeNet5(FeaturesClassifier):
    """(N, C, 32, 32) -> (N, num_classes); with ``input_size=28``: (N, C, 28, 28) -> same."""

    def __init__(self, *, num_classes: int = 10, in_channels: int = 1, activation: str = "tanh",
                 input_size: int = 32, layers=None):
        super().__init__()
        if input_size not in (28, 32):
            raise ValueError(f"input_size={input_size}: LeNet-5 takes 32x32 (or 28x28 with "
                             "padding 2 on conv 1)")
        L = resolve_layers(layers)
        padding = (32 - input_size) // 2
        self.features = nn.Sequential(
            L.Conv2d(in_channels, 6, kernel_size=5, padding=padding), activation_module(activation),
            L.AvgPool2d(kernel_size=2, stride=2),
            L.Conv2d(6, 16, kernel_size=5), activation_module(activation),
            L.AvgPool2d(kernel_size=2, stride=2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120), activation_module(activation),
            nn.Linear(120, 84), activation_module(activation),
            nn.Linear(84, num_classes),
        )


def lenet5(**kwargs) -> LeNet5:
    """LeNet-5: 61,706 parameters with the defaults; ``kwargs`` as :class:`LeNet5`."""
    return LeNet5(**kwargs)
