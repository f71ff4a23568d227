"""Reductions through the harness: dim None / int / negative / tuple, keepdim, 0-d inputs."""
import numpy as np
import pytest

import gradus

from .harness import distinct, nonzero, op, op_tests, with_zeros

SHAPES = [(), (1,), (4,), (2, 3), (2, 1, 3)]
ND = [(2, 3), (2, 1, 3), (3, 1)]


def _lse(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    y = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return y if keepdims else np.squeeze(y, axis=axis) if axis is not None else y.reshape(())


def _np_max_dim(x, axis, keepdims, is_max=True):
    i = (np.argmax if is_max else np.argmin)(x, axis=axis, keepdims=True)
    v = np.take_along_axis(x, i, axis=axis)
    return (v, i) if keepdims else (v.squeeze(axis), i.squeeze(axis))


def _np_cum_arg(x, axis, is_max):
    """Running max/min and the index where it was reached (distinct values: no ties)."""
    v = (np.maximum if is_max else np.minimum).accumulate(x, axis=axis)
    pos = np.arange(x.shape[axis]).reshape([-1 if i == axis else 1 for i in range(x.ndim)])
    i = np.maximum.accumulate(np.where(x == v, pos, 0), axis=axis)
    return v, i


CASES = [
    *op("sum", lambda x: x.sum(), np.sum, SHAPES),
    *op("sum_0d_dim0", lambda x: x.sum(0), np.sum, [()]),
    *op("sum_dim0", lambda x: x.sum(0), lambda x: x.sum(0), ND),
    *op("sum_dim-1_keep", lambda x: x.sum(-1, keepdim=True), lambda x: x.sum(-1, keepdims=True), ND),
    *op("sum_dims", lambda x: gradus.sum(x, (0, 2)), lambda x: x.sum((0, 2)), [(2, 1, 3), (2, 2, 2)]),
    *op("sum_dims_keep", lambda x: x.sum((0, -1), keepdim=True), lambda x: x.sum((0, -1), keepdims=True),
        [(2, 1, 3)]),
    *op("mean", lambda x: x.mean(), np.mean, SHAPES),
    *op("mean_dim", lambda x: x.mean(1), lambda x: x.mean(1), ND),
    *op("mean_dims_keep", lambda x: gradus.mean(x, (0, 1), keepdim=True),
        lambda x: x.mean((0, 1), keepdims=True), ND),
    *op("mean_0d_dim", lambda x: x.mean(-1), np.mean, [()]),
    *op("var", lambda x: x.var(), lambda x: x.var(ddof=1), [(4,), (2, 3)]),
    *op("var_dim", lambda x: gradus.var(x, 1), lambda x: x.var(1, ddof=1), [(2, 3), (3, 2, 2)]),
    *op("var_c0_keep", lambda x: x.var(0, keepdim=True, correction=0), lambda x: x.var(0, keepdims=True),
        [(3,), (3, 2)]),
    *op("var_unbiased_false", lambda x: x.var(unbiased=False), lambda x: x.var(), [(5,), (2, 2)]),
    *op("std", lambda x: x.std(), lambda x: x.std(ddof=1), [(4,), (2, 3)]),
    *op("std_dim", lambda x: gradus.std(x, -1, keepdim=True), lambda x: x.std(-1, ddof=1, keepdims=True),
        [(2, 3), (2, 2, 4)]),
    *op("std_c0", lambda x: x.std((0, 1), correction=0), lambda x: x.std((0, 1)), [(2, 3, 2)]),
    *op("std_constant_rows", lambda x: x.std(1), lambda x: x.std(1, ddof=1), [(2, 3)],
        gen=lambda rng, s: np.array([[1.0, 1.0, 1.0], [0.5, -1.0, 2.0]]), order=1),  # grad 0 at std = 0
    *op("prod", lambda x: x.prod(), np.prod, SHAPES, gen=nonzero),
    *op("prod_dim", lambda x: x.prod(1), lambda x: x.prod(1), ND, gen=nonzero),
    *op("prod_dims_keep", lambda x: x.prod((0, 2), keepdim=True), lambda x: x.prod((0, 2), keepdims=True),
        [(2, 2, 3)], gen=nonzero),
    *op("prod_zeros", lambda x: x.prod(), np.prod, [(4,), (2, 3)], gen=with_zeros),
    *op("prod_zeros_dim", lambda x: x.prod(-1), lambda x: x.prod(-1), [(3, 4), (2, 2, 3)], gen=with_zeros),
    *op("prod_one_zero", lambda x: x.prod(0), lambda x: x.prod(0),
        [(3, 2)], gen=lambda rng, s: np.array([[0.0, 2.0], [1.5, 0.0], [-0.7, 0.0]])),
    *op("max", lambda x: x.max(), np.max, SHAPES, gen=distinct),
    *op("min", lambda x: gradus.min(x), np.min, SHAPES, gen=distinct),
    *op("max_dim", lambda x: tuple(x.max(1)), lambda x: _np_max_dim(x, 1, False), ND, gen=distinct),
    *op("max_dim_keep", lambda x: tuple(x.max(dim=-1, keepdim=True)), lambda x: _np_max_dim(x, -1, True),
        ND, gen=distinct),
    *op("min_dim", lambda x: tuple(x.min(0)), lambda x: _np_max_dim(x, 0, False, False), ND, gen=distinct),
    *op("min_dim_keep", lambda x: tuple(gradus.min(x, 1, keepdim=True)),
        lambda x: _np_max_dim(x, 1, True, False), ND, gen=distinct),
    *op("max_0d_dim", lambda x: tuple(x.max(0)), lambda x: (x, np.array(0)), [()], gen=distinct),
    *op("amax_dims", lambda x: gradus.amax(x, (0, 2)), lambda x: x.max((0, 2)),
        [(2, 2, 3)], gen=distinct),
    *op("amin_keep", lambda x: gradus.amin(x, -1, keepdim=True), lambda x: x.min(-1, keepdims=True), ND,
        gen=distinct),
    *op("argmax", lambda x: x.argmax(), lambda x: np.array(np.argmax(x)), SHAPES, gen=distinct, order=0),
    *op("argmax_dim", lambda x: x.argmax(1), lambda x: np.argmax(x, 1), ND, gen=distinct, order=0),
    *op("argmax_keep", lambda x: gradus.argmax(x, -1, keepdim=True),
        lambda x: np.argmax(x, -1, keepdims=True), ND, gen=distinct, order=0),
    *op("argmin", lambda x: gradus.argmin(x), lambda x: np.array(np.argmin(x)), SHAPES, gen=distinct,
        order=0),
    *op("argmin_dim", lambda x: x.argmin(0), lambda x: np.argmin(x, 0), ND, gen=distinct, order=0),
    *op("logsumexp", lambda x: x.logsumexp(), _lse, SHAPES),
    *op("logsumexp_dim", lambda x: gradus.logsumexp(x, 1), lambda x: _lse(x, 1), ND),
    *op("logsumexp_keep", lambda x: x.logsumexp((0, -1), keepdim=True), lambda x: _lse(x, (0, -1), True), ND),
    *op("logsumexp_big", lambda x: x.logsumexp(-1), lambda x: _lse(x, -1), [(2, 3)],
        gen=lambda rng, s: rng.standard_normal(s) + 500.0),
    *op("cumsum", lambda x: x.cumsum(0), lambda x: np.cumsum(x, 0), [(4,), (2, 3), (1, 3)]),
    *op("cumsum_last", lambda x: gradus.cumsum(x, -1), lambda x: np.cumsum(x, -1), [(2, 3), (2, 1, 3)]),
    *op("cumsum_0d", lambda x: x.cumsum(0), lambda x: x.copy(), [()]),
    # cumulative products, maxima, log-sum-exp
    *op("cumprod", lambda x: x.cumprod(0), lambda x: np.cumprod(x, 0), [(4,), (2, 3), (1, 3)], gen=nonzero),
    *op("cumprod_last", lambda x: gradus.cumprod(x, -1), lambda x: np.cumprod(x, -1), [(2, 4), (2, 1, 3)],
        gen=nonzero),
    *op("cumprod_zeros", lambda x: x.cumprod(1), lambda x: np.cumprod(x, 1), [(3, 5), (2, 4, 2)],
        gen=with_zeros),
    *op("cumprod_zero_patterns", lambda x: x.cumprod(-1), lambda x: np.cumprod(x, -1), [(4, 4)],
        gen=lambda rng, s: np.array([[0.0, 2.0, -1.5, 0.7], [1.2, 0.0, 0.0, 3.0], [0.5, -2.0, 1.1, 0.0],
                                     [0.0, 0.0, 0.0, 0.0]])),
    *op("cumprod_0d", lambda x: x.cumprod(0), lambda x: x.copy(), [()]),
    *op("cummax", lambda x: tuple(x.cummax(1)), lambda x: _np_cum_arg(x, 1, True), ND, gen=distinct),
    *op("cummin", lambda x: tuple(gradus.cummin(x, 0)), lambda x: _np_cum_arg(x, 0, False), ND, gen=distinct),
    *op("cummax_0d", lambda x: tuple(x.cummax(-1)), lambda x: (x.copy(), np.array(0)), [()]),
    *op("logcumsumexp", lambda x: x.logcumsumexp(-1), lambda x: np.logaddexp.accumulate(x, -1),
        [(4,), (2, 3), (2, 1, 3)]),
    *op("logcumsumexp_big", lambda x: gradus.logcumsumexp(x, 0), lambda x: np.logaddexp.accumulate(x, 0),
        [(3, 2)], gen=lambda rng, s: rng.standard_normal(s) * 3 + 600.0),
    # vector norms other than 1 and 2
    *op("norm_p3", lambda x: x.norm(3), lambda x: np.sum(np.abs(x) ** 3) ** (1 / 3), SHAPES[1:], gen=nonzero),
    *op("norm_p3_dim", lambda x: gradus.norm(x, 3, 1, keepdim=True),
        lambda x: np.sum(np.abs(x) ** 3, 1, keepdims=True) ** (1 / 3), ND, gen=nonzero),
    *op("norm_p1.5", lambda x: x.norm(p=1.5, dim=0), lambda x: np.sum(np.abs(x) ** 1.5, 0) ** (1 / 1.5), ND,
        gen=nonzero),
    *op("norm_p0.5", lambda x: x.norm(0.5), lambda x: np.sum(np.abs(x) ** 0.5) ** 2, [(4,), (2, 3)],
        gen=nonzero),
    *op("norm_p-1", lambda x: x.norm(-1, dim=-1), lambda x: np.sum(np.abs(x) ** -1.0, -1) ** -1.0, ND,
        gen=nonzero),
    *op("norm_inf", lambda x: x.norm(float("inf"), dim=1), lambda x: np.abs(x).max(1), ND, gen=distinct),
    *op("norm_-inf", lambda x: x.norm(-float("inf")), lambda x: np.abs(x).min(), [(4,), (2, 3)],
        gen=distinct),
    *op("norm_p0", lambda x: x.norm(0, dim=1), lambda x: np.count_nonzero(x, 1).astype(x.dtype), ND,
        gen=with_zeros, order=1),
    # NumPy's axis / keepdims spellings
    *op("sum_axis", lambda x: x.sum(axis=1, keepdims=True), lambda x: x.sum(1, keepdims=True), ND),
    *op("mean_axis", lambda x: gradus.mean(x, axis=(0, 1)), lambda x: x.mean((0, 1)), ND),
    *op("std_axis", lambda x: x.std(axis=-1), lambda x: x.std(-1, ddof=1), [(2, 3)]),
    *op("logsumexp_axis", lambda x: gradus.logsumexp(x, axis=0, keepdims=True), lambda x: _lse(x, 0, True),
        ND),
    *op("max_axis", lambda x: tuple(x.max(axis=1)), lambda x: _np_max_dim(x, 1, False), ND, gen=distinct),
    *op("cumsum_axis", lambda x: gradus.cumsum(x, axis=0), lambda x: np.cumsum(x, 0), ND),
]

test_forward, test_backward, test_double_backward, test_cuda = op_tests(CASES)


def test_integer_sum_is_int64_and_mean_needs_float():
    x = gradus.tensor([[1, 2], [3, 4]], dtype=gradus.int32)
    assert x.sum().dtype == np.int64 and x.sum().item() == 10
    assert gradus.tensor([True, True, False]).sum().item() == 2
    with pytest.raises(TypeError, match="floating point"):
        x.mean()


def test_dim_out_of_range_names_the_dim():
    with pytest.raises(IndexError, match="dim 2 is out of range"):
        gradus.ones(2, 3).sum(2)
    with pytest.raises(IndexError, match="dim 1 is out of range"):
        gradus.tensor(1.0).sum(1)


def test_max_of_empty_raises():
    with pytest.raises(ValueError, match="empty"):
        gradus.zeros(0).max()


def test_std_and_norm_keep_nan_and_zero_subgradient():
    assert np.isnan(gradus.tensor([1.0, float("nan")]).std().item())
    x = gradus.tensor([[1.0, 1.0], [0.0, 0.0]], requires_grad=True)
    (x.std(1).sum() + x.norm(dim=1).sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.5 ** 0.5] * 2, [0.0, 0.0]])  # no NaN at std = 0 / norm = 0


def test_numpy_spellings_axis_and_keepdims():
    x = gradus.tensor(np.arange(6.0).reshape(2, 3))
    assert x.sum(axis=1).tolist() == [3.0, 12.0] and x.sum(axis=0, keepdims=True).shape == (1, 3)
    assert gradus.amax(x, axis=1, keepdims=True).tolist() == [[2.0], [5.0]]
    assert x.argmax(axis=1).tolist() == [2, 2] and x.cumsum(axis=1).tolist() == [[0, 1, 3], [3, 7, 12]]
    assert x.max(axis=0).indices.tolist() == [1, 1, 1] and x.count_nonzero(axis=1).tolist() == [2, 3]
    with pytest.raises(TypeError, match="both dim=0 and axis=1"):
        x.sum(0, axis=1)
    with pytest.raises(TypeError, match="keepdims is NumPy's name for keepdim"):
        x.mean(1, keepdim=True, keepdims=True)


def test_invalid_dtype_is_a_dtype_error():
    for bad in ("", "cuda", 3.5):
        with pytest.raises(gradus.errors.DTypeError, match=r"sum: dtype=.* is not a dtype"):
            gradus.ones(3).sum(dtype=bad)
    assert gradus.tensor([1, 2]).sum(dtype=gradus.float64).dtype == np.float64


def test_cummax_ties_nan_and_cumprod_gradient_with_zeros():
    v, i = gradus.tensor([1.0, 3.0, 3.0, 2.0, 5.0, 5.0]).cummax(0)
    assert v.tolist() == [1, 3, 3, 3, 5, 5] and i.tolist() == [0, 1, 2, 2, 4, 5]   # ties: the later index
    v, i = gradus.tensor([1.0, np.nan, 3.0, np.nan, 0.0]).cummin(0)
    assert np.isnan(v.numpy()[1:]).all() and i.tolist() == [0, 1, 1, 3, 3]         # NaN propagates
    x = gradus.tensor([2.0, 0.0, 3.0, 0.0, 5.0], requires_grad=True)
    x.cumprod(0).sum().backward()
    # d/dx_k sum_j prod_{i<=j} x_i: before the first zero as usual; at it, the products that skip it;
    # after it 0
    assert x.grad.tolist() == [1.0, 2.0 + 6.0 + 0.0 + 0.0, 0.0, 0.0, 0.0]


def test_norm_p0_counts_nonzeros_with_zero_gradient():
    x = gradus.tensor([[0.0, 2.0, -3.0], [0.0, 0.0, 1.0]], requires_grad=True)
    y = x.norm(0, dim=1)
    assert y.tolist() == [2.0, 1.0] and y.dtype == np.float32
    y.sum().backward()
    assert x.grad.tolist() == [[0.0] * 3] * 2
    with pytest.raises(gradus.errors.DTypeError, match="norm: expects a floating point"):
        gradus.tensor([1, 2]).norm()
