"""Chapter 8's figures: one panel per cell, coarse maps laid over the image's pixels, one line per
method or attack with every seed drawn, fonts readable."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from helpers.plots import attribution as P

pytestmark = pytest.mark.usefixtures("agg_backend")


def test_image_table_lays_coarse_maps_over_the_image():
    img, coarse = torch.rand(28, 28), torch.rand(3, 3)
    fig = P.image_table([[img, coarse], [img, coarse]], ["digit", "CAM"], ["a", "b"],
                        extents=[None, (-0.5, 27.5, 27.5, -0.5)], signed=[False, True])
    assert isinstance(fig, Figure) and len(fig.axes) == 4
    ax = fig.axes[1]
    assert ax.get_xlim() == (-0.5, 27.5) and ax.get_ylim() == (27.5, -0.5)
    lo, hi = ax.images[0].get_clim()
    assert lo == -hi                                       # signed: symmetric about 0
    assert all(t.get_fontsize() >= 9 for a in fig.axes for t in [a.title, a.yaxis.label])
    with pytest.raises(ValueError, match="one cell per column"):
        P.image_table([[img]], ["digit", "CAM"])


def test_cascade_and_robustness_plots_draw_every_seed():
    results = {"gradient": np.random.rand(3, 5), "Grad-CAM": np.random.rand(3, 5)}
    fig = P.cascade_plot(["t", "a", "b", "c", "d"], results, passes_below=0.5)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(results)
    assert len(ax.lines) == 2 * (1 + 3) + 1              # mean + 3 seeds per method, threshold
    fig = P.robustness_plot((0, 0.1, 0.2), {"FGSM": np.random.rand(3, 3)})
    ax = fig.axes[0]
    assert len(ax.lines) == 1 + 3 and len(ax.collections) == 1
    assert ax.xaxis.label.get_fontsize() >= 9
    fig = P.robustness_plot((0, 0.1), {"a": np.random.rand(2, 2)}, legend_loc="center right")
    assert fig.axes[0].get_legend()._loc == 7              # matplotlib's code for center right
    assert fig.axes[0].get_ylim() == (-0.02, 1.02)
    fig = P.robustness_plot((0, 0.1), {"a": 100 * np.random.rand(2, 2)}, ylim=(-2, 102))
    assert fig.axes[0].get_ylim() == (-2, 102)               # accuracies in %
