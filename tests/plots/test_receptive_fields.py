"""helpers.plots.receptive_fields: each figure is white, leaves no pyplot figure open, draws what
it is given (one line per network, the slope guides), and rejects bad input with ValueError."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgba
from torch import nn

from helpers.plots.receptive_fields import (
    plot_effective_growth,
    plot_field_by_layer,
    plot_version_gap,
)
from helpers.receptive_field import receptive_field

pytestmark = pytest.mark.usefixtures("agg_backend")


def _net(strides):
    return nn.Sequential(*[nn.Conv2d(1, 1, 3, stride=s, padding=1) for s in strides])


def _is_white_and_closed(fig):
    assert to_rgba(fig.get_facecolor()) == to_rgba("white")
    assert not plt.get_fignums()


def test_field_by_layer_draws_one_line_per_network_and_marks_downsampling():
    fields = {"a": receptive_field(_net([1, 2, 1])), "b": [3, 5, 7, 9]}
    fig = plot_field_by_layer(fields, input_size=8, title="T")
    _is_white_and_closed(fig)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:2] == ["a: 9 px", "b: 9 px"]
    lines = {line.get_label(): line for line in ax.get_lines()}
    np.testing.assert_array_equal(lines["a: 9 px"].get_ydata(), [3, 5, 9])
    markers = [line for line in ax.get_lines() if line.get_linestyle() == "None"
               and len(line.get_xdata()) == 1]
    assert any(list(m.get_xdata()) == [2] for m in markers)      # the stride-2 layer
    assert ax.get_title() == "T"


def test_version_gap_plots_the_difference():
    fig = plot_version_gap([3, 5, 9], [3, 5, 7])
    _is_white_and_closed(fig)
    step = fig.axes[1].get_lines()[0]
    np.testing.assert_array_equal(step.get_ydata()[-1], 2)
    with pytest.raises(ValueError):
        plot_version_gap([3, 5], [3, 5, 7])


def test_effective_growth_has_guides_and_plain_tick_labels():
    fig = plot_effective_growth([2, 4, 8], [5, 9, 17], [2.5, 3.6, 5.0])
    _is_white_and_closed(fig)
    ax = fig.axes[0]
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0] == "theoretical field 2k + 1" and any("slope 1" in t for t in labels) \
        and any("slope ½" in t for t in labels)
    guide = next(line for line in ax.get_lines() if "slope ½" in line.get_label())
    x, y = guide.get_xdata(), guide.get_ydata()
    assert np.polyfit(np.log(x), np.log(y), 1)[0] == pytest.approx(0.5)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2", "4", "8"]
    for bad in (([2], [5], [2.5]), ([2, 4], [5, 9], [0, 1]), ([2, 4], [5], [2, 3])):
        with pytest.raises(ValueError):
            plot_effective_growth(*bad)


def test_field_diagram_1d_states_the_recurrence():
    from helpers.plots.receptive_fields import field_diagram_1d
    fig = field_diagram_1d([(3, 1, 1), (3, 2, 1), (3, 1, 1), (3, 2, 1)], n_input=16)
    texts = [t.get_text() for t in fig.axes[0].texts]
    for expected in ("r=1  j=1  P=0", "r=3  j=1  P=1", "r=5  j=2  P=2", "r=9  j=2  P=4",
                     "r=13  j=4  P=6"):
        assert expected in texts
    got = receptive_field(_net([1, 2, 1, 2]))
    assert (got.size, got.stride, got.padding) == (13, 4, 6)
    assert min(t.get_fontsize() for t in fig.axes[0].texts) >= 9
    with pytest.raises(ValueError):
        field_diagram_1d([])
    with pytest.raises(ValueError):
        field_diagram_1d([(3, 1, 0)] * 10, n_input=8)


def test_erf_before_after_draws_two_maps_and_per_seed_profiles():
    from helpers.plots.receptive_fields import plot_erf_before_after
    rng = np.random.default_rng(0)
    before = [rng.random((28, 28)) for _ in range(3)]
    after = [rng.random((28, 28)) for _ in range(3)]
    fig = plot_erf_before_after(before, after, 15, (12, 12), title="t")
    _is_white_and_closed(fig)
    right = fig.axes[2]
    assert len(right.lines) == 2 * (3 + 1) + 2                 # seeds, means, two field edges
    assert [ax.get_title().split("\n")[0] for ax in fig.axes[:2]] == ["at initialisation",
                                                                     "after training"]
    fig = plot_erf_before_after(before, after, 15, (12, 12), after_label="after 500 steps",
                                control=[rng.random((28, 28)) for _ in range(3)])
    _is_white_and_closed(fig)
    right = fig.axes[2]
    assert len(right.lines) == 2 * (3 + 1) + 1 + 2               # plus the control's mean
    assert [ln for ln in right.lines if ln.get_linestyle() == "--" and ln.get_color() == "#2ca02c"]
    assert fig.axes[1].get_title().startswith("after 500 steps")
    with pytest.raises(ValueError, match="same shape"):
        plot_erf_before_after(before, after, 15, (12, 12), control=[rng.random((20, 20))])
    with pytest.raises(ValueError, match="non-zero"):
        plot_erf_before_after([], after, 15, (12, 12))
    with pytest.raises(ValueError, match="non-zero"):
        plot_erf_before_after([np.zeros((28, 28))], after, 15, (12, 12))
    with pytest.raises(ValueError, match="same shape"):
        plot_erf_before_after([rng.random((20, 20))], after, 15, (12, 12))


def test_field_accuracy_draws_every_seed_and_a_mean_per_arm():
    from helpers.plots.receptive_fields import plot_field_accuracy
    fig = plot_field_accuracy([15, 31], [[0.9, 0.91, 0.92], [0.95, 0.96, 0.97]],
                              labels=["a", "b"], title="t")
    _is_white_and_closed(fig)
    ax = fig.axes[0]
    seeds = [ln for ln in ax.lines if ln.get_marker() == "o"]
    assert len([ln for ln in ax.lines if ln.get_label() == "lines join one seed's two arms"]) == 1
    assert sum(len(ln.get_xdata()) for ln in seeds) == 6
    assert [t.get_text() for t in ax.texts] == ["a", "b"]
    with pytest.raises(ValueError, match="one non-empty"):
        plot_field_accuracy([15], [[0.9], [0.8]])
    with pytest.raises(ValueError, match="one label"):
        plot_field_accuracy([15], [[0.9]], labels=["a", "b"])
