"""helpers.models.resnet: variant choices, the CIFAR-style depth rule, PlainBlock as a BasicBlock
without shortcut, and the paths the blocks give the receptive-field walk."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from helpers.models import (
    BasicBlock,
    Bottleneck,
    PlainBlock,
    cifar_resnet,
    plain_net,
)
from helpers.receptive_field import measured_receptive_field, receptive_field
from helpers.summary import count_parameters

pytestmark = pytest.mark.usefixtures("one_thread")



def test_resnet_variant_choices(on_meta):
    model = on_meta("resnet50")
    block = model.features.layer2[0]
    assert isinstance(block, Bottleneck)
    assert block.conv1.stride == (1, 1) and block.conv2.stride == (2, 2)  # v1.5
    assert isinstance(model.features.layer1[1].shortcut, nn.Identity)
    assert isinstance(model.features.layer2[0].shortcut[0], nn.Conv2d)    # option B
    assert all(m.bias is None for m in model.modules() if isinstance(m, nn.Conv2d))


def test_cifar_resnet_depth_rule():
    model = cifar_resnet(20)
    assert [len(getattr(model.features, f"stage{i}")) for i in (1, 2, 3)] == [3, 3, 3]
    assert model.features(torch.zeros(1, 1, 28, 28)).shape == (1, 64, 7, 7)
    assert all(isinstance(b, BasicBlock) for b in model.features.stage1)
    for bad in (7, 21, 2):
        with pytest.raises(ValueError, match="6n"):
            cifar_resnet(bad)


def test_resnet_blocks_describe_their_paths(on_meta):
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


def test_plain_block_is_a_basic_block_without_shortcut():
    torch.manual_seed(0)
    basic = BasicBlock(in_channels=8, out_channels=16, stride=2).eval()
    plain = PlainBlock(in_channels=8, out_channels=16, stride=2).eval()
    assert isinstance(plain, BasicBlock) and plain.shortcut is None
    plain.load_state_dict({k: v for k, v in basic.state_dict().items()
                           if not k.startswith("shortcut.")})
    x = torch.randn(2, 8, 10, 10)
    torch.testing.assert_close(plain(x), torch.relu(basic.residual(x)))
    no_shortcut = BasicBlock(in_channels=8, out_channels=16, stride=2, shortcut=False)
    assert count_parameters(no_shortcut) == count_parameters(plain)
    assert len(plain.receptive_field_paths()) == 1


def test_constructors_are_keyword_only():
    with pytest.raises(TypeError):
        BasicBlock(16, 16)


def test_preact_block_against_functional_ops():
    from helpers.models.resnet import PreActBlock
    torch.manual_seed(0)
    for c_in, c_out, stride in ((8, 8, 1), (8, 16, 2)):
        block = PreActBlock(in_channels=c_in, out_channels=c_out, stride=stride).eval()
        for bn in (block.bn1, block.bn2):
            bn.running_mean.uniform_(-1, 1)
            bn.running_var.uniform_(0.5, 2)
            bn.weight.data.uniform_(0.5, 1.5)
        x = torch.randn(2, c_in, 9, 9, requires_grad=True)
        F = torch.nn.functional

        def bn(t, m, F=F):
            return F.batch_norm(t, m.running_mean, m.running_var, m.weight, m.bias, False)

        branch = F.conv2d(F.relu(bn(F.conv2d(F.relu(bn(x, block.bn1)), block.conv1.weight,
                                              stride=stride, padding=1), block.bn2)),
                          block.conv2.weight, padding=1)
        skip = x if c_in == c_out else F.conv2d(x, block.shortcut.weight, stride=stride)
        expected = branch + skip
        got = block(x)
        assert got.shape == (2, c_out, (9 - 1) // stride + 1, (9 - 1) // stride + 1)
        torch.testing.assert_close(got, expected)
        g = torch.randn_like(got)
        (gx,) = torch.autograd.grad(got, x, g)
        (ex,) = torch.autograd.grad(expected, x, g)
        torch.testing.assert_close(gx, ex)
    assert isinstance(PreActBlock(in_channels=4, out_channels=4).shortcut, torch.nn.Identity)
    assert not PreActBlock.final_relu and BasicBlock.final_relu


def test_preact_identity_path_passes_the_gradient_unchanged():
    from helpers.models.resnet import PreActBlock
    torch.manual_seed(0)
    pre, post = PreActBlock(in_channels=4, out_channels=4), BasicBlock(in_channels=4,
                                                                       out_channels=4)
    torch.nn.init.zeros_(pre.conv2.weight)              # F = 0
    torch.nn.init.zeros_(post.bn2.weight)               # F = 0 (zero gamma)
    x = torch.randn(2, 4, 6, 6, requires_grad=True)
    g = torch.randn(2, 4, 6, 6)
    (gx_pre,) = torch.autograd.grad(pre.eval()(x), x, g)
    torch.testing.assert_close(gx_pre, g, rtol=0, atol=0)
    (gx_post,) = torch.autograd.grad(post.eval()(x), x, g)
    torch.testing.assert_close(gx_post, g * (x > 0))     # gated by the final ReLU


def test_preact_block_fits_a_stage():
    from helpers.models.resnet import PreActBlock, make_stage
    stage = make_stage(PreActBlock, in_channels=4, width=8, blocks=2, stride=2)
    assert stage(torch.randn(1, 4, 8, 8)).shape == (1, 8, 4, 4)
