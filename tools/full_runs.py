"""Full-length training runs, outside the test suite: ``make full-runs``.

    python -m tools.full_runs                        # every run -> chapters/full_runs.md
    python -m tools.full_runs --only lenet5-mnist    # one run; the others' rows are kept
    python -m tools.full_runs --smoke                # a few steps each (for the tests)

The chapters train cut-down versions of these networks so that each notebook runs in about a
minute on two CPU cores; here the same networks train on the full data for as long as they
need. Each run records its date, machine, epochs, test accuracy and seconds in
``chapters/full_runs.md`` (the machine-readable copy sits in an HTML comment at the end of the
page, so rerunning one run keeps the rows of the others). The test accuracy is the one after
the last epoch -- no early stopping or model selection on the test set.
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
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from helpers.data import FASHION_NORM, MNIST_NORM, load_fashion_mnist, load_mnist
from helpers.device import get_device, seed_everything
from helpers.experiments.depth import depth_sweep, downsample, last_epoch_error
from helpers.experiments.training_recipes import AugmentedLoader, steps_to_error, train_and_score
from helpers.experiments.translation import translation_datasets
from helpers.full_runs import JSON_MARK, PAGE, Result, load_results
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


def run_lenet(smoke: bool = False) -> Result:
    """LeNet-5 (tanh, average pooling) on all of MNIST; LeCun et al. (1998) report 0.95 % test
    error (99.05 % accuracy) for LeNet-5 without distortions."""
    epochs = 1 if smoke else 20
    seed_everything(0)
    x_tr, y_tr, x_te, y_te = _data(load_mnist, smoke)
    train = make_loader(x_tr, y_tr, batch_size=128, shuffle=True, seed=0, **MNIST_NORM)
    test = make_loader(x_te, y_te, batch_size=1000, **MNIST_NORM)
    model = lenet5(input_size=28).to(memory_format=torch.channels_last)  # faster on CPU
    start = time.perf_counter()
    acc, per_epoch = _one_cycle_sgd(model, train, test, epochs=epochs, smoke=smoke, lr=0.05)
    return Result("lenet5-mnist", "06_lenet_alexnet_vgg", "LeNet-5 (tanh, average pooling)",
                  count_parameters(model), "MNIST, 60,000 training / 10,000 test digits, 28x28",
                  epochs, "SGD momentum 0.9, one-cycle max lr 0.05, weight decay 5e-4, "
                  "batch 128, no augmentation", "test accuracy", acc,
                  "99.05 % (LeCun et al., 1998, no distortions)",
                  time.perf_counter() - start, per_epoch=per_epoch)


def run_resnet(smoke: bool = False) -> Result:
    """The chapter's small ResNet (depth 8, width 16) on all of Fashion-MNIST at 28x28, with
    random shifts of up to 2 pixels and left-right flips."""
    epochs = 1 if smoke else 15
    seed_everything(0)
    x_tr, y_tr, x_te, y_te = _data(load_fashion_mnist, smoke)
    train = AugmentedLoader(make_loader(x_tr, y_tr, batch_size=128, shuffle=True, seed=0,
                                        **FASHION_NORM), max_shift=2, flip=True, seed=0)
    test = make_loader(x_te, y_te, batch_size=1000, **FASHION_NORM)
    model = cifar_resnet(8, width=16).to(memory_format=torch.channels_last)  # faster on CPU
    start = time.perf_counter()
    acc, per_epoch = _one_cycle_sgd(model, train, test, epochs=epochs, smoke=smoke, lr=0.1)
    return Result("resnet8-fashion", "07_residual_networks", "ResNet-8, width 16 (cifar_resnet)",
                  count_parameters(model), "Fashion-MNIST, 60,000 / 10,000 images, 28x28",
                  epochs, "SGD momentum 0.9, one-cycle max lr 0.1, weight decay 5e-4, batch 128, "
                  "random shifts of up to 2 px and left-right flips", "test accuracy", acc,
                  "above 92 %", time.perf_counter() - start, per_epoch=per_epoch)


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


def run_relu_vs_tanh(smoke: bool = False) -> Result:
    """Chapter 6's race, LeNet-5 with tanh against ReLU, over seeds and learning rates."""
    seeds, lrs, max_steps, n = ((0,), (0.03,), 20, 512) if smoke else ((0, 1, 2),
                                                                      (0.01, 0.03, 0.1), 400,
                                                                      10_000)
    x_tr, y_tr, _, _ = load_fashion_mnist()
    x, y = subset(x_tr, y_tr, n, seed=0)
    start = time.perf_counter()
    ratios, rows = [], []
    for lr in lrs:
        for seed in seeds:
            steps = {act: steps_to_error(
                lambda act=act: lenet5(input_size=28, activation=act).to(
                    memory_format=torch.channels_last),
                x, y, threshold=0.30, lr=lr, max_steps=max_steps, seed=seed, **FASHION_NORM)
                for act in ("tanh", "relu")}
            if steps["tanh"] is not None or steps["relu"] is not None:
                # not reached within max_steps: counted as max_steps + 1 (a bound)
                tanh, relu = (max_steps + 1 if v is None else v for v in steps.values())
                ratios.append(tanh / relu)
            shown = {k: f"> {max_steps}" if v is None else v for k, v in steps.items()}
            rows.append(f"lr {lr}, seed {seed}: tanh {shown['tanh']}, ReLU {shown['relu']}")
    worst = max(ratios) if ratios else float("nan")
    return Result("relu-vs-tanh", "06_lenet_alexnet_vgg", "LeNet-5, tanh versus ReLU",
                  count_parameters(lenet5()), f"Fashion-MNIST, {n:,} training images", 0,
                  f"SGD momentum 0.9, batch 64, at most {max_steps} steps; steps until the "
                  "training error over 20 steps is at most 30 %",
                  "largest tanh steps / ReLU steps", worst,
                  "6 or more in Krizhevsky et al. (2012) for a 4-layer CIFAR-10 network",
                  time.perf_counter() - start, extra={"ratios": [round(r, 4) for r in ratios]},
                  details="; ".join(rows))


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
                  min(gains["dropout"]), "dropout at least 0, shifts at least +1 point",
                  time.perf_counter() - start,
                  display=f"dropout {100 * min(gains['dropout']):+.2f} points, shifts "
                          f"{100 * min(gains['shifts']):+.2f} points",
                  details="; ".join(rows), extra={"dropout_gains": gains["dropout"],
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


RUNS: dict[str, Callable[[bool], Result]] = {
    "translation-seeds": run_translation_seeds,
    "lenet5-mnist": run_lenet,
    "relu-vs-tanh": run_relu_vs_tanh,
    "regularisation-seeds": run_regularisation,
    "resnet8-fashion": run_resnet,
    "degradation-seeds": run_degradation_seeds,
    "degradation-14px": run_degradation,
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
"""


def _percent(value: float) -> str:
    return f"{100 * value:.2f} %"


def render(results: dict[str, Result]) -> str:
    """The Markdown page for ``results`` (the machine-readable copy at the end)."""
    lines = [INTRO, "| run | chapter | model | parameters | epochs | result | target | time "
             "| date |", "|---|---|---|---:|---:|---:|---|---:|---|"]
    for r in results.values():
        value = r.display or (_percent(r.value) if r.metric == "test accuracy"
                              else f"{r.value:.3f}")
        chapter = f"{{doc}}`{r.chapter}`"
        epochs = r.epochs or "–"
        lines.append(f"| `{r.name}` | {chapter} | {r.model} | {r.parameters:,} | {epochs} | "
                     f"{r.metric}: {value} | {r.target} | {r.seconds / 60:.1f} min | {r.date} |")
    lines += ["", "## How each run was trained", ""]
    for r in results.values():
        smoke = " **(smoke test: a few steps only, not a real result)**" if r.smoke else ""
        trace = ""
        if r.metric == "test accuracy" and r.per_epoch:
            trace = " Test accuracy after each epoch: " + ", ".join(
                _percent(v) for v in r.per_epoch) + "."
        details = f" Results: {r.details}." if r.details else ""
        lines += [f"**`{r.name}`**{smoke}: {r.model} on {r.data}. {r.recipe}.{details}"
                  f"{trace} Machine: {r.machine}.", ""]
    payload = json.dumps({k: asdict(v) for k, v in results.items()}, indent=1)
    lines += [f"<!-- {JSON_MARK}", payload, "-->", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(RUNS), help="runs to do")
    parser.add_argument("--smoke", action="store_true", help="a few steps per run (tests)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: torch's choice; --smoke uses 1)")
    parser.add_argument("--output", type=Path, default=None,
                        help=f"page to write (default {book.relative(PAGE)}; with --smoke "
                             f"{book.relative(SMOKE_PAGE)})")
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
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(render({k: results[k] for k in RUNS if k in results}))
        print(f"[full-runs] {name}: {result.metric} {result.value:.4f} in {result.seconds:.0f} s "
              f"-> {output}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
