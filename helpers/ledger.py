"""The claims ledger: every number the book states, where it is computed, and whether it held.

    python -m helpers.ledger            # write chapters/ledger.md from the stored notebooks
    python -m helpers.ledger --check    # exit 1 if chapters/ledger.md is out of date

Nothing is executed. The ledger reads the STORED outputs of every ``chapters/[0-9]*.ipynb``
and collects each line printed by :func:`helpers.claims.claim` (matched with
:data:`helpers.claims.LINE_RE`). ``claim`` prints its line only when the claim held, so a
printed line is a claim that held when the notebook was last executed. Every ``claim(...)``
call found in a code cell's source whose key never appears among the printed lines is listed
as "not computed" (the cell was not run, or its output was cleared or edited away).

Cells are numbered like nbval numbers them (``chapters/NN.ipynb::Cell 7``): code cells only,
counting from 0. Claims printed in a ``# NBVAL_IGNORE_OUTPUT`` cell (timings, training) are
marked as measured on the reference run: their value changes from run to run, and the claim
asserts a threshold rather than an exact value.
"""
from __future__ import annotations

import argparse
import ast
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import nbformat

from helpers.claims import LINE_RE

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
LEDGER = CHAPTERS / "ledger.md"
HELD, NOT_COMPUTED = "held", "not computed"
IGNORE_MARK = "NBVAL_IGNORE_OUTPUT"
EXCERPT_CHARS = 60


@dataclass(frozen=True)
class ClaimCall:
    """A ``claim(...)`` call in a code cell's source; ``pattern`` matches the keys it prints."""

    cell: int
    key: str  # the key as written: "ch05.rf" or, for f-strings, "ch08.acc-{n}"
    pattern: re.Pattern
    static: bool  # True when the key is a plain string literal
    excerpt: str  # the call with key and statement elided: "claim(…, total, equals=196)"
    statement: str = ""  # the statement as written (f-string fields kept as {...})

    @property
    def local(self) -> bool:
        """A key held in a variable may be anything: only its own cell's lines are matched."""
        return self.key.startswith("{") and self.key.endswith("}") and not self.static


@dataclass(frozen=True)
class Row:
    """One ledger line: a claim of chapter ``chapter`` in code cell ``cell`` of ``notebook``."""

    chapter: int
    notebook: str
    cell: int
    key: str
    statement: str
    value: str
    status: str  # HELD or NOT_COMPUTED
    exact: bool  # False when the cell's output is ignored by nbval (timings, training)
    excerpt: str


@dataclass(frozen=True)
class ChapterTotals:
    chapter: int
    notebook: str
    title: str
    claims: int
    held: int
    not_computed: int
    measured: int  # claims from NBVAL_IGNORE_OUTPUT cells (thresholds on run-dependent values)


# --------------------------------------------------------------------------- parsing


def chapter_number(path: Path) -> int:
    """``chapters/07_residual_networks.ipynb`` -> 7."""
    m = re.match(r"(\d+)_", Path(path).name)
    if not m:
        raise ValueError(f"{Path(path).name}: chapter notebooks are named NN_slug.ipynb")
    return int(m.group(1))


def chapter_title(nb) -> str:
    """The first ``# `` heading of the notebook (``"8. Vision Transformers"``), else ``""``."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    return ""


def _python_only(source: str) -> str:
    """Cell source with IPython magics / shell escapes blanked out, so ``ast`` can parse it."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS - 1] + "…"


def _is_claim(func: ast.expr) -> bool:
    return (isinstance(func, ast.Name) and func.id == "claim") or \
           (isinstance(func, ast.Attribute) and func.attr == "claim")


def _argument(call: ast.Call, position: int, name: str) -> ast.expr | None:
    if len(call.args) > position:
        return call.args[position]
    return next((kw.value for kw in call.keywords if kw.arg == name), None)


def _written(node: ast.expr | None, source: str) -> str:
    """A string literal's text, an f-string with its fields as {...}, else the source text."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(str(v.value) if isinstance(v, ast.Constant) else
                       "{" + (ast.get_source_segment(source, v.value) or "…") + "}"
                       for v in node.values)
    return (ast.get_source_segment(source, node) if node is not None else None) or ""


def _call_excerpt(call: ast.Call, source: str) -> str:
    """``claim(…, value, equals=...)``: what is measured and what it is checked against."""
    rest = [ast.get_source_segment(source, a) or "…" for a in call.args[2:]]
    rest += [f"{kw.arg}={ast.get_source_segment(source, kw.value) or '…'}"
             for kw in call.keywords if kw.arg not in ("key", "statement")]
    return _excerpt("claim(…, " + ", ".join(rest) + ")")


def _key_pattern(node: ast.expr | None, source: str) -> tuple[str, re.Pattern, bool]:
    """(key as written, regex matching the printed keys, whether it is a plain literal)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value, re.compile(re.escape(node.value) + r"\Z"), True
    if isinstance(node, ast.JoinedStr):
        parts, shown = [], []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(re.escape(str(value.value)))
                shown.append(str(value.value))
            else:
                parts.append(".+?")
                inner = ast.get_source_segment(source, value.value) or "…"
                shown.append("{" + inner + "}")
        return "".join(shown), re.compile("".join(parts) + r"\Z"), False
    written = (ast.get_source_segment(source, node) if node is not None else None) or "?"
    return "{" + written + "}", re.compile(r"ch\d{2}\..+\Z"), False


def claim_calls(source: str, cell: int = 0) -> list[ClaimCall]:
    """Every ``claim(...)`` / ``helpers.claims.claim(...)`` call in a code cell's source."""
    source = _python_only(source)
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    nodes = sorted((n for n in ast.walk(tree) if isinstance(n, ast.Call) and _is_claim(n.func)),
                   key=lambda n: (n.lineno, n.col_offset))
    calls = []
    for node in nodes:
        key, pattern, static = _key_pattern(_argument(node, 0, "key"), source)
        statement = _written(_argument(node, 1, "statement"), source)
        calls.append(ClaimCall(cell, key, pattern, static, _call_excerpt(node, source),
                               " ".join(statement.split())))
    return calls


def printed_claims(cell) -> list[tuple[str, str, str]]:
    """``(key, statement, value)`` of every claim line in a code cell's stored stdout."""
    found = []
    for output in cell.get("outputs", []):
        if output.get("output_type") != "stream" or output.get("name") != "stdout":
            continue
        text = output.get("text", "")
        text = "".join(text) if isinstance(text, list) else text
        for line in text.splitlines():
            m = LINE_RE.match(line.rstrip("\r"))
            if m:
                found.append((m["key"], m["statement"], m["value"]))
    return found


def _is_ignored(cell) -> bool:
    first = cell.source.lstrip().splitlines()[:1]
    tags = cell.get("metadata", {}).get("tags", [])
    return bool(first and IGNORE_MARK in first[0]) or "nbval-ignore-output" in tags


def notebook_rows(path: Path, nb=None) -> list[Row]:
    """The ledger rows of one chapter notebook, in cell order (``nb`` = already-read notebook).

    A printed line is a held claim. A ``claim(...)`` call none of whose keys were printed is
    "not computed": a literal or f-string key may be printed by any cell (the call can sit in
    a function that a later cell runs), a key held in a variable only by the call's own cell.
    """
    path = Path(path)
    nb = nb if nb is not None else nbformat.read(path, as_version=4)
    chapter = chapter_number(path)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    calls = [call for i, c in enumerate(code_cells) for call in claim_calls(c.source, i)]
    printed = [(i, line) for i, c in enumerate(code_cells) for line in printed_claims(c)]
    rows: list[Row] = []
    for i, cell in enumerate(code_cells):
        exact = not _is_ignored(cell)
        own = [c for c in calls if c.cell == i]
        for key, statement, value in (line for j, line in printed if j == i):
            others = [c for c in calls if c.cell != i and not c.local]
            call = next((c for c in own + others if c.pattern.match(key)), None)
            excerpt = call.excerpt if call else "(printed by a helper this cell calls)"
            rows.append(Row(chapter, path.name, i, key, statement, value, HELD, exact, excerpt))
        for call in own:
            if not any(call.pattern.match(line[0]) for j, line in printed
                       if not call.local or j == call.cell):
                rows.append(Row(chapter, path.name, i, call.key, call.statement, "",
                                NOT_COMPUTED, exact, call.excerpt))
    return rows


def book_rows(paths: list[Path] | None = None) -> list[Row]:
    """Ledger rows of the given notebooks (default: every ``chapters/[0-9]*.ipynb``)."""
    rows: list[Row] = []
    for path in _paths(paths):
        rows.extend(notebook_rows(path))
    return rows


def _paths(paths: list[Path] | None) -> list[Path]:
    return sorted(CHAPTERS.glob("[0-9]*.ipynb")) if paths is None else sorted(map(Path, paths))


def totals(rows: list[Row], titles: dict[int, tuple[str, str]] | None = None
           ) -> list[ChapterTotals]:
    """Counts per chapter, in chapter order. ``titles``: chapter -> (notebook, title)."""
    titles = titles or {}
    out = []
    for chapter in sorted({r.chapter for r in rows} | set(titles)):
        mine = [r for r in rows if r.chapter == chapter]
        notebook, title = titles.get(chapter, (mine[0].notebook if mine else "", ""))
        out.append(ChapterTotals(
            chapter, notebook, title, len(mine), sum(r.status == HELD for r in mine),
            sum(r.status == NOT_COMPUTED for r in mine),
            sum(r.status == HELD and not r.exact for r in mine)))
    return out


def chapter_titles(paths: list[Path] | None = None) -> dict[int, tuple[str, str]]:
    """chapter -> (notebook file name, title) for the given notebooks (default: all chapters)."""
    return {chapter_number(p): (p.name, chapter_title(nbformat.read(p, as_version=4)))
            for p in _paths(paths)}


def duplicate_keys(rows: list[Row]) -> list[str]:
    """Keys printed more than once in the book (keys must be unique)."""
    counts = Counter(r.key for r in rows if r.status == HELD)
    return sorted(k for k, n in counts.items() if n > 1)


# --------------------------------------------------------------------------- rendering


def md_escape(text: str) -> str:
    """Plain text safe inside a Markdown (MyST) table cell."""
    text = re.sub(r"([\\`*_|$<>\[\]{}#])", r"\\\1", text)
    return " ".join(text.split())


def _code(text: str) -> str:
    return "`" + text.replace("`", "'").replace("|", "\\|") + "`"


def _doc(notebook: str) -> str:
    return "{doc}`" + Path(notebook).stem + "`" if notebook else ""


def totals_markdown(table: list[ChapterTotals], links: bool = True) -> str:
    """The per-chapter counts as a Markdown table with a total row. ``links``: chapter names
    as ``{doc}`` links (for the book's pages), else as titles."""
    lines = ["| Chapter | Claims | Held | Of which measured | Not computed |",
             "|---|---:|---:|---:|---:|"]
    for t in table:
        name = _doc(t.notebook) if links and t.notebook else md_escape(t.title) or \
            f"Chapter {t.chapter}"
        lines.append(f"| {name} | {t.claims} | {t.held} | {t.measured} | {t.not_computed} |")
    lines.append(f"| **All chapters** | **{sum(t.claims for t in table)}** | "
                 f"**{sum(t.held for t in table)}** | **{sum(t.measured for t in table)}** | "
                 f"**{sum(t.not_computed for t in table)}** |")
    return "\n".join(lines)


def render(rows: list[Row], titles: dict[int, tuple[str, str]] | None = None) -> str:
    """The ledger page (MyST Markdown): totals, then one table per chapter."""
    table = totals(rows, titles)
    n_missing = sum(t.not_computed for t in table)
    lines = [
        "# Claims ledger", "",
        "Every number this book states is computed in a code cell and checked there by "
        "`claim(...)` from `helpers.claims`: the notebook stops with an error if the stated "
        "claim does not hold. This page collects those checks from the stored outputs of the "
        "chapters. It is generated by `python -m helpers.ledger` (do not edit it by hand); "
        "`python -m helpers.ledger --check` and `make test` fail when it is out of date.", "",
        "*Cell* counts code cells from 0, as nbval does (`chapters/NN_slug.ipynb::Cell 7`). "
        "*Exact* claims are re-checked bit for bit by `make test`; *measured* ones come from "
        "cells whose output depends on the machine (timings, training runs): their values vary "
        "from run to run and the claim checks a threshold, which `make test` re-checks on "
        "every run. *Not computed* marks a `claim(...)` call whose line is missing from the "
        "stored outputs.", "",
        "## Totals", "", totals_markdown(table), "",
    ]
    verdict = ("Every claim in the book held on its last run." if rows and not n_missing else
               f"{n_missing} claim(s) were not computed." if n_missing else
               "No chapter has been executed yet.")
    lines += [verdict, ""]
    for t in table:
        heading = t.title or f"Chapter {t.chapter}"
        lines += [f"## {md_escape(heading)}", ""]
        mine = [r for r in rows if r.chapter == t.chapter]
        if not mine:
            lines += ["This chapter states no checked claims yet.", ""]
            continue
        lines += [f"From {_doc(t.notebook)}: {t.held} of {t.claims} claims held.", "",
                  "| Key | Claim | Measured | Cell | Call | Status |",
                  "|---|---|---:|---:|---|---|"]
        for r in mine:
            status = ("✓ held" if r.exact else "✓ held (measured)") if r.status == HELD \
                else "✗ not computed"
            lines.append(f"| {_code(r.key)} | {md_escape(r.statement)} | {md_escape(r.value)} | "
                         f"{r.cell} | {_code(r.excerpt)} | {status} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def build(paths: list[Path] | None = None) -> str:
    """The ledger page for the given notebooks (default: all chapters)."""
    return render(book_rows(paths), chapter_titles(paths))


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if the ledger file is out of date")
    parser.add_argument("--out", type=Path, default=LEDGER, help="ledger file (chapters/ledger.md)")
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="chapter notebooks (default: chapters/[0-9]*.ipynb)")
    args = parser.parse_args(argv)
    text = build(args.notebooks or None)
    if args.check:
        current = args.out.read_text() if args.out.is_file() else None
        if current != text:
            state = "missing" if current is None else "out of date"
            print(f"{args.out.name} is {state}: run `python -m helpers.ledger`", file=sys.stderr)
            return 1
        print(f"{args.out.name} is up to date")
        return 0
    args.out.write_text(text)
    rows = book_rows(args.notebooks or None)
    print(f"wrote {args.out.name}: {len(rows)} claims, "
          f"{sum(r.status == NOT_COMPUTED for r in rows)} not computed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
