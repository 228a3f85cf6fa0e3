"""helpers.digits: a drawing made MNIST-like, and LeNet-5's maps, checked against PyTorch."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers.data import MNIST_NORM
from helpers.digits import (
    BOX,
    SIDE,
    area_resize,
    centre_of_mass,
    lenet_maps,
    lenet_saliency,
    preprocess_digit,
)
from helpers.models import lenet5


def ink_of(x: np.ndarray) -> np.ndarray:
    return x * MNIST_NORM["std"] + MNIST_NORM["mean"]


def test_a_tall_drawing_fits_20_pixels_high_and_keeps_its_aspect_ratio():
    drawing = np.zeros((300, 200))
    drawing[50:250, 80:130] = 1.0              # 200 x 50 ink: 20 x 5 after fitting
    ink = preprocess_digit(drawing, normalise=False)
    assert ink.shape == (SIDE, SIDE) and ink.dtype == np.float32
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    assert (len(rows), len(cols)) == (BOX, 5)
    assert np.allclose(ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1], 1.0)


def test_the_centre_of_mass_lands_on_the_centre():
    rng = np.random.default_rng(1)
    drawing = np.zeros((120, 90))
    drawing[10:70, 20:50] = rng.random((60, 30))
    ink = preprocess_digit(drawing, normalise=False).astype(np.float64)
    cy, cx = centre_of_mass(ink)
    assert abs(cy - 13.5) <= 0.5 and abs(cx - 13.5) <= 0.5


def test_area_resize_averages_and_keeps_the_mean():
    rng = np.random.default_rng(0)
    image = rng.random((35, 21))
    small = area_resize(image, 7, 3)                           # 5 x 7 blocks: plain means
    blocks = image.reshape(7, 5, 3, 7).mean(axis=(1, 3))
    assert np.allclose(small, blocks)
    odd = area_resize(image, 9, 4)                             # fractional overlaps
    assert np.isclose(odd.mean(), image.mean())
    assert np.allclose(area_resize(image, 35, 21), image)


def test_normalisation_is_the_chapters():
    drawing = np.zeros((40, 40), dtype=np.uint8)
    drawing[5:35, 18:22] = 255
    x = preprocess_digit(drawing)
    assert np.allclose(ink_of(x), preprocess_digit(drawing, normalise=False), atol=1e-6)
    assert np.isclose(x.min(), -MNIST_NORM["mean"] / MNIST_NORM["std"])


@pytest.mark.parametrize("bad, message", [
    (np.zeros((10, 10)), "no ink"),
    (np.zeros((10, 10, 3)), "2-D"),
    (np.zeros((0, 5)), "2-D"),
    (np.full((4, 4), 1.5), r"\[0, 1\]"),
    (np.full((4, 4), np.nan), "NaN"),
    (np.array([["a"]]), "dtype"),
])
def test_bad_drawings_are_refused_clearly(bad, message):
    with pytest.raises(ValueError, match=message):
        preprocess_digit(bad)


def test_lenet_maps_are_the_models_own_layers():
    torch.manual_seed(0)
    model = lenet5(input_size=28)
    x = torch.randn(3, 28, 28)
    logits, c1, c3 = lenet_maps(model, x)
    assert c1.shape == (3, 6, 28, 28) and c3.shape == (3, 16, 10, 10)
    with torch.no_grad():
        assert torch.allclose(logits, model(x[:, None]), atol=1e-6)
        assert torch.allclose(c1, model.features[:2](x[:, None]))
    single = lenet_maps(model, x[0].numpy())[0]
    assert torch.allclose(single, logits[:1], atol=1e-6)
    with pytest.raises(ValueError, match="28, 28"):
        lenet_maps(model, torch.zeros(32, 32))


# Central differences in float64 with step FD_STEP have a truncation error of order FD_STEP**2
# and a rounding error of order 1e-16 / FD_STEP (together about 3e-10 measured, relative to
# the map's maximum): the autograd gradient must agree to FD_TOL, relative to that maximum;
# a wrong backward pass (a tanh derivative or a pooling factor missed) is off by order 1.
FD_STEP = 1e-4
FD_TOL = 1e-6


def test_lenet_saliency_is_the_finite_difference_gradient_of_the_top_logit():
    torch.manual_seed(0)
    model = lenet5(input_size=28).double()
    x = torch.randn(2, 28, 28).float()            # float32 inputs, as the explorer gives
    grad = lenet_saliency(model, x)
    assert grad.shape == (2, 28, 28) and grad.dtype == torch.float64
    with torch.no_grad():
        top = model(x[:, None].double()).argmax(1)
        for n in range(2):
            base = x[n].double().reshape(1, 784)
            steps = torch.eye(784, dtype=torch.float64) * FD_STEP
            up = model((base + steps).reshape(-1, 1, 28, 28))[:, top[n]]
            down = model((base - steps).reshape(-1, 1, 28, 28))[:, top[n]]
            numeric = ((up - down) / (2 * FD_STEP)).reshape(28, 28)
            error = (grad[n] - numeric).abs().max() / numeric.abs().max()
            assert error <= FD_TOL, f"digit {n}: autograd and finite differences differ by {error}"


def test_lenet_saliency_targets_and_shapes():
    torch.manual_seed(1)
    model = lenet5(input_size=28)
    x = torch.randn(3, 28, 28)
    top = lenet_maps(model, x)[0].argmax(1)
    grad = lenet_saliency(model, x)
    assert grad.shape == (3, 28, 28) and grad.dtype == torch.float32
    assert torch.allclose(grad, lenet_saliency(model, x, target=top))
    single = lenet_saliency(model, x[1].numpy())            # one (28, 28) input
    assert single.shape == (1, 28, 28)
    assert torch.allclose(single[0], grad[1], rtol=0, atol=1e-6)
    other = lenet_saliency(model, x[:1], target=(int(top[0]) + 1) % 10)
    assert not torch.allclose(other[0], grad[0])              # another class, another map


@pytest.mark.parametrize("x, target, message", [
    (torch.zeros(32, 32), None, "28, 28"),
    (torch.zeros(2, 3, 28, 28), None, "28, 28"),
    (torch.full((28, 28), float("nan")), None, "NaN"),
    (torch.zeros(2, 28, 28), 10, r"\[0, 9\]"),
    (torch.zeros(2, 28, 28), [1, 2, 3], "2 classes"),
])
def test_lenet_saliency_refuses_bad_input(x, target, message):
    model = lenet5(input_size=28)
    with pytest.raises(ValueError, match=message):
        lenet_saliency(model, x, target=target)
