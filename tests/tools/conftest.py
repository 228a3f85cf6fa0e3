"""Fixtures for the tooling tests: small synthetic chapter notebooks written to tmp_path."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from tools import book


def write_notebook(path: Path, cells) -> Path:
    """Write a v4.5 notebook with the python3 kernel and stable cell ids; returns ``path``."""
    nb = new_notebook(cells=list(cells))
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python",
                                 "name": "python3"}
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    nbformat.write(nb, path)
    return path


@pytest.fixture
def tiny_chapter(tmp_path) -> Path:
    """``03_tiny.ipynb``: a title, a links cell, one code cell."""
    links = new_markdown_cell("**Run it yourself:** old links")
    links.metadata["tags"] = [book.LINKS_TAG]
    return write_notebook(tmp_path / "03_tiny.ipynb", [
        new_markdown_cell("# 3. A tiny chapter\n\nIntro."), links,
        new_code_cell("x = 1", execution_count=1)])
