"""The built website in a real browser: every page renders with a title, without JavaScript
errors from local assets, with every local link and image resolving; every chapter page links
its Colab reader copy (and its exercise notebook, if it has exercises); search finds
"receptive field". Screenshots of two pages are saved under _build/screenshots/.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

import nbformat

from tests.site.conftest import HTML, ROOT, SHOTS, chapter_pages, open_page, pages
from tools import book


def test_every_page_renders_and_its_local_links_resolve(browser, site):
    all_pages = pages()
    assert "intro.html" in all_pages and chapter_pages(), all_pages
    checked: dict[str, bool] = {}
    problems = []
    for rel in all_pages:
        page, js_errors, failed = open_page(browser, site + rel)
        title = page.title()
        if not title.strip():
            problems.append(f"{rel}: empty title")
        problems += [f"{rel}: JavaScript error: {e}" for e in js_errors]
        problems += [f"{rel}: failed request {f}" for f in failed]
        targets = page.eval_on_selector_all(
            "a[href], img[src]", "els => els.map(e => e.href || e.src)")
        for target in targets:
            target = urldefrag(target)[0]
            if urlparse(target).netloc != urlparse(site).netloc or target in checked:
                continue
            path = HTML / urlparse(target).path.lstrip("/")
            ok = path.is_file() or (path.is_dir() and (path / "index.html").is_file())
            checked[target] = ok
            if not ok:
                problems.append(f"{rel}: broken local link {target}")
        imgs = page.eval_on_selector_all("img", "els => els.filter(e => e.src.startsWith("
                                         "location.origin) && !(e.complete && e.naturalWidth > 0))"
                                         ".map(e => e.src)")
        problems += [f"{rel}: image did not load {s}" for s in imgs]
        page.close()
    assert not problems, "\n".join(problems)


def test_chapter_pages_have_colab_and_exercise_links(browser, site):
    for rel in chapter_pages():
        page, _, _ = open_page(browser, site + rel)
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        stem = Path(rel).stem
        colab = [h for h in hrefs if h.startswith("https://colab.research.google.com/github/")]
        assert not any(h.endswith(f"chapters/{stem}.ipynb") for h in colab), \
            f"{rel}: a Colab link opens the source notebook (raw MyST roles) instead of its copy"
        assert any(h.endswith(f"chapters/colab/{stem}.ipynb") for h in colab), \
            f"{rel}: no link to the chapter's reader copy"
        has_exercises = book.has_exercises(nbformat.read(ROOT / f"{rel[:-5]}.ipynb", as_version=4))
        assert has_exercises == any(
            h.endswith(f"chapters/exercises/{stem}_exercises.ipynb") for h in colab), \
            f"{rel}: an exercise notebook link if and only if the chapter has exercises"
        page.close()


def test_search_finds_receptive_field(browser, site):
    page, js_errors, _ = open_page(browser, urljoin(site, "search.html?q=receptive+field"))
    page.wait_for_selector("#search-results ul.search li", timeout=20_000)
    hits = page.eval_on_selector_all("#search-results ul.search li", "els => els.length")
    assert hits > 0 and not js_errors
    page.close()


def test_screenshots_of_two_pages(browser, site):
    SHOTS.mkdir(parents=True, exist_ok=True)
    targets = {"intro": "intro.html"}
    if chapter_pages():
        targets["chapter"] = chapter_pages()[0]
    for name, rel in targets.items():
        page, _, _ = open_page(browser, site + rel)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)
        page.close()
        assert (SHOTS / f"{name}.png").stat().st_size > 10_000
