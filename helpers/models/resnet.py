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
"""
from __future__ import annotations

from collections import OrderedDict

from torch import nn

from helpers.models.base import FeaturesClassifier, resolve_layers


def projection_shortcut(in_channels: int, out_channels: int, stride: int, layers=None) -> nn.Module:
    """Identity when the shape is kept, else 1x1 conv (stride ``stride``) + BN (option B)."""
    if stride == 1 and in_channels == out_channels:
        return nn.Identity()
    L = resolve_layers(layers)
    return nn.Sequential(L.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride,
                                  bias=False),
                         nn.BatchNorm2d(out_channels))


class BasicBlock(nn.Module):
    """Two 3x3 convs and a shortcut: ``relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))``.

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
        self.shortcut = projection_shortcut(in_channels, out_channels, stride, layers)

    def residual(self, x):
        """F(x): the part of the block that learns the residual."""
        return self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))

    def forward(self, x):
        return self.relu(self.residual(x) + self.shortcut(x))

    def receptive_field_paths(self):
        """The two paths from input to output: the residual branch and the shortcut."""
        return [[self.conv1, self.bn1, self.relu, self.conv2, self.bn2], [self.shortcut]]


class Bottleneck(nn.Module):
    """1x1 conv (reduce to ``width``), 3x3 conv (stride here: v1.5), 1x1 conv (expand x4).

    (N, C_in, H, W) -> (N, 4 * width, H', W'), H' = (H - 1) // stride + 1.
    """

    expansion = 4

    def __init__(self, in_channels: int, width: int, stride: int = 1, layers=None):
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
        self.shortcut = projection_shortcut(in_channels, out_channels, stride, layers)

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


def make_stage(block, in_channels: int, width: int, blocks: int, stride: int,
               layers=None) -> nn.Sequential:
    """``blocks`` residual blocks; the first one has ``stride`` and changes the width."""
    if blocks < 1:
        raise ValueError(f"a stage needs at least one block, got blocks={blocks}")
    stage = [block(in_channels, width, stride, layers)]
    stage += [block(width * block.expansion, width, 1, layers) for _ in range(blocks - 1)]
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


class ResNet(FeaturesClassifier):
    """(N, 3, 224, 224) -> (N, num_classes); the trunk gives (N, 512 * expansion, 7, 7)."""

    def __init__(self, block, blocks_per_stage, num_classes: int = 1000, in_channels: int = 3,
                 layers=None):
        super().__init__()
        if len(blocks_per_stage) != 4:
            raise ValueError(f"blocks_per_stage needs 4 entries, got {blocks_per_stage}")
        L = resolve_layers(layers)
        widths, strides = (64, 128, 256, 512), (1, 2, 2, 2)
        parts = [("conv1", L.Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False)),
                 ("bn1", nn.BatchNorm2d(64)), ("relu", nn.ReLU(inplace=True)),
                 ("maxpool", L.MaxPool2d(kernel_size=3, stride=2, padding=1))]
        channels = 64
        for i, (width, blocks, stride) in enumerate(zip(widths, blocks_per_stage, strides)):
            parts.append((f"layer{i + 1}", make_stage(block, channels, width, blocks, stride,
                                                      layers)))
            channels = width * block.expansion
        self.features = nn.Sequential(OrderedDict(parts))
        self.classifier = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                        nn.Linear(channels, num_classes))
        init_conv_bn(self, L.Conv2d)


def resnet18(num_classes=1000, in_channels=3, layers=None) -> ResNet:
    """ResNet-18: BasicBlock x [2, 2, 2, 2]; 11,689,512 parameters."""
    return ResNet(BasicBlock, (2, 2, 2, 2), num_classes, in_channels, layers)


def resnet34(num_classes=1000, in_channels=3, layers=None) -> ResNet:
    """ResNet-34: BasicBlock x [3, 4, 6, 3]; 21,797,672 parameters."""
    return ResNet(BasicBlock, (3, 4, 6, 3), num_classes, in_channels, layers)


def resnet50(num_classes=1000, in_channels=3, layers=None) -> ResNet:
    """ResNet-50 (v1.5): Bottleneck x [3, 4, 6, 3]; 25,557,032 parameters."""
    return ResNet(Bottleneck, (3, 4, 6, 3), num_classes, in_channels, layers)


def resnet101(num_classes=1000, in_channels=3, layers=None) -> ResNet:
    """ResNet-101 (v1.5): Bottleneck x [3, 4, 23, 3]; 44,549,160 parameters."""
    return ResNet(Bottleneck, (3, 4, 23, 3), num_classes, in_channels, layers)


def resnet152(num_classes=1000, in_channels=3, layers=None) -> ResNet:
    """ResNet-152 (v1.5): Bottleneck x [3, 8, 36, 3]; 60,192,808 parameters."""
    return ResNet(Bottleneck, (3, 8, 36, 3), num_classes, in_channels, layers)
