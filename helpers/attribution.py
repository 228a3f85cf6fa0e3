"""What a trained network looks at: attribution maps, their sanity checks, adversarial inputs.

Every function takes a classifier ``model`` (N, C, H, W) -> (N, classes) in evaluation mode,
a batch ``x`` and the class ``target`` (N,) whose score it explains, and leaves the model as it
found it (no hooks left, no gradients stored on its parameters, ``requires_grad`` unchanged).

    occlusion(model, x, target, patch=8, stride=4)      (N, H', W'), H' = (H - patch) // stride + 1
    saliency(model, x, target)                         (N, H, W)   |d score / d x|, max over C
    smoothgrad(model, x, target, samples=32, noise=0.15)   (N, H, W)
    integrated_gradients(model, x, target, steps=64)  (N, C, H, W), sums to score(x) - score(x0)
    class_activation_map(model, x, target)             (N, h, w)   GAP networks only (Zhou 2016)
    grad_cam(model, layer, x, target)                  (N, h, w)   any conv layer (Selvaraju 2017)
    fgsm(model, x, y, eps) / pgd(model, x, y, eps, ...)   adversarial inputs (Goodfellow 2015;
                                                        Madry 2018) within an L-infinity ball
    rank_correlation(a, b)                             (N,)  Spearman's rho per map (Adebayo 2018)
    randomize_top_layers(model, k, seed)               a copy with its last k layers re-drawn
    unit_activation(model, layer, x, channel)          (N,)  one channel at the centre position
    visualise_unit(model, layer, channel, ...)         (1, C, H, W) an input that maximises it
                                                        (Erhan 2009; Olah 2017: jitter, blur,
                                                        decorrelate)
    top_patches(model, layer, channel, x, box, k)      (k, C, s, s) the k most exciting patches
    sanity_maps(model, x, target, layer, generator)    {name: map} every map of the sanity checks

"Score" is the target's logit (before softmax), as in the papers, except for :func:`occlusion`,
which measures the drop in the target's *probability*.
"""
from __future__ import annotations

import copy
from contextlib import contextmanager

import torch
from torch import nn

from helpers.device import shifted_seed

__all__ = ["input_gradient", "occlusion", "saliency", "smoothgrad", "integrated_gradients",
           "class_activation_map", "grad_cam", "fgsm", "pgd", "rank_correlation",
           "randomize_top_layers", "unit_activation", "visualise_unit", "top_patches",
           "sanity_maps", "fourier_scale"]


def _check(x: torch.Tensor, target) -> torch.Tensor:
    if not isinstance(x, torch.Tensor) or x.dim() != 4:
        raise ValueError(f"x must be a (N, C, H, W) tensor, got "
                         f"{tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__}")
    target = torch.as_tensor(target, dtype=torch.long, device=x.device).reshape(-1)
    if target.numel() != x.shape[0]:
        raise ValueError(f"target must hold one class per image: {x.shape[0]} images, "
                         f"{target.numel()} targets")
    return target


@contextmanager
def _frozen(model: nn.Module):
    """Parameters do not collect gradients inside the block; restored afterwards."""
    flags = [p.requires_grad for p in model.parameters()]
    for p in model.parameters():
        p.requires_grad_(False)
    try:
        yield model
    finally:
        for p, flag in zip(model.parameters(), flags):
            p.requires_grad_(flag)


def _score(model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(N,) the target class's logit for each image."""
    return model(x).gather(1, target[:, None])[:, 0]


def input_gradient(model: nn.Module, x: torch.Tensor, target) -> torch.Tensor:
    """(N, C, H, W): d score_target / d x."""
    target = _check(x, target)
    with _frozen(model), torch.enable_grad():
        x = x.detach().clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(_score(model, x, target).sum(), x)
    return grad


def saliency(model: nn.Module, x: torch.Tensor, target) -> torch.Tensor:
    """(N, C, H, W) -> (N, H, W): the largest |gradient| over channels (Simonyan et al. 2014)."""
    return input_gradient(model, x, target).abs().amax(dim=1)


def smoothgrad(model: nn.Module, x: torch.Tensor, target, *, samples: int = 32,
               noise: float = 0.15, generator: torch.Generator | None = None) -> torch.Tensor:
    """(N, C, H, W) -> (N, H, W): the saliency map averaged over ``samples`` copies of ``x``
    with Gaussian noise of sd ``noise`` times x's range (Smilkov et al. 2017)."""
    if samples < 1 or noise < 0:
        raise ValueError(f"samples must be >= 1 and noise >= 0, got {samples}, {noise}")
    target = _check(x, target)
    sd = noise * (x.amax(dim=(1, 2, 3), keepdim=True) - x.amin(dim=(1, 2, 3), keepdim=True))
    total = torch.zeros(x.shape[0], *x.shape[2:], dtype=x.dtype, device=x.device)
    for _ in range(samples):
        eps = torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)
        total += saliency(model, x + sd * eps, target)
    return total / samples


def integrated_gradients(model: nn.Module, x: torch.Tensor, target, *,
                         baseline: torch.Tensor | None = None, steps: int = 64) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, H, W): (x - x0) times the gradient averaged along the straight
    path from the baseline x0 (default: zeros) to x, by the trapezoidal rule with ``steps``
    intervals (Sundararajan et al. 2017). Completeness: the attributions of an image sum to
    score(x) - score(x0), up to the quadrature error."""
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    target = _check(x, target)
    x0 = torch.zeros_like(x) if baseline is None else baseline.expand_as(x)
    total = torch.zeros_like(x)
    for i in range(steps + 1):
        weight = 0.5 if i in (0, steps) else 1.0
        total += weight * input_gradient(model, x0 + (i / steps) * (x - x0), target)
    return (x - x0) * total / steps


def occlusion(model: nn.Module, x: torch.Tensor, target, *, patch: int = 8, stride: int = 4,
              fill: float = 0.0, batch_size: int = 1024) -> torch.Tensor:
    """(N, C, H, W) -> (N, H', W'), H' = (H - patch) // stride + 1: how much the target's
    probability drops when a ``patch`` x ``patch`` square at each position is set to ``fill``
    (Zeiler & Fergus 2014). Positive: the square mattered for the answer. The occluded copies
    go through the model about ``batch_size`` images at a time."""
    target = _check(x, target)
    H, W = x.shape[-2:]
    if not 1 <= patch <= min(H, W) or stride < 1:
        raise ValueError(f"patch must be in 1..{min(H, W)} and stride >= 1, got {patch}, {stride}")
    rows, cols = range(0, H - patch + 1, stride), range(0, W - patch + 1, stride)
    positions = [(r, c) for r in rows for c in cols]
    with torch.no_grad():
        base = model(x).softmax(1).gather(1, target[:, None])[:, 0]
        drop = torch.empty(x.shape[0], len(positions), dtype=x.dtype, device=x.device)
        chunk = max(1, batch_size // x.shape[0])          # positions per forward pass
        for start in range(0, len(positions), chunk):
            block = positions[start:start + chunk]
            hidden = x.repeat(len(block), 1, 1, 1)        # (len(block) * N, C, H, W)
            for b, (r, c) in enumerate(block):
                hidden[b * x.shape[0]:(b + 1) * x.shape[0], :, r:r + patch, c:c + patch] = fill
            p = model(hidden).softmax(1).gather(1, target.repeat(len(block))[:, None])[:, 0]
            drop[:, start:start + len(block)] = base[None].sub(p.view(len(block), -1)).T
    return drop.view(x.shape[0], len(rows), len(cols))


def _gap_head(model: nn.Module) -> nn.Linear:
    """The linear layer after global average pooling of a ``features``/``classifier`` model."""
    head = getattr(model, "classifier", None)
    layers = list(head) if isinstance(head, nn.Sequential) else []
    kinds = [type(m) for m in layers]
    if kinds != [nn.AdaptiveAvgPool2d, nn.Flatten, nn.Linear] or \
            layers[0].output_size not in (1, (1, 1)):
        raise ValueError("class_activation_map needs a model whose classifier is global average "
                         "pooling, flatten, linear (CAM exists only for such networks)")
    return layers[2]


def class_activation_map(model: nn.Module, x: torch.Tensor, target) -> torch.Tensor:
    """(N, C, H, W) -> (N, h, w): sum_k w_{c,k} A_k, the last feature maps A weighted by the
    target's row of the linear layer after global average pooling (Zhou et al. 2016). Its mean
    over positions plus the bias is the target's logit."""
    target = _check(x, target)
    linear = _gap_head(model)
    with torch.no_grad():
        maps = model.features(x)
        return torch.einsum("nkhw,nk->nhw", maps, linear.weight[target])


def grad_cam(model: nn.Module, layer: nn.Module, x: torch.Tensor, target, *,
             relu: bool = True) -> torch.Tensor:
    """(N, C, H, W) -> (N, h, w): ReLU(sum_k alpha_k A_k), A the output of ``layer`` (a module
    inside ``model``), alpha_k the mean over positions of d score / d A_k (Selvaraju et al.
    2017). The hooks it registers are removed before it returns."""
    target = _check(x, target)
    if not any(m is layer for m in model.modules()):
        raise ValueError("layer must be a module inside model")
    stored: dict[str, torch.Tensor] = {}

    def keep(module, inputs, output):
        stored["A"] = output
        output.register_hook(lambda grad: stored.__setitem__("dA", grad))

    handle = layer.register_forward_hook(keep)
    try:
        with _frozen(model), torch.enable_grad():
            x = x.detach().clone().requires_grad_(True)
            _score(model, x, target).sum().backward()
    finally:
        handle.remove()
    A, dA = stored["A"].detach(), stored["dA"]
    cam = torch.einsum("nkhw,nk->nhw", A, dA.mean(dim=(2, 3)))
    return cam.clamp(min=0) if relu else cam


def fgsm(model: nn.Module, x: torch.Tensor, y, eps: float, *,
         bounds: tuple[float, float] | None = None) -> torch.Tensor:
    """x + eps * sign(d loss / d x), clipped to ``bounds`` (Goodfellow et al. 2015): one step
    that raises the cross-entropy of the true labels ``y`` the most to first order."""
    if eps < 0:
        raise ValueError(f"eps must be >= 0, got {eps}")
    y = _check(x, y)
    with _frozen(model), torch.enable_grad():
        xg = x.detach().clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(nn.functional.cross_entropy(model(xg), y), xg)
    adv = x + eps * grad.sign()
    return adv if bounds is None else adv.clamp(*bounds)


def pgd(model: nn.Module, x: torch.Tensor, y, eps: float, *, step: float | None = None,
        steps: int = 10, bounds: tuple[float, float] | None = None) -> torch.Tensor:
    """``steps`` FGSM steps of size ``step`` (default 2.5 eps / steps), each projected back into
    the L-infinity ball of radius ``eps`` around x (Madry et al. 2018, from x itself)."""
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    step = 2.5 * eps / steps if step is None else step
    adv = x.clone()
    for _ in range(steps):
        adv = fgsm(model, adv, y, step, bounds=bounds)
        adv = torch.minimum(torch.maximum(adv, x - eps), x + eps)
        if bounds is not None:
            adv = adv.clamp(*bounds)
    return adv


def _ranks(v: torch.Tensor) -> torch.Tensor:
    """(N, n) -> (N, n): ranks 0..n-1 along the last axis, tied values sharing the mean of their
    ranks (Spearman's convention: a map that is exactly 0 over the background, as integrated
    gradients of a black-background digit are, must not gain rank order from pixel positions)."""
    v = v.to(torch.float64)
    less = (v[:, None, :] < v[:, :, None]).sum(-1)       # (N, n): values below each one
    equal = (v[:, None, :] == v[:, :, None]).sum(-1)     # (N, n): itself and its ties
    return less.to(torch.float64) + (equal.to(torch.float64) - 1) / 2


def rank_correlation(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(N, ...) and (N, ...) -> (N,): Spearman's rho between the maps of each image (Pearson's
    correlation of their ranks, ties given their mean rank), the similarity Adebayo et al.
    (2018) use to compare a method's maps before and after the network is randomised. A map
    that is constant gives 0 (no order to compare)."""
    if a.shape != b.shape or a.dim() < 2:
        raise ValueError(f"a and b must be batches of maps of one shape, got {tuple(a.shape)} "
                         f"and {tuple(b.shape)}")
    ra, rb = _ranks(a.detach().flatten(1)), _ranks(b.detach().flatten(1))
    ra, rb = ra - ra.mean(1, keepdim=True), rb - rb.mean(1, keepdim=True)
    norm = ra.norm(dim=1) * rb.norm(dim=1)
    return torch.where(norm > 0, (ra * rb).sum(1) / norm.clamp(min=1e-300), 0.0)


def _parametrised(model: nn.Module) -> list[nn.Module]:
    """The layers with weights (conv, linear, norm), in the order they were registered."""
    return [m for m in model.modules() if hasattr(m, "reset_parameters")
            and any(True for _ in m.parameters(recurse=False))]


def randomize_top_layers(model: nn.Module, k: int, *, seed: int = 0) -> nn.Module:
    """A copy of ``model`` whose last ``k`` layers with weights are re-initialised (the
    cascading randomisation of Adebayo et al. 2018, from the output down): fresh draws from
    each layer's own initialisation scheme (``reset_parameters``; a batch norm goes back to
    weight 1, bias 0 and its running statistics to 0 and 1). "Last" means last in the order
    the layers were registered in the model (``model.modules()``), which for a sequential
    network is the order of the forward pass. The draws use ``shifted_seed(seed)`` inside
    ``torch.random.fork_rng``: the global random state is left as it was."""
    layers = _parametrised(model)
    if not 0 <= k <= len(layers):
        raise ValueError(f"k must be in 0..{len(layers)} for this model, got {k}")
    copied = copy.deepcopy(model)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(shifted_seed(seed))
        for layer in _parametrised(copied)[len(layers) - k:]:
            layer.reset_parameters()
    return copied



def _layer_output(model: nn.Module, layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """(N, K, h, w): the output of ``layer`` (a module inside ``model``) for input x; the hook
    is removed before it returns, and the rest of the forward pass still runs. A copy: an
    in-place ReLU after ``layer`` would otherwise overwrite it."""
    if not any(m is layer for m in model.modules()):
        raise ValueError("layer must be a module inside model")
    stored: dict[str, torch.Tensor] = {}
    handle = layer.register_forward_hook(lambda m, i, out: stored.__setitem__("A", out.clone()))
    try:
        model(x)
    finally:
        handle.remove()
    if stored["A"].dim() != 4:
        raise ValueError(f"layer must output (N, K, h, w) maps, got {tuple(stored['A'].shape)}")
    return stored["A"]


def unit_activation(model: nn.Module, layer: nn.Module, x: torch.Tensor,
                    channel: int) -> torch.Tensor:
    """(N, C, H, W) -> (N,): channel ``channel`` of ``layer``'s output at the centre position
    (h // 2, w // 2): one unit, whose receptive field is a patch of the input."""
    if not isinstance(x, torch.Tensor) or x.dim() != 4:
        raise ValueError("x must be a (N, C, H, W) tensor")
    A = _layer_output(model, layer, x)
    if not 0 <= channel < A.shape[1]:
        raise ValueError(f"channel must be in 0..{A.shape[1] - 1}, got {channel}")
    return A[:, channel, A.shape[2] // 2, A.shape[3] // 2]


def _gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """(N, C, H, W) blurred per channel by a 5 x 5 Gaussian of sd ``sigma`` (zero padding)."""
    t = torch.arange(-2, 3, dtype=x.dtype)
    k1 = torch.exp(-t ** 2 / (2 * sigma ** 2))
    k = (k1[:, None] * k1[None, :]) / k1.sum() ** 2
    C = x.shape[1]
    return nn.functional.conv2d(x, k.expand(C, 1, 5, 5), padding=2, groups=C)


def visualise_unit(model: nn.Module, layer: nn.Module, channel: int, *,
                   shape: tuple[int, int, int] = (1, 28, 28), steps: int = 200,
                   lr: float = 0.05, jitter: int = 0, blur: float = 0.0, blur_every: int = 4,
                   bounds: tuple[float, float] = (0.0, 1.0), seed: int = 0,
                   decorrelate: bool = False) -> torch.Tensor:
    """(1, C, H, W) for ``shape`` (C, H, W): an input that maximises :func:`unit_activation`,
    by ``steps`` steps of Adam (rate ``lr``) from a grey image with a little noise, clipped to
    ``bounds`` after each step (Erhan et al. 2009). The regularisers of Olah et al. (2017):
    ``jitter`` > 0 shifts the image by a random offset of up to ``jitter`` pixels (a circular
    roll) before every step, so the unit must respond wherever the pattern lies; ``blur`` > 0
    smooths it with a Gaussian of that sd every ``blur_every`` steps, damping the highest
    frequencies that the gradient alone piles up. ``decorrelate``: Adam works on the image's
    Fourier coefficients (``torch.fft.rfft2``, orthonormal) scaled by 1 / frequency, so that
    neighbouring pixels no longer move independently -- Olah et al.'s decorrelated
    parameterisation, which whitens the spectrum of natural images (1 / f amplitude); the
    scales are normalised to a root mean square of 1, so that a step moves the image about as
    far as a step on the pixels. After each step the image is clipped to ``bounds`` and its
    coefficients recomputed (the map is invertible). The noise and the jitter come from a
    generator seeded with ``shifted_seed(seed)``."""
    if steps < 1 or lr <= 0 or jitter < 0 or blur < 0 or blur_every < 1:
        raise ValueError(f"need steps >= 1, lr > 0, jitter >= 0, blur >= 0, blur_every >= 1; got "
                         f"{steps}, {lr}, {jitter}, {blur}, {blur_every}")
    g = torch.Generator().manual_seed(shifted_seed(seed))
    lo, hi = bounds
    dtype = next(model.parameters()).dtype
    x = ((lo + hi) / 2 + 0.01 * (hi - lo) * torch.randn(1, *shape, generator=g)).to(dtype)
    H, W = shape[-2:]
    if decorrelate:
        scale = fourier_scale(H, W).to(dtype)

        def image(p):
            return torch.fft.irfft2(torch.view_as_complex(p) * scale, s=(H, W), norm="ortho")

        def coefficients(img):
            return torch.view_as_real(torch.fft.rfft2(img, norm="ortho") / scale).contiguous()

        param = coefficients(x).requires_grad_(True)
    else:
        def image(p):
            return p

        param = x.requires_grad_(True)
    opt = torch.optim.Adam([param], lr=lr)
    with _frozen(model), torch.enable_grad():
        for step in range(steps):
            shifted = image(param)
            if jitter:
                dy, dx = (int(v) for v in torch.randint(-jitter, jitter + 1, (2,), generator=g))
                shifted = torch.roll(shifted, shifts=(dy, dx), dims=(2, 3))
            loss = -unit_activation(model, layer, shifted, channel).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                x = image(param)
                if blur and (step + 1) % blur_every == 0:
                    x = _gaussian_blur(x, blur)
                x = x.clamp(lo, hi)
                param.copy_(coefficients(x) if decorrelate else x)
    return image(param).detach().clamp(lo, hi)


def fourier_scale(H: int, W: int) -> torch.Tensor:
    """(H, W // 2 + 1): 1 / max(f, 1 / max(H, W)) for the frequencies f (cycles per pixel) of
    ``torch.fft.rfft2``'s coefficients of an H x W image, normalised to a root mean square of
    1 -- the scale of :func:`visualise_unit`'s decorrelated parameterisation."""
    if H < 1 or W < 1:
        raise ValueError(f"need H, W >= 1, got {H}, {W}")
    f = torch.sqrt(torch.fft.fftfreq(H)[:, None] ** 2 + torch.fft.rfftfreq(W)[None] ** 2)
    scale = 1 / f.clamp(min=1 / max(H, W))
    return scale / scale.pow(2).mean().sqrt()


def top_patches(model: nn.Module, layer: nn.Module, channel: int, x: torch.Tensor,
                box, *, k: int = 9, batch_size: int = 500) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` input patches that excite channel ``channel`` of ``layer`` most, over every
    image of ``x`` (N, C, H, W) and every position: ((k, C, s, s) patches, (k,) activations),
    highest first. ``box(i, j)`` gives unit (i, j)'s field (top, left, bottom, right), as
    :meth:`helpers.receptive_field.ReceptiveField.box` does; parts outside the image are 0."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    with torch.no_grad():
        A = torch.cat([_layer_output(model, layer, xb)[:, channel]
                       for xb in x.split(batch_size)])
    if A.numel() < k:
        raise ValueError(f"k = {k} but only {A.numel()} positions")
    values, flat = A.flatten().topk(k)
    h, w = A.shape[1:]
    top, left, bottom, right = box(0, 0)
    size = bottom - top
    pad = size                     # a field starts less than its size outside the image
    padded = nn.functional.pad(x, (pad, pad, pad, pad))
    patches = []
    for f in flat.tolist():
        n, i, j = f // (h * w), (f // w) % h, f % w
        t, lft, _, _ = box(i, j)
        patches.append(padded[n, :, t + pad:t + pad + size, lft + pad:lft + pad + size])
    return torch.stack(patches), values


def sanity_maps(model: nn.Module, x: torch.Tensor, target, layer: nn.Module, *,
                generator: torch.Generator | None = None, samples: int = 16, noise: float = 0.15,
                ig_steps: int = 16, patch: int = 7, stride: int = 2) -> dict[str, torch.Tensor]:
    """Every map that chapter 8's sanity checks compare, for single-channel images x
    (N, 1, H, W), from one set of gradients per method:

    "gradient", "gradient, signed"                 (N, H, W)  |d score / d x| and d score / d x
    "SmoothGrad"                                   (N, H, W)  mean over ``samples`` noisy copies
                                                              of |gradient| (noise sd ``noise``
                                                              times x's range, from ``generator``)
    "SmoothGrad, signed", "SmoothGrad, |signed mean|"  (N, H, W)  mean of the signed gradients,
                                                              and its absolute value
    "integrated gradients", "integrated gradients, signed"  (N, H, W)  |IG| and IG, ``ig_steps``
    "Grad-CAM", "Grad-CAM before ReLU"             (N, h, w)  at ``layer``
    "occlusion", "occlusion, absolute"             (N, H', W')  the drop and its absolute value,
                                                              H' = (H - patch) // stride + 1
    "|gradient × input|"                           (N, H, W)
    """
    target = _check(x, target)
    if x.shape[1] != 1:
        raise ValueError(f"sanity_maps needs single-channel images (N, 1, H, W), got "
                         f"{tuple(x.shape)}")
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    sd = noise * (x.amax(dim=(1, 2, 3), keepdim=True) - x.amin(dim=(1, 2, 3), keepdim=True))
    grad = input_gradient(model, x, target)[:, 0]
    noisy = torch.stack([input_gradient(model, x + sd * torch.randn(x.shape, generator=generator),
                                        target)[:, 0] for _ in range(samples)])
    ig = integrated_gradients(model, x, target, steps=ig_steps)[:, 0]
    cam = grad_cam(model, layer, x, target, relu=False)
    occ = occlusion(model, x, target, patch=patch, stride=stride)
    return {"gradient": grad.abs(), "SmoothGrad": noisy.abs().mean(0),
            "integrated gradients": ig.abs(), "Grad-CAM": cam.relu(), "occlusion": occ,
            "gradient, signed": grad, "SmoothGrad, signed": noisy.mean(0),
            "integrated gradients, signed": ig, "Grad-CAM before ReLU": cam,
            "occlusion, absolute": occ.abs(),
            "SmoothGrad, |signed mean|": noisy.mean(0).abs(),
            "|gradient × input|": (grad * x[:, 0]).abs()}
