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
* :func:`dc_share` and :func:`oriented_score` -- the coherence ignores a filter's mean (adding a
  constant changes no gradient), yet a filter whose weights are mostly positive responds to
  brightness, not to edges. ``dc_share`` is the share of the filter's energy ``sum w^2`` in its
  mean, ``n mean^2 / sum w^2``; ``oriented_score = coherence * (1 - dc_share)`` is high only
  for a filter that is both directional and zero-mean, like an edge detector.
* :func:`spectrum_matched_filters` -- random filters with the same mean power spectrum (hence
  the same autocorrelation and smoothness, and the same expected mean) as a given set: the fair
  baseline for "more oriented than chance" (phase-randomised surrogates).

All functions take a layer's weight ``(K, C, kh, kw)`` (NumPy or torch) and return one value
per filter, shape ``(K,)``; a single filter ``(kh, kw)`` gives a float. The measures are scale
invariant, so a filter and ``3 * filter`` score the same.
"""
from __future__ import annotations

import numpy as np

from helpers.device import to_numpy

__all__ = ["dc_share", "dominant_orientation", "filter_structure", "fraction_oriented",
           "neighbour_correlation", "orientation_coherence", "oriented_score",
           "spectrum_matched_filters", "structure_tensor"]


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
    """The layer's summary, each a float: mean coherence, mean share of energy in the mean
    (``dc_share``), mean ``oriented_score``, fraction oriented (``oriented_score >=
    threshold``) and mean neighbour correlation."""
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    score = np.atleast_1d(oriented_score(weight))
    return {"mean coherence": float(np.mean(orientation_coherence(weight))),
            "mean DC share": float(np.mean(dc_share(weight))),
            "mean score": float(score.mean()),
            "fraction oriented": float((score >= threshold).mean()),
            "neighbour correlation": float(np.mean(neighbour_correlation(weight)))}


def dc_share(weight):
    """Share of each filter's energy in its mean, over all channels and taps, in [0, 1]:
    (K, C, kh, kw) -> (K,). ``n mean(w)^2 / sum(w^2)`` with n = C kh kw: 1 for a constant
    filter, 0 for a zero-mean one (an all-zero filter gives 0)."""
    w, single = _as_filters(weight)
    energy = (w * w).sum(axis=(1, 2, 3))
    n = w[0].size
    mean_energy = n * w.mean(axis=(1, 2, 3)) ** 2
    tiny = energy <= 1e-300
    share = np.where(tiny, 0.0, mean_energy / np.where(tiny, 1.0, energy))
    return _result(np.clip(share, 0.0, 1.0), single)


def oriented_score(weight):
    """Mean-aware orientation: ``orientation_coherence * (1 - dc_share)``, in [0, 1]:
    (K, C, kh, kw) -> (K,). A tilted all-positive filter has a high coherence but acts as a
    brightness detector; its large mean share pulls the score down."""
    w, single = _as_filters(weight)
    return _result(orientation_coherence(w) * (1.0 - dc_share(w)), single)


def _symmetries(w: np.ndarray) -> np.ndarray:
    """(K, C, k, k) -> (8K, C, k, k): each filter, its three quarter turns and their mirrors."""
    turns = [np.rot90(w, r, axes=(-2, -1)) for r in range(4)]
    return np.concatenate(turns + [t[..., ::-1] for t in turns])


def spectrum_matched_filters(weight, n: int, seed: int = 0, isotropic: bool = True) -> np.ndarray:
    """``n`` random filters with the same second-order statistics as the given ones:
    (K, C, kh, kw) -> (n, C, kh, kw), float64.

    Each filter is scaled to unit energy; their mean autocorrelation (at every lag that fits in
    a filter, between every pair of channels), divided by the number of tap pairs at each lag,
    is the covariance of a stationary random field. Its cross-spectrum ``S(f)``, a C x C
    Hermitian matrix per spatial frequency (negative eigenvalues clipped to 0), shapes white
    Gaussian noise on the (2 kh - 1, 2 kw - 1) grid, and a kh x kw crop is one surrogate. The
    surrogates match the filters' smoothness (the covariance of weights at each distance) and
    the correlation between their channels, but have random phases: any orientation they show
    is chance at that smoothness (a phase-randomised surrogate). With ``isotropic`` (the default,
    square filters only) the spectrum is also averaged over the filters' quarter turns and
    mirror images, so the surrogates prefer no direction; without it, a set of filters that
    share an orientation hands that orientation to the baseline."""
    w, _ = _as_filters(weight)
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    kh, kw = w.shape[-2:]
    if isotropic:
        if kh != kw:
            raise ValueError(f"isotropic=True needs square filters, got {kh}x{kw}")
        w = _symmetries(w)
    norms = np.sqrt((w * w).sum(axis=(1, 2, 3), keepdims=True))
    w = w / np.where(norms > 1e-300, norms, 1.0)           # each filter counts equally
    shape = (2 * kh - 1, 2 * kw - 1)
    spectra = np.fft.fft2(w, s=shape)                       # (K, C, P, Q)
    cross = np.einsum("kcpq,kdpq->pqcd", spectra, spectra.conj()) / len(w)
    # mean autocorrelation summed over the overlapping taps -> per-pair covariance of a
    # stationary field: divide each lag by the number of tap pairs at that lag
    lags = np.fft.ifft2(cross, axes=(0, 1))
    dy = np.minimum(np.arange(shape[0]), shape[0] - np.arange(shape[0]))
    dx = np.minimum(np.arange(shape[1]), shape[1] - np.arange(shape[1]))
    pairs = np.outer(kh - dy, kw - dx).astype(np.float64)
    cross = np.fft.fft2(lags / pairs[:, :, None, None], axes=(0, 1))
    cross = (cross + cross.conj().transpose(0, 1, 3, 2)) / 2
    values, vectors = np.linalg.eigh(cross)                 # Hermitian square root per frequency
    root = np.einsum("pqce,pqe,pqde->pqcd", vectors, np.sqrt(np.clip(values, 0, None)),
                     vectors.conj())
    rng = np.random.default_rng(seed)
    noise = np.fft.fft2(rng.standard_normal((n, w.shape[1], *shape)))
    field = np.fft.ifft2(np.einsum("pqcd,ndpq->ncpq", root, noise)).real
    return field[..., :kh, :kw] / np.sqrt(np.prod(shape))
