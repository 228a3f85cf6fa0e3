"""Alt text for the book's figures: where it is written, and what counts as one.

A code cell's figures get their alt text from the cell's metadata, which myst-nb copies onto
every image output of the cell (``render_image_options``, cell key ``image``)::

    {"mystnb": {"image": {"alt": "Loss falls from 2.3 to 0.4 over ten epochs."}}}

Without it Sphinx writes the image's file name (``../_images/<sha256>.png``) as its alt.
An alt text is a sentence saying what the figure shows: at least :data:`MIN_WORDS` words, not
a file name, a path or a hash.

    problem("../_images/3f2a.png")   # 'a file name, not a sentence: ...'
    missing(nbformat.read(path, as_version=4))   # [(cell index, why), ...]
"""
from __future__ import annotations

import re

MIN_WORDS = 4
IMAGE_MIMES = ("image/png", "image/jpeg", "image/gif", "image/svg+xml", "image/webp")
_FILE_NAME = re.compile(r"\.(png|jpe?g|gif|svg|webp)$", re.IGNORECASE)
_HASH = re.compile(r"\b[0-9a-f]{16,}\b", re.IGNORECASE)


def problem(alt: str | None) -> str | None:
    """Why ``alt`` is not a usable alt text, or None when it is a sentence."""
    if alt is None or not alt.strip():
        return "no alt text"
    alt = alt.strip()
    if _FILE_NAME.search(alt) or "/" in alt and " " not in alt:
        return f"a file name, not a sentence: {alt!r}"
    if _HASH.search(alt):
        return f"a hash, not a sentence: {alt!r}"
    if len(alt.split()) < MIN_WORDS:
        return f"fewer than {MIN_WORDS} words: {alt!r}"
    return None


def cell_alt(cell) -> str | None:
    """The alt text a code cell's metadata gives its image outputs, if any."""
    image = cell.get("metadata", {}).get("mystnb", {}).get("image", {})
    return image.get("alt") if isinstance(image, dict) else None


def has_image(cell) -> bool:
    return any(mime in out.get("data", {}) for out in cell.get("outputs", [])
               for mime in IMAGE_MIMES)


def missing(nb) -> list[tuple[int, str]]:
    """(cell index, problem) for every code cell with an image output and no usable alt."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and has_image(cell):
            why = problem(cell_alt(cell))
            if why:
                found.append((index, why))
    return found
