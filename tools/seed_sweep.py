"""The seed sweep: every chapter re-run with other seeds, so the ledger can give each empirical
claim its spread.

    python -m tools.seed_sweep                       # chapters of the book, shifts 1 and 2
    python -m tools.seed_sweep --shifts 1 2 3        # other seed shifts
    python -m tools.seed_sweep chapters/07_*.ipynb   # a subset, merged into the existing file

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
     "chapters": {notebook: {"code": fingerprint, "shifts": {k: "ok" | "error: ..."},
                             "seconds": {k: s}}}}

``code`` fingerprints what the chapter computes (:func:`code_hash`). While it and a claim's
test are unchanged, the ledger takes shift 0 from the stored chapter as it is now (a chapter
re-run with the same seed need not repeat its last bits, and then its trajectory) and the
other shifts from this file; otherwise it reports the sweep out of date.

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
    order = ["how", "shifts", *KEYS, "tests", "chapters"]
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
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="chapter notebooks (default: the book's chapters); merged into "
                             "the existing file")
    args = parser.parse_args(argv)
    shifts = [s for s in args.shifts if s != 0]
    if any(s < 0 for s in shifts):
        parser.error("seed shifts are non-negative")
    paths = args.notebooks or book.chapter_paths()
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
