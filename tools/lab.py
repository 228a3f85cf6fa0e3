"""JupyterLab on the chapters: what ``make lab`` runs.

    python -m tools.lab [jupyter lab options...]

Starts ``jupyter lab`` with the chapters folder as its root (:func:`command`). Run as root (a
container, a cloud machine), it adds ``--allow-root``, without which Jupyter refuses to start.
Further options are passed on. ``tests/tools/test_lab.py`` starts the server with the same
:func:`command`, headless, and reads a chapter through its contents API, so the test and
``make lab`` cannot disagree.
"""
from __future__ import annotations

import os
import sys

from tools import book


def running_as_root() -> bool:
    """Whether this process runs as root (never on Windows, which has no user ids)."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def arguments(root: bool | None = None) -> list[str]:
    """The options ``make lab`` gives ``jupyter lab``: the chapters folder as its root, and
    ``--allow-root`` when ``root`` (default: when this process runs as root)."""
    root = running_as_root() if root is None else root
    return [f"--ServerApp.root_dir={book.CHAPTERS_DIR}", *(["--allow-root"] if root else [])]


def command(extra=(), root: bool | None = None) -> list[str]:
    """``jupyter lab`` of this interpreter's environment with :func:`arguments`, then
    ``extra``."""
    return [sys.executable, "-m", "jupyterlab", *arguments(root), *extra]


def main(argv: list[str] | None = None) -> None:
    """Replace this process by JupyterLab (Ctrl-C then goes to Jupyter alone).

    A learner's kernels show progress bars: the Makefile's ``CNN_COURSE_NO_PROGRESS`` (from
    ``tools/kernel.env``) is for stored outputs only, so it is dropped here.
    """
    argv = sys.argv[1:] if argv is None else argv
    os.environ.pop("CNN_COURSE_NO_PROGRESS", None)
    cmd = command(argv)
    print(" ".join(cmd), file=sys.stderr, flush=True)
    os.execv(cmd[0], cmd)


if __name__ == "__main__":
    main()
