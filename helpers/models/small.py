"""Small models for CPU experiments on 28x28 single-channel images (MNIST, Fashion-MNIST).

* :func:`cifar_resnet` -- He et al. (2015) section 4.2: a 3x3 conv, three stages of ``n``
  BasicBlocks at 16, 32 and 64 channels (28x28, 14x14, 7x7 here), global average pool and FC;
  depth = 6n + 2. Shortcuts: identity, and a 1x1 conv + BN projection where the shape changes
  (option B; the paper's CIFAR runs used option A, zero-padding, which has no parameters).
* :func:`plain_net` -- the same network without any shortcut (the paper's "plain" baseline).
* :func:`small_vgg` -- VGG's recipe (stages of 3x3 convs, 2x2 max pool, FC) at small width.
* :func:`small_cnn` -- conv, ReLU, max pool per stage, then global average pool and one linear
  layer, so it takes any input size.
* :func:`tiny_vit` -- a Vision Transformer of width 64 on 7x7 (or 4x4) patches.
* :func:`mlp` -- a fully connected network, the baseline every CNN is compared with.
"""
from __future__ import annotations

from collections import OrderedDict

from torch import nn

from helpers.models.base import FeaturesClassifier, resolve_layers
from helpers.models.lenet import activation_module
from helpers.models.resnet import BasicBlock, init_conv_bn, make_stage
from helpers.models.vgg import vgg_trunk
from helpers.models.vit import VisionTransformer


class PlainBlock(nn.Module):
    """BasicBlock without the shortcut: ``relu(bn2(conv2(relu(bn1(conv1(x))))))``.

    (N, C_in, H, W) -> (N, C_out, H', W'), H' = (H - 1) // stride + 1.
    """

    expansion = 1

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, layers=None):
        super().__init__()
        L = resolve_layers(layers)
        self.conv1 = L.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = L.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)

    def forward(self, x):
        return self.relu(self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x))))))

    def receptive_field_paths(self):
        """A single path: the two convs."""
        return [[self.conv1, self.bn1, self.relu, self.conv2, self.bn2, self.relu]]


def blocks_per_stage(depth: int) -> int:
    """n for depth = 6n + 2 (20 -> 3, 56 -> 9, 110 -> 18)."""
    if depth < 8 or (depth - 2) % 6:
        raise ValueError(f"depth={depth}: a CIFAR-style ResNet has depth 6n + 2 "
                         "(8, 14, 20, 32, 44, 56, 110, ...)")
    return (depth - 2) // 6


class CifarResNet(FeaturesClassifier):
    """(N, C, H, W) -> (N, num_classes) for any H, W >= 4; the trunk gives (N, 4w, H/4, W/4)."""

    def __init__(self, depth: int, block=BasicBlock, width: int = 16, num_classes: int = 10,
                 in_channels: int = 1, layers=None):
        super().__init__()
        n = blocks_per_stage(depth)
        L = resolve_layers(layers)
        parts = [("conv1", L.Conv2d(in_channels, width, 3, padding=1, bias=False)),
                 ("bn1", nn.BatchNorm2d(width)), ("relu", nn.ReLU(inplace=True))]
        channels = width
        for i, (mult, stride) in enumerate(((1, 1), (2, 2), (4, 2))):
            parts.append((f"stage{i + 1}", make_stage(block, channels, mult * width, n, stride,
                                                      layers)))
            channels = mult * width
        self.features = nn.Sequential(OrderedDict(parts))
        self.classifier = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                        nn.Linear(channels, num_classes))
        init_conv_bn(self, L.Conv2d)


def cifar_resnet(depth: int, width: int = 16, num_classes: int = 10, in_channels: int = 1,
                 layers=None) -> CifarResNet:
    """ResNet-``depth`` (depth = 6n + 2) with option-B (projection) shortcuts."""
    return CifarResNet(depth, BasicBlock, width, num_classes, in_channels, layers)


def plain_net(depth: int, width: int = 16, num_classes: int = 10, in_channels: int = 1,
              layers=None) -> CifarResNet:
    """The plain counterpart of ``cifar_resnet(depth)``: same convs, no shortcuts."""
    return CifarResNet(depth, PlainBlock, width, num_classes, in_channels, layers)


def _spatial_after_pools(input_size: int, pools: int) -> int:
    size = input_size
    for _ in range(pools):
        size //= 2
    if size < 1:
        raise ValueError(f"input_size={input_size} is too small for {pools} 2x2 poolings")
    return size


class SmallVGG(FeaturesClassifier):
    """(N, C, S, S) -> (N, num_classes), S = ``input_size``; the trunk gives (N, c, S', S'),
    S' = S // 2**len(channels)."""

    def __init__(self, channels=(32, 64), convs_per_stage: int = 2, hidden: int = 128,
                 num_classes: int = 10, in_channels: int = 1, input_size: int = 28,
                 batch_norm: bool = False, dropout: float = 0.5, layers=None):
        super().__init__()
        config = [item for c in channels for item in [c] * convs_per_stage + ["M"]]
        self.features = vgg_trunk(config, in_channels, batch_norm, layers)
        side = _spatial_after_pools(input_size, len(channels))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(channels[-1] * side * side, hidden), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Linear(hidden, num_classes))


def small_vgg(channels=(32, 64), convs_per_stage: int = 2, hidden: int = 128,
              num_classes: int = 10, in_channels: int = 1, input_size: int = 28,
              batch_norm: bool = False, dropout: float = 0.5, layers=None) -> SmallVGG:
    """Stages of ``convs_per_stage`` 3x3 convs + 2x2 max pool, then FC ``hidden``, FC classes."""
    return SmallVGG(channels, convs_per_stage, hidden, num_classes, in_channels, input_size,
                    batch_norm, dropout, layers)


class SmallCNN(FeaturesClassifier):
    """(N, C, H, W) -> (N, num_classes). With ``global_pool`` any H, W >= 2**len(channels)
    works; without, the flattened trunk must match ``input_size``."""

    def __init__(self, channels=(16, 32), num_classes: int = 10, global_pool: bool = True,
                 in_channels: int = 1, kernel_size: int = 3, input_size: int = 28,
                 batch_norm: bool = False, layers=None):
        super().__init__()
        L = resolve_layers(layers)
        modules: list[nn.Module] = []
        prev = in_channels
        for c in channels:
            modules.append(L.Conv2d(prev, c, kernel_size, padding=kernel_size // 2))
            if batch_norm:
                modules.append(nn.BatchNorm2d(c))
            modules += [nn.ReLU(inplace=True), L.MaxPool2d(kernel_size=2, stride=2)]
            prev = c
        self.features = nn.Sequential(*modules)
        if global_pool:
            head = [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(prev, num_classes)]
        else:
            side = _spatial_after_pools(input_size, len(channels))
            head = [nn.Flatten(), nn.Linear(prev * side * side, num_classes)]
        self.classifier = nn.Sequential(*head)


def small_cnn(channels=(16, 32), num_classes: int = 10, global_pool: bool = True,
              in_channels: int = 1, kernel_size: int = 3, input_size: int = 28,
              batch_norm: bool = False, layers=None) -> SmallCNN:
    """Per stage: conv (same padding), ReLU, 2x2 max pool; then global avg pool and linear."""
    return SmallCNN(channels, num_classes, global_pool, in_channels, kernel_size, input_size,
                    batch_norm, layers)


class FlattenInput(nn.Flatten):
    """(N, *) -> (N, in_features); a ValueError names the shapes if the sizes do not match."""

    def __init__(self, in_features: int):
        super().__init__()
        self.in_features = in_features

    def forward(self, x):
        if x[0].numel() != self.in_features:
            raise ValueError(f"this MLP takes {self.in_features} input features, got "
                             f"input of shape {tuple(x.shape)} ({x[0].numel()} per example)")
        return super().forward(x)


class MultiLayerPerceptron(FeaturesClassifier):
    """(N, ...) -> (N, num_classes): flatten, [Linear, activation] per hidden size, Linear."""

    def __init__(self, in_features: int = 784, hidden=(256,), num_classes: int = 10,
                 activation: str = "relu"):
        super().__init__()
        modules: list[nn.Module] = [FlattenInput(in_features)]
        prev = in_features
        for h in hidden:
            modules += [nn.Linear(prev, h), activation_module(activation)]
            prev = h
        self.features = nn.Sequential(*modules)
        self.classifier = nn.Linear(prev, num_classes)


def mlp(in_features: int = 784, hidden=(256,), num_classes: int = 10,
        activation: str = "relu") -> MultiLayerPerceptron:
    """A fully connected network; ``hidden=()`` is multinomial logistic regression."""
    return MultiLayerPerceptron(in_features, tuple(hidden), num_classes, activation)


def tiny_vit(patch: int = 7, dim: int = 64, depth: int = 4, heads: int = 4, mlp_ratio: int = 4,
             num_classes: int = 10, in_channels: int = 1, image_size: int = 28,
             dropout: float = 0.0, attention=None, layers=None) -> VisionTransformer:
    """A small ViT: patch 7 gives 16 (+1) tokens on 28x28, patch 4 gives 49 (+1)."""
    return VisionTransformer(image_size, patch, depth, heads, dim, mlp_ratio * dim, num_classes,
                             in_channels, dropout, attention, layers)
