"""How does a cost grow with the problem size? Count or time a function, fit ``y = c * x**a``.

    operator_macs(layer, x)                     # (batched products, linear) multiply-adds
    cpu_seconds(lambda: attention(q, k, v))     # one thread, the process's own CPU clock

    seconds = [time_call(lambda: attention(q[:t], k[:t], v[:t])) for t in sizes]
    fit_power_law(sizes, seconds).exponent      # about 2 for self-attention at large T

The exponent is the slope of the least-squares line through (log x, log y): doubling x
multiplies y by 2**a.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class PowerLaw:
    """``y = coefficient * x ** exponent``, fitted in log-log space."""

    exponent: float
    coefficient: float

    def __call__(self, x):
        return self.coefficient * np.asarray(x, dtype=float) ** self.exponent


def fit_power_law(x: Sequence[float], y: Sequence[float]) -> PowerLaw:
    """Least-squares fit of log y = log c + a log x over n >= 2 points with distinct x > 0
    and y > 0; returns ``PowerLaw(a, c)``."""
    xs, ys = np.asarray(x, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
    if xs.shape != ys.shape or xs.size < 2:
        raise ValueError(f"need two sequences of the same length >= 2, got {xs.size} x values "
                         f"and {ys.size} y values")
    if not (np.all(xs > 0) and np.all(ys > 0) and np.all(np.isfinite(xs))
            and np.all(np.isfinite(ys))):
        raise ValueError("a power law is fitted on the log scale: x and y must be finite and > 0")
    if np.unique(xs).size < 2:
        raise ValueError("need at least two different x values to fit a slope")
    slope, intercept = np.polyfit(np.log(xs), np.log(ys), 1)
    return PowerLaw(float(slope), float(math.exp(intercept)))


STATISTICS = {"min": min, "median": lambda times: float(np.median(times))}


def time_call(fn: Callable[[], object], repeats: int = 5, warmup: int = 1,
              statistic: str = "min", clock: Callable[[], float] = time.perf_counter) -> float:
    """Wall time of ``fn()`` in seconds: the ``statistic`` ("min" or "median") of ``repeats``
    timed calls, after ``warmup`` untimed ones.

    The minimum (what ``timeit`` recommends) is the run least disturbed by other programs on a
    shared machine; the median describes a typical run.
    """
    if not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be a positive int, got {repeats!r}")
    if not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"warmup must be a non-negative int, got {warmup!r}")
    if statistic not in STATISTICS:
        raise ValueError(f"statistic={statistic!r}: choose one of {sorted(STATISTICS)}")
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = clock()
        fn()
        times.append(clock() - start)
    return float(STATISTICS[statistic](times))


def operator_macs(fn: Callable, *args, **kwargs) -> tuple[int, int]:
    """Multiply-adds of the matrix operators that ``fn(*args, **kwargs)`` runs, as PyTorch's
    ``FlopCounterMode`` counts them (2 FLOPs per multiply-add): ``(batched, other)``, where
    *batched* is the batched products (``bmm``: attention's Q K^T and A V, one T x T matrix per
    head) and *other* everything else (``mm``/``addmm``: the linear layers). Works on the
    ``meta`` device, where tensors have shapes but no values and nothing is computed.

    >>> operator_macs(torch.nn.Linear(3, 2), torch.zeros(5, 3))      # 5 rows x 3 x 2
    (0, 30)
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as counter:
        fn(*args, **kwargs)
    flops = {str(op): n for op, n in counter.get_flop_counts()["Global"].items()}
    batched = flops.pop("aten.bmm", 0)
    return batched // 2, sum(flops.values()) // 2


def cpu_seconds(fn: Callable[[], object], repeats: int = 5) -> float:
    """CPU time of ``fn()`` on one thread: the fastest of ``repeats`` calls (after one untimed
    call), read from the process's own clock, so that other programs sharing the machine count
    as little as possible. PyTorch's thread count is restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return time_call(fn, repeats=repeats, clock=time.process_time)
    finally:
        torch.set_num_threads(threads)
