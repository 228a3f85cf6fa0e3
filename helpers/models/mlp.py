"""The multilayer perceptron: the fully connected baseline every CNN is compared with.

Read top-down (the defaults, 28x28 images)::

    flatten           -> 784
    FC 256, ReLU                    200,960 parameters
    FC 10                             2,570     total 203,530

``hidden=()`` is multinomial logistic regression (one linear layer).
"""
from __future__ import annotations

from torch import nn

from helpers.models.base import FeaturesClassifier, activation_module


class FlattenInput(nn.Flatten):
    """(N, *) -> (N, in_features); a ValueError names the shapes if the sizes do not match."""

    def __init__(self, *, in_features: int):
        super().__init__()
        self.in_features = in_features

    def forward(self, x):
        if x[0].numel() != self.in_features:
            raise ValueError(f"this MLP takes {self.in_features} input features, got "
                             f"input of shape {tuple(x.shape)} ({x[0].numel()} per example)")
        return super().forward(x)


class MultiLayerPerceptron(FeaturesClassifier):
    """(N, ...) -> (N, num_classes): flatten, [Linear, activation] per hidden size, Linear."""

    def __init__(self, *, in_features: int = 784, hidden=(256,), num_classes: int = 10,
                 activation: str = "relu"):
        super().__init__()
        modules: list[nn.Module] = [FlattenInput(in_features=in_features)]
        prev = in_features
        for h in tuple(hidden):
            modules += [nn.Linear(prev, h), activation_module(activation)]
            prev = h
        self.features = nn.Sequential(*modules)
        self.classifier = nn.Linear(prev, num_classes)


def mlp(**kwargs) -> MultiLayerPerceptron:
    """A fully connected network; ``kwargs`` (in_features, hidden, num_classes, activation) as
    :class:`MultiLayerPerceptron`."""
    return MultiLayerPerceptron(**kwargs)
