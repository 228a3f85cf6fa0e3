"""Full-length training runs, outside the test suite: ``make full-runs``.

    python -m tools.full_runs                        # every run -> chapters/full_runs.json, .md
    python -m tools.full_runs --only lenet5-mnist    # one run; the others' rows are kept
    python -m tools.full_runs --smoke                # a few steps each (for the tests)

The chapters train cut-down versions of these networks so that each notebook runs in about a
minute on two CPU cores; here the same networks train on the full data for as long as they
need. Each run records its date, machine, epochs, test accuracy and seconds in
``chapters/full_runs.json`` (``helpers.full_runs.RESULTS``, read back with
``helpers.full_runs.load_results``; rerunning one run keeps the records of the others), and the
page ``chapters/full_runs.md`` is rendered from that file (:func:`render`, :func:`save`). The
test accuracy is the one after the last epoch -- no early stopping or model selection on the
test set.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch

from helpers.data import FASHION_NORM, MNIST_NORM, load_fashion_mnist, load_mnist
from helpers.device import get_device, seed_everything
from helpers.experiments import data_size
from helpers.experiments.depth import depth_sweep, downsample, last_epoch_error
from helpers.experiments.lenet_mnist import LENET_MNIST  # chapter 6's recipe, defined once
from helpers.experiments.training_recipes import (
    AugmentedLoader,
    he_init,
    steps_to_error,
    train_and_score,
)
from helpers.experiments.translation import translation_datasets
from helpers.full_runs import PAGE, Result, load_results, results_path
from helpers.models import cifar_resnet, lenet5, mlp, plain_net, small_cnn, small_vgg
from helpers.summary import count_parameters
from helpers.train import evaluate, fit, make_loader, subset
from tools import book

SMOKE_PAGE = book.BUILD_DIR / "full_runs_smoke.md"
def machine_description() -> str:
    """CPU model and core count (or the GPU), torch version -- no host names."""
    device = get_device()
    if device.type == "cuda":
        where = f"GPU {torch.cuda.get_device_name(0)}"
    else:
        cpu = platform.processor() or platform.machine()
        try:
            lines = Path("/proc/cpuinfo").read_text().splitlines()
            names = [ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")]
            cpu = names[0] if names else cpu
        except OSError:
            pass
        where = f"{cpu}, {os.cpu_count()} cores ({torch.get_num_threads()} torch threads)"
        if device.type == "mps":
            where += ", Apple GPU (mps)"
    return f"{where}; torch {torch.__version__}"


def _train_and_test(model, train, test, *, epochs, smoke, **fit_kwargs):
    """Fit, evaluating on ``test`` after every epoch; returns (final accuracy, per-epoch)."""
    history = fit(model, train, epochs=epochs, val_loader=test,
                  max_steps=2 if smoke else None, **fit_kwargs)
    return evaluate(model, test)[1], [round(a, 4) for a in history.val_acc]


def _one_cycle_sgd(model, train, test, *, epochs, smoke, lr):
    """The long runs' recipe: SGD momentum 0.9, weight decay 5e-4, one-cycle up to ``lr``."""
    return _train_and_test(model, train, test, epochs=epochs, smoke=smoke, lr=lr,
                           optimizer="sgd", momentum=0.9, weight_decay=5e-4,
                           scheduler="onecycle")


def _data(loader, smoke: bool, n_test: int = 500):
    """The full data set, or a few hundred examples in smoke mode."""
    x_tr, y_tr, x_te, y_te = loader()
    if smoke:
        x_tr, y_tr = subset(x_tr, y_tr, 256)
        x_te, y_te = x_te[:n_test], y_te[:n_test]
    return x_tr, y_tr, x_te, y_te


def _per_seed(one_seed: Callable, seeds, *args) -> list:
    """``one_seed(seed, *args, threads)`` for every seed, each in a process of its own with the
    threads this process has (one seed runs here)."""
    threads = torch.get_num_threads()
    if len(seeds) == 1:
        return [one_seed(seeds[0], *args, threads)]
    from concurrent.futures import ProcessPoolExecutor
    with ProcessPoolExecutor(max_workers=len(seeds)) as pool:
        return list(pool.map(one_seed, seeds, *[[a] * len(seeds) for a in args],
                             [threads] * len(seeds)))


def _lenet_seed(seed: int, epochs: int, smoke: bool, threads: int) -> tuple[float, list[float]]:
    """One seed of :func:`run_lenet` (a process of its own): (final accuracy, per epoch)."""
    torch.set_num_threads(threads)
    x_tr, y_tr, x_te, y_te = _data(load_mnist, smoke)
    test = make_loader(x_te, y_te, batch_size=1000, **MNIST_NORM)
    recipe = replace(LENET_MNIST, shuffle_seed=seed, init_seed=seed, epochs=epochs)
    train = recipe.loader(x_tr, y_tr)
    model = recipe.build()
    acc, per_epoch = _train_and_test(model, train, test, epochs=recipe.epochs, smoke=smoke,
                                     lr=recipe.lr, optimizer=recipe.optimizer,
                                     momentum=recipe.momentum, scheduler=recipe.scheduler)
    return round(acc, 4), per_epoch


def run_lenet(smoke: bool = False) -> Result:
    """LeNet-5 (tanh, average pooling) on all of MNIST with the chapter's recipe (SGD momentum
    0.9, one-cycle up to 0.2, no weight decay, batch 128), 4 epochs instead of the chapter's 2,
    seeds 0, 1 and 2, each in a process of its own (with the threads this process has);
    LeCun et al. (1998) report 0.95 % test error (99.05 % accuracy) for LeNet-5 without
    distortions."""
    epochs, seeds = (1, (0,)) if smoke else (4, (0, 1, 2))
    start = time.perf_counter()
    runs = _per_seed(_lenet_seed, seeds, epochs, smoke)
    return Result("lenet5-mnist", "06_lenet_alexnet_vgg", "LeNet-5 (tanh, average pooling)",
                  count_parameters(lenet5()),
                  "MNIST, 60,000 training / 10,000 test digits, 28x28",
                  epochs, "the chapter's recipe: SGD momentum 0.9, one-cycle max lr 0.2, no "
                  "weight decay, batch 128, no augmentation; seeds " + ", ".join(map(str, seeds)),
                  target="99.05 % (LeCun et al., 1998, no distortions)",
                  seconds=time.perf_counter() - start, **_over_seeds(seeds, runs))


def _over_seeds(seeds, runs: list[tuple[float, list[float]]]) -> dict:
    """A multi-seed run's metric, mean accuracy and its display, per-epoch means, per-seed
    details and raw numbers (``extra``), from one (final accuracy, per epoch) per seed."""
    accs = [acc for acc, _ in runs]
    curves = [curve for _, curve in runs]
    mean, sd = float(np.mean(accs)), float(np.std(accs, ddof=1)) if len(accs) > 1 else 0.0
    rows = [f"seed {s}: {a:.2%}" for s, a in zip(seeds, accs)]
    return dict(metric=f"mean test accuracy over {len(seeds)} seeds", value=mean,
                per_epoch=[round(float(v), 4) for v in np.mean(curves, axis=0)],
                display=f"{mean:.2%} ± {sd:.2%}",
                details="; ".join(rows) + f"; mean ± sd {mean:.2%} ± {sd:.2%} (the per-epoch "
                        "accuracies are means over the seeds)",
                extra={"seeds": list(seeds), "accuracies": accs, "curves": curves})


class Bfloat16Autocast(torch.nn.Module):
    """Runs ``model``'s forward pass in bfloat16 autocast (CPU or CUDA) and returns float32
    logits; weights, gradients and optimizer state stay float32. On a CPU with AMX/AVX-512 BF16
    this halves a small ResNet's step time; elsewhere it is slower but gives the same recipe."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x):
        device_type = "cuda" if x.is_cuda else "cpu"
        with torch.autocast(device_type, dtype=torch.bfloat16):
            return self.model(x).float()


RESNET_WIDTH, RESNET_EPOCHS = 32, 24


def _resnet_seed(seed: int, epochs: int, smoke: bool, threads: int) -> tuple[float, list[float]]:
    """One seed of :func:`run_resnet` (a process of its own): (final accuracy, per epoch)."""
    torch.set_num_threads(threads)
    x_tr, y_tr, x_te, y_te = _data(load_fashion_mnist, smoke)
    test = make_loader(x_te, y_te, batch_size=1000, **FASHION_NORM)
    seed_everything(seed)
    train = AugmentedLoader(make_loader(x_tr, y_tr, batch_size=128, shuffle=True, seed=seed,
                                        **FASHION_NORM), max_shift=2, flip=True, seed=seed,
                            **FASHION_NORM)
    model = cifar_resnet(8, width=RESNET_WIDTH).to(memory_format=torch.channels_last)
    acc, per_epoch = _one_cycle_sgd(Bfloat16Autocast(model), train, test, epochs=epochs,
                                    smoke=smoke, lr=0.1)
    return round(acc, 4), per_epoch


def run_resnet(smoke: bool = False) -> Result:
    """The chapter's small ResNet (depth 8) at width 32 on all of Fashion-MNIST at 28x28, with
    random shifts of up to 2 pixels and left-right flips, seeds 0, 1 and 2 (one process each).
    Fashion-MNIST's benchmark table lists a 2-conv net under 100k parameters at 92.5 % and
    ResNet-18 with augmentation at 94.9 %; the aim here is at least 93 %."""
    epochs, seeds = (1, (0,)) if smoke else (RESNET_EPOCHS, (0, 1, 2))
    start = time.perf_counter()
    runs = _per_seed(_resnet_seed, seeds, epochs, smoke)
    summary = _over_seeds(seeds, runs)
    summary["extra"]["width"] = RESNET_WIDTH
    return Result("resnet8-fashion", "07_residual_networks",
                  f"ResNet-8, width {RESNET_WIDTH} (cifar_resnet)",
                  count_parameters(cifar_resnet(8, width=RESNET_WIDTH)),
                  "Fashion-MNIST, 60,000 / 10,000 images, 28x28", epochs,
                  "SGD momentum 0.9, one-cycle max lr 0.1, weight decay 5e-4, batch 128, "
                  "random shifts of up to 2 px and left-right flips, bfloat16 autocast; seeds "
                  + ", ".join(map(str, seeds)),
                  target="at least 93 %; 92.5 % for a 2-conv net under 100k parameters, 94.9 % "
                         "for ResNet-18 with augmentation (Fashion-MNIST benchmark table)",
                  seconds=time.perf_counter() - start, **summary)


def _sweep_errors(n: int, epochs: int, depths, seed: int,
                  per_epoch: bool = False) -> tuple[list, list]:
    """Chapter 7's depth sweep: final-epoch training errors (plain, residual) per depth. The
    ``n`` images are always ``subset(..., seed=0)``; ``seed`` seeds the weights and the order
    of the images. With ``per_epoch`` each entry is the list of per-epoch training errors."""
    x_tr, y_tr, _, _ = load_fashion_mnist()
    x, y = subset(x_tr, y_tr, n, seed=0)
    runs = depth_sweep({"plain": plain_net, "residual": cifar_resnet}, depths, downsample(x, 2),
                       y, epochs=epochs, batch_size=64, lr=2e-3, optimizer="adam", seed=seed,
                       width=8, **FASHION_NORM)

    def errors(h):
        if not per_epoch:
            return round(last_epoch_error(h), 4)
        k = h.steps_per_epoch
        return [round(float(np.mean(h.step_error[i:i + k])), 4)
                for i in range(0, len(h.step_error), k)]

    return ([errors(runs["plain", d]) for d in depths],
            [errors(runs["residual", d]) for d in depths])


def _degrades(plain, residual) -> bool:
    """The chapter's claims: plain error strictly rising with depth, and the deepest residual
    network at most 2 points worse than the shallowest."""
    rising = all(a < b for a, b in zip(plain, plain[1:]))
    return rising and residual[-1] <= residual[0] + 0.02


def run_degradation(smoke: bool = False) -> Result:
    """Chapter 7's depth sweep, longer: twice the images and 5 epochs instead of 3 (235 steps
    per network instead of 72), seeds 0, 1 and 2; training error per epoch of plain and residual
    networks of depth 8 and 32 (depth 20 left out to fit the machine's time)."""
    n, epochs, depths, seeds = ((128, 1, (8, 14), (0,)) if smoke
                                else (3_000, 5, (8, 32), (0, 1, 2)))
    start = time.perf_counter()
    extra = {"seeds": list(seeds), "depths": list(depths), "plain_epochs": [],
             "residual_epochs": [], "plain": [], "residual": []}
    rows, held = [], 0
    for seed in seeds:
        plain_ep, residual_ep = _sweep_errors(n, epochs, depths, seed, per_epoch=True)
        plain, residual = [e[-1] for e in plain_ep], [e[-1] for e in residual_ep]
        held += _degrades(plain, residual)
        extra["plain_epochs"].append(plain_ep)
        extra["residual_epochs"].append(residual_ep)
        extra["plain"].append(plain)
        extra["residual"].append(residual)
        rows.append(f"seed {seed}: plain {plain}, residual {residual}")
    gaps = [100 * (p[-1] - p[0]) for p in extra["plain"]]
    changes = [100 * (r[-1] - r[0]) for r in extra["residual"]]

    def sd(v):
        return float(np.std(v, ddof=1)) if len(v) > 1 else 0.0

    extra["plain_gap_points"] = {"mean": round(float(np.mean(gaps)), 2), "sd": round(sd(gaps), 2)}
    extra["residual_change_points"] = {"mean": round(float(np.mean(changes)), 2),
                                       "sd": round(sd(changes), 2)}
    return Result("degradation-14px", "07_residual_networks",
                  "plain_net / cifar_resnet, depth " + "/".join(map(str, depths)) + ", width 8",
                  count_parameters(cifar_resnet(depths[-1], width=8)),
                  f"Fashion-MNIST, {n:,} training images downsampled to 14x14", epochs,
                  "Adam lr 2e-3, batch 64; training error over the final epoch; the images are "
                  "the same for every seed, the seed sets the weights and the order",
                  "deepest minus shallowest training error, mean ± sd over seeds",
                  float(np.mean(gaps)) / 100, "plain error rises with depth; residual does not",
                  time.perf_counter() - start, extra=extra,
                  display=f"plain {np.mean(gaps):+.1f} ± {sd(gaps):.1f} points, residual "
                          f"{np.mean(changes):+.1f} ± {sd(changes):.1f}",
                  details="; ".join(rows) + f" (final-epoch training errors, depth order). "
                          f"Deepest minus shallowest, mean ± sd over {len(seeds)} seeds: plain "
                          f"{np.mean(gaps):+.1f} ± {sd(gaps):.1f} points, residual "
                          f"{np.mean(changes):+.1f} ± {sd(changes):.1f} points; the chapter's "
                          f"claims hold for {held} of {len(seeds)} seeds")


def run_degradation_seeds(smoke: bool = False) -> Result:
    """The notebook's exact sweep (1,500 images, 3 epochs) with seeds 0, 1 and 2."""
    n, epochs, depths, seeds = (128, 1, (8, 14), (0,)) if smoke else (1500, 3, (8, 20, 32),
                                                                     (0, 1, 2))
    start = time.perf_counter()
    rows, held, extra = [], 0, {"seeds": list(seeds), "plain": [], "residual": []}
    for seed in seeds:
        plain, residual = _sweep_errors(n, epochs, depths, seed)
        held += _degrades(plain, residual)
        rows.append(f"seed {seed}: plain {plain}, residual {residual}")
        extra["plain"].append(plain)
        extra["residual"].append(residual)
    return Result("degradation-seeds", "07_residual_networks",
                  "plain_net / cifar_resnet, depth " + "/".join(map(str, depths)) + ", width 8",
                  count_parameters(cifar_resnet(depths[-1], width=8)),
                  f"Fashion-MNIST, {n:,} training images downsampled to 14x14", epochs,
                  "The notebook's sweep (Adam lr 2e-3, batch 64) with other seeds",
                  "seeds for which the chapter's degradation claims hold", float(held),
                  f"all {len(seeds)}", time.perf_counter() - start,
                  display=f"{held} of {len(seeds)}", extra=extra,
                  details="; ".join(rows) + " (final-epoch training errors, depth order)")


def deep_plain_net(activation: str) -> torch.nn.Module:
    """The deeper race's network: 8 3x3 convolutions (16, 16, 16, 16, 32, 32, 32, 32 channels,
    a 2x2 max pool after each group of four), FC 64, FC 10; no batch norm, no dropout."""
    return small_vgg(channels=(16, 32), convs_per_stage=4, hidden=64, dropout=0.0,
                     activation=activation)


RACERS = {"tanh": ("tanh", False), "ReLU": ("relu", False), "ReLU + He init": ("relu", True)}


def _race(build, x, y, *, lr, max_steps, seed, threshold=0.30):
    """Steps each of RACERS needs to reach ``threshold`` training error (None: not reached)."""
    def make(activation, he):
        def made():
            model = build(activation)
            return he_init(model) if he else model
        return made

    return {name: steps_to_error(make(*racer), x, y, threshold=threshold, lr=lr,
                                 max_steps=max_steps, seed=seed, **FASHION_NORM)
            for name, racer in RACERS.items()}


def run_relu_vs_tanh(smoke: bool = False) -> Result:
    """Chapter 6's race, tanh against ReLU with PyTorch's default initialisation and ReLU with
    He initialisation: LeNet-5 over seeds and learning rates, and a deeper plain network (8
    convolutions, no batch norm) over seeds."""
    if smoke:
        seeds, lrs, max_steps, n, deep_lrs, deep_steps = (0,), (0.03,), 20, 512, (0.01,), 10
    else:
        seeds, lrs, max_steps, n, deep_lrs, deep_steps = (0, 1, 2), (0.01, 0.03, 0.1), 400, \
            10_000, (0.01,), 300
    x_tr, y_tr, _, _ = load_fashion_mnist()
    x, y = subset(x_tr, y_tr, n, seed=0)
    start = time.perf_counter()
    races, rows = [], []

    def lenet(activation):
        return lenet5(input_size=28, activation=activation).to(memory_format=torch.channels_last)

    for net, build, rates, limit in (("LeNet-5", lenet, lrs, max_steps),
                                     ("8-conv plain", deep_plain_net, deep_lrs, deep_steps)):
        for lr in rates:
            for seed in seeds:
                steps = _race(build, x, y, lr=lr, max_steps=limit, seed=seed)
                races.append({"net": net, "lr": lr, "seed": seed, "max_steps": limit, **steps})
                shown = ", ".join(f"{k} {'> ' + str(limit) if v is None else v}"
                                  for k, v in steps.items())
                rows.append(f"{net}, lr {lr}, seed {seed}: {shown}")

    def ratio(race, fast):
        tanh, other = (race["max_steps"] + 1 if race[k] is None else race[k]
                       for k in ("tanh", fast))
        return tanh / other

    lenet_ratios = [round(ratio(r, "ReLU"), 4) for r in races if r["net"] == "LeNet-5"]
    worst = max(lenet_ratios) if lenet_ratios else float("nan")
    return Result("relu-vs-tanh", "06_lenet_alexnet_vgg",
                  "LeNet-5 and an 8-conv plain network (no batch norm), tanh versus ReLU",
                  count_parameters(lenet5()), f"Fashion-MNIST, {n:,} training images", 0,
                  f"SGD momentum 0.9, batch 64, at most {max_steps} steps (LeNet-5) or "
                  f"{deep_steps} (8 convs); steps until the training error over 20 steps is at "
                  "most 30 %; ReLU with PyTorch's default or with He initialisation",
                  "largest tanh steps / ReLU steps, LeNet-5, default init", worst,
                  "6 in Krizhevsky et al. (2012): a 4-layer CIFAR-10 network to 25 % training "
                  "error", time.perf_counter() - start,
                  extra={"seeds": list(seeds), "ratios": lenet_ratios, "races": races},
                  details="; ".join(rows) + " (steps to 30 % training error; '> N': not within "
                          "the N steps)")


def run_regularisation(smoke: bool = False) -> Result:
    """Chapter 6's dropout and random-shift measurements with seeds 0, 1 and 2."""
    seeds, n, n_test, epochs = ((0,), 128, 500, 1) if smoke else ((0, 1, 2), 1000, 5000, 10)
    x_tr, y_tr, x_te, y_te = load_mnist()
    x, y = subset(x_tr, y_tr, n, seed=0)

    def build(dropout):
        return lambda: small_vgg(channels=(8, 16), convs_per_stage=1, hidden=256,
                                 dropout=dropout)

    start = time.perf_counter()
    gains, rows = {"dropout": [], "shifts": []}, []
    for seed in seeds:
        common = dict(epochs=epochs, seed=seed, **MNIST_NORM)
        base = train_and_score(build(0.0), x, y, x_te[:n_test], y_te[:n_test], **common)
        drop = train_and_score(build(0.5), x, y, x_te[:n_test], y_te[:n_test], **common)
        shift = train_and_score(build(0.0), x, y, x_te[:n_test], y_te[:n_test], max_shift=2,
                                **common)
        gains["dropout"].append(round(drop[1] - base[1], 4))
        gains["shifts"].append(round(shift[1] - base[1], 4))
        rows.append(f"seed {seed}: test accuracy {base[1]:.2%} plain, {drop[1]:.2%} dropout, "
                    f"{shift[1]:.2%} shifts")
    return Result("regularisation-seeds", "06_lenet_alexnet_vgg",
                  "small VGG-style network (8/16 channels, FC 256)",
                  count_parameters(build(0.0)()), f"MNIST, {n:,} training digits, "
                  f"{n_test:,} test digits", epochs, "Adam lr 1e-3, batch 64; dropout 0.5 before "
                  "the last layer, or random shifts of up to 2 px",
                  f"smallest test-accuracy gains over {len(seeds)} seeds",
                  min(gains["dropout"]),
                  "chapter 6: dropout at least +0.9 points and shifts at least +1 point on "
                  "every seed",
                  time.perf_counter() - start,
                  display=f"dropout {100 * min(gains['dropout']):+.2f} points, shifts "
                          f"{100 * min(gains['shifts']):+.2f} points",
                  details="; ".join(rows), extra={"seeds": list(seeds),
                                                  "dropout_gains": gains["dropout"],
                                                  "shift_gains": gains["shifts"]})


def _translation_accuracies(seed: int, n_train: int, n_test: int,
                            epochs: tuple[int, int] = (5, 2)) -> dict[str, float]:
    """Chapter 1's experiment with one seed: MLP and CNN (``epochs`` each, 5 and 2 in the
    chapter) trained on centred digits, tested at the centre and in the corners of a 56 x 56
    canvas."""
    x_tr, y_tr, x_te, y_te = load_mnist()
    x, y = subset(x_tr, y_tr, n_train, seed=seed)
    xt, yt = subset(x_te, y_te, n_test, seed=seed)
    sets = translation_datasets(x, xt, 56)
    train = make_loader(sets["train"], y, batch_size=128, shuffle=True, seed=seed)
    tests = {w: make_loader(sets[f"test-{w}"], yt, batch_size=250) for w in ("centre", "corner")}
    seed_everything(seed)
    models = {"MLP": (mlp(in_features=56 * 56, hidden=(256,)), epochs[0], 3e-3),
              "CNN": (small_cnn(channels=(8, 16, 32, 64), batch_norm=True), epochs[1], 5e-3)}
    out = {}
    for name, (model, epochs, lr) in models.items():
        fit(model, train, epochs=epochs, lr=lr, optimizer="adam", scheduler="onecycle",
            seed=seed)
        for where, loader in tests.items():
            out[f"{name} {where}"] = round(evaluate(model, loader)[1], 4)
    return out


def run_translation_seeds(smoke: bool = False) -> Result:
    """Chapter 1's translation experiment, exactly as in the notebook, with seeds 0, 1, 2."""
    seeds, n_train, n_test, epochs = (((0,), 256, 200, (1, 1)) if smoke
                                      else ((0, 1, 2), 6000, 2000, (5, 2)))
    start = time.perf_counter()
    runs = [_translation_accuracies(seed, n_train, n_test, epochs) for seed in seeds]
    stats = {k: (float(np.mean([r[k] for r in runs])), float(np.std([r[k] for r in runs])))
             for k in runs[0]}
    gaps = [r["CNN corner"] - r["MLP corner"] for r in runs]
    shown = "; ".join(f"{k} {m:.3f} ± {sd:.3f}" for k, (m, sd) in stats.items())
    return Result("translation-seeds", "01_why_not_fully_connected",
                  "MLP 3136-256-10 and small CNN (8/16/32/64, global average pooling)",
                  count_parameters(small_cnn(channels=(8, 16, 32, 64), batch_norm=True)),
                  f"MNIST, {n_train:,} centred training digits on a 56x56 canvas, {n_test:,} "
                  "test digits at the centre and in the corners", epochs[0],
                  "The notebook's recipe (Adam, one-cycle; MLP 5 epochs, CNN 2) with seeds "
                  + ", ".join(map(str, seeds)),
                  "smallest corner-accuracy gap, CNN minus MLP", min(gaps), "above 0.5",
                  time.perf_counter() - start, display=f"{min(gaps):.3f}",
                  details=f"mean ± sd over {len(seeds)} seeds: {shown}",
                  extra={"seeds": list(seeds), "runs": runs,
                         "mean": {k: round(m, 4) for k, (m, _) in stats.items()},
                         "sd": {k: round(sd, 4) for k, (_, sd) in stats.items()}})


def run_cnn_vs_vit(smoke: bool = False) -> Result:
    """Chapter 8's small CNN against its tiny ViT on 400, 1,600 and 6,400 Fashion-MNIST
    images: the same number of epochs at every size, each model's learning rate chosen per size
    on held-out training images (seed 0), then seeds 0, 1, 2 scored on the test set."""
    if smoke:
        sizes, epochs, lrs, seeds, n_val, n_test = (100, 200), 1, (3e-3,), (0,), 200, 200
    else:
        sizes, epochs, lrs = data_size.SIZES, data_size.EPOCHS, data_size.LRS
        seeds = (0, 1, 2)
        n_val, n_test = data_size.N_VALIDATION, 10_000
    x_tr, y_tr, x_te, y_te = load_fashion_mnist()
    pool, validation = data_size.hold_out(x_tr, y_tr, n_val)
    start = time.perf_counter()
    chosen, tried = {}, {}
    for n in sizes:
        xs, ys = subset(*pool, n, seed=0)
        for name, build in data_size.MODELS.items():
            chosen[name, n], scores = data_size.choose_lr(build, xs, ys, *validation, lrs=lrs,
                                                          epochs=epochs)
            tried[f"{name} {n}"] = {str(lr): round(a, 4) for lr, a in scores.items()}
    acc = data_size.data_sweep(data_size.MODELS, pool, (x_te[:n_test], y_te[:n_test]),
                               sizes=sizes, lrs=chosen, seeds=seeds, epochs=epochs)
    gaps = [c - v for cs, vs in zip(acc["small CNN"], acc["tiny ViT"]) for c, v in zip(cs, vs)]
    rows = []
    for i, n in enumerate(sizes):
        shown = []
        for name in acc:
            mean, low, high = data_size.spread(acc[name][i])
            shown.append(f"{name} {mean:.2%} ({low:.2%}-{high:.2%}, lr {chosen[name, n]:g})")
        rows.append(f"{n:,} images: " + ", ".join(shown))
    params = {name: count_parameters(build()) for name, build in data_size.MODELS.items()}
    return Result("cnn-vs-vit-seeds", "08_vision_transformers",
                  f"small CNN ({params['small CNN']:,} parameters) and tiny ViT "
                  f"({params['tiny ViT']:,})", params["tiny ViT"],
                  f"Fashion-MNIST, {'/'.join(f'{n:,}' for n in sizes)} training images, "
                  f"{n_val:,} held-out training images to choose the learning rate, "
                  f"{n_test:,} test images", epochs,
                  f"Adam, one-cycle, batch 64, {epochs} epochs at every size; peak learning "
                  f"rate per model and size chosen from {list(lrs)} on the held-out images "
                  f"(seed 0); seeds {', '.join(map(str, seeds))} pick the subset and the "
                  "initial weights", "smallest test-accuracy gap, CNN minus ViT", min(gaps),
                  "above 0 at every size and seed", time.perf_counter() - start,
                  display=f"{min(gaps):+.3f}",
                  details=f"test accuracy, mean (range) over {len(seeds)} seeds: "
                          + "; ".join(rows),
                  extra={"sizes": list(sizes), "seeds": list(seeds), "accuracy": acc,
                         "lr": {f"{name} {n}": lr for (name, n), lr in chosen.items()},
                         "validation": tried})


def run_pool_vs_stride(smoke: bool = False) -> Result:
    """Chapter 3's pooled and strided networks trained to a plateau (30 epochs instead of 4),
    learning rate chosen per network on held-out training images, seeds 0, 1, 2
    (``helpers.experiments.pool_stride.compare_pool_stride``)."""
    from helpers.experiments import pool_stride as ps
    start = time.perf_counter()
    rec = ps.compare_pool_stride(smoke, log=lambda t: print(f"[pool-vs-stride] {t}", flush=True))
    gap, gap_sd = ps.mean_sd(rec["gap"])
    shown = "; ".join(f"{n} {100 * ps.mean_sd(v)[0]:.2f} ± {100 * ps.mean_sd(v)[1]:.2f} % (lr "
                      f"{rec['lr'][n]:g}; seeds {', '.join(f'{a:.2%}' for a in v)})"
                      for n, v in rec["test"].items())
    return Result("pool-vs-stride", "03_stride_and_pooling",
                  "chapter 3's pooled and strided networks (8/16 channels, 3x3)",
                  count_parameters(ps.pool_stride_nets()["pooled"]()),
                  f"Fashion-MNIST, {rec['n_train']:,} training images, {rec['n_val']:,} held-out "
                  f"training images to choose the learning rate, {rec['n_test']:,} test images",
                  rec["epochs"], f"Adam, one-cycle, batch 100; peak learning rate per network "
                  f"chosen from {rec['lrs']} (widened while at the edge) by seed 0's held-out "
                  f"accuracy, then seeds {', '.join(map(str, rec['seeds']))} (same initial "
                  "weights for both networks within a seed)",
                  "test accuracy, strided minus pooled (points)", 100 * gap,
                  "the chapter's short run", time.perf_counter() - start,
                  display=f"{100 * gap:+.2f} ± {100 * gap_sd:.2f} points",
                  details=shown + f"; strided minus pooled {100 * gap:+.2f} ± {100 * gap_sd:.2f} "
                          f"points; held-out accuracy per learning rate (seed 0): {rec['grid']}",
                  extra=rec)


RUNS: dict[str, Callable[[bool], Result]] = {
    "translation-seeds": run_translation_seeds,
    "lenet5-mnist": run_lenet,
    "relu-vs-tanh": run_relu_vs_tanh,
    "regularisation-seeds": run_regularisation,
    "resnet8-fashion": run_resnet,
    "degradation-seeds": run_degradation_seeds,
    "degradation-14px": run_degradation,
    "cnn-vs-vit-seeds": run_cnn_vs_vit,
    "pool-vs-stride": run_pool_vs_stride,
}

INTRO = """# Full-length training runs

The chapters train cut-down versions of their networks -- a fraction of the data, one or two
epochs, sometimes smaller images -- so that every notebook runs in about a minute on two CPU
cores. This page records what the same networks reach when they are trained properly, and
repeats the chapters' small experiments with other seeds and settings, to show how much their
conclusions depend on the one run a notebook can afford. It is written by `make full-runs`
(`python -m tools.full_runs`), which is not part of `make test`; rerun it on your own machine
to check the numbers. Accuracies are measured on the test set after the last epoch (no early
stopping, no model selection on the test set).

How to read the table: **measured** says what one number summarises, **result** is that
number from this page's run (over all its seeds), and **for comparison** is the value it
should be read against -- a published result, or the threshold behind the chapter's sentence.
How each run was trained, and every seed's numbers, follow the table.
"""


def _percent(value: float) -> str:
    return f"{100 * value:.2f} %"


def seed_count(result: Result) -> int:
    """How many seeds a run repeated its experiment with (1 unless it recorded ``seeds``)."""
    seeds = result.extra.get("seeds") if isinstance(result.extra, dict) else None
    return len(seeds) if seeds else 1


def shown_value(result: Result) -> str:
    """The result as the table shows it: the run's own wording, else a percentage or 3
    decimals."""
    if result.display:
        return result.display
    return _percent(result.value) if result.metric == "test accuracy" else f"{result.value:.3f}"


def render(results: dict[str, Result]) -> str:
    """The Markdown page for ``results`` (their records are in the JSON file beside it)."""
    lines = [INTRO, "| run | measured | result | seeds | for comparison |",
             "|---|---|---:|---:|---|"]
    for r in results.values():
        chapter = f"[chapter {int(r.chapter[:2])}]({r.chapter}.ipynb)"
        lines.append(f"| [`{r.name}`](#{r.name}), {chapter} | {r.metric} | {shown_value(r)} | "
                     f"{seed_count(r)} | {r.target} |")
    lines += ["", "## How each run was trained", ""]
    for r in results.values():
        smoke = " **(smoke test: a few steps only, not a real result)**" if r.smoke else ""
        trace = ""
        if r.metric == "test accuracy" and r.per_epoch:
            trace = " Test accuracy after each epoch: " + ", ".join(
                _percent(v) for v in r.per_epoch) + "."
        details = f" Results: {r.details}." if r.details else ""
        epochs = f", {r.epochs} epochs" if r.epochs else ""
        lines += [f"({r.name})=", f"### `{r.name}`{smoke}", "",
                  f"{r.model} ({r.parameters:,} parameters{epochs}) on {r.data}. "
                  f"{r.recipe}.{details}{trace} Run on {r.date} in {r.seconds / 60:.1f} min "
                  f"(chapter: {{doc}}`{r.chapter}`); machine: {r.machine}.", ""]
    return "\n".join(lines)


def dumps(results: dict[str, Result]) -> str:
    """The results file's text: one JSON object, run name -> record, in ``results``' order."""
    return json.dumps({k: asdict(v) for k, v in results.items()}, indent=1) + "\n"


def save(results: dict[str, Result], page: Path = PAGE) -> None:
    """Write ``results`` to the page's JSON file, then render the page from it."""
    page.parent.mkdir(parents=True, exist_ok=True)
    results_path(page).write_text(dumps(results), encoding="utf-8")
    page.write_text(render(results), encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(RUNS), help="runs to do")
    parser.add_argument("--smoke", action="store_true", help="a few steps per run (tests)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: torch's choice; --smoke uses 1)")
    parser.add_argument("--output", type=Path, default=None,
                        help=f"page to write, its results beside it as .json (default "
                             f"{book.relative(PAGE)}; with --smoke {book.relative(SMOKE_PAGE)})")
    args = parser.parse_args(argv)
    output = args.output or (SMOKE_PAGE if args.smoke else PAGE)
    threads_before = torch.get_num_threads()
    torch.set_num_threads(args.threads or (1 if args.smoke else threads_before))
    try:
        _run_and_record(args.only or list(RUNS), args.smoke, output)
    finally:
        torch.set_num_threads(threads_before)
    return 0


def _run_and_record(names, smoke: bool, output: Path) -> None:
    """Run each job, updating ``output`` after each one (a crash keeps the finished rows)."""
    machine = machine_description()
    for name in names:
        print(f"[full-runs] {name}: training ...", file=sys.stderr, flush=True)
        result = RUNS[name](smoke)
        result.date = dt.date.today().isoformat()
        result.machine, result.smoke = machine, smoke
        result.value, result.seconds = float(np.round(result.value, 4)), round(result.seconds, 1)
        results = load_results(output)        # re-read: another process may have added rows
        results[name] = result
        save({k: results[k] for k in RUNS if k in results}, output)
        print(f"[full-runs] {name}: {result.metric} {result.value:.4f} in {result.seconds:.0f} s "
              f"-> {output}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
