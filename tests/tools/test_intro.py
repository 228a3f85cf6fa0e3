"""tools.intro: the landing page's generated blocks are current, and each is what it says."""
from __future__ import annotations

import pytest

from tools import intro


def test_intro_blocks_are_current():
    assert intro.main(["--check"]) == 0, "run python -m tools.intro"


def test_the_picture_exists():
    assert intro.PICTURE.is_file() and intro.PICTURE.stat().st_size > 10_000


def test_sample_message_names_a_cause_and_a_case():
    text = intro.checker_block()
    assert "Likely cause" in text and "First failing case" in text


def test_reading_time_rounds_up_to_five_minutes():
    import nbformat
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("word " * 151)])
    assert intro.reading_minutes(nb) == 5
    nb.cells[0].source = "word " * (5 * intro.WORDS_PER_MINUTE + 1)
    assert intro.reading_minutes(nb) == 10


def test_a_missing_block_is_an_error():
    with pytest.raises(ValueError, match="intro:chapters"):
        intro.replace_block("no markers", "chapters", "x")
