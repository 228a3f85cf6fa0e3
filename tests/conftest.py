"""Fixtures shared by the whole suite.

* ``one_thread`` -- one torch thread for a module (``pytestmark = usefixtures("one_thread")``):
  on a shared 2-core machine two spinning OpenMP threads are many times slower than one.
* ``agg_backend`` -- matplotlib draws off-screen (no display needed), whatever MPLBACKEND says.
* ``rng`` -- a NumPy generator seeded with 0, fresh for every test.
* ``grey_photo`` -- the grey "camera" photo (H, W) uint8 from ``data/``, read once.
* ``on_meta`` -- ``on_meta(name, **kwargs)`` builds a zoo model on the meta device.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch


@pytest.fixture(scope="module")
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def agg_backend():
    import matplotlib.pyplot as plt

    backend = plt.get_backend()
    plt.switch_backend("Agg")
    yield
    plt.switch_backend(backend)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def grey_photo() -> np.ndarray:
    from helpers.data import load_image

    return load_image("camera", gray=True)


@pytest.fixture(scope="session")
def on_meta():
    """``on_meta(name, **kwargs)``: a zoo model built on the meta device (shapes, no storage),
    for counting parameters and multiply-adds of full-size networks at no cost."""
    from helpers.models import get_model

    def build(name, **kwargs):
        with torch.device("meta"):
            return get_model(name, **kwargs)
    return build
