"""Figures for signed filters and feature maps (chapter 4): zero is always white (or grey for
colour filters), so the sign of a value can be read off its colour.

    photo_and_channels   a colour photo next to its red, green and blue channels
    signed_maps          named maps, each on its own scale symmetric about 0 (red > 0, blue < 0)
    filters_before_after the same filters before and after training, in the same order, each on
                         its own symmetric scale, with a score printed over each
    colour_filters       (K, 3, k, k) filters as colour patches: grey = 0, each on its own scale
    top_patches_figure   per layer, a few units shown by the input patches that excite them most,
                         cropped to the layer's receptive field, beside that field on one image
"""
from __future__ import annotations

import math

import numpy as np

from helpers.device import to_numpy
from helpers.plots.figures import map_stack
from helpers.plots.style import light_figure

__all__ = ["colour_filters", "filters_before_after", "photo_and_channels", "signed_maps",
           "top_patches_figure"]


def _axes(nrows: int, ncols: int, cell: float, title: str | None, extra_height: float = 0.0):
    import matplotlib.pyplot as plt

    height = cell * nrows + extra_height + 0.4 * bool(title)
    fig, axes = plt.subplots(nrows, ncols, squeeze=False, figsize=(cell * ncols, height))
    for ax in axes.ravel():
        ax.set_axis_off()
    if title:
        fig.suptitle(title)
    return fig, axes


def _limit(a: np.ndarray) -> float:
    """Symmetric colour limit of one map or filter: its largest absolute value (1 if all 0)."""
    return float(np.abs(a).max()) or 1.0


def _signed(ax, a: np.ndarray, name: str | None = None, fontsize: float = 9):
    lim = _limit(a)
    ax.imshow(a, cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
    ax.set_axis_on()
    ax.set_xticks([])
    ax.set_yticks([])
    if name is not None:
        ax.set_title(name, fontsize=fontsize)


@light_figure
def photo_and_channels(photo, cell: float = 2.4, title: str | None = None):
    """A colour photo (H, W, 3) in [0, 1] followed by its three channels in grey, each channel
    on the common scale 0 (black) to 1 (white)."""
    p = to_numpy(photo)
    if p.ndim != 3 or p.shape[-1] != 3:
        raise ValueError(f"photo must be (H, W, 3), got shape {p.shape}")
    fig, axes = _axes(1, 4, cell, title)
    axes[0, 0].imshow(np.clip(p, 0, 1))
    axes[0, 0].set_title("colour photo", fontsize=10)
    for ax, c, name in zip(axes[0, 1:], range(3), ("red", "green", "blue")):
        ax.imshow(p[..., c], cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"channel {c}: {name}", fontsize=10)
    fig.tight_layout()
    return fig


@light_figure
def signed_maps(maps, names=None, ncols: int = 4, cell: float = 2.4, image=None,
                image_name: str = "input", title: str | None = None):
    """Feature maps (K, H, W) or (1, K, H, W), each in a diverging map centred on 0 with
    symmetric limits ``±max|map|`` (white = 0, red > 0, blue < 0), titled by ``names``
    (default: the map's index). With ``image`` (H, W) or (H, W, 3), it is shown first."""
    a = map_stack(maps, name="maps", channels="K")
    names = [str(i) for i in range(len(a))] if names is None else list(names)
    if len(names) != len(a):
        raise ValueError(f"{len(a)} maps but {len(names)} names")
    panels = len(a) + (image is not None)
    ncols = max(1, min(ncols, panels))
    fig, axes = _axes(math.ceil(panels / ncols), ncols, cell, title)
    flat = list(axes.ravel())
    if image is not None:
        img = to_numpy(image)
        ax = flat.pop(0)
        ax.imshow(img, cmap=None if img.ndim == 3 else "gray")
        ax.set_title(image_name, fontsize=9)
    for ax, m, name in zip(flat, a, names):
        _signed(ax, m, name)
    fig.tight_layout()
    return fig


@light_figure
def filters_before_after(before, after, score_before=None, score_after=None, order=None,
                         ncols: int = 8, cell: float = 1.1, channel: int = 0,
                         score_name: str = "s", title: str | None = None):
    """The same filters (K, C, kh, kw) before and after training, in the same ``order``: for
    each group of ``ncols`` filters a row "before" and under it a row "after". Every filter has
    its own colour scale, symmetric about 0; ``score_before`` / ``score_after`` (K,) are
    printed above the filters."""
    b, a = to_numpy(before), to_numpy(after)
    if b.shape != a.shape or b.ndim != 4:
        raise ValueError(f"before and after must be the same (K, C, kh, kw), got {b.shape} and "
                         f"{a.shape}")
    k = len(a)
    order = np.arange(k) if order is None else np.asarray(order)
    ncols = max(1, min(ncols, k))
    groups = math.ceil(len(order) / ncols)
    fig, axes = _axes(2 * groups, ncols, cell, title, extra_height=0.25 * groups)
    for slot, idx in enumerate(order):
        row, col = divmod(slot, ncols)
        for r, (w, score, when) in enumerate(((b, score_before, "before"),
                                               (a, score_after, "after"))):
            label = f"#{idx} {when}" if score is None else f"#{idx} {score_name}={score[idx]:.2f}"
            _signed(axes[2 * row + r, col], w[idx, channel], label, fontsize=9)
    for g in range(groups):
        axes[2 * g, 0].set_ylabel("before", fontsize=9)
        axes[2 * g + 1, 0].set_ylabel("after", fontsize=9)
        axes[2 * g, 0].set_axis_on()
        axes[2 * g + 1, 0].set_axis_on()
    fig.tight_layout()
    return fig


@light_figure
def colour_filters(filters, scores=None, ncols: int = 8, cell: float = 1.0,
                   score_name: str = "s", title: str | None = None):
    """Colour filters (K, 3, kh, kw) as RGB patches: mid-grey = 0 in every channel, each filter
    scaled by its own largest absolute weight (``0.5 + 0.5 w / max|w|``), with ``scores`` (K,)
    printed above them."""
    w = to_numpy(filters)
    if w.ndim != 4 or w.shape[1] != 3:
        raise ValueError(f"colour filters must be (K, 3, kh, kw), got shape {w.shape}")
    ncols = max(1, min(ncols, len(w)))
    fig, axes = _axes(math.ceil(len(w) / ncols), ncols, cell, title)
    for i, (ax, f) in enumerate(zip(axes.ravel(), w)):
        ax.imshow(0.5 + 0.5 * f.transpose(1, 2, 0) / _limit(f), interpolation="nearest")
        if scores is not None:
            ax.set_title(f"{score_name}={scores[i]:.2f}", fontsize=9)
    fig.tight_layout()
    return fig


@light_figure
def top_patches_figure(crops, sizes, example, boxes, names=None, cell: float = 1.1,
                       title: str | None = None, scale: tuple[float, float] | None = None):
    """One row per layer. ``crops[L]`` is (U, k, s, s): for U units, their k strongest input
    patches (k a square number), each drawn as a sqrt(k) x sqrt(k) mosaic in grey, every
    patch stretched to its own scale, or, with ``scale=(lo, hi)``, all on the one grey scale
    from lo (black) to hi (white), so that a faint patch stays faint; ``sizes[L]`` the field
    size s. The first column shows ``example`` (H, W) with the field ``boxes[L]`` = (top, left,
    bottom, right) of one unit drawn on it, so the patches can be read at their true size."""
    import matplotlib.patches as mpatches

    crops = [np.asarray(c) for c in crops]
    if not crops or len(sizes) != len(crops) or len(boxes) != len(crops):
        raise ValueError(f"need as many sizes and boxes as layers: {len(crops)} layers, "
                         f"{len(sizes)} sizes, {len(boxes)} boxes")
    if scale is not None and not scale[1] > scale[0]:
        raise ValueError(f"scale must be (lo, hi) with hi > lo, got {scale}")
    units, k = crops[0].shape[:2]
    side = math.isqrt(k)
    if side * side != k or any(c.shape[:2] != (units, k) or c.ndim != 4 for c in crops):
        raise ValueError("every layer needs crops of shape (units, k, s, s) with the same units "
                         "and a square k")
    names = [f"layer {i + 1}" for i in range(len(crops))] if names is None else list(names)
    fig, axes = _axes(len(crops), units + 1, cell, title)
    ex = np.asarray(example)
    for row, (c, s, box, name) in enumerate(zip(crops, sizes, boxes, names)):
        ax = axes[row, 0]
        ax.imshow(ex, cmap="gray")
        top, left, bottom, right = box
        ax.add_patch(mpatches.Rectangle((left - 0.5, top - 0.5), right - left, bottom - top,
                                        fill=False, edgecolor="#d62728", linewidth=1.5))
        ax.set_xlim(-0.5, ex.shape[1] - 0.5)
        ax.set_ylim(ex.shape[0] - 0.5, -0.5)
        ax.set_title(f"{name}: {s}×{s}", fontsize=9)
        for u in range(units):
            if scale is None:
                tiles = [(p - p.min()) / (np.ptp(p) or 1.0) for p in c[u]]
            else:
                tiles = [np.clip((p - scale[0]) / (scale[1] - scale[0]), 0, 1) for p in c[u]]
            gap = np.full((s, 1), 0.5)
            rows = [np.hstack(sum(([t, gap] for t in tiles[r * side:(r + 1) * side]), [])[:-1])
                    for r in range(side)]
            mosaic = np.vstack(sum(([r, np.full((1, r.shape[1]), 0.5)] for r in rows), [])[:-1])
            axes[row, u + 1].imshow(mosaic, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    fig.tight_layout()
    return fig
