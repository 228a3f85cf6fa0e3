"""How big is a model, and where do its parameters and its compute live?

    count_parameters(model)                 # 61,706 for LeNet-5
    summary(model, (1, 28, 28))             # table: layer, type, output shape, params, RF
    count_macs(model, (3, 224, 224))        # multiply-adds per image
    parameter_breakdown(model)              # {"conv": ..., "linear": ..., "other": ...}

``summary`` and ``count_macs`` run one forward pass (in eval mode, without gradients, so
BatchNorm statistics are untouched) with forward hooks on the layers.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import torch
from torch import nn


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of scalar parameters (only those with ``requires_grad`` unless told otherwise)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def is_conv(module: nn.Module) -> bool:
    """A 2-D convolution: ``torch.nn.Conv2d`` or any module with its attributes and a 4-D
    weight (such as the from-scratch ``helpers.layers.Conv2d``)."""
    if isinstance(module, nn.Conv2d):
        return True
    weight = getattr(module, "weight", None)
    return (isinstance(weight, torch.Tensor) and weight.dim() == 4
            and all(hasattr(module, a) for a in ("in_channels", "out_channels", "kernel_size")))


def _is_attention(module: nn.Module) -> bool:
    """Self-attention whose matrix products are not made by Linear modules."""
    if isinstance(module, nn.MultiheadAttention):
        return True
    try:
        from helpers.attention import MultiHeadSelfAttention
    except ImportError:
        return False
    return isinstance(module, MultiHeadSelfAttention)


def _row_modules(model: nn.Module):
    """(name, module) pairs shown as rows: leaves, and modules that own parameters directly
    (such as ``nn.MultiheadAttention``), whose children are then not listed separately."""
    skip: set[str] = set()
    for name, module in model.named_modules():
        if any(name.startswith(prefix) for prefix in skip):
            continue
        children = list(module.children())
        own = list(module.parameters(recurse=False))
        if not children or (own and module is not model):
            if children:
                skip.add(name + ".")
            yield name or type(model).__name__, module


def example_input(model: nn.Module, input_size) -> torch.Tensor:
    """A zero input on the model's device: ``input_size`` is (C, H, W) (batch of 1 added),
    (N, C, H, W), or a tensor used as it is."""
    if isinstance(input_size, torch.Tensor):
        return input_size
    size = tuple(int(s) for s in input_size)
    if len(size) == 3:
        size = (1, *size)
    if len(size) != 4 or min(size) < 1:
        raise ValueError(f"input_size must be (C, H, W) or (N, C, H, W), got {input_size!r}")
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    return torch.zeros(size, device=device)


def _run_with_hooks(model: nn.Module, x: torch.Tensor, modules, hook):
    """One forward pass in eval mode without gradients, ``hook(name, module, inputs, output)``
    called after each of ``modules`` (name, module) runs; restores the training mode."""
    handles = [m.register_forward_hook(lambda mod, inp, out, name=name: hook(name, mod, inp, out))
               for name, m in modules]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(x)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()


def _shape(output) -> tuple:
    if isinstance(output, torch.Tensor):
        return tuple(output.shape)
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
        return tuple(output[0].shape)
    return ()


@dataclass
class LayerRow:
    """One row of a :func:`summary`: a layer call, its output shape and its own parameters."""

    name: str
    type: str
    output_shape: tuple
    params: int
    receptive_field: int | None = None


class SummaryTable(list):
    """A list of :class:`LayerRow` with totals; ``str()`` is an aligned text table and
    :meth:`to_markdown` a Markdown one."""

    HEADER = ("layer", "type", "output shape", "parameters", "receptive field")

    def __init__(self, rows, total_params: int, trainable_params: int, input_shape: tuple):
        super().__init__(rows)
        self.total_params = total_params
        self.trainable_params = trainable_params
        self.input_shape = input_shape

    def _cells(self) -> list[tuple[str, ...]]:
        return [(r.name, r.type, "(" + ", ".join(map(str, r.output_shape)) + ")",
                 f"{r.params:,}", "" if r.receptive_field is None else str(r.receptive_field))
                for r in self]

    def _columns(self) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
        cells = self._cells()
        if all(r.receptive_field is None for r in self):
            return self.HEADER[:-1], [c[:-1] for c in cells]
        return self.HEADER, cells

    def _footer(self) -> str:
        return (f"input {tuple(self.input_shape)}; total parameters {self.total_params:,} "
                f"(trainable {self.trainable_params:,})")

    def __str__(self) -> str:
        header, cells = self._columns()
        widths = [max(len(row[i]) for row in [header, *cells]) for i in range(len(header))]
        right = {3, 4}

        def line(row):
            return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                             for i, (c, w) in enumerate(zip(row, widths))).rstrip()

        rule = "-" * len(line(header))
        return "\n".join([line(header), rule, *map(line, cells), rule, self._footer()])

    __repr__ = __str__

    def to_markdown(self) -> str:
        header, cells = self._columns()
        aligns = ["---:" if i in (3, 4) else ":---" for i in range(len(header))]
        rows = [header, aligns, *[tuple(c.replace("|", "\\|") for c in row) for row in cells]]
        return "\n".join("| " + " | ".join(row) + " |" for row in rows) + f"\n\n{self._footer()}"


def _receptive_fields(model: nn.Module, input_shape: tuple, names: list[str]) -> dict[str, int]:
    """Receptive field size (input pixels) after each layer that ``helpers.receptive_field``
    lists; a multi-path block's value goes on the last of its rows. Empty when the model has
    a layer it cannot read."""
    try:
        from helpers.receptive_field import receptive_field
        fields = receptive_field(model, input_shape).layers
    except (ImportError, ValueError):
        return {}
    sizes = {}
    for field in fields:
        inside = [n for n in names if n == field.name or n.startswith(field.name + ".")]
        if inside:
            sizes[inside[-1]] = field.size
    return sizes


def summary(model: nn.Module, input_size) -> SummaryTable:
    """Run ``model`` on zeros of ``input_size`` ((C, H, W) or (N, C, H, W)) and tabulate each
    layer call in order: name, type, output shape, its own parameters (counted at its first
    call) and, where ``helpers.receptive_field`` handles the model, the receptive field size."""
    x = example_input(model, input_size)
    rows: list[LayerRow] = []
    seen: set[int] = set()

    def record(name, module, inputs, output):
        params = 0 if id(module) in seen else count_parameters(module, trainable_only=False)
        seen.add(id(module))
        rows.append(LayerRow(name, type(module).__name__, _shape(output), params))

    _run_with_hooks(model, x, list(_row_modules(model)), record)
    fields = _receptive_fields(model, tuple(x.shape), [row.name for row in rows])
    for i, row in enumerate(rows):
        if fields.get(row.name) is not None and row.name not in {r.name for r in rows[i + 1:]}:
            row.receptive_field = fields[row.name]
    return SummaryTable(rows, count_parameters(model, trainable_only=False),
                        count_parameters(model), tuple(x.shape))


def _macs(module: nn.Module, inputs, output) -> int:
    """Multiply-adds of one call, for the whole batch."""
    if is_conv(module):
        k = module.weight.shape  # (K, C / groups, kh, kw)
        return output.numel() * k[1] * k[2] * k[3]
    if isinstance(module, nn.Linear):
        return output.numel() * module.in_features
    if _is_attention(module):
        n, t, d = inputs[0].shape
        if isinstance(module, nn.MultiheadAttention) and not module.batch_first:
            t, n, d = inputs[0].shape
        macs = 2 * n * t * t * d  # scores Q K^T and the weighted sum A V: T x T x D each
        if isinstance(module, nn.MultiheadAttention):  # its projections are not Linear calls
            macs += 4 * n * t * d * d
        return macs
    return 0


def count_macs(model: nn.Module, input_size, by_layer: bool = False):
    """Multiply-adds per example of convolutions (K C k^2 H' W' each), linear layers (in x out
    per position) and attention matrix products (2 T^2 D per block); other layers (norms,
    activations, pooling) are not counted. ``by_layer=True`` gives ``{layer name: MACs}``."""
    x = example_input(model, input_size)
    per_layer: OrderedDict[str, int] = OrderedDict()

    def record(name, module, inputs, output):
        macs = _macs(module, inputs, output)
        if macs:
            per_layer[name] = per_layer.get(name, 0) + macs // x.shape[0]

    modules = [(name, m) for name, m in model.named_modules()
               if is_conv(m) or isinstance(m, nn.Linear) or _is_attention(m)]
    _run_with_hooks(model, x, modules, record)
    return per_layer if by_layer else sum(per_layer.values())


def parameter_breakdown(model: nn.Module) -> dict[str, int]:
    """``{"conv": n, "linear": n, "other": n}``: parameters of convolutions, of linear layers
    (attention projections included) and of everything else (norms, embeddings, tokens)."""
    parts = {"conv": 0, "linear": 0, "other": 0}
    for module in model.modules():
        own = sum(p.numel() for p in module.parameters(recurse=False))
        if is_conv(module):
            parts["conv"] += own
        elif isinstance(module, (nn.Linear, nn.MultiheadAttention)):
            parts["linear"] += own
        else:
            parts["other"] += own
    return parts
