"""helpers.plots.explorers: the drawings, and the switch between sliders and a static figure."""
from __future__ import annotations

import base64
import html
import io
import json
import re

import ipywidgets as widgets
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

from helpers.layers import conv_output_size
from helpers.plots import explorers
from helpers.plots.explorers import (
    CONV_CONTROLS,
    STATIC_NOTE,
    _conv_formula,
    conv_explorer,
    draw_conv_windows,
    draw_receptive_field_growth,
    explorer,
    explorer_layers,
    explorer_photo,
    interactive_session,
    layers_module,
    receptive_field_config,
    receptive_field_explorer,
    stride_schedule,
    web_mount,
)
from helpers.receptive_field import receptive_field

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
    labels = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert labels == [f"layer {i}: {s}×{s}" for i, s in
                      enumerate([3, 5, 9, 13, 21, 29, 45, 61], start=1)]   # no layer skipped


def test_static_rendering_when_outputs_are_stored(monkeypatch, capsys):
    monkeypatch.setenv("CNN_COURSE_NO_PROGRESS", "1")
    assert not interactive_session()
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))

    def draw(a=1):
        return Figure()

    assert explorer(draw, a=(0, 3)) is None           # no website version: the note
    assert all(isinstance(obj, Figure) for obj in shown) and len(shown) == 1
    assert capsys.readouterr().out.count(STATIC_NOTE) == 1


def test_conv_explorer_stores_its_figure_and_the_web_mount(monkeypatch, capsys):
    monkeypatch.setenv("CNN_COURSE_NO_PROGRESS", "1")
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    assert conv_explorer(n=5, kernel_size=3, stride=1, padding=1, dilation=1) is None
    figure, mount = shown
    assert isinstance(figure, Figure) and "= 5" in figure.axes[0].get_title()
    config = {"n": 5, "kernel_size": 3, "stride": 1, "padding": 1, "dilation": 1,
              "limits": {name: list(bounds) for name, bounds in CONV_CONTROLS.items()}}
    assert mount.data == web_mount("conv-arithmetic", config)
    assert capsys.readouterr().out == ""          # the note is inside the mount point


def test_the_formula_is_written_out_with_the_numbers():
    assert _conv_formula(5, 3, 1, 1, 1) == "⌊(5 + 2·1 − 1·(3 − 1) − 1)/1⌋ + 1 = ⌊4/1⌋ + 1 = 5"
    assert _conv_formula(3, 5, 2, 0, 1).endswith("= ⌊−2/2⌋ + 1 = 0")
    fig = draw_conv_windows(3, 5, 2, 0, 1)
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert _conv_formula(3, 5, 2, 0, 1) in texts and "spans d(k − 1) + 1 = 5 cells" in texts


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


def test_receptive_field_explorer_stores_the_same_stack_for_the_website(monkeypatch, capsys):
    monkeypatch.setenv("CNN_COURSE_NO_PROGRESS", "1")
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    assert receptive_field_explorer(depth=6, kernel_size=5, stride=2, downsample_every=3) is None
    figure, mount = shown
    assert isinstance(figure, Figure) and STATIC_NOTE not in capsys.readouterr().out
    assert 'data-explorer="receptive-field"' in mount.data
    config = json.loads(html.unescape(re.search(r'data-config="([^"]*)"', mount.data)[1]))
    assert config == receptive_field_config(6, 5, 2, 3)
    assert config["layers"] == explorer_layers(6, 5, stride_schedule(6, 2, 3))
    sizes = [row.size for row in receptive_field(layers_module(config["layers"])).layers]
    assert list(figure.axes[0].lines[0].get_ydata()) == sizes     # the numbers the page shows


def test_receptive_field_config_carries_the_photo():
    from PIL import Image

    config = receptive_field_config()
    assert config["label"] == "8 convolutions 3×3, stride 2 every 2"
    assert config["layers"][:2] == [
        {"type": "conv", "kernel": 3, "stride": 1, "padding": 1, "dilation": 1},
        {"type": "conv", "kernel": 3, "stride": 2, "padding": 1, "dilation": 1}]
    prefix = "data:image/png;base64,"
    assert config["image"].startswith(prefix) and len(config["image"]) < 20_000
    photo = np.asarray(Image.open(io.BytesIO(base64.b64decode(config["image"][len(prefix):]))))
    assert photo.shape == (config["input_size"],) * 2 == (128, 128)
    assert np.array_equal(photo, explorer_photo())


def test_explorer_stacks_refuse_what_they_cannot_build():
    with pytest.raises(ValueError, match="layer type"):
        layers_module([{"type": "dense", "kernel": 3, "stride": 1, "padding": 0, "dilation": 1}])
    with pytest.raises(ValueError, match="a stride for each"):
        explorer_layers(3, 3, [1, 2])
