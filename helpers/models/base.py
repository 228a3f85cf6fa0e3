"""What every model of the zoo shares: a ``features`` trunk, a ``classifier`` head, the
choice of where its convolution and pooling layers come from (``layers=``), and the small
checks and pieces several families use (activations by name, the size left after poolings).

``model(x) == model.classifier(model.features(x))`` for every model, so a chapter can look at
the feature maps (``model.features(x)``) or count where the parameters live (trunk vs head).
"""
from __future__ import annotations

import importlib
from types import ModuleType

from torch import nn

LAYER_NAMES = ("Conv2d", "MaxPool2d", "AvgPool2d")
_ALIASES = {"torch": "torch.nn", "nn": "torch.nn", "torch.nn": "torch.nn",
            "scratch": "helpers.layers", "helpers": "helpers.layers",
            "helpers.layers": "helpers.layers"}


def resolve_layers(layers=None) -> ModuleType:
    """The module that provides ``Conv2d``, ``MaxPool2d`` and ``AvgPool2d``.

    ``None`` (the default) is ``torch.nn``; pass the module ``helpers.layers`` (or the string
    ``"scratch"``) to build the same network from the course's from-scratch layers. Only these
    three come from ``layers``; BatchNorm, Linear, ReLU, ... always come from ``torch.nn``.
    """
    if layers is None:
        return nn
    if isinstance(layers, str):
        if layers not in _ALIASES:
            raise ValueError(f"layers={layers!r}: use None, torch.nn, helpers.layers or one of "
                             f"{sorted(_ALIASES)}")
        return importlib.import_module(_ALIASES[layers])
    missing = [name for name in LAYER_NAMES if not hasattr(layers, name)]
    if missing:
        raise ValueError(f"layers={layers!r} lacks {missing}; it must provide {LAYER_NAMES}")
    return layers


class FeaturesClassifier(nn.Module):
    """A model in two parts: ``features`` (the trunk) then ``classifier`` (the head).

    Subclasses assign ``self.features`` and ``self.classifier`` in ``__init__``.
    """

    features: nn.Module
    classifier: nn.Module

    def forward(self, x):
        return self.classifier(self.features(x))


ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU}


def activation_module(name: str) -> nn.Module:
    """``"tanh"`` -> ``nn.Tanh()``, ``"relu"`` -> ``nn.ReLU()``."""
    if name not in ACTIVATIONS:
        raise ValueError(f"activation={name!r}: choose one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]()


def positive_int(value, name: str) -> int:
    """``value`` if it is an int >= 1, else a ValueError that names the argument."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


def spatial_after_pools(input_size: int, pools: int) -> int:
    """The side of a ``input_size`` x ``input_size`` map after ``pools`` 2x2 max pools."""
    size = input_size
    for _ in range(pools):
        size //= 2
    if size < 1:
        raise ValueError(f"input_size={input_size} is too small for {pools} 2x2 poolings")
    return size
