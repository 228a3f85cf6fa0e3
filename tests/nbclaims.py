"""pytest plugin (``-p tests.nbclaims``): nbval compares everything a chapter shows, but not the
claim records themselves.

A claim's record (``helpers.claims``) holds the measured value at full precision, its margin
and its verdict. Under ``make test`` the claim is checked in code when the cell runs (strict
mode raises), so comparing the stored record too would only compare the last bits of floats,
which differ between CPUs. The quoted value (the record's ``text/plain``, 6 significant
digits) is still compared like any other output.
"""
from __future__ import annotations

from helpers.claims import CLAIM_MIME, GLUE_PREFIX

RECORD = GLUE_PREFIX + CLAIM_MIME


def pytest_collection_modifyitems(session, config, items):
    for item in items:
        notebook = getattr(item, "parent", None)
        skip = getattr(notebook, "skip_compare", None)
        if skip is not None and RECORD not in skip:
            notebook.skip_compare = (*skip, RECORD)
