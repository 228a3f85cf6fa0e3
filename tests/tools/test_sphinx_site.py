"""tools.sphinx_site on its own: identical scripts kept once, Font Awesome's icons as inline
SVG from the theme's own copy, author-year bibliography labels and arXiv links."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from pybtex.database import Entry, Person
from sphinx.builders.html._assets import _JavaScript

from tools import sphinx_site


@pytest.fixture(scope="module")
def packs():
    return sphinx_site.icon_paths(sphinx_site.font_awesome_js().read_text())


def test_identical_scripts_are_kept_once():
    thebe = 'const THEBE_JS_URL = "x"'
    context = {"script_files": [_JavaScript("a.js"), _JavaScript(None, body=thebe),
                                _JavaScript("b.js", **{"async": "async"}),
                                _JavaScript("", body=thebe), _JavaScript("a.js"),
                                _JavaScript("b.js")]}
    builders_list = context["script_files"]
    sphinx_site.unique_scripts(None, "p", "page.html", context, None)
    assert context["script_files"] is builders_list       # later handlers still add to it
    kept = [(s.filename, s.attributes) for s in context["script_files"]]
    assert kept == [("a.js", {}), (None, {"body": thebe}), ("b.js", {"async": "async"}),
                    ("b.js", {})]


def test_the_themes_icons_are_found_in_their_packs(packs):
    assert packs["solid"]["magnifying-glass"][2].startswith("M416 208c0")
    assert packs["brands"]["github"][:2] == (496, 512)
    assert packs["solid"]["file"][2] != packs["regular"]["file"][2]   # filled, not outlined


def test_font_awesome_tags_become_inline_svg(packs):
    page = ('<html><head><script defer src="_static/scripts/fontawesome.js?digest=1"></script>'
            '</head><body class="x"><button><i class="fab fa-github"></i></button>'
            '<span class="fa-solid fa-bars"></span>'
            '<i class="theme-switch fa-solid fa-sun fa-lg" data-mode="light" '
            'aria-hidden="true"></i> <i>plain</i></body></html>')
    new = sphinx_site.without_font_awesome(page, packs)
    assert "fontawesome.js" not in new and "fa-solid" not in new and "fab" not in new
    assert '<body class="x"><svg class="cnn-icon-sprite"' in new
    assert new.count("<symbol ") == 3 and new.count("<use ") == 3
    assert ('<svg class="theme-switch fa-lg cnn-icon cnn-icon-sun" data-mode="light" '
            'aria-hidden="true" focusable="false" viewBox="0 0 512 512">'
            '<use href="#cnn-icon-solid-sun"></use></svg>') in new
    assert "<i>plain</i>" in new
    with pytest.raises(ValueError, match="not in the theme"):
        sphinx_site.without_font_awesome('<i class="fa-solid fa-no-such-icon"></i>', packs)


def entry(year, *authors):
    e = Entry("article", fields={"year": year, "title": "T"})
    e.persons["author"] = [Person(a) for a in authors]
    return e


def test_labels_are_author_year_with_names_from_latex():
    labels = list(sphinx_site.AuthorYearLabels().format_labels([
        entry("1998", "LeCun, Yann", "Bottou, L{\\'e}on", "Bengio, Yoshua"),
        entry("2017", "Goyal, Priya", "Doll{\\'a}r, Piotr", "Girshick, Ross"),
        entry("2015", "He, Kaiming", "Sun, Jian"),
        entry("2017", "Chollet, Fran{\\c{c}}ois"),
        entry("2016", "He, Kaiming", "Zhang, Xiangyu", "Ren, Shaoqing"),
        entry("2016", "He, Kaiming", "Zhang, Xiangyu", "Ren, Shaoqing", "Sun, Jian"),
    ]))
    assert labels == ["LeCun et al., 1998", "Goyal et al., 2017", "He and Sun, 2015",
                      "Chollet, 2017", "He et al., 2016a", "He et al., 2016b"]
    assert sphinx_site.author_year(entry("2019", "Doll{\\'a}r, Piotr")) == "Dollár, 2019"


def test_arxiv_identifiers_become_links_once():
    text = ('arXiv preprint arXiv:1706.02677, 2017. '
            '<a href="https://arxiv.org/abs/2111.06377">arXiv:2111.06377</a>')
    linked = sphinx_site.link_arxiv(text)
    assert ('<a class="reference external" href="https://arxiv.org/abs/1706.02677">'
            'arXiv:1706.02677</a>') in linked
    assert linked.count("2111.06377") == 2                     # the existing link untouched


def test_the_landing_page_links_to_the_first_chapter():
    app = SimpleNamespace(config=SimpleNamespace(root_doc="intro"))
    context = {"next": {"link": "chapters/01.html", "title": "1. Why?"},
               "body": "<section><h1>Course</h1><p>Hello</p></section>"}
    sphinx_site.start_reading(app, "intro", "page.html", context, None)
    assert context["body"].startswith('<section><h1>Course</h1><p class="cnn-start-reading">'
                                      '<a class="btn btn-primary" href="chapters/01.html">'
                                      'Start reading: 1. Why? →</a></p>')
    other = {"next": context["next"], "body": "<h1>Two</h1>"}
    sphinx_site.start_reading(app, "chapters/01", "page.html", other, None)
    assert other["body"] == "<h1>Two</h1>"
