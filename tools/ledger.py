"""The claims ledger: an audit page of every number the book states and how well it held.

    python -m tools.ledger            # write chapters/ledger.md from the stored notebooks
    python -m tools.ledger --check    # exit 1 if chapters/ledger.md is out of date

Nothing is executed. Each :func:`helpers.claims.claim` call stores a record in its cell's
outputs (a myst-nb glue record with the MIME type :data:`helpers.claims.CLAIM_MIME`): key,
sentence, kind, measured value, test, whether it held and by what margin. This tool reads those
records from the chapters' stored outputs, finds the section that computes each (the nearest
heading above the cell) and writes the page: per chapter, exact claims, then empirical ones
with the smallest relative margins first, after a summary of the whole book.

A key used twice in the book is an error: the page is not written.
"""
from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import nbformat

from helpers.claims import CLAIM_MIME, GLUE_PREFIX, KINDS
from tools import book

LEDGER = book.CHAPTERS_DIR / "ledger.md"
RECORD = GLUE_PREFIX + CLAIM_MIME
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
SMALLEST = 5


class DuplicateKeyError(ValueError):
    """Two claims of the book share a key (keys must be unique)."""


@dataclass(frozen=True)
class Section:
    """A heading a claim can link to: its text and its MyST anchor (``""``: the page top)."""

    title: str
    anchor: str


@dataclass(frozen=True)
class Row:
    """One claim record of chapter ``chapter``, found under ``section``."""

    chapter: int
    notebook: str
    section: Section
    key: str
    sentence: str
    kind: str
    test: str
    shown: str
    holds: bool
    margin: float | None
    relative_margin: float | None


# --------------------------------------------------------------------------- reading


def _unmarked(markdown: str) -> str:
    """Heading markdown without its marks: links become their text; code, emphasis and math
    marks go (the math itself stays)."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    text = re.sub(r"[`*$]", "", text)
    return re.sub(r"(?<!\w)_+|_+(?!\w)", "", text)


def heading_text(markdown: str) -> str:
    """A heading's text as rendered: links, code, emphasis and math marks removed."""
    return _unmarked(markdown).strip()


def slugify(markdown: str) -> str:
    """The anchor MyST gives a heading (``myst_heading_anchors``): GitHub's rule applied to
    the heading's text and code, without its math (MyST leaves ``$...$`` out of the slug)."""
    from myst_parser.mdit_to_docutils.base import default_slugify

    return default_slugify(_unmarked(re.sub(r"\$[^$]*\$", "", markdown.strip())))


def sections(nb) -> list[Section | None]:
    """For each cell, the nearest heading with an anchor (level <= ``myst_heading_anchors`` in
    ``_config.yml``, :func:`tools.book.heading_anchor_depth`) at or above it (None before any).

    Exercise headings are skipped: the text after an exercise continues its section, and no
    claim is computed inside an exercise. Anchors are made unique in notebook order the way
    MyST does it (``-1``, ``-2`` ...).
    """
    seen: Counter[str] = Counter()
    current, out, depth = None, [], book.heading_anchor_depth()
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                m = HEADING.match(line)
                if m and len(m.group(1)) <= depth:
                    title = heading_text(m.group(2))
                    slug = slugify(m.group(2))
                    if not title.startswith("Exercise"):
                        current = Section(title, slug if not seen[slug] else f"{slug}-{seen[slug]}")
                    seen[slug] += 1
        out.append(current)
    return out


def records(cell) -> list[dict]:
    """The claim records stored in a code cell's outputs, in output order."""
    return [out["data"][RECORD] for out in cell.get("outputs", [])
            if RECORD in out.get("data", {})]


def notebook_rows(path: Path, nb=None) -> list[Row]:
    """The ledger rows of one chapter notebook, in cell order."""
    path = Path(path)
    nb = nb if nb is not None else nbformat.read(path, as_version=4)
    chapter = book.number_of(path)
    rows = []
    for cell, section in zip(nb.cells, sections(nb)):
        for r in records(cell):
            rows.append(Row(chapter, path.name, section or Section("", ""), r["key"],
                            r["sentence"], r["kind"], r["test"], r["shown"], bool(r["holds"]),
                            r.get("margin"), r.get("relative_margin")))
    return rows


def duplicate_keys(rows: list[Row]) -> dict[str, list[str]]:
    """Keys recorded more than once -> the notebooks that record them."""
    counts = Counter(r.key for r in rows)
    return {k: sorted({r.notebook for r in rows if r.key == k})
            for k, n in sorted(counts.items()) if n > 1}


def book_rows(chapters: list[book.Chapter]) -> list[Row]:
    """Every claim of the given chapters; raises :class:`DuplicateKeyError` on a repeated key."""
    rows = [row for ch in chapters for row in notebook_rows(ch.notebook)]
    dupes = duplicate_keys(rows)
    if dupes:
        raise DuplicateKeyError("claim keys must be unique in the book; repeated: " + "; ".join(
            f"{k} ({', '.join(where)})" for k, where in dupes.items()))
    return rows


# --------------------------------------------------------------------------- rendering

INTRO = """\
# Claims ledger

Every number the chapters state is computed by the code next to it and checked against what
the sentence says. This page lists those claims, chapter by chapter, as they stood when the
chapters were last run.

*Exact* claims are counts, shapes and formulas: the measured value must equal the stated one,
and it does on any machine. *Empirical* claims are measurements — accuracies after a short
training run, fitted slopes, correlations in an image — and the sentence states a threshold
they clear. For those the page gives the margin: by how much the measured value cleared the
threshold, in its own units and as a percentage of the threshold. A small margin is where
another seed, another machine or another library version is most likely to tell a different
story; the summary below lists the smallest.
"""


def md_escape(text: str) -> str:
    """Plain text safe inside a Markdown (MyST) table cell."""
    text = re.sub(r"([\\`*_|$<>\[\]{}#])", r"\\\1", text)
    return " ".join(text.split())


def section_link(row: Row) -> str:
    """A MyST link to the section computing the claim (the chapter when it has no heading)."""
    if not row.section.anchor:
        return "{doc}`" + Path(row.notebook).stem + "`"
    return f"[{md_escape(row.section.title)}]({row.notebook}#{row.section.anchor})"


def measured(row: Row) -> str:
    return md_escape(row.shown) if row.holds else f"{md_escape(row.shown)} **✗ failed**"


def margin(row: Row) -> tuple[str, str]:
    """(absolute, relative) margin as table text."""
    absolute = "—" if row.margin is None else f"{row.margin:+.4g}"
    relative = "—" if row.relative_margin is None else f"{row.relative_margin:+.1%}"
    return absolute, relative.replace("%", " %")


def by_margin(rows: list[Row]) -> list[Row]:
    """Empirical rows, smallest relative margin first (rows without one last)."""
    return sorted(rows, key=lambda r: (r.relative_margin is None, r.relative_margin or 0.0))


def exact_table(rows: list[Row]) -> list[str]:
    lines = ["| Claim | Computed in | Test | Measured |", "|---|---|---|---|"]
    lines += [f"| {md_escape(r.sentence)} | {section_link(r)} | {md_escape(r.test)} | "
              f"{measured(r)} |" for r in rows]
    return lines


def empirical_table(rows: list[Row], with_chapter: bool = False) -> list[str]:
    head = "| Claim | " + ("Chapter | " if with_chapter else "") + \
        "Computed in | Test | Measured | Margin | Relative margin |"
    lines = [head, "|---|" + ("---|" if with_chapter else "") + "---|---|---|---:|---:|"]
    for r in by_margin(rows):
        chapter = f"{r.chapter} | " if with_chapter else ""
        absolute, relative = margin(r)
        lines.append(f"| {md_escape(r.sentence)} | {chapter}{section_link(r)} | "
                     f"{md_escape(r.test)} | {measured(r)} | {absolute} | {relative} |")
    return lines


def summary(rows: list[Row], chapters: list[book.Chapter]) -> list[str]:
    """Counts by kind per chapter, then the empirical claims with the smallest margins."""
    lines = ["## Summary", "", "| Chapter | Exact | Empirical | Failed |",
             "|---|---:|---:|---:|"]
    for ch in chapters:
        mine = [r for r in rows if r.chapter == ch.number]
        counts = [sum(r.kind == kind for r in mine) for kind in KINDS]
        lines.append(f"| {{doc}}`{ch.name}` | {counts[0]} | {counts[1]} | "
                     f"{sum(not r.holds for r in mine)} |")
    lines.append(f"| **The book** | **{sum(r.kind == 'exact' for r in rows)}** | "
                 f"**{sum(r.kind == 'empirical' for r in rows)}** | "
                 f"**{sum(not r.holds for r in rows)}** |")
    closest = by_margin([r for r in rows if r.kind == "empirical"])[:SMALLEST]
    if closest:
        lines += ["", f"The {len(closest)} empirical claims with the smallest relative margin:",
                  "", *empirical_table(closest, with_chapter=True)]
    return lines + [""]


def chapter_part(ch: book.Chapter, rows: list[Row]) -> list[str]:
    """One chapter's heading and its exact and empirical tables."""
    lines = [f"## {md_escape(ch.title or ch.name)}", ""]
    if not rows:
        return lines + ["The stored outputs of this chapter hold no claims yet.", ""]
    for kind, table in (("exact", exact_table), ("empirical", empirical_table)):
        mine = [r for r in rows if r.kind == kind]
        if mine:
            lines += [f"### {kind.capitalize()} claims of chapter {ch.number}", "",
                      *table(mine), ""]
    return lines


def render(rows: list[Row], chapters: list[book.Chapter]) -> str:
    """The ledger page (MyST Markdown)."""
    lines = [INTRO, *summary(rows, chapters)]
    for ch in chapters:
        lines += chapter_part(ch, [r for r in rows if r.chapter == ch.number])
    return "\n".join(lines).rstrip() + "\n"


def build(paths=None) -> str:
    """The ledger page for the given notebooks (default: the book's chapters)."""
    chapters = book.chapters(paths)
    return render(book_rows(chapters), chapters)


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if the ledger file is out of date")
    parser.add_argument("--out", type=Path, default=LEDGER, help="ledger file (chapters/ledger.md)")
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="chapter notebooks (default: the book's chapters)")
    args = parser.parse_args(argv)
    try:
        text = build(args.notebooks or None)
    except DuplicateKeyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    current = args.out.read_text(encoding="utf-8") if args.out.is_file() else None
    if args.check:
        if current != text:
            state = "missing" if current is None else "out of date"
            print(f"{args.out.name} is {state}: run `python -m tools.ledger`", file=sys.stderr)
            return 1
        print(f"{args.out.name} is up to date")
        return 0
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {book.relative(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
