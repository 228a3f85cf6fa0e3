"""The model zoo: full-size ImageNet models with torchvision's parameter counts, and small
models for CPU experiments on 28x28 images, one family per module, each small variant beside
its family:

    mlp.py        MultiLayerPerceptron, mlp                          chapter 1 (and 9)
    small_cnn.py  SmallCNN, small_cnn                                chapters 1, 9
    lenet.py      LeNet5, lenet5                                     chapter 6
    alexnet.py    AlexNet, alexnet, alexnet2012 (the 2012 paper's)    chapters 5, 6
    vgg.py        VGG, vgg11..vgg19; SmallVGG, small_vgg             chapters 4-6
    resnet.py     BasicBlock, PlainBlock, PreActBlock, Bottleneck, ResNet, resnet18..152;
                  CifarResNet, cifar_resnet, plain_net               chapters 5, 7
    vit.py        PatchEmbedding, ClassToken, PositionEmbedding, EncoderBlock, MLPHead,
                  VisionTransformer, vit_b_16, tiny_vit              chapter 9
    mobilenet.py  DepthwiseSeparableConv, separable_ratio,           chapters 9, 10
                  SeparableBlock, MobileNetV1, mobilenet_v1
    efficientnet.py  SqueezeExcitation, MBConv, EfficientNet,        chapter 10
                  efficientnet_b0
    convnext.py   ConvNeXtBlock, LayerNorm2d, convnext_block_params,  chapters 9, 10
                  ConvNeXt, convnext_tiny
    base.py       FeaturesClassifier, resolve_layers (what every family shares)

Every model has ``.features`` (the trunk) and ``.classifier`` (pooling/flatten + fully
connected head); ``layers=helpers.layers`` builds its convolutions and poolings from the
course's from-scratch layers. Constructors take keyword arguments only
(``BasicBlock(in_channels=64, out_channels=64)``); the ``cifar_resnet``/``plain_net`` factories
also take the depth first (``cifar_resnet(20, width=8)``).

    >>> from helpers.models import get_model
    >>> model = get_model("small_cnn", channels=(16, 32))
"""
from __future__ import annotations

from helpers.models.alexnet import AlexNet, AlexNet2012, alexnet, alexnet2012
from helpers.models.base import FeaturesClassifier, resolve_layers
from helpers.models.convnext import (
    ConvNeXt,
    ConvNeXtBlock,
    LayerNorm2d,
    convnext_block_params,
    convnext_tiny,
)
from helpers.models.efficientnet import EfficientNet, MBConv, SqueezeExcitation, efficientnet_b0
from helpers.models.lenet import LeNet5, lenet5
from helpers.models.mlp import MultiLayerPerceptron, mlp
from helpers.models.mobilenet import (
    DepthwiseSeparableConv,
    MobileNetV1,
    SeparableBlock,
    mobilenet_v1,
    separable_ratio,
)
from helpers.models.resnet import (
    BasicBlock,
    Bottleneck,
    CifarResNet,
    PlainBlock,
    PreActBlock,
    ResNet,
    cifar_resnet,
    plain_net,
    resnet18,
    resnet34,
    resnet50,
    resnet101,
    resnet152,
)
from helpers.models.small_cnn import SmallCNN, small_cnn
from helpers.models.vgg import VGG, SmallVGG, small_vgg, vgg11, vgg13, vgg16, vgg19
from helpers.models.vit import (
    ClassToken,
    EncoderBlock,
    MLPHead,
    PatchEmbedding,
    PositionEmbedding,
    TorchSelfAttention,
    VisionTransformer,
    tiny_vit,
    vit_b_16,
)

_CONSTRUCTORS = {
    "lenet5": lenet5, "alexnet": alexnet,
    "vgg11": vgg11, "vgg13": vgg13, "vgg16": vgg16, "vgg19": vgg19,
    "resnet18": resnet18, "resnet34": resnet34, "resnet50": resnet50,
    "resnet101": resnet101, "resnet152": resnet152, "vit_b_16": vit_b_16,
    "mobilenet_v1": mobilenet_v1, "efficientnet_b0": efficientnet_b0,
    "convnext_tiny": convnext_tiny,
    "cifar_resnet": cifar_resnet, "plain_net": plain_net, "small_vgg": small_vgg,
    "tiny_vit": tiny_vit, "mlp": mlp, "small_cnn": small_cnn,
}
MODEL_NAMES = tuple(_CONSTRUCTORS)
FULL_SIZE_MODELS = MODEL_NAMES[:15]


def get_model(name: str, **kwargs):
    """Build the model called ``name`` (one of ``MODEL_NAMES``) with constructor ``kwargs``."""
    if name not in _CONSTRUCTORS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODEL_NAMES)}")
    return _CONSTRUCTORS[name](**kwargs)


__all__ = [
    "MODEL_NAMES", "FULL_SIZE_MODELS", "get_model", "resolve_layers", "FeaturesClassifier",
    "lenet5", "alexnet", "alexnet2012", "vgg11", "vgg13", "vgg16", "vgg19", "resnet18",
    "resnet34", "resnet50",
    "resnet101", "resnet152", "vit_b_16", "cifar_resnet", "plain_net", "small_vgg", "tiny_vit",
    "mlp", "small_cnn",
    "LeNet5", "AlexNet", "AlexNet2012", "VGG", "ResNet", "BasicBlock", "Bottleneck", "PlainBlock",
    "PreActBlock", "CifarResNet",
    "SmallVGG", "SmallCNN", "MultiLayerPerceptron", "VisionTransformer", "PatchEmbedding",
    "ClassToken", "PositionEmbedding", "EncoderBlock", "MLPHead", "TorchSelfAttention",
    "DepthwiseSeparableConv", "separable_ratio", "ConvNeXtBlock", "LayerNorm2d",
    "convnext_block_params", "mobilenet_v1", "efficientnet_b0", "convnext_tiny", "MobileNetV1",
    "SeparableBlock", "EfficientNet", "MBConv", "SqueezeExcitation", "ConvNeXt",
]
