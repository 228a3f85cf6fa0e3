"""Notebook hygiene, and the Colab path proven by simulation.

nbval (run by `make test` with --nbval) re-executes every chapter and compares outputs; the
tests here check what nbval does not: stored order, no local paths, the Colab cell, the table of
contents, and that a chapter runs alone on a (simulated) Colab machine.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from tools import book, notebooks, timings

ROOT = book.ROOT
CHAPTERS = book.chapter_files()
ABSOLUTE_PATH = re.compile(r"(/(home|root|work|tmp|Users|private|var/folders)/[\w.-]+|[A-Z]:\\\\)")

needs_chapters = pytest.mark.skipif(not CHAPTERS, reason="no chapter notebooks yet")


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]


def output_texts(cell):
    for out in cell.get("outputs", []):
        if "text" in out:
            yield out["text"]
        for mime, value in out.get("data", {}).items():
            if mime.startswith("text/") or mime.endswith("json"):
                yield value if isinstance(value, str) else json.dumps(value)


@needs_chapters
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_executed_top_to_bottom_in_one_kernel(path):
    nb = nbformat.read(path, as_version=4)
    counts = [c.execution_count for c in code_cells(nb)]
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name} was not executed top to bottom in one kernel (got {counts}); "
        "run `make execute`")


@needs_chapters
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_no_absolute_local_paths_or_errors_in_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            assert out.get("output_type") != "error", f"{path.name} cell {i} stored an error"
        for text in output_texts(cell):
            found = ABSOLUTE_PATH.search(text)
            assert not found, f"{path.name} cell {i} output shows a local path: {found.group(0)}"
            assert str(ROOT) not in text


@needs_chapters
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_colab_cell_and_links_are_in_sync(path, tmp_path):
    copy = tmp_path / path.name
    shutil.copy(path, copy)
    nb = nbformat.read(path, as_version=4)
    first_code = code_cells(nb)[0]
    assert first_code.source.startswith(notebooks.COLAB_MARK), "the Colab cell must come first"
    # sync() is what make execute runs: a synced notebook is left unchanged.
    original = copy.read_text()
    notebooks.sync(copy)
    assert copy.read_text() == original, f"run `python -m tools.notebooks sync {path.name}`"


@needs_chapters
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_notebook_is_small_and_uses_the_python3_kernel(path):
    assert path.stat().st_size < 3_000_000, f"{path.name} is over 3 MB: shrink its figures"
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"


def test_every_chapter_is_in_the_table_of_contents():
    listed = set(book.toc_files())
    for path in CHAPTERS:
        assert f"chapters/{path.stem}" in listed, f"{path.name} is missing from _toc.yml"
    for entry in listed:
        assert any((ROOT / f"{entry}{ext}").exists() for ext in (".md", ".ipynb")), entry


def test_repository_url_lives_in_one_place():
    url, branch = book.repository()
    assert url.startswith("https://github.com/") and branch
    assert url in notebooks.colab_cell_source(url)


def test_sync_writes_links_and_run_time_once(tiny_chapter):
    assert notebooks.sync(tiny_chapter, {"03_tiny": 37.4}) is True
    nb = nbformat.read(tiny_chapter, as_version=4)
    links = [c for c in nb.cells if book.LINKS_TAG in c.metadata.get("tags", [])]
    assert len(links) == 1 and nb.cells[1] is links[0]
    chapter = book.chapter(tiny_chapter)
    assert chapter.colab_url in links[0].source and "/chapters/colab/" in chapter.colab_url
    assert "This chapter has no exercises." in links[0].source
    assert "exercise notebook" not in links[0].source
    assert links[0].source.endswith("\n\n" + timings.reader_line(37.4))
    assert nb.cells[2].source.startswith(notebooks.COLAB_MARK)
    assert notebooks.sync(tiny_chapter, {"03_tiny": 37.4}) is False, "idempotent"
    assert notebooks.sync(tiny_chapter, {}) is True
    assert "Running every cell" not in nbformat.read(tiny_chapter, as_version=4).cells[1].source
    nb = nbformat.read(tiny_chapter, as_version=4)
    nb.cells[-1].metadata["tags"] = ["solution"]
    nbformat.write(nb, tiny_chapter)
    assert notebooks.sync(tiny_chapter, {}) is True
    source = nbformat.read(tiny_chapter, as_version=4).cells[1].source
    assert book.chapter(tiny_chapter).exercise_colab_url in source
    assert "no exercises" not in source


def test_sync_collapses_each_cell_of_checks(tiny_chapter):
    """A cell tagged ``claims`` (the glue / claim / computed records behind a section) is
    collapsed whole on the website, behind "Checks behind this section"."""
    nb = nbformat.read(tiny_chapter, as_version=4)
    checks = nbformat.v4.new_code_cell('claim("ch03.x", "x is one", x, equals=1)',
                                       execution_count=2)
    checks.metadata["tags"] = ["hide-input", "claims", "nbval-ignore-output"]
    checks["id"] = "checks"
    nb.cells.append(checks)
    nbformat.write(nb, tiny_chapter)
    assert notebooks.sync(tiny_chapter, {}) is True
    nb = nbformat.read(tiny_chapter, as_version=4)
    [cell] = [c for c in nb.cells if c.get("id") == "checks"]
    assert cell.metadata["tags"] == ["claims", "nbval-ignore-output", "hide-cell"]
    assert cell.metadata["mystnb"] == {"code_prompt_show": "Checks behind this section",
                                       "code_prompt_hide": "Hide the checks"}
    assert cell.source == checks.source and cell.execution_count == 2
    other = next(c for c in nb.cells if c.source == "x = 1")
    assert "mystnb" not in other.metadata and "tags" not in other.metadata
    assert notebooks.sync(tiny_chapter, {}) is False, "idempotent"


def test_report_writes_the_maintainer_table(tmp_path, monkeypatch, capsys):
    source, data, page = tmp_path / "run.json", tmp_path / "t.json", tmp_path / "M.md"
    timings.save({"01_a": 130.0, "06_b": 50.0}, "by a test", source)
    monkeypatch.setattr(timings, "TIMINGS", data)
    monkeypatch.setattr(timings, "MAINTAINING", page)
    assert notebooks.main(["report", str(source)]) == 1, "130 s > 2 x 60 s"
    assert "GROSS REGRESSION: 01_a" in capsys.readouterr().err
    assert timings.load(data) == {"01_a": 130.0, "06_b": 50.0}
    assert "| `06_b` | 50.0 | 90 | 56% |" in page.read_text()


def working_tree_as_git_repo(dest: Path) -> Path:
    """A git repository holding the current working tree (tracked + new, not ignored files)."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                            check=True, capture_output=True, text=True).stdout.split("\0")
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run(git + ["init", "--quiet", "-b", "main"], cwd=dest, check=True)
    subprocess.run(git + ["add", "-A"], cwd=dest, check=True)
    subprocess.run(git + ["commit", "--quiet", "-m", "snapshot"], cwd=dest, check=True)
    return dest


COLAB_NOTEBOOKS = {  # what a learner opens on Colab from chapter 1: its reader copy, its exercises
    "reader copy": lambda chapter: book.reader_path(chapter),
    "exercise notebook": lambda chapter: book.exercise_path(chapter),
}


@pytest.mark.slow
@needs_chapters
@pytest.mark.parametrize("kind", COLAB_NOTEBOOKS)
def test_chapter_runs_alone_on_simulated_colab(tmp_path, kind):
    """Copy what chapter 1's Colab links open (its reader copy, its exercise notebook with every
    stub in place) alone into an empty folder, fake `google.colab`, point the repository URL at
    a local clone, and Run all: the Colab cell must fetch helpers and data, every cell must run,
    and the notebook must read cleanly (no MyST roles, no NBVAL comments)."""
    from nbclient import NotebookClient

    from tools import roles

    remote = working_tree_as_git_repo(tmp_path / "remote")
    fake = tmp_path / "fake_modules" / "google" / "colab"
    fake.mkdir(parents=True)
    (fake.parent / "__init__.py").write_text("")
    (fake / "__init__.py").write_text('"""Stand-in for Colab\'s module in tests."""\n')
    content = tmp_path / "content"
    content.mkdir()
    path = COLAB_NOTEBOOKS[kind](CHAPTERS[0])
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        assert "NBVAL" not in cell.source, f"{path.name}, cell {i}"
        if cell.cell_type == "markdown":
            assert not roles.raw_roles(cell.source), f"{path.name}, cell {i}: raw MyST roles"
    at = nb.cells.index(code_cells(nb)[0])
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(nb.cells[at].source))  # idempotent?
    nb.cells.append(nbformat.v4.new_code_cell(
        "import helpers, os\n"
        "print('HELPERS', helpers.__file__)\nprint('CWD', os.getcwd())"))
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "fake_modules"),
           "CNN_COURSE_REPO": remote.as_uri(), "CNN_COURSE_NO_PROGRESS": "1"}
    env.pop("CNN_COURSE_HOME", None)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(content)}})
    old_env = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        client.execute()  # raises if any cell fails: Run all finishes
    finally:
        os.environ.clear()
        os.environ.update(old_env)
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    home = content / "cnn-course"
    assert f"HELPERS {home / 'helpers' / '__init__.py'}" in text, text
    assert f"CWD {home / 'chapters'}" in text, text
    assert (home / "data" / "mnist.npz").is_file()
    if kind == "exercise notebook":
        stubs = sum("exercise" in c.metadata.get("tags", []) for c in nb.cells)
        printed = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
        assert stubs and printed.count("is not implemented yet") >= stubs
