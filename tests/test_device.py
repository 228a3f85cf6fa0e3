"""helpers.device: to_numpy from any tensor or array-like (seeding is tested with the chapters)."""
from __future__ import annotations

import os

import numpy as np
import torch

from helpers.device import to_numpy


def test_to_numpy_from_tensors_arrays_and_lists():
    t = torch.arange(6, dtype=torch.float32).reshape(2, 3).requires_grad_()
    np.testing.assert_array_equal(to_numpy(t), np.arange(6).reshape(2, 3))
    assert to_numpy(t.to(torch.bfloat16)).dtype == np.float32
    assert to_numpy([1, 2], dtype=np.float64).dtype == np.float64
    a = np.ones(3)
    assert to_numpy(a) is a


def test_seed_everything_leaves_the_environment_alone(monkeypatch):
    """Hash randomisation is fixed at interpreter start-up: seeding must not pretend to set it."""
    from helpers.device import seed_everything

    monkeypatch.delenv("PYTHONHASHSEED", raising=False)
    monkeypatch.delenv("CNN_COURSE_SEED_SHIFT", raising=False)
    assert seed_everything(3) == 3
    assert "PYTHONHASHSEED" not in os.environ
