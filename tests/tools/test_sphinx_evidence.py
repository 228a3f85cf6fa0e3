"""tools.sphinx_evidence on a tiny Sphinx project: each quoted number (same notebook, or another
notebook's ``doc::key``) becomes a quiet link to its ledger row, and solution cells lose their
BEGIN/END SOLUTION lines but keep their code."""
from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from helpers.claims import GLUE_PREFIX
from tools import book, ledger, sphinx_evidence, student


def test_keys_and_anchors():
    assert sphinx_evidence.glue_key("ch04.photo-edge-corr:.2f") == "ch04.photo-edge-corr"
    assert sphinx_evidence.glue_key("ch04.count") == "ch04.count"
    assert sphinx_evidence.glue_key("05_x.ipynb::ch05.rf-50-layers:d") == "ch05.rf-50-layers"
    assert sphinx_evidence.claim_anchor("ch04.photo-edge-corr") == "claim-ch04-photo-edge-corr"
    assert sphinx_evidence.LEDGER_DOC == "chapters/ledger"
    assert book.relative(ledger.LEDGER) == "chapters/ledger.md"


def _record(key: str, text: str):
    return new_output("display_data", data={GLUE_PREFIX + "text/plain": text},
                      metadata={"scrapbook": {"name": key, "mime_prefix": GLUE_PREFIX}})


def _notebook(path, cells):
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python",
                                 "name": "python3"}
    nbformat.write(nb, path)


@pytest.mark.slow
def test_a_tiny_book(tmp_path):
    (tmp_path / "chapters").mkdir()
    (tmp_path / "conf.py").write_text(textwrap.dedent(f"""\
        import sys
        sys.path.insert(0, {str(book.ROOT)!r})
        extensions = ["myst_nb", "tools.sphinx_evidence"]
        nb_execution_mode = "off"
        exclude_patterns = ["_build"]
        """))
    (tmp_path / "index.md").write_text("# Index\n\n```{toctree}\nchapters/01_a\nchapters/02_b\n"
                                       "chapters/ledger\n```\n")
    (tmp_path / "chapters" / "ledger.md").write_text(
        '# Ledger\n\n<span id="claim-ch01-acc"></span>row\n')
    solution = new_code_cell("def f():\n    ### BEGIN SOLUTION\n    return 1\n"
                             "    ### END SOLUTION", execution_count=1)
    solution.metadata["tags"] = ["solution", "hide-input"]
    checks = new_code_cell("glue('ch01.acc', 0.9123)", execution_count=2,
                           outputs=[_record("ch01.acc", "0.9123")])
    checks.metadata.update(student.claims_cell_metadata())
    _notebook(tmp_path / "chapters" / "01_a.ipynb", [
        new_markdown_cell("# 1. A\n\nIt reaches {glue:text}`ch01.acc:.1%` here."),
        solution, checks])
    _notebook(tmp_path / "chapters" / "02_b.ipynb", [
        new_markdown_cell("# 2. B\n\nFrom A: {glue:text}`01_a.ipynb::ch01.acc:.2f`, "
                          "{evidence}`close to its threshold <ch01.acc>`.")])
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html", ".",
                           "_build/html"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    html = tmp_path / "_build" / "html" / "chapters"
    link = ('<a class="claim-link reference internal" href="ledger.html#claim-ch01-acc" '
            'title="How this number was computed"><span class="pasted-text">{}</span></a>')
    a = (html / "01_a.html").read_text()
    assert link.format("91.2%") in a
    b = (html / "02_b.html").read_text()
    assert link.format("0.91") in b, "another notebook's key"
    assert ('<a class="claim-link reference internal" href="ledger.html#claim-ch01-acc" '
            'title="How this number was computed">close to its threshold</a>') in b, "{evidence}"
    assert "BEGIN SOLUTION" not in a and "END SOLUTION" not in a
    assert re.search(r'<span class="k">return</span> <span class="mi">1</span>', a), \
        "the solution's code is kept"
    assert "Checks behind this section" in a and "Hide the checks" in a
    assert "claim-link" not in (html / "ledger.html").read_text()
