"""helpers.plots.style.finish_axes: labels, grid, legend and title in one call, the figure
returned; a grid opacity outside [0, 1] is a ValueError."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from helpers.plots.style import finish_axes

pytestmark = pytest.mark.usefixtures("agg_backend")


def test_finish_axes_labels_grids_legends_and_titles():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label="line")
    assert finish_axes(ax, "x", "y", legend="lower right", title="T", label_size=9) is fig
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("x", "y", "T")
    assert ax.xaxis.label.get_fontsize() == 9 and ax.title.get_fontsize() == 10
    assert ax.get_legend()._loc == 4                                  # "lower right"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["line"]
    assert ax.get_legend().get_texts()[0].get_fontsize() == 9
    assert all(line.get_visible() and line.get_alpha() == 0.3 for line in ax.get_xgridlines())
    plt.close(fig)


def test_finish_axes_leaves_out_what_is_not_asked_for():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label="line")
    finish_axes(ax, grid=None, title="", tight=False)
    assert ax.get_legend() is None and ax.get_title() == "" and ax.get_xlabel() == ""
    assert not any(line.get_visible() for line in ax.get_xgridlines())
    default = ax.set_title("reference").get_fontsize()
    finish_axes(ax, title="T", title_size=None, tight=False)
    assert ax.title.get_fontsize() == default, "None: matplotlib's title size"
    plt.close(fig)


@pytest.mark.parametrize("grid", [-0.1, 1.5])
def test_finish_axes_rejects_a_grid_opacity_outside_0_1(grid):
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="opacity"):
        finish_axes(ax, grid=grid)
    plt.close(fig)


def test_light_figure_closes_what_a_failed_drawing_opened():
    import matplotlib.pyplot as plt

    from helpers.plots.style import light_figure

    @light_figure
    def broken():
        plt.figure()
        raise ValueError("bad argument")

    before = set(plt.get_fignums())
    with pytest.raises(ValueError, match="bad argument"):
        broken()
    assert set(plt.get_fignums()) == before
