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


def _box(ax, x, y, label, w=1.7, h=0.42, fontsize=8.5):
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
            _box(ax, xs, mid, "\n".join(layout.shortcut), w=1.25, h=0.62, fontsize=7.5)
            boxes += 1
            ax.plot([xs, xs], [mid - 0.32, y], color="black", lw=0.9)
        else:
            ax.plot([xs, xs], [top - 0.5, y], color="black", lw=0.9)
            ax.text(xs + 0.08, (top + y) / 2, "identity", rotation=90, ha="left",
                    va="center", fontsize=8.5, style="italic")
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
    ax.set_xlim(-1.0, 2.45)
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
