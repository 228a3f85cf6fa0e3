"""The "draw a digit" explorer (tools/static/explorers/draw_digit.js) in headless Chromium.

Against Python: its preprocessing, normalised with the weights asset's ``normalisation`` (the
only place the script gets MNIST's mean and std from), equals helpers.digits.preprocess_digit
on the same raw arrays (max abs difference <= 1e-5 on the normalised input), and its LeNet-5
forward pass equals PyTorch's with the asset's weights on 20 MNIST test digits (logits and both
convolutions' maps, max abs difference <= 1e-4), and so does its saliency map: on the same 20
digits, the gradient of the top logit with respect to the input from its hand-written backward
pass equals helpers.digits.lenet_saliency's (autograd) to 1e-5 of the map's maximum. In a page
laid out like the website's (served from memory): the explorer loads its weights from beside
its script, strokes drawn with the mouse are classified as the PyTorch model classifies the
28x28 input the page built, with the saliency map of that input (as PyTorch computes it)
painted beside it, the keyboard path works, and nothing overflows at 390 px. On the built site:
chapter 6 mounts it, with its saliency map drawn, and a screenshot at
_build/screenshots/draw_digit.png.
"""
from __future__ import annotations

import numpy as np
import pytest

from helpers.data import MNIST_NORM, load_mnist
from helpers.digits import lenet_maps, lenet_saliency, preprocess_digit
from tests.site.conftest import SHOTS, open_page
from tools import book
from tools.export_lenet import load_model, read_document

STATIC = book.EXPLORERS_DIR
PREPROCESS_TOL = 1e-5
FORWARD_TOL = 1e-4
# The JS backward pass runs in float64 from the float32 weights, PyTorch's autograd in float32:
# they differ by float32 rounding, far below SALIENCY_TOL (a fraction of each map's maximum
# |gradient|); a mistake in the backward pass is off by order 1.
SALIENCY_TOL = 1e-5
N_DIGITS = 20
FAKE_SITE = "http://book.test/"


@pytest.fixture(scope="module")
def mnist_test():
    _, _, x_test, y_test = load_mnist()
    return x_test, y_test


@pytest.fixture(scope="module")
def model():
    return load_model()[0]


@pytest.fixture
def scripts(blank_page):
    """A blank page with common.js and draw_digit.js loaded (pure functions only)."""
    for name in ("common.js", "draw_digit.js"):
        blank_page.add_script_tag(path=str(STATIC / name))
    return blank_page


def asset_norm() -> dict:
    """The normalisation the weights asset carries (what the explorer normalises with)."""
    return read_document()["normalisation"]


def js_preprocess(page, image: np.ndarray, norm: dict | None = None) -> np.ndarray:
    h, w = image.shape
    out = page.evaluate(
        "([p, h, w, norm]) => Array.from(CnnExplorers.drawDigit.preprocess(p, h, w, norm))",
        [image.ravel().tolist(), h, w, norm])
    return np.array(out, dtype=np.float32).reshape(28, 28)


def drawings(mnist_test) -> list[np.ndarray]:
    """Raw drawings: MNIST digits, blobs of random sizes and aspect ratios, thin lines, one
    pixel, ink touching the border, a digit far from the centre of a large canvas."""
    rng = np.random.default_rng(0)
    x_test = mnist_test[0]
    cases = [x_test[i] / 255.0 for i in range(5)]
    for h, w in [(60, 40), (33, 90), (120, 17), (9, 9), (280, 280)]:
        img = np.zeros((h, w))
        r0, c0 = rng.integers(0, h // 3 + 1), rng.integers(0, w // 3 + 1)
        img[r0:r0 + max(1, h // 2), c0:c0 + max(1, w // 2)] = rng.random((max(1, h // 2),
                                                                          max(1, w // 2)))
        cases.append(img)
    line = np.zeros((100, 100))
    line[10:90, 50] = 1.0
    dot = np.zeros((30, 30))
    dot[3, 27] = 0.5
    border = rng.random((40, 25))
    big = np.zeros((280, 280))
    big[200:256, 10:66] = np.kron(x_test[7] / 255.0, np.ones((2, 2)))
    return cases + [line, dot, border, big]


def test_the_asset_carries_the_python_normalisation():
    assert asset_norm() == MNIST_NORM


def test_preprocess_equals_python(scripts, mnist_test):
    worst = 0.0
    for image in drawings(mnist_test):
        for norm, normalise in ((asset_norm(), True), (None, False)):
            expected = preprocess_digit(image, normalise=normalise)
            got = js_preprocess(scripts, image, norm)
            worst = max(worst, float(np.abs(got - expected).max()))
    assert worst <= PREPROCESS_TOL, f"JS and Python preprocessing differ by {worst:.2e}"


def test_preprocess_refuses_an_empty_drawing(scripts):
    message = scripts.evaluate("""() => {
        try { CnnExplorers.drawDigit.preprocess(new Float64Array(100), 10, 10); return "none"; }
        catch (error) { return error.message; } }""")
    assert "no ink" in message


def test_forward_equals_pytorch(scripts, mnist_test, model):
    x_test = mnist_test[0][:N_DIGITS]
    inputs = ((x_test / 255.0 - MNIST_NORM["mean"]) / MNIST_NORM["std"]).astype(np.float32)
    logits, c1, c3 = lenet_maps(model, inputs)
    got = scripts.evaluate("""([doc, inputs]) => {
        const net = CnnExplorers.drawDigit;
        const weights = net.decodeWeights(doc);
        const same = net.forward(doc, inputs[0]).logits;   // the asset itself also works
        return inputs.map((x, i) => {
          const out = net.forward(weights, x);
          if (i === 0 && out.logits.some((z, d) => z !== same[d])) throw new Error("differ");
          return [out.logits, Array.from(out.c1.data), Array.from(out.c3.data)];
        }); }""", [read_document(), inputs.reshape(N_DIGITS, -1).tolist()])
    js_logits = np.array([g[0] for g in got])
    js_c1 = np.array([g[1] for g in got]).reshape(c1.shape)
    js_c3 = np.array([g[2] for g in got]).reshape(c3.shape)
    differences = {"logits": np.abs(js_logits - logits.numpy()).max(),
                   "C1": np.abs(js_c1 - c1.numpy()).max(), "C3": np.abs(js_c3 - c3.numpy()).max()}
    assert max(differences.values()) <= FORWARD_TOL, differences
    assert (js_logits.argmax(1) == logits.numpy().argmax(1)).all()


def test_saliency_equals_pytorch(scripts, mnist_test, model):
    """The explorer's saliency: the gradient of the top logit with respect to the input, by its
    hand-written backward pass, equals PyTorch's autograd on the 20 digits of the logits test,
    relative to each map's maximum; |gradient| scaled to its maximum is what it paints."""
    x_test = mnist_test[0][:N_DIGITS]
    inputs = ((x_test / 255.0 - MNIST_NORM["mean"]) / MNIST_NORM["std"]).astype(np.float32)
    want = lenet_saliency(model, inputs).numpy().reshape(N_DIGITS, -1).astype(np.float64)
    top = lenet_maps(model, inputs)[0].argmax(1).numpy()
    got = scripts.evaluate("""([doc, inputs]) => {
        const net = CnnExplorers.drawDigit;
        const weights = net.decodeWeights(doc);
        return inputs.map((x) => {
          const out = net.saliency(weights, x);
          return [out.target, Array.from(out.gradient), Array.from(out.saliency)];
        }); }""", [read_document(), inputs.reshape(N_DIGITS, -1).tolist()])
    assert [g[0] for g in got] == top.tolist()
    gradient = np.array([g[1] for g in got])
    scale = np.abs(want).max(axis=1)
    relative = (np.abs(gradient - want).max(axis=1) / scale).max()
    assert relative <= SALIENCY_TOL, f"JS and PyTorch saliency differ by {relative:.2e} of the max"
    painted = np.array([g[2] for g in got])
    assert np.abs(painted - np.abs(want) / scale[:, None]).max() <= SALIENCY_TOL
    assert painted.max(axis=1).tolist() == [1.0] * N_DIGITS


def test_saliency_takes_a_target_and_refuses_a_bad_one(scripts, mnist_test, model):
    x = ((mnist_test[0][0] / 255.0 - MNIST_NORM["mean"]) / MNIST_NORM["std"]).astype(np.float32)
    want = lenet_saliency(model, x, target=3).numpy().ravel()
    got = scripts.evaluate("""([doc, x]) => {
        const net = CnnExplorers.drawDigit;
        let message = "none";
        try { net.saliency(doc, x, 10); } catch (error) { message = error.message; }
        return [Array.from(net.saliency(doc, x, 3).gradient), message]; }""",
        [read_document(), x.ravel().tolist()])
    assert np.abs(np.array(got[0]) - want).max() <= SALIENCY_TOL * np.abs(want).max()
    assert "target" in got[1]


# ------------------------------------------------------------------ the mounted explorer

def fake_site(page):
    """Serve a chapter page with the explorer's mount point, and tools/static/explorers as
    _static/explorers/, from memory at FAKE_SITE (no network)."""
    html = ('<!doctype html><html><head><meta charset="utf-8"><title>t</title>'
            '<link rel="stylesheet" href="../_static/explorers/explorers.css">'
            '<script src="../_static/explorers/common.js"></script>'
            '<script src="../_static/explorers/draw_digit.js"></script></head><body>'
            '<div class="cnn-explorer" data-explorer="draw-digit" data-config="{}">'
            '<p class="cnn-explorer-note">static</p></div></body></html>')

    def handle(route):
        path = route.request.url[len(FAKE_SITE):]
        if path == "chapters/06.html":
            return route.fulfill(body=html, content_type="text/html")
        name = path.removeprefix("_static/explorers/")
        if name != path and (STATIC / name).is_file():
            kind = {"js": "text/javascript", "css": "text/css", "json": "application/json"}
            return route.fulfill(path=str(STATIC / name),
                                 content_type=kind[name.rsplit(".", 1)[-1]])
        return route.fulfill(status=404, body="")

    page.route(f"{FAKE_SITE}**", handle)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    page.goto(f"{FAKE_SITE}chapters/06.html")
    page.wait_for_selector('[data-explorer="draw-digit"][data-ready="true"]', timeout=20_000)
    return errors


def draw(page, strokes):
    """Draw strokes (lists of (x, y) in [0, 1] of the pad) with the mouse."""
    box = page.locator(".cnn-digit-pad").bounding_box()
    for stroke in strokes:
        points = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in stroke]
        page.mouse.move(*points[0])
        page.mouse.down()
        for point in points[1:]:
            page.mouse.move(*point, steps=8)
        page.mouse.up()


def page_result(page):
    return page.evaluate("""() => {
        const r = document.querySelector('[data-explorer="draw-digit"]').cnnDrawDigit;
        return r && {input: Array.from(r.input), predicted: r.predicted,
                     saliency: Array.from(r.saliency), target: r.saliencyTarget}; }""")


def overlay_pixels(page) -> np.ndarray:
    """The saliency canvas as painted: (height, width, 4) RGBA."""
    width, height, data = page.evaluate("""() => {
        const canvas = document.querySelector('.cnn-digit-saliency');
        const context = canvas.getContext('2d');
        return [canvas.width, canvas.height,
                Array.from(context.getImageData(0, 0, canvas.width, canvas.height).data)]; }""")
    return np.array(data, dtype=np.uint8).reshape(height, width, 4)


def check_overlay(page, model, result) -> None:
    """The saliency map the page holds is PyTorch's for the page's input, and its canvas shows
    it: not blank (many colours), yellow where the map is largest, and the caption names the
    class."""
    x = np.array(result["input"], dtype=np.float32).reshape(28, 28)
    want = np.abs(lenet_saliency(model, x).numpy().ravel())
    assert result["target"] == result["predicted"]
    assert np.abs(np.array(result["saliency"]) - want / want.max()).max() <= SALIENCY_TOL
    pixels = overlay_pixels(page)
    assert pixels.shape == (224, 224, 4)
    assert len(np.unique(pixels[..., :3].reshape(-1, 3), axis=0)) > 20, "the overlay is blank"
    i, j = divmod(int(want.argmax()), 28)
    centre = pixels[8 * i + 1:8 * i + 7, 8 * j + 1:8 * j + 7, :3].reshape(-1, 3)
    assert any((c[0] > 200 and c[1] > 200 and c[2] < 80) for c in centre), \
        "the largest saliency is not painted yellow"
    caption = page.locator(".cnn-digit-saliency").locator("xpath=..").inner_text()
    assert f"Saliency of the {result['predicted']}" in caption


SKELETONS = {
    1: [[(0.52, 0.15), (0.50, 0.50), (0.48, 0.85)]],
    7: [[(0.25, 0.2), (0.75, 0.2), (0.55, 0.5), (0.42, 0.85)]],
}


@pytest.mark.parametrize("digit", sorted(SKELETONS))
def test_drawn_strokes_are_read_as_pytorch_reads_them(blank_page, model, digit):
    errors = fake_site(blank_page)
    draw(blank_page, SKELETONS[digit])
    result = page_result(blank_page)
    assert result is not None, "nothing was classified after drawing"
    x = np.array(result["input"], dtype=np.float32).reshape(28, 28)
    torch_class = int(lenet_maps(model, x)[0].argmax())
    assert result["predicted"] == torch_class
    assert torch_class == digit, f"the {digit} drawn was read as {torch_class}"
    check_overlay(blank_page, model, result)
    status = blank_page.locator(".cnn-digit-status").inner_text()
    assert f"reads a {digit}" in status
    assert not errors, errors


def test_keyboard_path_and_narrow_width(blank_page):
    blank_page.set_viewport_size({"width": 390, "height": 900})
    errors = fake_site(blank_page)
    buttons = blank_page.locator(".cnn-digit-samples button")
    assert buttons.count() == 10
    assert blank_page.locator(".cnn-explorer-note").count() == 0
    assert buttons.all_inner_texts() == [str(d) for d in range(10)]
    button = buttons.nth(3)
    label = button.inner_text()
    button.focus()
    blank_page.keyboard.press("Enter")
    status = blank_page.locator(".cnn-digit-status")
    assert status.get_attribute("aria-live") == "polite"
    assert f"reads a {label}" in status.inner_text()
    rows = blank_page.locator(".cnn-digit-row").all_inner_texts()
    assert len(rows) == 10 and all("%" in r for r in rows)
    overflow = blank_page.evaluate("""() => {
        const root = document.querySelector('[data-explorer="draw-digit"]');
        return [root.scrollWidth, root.clientWidth, document.documentElement.scrollWidth]; }""")
    assert overflow[0] <= overflow[1] and overflow[2] <= 390, overflow
    blank_page.get_by_role("button", name="Clear").click()
    assert "Draw a digit" in status.inner_text()
    assert blank_page.locator(".cnn-digit-best").count() == 0     # no answer left in bold
    assert not errors, errors


def test_it_starts_on_the_first_test_digit_and_a_tap_draws(blank_page, model):
    errors = fake_site(blank_page)
    first = min(read_document()["samples"], key=lambda s: s["index"])
    status = blank_page.locator(".cnn-digit-status").inner_text()
    assert f"test image {first['index']}, labelled {first['label']}" in status
    assert page_result(blank_page) is not None
    box = blank_page.locator(".cnn-digit-pad").bounding_box()      # a tap: a dot, read
    blank_page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    result = page_result(blank_page)
    assert result is not None and max(result["input"]) > 0, "a tap drew nothing"
    blank_page.get_by_role("button", name="Fill the square (not a digit)").click()
    result = page_result(blank_page)                               # not a digit, still a digit
    x = np.array(result["input"], dtype=np.float32).reshape(28, 28)
    assert result["predicted"] == int(lenet_maps(model, x)[0].argmax())
    assert "reads a" in blank_page.locator(".cnn-digit-status").inner_text()
    assert "not a digit" in blank_page.locator(".cnn-digit-caveat").inner_text()
    assert not errors, errors


# ------------------------------------------------------------------ on the built site

def test_chapter_6_mounts_it(browser, site, model):
    page, js_errors, failed = open_page(browser, site + "chapters/06_lenet_alexnet_vgg.html")
    root = page.locator('[data-explorer="draw-digit"]')
    assert root.count() == 1
    page.wait_for_selector('[data-explorer="draw-digit"][data-ready="true"]', timeout=20_000)
    fallback = root.locator("xpath=ancestor::*[contains(@class, 'cell_output')]//img")
    assert fallback.count() >= 1 and not fallback.first.is_visible()
    root.scroll_into_view_if_needed()
    page.locator(".cnn-digit-samples button").first.click()
    page.locator(".cnn-digit-pad").scroll_into_view_if_needed()
    draw(page, [[(0.3, 0.3), (0.7, 0.3)]])   # a stroke over the test digit: the reader's turn
    status = page.locator(".cnn-digit-status").inner_text()
    assert "reads a" in status and "MNIST test image" not in status, status
    check_overlay(page, model, page_result(page))
    SHOTS.mkdir(parents=True, exist_ok=True)
    root.screenshot(path=str(SHOTS / "draw_digit.png"))
    page.close()
    assert not js_errors, js_errors
    assert not failed, failed


def test_pointing_at_a_map_shows_its_kernel_and_patch(blank_page, model):
    """Pointing at C1 map 2, pixel (14, 14): the kernel and patch shown multiply and add (with
    the bias) to the value PyTorch's first convolution gives there, before tanh."""
    import torch

    errors = fake_site(blank_page)
    canvas = blank_page.locator(".cnn-digit-c1").nth(1)
    box = canvas.bounding_box()
    blank_page.mouse.move(box["x"] + box["width"] * 14.5 / 28,
                          box["y"] + box["height"] * 14.5 / 28)
    found = blank_page.evaluate(
        "document.querySelector('[data-explorer=\"draw-digit\"]').cnnInspect")
    assert (found["layer"], found["c"], found["i"], found["j"]) == ("c1", 1, 14, 14)
    x = torch.tensor(page_result(blank_page)["input"], dtype=torch.float32).reshape(1, 1, 28, 28)
    with torch.no_grad():
        want = model.features[0](x)[0, 1, 14, 14].item()
    assert abs(found["sum"] - want) <= FORWARD_TOL
    assert blank_page.locator(".cnn-digit-inspect .cnn-digit-tile").count() == 2
    assert "kernel" in blank_page.locator(".cnn-digit-inspect figcaption").inner_text()
    blank_page.locator(".cnn-digit-c3").first.hover()
    assert blank_page.locator(".cnn-digit-inspect .cnn-digit-tile").count() == 12   # 6 + 6
    canvas.click()
    assert "cnn-digit-enlarged" in canvas.get_attribute("class")
    assert blank_page.locator(".cnn-digit-f5").count() == 1
    assert not errors, errors
