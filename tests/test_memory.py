"""helpers.memory.largest_tensor_bytes: the largest tensor a computation creates, on cases
whose sizes are worked out by hand in the test."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from helpers.attention import MultiHeadSelfAttention
from helpers.memory import largest_tensor_bytes

pytestmark = pytest.mark.usefixtures("one_thread")


def test_sees_an_intermediate_the_function_does_not_return():
    # the outer product is 100 x 100 float32 values; the function returns one number
    assert largest_tensor_bytes(lambda x: (x[:, None] * x[None, :]).sum(), torch.ones(100)) \
        == 100 * 100 * 4


def test_counts_bytes_per_value_of_the_dtype():
    x = torch.ones(30, dtype=torch.float64)
    assert largest_tensor_bytes(lambda x: x[:, None] * x[None, :], x) == 30 * 30 * 8
    h = torch.ones(30, dtype=torch.float16)
    assert largest_tensor_bytes(lambda x: x[:, None] * x[None, :], h) == 30 * 30 * 2


def test_every_tensor_of_an_operator_with_several_results():
    # max over dim 0 returns values (float32) and indices (int64): the indices are larger
    x = torch.randn(10, 1000)
    assert largest_tensor_bytes(lambda x: x.max(dim=0), x) == 1000 * 8


def test_passes_arguments_and_keyword_arguments():
    x = torch.randn(4, 6)
    assert largest_tensor_bytes(torch.matmul, x, x.T) == 4 * 4 * 4
    assert largest_tensor_bytes(F.pad, x, pad=(1, 1), value=0.0) == 4 * 8 * 4


def test_nothing_computed_is_zero():
    assert largest_tensor_bytes(lambda: None) == 0


def test_does_not_change_the_result():
    x = torch.randn(2, 5, 8)
    layer = MultiHeadSelfAttention(8, 2)
    expected = layer(x)
    seen = []
    largest_tensor_bytes(lambda: seen.append(layer(x)))
    torch.testing.assert_close(seen[0], expected, rtol=0, atol=0)


@pytest.mark.parametrize("tokens", [32, 64])
def test_direct_attention_stores_heads_by_tokens_squared_scores(tokens):
    heads, width = 4, 16
    layer = MultiHeadSelfAttention(width, heads)
    x = torch.randn(1, tokens, width)
    with torch.no_grad():
        assert largest_tensor_bytes(layer, x) == heads * tokens * tokens * 4


def test_the_math_of_attention_materialises_the_scores():
    q, k, v = torch.randn(3, 1, 2, 50, 4).unbind(0)
    direct = largest_tensor_bytes(lambda: torch.softmax(q @ k.transpose(-2, -1), -1) @ v)
    assert direct == 2 * 50 * 50 * 4


def test_rejects_what_is_not_callable():
    with pytest.raises(TypeError, match="callable"):
        largest_tensor_bytes(3)
