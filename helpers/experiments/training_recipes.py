"""Chapter 6: what the training recipe of AlexNet and VGG buys -- ReLU against tanh (optimiser
steps to a training error) and dropout and random shifts (test accuracy of a small VGG).

    shifted = AugmentedLoader(loader, max_shift=2, **MNIST_NORM)  # random shifts, black border
    steps_to_error(lambda: lenet5(activation="relu"), x, y, threshold=0.3, lr=0.03)
    steps_to_error(lambda: he_init(lenet5(activation="relu")), x, y, threshold=0.3, lr=0.03)
    steps_to_errors(build, x, y, thresholds=(0.2, 0.1), lr=0.03)   # both from one run
    train_and_score(build, x, y, x_test, y_test, epochs=10, max_shift=2)

Every run is seeded, so the same arguments give the same numbers on the same machine.
"""
from __future__ import annotations

from collections.abc import Callable
from math import isfinite

import torch
from torch import nn

from helpers.device import seed_everything, shifted_seed
from helpers.train import evaluate, fit, make_loader, steps_to_reach


def random_shift(x: torch.Tensor, max_shift: int, generator: torch.Generator | None = None,
                 flip: bool = False, fill=0.0) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, H, W): each image moved by its own random (dy, dx), |dy|, |dx| <=
    ``max_shift``, with ``fill`` moved in at the border (a scalar or one value per channel; for
    normalised images pass the normalised background, ``(0 - mean) / std``, not 0); ``flip``
    also mirrors half of the images left-right. Draws from ``generator`` (on the CPU), so a
    seeded generator repeats itself."""
    if x.dim() != 4:
        raise ValueError(f"x must be (N, C, H, W), got shape {tuple(x.shape)}")
    if max_shift < 0:
        raise ValueError(f"max_shift must be >= 0, got {max_shift}")
    n, c, h, w = x.shape
    fill_t = torch.as_tensor(fill, dtype=x.dtype, device=x.device).reshape(-1)
    if fill_t.numel() not in (1, c):
        raise ValueError(f"fill needs 1 or {c} (channels) values, got {fill_t.numel()}")
    m = int(max_shift)
    offsets = torch.randint(0, 2 * m + 1, (2, n), generator=generator).to(x.device)
    padded = fill_t.view(1, -1, 1, 1).expand(n, c, h + 2 * m, w + 2 * m).clone()
    padded[:, :, m:m + h, m:m + w] = x                   # the border holds ``fill``, per channel
    padded = padded.permute(0, 2, 3, 1)                  # (N, H + 2m, W + 2m, C)
    rows = offsets[0].view(n, 1, 1) + torch.arange(h, device=x.device).view(1, h, 1)
    cols = offsets[1].view(n, 1, 1) + torch.arange(w, device=x.device).view(1, 1, w)
    batch = torch.arange(n, device=x.device).view(n, 1, 1)
    out = padded[batch, rows, cols].permute(0, 3, 1, 2).contiguous()
    if flip:
        mirror = (torch.rand(n, generator=generator) < 0.5).to(x.device).view(n, 1, 1, 1)
        out = torch.where(mirror, out.flip(-1), out)
    return out


def background(mean=None, std=None):
    """The value a black pixel (raw intensity 0) has after normalising with ``mean``/``std``:
    ``(0 - mean) / std`` (a scalar, or a list with one value per channel); 0 without them.
    MNIST's mean 0.1307 and std 0.3081 give -0.424; a 0 in the normalised tensor is raw
    intensity 0.1307, a grey, not black."""
    if mean is None and std is None:
        return 0.0
    mean_t = torch.as_tensor(0.0 if mean is None else mean, dtype=torch.float32).reshape(-1)
    std_t = torch.as_tensor(1.0 if std is None else std, dtype=torch.float32).reshape(-1)
    if (std_t <= 0).any():
        raise ValueError(f"std must be positive, got {std}")
    value = -mean_t / std_t
    return value.item() if value.numel() == 1 else value.tolist()


class AugmentedLoader:
    """Wraps a loader of ``(x, y)`` batches and applies :func:`random_shift` to every ``x``;
    a fresh random shift each time an image is seen, drawn from a generator seeded once.
    Pass the ``mean``/``std`` the loader normalised with: the pixels moved in at the border are
    then black, :func:`background` ``(mean, std)``, as if the image were shifted before it was
    normalised (a 0 in a normalised tensor is the data set's mean intensity, a grey bar)."""

    def __init__(self, loader, max_shift: int = 2, flip: bool = False, seed: int = 0,
                 mean=None, std=None):
        self.loader, self.max_shift, self.flip = loader, max_shift, flip
        self.fill = background(mean, std)
        self.generator = torch.Generator().manual_seed(shifted_seed(seed))

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self):
        for x, y in self.loader:
            yield random_shift(x, self.max_shift, self.generator, self.flip, self.fill), y


def he_init(model: nn.Module) -> nn.Module:
    """``model`` with He (Kaiming) initialisation for ReLU, in place: every ``nn.Conv2d`` and
    ``nn.Linear`` weight drawn from N(0, 2 / fan_in), fan_in = C_in * k * k (or in_features),
    biases zero -- so a ReLU layer's output keeps, on average, its input's mean square (He et
    al., 2015). PyTorch's default draws from U(-b, b), b = 1 / sqrt(fan_in): a variance of
    1 / (3 fan_in), a sixth of this, so a deep ReLU stack's signal shrinks layer by layer."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return model


def lecun_init(model: nn.Module) -> nn.Module:
    """``model`` with LeCun initialisation for tanh, in place: every ``nn.Conv2d`` and
    ``nn.Linear`` weight drawn from N(0, 1 / fan_in), fan_in = C_in * k * k (or in_features),
    biases zero -- the variance that keeps a layer's output at its input's mean square while
    tanh is near its linear range (LeCun et al., "Efficient BackProp", 1998; Glorot and
    Bengio's 2 / (fan_in + fan_out) is the same when fan_in = fan_out). PyTorch's default,
    1 / (3 fan_in), shrinks a tanh stack's signal about threefold per layer."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="linear")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return model


def steps_to_error(build: Callable[[], nn.Module], x, y, *, threshold: float, lr: float,
                   max_steps: int = 160, seed: int = 0, batch_size: int = 64, window: int = 20,
                   mean=None, std=None, device=None, progress: bool = True) -> int | None:
    """Optimiser steps until ``build()``'s training error, averaged over ``window`` steps, is at
    most ``threshold`` (None if not within ``max_steps``): SGD with momentum 0.9 at learning rate
    ``lr``, batches of ``batch_size`` from ``(x, y)`` in a seeded order, model seeded too.
    ``progress=False`` hides the progress bar."""
    return steps_to_errors(build, x, y, thresholds=(threshold,), lr=lr, max_steps=max_steps,
                           seed=seed, batch_size=batch_size, window=window, mean=mean, std=std,
                           device=device, progress=progress)[threshold]


def steps_to_errors(build: Callable[[], nn.Module], x, y, *, thresholds, lr: float,
                    max_steps: int = 160, seed: int = 0, batch_size: int = 64, window: int = 20,
                    mean=None, std=None, device=None,
                    progress: bool = True) -> dict[float, int | None]:
    """:func:`steps_to_error` for several thresholds from one training run: ``{threshold:
    steps}`` (None: not within ``max_steps``), the run stopping once the lowest threshold is
    reached (or the loss is no longer finite). The steps to a threshold do not depend on the
    other thresholds asked for, so an easy and a hard finish line come from the same
    trajectory."""
    thresholds = tuple(float(t) for t in thresholds)
    if not thresholds or any(not 0.0 <= t <= 1.0 for t in thresholds):
        raise ValueError(f"thresholds must be error rates in [0, 1], got {thresholds}")
    if max_steps < 1:
        raise ValueError(f"max_steps must be >= 1, got {max_steps}")
    lowest = min(thresholds)
    seed_everything(seed)
    model = build()
    loader = make_loader(x, y, batch_size=batch_size, shuffle=True, seed=seed, mean=mean,
                         std=std, device=device)
    watch = _ErrorWatch(model, loader)
    epochs = -(-max_steps // len(loader))

    def reached(step, loss):             # stop as soon as the answer is known (or diverged)
        return watch.window_error(window) <= lowest or not isfinite(loss)   # diverged

    history = fit(watch, watch, epochs=epochs, max_steps=max_steps, lr=lr, optimizer="sgd",
                  momentum=0.9, device=device, on_step=reached, progress=progress)
    return {t: steps_to_reach(history, t, window=window) for t in thresholds}


class _ErrorWatch(nn.Module):
    """Wraps a model and its loader: remembers each batch's labels and predictions, so that the
    training error of the last steps is known while training runs."""

    def __init__(self, model: nn.Module, loader):
        super().__init__()
        self.model, self.loader, self.errors, self.labels = model, loader, [], None

    def forward(self, x):
        logits = self.model(x)
        if self.training and self.labels is not None:
            self.errors.append((logits.detach().argmax(1) != self.labels).float().mean().item())
        return logits

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self):
        for x, y in self.loader:
            self.labels = y
            yield x, y

    def window_error(self, window: int) -> float:
        """Mean error of the last ``window`` steps (inf before ``window`` steps)."""
        if len(self.errors) < window:
            return float("inf")
        return sum(self.errors[-window:]) / window


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
        loader = AugmentedLoader(loader, max_shift=max_shift, seed=seed, mean=mean, std=std)
    fit(model, loader, epochs=epochs, lr=lr, optimizer="adam", device=device)
    scored = [make_loader(a, b, batch_size=1000, mean=mean, std=std, device=device)
              for a, b in ((x, y), (x_test, y_test))]
    return evaluate(model, scored[0])[1], evaluate(model, scored[1])[1]


#: Chapter 6's regularisation experiment: the three trainings of the small VGG-style network.
REGULARISATION_ARMS = {"no dropout": (0.0, 0), "dropout 0.5": (0.5, 0),
                       "shifts of up to 2 px": (0.0, 2)}


def regularisation_arms(x, y, x_test, y_test, *, seed: int = 0, epochs: int = 10,
                        arms=tuple(REGULARISATION_ARMS), mean=None, std=None,
                        device=None) -> dict[str, tuple[float, float]]:
    """Chapter 6's experiment and its full-length record in one code path: the small VGG-style
    network (one 3x3 convolution per stage, 8 and 16 channels, FC 256; (N, 1, 28, 28) -> (N, 10))
    trained with Adam for ``epochs`` on ``(x, y)`` once per arm of :data:`REGULARISATION_ARMS`
    (no dropout; dropout 0.5 before the last layer; random shifts of up to 2 px), each from the
    same seed. Returns {arm: (training accuracy, test accuracy)}."""
    from helpers.models import small_vgg

    unknown = set(arms) - set(REGULARISATION_ARMS)
    if unknown:
        raise ValueError(f"unknown arms {sorted(unknown)}; choose from {list(REGULARISATION_ARMS)}")
    out = {}
    for arm in arms:
        dropout, max_shift = REGULARISATION_ARMS[arm]

        def build(dropout=dropout):
            return small_vgg(channels=(8, 16), convs_per_stage=1, hidden=256, dropout=dropout)
        out[arm] = train_and_score(build, x, y, x_test, y_test, epochs=epochs,
                                   max_shift=max_shift, seed=seed, mean=mean, std=std,
                                   device=device)
    return out
