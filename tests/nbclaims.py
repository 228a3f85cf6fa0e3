"""pytest plugin (``-p tests.nbclaims``): how nbval compares what a chapter stores.

nbval compares every output of a re-executed chapter with the stored one, as text. Two kinds of
stored output hold floats whose last digits depend on the processor (its vector width, the
kernels PyTorch picks at run time, the number of threads and so the order of a sum):

* a **claim record** (``helpers.claims``) holds the measured value at full precision, its margin
  and its verdict. The claim is checked in code when the cell runs (strict mode raises), so the
  record itself is not compared;
* a **glued value** (the ``text/plain`` of a glue or claim record, 6 significant digits) is what
  a sentence quotes. It is compared as a number: floats agree when
  ``|test - stored| <= GLUE_ABS + GLUE_REL * |stored|``, ints, strings and booleans exactly. The
  tolerance sits far above float32 rounding (about 1e-7 relative) and far below anything a
  sentence quotes (3 significant digits at most, a test accuracy moves in steps of 1e-4).

Printed output (stdout) is compared exactly: a chapter prints a bound, not a rounding-level
difference (MAINTAINING.md, "Outputs every processor reproduces").
"""
from __future__ import annotations

import ast
import copy
import math

from helpers.claims import CLAIM_MIME, GLUE_PREFIX

RECORD = GLUE_PREFIX + CLAIM_MIME
GLUE_TEXT = GLUE_PREFIX + "text/plain"
GLUE_REL = 1e-4
GLUE_ABS = 1e-5


def _literal(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def values_agree(test, stored) -> bool:
    """Whether a re-computed glued value agrees with the stored one (floats within the
    tolerance, also inside tuples and lists; everything else exactly)."""
    if isinstance(stored, bool) or isinstance(test, bool):
        return test is stored
    if isinstance(stored, float) or isinstance(test, float):
        if not (isinstance(test, float) and isinstance(stored, float)):
            return False                                   # an int became a float, or back
        if math.isnan(stored) or math.isnan(test):
            return math.isnan(stored) and math.isnan(test)
        return abs(test - stored) <= GLUE_ABS + GLUE_REL * abs(stored)
    if isinstance(stored, (tuple, list)):
        return (type(test) is type(stored) and len(test) == len(stored)
                and all(values_agree(t, s) for t, s in zip(test, stored)))
    return test == stored


def _glue_texts(outputs) -> list[str]:
    return [o["data"][GLUE_TEXT] for o in outputs
            if o.get("output_type") == "display_data" and GLUE_TEXT in o.get("data", {})]


def align_glued_values(test: list, ref: list) -> list:
    """A copy of ``test`` in which every glued value that agrees with the stored one (in
    order) carries the stored text, so that nbval's text comparison sees only real changes."""
    stored = _glue_texts(ref)
    test = copy.deepcopy(test)
    i = 0
    for output in test:
        data = output.get("data", {}) if output.get("output_type") == "display_data" else {}
        if GLUE_TEXT not in data:
            continue
        if i < len(stored) and values_agree(_literal(data[GLUE_TEXT]), _literal(stored[i])):
            data[GLUE_TEXT] = stored[i]
        i += 1
    return test


def _tolerant(compare):
    def compare_outputs(test, ref, skip_compare=None):
        return compare(align_glued_values(test, ref), ref, skip_compare)
    return compare_outputs


def pytest_collection_modifyitems(session, config, items):
    for item in items:
        notebook = getattr(item, "parent", None)
        skip = getattr(notebook, "skip_compare", None)
        if skip is None:
            continue
        if RECORD not in skip:
            notebook.skip_compare = (*skip, RECORD)
        if hasattr(item, "compare_outputs") and not getattr(item, "_glue_tolerant", False):
            item.compare_outputs = _tolerant(item.compare_outputs)
            item._glue_tolerant = True
