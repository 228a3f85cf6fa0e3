"""tools.ledger: the audit page from synthetic notebooks, and the book's own ledger.

Synthetic claim records are made by helpers.claims itself (its publishing hook is captured),
so the tests cannot drift from the record format.
"""
from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output

from helpers import claims
from tests.tools.conftest import write_notebook
from tools import book, ledger


def record_output(monkeypatch, key, sentence, value, **kwargs):
    """The display_data output ``claim(...)`` stores for this claim."""
    bundles = []
    monkeypatch.setattr(claims, "_emit", lambda k, bundle: bundles.append((k, bundle)))
    monkeypatch.setenv(claims.STRICT_ENV, "0")
    claims.claim(key, sentence, value, **kwargs)
    name, bundle = bundles[-1]
    data = {claims.GLUE_PREFIX + mime: v for mime, v in bundle.items()}
    return new_output("display_data", data=data,
                      metadata={"scrapbook": {"name": name, "mime_prefix": claims.GLUE_PREFIX}})


def claims_cell(*outputs):
    cell = new_code_cell("# checks", execution_count=1)
    cell.outputs = list(outputs)
    cell.metadata["tags"] = ["claims", "hide-input"]
    return cell


@pytest.fixture
def chapter(tmp_path, monkeypatch):
    out = lambda *a, **k: record_output(monkeypatch, *a, **k)  # noqa: E731
    return write_notebook(tmp_path / "03_strides.ipynb", [
        new_markdown_cell("# 3. Strides\n\nIntro."),
        claims_cell(out("ch03.first", "Before any section", 1, equals=1)),
        new_markdown_cell("## 3.1 A *stride* of `2`\n\nText."),
        claims_cell(out("ch03.out-size", "A stride-2 conv halves 256 pixels", 128, equals=128),
                    out("ch03.acc", "The net reaches 90 % accuracy", 0.95, at_least=0.9)),
        new_markdown_cell("#### A small heading: no anchor\n\n## Repeated\n\n## Repeated"),
        claims_cell(out("ch03.slope", "The slope is below 2.5", 2.4, at_most=2.5),
                    out("ch03.lost", "Pooling beats striding", 0.4, at_least=0.5)),
    ])


def test_sections_follow_myst_anchors(chapter):
    rows = {r.key: r for r in ledger.notebook_rows(chapter)}
    assert rows["ch03.first"].section == ledger.Section("3. Strides", "3-strides")
    assert rows["ch03.out-size"].section == ledger.Section("3.1 A stride of 2", "31-a-stride-of-2")
    assert rows["ch03.slope"].section == ledger.Section("Repeated", "repeated-1")
    assert [r.kind for r in rows.values()] == ["exact", "exact", "empirical", "empirical",
                                               "empirical"]
    assert not rows["ch03.lost"].holds and rows["ch03.lost"].margin == pytest.approx(-0.1)


def test_page_groups_by_kind_and_sorts_by_margin(chapter):
    page = ledger.build([chapter])
    assert page.startswith("# Claims ledger\n") and "nbval" not in page.lower()
    assert "| {doc}`03_strides` | 2 | 3 | 1 |" in page
    assert "[3.1 A stride of 2](03_strides.ipynb#31-a-stride-of-2)" in page
    exact, empirical = page.index("### Exact claims"), page.index("### Empirical claims")
    assert exact < empirical
    part = page[empirical:]
    # smallest relative margin first: -20 % (failed), +4 % (2.4 <= 2.5), +5.6 % (0.95 >= 0.9)
    assert part.index("Pooling beats") < part.index("The slope") < part.index("The net")
    assert "0.4 **✗ failed**" in page and "-20.0 %" in page and "+4.0 %" in page
    assert "held by construction" not in page
    table = [ln for ln in page.split("### Empirical claims")[1].splitlines() if ln.startswith("|")]
    assert {ln.replace("\\|", "").count("|") for ln in table} == {7}, "every row has 6 cells"


def test_summary_lists_the_smallest_margins(chapter):
    summary = ledger.build([chapter]).split("## 3. Strides")[0]
    assert "The 3 empirical claims with the smallest relative margin" in summary
    assert summary.index("Pooling beats") < summary.index("The slope")


def test_duplicate_keys_fail_loudly(chapter, tmp_path, capsys):
    other = tmp_path / "04_again.ipynb"
    nb = nbformat.read(chapter, as_version=4)
    nbformat.write(nb, other)
    with pytest.raises(ledger.DuplicateKeyError, match="ch03.acc .03_strides.ipynb, 04_again"):
        ledger.build([chapter, other])
    assert ledger.main(["--out", str(tmp_path / "l.md"), str(chapter), str(other)]) == 2
    assert "must be unique" in capsys.readouterr().err
    assert not (tmp_path / "l.md").exists()


def test_a_chapter_without_records(tmp_path):
    path = write_notebook(tmp_path / "09_summary.ipynb", [new_markdown_cell("# 9. Summary")])
    page = ledger.build([path])
    assert "| {doc}`09_summary` | 0 | 0 | 0 |" in page and "hold no claims yet" in page


def test_check_detects_a_stale_ledger(chapter, tmp_path, capsys):
    out = tmp_path / "ledger.md"
    assert ledger.main(["--out", str(out), str(chapter)]) == 0
    assert ledger.main(["--check", "--out", str(out), str(chapter)]) == 0
    out.write_text(out.read_text() + "edited by hand\n")
    assert ledger.main(["--check", "--out", str(out), str(chapter)]) == 1
    assert "out of date" in capsys.readouterr().err


def test_markdown_escaping():
    assert ledger.md_escape("a | b $x$ *y* <z>") == r"a \| b \$x\$ \*y\* \<z\>"


# --------------------------------------------------------------------------- the book itself


def test_committed_ledger_is_in_sync():
    assert ledger.LEDGER.is_file(), "chapters/ledger.md is missing: run python -m tools.ledger"
    assert ledger.LEDGER.read_text(encoding="utf-8") == ledger.build(), \
        "chapters/ledger.md is out of date: run python -m tools.ledger"


def test_book_claims_held_and_carry_their_chapter_number():
    rows = ledger.book_rows(book.chapters())
    failed = [f"{r.notebook}: {r.key}" for r in rows if not r.holds]
    assert not failed, "claims that did not hold in the stored outputs: " + ", ".join(failed)
    wrong = [f"{r.notebook}: {r.key}" for r in rows if not r.key.startswith(f"ch{r.chapter:02d}.")]
    assert not wrong, "claim keys must start with their chapter's chNN.: " + ", ".join(wrong)


@pytest.mark.parametrize("heading, slug", [
    ("1.3 An MLP reads centred digits", "13-an-mlp-reads-centred-digits"),
    ("Stacking 3×3 convolutions: $2k + 1$", "stacking-33-convolutions-"),  # MyST drops math
    ("The `conv2d` layer, *by hand*", "the-conv2d-layer-by-hand"),
])
def test_section_anchor_is_the_one_myst_makes(heading, slug):
    assert ledger.slugify(heading) == slug


@pytest.mark.parametrize("chapter", book.chapters(), ids=lambda ch: ch.name)
def test_every_quoted_value_is_stored_once(chapter):
    """myst-nb refuses a glue key stored twice (a claim already stores its value: no glue())."""
    nb = nbformat.read(chapter.notebook, as_version=4)
    names = [out.get("metadata", {}).get("scrapbook", {}).get("name")
             for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])]
    names = [n for n in names if n]
    assert not {n for n in names if names.count(n) > 1}
