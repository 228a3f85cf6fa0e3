"""helpers.plots.feature_maps: white figures, no pyplot figure left open, colour limits
symmetric about zero, names and scores in the titles, ValueError on bad shapes."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from helpers.plots.feature_maps import (
    colour_filters,
    filters_before_after,
    photo_and_channels,
    signed_maps,
    top_patches_figure,
)

pytestmark = pytest.mark.usefixtures("agg_backend")


def test_signed_maps_are_centred_on_zero_and_named():
    maps = torch.stack([torch.linspace(-1, 3, 64).view(8, 8), torch.zeros(8, 8)])
    fig = signed_maps(maps, names=["a", "b"], image=np.zeros((8, 8, 3)), ncols=3)
    assert not plt.get_fignums()
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in fig.axes[:3]] == ["input", "a", "b"]
    assert images[1].get_clim() == (-3.0, 3.0)           # symmetric about 0
    assert images[2].get_clim() == (-1.0, 1.0)           # an all-zero map still gets a scale
    with pytest.raises(ValueError, match="names"):
        signed_maps(maps, names=["a"])
    with pytest.raises(ValueError):
        signed_maps(np.zeros((8, 8)))


def test_filters_before_after_keeps_the_order_and_prints_scores():
    rng = np.random.default_rng(0)
    before, after = rng.standard_normal((3, 1, 5, 5)), rng.standard_normal((3, 1, 5, 5))
    fig = filters_before_after(before, after, np.array([0.1, 0.2, 0.3]),
                               np.array([0.4, 0.5, 0.6]), order=[2, 0, 1], ncols=3)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[:3] == ["#2 s=0.30", "#0 s=0.10", "#1 s=0.20"]
    assert titles[3:6] == ["#2 s=0.60", "#0 s=0.40", "#1 s=0.50"]
    lim = float(np.abs(after[2, 0]).max())
    assert fig.axes[3].images[0].get_clim() == pytest.approx((-lim, lim))
    with pytest.raises(ValueError):
        filters_before_after(before, after[:2])


def test_colour_filters_and_photo():
    w = np.zeros((2, 3, 4, 4))
    w[0, 0] = 1.0
    fig = colour_filters(w, scores=[0.5, 0.0])
    rgb = fig.axes[0].images[0].get_array()
    np.testing.assert_allclose(rgb[0, 0], [1.0, 0.5, 0.5])   # red up, grey = 0 elsewhere
    np.testing.assert_allclose(fig.axes[1].images[0].get_array()[0, 0], [0.5, 0.5, 0.5])
    assert fig.axes[0].get_title() == "s=0.50"
    fig = photo_and_channels(np.random.default_rng(0).random((6, 6, 3)))
    assert [ax.get_title() for ax in fig.axes][1] == "channel 0: red"
    with pytest.raises(ValueError):
        colour_filters(np.zeros((2, 1, 4, 4)))
    with pytest.raises(ValueError):
        photo_and_channels(np.zeros((6, 6)))


def test_top_patches_figure_one_row_per_layer_with_the_field():
    crops = [np.random.default_rng(0).random((3, 4, s, s)) for s in (3, 5)]
    fig = top_patches_figure(crops, [3, 5], np.zeros((28, 28)), [(10, 10, 13, 13), (9, 9, 14, 14)],
                             names=["conv1", "conv2"])
    assert len(fig.axes) == 2 * 4
    assert [fig.axes[0].get_title(), fig.axes[4].get_title()] == ["conv1: 3×3", "conv2: 5×5"]
    assert not plt.get_fignums()
    with pytest.raises(ValueError, match="square"):
        top_patches_figure([np.zeros((3, 3, 3, 3))], [3], np.zeros((8, 8)), [(0, 0, 3, 3)])
    with pytest.raises(ValueError, match="as many"):
        top_patches_figure(crops, [3], np.zeros((8, 8)), [(0, 0, 3, 3)])


def test_top_patches_figure_common_scale_keeps_faint_patches_faint():
    faint = np.full((1, 4, 3, 3), 0.5)
    faint[0, :, 0, 0] = 0.6                                    # a faint step
    boxes = [(0, 0, 3, 3)]
    stretched = top_patches_figure([faint], [3], np.zeros((8, 8)), boxes)
    common = top_patches_figure([faint], [3], np.zeros((8, 8)), boxes, scale=(0.0, 1.0))
    tile = [ax.images[0].get_array() for ax in stretched.axes[1:2]][0]
    assert tile.max() == 1.0 and tile[0, 1] == 0.0             # stretched: black and white
    tile = [ax.images[0].get_array() for ax in common.axes[1:2]][0]
    assert abs(tile[0, 0] - 0.6) < 1e-12 and abs(tile[0, 1] - 0.5) < 1e-12
    with pytest.raises(ValueError, match="scale"):
        top_patches_figure([faint], [3], np.zeros((8, 8)), boxes, scale=(1.0, 1.0))
