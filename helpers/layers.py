"""Convolution and pooling written from scratch, proven equal to PyTorch in tests/test_layers.py.

The same idea at three levels:

- ``conv2d_naive`` / ``conv2d_naive_backward``: NumPy loops, meant to be read line by line.
  The backward pass is built from ``conv2d_naive`` itself: the gradient of a convolution is a
  convolution.
- ``conv2d``: PyTorch, fast enough to train with. Every output pixel is a dot product between
  one input patch and one filter, so we copy all patches into the rows of a matrix and do a single
  matrix multiply. A custom ``autograd.Function`` does the backward pass with matrix multiplies
  too. ``torch.nn.functional.conv2d`` is never called.
- ``blur_pool2d``: anti-aliased downsampling (Zhang 2019): a fixed binomial blur on each
  channel, then stride, built on ``conv2d`` with ``groups = C``.
- ``Conv2d``, ``MaxPool2d``, ``AvgPool2d``: ``nn.Module`` wrappers with torch.nn's constructor
  arguments, parameter names and initialisation, so ``load_state_dict`` works both ways.

Shapes: inputs are (N, C, H, W); a filter bank is (K, C / groups, kh, kw). Padding is always
given PER SIDE (``padding=1`` adds one row at the top and one at the bottom).
"""
from __future__ import annotations

import math
from numbers import Integral

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.function import once_differentiable

__all__ = [
    "AvgPool2d",
    "Conv2d",
    "MaxPool2d",
    "avg_pool2d",
    "binomial_kernel",
    "blur_pool2d",
    "conv2d",
    "conv2d_naive",
    "conv2d_naive_backward",
    "conv_output_size",
    "im2col",
    "max_pool2d",
]


# --------------------------------------------------------------------------- output size


def _output_length(padded: int, kernel: int, stride: int, dilation: int) -> int:
    """Number of window positions along an already padded axis of length ``padded``."""
    return (padded - dilation * (kernel - 1) - 1) // stride + 1


def conv_output_size(n: int, kernel_size: int, stride: int = 1, padding: int = 0,
                     dilation: int = 1) -> int:
    """Output length of a convolution or pooling along one axis.

    n' = floor((n + 2p - k - (k - 1)(d - 1)) / s) + 1, with ``padding`` p added on EACH side
    (some texts write the formula with the total padding P = 2p instead).
    Raises ValueError for non-positive n, k, s, d, negative p, or an output shorter than 1.
    """
    for name, value in (("n", n), ("kernel_size", kernel_size), ("stride", stride),
                        ("dilation", dilation)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"conv_output_size: {name} must be a positive int, got {value!r}")
    if not isinstance(padding, int) or padding < 0:
        raise ValueError(f"conv_output_size: padding must be an int >= 0, got {padding!r}")
    out = _output_length(n + 2 * padding, kernel_size, stride, dilation)
    if out < 1:
        raise ValueError(f"conv_output_size: kernel {kernel_size} (dilation {dilation}) does not "
                         f"fit in n={n} with padding {padding} per side")
    return out


# --------------------------------------------------------------------------- NumPy, to read


def conv2d_naive(x, w, b=None, stride: int = 1, padding: int = 0) -> np.ndarray:
    """Cross-correlation with explicit loops: (N, C, H, W) x (K, C, kh, kw) -> (N, K, H', W').

    H' = (H + 2p - kh) // s + 1 and W' = (W + 2p - kw) // s + 1, with p zeros added per side.
    out[n, k, i, j] = b[k] + sum over (c, u, v) of x_pad[n, c, i*s + u, j*s + v] * w[k, c, u, v]
    """
    x, w = np.asarray(x), np.asarray(w)
    _check_naive(x, w, stride, padding)
    n_images, _, height, width = x.shape
    n_filters, _, kh, kw = w.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out_h = (height + 2 * padding - kh) // stride + 1
    out_w = (width + 2 * padding - kw) // stride + 1
    out = np.zeros((n_images, n_filters, out_h, out_w), dtype=np.result_type(x, w))
    for n in range(n_images):
        for k in range(n_filters):
            for i in range(out_h):
                for j in range(out_w):
                    top, left = i * stride, j * stride
                    patch = x_pad[n, :, top:top + kh, left:left + kw]  # (C, kh, kw)
                    out[n, k, i, j] = np.sum(patch * w[k])
            if b is not None:
                out[n, k] += b[k]
    return out


def _check_naive(x: np.ndarray, w: np.ndarray, stride: int, padding: int) -> None:
    if x.ndim != 4 or w.ndim != 4:
        raise ValueError(f"conv2d_naive expects x of shape (N, C, H, W) and w (K, C, kh, kw), "
                         f"got x {x.shape} and w {w.shape}")
    if x.shape[1] != w.shape[1]:
        raise ValueError(f"conv2d_naive: x has C={x.shape[1]} channels, w {w.shape} expects "
                         f"{w.shape[1]}")
    if not isinstance(stride, int | np.integer) or stride < 1:
        raise ValueError(f"conv2d_naive: stride must be a positive int, got {stride!r}")
    if not isinstance(padding, int | np.integer) or padding < 0:
        raise ValueError(f"conv2d_naive: padding must be an int >= 0, got {padding!r}")
    if w.shape[2] > x.shape[2] + 2 * padding or w.shape[3] > x.shape[3] + 2 * padding:
        raise ValueError(f"conv2d_naive: kernel {w.shape[2:]} is larger than the padded input "
                         f"{(x.shape[2] + 2 * padding, x.shape[3] + 2 * padding)}")


def _dilate(grad: np.ndarray, stride: int) -> np.ndarray:
    """Put stride - 1 zeros between neighbouring pixels: (N, K, h, w) -> (N, K, s(h-1)+1, ...)."""
    n, k, h, w = grad.shape
    out = np.zeros((n, k, stride * (h - 1) + 1, stride * (w - 1) + 1), dtype=grad.dtype)
    out[:, :, ::stride, ::stride] = grad
    return out


def conv2d_naive_backward(x, w, grad_out, stride: int = 1, padding: int = 0):
    """Gradients of ``conv2d_naive``: returns (dx, dw, db) shaped like x, w and (K,).

    Each gradient is again a convolution, computed with ``conv2d_naive`` itself. Let g be
    grad_out with stride - 1 zeros inserted between its pixels (the "dilated" gradient):

    - db[k]: the sum of g over images and positions;
    - dw: the correlation of the padded input with g (images play the role of channels);
    - dx: the FULL correlation of g with the kernel flipped left-right and up-down, its input and
      output channels swapped; the padding rows are then cut away.
    """
    x, w, grad_out = np.asarray(x), np.asarray(w), np.asarray(grad_out)
    _check_naive(x, w, stride, padding)
    _, _, height, width = x.shape
    _, _, kh, kw = w.shape
    g = _dilate(grad_out, stride)                               # (N, K, gh, gw)
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    db = grad_out.sum(axis=(0, 2, 3))
    # dw[k, c, u, v] = sum_n sum_{a, b} x_pad[n, c, u + a, v + b] * g[n, k, a, b]
    dw = conv2d_naive(x_pad.transpose(1, 0, 2, 3), g.transpose(1, 0, 2, 3))  # (C, K, >=kh, >=kw)
    dw = dw.transpose(1, 0, 2, 3)[:, :, :kh, :kw]  # rows the windows never reached are dropped
    # dx_pad[n, c, y, z] = sum_{k, u, v} g[n, k, y - u, z - v] * w[k, c, u, v]
    w_flipped = w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)      # (C, K, kh, kw)
    extra_h = x_pad.shape[2] - (g.shape[2] + kh - 1)            # rows no window covered
    extra_w = x_pad.shape[3] - (g.shape[3] + kw - 1)
    g_full = np.pad(g, ((0, 0), (0, 0), (kh - 1, kh - 1 + extra_h), (kw - 1, kw - 1 + extra_w)))
    dx_pad = conv2d_naive(g_full, w_flipped)                    # (N, C, H + 2p, W + 2p)
    dx = dx_pad[:, :, padding:padding + height, padding:padding + width]
    return dx, dw, db


# --------------------------------------------------------------------------- argument checks


def _pair(value, name: str, minimum: int = 1) -> tuple[int, int]:
    """An int or a pair of ints -> (a, b), each >= minimum, else ValueError naming ``name``."""
    pair = (value, value) if isinstance(value, Integral) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, Integral) and not isinstance(v, bool)
                                 and v >= minimum for v in pair):
        raise ValueError(f"{name} must be an int >= {minimum} or a pair of them, got {value!r}")
    return (int(pair[0]), int(pair[1]))


def _conv_padding(padding, kernel: tuple[int, int], stride: tuple[int, int],
                  dilation: tuple[int, int]) -> tuple[int, int, int, int]:
    """padding (int, pair, "valid" or "same") -> (top, bottom, left, right).

    "same" follows torch: total d(k - 1) per axis, the odd pixel going to the bottom / right;
    it needs stride 1.
    """
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding != "same":
            raise ValueError(f"padding must be an int, a pair, 'valid' or 'same', "
                             f"got {padding!r}")
        if stride != (1, 1):
            raise ValueError(f"padding='same' needs stride 1, got stride {stride}")
        total_h, total_w = (d * (k - 1) for k, d in zip(kernel, dilation))
        return (total_h // 2, total_h - total_h // 2, total_w // 2, total_w - total_w // 2)
    ph, pw = _pair(padding, "padding", minimum=0)
    return (ph, ph, pw, pw)


def _check_conv(x: torch.Tensor, w: torch.Tensor, b, groups) -> None:
    if x.dim() != 4:
        raise ValueError(f"conv2d expects x of shape (N, C, H, W), got {tuple(x.shape)}")
    if w.dim() != 4:
        raise ValueError(f"conv2d expects w of shape (K, C / groups, kh, kw), got "
                         f"{tuple(w.shape)}")
    if not isinstance(groups, int) or groups < 1:
        raise ValueError(f"groups must be a positive int, got {groups!r}")
    channels, n_filters = x.shape[1], w.shape[0]
    if channels % groups or n_filters % groups:
        raise ValueError(f"groups={groups} must divide both the input channels ({channels}) and "
                         f"the output channels ({n_filters})")
    if channels != w.shape[1] * groups:
        raise ValueError(f"x {tuple(x.shape)} has C={channels} channels but w {tuple(w.shape)} "
                         f"with groups={groups} expects C={w.shape[1] * groups}")
    if b is not None and tuple(b.shape) != (n_filters,):
        raise ValueError(f"bias must have shape ({n_filters},), got {tuple(b.shape)}")


# --------------------------------------------------------------------------- torch, fast


def _to_padded_nhwc(x: torch.Tensor, pads: tuple[int, int, int, int]) -> torch.Tensor:
    """(N, C, H, W) -> contiguous (N, H + top + bottom, W + left + right, C), zeros around.

    Channels go last so that one patch (kh, kw, C) is a few contiguous runs of memory.
    A negative pad crops instead (the backward pass needs that when padding > d(k - 1)).
    """
    top, bottom, left, right = pads
    height, width = x.shape[2], x.shape[3]
    x = x[:, :, max(-top, 0):height - max(-bottom, 0), max(-left, 0):width - max(-right, 0)]
    top, bottom, left, right = (max(p, 0) for p in pads)
    if top == bottom == left == right == 0:
        return x.permute(0, 2, 3, 1).contiguous()
    n, c, h, w = x.shape
    out = x.new_zeros(n, h + top + bottom, w + left + right, c)
    out[:, top:top + h, left:left + w, :] = x.permute(0, 2, 3, 1)
    return out


def _patches(x_pad: torch.Tensor, kernel, stride, dilation, groups: int, out_hw) -> torch.Tensor:
    """Padded NHWC input -> patch matrix (groups, N * H' * W', kh * kw * C / groups).

    ``as_strided`` gives a view with one window per output pixel without copying; ``reshape``
    then copies the windows into the rows of the matrix (im2col).
    """
    n, _, _, channels = x_pad.shape
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out_hw
    cg = channels // groups
    s_n, s_h, s_w, s_c = x_pad.stride()
    windows = x_pad.as_strided((groups, n, oh, ow, kh, kw, cg),
                               (cg * s_c, s_n, s_h * sh, s_w * sw, s_h * dh, s_w * dw, s_c))
    return windows.reshape(groups, n * oh * ow, kh * kw * cg)


def _filter_matrix(w: torch.Tensor, groups: int) -> torch.Tensor:
    """(K, C / groups, kh, kw) -> (groups, K / groups, kh * kw * C / groups), patch order."""
    k, cg, kh, kw = w.shape
    return w.reshape(groups, k // groups, cg, kh, kw).permute(0, 1, 3, 4, 2).reshape(
        groups, k // groups, kh * kw * cg)


def _conv_forward(x, w, b, stride, pads, dilation, groups):
    """The convolution as matrix products: returns (out (N, K, H', W'), patch matrix)."""
    n, _, height, width = x.shape
    k, _, kh, kw = w.shape
    out_hw = (_output_length(height + pads[0] + pads[1], kh, stride[0], dilation[0]),
              _output_length(width + pads[2] + pads[3], kw, stride[1], dilation[1]))
    cols = _patches(_to_padded_nhwc(x, pads), (kh, kw), stride, dilation, groups, out_hw)
    filters = _filter_matrix(w, groups).transpose(1, 2)        # (G, kh kw C/G, K/G)
    if b is None:
        out = torch.bmm(cols, filters)                          # (G, N H' W', K/G)
    else:
        out = torch.baddbmm(b.reshape(groups, 1, k // groups), cols, filters)
    out = out.reshape(groups, n, *out_hw, k // groups).permute(1, 0, 4, 2, 3)
    return out.reshape(n, k, *out_hw), cols


class _Conv2dFunction(torch.autograd.Function):
    """Forward: out = patches @ filters. Backward, with g the output gradient as a matrix:
    dW = patches^T @ g, and dX = a convolution of g with the flipped filters, or equivalently
    the patch gradients W^T g added back into place (``F.fold``, the adjoint of unfolding).
    """

    @staticmethod
    def forward(ctx, x, w, b, stride, pads, dilation, groups):
        out, cols = _conv_forward(x, w, b, stride, pads, dilation, groups)
        ctx.save_for_backward(cols if ctx.needs_input_grad[1] else None, w)
        ctx.conf = (x.shape, stride, pads, dilation, groups)
        if x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous():
            return out.contiguous(memory_format=torch.channels_last)
        return out.contiguous()

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        cols, w = ctx.saved_tensors
        x_shape, stride, pads, dilation, groups = ctx.conf
        dx = dw = db = None
        if ctx.needs_input_grad[0]:
            dx = _input_gradient(grad, w, x_shape, stride, pads, dilation, groups)
        if ctx.needs_input_grad[1]:
            dw = _filter_gradient(grad, cols, w.shape, groups)
        if ctx.needs_input_grad[2]:
            db = grad.sum(dim=(0, 2, 3))
        return dx, dw, db, None, None, None, None


def _filter_gradient(grad, cols, w_shape, groups):
    """dL/dW = patches^T @ g: every filter weight meets every pixel it multiplied."""
    n, k, oh, ow = grad.shape
    _, cg, kh, kw = w_shape
    g = grad.reshape(n, groups, k // groups, oh, ow).permute(1, 0, 3, 4, 2).reshape(
        groups, n * oh * ow, k // groups)                       # (G, N H' W', K/G)
    dw_t = torch.bmm(cols.transpose(1, 2), g)                   # (G, kh kw C/G, K/G)
    return dw_t.reshape(groups, kh, kw, cg, k // groups).permute(0, 4, 3, 1, 2).reshape(w_shape)


def _input_gradient(grad, w, x_shape, stride, pads, dilation, groups):
    """dL/dx of the convolution, (N, C, H, W), computed in one of two equivalent ways."""
    k, cg, kh, kw = w.shape
    n, c, height, width = x_shape
    top, bottom, left, right = pads
    if stride == (1, 1) and cg >= k // groups:
        # A convolution of the output gradient with the flipped filters, input and output
        # channels swapped within each group, padded by d(k - 1) - p on each side.
        flipped = w.reshape(groups, k // groups, cg, kh, kw).transpose(1, 2).flip(-2, -1)
        flipped = flipped.reshape(groups * cg, k // groups, kh, kw)
        eh, ew = dilation[0] * (kh - 1), dilation[1] * (kw - 1)
        full = (eh - top, eh - bottom, ew - left, ew - right)
        return _conv_forward(grad, flipped, None, (1, 1), full, dilation, groups)[0]
    # Otherwise (strided, or fewer input than output channels: a smaller matrix product):
    # the gradient of every patch is W^T g, and fold adds each patch back where it came from.
    filters = w.reshape(groups, k // groups, cg * kh * kw).transpose(1, 2)  # (G, C/G kh kw, K/G)
    g = grad.reshape(n, groups, k // groups, -1)                            # (N, G, K/G, H' W')
    patch_grads = torch.matmul(filters, g).reshape(n, c * kh * kw, -1)
    padded = (height + top + bottom, width + left + right)
    dx_pad = F.fold(patch_grads, padded, (kh, kw), dilation=dilation, stride=stride)
    return dx_pad[:, :, top:top + height, left:left + width]


def im2col(x: torch.Tensor, kernel_size, stride=1, padding=0, dilation=1) -> torch.Tensor:
    """The patch matrix of a convolution: (N, C, H, W) -> (N, H' * W', C * kh * kw).

    Row ``i * W' + j`` holds the window under output pixel (i, j); its columns run over
    (c, u, v), channel first, in the order of ``w.reshape(K, C * kh * kw)``, so that
    ``(im2col(x, k) @ w.reshape(K, -1).T)`` is the convolution as (N, H' * W', K).
    H' = (H + 2p - d(kh - 1) - 1) // s + 1; ``padding`` is per side (zeros). The same patches
    :func:`conv2d` multiplies (there with channels last, which is faster to copy).
    """
    if not isinstance(x, torch.Tensor) or x.dim() != 4:
        raise ValueError(f"im2col expects a tensor x of shape (N, C, H, W), got "
                         f"{getattr(x, 'shape', type(x).__name__)}")
    kernel = _pair(kernel_size, "kernel_size")
    stride, dilation = _pair(stride, "stride"), _pair(dilation, "dilation")
    ph, pw = _pair(padding, "padding", minimum=0)
    n, c, height, width = x.shape
    out_hw = (_output_length(height + 2 * ph, kernel[0], stride[0], dilation[0]),
              _output_length(width + 2 * pw, kernel[1], stride[1], dilation[1]))
    if min(out_hw) < 1:
        raise ValueError(f"im2col: kernel {kernel} (dilation {dilation}) does not fit in "
                         f"x {tuple(x.shape)} with padding {padding!r}")
    cols = _patches(_to_padded_nhwc(x, (ph, ph, pw, pw)), kernel, stride, dilation, 1, out_hw)
    cols = cols.reshape(n, out_hw[0] * out_hw[1], kernel[0], kernel[1], c)   # (u, v, c) order
    return cols.permute(0, 1, 4, 2, 3).reshape(n, out_hw[0] * out_hw[1], c * kernel[0] * kernel[1])


def conv2d(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> torch.Tensor:
    """Cross-correlation like ``F.conv2d``: (N, C, H, W) x (K, C/groups, kh, kw) -> (N, K, H', W').

    H' = (H + p_top + p_bottom - d(kh - 1) - 1) // s + 1 (same for W'). ``padding`` is an int or
    pair (per side), "valid" (none) or "same" (stride 1 only; H' = H). Each group of C / groups
    input channels is seen only by its own K / groups filters. Differentiable (once).
    """
    _check_conv(x, w, b, groups)
    stride = _pair(stride, "stride")
    dilation = _pair(dilation, "dilation")
    kernel = (w.shape[2], w.shape[3])
    pads = _conv_padding(padding, kernel, stride, dilation)
    padded = (x.shape[2] + pads[0] + pads[1], x.shape[3] + pads[2] + pads[3])
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if span[0] > padded[0] or span[1] > padded[1]:
        raise ValueError(f"kernel {kernel} with dilation {dilation} spans {span}, larger than "
                         f"the padded input {padded} (x {tuple(x.shape)}, padding {padding!r})")
    return _Conv2dFunction.apply(x, w, b, stride, pads, dilation, groups)


# --------------------------------------------------------------------------- pooling


def _pool_windows(x: torch.Tensor, kernel_size, stride, padding, fill: float, name: str):
    """(N, C, H, W) -> view (N, C, H', W', kh, kw) of the windows, H' = (H + 2p - kh) // s + 1."""
    if x.dim() != 4:
        raise ValueError(f"{name} expects x of shape (N, C, H, W), got {tuple(x.shape)}")
    kernel = _pair(kernel_size, "kernel_size")
    stride = kernel if stride is None else _pair(stride, "stride")
    pad = _pair(padding, "padding", minimum=0)
    if pad[0] > kernel[0] // 2 or pad[1] > kernel[1] // 2:
        raise ValueError(f"{name}: padding {padding!r} must be at most half of kernel_size "
                         f"{kernel_size!r}")
    if kernel[0] > x.shape[2] + 2 * pad[0] or kernel[1] > x.shape[3] + 2 * pad[1]:
        raise ValueError(f"{name}: kernel_size {kernel} is larger than the padded input "
                         f"(x {tuple(x.shape)}, padding {pad})")
    if pad != (0, 0):
        x = F.pad(x, (pad[1], pad[1], pad[0], pad[0]), value=fill)
    return x.unfold(2, kernel[0], stride[0]).unfold(3, kernel[1], stride[1])


def max_pool2d(x: torch.Tensor, kernel_size, stride=None, padding=0) -> torch.Tensor:
    """Largest value in each window: (N, C, H, W) -> (N, C, H', W'), H' = (H + 2p - k) // s + 1.

    stride defaults to kernel_size; padding (per side, at most kernel_size // 2) is -inf, so it
    never wins. The gradient goes to the first maximum of each window in row-major order, like
    torch: we take the max over columns, then over rows, each passing the gradient to one index.
    """
    windows = _pool_windows(x, kernel_size, stride, padding, -math.inf, "max_pool2d")
    return windows.max(dim=-1).values.max(dim=-1).values


def avg_pool2d(x: torch.Tensor, kernel_size, stride=None, padding=0,
               count_include_pad: bool = True) -> torch.Tensor:
    """Mean of each window: (N, C, H, W) -> (N, C, H', W'), H' = (H + 2p - k) // s + 1.

    Zero padding; like torch's default the zeros count in the mean (divide by kh * kw) unless
    ``count_include_pad=False`` (divide by the number of real pixels in the window).
    """
    sums = _pool_windows(x, kernel_size, stride, padding, 0.0, "avg_pool2d").sum(dim=(-2, -1))
    if count_include_pad:
        kh, kw = _pair(kernel_size, "kernel_size")
        return sums / (kh * kw)
    ones = torch.ones((1, 1, *x.shape[2:]), dtype=x.dtype, device=x.device)
    counts = _pool_windows(ones, kernel_size, stride, padding, 0.0, "avg_pool2d").sum((-2, -1))
    return sums / counts


def binomial_kernel(size: int = 3, dtype=torch.float32) -> torch.Tensor:
    """(size, size) low-pass filter: the outer product of binomial coefficients, summing to 1.

    size 3 gives [1, 2, 1] ⊗ [1, 2, 1] / 16, size 2 the 2×2 box [1, 1] ⊗ [1, 1] / 4.
    """
    if not isinstance(size, Integral) or isinstance(size, bool) or size < 1:
        raise ValueError(f"size must be a positive int, got {size!r}")
    row = torch.tensor([math.comb(size - 1, i) for i in range(size)], dtype=dtype)
    return torch.outer(row, row) / row.sum() ** 2


def blur_pool2d(x: torch.Tensor, stride: int = 2, kernel_size: int = 3,
                padding: int | None = None) -> torch.Tensor:
    """Blur each channel with ``binomial_kernel(kernel_size)``, then keep every ``stride``-th
    pixel: (N, C, H, W) -> (N, C, H', W'), H' = (H + 2p - k) // s + 1.

    Anti-aliased downsampling (Zhang 2019, "BlurPool"): the blur removes the fine detail that
    plain subsampling would fold into coarse false patterns. Zero padding ``p`` per side,
    ``(k - 1) // 2`` by default (so k = 3, s = 2 gives H' = ceil(H / 2)). The blur is fixed
    (no parameters) and never mixes channels: a depthwise ``conv2d`` with ``groups = C``.
    """
    if not isinstance(x, torch.Tensor) or x.dim() != 4:
        shape = tuple(x.shape) if hasattr(x, "shape") else type(x).__name__
        raise ValueError(f"blur_pool2d expects x of shape (N, C, H, W), got {shape}")
    if not isinstance(stride, Integral) or isinstance(stride, bool) or stride < 1:
        raise ValueError(f"stride must be a positive int, got {stride!r}")
    kernel = binomial_kernel(kernel_size, dtype=x.dtype).to(x.device)
    padding = (kernel_size - 1) // 2 if padding is None else padding
    if not isinstance(padding, Integral) or isinstance(padding, bool) or padding < 0:
        raise ValueError(f"padding must be a non-negative int, got {padding!r}")
    channels = x.shape[1]
    weight = kernel.expand(channels, 1, kernel_size, kernel_size).contiguous()
    return conv2d(x, weight, stride=stride, padding=padding, groups=channels)


# --------------------------------------------------------------------------- nn.Modules


class Conv2d(nn.Module):
    """Drop-in for ``torch.nn.Conv2d`` built on ``conv2d``: same arguments, parameter names
    (``weight`` (K, C / groups, kh, kw), ``bias`` (K,)) and default initialisation
    (Kaiming-uniform with a = sqrt(5), bias uniform in +-1/sqrt(fan_in)).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None):
        super().__init__()
        if not isinstance(groups, int) or groups < 1:
            raise ValueError(f"groups must be a positive int, got {groups!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"groups={groups} must divide in_channels={in_channels} and "
                             f"out_channels={out_channels}")
        if padding_mode != "zeros":
            raise ValueError(f"only padding_mode='zeros' is implemented, got {padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = _pair(stride, "stride")
        self.dilation = _pair(dilation, "dilation")
        _conv_padding(padding, self.kernel_size, self.stride, self.dilation)  # validates
        self.padding = padding if isinstance(padding, str) else _pair(padding, "padding", 0)
        self.padding_mode = padding_mode
        factory = {"device": device, "dtype": dtype}
        self.weight = nn.Parameter(torch.empty(
            (out_channels, in_channels // groups, *self.kernel_size), **factory))
        if bias:
            self.bias = nn.Parameter(torch.empty(out_channels, **factory))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch.nn.Conv2d's initialisation, in the same order (same seed, same weights)."""
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * self.weight.shape[2] * self.weight.shape[3]
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                      self.groups)

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}")
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        return text + ("" if self.bias is not None else ", bias=False")


def _only_default(name: str, **given) -> None:
    """ValueError for torch.nn pooling options the from-scratch modules do not implement."""
    defaults = {"dilation": 1, "return_indices": False, "ceil_mode": False,
                "divisor_override": None}
    for key, value in given.items():
        if value != defaults[key]:
            raise ValueError(f"{name}: {key}={value!r} is not implemented (only "
                             f"{defaults[key]!r})")


class MaxPool2d(nn.Module):
    """Drop-in for ``torch.nn.MaxPool2d`` built on ``max_pool2d`` (stride defaults to kernel)."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False):
        super().__init__()
        _only_default("MaxPool2d", dilation=dilation, return_indices=return_indices,
                      ceil_mode=ceil_mode)
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return max_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(nn.Module):
    """Drop-in for ``torch.nn.AvgPool2d`` built on ``avg_pool2d`` (stride defaults to kernel)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override=None):
        super().__init__()
        _only_default("AvgPool2d", ceil_mode=ceil_mode, divisor_override=divisor_override)
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.count_include_pad = padding, count_include_pad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
