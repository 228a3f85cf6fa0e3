"""Self-attention from scratch, proven equal to PyTorch in tests/test_attention.py.

``scaled_dot_product_attention`` is softmax(Q K^T / sqrt(d)) V; ``MultiHeadSelfAttention`` runs
it in parallel heads with the ViT layout (one ``qkv`` Linear(D, 3D) and one ``proj`` Linear(D, D)),
so a ViT built from it has torchvision's parameter count: 4 D^2 + 4 D per attention layer.
"""
from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["MultiHeadSelfAttention", "scaled_dot_product_attention"]


def scaled_dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                                 mask: torch.Tensor | None = None):
    """softmax(q k^T / sqrt(d) + mask) v for q (..., Tq, d), k (..., Tk, d), v (..., Tk, dv).

    Returns (output (..., Tq, dv), weights (..., Tq, Tk)); each row of weights sums to 1.
    ``mask`` follows ``F.scaled_dot_product_attention``: a bool mask keeps the True entries
    (False ones get weight 0), a float mask is added to the scores.
    """
    if q.dim() < 2 or k.dim() < 2 or v.dim() < 2:
        raise ValueError(f"q, k, v need shape (..., T, d), got {tuple(q.shape)}, "
                         f"{tuple(k.shape)}, {tuple(v.shape)}")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(f"q {tuple(q.shape)} and k {tuple(k.shape)} need the same last size, "
                         f"k and v {tuple(v.shape)} the same number of tokens")
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])   # (..., Tq, Tk)
    if mask is not None:
        if mask.dtype == torch.bool:
            scores = scores.masked_fill(~mask, -math.inf)
        else:
            scores = scores + mask
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights


class MultiHeadSelfAttention(nn.Module):
    """(N, T, D) -> (N, T, D): ``num_heads`` attention heads of size D / num_heads.

    qkv = x W_qkv^T + b splits into queries, keys and values of every head; each head attends
    with ``scaled_dot_product_attention``; the heads are concatenated and mixed by ``proj``.
    The last attention weights (N, heads, T, T) are kept, detached, in ``last_attention``.
    """

    def __init__(self, dim: int, num_heads: int, qkv_bias: bool = True):
        super().__init__()
        if not isinstance(dim, int) or not isinstance(num_heads, int) or dim < 1 or num_heads < 1:
            raise ValueError(f"dim and num_heads must be positive ints, got {dim!r}, "
                             f"{num_heads!r}")
        if dim % num_heads:
            raise ValueError(f"dim={dim} is not divisible by num_heads={num_heads}")
        self.dim, self.num_heads, self.head_dim = dim, num_heads, dim // num_heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)
        self.last_attention: torch.Tensor | None = None

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if x.dim() != 3 or x.shape[-1] != self.dim:
            raise ValueError(f"MultiHeadSelfAttention(dim={self.dim}) expects (N, T, {self.dim}),"
                             f" got {tuple(x.shape)}")
        n, t, d = x.shape
        qkv = self.qkv(x).reshape(n, t, 3, self.num_heads, self.head_dim)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)                    # each (N, heads, T, D/heads)
        out, weights = scaled_dot_product_attention(q, k, v, mask)
        self.last_attention = weights.detach()
        return self.proj(out.transpose(1, 2).reshape(n, t, d))

    def extra_repr(self) -> str:
        return f"dim={self.dim}, num_heads={self.num_heads}"
