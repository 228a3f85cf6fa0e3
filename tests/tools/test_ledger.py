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
from tools import book, ledger, seed_sweep


def _output(monkeypatch, publish, key, sentence, value, **kwargs):
    """The display_data output ``publish(key, sentence, value, **kwargs)`` stores."""
    bundles = []
    monkeypatch.setattr(claims, "_emit", lambda k, bundle: bundles.append((k, bundle)))
    monkeypatch.setenv(claims.STRICT_ENV, "0")
    publish(key, sentence, value, **kwargs)
    name, bundle = bundles[-1]
    data = {claims.GLUE_PREFIX + mime: v for mime, v in bundle.items()}
    return new_output("display_data", data=data,
                      metadata={"scrapbook": {"name": name, "mime_prefix": claims.GLUE_PREFIX}})


def record_output(monkeypatch, key, sentence, value, **kwargs):
    """The display_data output ``claim(...)`` stores for this claim."""
    return _output(monkeypatch, claims.claim, key, sentence, value, **kwargs)


def computed_output(monkeypatch, key, sentence, value, **kwargs):
    """The display_data output ``computed(...)`` stores for this number."""
    return _output(monkeypatch, claims.computed, key, sentence, value, **kwargs)


def claims_cell(*outputs):
    cell = new_code_cell("# checks", execution_count=1)
    cell.outputs = list(outputs)
    cell.metadata["tags"] = ["claims", "hide-input"]
    return cell


@pytest.fixture
def chapter(tmp_path, monkeypatch):
    out = lambda *a, **k: record_output(monkeypatch, *a, **k)  # noqa: E731
    number = lambda *a, **k: computed_output(monkeypatch, *a, **k)  # noqa: E731
    return write_notebook(tmp_path / "03_strides.ipynb", [
        new_markdown_cell("# 3. Strides\n\nIntro."),
        claims_cell(out("ch03.first", "Before any section", 1, equals=1)),
        new_markdown_cell("## 3.1 A *stride* of `2`\n\nText."),
        claims_cell(out("ch03.out-size", "A stride-2 conv halves 256 pixels", 128, equals=128),
                    out("ch03.acc", "The net reaches 90 % accuracy", 0.95, at_least=0.9),
                    number("ch03.pixels", "A 256×256 image has 65,536 pixels", 65_536)),
        new_markdown_cell("#### A small heading: no anchor\n\n## Repeated\n\n## Repeated"),
        claims_cell(out("ch03.slope", "The slope is below 2.5", 2.4, at_most=2.5),
                    out("ch03.lost", "Pooling beats striding", 0.4, at_least=0.5),
                    out("ch03.count", "Shifts were ahead with one or two seeds", 2,
                        at_least=1, at_most=2),
                    number("ch03.steps", "We train for 300 steps", 300, unit="steps")),
    ])


def test_sections_follow_myst_anchors(chapter):
    rows = {r.key: r for r in ledger.notebook_rows(chapter)}
    assert rows["ch03.first"].section == ledger.Section("3. Strides", "3-strides")
    assert rows["ch03.out-size"].section == ledger.Section("3.1 A stride of 2", "31-a-stride-of-2")
    assert rows["ch03.slope"].section == ledger.Section("Repeated", "repeated-1")
    assert rows["ch03.pixels"].section == rows["ch03.out-size"].section
    assert [r.kind for r in rows.values()] == ["exact", "exact", "empirical", "computed",
                                               "empirical", "empirical", "empirical", "computed"]
    assert not rows["ch03.lost"].holds and rows["ch03.lost"].margin == pytest.approx(-0.1)


def test_summary_counts_only_claims(chapter):
    summary = ledger.build([chapter], sweep={}).split("## 3. Strides")[0]
    # 2 exact, 4 empirical, 1 failed; the 2 computed numbers are counted apart
    assert "| {doc}`03_strides` | 2 | 4 | 1 | 2 |" in summary
    assert "makes 6 claims (2 exact, 4 empirical) and quotes 2 computed numbers" in summary
    assert "No seed sweep is recorded yet" in summary


def test_computed_numbers_are_listed_apart(chapter):
    page = ledger.build([chapter], sweep={})
    part = page.split("## 3. Strides")[1]
    exact, empirical = part.index("### Exact claims"), part.index("### Empirical claims")
    computed = part.index("### Computed numbers of chapter 3 (not evidence)")
    assert exact < empirical < computed
    assert "65,536 pixels" not in part[:computed] and "300 steps" not in part[:computed]
    table = part[computed:]
    assert ('| <span id="claim-ch03-steps"></span>`ch03.steps` | We train for 300 steps | '
            '300 steps | [Repeated](03_strides.ipynb#repeated-1) |') in table


def test_every_row_has_an_anchor(chapter):
    page = ledger.build([chapter], sweep={})
    for row in ledger.notebook_rows(chapter):
        assert page.count(f'<span id="claim-{row.key.replace(".", "-")}"></span>') == 1, row.key
    assert ledger.anchor("ch04.photo-edge-corr") == "claim-ch04-photo-edge-corr"


def test_page_groups_by_kind_and_orders_empirical_claims(chapter):
    page = ledger.build([chapter], sweep={})
    assert page.startswith("# Claims ledger\n") and "nbval" not in page.lower()
    assert "[3.1 A stride of 2](03_strides.ipynb#31-a-stride-of-2)" in page
    part = page[page.index("### Empirical claims"):page.index("### Computed numbers")]
    # without a sweep: failed first, then the smallest relative margin
    assert part.index("Pooling beats") < part.index("Shifts were") < part.index("The slope") \
        < part.index("The net")
    assert "0.4000 **✗ failed**" in part and "| -0.1000 |" in part
    assert "Relative margin" not in page and "+5.6 %" not in part
    table = [ln for ln in part.splitlines() if ln.startswith("|")]
    assert {ln.replace("\\|", "").count("|") for ln in table} == {9}, "every row has 8 cells"


def test_a_count_at_its_bound_is_allowed(chapter):
    page = ledger.build([chapter], sweep={})
    row = next(ln for ln in page.splitlines() if "claim-ch03-count" in ln)
    assert "| 2 | at the bound (allowed) |" in row and "+0" not in row


SWEEP_SHIFTS = [0, 1, 2]


def sweep_of(**claims_):
    """A seed sweep: key -> (values, margins, holds)."""
    return {"shifts": SWEEP_SHIFTS,
            "values": {k: list(v[0]) for k, v in claims_.items()},
            "margins": {k: list(v[1]) for k, v in claims_.items()},
            "holds": {k: list(v[2]) for k, v in claims_.items()}}


@pytest.mark.parametrize("values, margins, failed, mean, sd, margin_sd, flagged", [
    # at_least 0.9: margins are value - 0.9
    ((0.95, 0.93, 0.97), (0.05, 0.03, 0.07), (), 0.95, 0.02, 2.5, False),
    ((0.95, 0.92, 0.98), (0.05, 0.02, 0.08), (), 0.95, 0.03, 5 / 3, True),
    # at_most 2.5: margins are 2.5 - value
    ((2.4, 2.3, 2.2), (0.1, 0.2, 0.3), (), 2.3, 0.1, 2.0, False),
    ((2.4, 2.3, 2.2), (0.09, 0.19, 0.29), (), 2.3, 0.1, 1.9, True),
    # one seed failed: flagged
    ((1.0, 0.85, 1.15), (0.1, -0.05, 0.25), (1,), 1.0, 0.15, 2 / 3, True),
    # the same value with every seed: no spread, no margin in sd, not flagged
    ((93.8, 93.8, 93.8), (0.8, 0.8, 0.8), (), 93.8, 0.0, None, False),
])
def test_margin_in_standard_deviations(values, margins, failed, mean, sd, margin_sd, flagged):
    s = ledger.Spread(values, margins, failed)
    assert s.n == 3 and s.mean == pytest.approx(mean) and s.sd == pytest.approx(sd)
    assert (s.margin_sd is None) if margin_sd is None else s.margin_sd == pytest.approx(margin_sd)
    assert s.flagged is flagged


def test_spread_from_the_sweep(chapter):
    rows = {r.key: r for r in ledger.notebook_rows(chapter)}
    sweep = sweep_of(**{"ch03.acc": ((0.95, 0.93, None), (0.05, 0.03, None), (True, True, None)),
                        "ch03.slope": ((2.4, 2.6, 2.3), (0.1, -0.1, 0.2), (True, False, True)),
                        "ch03.out-size": ((128, 128, 128), (None,) * 3, (True,) * 3)})
    acc = ledger.spread(rows["ch03.acc"], sweep)
    assert acc.n == 2 and not acc.usable and not acc.flagged
    slope = ledger.spread(rows["ch03.slope"], sweep)
    assert slope.failed == (1,) and slope.flagged
    assert ledger.spread(rows["ch03.out-size"], sweep) is None   # exact: no spread
    assert ledger.seed_holds(rows["ch03.out-size"], sweep) == (3, ())
    # the stored value is not the sweep's shift 0: the chapter changed since the sweep
    stale = sweep_of(**{"ch03.acc": ((0.96, 0.93, 0.94), (0.06, 0.03, 0.04), (True,) * 3)})
    assert ledger.spread(rows["ch03.acc"], stale).stale


def test_page_shows_spread_and_flags_claims_within_two_sd(chapter):
    sweep = sweep_of(**{
        "ch03.acc": ((0.95, 0.92, 0.98), (0.05, 0.02, 0.08), (True,) * 3),    # 1.7 sd
        "ch03.slope": ((2.4, 2.3, 2.2), (0.1, 0.2, 0.3), (True,) * 3),        # 3.0 sd
        "ch03.count": ((2, 2, 2), (0.0, 0.0, 0.0), (True,) * 3)})            # no spread
    page = ledger.build([chapter], sweep=sweep)
    acc = next(ln for ln in page.split("## 3. Strides")[1].splitlines() if "claim-ch03-acc" in ln)
    # the row's numbers with the decimals of the sd (two significant digits: 0.030)
    assert "| 0.950 | +0.050 | 0.950 ± 0.030 (3 seeds) | ⚠ +0.050 = +1.7 sd | yes |" in acc
    slope = next(ln for ln in page.splitlines() if "claim-ch03-slope" in ln)
    assert "| 2.40 | +0.10 | 2.30 ± 0.10 (3 seeds) | +0.20 = +2.0 sd | yes |" in slope
    count = next(ln for ln in page.splitlines() if "claim-ch03-count" in ln)
    assert ("| 2 | at the bound (allowed) | 2 with all 3 seed shifts | not measured: the value "
            "does not depend on the chapter's seed") in count
    summary = page.split("## 3. Strides")[0]
    assert "1 of them are flagged ⚠" in summary
    assert "fewest standard deviations of margin" in summary
    assert summary.index("The net reaches") < summary.index("The slope")
    assert "<span" not in summary, "anchors only in the chapters' tables (ids are unique)"


def test_a_failed_seed_is_flagged(chapter):
    sweep = sweep_of(**{"ch03.acc": ((0.95, 0.8, 1.1), (0.05, -0.1, 0.2),
                                     (True, False, True))})
    row = next(ln for ln in ledger.build([chapter], sweep=sweep).split("## 3. Strides")[1]
               .splitlines() if "claim-ch03-acc" in ln)
    assert "| 0.95 | +0.05 | 0.95 ± 0.15 (3 seeds) | ⚠ +0.05 = +0.3 sd | ⚠ no (shift 1) |" in row


@pytest.mark.parametrize("value, sd, margin, places", [
    (0.9887, None, 0.0087, 4), (0.9887, 0.0021, 0.0087, 4), (93.81, 0.04, 0.81, 3),
    (0.9887, 0.02, 0.0087, 3), (2.3, 0.09999999999999987, 0.2, 2),
    (1234.5, 12.0, 34.5, 0), (128, None, None, 0),
    (3e-7, 2e-8, 9.7e-6, None),
])
def test_one_precision_per_row(value, sd, margin, places):
    row = ledger.Row(3, "03_x.ipynb", ledger.Section("", ""), "ch03.x", "s", "empirical",
                     "≥ 0", str(value), True, margin, None, value)
    assert ledger.decimals(row, sd) == places


def test_long_tuples_are_summarised():
    pairs = [[2 * t * t, 12 * t] for t in range(1, 29)]
    assert ledger.compact(pairs) == "28 pairs: (2, 12), (8, 24) … (1,568, 336)"
    row = ledger.Row(8, "08_x.ipynb", ledger.Section("", ""), "ch08.pairs", "s", "exact",
                     "= " + claims.format_value(tuple(map(tuple, pairs))), "", True, None, None,
                     pairs)
    assert ledger.measured(row) == "all 28 as stated"
    assert ledger.test_text(row) == "= 28 pairs: (2, 12), (8, 24) … (1,568, 336)"
    assert ledger.compact((500, 500, 500, 500)) == "(500, 500, 500, 500)"


def test_exercise_headings_do_not_swallow_sections(tmp_path, monkeypatch):
    """A section of exercises ("Exercises: ...") is a section; one exercise's heading is not
    (the text after it goes on with the section it sits in)."""
    out = lambda *a, **k: record_output(monkeypatch, *a, **k)  # noqa: E731
    path = write_notebook(tmp_path / "09_summary.ipynb", [
        new_markdown_cell("# 9. Summary"),
        new_markdown_cell("## Five families in one table"),
        claims_cell(out("ch09.table", "Five rows", 5, equals=5)),
        new_markdown_cell("## 9.1 Budgets\n\n### Exercise 9.0: A warm-up"),
        claims_cell(out("ch09.budget", "After the warm-up", 1, equals=1)),
        new_markdown_cell("### A subsection\n\n## Exercises: the three numbers together\n\n"
                          "### Exercise 9.1: Parameters in one pass"),
        claims_cell(out("ch09.params", "AlexNet's convolutions have 2,469,696 parameters",
                        2_469_696, equals=2_469_696)),
        new_markdown_cell("### Exercise 9.2: A design brief"),
        claims_cell(out("ch09.brief", "The brief's network", 1, equals=1)),
    ])
    rows = {r.key: r.section for r in ledger.notebook_rows(path)}
    assert rows["ch09.table"].title == "Five families in one table"
    assert rows["ch09.budget"].title == "9.1 Budgets"
    exercises = ledger.Section("Exercises: the three numbers together",
                               "exercises-the-three-numbers-together")
    assert rows["ch09.params"] == exercises and rows["ch09.brief"] == exercises


def test_duplicate_keys_fail_loudly(chapter, tmp_path, capsys):
    other = tmp_path / "04_again.ipynb"
    nb = nbformat.read(chapter, as_version=4)
    nbformat.write(nb, other)
    with pytest.raises(ledger.DuplicateKeyError, match="ch03.acc .03_strides.ipynb, 04_again"):
        ledger.build([chapter, other], sweep={})
    assert ledger.main(["--out", str(tmp_path / "l.md"), str(chapter), str(other)]) == 2
    assert "must be unique" in capsys.readouterr().err
    assert not (tmp_path / "l.md").exists()


def test_a_chapter_without_records(tmp_path):
    path = write_notebook(tmp_path / "09_summary.ipynb", [new_markdown_cell("# 9. Summary")])
    page = ledger.build([path], sweep={})
    assert "| {doc}`09_summary` | 0 | 0 | 0 | 0 |" in page and "hold no claims yet" in page


def test_check_detects_a_stale_ledger(chapter, tmp_path, capsys):
    out, sweep = tmp_path / "ledger.md", tmp_path / "no_sweep.json"
    args = ["--out", str(out), "--sweep", str(sweep), str(chapter)]
    assert ledger.main(args) == 0
    assert ledger.main(["--check", *args]) == 0
    out.write_text(out.read_text() + "edited by hand\n")
    assert ledger.main(["--check", *args]) == 1
    assert "out of date" in capsys.readouterr().err


def test_markdown_escaping():
    assert ledger.md_escape("a | b $x$ *y* <z>") == r"a \| b \$x\$ \*y\* \<z\>"


# --------------------------------------------------------------------------- the book itself


def test_committed_ledger_is_in_sync():
    assert ledger.LEDGER.is_file(), "chapters/ledger.md is missing: run python -m tools.ledger"
    assert ledger.LEDGER.read_text(encoding="utf-8") == ledger.build(), \
        "chapters/ledger.md is out of date: run python -m tools.ledger"


def test_every_record_of_the_book_has_its_row_id():
    """Each quoted number links to ``ledger.html#claim-<key>`` (tools.sphinx_evidence)."""
    page = ledger.LEDGER.read_text(encoding="utf-8")
    missing = [r.key for r in ledger.book_rows(book.chapters())
               if page.count(f'<span id="{ledger.anchor(r.key)}"></span>') != 1]
    assert not missing, "ledger rows without their id: " + ", ".join(missing)


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


def test_a_claim_close_to_its_threshold_is_noted_in_its_chapter():
    """A claim less than 2 sd from its threshold over the seeds (or failed with one) must not
    pass silently: its chapter's text links to its ledger row, where the spread is shown, with
    ``{evidence}`words <key>``` (tools.sphinx_evidence)."""
    chapters = book.chapters()
    rows, sweep = ledger.book_rows(chapters), ledger.load_sweep()
    texts = {ch.notebook.name: "\n".join(c.source for c in nbformat.read(ch.notebook, 4).cells
                                         if c.cell_type == "markdown") for ch in chapters}
    unnoted = [r.key for r in rows if r.kind == "empirical"
               and (s := ledger.spread(r, sweep)) is not None and s.flagged
               and f"<{r.key}>`" not in texts[r.notebook]]    # {evidence}`words <key>`
    assert not unnoted, f"flagged claims without a note in their chapter: {unnoted}"


def test_plain_glued_values_get_a_row_with_the_computed_numbers(tmp_path):
    """Every number the text quotes has a row to link to, also one stored by a plain glue()."""
    from nbformat.v4 import new_notebook

    cell = new_code_cell("glue('ch01.x', 3)")
    cell.outputs = [new_output("display_data", data={claims.GLUE_PREFIX + "text/plain": "3"},
                               metadata={"scrapbook": {"name": "ch01.x",
                                                       "mime_prefix": claims.GLUE_PREFIX}})]
    path = tmp_path / "01_t.ipynb"
    nbformat.write(new_notebook(cells=[new_markdown_cell("# 1. T\n\n## A part"), cell]), path)
    rows = ledger.notebook_rows(path)
    assert [(r.key, r.kind, r.value, r.sentence, r.section.title) for r in rows] == [
        ("ch01.x", claims.COMPUTED, 3, ledger.GLUED, "A part")]


def test_claims_read_from_a_recorded_run_are_marked_not_reseeded(chapter):
    sweep = {**sweep_of(**{
        "ch03.acc": ((0.95, 0.95, 0.95), (0.05, 0.05, 0.05), (True,) * 3),   # a recorded run
        "ch03.slope": ((2.4, 2.4, 2.4), (0.1, 0.1, 0.1), (True,) * 3),       # a fixed input
        "ch03.out-size": ((128, 128, 128), (None,) * 3, (True,) * 3)}),
        "not_reseeded": {k: seed_sweep.NOT_RESEEDED for k in ("ch03.acc", "ch03.out-size")}}
    rows = {r.key: r for r in ledger.notebook_rows(chapter)}
    assert ledger.spread(rows["ch03.acc"], sweep).recorded
    assert not ledger.spread(rows["ch03.slope"], sweep).recorded
    page = ledger.build([chapter], sweep=sweep)
    line = lambda key: next(ln for ln in page.split("## 3. Strides")[1].splitlines()  # noqa: E731
                            if f"claim-{key.replace('.', '-')}" in ln)
    acc = line("ch03.acc")
    assert "| not re-seeded (recorded full run) | not measured" in acc and "| yes |" not in acc
    assert " with all 3 seed shifts | not measured: the value does not" in line("ch03.slope")
    assert line("ch03.slope").endswith("| yes |")
    size = line("ch03.out-size")                                             # exact
    assert size.endswith("| not re-seeded (recorded full run) |") and "yes (" not in size
    summary = page.split("## 3. Strides")[0]
    assert ("1 are read from the [full runs](full_runs.md) and marked “not re-seeded "
            "(recorded full run)”") in summary and "the other 1 are computed from fixed" in summary
