"""Interactive explorers: sliders for a convolution's window and for receptive-field growth.

    conv_explorer()              # kernel size, stride, padding, dilation -> windows, output size
    receptive_field_explorer()   # depth, kernel, stride, downsampling -> field size per layer

In JupyterLab, Jupyter Notebook or Colab each shows an ``ipywidgets`` UI that redraws its
figure when a slider moves. Where sliders would be dead -- stored outputs of the website
(``CNN_COURSE_NO_PROGRESS=1``, see :func:`helpers.device.progress_enabled`) or a plain Python
process -- it shows the figure for the default values and one line saying how to get the
sliders; no widget state is written into the notebook. An explorer that the website also
offers live (JavaScript in ``tools/static/explorers/``, no kernel) stores, after its figure, a
mount point (:func:`web_mount`) that the page's script turns into the live explorer. The
drawing functions (:func:`draw_conv_windows`, :func:`draw_receptive_field_growth`) return a
matplotlib Figure and can be used on their own.
"""
from __future__ import annotations

import base64
import html
import inspect
import io
import json

import numpy as np
from torch import nn

from helpers.device import progress_enabled
from helpers.layers import conv_output_size
from helpers.plots.style import RF_COLOURS, light_figure

__all__ = ["STATIC_NOTE", "conv_explorer", "draw_conv_windows", "draw_receptive_field_growth",
           "explorer", "explorer_layers", "explorer_photo", "interactive_session", "layers_module",
           "receptive_field_config", "receptive_field_explorer", "stride_schedule", "web_mount"]

STATIC_NOTE = ("(A static picture for the default values: run this notebook in Jupyter or "
               "Colab to use the sliders.)")
MAX_ROWS = 12


# --------------------------------------------------------------------------- the mechanism

def interactive_session() -> bool:
    """True in a live Jupyter/Colab kernel whose outputs are not being stored for the website."""
    if not progress_enabled():
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _slider(name: str, spec, default):
    """(min, max) or (min, max, step) -> an IntSlider starting at ``default``; a widget is
    used as it is."""
    import ipywidgets as widgets

    if isinstance(spec, widgets.Widget):
        return spec
    if not (isinstance(spec, tuple) and len(spec) in (2, 3)):
        raise ValueError(f"control {name!r}: give (min, max), (min, max, step) or a widget, "
                         f"got {spec!r}")
    lo, hi, step = (*spec, 1) if len(spec) == 2 else spec
    if not lo <= default <= hi:
        raise ValueError(f"control {name!r}: default {default} is outside [{lo}, {hi}]")
    return widgets.IntSlider(value=default, min=lo, max=hi, step=step, description=name,
                             continuous_update=False,
                             style={"description_width": "initial"})


def web_mount(name: str, config: dict) -> str:
    """The HTML stored for the website's live explorer ``name``: a ``<div>`` carrying
    ``config`` as JSON and :data:`STATIC_NOTE`. On the website,
    ``tools/static/explorers/common.js`` hands it to the explorer registered as ``name``, which
    replaces the note by the live explorer and hides the cell's static figure (kept for print
    and for readers without JavaScript); elsewhere the note shows."""
    if not name.replace("-", "").isalnum():
        raise ValueError(f"explorer name must be letters, digits and hyphens, got {name!r}")
    data = html.escape(json.dumps(config, sort_keys=True), quote=True)
    return (f'<div class="cnn-explorer" data-explorer="{name}" data-config="{data}">'
            f'<p class="cnn-explorer-note">{html.escape(STATIC_NOTE)}</p></div>')


def explorer(draw, web: tuple[str, dict] | None = None, **controls):
    """Show ``draw(**values)`` (a function returning a matplotlib Figure) with one slider per
    keyword in ``controls`` (``name=(min, max[, step])``, starting at ``draw``'s default for
    ``name``), or, outside a live session (:func:`interactive_session`), the figure for the
    defaults and :data:`STATIC_NOTE` -- or, given ``web=(name, config)``, the figure and the
    mount point of the website's live explorer (:func:`web_mount`). Returns None, so nothing
    is displayed twice."""
    from IPython.display import HTML, display

    defaults = {name: p.default for name, p in inspect.signature(draw).parameters.items()
                if p.default is not inspect.Parameter.empty}
    missing = [name for name in controls if name not in defaults]
    if missing:
        raise ValueError(f"controls {missing} are not keyword arguments with defaults of "
                         f"{draw.__name__}")
    if not interactive_session():
        display(draw())
        if web is None:
            print(STATIC_NOTE)
        else:
            display(HTML(web_mount(*web)))
        return None
    import ipywidgets as widgets

    def show(**values):
        display(draw(**values))

    sliders = {name: _slider(name, spec, defaults[name]) for name, spec in controls.items()}
    display(widgets.interactive(show, **sliders))
    return None


# --------------------------------------------------------------------------- 1. sliding window

CONV_CONTROLS = {"n": (1, 24), "kernel_size": (1, 9), "stride": (1, 5), "padding": (0, 4),
                 "dilation": (1, 4)}
"""Slider ranges of :func:`conv_explorer`, the same in Jupyter and on the website."""


def _window_cells(i: int, kernel_size: int, stride: int, dilation: int) -> list[int]:
    """Padded-input positions read by output i."""
    return [i * stride + t * dilation for t in range(kernel_size)]


def _signed(value: int) -> str:
    """An integer with a true minus sign, as the formula prints it."""
    return f"−{-value}" if value < 0 else str(value)


def _conv_formula(n: int, kernel_size: int, stride: int, padding: int, dilation: int) -> str:
    """H' = ⌊(n + 2p − d(k − 1) − 1)/s⌋ + 1 with the numbers substituted, down to its value
    (which is below 1 when there is no output). The website's explorer writes the same string
    (``formula`` in tools/static/explorers/conv_arithmetic.js)."""
    top = n + 2 * padding - dilation * (kernel_size - 1) - 1
    return (f"⌊({n} + 2·{padding} − {dilation}·({kernel_size} − 1) − 1)/{stride}⌋ + 1 = "
            f"⌊{_signed(top)}/{stride}⌋ + 1 = {_signed(top // stride + 1)}")


def _no_output_reason(n: int, kernel_size: int, padding: int, dilation: int) -> str:
    """Why a convolution has no output (the website's explorer says the same)."""
    return (f"No output: the window spans d(k − 1) + 1 = {dilation * (kernel_size - 1) + 1} "
            f"cells, more than the n + 2p = {n + 2 * padding} cells of the padded input.")


@light_figure
def draw_conv_windows(n: int = 7, kernel_size: int = 3, stride: int = 2, padding: int = 1,
                      dilation: int = 1):
    """One axis of a convolution: the padded input on top, then one row per output position
    with the input cells its window reads (at most the first 12 rows). Cells never read are
    hatched. The title gives the output size by the formula, with the numbers substituted."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    formula = _conv_formula(n, kernel_size, stride, padding, dilation)
    try:
        out = conv_output_size(n, kernel_size, stride, padding, dilation)
    except ValueError:
        fig, ax = plt.subplots(figsize=(7, 1.4))
        ax.set_axis_off()
        ax.text(0.5, 0.5, f"H′ = {formula}\n"
                f"{_no_output_reason(n, kernel_size, padding, dilation)}",
                ha="center", va="center", wrap=True, fontsize=9)
        return fig
    width = n + 2 * padding
    rows = min(out, MAX_ROWS)
    read = {c for i in range(out) for c in _window_cells(i, kernel_size, stride, dilation)}
    fig, ax = plt.subplots(figsize=(max(5.0, 0.42 * width + 1.8), 0.42 * (rows + 2) + 1.2))
    for c in range(width):
        pad = c < padding or c >= padding + n
        ax.add_patch(Rectangle((c, 0), 1, 1, facecolor="#d9d9d9" if pad else "white",
                               edgecolor="black", hatch=None if c in read else "///"))
        ax.text(c + 0.5, 0.5, "0" if pad else str(c - padding), ha="center", va="center",
                fontsize=8, color="#666666" if pad else "black")
    for i in range(rows):
        y = -(i + 1.4)
        colour = RF_COLOURS[i % len(RF_COLOURS)]
        cells = _window_cells(i, kernel_size, stride, dilation)
        ax.plot([cells[0] + 0.5, cells[-1] + 0.5], [y + 0.5, y + 0.5], color=colour, lw=1,
                alpha=0.6)
        for c in cells:
            ax.add_patch(Rectangle((c + 0.1, y + 0.1), 0.8, 0.8, facecolor=colour, alpha=0.85))
        ax.text(-0.4, y + 0.5, f"out[{i}]", ha="right", va="center", fontsize=8)
    if out > rows:
        ax.text(width / 2, -(rows + 1.1), f"... {out - rows} more", ha="center", fontsize=8)
    ax.text(-0.4, 0.5, "input", ha="right", va="center", fontsize=8)
    ax.set_xlim(-2.2, width + 0.2)
    ax.set_ylim(-(rows + 1.6), 1.2)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(f"n={n}, k={kernel_size}, s={stride}, p={padding}, d={dilation}"
                 + ("   (hatched: never read)" if len(read) < width else "")
                 + f"\nH′ = {formula}", fontsize=9)
    fig.tight_layout()
    return fig


def conv_explorer(n: int = 7, kernel_size: int = 3, stride: int = 2, padding: int = 1,
                  dilation: int = 1) -> None:
    """Sliders for input size, kernel size, stride, padding and dilation (ranges
    :data:`CONV_CONTROLS`); shows the window of every output position and the output size.
    On the website the static figure is followed by the mount point of the live JavaScript
    explorer "conv-arithmetic" (2-D, with the window sliding), set to the same values."""
    def draw(n=n, kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation):
        return draw_conv_windows(n, kernel_size, stride, padding, dilation)

    config = {"n": n, "kernel_size": kernel_size, "stride": stride, "padding": padding,
              "dilation": dilation,
              "limits": {name: list(bounds) for name, bounds in CONV_CONTROLS.items()}}
    explorer(draw, web=("conv-arithmetic", config), **CONV_CONTROLS)


# --------------------------------------------------------------------------- 2. field growth

def stride_schedule(depth: int, stride: int = 2, downsample_every: int = 2) -> list[int]:
    """Stride of each of ``depth`` layers: ``stride`` on every ``downsample_every``-th layer
    (layers downsample_every, 2 * downsample_every, ...), 1 elsewhere; 0 = never."""
    if not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be a positive int, got {depth!r}")
    if downsample_every < 0 or stride < 1:
        raise ValueError(f"need stride >= 1 and downsample_every >= 0, got {stride}, "
                         f"{downsample_every}")
    return [stride if downsample_every and (i + 1) % downsample_every == 0 else 1
            for i in range(depth)]


def explorer_layers(depth: int, kernel_size: int, strides: list[int]) -> list[dict]:
    """The first ``depth`` layers of the stack drawn by :func:`draw_receptive_field_growth`, as
    the website's receptive-field explorer reads them: ``kernel_size`` x ``kernel_size``
    convolutions with the given strides, padding ``kernel_size // 2`` (the feature map keeps its
    size at stride 1), no dilation."""
    if len(strides) < depth:
        raise ValueError(f"need a stride for each of the {depth} layers, got {strides!r}")
    return [{"type": "conv", "kernel": kernel_size, "stride": s, "padding": kernel_size // 2,
             "dilation": 1} for s in strides[:depth]]


def layers_module(layers: list[dict]) -> nn.Sequential:
    """An ``nn.Sequential`` with the geometry of an explorer stack (one channel: only the
    geometry matters), for :func:`helpers.receptive_field.receptive_field`."""
    kinds = {"conv": lambda k, s, p, d: nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d),
             "pool": lambda k, s, p, d: nn.MaxPool2d(k, stride=s, padding=p, dilation=d)}
    modules = []
    for layer in layers:
        if layer.get("type") not in kinds:
            raise ValueError(f"layer type must be one of {sorted(kinds)}, got {layer!r}")
        modules.append(kinds[layer["type"]](layer["kernel"], layer["stride"], layer["padding"],
                                            layer["dilation"]))
    return nn.Sequential(*modules)


def _field_sizes(depth: int, kernel_size: int, strides: list[int]) -> tuple[list[int], list[int]]:
    """Field size and jump after each layer, from helpers.receptive_field."""
    from helpers.receptive_field import receptive_field

    table = receptive_field(layers_module(explorer_layers(depth, kernel_size, strides))).layers
    return [row.size for row in table], [row.jump for row in table]


def explorer_photo() -> np.ndarray:
    """The photo the fields are drawn on: "camera" (512 x 512, grey) shrunk to 128 x 128 by
    4 x 4 block means, as uint8."""
    from helpers.data import load_image

    photo = load_image("camera", gray=True).astype(np.float64)
    return np.rint(photo.reshape(128, 4, 128, 4).mean(axis=(1, 3))).astype(np.uint8)


def _png_data_url(image: np.ndarray) -> str:
    """A grey uint8 image as a ``data:image/png;base64,...`` URL (a few kB, stored in the page:
    the website's explorer draws on it without fetching anything)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def receptive_field_config(depth: int = 8, kernel_size: int = 3, stride: int = 2,
                           downsample_every: int = 2) -> dict:
    """What the website's receptive-field explorer starts from (``web_mount`` config): the
    stack of :func:`receptive_field_explorer` (``layers``, see :func:`explorer_layers`), a name
    for it, and the photo of :func:`explorer_photo` with its side (``input_size``)."""
    photo = explorer_photo()
    every = f"stride {stride} every {downsample_every}" if downsample_every else "stride 1"
    return {"layers": explorer_layers(depth, kernel_size,
                                      stride_schedule(depth, stride, downsample_every)),
            "label": f"{depth} convolutions {kernel_size}×{kernel_size}, {every}",
            "input_size": int(photo.shape[0]),
            "image": _png_data_url(photo),
            "image_alt": "the camera photo (a man with a camera on a tripod), 128×128 pixels"}


@light_figure
def draw_receptive_field_growth(depth: int = 8, kernel_size: int = 3, stride: int = 2,
                                downsample_every: int = 2, image=None):
    """Left: field size after each layer of ``depth`` k x k convolutions with the given stride
    schedule, against the same stack without striding. Right: the fields as squares on a photo
    (``image``, default :func:`explorer_photo`) centred on the same pixel."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    strides = stride_schedule(depth, stride, downsample_every)
    sizes, jumps = _field_sizes(depth, kernel_size, strides)
    plain, _ = _field_sizes(depth, kernel_size, [1] * depth)
    img = np.asarray(explorer_photo() if image is None else image)
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 4),
                                      gridspec_kw={"width_ratios": [1.2, 1]})
    layers = np.arange(1, depth + 1)
    left.plot(layers, sizes, marker="o", label=f"stride {stride} every {downsample_every}"
              if downsample_every else "stride 1")
    left.plot(layers, plain, marker=".", ls="--", color="grey", label="all stride 1")
    for x, y, j in zip(layers, sizes, jumps):
        left.annotate(f"j={j}", (x, y), textcoords="offset points", xytext=(0, 6),
                      ha="center", fontsize=9)
    left.set_xlabel("layer")
    left.set_ylabel("receptive field (pixels per side)")
    left.grid(True, alpha=0.4)
    left.legend(fontsize=9)
    left.set_title(f"{depth} layers of {kernel_size}×{kernel_size}: field {sizes[-1]}×"
                   f"{sizes[-1]}", fontsize=9)
    h, w = img.shape[:2]
    right.imshow(img, cmap="gray" if img.ndim == 2 else None)
    r, c = h / 2, w / 2
    # every layer, none skipped: the course's field colours while they last, then a colour map
    cmap = plt.get_cmap("viridis")
    for i in range(depth):
        s = sizes[i]
        colour = RF_COLOURS[i] if depth <= len(RF_COLOURS) else cmap(i / max(depth - 1, 1))
        right.add_patch(Rectangle((c - s / 2, r - s / 2), s, s, fill=False, lw=1.8,
                                  edgecolor=colour, label=f"layer {i + 1}: {s}×{s}"))
    right.set_xlim(-0.5, w - 0.5)
    right.set_ylim(h - 0.5, -0.5)
    right.set_axis_off()
    right.legend(loc="upper center", bbox_to_anchor=(0.5, -0.01), ncol=3, fontsize=9,
                 frameon=False)
    right.set_title(f"fields on a {h}×{w} photo", fontsize=9)
    fig.tight_layout()
    return fig


def receptive_field_explorer(depth: int = 8, kernel_size: int = 3, stride: int = 2,
                             downsample_every: int = 2) -> None:
    """Sliders for depth, kernel size, stride and how often to downsample; shows how the
    receptive field grows layer by layer. On the website: the static figure, then the live
    explorer (``tools/static/explorers/receptive_field.js``) starting on the same stack, where
    the reader adds, removes and changes layers and sees each one's field size, jump and
    offset and a unit's field on the photo."""
    def draw(depth=depth, kernel_size=kernel_size, stride=stride,
             downsample_every=downsample_every):
        return draw_receptive_field_growth(depth, kernel_size, stride, downsample_every)

    config = receptive_field_config(depth, kernel_size, stride, downsample_every)
    explorer(draw, web=("receptive-field", config), depth=(1, 16), kernel_size=(1, 7, 2),
             stride=(1, 3), downsample_every=(0, 4))
