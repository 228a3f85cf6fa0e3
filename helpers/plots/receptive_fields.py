"""Chapter 5's line plots of receptive fields: how the field grows layer by layer in a network,
the gap between ResNet-50 v1 and v1.5, and the theoretical against the effective field on
log-log axes (with slope guides). Each returns a white Figure (see :mod:`helpers.plots.style`).

    plot_field_by_layer({"VGG-16": receptive_field(vgg.features), ...}, input_size=224)
    plot_version_gap(sizes_v1, sizes_v15)
    plot_effective_growth([2, 4, 8, 16], theory, 2 * sigmas)
"""
from __future__ import annotations

import numpy as np

from helpers.plots.style import finish_axes, light_figure

__all__ = ["field_diagram_1d", "plot_effective_growth", "plot_erf_before_after",
           "plot_field_accuracy", "plot_field_by_layer", "plot_version_gap"]


def _sizes(field) -> list[int]:
    """Field sizes after each layer: a ReceptiveField's rows, or a sequence of ints."""
    rows = getattr(field, "layers", None)
    sizes = [row.size for row in rows] if rows is not None else [int(v) for v in field]
    if not sizes:
        raise ValueError("a curve needs at least one layer")
    return sizes


@light_figure
def plot_field_by_layer(fields: dict, input_size: int | None = None, title: str | None = None,
                        xlabel: str = "layer, from the input"):
    """One line per network: the field size after each layer (x = 1, 2, ...). ``fields`` maps a
    label to a ``ReceptiveField`` (its table rows) or to a list of sizes; a row whose jump grows
    (a downsampling layer) gets a filled marker. ``input_size`` draws the image side."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    if not fields:
        raise ValueError("plot_field_by_layer needs at least one network")
    fig, ax = plt.subplots(figsize=(7.2, 4.2))
    longest = 1
    for label, field in fields.items():
        sizes = _sizes(field)
        xs = np.arange(1, len(sizes) + 1)
        longest = max(longest, len(sizes))
        style = "--" if "v1 " in f"{label} " and "v1.5" not in str(label) else "-"
        (line,) = ax.plot(xs, sizes, style, lw=1.8, label=f"{label}: {sizes[-1]} px")
        rows = getattr(field, "layers", None)
        if rows is not None:
            down = [i for i, row in enumerate(rows) if row.stride > 1]
            ax.plot(xs[down], np.asarray(sizes)[down], "o", ms=5, color=line.get_color())
        ax.annotate(str(sizes[-1]), (xs[-1], sizes[-1]), xytext=(4, 0),
                    textcoords="offset points", va="center", fontsize=9,
                    color=line.get_color())
    if input_size is not None:
        ax.axhline(input_size, color="#555555", lw=1, ls=":")
        ax.text(1, input_size, f" input image: {input_size} px", va="bottom", fontsize=9,
                color="#555555")
    ax.plot([], [], "o", ms=5, color="#555555", label="downsampling layer (stride > 1)")
    ax.set_xlim(0.5, longest + 2.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return finish_axes(ax, xlabel, "receptive field (pixels per side)", legend="upper left",
                       title=title)


@light_figure
def plot_version_gap(sizes_v1, sizes_v15, title: str | None = None):
    """Left: the field after each layer of two layer lists of the same length (ResNet v1 and
    v1.5). Right: their difference, v1 minus v1.5, layer by layer."""
    import matplotlib.pyplot as plt

    a, b = np.asarray(_sizes(sizes_v1)), np.asarray(_sizes(sizes_v15))
    if a.shape != b.shape:
        raise ValueError(f"the two lists have {a.size} and {b.size} layers; they must match")
    xs = np.arange(1, a.size + 1)
    fig, (left, right) = plt.subplots(1, 2, figsize=(8.4, 3.4))
    left.plot(xs, a, "--", lw=1.8, color="#d62728", label=f"v1 (stride on the 1×1): {a[-1]} px")
    left.plot(xs, b, "-", lw=1.8, color="#1f77b4", label=f"v1.5 (stride on the 3×3): {b[-1]} px")
    finish_axes(left, "layer along the main path", "receptive field (pixels)",
                legend="upper left", tight=False)
    gap = a - b
    right.step(xs, gap, where="post", color="#555555", lw=1.8)
    for i in np.flatnonzero(np.diff(np.concatenate([[0], gap]))):
        right.annotate(f"+{gap[i] - (gap[i - 1] if i else 0)}", (xs[i], gap[i]),
                       xytext=(-4, 4), textcoords="offset points", ha="right", fontsize=9)
    right.set_ylim(0, max(1, gap.max()) * 1.15)
    finish_axes(right, "layer along the main path", "v1 field − v1.5 field (pixels)",
                tight=False)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


@light_figure
def plot_effective_growth(depths, theory, effective, title: str | None = None):
    """Theoretical field and effective width against depth on log-log axes, with guide lines of
    slope 1 (grows like depth) and 1/2 (like the square root of depth) through the first
    effective point. Ticks are the depths and powers of two, written as plain numbers."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator, ScalarFormatter

    depths = np.asarray(depths, dtype=float)
    theory, effective = np.asarray(theory, dtype=float), np.asarray(effective, dtype=float)
    if not (depths.size == theory.size == effective.size) or depths.size < 2:
        raise ValueError("depths, theory and effective need the same length, at least 2")
    if (depths <= 0).any() or (theory <= 0).any() or (effective <= 0).any():
        raise ValueError("log-log axes need positive values")
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    ax.plot(depths, theory, "s-", color="#1f77b4", lw=1.8, label="theoretical field 2k + 1")
    ax.plot(depths, effective, "o-", color="#d62728", lw=1.8,
            label="effective width 2σ (measured)")
    span = np.geomspace(depths[0], depths[-1], 50)
    for power, style, text in ((1.0, "--", "slope 1: ∝ depth"),
                               (0.5, ":", "slope ½: ∝ √depth")):
        ax.plot(span, effective[0] * (span / depths[0]) ** power, style, color="#555555",
                lw=1.2, label=f"guide, {text}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    lo = min(theory.min(), effective.min())
    hi = max(theory.max(), effective.max(), effective[0] * depths[-1] / depths[0])
    yticks = [2.0 ** e for e in range(int(np.floor(np.log2(lo))), int(np.ceil(np.log2(hi))) + 1)]
    for axis, ticks in ((ax.xaxis, depths), (ax.yaxis, yticks)):
        axis.set_major_locator(FixedLocator(ticks))
        axis.set_major_formatter(ScalarFormatter())
        axis.set_minor_locator(NullLocator())
        axis.set_minor_formatter(NullFormatter())
    ax.set_ylim(yticks[0] * 0.9, yticks[-1] * 1.1)
    return finish_axes(ax, "depth k (stacked 3×3 layers)", "pixels", grid=0.4,
                       legend="upper left", title=title)


@light_figure
def field_diagram_1d(layers, n_input: int = 16, unit: int | None = None, title: str = ""):
    """A 1-D picture of the receptive-field recurrence, after Araujo et al. (2019): one row of
    units per layer (the input at the bottom), each unit drawn at the centre of its field in
    input coordinates, and the connections from one unit of the top layer down to every unit
    it depends on. ``layers`` is a list of ``(kernel, stride, padding)`` from the input up; on
    the right of each row its field size r, jump j and offset P. Padding positions (outside
    the input) are open circles. ``unit`` picks the top unit (default: the middle one)."""
    import matplotlib.pyplot as plt

    if not layers:
        raise ValueError("layers must hold at least one (kernel, stride, padding)")
    for k, s, p in layers:
        if k < 1 or s < 1 or p < 0:
            raise ValueError(f"bad layer (kernel={k}, stride={s}, padding={p})")
    # geometry: per layer its output length n, field r, jump j, offset P
    rows = [(n_input, 1, 1, 0)]
    for k, s, p in layers:
        n, r, j, P = rows[-1]
        n_out = (n + 2 * p - k) // s + 1
        if n_out < 1:
            raise ValueError(f"{n_input} input pixels are too few for these layers")
        rows.append((n_out, r + (k - 1) * j, j * s, P + p * j))

    def centre(level, i):                # centre of unit i's field, in input pixels
        _, r, j, P = rows[level]
        return i * j - P + (r - 1) / 2

    top = len(rows) - 1
    unit = rows[top][0] // 2 if unit is None else unit
    if not 0 <= unit < rows[top][0]:
        raise ValueError(f"unit must be in [0, {rows[top][0]}), got {unit}")
    used = {top: {unit}}                 # units each layer contributes to the chosen one
    for level in range(top, 0, -1):
        k, s, p = layers[level - 1]
        below = set()
        for i in used[level]:
            below.update(range(i * s - p, i * s - p + k))
        used[level - 1] = below
    fig, ax = plt.subplots(figsize=(7.0, 0.9 * len(rows) + 0.8))
    for level in range(top, 0, -1):
        k, s, p = layers[level - 1]
        for i in used[level]:
            for m in range(i * s - p, i * s - p + k):
                ax.plot([centre(level, i), centre(level - 1, m)], [level, level - 1],
                        color="#d62728", lw=0.9, zorder=1)
    for level, (n, r, j, P) in enumerate(rows):
        xs = [centre(level, i) for i in range(n)]
        ax.scatter(xs, [level] * n, s=30, color="#1f77b4", zorder=2)
        hit = sorted(i for i in used[level] if 0 <= i < n)
        ax.scatter([centre(level, i) for i in hit], [level] * len(hit), s=46, color="#d62728",
                   zorder=3)
        pads = [i for i in used[level] if not 0 <= i < n]
        ax.scatter([centre(level, i) for i in pads], [level] * len(pads), s=40,
                   facecolor="white", edgecolor="#d62728", zorder=3)
        name = "input" if level == 0 else f"layer {level} (k={layers[level - 1][0]}, " \
                                          f"s={layers[level - 1][1]}, p={layers[level - 1][2]})"
        ax.text(-1.6 - rows[-1][3], level, name, ha="right", va="center", fontsize=9)
        ax.text(n_input + 0.6, level, f"r={r}  j={j}  P={P}", ha="left", va="center",
                fontsize=9)
    lo = min(centre(lv, min(used[lv])) for lv in used)
    ax.set_xlim(min(lo, -1) - 9.5, n_input + 5.5)
    ax.set_ylim(-0.6, top + 0.6)
    ax.set_axis_off()
    return finish_axes(ax, title=title, grid=None)


@light_figure
def plot_erf_before_after(before, after, size: int, centre, title: str | None = None,
                          after_label: str = "after training", control=None,
                          control_label: str = "after training on shuffled labels"):
    """The effective receptive field of the same networks at initialisation and after training.

    ``before`` and ``after`` are lists (one per seed) of (H, W) maps of |d unit / d input|;
    ``size`` is the theoretical field's side and ``centre`` (row, column) its centre pixel.
    Top: the mean over seeds of the maps, each map normalised to sum 1, on one colour scale,
    with the theoretical field outlined. Bottom: the column profiles (share of the gradient per
    column), one thin line per seed and the seeds' mean in bold. ``control``, optional, is a
    list of (H, W) maps of the same shape (networks trained otherwise, e.g. on shuffled
    labels): its mean column profile is drawn dashed, labelled ``control_label``."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    maps = {}
    groups = [("at initialisation", before), (after_label, after)]
    if control is not None:
        groups.append((control_label, control))
    for label, group in groups:
        group = [np.abs(np.asarray(g, dtype=np.float64)) for g in group]
        if not group or any(g.ndim != 2 or g.shape != group[0].shape or g.sum() <= 0
                            for g in group):
            raise ValueError("before, after and control must be non-empty lists of non-zero "
                             "(H, W) maps of one shape")
        maps[label] = [g / g.sum() for g in group]
    if len({group[0].shape for group in maps.values()}) != 1:
        raise ValueError("before, after and control maps must have the same shape")
    ci, cj = centre
    r = (size - 1) // 2
    fig = plt.figure(figsize=(5.0, 6.2), layout="constrained")
    grid = fig.add_gridspec(2, 2, height_ratios=[1, 1.1])
    axes = [fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1]), fig.add_subplot(grid[1, :])]
    shown = list(maps.items())[:2]                            # the maps: before and after
    top = max(np.mean(group, axis=0).max() for _, group in shown)
    h, w = next(iter(maps.values()))[0].shape
    rows = slice(max(ci - r - 2, 0), min(ci + r + 3, h))       # the field and 2 pixels around it
    cols = slice(max(cj - r - 2, 0), min(cj + r + 3, w))
    colours = {"at initialisation": "#555555", after_label: "#d62728", control_label: "#2ca02c"}
    for ax, (label, group) in zip(axes[:2], shown):
        image = ax.imshow(np.mean(group, axis=0)[rows, cols], cmap="magma", vmin=0, vmax=top,
                          interpolation="nearest")
        ax.add_patch(Rectangle((cj - r - 0.5 - cols.start, ci - r - 0.5 - rows.start), size,
                               size, fill=False, lw=1.5, edgecolor="#1f77b4"))
        ax.set_title(f"{label}\n(mean of {len(group)} seeds)", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    bar = fig.colorbar(image, ax=axes[:2], fraction=0.046, pad=0.03, shrink=0.9)
    bar.set_label("share of |gradient|\nper pixel", fontsize=9)
    bar.ax.tick_params(labelsize=9)
    right = axes[2]
    for label, group in maps.items():
        profiles = np.array([g.sum(axis=0) for g in group])
        xs = np.arange(profiles.shape[1]) - cj
        if label == control_label and control is not None:
            right.plot(xs, profiles.mean(axis=0), color=colours[label], lw=2.0, ls="--",
                       label=f"{label} (mean)")
            continue
        for p in profiles:
            right.plot(xs, p, color=colours[label], lw=0.8, alpha=0.6)
        right.plot(xs, profiles.mean(axis=0), color=colours[label], lw=2.2, label=label)
    for k, edge in enumerate((-r - 0.5, r + 0.5)):
        right.axvline(edge, color="#1f77b4", ls="--", lw=1,
                      label="theoretical field" if k == 0 else None)
    right.tick_params(labelsize=9)
    low, high = right.get_ylim()
    right.set_ylim(low, high + 0.45 * (high - low))             # room for the legend
    finish_axes(right, "column, relative to the unit", "share of |gradient|", label_size=9,
                legend="upper left", title="column profiles (thin: one seed)", title_size=9,
                tight=False)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


@light_figure
def plot_field_accuracy(fields, accuracies, labels=None, title: str | None = None):
    """Test accuracy against receptive field: ``fields`` one size per arm, ``accuracies`` one
    list of per-seed accuracies (fractions) per arm. Per-seed points, and each arm's mean with
    a bar of one standard deviation; ``labels`` (one per arm) annotate the means."""
    import matplotlib.pyplot as plt

    fields = [float(f) for f in fields]
    accs = [np.asarray(a, dtype=float) for a in accuracies]
    if len(fields) != len(accs) or not fields or any(a.size == 0 for a in accs):
        raise ValueError("one non-empty list of accuracies per field is needed")
    if labels is not None and len(labels) != len(fields):
        raise ValueError("one label per arm")
    fig, ax = plt.subplots(figsize=(4.5, 3.6))
    shift = 0.8                                   # seeds just left of the mean, to be seen
    if len({a.size for a in accs}) == 1:          # the same seeds in every arm: join their runs
        words = {2: "two", 3: "three", 4: "four", 5: "five"}
        joined = f"lines join one seed's {words.get(len(fields), len(fields))} arms"
        for s in range(accs[0].size):
            ax.plot([f - shift for f in fields], [100 * a[s] for a in accs], color="#1f77b4",
                    lw=0.8, alpha=0.4, label=joined if s == 0 else None)
    for k, (f, a) in enumerate(zip(fields, accs)):
        ax.plot([f - shift] * a.size, 100 * a, "o", color="#1f77b4", alpha=0.7, ms=5,
                label="one seed" if k == 0 else None)
        sd = a.std(ddof=1) if a.size > 1 else 0.0
        ax.errorbar([f], [100 * a.mean()], yerr=[100 * sd], fmt="s", color="#d62728", ms=7,
                    capsize=4, lw=1.5, label="mean ± sd" if k == 0 else None)
        if labels is not None:
            ax.annotate(labels[k], (f, 100 * a.mean()), xytext=(8, -3),
                        textcoords="offset points", fontsize=9)
    ax.set_xticks(fields)
    ax.set_xlim(min(fields) - 3, max(fields) + 7)
    return finish_axes(ax, "receptive field of the last convolution (pixels per side)",
                       "test accuracy (%)", legend="lower right", title=title)
