"""Vision Transformer (Dosovitskiy et al., 2020), with torchvision's ViT-B/16 parameter count.

Read top-down (224x224 input, patch 16, width D = 768)::

    PatchEmbedding   conv D @ 16x16 /16 -> 14x14 = 196 tokens of size D      590,592 parameters
    ClassToken       prepend one learned token -> 197 tokens                      768
    PositionEmbedding add a learned (197, D) table                            151,296
    12 x EncoderBlock (pre-norm):
        x = x + attention(LayerNorm(x))      12 heads, qkv Linear(D, 3D), proj Linear(D, D)
        x = x + MLP(LayerNorm(x))            Linear(D, 3072), GELU, Linear(3072, D)
                                                                 7,087,872 each
    LayerNorm                                                               1,536
    MLPHead          the class token -> Linear(D, 1000)                   769,000
                                                          total        86,567,656

``features`` maps (N, C, H, W) to the normalised tokens (N, 1 + T, D); ``classifier`` is the
head that reads token 0. Variant choices (as torchvision): LayerNorm eps 1e-6, no hidden
"pre-logits" layer in the head, dropout 0 by default. ``attention=`` picks the self-attention
module: the course's from-scratch ``helpers.attention.MultiHeadSelfAttention`` (default),
``"torch"`` for :class:`TorchSelfAttention` (``torch.nn.MultiheadAttention``), or any
``callable(dim, num_heads) -> module`` mapping (N, T, D) to (N, T, D). Both built-in choices have
the same parameters: 4 D^2 + 4 D per block.

:func:`tiny_vit` is the small variant for 28x28 images on a CPU: width 64 on 7x7 (or 4x4)
patches.
"""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from helpers.models.base import FeaturesClassifier, resolve_layers


class PatchEmbedding(nn.Module):
    """(N, C, H, W) -> (N, T, D), T = (H / p) (W / p): one conv with kernel = stride = p."""

    def __init__(self, *, in_channels: int, dim: int, patch_size: int, layers=None):
        super().__init__()
        L = resolve_layers(layers)
        self.patch_size = patch_size
        self.proj = L.Conv2d(in_channels, dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x):
        p = self.patch_size
        if x.dim() != 4 or x.shape[-2] % p or x.shape[-1] % p:
            raise ValueError(f"PatchEmbedding needs (N, C, H, W) with H and W multiples of the "
                             f"patch size {p}, got {tuple(x.shape)}")
        return self.proj(x).flatten(2).transpose(1, 2)


class ClassToken(nn.Module):
    """(N, T, D) -> (N, 1 + T, D): prepend one learned token (its final state is classified)."""

    def __init__(self, *, dim: int):
        super().__init__()
        self.token = nn.Parameter(torch.zeros(1, 1, dim))

    def forward(self, x):
        return torch.cat([self.token.expand(x.shape[0], -1, -1), x], dim=1)

    def receptive_field_params(self):
        """From here on the tokens are a sequence, not a grid: the spatial walk ends."""
        return None


class PositionEmbedding(nn.Module):
    """(N, T, D) -> (N, T, D): add a learned embedding per token position."""

    def __init__(self, *, num_tokens: int, dim: int):
        super().__init__()
        self.embedding = nn.Parameter(torch.empty(1, num_tokens, dim).normal_(std=0.02))

    def forward(self, x):
        if x.shape[1:] != self.embedding.shape[1:]:
            raise ValueError(f"PositionEmbedding was built for {tuple(self.embedding.shape[1:])} "
                             f"(tokens, dim), got input {tuple(x.shape)}: check the image size")
        return x + self.embedding


class TorchSelfAttention(nn.Module):
    """``torch.nn.MultiheadAttention`` as self-attention: (N, T, D) -> (N, T, D)."""

    def __init__(self, dim: int, num_heads: int):
        super().__init__()
        self.attn = nn.MultiheadAttention(dim, num_heads, batch_first=True)

    def forward(self, x):
        return self.attn(x, x, x, need_weights=False)[0]


def attention_factory(attention=None):
    """``None`` -> from-scratch MultiHeadSelfAttention, ``"torch"`` -> TorchSelfAttention."""
    if attention is None or attention == "scratch":
        from helpers.attention import MultiHeadSelfAttention
        return MultiHeadSelfAttention
    if attention == "torch":
        return TorchSelfAttention
    if callable(attention):
        return attention
    raise ValueError(f"attention={attention!r}: use None/'scratch', 'torch' or a "
                     "callable(dim, num_heads)")


class MLP(nn.Sequential):
    """(N, T, D) -> (N, T, D): Linear(D, hidden), GELU, dropout, Linear(hidden, D), dropout."""

    def __init__(self, *, dim: int, hidden: int, dropout: float = 0.0):
        super().__init__(nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(dropout),
                         nn.Linear(hidden, dim), nn.Dropout(dropout))


class EncoderBlock(nn.Module):
    """Pre-norm transformer block, (N, T, D) -> (N, T, D)::

        x = x + dropout(attention(norm1(x)))
        x = x + mlp(norm2(x))
    """

    def __init__(self, *, dim: int, num_heads: int, mlp_dim: int, dropout: float = 0.0,
                 attention=None):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"dim={dim} must be divisible by num_heads={num_heads}")
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attention = attention_factory(attention)(dim, num_heads)
        self.dropout = nn.Dropout(dropout)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = MLP(dim=dim, hidden=mlp_dim, dropout=dropout)

    def forward(self, x):
        x = x + self.dropout(self.attention(self.norm1(x)))
        return x + self.mlp(self.norm2(x))


class MLPHead(nn.Module):
    """(N, 1 + T, D) -> (N, num_classes): a linear layer on the class token (token 0)."""

    def __init__(self, *, dim: int, num_classes: int):
        super().__init__()
        self.head = nn.Linear(dim, num_classes)

    def forward(self, tokens):
        return self.head(tokens[:, 0])


class VisionTransformer(FeaturesClassifier):
    """(N, C, S, S) -> (N, num_classes), S = ``image_size``, a multiple of ``patch_size``."""

    def __init__(self, *, image_size: int = 224, patch_size: int = 16, depth: int = 12,
                 num_heads: int = 12, dim: int = 768, mlp_dim: int = 3072,
                 num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.0,
                 attention=None, layers=None):
        super().__init__()
        if image_size % patch_size:
            raise ValueError(f"image_size={image_size} is not a multiple of "
                             f"patch_size={patch_size}")
        num_tokens = 1 + (image_size // patch_size) ** 2
        blocks = [EncoderBlock(dim=dim, num_heads=num_heads, mlp_dim=mlp_dim, dropout=dropout,
                               attention=attention) for _ in range(depth)]
        self.features = nn.Sequential(OrderedDict([
            ("patch_embedding", PatchEmbedding(in_channels=in_channels, dim=dim,
                                                patch_size=patch_size, layers=layers)),
            ("class_token", ClassToken(dim=dim)),
            ("position_embedding", PositionEmbedding(num_tokens=num_tokens, dim=dim)),
            ("dropout", nn.Dropout(dropout)),
            ("encoder", nn.Sequential(*blocks)),
            ("norm", nn.LayerNorm(dim, eps=1e-6)),
        ]))
        self.classifier = MLPHead(dim=dim, num_classes=num_classes)


def vit_b_16(**kwargs) -> VisionTransformer:
    """ViT-B/16: patch 16, D = 768, 12 blocks of 12 heads, MLP 3072; 86,567,656 parameters.
    ``kwargs`` (num_classes, image_size, in_channels, dropout, attention, layers) as
    :class:`VisionTransformer`."""
    return VisionTransformer(patch_size=16, depth=12, num_heads=12, dim=768, mlp_dim=3072,
                             **kwargs)


def tiny_vit(*, patch: int = 7, dim: int = 64, depth: int = 4, heads: int = 4,
             mlp_ratio: int = 4, num_classes: int = 10, in_channels: int = 1,
             image_size: int = 28, dropout: float = 0.0, attention=None,
             layers=None) -> VisionTransformer:
    """A small ViT: patch 7 gives 16 (+1) tokens on 28x28, patch 4 gives 49 (+1)."""
    return VisionTransformer(image_size=image_size, patch_size=patch, depth=depth,
                             num_heads=heads, dim=dim, mlp_dim=mlp_ratio * dim,
                             num_classes=num_classes, in_channels=in_channels, dropout=dropout,
                             attention=attention, layers=layers)
