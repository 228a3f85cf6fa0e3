"""Chapter 3's pooled and strided networks, and their comparison trained to a plateau.

The chapter trains the two networks briefly (four passes over 6,000 images); the full-runs
page (``python -m tools.full_runs --only pool-vs-stride``) trains them to a plateau, with the
peak learning rate chosen per network on held-out images, over three seeds, and the chapter
quotes that record.

    nets = pool_stride_nets()                  # {"pooled": builder, "strided": builder}
    record = compare_pool_stride(smoke=True)   # a few steps (the tests)
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from torch import nn

from helpers.data import load_fashion_mnist
from helpers.device import seed_everything
from helpers.train import evaluate, fit, make_loader, subset

EPOCHS = 30
LRS = (1e-3, 3e-3, 1e-2, 3e-2)
SEEDS = (0, 1, 2)


def pool_stride_nets(layers=nn) -> dict[str, Callable[[], nn.Module]]:
    """The chapter's two networks, with ``layers`` providing ``Conv2d`` and ``MaxPool2d``
    (``torch.nn`` or ``helpers.layers``). Input (N, 1, 28, 28) -> logits (N, 10):

    * "pooled": conv 3x3 (1->8, stride 1, padding 1), ReLU, 2x2 max pool (28 -> 14), conv 3x3
      (8->16), ReLU, 2x2 max pool (14 -> 7), linear 16*7*7 -> 10;
    * "strided": the same convolutions with stride 2 (28 -> 14 -> 7) and no pooling;
    * "averaged": "pooled" with 2x2 average pooling instead of max pooling.

    Both have the same parameter shapes (9,098 parameters), so one seed gives both the same
    initial weights.
    """
    def pooled():
        return nn.Sequential(layers.Conv2d(1, 8, 3, padding=1), nn.ReLU(), layers.MaxPool2d(2),
                             layers.Conv2d(8, 16, 3, padding=1), nn.ReLU(), layers.MaxPool2d(2),
                             nn.Flatten(), nn.Linear(16 * 7 * 7, 10))

    def strided():
        return nn.Sequential(layers.Conv2d(1, 8, 3, stride=2, padding=1), nn.ReLU(),
                             layers.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(),
                             nn.Flatten(), nn.Linear(16 * 7 * 7, 10))

    def averaged():
        return nn.Sequential(layers.Conv2d(1, 8, 3, padding=1), nn.ReLU(), layers.AvgPool2d(2),
                             layers.Conv2d(8, 16, 3, padding=1), nn.ReLU(), layers.AvgPool2d(2),
                             nn.Flatten(), nn.Linear(16 * 7 * 7, 10))

    return {"pooled": pooled, "strided": strided, "averaged": averaged}


def held_out(x_train, y_train, x_chosen, n: int, seed: int = 1):
    """``n`` training images (stratified) that are not among ``x_chosen``: a validation set
    for choosing the learning rate without touching the test set."""
    chosen = set(map(bytes, np.asarray(x_chosen).reshape(len(x_chosen), -1)))
    rest = np.array([i for i in range(len(y_train))
                     if bytes(np.asarray(x_train[i]).reshape(-1)) not in chosen])
    return subset(np.asarray(x_train)[rest], np.asarray(y_train)[rest], n, seed=seed)


def train_one(build, seed: int, lr: float, epochs: int, data, max_steps: int | None = None) -> dict:
    """One run: Adam, one-cycle up to ``lr``, batch 100, ``seed`` for the weights and the order.
    ``data`` = ((x, y), (x_val, y_val), (x_test, y_test)). Returns per-epoch training loss,
    training accuracy and validation accuracy, and the final validation and test accuracy."""
    (x, y), (xv, yv), (xt, yt) = data
    seed_everything(seed)
    model = build()
    val = make_loader(xv, yv, batch_size=1000)
    history = fit(model, make_loader(x, y, batch_size=100, shuffle=True, seed=seed),
                  epochs=epochs, lr=lr, optimizer="adam", scheduler="onecycle", val_loader=val,
                  max_steps=max_steps)
    return {"seed": seed, "lr": lr, "train_loss": [round(v, 4) for v in history.train_loss],
            "train_acc": [round(v, 4) for v in history.train_acc],
            "val_acc": [round(v, 4) for v in history.val_acc],
            "val": round(evaluate(model, val)[1], 4),
            "test": round(evaluate(model, make_loader(xt, yt, batch_size=1000))[1], 4)}


def compare_pool_stride(smoke: bool = False, log=print,
                        names: tuple[str, ...] = ("pooled", "strided")) -> dict:
    """Both networks on the chapter's 6,000 Fashion-MNIST training images
    (``subset(..., 6000, seed=0)``) for :data:`EPOCHS` epochs: the peak learning rate of each
    chosen from :data:`LRS` by seed 0's accuracy on 2,000 held-out training images (the grid
    widened by a factor 3 while the best rate is at its edge, at most twice), then
    :data:`SEEDS` at that rate, tested on all 10,000 test images after the last epoch.
    ``names`` picks the networks of :func:`pool_stride_nets`. Returns {"lr", "grid", "runs",
    "test", "gap"} (gap: strided minus pooled, per seed, when both ran; else empty)."""
    builders = pool_stride_nets()
    if not names or set(names) - set(builders):
        raise ValueError(f"names must be among {sorted(builders)}, got {names!r}")
    epochs, lrs, seeds = (1, (3e-3,), (0,)) if smoke else (EPOCHS, LRS, SEEDS)
    x_tr, y_tr, x_te, y_te = load_fashion_mnist()
    x, y = subset(x_tr, y_tr, 256 if smoke else 6000, seed=0)
    xv, yv = held_out(x_tr, y_tr, x, 200 if smoke else 2000)
    data = ((x, y), (xv, yv), (x_te[:500], y_te[:500]) if smoke else (x_te, y_te))
    steps = 2 if smoke else None
    grid, chosen, runs = {}, {}, {}
    for name, build in ((n, builders[n]) for n in names):
        rates = sorted(lrs)
        tried = {lr: train_one(build, seeds[0], lr, epochs, data, steps) for lr in rates}
        for _ in range(2):
            best = max(rates, key=lambda lr: tried[lr]["val"])
            if len(rates) < 3 or best not in (rates[0], rates[-1]):
                break
            new = float(f"{best / 3 if best == rates[0] else best * 3:.3g}")
            tried[new] = train_one(build, seeds[0], new, epochs, data, steps)
            rates = sorted(tried)
        best = max(rates, key=lambda lr: tried[lr]["val"])
        grid[name] = {f"{lr:g}": tried[lr]["val"] for lr in rates}
        chosen[name] = best
        runs[name] = [tried[best]] + [train_one(build, s, best, epochs, data, steps)
                                      for s in seeds[1:]]
        log(f"{name}: lr {best:g} of {grid[name]}, test {[r['test'] for r in runs[name]]}")
    test = {name: [r["test"] for r in rs] for name, rs in runs.items()}
    gap = ([s - p for s, p in zip(test["strided"], test["pooled"])]
           if {"strided", "pooled"} <= set(test) else [])
    return {"epochs": epochs, "seeds": list(seeds), "lrs": list(lrs), "lr": chosen,
            "grid": grid, "runs": runs, "test": test, "gap": [round(g, 4) for g in gap],
            "n_train": len(y), "n_val": len(yv), "n_test": len(data[2][1])}


def mean_sd(values) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1; 0 for one value)."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        raise ValueError("mean_sd needs at least one value")
    return float(values.mean()), float(values.std(ddof=1)) if values.size > 1 else 0.0


def plateau_gain(curve, last: int = 5) -> float:
    """How much ``curve`` (one value per epoch) rose over its last ``last`` epochs:
    ``curve[-1] - curve[-1 - last]``. Near 0 on a plateau."""
    curve = list(curve)
    if len(curve) <= last or last < 1:
        raise ValueError(f"need more than last={last} epochs, got {len(curve)}")
    return float(curve[-1] - curve[-1 - last])


