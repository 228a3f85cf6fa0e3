"""helpers.layers against torch.nn.functional: forward and backward, plus every bad input.

Tolerances: float64 comparisons use atol=1e-10 (the sums have at most a few hundred terms, so
round-off is ~1e-13); float32 comparisons use atol=1e-5, rtol=1e-4; the centred-difference
check of the NumPy backward uses h=1e-6 in float64 and atol=1e-6 (the loss is linear in x and w,
so the only error is round-off, ~1e-16 * |loss| / h ~ 1e-9).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from torch import nn

from helpers.layers import (
    AvgPool2d,
    Conv2d,
    MaxPool2d,
    avg_pool2d,
    binomial_kernel,
    blur_pool2d,
    conv2d,
    conv2d_naive,
    conv2d_naive_backward,
    conv_output_size,
    im2col,
    max_pool2d,
)

F64 = {"atol": 1e-10, "rtol": 0.0}
F32 = {"atol": 1e-5, "rtol": 1e-4}
FAST = settings(max_examples=40, deadline=None)


def _assert_close(actual, expected, tol) -> None:
    torch.testing.assert_close(torch.as_tensor(actual), torch.as_tensor(expected), **tol)


# --------------------------------------------------------------------------- naive NumPy


@st.composite
def naive_cases(draw):
    n, c, k_out = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride, padding = draw(st.integers(1, 3)), draw(st.integers(0, 2))
    h = draw(st.integers(max(1, kh - 2 * padding), 7))
    w = draw(st.integers(max(1, kw - 2 * padding), 7))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, c, h, w)), rng.standard_normal((k_out, c, kh, kw)),
            rng.standard_normal(k_out), stride, padding)


@FAST
@given(naive_cases())
def test_conv2d_naive_matches_torch(case):
    x, w, b, stride, padding = case
    expected = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b), stride,
                        padding)
    _assert_close(conv2d_naive(x, w, b, stride, padding), expected, F64)


@FAST
@given(naive_cases())
def test_conv2d_naive_backward_matches_autograd(case):
    x, w, b, stride, padding = case
    xt = torch.from_numpy(x).requires_grad_()
    wt = torch.from_numpy(w).requires_grad_()
    bt = torch.from_numpy(b).requires_grad_()
    out = F.conv2d(xt, wt, bt, stride, padding)
    grad = torch.randn_like(out)
    expected = torch.autograd.grad(out, (xt, wt, bt), grad)
    actual = conv2d_naive_backward(x, w, grad.numpy(), stride, padding)
    for a, e in zip(actual, expected):
        assert a.shape == tuple(e.shape)
        _assert_close(a, e, F64)


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1), (3, 2)])
def test_conv2d_naive_backward_centred_differences(stride, padding):
    """dL/dθ ≈ (L(θ + h) - L(θ - h)) / 2h for every entry of x and w, L = sum(out * G)."""
    rng = np.random.default_rng(stride)
    x, w = rng.standard_normal((2, 2, 6, 5)), rng.standard_normal((3, 2, 3, 2))
    b = rng.standard_normal(3)
    out = conv2d_naive(x, w, b, stride, padding)
    grad = rng.standard_normal(out.shape)

    def loss(x_, w_, b_):
        return float(np.sum(conv2d_naive(x_, w_, b_, stride, padding) * grad))

    def numeric(array, evaluate, h=1e-6):
        result = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            plus, minus = array.copy(), array.copy()
            plus[index] += h
            minus[index] -= h
            result[index] = (evaluate(plus) - evaluate(minus)) / (2 * h)
        return result

    dx, dw, db = conv2d_naive_backward(x, w, grad, stride, padding)
    np.testing.assert_allclose(dx, numeric(x, lambda v: loss(v, w, b)), atol=1e-6, rtol=0)
    np.testing.assert_allclose(dw, numeric(w, lambda v: loss(x, v, b)), atol=1e-6, rtol=0)
    np.testing.assert_allclose(db, numeric(b, lambda v: loss(x, w, v)), atol=1e-6, rtol=0)


def test_conv2d_naive_rejects_bad_input():
    x, w = np.zeros((1, 2, 5, 5)), np.zeros((3, 2, 3, 3))
    with pytest.raises(ValueError, match="shape"):
        conv2d_naive(x[0], w)
    with pytest.raises(ValueError, match="channels"):
        conv2d_naive(x, np.zeros((3, 1, 3, 3)))
    with pytest.raises(ValueError, match="stride"):
        conv2d_naive(x, w, stride=0)
    with pytest.raises(ValueError, match="padding"):
        conv2d_naive(x, w, padding=-1)
    with pytest.raises(ValueError, match="larger"):
        conv2d_naive(x, np.zeros((3, 2, 7, 7)))


# --------------------------------------------------------------------------- vectorised conv2d


@st.composite
def conv_cases(draw, dtype=torch.float64):
    groups = draw(st.integers(1, 3))
    c, k_out = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = draw(st.one_of(st.integers(0, 3), st.tuples(st.integers(0, 3), st.integers(0, 3)),
                             st.sampled_from(["valid", "same"])))
    if padding == "same":
        stride = (1, 1)
    size = (draw(st.integers(1, 11)), draw(st.integers(1, 11)))
    pads = {"valid": (0, 0), "same": (kernel[0], kernel[1])}.get(padding, padding)
    pads = (pads, pads) if isinstance(pads, int) else pads
    for axis in range(2):  # the kernel must fit in the padded input
        padded = size[axis] + (2 * pads[axis] if padding != "same" else 10**6)
        assume(dilation[axis] * (kernel[axis] - 1) + 1 <= padded)
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    x = torch.randn((draw(st.integers(1, 3)), c, *size), generator=gen, dtype=dtype)
    w = torch.randn((k_out, c // groups, *kernel), generator=gen, dtype=dtype)
    b = torch.randn(k_out, generator=gen, dtype=dtype) if draw(st.booleans()) else None
    return x, w, b, {"stride": stride, "padding": padding, "dilation": dilation,
                     "groups": groups}


def _forward_backward(fn, x, w, b, kwargs):
    leaves = [t.clone().requires_grad_() for t in (x, w, b) if t is not None]
    xl, wl, bl = leaves[0], leaves[1], (leaves[2] if b is not None else None)
    out = fn(xl, wl, bl, **kwargs)
    grad = torch.linspace(-1, 1, out.numel(), dtype=out.dtype).reshape(out.shape)
    return (out, *torch.autograd.grad(out, leaves, grad))


@settings(max_examples=60, deadline=None)
@given(conv_cases())
def test_conv2d_matches_torch_forward_and_backward_float64(case):
    x, w, b, kwargs = case
    ours = _forward_backward(conv2d, x, w, b, kwargs)
    theirs = _forward_backward(F.conv2d, x, w, b, kwargs)
    for a, e in zip(ours, theirs):
        assert a.shape == e.shape
        _assert_close(a, e, F64)


@settings(max_examples=25, deadline=None)
@given(conv_cases(dtype=torch.float32))
def test_conv2d_matches_torch_float32(case):
    x, w, b, kwargs = case
    for a, e in zip(_forward_backward(conv2d, x, w, b, kwargs),
                    _forward_backward(F.conv2d, x, w, b, kwargs)):
        _assert_close(a, e, F32)


@pytest.mark.parametrize("kernel, dilation", [((2, 4), (1, 1)), ((3, 2), (2, 3)), ((4, 4), 1)])
def test_same_padding_puts_the_odd_pixel_bottom_right_like_torch(kernel, dilation):
    x = torch.randn(2, 3, 9, 8, dtype=torch.float64)
    w = torch.randn(4, 3, *kernel, dtype=torch.float64)
    out = conv2d(x, w, padding="same", dilation=dilation)
    assert out.shape[2:] == x.shape[2:]
    _assert_close(out, F.conv2d(x, w, padding="same", dilation=dilation), F64)


@pytest.mark.parametrize("c, k, kernel, stride, padding", [
    (4, 2, (2, 4), 1, "same"),   # C >= K, stride 1: dx is a convolution with flipped filters
    (4, 4, 1, 1, 2),             # ... whose padding d(k - 1) - p is negative: a crop
    (2, 6, (2, 4), 1, "same"),   # C < K: dx is W^T g folded back
    (4, 2, 3, 2, 1),             # stride 2: folded back too
])
def test_both_routes_to_the_input_gradient(c, k, kernel, stride, padding):
    x = torch.randn(2, c, 7, 6, dtype=torch.float64)
    w = torch.randn(k, c, *((kernel, kernel) if isinstance(kernel, int) else kernel),
                    dtype=torch.float64)
    kwargs = {"stride": stride, "padding": padding}
    for a, e in zip(_forward_backward(conv2d, x, w, None, kwargs),
                    _forward_backward(F.conv2d, x, w, None, kwargs)):
        _assert_close(a, e, F64)


def test_conv2d_gradcheck_and_partial_gradients():
    x = torch.randn(2, 4, 6, 5, dtype=torch.float64, requires_grad=True)
    w = torch.randn(6, 2, 3, 2, dtype=torch.float64, requires_grad=True)
    b = torch.randn(6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda *t: conv2d(*t, stride=(2, 1), padding=1, groups=2),
                                    (x, w, b), fast_mode=True)
    image = x.detach()  # an input image needs no gradient: only dw and db are computed
    (dw,) = torch.autograd.grad(conv2d(image, w, b, stride=2, groups=2).sum(), (w,))
    (dw_ref,) = torch.autograd.grad(F.conv2d(image, w, b, stride=2, groups=2).sum(), (w,))
    _assert_close(dw, dw_ref, F64)


def test_conv2d_never_calls_torch_convolution(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("torch's convolution was called")

    for name in ("conv2d", "conv_transpose2d", "convolution"):
        monkeypatch.setattr(torch, name, forbidden, raising=False)
        monkeypatch.setattr(F, name, forbidden, raising=False)
    x = torch.randn(2, 3, 8, 8, requires_grad=True)
    w = torch.randn(4, 3, 3, 3, requires_grad=True)
    for stride in (1, 2):
        conv2d(x, w, stride=stride, padding=1).sum().backward()
    assert x.grad is not None and w.grad is not None


def test_output_keeps_the_input_memory_format():
    w = torch.randn(5, 3, 3, 3)
    x = torch.randn(2, 3, 8, 8)
    out = conv2d(x, w, padding=1)
    assert out.is_contiguous()
    assert out.view(2, -1).shape == (2, 5 * 64)       # .view works, as after torch's conv
    x_last = x.contiguous(memory_format=torch.channels_last)
    out_last = conv2d(x_last, w, padding=1)
    assert out_last.is_contiguous(memory_format=torch.channels_last)
    _assert_close(out_last, F.conv2d(x, w, padding=1), F32)
    batch_slice = torch.randn(6, 3, 8, 8)[2:4]        # a view that starts inside its storage
    _assert_close(conv2d(batch_slice, w), F.conv2d(batch_slice, w), F32)


BAD_CONV = [
    ((2, 3, 8), (4, 3, 3, 3), {}, "shape"),                              # x of rank 3
    ((2, 3, 8, 8), (4, 3, 3), {}, "shape"),                              # w of rank 3
    ((2, 3, 8, 8), (4, 2, 3, 3), {}, "C=3"),                             # channel mismatch
    ((2, 4, 8, 8), (4, 4, 3, 3), {"groups": 2}, "groups=2"),            # C != w.C * groups
    ((2, 3, 8, 8), (4, 1, 3, 3), {"groups": 2}, "divide"),               # groups ∤ channels
    ((2, 3, 8, 8), (4, 3, 3, 3), {"groups": 0}, "groups"),
    ((2, 3, 4, 4), (4, 3, 5, 5), {}, "larger"),                          # kernel > input
    ((2, 3, 4, 4), (4, 3, 3, 3), {"dilation": 2}, "larger"),             # dilated kernel > input
    ((2, 3, 8, 8), (4, 3, 3, 3), {"stride": 0}, "stride"),
    ((2, 3, 8, 8), (4, 3, 3, 3), {"stride": (1, -1)}, "stride"),
    ((2, 3, 8, 8), (4, 3, 3, 3), {"dilation": 0}, "dilation"),
    ((2, 3, 8, 8), (4, 3, 3, 3), {"padding": -1}, "padding"),
    ((2, 3, 8, 8), (4, 3, 3, 3), {"padding": "full"}, "padding"),       # unknown string
    ((2, 3, 8, 8), (4, 3, 3, 3), {"padding": "same", "stride": 2}, "same"),
]


@pytest.mark.parametrize("x_shape, w_shape, kwargs, message", BAD_CONV)
def test_conv2d_rejects_bad_input(x_shape, w_shape, kwargs, message):
    with pytest.raises(ValueError, match=message):
        conv2d(torch.zeros(x_shape), torch.zeros(w_shape), **kwargs)


def test_conv2d_rejects_bias_of_wrong_shape():
    with pytest.raises(ValueError, match="bias"):
        conv2d(torch.zeros(1, 3, 5, 5), torch.zeros(4, 3, 3, 3), torch.zeros(3))


# --------------------------------------------------------------------------- output size


@FAST
@given(st.integers(1, 40), st.integers(1, 7), st.integers(1, 4), st.integers(0, 3),
       st.integers(1, 3))
def test_conv_output_size_matches_torch(n, k, s, p, d):
    assume(d * (k - 1) + 1 <= n + 2 * p)
    out = F.conv2d(torch.zeros(1, 1, n, 1), torch.zeros(1, 1, k, 1), stride=(s, 1),
                   padding=(p, 0), dilation=(d, 1))
    assert conv_output_size(n, k, s, p, d) == out.shape[2]


def test_conv_output_size_examples_and_errors():
    assert conv_output_size(28, 5) == 24
    assert conv_output_size(224, 11, stride=4, padding=2) == 55
    assert conv_output_size(32, 3, padding=1) == 32
    assert conv_output_size(7, 3, dilation=3) == 1
    for bad in [(0, 3), (5, 0), (5, 3, 0), (5, 3, 1, -1), (5, 3, 1, 0, 0), (2, 3), (5, 3.0)]:
        with pytest.raises(ValueError):
            conv_output_size(*bad)


# --------------------------------------------------------------------------- pooling


@st.composite
def pool_cases(draw):
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = draw(st.one_of(st.none(), st.integers(1, 3)))
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    size = (draw(st.integers(kernel[0], 10)), draw(st.integers(kernel[1], 10)))
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    x = torch.randn((2, 3, *size), generator=gen, dtype=torch.float64)
    if draw(st.booleans()):   # many ties, as after a ReLU
        x = x.clamp(min=0).round()
    return x, kernel, stride, padding


@FAST
@given(pool_cases())
def test_pools_match_torch_forward_and_backward(case):
    x, kernel, stride, padding = case
    pairs = [(max_pool2d, F.max_pool2d, {}), (avg_pool2d, F.avg_pool2d, {}),
             (avg_pool2d, F.avg_pool2d, {"count_include_pad": False})]
    for ours, theirs, extra in pairs:
        results = []
        for fn in (ours, theirs):
            xl = x.clone().requires_grad_()
            out = fn(xl, kernel, stride, padding, **extra)
            grad = torch.linspace(0.5, 2, out.numel(), dtype=out.dtype).reshape(out.shape)
            results.append((out, *torch.autograd.grad(out, xl, grad)))
        for a, e in zip(*results):
            _assert_close(a, e, F64)


def test_max_pool_gradient_goes_to_the_first_maximum():
    x = torch.zeros(1, 1, 2, 2, requires_grad=True)          # a window of four ties
    max_pool2d(x, 2).sum().backward()
    assert x.grad.flatten().tolist() == [1.0, 0.0, 0.0, 0.0]


@FAST
@given(st.integers(1, 4), st.integers(1, 5), st.integers(1, 3), st.integers(5, 11),
       st.integers(5, 9), st.integers(0, 2**16))
def test_blur_pool_matches_torch_depthwise_conv_forward_and_backward(channels, k, s, h, w, seed):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn((2, channels, h, w), generator=gen, dtype=torch.float64)
    row = torch.tensor([float(math.comb(k - 1, i)) for i in range(k)], dtype=torch.float64)
    kernel = torch.outer(row, row) / row.sum() ** 2
    weight = kernel.expand(channels, 1, k, k)
    results = []
    for fn in (lambda t: blur_pool2d(t, s, k),
               lambda t: F.conv2d(t, weight, stride=s, padding=(k - 1) // 2, groups=channels)):
        xl = x.clone().requires_grad_()
        out = fn(xl)
        grad = torch.linspace(0.5, 2, out.numel(), dtype=out.dtype).reshape(out.shape)
        results.append((out, *torch.autograd.grad(out, xl, grad)))
    for a, e in zip(*results):
        _assert_close(a, e, F64)


def test_binomial_kernel_is_the_normalised_outer_product():
    expected = torch.tensor([[1.0, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16
    _assert_close(binomial_kernel(3), expected, F32)
    _assert_close(binomial_kernel(2), torch.full((2, 2), 0.25), F32)
    assert binomial_kernel(5, dtype=torch.float64).sum().item() == pytest.approx(1.0)


def test_blur_pool_shapes_and_no_channel_mixing():
    x = torch.zeros(1, 3, 9, 8)
    x[0, 1, 4, 4] = 16.0                                     # one bright pixel in channel 1
    out = blur_pool2d(x)
    assert out.shape == (1, 3, 5, 4)                          # ceil(H / 2), ceil(W / 2)
    assert out[0, 0].abs().sum() == 0 and out[0, 2].abs().sum() == 0
    assert out[0, 1, 2, 2].item() == pytest.approx(4.0)       # the centre weight 4/16
    assert blur_pool2d(x, stride=1).shape == x.shape


def test_blur_pool_rejects_bad_input():
    x = torch.zeros(1, 2, 6, 6)
    with pytest.raises(ValueError, match="shape"):
        blur_pool2d(x[0])
    with pytest.raises(ValueError, match="shape"):
        blur_pool2d(np.zeros((1, 2, 6, 6)))
    with pytest.raises(ValueError, match="stride"):
        blur_pool2d(x, stride=0)
    with pytest.raises(ValueError, match="size"):
        blur_pool2d(x, kernel_size=0)
    with pytest.raises(ValueError, match="padding"):
        blur_pool2d(x, padding=-1)
    with pytest.raises(ValueError, match="larger"):
        blur_pool2d(x, kernel_size=9, padding=0)


@pytest.mark.parametrize("fn", [max_pool2d, avg_pool2d])
def test_pools_reject_bad_input(fn):
    x = torch.zeros(1, 2, 6, 6)
    with pytest.raises(ValueError, match="half"):
        fn(x, 3, padding=2)
    with pytest.raises(ValueError, match="shape"):
        fn(x[0], 2)
    with pytest.raises(ValueError, match="kernel_size"):
        fn(x, 0)
    with pytest.raises(ValueError, match="stride"):
        fn(x, 2, stride=0)
    with pytest.raises(ValueError, match="larger"):
        fn(x, 7)


# --------------------------------------------------------------------------- modules


def test_conv2d_module_initialises_like_torch_and_loads_its_weights():
    kwargs = {"stride": 2, "padding": 1, "dilation": 1, "groups": 2}
    torch.manual_seed(3)
    ref = nn.Conv2d(4, 6, 3, **kwargs)
    torch.manual_seed(3)
    ours = Conv2d(4, 6, 3, **kwargs)
    for name in ("weight", "bias"):     # same seed, same draws: identical parameters
        assert torch.equal(getattr(ours, name), getattr(ref, name))
    other = nn.Conv2d(4, 6, 3, **kwargs)
    ours.load_state_dict(other.state_dict())
    x = torch.randn(2, 4, 9, 9)
    _assert_close(ours(x), other(x), F32)
    ref.load_state_dict(ours.state_dict())
    assert list(dict(ours.named_parameters())) == ["weight", "bias"]


@pytest.mark.parametrize("kwargs", [
    {"kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 0), "bias": False},
    {"kernel_size": 3, "padding": "same", "dilation": 2},
    {"kernel_size": 5, "padding": "valid"},
])
def test_conv2d_module_matches_torch_module(kwargs):
    ref = nn.Conv2d(3, 4, **kwargs).double()
    ours = Conv2d(3, 4, **kwargs).double()
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(2, 3, 10, 11, dtype=torch.float64, requires_grad=True)
    grad = torch.randn_like(ref(x))
    actual = torch.autograd.grad(ours(x), [x, *ours.parameters()], grad)
    expected = torch.autograd.grad(ref(x), [x, *ref.parameters()], grad)
    for a, e in zip(actual, expected):
        _assert_close(a, e, F64)
    assert "kernel_size" in repr(ours)


def test_conv2d_module_rejects_what_torch_rejects_or_lacks():
    with pytest.raises(ValueError, match="same"):
        Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="groups"):
        Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding_mode"):
        Conv2d(3, 4, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="kernel_size"):
        Conv2d(3, 4, (3, 3, 3))


def test_pool_modules_match_torch_modules():
    x = torch.randn(2, 3, 9, 9)
    pairs = [(MaxPool2d(3, 2, 1), nn.MaxPool2d(3, 2, 1)), (MaxPool2d(2), nn.MaxPool2d(2)),
             (AvgPool2d(3, 2, 1), nn.AvgPool2d(3, 2, 1)),
             (AvgPool2d(3, 1, 1, count_include_pad=False),
              nn.AvgPool2d(3, 1, 1, count_include_pad=False))]
    for ours, ref in pairs:
        _assert_close(ours(x), ref(x), F32)
        assert ours.stride == ref.stride and ours.kernel_size == ref.kernel_size
    with pytest.raises(ValueError, match="ceil_mode"):
        MaxPool2d(2, ceil_mode=True)
    with pytest.raises(ValueError, match="divisor_override"):
        AvgPool2d(2, divisor_override=3)


def test_models_can_be_built_on_either_kind_of_layer():
    def make(conv, pool):
        torch.manual_seed(0)
        return nn.Sequential(conv(1, 4, 5), nn.ReLU(), pool(2), conv(4, 8, 3, padding=1),
                             nn.ReLU(), pool(2), nn.Flatten(), nn.Linear(8 * 6 * 6, 10))
    ours, ref = make(Conv2d, MaxPool2d), make(nn.Conv2d, nn.MaxPool2d)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(3, 1, 28, 28)
    ours(x).square().sum().backward()
    ref(x).square().sum().backward()
    _assert_close(ours(x), ref(x), F32)
    for a, e in zip(ours.parameters(), ref.parameters()):
        _assert_close(a.grad, e.grad, {"atol": 1e-4, "rtol": 1e-4})


# --------------------------------------------------------------------------- im2col


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 2), c=st.integers(1, 3), h=st.integers(3, 8), w=st.integers(3, 8),
       kh=st.integers(1, 3), kw=st.integers(1, 3), s=st.integers(1, 3), p=st.integers(0, 2))
def test_im2col_matches_unfold_and_gives_the_convolution(n, c, h, w, kh, kw, s, p):
    x = torch.randn(n, c, h, w, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(2, c, kh, kw, dtype=torch.float64)
    cols = im2col(x, (kh, kw), stride=s, padding=p)
    want = F.unfold(x, (kh, kw), padding=p, stride=s).transpose(1, 2)
    torch.testing.assert_close(cols, want)
    ref = F.conv2d(x, weight, stride=s, padding=p)
    out = (cols @ weight.reshape(2, -1).T).transpose(1, 2).reshape(ref.shape)
    torch.testing.assert_close(out, ref)
    g = torch.randn_like(cols)
    (dx,) = torch.autograd.grad(cols, x, g)
    (dx_ref,) = torch.autograd.grad(want, x, g)
    torch.testing.assert_close(dx, dx_ref)


def test_im2col_of_a_small_example_by_hand_and_errors():
    x = torch.arange(9.0).reshape(1, 1, 3, 3)
    cols = im2col(x, 2)
    assert cols.tolist() == [[[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]]]
    two = torch.stack([x[0, 0], 10 * x[0, 0]])[None]            # channel first in each row
    assert im2col(two, 2)[0, 0].tolist() == [0, 1, 3, 4, 0, 10, 30, 40]
    with pytest.raises(ValueError, match="shape"):
        im2col(torch.zeros(3, 3), 2)
    with pytest.raises(ValueError, match="does not fit"):
        im2col(torch.zeros(1, 1, 3, 3), 4)
