"""helpers.claims: a claim is a structured record, checked strictly under make test and
reported as a warning in a learner's notebook."""
from __future__ import annotations

import json

import pytest

from helpers import claims
from helpers.claims import CLAIM_MIME, GLUE_PREFIX, ClaimError, check, claim, format_value


@pytest.fixture
def emitted(monkeypatch):
    """The bundles claim/glue would store in the notebook: (key, bundle) pairs."""
    out = []
    monkeypatch.setattr(claims, "_emit", lambda key, bundle: out.append((key, bundle)))
    return out


def test_exact_claim_records_its_test(emitted, monkeypatch):
    monkeypatch.setenv(claims.STRICT_ENV, "1")
    assert claim("ch01.dense", "Dense layer weights", 65_536_000, equals=65_536_000) is None
    (key, bundle), = emitted
    record = bundle[CLAIM_MIME]
    assert key == "ch01.dense" and bundle["text/plain"] == "65536000"
    assert record["kind"] == "exact" and record["test"] == "= 65,536,000" and record["holds"]
    assert record["margin"] is None
    json.dumps(record)  # stored in the notebook as JSON


@pytest.mark.parametrize("kwargs, margin, relative", [
    ({"at_least": 0.5}, 0.25, 0.5),
    ({"at_most": 1.0}, 0.25, 0.25),
    ({"at_least": 0.5, "at_most": 0.8}, 0.05, 0.0625),  # the nearer threshold counts
])
def test_empirical_claim_keeps_its_margin(kwargs, margin, relative):
    record = check("ch01.acc", "accuracy", 0.75, **kwargs)
    assert record.kind == "empirical" and record.holds
    assert record.margin == pytest.approx(margin)
    assert record.relative_margin == pytest.approx(relative)


@pytest.mark.parametrize("kwargs", [
    {"equals": 10}, {"equals": 10.0, "rel": 0.01}, {"at_least": 12}, {"at_most": 3},
])
def test_failing_claim_raises_in_strict_mode(kwargs, emitted, monkeypatch):
    monkeypatch.setenv(claims.STRICT_ENV, "1")
    with pytest.raises(ClaimError, match=r"\[ch02.x\] thing: measured 11"):
        claim("ch02.x", "thing", 11, **kwargs)
    assert emitted[0][1][CLAIM_MIME]["holds"] is False


def test_failing_claim_warns_and_carries_on_for_a_learner(emitted, monkeypatch, capsys):
    monkeypatch.delenv(claims.STRICT_ENV, raising=False)
    claim("ch02.x", "thing", 11, at_least=12)
    err = capsys.readouterr().err
    assert "⚠" in err and "measured 11" in err and "≥ 12" in err


def test_numpy_and_torch_scalars_are_stored_as_plain_numbers():
    np = pytest.importorskip("numpy")
    torch = pytest.importorskip("torch")
    assert check("ch03.n", "n", np.int64(3), equals=3).value == 3
    assert isinstance(check("ch03.t", "t", torch.tensor(0.5), at_least=0.1).value, float)


def test_glue_stores_a_quotable_value(emitted):
    claims.glue("ch01.n-test", 2000)
    assert emitted == [("ch01.n-test", {"text/plain": "2000"})]


def test_emit_writes_a_myst_nb_glue_record(monkeypatch):
    shown = []
    ipython = pytest.importorskip("IPython")
    monkeypatch.setattr(ipython, "get_ipython", lambda: object())
    monkeypatch.setattr("IPython.display.display",
                        lambda data, raw, metadata: shown.append((data, metadata)))
    claims._emit("ch01.k", {"text/plain": "1"})
    (data, metadata), = shown
    assert data == {GLUE_PREFIX + "text/plain": "1"}
    assert metadata["scrapbook"] == {"name": "ch01.k", "mime_prefix": GLUE_PREFIX}


@pytest.mark.parametrize("key, sentence, kwargs", [
    ("bad key", "s", {"equals": 1}),
    ("ch01.ok", "two\nlines", {"equals": 1}),
    ("ch01.ok", "checks nothing", {}),
    ("ch01.ok", "both", {"equals": 1, "at_least": 0}),
    ("ch01.ok", "odd kind", {"equals": 1, "kind": "vibes"}),
])
def test_malformed_claims_are_rejected(key, sentence, kwargs):
    with pytest.raises(ValueError):
        check(key, sentence, 1, **kwargs)


def test_format_value():
    assert format_value(1234567) == "1,234,567"
    assert format_value(0.98765) == "0.9877"
    assert format_value((254, 254)) == "(254, 254)"
    assert format_value(True) == "yes"
    assert format_value(3.5, "s") == "3.5 s"


def test_quoted_floats_keep_six_significant_digits():
    assert claims.quotable(0.123456789) == "0.123457"
    assert claims.quotable((1.0000001, 2)) == "(1.0, 2)"
    assert claims.quotable(65536) == "65536"


@pytest.mark.parametrize("difference, text", [(3.8e-7, "below 10⁻⁶"), (0.0, "below 10⁻⁶"),
                                              (2e-6, "2.0e-06, above the tolerance 10⁻⁶")])
def test_below_states_a_bound_not_rounding_noise(difference, text):
    from helpers.claims import below

    assert below(difference, 1e-6) == text


@pytest.mark.parametrize("value, text", [(1e-9, "10⁻⁹"), (1e-5, "10⁻⁵"), (5e-4, "5×10⁻⁴"),
                                         (1e-12, "10⁻¹²"), (0.01, "0.01"), (1e4, "10⁴")])
def test_tolerance_is_written_as_a_power_of_ten(value, text):
    from helpers.claims import tolerance

    assert tolerance(value) == text


def test_below_needs_a_positive_tolerance():
    from helpers.claims import below

    with pytest.raises(ValueError, match="tolerance"):
        below(1e-7, 0)


def test_below_takes_its_bound_by_keyword():
    from helpers.claims import below

    assert below(2e-6, bound=1e-5) == below(2e-6, 1e-5) == "below 10⁻⁵"


def test_computed_number_is_stored_without_a_test(emitted):
    from helpers.claims import COMPUTED, computed

    computed("ch02.flops-3x3", "A 3×3 convolution costs 9 multiply-adds per output", 3 * 3)
    (key, bundle), = emitted
    record = bundle[CLAIM_MIME]
    assert key == "ch02.flops-3x3" and bundle["text/plain"] == "9"
    assert record["kind"] == COMPUTED and record["test"] == "" and record["holds"]
    assert record["margin"] is None


@pytest.mark.parametrize("key, sentence", [("flops", "ok"), ("ch02.x", ""), ("ch02.x", "a\nb")])
def test_computed_number_needs_a_key_and_a_sentence(key, sentence):
    from helpers.claims import computed

    with pytest.raises(ValueError):
        computed(key, sentence, 1)
