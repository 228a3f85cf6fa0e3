"""helpers.claims: a claim prints its ledger line when it holds and raises when it does not."""
from __future__ import annotations

import pytest

from helpers.claims import LINE_RE, ClaimError, claim, format_value


def test_holding_claim_prints_a_ledger_line(capsys):
    assert claim("ch01.dense", "Dense layer weights", 65_536_000, equals=65_536_000) == 65_536_000
    line = capsys.readouterr().out.strip()
    m = LINE_RE.match(line)
    assert m and m["key"] == "ch01.dense" and m["value"] == "65,536,000"


@pytest.mark.parametrize("kwargs", [
    {"equals": 10}, {"equals": 10.0, "rel": 0.01}, {"at_least": 12}, {"at_most": 3},
    {"holds": False},
])
def test_failing_claim_raises_with_the_reason(kwargs, capsys):
    with pytest.raises(ClaimError, match=r"\[ch02.x\] thing does not hold"):
        claim("ch02.x", "thing", 11, **kwargs)
    assert capsys.readouterr().out == ""


def test_tolerance_and_bounds():
    claim("ch03.a", "close enough", 99.5, equals=100, rel=0.01)
    claim("ch03.b", "in range", 0.7, at_least=0.5, at_most=0.9)
    claim("ch03.c", "a condition", True, holds=True)


@pytest.mark.parametrize("key, statement, kwargs", [
    ("bad key", "s", {"equals": 1}),
    ("ch01.ok", "has: colon", {"equals": 1}),
    ("ch01.ok", "checks nothing", {}),
])
def test_malformed_claims_are_rejected(key, statement, kwargs):
    with pytest.raises(ValueError):
        claim(key, statement, 1, **kwargs)


def test_format_value():
    assert format_value(1234567) == "1,234,567"
    assert format_value(0.98765) == "0.9877"
    assert format_value((254, 254)) == "(254, 254)"
    assert format_value(True) == "yes"
    assert format_value(3.5, "s") == "3.5 s"
