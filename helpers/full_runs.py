"""Results of the full-length training runs, as the chapters quote them.

The runs themselves are book tooling (``python -m tools.full_runs``, ``make full-runs``); they
record their results in ``chapters/full_runs.json`` (:data:`RESULTS`), from which the page
``chapters/full_runs.md`` (:data:`PAGE`) is rendered. This module only reads them back, so a
chapter (on Colab too) can quote them:

    from helpers.full_runs import PAGE, load_results
    load_results(PAGE)["lenet5-mnist"].value      # the page's results (read from its .json)
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

# helpers/ cannot import tools.book (it ships alone to learners): the page's place, relative
# to this package, is stated here.
PAGE = Path(__file__).resolve().parent.parent / "chapters" / "full_runs.md"
RESULTS = PAGE.with_suffix(".json")


@dataclass
class Result:
    """One finished run: what was trained, how, and how well it did."""

    name: str
    chapter: str
    model: str
    parameters: int
    data: str
    epochs: int
    recipe: str
    metric: str
    value: float
    target: str
    seconds: float
    date: str = ""
    machine: str = ""
    smoke: bool = False
    per_epoch: list[float] = field(default_factory=list)
    display: str = ""
    details: str = ""
    extra: dict = field(default_factory=dict)


def results_path(path: Path | str) -> Path:
    """The results file of a page (``full_runs.md`` -> ``full_runs.json`` beside it); a
    ``.json`` path is itself."""
    path = Path(path)
    return path if path.suffix == ".json" else path.with_suffix(".json")


def load_results(path: Path | str = RESULTS) -> dict[str, Result]:
    """The results recorded for a page (its ``.json``) or in a results file, in the order
    recorded (empty if there are none)."""
    path = results_path(path)
    if not path.is_file():
        return {}
    return {name: Result(**fields)
            for name, fields in json.loads(path.read_text(encoding="utf-8")).items()}
