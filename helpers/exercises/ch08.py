"""Chapter 8 exercises: what a trained network sees.

====  ==============================================  ===========================================
8.1   ``occlusion_map(model, image, target,            (H', W') drop in the target's probability
      patch, stride)``                                 when a black patch x patch square covers
                                                       each position; H' = (H - patch) // stride
                                                       + 1 (rows and columns apart)
8.2   ``grad_cam(model, layer, x, target)``            (N, h, w) Grad-CAM of ``layer`` from a
                                                       forward and a backward hook, both removed
                                                       before it returns
8.3   ``sanity_check(trained, randomised, image,       {method: (rho with the randomised
      threshold=0.5)``                                 network's map, rho with the image,
                                                       passes)}: the sanity check and its reason
8.4   ``fgsm(model, x, y, eps)``                       (N, C, H, W) the FGSM image, clipped to
                                                       [0, 1]
====  ==============================================  ===========================================

Each case builds a small random network (``_case_model``: two convolutions, ReLU, max pooling,
global average pooling, a linear layer) of its own seed, in float64 so that the comparisons can
be tight, and images of non-square sizes.
"""
from __future__ import annotations

from functools import partial

import torch
from torch import nn

from helpers.attribution import rank_correlation
from helpers.exercises.core import Case, Exercise, Mistake, checker, compare_outputs

__all__ = ["check_fgsm", "check_grad_cam", "check_occlusion_map", "check_sanity_check"]


def _case_model(seed: int, in_channels: int = 1, classes: int = 4) -> nn.Module:
    """A small GAP network in float64, evaluation mode; ``features[3]`` is its last ReLU."""
    torch.manual_seed(seed)
    model = nn.Sequential()
    model.features = nn.Sequential(nn.Conv2d(in_channels, 5, 3, padding=1), nn.ReLU(),
                                   nn.MaxPool2d(2), nn.Conv2d(5, 6, 3, padding=1), nn.ReLU())
    model.classifier = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, classes))
    return model.double().eval()


def _mistakes(variant, rows) -> list[Mistake]:
    """One :class:`Mistake` per ``(message, options)`` row: ``variant`` called with the
    exercise's arguments and those keyword options."""
    return [Mistake(message, partial(variant, **options)) for message, options in rows]


def _images(seed: int, n: int, c: int, h: int, w: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, c, h, w, generator=g, dtype=torch.float64)
    return torch.where(x > 0.55, x, torch.zeros_like(x))      # a black background, like MNIST


# --------------------------------------------------------------------------- 8.1 occlusion

def occlusion_map(model, image, target, patch, stride):
    """(C, H, W) image -> (H', W'): p(target | image) - p(target | image with a black patch x
    patch square at row r * stride, column c * stride)."""
    C, H, W = image.shape
    rows, cols = range(0, H - patch + 1, stride), range(0, W - patch + 1, stride)
    with torch.no_grad():
        base = model(image[None]).softmax(1)[0, target]
        drop = torch.zeros(len(rows), len(cols), dtype=image.dtype)
        for i, r in enumerate(rows):
            for j, c in enumerate(cols):
                hidden = image.clone()
                hidden[:, r:r + patch, c:c + patch] = 0
                drop[i, j] = base - model(hidden[None]).softmax(1)[0, target]
    return drop


def _occlusion_variant(model, image, target, patch, stride, *, score="prob", sign=1,
                       last=True, rows_for_cols=False, offset_by_index=False, fill="black",
                       short=0, cls="target"):
    C, H, W = image.shape
    end = 1 if last else 0
    rows = range(0, H - patch + end, stride)
    cols = range(0, (H if rows_for_cols else W) - patch + end, stride)
    with torch.no_grad():
        def value(x):
            out = model(x[None])
            c = target if cls == "target" else int(model(image[None]).argmax())
            return out[0, c] if score == "logit" else out.softmax(1)[0, c]
        base = value(image)
        drop = torch.zeros(len(rows), len(cols), dtype=image.dtype)
        for i, r in enumerate(rows):
            for j, c in enumerate(cols):
                r0, c0 = (i, j) if offset_by_index else (r, c)
                hidden = image.clone()
                hidden[:, r0:r0 + patch - short, c0:c0 + patch - short] = \
                    image.mean() if fill == "mean" else 0
                drop[i, j] = sign * (base - value(hidden))
    return drop


def _occlusion_cases(rng) -> list[Case]:
    cases = [Case((_case_model(1), _images(2, 1, 1, 12, 9)[0], 2, 3, 2), label="12 x 9, patch 3"),
             Case((_case_model(3), _images(4, 1, 1, 9, 14)[0], 0, 4, 3), label="9 x 14, stride 3"),
             Case((_case_model(5, 2), _images(6, 1, 2, 10, 7)[0], 3, 5, 1),
                  label="two channels, stride 1")]
    for k in range(3):
        h, w = (int(v) for v in rng.integers(7, 15, size=2))
        patch = int(rng.integers(2, min(h, w) - 1))
        cases.append(Case((_case_model(10 + k), _images(20 + k, 1, 1, h, w)[0],
                           int(rng.integers(0, 4)), patch, int(rng.integers(1, 4)))))
    return cases


def _compare_occlusion(got, expected):
    """The default comparison, any floating dtype accepted (compared after casting)."""
    if isinstance(got, torch.Tensor) and got.is_floating_point() and got.dtype != expected.dtype:
        got = got.detach().to(expected.dtype)
    return compare_outputs(got, expected, check_dtype=True, shape_hint=_OCCLUSION_SHAPE)


def _occlusion_hint(case, got, expected):
    """A map of zeros: the probability never changed, the sign of a softmax over the batch."""
    if isinstance(got, torch.Tensor) and got.shape == expected.shape and \
            bool((got == 0).all()) and not bool((expected == 0).all()):
        return ("your probabilities do not change (every drop is 0): take the softmax over "
                "the class axis, `softmax(1)` / `softmax(-1)`; over axis 0, a batch of one "
                "image gives probability 1 whatever the patch hides.")
    return None


_OCCLUSION_SHAPE = "(H', W') with H' = (H - patch) // stride + 1, W' = (W - patch) // stride + 1"

OCCLUSION_MAP = Exercise(
    number="8.1", title="An occlusion map", reference=occlusion_map, cases=_occlusion_cases,
    compare=_compare_occlusion, diagnose=_occlusion_hint,
    shape_hint=_OCCLUSION_SHAPE,
    mistakes=_mistakes(_occlusion_variant, [
        ("you measured the drop of the *logit*; the map is the drop of the target's "
         "probability, `model(x).softmax(1)[0, target]`.",
         {"score": "logit"}),
        ("the sign is reversed: the map is p(original) − p(occluded), positive where "
         "hiding the square hurts the answer.",
         {"sign": -1}),
        ("the last position is missing: a square fits at every start from 0 to H − patch "
         "*inclusive*, so `range(0, H - patch + 1, stride)`.",
         {"last": False}),
        ("the columns use the image's height: the positions across run over "
         "`W - patch + 1`, which differs from the rows when the image is not square.",
         {"rows_for_cols": True}),
        ("the square starts at the map's index (i, j), not at the pixel (i·stride, "
         "j·stride): multiply by the stride.",
         {"offset_by_index": True}),
        ("you filled the square with the image's mean; the statement asks for black (0), "
         "the MNIST background.",
         {"fill": "mean"}),
        ("the square is one pixel short on each side: `r:r + patch` covers exactly "
         "`patch` rows.",
         {"short": 1}),
        ("you followed the *predicted* class; the map is about the `target` class.",
         {"cls": "predicted"}),
    ]),
)
check_occlusion_map = checker(OCCLUSION_MAP, "check_occlusion_map")


# --------------------------------------------------------------------------- 8.2 Grad-CAM

def grad_cam(model, layer, x, target):
    """(N, C, H, W) -> (N, h, w): ReLU(sum_k alpha_k A_k), A = ``layer``'s output (N, K, h, w),
    alpha_k = mean over positions of d score_target / d A_k (the logit), from a forward hook
    and a backward (tensor) hook that are removed before returning."""
    A, dA = layer_output_and_gradient(
        model, layer, x, lambda scores: scores[torch.arange(len(x)), target].sum())
    alpha = dA.mean(dim=(2, 3))                                   # (N, K)
    return torch.relu((alpha[:, :, None, None] * A.detach()).sum(1))


def layer_output_and_gradient(model, layer, x, score, **backward):
    """``layer``'s output A (N, K, h, w), still in the autograd graph, and its gradient dA
    (N, K, h, w) = d score(model(x)) / dA, caught by a forward hook on ``layer`` and a tensor
    hook on A; ``score`` maps the model's output to a scalar, ``backward`` goes to
    ``Tensor.backward`` (``retain_graph=True``). The forward hook is removed before returning,
    even when the forward or backward pass fails."""
    stored = {}

    def forward_hook(module, inputs, output):
        stored["A"] = output
        output.register_hook(lambda grad: stored.__setitem__("dA", grad))

    handle = layer.register_forward_hook(forward_hook)
    try:
        score(model(x)).backward(**backward)
    finally:
        handle.remove()
    return stored["A"], stored["dA"]


def _grad_cam_variant(model, layer, x, target, *, weights="mean", relu="relu", cls="target",
                      score="logit", normalise=False):
    def scalar(out):
        c = target if cls == "target" else out.argmax(1)
        return (out.softmax(1) if score == "prob" else out)[torch.arange(len(x)), c].sum()

    A, dA = layer_output_and_gradient(model, layer, x, scalar)
    A = A.detach()
    if weights == "mean":
        cam = (dA.mean(dim=(2, 3))[:, :, None, None] * A).sum(1)
    elif weights == "sum":
        cam = (dA.sum(dim=(2, 3))[:, :, None, None] * A).sum(1)
    elif weights == "activation":
        cam = (A.mean(dim=(2, 3))[:, :, None, None] * A).sum(1)
    else:                                                          # per position
        cam = (dA * A).sum(1)
    cam = {"relu": torch.relu, "none": lambda t: t, "abs": torch.abs}[relu](cam)
    if normalise:
        cam = cam / cam.amax(dim=(1, 2), keepdim=True).clamp(min=1e-12)
    return cam


def _grad_cam_cases(rng) -> list[Case]:
    cases = []
    for k, (n, c, h, w) in enumerate([(2, 1, 12, 8), (3, 1, 10, 14), (2, 2, 9, 11), (1, 1, 16, 6)]):
        model = _case_model(30 + k, c)
        cases.append(Case((model, model.features[4], _images(40 + k, n, c, h, w),
                           torch.as_tensor(rng.integers(0, 4, size=n))), label=f"{h} x {w}"))
    model = _case_model(35)
    cases.append(Case((model, model.features[1], _images(45, 2, 1, 10, 7), torch.tensor([1, 3])),
                      label="the first ReLU: 10 x 7 maps"))
    return cases


GRAD_CAM = Exercise(
    number="8.2", title="Grad-CAM from hooks", reference=grad_cam, cases=_grad_cam_cases,
    shape_hint="(N, h, w): the layer's output size", side_effects=("hooks",), rtol=1e-7,
    atol=1e-9, detached=True,
    mistakes=_mistakes(_grad_cam_variant, [
        ("no ReLU at the end: Grad-CAM keeps only the positive part, "
         "`torch.relu(...)`.",
         {"relu": "none"}),
        ("you took the absolute value; Grad-CAM keeps the positive part (ReLU) and sets "
         "negative evidence to 0.",
         {"relu": "abs"}),
        ("α_k is the *mean* of the gradient over the h·w positions, not its sum.",
         {"weights": "sum"}),
        ("you weighted each position by its own gradient (Σ_k A_k · ∂s/∂A_k); Grad-CAM "
         "averages the gradient over positions first, one α_k per map.",
         {"weights": "position"}),
        ("the weights must come from the gradient of the score; you weighted each map by "
         "its own mean activation.",
         {"weights": "activation"}),
        ("you back-propagated the *predicted* class's score; Grad-CAM explains `target`.",
         {"cls": "predicted"}),
        ("you back-propagated the softmax probability; Grad-CAM uses the class score "
         "before softmax (the logit).",
         {"score": "prob"}),
        ("you scaled each map to a maximum of 1; return Grad-CAM itself (scale it only "
         "to display it).",
         {"normalise": True}),
    ]),
)
check_grad_cam = checker(GRAD_CAM, "check_grad_cam")


# --------------------------------------------------------------------------- 8.4 FGSM

def fgsm(model, x, y, eps):
    """(N, C, H, W) images in [0, 1] -> x + eps * sign(d loss / d x), clipped to [0, 1]; loss:
    the mean cross-entropy of the true labels ``y``."""
    x = x.detach().clone().requires_grad_(True)
    loss = nn.functional.cross_entropy(model(x), y)
    (grad,) = torch.autograd.grad(loss, x)
    return (x + eps * grad.sign()).clamp(0, 1).detach()


def _fgsm_variant(model, x, y, eps, *, direction=1, use="sign", clip=True, labels="true",
                  objective="loss"):
    x = x.detach().clone().requires_grad_(True)
    out = model(x)
    target = y if labels == "true" else out.argmax(1)
    if objective == "loss":
        value = nn.functional.cross_entropy(out, target)
    else:                                                   # lower the true class's logit
        value = -out[torch.arange(len(x)), target].sum()
    (grad,) = torch.autograd.grad(value, x)
    if use == "sign":
        step = grad.sign()
    elif use == "raw":
        step = grad
    else:                                                   # scaled to a largest entry of 1
        step = grad / grad.abs().amax().clamp(min=1e-12)
    adv = x + direction * eps * step
    return (adv.clamp(0, 1) if clip else adv).detach()


def _fgsm_cases(rng) -> list[Case]:
    cases = []
    for k, (n, c, h, w, eps) in enumerate([(4, 1, 12, 9, 0.1), (3, 1, 8, 13, 0.25),
                                           (5, 2, 10, 7, 0.05), (6, 1, 11, 11, 0.3)]):
        y = torch.as_tensor(rng.integers(0, 4, size=n))
        cases.append(Case((_case_model(50 + k, c), _images(60 + k, n, c, h, w), y, eps),
                          label=f"{h} x {w}, eps {eps}"))
    return cases


FGSM = Exercise(
    number="8.4", title="The fast gradient sign method", reference=fgsm, cases=_fgsm_cases,
    shape_hint="(N, C, H, W): the input's shape", rtol=0, atol=1e-9, detached=True,
    mistakes=_mistakes(_fgsm_variant, [
        ("you stepped *down* the loss (x − ε·sign): an attack moves up it, "
         "x + ε·sign(∇ₓ loss).",
         {"direction": -1}),
        ("you used the gradient itself; FGSM moves every pixel by exactly ε in the "
         "direction of the gradient's *sign*.",
         {"use": "raw"}),
        ("you scaled the gradient to a largest entry of 1; FGSM takes its sign, so every "
         "pixel moves by ε.",
         {"use": "scaled"}),
        ("the result is not clipped to [0, 1] (clipping x BEFORE the step does "
         "nothing, it is already in [0, 1]): clip the result after the step, "
         "(x + ε·sign).clamp(0, 1).",
         {"clip": False}),
        ("you attacked the network's own predictions; the loss uses the true labels "
         "`y`.",
         {"labels": "predicted"}),
        ("you lowered the true class's logit; FGSM raises the cross-entropy loss, which "
         "also depends on the other classes' scores.",
         {"objective": "logit"}),
    ]),
)
check_fgsm = checker(FGSM, "check_fgsm")


# --------------------------------------------------------------------------- 8.3 sanity check

def sanity_check(trained, randomised, image, threshold=0.5):
    """``trained``, ``randomised``: {method: (N, H, W) maps} of the trained network and of the
    network with every layer re-drawn; ``image`` (N, H, W). Returns {method: (rho_random,
    rho_image, passes)}: the mean over images of Spearman's rank correlation (ties at their
    mean rank) of the trained map with the randomised map and with the image, as floats, and
    whether the method passes (rho_random <= threshold)."""
    result = {}
    for name in trained:
        rho_random = rank_correlation(trained[name], randomised[name]).mean().item()
        rho_image = rank_correlation(trained[name], image).mean().item()
        result[name] = (rho_random, rho_image, rho_random <= threshold)
    return result


def _pearson(a, b):
    a, b = a.flatten(1).double(), b.flatten(1).double()
    a, b = a - a.mean(1, keepdim=True), b - b.mean(1, keepdim=True)
    return (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1))


def _position_ranks(v):
    return v.flatten(1).argsort(1).argsort(1).double()


def _sanity_variant(trained, randomised, image, threshold=0.5, *, corr="spearman",
                    passes="low", against="randomised", ties="mean", image_of="trained",
                    fixed=None):
    threshold = threshold if fixed is None else fixed
    def rho(a, b):
        if corr == "pearson":
            return _pearson(a, b).mean().item()
        if ties == "position":
            return _pearson(_position_ranks(a), _position_ranks(b)).mean().item()
        return rank_correlation(a, b).mean().item()
    result = {}
    for name in trained:
        other = randomised[name] if against == "randomised" else image
        source = trained[name] if image_of == "trained" else randomised[name]
        r_random, r_image = rho(trained[name], other), rho(source, image)
        ok = r_random <= threshold if passes == "low" else r_random >= threshold
        result[name] = (r_random, r_image, ok)
    return result


def _pair_near(g, shape, target, tol=0.02):
    """Two positive maps whose mean rank correlation lies within ``tol`` of ``target`` (between
    the thresholds 0.4, 0.5 and 0.6, so that a threshold fixed at 0.5 gives another verdict)."""
    for _ in range(200):
        a = torch.randn(shape, generator=g, dtype=torch.float64)
        b = torch.randn(shape, generator=g, dtype=torch.float64)
        for mix in (0.3, 0.4, 0.5, 0.6, 0.7):
            other = mix * a + (1 - mix ** 2) ** 0.5 * b
            if abs(rank_correlation(a, other).mean().item() - target) <= tol:
                return a.exp(), other.exp()
    raise RuntimeError("no pair of maps near the target correlation")


def _sanity_cases(rng) -> list[Case]:
    cases = []
    for k, (n, h, w) in enumerate([(3, 10, 7), (2, 6, 12), (4, 9, 9)]):
        g = torch.Generator().manual_seed(70 + k)
        img = (torch.rand(n, h, w, generator=g, dtype=torch.float64) > 0.6).double() \
            * torch.rand(n, h, w, generator=g, dtype=torch.float64)
        def noise(n=n, h=h, w=w, g=g):
            return torch.randn(n, h, w, generator=g, dtype=torch.float64)
        trained = {"image-like": img * (1 + 0.2 * noise()).abs(),
                   "model-like": noise().abs(),
                   "partly": (img + 0.3 * noise()).abs()}
        randomised = {"image-like": img * (1 + 0.2 * noise()).abs(),
                      "model-like": noise().abs(),
                      "partly": (img + 0.6 * noise()).abs()}
        for name, target in (("borderline-low", 0.45), ("borderline-high", 0.55)):
            trained[name], randomised[name] = _pair_near(g, (n, h, w), target)
        cases.append(Case((trained, randomised, img), {"threshold": [0.5, 0.4, 0.6][k]},
                          label=f"{n} maps of {h} x {w}"))
    return cases


SANITY_CHECK = Exercise(
    number="8.3", title="Which map passes the sanity check, and why", reference=sanity_check,
    cases=_sanity_cases, rtol=1e-6, atol=1e-9,
    mistakes=_mistakes(_sanity_variant, [
        ("passing means the map *changes* when the network is randomised: a low "
         "correlation, `rho_random <= threshold`.",
         {"passes": "high"}),
        ("your verdict ignores `threshold` (a fixed 0.5?): a method passes when "
         "rho_random <= threshold, the argument.",
         {"fixed": 0.5}),
        ("you used Pearson's correlation of the values; the test uses Spearman's, the "
         "correlation of their *ranks* (`rank_correlation`).",
         {"corr": "pearson"}),
        ("tied values (the zeros of a black background) got ranks by position; ties "
         "share the mean of their ranks (`rank_correlation` does this).",
         {"ties": "position"}),
        ("rho_random compares the trained map with the image; it should compare it with "
         "the randomised network's map (the image is the second number).",
         {"against": "image"}),
        ("rho_image compares the *randomised* map with the image; the question is "
         "whether the trained network's map merely follows the image.",
         {"image_of": "randomised"}),
    ]),
)
check_sanity_check = checker(SANITY_CHECK, "check_sanity_check")

EXERCISES = [OCCLUSION_MAP, GRAD_CAM, SANITY_CHECK, FGSM]
