"""Chapter 7 exercises: residual networks.

====  ===============================================  ==========================================
7.1   ``residual_forward(x, residual, shortcut=None)``  ``relu(residual(x) + s(x))`` with
                                                        ``s = shortcut`` or the identity;
                                                        ``(N, C, H, W)`` tensors
7.2   ``shortcut_params(in_channels, out_channels,      parameters of a block's shortcut: 0 for
      stride=1)``                                       the identity, else a 1×1 conv (no bias)
                                                        + BatchNorm (γ and β)
7.3   ``gradient_factor(derivatives, residual=True)``   the chain rule through blocks with
                                                        scalar slopes d_i: ∏(1 + d_i) with
                                                        shortcuts, ∏ d_i without
7.4   ``count_weight_layers(model)``                    Conv2d + Linear modules, without the
                                                        projection convs of the shortcuts
====  ===============================================  ==========================================
"""
from __future__ import annotations

import torch
from torch import nn

from helpers.exercises.core import Case, Exercise, Mistake, checker
from helpers.models import cifar_resnet, lenet5, plain_net, small_cnn, small_vgg
from helpers.models.resnet import projection_shortcut

__all__ = ["check_count_weight_layers", "check_gradient_factor", "check_residual_forward",
           "check_shortcut_params"]


# --------------------------------------------------------------------------- 7.1 forward pass

def residual_forward(x, residual, shortcut=None):
    """relu(F(x) + x), or relu(F(x) + shortcut(x)) when a shortcut module is given:
    (N, C, H, W) -> (N, C', H', W'), the shape of F(x)."""
    skip = x if shortcut is None else shortcut(x)
    return torch.relu(residual(x) + skip)


def _branch(c_in: int, c_out: int, stride: int, generator: torch.Generator) -> nn.Module:
    """A residual branch F: conv 3x3, BN, ReLU, conv 3x3, BN (eval mode, random statistics)."""
    branch = nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out),
                           nn.ReLU(), nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False),
                           nn.BatchNorm2d(c_out))
    _randomise(branch, generator)
    return branch.eval()


def _randomise(module: nn.Module, generator: torch.Generator) -> None:
    """Random weights and BN statistics, so that F(x) has both signs."""
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=generator) * 0.3)
        for m in module.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=generator) * 0.2)
                m.running_var.copy_(torch.rand(m.num_features, generator=generator) + 0.5)


def _forward_cases(rng) -> list[Case]:
    g = torch.Generator().manual_seed(int(rng.integers(2**31)))
    cases = []
    for n, c, hw in ((2, 4, 6), (1, 3, 5), (3, 2, 4)):
        cases.append(Case((torch.randn(n, c, hw, hw, generator=g), _branch(c, c, 1, g)),
                          label="identity shortcut"))
    same = projection_shortcut(in_channels=4, out_channels=8, stride=1)
    _randomise(same, g)
    cases.append(Case((torch.randn(2, 4, 6, 6, generator=g), _branch(4, 8, 1, g), same.eval()),
                      label="projection, channels 4 -> 8"))
    down = projection_shortcut(in_channels=3, out_channels=6, stride=2)
    _randomise(down, g)
    cases.append(Case((torch.randn(2, 3, 8, 8, generator=g), _branch(3, 6, 2, g), down.eval()),
                      label="projection, stride 2"))
    return cases


def _relu_before_add(x, residual, shortcut=None):
    skip = x if shortcut is None else shortcut(x)
    return torch.relu(residual(x)) + skip


def _no_relu(x, residual, shortcut=None):
    return residual(x) + (x if shortcut is None else shortcut(x))


def _no_shortcut(x, residual, shortcut=None):
    return torch.relu(residual(x))


def _relu_on_both(x, residual, shortcut=None):
    skip = x if shortcut is None else shortcut(x)
    return torch.relu(residual(x)) + torch.relu(skip)


RESIDUAL_FORWARD = Exercise(
    number="7.1", title="The forward pass of a residual block", reference=residual_forward,
    cases=_forward_cases, shape_hint="the shape of residual(x)",
    mistakes=[
        Mistake("you applied the ReLU to F(x) before adding the shortcut; the block adds first "
                "and applies the ReLU to the sum: `relu(F(x) + x)`.", _relu_before_add),
        Mistake("the final ReLU is missing: the block returns `relu(F(x) + x)`, not the bare "
                "sum.", _no_relu),
        Mistake("you left out the shortcut, so this is a plain block: add `x` (or `shortcut(x)` "
                "when a shortcut is given) to F(x) before the ReLU.", _no_shortcut),
        Mistake("you applied ReLUs to F(x) and to the shortcut separately and then added them; "
                "there is one ReLU, after the sum.", _relu_on_both),
    ],
)
check_residual_forward = checker(RESIDUAL_FORWARD, "check_residual_forward")


# --------------------------------------------------------------------------- 7.2 shortcut size

def shortcut_params(in_channels, out_channels, stride=1):
    """0 for an identity shortcut; else a 1×1 conv without bias (in·out weights) and a
    BatchNorm with a scale γ and a shift β per output channel (2·out)."""
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
    number="7.2", title="Parameters of a shortcut", reference=shortcut_params,
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


# --------------------------------------------------------------------------- 7.3 chain rule

def gradient_factor(derivatives, residual=True):
    """dL/dx_0 = dL/dx_L · prod(1 + d_i) through residual blocks, · prod(d_i) through plain
    ones, where d_i is block i's slope dF_i/dx (scalars)."""
    factor = 1.0
    for d in derivatives:
        factor *= (1.0 + d) if residual else d
    return factor


def _factor_cases(rng) -> list[Case]:
    cases = [Case(([0.5] * 10,), label="ten blocks of slope 0.5"),
             Case(([0.5] * 10,), {"residual": False}, label="the same without shortcuts"),
             Case(([0.1, -0.2, 0.3],)),
             Case(([0.1, -0.2, 0.3],), {"residual": False}),
             Case(([0.0] * 5,), label="blocks that learned F = 0"),
             Case(([2.0],), {"residual": False}, label="one block"),
             Case(([],), label="no blocks")]
    for residual in (True, False, True):
        slopes = [round(float(v), 3) for v in rng.uniform(-0.5, 1.5, size=int(rng.integers(2, 30)))]
        cases.append(Case((slopes,), {"residual": residual}))
    return cases


def _product(values) -> float:
    out = 1.0
    for v in values:
        out *= v
    return out


GRADIENT_FACTOR = Exercise(
    number="7.3", title="The chain rule through residual blocks", reference=gradient_factor,
    cases=_factor_cases,
    mistakes=[
        Mistake("you added the factors; the chain rule MULTIPLIES the slopes of the blocks the "
                "gradient passes through.",
                lambda ds, residual=True: sum((1.0 + d) if residual else d for d in ds)),
        Mistake("with shortcuts each block contributes (1 + d_i); you multiplied the bare d_i, "
                "which is the plain network's factor.",
                lambda ds, residual=True: _product(ds)),
        Mistake("you added the 1 once, to the whole product: each block has its own shortcut, "
                "so the factor is ∏(1 + d_i), not 1 + ∏ d_i.",
                lambda ds, residual=True: (1.0 + _product(ds)) if residual else _product(ds)),
        Mistake("`residual=False` was ignored: without shortcuts there is no + 1, the factor is "
                "∏ d_i.",
                lambda ds, residual=True: _product(1.0 + d for d in ds)),
        Mistake("your product starts at 0, so it stays 0; start it at 1 (`factor = 1.0`), the "
                "factor of no blocks at all.", lambda ds, residual=True: 0.0),
    ],
)
check_gradient_factor = checker(GRADIENT_FACTOR, "check_gradient_factor")


# --------------------------------------------------------------------------- 7.4 depth

def count_weight_layers(model):
    """Conv2d and Linear modules of ``model``, except those inside a shortcut (names containing
    'shortcut'): the layers a ResNet's name counts."""
    return sum(1 for name, m in model.named_modules()
               if isinstance(m, (nn.Conv2d, nn.Linear)) and "shortcut" not in name)


def _depth_cases(rng) -> list[Case]:
    torch.manual_seed(int(rng.integers(2**31)))
    return [Case((cifar_resnet(8, width=4),), label="ResNet-8"),
            Case((cifar_resnet(20, width=4),), label="ResNet-20"),
            Case((plain_net(14, width=4),), label="plain 14"),
            Case((lenet5(),), label="LeNet-5"),
            Case((small_vgg(channels=(4, 8), hidden=16),), label="small VGG"),
            Case((small_cnn(channels=(4, 8)),), label="small CNN"),
            Case((cifar_resnet(32, width=2),), label="ResNet-32")]


def _all_convs_and_linears(model):
    return sum(1 for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))


def _convs_only(model):
    return sum(1 for name, m in model.named_modules()
               if isinstance(m, nn.Conv2d) and "shortcut" not in name)


def _with_norms(model):
    return sum(1 for name, m in model.named_modules()
               if isinstance(m, (nn.Conv2d, nn.Linear, nn.BatchNorm2d)) and "shortcut" not in name)


def _children_only(model):
    return sum(1 for m in model.children() if isinstance(m, (nn.Conv2d, nn.Linear)))


COUNT_WEIGHT_LAYERS = Exercise(
    number="7.4", title="Count the layers in a network's name", reference=count_weight_layers,
    cases=_depth_cases,
    mistakes=[
        Mistake("you counted the 1×1 projection convs of the shortcuts as well; they sit beside "
                "the main path, and the depth in a ResNet's name leaves them out (skip modules "
                "whose name contains 'shortcut').", _all_convs_and_linears),
        Mistake("the fully connected layers are missing: count `nn.Linear` as well as "
                "`nn.Conv2d` (ResNet-18 = 17 convolutions + 1 linear layer).", _convs_only),
        Mistake("you counted the BatchNorm layers too; they normalise, but only convolutions "
                "and linear layers count towards the depth.", _with_norms),
        Mistake("`model.children()` gives only the top-level blocks; walk every layer inside "
                "them with `model.named_modules()`.", _children_only),
        Mistake("you counted every module (containers, ReLUs, BatchNorms, ...); count only "
                "`nn.Conv2d` and `nn.Linear`.", lambda model: len(list(model.modules()))),
    ],
)
check_count_weight_layers = checker(COUNT_WEIGHT_LAYERS, "check_count_weight_layers")


EXERCISES = [RESIDUAL_FORWARD, SHORTCUT_PARAMS, GRADIENT_FACTOR, COUNT_WEIGHT_LAYERS]
