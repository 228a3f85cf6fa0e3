"""helpers.experiments.depth (chapter 7): downsampling, the depth sweep, the last epoch's error,
gradient norms per block and stripping BatchNorm."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from helpers.experiments.depth import (
    block_gradient_norms,
    block_gradient_rms,
    depth_sweep,
    downsample,
    last_epoch_error,
    padding_tap_share,
    relu_gradient_share,
    residual_stages,
    stage_boundaries,
    strip_batchnorm,
)
from helpers.models import cifar_resnet, lenet5, plain_net
from helpers.train import History


def test_downsample_is_an_average_pool():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(3, 28, 28)).astype(np.uint8)
    got = downsample(x, 2)
    ref = nn.functional.avg_pool2d(torch.from_numpy(x).float()[:, None] / 255, 2)[:, 0]
    assert got.dtype == np.float32 and got.shape == (3, 14, 14)
    np.testing.assert_allclose(got, ref.numpy(), rtol=1e-6, atol=1e-7)


def test_downsample_keeps_float_scale_and_factor_one():
    x = np.full((1, 4, 4), 0.5, dtype=np.float64)
    np.testing.assert_allclose(downsample(x, 4), [[[0.5]]])
    assert downsample(x, 1).shape == (1, 4, 4)


@pytest.mark.parametrize("images, factor, message", [
    (np.zeros((2, 28)), 2, "must be \\(N, H, W\\)"),
    (np.zeros((2, 28, 28)), 3, "not divisible"),
    (np.zeros((2, 28, 28)), 0, "positive int"),
])
def test_downsample_rejects_bad_input(images, factor, message):
    with pytest.raises(ValueError, match=message):
        downsample(images, factor)


def test_last_epoch_error_averages_the_final_epoch():
    h = History(step_error=[1.0, 1.0, 0.5, 0.25], steps_per_epoch=2)
    assert last_epoch_error(h) == pytest.approx(0.375)
    with pytest.raises(ValueError, match="no steps"):
        last_epoch_error(History())


def test_depth_sweep_trains_every_pair_identically():
    rng = np.random.default_rng(0)
    x = rng.random((40, 8, 8)).astype(np.float32)
    y = rng.integers(0, 10, size=40)
    runs = depth_sweep({"plain": plain_net, "residual": cifar_resnet}, (8,), x, y, epochs=1,
                       batch_size=16, seed=0, width=2, device="cpu")
    assert set(runs) == {("plain", 8), ("residual", 8)}
    assert all(h.steps == 3 and h.steps_per_epoch == 3 for h in runs.values())
    again = depth_sweep({"plain": plain_net}, (8,), x, y, epochs=1, batch_size=16, seed=0,
                        width=2, device="cpu")
    assert again["plain", 8].step_loss == runs["plain", 8].step_loss


def test_block_gradient_norms_one_per_block_and_grads_cleared():
    torch.manual_seed(0)
    model = cifar_resnet(14, width=4)
    x, y = torch.randn(8, 1, 12, 12), torch.randint(0, 10, (8,))
    norms = block_gradient_norms(model, x, y)
    assert norms.shape == (6,) and np.all(norms > 0)
    assert all(p.grad is None for p in model.parameters())
    model.eval()
    block_gradient_norms(model, x, y)
    assert not model.training


def test_block_gradient_of_the_last_block_matches_autograd():
    torch.manual_seed(0)
    model = plain_net(8, width=4)
    x, y = torch.randn(4, 1, 8, 8), torch.randint(0, 10, (4,))
    norms = block_gradient_norms(model, x, y)
    features = model.features(x).detach().requires_grad_(True)
    nn.functional.cross_entropy(model.classifier(features), y).backward()
    assert norms[-1] == pytest.approx(features.grad.norm().item(), rel=1e-5)


def test_residual_stages_and_strip_batchnorm():
    model = plain_net(20, width=2)
    assert len(residual_stages(model)) == 9
    with pytest.raises(ValueError, match="stage1"):
        residual_stages(lenet5())
    stripped = strip_batchnorm(model)
    assert stripped is model
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    assert model(torch.randn(2, 1, 8, 8)).shape == (2, 10)


def test_relu_gradient_share_is_the_gated_part_of_the_gradient():
    torch.manual_seed(0)
    model = cifar_resnet(14, width=4)
    x, y = torch.randn(8, 1, 12, 12), torch.randint(0, 10, (8,))
    share = relu_gradient_share(model, x, y)
    assert share.shape == (6,) and np.all((share > 0) & (share < 1))
    assert all(p.grad is None for p in model.parameters())
    # by hand for the last block: the gradient at the sum is dL/d(out) where out > 0
    out = model.features(x)
    out.retain_grad()
    nn.functional.cross_entropy(model.classifier(out), y).backward()
    expected = (out.grad * (out > 0)).norm() / out.grad.norm()
    assert share[-1] == pytest.approx(expected.item(), rel=1e-5)


def test_stage_boundaries_and_zero_init_residual():
    from helpers.models.resnet import zero_init_residual
    assert stage_boundaries(cifar_resnet(56, width=2)) == [9, 18]
    model = zero_init_residual(cifar_resnet(14, width=4))
    blocks = residual_stages(model)
    assert all(float(b.bn2.weight.detach().abs().sum()) == 0 for b in blocks)
    x = torch.relu(torch.randn(2, 4, 6, 6))
    torch.testing.assert_close(blocks[1].eval()(x), x)      # an identity block starts as x


def test_block_gradient_rms_is_norm_over_sqrt_size():
    torch.manual_seed(0)
    model = cifar_resnet(8, width=4)
    x, y = torch.randn(6, 1, 12, 12), torch.randint(0, 10, (6,))
    norms = block_gradient_norms(model, x, y)
    rms = block_gradient_rms(model, x, y)
    sizes = [6 * 4 * 12 * 12, 6 * 8 * 6 * 6, 6 * 16 * 3 * 3]          # one block per stage
    np.testing.assert_allclose(rms, norms / np.sqrt(sizes), rtol=1e-5, atol=0)


def test_padding_tap_share_against_a_convolution():
    for side in (1, 2, 4, 7, 14):
        ones = torch.ones(1, 1, side, side)
        taps = torch.nn.functional.conv2d(ones, torch.ones(1, 1, 3, 3), padding=1)
        expected = 1 - taps.mean().item() / 9
        assert abs(padding_tap_share(side) - expected) < 1e-6      # float32 convolution
    assert abs(padding_tap_share(4) - (1 - (2.5 / 3) ** 2)) < 1e-12
    with pytest.raises(ValueError):
        padding_tap_share(4, kernel=2)
