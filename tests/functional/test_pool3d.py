"""3-D pooling and max unpooling without the oracle: the op harness (forward vs direct NumPy loops,
float64 gradcheck, gradgradcheck), indices, ties and NaN, the N-D code against the 2-D pools,
adjointness, saved state, errors. (PyTorch comparisons: tests/oracle/test_functional_extra_oracle.py.)"""
from __future__ import annotations

import math

import numpy as np
import pytest

import gradus
import gradus.functional as F
from gradus.autograd import gradcheck, gradgradcheck
from gradus.errors import DTypeError, GradIndexError, ShapeError
from gradus.functional import poolnd as P
from tests.autograd.test_saved_state import _backward_and_check
from tests.helpers import SeededInputs
from tests.ops.harness import distinct, op, op_tests


def _t(v, nd=3):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * nd


def _out(n, k, s, p, d, ceil_mode):
    span = n + 2 * p - d * (k - 1) - 1
    o = (math.ceil(span / s) if ceil_mode else span // s) + 1
    if ceil_mode and (o - 1) * s >= n + p:
        o -= 1
    return o


# -- direct definitions (loops over output positions: slow, obviously right) ------------------------
def max_pool_ref(x, k, s=None, p=0, d=1, ceil_mode=False):
    """(values, volume indices): max over each window (padding -inf, first maximum wins)."""
    nd = x.ndim - 2
    k, p, d = _t(k, nd), _t(p, nd), _t(d, nd)
    s = k if s is None else _t(s, nd)
    size = x.shape[2:]
    out = tuple(_out(n, *a, ceil_mode) for n, a in zip(size, zip(k, s, p, d)))
    y = np.full(x.shape[:2] + out, -np.inf)
    idx = np.zeros(x.shape[:2] + out, dtype=np.int64)
    for pos in np.ndindex(*out):
        for u in np.ndindex(*k):
            at = tuple(i * si - pi + ui * di for i, si, pi, ui, di in zip(pos, s, p, u, d))
            if all(0 <= a < n for a, n in zip(at, size)):
                here = (slice(None), slice(None)) + pos
                v = x[(slice(None), slice(None)) + at]
                better = v > y[here]
                y[here] = np.where(better, v, y[here])
                idx[here] = np.where(better, int(np.ravel_multi_index(at, size)), idx[here])
    return y, idx


def avg_pool_ref(x, k, s=None, p=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
    nd = x.ndim - 2
    k, p = _t(k, nd), _t(p, nd)
    s = k if s is None else _t(s, nd)
    size = x.shape[2:]
    out = tuple(_out(n, *a, 1, ceil_mode) for n, a in zip(size, zip(k, s, p)))
    y = np.zeros(x.shape[:2] + out)
    for pos in np.ndindex(*out):
        start = [i * si - pi for i, si, pi in zip(pos, s, p)]
        end = [min(a + ki, n + pi) for a, ki, n, pi in zip(start, k, size, p)]
        lo = [max(a, 0) for a in start]
        hi = [min(b, n) for b, n in zip(end, size)]
        win = x[(slice(None), slice(None)) + tuple(slice(a, b) for a, b in zip(lo, hi))]
        if divisor_override:
            div = divisor_override
        elif count_include_pad:
            div = np.prod([b - a for a, b in zip(start, end)])
        else:
            div = np.prod([b - a for a, b in zip(lo, hi)])
        y[(slice(None), slice(None)) + pos] = win.sum(axis=tuple(range(2, 2 + nd))) / div
    return y


def adaptive_avg_ref(x, out):
    size = x.shape[2:]
    y = np.zeros(x.shape[:2] + out)
    for pos in np.ndindex(*out):
        sl = tuple(slice((i * n) // o, -(-((i + 1) * n) // o)) for i, n, o in zip(pos, size, out))
        y[(slice(None), slice(None)) + pos] = x[(slice(None), slice(None)) + sl].mean(axis=(2, 3, 4))
    return y


def unpool_ref(x, idx, out):
    n, c = x.shape[:2]
    y = np.zeros((n, c, int(np.prod(out))))
    for a in range(n):
        for b in range(c):
            y[a, b, idx[a, b].reshape(-1)] = x[a, b].reshape(-1)
    return y.reshape((n, c) + out)


# -- the op harness ------------------------------------------------------------------------------
def _max_case(name, shape, *args):
    return op(name, lambda x: F.max_pool3d(x, *args), lambda x: max_pool_ref(x, *args)[0], [shape], distinct)


def _max_idx_case(name, shape, *args):
    """return_indices=True: the values (differentiable, a gather) and the int64 indices."""
    return op(name, lambda x: F.max_pool3d(x, *args, return_indices=True),
              lambda x: max_pool_ref(x, *args), [shape], distinct)


def _avg_case(name, shape, *args):
    return op(name, lambda x: F.avg_pool3d(x, *args), lambda x: avg_pool_ref(x, *args), [shape])


_UNPOOL_IDX = {}


def _unpool_case(name, shape, k, s, p, out):
    """max_unpool3d of values at the indices of a max_pool3d of a fixed input."""
    rng = np.random.default_rng(3)
    src = distinct(rng, shape[:2] + out)
    _, idx = max_pool_ref(src, k, s, p)
    _UNPOOL_IDX[name] = idx
    ind = gradus.tensor(idx)
    return op(name, lambda x: F.max_unpool3d(x, ind, k, s, p, out), lambda x: unpool_ref(x, idx, out),
              [idx.shape])


CASES = (
    _max_case("max_pool3d", (1, 2, 4, 4, 4), 2)
    + _max_case("max_pool3d_overlap", (2, 1, 5, 4, 5), 3, 2, 1)
    + _max_case("max_pool3d_dil_ceil", (1, 2, 5, 6, 4), (2, 3, 2), (2, 1, 3), (1, 1, 0), (2, 1, 1), True)
    + _max_idx_case("max_pool3d_indices", (1, 2, 4, 5, 3), (2, 2, 1), (1, 2, 1), (1, 0, 0))
    + _avg_case("avg_pool3d", (1, 2, 4, 4, 6), 2)
    + _avg_case("avg_pool3d_pad", (2, 1, 5, 4, 5), 3, 2, 1)
    + _avg_case("avg_pool3d_ceil_nopad", (1, 2, 5, 6, 4), (2, 3, 2), (2, 2, 3), (1, 1, 0), True, False)
    + _avg_case("avg_pool3d_divisor", (1, 1, 4, 3, 5), (2, 2, 3), 1, 0, False, True, 5)
    + op("adaptive_avg_pool3d", lambda x: F.adaptive_avg_pool3d(x, (2, 3, 2)),
         lambda x: adaptive_avg_ref(x, (2, 3, 2)), [(1, 2, 5, 4, 3)])
    + op("adaptive_avg_pool3d_div", lambda x: F.adaptive_avg_pool3d(x, (2, 1, 3)),
         lambda x: adaptive_avg_ref(x, (2, 1, 3)), [(2, 1, 4, 3, 6)])
    + _unpool_case("max_unpool3d", (1, 2), 2, 2, 0, (4, 4, 6))
    + _unpool_case("max_unpool3d_pad", (1, 1), 3, 3, 1, (5, 4, 5))
)

test_forward, test_backward, test_double_backward, test_cuda = op_tests(CASES)


# -- max pooling --------------------------------------------------------------------------------------
def test_max_pool3d_ties_and_nan():
    """Ties go to the first maximum in window order; a NaN wins (its index is the NaN's)."""
    x = np.zeros((1, 1, 2, 2, 2))
    y, idx = F.max_pool3d(gradus.tensor(x), 2, return_indices=True)
    assert y.item() == 0.0 and idx.item() == 0
    x[0, 0, 1, 0, 1] = np.nan
    x[0, 0, 1, 1, 1] = 5.0
    y, idx = F.max_pool3d(gradus.tensor(x), 2, return_indices=True)
    assert np.isnan(y.item()) and idx.item() == 5
    xg = gradus.tensor(x, requires_grad=True)
    F.max_pool3d(xg, 2).sum().backward()
    assert xg.grad.numpy().reshape(-1).tolist() == [0, 0, 0, 0, 0, 1, 0, 0]


def test_max_pool3d_inference_path_and_integers():
    inputs = SeededInputs(1, np.float64)
    x = inputs.array(2, 3, 5, 4, 6)
    ref, _ = max_pool_ref(x, 3, 2, 1)
    with gradus.no_grad():
        y = F.max_pool3d(gradus.tensor(x, requires_grad=True), 3, 2, 1)
    np.testing.assert_array_equal(y.numpy(), ref)
    xi = (x * 10).astype(np.int64)
    y = F.max_pool3d(gradus.tensor(xi), 2)
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y.numpy(), max_pool_ref(xi.astype(np.float64), 2)[0])


@pytest.mark.parametrize("k,s,p,d,ceil", [(2, None, 0, 1, False), (3, 2, 1, 1, True), ((3, 2), (1, 2), (1, 0),
                                                                                      (2, 1), False)])
def test_nd_pools_reproduce_the_2d_pools(k, s, p, d, ceil):
    """The N-D code run on 2-D inputs gives max_pool2d / avg_pool2d exactly (values, indices, grads)."""
    x = distinct(np.random.default_rng(2), (2, 3, 9, 8))
    xg = gradus.tensor(x, requires_grad=True)
    y, idx = P.max_pool_nd("t", 2, xg, k, s, p, d, ceil, True)
    y2, idx2 = F.max_pool2d(xg, k, s, p, d, ceil, True)
    np.testing.assert_array_equal(y.numpy(), y2.numpy())
    np.testing.assert_array_equal(idx.numpy(), idx2.numpy())
    gy = gradus.tensor(np.random.default_rng(3).standard_normal(y.shape))
    np.testing.assert_array_equal(gradus.autograd.grad(y, xg, gy)[0].numpy(),
                                  gradus.autograd.grad(y2, xg, gy)[0].numpy())
    if d == 1:
        for cip in (True, False):
            a = P.avg_pool_nd("t", 2, xg, k, s, p, ceil, cip, None)
            np.testing.assert_allclose(a.numpy(), F.avg_pool2d(xg, k, s, p, ceil, cip).numpy(), atol=1e-12)


def test_avg_pool3d_and_its_adjoint():
    inputs = SeededInputs(4, np.float64)
    x = inputs.array(2, 2, 5, 6, 4)
    y = F.avg_pool3d(gradus.tensor(x), 3, 2, 1, True, False).numpy()
    np.testing.assert_allclose(y, avg_pool_ref(x, 3, 2, 1, True, False), atol=1e-12)
    z = inputs.array(y.shape)
    xg = gradus.tensor(x, requires_grad=True)
    (gx,) = gradus.autograd.grad(F.avg_pool3d(xg, 3, 2, 1, True, False), xg, gradus.tensor(z))
    np.testing.assert_allclose((y * z).sum(), (x * gx.numpy()).sum(), rtol=1e-12)


def test_unbatched_inputs():
    x = gradus.randn(3, 4, 6, 5)
    assert F.max_pool3d(x, 2).shape == (3, 2, 3, 2)
    y, idx = F.max_pool3d(x, 2, return_indices=True)
    assert idx.shape == (3, 2, 3, 2)
    assert F.avg_pool3d(x, 2, 1).shape == (3, 3, 5, 4)
    assert F.adaptive_avg_pool3d(x, 1).shape == (3, 1, 1, 1)
    assert F.max_unpool3d(y, idx, 2, output_size=(4, 6, 5)).shape == (3, 4, 6, 5)


# -- unpooling ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_max_unpool_inverts_max_pool_on_the_maxima(nd):
    """unpool(pool(x)) keeps each window's maximum where it was and zeros the rest, so pooling it
    again gives the same maxima and indices."""
    shape = (2, 3) + (8, 6, 4)[:nd]
    x = distinct(np.random.default_rng(5), shape)
    x = gradus.tensor(x - x.min() + 1.0)           # positive: the zeros unpooling adds never win
    pool, unpool = getattr(F, f"max_pool{nd}d"), getattr(F, f"max_unpool{nd}d")
    y, idx = pool(x, 2, return_indices=True)
    z = unpool(y, idx, 2)
    assert z.shape == x.shape
    kept = z.numpy() != 0
    np.testing.assert_array_equal(z.numpy()[kept], x.numpy()[kept])
    assert kept.sum() == y.numel()
    y2, idx2 = pool(z, 2, return_indices=True)
    np.testing.assert_array_equal(idx2.numpy(), idx.numpy())


def test_max_unpool2d_output_size_and_duplicates():
    x = gradus.tensor(distinct(np.random.default_rng(6), (1, 2, 7, 9)))
    y, idx = F.max_pool2d(x, 2, return_indices=True)           # (3, 4): the last row/column dropped
    z = F.max_unpool2d(y, idx, 2, output_size=(7, 9))         # the indices point into the 7x9 planes
    assert z.shape == (1, 2, 7, 9)
    np.testing.assert_array_equal(z.numpy()[z.numpy() != 0], x.numpy()[z.numpy() != 0])
    assert F.max_unpool2d(y, idx, 2, output_size=(1, 2, 7, 9)).shape == (1, 2, 7, 9)
    # overlapping windows can share a maximum: the value is written once; the gradient gathers
    v = gradus.tensor(np.array([[[[1.0, 2.0]]]]), requires_grad=True)
    same = gradus.tensor(np.array([[[[3, 3]]]]))
    out = F.max_unpool2d(v, same, (1, 3), 1)                    # default size (1, 2 - 1 + 3)
    assert out.numpy().reshape(-1)[3] in (1.0, 2.0) and out.numpy().sum() == out.numpy().reshape(-1)[3]
    (gv,) = gradus.autograd.grad(out, v, gradus.tensor(np.array([[[[0.0, 0.0, 0.0, 7.0]]]])))
    assert gv.numpy().reshape(-1).tolist() == [7.0, 7.0]


def test_max_unpool_gradcheck_1d_2d():
    rng = np.random.default_rng(7)
    for nd, shape in [(1, (2, 2, 9)), (2, (1, 2, 5, 6))]:
        x = gradus.tensor(distinct(rng, shape))
        pool, unpool = getattr(F, f"max_pool{nd}d"), getattr(F, f"max_unpool{nd}d")
        y, idx = pool(x, 3, 3, 1, return_indices=True)   # disjoint windows: no index repeats
        v = gradus.tensor(rng.standard_normal(y.shape), requires_grad=True)
        fn = lambda v: unpool(v, idx, 3, 3, 1, shape[2:])  # noqa: E731,B023
        assert gradcheck(fn, (v,))
        assert gradgradcheck(fn, (v,))


@pytest.mark.parametrize("name", ["max_pool3d", "max_pool3d_idx", "avg_pool3d", "max_unpool2d"])
def test_saved_state_is_freed_after_backward(name):
    x = SeededInputs(8, np.float64).tensor(1, 2, 4, 4, 4, requires_grad=True)
    y, idx = F.max_pool2d(x[0], 2, return_indices=True)
    out = {"max_pool3d": lambda: F.max_pool3d(x, 3, 2, 1),
           "max_pool3d_idx": lambda: F.max_pool3d(x, 2, return_indices=True)[0],
           "avg_pool3d": lambda: F.avg_pool3d(x, 3, 2, 1),
           "max_unpool2d": lambda: F.max_unpool2d(y, idx, 2)}[name]()
    before, after = _backward_and_check(out)
    assert after == []


# -- errors -------------------------------------------------------------------------------------------
def test_errors_name_the_op_and_the_sizes():
    x = gradus.zeros(1, 2, 4, 4, 4)
    with pytest.raises(ShapeError, match=r"max_pool3d: expected input \(N, C, D, H, W\) or \(C, D, H, W\)"):
        F.max_pool3d(gradus.zeros(4, 4), 2)
    with pytest.raises(ShapeError, match=r"max_pool3d: input spatial size \(4, 4, 4\).*kernel \(5, 5, 5\)"):
        F.max_pool3d(x, 5)
    with pytest.raises(ValueError, match=r"max_pool3d: padding \(2, 2, 2\) should be .* at most half"):
        F.max_pool3d(x, 3, padding=2)
    with pytest.raises(ValueError, match=r"avg_pool3d: kernel_size must be an int or a tuple of 3 ints"):
        F.avg_pool3d(x, (2, 2))
    with pytest.raises(ValueError, match=r"avg_pool3d: divisor_override must be non-zero"):
        F.avg_pool3d(x, 2, divisor_override=0)
    with pytest.raises(DTypeError, match=r"avg_pool3d: expects a floating point input"):
        F.avg_pool3d(gradus.zeros(1, 1, 2, 2, 2, dtype=gradus.int64), 2)
    with pytest.raises(ShapeError, match=r"adaptive_avg_pool3d: output_size .* must be positive"):
        F.adaptive_avg_pool3d(x, (0, 1, 1))
    y, idx = F.max_pool2d(gradus.randn(1, 1, 4, 4), 2, return_indices=True)
    with pytest.raises(GradIndexError, match=r"max_unpool2d: found an invalid max index \d+ .* 2x2 = 4"):
        F.max_unpool2d(y, idx, 1)           # kernel 1: a 2x2 output, but the indices point into 4x4
    with pytest.raises(DTypeError, match=r"max_unpool2d: indices must be an integer tensor"):
        F.max_unpool2d(y, idx.float(), 2)
    with pytest.raises(ShapeError, match=r"max_unpool2d: indices must have the shape of the input"):
        F.max_unpool2d(y, idx[:, :, :1], 2)
    with pytest.raises(ValueError, match=r"max_unpool2d: invalid output_size \(6, 4\) \(dim 0 must be betwe"):
        F.max_unpool2d(y, idx, 2, output_size=(6, 4))
    with pytest.raises(ValueError, match=r"max_unpool2d: output_size should be a sequence containing 2 or 4"):
        F.max_unpool2d(y, idx, 2, output_size=(1, 4, 4))
