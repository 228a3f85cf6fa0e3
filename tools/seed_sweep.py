"""The seed sweep: every chapter re-run with other seeds, so the ledger can give each empirical
claim its spread.

    python -m tools.seed_sweep                       # chapters of the book, shifts 1 and 2
    python -m tools.seed_sweep --shifts 1 2 3        # other seed shifts
    python -m tools.seed_sweep chapters/07_*.ipynb   # a subset, merged into the existing file
    python -m tools.seed_sweep --marks-only          # only the not_reseeded marks, no run

Each chapter is executed (a copy in memory, never the notebook in place; cwd = the chapters
folder) with ``tools.book.kernel_env()`` and ``CNN_COURSE_SEED_SHIFT=k``, not strict: a claim
that fails with that seed prints a warning and the run carries on (the failure is recorded).
The claim records are read back from the executed copy's outputs, and the stored chapter gives
shift 0. The result is ``chapters/seed_sweep.json``::

    {"how": "...", "shifts": [0, 1, 2],
     "values":  {key: [v0, v1, v2]},        # the measured value with each shift
     "margins": {key: [m0, m1, m2]},        # the claim's margin (empirical claims), or null
     "holds":   {key: [h0, h1, h2]},        # whether the claim held with that shift
     "tests":   {key: "≥ 0.9"},             # the claim's test in the stored chapter
     "not_reseeded": {key: "not re-seeded (recorded full run)"},
     "chapters": {notebook: {"code": fingerprint, "shifts": {k: "ok" | "error: ..."},
                             "seconds": {k: s}}}}

``code`` fingerprints what the chapter computes (:func:`code_hash`). While it and a claim's
test are unchanged, the ledger takes shift 0 from the stored chapter as it is now (a chapter
re-run with the same seed need not repeat its last bits, and then its trajectory) and the
other shifts from this file; otherwise it reports the sweep out of date.

A claim whose value is read from a recorded full run (``helpers.full_runs.load_results``) does
not change with ``CNN_COURSE_SEED_SHIFT``: re-running the chapter re-reads the same record, so
the sweep says nothing about how that claim holds with other seeds (the full runs' own seeds
and spread are on their page). Such a claim is listed in ``not_reseeded`` with the mark
:data:`NOT_RESEEDED`, and the sweep's report and the ledger show the mark instead of "held with
every seed". A claim is recognised as record-based when both hold (:func:`not_reseeded`): its
value expression in the chapter's code derives from ``load_results(...)`` (names assigned from
it, followed through later assignments: :func:`record_based_keys`), and its value is the same
with every shift that produced it.

Only claims (exact and empirical, not computed numbers) with a numeric value (an int or a
float) are recorded: a bool, a string or a tuple is left out. A value that a shift did not
produce (the chapter raised before the claim, or the claim is new) is ``null``. A chapter that
raises is recorded up to the failing cell and reported; the sweep goes on with the next.

``tools.ledger`` reads the file: for every empirical claim with at least three values it shows
mean ± sd over the seeds and the margin in units of that sd.
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import json
import re
import sys
from pathlib import Path

import nbformat

from helpers.claims import CLAIM_MIME, GLUE_PREFIX, KINDS, STRICT_ENV
from helpers.device import SEED_SHIFT_ENV
from tools import book

SWEEP = book.CHAPTERS_DIR / "seed_sweep.json"
RECORD = GLUE_PREFIX + CLAIM_MIME
DEFAULT_SHIFTS = (1, 2)
KEYS = ("values", "margins", "holds")
CHECKS_TAG = "claims"     # the cells that call claim() / computed()
NOT_RESEEDED = "not re-seeded (recorded full run)"
RECORD_READERS = ("load_results",)   # helpers.full_runs: a recorded run, not this run's seed


def numeric(value) -> bool:
    """An int or a float (not a bool): what a spread can be computed of."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def claim_records(nb) -> dict[str, dict]:
    """Every claim record (exact or empirical) stored in a notebook's outputs, by key."""
    found = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            record = out.get("data", {}).get(RECORD)
            if record and record.get("kind") in KINDS:
                found[record["key"]] = record
    return found


def measurements(nb) -> dict[str, tuple]:
    """(value, margin, holds) of every claim with a numeric value, by key."""
    return {key: (r["value"], r.get("margin"), bool(r["holds"]))
            for key, r in claim_records(nb).items() if numeric(r.get("value"))}


QUOTING = {"claim", "computed", "glue", "print", "display"}   # they show, never compute


def _computing(source: str) -> str:
    """A code cell's source without what only records, quotes or shows a value: calls of
    ``claim``, ``computed``, ``glue``, ``print`` and ``display`` as statements, and their
    imports (as text, normalised by
    :mod:`ast`; the source as it is when it does not parse, e.g. with a ``%magic``)."""
    lines = source.splitlines()
    magics = [ln for ln in lines if ln.lstrip().startswith(("%", "!"))]   # IPython, not Python
    try:
        tree = ast.parse("\n".join("" if ln in magics else ln for ln in lines))
    except SyntaxError:
        return source

    class Strip(ast.NodeTransformer):
        def generic_visit(self, node):
            super().generic_visit(node)
            if getattr(node, "body", None) == [] and isinstance(node, ast.stmt):
                if isinstance(node, (ast.For, ast.While, ast.If, ast.With)) and not getattr(
                        node, "orelse", None):
                    return None               # a loop or block that only quoted values
                node.body.append(ast.Pass())
            return node

        def visit_Expr(self, node):
            call = node.value
            if (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
                    and call.func.id in QUOTING):
                return None
            return node

        def visit_ImportFrom(self, node):
            if node.module == "helpers.claims":
                return None
            node.names = [a for a in node.names if a.name not in QUOTING]
            return node if node.names else None

    return "\n".join([*magics, ast.unparse(Strip().visit(tree))])


def code_hash(nb) -> str:
    """A fingerprint of what a chapter computes: its code cells without the cells of checks
    (tagged ``claims``), without the exercises' solution cells (tagged ``solution``: the
    chapter's numbers never come from a learner's function, whose checker falls back on the
    reference) and without the calls that record or quote a value (:func:`_computing`), so that
    rewording a claim, making it a computed number, quoting another value or rewriting an
    exercise changes nothing. The ledger trusts a sweep only while this is unchanged."""
    skip = {CHECKS_TAG, book.SOLUTION_TAG}
    sources = [_computing(c.source) for c in nb.cells if c.cell_type == "code"
               and not skip & set(c.get("metadata", {}).get("tags", []))]
    return hashlib.sha256("\n\0".join(sources).encode("utf-8")).hexdigest()[:16]


def _parsed_cells(nb) -> list[ast.Module]:
    """The code cells' syntax trees (IPython magics blanked; a cell that does not parse is
    skipped)."""
    trees = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        lines = ["" if ln.lstrip().startswith(("%", "!")) else ln
                 for ln in cell.source.splitlines()]
        try:
            trees.append(ast.parse("\n".join(lines)))
        except SyntaxError:
            continue
    return trees


def _reads_record(node: ast.AST, tainted: set[str]) -> bool:
    """Does the expression call a record reader or use a name derived from one? A call's
    keyword arguments are settings, not data (``fit(model, lr=record["lr"])`` trains this run
    with a recorded setting; its result is this run's), so they are not followed."""
    if isinstance(node, ast.Name):
        return node.id in tainted
    if isinstance(node, ast.Call):
        func = node.func
        if (func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)) \
                in RECORD_READERS:
            return True
        return any(_reads_record(n, tainted) for n in (func, *node.args))
    return any(_reads_record(n, tainted) for n in ast.iter_child_nodes(node))


def _bound(target: ast.AST) -> tuple[set[str], set[str]]:
    """(names an assignment to ``target`` rebinds, names whose object it changes in place)."""
    if isinstance(target, ast.Name):
        return {target.id}, set()
    if isinstance(target, (ast.Tuple, ast.List)):
        rebound, changed = set(), set()
        for element in target.elts:
            r, c = _bound(element)
            rebound |= r
            changed |= c
        return rebound, changed
    if isinstance(target, ast.Starred):
        return _bound(target.value)
    base = target
    while isinstance(base, (ast.Subscript, ast.Attribute)):
        base = base.value                     # d[k] = ..., obj.attr = ...: d, obj changed
    return set(), ({base.id} if isinstance(base, ast.Name) else set())


def _is_claim(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and (getattr(node.func, "id", None) == "claim"
                                           or getattr(node.func, "attr", None) == "claim")


def _follow(statements, tainted: set[str], claims: list) -> None:
    """Walk ``statements`` in order, keeping ``tainted`` (the names that hold values derived
    from a recorded run) up to date, and append each ``claim(...)`` call met to ``claims`` with
    whether its value is derived at that point."""
    for st in statements:
        if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import,
                           ast.ImportFrom)):
            tainted.discard(getattr(st, "name", None))
            continue
        if isinstance(st, (ast.For, ast.AsyncFor)):
            rebound, changed = _bound(st.target)
            if _reads_record(st.iter, tainted):
                tainted |= rebound | changed
            else:
                tainted -= rebound
            for _ in range(2):                # a second pass: what one iteration hands on
                _follow(st.body, tainted, claims if _ else [])
            _follow(st.orelse, tainted, claims)
            continue
        if isinstance(st, (ast.With, ast.AsyncWith)):
            for item in st.items:
                if item.optional_vars is not None:
                    rebound, changed = _bound(item.optional_vars)
                    if _reads_record(item.context_expr, tainted):
                        tainted |= rebound | changed
                    else:
                        tainted -= rebound
            _follow(st.body, tainted, claims)
            continue
        if isinstance(st, (ast.If, ast.While)):
            _follow(st.body, tainted, claims)
            _follow(st.orelse, tainted, claims)
            continue
        if isinstance(st, ast.Try):
            for block in (st.body, *(h.body for h in st.handlers), st.orelse, st.finalbody):
                _follow(block, tainted, claims)
            continue
        for node in ast.walk(st):
            if _is_claim(node):
                value = node.args[2] if len(node.args) > 2 else next(
                    (k.value for k in node.keywords if k.arg == "value"), None)
                claims.append((node, value is not None and _reads_record(value, tainted)))
        if isinstance(st, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and st.value is not None:
            derived = _reads_record(st.value, tainted)
            for target in (st.targets if isinstance(st, ast.Assign) else [st.target]):
                rebound, changed = _bound(target)
                if derived:
                    tainted |= rebound | changed
                elif not isinstance(st, ast.AugAssign):
                    tainted -= rebound
        elif isinstance(st, ast.Expr) and isinstance(st.value, ast.Call):
            call = st.value                   # results.append(record[...]): results derived
            if isinstance(call.func, ast.Attribute) and _reads_record(
                    ast.Tuple([*call.args, *(k.value for k in call.keywords)]), tainted):
                tainted |= _bound(call.func)[1]


def _key_pattern(node: ast.AST) -> re.Pattern | None:
    """A claim's key as a pattern: a string literal exactly, an f-string with ``.+`` for each
    formatted part (a claim made in a loop); None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return re.compile(re.escape(node.value) + r"\Z")
    if isinstance(node, ast.JoinedStr):
        parts = [re.escape(v.value) if isinstance(v, ast.Constant) else ".+"
                 for v in node.values]
        return re.compile("".join(parts) + r"\Z")
    return None


def record_based_keys(nb) -> set[str]:
    """Keys of the claims (among those stored in ``nb``'s outputs) whose checked value
    (``claim(key, sentence, value, ...)``) derives from a recorded full run where the claim is
    made: the code cells are followed in order, a name being derived from the moment it is
    assigned from an expression that calls ``load_results`` or uses a derived name (``=``,
    ``+=``, a ``for`` or ``with`` target; a container changed in place, ``d[k] = ...`` or
    ``d.append(...)``) until it is assigned something else. A static reading, so
    :func:`not_reseeded` also asks that the value did not change with the seed shift."""
    tainted: set[str] = set()
    claims: list = []
    for tree in _parsed_cells(nb):
        _follow(tree.body, tainted, claims)
    patterns = [p for call, derived in claims if derived and call.args
                and (p := _key_pattern(call.args[0])) is not None]
    return {key for key in claim_records(nb) if any(p.match(key) for p in patterns)}


def not_reseeded(nb, measured: dict[int, dict[str, tuple]]) -> dict[str, str]:
    """``{key: NOT_RESEEDED}`` for the claims of the stored chapter ``nb`` that are read from a
    recorded full run (:func:`record_based_keys`) and whose value is the same with every shift
    that produced it (``measured[shift][key] = (value, margin, holds)``)."""
    marks = {}
    for key in sorted(record_based_keys(nb)):
        values = [m[key][0] for m in measured.values() if key in m]
        if values and all(v == values[0] for v in values):
            marks[key] = NOT_RESEEDED
    return marks


def merge_marks(sweep: dict, notebook: str, marks: dict[str, str]) -> dict:
    """``sweep`` with one chapter's ``not_reseeded`` marks replaced by ``marks``."""
    prefix = f"ch{book.number_of(notebook):02d}."
    kept = {k: v for k, v in sweep.get("not_reseeded", {}).items() if not k.startswith(prefix)}
    return {**sweep, "not_reseeded": dict(sorted((kept | marks).items()))}


def recorded_measurements(sweep: dict, nb) -> dict[int, dict[str, tuple]]:
    """``measured[shift][key]`` as the sweep file recorded it for the claims of ``nb`` (the
    stored chapter as shift 0), for :func:`not_reseeded` without re-running the chapter."""
    shifts = sweep.get("shifts") or [0]
    measured = {0: measurements(nb)}
    for i, shift in enumerate(shifts):
        if shift == 0:
            continue
        measured[shift] = {key: (row[i], None, None) for key, row in sweep["values"].items()
                           if key in measured[0] and row[i] is not None}
    return measured


def tests(nb) -> dict[str, str]:
    """The test of every claim with a numeric value (``"≥ 0.9"``), by key."""
    return {key: r["test"] for key, r in claim_records(nb).items() if numeric(r.get("value"))}


def execute(path: Path, shift: int, timeout: int = 900):
    """Run a copy of the chapter at ``path`` with seed shift ``shift``, not strict.

    Returns (executed notebook, error text or "" , seconds). On an error the notebook holds the
    outputs of every cell up to the failing one.
    """
    from tools.notebooks import executed

    nb, seconds, exc = executed(path, {SEED_SHIFT_ENV: str(shift), STRICT_ENV: "0"}, timeout)
    error = ""
    if exc is not None:
        lines = [ln for ln in str(exc).strip().splitlines() if ln.strip()]
        error = f"{type(exc).__name__}: {lines[-1] if lines else ''}"
    return nb, error, seconds


def load(path: Path = SWEEP) -> dict:
    """The recorded sweep (an empty one when there is none)."""
    if not Path(path).is_file():
        return {"how": "", "shifts": [0], "values": {}, "margins": {}, "holds": {},
                "chapters": {}}
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    for key in (*KEYS, "chapters"):
        data.setdefault(key, {})
    return data


def merge(sweep: dict, notebook: str, shifts: list[int],
          measured: dict[int, dict[str, tuple]]) -> dict:
    """``sweep`` with one chapter's measurements (``measured[shift][key]``) put in.

    The chapter's keys are replaced (a key the chapter no longer has is dropped); the file's
    shifts become the union of the old and the new, and values a run did not give are null.
    """
    prefix = f"ch{book.number_of(notebook):02d}."
    old_shifts = list(sweep.get("shifts") or [0])
    all_shifts = sorted(set(old_shifts) | set(shifts) | {0})
    out = {k: v for k, v in sweep.items() if k not in (*KEYS, "shifts")}
    out["shifts"] = all_shifts
    mine = set().union(*(set(m) for m in measured.values())) if measured else set()
    for i, field in enumerate(KEYS):
        table = {}
        for key, row in sweep.get(field, {}).items():
            if key.startswith(prefix):
                continue  # this chapter's old keys: replaced below
            table[key] = [row[old_shifts.index(s)] if s in old_shifts else None
                          for s in all_shifts]
        for key in sorted(mine):
            table[key] = [measured[s][key][i] if s in measured and key in measured[s] else None
                          for s in all_shifts]
        out[field] = dict(sorted(table.items()))
    return out


def sweep_chapter(path: Path, shifts: list[int], log=print):
    """Measurements of one chapter: the stored notebook (shift 0) and one run per shift.

    Returns (measured by shift, status by shift, seconds by shift)."""
    measured = {0: measurements(nbformat.read(path, as_version=4))}
    status, seconds = {0: "stored"}, {}
    for shift in shifts:
        nb, error, secs = execute(path, shift)
        measured[shift] = measurements(nb)
        status[shift] = f"error: {error}" if error else "ok"
        seconds[shift] = round(secs, 1)
        missing = sorted(set(measured[0]) - set(measured[shift]))
        log(f"{path.name} shift {shift}: {len(measured[shift])} claims in {secs:.0f} s"
            + (f"; {error}" if error else "")
            + (f"; {len(missing)} not reached: {', '.join(missing[:5])}"
               + (" ..." if len(missing) > 5 else "") if missing else ""))
    return measured, status, seconds


def dumps(sweep: dict) -> str:
    """The file's text: one line per key, so that a diff shows what a sweep changed."""
    lines = ["{"]
    items = list(sweep.items())
    for n, (name, value) in enumerate(items):
        end = "," if n < len(items) - 1 else ""
        if isinstance(value, dict) and value:
            lines.append(f" {json.dumps(name)}: {{")
            inner = list(value.items())
            lines += [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}"
                      + ("," if m < len(inner) - 1 else "") for m, (k, v) in enumerate(inner)]
            lines.append(" }" + end)
        else:
            lines.append(f" {json.dumps(name)}: {json.dumps(value, ensure_ascii=False)}{end}")
    return "\n".join(lines) + "\n}\n"


def save(sweep: dict, path: Path = SWEEP) -> None:
    order = ["how", "shifts", *KEYS, "tests", "not_reseeded", "chapters"]
    ordered = {k: sweep[k] for k in order if k in sweep}
    ordered.update({k: v for k, v in sweep.items() if k not in ordered})
    Path(path).write_text(dumps(ordered), encoding="utf-8")


def how_text(shifts: list[int]) -> str:
    return ("python -m tools.seed_sweep: each chapter executed with CNN_COURSE_SEED_SHIFT="
            + ", ".join(map(str, shifts)) + " (tools/kernel.env, claims not strict); shift 0 "
            "is the stored chapter. Values of claims with a numeric value.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shifts", type=int, nargs="+", default=list(DEFAULT_SHIFTS),
                        help="seed shifts to run (default: 1 2); 0 is the stored chapter")
    parser.add_argument("--out", type=Path, default=SWEEP, help="sweep file (seed_sweep.json)")
    parser.add_argument("--marks-only", action="store_true",
                        help="recompute only the not_reseeded marks from the stored chapters "
                             "and the values already in the file (runs nothing)")
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="chapter notebooks (default: the book's chapters); merged into "
                             "the existing file")
    args = parser.parse_args(argv)
    shifts = [s for s in args.shifts if s != 0]
    if any(s < 0 for s in shifts):
        parser.error("seed shifts are non-negative")
    paths = args.notebooks or book.chapter_paths()
    if args.marks_only:
        sweep = load(args.out)
        for path in paths:
            stored = nbformat.read(path, as_version=4)
            marks = not_reseeded(stored, recorded_measurements(sweep, stored))
            sweep = merge_marks(sweep, Path(path).name, marks)
            print(f"{Path(path).name}: {len(marks)} claims {NOT_RESEEDED}"
                  + (f": {', '.join(marks)}" if marks else ""))
        save(sweep, args.out)
        print(f"wrote {book.relative(args.out)}")
        return 0
    failed = []
    for path in paths:
        stored = nbformat.read(path, as_version=4)
        measured, status, seconds = sweep_chapter(Path(path), shifts)
        sweep = load(args.out)  # re-read: a sweep of another chapter may have saved meanwhile
        sweep = merge(sweep, Path(path).name, shifts, measured)
        prefix = f"ch{book.number_of(path):02d}."
        sweep["tests"] = dict(sorted(
            ({k: v for k, v in sweep.get("tests", {}).items() if not k.startswith(prefix)}
             | tests(stored)).items()))
        marks = not_reseeded(stored, measured)
        sweep = merge_marks(sweep, Path(path).name, marks)
        if marks:
            print(f"{Path(path).name}: {len(marks)} claims {NOT_RESEEDED}, the same with "
                  f"every shift: {', '.join(marks)}")
        sweep["chapters"][Path(path).name] = {
            "code": code_hash(stored), "shifts": {str(s): status[s] for s in shifts},
            "seconds": {str(s): seconds[s] for s in shifts}}
        failed += [f"{Path(path).name} (shift {s}): {status[s]}" for s in shifts
                   if status[s] != "ok"]
        sweep["how"] = how_text(sweep["shifts"][1:])
        sweep["chapters"] = dict(sorted(sweep["chapters"].items()))
        save(sweep, args.out)  # after every chapter: a long sweep can be stopped
    print(f"wrote {book.relative(args.out)}")
    if failed:
        print("chapters that raised (recorded up to the failing cell):\n  "
              + "\n  ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
