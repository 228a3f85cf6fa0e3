"""helpers.experiments.translation: placing digits on a larger canvas."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.experiments.translation import (
    CORNERS,
    corner_names,
    ink_extent,
    place_at,
    place_on_canvas,
    positions,
    shifted_from_centre,
    translation_datasets,
)


@settings(max_examples=40, deadline=None)
@given(h=st.integers(1, 6), w=st.integers(1, 6), extra_h=st.integers(0, 6),
       extra_w=st.integers(0, 6), data=st.data())
def test_place_on_canvas_puts_digit_at_offset_and_zeros_elsewhere(h, w, extra_h, extra_w, data):
    rng = np.random.default_rng(h * 100 + w)
    digit = rng.integers(1, 256, size=(h, w)).astype(np.uint8)
    canvas_size = (h + extra_h, w + extra_w)
    top = data.draw(st.integers(0, extra_h))
    left = data.draw(st.integers(0, extra_w))
    out = place_on_canvas(digit, canvas_size, top, left)
    assert out.shape == canvas_size and out.dtype == np.uint8
    np.testing.assert_array_equal(out[top:top + h, left:left + w], digit)
    assert out.sum(dtype=np.int64) == digit.sum(dtype=np.int64)  # nothing else is non-zero


def test_place_on_canvas_square_int_and_batch():
    digits = np.arange(2 * 3 * 3, dtype=np.float32).reshape(2, 3, 3) + 1
    out = place_on_canvas(digits, 5, 1, 2)
    assert out.shape == (2, 5, 5) and out.dtype == np.float32
    np.testing.assert_array_equal(out[:, 1:4, 2:5], digits)
    assert out[:, 0].sum() == 0 and out[:, 4].sum() == 0 and out[:, :, :2].sum() == 0


def test_place_on_canvas_does_not_modify_input():
    digit = np.ones((2, 2))
    before = digit.copy()
    place_on_canvas(digit, 4, 0, 0)[0, 0] = 7
    np.testing.assert_array_equal(digit, before)


@pytest.mark.parametrize("top,left,match", [(-1, 0, "does not fit"), (0, 3, "does not fit"),
                                            (3, 3, "does not fit"), (0.5, 0, "must be ints")])
def test_place_on_canvas_rejects_bad_offsets(top, left, match):
    with pytest.raises(ValueError, match=match):
        place_on_canvas(np.ones((2, 2)), 4, top, left)


@pytest.mark.parametrize("canvas", [0, -3, (4,), "56", 2.5])
def test_place_on_canvas_rejects_bad_canvas(canvas):
    with pytest.raises(ValueError, match="canvas_size"):
        place_on_canvas(np.ones((2, 2)), canvas, 0, 0)


def test_place_on_canvas_rejects_bad_digit_shape():
    with pytest.raises(ValueError, match=r"\(h, w\) or \(N, h, w\)"):
        place_on_canvas(np.ones(4), 4, 0, 0)


def test_positions_for_mnist_on_56():
    pos = positions(56, 28)
    assert pos == {"centre": (14, 14), "top-left": (0, 0), "top-right": (0, 28),
                   "bottom-left": (28, 0), "bottom-right": (28, 28)}
    with pytest.raises(ValueError, match="does not fit"):
        positions(20, 28)


def test_place_at_named_positions_and_per_image_names():
    imgs = np.ones((4, 2, 2), dtype=np.uint8)
    out = place_at(imgs, 4, list(CORNERS))
    assert out[0, 0, 0] == 1 and out[1, 0, 3] == 1 and out[2, 3, 0] == 1 and out[3, 3, 3] == 1
    assert out.sum() == imgs.sum()
    centred = place_at(imgs, 4, "centre")
    assert centred[:, 1:3, 1:3].all() and centred.sum() == imgs.sum()
    with pytest.raises(ValueError, match="unknown positions"):
        place_at(imgs, 4, "middle")
    with pytest.raises(ValueError, match="4 images"):
        place_at(imgs, 4, ["centre"] * 3)


def test_corner_names_cycle():
    assert corner_names(5) == [*CORNERS, CORNERS[0]]
    with pytest.raises(ValueError):
        corner_names(-1)


def test_translation_datasets_keep_pixels_and_move_them():
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 256, size=(3, 28, 28)).astype(np.uint8)
    x_test = rng.integers(0, 256, size=(8, 28, 28)).astype(np.uint8)
    ds = translation_datasets(x_train, x_test, 56)
    assert ds["train"].shape == (3, 56, 56) and ds["test-corner"].shape == (8, 56, 56)
    np.testing.assert_array_equal(ds["train"][:, 14:42, 14:42], x_train)
    np.testing.assert_array_equal(ds["test-centre"][:, 14:42, 14:42], x_test)
    np.testing.assert_array_equal(ds["test-corner"][0, :28, :28], x_test[0])
    np.testing.assert_array_equal(ds["test-corner"][3, 28:, 28:], x_test[3])
    sums = ds["test-corner"].reshape(8, -1).sum(1)
    np.testing.assert_array_equal(sums, x_test.reshape(8, -1).sum(1))


def test_shifted_from_centre_moves_by_offset():
    imgs = np.arange(1, 2 * 4 * 4 + 1, dtype=np.int32).reshape(2, 4, 4)
    np.testing.assert_array_equal(shifted_from_centre(imgs, 10, 0, 0), place_at(imgs, 10, "centre"))
    out = shifted_from_centre(imgs, 10, -3, 2)
    np.testing.assert_array_equal(out[:, 0:4, 5:9], imgs)
    np.testing.assert_array_equal(shifted_from_centre(imgs, 10, -3, -3),
                                  place_at(imgs, 10, "top-left"))
    with pytest.raises(ValueError, match="does not fit"):
        shifted_from_centre(imgs, 10, -4, 0)


def test_ink_extent_box_of_non_zero_pixels():
    imgs = np.zeros((3, 6, 7), dtype=np.uint8)
    imgs[0, 1:4, 2:7] = 5          # 3 rows x 5 columns
    imgs[1, 2, 3] = 1              # a single pixel
    np.testing.assert_array_equal(ink_extent(imgs), [[3, 5], [1, 1], [0, 0]])
    placed = place_on_canvas(imgs, 20, 4, 9)
    np.testing.assert_array_equal(ink_extent(placed), ink_extent(imgs))
    with pytest.raises(ValueError, match=r"\(N, h, w\)"):
        ink_extent(np.zeros((4, 4)))


# --------------------------------------------------------------------------- the experiment
def _fake_mnist(n_train=60, n_test=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(n_train, 28, 28)).astype(np.uint8)
    xt = rng.integers(0, 256, size=(n_test, 28, 28)).astype(np.uint8)
    return x, np.arange(n_train) % 10, xt, np.arange(n_test) % 10


def test_build_arm_shapes_and_heads():
    import torch

    from helpers.experiments.translation import ARMS, build_arm
    x = torch.zeros(2, 1, 56, 56)
    for arm in ARMS:
        assert build_arm(arm)(x).shape == (2, 10)
    flat, gap = build_arm(ARMS[1]), build_arm(ARMS[2])
    # the same trunk; the flatten head reads a 32 x 7 x 7 map, the pooled head 32 numbers
    assert flat.classifier[-1].in_features == 32 * 7 * 7 and gap.classifier[-1].in_features == 32
    shapes = [[p.shape for p in m.features.parameters()] for m in (flat, gap)]
    assert shapes[0] == shapes[1]
    assert gap.features(x).shape[-2:] == (7, 7)   # 56 / 2**3: no pool drops a row or column
    with pytest.raises(ValueError, match="unknown arm"):
        build_arm("ViT")
    with pytest.raises(ValueError, match="multiple of 8"):
        build_arm(ARMS[2], canvas_size=60)


def test_experiment_data_splits_and_corners():
    from helpers.experiments.translation import HELD_OUT, experiment_data
    x, y, xt, yt = _fake_mnist(n_train=HELD_OUT + 30)
    data = experiment_data(0, n_train=20, n_test=40, n_val=10, mnist=(x, y, xt, yt))
    assert data["train"][0].shape == (20, 56, 56) and data["val"][0].shape == (10, 56, 56)
    np.testing.assert_array_equal(data["val"][0][:, 14:42, 14:42], x[HELD_OUT:HELD_OUT + 10])
    for c in CORNERS:
        assert len(data[f"test-{c}"][1]) == 10
    top_left = data["test-top-left"][0][:, :28, :28]
    np.testing.assert_array_equal(top_left, data["digits-test"][0][0::4])


def test_run_translation_is_reproducible_and_checks_lrs():
    from helpers.experiments.translation import ARMS, HELD_OUT, run_translation
    mnist = _fake_mnist(n_train=HELD_OUT + 30)
    kw = dict(n_train=20, n_test=8, n_val=10, mnist=mnist, progress=False, max_steps=1)
    lrs = {a: 1e-3 for a in ARMS}
    _, a = run_translation(0, lrs, **kw)
    _, b = run_translation(0, lrs, **kw)
    for arm in ARMS:
        assert {k: v for k, v in a[arm].items() if k != "first_layer_init"} == \
               {k: v for k, v in b[arm].items() if k != "first_layer_init"}
    with pytest.raises(ValueError, match="no learning rate"):
        run_translation(0, {"MLP": 1e-3}, **kw)
