"""pytest plugin (``-p tests.course``, in ``pyproject.toml``): what ``make test`` means, so
that a bare ``pytest`` means the same.

* Chapter kernels get the environment of ``tools/kernel.env`` (as under ``make``), and claims
  are strict: a claim that does not hold fails the run (``CNN_COURSE_STRICT_CLAIMS=1``).
* Markers: ``slow`` on everything that executes notebooks, builds the book or drives the
  browser (``make test-fast`` is ``pytest -m "not slow"``), and one marker per chapter,
  ``ch01`` ... (``pytest -m ch03``: chapter 3's notebook, its exercises and its tests).
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from helpers.claims import STRICT_ENV
from tools import book

SLOW_DIRS = ("site",)          # tests/site: the book built and opened in Chromium
TEST_OF_CHAPTER = re.compile(r"test_ch(\d{2})\.py$")


def chapter_marker(number: int) -> str:
    return f"ch{number:02d}"


def pytest_configure(config):
    os.environ.update(book.kernel_env())
    os.environ[STRICT_ENV] = "1"
    for chapter in book.chapters():
        config.addinivalue_line("markers", f"{chapter_marker(chapter.number)}: chapter "
                                f"{chapter.number}, {chapter.title}")


def _chapter_of(path: Path) -> int | None:
    if path.suffix == ".ipynb":
        try:
            return book.number_of(path)
        except ValueError:
            return None
    match = TEST_OF_CHAPTER.search(path.name)
    return int(match.group(1)) if match else None


def pytest_collection_modifyitems(session, config, items):
    tests = book.ROOT / "tests"
    for item in items:
        path = Path(str(item.fspath))
        number = _chapter_of(path)
        if number is not None:
            item.add_marker(chapter_marker(number))
        if path.suffix == ".ipynb" or any(tests / d in path.parents for d in SLOW_DIRS):
            item.add_marker(pytest.mark.slow)
