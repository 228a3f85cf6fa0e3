"""Hand-made filters: each does what its name says on synthetic images with known answers."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from helpers import filters


def _step(orientation: str, n: int = 16) -> np.ndarray:
    """Dark (0) then bright (1): left/right halves for 'vertical', top/bottom for 'horizontal'."""
    img = np.zeros((n, n), dtype=np.float32)
    if orientation == "vertical":
        img[:, n // 2:] = 1.0
    else:
        img[n // 2:, :] = 1.0
    return img


def _correlate_valid(img: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Reference: torch's cross-correlation, no padding (so borders do not interfere)."""
    return F.conv2d(torch.tensor(img)[None, None], torch.tensor(kernel)[None, None])[0, 0].numpy()


def test_edge_kernels_are_sobel_and_transposes_of_each_other():
    v, h = filters.vertical_edge(), filters.horizontal_edge()
    np.testing.assert_array_equal(v, [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    np.testing.assert_array_equal(h, v.T)
    assert v.dtype == h.dtype == np.float32


@pytest.mark.parametrize("name", ["vertical", "horizontal"])
def test_edge_kernel_fires_on_its_own_orientation_only(name):
    kernel = getattr(filters, f"{name}_edge")()
    other = "horizontal" if name == "vertical" else "vertical"
    own = _correlate_valid(_step(name), kernel)
    cross = _correlate_valid(_step(other), kernel)
    assert own.max() == pytest.approx(4.0)            # 1 + 2 + 1 across a unit step
    assert own.min() == 0.0                           # dark-to-bright only: never negative
    np.testing.assert_allclose(cross, 0.0)            # blind to the other orientation
    flipped = _correlate_valid(1.0 - _step(name), kernel)
    assert flipped.min() == pytest.approx(-4.0)       # bright-to-dark gives the opposite sign


@pytest.mark.parametrize("kernel", [filters.vertical_edge(), filters.horizontal_edge()])
def test_edge_kernels_ignore_flat_regions(kernel):
    assert kernel.sum() == 0.0
    np.testing.assert_allclose(_correlate_valid(np.full((8, 8), 7.0, np.float32), kernel), 0.0)


@pytest.mark.parametrize("kernel", [filters.box_blur(3), filters.box_blur(5),
                                    filters.gaussian_blur(5, 1.0), filters.gaussian_blur(7, 2.0),
                                    filters.sharpen(), filters.sharpen(2.0, 5)])
def test_blur_and_sharpen_preserve_flat_regions(kernel):
    assert kernel.sum() == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(_correlate_valid(np.full((9, 9), 3.0, np.float32), kernel), 3.0,
                               rtol=1e-6)


def test_gaussian_is_symmetric_and_peaks_in_the_centre():
    g = filters.gaussian_blur(5, 1.0)
    np.testing.assert_allclose(g, g.T)
    np.testing.assert_allclose(g, g[::-1, ::-1])
    assert np.unravel_index(g.argmax(), g.shape) == (2, 2)
    assert (g > 0).all()


def test_sharpen_is_the_classic_kernel_and_steepens_a_ramp_edge():
    s = filters.sharpen(amount=9 / 8)     # identity + 9/8 (identity - box): centre 2, rest -1/8
    np.testing.assert_allclose(s[1, 1], 2.0)
    np.testing.assert_allclose(s[0, 0], -1 / 8)
    ramp = np.tile(np.array([0, 0, 0, 1, 2, 2, 2], np.float32), (7, 1))
    out = _correlate_valid(ramp, filters.sharpen(1.0))[2]
    # overshoot on both sides of the edge: darker than the dark side, brighter than the bright
    assert out.min() < 0.0 and out.max() > 2.0
    blurred = _correlate_valid(ramp, filters.box_blur(3))[2]
    assert np.ptp(np.diff(blurred)) < np.ptp(np.diff(ramp[0, 1:-1]))   # blur flattens slopes


def test_identity_copies_the_image():
    img = np.random.default_rng(0).random((6, 6)).astype(np.float32)
    np.testing.assert_allclose(_correlate_valid(img, filters.identity(3)), img[1:-1, 1:-1])


@pytest.mark.parametrize("bad", [0, 2, -3, 1.5, True])
def test_sizes_must_be_positive_odd_ints(bad):
    with pytest.raises(ValueError, match="odd int"):
        filters.box_blur(bad)


def test_bad_parameters_are_rejected():
    with pytest.raises(ValueError, match="sigma"):
        filters.gaussian_blur(3, 0.0)
    with pytest.raises(ValueError, match="amount"):
        filters.sharpen(-1.0)


def test_filter_bank_has_the_four_kinds():
    bank = filters.hand_made_filters()
    assert len(bank) == 4
    assert [k.split()[0] for k in bank] == ["vertical", "horizontal", "blur", "sharpen"]
    assert all(k.dtype == np.float32 and k.ndim == 2 for k in bank.values())


def test_apply_filter_matches_torch_with_same_padding_on_a_photo(grey_photo):
    photo = grey_photo[:64, :80]
    for kernel in filters.hand_made_filters().values():
        got = filters.apply_filter(photo, kernel)
        k = kernel.shape[0]
        want = F.conv2d(torch.tensor(photo, dtype=torch.float32)[None, None],
                        torch.tensor(kernel)[None, None], padding=k // 2)[0, 0].numpy()
        assert got.shape == photo.shape
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-3)   # pixel values up to 255


def test_apply_filter_rejects_bad_shapes():
    with pytest.raises(ValueError, match="grey"):
        filters.apply_filter(np.zeros((4, 4, 3)), filters.box_blur())
    with pytest.raises(ValueError, match="odd"):
        filters.apply_filter(np.zeros((4, 4)), np.ones((2, 2)))


def test_filter_responses_figure_has_the_photo_and_one_panel_per_filter(grey_photo):
    photo = grey_photo[:40, :60]
    fig = filters.filter_responses_figure(photo, dpi=30, title="t")
    shown = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in shown] == ["original", *filters.hand_made_filters()]
    edge = shown[1].images[0]
    assert edge.get_clim()[0] == -edge.get_clim()[1]          # signed, centred on 0
    assert shown[3].images[0].get_clim() == (0.0, 255.0)     # blur on the photo's scale


@pytest.mark.parametrize("mode", filters.PADDING_MODES)
def test_apply_filter_padding_modes_match_torch_conv2d(grey_photo, mode):
    photo = grey_photo[:40, :50]
    kernel = filters.vertical_edge()
    conv = torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode=mode, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor(kernel)[None, None])
        want = conv(torch.tensor(photo, dtype=torch.float32)[None, None])[0, 0].numpy()
    got = filters.apply_filter(photo, kernel, padding_mode=mode)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-3)


def test_reflect_padding_silences_a_vertical_edge_filter_on_the_side_columns(grey_photo):
    photo = grey_photo[:40, :50].astype(np.float32)
    out = filters.apply_filter(photo, filters.vertical_edge(), padding_mode="reflect")
    assert np.abs(out[:, [0, -1]]).max() < 1e-3 < np.abs(out[:, 1:-1]).max()
    with pytest.raises(ValueError, match="padding_mode"):
        filters.apply_filter(photo, filters.vertical_edge(), padding_mode="mirror")
