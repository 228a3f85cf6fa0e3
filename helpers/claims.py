"""Quantitative claims: compute a number, check it, and record it for the claims ledger.

Every number the book states goes through :func:`claim`. It checks the measured value
against the stated expectation, raises :class:`ClaimError` if it does not hold (so the
notebook, and therefore ``make test``, fails), and prints one line::

    ✓ claim [ch01.dense-weights] A dense layer ... has 65.5 M weights: measured 65,536,000

The ledger page (``chapters/ledger.md``, built by ``python -m helpers.ledger``) collects
these lines from the stored outputs of every chapter.
"""
from __future__ import annotations

import math
import re
from numbers import Number

KEY_RE = re.compile(r"^ch\d{2}\.[a-z0-9][a-z0-9._-]*$")
LINE_RE = re.compile(r"^✓ claim \[(?P<key>[^\]]+)\] (?P<statement>.*): measured (?P<value>.*)$")


class ClaimError(AssertionError):
    """A stated claim did not hold for the measured value."""


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


def _check(value, equals, rel, at_least, at_most, holds) -> list[str]:
    problems = []
    if equals is not None:
        if rel and isinstance(value, Number) and isinstance(equals, Number):
            if not math.isclose(value, equals, rel_tol=rel):
                problems.append(f"expected {format_value(equals)} (±{rel:.1%}), "
                                f"got {format_value(value)}")
        elif value != equals:
            problems.append(f"expected {format_value(equals)}, got {format_value(value)}")
    if at_least is not None and not value >= at_least:
        problems.append(f"expected at least {format_value(at_least)}, got {format_value(value)}")
    if at_most is not None and not value <= at_most:
        problems.append(f"expected at most {format_value(at_most)}, got {format_value(value)}")
    if holds is not None and not holds:
        problems.append("the stated condition is false")
    return problems


def claim(key: str, statement: str, value, *, equals=None, rel: float = 0.0, at_least=None,
          at_most=None, holds: bool | None = None, unit: str = ""):
    """Check ``value`` against the claim and print its ledger line; returns ``value``.

    ``key`` is ``chNN.short-name`` (unique in the book). Give at least one of ``equals``
    (with optional relative tolerance ``rel``), ``at_least``, ``at_most`` or ``holds``.
    """
    if not KEY_RE.match(key):
        raise ValueError(f"claim key {key!r} must look like 'ch05.rf-50-layers'")
    if ":" in statement or "\n" in statement:
        raise ValueError("a claim statement is one line without ':' (the ledger splits on it)")
    if equals is None and at_least is None and at_most is None and holds is None:
        raise ValueError(f"claim {key!r} checks nothing: give equals, at_least, at_most or holds")
    problems = _check(value, equals, rel, at_least, at_most, holds)
    if problems:
        raise ClaimError(f"claim [{key}] {statement} does not hold: " + "; ".join(problems))
    print(f"✓ claim [{key}] {statement}: measured {format_value(value, unit)}")
    return value
