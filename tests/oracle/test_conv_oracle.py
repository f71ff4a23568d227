"""Convolution, pooling and resampling against PyTorch, on grids of configurations.

Every case compares the forward AND the gradients w.r.t. every differentiable input (input, weight,
bias), float64 at ~1e-10 and float32 at 1e-4. Tensors are small, so the whole grid runs in seconds.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import gradus
import gradus.functional as F
from gradus import nn

pytestmark = [pytest.mark.oracle,
              pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")]

TOL = {np.float64: dict(rtol=1e-9, atol=1e-10), np.float32: dict(rtol=1e-4, atol=1e-4)}


def compare(torch, g_fn, t_fn, arrays, dtype=np.float64, n_out=1):
    """Run ``g_fn`` on gradus tensors and ``t_fn`` on torch tensors made from the same arrays (None
    stays None); compare the outputs and the gradients of a random vector-Jacobian product."""
    tol = TOL[dtype]
    gs = [None if a is None else gradus.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    ts = [None if a is None else torch.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    yg, yt = g_fn(*gs), t_fn(*ts)
    if n_out > 1:  # (values, indices)
        np.testing.assert_array_equal(yg[1].numpy(), yt[1].numpy(), err_msg="indices")
        yg, yt = yg[0], yt[0]
    assert tuple(yg.shape) == tuple(yt.shape), (yg.shape, tuple(yt.shape))
    assert yg.dtype == np.dtype(dtype)
    np.testing.assert_allclose(yg.numpy(), yt.detach().numpy(), err_msg="forward", **tol)
    gy = np.random.default_rng(1).standard_normal(yg.shape).astype(dtype)
    yg.backward(gradus.tensor(gy))
    yt.backward(torch.tensor(gy))
    for i, (g, t) in enumerate(zip(gs, ts)):
        if g is not None:
            np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), err_msg=f"grad of argument {i}", **tol)


def distinct(rng, shape):
    """Well-separated values (no ties: both frameworks pick the first max, but ties make the float
    comparison of gradients depend on rounding)."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.05 + rng.uniform(-0.01, 0.01, n)).reshape(shape) - n * 0.025


# -- conv2d grid ---------------------------------------------------------------------------------
def _conv2d_grid():
    cases = []
    kernels = [(1, 1), (3, 3), (5, 5), (3, 2), (2, 5)]
    for i, (k, s, p, d, g) in enumerate(itertools.product(kernels, (1, 2, 3), (0, 1, 2, "same"), (1, 2),
                                                          ("1", "2", "dw"))):
        if p == "same" and s != 1:
            continue
        if i % 2:  # thin the grid: every kernel/stride/padding/dilation/groups value still appears often
            continue
        n = 1 if i % 3 == 0 else 2
        h, w = (9, 7) if i % 4 else (11, 13)
        cin = 8 if g == "1" and (i // 6) % 2 else 4   # >= 8 channels, groups 1: the channels-last lowering
        groups = {"1": 1, "2": 2, "dw": cin}[g]
        oc = {"1": 3, "2": 6, "dw": cin * (1 + i % 2)}[g]
        bias = i % 5 != 0
        dtype = np.float32 if i % 8 == 2 else np.float64
        pad = 0 if p == "same" else p
        if h + 2 * pad < d * (k[0] - 1) + 1 or w + 2 * pad < d * (k[1] - 1) + 1:
            continue  # input smaller than the dilated kernel (an error, tested elsewhere)
        cases.append((n, cin, h, w, oc, k, s, p, d, groups, bias, dtype))
    return cases


CONV2D_CASES = _conv2d_grid()


@pytest.mark.parametrize("case", CONV2D_CASES, ids=[str(i) for i in range(len(CONV2D_CASES))])
def test_conv2d_grid(torch, case):
    n, cin, h, w, oc, k, s, p, d, groups, bias, dtype = case
    rng = np.random.default_rng(CONV2D_CASES.index(case))
    arrays = [rng.standard_normal((n, cin, h, w)), rng.standard_normal((oc, cin // groups) + k),
              rng.standard_normal(oc) if bias else None]
    compare(torch, lambda x, W, b: F.conv2d(x, W, b, s, p, d, groups),
            lambda x, W, b: torch.nn.functional.conv2d(x, W, b, s, p, d, groups), arrays, dtype)


def test_conv2d_grid_covers_the_brief():
    ks = {c[5] for c in CONV2D_CASES}
    assert {(1, 1), (3, 3), (5, 5), (3, 2)} <= ks
    assert {c[6] for c in CONV2D_CASES} == {1, 2, 3}
    assert {c[7] for c in CONV2D_CASES} == {0, 1, 2, "same"}
    assert {c[8] for c in CONV2D_CASES} == {1, 2}
    assert {c[9] for c in CONV2D_CASES} == {1, 2, 4}
    assert {c[0] for c in CONV2D_CASES} == {1, 2} and {c[10] for c in CONV2D_CASES} == {True, False}
    assert {c[1] for c in CONV2D_CASES if c[9] == 1} == {4, 8}         # both lowerings of conv2d
    assert {c[11] for c in CONV2D_CASES} == {np.float32, np.float64}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", [1, 2, (2, 1), "same"])
def test_conv2d_module_padding_modes(torch, mode, padding, dtype):
    """The Conv2d module (with PyTorch's weights loaded via state_dict) in every padding mode."""
    tm = torch.nn.Conv2d(3, 4, (3, 4) if padding == "same" else 3, padding=padding, padding_mode=mode,
                         dtype=torch.float64 if dtype == np.float64 else torch.float32)
    gm = nn.Conv2d(3, 4, (3, 4) if padding == "same" else 3, padding=padding, padding_mode=mode,
                   dtype=gradus.float64 if dtype == np.float64 else gradus.float32)
    gm.load_state_dict({k: gradus.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    x = np.random.default_rng(2).standard_normal((2, 3, 7, 6))
    compare(torch, lambda x: gm(x), lambda x: tm(x), [x], dtype)
    np.testing.assert_allclose(gm.weight.grad.numpy(), tm.weight.grad.numpy(), **TOL[dtype])
    np.testing.assert_allclose(gm.bias.grad.numpy(), tm.bias.grad.numpy(), **TOL[dtype])


@pytest.mark.parametrize("k,s,p,d,g,mode", [(3, 1, 1, 1, 1, "zeros"), (5, 2, 2, 1, 2, "zeros"),
                                            (3, 3, 0, 2, 4, "zeros"), (4, 1, "same", 2, 1, "reflect"),
                                            (1, 2, 0, 1, 1, "zeros"), (3, 1, 2, 1, 2, "circular"),
                                            (2, 1, "valid", 1, 1, "replicate")])
def test_conv1d(torch, k, s, p, d, g, mode):
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal((2, 4, 13)), rng.standard_normal((4, 4 // g, k)), rng.standard_normal(4)]
    tm = torch.nn.Conv1d(4, 4, k, s, p, d, g, padding_mode=mode, dtype=torch.float64)
    gm = nn.Conv1d(4, 4, k, s, p, d, g, padding_mode=mode, dtype=gradus.float64)
    with torch.no_grad():
        tm.weight.copy_(torch.tensor(arrays[1]))
        tm.bias.copy_(torch.tensor(arrays[2]))
    gm.load_state_dict({"weight": gradus.tensor(arrays[1]), "bias": gradus.tensor(arrays[2])})
    compare(torch, lambda x: gm(x), lambda x: tm(x), arrays[:1])
    np.testing.assert_allclose(gm.weight.grad.numpy(), tm.weight.grad.numpy(), **TOL[np.float64])
    compare(torch, lambda x, W, b: F.conv1d(x, W, b, s, 0 if p == "same" else p, d, g),
            lambda x, W, b: torch.nn.functional.conv1d(x, W, b, s, 0 if p == "same" else p, d, g), arrays)


# -- conv_transpose2d grid ------------------------------------------------------------------------
def _transpose_grid():
    cases = []
    for i, (k, s, p, op, d, g) in enumerate(itertools.product([1, 3, (3, 2), 4], (1, 2, 3), (0, 1, 2),
                                                              (0, 1, 2), (1, 2), (1, 2))):
        if op >= max(s, d) or i % 3:
            continue
        k2 = k if isinstance(k, tuple) else (k, k)
        if any((n - 1) * s - 2 * p + d * (kk - 1) + op + 1 <= 0 for n, kk in zip((5, 4), k2)):
            continue  # empty output (an error)
        cases.append((k, s, p, op, d, g, i % 2 == 0))
    return cases


TRANSPOSE_CASES = _transpose_grid()


@pytest.mark.parametrize("case", TRANSPOSE_CASES, ids=[str(i) for i in range(len(TRANSPOSE_CASES))])
def test_conv_transpose2d_grid(torch, case):
    k, s, p, op, d, g, bias = case
    k2 = k if isinstance(k, tuple) else (k, k)
    rng = np.random.default_rng(4)
    h, w = 5, 4
    arrays = [rng.standard_normal((2, 4, h, w)), rng.standard_normal((4, 6 // g) + k2),
              rng.standard_normal(6) if bias else None]
    compare(torch, lambda x, W, b: F.conv_transpose2d(x, W, b, s, p, op, g, d),
            lambda x, W, b: torch.nn.functional.conv_transpose2d(x, W, b, s, p, op, g, d), arrays)


def test_conv_transpose_modules_float32(torch):
    tm = torch.nn.ConvTranspose2d(4, 6, 4, 2, 1, groups=2)
    gm = nn.ConvTranspose2d(4, 6, 4, 2, 1, groups=2)
    gm.load_state_dict({k: gradus.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    x = np.random.default_rng(5).standard_normal((2, 4, 5, 6))
    compare(torch, lambda x: gm(x, output_size=(11, 12)), lambda x: tm(x, output_size=(11, 12)), [x],
            np.float32)
    np.testing.assert_allclose(gm.weight.grad.numpy(), tm.weight.grad.numpy(), **TOL[np.float32])
    t1 = torch.nn.ConvTranspose1d(3, 2, 3, 2, 1, 1, dtype=torch.float64)
    g1 = nn.ConvTranspose1d(3, 2, 3, 2, 1, 1, dtype=gradus.float64)
    g1.load_state_dict({k: gradus.tensor(v.detach().numpy()) for k, v in t1.state_dict().items()})
    compare(torch, lambda x: g1(x), lambda x: t1(x), [np.random.default_rng(6).standard_normal((2, 3, 7))])


@pytest.mark.parametrize("k,d,p,s", [(3, 1, 1, 1), ((2, 3), (2, 1), (1, 0), (2, 3)), (1, 1, 0, 2)])
def test_unfold_fold(torch, k, d, p, s):
    rng = np.random.default_rng(7)
    tf = torch.nn.functional
    compare(torch, lambda x: F.unfold(x, k, d, p, s), lambda x: tf.unfold(x, k, d, p, s),
            [rng.standard_normal((2, 3, 7, 8))])
    L = tf.unfold(torch.zeros(1, 1, 7, 8), k, d, p, s).shape[-1]
    kk = int(np.prod(k))
    compare(torch, lambda c: F.fold(c, (7, 8), k, d, p, s), lambda c: tf.fold(c, (7, 8), k, d, p, s),
            [rng.standard_normal((2, 3 * kk, L))])


# -- pooling grids ---------------------------------------------------------------------------------
def _max_pool_grid():
    cases = []
    for k, s, p, d, ceil in itertools.product([1, 2, 3, (3, 2)], (None, 1, 2, 3), (0, 1), (1, 2),
                                              (False, True)):
        kk = k if isinstance(k, tuple) else (k, k)
        if any(p > (d * (x - 1) + 1) / 2 for x in kk):
            continue
        cases.append((k, s, p, d, ceil))
    return cases


MAX_POOL_CASES = _max_pool_grid()


@pytest.mark.parametrize("case", MAX_POOL_CASES, ids=[str(i) for i in range(len(MAX_POOL_CASES))])
def test_max_pool2d_grid(torch, case):
    k, s, p, d, ceil = case
    x = distinct(np.random.default_rng(8), (2, 3, 9, 8))
    compare(torch, lambda x: F.max_pool2d(x, k, s, p, d, ceil, True),
            lambda x: torch.nn.functional.max_pool2d(x, k, s, p, d, ceil, True), [x], n_out=2)


@pytest.mark.parametrize("k,s,p,d,ceil", [(2, None, 0, 1, False), (3, 2, 1, 1, True), (3, 1, 1, 2, False),
                                          (4, 3, 2, 1, True)])
def test_max_pool1d(torch, k, s, p, d, ceil):
    x = distinct(np.random.default_rng(9), (2, 3, 13))
    compare(torch, lambda x: F.max_pool1d(x, k, s, p, d, ceil, True),
            lambda x: torch.nn.functional.max_pool1d(x, k, s, p, d, ceil, True), [x], n_out=2)
    compare(torch, lambda x: nn.MaxPool1d(k, s, p, d, ceil_mode=ceil)(x),
            lambda x: torch.nn.MaxPool1d(k, s, p, d, ceil_mode=ceil)(x), [x], np.float32)


def _avg_pool_grid():
    cases = []
    for k, s, p, ceil, cip in itertools.product([1, 2, 3, (3, 2)], (None, 1, 2, 3), (0, 1), (False, True),
                                                (True, False)):
        kk = k if isinstance(k, tuple) else (k, k)
        if any(p > x / 2 for x in kk):
            continue
        cases.append((k, s, p, ceil, cip, None))
    cases += [(3, 1, 1, False, True, 4), ((2, 3), 2, 1, True, False, 7)]
    return cases


AVG_POOL_CASES = _avg_pool_grid()


@pytest.mark.parametrize("case", AVG_POOL_CASES, ids=[str(i) for i in range(len(AVG_POOL_CASES))])
def test_avg_pool2d_grid(torch, case):
    k, s, p, ceil, cip, div = case
    x = np.random.default_rng(10).standard_normal((2, 3, 9, 8))
    compare(torch, lambda x: F.avg_pool2d(x, k, s, p, ceil, cip, div),
            lambda x: torch.nn.functional.avg_pool2d(x, k, s, p, ceil, cip, div), [x])


@pytest.mark.parametrize("k,s,p,ceil,cip", [(2, None, 0, False, True), (3, 2, 1, True, False),
                                            (4, 3, 2, True, True), (3, 1, 1, False, False)])
def test_avg_pool1d(torch, k, s, p, ceil, cip):
    x = np.random.default_rng(11).standard_normal((2, 3, 13))
    compare(torch, lambda x: F.avg_pool1d(x, k, s, p, ceil, cip),
            lambda x: torch.nn.functional.avg_pool1d(x, k, s, p, ceil, cip), [x])


@pytest.mark.parametrize("in_size,out_size", [((7, 10), (3, 4)), ((9, 8), (4, 3)), ((5, 5), 1),
                                              ((6, 9), (6, 9)), ((5, 7), (7, 9)), ((8, 8), (4, None)),
                                              ((13, 11), (5, 2))])
def test_adaptive_pools(torch, in_size, out_size):
    x = distinct(np.random.default_rng(12), (2, 3) + in_size)
    compare(torch, lambda x: F.adaptive_avg_pool2d(x, out_size),
            lambda x: torch.nn.functional.adaptive_avg_pool2d(x, out_size), [x])
    compare(torch, lambda x: F.adaptive_max_pool2d(x, out_size, True),
            lambda x: torch.nn.functional.adaptive_max_pool2d(x, out_size, True), [x], n_out=2)
    o1 = out_size if isinstance(out_size, int) else (out_size[0] or in_size[0])
    x1 = x[:, :, :, 0].copy()
    compare(torch, lambda x: F.adaptive_avg_pool1d(x, o1),
            lambda x: torch.nn.functional.adaptive_avg_pool1d(x, o1), [x1])
    compare(torch, lambda x: F.adaptive_max_pool1d(x, o1, True),
            lambda x: torch.nn.functional.adaptive_max_pool1d(x, o1, True), [x1], n_out=2)


# -- LRN and resampling ------------------------------------------------------------------------------
@pytest.mark.parametrize("size,alpha,beta,k,shape", [
    (5, 1e-4, 0.75, 1.0, (2, 7, 5, 4)), (2, 0.1, 0.5, 2.0, (2, 6, 3, 3)), (3, 1.0, 1.0, 0.5, (2, 4, 5)),
    (1, 0.2, 0.75, 1.0, (1, 3, 2, 2)), (8, 0.05, 0.6, 1.5, (2, 5, 3, 2, 2))])
def test_local_response_norm(torch, size, alpha, beta, k, shape):
    x = np.random.default_rng(13).standard_normal(shape) * 2
    compare(torch, lambda x: nn.LocalResponseNorm(size, alpha, beta, k)(x),
            lambda x: torch.nn.LocalResponseNorm(size, alpha, beta, k)(x), [x])


@pytest.mark.parametrize("shape,kw", [
    ((2, 3, 4, 5), dict(scale_factor=2)), ((2, 3, 4, 5), dict(scale_factor=(3, 2))),
    ((2, 3, 4, 5), dict(size=(7, 3))), ((2, 3, 5, 4), dict(size=(13, 9))),
    ((2, 3, 4, 5), dict(scale_factor=1.7)),
    ((2, 3, 6, 6), dict(scale_factor=0.5)), ((2, 3, 4, 5), dict(size=(7, 3), mode="nearest-exact")),
    ((2, 3, 4, 5), dict(size=(9, 11), mode="bilinear")),
    ((2, 3, 4, 5), dict(size=(9, 11), mode="bilinear", align_corners=True)),
    ((2, 3, 4, 5), dict(scale_factor=2.5, mode="bilinear")),
    ((2, 3, 6, 7), dict(size=(4, 3), mode="bilinear")),
    ((2, 3, 5), dict(scale_factor=3)), ((2, 3, 5), dict(size=8, mode="linear")),
    ((2, 3, 5), dict(scale_factor=2, mode="linear", align_corners=True)),
    ((1, 2, 2, 3, 2), dict(scale_factor=2)),
])
def test_interpolate(torch, shape, kw):
    x = np.random.default_rng(14).standard_normal(shape)
    compare(torch, lambda x: F.interpolate(x, **kw), lambda x: torch.nn.functional.interpolate(x, **kw), [x])
    compare(torch, lambda x: nn.Upsample(**kw)(x), lambda x: torch.nn.Upsample(**kw)(x), [x], np.float32)


# -- a model made of these layers ------------------------------------------------------------------
def test_lenet_like_forward_backward_matches(torch):
    """A whole LeNet-shaped network with PyTorch's weights: same loss, same gradients."""

    def build(m):
        return m.Sequential(m.Conv2d(1, 6, 5, padding=2), m.ReLU(), m.MaxPool2d(2), m.Conv2d(6, 16, 5),
                            m.ReLU(), m.AvgPool2d(2), m.Flatten(), m.Linear(16 * 5 * 5, 10))

    tnet, gnet = build(torch.nn).double(), build(nn).double()
    gnet.load_state_dict({k: gradus.tensor(v.detach().numpy()) for k, v in tnet.state_dict().items()})
    rng = np.random.default_rng(15)
    X, y = rng.standard_normal((4, 1, 28, 28)), rng.integers(0, 10, 4)
    lt = torch.nn.functional.cross_entropy(tnet(torch.tensor(X)), torch.tensor(y))
    lg = F.cross_entropy(gnet(gradus.tensor(X)), gradus.tensor(y))
    np.testing.assert_allclose(lg.item(), lt.item(), rtol=1e-10)
    lt.backward()
    lg.backward()
    tp = dict(tnet.named_parameters())
    for name, p in gnet.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tp[name].grad.numpy(), rtol=1e-8, atol=1e-10, err_msg=name)
