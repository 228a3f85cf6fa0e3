"""Sphinx extension: the accessibility fixes axe-core asks of the pages Jupyter Book writes.

Loaded by ``_config.yml`` (``sphinx.local_extensions``). Each fix keeps the upstream HTML and
changes only the attribute axe-core reports (tests/site/test_accessibility.py):

- a hidden code cell's ``<summary>`` (myst-nb) is named "Toggle hidden content" while it shows
  "Show code cell source": a speech-input user saying what they see would miss it
  (label-content-name-mismatch). Without the ``aria-label`` its name is the visible text.
- a bibliography entry's ``role="doc-biblioentry"`` (docutils) is deprecated and not allowed
  in the ``role="list"`` around it (aria-required-children): it becomes ``role="listitem"``.
- the theme's search button and colour-mode button are named otherwise than they read
  (label-content-name-mismatch): ``tools/templates/`` overrides those two components.
"""
from __future__ import annotations

from pathlib import Path

from docutils import nodes
from myst_nb.sphinx_ import HideCodeCellNode, depart_HideCellInput, visit_HideCellInput

TEMPLATES = Path(__file__).resolve().parent / "templates"
HIDDEN_SUMMARY = '<summary aria-label="Toggle hidden content">'
BIBLIOENTRY = 'role="doc-biblioentry"'


def _replace_in_last(body: list[str], old: str, new: str) -> None:
    """Replace ``old`` in the last chunk of HTML that holds it (the visitor just wrote it)."""
    for i in range(len(body) - 1, -1, -1):
        if old in body[i]:
            body[i] = body[i].replace(old, new)
            return
    raise ValueError(f"expected {old!r} in the HTML just written; has the upstream changed?")


def visit_hidden_cell(self, node) -> None:
    visit_HideCellInput(self, node)
    _replace_in_last(self.body, HIDDEN_SUMMARY, "<summary>")


def visit_citation(self, node) -> None:
    type(self).visit_citation(self, node)
    _replace_in_last(self.body, BIBLIOENTRY, 'role="listitem"')


def depart_citation(self, node) -> None:
    type(self).depart_citation(self, node)


def setup(app):
    app.config.templates_path.insert(0, str(TEMPLATES))
    app.add_node(HideCodeCellNode, override=True, html=(visit_hidden_cell, depart_HideCellInput))
    app.add_node(nodes.citation, override=True, html=(visit_citation, depart_citation))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
