"""Receptive fields: computed layer by layer (``receptive_field``) and measured with gradients
(``measured_receptive_field``); tests/test_receptive_field.py checks that the two agree.

The analytic recurrence, per axis. Start at the input with field size r = 1, jump j = 1 (pixels
between the fields of neighbouring units) and offset P = 0 (pixels the first unit's field starts
before the image). A layer with kernel k, stride s, padding p (per side) and dilation d spans
e = d(k - 1) + 1 units of its input, so

    r <- r + (e - 1) j        P <- P + p j        j <- j s

Which modules are walked, and how (the protocol):

1. A module may describe itself with a hook ``receptive_field_params()`` returning
   ``(kernel, stride, padding, dilation)`` (ints, square), or ``None`` for a global layer.
2. A module with several branches whose outputs are combined pixel by pixel (residual blocks,
   inception-style concatenations) defines ``receptive_field_paths()`` returning a list of
   paths; a path is an ``nn.Module`` or a list of modules applied in order, and an empty list is
   an identity shortcut. For a ResNet basic block::

       def receptive_field_paths(self):
           return [[self.conv1, self.bn1, self.relu, self.conv2, self.bn2], [self.shortcut]]

   The block's field is the union of its paths' fields (the largest one for centred paths);
   every path must have the same jump (stride), otherwise ValueError.
3. Without that hook, a module with a child called ``shortcut`` or ``downsample`` (None allowed:
   identity) is read the same way: path 1 = its other children in registration order, path 2 =
   the shortcut (this covers torchvision's ``BasicBlock`` and ``Bottleneck``).
4. ``Conv2d``, ``MaxPool2d`` and ``AvgPool2d`` from torch.nn or helpers.layers are read from their
   ``kernel_size``, ``stride``, ``padding`` ("same" and "valid" too) and ``dilation``.
5. Pointwise layers (BatchNorm, LayerNorm, activations, Dropout, Identity, LocalResponseNorm, ...)
   are 1x1 with stride 1 and do not appear in the table.
6. Global layers end the walk: adaptive (global) pooling, Flatten, Linear and attention. Each
   unit after them sees the whole input; the result describes the last spatial layer before them
   and ``stopped_at`` names the global layer.
7. Any other module with children is read as its children in registration order, which must be
   the order ``forward`` applies them (true for ``nn.Sequential``).

Square kernels, strides, paddings and dilations only; anything else raises ValueError.
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import nn

from helpers import layers as scratch
from helpers.attention import MultiHeadSelfAttention

__all__ = ["LayerField", "MeasuredField", "ReceptiveField", "measured_receptive_field",
           "receptive_field"]

_CONV_LIKE = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, scratch.Conv2d, scratch.MaxPool2d,
              scratch.AvgPool2d)
_POINTWISE = (nn.BatchNorm2d, nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.SELU,
              nn.GELU, nn.SiLU, nn.Mish, nn.Sigmoid, nn.Tanh, nn.Hardswish, nn.Hardsigmoid,
              nn.Hardtanh, nn.Softplus, nn.Dropout, nn.Dropout2d, nn.AlphaDropout, nn.Identity,
              nn.LocalResponseNorm, nn.LayerNorm)
_GLOBAL = (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, nn.Flatten, nn.Linear,
           nn.MultiheadAttention, MultiHeadSelfAttention)
_SHORTCUT_NAMES = ("shortcut", "downsample")


@dataclass(frozen=True)
class _Layer:
    """A layer's geometry: what the field recurrence needs to know about it."""

    name: str
    layer: str
    kernel: int
    stride: int
    padding: int
    dilation: int


@dataclass(frozen=True)
class LayerField(_Layer):
    """One row of the layer-by-layer table: the layer, then the field after it.

    ``size``, ``jump`` and ``offset`` are in input pixels; ``output`` is the feature-map side
    after the layer (None when no input_size was given). For a multi-path block, ``kernel``,
    ``stride`` and ``padding`` are those of the single layer that has the same field.
    """

    size: int
    jump: int
    offset: int
    output: tuple[int, int] | None = None


@dataclass(frozen=True)
class ReceptiveField:
    """A unit's field is ``size`` x ``size`` input pixels; neighbouring units are ``stride``
    pixels apart; unit (0, 0) starts ``padding`` pixels above and left of the image."""

    size: int
    stride: int
    padding: int
    layers: tuple[LayerField, ...]
    stopped_at: str | None = None

    def box(self, i: int, j: int) -> tuple[int, int, int, int]:
        """(top, left, bottom, right) of unit (i, j)'s field, end exclusive; may leave the image."""
        top, left = i * self.stride - self.padding, j * self.stride - self.padding
        return top, left, top + self.size, left + self.size

    def to_markdown(self) -> str:
        """The layer-by-layer table as Markdown."""
        head = ["layer", "type", "kernel", "stride", "padding", "dilation", "output",
                "field size", "jump", "offset"]
        rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for f in self.layers:
            out = "" if f.output is None else f"{f.output[0]}×{f.output[1]}"
            cells = [f"`{f.name}`", f.layer, f.kernel, f.stride, f.padding, f.dilation, out,
                     f.size, f.jump, f.offset]
            rows.append("| " + " | ".join(str(c) for c in cells) + " |")
        if self.stopped_at is not None:
            rows.append(f"\nAfter `{self.stopped_at}` every unit sees the whole input.")
        return "\n".join(rows)

    def __str__(self) -> str:
        return self.to_markdown()


# --------------------------------------------------------------------------- walking a model


@dataclass(frozen=True)
class _Step(_Layer):
    """A layer (or block reduced to one equivalent layer) and how it maps a side length n."""

    out_size: Callable[[int], int]


class _GlobalLayer(Exception):
    """Raised by the walk at a layer after which every unit sees the whole input."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def _square(value, what: str, name: str) -> int:
    if isinstance(value, int):
        return value
    values = tuple(value)
    if len(set(values)) != 1:
        raise ValueError(f"receptive_field: {name} has non-square {what} {values}")
    return values[0]


def _conv_like_step(module: nn.Module, name: str) -> _Step:
    k = _square(module.kernel_size, "kernel_size", name)
    s = _square(module.stride, "stride", name)
    d = _square(getattr(module, "dilation", 1), "dilation", name)
    padding, ceil_mode = module.padding, getattr(module, "ceil_mode", False)
    if padding == "same":
        p = d * (k - 1) // 2  # torch puts the odd pixel at the end: the start moves by half

        def out_size(n: int) -> int:
            return n
    else:
        p = 0 if padding == "valid" else _square(padding, "padding", name)

        def out_size(n: int) -> int:
            out = scratch.conv_output_size(n, k, s, p, d)
            if ceil_mode and (n + 2 * p - d * (k - 1) - 1) % s:
                out += 1 if out * s < n + p else 0   # torch drops a window starting in padding
            return out
    return _Step(name, type(module).__name__, k, s, p, d, out_size)


def _child_name(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _children(module: nn.Module) -> list[tuple[str, nn.Module]]:
    """Children in registration order, repeats included (named_children() skips a module that
    appears twice, as in nn.Sequential(*[conv] * 3))."""
    return [(name, child) for name, child in module._modules.items() if child is not None]


def _paths(module: nn.Module) -> list[list[nn.Module]] | None:
    """The branches of a multi-path module (protocol rules 2 and 3), or None."""
    if hasattr(module, "receptive_field_paths"):
        paths = module.receptive_field_paths()
    else:
        children = dict(_children(module))
        key = next((k for k in _SHORTCUT_NAMES if k in children
                    or (hasattr(module, k) and getattr(module, k) is None)), None)
        if key is None:
            return None
        shortcut = getattr(module, key)
        main = [child for child_name, child in children.items() if child_name != key]
        paths = [main, [] if shortcut is None else [shortcut]]
    return [[path] if isinstance(path, nn.Module) else list(path) for path in paths]


def _combine_paths(module: nn.Module, name: str, paths) -> _Step:
    """Reduce each path to one equivalent layer and take the union of their fields."""
    names = {id(m): _child_name(name, n) for n, m in module.named_modules() if n}
    spans, sizes, jumps = [], [], set()
    for path in paths:
        steps = [step for m in path
                 for step in _steps(m, names.get(id(m), _child_name(name, type(m).__name__)))]
        size, jump, offset = _compose(steps)
        spans.append((-offset, size - offset))
        jumps.add(jump)
        sizes.append(_chain_sizes(steps))
    if len(jumps) != 1:
        raise ValueError(f"receptive_field: the paths of {name or type(module).__name__} have "
                         f"different strides {sorted(jumps)}")
    start, end = min(a for a, _ in spans), max(b for _, b in spans)
    return _Step(name, type(module).__name__, end - start, jumps.pop(), -start, 1, sizes[0])


def _chain_sizes(steps: list[_Step]) -> Callable[[int], int]:
    def out_size(n: int) -> int:
        for step in steps:
            n = step.out_size(n)
        return n
    return out_size


def _steps(module: nn.Module, name: str) -> Iterator[_Step]:
    """The layers of ``module`` in order, following the protocol in the module docstring."""
    label = name or type(module).__name__
    if hasattr(module, "receptive_field_params"):
        params = module.receptive_field_params()
        if params is None:
            raise _GlobalLayer(label)
        k, s, p, d = (_square(v, what, label) for v, what in
                      zip(params, ("kernel", "stride", "padding", "dilation")))
        yield _Step(label, type(module).__name__, k, s, p, d,
                    lambda n: scratch.conv_output_size(n, k, s, p, d))
        return
    paths = _paths(module)
    if paths is not None:
        yield _combine_paths(module, label, paths)
    elif isinstance(module, _CONV_LIKE):
        yield _conv_like_step(module, label)
    elif isinstance(module, _GLOBAL):
        raise _GlobalLayer(label)
    elif isinstance(module, _POINTWISE):
        return
    elif (isinstance(module, nn.Sequential | nn.ModuleList)
          or next(module.children(), None) is not None):
        for child_name, child in _children(module):
            yield from _steps(child, _child_name(name, child_name))
    else:
        raise ValueError(f"receptive_field: unsupported layer {label} ({type(module).__name__});"
                         f" give it a receptive_field_params() method")


def _compose(steps: list[_Step]) -> tuple[int, int, int]:
    """(size, jump, offset) after a chain of steps, starting from one input pixel."""
    size, jump, offset = 1, 1, 0
    for step in steps:
        size += step.dilation * (step.kernel - 1) * jump
        offset += step.padding * jump
        jump *= step.stride
    return size, jump, offset


def _side_lengths(input_size) -> tuple[int, int] | None:
    if input_size is None:
        return None
    if isinstance(input_size, int):
        return (input_size, input_size)
    return (int(input_size[-2]), int(input_size[-1]))


def receptive_field(module: nn.Module, input_size=None) -> ReceptiveField:
    """Receptive field of the last spatial layer of ``module``, with the per-layer table.

    ``input_size`` (an int side, or a shape ending in (H, W)) adds the feature-map size after
    each layer to the table and checks that every layer's output is at least 1 pixel.
    """
    hw = _side_lengths(input_size)
    rows, steps, stopped_at = [], [], None
    walk = _steps(module, "")
    while True:
        try:
            step = next(walk)
        except StopIteration:
            break
        except _GlobalLayer as stop:
            stopped_at = stop.name
            break
        steps.append(step)
        if hw is not None:
            try:
                hw = (step.out_size(hw[0]), step.out_size(hw[1]))
            except ValueError as error:
                raise ValueError(f"receptive_field: {step.name} {error}") from error
        size, jump, offset = _compose(steps)
        rows.append(LayerField(step.name, step.layer, step.kernel, step.stride, step.padding,
                               step.dilation, size, jump, offset, hw))
    size, jump, offset = _compose(steps)
    return ReceptiveField(size, jump, offset, tuple(rows), stopped_at)


# --------------------------------------------------------------------------- measuring it


@dataclass(frozen=True)
class MeasuredField:
    """The input pixels that reach one output unit, found by backpropagation.

    ``gradient`` (H, W) is |d unit / d input| summed over channels; ``footprint`` is where it is
    non-zero; ``height`` x ``width`` its extent, whose top-left pixel is (``top``, ``left``);
    ``size`` = max(height, width). ``clipped`` is True when the footprint touches the border
    of the input, so the field may be larger than measured: use a larger input_size.
    """

    size: int
    height: int
    width: int
    top: int
    left: int
    unit: tuple[int, int]
    clipped: bool
    footprint: torch.Tensor
    gradient: torch.Tensor


class _WindowAverage(nn.Module):
    """Stands in for a max pool: same windows, and every pixel of a window gets gradient."""

    def __init__(self, kernel_size, stride, padding, dilation):
        super().__init__()
        self.conf = (kernel_size, stride, padding, dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k, s, p, d = self.conf
        kh, kw = (k, k) if isinstance(k, int) else k
        channels = x.shape[1]
        w = x.new_full((channels, 1, kh, kw), 1.0 / (kh * kw))
        return scratch.conv2d(x, w, None, s, p, d, groups=channels)


def _make_every_path_count(model: nn.Module) -> None:
    """Positive averaging filters, identity batch norms, max pools -> window averages."""
    for module in model.modules():
        weight = getattr(module, "weight", None)
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.reset_parameters()              # mean 0, variance 1, scale 1, shift 0
        elif isinstance(weight, nn.Parameter) and weight.dim() == 4:
            with torch.no_grad():
                weight.fill_(1.0 / weight.shape[1])
                if getattr(module, "bias", None) is not None:
                    module.bias.zero_()
        for child_name, child in module.named_children():
            if isinstance(child, nn.MaxPool2d | scratch.MaxPool2d):
                stand_in = _WindowAverage(child.kernel_size, child.stride, child.padding,
                                          getattr(child, "dilation", 1))
                setattr(module, child_name, stand_in)


def measured_receptive_field(module: nn.Module, input_size, unit=None) -> MeasuredField:
    """Measure the field of one output unit (default: the centre one) by backpropagation.

    Method: a float64 copy of ``module`` in eval mode gets filters of positive constants (each
    sums its input channels to 1 per tap) and zero biases, batch norms become identities, and
    max pools become window averages (a max pool sends gradient only to the current maximum,
    but any pixel of its window could be that maximum). The input is all ones, so every
    activation is positive and every path carries gradient. We backpropagate the unit's sum over
    channels and report where the input gradient is non-zero. ``input_size`` is (C, H, W) or
    (N, C, H, W); ``module`` must return (N, K, H', W') (pass ``model.features``, say).
    Max pools called functionally inside ``forward`` cannot be swapped and are not supported.
    """
    shape = tuple(input_size)
    if len(shape) not in (3, 4):
        raise ValueError(f"input_size must be (C, H, W) or (N, C, H, W), got {input_size!r}")
    model = copy.deepcopy(module).double().eval()
    _make_every_path_count(model)
    x = torch.ones((1, *shape[-3:]), dtype=torch.float64, requires_grad=True)
    out = model(x)
    if out.dim() != 4:
        raise ValueError(f"measured_receptive_field needs a spatial output (N, K, H', W'), got "
                         f"{tuple(out.shape)}: pass the convolutional part of the model")
    i, j = unit if unit is not None else ((out.shape[2] - 1) // 2, (out.shape[3] - 1) // 2)
    out[0, :, i, j].sum().backward()
    gradient = x.grad[0].abs().sum(dim=0)
    footprint = gradient > 0
    rows = torch.nonzero(footprint.any(dim=1)).flatten()
    cols = torch.nonzero(footprint.any(dim=0)).flatten()
    top, bottom, left, right = int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])
    height, width = bottom - top + 1, right - left + 1
    clipped = top == 0 or left == 0 or bottom == shape[-2] - 1 or right == shape[-1] - 1
    return MeasuredField(max(height, width), height, width, top, left, (int(i), int(j)),
                         clipped, footprint, gradient)
