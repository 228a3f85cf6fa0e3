"""Chapter 7: what depth does to plain and residual networks -- the degradation problem
(He et al., 2015) on small images, and the gradient that reaches each block.

    x = downsample(x_train, 2)                              # 28x28 -> 14x14, float in [0, 1]
    runs = depth_sweep({"plain": plain_net, "residual": cifar_resnet}, (8, 20, 32), x, y, ...)
    last_epoch_error(runs[("plain", 32)])                   # training error in the final epoch
    norms = block_gradient_norms(model, x, y)               # ||dL/d(block output)|| per block
    share = relu_gradient_share(model, x, y)                # share passing each block's last ReLU
    strip_batchnorm(model)                                  # BatchNorm2d -> Identity

Every run is seeded, so the same arguments give the same numbers on the same machine.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import numpy as np
import torch
from torch import nn

from helpers.device import seed_everything
from helpers.train import History, fit, make_loader


def downsample(images, factor: int) -> np.ndarray:
    """(N, H, W) uint8 or float -> (N, H/f, W/f) float32 in [0, 1] (uint8 is divided by 255):
    the mean of each ``factor`` x ``factor`` block, like an average pool with stride ``factor``."""
    x = np.asarray(images)
    if x.ndim != 3:
        raise ValueError(f"images must be (N, H, W), got shape {x.shape}")
    if not isinstance(factor, (int, np.integer)) or factor < 1:
        raise ValueError(f"factor must be a positive int, got {factor!r}")
    n, h, w = x.shape
    if h % factor or w % factor:
        raise ValueError(f"image side {h}x{w} is not divisible by factor={factor}")
    x = x.astype(np.float32) / (255.0 if x.dtype == np.uint8 else 1.0)
    return x.reshape(n, h // factor, factor, w // factor, factor).mean(axis=(2, 4))


def last_epoch_error(history: History) -> float:
    """Training error averaged over the steps of the final epoch (measured on the fly, in
    training mode, as the model changes -- the quantity He et al. plot as training error)."""
    if not history.step_error:
        raise ValueError("the history has no steps")
    k = history.steps_per_epoch or len(history.step_error)
    return float(np.mean(history.step_error[-k:]))


def depth_sweep(builders: Mapping[str, Callable[..., nn.Module]], depths: Iterable[int], x, y,
                *, epochs: int = 3, batch_size: int = 64, lr: float = 2e-3,
                optimizer: str = "adam", seed: int = 0, mean=None, std=None, device=None,
                val=None, **model_kwargs) -> dict[tuple[str, int], History]:
    """Train ``builders[name](depth, **model_kwargs)`` for every name and depth on the same
    data, seen in the same order (the loader and the model are seeded with ``seed`` for each
    run), with the same optimizer and budget. Returns ``{(name, depth): History}``. With
    ``val = (x_val, y_val)`` each History also holds the loss and accuracy on those images
    after every epoch (evaluation mode: batch norm with its running statistics)."""
    runs = {}
    for name, build in builders.items():
        for depth in depths:
            seed_everything(seed)
            model = build(depth, **model_kwargs)
            loader = make_loader(x, y, batch_size=batch_size, shuffle=True, seed=seed, mean=mean,
                                 std=std, device=device)
            val_loader = None if val is None else make_loader(
                val[0], val[1], batch_size=1000, mean=mean, std=std, device=device)
            runs[(name, depth)] = fit(model, loader, epochs=epochs, lr=lr, optimizer=optimizer,
                                      device=device, val_loader=val_loader)
    return runs


def residual_stages(model: nn.Module) -> list[nn.Module]:
    """The blocks of a CIFAR-style network (``features.stage1..3`` of ``cifar_resnet`` or
    ``plain_net``) in forward order."""
    stages = [getattr(model.features, f"stage{i}", None) for i in (1, 2, 3)]
    if any(s is None for s in stages):
        raise ValueError("expected a model with features.stage1, stage2 and stage3 "
                         "(cifar_resnet or plain_net)")
    return [block for stage in stages for block in stage]


def block_outputs(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                  blocks: list[nn.Module] | None = None) -> list[torch.Tensor]:
    """The blocks' outputs, each with its ``.grad`` = dL/d(output): one forward and backward
    pass of the cross-entropy loss in training mode; the parameters' gradients are cleared."""
    blocks = residual_stages(model) if blocks is None else blocks
    outputs: list[torch.Tensor] = []

    def keep(module, inputs, output):
        output.retain_grad()
        outputs.append(output)

    handles = [b.register_forward_hook(keep) for b in blocks]
    was_training = model.training
    model.train()
    try:
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    model.zero_grad(set_to_none=True)
    return outputs


def block_gradient_norms(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                         blocks: list[nn.Module] | None = None) -> np.ndarray:
    """||dL/d(output of block i)|| for each block, first block first: one forward and backward
    pass of the cross-entropy loss on the batch ``(x, y)`` in training mode (as in training,
    so BatchNorm uses the batch's statistics). ``blocks`` defaults to :func:`residual_stages`.
    The parameters' gradients are cleared afterwards."""
    return np.array([o.grad.norm().item() for o in block_outputs(model, x, y, blocks)])


def block_gradient_rms(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                       blocks: list[nn.Module] | None = None) -> np.ndarray:
    """Root mean square of dL/d(output of block i) per element, for each block, first block
    first: ||g_i|| / sqrt(numel(g_i)). Unlike :func:`block_gradient_norms` this does not jump
    where a stage changes the tensor's size (C x H x W values per image); otherwise as there."""
    return np.array([(o.grad.norm() / o.grad.numel() ** 0.5).item()
                     for o in block_outputs(model, x, y, blocks)])


def padding_tap_share(side: int, kernel: int = 3) -> float:
    """Share of a ``kernel`` x ``kernel`` convolution's taps (stride 1, 'same' zero padding of
    ``kernel // 2``) that fall on the padding, averaged over the positions of a ``side`` x
    ``side`` map: 1 - (mean valid taps per row)^2 / kernel^2. 3x3 on 4x4: 0.306; on 7x7: 0.182."""
    if side < 1 or kernel < 1 or kernel % 2 == 0:
        raise ValueError(f"side must be >= 1 and kernel odd and >= 1, got {side}, {kernel}")
    r = kernel // 2
    valid = [min(i + r, side - 1) - max(i - r, 0) + 1 for i in range(side)]
    return 1.0 - (sum(valid) / side) ** 2 / kernel ** 2


def relu_gradient_share(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                        blocks: list[nn.Module] | None = None) -> np.ndarray:
    """For blocks that end in a ReLU (``relu(F(x) + x)``): the share of the gradient at each
    block's output that passes that ReLU back to the sum, and so to the shortcut,
    ||g * 1[out > 0]|| / ||g|| with g = dL/d(out). 1 would mean an ungated identity path."""
    return np.array([(o.grad * (o > 0)).norm().item() / o.grad.norm().item()
                     for o in block_outputs(model, x, y, blocks)])


def stage_boundaries(model: nn.Module) -> list[int]:
    """Block indices (1-based, first block = 1) after which a new stage starts: where the
    shapes -- and so the sizes of the tensors whose gradients we measure -- change."""
    counts = [len(getattr(model.features, f"stage{i}")) for i in (1, 2, 3)]
    return [counts[0], counts[0] + counts[1]]


def strip_batchnorm(model: nn.Module) -> nn.Module:
    """Replace every ``BatchNorm2d`` by ``Identity`` (in place); returns the model."""
    for name, child in model.named_children():
        if isinstance(child, nn.BatchNorm2d):
            setattr(model, name, nn.Identity())
        else:
            strip_batchnorm(child)
    return model
