"""helpers.plots.explorers: the drawings, and the switch between sliders and a static figure."""
from __future__ import annotations

import ipywidgets as widgets
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

from helpers.layers import conv_output_size
from helpers.plots import explorers
from helpers.plots.explorers import (
    STATIC_NOTE,
    conv_explorer,
    draw_conv_windows,
    draw_receptive_field_growth,
    explorer,
    interactive_session,
    receptive_field_explorer,
    stride_schedule,
)

pytestmark = pytest.mark.usefixtures("agg_backend")


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 16), st.integers(1, 6), st.integers(1, 4), st.integers(0, 3),
       st.integers(1, 3))
def test_conv_drawing_states_the_output_size_or_why_there_is_none(n, k, s, p, d):
    fig = draw_conv_windows(n, k, s, p, d)
    assert isinstance(fig, Figure)
    texts = " ".join(t.get_text() for ax in fig.axes for t in [ax.title, *ax.texts])
    try:
        out = conv_output_size(n, k, s, p, d)
    except ValueError:
        assert "No output" in texts
    else:
        assert f"= {out}" in texts
        shown = min(out, explorers.MAX_ROWS)
        assert sum(t.get_text().startswith("out[") for t in fig.axes[0].texts) == shown


def test_cells_skipped_by_a_large_stride_are_hatched():
    fig = draw_conv_windows(10, 3, 3, 0, 2)
    hatched = [p for p in fig.axes[0].patches if p.get_hatch()]
    assert len(hatched) == 4                      # inputs 1, 6, 8, 9 are never read
    assert "never read" in fig.axes[0].get_title()


def test_stride_schedule():
    assert stride_schedule(5, 2, 2) == [1, 2, 1, 2, 1]
    assert stride_schedule(3, 3, 1) == [3, 3, 3]
    assert stride_schedule(3, 2, 0) == [1, 1, 1]
    with pytest.raises(ValueError):
        stride_schedule(0)


def test_growth_drawing_uses_the_recurrence():
    fig = draw_receptive_field_growth(depth=8, kernel_size=3, stride=2, downsample_every=2)
    left = fig.axes[0]
    assert list(left.lines[0].get_ydata()) == [3, 5, 9, 13, 21, 29, 45, 61]
    assert list(left.lines[1].get_ydata()) == [3, 5, 7, 9, 11, 13, 15, 17]
    assert "61×61" in left.get_title()


def test_static_rendering_when_outputs_are_stored(monkeypatch, capsys):
    monkeypatch.setenv("CNN_COURSE_NO_PROGRESS", "1")
    assert not interactive_session()
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    assert conv_explorer() is None
    assert receptive_field_explorer(depth=4) is None
    assert all(isinstance(obj, Figure) for obj in shown) and len(shown) == 2
    assert capsys.readouterr().out.count(STATIC_NOTE) == 2


def test_no_sliders_outside_a_kernel(monkeypatch):
    monkeypatch.setenv("CNN_COURSE_NO_PROGRESS", "0")
    assert not interactive_session()       # pytest is not a Jupyter kernel


def test_sliders_in_a_live_session(monkeypatch):
    monkeypatch.setattr(explorers, "interactive_session", lambda: True)
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    conv_explorer(n=9, stride=1)
    uis = [obj for obj in shown if isinstance(obj, widgets.interactive)]
    assert len(uis) == 1
    ui = uis[0]
    sliders = {w.description: w for w in ui.children if isinstance(w, widgets.IntSlider)}
    assert set(sliders) == {"n", "kernel_size", "stride", "padding", "dilation"}
    assert (sliders["n"].value, sliders["stride"].value, sliders["kernel_size"].value) == (9, 1, 3)
    assert not sliders["n"].continuous_update
    shown.clear()
    sliders["kernel_size"].value = 5              # moving a slider redraws
    assert any(isinstance(obj, Figure) and "k=5" in obj.axes[0].get_title() for obj in shown)


def test_explorer_rejects_bad_controls(monkeypatch):
    monkeypatch.setattr(explorers, "interactive_session", lambda: True)
    monkeypatch.setattr("IPython.display.display", lambda obj: None)

    def draw(a=1):
        return Figure()

    with pytest.raises(ValueError, match="not keyword arguments"):
        explorer(draw, b=(0, 3))
    with pytest.raises(ValueError, match="min, max"):
        explorer(draw, a=[0, 3])
    with pytest.raises(ValueError, match="outside"):
        explorer(draw, a=(2, 3))
