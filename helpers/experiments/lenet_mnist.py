"""Chapter 6: LeNet-5 trained on MNIST -- the one recipe behind the chapter's training run and
the weights of the website's "draw a digit" explorer (``python -m tools.export_lenet``).

    print(LENET_MNIST)                                 # the settings, one per line
    train = LENET_MNIST.loader(x_train, y_train)       # shuffled, normalised batches
    model = LENET_MNIST.build()                        # seeded LeNet-5 for 28x28 digits
    history = LENET_MNIST.train(model, train)          # SGD, momentum, one-cycle schedule
    model, history = train_lenet_mnist(x_train, y_train)   # the three steps in one call

Every seed passes through :func:`helpers.device.shifted_seed`, so ``CNN_COURSE_SEED_SHIFT``
moves them as everywhere else in the course.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from helpers.data import MNIST_NORM
from helpers.device import seed_everything
from helpers.models import lenet5
from helpers.train import History, fit, make_loader


@dataclass(frozen=True)
class LeNetRecipe:
    """How LeNet-5 is trained on MNIST's 60,000 training digits (normalised with
    ``MNIST_NORM``): the model, the data order, the initialisation and the optimiser."""

    input_size: int = 28          # lenet5(input_size=28): C1 padded by 2 pixels
    channels_last: bool = True    # memory layout only: faster convolutions on a CPU
    batch_size: int = 128
    shuffle_seed: int = 0         # the order of the training digits, epoch after epoch
    init_seed: int = 0            # seed_everything(init_seed) before the model is built
    epochs: int = 2
    optimizer: str = "sgd"
    lr: float = 0.2               # the one-cycle schedule's peak learning rate
    momentum: float = 0.9
    scheduler: str = "onecycle"

    def __str__(self) -> str:
        width = max(len(name) for name in asdict(self))
        return "\n".join([f"{type(self).__name__}:"] +
                         [f"  {name:<{width}}  {value!r}" for name, value in asdict(self).items()])

    def loader(self, x, y, device=None):
        """The training batches: ``(x, y)`` normalised with ``MNIST_NORM``, shuffled."""
        return make_loader(x, y, batch_size=self.batch_size, shuffle=True,
                           seed=self.shuffle_seed, device=device, **MNIST_NORM)

    def build(self) -> nn.Module:
        """LeNet-5 for ``input_size`` digits, initialised after ``seed_everything(init_seed)``."""
        seed_everything(self.init_seed)
        model = lenet5(input_size=self.input_size)
        return model.to(memory_format=torch.channels_last) if self.channels_last else model

    def train(self, model: nn.Module, loader, device=None, progress: bool = True) -> History:
        """``fit`` with the recipe's epochs, optimiser and learning-rate schedule."""
        return fit(model, loader, epochs=self.epochs, lr=self.lr, optimizer=self.optimizer,
                   momentum=self.momentum, scheduler=self.scheduler, device=device,
                   progress=progress)

    def record(self) -> dict:
        """The recipe as plain JSON values (what the explorer's weights file records)."""
        layout = ", channels_last" if self.channels_last else ""
        return {"model": f"lenet5(input_size={self.input_size}){layout}",
                "data": "MNIST, normalised with MNIST_NORM",
                **{k: v for k, v in asdict(self).items()
                   if k not in ("input_size", "channels_last")}}


LENET_MNIST = LeNetRecipe()


def train_lenet_mnist(x, y, recipe: LeNetRecipe = LENET_MNIST, device=None,
                      progress: bool = True) -> tuple[nn.Module, History]:
    """LeNet-5 trained on the digits ``(x, y)`` by ``recipe``: (model, its :class:`History`).
    The same steps, in the same order, as chapter 6's cells."""
    loader = recipe.loader(x, y, device=device)
    model = recipe.build()
    return model, recipe.train(model, loader, device=device, progress=progress)
