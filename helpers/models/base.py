"""What every model of the zoo shares: a ``features`` trunk, a ``classifier`` head, and the
choice of where its convolution and pooling layers come from (``layers=``).

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
