"""The nbval comparison rules of tests/nbclaims.py: a glued number that moved by rounding is
the same number; one that moved by more is reported; everything else compares exactly."""
from __future__ import annotations

import pytest
from nbformat.v4 import new_output

from tests.nbclaims import GLUE_TEXT, align_glued_values, values_agree


@pytest.mark.parametrize("test, stored", [
    (0.889939, 0.889938), (4.76837e-07, 7.15256e-07), (98.51, 98.51), (3, 3),
    ((0.5000001, 2), (0.5, 2)), ([1.0, 2.0], [1.0, 2.00001]), ("text", "text"), (True, True),
])
def test_rounding_level_changes_agree(test, stored):
    assert values_agree(test, stored)


@pytest.mark.parametrize("test, stored", [
    (0.8901, 0.8899), (98.52, 98.51), (4, 3), (3.0001, 3), ((0.5, 2), (0.5, 3)),
    ((0.5, 2), [0.5, 2]), ((1.0,), (1.0, 2.0)), ("texts", "text"), (True, 1), (1, True),
    (float("nan"), 1.0), ("0.5", 0.5),
])
def test_real_changes_do_not(test, stored):
    assert not values_agree(test, stored)


def _glue(text):
    return new_output("display_data", data={GLUE_TEXT: text})


def test_only_agreeing_glued_values_take_the_stored_text():
    stored = [_glue("0.889938"), new_output("stream", name="stdout", text="a\n"), _glue("0.5")]
    test = [_glue("0.889939"), new_output("stream", name="stdout", text="b\n"), _glue("0.6")]
    aligned = align_glued_values(test, stored)
    assert aligned[0]["data"][GLUE_TEXT] == "0.889938"
    assert aligned[1]["text"] == "b\n", "printed output is compared exactly, as printed"
    assert aligned[2]["data"][GLUE_TEXT] == "0.6", "a real change still shows"
    assert test[0]["data"][GLUE_TEXT] == "0.889939", "the test outputs are not modified"
