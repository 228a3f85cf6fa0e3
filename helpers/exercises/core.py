"""Exercise checkers: run a learner's function against the reference and say what went wrong.

A chapter's exercises live in ``helpers/exercises/chNN.py``; ``helpers.exercises`` finds every
``chNN`` module by itself and re-exports the names in its ``__all__``. A module looks like::

    import numpy as np
    from helpers.exercises.core import Case, Exercise, Mistake, checker

    def output_size(n, kernel_size, stride=1, padding=0):   # the reference solution
        return (n + 2 * padding - kernel_size) // stride + 1

    def _padding_once(n, kernel_size, stride=1, padding=0):      # a typical mistake
        return (n + padding - kernel_size) // stride + 1

    def _output_size_cases(rng):                    # rng: np.random.Generator, seeded
        cases = [Case((5, 3)), Case((7, 3), {"padding": 1}, label="padding 1")]
        for _ in range(8):
            k, s, p = (int(v) for v in rng.integers(1, 4, size=3))
            cases.append(Case((int(rng.integers(k, 40)), k), {"stride": s, "padding": p}))
        return cases

    OUTPUT_SIZE = Exercise(
        number="2.1", title="Output size of a convolution",
        reference=output_size,
        cases=_output_size_cases,
        mistakes=[Mistake("you added `padding` once; it is added on BOTH sides, so 2·padding",
                          _padding_once)],
    )
    check_output_size = checker(OUTPUT_SIZE)

    EXERCISES = [OUTPUT_SIZE]               # every Exercise of the chapter (tests use it)
    __all__ = ["check_output_size"]         # what `from helpers.exercises import ...` offers

and the notebook's check cell is ``output_size = check_output_size(output_size)``. Name the
reference like the learner's function, with the same signature: it replaces the learner's
function when that fails. Its tests (``tests/exercises/test_chNN.py``) feed mutants written as
a learner would write them::

    from helpers.exercises import check_output_size, run_check

    def test_padding_added_once_is_diagnosed():
        def output_size(n, kernel_size, stride=1, padding=0):
            return (n + padding - kernel_size) // stride + 1
        verdict = run_check(check_output_size.exercise, output_size)
        assert verdict.status == "wrong" and "BOTH sides" in verdict.message

``tests/exercises/test_core.py`` already checks, for every registered exercise, that the
reference passes and that each Mistake is diagnosed with its own message.

What a checker does (:func:`check`, or :func:`run_check` for tests, which returns a
:class:`Verdict` instead of printing):

* builds the cases (``cases(rng)`` with ``np.random.default_rng(seed)``; Python's, NumPy's and
  torch's global generators are also seeded for the duration of the check and restored
  afterwards, so a check never changes what later cells draw);
* runs the learner's function on a deep copy of each case in a daemon thread with a time limit
  (all cases together), catching every exception; input modified in place is detected by
  comparing the copy with the pristine case afterwards;
* compares with the reference: type (None, NumPy vs torch, int vs float), dtype, device, shape
  (with ``shape_hint``), then values (``rtol``/``atol``); or the Exercise's own ``compare``;
* on a mismatch, names the likely cause only where it explains the failure (:func:`diagnose`,
  specific to generic, first match wins): a :class:`Mistake` that reproduces the learner's
  outputs on every case, else on every FAILING case, else on a majority of them ("This partly
  explains 3 of the 4 failing cases"); then the Exercise's ``diagnose`` hook; then a generic
  hint (off by one in a size, transposed, mirrored, shifted, off by a constant or a factor,
  right values in the wrong order, NaN) if the same one fits every failing case; else no cause;
* runs the learner's function under a :class:`CallRecorder` where the statement forbids calls
  (``forbidden``: "without F.conv2d; your code calls it"), and checks the side effects it
  declares (``side_effects``: hooks left on a model argument, the global random state);
* after an exception: the learner's line, a hint for shape errors (``explain_error``, else a
  generic one for products and broadcasting) and the shapes of the inputs and of the result;
* shows the first failing case: in full when it is small (inputs, expected, got; rounded and
  aligned), else one line and ``case = failing_case("2.1")``, which hands the case to the
  learner for the next cell (:func:`failing_case`);
* says what was right: "values match, but you changed `q` in place";
* prints one verdict line (``✅ Exercise 2.1 passed (10 cases)``, ``❌ Exercise 2.1: ...``,
  ``⏳ Exercise 2.1 is not implemented yet — ...``) and a few detail lines, all deterministic
  (no timings, addresses or file paths);
* returns the learner's function if it passed, otherwise the reference, marked
  (:func:`marked_reference`) so that running the same check cell again says "this is the
  reference solution: re-run your cell above first" instead of passing it.

No exception escapes a check: a bug in the checker itself prints ``checker error, please
report`` and hands back the reference.

Writing good mistakes: each ``Mistake`` must differ from the reference on at least one case and
from every earlier mistake in the list (the first match wins; list the specific ones first);
``tests/exercises/test_core.py`` verifies, for every registered exercise, that the reference
passes and that each mistake is rejected with its own message. Mistakes should not raise on
any case (a mistake that raises cannot match). Input-modified-in-place is detected generically;
do not list it as a Mistake.
"""
from __future__ import annotations

import copy
import ctypes
import dataclasses
import functools
import inspect
import math
import numbers
import random
import re
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from helpers.device import to_numpy

STATUSES = ("passed", "wrong", "not_implemented", "error", "timeout", "bad_type", "reference",
            "checker_error")
REFERENCE_NOTE = "   The reference implementation is used for the rest of the notebook."
_MAX_TEXT = 160
_HELPERS = str(Path(__file__).resolve().parent.parent)


@dataclass
class Case:
    """One call of the function: ``fn(*args, **kwargs)``; ``label`` names an edge case."""

    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    label: str = ""

    def __post_init__(self):
        if not isinstance(self.args, tuple):
            self.args = (self.args,)


@dataclass
class Mistake:
    """A typical wrong implementation and the message that explains it.

    ``message`` is shown as "Likely cause: <message>" when ``fn`` reproduces the learner's
    outputs on the failing cases (see :func:`diagnose`). Write it to the learner: what they did,
    and the fix.
    """

    message: str
    fn: Callable


@dataclass
class Exercise:
    """An exercise: the reference, the cases it is checked on, and known mistakes.

    ``cases``: a list of :class:`Case`, or a function ``rng -> list[Case]`` (seeded with
    ``seed``). ``compare(got, expected) -> str | None``: optional replacement for the default
    comparison (return a description of the difference, or None when equal); a ``compare``
    with a third parameter also gets the :class:`Case` (None where it is not known).
    ``diagnose(case, got, expected) -> str | None``: optional extra hint for the first failing
    case.
    ``time_limit``: seconds for all cases together. ``shape_hint``: the output shape formula,
    e.g. ``"(N, K, H', W')"``. ``check_dtype``: require the reference's dtype exactly.
    ``allow_inplace``: the function is meant to modify its arguments.
    ``forbidden``: names of torch functions the statement rules out (``"conv2d"``, ``"unfold"``,
    ``"scaled_dot_product_attention"``; ``"Tensor.unfold"`` for a tensor method; or a Python
    function, such as the helpers' ``im2col``, detected with ``sys.setprofile``): the learner's
    function runs under a :class:`CallRecorder` and a call to one of them fails the check with
    ``forbidden_reason`` ("the statement asks for one matrix multiply without ...").
    ``side_effects``: what the learner's function must leave as it was, besides its arguments'
    values: ``"hooks"`` (no forward/backward hooks left registered on a module argument, nor
    global module hooks), ``"rng"`` (the global random states of torch, NumPy and Python).
    ``explain_error(case, exc) -> str | None``: a hint for an exception raised by the learner's
    code (e.g. which matrix product has mismatched shapes, and the shapes expected).
    ``detached``: the statement asks for a result that does not require gradients; a tensor
    result still attached to the autograd graph is rejected ("detach it: `.detach()`").
    ``none_hint``: what a ``None`` result means when the statement allows none to be found
    (replaces "did you forget `return`?").
    """

    number: str
    title: str
    reference: Callable
    cases: Callable[[np.random.Generator], list[Case]] | Sequence[Case]
    mistakes: Sequence[Mistake] = ()
    compare: Callable[[Any, Any], str | None] | None = None
    diagnose: Callable[[Case, Any, Any], str | None] | None = None
    time_limit: float = 10.0
    rtol: float = 1e-5
    atol: float = 1e-6
    shape_hint: str | None = None
    check_dtype: bool = True
    allow_inplace: bool = False
    seed: int = 0
    forbidden: tuple[str, ...] = ()
    forbidden_reason: str = ""
    side_effects: tuple[str, ...] = ()
    explain_error: Callable[[Case, BaseException], str | None] | None = None
    detached: bool = False
    none_hint: str | None = None

    def __post_init__(self):
        if not re.fullmatch(r"\d+\.\d+", str(self.number)):
            raise ValueError(f"Exercise number must look like '2.1', got {self.number!r}")
        if not callable(self.reference):
            raise ValueError(f"Exercise {self.number}: reference must be a function")
        if not (isinstance(self.time_limit, (int, float)) and self.time_limit > 0):
            raise ValueError(f"Exercise {self.number}: time_limit must be > 0 seconds, "
                             f"got {self.time_limit!r}")
        unknown = set(self.side_effects) - {"hooks", "rng"}
        if unknown:
            raise ValueError(f"Exercise {self.number}: unknown side_effects {sorted(unknown)}; "
                             "known: 'hooks', 'rng'")
        for m in self.mistakes:
            if not isinstance(m, Mistake):
                raise ValueError(f"Exercise {self.number}: mistakes must be Mistake objects, "
                                 f"got {type(m).__name__}")

    def make_cases(self) -> list[Case]:
        """The cases, built from the exercise's seed (the same on every call)."""
        cases = self.cases(np.random.default_rng(self.seed)) if callable(self.cases) \
            else self.cases
        cases = [c if isinstance(c, Case) else Case(c) for c in cases]
        if not cases:
            raise ValueError(f"Exercise {self.number} has no cases")
        return cases


@dataclass
class Verdict:
    """The outcome of :func:`run_check`.

    ``status``: one of :data:`STATUSES`; ``message``: the full text :func:`check` prints;
    ``diagnosis``: the one-line likely cause, if any; ``mistake``: the matched Mistake, if any.
    """

    number: str
    status: str
    message: str
    diagnosis: str | None = None
    mistake: Mistake | None = None
    n_cases: int = 0

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def __str__(self) -> str:
        return self.message


# --------------------------------------------------------------------------- public entry points

def check(exercise: Exercise, fn):
    """Check ``fn``, print the verdict; return ``fn`` if it passed, else the reference."""
    try:
        verdict = run_check(exercise, fn)
        print(verdict.message)
        if verdict.passed or verdict.status == "reference":
            return fn
        return marked_reference(exercise)
    except Exception as exc:  # never let anything escape into the notebook
        try:
            print(f"⚠️ Exercise {getattr(exercise, 'number', '?')}: checker error, please report: "
                  f"{type(exc).__name__}: {_clean(str(exc))}")
            return marked_reference(exercise)
        except Exception:
            return fn


def marked_reference(exercise: Exercise) -> Callable:
    """The reference, wrapped and marked as such: what a failed check hands back.

    The mark (``__reference_of__``, the exercise number) lets a second run of the same check
    cell say "this is the reference solution" instead of passing it as the learner's work.
    """
    reference = exercise.reference

    @functools.wraps(reference)
    def marked(*args, **kwargs):
        return reference(*args, **kwargs)

    marked.__reference_of__ = exercise.number
    return marked


def is_reference(fn) -> bool:
    """Is ``fn`` a reference handed back by a check (see :func:`marked_reference`)?"""
    return getattr(fn, "__reference_of__", None) is not None


def checker(exercise: Exercise, name: str | None = None) -> Callable:
    """A ``check_<name>(fn)`` function for the notebook; its ``.exercise`` is ``exercise``."""
    def check_fn(fn):
        return check(exercise, fn)

    base = exercise.reference.__name__.lstrip("_")
    check_fn.__name__ = check_fn.__qualname__ = name or f"check_{base}"
    check_fn.__doc__ = (f"Check your solution to Exercise {exercise.number}: {exercise.title}.\n\n"
                        "Prints a verdict; returns your function if it passed, otherwise the "
                        "reference implementation (so the rest of the notebook runs).")
    check_fn.exercise = exercise
    return check_fn


def run_check(exercise: Exercise, fn) -> Verdict:
    """Check ``fn`` against ``exercise`` without printing; never raises."""
    number = getattr(exercise, "number", "?")
    try:
        with _seeded(exercise.seed):
            return _run_check(exercise, fn)
    except Exception as exc:
        return Verdict(number, "checker_error",
                       f"⚠️ Exercise {number}: checker error, please report: "
                       f"{type(exc).__name__}: {_clean(str(exc))}")


# --------------------------------------------------------------------------- the check itself

@dataclass
class _Problem:
    kind: str       # "type" | "shape" | "value"
    text: str       # what differs, one line


@dataclass
class _Run:
    outputs: list = field(default_factory=list)
    calls: list = field(default_factory=list)      # (args, kwargs) after the call
    index: int = 0
    error: BaseException | None = None
    timed_out: bool = False
    used: dict = field(default_factory=dict)       # forbidden name -> first case index
    hooks_left: str | None = None                  # name of a module left with hooks
    rng_changed: str | None = None                 # which global generator changed


class _StopLearner(BaseException):
    """Raised asynchronously in a learner thread that ran past the time limit."""


def _run_check(ex: Exercise, fn) -> Verdict:
    number = ex.number
    if not callable(fn):
        return Verdict(number, "bad_type",
                       f"❌ Exercise {number}: expected a function, got {_type_name(fn)} — "
                       "pass the function itself, e.g. check_x(my_function), without calling it."
                       f"\n{REFERENCE_NOTE}")
    if is_reference(fn):
        return Verdict(number, "reference",
                       f"⚠️ Exercise {number}: this is the reference solution: re-run your cell "
                       "above first (the one that defines your function), then this check.")
    cases = ex.make_cases()
    expected = [_call(ex.reference, c) for c in cases]
    run = _run_learner(fn, cases, ex.time_limit, forbidden=tuple(ex.forbidden),
                       side_effects=tuple(ex.side_effects))
    if run.error is not None and isinstance(run.error, NotImplementedError):
        return Verdict(number, "not_implemented",
                       f"⏳ Exercise {number} is not implemented yet — using the reference "
                       "implementation so the rest of the notebook runs.", n_cases=len(cases))
    if run.timed_out:
        _remember(ex, cases, run.index, expected[run.index], None)
        lines = [f"❌ Exercise {number}: took longer than {ex.time_limit:g} s — is there an "
                 "infinite loop, or loops where vectorised code is expected?",
                 f"   It was still running case {_describe_case(ex, cases[run.index], run.index)}."]
        return _verdict(number, "timeout", lines, len(cases))
    if run.error is not None:
        _remember(ex, cases, run.index, expected[run.index], None)
        return _verdict(number, "error", _error_lines(ex, fn, run, cases), len(cases))

    problems = {i: p for i, (got, exp) in enumerate(zip(run.outputs, expected))
                if (p := _compare(ex, got, exp, cases[i])) is not None}
    modified = None if ex.allow_inplace else _first_modified(ex, cases, run.calls)
    extra = _side_effect_lines(ex, run)
    if extra is None and ex.detached:
        extra = _attached_lines(run.outputs)
    if extra and not problems:
        head, diagnosis = extra
        return _verdict(number, "wrong", [f"❌ Exercise {number}: {head}"] + diagnosis[1:],
                        len(cases), diagnosis=diagnosis[0])
    if not problems:
        if modified is None:
            return Verdict(number, "passed", f"✅ Exercise {number} passed ({_cases(len(cases))})",
                           n_cases=len(cases))
        lines = [f"❌ Exercise {number}: values match, but you changed `{modified}` in place.",
                 "   Leave the arguments untouched and return a new result: work on a copy "
                 "(`x = x.copy()` for NumPy, `x = x.clone()` for torch)."]
        return _verdict(number, "wrong", lines, len(cases),
                        diagnosis=f"changed its input `{modified}` in place")

    first = min(problems)
    problem = problems[first]
    status = "bad_type" if problem.kind == "type" else "wrong"
    diagnosis = diagnose(ex, cases, run.outputs, expected, sorted(problems))
    _remember(ex, cases, first, expected[first], run.outputs[first])
    if problem.kind == "type":
        end = "" if problem.text.endswith((".", "?", "!")) else "."
        lines = [f"❌ Exercise {number}: {problem.text}{end}"]
    else:
        what = "output shape" if problem.kind == "shape" else "result"
        lines = [f"❌ Exercise {number}: wrong {what} in {len(problems)} of {_cases(len(cases))}."]
    if diagnosis.text:
        lines.append(f"   Likely cause: {diagnosis.text}")
    detail = "" if problem.kind == "type" else f": {problem.text}"
    lines += _case_lines(ex, cases[first], first, expected[first], run.outputs[first], detail)
    if modified is not None:
        lines.append(f"   Also: your function changed its input `{modified}` in place.")
    if extra:
        lines.append(f"   Also: {extra[0]}")
    return _verdict(number, status, lines, len(cases), diagnosis=diagnosis.text,
                    mistake=diagnosis.mistake)


def _verdict(number, status, lines, n_cases, diagnosis=None, mistake=None) -> Verdict:
    return Verdict(number, status, "\n".join([*lines, REFERENCE_NOTE]), diagnosis=diagnosis,
                   mistake=mistake, n_cases=n_cases)


@contextmanager
def _seeded(seed: int):
    """Seed Python, NumPy and torch (CPU) for the check; restore their states afterwards."""
    py_state, np_state, torch_state = random.getstate(), np.random.get_state(), \
        torch.get_rng_state()
    random.seed(seed)
    np.random.seed(seed)
    torch.default_generator.manual_seed(seed)
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
        torch.set_rng_state(torch_state)


def _call(fn, case: Case):
    """Trusted call (reference or mistake) on a deep copy of the case."""
    with np.errstate(all="ignore"):
        return fn(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))


def _run_learner(fn, cases: list[Case], time_limit: float, forbidden: tuple = (),
                 side_effects: tuple = ()) -> _Run:
    run = _Run()

    def work():
        try:
            with np.errstate(all="ignore"):
                for i, case in enumerate(cases):
                    run.index = i
                    args, kwargs = copy.deepcopy(case.args), copy.deepcopy(case.kwargs)
                    before = None
                    if "rng" in side_effects:     # an unusual state: re-seeding changes it
                        random.seed(2_147_483_629 - i)
                        np.random.seed(2_147_483_629 - i)
                        torch.default_generator.manual_seed(2_147_483_629 - i)
                        before = _rng_states()
                    if forbidden:
                        names = [f for f in forbidden if isinstance(f, str)]
                        codes = {getattr(f, "__code__", None): f"{f.__module__}.{f.__name__}"
                                 for f in forbidden if callable(f)}
                        seen: set[str] = set()

                        def profile(frame, event, arg, codes=codes, seen=seen):
                            if event == "call" and frame.f_code in codes:
                                seen.add(codes[frame.f_code])

                        if codes:
                            sys.setprofile(profile)
                        try:
                            with CallRecorder() as recorder:
                                out = fn(*args, **kwargs)
                        finally:
                            if codes:
                                sys.setprofile(None)
                        for name in [*names, *sorted(seen)]:
                            if name in seen or recorder.called(name):
                                run.used.setdefault(name, i)
                    else:
                        out = fn(*args, **kwargs)
                    if before is not None and run.rng_changed is None:
                        run.rng_changed = _rng_changed(before, _rng_states())
                    if "hooks" in side_effects and run.hooks_left is None:
                        run.hooks_left = _hooks_left([*args, *kwargs.values(), out])
                    run.outputs.append(out)
                    run.calls.append((args, kwargs))
        except _StopLearner:
            pass
        except BaseException as exc:  # the learner's code may raise anything, even SystemExit
            run.error = exc

    thread = threading.Thread(target=work, name="exercise-check", daemon=True)
    thread.start()
    try:
        thread.join(time_limit)
    except KeyboardInterrupt:  # the learner pressed stop: stop their code too, then stop
        _stop(thread)
        raise
    if thread.is_alive():
        run.timed_out = True
        _stop(thread)
    return run


def _stop(thread: threading.Thread) -> None:
    """Best effort: raise _StopLearner in the runaway thread (CPython only)."""
    try:
        set_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
        tid = ctypes.c_ulong(thread.ident)
        if set_exc(tid, ctypes.py_object(_StopLearner)) > 1:
            set_exc(tid, None)
    except Exception:
        pass


class CallRecorder(torch.overrides.TorchFunctionMode):
    """Records the torch functions and tensor methods called while it is active (in this
    thread): ``with CallRecorder() as r: fn(x)``, then ``r.called("conv2d")``.

    A call is recorded under its function name (``"conv2d"`` for ``F.conv2d``/``torch.conv2d``
    and for an ``nn.Conv2d`` forward, ``"unfold"`` for ``F.unfold``,
    ``"multi_head_attention_forward"`` for ``nn.MultiheadAttention``) or, for a tensor method,
    as ``"Tensor.<name>"`` (``"Tensor.unfold"``). Only the calls the learner's code makes (and
    those of the modules it calls) are seen, not the ones inside a recorded function.
    """

    def __init__(self):
        super().__init__()
        self.names: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.names.append(_function_name(func))
        return func(*args, **(kwargs or {}))

    def called(self, name: str) -> bool:
        return name in self.names


def _function_name(func) -> str:
    qual = getattr(func, "__qualname__", None) or getattr(func, "__name__", "") or ""
    name = getattr(func, "__name__", "") or qual.rsplit(".", 1)[-1]
    if qual.startswith(("TensorBase.", "Tensor.")) or \
            getattr(torch.Tensor, name, None) is func:
        return f"Tensor.{name.strip('_') if name in ('__matmul__', '__rmatmul__') else name}"
    return name


def calls_made(fn, *args, **kwargs) -> tuple[Any, list[str]]:
    """``(fn(*args, **kwargs), names of the torch functions it called)`` (see
    :class:`CallRecorder`)."""
    with CallRecorder() as recorder:
        out = fn(*args, **kwargs)
    return out, recorder.names


def _rng_states():
    return (random.getstate(), np.random.get_state(), torch.get_rng_state())


def _rng_changed(before, after) -> str | None:
    if before[2].shape != after[2].shape or not torch.equal(before[2], after[2]):
        return "torch"
    b, a = before[1], after[1]
    if not (np.array_equal(b[1], a[1]) and b[2:] == a[2:]):
        return "NumPy"
    if before[0] != after[0]:
        return "Python's random"
    return None


def _hooks_left(values) -> str | None:
    """The name of the first module (in ``values``, or its submodules) that has forward or
    backward hooks registered, or ``"global"``; None when there are none."""
    from torch.nn.modules import module as _module
    for attr in ("_global_forward_hooks", "_global_forward_pre_hooks",
                 "_global_backward_hooks"):
        if getattr(_module, attr, None):
            return "global"
    for value in values:
        if not isinstance(value, torch.nn.Module):
            continue
        for name, sub in value.named_modules():
            if sub._forward_hooks or sub._forward_pre_hooks or sub._backward_hooks or \
                    getattr(sub, "_backward_pre_hooks", None):
                return name or "the model itself"
    return None


def _side_effect_lines(ex: Exercise, run: _Run):
    """``(first line, [diagnosis, detail lines])`` for a forbidden call or a side effect left
    behind, or None."""
    if run.used:
        name, i = min(run.used.items(), key=lambda kv: kv[1])
        shown = name if name.startswith("Tensor.") or "." in name else f"F.{name}"
        reason = ex.forbidden_reason or "the statement asks you to compute it yourself"
        text = f"{reason}, without {shown}; your code calls it"
        return text + ".", [text, f"   (seen on case #{i + 1}; write that step yourself.)"]
    if run.hooks_left is not None:
        where = "as global module hooks" if run.hooks_left == "global" else \
            f"on `{run.hooks_left}` of the model"
        text = (f"your function left hooks registered {where}; keep the handles that "
                "`register_forward_hook` returns and call `handle.remove()` on each (in a "
                "`finally:`), so the caller's model is as it was")
        return text + ".", [text]
    if run.rng_changed is not None:
        text = (f"your function changed the global {run.rng_changed} random state (a "
                "`torch.manual_seed` / `np.random.seed` call, or a draw from the global "
                "generator); draw from your own `torch.Generator().manual_seed(seed)` so the "
                "caller's random numbers are untouched")
        return text + ".", [text]
    return None


def _attached_lines(outputs):
    """The verdict lines for a result that still requires gradients (``detached`` exercises)."""
    for i, out in enumerate(outputs):
        if isinstance(out, torch.Tensor) and out.requires_grad:
            text = ("your result still requires gradients (it is attached to the autograd "
                    "graph), but the statement asks for one that does not: detach it: "
                    "`.detach()`")
            return text + ".", [text, f"   (seen on case #{i + 1}.)"]
    return None


@dataclass
class Diagnosis:
    """The likely cause of a failure: ``text`` (None when nothing fits), the :class:`Mistake`
    it comes from (if any), and how many of the failing cases that mistake reproduces."""

    text: str | None = None
    mistake: Mistake | None = None
    explained: int = 0
    failing: int = 0


def diagnose(ex: Exercise, cases, outputs, expected, failing: list[int]) -> Diagnosis:
    """Name the likely cause only when it explains the failure; first match wins.

    1. the first :class:`Mistake` that reproduces the learner's output on every case;
    2. else the first that reproduces it on every FAILING case (it may agree with the reference
       on the others: scaling by √Tk instead of √d is right wherever Tk = d);
    3. else the one that reproduces the most failing cases, if that is a majority of them: its
       message then says "this partly explains k of the n failing cases";
    4. else the exercise's ``diagnose`` hook on the first failing case (a fact about that
       output, e.g. "a correlation lies between −1 and 1"); else :func:`generic_hint`, if it
       gives the same hint on every failing case;
    5. else no cause: the verdict shows the failing case only (a cause that fits some cases
       and not others misleads more than it helps).
    """
    n = len(failing)
    passing = [i for i in range(len(cases)) if i not in set(failing)]
    counts = [sum(_reproduces(ex, m, cases[i], outputs[i]) for i in failing) for m in ex.mistakes]
    complete = [m for m, c in zip(ex.mistakes, counts) if c == n]
    for mistake in complete:
        if all(_reproduces(ex, mistake, cases[i], outputs[i]) for i in passing):
            return Diagnosis(mistake.message, mistake, n, n)
    if complete:
        return Diagnosis(complete[0].message, complete[0], n, n)
    if any(counts):
        best = max(range(len(counts)), key=lambda j: (counts[j], -j))
        if 2 * counts[best] > n:
            mistake = ex.mistakes[best]
            return Diagnosis(f"{mistake.message} (This partly explains {counts[best]} of the "
                             f"{n} failing cases.)", mistake, counts[best], n)
    i = failing[0]
    hint = _hint(ex, cases[i], outputs[i], expected[i],
                 _compare(ex, outputs[i], expected[i], cases[i]), hook_only=True)
    if hint:                # the exercise's own hook states a fact about this case's output
        return Diagnosis(hint, failing=n)
    hints = [_hint(ex, cases[i], outputs[i], expected[i],
                   _compare(ex, outputs[i], expected[i], cases[i]), generic_only=True)
             for i in failing]
    if hints[0] and all(h == hints[0] for h in hints):
        return Diagnosis(hints[0], failing=n)
    return Diagnosis(None, failing=n)


def _reproduces(ex: Exercise, mistake: Mistake, case: Case, got) -> bool:
    """Does ``mistake`` give the learner's output ``got`` on ``case``? (A raise means no.)"""
    try:
        return _compare(ex, got, _call(mistake.fn, case), case) is None
    except Exception:
        return False


def _error_lines(ex: Exercise, fn, run: _Run, cases) -> list[str]:
    exc = run.error
    lines = [f"❌ Exercise {ex.number}: your code raised {type(exc).__name__}: "
             f"{_clean(str(exc)) or '(no message)'}"]
    where = _learner_frame(fn, exc)
    if where is not None:
        line = f": {where.line.strip()}" if where.line else ""
        lines.append(f"   in `{where.name}`, line {where.lineno}{line}")
    hint = None
    if ex.explain_error is not None:
        try:
            hint = ex.explain_error(cases[run.index], exc)
        except Exception:
            hint = None
    hint = hint or _error_hint(exc)
    if hint:
        lines.append(f"   Hint: {hint}")
    lines.append(f"   First failing case {_describe_case(ex, cases[run.index], run.index)}.")
    try:
        expected = _call(ex.reference, cases[run.index])
        if isinstance(expected, (np.ndarray, torch.Tensor)):
            shapes = _input_shapes(ex, cases[run.index])
            lines.append(f"   Shapes: {shapes + '; ' if shapes else ''}the result should have "
                         f"shape {tuple(expected.shape)}"
                         f"{' = ' + ex.shape_hint if ex.shape_hint else ''}.")
    except Exception:
        pass
    return lines


def _input_shapes(ex: Exercise, case: Case) -> str:
    names = _arg_names(ex.reference, len(case.args))
    pairs = [*zip(names, case.args), *case.kwargs.items()]
    return ", ".join(f"{name} {tuple(v.shape)}" for name, v in pairs
                     if isinstance(v, (np.ndarray, torch.Tensor)))


_MATMUL_ERRORS = ("cannot be multiplied", "Expected size for first two dimensions of batch2",
                  "batch1 must be a 3D tensor", "batch2 must be a 3D tensor",
                  "matmul: Input operand", "shapes not aligned")
_BROADCAST_ERRORS = ("could not be broadcast", "could not broadcast", "size of tensor a",
                     "must match the size")


def _error_hint(exc: BaseException) -> str | None:
    """A generic hint for the shape errors torch and NumPy raise in products and sums."""
    text = str(exc)
    if any(m in text for m in _MATMUL_ERRORS):
        return ("in `a @ b` the LAST axis of a must equal the SECOND-TO-LAST of b; transpose "
                "with `.transpose(-2, -1)` (`.T` reverses ALL axes; `bmm` wants exactly 3-D "
                "inputs). Print both shapes on the line above.")
    if any(m in text for m in _BROADCAST_ERRORS):
        return ("two arrays whose shapes do not fit in an elementwise operation or an "
                "assignment (each axis must be equal, or 1); print both shapes on the line "
                "above.")
    if "shape" in text and ("invalid for input of size" in text or "cannot reshape" in text):
        return ("a reshape to a size that does not hold the same number of values; print "
                "the shape before the reshape and count.")
    return None


def _learner_frame(fn, exc: BaseException):
    """The last traceback frame in the learner's own code (not in libraries or helpers/)."""
    frames = traceback.extract_tb(exc.__traceback__)
    library = tuple(p for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, _HELPERS)
                    if len(p) > 1)
    user = [f for f in frames if not f.filename.startswith(library)]
    if user:
        return user[-1]
    code = getattr(fn, "__code__", None)
    own = [f for f in frames if code is not None and f.filename == code.co_filename]
    return own[-1] if own else None


def _first_modified(ex: Exercise, cases, calls) -> str | None:
    """Name of the first argument the learner changed in place, or None."""
    for case, (args, kwargs) in zip(cases, calls):
        for i, (before, after) in enumerate(zip(case.args, args)):
            if not _same(after, before):
                return _arg_names(ex.reference, len(case.args))[i]
        for key, before in case.kwargs.items():
            if not _same(kwargs.get(key), before):
                return key
    return None


def _arg_names(fn, n: int) -> list[str]:
    try:
        params = [p.name for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    return params[:n] + [f"argument {i + 1}" for i in range(len(params), n)]


def _same(a, b) -> bool:
    """Is ``a`` still equal to ``b`` (the pristine value)? Unknown objects count as equal."""
    if isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and a.shape == b.shape and a.dtype == b.dtype):
            return False
        return bool(np.array_equal(a, b, equal_nan=b.dtype.kind in "fc"))
    if isinstance(b, torch.Tensor):
        if not (isinstance(a, torch.Tensor) and a.shape == b.shape and a.dtype == b.dtype):
            return False
        a, b = a.detach().cpu(), b.detach().cpu()
        same = a == b
        if b.is_floating_point() or b.is_complex():
            same = same | (torch.isnan(a) & torch.isnan(b))
        return bool(same.all())
    if isinstance(b, torch.nn.Module):
        return isinstance(a, torch.nn.Module) and _same(a.state_dict(), b.state_dict())
    if isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(b, dict):
        return isinstance(a, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in b)
    if type(b).__eq__ is object.__eq__:
        return True
    try:
        return bool(a == b) or (isinstance(b, float) and math.isnan(b) and math.isnan(a))
    except Exception:
        return True


# --------------------------------------------------------------------------- comparison

def _compare(ex: Exercise, got, expected, case: Case | None = None) -> _Problem | None:
    if got is None and expected is not None:
        return _Problem("type", ex.none_hint or "returned None — did you forget `return`?")
    if ex.compare is not None:
        text = ex.compare(got, expected, case) if _takes_case(ex.compare) else \
            ex.compare(got, expected)
        if text is None or isinstance(text, _Problem):
            return text
        return _Problem("value", str(text))
    return compare_outputs(got, expected, rtol=ex.rtol, atol=ex.atol, check_dtype=ex.check_dtype,
                           shape_hint=ex.shape_hint)


def _takes_case(compare) -> bool:
    """Does an Exercise's ``compare`` take the case as a third argument?"""
    try:
        inspect.signature(compare).bind(None, None, None)
        return True
    except (TypeError, ValueError):
        return False


def compare_outputs(got, expected, *, rtol=1e-5, atol=1e-6, check_dtype=True, shape_hint=None,
                    _where=""):
    """The default comparison; returns None when equal, else a problem (``.kind``, ``.text``)."""
    pre = f"{_where}: " if _where else ""
    if expected is None:
        return None if got is None else _Problem("type", f"{pre}returned {_type_name(got)}; "
                                                         "expected None")
    if got is None:
        return _Problem("type", f"{pre}returned None — did you forget `return`?")
    if isinstance(expected, torch.Tensor):
        return _compare_tensor(got, expected, rtol, atol, check_dtype, shape_hint, pre)
    if isinstance(expected, np.ndarray):
        return _compare_array(got, expected, rtol, atol, check_dtype, shape_hint, pre)
    if isinstance(expected, (bool, np.bool_)):
        if not isinstance(got, (bool, np.bool_)):
            return _Problem("type", f"{pre}returned {_type_name(got)}; expected True or False")
        return None if bool(got) == bool(expected) else \
            _Problem("value", f"{pre}expected {expected}, got {got}")
    if isinstance(expected, numbers.Number):
        return _compare_number(got, expected, rtol, atol, pre)
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)) or \
                (isinstance(expected, tuple) and not isinstance(got, tuple)):
            return _Problem("type", f"{pre}returned {_type_name(got)}; expected a "
                                    f"{type(expected).__name__} of {len(expected)}")
        if len(got) != len(expected):
            return _Problem("shape", f"{pre}{len(got)} elements, expected {len(expected)}")
        for i, (g, e) in enumerate(zip(got, expected)):
            p = compare_outputs(g, e, rtol=rtol, atol=atol, check_dtype=check_dtype,
                                _where=f"{_where}[{i}]" if _where else f"element [{i}]")
            if p is not None:
                return p
        return None
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return _Problem("type", f"{pre}returned {_type_name(got)}; expected a dict")
        if set(got) != set(expected):
            return _Problem("value", f"{pre}keys {sorted(map(str, got))}, expected "
                                     f"{sorted(map(str, expected))}")
        for k in expected:
            p = compare_outputs(got[k], expected[k], rtol=rtol, atol=atol,
                                check_dtype=check_dtype, _where=f"{_where}[{k!r}]")
            if p is not None:
                return p
        return None
    if not isinstance(got, type(expected)):
        return _Problem("type", f"{pre}returned {_type_name(got)}; expected "
                                f"{_type_name(expected)}")
    return None if got == expected else \
        _Problem("value", f"{pre}expected {_short(expected)}, got {_short(got)}")


def _compare_number(got, expected, rtol, atol, pre) -> _Problem | None:
    if isinstance(got, torch.Tensor):
        return _Problem("type", f"{pre}returned a tensor; expected a plain number "
                                "(use `.item()`)")
    if isinstance(got, np.ndarray) and got.ndim == 0:
        got = got[()]
    if isinstance(got, np.ndarray):
        return _Problem("type", f"{pre}returned an array of shape {got.shape}; expected a "
                                "single number")
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, numbers.Number):
        return _Problem("type", f"{pre}returned {_type_name(got)}; expected "
                                f"{_type_name(expected)}")
    if isinstance(expected, numbers.Integral):
        if not isinstance(got, numbers.Integral):
            hint = " — use `//` instead of `/`, or `int(...)`" if isinstance(got, float) else ""
            return _Problem("type", f"{pre}returned {_type_name(got)} ({_short(got)}); "
                                    f"expected an int{hint}")
        return None if int(got) == int(expected) else \
            _Problem("value", f"{pre}expected {_short(expected)}, got {_short(got)}")
    if isinstance(expected, numbers.Real) and not isinstance(got, numbers.Real):
        return _Problem("type", f"{pre}returned {_type_name(got)}; expected a real number")
    g, e = complex(got), complex(expected)
    if (math.isnan(g.real) and math.isnan(e.real)) or \
            abs(g - e) <= atol + rtol * abs(e):
        return None
    return _Problem("value", f"{pre}{_expected_got(expected, got)}")


def _expected_got(expected, got) -> str:
    """``expected 0.9928, got 0.9931``; with 6 significant digits when 4 print the same, and
    the difference when 6 still do."""
    e, g = _num(expected), _num(got)
    if e == g:
        e, g = _num(expected, digits=6), _num(got, digits=6)
    text = f"expected {e}, got {g}"
    if e == g:
        text += f" (they differ by {_num(complex(got) - complex(expected), sign=True)})"
    return text


def _shape_text(got_shape, exp_shape, shape_hint, pre) -> str:
    hint = f" = {shape_hint}" if shape_hint else ""
    return f"{pre}expected shape {tuple(exp_shape)}{hint}, got {tuple(got_shape)}"


def _compare_array(got, expected, rtol, atol, check_dtype, shape_hint, pre):
    if isinstance(got, torch.Tensor):
        return _Problem("type", f"{pre}returned a torch tensor; expected a NumPy array "
                                "(convert with `.numpy()`, or use NumPy functions)")
    if not isinstance(got, np.ndarray):
        return _Problem("type", f"{pre}returned {_type_name(got)}; expected a NumPy array "
                                f"of shape {tuple(expected.shape)}")
    if check_dtype and got.dtype != expected.dtype:
        return _Problem("type", f"{pre}returned an array of dtype {got.dtype}; expected "
                                f"{expected.dtype}")
    if got.shape != expected.shape:
        return _Problem("shape", _shape_text(got.shape, expected.shape, shape_hint, pre))
    return _compare_values(got, expected, rtol, atol, pre)


def _compare_tensor(got, expected, rtol, atol, check_dtype, shape_hint, pre):
    if isinstance(got, np.ndarray):
        return _Problem("type", f"{pre}returned a NumPy array; expected a torch tensor "
                                "(use torch operations, or `torch.from_numpy`)")
    if not isinstance(got, torch.Tensor):
        return _Problem("type", f"{pre}returned {_type_name(got)}; expected a torch tensor "
                                f"of shape {tuple(expected.shape)}")
    if check_dtype and got.dtype != expected.dtype:
        return _Problem("type", f"{pre}returned a tensor of dtype {got.dtype}; expected "
                                f"{expected.dtype}")
    if got.device.type != expected.device.type:
        return _Problem("type", f"{pre}returned a tensor on {got.device.type}; expected it on "
                                f"{expected.device.type} (create new tensors with "
                                "`device=x.device`)")
    if got.shape != expected.shape:
        return _Problem("shape", _shape_text(got.shape, expected.shape, shape_hint, pre))
    return _compare_values(to_numpy(got), to_numpy(expected), rtol, atol, pre)



def _compare_values(got: np.ndarray, expected: np.ndarray, rtol, atol, pre):
    if expected.dtype.kind in "biufc" and got.dtype.kind in "biufc":
        dtype = np.complex128 if "c" in got.dtype.kind + expected.dtype.kind else np.float64
        g, e = got.astype(dtype), expected.astype(dtype)
        ok = np.isclose(g, e, rtol=rtol, atol=atol, equal_nan=True)
        if ok.all():
            return None
        diff = np.where(ok, 0, np.abs(np.nan_to_num(g - e, nan=np.inf)))
        idx = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.ndim else ()
        at = f" at index {tuple(int(i) for i in idx)}" if idx else ""
        return _Problem("value", f"{pre}max abs difference {_num(float(np.max(diff)))}{at} "
                                 f"({_expected_got(e[idx], g[idx])}); "
                                 f"{int((~ok).sum())} of {ok.size} values differ")
    if np.array_equal(got, expected):
        return None
    return _Problem("value", f"{pre}values differ from the expected ones")


# --------------------------------------------------------------------------- diagnosis

def _hint(ex: Exercise, case: Case, got, expected, problem: _Problem | None,
          hook_only: bool = False, generic_only: bool = False) -> str | None:
    if problem is None:
        return None
    if ex.diagnose is not None and not generic_only:
        try:
            text = ex.diagnose(case, got, expected)
        except Exception:
            text = None
        if text:
            return text
    if hook_only:
        return None
    try:
        return generic_hint(got, expected, problem.kind)
    except Exception:
        return None


def generic_hint(got, expected, kind: str = "value") -> str | None:
    """A hint from the shapes/values alone: off by one, transposed, shifted, scaled ..."""
    if isinstance(expected, numbers.Integral) and isinstance(got, numbers.Integral) \
            and not isinstance(got, bool) and abs(int(got) - int(expected)) == 1:
        return "off by one — check a +1 / −1 (or < versus <=) in your formula."
    if not isinstance(expected, (np.ndarray, torch.Tensor)) or \
            not isinstance(got, (np.ndarray, torch.Tensor)):
        return None
    g, e = to_numpy(got), to_numpy(expected)
    if kind == "shape":
        return _shape_hint(g, e)
    if kind != "value" or g.shape != e.shape or e.dtype.kind not in "biuf" \
            or g.dtype.kind not in "biuf":
        return None
    g, e = g.astype(np.float64), e.astype(np.float64)
    close = lambda a, b: a.shape == b.shape and np.allclose(a, b, rtol=1e-5, atol=1e-6)  # noqa: E731
    if np.isnan(g).any() and not np.isnan(e).any():
        return "your output contains NaN (a 0/0, or the log or square root of a negative?)."
    if e.ndim >= 2 and close(g, np.swapaxes(e, -1, -2)):
        return "your output is transposed: rows and columns are swapped."
    for axes, what in (((-1,), "left-right"), ((-2,), "upside down"),
                       ((-2, -1), "in both directions")):
        if e.ndim >= -min(axes) and close(g, np.flip(e, axis=axes)):
            return f"your output is mirrored {what} — an index running the wrong way " \
                   "(or a flipped kernel)?"
    if e.size > 1 and close(g, -e):
        return "your output has the wrong sign."
    d = g - e
    if e.size > 1 and np.allclose(d, d.flat[0]) and abs(d.flat[0]) > 0:
        return f"every value is off by the same constant ({_num(d.flat[0], sign=True)}) — " \
               "a bias or offset missing, or added twice?"
    nz = np.abs(e) > 1e-12
    if e.size > 1 and nz.any() and np.allclose(g[~nz], 0, atol=1e-9):
        r = g[nz] / e[nz]
        if np.allclose(g, 0, atol=1e-12):
            return "every value of your output is 0 — a step that cancels out, or a result " \
                   "never filled in?"
        if np.allclose(r, r[0]) and not np.isclose(r[0], 1):
            return f"every value is off by the same factor (×{_num(r[0])}) — a scale or " \
                   "normalisation missing, or applied twice?"
    if e.ndim >= 2:
        shifts = sorted(((dy, dx) for dy in range(-2, 3) for dx in range(-2, 3) if dy or dx),
                        key=lambda s: (abs(s[0]) + abs(s[1]), s))
        for dy, dx in shifts:
            if close(g, np.roll(e, (dy, dx), axis=(-2, -1))):
                return f"your output is the right one moved by {dy:+d} rows and {dx:+d} " \
                       "columns — an off-by-one in an index?"
    if e.size > 1 and close(np.sort(g, axis=None), np.sort(e, axis=None)):
        return "the right values in the wrong order — check the order of the axes in your " \
               "reshape / transpose."
    return None


def _shape_hint(g: np.ndarray, e: np.ndarray) -> str | None:
    got, expected = g.shape, e.shape
    if len(got) == len(expected):
        diff = [i for i, (a, b) in enumerate(zip(got, expected)) if a != b]
        if len(diff) == 1 and abs(got[diff[0]] - expected[diff[0]]) == 1:
            i = diff[0]
            return f"one too {'many' if got[i] > expected[i] else 'few'} along axis {i} " \
                   f"({got[i]} instead of {expected[i]}) — an extra or a missing row there " \
                   "(a +1 / −1 in a size or a range)?"
        if len(got) >= 2 and got == np.swapaxes(e, -1, -2).shape:
            if np.array_equal(g, np.swapaxes(e, -1, -2)):
                return "your output is transposed: its last two axes are swapped."
            return "the sizes of your last two axes are swapped — check the order of the axes " \
                   "in your reshape / transpose."
    if int(np.prod(got)) == int(np.prod(expected)):
        return "the right number of values in the wrong shape — check your reshape: which " \
               "axes should be kept, and which merged?"
    return None


# --------------------------------------------------------------------------- the failing case

_SMALL = 16          # at most this many numbers in an array shown in full ...
_SMALL_CASE = 40     # ... and in all the arrays of a case together
_FAILURES: dict[str, FailingCase] = {}


@dataclass
class FailingCase:
    """The first case a check failed on, for the learner to try: ``fn(*case.args,
    **case.kwargs)``; ``expected`` is the reference's output, ``got`` the learner's (None
    after an error or a timeout)."""

    number: str
    index: int
    label: str
    args: tuple
    kwargs: dict
    expected: Any
    got: Any = None

    def __repr__(self) -> str:
        label = f" ({self.label})" if self.label else ""
        return f"<failing case #{self.index + 1} of Exercise {self.number}{label}: " \
               f"try fn(*case.args, **case.kwargs); compare with case.expected>"


def failing_case(number: str) -> FailingCase | None:
    """The case the last check of Exercise ``number`` failed on (a fresh copy), e.g.
    ``case = failing_case("8.2")``; then ``attention(*case.args, **case.kwargs)``."""
    found = _FAILURES.get(str(number))
    if found is None:
        print(f"No failing case recorded for Exercise {number}: run its check cell first.")
        return None
    return dataclasses.replace(found, args=copy.deepcopy(found.args),
                               kwargs=copy.deepcopy(found.kwargs))


def _remember(ex: Exercise, cases, index: int, expected, got) -> None:
    """Keep the failing case for :func:`failing_case` (outputs detached from autograd)."""
    case = cases[index]
    _FAILURES[ex.number] = FailingCase(ex.number, index, case.label, copy.deepcopy(case.args),
                                       copy.deepcopy(case.kwargs), _detached(expected),
                                       _detached(got))


def _detached(value):
    return value.detach() if isinstance(value, torch.Tensor) else value


def _case_lines(ex: Exercise, case: Case, index: int, expected, got, detail: str) -> list[str]:
    """The failing case: in full when it is small (inputs, expected, got, aligned), else one
    line and the ``failing_case`` call that hands it to the learner."""
    described = _describe_case(ex, case, index)
    try:
        names = _arg_names(ex.reference, len(case.args))
        values = [*zip(names, case.args), *case.kwargs.items()]
        arrays = [v for _, v in values] + [expected, got]
        sizes = [v.numel() if isinstance(v, torch.Tensor) else v.size for v in arrays
                 if isinstance(v, (np.ndarray, torch.Tensor))]
        if sizes and sum(sizes) <= _SMALL_CASE and all(_is_small(v) for v in arrays):
            label = f" ({case.label})" if case.label else ""
            rows = [*values, ("expected", expected), ("got", got)]
            width = max(len(name) for name, _ in rows)
            return [f"   First failing case #{index + 1}{label}{detail}:",
                    *(_show(name.ljust(width), value) for name, value in rows)]
    except Exception:
        pass
    if all(_is_small(v) and not isinstance(v, (np.ndarray, torch.Tensor))
           for v in [*case.args, *case.kwargs.values()]):
        return [f"   First failing case {described}{detail}."]
    fn = ex.reference.__name__.lstrip("_")
    return [f"   First failing case {described}{detail}.",
            f"   To try it in a new cell: case = failing_case(\"{ex.number}\"), then "
            f"{fn}(*case.args, **case.kwargs)"]


def _is_small(value) -> bool:
    """A number, None, a string, or an array of at most two real axes and few values."""
    if value is None or isinstance(value, (numbers.Number, str, np.generic)):
        return True
    if isinstance(value, (np.ndarray, torch.Tensor)):
        shape = [n for n in value.shape if n != 1]
        return len(shape) <= 2 and int(np.prod(shape)) <= _SMALL
    return False


def _show(name: str, value) -> str:
    """``     name = value``, arrays rounded and their rows aligned under the first."""
    prefix = f"     {name} = "
    if isinstance(value, (np.ndarray, torch.Tensor)):
        arr = to_numpy(value)
        arr = arr.reshape([n for n in arr.shape if n != 1] or ())
        text = np.array2string(arr, precision=3, suppress_small=True, separator=" ",
                               prefix=prefix, max_line_width=100)
        return prefix + text
    return prefix + _short(value)


# --------------------------------------------------------------------------- text helpers

def _type_name(x) -> str:
    if x is None:
        return "None"
    if isinstance(x, torch.Tensor):
        return "a torch tensor"
    if isinstance(x, np.ndarray):
        return "a NumPy array"
    if isinstance(x, (bool, np.bool_)):
        return "a bool"
    if isinstance(x, np.generic):
        return f"a NumPy {type(x).__name__}"
    if callable(x) and hasattr(x, "__name__"):
        return f"the function {x.__name__}"
    name = type(x).__name__
    return f"an {name}" if name[0] in "aeiou" else f"a {name}"


def _num(x, sign: bool = False, digits: int = 4) -> str:
    x = complex(x)
    if x.imag:
        return f"{x:.{digits}g}"
    x = x.real
    if float(x).is_integer() and abs(x) < 1e15:
        return f"{int(x):+,}" if sign else f"{int(x):,}"
    return f"{x:+.{digits}g}" if sign else f"{x:.{digits}g}"


def _short(x) -> str:
    """A compact, deterministic description of a value."""
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, numbers.Integral):
        return f"{int(x):,}"
    if isinstance(x, numbers.Real):
        return f"{float(x):,.1f}" if float(x).is_integer() else _num(float(x))
    if isinstance(x, (np.ndarray, torch.Tensor)):
        kind = "tensor" if isinstance(x, torch.Tensor) else "array"
        dtype = str(x.dtype).replace("torch.", "")
        arr = to_numpy(x)
        if arr.dtype.kind in "biuf" and arr.ndim <= 1 and arr.size <= 6:
            vals = ", ".join(_num(v) for v in arr.ravel().tolist())
            return f"{dtype} {kind} [{vals}]" if arr.ndim else f"{dtype} {kind} {vals}"
        return f"{dtype} {kind} {tuple(x.shape)}"
    if isinstance(x, (list, tuple)):
        inner = ", ".join(_short(v) for v in x[:4]) + (", …" if len(x) > 4 else "")
        text = f"[{inner}]" if isinstance(x, list) else f"({inner}{',' if len(x) == 1 else ''})"
        return text if len(text) <= 60 else f"{type(x).__name__} of {len(x)}"
    if isinstance(x, str):
        return repr(x) if len(x) <= 40 else repr(x[:37] + "...")
    if isinstance(x, torch.nn.Module):
        return f"{type(x).__name__} module"
    return type(x).__name__


def _cases(n: int) -> str:
    return f"{n} case" if n == 1 else f"{n} cases"


def _describe_case(ex: Exercise, case: Case, index: int) -> str:
    try:
        bound = inspect.signature(ex.reference).bind_partial(*case.args, **case.kwargs)
        parts = [f"{k}={_short(v)}" for k, v in bound.arguments.items()]
    except (TypeError, ValueError):
        parts = [_short(a) for a in case.args] + [f"{k}={_short(v)}" for k, v in
                                                  case.kwargs.items()]
    label = f"{case.label}; " if case.label else ""
    text = f"#{index + 1} ({label}{', '.join(parts)})"
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT - 1] + "…)"


def _clean(text: str) -> str:
    """One line, no memory addresses, bounded length (deterministic messages)."""
    text = re.sub(r"0x[0-9a-fA-F]{4,}", "0x…", " ".join(str(text).split()))
    return text if len(text) <= 200 else text[:199] + "…"
