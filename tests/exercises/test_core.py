"""The exercise framework on a toy exercise, and every registered exercise's own consistency.

Toy exercise 0.1: ``affine(x, k=1.0) = 2x + k`` on float64 vectors, with one known mistake.
"""
from __future__ import annotations

import random
import threading
import time

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.exercises import (
    EXERCISES,
    Case,
    Exercise,
    Mistake,
    check,
    checker,
    failing_case,
    is_reference,
    run_check,
)
from helpers.exercises.core import STATUSES, compare_outputs, generic_hint
from tests.exercises.harness import hands_back_reference

NOT_IMPLEMENTED = ("⏳ Exercise 0.1 is not implemented yet — using the reference implementation "
                   "so the rest of the notebook runs.")


def affine(x, k=1.0):
    """(N,) -> (N,): 2x + k."""
    return 2 * x + k


def _forgot_k(x, k=1.0):
    return 2 * x


def _cases(rng):
    return [Case((rng.standard_normal(5),)), Case((rng.standard_normal(7),), {"k": -0.5}),
            Case((np.arange(4.0),), {"k": 3.0}, label="integers")]


def toy(**kwargs) -> Exercise:
    options = dict(number="0.1", title="Toy affine map", reference=affine, cases=_cases,
                   mistakes=[Mistake("you forgot to add k.", _forgot_k)], time_limit=5.0)
    options.update(kwargs)
    return Exercise(**options)


# --------------------------------------------------------------------------- verdicts

def test_reference_passes_and_check_returns_the_learner_function(capsys):
    def mine(x, k=1.0):
        return x + x + k

    assert check(toy(), mine) is mine
    assert capsys.readouterr().out == "✅ Exercise 0.1 passed (3 cases)\n"
    verdict = run_check(toy(), affine)
    assert verdict.passed and verdict.status == "passed" and verdict.n_cases == 3


def test_wrong_answer_is_diagnosed_by_its_mistake(capsys):
    def mine(x, k=1.0):
        return x * 2.0

    verdict = run_check(toy(), mine)
    assert verdict.status == "wrong" and not verdict.passed
    assert verdict.diagnosis == "you forgot to add k." and verdict.mistake.fn is _forgot_k
    assert verdict.message.startswith("❌ Exercise 0.1: wrong result in 3 of 3 cases.")
    assert "Likely cause: you forgot to add k." in verdict.message
    assert "First failing case #1" in verdict.message
    assert hands_back_reference(check(toy(), mine), toy())  # the reference stands in
    assert "reference implementation is used" in capsys.readouterr().out


def test_learner_exception_is_reported_with_type_and_line():
    def mine(x, k=1.0):
        scale = 2 / 0
        return scale * x

    verdict = run_check(toy(), mine)
    assert verdict.status == "error"
    assert "raised ZeroDivisionError: division by zero" in verdict.message
    assert "in `mine`" in verdict.message and "scale = 2 / 0" in verdict.message


def test_none_and_wrong_types():
    def no_return(x, k=1.0):
        2 * x + k

    messages = {
        "none": run_check(toy(), no_return).message,
        "list": run_check(toy(), lambda x, k=1.0: list(2 * x + k)).message,
        "torch": run_check(toy(), lambda x, k=1.0: torch.from_numpy(2 * x + k)).message,
        "dtype": run_check(toy(), lambda x, k=1.0: (2 * x + k).astype(np.float32)).message,
    }
    assert "returned None — did you forget `return`?" in messages["none"]
    assert "returned a list; expected a NumPy array" in messages["list"]
    assert "returned a torch tensor; expected a NumPy array" in messages["torch"]
    assert "dtype float32; expected float64" in messages["dtype"]
    assert all(run_check(toy(), f).status == "bad_type" for f in
               (no_return, lambda x, k=1.0: list(2 * x + k)))


def test_torch_dtype_device_and_scalar_types():
    assert "dtype torch.float64; expected torch.float32" in compare_outputs(
        torch.zeros(2, dtype=torch.float64), torch.zeros(2)).text
    assert "on meta; expected it on cpu" in compare_outputs(
        torch.zeros(2, device="meta"), torch.zeros(2)).text
    assert "returned a NumPy array; expected a torch tensor" in compare_outputs(
        np.zeros(2), torch.zeros(2)).text
    assert "expected an int — use `//`" in compare_outputs(6.0, 6).text
    assert "use `.item()`" in compare_outputs(torch.tensor(6), 6).text
    assert compare_outputs(np.int64(6), 6) is None and compare_outputs(np.float64(0.5), 0.5) is None
    assert compare_outputs((1, np.ones(2)), (1, np.ones(2))) is None
    assert "element [1]" in compare_outputs((1, np.zeros(2)), (1, np.ones(2))).text


def test_too_slow_is_stopped_with_a_timeout_message():
    def mine(x, k=1.0):
        while True:
            time.sleep(0.02)

    threads = threading.active_count()
    start = time.perf_counter()
    verdict = run_check(toy(time_limit=0.5), mine)
    assert time.perf_counter() - start < 3
    assert verdict.status == "timeout"
    assert ("took longer than 0.5 s — is there an infinite loop, or loops where vectorised code "
            "is expected?") in verdict.message
    deadline = time.perf_counter() + 2
    while threading.active_count() > threads and time.perf_counter() < deadline:
        time.sleep(0.02)
    assert threading.active_count() == threads, "the runaway learner thread was not stopped"


def test_input_modified_in_place_is_detected():
    def mine(x, k=1.0):
        x *= 2
        x += k
        return x

    verdict = run_check(toy(), mine)
    assert verdict.status == "wrong"
    assert "values match, but you changed `x` in place" in verdict.message
    assert run_check(toy(allow_inplace=True), mine).passed


def test_wrong_and_in_place_mentions_both():
    def mine(x, k=1.0):
        x[:] = 0
        return x + k

    message = run_check(toy(), mine).message
    assert "wrong result" in message and "Also: your function changed its input `x`" in message


def test_not_implemented_uses_the_reference(capsys):
    def mine(x, k=1.0):
        raise NotImplementedError("Exercise 0.1: Toy affine map")

    verdict = run_check(toy(), mine)
    assert verdict.status == "not_implemented" and verdict.message == NOT_IMPLEMENTED
    assert hands_back_reference(check(toy(), mine), toy())
    assert capsys.readouterr().out == NOT_IMPLEMENTED + "\n"


def test_checker_failures_never_escape(capsys):
    def broken_cases(rng):
        raise RuntimeError("bad cases")

    broken = [toy(cases=broken_cases), toy(reference=lambda x, k=1.0: 1 / 0),
              toy(compare=lambda got, expected: 1 / 0)]
    for ex in broken:
        verdict = run_check(ex, affine)
        assert verdict.status == "checker_error"
        assert "checker error, please report" in verdict.message
        assert hands_back_reference(check(ex, affine), ex)
    assert capsys.readouterr().out.count("checker error, please report") == 3
    assert check(None, affine) is affine  # even nonsense arguments
    assert "checker error, please report" in capsys.readouterr().out


def test_a_non_function_is_rejected():
    verdict = run_check(toy(), 42)
    assert verdict.status == "bad_type" and "expected a function, got an int" in verdict.message


def test_checker_factory_and_statuses():
    check_affine = checker(toy())
    assert check_affine.__name__ == "check_affine" and check_affine.exercise.number == "0.1"
    assert "Exercise 0.1: Toy affine map" in check_affine.__doc__
    assert {"passed", "wrong", "not_implemented", "error", "timeout", "bad_type"} <= set(STATUSES)
    with pytest.raises(ValueError, match="number"):
        toy(number="one")


def test_output_is_deterministic_and_global_rngs_are_untouched():
    random.seed(1)
    np.random.seed(1)
    torch.manual_seed(1)
    states = (random.getstate(), np.random.get_state()[1].copy(), torch.get_rng_state())

    def mine(x, k=1.0):
        return 2 * x + k + np.random.random() + torch.rand(1).item()

    first, second = run_check(toy(), mine).message, run_check(toy(), mine).message
    assert first == second and "0x" not in first
    assert random.getstate() == states[0]
    assert np.array_equal(np.random.get_state()[1], states[1])
    assert torch.equal(torch.get_rng_state(), states[2])


@pytest.mark.parametrize("got, expected, text", [
    (np.zeros((3, 4)), np.zeros((3, 5)), "one too few along axis 1"),
    (np.arange(12.0).reshape(3, 4).T, np.arange(12.0).reshape(3, 4), "transposed"),
    (np.arange(12.0).reshape(4, 3), np.arange(12.0).reshape(3, 4), "swapped"),
    (np.arange(12.0) + 0.5, np.arange(12.0), "off by the same constant (+0.5)"),
    (np.arange(1, 13.0) * 3, np.arange(1, 13.0), "same factor (×3)"),
    (np.arange(12.0)[::-1], np.arange(12.0), "mirrored left-right"),
    (np.roll(np.arange(20.0).reshape(4, 5), 1, axis=0), np.arange(20.0).reshape(4, 5),
     "moved by +1 rows and +0 columns"),
    (np.array([1.0, np.nan]), np.array([1.0, 2.0]), "NaN"),
    (np.array([3.0, 1, 2]), np.array([1.0, 2, 3]), "wrong order"),
    (7, 6, "off by one"),
])
def test_generic_hints(got, expected, text):
    kind = "shape" if np.shape(got) != np.shape(expected) else "value"
    assert text in generic_hint(got, expected, kind)


def test_generic_hint_reaches_the_message():
    verdict = run_check(toy(mistakes=()), lambda x, k=1.0: 2 * x + k + 1)
    assert "Likely cause: every value is off by the same constant (+1)" in verdict.message


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=20), st.floats(0.5, 10))
def test_compare_outputs_accepts_equal_and_rejects_shifted_arrays(values, offset):
    x = np.array(values)
    assert compare_outputs(x.copy(), x) is None
    assert compare_outputs(torch.from_numpy(x.copy()), torch.from_numpy(x)) is None
    problem = compare_outputs(x + offset, x)
    assert problem is not None and problem.kind == "value" and "max abs difference" in problem.text


def test_the_documented_example_works():
    import textwrap

    from helpers.exercises import core

    doc = core.__doc__
    start = doc.index("A module looks like::") + len("A module looks like::")
    example = textwrap.dedent(doc[start:doc.index("and the notebook's check cell")])
    namespace: dict = {}
    exec(compile(example, "<core docstring>", "exec"), namespace)
    ex = namespace["OUTPUT_SIZE"]
    assert namespace["check_output_size"].__name__ == "check_output_size"
    assert run_check(ex, namespace["output_size"]).passed

    def output_size(n, kernel_size, stride=1, padding=0):
        return (n + padding - kernel_size) // stride + 1

    verdict = run_check(ex, output_size)
    assert verdict.status == "wrong" and "BOTH sides" in verdict.message


# --------------------------------------------------------------------------- diagnosis order

def _k_ignored_when_negative(x, k=1.0):
    """Right except where k < 0 (case 2): explains that failing case and agrees elsewhere."""
    return 2 * x + max(k, 0.0)


def _x_plus_k_on_integers(x, k=1.0):
    """Wrong only on the integer case (3)."""
    return 2 * x + (k if k != 3.0 else 0.0)


def _doubled(x, k=1.0):
    return 4 * x + 2 * k


def test_a_mistake_that_reproduces_every_case_beats_one_that_reproduces_the_failing_ones():
    first = Mistake("matches the failing case only", lambda x, k=1.0: 2 * x + abs(k))
    exact = Mistake("matches every case", _k_ignored_when_negative)
    verdict = run_check(toy(mistakes=[first, exact]), _k_ignored_when_negative)
    assert verdict.diagnosis == "matches every case"


def test_the_first_mistake_that_explains_every_failing_case_wins():
    def mine(x, k=1.0):       # wrong on case 2 only (k = -0.5)
        return 2 * x + abs(k)

    a = Mistake("a", lambda x, k=1.0: 2 * x + abs(k) + (k == 3.0))      # like mine on 1, 2
    b = Mistake("b", lambda x, k=1.0: 2 * x + (0.5 if k < 0 else 0.0))   # like mine on 2
    assert run_check(toy(mistakes=[a, b]), mine).diagnosis == "a"
    assert run_check(toy(mistakes=[b, a]), mine).diagnosis == "b"


def test_a_mistake_that_explains_only_half_the_failing_cases_is_not_named():
    def mine(x, k=1.0):       # ignores a negative k (case 2) and drops k = 3 (case 3)
        return 2 * x + (0.0 if k < 0 or k == 3.0 else k)

    verdict = run_check(toy(mistakes=[Mistake("negative k ignored.", _k_ignored_when_negative)]),
                        mine)
    assert verdict.status == "wrong" and verdict.diagnosis is None
    assert "negative k" not in verdict.message and "First failing case #2" in verdict.message


def test_a_mistake_that_explains_most_failing_cases_says_partly():
    def mine(x, k=1.0):       # wrong on all three cases; the mistake fits cases 1 and 2
        return 2 * x + (0.0 if k == 3.0 else 0.5)

    def half(x, k=1.0):
        return 2 * x + 0.5

    verdict = run_check(toy(mistakes=[Mistake("you added 0.5.", half)]), mine)
    assert verdict.diagnosis == "you added 0.5. (This partly explains 2 of the 3 failing cases.)"


def test_a_generic_hint_must_fit_every_failing_case():
    def mine(x, k=1.0):       # mirrored on case 1, doubled elsewhere: no single hint fits
        return (2 * x + k)[::-1] if x.size == 5 else 4 * x + 2 * k

    assert run_check(toy(mistakes=[]), mine).diagnosis is None


def test_an_error_names_the_learner_line_and_the_expected_shape():
    def mine(x, k=1.0):
        return x.reshape(2, -1) @ x.reshape(3, -1) + k

    verdict = run_check(toy(mistakes=[]), mine)
    assert verdict.status == "error"
    assert "in `mine`, line" in verdict.message and "x.reshape(2, -1) @" in verdict.message
    assert "the result should have shape (5,)" in verdict.message


def test_a_forbidden_call_is_named():
    import torch.nn.functional as F

    def ref(x):
        return x.relu()

    ex = Exercise(number="0.2", title="ReLU", reference=ref, cases=[Case((torch.randn(4),))],
                  forbidden=("relu",), forbidden_reason="the statement asks for a ReLU")
    assert run_check(ex, ref).passed
    verdict = run_check(ex, lambda x: F.relu(x))
    assert verdict.status == "wrong"
    assert "the statement asks for a ReLU, without F.relu; your code calls it" in verdict.message


def test_side_effects_are_detected():
    def ref(model, x):
        return model(x)

    def leaves_hook(model, x):
        model.register_forward_hook(lambda *a: None)
        return model(x)

    def reseeds(model, x):
        torch.manual_seed(0)
        return model(x)

    ex = Exercise(number="0.3", title="Side effects", reference=ref,
                  cases=[Case((torch.nn.Linear(3, 2), torch.ones(1, 3)))],
                  side_effects=("hooks", "rng"), check_dtype=True)
    assert run_check(ex, ref).passed
    assert "left hooks registered on `the model itself`" in run_check(ex, leaves_hook).message
    assert "changed the global torch random state" in run_check(ex, reseeds).message


def test_mistakes_come_before_the_generic_hints():
    doubled = Mistake("you doubled everything.", _doubled)
    verdict = run_check(toy(mistakes=[doubled]), _doubled)
    assert verdict.diagnosis == "you doubled everything."
    assert "same factor (×2)" in run_check(toy(mistakes=[]), _doubled).diagnosis


# --------------------------------------------------------------------------- the failing case

def test_a_small_failing_case_is_shown_in_full_and_aligned():
    message = run_check(toy(), _x_plus_k_on_integers).message
    lines = message.splitlines()
    start = lines.index("   First failing case #3 (integers): max abs difference 3 at index (0,) "
                        "(expected 3, got 0); 4 of 4 values differ:")
    assert lines[start + 1:start + 5] == ["     x        = [0. 1. 2. 3.]",
                                          "     k        = 3.0",
                                          "     expected = [3. 5. 7. 9.]",
                                          "     got      = [0. 2. 4. 6.]"]


def test_a_large_failing_case_is_handed_over_by_failing_case():
    def big(rng):
        return [Case((rng.standard_normal((20, 20)),))]

    verdict = run_check(toy(cases=big), _forgot_k)
    assert 'case = failing_case("0.1"), then affine(*case.args, **case.kwargs)' in verdict.message
    case = failing_case("0.1")
    assert case.args[0].shape == (20, 20) and case.index == 0
    np.testing.assert_allclose(case.expected - case.got, 1.0)
    case.args[0][:] = 0                                  # the learner's copy: change it freely
    assert failing_case("0.1").args[0].any()


def test_failing_case_without_a_failure_says_so(capsys):
    assert failing_case("0.9") is None
    assert "run its check cell first" in capsys.readouterr().out


# --------------------------------------------------------------------------- the reference again

def test_the_reference_handed_back_is_marked_and_named_on_a_rerun(capsys):
    ex = toy()
    handed_back = check(ex, _forgot_k)
    assert is_reference(handed_back) and not is_reference(affine)
    np.testing.assert_array_equal(handed_back(np.arange(3.0)), affine(np.arange(3.0)))
    capsys.readouterr()
    assert check(ex, handed_back) is handed_back
    assert capsys.readouterr().out == (
        "⚠️ Exercise 0.1: this is the reference solution: re-run your cell above first (the "
        "one that defines your function), then this check.\n")
    assert run_check(ex, handed_back).status == "reference"


# --------------------------------------------------------------------------- every chapter module

def test_exercises_are_registered():
    assert EXERCISES, "no chapter exercise modules found"
    for number, ex in EXERCISES.items():
        assert ex.number == number and ex.title and len(ex.mistakes) >= 4, number


@pytest.mark.parametrize("number", sorted(EXERCISES))
def test_every_reference_passes_its_own_check(number):
    verdict = run_check(EXERCISES[number], EXERCISES[number].reference)
    assert verdict.passed, verdict.message


MISTAKES = [(n, i) for n, ex in sorted(EXERCISES.items()) for i in range(len(ex.mistakes))]


@pytest.mark.parametrize("number, index", MISTAKES, ids=[f"{n}-{i}" for n, i in MISTAKES])
def test_every_mistake_is_rejected_with_its_own_message(number, index):
    ex = EXERCISES[number]
    mistake = ex.mistakes[index]
    verdict = run_check(ex, mistake.fn)
    assert not verdict.passed
    assert verdict.diagnosis == mistake.message, (
        f"Exercise {number}: mistake {index} ({mistake.message!r}) was diagnosed as "
        f"{verdict.diagnosis!r} — add a case that tells them apart\n{verdict.message}")


def test_every_chapter_module_is_found_and_its_checkers_offered():
    """helpers.exercises finds each helpers/exercises/chNN.py itself (no list to keep)."""
    from pathlib import Path

    import helpers.exercises as package

    on_disk = sorted(p.stem for p in Path(package.__file__).parent.glob("ch[0-9][0-9].py"))
    assert [m.__name__.rsplit(".", 1)[1] for m in package.CHAPTER_MODULES] == on_disk
    for module in package.CHAPTER_MODULES:
        for name in module.__all__:
            assert name in package.__all__ and getattr(package, name) is getattr(module, name)
    assert sorted(package.EXERCISES) == sorted(
        ex.number for m in package.CHAPTER_MODULES for ex in m.EXERCISES)
