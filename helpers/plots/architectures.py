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


def layer_boxes(model: nn.Module, input_size) -> list[Box]:
    """The boxes of ``model`` run on zeros of ``input_size`` ((C, H, W)), in forward order.
    A pooling that leaves the shape unchanged (an adaptive pool at its native size) is left
    out; consecutive convolutions with the same label and output shape become one box."""
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
        if (kind == "conv" and last is not None and last.kind == "conv"
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
    fig.legend(handles=handles, loc="lower right", ncol=3, fontsize=8, frameon=False)
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
    ax.legend(loc="lower right", fontsize=8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
