"""helpers.models: exact torchvision parameter counts, shapes, the features/classifier split,
and the from-scratch layers (helpers.layers) giving the same networks as torch.nn.

Full-size models are built on the ``meta`` device (shapes only, no memory, no initialisation)
so counting ~800 M parameters takes about a second. Output comparisons between torch.nn and
helpers.layers run in float32 in eval mode with rtol=1e-4, atol=1e-5: the from-scratch conv
is an unfold + matmul, so the sums are the same up to float32 round-off (~1e-6 relative),
a few layers deep.
"""
from __future__ import annotations

import pytest
import torch
from torch import nn

import helpers.layers as scratch
from helpers.models import (
    FULL_SIZE_MODELS,
    MODEL_NAMES,
    BasicBlock,
    Bottleneck,
    ResNet,
    cifar_resnet,
    get_model,
    lenet5,
    mlp,
    plain_net,
    resnet18,
    resolve_layers,
    small_cnn,
    small_vgg,
    tiny_vit,
)
from helpers.summary import count_parameters

pytestmark = pytest.mark.usefixtures("one_thread")


F32 = {"rtol": 1e-4, "atol": 1e-5}


# torchvision's counts (torchvision.models.<name>().parameters(), num_classes=1000).
TORCHVISION_COUNTS = {
    "alexnet": 61_100_840,
    "vgg11": 132_863_336, "vgg13": 133_047_848, "vgg16": 138_357_544, "vgg19": 143_667_240,
    "resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032,
    "resnet101": 44_549_160, "resnet152": 60_192_808,
    "vit_b_16": 86_567_656, "efficientnet_b0": 5_288_548, "convnext_tiny": 28_589_128,
}
# Not in torchvision: Keras Applications' MobileNet (alpha=1, 224), trainable parameters
# (Howard et al. 2017 round it to 4.2 M).
PUBLISHED_COUNTS = {**TORCHVISION_COUNTS, "mobilenet_v1": 4_231_976}



@pytest.mark.parametrize("name", sorted(PUBLISHED_COUNTS))
def test_full_size_parameter_counts_match_torchvision(name, on_meta):
    assert count_parameters(on_meta(name)) == PUBLISHED_COUNTS[name]


@pytest.mark.parametrize("name", sorted(PUBLISHED_COUNTS))
def test_from_scratch_layers_give_the_same_counts(name, on_meta):
    model = on_meta(name, layers=scratch)
    assert count_parameters(model) == PUBLISHED_COUNTS[name]
    assert not any(isinstance(m, nn.Conv2d | nn.MaxPool2d | nn.AvgPool2d) for m in model.modules())


def small_models():
    return {
        "lenet5": lenet5(input_size=28), "mlp": mlp(), "small_cnn": small_cnn(),
        "small_vgg": small_vgg(), "cifar_resnet": cifar_resnet(8), "plain_net": plain_net(8),
        "tiny_vit": tiny_vit(), "tiny_vit_p4": tiny_vit(patch=4),
    }


def test_every_registered_model_has_features_and_classifier(on_meta):
    for name in MODEL_NAMES:
        kwargs = {"depth": 8} if name in ("cifar_resnet", "plain_net") else {}
        model = on_meta(name, **kwargs)
        assert isinstance(model.features, nn.Module) and isinstance(model.classifier, nn.Module)
    assert set(FULL_SIZE_MODELS) == set(PUBLISHED_COUNTS) | {"lenet5"}
    with pytest.raises(ValueError, match="unknown model"):
        get_model("resnet9000")


def test_small_models_split_into_features_then_classifier():
    torch.manual_seed(0)
    x = torch.rand(3, 1, 28, 28)
    for name, model in small_models().items():
        model.eval()
        out = model(x)
        assert out.shape == (3, 10), name
        torch.testing.assert_close(model.classifier(model.features(x)), out, rtol=0, atol=0)


def test_small_model_counts():
    # ResNet-20 with option A on 3 channels has 269,722 parameters (0.27 M in He et al. 2015,
    # table 6). Here: 1 input channel (conv1 has 16*9 weights, not 16*27: -288) and option-B
    # projections at the two stage changes (16->32: 512 + 64 BN, 32->64: 2048 + 128 BN).
    assert count_parameters(plain_net(20, in_channels=3)) == 269_722
    assert count_parameters(cifar_resnet(20, in_channels=3)) == 269_722 + 2_752
    assert count_parameters(cifar_resnet(20)) == 269_722 - 288 + 2_752
    assert count_parameters(plain_net(20)) == 269_722 - 288
    assert count_parameters(mlp()) == 784 * 256 + 256 + 256 * 10 + 10
    assert count_parameters(mlp(hidden=())) == 7_850


def test_resolve_layers():
    assert resolve_layers(None) is nn and resolve_layers("scratch") is scratch
    assert resolve_layers(scratch) is scratch
    with pytest.raises(ValueError, match="layers"):
        resolve_layers("keras")
    with pytest.raises(ValueError, match="lacks"):
        resolve_layers(torch)


def test_one_full_size_forward_at_224():
    with torch.no_grad():
        assert resnet18().eval()(torch.zeros(1, 3, 224, 224)).shape == (1, 1000)


def _same_outputs(build, x):
    torch.manual_seed(0)
    reference = build(None).eval()
    mine = build(scratch).eval()
    mine.load_state_dict(reference.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(mine(x), reference(x), **F32)


@pytest.mark.parametrize("build, side", [
    (lambda L: lenet5(layers=L), 32),
    (lambda L: small_cnn(layers=L), 28),
    (lambda L: small_vgg(layers=L), 28),
    (lambda L: cifar_resnet(8, layers=L), 28),
    (lambda L: plain_net(8, layers=L), 28),
    (lambda L: tiny_vit(layers=L), 28),
    (lambda L: ResNet(block=BasicBlock, blocks_per_stage=(1,) * 4, num_classes=10, layers=L), 64),
    (lambda L: ResNet(block=Bottleneck, blocks_per_stage=(1,) * 4, num_classes=10, layers=L), 64),
], ids=["lenet5", "small_cnn", "small_vgg", "cifar_resnet", "plain_net", "tiny_vit",
        "resnet-basic", "resnet-bottleneck"])
def test_scratch_layers_give_identical_outputs(build, side):
    channels = 3 if side == 64 else 1
    x = torch.rand(2, channels, side, side, generator=torch.Generator().manual_seed(1))
    _same_outputs(build, x)


def test_alexnet_and_vgg_from_scratch_match_on_small_input():
    # channel counts of the real models, tiny input: the trunks alone (no 100 M-weight heads)
    from helpers.models.alexnet import AlexNet
    from helpers.models.vgg import CONFIGS, vgg_trunk

    def alexnet_trunk(L):
        with torch.device("meta"):  # skip initialising the 58 M classifier weights
            trunk = AlexNet(layers=L).features
        trunk = trunk.to_empty(device="cpu")
        for m in trunk.modules():
            if hasattr(m, "reset_parameters"):
                m.reset_parameters()
        return trunk

    x = torch.rand(1, 3, 67, 67, generator=torch.Generator().manual_seed(2))
    for build in (alexnet_trunk, lambda L: vgg_trunk(CONFIGS["vgg11"][:6], layers=L)):
        _same_outputs(build, x)


def test_alexnet2012_is_the_papers_two_tower_count():
    from helpers.models import alexnet2012
    with torch.device("meta"):
        model = alexnet2012()
    assert count_parameters(model) == 60_965_224
    assert [m.out_channels for m in model.features if isinstance(m, torch.nn.Conv2d)] == \
        [96, 256, 384, 384, 256]
    assert model(torch.zeros(1, 3, 224, 224, device="meta")).shape == (1, 1000)
