"""Learner notebooks: each chapter with its solutions taken out, and its reader copy.

    python -m tools.student [notebooks...]           # write chapters/exercises/, chapters/colab/
    python -m tools.student --check [notebooks...]   # exit 1 if any is out of date

Without arguments the book's chapters (``tools.book``) are used. Both generated notebooks are
read outside the website (Jupyter, Colab), so in both the MyST roles become text and links
(``tools.roles``: quoted numbers inlined, citations as "(Author, year)" linking to the
website's bibliography, ``{doc}`` cross-references as links to the website's pages; math stays
``$...$``) and ``# NBVAL_...`` comments are dropped.

In both, every code cell tagged ``claims`` (the checks behind a section: ``glue``, ``claim``
and ``computed`` calls, claim keys and thresholds) becomes a Colab form cell: first line
``#@title Checks behind this section``, cell metadata ``cellView: "form"``, so Colab shows the
title and hides the code until the learner opens it (:func:`as_form_cell`).

The reader copy (``chapters/colab/<stem>.ipynb``) is the chapter otherwise unchanged, solutions
and outputs included, with the ``### BEGIN SOLUTION`` / ``### END SOLUTION`` marker lines of its
solution cells dropped (:func:`strip_markers`): the chapter's "open this chapter in Colab" link
opens it.

In the exercise notebook (``chapters/exercises/<stem>_exercises.ipynb``), made only for a
chapter with exercises (code cells tagged ``solution``; for the others any old one is removed):

* every code cell tagged ``solution`` has the code between ``### BEGIN SOLUTION`` and
  ``### END SOLUTION`` replaced by ``raise NotImplementedError("Exercise N.M: <title>")`` at
  the same indentation (N.M and the title come from the ``### Exercise N.M: <title>`` heading
  above it), loses its outputs and execution count, and is tagged ``exercise`` instead;
* the check cell right after it (``x = check_x(x)``) gets, instead of the solution's verdict,
  what that checker prints for the stub (``⏳ ... not implemented yet ...``), so the learner
  sees what to expect;
* the chapter's "run it yourself" links cell is replaced by a note at the top that this is the
  exercise version, with a link back to the chapter;
* everything else, outputs and notebook metadata included, is kept as it is.

The output is deterministic (``nbformat.writes``: sorted keys, one-space indent), so
``--check`` and ``tests/tools/test_student.py`` can compare it with the committed file.

For the website, :func:`mark_solution_cells` (called by ``python -m tools.notebooks sync``)
collapses each solution cell of a chapter behind a "Show solution" toggle (myst-nb's
``hide-input`` tag with per-cell ``mystnb`` prompts), :func:`mark_claims_cells` (also called by
``sync``) collapses each cell of checks behind "Checks behind this section" (myst-nb's
``hide-cell``), and :func:`verify_solution_cells` runs each solution of a chapter through its
checker without a kernel.
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import copy
import io
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

from tools import book
from tools.roles import glue_records, to_markdown

SOLUTION_TAG = book.SOLUTION_TAG
EXERCISE_TAG = "exercise"
INTRO_TAG = "exercise-intro"
HIDE_TAG = "hide-input"           # myst-nb: collapse the cell's source behind a toggle
HIDE_CELL_TAG = "hide-cell"       # myst-nb: collapse the whole cell, source and outputs
PROMPTS = {"code_prompt_show": "Show solution", "code_prompt_hide": "Hide solution"}
CLAIMS_TAG = "claims"             # a cell of checks: glue / claim / computed records
CLAIMS_TITLE = "Checks behind this section"
CLAIMS_PROMPTS = {"code_prompt_show": CLAIMS_TITLE, "code_prompt_hide": "Hide the checks"}
FORM_TITLE = "#@title "           # Colab: a form cell's first line, its title
BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
HEADING = re.compile(r"^\s*#{1,6}\s*Exercise\s+(\d+\.\d+)\s*[:.]\s*(.+?)\s*$", re.MULTILINE)
CHECK_CALL = re.compile(r"^\s*(\w+)\s*=\s*(check_\w+)\s*\(\s*(\w+)\s*\)\s*$", re.MULTILINE)
NBVAL_COMMENT = re.compile(r"^[ \t]*#[ \t]*NBVAL_\w+[ \t]*\n?", re.MULTILINE)


# --------------------------------------------------------------------------- cells and markers

def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def is_solution_cell(cell) -> bool:
    return cell.cell_type == "code" and SOLUTION_TAG in _tags(cell)


def exercise_of(nb, index: int) -> tuple[str, str]:
    """(number, title) of the last ``### Exercise N.M: title`` heading above cell ``index``."""
    for cell in reversed(nb.cells[:index]):
        if cell.cell_type == "markdown":
            found = HEADING.findall(cell.source)
            if found:
                number, title = found[-1]
                return number, title.strip()
    raise ValueError(f"solution cell {index} has no '### Exercise N.M: title' heading above it")


def _plain(title: str) -> str:
    """The title as plain text for a Python string: no Markdown emphasis or code marks."""
    return re.sub(r"[`*]", "", title).replace("\\", "\\\\").replace('"', '\\"')


def stub_message(number: str, title: str) -> str:
    return f"Exercise {number}: {_plain(title)}"


def strip_solution(source: str, message: str) -> str:
    """Replace each BEGIN/END SOLUTION block with ``raise NotImplementedError(message)``."""
    out, inside, blocks = [], False, 0
    for n, line in enumerate(source.split("\n"), start=1):
        stripped = line.strip()
        if stripped.startswith(BEGIN):
            if inside:
                raise ValueError(f"line {n}: '{BEGIN}' inside another solution block")
            inside, blocks = True, blocks + 1
            indent = line[:len(line) - len(line.lstrip())]
            out.append(f'{indent}raise NotImplementedError("{message}")')
        elif stripped.startswith(END):
            if not inside:
                raise ValueError(f"line {n}: '{END}' without '{BEGIN}'")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"'{BEGIN}' without '{END}'")
    if not blocks:
        raise ValueError(f"no '{BEGIN}' / '{END}' markers in a cell tagged '{SOLUTION_TAG}'")
    return "\n".join(out)


def _is_marker(line: str) -> bool:
    return line.strip().startswith((BEGIN, END))


def has_markers(source: str) -> bool:
    """Whether ``source`` has a ``### BEGIN SOLUTION`` or ``### END SOLUTION`` line."""
    return any(_is_marker(line) for line in source.split("\n"))


def strip_markers(source: str) -> str:
    """``source`` without its ``### BEGIN SOLUTION`` / ``### END SOLUTION`` lines, the solution
    kept (what a reader sees: the reader copy, the website's solution cells)."""
    return "\n".join(line for line in source.split("\n") if not _is_marker(line))


# --------------------------------------------------------------------------- cells of checks

def is_claims_cell(cell) -> bool:
    return cell.cell_type == "code" and CLAIMS_TAG in _tags(cell)


def is_form_cell(cell) -> bool:
    """A Colab form cell: ``cellView: "form"`` and a first line ``#@title ...``."""
    return (cell.cell_type == "code" and cell.get("metadata", {}).get("cellView") == "form"
            and cell.source.startswith(FORM_TITLE.rstrip()))


def as_form_cell(cell, title: str = CLAIMS_TITLE) -> None:
    """Make code cell ``cell`` a Colab form cell titled ``title`` (in place): Colab shows the
    title and hides the code until it is opened ("Show code")."""
    if not cell.source.startswith(FORM_TITLE.rstrip()):
        cell.source = f"{FORM_TITLE}{title}\n{cell.source}"
    cell.metadata["cellView"] = "form"


# --------------------------------------------------------------------------- website toggles

def solution_cell_metadata() -> dict:
    """Cell metadata that myst-nb (Jupyter Book 1) needs to collapse a solution cell.

    The ``hide-input`` tag wraps the source in a ``<details>`` toggle; the ``mystnb`` cell keys
    ``code_prompt_show`` / ``code_prompt_hide`` (myst_nb.core.config, cell level) label it.
    """
    return {"tags": [SOLUTION_TAG, HIDE_TAG], "mystnb": dict(PROMPTS)}


def mark_solution_cells(nb) -> int:
    """Give every ``solution`` cell of a chapter its "Show solution" toggle; returns the
    number of cells changed (in place)."""
    return _collapse(nb, is_solution_cell, HIDE_TAG, PROMPTS)


def _collapse(nb, selected, tag: str, prompts: dict, drop=()) -> int:
    """Tag every ``selected`` cell with ``tag`` (its tags in ``drop`` removed, the others kept)
    and give it the ``mystnb`` toggle ``prompts``; returns the number of cells changed."""
    changed = 0
    for cell in nb.cells:
        if not selected(cell):
            continue
        before = copy.deepcopy(cell.metadata)
        tags = [t for t in _tags(cell) if t not in drop]
        if tag not in tags:
            tags.append(tag)
        cell.metadata["tags"] = tags
        cell.metadata["mystnb"] = {**cell.metadata.get("mystnb", {}), **prompts}
        changed += cell.metadata != before
    return changed


def claims_cell_metadata() -> dict:
    """Cell metadata that collapses a cell of checks on the website: the whole cell (myst-nb's
    ``hide-cell``; its outputs are glue records, which show nothing) behind "Checks behind this
    section" (``mystnb`` prompts, as for solutions)."""
    return {"tags": [CLAIMS_TAG, HIDE_CELL_TAG], "mystnb": dict(CLAIMS_PROMPTS)}


def mark_claims_cells(nb) -> int:
    """Collapse every ``claims`` cell of a chapter behind its "Checks behind this section"
    toggle (``hide-cell`` instead of ``hide-input``, other tags kept); returns the number of
    cells changed (in place)."""
    return _collapse(nb, is_claims_cell, HIDE_CELL_TAG, CLAIMS_PROMPTS, drop=(HIDE_TAG,))


# --------------------------------------------------------------------------- the learner notebook

student_path = book.exercise_path


def intro_source(nb, chapter: Path) -> str:
    title = book.notebook_title(nb) or chapter.stem
    page = book.page_url(f"{book.CHAPTERS_DIR.name}/{chapter.stem}")  # works on Colab too
    return (f"**Exercise notebook.** This is [{title}]({page}) with the solutions "
            "taken out. Each exercise cell raises `NotImplementedError`: replace that line with "
            "your code, run the cell, then run the check cell below it. The check tries your "
            "function on several inputs and tells you what went wrong; until it passes, it "
            "hands the reference solution to the rest of the notebook, so every later cell "
            "still runs. The chapter shows the solutions.")


def _new_markdown(nb, source: str, cell_id: str, tag: str):
    cell = nbformat.v4.new_markdown_cell(source)
    cell.metadata["tags"] = [tag]
    if (nb.nbformat, nb.nbformat_minor) >= (4, 5):
        cell["id"] = cell_id
    else:
        cell.pop("id", None)
    return cell


def _clear(cell) -> None:
    cell.outputs = []
    cell.execution_count = None


def readable(nb, chapter) -> nbformat.NotebookNode:
    """A copy of notebook ``nb`` (read from ``chapter``) as a learner reads it outside the
    website: MyST roles as text and links (``tools.roles``), no ``# NBVAL_...`` comments, each
    cell of checks a Colab form cell (:func:`as_form_cell`)."""
    chapter = Path(chapter)
    nb = copy.deepcopy(nb)
    records = glue_records(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            cell.source = to_markdown(cell.source, records, f"{chapter.name}, cell {i}",
                                      chapter.parent)
        elif cell.cell_type == "code":
            cell.source = NBVAL_COMMENT.sub("", cell.source)
            if is_claims_cell(cell):
                as_form_cell(cell)
    return nb


def pending_output(checker: str, fn) -> nbformat.NotebookNode:
    """What the check cell ``x = <checker>(x)`` prints for the stub ``fn``: the checker's own
    "⏳ not implemented yet" line, stored so the learner sees what to expect."""
    import helpers.exercises as exercises

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        getattr(exercises, checker)(fn)
    return nbformat.v4.new_output("stream", name="stdout", text=printed.getvalue())


def solution_cells(nb):
    """Each exercise of ``nb``, in order: ``(index, solution cell, the next code cell, the
    check call in it (a CHECK_CALL match, or None), the import lines of the code cells above)``.
    """
    imports: list[str] = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if not is_solution_cell(cell):
            imports.append(_imports(cell.source))
            continue
        nxt = next((c for c in nb.cells[i + 1:] if c.cell_type == "code"), None)
        call = CHECK_CALL.search(nxt.source) if nxt is not None else None
        yield i, cell, nxt, call, imports


def make_student_notebook(nb, chapter) -> nbformat.NotebookNode:
    """The exercise version of chapter notebook ``nb`` (read from ``chapter``); ``nb`` is not
    changed. ValueError for a chapter without exercises (it gets no exercise notebook)."""
    chapter = Path(chapter)
    if not book.has_exercises(nb):
        raise ValueError(f"{chapter.name} has no exercises (no cell tagged '{SOLUTION_TAG}')")
    nb = readable(nb, chapter)
    for i, cell, nxt, call, imports in solution_cells(nb):
        number, title = exercise_of(nb, i)
        where = f"{chapter.name}, cell {i} (Exercise {number})"
        try:
            cell.source = strip_solution(cell.source, stub_message(number, title))
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        _clear(cell)
        tags = [EXERCISE_TAG if t == SOLUTION_TAG else t for t in _tags(cell) if t != HIDE_TAG]
        cell.metadata["tags"] = tags
        prompts = {k: v for k, v in cell.metadata.get("mystnb", {}).items() if k not in PROMPTS}
        cell.metadata.pop("mystnb", None)
        if prompts:
            cell.metadata["mystnb"] = prompts
        if call is not None:
            _clear(nxt)
            stub = _define(imports, cell.source, where)[call.group(3)]
            nxt.outputs = [pending_output(call.group(2), stub)]
    nb.cells = [c for c in nb.cells if book.LINKS_TAG not in _tags(c) and INTRO_TAG not in _tags(c)]
    nb.cells.insert(0, _new_markdown(nb, intro_source(nb, chapter), INTRO_TAG, INTRO_TAG))
    nbformat.validate(nb)
    return nb


def make_reader_notebook(nb, chapter) -> nbformat.NotebookNode:
    """The reader copy of chapter notebook ``nb`` that "open this chapter in Colab" opens: the
    chapter with its solutions (without their BEGIN/END markers) and outputs, its roles as
    text (see :func:`readable`)."""
    nb = readable(nb, chapter)
    for cell in nb.cells:
        if is_solution_cell(cell):
            cell.source = strip_markers(cell.source)
    nbformat.validate(nb)
    return nb


def _text(nb) -> str:
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def render(chapter) -> str:
    """The exact text of the exercise notebook for ``chapter`` (what is written to disk)."""
    chapter = Path(chapter)
    return _text(make_student_notebook(nbformat.read(chapter, as_version=4), chapter))


def render_reader(chapter) -> str:
    """The exact text of the reader copy of ``chapter`` (``chapters/colab/NN_slug.ipynb``)."""
    chapter = Path(chapter)
    return _text(make_reader_notebook(nbformat.read(chapter, as_version=4), chapter))


def outputs(chapter) -> dict[Path, object]:
    """The generated files of ``chapter``: path -> a function giving its text, or ``None`` for
    a file that must not exist (the exercise notebook of a chapter without exercises)."""
    chapter = Path(chapter)
    has = book.has_exercises(nbformat.read(chapter, as_version=4))
    return {student_path(chapter): (lambda: render(chapter)) if has else None,
            book.reader_path(chapter): lambda: render_reader(chapter)}


def generate(chapters, check: bool = False) -> list[Path]:
    """Write (or with ``check``, only compare) the exercise notebooks and reader copies, and
    remove the exercise notebook of a chapter without exercises; returns the files that were
    out of date."""
    stale = []
    for chapter in map(Path, chapters):
        for out, make in outputs(chapter).items():
            if make is None:
                if out.exists():
                    stale.append(out)
                    if not check:
                        out.unlink()
                continue
            text = make()
            current = out.read_text(encoding="utf-8") if out.exists() else None
            if current == text:
                continue
            stale.append(out)
            if not check:
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_text(text, encoding="utf-8")
    return stale


# --------------------------------------------------------------------------- solutions vs checkers

@dataclass
class SolutionCheck:
    """One solution cell of a chapter run through its checker (see verify_solution_cells)."""

    number: str
    function: str
    checker: str | None
    verdict: object          # helpers.exercises.core.Verdict


def _imports(source: str) -> str:
    """The top-level import statements of a cell (IPython magics and shell lines dropped)."""
    lines = [ln for ln in source.split("\n") if not ln.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return ""
    return "\n".join(ast.unparse(node) for node in tree.body
                     if isinstance(node, (ast.Import, ast.ImportFrom)))


def _define(imports: list[str], source: str, where: str) -> dict:
    """The namespace after running ``imports`` (cells' import lines), then ``source``."""
    namespace: dict = {"__name__": "__solution__"}
    exec(compile("\n".join(imports), f"<{where}: imports>", "exec"), namespace)
    exec(compile(source, f"<{where}>", "exec"), namespace)
    return namespace


def verify_solution_cells(chapter) -> list[SolutionCheck]:
    """Run each solution cell of a chapter through its exercise's checker, without a kernel.

    Each solution function sees only the module imports of the cells above it (so solutions
    must not depend on other notebook state). Raises ``ValueError`` if a solution cell breaks
    the conventions: no heading, no single function, a check cell that names another exercise.
    """
    import helpers.exercises as exercises

    chapter = Path(chapter)
    nb = nbformat.read(chapter, as_version=4)
    results = []
    for i, cell, _, call, imports in solution_cells(nb):
        where = f"{chapter.name}, cell {i}"
        number, _ = exercise_of(nb, i)
        functions = [n.name for n in ast.parse(cell.source).body
                     if isinstance(n, (ast.FunctionDef, ast.ClassDef))]   # a class: a module
        if len(functions) != 1:
            raise ValueError(f"{where}: a solution cell defines exactly one function (or "
                             f"class), found {functions}")
        namespace = _define(imports, cell.source, where)
        if call is None:
            raise ValueError(f"{where}: the next code cell must be the check, "
                             f"`{functions[0]} = check_...({functions[0]})`")
        target, checker, argument = call.groups()
        if target != functions[0] or argument != functions[0]:
            raise ValueError(f"{where}: the check cell should read "
                             f"`{functions[0]} = {checker}({functions[0]})`")
        checker_ex = getattr(getattr(exercises, checker, None), "exercise", None)
        if checker_ex is None or checker_ex.number != number:
            raise ValueError(f"{where}: Exercise {number} is checked with {checker}, which "
                             f"checks Exercise {getattr(checker_ex, 'number', '?')}")
        verdict = exercises.run_check(exercises.exercise(number), namespace[functions[0]])
        results.append(SolutionCheck(number, functions[0], checker, verdict))
    return results


# --------------------------------------------------------------------------- command line

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="chapter notebooks (default: the book's chapters)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if an exercise notebook is out of date")
    args = parser.parse_args(argv)
    chapters = args.notebooks or book.chapter_paths()
    stale = generate(chapters, check=args.check)
    if args.check:
        if stale:
            print("Out of date (run `make student`):\n" +
                  "\n".join(f"  {book.relative(p)}" for p in stale), file=sys.stderr)
            return 1
        print(f"The exercise notebooks and reader copies of {len(chapters)} chapter(s) are "
              "up to date.")
        return 0
    for chapter in chapters:
        for out, make in outputs(chapter).items():
            if make is None:
                print(f"{'removed' if out in stale else 'none (no exercises)'}: "
                      f"{book.relative(out)}")
            else:
                print(f"{'wrote' if out in stale else 'unchanged'}: {book.relative(out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
