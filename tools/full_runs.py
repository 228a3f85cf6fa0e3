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
from helpers.experiments import data_size, translation
from helpers.experiments.depth import depth_sweep, downsample, last_epoch_error
from helpers.experiments.lenet_mnist import LENET_MNIST  # chapter 6's recipe, defined once
from helpers.experiments.training_recipes import (
    REGULARISATION_ARMS,
    AugmentedLoader,
    he_init,
    lecun_init,
    regularisation_arms,
    steps_to_error,
)
from helpers.full_runs import PAGE, Result, load_results, results_path
from helpers.models import cifar_resnet, lenet5, plain_net, small_vgg
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


def _sweep_errors(n: int, epochs: int, depths, seed: int, per_epoch: bool = False,
                  test_errors: list | None = None, n_test: int = 2_000) -> tuple[list, list]:
    """Chapter 7's depth sweep: final-epoch training errors (plain, residual) per depth. The
    ``n`` images are always ``subset(..., seed=0)``; ``seed`` seeds the weights and the order
    of the images. With ``per_epoch`` each entry is the list of per-epoch training errors.
    A list ``test_errors`` receives (plain, residual) per-epoch errors on the first ``n_test``
    test images (downsampled alike, evaluation mode) after every epoch."""
    x_tr, y_tr, x_te, y_te = load_fashion_mnist()
    x, y = subset(x_tr, y_tr, n, seed=0)
    val = None if test_errors is None else (downsample(x_te[:n_test], 2), y_te[:n_test])
    runs = depth_sweep({"plain": plain_net, "residual": cifar_resnet}, depths, downsample(x, 2),
                       y, epochs=epochs, batch_size=64, lr=2e-3, optimizer="adam", seed=seed,
                       width=8, val=val, **FASHION_NORM)
    if test_errors is not None:
        test_errors.append(tuple([[round(1 - a, 4) for a in runs[kind, d].val_acc]
                                  for d in depths] for kind in ("plain", "residual")))

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
             "residual_epochs": [], "plain": [], "residual": [], "plain_test_epochs": [],
             "residual_test_epochs": [], "test_images": 2_000}
    rows, held = [], 0
    for seed in seeds:
        tests: list = []
        plain_ep, residual_ep = _sweep_errors(n, epochs, depths, seed, per_epoch=True,
                                              test_errors=tests)
        extra["plain_test_epochs"].append(tests[0][0])
        extra["residual_test_epochs"].append(tests[0][1])
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
                  "Adam lr 2e-3, batch 64; training error over each epoch (measured on the "
                  "fly) and test error on 2,000 test images after each epoch; the images are "
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


#: The two arms of chapter 6's race, each with the initialisation made for its unit:
#: tanh with LeCun's N(0, 1/fan_in), ReLU with He's N(0, 2/fan_in).
RACE_ARMS = {"tanh + LeCun init": ("tanh", lecun_init), "ReLU + He init": ("relu", he_init)}
RACE_LRS = (0.003, 0.01, 0.03, 0.1)      # SGD momentum 0.9; each arm picks its fastest


def race_speedups(races: list[dict], net: str, max_steps: int) -> dict:
    """For one network of :func:`run_relu_vs_tanh`'s record: each arm's learning rate (the
    grid value with the fewest steps to the threshold, mean over seeds; not reaching it counts
    as ``max_steps + 1``), whether it sits at the grid's edge, and per seed the speed-up
    tanh steps / ReLU steps at the two chosen rates."""
    def steps(r):
        return max_steps + 1 if r["steps"] is None else r["steps"]

    chosen, edge = {}, {}
    for arm in RACE_ARMS:
        rates = sorted({r["lr"] for r in races if r["net"] == net and r["arm"] == arm})
        mean = {lr: np.mean([steps(r) for r in races if r["net"] == net and r["arm"] == arm
                             and r["lr"] == lr]) for lr in rates}
        chosen[arm] = min(rates, key=lambda lr: (mean[lr], lr))
        edge[arm] = len(rates) > 2 and chosen[arm] in (rates[0], rates[-1])
    seeds = sorted({r["seed"] for r in races if r["net"] == net})
    at = {(r["arm"], r["seed"]): steps(r) for r in races
          if r["net"] == net and r["lr"] == chosen[r["arm"]]}
    tanh, relu = RACE_ARMS
    return {"lr": chosen, "at_edge": edge, "seeds": seeds,
            "tanh_steps": [at[(tanh, s)] for s in seeds],
            "relu_steps": [at[(relu, s)] for s in seeds],
            "speedups": [round(at[(tanh, s)] / at[(relu, s)], 4) for s in seeds]}


def run_relu_vs_tanh(smoke: bool = False) -> Result:
    """Chapter 6's race on equal footing: tanh with LeCun initialisation against ReLU with He
    initialisation, each at its own fastest learning rate of :data:`RACE_LRS`, over seeds, in
    LeNet-5 and in a deeper plain network (8 convolutions, no batch norm): optimiser steps
    until the training error over 20 steps is at most 20 %."""
    if smoke:
        seeds, lrs, max_steps, n, threshold = (0,), (0.01, 0.03, 0.1), 12, 512, 0.5
    else:
        seeds, lrs, max_steps, n, threshold = (0, 1, 2), RACE_LRS, 600, 10_000, 0.20
    x_tr, y_tr, _, _ = load_fashion_mnist()
    x, y = subset(x_tr, y_tr, n, seed=0)
    start = time.perf_counter()
    races, rows = [], []

    def lenet(activation):
        return lenet5(input_size=28, activation=activation).to(memory_format=torch.channels_last)

    nets = {"LeNet-5": lenet, "8-conv plain": deep_plain_net}
    for net, build in nets.items():
        for arm, (activation, init) in RACE_ARMS.items():
            for lr in lrs:
                for seed in seeds:
                    got = steps_to_error(lambda i=init, b=build, a=activation: i(b(a)), x, y,
                                         threshold=threshold, lr=lr, max_steps=max_steps,
                                         seed=seed, **FASHION_NORM)
                    races.append({"net": net, "arm": arm, "lr": lr, "seed": seed,
                                  "steps": got})
                    rows.append(f"{net}, {arm}, lr {lr}, seed {seed}: "
                                f"{'> ' + str(max_steps) if got is None else got}")
    summary = {net: race_speedups(races, net, max_steps) for net in nets}
    lenet_speedups = summary["LeNet-5"]["speedups"]
    return Result("relu-vs-tanh", "06_lenet_alexnet_vgg",
                  "LeNet-5 and an 8-conv plain network (no batch norm), tanh versus ReLU",
                  count_parameters(lenet5()), f"Fashion-MNIST, {n:,} training images", 0,
                  f"SGD momentum 0.9, batch 64, at most {max_steps} steps; steps until the "
                  f"training error over 20 steps is at most {threshold:.0%}; tanh with LeCun "
                  f"initialisation, ReLU with He initialisation, each at its fastest learning "
                  f"rate of {', '.join(map(str, lrs))} (mean steps over the seeds)",
                  "mean speed-up (tanh steps / ReLU steps), LeNet-5",
                  float(np.mean(lenet_speedups)),
                  "6 in Krizhevsky et al. (2012): a 4-layer CIFAR-10 network to 25 % training "
                  "error", time.perf_counter() - start,
                  display=", ".join(f"{net} {np.mean(v['speedups']):.2f}"
                                    for net, v in summary.items()),
                  extra={"seeds": list(seeds), "lrs": list(lrs), "threshold": threshold,
                         "max_steps": max_steps, "races": races, "summary": summary},
                  details="; ".join(rows) + f" (steps to {threshold:.0%} training error; "
                          "'> N': not within the N steps)")


#: The harder race's finish lines, from the easy 20 % down to 6 % training error.
RACE_HARD_THRESHOLDS = (0.20, 0.15, 0.10, 0.08, 0.06)


def run_relu_vs_tanh_harder(smoke: bool = False) -> Result:
    """Chapter 6's race with harder finish lines: LeNet-5, tanh with LeCun initialisation
    against ReLU with He initialisation, the steps to each of :data:`RACE_HARD_THRESHOLDS` read
    from one run per arm, learning rate and seed (:func:`steps_to_errors`); each arm at its
    fastest rate of :data:`RACE_LRS` for each threshold separately. Control: a linear softmax
    model on the same images, grid and seeds, which has no hidden unit to use."""
    from torch import nn

    from helpers.experiments.training_recipes import steps_to_errors
    if smoke:
        seeds, lrs, max_steps, n, thresholds = (0,), (0.01, 0.03, 0.1), 12, 512, (0.6, 0.5)
    else:
        seeds, lrs, max_steps, n, thresholds = ((0, 1, 2), RACE_LRS, 4000, 10_000,
                                                RACE_HARD_THRESHOLDS)
    x_tr, y_tr, _, _ = load_fashion_mnist()
    x, y = subset(x_tr, y_tr, n, seed=0)
    start = time.perf_counter()

    def lenet(activation):
        return lenet5(input_size=28, activation=activation).to(memory_format=torch.channels_last)

    def linear():
        return nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 10))

    contestants = {arm: (lambda i=init, a=activation: i(lenet(a)))
                   for arm, (activation, init) in RACE_ARMS.items()}
    contestants["linear softmax"] = linear
    races = []
    for arm, build in contestants.items():
        for lr in lrs:
            for seed in seeds:
                got = steps_to_errors(build, x, y, thresholds=thresholds, lr=lr,
                                      max_steps=max_steps, seed=seed, progress=False,
                                      **FASHION_NORM)
                print(f"[relu-vs-tanh-harder] {arm}, lr {lr}, seed {seed}: {got} "
                      f"({time.perf_counter() - start:.0f} s)", flush=True)
                races += [{"net": f"{t:.0%}", "arm": arm, "lr": lr, "seed": seed,
                           "steps": steps} for t, steps in got.items()]
    lenet_races = [r for r in races if r["arm"] in RACE_ARMS]
    summary = {f"{t:.0%}": race_speedups(lenet_races, f"{t:.0%}", max_steps)
               for t in thresholds}
    linear_reached = {f"{t:.0%}": sum(r["steps"] is not None for r in races
                                      if r["arm"] == "linear softmax" and r["net"] == f"{t:.0%}")
                      for t in thresholds}
    hardest = f"{min(thresholds):.0%}"
    rows = [f"{t}: tanh lr {v['lr']['tanh + LeCun init']} steps {v['tanh_steps']}, ReLU lr "
            f"{v['lr']['ReLU + He init']} steps {v['relu_steps']}, speed-ups {v['speedups']}"
            for t, v in summary.items()]
    return Result("relu-vs-tanh-harder", "06_lenet_alexnet_vgg",
                  "LeNet-5, tanh versus ReLU, to training errors from "
                  f"{max(thresholds):.0%} down to {min(thresholds):.0%}",
                  count_parameters(lenet5()), f"Fashion-MNIST, {n:,} training images", 0,
                  f"SGD momentum 0.9, batch 64, at most {max_steps} steps; steps until the "
                  f"training error over 20 steps is at most each of "
                  f"{', '.join(f'{t:.0%}' for t in thresholds)} (one run per arm, rate and "
                  f"seed); tanh with LeCun initialisation, ReLU with He initialisation, each at "
                  f"its fastest learning rate of {', '.join(map(str, lrs))} for each threshold "
                  f"(mean steps over the seeds); control: a linear softmax model, same grid",
                  f"mean speed-up (tanh steps / ReLU steps) to {hardest} training error",
                  float(np.mean(summary[hardest]["speedups"])),
                  "6 in Krizhevsky et al. (2012): a 4-layer CIFAR-10 network to 25 % training "
                  "error", time.perf_counter() - start,
                  display=", ".join(f"{t} {np.mean(v['speedups']):.2f}"
                                    for t, v in summary.items()),
                  extra={"seeds": list(seeds), "lrs": list(lrs),
                         "thresholds": list(thresholds), "max_steps": max_steps,
                         "races": races, "summary": summary, "linear_reached": linear_reached},
                  details="; ".join(rows) + "; linear softmax runs (of "
                          f"{len(lrs) * len(seeds)}) that reached each threshold: "
                          + ", ".join(f"{t} {k}" for t, k in linear_reached.items()))


def run_regularisation(smoke: bool = False) -> Result:
    """Chapter 6's dropout and random-shift measurements with seeds 0, 1 and 2, through the
    chapter's own code path (:func:`regularisation_arms`)."""
    seeds, n, n_test, epochs = ((0,), 128, 500, 1) if smoke else ((0, 1, 2), 1000, 5000, 10)
    x_tr, y_tr, x_te, y_te = load_mnist()
    x, y = subset(x_tr, y_tr, n, seed=0)
    start = time.perf_counter()
    gains, rows, accuracies = {"dropout": [], "shifts": []}, [], []
    for seed in seeds:
        got = regularisation_arms(x, y, x_te[:n_test], y_te[:n_test], seed=seed, epochs=epochs,
                                  **MNIST_NORM)
        base, drop, shift = (got[k] for k in REGULARISATION_ARMS)
        accuracies.append({k: [round(v, 4) for v in got[k]] for k in REGULARISATION_ARMS})
        gains["dropout"].append(round(drop[1] - base[1], 4))
        gains["shifts"].append(round(shift[1] - base[1], 4))
        rows.append(f"seed {seed}: test accuracy {base[1]:.2%} plain, {drop[1]:.2%} dropout, "
                    f"{shift[1]:.2%} shifts (training accuracy {base[0]:.2%}, {drop[0]:.2%}, "
                    f"{shift[0]:.2%})")
    return Result("regularisation-seeds", "06_lenet_alexnet_vgg",
                  "small VGG-style network (8/16 channels, FC 256)",
                  count_parameters(small_vgg(channels=(8, 16), convs_per_stage=1, hidden=256)),
                  f"MNIST, {n:,} training digits, {n_test:,} test digits", epochs,
                  "Adam lr 1e-3, batch 64; dropout 0.5 before the last layer, or random shifts "
                  "of up to 2 px (black border)",
                  f"smallest test-accuracy gains over {len(seeds)} seeds",
                  min(gains["dropout"]),
                  "chapter 6: dropout at least +0.5 points and shifts at least +1 point on "
                  "every seed",
                  time.perf_counter() - start,
                  display=f"dropout {100 * min(gains['dropout']):+.2f} points, shifts "
                          f"{100 * min(gains['shifts']):+.2f} points",
                  details="; ".join(rows), extra={"seeds": list(seeds),
                                                  "dropout_gains": gains["dropout"],
                                                  "shift_gains": gains["shifts"],
                                                  "accuracies": accuracies})


def run_translation_seeds(smoke: bool = False) -> Result:
    """Chapter 1's translation experiment through the notebook's own code path
    (:func:`helpers.experiments.translation.run_translation`): each arm's learning rate chosen
    on held-out centred training digits (seed 0, grid ``LR_GRID``), then seeds 0, 1, 2. Seed
    ``s`` here is the notebook's run under ``CNN_COURSE_SEED_SHIFT=s``."""
    tr = translation
    if smoke:
        seeds, grid, sizes, steps = (0,), (3e-3,), dict(n_train=256, n_test=200, n_val=100), 2
    else:
        seeds, grid, sizes, steps = (0, 1, 2), tr.LR_GRID, {}, None
    mnist = load_mnist()
    start = time.perf_counter()
    data0 = tr.experiment_data(0, mnist=mnist, **sizes)
    tried = {arm: {} for arm in tr.ARMS}
    for arm in tr.ARMS:
        for lr in grid:
            _, rec = tr.train_arm(arm, data0, seed=0, lr=lr, progress=False, max_steps=steps)
            tried[arm][str(lr)] = round(rec["val"], 4)
            print(f"[translation] {arm} lr {lr:g}: val {rec['val']:.4f}", file=sys.stderr,
                  flush=True)
    lrs = {arm: float(max(scores, key=scores.get)) for arm, scores in tried.items()}
    runs = []
    for seed in seeds:
        _, records = tr.run_translation(seed, lrs, mnist=mnist, track=True, progress=False,
                                        max_steps=steps, **sizes)
        runs.append({arm: {k: (round(v, 4) if isinstance(v, float) else [round(a, 4) for a in v])
                           for k, v in rec.items() if k != "first_layer_init"}
                     for arm, rec in records.items()})
        print(f"[translation] seed {seed}: {runs[-1]}", file=sys.stderr, flush=True)
    places = ("centre", "corner", *tr.CORNERS, "val")

    def sd(values):
        return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0

    stats = {arm: {w: (float(np.mean([r[arm][w] for r in runs])),
                       sd([r[arm][w] for r in runs])) for w in places} for arm in tr.ARMS}
    gap, flat = tr.ARMS[2], tr.ARMS[1]
    gaps = [r[gap]["corner"] - r[flat]["corner"] for r in runs]
    shown = "; ".join(f"{arm}: centre {stats[arm]['centre'][0]:.3f} ± "
                      f"{stats[arm]['centre'][1]:.3f}, corner {stats[arm]['corner'][0]:.3f} ± "
                      f"{stats[arm]['corner'][1]:.3f}" for arm in tr.ARMS)
    params = {arm: count_parameters(tr.build_arm(arm)) for arm in tr.ARMS}
    return Result("translation-seeds", "01_why_not_fully_connected",
                  "MLP 3136-256-10; conv trunk 8/16/32 with a flatten head or a global "
                  "average pooling head",
                  params[gap],
                  f"MNIST, {len(data0['train'][1]):,} centred training digits on a 56x56 "
                  f"canvas, {len(data0['test-centre'][1]):,} test digits at the centre and "
                  "in the corners", 0 if smoke else tr.EPOCHS,   # smoke: a few steps
                  f"Adam, one-cycle, {tr.EPOCHS} epochs for every arm; peak learning rate "
                  f"chosen per arm from {', '.join(map(str, grid))} on "
                  f"{len(data0['val'][1]):,} held-out centred training digits (seed 0): "
                  + ", ".join(f"{arm} {lr:g}" for arm, lr in lrs.items())
                  + "; seeds " + ", ".join(map(str, seeds)),
                  "smallest corner-accuracy gap, global average pooling head minus flatten "
                  "head", min(gaps), "above 0.3", time.perf_counter() - start,
                  display=f"{min(gaps):.3f}",
                  details=f"mean ± sd (ddof=1) over {len(seeds)} seeds: {shown}",
                  extra={"seeds": list(seeds), "lr": lrs, "lr_tried": tried, "runs": runs,
                         "parameters": params,
                         "mean": {a: {w: round(m, 4) for w, (m, _) in s.items()}
                                  for a, s in stats.items()},
                         "sd": {a: {w: round(v, 4) for w, (_, v) in s.items()}
                                for a, s in stats.items()}})


def _vit_analysis(model, images, patch: int = 7) -> dict:
    """What a trained tiny ViT learned about position: the neighbours' and far patches' mean
    position-embedding similarity, each block's mean attention distance per head (pixels) and
    the class token's largest weight on one patch in the last block (mean over images, per
    head)."""
    from helpers.attention import attention_distance, neighbour_similarity, position_similarity
    model.eval()
    with torch.no_grad():
        model(images)
    blocks = [block.attention.last_attention for block in model.features.encoder]
    near, far = neighbour_similarity(position_similarity(
        model.features.position_embedding.embedding))
    return {"neighbour-similarity": round(near, 4), "far-similarity": round(far, 4),
            "distance": [[round(float(d), 3) for d in attention_distance(w, patch)]
                         for w in blocks],
            "top-weight": [round(float(v), 4)
                           for v in blocks[-1][:, :, 0, 1:].max(-1).values.mean(0)]}


def _cnn_vs_vit_settings(smoke: bool) -> dict:
    ds = data_size
    if smoke:
        return dict(sizes=(100, 200), steps=10, lrs=(1e-3, 3e-3), tune_seeds=(0,), seeds=(0, 1),
                    n_val=200, n_test=200, widen=0, n_probe=50)
    return dict(sizes=ds.SIZES, steps=ds.STEPS, lrs=ds.START_LRS, tune_seeds=ds.TUNE_SEEDS,
                seeds=(0, 1, 2), n_val=ds.N_VALIDATION, n_test=10_000, widen=3, n_probe=1000)


def _cnn_vs_vit_one(name: str, n: int, smoke: bool, threads: int) -> dict:
    """One model at one training-set size for :func:`run_cnn_vs_vit` (a process of its own):
    the learning rate tuned on seeds 0 and 1, every seed's test accuracy and validation curve,
    a half-length run per seed, and for the tiny ViT on the largest set what it learned."""
    torch.set_num_threads(threads)
    ds, cfg = data_size, _cnn_vs_vit_settings(smoke)
    build = {**ds.MODELS, **ds.VARIANTS}[name]
    x_tr, y_tr, x_te, y_te = load_fashion_mnist()
    pool, validation = ds.hold_out(x_tr, y_tr, cfg["n_val"])
    test = (x_te[:cfg["n_test"]], y_te[:cfg["n_test"]])
    val = ds.validation_for(validation, n)
    keep = name == "tiny ViT" and n == cfg["sizes"][-1]
    tuned = ds.tune_lr(build, pool, n, *val, lrs=cfg["lrs"], seeds=cfg["tune_seeds"], test=test,
                       keep_models=keep, max_widen=cfg["widen"], steps=cfg["steps"])
    runs = {seed: (curve, acc) for seed, curve, acc in tuned.runs[tuned.best]}
    models = {seed: tuned.models.get((tuned.best, seed)) for seed in cfg["tune_seeds"]}
    for seed in cfg["seeds"]:
        if seed not in runs:
            xs, ys = subset(*pool, n, seed=seed)
            model, curve = ds.train(build, xs, ys, lr=tuned.best, seed=seed,
                                    steps=cfg["steps"], curve=val)
            runs[seed], models[seed] = (curve, ds.accuracy(model, *test)), model
    half = [ds.train_and_test(build, *subset(*pool, n, seed=s), *test, lr=tuned.best, seed=s,
                              steps=cfg["steps"] // 2) for s in cfg["seeds"]]
    analysis = []
    if keep:
        probe = torch.tensor(x_te[:cfg["n_probe"]], dtype=torch.float32)[:, None] / 255
        analysis = [_vit_analysis(models[s], probe) for s in cfg["seeds"]]
    out = {"lr": tuned.best, "at_edge": tuned.at_edge, "parameters": count_parameters(build()),
           "validation": {f"{lr:g}": round(a, 4) for lr, a in sorted(tuned.scores.items())},
           "accuracy": [runs[s][1] for s in cfg["seeds"]], "half": half,
           "curves": [[[step, round(a, 4)] for step, a in runs[s][0]] for s in cfg["seeds"]],
           "analysis": analysis}
    print(f"[full-runs] {name} {n}: lr {out['lr']:g} of {out['validation']}, test "
          f"{out['accuracy']}, half-length {half}", flush=True)
    return out


def run_translation_long(smoke: bool = False) -> Result:
    """Chapter 1's translation experiment trained twice as long (``2 * EPOCHS`` epochs, the
    same one-cycle recipe and the learning rates chosen by ``translation-seeds``), seeds 0, 1,
    2: does the comparison of the three networks change when they train longer?"""
    tr = translation
    if smoke:
        seeds, sizes, steps = (0,), dict(n_train=256, n_test=200, n_val=100), 2
        lrs = {arm: 3e-3 for arm in tr.ARMS}
    else:
        seeds, sizes, steps = (0, 1, 2), {}, None
        lrs = load_results(PAGE)["translation-seeds"].extra["lr"]
    mnist = load_mnist()
    start = time.perf_counter()
    runs = []
    for seed in seeds:
        _, records = tr.run_translation(seed, lrs, epochs=2 * tr.EPOCHS, mnist=mnist,
                                        track=True, progress=False, max_steps=steps, **sizes)
        runs.append({arm: {k: (round(v, 4) if isinstance(v, float) else [round(a, 4) for a in v])
                           for k, v in rec.items() if k != "first_layer_init"}
                     for arm, rec in records.items()})
        print(f"[translation-long] seed {seed}: {runs[-1]}", file=sys.stderr, flush=True)
    gaps = [r[tr.ARMS[2]]["corner"] - r[tr.ARMS[1]]["corner"] for r in runs]
    mean = {arm: {w: round(float(np.mean([r[arm][w] for r in runs])), 4)
                  for w in ("centre", "corner")} for arm in tr.ARMS}
    shown = "; ".join(f"{arm}: centre {m['centre']:.3f}, corner {m['corner']:.3f}"
                      for arm, m in mean.items())
    return Result("translation-long", "01_why_not_fully_connected",
                  "MLP 3136-256-10; conv trunk 8/16/32 with a flatten head or a global "
                  "average pooling head", count_parameters(tr.build_arm(tr.ARMS[2])),
                  "as translation-seeds", 0 if smoke else 2 * tr.EPOCHS,
                  f"translation-seeds' recipe and learning rates, {2 * tr.EPOCHS} epochs "
                  "instead of " + str(tr.EPOCHS) + "; seeds " + ", ".join(map(str, seeds)),
                  "smallest corner-accuracy gap, global average pooling head minus flatten "
                  "head", min(gaps), "as translation-seeds", time.perf_counter() - start,
                  display=f"{min(gaps):.3f}", details=f"mean over {len(seeds)} seeds: {shown}",
                  extra={"seeds": list(seeds), "lr": lrs, "runs": runs, "mean": mean})


def run_cnn_vs_vit(smoke: bool = False) -> Result:
    """Chapter 9's small CNN against its tiny ViT on 400, 1,600 and 6,400 Fashion-MNIST
    images, every run trained for the same large number of steps; each model's learning rate
    chosen per size by the mean validation accuracy of seeds 0 and 1 on held-out training
    images (never more than the training images), the grid widened until the choice is inside
    it; seeds 0, 1, 2 scored on the test set, a half-length run per seed (what doubling the
    steps adds),
    what the ViTs learned about position, and a ViT as small as the CNN at the smallest size.
    Each model and size runs in a process of its own (with the threads this process has)."""
    ds, cfg = data_size, _cnn_vs_vit_settings(smoke)
    sizes, steps, lrs, seeds = cfg["sizes"], cfg["steps"], cfg["lrs"], cfg["seeds"]
    tune_seeds, n_val, n_test = cfg["tune_seeds"], cfg["n_val"], cfg["n_test"]
    start = time.perf_counter()
    jobs = [(name, n) for n in sizes for name in ds.MODELS]
    jobs += [(name, sizes[0]) for name in ds.VARIANTS]
    threads = torch.get_num_threads()
    from concurrent.futures import ProcessPoolExecutor
    with ProcessPoolExecutor(max_workers=len(jobs)) as workers:
        done = dict(zip(jobs, workers.map(_cnn_vs_vit_one, *zip(*jobs),
                                          [smoke] * len(jobs), [threads] * len(jobs))))
    chosen = {f"{name} {n}": done[name, n]["lr"] for name, n in jobs}
    tried = {f"{name} {n}": done[name, n]["validation"] for name, n in jobs}
    acc = {name: [done[name, n]["accuracy"] for n in sizes] for name in ds.MODELS}
    half = {name: [done[name, n]["half"] for n in sizes] for name in ds.MODELS}
    curves = {f"{name} {n}": done[name, n]["curves"] for name, n in jobs}
    analysis = done["tiny ViT", sizes[-1]]["analysis"]
    variants = {name: {k: done[name, sizes[0]][k] for k in ("parameters", "lr", "validation",
                                                             "accuracy", "at_edge")}
                for name in ds.VARIANTS}
    gaps = [[c - v for c, v in zip(cs, vs)] for cs, vs in zip(acc["small CNN"], acc["tiny ViT"])]
    rows = []
    for i, n in enumerate(sizes):
        gap, sd = ds.mean_sd(gaps[i])
        rows.append(f"{n:,} images: " + ", ".join(
            "{} {:.1f} ± {:.1f} % (lr {:g})".format(
                name, *(100 * v for v in ds.mean_sd(acc[name][i])), chosen[f"{name} {n}"])
            for name in acc)
            + f", gap {100 * gap:.1f} ± {100 * sd:.1f} points")
    params = {name: count_parameters(build()) for name, build in ds.MODELS.items()}
    return Result("cnn-vs-vit-seeds", "09_vision_transformers",
                  f"small CNN ({params['small CNN']:,} parameters) and tiny ViT",
                  params["tiny ViT"],
                  f"Fashion-MNIST, {'/'.join(f'{n:,}' for n in sizes)} training images, as many "
                  f"held-out training images (at most {n_val:,}) to choose the learning rate, "
                  f"{n_test:,} test images", 0,
                  f"Adam, one-cycle, batch {ds.BATCH}, {steps:,} steps at every size; peak "
                  f"learning rate per model and size chosen from {list(lrs)} (widened until the "
                  f"choice is inside the grid) by the mean validation accuracy of seeds "
                  f"{', '.join(map(str, tune_seeds))}; seeds {', '.join(map(str, seeds))} pick "
                  "the subset and the initial weights; a run of half the steps per seed shows "
                  "what doubling the steps adds",
                  "smallest test-accuracy gap, CNN minus ViT (points)",
                  100 * min(min(g) for g in gaps), "above 0 at every size and seed",
                  time.perf_counter() - start,
                  display=f"{100 * min(min(g) for g in gaps):+.1f} points",
                  details=f"test accuracy, mean ± sd over {len(seeds)} seeds: " + "; ".join(rows),
                  extra={"sizes": list(sizes), "seeds": list(seeds), "steps": steps,
                         "tune_seeds": list(tune_seeds), "accuracy": acc,
                         "half_steps_accuracy": half, "curves": curves, "lr": chosen,
                         "validation": tried, "vit_analysis": analysis, "variants": variants,
                         "at_edge": {f"{name} {n}": done[name, n]["at_edge"] for name, n in jobs}})


def _vit_task(name: str, n: int, steps: int, recipe: str, lr: float, seed: int, smoke: bool,
              threads: int, weight_decay: float | None = None):
    """One training of a ViT follow-up run (a process of its own): ``name`` (a model of
    ``data_size.MODELS`` or ``"tiny ViT, patch 4"``) with ``recipe`` (``data_size.RECIPES``,
    with AdamW's ``weight_decay`` where given) on the ``n`` images that ``seed`` draws from the
    experiment's pool, for ``steps`` steps at peak rate ``lr``: ``(validation curve, test
    accuracy)``, as :func:`run_cnn_vs_vit` trains."""
    torch.set_num_threads(threads)
    ds, cfg = data_size, _cnn_vs_vit_settings(smoke)
    build = {**ds.MODELS, "tiny ViT, patch 4": ds.make_vit_patch4}[name]
    x_tr, y_tr, x_te, y_te = load_fashion_mnist()
    pool, validation = ds.hold_out(x_tr, y_tr, cfg["n_val"])
    kwargs = dict(ds.RECIPES[recipe])
    if weight_decay is not None:
        kwargs["weight_decay"] = weight_decay
    model, curve = ds.train(build, *subset(*pool, n, seed=seed), lr=lr, seed=seed, steps=steps,
                            curve=ds.validation_for(validation, n), **kwargs)
    return curve, ds.accuracy(model, x_te[:cfg["n_test"]], y_te[:cfg["n_test"]])


def _vit_followup(arms: list[tuple], smoke: bool, workers: int = 6) -> dict:
    """``{(model, n, steps, recipe): record}`` for each arm, trained as :func:`run_cnn_vs_vit`
    trains and tunes (:func:`_tune_axis` on the learning rate: the tuning seeds at every rate,
    each training a task of its own so that they run side by side, the rate chosen by their
    mean validation accuracy, the grid widened by a factor of 3 while the choice is at its
    edge, then the other seeds at the chosen rate); the record holds the chosen rate, the
    rates' validation scores and each seed's test accuracy and validation curve at that rate."""
    from concurrent.futures import ProcessPoolExecutor

    cfg = _cnn_vs_vit_settings(smoke)
    axes = {a: (lambda lr, a=a: ((*a, lr), None), cfg["lrs"]) for a in arms}
    with _InProcess() if smoke else ProcessPoolExecutor(max_workers=workers) as pool:
        tuned = _tune_axis(pool, axes, cfg, smoke, factor=3)
    return {a: {"lr": t["best"], "at_edge": t["at_edge"], "validation": t["validation"],
                "accuracy": [t["runs"][s][1] for s in cfg["seeds"]],
                "curves": [[[step, round(v, 4)] for step, v in t["runs"][s][0]]
                           for s in cfg["seeds"]]} for a, t in tuned.items()}


def _pct(values) -> str:
    """Accuracies (fractions) as ``"mean ± sd %"``, scaled to percent *before* averaging, as the
    chapter computes them: the two orders can round a tie differently (0.8735 -> 87.3 or 87.4)."""
    mean, sd = data_size.mean_sd(100 * np.asarray(values, dtype=float))
    shown_sd = data_size.round_half_up(sd)
    if shown_sd == 0 and sd > 0:                  # "± 0.0" would read as identical seeds
        return f"{data_size.round_half_up(mean):.1f} ± {data_size.round_half_up(sd, 2):.2f} %"
    return f"{data_size.round_half_up(mean):.1f} ± {shown_sd:.1f} %"


def _vit_followup_extra(done: dict, smoke: bool) -> dict:
    cfg = _cnn_vs_vit_settings(smoke)
    return {"seeds": list(cfg["seeds"]), "tune_seeds": list(cfg["tune_seeds"]),
            "arms": [{"model": name, "n": n, "steps": steps, "recipe": recipe, **rec}
                     for (name, n, steps, recipe), rec in done.items()]}


def _arm_details(done: dict) -> str:
    return "; ".join(f"{name}, {recipe}, {n:,} images, {steps:,} steps: {_pct(r['accuracy'])} "
                     f"(lr {r['lr']:g} of {list(r['validation'])})"
                     for (name, n, steps, recipe), r in done.items())


def run_vit_longer(smoke: bool = False) -> Result:
    """Chapter 9's CNN and tiny ViT on the largest set (6,400 images) trained for twice the
    experiment's steps (2,000), learning rates tuned again for that length as in
    :func:`run_cnn_vs_vit`, seeds 0, 1, 2: what does doubling the steps once more add to the
    ViT, which was still gaining from 500 to 1,000 steps, and does it catch the CNN?"""
    cfg = _cnn_vs_vit_settings(smoke)
    n, steps = cfg["sizes"][-1], 2 * cfg["steps"]
    start = time.perf_counter()
    done = _vit_followup([(name, n, steps, "plain") for name in data_size.MODELS], smoke)
    acc = {name: done[name, n, steps, "plain"]["accuracy"] for name in data_size.MODELS}
    gap, gap_sd = data_size.mean_sd(100 * np.asarray(acc["small CNN"])      # points, as the
                                    - 100 * np.asarray(acc["tiny ViT"]))   # chapter computes it
    return Result("vit-longer", "09_vision_transformers",
                  "small CNN (9,098 parameters) and tiny ViT",
                  count_parameters(data_size.make_vit()),
                  f"Fashion-MNIST, {n:,} training images, as many held-out training images "
                  f"(at most {cfg['n_val']:,}) to choose the learning rate, {cfg['n_test']:,} "
                  "test images", 0,
                  f"as cnn-vs-vit-seeds but {steps:,} steps (Adam, one-cycle over the whole run, "
                  f"batch {data_size.BATCH}); peak learning rate per model chosen again from "
                  f"{list(cfg['lrs'])} by the mean validation accuracy of seeds "
                  f"{', '.join(map(str, cfg['tune_seeds']))}, widened until the choice is inside "
                  "the grid",
                  f"test-accuracy gap after {steps:,} steps, CNN minus ViT (points)", gap,
                  "the gap after 1,000 steps (cnn-vs-vit-seeds)", time.perf_counter() - start,
                  display=f"{data_size.round_half_up(gap):+.1f} ± "
                          f"{data_size.round_half_up(gap_sd):.1f} points",
                  details=_arm_details(done), extra=_vit_followup_extra(done, smoke))


def run_vit_patch4(smoke: bool = False) -> Result:
    """Chapter 9's tiny ViT with 4x4 patches (49 patches and a class token, the same 27,978
    parameters) at 400 images, 1,000 steps, its own learning rate tuned as in
    :func:`run_cnn_vs_vit`, seeds 0, 1, 2: the same split, seeds and budget as the 7x7-patch
    ViT of cnn-vs-vit-seeds, which it is compared with."""
    cfg = _cnn_vs_vit_settings(smoke)
    n, steps = cfg["sizes"][0], cfg["steps"]
    start = time.perf_counter()
    arm = ("tiny ViT, patch 4", n, steps, "plain")
    done = _vit_followup([arm], smoke)
    mean, sd = data_size.mean_sd(done[arm]["accuracy"])
    return Result("vit-patch4", "09_vision_transformers", "tiny ViT with 4x4 patches",
                  count_parameters(data_size.make_vit_patch4()),
                  f"Fashion-MNIST, {n:,} training images, {n:,} held-out training images to "
                  f"choose the learning rate, {cfg['n_test']:,} test images", 0,
                  f"as cnn-vs-vit-seeds: Adam, one-cycle, {steps:,} steps of "
                  f"{data_size.BATCH}; peak learning rate chosen from {list(cfg['lrs'])}, "
                  "widened until the choice is inside the grid",
                  "test accuracy", mean,
                  "the 7x7-patch tiny ViT at 400 images (cnn-vs-vit-seeds)",
                  time.perf_counter() - start, display=f"{100 * mean:.1f} ± {100 * sd:.1f} %",
                  details=_arm_details(done), extra=_vit_followup_extra(done, smoke))


class _InProcess:
    """A stand-in for a process pool that runs each task at once (smoke runs: nothing to start)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def submit(self, fn, *args):
        from concurrent.futures import Future
        future = Future()
        future.set_result(fn(*args))
        return future


def _tune_axis(pool, arms: dict, cfg: dict, smoke: bool, factor: float) -> dict:
    """Tune one setting per arm, as :func:`run_cnn_vs_vit` tunes the learning rate.
    ``arms[key] = (task, grid)``: ``task(value)`` gives the arguments of :func:`_vit_task`
    before the seed and the weight decay (or None). Every value of ``grid`` is trained with
    every tuning seed; the value with the best mean final validation accuracy is chosen (the
    smaller on a tie), the grid widened by ``factor`` (times or divided) while the choice is at
    its edge (at most ``cfg["widen"]`` times); the other seeds then train at the chosen value.
    Returns ``{key: {"best", "at_edge", "validation": {value: score}, "runs": {seed: (curve,
    test accuracy)}}}``."""
    threads = torch.get_num_threads()
    tried = {k: sorted(grid) for k, (_, grid) in arms.items()}
    done, scores, best = {}, {}, {}

    def submit(k, value, seeds):
        args, decay = arms[k][0](value)
        return {(k, value, s): pool.submit(_vit_task, *args, s, smoke, threads, decay)
                for s in seeds}

    todo = [(k, v) for k in arms for v in tried[k]]
    for round_ in range(cfg["widen"] + 1):
        futures = {}
        for k, v in todo:
            futures.update(submit(k, v, cfg["tune_seeds"]))
        for key, future in futures.items():
            done[key] = future.result()
            print(f"[full-runs] {key}: val {done[key][0][-1][1]:.4f}, test {done[key][1]:.4f}",
                  flush=True)
        todo = []
        for k in arms:
            scores[k] = {v: float(np.mean([done[k, v, s][0][-1][1] for s in cfg["tune_seeds"]]))
                         for v in tried[k]}
            best[k] = max(sorted(scores[k]), key=lambda v, k=k: scores[k][v])
            lo, hi = min(tried[k]), max(tried[k])
            if best[k] in (lo, hi) and round_ < cfg["widen"]:
                new = float(f"{lo / factor:.3g}") if best[k] == lo else float(f"{hi * factor:.3g}")
                tried[k] = sorted(tried[k] + [new])
                todo.append((k, new))
        if not todo:
            break
    futures = {}
    for k in arms:
        futures.update(submit(k, best[k], [s for s in cfg["seeds"] if s not in cfg["tune_seeds"]]))
    for key, future in futures.items():
        done[key] = future.result()
        print(f"[full-runs] {key}: test {done[key][1]:.4f}", flush=True)
    return {k: {"best": best[k], "at_edge": best[k] in (min(tried[k]), max(tried[k])),
                "validation": {f"{v:g}": round(x, 4) for v, x in sorted(scores[k].items())},
                "runs": {s: done[k, best[k], s] for s in cfg["seeds"]}} for k in arms}


def _recipe_summary(arms: list[dict], n: int | None = None) -> tuple[float, str, str]:
    """vit-recipe's value (the ViT's mean gain from the whole recipe, points), display and
    details, from its arms' per-seed accuracies at ``n`` training images (default: the first
    arm's; the details also list arms at other sizes); percentages are taken before averaging
    and rounded half up (``data_size.round_half_up``), as chapter 9 prints them."""
    ds = data_size
    plain, decayed = list(ds.RECIPES)[0], list(ds.RECIPES)[-1]
    n = arms[0].get("n") if n is None else n
    acc = {(a["model"], a["recipe"]): 100 * np.asarray(a["accuracy"]) for a in arms
           if a.get("n", n) == n}
    gain = {m: acc[m, decayed] - acc[m, plain] for m in ds.MODELS}
    gaps = {r: acc["small CNN", r] - acc["tiny ViT", r] for r in ds.RECIPES}
    show = "; ".join(
        f"{a['model']}, {a['recipe']}"
        + ("" if a.get("n", n) == n else f", {a['n']:,} images")
        + f": {_pct(a['accuracy'])} (lr {a['lr']:g}"
        + (f", weight decay {a['weight_decay']:g} = per-step decay {a['decay_per_step']:g} of "
           f"{list(a['validation'])}" if "weight_decay" in a else f" of {list(a['validation'])}")
        + ")" for a in arms)
    gap_text = "; ".join("gap with {}: {:.1f} ± {:.1f} points".format(
        r, *(ds.round_half_up(v) for v in ds.mean_sd(g))) for r, g in gaps.items())
    display = "ViT {:+.1f} ± {:.1f}, CNN {:+.1f} ± {:.1f} points".format(
        *(ds.round_half_up(v) for m in ("tiny ViT", "small CNN") for v in ds.mean_sd(gain[m])))
    return float(np.mean(gain["tiny ViT"])), display, f"{show}; {gap_text}"


def run_vit_recipe(smoke: bool = False) -> Result:
    """Chapter 9's small CNN and tiny ViT at 1,600 images, 2,000 steps, with three recipes
    (``data_size.RECIPES``): the plain one of cnn-vs-vit-seeds; random shifts of up to 2 pixels
    and left-right flips; and the same augmentation with AdamW's decoupled weight decay. Each
    model's peak learning rate is tuned for the plain and the augmented recipe as in
    :func:`run_cnn_vs_vit` but on seed 0 alone (its validation accuracy; the grid widened by 3
    until the choice is inside it), to keep the run within about half an hour of one core; the
    third recipe keeps the augmented recipe's rate and tunes
    the weight decay per model the same way, over per-step decays ``lr * weight_decay`` of
    ``data_size.DECAY_PER_STEP`` (widened by 10): AdamW's decay per step is the learning rate
    times the weight decay, so one weight decay for models trained at different rates would
    not decay them equally. Seeds 0, 1, 2: what do augmentation and a tuned weight decay buy
    each model, and do they change the gap? Every choice is made by the mean validation
    accuracy of seeds 0 and 1 (``data_size.TUNE_SEEDS``), and AdamW decays only weight
    matrices and kernels (``data_size.decay_exempt``, as DeiT). The plain recipe also trains
    at 400 images for the same 2,000 steps, so that the gap at the smallest size can be set
    against the 6,400-image gap of vit-longer at an equal budget."""
    ds = data_size
    cfg = _cnn_vs_vit_settings(smoke)                                # tuned on seeds 0 and 1
    n, n_small, steps = cfg["sizes"][1], cfg["sizes"][0], 2 * cfg["steps"]
    plain, augmented, decayed = ds.RECIPES
    decay_grid = (1e-3, 1e-2) if smoke else ds.DECAY_PER_STEP
    start = time.perf_counter()
    from concurrent.futures import ProcessPoolExecutor
    with _InProcess() if smoke else ProcessPoolExecutor(max_workers=4) as pool:
        rates = _tune_axis(pool, {(m, k, r): (lambda lr, m=m, k=k, r=r: ((m, k, steps, r, lr),
                                                                          None), cfg["lrs"])
                                  for m in ds.MODELS
                                  for k, r in ((n, plain), (n, augmented), (n_small, plain))},
                           cfg, smoke, 3.0)
        lr_aug = {m: rates[m, n, augmented]["best"] for m in ds.MODELS}
        decays = _tune_axis(pool, {(m, n, decayed): (lambda d, m=m: ((m, n, steps, decayed,
                                                                      lr_aug[m]), d / lr_aug[m]),
                                                     decay_grid)
                                   for m in ds.MODELS}, cfg, smoke, ds.DECAY_FACTOR)
    arms = []
    for (m, k, r), t in {**rates, **decays}.items():
        lr = lr_aug[m] if r == decayed else t["best"]
        arm = {"model": m, "n": k, "steps": steps, "recipe": r, "lr": lr,
               "tuned": "decay per step" if r == decayed else "lr", "at_edge": t["at_edge"],
               "validation": t["validation"],
               "accuracy": [t["runs"][s][1] for s in cfg["seeds"]],
               "curves": [[[step, round(v, 4)] for step, v in t["runs"][s][0]]
                          for s in cfg["seeds"]]}
        if r == decayed:
            arm["decay_per_step"] = t["best"]
            arm["weight_decay"] = float(f"{t['best'] / lr:.3g}")
        arms.append(arm)
    value, display, details = _recipe_summary(arms, n)
    return Result("vit-recipe", "09_vision_transformers",
                  f"small CNN ({count_parameters(ds.make_cnn()):,} parameters) and tiny ViT",
                  count_parameters(ds.make_vit()),
                  f"Fashion-MNIST, {n:,} training images ({n_small:,} for the plain recipe's "
                  "second arm), as many held-out training images to choose the learning rate "
                  f"and the weight decay, {cfg['n_test']:,} test images",
                  0,
                  f"{steps:,} steps of {ds.BATCH}, one-cycle, three recipes: plain (Adam); random "
                  f"shifts of up to {ds.AUGMENT_SHIFT} pixels and left-right flips (Adam); the "
                  "same with AdamW's weight decay (on weight matrices and kernels only: biases, "
                  "norm gains, position embeddings and the class token exempt, as DeiT). The "
                  f"plain recipe also at {n_small:,} images. Peak learning rate per "
                  f"model, size and recipe chosen from {list(cfg['lrs'])} (widened by 3 until the "
                  "choice is inside the grid); the weight-decay recipe keeps the augmented "
                  "recipe's rate and tunes the weight decay per model, over per-step decays "
                  f"lr × weight decay of {list(decay_grid)} (widened by "
                  f"{ds.DECAY_FACTOR:g}); every choice by the mean validation accuracy of seeds "
                  f"{', '.join(map(str, cfg['tune_seeds']))} (the smaller value on a tie)",
                  "test-accuracy gain of augmentation and tuned weight decay over the plain "
                  "recipe, tiny ViT (points)", value,
                  "the small CNN's gain from the same recipe", time.perf_counter() - start,
                  display=display, details=details,
                  extra={"seeds": list(cfg["seeds"]), "tune_seeds": list(cfg["tune_seeds"]),
                         "decay_grid": list(decay_grid), "arms": arms})


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


def run_pool_vs_avg(smoke: bool = False) -> Result:
    """The control of ``pool-vs-stride``: the pooled network with 2x2 average pooling instead
    of max pooling, the same protocol (learning rate chosen on held-out images, seeds 0, 1, 2)."""
    from helpers.experiments import pool_stride as ps
    start = time.perf_counter()
    rec = ps.compare_pool_stride(smoke, log=lambda t: print(f"[pool-vs-avg] {t}", flush=True),
                                 names=("averaged",))
    acc, sd = ps.mean_sd(rec["test"]["averaged"])
    return Result("pool-vs-avg", "03_stride_and_pooling",
                  "chapter 3's pooled network with 2x2 average pooling (8/16 channels, 3x3)",
                  count_parameters(ps.pool_stride_nets()["averaged"]()),
                  f"Fashion-MNIST, {rec['n_train']:,} training images, {rec['n_val']:,} held-out "
                  f"training images to choose the learning rate, {rec['n_test']:,} test images",
                  rec["epochs"], f"as pool-vs-stride: Adam, one-cycle, batch 100; peak learning "
                  f"rate chosen from {rec['lrs']} (widened while at the edge) by seed 0's "
                  f"held-out accuracy, then seeds {', '.join(map(str, rec['seeds']))}",
                  f"mean test accuracy over {len(rec['seeds'])} seeds", acc,
                  "pool-vs-stride's pooled and strided networks", time.perf_counter() - start,
                  display=f"{acc:.2%} ± {sd:.2%}",
                  details=f"lr {rec['lr']['averaged']:g}; seeds "
                          f"{', '.join(f'{a:.2%}' for a in rec['test']['averaged'])}; held-out "
                          f"accuracy per learning rate (seed 0): {rec['grid']['averaged']}",
                  extra=rec)


def run_field_vs_accuracy(smoke: bool = False) -> Result:
    """Chapter 5's receptive field against accuracy at a fixed number of weights: the same
    small network with dilations 1, 1, 1 / 1, 2, 2 / 1, 2, 4 (fields 15, 23, 31 pixels),
    learning rate chosen per arm on held-out images over seeds 0, 1, 2
    (``helpers.experiments.effective_field.compare_fields``)."""
    from helpers.experiments import pool_stride as ps
    from helpers.experiments.effective_field import compare_fields
    start = time.perf_counter()
    rec = compare_fields(smoke, log=lambda t: print(f"[field-vs-accuracy] {t}", flush=True))
    names = list(rec["test"])
    gain = [b - a for a, b in zip(rec["test"][names[0]], rec["test"][names[-1]])]
    gain_mean, gain_sd = ps.mean_sd(gain)
    shown = "; ".join(f"dilations {n} (field {rec['fields'][n]}) {100 * ps.mean_sd(v)[0]:.2f} ± "
                      f"{100 * ps.mean_sd(v)[1]:.2f} % (lr {rec['lr'][n]:g}; seeds "
                      f"{', '.join(f'{a:.2%}' for a in v)})" for n, v in rec["test"].items())
    return Result("field-vs-accuracy", "05_receptive_fields",
                  "conv 3x3 stride 2, three 3x3 convs with dilations d1, d2, d3, global average "
                  "pooling, linear (16 channels)", rec["parameters"],
                  f"MNIST, {rec['n_train']:,} training images, {rec['n_val']:,} held-out "
                  f"training images to choose the learning rate, {rec['n_test']:,} test images",
                  rec["epochs"], f"Adam, one-cycle, batch 100; every arm at every peak "
                  f"learning rate of {rec['lrs']} (widened while at the edge) with seeds "
                  f"{', '.join(map(str, rec['seeds']))} (same initial weights for every arm "
                  "within a seed); each arm's rate chosen by its mean held-out accuracy over "
                  "the seeds",
                  f"test accuracy, field {rec['fields'][names[-1]]} minus field "
                  f"{rec['fields'][names[0]]} (points)", 100 * gain_mean,
                  "the same weights and multiply-adds in every arm: only the field differs",
                  time.perf_counter() - start,
                  display=f"{100 * gain_mean:+.2f} ± {100 * gain_sd:.2f} points",
                  details=shown + f"; held-out accuracy per learning rate and seed: "
                          f"{rec['grid']}; held-out accuracy gained over the last 5 epochs: "
                          f"{rec['plateau']}", extra=rec)


def _ch08_pixels(images) -> torch.Tensor:
    """uint8 digits (N, 28, 28) -> (N, 1, 28, 28) in [0, 1], as chapter 8 feeds them."""
    return torch.tensor(np.asarray(images), dtype=torch.float32)[:, None] / 255


def _ch08_net(seed: int) -> torch.nn.Module:
    """Chapter 8's network, its weights drawn with ``seed``."""
    from helpers.models import small_cnn
    seed_everything(seed)
    return small_cnn(channels=(16, 32, 64), batch_norm=True)


def _ch08_accuracy(model, x, y, batch: int = 1000) -> float:
    """Accuracy on the (already normalised) tensors ``(x, y)``; ``model`` is left in eval mode."""
    return evaluate(model.eval(), [(x[i:i + batch], y[i:i + batch])
                                   for i in range(0, len(x), batch)])[1]


def _ch08_memorise(seed: int, x, y, *, lr: float, max_epochs: int, batch: int = 32,
                   fit_at: float = 0.95) -> tuple[torch.nn.Module, int, float]:
    """Chapter 8's network trained on (x, y) with Adam at a constant ``lr``, epoch by epoch
    (data order from ``seed``), until its training accuracy (evaluation mode) reaches ``fit_at``
    or ``max_epochs`` have passed: (model, epochs, training accuracy)."""
    model = _ch08_net(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    order = torch.Generator().manual_seed(seed)
    acc, epoch = 0.0, 0
    while epoch < max_epochs and acc < fit_at:
        model.train()
        for idx in torch.randperm(len(x), generator=order).split(batch):
            loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        epoch += 1
        acc = _ch08_accuracy(model, x, y)
    return model.eval(), epoch, acc


def _ch08_trained_for(seed: int, x, y, *, lr: float, epochs: int,
                      batch: int = 32) -> torch.nn.Module:
    """As :func:`_ch08_memorise` for exactly ``epochs`` epochs."""
    return _ch08_memorise(seed, x, y, lr=lr, max_epochs=epochs, batch=batch, fit_at=2.0)[0]


def run_ch08_label_randomisation(smoke: bool = False) -> Result:
    """Chapter 8's data-randomisation test (Adebayo et al. 2018): the chapter's network trained
    on 1,000 MNIST training digits with their true labels and, from the same initial weights
    and data order, with the labels randomly permuted until it fits them (training accuracy at
    least 95 %), then for the same number of epochs on the true labels; seeds 0, 1 and 2. For
    the chapter's eight test digits (their true classes) every map of the chapter's sanity
    table (``helpers.attribution.sanity_maps``) of the two networks is compared by Spearman's
    rank correlation; the reference is the same comparison between two true-label networks of
    different seeds."""
    from helpers import attribution as A
    start = time.perf_counter()
    seeds, n, lr, max_epochs = (0, 1, 2), (64 if smoke else 1000), 3e-3, (1 if smoke else 300)
    x_tr, y_tr, x_te, y_te = load_mnist()
    x, y = _ch08_pixels(x_tr[:n]), torch.as_tensor(y_tr[:n]).long()
    x_show, y_show = _ch08_pixels(x_te[:8]), torch.as_tensor(y_te[:8]).long()
    x_test, y_test = _ch08_pixels(x_te[:2000]), torch.as_tensor(y_te[:2000]).long()
    rec = {"seeds": list(seeds), "n_train": n, "lr": lr, "fit_at": 0.95, "epochs": [],
           "train_acc_random": [], "train_acc_real": [], "test_acc_random": [],
           "test_acc_real": [], "random_vs_real": {}, "real_vs_real": {}}
    real_maps = []
    for seed in seeds:
        perm = torch.as_tensor(np.random.default_rng(seed).permutation(n))
        shuffled, epochs, fit = _ch08_memorise(seed, x, y[perm], lr=lr, max_epochs=max_epochs)
        real = _ch08_trained_for(seed, x, y, lr=lr, epochs=epochs)
        rec["epochs"].append(epochs)
        rec["train_acc_random"].append(round(fit, 4))
        rec["train_acc_real"].append(round(_ch08_accuracy(real, x, y), 4))
        rec["test_acc_random"].append(round(_ch08_accuracy(shuffled, x_test, y_test), 4))
        rec["test_acc_real"].append(round(_ch08_accuracy(real, x_test, y_test), 4))
        maps = {}
        for k, net in enumerate((real, shuffled)):      # fresh SmoothGrad noise for every map
            gen = torch.Generator().manual_seed(1000 * seed + k)
            maps[k] = A.sanity_maps(net, x_show, y_show, net.features[10], generator=gen)
        real_maps.append(maps[0])
        for name in maps[0]:
            rho = A.rank_correlation(maps[0][name], maps[1][name]).mean().item()
            rec["random_vs_real"].setdefault(name, []).append(round(rho, 4))
        print(f"[ch08-label-randomisation] seed {seed}: {epochs} epochs, fits {fit:.1%} of the "
              f"permuted labels; test accuracy {rec['test_acc_real'][-1]:.1%} (true labels), "
              f"{rec['test_acc_random'][-1]:.1%} (permuted)", flush=True)
    for i in range(len(seeds)):                          # two true-label networks: reference
        j = (i + 1) % len(seeds)
        for name in real_maps[i]:
            rho = A.rank_correlation(real_maps[i][name], real_maps[j][name]).mean().item()
            rec["real_vs_real"].setdefault(name, []).append(round(rho, 4))
    shown = {name: f"{np.mean(v):.2f} ± {np.std(v, ddof=1):.2f}"
             for name, v in rec["random_vs_real"].items()}
    gradient = rec["random_vs_real"]["gradient"]
    reference = rec["real_vs_real"]["gradient"]
    return Result("ch08-label-randomisation", "08_what_a_trained_network_sees",
                  "small_cnn(16, 32, 64) with batch norm and global average pooling",
                  sum(p.numel() for p in _ch08_net(0).parameters()),
                  f"MNIST, the first {n:,} training digits (true or permuted labels); maps of "
                  "the first 8 test digits", int(max(rec["epochs"])),
                  f"Adam at a constant rate {lr:g}, batch 32; the permuted-label network until "
                  "it fits 95 % of its labels, the true-label network from the same initial "
                  "weights and data order for as many epochs; seeds 0, 1, 2",
                  "rank correlation of absolute-gradient maps, true- vs permuted-label network",
                  float(np.mean(gradient)),
                  "Adebayo et al. 2018's data-randomisation test; the reference is two "
                  "true-label networks of different seeds",
                  time.perf_counter() - start,
                  display=f"{np.mean(gradient):.2f} ± {np.std(gradient, ddof=1):.2f} (another "
                          f"true-label seed: {np.mean(reference):.2f} ± "
                          f"{np.std(reference, ddof=1):.2f})",
                  details=f"epochs to fit {rec['epochs']}; training accuracy on permuted labels "
                          f"{rec['train_acc_random']}; test accuracy {rec['test_acc_real']} "
                          f"(true labels), {rec['test_acc_random']} (permuted); rank correlation "
                          f"true vs permuted labels: " + "; ".join(f"{k} {v}" for k, v in
                                                                     shown.items()),
                  extra=rec)


def _ch08_attack_train(seed: int, x, y, *, lr: float, steps: int, eps: float,
                       batch: int = 32, log_every: int = 0, val=None) -> tuple:
    """Chapter 8's network, ``steps`` steps of Adam with a one-cycle schedule up to ``lr`` on
    batches of ``batch`` (data order from ``seed``): standard training (``eps`` = 0) or on
    FGSM examples with a random start (Wong, Rice & Kolter 2020): a uniform start in the
    eps-ball, one sign step of 1.25 eps, projected back into the ball and onto [0, 1].
    Returns (model, seconds of CPU, validation records every ``log_every`` steps)."""
    import torch.nn.functional as F
    model = _ch08_net(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    order, noise = torch.Generator().manual_seed(seed), torch.Generator().manual_seed(seed + 100)
    history, cpu, step = [], time.process_time(), 0
    while step < steps:
        for idx in torch.randperm(len(x), generator=order).split(batch):
            if step == steps:
                break
            xb, yb = x[idx], y[idx]
            model.train()
            if eps > 0:
                delta = (torch.rand(xb.shape, generator=noise) * 2 - 1) * eps
                delta.requires_grad_(True)
                loss = F.cross_entropy(model((xb + delta).clamp(0, 1)), yb)
                (g,) = torch.autograd.grad(loss, delta)
                delta = (delta.detach() + 1.25 * eps * g.sign()).clamp(-eps, eps)
                xb = (xb + delta).clamp(0, 1)
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            if log_every and val is not None and step % log_every == 0:
                history.append((step, val(model.eval())))
    return model.eval(), time.process_time() - cpu, history


def _ch08_robust_accuracy(model, x, y, eps: float, steps: int) -> float:
    """Accuracy under chapter 8's PGD (``steps`` steps of 2.5 eps / steps from the image)."""
    from helpers import attribution as A
    model.eval()
    if eps == 0:
        return _ch08_accuracy(model, x, y)
    adv = torch.cat([A.pgd(model, x[i:i + 500], y[i:i + 500], eps, steps=steps, bounds=(0, 1))
                     for i in range(0, len(x), 500)])
    return _ch08_accuracy(model, adv, y)


def run_ch08_adversarial_training(smoke: bool = False) -> Result:
    """Chapter 8's network trained on adversarial examples (FGSM with a random start, Wong, Rice
    & Kolter 2020, at eps = 0.2, the largest the chapter attacks with) against standard
    training for the same number of steps: each arm's peak learning rate chosen with seed 0 on
    held-out training digits by its own aim (clean accuracy for standard training, accuracy
    under 5-step PGD at eps = 0.2 for adversarial training; the grid widened while the best
    rate is at its edge), then seeds 1 and 2 at that rate;
    clean and PGD accuracy at the chapter's eps values on 1,000 test digits (5 PGD steps as in
    the chapter; 20 at eps 0.1 and 0.2 as a stronger check)."""
    start = time.perf_counter()
    seeds = (0, 1, 2)
    eps_train, epsilons, strong = 0.2, (0.0, 0.05, 0.1, 0.15, 0.2), (0.1, 0.2)
    steps = 8 if smoke else 1000
    lrs = (3e-3, 1e-2, 3e-2)
    x_tr, y_tr, x_te, y_te = load_mnist()
    n_val, n_test = (100, 100) if smoke else (5000, 1000)
    x_all, y_all = _ch08_pixels(x_tr), torch.as_tensor(y_tr).long()
    x, y = x_all[:-n_val], y_all[:-n_val]
    x_val, y_val = x_all[-n_val:], y_all[-n_val:]
    x_val_pgd, y_val_pgd = x_val[:500], y_val[:500]
    x_test, y_test = _ch08_pixels(x_te[2000:2000 + n_test]), torch.as_tensor(
        y_te[2000:2000 + n_test]).long()
    arms = {"standard": 0.0, "adversarial": eps_train}
    aims = {"standard": lambda m: _ch08_accuracy(m, x_val, y_val),
            "adversarial": lambda m: _ch08_robust_accuracy(m, x_val_pgd, y_val_pgd, eps_train, 5)}
    rec = {"seeds": list(seeds), "eps_train": eps_train, "epsilons": list(epsilons),
           "strong_epsilons": list(strong), "steps": steps, "batch": 32, "lrs": list(lrs),
           "n_val": n_val, "n_test": n_test, "grid": {}, "lr": {}, "cpu_seconds": {},
           "history": {}, "clean": {}, "pgd5": {}, "pgd20": {}}
    for arm, eps in arms.items():
        models, grid, cpu, hist = {}, {}, {}, {}

        def train(lr, seed, arm=arm, eps=eps, hist=hist):
            model, seconds, history = _ch08_attack_train(
                seed, x, y, lr=lr, steps=steps, eps=eps, log_every=steps // 2, val=aims[arm])
            hist[f"{lr:g} seed {seed}"] = [round(v, 4) for _, v in history]
            print(f"[ch08-adversarial-training] {arm} lr {lr:g} seed {seed}: held-out "
                  f"{history[-1][1]:.1%} ({seconds:.0f} s CPU)", flush=True)
            return model, seconds, history[-1][1]

        ladder = (3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1)
        tried = list(lrs)                                # the rate, chosen with seed 0; the
        for lr in tried:                                 # grid widens while the best is at
            models[lr, seeds[0]], seconds, grid[f"{lr:g}"] = train(lr, seeds[0])   # its edge
            cpu[lr] = [round(seconds, 1)]
            best = max(tried[:tried.index(lr) + 1], key=lambda r: grid[f"{r:g}"])
            if lr == tried[-1] == best and lr != ladder[-1] and not smoke:
                tried.append(ladder[ladder.index(lr) + 1])
        while best == tried[0] != ladder[0] and not smoke:
            lr = ladder[ladder.index(tried[0]) - 1]
            tried.insert(0, lr)
            models[lr, seeds[0]], seconds, grid[f"{lr:g}"] = train(lr, seeds[0])
            cpu[lr] = [round(seconds, 1)]
            best = max(tried, key=lambda r: grid[f"{r:g}"])
        rec.setdefault("tried", {})[arm] = tried
        for seed in seeds[1:]:
            models[best, seed], seconds, _ = train(best, seed)
            cpu[best].append(round(seconds, 1))
        rec["grid"][arm] = {rate: round(aim, 4) for rate, aim in grid.items()}
        rec["lr"][arm], rec["history"][arm] = best, hist
        rec["cpu_seconds"][arm] = cpu[best]
        rec["clean"][arm] = [round(_ch08_accuracy(models[best, s], x_test, y_test), 4)
                             for s in seeds]
        rec["pgd5"][arm] = [[round(_ch08_robust_accuracy(models[best, s], x_test, y_test, e, 5),
                                   4) for e in epsilons] for s in seeds]
        rec["pgd20"][arm] = [[round(_ch08_robust_accuracy(models[best, s], x_test, y_test, e,
                                                          20), 4) for e in strong]
                             for s in seeds]
    rec["lr_inside_grid"] = all(rec["tried"][a][0] < rec["lr"][a] < rec["tried"][a][-1]
                                for a in arms)
    col = epsilons.index(0.1)
    gain = [a[col] - s[col] for a, s in zip(rec["pgd5"]["adversarial"], rec["pgd5"]["standard"])]
    cost = [s - a for a, s in zip(rec["clean"]["adversarial"], rec["clean"]["standard"])]

    def ms(v, scale=100):
        return f"{scale * np.mean(v):.1f} ± {scale * np.std(v, ddof=1):.1f}"

    rows = "; ".join(f"{arm}: lr {rec['lr'][arm]:g}, clean {ms(rec['clean'][arm])} %, PGD-5 at "
                     + ", ".join(f"eps {e:g} {ms([r[i] for r in rec['pgd5'][arm]])} %"
                                 for i, e in enumerate(epsilons) if e > 0)
                     + ", PGD-20 at "
                     + ", ".join(f"eps {e:g} {ms([r[i] for r in rec['pgd20'][arm]])} %"
                                 for i, e in enumerate(strong))
                     for arm in arms)
    return Result("ch08-adversarial-training", "08_what_a_trained_network_sees",
                  "small_cnn(16, 32, 64) with batch norm and global average pooling",
                  sum(p.numel() for p in _ch08_net(0).parameters()),
                  f"MNIST in [0, 1], {len(x):,} training digits, {n_val:,} held out to choose "
                  f"the learning rate, {n_test:,} test digits", 0,
                  f"{steps:,} steps of 32 digits, Adam with a one-cycle schedule; standard "
                  f"training against FGSM with a random start at eps {eps_train:g} (step "
                  f"{1.25 * eps_train:g}); peak rate per arm from {list(lrs)}, widened while the "
                  "best was at the edge, by its held-out aim with seed 0, then seeds 1 and 2 at "
                  "that rate",
                  "accuracy under 5-step PGD at eps 0.1, adversarial minus standard training "
                  "(points)", 100 * float(np.mean(gain)),
                  "what adversarial training buys; its cost is the clean accuracy it gives up "
                  f"({ms(cost)} points) and about twice the compute per step",
                  time.perf_counter() - start,
                  display=f"{ms(gain)} points", details=rows + f"; held-out aim per rate (seed "
                                                               f"0): {rec['grid']}", extra=rec)


RUNS: dict[str, Callable[[bool], Result]] = {
    "translation-seeds": run_translation_seeds,
    "translation-long": run_translation_long,
    "lenet5-mnist": run_lenet,
    "relu-vs-tanh": run_relu_vs_tanh,
    "relu-vs-tanh-harder": run_relu_vs_tanh_harder,
    "regularisation-seeds": run_regularisation,
    "resnet8-fashion": run_resnet,
    "degradation-seeds": run_degradation_seeds,
    "degradation-14px": run_degradation,
    "cnn-vs-vit-seeds": run_cnn_vs_vit,
    "vit-longer": run_vit_longer,
    "vit-patch4": run_vit_patch4,
    "vit-recipe": run_vit_recipe,
    "pool-vs-stride": run_pool_vs_stride,
    "pool-vs-avg": run_pool_vs_avg,
    "field-vs-accuracy": run_field_vs_accuracy,
    "ch08-label-randomisation": run_ch08_label_randomisation,
    "ch08-adversarial-training": run_ch08_adversarial_training,
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
        # a heading a reader can scan (what was measured, for which chapter); the run's name
        # stays the anchor the table links to and opens the paragraph
        lines += [f"({r.name})=", f"### Chapter {int(r.chapter[:2])}: {r.metric}{smoke}", "",
                  f"Run `{r.name}`: "
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
        # RUNS order first; records this process does not know (a run added since it started)
        # are kept, never dropped
        save({k: results[k] for k in [*RUNS, *results] if k in results}, output)
        print(f"[full-runs] {name}: {result.metric} {result.value:.4f} in {result.seconds:.0f} s "
              f"-> {output}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
