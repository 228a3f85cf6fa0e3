"""Chapter 2's diagrams of a convolution, drawn cell by cell so that every number can be checked.

    im2col_figure(x, w)                 the patch matrix of a small example, times the kernel
    multichannel_figure(x, w)           one C×k×k filter over a C-channel input: one map
    full_correlation_figure(g, w)       dx: the output gradient, padded, against the flipped kernel
    padding_modes_figure(image, kernel) an edge filter at the border of a photo, per padding mode

Each returns a white matplotlib ``Figure`` (see :func:`helpers.plots.style.light_figure`).
The numbers come from :mod:`helpers.layers`, never from the drawing code.
"""
from __future__ import annotations

import numpy as np

from helpers.filters import PADDING_MODES
from helpers.plots.animation import DONE_COLOUR, PAD_COLOUR, WINDOW_COLOUR, _draw_grid
from helpers.plots.style import light_figure

__all__ = ["full_correlation_figure", "im2col_figure", "multichannel_figure",
           "padding_modes_figure"]

SECOND_COLOUR = "#2ca02c"
KERNEL_COLOUR = "#fff5eb"
WHITE = "#ffffff"


def _ints(a, name: str, ndim: int) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {a.shape}")
    if not np.array_equal(a, np.rint(a)):
        raise ValueError(f"{name} must hold whole numbers (they are printed in the cells)")
    return np.rint(a).astype(int)


def _text(a) -> list[list[str]]:
    return [[str(v) for v in row] for row in np.atleast_2d(a)]


def _fill(shape, colour=WHITE) -> list[list[str]]:
    return [[colour] * shape[1] for _ in range(shape[0])]


def _window(ax, top: int, left: int, h: int, w: int, colour: str) -> None:
    from matplotlib.patches import Rectangle

    ax.add_patch(Rectangle((left, top), w, h, fill=False, edgecolor=colour, linewidth=2.5))


def _sign(ax, text: str, fontsize: int = 16) -> None:
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=fontsize)


def _correlate(x, w, padding: int = 0) -> np.ndarray:
    from helpers.layers import conv2d_naive

    out = conv2d_naive(np.asarray(x, np.float64)[None, None], np.asarray(w, np.float64)[None, None],
                       padding=padding)
    return np.rint(out[0, 0]).astype(int)


def im2col_figure(x, w, rows=(0, 4), dpi: int = 100):
    """The patch matrix of a one-channel example: x (H, W), w (k, k), whole numbers, no padding.

    Panels: x with the windows of two chosen output pixels (``rows``, row-major indices),
    the patch matrix (one row per output pixel, H'·W' × k²) with those rows marked, the kernel
    flattened into a column, their product, and the product reshaped into the H' × W' output.
    """
    import matplotlib.pyplot as plt
    import torch

    from helpers.layers import im2col

    x, w = _ints(x, "x", 2), _ints(w, "w", 2)
    k = w.shape[0]
    cols = im2col(torch.from_numpy(x.astype(np.float64))[None, None], w.shape)[0]
    cols = np.rint(cols.numpy()).astype(int)                      # (H' W', k²)
    oh, ow = x.shape[0] - k + 1, x.shape[1] - k + 1
    y_col = cols @ w.reshape(-1)
    if not np.array_equal(y_col.reshape(oh, ow), _correlate(x, w)):
        raise AssertionError("patch matrix times kernel differs from the convolution")
    marks = [r for r in rows if 0 <= r < oh * ow]
    colour_of = dict(zip(marks, (WINDOW_COLOUR, SECOND_COLOUR)))
    height = cols.shape[0]

    @light_figure
    def draw():
        fig, axes = plt.subplots(
            1, 8, figsize=(12.5, 5.4), dpi=dpi,
            gridspec_kw={"width_ratios": [x.shape[1], 0.8, cols.shape[1], 0.6, 1, 0.6, 1,
                                          ow]})
        ax_x, arrow, ax_cols, times, ax_w, equals, ax_y, ax_out = axes
        _draw_grid(ax_x, x.shape[1], _fill(x.shape), _text(x), f"x ({x.shape[0]}×{x.shape[1]})",
                   rows=x.shape[0], fontsize=11, height=height)
        row_colours = _fill(cols.shape)
        for r, colour in colour_of.items():
            i, j = divmod(r, ow)
            _window(ax_x, i, j, k, k, colour)
            row_colours[r] = [colour + "40"] * cols.shape[1]
        _sign(arrow, "→")
        _draw_grid(ax_cols, cols.shape[1], row_colours, _text(cols),
                   f"patch matrix ({cols.shape[0]}×{cols.shape[1]}): one row per output pixel",
                   rows=cols.shape[0], fontsize=11, height=height)
        for r in range(cols.shape[0]):
            ax_cols.text(-0.2, r + 0.5, f"({r // ow},{r % ow})", ha="right", va="center",
                         fontsize=9, color=colour_of.get(r, "#555555"))
        _sign(times, "×")
        _draw_grid(ax_w, 1, _fill((k * k, 1), KERNEL_COLOUR), _text(w.reshape(-1, 1)),
                   "w", rows=k * k, fontsize=11, height=height)
        _sign(equals, "=")
        y_colours = _fill((height, 1))
        for r, colour in colour_of.items():
            y_colours[r] = [colour + "40"]
        _draw_grid(ax_y, 1, y_colours, _text(y_col.reshape(-1, 1)), "y", rows=height,
                   fontsize=11, height=height)
        out_colours = _fill((oh, ow), DONE_COLOUR)
        for r, colour in colour_of.items():
            out_colours[r // ow][r % ow] = colour + "40"
        _draw_grid(ax_out, ow, out_colours, _text(y_col.reshape(oh, ow)),
                   f"reshaped: y ({oh}×{ow})", rows=oh, fontsize=11, height=height)
        fig.tight_layout()
        return fig

    return draw()


def multichannel_figure(x, w, b=None, filter_index: int = 0, position=(0, 0), dpi: int = 100):
    """One filter over a multi-channel input: x (C, H, W), w (K, C, k, k), whole numbers.

    One row per input channel c: x[c] with the window of output pixel ``position``, the slice
    w[f, c] of filter f = ``filter_index``, and the sum of their products; on the right, the
    whole output map y[f] (stride 1, no padding), the chosen pixel marked: the sum of the
    rows, plus the bias b[f].
    """
    import matplotlib.pyplot as plt

    x, w = _ints(x, "x", 3), _ints(w, "w", 4)
    channels, k = x.shape[0], w.shape[2]
    if w.shape[1] != channels:
        raise ValueError(f"w {w.shape} expects {w.shape[1]} channels, x has {channels}")
    f = int(filter_index)
    if not 0 <= f < w.shape[0]:
        raise ValueError(f"filter_index must be in [0, {w.shape[0]}), got {filter_index!r}")
    bias = 0 if b is None else int(np.rint(np.asarray(b)[f]))
    y = sum(_correlate(x[c], w[f, c]) for c in range(channels)) + bias
    i, j = position
    if not (0 <= i < y.shape[0] and 0 <= j < y.shape[1]):
        raise ValueError(f"position must lie in the {y.shape} output, got {position!r}")
    partial = [int((x[c, i:i + k, j:j + k] * w[f, c]).sum()) for c in range(channels)]
    height = max(x.shape[1], k)

    @light_figure
    def draw():
        fig = plt.figure(figsize=(11, 2.3 * channels + 0.4), dpi=dpi)
        grid = fig.add_gridspec(channels, 6, width_ratios=[x.shape[2], 0.6, k, 2.6, 0.5,
                                                           y.shape[1] + 1])
        for c in range(channels):
            ax_x = fig.add_subplot(grid[c, 0])
            _draw_grid(ax_x, x.shape[2], _fill(x.shape[1:]), _text(x[c]), f"input channel {c}",
                       rows=x.shape[1], fontsize=12, height=height)
            _window(ax_x, i, j, k, k, WINDOW_COLOUR)
            _sign(fig.add_subplot(grid[c, 1]), "⊙")
            _draw_grid(fig.add_subplot(grid[c, 2]), k, _fill((k, k), KERNEL_COLOUR),
                       _text(w[f, c]), f"w[{f}, {c}]", fontsize=12, height=height)
            _sign(fig.add_subplot(grid[c, 3]), f"sum of products\n= {partial[c]}", fontsize=12)
        _sign(fig.add_subplot(grid[:, 4]), "→")
        ax_y = fig.add_subplot(grid[:, 5])
        colours = _fill(y.shape, DONE_COLOUR)
        colours[i][j] = WINDOW_COLOUR + "60"
        terms = " + ".join(str(v) for v in partial) + (f" + {bias}" if b is not None else "")
        _draw_grid(ax_y, y.shape[1], colours, _text(y),
                   f"output map y[{f}]\ny[{f}, {i}, {j}] = {terms} = {y[i, j]}",
                   rows=y.shape[0], fontsize=12)
        fig.tight_layout()
        return fig

    return draw()


def full_correlation_figure(g, w, position=(0, 0), dpi: int = 100):
    """dx of a stride-1, unpadded convolution as a full correlation: g (m, m), w (k, k), ints.

    Panels: g with k − 1 rows and columns of zeros on every side (grey) and the window of
    input pixel ``position``; w flipped up-down and left-right; dx ((m + k − 1)²), the chosen
    pixel marked.
    """
    import matplotlib.pyplot as plt

    g, w = _ints(g, "g", 2), _ints(w, "w", 2)
    k = w.shape[0]
    padded = np.pad(g, k - 1)
    flipped = w[::-1, ::-1]
    dx = _correlate(g, flipped, padding=k - 1)
    a, b = position
    if not (0 <= a < dx.shape[0] and 0 <= b < dx.shape[1]):
        raise ValueError(f"position must lie in the {dx.shape} input, got {position!r}")
    inside = np.pad(np.ones_like(g, dtype=bool), k - 1)
    colours = [[WHITE if inside[r, c] else PAD_COLOUR for c in range(padded.shape[1])]
               for r in range(padded.shape[0])]
    height = padded.shape[0]

    @light_figure
    def draw():
        fig, axes = plt.subplots(1, 5, figsize=(11, 3.8), dpi=dpi, gridspec_kw={
            "width_ratios": [padded.shape[1], 0.6, k + 0.4, 0.6, dx.shape[1]]})
        ax_g, times, ax_f, equals, ax_dx = axes
        _draw_grid(ax_g, padded.shape[1], colours, _text(padded),
                   f"g = dL/dy, padded by k − 1 = {k - 1}", rows=padded.shape[0], fontsize=11,
                   height=height)
        _window(ax_g, a, b, k, k, WINDOW_COLOUR)
        _sign(times, "⊙")
        _draw_grid(ax_f, k, _fill((k, k), KERNEL_COLOUR), _text(flipped),
                   "w flipped: rows and\ncolumns reversed", fontsize=11, height=height)
        _sign(equals, "=")
        colours_dx = _fill(dx.shape, DONE_COLOUR)
        colours_dx[a][b] = WINDOW_COLOUR + "60"
        _draw_grid(ax_dx, dx.shape[1], colours_dx, _text(dx),
                   f"dx = dL/dx: dx[{a}, {b}] = {dx[a, b]}", rows=dx.shape[0], fontsize=11,
                   height=height)
        fig.tight_layout()
        return fig

    return draw()


def padding_modes_figure(image, kernel, modes=PADDING_MODES, crop: int = 20, profile: int = 12,
                         dpi: int = 90):
    """An edge filter near the left border of a photo, once per padding mode.

    Top row: |response| in the top-left ``crop × crop`` pixels, one panel per mode, on one
    colour scale set by the columns away from the border (brighter values saturate). Bottom:
    mean |response| of each of the first ``profile`` columns, per mode, the columns whose window
    reaches into the padding shaded, and the mean over the whole photo's interior for
    comparison (a strip near the border can be calmer or busier than the photo as a whole).
    Responses come from :func:`helpers.filters.apply_filter`.
    """
    import matplotlib.pyplot as plt

    from helpers.filters import apply_filter

    image = np.asarray(image)
    responses = {m: np.abs(apply_filter(image, kernel, padding_mode=m)) for m in modes}
    r = np.asarray(kernel).shape[0] // 2
    interior = float(np.mean([resp[:, r:-r].mean() for resp in responses.values()]))
    # one colour scale from the pixels away from the border, so that the photo's own edges
    # show and a border artefact saturates
    limit = float(np.percentile(np.concatenate([v[:crop, r:crop].ravel()
                                                for v in responses.values()]), 99)) or 1.0

    @light_figure
    def draw():
        fig = plt.figure(figsize=(11, 5.6), dpi=dpi)
        grid = fig.add_gridspec(2, len(modes), height_ratios=[1.1, 1])
        for n, mode in enumerate(modes):
            ax = fig.add_subplot(grid[0, n])
            ax.imshow(responses[mode][:crop, :crop], cmap="magma", vmin=0, vmax=limit,
                      interpolation="nearest")
            ax.set_title(f"padding: {mode}", fontsize=11)
            ax.set_xticks([])
            ax.set_yticks([])
        ax = fig.add_subplot(grid[1, :])
        columns = np.arange(profile)
        for mode, marker in zip(modes, "osD^v"):
            ax.plot(columns, responses[mode][:, :profile].mean(axis=0), marker=marker,
                    label=mode)
        ax.axvspan(-0.5, r - 0.5, color="#999999", alpha=0.2, linewidth=0,
                   label="window reaches into the padding")
        ax.axhline(interior, color="#555555", linestyle="--", linewidth=1,
                   label="mean over the whole photo's interior")
        ax.set_xlabel("column (0 = the photo's left border)")
        ax.set_ylabel("mean |response| over the column")
        ax.legend(fontsize=9, ncol=3)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        return fig

    return draw()
