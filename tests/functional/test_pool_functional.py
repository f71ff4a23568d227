"""Pooling and interpolation without the oracle: reference loops, fast path vs general path, ties and
NaN, adjointness, gradchecks (max/avg pooling are differentiable to any order), errors."""
from __future__ import annotations

import math

import numpy as np
import pytest

import gradus
import gradus.functional as F
from gradus.autograd import gradcheck, gradgradcheck
from gradus.errors import ShapeError
from gradus.functional import pooling as P
from tests.helpers import SeededInputs


def t64(a, requires_grad=True):
    return gradus.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def distinct(rng, shape):
    """Values at least 0.1 apart: no ties, so finite differences never cross an arg-max switch."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.1 + rng.uniform(-0.01, 0.01, n)).reshape(shape)


def max_pool2d_loop(x, k, s, p, d, ceil_mode):
    """Definition: max over the window, padding is -inf; also returns plane indices (first max)."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = k, s, p, d

    def size(L, k, s, p, d):
        span = L + 2 * p - d * (k - 1) - 1
        o = (math.ceil(span / s) if ceil_mode else span // s) + 1
        if ceil_mode and (o - 1) * s >= L + p:
            o -= 1
        return o

    oh, ow = size(h, kh, sh, ph, dh), size(w, kw, sw, pw, dw)
    y = np.full((n, c, oh, ow), -np.inf)
    idx = np.zeros((n, c, oh, ow), dtype=np.int64)
    for i in range(oh):
        for j in range(ow):
            for u in range(kh):
                for v in range(kw):
                    r, q = i * sh - ph + u * dh, j * sw - pw + v * dw
                    if 0 <= r < h and 0 <= q < w:
                        better = x[:, :, r, q] > y[:, :, i, j]
                        y[:, :, i, j] = np.where(better, x[:, :, r, q], y[:, :, i, j])
                        idx[:, :, i, j] = np.where(better, r * w + q, idx[:, :, i, j])
    return y, idx


@pytest.mark.parametrize("k,s,p,d,ceil", [((2, 2), (2, 2), (0, 0), (1, 1), False),
                                          ((3, 3), (2, 2), (1, 1), (1, 1), False),
                                          ((3, 2), (2, 1), (1, 0), (2, 1), True),
                                          ((2, 3), (3, 2), (1, 1), (1, 2), True)])
def test_max_pool2d_matches_loop(k, s, p, d, ceil):
    x = distinct(np.random.default_rng(0), (2, 3, 9, 8))
    y, idx = F.max_pool2d(t64(x, False), k, s, p, d, ceil, return_indices=True)
    ry, ridx = max_pool2d_loop(x, k, s, p, d, ceil)
    np.testing.assert_array_equal(y.numpy(), ry)
    np.testing.assert_array_equal(idx.numpy(), ridx)
    assert idx.dtype == np.int64


def test_max_pool_inference_path_and_scatter_gradient():
    """Without grad only the running maximum is computed: same values; with grad the gradient is gy
    scattered to the loop's indices."""
    inputs = SeededInputs(1, np.float64)
    x = inputs.tensor(4, 3, 8, 6, requires_grad=True)
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    ry, ridx = max_pool2d_loop(x.numpy(), (2, 2), (2, 2), (0, 0), (1, 1), False)
    np.testing.assert_array_equal(y.numpy(), ry)
    np.testing.assert_array_equal(idx.numpy(), ridx)
    with gradus.no_grad():
        np.testing.assert_array_equal(F.max_pool2d(x, 2).numpy(), ry)
        np.testing.assert_array_equal(F.max_pool2d(x, 3, 2, 1).numpy(),
                                      max_pool2d_loop(x.numpy(), (3, 3), (2, 2), (1, 1), (1, 1), False)[0])
    gy = inputs.array(y.shape)
    F.max_pool2d(x, 2).backward(gradus.tensor(gy))
    ref = np.zeros(x.shape)
    flat = ref.reshape(4 * 3, -1)
    np.put_along_axis(flat, ridx.reshape(12, -1), gy.reshape(12, -1), axis=1)
    np.testing.assert_array_equal(x.grad.numpy(), ref)


def test_max_pool_large_kernel_uses_wide_offsets():
    x = distinct(np.random.default_rng(16), (1, 1, 13, 12))
    y, idx = F.max_pool2d(t64(x, False), (13, 12), return_indices=True)   # 156 taps > int8
    assert idx.item() == int(np.argmax(x)) and y.item() == x.max()


def test_max_pool_ties_go_to_the_first_maximum_and_overlaps_accumulate():
    x = t64(np.zeros((1, 1, 4, 4)))                 # all ties (ReLU outputs are full of zeros)
    y, idx = F.max_pool2d(x, 3, 1, return_indices=True)
    np.testing.assert_array_equal(idx.numpy()[0, 0], [[0, 1], [4, 5]])
    y.sum().backward()                               # every window's gradient goes to its first zero
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0],
                                                         [0, 0, 0, 0]])
    x2 = t64(np.arange(16.0).reshape(1, 1, 4, 4)[:, :, ::-1, ::-1].copy())
    y2 = F.max_pool2d(x2, 3, 1)                      # the max (15, at 0,0) is in only one window...
    y2.sum().backward()
    assert x2.grad.numpy()[0, 0, 0, 0] == 1.0
    x3 = t64(np.ones((1, 1, 3, 3)) * np.array([0, 0, 5.0]))
    F.max_pool2d(x3, (1, 2), 1).sum().backward()     # ...while this one wins two overlapping windows
    np.testing.assert_array_equal(x3.grad.numpy()[0, 0], [[1, 0, 1]] * 3)


def test_max_pool_propagates_nan():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    x[0, 0, 0, 1] = np.nan
    y = F.max_pool2d(t64(x, False), 2).numpy()
    assert np.isnan(y[0, 0, 0, 0]) and not np.isnan(y[0, 0, 1:]).any()
    y2 = F.max_pool2d(t64(x, False), 3, 1, 1).numpy()
    assert np.isnan(y2[0, 0, :2, :3]).all() and not np.isnan(y2[0, 0, 2:]).any()
    x[0, 0, 1, 0] = np.nan                     # two NaNs in one window: PyTorch's kernel keeps the last
    xt = t64(x)
    y3, idx = F.max_pool2d(xt, 2, return_indices=True)
    assert idx.numpy()[0, 0, 0, 0] == 4
    F.max_pool2d(xt, 2).sum().backward()
    assert xt.grad.numpy()[0, 0, 1, 0] == 1 and xt.grad.numpy()[0, 0, 0, 1] == 0


@pytest.mark.parametrize("args", [(2,), (3, 2, 1), ((2, 3), (1, 2), (1, 0), (2, 1), True)])
def test_max_pool_gradcheck_and_gradgradcheck(args):
    x = t64(distinct(np.random.default_rng(2), (1, 2, 5, 6)))
    fn = lambda x: F.max_pool2d(x, *args)  # noqa: E731
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_max_pool1d_and_unbatched():
    x = distinct(np.random.default_rng(3), (2, 3, 11))
    y, idx = F.max_pool1d(t64(x, False), 3, 2, 1, return_indices=True)
    ry, ridx = max_pool2d_loop(x[:, :, None], (1, 3), (1, 2), (0, 1), (1, 1), False)
    np.testing.assert_array_equal(y.numpy(), ry[:, :, 0])
    np.testing.assert_array_equal(idx.numpy(), ridx[:, :, 0])
    y1, i1 = F.max_pool2d(t64(x[0, :, None], False), (1, 3), (1, 2), (0, 1), return_indices=True)
    assert y1.shape == (3, 1, 6) and i1.shape == (3, 1, 6)
    assert F.max_pool1d(t64(x[0], False), 2).shape == (3, 5)


def test_max_pool_integer_input():
    x = gradus.tensor(np.arange(32).reshape(1, 2, 4, 4))
    y = F.max_pool2d(x, 3, 2, 1)
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y.numpy()[0, 0], [[5, 7], [13, 15]])


# -- average pooling ------------------------------------------------------------------------------
def avg_pool2d_loop(x, k, s, p, ceil_mode, count_include_pad, divisor_override=None):
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw) = k, s, p

    def size(L, k, s, p):
        span = L + 2 * p - k
        o = (math.ceil(span / s) if ceil_mode else span // s) + 1
        if ceil_mode and (o - 1) * s >= L + p:
            o -= 1
        return o

    oh, ow = size(h, kh, sh, ph), size(w, kw, sw, pw)
    y = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            h0, w0 = i * sh - ph, j * sw - pw
            h1, w1 = min(h0 + kh, h + ph), min(w0 + kw, w + pw)
            pool = (h1 - h0) * (w1 - w0)
            a, b, cc, dd = max(h0, 0), max(w0, 0), min(h1, h), min(w1, w)
            div = divisor_override or (pool if count_include_pad else (cc - a) * (dd - b))
            y[:, :, i, j] = x[:, :, a:cc, b:dd].sum(axis=(2, 3)) / div
    return y


@pytest.mark.parametrize("k,s,p,ceil,cip,div", [((2, 2), (2, 2), (0, 0), False, True, None),
                                                ((3, 3), (2, 2), (1, 1), False, True, None),
                                                ((3, 3), (2, 2), (1, 1), True, False, None),
                                                ((3, 2), (2, 3), (1, 1), True, True, None),
                                                ((3, 3), (1, 1), (1, 1), False, True, 5)])
def test_avg_pool2d_matches_loop_and_gradchecks(k, s, p, ceil, cip, div):
    inputs = SeededInputs(4, np.float64)
    x = inputs.tensor(2, 2, 7, 8)
    y = F.avg_pool2d(x, k, s, p, ceil, cip, div)
    np.testing.assert_allclose(y.numpy(), avg_pool2d_loop(x.numpy(), k, s, p, ceil, cip, div), rtol=1e-12,
                               atol=1e-12)
    xs = inputs.tensor(1, 1, 5, 4, requires_grad=True)
    fn = lambda x: F.avg_pool2d(x, k, s, p, ceil, cip, div)  # noqa: E731
    assert gradcheck(fn, (xs,))
    assert gradgradcheck(fn, (xs,))


def test_avg_pool_adjoint_identity():
    """<avg_pool(x), z> == <x, avg_pool^T(z)>: the backward is the exact adjoint."""
    inputs = SeededInputs(5, np.float64)
    x = inputs.tensor(2, 3, 9, 7, requires_grad=True)
    y = F.avg_pool2d(x, 3, 2, 1, True, False)
    z = inputs.array(y.shape)
    y.backward(gradus.tensor(z))
    np.testing.assert_allclose((y.numpy() * z).sum(), (x.numpy() * x.grad.numpy()).sum(), rtol=1e-12)


def test_avg_pool1d():
    x = SeededInputs(6, np.float64).array(2, 3, 10)
    y = F.avg_pool1d(t64(x, False), 4, 3, 2, True, False).numpy()
    ref = avg_pool2d_loop(x[:, :, None], (1, 4), (1, 3), (0, 2), True, False)[:, :, 0]
    np.testing.assert_allclose(y, ref, atol=1e-12)


# -- adaptive pooling -------------------------------------------------------------------------------
def adaptive_loop(x, oh, ow, reduce):
    n, c, h, w = x.shape
    y = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            a, b = (i * h) // oh, -(-((i + 1) * h) // oh)
            cc, d = (j * w) // ow, -(-((j + 1) * w) // ow)
            y[:, :, i, j] = reduce(x[:, :, a:b, cc:d], axis=(2, 3))
    return y


@pytest.mark.parametrize("size", [(3, 4), (1, 1), (7, 10), (5, 3), (2, None)])
def test_adaptive_pools_match_loop(size):
    rng = np.random.default_rng(7)
    x = distinct(rng, (2, 3, 7, 10))
    oh, ow = size[0], size[1] if size[1] is not None else 10
    ya = F.adaptive_avg_pool2d(t64(x, False), size).numpy()
    np.testing.assert_allclose(ya, adaptive_loop(x, oh, ow, np.mean), rtol=1e-12)
    ym = F.adaptive_max_pool2d(t64(x, False), size).numpy()
    np.testing.assert_array_equal(ym, adaptive_loop(x, oh, ow, np.max))


def test_adaptive_pools_gradgradcheck():
    x = t64(distinct(np.random.default_rng(8), (1, 2, 5, 7)))
    assert gradgradcheck(lambda x: F.adaptive_avg_pool2d(x, (3, 4)), (x,))
    assert gradgradcheck(lambda x: F.adaptive_max_pool2d(x, (2, 3)), (x,))
    assert gradcheck(lambda x: F.adaptive_max_pool1d(x[:, :, 0], 4), (x,))
    assert gradcheck(lambda x: F.adaptive_avg_pool1d(x[:, :, 0], 3), (x,))


# -- interpolation -----------------------------------------------------------------------------------
def test_nearest_integer_scale_is_repeat():
    x = np.arange(6.0).reshape(1, 1, 2, 3)
    y = F.interpolate(t64(x, False), scale_factor=2).numpy()
    np.testing.assert_array_equal(y, x.repeat(2, axis=2).repeat(2, axis=3))
    y2 = F.interpolate(t64(x, False), size=(3, 5)).numpy()   # floor(dst * in / out)
    np.testing.assert_array_equal(y2[0, 0], x[0, 0][np.ix_([0, 0, 1], [0, 0, 1, 1, 2])])


def test_bilinear_align_corners_keeps_the_corners_and_is_linear():
    x = SeededInputs(9, np.float64).array(1, 2, 3, 4)
    y = F.interpolate(t64(x, False), size=(5, 7), mode="bilinear", align_corners=True).numpy()
    np.testing.assert_allclose(y[..., [0, -1], :][..., [0, -1]], x[..., [0, -1], :][..., [0, -1]], atol=1e-12)
    ramp = np.broadcast_to(np.arange(4.0), (1, 1, 3, 4))       # a linear ramp stays a linear ramp
    yr = F.interpolate(t64(ramp, False), size=(3, 7), mode="bilinear", align_corners=True).numpy()
    np.testing.assert_allclose(yr[0, 0, 0], np.linspace(0, 3, 7), atol=1e-12)


def test_interpolate_gradcheck_and_errors():
    x = SeededInputs(10, np.float64).tensor(1, 1, 3, 2, requires_grad=True)
    assert gradgradcheck(lambda x: F.interpolate(x, scale_factor=1.5, mode="bilinear"), (x,))
    assert gradcheck(lambda x: F.interpolate(x, size=(5, 3)), (x,))
    with pytest.raises(ValueError, match="interpolate: only one of size or scale_factor"):
        F.interpolate(x, size=2, scale_factor=2)
    with pytest.raises(ValueError, match="interpolate: either size or scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="unsupported mode 'cubic'"):
        F.interpolate(x, scale_factor=2, mode="cubic")
    with pytest.raises(ValueError, match="align_corners"):
        F.interpolate(x, scale_factor=2, align_corners=True)


# -- errors -----------------------------------------------------------------------------------------
def test_pool_errors_name_the_sizes():
    with pytest.raises(ShapeError, match=r"max_pool2d: input spatial size \(2, 2\).*kernel \(3, 3\)"):
        F.max_pool2d(gradus.zeros(1, 1, 2, 2), 3)
    with pytest.raises(ValueError, match="at most half"):
        F.max_pool2d(gradus.zeros(1, 1, 8, 8), 2, padding=2)
    with pytest.raises(ValueError, match="at most half"):
        F.avg_pool2d(gradus.zeros(1, 1, 8, 8), 3, padding=2)
    with pytest.raises(ShapeError, match=r"expected input \(N, C, H, W\)"):
        F.avg_pool2d(gradus.zeros(8, 8), 2)
    with pytest.raises(ShapeError, match="must be positive"):
        F.adaptive_avg_pool2d(gradus.zeros(1, 1, 4, 4), 0)


@pytest.mark.parametrize("k,s,p,d", [(2, 2, 0, 1), (3, 2, 1, 1), ((2, 3), (1, 2), (1, 1), (2, 1))])
def test_running_argmax_equals_argmax_over_copied_windows(k, s, p, d):
    """The arithmetic running arg-max against np.argmax over explicitly copied windows, on data full
    of ties (small integers): the first maximum in window order must win."""
    x = np.random.default_rng(17).integers(0, 3, (3, 2, 7, 8)).astype(np.float32)
    g = P._pool_geom("t", gradus.tensor(x), k, s, p, d, False, True)
    y, arg = P.max_pool_arg(x, g)
    y_only, none = P.max_pool_arg(x, g, with_arg=False)
    assert none is None
    np.testing.assert_array_equal(y, y_only)
    xpad = np.pad(x, ((0, 0), (0, 0), (g.pt, g.pb), (g.pl, g.pr)), constant_values=-np.inf)
    taps = np.stack([xpad[sl] for _, sl in P.kernel_offsets(g)], axis=-1)   # (N, C, OH, OW, KK)
    np.testing.assert_array_equal(arg, taps.argmax(-1))
    np.testing.assert_array_equal(y, taps.max(-1))


@pytest.mark.parametrize("k,s,p", [(2, 2, 0), (3, 2, 1), ((3, 2), (1, 2), (1, 0))])
def test_fused_pools_equal_their_composed_twins(k, s, p):
    """max/avg pooling == unfold (im2col) + a reduction primitive over the window axis: same forward,
    same gradient (max over positive inputs, so unfold's zero padding never wins)."""
    inputs = SeededInputs(18, np.float64)
    x = t64(distinct(inputs.rng, (2, 3, 7, 8)) + 100.0)
    kk = (k, k) if isinstance(k, int) else k
    y = F.max_pool2d(x, k, s, p)
    cols = F.unfold(x, kk, 1, p, s).reshape(2, 3, kk[0] * kk[1], -1)            # (N, C, KK, L)
    twin = cols.max(dim=2).values.reshape(y.shape)
    np.testing.assert_array_equal(y.numpy(), twin.numpy())
    gy = inputs.tensor(y.shape)
    g1 = gradus.autograd.grad(y, x, gy)[0]
    g2 = gradus.autograd.grad(twin, x, gy, retain_graph=True)[0]   # cols is shared with twin_a
    np.testing.assert_allclose(g1.numpy(), g2.numpy(), rtol=1e-12, atol=1e-14)   # overlaps: sum order
    ya = F.avg_pool2d(x, k, s, p, count_include_pad=True)
    twin_a = cols.mean(dim=2).reshape(ya.shape)
    np.testing.assert_allclose(ya.numpy(), twin_a.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gradus.autograd.grad(ya, x, gy)[0].numpy(),
                               gradus.autograd.grad(twin_a, x, gy)[0].numpy(), rtol=1e-12, atol=1e-15)
