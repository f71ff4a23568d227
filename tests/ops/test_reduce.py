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
]

test_forward, test_backward, test_double_backward = op_tests(CASES)


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
