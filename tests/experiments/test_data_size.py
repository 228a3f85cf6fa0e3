"""helpers.experiments.data_size: the held-out split, training, choosing a rate, the sweep."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers.experiments import data_size
from helpers.experiments.data_size import choose_lr, data_sweep, hold_out, spread, train


def _data(n=60):
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8), np.arange(n) % 10


def test_hold_out_is_disjoint_complete_and_fixed(monkeypatch):
    x, y = _data()
    x = x.copy()
    x[:, 0, 0] = np.arange(60)                        # an id in every image
    (xp, yp), (xv, yv) = hold_out(x, y, 15)
    assert len(xp) == 45 and len(xv) == 15 and len(yp) == 45 and len(yv) == 15
    ids_pool, ids_val = set(xp[:, 0, 0]), set(xv[:, 0, 0])
    assert not ids_pool & ids_val and len(ids_pool | ids_val) == 60
    monkeypatch.setenv("CNN_COURSE_SEED_SHIFT", "1")  # the split is data, not a seed
    (_, _), (xv2, _) = hold_out(x, y, 15)
    np.testing.assert_array_equal(xv, xv2)
    assert set(hold_out(x, y, 15, seed=1)[1][0][:, 0, 0]) != ids_val
    for bad in (0, 60):
        with pytest.raises(ValueError, match="n_validation"):
            hold_out(x, y, bad)


def test_train_is_reproducible_and_checks_epochs():
    x, y = _data(32)
    a = train(data_size.make_cnn, x, y, epochs=1, lr=1e-3, batch_size=16, seed=3)
    b = train(data_size.make_cnn, x, y, epochs=1, lr=1e-3, batch_size=16, seed=3)
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)
    with pytest.raises(ValueError, match="epochs"):
        train(data_size.make_cnn, x, y, epochs=0, lr=1e-3)


def test_choose_lr_takes_the_best_and_the_smaller_on_a_tie(monkeypatch):
    scores = {1e-3: 0.5, 3e-3: 0.7, 1e-2: 0.7, 3e-2: 0.1}
    monkeypatch.setattr(data_size, "train_and_test", lambda *a, lr, **k: scores[lr])
    best, tried = choose_lr(None, None, None, None, None, lrs=list(scores)[::-1], epochs=1)
    assert best == 3e-3 and tried == scores
    with pytest.raises(ValueError, match="empty"):
        choose_lr(None, None, None, None, None, lrs=())


def test_data_sweep_shapes_and_rates(monkeypatch):
    calls = []

    def fake(build, x, y, xe, ye, *, lr, seed, epochs):
        calls.append((build(), len(x), lr, seed))
        return lr + seed

    monkeypatch.setattr(data_size, "train_and_test", fake)
    x, y = _data()
    out = data_sweep({"a": lambda: "A", "b": lambda: "B"}, (x, y), (x, y), sizes=(10, 20),
                     lrs={("a", 10): 1, ("a", 20): 2, ("b", 10): 3, ("b", 20): 4},
                     seeds=(0, 10), epochs=1)
    assert out == {"a": [[1, 11], [2, 12]], "b": [[3, 13], [4, 14]]}
    assert ("A", 20, 2, 10) in calls and len(calls) == 8


def test_spread_and_the_chapter_models():
    assert spread([0.5, 0.7, 0.6]) == pytest.approx((0.6, 0.5, 0.7))
    with pytest.raises(ValueError):
        spread([])
    assert data_size.make_cnn()(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert data_size.make_vit()(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert data_size.EPOCHS >= 1 and sorted(data_size.LRS) == list(data_size.LRS)
