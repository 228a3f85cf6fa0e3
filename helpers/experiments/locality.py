"""Statistics of images: how strongly a pixel predicts the pixels around it.

Chapter 1 measures *locality*: the correlation between two pixels' intensities as a function
of the distance between them (Ruderman, 1994). A pair at distance ``d`` is two pixels ``d``
apart along a row, ``(y, x)`` and ``(y, x + d)``, or along a column, ``(y, x)`` and
``(y + d, x)``; both kinds are pooled.

    correlation_at_distance(image, 1)           # ~0.9+ for a photo
    correlation_profile(image, range(1, 65))    # one value per distance
"""
from __future__ import annotations

import numpy as np


def _as_stack(image) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[None]
    if image.ndim != 3:
        raise ValueError(f"image must have shape (H, W) or (N, H, W), got {image.shape}")
    if not (np.issubdtype(image.dtype, np.number) or image.dtype == bool):
        raise ValueError(f"image must be numeric, got dtype {image.dtype}")
    return image.astype(np.float64)


def pixel_pairs(image, d: int) -> tuple[np.ndarray, np.ndarray]:
    """The intensities of all pixel pairs at distance ``d`` as two flat arrays ``(a, b)``.

    ``(H, W)`` or ``(N, H, W)`` -> two vectors of length
    ``N * (H * max(W - d, 0) + max(H - d, 0) * W)``: ``a[k]`` and ``b[k]`` are the two pixels
    of pair ``k`` (row pairs first, then column pairs).
    """
    stack = _as_stack(image)
    if not isinstance(d, (int, np.integer)) or isinstance(d, bool):
        raise ValueError(f"distance d must be an int, got {d!r}")
    _, h, w = stack.shape
    if not 0 <= d < max(h, w):
        raise ValueError(f"distance d={d} must satisfy 0 <= d < max(H, W) = {max(h, w)} "
                         f"for an image of shape {np.shape(image)}")
    a, b = [], []
    if d < w:  # pairs along rows
        a.append(stack[:, :, :w - d].ravel())
        b.append(stack[:, :, d:].ravel())
    if d < h:  # pairs along columns
        a.append(stack[:, :h - d, :].ravel())
        b.append(stack[:, d:, :].ravel())
    return np.concatenate(a), np.concatenate(b)


def correlation_at_distance(image, d: int) -> float:
    """Pearson correlation between the intensities of pixels ``d`` apart (rows and columns pooled).

    ``(H, W)`` or ``(N, H, W)`` -> float in [-1, 1]; ``d = 0`` gives 1. A stack pools the pairs
    of all its images (pairs never straddle two images). Raises ``ValueError`` if the pairs
    have no variance (e.g. a constant image), where the correlation is undefined.
    """
    a, b = pixel_pairs(image, d)
    a = a - a.mean()
    b = b - b.mean()
    denom = np.sqrt((a * a).sum() * (b * b).sum())
    if denom == 0:
        raise ValueError(f"the pixel pairs at distance {d} have zero variance "
                         f"(constant image?); their correlation is undefined")
    return float(np.clip((a * b).sum() / denom, -1.0, 1.0))


def correlation_profile(image, distances) -> np.ndarray:
    """``correlation_at_distance`` for each distance: ``len(distances)`` floats (float64)."""
    return np.array([correlation_at_distance(image, int(d)) for d in distances], dtype=np.float64)


# --------------------------------------------------------------------------- prediction
# Correlation alone says how much one pixel tells about another, not how much a distant pixel
# adds to what the near ones already tell. A linear predictor answers that: predict a pixel
# from the pixels of a window around it and measure the share of its variance explained (R^2)
# on positions the fit did not see.

def window_offsets(r: int) -> list[tuple[int, int]]:
    """The ``(2r + 1)**2 - 1`` offsets ``(dy, dx)`` of a ``(2r+1) x (2r+1)`` window around a
    pixel, the pixel itself excluded (row-major order)."""
    if not isinstance(r, (int, np.integer)) or isinstance(r, bool) or r < 1:
        raise ValueError(f"radius r must be an int >= 1, got {r!r}")
    return [(dy, dx) for dy in range(-r, r + 1) for dx in range(-r, r + 1) if (dy, dx) != (0, 0)]


def prediction_r2(image, offsets, *, n_fit: int = 20_000, n_eval: int = 20_000,
                  margin: int | None = None, seed: int = 0) -> float:
    """R^2 of the least-squares linear prediction (with intercept) of a pixel from the pixels
    at ``offsets`` ``[(dy, dx), ...]`` from it.

    ``(H, W)`` or ``(N, H, W)`` -> float (at most 1; 1 - residual variance / variance).
    Positions ``(n, y, x)`` are drawn at random (``seed``) at least ``margin`` pixels (default:
    the largest offset) from every border; the fit uses ``n_fit`` of them, the score another
    ``n_eval``, so a predictor with many inputs cannot score by memorising.
    """
    stack = _as_stack(image)
    offsets = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)
    if len(offsets) == 0 or np.any(np.all(offsets == 0, axis=1)):
        raise ValueError("offsets must be non-empty and must not contain (0, 0)")
    reach = int(np.abs(offsets).max())
    margin = reach if margin is None else int(margin)
    if margin < reach:
        raise ValueError(f"margin {margin} is smaller than the largest offset {reach}")
    n, h, w = stack.shape
    if min(h, w) <= 2 * margin:
        raise ValueError(f"image of shape {np.shape(image)} is too small for margin {margin}")
    if n_fit < len(offsets) + 1 or n_eval < 2:
        raise ValueError(f"need n_fit > {len(offsets)} (the number of inputs) and n_eval >= 2")
    rng = np.random.default_rng(seed)
    total = n_fit + n_eval
    k = rng.integers(0, n, total)
    y = rng.integers(margin, h - margin, total)
    x = rng.integers(margin, w - margin, total)
    target = stack[k, y, x]
    inputs = np.stack([stack[k, y + dy, x + dx] for dy, dx in offsets], axis=1)
    design = np.concatenate([inputs, np.ones((total, 1))], axis=1)
    coef, *_ = np.linalg.lstsq(design[:n_fit], target[:n_fit], rcond=None)
    residual = target[n_fit:] - design[n_fit:] @ coef
    variance = target[n_fit:].var()
    if variance == 0:
        raise ValueError("the target pixels have zero variance; R^2 is undefined")
    return float(1.0 - residual.var() / variance)


def neighbour_r2(image, radii, **kwargs) -> np.ndarray:
    """:func:`prediction_r2` from the ``(2r+1) x (2r+1)`` window, for each ``r`` of ``radii``,
    all scored on the same positions (margin: the largest radius). ``kwargs`` as
    :func:`prediction_r2`. Returns ``len(radii)`` floats."""
    radii = [int(r) for r in radii]
    kwargs.setdefault("margin", max(radii))
    return np.array([prediction_r2(image, window_offsets(r), **kwargs) for r in radii])
