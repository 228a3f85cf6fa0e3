"""The largest tensor a computation creates, as a measure of the memory it needs.

    largest_tensor_bytes(attention_layer, x)     # bytes of the largest tensor made on the way

:func:`largest_tensor_bytes` runs a function and watches every operator PyTorch dispatches
while it runs (the ATen operators below ``torch.nn`` and ``torch.nn.functional``: a matrix
product, a softmax, a reshape), and returns the size in bytes of the largest tensor any of them
returned. That includes the intermediate tensors the function never hands back, such as the
matrix of attention scores inside a self-attention layer; it does not include scratch memory an
operator uses inside itself and frees before returning (the blocks of a fused kernel), which is
what lets a fused attention kernel avoid holding the whole score matrix. A view (a reshape or
transpose that shares its input's storage) counts with its own size like any other result.

The watcher is PyTorch's dispatch mode (``torch.utils._python_dispatch.TorchDispatchMode``,
the machinery behind ``torch.utils.flop_counter.FlopCounterMode``); it is an internal module of
PyTorch, which is why the chapters call this function instead of using it directly.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch.utils._python_dispatch import TorchDispatchMode

__all__ = ["largest_tensor_bytes"]


def _tensors(value):
    """Every tensor in an operator's result (a tensor, or tuples and lists of them)."""
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _tensors(item)


class _LargestResult(TorchDispatchMode):
    """Runs each operator unchanged and keeps the byte size of the largest tensor it returned."""

    def __init__(self):
        super().__init__()
        self.bytes = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in _tensors(out):
            self.bytes = max(self.bytes, t.numel() * t.element_size())
        return out


def largest_tensor_bytes(fn: Callable, *args, **kwargs) -> int:
    """Call ``fn(*args, **kwargs)`` and return the size in bytes (values times bytes per value)
    of the largest tensor any PyTorch operator returned during the call; 0 if none ran.

    >>> largest_tensor_bytes(lambda x: (x[:, None] * x[None, :]).sum(), torch.ones(100))
    40000
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    with _LargestResult() as watch:
        fn(*args, **kwargs)
    return watch.bytes
