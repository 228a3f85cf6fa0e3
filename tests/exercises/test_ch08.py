"""Chapter 8 exercises: the references pass; typical learner mistakes get the right diagnosis;
right answers written another way pass too.

The mutants are written the way a learner would write them (not copies of the Mistake
functions in helpers/exercises/ch08.py), so each diagnosis is proven by behaviour: one learner's
loop per exercise, and a table of the slips each mutant makes in it.
"""
from __future__ import annotations

import torch
from torch import nn

from helpers import attribution as A
from helpers.exercises import ch08, run_check
from tests.exercises.harness import checkers_of, mutant_tests, named_mutants

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


# --------------------------------------------------------------------------- the mutants
#
# Each exercise has one learner's loop, written the usual way and independently of the Mistake
# functions of helpers/exercises/ch08.py; a mutant is that loop with the expressions the learner
# got wrong swapped in, one row of a table: (name, the diagnosis its verdict must name, slips).

# --------------------------------------------------------------------------- 8.1 mutants

def _occlusion_loop(*, score=lambda model, x, c: model(x[None]).softmax(1)[0, c],
                    cls=lambda model, image, target: target,
                    grid=lambda H, W, patch, stride: ((H - patch) // stride + 1,
                                                      (W - patch) // stride + 1),
                    square=lambda i, j, patch, stride: (slice(i * stride, i * stride + patch),
                                                        slice(j * stride, j * stride + patch)),
                    fill=lambda image: 0, drop=lambda base, p: base - p, copy=True):
    def mutant(model, image, target, patch, stride):
        C, H, W = image.shape
        out = torch.zeros(*grid(H, W, patch, stride), dtype=image.dtype)
        with torch.no_grad():
            c = cls(model, image, target)
            base = score(model, image, c)
            for i in range(out.shape[0]):
                for j in range(out.shape[1]):
                    x = image.clone() if copy else image
                    x[(slice(None), *square(i, j, patch, stride))] = fill(image)
                    out[i, j] = drop(base, score(model, x, c))
        return out
    return mutant


MUTANTS = named_mutants("8.1", _occlusion_loop, [
    ("occlusion_logit", "*logit*", {"score": lambda model, x, c: model(x[None])[0, c]}),
    ("occlusion_reversed", "sign is reversed", {"drop": lambda base, p: p - base}),
    ("occlusion_range_too_short", "last position is missing",
     {"grid": lambda H, W, patch, stride: (len(range(0, H - patch, stride)),
                                           len(range(0, W - patch, stride)))}),
    ("occlusion_square_size", "image's height",               # assumes a square image
     {"grid": lambda H, W, patch, stride: ((H - patch) // stride + 1,) * 2}),
    ("occlusion_forgets_stride", "multiply by the stride",
     {"square": lambda i, j, patch, stride: (slice(i, i + patch), slice(j, j + patch))}),
    ("occlusion_grey_fill", "image's mean", {"fill": lambda image: image.mean()}),
    ("occlusion_patch_minus_one", "one pixel short",
     {"square": lambda i, j, patch, stride: (slice(i * stride, i * stride + patch - 1),
                                             slice(j * stride, j * stride + patch - 1))}),
    ("occlusion_predicted_class", "*predicted* class",
     {"cls": lambda model, image, target: int(model(image[None]).argmax())}),
    ("occlusion_softmax_wrong_axis", "your probabilities do not change",
     {"score": lambda model, x, c: model(x[None]).softmax(0)[0, c]}),
    ("occlusion_modifies_image", "in place", {"copy": False}),     # forgot the .clone()
])


# --------------------------------------------------------------------------- 8.2 mutants

def _hooked(model, layer, x):
    store = {}

    def fwd(module, inputs, output):
        store["A"] = output
        output.register_hook(lambda g: store.__setitem__("G", g))
    h = layer.register_forward_hook(fwd)
    out = model(x)
    return out, store, h


def _normalised(cam):
    cam = torch.relu(cam)
    return cam / cam.flatten(1).max(1).values[:, None, None]


def _gradcam_loop(*, score=lambda out, target: out[range(len(out)), target],
                  weights=lambda G, A: G.mean(dim=(2, 3), keepdim=True), post=torch.relu,
                  remove=True):
    def mutant(model, layer, x, target):
        out, store, h = _hooked(model, layer, x)
        score(out, target).sum().backward()
        if remove:
            h.remove()
        return post((weights(store["G"], store["A"]) * store["A"]).sum(1)).detach()
    return mutant


MUTANTS += named_mutants("8.2", _gradcam_loop, [
    ("gradcam_no_relu", "no ReLU", {"post": lambda cam: cam}),
    ("gradcam_abs", "absolute value", {"post": torch.abs}),
    ("gradcam_sum_of_gradients", "not its sum",
     {"weights": lambda G, A: G.sum(dim=(2, 3), keepdim=True)}),
    ("gradcam_elementwise", "each position by its own gradient", {"weights": lambda G, A: G}),
    ("gradcam_predicted", "*predicted* class",
     {"score": lambda out, target: out[range(len(out)), out.argmax(1)]}),
    ("gradcam_softmax", "softmax probability",
     {"score": lambda out, target: out.softmax(1)[range(len(out)), target]}),
    ("gradcam_normalised", "maximum of 1", {"post": _normalised}),
    ("gradcam_leaves_hook", "hook", {"remove": False}),
    ("gradcam_mean_activation_weights", "mean activation",
     {"weights": lambda G, A: A.detach().mean(dim=(2, 3), keepdim=True)}),
])


def gradcam_not_detached(model, layer, x, target):
    """The reference's own hooks (imported), its result left in the autograd graph."""
    A, dA = ch08.layer_output_and_gradient(
        model, layer, x, lambda out: out[torch.arange(len(x)), target].sum(), retain_graph=True)
    return torch.relu((dA.mean((2, 3))[:, :, None, None] * A).sum(1))


MUTANTS += [("8.2", gradcam_not_detached, "wrong", "detach it: `.detach()`")]


# --------------------------------------------------------------------------- 8.4 mutants

def _fgsm_loop(*, loss=lambda out, y: nn.functional.cross_entropy(out, y),
               step=lambda x, g, eps: x + eps * g.sign(), clip=lambda a, eps: a.clamp(0, 1),
               detach=True):
    def mutant(model, x, y, eps):
        x = x.clone().requires_grad_()
        loss(model(x), y).backward()
        adv = clip(step(x, x.grad, eps), eps)
        return adv.detach() if detach else adv
    return mutant


MUTANTS += named_mutants("8.4", _fgsm_loop, [
    ("fgsm_descends", "stepped *down*", {"step": lambda x, g, eps: x - eps * g.sign()}),
    ("fgsm_raw_gradient", "gradient itself", {"step": lambda x, g, eps: x + eps * g}),
    ("fgsm_scaled_gradient", "largest entry of 1",
     {"step": lambda x, g, eps: x + eps * g / g.abs().max()}),
    ("fgsm_unclipped", "not clipped", {"clip": lambda a, eps: a}),
    ("fgsm_predicted_labels", "own predictions",
     {"loss": lambda out, y: nn.functional.cross_entropy(out, out.argmax(1))}),
    ("fgsm_logit", "true class's logit",
     {"loss": lambda out, y: out[torch.arange(len(y)), y].sum(),
      "step": lambda x, g, eps: x - eps * g.sign()}),
    ("fgsm_clip_to_eps", "Exercise 8.4",
     {"clip": lambda a, eps: a.clamp(-eps, 1 + eps).clamp(0, 1 - eps)}),
    ("fgsm_not_detached", "detach it: `.detach()`", {"detach": False}),
    ("fgsm_clipped_before_step", "clip the result after the step",
     {"step": lambda x, g, eps: x.clamp(0, 1) + eps * g.sign(), "clip": lambda a, eps: a}),
])


def fgsm_no_step(model, x, y, eps):
    return x.clamp(0, 1)


def fgsm_random_sign(model, x, y, eps):
    return (x + eps * torch.randn_like(x).sign()).clamp(0, 1)


MUTANTS += [("8.4", fgsm_no_step, "wrong", "Exercise 8.4"),
            ("8.4", fgsm_random_sign, "wrong", "Exercise 8.4")]


# --------------------------------------------------------------------------- 8.3 mutants

def _spearman(a, b):
    return A.rank_correlation(a, b).mean().item()


def _pearson(a, b):
    return float(torch.stack([torch.corrcoef(torch.stack([u.flatten(), v.flatten()]))[0, 1]
                              for u, v in zip(a, b)]).mean())


def _ranks_by_position(a, b):
    ra = a.flatten(1).argsort(1).argsort(1).double()
    rb = b.flatten(1).argsort(1).argsort(1).double()
    ra, rb = ra - ra.mean(1, keepdim=True), rb - rb.mean(1, keepdim=True)
    return float(((ra * rb).sum(1) / (ra.norm(dim=1) * rb.norm(dim=1))).mean())


def _sanity_loop(*, rho=_spearman, compared=lambda randomised, image: randomised,
                 source=lambda trained, randomised: trained,
                 entry=lambda r, i, threshold: (r, i, r <= threshold)):
    def mutant(trained, randomised, image, threshold=0.5):
        out = {}
        for name in trained:
            r = rho(trained[name], compared(randomised[name], image))
            out[name] = entry(r, rho(source(trained[name], randomised[name]), image), threshold)
        return out
    return mutant


MUTANTS += named_mutants("8.3", _sanity_loop, [
    ("sanity_high_passes", "low correlation",
     {"entry": lambda r, i, threshold: (r, i, r >= threshold)}),
    ("sanity_pearson", "Pearson", {"rho": _pearson}),
    ("sanity_argsort_ranks", "mean of their ranks", {"rho": _ranks_by_position}),
    ("sanity_against_image", "randomised network's map",
     {"compared": lambda randomised, image: image}),
    ("sanity_image_of_randomised", "merely follows the image",
     {"source": lambda trained, randomised: randomised}),
    ("sanity_fixed_threshold", "ignores `threshold`",
     {"entry": lambda r, i, threshold: (r, i, r <= 0.5)}),
    ("sanity_pooled_over_images", "Exercise 8.3",
     {"rho": lambda a, b: A.rank_correlation(a.flatten()[None], b.flatten()[None]).item()}),
])
MUTANTS += named_mutants("8.3", _sanity_loop, [
    ("sanity_tensors", "Exercise 8.3",
     {"rho": lambda a, b: A.rank_correlation(a, b).mean(),
      "entry": lambda r, i, threshold: (r, i, bool(r <= threshold))}),
    ("sanity_per_image", "Exercise 8.3",
     {"rho": A.rank_correlation,
      "entry": lambda r, i, threshold: (r.tolist(), i.tolist(), bool(r.mean() <= threshold))}),
    ("sanity_list_not_tuple", "Exercise 8.3",
     {"entry": lambda r, i, threshold: [r, i, r <= threshold]}),
], status="bad_type")
MUTANT = {mutant.__name__: mutant for _, mutant, _, _ in MUTANTS}


# --------------------------------------------------------------------------- review findings

def occlusion_float32(model, image, target, patch, stride):
    return ch08.occlusion_map(model, image, target, patch, stride).float()


def test_a_float32_occlusion_map_passes():
    assert run_check(ch08.OCCLUSION_MAP, occlusion_float32).passed


def test_close_values_are_printed_with_more_digits():
    message = run_check(ch08.SANITY_CHECK, MUTANT["sanity_pooled_over_images"]).message
    assert "expected 0.9928, got 0.9928" not in message and "0.9927" in message, message


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
