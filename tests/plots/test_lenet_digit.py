"""helpers.plots.lenet_digit: the figure of one digit through LeNet-5, and its explorer."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from helpers.models import lenet5
from helpers.plots import lenet_digit

pytestmark = pytest.mark.usefixtures("agg_backend")


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return lenet5(input_size=28)


def test_the_figure_shows_input_both_convolutions_and_ten_probabilities(model):
    fig = lenet_digit.draw_lenet_digit(model, np.zeros((28, 28), np.float32), label=3)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 1 + 6 + 16 + 1
    bars = fig.axes[-1]
    assert len(bars.patches) == 10
    assert np.isclose(sum(p.get_width() for p in bars.patches), 1.0)
    assert bars.get_title().startswith("LeNet-5 reads a ")


def test_the_explorer_stores_the_figure_and_the_web_mount(model, capsys, monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    images = np.zeros((4, 28, 28), np.uint8)
    images[:, 8:20, 12:16] = 255
    lenet_digit.digit_explorer(model, images, [1, 1, 1, 1], index=2)
    assert isinstance(shown[0], Figure)
    assert 'data-explorer="draw-digit"' in shown[1].data
    assert "lenet5_mnist.json" in shown[1].data


def test_the_explorer_refuses_bad_input(model):
    with pytest.raises(ValueError, match="28, 28"):
        lenet_digit.digit_explorer(model, np.zeros((4, 32, 32)), [0] * 4)
    with pytest.raises(ValueError, match="index"):
        lenet_digit.digit_explorer(model, np.zeros((4, 28, 28)), [0] * 4, index=4)
