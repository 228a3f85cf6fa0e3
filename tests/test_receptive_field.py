"""helpers.receptive_field: the layer-by-layer formula agrees with gradients, on random stacks,
residual networks and known architectures."""
from __future__ import annotations

import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from torch import nn

from helpers import layers as scratch
from helpers.receptive_field import measured_receptive_field, receptive_field

KINDS = {"conv": (nn.Conv2d, scratch.Conv2d), "max": (nn.MaxPool2d, scratch.MaxPool2d),
         "avg": (nn.AvgPool2d, scratch.AvgPool2d)}


def _fitting_input(model: nn.Module, rf) -> int:
    """Smallest side n >= size + 2 * padding whose centre unit's field lies strictly inside."""
    n = rf.size + 2 * rf.padding
    while True:
        n += 1
        try:
            out = receptive_field(model, input_size=n).layers[-1].output[0]
        except ValueError:        # some layer's output would be empty
            continue
        top, _, bottom, _ = rf.box((out - 1) // 2, (out - 1) // 2)
        if top >= 1 and bottom <= n - 1:
            return n


def _assert_measured_matches(model: nn.Module, channels: int, n: int | None = None):
    rf = receptive_field(model)
    n = n or _fitting_input(model, rf)
    measured = measured_receptive_field(model, (channels, n, n))
    assert not measured.clipped
    assert (measured.height, measured.width) == (rf.size, rf.size)
    i, j = measured.unit
    assert (measured.top, measured.left) == rf.box(i, j)[:2]
    return rf, measured


# --------------------------------------------------------------------------- random stacks


@st.composite
def stacks(draw):
    """nn.Sequential of 1 to 5 random conv / max-pool / avg-pool layers, torch or scratch."""
    modules = []
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(sorted(KINDS)))
        cls = KINDS[kind][draw(st.integers(0, 1))]
        k, s = draw(st.integers(1, 5)), draw(st.integers(1, 3))
        if kind == "conv":
            p = draw(st.one_of(st.integers(0, 3), st.just("same")))
            modules.append(cls(2, 2, k, stride=1 if p == "same" else s, padding=p,
                               dilation=draw(st.integers(1, 3))))
            if draw(st.booleans()):
                modules.append(nn.ReLU())
        else:
            modules.append(cls(k, stride=s, padding=draw(st.integers(0, k // 2))))
    return nn.Sequential(*modules)


@settings(max_examples=60, deadline=None)
@given(stacks())
def test_formula_matches_gradients_on_random_stacks(model):
    rf = receptive_field(model)
    assume(rf.size <= 60 and rf.stride <= 16)
    _assert_measured_matches(model, channels=2)


# --------------------------------------------------------------------------- residual networks


class BasicBlock(nn.Module):
    """ResNet basic block with the receptive-field protocol (projection shortcut if needed)."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1, conv=nn.Conv2d):
        super().__init__()
        self.conv1 = conv(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1, self.relu = nn.BatchNorm2d(c_out), nn.ReLU()
        self.conv2 = conv(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Sequential()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(conv(c_in, c_out, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(c_out))

    def forward(self, x):
        main = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(main + self.shortcut(x))

    def receptive_field_paths(self):
        return [[self.conv1, self.bn1, self.relu, self.conv2, self.bn2], [self.shortcut]]


class TorchvisionStyleBlock(nn.Module):
    """Bottleneck without the hook, with a ``downsample`` attribute (None: identity)."""

    def __init__(self, c_in: int, c_mid: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_mid, 1, bias=False)
        self.conv2 = nn.Conv2d(c_mid, c_mid, 3, stride=stride, padding=1, bias=False)
        self.conv3 = nn.Conv2d(c_mid, 4 * c_mid, 1, bias=False)
        self.relu = nn.ReLU()
        self.downsample = None
        if stride != 1 or c_in != 4 * c_mid:
            self.downsample = nn.Conv2d(c_in, 4 * c_mid, 1, stride=stride, bias=False)

    def forward(self, x):
        out = self.conv3(self.relu(self.conv2(self.relu(self.conv1(x)))))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


def _small_resnet(conv=nn.Conv2d) -> nn.Sequential:
    features = nn.Sequential(conv(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                             BasicBlock(4, 8, stride=2, conv=conv), BasicBlock(8, 8, conv=conv),
                             BasicBlock(8, 8, stride=2, conv=conv),
                             TorchvisionStyleBlock(8, 2), TorchvisionStyleBlock(8, 4, stride=2))
    return features


@pytest.mark.parametrize("conv", [nn.Conv2d, scratch.Conv2d], ids=["torch", "scratch"])
def test_residual_network_with_projection_shortcuts(conv):
    features = _small_resnet(conv)
    rf, _ = _assert_measured_matches(features, channels=2)
    # stem 3; block 1: +2 +2*2; block 2: +2*2*2; block 3: +2*2 +2*4; bottleneck: +2*4;
    # strided bottleneck: +2*4
    assert (rf.size, rf.stride) == (3 + 2 + 4 + 8 + 4 + 8 + 8 + 8, 8)
    assert [row.name for row in rf.layers] == ["0", "3", "4", "5", "6", "7"]
    model = nn.Sequential(features, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))
    whole = receptive_field(model)
    assert whole.stopped_at == "1" and whole.size == rf.size
    model.eval()(torch.zeros(1, 2, 32, 32))  # the blocks really run


def test_paths_with_different_strides_are_rejected():
    class Broken(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Conv2d(1, 1, 3, stride=2), nn.Conv2d(1, 1, 1)

        def receptive_field_paths(self):
            return [self.a, [self.b]]

    with pytest.raises(ValueError, match="different strides"):
        receptive_field(Broken())


# --------------------------------------------------------------------------- known values


@pytest.mark.parametrize("depth", [1, 2, 3, 5])
def test_stacked_3x3_convolutions_see_2k_plus_1(depth):
    model = nn.Sequential(*[nn.Conv2d(1, 1, 3, padding=1) for _ in range(depth)])
    rf, measured = _assert_measured_matches(model, channels=1)
    assert rf.size == measured.size == 2 * depth + 1
    assert [row.size for row in rf.layers] == [2 * i + 3 for i in range(depth)]


def test_two_3x3_see_what_one_5x5_sees():
    two = nn.Sequential(nn.Conv2d(1, 1, 3), nn.ReLU(), nn.Conv2d(1, 1, 3))
    one = nn.Conv2d(1, 1, 5)
    m_two = measured_receptive_field(two, (1, 11, 11))
    m_one = measured_receptive_field(one, (1, 11, 11))
    assert receptive_field(two).size == receptive_field(one).size == 5
    assert torch.equal(m_two.footprint, m_one.footprint)


def _alexnet_features(channels: int = 2) -> nn.Sequential:
    c = channels
    return nn.Sequential(
        nn.Conv2d(3, c, 11, stride=4, padding=2), nn.ReLU(), nn.MaxPool2d(3, stride=2),
        nn.Conv2d(c, c, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, stride=2),
        nn.Conv2d(c, c, 3, padding=1), nn.ReLU(), nn.Conv2d(c, c, 3, padding=1), nn.ReLU(),
        nn.Conv2d(c, c, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, stride=2))


def test_alexnet_layer_by_layer():
    rf = receptive_field(_alexnet_features(), input_size=(3, 224, 224))
    assert [r.size for r in rf.layers] == [11, 19, 51, 67, 99, 131, 163, 195]
    assert [r.jump for r in rf.layers] == [4, 8, 8, 16, 16, 16, 16, 32]
    assert [r.output[0] for r in rf.layers] == [55, 27, 27, 13, 13, 13, 13, 6]
    assert (rf.size, rf.stride) == (195, 32)
    table = rf.to_markdown()
    assert table.splitlines()[2].startswith("| `0` | Conv2d | 11 | 4 | 2 | 1 | 55×55 | 11 | 4 |")
    assert str(rf) == table
    _assert_measured_matches(_alexnet_features(), channels=3)


def test_vgg16_sees_212_pixels():
    cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512,
           "M"]
    model = nn.Sequential(*[nn.MaxPool2d(2) if v == "M" else nn.Conv2d(1, 1, 3, padding=1)
                            for v in cfg])
    rf = receptive_field(model)
    assert (rf.size, rf.stride) == (212, 32)
    assert rf.layers[-2].size == 196           # conv5_3, before the last pool


def test_dilated_convolutions_grow_exponentially():
    model = nn.Sequential(*[scratch.Conv2d(1, 1, 3, padding=d, dilation=d) for d in (1, 2, 4)])
    rf, _ = _assert_measured_matches(model, channels=1)
    assert [r.size for r in rf.layers] == [3, 7, 15]


# --------------------------------------------------------------------------- protocol details


def test_hooks_and_global_layers():
    class Blur(nn.Module):          # not conv-like, but it says what it does
        def forward(self, x):
            return scratch.avg_pool2d(x, 5, stride=1, padding=2)

        def receptive_field_params(self):
            return (5, 1, 2, 1)

    class GlobalThing(nn.Module):
        def receptive_field_params(self):
            return None

    rf = receptive_field(nn.Sequential(Blur(), nn.Conv2d(1, 1, 3), GlobalThing(),
                                       nn.Conv2d(1, 1, 3)))
    assert (rf.size, rf.padding, rf.stopped_at) == (7, 2, "2")
    _assert_measured_matches(nn.Sequential(Blur(), nn.Conv2d(1, 1, 3)), channels=1)
    flat = receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3), nn.Flatten(), nn.Linear(9, 2)))
    assert (flat.size, flat.stopped_at) == (3, "1")
    assert "whole input" in flat.to_markdown()


def test_same_padding_and_unusual_pools():
    model = nn.Sequential(nn.Conv2d(1, 1, 4, padding="same"), nn.MaxPool2d(3, 2, 1,
                          ceil_mode=True), nn.Conv2d(1, 1, 3, padding="valid"))
    rf = receptive_field(model, input_size=10)
    assert [r.output for r in rf.layers] == [(10, 10), (6, 6), (4, 4)]
    assert tuple(model(torch.zeros(1, 1, 10, 10)).shape[2:]) == (4, 4)
    assert (rf.size, rf.padding) == (4 + 2 + 2 * 2, 1 + 1)


@pytest.mark.parametrize("module, message", [
    (nn.Conv2d(1, 1, (3, 5)), "non-square"),
    (nn.Conv2d(1, 1, 3, stride=(1, 2)), "non-square"),
    (nn.Sequential(nn.Conv1d(1, 1, 3)), "unsupported"),
])
def test_unsupported_layers_raise(module, message):
    with pytest.raises(ValueError, match=message):
        receptive_field(module)


def test_measured_needs_a_spatial_output_and_a_proper_size():
    with pytest.raises(ValueError, match="spatial"):
        measured_receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3), nn.Flatten()), (1, 8, 8))
    with pytest.raises(ValueError, match="input_size"):
        measured_receptive_field(nn.Conv2d(1, 1, 3), (8, 8))
    with pytest.raises(ValueError, match="output"):
        receptive_field(nn.Conv2d(1, 1, 5), input_size=3)


def test_clipping_is_reported():
    measured = measured_receptive_field(nn.Sequential(*[nn.Conv2d(1, 1, 3, padding=1)] * 4),
                                        (1, 5, 5))
    assert measured.clipped and measured.size == 5   # the true field (9) does not fit
