"""helpers.experiments.locality: pixel correlation as a function of distance."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.experiments.locality import correlation_at_distance, correlation_profile, pixel_pairs

TOL = 1e-12  # float64 arithmetic against np.corrcoef


def _reference(image, d):
    """Independent reference: explicit loops over pairs, then np.corrcoef."""
    image = np.asarray(image, dtype=np.float64)
    stack = image[None] if image.ndim == 2 else image
    a, b = [], []
    for im in stack:
        h, w = im.shape
        for y in range(h):
            for x in range(w - d):
                a.append(im[y, x])
                b.append(im[y, x + d])
        for y in range(h - d):
            for x in range(w):
                a.append(im[y, x])
                b.append(im[y + d, x])
    return np.corrcoef(a, b)[0, 1]


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 3), h=st.integers(3, 9), w=st.integers(3, 9), seed=st.integers(0, 999),
       data=st.data())
def test_matches_loop_reference(n, h, w, seed, data):
    rng = np.random.default_rng(seed)
    image = rng.random((n, h, w)).cumsum(axis=2)  # some spatial structure
    d = data.draw(st.integers(1, max(h, w) - 1))  # d >= min(h, w): pairs along one axis only
    got = correlation_at_distance(image if n > 1 else image[0], d)
    assert abs(got - _reference(image, d)) < TOL


def test_distance_zero_is_one_and_profile_shape():
    image = np.random.default_rng(1).random((10, 12))
    assert correlation_at_distance(image, 0) == pytest.approx(1.0, abs=TOL)
    prof = correlation_profile(image, [0, 1, 2, 5])
    assert prof.shape == (4,) and prof.dtype == np.float64 and prof[0] == pytest.approx(1.0)


def test_smooth_image_is_more_correlated_nearby_than_noise():
    rng = np.random.default_rng(2)
    noise = rng.random((64, 64))
    yy, xx = np.mgrid[:64, :64]
    smooth = np.sin(xx / 10.0) + np.cos(yy / 13.0)
    assert abs(correlation_at_distance(noise, 1)) < 0.1
    assert correlation_at_distance(smooth, 1) > 0.99
    prof = correlation_profile(smooth, [1, 5, 10])
    assert prof[0] > prof[1] > prof[2]


def test_checkerboard_is_perfectly_anticorrelated_at_odd_distances():
    board = (np.indices((8, 8)).sum(0) % 2).astype(np.uint8)
    assert correlation_at_distance(board, 1) == pytest.approx(-1.0, abs=TOL)
    assert correlation_at_distance(board, 2) == pytest.approx(1.0, abs=TOL)


def test_pixel_pairs_count_and_uint8_safe():
    image = np.full((4, 5), 255, dtype=np.uint8)
    a, b = pixel_pairs(image, 2)
    assert a.shape == b.shape == (4 * 3 + 2 * 5,)
    assert a.dtype == np.float64 and a.max() == 255.0  # no uint8 overflow


def test_rectangular_image_far_distance_uses_one_axis_only():
    image = np.random.default_rng(4).random((3, 9))
    a, b = pixel_pairs(image, 5)
    assert a.shape == (3 * 4,)
    np.testing.assert_array_equal(b, image[:, 5:].ravel())


def test_input_not_modified():
    image = np.random.default_rng(3).random((6, 6))
    before = image.copy()
    correlation_at_distance(image, 1)
    np.testing.assert_array_equal(image, before)


@pytest.mark.parametrize("image,d,match", [
    (np.ones((4, 4)), 1, "zero variance"),
    (np.random.default_rng(0).random((4, 4)), 4, "0 <= d < max"),
    (np.random.default_rng(0).random((4, 4)), -1, "0 <= d < max"),
    (np.random.default_rng(0).random((4, 4)), 1.5, "must be an int"),
    (np.zeros(5), 1, r"\(H, W\) or \(N, H, W\)"),
    (np.array([["a", "b"], ["c", "d"]]), 1, "numeric"),
])
def test_bad_input_raises_value_error(image, d, match):
    with pytest.raises(ValueError, match=match):
        correlation_at_distance(image, d)


def test_window_offsets_count_and_centre_excluded():
    from helpers.experiments.locality import window_offsets
    for r in (1, 2, 5):
        offs = window_offsets(r)
        assert len(offs) == (2 * r + 1) ** 2 - 1 and (0, 0) not in offs
        assert max(max(abs(dy), abs(dx)) for dy, dx in offs) == r
    with pytest.raises(ValueError, match="radius"):
        window_offsets(0)


def test_prediction_r2_recovers_a_linear_rule_and_noise():
    from helpers.experiments.locality import neighbour_r2, prediction_r2
    rng = np.random.default_rng(0)
    noise = rng.standard_normal((80, 80))
    assert abs(prediction_r2(noise, [(0, 1), (1, 0)], n_fit=3000, n_eval=3000)) < 0.01
    # each row after the first is 0.5 * the row above + 2: predictable exactly from (-1, 0)
    ramp = np.zeros((80, 80))
    ramp[0] = rng.standard_normal(80)
    for i in range(1, 80):
        ramp[i] = 0.5 * ramp[i - 1] + 2
    assert prediction_r2(ramp[:10], [(-1, 0)], n_fit=200, n_eval=200, margin=1) > 1 - 1e-9
    smooth = np.cumsum(np.cumsum(noise, 0), 1)
    r2 = neighbour_r2(smooth, [1, 2], n_fit=2000, n_eval=2000)
    assert r2.shape == (2,) and r2[0] > 0.99


def test_prediction_r2_bad_input():
    from helpers.experiments.locality import prediction_r2
    img = np.ones((20, 20))
    with pytest.raises(ValueError, match="must not contain"):
        prediction_r2(img, [(0, 0)])
    with pytest.raises(ValueError, match="too small"):
        prediction_r2(img, [(0, 12)])
    with pytest.raises(ValueError, match="zero variance"):
        prediction_r2(img, [(0, 1)], n_fit=50, n_eval=50)
