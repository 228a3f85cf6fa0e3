"""The course's exercises: one checker per exercise, ``check_<name>(fn)``.

In a notebook::

    from helpers.exercises import check_dense_params
    dense_params = check_dense_params(dense_params)   # prints a verdict, returns a function

Each chapter's checkers live in ``helpers/exercises/chNN.py``. This package finds every
``chNN`` module by itself (:data:`CHAPTER_MODULES`, in chapter order), re-exports the names in
each module's ``__all__`` and collects each module's ``EXERCISES`` list into :data:`EXERCISES`
(``{"1.1": Exercise, ...}``): a new chapter's module needs no entry here. The framework is
documented in :mod:`helpers.exercises.core`.
"""
from __future__ import annotations

import importlib
import pkgutil
import re
from types import ModuleType

from helpers.exercises.core import (
    Case,
    Exercise,
    Mistake,
    Verdict,
    check,
    checker,
    failing_case,
    is_reference,
    run_check,
)

CHAPTER_MODULE = re.compile(r"ch\d{2}")


def _chapter_modules() -> tuple[ModuleType, ...]:
    """Every ``helpers/exercises/chNN.py``, imported, in chapter order."""
    names = sorted(m.name for m in pkgutil.iter_modules(__path__)
                   if CHAPTER_MODULE.fullmatch(m.name))
    return tuple(importlib.import_module(f"{__name__}.{name}") for name in names)


CHAPTER_MODULES = _chapter_modules()


def _checkers(modules) -> dict[str, object]:
    """The names each chapter module offers (its ``__all__``), each name once."""
    offered: dict[str, object] = {}
    for module in modules:
        for name in module.__all__:
            if name in offered:
                raise ValueError(f"{module.__name__}: {name} is offered by another chapter too")
            offered[name] = getattr(module, name)
    return offered


def _collect(modules) -> dict[str, Exercise]:
    """``{"1.1": Exercise, ...}`` from the modules' ``EXERCISES`` lists, each number once and in
    its own chapter."""
    found: dict[str, Exercise] = {}
    for module in modules:
        chapter = str(int(module.__name__.rsplit(".ch", 1)[1]))
        for ex in module.EXERCISES:
            if ex.number.split(".")[0] != chapter:
                raise ValueError(f"{module.__name__}: Exercise {ex.number} belongs to another "
                                 "chapter")
            if ex.number in found:
                raise ValueError(f"{module.__name__}: Exercise {ex.number} is defined twice")
            found[ex.number] = ex
    return found


EXERCISES: dict[str, Exercise] = _collect(CHAPTER_MODULES)


def exercise(number: str) -> Exercise:
    """The Exercise with this number, e.g. ``exercise("1.2")``."""
    try:
        return EXERCISES[str(number)]
    except KeyError:
        raise ValueError(f"no exercise {number!r}; known: {sorted(EXERCISES)}") from None


_CHECKERS = _checkers(CHAPTER_MODULES)
globals().update(_CHECKERS)

__all__ = [
    "CHAPTER_MODULES", "EXERCISES", "Case", "Exercise", "Mistake", "Verdict", "check", "checker",
    "exercise", "failing_case", "is_reference", "run_check", *_CHECKERS,
]
