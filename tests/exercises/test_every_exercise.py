"""What every exercise of every chapter must do: its reference passes with one line of output,
and broken learner code (raises, returns None or the wrong type, prints, is not a function, is
not implemented yet, loops forever) gets a verdict instead of a traceback, and the notebook
carries on with the reference; checking that reference again never passes it as the learner's.
"""
from __future__ import annotations

import dataclasses

import pytest

from helpers.exercises import EXERCISES, failing_case, run_check
from tests.exercises.harness import checkers_of, hands_back_reference

CHECKERS = checkers_of()
FIRST_OF_EACH_CHAPTER = sorted({n.split(".")[0]: n for n in reversed(CHECKERS)}.values())


def test_every_exercise_has_a_checker():
    assert sorted(CHECKERS) == sorted(EXERCISES)


@pytest.mark.parametrize("number", sorted(CHECKERS))
def test_reference_passes(number, capsys):
    checker = CHECKERS[number]
    assert checker.exercise.number == number
    assert checker(checker.exercise.reference) is checker.exercise.reference
    out = capsys.readouterr().out
    assert out.startswith(f"✅ Exercise {number} passed (") and out.count("\n") == 1


def raises(*args, **kwargs):
    raise KeyError("oops")


def returns_none(*args, **kwargs):
    return None


def not_implemented(*args, **kwargs):
    raise NotImplementedError("Exercise x.y")


def forever(*args, **kwargs):
    while True:
        pass


@pytest.mark.parametrize("number", sorted(CHECKERS))
def test_broken_code_is_handled(number, capsys):
    checker = CHECKERS[number]
    ex = checker.exercise
    assert run_check(ex, returns_none).status == "bad_type"
    assert run_check(ex, 42).status == "bad_type"
    assert hands_back_reference(checker(raises), ex)
    assert f"❌ Exercise {number}: your code raised KeyError" in capsys.readouterr().out
    assert hands_back_reference(checker(not_implemented), ex)
    assert capsys.readouterr().out.startswith(f"⏳ Exercise {number} is not implemented yet")


def returns_text(*args, **kwargs):
    return "my answer"


@pytest.mark.parametrize("number", sorted(CHECKERS))
def test_a_wrong_type_is_named(number):
    verdict = run_check(CHECKERS[number].exercise, returns_text)
    assert verdict.status in ("bad_type", "wrong") and "str" in verdict.message


@pytest.mark.parametrize("number", sorted(CHECKERS))
def test_printing_while_computing_still_passes(number, capsys):
    reference = CHECKERS[number].exercise.reference

    def chatty(*args, **kwargs):
        print("debugging:", len(args))
        return reference(*args, **kwargs)

    assert run_check(CHECKERS[number].exercise, chatty).passed


@pytest.mark.parametrize("number", sorted(CHECKERS))
@pytest.mark.parametrize("broken", [raises, returns_none, not_implemented, 42],
                         ids=["raises", "returns None", "stub", "not a function"])
def test_a_rerun_never_passes_the_reference(number, broken, capsys):
    """``x = check_x(x)`` run twice: the second run names the reference, the third too."""
    checker = CHECKERS[number]
    handed_back = checker(broken)
    capsys.readouterr()
    for _ in range(2):
        assert checker(handed_back) is handed_back
        out = capsys.readouterr().out
        assert "✅" not in out and "this is the reference solution: re-run your cell above" in out


@pytest.mark.parametrize("number", sorted(CHECKERS))
def test_failing_case_hands_over_the_case_that_failed(number):
    run_check(CHECKERS[number].exercise, raises)
    case = failing_case(number)
    expected = CHECKERS[number].exercise.reference(*case.args, **case.kwargs)
    assert type(expected) is type(case.expected) and case.got is None


@pytest.mark.parametrize("number", FIRST_OF_EACH_CHAPTER)
def test_an_endless_loop_times_out(number):
    quick = dataclasses.replace(CHECKERS[number].exercise, time_limit=0.3)
    verdict = run_check(quick, forever)
    assert verdict.status == "timeout" and "took longer than 0.3 s" in verdict.message
