"""The website opened as readers open it: every page from disk (``file://…/_build/html``, as
``make book`` suggests) and over http, on a 1280 px screen and on a 390 px phone, in light
and dark mode.

- every page, both ways: no JavaScript error, no failed request, every explorer live (none
  fell back to its static figure), its formulas typeset, and no text of a Markdown table
  (``| --- |``) outside code;
- at 390 px: no page wider than the screen, and no formula cut off (each fits on the screen
  or inside a box that scrolls sideways);
- in dark mode: axe-core's colour-contrast rule passes inside every explorer;
- page weight: the bytes of every local file each page loads (its HTML, scripts, styles,
  fonts, images), written to _build/page_weights.txt and held to :data:`BUDGET`;
- screenshots of every chapter at 1280 px and 390 px, light and dark, in
  _build/screenshots/reader/ (to look at, not compared).
"""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from tests.site.conftest import (
    BUILD_DIR,
    HTML,
    SHOTS,
    chapter_pages,
    open_page,
    pages,
    wait_for_math,
)

PHONE = 390
# Page weight budget per page (bytes of every local file it loads). MathJax is 1.16 MB of the
# JavaScript of a page with formulas, the draw-a-digit weights 0.34 MB of chapter 6's. Before
# issue 27 a chapter loaded 4.2-5.1 MB, 2.9 MB of it JavaScript (Font Awesome's 1.5 MB on every
# page, and 0.27 MB of its fonts); after it, 2.1-3.5 MB (chapter 2's 25-frame animation is
# 0.6 MB of its 0.8 MB of HTML until the live explorer replaces it).
BUDGET = {"total": 3_700_000, "js": 2_000_000}
MARKDOWN_TABLE = re.compile(r"\|\s*:?-{3,}:?\s*\|")

STATE = """() => {
  const text = (() => {
    const copy = document.body.cloneNode(true);
    copy.querySelectorAll("pre, code, script, style, .highlight").forEach(e => e.remove());
    return copy.innerText;
  })();
  const explorers = [...document.querySelectorAll(".cnn-explorer[data-explorer]")].map(e => ({
    name: e.dataset.explorer, live: e.classList.contains("cnn-explorer-live"),
    failed: e.dataset.failed === "true",
    ready: e.dataset.explorer !== "draw-digit" || e.dataset.ready === "true"}));
  const formulas = document.querySelectorAll("article .math").length;
  const typeset = document.querySelectorAll("article mjx-container").length;
  return {text, explorers, formulas, typeset};
}"""

# Each formula can be read whole: walking up from it, every box that clips (overflow hidden)
# holds it whole, up to a box that scrolls sideways (then it can be scrolled into view) or
# up to the page, where it must lie inside the window.
CLIPPED_MATH = """() => {
  const width = document.documentElement.clientWidth;
  const bad = [];
  // the page's text (the contents drawers, closed on a phone, are not in the article)
  for (const math of document.querySelectorAll("article mjx-container")) {
    let r = math.getBoundingClientRect();
    if (r.width === 0) continue;
    const shown = r.width;
    let ok = null;
    for (let box = math; box && box !== document.body; box = box.parentElement) {
      const o = getComputedStyle(box).overflowX;
      if (o === "auto" || o === "scroll") { ok = true; break; }
      if ((o === "hidden" || o === "clip") && box !== math) {
        const b = box.getBoundingClientRect();
        if (r.right > b.right + 1 || r.left < b.left - 1) { ok = false; break; }
        r = b;
      }
    }
    if (ok === null) ok = r.right <= width + 1 && r.left >= -1;
    if (!ok) bad.push(`${Math.round(shown)} px: ${math.textContent.slice(0, 60)}`);
  }
  return bad;
}"""


# The innermost elements that stick out of a `width`-px window outside any box that scrolls
# or clips (what makes the page wider than the screen).
WIDEST = """(width) => {
  const inBox = (e) => {
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== "visible") return true;
    }
    return false;
  };
  const out = (e) => e.getClientRects().length && e.getBoundingClientRect().right > width + 1
    && !inBox(e);
  return [...document.querySelectorAll("article *")].filter(out)
    .filter(e => ![...e.children].some(out))
    .slice(0, 3).map(e => `${e.tagName}.${e.className}: ${e.textContent.slice(0, 60)}`);
}"""


def file_url(rel: str) -> str:
    return (HTML / rel).resolve().as_uri()


def check_page(browser, url: str, rel: str) -> list[str]:
    page, js_errors, failed = open_page(browser, url)
    wait_for_math(page)
    page.wait_for_timeout(300)                   # explorers' weights (draw-a-digit)
    state = page.evaluate(STATE)
    if any(not e["ready"] for e in state["explorers"]):
        page.wait_for_selector('[data-explorer="draw-digit"][data-ready="true"], '
                               '[data-explorer="draw-digit"][data-failed="true"]',
                               timeout=20_000)
        state = page.evaluate(STATE)
    page.close()
    problems = [f"JavaScript error: {e}" for e in js_errors]
    problems += [f"failed request: {f}" for f in failed]
    problems += [f"explorer {e['name']} is not live" for e in state["explorers"]
                 if not e["live"] or e["failed"] or not e["ready"]]
    if state["formulas"] and not state["typeset"]:
        problems.append(f"{state['formulas']} formulas but none typeset (MathJax not loaded?)")
    problems += [f"Markdown table text: {m.group(0)!r}" for m in
                 MARKDOWN_TABLE.finditer(state["text"])][:3]
    return [f"{rel} ({urlparse(url).scheme}): {p}" for p in problems]


@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["http", "file"])
def test_every_page_opens_cleanly_with_its_explorers_live(browser, site, scheme):
    problems = []
    for rel in pages():
        url = site + rel if scheme == "http" else file_url(rel)
        problems += check_page(browser, url, rel)
    assert not problems, "\n".join(problems)


def test_the_table_check_sees_markdown_tables_outside_code(blank_page):
    blank_page.set_content("<p>| a | b |</p><p>| --- | ---: |</p><pre>| --- |</pre>")
    found = MARKDOWN_TABLE.findall(blank_page.evaluate(STATE)["text"])
    assert found == ["| --- |"]


@pytest.mark.slow
def test_on_a_phone_nothing_is_wider_than_the_screen_or_cut_off(browser, site):
    problems = []
    for rel in pages():
        page, _, _ = open_page(browser, site + rel, width=PHONE)
        wait_for_math(page)
        page.wait_for_timeout(300)               # site.js marks formulas wider than a line
        wide = page.evaluate("document.documentElement.scrollWidth")
        if wide > PHONE:
            culprits = page.evaluate(WIDEST, PHONE)
            problems.append(f"{rel}: {wide} px wide at {PHONE} px ({culprits})")
        problems += [f"{rel}: formula cut off: {m}" for m in page.evaluate(CLIPPED_MATH)]
        page.close()
    assert not problems, "\n".join(problems)


def test_the_clipping_check_sees_a_cut_off_formula(blank_page):
    blank_page.set_viewport_size({"width": PHONE, "height": 600})
    blank_page.set_content(
        '<article><div style="overflow:hidden;width:300px">'
        '<mjx-container style="display:inline-block;width:500px">wide</mjx-container></div>'
        '<div style="overflow-x:auto;width:300px"><mjx-container style="display:inline-block;'
        'width:500px">scrolls</mjx-container></div>'
        '<mjx-container style="display:inline-block;width:200px">fits</mjx-container></article>')
    found = blank_page.evaluate(CLIPPED_MATH)
    assert len(found) == 1 and "wide" in found[0]


@pytest.mark.slow
def test_explorer_text_passes_axe_colour_contrast_in_dark_mode(browser, axe_script, site):
    problems = []
    for rel in chapter_pages():
        page, _, _ = open_page(browser, site + rel, color_scheme="dark")
        if not page.locator(".cnn-explorer").count():
            page.close()
            continue
        page.wait_for_selector(".cnn-explorer-live")
        assert page.evaluate("document.documentElement.dataset.theme") == "dark"
        wait_for_math(page)
        page.add_script_tag(path=str(axe_script))
        violations = page.evaluate("""async () => (await axe.run(
            {include: [[".cnn-explorer"]]}, {runOnly: ["color-contrast"]})).violations
            .flatMap(v => v.nodes.map(n => n.target.join(" ") + ": " + n.failureSummary))""")
        problems += [f"{rel}: {v}" for v in violations]
        page.close()
    assert not problems, "\n".join(problems)


def weigh(browser, site: str, rel: str) -> dict[str, int]:
    """Bytes of each kind of local file the page loads (html, js, css, font, image, other)."""
    requests: list[str] = []
    page, _, _ = open_page(browser, site + rel, requests=requests)
    wait_for_math(page)
    page.wait_for_timeout(500)
    page.close()
    kinds = {"html": (".html",), "js": (".js",), "css": (".css",),
             "font": (".woff", ".woff2", ".ttf", ".otf"),
             "image": (".png", ".svg", ".jpg", ".jpeg", ".gif", ".webp")}
    weight = {k: 0 for k in [*kinds, "other"]}
    for path in {unquote(urlparse(u).path) for u in requests if u.startswith(site)}:
        file = HTML / path.lstrip("/")
        if file.is_file():
            kind = next((k for k, ends in kinds.items() if path.endswith(ends)), "other")
            weight[kind] += file.stat().st_size
    weight["total"] = sum(weight.values())
    return weight


@pytest.mark.slow
def test_page_weight_is_within_budget(browser, site):
    weights = {rel: weigh(browser, site, rel) for rel in ["intro.html", *chapter_pages()]}
    columns = ["total", "html", "js", "css", "font", "image", "other"]
    lines = [f"{'page':42s}" + "".join(f"{c:>9s}" for c in columns) + "   (KiB)"]
    lines += [f"{rel:42s}" + "".join(f"{w[c] / 1024:9.0f}" for c in columns)
              for rel, w in weights.items()]
    (BUILD_DIR / "page_weights.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    over = [f"{rel}: {kind} {w[kind]:,} bytes > {limit:,}" for rel, w in weights.items()
            for kind, limit in BUDGET.items() if w[kind] > limit]
    assert not over, "\n".join(over)


@pytest.mark.slow
def test_screenshots_of_every_chapter(browser, site):
    """Screenshots to look at (not compared): each chapter's first screen and each explorer,
    at 1280 and 390 px, light and dark."""
    folder = SHOTS / "reader"
    folder.mkdir(parents=True, exist_ok=True)
    for rel in ["intro.html", *chapter_pages()]:
        stem = Path(rel).stem
        for width in (1280, PHONE):
            for scheme in ("light", "dark"):
                page, _, _ = open_page(browser, site + rel, width=width, color_scheme=scheme)
                wait_for_math(page)
                page.wait_for_timeout(300)
                page.screenshot(path=str(folder / f"{stem}_{width}_{scheme}.png"))
                for i, root in enumerate(page.locator(".cnn-explorer-live").all()):
                    root.scroll_into_view_if_needed()
                    page.wait_for_timeout(200)
                    root.screenshot(path=str(folder / f"{stem}_explorer{i}_{width}_{scheme}.png"))
                page.close()


def test_the_bibliography_is_labelled_as_the_text_cites(site):
    """Author-year labels ("LeCun et al., 1998"), names from LaTeX (no "[GDollarG+17]"), and
    arXiv identifiers and DOIs as links."""
    page = (HTML / "chapters" / "bibliography.html").read_text()
    labels = re.findall(r'<span class="label"><span class="fn-bracket">\[</span>([^<]*)<', page)
    assert len(labels) > 20
    wrong = [label for label in labels
             if not re.fullmatch(r"[^\d\[\]]+, (\d{4}[a-z]?|n\.d\.)", label)]
    assert not wrong, wrong
    assert "Goyal et al., 2017" in labels and "Dollar" not in page
    assert len(re.findall(r'href="https://arxiv\.org/abs/\d{4}\.\d{4,5}"', page)) >= 10
    assert 'href="https://doi.org/' in page
