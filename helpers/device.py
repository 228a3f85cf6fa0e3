"""Device choice and seeding: one place that makes every run reproducible; and the way back
from any device to NumPy (:func:`to_numpy`)."""
from __future__ import annotations

import os
import random

import numpy as np
import torch


def to_numpy(value, dtype=None) -> np.ndarray:
    """A tensor (on any device, with or without grad) or anything array-like -> a NumPy array.

    Half-precision tensors become float32 (NumPy has no bfloat16); ``dtype`` casts the result.
    """
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        if value.dtype in (torch.bfloat16, torch.float16):
            value = value.float()
        value = value.numpy()
    return np.asarray(value, dtype=dtype)


def get_device() -> torch.device:
    """The best available device: cuda, then mps (Apple silicon), then cpu."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


SEED_SHIFT_ENV = "CNN_COURSE_SEED_SHIFT"


def shifted_seed(seed: int) -> int:
    """``seed`` moved by ``$CNN_COURSE_SEED_SHIFT`` (default 0).

    Every seed the helpers use passes through here, so running a chapter with
    ``CNN_COURSE_SEED_SHIFT=1`` repeats each of its experiments with other random draws: a
    finding that holds only for the default seeds is luck, not evidence.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    shift = os.environ.get(SEED_SHIFT_ENV, "0")
    if not shift.isdigit():
        raise ValueError(f"{SEED_SHIFT_ENV} must be a non-negative integer, got {shift!r}")
    return seed + int(shift)


def seed_everything(seed: int = 0) -> int:
    """Seed Python, NumPy and torch (all devices) with ``shifted_seed(seed)``; returns it.

    Not the hashing of strings: Python fixes its hash randomisation when the interpreter
    starts, from ``PYTHONHASHSEED``, so setting that variable here would change nothing. The
    course's kernels get ``PYTHONHASHSEED=0`` before they start (``tools/kernel.env``, used by
    ``make`` and ``python -m tools.notebooks``).
    """
    seed = shifted_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return seed


def progress_enabled() -> bool:
    """Progress bars are on, except when CNN_COURSE_NO_PROGRESS=1 (stored notebook outputs)."""
    return os.environ.get("CNN_COURSE_NO_PROGRESS", "0") != "1"
