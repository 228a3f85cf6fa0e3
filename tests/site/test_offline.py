"""The website stands alone: opened with no network, every page asks only the local server for
what it shows, and MathJax (served with the book) typesets every formula -- none is left as raw
TeX, none is a MathJax error. The formula count of each page is written to
_build/formula_counts.json.
"""
from __future__ import annotations

import json
from urllib.parse import urlparse

from tests.site.conftest import BUILD_DIR, open_page, pages, wait_for_math

# Visible text that MathJax should have replaced: TeX delimiters and environments, and a few
# commands no prose uses. Code, and MathJax's own output, are not prose.
MATH_STATE = r"""() => {
  const notProse = "code, pre, script, style, textarea, kbd, samp, mjx-container";
  const tex = /\\\(|\\\)|\\\[|\\\]|\$\$|\\begin\{|\\(frac|sum|mathbf|cdot)\b/;
  const raw = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest(notProse) || !parent.getClientRects().length) continue;
    if (tex.test(node.textContent)) raw.push(node.textContent.trim().slice(0, 120));
  }
  const math = [...document.querySelectorAll(".math")];
  return {
    formulas: document.querySelectorAll("mjx-container").length,
    math: math.length,
    untypeset: math.filter(e => !e.querySelector("mjx-container"))
                  .map(e => e.textContent.trim().slice(0, 120)),
    errors: [...document.querySelectorAll("mjx-merror")].map(e => e.textContent.slice(0, 120)),
    raw,
  };
}"""


def off_site(requests: list[str], site: str) -> list[str]:
    """The requests to any host but the local server (data: and blob: URLs are local)."""
    local = urlparse(site).netloc
    return sorted({u for u in requests if not u.startswith(("data:", "blob:"))
                   and urlparse(u).netloc != local})


def test_off_site_ignores_data_and_blob_urls():
    site = "http://127.0.0.1:8000/"
    assert off_site(["http://127.0.0.1:8000/a.js", "data:image/png;base64,AA", "blob:x",
                     "https://cdn.example.org/x.css", "https://cdn.example.org/x.css"],
                    site) == ["https://cdn.example.org/x.css"]


def test_math_state_sees_raw_tex_untypeset_formulas_and_errors(blank_page):
    blank_page.set_content(
        r'<p>Prose with \(x^2\) left raw, and $$y$$.</p><p><code>\frac{a}{b}</code></p>'
        r'<span class="math">\(z\)</span><div class="math"><mjx-container>'
        r'<mjx-merror>Undefined control sequence \foo</mjx-merror></mjx-container></div>')
    state = blank_page.evaluate(MATH_STATE)
    assert state["raw"] == [r"Prose with \(x^2\) left raw, and $$y$$.", r"\(z\)"]
    assert state["math"] == 2 and state["formulas"] == 1 and state["untypeset"] == [r"\(z\)"]
    assert state["errors"] == [r"Undefined control sequence \foo"]


def test_every_page_is_offline_and_its_math_typeset(browser, site):
    problems, counts = [], {}
    for rel in pages():
        requests: list[str] = []
        page, js_errors, _ = open_page(browser, site + rel, requests=requests)
        startup_error = wait_for_math(page)
        state = page.evaluate(MATH_STATE)
        page.close()
        counts[rel] = state["formulas"]
        problems += [f"{rel}: off-site request {u}" for u in off_site(requests, site)]
        if startup_error:
            problems.append(f"{rel}: MathJax failed to start: {startup_error}")
        problems += [f"{rel}: MathJax: {e}" for e in js_errors if "mathjax" in e.lower()]
        problems += [f"{rel}: formula not typeset: {t}" for t in state["untypeset"]]
        problems += [f"{rel}: MathJax error in a formula: {e}" for e in state["errors"]]
        problems += [f"{rel}: raw TeX in the text: {t}" for t in state["raw"]]
        if state["formulas"] < state["math"]:
            problems.append(f"{rel}: {state['formulas']} of {state['math']} formulas rendered")
    (BUILD_DIR / "formula_counts.json").write_text(json.dumps(counts, indent=1) + "\n")
    assert sum(counts.values()) > 0, "no formula on any page: is MathJax loaded?"
    assert not problems, "\n".join(problems)
