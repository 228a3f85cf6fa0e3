"""Time the from-scratch ``Conv2d`` against ``torch.nn.Conv2d``, forward + backward.

    python -m tools.bench [--out table.md] [--repeats 7] [--warmup 2] [--threads N]

Both layers get the same weights, input and output gradient; each repeat times one torch step
and then one from-scratch step (interleaved, so both see the same machine load), and the table
reports medians. It also times the NumPy loops of ``conv2d_naive`` against ``conv2d`` on one
small shape. ``--out`` writes the table as Markdown.
"""
from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from helpers.device import get_device
from helpers.layers import Conv2d, conv2d, conv2d_naive


@dataclass(frozen=True)
class BenchShape:
    """A convolution to time: input (N, C, H, W) -> out_channels, square kernel."""

    label: str
    input_shape: tuple[int, int, int, int]
    out_channels: int
    kernel_size: int
    stride: int = 1
    padding: int = 0


SHAPES = (
    BenchShape("LeNet-style, MNIST", (64, 1, 28, 28), 8, 5),
    BenchShape("small CNN, 3×3", (128, 16, 14, 14), 32, 3, padding=1),
    BenchShape("ResNet-style, CIFAR", (32, 64, 32, 32), 64, 3, padding=1),
    BenchShape("AlexNet first layer", (8, 3, 224, 224), 64, 11, stride=4, padding=2),
)
NAIVE_SHAPE = BenchShape("naive vs vectorised", (2, 3, 16, 16), 4, 3, padding=1)


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()
    elif device.type == "mps":
        torch.mps.synchronize()


def _seconds(fn: Callable[[], object], device: torch.device) -> float:
    _synchronize(device)
    start = time.perf_counter()
    fn()
    _synchronize(device)
    return time.perf_counter() - start


def time_shape(shape: BenchShape, repeats: int = 7, warmup: int = 2,
               device: torch.device | None = None) -> dict:
    """Median forward + backward times (ms) of torch.nn.Conv2d and the from-scratch Conv2d."""
    device = device or get_device()
    torch.manual_seed(0)
    args = (shape.input_shape[1], shape.out_channels, shape.kernel_size, shape.stride,
            shape.padding)
    reference = nn.Conv2d(*args).to(device)
    ours = Conv2d(*args).to(device)
    ours.load_state_dict(reference.state_dict())
    x = torch.randn(shape.input_shape, device=device, requires_grad=True)
    grad = torch.randn_like(reference(x))
    if not torch.allclose(ours(x), reference(x), atol=1e-4, rtol=1e-4):
        raise AssertionError(f"{shape.label}: from-scratch Conv2d disagrees with torch")

    def step(layer: nn.Module) -> Callable[[], None]:
        def run() -> None:
            x.grad = None
            layer.zero_grad(set_to_none=True)
            layer(x).backward(grad)
        return run

    times: dict[str, list[float]] = {"torch": [], "ours": []}
    for i in range(warmup + repeats):
        for name, layer in (("torch", reference), ("ours", ours)):
            seconds = _seconds(step(layer), device)
            if i >= warmup:
                times[name].append(seconds)
    torch_ms = 1e3 * statistics.median(times["torch"])
    ours_ms = 1e3 * statistics.median(times["ours"])
    return {"shape": shape, "torch_ms": torch_ms, "ours_ms": ours_ms, "ratio": ours_ms / torch_ms}


def time_naive(shape: BenchShape = NAIVE_SHAPE, repeats: int = 3) -> dict:
    """Median forward times (ms) of the NumPy loops and of the vectorised conv2d, on one CPU
    thread each."""
    rng = np.random.default_rng(0)
    c = shape.input_shape[1]
    x = rng.standard_normal(shape.input_shape).astype(np.float32)
    w = rng.standard_normal((shape.out_channels, c, shape.kernel_size, shape.kernel_size))
    w = w.astype(np.float32)
    xt, wt = torch.from_numpy(x), torch.from_numpy(w)
    cpu, threads = torch.device("cpu"), torch.get_num_threads()
    naive = [_seconds(lambda: conv2d_naive(x, w, None, shape.stride, shape.padding), cpu)
             for _ in range(repeats)]
    torch.set_num_threads(1)      # the loops use one core: so does the vectorised version here
    try:
        with torch.no_grad():
            fast = [_seconds(lambda: conv2d(xt, wt, None, shape.stride, shape.padding), cpu)
                    for _ in range(10 * repeats)]
    finally:
        torch.set_num_threads(threads)
    naive_ms, fast_ms = 1e3 * statistics.median(naive), 1e3 * statistics.median(fast)
    return {"shape": shape, "naive_ms": naive_ms, "fast_ms": fast_ms, "speedup": naive_ms / fast_ms}


def _describe(shape: BenchShape) -> tuple[str, str]:
    n, c, h, w = shape.input_shape
    k = shape.kernel_size
    layer = (f"{shape.out_channels} filters {k}×{k}, stride {shape.stride}, "
             f"padding {shape.padding}")
    return f"({n}, {c}, {h}, {w})", layer


def markdown(results: list[dict], naive: dict | None, repeats: int, device: torch.device) -> str:
    """The benchmark as a Markdown table plus one line on the naive loops."""
    lines = ["| shape | input | layer | torch.nn.Conv2d (ms) | from scratch (ms) | ratio |",
             "|---|---|---|---:|---:|---:|"]
    for r in results:
        inp, layer = _describe(r["shape"])
        lines.append(f"| {r['shape'].label} | {inp} | {layer} | {r['torch_ms']:.1f} | "
                     f"{r['ours_ms']:.1f} | {r['ratio']:.2f}× |")
    where = (f"{device.type} ({platform.processor() or platform.machine()}, "
             f"{torch.get_num_threads()} threads)" if device.type == "cpu" else device.type)
    lines.append("")
    lines.append(f"Forward + backward, median of {repeats} runs, torch {torch.__version__} on "
                 f"{where}; ratio = from scratch / torch.")
    if naive is not None:
        inp, layer = _describe(naive["shape"])
        lines.append("")
        lines.append(f"Naive NumPy loops vs vectorised `conv2d`, forward only, one thread, "
                     f"input {inp}, {layer}: {naive['naive_ms']:.1f} ms vs "
                     f"{naive['fast_ms']:.3f} ms, {naive['speedup']:.0f}× faster.")
    return "\n".join(lines) + "\n"


def run(shapes=SHAPES, repeats: int = 7, warmup: int = 2, naive_shape=NAIVE_SHAPE,
        device: torch.device | None = None) -> str:
    """Time every shape (and the naive loops when naive_shape is given); return the Markdown."""
    device = device or get_device()
    results = [time_shape(shape, repeats, warmup, device) for shape in shapes]
    naive = time_naive(naive_shape) if naive_shape is not None else None
    return markdown(results, naive, repeats, device)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="also write the Markdown table to this file")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    args = parser.parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    table = run(repeats=args.repeats, warmup=args.warmup)
    print(table, end="")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(table, encoding="utf-8")
    return table


if __name__ == "__main__":
    main()
