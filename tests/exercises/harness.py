"""Shared checks for the per-chapter exercise tests (tests/exercises/test_chNN.py).

What every exercise must do (its reference passes, broken code is handled) is tested once, for
all of them, in ``test_every_exercise.py``. Each chapter's test file lists its mutants (wrong
solutions written the way a learner would write them) and gets the two mutant tests from
:func:`mutant_tests`, so every chapter is held to the same bar: every mutant is rejected with its
diagnosis, and every exercise has at least five mutants.
"""
from __future__ import annotations

import pytest

import helpers.exercises
from helpers.exercises import is_reference, run_check

MIN_MUTANTS = 8      # wrong solutions per exercise, each rejected
MIN_DIAGNOSED = 5    # of which at least this many with a named cause (or a type/error verdict)
MAX_TEXT_LINES = 7   # verdict lines, not counting the failing case shown in full


def checkers_of(chapter: int | None = None) -> dict:
    """``{"1.1": check_dense_params, ...}``: every checker in :mod:`helpers.exercises` (of one
    chapter when ``chapter`` is given)."""
    found = {}
    for name in helpers.exercises.__all__:
        if name.startswith("check_"):
            checker = getattr(helpers.exercises, name)
            number = checker.exercise.number
            if chapter is None or number.split(".")[0] == str(chapter):
                found[number] = checker
    return dict(sorted(found.items()))


def assert_mutant_diagnosed(checker, number: str, mutant, status: str, text: str) -> None:
    """A wrong solution gets the expected status and a short message naming the mistake."""
    verdict = run_check(checker.exercise, mutant)
    assert verdict.status == status, verdict.message
    assert text in verdict.message, verdict.message
    assert verdict.message.startswith(f"❌ Exercise {number}: ")
    assert len(text_lines(verdict.message)) <= MAX_TEXT_LINES
    assert_named_cause_reproduces(checker.exercise, mutant, verdict)


def assert_named_cause_reproduces(exercise, mutant, verdict) -> None:
    """A cause named from a Mistake reproduces every failing case, or the message says that it
    only partly explains them (and then it reproduces a majority)."""
    from helpers.exercises.core import _call, _compare, _reproduces, _seeded
    if verdict.mistake is None:
        return
    with _seeded(exercise.seed):
        cases = exercise.make_cases()
        failing, explained = 0, 0
        for case in cases:
            try:
                got = _call(mutant, case)
            except Exception:
                continue
            if _compare(exercise, got, _call(exercise.reference, case), case) is None:
                continue
            failing += 1
            explained += _reproduces(exercise, verdict.mistake, case, got)
    if "partly explains" in (verdict.diagnosis or ""):
        assert 2 * explained > failing, (explained, failing)
    else:
        assert explained == failing, (explained, failing, verdict.diagnosis)


def text_lines(message: str) -> list[str]:
    """The lines of a verdict, less those of a failing case shown in full (indented 5+)."""
    return [line for line in message.splitlines() if not line.startswith("     ")]


def hands_back_reference(result, exercise) -> bool:
    """Is ``result`` the marked reference of ``exercise``, as a failed check returns it?"""
    return is_reference(result) and getattr(result, "__wrapped__", None) is exercise.reference


def named_mutants(number: str, template, rows, status: str = "wrong") -> list:
    """``MUTANTS`` rows ``(number, mutant, status, text)`` from a table: one per ``(name, text,
    slips)`` row, the mutant being ``template(**slips)`` (a learner's function with the slips it
    makes passed in) under the row's name, which is the test's id."""
    found = []
    for name, text, slips in rows:
        mutant = template(**slips)
        mutant.__name__ = mutant.__qualname__ = name
        found.append((number, mutant, status, text))
    return found


def with_slips(fn):
    """A mutant maker for :func:`named_mutants`: ``fn`` is a learner's function that takes the
    slips it may make as keywords; each mutant calls it with its row's slips."""
    def make(**slips):
        def mutant(*args, **kwargs):
            return fn(*args, **kwargs, **slips)
        return mutant
    return make


def mutant_tests(checkers: dict, mutants: list):
    """The two tests every chapter runs on its ``MUTANTS`` list of
    ``(number, mutant, status, text)``; assign them to module-level ``test_*`` names."""

    @pytest.mark.parametrize("number, mutant, status, text", mutants,
                             ids=[f"{n}-{m.__name__}" for n, m, _, _ in mutants])
    def test_mutant_is_rejected_with_the_right_diagnosis(number, mutant, status, text):
        assert_mutant_diagnosed(checkers[number], number, mutant, status, text)

    def test_each_exercise_has_at_least_five_diagnosed_mutants():
        counts = dict.fromkeys(checkers, 0)
        diagnosed = dict.fromkeys(checkers, 0)
        for number, mutant, _, _ in mutants:
            verdict = run_check(checkers[number].exercise, mutant)
            counts[number] += not verdict.passed
            diagnosed[number] += bool(verdict.diagnosis) or verdict.status in ("bad_type", "error")
        assert all(n >= MIN_MUTANTS for n in counts.values()), counts
        assert all(n >= MIN_DIAGNOSED for n in diagnosed.values()), diagnosed

    return (test_mutant_is_rejected_with_the_right_diagnosis,
            test_each_exercise_has_at_least_five_diagnosed_mutants)
