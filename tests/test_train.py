"""helpers.train: loaders from uint8 arrays, subsets, the training loop and its history."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from helpers.device import seed_everything
from helpers.models import mlp, small_cnn
from helpers.train import (
    History,
    evaluate,
    fit,
    make_loader,
    steps_to_reach,
    subset,
    to_tensor_dataset,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def blobs(n=256, side=8, seed=0):
    """Two classes of noisy uint8 images: horizontal stripes (0) or vertical stripes (1)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.integers(0, 80, (n, side, side))
    x[y == 0, ::2, :] += 150
    x[y == 1, :, ::2] += 150
    return x.astype(np.uint8), y


def test_tensor_dataset_scales_and_adds_channel():
    x = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
    images, labels = to_tensor_dataset(x, [3]).tensors
    assert images.shape == (1, 1, 2, 2) and images.dtype == torch.float32
    torch.testing.assert_close(images[0, 0], torch.tensor([[0.0, 1.0], [0.2, 0.4]]))
    assert labels.dtype == torch.int64
    norm = to_tensor_dataset(x, [3], mean=0.5, std=0.25).tensors[0]
    torch.testing.assert_close(norm, (images - 0.5) / 0.25)
    with pytest.raises(ValueError, match="labels"):
        to_tensor_dataset(x, [1, 2])
    with pytest.raises(ValueError, match="shape"):
        to_tensor_dataset(np.zeros((2, 3), np.uint8), [0, 1])
    with pytest.raises(ValueError, match="mean"):
        to_tensor_dataset(x, [3], mean=(0.1, 0.2))


def test_loader_batches_shuffles_reproducibly_and_covers_everything():
    x, y = blobs(50)
    loader = make_loader(x, y, batch_size=16, shuffle=True, seed=3, device="cpu")
    assert len(loader) == 4
    first = [yb.clone() for _, yb in loader]
    second = [yb.clone() for _, yb in loader]
    assert [len(b) for b in first] == [16, 16, 16, 2]
    assert sorted(torch.cat(first).tolist()) == sorted(y.tolist())
    assert not all(torch.equal(a, b) for a, b in zip(first, second))     # new order each pass
    again = make_loader(x, y, batch_size=16, shuffle=True, seed=3, device="cpu")
    assert all(torch.equal(a, b) for a, b in zip(first, (yb for _, yb in again)))
    ordered = make_loader(x, y, batch_size=16, drop_last=True, device="cpu")
    assert len(ordered) == 3 and torch.equal(next(iter(ordered))[1], torch.as_tensor(y[:16]))


def test_subset_is_stratified_sorted_and_reproducible():
    y = np.repeat(np.arange(10), 30)
    x = np.arange(300)
    xs, ys = subset(x, y, 25, seed=1)
    assert np.bincount(ys, minlength=10).tolist() == [3] * 5 + [2] * 5
    assert np.all(np.diff(xs) > 0) and np.array_equal(y[xs], ys)
    assert np.array_equal(subset(x, y, 25, seed=1)[0], xs)
    assert len(subset(x, y, 7, stratified=False)[0]) == 7
    with pytest.raises(ValueError, match="n must be"):
        subset(x, y, 301)
    with pytest.raises(ValueError, match="stratified"):
        subset(x[:4], [0, 0, 0, 1], 4)            # 2 of each class, but one 1


def test_fit_reduces_the_loss_and_records_history(capsys):
    x, y = blobs()
    train = make_loader(x, y, batch_size=32, shuffle=True, device="cpu")
    val = make_loader(*blobs(64, seed=1), batch_size=64, device="cpu")
    torch.manual_seed(0)
    model = small_cnn(channels=(4,), num_classes=2)
    history = fit(model, train, epochs=3, lr=0.1, val_loader=val, device="cpu")
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.val_acc[-1] > 0.9
    assert history.steps == 3 * 8 == len(history.step_error) and history.steps_per_epoch == 8
    assert len(history.val_loss) == len(history.epoch_seconds) == history.epochs == 3
    assert history.seconds >= sum(history.epoch_seconds) * 0.99
    loss, acc = evaluate(model, val)
    assert loss == pytest.approx(history.val_loss[-1]) and acc == history.val_acc[-1]
    assert capsys.readouterr().out == ""          # prints nothing


def test_fit_is_reproducible_with_a_seed():
    x, y = blobs(64)

    def run():
        seed_everything(4)                        # the model's initial weights
        model = mlp(in_features=64, hidden=(8,), num_classes=2)
        train = make_loader(x, y, batch_size=16, shuffle=True, seed=0, device="cpu")
        return fit(model, train, epochs=1, optimizer="adam", seed=5, device="cpu",
                   progress=False).step_loss

    assert run() == run()


def test_fit_stops_at_max_steps_or_when_on_step_says_so():
    x, y = blobs(64)
    train = make_loader(x, y, batch_size=8, device="cpu")
    model = mlp(in_features=64, hidden=(), num_classes=2)
    h = fit(model, train, epochs=5, max_steps=11, device="cpu", scheduler="onecycle")
    assert h.steps == 11 and h.epochs == 2
    seen = []
    h = fit(model, train, epochs=5, device="cpu", scheduler="cosine",
            on_step=lambda step, loss: seen.append(loss) or step == 3)
    assert h.steps == 3 and len(seen) == 3 and isinstance(seen[0], float)
    with pytest.raises(ValueError, match="optimizer"):
        fit(model, train, optimizer="lbfgs", device="cpu")


def test_adamw_decays_the_weights_apart_from_the_gradient():
    x, y = blobs(64)
    train = make_loader(x, y, batch_size=64, device="cpu")
    for wd in (0.0, 0.5):
        seed_everything(1)
        model = mlp(in_features=64, hidden=(), num_classes=2)
        reference = [p.detach().clone() for p in model.parameters()]
        seed_everything(1)
        expected = mlp(in_features=64, hidden=(), num_classes=2)
        torch_opt = torch.optim.AdamW(expected.parameters(), lr=0.01, weight_decay=wd)
        for xb, yb in train:
            torch_opt.zero_grad()
            torch.nn.functional.cross_entropy(expected(xb), yb).backward()
            torch_opt.step()
        fit(model, train, epochs=1, lr=0.01, optimizer="adamw", weight_decay=wd, device="cpu",
            progress=False)
        for got, want, before in zip(model.parameters(), expected.parameters(), reference):
            torch.testing.assert_close(got, want)
            assert not torch.equal(got, before)
    with pytest.raises(ValueError, match="scheduler"):
        fit(model, train, scheduler="step", device="cpu")


def test_progress_bar_on_and_off(monkeypatch, capsys):
    x, y = blobs(32)
    train = make_loader(x, y, batch_size=8, device="cpu")
    model = mlp(in_features=64, hidden=(), num_classes=2)
    monkeypatch.setenv("CNN_COURSE_NO_PROGRESS", "0")
    fit(model, train, epochs=1, device="cpu")
    assert "4/4" in capsys.readouterr().err
    fit(model, train, epochs=1, device="cpu", progress=False)
    assert capsys.readouterr() == ("", "")
    monkeypatch.setenv("CNN_COURSE_NO_PROGRESS", "1")
    fit(model, train, epochs=1, device="cpu")
    assert capsys.readouterr() == ("", "")


def test_evaluate_matches_a_direct_computation_and_keeps_the_mode():
    x, y = blobs(40)
    loader = make_loader(x, y, batch_size=16, device="cpu")
    model = mlp(in_features=64, hidden=(), num_classes=2)
    images, labels = loader.x, loader.y
    with torch.no_grad():
        logits = model(images)
    loss, acc = evaluate(model, loader)
    assert loss == pytest.approx(nn.functional.cross_entropy(logits, labels).item(), rel=1e-5)
    assert acc == pytest.approx((logits.argmax(1) == labels).float().mean().item())
    assert model.training


def test_steps_to_reach():
    h = History(step_error=[0.9, 0.8, 0.5, 0.3, 0.2, 0.1, 0.1])
    assert steps_to_reach(h, 0.25, window=1) == 5
    assert steps_to_reach(h, 0.2, window=2) == 6       # (0.2 + 0.1) / 2; before: (0.3 + 0.2) / 2
    assert steps_to_reach(h, 0.85, window=3) == 3      # full windows only: (0.9+0.8+0.5)/3
    assert steps_to_reach(h, 0.05) is None
    assert steps_to_reach(History(), 0.5) is None
    with pytest.raises(ValueError, match="threshold"):
        steps_to_reach(h, 25)


def test_no_decay_makes_a_second_group_without_weight_decay_and_checks_its_names():
    from helpers.train import _optimizer
    model = nn.Linear(3, 2)
    opt = _optimizer(model, "adamw", 0.1, 0.9, 0.5, no_decay=["bias"])
    assert [g["weight_decay"] for g in opt.param_groups] == [0.5, 0.0]
    assert opt.param_groups[1]["params"][0] is model.bias
    assert len(_optimizer(model, "adamw", 0.1, 0.9, 0.5).param_groups) == 1
    with pytest.raises(ValueError, match="does not train"):
        _optimizer(model, "adamw", 0.1, 0.9, 0.5, no_decay=["weights"])
