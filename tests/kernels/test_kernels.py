"""The compiled kernels (numba) against their NumPy twins, op by op, on both paths.

Every op that offers work to ``gradus.kernels`` is run twice on the same inputs — ``kernels.use("numba",
min_size=0)`` (the kernel is taken whatever the size) and ``kernels.use("numpy")`` (the NumPy code) —
and outputs and every gradient must agree; float64 gradients are also checked by central differences
on the compiled path (the NumPy path has its own gradchecks in tests/functional). numba is an optional
extra, but it is installed by the test extra, so in CI these tests run (a missing numba fails them,
it does not skip them, unless GRADUS_KERNELS=numpy says the fallback alone is under test).
"""
from __future__ import annotations

import os

import numpy as np
import pytest

import gradus
import gradus.functional as F
from gradus import kernels, nn, optim
from gradus.autograd import gradcheck

NUMPY_ONLY = os.environ.get("GRADUS_KERNELS", "").lower() == "numpy"
pytestmark = pytest.mark.skipif(NUMPY_ONLY, reason="GRADUS_KERNELS=numpy: only the NumPy fallback runs")

RTOL32, ATOL32 = 2e-6, 2e-6
# GELU's tanh form: the kernel computes 0.5 (1 + tanh u) as sigmoid(2u), NumPy through tanh; they
# differ by float32 rounding of the two formulas (~1e-7 relative) times the slope.
ATOL32_TANH = 5e-6


def test_numba_is_installed_for_the_test_suite():
    assert kernels.available(), "numba is part of the test extra: pip install -e '.[test]'"


def _both(fn):
    """fn() under the compiled kernels and under NumPy: (numba result, numpy result)."""
    with kernels.use("numba", min_size=0):
        a = fn()
    with kernels.use("numpy"):
        b = fn()
    return a, b


def _grads(op, *arrays, seed=0):
    """Output and input gradients of sum(op(*tensors) * r) for a fixed random r."""
    ts = [gradus.tensor(a, requires_grad=True) for a in arrays]
    y = op(*ts)
    r = np.random.default_rng(seed).standard_normal(y.shape).astype(y.data.dtype)
    (y * gradus.tensor(r)).sum().backward()
    return [y.data.copy()] + [t.grad.data.copy() for t in ts]


def _close(a, b, dtype, atol32=ATOL32):
    for x, y in zip(a, b):
        if dtype == np.float32:
            np.testing.assert_allclose(x, y, rtol=RTOL32, atol=atol32)
        else:
            np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-12)


def _rand(*shape, dtype=np.float32, seed=0, scale=1.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_both_paths(dtype, approximate):
    x = _rand(4, 5, 37, dtype=dtype, scale=3.0)
    x.flat[:4] = [0.0, -8.0, 8.0, 1e-4]
    a, b = _both(lambda: _grads(lambda t: F.gelu(t, approximate=approximate), x))
    _close(a, b, dtype, ATOL32_TANH if approximate == "tanh" else ATOL32)


def test_gelu_float32_erf_is_bit_identical():
    """The float32 erf kernel evaluates ops.special's rational approximation in the same order."""
    x = _rand(1000, scale=4.0)
    a, b = _both(lambda: F.gelu(gradus.tensor(x)).data)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_gradcheck_on_the_kernel(approximate):
    x = gradus.tensor(_rand(3, 7, dtype=np.float64, scale=2.0), requires_grad=True)
    with kernels.use("numba", min_size=0):
        assert gradcheck(lambda t: F.gelu(t, approximate=approximate), (x,))


def test_gelu_nonfinite():
    x = np.array([np.nan, np.inf, -np.inf, 0.0], dtype=np.float32)
    a, b = _both(lambda: F.gelu(gradus.tensor(x)).data)
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_array_equal(a[1:], b[1:])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_both_paths(dtype, affine):
    x = _rand(3, 6, 40, dtype=dtype, scale=2.0) + 1.5
    w, b = _rand(40, dtype=dtype, seed=1), _rand(40, dtype=dtype, seed=2)
    if affine:
        res = _both(lambda: _grads(lambda t, u, v: F.layer_norm(t, (40,), u, v, 1e-5), x, w, b))
    else:
        res = _both(lambda: _grads(lambda t: F.layer_norm(t, (40,), None, None, 1e-5), x))
    _close(*res, dtype)


def test_layer_norm_gradcheck_on_the_kernel():
    x = gradus.tensor(_rand(2, 3, 8, dtype=np.float64), requires_grad=True)
    w = gradus.tensor(_rand(8, dtype=np.float64, seed=1), requires_grad=True)
    b = gradus.tensor(_rand(8, dtype=np.float64, seed=2), requires_grad=True)
    with kernels.use("numba", min_size=0):
        assert gradcheck(lambda t, u, v: F.layer_norm(t, (8,), u, v), (x, w, b))


def _bn_input(layout, dtype):
    x = _rand(4, 6, 5, 7, dtype=dtype, scale=2.0) + 1.5
    if layout == "channels_last":   # the layout of conv2d's channels-last output
        return np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    return x if layout == "nchw" else x[:, :, 0, 0].copy()   # "2d": BatchNorm1d's (N, C)


def _batch_norm_step(layout, x, w, b, running):
    """y, gx, gw, gb and the updated running stats of a training-mode batch norm."""
    xt = gradus.tensor(x, requires_grad=True) if layout != "channels_last" else \
        gradus.tensor(np.ascontiguousarray(x.transpose(0, 2, 3, 1)), requires_grad=True)
    xin = xt if layout != "channels_last" else xt.permute(0, 3, 1, 2)   # a channels-last view
    assert layout != "channels_last" or kernels._bn_view(xin.data)[0] == "cl"
    wt = None if w is None else gradus.tensor(w, requires_grad=True)
    bt = None if b is None else gradus.tensor(b, requires_grad=True)
    rm, rv = (gradus.tensor(a.copy()) for a in running)
    y = F.batch_norm(xin, rm, rv, wt, bt, training=True, momentum=0.1, eps=1e-5)
    r = np.random.default_rng(3).standard_normal(y.shape).astype(y.data.dtype)
    (y * gradus.tensor(r)).sum().backward()
    out = [y.numpy(), xt.grad.numpy(), rm.numpy(), rv.numpy()]
    return out + ([] if w is None else [wt.grad.numpy(), bt.grad.numpy()])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["nchw", "channels_last", "2d"])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_both_paths(dtype, layout, affine):
    x = _bn_input(layout, dtype)
    w, b = (_rand(6, dtype=dtype, seed=1), _rand(6, dtype=dtype, seed=2)) if affine else (None, None)
    running = (_rand(6, dtype=dtype, seed=4), np.abs(_rand(6, dtype=dtype, seed=5)) + 0.5)
    res = _both(lambda: _batch_norm_step(layout, x, w, b, running))
    _close(*res, dtype, atol32=2e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_norm_backward_with_a_gradient_in_the_other_layout(dtype):
    """A channels-last xhat with an NCHW gradient (and the reverse): the kernel copies the gradient into
    xhat's layout and gives the NumPy path's numbers."""
    x = _bn_input("nchw", dtype)
    for xl in (x, np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)):
        g = _rand(*x.shape, dtype=dtype, seed=6)
        g = g if xl.flags.c_contiguous is False else np.ascontiguousarray(g.transpose(0, 2, 3, 1)).transpose(
            0, 3, 1, 2)
        assert kernels._bn_view(g)[0] != kernels._bn_view(xl)[0]
        xhat = (xl - xl.mean((0, 2, 3), keepdims=True)).astype(dtype)
        inv = np.full((1, 6, 1, 1), 0.7, dtype=dtype)
        w = _rand(6, dtype=dtype, seed=7)
        with kernels.use("numba", min_size=0):
            gx, gw, gb = kernels.batch_norm_backward(g, xhat, inv, w)
        n = g.size // 6
        ghat = g * w.reshape(1, 6, 1, 1)
        ref = (ghat - ghat.mean((0, 2, 3), keepdims=True)
               - xhat * (ghat * xhat).mean((0, 2, 3), keepdims=True)) * inv
        tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(gx, ref, **tol)
        np.testing.assert_allclose(gb, g.sum((0, 2, 3)), **tol)
        np.testing.assert_allclose(gw, (g * xhat).sum((0, 2, 3)), **tol)
        assert n == 4 * 5 * 7


def test_batch_norm_kernels_are_taken_and_gradcheck():
    x = _bn_input("nchw", np.float64)
    assert kernels._bn_view(x)[0] == "cf" and kernels._bn_view(x[:, :, ::2])is None
    with kernels.use("numba", min_size=0):
        assert kernels.batch_norm_stats(x) is not None
        xt = gradus.tensor(x[:2, :3, :3, :4].copy(), requires_grad=True)
        wt = gradus.tensor(_rand(3, dtype=np.float64, seed=1), requires_grad=True)
        bt = gradus.tensor(_rand(3, dtype=np.float64, seed=2), requires_grad=True)
        assert gradcheck(lambda t, u, v: F.batch_norm(t, None, None, u, v, training=True), (xt, wt, bt))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", ["plain", "causal", "bool", "additive", "additive_grad", "causal_rect"])
def test_attention_softmax_both_paths(dtype, case):
    B, Hh, L, S, E = 2, 3, 5, 5 if case != "causal_rect" else 7, 4
    q, k, v = (_rand(B, Hh, n, E, dtype=dtype, seed=i) for i, n in enumerate((L, S, S)))
    mask = None
    if case == "bool":
        mask = gradus.tensor(np.random.default_rng(4).random((L, S)) > 0.3)
        mask.data[:, 0] = True                   # no fully masked row (those are tested below)
    elif case == "additive":
        mask = gradus.tensor(_rand(L, S, dtype=dtype, seed=5))
    causal = case.startswith("causal")
    if case == "additive_grad":     # the mask's gradient is returned: the kernel must not scale dS
        m = _rand(L, S, dtype=dtype, seed=5)
        res = _both(lambda: _grads(lambda a, b_, c, mm: F.scaled_dot_product_attention(
            a, b_, c, attn_mask=mm), q, k, v, m))
    else:
        res = _both(lambda: _grads(lambda a, b_, c: F.scaled_dot_product_attention(
            a, b_, c, attn_mask=mask, is_causal=causal), q, k, v))
    _close(*res, dtype)


def test_attention_gradcheck_on_the_kernel():
    q, k, v = (gradus.tensor(_rand(2, 4, 3, dtype=np.float64, seed=i), requires_grad=True) for i in range(3))
    with kernels.use("numba", min_size=0):
        assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True), (q, k, v))


def test_attention_fully_masked_rows_match():
    """A key padding mask that hides every key of one sequence: MultiheadAttention's safe softmax
    gives zero rows on both paths (and the same outputs elsewhere)."""
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    x = gradus.tensor(_rand(2, 4, 8))
    pad = gradus.tensor(np.array([[False] * 4, [True] * 4]))
    (oa, wa), (ob, wb) = _both(lambda: tuple(t.data for t in mha(x, x, x, key_padding_mask=pad)))
    np.testing.assert_array_equal(np.isnan(oa), np.isnan(ob))
    np.testing.assert_allclose(np.nan_to_num(oa), np.nan_to_num(ob), rtol=RTOL32, atol=ATOL32)
    np.testing.assert_allclose(np.nan_to_num(wa), np.nan_to_num(wb), rtol=RTOL32, atol=ATOL32)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["Adam", "AdamW"])
def test_adam_both_paths(dtype, kind):
    def run():
        rng = np.random.default_rng(0)
        p = gradus.tensor(rng.standard_normal((6, 7)).astype(dtype), requires_grad=True)
        opt = getattr(optim, kind)([p], lr=1e-2, weight_decay=0.1)
        for _ in range(5):
            opt.zero_grad()
            (p * gradus.tensor(rng.standard_normal((6, 7)).astype(dtype))).sum().backward()
            opt.step()
        st = opt.state[p]
        return [p.data.copy(), st["exp_avg"].data.copy(), st["exp_avg_sq"].data.copy()]

    a, b = _both(run)
    for x, y in zip(a, b):   # the kernel casts the scalars as NumPy does: the same bits
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kw", [dict(momentum=0.9), dict(momentum=0.9, weight_decay=1e-2),
                                dict(momentum=0.9, nesterov=True), dict(momentum=0.5, dampening=0.1)])
def test_sgd_both_paths(dtype, kw):
    def run():
        rng = np.random.default_rng(0)
        p = gradus.tensor(rng.standard_normal((6, 7)).astype(dtype), requires_grad=True)
        opt = optim.SGD([p], lr=1e-2, **kw)
        for _ in range(4):
            opt.zero_grad()
            (p * gradus.tensor(rng.standard_normal((6, 7)).astype(dtype))).sum().backward()
            opt.step()
        return [p.data.copy(), opt.state[p]["momentum_buffer"].data.copy()]

    a, b = _both(run)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_small_arrays_keep_numpy_and_switches_restore():
    """Under min_size the NumPy code runs (tiny tensors keep NumPy's lower call overhead); the
    switches restore their state."""
    before = kernels.enabled()
    with kernels.use("numpy"):
        assert not kernels.enabled()
    assert kernels.enabled() == before
    with kernels.use("numba", min_size=1 << 17):
        assert kernels.gelu(np.ones(10, np.float32), "none") is None      # below min_size
    with kernels.use("numba", min_size=0):
        assert kernels.gelu(np.ones(10, np.float32), "none") is not None
        assert kernels.gelu(np.ones(10, np.int64), "none") is None        # not a float array
        assert kernels.gelu(np.ones((4, 4), np.float32).T, "none") is None  # not C-contiguous
    with pytest.raises(ValueError, match="kernels.use"):
        with kernels.use("cuda"):
            pass


# ---------------------------------------------------------------------------------------------
# LSTM time steps
# ---------------------------------------------------------------------------------------------
def test_tanh32_against_numpy_and_at_the_edges():
    kernels._load()
    from gradus.kernels._compiled import tanh32

    xs = np.concatenate([np.linspace(-12, 12, 48_001), np.geomspace(1e-30, 1e-2, 200), [0.0, -0.0]])
    xs = np.concatenate([xs, -xs]).astype(np.float32)
    got = np.array([tanh32(x) for x in xs])
    np.testing.assert_allclose(got, np.tanh(xs), rtol=2e-6, atol=3e-7)
    assert tanh32(np.float32(np.inf)) == 1 and tanh32(np.float32(-np.inf)) == -1
    assert np.isnan(tanh32(np.float32(np.nan)))


def _lstm_step_numpy(a, gh, scale, shift, c_prev):
    """The NumPy gate math of LSTMLayer.forward for one step (a: halved pre-activations)."""
    H = c_prev.shape[-1]
    a = np.tanh(a + gh) * scale + shift
    c = a[:, H:2 * H] * c_prev + a[:, :H] * a[:, 2 * H:3 * H]
    tc = np.tanh(c)
    return a, c, tc, a[:, 3 * H:] * tc


def test_lstm_step_kernels_against_the_numpy_formulas():
    kernels._load()
    from gradus.functional.recurrent import _lstm_gate_consts
    from gradus.kernels import _compiled as nb

    B, H = 5, 12
    scale, shift, tanh_gate = _lstm_gate_consts(H, np.float32, np)
    a0, gh = _rand(B, 4 * H, seed=1, scale=3.0) * scale, _rand(B, 4 * H, seed=2)
    c_prev = _rand(B, H, seed=3)
    a = a0.copy()
    c, tc, h = (np.empty((B, H), np.float32) for _ in range(3))
    nb.lstm_step_forward(a, gh, scale, shift, c_prev, c, tc, h)
    for got, want in zip((a, c, tc, h), _lstm_step_numpy(a0, gh, scale, shift, c_prev)):
        np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-6)
    # backward: the NumPy order of operations, so the same bits
    dh, g_out, dc = _rand(B, H, seed=4), _rand(B, H, seed=5), _rand(B, H, seed=6)
    d, dc_k = np.empty((B, 4 * H), np.float32), dc.copy()
    nb.lstm_step_backward(a, tc, c_prev, dh, g_out, dc_k, d)
    i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
    dhs = dh + g_out
    gc = dhs * o * (1 - tc * tc) + dc
    want = np.concatenate([gc * g, gc * c_prev, gc * i, dhs * tc], -1) * (1 - a) * (a + tanh_gate)
    np.testing.assert_array_equal(d, want)
    np.testing.assert_array_equal(dc_k, gc * f)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_lstm_both_paths(bidirectional):
    """nn.LSTM in float32 through the compiled steps and through NumPy: outputs, final states and every
    gradient agree (the kernels' tanh differs from NumPy's by float32 rounding)."""
    x = _rand(7, 3, 6, seed=7)

    def run():
        gradus.manual_seed(0)
        lstm = nn.LSTM(6, 16, num_layers=2, bidirectional=bidirectional)
        xt = gradus.tensor(x, requires_grad=True)
        out, (h, c) = lstm(xt)
        r = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
        ((out * gradus.tensor(r)).sum() + h.sum() * 0.5 + c.sum() * 0.25).backward()
        return [out.data, h.data, c.data, xt.grad.data] + [p.grad.data for p in lstm.parameters()]

    a, b = _both(run)
    assert len(a) == len(b) and all(u.dtype == np.float32 for u in a)
    for u, v in zip(a, b):
        np.testing.assert_allclose(u, v, rtol=1e-4, atol=2e-6)


def test_lstm_steps_are_taken_only_where_they_apply():
    T, B, H = 4, 2, 8
    f32 = [np.zeros((T, B, 4 * H), np.float32), np.zeros((B, 4 * H), np.float32)]
    with kernels.use("numba", min_size=0):
        assert kernels.lstm_steps(*f32) is not None
        assert kernels.lstm_steps(*(a.astype(np.float64) for a in f32)) is None   # float32 only
        assert kernels.lstm_steps(f32[0], f32[1][:, ::2]) is None                # not C-contiguous
    with kernels.use("numba"):
        assert kernels.lstm_steps(*f32) is None                                  # a step below min_size
    with kernels.use("numpy", min_size=0):
        assert kernels.lstm_steps(*f32) is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1),
                                dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2)),
                                dict(kernel_size=3, stride=2, ceil_mode=True),
                                dict(kernel_size=12, stride=1)])
def test_max_pool2d_backward_both_paths(dtype, kw):
    """The compiled scatter equals ScatterFlat's (non-overlapping and overlapping windows, padding,
    dilation, ceil_mode, an int32 arg-max for windows of > 127 taps), and is what a plain backward takes."""
    x = _rand(2, 3, 13, 12, dtype=dtype, seed=4)
    a, b = _both(lambda: _grads(lambda t: F.max_pool2d(t, **kw), x))
    # non-overlapping windows: the same bits; overlapping ones sum in float64 on NumPy's path (bincount)
    _close(a, b, dtype)
    calls = []
    real = kernels._nb.max_pool2d_backward
    spy = lambda *args: calls.append(1) or real(*args)  # noqa: E731
    sep = np.random.default_rng(1).permutation(x.size).reshape(x.shape) * 0.01    # no near-ties
    with kernels.use("numba", min_size=0):
        kernels._nb.max_pool2d_backward = spy
        try:
            assert gradcheck(lambda s: F.max_pool2d(s, **kw), (gradus.tensor(sep, requires_grad=True),))
        finally:
            kernels._nb.max_pool2d_backward = real
    assert calls


def test_max_pool2d_backward_kernel_applies_only_to_numpy_floats():
    from gradus.functional.window import make_geom

    g = make_geom(4, 4, (2, 2), (2, 2), (1, 1), (0, 0, 0, 0))
    gy, arg = np.ones((1, 1, 2, 2), np.float32), np.zeros((1, 1, 2, 2), np.int8)
    with kernels.use("numba", min_size=0):
        gx = kernels.max_pool2d_backward(gy, arg, g, (1, 1, 4, 4))
        assert gx.dtype == np.float32 and gx.sum() == 4 and gx[0, 0, ::2, ::2].sum() == 4
        assert kernels.max_pool2d_backward(gy[..., ::2], arg[..., ::2], g, (1, 1, 4, 4)) is None
        assert kernels.max_pool2d_backward(gy.astype(np.int32), arg, g, (1, 1, 4, 4)) is None
    with kernels.use("numpy", min_size=0):
        assert kernels.max_pool2d_backward(gy, arg, g, (1, 1, 4, 4)) is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["nchw", "channels_last", "strided"])
def test_relu_backward_both_paths(dtype, layout):
    """ReLU's backward: the same bits on both paths (zeros, NaN gradients and the sign of zero kept),
    in the input's memory layout; a strided (not dense) input keeps NumPy's path."""
    x = _rand(2, 4, 5, 6, dtype=dtype, seed=6)
    x[0, 0, 0, :3] = 0.0
    if layout == "channels_last":
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    elif layout == "strided":
        x = np.repeat(x, 2, axis=3)[..., ::2]
    gy = np.empty_like(x)                       # x's layout (channels-last stays channels-last)
    gy[...] = np.random.default_rng(2).standard_normal(x.shape)
    gy[0, 0, 0, 0], gy[0, 1, 0, 0] = np.nan, -0.0

    def run():
        t = gradus.tensor(x, requires_grad=True)
        y = F.relu(t)
        y.backward(gradus.tensor(gy))
        return y.data.copy(), t.grad.data.copy()

    a, b = _both(run)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
        assert np.array_equal(np.signbit(u), np.signbit(v))
    y = np.maximum(x, 0)
    with kernels.use("numba", min_size=0):
        if layout == "strided":                 # same strides, but not dense: not taken
            ys, gs = (np.repeat(a, 2, axis=3)[..., ::2] for a in (y, gy))
            assert ys.strides == gs.strides and kernels.relu_backward(ys, gs) is None
        else:
            gx = kernels.relu_backward(y, gy)
            assert gx is not None and gx.strides == y.strides
            np.testing.assert_array_equal(gx, gy * (y > 0))
    with kernels.use("numpy", min_size=0):
        assert kernels.relu_backward(y, gy) is None
