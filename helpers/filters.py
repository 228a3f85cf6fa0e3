"""Hand-made 3×3 (and larger) filters: what a convolution does before anything is learned.

Chapter 2 slides these over a photo to show that one small, shared kernel already finds
edges, blurs or sharpens everywhere in the image. All kernels are float32 NumPy arrays of
shape ``(k, k)``, meant for *cross-correlation* (what deep-learning libraries call
convolution): ``out[i, j] = sum_{m, n} x[i + m, j + n] * kernel[m, n]``.

    vertical_edge()        # Sobel: > 0 where brightness grows from left to right
    horizontal_edge()      # Sobel: > 0 where brightness grows from top to bottom
    gaussian_blur(5, 1.0)  # sums to 1: a weighted average of the neighbourhood
    sharpen()              # identity + (identity - blur): boosts local contrast
    hand_made_filters()    # {name: kernel} for the figure grid
    apply_filter(image, kernel)   # (H, W) -> (H, W) with "same" zero padding
"""
from __future__ import annotations

import numpy as np

_SOBEL_SMOOTH = np.array([1.0, 2.0, 1.0])
_SOBEL_DIFF = np.array([-1.0, 0.0, 1.0])


def vertical_edge() -> np.ndarray:
    """Sobel kernel for *vertical* edges (brightness changing along x), shape (3, 3).

    ``[[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]``: positive response where the image gets
    brighter from left to right, negative where it gets darker, zero on flat regions.
    """
    return np.outer(_SOBEL_SMOOTH, _SOBEL_DIFF).astype(np.float32)


def horizontal_edge() -> np.ndarray:
    """Sobel kernel for *horizontal* edges (brightness changing along y), shape (3, 3).

    The transpose of :func:`vertical_edge`: positive where the image gets brighter from top
    to bottom.
    """
    return np.outer(_SOBEL_DIFF, _SOBEL_SMOOTH).astype(np.float32)


def _check_size(size) -> int:
    if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or size < 1 \
            or size % 2 == 0:
        raise ValueError(f"filter size must be a positive odd int, got {size!r}")
    return int(size)


def box_blur(size: int = 3) -> np.ndarray:
    """Mean of the ``size × size`` neighbourhood: every weight ``1 / size²``; sums to 1."""
    size = _check_size(size)
    return np.full((size, size), 1.0 / size**2, dtype=np.float32)


def gaussian_blur(size: int = 5, sigma: float = 1.0) -> np.ndarray:
    """Gaussian-weighted mean, shape ``(size, size)``, normalised to sum to 1.

    ``kernel[m, n] ∝ exp(-((m - c)² + (n - c)²) / (2 σ²))`` with ``c = size // 2``.
    """
    size = _check_size(size)
    if not (isinstance(sigma, (int, float)) and sigma > 0):
        raise ValueError(f"sigma must be a positive number, got {sigma!r}")
    r = np.arange(size) - size // 2
    g = np.exp(-(r**2) / (2.0 * sigma**2))
    kernel = np.outer(g, g)
    return (kernel / kernel.sum()).astype(np.float32)


def identity(size: int = 3) -> np.ndarray:
    """The kernel that copies its input: 1 in the centre, 0 elsewhere."""
    size = _check_size(size)
    kernel = np.zeros((size, size), dtype=np.float32)
    kernel[size // 2, size // 2] = 1.0
    return kernel


def sharpen(amount: float = 1.0, size: int = 3) -> np.ndarray:
    """Unsharp masking: ``identity + amount · (identity - box_blur)``; sums to 1.

    Adds back ``amount`` times the detail that a box blur would remove, so edges get
    steeper while flat regions are unchanged.
    """
    if not (isinstance(amount, (int, float)) and amount >= 0):
        raise ValueError(f"amount must be a non-negative number, got {amount!r}")
    eye = identity(size)
    return (eye + amount * (eye - box_blur(size))).astype(np.float32)


def hand_made_filters() -> dict[str, np.ndarray]:
    """The chapter's filter bank, ``{name: kernel}`` in display order."""
    return {"vertical edges": vertical_edge(), "horizontal edges": horizontal_edge(),
            "blur (Gaussian 7×7, σ=2)": gaussian_blur(7, 2.0),
            "sharpen": sharpen(amount=2.0)}


def apply_filter(image, kernel, padding_mode: str = "zeros") -> np.ndarray:
    """Cross-correlate a grey image with a kernel, "same" padding (k // 2 pixels per side).

    ``(H, W), (k, k) -> (H, W)`` float32 (odd ``k``). ``padding_mode`` says what lies beyond
    the border, as in ``torch.nn.Conv2d``: "zeros", "reflect" (mirrored, the border pixel not
    repeated), "replicate" (the border pixel repeated) or "circular" (the opposite side).
    Computed with the course's from-scratch :func:`helpers.layers.conv2d`.
    """
    import torch
    import torch.nn.functional as F

    from helpers.layers import conv2d

    image = np.asarray(image)
    kernel = np.asarray(kernel)
    if image.ndim != 2:
        raise ValueError(f"image must be a grey (H, W) array, got shape {image.shape}")
    if kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1] or kernel.shape[0] % 2 == 0:
        raise ValueError(f"kernel must be square (k, k) with odd k, got shape {kernel.shape}")
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"padding_mode must be one of {PADDING_MODES}, got {padding_mode!r}")
    x = torch.as_tensor(image, dtype=torch.float32)[None, None]
    w = torch.as_tensor(kernel, dtype=torch.float32)[None, None]
    p = kernel.shape[0] // 2
    if padding_mode == "zeros":
        return conv2d(x, w, padding=p)[0, 0].numpy()
    return conv2d(F.pad(x, (p, p, p, p), mode=padding_mode), w)[0, 0].numpy()


PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def filter_responses_figure(image, filters: dict[str, np.ndarray] | None = None, ncols: int = 3,
                            dpi: int = 80, title: str | None = None):
    """The photo and its response to each filter, in a grid (a matplotlib Figure).

    Edge filters (weights summing to 0) are shown in grey centred on 0: mid-grey is "no
    edge", white a dark-to-bright step, black a bright-to-dark one (clipped at the 99th
    percentile of the absolute response). Filters that keep
    brightness (sum 1) are shown on the photo's own 0-255 scale.
    """
    import matplotlib.pyplot as plt

    image = np.asarray(image)
    filters = hand_made_filters() if filters is None else filters
    panels = [("original", image.astype(np.float32), 0.0, 255.0)]
    for name, kernel in filters.items():
        out = apply_filter(image, kernel)
        if abs(float(np.sum(kernel))) < 1e-6:
            # scale by the 99th percentile: the few strongest responses (at the zero-padded
            # border, for one) would otherwise wash out everything else
            limit = float(np.percentile(np.abs(out), 99)) or 1.0
            panels.append((name, out, -limit, limit))
        else:
            panels.append((name, out, 0.0, 255.0))
    nrows = -(-len(panels) // ncols)
    h, w = image.shape
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.0 * ncols, 3.0 * nrows * h / w + 0.3),
                             dpi=dpi, squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, (name, img, lo, hi) in zip(axes.ravel(), panels):
        ax.imshow(img, cmap="gray", vmin=lo, vmax=hi, interpolation="nearest")
        ax.set_title(name, fontsize=9)
    if title:
        fig.suptitle(title)
    fig.patch.set_facecolor("white")
    fig.tight_layout()
    plt.close(fig)   # shown once, as the value of the notebook cell
    return fig
