"""Notebook tooling: keep chapters in shape, execute them in place, and time them.

    python -m helpers.notebooks sync    [notebooks...]   # Colab cell, links, solution toggles
    python -m helpers.notebooks execute [notebooks...]   # sync, then run top to bottom in place
    python -m helpers.notebooks time    [notebooks...]   # run copies, write chapters/timings.md
    python -m helpers.notebooks report  _build/chapter-times.json   # the same page from nbval

Without arguments every ``chapters/[0-9]*.ipynb`` is used. ``make execute`` and ``make bench``
call these.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
COLAB_MARK = "# Colab set-up"
LINKS_TAG = "exercise-links"
KERNEL = {"display_name": "Python 3", "language": "python", "name": "python3"}


def chapter_notebooks() -> list[Path]:
    return sorted(CHAPTERS.glob("[0-9]*.ipynb"))


def chapter_number(path: Path) -> int:
    m = re.match(r"(\d+)_", Path(path).name)
    if not m:
        raise ValueError(f"{path}: chapter notebooks are named NN_slug.ipynb")
    return int(m.group(1))


def budget_seconds(path: Path) -> int:
    """CPU budget on 2 cores: 60 s for chapters 1-5, 90 s for the architecture chapters 6-9."""
    return 60 if chapter_number(path) <= 5 else 90


def book_config() -> dict:
    import yaml

    return yaml.safe_load((ROOT / "_config.yml").read_text())


def repository() -> tuple[str, str]:
    """(url, branch) from ``_config.yml`` -- the one place a fork changes."""
    repo = book_config()["repository"]
    return repo["url"].rstrip("/"), repo.get("branch", "main")


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


def exercise_path(chapter: Path) -> Path:
    return CHAPTERS / "exercises" / f"{Path(chapter).stem}_exercises.ipynb"


def colab_url(relpath: str) -> str:
    url, branch = repository()
    owner_repo = re.sub(r"^https?://github\.com/", "", url)
    return f"https://colab.research.google.com/github/{owner_repo}/blob/{branch}/{relpath}"


def links_cell_source(chapter: Path) -> str:
    ex = f"chapters/exercises/{exercise_path(chapter).name}"
    ch = f"chapters/{Path(chapter).name}"
    return (f"**Run it yourself:** [open this chapter in Colab]({colab_url(ch)}) · "
            f"[open its exercise notebook in Colab]({colab_url(ex)}) — the exercise notebook is "
            "this chapter with the solutions removed; its checkers tell you what went wrong.")


def _is_colab_cell(cell) -> bool:
    return cell.cell_type == "code" and cell.source.startswith(COLAB_MARK)


def sync(path: Path) -> bool:
    """Put the Colab cell first among code cells, refresh the exercise link and solution toggles.

    Returns True when the file changed.
    """
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    before = nbformat.writes(nb)
    url, _ = repository()
    cells = [c for c in nb.cells if not _is_colab_cell(c)
             and LINKS_TAG not in c.get("metadata", {}).get("tags", [])]
    title_at = next((i for i, c in enumerate(cells) if c.cell_type == "markdown"), -1)
    links = nbformat.v4.new_markdown_cell(links_cell_source(path))
    links.metadata["tags"] = [LINKS_TAG]
    links["id"] = LINKS_TAG
    colab = nbformat.v4.new_code_cell(colab_cell_source(url))
    colab.metadata["tags"] = ["colab-setup", "hide-input"]
    colab["id"] = "colab-setup"
    colab.metadata["mystnb"] = {"code_prompt_show": "Show the Colab set-up cell",
                                "code_prompt_hide": "Hide the Colab set-up cell"}
    old = next((c for c in nb.cells if _is_colab_cell(c)), None)
    if old is not None and old.source == colab.source:
        colab = old  # keep its stored execution count and outputs
    cells[title_at + 1:title_at + 1] = [links, colab]
    nb.cells = cells
    try:
        from helpers.student import mark_solution_cells
    except ImportError:  # exercise tooling not installed yet
        pass
    else:
        mark_solution_cells(nb)
    nb.metadata["kernelspec"] = KERNEL
    nb.metadata.setdefault("language_info", {"name": "python"})
    after = nbformat.writes(nb)
    if after != before:
        nbformat.write(nb, path)
        return True
    return False


def run_notebook(path: Path, write: bool, timeout: int = 600) -> float:
    """Execute a notebook top to bottom in a fresh kernel (cwd = its folder); returns seconds."""
    from nbclient import NotebookClient

    os.environ["CNN_COURSE_NO_PROGRESS"] = "1"
    os.environ.pop("MPLBACKEND", None)  # the kernel must use the inline backend to store figures
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("PYTHONHASHSEED", "0")
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(Path(path).parent)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    if write:
        nbformat.write(nb, path)
    return seconds


def write_timings(rows: list[tuple[str, float, int]], out: Path, how: str) -> None:
    lines = ["# Time budget report", "",
             f"Wall time of each chapter executed top to bottom in a fresh kernel {how} on the "
             "reference machine (2 CPU cores, no GPU), against its budget: 60 s for chapters "
             "1-5, 90 s for chapters 6-9. `make test` fails when a chapter goes over.", "",
             "| Chapter | Seconds | Budget | Within budget |", "|---|---:|---:|:---:|"]
    for name, secs, budget in rows:
        lines.append(f"| `{name}` | {secs:.1f} | {budget} | {'yes' if secs <= budget else 'NO'} |")
    total = sum(s for _, s, _ in rows)
    lines += ["", f"Total: {total:.1f} s for {len(rows)} chapters.", ""]
    bench = out.parent / "conv_benchmark.md"
    if bench.is_file():
        lines += ["## From-scratch convolution against PyTorch", "",
                  "Measured by `make bench` (`python -m helpers.bench`).", "",
                  f"```{{include}} {bench.name}", "```", ""]
    out.write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["sync", "execute", "time", "report"])
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    if args.command == "report":
        import json

        data = json.loads(Path(args.notebooks[0]).read_text())
        rows = [(r["chapter"], r["seconds"], r["budget"]) for r in data]
        write_timings(rows, CHAPTERS / "timings.md", "by nbval during `make test`")
        return 0
    paths = [p.resolve() for p in args.notebooks] or chapter_notebooks()
    if args.command == "sync":
        for p in paths:
            print(f"{'updated' if sync(p) else 'unchanged'}: {p.relative_to(ROOT)}")
        return 0
    if args.command == "execute":
        for p in paths:
            sync(p)
            secs = run_notebook(p, write=True)
            print(f"executed {p.relative_to(ROOT)} in {secs:.1f} s (budget {budget_seconds(p)} s)")
        return 0
    rows = []
    for p in paths:
        secs = run_notebook(p, write=False)
        rows.append((p.name, secs, budget_seconds(p)))
        print(f"{p.name}: {secs:.1f} s (budget {budget_seconds(p)} s)", flush=True)
    write_timings(rows, CHAPTERS / "timings.md",
                  "by `make bench` (`python -m helpers.notebooks time`)")
    over = [r for r in rows if r[1] > r[2]]
    for name, secs, budget in over:
        print(f"OVER BUDGET: {name} took {secs:.1f} s > {budget} s", file=sys.stderr)
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
