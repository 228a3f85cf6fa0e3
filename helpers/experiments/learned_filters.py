"""How much structure is in a layer's filters? Two numbers per filter, instead of a picture.

Trained first-layer filters look like oriented edge and blob detectors; random ones look like
noise. These measures turn "looks like" into numbers that a chapter can compare:

* :func:`orientation_coherence` -- from the filter's *gradient structure tensor*
  ``J = sum over pixels and channels of g g^T``, ``g = (d/dx, d/dy)`` of the weights. Its
  eigenvalues ``l1 >= l2 >= 0`` say how strongly the weights change along the dominant direction
  and across it; the coherence ``(l1 - l2) / (l1 + l2)`` is 1 for a perfect edge or stripe
  (all change along one direction), 0 when change is equally strong in every direction.
* :func:`dominant_orientation` -- the direction of strongest change, in degrees.
* :func:`neighbour_correlation` -- the lag-1 correlation of neighbouring weights: near 1 for a
  smooth filter, near 0 for independent random weights.

All functions take a layer's weight ``(K, C, kh, kw)`` (NumPy or torch) and return one value
per filter, shape ``(K,)``; a single filter ``(kh, kw)`` gives a float. The measures are scale
invariant, so a filter and ``3 * filter`` score the same.
"""
from __future__ import annotations

import numpy as np

from helpers.device import to_numpy

__all__ = ["dominant_orientation", "filter_structure", "fraction_oriented",
           "neighbour_correlation", "orientation_coherence", "structure_tensor"]


def _as_filters(weight) -> tuple[np.ndarray, bool]:
    """(K, C, kh, kw) or (kh, kw) -> float64 (K, C, kh, kw), and whether it was one filter."""
    w = to_numpy(weight, dtype=np.float64)
    single = w.ndim == 2
    if single:
        w = w[None, None]
    if w.ndim != 4:
        raise ValueError(f"filters must be (K, C, kh, kw) or one filter (kh, kw), got shape "
                         f"{np.shape(weight)}")
    if w.shape[-1] < 2 or w.shape[-2] < 2:
        raise ValueError(f"filters need at least 2x2 taps to have a gradient, got "
                         f"{w.shape[-2]}x{w.shape[-1]}")
    if not np.isfinite(w).all():
        raise ValueError("filters contain NaN or infinity")
    return w, single


def _result(values: np.ndarray, single: bool):
    return float(values[0]) if single else values


def _gradients(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Derivatives along x (columns) and y (rows, pointing down) at the centres of the 2x2
    cells: (..., kh, kw) -> two arrays (..., kh - 1, kw - 1)."""
    dx = w[..., :, 1:] - w[..., :, :-1]
    dy = w[..., 1:, :] - w[..., :-1, :]
    return (dx[..., 1:, :] + dx[..., :-1, :]) / 2, (dy[..., :, 1:] + dy[..., :, :-1]) / 2


def structure_tensor(weight) -> np.ndarray:
    """Gradient structure tensor per filter: (K, C, kh, kw) -> (K, 2, 2) (or (2, 2) for one
    filter), ``[[sum gx^2, sum gx gy], [sum gx gy, sum gy^2]]`` over pixels and channels, with
    y pointing up (rows are flipped) so angles are counter-clockwise."""
    w, single = _as_filters(weight)
    gx, gy_down = _gradients(w)
    gy = -gy_down
    jxx = (gx * gx).sum(axis=(1, 2, 3))
    jyy = (gy * gy).sum(axis=(1, 2, 3))
    jxy = (gx * gy).sum(axis=(1, 2, 3))
    tensor = np.stack([np.stack([jxx, jxy], -1), np.stack([jxy, jyy], -1)], -2)
    return tensor[0] if single else tensor


def _coherence_and_angle(weight):
    w, single = _as_filters(weight)
    j = structure_tensor(w)
    jxx, jyy, jxy = j[:, 0, 0], j[:, 1, 1], j[:, 0, 1]
    trace = jxx + jyy
    spread = np.sqrt((jxx - jyy) ** 2 + 4 * jxy ** 2)     # l1 - l2
    tiny = trace <= 1e-300
    coherence = np.where(tiny, 0.0, spread / np.where(tiny, 1.0, trace))
    angle = np.degrees(0.5 * np.arctan2(2 * jxy, jxx - jyy)) % 180.0
    return np.clip(coherence, 0.0, 1.0), angle, single


def orientation_coherence(weight):
    """(l1 - l2) / (l1 + l2) of each filter's structure tensor, in [0, 1]:
    (K, C, kh, kw) -> (K,). 1 = all change along one direction (an edge), 0 = no preferred
    direction (or a constant filter)."""
    coherence, _, single = _coherence_and_angle(weight)
    return _result(coherence, single)


def dominant_orientation(weight):
    """Direction of strongest change of each filter, degrees in [0, 180) counter-clockwise from
    the x axis (left to right): (K, C, kh, kw) -> (K,). A vertical edge (dark left, bright right)
    gives 0, a horizontal edge gives 90. Meaningless when the coherence is near 0."""
    _, angle, single = _coherence_and_angle(weight)
    return _result(angle, single)


def neighbour_correlation(weight):
    """Lag-1 correlation of horizontally and vertically adjacent weights, pooled over channels,
    in [-1, 1]: (K, C, kh, kw) -> (K,). With ``a = w - mean(w)`` per filter and the sums over all
    adjacent pairs (i, j): ``sum a_i a_j / sum (a_i^2 + a_j^2) / 2``. Smooth filters score near 1,
    independent random weights near 0, a checkerboard -1; a constant filter 0."""
    w, single = _as_filters(weight)
    a = w - w.mean(axis=(1, 2, 3), keepdims=True)
    pairs = [(a[..., :, 1:], a[..., :, :-1]), (a[..., 1:, :], a[..., :-1, :])]
    num = sum((p * q).sum(axis=(1, 2, 3)) for p, q in pairs)
    den = sum(((p * p + q * q) / 2).sum(axis=(1, 2, 3)) for p, q in pairs)
    tiny = den <= 1e-300
    return _result(np.where(tiny, 0.0, num / np.where(tiny, 1.0, den)), single)


def fraction_oriented(weight, threshold: float = 0.5) -> float:
    """Fraction of the filters whose orientation coherence is at least ``threshold``."""
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    coherence = np.atleast_1d(orientation_coherence(weight))
    return float((coherence >= threshold).mean())


def filter_structure(weight, threshold: float = 0.5) -> dict[str, float]:
    """The layer's summary: mean coherence, fraction oriented (coherence >= ``threshold``) and
    mean neighbour correlation, each a float."""
    return {"mean coherence": float(np.mean(orientation_coherence(weight))),
            "fraction oriented": fraction_oriented(weight, threshold),
            "neighbour correlation": float(np.mean(neighbour_correlation(weight)))}
