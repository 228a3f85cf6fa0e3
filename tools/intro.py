"""The landing page's generated parts: its picture, a sample checker message and the chapter map.

    python -m tools.intro            # rewrite the marked blocks of intro.md and the picture
    python -m tools.intro --check    # exit 1 if intro.md's blocks are out of date

``intro.md`` keeps its prose; between ``<!-- intro:NAME:start -->`` and ``<!-- intro:NAME:end -->``
this module writes

- ``checker``: what a checker prints for a typical wrong answer (the first named mistake of
  exercise :data:`SAMPLE_EXERCISE`, run through the real checker);
- ``chapters``: one row per chapter with its reading time (words in its text at
  :data:`WORDS_PER_MINUTE`), its exercises and the time its code takes to run on two CPU cores
  (``tools/timings.json``, written by ``make bench``).

The picture, :data:`PICTURE`, is chapter 6's LeNet-5 (the website's digit explorer weights,
``tools/static/explorers``) reading the first MNIST test digit, drawn by
``helpers.plots.lenet_digit.draw_lenet_digit``.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

from tools import book, timings

INTRO = book.ROOT / "intro.md"
PICTURE = book.ROOT / "chapters" / "images" / "intro_lenet_digit.png"
SAMPLE_EXERCISE = "2.1"
WORDS_PER_MINUTE = 150      # technical text with formulas and figures reads slowly
_BLOCK = "<!-- intro:{name}:{end} -->"


def reading_minutes(nb) -> int:
    """Minutes to read a chapter's markdown cells, rounded up to a multiple of 5."""
    words = sum(len(c.source.split()) for c in nb.cells if c.cell_type == "markdown")
    return 5 * max(1, -(-words // (5 * WORDS_PER_MINUTE)))


def exercise_count(nb) -> int:
    return sum(bool(re.search(r"^### Exercise \d+\.\d+", c.source, re.M))
               for c in nb.cells if c.cell_type == "markdown")


def chapters_block() -> str:
    seconds = timings.load()
    lines = ["| # | Chapter | Reading | Exercises | Running every cell |",
             "|---|---|---:|---:|---:|"]
    for chapter in book.chapters():
        nb = nbformat.read(chapter.notebook, as_version=4)
        run = seconds.get(chapter.name)
        run_text = f"about {timings.rounded(run)} s" if run else "—"
        title = re.sub(r"^\d+\.\s*", "", chapter.title)
        lines.append(f"| {chapter.number} | [{title}](chapters/{chapter.notebook.name}) "
                     f"| {reading_minutes(nb)} min | {exercise_count(nb)} | {run_text} |")
    return "\n".join(lines)


def checker_block() -> str:
    from helpers.exercises import EXERCISES, run_check

    exercise = EXERCISES[SAMPLE_EXERCISE]
    mistake = next(m for m in exercise.mistakes if m.message)
    verdict = run_check(exercise, mistake.fn)
    return "```text\n" + str(verdict).strip() + "\n```"


def replace_block(text: str, name: str, body: str) -> str:
    start, end = _BLOCK.format(name=name, end="start"), _BLOCK.format(name=name, end="end")
    if start not in text or end not in text:
        raise ValueError(f"intro.md has no {start} ... {end} block")
    return timings.replaced(text, f"{start}\n{body}\n{end}", start, end)


def render(text: str) -> str:
    text = replace_block(text, "chapters", chapters_block())
    return replace_block(text, "checker", checker_block())


def draw_picture(path: Path = PICTURE) -> None:
    import matplotlib
    matplotlib.use("Agg")
    from helpers.data import MNIST_NORM, load_mnist
    from helpers.plots.lenet_digit import draw_lenet_digit
    from tools.export_lenet import load_model

    model, _ = load_model()
    _, _, x_test, y_test = load_mnist()
    import torch

    x = torch.tensor(x_test[:1], dtype=torch.float32) / 255
    x = (x - MNIST_NORM["mean"]) / MNIST_NORM["std"]
    fig = draw_lenet_digit(model, x.reshape(1, 1, 28, 28), label=int(y_test[0]))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, metadata={"Software": None})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if intro.md is out of date")
    args = parser.parse_args(argv)
    text = INTRO.read_text(encoding="utf-8")
    new = render(text)
    if args.check:
        if new != text:
            print("intro.md is out of date: run python -m tools.intro", file=sys.stderr)
            return 1
        return 0
    INTRO.write_text(new, encoding="utf-8")
    draw_picture()
    print(f"wrote {book.relative(INTRO)} and {book.relative(PICTURE)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
