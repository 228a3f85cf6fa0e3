"""The receptive-field explorer (tools/static/explorers/receptive_field.js) in headless Chromium:
its computation equals helpers.receptive_field layer by layer, on random stacks and on the
stacks it offers; adding a layer, changing a kernel from the keyboard and removing a layer
change its table to the Python values; a value out of range (40, 0, empty, 2.5) is refused
with a message; the stack dropdown names the stack the table shows; chapter 5's page mounts it
without JavaScript errors (screenshot: _build/screenshots/receptive_field.png).
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import torch
from torch import nn

from helpers.models import alexnet, vgg16
from helpers.plots.explorers import layers_module, receptive_field_config, web_mount
from helpers.receptive_field import receptive_field
from tests.site.conftest import SHOTS, open_page
from tools import book

EXPLORERS = book.EXPLORERS_DIR
TABLE_ROWS = ("els => els.map(tr => ['.cnn-rf-n', '.cnn-rf-r', '.cnn-rf-j', '.cnn-rf-P']"
              ".map(c => tr.querySelector(c).textContent))")


def load_scripts(page) -> None:
    """The explorers' stylesheet, common.js and receptive_field.js, as the website loads them."""
    page.add_style_tag(path=str(EXPLORERS / "explorers.css"))
    page.add_script_tag(path=str(EXPLORERS / "common.js"))
    page.add_script_tag(path=str(EXPLORERS / "receptive_field.js"))


def python_rows(model: nn.Module, input_size: int) -> dict:
    """helpers.receptive_field's table as the JS computation returns it: per layer the field
    size, jump, offset and output side; from the first layer whose window does not fit
    (``emptyAt``, found on the prefixes of a plain stack) the output side is None."""
    try:
        sized = receptive_field(model, input_size=input_size).layers
    except ValueError:
        pass
    else:
        return {"rows": [[r.size, r.jump, r.offset, r.output[0]] for r in sized], "emptyAt": None}
    rows = [[r.size, r.jump, r.offset, None] for r in receptive_field(model).layers]
    for n in range(len(rows)):
        try:
            rows[n][3] = receptive_field(model[:n + 1], input_size=input_size).layers[-1].output[0]
        except ValueError:
            return {"rows": rows, "emptyAt": n}
    raise AssertionError("receptive_field refused the stack but every prefix fits")


def js_rows(page, layers, input_size) -> dict:
    result = page.evaluate("([layers, n]) => CnnExplorers.receptiveField.compute(layers, n)",
                           [layers, input_size])
    return {"rows": [[r["size"], r["jump"], r["offset"], r["output"]] for r in result["rows"]],
            "emptyAt": result["emptyAt"]}


def random_stacks(count: int, seed: int = 0):
    """Seeded random stacks within the explorer's limits: 1 to 8 convolutions or max pools,
    kernel 1-7, stride 1-3, padding 0-3, dilation 1-3, on an input of side 8 to 128."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        layers = [{"type": str(rng.choice(["conv", "pool"])), "kernel": int(rng.integers(1, 8)),
                   "stride": int(rng.integers(1, 4)), "padding": int(rng.integers(0, 4)),
                   "dilation": int(rng.integers(1, 4))} for _ in range(int(rng.integers(1, 9)))]
        yield layers, int(rng.integers(8, 129))


def test_computation_equals_python_on_random_stacks(blank_page):
    load_scripts(blank_page)
    empty = 0
    for layers, side in random_stacks(300):
        expected = python_rows(layers_module(layers), side)
        assert js_rows(blank_page, layers, side) == expected, (layers, side)
        empty += expected["emptyAt"] is not None
    assert 0 < empty < 300          # both cases occur: a window that does not fit, and none


def test_offered_stacks_equal_the_chapter_networks(blank_page):
    load_scripts(blank_page)
    with torch.device("meta"):
        chapter4 = nn.Sequential(OrderedDict(
            conv1=nn.Conv2d(1, 16, 5, padding=2), relu1=nn.ReLU(), pool1=nn.MaxPool2d(2),
            conv2=nn.Conv2d(16, 32, 3, padding=1), relu2=nn.ReLU(), pool2=nn.MaxPool2d(2)))
        networks = {"chapter4": (chapter4, 28), "vgg16": (vgg16().features, 224),
                    "alexnet": (alexnet().features, 224)}
    for key in ("resnet-stem", "dilated"):
        layers = blank_page.evaluate(f"CnnExplorers.receptiveField.presets['{key}'].layers()")
        networks[key] = (layers_module(layers), 224)
    assert set(networks) == set(blank_page.evaluate(
        "Object.keys(CnnExplorers.receptiveField.presets)"))
    for key, (model, side) in networks.items():
        layers = blank_page.evaluate(f"CnnExplorers.receptiveField.presets['{key}'].layers()")
        assert js_rows(blank_page, layers, side) == python_rows(model, side), key
    vgg = js_rows(blank_page, blank_page.evaluate(
        "CnnExplorers.receptiveField.presets.vgg16.layers()"), 224)["rows"][-1]
    assert vgg[:3] == [212, 32, 90]       # chapter 5's VGG-16 field, jump and offset


def test_bad_layers_are_refused(blank_page):
    load_scripts(blank_page)
    message = blank_page.evaluate("""() => {
      try {
        CnnExplorers.receptiveField.compute([{type: "conv", kernel: 0, stride: 1, padding: 0,
                                              dilation: 1}]);
      } catch (error) { return error.message; }
    }""")
    assert message == "layer 1: kernel must be an integer from 1 to 15, got 0"


def table(page) -> list[list[int | None]]:
    rows = page.eval_on_selector_all(".cnn-rf-table tbody tr", TABLE_ROWS)
    return [[None if cell == "–" else int(cell) for cell in row] for row in rows]


def expected_table(layers: list[dict], side: int) -> list[list[int | None]]:
    """The input row, then per layer (output side, size, jump, offset) from Python."""
    found = python_rows(layers_module(layers), side)["rows"]
    return [[side, 1, 1, 0]] + [[out, size, jump, offset] for size, jump, offset, out in found]


def test_editing_the_stack_updates_the_table(blank_page):
    page = blank_page
    config = receptive_field_config(depth=3, kernel_size=3, stride=2, downsample_every=2)
    page.set_content(f"<main>{web_mount('receptive-field', config)}</main>")
    load_scripts(page)
    page.wait_for_selector(".cnn-explorer-live .cnn-rf-table")
    layers, side = [dict(layer) for layer in config["layers"]], config["input_size"]
    assert table(page) == expected_table(layers, side)

    page.get_by_role("button", name="Add a 3×3 convolution").click()        # add a layer
    layers.append({"type": "conv", "kernel": 3, "stride": 1, "padding": 1, "dilation": 1})
    assert table(page) == expected_table(layers, side)

    kernel = page.get_by_label("layer 2 kernel")                             # keyboard
    kernel.focus()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    layers[1]["kernel"] = 5
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "layer 2 kernel"
    assert table(page) == expected_table(layers, side)

    page.get_by_role("button", name="remove layer 1").click()                # remove a layer
    del layers[0]
    assert table(page) == expected_table(layers, side)
    summary = page.text_content(".cnn-rf-summary")
    size = receptive_field(layers_module(layers)).size
    assert page.get_attribute(".cnn-rf-summary", "aria-live") == "polite"
    assert f"After layer {len(layers)} a unit sees {size}×{size} pixels" in summary

    assert page.get_by_label("Stack").input_value() == "custom"     # edited: no preset named

    page.get_by_label("Stack").select_option("vgg16")                          # a preset, at once
    vgg = page.evaluate("CnnExplorers.receptiveField.presets.vgg16.layers()")
    assert table(page) == expected_table(vgg, side) and table(page)[-1][1] == 212

    stride = page.get_by_label("layer 1 stride")                               # bad input
    for bad in ("40", "0", "", "2.5"):
        stride.fill(bad)
        assert "whole number from 1 to" in page.text_content(".cnn-rf-error"), bad
        assert stride.get_attribute("aria-invalid") == "true"
        assert table(page) == expected_table(vgg, side)                        # the stack shown
    stride.fill("2")
    assert page.text_content(".cnn-rf-error") == ""
    assert page.get_by_label("Stack").input_value() == "custom"

    page.set_viewport_size({"width": 400, "height": 900})                    # a phone
    assert page.evaluate("document.documentElement.scrollWidth") <= 400


def test_the_chapter_page_mounts_the_explorer(browser, site):
    page, js_errors, failed = open_page(browser, site + "chapters/05_receptive_fields.html")
    root = page.wait_for_selector('.cnn-explorer-live[data-explorer="receptive-field"]')
    config = receptive_field_config(8, 3, 2, 2)       # the chapter cell's stack
    layers, side = config["layers"], config["input_size"]
    assert table(page) == expected_table(layers, side)
    assert table(page)[-1][1] == 61                   # the chapter's 61×61 field
    fallback = page.eval_on_selector_all(
        ".cell_output img.cnn-explorer-fallback", "els => els.map(e => e.offsetParent === null)")
    assert fallback == [True]                         # the static figure hidden on screen
    page.get_by_role("button", name="Add a 2×2 pool").click()
    page.get_by_label("Unit's row").focus()
    page.keyboard.press("ArrowRight")
    assert table(page) == expected_table([*layers, {"type": "pool", "kernel": 2, "stride": 2,
                                                    "padding": 0, "dilation": 1}], side)
    assert not js_errors and not failed, (js_errors, failed)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 1400})
    page.wait_for_load_state("networkidle")           # MathJax done: the layout stays put
    root.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    root.screenshot(path=str(SHOTS / "receptive_field.png"))
    page.set_viewport_size({"width": 400, "height": 900})
    assert page.evaluate("document.querySelector('.cnn-explorer-live').scrollWidth "
                         "<= document.querySelector('.cnn-explorer-live').clientWidth")
    page.close()


def test_clicking_the_photo_picks_a_unit_and_a_hovered_layer_shows_its_field(blank_page):
    page = blank_page
    config = receptive_field_config(depth=3, kernel_size=3, stride=2, downsample_every=2)
    page.set_content(f"<main>{web_mount('receptive-field', config)}</main>")
    load_scripts(page)
    page.wait_for_selector(".cnn-explorer-live .cnn-rf-table")
    box = page.locator(".cnn-rf-canvas").bounding_box()
    page.mouse.click(box["x"] + 2, box["y"] + 2)                 # top left: unit (0, 0)
    assert page.locator(".cnn-rf-figure output").all_inner_texts() == ["0", "0"]
    page.mouse.click(box["x"] + box["width"] - 2, box["y"] + box["height"] - 2)
    side = table(page)[-1][0]
    assert page.locator(".cnn-rf-figure output").all_inner_texts() == [str(side - 1)] * 2
    page.locator(".cnn-rf-table tbody tr").nth(1).hover()           # layer 1
    note = page.inner_text(".cnn-rf-field-note")
    assert note.startswith("Blue, dashed: the 3×3 field of a unit of layer 1"), note
    assert "layer 1" in page.get_attribute(".cnn-rf-canvas", "aria-label")
