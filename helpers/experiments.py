"""Small, repeatable training experiments for the architecture chapters (6 and 7).

    x = downsample(x_train, 2)                              # 28x28 -> 14x14, float in [0, 1]
    shifted = AugmentedLoader(loader, max_shift=2)          # random shifts (and flips) per batch
    runs = depth_sweep({"plain": plain_net, "residual": cifar_resnet}, (8, 20, 32), x, y, ...)
    last_epoch_error(runs[("plain", 32)])                   # training error in the final epoch
    norms = block_gradient_norms(model, x, y)               # ||dL/d(block output)|| per block
    steps_to_error(lambda: lenet5(activation="relu"), x, y, threshold=0.3, lr=0.03)
    train_and_score(build, x, y, x_test, y_test, epochs=10, max_shift=2)
    strip_batchnorm(model)                                  # BatchNorm2d -> Identity

Every run is seeded, so the same arguments give the same numbers on the same machine.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import numpy as np
import torch
from torch import nn

from helpers.device import seed_everything, shifted_seed
from helpers.train import History, evaluate, fit, make_loader, steps_to_reach

MNIST_NORM = {"mean": 0.1307, "std": 0.3081}      # pixel mean and std of MNIST's training set
FASHION_NORM = {"mean": 0.2860, "std": 0.3530}    # the same for Fashion-MNIST


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


def random_shift(x: torch.Tensor, max_shift: int, generator: torch.Generator | None = None,
                 flip: bool = False) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, H, W): each image moved by its own random (dy, dx), |dy|, |dx| <=
    ``max_shift``, with zeros moved in at the border; ``flip`` also mirrors half of the images
    left-right. Draws from ``generator`` (on the CPU), so a seeded generator repeats itself."""
    if x.dim() != 4:
        raise ValueError(f"x must be (N, C, H, W), got shape {tuple(x.shape)}")
    if max_shift < 0:
        raise ValueError(f"max_shift must be >= 0, got {max_shift}")
    n, _, h, w = x.shape
    m = int(max_shift)
    offsets = torch.randint(0, 2 * m + 1, (2, n), generator=generator).to(x.device)
    padded = nn.functional.pad(x, (m, m, m, m)).permute(0, 2, 3, 1)  # (N, H + 2m, W + 2m, C)
    rows = offsets[0].view(n, 1, 1) + torch.arange(h, device=x.device).view(1, h, 1)
    cols = offsets[1].view(n, 1, 1) + torch.arange(w, device=x.device).view(1, 1, w)
    batch = torch.arange(n, device=x.device).view(n, 1, 1)
    out = padded[batch, rows, cols].permute(0, 3, 1, 2).contiguous()
    if flip:
        mirror = (torch.rand(n, generator=generator) < 0.5).to(x.device).view(n, 1, 1, 1)
        out = torch.where(mirror, out.flip(-1), out)
    return out


class AugmentedLoader:
    """Wraps a loader of ``(x, y)`` batches and applies :func:`random_shift` to every ``x``;
    a fresh random shift each time an image is seen, drawn from a generator seeded once."""

    def __init__(self, loader, max_shift: int = 2, flip: bool = False, seed: int = 0):
        self.loader, self.max_shift, self.flip = loader, max_shift, flip
        self.generator = torch.Generator().manual_seed(shifted_seed(seed))

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self):
        for x, y in self.loader:
            yield random_shift(x, self.max_shift, self.generator, self.flip), y


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
                **model_kwargs) -> dict[tuple[str, int], History]:
    """Train ``builders[name](depth, **model_kwargs)`` for every name and depth on the same
    data, seen in the same order (the loader and the model are seeded with ``seed`` for each
    run), with the same optimizer and budget. Returns ``{(name, depth): History}``."""
    runs = {}
    for name, build in builders.items():
        for depth in depths:
            seed_everything(seed)
            model = build(depth, **model_kwargs)
            loader = make_loader(x, y, batch_size=batch_size, shuffle=True, seed=seed, mean=mean,
                                 std=std, device=device)
            runs[(name, depth)] = fit(model, loader, epochs=epochs, lr=lr, optimizer=optimizer,
                                      device=device)
    return runs


def steps_to_error(build: Callable[[], nn.Module], x, y, *, threshold: float, lr: float,
                   max_steps: int = 160, seed: int = 0, batch_size: int = 64, window: int = 20,
                   mean=None, std=None, device=None) -> int | None:
    """Optimiser steps until ``build()``'s training error, averaged over ``window`` steps, is at
    most ``threshold`` (None if not within ``max_steps``): SGD with momentum 0.9 at learning rate
    ``lr``, batches of ``batch_size`` from ``(x, y)`` in a seeded order, model seeded too."""
    seed_everything(seed)
    model = build()
    loader = make_loader(x, y, batch_size=batch_size, shuffle=True, seed=seed, mean=mean,
                         std=std, device=device)
    epochs = -(-max_steps // len(loader))
    history = fit(model, loader, epochs=epochs, max_steps=max_steps, lr=lr, optimizer="sgd",
                  momentum=0.9, device=device)
    return steps_to_reach(history, threshold, window=window)


def train_and_score(build: Callable[[], nn.Module], x, y, x_test, y_test, *, epochs: int,
                    lr: float = 1e-3, max_shift: int = 0, seed: int = 0, batch_size: int = 64,
                    mean=None, std=None, device=None) -> tuple[float, float]:
    """Train ``build()`` with Adam on ``(x, y)`` (random shifts of up to ``max_shift`` pixels
    if > 0) and return its (training accuracy, test accuracy), both measured in eval mode."""
    seed_everything(seed)
    model = build()
    loader = make_loader(x, y, batch_size=batch_size, shuffle=True, seed=seed, mean=mean,
                         std=std, device=device)
    if max_shift:
        loader = AugmentedLoader(loader, max_shift=max_shift, seed=seed)
    fit(model, loader, epochs=epochs, lr=lr, optimizer="adam", device=device)
    scored = [make_loader(a, b, batch_size=1000, mean=mean, std=std, device=device)
              for a, b in ((x, y), (x_test, y_test))]
    return evaluate(model, scored[0])[1], evaluate(model, scored[1])[1]


def residual_stages(model: nn.Module) -> list[nn.Module]:
    """The blocks of a CIFAR-style network (``features.stage1..3`` of ``cifar_resnet`` or
    ``plain_net``) in forward order."""
    stages = [getattr(model.features, f"stage{i}", None) for i in (1, 2, 3)]
    if any(s is None for s in stages):
        raise ValueError("expected a model with features.stage1, stage2 and stage3 "
                         "(cifar_resnet or plain_net)")
    return [block for stage in stages for block in stage]


def block_gradient_norms(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                         blocks: list[nn.Module] | None = None) -> np.ndarray:
    """||dL/d(output of block i)|| for each block, first block first: one forward and backward
    pass of the cross-entropy loss on the batch ``(x, y)`` in training mode (as in training,
    so BatchNorm uses the batch's statistics). ``blocks`` defaults to :func:`residual_stages`.
    The parameters' gradients are cleared afterwards."""
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
    norms = np.array([o.grad.norm().item() for o in outputs])
    model.zero_grad(set_to_none=True)
    return norms


def strip_batchnorm(model: nn.Module) -> nn.Module:
    """Replace every ``BatchNorm2d`` by ``Identity`` (in place); returns the model."""
    for name, child in model.named_children():
        if isinstance(child, nn.BatchNorm2d):
            setattr(model, name, nn.Identity())
        else:
            strip_batchnorm(child)
    return model
