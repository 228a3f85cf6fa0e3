"""helpers.plots.conv_diagrams: the drawn numbers are the convolution's; bad input is refused."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from helpers.plots import conv_diagrams

pytestmark = pytest.mark.usefixtures("agg_backend")

X = np.array([[3, 1, 0, 2, 1], [2, 4, 1, 0, 3], [1, 2, 5, 1, 0], [0, 1, 2, 4, 2],
              [2, 0, 1, 3, 5]])
W = np.array([[1, 0, -1]] * 3)


def texts(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts] + \
        [ax.get_title() for ax in fig.axes]


def test_im2col_figure_shows_the_patch_matrix_and_the_output():
    fig = conv_diagrams.im2col_figure(X, W)
    shown = texts(fig)
    assert "patch matrix (9×9): one row per output pixel" in shown
    assert "reshaped: y (3×3)" in shown
    assert "-5" in shown            # y[0, 0] = (3 + 2 + 1) - (0 + 1 + 5)
    assert fig.patch.get_facecolor()[:3] == (1.0, 1.0, 1.0) and not plt.get_fignums()


def test_multichannel_figure_adds_the_channels():
    x = np.stack([X[:3, :3], X[2:, 2:]])
    w = np.stack([np.stack([W[:2, :2], -W[:2, :2]]), np.ones((2, 2, 2))]).astype(int)
    fig = conv_diagrams.multichannel_figure(x, w, b=[1, 0], filter_index=0, position=(1, 1))
    s0 = int((x[0, 1:3, 1:3] * w[0, 0]).sum())
    s1 = int((x[1, 1:3, 1:3] * w[0, 1]).sum())
    assert any(t.endswith(f"= {s0} + {s1} + 1 = {s0 + s1 + 1}") for t in texts(fig))
    with pytest.raises(ValueError, match="channels"):
        conv_diagrams.multichannel_figure(x[:1], w)
    with pytest.raises(ValueError, match="position"):
        conv_diagrams.multichannel_figure(x, w, position=(2, 0))


def test_full_correlation_figure_value_is_the_input_gradient():
    import torch
    import torch.nn.functional as F

    g = np.array([[1, 0, 2], [0, 1, 0], [1, 1, 0]])
    xt = torch.zeros(1, 1, 5, 5, dtype=torch.float64, requires_grad=True)
    F.conv2d(xt, torch.tensor(W, dtype=torch.float64)[None, None]).backward(
        torch.tensor(g, dtype=torch.float64)[None, None])
    dx = xt.grad[0, 0].numpy()
    fig = conv_diagrams.full_correlation_figure(g, W, position=(2, 3))
    assert f"dx = dL/dx: dx[2, 3] = {dx[2, 3]:.0f}" in texts(fig)
    with pytest.raises(ValueError, match="whole numbers"):
        conv_diagrams.full_correlation_figure(g + 0.5, W)


def test_padding_modes_figure_shows_each_modes_ring_as_torch_pads_it():
    import torch
    import torch.nn.functional as F

    fig = conv_diagrams.padding_modes_figure(X, pad=2)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == [f"padding_mode='{m}'" for m in conv_diagrams.PADDING_MODES]
    torch_mode = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate",
                  "circular": "circular"}
    for ax, mode in zip(fig.axes, conv_diagrams.PADDING_MODES):
        expected = F.pad(torch.from_numpy(X)[None, None].double(), (2, 2, 2, 2),
                         mode=torch_mode[mode])[0, 0].numpy().astype(int)
        np.testing.assert_array_equal(conv_diagrams.padded_grid(X, 2, mode), expected)
        assert [t.get_text() for t in ax.texts] == [str(v) for v in expected.ravel()]
    assert not plt.get_fignums()
    with pytest.raises(ValueError, match="mode"):
        conv_diagrams.padded_grid(X, 1, "mirror")
    with pytest.raises(ValueError, match="pad"):
        conv_diagrams.padded_grid(X, 5, "reflect")


def test_volume_and_pointwise_figures_state_their_shapes():
    shown = texts(conv_diagrams.filter_volume_figure(channels=3, side=7, kernel=3, filters=4))
    assert any("C × H × W = 3 × 7 × 7" in t for t in shown)
    assert any("K × H' × W' = 4 × 5 × 5" in t for t in shown)
    shown = texts(conv_diagrams.pointwise_figure(channels=6, filters=3))
    assert any("K × C = 3 × 6" in t for t in shown)
    with pytest.raises(ValueError):
        conv_diagrams.filter_volume_figure(kernel=9, side=7)
    with pytest.raises(ValueError):
        conv_diagrams.pointwise_figure(channels=0)
    assert not plt.get_fignums()
