"""Shared assertions for the per-chapter exercise tests (tests/test_exercises_chNN.py).

Each chapter's test file lists its checkers and its mutants (wrong solutions written the way a
learner would write them) and calls these, so every chapter is held to the same bar: the
reference passes with one line of output, and every mutant is rejected with its diagnosis.
"""
from __future__ import annotations

from helpers.exercises import run_check


def assert_reference_passes(checker, number: str, capsys) -> None:
    """The reference solution passes, is returned, and the verdict is one ✅ line."""
    assert checker.exercise.number == number
    assert checker(checker.exercise.reference) is checker.exercise.reference
    out = capsys.readouterr().out
    assert out.startswith(f"✅ Exercise {number} passed (") and out.count("\n") == 1


def assert_mutant_diagnosed(checker, number: str, mutant, status: str, text: str) -> None:
    """A wrong solution gets the expected status and a short message naming the mistake."""
    verdict = run_check(checker.exercise, mutant)
    assert verdict.status == status, verdict.message
    assert text in verdict.message, verdict.message
    assert verdict.message.startswith(f"❌ Exercise {number}: ")
    assert len(verdict.message.splitlines()) <= 5


def assert_three_diagnosed_mutants_each(checkers: dict, mutants: list) -> None:
    """Every exercise has at least three mutants rejected with a named mistake or type error."""
    counts = dict.fromkeys(checkers, 0)
    for number, mutant, _, _ in mutants:
        verdict = run_check(checkers[number].exercise, mutant)
        counts[number] += verdict.mistake is not None or verdict.status == "bad_type"
    assert all(n >= 3 for n in counts.values()), counts
