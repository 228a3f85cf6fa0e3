"""The sliding-window animation: right window positions, right values, small and reproducible,
needing nothing off-site, every control named and the frame described."""
from __future__ import annotations

import gc
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.animation import FuncAnimation
from matplotlib.figure import Figure

from helpers.layers import conv_output_size
from helpers.plots import animation
from tools import alt_text

pytestmark = pytest.mark.usefixtures("agg_backend")


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 9), k=st.integers(1, 5), s=st.integers(1, 3), p=st.integers(0, 2))
def test_one_window_per_output_pixel_each_inside_the_padded_input(n, k, s, p):
    if k > n + 2 * p:
        with pytest.raises(ValueError, match="does not fit"):
            animation.window_positions(n, k, s, p)
        return
    positions = animation.window_positions(n, k, s, p)
    m = conv_output_size(n, k, s, p)
    assert len(positions) == m * m
    assert positions[0] == (0, 0) and positions[1 if m > 1 else 0] == (0, s if m > 1 else 0)
    assert all(r % s == 0 and c % s == 0 for r, c in positions)
    assert all(0 <= r and r + k <= n + 2 * p and c + k <= n + 2 * p for r, c in positions)


@pytest.mark.parametrize("bad", [dict(n=0), dict(kernel_size=0), dict(stride=0),
                                 dict(padding=-1), dict(stride=1.5), dict(n=True)])
def test_bad_geometry_is_rejected_with_the_argument_name(bad):
    args = dict(n=5, kernel_size=3, stride=1, padding=0) | bad
    with pytest.raises(ValueError, match=next(iter(bad))):
        animation.window_positions(**args)


def _frames(html: str) -> list[str]:
    return re.findall(r"data:image/png;base64,", html)


@pytest.mark.filterwarnings("ignore:Animation was deleted without rendering")
def test_frames_show_the_correct_output_values():
    """Each frame's output value is the window of the padded input times the kernel."""
    import matplotlib.pyplot as plt

    anim = animation.sliding_window_animation(5, 3, stride=2, padding=1)
    scene = anim._scene
    try:
        x_pad = np.pad(scene.x, 1)
        assert scene.out.shape == (3, 3)
        for t, (r, c) in enumerate(scene.positions):
            window = x_pad[r:r + 3, c:c + 3]
            assert scene.out.flat[t] == int((window * scene.w).sum())
        scene.draw(4)
        assert scene.window.get_xy() == (2, 2)
        shown = [[text.get_text() for text in row] for row in scene.out_texts]
        assert shown[0] == [str(v) for v in scene.out[0]] and shown[1][1] == str(scene.out[1, 1])
        assert shown[1][2] == "" and shown[2] == ["", "", ""]   # not reached yet
    finally:
        plt.close(anim._fig)
    assert isinstance(anim, FuncAnimation)
    del anim, scene        # never rendered on purpose: let matplotlib's warning fire here
    gc.collect()


def test_html_is_self_contained_small_and_identical_between_runs():
    html = animation.sliding_window_html(5, 3, stride=2, padding=1)
    assert len(_frames(html)) == 9                               # 3 x 3 output pixels
    assert "<script" in html
    assert len(html) < 250_000                                   # ~ 9 small PNG frames
    assert html == animation.sliding_window_html(5, 3, stride=2, padding=1)
    other = animation.sliding_window_html(3, 3, stride=1, padding=0)
    assert len(_frames(other)) == 1
    ids = set(re.findall(r'id="_anim_img([0-9a-f]+)"', html))
    assert len(ids) == 1 and ids.isdisjoint(re.findall(r'id="_anim_img([0-9a-f]+)"', other))


def test_html_needs_nothing_off_site_and_names_every_control():
    html = animation.sliding_window_html(5, 3, stride=2, padding=1)
    assert not re.search(r"https?://", html)                   # no CDN, no link of any kind
    assert "<link" not in html and 'class="fa' not in html     # Font Awesome gone
    buttons = re.findall(r"<button[^>]*>", html)
    assert len(buttons) == 9 and all('aria-label="' in b for b in buttons)
    assert re.search(r'class="anim-slider" aria-label="Frame"', html)
    glyphs = re.findall(r'<span aria-hidden="true">([^<]+)</span>', html)
    assert glyphs == [animation.ICON_GLYPHS[k] for k in animation.ICON_GLYPHS]
    alt = re.findall(r'<img id="_anim_img[0-9a-f]+" alt="([^"]+)">', html)
    assert alt == [animation.describe(5, 3, 2, 1)] and alt_text.problem(alt[0]) is None
    assert "3×3 kernel" in alt[0] and "5×5 input" in alt[0] and "3×3 output" in alt[0]


def _player(buttons: str) -> str:
    return ('<link rel="stylesheet"\nhref="https://maxcdn.example.com/font-awesome/4.4.0/'
            'css/font-awesome.min.css">\n<div class="animation"><img id="_anim_img0123">'
            '<input class="anim-slider" type="range">' + buttons + "</div>")


def test_self_contained_names_buttons_by_their_title_and_replaces_icons():
    html = animation.self_contained(
        _player('<button title="Play" onclick="a.play()"><i class="fa fa-play"></i></button>'),
        alt='A kernel slides "here" & there.')
    assert html == ('<div class="animation"><img id="_anim_img0123" alt="A kernel slides '
                    '&quot;here&quot; &amp; there."><input class="anim-slider" '
                    'aria-label="Frame" type="range"><button aria-label="Play" title="Play" '
                    'onclick="a.play()"><span aria-hidden="true">\u25b6\ufe0e</span></button>'
                    "</div>")


@pytest.mark.parametrize("buttons, alt, match", [
    ('<button title="Spin"><i class="fa fa-spinner"></i></button>', "A b c d.", "unknown"),
    ('<button onclick="x()"><i class="fa fa-play"></i></button>', "A b c d.", "without a title"),
    ('<a href="https://example.org">more</a>', "A b c d.", "off-site"),
    ("", " ", "alt must be a sentence"),
])
def test_self_contained_refuses_what_it_cannot_make_offline_and_accessible(buttons, alt, match):
    with pytest.raises(ValueError, match=match):
        animation.self_contained(_player(buttons), alt)


def test_deterministic_ids_replaces_every_random_id():
    html = ('<img id="_anim_img0123456789abcdef0123456789abcdef">'
            '<script>anim0123456789abcdef0123456789abcdef = 1;</script>')
    out = animation.deterministic_ids(html)
    assert "0123456789abcdef0123456789abcdef" not in out
    new = re.findall(r"_anim_img([0-9a-f]{32})", out)[0]
    assert f"anim{new} = 1" in out and out == animation.deterministic_ids(html)


def test_static_fallback_has_one_row_per_requested_frame():
    import matplotlib.pyplot as plt

    fig = animation.sliding_window_figure(4, 3, stride=1, padding=1, frames=[0, 5, 15], dpi=40)
    try:
        assert isinstance(fig, Figure)
        titled = [ax.get_title() for ax in fig.axes if ax.get_title().startswith("output pixel")]
        assert titled == ["output pixel (0, 0)", "output pixel (1, 1)", "output pixel (3, 3)"]
    finally:
        plt.close(fig)
    with pytest.raises(ValueError, match="frames"):
        animation.sliding_window_figure(4, 3, stride=1, padding=1, frames=[16])


def test_static_frames_of_a_given_example_show_its_values():
    x = np.array([[3, 1, 0], [2, 4, 1], [1, 2, 5]])
    w = np.array([[1, 0], [0, -1]])
    fig = animation.sliding_window_figure(x=x, w=w, padding=0, frames=[3])
    titles = [ax.get_title() for ax in fig.axes]
    assert "output: y[1, 1] = -1" in titles               # 4 - 5
    kernel_texts = [t.get_text() for t in fig.axes[1].texts]
    assert kernel_texts == ["1", "0", "0", "-1"]
    with pytest.raises(ValueError, match="whole numbers"):
        animation.sliding_window_figure(x=x + 0.5, w=w)
