"""A kernel sliding over a zero-padded input, as an HTML/JS animation and as a static figure.

Chapters 2 and 3 show where the window lands for each output pixel, with padding (grey zero
cells around the input) and stride (how far the window jumps). One frame per output pixel;
keep inputs small (5×5) so the embedded PNG frames stay small.

    HTML(sliding_window_html(5, 3, stride=2, padding=1))    # in a notebook
    sliding_window_figure(5, 3, stride=2, padding=1)        # static fallback (Figure)
    window_positions(5, 3, stride=2, padding=1)             # [(0, 0), (0, 2), ...]

The HTML player needs nothing off-site (see :func:`self_contained`): matplotlib's player links
Font Awesome from a CDN for its button icons; here they are plain Unicode glyphs, every control
has an accessible name and the frame has alt text, so the page works offline and with a screen
reader.
"""
from __future__ import annotations

import hashlib
import re
from html import escape

import numpy as np

PAD_COLOUR = "#d9d9d9"
INPUT_COLOUR = "#ffffff"
WINDOW_COLOUR = "#d62728"
DONE_COLOUR = "#c6dbef"


def _geometry(n, kernel_size, stride, padding) -> tuple[int, int, int, int]:
    for name, v, low in (("n", n, 1), ("kernel_size", kernel_size, 1), ("stride", stride, 1),
                         ("padding", padding, 0)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < low:
            raise ValueError(f"{name} must be an int >= {low}, got {v!r}")
    if kernel_size > n + 2 * padding:
        raise ValueError(f"kernel_size={kernel_size} does not fit in an input of size {n} "
                         f"with padding={padding} (padded size {n + 2 * padding})")
    return int(n), int(kernel_size), int(stride), int(padding)


def window_positions(n: int, kernel_size: int, stride: int = 1,
                     padding: int = 0) -> list[tuple[int, int]]:
    """Top-left corner (row, col) of the window, in padded coordinates, for every output pixel.

    Row-major order; ``len == m * m`` with ``m = (n + 2 * padding - kernel_size) // stride + 1``.
    """
    n, k, s, p = _geometry(n, kernel_size, stride, padding)
    m = (n + 2 * p - k) // s + 1
    return [(i * s, j * s) for i in range(m) for j in range(m)]


def _example(n: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 4, size=(n, n))
    w = rng.integers(-1, 2, size=(k, k))
    return x, w


def _output(x: np.ndarray, w: np.ndarray, stride: int, padding: int) -> np.ndarray:
    from helpers.layers import conv2d_naive

    out = conv2d_naive(x[None, None].astype(np.float64), w[None, None].astype(np.float64),
                       stride=stride, padding=padding)
    return np.rint(np.asarray(out)[0, 0]).astype(int)


def _draw_grid(ax, size, colours, texts, title, rows=None, fontsize=7, height=None):
    """Cells (Rectangles, returned by (row, col)) with a text in each; ``rows`` if not square.

    ``height``: the number of rows the axes make room for (default ``max(size, rows)``), so
    that grids of different sizes side by side share one cell size.
    """
    from matplotlib.patches import Rectangle

    rows = size if rows is None else rows
    height = max(size, rows) if height is None else height
    ax.set_xlim(-0.05, size + 0.05)
    ax.set_ylim(height + 0.05, -0.05)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=fontsize + 1, y=1.0)  # fixed y: no per-frame layout
    cells = {}
    for r in range(rows):
        for c in range(size):
            cells[r, c] = Rectangle((c, r), 1, 1, facecolor=colours[r][c], edgecolor="#555555",
                                    linewidth=0.6)
            ax.add_patch(cells[r, c])
            if texts[r][c]:
                ax.text(c + 0.5, r + 0.5, texts[r][c], ha="center", va="center",
                        fontsize=fontsize)
    return cells


class _SlidingWindow:
    """Draws one frame per output pixel: padded input | kernel | output.

    Everything that does not move (grids, input numbers, kernel, titles) is rendered once
    into a background image; a frame only redraws the window, the output cells and the
    output values, which keeps each frame cheap.
    """

    def __init__(self, n, kernel_size, stride, padding, seed, figsize, dpi, example=None):
        import matplotlib.pyplot as plt
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.patches import Rectangle

        self.n, self.k, self.s, self.p = _geometry(n, kernel_size, stride, padding)
        self.x, self.w = _example(self.n, self.k, seed) if example is None else example
        self.out = _output(self.x, self.w, self.s, self.p)
        self.positions = window_positions(self.n, self.k, self.s, self.p)
        self.m = self.out.shape[0]
        size, p = self.n + 2 * self.p, self.p
        inside = [[p <= r < p + self.n and p <= c < p + self.n for c in range(size)]
                  for r in range(size)]
        colours = [[INPUT_COLOUR if inside[r][c] else PAD_COLOUR for c in range(size)]
                   for r in range(size)]
        texts = [[str(self.x[r - p, c - p]) if inside[r][c] else "0" for c in range(size)]
                 for r in range(size)]
        self.fig, (ax_in, ax_k, ax_out) = plt.subplots(
            1, 3, figsize=figsize, dpi=dpi,
            gridspec_kw={"width_ratios": [size, max(self.k, 3), max(self.m, 3)]})
        self.fig.patch.set_facecolor("white")     # readable on dark pages too
        static = list(_draw_grid(ax_in, size, colours, texts,
                                 f"input {self.n}×{self.n}, padding {self.p}").values())
        kernel_text = [[str(v) for v in row] for row in self.w]
        static += _draw_grid(ax_k, self.k, [["#fff5eb"] * self.k] * self.k, kernel_text,
                             "kernel").values()
        self.out_cells = _draw_grid(ax_out, self.m, [[INPUT_COLOUR] * self.m] * self.m,
                                    [[""] * self.m] * self.m,
                                    f"output {self.m}×{self.m}, stride {self.s}")
        self.out_texts = [[ax_out.text(c + 0.5, r + 0.5, "", ha="center", va="center",
                                       fontsize=7) for c in range(self.m)] for r in range(self.m)]
        self.fig.tight_layout()
        # render the still parts once, then show them as a picture behind the moving parts
        canvas = FigureCanvasAgg(self.fig)
        canvas.draw()
        background = np.asarray(canvas.buffer_rgba()).copy()
        for ax in (ax_in, ax_k, ax_out):
            for artist in [*ax.patches, *ax.texts, ax.title]:
                if not any(artist in row for row in self.out_texts) and \
                        artist not in self.out_cells.values():
                    artist.set_visible(False)
        for cell in self.out_cells.values():
            cell.set_edgecolor("none")
        self.fig.figimage(background, origin="upper", zorder=-1)
        self.window = Rectangle((0, 0), self.k, self.k, fill=False, edgecolor=WINDOW_COLOUR,
                                linewidth=2.0)
        ax_in.add_patch(self.window)
        self.done = []

    def draw(self, t: int):
        """Show frame ``t``: the window at output pixel ``t`` (row-major) and outputs so far."""
        r0, c0 = self.positions[t]
        self.window.set_xy((c0, r0))
        changed = [self.window]
        for u in range(len(self.positions)):
            i, j = divmod(u, self.m)
            cell, text = self.out_cells[i, j], self.out_texts[i][j]
            cell.set_facecolor(WINDOW_COLOUR if u == t else DONE_COLOUR if u < t
                               else "none")
            cell.set_alpha(0.5 if u == t else 1.0)
            text.set_text(str(self.out[i, j]) if u <= t else "")
            changed += [cell, text]
        return changed


def _given_example(x, w) -> tuple[int, int, tuple[np.ndarray, np.ndarray]] | None:
    """(n, k, (x, w)) for a given square int example ``x`` (n, n) and kernel ``w`` (k, k)."""
    if x is None and w is None:
        return None
    x, w = np.asarray(x), np.asarray(w)
    if x.ndim != 2 or x.shape[0] != x.shape[1] or w.ndim != 2 or w.shape[0] != w.shape[1]:
        raise ValueError(f"x and w must be square 2-D arrays, got {x.shape} and {w.shape}")
    if not (np.array_equal(x, np.rint(x)) and np.array_equal(w, np.rint(w))):
        raise ValueError("x and w must hold whole numbers (they are printed in the cells)")
    return x.shape[0], w.shape[0], (np.rint(x).astype(int), np.rint(w).astype(int))


def sliding_window_animation(n: int = 5, kernel_size: int = 3, stride: int = 1,
                             padding: int = 1, seed: int = 0, interval: int = 600,
                             figsize=(4.6, 2.4), dpi: int = 72, x=None, w=None):
    """``matplotlib.animation.FuncAnimation``: one frame per output pixel.

    The input is a random ``n × n`` grid of small ints (seeded), the kernel a random
    ``kernel_size²`` grid of -1/0/1, unless an example ``x`` (n, n) and ``w`` (k, k) of whole
    numbers is given (then n and kernel_size are taken from it); each output cell shows its
    value once the window has passed. Output size ``m = (n + 2p - k) // s + 1``, ``m²`` frames.
    """
    from matplotlib.animation import FuncAnimation

    given = _given_example(x, w)
    if given is not None:
        n, kernel_size, example = given
    scene = _SlidingWindow(n, kernel_size, stride, padding, seed, figsize, dpi,
                           None if given is None else example)
    class _Frames(FuncAnimation):
        def _post_draw(self, framedata, blit):
            """Skip the on-screen redraw: ``to_jshtml`` renders every frame itself."""

    anim = _Frames(scene.fig, scene.draw, frames=len(scene.positions), interval=interval,
                   blit=False, repeat=True)
    anim._scene = scene  # keep the drawing state alive with the animation
    return anim


def deterministic_ids(html: str) -> str:
    """Replace matplotlib's random ``uuid4`` element ids by a hash of the content.

    ``to_jshtml`` names its HTML elements with a fresh random id on every call, which would
    make stored notebook outputs differ on every run; the hash keeps ids unique per animation
    but identical between runs.
    """
    ids = set(re.findall(r"_anim_img([0-9a-f]{32})", html))
    for old in ids:
        template = html.replace(old, "ID")
        new = hashlib.sha256(template.encode()).hexdigest()[:32]
        html = html.replace(old, new)
    return html


# matplotlib's player buttons (Font Awesome icon names) -> a glyph every system font has;
# U+FE0E asks for the text, not the emoji, form of the triangles.
ICON_GLYPHS = {
    "fa-minus": "\u2212",                       # − slower
    "fa-fast-backward": "\u21e4",               # ⇤ first frame
    "fa-step-backward": "\u25c2",               # ◂ previous frame
    "fa-play fa-flip-horizontal": "\u25c0\ufe0e",  # ◀ play backwards
    "fa-pause": "\u275a\u275a",                 # ❚❚ pause
    "fa-play": "\u25b6\ufe0e",                  # ▶ play
    "fa-step-forward": "\u25b8",                # ▸ next frame
    "fa-fast-forward": "\u21e5",                # ⇥ last frame
    "fa-plus": "+",                             # + faster
}
_FONT_AWESOME_LINK = re.compile(r'<link rel="stylesheet"\s+href="[^"]*font-awesome[^"]*">\s*')
_ICON = re.compile(r'<i class="fa ([a-z -]+)"></i>')
_BUTTON = re.compile(r"<button(?P<attrs>[^>]*)>")
_OFF_SITE = re.compile(r"https?://[^\s\"'<>]+", re.IGNORECASE)


def _glyph(match: re.Match) -> str:
    name = match.group(1).strip()
    if name not in ICON_GLYPHS:
        raise ValueError(f"unknown player icon {name!r}: add it to ICON_GLYPHS")
    return f'<span aria-hidden="true">{ICON_GLYPHS[name]}</span>'


def _named_button(match: re.Match) -> str:
    """Give a button without ``aria-label`` its ``title`` as accessible name."""
    attrs = match.group("attrs")
    if "aria-label=" in attrs:
        return match.group(0)
    title = re.search(r'title="([^"]+)"', attrs)
    if title is None:
        raise ValueError(f"player button without a title or aria-label: {match.group(0)}")
    return f'<button aria-label="{title.group(1)}"{attrs}>'


def _replace_once(html: str, pattern: str, replacement: str) -> str:
    html, count = re.subn(pattern, replacement, html)
    if count != 1:
        raise ValueError(f"expected one match of {pattern!r} in the player, found {count}")
    return html


def self_contained(html: str, alt: str) -> str:
    """matplotlib's ``to_jshtml`` player made to need nothing off-site and to be accessible.

    Drops the Font Awesome stylesheet (a CDN link), replaces each icon by a Unicode glyph
    (hidden from screen readers; the button's ``aria-label`` names it), names every button and
    the frame slider, and gives the frame image the alt text ``alt``. Raises ``ValueError`` on
    an empty ``alt``, an unknown icon, or an off-site address left in the result.
    """
    if not alt or not alt.strip():
        raise ValueError("alt must be a sentence saying what the animation shows")
    alt = escape(alt, quote=True)
    html = _FONT_AWESOME_LINK.sub("", html)
    html = _ICON.sub(_glyph, html)
    html = _BUTTON.sub(_named_button, html)
    html = _replace_once(html, r'<img id="(_anim_img\w+)">', rf'<img id="\1" alt="{alt}">')
    html = _replace_once(html, r'class="anim-slider"', 'class="anim-slider" aria-label="Frame"')
    found = _OFF_SITE.search(html)
    if found:
        raise ValueError(f"the player still refers to an off-site address: {found.group(0)}")
    return html


def describe(n: int, kernel_size: int, stride: int, padding: int) -> str:
    """The animation's alt text: what slides over what, and what fills in."""
    n, k, s, p = _geometry(n, kernel_size, stride, padding)
    m = (n + 2 * p - k) // s + 1
    return (f"Animation: a {k}×{k} kernel slides over a {n}×{n} input zero-padded by {p} "
            f"(grey cells), jumping {s} cell{'s' if s > 1 else ''} at a time; each position "
            f"fills in one cell of the {m}×{m} output with the sum of the window times the "
            f"kernel.")


def sliding_window_html(n: int = 5, kernel_size: int = 3, stride: int = 1, padding: int = 1,
                        **kwargs) -> str:
    """Self-contained HTML/JS player (PNG frames embedded) of :func:`sliding_window_animation`.

    Display it with ``IPython.display.HTML``. The figure is closed, so no static copy is
    shown as well; the player needs nothing off-site and is accessible (see
    :func:`self_contained`; its alt text is :func:`describe`), and its element ids are
    deterministic (see :func:`deterministic_ids`).
    """
    import matplotlib.pyplot as plt

    anim = sliding_window_animation(n, kernel_size, stride, padding, **kwargs)
    scene = anim._scene
    try:
        # frames are saved at the figure's own dpi, whatever the notebook's settings
        with plt.rc_context({"savefig.dpi": "figure", "savefig.bbox": None,
                             "savefig.facecolor": "white"}):
            html = anim.to_jshtml(default_mode="loop")
    finally:
        plt.close(anim._fig)
    alt = describe(scene.n, scene.k, scene.s, scene.p)
    return deterministic_ids(self_contained(html, alt))


def sliding_window_figure(n: int = 5, kernel_size: int = 3, stride: int = 1, padding: int = 1,
                          frames=None, seed: int = 0, dpi: int = 100, x=None, w=None):
    """Static version for reading on paper: one row per chosen output pixel (a Figure).

    Each row shows the padded input with the window, the kernel, and the output filled in up
    to that pixel. ``frames`` picks output pixels (row-major indices); by default the first two,
    the last of the first row, the first of the second row and the very last. ``x``/``w``: a
    given example, as in :func:`sliding_window_animation`.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    from helpers.plots.style import light_figure

    given = _given_example(x, w)
    if given is not None:
        n, kernel_size, (x, w) = given
    n, k, s, p = _geometry(n, kernel_size, stride, padding)
    if given is None:
        x, w = _example(n, k, seed)
    positions = window_positions(n, k, s, p)
    out = _output(x, w, s, p)
    m = out.shape[0]
    if frames is None:
        frames = sorted({0, min(1, m * m - 1), m - 1, min(m, m * m - 1), m * m - 1})
    frames = list(frames)
    if not frames or not all(isinstance(f, (int, np.integer)) and 0 <= f < m * m
                             for f in frames):
        raise ValueError(f"frames must be indices in [0, {m * m}), got {frames!r}")
    size = n + 2 * p
    inside = [[p <= r < p + n and p <= c < p + n for c in range(size)] for r in range(size)]
    colours = [[INPUT_COLOUR if inside[r][c] else PAD_COLOUR for c in range(size)]
               for r in range(size)]
    texts = [[str(x[r - p, c - p]) if inside[r][c] else "0" for c in range(size)]
             for r in range(size)]
    height = max(size, k, m)

    @light_figure
    def draw():
        fig, axes = plt.subplots(len(frames), 3, figsize=(7.5, 2.9 * len(frames)), dpi=dpi,
                                 squeeze=False,
                                 gridspec_kw={"width_ratios": [size, k + 0.5, m]})
        for row, t in zip(axes, frames):
            i, j = divmod(t, m)
            _draw_grid(row[0], size, colours, texts, f"output pixel ({i}, {j})", fontsize=11,
                       height=height)
            r0, c0 = positions[t]
            row[0].add_patch(Rectangle((c0, r0), k, k, fill=False, edgecolor=WINDOW_COLOUR,
                                       linewidth=2.5))
            _draw_grid(row[1], k, [["#fff5eb"] * k] * k, [[str(v) for v in r] for r in w],
                       "kernel", fontsize=11, height=height)
            done = [[WINDOW_COLOUR if a * m + b == t else DONE_COLOUR if a * m + b < t
                     else INPUT_COLOUR for b in range(m)] for a in range(m)]
            values = [[str(out[a, b]) if a * m + b <= t else "" for b in range(m)]
                      for a in range(m)]
            cells = _draw_grid(row[2], m, done, values, f"output: y[{i}, {j}] = {out[i, j]}",
                               fontsize=11, height=height)
            cells[i, j].set_alpha(0.5)
        fig.tight_layout()
        return fig

    return draw()
