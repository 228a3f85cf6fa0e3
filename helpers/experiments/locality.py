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
