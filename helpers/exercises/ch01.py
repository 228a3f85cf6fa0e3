"""Chapter 1 exercises: why not fully connected?

====  ===============================================  ==========================================
1.1   ``dense_params(in_features, out_features,         number of weights + biases of a dense
      bias=True)``                                      layer (an int)
1.2   ``image_to_vector(images)``                       ``(N, H, W)`` or ``(N, C, H, W)`` ->
                                                        ``(N, C·H·W)``, NumPy or torch, same kind
                                                        and dtype, C-order (as ``nn.Flatten``)
1.3   ``place_on_canvas(digit, canvas_size, top,        ``(h, w)`` -> ``(S, S)`` zeros of the
      left)``                                           digit's dtype, digit's top-left pixel at
                                                        row ``top``, column ``left``
1.4   ``correlation_at_distance(image, d)``             Pearson correlation of pixel pairs ``d``
                                                        apart, along rows AND columns pooled;
                                                        ``(H, W)`` or ``(N, H, W)`` -> float
====  ===============================================  ==========================================

The references of 1.3 and 1.4 are the chapter's own helpers
(:mod:`helpers.experiments.translation`, :mod:`helpers.experiments.locality`), so a learner's
function can stand in for them. The cases only use what the exercise statement asks for:
square integer canvases and 2-D digits that fit (1.3);
distances ``1 <= d < min(H, W)`` (1.4).
"""
from __future__ import annotations

import numpy as np
import torch

from helpers.exercises.core import Case, Exercise, Mistake, checker
from helpers.experiments.locality import correlation_at_distance as _correlation_at_distance
from helpers.experiments.translation import place_on_canvas as _place_on_canvas

__all__ = ["check_correlation_at_distance", "check_dense_params", "check_image_to_vector",
           "check_place_on_canvas"]


# --------------------------------------------------------------------------- 1.1 dense layer size

def dense_params(in_features, out_features, bias=True):
    """Weights (in_features × out_features) plus one bias per output unit."""
    return in_features * out_features + (out_features if bias else 0)


def _dense_cases(rng) -> list[Case]:
    cases = [Case((3, 5)), Case((5, 3), {"bias": False}),
             Case((1, 1), label="one input and one unit"),
             Case((784, 10), label="MNIST digit to 10 classes"),
             Case((256 * 256, 1000), label="256×256 grey image into 1,000 units"),
             Case((3 * 256 * 256, 1000), {"bias": False}, label="the same in colour, no bias"),
             Case((3 * 1000 * 1000, 1000), {"bias": False},
                  label="a 1-megapixel colour photo into 1,000 units: 3e9, past int32")]
    for bias in (True, False, True):
        n_in, n_out = (int(v) for v in rng.integers(2, 5000, size=2))
        cases.append(Case((n_in, n_out), {"bias": bias}))
    return cases


def _int32_count(n_in, n_out, bias=True):
    with np.errstate(over="ignore"):
        return int(np.int32(n_in) * np.int32(n_out) + np.int32(n_out if bias else 0))


DENSE_PARAMS = Exercise(
    number="1.1", title="Parameters of a dense layer", reference=dense_params,
    cases=_dense_cases,
    mistakes=[
        Mistake("you left out the biases: a dense layer has one bias per output unit, "
                "`out_features` of them (unless `bias=False`).",
                lambda n_in, n_out, bias=True: n_in * n_out),
        Mistake("you counted one bias per INPUT; each OUTPUT unit has its own bias, so there are "
                "`out_features` biases.",
                lambda n_in, n_out, bias=True: n_in * n_out + (n_in if bias else 0)),
        Mistake("you ignored `bias=False`: without bias the layer has only the "
                "in_features × out_features weights.",
                lambda n_in, n_out, bias=True: n_in * n_out + n_out),
        Mistake("you counted a single bias for the whole layer; each output unit has its own, "
                "so there are `out_features` biases.",
                lambda n_in, n_out, bias=True: n_in * n_out + (1 if bias else 0)),
        Mistake("you added the sizes instead of multiplying them: every input is connected to "
                "every output, so the weights form an in_features × out_features matrix.",
                lambda n_in, n_out, bias=True: n_in + n_out + (n_out if bias else 0)),
        Mistake("your count overflowed: a 32-bit integer holds at most 2,147,483,647, and the "
                "1-megapixel photo needs 3e9 weights. Use Python ints (plain `*`), not "
                "`np.int32`.", _int32_count),
    ],
)
check_dense_params = checker(DENSE_PARAMS, "check_dense_params")


# --------------------------------------------------------------------------- 1.2 flatten images

def image_to_vector(images):
    """(N, H, W) or (N, C, H, W) -> (N, C·H·W); same array/tensor kind and dtype."""
    return images.reshape(images.shape[0], -1)


def _channels_last(images):
    """(N, C, H, W) -> (N, H, W, C); (N, H, W) unchanged."""
    if images.ndim == 3:
        return images
    if isinstance(images, torch.Tensor):
        return torch.movedim(images, 1, -1)
    return np.moveaxis(images, 1, -1)


def _flatten_cases(rng) -> list[Case]:
    def images(shape, dtype):
        if np.dtype(dtype).kind == "u":
            return rng.integers(0, 256, size=shape).astype(dtype)
        return rng.standard_normal(shape).astype(dtype)

    return [
        Case((images((2, 5, 4), np.uint8),), label="grey NumPy batch"),
        Case((images((3, 3, 4, 6), np.float32),), label="colour NumPy batch"),
        Case((torch.from_numpy(images((2, 3, 5, 4), np.float32)),), label="colour torch batch"),
        Case((torch.from_numpy(images((4, 7, 5), np.uint8)),), label="grey torch batch"),
        Case((images((1, 2, 3, 5), np.float64),), label="a batch of one"),
        Case((images((2, 1, 6, 4), np.float32),), label="one channel"),
    ]


IMAGE_TO_VECTOR = Exercise(
    number="1.2", title="Flatten images into vectors", reference=image_to_vector,
    cases=_flatten_cases, shape_hint="(N, C·H·W)",
    mistakes=[
        Mistake("you flattened the batch axis too; keep N and flatten the rest: one row per "
                "image, shape (N, C·H·W).",
                lambda images: images.reshape(-1)),
        Mistake("you returned a list of vectors; return ONE array (or tensor) of shape "
                "(N, C·H·W) — reshape the whole batch at once.",
                lambda images: [img.reshape(-1) for img in images]),
        Mistake("you merged only the last two axes (H·W) and left the channels in the batch "
                "axis; every image's channels belong in its vector: (N, C·H·W).",
                lambda images: images.reshape(-1, images.shape[-2] * images.shape[-1])),
        Mistake("you flattened column by column (H and W swapped); flatten row by row, in the "
                "(C, H, W) order the images are stored: `images.reshape(N, -1)`.",
                lambda images: images.swapaxes(-1, -2).reshape(images.shape[0], -1)),
        Mistake("you moved the channels last (H, W, C order) before flattening; PyTorch keeps "
                "images as (C, H, W), so flatten in that order: `images.reshape(N, -1)`.",
                lambda images: _channels_last(images).reshape(images.shape[0], -1)),
    ],
)
check_image_to_vector = checker(IMAGE_TO_VECTOR, "check_image_to_vector")


# --------------------------------------------------------------------------- 1.3 translation

def place_on_canvas(digit, canvas_size, top, left):
    """(h, w) -> (S, S), S = canvas_size: zeros with ``digit`` at rows top.., columns left.."""
    return _place_on_canvas(digit, canvas_size, top, left)


def _canvas_cases(rng) -> list[Case]:
    def digit(h, w=None, dtype=np.uint8):
        w = h if w is None else w
        d = rng.integers(1, 256, size=(h, w))
        d[rng.random((h, w)) < 0.3] = 0
        return d.astype(dtype)

    cases = [Case((digit(28), 56, 14, 14), label="centred"),
             Case((digit(28), 56, 0, 28), label="top-right corner"),
             Case((digit(28), 56, 28, 0), label="bottom-left corner"),
             Case((digit(28), 28, 0, 0), label="canvas as big as the digit"),
             Case((digit(5, 3), 9, 1, 3), label="a tall digit, 5×3"),
             Case((digit(4, 7), 11, 4, 2), label="a wide digit, 4×7"),
             Case((digit(6, 5, np.float32), 10, 4, 2), label="float32 digit, 6×5")]
    for _ in range(3):
        h, w, canvas = int(rng.integers(3, 8)), int(rng.integers(3, 8)), int(rng.integers(9, 16))
        top, left = int(rng.integers(0, canvas - h + 1)), int(rng.integers(0, canvas - w + 1))
        cases.append(Case((digit(h, w), canvas, top, left)))
    return cases


def _placed(digit, canvas_size, top, left):
    """The digit placed at (top, left), cropped where it runs off the canvas (a mistake's
    placement need not fit)."""
    canvas = np.zeros((canvas_size, canvas_size), dtype=digit.dtype)
    part = canvas[top:top + digit.shape[0], left:left + digit.shape[1]]
    part[...] = digit[:part.shape[0], :part.shape[1]]
    return canvas


def _swapped(digit, canvas_size, top, left):
    return _placed(digit, canvas_size, left, top)


def _float_canvas(digit, canvas_size, top, left):
    return _place_on_canvas(digit, canvas_size, top, left).astype(np.float64)


def _transposed_digit(digit, canvas_size, top, left):
    return _placed(digit.T, canvas_size, top, left)


def _padded_too_much(digit, canvas_size, top, left):
    return np.pad(digit, ((top, canvas_size - top), (left, canvas_size - left)))


PLACE_ON_CANVAS = Exercise(
    number="1.3", title="Place a digit on a canvas", reference=place_on_canvas,
    cases=_canvas_cases, shape_hint="(canvas_size, canvas_size)",
    mistakes=[
        Mistake("you swapped the row and the column: `top` is the row (the first index), "
                "`left` the column (the second index).", _swapped),
        Mistake("your canvas is float64 but it must have the digit's dtype: "
                "`np.zeros((canvas_size, canvas_size), dtype=digit.dtype)`.", _float_canvas),
        Mistake("you placed the transposed digit (rows and columns swapped); copy it as it is.",
                _transposed_digit),
        Mistake("your canvas is too big: with `np.pad` the padding after the digit is "
                "`canvas_size - h - top` rows and `canvas_size - w - left` columns.",
                _padded_too_much),
    ],
)
check_place_on_canvas = checker(PLACE_ON_CANVAS, "check_place_on_canvas")


# --------------------------------------------------------------------------- 1.4 locality

def correlation_at_distance(image, d):
    """Pearson correlation of pixel pairs d apart (rows and columns pooled): (H, W) or (N, H, W)
    -> float in [-1, 1]."""
    return _correlation_at_distance(image, d)


def _pairs(image, d, rows=True, cols=True):
    """Pixel pairs ``d`` apart as two flat arrays, dtype kept (for the mistakes below)."""
    x = np.asarray(image)
    a, b = [], []
    if rows:
        a.append(x[..., :-d].ravel())
        b.append(x[..., d:].ravel())
    if cols:
        a.append(x[..., :-d, :].ravel())
        b.append(x[..., d:, :].ravel())
    return np.concatenate(a), np.concatenate(b)


def _pearson(a, b) -> float:
    a, b = a.astype(np.float64), b.astype(np.float64)
    return float(np.corrcoef(a, b)[0, 1])


def _rows_only(image, d):
    return _pearson(*_pairs(image, d, cols=False))


def _covariance(image, d):
    a, b = (v.astype(np.float64) for v in _pairs(image, d))
    return float(np.mean((a - a.mean()) * (b - b.mean())))


def _covariance_ddof1(image, d):
    a, b = _pairs(image, d)
    return float(np.cov(a.astype(np.float64), b.astype(np.float64))[0, 1])


def _distance_minus_one(image, d):
    return 1.0 if d == 1 else _pearson(*_pairs(image, d - 1))


def _with_itself(image, d):
    a, _ = _pairs(image, d)
    return _pearson(a, a)


def _rolled(image, d):
    x = np.asarray(image, dtype=np.float64)
    a = np.concatenate([x.ravel(), x.ravel()])
    b = np.concatenate([np.roll(x, -d, axis=-1).ravel(), np.roll(x, -d, axis=-2).ravel()])
    return _pearson(a, b)


def _uint8_overflow(image, d):
    a, b = _pairs(image, d)                       # still uint8: a * b wraps around at 256
    cov = np.mean(a * b) - a.mean() * b.mean()
    return float(cov / (a.std() * b.std()))


def _per_image_mean(image, d):
    x = np.asarray(image, dtype=np.float64)
    if x.ndim == 2:
        return _pearson(*_pairs(x, d))
    return float(np.mean([_pearson(*_pairs(img, d)) for img in x]))


def _locality_cases(rng) -> list[Case]:
    def smooth(shape, dtype):
        x = rng.standard_normal(shape)
        for _ in range(3):  # a little blur: neighbouring pixels become correlated
            x = (x + np.roll(x, 1, axis=-1) + np.roll(x, 1, axis=-2)) / 3
        if np.dtype(dtype).kind == "u":
            x = (x - x.min()) / (x.max() - x.min()) * 255
            return x.round().astype(dtype)
        return x.astype(dtype)

    return [Case((smooth((12, 17), np.float64), 1)),
            Case((smooth((12, 17), np.uint8), 1), label="uint8 image"),
            Case((smooth((16, 20), np.uint8), 2), label="uint8 image"),
            Case((smooth((20, 16), np.uint8), 5), label="uint8 image"),
            Case((smooth((3, 10, 14), np.uint8), 2), label="a stack of 3 images"),
            Case((smooth((4, 9, 12), np.float64) * np.arange(1.0, 5.0)[:, None, None], 1),
                 label="a stack of 4 images of different contrast"),
            Case((smooth((9, 11), np.float32), 8), label="largest distance"),
            Case((smooth((14, 14), np.float64), 3))]


def _outside_unit_interval(case, got, expected):
    try:
        value = float(got)
    except (TypeError, ValueError):
        return None
    if abs(value) > 1 + 1e-9:
        return (f"a correlation always lies between −1 and 1, yours is {value:.4g} — did you "
                "forget to divide by the two standard deviations?")
    return None


CORRELATION_AT_DISTANCE = Exercise(
    number="1.4", title="Correlation of pixels at a distance", reference=correlation_at_distance,
    cases=_locality_cases, rtol=1e-5, atol=1e-5, diagnose=_outside_unit_interval,
    mistakes=[
        Mistake("you correlated the pixels with themselves (that is always 1): pair each pixel "
                "with the one d pixels further along, `x[..., :-d]` with `x[..., d:]`.",
                _with_itself),
        Mistake("you only used pairs along the rows; pairs along the columns, `(y, x)` and "
                "`(y + d, x)`, count too — pool both kinds before correlating.", _rows_only),
        Mistake("you computed the covariance; divide it by both standard deviations to get the "
                "correlation (which always lies between −1 and 1).", _covariance),
        Mistake("you computed the covariance; divide it by both standard deviations to get the "
                "correlation (which always lies between −1 and 1).", _covariance_ddof1),
        Mistake("you paired pixels d − 1 apart (an off-by-one in a slice): pixels d apart are "
                "`x[..., :-d]` and `x[..., d:]`.", _distance_minus_one),
        Mistake("`np.roll` wraps around the edge and pairs the last columns with the first ones; "
                "slice instead, so that only real pairs d apart count.", _rolled),
        Mistake("you averaged one correlation per image; the statement pools the pairs of ALL "
                "images of the stack first and computes one correlation of the pooled pairs "
                "(concatenate, then correlate).", _per_image_mean),
        Mistake("your arithmetic overflowed: the image is uint8, where products and sums wrap "
                "around at 256 — convert first, `image.astype(np.float64)`.", _uint8_overflow),
    ],
)
check_correlation_at_distance = checker(CORRELATION_AT_DISTANCE, "check_correlation_at_distance")


EXERCISES = [DENSE_PARAMS, IMAGE_TO_VECTOR, PLACE_ON_CANVAS, CORRELATION_AT_DISTANCE]
