"""helpers.plots.vit_diagram: chapter 9's figures draw, and show what they claim to."""
from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from helpers.plots.vit_diagram import (
    plot_accuracy_vs_data,
    plot_attention_maps,
    plot_attention_share,
    plot_vit_pipeline,
)


def _texts(fig):
    return " ".join(t.get_text() for ax in fig.axes for t in ax.texts)


@pytest.mark.parametrize("grid, depth, n", [(4, 2, 16), (2, 12, 4), (14, 12, 196)])
def test_pipeline_names_every_stage(grid, depth, n):
    fig = plot_vit_pipeline(np.zeros((28, 28)), grid=grid, depth=depth, title="T")
    assert isinstance(fig, Figure)
    text = _texts(fig)
    for part in (f"{n} patches", f"{n + 1} tokens", "class", "pos", f"encoder block × {depth}",
                 "self-attention", "MLP", "linear head"):
        assert part in text
    fig.canvas.draw()
    assert "patch 1" in text and f"patch {n}" in text


def test_pipeline_bad_inputs():
    with pytest.raises(ValueError, match="grid"):
        plot_vit_pipeline(grid=0)
    with pytest.raises(ValueError, match="depth"):
        plot_vit_pipeline(depth=0)
    with pytest.raises(ValueError, match="image"):
        plot_vit_pipeline(np.zeros((2, 28, 28)))


def test_attention_maps_share_one_scale_and_a_colour_bar():
    rng = np.random.default_rng(0)
    maps = rng.dirichlet(np.ones(16), size=3).reshape(3, 4, 4)
    fig = plot_attention_maps(np.zeros((3, 28, 28)), maps, ["a", "b", "c"], ["x", "y", "z"],
                              title="T")
    images = [ax.images[0] for ax in fig.axes[3:6]]
    assert all(im.get_clim() == (0, maps.max()) for im in images)
    assert len(fig.axes) == 7                              # 2 rows of 3 and the colour bar
    assert [ax.get_title() for ax in fig.axes[3:6]] == ["→ x", "→ y", "→ z"]
    fig.canvas.draw()
    with pytest.raises(ValueError, match="maps"):
        plot_attention_maps(np.zeros((3, 28, 28)), maps[:2], "abc", "xyz")
    with pytest.raises(ValueError, match="labels"):
        plot_attention_maps(np.zeros((3, 28, 28)), maps, "ab", "xyz")


def test_accuracy_vs_data_has_range_bars_and_an_honest_axis():
    runs = {"CNN": [[0.70, 0.74], [0.80, 0.82]], "ViT": [[0.60, 0.66], [0.75, 0.77]]}
    fig = plot_accuracy_vs_data([400, 1600], runs, single={"CNN": [0.71, 0.81]}, title="T")
    ax = fig.axes[0]
    low, high = ax.get_ylim()
    assert 0.5 < low < 0.60 and 0.82 < high < 0.9          # around the data, not from 0
    bars = ax.containers[0]                                  # the CNN's error bars
    segments = bars.lines[2][0].get_segments()
    assert [tuple(np.round(s[:, 1], 3)) for s in segments] == [(0.70, 0.74), (0.80, 0.82)]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "CNN: mean, range over 2 seeds" in labels and "CNN: this page's run" in labels
    with pytest.raises(ValueError, match="sizes"):
        plot_accuracy_vs_data([400], runs)


def test_attention_share_marks():
    t = np.geomspace(16, 16384, 20)
    share = t / (t + 4608)
    fig = plot_attention_share(t, share, marks={"equal": 4608}, title="T")
    assert "50.0 %" in _texts(fig) and fig.axes[0].get_ylim() == (0, 100)
    with pytest.raises(ValueError, match="shares"):
        plot_attention_share([1, 2], [0.1])


def test_new_chapter_8_figures_draw_and_check_their_inputs():
    import torch

    from helpers.plots.vit_diagram import (
        plot_attention_distance,
        plot_attention_overlay,
        plot_gap_vs_data,
        plot_position_similarity,
        plot_training_curves,
    )
    curves = {f"{m} {n}": [[[1, 0.2], [2, 0.5]], [[1, 0.3], [2, 0.6]]]
              for m in ("a", "b") for n in (10, 20)}
    fig = plot_training_curves(curves, [10, 20], ["a", "b"], title="T")
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 4
    with pytest.raises(ValueError, match="no curves"):
        plot_training_curves(curves, [30], ["a"])
    fig = plot_gap_vs_data([400, 1600], [[5.0, 6.0, 7.0], [1.0, 2.0, 3.0]])
    assert fig.axes[0].get_xscale() == "log"
    with pytest.raises(ValueError):
        plot_gap_vs_data([400], [[1.0], [2.0]])
    fig = plot_position_similarity(torch.eye(16), title="T")
    assert len(fig.axes) == 17                                # 16 maps and the colour bar
    with pytest.raises(ValueError):
        plot_position_similarity(torch.eye(5))
    fig = plot_attention_distance(np.ones((3, 2, 4)), uniform=14.1)
    assert len(fig.axes[0].lines) == 3 * 2 + 1
    with pytest.raises(ValueError):
        plot_attention_distance(np.ones((2, 4)))
    fig = plot_attention_overlay(np.zeros((2, 28, 28)), np.ones((2, 3, 4, 4)), ["x", "y"],
                                 columns=["p", "q", "r"])
    assert [ax.get_title() for ax in fig.axes[:4]] == ["image", "p", "q", "r"]
    with pytest.raises(ValueError):
        plot_attention_overlay(np.zeros((2, 28, 28)), np.ones((2, 3, 4, 4)), ["x"])


def test_plot_arms_draws_every_seed_and_checks_its_input():
    from helpers.plots.vit_diagram import plot_arms
    fig = plot_arms([("a", {"x": [1.0, 2.0, 3.0], "y\nz": [2.0, 3.0, 4.0]}),
                     ("b", {"w": [5.0, 6.0, 7.0]})], title="T")
    assert len(fig.axes) == 2
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["x", "y\nz"]
    points = [line for line in fig.axes[0].lines if line.get_linestyle() == "None"]
    assert sum(len(line.get_ydata()) for line in points) >= 6      # three seeds per arm
    tall = plot_arms([("a", {"x": [1.0, 2.0]}), ("b", {"w": [5.0, 6.0]})], stacked=True)
    assert tall.get_size_inches()[0] <= 3.6 and len(tall.axes) == 2
    assert all(ax.get_ylabel() for ax in tall.axes)                # each panel labelled
    with pytest.raises(ValueError, match="no panels"):
        plot_arms([])
    with pytest.raises(ValueError, match="no arms"):
        plot_arms([("a", {})])

