"""Chapter 10 exercises: the references pass; typical learner mistakes get the right diagnosis.

The mutants are written the way a learner would write them (not copies of the Mistake
functions in helpers/exercises/ch10.py), so each diagnosis is proven by behaviour.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from helpers.exercises import ch10
from helpers.models import cifar_resnet, small_cnn, small_vgg, tiny_vit, vgg16
from helpers.receptive_field import receptive_field
from helpers.summary import count_macs, count_parameters
from tests.exercises.harness import checkers_of, mutant_tests

pytestmark = pytest.mark.usefixtures("one_thread")
CHECKERS = checkers_of(chapter=10)


# --------------------------------------------------------------------------- the references

def as_module(layers, in_channels):
    """The stack of 10.1 built with torch.nn."""
    modules, channels = [], in_channels
    for kind, *spec in layers:
        if kind == "conv":
            out_channels, k, s, p = spec
            modules.append(nn.Conv2d(channels, out_channels, k, stride=s, padding=p))
            channels = out_channels
        else:
            modules.append(nn.MaxPool2d(spec[0], stride=spec[1]))
    return nn.Sequential(*modules)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_stack_profile_agrees_with_the_course_tools(seed):
    rng = np.random.default_rng(seed)
    side = int(rng.integers(16, 65))
    layers, channels = ch10._random_stack(rng, side), int(rng.integers(1, 5))
    model = as_module(layers, channels)
    assert ch10.stack_profile(layers, channels, side) == {
        "parameters": count_parameters(model), "macs": count_macs(model, (channels, side, side)),
        "field": receptive_field(model).size}


def test_stack_profile_of_vgg16_trunk():
    convs = [c for c in vgg16().features if isinstance(c, nn.Conv2d)]
    layers = [("conv", 64, 3, 1, 1)]
    for conv in convs[1:]:
        layers.append(("conv", conv.out_channels, 3, 1, 1))
    profile = ch10.stack_profile(layers, 3, 224)
    assert profile["parameters"] == count_parameters(nn.Sequential(*convs))
    assert profile["field"] == 1 + 2 * len(convs)


def test_the_reference_design_meets_the_brief_and_the_mistakes_break_one_constraint_each():
    b = ch10.DESIGN_BRIEF
    assert ch10.brief_violations(ch10.design(b.in_channels, b.image_size, b.num_classes)) == {}
    broken = [set(ch10.brief_violations(m.fn(1, 28, 10))) for m in ch10.DESIGN.mistakes]
    assert [len(s) for s in broken] == [1] * len(broken)
    assert len({frozenset(s) for s in broken}) == len(broken)


def test_brief_violations_say_by_how_much():
    found = ch10.brief_violations(small_cnn(channels=(16, 32, 64)))
    assert set(found) == {"parameters", "macs", "field"}
    assert "23,946 parameters, 13,946 over the budget of 10,000" in found["parameters"]
    assert "22×22 pixels, 6 short" in found["field"]
    with pytest.raises(TypeError):
        ch10.brief_violations("a model")


# --------------------------------------------------------------------------- 10.1 mutants

def profile_no_bias(layers, in_channels, input_size):
    c, n, params, macs, field, jump = in_channels, input_size, 0, 0, 1, 1
    for layer in layers:
        if layer[0] == "conv":
            _, out, k, s, p = layer
            n = (n + 2 * p - k) // s + 1
            params += out * c * k * k
            macs += out * c * k * k * n * n
            c = out
        else:
            _, k, s = layer
            n = (n - k) // s + 1
        field += (k - 1) * jump
        jump *= s
    return {"parameters": params, "macs": macs, "field": field}


def profile_macs_before_resizing(layers, in_channels, input_size):
    c, n, params, macs, field, jump = in_channels, input_size, 0, 0, 1, 1
    for layer in layers:
        if layer[0] == "conv":
            _, out, k, s, p = layer
            params += out * c * k * k + out
            macs += out * c * k * k * n * n
            n = (n + 2 * p - k) // s + 1
            c = out
        else:
            _, k, s = layer
            n = (n - k) // s + 1
        field += (k - 1) * jump
        jump *= s
    return {"parameters": params, "macs": macs, "field": field}


def profile_fixed_channels(layers, in_channels, input_size):
    n, params, macs, field, jump = input_size, 0, 0, 1, 1
    for layer in layers:
        if layer[0] == "conv":
            _, out, k, s, p = layer
            n = (n + 2 * p - k) // s + 1
            params += out * in_channels * k * k + out
            macs += out * in_channels * k * k * n * n
        else:
            _, k, s = layer
            n = (n - k) // s + 1
        field += (k - 1) * jump
        jump *= s
    return {"parameters": params, "macs": macs, "field": field}


def profile_field_without_jump(layers, in_channels, input_size):
    c, n, params, macs = in_channels, input_size, 0, 0
    for layer in layers:
        if layer[0] == "conv":
            _, out, k, s, p = layer
            n = (n + 2 * p - k) // s + 1
            params += out * c * k * k + out
            macs += out * c * k * k * n * n
            c = out
        else:
            n = (n - layer[1]) // layer[2] + 1
    field = 1 + sum(layer[2 if layer[0] == "conv" else 1] - 1 for layer in layers)
    return {"parameters": params, "macs": macs, "field": field}


def profile_pools_not_in_field(layers, in_channels, input_size):
    c, n, params, macs, field, jump = in_channels, input_size, 0, 0, 1, 1
    for layer in layers:
        if layer[0] == "pool":
            n = (n - layer[1]) // layer[2] + 1
            continue
        _, out, k, s, p = layer
        n = (n + 2 * p - k) // s + 1
        params += out * c * k * k + out
        macs += out * c * k * k * n * n
        field += (k - 1) * jump
        jump *= s
        c = out
    return {"parameters": params, "macs": macs, "field": field}


def profile_as_tuple(layers, in_channels, input_size):
    profile = ch10.stack_profile(layers, in_channels, input_size)
    return profile["parameters"], profile["macs"], profile["field"]


def profile_float_sides(layers, in_channels, input_size):
    c, n, params, macs, field, jump = in_channels, input_size, 0, 0, 1, 1
    for layer in layers:
        if layer[0] == "conv":
            _, out, k, s, p = layer
            n = (n + 2 * p - k) / s + 1
            params += out * c * k * k + out
            macs += out * c * k * k * n * n
            c = out
        else:
            _, k, s = layer
            n = (n - k) / s + 1
        field += (k - 1) * jump
        jump *= s
    return {"parameters": params, "macs": macs, "field": field}


# --------------------------------------------------------------------------- 10.2 mutants

def design_vgg(in_channels, image_size, num_classes):
    return small_vgg(channels=(8, 16, 32), hidden=32, in_channels=in_channels,
                     input_size=image_size, num_classes=num_classes)


def design_vit(in_channels, image_size, num_classes):
    return tiny_vit(patch=7, dim=16, depth=2, heads=2, in_channels=in_channels,
                    image_size=image_size, num_classes=num_classes)


def design_shallow(in_channels, image_size, num_classes):
    return small_cnn(channels=(8, 16), in_channels=in_channels, input_size=image_size,
                     num_classes=num_classes)


def design_wide_first(in_channels, image_size, num_classes):
    return small_cnn(channels=(64, 8, 8, 8), in_channels=in_channels, num_classes=num_classes)


def design_big_last_stage(in_channels, image_size, num_classes):
    return small_cnn(channels=(4, 8, 16, 96), in_channels=in_channels, num_classes=num_classes)


def design_colour_resnet(in_channels, image_size, num_classes):
    return cifar_resnet(8, width=4, in_channels=3, num_classes=num_classes)


def design_dense(in_channels, image_size, num_classes):
    return nn.Sequential(nn.Flatten(), nn.Linear(in_channels * image_size ** 2, 10),
                         nn.ReLU(), nn.Linear(10, num_classes))


def design_forgot_to_build(in_channels, image_size, num_classes):
    return small_cnn


# --------------------------------------------------------------------------- 10.3 mutants

def per_parameter(model):
    return receptive_field(model).size / count_parameters(model)


def per_million_area(model):
    side = receptive_field(model).size
    return side * side / (count_parameters(model) / 1_000_000)


def per_million_jump(model):
    return receptive_field(model).stride / (count_parameters(model) / 1e6)


def per_million_trunk(model):
    return receptive_field(model.features).size / (count_parameters(model.features) / 1e6)


def millions_per_pixel(model):
    return count_parameters(model) / 1e6 / receptive_field(model).size


def per_million_as_tensor(model):
    n = sum(p.numel() for p in model.parameters())
    return torch.tensor(receptive_field(model).size / (n / 1e6))


MUTANTS = [
    ("10.1", profile_no_bias, "wrong", "miss the biases"),
    ("10.1", profile_macs_before_resizing, "wrong", "OUTPUT position"),
    ("10.1", profile_fixed_channels, "wrong", "keep the channel count"),
    ("10.1", profile_field_without_jump, "wrong", "ignores the strides"),
    ("10.1", profile_pools_not_in_field, "wrong", "missing from your field"),
    ("10.1", profile_as_tuple, "bad_type", "dict"),
    ("10.1", profile_float_sides, "bad_type", "int"),
    ("10.2", design_vgg, "wrong", "constraints are broken"),
    ("10.2", design_vit, "wrong", "Vision Transformer"),
    ("10.2", design_shallow, "wrong", "do not see the whole image"),
    ("10.2", design_wide_first, "wrong", "too many multiply-adds"),
    ("10.2", design_big_last_stage, "wrong", "too many parameters"),
    ("10.2", design_colour_resnet, "wrong", "pass in_channels"),
    ("10.2", design_dense, "wrong", "fully connected first layer"),
    ("10.2", design_forgot_to_build, "wrong", "expected a model"),
    ("10.3", per_parameter, "wrong", "not by millions"),
    ("10.3", per_million_area, "wrong", "area"),
    ("10.3", per_million_jump, "wrong", "`.stride` is the jump"),
    ("10.3", per_million_trunk, "wrong", "count the whole model"),
    ("10.3", millions_per_pixel, "wrong", "the other way round"),
    ("10.3", per_million_as_tensor, "bad_type", ".item()"),
]

# ----------------------------------------------------------------------- more mutants (issue 28)

def profile_forgot_plus_one(layers, in_channels, input_size):
    channels, side, parameters, macs, field, jump = in_channels, input_size, 0, 0, 1, 1
    for kind, *spec in layers:
        if kind == "conv":
            out_channels, k, s, p = spec
        else:
            (k, s), out_channels, p = spec, channels, 0
        side = (side + 2 * p - k) // s
        if kind == "conv":
            parameters += out_channels * (channels * k * k + 1)
            macs += out_channels * channels * k * k * side * side
        field += (k - 1) * jump
        jump *= s
        channels = out_channels
    return {"parameters": parameters, "macs": macs, "field": field}


def design_single_big_conv(in_channels, image_size, num_classes):
    return nn.Sequential(nn.Conv2d(in_channels, num_classes, image_size), nn.Flatten())


class _OwnAttention(nn.Module):
    """A CNN stem, then self-attention written by hand over the 6×6 tokens."""

    def __init__(self, in_channels, num_classes, dim=8):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, dim, 5, stride=2), nn.ReLU(),
                                  nn.MaxPool2d(2))
        self.qkv = nn.Linear(dim, 3 * dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x):
        tokens = self.stem(x).flatten(2).transpose(1, 2)            # (N, 36, dim)
        q, k, v = self.qkv(tokens).chunk(3, dim=-1)
        mixed = torch.softmax(q @ k.transpose(1, 2) / q.shape[-1] ** 0.5, dim=-1) @ v
        return self.head(mixed.mean(dim=1))


def design_own_attention(in_channels, image_size, num_classes):
    return _OwnAttention(in_channels, num_classes)


class _WithMHA(_OwnAttention):
    def __init__(self, in_channels, num_classes, dim=8):
        super().__init__(in_channels, num_classes, dim)
        self.mha = nn.MultiheadAttention(dim, 2, batch_first=True)

    def forward(self, x):
        tokens = self.stem(x).flatten(2).transpose(1, 2)
        return self.head(self.mha(tokens, tokens, tokens)[0].mean(dim=1))


def design_torch_attention(in_channels, image_size, num_classes):
    return _WithMHA(in_channels, num_classes)


def per_million_trainable_area(model):
    field = receptive_field(model)
    return field.size ** 2 / (count_parameters(model) / 1e6)


def per_million_rounded(model):
    return round(receptive_field(model).size / (count_parameters(model) / 1e6))


MUTANTS += [
    ("10.1", profile_forgot_plus_one, "wrong", "wrong result"),
    ("10.2", design_single_big_conv, "wrong", "locality built in"),
    ("10.2", design_own_attention, "wrong", "Vision Transformer"),
    ("10.2", design_torch_attention, "wrong", "Vision Transformer"),
    ("10.3", per_million_trainable_area, "wrong", "area"),
    ("10.3", per_million_rounded, "wrong", "wrong result"),
]


(test_mutant_is_rejected_with_the_right_diagnosis,
 test_each_exercise_has_at_least_five_diagnosed_mutants) = mutant_tests(CHECKERS, MUTANTS)
