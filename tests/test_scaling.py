"""helpers.scaling: power-law fits and the timer."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.scaling import PowerLaw, fit_power_law, median_seconds


@settings(max_examples=30, deadline=None)
@given(a=st.floats(-3, 3), c=st.floats(1e-6, 1e3),
       xs=st.lists(st.integers(1, 10_000), min_size=2, max_size=8, unique=True))
def test_exact_power_laws_are_recovered(a, c, xs):
    ys = [c * x ** a for x in xs]
    law = fit_power_law(xs, ys)
    assert law.exponent == pytest.approx(a, abs=1e-6)
    assert law.coefficient == pytest.approx(c, rel=1e-5)
    np.testing.assert_allclose(law(xs), ys, rtol=1e-5)


def test_noise_moves_the_exponent_only_a_little():
    rng = np.random.default_rng(0)
    xs = np.array([256, 512, 1024, 2048, 4096])
    ys = 3e-9 * xs ** 2 * rng.uniform(0.9, 1.1, size=xs.size)  # +-10 % timing noise
    assert fit_power_law(xs, ys).exponent == pytest.approx(2, abs=0.1)


def test_power_law_is_callable():
    assert PowerLaw(2.0, 3.0)(4) == pytest.approx(48.0)


@pytest.mark.parametrize("x,y,match", [
    ([1], [1], "length >= 2"),
    ([1, 2, 3], [1, 2], "same length"),
    ([0, 1], [1, 2], "> 0"),
    ([1, 2], [1, -2], "> 0"),
    ([1, 2], [1, float("inf")], "finite"),
    ([3, 3], [1, 2], "two different x"),
])
def test_bad_input_raises(x, y, match):
    with pytest.raises(ValueError, match=match):
        fit_power_law(x, y)


def test_median_seconds_uses_the_clock_and_skips_warmup():
    calls = []
    ticks = itertools.count()
    # each timed call spans 1, 2, 3, ... ticks of the fake clock: starts at t, ends at t + k
    times = iter([0, 1, 10, 12, 20, 23, 30, 34, 40, 45])
    result = median_seconds(lambda: calls.append(next(ticks)), repeats=5, warmup=2,
                            clock=lambda: next(times))
    assert len(calls) == 7
    assert result == 3.0


@pytest.mark.parametrize("kwargs", [{"repeats": 0}, {"warmup": -1}, {"repeats": 1.5}])
def test_median_seconds_rejects_bad_counts(kwargs):
    with pytest.raises(ValueError):
        median_seconds(lambda: None, **kwargs)
