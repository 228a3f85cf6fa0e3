"""Chapter 9 exercises: Vision Transformers and modern CNNs.

====  ===============================================  ==========================================
9.1   ``patchify(images, patch_size)``                  cut (N, C, H, W) images into the ViT's
                                                        token sequence (N, T, C·p·p),
                                                        T = (H / p)(W / p), patches row by row
9.2   ``attention(q, k, v)``                            softmax(q kᵀ / √d) v for (..., T, d)
                                                        queries and keys, (..., T, d_v) values
9.3   ``separable_params(in_channels, out_channels,     parameters of a depthwise (groups = C)
      kernel_size, bias=True)``                         k×k conv followed by a 1×1 conv
====  ===============================================  ==========================================

The references are checked against the course's helpers in tests/exercises/test_ch09.py:
9.1 against the ViT's patch embedding (a conv with kernel = stride = p), 9.2 against
:func:`helpers.attention.scaled_dot_product_attention`, 9.3 against counted parameters of
:class:`helpers.models.mobilenet.DepthwiseSeparableConv`.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from helpers.attention import scaled_dot_product_attention
from helpers.exercises.core import Case, Exercise, Mistake, checker

__all__ = ["check_attention", "check_multi_head_attention", "check_patchify",
           "check_separable_params"]


# --------------------------------------------------------------------------- 9.1 patchify

def patchify(images, patch_size):
    """(N, C, H, W) -> (N, T, C·p·p), T = (H / p)(W / p): patches left to right, top to bottom;
    each patch flattened channel by channel, row by row (the order of a conv filter's weights)."""
    n, c, h, w = images.shape
    p = patch_size
    x = images.reshape(n, c, h // p, p, w // p, p)   # (N, C, rows, p, cols, p)
    x = x.permute(0, 2, 4, 1, 3, 5)                   # (N, rows, cols, C, p, p)
    return x.reshape(n, (h // p) * (w // p), c * p * p)


def _patchify_by(order):
    """Mistake factory: the same reshape with the axes of (N, C, rows, p, cols, p) permuted."""
    def wrong(images, patch_size):
        n, c, h, w = images.shape
        p = patch_size
        x = images.reshape(n, c, h // p, p, w // p, p).permute(*order)
        return x.reshape(n, (h // p) * (w // p), c * p * p)
    return wrong


def _patchify_no_permute(images, patch_size):
    n, c, h, w = images.shape
    return images.reshape(n, (h // patch_size) * (w // patch_size), c * patch_size ** 2)


def _patchify_unfold_overlapping(images, patch_size):
    return torch.nn.functional.unfold(images, patch_size).transpose(1, 2)


def _patchify_features_first(images, patch_size):
    return patchify(images, patch_size).transpose(1, 2)


def _patchify_class_token(images, patch_size):
    tokens = patchify(images, patch_size)
    return torch.cat([tokens.new_zeros(tokens.shape[0], 1, tokens.shape[2]), tokens], dim=1)


def _patchify_cases(rng) -> list[Case]:
    def images(*shape):
        return torch.from_numpy(rng.standard_normal(shape).astype(np.float32))

    ramp = torch.arange(2 * 4 * 6, dtype=torch.float32).reshape(1, 2, 4, 6)
    return [
        Case((ramp, 2), label="2 channels, 4×6 numbered pixels, p = 2"),
        Case((images(2, 3, 8, 8), 4), label="RGB, 2×2 patches"),
        Case((images(1, 1, 12, 8), 4), label="taller than wide"),
        Case((images(2, 3, 6, 9), 3), label="wider than tall"),
        Case((images(1, 3, 16, 16), 16), label="one patch"),
        Case((images(1, 2, 3, 3), 1), label="p = 1: every pixel a token"),
        Case((images(3, 1, 28, 28), 7), label="Fashion-MNIST size, p = 7"),
        Case((images(1, 3, 32, 32), 16), label="2×2 patches of 16×16"),
    ]


PATCHIFY = Exercise(
    number="9.1", title="Cut images into patch tokens", reference=patchify,
    cases=_patchify_cases, shape_hint="(N, (H / p)·(W / p), C·p·p)",
    mistakes=[
        Mistake("you reshaped straight to (N, T, C·p·p) without moving the axes: the values of a "
                "'token' then come from whole image rows, not from a p×p square. Reshape to "
                "(N, C, H/p, p, W/p, p), permute to (N, H/p, W/p, C, p, p), then reshape.",
                _patchify_no_permute),
        Mistake("your patches are in column order (down the first column, then the next); go "
                "along the rows instead: the patch-row axis H/p comes before the patch-column "
                "axis W/p.", _patchify_by((0, 4, 2, 1, 3, 5))),
        Mistake("each patch is flattened channels-last (p, p, C); flatten it channel by channel, "
                "(C, p, p), the order of a conv filter's weights (K, C, p, p).",
                _patchify_by((0, 2, 4, 3, 5, 1))),
        Mistake("each patch is flattened column by column; flatten it row by row: the axis of the "
                "rows inside a patch comes before the axis of its columns.",
                _patchify_by((0, 2, 4, 1, 5, 3))),
        Mistake("your output is (N, C·p·p, T), the layout F.unfold gives; the tokens must come "
                "first: transpose the last two axes to get (N, T, C·p·p).",
                _patchify_features_first),
        Mistake("you prepended a token (a class token?) to the patches: patchify returns the "
                "T = (H/p)(W/p) patch tokens only; the model adds its class token later, after "
                "the linear embedding.", _patchify_class_token),
        Mistake("your patches overlap: F.unfold(x, p) slides the window by one pixel. Patches "
                "side by side need the stride too: F.unfold(x, p, stride=p).",
                _patchify_unfold_overlapping),
    ],
)
check_patchify = checker(PATCHIFY, "check_patchify")


# --------------------------------------------------------------------------- 9.2 attention

def attention(q, k, v):
    """softmax(q kᵀ / √d) v: q (..., Tq, d), k (..., Tk, d), v (..., Tk, dv) -> (..., Tq, dv)."""
    return scaled_dot_product_attention(q, k, v)[0]


def _attention_scaled_by(scale):
    def wrong(q, k, v):
        return torch.softmax(q @ k.transpose(-2, -1) * scale(q, v), dim=-1) @ v
    return wrong


def _attention_scaled_after_softmax(q, k, v):
    return torch.softmax(q @ k.transpose(-2, -1), dim=-1) / math.sqrt(q.shape[-1]) @ v


def _attention_softmax_queries(q, k, v):
    return torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-2) @ v


def _attention_weights_only(q, k, v):
    return scaled_dot_product_attention(q, k, v)[1]


def _attention_no_softmax(q, k, v):
    return (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])) @ v


def _attention_cases(rng) -> list[Case]:
    def t(*shape):
        return torch.from_numpy(rng.standard_normal(shape))

    cases = [
        Case((t(5, 4), t(5, 4), t(5, 4)), label="one head, T = 5, d = 4"),
        Case((t(2, 6, 16), t(2, 6, 16), t(2, 6, 16)), label="batch of 2, d = 16"),
        Case((t(2, 3, 7, 8), t(2, 3, 7, 8), t(2, 3, 7, 8)), label="2 images × 3 heads"),
        Case((t(3, 4), t(6, 4), t(6, 5)), label="3 queries, 6 keys, values of size 5"),
        Case((t(1, 2, 9), t(1, 5, 9), t(1, 5, 3)), label="2 queries, 5 keys, d = 9, dv = 3"),
        Case((3 * t(4, 16), 3 * t(4, 16), t(4, 16)), label="large scores"),
        Case((t(1, 1, 4), t(1, 1, 4), t(1, 1, 2)), label="a single token"),
    ]
    for _ in range(2):
        tq, tk, d, dv = (int(x) for x in rng.integers(2, 9, size=4))
        cases.append(Case((t(2, tq, d), t(2, tk, d), t(2, tk, dv))))
    return cases


def _attention_diagnose(case, got, expected):
    if isinstance(got, tuple):
        return ("you returned a tuple (perhaps (output, weights)); return only the output "
                "softmax(q kᵀ / √d) v, a tensor of shape (..., Tq, dv).")
    return None


def _attention_error(case, exc) -> str | None:
    text = str(exc)
    if any(m in text for m in ("cannot be multiplied", "must match the size", "batch1 must be",
                               "Dimension out of range",
                               "batch2 must be", "Expected size for first two dimensions",
                               "size of tensor a")):
        q, k = case.args[:2]
        return (f"q {tuple(q.shape)} @ kᵀ needs kᵀ of shape (..., d, Tk) = "
                f"{(*k.shape[:-2], k.shape[-1], k.shape[-2])}: use `k.transpose(-2, -1)`. "
                "`k.T` reverses ALL axes (batch and heads too), `transpose(1, 2)` swaps the "
                "wrong pair when there are heads, and `bmm` takes 3-D tensors only.")
    return None


ATTENTION = Exercise(
    number="9.2", title="Scaled dot-product attention", reference=attention,
    cases=_attention_cases, shape_hint="(..., Tq, dv)", diagnose=_attention_diagnose,
    forbidden=("scaled_dot_product_attention", "multi_head_attention_forward"),
    forbidden_reason="the statement asks you to write softmax(q kᵀ / √d) v yourself",
    explain_error=_attention_error,
    mistakes=[
        Mistake("the scores are not scaled: divide q kᵀ by √d (d = q.shape[-1]) before the "
                "softmax, or large dot products saturate it.",
                _attention_scaled_by(lambda q, v: 1.0)),
        Mistake("you divided the scores by d; divide by √d, the standard deviation of a dot "
                "product of two random d-vectors with unit-variance entries.",
                _attention_scaled_by(lambda q, v: 1.0 / q.shape[-1])),
        Mistake("you scaled by √(size of the values); the scale is √d with d the size of the "
                "queries and keys, q.shape[-1].",
                _attention_scaled_by(lambda q, v: 1.0 / math.sqrt(v.shape[-1]))),
        Mistake("you multiplied the scores by √d; divide them by √d: q kᵀ / math.sqrt(d).",
                _attention_scaled_by(lambda q, v: math.sqrt(q.shape[-1]))),
        Mistake("you scaled by √(number of queries), √Tq; the scale is √d, the size of each "
                "query and key: d = q.shape[-1], not q.shape[-2].",
                lambda q, k, v: torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-2]),
                                              dim=-1) @ v),
        Mistake("you scaled by √(number of keys), √Tk; the scale is √d, the size of each query "
                "and key: d = q.shape[-1], not k.shape[-2].",
                _attention_scaled_by(lambda q, v: 1.0 / math.sqrt(v.shape[-2]))),
        Mistake("you scaled after the softmax; divide the scores q kᵀ by √d BEFORE the softmax "
                "(afterwards the weights no longer sum to 1).", _attention_scaled_after_softmax),
        Mistake("the softmax runs over the wrong axis (the queries, dim=-2, or the first axis, "
                "dim=0); each query's weights over the keys must sum to 1: softmax over the "
                "last axis, dim=-1.", _attention_softmax_queries),
        Mistake("you returned the attention weights softmax(q kᵀ / √d); multiply them by v to "
                "get the output.", _attention_weights_only),
        Mistake("the softmax is missing: the scores q kᵀ / √d must become weights that are "
                "positive and sum to 1 over the keys (torch.softmax(scores, dim=-1)).",
                _attention_no_softmax),
    ],
)
check_attention = checker(ATTENTION, "check_attention")


# --------------------------------------------------------------------------- 9.3 parameters

def separable_params(in_channels, out_channels, kernel_size, bias=True):
    """Depthwise k×k conv (C filters of k×k, one per channel) + pointwise 1×1 conv (K filters of
    C weights): C·k² + C·K weights, plus C + K biases when ``bias``."""
    c, kk = in_channels, kernel_size * kernel_size
    return c * kk + c * out_channels + ((c + out_channels) if bias else 0)


def _params_cases(rng) -> list[Case]:
    cases = [Case((32, 64, 3), label="MobileNet's 2nd layer"),
             Case((32, 64, 3), {"bias": False}, label="no biases"),
             Case((96, 96, 7), label="ConvNeXt width 96"),
             Case((3, 16, 5)), Case((1, 1, 1), label="smallest"),
             Case((128, 256, 3), {"bias": False}), Case((16, 8, 3))]
    for _ in range(4):
        c, k_out = (int(x) for x in rng.integers(1, 300, size=2))
        cases.append(Case((c, k_out, int(rng.choice([1, 3, 5, 7]))),
                          {"bias": bool(rng.integers(0, 2))}))
    return cases


def _params_mistake(weights, biases):
    def wrong(in_channels, out_channels, kernel_size, bias=True):
        c, k_out, k = in_channels, out_channels, kernel_size
        return weights(c, k_out, k) + (biases(c, k_out) if bias else 0)
    return wrong


SEPARABLE_PARAMS = Exercise(
    number="9.3", title="Parameters of a depthwise separable convolution",
    reference=separable_params, cases=_params_cases,
    mistakes=[
        Mistake("you counted a standard k×k convolution (C·K·k² + K); the separable version "
                "splits it into a depthwise k×k conv and a 1×1 conv.",
                _params_mistake(lambda c, K, k: c * K * k * k, lambda c, K: K)),
        Mistake("your depthwise part is a full C→C convolution (C·C·k²); with groups = C each "
                "of its C filters sees ONE channel: C·k² weights.",
                _params_mistake(lambda c, K, k: c * c * k * k + c * K, lambda c, K: c + K)),
        Mistake("the biases are missing: with bias=True the depthwise conv has C biases and "
                "the pointwise conv K.",
                _params_mistake(lambda c, K, k: c * k * k + c * K, lambda c, K: 0)),
        Mistake("only one bias vector is counted; both convolutions have biases: C for the "
                "depthwise conv and K for the pointwise conv.",
                _params_mistake(lambda c, K, k: c * k * k + c * K, lambda c, K: K)),
        Mistake("the kernel size is not squared: a k×k filter has k² weights.",
                _params_mistake(lambda c, K, k: c * k + c * K, lambda c, K: c + K)),
        Mistake("the 1×1 pointwise convolution is missing (C·K weights + K biases); the "
                "depthwise conv alone never mixes channels.",
                _params_mistake(lambda c, K, k: c * k * k, lambda c, K: c)),
    ],
)
check_separable_params = checker(SEPARABLE_PARAMS, "check_separable_params")

# --------------------------------------------------------------------------- 9.4 multi-head

def multi_head_attention(x, w_q, w_k, w_v, w_o, num_heads):
    """Multi-head self-attention without biases: x (N, T, D), weights (D, D) used as ``x @ w``.

    Each head h gets the columns h·dh … (h+1)·dh − 1 of x @ w_q (dh = D / num_heads); split
    (N, T, D) -> (N, heads, T, dh), attend per head with scale √dh, merge back
    (N, heads, T, dh) -> (N, T, D) (heads side by side) and project with w_o: -> (N, T, D)."""
    n, t, d = x.shape
    dh = d // num_heads

    def split(y):
        return y.reshape(n, t, num_heads, dh).transpose(1, 2)

    q, k, v = split(x @ w_q), split(x @ w_k), split(x @ w_v)
    weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(dh), dim=-1)
    return (weights @ v).transpose(1, 2).reshape(n, t, d) @ w_o


def _mha_variant(x, w_q, w_k, w_v, w_o, num_heads, *, split="right", merge="right",
                 scale="head", project=True, softmax_dim=-1):
    n, t, d = x.shape
    dh = d // num_heads

    def cut(y):
        if split == "no_transpose":
            return y.reshape(n, num_heads, t, dh)
        if split == "interleaved":
            return y.reshape(n, t, dh, num_heads).permute(0, 3, 1, 2)
        return y.reshape(n, t, num_heads, dh).transpose(1, 2)

    q, k, v = cut(x @ w_q), cut(x @ w_k), cut(x @ w_v)
    root = {"head": math.sqrt(dh), "model": math.sqrt(d), "none": 1.0}[scale]
    out = torch.softmax(q @ k.transpose(-2, -1) / root, dim=softmax_dim) @ v   # (N, h, T, dh)
    out = out.reshape(n, t, d) if merge == "no_transpose" else out.transpose(1, 2).reshape(n, t, d)
    return out @ w_o if project else out


def _mha_cases(rng) -> list[Case]:
    def t(*shape, scale=1.0):
        return torch.from_numpy(scale * rng.standard_normal(shape))

    cases = []
    for n, tokens, d, heads, label in ((2, 5, 8, 2, "2 heads of 4"),
                                       (1, 7, 12, 3, "3 heads of 4, 7 tokens"),
                                       (3, 4, 12, 4, "4 heads of 3"),
                                       (2, 6, 6, 1, "one head"),
                                       (1, 3, 16, 4, "3 tokens, 4 heads of 4"),
                                       (2, 9, 10, 5, "5 heads of 2, 9 tokens")):
        ws = [t(d, d, scale=1 / math.sqrt(d)) for _ in range(4)]
        cases.append(Case((t(n, tokens, d), *ws, heads), label=label))
    return cases


MULTI_HEAD = Exercise(
    number="9.4", title="Multi-head attention: split, attend, merge",
    reference=multi_head_attention, cases=_mha_cases, shape_hint="(N, T, D)",
    forbidden=("scaled_dot_product_attention", "multi_head_attention_forward"),
    forbidden_reason="the statement asks you to split, attend and merge the heads yourself",
    explain_error=_attention_error,
    mistakes=[
        Mistake("you reshaped (N, T, D) straight to (N, heads, T, dh): that cuts the sequence "
                "of all tokens' features into blocks, mixing tokens into heads. Reshape to "
                "(N, T, heads, dh) first, then `.transpose(1, 2)`.",
                lambda *a: _mha_variant(*a, split="no_transpose")),
        Mistake("you merged the heads with a plain reshape of (N, heads, T, dh) to (N, T, D); "
                "bring T next to N first (`.transpose(1, 2)`), then reshape, so that each "
                "token's row holds its heads side by side.",
                lambda *a: _mha_variant(*a, merge="no_transpose")),
        Mistake("your heads take every num_heads-th feature (reshape to (N, T, dh, heads)); "
                "head h owns the CONSECUTIVE columns h·dh … (h+1)·dh − 1: reshape to "
                "(N, T, heads, dh).", lambda *a: _mha_variant(*a, split="interleaved")),
        Mistake("you scaled by √D, the model width; each head attends in dh = D / heads "
                "dimensions, so its scores are divided by √dh.",
                lambda *a: _mha_variant(*a, scale="model")),
        Mistake("the scores are not scaled: divide each head's q kᵀ by √dh.",
                lambda *a: _mha_variant(*a, scale="none")),
        Mistake("the output projection is missing: after merging the heads multiply by w_o.",
                lambda *a: _mha_variant(*a, project=False)),
    ],
)
check_multi_head_attention = checker(MULTI_HEAD, "check_multi_head_attention")


EXERCISES = [PATCHIFY, ATTENTION, SEPARABLE_PARAMS, MULTI_HEAD]
