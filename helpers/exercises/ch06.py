"""Chapter 6 exercises: LeNet-5, AlexNet and VGG.

====  ===============================================  ==========================================
6.1   ``conv_macs(in_channels, out_channels,            multiply-adds of one convolution on a
      kernel_size, input_size, stride=1, padding=0)``   square input: K·C·k²·H'², H' =
                                                        (n + 2p − k) // s + 1
6.2   ``fc_fraction(model)``                            share of the model's parameters (weights
                                                        and biases) in ``nn.Linear`` layers
6.3   ``dropout_forward(x, keep, p, training=True)``    inverted dropout with a given keep-mask:
                                                        ``x · keep / (1 − p)`` in training,
                                                        ``x`` unchanged in evaluation
6.4   ``shift_images(images, dy, dx)``                  ``(N, H, W)`` -> same shape, content moved
                                                        ``dy`` rows down and ``dx`` columns right,
                                                        zeros moved in
====  ===============================================  ==========================================
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from helpers.exercises.core import Case, Exercise, Mistake, checker
from helpers.models import cifar_resnet, lenet5, mlp, small_cnn, small_vgg

__all__ = ["check_conv_macs", "check_dropout_forward", "check_fc_fraction",
           "check_shift_images"]


# --------------------------------------------------------------------------- 6.1 multiply-adds

def conv_macs(in_channels, out_channels, kernel_size, input_size, stride=1, padding=0):
    """K·C·k²·H'·W' multiply-adds for a square input of side ``input_size``; padding per side."""
    side = (input_size + 2 * padding - kernel_size) // stride + 1
    return out_channels * in_channels * kernel_size * kernel_size * side * side


def _macs(c, k_out, k, n, stride=1, padding=0, *, side=None, per_pos=None):
    """Variants of the count for the mistakes below."""
    side = (n + 2 * padding - k) // stride + 1 if side is None else side
    per_pos = k_out * c * k * k if per_pos is None else per_pos
    return per_pos * side * side


def _macs_cases(rng) -> list[Case]:
    cases = [Case((1, 6, 5, 32), label="LeNet-5, conv 1"),
             Case((6, 16, 5, 14), label="LeNet-5, conv 2"),
             Case((3, 64, 11, 224), {"stride": 4, "padding": 2}, label="AlexNet, conv 1"),
             Case((64, 64, 3, 224), {"padding": 1}, label="VGG-16, conv 1_2"),
             Case((256, 64, 1, 56), label="a 1×1 convolution"),
             Case((3, 8, 3, 7), {"stride": 2}, label="stride 2, no padding")]
    for _ in range(5):
        k = int(rng.choice([1, 3, 5, 7]))
        s, p = int(rng.integers(1, 3)), int(rng.integers(0, k // 2 + 1))
        cases.append(Case((int(rng.integers(1, 65)), int(rng.integers(1, 129)), k,
                           int(rng.integers(k, 60))), {"stride": s, "padding": p}))
    return cases


CONV_MACS = Exercise(
    number="6.1", title="Multiply-adds of a convolution", reference=conv_macs,
    cases=_macs_cases,
    mistakes=[
        Mistake("you used the INPUT size; the filters are applied once per OUTPUT position, "
                "H' = (n + 2·padding − k) // stride + 1 of them per side.",
                lambda c, ko, k, n, stride=1, padding=0: _macs(c, ko, k, n, side=n)),
        Mistake("the input channels are missing: each of the K filters spans all C input "
                "channels, k²·C multiply-adds per output value.",
                lambda c, ko, k, n, stride=1, padding=0: _macs(c, ko, k, n, stride, padding,
                                                               per_pos=ko * k * k)),
        Mistake("a k×k kernel has k² weights per channel, not k: square the kernel size.",
                lambda c, ko, k, n, stride=1, padding=0: _macs(c, ko, k, n, stride, padding,
                                                               per_pos=ko * c * k)),
        Mistake("you added the padding once; it is added on BOTH sides: n + 2·padding.",
                lambda c, ko, k, n, stride=1, padding=0: _macs(
                    c, ko, k, n, side=(n + padding - k) // stride + 1)),
        Mistake("the stride is ignored: with stride s only every s-th position is computed, "
                "H' = (n + 2·padding − k) // s + 1.",
                lambda c, ko, k, n, stride=1, padding=0: _macs(c, ko, k, n, 1, padding)),
        Mistake("you counted one side of the output only; the output is H' × H' positions, so "
                "multiply by the side twice.",
                lambda c, ko, k, n, stride=1, padding=0: _macs(c, ko, k, n, stride, padding)
                // max((n + 2 * padding - k) // stride + 1, 1)),
    ],
)
check_conv_macs = checker(CONV_MACS, "check_conv_macs")


# --------------------------------------------------------------------------- 6.2 where they live

def fc_fraction(model):
    """Parameters of the ``nn.Linear`` layers / all parameters (a float in [0, 1])."""
    linear = sum(p.numel() for m in model.modules() if isinstance(m, nn.Linear)
                 for p in m.parameters())
    return linear / sum(p.numel() for p in model.parameters())


def _fraction_cases(rng) -> list[Case]:
    torch.manual_seed(int(rng.integers(2**31)))
    return [Case((lenet5(),), label="LeNet-5"),
            Case((small_vgg(),), label="small VGG"),
            Case((small_cnn(),), label="small CNN with global pooling"),
            Case((cifar_resnet(8, width=8),), label="ResNet-8 (with batch norm)"),
            Case((mlp(hidden=(32,)),), label="an MLP: only linear layers"),
            Case((nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU()),), label="no linear layer"),
            Case((small_vgg(channels=(8, 16, 32), hidden=64, input_size=32),))]


def _linear_weights_only(model):
    weights = sum(m.weight.numel() for m in model.modules() if isinstance(m, nn.Linear))
    return weights / sum(p.numel() for p in model.parameters())


def _conv_share(model):
    conv = sum(p.numel() for m in model.modules() if isinstance(m, nn.Conv2d)
               for p in m.parameters())
    return conv / sum(p.numel() for p in model.parameters())


def _layer_share(model):
    layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    return sum(isinstance(m, nn.Linear) for m in layers) / max(len(layers), 1)


def _percent(model):
    return 100 * fc_fraction(model)


FC_FRACTION = Exercise(
    number="6.2", title="Where the parameters live", reference=fc_fraction,
    cases=_fraction_cases,
    mistakes=[
        Mistake("you returned a percentage; return the fraction, a number between 0 and 1.",
                _percent),
        Mistake("you counted the linear layers' weights but not their biases; count every "
                "parameter of an `nn.Linear` (`m.parameters()`).", _linear_weights_only),
        Mistake("you computed the convolutions' share; the question is the share of the "
                "`nn.Linear` layers.", _conv_share),
        Mistake("you counted layers, not parameters: weigh each layer by its number of "
                "parameters (`p.numel()`).", _layer_share),
    ],
)
check_fc_fraction = checker(FC_FRACTION, "check_fc_fraction")


# --------------------------------------------------------------------------- 6.3 dropout

def dropout_forward(x, keep, p, training=True):
    """Inverted dropout: ``x * keep / (1 - p)`` in training (``keep`` is a boolean mask of the
    units that survive, drawn with probability 1 - p), ``x`` unchanged in evaluation."""
    if not training:
        return x
    return x * keep / (1 - p)


def _dropout_cases(rng) -> list[Case]:
    g = torch.Generator().manual_seed(int(rng.integers(2**31)))
    cases = []
    for shape, p, training in (((4, 10), 0.5, True), ((2, 3, 5, 5), 0.2, True),
                               ((8, 16), 0.5, False), ((3, 7), 0.9, True), ((6, 6), 0.3, False),
                               ((1, 4096), 0.5, True)):
        x = torch.randn(shape, generator=g)
        keep = torch.rand(shape, generator=g) >= p
        cases.append(Case((x, keep, p), {"training": training},
                          label="training" if training else "evaluation"))
    return cases


DROPOUT = Exercise(
    number="6.3", title="Inverted dropout", reference=dropout_forward, cases=_dropout_cases,
    mistakes=[
        Mistake("the surviving units are not rescaled: divide them by (1 − p) so that the "
                "expected value of every unit stays what it was without dropout.",
                lambda x, keep, p, training=True: x * keep if training else x),
        Mistake("you multiplied by (1 − p); inverted dropout DIVIDES the survivors by (1 − p) "
                "in training (the original paper multiplied at test time instead).",
                lambda x, keep, p, training=True: x * keep * (1 - p) if training else x),
        Mistake("you divided by p; the survivors are scaled by 1 / (1 − p), the inverse of the "
                "probability of surviving.",
                lambda x, keep, p, training=True: x * keep / p if training else x),
        Mistake("dropout must do nothing in evaluation mode (`training=False`): return x "
                "unchanged.", lambda x, keep, p, training=True: x * keep / (1 - p)),
        Mistake("you zeroed the units that should survive: `keep` is True where a unit is "
                "KEPT.", lambda x, keep, p, training=True: x * ~keep / (1 - p) if training else x),
    ],
)
check_dropout_forward = checker(DROPOUT, "check_dropout_forward")


# --------------------------------------------------------------------------- 6.4 augmentation

def shift_images(images, dy, dx):
    """(N, H, W) -> (N, H, W): content moved ``dy`` rows down and ``dx`` columns right (negative:
    up / left); the pixels moved in are 0 and those moved out are lost; dtype kept."""
    n, h, w = images.shape
    out = np.zeros_like(images)
    src = images[:, max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
    out[:, max(dy, 0):max(dy, 0) + src.shape[1], max(dx, 0):max(dx, 0) + src.shape[2]] = src
    return out


def _shift_cases(rng) -> list[Case]:
    def batch(n, h, w, dtype=np.uint8):
        return rng.integers(1, 256, size=(n, h, w)).astype(dtype)

    cases = [Case((batch(2, 6, 6), 1, 2), label="down and right"),
             Case((batch(2, 6, 6), -2, 1), label="up and right"),
             Case((batch(1, 5, 7), 0, -3), label="left only"),
             Case((batch(3, 7, 5), 2, 0), label="down only, non-square"),
             Case((batch(1, 4, 4), 0, 0), label="no shift"),
             Case((batch(2, 28, 28, np.float32), -1, -1), label="float32 digits"),
             Case((batch(1, 5, 5), 5, 0), label="shifted out entirely")]
    for _ in range(3):
        dy, dx = (int(v) for v in rng.integers(-3, 4, size=2))
        cases.append(Case((batch(2, 9, 8), dy, dx)))
    return cases


def _rolled(images, dy, dx):
    return np.roll(images, (dy, dx), axis=(1, 2))


def _opposite(images, dy, dx):
    return shift_images(images, -dy, -dx)


def _swapped(images, dy, dx):
    return shift_images(images, dx, dy)


def _float_out(images, dy, dx):
    return shift_images(images, dy, dx).astype(np.float64)


def _from_a_copy(images, dy, dx):
    out = images.copy()
    moved = shift_images(images, dy, dx)
    n, h, w = images.shape
    rows = slice(max(dy, 0), h + min(dy, 0))
    cols = slice(max(dx, 0), w + min(dx, 0))
    out[:, rows, cols] = moved[:, rows, cols]
    return out


SHIFT_IMAGES = Exercise(
    number="6.4", title="Shift images for data augmentation", reference=shift_images,
    cases=_shift_cases, shape_hint="(N, H, W)",
    mistakes=[
        Mistake("`np.roll` wraps around: what leaves at the bottom comes back at the top. Fill "
                "the uncovered rows and columns with zeros instead.", _rolled),
        Mistake("your shift goes the wrong way: positive `dy` moves the content DOWN (to larger "
                "row indices), positive `dx` to the RIGHT.", _opposite),
        Mistake("you swapped the axes: `dy` moves rows (axis 1), `dx` moves columns (axis 2).",
                _swapped),
        Mistake("keep the images' dtype: start from `np.zeros_like(images)`.", _float_out),
        Mistake("the pixels moved in still hold the old image: start from "
                "`np.zeros_like(images)`, not from a copy, so that they are 0.", _from_a_copy),
    ],
)
check_shift_images = checker(SHIFT_IMAGES, "check_shift_images")


EXERCISES = [CONV_MACS, FC_FRACTION, DROPOUT, SHIFT_IMAGES]
