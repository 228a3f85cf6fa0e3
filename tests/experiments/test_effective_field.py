"""helpers.experiments.effective_field: one-channel copies keep every receptive field, the
layer-by-layer measurement agrees with the recurrence, and the effective-receptive-field
statistics are right on inputs whose answer is known."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from helpers import layers as scratch
from helpers.experiments.effective_field import (
    central_mass,
    conv_stack,
    effective_receptive_field,
    gaussian_fit,
    measured_table,
    one_channel_copy,
    sequential_layers,
    truncated,
)
from helpers.models import alexnet, resnet18
from helpers.receptive_field import measured_receptive_field, receptive_field


def _geometry(model):
    return [(r.name, r.size, r.jump, r.offset) for r in receptive_field(model).layers]


@settings(max_examples=8, deadline=None)
@given(st.integers(1, 12), st.sampled_from([1, 3, 5]))
def test_a_stack_of_stride_1_convs_has_field_1_plus_depth_times_k_minus_1(depth, k):
    stack = conv_stack(depth, kernel_size=k)
    size = 1 + depth * (k - 1)
    assert receptive_field(stack).size == size
    assert measured_receptive_field(stack, (1, size + 4, size + 4)).size == size


def test_conv_stack_shapes_and_options():
    stack = conv_stack(3, channels=4, in_channels=2, relu=True)
    assert stack(torch.zeros(1, 2, 9, 9)).shape == (1, 4, 9, 9)
    assert sum(isinstance(m, nn.ReLU) for m in stack) == 2
    assert sum(p.numel() for p in conv_stack(50).parameters()) == 50 * 9
    for bad in ({"depth": 0}, {"depth": 2, "kernel_size": 4}):
        with pytest.raises(ValueError):
            conv_stack(**bad)


def _alexnet_on_meta():
    with torch.device("meta"):          # shapes only: 61 M weights not allocated
        return alexnet().features


@pytest.mark.parametrize("make", [_alexnet_on_meta, lambda: resnet18().features])
def test_one_channel_copy_keeps_the_geometry(make):
    features = make()
    thin = one_channel_copy(features)
    assert _geometry(thin) == _geometry(features)
    assert sum(p.numel() for p in thin.parameters()) < sum(p.numel() for p in
                                                           features.parameters()) / 1000
    assert thin(torch.zeros(1, 1, 64, 64)).shape[1] == 1
    assert features[0].in_channels == 3          # the original is untouched


def test_one_channel_copy_of_scratch_layers_and_of_a_lone_conv():
    net = nn.Sequential(scratch.Conv2d(3, 8, 3, padding="same"), nn.BatchNorm2d(8))
    thin = one_channel_copy(net)
    assert isinstance(thin[0], scratch.Conv2d) and thin[0].padding == "same"
    assert _geometry(thin) == _geometry(net)
    lone = one_channel_copy(nn.Conv2d(3, 8, 5, stride=2, dilation=2))
    assert (lone.in_channels, lone.kernel_size, lone.stride, lone.dilation) == \
        (1, (5, 5), (2, 2), (2, 2))


def test_sequential_layers_names_match_the_receptive_field_table():
    features = resnet18().features
    names = [name for name, _ in sequential_layers(features)]
    table = [row.name for row in receptive_field(features).layers]
    assert set(table) <= set(names)
    assert names[:5] == ["conv1", "bn1", "relu", "maxpool", "layer1.0"]
    part = truncated(features, "layer2.0")
    assert receptive_field(part).size == receptive_field(features).layers[
        table.index("layer2.0")].size
    with pytest.raises(ValueError, match="no layer"):
        truncated(features, "layer9")


SMALL = nn.Sequential(OrderedDict(
    conv1=nn.Conv2d(3, 8, 3, padding=1), relu1=nn.ReLU(), pool1=nn.MaxPool2d(2),
    conv2=nn.Conv2d(8, 8, 5, stride=2, padding=2), relu2=nn.ReLU(),
    conv3=nn.Conv2d(8, 8, 3, dilation=2, padding=2)))


def test_measured_table_agrees_with_the_recurrence_on_every_layer():
    rows = measured_table(one_channel_copy(SMALL))
    assert [r.name for r in rows] == ["conv1", "pool1", "conv2", "conv3"]
    assert [(r.size, r.jump) for r in rows] == [(3, 1), (4, 2), (12, 4), (28, 4)]
    assert all(r.agrees for r in rows)
    assert [(r.measured_size, r.measured_jump) for r in rows] == [(r.size, r.jump) for r in rows]


def test_resnet18_is_confirmed_block_by_block():
    """Every block of a residual network (two paths each) agrees with the recurrence."""
    rows = measured_table(one_channel_copy(resnet18().features))
    assert [r.name for r in rows] == ["conv1", "maxpool"] + [f"layer{s}.{b}" for s in range(1, 5)
                                                           for b in range(2)]
    assert all(r.agrees for r in rows), [r for r in rows if not r.agrees]
    assert (rows[-1].size, rows[-1].jump) == (435, 32)


def test_measured_table_with_a_fixed_input_and_selected_rows():
    rows = measured_table(SMALL, (3, 64, 64), names=["conv2"])
    assert len(rows) == 1 and rows[0].agrees
    too_small = measured_table(SMALL, (3, 20, 20), names=["conv3"])
    assert too_small[0].clipped and not too_small[0].agrees
    with pytest.raises(ValueError, match="no layers"):
        measured_table(SMALL, names=["conv9"])
    with pytest.raises(ValueError, match="nn.Sequential"):
        measured_table(nn.Conv2d(1, 1, 3))


def test_effective_field_of_one_conv_is_the_absolute_kernel():
    conv = nn.Conv2d(1, 1, 3, padding=1, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.arange(-4.0, 5.0).reshape(1, 1, 3, 3))
    g = effective_receptive_field(conv, (1, 7, 7), n_inputs=2)
    np.testing.assert_allclose(g[2:5, 2:5], np.abs(np.arange(-4.0, 5.0)).reshape(3, 3))
    assert g.sum() == pytest.approx(np.abs(np.arange(-4.0, 5.0)).sum())


def test_effective_field_lies_inside_the_theoretical_one_and_is_deterministic():
    torch.manual_seed(0)
    net = conv_stack(4, channels=4, relu=True)
    g = effective_receptive_field(net, (1, 15, 15), n_inputs=4, seed=1)
    assert np.array_equal(g, effective_receptive_field(net, (1, 15, 15), n_inputs=4, seed=1))
    inside = np.zeros_like(g, dtype=bool)
    inside[3:12, 3:12] = True                     # the 9x9 field around pixel (7, 7)
    assert (g[~inside] == 0).all() and (g[inside] > 0).mean() > 0.9
    with pytest.raises(ValueError, match="C, H, W"):
        effective_receptive_field(net, (15, 15))


def test_central_mass_of_a_uniform_and_of_a_peaked_field():
    flat = np.zeros((11, 11))
    flat[1:10, 1:10] = 1.0                        # uniform over a 9x9 field
    mass, area = central_mass(flat, 9)
    assert mass == pytest.approx(area) and area == pytest.approx(25 / 81)
    peaked = np.zeros((11, 11))
    peaked[5, 5] = 1.0
    assert central_mass(peaked, 9) == pytest.approx((1.0, 25 / 81))
    for bad in (dict(size=8), dict(size=13)):
        with pytest.raises(ValueError):
            central_mass(flat, **bad)
    with pytest.raises(ValueError, match="zero"):
        central_mass(np.zeros((5, 5)), 3)


def test_gaussian_fit_recovers_sigma_and_tells_a_box_from_a_bell():
    xs = np.arange(61) - 30.0
    bell = np.exp(-xs ** 2 / (2 * 4.0 ** 2))
    sigma, r2 = gaussian_fit(np.outer(bell, bell))
    assert sigma == pytest.approx(4.0, rel=1e-3) and r2 == pytest.approx(1.0, abs=1e-6)
    box = np.zeros((61, 61))
    box[:, 20:41] = 1.0
    assert gaussian_fit(box)[1] < 0.9


def test_stride_on_first_conv_moves_the_strides_and_keeps_the_output():
    from helpers.experiments.effective_field import stride_on_first_conv
    from helpers.models import resnet18, resnet50

    with torch.device("meta"):
        model = resnet50()
    v1 = stride_on_first_conv(model)
    moved = [name for name, m in v1.named_modules() if getattr(m, "conv1", None) is not None
             and hasattr(m, "conv3") and m.conv1.stride != (1, 1)]
    assert moved == ["features.layer2.0", "features.layer3.0", "features.layer4.0"]
    assert receptive_field(v1.features).size == 483 and receptive_field(model.features).size == 427
    assert all(m.conv2.stride in (1, (1, 1)) for m in model.modules() if hasattr(m, "conv3")) \
        is False                                                # the original is untouched
    x = torch.randn(1, 1, 40, 40)
    small = one_channel_copy(stride_on_first_conv(one_channel_copy(resnet50().features)))
    assert small(x).shape == one_channel_copy(resnet50().features)(x).shape
    with pytest.raises(ValueError):
        stride_on_first_conv(resnet18())                        # basic blocks: no bottleneck


@pytest.mark.parametrize("dilations", [(1, 1, 1), (1, 1, 2), (1, 2, 2), (1, 2, 4), (3,)])
def test_dilated_gap_net_field_is_3_plus_4_sum_d_and_its_weights_do_not_depend_on_it(dilations):
    from helpers.experiments.effective_field import dilated_gap_net
    torch.manual_seed(0)
    net = dilated_gap_net(dilations)
    assert net(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    trunk = net[:-3]
    assert trunk(torch.zeros(1, 1, 28, 28)).shape == (1, 16, 14, 14)
    expected = 3 + 4 * sum(dilations)
    assert receptive_field(trunk).size == expected
    side = expected + 6
    assert measured_receptive_field(trunk, (1, side, side)).size == expected
    same_depth = dilated_gap_net((1,) * len(dilations))
    assert [p.shape for p in net.parameters()] == [p.shape for p in same_depth.parameters()]


def test_dilated_gap_net_rejects_bad_settings():
    from helpers.experiments.effective_field import dilated_gap_net
    for bad in [(), (0, 1), (1.5,)]:
        with pytest.raises(ValueError, match="dilations"):
            dilated_gap_net(bad)
    with pytest.raises(ValueError, match="channels"):
        dilated_gap_net((1,), channels=0)


def test_input_gradient_field_of_one_conv_is_the_absolute_kernel_and_matches_noise_version():
    from helpers.experiments.effective_field import input_gradient_field
    conv = nn.Conv2d(1, 1, 3, padding=1, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.arange(-4.0, 5.0).reshape(1, 1, 3, 3))
    images = torch.rand(3, 1, 7, 7)
    g = input_gradient_field(conv, images)
    np.testing.assert_allclose(g[2:5, 2:5], np.abs(np.arange(-4.0, 5.0)).reshape(3, 3))
    assert (g[[0, 1, 5, 6]] == 0).all()
    assert conv.weight.dtype == torch.float32                    # the module is not changed
    torch.manual_seed(0)
    net = conv_stack(3, channels=2, relu=True)
    noise = torch.randn(4, 1, 11, 11, generator=torch.Generator().manual_seed(0))
    assert input_gradient_field(net, noise).shape == (11, 11)
    with pytest.raises(ValueError, match="N, C, H, W"):
        input_gradient_field(conv, torch.zeros(7, 7))
    with pytest.raises(ValueError, match="N, K, H', W'"):
        input_gradient_field(nn.Sequential(conv, nn.Flatten()), images)


def test_erf_before_after_measures_the_same_network_twice_per_seed():
    from helpers.experiments.effective_field import erf_before_after
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(64, 28, 28), dtype=np.uint8)
    y = np.arange(64) % 10
    probe = torch.randn(4, 1, 28, 28)
    out = erf_before_after(x, y, probe, seeds=(0, 1), steps=2, n_noise=2, progress=False)
    for key in ("images", "noise"):
        before, after = out[key]
        assert len(before) == len(after) == 2
        assert all(m.shape == (28, 28) and m.sum() > 0 for m in before + after)
        assert not np.array_equal(before[0], after[0])           # the weights moved
        assert not np.array_equal(before[0], before[1])          # another seed, other weights
    assert len(out["train_acc"]) == 2
    again = erf_before_after(x, y, probe, seeds=(0,), steps=2, n_noise=2, progress=False)
    np.testing.assert_array_equal(again["images"][0][0], out["images"][0][0])
    with pytest.raises(ValueError, match="seed"):
        erf_before_after(x, y, probe, seeds=(), steps=2)
