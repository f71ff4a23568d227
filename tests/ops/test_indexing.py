"""Indexing ops through the harness: getitem (ints, slices, None, ..., integer arrays with repeated
indices, bool masks), gather/take_along_dim, index_select, embedding, one_hot, masked_fill."""
import warnings

import numpy as np
import pytest

import gradus

from .harness import OpCase, distinct, nonzero, op, op_tests

_IDX = np.array([0, 2, 2, 1, 0])            # repeated indices: the gradient must accumulate
_ROWS, _COLS = np.array([0, 0, 1]), np.array([2, 2, 0])
_MASK = np.array([[True, False, True], [False, False, True]])
_GATHER = np.array([[0, 0, 2], [1, 1, 1]])
_TOKENS = np.array([[1, 3, 1], [0, 1, 2]])


def _x(rng, shape):
    return rng.standard_normal(shape)


CASES = [
    *op("getitem_int", lambda x: x[1], lambda x: x[1], [(3,), (3, 2)]),
    *op("getitem_negint", lambda x: x[-1, 0], lambda x: x[-1, 0], [(3, 2)]),
    *op("getitem_slice", lambda x: x[1:], lambda x: x[1:], [(3,), (3, 2)]),
    *op("getitem_step", lambda x: x[::2, 1:], lambda x: x[::2, 1:], [(5, 3)]),
    *op("getitem_none", lambda x: x[None, :, None], lambda x: x[None, :, None], [(3,), (2, 2)]),
    *op("getitem_ellipsis", lambda x: x[..., 1], lambda x: x[..., 1], [(3, 2), (2, 1, 3)]),
    *op("getitem_0d_ellipsis", lambda x: x[...], lambda x: x[...], [()]),
    *op("getitem_0d_none", lambda x: x[None], lambda x: x[None], [()]),
    *op("getitem_intarray_rep", lambda x: x[_IDX], lambda x: x[_IDX], [(3,), (3, 2)]),
    *op("getitem_list", lambda x: x[[1, 1, 0]], lambda x: x[[1, 1, 0]], [(2, 3)]),
    *op("getitem_tensor_index", lambda x: x[gradus.tensor(_IDX)], lambda x: x[_IDX], [(4,)]),
    *op("getitem_two_arrays", lambda x: x[_ROWS, _COLS], lambda x: x[_ROWS, _COLS], [(2, 3)]),
    *op("getitem_slice_array", lambda x: x[:, _IDX], lambda x: x[:, _IDX], [(2, 3)]),
    *op("getitem_mixed", lambda x: x[1:, None, [0, 0]], lambda x: x[1:, None, [0, 0]], [(3, 2)]),
    *op("getitem_mask", lambda x: x[gradus.tensor(_MASK)], lambda x: x[_MASK], [(2, 3), (2, 3, 2)]),
    *op("getitem_mask_rows", lambda x: x[gradus.tensor([True, False, True])],
        lambda x: x[[True, False, True]], [(3,), (3, 2)]),
    *op("getitem_value_mask", lambda x: x[x > 0], lambda x: x[x > 0], [(2, 3)]),
    *op("gather", lambda x: x.gather(1, gradus.tensor(_GATHER)), lambda x: np.take_along_axis(x, _GATHER, 1),
        [(2, 3), (2, 4)]),
    *op("gather_dim0", lambda x: gradus.gather(x, 0, _GATHER[:, :2]),
        lambda x: np.take_along_axis(x, _GATHER[:, :2], 0), [(3, 2)]),
    *op("take_along_dim", lambda x: gradus.take_along_dim(x, gradus.tensor(_GATHER), 1),
        lambda x: np.take_along_axis(x, _GATHER, 1), [(2, 3)]),
    *op("take_along_dim_flat", lambda x: gradus.take_along_dim(x, gradus.tensor(_IDX)),
        lambda x: x.reshape(-1)[_IDX], [(2, 3)]),
    *op("index_select", lambda x: x.index_select(0, gradus.tensor(_IDX)), lambda x: x[_IDX], [(3,), (3, 2)]),
    *op("index_select_dim1", lambda x: gradus.index_select(x, 1, gradus.tensor(_IDX)), lambda x: x[:, _IDX],
        [(2, 3), (2, 3, 2)]),
    *op("index_select_negative", lambda x: x.index_select(0, gradus.tensor([-1, 2, 0])),
        lambda x: x[[2, 2, 0]], [(3, 2)]),
    *op("embedding", lambda w: gradus.embedding(gradus.tensor(_TOKENS), w), lambda w: w[_TOKENS], [(4, 3)]),
    *op("embedding_1d", lambda w: gradus.embedding(gradus.tensor(_IDX), w), lambda w: w[_IDX], [(3, 2)]),
    *op("masked_fill", lambda x: x.masked_fill(gradus.tensor(_MASK), -1.5),
        lambda x: np.where(_MASK, -1.5, x), [(2, 3), (4, 2, 3)]),
    *op("masked_fill_bcast", lambda x: gradus.masked_fill(x, gradus.tensor([True, False, False]), 0.0),
        lambda x: np.where([True, False, False], 0.0, x), [(2, 3)]),
    *op("scatter_add", lambda x, s: gradus.scatter_add(x, 1, gradus.tensor(_GATHER), s),
        lambda x, s: _scatter_add_np(x, 1, _GATHER, s), [((2, 3), (2, 3))]),
    OpCase("one_hot", lambda: gradus.one_hot(gradus.tensor(_IDX), 4), lambda: np.eye(4, dtype=np.int64)[_IDX],
           shapes=(), gens=(), order=0),  # no float input: forward only
]

# -- PyTorch's placement of index-tensor dims when integers are mixed in (ints apply first) --------
_D = np.array([0, 2, 1, 2, 0, 1]).reshape(2, 1, 1, 3, 1, 1)   # broadcasts over 6 dims, repeats
_I2 = np.array([1, 0, 1])
CASES += [
    *op("getitem_int_slice_array", lambda x: x[0, :, gradus.tensor(_IDX)], lambda x: x[0][:, _IDX],
        [(2, 3, 4), (2, 2, 3, 2)]),
    *op("getitem_int_slices_array", lambda x: x[1, :, 1:5:2, gradus.tensor(_D), 0:2],
        lambda x: x[1][:, 1:5:2, _D, 0:2], [(2, 2, 5, 3, 3, 2)]),
    *op("getitem_slice_int_slice_array", lambda x: x[:, 0, :, gradus.tensor(_I2)],
        lambda x: x[:, 0][:, :, _I2], [(2, 3, 2, 2)]),
    *op("getitem_array_int_array", lambda x: x[gradus.tensor(_I2), 1, gradus.tensor(_I2)],
        lambda x: x[_I2, 1, _I2], [(2, 3, 2, 2)]),
    *op("getitem_0d_tensor_as_int", lambda x: x[gradus.tensor(1), :, gradus.tensor(_I2)],
        lambda x: x[1][:, _I2], [(2, 3, 2)]),
    *op("getitem_empty_ellipsis", lambda x: x[:, gradus.tensor(_I2), ..., gradus.tensor(_I2)],
        lambda x: x[:, _I2, _I2], [(2, 2, 2)]),
    *op("getitem_int_none_array", lambda x: x[0, None, :, gradus.tensor(_I2)],
        lambda x: x[0][None, :, _I2], [(2, 3, 2)]),
    *op("getitem_int_mask", lambda x: x[1, gradus.tensor(_MASK)], lambda x: x[1][_MASK], [(2, 2, 3)]),
    *op("take", lambda x: x.take(gradus.tensor([[0, 5], [-1, 0]])), lambda x: np.take(x, [[0, 5], [-1, 0]]),
        [(2, 3), (6,)]),
    *op("take_fn", lambda x: gradus.take(x, gradus.tensor(_IDX)), lambda x: np.take(x, _IDX), [(3,), (1, 3)]),
]


# -- scatter family: a literal NumPy reading of PyTorch's definitions (small inputs: loops are fine) --
def _scatter_np(x, dim, index, src, reduce=None, include_self=True):
    out = x.copy()
    src = np.broadcast_to(src, index.shape) if np.ndim(src) == 0 else src
    groups = {}
    for pos in np.ndindex(*index.shape):
        tgt = list(pos)
        tgt[dim] = index[pos]
        groups.setdefault(tuple(tgt), []).append(src[pos])
    for tgt, vals in groups.items():
        vals = ([x[tgt]] if include_self and reduce is not None else []) + vals
        fn = {None: lambda v: v[-1], "sum": sum, "prod": np.prod, "mean": np.mean, "amax": max, "amin": min}
        out[tgt] = fn[reduce](vals)
    return out


def _index_add_np(x, dim, index, src, alpha=1.0):
    out = x.copy()
    np.add.at(out, (slice(None),) * dim + (index,), alpha * src)
    return out


def _index_copy_np(x, dim, index, src):
    out = x.copy()
    out[(slice(None),) * dim + (index,)] = src
    return out


def _masked_scatter_np(x, mask, src):
    shape = np.broadcast_shapes(x.shape, mask.shape)
    out, m = np.broadcast_to(x, shape).copy(), np.broadcast_to(mask, shape)
    out[m] = src.reshape(-1)[: m.sum()]
    return out


_UNIQ = np.array([[2, 0, 1], [0, 2, 2]])          # scatter into (3, 3) along dim 0: no target twice
_UNIQ1 = np.array([[1, 0], [0, 2], [2, 1]])       # along dim 1 into (3, 3), index smaller than src
_ROWS3 = np.array([2, 0, 3])
_REP = np.array([3, 0, 3, 3])


def _one_zero(rng, shape):
    """Nonzero values but src[0, 0], the only zero at its target (prod's exclusive product)."""
    a = nonzero(rng, shape)
    a[0, 0] = 0.0
    return a


def _self_zero(rng, shape):
    a = nonzero(rng, shape)
    a[1, 1] = 0.0
    return a


def _two_zeros(rng, shape):
    a = nonzero(rng, shape)
    a[0, 0] = a[0, 1] = 0.0  # both reduce into (0, 0) under _GATHER along dim 1
    return a


def _nonfinite(rng, shape):
    a = rng.standard_normal(shape)
    a.flat[0], a.flat[1], a.flat[-1] = np.nan, np.inf, -np.inf
    return a


def _quiet(fn, *args, **kw):
    """Call without the (PyTorch's) deprecation warning of scatter(..., reduce=) with a src tensor."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return fn(*args, **kw)


_RED = ("sum", "prod", "mean", "amax", "amin")
CASES += [
    *op("scatter", lambda x, s: x.scatter(0, gradus.tensor(_UNIQ), s),
        lambda x, s: _scatter_np(x, 0, _UNIQ, s[:2, :3]), [((3, 3), (2, 3)), ((4, 3), (3, 4))]),
    *op("scatter_dim1_small_index", lambda x, s: gradus.scatter(x, 1, gradus.tensor(_UNIQ1), s),
        lambda x, s: _scatter_np(x, 1, _UNIQ1, s[:3, :2]), [((3, 3), (3, 3))]),
    *op("scatter_value", lambda x: x.scatter(0, gradus.tensor(_GATHER), 1.5),
        lambda x: _scatter_np(x, 0, _GATHER, 1.5), [(3, 3), (3, 4)]),
    *op("scatter_value_kw", lambda x: gradus.scatter(x, 1, gradus.tensor(_GATHER), value=-2.0),
        lambda x: _scatter_np(x, 1, _GATHER, -2.0), [(2, 3)]),
    *op("scatter_0d", lambda x, s: x.scatter(0, gradus.tensor(0), s), lambda x, s: s, [((), ())]),
    *op("scatter_add_method", lambda x, s: x.scatter_add(1, gradus.tensor(_GATHER), s),
        lambda x, s: _scatter_np(x, 1, _GATHER, s, "sum"), [((2, 3), (2, 3)), ((2, 4), (3, 5))]),
    *op("scatter_reduce_add", lambda x, s: _quiet(x.scatter, 1, gradus.tensor(_GATHER), s, reduce="add"),
        lambda x, s: _scatter_np(x, 1, _GATHER, s, "sum"), [((2, 3), (2, 3))]),
    *op("scatter_reduce_multiply", lambda x: x.scatter(1, gradus.tensor(_GATHER), 1.5, reduce="multiply"),
        lambda x: _scatter_np(x, 1, _GATHER, 1.5, "prod"), [(2, 3)]),
    *[c for r in _RED for inc in (True, False) for c in op(
        f"scatter_reduce_{r}_{'self' if inc else 'noself'}",
        lambda x, s, r=r, inc=inc: x.scatter_reduce(1, gradus.tensor(_GATHER), s, r, include_self=inc),
        lambda x, s, r=r, inc=inc: _scatter_np(x, 1, _GATHER, s[:2, :3], r, inc),
        [((2, 3), (2, 3)), ((3, 4), (2, 4))], gen=distinct if r in ("amax", "amin") else nonzero)],
    *op("scatter_reduce_prod_zero",
        lambda x, s: gradus.scatter_reduce(x, 1, gradus.tensor(_GATHER), s, "prod"),
        lambda x, s: _scatter_np(x, 1, _GATHER, s, "prod"), [((2, 3), (2, 3))], gen=(_self_zero, _one_zero)),
    *op("scatter_reduce_prod_zero_noself",
        lambda x, s: gradus.scatter_reduce(x, 1, gradus.tensor(_GATHER), s, "prod", include_self=False),
        lambda x, s: _scatter_np(x, 1, _GATHER, s, "prod", False), [((2, 3), (2, 3))],
        gen=(_self_zero, _one_zero)),
    *op("scatter_reduce_prod_two_zeros", lambda x, s: x.scatter_reduce(1, gradus.tensor(_GATHER), s, "prod"),
        lambda x, s: _scatter_np(x, 1, _GATHER, s, "prod"), [((2, 3), (2, 3))], gen=(nonzero, _two_zeros),
        order=1),  # second derivative refused, as PyTorch
    *op("index_add", lambda x, s: x.index_add(0, gradus.tensor(_REP), s),
        lambda x, s: _index_add_np(x, 0, _REP, s), [((4, 2), (4, 2)), ((5,), (4,))]),
    *op("index_add_alpha_dim1", lambda x, s: gradus.index_add(x, 1, gradus.tensor(_ROWS3), s, alpha=-2.5),
        lambda x, s: _index_add_np(x, 1, _ROWS3, s, -2.5), [((2, 4), (2, 3)), ((1, 4, 2), (1, 3, 2))]),
    *op("index_copy", lambda x, s: x.index_copy(0, gradus.tensor(_ROWS3), s),
        lambda x, s: _index_copy_np(x, 0, _ROWS3, s), [((4, 2), (3, 2)), ((4,), (3,))]),
    *op("index_copy_dim1", lambda x, s: gradus.index_copy(x, 1, gradus.tensor(_ROWS3), s),
        lambda x, s: _index_copy_np(x, 1, _ROWS3, s), [((2, 4), (2, 3))]),
    *op("masked_scatter", lambda x, s: x.masked_scatter(gradus.tensor(_MASK), s),
        lambda x, s: _masked_scatter_np(x, _MASK, s),
        [((2, 3), (2, 3)), ((2, 3), (5,)), ((4, 2, 3), (3, 3, 3))]),
    *op("masked_scatter_bcast", lambda x, s: gradus.masked_scatter(x, gradus.tensor(_MASK), s),
        lambda x, s: _masked_scatter_np(x, _MASK, s), [((3,), (2, 3)), ((1, 3), (4,))]),
    *op("nan_to_num", lambda x: x.nan_to_num(nan=0.5, posinf=3.0, neginf=-4.0),
        lambda x: np.nan_to_num(x, nan=0.5, posinf=3.0, neginf=-4.0), [(2, 3), (5,)], gen=_nonfinite),
    *op("nan_to_num_finite", lambda x: gradus.nan_to_num(x), np.nan_to_num, [(), (2, 3)]),
]

test_forward, test_backward, test_double_backward, test_cuda = op_tests(CASES)


def _scatter_add_np(x, dim, index, src):
    out = x.copy()
    for i in range(index.shape[0]):
        for j in range(index.shape[1]):
            if dim == 1:
                out[i, index[i, j]] += src[i, j]
            else:
                out[index[i, j], j] += src[i, j]
    return out


def test_one_hot_infers_classes():
    y = gradus.one_hot(gradus.tensor([0, 2, 1]))
    assert y.dtype == np.int64 and y.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]


def test_index_errors_name_index_and_size():
    x = gradus.ones(3, 2)
    with pytest.raises(IndexError, match=r"index 3 is out of range for dimension 0 with size 3"):
        x[3]
    with pytest.raises(IndexError, match=r"index -4 is out of range for dimension 0 with size 3"):
        x[-4]
    with pytest.raises(IndexError, match=r"index 5 is out of range for dimension 1 with size 2"):
        x[:, [0, 5]]
    with pytest.raises(IndexError, match=r"index 3 is out of range for dimension 0 with size 3"):
        x.index_select(0, gradus.tensor([0, 3]))
    with pytest.raises(IndexError, match=r"index 7 is out of range for an embedding table of 3 rows"):
        gradus.embedding(gradus.tensor([7]), x)
    with pytest.raises(IndexError, match=r"index 2 is out of range for dimension 1 with size 2"):
        x.gather(1, gradus.tensor([[2], [0], [0]]))
    with pytest.raises(IndexError, match="boolean mask of shape"):
        x[gradus.tensor([True, False])]


def test_scatter_reduce_prod_refuses_second_derivative_with_two_zeros():
    x = gradus.tensor(np.ones((2, 3)), requires_grad=True)
    s = gradus.tensor(np.array([[0.0, 0.0, 2.0], [1.0, 2.0, 3.0]]), requires_grad=True)
    y = x.scatter_reduce(1, gradus.tensor(_GATHER), s, "prod")
    (gs,) = gradus.autograd.grad(y.sum(), [s], create_graph=True)
    np.testing.assert_array_equal(gs.numpy(), [[0.0, 0.0, 1.0], [6.0, 3.0, 2.0]])
    with pytest.raises(gradus.errors.AutogradError, match="two or more zeros"):
        gradus.autograd.grad(gs.sum(), [s])


def test_mixed_index_setitem_uses_pytorch_layout():
    x = gradus.zeros(2, 3, 4)
    x[0, :, [1, 3]] = gradus.tensor(np.arange(6.0, dtype=np.float32).reshape(3, 2))  # (3, 2) as PyTorch
    np.testing.assert_array_equal(x.numpy()[0][:, [1, 3]], np.arange(6.0).reshape(3, 2))
    assert x.numpy()[1].sum() == 0


def test_negative_slice_step_is_refused():
    with pytest.raises(ValueError, match="step must be greater than zero"):
        gradus.ones(3)[::-1]
