"""Indexing ops through the harness: getitem (ints, slices, None, ..., integer arrays with repeated
indices, bool masks), gather/take_along_dim, index_select, embedding, one_hot, masked_fill."""
import numpy as np
import pytest

import gradus

from .harness import OpCase, op, op_tests

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

test_forward, test_backward, test_double_backward = op_tests(CASES)


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
