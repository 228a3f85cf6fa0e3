"""How long each chapter takes to run, against its CPU budget.

The measured seconds live in a small data file, ``tools/timings.json``
(``{"how": "...", "seconds": {"01_why_not_fully_connected": 37.4, ...}}``):

* ``make bench`` (``python -m tools.notebooks time``) writes it, and the table in
  ``MAINTAINING.md`` between the ``timings`` markers;
* the nbval plugin ``tests/nbtiming.py`` writes the same format to ``_build/chapter-times.json``
  during ``make test``; ``python -m tools.notebooks report`` turns that into the table too;
* ``python -m tools.notebooks sync`` reads it to write one line per chapter for the reader
  (:func:`reader_line`).
"""
from __future__ import annotations

import json
from pathlib import Path

from tools import book

TIMINGS = book.ROOT / "tools" / "timings.json"
RUN_TIMES = book.BUILD_DIR / "chapter-times.json"
MAINTAINING = book.ROOT / "MAINTAINING.md"
START, END = "<!-- timings:start -->", "<!-- timings:end -->"
PATHS_START, PATHS_END = "<!-- cpu-paths:start -->", "<!-- cpu-paths:end -->"
GROSS = 2.0  # make test fails only when a chapter takes more than GROSS x its budget


def load(path: Path | None = None) -> dict[str, float]:
    """Seconds per chapter (``NN_slug`` -> seconds) from ``path`` (default :data:`TIMINGS`);
    empty when the file does not exist."""
    path = path or TIMINGS
    if not Path(path).is_file():
        return {}
    return {k: float(v) for k, v in json.loads(Path(path).read_text())["seconds"].items()}


def save(seconds: dict[str, float], how: str, path: Path | None = None) -> None:
    """Write seconds per chapter, rounded to 0.1 s, in chapter order (default :data:`TIMINGS`)."""
    path = path or TIMINGS
    data = {"how": how, "seconds": {k: round(v, 1) for k, v in sorted(seconds.items())}}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")


def how_measured(path: Path | None = None) -> str:
    """The ``how`` note of a timings file ("" when absent)."""
    path = path or TIMINGS
    return json.loads(Path(path).read_text()).get("how", "") if Path(path).is_file() else ""


def rows(seconds: dict[str, float]) -> list[tuple[str, float, int]]:
    """(chapter name, seconds, budget) in chapter order."""
    return [(name, secs, book.budget_for(book.number_of(name)))
            for name, secs in sorted(seconds.items())]


def gross_regressions(seconds: dict[str, float]) -> list[tuple[str, float, int]]:
    """The rows of chapters that took more than :data:`GROSS` times their budget."""
    return [r for r in rows(seconds) if r[1] > GROSS * r[2]]


def table(seconds: dict[str, float]) -> str:
    """A Markdown table: chapter, seconds, budget, and how far within or over it."""
    lines = ["| Chapter | Seconds | Budget | Share of budget |", "|---|---:|---:|---:|"]
    for name, secs, budget in rows(seconds):
        lines.append(f"| `{name}` | {secs:.1f} | {budget} | {secs / budget:.0%} |")
    lines.append(f"| **Total** | **{sum(seconds.values()):.1f}** | "
                 f"**{sum(r[2] for r in rows(seconds))}** | |")
    return "\n".join(lines)


def log_lines(seconds: dict[str, float]) -> list[str]:
    """The same table as plain text lines for a CI log; flags over budget and gross regressions."""
    out = []
    for name, secs, budget in rows(seconds):
        flag = ("   <-- OVER 2x BUDGET" if secs > GROSS * budget else
                "   (over budget)" if secs > budget else "")
        out.append(f"{name:40s} {secs:6.1f} s / {budget:3d} s{flag}")
    return out


def maintainer_section(seconds: dict[str, float], how: str) -> str:
    """The generated part of ``MAINTAINING.md``, markers included."""
    bench = book.BUILD_DIR / "conv_benchmark.md"
    parts = [START, "", f"Measured {how}." if how else "", "", table(seconds), ""]
    if bench.is_file():
        parts += ["From-scratch convolution against PyTorch (`python -m tools.bench`):", "",
                  bench.read_text(encoding="utf-8").rstrip(), ""]
    parts.append(END)
    return "\n".join(parts)


def update_maintainer_page(seconds: dict[str, float], how: str,
                           page: Path | None = None) -> None:
    """Replace the text between the timings markers of the maintainer page (default
    :data:`MAINTAINING`), or append it."""
    replace_section(maintainer_section(seconds, how), START, END, page)


def replace_section(section: str, start: str, end: str, page: Path | None = None) -> None:
    """Put ``section`` (which begins with ``start`` and ends with ``end``) in place of the text
    between those markers on ``page`` (default :data:`MAINTAINING`), or append it."""
    page = page or MAINTAINING
    text = Path(page).read_text(encoding="utf-8") if Path(page).is_file() else ""
    Path(page).write_text(replaced(text, section, start, end), encoding="utf-8")


def replaced(text: str, section: str, start: str, end: str) -> str:
    """``text`` with ``section`` in place of what lies between ``start`` and ``end`` (markers
    included; ``section`` begins and ends with them), or with ``section`` appended."""
    if start in text and end in text:
        head, rest = text.split(start, 1)
        return head + section + rest.split(end, 1)[1]
    return text.rstrip() + ("\n\n" if text else "") + section + "\n"


def paths_table(columns: dict[str, dict[str, float]], slowest: str) -> str:
    """A Markdown table of chapter times on several CPU paths (``columns``: path -> seconds per
    chapter), with the share of the budget on the ``slowest`` path (at most half is the aim)."""
    names = sorted({name for seconds in columns.values() for name in seconds})
    lines = ["| Chapter | Budget | " + " | ".join(columns) + f" | {slowest} / budget |",
             "|---|---:|" + "---:|" * (len(columns) + 1)]
    for name in names:
        budget = book.budget_for(book.number_of(name))
        cells = [f"{columns[c][name]:.1f}" if name in columns[c] else "–" for c in columns]
        share = columns.get(slowest, {}).get(name)
        lines.append(f"| `{name}` | {budget} | " + " | ".join(cells) +
                     f" | {'–' if share is None else f'{share / budget:.0%}'} |")
    return "\n".join(lines)


def rounded(seconds: float) -> int:
    """Seconds as a reader wants them: to the nearest 10 s (at least 10)."""
    return max(10, int(round(seconds / 10.0)) * 10)


def reader_line(seconds: float | None) -> str:
    """The one line a chapter shows about its running time ("" when not measured)."""
    if seconds is None:
        return ""
    return f"Running every cell takes about {rounded(seconds)} s on two CPU cores."
