"""From a number to its evidence, on the website (tools/sphinx_evidence.py).

Every chapter page that quotes glued numbers links each of them to its row of the claims
ledger: clicking the first one opens ``ledger.html#claim-<key>`` and that row exists. The link
stays quiet (the sentence's colour in light and dark mode, a dotted underline, a focus ring).
The checks behind a section sit in one collapsed block labelled "Checks behind this section",
and no chapter page shows a ``### BEGIN SOLUTION`` / ``### END SOLUTION`` marker.
"""
from __future__ import annotations

import re
from urllib.parse import urlparse

import nbformat

from tests.site.conftest import HTML, ROOT, chapter_pages, open_page
from tools import student
from tools.sphinx_evidence import LINK_CLASS, LINK_TITLE, claim_anchor, glue_key

LINK = f"article a.{LINK_CLASS}"
# What the extension links: quoted numbers, and notes on a claim ({evidence}`words <key>`).
LINKED = re.compile(r"\{glue:text\}`([^`]+)`|\{evidence\}`[^`<]*<([^<>`]+)>`")
# The first quoted number's link: where it points and how it looks next to its sentence.
LOOKS = """(link) => {
  const own = getComputedStyle(link), text = getComputedStyle(link.parentElement);
  return {colour: own.color, textColour: text.color, line: own.textDecorationLine,
          style: own.textDecorationStyle, title: link.title};
}"""


def source_of(rel: str) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / f"{rel[:-len('.html')]}.ipynb", as_version=4)


def quotes_numbers(nb) -> bool:
    return any(c.cell_type == "markdown" and LINKED.search(c.source) for c in nb.cells)


def glued_keys(nb) -> list[str]:
    """The keys the text links to its ledger rows, in order (``doc::key:fmt`` -> ``key``)."""
    return [glue_key(m.group(1)) if m.group(1) else m.group(2)
            for cell in nb.cells if cell.cell_type == "markdown"
            for m in LINKED.finditer(cell.source)]


def test_each_quoted_number_links_to_its_ledger_row(browser, site):
    quoting = [rel for rel in chapter_pages() if quotes_numbers(source_of(rel))]
    assert quoting, "no chapter quotes a glued number"
    problems = []
    for rel in quoting:
        keys = glued_keys(source_of(rel))
        page, js_errors, _ = open_page(browser, site + rel)
        hrefs = page.eval_on_selector_all(LINK, "els => els.map(e => e.getAttribute('href'))")
        if len(hrefs) != len(keys):
            problems.append(f"{rel}: {len(keys)} quoted numbers, {len(hrefs)} ledger links")
        expected = [f"ledger.html#{claim_anchor(k)}" for k in keys]
        if hrefs != expected[:len(hrefs)]:
            problems.append(f"{rel}: links {hrefs[:3]}..., expected {expected[:3]}...")
        if not hrefs:
            page.close()
            continue
        first = page.locator(LINK).first
        looks = first.evaluate(LOOKS)
        if looks["title"] != LINK_TITLE:
            problems.append(f"{rel}: the link's title is {looks['title']!r}")
        if looks["colour"] != looks["textColour"] or "underline" not in looks["line"] \
                or looks["style"] != "dotted":
            problems.append(f"{rel}: the link is not quiet: {looks}")
        first.click()
        page.wait_for_url(re.compile(r".*/chapters/ledger\.html#claim-.*"), timeout=20_000)
        url = urlparse(page.url)
        anchor = url.fragment
        if url.path != urlparse(site).path + "chapters/ledger.html" or \
                anchor != claim_anchor(keys[0]):
            problems.append(f"{rel}: the first link opened {page.url}")
        elif not page.evaluate("id => !!document.getElementById(id)", anchor):
            problems.append(f"{rel}: the ledger has no row with id {anchor!r} "
                            "(regenerate it: `make ledger`)")
        problems += [f"{rel}: JavaScript error: {e}" for e in js_errors]
        page.close()
    assert not problems, "\n".join(problems)


def test_every_ledger_link_has_its_row(site):
    """Each link from a quoted number finds its row: every key the chapters quote has a row in
    the ledger (not only claims: computed numbers and glued values too)."""
    ledger = (HTML / "chapters" / "ledger.html").read_text(encoding="utf-8")
    rows = set(re.findall(r'\bid="(claim-[^"]+)"', ledger))
    missing = {}
    for rel in chapter_pages():
        html = (HTML / rel).read_text(encoding="utf-8")
        targets = re.findall(rf'class="{LINK_CLASS}[^"]*" href="ledger\.html#([^"]+)"', html)
        lost = sorted({t for t in targets if t not in rows})
        if lost:
            missing[rel] = lost
    assert not missing, "links to ledger rows that do not exist (`make ledger`):\n" + "\n".join(
        f"  {rel}: {len(lost)}: {', '.join(lost[:6])}{' ...' if len(lost) > 6 else ''}"
        for rel, lost in missing.items())


def test_the_links_stay_quiet_in_dark_mode_and_show_their_focus(browser, site):
    rel = next(rel for rel in chapter_pages() if quotes_numbers(source_of(rel)))
    page, _, _ = open_page(browser, site + rel)
    page.evaluate("() => { document.documentElement.dataset.theme = 'dark';"
                  " document.documentElement.dataset.mode = 'dark'; }")
    first = page.locator(LINK).first
    looks = first.evaluate(LOOKS)
    assert looks["colour"] == looks["textColour"], looks
    assert looks["style"] == "dotted", looks
    page.keyboard.press("Tab")             # keyboard focus, so :focus-visible applies
    first.focus()
    focus = first.evaluate("e => ({visible: e.matches(':focus-visible'),"
                           " ring: getComputedStyle(e).boxShadow})")
    assert focus["visible"] and focus["ring"] not in ("", "none"), focus
    page.close()


def test_checks_sit_in_one_collapsed_labelled_block(browser, site):
    problems = []
    for rel in chapter_pages():
        nb = source_of(rel)
        n_checks = sum(student.is_claims_cell(c) for c in nb.cells)
        if not n_checks:
            continue
        page, _, _ = open_page(browser, site + rel)
        blocks = page.eval_on_selector_all(
            "div.cell.tag_claims", """els => els.map(e => ({
              details: e.querySelectorAll(':scope > details').length,
              open: e.querySelector(':scope > details')?.open ?? null,
              label: e.querySelector(':scope > details > summary')?.textContent.trim() ?? '',
              visible: [...e.querySelectorAll('pre')].some(p => p.checkVisibility())}))""")
        if len(blocks) != n_checks:
            problems.append(f"{rel}: {n_checks} cells of checks, {len(blocks)} on the page")
        for i, block in enumerate(blocks):
            if block["details"] != 1 or block["open"] or block["visible"] \
                    or not block["label"].startswith(student.CLAIMS_TITLE):
                problems.append(f"{rel}: cell of checks {i} is not one collapsed block "
                                f"labelled {student.CLAIMS_TITLE!r}: {block} "
                                "(`python -m tools.notebooks sync`)")
        page.close()
    assert not problems, "\n".join(problems[:20])


def test_no_chapter_page_shows_a_solution_marker(site):
    for rel in chapter_pages():
        text = (HTML / rel).read_text(encoding="utf-8")
        for marker in student.BEGIN, student.END:
            assert marker not in text, f"{rel} shows {marker!r}"
