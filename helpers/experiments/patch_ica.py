"""Filters learned without labels from colour photos: independent component analysis (ICA) of
small image patches.

The course has no labelled colour data set, so it cannot show what the first layer of a CNN
trained on colour photos learns. It can show the classic result that stands in for it: the
independent components of natural image patches are localised, oriented edge filters
(Bell & Sejnowski 1997; Olshausen & Field 1996 found the same with sparse coding), and for
colour patches many of them are also colour-opponent (Hoyer & Hyvärinen 2000).

Pipeline, all in NumPy and a few seconds on two cores:

* :func:`sample_patches` -- random ``size x size x 3`` patches from photos, ``(n, 3, size, size)``.
* :func:`whiten` -- PCA whitening, keeping the ``keep`` strongest components.
* :func:`fast_ica` -- symmetric FastICA with the ``tanh`` contrast (Hyvärinen & Oja 2000).
* :func:`ica_filters` -- all three, returning the learned basis functions (features) as filters
  ``(keep, 3, size, size)`` in pixel space, like a first conv layer's weight.
* :func:`ica_run` -- the same with a convergence check: each component's |cos| between the
  unmixing rows after ``steps`` and after ``steps + extra`` steps, and its non-Gaussianity.
* :func:`localisation` -- the share of a filter's energy in its best ``window x window`` square.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["IcaRun", "chromatic_share", "fast_ica", "ica_filters", "ica_run", "localisation",
           "non_gaussianity", "sample_patches", "whiten"]


def sample_patches(images, size: int = 8, n: int = 20_000, seed: int = 0) -> np.ndarray:
    """``n`` random square patches from a list of (H, W, 3) photos (uint8 or float in [0, 1]),
    equally many from each photo: -> (n, 3, size, size) float64 in [0, 1]."""
    if size < 2 or n < 1 or not images:
        raise ValueError(f"need size >= 2, n >= 1 and at least one image, got size={size}, "
                         f"n={n}, {len(images)} images")
    rng = np.random.default_rng(seed)
    per_image = np.array_split(np.arange(n), len(images))
    out = np.empty((n, 3, size, size))
    for img, idx in zip(images, per_image):
        a = np.asarray(img, dtype=np.float64)
        if a.ndim != 3 or a.shape[-1] != 3:
            raise ValueError(f"images must be (H, W, 3), got shape {a.shape}")
        if a.max() > 1.0:
            a = a / 255.0
        rows = rng.integers(0, a.shape[0] - size + 1, len(idx))
        cols = rng.integers(0, a.shape[1] - size + 1, len(idx))
        for i, r, c in zip(idx, rows, cols):
            out[i] = a[r:r + size, c:c + size].transpose(2, 0, 1)
    return out


def whiten(patches, keep: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PCA whitening of (n, ...) patches, keeping the ``keep`` components of largest variance.
    Returns ``z`` (n, keep) with identity covariance, the whitening matrix (keep, d) and the
    dewhitening matrix (d, keep), d = the patch size, so ``x - mean ~ z @ dewhite.T``."""
    x = np.asarray(patches, dtype=np.float64).reshape(len(patches), -1)
    if not 1 <= keep <= x.shape[1]:
        raise ValueError(f"keep must be in [1, {x.shape[1]}], got {keep}")
    x = x - x.mean(axis=0)
    cov = x.T @ x / len(x)
    values, vectors = np.linalg.eigh(cov)
    top = np.argsort(values)[::-1][:keep]
    values, vectors = values[top], vectors[:, top]
    white = vectors.T / np.sqrt(values)[:, None]
    dewhite = vectors * np.sqrt(values)[None, :]
    return x @ white.T, white, dewhite


def fast_ica(z, steps: int = 100, seed: int = 0) -> np.ndarray:
    """Symmetric FastICA on whitened data z (n, d) with the contrast G(u) = log cosh u:
    returns the orthogonal unmixing matrix W (d, d), rows = components (s = z @ W.T).
    Update: W <- E[g(Wz) z^T] - diag(E[g'(Wz)]) W, then W <- (W W^T)^(-1/2) W, g = tanh."""
    z = np.asarray(z, dtype=np.float64)
    d = z.shape[1]
    rng = np.random.default_rng(seed)
    w = _decorrelate(rng.standard_normal((d, d)))
    return _iterate(z, w, steps)


def _iterate(z: np.ndarray, w: np.ndarray, steps: int) -> np.ndarray:
    """``steps`` FastICA updates from ``w``, in torch on one thread: the matrices are small,
    and a BLAS that spreads each product over busy cores spends more time waiting than
    computing (NumPy's OpenBLAS threads spin while they wait)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        zt, wt = torch.from_numpy(np.ascontiguousarray(z)), torch.from_numpy(w.copy())
        for _ in range(steps):
            g = torch.tanh(zt @ wt.T)                                   # (n, d)
            wt = g.T @ zt / len(zt) - (1 - g * g).mean(dim=0)[:, None] * wt
            values, vectors = torch.linalg.eigh(wt @ wt.T)
            wt = vectors @ torch.diag(values.rsqrt()) @ vectors.T @ wt
        return wt.numpy()
    finally:
        torch.set_num_threads(threads)


def _decorrelate(w: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh(w @ w.T)
    return vectors @ np.diag(1 / np.sqrt(values)) @ vectors.T @ w


def ica_filters(images, size: int = 8, n: int = 20_000, keep: int = 64, steps: int = 100,
                seed: int = 0) -> np.ndarray:
    """ICA basis functions of colour patches, (keep, 3, size, size): each column of
    ``dewhite @ W.T`` is the image pattern that one independent component adds to a patch."""
    patches = sample_patches(images, size=size, n=n, seed=seed)
    z, _, dewhite = whiten(patches, keep)
    w = fast_ica(z, steps=steps, seed=seed)
    basis = dewhite @ w.T                                      # (d, keep)
    return basis.T.reshape(keep, 3, size, size)


def chromatic_share(filters) -> np.ndarray:
    """Share of each colour filter's energy that is colour rather than brightness, in [0, 1]:
    (K, 3, kh, kw) -> (K,). At every tap the RGB weight vector splits into its grey part (the
    mean of R, G, B, on all three) and the rest; the share is ``sum |rest|^2 / sum |w|^2``.
    0 for a filter that is the same in all channels, 2/3 for one in a single channel, 1 for a
    colour-opponent filter such as red minus green."""
    w = np.asarray(filters, dtype=np.float64)
    if w.ndim != 4 or w.shape[1] != 3:
        raise ValueError(f"colour filters must be (K, 3, kh, kw), got shape {w.shape}")
    rest = w - w.mean(axis=1, keepdims=True)
    energy = (w * w).sum(axis=(1, 2, 3))
    return np.where(energy > 1e-300, (rest * rest).sum(axis=(1, 2, 3))
                    / np.where(energy > 1e-300, energy, 1.0), 0.0)


GAUSSIAN_LOGCOSH = 0.3745672075  # E[log cosh u] for u ~ N(0, 1)


def non_gaussianity(sources) -> np.ndarray:
    """(n, d) unit-variance sources -> (d,): E[log cosh u] of a Gaussian minus that of each
    source; about 0 for a Gaussian source, positive for a sparse (peaked, heavy-tailed) one."""
    s = np.asarray(sources, dtype=np.float64)
    if s.ndim != 2:
        raise ValueError(f"sources must be (n, d), got shape {s.shape}")
    return GAUSSIAN_LOGCOSH - np.log(np.cosh(s)).mean(axis=0)


@dataclass(frozen=True)
class IcaRun:
    """:func:`ica_run`'s result, components sorted by non-Gaussianity (largest first).

    ``filters`` (keep, 3, size, size): the basis functions (columns of ``dewhite @ W.T``, the
    pattern each component adds to a patch); ``non_gaussianity`` (keep,); ``stability`` (keep,):
    |cos| between each component's unmixing row after ``steps`` and the closest row after
    ``steps + extra`` more steps (1 = it no longer moves); ``unmixing`` (keep, 3, size, size):
    the unmixing filters (rows of ``W @ white``, what a patch is multiplied with to read one
    component off it, s = patch . filter), the counterpart of a conv layer's weights."""

    filters: np.ndarray
    non_gaussianity: np.ndarray
    stability: np.ndarray
    steps: int
    extra: int
    unmixing: np.ndarray | None = None


def ica_run(images, size: int = 8, n: int = 6000, keep: int = 48, steps: int = 1500,
            extra: int = 300, seed: int = 0) -> IcaRun:
    """:func:`ica_filters` with a convergence check: FastICA runs ``steps`` steps, the filters are
    taken there, and ``extra`` more steps show how far each component still moves."""
    if steps < 1 or extra < 1:
        raise ValueError(f"steps and extra must be >= 1, got {steps}, {extra}")
    patches = sample_patches(images, size=size, n=n, seed=seed)
    z, white, dewhite = whiten(patches, keep)
    w = fast_ica(z, steps=steps, seed=seed)
    w_more = _iterate(z, w, extra)                             # continue from w
    stability = np.abs(w @ w_more.T).max(axis=1)
    ng = non_gaussianity(z @ w.T)
    order = np.argsort(-ng)
    filters = (dewhite @ w.T).T.reshape(keep, 3, size, size)
    unmixing = (w @ white).reshape(keep, 3, size, size)
    return IcaRun(filters[order], ng[order], stability[order], steps, extra, unmixing[order])


def localisation(filters, window: int = 4) -> np.ndarray:
    """(K, C, k, k) filters -> (K,): the largest share of a filter's energy (sum of squared
    weights over channels) inside any ``window x window`` square of its k x k taps. A filter
    spread evenly over the taps scores window^2 / k^2; one inside a single square scores 1."""
    w = np.asarray(filters, dtype=np.float64)
    if w.ndim != 4 or w.shape[2] != w.shape[3]:
        raise ValueError(f"filters must be (K, C, k, k), got shape {w.shape}")
    k = w.shape[2]
    if not 1 <= window <= k:
        raise ValueError(f"window must be in [1, {k}], got {window}")
    energy = (w * w).sum(axis=1)                                # (K, k, k)
    best = np.zeros(len(w))
    for i in range(k - window + 1):
        for j in range(k - window + 1):
            best = np.maximum(best, energy[:, i:i + window, j:j + window].sum(axis=(1, 2)))
    total = energy.sum(axis=(1, 2))
    return np.where(total > 0, best / np.where(total > 0, total, 1.0), 0.0)
