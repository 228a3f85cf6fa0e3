"""helpers.experiments.scaling: power-law fits and the timer."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.experiments.scaling import PowerLaw, fit_power_law, time_call


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


def _fake_clock():
    """Timed call k (k = 1..5) spans k ticks, in the order 3, 1, 5, 2, 4."""
    return iter([0, 3, 10, 11, 20, 25, 30, 32, 40, 44]).__next__


@pytest.mark.parametrize("statistic,expected", [("min", 1.0), ("median", 3.0)])
def test_time_call_uses_the_clock_and_skips_warmup(statistic, expected):
    calls = []
    result = time_call(lambda: calls.append(1), repeats=5, warmup=2, statistic=statistic,
                       clock=_fake_clock())
    assert len(calls) == 7
    assert result == expected


def test_time_call_times_real_work():
    assert 0 < time_call(lambda: sum(range(1000)), repeats=2) < 1


@pytest.mark.parametrize("kwargs", [{"repeats": 0}, {"warmup": -1}, {"repeats": 1.5},
                                    {"statistic": "mean"}])
def test_time_call_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        time_call(lambda: None, **kwargs)


def test_operator_macs_counts_linear_layers_and_attention_products():
    import torch

    from helpers.attention import MultiHeadSelfAttention
    from helpers.experiments.scaling import operator_macs
    from helpers.summary import count_macs

    assert operator_macs(torch.nn.Linear(3, 2), torch.zeros(5, 3)) == (0, 30)
    layer = MultiHeadSelfAttention(16, 4)
    for t in (5, 12):
        x = torch.zeros(1, t, 16)
        batched, other = operator_macs(layer, x)
        by_layer = count_macs(layer, x, by_layer=True)       # hooks on layer shapes: independent
        assert batched == 2 * t * t * 16 == by_layer[""]
        assert other == 4 * t * 16 * 16 == by_layer["qkv"] + by_layer["proj"]
    with torch.device("meta"):                                # shapes only
        assert operator_macs(torch.nn.Linear(4, 4), torch.empty(2, 4)) == (0, 32)
    with pytest.raises(TypeError):
        operator_macs(3)


def test_cpu_seconds_restores_the_threads():
    import torch

    from helpers.experiments.scaling import cpu_seconds
    before = torch.get_num_threads()
    assert cpu_seconds(lambda: sum(range(1000)), repeats=2) >= 0
    assert torch.get_num_threads() == before
