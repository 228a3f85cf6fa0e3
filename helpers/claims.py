"""Claims: the numbers the text states, computed, checked and recorded.

Every number a chapter states comes from code. Two kinds of record, named honestly:

* a **computed number** (:func:`computed`: arithmetic on settings, a count, a shape) makes the
  prose exact but could not have come out otherwise, so it is not evidence: it has no test;
* a **claim** (:func:`claim`) is a statement a measurement could contradict. It checks the
  measured value against what the sentence says and records it as structured data:

  - an **exact** claim (two independent computations that must agree, such as a from-scratch
    layer and PyTorch's; a count that depends on training) must equal its stated value;
  - an **empirical** claim (an accuracy, a fitted slope, a ratio of two training runs) must
    clear a threshold, and the record keeps the *margin* by which it did.

The record is stored in the cell's output in the format of myst-nb's ``glue`` (without
needing myst-nb, so it works on Colab too). The reader does not see it; the text quotes the
measured value with ``{glue:text}`ch01.corner-gap:.2f``` so a sentence cannot go stale, and
the audit page (``python -m tools.ledger``) lists every record with its test and margin.

When a claim does not hold:

* under ``make test`` and ``make execute`` (``CNN_COURSE_STRICT_CLAIMS=1``) it raises
  :class:`ClaimError` and the run fails;
* anywhere else (a learner pressing Run all on Colab) it prints a warning with the measured
  value and the notebook carries on.
"""
from __future__ import annotations

import math
import os
import re
import sys
from dataclasses import asdict, dataclass
from numbers import Number

KEY_RE = re.compile(r"^ch\d{2}\.[a-z0-9][a-z0-9._-]*$")
GLUE_PREFIX = "application/papermill.record/"  # myst-nb: stored, not displayed
CLAIM_MIME = "application/vnd.cnn-course.claim+json"
STRICT_ENV = "CNN_COURSE_STRICT_CLAIMS"
KINDS = ("exact", "empirical")       # claims: statements that could have failed
COMPUTED = "computed"                 # computed numbers: no test, not evidence


class ClaimError(AssertionError):
    """A stated claim did not hold for the measured value (strict mode only)."""


@dataclass(frozen=True)
class Claim:
    """One checked statement: what the text says, what was measured, and by how much it held."""

    key: str
    sentence: str
    kind: str
    value: object
    shown: str
    test: str
    holds: bool
    margin: float | None = None          # distance to the threshold, in the value's units
    relative_margin: float | None = None  # margin / |threshold|


def format_value(value, unit: str = "") -> str:
    """Readable value: ints with thousands separators, floats with 4 significant digits."""
    if isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, int):
        text = f"{value:,}"
    elif isinstance(value, float):
        text = f"{value:,.4g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.3e}"
    elif isinstance(value, (tuple, list)):
        text = "(" + ", ".join(format_value(v) for v in value) + ")"
    else:
        text = str(value)
    return f"{text} {unit}".rstrip()


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def tolerance(value: float) -> str:
    """A tolerance or bound as a reader writes it: ``1e-06`` -> ``"10⁻⁶"``, ``5e-4`` ->
    ``"5×10⁻⁴"``, ``0.01`` -> ``"0.01"``.

    Used for the stated side of a comparison (``f"equal to {tolerance(1e-9)}"``), so a stored
    output shows the tolerance, never a computed rounding-level value.
    """
    if not value > 0:
        raise ValueError(f"a tolerance must be positive, got {value!r}")
    mantissa, exponent = f"{value:.0e}".split("e")
    exponent = int(exponent)
    if -3 <= exponent <= 3:
        return f"{float(value):g}"
    power = f"10{str(exponent).translate(_SUPERSCRIPT)}"
    return power if mantissa == "1" else f"{mantissa}×{power}"


def below(difference: float, bound: float) -> str:
    """A measured difference stated as a bound: ``"below 10⁻⁶"`` when it is under
    ``bound``, else the value itself and the tolerance it exceeds.

    The last digits of a rounding-level difference (``3.8e-07`` here, ``7.6e-07`` on another
    processor) depend on the CPU's vector width and the number of threads, so a stored output
    states the bound, never the value: ``print("largest difference", below(err, 1e-6))``.
    """
    if not bound > 0:
        raise ValueError(f"bound must be a positive tolerance, got {bound!r}")
    difference = float(difference)
    if difference < bound:
        return f"below {tolerance(bound)}"
    return f"{difference:.1e}, above the tolerance {tolerance(bound)}"


def strict() -> bool:
    """True under ``make test`` / ``make execute``: a claim that fails stops the run."""
    return os.environ.get(STRICT_ENV, "0") == "1"


def _plain(value):
    """numpy / torch scalars and tuples as plain Python values (JSON- and glue-friendly)."""
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        value = value.item()
    if isinstance(value, (tuple, list)):
        return type(value)(_plain(v) for v in value)
    return value


def _test_and_margin(value, equals, rel, at_least, at_most):
    """The test as text, whether it holds, the margin (the smallest distance to a threshold,
    positive when it holds) and that threshold."""
    if equals is not None:
        if rel and isinstance(value, Number) and isinstance(equals, Number):
            return f"= {format_value(equals)} ± {rel:.1%}", math.isclose(value, equals,
                                                                         rel_tol=rel), None, None
        return f"= {format_value(equals)}", value == equals, None, None
    tests, margins = [], []
    if at_least is not None:
        tests.append(f"≥ {format_value(at_least)}")
        margins.append((value - at_least, at_least))
    if at_most is not None:
        tests.append(f"≤ {format_value(at_most)}")
        margins.append((at_most - value, at_most))
    margin, threshold = min(margins, key=lambda m: m[0])
    return " and ".join(tests), margin >= 0, margin, threshold


def check(key: str, sentence: str, value, *, equals=None, rel: float = 0.0, at_least=None,
          at_most=None, kind: str | None = None, unit: str = "") -> Claim:
    """The record of a claim: its test, whether ``value`` passes it, and by what margin.

    ``key`` is ``chNN.short-name``, unique in the book. Give ``equals`` (with an optional
    relative tolerance ``rel``, for a rounded figure) or a threshold ``at_least`` /
    ``at_most``. ``kind`` defaults to "exact" for ``equals`` and "empirical" for thresholds.
    """
    _check_key_and_sentence(key, sentence)
    if equals is None and at_least is None and at_most is None:
        raise ValueError(f"claim {key!r} checks nothing: give equals, at_least or at_most")
    if equals is not None and (at_least is not None or at_most is not None):
        raise ValueError(f"claim {key!r}: give equals or a threshold, not both")
    kind = kind or ("exact" if equals is not None else "empirical")
    if kind not in KINDS:
        raise ValueError(f"claim {key!r}: kind must be one of {KINDS}, got {kind!r}")
    plain = _plain(value)
    test, holds, margin, threshold = _test_and_margin(plain, equals, rel, at_least, at_most)
    relative = (None if margin is None or not threshold
                else float(margin) / abs(float(threshold)))
    return Claim(key, sentence, kind, plain, format_value(plain, unit), test, bool(holds),
                 None if margin is None else float(margin), relative)


def _check_key_and_sentence(key: str, sentence: str) -> None:
    if not isinstance(key, str) or not KEY_RE.match(key):
        raise ValueError(f"claim key {key!r} must look like 'ch05.rf-50-layers'")
    if not isinstance(sentence, str) or "\n" in sentence or not sentence.strip():
        raise ValueError(f"claim {key!r}: the sentence is one non-empty line")


def computed(key: str, sentence: str, value, *, unit: str = "") -> None:
    """Store a computed number the text quotes (``{glue:text}`key```), with the sentence that
    states it, for the ledger's list of computed numbers.

    For arithmetic on settings, counts and shapes: values that could not have come out
    otherwise. It has no test, because it could not fail; use :func:`claim` for a statement a
    measurement could contradict.
    """
    _check_key_and_sentence(key, sentence)
    plain = _plain(value)
    _publish(Claim(key, sentence, COMPUTED, plain, format_value(plain, unit), "", True))


def claim(key: str, sentence: str, value, **test) -> None:
    """Check ``value`` against the sentence (see :func:`check` for the arguments), store the
    record unseen in the cell's output, and raise (strict) or warn (learner) if it fails."""
    record = check(key, sentence, value, **test)
    _publish(record)
    if record.holds:
        return
    message = f"claim [{key}] {sentence}: measured {record.shown}, the text needs {record.test}"
    if strict():
        raise ClaimError(message + " (does not hold)")
    print(f"⚠ This run differs from the book: {message}. Results move a little with the "
          "hardware, the library versions and the random seed; the notebook carries on.",
          file=sys.stderr)


def glue(key: str, value) -> None:
    """Store ``value`` under ``key`` for the text to quote (``{glue:text}`key```), unseen."""
    _emit(key, {"text/plain": quotable(value)})


def quotable(value) -> str:
    """The stored text of a value: its Python repr, floats to 6 significant digits (what a
    sentence can quote; the last bits of a float differ between CPUs)."""
    return repr(_rounded(_plain(value)))


def _rounded(value):
    """Floats, also inside tuples and lists, to 6 significant digits."""
    if isinstance(value, float):
        return float(f"{value:.6g}")
    if isinstance(value, (tuple, list)):
        return type(value)(_rounded(v) for v in value)
    return value


def _publish(record: Claim) -> None:
    data = asdict(record)
    if not _json_safe(data["value"]):
        data["value"] = record.shown
    _emit(record.key, {"text/plain": quotable(record.value), CLAIM_MIME: data})


def _json_safe(value) -> bool:
    return value is None or isinstance(value, (bool, int, float, str)) or (
        isinstance(value, (tuple, list)) and all(_json_safe(v) for v in value))


def _emit(key: str, bundle: dict) -> None:
    """Write a myst-nb glue record into the cell's outputs (a no-op outside IPython)."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # plain Python: nothing to store the record in
        return
    if get_ipython() is None:
        return
    display({GLUE_PREFIX + mime: data for mime, data in bundle.items()}, raw=True,
            metadata={"scrapbook": {"name": key, "mime_prefix": GLUE_PREFIX}})
