"""Accuracy against training-set size, done fairly: chapter 8's CNN-versus-ViT experiment.

    pool, validation = hold_out(x_train, y_train, 2000)          # never the test set
    x, y = subset(*pool, 400)
    lr, tried = choose_lr(make_cnn, x, y, *validation, lrs=(1e-3, 3e-3, 1e-2), epochs=15)
    accuracy = train_and_test(make_cnn, x, y, x_test, y_test, lr=lr, epochs=15)

Every run trains for the same number of *epochs*, so the number of steps grows with the data
(a fixed number of steps would turn the data axis into an epochs axis), and every model gets the
learning rate that is best for it on held-out training data.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from torch import nn

from helpers.device import seed_everything
from helpers.models import small_cnn, tiny_vit
from helpers.train import evaluate, fit, make_loader, subset

SIZES = (400, 1600, 6400)           # training images per run
EPOCHS = 10                         # passes over each subset: steps grow with the data
LRS = (1e-3, 3e-3, 1e-2, 3e-2)      # Adam's peak learning rates to choose from
N_VALIDATION = 2000                 # held out of the training images to choose the rate


def make_cnn() -> nn.Module:
    """The chapter's small CNN: 2 x (conv 3x3, ReLU, max pool 2x2), then a linear layer."""
    return small_cnn(channels=(8, 16), global_pool=False)


def make_vit() -> nn.Module:
    """The chapter's tiny ViT: 16 patches of 7x7 plus a class token, width 32, 2 blocks."""
    return tiny_vit(patch=7, dim=32, depth=2, heads=4)


MODELS = {"small CNN": make_cnn, "tiny ViT": make_vit}


def hold_out(x, y, n_validation: int, seed: int = 0):
    """Split ``(x, y)`` into a training pool and a validation set of ``n_validation``
    examples (chosen at random with ``seed``): ``((x_pool, y_pool), (x_val, y_val))``.

    Draw training subsets from the pool only; the two never share an example. The split is
    part of the data set, like the train/test split: ``$CNN_COURSE_SEED_SHIFT`` does not move
    it, so a seed-shifted run trains on other subsets of the same pool."""
    y = np.asarray(y)
    if not 0 < n_validation < len(y):
        raise ValueError(f"n_validation must be in [1, {len(y) - 1}], got {n_validation}")
    order = np.random.default_rng(seed).permutation(len(y))
    val, pool = np.sort(order[:n_validation]), np.sort(order[n_validation:])
    return (x[pool], y[pool]), (x[val], y[val])


def train(build: Callable[[], nn.Module], x, y, *, epochs: int, lr: float,
          batch_size: int = 64, seed: int = 0, device=None) -> nn.Module:
    """``build()`` trained for ``epochs`` passes over ``(x, y)``: Adam, one-cycle schedule up
    to ``lr``, shuffled batches of ``batch_size``; ``seed`` fixes the weights and the order."""
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    seed_everything(seed)
    model = build()
    loader = make_loader(x, y, batch_size=batch_size, shuffle=True, seed=seed, device=device)
    fit(model, loader, epochs=epochs, lr=lr, optimizer="adam", scheduler="onecycle",
        device=device, progress=False)
    return model


def train_and_test(build: Callable[[], nn.Module], x, y, x_eval, y_eval, **kwargs) -> float:
    """Accuracy on ``(x_eval, y_eval)`` of ``build()`` trained on ``(x, y)``; ``kwargs`` as
    :func:`train`."""
    model = train(build, x, y, **kwargs)
    device = next(model.parameters()).device
    return evaluate(model, make_loader(x_eval, y_eval, batch_size=1000, device=device))[1]


def choose_lr(build: Callable[[], nn.Module], x, y, x_val, y_val, *, lrs: Sequence[float],
              **kwargs) -> tuple[float, dict[float, float]]:
    """The learning rate of ``lrs`` with the best validation accuracy (the smaller one on a
    tie), and the accuracy of each: ``(best, {lr: accuracy})``. ``kwargs`` as
    :func:`train_and_test`."""
    if not lrs:
        raise ValueError("lrs is empty")
    scores = {lr: train_and_test(build, x, y, x_val, y_val, lr=lr, **kwargs) for lr in lrs}
    best = max(sorted(scores), key=lambda lr: scores[lr])
    return best, scores


def spread(values: Sequence[float]) -> tuple[float, float, float]:
    """(mean, smallest, largest) of repeated measurements, e.g. accuracies over seeds."""
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        raise ValueError("no values")
    return float(v.mean()), float(v.min()), float(v.max())


def data_sweep(builds: dict[str, Callable[[], nn.Module]], pool, evaluation, *,
               sizes: Sequence[int], lrs: dict[tuple[str, int], float], seeds: Sequence[int],
               epochs: int, **kwargs) -> dict[str, list[list[float]]]:
    """Accuracy on ``evaluation = (x, y)`` of every model in ``builds`` trained on a subset of
    ``pool = (x, y)`` of each size in ``sizes``, with ``lrs[name, size]``, once per seed (the
    seed picks the subset and the initial weights): ``{name: [[acc per seed] per size]}``."""
    out = {name: [] for name in builds}
    for n in sizes:
        for name in builds:
            out[name].append([])
        for seed in seeds:
            xs, ys = subset(*pool, n, seed=seed)
            for name, build in builds.items():
                out[name][-1].append(train_and_test(build, xs, ys, *evaluation, epochs=epochs,
                                                    lr=lrs[name, n], seed=seed, **kwargs))
    return out
