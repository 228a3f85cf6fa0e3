"""Time the from-scratch ``Conv2d`` against ``torch.nn.Conv2d``, forward + backward.

    python -m tools.bench [--out table.md] [--min-run-time 1.0] [--threads N]

Both layers get the same weights, input and output gradient. The timing is PyTorch's
benchmark utility (``torch.utils.benchmark``): a :class:`~torch.utils.benchmark.Timer` per
layer and shape, with the threads torch uses here, measured by ``blocked_autorange`` (blocks
of runs adding up to at least ``--min-run-time`` seconds; the accelerator, if any, is
synchronised around each block), and the table reports each median. It also times the NumPy
loops of ``conv2d_naive`` against ``conv2d`` on one small shape, both on one thread. The
console shows ``torch.utils.benchmark.Compare``'s table; ``--out`` writes the Markdown table
(``make bench``: ``_build/conv_benchmark.md``, which ``tools.timings`` puts on the maintainer
page).
"""
from __future__ import annotations

import argparse
import platform
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils import benchmark

from helpers.device import get_device
from helpers.layers import Conv2d, conv2d, conv2d_naive

LABEL = "Conv2d, forward + backward"
NAIVE_LABEL = "conv2d forward, one thread"
MIN_RUN_TIME = 1.0   # seconds of runs per measurement (blocked_autorange's min_run_time)


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


def _step(layer: nn.Module, x: torch.Tensor, grad: torch.Tensor) -> None:
    """One forward + backward pass of ``layer`` on ``x`` with output gradient ``grad``."""
    x.grad = None
    layer.zero_grad(set_to_none=True)
    layer(x).backward(grad)


def time_shape(shape: BenchShape, min_run_time: float = MIN_RUN_TIME,
               device: torch.device | None = None) -> dict:
    """Forward + backward of torch.nn.Conv2d and the from-scratch Conv2d: the two
    ``torch.utils.benchmark`` Measurements and their medians (ms)."""
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
    measured = {}
    for name, layer, description in (("torch", reference, "torch.nn.Conv2d"),
                                      ("ours", ours, "from scratch")):
        timer = benchmark.Timer(stmt="step(layer, x, grad)",
                                globals={"step": _step, "layer": layer, "x": x, "grad": grad},
                                label=LABEL, sub_label=shape.label, description=description,
                                num_threads=torch.get_num_threads())
        measured[name] = timer.blocked_autorange(min_run_time=min_run_time)
    torch_ms, ours_ms = 1e3 * measured["torch"].median, 1e3 * measured["ours"].median
    return {"shape": shape, "torch_ms": torch_ms, "ours_ms": ours_ms, "ratio": ours_ms / torch_ms,
            "measurements": [measured["torch"], measured["ours"]]}


def time_naive(shape: BenchShape = NAIVE_SHAPE, min_run_time: float = MIN_RUN_TIME) -> dict:
    """Forward times (ms, medians) of the NumPy loops and of the vectorised conv2d, both on one
    CPU thread (the loops use one core: so does the vectorised version here)."""
    rng = np.random.default_rng(0)
    c = shape.input_shape[1]
    x = rng.standard_normal(shape.input_shape).astype(np.float32)
    w = rng.standard_normal((shape.out_channels, c, shape.kernel_size, shape.kernel_size))
    w = w.astype(np.float32)
    common = {"stride": shape.stride, "padding": shape.padding}
    timers = {
        "naive": benchmark.Timer(
            stmt="conv2d_naive(x, w, None, stride, padding)",
            globals={"conv2d_naive": conv2d_naive, "x": x, "w": w, **common},
            label=NAIVE_LABEL, sub_label=shape.label, description="NumPy loops", num_threads=1),
        "fast": benchmark.Timer(
            stmt="with torch.no_grad(): conv2d(x, w, None, stride, padding)",
            globals={"torch": torch, "conv2d": conv2d, "x": torch.from_numpy(x),
                     "w": torch.from_numpy(w), **common},
            label=NAIVE_LABEL, sub_label=shape.label, description="vectorised conv2d",
            num_threads=1),
    }
    measured = {name: t.blocked_autorange(min_run_time=min_run_time)
                for name, t in timers.items()}
    naive_ms, fast_ms = 1e3 * measured["naive"].median, 1e3 * measured["fast"].median
    return {"shape": shape, "naive_ms": naive_ms, "fast_ms": fast_ms, "speedup": naive_ms / fast_ms,
            "measurements": [measured["naive"], measured["fast"]]}


def _describe(shape: BenchShape) -> tuple[str, str]:
    n, c, h, w = shape.input_shape
    k = shape.kernel_size
    layer = (f"{shape.out_channels} filters {k}×{k}, stride {shape.stride}, "
             f"padding {shape.padding}")
    return f"({n}, {c}, {h}, {w})", layer


def markdown(results: list[dict], naive: dict | None, min_run_time: float,
             device: torch.device) -> str:
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
    lines.append(f"Forward + backward, median over at least {min_run_time:g} s of runs per "
                 f"layer (`torch.utils.benchmark`, `blocked_autorange`), torch "
                 f"{torch.__version__} on {where}; ratio = from scratch / torch.")
    if naive is not None:
        inp, layer = _describe(naive["shape"])
        lines.append("")
        lines.append(f"Naive NumPy loops vs vectorised `conv2d`, forward only, one thread, "
                     f"input {inp}, {layer}: {naive['naive_ms']:.1f} ms vs "
                     f"{naive['fast_ms']:.3f} ms, {naive['speedup']:.0f}× faster.")
    return "\n".join(lines) + "\n"


def compare(results: list[dict], naive: dict | None = None) -> str:
    """``torch.utils.benchmark.Compare``'s table of every measurement (for the console)."""
    measurements = [m for r in results for m in r["measurements"]]
    if naive is not None:
        measurements += naive["measurements"]
    return str(benchmark.Compare(measurements))


def measure(shapes=None, min_run_time: float = MIN_RUN_TIME, naive_shape="default",
            device: torch.device | None = None) -> tuple[list[dict], dict | None]:
    """Time every shape (default :data:`SHAPES`) and the naive loops on ``naive_shape``
    (default :data:`NAIVE_SHAPE`; None: not timed)."""
    device = device or get_device()
    shapes = SHAPES if shapes is None else shapes
    naive_shape = NAIVE_SHAPE if naive_shape == "default" else naive_shape
    results = [time_shape(shape, min_run_time, device) for shape in shapes]
    naive = time_naive(naive_shape, min_run_time) if naive_shape is not None else None
    return results, naive


def run(shapes=None, min_run_time: float = MIN_RUN_TIME, naive_shape="default",
        device: torch.device | None = None) -> str:
    """:func:`measure`, as the Markdown table."""
    device = device or get_device()
    results, naive = measure(shapes, min_run_time, naive_shape, device)
    return markdown(results, naive, min_run_time, device)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="also write the Markdown table to this file")
    parser.add_argument("--min-run-time", type=float, default=MIN_RUN_TIME,
                        help="seconds of runs per measurement (default %(default)g)")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    args = parser.parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = get_device()
    results, naive = measure(min_run_time=args.min_run_time, device=device)
    print(compare(results, naive))
    table = markdown(results, naive, args.min_run_time, device)
    print(table, end="")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(table, encoding="utf-8")
    return table


if __name__ == "__main__":
    main()
