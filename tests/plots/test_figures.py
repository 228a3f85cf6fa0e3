"""helpers.plots.figures: every function returns a white Figure, leaves no pyplot figure open, keeps
its title, and rejects bad shapes with ValueError."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from helpers.plots.figures import (
    image_grid,
    plot_curve,
    plot_history,
    plot_receptive_field,
    show_feature_maps,
    show_filters,
)
from helpers.train import History

pytestmark = pytest.mark.usefixtures("agg_backend")


WHITE = to_rgba("white")
H1 = History(train_loss=[1.0, 0.6, 0.4], val_acc=[0.5, 0.7, 0.8],
             step_loss=list(np.linspace(2, 0.1, 40)))
H2 = History(train_loss=[1.2, 0.9, 0.7], val_acc=[0.4, 0.6, 0.7],
             step_loss=list(np.linspace(2, 0.5, 40)))


def titles(fig: Figure) -> list[str]:
    found = [ax.get_title() for ax in fig.axes]
    return found + ([fig._suptitle.get_text()] if fig._suptitle is not None else [])


CASES = {
    "image_grid": lambda: image_grid(np.zeros((5, 28, 28), np.uint8), labels=[0, 1, 2, 3, 4],
                                     ncols=3, class_names="abcde", title="T"),
    "image_grid_rgb": lambda: image_grid(torch.rand(3, 3, 8, 8), title="T"),
    "show_filters": lambda: show_filters(torch.randn(6, 1, 5, 5), title="T"),
    "show_filters_rgb": lambda: show_filters(torch.randn(4, 3, 11, 11), ncols=2, title="T"),
    "show_feature_maps": lambda: show_feature_maps(torch.rand(1, 20, 7, 7), max_maps=8,
                                                   title="T"),
    "plot_history": lambda: plot_history({"relu": H1, "tanh": H2}, title="T"),
    "plot_history_steps": lambda: plot_history(H1, metric="step_loss", smooth=5, logy=True,
                                               title="T"),
    "plot_receptive_field": lambda: plot_receptive_field(np.zeros((40, 60, 3)), (20, 30),
                                                         [3, 11, 51], title="T"),
    "plot_curve": lambda: plot_curve([1, 10, 100], {"a": [1, 2, 3], "b": [3, 2, 1]}, "n",
                                     "seconds", logx=True, logy=True, title="T"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_returns_a_closed_white_figure_with_its_title(name):
    plt.close("all")
    with plt.style.context("dark_background"):   # a dark notebook style must not leak in
        fig = CASES[name]()
    assert isinstance(fig, Figure)
    assert plt.get_fignums() == []               # closed in pyplot: shown once, as the value
    assert fig.get_facecolor() == WHITE
    assert all(ax.get_facecolor() == WHITE for ax in fig.axes if ax.axison)
    assert "T" in titles(fig)
    fig.canvas.draw()                            # renders without error


def test_contents():
    grid = image_grid(np.zeros((5, 4, 4)), labels=np.array([0, 1, 2, 3, 4]), ncols=3,
                      class_names="abcde")
    assert [ax.get_title() for ax in grid.axes][:5] == list("abcde")
    assert len(grid.axes) == 6 and not grid.axes[5].axison     # 2 x 3 grid, one unused
    history = plot_history({"relu": H1, "tanh": H2}, metric="val_acc")
    assert [t.get_text() for t in history.axes[0].get_legend().get_texts()] == ["relu", "tanh"]
    assert len(history.axes[0].lines[0].get_xdata()) == 3
    smoothed = plot_history(H1, metric="step_loss", smooth=5)
    assert len(smoothed.axes[0].lines[0].get_xdata()) == 36
    rf = plot_receptive_field(np.zeros((40, 60)), (20, 30), [3, 11])
    assert len(rf.axes[0].patches) == 2
    pairs = plot_curve(None, {"a": ([1, 2], [3, 4]), "b": ([1, 2, 3], [1, 1, 1])})
    assert [len(line.get_xdata()) for line in pairs.axes[0].lines] == [2, 3]
    styled = plot_curve([0, 1, 2], {"a": [0, 1, 2], "b": [0, 1, 2]}, xticks=[0, 1, 2],
                        styles={"b": {"linestyle": "--", "marker": "s"}}, legend_outside=True)
    ax = styled.axes[0]
    assert list(ax.get_xticks()) == [0, 1, 2]
    assert ax.lines[1].get_linestyle() == "--" and ax.lines[1].get_marker() == "s"
    assert ax.get_legend().get_bbox_to_anchor() is not None
    shared = image_grid(np.stack([np.zeros((4, 4)), np.full((4, 4), 0.5)]), vmin=0, vmax=1)
    assert shared.axes[1].images[0].get_clim() == (0, 1)


def test_bad_inputs():
    with pytest.raises(ValueError, match="images"):
        image_grid(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="labels"):
        image_grid(np.zeros((2, 4, 4)), labels=[1])
    with pytest.raises(ValueError, match="filters"):
        show_filters(np.zeros((3, 3, 3)))
    with pytest.raises(ValueError, match="channel"):
        show_filters(np.zeros((2, 1, 3, 3)), channel=1)
    with pytest.raises(ValueError, match="feature maps"):
        show_feature_maps(np.zeros((2, 3, 4, 4)))
    with pytest.raises(ValueError, match="metric"):
        plot_history(H1, metric="accuracy")
    with pytest.raises(ValueError, match="outside"):
        plot_receptive_field(np.zeros((10, 10)), (10, 3), 3)
    with pytest.raises(ValueError, match="x values"):
        plot_curve([1, 2], {"a": [1, 2, 3]})
    with pytest.raises(ValueError, match="not plotted"):
        plot_curve([1, 2], {"a": [1, 2]}, styles={"b": {}})
    assert plt.get_fignums() == []


def test_receptive_field_squares_sit_on_the_pixel_grid():
    fig = plot_receptive_field(np.zeros((28, 28)), (14, 14), [10, 3, 28])
    boxes = [(p.get_x(), p.get_y(), p.get_width(), p.get_height()) for p in fig.axes[0].patches]
    assert boxes[0] == (8.5, 8.5, 10, 10)          # pixels 9..18: edges at half-integers
    assert boxes[1] == (12.5, 12.5, 3, 3)          # pixels 13..15, centred on 14
    assert boxes[2] == (-0.5, -0.5, 28, 28)        # the whole image, not beyond it
    assert not any(p.get_clip_on() for p in fig.axes[0].patches)   # outlines drawn whole
    clipped = plot_receptive_field(np.zeros((10, 10)), (1, 8), [7])
    x, y = clipped.axes[0].patches[0].get_x(), clipped.axes[0].patches[0].get_y()
    assert (x, y) == (4.5, -0.5) and clipped.axes[0].patches[0].get_width() == 5
