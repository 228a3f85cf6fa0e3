"""The claims ledger: an audit page of every claim the book makes, how well it held over
seeds, and the computed numbers the text quotes.

    python -m tools.ledger            # write chapters/ledger.md from the stored notebooks
    python -m tools.ledger --check    # exit 1 if chapters/ledger.md is out of date

Nothing is executed. Each :func:`helpers.claims.claim` and :func:`helpers.claims.computed`
call stores a record in its cell's outputs (a myst-nb glue record with the MIME type
:data:`helpers.claims.CLAIM_MIME`): key, sentence, kind, value, test, whether it held and by
what margin. This tool reads those records from the chapters' stored outputs, finds the
section that computes each (the nearest heading above the cell), reads the spread of each
claim over seeds from ``chapters/seed_sweep.json`` (``python -m tools.seed_sweep``) and writes
the page: a summary of the whole book, then per chapter its exact claims, its empirical claims
(fewest standard deviations of margin first) and, apart, its computed numbers.

Every row carries the HTML id ``claim-<key with '.' replaced by '-'>`` (:func:`anchor`), so a
number in a chapter can link to its row: ``ledger.html#claim-ch04-photo-edge-corr``.

A key used twice in the book is an error: the page is not written.
"""
from __future__ import annotations

import argparse
import ast
import json
import math
import re
import statistics
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import nbformat

from helpers.claims import CLAIM_MIME, COMPUTED, GLUE_PREFIX, KINDS, format_value
from tools import book
from tools.seed_sweep import NOT_RESEEDED, code_hash

LEDGER = book.CHAPTERS_DIR / "ledger.md"
SWEEP = book.CHAPTERS_DIR / "seed_sweep.json"   # written by python -m tools.seed_sweep
RECORD = GLUE_PREFIX + CLAIM_MIME
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
SMALLEST = 5          # the summary lists at least this many claims with the fewest sd
FLAG_SD = 2.0         # an empirical claim closer than this many sd to its threshold is flagged
MIN_SEEDS = 3         # seeds needed before a spread is shown
FLAG = "⚠"
LONG = 5              # a tuple of more values than this is summarised


class DuplicateKeyError(ValueError):
    """Two claims of the book share a key (keys must be unique)."""


@dataclass(frozen=True)
class Section:
    """A heading a claim can link to: its text and its MyST anchor (``""``: the page top)."""

    title: str
    anchor: str


@dataclass(frozen=True)
class Row:
    """One record (a claim or a computed number) of chapter ``chapter``, under ``section``."""

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
    value: object = None
    code: str = ""          # fingerprint of what the chapter computes (seed_sweep.code_hash)


@dataclass(frozen=True)
class Spread:
    """An empirical claim over the seeds of the sweep.

    ``values`` and ``margins``: one per seed that produced the claim (the stored chapter
    first); ``failed``: the seed shifts with which it did not hold; ``stale``: the sweep's
    shift-0 record is not the stored one (the chapter changed since: re-run the sweep);
    ``recorded``: the value is read from a recorded full run, so the sweep did not re-seed it
    (the sweep's ``not_reseeded``).
    """

    values: tuple[float, ...]
    margins: tuple[float, ...]
    failed: tuple[int, ...]
    stale: bool = False
    recorded: bool = False

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.values)

    @property
    def sd(self) -> float:
        """Sample standard deviation over the seeds (ddof = 1)."""
        return statistics.stdev(self.values) if self.n > 1 else 0.0

    @property
    def mean_margin(self) -> float:
        """The margin of the mean from the threshold, in the value's units: the mean of the
        seeds' margins (exactly that for a one-sided test; for a two-sided one it cannot be
        more than the mean's distance to the nearer bound)."""
        return statistics.fmean(self.margins)

    @property
    def margin_sd(self) -> float | None:
        """The mean's margin in standard deviations; None when the value does not vary."""
        return None if self.sd == 0 else self.mean_margin / self.sd

    @property
    def usable(self) -> bool:
        return self.n >= MIN_SEEDS and not self.stale

    @property
    def flagged(self) -> bool:
        """Within ``FLAG_SD`` sd of the threshold, or failed with some seed."""
        if not self.usable:
            return False
        return bool(self.failed) or (self.margin_sd is not None and self.margin_sd < FLAG_SD)


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


EXERCISE = re.compile(r"^Exercise\s+\d")  # "Exercise 9.1: ...", not "Exercises: ..."


def sections(nb) -> list[Section | None]:
    """For each cell, the section it is computed in: the nearest heading with an anchor (level
    <= ``myst_heading_anchors`` in ``_config.yml``, :func:`tools.book.heading_anchor_depth`)
    at or above it (None before any).

    The heading of one exercise ("Exercise 9.1: ...") does not start a section: an exercise is
    a statement, a solution and a check, and the text after it goes on with the section the
    exercise sits in (its parent, or the sibling heading just before it); it does close the
    deeper headings before it. Any other heading starts one, a section of exercises
    ("Exercises: the three numbers together") too. Anchors are made unique in notebook order
    the way MyST does it (``-1``, ``-2`` ...).
    """
    seen: Counter[str] = Counter()
    open_: list[tuple[int, Section]] = []    # the headings that contain the current line
    out, depth = [], book.heading_anchor_depth()
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                m = HEADING.match(line)
                if not m or len(m.group(1)) > depth:
                    continue
                level, title, slug = len(m.group(1)), heading_text(m.group(2)), slugify(m.group(2))
                section = Section(title, slug if not seen[slug] else f"{slug}-{seen[slug]}")
                seen[slug] += 1
                if EXERCISE.match(title):
                    open_ = [(lv, s) for lv, s in open_ if lv <= level]
                else:
                    open_ = [(lv, s) for lv, s in open_ if lv < level] + [(level, section)]
        out.append(open_[-1][1] if open_ else None)
    return out


def records(cell) -> list[dict]:
    """The claim records stored in a code cell's outputs, in output order."""
    return [out["data"][RECORD] for out in cell.get("outputs", [])
            if RECORD in out.get("data", {})]


GLUED = "(a value the text quotes)"   # the sentence of a plain glue() record's row


def glued_values(cell) -> list[tuple[str, object]]:
    """The plain ``glue(key, value)`` records of a code cell (no claim record): (key, value)."""
    out = []
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        name = output.get("metadata", {}).get("scrapbook", {}).get("name")
        if name and GLUE_PREFIX + "text/plain" in data and RECORD not in data:
            text = data[GLUE_PREFIX + "text/plain"]
            try:
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                value = text
            out.append((name, value))
    return out


def notebook_rows(path: Path, nb=None) -> list[Row]:
    """The ledger rows of one chapter notebook, in cell order: claims, computed numbers, and
    the plain glued values the text quotes (listed with the computed numbers, so that every
    quoted number has a row to link to)."""
    path = Path(path)
    nb = nb if nb is not None else nbformat.read(path, as_version=4)
    chapter, code = book.number_of(path), code_hash(nb)
    rows = []
    for cell, section in zip(nb.cells, sections(nb)):
        section = section or Section("", "")
        for r in records(cell):
            rows.append(Row(chapter, path.name, section, r["key"],
                            r["sentence"], r["kind"], r.get("test", ""), r["shown"],
                            bool(r["holds"]), r.get("margin"), r.get("relative_margin"),
                            r.get("value"), code))
        for key, value in glued_values(cell):
            rows.append(Row(chapter, path.name, section, key, GLUED, COMPUTED, "",
                            format_value(value), True, None, None, value, code))
    return rows


def anchor(key: str) -> str:
    """The HTML id of a record's row: ``ch04.photo-edge-corr`` -> ``claim-ch04-photo-edge-corr``."""
    return "claim-" + key.replace(".", "-")


def duplicate_keys(rows: list[Row]) -> dict[str, list[str]]:
    """Keys (or row anchors) recorded more than once -> the notebooks that record them."""
    counts = Counter(anchor(r.key) for r in rows)
    return {r.key: sorted({o.notebook for o in rows if anchor(o.key) == anchor(r.key)})
            for r in sorted(rows, key=lambda r: r.key) if counts[anchor(r.key)] > 1}


def book_rows(chapters: list[book.Chapter]) -> list[Row]:
    """Every record of the given chapters; raises :class:`DuplicateKeyError` on a repeated key."""
    rows = [row for ch in chapters for row in notebook_rows(ch.notebook)]
    dupes = duplicate_keys(rows)
    if dupes:
        raise DuplicateKeyError("claim keys must be unique in the book; repeated: " + "; ".join(
            f"{k} ({', '.join(where)})" for k, where in dupes.items()))
    return rows


def load_sweep(path: Path | None = None) -> dict:
    """The recorded seed sweep (``{}`` when there is none)."""
    path = SWEEP if path is None else Path(path)
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)


def spread(row: Row, sweep: dict) -> Spread | None:
    """The claim's values over the sweep's seeds (None: not in the sweep, or not numeric).

    Shift 0 is the stored chapter as it is now, provided the chapter computes what it computed
    when the sweep ran (same :func:`tools.seed_sweep.code_hash`) and the claim's test is the
    same; otherwise the spread is ``stale``. (A sweep without fingerprints is trusted while its
    shift-0 value and margin are the stored ones.)
    """
    values = sweep.get("values", {}).get(row.key)
    if row.kind != "empirical" or not values or not _numeric(row.value):
        return None
    shifts = sweep.get("shifts") or list(range(len(values)))
    margins = list(sweep.get("margins", {}).get(row.key) or [None] * len(values))
    holds = list(sweep.get("holds", {}).get(row.key) or [None] * len(values))
    code = sweep.get("chapters", {}).get(row.notebook, {}).get("code")
    if code is None:
        stale = not (_same(values[0], row.value) and _same(margins[0], row.margin))
    else:
        stale = code != row.code or sweep.get("tests", {}).get(row.key) != row.test
        values = [row.value, *values[1:]]
        margins, holds = [row.margin, *margins[1:]], [row.holds, *holds[1:]]
    kept = [(v, m, h, s) for v, m, h, s in zip(values, margins, holds, shifts)
            if v is not None and m is not None]
    return Spread(tuple(float(v) for v, *_ in kept), tuple(float(m) for _, m, *_ in kept),
                  tuple(s for *_, h, s in kept if h is False), stale, recorded(row, sweep))


def recorded(row: Row, sweep: dict) -> bool:
    """Is the claim read from a recorded full run, and so not re-seeded by the sweep?"""
    return row.key in sweep.get("not_reseeded", {})


def seed_holds(row: Row, sweep: dict) -> tuple[int, tuple[int, ...]] | None:
    """(number of seeds, shifts with which it failed) of a claim in the sweep, else None."""
    holds = sweep.get("holds", {}).get(row.key)
    if not holds:
        return None
    shifts = sweep.get("shifts") or list(range(len(holds)))
    known = [(h, s) for h, s in zip(holds, shifts) if h is not None]
    return len(known), tuple(s for h, s in known if not h)


def _numeric(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# --------------------------------------------------------------------------- numbers as text


def decimals(row: Row, sd: float | None = None) -> int | None:
    """Decimals for every number of one row (value, mean, sd, margin): two significant digits
    of the sd when there is a spread, else four of the value; 0 for an int value without
    spread. None: the numbers are too small for decimals (scientific notation)."""
    if sd:
        d = 1 - math.floor(math.log10(float(f"{abs(sd):.1e}")))  # 0.0999... counts as 0.10
    elif isinstance(row.value, int) and not isinstance(row.value, bool):
        d = 0
    elif _numeric(row.value) and row.value != 0:
        d = 3 - math.floor(math.log10(abs(row.value)))
    elif row.margin:
        d = 3 - math.floor(math.log10(abs(row.margin)))
    else:
        d = 0
    d = max(d, 0)
    return None if d > 6 else d


def number(x: float, places: int | None, sign: bool = False) -> str:
    """``x`` with ``places`` decimals and thousands separators (None: 2 significant digits in
    scientific notation)."""
    plus = "+" if sign else ""
    if x == 0 and not sign:
        return "0"
    if places is None:
        return f"{x:{plus}.2e}"
    return f"{x:{plus},.{places}f}"


def compact(value) -> str:
    """A value as table text; a tuple of more than ``LONG`` items as a summary:
    ``28 pairs: (1, 2), (3, 4) … (55, 56)``."""
    if isinstance(value, (list, tuple)) and len(value) > LONG:
        pairs = all(isinstance(v, (list, tuple)) and len(v) == 2 for v in value)
        items = [format_value(tuple(v) if isinstance(v, list) else v) for v in value]
        return (f"{len(value)} {'pairs' if pairs else 'values'}: "
                + ", ".join(items[:2]) + " … " + items[-1])
    if isinstance(value, list):
        value = tuple(tuple(v) if isinstance(v, list) else v for v in value)
    return format_value(value)


def unit_of(row: Row) -> str:
    """The unit the record was shown with (``shown`` is the value, a space and the unit)."""
    plain = format_value(row.value)
    return row.shown[len(plain):].strip() if row.shown.startswith(plain) else ""


# --------------------------------------------------------------------------- rendering

INTRO = """\
# Claims ledger

The chapters quote two kinds of numbers, and this page keeps them apart.

A **computed number** (a count of parameters, a shape, arithmetic on an experiment's
settings) is computed by the code next to the sentence that quotes it, so the sentence states
exactly what the code computes. It could not have come out otherwise, so it is not evidence
for anything: each chapter lists its computed numbers at the end of its part, apart from the
claims, and the summary counts them separately.

A **claim** is a statement a measurement could contradict, and it is checked in code every
time the chapter runs. An *exact* claim must equal its stated value: two independent
computations that must agree (a layer written from scratch and PyTorch's), or a count that
depends on training. An *empirical* claim must clear a threshold: an accuracy after a short
training run, a ratio of two runs, a fitted slope. A chapter runs one seed, so one run says
little about how close a threshold is: `python -m tools.seed_sweep` re-runs every chapter
with other seeds, and for each empirical claim this page gives the mean ± standard deviation
over those seeds (at least three) and the mean's margin from the threshold in standard
deviations. A claim less than 2 sd from its threshold, or one that failed with some seed, is
flagged {flag}; a value that is the same with every seed (a count, or a result read from the
[full runs](full_runs.md)) has no spread and says so, and a claim read from a recorded full
run, which the sweep cannot re-seed, is marked “not re-seeded (recorded full run)” (that page
reports its own seeds). The summary lists the claims with the fewest standard deviations of
margin.

What the text says in words (that a figure shows edges, that a method is popular) is
neither: it is reviewed by people, not computed. Numbers typed into the text (an experiment's
settings, facts from the literature with their source) are not listed here.
""".replace("{flag}", FLAG)


def md_escape(text: str) -> str:
    """Plain text safe inside a Markdown (MyST) table cell."""
    text = re.sub(r"([\\`*_|$<>\[\]{}#])", r"\\\1", text)
    return " ".join(text.split())


def target(row: Row) -> str:
    """The empty HTML element giving a row its id (MyST passes inline HTML through)."""
    return f'<span id="{anchor(row.key)}"></span>'


def section_link(row: Row) -> str:
    """A MyST link to the section computing the claim (the chapter when it has no heading)."""
    if not row.section.anchor:
        return "{doc}`" + Path(row.notebook).stem + "`"
    return f"[{md_escape(row.section.title)}]({row.notebook}#{row.section.anchor})"


def measured(row: Row, places: int | None = 0, numeric: bool = False) -> str:
    """The measured value as table text (with the row's decimals when ``numeric``)."""
    if numeric:
        unit = unit_of(row)
        places = 0 if isinstance(row.value, int) else places   # a count is exact
        text = md_escape(f"{number(row.value, places)} {unit}".rstrip())
    elif (row.kind == "exact" and row.holds and isinstance(row.value, (list, tuple))
          and len(row.value) > LONG):
        text = f"all {len(row.value)} as stated"
    else:
        text = md_escape(compact(row.value) + (f" {unit_of(row)}" if unit_of(row) else ""))
    return text if row.holds else f"{text} **✗ failed**"


def test_text(row: Row) -> str:
    """The test as table text; an exact test against a long tuple (the measured value, since
    the claim held) is summarised."""
    if (row.kind == "exact" and row.holds and isinstance(row.value, (list, tuple))
            and len(row.value) > LONG):
        return "= " + md_escape(compact(row.value))
    return md_escape(row.test)


def margin_text(row: Row, places: int | None) -> str:
    """The stored run's margin in the value's units (an int value's margin as an int); a value
    on its bound says so."""
    if row.margin is None:
        return "—"
    if row.margin == 0 and row.holds:
        return "at the bound (allowed)"
    whole = isinstance(row.value, int) and float(row.margin).is_integer()
    return number(row.margin, 0 if whole else places, sign=True)


def seeds_text(s: Spread | None, places: int | None) -> tuple[str, str, str]:
    """(mean ± sd over seeds, the mean's margin in sd, every seed held) as table text."""
    if s is None:
        return "not in the sweep", "—", "—"
    if s.stale:
        return "sweep out of date", "—", "—"
    if s.n < MIN_SEEDS:
        return f"{s.n} seed{'s' if s.n != 1 else ''} only", "—", "—"
    if s.recorded:
        return (NOT_RESEEDED, "not measured: its seeds and their spread are on the "
                "[full runs](full_runs.md) page", "—")
    held = "yes" if not s.failed else f"{FLAG} no (shift {', '.join(map(str, s.failed))})"
    if s.sd == 0:
        return (f"{number(s.mean, places)} with all {s.n} seed shifts",
                "not measured: the value does not depend on the chapter's seed (a fixed input, "
                "or a result read from the full runs, whose own seeds are on that page)", held)
    sd = s.margin_sd
    margin = f"{number(s.mean_margin, places, sign=True)} = {sd:+.1f} sd"
    if s.mean_margin == 0:
        margin = "at the bound (allowed)"
    return (f"{number(s.mean, places)} ± {number(s.sd, places)} ({s.n} seeds)",
            (f"{FLAG} " if s.flagged else "") + margin, held)


def order(rows: list[Row], sweep: dict) -> list[Row]:
    """Empirical rows: failed first, then the fewest sd of margin, then those without a spread
    (smallest relative margin first), then those that do not vary with the seed."""
    def key(r: Row):
        s = spread(r, sweep)
        if not r.holds:
            return (0, r.margin or 0.0)
        if s is not None and s.usable and (s.failed or s.margin_sd is not None):
            return (1, -math.inf if s.failed else s.margin_sd)
        if s is not None and s.usable:
            return (3, r.relative_margin or 0.0)
        return (2, r.relative_margin if r.relative_margin is not None else math.inf)
    return sorted(rows, key=key)


def exact_table(rows: list[Row], sweep: dict) -> list[str]:
    lines = ["| Claim | Computed in | Test | Measured | Every seed held |", "|---|---|---|---|---|"]
    for r in rows:
        seeds = seed_holds(r, sweep) if _numeric(r.value) else None
        held = "—" if seeds is None else NOT_RESEEDED if recorded(r, sweep) else (
            f"yes ({seeds[0]} seeds)" if not seeds[1]
            else f"{FLAG} no (shift {', '.join(map(str, seeds[1]))})")
        lines.append(f"| {target(r)}{md_escape(r.sentence)} | {section_link(r)} | "
                     f"{test_text(r)} | {measured(r)} | {held} |")
    return lines


def empirical_table(rows: list[Row], sweep: dict, with_chapter: bool = False,
                    anchors: bool = True) -> list[str]:
    head = ("| Claim | " + ("Chapter | " if with_chapter else "")
            + "Computed in | Test | Measured | Margin | Over seeds | Mean's margin | "
            "Every seed held |")
    lines = [head, "|---|" + ("---|" if with_chapter else "") + "---|---|---:|---:|---:|---:|---|"]
    for r in order(rows, sweep):
        s = spread(r, sweep)
        numeric = _numeric(r.value)
        places = decimals(r, s.sd if s is not None and s.usable else None) if numeric else 0
        over, mean_margin, held = seeds_text(s, places)
        chapter = f"{r.chapter} | " if with_chapter else ""
        lines.append(f"| {target(r) if anchors else ''}{md_escape(r.sentence)} | {chapter}"
                     f"{section_link(r)} | {md_escape(r.test)} | "
                     f"{measured(r, places, numeric)} | {margin_text(r, places)} | "
                     f"{md_escape(over)} | {mean_margin} | {held} |")
    return lines


def computed_table(rows: list[Row]) -> list[str]:
    lines = ["| Key | Sentence | Value | Computed in |", "|---|---|---:|---|"]
    lines += [f"| {target(r)}`{r.key}` | {md_escape(r.sentence)} | "
              f"{md_escape(compact(r.value) + (' ' + unit_of(r) if unit_of(r) else ''))} | "
              f"{section_link(r)} |" for r in rows]
    return lines


def summary(rows: list[Row], chapters: list[book.Chapter], sweep: dict) -> list[str]:
    """Claims by kind per chapter (computed numbers apart), then the sweep's findings and the
    empirical claims with the fewest sd of margin."""
    lines = ["## Summary", "",
             "| Chapter | Exact claims | Empirical claims | Claims failed | "
             "Computed numbers (not evidence) |", "|---|---:|---:|---:|---:|"]

    def counts(mine):
        claims = [r for r in mine if r.kind in KINDS]
        return (sum(r.kind == "exact" for r in claims), sum(r.kind == "empirical" for r in claims),
                sum(not r.holds for r in claims), sum(r.kind == COMPUTED for r in mine))

    for ch in chapters:
        c = counts([r for r in rows if r.chapter == ch.number])
        lines.append(f"| {{doc}}`{ch.name}` | {c[0]} | {c[1]} | {c[2]} | {c[3]} |")
    c = counts(rows)
    lines.append(f"| **The book** | **{c[0]}** | **{c[1]}** | **{c[2]}** | **{c[3]}** |")
    lines += ["", f"The book makes {c[0] + c[1]} claims ({c[0]} exact, {c[1]} empirical) and "
              f"quotes {c[3]} computed numbers, which are not counted as claims."]
    empirical = [r for r in rows if r.kind == "empirical"]
    spreads = {r.key: spread(r, sweep) for r in empirical}
    usable = [r for r in empirical if spreads[r.key] is not None and spreads[r.key].usable]
    if not usable:
        return lines + ["", "No seed sweep is recorded yet (`python -m tools.seed_sweep`).", ""]
    flagged = [r for r in usable if spreads[r.key].flagged]
    constant = [r for r in usable if spreads[r.key].sd == 0 and not spreads[r.key].failed]
    from_runs = [r for r in constant if spreads[r.key].recorded]
    stale = [r for r in empirical if spreads[r.key] is not None and spreads[r.key].stale]
    missing = len(empirical) - len(usable) - len(stale)
    shifts = ", ".join(map(str, sweep.get("shifts", [])))
    lines += ["", f"**Over seeds.** The seed sweep (shifts {shifts}; `chapters/seed_sweep.json`) "
              f"re-runs every chapter: {len(usable) - len(constant)} of the {len(empirical)} "
              f"empirical claims vary with the seed and are measured over at least {MIN_SEEDS} "
              f"seeds; {len(flagged)} of them are flagged {FLAG} (less than {FLAG_SD:g} sd "
              "from the threshold, or failed with some seed). The other "
              f"{len(constant)} come out the same with every seed shift, so the sweep says "
              "nothing about them: "
              + (f"{len(from_runs)} are read from the [full runs](full_runs.md) and marked "
                 f"“{NOT_RESEEDED}” (that page reports their own seeds and spread), the "
                 f"other {len(constant) - len(from_runs)} are computed from fixed inputs (a "
                 "photo, a worked example)" if from_runs else
                 "they are computed from fixed inputs (a photo, a worked example), or read "
                 "from the [full runs](full_runs.md), whose own seeds and spread that page "
                 "reports")
              + (f"; {len(stale)} are out of date (the chapter changed since the sweep)"
                 if stale else "")
              + (f"; {missing} are not in it" if missing else "") + "."]
    varying = [r for r in usable if spreads[r.key].margin_sd is not None or spreads[r.key].failed]
    closest = order(varying, sweep)[:max(SMALLEST, len(flagged))]
    if closest:
        lines += ["", f"The {len(closest)} empirical claims with the fewest standard deviations "
                  "of margin:", "", *empirical_table(closest, sweep, with_chapter=True,
                                                     anchors=False)]
    return lines + [""]


def chapter_part(ch: book.Chapter, rows: list[Row], sweep: dict) -> list[str]:
    """One chapter's heading, its exact and empirical claims and its computed numbers."""
    lines = [f"## {md_escape(ch.title or ch.name)}", ""]
    if not rows:
        return lines + ["The stored outputs of this chapter hold no claims yet.", ""]
    for kind, title, table in (
            ("exact", f"Exact claims of chapter {ch.number}", exact_table),
            ("empirical", f"Empirical claims of chapter {ch.number}", empirical_table),
            (COMPUTED, f"Computed numbers of chapter {ch.number} (not evidence)",
             lambda rs, _sweep: computed_table(rs))):
        mine = [r for r in rows if r.kind == kind]
        if mine:
            lines += [f"### {title}", "", *table(mine, sweep), ""]
    return lines


def render(rows: list[Row], chapters: list[book.Chapter], sweep: dict | None = None) -> str:
    """The ledger page (MyST Markdown)."""
    sweep = sweep or {}
    lines = [INTRO, *summary(rows, chapters, sweep)]
    for ch in chapters:
        lines += chapter_part(ch, [r for r in rows if r.chapter == ch.number], sweep)
    return "\n".join(lines).rstrip() + "\n"


def build(paths=None, sweep: dict | Path | None = None) -> str:
    """The ledger page for the given notebooks (default: the book's chapters) with the seed
    sweep ``sweep`` (a dict, or the file to read; default ``chapters/seed_sweep.json``)."""
    chapters = book.chapters(paths)
    if not isinstance(sweep, dict):
        sweep = load_sweep(sweep)
    return render(book_rows(chapters), chapters, sweep)


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if the ledger file is out of date")
    parser.add_argument("--out", type=Path, default=LEDGER, help="ledger file (chapters/ledger.md)")
    parser.add_argument("--sweep", type=Path, default=SWEEP,
                        help="seed sweep to read (chapters/seed_sweep.json)")
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="chapter notebooks (default: the book's chapters)")
    args = parser.parse_args(argv)
    try:
        text = build(args.notebooks or None, args.sweep)
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
