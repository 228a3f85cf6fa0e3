"""What LeNet-5 sees in one digit: the input, both convolutions' feature maps, the verdict.

    draw_lenet_digit(model, x)                 # a Figure for one normalised 28x28 input
    digit_explorer(model, x_test, y_test)      # a slider over test digits; live on the website

On the website :func:`digit_explorer` stores its figure (for print and for readers without
JavaScript) and the mount point of the live "draw a digit" explorer
(``tools/static/explorers/draw_digit.js``), where the reader draws a digit for the same
network, whose weights ``python -m tools.export_lenet`` exports.
"""
from __future__ import annotations

import numpy as np

from helpers.data import MNIST_NORM
from helpers.digits import lenet_maps
from helpers.plots.explorers import explorer
from helpers.plots.style import light_figure

__all__ = ["WEB_CONFIG", "digit_explorer", "draw_lenet_digit"]

# The live explorer's configuration: its weights, beside draw_digit.js in _static (the script
# loads lenet5_mnist.js, the JSON document wrapped in a script; the name is kept as stored).
WEB_CONFIG = {"weights": "lenet5_mnist.json"}


def _map_grid(fig, cells, maps, title: str) -> None:
    """One small signed image per map (tanh range, red positive, blue negative)."""
    for ax, m in zip(cells, maps):
        ax.imshow(m, cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
        ax.set_axis_off()
    cells[0].set_title(title, fontsize=9, loc="left")


@light_figure
def draw_lenet_digit(model, x, label=None):
    """The chapter's LeNet-5 on one normalised 28x28 input ``x``: the input, C1's 6 and C3's 16
    feature maps after tanh, and the ten class probabilities (the largest in red)."""
    import matplotlib.pyplot as plt

    logits, c1, c3 = lenet_maps(model, x)
    probabilities = logits.softmax(1)[0].numpy()
    fig = plt.figure(figsize=(11, 3.6))
    grid = fig.add_gridspec(4, 12, width_ratios=[1, 1, 0.25, 1, 1, 0.25, 1, 1, 1, 1, 0.5, 3.2],
                            wspace=0.08, hspace=0.12, left=0.02, right=0.98)
    ax = fig.add_subplot(grid[0:2, 0:2])
    ax.imshow(np.asarray(x).reshape(28, 28) * MNIST_NORM["std"] + MNIST_NORM["mean"],
              cmap="gray", vmin=0, vmax=1)
    ax.set_axis_off()
    ax.set_title("input" if label is None else f"input: a test {label}", fontsize=9)
    _map_grid(fig, [fig.add_subplot(grid[r, 3 + c]) for r in range(3) for c in range(2)],
              c1[0].numpy(), "C1: 6 maps")
    _map_grid(fig, [fig.add_subplot(grid[r, 6 + c]) for r in range(4) for c in range(4)],
              c3[0].numpy(), "C3: 16 maps")
    bars = fig.add_subplot(grid[:, 11])
    best = int(probabilities.argmax())
    bars.barh(range(10), probabilities, color=["#b2182b" if d == best else "#4a78a8"
                                                for d in range(10)])
    for d, p in enumerate(probabilities):
        inside = p > 0.7       # the label goes inside a long bar, in white
        bars.text(p - 0.02 if inside else p + 0.02, d, f"{100 * p:.1f} %", va="center",
                  ha="right" if inside else "left", fontsize=9,
                  color="white" if inside else "black")
    bars.set_yticks(range(10))
    bars.set_ylim(9.6, -0.6)
    bars.set_xlim(0, 1)
    bars.set_xlabel("probability", fontsize=9)
    bars.set_title(f"LeNet-5 reads a {best}", fontsize=9)
    bars.tick_params(labelsize=9)
    return fig


def digit_explorer(model, images, labels, index: int = 0) -> None:
    """LeNet-5 on the test digit ``images[index]`` (uint8 28x28, normalised here as in the
    chapter): a slider over the digits in Jupyter; on the website, the static figure and the
    live explorer, where the reader draws the digit."""
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"images must be (N, 28, 28) MNIST digits, got shape {images.shape}")
    if not 0 <= index < len(images):
        raise ValueError(f"index must be in [0, {len(images) - 1}], got {index}")

    def draw(index=index):
        x = (images[index] / 255.0 - MNIST_NORM["mean"]) / MNIST_NORM["std"]
        return draw_lenet_digit(model, x.astype(np.float32), label=int(labels[index]))

    explorer(draw, web=("draw-digit", WEB_CONFIG), index=(0, len(images) - 1))
