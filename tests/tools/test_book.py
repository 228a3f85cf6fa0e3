"""tools.book: the one place for repository paths and chapter metadata."""
from __future__ import annotations

import nbformat
import pytest

from tools import book


def test_paths_point_into_the_repository():
    assert (book.ROOT / "_toc.yml") == book.TOC and book.TOC.is_file()
    assert book.CHAPTERS_DIR == book.ROOT / "chapters"
    assert book.EXERCISES_DIR == book.CHAPTERS_DIR / "exercises"
    assert book.BUILD_DIR == book.ROOT / "_build"


def test_chapter_list_comes_from_the_table_of_contents():
    listed = [f for f in book.toc_files() if f.startswith("chapters/")]
    paths = book.chapter_paths()
    assert paths and all(f"chapters/{p.stem}" in listed for p in paths)
    assert [p.stem for p in paths] == sorted(p.stem for p in paths)
    assert "ledger" not in [p.stem for p in paths], "only NN_slug entries are chapters"


def test_budgets():
    assert [book.budget_for(n) for n in (1, 5, 6, 9, 10)] == [60, 60, 90, 90, 90]


def test_metadata_of_a_chapter(tiny_chapter):
    ch = book.chapter(tiny_chapter)
    assert (ch.number, ch.slug, ch.title, ch.name) == (3, "tiny", "3. A tiny chapter", "03_tiny")
    assert ch.exercise_notebook is None and ch.exercise_colab_url is None, "no exercises"
    assert ch.reader_notebook == tiny_chapter.parent / "colab" / "03_tiny.ipynb"
    assert ch.budget_seconds == 60
    url, branch = book.repository()
    owner_repo = url.removeprefix("https://github.com/")
    assert ch.colab_url == (f"https://colab.research.google.com/github/{owner_repo}/blob/"
                            f"{branch}/chapters/colab/03_tiny.ipynb"), "Colab opens the copy"
    nb = nbformat.read(tiny_chapter, as_version=4)
    nb.cells[-1].metadata["tags"] = [book.SOLUTION_TAG]
    ch = book.chapter(tiny_chapter, nb)
    assert ch.exercise_notebook == tiny_chapter.parent / "exercises" / "03_tiny_exercises.ipynb"
    assert ch.exercise_colab_url.endswith("/chapters/exercises/03_tiny_exercises.ipynb")
    with pytest.raises(AttributeError):
        ch.number = 4  # frozen


def test_bad_names_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="NN_slug"):
        book.number_of(tmp_path / "summary.ipynb")


def test_relative_paths():
    assert book.relative(book.TOC) == "_toc.yml"
    assert book.relative("/elsewhere/x.ipynb") == "/elsewhere/x.ipynb"


def test_site_address_comes_from_the_config():
    site = book.site_url()
    assert site == book.config()["html"]["baseurl"].rstrip("/") + "/"
    assert site.startswith("https://") and site.endswith("/")
    assert book.page_url("chapters/bibliography") == f"{site}chapters/bibliography.html"


def test_static_files_and_explorers_are_where_the_config_serves_them():
    sphinx = book.config()["sphinx"]["config"]
    assert sphinx["html_static_path"] == [book.relative(book.STATIC_DIR)]
    assert book.EXPLORERS_DIR.parent == book.STATIC_DIR
    for name in sphinx["html_js_files"] + sphinx["html_css_files"]:
        assert (book.STATIC_DIR / name).is_file(), name
    assert any(name.startswith(f"{book.EXPLORERS_DIR.name}/") for name in sphinx["html_js_files"])


def test_heading_anchor_depth_comes_from_the_config():
    depth = book.heading_anchor_depth()
    assert depth == book.config()["sphinx"]["config"]["myst_heading_anchors"]
    assert 1 <= depth <= 6


def test_kernel_env_is_one_file_that_the_makefile_includes(tmp_path):
    env = book.kernel_env()
    assert env["PYTHONHASHSEED"] == "0" and env["OMP_WAIT_POLICY"] == "PASSIVE"
    assert env["CNN_COURSE_NO_PROGRESS"] == "1"
    makefile = (book.ROOT / "Makefile").read_text(encoding="utf-8")
    assert f"include {book.relative(book.KERNEL_ENV)}" in makefile
    for name in env:
        assert f"export {name}" not in makefile, f"{name} is set in the Makefile too"
    bad = tmp_path / "kernel.env"
    bad.write_text("# a comment\nA=1\nnot a setting\n")
    with pytest.raises(ValueError, match=":3: expected NAME=value"):
        book.kernel_env(bad)
    bad.write_text("# a comment\n\nA_1=x y\n")
    assert book.kernel_env(bad) == {"A_1": "x y"}
