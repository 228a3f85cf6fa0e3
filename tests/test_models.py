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
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import helpers.layers as scratch
from helpers.attention import MultiHeadSelfAttention
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
    vit_b_16,
)
from helpers.models.vit import TorchSelfAttention
from helpers.receptive_field import measured_receptive_field, receptive_field
from helpers.summary import count_parameters

F32 = {"rtol": 1e-4, "atol": 1e-5}


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One torch thread: on a shared 2-core machine two spinning OpenMP threads are many
    times slower than one (restored afterwards)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)

# torchvision's counts (torchvision.models.<name>().parameters(), num_classes=1000).
TORCHVISION_COUNTS = {
    "alexnet": 61_100_840,
    "vgg11": 132_863_336, "vgg13": 133_047_848, "vgg16": 138_357_544, "vgg19": 143_667_240,
    "resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032,
    "resnet101": 44_549_160, "resnet152": 60_192_808,
    "vit_b_16": 86_567_656,
}
# LeNet-5: 6(25+1) + 16(6*25+1) + (400*120+120) + (120*84+84) + (84*10+10)
LENET5_COUNT = 156 + 2_416 + 48_120 + 10_164 + 850


def on_meta(name, **kwargs):
    with torch.device("meta"):
        return get_model(name, **kwargs)


@pytest.mark.parametrize("name", sorted(TORCHVISION_COUNTS))
def test_full_size_parameter_counts_match_torchvision(name):
    assert count_parameters(on_meta(name)) == TORCHVISION_COUNTS[name]


@pytest.mark.parametrize("name", sorted(TORCHVISION_COUNTS))
def test_from_scratch_layers_give_the_same_counts(name):
    model = on_meta(name, layers=scratch)
    assert count_parameters(model) == TORCHVISION_COUNTS[name]
    assert not any(isinstance(m, nn.Conv2d | nn.MaxPool2d | nn.AvgPool2d) for m in model.modules())


def test_lenet5_count_and_both_input_sizes():
    assert LENET5_COUNT == 61_706
    for size in (32, 28):
        model = lenet5(input_size=size)
        assert count_parameters(model) == LENET5_COUNT
        assert model(torch.zeros(2, 1, size, size)).shape == (2, 10)
        assert model.features(torch.zeros(1, 1, size, size)).shape == (1, 16, 5, 5)
    assert isinstance(lenet5().features[1], nn.Tanh)
    assert isinstance(lenet5(activation="relu").features[1], nn.ReLU)
    with pytest.raises(ValueError, match="activation"):
        lenet5(activation="sigmoid")
    with pytest.raises(ValueError, match="input_size"):
        lenet5(input_size=30)


def test_vgg_batch_norm_option():
    plain, bn = on_meta("vgg11"), on_meta("vgg11", batch_norm=True)
    assert count_parameters(bn) - count_parameters(plain) == 2 * (64 + 128 + 2 * 256 + 4 * 512)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in plain.modules())


def test_vit_attention_choices_have_the_same_count():
    scratch_vit, torch_vit = on_meta("vit_b_16"), on_meta("vit_b_16", attention="torch")
    assert isinstance(scratch_vit.features.encoder[0].attention, MultiHeadSelfAttention)
    assert isinstance(torch_vit.features.encoder[0].attention, TorchSelfAttention)
    assert count_parameters(torch_vit) == count_parameters(scratch_vit) == 86_567_656
    with pytest.raises(ValueError, match="attention"):
        vit_b_16(attention="flash")


def test_resnet_variant_choices():
    model = on_meta("resnet50")
    block = model.features.layer2[0]
    assert isinstance(block, Bottleneck)
    assert block.conv1.stride == (1, 1) and block.conv2.stride == (2, 2)  # v1.5
    assert isinstance(model.features.layer1[1].shortcut, nn.Identity)
    assert isinstance(model.features.layer2[0].shortcut[0], nn.Conv2d)    # option B
    assert all(m.bias is None for m in model.modules() if isinstance(m, nn.Conv2d))


# ------------------------------------------------------------------ features / classifier


def small_models():
    return {
        "lenet5": lenet5(input_size=28), "mlp": mlp(), "small_cnn": small_cnn(),
        "small_vgg": small_vgg(), "cifar_resnet": cifar_resnet(8), "plain_net": plain_net(8),
        "tiny_vit": tiny_vit(), "tiny_vit_p4": tiny_vit(patch=4),
    }


def test_every_registered_model_has_features_and_classifier():
    for name in MODEL_NAMES:
        kwargs = {"depth": 8} if name in ("cifar_resnet", "plain_net") else {}
        model = on_meta(name, **kwargs)
        assert isinstance(model.features, nn.Module) and isinstance(model.classifier, nn.Module)
    assert set(FULL_SIZE_MODELS) == set(TORCHVISION_COUNTS) | {"lenet5"}
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


def test_cifar_resnet_depth_rule():
    model = cifar_resnet(20)
    assert [len(getattr(model.features, f"stage{i}")) for i in (1, 2, 3)] == [3, 3, 3]
    assert model.features(torch.zeros(1, 1, 28, 28)).shape == (1, 64, 7, 7)
    assert all(isinstance(b, BasicBlock) for b in model.features.stage1)
    for bad in (7, 21, 2):
        with pytest.raises(ValueError, match="6n"):
            cifar_resnet(bad)


@settings(max_examples=10, deadline=None)
@given(size=st.integers(4, 64), channels=st.lists(st.integers(1, 8), min_size=1, max_size=2))
def test_small_cnn_takes_any_input_size(size, channels):
    model = small_cnn(channels=tuple(channels)).eval()
    if size < 2 ** len(channels):
        return
    assert model(torch.zeros(2, 1, size, size)).shape == (2, 10)


def test_mlp_and_small_cnn_on_56x56():
    assert small_cnn()(torch.zeros(2, 1, 56, 56)).shape == (2, 10)
    assert mlp(in_features=56 * 56)(torch.zeros(2, 1, 56, 56)).shape == (2, 10)
    assert small_cnn(global_pool=False, input_size=56)(torch.zeros(1, 1, 56, 56)).shape == (1, 10)
    with pytest.raises(ValueError, match="784 input features"):
        mlp()(torch.zeros(2, 1, 56, 56))


def test_tiny_vit_shapes_and_errors():
    model = tiny_vit(patch=4)
    assert model.features(torch.zeros(2, 1, 28, 28)).shape == (2, 50, 64)
    with pytest.raises(ValueError, match="patch"):
        model(torch.zeros(1, 1, 30, 30))
    with pytest.raises(ValueError, match="image size"):
        model(torch.zeros(1, 1, 32, 32))
    with pytest.raises(ValueError, match="multiple"):
        tiny_vit(patch=5)


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


# ------------------------------------------------------------------ torch.nn == helpers.layers


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
    (lambda L: ResNet(BasicBlock, (1, 1, 1, 1), num_classes=10, layers=L), 64),
    (lambda L: ResNet(Bottleneck, (1, 1, 1, 1), num_classes=10, layers=L), 64),
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


# ------------------------------------------------------------------ receptive fields


def test_resnet_blocks_describe_their_paths():
    # ResNet-18's last block sees 435 x 435 pixels (analytic, with the block's two paths)
    assert receptive_field(on_meta("resnet18")).size == 435
    block = cifar_resnet(8).features.stage2[0]
    main, shortcut = block.receptive_field_paths()
    assert main[0] is block.conv1 and shortcut == [block.shortcut]


def test_cifar_resnet_field_is_measured_as_computed():
    # conv 3 -> block +4 -> stride-2 block +2 +4 -> stride-2 block +4 +8: 25 pixels
    for build in (cifar_resnet, plain_net):
        features = build(8).features
        analytic = receptive_field(features).size
        measured = measured_receptive_field(features, (1, 48, 48))
        assert analytic == measured.size == 25 and not measured.clipped
