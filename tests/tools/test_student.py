"""Learner notebooks: generation, the website's solution toggles, and the committed files.

The synthetic chapter uses the real Exercise 1.1 checker, so executing its exercise version
shows exactly what a learner sees before writing any code.

What a learner sees first in Colab holds no claim machinery: every code cell that records a
number (``claim(``, ``computed(``, ``glue(``) or names a claim key (``chNN.x``) is a form cell,
its code hidden behind "Checks behind this section", and no page a reader sees has a
``### BEGIN SOLUTION`` / ``### END SOLUTION`` marker.
"""
from __future__ import annotations

import inspect
import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from tools import book, roles, student

SOLUTION = '''def dense_params(in_features, out_features, bias=True):
    """Weights plus one bias per output unit."""
    ### BEGIN SOLUTION
    weights = in_features * out_features
    return weights + (out_features if bias else 0)
    ### END SOLUTION'''
SOLUTION_AS_READ = '''def dense_params(in_features, out_features, bias=True):
    """Weights plus one bias per output unit."""
    weights = in_features * out_features
    return weights + (out_features if bias else 0)'''
STUB = '''def dense_params(in_features, out_features, bias=True):
    """Weights plus one bias per output unit."""
    raise NotImplementedError("Exercise 1.1: Parameters of a dense layer")'''


PENDING = ("⏳ Exercise 1.1 is not implemented yet — using the reference implementation so the "
           "rest of the notebook runs.")


def _code(source, count, text=None, tags=()):
    cell = new_code_cell(source, execution_count=count)
    if text is not None:
        cell.outputs = [new_output("stream", name="stdout", text=text)]
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def synthetic_chapter() -> nbformat.NotebookNode:
    links = new_markdown_cell("**Run it yourself:** [open this chapter in Colab](x)")
    links.metadata["tags"] = [book.LINKS_TAG]
    nb = new_notebook(cells=[
        new_markdown_cell("# 1. A tiny chapter\n\nWhy count parameters?"),
        links,
        _code("import numpy as np\nfrom helpers.exercises import check_dense_params", 1),
        new_markdown_cell("### Exercise 1.1: Parameters of a *dense* layer\n\nCount them."),
        _code(SOLUTION, 2, tags=["solution"]),
        _code("dense_params = check_dense_params(dense_params)", 3,
              "✅ Exercise 1.1 passed (9 cases)\n"),
        _code("print(dense_params(784, 10))", 4, "7850\n"),
    ])
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python",
                                 "name": "python3"}
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    return nb


@pytest.fixture
def chapter(tmp_path) -> Path:
    path = tmp_path / "01_tiny.ipynb"
    nbformat.write(synthetic_chapter(), path)
    return path


def test_solutions_become_stubs_and_the_rest_is_kept(chapter):
    source = nbformat.read(chapter, as_version=4)
    nb = student.make_student_notebook(source, chapter)
    intro, *cells = nb.cells
    assert intro.cell_type == "markdown" and "exercise-intro" in intro.metadata["tags"]
    assert f"[1. A tiny chapter]({book.site_url()}chapters/01_tiny.html)" in intro.source
    assert book.LINKS_TAG not in str([c.metadata for c in cells])
    kept = [c for c in source.cells if book.LINKS_TAG not in c.metadata.get("tags", [])]
    assert len(cells) == len(kept)
    stub, check_cell, after = cells[3], cells[4], cells[5]
    assert stub.source == STUB
    assert stub.outputs == [] and stub.execution_count is None
    assert stub.metadata["tags"] == ["exercise"]
    assert check_cell.outputs == [new_output("stream", name="stdout", text=PENDING + "\n")], \
        "the check cell shows what the checker says about the stub"
    assert check_cell.execution_count is None
    assert after == kept[5], "cells after the check keep their outputs"
    assert cells[:3] == kept[:3]
    assert nb.metadata == source.metadata
    assert source.cells[4].source == SOLUTION, "the chapter itself is not modified"


def test_stub_keeps_indentation_and_every_block():
    source = ("class A:\n    def f(self):\n        x = 1\n        ### BEGIN SOLUTION\n"
              "        return x\n        ### END SOLUTION\n\n"
              "def g():\n    ### BEGIN SOLUTION\n    pass\n    ### END SOLUTION")
    out = student.strip_solution(source, "Exercise 2.3: Two blocks")
    assert out == ('class A:\n    def f(self):\n        x = 1\n'
                   '        raise NotImplementedError("Exercise 2.3: Two blocks")\n\n'
                   'def g():\n    raise NotImplementedError("Exercise 2.3: Two blocks")')
    for bad in ("x = 1", "### BEGIN SOLUTION\nx", "### END SOLUTION",
                "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION"):
        with pytest.raises(ValueError):
            student.strip_solution(bad, "m")
    assert student.stub_message("1.2", 'The `"quoted"` **title**') == \
        'Exercise 1.2: The \\"quoted\\" title'


def test_missing_heading_is_an_error(chapter):
    nb = nbformat.read(chapter, as_version=4)
    nb.cells[3].source = "Some text without the heading."
    with pytest.raises(ValueError, match="heading"):
        student.make_student_notebook(nb, chapter)


def test_generation_is_deterministic_and_check_mode(chapter, capsys):
    out = student.student_path(chapter)
    assert out == chapter.parent / "exercises" / "01_tiny_exercises.ipynb"
    assert student.main(["--check", str(chapter)]) == 1
    assert "run `make student`" in capsys.readouterr().err
    assert student.main([str(chapter)]) == 0
    first = out.read_text(encoding="utf-8")
    assert student.render(chapter) == first and first.endswith("}\n")
    assert student.main(["--check", str(chapter)]) == 0
    nbformat.validate(nbformat.reads(first, as_version=4))


def test_website_toggle_metadata_matches_myst_nb(chapter):
    from myst_nb.core import render
    from myst_nb.core.config import NbParserConfig

    fields = NbParserConfig.__dataclass_fields__
    assert fields["cell_metadata_key"].default == "mystnb"
    assert {"code_prompt_show", "code_prompt_hide"} <= set(fields)
    assert '"hide-input" in tags' in inspect.getsource(render)

    nb = nbformat.read(chapter, as_version=4)
    assert student.mark_solution_cells(nb) == 1
    assert student.mark_solution_cells(nb) == 0, "idempotent"
    cell = nb.cells[4]
    meta = student.solution_cell_metadata()
    assert cell.metadata["tags"] == meta["tags"] == ["solution", "hide-input"]
    assert cell.metadata["mystnb"] == meta["mystnb"] == {
        "code_prompt_show": "Show solution", "code_prompt_hide": "Hide solution"}
    generated = student.make_student_notebook(nb, chapter).cells[4]
    assert generated.metadata == {"tags": ["exercise"]}, "toggles do not leak into the exercise"


def test_glue_roles_become_values(chapter):
    nb = nbformat.read(chapter, as_version=4)
    glue = "application/papermill.record/text/plain"
    nb.cells[6].outputs.append(new_output(
        "display_data", data={glue: "0.8901"},
        metadata={"scrapbook": {"name": "ch01.keeps", "mime_prefix": glue[:-10]}}))
    nb.cells[6].outputs.append(new_output(
        "display_data", data={glue: "'(500, 500)'"},
        metadata={"scrapbook": {"name": "ch01.split"}}))
    nb.cells[0].source += ("\n\nIt keeps {glue:text}`ch01.keeps:.1%` of its accuracy, "
                           "{glue:text}`ch01.keeps` exactly, split {glue}`ch01.split`; "
                           "see {numref}`fig-x`, {cite}`lecun1998gradient`, "
                           "{cite}`krizhevsky2012imagenet,zeiler2014visualizing`, "
                           "{cite:t}`araujo2019computing`, {doc}`02_next` and "
                           "{doc}`the runs <02_next>`; $N^2$ stays.")
    nbformat.write(new_notebook(cells=[new_markdown_cell("# 2. The next one")]),
                   chapter.parent / "02_next.ipynb")
    bib, site = book.page_url("chapters/bibliography"), book.site_url()
    for out in (student.make_student_notebook(nb, chapter),
                student.make_reader_notebook(nb, chapter)):
        title = next(c for c in out.cells if c.source.startswith("# 1."))
        assert "keeps 89.0% of its accuracy, 0.8901 exactly, split (500, 500);" in title.source
        assert "{numref}`fig-x`" in title.source, "other roles are left alone"
        assert (f"([LeCun et al., 1998]({bib})), ([Krizhevsky et al., 2012]({bib}), "
                f"[Zeiler and Fergus, 2014]({bib})), [Araujo et al. (2019)]({bib}), "
                f"[2. The next one]({site}chapters/02_next.html) and "
                f"[the runs]({site}chapters/02_next.html); $N^2$ stays.") in title.source
        assert roles.raw_roles(title.source) == []
    with pytest.raises(ValueError, match="nokey"):
        roles.cite_text("nokey")
    with pytest.raises(ValueError, match="03_missing"):
        roles.doc_link("03_missing", chapter.parent)
    nb.cells[0].source += " {glue:text}`ch01.missing`"
    with pytest.raises(ValueError, match="ch01.missing"):
        student.make_student_notebook(nb, chapter)


def test_nbval_comments_are_dropped(chapter):
    nb = nbformat.read(chapter, as_version=4)
    nb.cells[6].source = "# NBVAL_IGNORE_OUTPUT\nprint(dense_params(784, 10))"
    for out in (student.make_student_notebook(nb, chapter),
                student.make_reader_notebook(nb, chapter)):
        assert "NBVAL" not in nbformat.writes(out)
        assert out.cells[-1].source == "print(dense_params(784, 10))"


def test_reader_copy_is_the_chapter_with_roles_as_text(chapter):
    student.main([str(chapter)])
    copy = book.reader_path(chapter)
    assert copy == chapter.parent / "colab" / "01_tiny.ipynb"
    source, nb = (nbformat.read(p, as_version=4) for p in (chapter, copy))
    assert nb.cells[4].source == SOLUTION_AS_READ
    nb.cells[4].source = SOLUTION
    assert nb == source, "solutions (without their markers), outputs, links and metadata kept"
    assert copy.read_text(encoding="utf-8") == student.render_reader(chapter)


def test_a_chapter_without_exercises_gets_no_exercise_notebook(chapter, capsys):
    nb = nbformat.read(chapter, as_version=4)
    nb.cells[4].metadata["tags"] = []
    nbformat.write(nb, chapter)
    stale = student.student_path(chapter)
    stale.parent.mkdir()
    stale.write_text("{}", encoding="utf-8")
    assert student.main(["--check", str(chapter)]) == 1, "an old exercise notebook is stale"
    assert student.main([str(chapter)]) == 0
    assert not stale.exists() and book.reader_path(chapter).exists()
    assert "removed: " in capsys.readouterr().out
    assert student.main(["--check", str(chapter)]) == 0
    with pytest.raises(ValueError, match="no exercises"):
        student.make_student_notebook(nb, chapter)
    assert book.chapter(chapter).exercise_colab_url is None


def test_solution_cells_pass_their_checkers(chapter):
    [result] = student.verify_solution_cells(chapter)
    assert (result.number, result.function, result.checker) == \
        ("1.1", "dense_params", "check_dense_params")
    assert result.verdict.passed, result.verdict.message
    nb = nbformat.read(chapter, as_version=4)
    nb.cells[5].source = "dense_params = check_image_to_vector(dense_params)"
    nbformat.write(nb, chapter)
    with pytest.raises(ValueError, match="checks Exercise 1.2"):
        student.verify_solution_cells(chapter)


CLAIMS_CELL = """# NBVAL_IGNORE_OUTPUT
accuracy = 0.8901
claim("ch01.keeps", "The layer keeps most of its accuracy", accuracy, at_least=0.8)
computed("ch01.weights", "A dense layer of 10 units on 784 inputs has 7,840 weights", 7840)
glue("ch01.split", (500, 500))"""
RECORDING = ("claim(", "computed(", "glue(")
CLAIM_KEY = re.compile(r"ch\d\d\.[a-z0-9]")
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def first_view_leaks(nb) -> list[str]:
    """The code cells whose first view in Colab shows a claim identifier or a threshold: a cell
    that records a number or names a claim key and is not a form cell (``cellView: "form"``,
    first line ``#@title ...``: Colab shows the title only)."""
    return [f"cell {i}: {cell.source.splitlines()[0][:80]!r}"
            for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
            and (any(call in cell.source for call in RECORDING) or CLAIM_KEY.search(cell.source))
            and not (cell.metadata.get("cellView") == "form"
                     and cell.source.startswith("#@title"))]


def markers_in(nb) -> list[str]:
    """The cells of ``nb`` with a BEGIN/END SOLUTION marker."""
    return [f"cell {i}" for i, cell in enumerate(nb.cells)
            if any(marker in cell.source for marker in MARKERS)]


def with_claims_cell(nb, tags=("hide-input", "claims", "nbval-ignore-output")):
    """``nb`` with a cell of checks after the exercise's check cell (index 6)."""
    nb.cells.insert(6, _code(CLAIMS_CELL, 4, tags=tags))
    nb.cells[6]["id"] = "claims-cell"
    return nb


def test_cells_of_checks_become_colab_forms_and_markers_go(chapter):
    nb = with_claims_cell(nbformat.read(chapter, as_version=4))
    plain = _code('print("ch01.keeps is a key, glue(x) a call")', 7)   # not tagged claims
    assert first_view_leaks(new_notebook(cells=[plain])) == [
        "cell 0: 'print(\"ch01.keeps is a key, glue(x) a call\")'"], "the check sees leaks"
    assert first_view_leaks(nb) == ["cell 6: '# NBVAL_IGNORE_OUTPUT'"]
    assert markers_in(nb) == ["cell 4"]
    for out in (student.make_student_notebook(nb, chapter),
                student.make_reader_notebook(nb, chapter)):
        assert first_view_leaks(out) == [] and markers_in(out) == []
        form = next(c for c in out.cells if c.get("id") == "claims-cell")
        title, *code = form.source.split("\n")
        assert title == "#@title Checks behind this section"
        assert "\n".join(code) == CLAIMS_CELL.split("\n", 1)[1], "the code itself is kept"
        assert form.metadata["cellView"] == "form"
        assert form.metadata["tags"] == ["hide-input", "claims", "nbval-ignore-output"]
        assert form.outputs == nb.cells[6].outputs
        assert sum(student.is_form_cell(c) for c in out.cells) == 1, "only cells of checks"
    reader = student.make_reader_notebook(nb, chapter)
    assert reader.cells[4].source == SOLUTION_AS_READ, "the solution is kept, not its markers"
    assert nb.cells[4].source == SOLUTION and "cellView" not in nb.cells[6].metadata, \
        "the chapter itself is not modified"
    again = reader.cells[6]
    student.as_form_cell(again)
    assert again == reader.cells[6], "idempotent"


def test_markers_are_stripped_line_by_line():
    assert student.has_markers(SOLUTION) and not student.has_markers(SOLUTION_AS_READ)
    assert student.strip_markers(SOLUTION) == SOLUTION_AS_READ
    assert student.strip_markers("a\n  ### BEGIN SOLUTION  \nb\n### END SOLUTION\n") == "a\nb\n"
    assert student.strip_markers("x = 1") == "x = 1"


def test_cells_of_checks_collapse_on_the_website(chapter):
    nb = with_claims_cell(nbformat.read(chapter, as_version=4))
    assert student.mark_claims_cells(nb) == 1
    assert student.mark_claims_cells(nb) == 0, "idempotent"
    cell = nb.cells[6]
    assert cell.metadata["tags"] == ["claims", "nbval-ignore-output", "hide-cell"], \
        "the whole cell collapsed (hide-cell), not only its source (hide-input)"
    assert cell.metadata["mystnb"] == student.claims_cell_metadata()["mystnb"] == {
        "code_prompt_show": "Checks behind this section", "code_prompt_hide": "Hide the checks"}
    assert set(student.claims_cell_metadata()["tags"]) <= set(cell.metadata["tags"])
    assert "mystnb" not in nb.cells[5].metadata, "other cells are left alone"


def _execute(path: Path, cwd: Path, timeout: int) -> nbformat.NotebookNode:
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


def _stdout(nb) -> str:
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.outputs)


def _check_outputs(nb) -> list:
    return [[(o.get("name"), o.get("text")) for o in c.outputs] for c in nb.cells
            if c.cell_type == "code" and student.CHECK_CALL.search(c.source)]


@pytest.fixture
def quiet_kernel_env(monkeypatch):
    """The kernels' environment of tools/kernel.env (as under make), figures off screen."""
    for name, value in book.kernel_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MPLBACKEND", "Agg")


@pytest.mark.slow
def test_generated_synthetic_notebook_runs_to_the_end(chapter, quiet_kernel_env):
    student.main([str(chapter)])
    stored = nbformat.read(student.student_path(chapter), as_version=4)
    nb = _execute(student.student_path(chapter), chapter.parent, timeout=120)
    assert _check_outputs(nb) == _check_outputs(stored), "stored check outputs are the real ones"
    text = _stdout(nb)
    assert ("⏳ Exercise 1.1 is not implemented yet — using the reference implementation so the "
            "rest of the notebook runs.") in text
    assert "7850" in text


# --------------------------------------------------------------------------- the real chapters

CHAPTERS = book.chapter_paths()
needs_chapters = pytest.mark.skipif(not CHAPTERS, reason="no chapter notebooks yet")


@needs_chapters
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_committed_exercise_notebook_is_in_sync(path):
    out = student.student_path(path)
    if not book.has_exercises(nbformat.read(path, as_version=4)):
        pytest.skip(f"{path.name} has no exercises")
    assert out.exists(), f"{out.name} is missing: run `make student`"
    assert out.read_text(encoding="utf-8") == student.render(path), (
        f"{out.name} is out of date: run `make student`")


@needs_chapters
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_committed_reader_copy_is_in_sync_and_reads_cleanly(path):
    copy = book.reader_path(path)
    assert copy.exists(), f"{book.relative(copy)} is missing: run `make student`"
    text = copy.read_text(encoding="utf-8")
    assert text == student.render_reader(path), f"{copy.name} is out of date: run `make student`"
    nb = nbformat.reads(text, as_version=4)
    nbformat.validate(nb)
    assert len(nb.cells) == len(nbformat.read(path, as_version=4).cells)
    assert_reads_cleanly(nb, copy.name)


def assert_reads_cleanly(nb, name: str) -> None:
    """No raw MyST roles in the text, no NBVAL comments in the code."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            assert not roles.raw_roles(cell.source), f"{name}, cell {i}: {cell.source[:200]}"
        assert "NBVAL" not in cell.source, f"{name}, cell {i}"


@needs_chapters
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_exercise_notebook_exists_iff_the_chapter_has_exercises(path):
    nb, out = nbformat.read(path, as_version=4), student.student_path(path)
    if not book.has_exercises(nb):
        assert not out.exists(), f"{out.name}: the chapter has no exercises (`make student`)"
        assert "exercise notebook" not in str(nb.cells), "no exercise link either"
        return
    learner = nbformat.read(out, as_version=4)
    nbformat.validate(learner)
    assert_reads_cleanly(learner, out.name)
    checks = _check_outputs(learner)
    assert checks and all(len(c) == 1 and "is not implemented yet" in c[0][1] for c in checks)


@needs_chapters
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_solutions_pass_their_checkers(path):
    for result in student.verify_solution_cells(path):
        assert result.verdict.passed, f"{path.name}: {result.verdict.message}"


@pytest.mark.slow
@needs_chapters
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_exercise_notebook_executes_to_the_end(path, quiet_kernel_env):
    out = student.student_path(path)
    if not book.has_exercises(nbformat.read(path, as_version=4)):
        pytest.skip(f"{path.name} has no exercises")
    if not out.exists():
        pytest.fail(f"{out.name} is missing: run `make student`")
    nb = _execute(out, path.parent, timeout=300)  # cwd chapters/, like the chapter itself
    assert _check_outputs(nb) == _check_outputs(nbformat.read(out, as_version=4)), \
        "the stored check outputs are what the checkers print"
    n_exercises = sum("exercise" in c.metadata.get("tags", []) for c in nb.cells)
    assert _stdout(nb).count("is not implemented yet") >= n_exercises


def test_generated_notebooks_stay_out_of_the_book_and_of_nbval():
    excluded = book.config()["exclude_patterns"]
    assert {"chapters/exercises/*", "chapters/colab/*"} <= set(excluded)
    makefile = (book.ROOT / "Makefile").read_text(encoding="utf-8")
    assert "CHAPTERS := $(sort $(wildcard chapters/[0-9]*.ipynb))" in makefile, \
        "nbval runs the chapters only, not their copies"
    assert all(p.parent == book.CHAPTERS_DIR for p in book.chapter_files())
    assert "$(PY) -m tools.student" in makefile.split("student: venv", 1)[1]


LEARNER_COPIES = [*sorted(book.READER_DIR.glob("*.ipynb")),
                  *sorted(book.EXERCISES_DIR.glob("*.ipynb"))]


@pytest.mark.skipif(not LEARNER_COPIES, reason="no learner notebooks yet")
@pytest.mark.parametrize("path", LEARNER_COPIES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_committed_learner_copies_show_no_claim_machinery_or_markers(path):
    """In a committed reader copy or exercise notebook, every cell that records a number or
    names a claim key is a Colab form cell, and no cell has a BEGIN/END SOLUTION marker.
    (A chapter whose explanation cells still call ``glue(`` fails until its glue lines move
    into its cells tagged ``claims`` and ``make student`` regenerates the copies.)"""
    nb = nbformat.read(path, as_version=4)
    leaks = first_view_leaks(nb)
    assert not leaks, (f"{book.relative(path)}: cells whose first view shows claim keys or "
                       "thresholds (move them into a cell tagged 'claims', then `make "
                       "student`):\n  " + "\n  ".join(leaks))
    assert not markers_in(nb), f"{book.relative(path)}: solution markers in {markers_in(nb)}"
