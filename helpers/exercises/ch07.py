"""Chapter 7 exercises: residual networks.

====  ==============================================  ===========================================
7.1   ``shortcut_params(in_channels, out_channels,     trainable parameters of a block's shortcut
      stride=1)``
7.2   ``ResidualBlock(in_channels, out_channels,       the basic residual block as an nn.Module,
      stride=1)``                                      checked against the zoo's BasicBlock with
                                                       the same weights (layer names conv1, bn1,
                                                       conv2, bn2, shortcut)
7.3   ``batch_norm(x, weight, bias, running_mean,      batch normalisation of (N, C, H, W) in
      running_var, training, momentum=0.1,             training and evaluation mode -> (y, new
      eps=1e-5)``                                      running mean, new running variance), as
                                                       nn.BatchNorm2d
7.4   ``BottleneckBlock(in_channels, width,            the bottleneck block as an nn.Module,
      stride=1)``                                      checked against the zoo's Bottleneck
                                                       (conv1..3, bn1..3, shortcut)
====  ==============================================  ===========================================

The block checkers build the learner's module and the zoo's for each case, load the same random
weights and batch-norm statistics into both (``load_state_dict``: so the layer names must match
the zoo's), and compare the outputs in training and in evaluation mode.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from helpers.exercises.core import Case, Exercise, Mistake, checker
from helpers.models.resnet import BasicBlock, Bottleneck

__all__ = ["check_batch_norm", "check_bottleneck_block", "check_residual_block",
           "check_shortcut_params"]


# --------------------------------------------------------------------------- 7.1 shortcut size

def shortcut_params(in_channels, out_channels, stride=1):
    """Trainable parameters of the shortcut of a block from ``in_channels`` to
    ``out_channels`` with ``stride`` (an int)."""
    if stride == 1 and in_channels == out_channels:
        return 0
    return in_channels * out_channels + 2 * out_channels


def _shortcut_cases(rng) -> list[Case]:
    cases = [Case((16, 16), label="same shape: identity"),
             Case((16, 32, 2), label="stage 2 of a CIFAR ResNet"),
             Case((64, 128, 2), label="ResNet-18, layer 2"),
             Case((64, 64, 2), label="stride 2, same channels"),
             Case((3, 16, 1), label="channels change, stride 1"),
             Case((256, 256), label="identity"),
             Case((64, 256, 1), label="ResNet-50, first bottleneck")]
    for _ in range(4):
        c_in, c_out = (int(v) for v in rng.integers(1, 300, size=2))
        cases.append(Case((c_in, c_out, int(rng.integers(1, 3)))))
    return cases


SHORTCUT_PARAMS = Exercise(
    number="7.1", title="Parameters of a shortcut", reference=shortcut_params,
    cases=_shortcut_cases,
    mistakes=[
        Mistake("you always counted a projection; when neither the channels nor the size change "
                "the shortcut is the identity and has no parameters at all.",
                lambda c_in, c_out, stride=1: c_in * c_out + 2 * c_out),
        Mistake("a stride-2 block halves H and W, so its shortcut must downsample too: project "
                "whenever `stride != 1` OR the channels change.",
                lambda c_in, c_out, stride=1: 0 if c_in == c_out else c_in * c_out + 2 * c_out),
        Mistake("the BatchNorm after the 1×1 conv is missing: it adds a scale γ and a shift β per "
                "output channel (2·out_channels).",
                lambda c_in, c_out, stride=1: 0 if stride == 1 and c_in == c_out
                else c_in * c_out),
        Mistake("you counted the BatchNorm's running mean and variance; they are buffers, updated "
                "by averaging, not trained parameters — only γ and β count.",
                lambda c_in, c_out, stride=1: 0 if stride == 1 and c_in == c_out
                else c_in * c_out + 4 * c_out),
        Mistake("the projection conv has no bias (the BatchNorm's β plays that role); count only "
                "its in·out weights.",
                lambda c_in, c_out, stride=1: 0 if stride == 1 and c_in == c_out
                else c_in * c_out + 3 * c_out),
        Mistake("the projection is a 1×1 convolution: one weight per (input, output) channel "
                "pair, not 3×3 = 9.",
                lambda c_in, c_out, stride=1: 0 if stride == 1 and c_in == c_out
                else 9 * c_in * c_out + 2 * c_out),
    ],
)
check_shortcut_params = checker(SHORTCUT_PARAMS, "check_shortcut_params")


# --------------------------------------------------------------------------- blocks, compared

def _random_state(module: nn.Module) -> dict[str, torch.Tensor]:
    """Random weights, batch-norm scales, shifts and running statistics for ``module``'s
    state_dict (the same on every call), so that every layer matters."""
    g = torch.Generator().manual_seed(7)
    state = {}
    for name, value in module.state_dict().items():
        if name.endswith("num_batches_tracked"):
            state[name] = value.clone()
        elif name.endswith("running_var"):
            state[name] = torch.rand(value.shape, generator=g) + 0.5
        elif name.endswith("running_mean"):
            state[name] = 0.3 * torch.randn(value.shape, generator=g)
        elif name.endswith("weight") and value.dim() == 1:          # BN scale gamma
            state[name] = torch.rand(value.shape, generator=g) + 0.5
        elif name.endswith("bias") and value.dim() == 1:            # BN shift beta
            state[name] = 0.3 * torch.randn(value.shape, generator=g)
        else:                                                         # conv weights
            fan_in = value[0].numel()
            state[name] = torch.randn(value.shape, generator=g) * (2.0 / fan_in) ** 0.5
    return state


def _probe(module: nn.Module, state, in_channels: int):
    """Outputs (training mode, then evaluation mode) for a fixed input, or the error raised."""
    g = torch.Generator().manual_seed(11)
    x = torch.randn(2, in_channels, 8, 8, generator=g)
    module = copy.deepcopy(module)
    try:
        module.load_state_dict(state)
        with torch.no_grad():
            train = module.train()(x.clone())
            evaluation = module.eval()(x.clone())
        return train, evaluation
    except Exception as error:          # noqa: BLE001 -- reported to the learner
        return f"{type(error).__name__}: {str(error).splitlines()[0][:120]}"


def _shapes(module: nn.Module) -> dict[str, tuple]:
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def _compare_blocks(got, expected) -> str | None:
    """None if ``got`` (a module) has ``expected``'s layers and computes the same outputs."""
    if not isinstance(got, nn.Module):
        return (f"your class should build an nn.Module (subclass nn.Module and call "
                f"super().__init__()), got {type(got).__name__}")
    want, have = _shapes(expected), _shapes(got)
    if want != have:
        missing = [k for k in want if k not in have]
        unexpected = [k for k in have if k not in want]
        wrong = [f"{k} {have[k]} (expected {want[k]})" for k in want
                 if k in have and have[k] != want[k]]
        parts = ([f"missing {', '.join(missing[:4])}"] if missing else []) + \
                ([f"unexpected {', '.join(unexpected[:4])}"] if unexpected else []) + \
                ([f"wrong shape {', '.join(wrong[:3])}"] if wrong else [])
        return "its weights do not match the zoo's block: " + "; ".join(parts)
    c_in = next(m for m in expected.modules() if isinstance(m, nn.Conv2d)).in_channels
    state = _random_state(expected)
    mine, ref = _probe(got, state, c_in), _probe(expected, state, c_in)
    if isinstance(mine, str) or isinstance(ref, str):
        if isinstance(mine, str) and isinstance(ref, str) and mine.split(":")[0] == \
                ref.split(":")[0]:
            return None
        return (f"called on a (2, {c_in}, 8, 8) input with the zoo's weights, your block raised "
                f"{mine}" if isinstance(mine, str) else "the reference raised " + ref)
    for mode, a, b in (("training", mine[0], ref[0]), ("evaluation", mine[1], ref[1])):
        if a.shape != b.shape:
            return f"output shape {tuple(a.shape)} in {mode} mode, expected {tuple(b.shape)}"
        if not torch.allclose(a, b, rtol=1e-4, atol=1e-5):
            return (f"with the zoo's weights its output in {mode} mode differs by up to "
                    f"{(a - b).abs().max().item():.3g}")
    return None


class _Variant(nn.Module):
    """Wrong versions of the basic block, as learners write them (for the Mistakes)."""

    def __init__(self, in_channels, out_channels, stride=1, *, relu="after", project="shape",
                 shortcut_bn=True, stride_at=1, inner_relu=True):
        super().__init__()
        s1, s2 = (stride, 1) if stride_at == 1 else (1, stride)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, s1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, s2, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        needs = {"shape": stride != 1 or in_channels != out_channels,
                 "channels": in_channels != out_channels, "never": False}[project]
        layers = [nn.Conv2d(in_channels, out_channels, 1, stride, bias=False)]
        if shortcut_bn:
            layers.append(nn.BatchNorm2d(out_channels))
        self.shortcut = nn.Sequential(*layers) if needs else nn.Identity()
        self.relu, self.inner_relu = relu, inner_relu

    def forward(self, x):
        out = self.bn1(self.conv1(x))
        out = self.bn2(self.conv2(torch.relu(out) if self.inner_relu else out))
        if self.relu == "before":
            return torch.relu(out) + self.shortcut(x)
        if self.relu == "both":
            return torch.relu(torch.relu(out) + self.shortcut(x))
        if self.relu == "overwritten":          # x = ...; shortcut(x) of the overwritten x
            return torch.relu(out + self.shortcut(out))
        out = out + self.shortcut(x)
        return torch.relu(out) if self.relu == "after" else out


# --------------------------------------------------------------------------- 7.2 basic block

class ResidualBlock(BasicBlock):
    """The basic residual block: (N, in_channels, H, W) -> (N, out_channels, H', W'),
    H' = (H - 1) // stride + 1; layers conv1, bn1, conv2, bn2 and shortcut."""

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__(in_channels=in_channels, out_channels=out_channels, stride=stride)


def _block_cases(rng) -> list[Case]:
    return [Case((8, 8), label="same shape: identity shortcut"),
            Case((8, 16, 2), label="stride 2, channels doubled"),
            Case((8, 8, 2), label="stride 2, same channels"),
            Case((4, 8, 1), label="channels change, stride 1"),
            Case((6, 6, 1), label="identity")]


RESIDUAL_BLOCK = Exercise(
    number="7.2", title="A residual block", reference=ResidualBlock, cases=_block_cases,
    compare=_compare_blocks, time_limit=20.0,
    mistakes=[
        Mistake("the ReLU comes before the addition in your block; the block adds first and "
                "applies one ReLU to the sum, relu(F(x) + shortcut(x)) — a ReLU on F alone "
                "makes every update to the identity path non-negative.",
                lambda i, o, s=1: _Variant(i, o, s, relu="before")),
        Mistake("you applied a ReLU to F(x) before the addition AND to the sum; the block "
                "has ONE ReLU after the addition, relu(F(x) + shortcut(x)), so negative values "
                "of F can cancel the identity path.",
                lambda i, o, s=1: _Variant(i, o, s, relu="both")),
        Mistake("your shortcut reads the overwritten `x`: after `x = self.bn2(self.conv2(...))` "
                "the input is gone. Keep the input in its own name (`out = ...`, or "
                "`identity = x` first) and add shortcut(identity).",
                lambda i, o, s=1: _Variant(i, o, s, relu="overwritten")),
        Mistake("the final ReLU is missing: this block (the chapter's, He et al. 2016) returns "
                "relu(F(x) + shortcut(x)), not the bare sum (that is the pre-activation "
                "block's output).", lambda i, o, s=1: _Variant(i, o, s, relu="none")),
        Mistake("there is no projection where the shape changes: when the stride is not 1 or "
                "the channels change, x and F(x) differ in shape and the shortcut must be a "
                "1×1 convolution (with the stride) followed by batch norm.",
                lambda i, o, s=1: _Variant(i, o, s, project="never")),
        Mistake("a stride-2 block halves H and W, so its shortcut must downsample too: project "
                "whenever the stride is not 1 OR the channels change.",
                lambda i, o, s=1: _Variant(i, o, s, project="channels")),
        Mistake("the projection has no batch norm: the zoo's shortcut is a 1×1 conv followed "
                "by nn.BatchNorm2d, like every conv in the block.",
                lambda i, o, s=1: _Variant(i, o, s, shortcut_bn=False)),
        Mistake("the stride belongs to the FIRST 3×3 convolution (conv1); yours sits in conv2, "
                "which gives the right shape but different outputs.",
                lambda i, o, s=1: _Variant(i, o, s, stride_at=2)),
        Mistake("the ReLU between the two convolutions is missing: F(x) = bn2(conv2(relu(bn1("
                "conv1(x))))); without it the two convs collapse into one linear map.",
                lambda i, o, s=1: _Variant(i, o, s, inner_relu=False)),
    ],
)
check_residual_block = checker(RESIDUAL_BLOCK, "check_residual_block")


# --------------------------------------------------------------------------- 7.3 batch norm

def batch_norm(x, weight, bias, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    """Batch normalisation of ``x`` (N, C, H, W) with per-channel ``weight``, ``bias``,
    ``running_mean`` and ``running_var`` (C,) -> ``(y, new_running_mean, new_running_var)``,
    as ``nn.BatchNorm2d`` computes them."""
    if training:
        mean = x.mean(dim=(0, 2, 3))
        var = x.var(dim=(0, 2, 3), unbiased=False)
        m = x.numel() // x.shape[1]
        new_mean = (1 - momentum) * running_mean + momentum * mean
        new_var = (1 - momentum) * running_var + momentum * var * m / (m - 1)
    else:
        mean, var, new_mean, new_var = running_mean, running_var, running_mean, running_var
    x_hat = (x - mean[None, :, None, None]) / torch.sqrt(var[None, :, None, None] + eps)
    return (weight[None, :, None, None] * x_hat + bias[None, :, None, None],
            new_mean.clone(), new_var.clone())


def _bn_cases(rng) -> list[Case]:
    g = torch.Generator().manual_seed(int(rng.integers(2**31)))
    cases = []
    for training, (n, c, h, w), label in ((True, (4, 3, 5, 5), "training"),
                                          (True, (2, 2, 2, 3), "training, few values"),
                                          (False, (3, 3, 4, 4), "evaluation"),
                                          (True, (8, 4, 3, 3), "training"),
                                          (False, (2, 2, 5, 5), "evaluation")):
        x = 2 * torch.randn(n, c, h, w, generator=g) + 1
        args = (x, torch.rand(c, generator=g) + 0.5, torch.randn(c, generator=g),
                torch.randn(c, generator=g), torch.rand(c, generator=g) + 0.5, training)
        cases.append(Case(args, label=label))
    cases.append(Case(cases[0].args, {"momentum": 0.3, "eps": 1e-3}, label="momentum 0.3"))
    return cases


def _bn_variant(x, weight, bias, running_mean, running_var, training, momentum=0.1, eps=1e-5, *,
                biased_running=False, batch_in_eval=False, swapped=False, per_sample=False,
                unbiased_norm=False, eps_outside=False, dims_=None, update_in_eval=False):
    """Wrong batch norms as learners write them (for the Mistakes)."""
    use_batch = training or batch_in_eval
    if use_batch:
        dims = (2, 3) if per_sample else (dims_ or (0, 2, 3))
        mean = x.mean(dim=dims, keepdim=True)
        var = x.var(dim=dims, keepdim=True, unbiased=unbiased_norm)
    else:
        mean, var = running_mean[None, :, None, None], running_var[None, :, None, None]
    if training or update_in_eval:
        bm, bv = x.mean(dim=(0, 2, 3)), x.var(dim=(0, 2, 3), unbiased=not biased_running)
        keep = momentum if swapped else 1 - momentum
        new_mean = keep * running_mean + (1 - keep) * bm
        new_var = keep * running_var + (1 - keep) * bv
    else:
        new_mean, new_var = running_mean.clone(), running_var.clone()
    x_hat = (x - mean) / (var.sqrt() + eps if eps_outside else torch.sqrt(var + eps))
    return weight[None, :, None, None] * x_hat + bias[None, :, None, None], new_mean, new_var


BATCH_NORM = Exercise(
    number="7.3", title="Batch normalisation from scratch", reference=batch_norm,
    cases=_bn_cases, allow_inplace=True, rtol=1e-4, atol=1e-5,
    mistakes=[
        Mistake("the running variance is updated with the biased batch variance (divided by m); "
                "nn.BatchNorm2d normalises with the biased one but stores the UNBIASED estimate "
                "(divided by m - 1, m = N·H·W) in running_var.",
                lambda *a, **k: _bn_variant(*a, **k, biased_running=True)),
        Mistake("in evaluation mode you normalised with the batch's statistics; evaluation uses "
                "running_mean and running_var (so a prediction does not depend on the rest of "
                "the batch) and leaves them unchanged.",
                lambda *a, **k: _bn_variant(*a, **k, batch_in_eval=True)),
        Mistake("the momentum weights the NEW batch statistic: running = (1 - momentum) · "
                "running + momentum · batch; yours is the other way round.",
                lambda *a, **k: _bn_variant(*a, **k, swapped=True)),
        Mistake("you normalised each image separately (statistics over H and W only); batch "
                "norm takes each channel's statistics over the batch AND the positions, "
                "dims (0, 2, 3).", lambda *a, **k: _bn_variant(*a, **k, per_sample=True)),
        Mistake("the output is normalised with the unbiased variance; nn.BatchNorm2d divides "
                "by m for the normalisation (unbiased=False) and uses m - 1 only for "
                "running_var.", lambda *a, **k: _bn_variant(*a, **k, unbiased_norm=True)),
        Mistake("eps goes inside the square root: (x - mean) / sqrt(var + eps).",
                lambda *a, **k: _bn_variant(*a, **k, eps_outside=True)),
        Mistake("your statistics are taken over the batch axis N only (dim=0); batch norm "
                "takes one mean and variance per CHANNEL, over N, H and W: dims (0, 2, 3).",
                lambda *a, **k: _bn_variant(*a, **k, dims_=(0,))),
        Mistake("your statistics are taken over C, H and W (one per image: that is layer "
                "norm); batch norm takes one per CHANNEL, over N, H and W: dims (0, 2, 3).",
                lambda *a, **k: _bn_variant(*a, **k, dims_=(1, 2, 3))),
        Mistake("your statistics are taken over N and H but not W; batch norm averages each "
                "channel over N, H AND W: dims (0, 2, 3).",
                lambda *a, **k: _bn_variant(*a, **k, dims_=(0, 2))),
        Mistake("you updated the running statistics in evaluation mode; in evaluation "
                "(`training` false) they must come back unchanged.",
                lambda *a, **k: _bn_variant(*a, **k, update_in_eval=True)),
    ],
)
check_batch_norm = checker(BATCH_NORM, "check_batch_norm")


# --------------------------------------------------------------------------- 7.4 bottleneck

class BottleneckBlock(Bottleneck):
    """The bottleneck block: (N, in_channels, H, W) -> (N, 4 * width, H', W'),
    H' = (H - 1) // stride + 1; layers conv1..conv3, bn1..bn3 and shortcut."""

    def __init__(self, in_channels, width, stride=1):
        super().__init__(in_channels=in_channels, width=width, stride=stride)


class _NeckVariant(nn.Module):
    """Wrong versions of the bottleneck (for the Mistakes)."""

    def __init__(self, in_channels, width, stride=1, *, stride_at=2, expansion=4,
                 project="shape", relu_on_branch=False, final_relu=True):
        super().__init__()
        out = width * expansion
        s = [1, 1, 1]
        s[stride_at - 1] = stride
        self.conv1 = nn.Conv2d(in_channels, width, 1, s[0], bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, s[1], 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out, 1, s[2], bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        needs = {"shape": stride != 1 or in_channels != out, "stride": stride != 1}[project]
        self.shortcut = (nn.Sequential(nn.Conv2d(in_channels, out, 1, stride, bias=False),
                                       nn.BatchNorm2d(out)) if needs else nn.Identity())
        self.relu_on_branch, self.final_relu = relu_on_branch, final_relu

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = torch.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.relu_on_branch:
            out = torch.relu(out)
        out = out + self.shortcut(x)
        return torch.relu(out) if self.final_relu else out


def _neck_cases(rng) -> list[Case]:
    return [Case((16, 4), label="4·width = in_channels: identity"),
            Case((8, 4), label="channels change, stride 1 (the first block of a network)"),
            Case((16, 4, 2), label="stride 2"),
            Case((16, 8, 2), label="stride 2, twice the width"),
            Case((32, 8), label="identity")]


BOTTLENECK_BLOCK = Exercise(
    number="7.4", title="A bottleneck block", reference=BottleneckBlock, cases=_neck_cases,
    compare=_compare_blocks, time_limit=20.0,
    mistakes=[
        Mistake("the stride sits in the first 1×1 conv (the 2015 paper's version); the zoo, like "
                "torchvision (\"ResNet v1.5\"), puts it in the 3×3 conv, which then sees every "
                "position instead of skipping three quarters of them.",
                lambda i, w, s=1: _NeckVariant(i, w, s, stride_at=1)),
        Mistake("the stride sits in the last 1×1 conv; it belongs to the 3×3 conv (conv2).",
                lambda i, w, s=1: _NeckVariant(i, w, s, stride_at=3)),
        Mistake("the block does not expand: its output has 4·width channels (conv3 and bn3 map "
                "width -> 4·width).", lambda i, w, s=1: _NeckVariant(i, w, s, expansion=1)),
        Mistake("the shortcut is projected only when the stride is 2; the output has 4·width "
                "channels, so a block whose input has a different number of channels needs a "
                "projection even at stride 1 (the first block of ResNet-50: 64 -> 256).",
                lambda i, w, s=1: _NeckVariant(i, w, s, project="stride")),
        Mistake("a ReLU follows bn3 before the addition; the block adds first and applies one "
                "ReLU to the sum.", lambda i, w, s=1: _NeckVariant(i, w, s, relu_on_branch=True)),
        Mistake("the final ReLU, after the sum, is missing.",
                lambda i, w, s=1: _NeckVariant(i, w, s, final_relu=False)),
    ],
)
check_bottleneck_block = checker(BOTTLENECK_BLOCK, "check_bottleneck_block")


EXERCISES = [SHORTCUT_PARAMS, RESIDUAL_BLOCK, BATCH_NORM, BOTTLENECK_BLOCK]
