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
from tests.exercises.harness import checkers_of, mutant_tests, named_mutants

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


def test_choose_scaling_agrees_with_the_course_tools():
    cases = ch10.SCALING.make_cases()
    for case in cases:
        candidates, max_parameters, max_macs = case.args
        measured = {}
        for name, (layers, channels, side) in candidates.items():
            model = as_module(layers, channels)
            measured[name] = {"parameters": count_parameters(model),
                              "macs": count_macs(model, (channels, side, side)),
                              "field": receptive_field(model).size}
            assert ch10._numbers(layers, channels, side) == measured[name]
        fits = {n: m for n, m in measured.items() if m["parameters"] <= max_parameters
                and m["macs"] <= max_macs and m["field"] >= candidates[n][2]}
        best = max(fits, key=lambda n: fits[n]["macs"])
        assert ch10.choose_scaling(*case.args) == {"choice": best, **fits[best]}
        assert len({m["macs"] for m in measured.values()}) == len(measured)
    chosen = {ch10.choose_scaling(*case.args)["choice"] for case in cases}
    assert {"base", "deeper", "wider", "sharper"} <= chosen
    with pytest.raises(ValueError, match="must be > 0"):
        ch10.scaling_candidates(ch10.BRIEF_BASE, 1, 28, width=0)


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

def _count_by_hand(layers, in_channels, input_size, *, bias=True, macs_at_input=False,
                   propagate=True, carry_side=True, jump_grows=True, pools_in_field=True,
                   divide=lambda a, b: a // b, plus_one=1):
    """A learner's count by hand, one pass (Exercise 10.1): (parameters, multiply-adds, field);
    each keyword is a slip the learner may make."""
    c, n, params, macs, field, jump = in_channels, input_size, 0, 0, 1, 1
    for layer in layers:
        if layer[0] == "conv":
            _, out, k, s, p = layer
            before = n
            n = divide((n if carry_side else input_size) + 2 * p - k, s) + plus_one
            weights = out * (c if propagate else in_channels) * k * k
            params += weights + (out if bias else 0)
            macs += weights * (before if macs_at_input else n) ** 2
            c = out
        else:
            _, k, s = layer
            n = divide(n - k, s) + plus_one
            if not pools_in_field:
                continue
        field += (k - 1) * (jump if jump_grows else 1)
        jump *= s
    return params, macs, field


def _profile_by_hand(**slips):
    def profile(layers, in_channels, input_size):
        params, macs, field = _count_by_hand(layers, in_channels, input_size, **slips)
        return {"parameters": params, "macs": macs, "field": field}
    return profile


MUTANTS = named_mutants("10.1", _profile_by_hand, [
    ("profile_no_bias", "miss the biases", {"bias": False}),
    ("profile_macs_before_resizing", "OUTPUT position", {"macs_at_input": True}),
    ("profile_fixed_channels", "keep the channel count", {"propagate": False}),
    ("profile_field_without_jump", "ignores the strides", {"jump_grows": False}),
    ("profile_pools_not_in_field", "missing from your field", {"pools_in_field": False}),
    ("profile_forgot_plus_one", "wrong result", {"plus_one": 0}),
])
MUTANTS += named_mutants("10.1", _profile_by_hand, [
    ("profile_float_sides", "int", {"divide": lambda a, b: a / b}),
], status="bad_type")


def profile_as_tuple(layers, in_channels, input_size):
    profile = ch10.stack_profile(layers, in_channels, input_size)
    return profile["parameters"], profile["macs"], profile["field"]


# --------------------------------------------------------------------------- 10.2 mutants

def design_vgg(in_channels, image_size, num_classes):
    return small_vgg(channels=(8, 16, 32), hidden=32, in_channels=in_channels,
                     input_size=image_size, num_classes=num_classes)


def design_vit(in_channels, image_size, num_classes):
    return tiny_vit(patch=4, dim=16, depth=2, heads=2, in_channels=in_channels,
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

def _pick(candidates, max_parameters, max_macs, measure=_count_by_hand, key=lambda n: n[1],
          fits=lambda n, side, mp, mm: n[0] <= mp and n[1] <= mm and n[2] >= side):
    best = None
    for name, (layers, c, side) in candidates.items():
        numbers = measure(layers, c, side)
        if fits(numbers, side, max_parameters, max_macs) and \
                (best is None or key(numbers) > key(best[1])):
            best = (name, numbers)
    name, (params, macs, field) = best
    return {"choice": name, "parameters": params, "macs": macs, "field": field}


def scaling_right(candidates, max_parameters, max_macs):
    return _pick(candidates, max_parameters, max_macs)


def _modules(layers, in_channels):
    modules, c = [], in_channels
    for kind, *spec in layers:
        if kind == "conv":
            modules += [nn.Conv2d(c, spec[0], *spec[1:], device="meta"), nn.ReLU()]
            c = spec[0]
        else:
            modules.append(nn.MaxPool2d(*spec))
    return nn.Sequential(*modules)


def scaling_with_flop_counter(candidates, max_parameters, max_macs):
    from torch.utils.flop_counter import FlopCounterMode

    def measure(layers, c, side):
        net = _modules(layers, c)
        with FlopCounterMode(display=False) as counter:
            net(torch.empty(1, c, side, side, device="meta"))
        return count_parameters(net), counter.get_total_flops(), receptive_field(net).size

    return _pick(candidates, max_parameters, max_macs, measure=measure)


def scaling_bias_as_macs(candidates, max_parameters, max_macs):
    def measure(layers, c, side):
        params, macs, field = _count_by_hand(layers, c, side)
        s = side
        for kind, *spec in layers:                     # one more "multiply-add" per output
            if kind == "conv":
                s = (s + 2 * spec[3] - spec[1]) // spec[2] + 1
                macs += spec[0] * s * s
            else:
                s = (s - spec[0]) // spec[1] + 1
        return params, macs, field

    return _pick(candidates, max_parameters, max_macs, measure=measure)


def scaling_side_not_carried(candidates, max_parameters, max_macs):
    fits = []
    for name, (layers, c, side) in candidates.items():
        p, m, f = _count_by_hand(layers, c, side, carry_side=False)
        if p <= max_parameters and m <= max_macs and f >= side:
            fits.append((m, name, p, f))
    m, name, p, f = max(fits)
    return {"choice": name, "parameters": p, "macs": m, "field": f}


def scaling_macs_at_input(candidates, max_parameters, max_macs):
    return _pick(candidates, max_parameters, max_macs,
                 measure=lambda *stack: _count_by_hand(*stack, macs_at_input=True))


def scaling_mac_budget_ignored(candidates, max_parameters, max_macs):
    return _pick(candidates, max_parameters, max_macs,
                 fits=lambda n, side, mp, mm: n[0] <= mp and n[2] >= side)


def scaling_parameter_budget_ignored(candidates, max_parameters, max_macs):
    return _pick(candidates, max_parameters, max_macs,
                 fits=lambda n, side, mp, mm: n[1] <= mm and n[2] >= side)


def scaling_field_ignored(candidates, max_parameters, max_macs):
    return _pick(candidates, max_parameters, max_macs,
                 fits=lambda n, side, mp, mm: n[0] <= mp and n[1] <= mm)


def scaling_cheapest(candidates, max_parameters, max_macs):
    return _pick(candidates, max_parameters, max_macs, key=lambda n: -n[1])


def scaling_most_parameters(candidates, max_parameters, max_macs):
    return _pick(candidates, max_parameters, max_macs, key=lambda n: n[0])


def scaling_strict_budgets(candidates, max_parameters, max_macs):
    return _pick(candidates, max_parameters, max_macs,
                 fits=lambda n, side, mp, mm: n[0] < mp and n[1] < mm and n[2] >= side)


def scaling_name_only(candidates, max_parameters, max_macs):
    return scaling_right(candidates, max_parameters, max_macs)["choice"]


def scaling_field_over_side(candidates, max_parameters, max_macs):
    return _pick(candidates, max_parameters, max_macs,
                 fits=lambda n, side, mp, mm: n[0] <= mp and n[1] <= mm and n[2] > side)


MUTANTS += [
    ("10.1", profile_as_tuple, "bad_type", "dict"),
    ("10.2", design_vgg, "wrong", "constraints are broken"),
    ("10.2", design_vit, "wrong", "Vision Transformer"),
    ("10.2", design_shallow, "wrong", "do not see the whole image"),
    ("10.2", design_wide_first, "wrong", "too many multiply-adds"),
    ("10.2", design_big_last_stage, "wrong", "too many parameters"),
    ("10.2", design_colour_resnet, "wrong", "pass in_channels"),
    ("10.2", design_dense, "wrong", "fully connected first layer"),
    ("10.2", design_forgot_to_build, "wrong", "expected a model"),
    ("10.3", scaling_with_flop_counter, "wrong", "you counted FLOPs, two per multiply-add"),
    ("10.3", scaling_bias_as_macs, "wrong", "you counted each bias as a multiply-add"),
    ("10.3", scaling_side_not_carried, "error", "no candidate fits by your counts"),
    ("10.3", scaling_macs_at_input, "wrong", "each convolution's INPUT size"),
    ("10.3", scaling_mac_budget_ignored, "wrong", "breaks the multiply-add budget"),
    ("10.3", scaling_parameter_budget_ignored, "wrong", "breaks the parameter budget"),
    ("10.3", scaling_field_ignored, "wrong", "does not see the whole image"),
    ("10.3", scaling_cheapest, "wrong", "you chose the cheapest candidate"),
    ("10.3", scaling_most_parameters, "wrong", "ranked the candidates by parameters"),
    ("10.3", scaling_strict_budgets, "wrong", "compare with <=, not <"),
    ("10.3", scaling_field_over_side, "wrong", "the condition is field >= input side"),
    ("10.3", scaling_name_only, "bad_type", "returned a str; expected a dict"),
]

# ----------------------------------------------------------------------- more mutants (issue 28)

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


def scaling_first_that_fits(candidates, max_parameters, max_macs):
    for name, (layers, c, side) in candidates.items():
        params, macs, field = _count_by_hand(layers, c, side)
        if params <= max_parameters and macs <= max_macs and field >= side:
            return {"choice": name, "parameters": params, "macs": macs, "field": field}


def scaling_float_macs(candidates, max_parameters, max_macs):
    found = scaling_right(candidates, max_parameters, max_macs)
    return {**found, "macs": found["macs"] / 1.0}


MUTANTS += [
    ("10.2", design_single_big_conv, "wrong", "locality built in"),
    ("10.2", design_own_attention, "wrong", "Vision Transformer"),
    ("10.2", design_torch_attention, "wrong", "Vision Transformer"),
    ("10.3", scaling_first_that_fits, "wrong", "wrong result"),
    ("10.3", scaling_float_macs, "bad_type", "expected an int"),
]


# --------------------------------------------------------------------------- review findings

class _BroadcastAttention(nn.Module):
    def __init__(self, c, k, d=16):
        super().__init__()
        self.trunk = nn.Sequential(nn.Conv2d(c, 4, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                                   nn.Conv2d(4, 8, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                                   nn.Conv2d(8, d, 5, padding=2), nn.ReLU())
        self.q, self.k, self.v = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        self.head = nn.Linear(d, k)

    def forward(self, x):
        t = self.trunk(x).flatten(2).transpose(1, 2)
        q, k, v = self.q(t), self.k(t), self.v(t)
        a = (q[:, :, None, :] * k[:, None, :, :]).sum(-1).softmax(-1)
        return self.head((a[..., None] * v[:, None]).sum(2).mean(1))


def design_broadcast_attention(in_channels, image_size, num_classes):
    return _BroadcastAttention(in_channels, num_classes)


def design_first_conv_half_the_image(in_channels, image_size, num_classes):
    return nn.Sequential(nn.Conv2d(in_channels, 4, image_size // 2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 8, 7, padding=3), nn.ReLU(),
                         nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(16, num_classes))


def design_ignores_its_arguments(in_channels, image_size, num_classes):
    return small_cnn(channels=(4, 8, 16), kernel_size=5)


def scaling_none_when_nothing_fits(candidates, max_parameters, max_macs):
    best = None
    for name, (layers, c, side) in candidates.items():
        params, macs, field = _count_by_hand(layers, c, side, carry_side=False)
        if params <= max_parameters and macs <= max_macs and field >= side and \
                (best is None or macs > best["macs"]):
            best = {"choice": name, "parameters": params, "macs": macs, "field": field}
    return best


def test_the_broadcast_attention_is_found():
    found = ch10.brief_violations(_BroadcastAttention(1, 10))
    assert list(found) == ["attention"] and "broadcasting" in found["attention"], found


def test_squeeze_and_excitation_is_not_attention():
    class SE(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = small_cnn(channels=(4, 8, 16), kernel_size=5)

        def forward(self, x):
            h = self.body.features(x)
            return self.body.classifier(h * h.mean((2, 3), keepdim=True).softmax(1))

    assert "attention" not in ch10.brief_violations(SE())


MUTANTS += [
    ("10.2", design_broadcast_attention, "wrong", "Vision Transformer"),
    ("10.2", design_first_conv_half_the_image, "wrong", "at most a quarter of the image's side"),
    ("10.2", design_ignores_its_arguments, "wrong", "pass in_channels"),
    ("10.3", scaling_none_when_nothing_fits, "bad_type", "no candidate fits by your counts"),
]


(test_mutant_is_rejected_with_the_right_diagnosis,
 test_each_exercise_has_at_least_five_diagnosed_mutants) = mutant_tests(CHECKERS, MUTANTS)
