"""The accessibility fixes of the upstream HTML (tools.sphinx_a11y): each edits only what the
visitor just wrote, and each template it puts first overrides one of the theme's."""
from __future__ import annotations

from pathlib import Path

import pydata_sphinx_theme
import pytest

from tools import sphinx_a11y

THEME_COMPONENTS = (Path(pydata_sphinx_theme.__file__).parent / "theme" / "pydata_sphinx_theme"
                    / "components")


def test_replace_in_last_edits_the_latest_chunk_only():
    body = ['<div role="doc-biblioentry">', "text", '<div role="doc-biblioentry">', "more"]
    sphinx_a11y._replace_in_last(body, sphinx_a11y.BIBLIOENTRY, 'role="listitem"')
    assert body == ['<div role="doc-biblioentry">', "text", '<div role="listitem">', "more"]
    with pytest.raises(ValueError, match="upstream"):
        sphinx_a11y._replace_in_last(["<p>"], sphinx_a11y.HIDDEN_SUMMARY, "<summary>")


def test_each_template_overrides_a_theme_component_and_drops_the_mismatched_names():
    templates = sorted(p.name for p in sphinx_a11y.TEMPLATES.glob("*.html"))
    assert templates == ["search-button-field.html", "theme-switcher.html"]
    for name in templates:
        assert (THEME_COMPONENTS / name).is_file(), f"the theme has no {name} any more"
    search = (sphinx_a11y.TEMPLATES / "search-button-field.html").read_text()
    assert "aria-label" not in search.split("#}", 1)[1]
    switcher = (sphinx_a11y.TEMPLATES / "theme-switcher.html").read_text().split("#}", 1)[1]
    assert ' title="' not in switcher and switcher.count('aria-hidden="true"') == 3
