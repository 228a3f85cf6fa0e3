"""A digit drawn by hand, made to look like an MNIST digit, and what LeNet-5 makes of it.

    x = preprocess_digit(drawing)          # (H, W) ink in [0, 1] -> (28, 28), normalised
    logits, c1, c3 = lenet_maps(model, x)  # the chapter's LeNet-5: logits and both conv maps
    grad = lenet_saliency(model, x)        # d (top logit) / d input; the saliency map is |grad|

MNIST's digits were made this way (LeCun et al., 1998): each written digit was scaled to fit a
20x20 box, keeping its aspect ratio, with anti-aliasing, then placed in a 28x28 image so that
its centre of mass sits at the centre. :func:`preprocess_digit` does the same to any greyscale
drawing (ink bright, background 0), then applies the chapter's normalisation
(:data:`helpers.data.MNIST_NORM`). The website's "draw a digit" explorer runs the same
algorithm in JavaScript (``tools/static/explorers/draw_digit.js``, ``preprocess``); the browser
tests check that both give the same 28x28 input. The explorer also shows the gradient saliency
map (Simonyan et al., 2014) by its own backward pass; :func:`lenet_saliency` is the reference
it is tested against, computed by PyTorch's autograd.
"""
from __future__ import annotations

import numpy as np
import torch

from helpers.data import MNIST_NORM

__all__ = ["BOX", "SIDE", "area_resize", "centre_of_mass", "lenet_maps", "lenet_saliency",
           "preprocess_digit"]

SIDE = 28        # MNIST's image side
BOX = 20         # the side of the box each digit is scaled to fit


def _round_half_up(x: float) -> int:
    """Round to the nearest integer, halves up (as JavaScript's ``Math.round``)."""
    return int(np.floor(x + 0.5))


def _as_ink(image) -> np.ndarray:
    """A drawing as float64 ink in [0, 1]: uint8 is divided by 255, floats must be in [0, 1]."""
    arr = np.asarray(image)
    if arr.ndim != 2 or min(arr.shape) < 1:
        raise ValueError(f"a drawing must be a 2-D greyscale array (H, W), got shape {arr.shape}")
    if arr.dtype == np.uint8:
        return arr.astype(np.float64) / 255.0
    if not np.issubdtype(arr.dtype, np.floating) and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"a drawing must be uint8 or float, got dtype {arr.dtype}")
    ink = arr.astype(np.float64)
    if not np.isfinite(ink).all():
        raise ValueError("a drawing must not contain NaN or infinity")
    if ink.min() < 0 or ink.max() > 1:
        raise ValueError(f"float ink must lie in [0, 1], got [{ink.min()}, {ink.max()}]")
    return ink


def _area_weights(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) matrix: output pixel i averages input pixels over [i, i + 1) * n_in / n_out,
    each weighted by the length of its overlap (area averaging along one axis)."""
    scale = n_in / n_out
    weights = np.zeros((n_out, n_in))
    for i in range(n_out):
        lo, hi = i * scale, (i + 1) * scale
        for k in range(int(np.floor(lo)), min(n_in, int(np.ceil(hi)))):
            weights[i, k] = (min(hi, k + 1) - max(lo, k)) / scale
    return weights


def area_resize(ink: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize a 2-D array to (height, width) by area averaging: each output pixel is the mean
    of the input over the rectangle it covers (anti-aliased when shrinking)."""
    if height < 1 or width < 1:
        raise ValueError(f"output size must be at least 1x1, got {height}x{width}")
    return _area_weights(ink.shape[0], height) @ ink @ _area_weights(ink.shape[1], width).T


def centre_of_mass(ink: np.ndarray) -> tuple[float, float]:
    """(row, column) of the ink's centre of mass, in pixel-index coordinates; rounded to 1e-6,
    so that the same drawing gives the same placement here and in JavaScript."""
    total = ink.sum()
    if total <= 0:
        raise ValueError("no ink: the centre of mass of an empty drawing is undefined")
    rows = (ink.sum(axis=1) * np.arange(ink.shape[0])).sum() / total
    cols = (ink.sum(axis=0) * np.arange(ink.shape[1])).sum() / total
    return (np.floor(rows * 1e6 + 0.5) / 1e6, np.floor(cols * 1e6 + 0.5) / 1e6)


def _fit_and_centre(ink: np.ndarray) -> np.ndarray:
    """Crop to the ink's bounding box, fit in BOX x BOX keeping the aspect ratio, and paste into
    SIDE x SIDE with the centre of mass at the centre (as far as the box stays inside)."""
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        raise ValueError("no ink: the drawing is empty (every pixel is 0)")
    crop = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    h, w = crop.shape
    scale = BOX / max(h, w)
    small = area_resize(crop, max(1, _round_half_up(h * scale)), max(1, _round_half_up(w * scale)))
    cy, cx = centre_of_mass(small)
    centre = (SIDE - 1) / 2
    top = min(max(_round_half_up(centre - cy), 0), SIDE - small.shape[0])
    left = min(max(_round_half_up(centre - cx), 0), SIDE - small.shape[1])
    out = np.zeros((SIDE, SIDE))
    out[top:top + small.shape[0], left:left + small.shape[1]] = small
    return out


def preprocess_digit(image, normalise: bool = True) -> np.ndarray:
    """A drawn digit (H, W) -> the 28x28 float32 input of the chapter's LeNet-5.

    ``image`` is greyscale with bright ink on a 0 background: uint8 (0-255) or float in
    [0, 1]. Crop to the ink's bounding box; scale it to fit 20x20, keeping the aspect ratio,
    by area averaging; paste it into a 28x28 image so that its centre of mass (rounded to a
    whole pixel) is at the centre; then, with ``normalise``, subtract MNIST's mean and divide
    by its standard deviation (:data:`helpers.data.MNIST_NORM`). Raises ValueError for a
    drawing that is not 2-D, has values outside the range, or has no ink.
    """
    out = _fit_and_centre(_as_ink(image))
    if normalise:
        out = (out - MNIST_NORM["mean"]) / MNIST_NORM["std"]
    return out.astype(np.float32)


def _as_batch(x) -> torch.Tensor:
    """One 28x28 input or a batch (N, 28, 28) / (N, 1, 28, 28) -> float32 (N, 1, 28, 28)."""
    t = torch.as_tensor(np.asarray(x, dtype=np.float32))
    if t.ndim == 2:
        t = t[None]
    if t.ndim == 3:
        t = t[:, None]
    if t.ndim != 4 or tuple(t.shape[1:]) != (1, SIDE, SIDE):
        raise ValueError(f"LeNet-5 reads (N, 1, 28, 28) inputs, got shape {tuple(t.shape)}")
    return t


@torch.no_grad()
def lenet_maps(model, x) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The chapter's LeNet-5 (``helpers.models.lenet5(input_size=28)``) on one normalised
    28x28 input or a batch (N, 28, 28) / (N, 1, 28, 28): (logits (N, 10), C1's maps after tanh
    (N, 6, 28, 28), C3's maps after tanh (N, 16, 10, 10)), in evaluation mode."""
    t = _as_batch(x)
    model.eval()
    device = next(model.parameters()).device
    t = t.to(device)
    c1 = model.features[:2](t)
    c3 = model.features[2:5](c1)
    logits = model.classifier(model.features[5:](c3))
    return logits.cpu(), c1.cpu(), c3.cpu()


def lenet_saliency(model, x, target=None) -> torch.Tensor:
    """Gradient saliency (Simonyan et al., 2014): the gradient of one class's logit with respect
    to the input, by PyTorch's autograd, in evaluation mode.

    ``x``: one normalised 28x28 input or a batch, (28, 28), (N, 28, 28) or (N, 1, 28, 28);
    ``target``: None (each input's largest logit, the predicted class), one class for all, or
    N classes. Returns the signed gradient d logit[target] / d x, (N, 28, 28) on the CPU, in
    the dtype of the model's parameters (float32 for the chapter's model; the input, read as
    float32, is cast to it); the saliency map is its absolute value (one channel, so no
    maximum over channels is needed), which the explorer scales to its maximum. Raises
    ValueError for a wrong shape, a non-finite input or a target outside [0, classes).
    """
    t = _as_batch(x)
    if not torch.isfinite(t).all():
        raise ValueError("the input must not contain NaN or infinity")
    model.eval()
    parameter = next(model.parameters())
    t = t.to(device=parameter.device, dtype=parameter.dtype).requires_grad_(True)
    logits = model(t)
    n, classes = logits.shape
    if target is None:
        index = logits.detach().argmax(1)
    else:
        index = torch.as_tensor(target, dtype=torch.long).reshape(-1).to(logits.device)
        if index.numel() == 1:
            index = index.expand(n)
        if index.numel() != n:
            raise ValueError(f"target must be one class or {n} classes, got {index.numel()}")
        if ((index < 0) | (index >= classes)).any():
            raise ValueError(f"target must lie in [0, {classes - 1}], got {index.tolist()}")
    # the samples do not interact (evaluation mode), so the gradient of the sum of the chosen
    # logits is, row by row, each input's own gradient
    (grad,) = torch.autograd.grad(logits.gather(1, index[:, None]).sum(), t)
    return grad[:, 0].detach().cpu()
