"""helpers.models.vgg: VGG's batch-norm option (counts and shapes are in test_zoo.py)."""
from __future__ import annotations

import pytest
from torch import nn

from helpers.summary import count_parameters

pytestmark = pytest.mark.usefixtures("one_thread")



def test_vgg_batch_norm_option(on_meta):
    plain, bn = on_meta("vgg11"), on_meta("vgg11", batch_norm=True)
    assert count_parameters(bn) - count_parameters(plain) == 2 * (64 + 128 + 2 * 256 + 4 * 512)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in plain.modules())
