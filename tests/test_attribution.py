"""helpers.attribution against the definitions, written out in the slowest obvious way.

Tolerances: float64 throughout; gradients against central finite differences with h = 1e-6
(error ~1e-9), compared at atol 1e-6; integrated gradients' completeness at 64 trapezoid steps
within 1e-3 of the score difference (the quadrature error of a smooth path integral).
"""
from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from helpers import attribution as A
from helpers.models import small_cnn

F64 = {"rtol": 0, "atol": 1e-6}


@pytest.fixture
def net():
    torch.manual_seed(0)
    model = small_cnn(channels=(4, 6), num_classes=5).double().eval()
    for p in model.parameters():
        p.requires_grad_(True)
    return model


@pytest.fixture
def x():
    torch.manual_seed(1)
    return torch.randn(3, 1, 12, 10, dtype=torch.float64)


def finite_difference(model, x, target, h=1e-6):
    grad = torch.zeros_like(x)
    flat = grad.view(-1)
    for i in range(x.numel()):
        e = torch.zeros_like(x).view(-1)
        e[i] = h
        e = e.view_as(x)
        with torch.no_grad():
            up = model(x + e).gather(1, target[:, None]).sum()
            down = model(x - e).gather(1, target[:, None]).sum()
        flat[i] = (up - down) / (2 * h)
    return grad


def test_gradient_matches_finite_differences(net, x):
    target = torch.tensor([0, 3, 4])
    torch.testing.assert_close(A.input_gradient(net, x[:, :, :6, :5], target),
                               finite_difference(net, x[:, :, :6, :5], target), **F64)


def test_saliency_and_model_left_as_found(net, x):
    target = torch.tensor([1, 2, 0])
    s = A.saliency(net, x, target)
    assert s.shape == (3, 12, 10) and (s >= 0).all()
    assert all(p.grad is None and p.requires_grad for p in net.parameters())
    assert not net._forward_hooks and not any(m._forward_hooks for m in net.modules())


def test_integrated_gradients_are_complete(net, x):
    target = torch.tensor([1, 2, 0])
    ig = A.integrated_gradients(net, x, target, steps=64)
    with torch.no_grad():
        gap = (net(x) - net(torch.zeros_like(x))).gather(1, target[:, None])[:, 0]
    torch.testing.assert_close(ig.sum(dim=(1, 2, 3)), gap, rtol=0, atol=1e-3)


def test_occlusion_matches_a_loop(net, x):
    target = torch.tensor([4, 0, 1])
    drop = A.occlusion(net, x, target, patch=4, stride=3, fill=0.5)
    assert drop.shape == (3, (12 - 4) // 3 + 1, (10 - 4) // 3 + 1)
    with torch.no_grad():
        p0 = net(x).softmax(1)
        hidden = x.clone()
        hidden[..., 3:7, 6:10] = 0.5
        p = net(hidden).softmax(1)
    expected = p0[torch.arange(3), target] - p[torch.arange(3), target]
    torch.testing.assert_close(drop[:, 1, 2], expected, **F64)
    one_at_a_time = A.occlusion(net, x, target, patch=4, stride=3, fill=0.5, batch_size=1)
    torch.testing.assert_close(drop, one_at_a_time, **F64)       # chunking changes nothing


def test_cam_is_grad_cam_at_the_last_layer_of_a_gap_network(net, x):
    """Grad-CAM's weights at the last feature maps are w_ck / (h w): CAM = h w Grad-CAM."""
    target = torch.tensor([2, 2, 3])
    cam = A.class_activation_map(net, x, target)
    gc = A.grad_cam(net, net.features, x, target, relu=False)
    h, w = cam.shape[-2:]
    torch.testing.assert_close(cam, gc * h * w, **F64)
    with torch.no_grad():
        logits = net(x)[torch.arange(3), target]
    bias = net.classifier[2].bias[target]
    torch.testing.assert_close(cam.mean(dim=(1, 2)) + bias.detach(), logits, **F64)
    assert not any(m._forward_hooks for m in net.modules())


def test_cam_refuses_a_network_without_global_pooling():
    model = small_cnn(global_pool=False).eval()
    with pytest.raises(ValueError, match="global average pooling"):
        A.class_activation_map(model, torch.zeros(1, 1, 28, 28), [0])


def test_fgsm_moves_each_pixel_by_eps_against_the_label(net, x):
    y = torch.tensor([0, 1, 2])
    adv = A.fgsm(net, x, y, 0.1)
    with torch.enable_grad():
        xg = x.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(nn.functional.cross_entropy(net(xg), y), xg)
    torch.testing.assert_close(adv - x, 0.1 * grad.sign(), **F64)   # 0 where max pooling
    assert (grad != 0).float().mean() > 0.2                            # drops the gradient
    loss = nn.functional.cross_entropy
    with torch.no_grad():
        assert loss(net(adv), y) > loss(net(x), y)
    assert (A.fgsm(net, x, y, 0.1, bounds=(-0.5, 0.5)).abs() <= 0.5).all()


def test_pgd_stays_in_the_ball_and_beats_fgsm(net, x):
    y = torch.tensor([0, 1, 2])
    adv = A.pgd(net, x, y, 0.1, steps=20)
    assert ((adv - x).abs() <= 0.1 + 1e-12).all()
    loss = nn.functional.cross_entropy
    with torch.no_grad():
        assert loss(net(adv), y) >= loss(net(A.fgsm(net, x, y, 0.1)), y) - 1e-9


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 40), st.integers(0, 2**31 - 1))
def test_rank_correlation_is_spearman(n, seed):
    g = torch.Generator().manual_seed(seed)
    a, b = torch.randn(2, n, generator=g, dtype=torch.float64), torch.randn(2, n, generator=g,
                                                                           dtype=torch.float64)
    ra, rb = a.argsort().argsort().double(), b.argsort().argsort().double()
    d2 = ((ra - rb) ** 2).sum(1)
    expected = 1 - 6 * d2 / (n * (n * n - 1))      # Spearman's formula without ties
    torch.testing.assert_close(A.rank_correlation(a, b), expected, rtol=0, atol=1e-9)
    torch.testing.assert_close(A.rank_correlation(a, 3 * a + 1), torch.ones(2, dtype=torch.float64))


def test_randomize_top_layers_changes_only_the_top(net):
    copy = A.randomize_top_layers(net, 1, seed=3)
    layers, copied = A._parametrised(net), A._parametrised(copy)
    assert all(torch.equal(p, q) for a, b in zip(layers[:-1], copied[:-1])
               for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(layers[-1].weight, copied[-1].weight)
    with pytest.raises(ValueError, match="k must be"):
        A.randomize_top_layers(net, 99)


def test_randomize_top_layers_leaves_the_global_rng_and_follows_the_seed_shift(net, monkeypatch):
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    first = A.randomize_top_layers(net, 2, seed=5)
    torch.testing.assert_close(torch.rand(3), expected)        # global state untouched
    again = A.randomize_top_layers(net, 2, seed=5)
    assert torch.equal(A._parametrised(first)[-1].weight, A._parametrised(again)[-1].weight)
    monkeypatch.setenv("CNN_COURSE_SEED_SHIFT", "1")
    shifted = A.randomize_top_layers(net, 2, seed=4)            # shifted_seed(4) == 5
    assert torch.equal(A._parametrised(first)[-1].weight, A._parametrised(shifted)[-1].weight)


@pytest.mark.parametrize("call, match", [
    (lambda m: A.saliency(m, torch.zeros(1, 28, 28), [0]), "N, C, H, W"),
    (lambda m: A.saliency(m, torch.zeros(2, 1, 28, 28), [0]), "one class per image"),
    (lambda m: A.occlusion(m, torch.zeros(1, 1, 28, 28), [0], patch=40), "patch"),
    (lambda m: A.integrated_gradients(m, torch.zeros(1, 1, 28, 28), [0], steps=0), "steps"),
    (lambda m: A.fgsm(m, torch.zeros(1, 1, 28, 28), [0], -1.0), "eps"),
    (lambda m: A.grad_cam(m, nn.Conv2d(1, 1, 3), torch.zeros(1, 1, 28, 28), [0]), "inside"),
    (lambda m: A.rank_correlation(torch.zeros(2, 3), torch.zeros(2, 4)), "one shape"),
])
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call(small_cnn().eval())


def slow_spearman(a, b):
    """Pearson's correlation of average ranks, one value at a time."""
    def ranks(v):
        v = v.tolist()
        return torch.tensor([sum(u < x for u in v) + (sum(u == x for u in v) - 1) / 2 for x in v],
                            dtype=torch.float64)
    ra, rb = ranks(a), ranks(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    return float((ra * rb).sum() / (ra.norm() * rb.norm()))


def test_rank_correlation_gives_ties_their_mean_rank():
    a = torch.tensor([[0, 0, 0, 0, 1, 2, 0, 3.0], [5, 1, 1, 2, 2, 2, 0, 7]], dtype=torch.float64)
    b = torch.tensor([[0, 0, 0, 0, 2, 1, 0, 4.0], [0, 0, 1, 1, 9, 2, 3, 3]], dtype=torch.float64)
    expected = torch.tensor([slow_spearman(a[i], b[i]) for i in range(2)], dtype=torch.float64)
    torch.testing.assert_close(A.rank_correlation(a, b), expected, rtol=0, atol=1e-12)
    # shared zeros tie; the three values after them, in reverse order, still lower rho below 1
    z = torch.zeros(1, 50, dtype=torch.float64)
    z[0, :3] = torch.tensor([1.0, 2.0, 3.0])
    w = z.flip(-1).roll(3, -1)
    assert w[0, :3].tolist() == [3.0, 2.0, 1.0]
    rho = A.rank_correlation(z, w).item()
    assert rho == pytest.approx(slow_spearman(z[0], w[0]), abs=1e-12) and rho < 1 - 1e-3
    assert A.rank_correlation(torch.ones(1, 2, 3), torch.rand(1, 2, 3)).item() == 0.0


def test_unit_activation_is_the_centre_of_the_layer_output(net, x):
    layer = net.features[3]                 # 6 channels at (12, 10) // 2 // 2 = (3, 2)
    with torch.no_grad():
        maps = net.features[:4](x)
        a = A.unit_activation(net, layer, x, 4)
    torch.testing.assert_close(a, maps[:, 4, maps.shape[2] // 2, maps.shape[3] // 2], **F64)
    assert not any(m._forward_hooks for m in net.modules())


def test_visualise_unit_raises_the_unit_within_bounds(net):
    layer = net.features[2]                 # after the first ReLU: 4 channels at full size
    start = A.visualise_unit(net, layer, 1, shape=(1, 12, 10), steps=1, lr=1e-9)
    found = A.visualise_unit(net, layer, 1, shape=(1, 12, 10), steps=60, jitter=1, blur=0.5)
    assert found.shape == (1, 1, 12, 10) and found.min() >= 0 and found.max() <= 1
    with torch.no_grad():
        assert A.unit_activation(net, layer, found, 1) > A.unit_activation(net, layer, start, 1)
    assert all(p.grad is None and p.requires_grad for p in net.parameters())
    assert not any(m._forward_hooks for m in net.modules())
    blurred = A._gaussian_blur(torch.ones(1, 2, 9, 9, dtype=torch.float64), 1.0)
    torch.testing.assert_close(blurred[..., 2:-2, 2:-2], torch.ones(1, 2, 5, 5,
                                                                    dtype=torch.float64), **F64)


def test_top_patches_are_the_fields_of_the_largest_activations(net, x):
    from helpers.receptive_field import receptive_field
    layer = net.features[1]                 # conv 1 + ReLU: field 3, stride 1, padding 1
    field = receptive_field(net.features[:2])
    patches, values = A.top_patches(net, layer, 2, x, field.box, k=5)
    assert patches.shape == (5, 1, 3, 3) and (values[:-1] >= values[1:]).all()
    with torch.no_grad():
        maps = net.features[:2](x)[:, 2]
    assert values[0] == maps.max()
    n, i, j = [int(v) for v in (maps == maps.max()).nonzero()[0]]
    padded = nn.functional.pad(x, (1, 1, 1, 1))
    torch.testing.assert_close(patches[0], padded[n, :, i:i + 3, j:j + 3], **F64)


@pytest.mark.parametrize("call, match", [
    (lambda m: A.unit_activation(m, m.features[0], torch.zeros(1, 1, 8, 8), 99), "channel"),
    (lambda m: A.unit_activation(m, nn.Conv2d(1, 1, 3), torch.zeros(1, 1, 8, 8), 0), "inside"),
    (lambda m: A.visualise_unit(m, m.features[0], 0, steps=0), "steps"),
    (lambda m: A.top_patches(m, m.features[0], 0, torch.zeros(1, 1, 8, 8),
                             lambda i, j: (i, j, i + 3, j + 3), k=0), "k must"),
])
def test_feature_helpers_raise_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call(small_cnn().eval())


def test_sanity_maps_match_the_single_method_helpers(net, x):
    layer = net.features[4]
    maps = A.sanity_maps(net, x, [0, 3, 1], layer, generator=torch.Generator().manual_seed(2),
                         samples=3, ig_steps=8, patch=5, stride=2)
    target = torch.tensor([0, 3, 1])
    grad = A.input_gradient(net, x, target)[:, 0]
    torch.testing.assert_close(maps["gradient, signed"], grad, **F64)
    torch.testing.assert_close(maps["gradient"], A.saliency(net, x, target), **F64)
    torch.testing.assert_close(maps["|gradient × input|"], (grad * x[:, 0]).abs(), **F64)
    ig = A.integrated_gradients(net, x, target, steps=8)[:, 0]
    torch.testing.assert_close(maps["integrated gradients, signed"], ig, **F64)
    torch.testing.assert_close(maps["integrated gradients"], ig.abs(), **F64)
    cam = A.grad_cam(net, layer, x, target, relu=False)
    torch.testing.assert_close(maps["Grad-CAM before ReLU"], cam, **F64)
    torch.testing.assert_close(maps["Grad-CAM"], cam.clamp(min=0), **F64)
    occ = A.occlusion(net, x, target, patch=5, stride=2)
    assert maps["occlusion"].shape == (3, (12 - 5) // 2 + 1, (10 - 5) // 2 + 1)
    torch.testing.assert_close(maps["occlusion"], occ, **F64)
    torch.testing.assert_close(maps["occlusion, absolute"], occ.abs(), **F64)
    g = torch.Generator().manual_seed(2)                 # SmoothGrad, one noisy copy at a time
    sd = 0.15 * (x.amax(dim=(1, 2, 3), keepdim=True) - x.amin(dim=(1, 2, 3), keepdim=True))
    noisy = [A.input_gradient(net, x + sd * torch.randn(x.shape, generator=g), target)[:, 0]
             for _ in range(3)]
    torch.testing.assert_close(maps["SmoothGrad"], sum(n.abs() for n in noisy) / 3, **F64)
    torch.testing.assert_close(maps["SmoothGrad, signed"], sum(noisy) / 3, **F64)
    torch.testing.assert_close(maps["SmoothGrad, |signed mean|"], (sum(noisy) / 3).abs(), **F64)
    assert all(p.grad is None for p in net.parameters())
    with pytest.raises(ValueError, match="single-channel"):
        A.sanity_maps(net, x.repeat(1, 3, 1, 1), [0, 0, 0], layer)


def test_fourier_scale_is_one_over_frequency_with_unit_rms():
    scale = A.fourier_scale(12, 10)
    assert scale.shape == (12, 6)
    torch.testing.assert_close(scale.pow(2).mean(), torch.tensor(1.0), rtol=0, atol=1e-6)
    f = (torch.fft.fftfreq(12)[:, None] ** 2 + torch.fft.rfftfreq(10)[None] ** 2).sqrt()
    ratio = scale * f.clamp(min=1 / 12)                  # constant: scale is proportional to 1/f
    torch.testing.assert_close(ratio, ratio[0, 0].expand_as(ratio), rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match="H, W"):
        A.fourier_scale(0, 4)


def test_decorrelated_visualisation_starts_where_the_pixel_one_does_and_raises_the_unit(net):
    layer = net.features[2]
    plain = A.visualise_unit(net, layer, 1, shape=(1, 12, 10), steps=1, lr=1e-12)
    fourier = A.visualise_unit(net, layer, 1, shape=(1, 12, 10), steps=1, lr=1e-12,
                               decorrelate=True)
    torch.testing.assert_close(fourier, plain, rtol=0, atol=1e-9)   # the map is invertible
    found = A.visualise_unit(net, layer, 1, shape=(1, 12, 10), steps=60, decorrelate=True)
    assert found.shape == (1, 1, 12, 10) and found.min() >= 0 and found.max() <= 1
    with torch.no_grad():
        assert A.unit_activation(net, layer, found, 1) > A.unit_activation(net, layer, plain, 1)
    assert all(p.grad is None and p.requires_grad for p in net.parameters())
    assert not any(m._forward_hooks for m in net.modules())
