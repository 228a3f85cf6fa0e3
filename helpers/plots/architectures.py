"""Pictures of whole networks, drawn from the models themselves so that they stay in sync.

    layer_boxes(lenet5(), (1, 32, 32))          # the boxes: kind, label, output shape, repeats
    architecture_diagram({"LeNet-5": (lenet5(), (1, 32, 32)), ...})
    cost_chart(costs, title="VGG-16")           # per layer: share of parameters vs of multiply-adds

``layer_boxes`` runs one forward pass (build big models on ``torch.device("meta")``: shapes
without memory) and keeps the layers that change the shape or hold weights -- convolutions,
poolings, fully connected layers -- merging runs of identical convolutions (VGG's stages) into
one box "2 × conv 3×3".
"""
from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from helpers.plots.style import light_figure
from helpers.summary import count_macs, example_input, is_conv

KIND_COLOURS = {"conv": "#9ecae1", "pool": "#d9d9d9", "fc": "#fdae6b"}
_POOLS = (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)


@dataclass
class Box:
    """One box of a diagram: ``kind`` ("conv", "pool" or "fc"), a ``label`` such as
    "conv 5×5" or "max 3×3 /2", the ``shape`` (C, H, W) or (features,) after it, and how many
    identical layers it stands for (``repeat``)."""

    kind: str
    label: str
    shape: tuple
    repeat: int = 1

    @property
    def text(self) -> str:
        """The label, "n × " in front when repeated, and the output shape below it."""
        times = f"{self.repeat} × " if self.repeat > 1 else ""
        return f"{times}{self.label}\n" + "×".join(map(str, self.shape))


def _pair(v) -> int:
    return v[0] if isinstance(v, tuple) else v


def _label(module: nn.Module) -> tuple[str, str] | None:
    """(kind, label) of a layer the diagram shows, None for the others."""
    if is_conv(module):
        k, s = _pair(module.kernel_size), _pair(module.stride)
        return "conv", f"conv {k}×{k}" + (f" /{s}" if s > 1 else "")
    if isinstance(module, nn.Linear):
        return "fc", "FC"
    if isinstance(module, _POOLS):
        name = "max" if "Max" in type(module).__name__ else "avg"
        if "Adaptive" in type(module).__name__:
            return "pool", f"{name} pool to"
        k, s = _pair(module.kernel_size), _pair(module.stride)
        return "pool", f"{name} {k}×{k}" + (f" /{s}" if s > 1 else "")
    return None


def layer_boxes(model: nn.Module, input_size, merge: bool = True) -> list[Box]:
    """The boxes of ``model`` run on zeros of ``input_size`` ((C, H, W)), in forward order.
    A pooling that leaves the shape unchanged (an adaptive pool at its native size) is left
    out; consecutive convolutions with the same label and output shape become one box
    (``merge=False``: one box per convolution)."""
    x = example_input(model, input_size)
    seen: list[tuple[str, str, tuple, tuple]] = []

    def hook(module, inputs, output):
        kind_label = _label(module)
        if kind_label is not None:
            seen.append((*kind_label, tuple(inputs[0].shape[1:]), tuple(output.shape[1:])))

    handles = [m.register_forward_hook(hook) for m in model.modules() if _label(m) is not None]
    was_training = model.training
    model.eval()
    try:
        model(x)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    boxes: list[Box] = []
    for kind, label, before, after in seen:
        if kind == "pool" and before == after:
            continue
        last = boxes[-1] if boxes else None
        if (merge and kind == "conv" and last is not None and last.kind == "conv"
                and last.label == label and last.shape == after):
            last.repeat += 1
            continue
        boxes.append(Box(kind, label, after))
    return boxes


@light_figure
def architecture_diagram(models: dict, width: float = 14.0):
    """One row of boxes per network: ``models`` maps a title to ``(model, (C, H, W))``. Box
    colours: convolutions blue, poolings grey, fully connected layers orange; under each box
    its output shape (channels × height × width, or features)."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch, Patch

    rows = {title: layer_boxes(model, size) for title, (model, size) in models.items()}
    inputs = {title: tuple(size) for title, (_, size) in models.items()}
    n_max = max(len(b) for b in rows.values()) + 1
    fig, axes = plt.subplots(len(rows), 1, figsize=(width, 1.45 * len(rows) + 0.5),
                             squeeze=False)
    for ax, (title, boxes) in zip(axes[:, 0], rows.items()):
        items = [Box("input", "input", inputs[title])] + boxes
        for i, box in enumerate(items):
            colour = KIND_COLOURS.get(box.kind, "white")
            ax.add_patch(FancyBboxPatch((i + 0.06, 0.1), 0.88, 0.8,
                                        boxstyle="round,pad=0.0,rounding_size=0.08",
                                        facecolor=colour, edgecolor="black", linewidth=0.8))
            ax.text(i + 0.5, 0.5, box.text, ha="center", va="center", fontsize=7)
            if i:
                ax.annotate("", xy=(i + 0.06, 0.5), xytext=(i - 0.06, 0.5),
                            arrowprops={"arrowstyle": "->", "lw": 0.8})
        ax.set_xlim(0, n_max)
        ax.set_ylim(0, 1)
        ax.set_axis_off()
        ax.set_title(title, loc="left", fontsize=10)
    handles = [Patch(facecolor=c, edgecolor="black", label=k) for k, c in
               (("convolution", KIND_COLOURS["conv"]), ("pooling", KIND_COLOURS["pool"]),
                ("fully connected", KIND_COLOURS["fc"]))]
    fig.legend(handles=handles, loc="lower right", ncol=3, fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def default_layer_costs(model: nn.Module, input_size) -> dict[str, tuple[int, int]]:
    """``{layer name: (parameters, multiply-adds per example)}`` for every convolution and
    linear layer, via ``helpers.summary.count_macs``."""
    macs = count_macs(model, input_size, by_layer=True)
    modules = dict(model.named_modules())
    return {name: (sum(p.numel() for p in modules[name].parameters()), m)
            for name, m in macs.items()}


@light_figure
def cost_chart(costs: dict, title: str = "", names: list[str] | None = None):
    """Horizontal bars, one pair per layer (top to bottom in forward order): the layer's share
    of all parameters and its share of all multiply-adds. ``costs`` maps a layer name to
    ``(parameters, multiply-adds)``; ``names`` relabels the layers."""
    import matplotlib.pyplot as plt
    import numpy as np

    if not costs:
        raise ValueError("costs is empty: nothing to draw")
    labels = names if names is not None else list(costs)
    if len(labels) != len(costs):
        raise ValueError(f"{len(labels)} names for {len(costs)} layers")
    params = np.array([v[0] for v in costs.values()], dtype=float)
    macs = np.array([v[1] for v in costs.values()], dtype=float)
    params, macs = 100 * params / params.sum(), 100 * macs / macs.sum()
    y = np.arange(len(costs))
    fig, ax = plt.subplots(figsize=(7.5, 0.32 * len(costs) + 1.4))
    ax.barh(y - 0.2, params, height=0.4, color=KIND_COLOURS["fc"], edgecolor="black",
            linewidth=0.5, label="share of the parameters")
    ax.barh(y + 0.2, macs, height=0.4, color=KIND_COLOURS["conv"], edgecolor="black",
            linewidth=0.5, label="share of the multiply-adds")
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlabel("% of the network's total")
    ax.set_xlim(0, max(params.max(), macs.max()) * 1.08)
    ax.grid(axis="x", alpha=0.4)
    ax.legend(loc="lower right", fontsize=9)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


#: LeNet-5's C3 connection table (LeCun et al., 1998, Table I): which of S2's 6 maps (rows)
#: each of C3's 16 maps (columns) reads. Maps 0-5 read 3 neighbouring maps, 6-11 read 4
#: neighbouring maps, 12-14 read 4 non-neighbouring ones, 15 reads all 6.
LENET_C3_TABLE = tuple(tuple(int(col) for col in row.split()) for row in (
    "1 0 0 0 1 1 1 0 0 1 1 1 1 0 1 1",
    "1 1 0 0 0 1 1 1 0 0 1 1 1 1 0 1",
    "1 1 1 0 0 0 1 1 1 0 0 1 0 1 1 1",
    "0 1 1 1 0 0 1 1 1 1 0 0 1 0 1 1",
    "0 0 1 1 1 0 0 1 1 1 1 0 1 1 0 1",
    "0 0 0 1 1 1 0 0 1 1 1 1 0 1 1 1"))


@light_figure
def connection_table(table=LENET_C3_TABLE, title: str = ""):
    """The connection table ``table`` (rows: input maps, columns: output maps; 1 = connected)
    as a grid with an X in every connected cell, as in LeCun et al.'s Table I."""
    import matplotlib.pyplot as plt
    import numpy as np

    t = np.asarray(table)
    if t.ndim != 2 or not np.isin(t, (0, 1)).all():
        raise ValueError("table must be a 2-D array of 0s and 1s")
    rows, cols = t.shape
    fig, ax = plt.subplots(figsize=(0.36 * cols + 1.2, 0.36 * rows + 1.1))
    ax.imshow(t, cmap="Blues", vmin=0, vmax=2.2, aspect="equal")
    for r, c in zip(*np.nonzero(t)):
        ax.text(c, r, "X", ha="center", va="center", fontsize=10)
    ax.set_xticks(range(cols))
    ax.set_yticks(range(rows))
    ax.tick_params(labelsize=9, length=0)
    ax.set_xticks(np.arange(-0.5, cols), minor=True)
    ax.set_yticks(np.arange(-0.5, rows), minor=True)
    ax.grid(which="minor", color="#888888", linewidth=0.6)
    ax.tick_params(which="minor", length=0)
    ax.set_xlabel("output map (C3)", fontsize=10)
    ax.set_ylabel("input map (S2)", fontsize=10)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


@light_figure
def race_chart(races, nets, arms, max_steps: int, title: str = ""):
    """Steps to the threshold against the learning rate, one panel per network of ``nets``:
    each seed a dot (a run that did not get there within ``max_steps`` drawn at
    ``max_steps + 1`` as an open marker), the mean over seeds a line per arm of ``arms``.
    ``races``: records ``{"net", "arm", "lr", "seed", "steps"}`` (steps None: not reached)."""
    import matplotlib.pyplot as plt
    import numpy as np

    for net in nets:
        for arm in arms:
            if not any(r["net"] == net and r["arm"] == arm for r in races):
                raise ValueError(f"no races for {net!r}, {arm!r}")
    fig, axes = plt.subplots(1, len(nets), figsize=(3.6 * len(nets), 3.4), squeeze=False,
                             sharey=True)
    colours = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")
    for ax, net in zip(axes[0], nets):
        for j, arm in enumerate(arms):
            mine = [r for r in races if r["net"] == net and r["arm"] == arm]
            rates = sorted({r["lr"] for r in mine})
            means = []
            for lr in rates:
                got = [r["steps"] for r in mine if r["lr"] == lr]
                shown = [max_steps + 1 if s is None else s for s in got]
                means.append(np.mean(shown))
                jitter = (j - (len(arms) - 1) / 2) * 0.06
                xs = lr * 10 ** (jitter + 0.015 * (np.arange(len(got)) - (len(got) - 1) / 2))
                done = np.array([s is not None for s in got])
                ax.scatter(xs[done], np.array(shown)[done], color=colours[j], s=18, zorder=3)
                ax.scatter(xs[~done], np.array(shown)[~done], facecolor="white",
                           edgecolor=colours[j], s=18, zorder=3)
            ax.plot(rates, means, color=colours[j], label=arm, lw=1.5)
        ax.axhline(max_steps, color="#888888", lw=0.8, ls=":")
        ax.set_xscale("log")
        ax.set_xticks(rates)
        ax.set_xticklabels([f"{lr:g}" for lr in rates])
        ax.minorticks_off()
        ax.set_title(net, fontsize=10)
        ax.set_xlabel("learning rate", fontsize=10)
        ax.tick_params(labelsize=9)
    axes[0, 0].set_ylabel("steps to the threshold", fontsize=10)
    axes[0, -1].legend(fontsize=9, frameon=False)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


@light_figure
def volume_diagram(model: nn.Module, input_size, title: str = "", width: float = 7.0,
                   per_row: int = 6):
    """``model``'s layers as volumes, as in the LeNet and AlexNet papers: each box is the
    tensor after a layer (the input first), drawn as a block whose face grows with the maps'
    height and width (square root scale) and whose depth grows with the channels (log scale),
    labelled with the layer and its output shape C×H×W; a fully connected layer is a bar whose
    height grows with its features (log scale). ``per_row`` boxes per row, so a deep network
    wraps onto several rows; type is 9 pt
    or larger at ``width`` inches."""
    import math

    import matplotlib.pyplot as plt
    from matplotlib.patches import Polygon

    if per_row < 1:
        raise ValueError(f"per_row must be >= 1, got {per_row}")
    boxes = [Box("input", "input", tuple(input_size))] + layer_boxes(model, input_size)
    rows = math.ceil(len(boxes) / per_row)
    fig, ax = plt.subplots(figsize=(width, 2.1 * rows + (0.35 if title else 0.1)))
    big = max(b.shape[-1] if len(b.shape) == 3 else 1 for b in boxes)
    for i, box in enumerate(boxes):
        r, c = divmod(i, per_row)
        x0, y0 = c * 1.0 + 0.1, -(r * 2.1)
        label_x = x0 + 0.4                       # the centre of this block's labels
        if len(box.shape) == 3:
            ch, h = box.shape[0], box.shape[1]
            face = 0.12 + 0.5 * math.sqrt(h / big)
            depth = 0.05 + 0.07 * math.log2(max(ch, 1))
        else:
            ch, h = box.shape[0], 1
            face, depth = 0.08, 0.04
            face_h = 0.12 + 0.5 * min(1.0, math.log10(max(ch, 1)) / 4)
        colour = KIND_COLOURS.get(box.kind, "#f0f0f0")
        w = face if len(box.shape) == 3 else 0.08
        if len(box.shape) != 3:
            x0 = label_x - 0.04                  # a bar: centred over its label
        hh = face if len(box.shape) == 3 else face_h
        base_y = y0 + 0.55
        dx, dy = depth * 0.6, depth * 0.45          # the oblique depth axis
        front = [(x0, base_y), (x0 + w, base_y), (x0 + w, base_y + hh), (x0, base_y + hh)]
        top = [(x0, base_y + hh), (x0 + w, base_y + hh), (x0 + w + dx, base_y + hh + dy),
               (x0 + dx, base_y + hh + dy)]
        side = [(x0 + w, base_y), (x0 + w + dx, base_y + dy), (x0 + w + dx, base_y + hh + dy),
                (x0 + w, base_y + hh)]
        for poly, shade in ((front, 1.0), (top, 0.85), (side, 0.7)):
            rgb = [shade * v for v in plt.matplotlib.colors.to_rgb(colour)]
            ax.add_patch(Polygon(poly, closed=True, facecolor=rgb, edgecolor="black", lw=0.7))
        times = f"{box.repeat} × " if box.repeat > 1 else ""
        ax.text(label_x, y0 + 0.42, f"{times}{box.label}", ha="center", va="top", fontsize=9)
        ax.text(label_x, y0 + 0.12, "×".join(map(str, box.shape)), ha="center", va="top",
                fontsize=9)
    ax.set_xlim(0, per_row * 1.0 + 0.1)
    ax.set_ylim(-(rows - 1) * 2.1 - 0.2, 1.75)
    ax.set_axis_off()
    if title:
        ax.set_title(title, loc="left", fontsize=10)
    fig.tight_layout()
    return fig


def _block_convs(block: nn.Module) -> list[nn.Module]:
    convs = [m for m in block.modules() if is_conv(m)]
    if not convs:
        raise ValueError("the block has no convolution")
    for m in convs:
        k, s, p = _pair(m.kernel_size), _pair(m.stride), _pair(m.padding)
        if s != 1 or 2 * p != k - 1:
            raise ValueError(f"vgg_block_figure needs size-keeping convolutions (stride 1, "
                             f"padding (k - 1) / 2), got kernel {k}, stride {s}, padding {p}")
    return convs


def stacked_field_footprints(kernels, side: int = 9):
    """Where one unit at the centre of the last of a stack of size-keeping convolutions
    (square kernels ``kernels``, stride 1, padding (k - 1) / 2) reads from, on a ``side`` x
    ``side`` grid: a list of boolean (side, side) arrays, the input's first and the unit itself
    (one True) last. Measured by backpropagation (:func:`helpers.receptive_field.
    measured_receptive_field`), one stack per tensor, so the square after n of m layers has
    side 1 + sum of (k - 1) over the m - n layers above it (5 for two 3x3 above)."""
    import numpy as np

    from helpers.receptive_field import measured_receptive_field

    kernels = [int(k) for k in kernels]
    if not kernels or any(k < 1 or k % 2 == 0 for k in kernels):
        raise ValueError(f"kernels must be odd and positive, got {kernels}")
    if side < 1 + sum(k - 1 for k in kernels):
        raise ValueError(f"side {side} is smaller than the stack's field "
                         f"{1 + sum(k - 1 for k in kernels)}")
    footprints = []
    for start in range(len(kernels)):
        stack = nn.Sequential(*[nn.Conv2d(1, 1, k, padding=(k - 1) // 2)
                                for k in kernels[start:]])
        footprints.append(measured_receptive_field(stack, (1, side, side)).footprint.numpy())
    unit = np.zeros((side, side), dtype=bool)
    unit[(side - 1) // 2, (side - 1) // 2] = True
    return footprints + [unit]


@light_figure
def vgg_block_figure(block: nn.Module, input_size, title: str = "", side: int = 9,
                     width: float = 7.5):
    """One VGG block in two panels. Top: the tensors as volumes, drawn to scale (front face
    side proportional to the maps' height, depth to the channels), each labelled with its layer
    and its shape C×H×W. Bottom: the receptive field the stacked convolutions build, as grids of
    ``side`` x ``side`` units (input, then after each convolution) with the part each tensor
    contributes to one unit of the last convolution shaded (measured by
    :func:`stacked_field_footprints`), and the weights per pair of input and output channels
    beside those of one convolution with the same field. ``block``: an ``nn.Module`` of
    size-keeping convolutions (and ReLUs, a pooling); ``input_size`` (C, H, W); build a big
    one on ``torch.device("meta")``. Type is 9 pt or larger at ``width`` inches."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import ConnectionPatch, Polygon, Rectangle

    convs = _block_convs(block)
    kernels = [_pair(m.kernel_size) for m in convs]
    boxes = [Box("input", "input", tuple(input_size))] + layer_boxes(block, input_size,
                                                                       merge=False)
    footprints = stacked_field_footprints(kernels, side)
    fig = plt.figure(figsize=(width, 6.4))
    top = fig.add_axes((0.01, 0.58, 0.98, 0.35))
    c_max = max(b.shape[0] for b in boxes)
    h_max = max(b.shape[1] for b in boxes)
    slot = 2.5
    previous_right = None
    for i, box in enumerate(boxes):
        ch, h = box.shape[0], box.shape[1]
        face = 1.35 * h / h_max
        depth = 1.0 * ch / c_max
        dx, dy = 0.55 * depth, 0.4 * depth
        x0, y0 = i * slot + 0.15, 1.55
        front = [(x0, y0), (x0 + face, y0), (x0 + face, y0 + face), (x0, y0 + face)]
        roof = [(x0, y0 + face), (x0 + face, y0 + face), (x0 + face + dx, y0 + face + dy),
                (x0 + dx, y0 + face + dy)]
        right = [(x0 + face, y0), (x0 + face + dx, y0 + dy), (x0 + face + dx, y0 + face + dy),
                 (x0 + face, y0 + face)]
        colour = KIND_COLOURS.get(box.kind, "#f0f0f0")
        for poly, shade in ((front, 1.0), (roof, 0.85), (right, 0.7)):
            rgb = [shade * v for v in plt.matplotlib.colors.to_rgb(colour)]
            top.add_patch(Polygon(poly, closed=True, facecolor=rgb, edgecolor="black", lw=0.7))
        label = box.label + ("\n+ ReLU" if box.kind == "conv" else "")
        middle = x0 + (face + dx) / 2
        top.text(middle, 0.8, label, ha="center", va="bottom", fontsize=12, linespacing=1.1)
        top.text(middle, 0.72, "×".join(map(str, box.shape)), ha="center", va="top",
                 fontsize=12)
        if previous_right is not None:     # from outside the last box's side face to this one
            top.annotate("", xy=(x0 - 0.06, y0 + 1.05), xytext=(previous_right + 0.06, y0 + 1.05),
                         arrowprops={"arrowstyle": "->", "lw": 1.0})
        previous_right = x0 + face + dx
    top.set_xlim(0, len(boxes) * slot)
    top.set_ylim(0.2, 3.45)
    top.set_axis_off()
    top.set_title(title or "A VGG block: tensors drawn to scale (channels × height × width)",
                  loc="left", fontsize=12)

    n = len(footprints)
    grids = [fig.add_axes((0.03 + j * 0.96 / n, 0.15, 0.96 / n - 0.05, 0.23)) for j in range(n)]
    shape = "×".join(map(str, input_size))
    names = [f"block input\n({shape})"] + [f"after conv {j + 1}" for j in range(n - 1)]
    fig.text(0.02, 0.535, f"What one unit after conv {n - 1} reads, layer by layer\n"
             f"({side} × {side} units of each map shown)", fontsize=12, va="center")
    for j, (ax, foot) in enumerate(zip(grids, footprints)):
        rows, cols = foot.nonzero()
        size = int(rows.max() - rows.min() + 1)
        ax.imshow(foot, cmap="Blues", vmin=0, vmax=1.6, origin="upper")
        ax.set_xticks([x - 0.5 for x in range(side + 1)], minor=True)
        ax.set_yticks([y - 0.5 for y in range(side + 1)], minor=True)
        ax.grid(which="minor", color="#888888", linewidth=0.5)
        ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
        ax.set_xticks([])
        ax.set_yticks([])
        what = "one unit" if size == 1 else f"{size}×{size} units"
        ax.set_title(f"{names[j]}\n{what}", fontsize=11.5)
        if j:
            prev = footprints[j - 1].nonzero()
            for corner_prev, corner_here in (((prev[1].max() + 0.5, prev[0].min() - 0.5),
                                              (cols.min() - 0.5, rows.min() - 0.5)),
                                             ((prev[1].max() + 0.5, prev[0].max() + 0.5),
                                              (cols.min() - 0.5, rows.max() + 0.5))):
                fig.add_artist(ConnectionPatch(corner_prev, corner_here, "data", "data",
                                               axesA=grids[j - 1], axesB=ax, color="#555555",
                                               lw=0.7))
        ax.add_patch(Rectangle((cols.min() - 0.5, rows.min() - 0.5), size, size, fill=False,
                               edgecolor="#08306b", lw=1.4))
    fields = [1 + sum(k - 1 for k in kernels[:m]) for m in range(1, len(kernels) + 1)]
    weights = [sum(k * k for k in kernels[:m]) for m in range(1, len(kernels) + 1)]
    words = {2: "Two", 3: "Three", 4: "Four"}
    parts = [f"{words.get(m, m)} convolutions ({' + '.join(f'{k}×{k}' for k in kernels[:m])}): "
             f"{f}×{f} field,\n    {' + '.join(str(k * k) for k in kernels[:m])} = {w} weights per "
             f"channel pair (one {f}×{f}: {f * f})"
             for m, (f, w) in enumerate(zip(fields, weights), 1) if m > 1]
    fig.text(0.02, 0.01, "\n".join(parts), fontsize=11, va="bottom")
    return fig


@light_figure
def race_threshold_chart(summary: dict, arms=("tanh", "ReLU"), max_steps: int | None = None,
                         reference: float | None = None, reference_label: str = "",
                         ratio_label: str = "first arm's steps / second arm's", title: str = ""):
    """A race to several finish lines, one per key of ``summary`` (in order, e.g. "20%" ...
    "6%"), each value a record of ``tools.full_runs.race_speedups``: per seed the steps of the
    two arms at their chosen rates (``tanh_steps``, ``relu_steps``) and ``speedups``. Left:
    steps to each line, a dot per seed (open: not reached within ``max_steps``), the mean as a
    line and mean ± sd as a band, per arm (``arms``: the two legend names). Right: the speed-up
    (first arm's steps / second arm's, the y label ``ratio_label``) per seed, mean line and
    ± sd band, a dotted line at 1 and, if given, a dashed line at ``reference``
    (``reference_label``)."""
    import matplotlib.pyplot as plt
    import numpy as np

    if not summary:
        raise ValueError("summary is empty: nothing to draw")
    lines = list(summary)
    for line in lines:
        missing = {"tanh_steps", "relu_steps", "speedups"} - set(summary[line])
        if missing:
            raise ValueError(f"summary[{line!r}] lacks {sorted(missing)}")
    x = np.arange(len(lines))
    fig, (left, right) = plt.subplots(2, 1, figsize=(6.4, 8.0))     # stacked: phone-readable
    colours = ("#1f77b4", "#d62728")

    def band(ax, values, colour, label, offset):
        values = np.asarray(values, dtype=float)          # (lines, seeds)
        mean = values.mean(axis=1)
        sd = values.std(axis=1, ddof=1) if values.shape[1] > 1 else np.zeros_like(mean)
        ax.fill_between(x, mean - sd, mean + sd, color=colour, alpha=0.18, lw=0)
        ax.plot(x, mean, color=colour, lw=1.6, label=label)
        for j in range(values.shape[1]):
            xs = x + offset + 0.05 * (j - (values.shape[1] - 1) / 2)
            done = (values[:, j] <= max_steps) if max_steps else np.ones(len(x), bool)
            ax.scatter(xs[done], values[done, j], color=colour, s=24, zorder=3)
            ax.scatter(xs[~done], values[~done, j], facecolor="white", edgecolor=colour, s=24,
                       zorder=3)

    for k, (key, label) in enumerate((("tanh_steps", arms[0]), ("relu_steps", arms[1]))):
        band(left, [summary[line][key] for line in lines], colours[k], label, 0.08 * (k - 0.5))
    left.set_yscale("log")
    steps_seen = np.asarray([summary[line][key] for line in lines
                             for key in ("tanh_steps", "relu_steps")], dtype=float)
    low, high = steps_seen.min(), steps_seen.max()
    ticks = [t for t in (10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000)
             if low / 1.5 <= t <= high * 1.5]
    if ticks:
        left.yaxis.set_major_locator(plt.matplotlib.ticker.FixedLocator(ticks))
        left.yaxis.set_major_formatter(plt.matplotlib.ticker.FuncFormatter(
            lambda v, _: f"{v:,.0f}"))
        left.yaxis.set_minor_formatter(plt.matplotlib.ticker.NullFormatter())
    left.set_ylabel("steps to the line (log scale)", fontsize=12)
    left.legend(fontsize=12, frameon=False)
    band(right, [summary[line]["speedups"] for line in lines], "#333333",
         "mean ± sd over the seeds", 0.0)
    right.axhline(1.0, color="#888888", lw=1.0, ls=":", label="1: both equally fast")
    if reference is not None:
        right.axhline(reference, color="#2ca02c", lw=1.2, ls="--", label=reference_label or None)
        right.set_ylim(0, reference * 1.45)
    right.set_ylabel(ratio_label, fontsize=12)
    right.legend(fontsize=12, frameon=False, loc="upper left")
    for ax in (left, right):
        ax.set_xticks(x, lines)
        ax.set_xlabel("training error to reach", fontsize=12)
        ax.tick_params(labelsize=12)
        ax.grid(axis="y", alpha=0.3)
    if title:
        import textwrap
        fig.suptitle(textwrap.fill(title, 60), fontsize=12)
    fig.tight_layout()
    return fig
