"""Results of the full-length training runs, as the chapters quote them.

The runs themselves are book tooling (``python -m tools.full_runs``, ``make full-runs``); they
record their results in ``chapters/full_runs.md``, machine-readable in an HTML comment at its
end. This module only reads them back, so a chapter (on Colab too) can quote them:

    from helpers.full_runs import PAGE, load_results
    load_results(PAGE)["lenet5-mnist"].value
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

# helpers/ cannot import tools.book (it ships alone to learners): the page's place, relative
# to this package, is stated here.
PAGE = Path(__file__).resolve().parent.parent / "chapters" / "full_runs.md"
JSON_MARK = "full-runs-json"


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


def load_results(path: Path) -> dict[str, Result]:
    """The results recorded in an existing page (empty if there is none)."""
    if not path.is_file():
        return {}
    m = re.search(rf"<!-- {JSON_MARK}\n(.*?)\n-->", path.read_text(), flags=re.S)
    if not m:
        return {}
    return {k: Result(**v) for k, v in json.loads(m.group(1)).items()}
