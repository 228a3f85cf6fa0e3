"""Every reader can read the website: axe-core (the accessibility rules, test-time only) finds
no serious or critical violation on any page; every image has alt text, and a figure's alt
text is a sentence (tools.alt_text); code cells fit the page at 1280 px without scrolling
sideways. axe-core's findings are written to _build/axe_violations.json.
"""
from __future__ import annotations

import json

from tests.site.conftest import BUILD_DIR, chapter_pages, open_page, pages, wait_for_math
from tools import alt_text

BLOCKING = ("serious", "critical")
RUN_AXE = """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
  .map(v => ({rule: v.id, impact: v.impact, help: v.help,
              nodes: v.nodes.map(n => ({target: n.target.join(" "), html: n.html.slice(0, 200),
                                         summary: n.failureSummary}))}))"""
# Figures are the images of the page's article; the theme's icons sit in its frame.
IMAGES = """() => [...document.images].map(img => ({
  src: img.getAttribute("src").slice(0, 80), alt: img.getAttribute("alt"),
  figure: !!img.closest("article")}))"""
WIDE_CODE = """() => [...document.querySelectorAll("div.cell_input pre")]
  .filter(pre => pre.scrollWidth > pre.clientWidth)
  .map(pre => `${pre.scrollWidth} px in ${pre.clientWidth} px: ` +
              pre.textContent.split("\\n").reduce((a, b) => (b.length > a.length ? b : a)))"""


def axe_violations(page, axe_script) -> list[dict]:
    """axe-core's violations on the page (all rules of its default set, after MathJax)."""
    wait_for_math(page)
    page.add_script_tag(path=str(axe_script))
    return page.evaluate(RUN_AXE)


def describe(rel: str, violation: dict) -> str:
    where = "; ".join(n["target"] for n in violation["nodes"][:5])
    more = len(violation["nodes"]) - 5
    return (f"{rel}: {violation['impact']} {violation['rule']} ({violation['help']}) at {where}"
            + (f" and {more} more" if more > 0 else ""))


def test_the_checks_see_missing_alt_text_and_wide_code(blank_page):
    blank_page.set_content(
        '<img src="logo.svg" alt="Binder logo"><article><img src="a.png" alt="A cat.">'
        '<img src="b.png"><img src="c.png" alt="Loss falls over ten epochs."></article>'
        '<div class="cell_input"><pre style="width: 200px">' + "x = 1" * 60 + "</pre>"
        '<pre style="width: 200px">y = 2</pre></div>')
    images = blank_page.evaluate(IMAGES)
    assert [(i["alt"], i["figure"]) for i in images] == [
        ("Binder logo", False), ("A cat.", True), (None, True),
        ("Loss falls over ten epochs.", True)]
    wide = blank_page.evaluate(WIDE_CODE)
    assert len(wide) == 1 and wide[0].endswith("x = 1" * 60)


def test_axe_finds_no_serious_or_critical_violation(browser, axe_script, site):
    found = {}
    for rel in pages():
        page, _, _ = open_page(browser, site + rel)
        found[rel] = axe_violations(page, axe_script)
        page.close()
    (BUILD_DIR / "axe_violations.json").write_text(json.dumps(found, indent=1) + "\n")
    blocking = [describe(rel, v) for rel, vs in found.items() for v in vs
                if v["impact"] in BLOCKING]
    assert not blocking, "\n".join(blocking)


def test_every_image_has_alt_text_and_every_figure_a_sentence(browser, site):
    problems = []
    for rel in pages():
        page, _, _ = open_page(browser, site + rel)
        for img in page.evaluate(IMAGES):
            why = alt_text.problem(img["alt"]) if img["figure"] else (
                None if img["alt"] is not None else "no alt attribute")
            if why:
                problems.append(f"{rel}: {img['src']}: {why}")
        page.close()
    assert not problems, "\n".join(problems)


def test_code_cells_fit_the_page_without_scrolling_sideways(browser, site):
    problems = []
    for rel in chapter_pages():
        page, _, _ = open_page(browser, site + rel)      # 1280 px wide
        problems += [f"{rel}: {line}" for line in page.evaluate(WIDE_CODE)]
        page.close()
    assert not problems, "\n".join(problems)
