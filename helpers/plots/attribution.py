"""Chapter 8's figures: maps beside their images, the sanity check's cascade, accuracy against
the size of an attack. Every figure is drawn through :func:`helpers.plots.style.light_figure`.

    image_table(cells, col_titles, row_titles)        a grid of images and maps
    cascade_plot(labels, results)                     rank correlation as layers are randomised
    robustness_plot(eps, curves)                      accuracy against epsilon, one band per curve
"""
from __future__ import annotations

import numpy as np

from helpers.plots.style import light_figure

FONT = 10   # points, at the saved size: readable on a phone
WIDTH = 4.2  # inches, the widest figure: a phone shows it without shrinking the text


def _array(a) -> np.ndarray:
    a = a.detach().cpu().numpy() if hasattr(a, "detach") else np.asarray(a)
    return a.squeeze()


@light_figure
def image_table(cells, col_titles, row_titles=None, *, cmaps=None, extents=None, signed=None,
                cell: float = 1.45, title: str | None = None):
    """``cells[r][c]``: a 2-D image or map (H, W) (tensor or array, squeezed). Column ``c`` is
    drawn with ``cmaps[c]`` (default gray for column 0, magma after), over ``extents[c]``
    (matplotlib's (left, right, bottom, top) in the first column's pixels: a coarse map laid
    over the image it explains) and, where ``signed[c]``, a colour scale symmetric about 0.
    Each map is scaled on its own (their units differ). The figure is at most ``WIDTH``
    inches wide: ``cell`` shrinks to fit."""
    import matplotlib.pyplot as plt

    rows, cols = len(cells), len(col_titles)
    if any(len(r) != cols for r in cells):
        raise ValueError("every row needs one cell per column title")
    cmaps = cmaps or ["gray"] + ["magma"] * (cols - 1)
    extents = extents or [None] * cols
    signed = signed or [False] * cols
    if cell <= 0:
        raise ValueError(f"cell must be > 0, got {cell}")
    cell = min(cell, (WIDTH - 0.4) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cell * cols + 0.4, cell * rows + 0.9),
                             squeeze=False)
    first = _array(cells[0][0])
    for r in range(rows):
        for c in range(cols):
            ax, a = axes[r][c], _array(cells[r][c])
            kw = {"cmap": cmaps[c], "interpolation": "nearest"}
            if signed[c]:
                v = float(np.abs(a).max()) or 1.0
                kw.update(vmin=-v, vmax=v)
            if extents[c] is not None:
                kw["extent"] = extents[c]
            ax.imshow(a, **kw)
            if extents[c] is not None:
                ax.set_xlim(-0.5, first.shape[1] - 0.5)
                ax.set_ylim(first.shape[0] - 0.5, -0.5)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(col_titles[c], fontsize=FONT)
            if c == 0 and row_titles is not None:
                ax.set_ylabel(row_titles[r], fontsize=FONT)
    if title:
        fig.suptitle(title, fontsize=FONT + 1)
    fig.tight_layout()
    return fig


@light_figure
def cascade_plot(labels, results, *, passes_below: float | None = None,
                 ylabel: str = "rank correlation with\nthe trained network's map"):
    """``results``: {method: (seeds, steps) array} of rank correlations, step 0 the trained
    network, step i with the top i groups of layers re-drawn (``labels``). One line per method
    through the seeds' mean, each seed a point; a dashed line at ``passes_below``."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(WIDTH, 4.2))
    xs = np.arange(len(labels))
    markers = "osD^vP"
    for i, (name, values) in enumerate(results.items()):
        values = np.asarray(values, dtype=float)
        offset = (i - (len(results) - 1) / 2) * 0.06
        line, = ax.plot(xs + offset, values.mean(0), marker=markers[i % len(markers)],
                        label=name, lw=1.8, ms=5)
        for seed in values:
            ax.plot(xs + offset, seed, ls="none", marker=".", color=line.get_color(), ms=4,
                    alpha=0.7)
    if passes_below is not None:
        ax.axhline(passes_below, color="gray", ls="--", lw=1)
    ax.set_xticks(xs, labels, fontsize=FONT, rotation=20)
    ax.set_ylabel(ylabel, fontsize=FONT)
    ax.set_xlabel("layers re-drawn, from the output down", fontsize=FONT)
    ax.set_ylim(-0.25, 1.05)
    ax.tick_params(labelsize=FONT)
    ax.legend(fontsize=FONT, loc="upper center", bbox_to_anchor=(0.5, -0.36), ncol=2,
              handlelength=1.2, columnspacing=0.8, frameon=False)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


@light_figure
def robustness_plot(eps, curves, *, xlabel: str = "ε (largest change of a pixel)",
                    ylabel: str = "test accuracy", legend_loc: str = "lower left",
                    ylim: tuple[float, float] = (-0.02, 1.02)):
    """``curves``: {name: (seeds, len(eps)) accuracies}. The mean over seeds as a line, a band
    from the worst to the best seed, each seed a point; the legend at matplotlib's
    ``legend_loc``; the y-axis spans ``ylim`` (pass (-2, 102) for accuracies in %)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(WIDTH, 3.4))
    eps = np.asarray(eps, dtype=float)
    for name, values in curves.items():
        values = np.asarray(values, dtype=float)
        line, = ax.plot(eps, values.mean(0), marker="o", label=name, lw=1.8, ms=4)
        ax.fill_between(eps, values.min(0), values.max(0), color=line.get_color(), alpha=0.2)
        for seed in values:
            ax.plot(eps, seed, ls="none", marker=".", color=line.get_color(), ms=4)
    ax.set_xlabel(xlabel, fontsize=FONT)
    ax.set_ylabel(ylabel, fontsize=FONT)
    ax.set_ylim(*ylim)
    ax.tick_params(labelsize=FONT)
    ax.legend(fontsize=FONT, loc=legend_loc)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
