"""Chapter 1 exercises: references pass; typical learner mistakes get the right diagnosis.

The mutants below are written the way a learner would write them (not copies of the
Mistake functions in helpers/exercises/ch01.py), so the diagnosis is proven by behaviour.
"""
from __future__ import annotations

import numpy as np
import torch

from helpers.exercises import (
    ch01,
    check_dense_params,
    run_check,
)
from tests.exercises.harness import checkers_of, hands_back_reference, mutant_tests

CHECKERS = checkers_of(chapter=1)


def test_dense_params_numbers_from_the_text():
    assert ch01.dense_params(256 * 256, 1000) == 65_537_000
    assert ch01.dense_params(256 * 256, 1000, bias=False) == 65_536_000
    assert ch01.dense_params(784, 10) == 7850


# --------------------------------------------------------------------------- 1.1

def no_bias(in_features, out_features, bias=True):
    return in_features * out_features


def bias_per_input(in_features, out_features, bias=True):
    return in_features * out_features + (in_features if bias else 0)


def bias_flag_ignored(in_features, out_features, bias=True):
    return in_features * out_features + out_features


def one_bias(in_features, out_features, bias=True):
    return in_features * out_features + bias


def added(in_features, out_features, bias=True):
    return in_features + out_features + (out_features if bias else 0)


def true_division(in_features, out_features, bias=True):
    return in_features * out_features * 2 / 2 + (out_features if bias else 0)


# --------------------------------------------------------------------------- 1.2

def flatten_everything(images):
    return images.flatten()


def list_of_vectors(images):
    return [image.flatten() for image in images]


def merge_h_w_only(images):
    h, w = images.shape[-2:]
    return images.reshape(-1, h * w)


def column_major(images):
    return images.swapaxes(-1, -2).reshape(len(images), -1)


def channels_last(images):
    if images.ndim == 3:
        return images.reshape(len(images), -1)
    if isinstance(images, torch.Tensor):
        return images.permute(0, 2, 3, 1).reshape(len(images), -1)
    return images.transpose(0, 2, 3, 1).reshape(len(images), -1)


def reshape_in_place(images):
    if isinstance(images, np.ndarray):
        images.shape = (images.shape[0], -1)
    else:
        images.data = images.reshape(images.shape[0], -1)
    return images


def numpy_only_float(images):
    return images.reshape(len(images), -1).astype(np.float32)


# --------------------------------------------------------------------------- 1.3

def swapped_position(digit, canvas_size, top, left):
    canvas = np.zeros((canvas_size, canvas_size), dtype=digit.dtype)
    h, w = digit.shape
    canvas[left:left + h, top:top + w] = digit
    return canvas


def default_float_canvas(digit, canvas_size, top, left):
    canvas = np.zeros((canvas_size, canvas_size))
    canvas[top:top + digit.shape[0], left:left + digit.shape[1]] = digit
    return canvas


def transposed_digit(digit, canvas_size, top, left):
    canvas = np.zeros((canvas_size, canvas_size), dtype=digit.dtype)
    canvas[top:top + digit.shape[1], left:left + digit.shape[0]] = digit.T
    return canvas


def pad_too_much(digit, canvas_size, top, left):
    return np.pad(digit, [(top, canvas_size - top), (left, canvas_size - left)])


def slice_one_too_long(digit, canvas_size, top, left):
    canvas = np.zeros((canvas_size, canvas_size), dtype=digit.dtype)
    canvas[top:top + digit.shape[0] + 1, left:left + digit.shape[1]] = digit
    return canvas


# --------------------------------------------------------------------------- 1.4

def _pooled(x, d):
    a = np.concatenate([x[..., :, :-d].ravel(), x[..., :-d, :].ravel()])
    b = np.concatenate([x[..., :, d:].ravel(), x[..., d:, :].ravel()])
    return a, b


def with_itself(image, d):
    x = np.asarray(image, dtype=float)
    return np.corrcoef(x.ravel(), x.ravel())[0, 1]


def rows_only(image, d):
    x = np.asarray(image, dtype=float)
    return np.corrcoef(x[..., :-d].ravel(), x[..., d:].ravel())[0, 1]


def covariance(image, d):
    a, b = _pooled(np.asarray(image, dtype=float), d)
    return np.cov(a, b)[0, 1]


def distance_minus_one(image, d):
    x = np.asarray(image, dtype=float)
    w, h = x.shape[-1], x.shape[-2]
    a = np.concatenate([x[..., :, :w - (d - 1)].ravel(), x[..., :h - (d - 1), :].ravel()])
    b = np.concatenate([x[..., :, d - 1:].ravel(), x[..., d - 1:, :].ravel()])
    return np.corrcoef(a, b)[0, 1]


def rolled(image, d):
    x = np.asarray(image, dtype=float)
    a = np.concatenate([x.ravel(), x.ravel()])
    b = np.concatenate([np.roll(x, -d, axis=-1).ravel(), np.roll(x, -d, axis=-2).ravel()])
    return np.corrcoef(a, b)[0, 1]


def uint8_arithmetic(image, d):
    a, b = _pooled(np.asarray(image), d)
    return (np.mean(a * b) - a.mean() * b.mean()) / (a.std() * b.std())


def loops_forever(image, d):
    total = 0
    while True:
        total += 1


MUTANTS = [
    ("1.1", no_bias, "wrong", "you left out the biases"),
    ("1.1", bias_per_input, "wrong", "one bias per INPUT"),
    ("1.1", bias_flag_ignored, "wrong", "you ignored `bias=False`"),
    ("1.1", one_bias, "wrong", "a single bias for the whole layer"),
    ("1.1", added, "wrong", "added the sizes instead of multiplying"),
    ("1.1", true_division, "bad_type", "expected an int — use `//`"),
    ("1.2", flatten_everything, "wrong", "flattened the batch axis too"),
    ("1.2", list_of_vectors, "bad_type", "returned a list of vectors"),
    ("1.2", merge_h_w_only, "wrong", "merged only the last two axes"),
    ("1.2", column_major, "wrong", "flattened column by column"),
    ("1.2", channels_last, "wrong", "moved the channels last"),
    ("1.2", reshape_in_place, "wrong", "values match, but you changed `images` in place"),
    ("1.2", numpy_only_float, "error", "raised AttributeError"),
    ("1.3", swapped_position, "error", "could not broadcast"),
    ("1.3", default_float_canvas, "bad_type", "must have the digit's dtype"),
    ("1.3", transposed_digit, "error", "could not broadcast"),
    ("1.3", pad_too_much, "wrong", "padding after the digit is `canvas_size - h - top`"),
    ("1.3", slice_one_too_long, "error", "could not broadcast"),
    ("1.4", with_itself, "wrong", "correlated the pixels with themselves"),
    ("1.4", rows_only, "wrong", "only used pairs along the rows"),
    ("1.4", covariance, "wrong", "you computed the covariance"),
    ("1.4", distance_minus_one, "wrong", "paired pixels d − 1 apart"),
    ("1.4", rolled, "wrong", "`np.roll` wraps around the edge"),
    ("1.4", uint8_arithmetic, "wrong", "overflowed: the image is uint8"),
]


# ----------------------------------------------------------------------- more mutants (issue 28)

def int32_count(in_features, out_features, bias=True):
    n = np.int32(in_features) * np.int32(out_features)
    return n + np.int32(out_features) if bias else n


def float_without_bias(in_features, out_features, bias=True):
    return in_features * out_features + (out_features if bias else 0.0)


def numpy_for_torch_too(images):
    return np.reshape(np.asarray(images), (len(images), -1))


def height_for_width(digit, canvas_size, top, left):
    canvas = np.zeros((canvas_size, canvas_size), dtype=digit.dtype)
    size = digit.shape[0]
    canvas[top:top + size, left:left + size] = digit[:size, :size]
    return canvas


def uint8_canvas(digit, canvas_size, top, left):
    canvas = np.zeros((canvas_size, canvas_size), dtype=np.uint8)
    h, w = digit.shape
    canvas[top:top + h, left:left + w] = digit
    return canvas


def ones_canvas(digit, canvas_size, top, left):
    canvas = np.ones((canvas_size, canvas_size), dtype=digit.dtype)
    h, w = digit.shape
    canvas[top:top + h, left:left + w] = digit
    return canvas


def mean_of_per_image_correlations(image, d):
    x = np.asarray(image, dtype=np.float64)
    stack = x if x.ndim == 3 else x[None]
    values = []
    for img in stack:
        a = np.concatenate([img[:, :-d].ravel(), img[:-d, :].ravel()])
        b = np.concatenate([img[:, d:].ravel(), img[d:, :].ravel()])
        values.append(np.corrcoef(a, b)[0, 1])
    return float(np.mean(values))


def sample_covariance(image, d):
    a, b = _pooled(np.asarray(image, dtype=np.float64), d)
    return float(np.cov(a, b)[0, 1])


MUTANTS += [
    ("1.1", int32_count, "wrong", "overflowed: a 32-bit integer"),
    ("1.1", float_without_bias, "bad_type", "expected an int"),
    ("1.2", numpy_for_torch_too, "bad_type", "expected a torch tensor"),
    ("1.3", height_for_width, "error", "could not broadcast"),
    ("1.3", uint8_canvas, "bad_type", "expected float32"),
    ("1.3", ones_canvas, "wrong", "wrong result"),
    ("1.4", mean_of_per_image_correlations, "wrong", "averaged one correlation per image"),
    ("1.4", sample_covariance, "wrong", "you computed the covariance"),
]


(test_mutant_is_rejected_with_the_right_diagnosis,
 test_each_exercise_has_at_least_five_diagnosed_mutants) = mutant_tests(CHECKERS, MUTANTS)


def test_correlation_outside_the_unit_interval_gets_a_hint():
    def scaled(image, d):
        return 2 * ch01.correlation_at_distance(image, d) + 0.5

    verdict = run_check(CHECKERS["1.4"].exercise, scaled)
    assert "always lies between −1 and 1" in verdict.message


def test_not_implemented_stub_prints_the_waiting_message(capsys):
    def dense_params(in_features, out_features, bias=True):
        raise NotImplementedError("Exercise 1.1: Parameters of a dense layer")

    assert hands_back_reference(check_dense_params(dense_params), check_dense_params.exercise)
    assert capsys.readouterr().out.startswith("⏳ Exercise 1.1 is not implemented yet")
