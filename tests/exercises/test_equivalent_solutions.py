"""Right answers written differently from the reference pass: other algorithms (loops vs
vectorised, a closed form vs a recurrence) and other libraries (NumPy vs torch, einsum vs
matmul) where the exercise allows them. Every exercise has at least two.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from helpers.exercises import run_check
from helpers.models import cifar_resnet, small_cnn
from helpers.receptive_field import receptive_field
from helpers.summary import count_macs, count_parameters
from tests.exercises.harness import checkers_of
from tests.exercises.test_ch08 import (  # chapter 8's other right answers, written there
    fgsm_log_softmax,
    fgsm_sum_loss,
    gradcam_autograd_grad,
    gradcam_backward_module_hook,
    occlusion_batched,
    occlusion_unfold_positions,
    sanity_average_ranks_by_hand,
    sanity_numpy_pearson_of_ranks,
)

pytestmark = pytest.mark.usefixtures("one_thread")
CHECKERS = checkers_of()


# --------------------------------------------------------------------------- chapter 1

def dense_params_loop(in_features, out_features, bias=True):
    return sum(in_features + bias for _ in range(out_features))


def dense_params_shapes(in_features, out_features, bias=True):
    return math.prod((out_features, in_features)) + (out_features if bias else 0)


def image_to_vector_flatten(images):
    return images.reshape(len(images), int(np.prod(images.shape[1:])))


def image_to_vector_stack(images):
    rows = [image.reshape(-1) for image in images]
    return torch.stack(rows) if isinstance(images, torch.Tensor) else np.stack(rows)


def place_on_canvas_indices(digit, canvas_size, top, left):
    canvas = np.zeros_like(digit, shape=(canvas_size, canvas_size))
    rows, cols = np.indices(digit.shape)
    canvas[rows + top, cols + left] = digit
    return canvas


def place_on_canvas_pad(digit, canvas_size, top, left):
    h, w = digit.shape
    return np.pad(digit, ((top, canvas_size - h - top), (left, canvas_size - w - left)))


def _pairs(image, d):
    x = np.asarray(image, dtype=np.float64)
    return (np.concatenate([x[..., :-d].ravel(), x[..., :-d, :].ravel()]),
            np.concatenate([x[..., d:].ravel(), x[..., d:, :].ravel()]))


def correlation_corrcoef(image, d):
    return float(np.corrcoef(*_pairs(image, d))[0, 1])


def correlation_torch(image, d):
    a, b = (torch.from_numpy(p) for p in _pairs(image, d))
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / torch.sqrt((a * a).sum() * (b * b).sum()))


# --------------------------------------------------------------------------- chapter 2

def _as_pairs(*settings):
    return [s if isinstance(s, tuple) else (s, s) for s in settings]


def output_size_positions(height, width, kernel_size, stride=1, padding=0, dilation=1):
    """List the first tap's positions: those that keep the last tap inside the padded axis."""
    k, s, p, d = _as_pairs(kernel_size, stride, padding, dilation)
    return tuple(len(range(0, n + 2 * p[a] - d[a] * (k[a] - 1), s[a]))
                 for a, n in enumerate((height, width)))


def output_size_ceil(height, width, kernel_size, stride=1, padding=0, dilation=1):
    """The chapter's stride-1 count, then keep every s-th position: ⌈count / s⌉."""
    k, s, p, d = _as_pairs(kernel_size, stride, padding, dilation)
    return tuple(math.ceil((n + 2 * p[a] - d[a] * (k[a] - 1)) / s[a])
                 for a, n in enumerate((height, width)))


def by_hand_einsum():
    x = np.array([[[2, 0, 1], [1, 3, 0], [0, 1, 2]], [[1, 1, 0], [0, 2, 1], [3, 0, 1]]])
    w = np.array([[[[1, 0], [0, -1]], [[0, 1], [1, 0]]], [[[1, 1], [0, 0]], [[0, 0], [-1, 1]]]])
    windows = np.lib.stride_tricks.sliding_window_view(x, (2, 2), axis=(1, 2))  # (C, 2, 2, u, v)
    return np.einsum("cijuv,fcuv->fij", windows, w).astype(np.float64)


def by_hand_typed():
    return np.array([[[0.0, 2.0], [5.0, 2.0]], [[4.0, 0.0], [1.0, 4.0]]])


def conv2d_im2col_loops(x, w, b=None, stride=1, padding=0):
    n, k = x.shape[0], w.shape[0]
    kh, kw = w.shape[2:]
    xp = F.pad(x, (padding,) * 4)
    oh = (x.shape[2] + 2 * padding - kh) // stride + 1
    ow = (x.shape[3] + 2 * padding - kw) // stride + 1
    cols = torch.stack([xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
                        .flatten(1) for i in range(oh) for j in range(ow)], dim=2)  # (N, CKK, L)
    out = w.reshape(k, -1) @ cols                                                    # (N, K, L)
    if b is not None:
        out = out + b[:, None]
    return out.reshape(n, k, oh, ow)


def conv2d_im2col_strided(x, w, b=None, stride=1, padding=0):
    xp = F.pad(x, (padding,) * 4)
    kh, kw = w.shape[2:]
    windows = xp.unfold(2, kh, stride).unfold(3, kw, stride)            # (N, C, H', W', kh, kw)
    n, c, oh, ow = windows.shape[:4]
    cols = windows.permute(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kh * kw)
    out = cols @ w.reshape(w.shape[0], -1).T
    if b is not None:
        out = out + b
    return out.reshape(n, oh, ow, -1).permute(0, 3, 1, 2)


def diagonal_edge_sobel():
    return np.array([[-2.0, -1.0, 0.0], [-1.0, 0.0, 1.0], [0.0, 1.0, 2.0]])


def diagonal_edge_from_indices():
    i, j = np.indices((3, 3))
    return (i + j - 2).astype(np.float64)


# --------------------------------------------------------------------------- chapter 3

def max_pool_torch(x, kernel_size, stride=None):
    return F.max_pool2d(torch.from_numpy(x), kernel_size, stride).numpy()


def max_pool_windows(x, kernel_size, stride=None):
    s = stride or kernel_size
    windows = np.lib.stride_tricks.sliding_window_view(x, (kernel_size, kernel_size), axis=(2, 3))
    return windows[:, :, ::s, ::s].max(axis=(-2, -1))


def max_pool_backward_autograd(x, grad_out, kernel_size, stride=None):
    xt = torch.from_numpy(x).requires_grad_()
    F.max_pool2d(xt, kernel_size, stride).backward(torch.from_numpy(grad_out))
    return xt.grad.numpy()


def max_pool_backward_scatter(x, grad_out, kernel_size, stride=None):
    s, k = stride or kernel_size, kernel_size
    windows = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::s, ::s]
    u, v = np.divmod(windows.reshape(*windows.shape[:4], k * k).argmax(-1), k)
    n, c, i, j = np.indices(grad_out.shape)
    dx = np.zeros_like(x)
    np.add.at(dx, (n, c, i * s + u, j * s + v), grad_out)
    return dx


def stack_shapes_real_layers(input_shape, layers):
    x, shapes = torch.zeros(1, *input_shape), []
    for layer in layers:
        if layer[0] == "conv":
            _, k_out, k, s, p = layer
            x = torch.zeros(1, k_out, *F.conv2d(x[:, :1], torch.zeros(1, 1, k, k), stride=s,
                                                padding=p).shape[2:])
        else:
            x = F.max_pool2d(x, layer[1], layer[2])
        shapes.append(tuple(x.shape[1:]))
    return shapes


def stack_shapes_formula(input_shape, layers):
    c, h, w = input_shape
    shapes = []
    for kind, *rest in layers:
        c, k, s, p = rest if kind == "conv" else (c, *rest, 0)
        h, w = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        shapes.append((c, h, w))
    return shapes


def blur_downsample_loops(x):
    from tests.exercises.test_ch03 import BINOMIAL, _blur_loops
    return _blur_loops(x, BINOMIAL / 16)


def blur_downsample_torch(x):
    channels = x.shape[1]
    weight = torch.tensor([[1.0, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=torch.float64) / 16
    return F.conv2d(torch.from_numpy(x), weight.expand(channels, 1, 3, 3), stride=2, padding=1,
                    groups=channels).numpy()


# --------------------------------------------------------------------------- chapter 4

def activation_counts_shapes(input_shape, layers):
    """Keep the shape as a tuple; a pool or a conv maps (C, H, W) to the next (C, H, W)."""
    shape, counts = tuple(input_shape), []
    for kind, *settings in layers:
        if kind == "conv":
            k_out, k, p = settings
            shape = (k_out, *(n + 2 * p - k + 1 for n in shape[1:]))
        elif kind == "pool":
            shape = (shape[0], *(n // settings[0] for n in shape[1:]))
        else:
            shape = (settings[0],)
        counts.append(math.prod(shape))
    return counts


def activation_counts_formula(input_shape, layers):
    """Use the course's output-size formula (padding per side) for convs and pools alike."""
    from helpers.layers import conv_output_size
    c, h, w = input_shape
    counts = []
    for layer in layers:
        if layer[0] == "linear":
            c, h, w = layer[1], 1, 1
        else:
            k = layer[2] if layer[0] == "conv" else layer[1]
            stride, pad = (1, layer[3]) if layer[0] == "conv" else (layer[1], 0)
            c = layer[1] if layer[0] == "conv" else c
            h, w = (conv_output_size(n, k, stride, pad) for n in (h, w))
        counts.append(c * h * w)
    return counts


def conv_stack_parameters_modules(in_channels, layers):
    channels, total = in_channels, 0
    for out_channels, k in layers:
        total += sum(p.numel() for p in nn.Conv2d(channels, out_channels, k, device="meta")
                     .parameters())
        channels = out_channels
    return total


def conv_stack_parameters_zip(in_channels, layers):
    ins = [in_channels] + [k_out for k_out, _ in layers[:-1]]
    return sum(k_out * (k * k * c + 1) for c, (k_out, k) in zip(ins, layers))


def mean_aware_score_centred(w):
    from helpers.experiments.learned_filters import orientation_coherence
    centred = w - w.mean(axis=(1, 2, 3), keepdims=True)
    kept = (centred ** 2).sum(axis=(1, 2, 3)) / (w ** 2).sum(axis=(1, 2, 3))
    return orientation_coherence(w) * kept


def mean_aware_score_flat(w):
    from helpers.experiments.learned_filters import orientation_coherence
    flat = np.asarray(w, dtype=np.float64).reshape(len(w), -1)
    share = flat.sum(axis=1) ** 2 / flat.shape[1] / (flat ** 2).sum(axis=1)
    return np.array([orientation_coherence(f[None]) for f in w]).ravel() * (1 - share)


# --------------------------------------------------------------------------- chapter 5

def receptive_field_top_down(layers):
    r = 1
    for k, s in reversed(layers):
        r = s * r + (k - s)
    return r


def receptive_field_sum(layers):
    strides = [1] + [s for _, s in layers]
    return 1 + sum((k - 1) * math.prod(strides[:i + 1]) for i, (k, _) in enumerate(layers))


def resnet_layers_by_stage(blocks_per_stage, version):
    stride_at = 0 if version == "v1" else 1            # which of (1x1, 3x3, 1x1) strides
    layers = [(7, 2), (3, 2)]
    for stage, blocks in enumerate(blocks_per_stage):
        strides = [2 if stage else 1] + [1] * (blocks - 1)
        for s in strides:
            block = [(1, 1), (3, 1), (1, 1)]
            block[stride_at] = (block[stride_at][0], s)
            layers.extend(block)
    return layers


def resnet_layers_comprehension(blocks_per_stage, version):
    blocks = {"v1": lambda s: [(1, s), (3, 1), (1, 1)], "v1.5": lambda s: [(1, 1), (3, s), (1, 1)]}
    return [(7, 2), (3, 2)] + [layer for i, n in enumerate(blocks_per_stage) for b in range(n)
                               for layer in blocks[version](2 if i and not b else 1)]


def field_box_backwards(layers, i):
    first = last = i
    for k, s, p in reversed(layers):
        first, last = first * s - p, last * s - p + k - 1
    return first, last


def field_box_products(layers, i):
    jumps = [math.prod(s for _, s, _ in layers[:n]) for n in range(len(layers) + 1)]
    size = 1 + sum((k - 1) * jumps[n] for n, (k, _, _) in enumerate(layers))
    first = i * jumps[-1] - sum(p * jumps[n] for n, (_, _, p) in enumerate(layers))
    return first, first + size - 1


# --------------------------------------------------------------------------- chapter 6

def conv_macs_per_output(in_channels, out_channels, kernel_size, input_size, stride=1,
                         padding=0):
    outputs = len(range(0, input_size + 2 * padding - kernel_size + 1, stride)) ** 2
    return outputs * out_channels * (in_channels * kernel_size ** 2)


def conv_macs_meta(in_channels, out_channels, kernel_size, input_size, stride=1, padding=0):
    conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, device="meta")
    out = conv(torch.empty(1, in_channels, input_size, input_size, device="meta"))
    return conv.weight.numel() * out.shape[-1] * out.shape[-2]


def layer_costs_loop(model, input_size):
    costs = {}
    layers = {name: m for name, m in model.named_modules()
              if isinstance(m, (nn.Conv2d, nn.Linear))}
    outputs = {}
    handles = [m.register_forward_hook(lambda mod, i, o, n=n: outputs.__setitem__(n, o.shape))
               for n, m in layers.items()]
    model(torch.zeros((1, *input_size)))
    for h in handles:
        h.remove()
    for name, m in layers.items():
        per_output = m.weight[0].numel()          # C_in k k, or in_features
        n_out = int(torch.tensor(outputs[name]).prod())
        costs[name] = (sum(p.numel() for p in m.parameters()), n_out * per_output)
    return costs


def layer_costs_formula(model, input_size):
    from helpers.summary import count_macs
    macs = count_macs(model, input_size, by_layer=True)
    modules = dict(model.named_modules())
    return {n: (sum(p.numel() for p in modules[n].parameters()), m) for n, m in macs.items()}


def dropout_where(x, p, training=True, seed=0):
    if not training:
        return x
    u = torch.rand(x.shape, generator=torch.Generator().manual_seed(seed))
    return torch.where(u >= p, x / max(1 - p, 1e-12), torch.zeros_like(x))


def dropout_scale_first(x, p, training=True, seed=0):
    if not training:
        return x
    keep = torch.rand(x.size(), generator=torch.Generator().manual_seed(seed)) >= p
    scale = 0.0 if p >= 1 else 1 / (1 - p)
    return scale * x * keep.to(x.dtype)


def vgg_block_loop(in_channels, out_channels, num_convs):
    block = nn.Sequential()
    for i in range(num_convs):
        block.append(nn.Conv2d(out_channels if i else in_channels, out_channels, (3, 3),
                               padding="same"))
        block.append(nn.ReLU())
    block.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return block


class VGGBlockModule(nn.Module):
    def __init__(self, in_channels, out_channels, num_convs):
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Conv2d(c, out_channels, 3, padding=1)
            for c in [in_channels] + [out_channels] * (num_convs - 1))

    def forward(self, x):
        for conv in self.convs:
            x = torch.relu(conv(x))
        return nn.functional.max_pool2d(x, 2)


def shift_roll_and_zero(images, dy, dx):
    out = np.roll(images, (dy, dx), axis=(1, 2))
    if dy > 0:
        out[:, :dy] = 0
    elif dy < 0:
        out[:, dy:] = 0
    if dx > 0:
        out[:, :, :dx] = 0
    elif dx < 0:
        out[:, :, dx:] = 0
    return out


def shift_pad_and_crop(images, dy, dx):
    n, h, w = images.shape
    pad = np.pad(images, ((0, 0), (max(dy, 0), max(-dy, 0)), (max(dx, 0), max(-dx, 0))))
    top, left = max(-dy, 0), max(-dx, 0)
    return pad[:, top:top + h, left:left + w]


# --------------------------------------------------------------------------- chapter 7

def shortcut_params_module(in_channels, out_channels, stride=1):
    if stride == 1 and in_channels == out_channels:
        return 0
    shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=False,
                                       device="meta"), nn.BatchNorm2d(out_channels, device="meta"))
    return sum(p.numel() for p in shortcut.parameters())


def shortcut_params_expanded(in_channels, out_channels, stride=1):
    needs_projection = stride != 1 or in_channels != out_channels
    return needs_projection * out_channels * (in_channels + 2)


class ResidualBlockSequential(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        same = stride == 1 and in_channels == out_channels
        self.shortcut = nn.Identity() if same else nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
            nn.BatchNorm2d(out_channels))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return (self.bn2(self.conv2(out)) + self.shortcut(x)).clamp(min=0)


class ResidualBlockZoo(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        from helpers.models.resnet import BasicBlock
        block = BasicBlock(in_channels=in_channels, out_channels=out_channels, stride=stride)
        for name in ("conv1", "bn1", "conv2", "bn2", "shortcut"):
            setattr(self, name, getattr(block, name))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(torch.add(self.bn2(self.conv2(out)), self.shortcut(x)))


def batch_norm_functional(x, weight, bias, running_mean, running_var, training, momentum=0.1,
                          eps=1e-5):
    mean, var = running_mean.clone(), running_var.clone()
    y = F.batch_norm(x, mean, var, weight, bias, training, momentum, eps)
    return y, mean, var


def batch_norm_by_hand(x, weight, bias, running_mean, running_var, training, momentum=0.1,
                       eps=1e-5):
    c = x.shape[1]
    flat = x.transpose(0, 1).reshape(c, -1)
    if training:
        mean = flat.mean(1)
        centred = flat - mean[:, None]
        m = flat.shape[1]
        var = (centred ** 2).sum(1) / m
        running_mean = running_mean + momentum * (mean - running_mean)
        running_var = running_var + momentum * (var * m / (m - 1) - running_var)
    else:
        mean, var = running_mean, running_var
    y = (flat - mean[:, None]) * torch.rsqrt(var[:, None] + eps) * weight[:, None] \
        + bias[:, None]
    return y.reshape(c, x.shape[0], *x.shape[2:]).transpose(0, 1), running_mean, running_var


class BottleneckSequential(nn.Module):
    def __init__(self, in_channels, width, stride=1):
        super().__init__()
        out = 4 * width
        self.conv1, self.bn1 = nn.Conv2d(in_channels, width, 1, bias=False), nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3, self.bn3 = nn.Conv2d(width, out, 1, bias=False), nn.BatchNorm2d(out)
        self.shortcut = nn.Identity()
        if stride > 1 or in_channels != out:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out, 1, stride, bias=False),
                                          nn.BatchNorm2d(out))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        return F.relu(self.bn3(self.conv3(y)) + self.shortcut(x))


class BottleneckLoop(BottleneckSequential):
    def forward(self, x):
        y = x
        for conv, bn, last in ((self.conv1, self.bn1, False), (self.conv2, self.bn2, False),
                               (self.conv3, self.bn3, True)):
            y = bn(conv(y)) if last else F.relu(bn(conv(y)))
        return torch.clamp(y + self.shortcut(x), min=0)


# --------------------------------------------------------------------------- chapter 9

def patchify_unfold(images, patch_size):
    return F.unfold(images, patch_size, stride=patch_size).transpose(1, 2)


def patchify_loops(images, patch_size):
    n, c, h, w = images.shape
    p = patch_size
    tokens = [images[:, :, i:i + p, j:j + p].reshape(n, -1)
              for i in range(0, h, p) for j in range(0, w, p)]
    return torch.stack(tokens, dim=1)


def attention_einsum(q, k, v):
    scores = torch.einsum("...qd,...kd->...qk", q, k) / math.sqrt(q.shape[-1])
    return torch.einsum("...qk,...kv->...qv", scores.softmax(dim=-1), v)


def attention_stable_exp(q, k, v):
    scores = q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5
    weights = torch.exp(scores - scores.amax(dim=-1, keepdim=True))
    return weights / weights.sum(dim=-1, keepdim=True) @ v


def separable_params_modules(in_channels, out_channels, kernel_size, bias=True):
    depthwise = nn.Conv2d(in_channels, in_channels, kernel_size, groups=in_channels, bias=bias,
                          device="meta")
    pointwise = nn.Conv2d(in_channels, out_channels, 1, bias=bias, device="meta")
    return sum(p.numel() for m in (depthwise, pointwise) for p in m.parameters())


def separable_params_factored(in_channels, out_channels, kernel_size, bias=True):
    return in_channels * (kernel_size ** 2 + out_channels + bias) + bias * out_channels


# --------------------------------------------------------------------------- chapter 10

def mha_einsum(x, w_q, w_k, w_v, w_o, num_heads):
    n, t, d = x.shape
    q, k, v = (torch.einsum("ntd,de->nte", x, w).reshape(n, t, num_heads, -1)
               for w in (w_q, w_k, w_v))
    scores = torch.einsum("nqhe,nkhe->nhqk", q, k) / math.sqrt(d // num_heads)
    out = torch.einsum("nhqk,nkhe->nqhe", scores.softmax(-1), v)
    return out.reshape(n, t, d) @ w_o


def mha_head_loop(x, w_q, w_k, w_v, w_o, num_heads):
    dh = x.shape[-1] // num_heads
    heads = []
    for h in range(num_heads):
        cols = slice(h * dh, (h + 1) * dh)
        q, k, v = x @ w_q[:, cols], x @ w_k[:, cols], x @ w_v[:, cols]
        heads.append(torch.softmax(q @ k.transpose(1, 2) / dh ** 0.5, dim=-1) @ v)
    return torch.cat(heads, dim=-1) @ w_o


def stack_profile_by_layer(layers, in_channels, input_size):
    """Each layer's output size and cost first, then the sums."""
    sides, channels, costs, growth = [input_size], [in_channels], [], []
    for kind, *spec in layers:
        k, s, p = (spec[1], spec[2], spec[3]) if kind == "conv" else (spec[0], spec[1], 0)
        sides.append((sides[-1] + 2 * p - k) // s + 1)
        channels.append(spec[0] if kind == "conv" else channels[-1])
        weights = channels[-1] * channels[-2] * k * k if kind == "conv" else 0
        costs.append((weights + (channels[-1] if kind == "conv" else 0),
                      weights * sides[-1] ** 2))
        growth.append((k, s))
    field = 1 + sum((k - 1) * math.prod(s for _, s in growth[:i])
                    for i, (k, _) in enumerate(growth))
    return {"parameters": sum(c for c, _ in costs), "macs": sum(m for _, m in costs),
            "field": field}


def stack_profile_torch(layers, in_channels, input_size):
    """Build the stack with torch.nn on the meta device and ask the course's tools."""
    modules, c = [], in_channels
    with torch.device("meta"):
        for kind, *spec in layers:
            if kind == "conv":
                modules.append(nn.Conv2d(c, spec[0], spec[1], stride=spec[2], padding=spec[3]))
                c = spec[0]
            else:
                modules.append(nn.MaxPool2d(spec[0], stride=spec[1]))
        model = nn.Sequential(*modules)
    return {"parameters": count_parameters(model),
            "macs": count_macs(model, (in_channels, input_size, input_size)),
            "field": receptive_field(model).size}


def design_deeper_cnn(in_channels, image_size, num_classes):
    return small_cnn(channels=(4, 8, 8, 16), in_channels=in_channels, input_size=image_size,
                     num_classes=num_classes)


def design_small_resnet(in_channels, image_size, num_classes):
    return cifar_resnet(14, width=2, in_channels=in_channels, num_classes=num_classes)


def _stack_numbers_by_hand(layers, channels, side):
    params = macs = 0
    field, jump = 1, 1
    for kind, *spec in layers:
        k_out, k, s, p = spec if kind == "conv" else (channels, *spec, 0)
        side = (side + 2 * p - k) // s + 1
        if kind == "conv":
            params += k_out * (channels * k * k + 1)
            macs += k_out * channels * k * k * side * side
            channels = k_out
        field, jump = field + (k - 1) * jump, jump * s
    return {"parameters": params, "macs": macs, "field": field}


def choose_scaling_sorted(candidates, max_parameters, max_macs):
    """Every candidate measured by hand, sorted by multiply-adds, the first that fits."""
    measured = [(name, _stack_numbers_by_hand(*args), args[2]) for name, args in candidates.items()]
    for name, numbers, side in sorted(measured, key=lambda item: -item[1]["macs"]):
        if numbers["parameters"] <= max_parameters and numbers["macs"] <= max_macs and \
                numbers["field"] >= side:
            return {"choice": name, **numbers}
    return None


def choose_scaling_tools(candidates, max_parameters, max_macs):
    """Each stack built from torch.nn on the meta device and measured with the course's tools."""
    fits = {}
    for name, (layers, channels, side) in candidates.items():
        modules, c = [], channels
        for kind, *spec in layers:
            modules.append(nn.Conv2d(c, *spec, device="meta") if kind == "conv"
                           else nn.MaxPool2d(*spec))
            c = spec[0] if kind == "conv" else c
        net = nn.Sequential(*modules)
        numbers = {"parameters": count_parameters(net),
                   "macs": count_macs(net, (channels, side, side)),
                   "field": receptive_field(net).size}
        if numbers["parameters"] <= max_parameters and numbers["macs"] <= max_macs and \
                numbers["field"] >= side:
            fits[name] = numbers
    best = max(fits, key=lambda name: fits[name]["macs"])
    return {"choice": best, **fits[best]}


EQUIVALENTS = {
    "1.1": [dense_params_loop, dense_params_shapes],
    "1.2": [image_to_vector_flatten, image_to_vector_stack],
    "1.3": [place_on_canvas_indices, place_on_canvas_pad],
    "1.4": [correlation_corrcoef, correlation_torch],
    "2.1": [output_size_positions, output_size_ceil],
    "2.2": [by_hand_einsum, by_hand_typed],
    "2.3": [conv2d_im2col_loops, conv2d_im2col_strided],
    "2.4": [diagonal_edge_sobel, diagonal_edge_from_indices],
    "3.1": [max_pool_torch, max_pool_windows],
    "3.2": [max_pool_backward_autograd, max_pool_backward_scatter],
    "3.3": [stack_shapes_real_layers, stack_shapes_formula],
    "3.4": [blur_downsample_loops, blur_downsample_torch],
    "4.1": [activation_counts_shapes, activation_counts_formula],
    "4.2": [conv_stack_parameters_modules, conv_stack_parameters_zip],
    "4.3": [mean_aware_score_centred, mean_aware_score_flat],
    "5.1": [receptive_field_top_down, receptive_field_sum],
    "5.2": [resnet_layers_by_stage, resnet_layers_comprehension],
    "5.3": [field_box_backwards, field_box_products],
    "6.1": [conv_macs_per_output, conv_macs_meta],
    "6.2": [layer_costs_loop, layer_costs_formula],
    "6.3": [dropout_where, dropout_scale_first],
    "6.4": [shift_roll_and_zero, shift_pad_and_crop],
    "6.5": [vgg_block_loop, VGGBlockModule],
    "7.1": [shortcut_params_module, shortcut_params_expanded],
    "7.2": [ResidualBlockSequential, ResidualBlockZoo],
    "7.3": [batch_norm_functional, batch_norm_by_hand],
    "7.4": [BottleneckSequential, BottleneckLoop],
    "8.1": [occlusion_batched, occlusion_unfold_positions],
    "8.2": [gradcam_backward_module_hook, gradcam_autograd_grad],
    "8.3": [sanity_average_ranks_by_hand, sanity_numpy_pearson_of_ranks],
    "8.4": [fgsm_sum_loss, fgsm_log_softmax],
    "9.1": [patchify_unfold, patchify_loops],
    "9.2": [attention_einsum, attention_stable_exp],
    "9.3": [separable_params_modules, separable_params_factored],
    "9.4": [mha_einsum, mha_head_loop],
    "10.1": [stack_profile_by_layer, stack_profile_torch],
    "10.2": [design_deeper_cnn, design_small_resnet],
    "10.3": [choose_scaling_sorted, choose_scaling_tools],
}


def test_every_exercise_has_two_other_right_answers():
    assert sorted(EQUIVALENTS) == sorted(CHECKERS)
    assert all(len(solutions) >= 2 for solutions in EQUIVALENTS.values())


@pytest.mark.parametrize("number, solution",
                         [(n, s) for n, solutions in EQUIVALENTS.items() for s in solutions],
                         ids=[s.__name__ for solutions in EQUIVALENTS.values() for s in solutions])
def test_another_right_answer_passes(number, solution):
    verdict = run_check(CHECKERS[number].exercise, solution)
    assert verdict.passed, verdict.message
