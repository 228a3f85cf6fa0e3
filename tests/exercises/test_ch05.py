"""Chapter 5 exercises: references pass (and agree with helpers.receptive_field and with
measured gradients); typical learner mistakes get the right diagnosis.

The mutants are written the way a learner would write them, not as copies of the Mistake
functions in helpers/exercises/ch05.py, so each diagnosis is proven by behaviour.
"""
from __future__ import annotations

import torch
from torch import nn

from helpers.exercises import (
    ch05,
    check_field_box,
    run_check,
)
from helpers.experiments.effective_field import stride_on_first_conv
from helpers.models import resnet50
from helpers.receptive_field import measured_receptive_field, receptive_field
from tests.exercises.harness import checkers_of, hands_back_reference, mutant_tests

CHECKERS = checkers_of(chapter=5)


def _net(layers):
    return nn.Sequential(*[nn.Conv2d(1, 1, k, stride=s, padding=p) for k, s, p in layers])


def test_references_agree_with_the_course_module_and_with_gradients():
    for case in ch05.RECEPTIVE_FIELD.make_cases():
        (layers,) = case.args
        if layers:
            assert ch05.receptive_field_size(layers) == receptive_field(
                _net([(k, s, 0) for k, s in layers])).size
    for case in ch05.FIELD_BOX.make_cases():
        layers, i = case.args
        rf = receptive_field(_net(layers))
        first, last = ch05.field_box(layers, i)
        top, left, bottom, right = rf.box(i, i)
        assert (first, last) == (left, right - 1)
    layers = [(3, 2, 1), (3, 2, 1), (3, 1, 1)]
    first, last = ch05.field_box(layers, 2)
    measured = measured_receptive_field(_net(layers), (1, 40, 40), unit=(2, 2))
    assert (measured.left, measured.left + measured.width - 1) == (first, last)


def test_resnet_layer_lists_give_the_zoo_models_fields():
    with torch.device("meta"):
        model = resnet50()
    v15 = receptive_field(model.features).size
    v1 = receptive_field(stride_on_first_conv(model).features).size
    assert (v1, v15) == (483, 427)
    for version, expected in (("v1", v1), ("v1.5", v15)):
        layers = ch05.resnet_layers((3, 4, 6, 3), version)
        assert ch05.receptive_field_size(layers) == expected
        assert receptive_field(_net([(k, s, 0) for k, s in layers])).size == expected


# --------------------------------------------------------------------------- 5.1 mutants

def no_strides(layers):
    r = 1
    for k, _s in layers:
        r += k - 1
    return r


def jump_first(layers):
    r, j = 1, 1
    for k, s in layers:
        j = j * s
        r = r + (k - 1) * j
    return r


def backward_formula_forwards(layers):
    r = 1
    for k, s in layers:
        r = r * s + k - s
    return r


def plus_k(layers):
    r, j = 1, 1
    for k, s in layers:
        r += k * j
        j *= s
    return r


def starts_at_zero(layers):
    r, j = 0, 1
    for k, s in layers:
        r += (k - 1) * j
        j *= s
    return r


def returns_the_jump_too(layers):
    r, j = 1, 1
    for k, s in layers:
        r += (k - 1) * j
        j *= s
    return r, j


# --------------------------------------------------------------------------- 5.2 mutants

def block_v1(s):
    return [(1, s), (3, 1), (1, 1)]


def block_v15(s):
    return [(1, 1), (3, s), (1, 1)]


def versions_mixed_up(blocks_per_stage, version):
    layers = [(7, 2), (3, 2)]
    for i, n in enumerate(blocks_per_stage):
        for b in range(n):
            s = 2 if i > 0 and b == 0 else 1
            layers += block_v15(s) if version == "v1" else block_v1(s)
    return layers


def every_block_downsamples(blocks_per_stage, version):
    layers = [(7, 2), (3, 2)]
    for i, n in enumerate(blocks_per_stage):
        s = 1 if i == 0 else 2
        for _ in range(n):
            layers += block_v1(s) if version == "v1" else block_v15(s)
    return layers


def first_stage_downsamples_too(blocks_per_stage, version):
    layers = [(7, 2), (3, 2)]
    for n in blocks_per_stage:
        for b in range(n):
            s = 2 if b == 0 else 1
            layers += block_v1(s) if version == "v1" else block_v15(s)
    return layers


def shortcut_in_the_chain(blocks_per_stage, version):
    layers = [(7, 2), (3, 2)]
    for i, n in enumerate(blocks_per_stage):
        for b in range(n):
            s = 2 if i > 0 and b == 0 else 1
            layers += block_v1(s) if version == "v1" else block_v15(s)
            if s == 2:
                layers.append((1, 2))          # the projection shortcut
    return layers


def forgot_the_pool(blocks_per_stage, version):
    layers = [(7, 2)]
    for i, n in enumerate(blocks_per_stage):
        for b in range(n):
            s = 2 if i > 0 and b == 0 else 1
            layers += block_v1(s) if version == "v1" else block_v15(s)
    return layers


def returns_the_field_size(blocks_per_stage, version):
    return 483 if version == "v1" else 427


# --------------------------------------------------------------------------- 5.3 mutants

def ignores_padding(layers, i):
    r, j = 1, 1
    for k, s, _p in layers:
        r += (k - 1) * j
        j *= s
    return i * j, i * j + r - 1


def raw_padding(layers, i):
    r, j, pad = 1, 1, 0
    for k, s, p in layers:
        r += (k - 1) * j
        pad += p
        j *= s
    return i * j - pad, i * j - pad + r - 1


def padding_after_stride(layers, i):
    r, j, pad = 1, 1, 0
    for k, s, p in layers:
        r += (k - 1) * j
        j *= s
        pad += p * j
    return i * j - pad, i * j - pad + r - 1


def no_jump_for_i(layers, i):
    r, j, pad = 1, 1, 0
    for k, s, p in layers:
        r += (k - 1) * j
        pad += p * j
        j *= s
    return i - pad, i - pad + r - 1


def exclusive_end(layers, i):
    r, j, pad = 1, 1, 0
    for k, s, p in layers:
        r += (k - 1) * j
        pad += p * j
        j *= s
    return i * j - pad, i * j - pad + r


MUTANTS = [
    ("5.1", no_strides, "wrong", "you ignored the strides"),
    ("5.1", jump_first, "wrong", "updated the jump before growing the field"),
    ("5.1", backward_formula_forwards, "wrong", "top-down formula"),
    ("5.1", plus_k, "wrong", "adds k − 1 pixels"),
    ("5.1", starts_at_zero, "wrong", "start from r = 1"),
    ("5.1", returns_the_jump_too, "bad_type", "expected an int"),
    ("5.2", versions_mixed_up, "wrong", "v1 and v1.5 are swapped"),
    ("5.2", every_block_downsamples, "wrong", "only the FIRST block of a stage"),
    ("5.2", first_stage_downsamples_too, "wrong", "the first stage keeps the resolution"),
    ("5.2", shortcut_in_the_chain, "wrong", "the shortcut is not a layer of the chain"),
    ("5.2", forgot_the_pool, "wrong", "the stem has two layers"),
    ("5.2", returns_the_field_size, "bad_type", "expected a list"),
    ("5.3", ignores_padding, "wrong", "you ignored the padding"),
    ("5.3", raw_padding, "wrong", "added the paddings as they are"),
    ("5.3", padding_after_stride, "wrong", "jump AFTER its layer"),
    ("5.3", no_jump_for_i, "wrong", "multiply i by the jump"),
    ("5.3", exclusive_end, "wrong", "`last` is inclusive"),
]


# ----------------------------------------------------------------------- more mutants (issue 28)

def jump_is_the_stride(layers):
    size, jump = 1, 1
    for kernel_size, stride in layers:
        size += (kernel_size - 1) * jump
        jump = stride
    return size


def strides_summed(layers):
    size, jump = 1, 1
    for kernel_size, stride in layers:
        size += (kernel_size - 1) * jump
        jump += stride - 1
    return size


def stride_on_every_block_3x3(blocks_per_stage, version):
    layers = [(7, 2), (3, 2)]
    for stage, blocks in enumerate(blocks_per_stage):
        for block in range(blocks):
            s = 2 if stage > 0 and block == 0 else 1
            layers += [(1, 1), (3, s), (1, 1)]          # the version is ignored
    return layers


def tuple_of_lists(blocks_per_stage, version):
    layers = [[7, 2], [3, 2]]
    for stage, blocks in enumerate(blocks_per_stage):
        for block in range(blocks):
            s = 2 if stage > 0 and block == 0 else 1
            layers += [[1, s], [3, 1], [1, 1]] if version == "v1" else [[1, 1], [3, s], [1, 1]]
    return layers


def box_of_the_centre(layers, i):
    size, jump, offset = 1, 1, 0
    for kernel_size, stride, padding in layers:
        size += (kernel_size - 1) * jump
        offset += padding * jump
        jump *= stride
    centre = i * jump - offset + (size - 1) // 2
    return centre - size // 2, centre + size // 2


def box_as_list(layers, i):
    size, jump, offset = 1, 1, 0
    for kernel_size, stride, padding in layers:
        size += (kernel_size - 1) * jump
        offset += padding * jump
        jump *= stride
    return [i * jump - offset, i * jump - offset + size - 1]


def box_padding_once_per_side_jumpless(layers, i):
    size, jump, offset = 1, 1, 0
    for kernel_size, stride, padding in layers:
        size += (kernel_size - 1) * jump
        offset += 2 * padding * jump
        jump *= stride
    return i * jump - offset, i * jump - offset + size - 1


def version_tested_with_in(blocks_per_stage, version):
    layers = [(7, 2), (3, 2)]
    for stage, blocks in enumerate(blocks_per_stage):
        for block in range(blocks):
            s = 2 if stage > 0 and block == 0 else 1
            layers += [(1, s), (3, 1), (1, 1)] if "v1" in version else [(1, 1), (3, s), (1, 1)]
    return layers


def slim_layout_for_v1(blocks_per_stage, version):
    layers = [(7, 2), (3, 2)]
    for stage, blocks in enumerate(blocks_per_stage):
        for block in range(blocks):
            if version == "v1":                          # TF-Slim: stride at the end of a stage
                s = 2 if stage < len(blocks_per_stage) - 1 and block == blocks - 1 else 1
            else:
                s = 2 if stage > 0 and block == 0 else 1
            layers += [(1, 1), (3, s), (1, 1)]
    return layers


MUTANTS += [
    ("5.2", version_tested_with_in, "wrong", "both versions give the v1 layout"),
    ("5.2", slim_layout_for_v1, "wrong", "TensorFlow-Slim's layout"),
    ("5.1", jump_is_the_stride, "wrong", "set the jump to the layer's own stride"),
    ("5.1", strides_summed, "wrong", "wrong result"),
    ("5.2", stride_on_every_block_3x3, "wrong", "v1 and v1.5 are swapped"),
    ("5.2", tuple_of_lists, "bad_type", "expected a tuple"),
    ("5.3", box_of_the_centre, "wrong", "wrong result"),
    ("5.3", box_as_list, "bad_type", "expected a tuple"),
    ("5.3", box_padding_once_per_side_jumpless, "wrong", "wrong result"),
]


(test_mutant_is_rejected_with_the_right_diagnosis,
 test_each_exercise_has_at_least_five_diagnosed_mutants) = mutant_tests(CHECKERS, MUTANTS)


def test_broken_learner_code_is_handled(capsys):
    def stub(layers, i):
        raise NotImplementedError("Exercise 5.3: Where a unit looks")

    assert hands_back_reference(check_field_box(stub), check_field_box.exercise)
    assert capsys.readouterr().out.startswith("⏳ Exercise 5.3 is not implemented yet")
    verdict = run_check(ch05.RECEPTIVE_FIELD, lambda layers: layers[0][0])
    assert verdict.status == "error" and "IndexError" in verdict.message
    verdict = run_check(ch05.FIELD_BOX, lambda layers, i: None)
    assert verdict.status == "bad_type" and "forget `return`" in verdict.message


