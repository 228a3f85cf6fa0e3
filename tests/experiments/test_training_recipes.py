"""helpers.experiments.training_recipes (chapter 6): random shifts, the augmented loader,
steps to a training error and train-and-score runs."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from helpers.experiments.training_recipes import (
    AugmentedLoader,
    background,
    he_init,
    random_shift,
    steps_to_error,
    steps_to_errors,
    train_and_score,
)
from helpers.train import fit, make_loader, steps_to_reach


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 4), c=st.integers(1, 3), h=st.integers(3, 9), w=st.integers(3, 9),
       m=st.integers(0, 3), seed=st.integers(0, 1000))
def test_random_shift_moves_each_image_by_at_most_m(n, c, h, w, m, seed):
    x = torch.rand(n, c, h, w) + 0.1            # all positive: zeros mark moved-in pixels
    g = torch.Generator().manual_seed(seed)
    out = random_shift(x, m, g)
    assert out.shape == x.shape
    for i in range(n):
        candidates = []
        for dy in range(-m, m + 1):
            for dx in range(-m, m + 1):
                ref = torch.zeros_like(x[i])
                ys, yd = slice(max(-dy, 0), h - max(dy, 0)), slice(max(dy, 0), h - max(-dy, 0))
                xs, xd = slice(max(-dx, 0), w - max(dx, 0)), slice(max(dx, 0), w - max(-dx, 0))
                ref[:, yd, xd] = x[i][:, ys, xs]
                candidates.append(torch.equal(out[i], ref))
        assert any(candidates)


def test_random_shift_zero_is_identity_and_flip_mirrors():
    x = torch.arange(2 * 1 * 3 * 4, dtype=torch.float32).reshape(2, 1, 3, 4)
    assert torch.equal(random_shift(x, 0), x)
    g = torch.Generator().manual_seed(0)
    out = random_shift(x, 0, g, flip=True)
    for i in range(2):
        assert torch.equal(out[i], x[i]) or torch.equal(out[i], x[i].flip(-1))


def test_random_shift_is_reproducible_and_validates():
    x = torch.rand(8, 1, 6, 6)
    a = random_shift(x, 2, torch.Generator().manual_seed(3))
    b = random_shift(x, 2, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    with pytest.raises(ValueError, match="N, C, H, W"):
        random_shift(torch.rand(6, 6), 1)
    with pytest.raises(ValueError, match="max_shift"):
        random_shift(x, -1)


def test_augmented_loader_wraps_batches():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(10, 6, 6)).astype(np.uint8)
    y = np.arange(10) % 3
    base = make_loader(x, y, batch_size=4, device="cpu")
    aug = AugmentedLoader(base, max_shift=1, seed=0)
    assert len(aug) == len(base) == 3
    batches = list(aug)
    assert [tuple(b[0].shape) for b in batches] == [(4, 1, 6, 6), (4, 1, 6, 6), (2, 1, 6, 6)]
    assert torch.equal(torch.cat([b[1] for b in batches]), torch.as_tensor(y))
    again = list(AugmentedLoader(make_loader(x, y, batch_size=4, device="cpu"), 1, seed=0))
    assert all(torch.equal(a[0], b[0]) for a, b in zip(batches, again))


@pytest.mark.parametrize("norm", [{"mean": 0.1307, "std": 0.3081}, {"mean": 0.2860, "std": 0.3530}])
def test_augmented_loader_pads_with_the_normalised_background(norm):
    # an all-white batch: every pixel a shift moves in must be black after normalising, i.e.
    # equal to what make_loader makes of a raw 0 -- not 0, which is the data set's mean (grey)
    x = np.full((64, 6, 6), 255, dtype=np.uint8)
    y = np.zeros(64, dtype=np.int64)
    aug = AugmentedLoader(make_loader(x, y, batch_size=64, device="cpu", **norm), max_shift=2,
                          flip=True, seed=0, **norm)
    (batch, _), = list(aug)
    black = make_loader(np.zeros((1, 1, 1), np.uint8), [0], device="cpu", **norm).x[0, 0, 0, 0]
    white = make_loader(x[:1], y[:1], device="cpu", **norm).x[0, 0, 0, 0]
    moved_in = batch != white
    assert moved_in.any()                                  # some images were shifted
    assert torch.equal(batch[moved_in], torch.full_like(batch[moved_in], black.item()))
    assert black.item() == pytest.approx(-norm["mean"] / norm["std"], abs=1e-6)
    border = torch.cat([batch[:, :, 0], batch[:, :, -1], batch[:, :, :, 0], batch[:, :, :, -1]],
                       dim=-1)
    assert (border == 0).sum() == 0                        # no grey bars of normalised 0


def test_random_shift_fill_per_channel_and_validates():
    x = torch.ones(3, 2, 5, 5)
    out = random_shift(x, 2, torch.Generator().manual_seed(1), fill=[-1.0, -2.0])
    moved_in = out != 1
    assert moved_in.any()
    assert set(out[:, 0][moved_in[:, 0]].tolist()) <= {-1.0}
    assert set(out[:, 1][moved_in[:, 1]].tolist()) <= {-2.0}
    with pytest.raises(ValueError, match="fill"):
        random_shift(x, 1, fill=[0.0, 0.0, 0.0])
    assert background() == 0.0
    assert background(0.5, 0.25) == pytest.approx(-2.0)
    with pytest.raises(ValueError, match="std"):
        background(0.5, 0.0)


def _tiny_data(n=64, side=8, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    x = (rng.random((n, side, side)) * 60).astype(np.uint8)
    x[y == 1, :, : side // 2] += 150          # class 1: a bright left half, easy to learn
    return x, y


def _tiny_cnn():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2),
                         nn.Flatten(), nn.Linear(16, 2))


def test_steps_to_error_counts_steps_and_is_reproducible():
    x, y = _tiny_data()
    kwargs = dict(threshold=0.2, lr=0.05, max_steps=60, batch_size=16, window=4, device="cpu")
    steps = steps_to_error(_tiny_cnn, x, y, **kwargs)
    assert steps is not None and 4 <= steps <= 60
    assert steps_to_error(_tiny_cnn, x, y, **kwargs) == steps
    assert steps_to_error(_tiny_cnn, x, y, **{**kwargs, "threshold": 0.0, "max_steps": 3}) is None


def test_steps_to_error_without_progress_bar_gives_the_same_steps(capsys):
    x, y = _tiny_data()
    kwargs = dict(threshold=0.2, lr=0.05, max_steps=60, batch_size=16, window=4, device="cpu")
    quiet = steps_to_error(_tiny_cnn, x, y, progress=False, **kwargs)
    assert "step/s" not in capsys.readouterr().err
    assert quiet == steps_to_error(_tiny_cnn, x, y, **kwargs)


def test_steps_to_error_stops_early_with_the_answer_of_a_full_run():
    from helpers.device import seed_everything
    x, y = _tiny_data()
    kwargs = dict(threshold=0.3, lr=0.05, max_steps=60, batch_size=16, window=4, device="cpu")
    early = steps_to_error(_tiny_cnn, x, y, **kwargs)
    seed_everything(0)
    model = _tiny_cnn()
    loader = make_loader(x, y, batch_size=16, shuffle=True, seed=0, device="cpu")
    history = fit(model, loader, epochs=-(-60 // len(loader)), max_steps=60, lr=0.05,
                  optimizer="sgd", momentum=0.9, device="cpu")
    assert early == steps_to_reach(history, 0.3, window=4)


def test_steps_to_errors_gives_each_threshold_what_steps_to_error_gives():
    x, y = _tiny_data()
    kwargs = dict(lr=0.05, max_steps=60, batch_size=16, window=4, device="cpu", progress=False)
    both = steps_to_errors(_tiny_cnn, x, y, thresholds=(0.4, 0.2), **kwargs)
    assert set(both) == {0.4, 0.2}
    for threshold in (0.4, 0.2):
        assert both[threshold] == steps_to_error(_tiny_cnn, x, y, threshold=threshold, **kwargs)
    assert both[0.4] <= both[0.2]               # the easier line is never crossed later
    never = steps_to_errors(_tiny_cnn, x, y, thresholds=(0.4, 0.0), **{**kwargs, "max_steps": 3})
    assert never[0.0] is None


@pytest.mark.parametrize("bad", [dict(thresholds=()), dict(thresholds=(0.2, 1.5)),
                                 dict(thresholds=(0.2,), max_steps=0)])
def test_steps_to_errors_rejects_bad_input(bad):
    x, y = _tiny_data()
    with pytest.raises(ValueError):
        steps_to_errors(_tiny_cnn, x, y, **{"lr": 0.05, **bad})


def test_he_init_gives_relu_variance_and_zero_biases():
    torch.manual_seed(0)
    model = he_init(nn.Sequential(nn.Conv2d(16, 64, 3), nn.Linear(400, 300)))
    conv, fc = model
    assert conv.weight.var().item() == pytest.approx(2 / (16 * 9), rel=0.1)
    assert fc.weight.var().item() == pytest.approx(2 / 400, rel=0.1)
    assert not conv.bias.any() and not fc.bias.any()


def test_train_and_score_returns_two_accuracies():
    x, y = _tiny_data()
    x_test, y_test = _tiny_data(32, seed=1)
    train_acc, test_acc = train_and_score(_tiny_cnn, x, y, x_test, y_test, epochs=3, lr=1e-2,
                                          batch_size=16, device="cpu")
    assert 0.0 <= train_acc <= 1.0 and 0.0 <= test_acc <= 1.0
    again = train_and_score(_tiny_cnn, x, y, x_test, y_test, epochs=3, lr=1e-2, batch_size=16,
                            device="cpu")
    assert again == (train_acc, test_acc)
    shifted = train_and_score(_tiny_cnn, x, y, x_test, y_test, epochs=3, lr=1e-2, max_shift=1,
                              batch_size=16, device="cpu")
    assert len(shifted) == 2


def test_lecun_init_gives_tanh_variance_and_zero_biases():
    from helpers.experiments.training_recipes import lecun_init
    torch.manual_seed(0)
    model = lecun_init(nn.Sequential(nn.Conv2d(16, 64, 3), nn.Linear(400, 300)))
    conv, fc = model
    assert conv.weight.var().item() == pytest.approx(1 / (16 * 9), rel=0.1)
    assert fc.weight.var().item() == pytest.approx(1 / 400, rel=0.1)
    assert not conv.bias.any() and not fc.bias.any()



def test_regularisation_arms_rejects_unknown_arms():
    from helpers.experiments.training_recipes import regularisation_arms
    x, y = _tiny_data()
    with pytest.raises(ValueError, match="unknown arms"):
        regularisation_arms(x, y, x, y, arms=("no such arm",))
