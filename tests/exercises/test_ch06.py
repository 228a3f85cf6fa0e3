"""Chapter 6 exercises: the references pass; typical learner mistakes get the right diagnosis.

The mutants are written the way a learner would write them (not copies of the Mistake
functions in helpers/exercises/ch06.py), so each diagnosis is proven by behaviour.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from helpers.exercises import (
    ch06,
    run_check,
)
from helpers.models import lenet5, small_vgg
from helpers.summary import count_macs, count_parameters
from tests.exercises.harness import checkers_of, mutant_tests

CHECKERS = checkers_of(chapter=6)


def verdict_of(number, fn):
    return run_check(CHECKERS[number].exercise, fn)


# --------------------------------------------------------------------------- the references

def test_conv_macs_agrees_with_count_macs():
    for c, k_out, k, n, s, p in [(1, 6, 5, 32, 1, 0), (3, 64, 11, 224, 4, 2),
                                 (64, 128, 3, 56, 2, 1), (16, 8, 1, 9, 1, 0)]:
        conv = nn.Conv2d(c, k_out, k, stride=s, padding=p, bias=False)
        assert ch06.conv_macs(c, k_out, k, n, s, p) == count_macs(conv, (c, n, n))


def test_layer_costs_agree_with_the_counters():
    for model, size in ((lenet5(), (1, 32, 32)), (small_vgg(channels=(4, 8)), (1, 28, 28))):
        costs = ch06.layer_costs(model, size)
        assert sum(p for p, _ in costs.values()) == count_parameters(model)
        assert {k: m for k, (_, m) in costs.items()} == dict(count_macs(model, size,
                                                                         by_layer=True))
    costs = ch06.layer_costs(lenet5(), (1, 32, 32))
    assert costs["features.0"] == (156, 117_600) and costs["classifier.1"] == (48_120, 48_000)


def test_dropout_reference():
    torch.manual_seed(0)
    x = torch.randn(1000)
    out = ch06.dropout(x, 0.3, seed=4)
    kept = out != 0
    assert torch.allclose(out[kept], x[kept] / 0.7)
    assert abs(kept.float().mean().item() - 0.7) < 0.05
    assert torch.equal(out, ch06.dropout(x, 0.3, seed=4))           # the seed decides the mask
    assert ch06.dropout(x, 0.3, training=False) is x
    assert torch.equal(ch06.dropout(x, 1.0), torch.zeros_like(x))
    assert torch.equal(ch06.dropout(x, 0.0), x)
    ones = torch.ones(200_000)
    assert abs(ch06.dropout(ones, 0.5, seed=1).mean().item() - 1) < 0.01


def test_vgg_block_reference_is_a_zoo_stage():
    block = ch06.vgg_block(3, 8, 2)
    stage = small_vgg(channels=(8,), convs_per_stage=2, in_channels=3).features
    assert ch06.compare_blocks(block, stage) is None
    assert block(torch.zeros(1, 3, 16, 16)).shape == (1, 8, 8, 8)
    assert "parameter shapes" in ch06.compare_blocks(ch06.vgg_block(3, 8, 1), stage)
    assert "nn.Module" in ch06.compare_blocks(42, stage)


def test_shift_images_reference():
    x = np.arange(1, 10, dtype=np.uint8).reshape(1, 3, 3)
    assert ch06.shift_images(x, 1, 0).tolist() == [[[0, 0, 0], [1, 2, 3], [4, 5, 6]]]
    assert ch06.shift_images(x, 0, -1).tolist() == [[[2, 3, 0], [5, 6, 0], [8, 9, 0]]]
    assert ch06.shift_images(x, 3, 0).sum() == 0
    assert ch06.shift_images(x, 0, 0).tolist() == x.tolist()


# --------------------------------------------------------------------------- 6.1 mutants

def macs_input_size(in_channels, out_channels, kernel_size, input_size, stride=1, padding=0):
    return out_channels * in_channels * kernel_size ** 2 * input_size ** 2


def macs_no_in_channels(in_channels, out_channels, kernel_size, input_size, stride=1, padding=0):
    out = (input_size + 2 * padding - kernel_size) // stride + 1
    return out_channels * kernel_size * kernel_size * out * out


def macs_padding_once(in_channels, out_channels, kernel_size, input_size, stride=1, padding=0):
    out = (input_size + padding - kernel_size) // stride + 1
    return out_channels * in_channels * kernel_size ** 2 * out ** 2


def macs_no_stride(in_channels, out_channels, kernel_size, input_size, stride=1, padding=0):
    out = input_size + 2 * padding - kernel_size + 1
    return out_channels * in_channels * kernel_size ** 2 * out ** 2


def macs_float(in_channels, out_channels, kernel_size, input_size, stride=1, padding=0):
    out = (input_size + 2 * padding - kernel_size) / stride + 1
    return out_channels * in_channels * kernel_size ** 2 * out ** 2


# --------------------------------------------------------------------------- 6.2 mutants

def _hooked(model, input_size, record):
    """Run ``model`` once with ``record(name, module, inp, out)`` hooked on convs and linears."""
    handles = []
    for name, m in model.named_modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            handles.append(m.register_forward_hook(
                lambda mod, i, o, name=name: record(name, mod, i[0], o)))
    model(torch.zeros(1, *input_size))
    for h in handles:
        h.remove()


def costs_weights_only(model, input_size):
    costs = {}

    def record(name, m, i, o):
        macs = o.numel() * (m.in_features if isinstance(m, nn.Linear)
                            else m.in_channels * m.kernel_size[0] * m.kernel_size[1])
        costs[name] = (m.weight.numel(), macs)
    _hooked(model, input_size, record)
    return costs


def costs_input_size(model, input_size):
    costs = {}

    def record(name, m, i, o):
        n = sum(p.numel() for p in m.parameters())
        if isinstance(m, nn.Conv2d):
            costs[name] = (n, m.weight.numel() * i.shape[2] * i.shape[3])
        else:
            costs[name] = (n, m.in_features * m.out_features)
    _hooked(model, input_size, record)
    return costs


def costs_bias_as_mac(model, input_size):
    costs = {}

    def record(name, m, i, o):
        n = sum(p.numel() for p in m.parameters())
        if isinstance(m, nn.Conv2d):
            costs[name] = (n, m.weight.numel() * o.shape[2] * o.shape[3])
        else:
            costs[name] = (n, n)
    _hooked(model, input_size, record)
    return costs


def costs_conv_once(model, input_size):
    costs = {}

    def record(name, m, i, o):
        costs[name] = (sum(p.numel() for p in m.parameters()), m.weight.numel())
    _hooked(model, input_size, record)
    return costs


def costs_no_in_channels(model, input_size):
    costs = {}

    def record(name, m, i, o):
        n = sum(p.numel() for p in m.parameters())
        if isinstance(m, nn.Conv2d):
            costs[name] = (n, o.numel() * m.kernel_size[0] ** 2)
        else:
            costs[name] = (n, m.in_features * m.out_features)
    _hooked(model, input_size, record)
    return costs


def costs_convs_only(model, input_size):
    costs = {}
    for name, m in model.named_modules():
        if isinstance(m, nn.Conv2d):
            m.register_forward_hook(lambda mod, i, o, name=name: costs.__setitem__(
                name, (sum(p.numel() for p in mod.parameters()),
                       o.numel() * mod.weight[0].numel())))
    model(torch.zeros(1, *input_size))
    return costs


# --------------------------------------------------------------------------- 6.3 mutants

def _u(x, seed):
    return torch.rand(x.shape, generator=torch.Generator().manual_seed(seed))


def dropout_no_rescale(x, p, training=True, seed=0):
    if not training:
        return x
    return x * (_u(x, seed) >= p)


def dropout_times_keep_prob(x, p, training=True, seed=0):
    if not training:
        return x
    return x * (_u(x, seed) >= p) * (1 - p)


def dropout_over_p(x, p, training=True, seed=0):
    if not training or p == 0:
        return x
    return torch.where(_u(x, seed) >= p, x / p, torch.zeros_like(x))


def dropout_always(x, p, training=True, seed=0):
    if p == 1:
        return torch.zeros_like(x)
    return x * (_u(x, seed) >= p) / (1 - p)


def dropout_inverted_mask(x, p, training=True, seed=0):
    if not training or p == 1:
        return x if not training else torch.zeros_like(x)
    return x.masked_fill(_u(x, seed) >= p, 0.0) / (1 - p)


def dropout_nan_at_one(x, p, training=True, seed=0):
    if not training:
        return x
    keep = (_u(x, seed) >= p).float()
    return x * keep / (1 - p)


def dropout_in_place(x, p, training=True, seed=0):
    if training and p < 1:
        x *= (_u(x, seed) >= p)
        x /= 1 - p
    elif training:
        x.zero_()
    return x


# --------------------------------------------------------------------------- 6.4 mutants

def shift_roll(images, dy, dx):
    return np.roll(np.roll(images, dy, axis=1), dx, axis=2)


def shift_wrong_way(images, dy, dx):
    out = np.zeros_like(images)
    h, w = images.shape[1:]
    for i in range(h):
        for j in range(w):
            if 0 <= i + dy < h and 0 <= j + dx < w:
                out[:, i, j] = images[:, i + dy, j + dx]
    return out


def shift_swapped(images, dy, dx):
    out = np.zeros_like(images)
    h, w = images.shape[1:]
    for i in range(h):
        for j in range(w):
            if 0 <= i - dx < h and 0 <= j - dy < w:
                out[:, i, j] = images[:, i - dx, j - dy]
    return out


def shift_float(images, dy, dx):
    n, h, w = images.shape
    padded = np.pad(images.astype(float), ((0, 0), (h, h), (w, w)))
    return padded[:, h - dy:2 * h - dy, w - dx:2 * w - dx]


def shift_from_a_copy(images, dy, dx):
    out = images.copy()
    h, w = images.shape[1:]
    rows, cols = slice(max(dy, 0), h + min(dy, 0)), slice(max(dx, 0), w + min(dx, 0))
    out[:, rows, cols] = np.roll(images, (dy, dx), axis=(1, 2))[:, rows, cols]
    return out


# --------------------------------------------------------------------------- 6.5 mutants

def block_no_padding(in_channels, out_channels, num_convs):
    layers = []
    for i in range(num_convs):
        layers += [nn.Conv2d(in_channels if i == 0 else out_channels, out_channels, 3), nn.ReLU()]
    return nn.Sequential(*layers, nn.MaxPool2d(2, 2))


def block_no_relu(in_channels, out_channels, num_convs):
    convs = [nn.Conv2d(in_channels, out_channels, 3, padding=1)]
    convs += [nn.Conv2d(out_channels, out_channels, 3, padding=1) for _ in range(num_convs - 1)]
    return nn.Sequential(*convs, nn.MaxPool2d(2))


def block_no_pool(in_channels, out_channels, num_convs):
    layers, c = [], in_channels
    for _ in range(num_convs):
        layers += [nn.Conv2d(c, out_channels, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
        c = out_channels
    return nn.Sequential(*layers)


def block_pool_each(in_channels, out_channels, num_convs):
    layers, c = [], in_channels
    for _ in range(num_convs):
        layers += [nn.Conv2d(c, out_channels, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        c = out_channels
    return nn.Sequential(*layers)


def block_5x5(in_channels, out_channels, num_convs):
    layers, c = [], in_channels
    for _ in range(num_convs):
        layers += [nn.Conv2d(c, out_channels, 5, padding=2), nn.ReLU()]
        c = out_channels
    return nn.Sequential(*layers, nn.MaxPool2d(2))


def block_all_from_input(in_channels, out_channels, num_convs):
    layers = []
    for _ in range(num_convs):
        layers += [nn.Conv2d(in_channels, out_channels, 3, padding=1), nn.ReLU()]
    return nn.Sequential(*layers, nn.MaxPool2d(2))


def block_returns_list(in_channels, out_channels, num_convs):
    return list(ch06.vgg_block(in_channels, out_channels, num_convs))


# --------------------------------------------------------------------------- broken learner code


def test_passing_the_result_instead_of_the_function():
    verdict = verdict_of("6.1", 42)
    assert verdict.status == "bad_type" and "expected a function" in verdict.message


MUTANTS = [
    ("6.1", macs_input_size, "wrong", "OUTPUT position"),
    ("6.1", macs_no_in_channels, "wrong", "input channels are missing"),
    ("6.1", macs_padding_once, "wrong", "BOTH sides"),
    ("6.1", macs_no_stride, "wrong", "stride is ignored"),
    ("6.1", macs_float, "bad_type", "//"),
    ("6.2", costs_weights_only, "wrong", "lack the biases"),
    ("6.2", costs_input_size, "wrong", "not the input's"),
    ("6.2", costs_bias_as_mac, "wrong", "bias is an addition"),
    ("6.2", costs_conv_once, "wrong", "H'·W' times"),
    ("6.2", costs_no_in_channels, "wrong", "ALL input channels"),
    ("6.2", costs_convs_only, "wrong", "linear layers are missing"),
    ("6.3", dropout_no_rescale, "wrong", "not rescaled"),
    ("6.3", dropout_times_keep_prob, "wrong", "multiplied the survivors by (1 − p)"),
    ("6.3", dropout_over_p, "wrong", "scaled by 1/p"),
    ("6.3", dropout_always, "wrong", "evaluation mode"),
    ("6.3", dropout_inverted_mask, "wrong", "BELOW p"),
    ("6.3", dropout_nan_at_one, "wrong", "0 / 0"),
    ("6.3", dropout_in_place, "wrong", "in place"),
    ("6.4", shift_roll, "wrong", "wraps around"),
    ("6.4", shift_wrong_way, "wrong", "wrong way"),
    ("6.4", shift_swapped, "wrong", "swapped the axes"),
    ("6.4", shift_float, "bad_type", "dtype"),
    ("6.4", shift_from_a_copy, "wrong", "still hold the old image"),
    ("6.5", block_no_padding, "wrong", "padding 1"),
    ("6.5", block_no_relu, "wrong", "ReLU after each convolution"),
    ("6.5", block_no_pool, "wrong", "pooling at the end"),
    ("6.5", block_pool_each, "wrong", "after every convolution"),
    ("6.5", block_5x5, "wrong", "5×5 filters"),
    ("6.5", block_all_from_input, "wrong", "parameter shapes"),
    ("6.5", block_returns_list, "wrong", "nn.Module"),
]

# ----------------------------------------------------------------------- more mutants (issue 28)

def macs_bias_counted(in_channels, out_channels, kernel_size, input_size, stride=1, padding=0):
    side = (input_size + 2 * padding - kernel_size) // stride + 1
    return out_channels * (in_channels * kernel_size ** 2 + 1) * side ** 2


def macs_flops(in_channels, out_channels, kernel_size, input_size, stride=1, padding=0):
    side = (input_size + 2 * padding - kernel_size) // stride + 1
    return 2 * out_channels * in_channels * kernel_size ** 2 * side ** 2


def macs_ceil(in_channels, out_channels, kernel_size, input_size, stride=1, padding=0):
    side = -(-(input_size + 2 * padding - kernel_size) // stride) + 1
    return out_channels * in_channels * kernel_size ** 2 * side ** 2


def costs_groups_ignored(model, input_size):
    costs = {}

    def record(name, m, i, o):
        n = sum(p.numel() for p in m.parameters())
        per_output = m.in_features if isinstance(m, nn.Linear) else \
            m.in_channels * m.kernel_size[0] * m.kernel_size[1]
        costs[name] = (n, o.numel() * per_output)
    _hooked(model, input_size, record)
    return costs


def costs_hooks_left(model, input_size):
    costs = {}
    for name, m in model.named_modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            m.register_forward_hook(lambda mod, i, o, name=name: costs.__setitem__(
                name, (sum(p.numel() for p in mod.parameters()),
                       o.numel() * mod.weight[0].numel())))
    with torch.no_grad():
        model(torch.zeros(1, *input_size))
    return costs


def dropout_reseeds_global(x, p, training=True, seed=0):
    if not training or p == 0:
        return x
    if p == 1:
        return torch.zeros_like(x)
    torch.manual_seed(seed)
    u = torch.rand(x.shape)
    return torch.where(u >= p, x / (1 - p), torch.zeros_like(x))


def shift_positive_only(images, dy, dx):
    out = np.zeros_like(images)
    h, w = images.shape[1:]
    out[:, abs(dy):, abs(dx):] = images[:, :h - abs(dy), :w - abs(dx)]
    return out


def shift_height_for_width(images, dy, dx):
    n, h, _ = images.shape
    out = np.zeros_like(images)
    src = images[:, max(-dy, 0):h - max(dy, 0), max(-dx, 0):h - max(dx, 0)]
    out[:, max(dy, 0):max(dy, 0) + src.shape[1], max(dx, 0):max(dx, 0) + src.shape[2]] = src
    return out


def shift_clipped_by_slicing(images, dy, dx):
    out = np.zeros_like(images)
    out[:, dy:, dx:] = images[:, :images.shape[1] - dy, :images.shape[2] - dx]
    return out


def block_strided_conv(in_channels, out_channels, num_convs):
    layers, c = [], in_channels
    for i in range(num_convs):
        stride = 2 if i == num_convs - 1 else 1
        layers += [nn.Conv2d(c, out_channels, 3, stride=stride, padding=1), nn.ReLU()]
        c = out_channels
    return nn.Sequential(*layers)


MUTANTS += [
    ("6.1", macs_bias_counted, "wrong", "counted the bias as a multiply-add"),
    ("6.1", macs_flops, "wrong", "you counted FLOPs"),
    ("6.1", macs_ceil, "wrong", "wrong result"),
    ("6.2", costs_groups_ignored, "wrong", "you ignored `groups`"),
    ("6.2", costs_hooks_left, "wrong", "left hooks registered"),
    ("6.3", dropout_reseeds_global, "wrong", "changed the global torch random state"),
    ("6.4", shift_positive_only, "error", "larger than the image"),   # breaks on dy > H first
    ("6.4", shift_height_for_width, "error", "could not broadcast"),
    ("6.4", shift_clipped_by_slicing, "error", "could not broadcast"),
    ("6.5", block_strided_conv, "wrong", "wrong"),
]


# ------------------------------------------------------------- the reviewer's wrong answers

def macs_plus_one_inside(in_channels, out_channels, kernel_size, input_size, stride=1, padding=0):
    side = (input_size + 2 * padding - kernel_size + 1) // stride
    return out_channels * in_channels * kernel_size ** 2 * side ** 2


def costs_no_batch_dimension(model, input_size):
    costs = {}

    def record(name, m, i, o):
        costs[name] = (sum(p.numel() for p in m.parameters()), o.numel() * m.weight[0].numel())
    _hooked_unbatched(model, input_size, record)
    return costs


def _hooked_unbatched(model, input_size, record):
    handles = [m.register_forward_hook(lambda mod, i, o, name=name: record(name, mod, i, o))
               for name, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        with torch.no_grad():
            model(torch.zeros(*input_size))
    finally:
        for h in handles:
            h.remove()


def costs_batch_of_eight(model, input_size):
    costs, handles = {}, []
    for name, m in model.named_modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            handles.append(m.register_forward_hook(
                lambda mod, i, o, name=name: costs.__setitem__(
                    name, (sum(p.numel() for p in mod.parameters()),
                           o.numel() * mod.weight[0].numel()))))
    with torch.no_grad():
        model(torch.zeros(8, *input_size))
    for h in handles:
        h.remove()
    return costs


def dropout_original_2012(x, p, training=True, seed=0):
    if not training:
        return x * (1 - p)
    u = torch.rand(x.shape, generator=torch.Generator().manual_seed(seed))
    return x * (u >= p)


def shift_negative_slice_ends(images, dy, dx):
    n, h, w = images.shape
    out = np.zeros_like(images)
    src = images[:, max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
    out[:, max(dy, 0):max(dy, 0) + src.shape[1], max(dx, 0):max(dx, 0) + src.shape[2]] = src
    return out


def _learner_block(in_channels, out_channels, num_convs, unit=nn.ReLU, extra=(), pool=None):
    layers, c = [], in_channels
    for _ in range(num_convs):
        layers += [nn.Conv2d(c, out_channels, kernel_size=3, padding=1), unit(), *extra]
        c = out_channels
    layers.append(pool or nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)


def block_dropout_after_relu(in_channels, out_channels, num_convs):
    return _learner_block(in_channels, out_channels, num_convs, extra=(nn.Dropout(0.5),))


def block_relu6(in_channels, out_channels, num_convs):
    return _learner_block(in_channels, out_channels, num_convs, unit=nn.ReLU6)


def block_ceil_mode(in_channels, out_channels, num_convs):
    return _learner_block(in_channels, out_channels, num_convs,
                          pool=nn.MaxPool2d(2, ceil_mode=True))


MUTANTS += [
    ("6.1", macs_plus_one_inside, "wrong", "+ 1 is inside the division"),
    ("6.2", costs_no_batch_dimension, "error", "torch.zeros(1, *input_size)"),
    ("6.2", costs_batch_of_eight, "wrong", "you ran a batch of 8"),
    ("6.3", dropout_original_2012, "wrong", "you scaled at test time, as AlexNet did"),
    ("6.4", shift_negative_slice_ends, "error", "larger than the image"),
    ("6.5", block_dropout_after_relu, "wrong", "dropout in your block"),
    ("6.5", block_relu6, "wrong", "ReLU6"),
    ("6.5", block_ceil_mode, "wrong", "ceil_mode=True"),
]


def test_the_padding_once_cause_is_not_given_for_the_plus_one_inside():
    verdict = verdict_of("6.1", macs_plus_one_inside)
    assert "padding once" not in verdict.message, verdict.message


def test_missing_batch_dimension_gets_no_transpose_advice():
    verdict = verdict_of("6.2", costs_no_batch_dimension)
    assert "transpose" not in verdict.message and "batch" in verdict.message, verdict.message


def test_original_dropout_names_evaluation_mode():
    verdict = verdict_of("6.3", dropout_original_2012)
    assert "partly explains" not in verdict.message and "evaluation" in verdict.message


(test_mutant_is_rejected_with_the_right_diagnosis,
 test_each_exercise_has_at_least_five_diagnosed_mutants) = mutant_tests(CHECKERS, MUTANTS)
