"""Notebook tooling: keep chapters in shape, execute them in place, and time them.

    python -m tools.notebooks sync    [notebooks...]   # Colab cell, links + run time, toggles
    python -m tools.notebooks execute [notebooks...]   # sync, then run top to bottom in place
    python -m tools.notebooks time    [notebooks...]   # run copies; tools/timings.json
    python -m tools.notebooks report  [_build/chapter-times.json]   # the same table from nbval

Without notebooks, the book's chapters (``tools.book.chapters()``) are used. ``make execute``
and ``make bench`` call these.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat

from tools import book, timings
from tools.student import mark_claims_cells, mark_solution_cells

COLAB_MARK = "# Colab set-up"
KERNEL = {"display_name": "Python 3", "language": "python", "name": "python3"}


def colab_cell_source(url: str) -> str:
    """The first code cell of every chapter: on Colab, fetch the course; elsewhere do nothing."""
    return f'''{COLAB_MARK} (the same in every chapter): on Google Colab, fetch the course's
# helpers and data and work inside them. On your own machine this cell does nothing.
import os
import sys

try:
    import google.colab  # noqa: F401  (exists only on Colab)
    ON_COLAB = True
except ImportError:
    ON_COLAB = False
if ON_COLAB:
    home = os.environ.setdefault("CNN_COURSE_HOME", os.path.abspath("cnn-course"))
    if not os.path.isdir(home):
        import subprocess
        url = os.environ.get("CNN_COURSE_REPO", "{url}")
        subprocess.run(["git", "clone", "--quiet", "--depth", "1", url, home], check=True)
    os.chdir(os.path.join(home, "chapters"))
    if home not in sys.path:
        sys.path.insert(0, home)'''


def links_cell_source(chapter: book.Chapter, seconds: float | None = None) -> str:
    """The chapter's "run it yourself" cell: Colab links, then how long a run takes."""
    if chapter.exercise_colab_url is None:
        links = (f"**Run it yourself:** [open this chapter in Colab]({chapter.colab_url}). "
                 "This chapter has no exercises.")
    else:
        links = (f"**Run it yourself:** [open this chapter in Colab]({chapter.colab_url}) · "
                 f"[open its exercise notebook in Colab]({chapter.exercise_colab_url}) — the "
                 "exercise notebook is this chapter with the solutions removed; its checkers "
                 "tell you what went wrong.")
    line = timings.reader_line(seconds)
    return f"{links}\n\n{line}" if line else links


def _is_colab_cell(cell) -> bool:
    return cell.cell_type == "code" and cell.source.startswith(COLAB_MARK)


def _tags(cell) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def colab_cell() -> nbformat.NotebookNode:
    """The Colab set-up code cell, collapsed on the website."""
    url, _ = book.repository()
    cell = nbformat.v4.new_code_cell(colab_cell_source(url))
    cell.metadata["tags"] = ["colab-setup", "hide-input"]
    cell["id"] = "colab-setup"
    cell.metadata["mystnb"] = {"code_prompt_show": "Show the Colab set-up cell",
                               "code_prompt_hide": "Hide the Colab set-up cell"}
    return cell


def links_cell(chapter: book.Chapter, seconds: float | None) -> nbformat.NotebookNode:
    """The "run it yourself" markdown cell (tagged :data:`tools.book.LINKS_TAG`)."""
    cell = nbformat.v4.new_markdown_cell(links_cell_source(chapter, seconds))
    cell.metadata["tags"] = [book.LINKS_TAG]
    cell["id"] = book.LINKS_TAG
    return cell


def sync(path: Path, seconds: dict[str, float] | None = None) -> bool:
    """Put the Colab cell first among code cells, refresh the links cell (with the chapter's
    run time from ``seconds``, default ``tools/timings.json``), the solution toggles ("Show
    solution") and the toggles of the cells of checks (cells tagged ``claims``: the whole cell
    collapsed behind "Checks behind this section", :func:`tools.student.mark_claims_cells`).

    Returns True when the file changed.
    """
    path = Path(path)
    seconds = timings.load() if seconds is None else seconds
    nb = nbformat.read(path, as_version=4)
    before = nbformat.writes(nb)
    chapter = book.chapter(path, nb)
    cells = [c for c in nb.cells if not _is_colab_cell(c) and book.LINKS_TAG not in _tags(c)]
    title_at = next((i for i, c in enumerate(cells) if c.cell_type == "markdown"), -1)
    colab = colab_cell()
    old = next((c for c in nb.cells if _is_colab_cell(c)), None)
    if old is not None and old.source == colab.source:
        colab = old  # keep its stored execution count and outputs
    cells[title_at + 1:title_at + 1] = [links_cell(chapter, seconds.get(chapter.name)), colab]
    nb.cells = cells
    mark_solution_cells(nb)
    mark_claims_cells(nb)
    nb.metadata["kernelspec"] = KERNEL
    nb.metadata.setdefault("language_info", {"name": "python"})
    if nbformat.writes(nb) == before:
        return False
    nbformat.write(nb, path)
    return True


def executed(path: Path, env: dict[str, str] | None = None, timeout: int = 600):
    """The notebook at ``path`` executed top to bottom in a fresh kernel (cwd = its folder),
    with the environment of ``tools/kernel.env`` plus ``env`` (restored afterwards): returns
    (notebook, seconds, the error that stopped it or None). On an error the notebook holds the
    outputs of every cell up to the failing one."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    env = {**book.kernel_env(), **(env or {})}
    saved = {name: os.environ.get(name) for name in [*env, "MPLBACKEND"]}
    os.environ.update(env)
    os.environ.pop("MPLBACKEND", None)  # the kernel must use the inline backend to store figures
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(Path(path).parent)}})
    start, error = time.perf_counter(), None
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
        error = exc
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return nb, time.perf_counter() - start, error


def run_notebook(path: Path, write: bool, timeout: int = 600) -> float:
    """Execute a notebook top to bottom in a fresh kernel (cwd = its folder); returns seconds.
    An error in a cell is raised (and nothing is written)."""
    nb, seconds, error = executed(path, timeout=timeout)
    if error is not None:
        raise error
    if write:
        nbformat.write(nb, path)
    return seconds


def record(seconds: dict[str, float], how: str) -> int:
    """Save timings, refresh the maintainer page, print the table; 1 on a gross regression."""
    timings.save(seconds, how)
    timings.update_maintainer_page(seconds, how)
    print("\n".join(timings.log_lines(seconds)))
    gross = timings.gross_regressions(seconds)
    for name, secs, budget in gross:
        print(f"GROSS REGRESSION: {name} took {secs:.1f} s > {timings.GROSS:g} x {budget} s",
              file=sys.stderr)
    return 1 if gross else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["sync", "execute", "time", "report"])
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    if args.command == "report":
        source = args.notebooks[0] if args.notebooks else timings.RUN_TIMES
        return record(timings.load(source), timings.how_measured(source))
    paths = [p.resolve() for p in args.notebooks] or book.chapter_paths()
    if args.command == "sync":
        for p in paths:
            print(f"{'updated' if sync(p) else 'unchanged'}: {book.relative(p)}")
        return 0
    if args.command == "execute":
        for p in paths:
            sync(p)
            secs = run_notebook(p, write=True)
            print(f"executed {book.relative(p)} in {secs:.1f} s "
                  f"(budget {book.budget_for(book.number_of(p))} s)")
        return 0
    seconds = {}
    for p in paths:
        seconds[p.stem] = run_notebook(p, write=False)
        print(f"{p.name}: {seconds[p.stem]:.1f} s", flush=True)
    return record({**timings.load(), **seconds},
                  "by `make bench` (`python -m tools.notebooks time`): each chapter executed "
                  "top to bottom in a fresh kernel")


if __name__ == "__main__":
    sys.exit(main())
