"""helpers.models.vit: the attention choices of ViT and the small tiny_vit."""
from __future__ import annotations

import pytest
import torch

from helpers.attention import MultiHeadSelfAttention
from helpers.models import (
    tiny_vit,
    vit_b_16,
)
from helpers.models.vit import TorchSelfAttention
from helpers.summary import count_parameters

pytestmark = pytest.mark.usefixtures("one_thread")



def test_vit_attention_choices_have_the_same_count(on_meta):
    scratch_vit, torch_vit = on_meta("vit_b_16"), on_meta("vit_b_16", attention="torch")
    assert isinstance(scratch_vit.features.encoder[0].attention, MultiHeadSelfAttention)
    assert isinstance(torch_vit.features.encoder[0].attention, TorchSelfAttention)
    assert count_parameters(torch_vit) == count_parameters(scratch_vit) == 86_567_656
    with pytest.raises(ValueError, match="attention"):
        vit_b_16(attention="flash")


def test_tiny_vit_shapes_and_errors():
    model = tiny_vit(patch=4)
    assert model.features(torch.zeros(2, 1, 28, 28)).shape == (2, 50, 64)
    with pytest.raises(ValueError, match="patch"):
        model(torch.zeros(1, 1, 30, 30))
    with pytest.raises(ValueError, match="image size"):
        model(torch.zeros(1, 1, 32, 32))
    with pytest.raises(ValueError, match="multiple"):
        tiny_vit(patch=5)
