"""pytest plugin (``-p tests.nbtiming``): time each chapter during the nbval run.

Sums the setup + call + teardown time of every nbval cell item per notebook (kernel start
included), always prints the table (seconds against budget, from ``tools.book``) at the end of
the run, and writes ``_build/chapter-times.json`` (or the file ``--chapter-times`` names) in the
format of ``tools/timings.json``.

Timing on a shared machine is noisy, so a chapter over its budget is only reported; the
session fails only on a gross regression: a chapter over twice its budget.
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from tools import timings

_seconds: dict[str, float] = defaultdict(float)


def pytest_addoption(parser):
    parser.addoption("--chapter-times", default=str(timings.RUN_TIMES),
                     help="where to write the chapters' run times (JSON)")
    parser.addoption("--chapter-times-how", default="by nbval during `make test`",
                     help="how the times were measured, stored with them")


def _notebook(report) -> str | None:
    path = str(getattr(report, "fspath", "") or report.nodeid.split("::")[0])
    return path if path.endswith(".ipynb") else None


def pytest_runtest_logreport(report):
    nb = _notebook(report)
    if nb and report.when in ("setup", "call", "teardown"):
        _seconds[Path(nb).stem] += report.duration


def pytest_sessionfinish(session, exitstatus):
    if not _seconds:
        return
    config = session.config
    timings.save(dict(_seconds), config.getoption("chapter_times_how"),
                 Path(config.getoption("chapter_times")))
    if timings.gross_regressions(_seconds) and session.exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter, config):
    if not _seconds:
        return
    terminalreporter.section(f"chapter execution times (nbval; fails over "
                             f"{timings.GROSS:g}x budget)")
    for line in timings.log_lines(_seconds):
        terminalreporter.write_line(line)
