"""Moving digits around: place small images on a larger blank canvas.

Chapter 1 uses this to build the *translation experiment*: train on digits at the centre of
a 56×56 canvas, then test on the same kind of digits pushed into the corners.

    place_on_canvas(digit, 56, top=14, left=14)      # (28, 28) -> (56, 56)
    positions(56, 28)["top-left"]                     # (0, 0)
    shifted_from_centre(digits, 56, dy=-6, dx=-6)     # 6 px up and left of the centre
    translation_datasets(x_train, x_test, 56)         # centred train / centred test / corner test
"""
from __future__ import annotations

import numpy as np

CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")
POSITIONS = ("centre", *CORNERS)


def _canvas_shape(canvas_size) -> tuple[int, int]:
    if isinstance(canvas_size, (int, np.integer)) and not isinstance(canvas_size, bool):
        shape = (int(canvas_size), int(canvas_size))
    elif (isinstance(canvas_size, (tuple, list)) and len(canvas_size) == 2
          and all(isinstance(s, (int, np.integer)) for s in canvas_size)):
        shape = (int(canvas_size[0]), int(canvas_size[1]))
    else:
        raise ValueError(f"canvas_size must be an int or an (height, width) pair of ints, "
                         f"got {canvas_size!r}")
    if min(shape) <= 0:
        raise ValueError(f"canvas_size must be positive, got {canvas_size!r}")
    return shape


def place_on_canvas(digit, canvas_size, top: int, left: int) -> np.ndarray:
    """Paste ``digit`` onto a zero canvas with its top-left pixel at ``(top, left)``.

    ``(h, w) -> (S, S)`` or, for a stack, ``(N, h, w) -> (N, S, S)`` where ``S = canvas_size``
    (an int, or a ``(height, width)`` pair for a rectangular canvas). The canvas has the
    digit's dtype; the input is not modified. The digit must fit entirely:
    ``0 <= top <= S_h - h`` and ``0 <= left <= S_w - w``.
    """
    digit = np.asarray(digit)
    if digit.ndim not in (2, 3):
        raise ValueError(f"digit must have shape (h, w) or (N, h, w), got {digit.shape}")
    ch, cw = _canvas_shape(canvas_size)
    h, w = digit.shape[-2:]
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (top, left)):
        raise ValueError(f"top and left must be ints, got top={top!r}, left={left!r}")
    if not (0 <= top <= ch - h and 0 <= left <= cw - w):
        raise ValueError(f"a {h}x{w} digit at top={top}, left={left} does not fit on a "
                         f"{ch}x{cw} canvas (need 0 <= top <= {ch - h}, 0 <= left <= {cw - w})")
    canvas = np.zeros(digit.shape[:-2] + (ch, cw), dtype=digit.dtype)
    canvas[..., top:top + h, left:left + w] = digit
    return canvas


def positions(canvas_size, digit_size) -> dict[str, tuple[int, int]]:
    """``{name: (top, left)}`` for the centre and the four corners of the canvas.

    ``digit_size`` is an int or ``(h, w)``; the centre offset is ``(S - h) // 2``.
    """
    ch, cw = _canvas_shape(canvas_size)
    h, w = _canvas_shape(digit_size)
    if h > ch or w > cw:
        raise ValueError(f"a {h}x{w} digit does not fit on a {ch}x{cw} canvas")
    return {"centre": ((ch - h) // 2, (cw - w) // 2),
            "top-left": (0, 0), "top-right": (0, cw - w),
            "bottom-left": (ch - h, 0), "bottom-right": (ch - h, cw - w)}


def place_at(images, canvas_size, where) -> np.ndarray:
    """``(N, h, w) -> (N, S, S)``: every image at the named position (see :data:`POSITIONS`).

    ``where`` is one name, or a sequence of N names (one per image).
    """
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"images must have shape (N, h, w), got {images.shape}")
    table = positions(canvas_size, images.shape[1:])
    names = [where] * len(images) if isinstance(where, str) else list(where)
    if len(names) != len(images):
        raise ValueError(f"got {len(names)} positions for {len(images)} images")
    unknown = sorted(set(names) - set(POSITIONS))
    if unknown:
        raise ValueError(f"unknown positions {unknown}; choose from {POSITIONS}")
    out = np.zeros((len(images),) + _canvas_shape(canvas_size), dtype=images.dtype)
    for name in set(names):
        idx = np.flatnonzero(np.asarray(names) == name)
        out[idx] = place_on_canvas(images[idx], canvas_size, *table[name])
    return out


def shifted_from_centre(images, canvas_size, dy: int, dx: int) -> np.ndarray:
    """``(N, h, w) -> (N, S, S)``: the images at the centre position moved ``dy`` pixels down
    and ``dx`` pixels right (negative values move them up / left)."""
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"images must have shape (N, h, w), got {images.shape}")
    top, left = positions(canvas_size, images.shape[1:])["centre"]
    return place_on_canvas(images, canvas_size, top + dy, left + dx)


def ink_extent(images) -> np.ndarray:
    """``(N, h, w) -> (N, 2)``: height and width of the smallest box holding each image's
    non-zero pixels (0, 0 for a blank image)."""
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"images must have shape (N, h, w), got {images.shape}")
    out = np.zeros((len(images), 2), dtype=np.int64)
    for axis, col in ((2, 0), (1, 1)):  # rows with ink -> height; columns with ink -> width
        lit = (images != 0).any(axis=axis)
        first, last = lit.argmax(axis=1), lit.shape[1] - lit[:, ::-1].argmax(axis=1)
        out[:, col] = np.where(lit.any(axis=1), last - first, 0)
    return out


def corner_names(n: int) -> list[str]:
    """The four corners in turn, ``n`` names: each corner gets a quarter of the images."""
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n}")
    return [CORNERS[i % len(CORNERS)] for i in range(n)]


def translation_datasets(x_train, x_test, canvas_size=56) -> dict[str, np.ndarray]:
    """The translation experiment's images, all ``(N, S, S)`` with the input dtype.

    ``"train"``: training digits at the centre; ``"test-centre"``: test digits at the centre;
    ``"test-corner"``: the same test digits, each pushed into a corner (the four corners in
    turn, so labels stay aligned with ``x_test``).
    """
    return {"train": place_at(x_train, canvas_size, "centre"),
            "test-centre": place_at(x_test, canvas_size, "centre"),
            "test-corner": place_at(x_test, canvas_size, corner_names(len(x_test)))}
