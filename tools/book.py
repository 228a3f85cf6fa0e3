"""The book as data: repository paths, the chapter list and each chapter's metadata.

Every tool and test asks this module where things are, so a path, the chapter list, a budget
or a Colab address is defined once:

    from tools import book
    for chapter in book.chapters():
        print(chapter.number, chapter.title, chapter.budget_seconds, chapter.colab_url)

Chapters are the entries of ``_toc.yml`` named ``chapters/NN_slug`` with a notebook
``chapters/NN_slug.ipynb``. The repository address (for Colab links) is ``repository.url``
and ``repository.branch`` in ``_config.yml``; the website's address (for links in learner
notebooks) is ``html.baseurl`` there. A fork changes those two settings and nothing else.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS_DIR = ROOT / "chapters"
EXERCISES_DIR = CHAPTERS_DIR / "exercises"
READER_DIR = CHAPTERS_DIR / "colab"       # reader copies: what "open in Colab" opens
BUILD_DIR = ROOT / "_build"
TOC = ROOT / "_toc.yml"
CONFIG = ROOT / "_config.yml"
STATIC_DIR = ROOT / "tools" / "static"    # html_static_path in _config.yml: the site's _static/
EXPLORERS_DIR = STATIC_DIR / "explorers"  # the live explorers' JS, CSS and weights
KERNEL_ENV = ROOT / "tools" / "kernel.env"  # the kernels' environment (see kernel_env())
CHAPTER_NAME = re.compile(r"(\d{2})_([a-z0-9_]+)")
COLAB = "https://colab.research.google.com/github"
SOLUTION_TAG = "solution"                 # a chapter's exercise cells (see tools.student)
LINKS_TAG = "exercise-links"              # a chapter's "run it yourself" cell (tools.notebooks)


def budget_for(number: int) -> int:
    """CPU budget on 2 cores: 60 s for chapters 1-5, 90 s for chapters 6-10 (the architectures,
    what a trained network sees, the summary)."""
    return 60 if number <= 5 else 90


def exercise_path(notebook: Path) -> Path:
    """``chapters/NN_slug.ipynb`` -> ``chapters/exercises/NN_slug_exercises.ipynb``."""
    notebook = Path(notebook)
    return notebook.parent / "exercises" / f"{notebook.stem}_exercises.ipynb"


def reader_path(notebook: Path) -> Path:
    """``chapters/NN_slug.ipynb`` -> ``chapters/colab/NN_slug.ipynb`` (its reader copy)."""
    notebook = Path(notebook)
    return notebook.parent / READER_DIR.name / notebook.name


def has_exercises(nb) -> bool:
    """Whether a chapter notebook has exercises (code cells tagged ``solution``)."""
    return any(c.cell_type == "code" and SOLUTION_TAG in c.get("metadata", {}).get("tags", [])
               for c in nb.cells)


def notebook_title(nb) -> str:
    """The text of the first ``# `` heading of a notebook, else ``""``."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    return ""


def relative(path: Path) -> str:
    """``path`` relative to the repository root (POSIX), or as given when outside it."""
    try:
        return Path(path).resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


@cache
def config() -> dict:
    """``_config.yml`` as a dict."""
    return yaml.safe_load(CONFIG.read_text(encoding="utf-8"))


def heading_anchor_depth() -> int:
    """How deep MyST gives headings anchors (``myst_heading_anchors`` in ``_config.yml``:
    3 means ``#`` to ``###``)."""
    return int(config()["sphinx"]["config"]["myst_heading_anchors"])


def kernel_env(path: Path = KERNEL_ENV) -> dict[str, str]:
    """The environment every chapter kernel runs with, from ``tools/kernel.env``.

    One ``NAME=value`` per line (``#`` starts a comment line). The Makefile includes the same
    file and exports those names, and ``python -m tools.notebooks`` passes them to the kernels
    it starts, so ``make test``, ``make execute`` and the tools run chapters alike.
    """
    env = {}
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if not sep or not re.fullmatch(r"[A-Z_][A-Z0-9_]*", name.strip()):
            raise ValueError(f"{relative(path)}:{number}: expected NAME=value, got {line!r}")
        env[name.strip()] = value.strip()
    return env


def repository() -> tuple[str, str]:
    """(url, branch) of the repository from ``_config.yml``."""
    repo = config()["repository"]
    return repo["url"].rstrip("/"), repo.get("branch", "main")


def site_url() -> str:
    """The website's address from ``html.baseurl`` in ``_config.yml``, ending in ``/``."""
    return config()["html"]["baseurl"].rstrip("/") + "/"


def page_url(page: str) -> str:
    """The website address of ``page``, a source path relative to the root without suffix
    (``chapters/02_convolution_and_padding``)."""
    return f"{site_url()}{page}.html"


def colab_url(path: Path | str) -> str:
    """The Colab address opening ``path`` (a file of this repository) from GitHub."""
    url, branch = repository()
    owner_repo = re.sub(r"^https?://(www\.)?github\.com/", "", url).removesuffix(".git")
    rel = relative(path) if Path(path).is_absolute() else Path(path).as_posix()
    return f"{COLAB}/{owner_repo}/blob/{branch}/{rel}"


@dataclass(frozen=True)
class Chapter:
    """One chapter notebook and what the tools need to know about it."""

    number: int
    slug: str
    title: str
    notebook: Path
    exercise_notebook: Path | None    # None: the chapter has no exercises
    reader_notebook: Path             # the copy "open in Colab" opens (tools.student)
    budget_seconds: int
    colab_url: str
    exercise_colab_url: str | None

    @property
    def name(self) -> str:
        """``NN_slug``: the notebook's stem and its entry in ``_toc.yml``."""
        return self.notebook.stem


def number_of(path: Path | str) -> int:
    """``chapters/07_residual_networks.ipynb`` -> 7; ValueError for other names."""
    m = CHAPTER_NAME.match(Path(path).name)
    if not m:
        raise ValueError(f"{Path(path).name}: chapter notebooks are named NN_slug.ipynb")
    return int(m.group(1))


def chapter(path: Path | str, nb=None) -> Chapter:
    """The metadata of the chapter notebook at ``path`` (``nb``: the notebook, if already read).

    Works for any ``NN_slug.ipynb``, also outside the repository (tests use copies).
    """
    path = Path(path)
    number = number_of(path)
    nb = nb if nb is not None else nbformat.read(path, as_version=4)
    exercise = exercise_path(path) if has_exercises(nb) else None
    reader = reader_path(path)
    return Chapter(number=number, slug=CHAPTER_NAME.match(path.name).group(2),
                   title=notebook_title(nb), notebook=path, exercise_notebook=exercise,
                   reader_notebook=reader, budget_seconds=budget_for(number),
                   colab_url=colab_url(f"chapters/{READER_DIR.name}/{reader.name}"),
                   exercise_colab_url=exercise and colab_url(
                       f"chapters/{EXERCISES_DIR.name}/{exercise.name}"))


def toc_files() -> list[str]:
    """Every ``file`` entry of ``_toc.yml`` (root first), in book order."""
    toc = yaml.safe_load(TOC.read_text(encoding="utf-8"))
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [entry["file"] for entry in part.get("chapters", [])]
    return files


def chapter_paths() -> list[Path]:
    """The chapter notebooks listed in ``_toc.yml``, in book order."""
    names = (Path(f).name for f in toc_files() if f.startswith("chapters/"))
    return [CHAPTERS_DIR / f"{n}.ipynb" for n in names
            if CHAPTER_NAME.fullmatch(n) and (CHAPTERS_DIR / f"{n}.ipynb").is_file()]


def chapters(paths=None) -> list[Chapter]:
    """Metadata of the given chapter notebooks (default: the book's, from ``_toc.yml``)."""
    return [chapter(p) for p in (chapter_paths() if paths is None else map(Path, paths))]


def chapter_files() -> list[Path]:
    """Every ``chapters/NN_*.ipynb`` on disk, listed in the book or not (for hygiene tests)."""
    return sorted(CHAPTERS_DIR.glob("[0-9][0-9]_*.ipynb"))
