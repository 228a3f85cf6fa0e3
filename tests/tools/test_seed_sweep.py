"""tools.seed_sweep: claim records read back from executed notebooks, merged into the file.

The unit tests use small synthetic "executed" notebooks (outputs made by helpers.claims
itself); only the test marked slow starts a kernel.
"""
from __future__ import annotations

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell

from helpers import claims
from tests.tools.conftest import write_notebook
from tests.tools.test_ledger import claims_cell, computed_output, record_output
from tools import book, ledger, seed_sweep


@pytest.fixture
def executed(tmp_path, monkeypatch):
    """A chapter notebook as a sweep run leaves it: claim records in its outputs."""
    out = lambda *a, **k: record_output(monkeypatch, *a, **k)  # noqa: E731
    return write_notebook(tmp_path / "03_strides.ipynb", [
        new_markdown_cell("# 3. Strides"),
        claims_cell(out("ch03.acc", "The net reaches 90 % accuracy", 0.95, at_least=0.9),
                    out("ch03.size", "Halves 256 pixels", 128, equals=128),
                    out("ch03.equal", "Both agree", True, equals=True),
                    out("ch03.corners", "500 each", (500, 500), equals=(500, 500)),
                    computed_output(monkeypatch, "ch03.pixels", "65,536 pixels", 65_536)),
        new_code_cell("print('no records here')", execution_count=2),
        claims_cell(out("ch03.lost", "Pooling beats striding", 0.4, at_least=0.5)),
    ])


def test_records_are_read_from_the_outputs(executed):
    nb = nbformat.read(executed, as_version=4)
    assert set(seed_sweep.claim_records(nb)) == {"ch03.acc", "ch03.size", "ch03.equal",
                                                 "ch03.corners", "ch03.lost"}
    m = seed_sweep.measurements(nb)
    # numeric values only: a bool and a tuple are left out, and computed numbers are no claims
    assert set(m) == {"ch03.acc", "ch03.size", "ch03.lost"}
    assert m["ch03.acc"] == (0.95, pytest.approx(0.05), True)
    assert m["ch03.size"] == (128, None, True)
    assert m["ch03.lost"][1] == pytest.approx(-0.1) and m["ch03.lost"][2] is False


@pytest.mark.parametrize("value, ok", [(1, True), (0.5, True), (True, False), ("1", False),
                                       ([1, 2], False), (None, False)])
def test_numeric(value, ok):
    assert seed_sweep.numeric(value) is ok


def test_merge_replaces_one_chapter_and_keeps_the_others():
    old = {"how": "", "shifts": [0, 1], "chapters": {},
           "values": {"ch03.acc": [0.9, 0.8], "ch03.gone": [1, 1], "ch04.x": [2.0, 2.5]},
           "margins": {"ch03.acc": [0.1, 0.0], "ch03.gone": [None, None], "ch04.x": [1, 1.5]},
           "holds": {"ch03.acc": [True, True], "ch03.gone": [True, True], "ch04.x": [True] * 2}}
    measured = {0: {"ch03.acc": (0.95, 0.05, True)}, 1: {"ch03.acc": (0.93, 0.03, True)},
                2: {}}  # shift 2 raised before the claim
    new = seed_sweep.merge(old, "03_strides.ipynb", [1, 2], measured)
    assert new["shifts"] == [0, 1, 2]
    assert new["values"] == {"ch03.acc": [0.95, 0.93, None], "ch04.x": [2.0, 2.5, None]}
    assert new["margins"]["ch03.acc"] == [0.05, 0.03, None]
    assert new["holds"]["ch04.x"] == [True, True, None]


def test_file_round_trip_and_the_ledger_reads_it(executed, tmp_path):
    nb = nbformat.read(executed, as_version=4)
    stored = seed_sweep.measurements(nb)
    shifted = {k: (v * 0.99 if isinstance(v, float) else v, m, h)
               for k, (v, m, h) in stored.items()}
    sweep = seed_sweep.merge(seed_sweep.load(tmp_path / "none.json"), executed.name, [1, 2],
                             {0: stored, 1: shifted, 2: stored})
    path = tmp_path / "seed_sweep.json"
    seed_sweep.save(sweep, path)
    text = path.read_text()
    assert list(json.loads(text)) == ["how", "shifts", "values", "margins", "holds", "chapters"]
    assert '  "ch03.acc": [0.95, 0.9405, 0.95],' in text, "one line per key"
    assert seed_sweep.load(path) == json.loads(text)
    row = next(r for r in ledger.notebook_rows(executed) if r.key == "ch03.acc")
    spread = ledger.spread(row, ledger.load_sweep(path))
    assert spread.n == 3 and spread.usable and not spread.stale


def test_a_sweep_run_is_never_strict_and_never_in_place(monkeypatch, tmp_path):
    """execute() runs a copy with the shift and without strict claims (no kernel started)."""
    seen = {}

    class FakeClient:
        def __init__(self, nb, **kwargs):
            self.nb, seen["path"] = nb, kwargs["resources"]["metadata"]["path"]

        def execute(self):
            import os
            seen["env"] = {k: os.environ.get(k) for k in ("CNN_COURSE_SEED_SHIFT",
                                                          claims.STRICT_ENV)}
            self.nb.cells[0].source = "changed"

    monkeypatch.setattr("nbclient.NotebookClient", FakeClient)
    monkeypatch.setenv(claims.STRICT_ENV, "1")
    path = write_notebook(tmp_path / "03_x.ipynb", [new_code_cell("x = 1")])
    before = path.read_text()
    nb, error, _ = seed_sweep.execute(path, 2)
    assert seen["env"] == {"CNN_COURSE_SEED_SHIFT": "2", claims.STRICT_ENV: "0"}
    assert seen["path"] == str(tmp_path) and error == ""
    assert nb.cells[0].source == "changed" and path.read_text() == before
    import os
    assert os.environ[claims.STRICT_ENV] == "1", "the caller's environment is restored"


def test_the_fingerprint_ignores_what_only_records_or_quotes():
    def nb(*sources, tags=()):
        cells = [new_code_cell(src) for src in sources]
        cells[-1].metadata["tags"] = list(tags)
        return nbformat.v4.new_notebook(cells=cells)

    base = seed_sweep.code_hash(nb("%matplotlib inline\nfrom helpers.claims import claim\n"
                                   "acc = train(seed=0)\nglue('ch03.acc', acc)",
                                   "claim('ch03.acc', 'At least 0.9', acc, at_least=0.9)",
                                   tags=["claims"]))
    same = [nb("%matplotlib inline\nfrom helpers.claims import claim, computed, glue\n"
               "acc = train(seed=0)  # a comment\nfor k in (1, 2):\n    glue(f'ch03.k{k}', k)",
               "claim('ch03.acc', 'Reworded: at least 0.85', acc, at_least=0.85)\n"
               "computed('ch03.n', 'n', 3)", tags=["claims"]),
            nb("%matplotlib inline\nacc = train(seed=0)", "", tags=["claims"]),
            nb("%matplotlib inline\nfrom helpers import claim\nacc = train(seed=0)\n"
               "print(f'{acc:.1%}')", "", tags=["claims"]),
            nb("%matplotlib inline\nacc = train(seed=0)", "def exercise():\n    return 1",
               tags=["solution", "hide-input"])]     # an exercise's solution: not counted
    assert all(seed_sweep.code_hash(n) == base for n in same)
    changed = [nb("%matplotlib inline\nacc = train(seed=1)", "", tags=["claims"]),
               nb("acc = train(seed=0)", "", tags=["claims"]),
               nb("%matplotlib inline\nacc = train(seed=0)", "x = 1")]   # untagged: counts
    assert all(seed_sweep.code_hash(n) != base for n in changed)


def test_the_ledger_trusts_the_sweep_while_the_chapter_computes_the_same(executed):
    nb = nbformat.read(executed, as_version=4)
    row = next(r for r in ledger.notebook_rows(executed) if r.key == "ch03.acc")
    sweep = {"shifts": [0, 1, 2], "values": {"ch03.acc": [0.94, 0.93, 0.97]},
             "margins": {"ch03.acc": [0.04, 0.03, 0.07]},
             "holds": {"ch03.acc": [True, True, True]}, "tests": {"ch03.acc": "≥ 0.9"},
             "chapters": {executed.name: {"code": seed_sweep.code_hash(nb)}}}
    s = ledger.spread(row, sweep)
    # the stored chapter (0.95, re-run since the sweep's 0.94) is shift 0
    assert not s.stale and s.values == (0.95, 0.93, 0.97) and s.margins[0] == pytest.approx(0.05)
    assert ledger.spread(row, {**sweep, "tests": {"ch03.acc": "≥ 0.8"}}).stale
    assert ledger.spread(row, {**sweep, "chapters": {executed.name: {"code": "other"}}}).stale


def test_the_committed_sweep_is_well_formed():
    if not seed_sweep.SWEEP.is_file():
        pytest.skip("no seed sweep recorded yet")
    sweep = seed_sweep.load()
    shifts = sweep["shifts"]
    assert shifts[0] == 0 and len(shifts) >= 3 and sorted(shifts) == shifts
    for field in seed_sweep.KEYS:
        assert all(len(v) == len(shifts) for v in sweep[field].values()), field
    assert all(all(x is None or seed_sweep.numeric(x) for x in v)
               for v in sweep["values"].values())


@pytest.mark.slow
def test_a_chapter_runs_with_another_seed(tmp_path, monkeypatch):
    """One real kernel: a tiny chapter whose claim depends on the seed shift."""
    path = write_notebook(tmp_path / "03_tiny.ipynb", [
        new_markdown_cell("# 3. Tiny"),
        new_code_cell("from helpers.claims import claim\n"
                      "from helpers.device import shifted_seed\n"
                      "claim('ch03.seed', 'The seed is at least 1', shifted_seed(1), at_least=1)\n"
                      "claim('ch03.small', 'The seed is at most 1', shifted_seed(1), at_most=1)"),
        new_code_cell("raise RuntimeError('stop')"),
        new_code_cell("claim('ch03.never', 'Never reached', 1, equals=1)"),
    ])
    monkeypatch.setenv("PYTHONPATH", str(book.ROOT))
    measured, status, _ = seed_sweep.sweep_chapter(path, [2], log=lambda *_: None)
    assert measured[0] == {}, "the stored notebook has no outputs"
    assert measured[2]["ch03.seed"] == (3, 2.0, True)
    assert measured[2]["ch03.small"] == (3, -2.0, False), "a failing claim only warns"
    assert "ch03.never" not in measured[2]
    assert status[2].startswith("error: ") and "stop" in status[2]


# --------------------------------------------------------------------------- recorded full runs

def _chapter_with_full_runs(monkeypatch, tmp_path):
    """Code cells that read a recorded full run, and the claims they make (their records in
    the checks cell's outputs)."""
    out = lambda *a, **k: record_output(monkeypatch, *a, **k)  # noqa: E731
    code = [
        "from helpers.full_runs import PAGE, load_results\n"
        "run = load_results(PAGE)['cnn-seeds']\n"
        "accs = run.extra['accuracy']                 # derived: read from the record\n"
        "lrs = run.extra['lr']\n"
        "model, mine = train(seed=0, lr=lrs['cnn'])   # a recorded setting: this run's result\n"
        "per_seed = []\n"
        "for a in accs:\n"
        "    per_seed.append(100 * a)\n"
        "x = accs[0]\n"
        "x = mine['test']                             # rebound: no longer from the record",
        "claim('ch03.full-mean', 'The full runs reach 90 %', sum(accs) / 3, at_least=0.9)\n"
        "claim('ch03.mine', 'This run reaches 90 %', mine['test'], at_least=0.9)\n"
        "claim('ch03.rebound', 'This run, again', x, at_least=0.9)\n"
        "for k, a in enumerate(accs):\n"
        "    claim(f'ch03.seed-{k}', 'Every seed reaches 90 %', a, at_least=0.9)\n"
        "claim('ch03.min-seed', 'The worst seed', min(per_seed), at_least=90)\n"
        "claims.claim('ch03.attr', 'Called as an attribute', value=accs[1], at_least=0.9)"]
    cells = [new_markdown_cell("# 3. Strides"), *map(new_code_cell, code[:1])]
    checks = claims_cell(*(out(key, "s", v, at_least=0.9) for key, v in (
        ("ch03.full-mean", 0.95), ("ch03.mine", 0.93), ("ch03.rebound", 0.93),
        ("ch03.seed-0", 0.94), ("ch03.seed-1", 0.96), ("ch03.min-seed", 94.0),
        ("ch03.attr", 0.96))))
    checks.source = code[1]
    return nbformat.read(write_notebook(tmp_path / "03_strides.ipynb", [*cells, checks]),
                         as_version=4)


def test_claims_read_from_a_recorded_run_are_recognised(monkeypatch, tmp_path):
    nb = _chapter_with_full_runs(monkeypatch, tmp_path)
    assert seed_sweep.record_based_keys(nb) == {
        "ch03.full-mean", "ch03.seed-0", "ch03.seed-1", "ch03.min-seed", "ch03.attr"}


def test_only_record_based_claims_that_do_not_move_are_marked(monkeypatch, tmp_path):
    nb = _chapter_with_full_runs(monkeypatch, tmp_path)
    stored = seed_sweep.measurements(nb)
    moved = {**stored, "ch03.seed-1": (0.97, 0.07, True), "ch03.mine": (0.91, 0.01, True)}
    marks = seed_sweep.not_reseeded(nb, {0: stored, 1: moved, 2: stored})
    # seed-1 changed with a shift: something in it is re-seeded, so it is not marked
    assert marks == dict.fromkeys(["ch03.attr", "ch03.full-mean", "ch03.min-seed",
                                   "ch03.seed-0"], seed_sweep.NOT_RESEEDED)
    sweep = seed_sweep.merge_marks({"not_reseeded": {"ch03.old": "x", "ch04.kept": "y"}},
                                   "03_strides.ipynb", marks)
    assert list(sweep["not_reseeded"]) == ["ch03.attr", "ch03.full-mean", "ch03.min-seed",
                                           "ch03.seed-0", "ch04.kept"]
    path = tmp_path / "sweep.json"
    seed_sweep.save({"how": "", "shifts": [0], **sweep, "chapters": {}}, path)
    assert list(json.loads(path.read_text()))[-2:] == ["not_reseeded", "chapters"]


def test_a_chapter_without_full_runs_has_no_record_based_claims(executed):
    nb = nbformat.read(executed, as_version=4)
    assert seed_sweep.record_based_keys(nb) == set()


def test_marks_can_be_recomputed_from_the_values_already_recorded(monkeypatch, tmp_path):
    nb = _chapter_with_full_runs(monkeypatch, tmp_path)
    sweep = {"shifts": [0, 1, 2], "values": {"ch03.full-mean": [0.9, 0.95, 0.95],
                                              "ch03.seed-1": [0.96, 0.97, None],
                                              "ch04.other": [1.0, 2.0, 3.0]}}
    measured = seed_sweep.recorded_measurements(sweep, nb)
    assert measured[1]["ch03.full-mean"][0] == 0.95 and "ch04.other" not in measured[1]
    assert "ch03.seed-1" not in measured[2], "a shift that did not produce it"
    marks = seed_sweep.not_reseeded(nb, measured)
    assert "ch03.full-mean" in marks and "ch03.seed-1" not in marks   # 0.96 then 0.97
