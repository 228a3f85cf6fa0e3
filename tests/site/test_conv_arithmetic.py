"""The convolution-arithmetic explorer (tools/static/explorers/conv_arithmetic.js) in Chromium.

On a blank page: its output size, window positions and written-out formula equal the Python
helpers' (helpers.layers.conv_output_size, helpers.plots.explorers) on a seeded table of
settings, including settings with no output; mounted from a ``web_mount`` div, each slider moved
with the keyboard rewrites the formula to the Python value, and play / step move the window. On
the built site: chapter 2 mounts it with the chapter's worked example, without JavaScript
errors; a screenshot of it in use is saved to _build/screenshots/conv_arithmetic.png.
"""
from __future__ import annotations

import json
import random

import pytest

from helpers.layers import conv_output_size
from helpers.plots.explorers import (
    CONV_CONTROLS,
    _conv_formula,
    _no_output_reason,
    _window_cells,
    web_mount,
)
from tests.site.conftest import SHOTS, open_page
from tools import book

SCRIPTS = [book.EXPLORERS_DIR / "common.js", book.EXPLORERS_DIR / "conv_arithmetic.js"]
CHAPTER = "chapters/02_convolution_and_padding.html"
WORKED_EXAMPLE = {"n": 5, "kernel_size": 3, "stride": 1, "padding": 1, "dilation": 1}
ORDER = ("n", "kernel_size", "stride", "padding", "dilation")


def seeded_settings(count: int = 400) -> list[tuple[int, ...]]:
    """Random (n, k, s, p, d) over the sliders' ranges, plus hand-picked edge cases."""
    rng = random.Random(17)
    table = [tuple(rng.randint(*CONV_CONTROLS[name]) for name in ORDER) for _ in range(count)]
    return table + [(5, 3, 1, 1, 1), (1, 1, 1, 0, 1), (1, 3, 1, 0, 1), (2, 5, 2, 0, 1),
                    (10, 3, 3, 0, 2), (24, 9, 5, 4, 4), (1, 9, 1, 4, 1), (4, 2, 5, 0, 3)]


def python_answer(n, k, s, p, d) -> dict:
    """What the JavaScript should compute for one setting."""
    try:
        out = conv_output_size(n, k, s, p, d)
    except ValueError:
        out = None
    return {"out": out, "formula": _conv_formula(n, k, s, p, d),
            "windows": [_window_cells(i, k, s, d) for i in range(out or 0)],
            "reason": _no_output_reason(n, k, p, d)}


def load_scripts(page) -> None:
    for script in SCRIPTS:
        page.add_script_tag(path=str(script))


def test_output_size_windows_and_formula_equal_python(blank_page):
    load_scripts(blank_page)
    table = seeded_settings()
    computed = blank_page.evaluate(
        """table => table.map(([n, k, s, p, d]) => {
             const c = CnnExplorers.convArithmetic;
             return {out: c.outputSize(n, k, s, p, d), formula: c.formula(n, k, s, p, d),
                     windows: c.windows(n, k, s, p, d), reason: c.noOutputReason(n, k, p, d)};
           })""", table)
    expected = [python_answer(*setting) for setting in table]
    mismatches = [(setting, js, py) for setting, js, py in zip(table, computed, expected)
                  if js != py]
    assert not mismatches, mismatches[:3]
    outs = [answer["out"] for answer in expected]
    assert outs.count(None) >= 20 and len(set(outs)) >= 15     # the table covers both cases


def test_invalid_arguments_are_rejected_as_in_python(blank_page):
    load_scripts(blank_page)
    for bad in [(0, 3, 1, 0, 1), (5, 0, 1, 0, 1), (5, 3, 0, 0, 1), (5, 3, 1, -1, 1),
                (5, 3, 1, 0, 0), (5, 1.5, 1, 0, 1)]:
        with pytest.raises(ValueError):
            conv_output_size(*bad)
        error = blank_page.evaluate(
            """args => { try { CnnExplorers.convArithmetic.outputSize(...args); return null; }
                         catch (e) { return e.name; } }""", list(bad))
        assert error == "RangeError", bad


def mount(page, config: dict) -> None:
    """A page holding only a mount point as chapters store it, then the scripts."""
    page.set_content(f"<main>{web_mount('conv-arithmetic', config)}</main>")
    load_scripts(page)
    page.wait_for_selector(".cnn-explorer-live svg")


def formula_text(page) -> str:
    return page.inner_text(".cnn-conv-substituted")


def test_each_control_moved_by_keyboard_rewrites_the_formula(blank_page):
    config = {**WORKED_EXAMPLE, "limits": {k: list(v) for k, v in CONV_CONTROLS.items()}}
    mount(blank_page, config)
    assert blank_page.locator(".cnn-explorer-note").count() == 0
    assert formula_text(blank_page) == _conv_formula(5, 3, 1, 1, 1)
    assert "output 5×5" in blank_page.inner_text(".cnn-conv-formula")
    values = dict(WORKED_EXAMPLE)
    sliders = blank_page.locator(".cnn-slider input[type=range]")
    assert sliders.count() == len(ORDER)
    for index, name in enumerate(ORDER):
        slider = sliders.nth(index)
        assert slider.get_attribute("min") == str(CONV_CONTROLS[name][0])
        slider.focus()
        blank_page.keyboard.press("ArrowRight")
        values[name] += 1
        settings = [values[key] for key in ORDER]
        assert formula_text(blank_page) == _conv_formula(*settings), name
        out = conv_output_size(*settings)
        assert blank_page.locator(".cnn-conv-output rect").count() == out * out
        taps = blank_page.locator(".cnn-conv-taps rect").count()
        assert taps == values["kernel_size"] ** 2


def test_no_output_is_said_and_the_buttons_are_disabled(blank_page):
    mount(blank_page, {"n": 3, "kernel_size": 5, "stride": 1, "padding": 0, "dilation": 1})
    text = blank_page.inner_text(".cnn-conv-formula")
    assert _no_output_reason(3, 5, 0, 1) in text
    assert formula_text(blank_page) == _conv_formula(3, 5, 1, 0, 1)
    assert blank_page.locator(".cnn-conv-buttons button:disabled").count() == 3
    assert blank_page.locator(".cnn-conv-taps rect").count() == 0
    # One more pixel of padding per side makes room for one output (1×1).
    padding = blank_page.locator(".cnn-slider input[type=range]").nth(3)
    padding.focus()
    blank_page.keyboard.press("ArrowRight")
    assert "output 1×1" in blank_page.inner_text(".cnn-conv-formula")
    assert blank_page.locator(".cnn-conv-buttons button:disabled").count() == 0


def taps(page) -> list[tuple[int, int]]:
    return sorted(tuple(json.loads(f"[{cell}]")) for cell in page.eval_on_selector_all(
        ".cnn-conv-taps rect", "els => els.map(e => e.dataset.row + ',' + e.dataset.col)"))


def status(page) -> str:
    return page.inner_text(".cnn-conv-status")


def test_step_buttons_keys_and_play_move_the_window(blank_page):
    mount(blank_page, {"n": 7, "kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2})
    out = conv_output_size(7, 3, 2, 1, 2)                                   # 3
    assert status(blank_page).startswith(f"Output (0, 0), position 1 of {out * out}")
    assert taps(blank_page) == [(r, c) for r in (0, 2, 4) for c in (0, 2, 4)]
    forward = blank_page.get_by_role("button", name="Step forward")
    forward.focus()
    blank_page.keyboard.press("Enter")
    assert status(blank_page).startswith("Output (0, 1)")
    assert taps(blank_page) == [(r, c) for r in (0, 2, 4) for c in (2, 4, 6)]
    assert blank_page.locator(".cnn-conv-output rect.cnn-conv-done").count() == 1
    blank_page.get_by_role("button", name="Step back").click()
    blank_page.get_by_role("button", name="Step back").click()     # wraps round to the last
    assert status(blank_page).startswith(f"Output ({out - 1}, {out - 1})")
    blank_page.focus(".cnn-conv-picture")
    blank_page.keyboard.press("ArrowRight")                        # and on to the first
    assert status(blank_page).startswith("Output (0, 0)")
    blank_page.keyboard.press("ArrowDown")                         # one row down
    assert status(blank_page).startswith("Output (1, 0)")
    blank_page.keyboard.press("ArrowUp")                           # and back up
    assert status(blank_page).startswith("Output (0, 0)")
    play = blank_page.locator(".cnn-conv-play")
    assert play.inner_text().endswith("Play")
    play.focus()
    blank_page.keyboard.press("Space")
    assert play.inner_text().endswith("Pause")
    blank_page.wait_for_function(
        "() => document.querySelectorAll('.cnn-conv-output rect.cnn-conv-done').length >= 2",
        timeout=5000)
    play.click()                                                   # pause
    assert play.inner_text().endswith("Play")
    paused = status(blank_page)
    blank_page.wait_for_timeout(1000)
    assert status(blank_page) == paused


def test_fits_a_narrow_screen(blank_page):
    blank_page.set_viewport_size({"width": 400, "height": 800})
    mount(blank_page, {"n": 24, "kernel_size": 3, "stride": 1, "padding": 4, "dilation": 1})
    width = blank_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400
    box = blank_page.locator(".cnn-conv-picture").bounding_box()
    assert box["width"] <= 400


def test_chapter_2_mounts_the_explorer_with_its_worked_example(browser, site):
    page, js_errors, failed = open_page(browser, site + CHAPTER)
    page.wait_for_selector(".cnn-explorer-live[data-explorer=conv-arithmetic] svg")
    root = page.locator(".cnn-explorer-live[data-explorer=conv-arithmetic]")
    assert root.count() == 1
    config = json.loads(root.get_attribute("data-config"))
    assert {key: config[key] for key in ORDER} == WORKED_EXAMPLE
    assert root.locator(".cnn-conv-substituted").inner_text() == _conv_formula(5, 3, 1, 1, 1)
    assert "output 5×5" in root.locator(".cnn-conv-formula").inner_text()
    fallback = page.locator(".cell_output:has(.cnn-explorer-live) img")
    assert fallback.count() == 1 and not fallback.is_visible()
    for _ in range(6):                                             # the window in use
        root.get_by_role("button", name="Step forward").click()
    assert root.locator(".cnn-conv-status").inner_text().startswith("Output (1, 1)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    root.scroll_into_view_if_needed()
    root.screenshot(path=str(SHOTS / "conv_arithmetic.png"))
    assert not js_errors and not failed, (js_errors, failed)
    page.close()


def test_the_numbers_convolve_as_pytorch_and_the_multiply_add_is_written_out(blank_page):
    """The cells' numbers (chapter 2's worked x and w, tiled to other sizes) give the output
    torch's conv2d gives (stride, padding, dilation); the current multiply-add is spelled out."""
    import torch
    import torch.nn.functional as F

    load_scripts(blank_page)
    for n, k, s, p, d in seeded_settings(60):
        got = blank_page.evaluate("""([n, k, s, p, d]) => {
            const c = CnnExplorers.convArithmetic, v = c.values(n, k);
            return {x: v.input, w: v.kernel, y: c.convolve(v.input, v.kernel, s, p, d)}; }""",
                                  [n, k, s, p, d])
        x = torch.tensor(got["x"], dtype=torch.float64)[None, None]
        w = torch.tensor(got["w"], dtype=torch.float64)[None, None]
        if n + 2 * p - d * (k - 1) - 1 < 0:                 # no window fits
            assert got["y"] == []
            continue
        want = F.conv2d(x, w, stride=s, padding=p, dilation=d)[0, 0].tolist()
        assert got["y"] == want, (n, k, s, p, d)
    mount(blank_page, WORKED_EXAMPLE)
    worked_x = [[3, 1, 0, 2, 1], [2, 4, 1, 0, 3], [1, 2, 5, 1, 0], [0, 1, 2, 4, 2],
                [2, 0, 1, 3, 5]]                           # chapter 2's x
    x = torch.tensor(worked_x, dtype=torch.float64)[None, None]
    w = torch.tensor([[1, 0, -1]] * 3, dtype=torch.float64)[None, None]
    y = F.conv2d(x, w, padding=1)[0, 0]
    line = blank_page.inner_text(".cnn-conv-sum")
    assert line.startswith("y(0, 0) = 1·0 + 0·0 + (−1)·0 + 1·0 + 0·3 + (−1)·1")
    assert line.endswith(f"= {int(y[0, 0])}".replace("-", "−"))
    blank_page.get_by_role("button", name="Step forward").click()
    assert blank_page.inner_text(".cnn-conv-sum").endswith(f"= {int(y[0, 1])}".replace("-", "−"))
    shown = blank_page.eval_on_selector_all(".cnn-conv-input-numbers text",
                                            "els => els.map(e => e.textContent)")
    assert shown[7:14] == ["0", "3", "1", "0", "2", "1", "0"]   # padded row 1: 0, x[0], 0
