"""The claims ledger: unit tests on synthetic notebooks, and the book's own ledger.

The book-level tests read the STORED outputs of ``chapters/[0-9]*.ipynb`` (nothing is
executed): the committed ``chapters/ledger.md`` is in sync, every ``claim(`` call in a chapter
has its printed line, keys are unique across the book, and every row held.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from helpers import ledger
from helpers.claims import claim

CHAPTERS = sorted(ledger.CHAPTERS.glob("[0-9]*.ipynb"))


def _line(capsys, key, statement, value, **kwargs) -> str:
    """The exact line ``claim`` prints, so the synthetic outputs cannot drift from claims.py."""
    claim(key, statement, value, **kwargs)
    return capsys.readouterr().out


def _cell(source: str, printed: str = "", tags=()):
    cell = new_code_cell(source)
    if printed:
        cell.outputs = [new_output("stream", name="stdout", text=printed)]
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def _write(tmp_path: Path, name: str, cells) -> Path:
    nb = new_notebook(cells=[new_markdown_cell("# 3. Strides\n\nIntro."), *cells])
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


@pytest.fixture
def synthetic(tmp_path, capsys):
    a = _line(capsys, "ch03.out-size", "A stride-2 conv halves 256 pixels", 128, equals=128)
    b = _line(capsys, "ch03.acc", "The net reaches 90 % test accuracy", 0.9312, at_least=0.9)
    c1 = _line(capsys, "ch03.size-8", "Pooling output for 8", 4, equals=4)
    c2 = _line(capsys, "ch03.size-16", "Pooling output for 16", 8, equals=8)
    cells = [
        _cell("import helpers\nfrom helpers.claims import claim"),
        _cell('%matplotlib inline\nclaim("ch03.out-size", "A stride-2 conv halves 256 pixels",'
              "\n      128, equals=128)", a + "other text\n"),
        _cell("# NBVAL_IGNORE_OUTPUT\nacc = train()\n"
              "helpers.claims.claim('ch03.acc', 'The net reaches 90 % test accuracy', acc, "
              "at_least=0.9)", "loss 0.3\n" + b),
        _cell('for n in (8, 16):\n    claim(f"ch03.size-{n}", f"Pooling output for {n}", n // 2,'
              " equals=n // 2)", c1 + c2),
        _cell('claim("ch03.never-run", "This cell lost its output", 1, equals=1)'),
        _cell('for k in keys:\n    claim(k, "dynamic", 1, equals=1)'),
        _cell("def check(x):\n    return claim('ch03.in-function', 'Checked later', x, holds=x)"),
        _cell("check(True)", _line(capsys, "ch03.in-function", "Checked later", True, holds=True)),
    ]
    return _write(tmp_path, "03_strides.ipynb", cells)


def test_claim_calls_finds_literal_fstring_and_attribute_calls():
    calls = ledger.claim_calls('x = 1\nclaim("ch01.a", "s", x, equals=1)\n'
                               'helpers.claims.claim(f"ch01.b-{x}", "s", x, equals=1)\n'
                               "claim(key=name, statement='s', value=1, equals=1)", cell=4)
    assert [c.key for c in calls] == ["ch01.a", "ch01.b-{x}", "{name}"]
    assert [c.static for c in calls] == [True, False, False]
    assert calls[1].pattern.match("ch01.b-3") and not calls[1].pattern.match("ch01.a")
    assert all(c.cell == 4 for c in calls)
    assert calls[0].excerpt == "claim(…, x, equals=1)"
    assert calls[2].excerpt == "claim(…, value=1, equals=1)"
    assert [c.statement for c in calls] == ["s", "s", "s"]


def test_claim_calls_survives_magics_and_syntax_errors():
    assert [c.key for c in ledger.claim_calls('%time claim("ch01.a", "s", 1, equals=1)\n'
                                              'claim("ch01.b", "s", 1, equals=1)')] == ["ch01.b"]
    assert ledger.claim_calls("def broken(:\n  claim('ch01.a')") == []


def test_excerpt_is_short_and_on_one_line():
    call = ledger.claim_calls('claim("ch01.long", "a very long statement that goes on and on",\n'
                              "      value_with_a_long_name + another_long_name,\n"
                              "      equals=expected_value_name * 2)")[0]
    assert "\n" not in call.excerpt and len(call.excerpt) <= ledger.EXCERPT_CHARS
    assert call.excerpt.startswith("claim(…, value_with_a_long_name + another_long_name")
    assert call.excerpt.endswith("…")
    assert call.statement == "a very long statement that goes on and on"


def test_fstring_statement_is_kept_with_its_fields():
    (call,) = ledger.claim_calls('claim(f"ch01.n-{n}", f"{n} filters give {n * 9} weights", '
                                 "n * 9, equals=9 * n)")
    assert call.statement == "{n} filters give {n * 9} weights"
    assert call.excerpt == "claim(…, n * 9, equals=9 * n)"


def test_rows_of_a_synthetic_notebook(synthetic):
    rows = ledger.notebook_rows(synthetic)
    got = [(r.key, r.cell, r.status, r.exact) for r in rows]
    assert got == [
        ("ch03.out-size", 1, ledger.HELD, True),
        ("ch03.acc", 2, ledger.HELD, False),
        ("ch03.size-8", 3, ledger.HELD, True),
        ("ch03.size-16", 3, ledger.HELD, True),
        ("ch03.never-run", 4, ledger.NOT_COMPUTED, True),
        ("{k}", 5, ledger.NOT_COMPUTED, True),
        ("ch03.in-function", 7, ledger.HELD, True),
    ]
    held = {r.key: r for r in rows}
    assert held["ch03.out-size"].value == "128"
    assert held["ch03.acc"].value == "0.9312"
    assert held["ch03.acc"].statement == "The net reaches 90 % test accuracy"
    assert held["ch03.size-16"].excerpt == "claim(…, n // 2, equals=n // 2)"
    assert held["ch03.in-function"].excerpt == "claim(…, x, holds=x)"
    missing = {r.key: r for r in rows if r.status == ledger.NOT_COMPUTED}
    assert missing["ch03.never-run"].statement == "This cell lost its output"
    assert missing["ch03.never-run"].value == ""
    assert all(r.chapter == 3 and r.notebook == "03_strides.ipynb" for r in rows)


def test_a_line_printed_by_a_helper_is_still_held(tmp_path, capsys):
    line = _line(capsys, "ch02.helper", "Printed inside a helper", 2, equals=2)
    path = _write(tmp_path, "02_x.ipynb", [_cell("helpers.report()", line)])
    (row,) = ledger.notebook_rows(path)
    assert row.status == ledger.HELD and "helper" in row.excerpt


def test_totals_and_rendering(synthetic, tmp_path):
    empty = _write(tmp_path, "09_summary.ipynb", [_cell("print('no claims')", "no claims\n")])
    rows = ledger.book_rows([synthetic, empty])
    titles = ledger.chapter_titles([synthetic, empty])
    (t3, t9) = ledger.totals(rows, titles)
    assert (t3.chapter, t3.title, t3.claims, t3.held, t3.not_computed, t3.measured) == \
        (3, "3. Strides", 7, 5, 2, 1)
    assert (t9.chapter, t9.claims) == (9, 0)
    page = ledger.render(rows, titles)
    assert page.startswith("# Claims ledger\n")
    assert "| {doc}`03_strides` | 7 | 5 | 1 | 2 |" in page
    assert "| **All chapters** | **7** | **5** | **1** | **2** |" in page
    assert "## 3. Strides" in page and "## 3. Strides" in page
    assert "This chapter states no checked claims yet." in page
    assert "✗ not computed" in page and "✓ held (measured)" in page
    assert "2 claim(s) were not computed." in page
    # every table row has the same number of cells as its header
    for table_line in (ln for ln in page.splitlines() if ln.startswith("| `ch03")):
        assert table_line.replace("\\|", "").count("|") == 7


def test_markdown_escaping():
    assert ledger.md_escape("a | b $x$ *y* <z>") == r"a \| b \$x\$ \*y\* \<z\>"
    row = ledger.Row(1, "01_a.ipynb", 0, "ch01.pipe", "x | y", "1", ledger.HELD, True,
                     'claim("ch01.pipe", "x | y", 1, equals=1)')
    table_line = [ln for ln in ledger.render([row]).splitlines() if ln.startswith("| `ch01")][0]
    assert table_line.replace("\\|", "").count("|") == 7


def test_missing_notebooks_give_an_empty_ledger(tmp_path):
    assert ledger.book_rows([]) == []
    assert "No chapter has been executed yet." in ledger.render([], {})


def test_check_detects_a_stale_ledger(synthetic, tmp_path, capsys):
    out = tmp_path / "ledger.md"
    assert ledger.main(["--out", str(out), str(synthetic)]) == 0
    assert ledger.main(["--check", "--out", str(out), str(synthetic)]) == 0
    out.write_text(out.read_text() + "edited by hand\n")
    assert ledger.main(["--check", "--out", str(out), str(synthetic)]) == 1
    assert "out of date" in capsys.readouterr().err
    out.unlink()
    assert ledger.main(["--check", "--out", str(out), str(synthetic)]) == 1


def test_chapter_number_rejects_bad_names():
    with pytest.raises(ValueError, match="NN_slug"):
        ledger.chapter_number(Path("summary.ipynb"))


# --------------------------------------------------------------------------- the book itself


def test_committed_ledger_is_in_sync():
    assert ledger.LEDGER.is_file(), "chapters/ledger.md is missing: run python -m helpers.ledger"
    assert ledger.LEDGER.read_text() == ledger.build(), \
        "chapters/ledger.md is out of date: run python -m helpers.ledger"


def test_every_claim_call_was_computed_and_held():
    missing = [f"{r.notebook}::Cell {r.cell} {r.key}" for r in ledger.book_rows()
               if r.status != ledger.HELD]
    assert not missing, "claim(...) calls without a printed ✓ line in the stored outputs: " \
        + ", ".join(missing)


def test_claim_keys_are_unique_across_the_book():
    rows = ledger.book_rows()
    assert not ledger.duplicate_keys(rows)
    static = [c.key for path in CHAPTERS
              for i, cell in enumerate(c for c in nbformat.read(path, as_version=4).cells
                                       if c.cell_type == "code")
              for c in ledger.claim_calls(cell.source, i) if c.static]
    assert sorted(k for k in set(static) if static.count(k) > 1) == []


def test_claim_keys_carry_their_chapter_number():
    wrong = [f"{r.notebook}: {r.key}" for r in ledger.book_rows()
             if r.status == ledger.HELD and not r.key.startswith(f"ch{r.chapter:02d}.")]
    assert not wrong, "claim keys must start with their chapter's chNN.: " + ", ".join(wrong)
