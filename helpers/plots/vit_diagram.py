"""Chapter 9's figures: the ViT pipeline as a diagram, attention maps on one colour scale,
accuracy against data with the spread over seeds, and where attention's cost takes over.

    plot_vit_pipeline(image, grid=4, depth=2)
    plot_attention_maps(images, maps, labels, predictions)
    plot_accuracy_vs_data(sizes, {"CNN": [[acc per seed] per size], ...})
    plot_attention_share(tokens, share, marks={"224 px": 197})
    plot_training_curves(curves, sizes, names)          # validation accuracy per step and seed
    plot_gap_vs_data(sizes, gaps)                       # per-seed gaps, mean ± sd
    plot_position_similarity(similarity)                # ViT Fig. 7 centre
    plot_attention_distance(distances, uniform)         # ViT Fig. 7 right
    plot_attention_overlay(images, maps, labels)        # one column per head
    plot_arms([("400 images", {"patch 7": [...], "patch 4": [...]}), ...])  # per-seed arms
"""
from __future__ import annotations

import numpy as np

from helpers.device import to_numpy
from helpers.plots.style import finish_axes, light_figure

TOKEN, CLASS, POSITION = "#c6dbef", "#fd8d3c", "#a1d99b"


def _box(ax, x, y, w, h, text, colour="#f0f0f0", fontsize=9):
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.08",
                                facecolor=colour, edgecolor="black", linewidth=1))
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=fontsize)


def _arrow(ax, x0, y0, x1, y1):
    ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                arrowprops=dict(arrowstyle="->", linewidth=1.3, color="black"))


def _shared_colorbar(fig, axes, shown, label, title, *, right, top, fraction, pad):
    """Lay a grid of maps out in the left ``right`` of the figure (below ``top`` when there is
    a title), add one colour bar for all of them (labelled, 9 pt) and the title."""
    fig.tight_layout(rect=(0, 0, right, top if title else 1))
    bar = fig.colorbar(shown, ax=axes.ravel().tolist(), fraction=fraction, pad=pad)
    bar.set_label(label, fontsize=9)
    bar.ax.tick_params(labelsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


@light_figure
def plot_vit_pipeline(image=None, grid: int = 4, depth: int = 2, title: str | None = None):
    """The ViT from image to class: a (H, W) ``image`` (a blank square if None) cut into
    ``grid`` x ``grid`` patches, the patch embedding, class token and position embeddings,
    ``depth`` encoder blocks and the head that reads the class token."""
    import matplotlib.pyplot as plt

    if not isinstance(grid, int) or grid < 1:
        raise ValueError(f"grid must be a positive int, got {grid!r}")
    if not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be a positive int, got {depth!r}")
    n = grid * grid
    fig, ax = plt.subplots(figsize=(9.2, 4.0))
    ax.set_xlim(0, 11)
    ax.set_ylim(-0.3, 4.2)
    ax.set_axis_off()
    # 1. the image and its patch grid
    img = np.zeros((grid * 7, grid * 7)) if image is None else to_numpy(image).astype(float)
    if img.ndim != 2:
        raise ValueError(f"image must be (H, W), got shape {img.shape}")
    ax.imshow(img, cmap="gray", extent=(0.1, 1.9, 1.1, 2.9), interpolation="nearest")
    for i in range(grid + 1):
        t = 0.1 + 1.8 * i / grid
        ax.plot([t, t], [1.1, 2.9], color="#d62728", linewidth=1)
        ax.plot([0.1, 1.9], [1.1 + 1.8 * i / grid, 1.1 + 1.8 * i / grid], color="#d62728",
                linewidth=1)
    ax.text(1.0, 0.75, f"image cut into\n{grid}×{grid} = {n} patches", ha="center", va="top",
            fontsize=9)
    _arrow(ax, 2.0, 2.0, 2.4, 2.0)
    # 2. patch embedding
    _box(ax, 2.45, 1.45, 1.35, 1.1, "flatten each\npatch, one\nlinear map\n(conv, stride p)")
    _arrow(ax, 3.85, 2.0, 4.25, 2.0)
    # 3. the token sequence: class token first, each token plus its position embedding
    names = (["class"] + [f"patch {i}" for i in range(1, n + 1)] if n <= 7 else
             ["class"] + [f"patch {i}" for i in range(1, 6)] + ["⋮", f"patch {n}"])
    top, step = 3.75, 3.3 / len(names)
    for i, label in enumerate(names):
        y = top - i * step
        if label == "⋮":
            ax.text(4.675, y, label, ha="center", va="center", fontsize=9)
            continue
        ax.add_patch(plt.Rectangle((4.3, y - 0.13), 0.75, 0.26, facecolor=CLASS if i == 0
                                   else TOKEN, edgecolor="black", linewidth=0.8))
        ax.text(4.675, y, label, ha="center", va="center", fontsize=9)
        ax.text(5.15, y, "+", ha="center", va="center", fontsize=9)
        ax.add_patch(plt.Rectangle((5.25, y - 0.13), 0.45, 0.26, facecolor=POSITION,
                                   edgecolor="black", linewidth=0.8))
        ax.text(5.475, y, "pos", ha="center", va="center", fontsize=9)
    ax.text(5.0, -0.15, f"{n + 1} tokens of width D:\nclass token + {n} patches,\n"
            "plus a learned position each", ha="center", va="bottom", fontsize=9)
    _arrow(ax, 5.8, 2.0, 6.2, 2.0)
    # 4. the encoder blocks
    _box(ax, 6.25, 0.9, 2.1, 2.2, f"encoder block × {depth}\n\nLayerNorm → multi-head\n"
         "self-attention → + \n(tokens mix here only)\n\nLayerNorm → MLP → +\n(each token alone)",
         colour="#fff7bc", fontsize=9)
    _arrow(ax, 8.4, 2.0, 8.8, 2.0)
    # 5. the head reads the class token only
    ax.add_patch(plt.Rectangle((8.85, 1.87), 0.55, 0.26, facecolor=CLASS, edgecolor="black",
                               linewidth=0.8))
    ax.text(9.125, 2.0, "class", ha="center", va="center", fontsize=9)
    ax.text(9.125, 1.6, "class token\nonly", ha="center", va="top", fontsize=9)
    _arrow(ax, 9.45, 2.0, 9.7, 2.0)
    _box(ax, 9.75, 1.55, 1.15, 0.9, "LayerNorm,\nlinear head\n→ class\nscores", fontsize=9)
    return finish_axes(ax, grid=None, title=title, title_size=None)


@light_figure
def plot_attention_maps(images, maps, labels, predictions, title: str | None = None):
    """Images (N, H, W) above attention maps (N, h, w), all maps on one colour scale from 0
    to the largest weight, with a colour bar that marks the uniform weight 1 / (h w)."""
    import matplotlib.pyplot as plt

    imgs, m = to_numpy(images).astype(float), to_numpy(maps).astype(float)
    if imgs.ndim != 3 or m.ndim != 3 or len(imgs) != len(m):
        raise ValueError(f"need images (N, H, W) and maps (N, h, w), got {imgs.shape} and "
                         f"{m.shape}")
    if len(labels) != len(m) or len(predictions) != len(m):
        raise ValueError(f"{len(m)} maps but {len(labels)} labels and {len(predictions)} "
                         "predictions")
    n = len(m)
    uniform = 1 / (m.shape[1] * m.shape[2])
    fig, axes = plt.subplots(2, n, figsize=(1.35 * n + 1.0, 3.6), squeeze=False)
    vmax = float(m.max())
    for i in range(n):
        axes[0, i].imshow(imgs[i], cmap="gray", interpolation="nearest")
        axes[0, i].set_title(str(labels[i]), fontsize=9)
        shown = axes[1, i].imshow(m[i], cmap="viridis", vmin=0, vmax=vmax,
                                  interpolation="nearest")
        axes[1, i].set_title(f"→ {predictions[i]}", fontsize=9)
        for ax in axes[:, i]:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.tight_layout(rect=(0, 0, 0.92, 0.93 if title else 1))
    bar = fig.colorbar(shown, ax=list(axes[1]), fraction=0.025, pad=0.02)
    bar.ax.axhline(uniform, color="white", linewidth=2)
    ticks = sorted({0.0, uniform, vmax})
    bar.set_ticks(ticks, labels=[f"{t:.2f}" if t != uniform else f"1/{round(1 / uniform)} "
                                 "(uniform)" for t in ticks], fontsize=8)
    bar.set_label("attention weight", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


@light_figure
def plot_accuracy_vs_data(sizes, runs: dict, single: dict | None = None,
                          ylabel: str = "test accuracy", title: str | None = None):
    """Mean accuracy against training-set size (log axis) with a bar from the smallest to the
    largest value over seeds: ``runs = {name: [[value per seed] per size]}``. ``single``
    (``{name: [value per size]}``) adds one run per model as open markers. The accuracy axis
    spans the data with a margin; it does not pretend to start at 0."""
    import matplotlib.pyplot as plt

    xs = np.asarray(sizes, dtype=float)
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    values = []
    for i, (name, per_size) in enumerate(runs.items()):
        if len(per_size) != len(xs):
            raise ValueError(f"{name!r}: {len(per_size)} sizes of results for {len(xs)} sizes")
        arr = [np.asarray(v, dtype=float) for v in per_size]
        mean = np.array([a.mean() for a in arr])
        low, high = mean - [a.min() for a in arr], [a.max() for a in arr] - mean
        colour = f"C{i}"
        seeds = min(len(a) for a in arr)
        ax.errorbar(xs, mean, yerr=[low, high], marker="o", capsize=4, color=colour,
                    label=f"{name}: mean, range over {seeds} seeds")
        values += [a for a in arr]
        if single and name in single:
            ax.plot(xs, single[name], linestyle="none", marker="D", markerfacecolor="none",
                    color=colour, markersize=7, label=f"{name}: this page's run")
            values.append(np.asarray(single[name], dtype=float))
    allv = np.concatenate([np.ravel(v) for v in values])
    margin = 0.1 * (allv.max() - allv.min()) + 0.01
    ax.set_ylim(allv.min() - margin, allv.max() + margin)
    ax.set_xscale("log")
    ax.set_xticks(xs, [f"{int(n):,}" for n in xs])
    ax.xaxis.set_minor_formatter("")
    return finish_axes(ax, "training images (log scale)", ylabel, grid=0.4, legend="best",
                       legend_size=8, title=title, title_size=None)


@light_figure
def plot_attention_share(tokens, share, marks: dict | None = None, title: str | None = None):
    """Fraction ``share`` of a block's multiply-adds spent in attention's T x T products
    against the number of tokens (log axis); ``marks = {label: T}`` draws labelled lines."""
    import matplotlib.pyplot as plt

    t, s = np.asarray(tokens, dtype=float), np.asarray(share, dtype=float)
    if t.shape != s.shape or t.size < 2:
        raise ValueError(f"need as many shares as token counts (>= 2), got {t.size} and "
                         f"{s.size}")
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    ax.plot(t, 100 * s, color="C0")
    ax.axhline(50, color="grey", linestyle=":", linewidth=1)
    for label, T in (marks or {}).items():
        y = 100 * float(np.interp(np.log(T), np.log(t), s))
        ax.plot([T], [y], marker="o", color="C3")
        ax.annotate(f"{label}\n{y:.1f} %", (T, y), textcoords="offset points", xytext=(-8, 8),
                    ha="right", fontsize=9)
    ax.set_xscale("log")
    ax.set_ylim(0, 100)
    ax.grid(True, which="both", alpha=0.4)
    return finish_axes(ax, "tokens T (log scale)", "% of the block's multiply-adds", grid=None,
                       title=title, title_size=None)


@light_figure
def plot_training_curves(curves: dict, sizes, names, steps_label: str = "optimizer steps",
                         title: str | None = None):
    """Validation accuracy during training, one panel per training-set size: ``curves[f"{name}
    {size}"] = [[[step, accuracy], ...] per seed]``, one line per seed and model (colour per
    model), so that a reader sees whether each run has stopped improving."""
    import matplotlib.pyplot as plt

    sizes, names = list(sizes), list(names)
    if not sizes or not names:
        raise ValueError("need at least one size and one model")
    fig, axes = plt.subplots(1, len(sizes), figsize=(3.1 * len(sizes) + 0.6, 3.4),
                             squeeze=False, sharey=True)
    for ax, n in zip(axes[0], sizes):
        for i, name in enumerate(names):
            key = f"{name} {n}"
            if key not in curves:
                raise ValueError(f"no curves for {key!r}")
            for j, run in enumerate(curves[key]):
                run = np.asarray(run, dtype=float)
                ax.plot(run[:, 0], run[:, 1], color=f"C{i}", alpha=0.8, linewidth=1.3,
                        marker="o", markersize=2.5, label=name if j == 0 else None)
        ax.set_title(f"{n:,} training images", fontsize=10)
        ax.set_xlabel(steps_label, fontsize=9)
        ax.tick_params(labelsize=9)
        ax.grid(True, alpha=0.4)
    axes[0, 0].set_ylabel("validation accuracy", fontsize=9)
    for ax in axes[0]:
        ax.legend(fontsize=9, loc="lower right")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


@light_figure
def plot_gap_vs_data(sizes, gaps, ylabel: str = "CNN minus ViT (points)",
                     title: str | None = None):
    """Per-seed values (points) and their mean ± sd (bar) against training-set size (log axis):
    ``gaps = [[value per seed] per size]``, e.g. the accuracy gap in percentage points."""
    import matplotlib.pyplot as plt

    xs = np.asarray(sizes, dtype=float)
    if len(gaps) != len(xs):
        raise ValueError(f"{len(gaps)} sizes of values for {len(xs)} sizes")
    fig, ax = plt.subplots(figsize=(5.6, 3.4))
    for x, g in zip(xs, gaps):
        g = np.asarray(g, dtype=float)
        ax.plot(np.full(g.size, x), g, linestyle="none", marker="o", color="C0", alpha=0.6)
        ax.errorbar([x], [g.mean()], yerr=[g.std(ddof=1) if g.size > 1 else 0], marker="_",
                    markersize=18, capsize=5, color="C3")
    ax.plot(xs, [np.mean(g) for g in gaps], color="C3", linewidth=1,
            label="mean ± sd over seeds")
    ax.plot([], [], linestyle="none", marker="o", color="C0", alpha=0.6, label="one seed")
    ax.axhline(0, color="grey", linewidth=1)
    ax.set_xscale("log")
    ax.set_xticks(xs, [f"{int(n):,}" for n in xs])
    ax.xaxis.set_minor_formatter("")
    ax.tick_params(labelsize=9)
    return finish_axes(ax, "training images (log scale)", ylabel, label_size=9, grid=0.4,
                       legend="best", title=title)


@light_figure
def plot_position_similarity(similarity, title: str | None = None):
    """The ViT paper's Fig. 7 (centre): for each patch of a g x g grid, the cosine similarity
    of its position embedding with every patch's, drawn as a small g x g map at the patch's
    place. ``similarity`` is (T, T) with T = g²."""
    import matplotlib.pyplot as plt

    s = to_numpy(similarity).astype(float)
    g = int(round(np.sqrt(s.shape[0])))
    if s.ndim != 2 or s.shape[0] != s.shape[1] or g * g != s.shape[0]:
        raise ValueError(f"need a (g², g²) similarity matrix, got {s.shape}")
    fig, axes = plt.subplots(g, g, figsize=(4.6, 4.4), squeeze=False)
    for i in range(g * g):
        ax = axes[i // g, i % g]
        shown = ax.imshow(s[i].reshape(g, g), cmap="viridis", vmin=-1, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
    for r in range(g):
        axes[r, 0].set_ylabel(f"row {r + 1}", fontsize=9)
        axes[g - 1, r].set_xlabel(f"col {r + 1}", fontsize=9)
    return _shared_colorbar(fig, axes, shown, "cosine similarity", title, right=0.86,
                            top=0.93, fraction=0.04, pad=0.03)


@light_figure
def plot_attention_distance(distances, uniform: float | None = None,
                            title: str | None = None):
    """The ViT paper's Fig. 7 (right): mean attention distance of every head against the
    block's depth. ``distances = [[[pixels per head] per block] per seed]``; each head of each
    seed is a point (seeds side by side), ``uniform`` a dashed line (attention spread evenly)."""
    import matplotlib.pyplot as plt

    d = np.asarray(distances, dtype=float)
    if d.ndim != 3:
        raise ValueError(f"need [[[pixels per head] per block] per seed], got shape {d.shape}")
    seeds, blocks, heads = d.shape
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    for s in range(seeds):
        offset = (s - (seeds - 1) / 2) * 0.12
        for b in range(blocks):
            ax.plot(np.full(heads, b + 1 + offset), d[s, b], linestyle="none", marker="o",
                    color=f"C{s}", alpha=0.8, label=f"seed {s}, one point per head"
                    if b == 0 else None)
    if uniform is not None:
        ax.axhline(uniform, color="grey", linestyle="--", linewidth=1,
                   label="attention spread evenly")
    ax.set_xticks(range(1, blocks + 1))
    ax.set_xlim(0.5, blocks + 0.5)
    ax.set_ylim(0, None)
    ax.tick_params(labelsize=9)
    return finish_axes(ax, "block (depth)", "mean attention distance (pixels)", label_size=9,
                       grid=0.4, legend="lower right", title=title)


@light_figure
def plot_attention_overlay(images, maps, labels, columns=None, title: str | None = None):
    """Each image (N, H, W) in grey with one head's attention map (N, heads, g, g) laid over
    it, upsampled to the image's pixels, one column per head (titled by ``columns``, default
    "head 1", ...): where that head's class token reads from. Every map shares one colour
    scale from 0 to the largest weight."""
    import matplotlib.pyplot as plt

    imgs, m = to_numpy(images).astype(float), to_numpy(maps).astype(float)
    if imgs.ndim != 3 or m.ndim != 4 or len(imgs) != len(m):
        raise ValueError(f"need images (N, H, W) and maps (N, heads, g, g), got {imgs.shape} "
                         f"and {m.shape}")
    if len(labels) != len(m):
        raise ValueError(f"{len(m)} maps but {len(labels)} labels")
    n, heads = m.shape[:2]
    fig, axes = plt.subplots(n, heads + 1, figsize=(0.8 * (heads + 1) + 1.0, 0.9 * n + 1.1),
                             squeeze=False)
    vmax = float(m.max())
    h, w = imgs.shape[1:]
    for i in range(n):
        axes[i, 0].imshow(imgs[i], cmap="gray", interpolation="nearest")
        axes[i, 0].set_ylabel(str(labels[i]), fontsize=9)
        for j in range(heads):
            ax = axes[i, j + 1]
            ax.imshow(imgs[i], cmap="gray", interpolation="nearest")
            shown = ax.imshow(m[i, j], cmap="inferno", vmin=0, vmax=vmax, alpha=0.6,
                              interpolation="nearest", extent=(-0.5, w - 0.5, h - 0.5, -0.5))
        for ax in axes[i]:
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_title("image", fontsize=9)
    if columns is not None and len(columns) != heads:
        raise ValueError(f"{heads} maps per image but {len(columns)} column titles")
    for j in range(heads):
        axes[0, j + 1].set_title(columns[j] if columns else f"head {j + 1}", fontsize=9)
    return _shared_colorbar(fig, axes, shown, "attention weight", title, right=0.88, top=0.95,
                            fraction=0.03, pad=0.02)


@light_figure
def plot_arms(panels, ylabel: str = "test accuracy (%)", title: str | None = None,
              stacked: bool = False):
    """One panel per experiment, side by side: ``panels = [(panel title, {arm: [value per
    seed]}), ...]``; each arm's seeds as points and their mean ± sd as a bar, arms along the x
    axis in the order given (labels may hold a line break). ``stacked`` puts the panels one
    above the other in a figure 3.6 in wide (narrower than a phone's screen, so 9 pt stays
    9 pt there), each with its own y label."""
    import matplotlib.pyplot as plt

    if not panels:
        raise ValueError("no panels")
    widths = [max(1, len(arms)) for _, arms in panels]
    if stacked:
        fig, axes = plt.subplots(len(panels), 1, figsize=(3.6, 0.5 + 2.7 * len(panels)),
                                 squeeze=False)
        axes = axes.T
    else:
        fig, axes = plt.subplots(1, len(panels), figsize=(1.4 + 1.1 * sum(widths), 3.8),
                                 gridspec_kw={"width_ratios": widths}, squeeze=False)
    for ax, (name, arms) in zip(axes[0], panels):
        if not arms:
            raise ValueError(f"panel {name!r} has no arms")
        for i, values in enumerate(arms.values()):
            v = np.asarray(values, dtype=float)
            ax.plot(np.full(v.size, i), v, linestyle="none", marker="o", color="C0", alpha=0.6,
                    label="one seed" if i == 0 else None)
            ax.errorbar([i], [v.mean()], yerr=[v.std(ddof=1) if v.size > 1 else 0], marker="_",
                        markersize=18, capsize=5, color="C3",
                        label="mean ± sd" if i == 0 else None)
        ax.set_xticks(range(len(arms)), list(arms), fontsize=9)
        ax.set_xlim(-0.6, len(arms) - 0.4)
        ax.set_title(name, fontsize=10)
        ax.tick_params(labelsize=9)
        ax.grid(True, axis="y", alpha=0.4)
    for ax in axes[0] if stacked else axes[0][:1]:
        ax.set_ylabel(ylabel, fontsize=9)
    axes[0][0].legend(fontsize=9, loc="best" if stacked else "lower left")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
