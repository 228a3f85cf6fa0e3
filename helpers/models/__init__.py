"""The model zoo: full-size ImageNet models with torchvision's parameter counts, and small
models for CPU experiments on 28x28 images. Every model has ``.features`` (the trunk) and
``.classifier`` (pooling/flatten + fully connected head); ``layers=helpers.layers`` builds its
convolutions and poolings from the course's from-scratch layers.

    >>> from helpers.models import get_model
    >>> model = get_model("small_cnn", channels=(16, 32))
"""
from __future__ import annotations

from helpers.models.alexnet import AlexNet, alexnet
from helpers.models.base import FeaturesClassifier, resolve_layers
from helpers.models.lenet import LeNet5, lenet5
from helpers.models.resnet import (
    BasicBlock,
    Bottleneck,
    ResNet,
    resnet18,
    resnet34,
    resnet50,
    resnet101,
    resnet152,
)
from helpers.models.small import (
    CifarResNet,
    MultiLayerPerceptron,
    PlainBlock,
    SmallCNN,
    SmallVGG,
    cifar_resnet,
    mlp,
    plain_net,
    small_cnn,
    small_vgg,
    tiny_vit,
)
from helpers.models.vgg import VGG, vgg11, vgg13, vgg16, vgg19
from helpers.models.vit import (
    ClassToken,
    EncoderBlock,
    MLPHead,
    PatchEmbedding,
    PositionEmbedding,
    TorchSelfAttention,
    VisionTransformer,
    vit_b_16,
)

_CONSTRUCTORS = {
    "lenet5": lenet5, "alexnet": alexnet,
    "vgg11": vgg11, "vgg13": vgg13, "vgg16": vgg16, "vgg19": vgg19,
    "resnet18": resnet18, "resnet34": resnet34, "resnet50": resnet50,
    "resnet101": resnet101, "resnet152": resnet152, "vit_b_16": vit_b_16,
    "cifar_resnet": cifar_resnet, "plain_net": plain_net, "small_vgg": small_vgg,
    "tiny_vit": tiny_vit, "mlp": mlp, "small_cnn": small_cnn,
}
MODEL_NAMES = tuple(_CONSTRUCTORS)
FULL_SIZE_MODELS = MODEL_NAMES[:12]


def get_model(name: str, **kwargs):
    """Build the model called ``name`` (one of ``MODEL_NAMES``) with constructor ``kwargs``."""
    if name not in _CONSTRUCTORS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODEL_NAMES)}")
    return _CONSTRUCTORS[name](**kwargs)


__all__ = [
    "MODEL_NAMES", "FULL_SIZE_MODELS", "get_model", "resolve_layers", "FeaturesClassifier",
    "lenet5", "alexnet", "vgg11", "vgg13", "vgg16", "vgg19", "resnet18", "resnet34", "resnet50",
    "resnet101", "resnet152", "vit_b_16", "cifar_resnet", "plain_net", "small_vgg", "tiny_vit",
    "mlp", "small_cnn",
    "LeNet5", "AlexNet", "VGG", "ResNet", "BasicBlock", "Bottleneck", "PlainBlock", "CifarResNet",
    "SmallVGG", "SmallCNN", "MultiLayerPerceptron", "VisionTransformer", "PatchEmbedding",
    "ClassToken", "PositionEmbedding", "EncoderBlock", "MLPHead", "TorchSelfAttention",
]
