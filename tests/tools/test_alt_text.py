"""Every figure a chapter stores has alt text in its cell's metadata (tools.alt_text), and the
rule for what counts as alt text: a sentence, not a file name or a hash."""
from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from tools import alt_text, book

CHAPTERS = book.chapter_files()


@pytest.mark.parametrize("alt", [
    "Loss falls from 2.3 to 0.4 over ten epochs.",
    "A 3×3 kernel slides over a 5×5 input.",
])
def test_a_sentence_is_alt_text(alt):
    assert alt_text.problem(alt) is None


@pytest.mark.parametrize("alt, why", [
    (None, "no alt text"), ("  ", "no alt text"),
    ("../_images/28f9af9fbf4079421f2cddd738e1cd17a2c98bd2c10ee7f7c3bb95dac0427b91.png",
     "file name"),
    ("figure of loss.svg", "file name"),
    ("28f9af9fbf4079421f2cddd738e1cd17", "hash"),
    ("Loss curve.", "fewer than"),
])
def test_file_names_hashes_and_fragments_are_not(alt, why):
    assert why in alt_text.problem(alt)


def _cell(metadata, mime="image/png"):
    cell = new_code_cell("plot()", outputs=[new_output("display_data", data={mime: "AAAA"})])
    cell.metadata.update(metadata)
    return cell


def test_missing_lists_image_cells_without_a_sentence_in_their_metadata():
    good = {"mystnb": {"image": {"alt": "Two curves that cross at epoch five."}}}
    nb = new_notebook(cells=[_cell(good), _cell({}), _cell({"mystnb": {"image": {}}}),
                             _cell({}, mime="text/plain"), _cell(good, mime="image/svg+xml")])
    assert alt_text.missing(nb) == [(1, "no alt text"), (2, "no alt text")]


@pytest.mark.skipif(not CHAPTERS, reason="no chapter notebooks yet")
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_every_figure_of_a_chapter_has_alt_text(path):
    problems = alt_text.missing(nbformat.read(path, as_version=4))
    assert not problems, (
        f"{path.name}: code cells whose figures lack alt text; give each cell the metadata "
        '{"mystnb": {"image": {"alt": "<a sentence saying what the figure shows>"}}}:\n'
        + "\n".join(f"  cell {i}: {why}" for i, why in problems))
