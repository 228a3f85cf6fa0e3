"""MyST roles as plain Markdown, for notebooks read outside the website (Jupyter, Colab).

    text = roles.to_markdown(source, records, where="01_x.ipynb, cell 3", chapter_dir=path)

* ``{glue:text}`key[:fmt]``` / ``{glue}`key``` -> the value the chapter stored under ``key``,
  formatted as the website formats it (``doc::key`` reads another chapter's stored outputs);
* ``{cite}`a,b``` -> ``([A et al., 1998](…bibliography.html), [B and C, 2014](…))``,
  ``{cite:t}`a``` -> ``[A et al. (2019)](…bibliography.html)``; names and years come from
  ``references.bib``, the link is the website's bibliography page;
* ``{doc}`target``` / ``{doc}`text <target>``` -> ``[title of target](website page)``;
* ``{evidence}`words <key>``` -> ``[words](the ledger row of claim key on the website)``.

Math (``$...$``) is left alone: Jupyter and Colab render it. The website's address is
``tools.book.site_url()``.
"""
from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import nbformat

from helpers.claims import GLUE_PREFIX
from tools import book

GLUE_ROLE = re.compile(r"\{glue(?::text)?\}`([^`]+)`")
CITE_ROLE = re.compile(r"\{cite(?::(p|t|ps|ts))?\}`([^`]+)`")
DOC_ROLE = re.compile(r"\{doc\}`([^`]+)`")
EVIDENCE_ROLE = re.compile(r"\{evidence\}`([^`<]+?)\s*<([^<>`]+)>`")
EXPLICIT = re.compile(r"^(.*?)\s*<([^<>]+)>$", re.DOTALL)
BIBLIOGRAPHY = "chapters/bibliography"
BIBFILE = book.ROOT / "references.bib"
RAW_ROLES = ("{cite", "{doc}", "{glue", "{evidence}")     # what a converted text never contains


def glue_records(nb) -> dict[str, str]:
    """``key`` -> stored ``text/plain`` of every glue record in a notebook's outputs."""
    records = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            text = output.get("data", {}).get(GLUE_PREFIX + "text/plain")
            if name and text is not None:
                records[name] = text
    return records


def fill_glue_roles(source: str, records: dict[str, str], where: str = "",
                    chapter_dir=".") -> str:
    """Markdown with each ``{glue:text}`key[:fmt]``` / ``{glue}`key``` replaced by its value,
    formatted exactly as myst-nb formats it on the website; ``doc::key`` reads the stored
    outputs of notebook ``doc`` (relative to ``chapter_dir``)."""
    from myst_nb.core.variables import format_plain_text

    others: dict[str, dict[str, str]] = {}

    def value(match: re.Match) -> str:
        role = match.group(1)
        doc = None
        if "::" in role:                        # another chapter: ``05_x.ipynb::ch05.key:fmt``
            doc, _, role = role.partition("::")
        key, _, fmt = role.partition(":")
        if doc is not None:
            if doc not in others:
                others[doc] = glue_records(nbformat.read(Path(chapter_dir) / doc, as_version=4))
            found = others[doc]
            if key not in found:
                raise ValueError(f"{where}: no glued value {key!r} in the stored outputs of "
                                 f"{doc} (execute that chapter)")
            return format_plain_text(found[key], fmt)
        if key not in records:
            raise ValueError(f"{where}: no glued value {key!r} in the stored outputs "
                             "(execute the chapter)")
        return format_plain_text(records[key], fmt)

    return GLUE_ROLE.sub(value, source)


# --------------------------------------------------------------------------- citations

@cache
def _bibliography(path: Path = BIBFILE) -> dict[str, tuple[str, str]]:
    """``key`` -> (authors as the website shows them, year), from ``references.bib``."""
    from pybtex.database import parse_file
    from pybtex.richtext import Text

    def plain(latex: str) -> str:
        return Text.from_latex(latex).render_as("text")

    entries = {}
    for key, entry in parse_file(str(path), bib_format="bibtex").entries.items():
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        last = [plain(" ".join(p.prelast_names + p.last_names)) for p in people]
        if len(last) > 2:
            names = f"{last[0]} et al."
        else:
            names = " and ".join(last) or plain(entry.fields.get("title", key))
        entries[key] = (names, entry.fields.get("year", "n.d."))
    return entries


def cite_text(keys: str, textual: bool = False, where: str = "") -> str:
    """``(A et al., 1998, B and C, 2014)`` (``textual``: ``A et al. (1998)``), each linked to
    the website's bibliography page."""
    bib, url = _bibliography(), book.page_url(BIBLIOGRAPHY)
    parts = []
    for key in (k.strip() for k in keys.split(",")):
        if key not in bib:
            raise ValueError(f"{where}: citation {key!r} is not in references.bib")
        names, year = bib[key]
        parts.append(f"[{names} ({year})]({url})" if textual else f"[{names}, {year}]({url})")
    return ", ".join(parts) if textual else f"({', '.join(parts)})"


# --------------------------------------------------------------------------- cross-references

def _page_title(path: Path) -> str:
    if path.suffix == ".ipynb":
        return book.notebook_title(nbformat.read(path, as_version=4))
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return ""


def doc_link(target: str, chapter_dir, where: str = "") -> str:
    """``[title](website page)`` for ``{doc}`target``` written in a notebook of
    ``chapter_dir`` (``target`` may be ``text <target>``; ``/x`` is relative to the root)."""
    text, explicit = None, EXPLICIT.match(target)
    if explicit:
        text, target = explicit.group(1), explicit.group(2)
    base = book.ROOT if target.startswith("/") else Path(chapter_dir).resolve()
    stem = (base / target.lstrip("/")).resolve()
    found = next((stem.with_suffix(s) for s in (".ipynb", ".md")
                  if stem.with_suffix(s).is_file()), None)
    if found is None:
        raise ValueError(f"{where}: {{doc}} target {target!r} does not exist")
    try:
        page = found.relative_to(book.ROOT).with_suffix("").as_posix()
    except ValueError:                           # a copy outside the repository (tests)
        page = f"{book.CHAPTERS_DIR.name}/{found.stem}"
    return f"[{text or _page_title(found) or found.stem}]({book.page_url(page)})"


# --------------------------------------------------------------------------- all of them

def to_markdown(source: str, records: dict[str, str], where: str = "",
                chapter_dir=".") -> str:
    """Markdown with the glue, cite and doc roles replaced (see the module docstring)."""
    source = fill_glue_roles(source, records, where, chapter_dir)
    source = CITE_ROLE.sub(lambda m: cite_text(m.group(2), m.group(1) in ("t", "ts"), where),
                           source)
    source = EVIDENCE_ROLE.sub(lambda m: evidence_link(m.group(1), m.group(2)), source)
    return DOC_ROLE.sub(lambda m: doc_link(m.group(1), chapter_dir, where), source)


def evidence_link(words: str, key: str) -> str:
    """``{evidence}`words <key>``` as a Markdown link to the claim's row on the website."""
    from tools.ledger import LEDGER, anchor  # the ledger's row ids, defined there once

    return f"[{words}]({book.page_url(book.relative(LEDGER).removesuffix('.md'))}#{anchor(key)})"


def raw_roles(text: str) -> list[str]:
    """The raw MyST roles (cite, doc, glue) left in ``text``; ``[]`` when it reads cleanly."""
    return [r for r in RAW_ROLES if r in text]
