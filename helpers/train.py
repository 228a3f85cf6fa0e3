"""Training and evaluation loops, and data loaders made from the course's NumPy arrays.

    x_tr, y_tr, x_te, y_te = load_mnist()
    train = make_loader(x_tr, y_tr, batch_size=128, shuffle=True, seed=0)
    test = make_loader(x_te, y_te, batch_size=1000, shuffle=False)
    history = fit(model, train, epochs=2, lr=0.05, val_loader=test)
    loss, acc = evaluate(model, test)

``fit`` prints nothing (stored notebook outputs must be reproducible); its progress bar
(tqdm) is off when ``CNN_COURSE_NO_PROGRESS=1``. Whole data sets live as tensors on the
device, so a batch is a slice, not 128 separate ``__getitem__`` calls.
"""
from __future__ import annotations

import math
import time
from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.utils.data import TensorDataset

from helpers.device import get_device, progress_enabled, seed_everything, shifted_seed


def _as_images(x) -> torch.Tensor:
    """uint8 (N, H, W) or (N, C, H, W) array -> float32 (N, C, H, W) in [0, 1]
    (float input is kept as it is)."""
    arr = np.asarray(x)
    if arr.ndim == 3:
        arr = arr[:, None]
    if arr.ndim != 4:
        raise ValueError(f"images must be (N, H, W) or (N, C, H, W), got shape {arr.shape}")
    t = torch.from_numpy(np.ascontiguousarray(arr))
    if t.dtype == torch.uint8:
        return t.float().div_(255.0)
    if t.is_floating_point():
        return t.float()
    raise ValueError(f"images must be uint8 (0-255) or float, got dtype {arr.dtype}")


def _normalise(x: torch.Tensor, mean, std) -> torch.Tensor:
    """(x - mean) / std per channel; ``mean``/``std`` are scalars or one value per channel."""
    if mean is None and std is None:
        return x
    c = x.shape[1]
    mean_t = torch.as_tensor(0.0 if mean is None else mean, dtype=x.dtype).reshape(-1)
    std_t = torch.as_tensor(1.0 if std is None else std, dtype=x.dtype).reshape(-1)
    for name, t in (("mean", mean_t), ("std", std_t)):
        if t.numel() not in (1, c):
            raise ValueError(f"{name} needs 1 or {c} (channels) values, got {t.numel()}")
    if (std_t <= 0).any():
        raise ValueError(f"std must be positive, got {std}")
    return (x - mean_t.view(1, -1, 1, 1)) / std_t.view(1, -1, 1, 1)


def to_tensor_dataset(x, y, mean=None, std=None) -> TensorDataset:
    """uint8 images (N, H, W) + labels (N,) -> TensorDataset of float (N, C, H, W) in [0, 1]
    (normalised by ``mean``/``std`` if given) and int64 labels."""
    images = _normalise(_as_images(x), mean, std)
    labels = torch.as_tensor(np.asarray(y)).long().reshape(-1)
    if labels.shape[0] != images.shape[0]:
        raise ValueError(f"{images.shape[0]} images but {labels.shape[0]} labels")
    return TensorDataset(images, labels)


class TensorLoader:
    """Mini-batches ``(x, y)`` sliced from tensors that already sit on the device.

    With ``shuffle`` each pass uses a new permutation drawn from a generator seeded once
    with ``seed``, so the sequence of epochs is the same on every run.
    """

    def __init__(self, dataset: TensorDataset, batch_size: int = 128, shuffle: bool = False,
                 seed: int = 0, drop_last: bool = False, device=None):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.device = torch.device(device) if device is not None else get_device()
        self.x, self.y = (t.to(self.device) for t in dataset.tensors)
        self.dataset = dataset
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self.generator = torch.Generator().manual_seed(shifted_seed(seed))

    def __len__(self) -> int:
        n = self.x.shape[0]
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self):
        n = self.x.shape[0]
        order = torch.randperm(n, generator=self.generator).to(self.device) if self.shuffle \
            else None
        for i in range(len(self)):
            sl = slice(i * self.batch_size, (i + 1) * self.batch_size)
            if order is None:
                yield self.x[sl], self.y[sl]
            else:
                idx = order[sl]
                yield self.x[idx], self.y[idx]


def make_loader(x, y, batch_size: int = 128, shuffle: bool = False, seed: int = 0,
                mean=None, std=None, drop_last: bool = False, device=None) -> TensorLoader:
    """A :class:`TensorLoader` over uint8 images (N, H, W) scaled to [0, 1] (then normalised
    with ``mean``/``std`` if given) and their labels, on ``device`` (default: the best one)."""
    return TensorLoader(to_tensor_dataset(x, y, mean, std), batch_size, shuffle, seed,
                        drop_last, device)


def subset(x, y, n: int, seed: int = 0, stratified: bool = True):
    """``n`` examples of ``(x, y)``, in their original order. ``stratified`` takes (nearly)
    the same number of each class, ``n // k`` and one more for the first ``n % k`` classes."""
    y = np.asarray(y)
    if not 0 < n <= len(y):
        raise ValueError(f"n must be in [1, {len(y)}], got {n}")
    rng = np.random.default_rng(shifted_seed(seed))
    if not stratified:
        idx = rng.choice(len(y), size=n, replace=False)
    else:
        classes = np.unique(y)
        per_class = [n // len(classes) + (i < n % len(classes)) for i in range(len(classes))]
        pools = [np.flatnonzero(y == c) for c in classes]
        short = [(c, len(p), k) for c, p, k in zip(classes, pools, per_class) if len(p) < k]
        if short:
            raise ValueError(f"not enough examples for a stratified subset: (class, available, "
                             f"needed) {short}")
        idx = np.concatenate([rng.choice(p, size=k, replace=False)
                              for p, k in zip(pools, per_class)])
    idx = np.sort(idx)
    return np.asarray(x)[idx], y[idx]


@dataclass
class History:
    """What :func:`fit` measured: per-epoch means and per-step values."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)
    step_error: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    steps_per_epoch: int = 0
    seconds: float = 0.0

    @property
    def steps(self) -> int:
        return len(self.step_loss)

    @property
    def epochs(self) -> int:
        return len(self.train_loss)


def _optimizer(model: nn.Module, name: str, lr, momentum: float, weight_decay: float,
               no_decay: Collection[str] = ()):
    """The optimizer ``fit`` steps; the parameters named in ``no_decay`` (as in
    ``model.named_parameters()``) form a second group with ``weight_decay = 0``."""
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    unknown = set(no_decay) - {n for n, _ in named}
    if unknown:
        raise ValueError(f"no_decay names parameters the model does not train: {sorted(unknown)}")
    params = [p for n, p in named if n not in no_decay]
    if no_decay:
        params = [{"params": params},
                  {"params": [p for n, p in named if n in no_decay], "weight_decay": 0.0}]
    if name == "sgd":
        return torch.optim.SGD(params, lr=0.01 if lr is None else lr, momentum=momentum,
                               weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=1e-3 if lr is None else lr,
                                weight_decay=weight_decay)
    if name == "adamw":           # decoupled weight decay (Loshchilov & Hutter), DeiT's optimizer
        return torch.optim.AdamW(params, lr=1e-3 if lr is None else lr,
                                 weight_decay=weight_decay)
    raise ValueError(f"optimizer={name!r}: choose 'sgd', 'adam' or 'adamw'")


def _scheduler(optimizer, name, total_steps: int):
    """Stepped after every batch, over ``total_steps``."""
    if name is None:
        return None
    if name == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=[g["lr"] for g in optimizer.param_groups], total_steps=total_steps)
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    raise ValueError(f"scheduler={name!r}: choose None, 'onecycle' or 'cosine'")


def _progress_bar(total: int, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="step", leave=True)


def fit(model: nn.Module, train_loader, epochs: int = 1, lr: float | None = None,
        optimizer: str = "sgd", momentum: float = 0.9, weight_decay: float = 0.0,
        scheduler: str | None = None, val_loader=None, device=None, progress: bool = True,
        seed: int | None = None, max_steps: int | None = None, on_step=None,
        no_decay: Collection[str] = ()) -> History:
    """Train ``model`` with cross-entropy on ``train_loader``'s ``(x, y)`` batches.

    ``lr`` defaults to 0.01 for SGD (with ``momentum``) and 1e-3 for Adam and AdamW
    (``optimizer="adamw"``: ``weight_decay`` decoupled from the gradient); the parameters
    named in ``no_decay`` are not decayed (DeiT exempts biases, norm gains, the position
    embeddings and the class token: ``helpers.experiments.data_size.decay_exempt``); ``scheduler``
    ("onecycle" or "cosine") is stepped per batch. ``seed`` (if given) seeds everything first.
    Training stops after ``epochs`` or ``max_steps`` optimizer steps, whichever comes first, or
    when ``on_step(step, loss)`` (called after every step with a float loss) returns True.
    Returns a :class:`History`; prints nothing.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    if seed is not None:
        seed_everything(seed)
    device = torch.device(device) if device is not None else get_device()
    model.to(device)
    opt = _optimizer(model, optimizer, lr, momentum, weight_decay, no_decay)
    steps_per_epoch = len(train_loader)
    total = epochs * steps_per_epoch if max_steps is None else min(max_steps,
                                                                    epochs * steps_per_epoch)
    sched = _scheduler(opt, scheduler, total)
    history = History(steps_per_epoch=steps_per_epoch)
    bar = _progress_bar(total, progress and progress_enabled())
    loss_fn = nn.CrossEntropyLoss()
    start, step, stop = time.perf_counter(), 0, False
    try:
        for epoch in range(epochs):
            epoch_start = time.perf_counter()
            model.train()
            losses, errors, sizes = [], [], []
            for xb, yb in train_loader:
                xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
                logits = model(xb)
                loss = loss_fn(logits, yb)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                if sched is not None:
                    sched.step()
                step += 1
                losses.append(loss.detach())
                errors.append((logits.detach().argmax(1) != yb).float().mean())
                sizes.append(yb.shape[0])
                if bar is not None:
                    bar.update(1)
                    if step % 10 == 0 or step == total:
                        bar.set_postfix(epoch=f"{epoch + 1}/{epochs}", loss=f"{loss.item():.4f}")
                if on_step is not None and on_step(step, loss.item()):
                    stop = True
                if stop or step >= total:
                    stop = True
                    break
            _record_epoch(history, losses, errors, sizes)
            if val_loader is not None:
                val_loss, val_acc = evaluate(model, val_loader, device)
                history.val_loss.append(val_loss)
                history.val_acc.append(val_acc)
            history.epoch_seconds.append(time.perf_counter() - epoch_start)
            if stop:
                break
    finally:
        if bar is not None:
            bar.close()
    history.seconds = time.perf_counter() - start
    return history


def _record_epoch(history: History, losses, errors, sizes) -> None:
    """Move one epoch's per-step values off the device in one go and add the epoch means."""
    if not losses:
        return
    step_loss = torch.stack(losses).tolist()
    step_error = torch.stack(errors).tolist()
    history.step_loss += step_loss
    history.step_error += step_error
    n = sum(sizes)
    history.train_loss.append(sum(v * s for v, s in zip(step_loss, sizes)) / n)
    history.train_acc.append(1.0 - sum(v * s for v, s in zip(step_error, sizes)) / n)


def evaluate(model: nn.Module, loader, device=None) -> tuple[float, float]:
    """(mean cross-entropy loss, accuracy) of ``model`` over ``loader``, in eval mode, without
    gradients; the model's training mode is restored afterwards."""
    device = torch.device(device) if device is not None else next(model.parameters()).device
    was_training = model.training
    model.eval()
    total_loss = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    n = 0
    try:
        with torch.no_grad():
            for xb, yb in loader:
                xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
                logits = model(xb)
                total_loss += nn.functional.cross_entropy(logits, yb, reduction="sum")
                correct += (logits.argmax(1) == yb).sum()
                n += yb.shape[0]
    finally:
        model.train(was_training)
    if n == 0:
        raise ValueError("evaluate: the loader gave no examples")
    return total_loss.item() / n, correct.item() / n


def steps_to_reach(history: History, threshold: float, window: int = 50) -> int | None:
    """First step (1-based) at which the training error averaged over the last ``window``
    steps is <= ``threshold``; None if it never is. Only full windows count (a history
    shorter than ``window`` is averaged as a whole). Divide by ``history.steps_per_epoch``
    for epochs."""
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold is an error rate in [0, 1], got {threshold}")
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    errors = np.asarray(history.step_error, dtype=float)
    if errors.size == 0:
        return None
    sums = np.cumsum(errors)
    steps = np.arange(1, errors.size + 1)
    lo = np.maximum(steps - window, 0)
    running = (sums - np.concatenate([[0.0], sums])[lo]) / (steps - lo)
    full = steps >= min(window, errors.size)
    hits = np.flatnonzero((running <= threshold) & full)
    return int(hits[0]) + 1 if hits.size else None
