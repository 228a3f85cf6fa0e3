"""helpers.summary: parameter counts, the layer table, multiply-adds and the conv/linear split,
on cases whose numbers are computed by hand in the test."""
from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import helpers.layers as scratch
from helpers.layers import conv_output_size
from helpers.models import get_model, lenet5, small_cnn, tiny_vit
from helpers.summary import (
    count_macs,
    count_parameters,
    parameter_breakdown,
    summary,
)

pytestmark = pytest.mark.usefixtures("one_thread")



def test_count_parameters_trainable_only():
    model = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))   # 15 + 8
    model[0].requires_grad_(False)
    assert count_parameters(model) == 8
    assert count_parameters(model, trainable_only=False) == 23


@settings(max_examples=20, deadline=None)
@given(c=st.integers(1, 4), k=st.integers(1, 5), ks=st.integers(1, 4), s=st.integers(1, 3),
       p=st.integers(0, 2), h=st.integers(6, 12), scratch_conv=st.booleans())
def test_macs_of_a_single_conv_are_k_c_ksq_h_w(c, k, ks, s, p, h, scratch_conv):
    conv = (scratch.Conv2d if scratch_conv else nn.Conv2d)(c, k, ks, stride=s, padding=p)
    side = conv_output_size(h, ks, s, p)
    assert count_macs(conv, (c, h, h)) == k * c * ks * ks * side * side


def test_macs_of_grouped_conv_linear_and_batches():
    grouped = nn.Conv2d(4, 6, 3, groups=2)                  # each filter sees 4 / 2 channels
    assert count_macs(grouped, (4, 5, 5)) == 6 * 2 * 9 * 3 * 3
    fc = nn.Sequential(nn.Flatten(), nn.Linear(12, 5))
    assert count_macs(fc, (3, 2, 2)) == 60
    assert count_macs(fc, (7, 3, 2, 2)) == 60               # per example, whatever the batch


def test_macs_of_lenet5_by_hand():
    conv1 = 6 * 1 * 25 * 28 * 28
    conv2 = 16 * 6 * 25 * 10 * 10
    fcs = 400 * 120 + 120 * 84 + 84 * 10
    assert count_macs(lenet5(), (1, 32, 32)) == conv1 + conv2 + fcs == 416_520
    per_layer = count_macs(lenet5(), (1, 32, 32), by_layer=True)
    assert per_layer["features.0"] == conv1 and per_layer["classifier.5"] == 840


def test_macs_of_attention_count_both_matrix_products():
    # tiny ViT, patch 7: T = 17 tokens of D = 64; per block 4 T D^2 (projections) +
    # 2 T^2 D (Q K^T and A V) + 2 T D (4 D) (MLP); plus the patch conv and the head
    t, d, blocks = 17, 64, 4
    per_block = 4 * t * d * d + 2 * t * t * d + 2 * t * d * 4 * d
    expected = blocks * per_block + 64 * 49 * 16 + 64 * 10
    assert count_macs(tiny_vit(), (1, 28, 28)) == expected
    assert count_macs(tiny_vit(attention="torch"), (1, 28, 28)) == expected


@pytest.mark.parametrize("name, macs", [
    ("alexnet", 714_188_480),      # torchvision: 0.71 GFLOPS (multiply-adds)
    ("resnet18", 1_814_073_344),   # 1.81
    ("vgg16", 15_470_264_320),     # 15.47
    ("vit_b_16", 17_563_828_224),  # 17.56
])
def test_macs_of_full_size_models_match_torchvision(name, macs, on_meta):
    assert count_macs(on_meta(name), (3, 224, 224)) == macs


def test_parameter_breakdown_of_alexnet_and_vgg16(on_meta):
    fc = 4096 * 4096 + 4096 + 4096 * 1000 + 1000            # the last two FC layers
    alex = parameter_breakdown(on_meta("alexnet"))
    assert alex == {"conv": 61_100_840 - 9216 * 4096 - 4096 - fc,
                    "linear": 9216 * 4096 + 4096 + fc, "other": 0}
    vgg = parameter_breakdown(on_meta("vgg16"))
    assert vgg["linear"] == 25088 * 4096 + 4096 + fc == 123_642_856
    assert vgg["conv"] == 138_357_544 - vgg["linear"]
    resnet = parameter_breakdown(on_meta("resnet18"))
    assert resnet["linear"] == 513_000 and sum(resnet.values()) == 11_689_512
    vit = parameter_breakdown(tiny_vit(attention="torch"))
    assert vit == parameter_breakdown(tiny_vit())
    assert vit["conv"] == 64 * 49 + 64


def test_summary_of_lenet5():
    table = summary(lenet5(), (1, 32, 32))
    assert [r.name for r in table][:3] == ["features.0", "features.1", "features.2"]
    assert [r.output_shape for r in table if r.type == "Conv2d"] == [(1, 6, 28, 28),
                                                                    (1, 16, 10, 10)]
    assert sum(r.params for r in table) == table.total_params == 61_706
    # receptive fields: 5, then pool 2 -> 6, then 5x5 at jump 2 -> 14, pool -> 16
    assert [r.receptive_field for r in table if r.receptive_field] == [5, 6, 14, 16]
    text, md = str(table), table.to_markdown()
    assert "61,706" in text and "receptive field" in text
    assert md.splitlines()[0].startswith("| layer | type") and md.count("\n|") == 13


def test_summary_handles_blocks_shared_modules_and_attention():
    resnet = get_model("cifar_resnet", depth=8)
    table = summary(resnet, (1, 28, 28))
    assert sum(r.params for r in table) == table.total_params == count_parameters(resnet)
    fields = [r.receptive_field for r in table if r.receptive_field]
    assert fields == [3, 7, 13, 25]             # conv, then one block per stage
    vit = tiny_vit(attention="torch")           # nn.MultiheadAttention owns its weights
    rows = summary(vit, (1, 28, 28))
    assert sum(r.params for r in rows) == count_parameters(vit)
    assert any(r.type == "MultiheadAttention" for r in rows)


def test_summary_leaves_the_model_as_it_was():
    model = small_cnn(batch_norm=True)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    summary(model, (2, 1, 28, 28))
    count_macs(model, (1, 28, 28))
    assert model.training
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, before[k], rtol=0, atol=0)


def test_bad_input_size():
    with pytest.raises(ValueError, match="input_size"):
        summary(lenet5(), (32, 32))
    with pytest.raises(ValueError, match="input_size"):
        count_macs(lenet5(), (1, 0, 32, 32))
