"""Block diagrams of residual blocks, drawn from the zoo's modules themselves (chapter 7).

    layout = block_layout(BasicBlock(in_channels=16, out_channels=32, stride=2))
    layout.branch      # ['3x3 conv, 32, /2', 'BN', 'ReLU', '3x3 conv, 32', 'BN']
    layout.shortcut    # ['1x1 conv, 32, /2', 'BN'], [] for the identity, None for no shortcut
    layout.final_relu  # True: ReLU after the sum (False for the pre-activation block)
    draw_blocks({"basic": BasicBlock(in_channels=16, out_channels=16), ...})   # one Figure

The labels are read off the modules (their ``receptive_field_paths()`` and ``final_relu``),
so a diagram changes when the block changes.
"""
from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from helpers.plots.style import light_figure

BOX_COLOURS = {"conv": "#cfe2f3", "BN": "#fff2cc", "ReLU": "#d9ead3"}


@dataclass
class BlockLayout:
    """What a diagram shows: the residual branch top to bottom, the shortcut (``[]`` for the
    identity, ``None`` when there is none), whether a ReLU follows the sum, and the shapes."""

    branch: list[str]
    shortcut: list[str] | None
    final_relu: bool
    in_channels: int
    out_channels: int


def layer_label(module: nn.Module) -> str:
    """'3x3 conv, 32, /2' for a convolution, 'BN', 'ReLU'; a Sequential joins its parts."""
    if isinstance(module, nn.Conv2d):
        k = module.kernel_size[0]
        stride = module.stride[0]
        return f"{k}x{k} conv, {module.out_channels}" + (f", /{stride}" if stride > 1 else "")
    if isinstance(module, nn.BatchNorm2d):
        return "BN"
    if isinstance(module, nn.ReLU):
        return "ReLU"
    if isinstance(module, nn.Identity):
        return "identity"
    if isinstance(module, nn.Sequential):
        return " + ".join(layer_label(m) for m in module)
    raise ValueError(f"no label for a {type(module).__name__}")


def _channels(block: nn.Module) -> tuple[int, int]:
    convs = [m for m in block.modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise ValueError("a block needs at least one nn.Conv2d")
    return convs[0].in_channels, max(c.out_channels for c in convs)


def block_layout(block: nn.Module) -> BlockLayout:
    """The :class:`BlockLayout` of a zoo block (BasicBlock, PlainBlock, Bottleneck,
    PreActBlock): anything with ``receptive_field_paths()`` -> [branch] or [branch, [shortcut]]
    and a ``final_relu`` attribute."""
    if not hasattr(block, "receptive_field_paths"):
        raise ValueError(f"{type(block).__name__} does not describe its paths "
                         "(receptive_field_paths)")
    paths = block.receptive_field_paths()
    branch = [layer_label(m) for m in paths[0]]
    shortcut = None
    if len(paths) > 1:
        (module,) = paths[1]
        shortcut = [] if isinstance(module, nn.Identity) else (
            [layer_label(m) for m in module] if isinstance(module, nn.Sequential)
            else [layer_label(module)])
    c_in, c_out = _channels(block)
    return BlockLayout(branch, shortcut, bool(getattr(block, "final_relu", True)), c_in, c_out)


def _colour(label: str) -> str:
    return BOX_COLOURS["conv"] if "conv" in label else BOX_COLOURS.get(label, "#eeeeee")


def _box(ax, x, y, label, w=1.7, h=0.42, fontsize=9):
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02",
                                fc=_colour(label), ec="black", lw=0.8))
    ax.text(x, y, label, ha="center", va="center", fontsize=fontsize)


def _arrow(ax, start, end, **kwargs):
    ax.annotate("", xy=end, xytext=start,
                arrowprops=dict(arrowstyle="-|>", lw=0.9, color="black", shrinkA=0, shrinkB=0,
                                **kwargs))


def draw_block(ax, layout: BlockLayout, title: str = "") -> dict[str, int]:
    """Draw one block on ``ax``, input at the top; returns counts of what was drawn
    ({"boxes", "adds"}, and "bottom", the lowest y drawn) so that tests can check the picture
    against the layout."""
    step, y = 0.62, 0.0
    ax.text(0, y, f"x  ({layout.in_channels} ch)", ha="center", va="center", fontsize=9)
    top = y
    boxes = adds = 0
    for label in layout.branch:
        _arrow(ax, (0, y - 0.17), (0, y - step + 0.21))
        y -= step
        _box(ax, 0, y, label)
        boxes += 1
    if layout.shortcut is not None:
        _arrow(ax, (0, y - 0.21), (0, y - step + 0.17))
        y -= step
        ax.add_patch(__import__("matplotlib.patches", fromlist=["Circle"]).Circle(
            (0, y), 0.16, fc="white", ec="black", lw=0.9))
        ax.text(0, y, "+", ha="center", va="center", fontsize=12)
        adds += 1
        xs = 1.75
        ax.plot([0.05, xs, xs], [top - 0.12, top - 0.12, top - 0.5], color="black", lw=0.9)
        if layout.shortcut:
            mid = (top + y) / 2
            ax.plot([xs, xs], [top - 0.5, mid + 0.22], color="black", lw=0.9)
            _box(ax, xs, mid, "\n".join(layout.shortcut), w=1.65, h=0.66, fontsize=9)
            boxes += 1
            ax.plot([xs, xs], [mid - 0.32, y], color="black", lw=0.9)
        else:
            ax.plot([xs, xs], [top - 0.5, y], color="black", lw=0.9)
            ax.text(xs + 0.08, (top + y) / 2, "identity", rotation=90, ha="left",
                    va="center", fontsize=9, style="italic")
        _arrow(ax, (xs, y), (0.16, y))
        last_gap = 0.16
    else:
        last_gap = 0.21
    if layout.final_relu:
        _arrow(ax, (0, y - last_gap), (0, y - step + 0.21))
        y -= step
        _box(ax, 0, y, "ReLU")
        boxes += 1
        last_gap = 0.21
    _arrow(ax, (0, y - last_gap), (0, y - step + 0.12))
    y -= step
    ax.text(0, y, f"output  ({layout.out_channels} ch)", ha="center", va="center", fontsize=9)
    ax.set_xlim(-1.0, 2.62)
    ax.set_ylim(y - 0.3, top + 0.3)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    return {"boxes": boxes, "adds": adds, "bottom": y - 0.3}


@light_figure
def draw_blocks(blocks: dict[str, nn.Module], *, height: float = 5.6):
    """One panel per block, side by side, each drawn from :func:`block_layout`; the dict's
    keys are the panel titles. Returns the Figure (``fig.drawn``: the counts per panel)."""
    import matplotlib.pyplot as plt

    if not blocks:
        raise ValueError("blocks is empty")
    fig, axes = plt.subplots(1, len(blocks), figsize=(2.55 * len(blocks), height))
    axes = [axes] if len(blocks) == 1 else list(axes)
    fig.drawn = {title: draw_block(ax, block_layout(block), title)
                 for ax, (title, block) in zip(axes, blocks.items())}
    bottom = min(d["bottom"] for d in fig.drawn.values())
    for ax in axes:                       # one scale for all panels: longer blocks are taller
        ax.set_ylim(bottom, 0.3)
    fig.tight_layout()
    return fig


@light_figure
def degradation_curves(train: dict, test: dict, *, titles=("plain", "residual"),
                       ylabel: str = "error", width: float = 7.2, height: float = 3.4):
    """Training and test error against epochs in He et al.'s layout: one panel per family
    (``titles``), thin lines for training error, bold lines for test error, a band from the
    smallest to the largest seed around each mean. ``train[title]`` and ``test[title]`` map a
    curve label (e.g. ``"8 layers"``) to an array of shape (seeds, epochs). The two panels
    share the y axis. Returns the Figure."""
    import matplotlib.pyplot as plt
    import numpy as np

    if set(train) != set(titles) or set(test) != set(titles):
        raise ValueError(f"train and test need exactly the panels {titles}")
    fig, axes = plt.subplots(1, len(titles), figsize=(width, height), sharey=True)
    axes = np.atleast_1d(axes)
    colours = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e")
    for ax, title in zip(axes, titles):
        for i, label in enumerate(train[title]):
            for kind, curves, lw in (("train", train[title][label], 1.0),
                                     ("test", test[title][label], 2.6)):
                a = np.asarray(curves, dtype=float)
                if a.ndim != 2:
                    raise ValueError(f"{title}/{label}: expected (seeds, epochs), got {a.shape}")
                x = np.arange(1, a.shape[1] + 1)
                ax.fill_between(x, a.min(0), a.max(0), color=colours[i % 4], alpha=0.15, lw=0)
                ax.plot(x, a.mean(0), color=colours[i % 4], lw=lw,
                        label=f"{label}, {kind}")
        ax.set_title(title, fontsize=11)
        ax.set_xlabel("epoch", fontsize=10)
        ax.set_xticks(np.arange(1, a.shape[1] + 1))
        ax.tick_params(labelsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=9, frameon=False)
    axes[0].set_ylabel(ylabel, fontsize=10)
    fig.tight_layout()
    return fig


def resnet_stage_shapes(model: nn.Module, size=(3, 224, 224)) -> list[dict]:
    """The rows of :func:`plain_vs_resnet_diagram`, read off a torchvision-style ResNet
    (``model.features`` with ``conv1``, ``maxpool``, ``layer1..4``; ``model.classifier``) by one
    forward pass on the meta device (shapes only). Each row: ``label``, output ``shape``
    (C, H, W), ``convs`` on the main path, ``blocks`` and ``projections`` (blocks whose shortcut
    is a projection)."""
    import torch

    f = getattr(model, "features", None)
    names = ("conv1", "maxpool", "layer1", "layer2", "layer3", "layer4")
    if f is None or any(not hasattr(f, n) for n in names):
        raise ValueError("expected a torchvision-style ResNet: features.conv1, maxpool, layer1..4")
    shapes = {}
    hooks = [getattr(f, n).register_forward_hook(
        lambda m, i, o, n=n: shapes.__setitem__(n, tuple(o.shape[1:]))) for n in names]
    try:
        with torch.device("meta"):
            model.to("meta")(torch.empty(1, *size, device="meta"))
    finally:
        for h in hooks:
            h.remove()
    c1 = f.conv1
    rows = [{"label": "input", "shape": tuple(size), "convs": 0, "blocks": 0, "projections": 0},
            {"label": f"{c1.kernel_size[0]}×{c1.kernel_size[1]} conv, {c1.out_channels}, "
                      f"/{c1.stride[0]}", "shape": shapes["conv1"], "convs": 1, "blocks": 0,
             "projections": 0},
            {"label": "3×3 max pool, /2", "shape": shapes["maxpool"], "convs": 0, "blocks": 0,
             "projections": 0}]
    for n in names[2:]:
        layer = getattr(f, n)
        convs = sum(1 for name, m in layer.named_modules()
                    if isinstance(m, nn.Conv2d) and "shortcut" not in name)
        projections = sum(1 for b in layer if not isinstance(b.shortcut, nn.Identity))
        c, h, w = shapes[n]
        rows.append({"label": f"{convs} × 3×3 conv, {c}" + (", first /2" if n != "layer1" else ""),
                     "shape": shapes[n], "convs": convs, "blocks": len(layer),
                     "projections": projections})
    fc = [m for m in model.classifier.modules() if isinstance(m, nn.Linear)][-1]
    rows.append({"label": f"average pool, fc {fc.out_features}", "shape": (fc.out_features, 1, 1),
                 "convs": 1, "blocks": 0, "projections": 0})
    return rows


@light_figure
def plain_vs_resnet_diagram(rows: list[dict], *, titles=("34-layer plain", "ResNet-34"),
                            width: float = 7.2):
    """Two columns, a plain network and its residual twin, one row per stage (from
    :func:`resnet_stage_shapes`): each stage drawn as a box whose face grows with the
    spatial size H × W and whose depth grows with the channels C (C × H × W written beside
    it). The residual column adds one shortcut arc per block, solid for the identity,
    dashed for a projection. Returns the Figure."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Arc, Polygon, Rectangle

    if not rows:
        raise ValueError("rows is empty")
    n = len(rows)
    fig, axes = plt.subplots(1, 2, figsize=(width, 0.95 * n + 0.6))
    h_max = max(r["shape"][1] for r in rows)
    c_max = max(r["shape"][0] for r in rows[1:-1])
    for ax, title in zip(axes, titles):
        residual = ax is axes[1]
        for i, r in enumerate(rows):
            c, h, w = r["shape"]
            y = n - 1 - i                                  # top row first
            side = 0.12 + 0.62 * (h / h_max) ** 0.5        # face: spatial size
            depth = 0.08 + 0.5 * min(c, c_max) / c_max     # oblique depth: channels
            x0, y0 = 0.55, y + 0.45 - side / 2
            colour = "#cfe2f3" if r["convs"] else ("#eeeeee" if i else "white")
            ax.add_patch(Polygon([(x0, y0 + side), (x0 + depth, y0 + side + depth * 0.45),
                                  (x0 + depth + side, y0 + side + depth * 0.45),
                                  (x0 + side, y0 + side)], closed=True, facecolor=colour,
                                 edgecolor="black", lw=0.7))
            ax.add_patch(Polygon([(x0 + side, y0), (x0 + side + depth, y0 + depth * 0.45),
                                  (x0 + side + depth, y0 + side + depth * 0.45),
                                  (x0 + side, y0 + side)], closed=True, facecolor=colour,
                                 edgecolor="black", lw=0.7))
            ax.add_patch(Rectangle((x0, y0), side, side, facecolor=colour, edgecolor="black",
                                   lw=0.7))
            shape = f"{c}" if i == n - 1 else f"{c} × {h} × {w}"
            ax.text(1.95, y + 0.62, r["label"], fontsize=9, va="center")
            ax.text(1.95, y + 0.28, shape, fontsize=9, va="center", color="#444444")
            if i:
                ax.annotate("", xy=(0.3, y + 0.85), xytext=(0.3, y + 1.05),
                            arrowprops={"arrowstyle": "->", "lw": 0.8})
            if residual and r["blocks"]:
                k = r["blocks"]
                for b in range(k):
                    yy = y + 0.85 - 0.75 * (b + 0.5) / k          # first block on top
                    dashed = b < r["projections"]
                    ax.add_patch(Arc((0.3, yy), 0.22, 0.75 / k * 0.9, theta1=90, theta2=270,
                                     lw=1.1, ls="--" if dashed else "-", color="#d62728"))
        ax.set_xlim(0, 4.6)
        ax.set_ylim(-0.1, n + 0.1)
        ax.set_axis_off()
        ax.set_title(title, fontsize=11)
    fig.text(0.5, 0.005, "not to scale: the face grows with height × width, the depth with "
             "channels;\nred arcs: shortcuts (dashed: projection)", ha="center", fontsize=9)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig
