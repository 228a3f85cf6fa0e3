"""The course's exercises: one checker per exercise, ``check_<name>(fn)``.

In a notebook::

    from helpers.exercises import check_dense_params
    dense_params = check_dense_params(dense_params)   # prints a verdict, returns a function

Every ``helpers/exercises/chNN.py`` module is imported here automatically; the names in its
``__all__`` are re-exported, and its ``EXERCISES`` list is collected into :data:`EXERCISES`
(``{"1.1": Exercise, ...}``). The framework is documented in :mod:`helpers.exercises.core`.
"""
from __future__ import annotations

import importlib
import pkgutil
import re

from helpers.exercises.core import Case, Exercise, Mistake, Verdict, check, checker, run_check

__all__ = ["EXERCISES", "Case", "Exercise", "Mistake", "Verdict", "check", "checker",
           "exercise", "run_check"]

EXERCISES: dict[str, Exercise] = {}
_CHAPTER_MODULE = re.compile(r"^ch(\d{2})$")


def _load_chapter_modules() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        match = _CHAPTER_MODULE.match(info.name)
        if not match:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for name in getattr(module, "__all__", []):
            globals()[name] = getattr(module, name)
            __all__.append(name)
        for ex in getattr(module, "EXERCISES", []):
            if ex.number.split(".")[0] != str(int(match.group(1))):
                raise ValueError(f"{info.name}: Exercise {ex.number} belongs to another chapter")
            if ex.number in EXERCISES:
                raise ValueError(f"{info.name}: Exercise {ex.number} is defined twice")
            EXERCISES[ex.number] = ex


def exercise(number: str) -> Exercise:
    """The Exercise with this number, e.g. ``exercise("1.2")``."""
    try:
        return EXERCISES[str(number)]
    except KeyError:
        raise ValueError(f"no exercise {number!r}; known: {sorted(EXERCISES)}") from None


_load_chapter_modules()
