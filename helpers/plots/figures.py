"""Figures for the chapters: image grids, filters, feature maps, training curves, receptive
fields and plain line plots.

Every function returns a matplotlib ``Figure``, takes an optional ``title`` and never calls
``plt.show()``. The figure is closed in pyplot before it is returned, so a notebook shows it
exactly once -- when it is the value of the cell (``image_grid(x)``, or ``fig`` on its own
line); in a script use ``fig.savefig(...)``. Figures draw black on white whatever the
matplotlib style or the notebook theme, so they stay readable on dark pages.
"""
from __future__ import annotations

import math

import numpy as np

from helpers.device import to_numpy
from helpers.plots.style import RF_COLOURS, light_figure


def _as_image_stack(images) -> np.ndarray:
    """(N, H, W), (N, 1|3, H, W) or (N, H, W, 1|3) -> (N, H, W) or (N, H, W, 3)."""
    a = to_numpy(images)
    if a.ndim == 4 and a.shape[1] in (1, 3) and a.shape[-1] not in (1, 3):
        a = a.transpose(0, 2, 3, 1)
    if a.ndim == 4 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim not in (3, 4) or (a.ndim == 4 and a.shape[-1] != 3):
        raise ValueError("images must be (N, H, W), (N, C, H, W) or (N, H, W, C) with C in "
                         f"(1, 3), got shape {to_numpy(images).shape}")
    return a


# Curves differ by line style and marker as well as by colour, so they can be told apart in
# greyscale print and by colour-blind readers.
LINESTYLES = ("-", "--", "-.", ":")
MARKERS = ("o", "s", "^", "D", "v", "P", "X")
# Extra space between rows of a grid whose images carry titles (in font sizes): tight_layout
# alone lets a title touch the image above it.
ROW_GAP = 1.6


def series_style(i: int, marker: str | None = "o") -> dict:
    """Line kwargs of the ``i``-th curve of a plot: a line style and (unless ``marker`` is
    None, or a marker other than the default ``"o"`` was asked for) a marker of its own."""
    style = {"linestyle": LINESTYLES[i % len(LINESTYLES)]}
    if marker is not None:
        style["marker"] = MARKERS[i % len(MARKERS)] if marker == "o" else marker
    return style


def _grid(n: int, ncols: int, cell: float = 1.2, title=None):
    import matplotlib.pyplot as plt

    if n < 1:
        raise ValueError("nothing to show: got 0 images")
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, squeeze=False,
                             figsize=(cell * ncols, cell * nrows + 0.4 * bool(title)))
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_axis_off()
    if title:
        fig.suptitle(title)
    return fig, axes.ravel()


def _show(ax, img, **kw):
    if img.ndim == 3:  # RGB: scale to [0, 1] for imshow
        lo, hi = float(img.min()), float(img.max())
        img = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img, dtype=float)
        ax.imshow(img, interpolation="nearest")
    else:
        ax.imshow(img, interpolation="nearest", **kw)
    ax.set_axis_on()
    for spine in ax.spines.values():
        spine.set_visible(False)


@light_figure
def image_grid(images, labels=None, ncols: int = 8, class_names=None, cmap: str = "gray",
               title: str | None = None, vmin=None, vmax=None, cell: float = 1.2):
    """Images (N, H, W), (N, C, H, W) or (N, H, W, C) in a grid, each titled by its label
    (mapped through ``class_names`` if given). Grey images share the colour range
    ``vmin``..``vmax`` when given (else each is scaled to its own); ``cell``: inches per image."""
    stack = _as_image_stack(images)
    if labels is not None and len(labels) != len(stack):
        raise ValueError(f"{len(stack)} images but {len(labels)} labels")
    fig, axes = _grid(len(stack), ncols, cell=cell, title=title)
    for i, (ax, img) in enumerate(zip(axes, stack)):
        _show(ax, img, cmap=cmap, vmin=vmin, vmax=vmax)
        if labels is not None:
            label = labels[i]
            label = label.item() if hasattr(label, "item") else label
            ax.set_title(str(class_names[label] if class_names is not None else label),
                         fontsize=9)
    fig.tight_layout(h_pad=ROW_GAP if labels is not None else None)
    return fig


@light_figure
def show_filters(weight, ncols: int = 8, channel: int | None = None, title: str | None = None):
    """First-layer filters (K, C, kh, kw): colour when C = 3, else input channel ``channel``
    (default 0) in a diverging map centred on zero (red positive, blue negative)."""
    w = to_numpy(weight)
    if w.ndim != 4:
        raise ValueError(f"filters must be (K, C, kh, kw), got shape {w.shape}")
    rgb = w.shape[1] == 3 and channel is None
    c = 0 if channel is None else channel
    if not 0 <= c < w.shape[1]:
        raise ValueError(f"channel={channel} but the filters have {w.shape[1]} input channels")
    fig, axes = _grid(w.shape[0], ncols, cell=0.9, title=title)
    limit = float(np.abs(w[:, c]).max()) or 1.0
    for ax, f in zip(axes, w):
        if rgb:
            _show(ax, f.transpose(1, 2, 0))
        else:
            _show(ax, f[c], cmap="RdBu_r", vmin=-limit, vmax=limit)
    fig.tight_layout()
    return fig


def map_stack(maps, name: str = "feature maps", channels: str = "C") -> np.ndarray:
    """Maps (C, H, W) or (1, C, H, W) -> a NumPy (C, H, W); a ValueError names ``name``
    and writes the channel axis as ``channels``."""
    a = to_numpy(maps)
    if a.ndim == 4 and a.shape[0] == 1:
        a = a[0]
    if a.ndim != 3:
        raise ValueError(f"{name} must be ({channels}, H, W) or (1, {channels}, H, W), got "
                         f"shape {to_numpy(maps).shape}")
    return a


@light_figure
def show_feature_maps(fmap, max_maps: int = 16, ncols: int = 8, cmap: str = "viridis",
                      title: str | None = None):
    """The first ``max_maps`` channels of a feature map (C, H, W) or (1, C, H, W), each with
    its own colour scale."""
    a = map_stack(fmap)[:max_maps]
    fig, axes = _grid(len(a), ncols, title=title)
    for i, (ax, m) in enumerate(zip(axes, a)):
        _show(ax, m, cmap=cmap)
        ax.set_title(f"{i}", fontsize=9)
    fig.tight_layout(h_pad=ROW_GAP)
    return fig


STEP_METRICS = ("step_loss", "step_error")
EPOCH_METRICS = ("train_loss", "train_acc", "val_loss", "val_acc")


@light_figure
def plot_history(histories, metric: str = "train_loss", smooth: int = 1, logy: bool = False,
                 title: str | None = None):
    """Training curves of several runs ``{label: History}`` (or one History): an epoch metric
    (``train_loss``, ``train_acc``, ``val_loss``, ``val_acc``) against epochs, or a step metric
    (``step_loss``, ``step_error``) against steps, averaged over ``smooth`` steps."""
    import matplotlib.pyplot as plt

    if metric not in STEP_METRICS + EPOCH_METRICS:
        raise ValueError(f"metric={metric!r}: choose one of {STEP_METRICS + EPOCH_METRICS}")
    if not isinstance(histories, dict):
        histories = {"": histories}
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for i, (label, h) in enumerate(histories.items()):
        ys = np.asarray(getattr(h, metric), dtype=float)
        if metric in STEP_METRICS and smooth > 1 and len(ys) >= smooth:
            ys = np.convolve(ys, np.ones(smooth) / smooth, mode="valid")
            xs = np.arange(smooth, smooth + len(ys))
        else:
            xs = np.arange(1, len(ys) + 1)
        ax.plot(xs, ys, label=label or None,
                **series_style(i, "o" if metric in EPOCH_METRICS else None))
    ax.set_xlabel("step" if metric in STEP_METRICS else "epoch")
    ax.set_ylabel(metric.replace("_", " "))
    if logy:
        ax.set_yscale("log")
    ax.grid(True, alpha=0.4)
    if any(histories):
        ax.legend()
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


@light_figure
def plot_receptive_field(image, center, sizes, labels=None, cmap: str = "gray",
                         title: str | None = None):
    """``image`` (H, W) or (H, W, 3) with a square of side ``s`` centred on ``center``
    (row, col) for each ``s`` in ``sizes``; squares are clipped by the image border."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    img = to_numpy(image)
    if img.ndim == 3 and img.shape[0] in (1, 3) and img.shape[-1] not in (1, 3):
        img = img.transpose(1, 2, 0)
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    if img.ndim not in (2, 3):
        raise ValueError(f"image must be (H, W) or (H, W, C), got shape {img.shape}")
    sizes = [sizes] if np.isscalar(sizes) else list(sizes)
    labels = [f"{s}×{s}" for s in sizes] if labels is None else list(labels)
    if len(labels) != len(sizes):
        raise ValueError(f"{len(sizes)} sizes but {len(labels)} labels")
    r, c = center
    h, w = img.shape[:2]
    if not (0 <= r < h and 0 <= c < w):
        raise ValueError(f"center {center} lies outside the {h}x{w} image")
    fig, ax = plt.subplots(figsize=(5, 5 * h / w))
    _show(ax, img, cmap=cmap)
    ax.set_xticks([])
    ax.set_yticks([])
    for i, (s, label) in enumerate(zip(sizes, labels)):
        # pixel j covers [j - 0.5, j + 0.5]: the square covers pixels c - s // 2 ... and is
        # cut at the image border, its outline drawn whole (not clipped by the axes)
        top, left = max(r - s // 2 - 0.5, -0.5), max(c - s // 2 - 0.5, -0.5)
        bottom, right = min(r - s // 2 - 0.5 + s, h - 0.5), min(c - s // 2 - 0.5 + s, w - 0.5)
        ax.add_patch(Rectangle((left, top), right - left, bottom - top, fill=False,
                               linewidth=2, edgecolor=RF_COLOURS[i % len(RF_COLOURS)],
                               label=label, clip_on=False))
    ax.plot([c], [r], marker="+", color="#d62728", markersize=10)
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    ax.legend(loc="upper right", fontsize=9, framealpha=0.9)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


@light_figure
def plot_curve(xs, ys_dict, xlabel: str = "", ylabel: str = "", logx: bool = False,
               logy: bool = False, marker: str | None = "o", title: str | None = None,
               xticks=None, styles: dict | None = None, legend_outside: bool = False):
    """Lines ``{label: ys}`` against the shared ``xs``; with ``xs=None`` each value is its
    own ``(xs, ys)`` pair.

    ``xticks``: tick positions for the x axis (e.g. the integer shifts); ``styles``:
    ``{label: matplotlib line kwargs}`` for single curves (a dashed line, another marker);
    ``legend_outside``: put the legend right of the axes, where it hides no curve.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator, NullLocator

    curves = {}
    for label, ys in ys_dict.items():
        x, y = ys if xs is None else (xs, ys)
        x, y = to_numpy(x), to_numpy(y)
        if len(x) != len(y):
            raise ValueError(f"curve {label!r}: {len(x)} x values but {len(y)} y values")
        curves[label] = (x, y)
    styles = styles or {}
    unknown = set(styles) - set(ys_dict)
    if unknown:
        raise ValueError(f"styles given for curves that are not plotted: {sorted(unknown)}")
    fig, ax = plt.subplots(figsize=(8.6 if legend_outside else 6, 3.6))
    for i, (label, (x, y)) in enumerate(curves.items()):
        ax.plot(x, y, **{**series_style(i, marker), "label": str(label), **styles.get(label, {})})
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    if xticks is not None:  # plain numbers, also on a log axis (no 2×10³, no minor ticks)
        ax.set_xticks(list(xticks), [f"{t:g}" for t in xticks])
        ax.xaxis.set_minor_locator(NullLocator())
    elif not logx and all(np.all(np.equal(np.mod(x, 1), 0)) for x, _ in curves.values()):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs, layers: no 1.5
    ax.grid(True, which="both", alpha=0.4)
    if len(ys_dict) > 1 or any(str(k) for k in ys_dict):
        if legend_outside:
            ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
        else:
            ax.legend()
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
