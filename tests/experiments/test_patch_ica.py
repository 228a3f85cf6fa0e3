"""helpers.experiments.patch_ica: patches, whitening, FastICA on sources known by construction,
and the chromatic share of colour filters."""
from __future__ import annotations

import numpy as np
import pytest

from helpers.experiments.patch_ica import (
    chromatic_share,
    fast_ica,
    ica_filters,
    ica_run,
    localisation,
    non_gaussianity,
    sample_patches,
    whiten,
)


def test_sample_patches_shape_range_and_seed():
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (20, 30, 3)).astype(np.uint8), rng.random((16, 16, 3))]
    p = sample_patches(images, size=4, n=11, seed=1)
    assert p.shape == (11, 3, 4, 4) and 0 <= p.min() and p.max() <= 1
    np.testing.assert_array_equal(p, sample_patches(images, size=4, n=11, seed=1))
    with pytest.raises(ValueError):
        sample_patches([np.zeros((8, 8))], size=4, n=3)
    with pytest.raises(ValueError):
        sample_patches([], size=4, n=3)


def test_whitening_gives_identity_covariance_and_inverts():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5000, 6)) @ rng.standard_normal((6, 6))
    z, white, dewhite = whiten(x, keep=6)
    np.testing.assert_allclose(z.T @ z / len(z), np.eye(6), atol=1e-8)
    np.testing.assert_allclose(z @ dewhite.T, x - x.mean(axis=0), atol=1e-8)
    assert whiten(x, keep=3)[0].shape == (5000, 3)
    with pytest.raises(ValueError, match="keep"):
        whiten(x, keep=7)


def test_fast_ica_unmixes_two_heavy_tailed_sources():
    rng = np.random.default_rng(0)
    sources = rng.laplace(size=(20000, 2))
    mixed = sources @ np.array([[1.0, 0.6], [0.4, 1.0]]).T
    z, _, _ = whiten(mixed, keep=2)
    recovered = z @ fast_ica(z, steps=100, seed=0).T
    corr = np.abs(np.corrcoef(recovered.T, sources.T)[:2, 2:])
    assert (corr.max(axis=1) > 0.98).all()              # each component is one source


def test_chromatic_share_of_known_filters():
    grey = np.ones((1, 3, 2, 2))
    red = np.zeros((1, 3, 2, 2))
    red[0, 0] = 1.0
    red_green = np.zeros((1, 3, 2, 2))
    red_green[0, 0], red_green[0, 1] = 1.0, -1.0
    share = chromatic_share(np.concatenate([grey, red, red_green]))
    np.testing.assert_allclose(share, [0.0, 2 / 3, 1.0], atol=1e-12)
    with pytest.raises(ValueError):
        chromatic_share(np.ones((2, 1, 3, 3)))


def test_ica_filters_shape():
    rng = np.random.default_rng(0)
    images = [rng.random((24, 24, 3))]
    f = ica_filters(images, size=4, n=500, keep=8, steps=5, seed=0)
    assert f.shape == (8, 3, 4, 4) and np.isfinite(f).all()


def test_localisation_of_a_point_a_spread_filter_and_bad_input():
    point = np.zeros((1, 3, 8, 8))
    point[0, :, 5, 2] = 1.0
    spread = np.ones((1, 1, 8, 8))
    np.testing.assert_allclose(localisation(point, 4), [1.0])
    np.testing.assert_allclose(localisation(spread, 4), [16 / 64])
    assert localisation(np.zeros((1, 1, 4, 4)), 2)[0] == 0.0
    with pytest.raises(ValueError):
        localisation(np.zeros((2, 8, 8)), 4)
    with pytest.raises(ValueError):
        localisation(point, 9)


def test_non_gaussianity_is_zero_for_gaussian_and_positive_for_sparse():
    rng = np.random.default_rng(0)
    gauss = rng.standard_normal((200_000, 1))
    laplace = rng.laplace(size=(200_000, 1)) / np.sqrt(2)          # unit variance, sparse
    assert abs(non_gaussianity(gauss)[0]) < 2e-3
    assert non_gaussianity(laplace)[0] > 0.02
    with pytest.raises(ValueError):
        non_gaussianity(np.zeros(5))


def test_ica_run_sorts_by_non_gaussianity_and_reports_stability():
    rng = np.random.default_rng(0)
    images = [rng.random((24, 24, 3)) for _ in range(2)]
    run = ica_run(images, size=4, n=800, keep=6, steps=30, extra=5, seed=0)
    assert run.filters.shape == (6, 3, 4, 4)
    assert np.all(np.diff(run.non_gaussianity) <= 0)
    assert np.all((run.stability >= 0) & (run.stability <= 1 + 1e-9))
    # the unmixing filters read each component off its own basis function and off no other
    assert run.unmixing.shape == (6, 3, 4, 4)
    reads = run.unmixing.reshape(6, -1) @ run.filters.reshape(6, -1).T
    np.testing.assert_allclose(reads, np.eye(6), atol=1e-8)
    with pytest.raises(ValueError):
        ica_run(images, size=4, n=100, keep=6, steps=0)
