"""Receptive fields, checked by measurement: the theoretical field layer by layer, and the
*effective* receptive field (Luo et al., 2016) -- how strongly each pixel of the field matters.

    conv_stack(depth)                        # depth 3x3 stride-1 convs (the 2k + 1 experiment)
    one_channel_copy(model)                  # same kernels/strides/paddings, one channel wide
    stride_on_first_conv(resnet50())         # ResNet v1: stride on the 1x1, not the 3x3 (v1.5)
    measured_table(model.features, (1, 256, 256))   # analytic vs measured, layer by layer
    g = effective_receptive_field(model, (1, 41, 41))   # mean |d centre / d input|
    central_mass(g, size=33)                 # share of |gradient| in the field's central half
    draw_effective_field(g, size=33)         # heat map and profile against a Gaussian

The theoretical field comes from :func:`helpers.receptive_field.receptive_field`; measurements
use :func:`helpers.receptive_field.measured_receptive_field`. The field depends only on the
geometry of the layers (kernel, stride, padding, dilation, the paths of a block), never on
the number of channels, so :func:`one_channel_copy` makes measuring VGG-16 or ResNet-50 cheap.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from helpers import layers as scratch
from helpers.device import shifted_seed
from helpers.plots.style import light_figure
from helpers.receptive_field import measured_receptive_field, receptive_field

__all__ = ["FIELD_ARMS", "MeasuredRow", "central_mass", "compare_fields", "conv_stack",
           "dilated_gap_net", "draw_effective_field", "erf_before_after", "input_gradient_field",
           "effective_receptive_field", "gaussian_fit", "measured_markdown", "measured_table",
           "one_channel_copy", "sequential_layers", "stride_on_first_conv", "truncated"]

_CONVS = (nn.Conv2d, scratch.Conv2d)


def conv_stack(depth: int, channels: int = 1, kernel_size: int = 3, in_channels: int = 1,
               relu: bool = False, bias: bool = False) -> nn.Sequential:
    """``depth`` convolutions k x k, stride 1, "same" padding ((k - 1) / 2 per side), optionally
    with a ReLU between them: (N, in_channels, H, W) -> (N, channels, H, W). k must be odd."""
    if not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be a positive int, got {depth!r}")
    if not isinstance(kernel_size, int) or kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be a positive odd int, got {kernel_size!r}")
    modules: list[nn.Module] = []
    for i in range(depth):
        if relu and i:
            modules.append(nn.ReLU())
        modules.append(nn.Conv2d(in_channels if i == 0 else channels, channels, kernel_size,
                                 padding=kernel_size // 2, bias=bias))
    return nn.Sequential(*modules)


def _one_channel_conv(conv: nn.Module) -> nn.Module:
    return type(conv)(1, 1, conv.kernel_size, stride=conv.stride, padding=conv.padding,
                      dilation=conv.dilation, bias=False)


def one_channel_copy(module: nn.Module) -> nn.Module:
    """A copy of ``module`` in which every convolution is 1 -> 1 channel (same kernel, stride,
    padding, dilation; groups 1, no bias) and every BatchNorm2d has 1 channel. Pools, shortcuts
    and the order of layers are kept, so every receptive field is the same, at a fraction of
    the cost. Input (N, 1, H, W). Only for geometry: the copy computes something else."""
    thin = copy.deepcopy(module)
    targets = [thin] + [m for m in thin.modules() if m is not thin]
    for parent in targets:
        for name, child in list(parent.named_children()):
            if isinstance(child, _CONVS):
                setattr(parent, name, _one_channel_conv(child))
            elif isinstance(child, nn.BatchNorm2d):
                setattr(parent, name, nn.BatchNorm2d(1))
    if isinstance(thin, _CONVS):
        return _one_channel_conv(thin)
    return thin


def stride_on_first_conv(model: nn.Module) -> nn.Module:
    """A copy of a ResNet in which every downsampling bottleneck (a block with ``conv1``,
    ``conv2``, ``conv3`` whose ``conv2`` has stride s > 1) strides on its first 1x1 convolution
    instead: ``conv1`` gets stride s, ``conv2`` stride 1. That is the original ResNet ("v1",
    He et al. 2016); the course's and torchvision's ``resnet50`` stride on the 3x3 ("v1.5").
    Output sizes and weights are unchanged; the receptive fields grow. ValueError if the model
    has no such block."""
    v1 = copy.deepcopy(model)
    moved = 0
    for block in v1.modules():
        convs = [getattr(block, name, None) for name in ("conv1", "conv2", "conv3")]
        if not all(isinstance(c, _CONVS) for c in convs) or convs[0].kernel_size not in (1, (1, 1)):
            continue
        stride = convs[1].stride
        if stride in (1, (1, 1)):
            continue
        convs[0].stride, convs[1].stride = stride, (1, 1) if isinstance(stride, tuple) else 1
        moved += 1
    if not moved:
        raise ValueError("stride_on_first_conv: no bottleneck block with a strided 3x3 "
                         "convolution in this model")
    return v1


def sequential_layers(module: nn.Module, prefix: str = "") -> list[tuple[str, nn.Module]]:
    """``(name, module)`` in order, with nested ``nn.Sequential`` containers opened up; other
    modules (a residual block, a conv) stay whole. Names match ``receptive_field``'s table."""
    if not isinstance(module, nn.Sequential):
        return [(prefix, module)]
    out = []
    for name, child in module._modules.items():
        if child is not None:
            out += sequential_layers(child, f"{prefix}.{name}" if prefix else name)
    return out


def truncated(module: nn.Module, name: str) -> nn.Sequential:
    """The layers of ``module`` (an ``nn.Sequential``, possibly nested) up to and including
    the one called ``name``, as one flat ``nn.Sequential`` (shares the layers, no copy)."""
    flat = sequential_layers(module)
    names = [n for n, _ in flat]
    if name not in names:
        raise ValueError(f"no layer {name!r} in this Sequential; its layers are {names}")
    return nn.Sequential(*[m for _, m in flat[:names.index(name) + 1]])


@dataclass(frozen=True)
class MeasuredRow:
    """One layer: the field ``size`` and ``jump`` by the recurrence, and as measured by
    backpropagation (``measured_jump`` is None when the map is one unit wide)."""

    name: str
    layer: str
    size: int
    jump: int
    measured_size: int
    measured_jump: int | None
    clipped: bool

    @property
    def agrees(self) -> bool:
        return (not self.clipped and self.size == self.measured_size
                and self.measured_jump in (None, self.jump))


def _fitting_side(part: nn.Module, size: int, jump: int) -> int:
    """Smallest input side for which the centre unit of ``part`` and its right-hand neighbour
    have fields strictly inside the input (not touching the border)."""
    n = size + 2
    while True:
        try:
            field = receptive_field(part, n)
        except ValueError:          # the input is too small for the network
            n += 1
            continue
        out = field.layers[-1].output[1] if field.layers else n
        c = (out - 1) // 2
        top, left, bottom, right = field.box(c, c)
        if top >= 1 and left >= 1 and bottom <= n - 1 and right + jump <= n - 1 \
                and c + 1 < out:
            return n
        n += max(1, jump)


def measured_table(module: nn.Module, input_size=None, names=None) -> list[MeasuredRow]:
    """For the rows of ``receptive_field(module)``'s table (those called ``names``, default
    all), cut the network after that layer and measure the field of its centre unit and the
    distance to its right-hand neighbour's field (the jump) by backpropagation.

    ``module`` is an ``nn.Sequential`` (e.g. ``model.features``) taking one input channel
    (see :func:`one_channel_copy`) or ``input_size[0]`` channels. ``input_size`` (C, H, W): one
    input size for every row; None picks, per row, the smallest square input on which both
    fields lie inside the image (cheap for the early layers)."""
    if not isinstance(module, nn.Sequential):
        raise ValueError(f"measured_table needs an nn.Sequential, got {type(module).__name__}")
    table = receptive_field(module).layers
    known = [row.name for row in table]
    wanted = known if names is None else list(names)
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise ValueError(f"no layers {unknown} in the table; its rows are {known}")
    channels = 1 if input_size is None else int(input_size[0])
    rows = []
    for row in (r for r in table if r.name in wanted):
        part = truncated(module, row.name)
        shape = tuple(input_size) if input_size is not None else \
            (channels, *(2 * (_fitting_side(part, row.size, row.jump),)))
        centre = measured_receptive_field(part, shape)
        right = measured_receptive_field(part, shape, unit=(centre.unit[0], centre.unit[1] + 1))
        jump = right.left - centre.left if right.width == centre.width else None
        rows.append(MeasuredRow(row.name, row.layer, row.size, row.jump, centre.size, jump,
                                centre.clipped or right.clipped))
    return rows


def measured_markdown(rows: list[MeasuredRow]) -> str:
    """A Markdown table: layer, field and jump by the recurrence and as measured."""
    lines = ["| layer | type | field (recurrence) | field (measured) | jump (recurrence) | "
             "jump (measured) | agree |", "|---|---|---:|---:|---:|---:|:---:|"]
    for r in rows:
        jump = "–" if r.measured_jump is None else str(r.measured_jump)
        lines.append(f"| `{r.name}` | {r.layer} | {r.size} | {r.measured_size} | {r.jump} | "
                     f"{jump} | {'yes' if r.agrees else 'NO'} |")
    return "\n".join(lines)


def effective_receptive_field(module: nn.Module, input_size, n_inputs: int = 8,
                              seed: int = 0, unit=None) -> np.ndarray:
    """Mean over ``n_inputs`` standard-normal inputs of |d y / d x|, where y is the output unit
    ``unit`` (default: the centre) summed over channels; summed over input channels:
    ``input_size`` (C, H, W) -> float64 array (H, W). Uses the module's own weights, in eval
    mode, on a float64 copy; inputs are drawn from a generator seeded with ``seed``."""
    shape = tuple(input_size)
    if len(shape) != 3:
        raise ValueError(f"input_size must be (C, H, W), got {input_size!r}")
    if not isinstance(n_inputs, int) or n_inputs < 1:
        raise ValueError(f"n_inputs must be a positive int, got {n_inputs!r}")
    model = copy.deepcopy(module).double().eval().cpu()
    generator = torch.Generator().manual_seed(shifted_seed(seed))
    x = torch.randn((n_inputs, *shape), generator=generator, dtype=torch.float64)
    x.requires_grad_(True)
    out = model(x)
    if out.dim() != 4:
        raise ValueError(f"the module must return (N, K, H', W'), got {tuple(out.shape)}")
    i, j = unit if unit is not None else ((out.shape[2] - 1) // 2, (out.shape[3] - 1) // 2)
    out[:, :, i, j].sum().backward()
    return x.grad.abs().sum(dim=1).mean(dim=0).numpy()


def _centre(grad: np.ndarray) -> tuple[int, int]:
    """Position of the centre of mass, rounded."""
    total = grad.sum()
    rows, cols = np.indices(grad.shape)
    return int(round((rows * grad).sum() / total)), int(round((cols * grad).sum() / total))


def central_mass(grad, size: int, centre=None) -> tuple[float, float]:
    """(mass share, area share) of the central half of a ``size`` x ``size`` field (size odd):
    the square of side 2 * floor(r / 2) + 1, r = (size - 1) / 2, around ``centre`` (default:
    the centre of mass of ``grad``). Mass share = sum of |grad| there / sum over the field."""
    g = np.abs(np.asarray(grad, dtype=np.float64))
    if g.ndim != 2:
        raise ValueError(f"grad must be (H, W), got shape {g.shape}")
    if not isinstance(size, int) or size < 1 or size % 2 == 0:
        raise ValueError(f"size must be a positive odd int, got {size!r}")
    if g.sum() <= 0:
        raise ValueError("grad is zero everywhere: no field to measure")
    ci, cj = _centre(g) if centre is None else centre
    r = (size - 1) // 2
    h = r // 2
    if ci - r < 0 or cj - r < 0 or ci + r >= g.shape[0] or cj + r >= g.shape[1]:
        raise ValueError(f"a {size}x{size} field around {(ci, cj)} does not fit in {g.shape}")
    field = g[ci - r:ci + r + 1, cj - r:cj + r + 1].sum()
    inner = g[ci - h:ci + h + 1, cj - h:cj + h + 1].sum()
    return float(inner / field), float((2 * h + 1) ** 2 / size ** 2)


def gaussian_fit(grad) -> tuple[float, float]:
    """(sigma, r2) of the column profile of ``grad`` (summed over rows, normalised): its standard
    deviation, and the share of the profile's variance explained by a Gaussian with the same
    mean and standard deviation (1 = exactly Gaussian)."""
    g = np.abs(np.asarray(grad, dtype=np.float64))
    if g.ndim != 2 or g.sum() <= 0:
        raise ValueError(f"grad must be a non-zero (H, W) array, got shape {g.shape}")
    profile = g.sum(axis=0) / g.sum()
    xs = np.arange(profile.size, dtype=np.float64)
    mean = (profile * xs).sum()
    sigma = float(np.sqrt((profile * (xs - mean) ** 2).sum()))
    if sigma == 0:
        return 0.0, 1.0
    gauss = np.exp(-(xs - mean) ** 2 / (2 * sigma ** 2))
    gauss /= gauss.sum()
    residual = ((profile - gauss) ** 2).sum()
    spread = ((profile - profile.mean()) ** 2).sum()
    return sigma, float(1.0 - residual / spread)


@light_figure
def draw_effective_field(grad, size: int, title: str | None = None):
    """Left: ``grad`` (H, W) as a heat map, with the theoretical ``size`` x ``size`` field and its
    central half outlined around the centre of mass. Right: the column profile (share of the
    gradient mass per column) and the Gaussian with the same mean and standard deviation."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    g = np.abs(np.asarray(grad, dtype=np.float64))
    mass, area = central_mass(g, size)
    sigma, r2 = gaussian_fit(g)
    ci, cj = _centre(g)
    r, h = (size - 1) // 2, (size - 1) // 4
    fig, (left, right) = plt.subplots(1, 2, figsize=(8.4, 3.6),
                                      gridspec_kw={"width_ratios": [1, 1.3]})
    image = left.imshow(g / g.max(), cmap="magma", interpolation="nearest")
    fig.colorbar(image, ax=left, fraction=0.046, pad=0.04, label="|gradient| / max")
    for half, colour, label in ((r, "#1f77b4", f"theoretical field {size}×{size}"),
                                (h, "#2ca02c", f"central half {2 * h + 1}×{2 * h + 1}")):
        left.add_patch(Rectangle((cj - half - 0.5, ci - half - 0.5), 2 * half + 1, 2 * half + 1,
                                 fill=False, lw=1.5, edgecolor=colour, label=label))
    left.legend(loc="upper center", bbox_to_anchor=(0.5, -0.02), fontsize=9, frameon=False)
    left.set_xticks([])
    left.set_yticks([])
    left.set_title(f"{mass:.0%} of the mass on {area:.0%} of the area", fontsize=9)
    profile = g.sum(axis=0) / g.sum()
    xs = np.arange(profile.size) - cj
    mean = float((profile * xs).sum())
    bell = np.exp(-(xs - mean) ** 2 / (2 * sigma ** 2))
    right.bar(xs, profile, width=0.9, color="#bbbbbb", label="gradient mass per column")
    right.plot(xs, bell / bell.sum(), color="#d62728", lw=1.5,
               label=f"Gaussian, σ = {sigma:.1f} (R² = {r2:.3f})")
    for k, edge in enumerate((-r - 0.5, r + 0.5)):
        right.axvline(edge, color="#1f77b4", ls="--", lw=1,
                      label="edges of the theoretical field" if k == 0 else None)
    right.set_xlabel("column, relative to the unit")
    right.set_ylabel("share of |gradient|")
    right.legend(fontsize=9, loc="upper right")
    right.grid(True, alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- field and training

FIELD_ARMS = {"1, 1, 1": (1, 1, 1), "1, 2, 2": (1, 2, 2), "1, 2, 4": (1, 2, 4)}
"""The field-versus-accuracy race: the dilations of the three 3x3 convolutions of
:func:`dilated_gap_net` (fields 15, 23 and 31 pixels, the same weights)."""
FIELD_EPOCHS = 20
FIELD_LRS = (3e-3, 1e-2, 3e-2, 9e-2)
FIELD_SEEDS = (0, 1, 2)


def dilated_gap_net(dilations=(1, 1, 1), channels: int = 16) -> nn.Sequential:
    """A small classifier whose receptive field is set by ``dilations`` alone:
    conv 3x3 (1 -> ``channels``, stride 2, padding 1), ReLU, then one conv 3x3
    (``channels`` -> ``channels``, dilation d, padding d, so the size is kept) and ReLU per
    entry d of ``dilations``, then global average pooling and a linear layer to 10 classes.
    (N, 1, H, W) -> (N, 10). The field of the last convolution is 3 + 4 * sum(dilations)
    pixels; the number of weights does not depend on the dilations, nor do the multiply-adds
    (the maps are (H/2) x (W/2) after the first layer). ``model[:-3]`` is the convolutional
    trunk, (N, 1, H, W) -> (N, channels, H/2, W/2)."""
    dilations = tuple(dilations)
    if not dilations or any(not isinstance(d, int) or d < 1 for d in dilations):
        raise ValueError(f"dilations must be positive ints, at least one, got {dilations!r}")
    if not isinstance(channels, int) or channels < 1:
        raise ValueError(f"channels must be a positive int, got {channels!r}")
    layers: list[nn.Module] = [nn.Conv2d(1, channels, 3, stride=2, padding=1), nn.ReLU()]
    for d in dilations:
        layers += [nn.Conv2d(channels, channels, 3, padding=d, dilation=d), nn.ReLU()]
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, 10))


def input_gradient_field(module: nn.Module, images, unit=None) -> np.ndarray:
    """The effective receptive field on given inputs: mean over ``images`` (N, C, H, W) of
    |d y / d x| summed over input channels, where y is the output unit ``unit`` (default the
    centre one) of ``module`` summed over its channels. Float64 copy in eval mode; the module
    itself is not changed. Returns an (H, W) float64 array. (``effective_receptive_field`` is
    the same measurement on standard-normal inputs.)"""
    x = torch.as_tensor(images)
    if x.dim() != 4 or x.shape[0] < 1:
        raise ValueError(f"images must be (N, C, H, W) with N >= 1, got {tuple(x.shape)}")
    model = copy.deepcopy(module).double().eval().cpu()
    x = x.detach().to("cpu", torch.float64).clone().requires_grad_(True)
    out = model(x)
    if out.dim() != 4:
        raise ValueError(f"the module must return (N, K, H', W'), got {tuple(out.shape)}")
    i, j = unit if unit is not None else ((out.shape[2] - 1) // 2, (out.shape[3] - 1) // 2)
    out[:, :, i, j].sum().backward()
    return x.grad.abs().sum(dim=1).mean(dim=0).numpy()


def compare_fields(smoke: bool = False, log=print, arms=None) -> dict:
    """Field against accuracy at a fixed number of weights: :func:`dilated_gap_net` with each
    arm's dilations (default :data:`FIELD_ARMS`) on 6,000 MNIST training images
    (``subset(..., 6000, seed=0)``) for :data:`FIELD_EPOCHS` epochs, Adam with one-cycle,
    batch 100 (``helpers.experiments.pool_stride.train_one``). Every arm trains at every peak
    learning rate of :data:`FIELD_LRS` with every seed of :data:`FIELD_SEEDS` (within a seed
    every arm starts from the same weights); its rate is the one with the best mean accuracy
    over the seeds on 2,000 held-out training images (the grid widened by a factor 3 while the
    best rate is at its edge, at most twice), and its result the test accuracies (10,000 test
    images, after the last epoch) of those runs. Choosing on the mean over seeds, not on one
    seed, avoids a rate at the edge of stability that diverges for another seed. Returns
    {"fields", "lr", "grid", "runs", "test", "train", "plateau", ...}."""
    from helpers.data import load_mnist
    from helpers.experiments import pool_stride as ps
    from helpers.train import subset

    arms = dict(FIELD_ARMS if arms is None else arms)
    epochs, lrs, seeds = (1, (3e-3,), (0,)) if smoke else (FIELD_EPOCHS, FIELD_LRS, FIELD_SEEDS)
    x_tr, y_tr, x_te, y_te = load_mnist()
    x, y = subset(x_tr, y_tr, 256 if smoke else 6000, seed=0)
    xv, yv = ps.held_out(x_tr, y_tr, x, 200 if smoke else 2000)
    data = ((x, y), (xv, yv), (x_te[:500], y_te[:500]) if smoke else (x_te, y_te))
    steps = 2 if smoke else None
    fields = {name: receptive_field(dilated_gap_net(d)[:-3]).size for name, d in arms.items()}
    grid, chosen, runs = {}, {}, {}
    for name, dilations in arms.items():
        def build(d=dilations):
            return dilated_gap_net(d)

        def at(lr, build=build):
            return [ps.train_one(build, s, lr, epochs, data, steps) for s in seeds]

        rates = sorted(lrs)
        tried = {lr: at(lr) for lr in rates}

        def score(lr, tried=tried):
            return float(np.mean([r["val"] for r in tried[lr]]))

        for _ in range(2):
            best = max(rates, key=score)
            if len(rates) < 3 or best not in (rates[0], rates[-1]):
                break
            new = float(f"{best / 3 if best == rates[0] else best * 3:.3g}")
            tried[new] = at(new)
            rates = sorted(tried)
        best = max(rates, key=score)
        grid[name] = {f"{lr:g}": [r["val"] for r in tried[lr]] for lr in rates}
        chosen[name] = best
        runs[name] = tried[best]
        log(f"dilations {name} (field {fields[name]}): lr {best:g}; held-out per lr "
            f"{grid[name]}; test {[r['test'] for r in runs[name]]}")
    return {"epochs": epochs, "seeds": list(seeds), "lrs": list(lrs), "fields": fields,
            "dilations": {n: list(d) for n, d in arms.items()}, "lr": chosen, "grid": grid,
            "runs": runs, "test": {n: [r["test"] for r in rs] for n, rs in runs.items()},
            "train": {n: [r["train_acc"][-1] for r in rs] for n, rs in runs.items()},
            "plateau": {n: [round(r["val_acc"][-1] - r["val_acc"][-6], 4)
                            if len(r["val_acc"]) > 5 else None for r in rs]
                        for n, rs in runs.items()},
            "n_train": len(y), "n_val": len(yv), "n_test": len(data[2][1]),
            "parameters": sum(p.numel() for p in dilated_gap_net().parameters())}


def erf_before_after(x, y, probe, seeds=(0, 1, 2), steps: int = 500, lr: float = 3e-3,
                     dilations=(1, 1, 1), n_noise: int = 64, mean=None, std=None,
                     progress: bool = True, batch_size: int = 64) -> dict:
    """The effective receptive field of :func:`dilated_gap_net` (``dilations``) at
    initialisation and after ``steps`` steps of Adam (``lr``, ``batch_size``) on the uint8 images
    ``x`` (N, H, W) and labels ``y``, once per seed. Measured on the trunk's centre unit twice,
    before and after, on the same inputs: the float images ``probe`` (M, 1, H, W), normalised
    as the training images (``mean``, ``std``), and ``n_noise`` standard-normal images.
    Returns {"images": (before, after), "noise": (before, after)}, each a list of (H, W) maps
    (one per seed), and "train_acc": the last epoch's training accuracy per seed."""
    from helpers.device import seed_everything
    from helpers.train import fit, make_loader

    if not seeds or steps < 1:
        raise ValueError(f"need at least one seed and one step, got {seeds!r}, {steps!r}")
    probe = torch.as_tensor(probe)
    shape = tuple(probe.shape[1:])
    out = {"images": ([], []), "noise": ([], []), "train_acc": []}
    for seed in seeds:
        seed_everything(seed)
        net = dilated_gap_net(dilations)
        trunk = net[:-3]
        for when in (0, 1):
            if when:
                loader = make_loader(x, y, batch_size=batch_size, shuffle=True, seed=seed,
                                     mean=mean, std=std)
                history = fit(net, loader, epochs=-(-steps // len(loader)), max_steps=steps,
                              lr=lr, optimizer="adam", progress=progress)
                out["train_acc"].append(history.train_acc[-1])
            out["images"][when].append(input_gradient_field(trunk, probe))
            out["noise"][when].append(effective_receptive_field(trunk, shape, n_inputs=n_noise,
                                                                seed=seed))
    return out
