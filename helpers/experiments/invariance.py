"""Shifting images by a few pixels and measuring how much a feature map notices.

Chapter 3 tests the claim that pooling keeps *whether* a feature is present while forgetting
*exactly where*: shift the input by 1-3 pixels and compare the feature maps before and after.
A shift is taken as two crops of the same photo, offset by ``(dy, dx)``, so no pixels are
invented at the border.

    a, b = shifted_crops(image, 128, dy=0, dx=2)      # b is a moved 2 px to the left
    relative_change(fa, fb)                            # ||fa - fb|| / ||fa||
    shift_sensitivity(features, images, 128, [1, 2, 3])
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from helpers.device import to_numpy


def _int(name: str, value) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise ValueError(f"{name} must be an int, got {value!r}")
    return int(value)


def shifted_crops(image, size: int, dy: int = 0, dx: int = 0, top: int = 0,
                  left: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two ``size × size`` crops of ``image``, the second offset by ``(dy, dx)`` pixels.

    ``(..., H, W) -> (..., size, size)`` twice: ``image[..., top:top+size, left:left+size]``
    and the crop starting at ``(top + dy, left + dx)``. Seen through the second window the
    content has moved ``dy`` pixels up and ``dx`` pixels to the left. Both windows must lie
    inside the image (``dy``, ``dx`` may be negative).
    """
    image = np.asarray(image)
    if image.ndim < 2:
        raise ValueError(f"image must have shape (..., H, W), got {image.shape}")
    size, dy, dx, top, left = (_int(n, v) for n, v in
                               (("size", size), ("dy", dy), ("dx", dx), ("top", top),
                                ("left", left)))
    h, w = image.shape[-2:]
    for y, x in ((top, left), (top + dy, left + dx)):
        if size <= 0 or y < 0 or x < 0 or y + size > h or x + size > w:
            raise ValueError(f"a {size}x{size} crop at (top={y}, left={x}) does not fit in an "
                             f"image of shape {image.shape}")
    first = image[..., top:top + size, left:left + size]
    second = image[..., top + dy:top + dy + size, left + dx:left + dx + size]
    return first, second


def _pair(a, b) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"feature maps must have the same shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        raise ValueError("feature maps are empty")
    return a, b


def relative_change(a, b) -> float:
    """``||a - b|| / ||a||`` (Frobenius norms over all entries); 0 means unchanged.

    Raises ``ValueError`` for mismatched shapes or an all-zero ``a``.
    """
    a, b = _pair(a, b)
    norm = np.linalg.norm(a)
    if norm == 0:
        raise ValueError("relative change is undefined: the reference feature map is all zero")
    return float(np.linalg.norm(a - b) / norm)


def correlation(a, b) -> float:
    """Pearson correlation of all entries of ``a`` and ``b`` (1 = same up to scale/offset)."""
    a, b = _pair(a, b)
    a, b = a.ravel() - a.mean(), b.ravel() - b.mean()
    denom = np.linalg.norm(a) * np.linalg.norm(b)
    if denom == 0:
        raise ValueError("correlation is undefined for a constant feature map")
    return float(a @ b / denom)


def shift_sensitivity(features: Callable, images: Sequence, size: int,
                      shifts: Sequence[int], metric: Callable = relative_change) -> np.ndarray:
    """Mean ``metric(features(crop), features(shifted crop))`` for each shift.

    For every image and every shift ``s`` the second crop window starts ``s`` pixels further
    right (so the content moves ``s`` pixels LEFT) and, in a second pair, ``s`` pixels further
    down (the content moves UP); the value for ``s`` is the mean over images and both
    directions. ``features`` maps a ``(size, size)`` float32 array to a feature map of any
    shape (NumPy or torch). Returns float64 of shape ``(len(shifts),)``.
    """
    if not callable(features):
        raise ValueError("features must be a callable (size, size) array -> feature map")
    shifts = [_int("shift", s) for s in shifts]
    if not shifts:
        raise ValueError("give at least one shift")
    images = [np.asarray(im, dtype=np.float32) for im in images]
    if not images:
        raise ValueError("give at least one image")
    out = np.zeros(len(shifts))
    for k, s in enumerate(shifts):
        values = []
        for image in images:
            for dy, dx in ((0, s), (s, 0)):
                a, b = shifted_crops(image, size, dy=dy, dx=dx)
                values.append(metric(to_numpy(features(a)), to_numpy(features(b))))
        out[k] = np.mean(values)
    return out



def fourier_shift(x, dy: float = 0.0, dx: float = 0.0):
    """``x`` (..., H, W) moved ``dy`` pixels down and ``dx`` pixels right, circularly, by
    band-limited (Fourier) interpolation: ``(..., H, W) -> (..., H, W)``, float64 torch.

    For whole-pixel moves this is ``torch.roll(x, (dy, dx), (-2, -1))``; for a half pixel it
    is the value between the samples that the sampling theorem gives for a signal without
    detail finer than two pixels (the Nyquist frequency's sine part is lost).
    """
    import torch

    t = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
    if t.ndim < 2:
        raise ValueError(f"x must have shape (..., H, W), got {tuple(t.shape)}")
    t = t.to(torch.float64)
    h, w = t.shape[-2:]
    ky = torch.fft.fftfreq(h, dtype=torch.float64)[:, None]
    kx = torch.fft.fftfreq(w, dtype=torch.float64)[None]
    phase = torch.exp(-2j * np.pi * (ky * float(dy) + kx * float(dx)))
    return torch.fft.ifft2(torch.fft.fft2(t) * phase).real


def equivariance_error(downsample: Callable, maps, dy: int = 0, dx: int = 0,
                       stride: int = 2) -> np.ndarray:
    """How far ``downsample`` is from shift-equivariance, per map (Zhang, 2019).

    ``maps`` (N, C, H, W) are moved ``(dy, dx)`` pixels up and left, circularly (the map wraps
    around, so no border effects), and downsampled: ``downsample(moved)``, (N, C, H/s, W/s).
    The correctly moved output is ``downsample(maps)`` moved ``(dy/s, dx/s)`` output pixels
    (:func:`fourier_shift`: exact when ``s`` divides the shift, band-limited interpolation
    otherwise). Returns float64 (N,): ``||downsample(moved) - moved output|| / ||moved
    output||`` over each map's C channels; 0 means equivariant. ``stride=1`` tests an
    operation without subsampling.
    """
    import torch

    if not callable(downsample):
        raise ValueError("downsample must be a callable (N, C, H, W) -> (N, C, H', W')")
    stride, dy, dx = _int("stride", stride), _int("dy", dy), _int("dx", dx)
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    t = torch.as_tensor(maps)
    if t.ndim != 4:
        raise ValueError(f"maps must have shape (N, C, H, W), got {tuple(t.shape)}")
    out_moved = torch.as_tensor(downsample(torch.roll(t, (-dy, -dx), (-2, -1)))).to(torch.float64)
    expected = fourier_shift(downsample(t), -dy / stride, -dx / stride)
    if out_moved.shape != expected.shape:
        raise ValueError(f"downsample gave {tuple(out_moved.shape)} for the moved maps and "
                         f"{tuple(expected.shape)} for the maps")
    norm = expected.flatten(1).norm(dim=1)
    if (norm == 0).any():
        raise ValueError("equivariance error is undefined for an all-zero output")
    return ((out_moved - expected).flatten(1).norm(dim=1) / norm).numpy()
