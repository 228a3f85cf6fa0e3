"""ResNet (He, Zhang, Ren and Sun, 2015) for ImageNet, with torchvision's parameter counts.

Read top-down (224x224 input)::

    stem:    conv 64 @ 7x7 /2, BN, ReLU -> 64x112x112; max pool 3x3 /2 -> 56x56
    layer1:  blocks at 56x56 (64 channels; x4 = 256 for bottlenecks)
    layer2:  blocks at 28x28 (128), the first block has stride 2
    layer3:  blocks at 14x14 (256)
    layer4:  blocks at 7x7   (512)
    head:    global average pool, FC 1000

    resnet18  BasicBlock [2, 2, 2, 2]   11,689,512 parameters
    resnet34  BasicBlock [3, 4, 6, 3]   21,797,672
    resnet50  Bottleneck [3, 4, 6, 3]   25,557,032
    resnet101 Bottleneck [3, 4, 23, 3]  44,549,160
    resnet152 Bottleneck [3, 8, 36, 3]  60,192,808

Variant choices (as torchvision): "ResNet v1.5" -- a bottleneck block downsamples in its 3x3
conv, not in its first 1x1 conv as in the paper; shortcuts are identities except where the
shape changes, where a 1x1 conv + BN projects (the paper's option B); convs have no bias
(BatchNorm follows each one).

Small variants for 28x28 images on a CPU (He et al., 2015, section 4.2):

* :func:`cifar_resnet` -- a 3x3 conv, three stages of ``n`` BasicBlocks at 16, 32 and 64
  channels (28x28, 14x14, 7x7 here), global average pool and FC; depth = 6n + 2. Shortcuts:
  identity, and a 1x1 conv + BN projection where the shape changes (option B; the paper's CIFAR
  runs used option A, zero-padding, which has no parameters).
* :func:`plain_net` -- the same network without any shortcut (the paper's "plain" baseline),
  built from :class:`PlainBlock`: a :class:`BasicBlock` with ``shortcut=False``.

:class:`PreActBlock` is the pre-activation block of He et al. (2016, "Identity mappings in
deep residual networks"): BN and ReLU before each conv, nothing after the sum.
"""
from __future__ import annotations

from collections import OrderedDict

from torch import nn

from helpers.models.base import FeaturesClassifier, resolve_layers


def projection_shortcut(*, in_channels: int, out_channels: int, stride: int,
                        layers=None) -> nn.Module:
    """Identity when the shape is kept, else 1x1 conv (stride ``stride``) + BN (option B)."""
    if stride == 1 and in_channels == out_channels:
        return nn.Identity()
    L = resolve_layers(layers)
    return nn.Sequential(L.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride,
                                  bias=False),
                         nn.BatchNorm2d(out_channels))


class BasicBlock(nn.Module):
    """Two 3x3 convs and a shortcut: ``relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))``.

    (N, C_in, H, W) -> (N, C_out, H', W'), H' = (H - 1) // stride + 1. With ``shortcut=False``
    the block is plain: ``relu(bn2(conv2(relu(bn1(conv1(x))))))``.
    """

    expansion = 1
    width_argument = "out_channels"     # what make_stage passes a stage's width as
    final_relu = True                   # a ReLU after the sum (False: pre-activation block)

    def __init__(self, *, in_channels: int, out_channels: int, stride: int = 1,
                 shortcut: bool = True, layers=None):
        super().__init__()
        L = resolve_layers(layers)
        self.conv1 = L.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = L.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = (projection_shortcut(in_channels=in_channels, out_channels=out_channels,
                                             stride=stride, layers=layers)
                         if shortcut else None)

    def residual(self, x):
        """F(x): the part of the block that learns the residual."""
        return self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))

    def forward(self, x):
        if self.shortcut is None:
            return self.relu(self.residual(x))
        return self.relu(self.residual(x) + self.shortcut(x))

    def receptive_field_paths(self):
        """The paths from input to output: the residual branch and (if any) the shortcut."""
        branch = [self.conv1, self.bn1, self.relu, self.conv2, self.bn2]
        return [branch] if self.shortcut is None else [branch, [self.shortcut]]


class PlainBlock(BasicBlock):
    """A :class:`BasicBlock` without the shortcut: ``relu(bn2(conv2(relu(bn1(conv1(x))))))``."""

    def __init__(self, *, in_channels: int, out_channels: int, stride: int = 1, layers=None):
        super().__init__(in_channels=in_channels, out_channels=out_channels, stride=stride,
                         shortcut=False, layers=layers)


class Bottleneck(nn.Module):
    """1x1 conv (reduce to ``width``), 3x3 conv (stride here: v1.5), 1x1 conv (expand x4).

    (N, C_in, H, W) -> (N, 4 * width, H', W'), H' = (H - 1) // stride + 1.
    """

    expansion = 4
    width_argument = "width"
    final_relu = True

    def __init__(self, *, in_channels: int, width: int, stride: int = 1, layers=None):
        super().__init__()
        L = resolve_layers(layers)
        out_channels = width * self.expansion
        self.conv1 = L.Conv2d(in_channels, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = L.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = L.Conv2d(width, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = projection_shortcut(in_channels=in_channels, out_channels=out_channels,
                                            stride=stride, layers=layers)

    def residual(self, x):
        """F(x): reduce, 3x3, expand."""
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.bn3(self.conv3(out))

    def forward(self, x):
        return self.relu(self.residual(x) + self.shortcut(x))

    def receptive_field_paths(self):
        """The two paths from input to output: the residual branch and the shortcut."""
        return [[self.conv1, self.bn1, self.relu, self.conv2, self.bn2, self.relu,
                 self.conv3, self.bn3], [self.shortcut]]


class PreActBlock(nn.Module):
    """Pre-activation block (He et al., 2016, "Identity mappings in deep residual networks"):
    ``conv2(relu(bn2(conv1(relu(bn1(x)))))) + shortcut(x)``, with NO ReLU after the sum, so an
    identity shortcut hands the gradient at the output to the input unchanged.

    (N, C_in, H, W) -> (N, C_out, H', W'), H' = (H - 1) // stride + 1. The shortcut is the
    identity when the shape is kept, else a 1x1 conv with ``stride`` (no bias, no BN).
    """

    expansion = 1
    width_argument = "out_channels"
    final_relu = False

    def __init__(self, *, in_channels: int, out_channels: int, stride: int = 1, layers=None):
        super().__init__()
        L = resolve_layers(layers)
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.relu = nn.ReLU()
        self.conv1 = L.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.conv2 = L.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.shortcut = (nn.Identity() if stride == 1 and in_channels == out_channels else
                         L.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False))

    def residual(self, x):
        """F(x): BN, ReLU, conv, BN, ReLU, conv -- the activations come before the convs."""
        return self.conv2(self.relu(self.bn2(self.conv1(self.relu(self.bn1(x))))))

    def forward(self, x):
        return self.residual(x) + self.shortcut(x)

    def receptive_field_paths(self):
        """The two paths from input to output: the residual branch and the shortcut."""
        return [[self.bn1, self.relu, self.conv1, self.bn2, self.relu, self.conv2],
                [self.shortcut]]


def make_stage(block, *, in_channels: int, width: int, blocks: int, stride: int,
               layers=None) -> nn.Sequential:
    """``blocks`` residual blocks; the first one has ``stride`` and changes the width."""
    if blocks < 1:
        raise ValueError(f"a stage needs at least one block, got blocks={blocks}")
    stage = []
    for i in range(blocks):
        stage.append(block(in_channels=in_channels, stride=stride if i == 0 else 1,
                           layers=layers, **{block.width_argument: width}))
        in_channels = width * block.expansion
    return nn.Sequential(*stage)


def init_conv_bn(model: nn.Module, conv_type) -> nn.Module:
    """He (Kaiming) normal init for convs (fan_out, as torchvision); BN weight 1, bias 0."""
    for m in model.modules():
        if isinstance(m, conv_type):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    return model


def zero_init_residual(model: nn.Module) -> nn.Module:
    """Set the scale gamma of the LAST batch norm of every residual block to 0 (Goyal et al.,
    2017; torchvision's ``zero_init_residual``), so that each block starts as its shortcut:
    ``relu(0 + x) = x`` for non-negative x. In place; returns the model."""
    for m in model.modules():
        if isinstance(m, Bottleneck):
            nn.init.zeros_(m.bn3.weight)
        elif isinstance(m, BasicBlock) and m.shortcut is not None:
            nn.init.zeros_(m.bn2.weight)
    return model


def residual_network(*, stem, block, widths, blocks_per_stage, strides, num_classes: int,
                     stage_name: str, layers=None) -> tuple[nn.Sequential, nn.Sequential]:
    """``(features, classifier)``: ``stem`` (name, module) pairs, then one stage of ``block``
    per width, then global average pool and FC -- the shape of every ResNet here."""
    parts = list(stem)
    channels = stem[0][1].out_channels
    for i, (width, blocks, stride) in enumerate(zip(widths, blocks_per_stage, strides)):
        parts.append((f"{stage_name}{i + 1}", make_stage(
            block, in_channels=channels, width=width, blocks=blocks, stride=stride,
            layers=layers)))
        channels = width * block.expansion
    features = nn.Sequential(OrderedDict(parts))
    classifier = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                               nn.Linear(channels, num_classes))
    return features, classifier


class ResNet(FeaturesClassifier):
    """(N, 3, 224, 224) -> (N, num_classes); the trunk gives (N, 512 * expansion, 7, 7)."""

    def __init__(self, *, block, blocks_per_stage, num_classes: int = 1000, in_channels: int = 3,
                 layers=None):
        super().__init__()
        if len(blocks_per_stage) != 4:
            raise ValueError(f"blocks_per_stage needs 4 entries, got {blocks_per_stage}")
        L = resolve_layers(layers)
        stem = [("conv1", L.Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False)),
                ("bn1", nn.BatchNorm2d(64)), ("relu", nn.ReLU(inplace=True)),
                ("maxpool", L.MaxPool2d(kernel_size=3, stride=2, padding=1))]
        self.features, self.classifier = residual_network(
            stem=stem, block=block, widths=(64, 128, 256, 512), blocks_per_stage=blocks_per_stage,
            strides=(1, 2, 2, 2), num_classes=num_classes, stage_name="layer", layers=layers)
        init_conv_bn(self, L.Conv2d)


def resnet18(**kwargs) -> ResNet:
    """ResNet-18: BasicBlock x [2, 2, 2, 2]; 11,689,512 parameters. ``kwargs`` as
    :class:`ResNet` (num_classes, in_channels, layers)."""
    return ResNet(block=BasicBlock, blocks_per_stage=(2, 2, 2, 2), **kwargs)


def resnet34(**kwargs) -> ResNet:
    """ResNet-34: BasicBlock x [3, 4, 6, 3]; 21,797,672 parameters."""
    return ResNet(block=BasicBlock, blocks_per_stage=(3, 4, 6, 3), **kwargs)


def resnet50(**kwargs) -> ResNet:
    """ResNet-50 (v1.5): Bottleneck x [3, 4, 6, 3]; 25,557,032 parameters."""
    return ResNet(block=Bottleneck, blocks_per_stage=(3, 4, 6, 3), **kwargs)


def resnet101(**kwargs) -> ResNet:
    """ResNet-101 (v1.5): Bottleneck x [3, 4, 23, 3]; 44,549,160 parameters."""
    return ResNet(block=Bottleneck, blocks_per_stage=(3, 4, 23, 3), **kwargs)


def resnet152(**kwargs) -> ResNet:
    """ResNet-152 (v1.5): Bottleneck x [3, 8, 36, 3]; 60,192,808 parameters."""
    return ResNet(block=Bottleneck, blocks_per_stage=(3, 8, 36, 3), **kwargs)


# --- small variants: CIFAR-style ResNets on 28x28 images -------------------------------------

def blocks_per_stage(depth: int) -> int:
    """n for depth = 6n + 2 (20 -> 3, 56 -> 9, 110 -> 18)."""
    if depth < 8 or (depth - 2) % 6:
        raise ValueError(f"depth={depth}: a CIFAR-style ResNet has depth 6n + 2 "
                         "(8, 14, 20, 32, 44, 56, 110, ...)")
    return (depth - 2) // 6


class CifarResNet(FeaturesClassifier):
    """(N, C, H, W) -> (N, num_classes) for any H, W >= 4; the trunk gives (N, 4w, H/4, W/4)."""

    def __init__(self, *, depth: int, block=BasicBlock, width: int = 16, num_classes: int = 10,
                 in_channels: int = 1, layers=None):
        super().__init__()
        n = blocks_per_stage(depth)
        L = resolve_layers(layers)
        stem = [("conv1", L.Conv2d(in_channels, width, 3, padding=1, bias=False)),
                ("bn1", nn.BatchNorm2d(width)), ("relu", nn.ReLU(inplace=True))]
        self.features, self.classifier = residual_network(
            stem=stem, block=block, widths=(width, 2 * width, 4 * width),
            blocks_per_stage=(n, n, n), strides=(1, 2, 2), num_classes=num_classes,
            stage_name="stage", layers=layers)
        init_conv_bn(self, L.Conv2d)


def cifar_resnet(depth: int, **kwargs) -> CifarResNet:
    """ResNet-``depth`` (depth = 6n + 2) with option-B (projection) shortcuts.

    Keyword arguments (those of :class:`CifarResNet`): ``width=16`` (channels of the first
    stage; the stages have w, 2w, 4w), ``num_classes=10``, ``in_channels=1``, ``layers=None``.
    (N, in_channels, H, W) -> (N, num_classes) for any H, W >= 4."""
    return CifarResNet(depth=depth, block=BasicBlock, **kwargs)


def plain_net(depth: int, **kwargs) -> CifarResNet:
    """The plain counterpart of ``cifar_resnet(depth)``: same convs, no shortcuts."""
    return CifarResNet(depth=depth, block=PlainBlock, **kwargs)
