"""Book tooling: chapter metadata, notebook sync, learner notebooks, ledger, timings, bench.

Not installed with ``helpers`` (which learners import on Colab); run from the repository root
as ``python -m tools.<module>``. ``tools.book`` is the one place that knows repository paths
and chapter metadata.
"""
