"""helpers.experiments.learned_filters: orientation coherence, dominant orientation and
smoothness of filters, on filters whose answer is known by construction."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from helpers.experiments.learned_filters import (
    dc_share,
    dominant_orientation,
    filter_structure,
    fraction_oriented,
    neighbour_correlation,
    orientation_coherence,
    oriented_score,
    spectrum_matched_filters,
    structure_tensor,
)
from helpers.filters import gaussian_blur, horizontal_edge, vertical_edge

RAMP_X = np.tile(np.arange(5.0), (5, 1))          # brighter to the right
STEP_X = np.tile([-1.0, -1.0, 1.0, 1.0, 1.0], (5, 1))

finite = st.floats(-10, 10, allow_nan=False, allow_infinity=False)
filters_5x5 = arrays(np.float64, (3, 2, 5, 5), elements=finite).filter(
    lambda w: (np.ptp(w.reshape(3, -1), axis=1) > 1e-3).all())


def test_a_ramp_or_a_step_edge_is_perfectly_oriented_along_x():
    for w in (RAMP_X, STEP_X):
        assert orientation_coherence(w) == pytest.approx(1.0, abs=1e-12)
        assert dominant_orientation(w) == pytest.approx(0.0, abs=1e-9)


def test_angles_are_counter_clockwise_with_y_pointing_up():
    assert dominant_orientation(RAMP_X.T) == pytest.approx(90.0)       # brighter downwards
    up_right = np.add.outer(-np.arange(5.0), np.arange(5.0))           # brighter to the top right
    assert dominant_orientation(up_right) == pytest.approx(45.0)
    up_left = np.add.outer(-np.arange(5.0), -np.arange(5.0))           # brighter to the top left
    assert dominant_orientation(up_left) == pytest.approx(135.0)
    assert dominant_orientation(up_right.T) == pytest.approx(45.0)     # 225 = 45 (mod 180)


def test_sobel_kernels_are_oriented_and_a_blur_is_not():
    assert orientation_coherence(vertical_edge()) == pytest.approx(0.8)   # worked by hand
    assert dominant_orientation(vertical_edge()) == pytest.approx(0.0)
    assert dominant_orientation(horizontal_edge()) == pytest.approx(90.0)
    assert orientation_coherence(gaussian_blur(5, 1.0)) == pytest.approx(0.0, abs=1e-9)
    assert orientation_coherence(np.ones((3, 3))) == 0.0                   # no gradient at all


def test_structure_tensor_by_hand():
    j = structure_tensor(RAMP_X)          # gx = 1 at each of the 4x4 cell centres, gy = 0
    np.testing.assert_allclose(j, [[16.0, 0.0], [0.0, 0.0]])
    assert structure_tensor(np.zeros((2, 1, 3, 3))).shape == (2, 2, 2)


@settings(max_examples=25, deadline=None)
@given(filters_5x5, st.floats(0.01, 100))
def test_measures_are_scale_invariant_and_in_range(w, scale):
    c, r = orientation_coherence(w), neighbour_correlation(w)
    assert c.shape == r.shape == (3,)
    assert ((0 <= c) & (c <= 1)).all() and ((-1 <= r) & (r <= 1 + 1e-12)).all()
    np.testing.assert_allclose(orientation_coherence(scale * w), c, atol=1e-9)
    np.testing.assert_allclose(neighbour_correlation(scale * w), r, atol=1e-9)


@settings(max_examples=25, deadline=None)
@given(filters_5x5)
def test_rotating_a_filter_by_90_degrees_turns_its_orientation_by_90(w):
    rotated = np.rot90(w, k=1, axes=(-2, -1))     # counter-clockwise
    np.testing.assert_allclose(orientation_coherence(rotated), orientation_coherence(w),
                               atol=1e-9)
    strong = orientation_coherence(w) > 0.05
    turned = (dominant_orientation(w) + 90.0) % 180.0
    diff = np.abs((dominant_orientation(rotated) - turned + 90.0) % 180.0 - 90.0)
    assert (diff[strong] < 1e-6).all()


def test_neighbour_correlation_of_known_patterns():
    checker = np.indices((4, 4)).sum(0) % 2 * 2.0 - 1.0
    assert neighbour_correlation(checker) == pytest.approx(-1.0)
    assert neighbour_correlation(np.full((5, 5), 3.0)) == 0.0
    assert neighbour_correlation(gaussian_blur(5, 1.5)) > 0.5
    assert neighbour_correlation(RAMP_X) > 0.5


def test_random_filters_give_the_baseline_the_chapter_compares_with():
    w = torch.nn.Conv2d(1, 4000, 5).weight          # PyTorch's default initialisation
    stats = filter_structure(w)
    assert 0.28 < stats["mean coherence"] < 0.35
    assert 0.10 < stats["fraction oriented"] < 0.18
    assert abs(stats["neighbour correlation"]) < 0.08


def test_fraction_oriented_counts_filters_above_the_threshold():
    w = np.stack([RAMP_X, gaussian_blur(5, 1.0), STEP_X, np.ones((5, 5))])[:, None]
    assert fraction_oriented(w) == 0.5
    assert fraction_oriented(w, threshold=0.99) == 0.5
    with pytest.raises(ValueError, match="threshold"):
        fraction_oriented(w, threshold=1.0)


def test_torch_and_numpy_inputs_agree():
    w = torch.randn(6, 3, 5, 5, generator=torch.Generator().manual_seed(0))
    np.testing.assert_allclose(orientation_coherence(w), orientation_coherence(w.numpy()))
    assert isinstance(orientation_coherence(w[0, 0]), float)


@pytest.mark.parametrize("bad, match", [
    (np.zeros((2, 5, 5)), "K, C, kh, kw"),
    (np.zeros((1, 1, 1, 5)), "2x2"),
    (np.full((1, 1, 3, 3), np.nan), "NaN"),
])
def test_bad_filters_raise(bad, match):
    with pytest.raises(ValueError, match=match):
        orientation_coherence(bad)


def test_dc_share_and_the_mean_aware_score():
    edge = RAMP_X - RAMP_X.mean()                     # zero mean, perfectly oriented
    assert dc_share(edge) == pytest.approx(0.0, abs=1e-12)
    assert oriented_score(edge) == pytest.approx(1.0)
    assert dc_share(np.full((5, 5), -2.0)) == pytest.approx(1.0)
    assert dc_share(np.zeros((3, 3))) == 0.0
    tilted = edge + 10.0                              # the same gradient, mostly mean
    assert orientation_coherence(tilted) == pytest.approx(1.0)
    share = 25 * 100.0 / (tilted ** 2).sum()
    assert dc_share(tilted) == pytest.approx(share)
    assert oriented_score(tilted) == pytest.approx(1 - share)
    # the mean is over all channels: red minus green has mean 0
    assert dc_share(np.stack([np.ones((3, 3)), -np.ones((3, 3))])[None]) == pytest.approx(0.0)


@settings(max_examples=25, deadline=None)
@given(filters_5x5, st.floats(0.01, 100))
def test_score_is_scale_invariant_and_at_most_the_coherence(w, scale):
    s = oriented_score(w)
    assert ((0 <= s) & (s <= orientation_coherence(w) + 1e-12)).all()
    np.testing.assert_allclose(oriented_score(scale * w), s, atol=1e-9)


def test_spectrum_matched_filters_match_smoothness_not_orientation():
    yy, xx = np.mgrid[-2:3, -2:3]
    bumps = [np.exp(-((xx - dx) ** 2 + (yy - dy) ** 2) / 2.0)
             for dx in (-1, 0, 1) for dy in (-1, 1)]
    smooth = np.stack(bumps)[:, None] - 0.3
    sm = spectrum_matched_filters(smooth, 3000, seed=0)
    assert sm.shape == (3000, 1, 5, 5)
    assert neighbour_correlation(sm).mean() > 0.4       # smooth like the bumps
    white = spectrum_matched_filters(np.random.default_rng(1).standard_normal((200, 1, 5, 5)),
                                     3000, seed=0)
    assert abs(neighbour_correlation(white).mean()) < 0.1
    # one oriented edge: the isotropic baseline keeps its smoothness but not its direction
    edges = np.stack([STEP_X])[:, None]
    iso = spectrum_matched_filters(edges, 3000, seed=0)
    aligned = spectrum_matched_filters(edges, 3000, seed=0, isotropic=False)
    angle = np.radians(dominant_orientation(iso))
    assert abs(np.cos(2 * angle).mean()) < 0.1          # no preferred direction
    assert np.cos(2 * np.radians(dominant_orientation(aligned))).mean() > 0.5
    np.testing.assert_array_equal(spectrum_matched_filters(smooth, 5, seed=3),
                                  spectrum_matched_filters(smooth, 5, seed=3))
    with pytest.raises(ValueError, match="square"):
        spectrum_matched_filters(np.ones((1, 1, 3, 5)), 2)
    with pytest.raises(ValueError, match="n must"):
        spectrum_matched_filters(smooth, 0)


def test_spectrum_matched_colour_filters_keep_the_channel_correlation():
    grey = np.repeat(np.random.default_rng(0).standard_normal((50, 1, 5, 5)), 3, axis=1)
    sm = spectrum_matched_filters(grey, 200, seed=0)
    assert sm.shape == (200, 3, 5, 5)
    np.testing.assert_allclose(sm[:, 0], sm[:, 1], atol=1e-9)   # channels stay identical
