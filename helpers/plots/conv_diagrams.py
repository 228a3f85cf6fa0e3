"""Chapter 2's diagrams of a convolution, drawn cell by cell so that every number can be checked.

    im2col_figure(x, w)                 the patch matrix of a small example, times the kernel
    multichannel_figure(x, w)           one C×k×k filter over a C-channel input: one map
    full_correlation_figure(g, w)       dx: the output gradient, padded, against the flipped kernel
    padding_modes_figure(x, pad)        what each padding mode puts beyond the border of a grid
    filter_volume_figure()              C×k×k filters over a C×H×W volume give a K×H'×W' volume
    pointwise_figure()                  a 1×1 convolution: one K×C matrix at every pixel

Each returns a white matplotlib ``Figure`` (see :func:`helpers.plots.style.light_figure`).
The numbers come from :mod:`helpers.layers`, never from the drawing code.
"""
from __future__ import annotations

import numpy as np

from helpers.filters import PADDING_MODES
from helpers.plots.animation import DONE_COLOUR, PAD_COLOUR, WINDOW_COLOUR, _draw_grid
from helpers.plots.style import light_figure

__all__ = ["filter_volume_figure", "full_correlation_figure", "im2col_figure",
           "multichannel_figure", "padded_grid", "padding_modes_figure", "pointwise_figure"]

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


NUMPY_PAD = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def padded_grid(x, pad: int, mode: str) -> np.ndarray:
    """The (H, W) grid ``x`` with ``pad`` cells added on every side as ``Conv2d``'s
    ``padding_mode`` ``mode`` fills them: -> (H + 2 pad, W + 2 pad)."""
    if mode not in NUMPY_PAD:
        raise ValueError(f"mode must be one of {tuple(NUMPY_PAD)}, got {mode!r}")
    x = np.asarray(x)
    if x.ndim != 2 or pad < 0 or pad >= min(x.shape):
        raise ValueError(f"need a 2-D grid and 0 <= pad < its smaller side, got shape {x.shape}, "
                         f"pad {pad}")
    return np.pad(x, pad, mode=NUMPY_PAD[mode])


def padding_modes_figure(x, pad: int = 2, modes=PADDING_MODES, dpi: int = 100):
    """What each padding mode puts beyond the border: the small whole-number grid ``x`` (H, W)
    with ``pad`` rings added, one panel per mode. The image's own cells are white, the padded
    ring is shaded and holds the numbers the mode invents; a thick line marks the border."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    x = _ints(x, "x", 2)
    grids = {m: padded_grid(x, pad, m) for m in modes}
    h, w = x.shape

    @light_figure
    def draw():
        fig, axes = plt.subplots(1, len(modes), figsize=(2.6 * len(modes), 3.0), dpi=dpi)
        for ax, mode in zip(np.atleast_1d(axes), modes):
            g = grids[mode]
            colours = [[WHITE if pad <= r < pad + h and pad <= c < pad + w else PAD_COLOUR
                        for c in range(g.shape[1])] for r in range(g.shape[0])]
            _draw_grid(ax, g.shape[1], colours, _text(g), f"padding_mode='{mode}'",
                       rows=g.shape[0], fontsize=9)
            ax.add_patch(Rectangle((pad, pad), w, h, fill=False, edgecolor="#000000",
                                   linewidth=2.2))
        fig.text(0.5, 0.02, f"white: the {h}×{w} image · shaded: the {pad} padded rings each mode "
                 "invents · black line: the image's border", ha="center", fontsize=9)
        fig.tight_layout(rect=(0, 0.06, 1, 1))
        return fig

    return draw()


def _oblique(x, y, z):
    """Oblique projection: depth z drawn up and to the right."""
    return x + 0.45 * z, y + 0.35 * z


def _box(ax, x, y, z, w, h, d, face, edge="#333333", alpha=1.0, lw=0.8):
    """A w × h × d box with its front-bottom-left corner at (x, y, z): front, top and right
    faces (y up, z into the page)."""
    from matplotlib.patches import Polygon

    corners = {
        "front": [(x, y, z), (x + w, y, z), (x + w, y + h, z), (x, y + h, z)],
        "top": [(x, y + h, z), (x + w, y + h, z), (x + w, y + h, z + d), (x, y + h, z + d)],
        "side": [(x + w, y, z), (x + w, y, z + d), (x + w, y + h, z + d), (x + w, y + h, z)],
    }
    shade = {"front": 1.0, "top": 0.85, "side": 0.7}
    import matplotlib.colors as mcolors
    rgb = np.array(mcolors.to_rgb(face))
    for name, pts in corners.items():
        ax.add_patch(Polygon([_oblique(*p) for p in pts], closed=True,
                             facecolor=tuple(rgb * shade[name]), edgecolor=edge, alpha=alpha,
                             linewidth=lw))


def filter_volume_figure(channels: int = 3, side: int = 7, kernel: int = 3, filters: int = 4,
                         dpi: int = 100):
    """A convolution as volumes: an input of ``channels`` × ``side`` × ``side``, one filter of
    ``channels`` × ``kernel`` × ``kernel`` at one position (its window in red, through every
    channel), and the output volume of ``filters`` maps, ``side - kernel + 1`` on a side, with
    the one number that this filter at this position writes."""
    import matplotlib.pyplot as plt

    if min(channels, side, kernel, filters) < 1 or kernel > side:
        raise ValueError(f"need positive sizes and kernel <= side, got {channels}, {side}, "
                         f"{kernel}, {filters}")
    out = side - kernel + 1

    @light_figure
    def draw():
        fig, ax = plt.subplots(figsize=(8.0, 3.6), dpi=dpi)
        ax.set_aspect("equal")
        ax.axis("off")
        for c in reversed(range(channels)):                   # input: one slab per channel
            _box(ax, 0, 0, c, side, side, 1, "#e8e8e8")
        for c in reversed(range(channels)):                   # the window through every channel
            _box(ax, 0, side - kernel, c, kernel, kernel, 1, WINDOW_COLOUR, alpha=0.75)
        fx = side + 2.5                                        # the filter, drawn apart
        for c in reversed(range(channels)):
            _box(ax, fx, side - kernel, c, kernel, kernel, 1, KERNEL_COLOUR)
        ox = fx + kernel + 4.0
        for f in reversed(range(filters)):                    # output: one map per filter
            _box(ax, ox, side - out, f, out, out, 1, DONE_COLOUR if f else "#9ecae1")
        _box(ax, ox, side - 1, 0, 1, 1, 1, WINDOW_COLOUR)
        kw = {"ha": "center", "fontsize": 10}
        ax.text(*_oblique(side / 2, -1.3, 0), f"input: C × H × W = {channels} × {side} × {side}\n"
                "(one slab per channel)", va="top", **kw)
        ax.text(*_oblique(fx + kernel / 2, side - kernel - 1.3, 0),
                f"one filter:\nC × k × k = {channels} × {kernel} × {kernel}", va="top", **kw)
        ax.text(*_oblique(ox + out / 2, side - out - 1.3, 0),
                f"output: K × H' × W' = {filters} × {out} × {out}\n(one map per filter)",
                va="top", **kw)
        ax.annotate("", xy=_oblique(fx - 0.3, side - kernel / 2, 0),
                    xytext=_oblique(kernel + 0.3, side - kernel / 2, 0),
                    arrowprops={"arrowstyle": "->", "color": "#333333"})
        ax.annotate("", xy=_oblique(ox - 0.2, side - 0.5, 0),
                    xytext=_oblique(fx + kernel + 0.3, side - kernel / 2, 0),
                    arrowprops={"arrowstyle": "->", "color": WINDOW_COLOUR})
        ax.text(*_oblique(fx + kernel + 1.8, side + 0.9, 0),
                f"{channels}·{kernel}·{kernel} products,\nadded: one number", fontsize=9,
                ha="center", va="bottom", color=WINDOW_COLOUR)
        ax.set_xlim(-1, ox + out + 0.45 * filters + 1.5)
        ax.set_ylim(-3.6, side + 0.35 * max(channels, filters) + 2.2)
        return fig

    return draw()


def pointwise_figure(channels: int = 6, filters: int = 3, side: int = 5, dpi: int = 100):
    """A 1×1 convolution: the ``channels`` numbers of one pixel (a column through the input
    volume) times a ``filters`` × ``channels`` matrix give the ``filters`` numbers of the same
    pixel of the output; the same matrix at every pixel."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    if min(channels, filters, side) < 1:
        raise ValueError(f"need positive sizes, got {channels}, {filters}, {side}")

    @light_figure
    def draw():
        fig, ax = plt.subplots(figsize=(8.0, 3.4), dpi=dpi)
        ax.set_aspect("equal")
        ax.axis("off")
        for c in reversed(range(channels)):
            _box(ax, 0, 0, c, side, side, 1, "#e8e8e8")
        for c in reversed(range(channels)):
            _box(ax, 2, 2, c, 1, 1, 1, WINDOW_COLOUR, alpha=0.8)
        mx = side + 0.45 * channels + 2.0                    # the K × C matrix, flat
        for r in range(filters):
            for c in range(channels):
                ax.add_patch(Rectangle((mx + c * 0.7, 1.0 + (filters - 1 - r) * 0.7), 0.7, 0.7,
                                       facecolor=KERNEL_COLOUR, edgecolor="#555555", lw=0.6))
        ox = mx + channels * 0.7 + 2.5
        for f in reversed(range(filters)):
            _box(ax, ox, 0, f, side, side, 1, DONE_COLOUR)
        for f in reversed(range(filters)):
            _box(ax, ox + 2, 2, f, 1, 1, 1, WINDOW_COLOUR, alpha=0.8)
        kw = {"ha": "center", "va": "top", "fontsize": 10}
        ax.text(*_oblique(side / 2, -0.9, 0), f"input: {channels} channels", **kw)
        ax.text(mx + channels * 0.35, 0.6, f"W: K × C = {filters} × {channels}\n"
                "(the same at every pixel)", **kw)
        ax.text(*_oblique(ox + side / 2, -0.9, 0), f"output: {filters} channels", **kw)
        ax.annotate("", xy=(mx - 0.2, 2.5), xytext=_oblique(3.2, 2.5, channels / 2),
                    arrowprops={"arrowstyle": "->", "color": WINDOW_COLOUR})
        ax.annotate("", xy=_oblique(ox + 1.8, 2.5, 0), xytext=(mx + channels * 0.7 + 0.2, 2.5),
                    arrowprops={"arrowstyle": "->", "color": WINDOW_COLOUR})
        ax.set_xlim(-0.5, ox + side + 0.45 * filters + 0.8)
        ax.set_ylim(-2.4, side + 0.35 * max(channels, filters) + 0.6)
        return fig

    return draw()
