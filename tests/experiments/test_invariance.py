"""helpers.experiments.invariance: shifted crops and the change measures of chapter 3's shift
experiment."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.experiments.invariance import (
    correlation,
    relative_change,
    shift_sensitivity,
    shifted_crops,
)


@settings(max_examples=30, deadline=None)
@given(size=st.integers(1, 6), dy=st.integers(-3, 3), dx=st.integers(-3, 3))
def test_second_crop_sees_the_content_moved_by_the_shift(size, dy, dx):
    image = np.arange(12 * 13).reshape(12, 13)
    a, b = shifted_crops(image, size, dy=dy, dx=dx, top=3, left=3)
    assert a.shape == b.shape == (size, size)
    assert a[0, 0] == image[3, 3] and b[0, 0] == image[3 + dy, 3 + dx]
    # where the windows overlap, b is a moved up by dy and left by dx (exact, no interpolation)
    if dy >= 0 and dx >= 0 and dy < size and dx < size:
        np.testing.assert_array_equal(b[:size - dy, :size - dx], a[dy:, dx:])


def test_crops_keep_leading_axes_and_refuse_windows_outside_the_image():
    stack = np.zeros((2, 3, 10, 10))
    a, b = shifted_crops(stack, 8, dy=2)
    assert a.shape == b.shape == (2, 3, 8, 8)
    with pytest.raises(ValueError, match="does not fit"):
        shifted_crops(stack, 8, dy=3)
    with pytest.raises(ValueError, match="does not fit"):
        shifted_crops(stack, 8, dx=-1)
    with pytest.raises(ValueError, match="must be an int"):
        shifted_crops(stack, 8, dx=1.5)
    with pytest.raises(ValueError, match=r"\(\.\.\., H, W\)"):
        shifted_crops(np.zeros(5), 2)


def test_relative_change_and_correlation_values():
    a = np.array([[3.0, 4.0]])
    assert relative_change(a, a) == 0.0
    assert relative_change(a, np.zeros_like(a)) == pytest.approx(1.0)
    assert relative_change(a, 2 * a) == pytest.approx(1.0)            # ||a|| / ||a||
    assert correlation(a, 2 * a + 1) == pytest.approx(1.0)            # affine: perfect
    assert correlation(np.array([1.0, 2, 3]), np.array([3.0, 2, 1])) == pytest.approx(-1.0)
    # torch tensors are accepted as they are
    assert relative_change(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])) == \
        pytest.approx(2**0.5)


def test_change_measures_reject_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        relative_change(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="all zero"):
        relative_change(np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match="constant"):
        correlation(np.ones(3), np.arange(3.0))
    with pytest.raises(ValueError, match="empty"):
        relative_change(np.ones(0), np.ones(0))


def test_shift_sensitivity_is_zero_for_a_shift_invariant_feature_and_grows_otherwise():
    rng = np.random.default_rng(0)
    images = [rng.random((40, 40)) + 1.0 for _ in range(2)]
    # a global mean is (almost) blind to which crop we take; the raw pixels are not
    mean = shift_sensitivity(lambda x: np.array([x.mean()]), images, 32, [1, 2, 3])
    raw = shift_sensitivity(lambda x: x, images, 32, [0, 1, 2, 3])
    assert mean.shape == (3,) and raw.shape == (4,)
    assert np.all(mean < 0.02)
    assert raw[0] == 0.0 and np.all(raw[1:] > 0.2)
    # the metric is pluggable: correlation of a crop with itself is 1
    same = shift_sensitivity(lambda x: x, images, 32, [0], metric=correlation)
    assert same[0] == pytest.approx(1.0)


def test_shift_sensitivity_validates_its_arguments():
    image = np.ones((10, 10))
    with pytest.raises(ValueError, match="callable"):
        shift_sensitivity(None, [image], 8, [1])
    with pytest.raises(ValueError, match="at least one shift"):
        shift_sensitivity(lambda x: x, [image], 8, [])
    with pytest.raises(ValueError, match="at least one image"):
        shift_sensitivity(lambda x: x, [], 8, [1])
    with pytest.raises(ValueError, match="does not fit"):
        shift_sensitivity(lambda x: x, [image], 8, [3])


def test_fourier_shift_by_whole_pixels_is_torch_roll():
    from helpers.experiments.invariance import fourier_shift
    x = torch.randn(2, 3, 8, 10, dtype=torch.float64)
    assert torch.allclose(fourier_shift(x, 2, -3), torch.roll(x, (2, -3), (-2, -1)), atol=1e-12)
    with pytest.raises(ValueError, match="shape"):
        fourier_shift(torch.zeros(5), 1, 0)


def test_fourier_shift_by_half_a_pixel_interpolates_a_smooth_signal():
    from helpers.experiments.invariance import fourier_shift
    n = torch.arange(16, dtype=torch.float64)
    wave = torch.cos(2 * np.pi * 3 * n / 16).expand(4, 16)          # well below Nyquist
    moved = fourier_shift(wave, 0, 0.5)
    assert torch.allclose(moved, torch.cos(2 * np.pi * 3 * (n - 0.5) / 16).expand(4, 16),
                          atol=1e-12)


def test_equivariance_error_is_zero_for_multiples_of_the_stride_and_stride_one():
    from helpers.experiments.invariance import equivariance_error
    x = torch.randn(3, 2, 16, 16, dtype=torch.float64)

    def subsample(m):
        return m[..., ::2, ::2]

    assert np.all(equivariance_error(subsample, x, dx=2) < 1e-12)
    assert np.all(equivariance_error(subsample, x, dy=4, dx=2) < 1e-12)
    assert np.all(equivariance_error(lambda m: torch.relu(m), x, dx=3, stride=1) < 1e-12)
    # white noise is full of detail finer than 4 px: an odd shift breaks equivariance
    assert np.all(equivariance_error(subsample, x, dx=1) > 0.5)
    # a band-limited map (a slow wave) is shiftable by half an output pixel
    n = torch.arange(16, dtype=torch.float64)
    slow = torch.cos(2 * np.pi * n / 16)[None, None, None].expand(1, 1, 16, 16) + 2
    assert np.all(equivariance_error(subsample, slow, dx=1) < 1e-10)


def test_equivariance_error_refuses_bad_input():
    from helpers.experiments.invariance import equivariance_error
    with pytest.raises(ValueError, match="callable"):
        equivariance_error(None, torch.zeros(1, 1, 4, 4))
    with pytest.raises(ValueError, match="shape"):
        equivariance_error(lambda m: m, torch.zeros(4, 4))
    with pytest.raises(ValueError, match="all-zero"):
        equivariance_error(lambda m: m, torch.zeros(1, 1, 4, 4), dx=1, stride=1)
    with pytest.raises(ValueError, match="stride"):
        equivariance_error(lambda m: m, torch.ones(1, 1, 4, 4), stride=0)
