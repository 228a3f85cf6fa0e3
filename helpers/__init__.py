"""Helpers for the CNN course: from-scratch layers, models, data, training and plots.

The notebooks import from here; every public function is tested against PyTorch in
``tests/``. Plots live in ``helpers.plot`` and exercise checkers in ``helpers.exercises``.
"""
from helpers.attention import MultiHeadSelfAttention, scaled_dot_product_attention
from helpers.claims import claim
from helpers.data import load_fashion_mnist, load_image, load_mnist
from helpers.device import get_device, seed_everything
from helpers.layers import (
    AvgPool2d,
    Conv2d,
    MaxPool2d,
    avg_pool2d,
    conv2d,
    conv2d_naive,
    conv2d_naive_backward,
    conv_output_size,
    max_pool2d,
)
from helpers.models import MODEL_NAMES, get_model
from helpers.receptive_field import ReceptiveField, measured_receptive_field, receptive_field
from helpers.summary import count_macs, count_parameters, parameter_breakdown, summary
from helpers.train import History, evaluate, fit, make_loader, steps_to_reach, subset

__all__ = [
    "MODEL_NAMES", "AvgPool2d", "Conv2d", "History", "MaxPool2d", "MultiHeadSelfAttention",
    "ReceptiveField", "avg_pool2d", "claim", "conv2d", "conv2d_naive", "conv2d_naive_backward",
    "conv_output_size", "count_macs", "count_parameters", "evaluate", "fit", "get_device",
    "get_model", "load_fashion_mnist", "load_image", "load_mnist", "make_loader", "max_pool2d",
    "measured_receptive_field", "parameter_breakdown", "receptive_field",
    "scaled_dot_product_attention", "seed_everything", "steps_to_reach", "subset", "summary",
]
