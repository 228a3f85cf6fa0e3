"""helpers.models.vgg: VGG's batch-norm option (counts and shapes are in test_zoo.py)."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from helpers.models import (
    get_model,
)
from helpers.summary import count_parameters

pytestmark = pytest.mark.usefixtures("one_thread")


def on_meta(name, **kwargs):
    with torch.device("meta"):
        return get_model(name, **kwargs)


def test_vgg_batch_norm_option():
    plain, bn = on_meta("vgg11"), on_meta("vgg11", batch_norm=True)
    assert count_parameters(bn) - count_parameters(plain) == 2 * (64 + 128 + 2 * 256 + 4 * 512)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in plain.modules())
