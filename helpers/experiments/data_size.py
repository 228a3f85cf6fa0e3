"""Accuracy against training-set size, done fairly: chapter 9's CNN-versus-ViT experiment.

    pool, validation = hold_out(x_train, y_train, N_VALIDATION)   # never the test set
    x, y = subset(*pool, 400)
    tuned = tune_lr(make_cnn, pool, 400, *validation_for(validation, 400), lrs=START_LRS,
                    steps=STEPS)
    model, curve = train(make_cnn, x, y, steps=STEPS, lr=tuned.best, seed=2)

Every run trains for the same, large number of optimizer *steps* (:data:`STEPS`, batches of
:data:`BATCH`), enough for the validation accuracy to stop rising at every size (the curves that
:func:`train` records show it, and a run with half the steps checks it): with a fixed number of
*epochs* instead, a small data set would get far fewer steps than a large one and the data axis
would partly measure training length. Every model gets the peak learning rate that is best for
it at each size, chosen by the mean validation accuracy over two seeds on held-out training
images, never more of them than there are training images (:func:`validation_for`); the grid is
widened until the chosen rate is not at its edge (:func:`tune_lr`).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
from torch import nn

from helpers.device import seed_everything
from helpers.experiments.training_recipes import AugmentedLoader
from helpers.models import small_cnn, tiny_vit
from helpers.models.vit import ClassToken, PositionEmbedding
from helpers.train import evaluate, fit, make_loader, subset

SIZES = (400, 1600, 6400)           # training images per run
STEPS = 1000                        # optimizer steps per run, at every size
BATCH = 64                          # images per step
CURVE_POINTS = 10                   # validation accuracy recorded this many times per run
START_LRS = (1e-3, 3e-3, 1e-2)      # Adam's peak learning rates tried first (widened if needed)
LRS = (1e-3, 3e-3, 1e-2, 3e-2)      # the earlier equal-epochs version's grid (kept for its record)
EPOCHS = 10                         # the earlier version's passes over every subset
TUNE_SEEDS = (0, 1)                 # seeds whose mean validation accuracy picks the rate
N_VALIDATION = 2000                 # held out of the training images; at most n used per size
AUGMENT_SHIFT = 2                   # pixels an augmented image moves at most, each axis
#: The recipes the follow-up runs compare (keyword arguments of :func:`train`): the plain one of
#: the experiment, augmentation, and augmentation with AdamW's decoupled weight decay (its
#: ``weight_decay`` is given per run: the full run tunes it per model, see :data:`DECAY_PER_STEP`).
RECIPES = {"plain": {},
           "shifts and flips": {"augment": True},
           "shifts and flips, weight decay": {"augment": True, "optimizer": "adamw"}}
#: AdamW multiplies every decayed weight by ``1 - lr * weight_decay`` at each step, so the decay
#: a model gets depends on its learning rate. The weight decay is therefore tuned per model over
#: these values of ``lr * weight_decay`` at the peak rate (``weight_decay = value / lr``), the same
#: per-step decays for a model trained at a high rate and one trained at a low one; the grid is
#: widened by a factor of :data:`DECAY_FACTOR` while the choice is at its edge.
DECAY_PER_STEP = (1e-4, 1e-3, 1e-2)
DECAY_FACTOR = 10.0


def make_cnn() -> nn.Module:
    """The chapter's small CNN: 2 x (conv 3x3, ReLU, max pool 2x2), then a linear layer."""
    return small_cnn(channels=(8, 16), global_pool=False)


def make_vit() -> nn.Module:
    """The chapter's tiny ViT: 16 patches of 7x7 plus a class token, width 32, 2 blocks."""
    return tiny_vit(patch=7, dim=32, depth=2, heads=4)


def make_vit_small() -> nn.Module:
    """A ViT matched to the CNN's size: width 16, 2 heads, 2 blocks, patch 7 (7,850 parameters)."""
    return tiny_vit(patch=7, dim=16, depth=2, heads=2)


def make_vit_patch4() -> nn.Module:
    """The tiny ViT with 4x4 patches: 49 patches plus a class token, width 32, 2 blocks (the
    same 27,978 parameters: a smaller patch embedding, a longer position table)."""
    return tiny_vit(patch=4, dim=32, depth=2, heads=4)


MODELS = {"small CNN": make_cnn, "tiny ViT": make_vit}
VARIANTS = {"ViT, 8k parameters": make_vit_small}   # a ViT no larger than the CNN


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


def validation_for(validation, n: int):
    """The first ``min(n, len)`` images of ``validation = (x, y)``: a validation set never
    larger than a training set of ``n`` images (whoever has 400 labelled images does not have
    2,000 more to choose a learning rate with)."""
    x, y = validation
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    m = min(n, len(y))
    return x[:m], y[:m]


def train(build: Callable[[], nn.Module], x, y, *, lr: float, steps: int | None = None,
          epochs: int | None = None, batch_size: int = BATCH, seed: int = 0, device=None,
          curve=None, points: int = CURVE_POINTS, augment: bool = False,
          optimizer: str = "adam", weight_decay: float = 0.0):
    """``build()`` trained on ``(x, y)`` for ``steps`` optimizer steps (or ``epochs`` passes):
    Adam, one-cycle schedule up to ``lr``, shuffled batches of ``batch_size``; ``seed`` fixes
    the weights and the order.

    The recipe (:data:`RECIPES`): ``augment`` moves every training image by a fresh random
    shift of up to :data:`AUGMENT_SHIFT` pixels and mirrors half of them left-right;
    ``optimizer="adamw"`` with ``weight_decay`` decays the weights apart from the gradient,
    as DeiT trains, and like DeiT (timm's ``param_groups_weight_decay``) only the weight
    matrices and kernels: biases, norm gains, the position embeddings and the class token are
    not decayed (:func:`decay_exempt`). The defaults are the plain recipe of the chapter's
    experiment.

    Returns the model; with ``curve = (x_val, y_val)``, ``(model, [(step, accuracy), ...])``,
    the validation accuracy measured ``points`` times at equal intervals (the last at the end).
    """
    if (steps is None) == (epochs is None):
        raise ValueError("give exactly one of steps and epochs")
    if (steps if steps is not None else epochs) < 1:
        raise ValueError(f"steps and epochs must be >= 1, got steps={steps}, epochs={epochs}")
    seed_everything(seed)
    model = build()
    loader = make_loader(x, y, batch_size=batch_size, shuffle=True, seed=seed, device=device)
    if augment:
        loader = AugmentedLoader(loader, max_shift=AUGMENT_SHIFT, flip=True, seed=seed)
    if steps is not None:
        epochs = math.ceil(steps / len(loader))
    on_step, measured = None, []
    if curve is not None:
        val_loader = make_loader(*curve, batch_size=1000, device=device)
        total = steps if steps is not None else epochs * len(loader)
        marks = {round(total * (i + 1) / points) for i in range(points)}

        def on_step(step, loss):
            if step in marks:
                measured.append((step, evaluate(model, val_loader)[1]))
            return False

    fit(model, loader, epochs=epochs, lr=lr, optimizer=optimizer, weight_decay=weight_decay,
        no_decay=decay_exempt(model) if optimizer == "adamw" and weight_decay else (),
        scheduler="onecycle", device=device, progress=False, max_steps=steps, on_step=on_step)
    return (model, measured) if curve is not None else model


def decay_exempt(model: nn.Module) -> list[str]:
    """Names of ``model``'s parameters that weight decay leaves alone, as timm's
    ``param_groups_weight_decay`` (DeiT's training code) does: every parameter with at most one
    dimension (biases of shape (C,), LayerNorm and BatchNorm gains and shifts of shape (D,)),
    every ``*.bias``, and the ViT's class token (1, 1, D) and position table (1, T, D). Only
    the weight matrices (out, in) and kernels (out, in, k, k) are decayed."""
    special = {id(p) for m in model.modules() if isinstance(m, (ClassToken, PositionEmbedding))
               for p in m.parameters()}
    return [name for name, p in model.named_parameters()
            if p.ndim <= 1 or name.endswith(".bias") or id(p) in special]


def accuracy(model: nn.Module, x, y) -> float:
    """Test accuracy of ``model`` on ``(x, y)``."""
    device = next(model.parameters()).device
    return evaluate(model, make_loader(x, y, batch_size=1000, device=device))[1]


def train_and_test(build: Callable[[], nn.Module], x, y, x_eval, y_eval, **kwargs) -> float:
    """Accuracy on ``(x_eval, y_eval)`` of ``build()`` trained on ``(x, y)``; ``kwargs`` as
    :func:`train`."""
    return accuracy(train(build, x, y, **kwargs), x_eval, y_eval)


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


@dataclass
class Tuned:
    """What :func:`tune_lr` found: the ``best`` rate, the mean validation accuracy of each rate
    tried (``scores``), and every run's record ``runs[lr][i] = (seed, val curve, test acc)``."""

    best: float
    scores: dict = field(default_factory=dict)
    runs: dict = field(default_factory=dict)
    models: dict = field(default_factory=dict)

    @property
    def at_edge(self) -> bool:
        """Whether the best rate is the smallest or the largest one tried."""
        return self.best in (min(self.scores), max(self.scores))


def tune_lr(build: Callable[[], nn.Module], pool, n: int, x_val, y_val, *,
            lrs: Sequence[float], seeds: Sequence[int] = TUNE_SEEDS, factor: float = 3.0,
            max_widen: int = 3, test=None, keep_models: bool = False, **kwargs) -> Tuned:
    """Choose ``build``'s learning rate on ``(x_val, y_val)``: train once per rate and seed
    (the seed draws the ``n`` training images from ``pool = (x, y)``, the initial weights and
    the order), score each rate by its mean validation accuracy over ``seeds``, and while the
    best is the smallest or largest rate tried, try one more beyond it (times or divided by
    ``factor``, at most ``max_widen`` times). ``test = (x, y)`` also records each run's test
    accuracy (never used to choose); ``kwargs`` as :func:`train` (``steps``...)."""
    if not lrs:
        raise ValueError("lrs is empty")
    if not seeds:
        raise ValueError("seeds is empty")
    out = Tuned(best=lrs[0])

    def run(lr):
        out.runs[lr] = []
        for seed in seeds:
            x, y = subset(*pool, n, seed=seed)
            model, curve = train(build, x, y, lr=lr, seed=seed, curve=(x_val, y_val), **kwargs)
            acc = accuracy(model, *test) if test is not None else None
            out.runs[lr].append((seed, curve, acc))
            if keep_models:
                out.models[lr, seed] = model
        out.scores[lr] = float(np.mean([c[-1][1] for _, c, _ in out.runs[lr]]))

    for lr in sorted(lrs):
        run(lr)
    for _ in range(max_widen + 1):
        out.best = max(sorted(out.scores), key=lambda lr: out.scores[lr])
        if not out.at_edge or _ == max_widen:
            break
        lo, hi = min(out.scores), max(out.scores)
        run(float(f"{lo / factor:.3g}") if out.best == lo else float(f"{hi * factor:.3g}"))
    return out


def spread(values: Sequence[float]) -> tuple[float, float, float]:
    """(mean, smallest, largest) of repeated measurements, e.g. accuracies over seeds."""
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        raise ValueError("no values")
    return float(v.mean()), float(v.min()), float(v.max())


def mean_sd(values: Sequence[float]) -> tuple[float, float]:
    """(mean, sample standard deviation) of repeated measurements (sd 0 for one value)."""
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        raise ValueError("no values")
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else 0.0


def round_half_up(value: float, digits: int = 1) -> float:
    """``value`` rounded to ``digits`` decimals with halves going up, as the decimal number
    reads: 87.35 -> 87.4. Python's ``round`` and ``format`` see the binary float just below
    87.35 and give 87.3, so two code paths that average the same accuracies in a different
    order can print different digits. The value is read to 6 significant digits first (as the
    chapters' glued values are stored), which also absorbs float noise such as
    87.35000000000001. Use it for every mean or sd the text or the full-runs page prints."""
    if not isinstance(digits, int) or digits < 0:
        raise ValueError(f"digits must be a non-negative int, got {digits!r}")
    exact = Decimal(f"{float(value):.6g}")
    return float(exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def data_sweep(builds: dict[str, Callable[[], nn.Module]], pool, evaluation, *,
               sizes: Sequence[int], lrs: dict[tuple[str, int], float], seeds: Sequence[int],
               **kwargs) -> dict[str, list[list[float]]]:
    """Accuracy on ``evaluation = (x, y)`` of every model in ``builds`` trained on a subset of
    ``pool = (x, y)`` of each size in ``sizes``, with ``lrs[name, size]``, once per seed (the
    seed picks the subset and the initial weights): ``{name: [[acc per seed] per size]}``.
    ``kwargs`` as :func:`train` (``steps`` or ``epochs``)."""
    out = {name: [] for name in builds}
    for n in sizes:
        for name in builds:
            out[name].append([])
        for seed in seeds:
            xs, ys = subset(*pool, n, seed=seed)
            for name, build in builds.items():
                out[name][-1].append(train_and_test(build, xs, ys, *evaluation,
                                                    lr=lrs[name, n], seed=seed, **kwargs))
    return out
