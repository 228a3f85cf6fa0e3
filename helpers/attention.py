"""Self-attention from scratch, proven equal to PyTorch in tests/test_attention.py.

``scaled_dot_product_attention`` is softmax(Q K^T / sqrt(d)) V; ``MultiHeadSelfAttention`` runs
it in parallel heads with the ViT layout (one ``qkv`` Linear(D, 3D) and one ``proj`` Linear(D, D)),
so a ViT built from it has torchvision's parameter count: 4 D^2 + 4 D per attention layer.
"""
from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["MultiHeadSelfAttention", "attention_distance", "neighbour_similarity",
           "position_similarity", "scaled_dot_product_attention"]


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


def _grid_positions(tokens: int, patch: int) -> torch.Tensor:
    side = math.isqrt(tokens)
    if side * side != tokens:
        raise ValueError(f"{tokens} patch tokens do not form a square grid")
    rows, cols = torch.meshgrid(torch.arange(side), torch.arange(side), indexing="ij")
    return torch.stack([rows.flatten(), cols.flatten()], 1).float() * patch   # (T, 2) pixels


def position_similarity(embedding: torch.Tensor) -> torch.Tensor:
    """Cosine similarity between the position embeddings of the patches: ``embedding`` is
    (T, D) or (1, 1 + T, D) with the class token first (then dropped); returns (T, T), entry
    (i, j) = cos(p_i, p_j) (the ViT paper's Fig. 7, centre)."""
    e = embedding.detach().float()
    if e.dim() == 3:
        if e.shape[0] != 1:
            raise ValueError(f"expected (1, 1 + T, D), got {tuple(e.shape)}")
        e = e[0, 1:]
    if e.dim() != 2 or e.shape[0] < 2:
        raise ValueError(f"expected (T, D) with T >= 2, got {tuple(embedding.shape)}")
    e = torch.nn.functional.normalize(e, dim=1)
    return e @ e.T


def neighbour_similarity(similarity: torch.Tensor) -> tuple[float, float]:
    """For a (T, T) similarity of patches on a square grid (reading order): the mean over
    pairs of 4-neighbours (grid distance 1) and over pairs at least 2 steps apart (rows plus
    columns), the diagonal excluded: ``(neighbours, far)``."""
    t = similarity.shape[0]
    if similarity.shape != (t, t):
        raise ValueError(f"expected a square (T, T) matrix, got {tuple(similarity.shape)}")
    grid = _grid_positions(t, 1)
    steps = torch.cdist(grid, grid, p=1)
    return (float(similarity[steps == 1].mean()), float(similarity[steps >= 2].mean()))


def attention_distance(weights: torch.Tensor, patch: int) -> torch.Tensor:
    """Mean attention distance per head, in pixels (the ViT paper's Fig. 7, right).

    ``weights`` (N, heads, 1 + T, 1 + T) are one block's attention weights with the class token
    first and T patches on a square grid of ``patch``-pixel patches. For every patch query the
    weights on the patch keys are renormalised to sum to 1 (the class token has no place in the
    image) and the distance between patch centres is averaged with them; the result is the mean
    over queries and images: shape (heads,). Uniform attention over a 4 x 4 grid of 7-pixel
    patches gives about 14.1 pixels; attending only to itself gives 0."""
    if weights.dim() != 4 or weights.shape[-1] != weights.shape[-2]:
        raise ValueError(f"expected (N, heads, 1 + T, 1 + T), got {tuple(weights.shape)}")
    if patch < 1:
        raise ValueError(f"patch must be >= 1, got {patch}")
    w = weights.detach().float()[:, :, 1:, 1:]                  # patch queries -> patch keys
    w = w / w.sum(-1, keepdim=True).clamp_min(1e-12)
    grid = _grid_positions(w.shape[-1], patch)
    distance = torch.cdist(grid, grid)                          # (T, T), Euclidean pixels
    return (w * distance).sum(-1).mean(dim=(0, 2))
