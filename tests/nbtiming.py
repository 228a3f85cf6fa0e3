"""pytest plugin (``-p tests.nbtiming``): time each chapter during the nbval run.

Sums the setup + call time of every nbval cell item per notebook (kernel start included),
prints a table at the end, writes ``_build/chapter-times.json``, and fails the session if a
chapter went over its CPU budget (60 s for chapters 1-5, 90 s for 6-9).
"""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

_times: dict[str, float] = defaultdict(float)


def _notebook(item_or_report) -> str | None:
    path = str(getattr(item_or_report, "fspath", "") or item_or_report.nodeid.split("::")[0])
    return path if path.endswith(".ipynb") else None


def pytest_runtest_logreport(report):
    nb = _notebook(report)
    if nb and report.when in ("setup", "call", "teardown"):
        _times[Path(nb).name] += report.duration


def pytest_sessionfinish(session, exitstatus):
    if not _times:
        return
    from helpers.notebooks import budget_seconds

    rows = [(name, secs, budget_seconds(Path(name))) for name, secs in sorted(_times.items())]
    out = Path(session.config.rootpath) / "_build" / "chapter-times.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps([{"chapter": n, "seconds": round(s, 1), "budget": b}
                               for n, s, b in rows], indent=1))
    session.config._nbtiming_rows = rows
    if any(s > b for _, s, b in rows) and session.exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter, config):
    rows = getattr(config, "_nbtiming_rows", None)
    if not rows:
        return
    terminalreporter.section("chapter execution times (nbval)")
    for name, secs, budget in rows:
        flag = "" if secs <= budget else "   <-- OVER BUDGET"
        terminalreporter.write_line(f"{name:45s} {secs:6.1f} s / {budget} s{flag}")
