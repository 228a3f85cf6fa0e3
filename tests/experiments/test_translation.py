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
