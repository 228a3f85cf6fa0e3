"""helpers.models.lenet: LeNet-5's count and its two input sizes."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from helpers.models import (
    lenet5,
)
from helpers.summary import count_parameters

# LeNet-5: 6(25+1) + 16(6*25+1) + (400*120+120) + (120*84+84) + (84*10+10)
LENET5_COUNT = 156 + 2_416 + 48_120 + 10_164 + 850


pytestmark = pytest.mark.usefixtures("one_thread")


def test_lenet5_count_and_both_input_sizes():
    assert LENET5_COUNT == 61_706
    for size in (32, 28):
        model = lenet5(input_size=size)
        assert count_parameters(model) == LENET5_COUNT
        assert model(torch.zeros(2, 1, size, size)).shape == (2, 10)
        assert model.features(torch.zeros(1, 1, size, size)).shape == (1, 16, 5, 5)
    assert isinstance(lenet5().features[1], nn.Tanh)
    assert isinstance(lenet5(activation="relu").features[1], nn.ReLU)
    with pytest.raises(ValueError, match="activation"):
        lenet5(activation="sigmoid")
    with pytest.raises(ValueError, match="input_size"):
        lenet5(input_size=30)
