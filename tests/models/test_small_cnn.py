"""helpers.models.small_cnn and helpers.models.mlp: any input size, and the 56x56 canvas."""
from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.models import (
    mlp,
    small_cnn,
)

pytestmark = pytest.mark.usefixtures("one_thread")


@settings(max_examples=10, deadline=None)
@given(size=st.integers(4, 64), channels=st.lists(st.integers(1, 8), min_size=1, max_size=2))
def test_small_cnn_takes_any_input_size(size, channels):
    model = small_cnn(channels=tuple(channels)).eval()
    if size < 2 ** len(channels):
        return
    assert model(torch.zeros(2, 1, size, size)).shape == (2, 10)


def test_mlp_and_small_cnn_on_56x56():
    assert small_cnn()(torch.zeros(2, 1, 56, 56)).shape == (2, 10)
    assert mlp(in_features=56 * 56)(torch.zeros(2, 1, 56, 56)).shape == (2, 10)
    assert small_cnn(global_pool=False, input_size=56)(torch.zeros(1, 1, 56, 56)).shape == (1, 10)
    with pytest.raises(ValueError, match="784 input features"):
        mlp()(torch.zeros(2, 1, 56, 56))
