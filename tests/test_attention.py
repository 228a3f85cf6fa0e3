"""helpers.attention against PyTorch's attention, forward and backward.

Tolerances: float64, atol=1e-10 (products of a few dozen terms and a softmax).
"""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from helpers.attention import MultiHeadSelfAttention, scaled_dot_product_attention

F64 = {"atol": 1e-10, "rtol": 0.0}


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 7), st.integers(1, 7),
       st.integers(1, 8), st.integers(1, 5), st.sampled_from([None, "bool", "float"]),
       st.integers(0, 2**16))
def test_sdpa_matches_torch(n, heads, tq, tk, d, dv, mask_kind, seed):
    gen = torch.Generator().manual_seed(seed)
    q, k = (torch.randn(n, heads, t, d, generator=gen, dtype=torch.float64) for t in (tq, tk))
    v = torch.randn(n, heads, tk, dv, generator=gen, dtype=torch.float64)
    mask = None
    if mask_kind == "bool":
        mask = torch.rand(tq, tk, generator=gen) > 0.3
        mask[:, 0] = True                       # every query keeps at least one key
    elif mask_kind == "float":
        mask = torch.randn(tq, tk, generator=gen, dtype=torch.float64)
    leaves = [t.requires_grad_() for t in (q, k, v)]
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    torch.testing.assert_close(out, expected, **F64)
    torch.testing.assert_close(weights.sum(-1), torch.ones(n, heads, tq, dtype=torch.float64))
    grad = torch.randn_like(out)
    for a, e in zip(torch.autograd.grad(out, leaves, grad),
                    torch.autograd.grad(expected, leaves, grad)):
        torch.testing.assert_close(a, e, **F64)


def test_sdpa_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="same last size"):
        scaled_dot_product_attention(torch.zeros(2, 3, 4), torch.zeros(2, 3, 5),
                                     torch.zeros(2, 3, 5))
    with pytest.raises(ValueError, match="shape"):
        scaled_dot_product_attention(torch.zeros(3), torch.zeros(3), torch.zeros(3))


def _pair(dim=12, heads=3, qkv_bias=True):
    torch.manual_seed(0)
    ours = MultiHeadSelfAttention(dim, heads, qkv_bias=qkv_bias).double()
    ref = nn.MultiheadAttention(dim, heads, bias=True, batch_first=True).double()
    with torch.no_grad():
        ref.in_proj_weight.copy_(ours.qkv.weight)
        ref.in_proj_bias.copy_(ours.qkv.bias if qkv_bias else torch.zeros(3 * dim))
        ref.out_proj.weight.copy_(ours.proj.weight)
        ref.out_proj.bias.copy_(ours.proj.bias)
    return ours, ref


@pytest.mark.parametrize("qkv_bias", [True, False])
def test_mhsa_equals_torch_multihead_attention(qkv_bias):
    ours, ref = _pair(qkv_bias=qkv_bias)
    x = torch.randn(2, 5, 12, dtype=torch.float64, requires_grad=True)
    out = ours(x)
    expected, weights = ref(x, x, x, need_weights=True, average_attn_weights=False)
    torch.testing.assert_close(out, expected, **F64)
    torch.testing.assert_close(ours.last_attention, weights, **F64)
    assert ours.last_attention.shape == (2, 3, 5, 5) and not ours.last_attention.requires_grad
    grad = torch.randn_like(out)
    ours_grads = torch.autograd.grad(out, [x, ours.qkv.weight, ours.proj.weight], grad)
    ref_grads = torch.autograd.grad(expected, [x, ref.in_proj_weight, ref.out_proj.weight], grad)
    for a, e in zip(ours_grads, ref_grads):
        torch.testing.assert_close(a, e, **F64)


def test_mhsa_equals_functional_sdpa_on_the_same_weights():
    ours, _ = _pair()
    x = torch.randn(3, 4, 12, dtype=torch.float64)
    q, k, v = ours.qkv(x).reshape(3, 4, 3, 3, 4).permute(2, 0, 3, 1, 4)
    heads = F.scaled_dot_product_attention(q, k, v)
    expected = ours.proj(heads.transpose(1, 2).reshape(3, 4, 12))
    torch.testing.assert_close(ours(x), expected, **F64)


def test_mhsa_parameter_count_matches_vit_b16_attention():
    """A ViT-B/16 attention layer (D = 768, 12 heads) has 4 D^2 + 4 D parameters."""
    attention = MultiHeadSelfAttention(768, 12)
    assert sum(p.numel() for p in attention.parameters()) == 4 * 768**2 + 4 * 768 == 2_362_368


def test_mhsa_rejects_bad_arguments():
    with pytest.raises(ValueError, match="divisible"):
        MultiHeadSelfAttention(10, 3)
    with pytest.raises(ValueError, match="positive"):
        MultiHeadSelfAttention(0, 1)
    with pytest.raises(ValueError, match="expects"):
        MultiHeadSelfAttention(12, 3)(torch.zeros(2, 5, 8))


def test_position_similarity_is_the_cosine_of_the_patch_embeddings():
    from helpers.attention import position_similarity
    e = torch.randn(1, 17, 8, dtype=torch.float64)
    sim = position_similarity(e)
    assert sim.shape == (16, 16)
    expected = F.cosine_similarity(e[0, 1:, None], e[0, None, 1:], dim=-1).float()
    torch.testing.assert_close(sim, expected, atol=1e-6, rtol=0)
    torch.testing.assert_close(position_similarity(e[0, 1:]), sim)        # (T, D) as well
    for bad in (torch.randn(2, 17, 8), torch.randn(1, 8)):
        with pytest.raises(ValueError):
            position_similarity(bad)


def test_neighbour_similarity_separates_near_and_far_pairs():
    from helpers.attention import neighbour_similarity
    rows, cols = torch.meshgrid(torch.arange(3), torch.arange(3), indexing="ij")
    grid = torch.stack([rows.flatten(), cols.flatten()], 1).float()
    steps = torch.cdist(grid, grid, p=1)
    near, far = neighbour_similarity(-steps)                 # similarity = minus the distance
    assert near == pytest.approx(-1.0)
    assert far == pytest.approx(float(steps[steps >= 2].mean().neg()))
    with pytest.raises(ValueError):
        neighbour_similarity(torch.zeros(3, 4))
    with pytest.raises(ValueError, match="square grid"):
        neighbour_similarity(torch.zeros(5, 5))


def test_attention_distance_of_known_patterns():
    from helpers.attention import attention_distance
    t = 16
    self_only = torch.zeros(2, 3, t + 1, t + 1)
    self_only[:, :, torch.arange(t + 1), torch.arange(t + 1)] = 1.0
    assert torch.equal(attention_distance(self_only, 7), torch.zeros(3))
    uniform = torch.full((1, 2, t + 1, t + 1), 1 / (t + 1))
    rows, cols = torch.meshgrid(torch.arange(4), torch.arange(4), indexing="ij")
    centres = 7.0 * torch.stack([rows.flatten(), cols.flatten()], 1)
    expected = torch.cdist(centres, centres).mean()         # the class token's share dropped
    torch.testing.assert_close(attention_distance(uniform, 7), expected.repeat(2))
    right = torch.zeros(1, 1, t + 1, t + 1)                 # each patch reads its right neighbour
    for i in range(t):
        right[0, 0, 1 + i, 1 + (i + 1 if i % 4 < 3 else i)] = 1.0
    assert attention_distance(right, 5).item() == pytest.approx(5 * 12 / 16)
    with pytest.raises(ValueError):
        attention_distance(torch.zeros(2, 17, 17), 7)
    with pytest.raises(ValueError):
        attention_distance(uniform, 0)
