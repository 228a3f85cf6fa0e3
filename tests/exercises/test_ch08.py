"""Chapter 8 exercises: the references pass; typical learner mistakes get the right diagnosis;
right answers written another way pass too.

The mutants are written the way a learner would write them (not copies of the Mistake
functions in helpers/exercises/ch08.py), so each diagnosis is proven by behaviour.
"""
from __future__ import annotations

import torch
from torch import nn

from helpers import attribution as A
from helpers.exercises import ch08, run_check
from tests.exercises.harness import checkers_of, mutant_tests

CHECKERS = checkers_of(chapter=8)


# --------------------------------------------------------------------------- the references

def test_references_agree_with_helpers_attribution():
    model = ch08._case_model(0)
    x = ch08._images(1, 3, 1, 12, 9)
    target = torch.tensor([0, 2, 3])
    drop = torch.stack([ch08.occlusion_map(model, x[i], int(target[i]), 4, 2) for i in range(3)])
    torch.testing.assert_close(drop, A.occlusion(model, x, target, patch=4, stride=2),
                               rtol=0, atol=1e-12)
    torch.testing.assert_close(ch08.grad_cam(model, model.features[4], x, target),
                               A.grad_cam(model, model.features[4], x, target),
                               rtol=0, atol=1e-12)
    torch.testing.assert_close(ch08.fgsm(model, x, target, 0.1),
                               A.fgsm(model, x, target, 0.1, bounds=(0, 1)), rtol=0, atol=1e-12)
    assert not any(m._forward_hooks or m._backward_hooks for m in model.modules())


def test_sanity_check_reference_separates_image_like_maps():
    case = ch08._sanity_cases(None)[0]
    verdict = ch08.sanity_check(*case.args, **case.kwargs)
    assert verdict["image-like"][2] is False and verdict["image-like"][1] > 0.8
    assert verdict["model-like"][2] is True


# --------------------------------------------------------------------------- 8.1 mutants

def occlusion_logit(model, image, target, patch, stride):
    C, H, W = image.shape
    out = torch.zeros((H - patch) // stride + 1, (W - patch) // stride + 1, dtype=image.dtype)
    with torch.no_grad():
        base = model(image.unsqueeze(0))[0, target]
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                x = image.clone()
                x[:, i * stride:i * stride + patch, j * stride:j * stride + patch] = 0
                out[i, j] = base - model(x.unsqueeze(0))[0, target]
    return out


def occlusion_reversed(model, image, target, patch, stride):
    C, H, W = image.shape
    out = torch.zeros((H - patch) // stride + 1, (W - patch) // stride + 1, dtype=image.dtype)
    with torch.no_grad():
        base = torch.softmax(model(image.unsqueeze(0)), dim=1)[0, target]
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                x = image.clone()
                x[:, i * stride:i * stride + patch, j * stride:j * stride + patch] = 0
                out[i, j] = torch.softmax(model(x.unsqueeze(0)), dim=1)[0, target] - base
    return out


def occlusion_range_too_short(model, image, target, patch, stride):
    C, H, W = image.shape
    rows = list(range(0, H - patch, stride))
    cols = list(range(0, W - patch, stride))
    out = torch.zeros(len(rows), len(cols), dtype=image.dtype)
    with torch.no_grad():
        base = model(image[None]).softmax(1)[0, target]
        for i, r in enumerate(rows):
            for j, c in enumerate(cols):
                x = image.clone()
                x[:, r:r + patch, c:c + patch] = 0
                out[i, j] = base - model(x[None]).softmax(1)[0, target]
    return out


def occlusion_square_size(model, image, target, patch, stride):
    C, H, W = image.shape
    n = (H - patch) // stride + 1                    # assumes a square image
    out = torch.zeros(n, n, dtype=image.dtype)
    with torch.no_grad():
        base = model(image[None]).softmax(1)[0, target]
        for i in range(n):
            for j in range(n):
                x = image.clone()
                x[:, i * stride:i * stride + patch, j * stride:j * stride + patch] = 0
                out[i, j] = base - model(x[None]).softmax(1)[0, target]
    return out


def occlusion_forgets_stride(model, image, target, patch, stride):
    C, H, W = image.shape
    out = torch.zeros((H - patch) // stride + 1, (W - patch) // stride + 1, dtype=image.dtype)
    with torch.no_grad():
        base = model(image[None]).softmax(1)[0, target]
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                x = image.clone()
                x[:, i:i + patch, j:j + patch] = 0
                out[i, j] = base - model(x[None]).softmax(1)[0, target]
    return out


def occlusion_grey_fill(model, image, target, patch, stride):
    C, H, W = image.shape
    out = torch.zeros((H - patch) // stride + 1, (W - patch) // stride + 1, dtype=image.dtype)
    with torch.no_grad():
        base = model(image[None]).softmax(1)[0, target]
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                x = image.clone()
                x[:, i * stride:i * stride + patch, j * stride:j * stride + patch] = image.mean()
                out[i, j] = base - model(x[None]).softmax(1)[0, target]
    return out


def occlusion_patch_minus_one(model, image, target, patch, stride):
    C, H, W = image.shape
    out = torch.zeros((H - patch) // stride + 1, (W - patch) // stride + 1, dtype=image.dtype)
    with torch.no_grad():
        base = model(image[None]).softmax(1)[0, target]
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                x = image.clone()
                x[:, i * stride:i * stride + patch - 1, j * stride:j * stride + patch - 1] = 0
                out[i, j] = base - model(x[None]).softmax(1)[0, target]
    return out


def occlusion_predicted_class(model, image, target, patch, stride):
    C, H, W = image.shape
    out = torch.zeros((H - patch) // stride + 1, (W - patch) // stride + 1, dtype=image.dtype)
    with torch.no_grad():
        probs = model(image[None]).softmax(1)[0]
        c = int(probs.argmax())
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                x = image.clone()
                x[:, i * stride:i * stride + patch, j * stride:j * stride + patch] = 0
                out[i, j] = probs[c] - model(x[None]).softmax(1)[0, c]
    return out


def occlusion_softmax_wrong_axis(model, image, target, patch, stride):
    C, H, W = image.shape
    out = torch.zeros((H - patch) // stride + 1, (W - patch) // stride + 1, dtype=image.dtype)
    with torch.no_grad():
        base = model(image[None]).softmax(0)[0, target]
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                x = image.clone()
                x[:, i * stride:i * stride + patch, j * stride:j * stride + patch] = 0
                out[i, j] = base - model(x[None]).softmax(0)[0, target]
    return out


def occlusion_modifies_image(model, image, target, patch, stride):
    C, H, W = image.shape
    out = torch.zeros((H - patch) // stride + 1, (W - patch) // stride + 1, dtype=image.dtype)
    with torch.no_grad():
        base = model(image[None]).softmax(1)[0, target]
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                saved = image.clone()
                image[:, i * stride:i * stride + patch, j * stride:j * stride + patch] = 0
                out[i, j] = base - model(image[None]).softmax(1)[0, target]
                image = saved
    return out


# --------------------------------------------------------------------------- 8.2 mutants

def _hooked(model, layer, x):
    store = {}

    def fwd(module, inputs, output):
        store["A"] = output
        output.register_hook(lambda g: store.__setitem__("G", g))
    h = layer.register_forward_hook(fwd)
    out = model(x)
    return out, store, h


def gradcam_no_relu(model, layer, x, target):
    out, store, h = _hooked(model, layer, x)
    out[range(len(x)), target].sum().backward()
    h.remove()
    w = store["G"].mean(dim=(2, 3), keepdim=True)
    return (w * store["A"]).sum(1).detach()


def gradcam_abs(model, layer, x, target):
    out, store, h = _hooked(model, layer, x)
    out[range(len(x)), target].sum().backward()
    h.remove()
    w = store["G"].mean(dim=(2, 3), keepdim=True)
    return (w * store["A"]).sum(1).abs().detach()


def gradcam_sum_of_gradients(model, layer, x, target):
    out, store, h = _hooked(model, layer, x)
    out[range(len(x)), target].sum().backward()
    h.remove()
    w = store["G"].sum(dim=(2, 3), keepdim=True)
    return torch.relu((w * store["A"]).sum(1)).detach()


def gradcam_elementwise(model, layer, x, target):
    out, store, h = _hooked(model, layer, x)
    out[range(len(x)), target].sum().backward()
    h.remove()
    return torch.relu((store["G"] * store["A"]).sum(1)).detach()


def gradcam_predicted(model, layer, x, target):
    out, store, h = _hooked(model, layer, x)
    out[range(len(x)), out.argmax(1)].sum().backward()
    h.remove()
    w = store["G"].mean(dim=(2, 3), keepdim=True)
    return torch.relu((w * store["A"]).sum(1)).detach()


def gradcam_softmax(model, layer, x, target):
    out, store, h = _hooked(model, layer, x)
    out.softmax(1)[range(len(x)), target].sum().backward()
    h.remove()
    w = store["G"].mean(dim=(2, 3), keepdim=True)
    return torch.relu((w * store["A"]).sum(1)).detach()


def gradcam_normalised(model, layer, x, target):
    out, store, h = _hooked(model, layer, x)
    out[range(len(x)), target].sum().backward()
    h.remove()
    w = store["G"].mean(dim=(2, 3), keepdim=True)
    cam = torch.relu((w * store["A"]).sum(1)).detach()
    return cam / cam.flatten(1).max(1).values[:, None, None]


def gradcam_leaves_hook(model, layer, x, target):
    out, store, h = _hooked(model, layer, x)        # never removed
    out[range(len(x)), target].sum().backward()
    w = store["G"].mean(dim=(2, 3), keepdim=True)
    return torch.relu((w * store["A"]).sum(1)).detach()


def gradcam_mean_activation_weights(model, layer, x, target):
    out, store, h = _hooked(model, layer, x)
    h.remove()
    A = store["A"].detach()
    return torch.relu((A.mean(dim=(2, 3), keepdim=True) * A).sum(1))


# --------------------------------------------------------------------------- 8.4 mutants

def fgsm_descends(model, x, y, eps):
    x = x.clone().requires_grad_()
    nn.functional.cross_entropy(model(x), y).backward()
    return (x - eps * x.grad.sign()).clamp(0, 1).detach()


def fgsm_raw_gradient(model, x, y, eps):
    x = x.clone().requires_grad_()
    nn.functional.cross_entropy(model(x), y).backward()
    return (x + eps * x.grad).clamp(0, 1).detach()


def fgsm_scaled_gradient(model, x, y, eps):
    x = x.clone().requires_grad_()
    nn.functional.cross_entropy(model(x), y).backward()
    return (x + eps * x.grad / x.grad.abs().max()).clamp(0, 1).detach()


def fgsm_unclipped(model, x, y, eps):
    x = x.clone().requires_grad_()
    nn.functional.cross_entropy(model(x), y).backward()
    return (x + eps * x.grad.sign()).detach()


def fgsm_predicted_labels(model, x, y, eps):
    x = x.clone().requires_grad_()
    out = model(x)
    nn.functional.cross_entropy(out, out.argmax(1)).backward()
    return (x + eps * x.grad.sign()).clamp(0, 1).detach()


def fgsm_logit(model, x, y, eps):
    x = x.clone().requires_grad_()
    model(x)[torch.arange(len(y)), y].sum().backward()
    return (x - eps * x.grad.sign()).clamp(0, 1).detach()


def fgsm_no_step(model, x, y, eps):
    return x.clamp(0, 1)


def fgsm_random_sign(model, x, y, eps):
    return (x + eps * torch.randn_like(x).sign()).clamp(0, 1)


def fgsm_clip_to_eps(model, x, y, eps):
    x = x.clone().requires_grad_()
    nn.functional.cross_entropy(model(x), y).backward()
    return (x + eps * x.grad.sign()).clamp(-eps, 1 + eps).clamp(0, 1 - eps).detach()


# --------------------------------------------------------------------------- 8.3 mutants

def _spearman(a, b):
    return A.rank_correlation(a, b).mean().item()


def sanity_high_passes(trained, randomised, image, threshold=0.5):
    out = {}
    for name in trained:
        r = _spearman(trained[name], randomised[name])
        out[name] = (r, _spearman(trained[name], image), r >= threshold)
    return out


def sanity_pearson(trained, randomised, image, threshold=0.5):
    def pearson(a, b):
        return float(torch.stack([torch.corrcoef(torch.stack([u.flatten(), v.flatten()]))[0, 1]
                                  for u, v in zip(a, b)]).mean())
    out = {}
    for name in trained:
        r = pearson(trained[name], randomised[name])
        out[name] = (r, pearson(trained[name], image), r <= threshold)
    return out


def sanity_argsort_ranks(trained, randomised, image, threshold=0.5):
    def rho(a, b):
        ra = a.flatten(1).argsort(1).argsort(1).double()
        rb = b.flatten(1).argsort(1).argsort(1).double()
        ra, rb = ra - ra.mean(1, keepdim=True), rb - rb.mean(1, keepdim=True)
        return float(((ra * rb).sum(1) / (ra.norm(dim=1) * rb.norm(dim=1))).mean())
    out = {}
    for name in trained:
        r = rho(trained[name], randomised[name])
        out[name] = (r, rho(trained[name], image), r <= threshold)
    return out


def sanity_against_image(trained, randomised, image, threshold=0.5):
    out = {}
    for name in trained:
        r = _spearman(trained[name], image)
        out[name] = (r, r, r <= threshold)
    return out


def sanity_image_of_randomised(trained, randomised, image, threshold=0.5):
    out = {}
    for name in trained:
        r = _spearman(trained[name], randomised[name])
        out[name] = (r, _spearman(randomised[name], image), r <= threshold)
    return out


def sanity_tensors(trained, randomised, image, threshold=0.5):
    out = {}
    for name in trained:
        r = A.rank_correlation(trained[name], randomised[name]).mean()
        out[name] = (r, A.rank_correlation(trained[name], image).mean(), bool(r <= threshold))
    return out


def sanity_per_image(trained, randomised, image, threshold=0.5):
    out = {}
    for name in trained:
        r = A.rank_correlation(trained[name], randomised[name])
        out[name] = (r.tolist(), A.rank_correlation(trained[name], image).tolist(),
                     bool(r.mean() <= threshold))
    return out


def sanity_list_not_tuple(trained, randomised, image, threshold=0.5):
    out = {}
    for name in trained:
        r = _spearman(trained[name], randomised[name])
        out[name] = [r, _spearman(trained[name], image), r <= threshold]
    return out


MUTANTS = [
    ("8.1", occlusion_logit, "wrong", "*logit*"),
    ("8.1", occlusion_reversed, "wrong", "sign is reversed"),
    ("8.1", occlusion_range_too_short, "wrong", "last position is missing"),
    ("8.1", occlusion_square_size, "wrong", "image's height"),
    ("8.1", occlusion_forgets_stride, "wrong", "multiply by the stride"),
    ("8.1", occlusion_grey_fill, "wrong", "image's mean"),
    ("8.1", occlusion_patch_minus_one, "wrong", "one pixel short"),
    ("8.1", occlusion_predicted_class, "wrong", "*predicted* class"),
    ("8.1", occlusion_softmax_wrong_axis, "wrong", "your probabilities do not change"),
    ("8.1", occlusion_modifies_image, "wrong", "in place"),
    ("8.2", gradcam_no_relu, "wrong", "no ReLU"),
    ("8.2", gradcam_abs, "wrong", "absolute value"),
    ("8.2", gradcam_sum_of_gradients, "wrong", "not its sum"),
    ("8.2", gradcam_elementwise, "wrong", "each position by its own gradient"),
    ("8.2", gradcam_predicted, "wrong", "*predicted* class"),
    ("8.2", gradcam_softmax, "wrong", "softmax probability"),
    ("8.2", gradcam_normalised, "wrong", "maximum of 1"),
    ("8.2", gradcam_leaves_hook, "wrong", "hook"),
    ("8.2", gradcam_mean_activation_weights, "wrong", "mean activation"),
    ("8.4", fgsm_descends, "wrong", "stepped *down*"),
    ("8.4", fgsm_raw_gradient, "wrong", "gradient itself"),
    ("8.4", fgsm_scaled_gradient, "wrong", "largest entry of 1"),
    ("8.4", fgsm_unclipped, "wrong", "not clipped"),
    ("8.4", fgsm_predicted_labels, "wrong", "own predictions"),
    ("8.4", fgsm_logit, "wrong", "true class's logit"),
    ("8.4", fgsm_no_step, "wrong", "Exercise 8.4"),
    ("8.4", fgsm_random_sign, "wrong", "Exercise 8.4"),
    ("8.4", fgsm_clip_to_eps, "wrong", "Exercise 8.4"),
    ("8.3", sanity_high_passes, "wrong", "low correlation"),
    ("8.3", sanity_pearson, "wrong", "Pearson"),
    ("8.3", sanity_argsort_ranks, "wrong", "mean of their ranks"),
    ("8.3", sanity_against_image, "wrong", "randomised network's map"),
    ("8.3", sanity_image_of_randomised, "wrong", "merely follows the image"),
    ("8.3", sanity_tensors, "bad_type", "Exercise 8.3"),
    ("8.3", sanity_per_image, "bad_type", "Exercise 8.3"),
    ("8.3", sanity_list_not_tuple, "bad_type", "Exercise 8.3"),
]

# --------------------------------------------------------------------------- review findings

def gradcam_not_detached(model, layer, x, target):
    kept = {}

    def hook(module, inputs, output):
        kept["A"] = output
        output.register_hook(lambda g: kept.__setitem__("g", g))

    handle = layer.register_forward_hook(hook)
    try:
        model(x)[torch.arange(len(x)), target].sum().backward(retain_graph=True)
    finally:
        handle.remove()
    return torch.relu((kept["g"].mean((2, 3))[:, :, None, None] * kept["A"]).sum(1))


def fgsm_not_detached(model, x, y, eps):
    x = x.clone().requires_grad_(True)
    nn.functional.cross_entropy(model(x), y).backward()
    return (x + eps * x.grad.sign()).clamp(0, 1)


def fgsm_clipped_before_step(model, x, y, eps):
    x = x.clone().requires_grad_(True)
    nn.functional.cross_entropy(model(x), y).backward()
    return (x.clamp(0, 1) + eps * x.grad.sign()).detach()


def sanity_fixed_threshold(trained, randomised, image, threshold=0.5):
    out = {}
    for name in trained:
        r = A.rank_correlation(trained[name], randomised[name]).mean().item()
        i = A.rank_correlation(trained[name], image).mean().item()
        out[name] = (r, i, r <= 0.5)
    return out


def sanity_pooled_over_images(trained, randomised, image, threshold=0.5):
    out = {}
    for name in trained:
        r = A.rank_correlation(trained[name].flatten()[None], randomised[name].flatten()[None])
        i = A.rank_correlation(trained[name].flatten()[None], image.flatten()[None])
        out[name] = (r.item(), i.item(), r.item() <= threshold)
    return out


def occlusion_float32(model, image, target, patch, stride):
    return ch08.occlusion_map(model, image, target, patch, stride).float()


def test_a_float32_occlusion_map_passes():
    assert run_check(ch08.OCCLUSION_MAP, occlusion_float32).passed


def test_close_values_are_printed_with_more_digits():
    message = run_check(ch08.SANITY_CHECK, sanity_pooled_over_images).message
    assert "expected 0.9928, got 0.9928" not in message and "0.9927" in message, message


MUTANTS += [
    ("8.2", gradcam_not_detached, "wrong", "detach it: `.detach()`"),
    ("8.4", fgsm_not_detached, "wrong", "detach it: `.detach()`"),
    ("8.4", fgsm_clipped_before_step, "wrong", "clip the result after the step"),
    ("8.3", sanity_fixed_threshold, "wrong", "ignores `threshold`"),
    ("8.3", sanity_pooled_over_images, "wrong", "Exercise 8.3"),
]


(test_mutant_is_rejected_with_the_right_diagnosis,
 test_each_exercise_has_at_least_five_diagnosed_mutants) = mutant_tests(CHECKERS, MUTANTS)


# --------------------------------------------------------------------------- other right answers

def occlusion_batched(model, image, target, patch, stride):
    """Every occluded copy in one batch, built with a mask."""
    C, H, W = image.shape
    rows = torch.arange(0, H - patch + 1, stride)
    cols = torch.arange(0, W - patch + 1, stride)
    r = torch.arange(H)[None, :, None]
    c = torch.arange(W)[None, None, :]
    top = rows.repeat_interleave(len(cols))[:, None, None]
    left = cols.repeat(len(rows))[:, None, None]
    inside = (r >= top) & (r < top + patch) & (c >= left) & (c < left + patch)  # (P, H, W)
    copies = image[None] * (~inside)[:, None].to(image.dtype)
    with torch.no_grad():
        p0 = torch.softmax(model(image[None]), dim=-1)[0, target]
        p = torch.softmax(model(copies), dim=-1)[:, target]
    return (p0 - p).reshape(len(rows), len(cols))


def occlusion_unfold_positions(model, image, target, patch, stride):
    """Loops over output indices, the square located by arithmetic, log-softmax then exp."""
    C, H, W = image.shape
    h_out, w_out = (H - patch) // stride + 1, (W - patch) // stride + 1
    with torch.no_grad():
        p0 = model(image[None]).log_softmax(1)[0, target].exp()
        result = []
        for k in range(h_out * w_out):
            i, j = divmod(k, w_out)
            hidden = image.clone()
            hidden[:, i * stride:][:, :patch, j * stride:][:, :, :patch] = 0.0
            result.append(p0 - model(hidden[None]).log_softmax(1)[0, target].exp())
    return torch.stack(result).reshape(h_out, w_out)


def gradcam_backward_module_hook(model, layer, x, target):
    """A module backward hook (register_full_backward_hook) instead of a tensor hook."""
    saved = {}
    h1 = layer.register_forward_hook(lambda m, i, o: saved.__setitem__("A", o.detach()))
    h2 = layer.register_full_backward_hook(lambda m, gi, go: saved.__setitem__("G", go[0]))
    try:
        out = model(x)
        model.zero_grad()
        out.gather(1, target[:, None]).sum().backward()
    finally:
        h1.remove()
        h2.remove()
    alpha = saved["G"].mean(dim=(-2, -1))
    return torch.einsum("nk,nkhw->nhw", alpha, saved["A"]).clamp(min=0)


def gradcam_autograd_grad(model, layer, x, target):
    """The layer's output captured by a forward hook, its gradient by torch.autograd.grad."""
    saved = []
    handle = layer.register_forward_hook(lambda m, i, o: saved.append(o))
    try:
        score = model(x)[torch.arange(len(x)), target].sum()
    finally:
        handle.remove()
    (grad,) = torch.autograd.grad(score, saved[0])
    return torch.relu((grad.mean(dim=(2, 3))[..., None, None] * saved[0]).sum(1)).detach()


def fgsm_sum_loss(model, x, y, eps):
    """Summed instead of averaged loss: the gradient is N times larger, its sign the same."""
    x = x.detach().requires_grad_(True)
    loss = nn.functional.cross_entropy(model(x), y, reduction="sum")
    (g,) = torch.autograd.grad(loss, x)
    return torch.clamp(x.detach() + eps * torch.sign(g), min=0.0, max=1.0)


def fgsm_log_softmax(model, x, y, eps):
    """The loss written out: minus the log-softmax of the true class, and torch.where for
    the sign."""
    x = x.detach().clone().requires_grad_(True)
    nll = -model(x).log_softmax(1).gather(1, y[:, None]).mean()
    nll.backward()
    step = torch.where(x.grad > 0, 1.0, torch.where(x.grad < 0, -1.0, 0.0)).to(x.dtype)
    return (x + eps * step).clamp(0, 1).detach()


def sanity_average_ranks_by_hand(trained, randomised, image, threshold=0.5):
    """Spearman written out: average ranks of ties via sorting and unique values."""
    def ranks(v):
        v = v.flatten()
        order = v.argsort()
        r = torch.empty_like(v, dtype=torch.float64)
        r[order] = torch.arange(len(v), dtype=torch.float64)
        values, inverse = torch.unique(v, return_inverse=True)
        mean_rank = torch.zeros(len(values), dtype=torch.float64).index_add_(0, inverse, r)
        mean_rank /= torch.bincount(inverse, minlength=len(values)).double()
        return mean_rank[inverse]

    def rho(a, b):
        values = []
        for u, v in zip(a, b):
            ru, rv = ranks(u), ranks(v)
            values.append(float(torch.corrcoef(torch.stack([ru, rv]))[0, 1]))
        return sum(values) / len(values)

    return {name: (rho(trained[name], randomised[name]), rho(trained[name], image),
                   rho(trained[name], randomised[name]) <= threshold) for name in trained}


def sanity_numpy_pearson_of_ranks(trained, randomised, image, threshold=0.5):
    """NumPy: ranks from a double argsort, then ties averaged with np.unique."""
    import numpy as np

    def ranks(v):
        v = np.asarray(v, dtype=np.float64).ravel()
        raw = v.argsort().argsort().astype(np.float64)
        _, inverse = np.unique(v, return_inverse=True)
        sums = np.bincount(inverse, weights=raw)
        counts = np.bincount(inverse)
        return (sums / counts)[inverse]

    def rho(a, b):
        return float(np.mean([np.corrcoef(ranks(u), ranks(v))[0, 1]
                              for u, v in zip(a.numpy(), b.numpy())]))

    result = {}
    for name in trained:
        r = rho(trained[name], randomised[name])
        result[name] = (r, rho(trained[name], image), bool(r <= threshold))
    return result


def test_other_right_answers_pass():
    for number, fn in [("8.1", occlusion_batched), ("8.1", occlusion_unfold_positions),
                       ("8.2", gradcam_backward_module_hook), ("8.2", gradcam_autograd_grad),
                       ("8.4", fgsm_sum_loss), ("8.4", fgsm_log_softmax),
                       ("8.3", sanity_average_ranks_by_hand),
                       ("8.3", sanity_numpy_pearson_of_ranks)]:
        verdict = run_check(CHECKERS[number].exercise, fn)
        assert verdict.passed, (fn.__name__, verdict.message)
