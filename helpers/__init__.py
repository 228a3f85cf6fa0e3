"""Helpers for the CNN course: from-scratch layers, models, data, training and plots.

The notebooks import from here; every public function is tested against PyTorch in
``tests/``.
"""
from helpers.claims import claim
from helpers.data import load_fashion_mnist, load_image, load_mnist
from helpers.device import get_device, seed_everything

__all__ = ["claim", "get_device", "load_fashion_mnist", "load_image", "load_mnist",
           "seed_everything"]
