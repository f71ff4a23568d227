"""Sorting and selection through the harness: sort/argsort/msort, topk, kthvalue, median, nanmedian,
mode (values and indices vs NumPy, gradcheck + gradgradcheck on distinct values), unique,
unique_consecutive, searchsorted, bucketize (forward only: integer results); then the rules the
harness does not see (NaN order, stability, ties, errors, the node names, topk's fast paths)."""
import numpy as np
import pytest

import gradus
from gradus.errors import DTypeError, GradIndexError, ShapeError

from .harness import distinct, op, op_tests

SHAPES = [(), (1,), (5,), (3, 4), (2, 3, 4)]
ND = [(3, 4), (2, 3, 4)]


# -- NumPy references ------------------------------------------------------------------------
def _np_sort(x, dim=-1, descending=False):
    if x.ndim == 0:
        return x.copy(), np.array(0)
    i = np.argsort(-x if descending else x, axis=dim, kind="stable")
    return np.take_along_axis(x, i, dim), i


def _np_topk(x, k, dim=-1, largest=True):
    v, i = _np_sort(x, dim, largest)
    sl = [slice(None)] * x.ndim
    sl[dim] = slice(0, k)
    return v[tuple(sl)], i[tuple(sl)]


def _np_pick(x, i, dim, keepdim):
    """(x[i], i) with ``i`` of kept shape, squeezed unless keepdim."""
    v = np.take_along_axis(x, i, dim)
    return (v, i) if keepdim else (v.squeeze(dim), i.squeeze(dim))


def _np_kth(x, k, dim=-1, keepdim=False):
    i = np.take(np.argsort(x, axis=dim, kind="stable"), [k - 1], axis=dim)
    return _np_pick(x, i, dim, keepdim)


def _np_median_dim(x, dim=-1, keepdim=False):
    return _np_kth(x, (x.shape[dim] - 1) // 2 + 1, dim, keepdim)


def _np_median(x):
    return np.sort(x.reshape(-1))[(x.size - 1) // 2]


def _np_mode(x, dim=-1, keepdim=False):
    """Slow and obvious: per row, the smallest of the most frequent values, at its last occurrence."""
    xm = np.moveaxis(x, dim, -1)
    flat = xm.reshape(-1, xm.shape[-1])
    idx = np.empty(flat.shape[0], dtype=np.int64)
    for r, row in enumerate(flat):
        vals, counts = np.unique(row, return_counts=True)
        v = vals[np.argmax(counts)]
        idx[r] = np.flatnonzero(row == v)[-1]
    i = np.moveaxis(idx.reshape(xm.shape[:-1] + (1,)), -1, dim)
    return _np_pick(x, i, dim, keepdim)


def small_ints(rng, shape):
    """Values in {0, 1, 2, 3} as floats: many ties (mode, unique)."""
    return rng.integers(0, 4, shape).astype(np.float64)


def sorted_row(rng, shape):
    """Non-decreasing along the last dim, with repeats (a searchsorted boundary sequence)."""
    return np.sort(rng.integers(-3, 4, shape).astype(np.float64) * 0.5, axis=-1)


def halves(rng, shape):
    """Values on the same half-integer grid as ``sorted_row``: hits boundaries exactly (left vs right)."""
    return rng.integers(-4, 5, shape).astype(np.float64) * 0.5


def _np_unique_dim(x, dim):
    u, inv, c = np.unique(x, axis=dim, return_inverse=True, return_counts=True)
    return u, inv.reshape(-1), c


def _np_unique_consecutive(x):
    f = x.reshape(-1)
    new = np.r_[True, f[1:] != f[:-1]] if f.size else np.zeros(0, bool)
    starts = np.flatnonzero(new)
    return f[starts], (np.cumsum(new) - 1).reshape(x.shape), np.diff(np.r_[starts, f.size])


CASES = [
    # sort / argsort / msort
    *op("sort", lambda x: tuple(x.sort()), _np_sort, SHAPES, gen=distinct),
    *op("sort_dim0", lambda x: tuple(gradus.sort(x, 0)), lambda x: _np_sort(x, 0), ND, gen=distinct),
    *op("sort_desc", lambda x: tuple(x.sort(dim=1, descending=True)), lambda x: _np_sort(x, 1, True), ND,
        gen=distinct),
    *op("sort_desc_last", lambda x: tuple(gradus.sort(x, -1, True, stable=True)),
        lambda x: _np_sort(x, -1, True), [(6,), (2, 5)], gen=distinct),
    *op("argsort", lambda x: x.argsort(), lambda x: _np_sort(x)[1], SHAPES, gen=distinct, order=0),
    *op("argsort_desc", lambda x: gradus.argsort(x, 0, descending=True), lambda x: _np_sort(x, 0, True)[1],
        ND, gen=distinct, order=0),
    *op("msort", lambda x: gradus.msort(x), lambda x: np.sort(x, 0), [(4,), (3, 2)], gen=distinct),
    # topk
    *op("topk", lambda x: tuple(x.topk(2)), lambda x: _np_topk(x, 2), [(5,), (3, 4), (2, 3, 4)],
        gen=distinct),
    *op("topk_k1", lambda x: tuple(x.topk(1)), lambda x: _np_topk(x, 1), [(5,), (3, 4)], gen=distinct),
    *op("topk_k1_smallest", lambda x: tuple(x.topk(1, largest=False)), lambda x: _np_topk(x, 1, -1, False),
        [(5,), (3, 4)], gen=distinct),
    *op("topk_all", lambda x: tuple(gradus.topk(x, 4)), lambda x: _np_topk(x, 4), [(3, 4)], gen=distinct),
    *op("topk_dim0_smallest", lambda x: tuple(gradus.topk(x, 2, dim=0, largest=False)),
        lambda x: _np_topk(x, 2, 0, False), ND, gen=distinct),
    *op("topk_unsorted", lambda x: x.topk(3, sorted=False).values.sort(descending=True).values,
        lambda x: _np_topk(x, 3)[0], [(6,), (2, 7)], gen=distinct),
    *op("topk_0d", lambda x: tuple(x.topk(1)), lambda x: (x.copy(), np.array(0)), [()], gen=distinct),
    *op("topk_k0", lambda x: tuple(x.topk(0)), lambda x: _np_topk(x, 0), [(3, 4)], gen=distinct, order=0),
    # kthvalue
    *op("kthvalue", lambda x: tuple(x.kthvalue(2)), lambda x: _np_kth(x, 2), [(5,), (3, 4), (2, 3, 4)],
        gen=distinct),
    *op("kthvalue_dim0_keep", lambda x: tuple(gradus.kthvalue(x, 3, 0, keepdim=True)),
        lambda x: _np_kth(x, 3, 0, True), [(3, 4), (4, 2, 3)], gen=distinct),
    *op("kthvalue_last", lambda x: tuple(x.kthvalue(4, dim=-1)), lambda x: _np_kth(x, 4), [(3, 4)],
        gen=distinct),
    *op("kthvalue_0d", lambda x: tuple(x.kthvalue(1)), lambda x: (x.copy(), np.array(0)), [()], gen=distinct),
    # median / nanmedian
    *op("median", lambda x: x.median(), _np_median, SHAPES, gen=distinct),
    *op("median_dim", lambda x: tuple(x.median(1)), lambda x: _np_median_dim(x, 1), ND, gen=distinct),
    *op("median_dim_keep", lambda x: tuple(gradus.median(x, -1, keepdim=True)),
        lambda x: _np_median_dim(x, -1, True), [(3, 4), (2, 3, 5)], gen=distinct),
    *op("median_0d_dim", lambda x: tuple(x.median(0)), lambda x: (x.copy(), np.array(0)), [()], gen=distinct),
    *op("nanmedian", lambda x: gradus.nanmedian(x), _np_median, [(5,), (3, 4)], gen=distinct),
    *op("nanmedian_dim", lambda x: tuple(x.nanmedian(0)), lambda x: _np_median_dim(x, 0), ND, gen=distinct),
    # mode: gradients where values are distinct (mode = the smallest, at its only index)
    *op("mode", lambda x: tuple(x.mode()), _np_mode, [(5,), (3, 4), (2, 3, 4)], gen=distinct),
    *op("mode_dim0_keep", lambda x: tuple(gradus.mode(x, 0, keepdim=True)), lambda x: _np_mode(x, 0, True),
        ND, gen=distinct),
    *op("mode_0d", lambda x: tuple(x.mode()), lambda x: (x.copy(), np.array(0)), [()], gen=distinct),
    *op("mode_ties", lambda x: tuple(x.mode()), _np_mode, [(9,), (4, 7), (3, 20), (2, 40)],
        gen=small_ints, order=0),
    *op("mode_ties_dim0", lambda x: tuple(gradus.mode(x, 0)), lambda x: _np_mode(x, 0), [(7, 3), (30, 2)],
        gen=small_ints, order=0),
    # unique / unique_consecutive (integer results: forward only)
    *op("unique", lambda x: x.unique(), np.unique, [(), (6,), (3, 4)], gen=small_ints, order=0),
    *op("unique_all", lambda x: gradus.unique(x, return_inverse=True, return_counts=True),
        lambda x: np.unique(x, return_inverse=True, return_counts=True), [(6,), (3, 4), (2, 2, 3)],
        gen=small_ints, order=0),
    *op("unique_counts", lambda x: gradus.unique(x, sorted=False, return_counts=True),
        lambda x: np.unique(x, return_counts=True), [(7,)], gen=small_ints, order=0),
    *op("unique_dim0", lambda x: gradus.unique(x, dim=0, return_inverse=True, return_counts=True),
        lambda x: _np_unique_dim(x, 0), [(6, 2), (5, 2, 2)],
        gen=lambda rng, s: rng.integers(0, 2, s).astype(np.float64), order=0),
    *op("unique_dim1", lambda x: x.unique(dim=1, return_inverse=True, return_counts=True),
        lambda x: _np_unique_dim(x, 1), [(2, 6)],
        gen=lambda rng, s: rng.integers(0, 2, s).astype(np.float64), order=0),
    *op("unique_consecutive", lambda x: x.unique_consecutive(return_inverse=True, return_counts=True),
        _np_unique_consecutive, [(8,), (3, 4)],
        gen=lambda rng, s: np.repeat(rng.integers(0, 3, s), 1).astype(np.float64), order=0),
    # searchsorted / bucketize
    *op("searchsorted", lambda s, v: gradus.searchsorted(s, v),
        lambda s, v: np.searchsorted(s, v), [((6,), (7,)), ((6,), (2, 3)), ((6,), ())],
        gen=(sorted_row, halves), order=0),
    *op("searchsorted_right", lambda s, v: gradus.searchsorted(s, v, right=True),
        lambda s, v: np.searchsorted(s, v, side="right"), [((6,), (7,))], gen=(sorted_row, halves), order=0),
    *op("searchsorted_side", lambda s, v: gradus.searchsorted(s, v, side="right", out_int32=True),
        lambda s, v: np.searchsorted(s, v, side="right"), [((5,), (2, 4))], gen=(sorted_row, halves),
        order=0),
    *op("searchsorted_nd", lambda s, v: gradus.searchsorted(s, v),
        lambda s, v: np.stack([np.searchsorted(a, b) for a, b in zip(s.reshape(-1, s.shape[-1]),
                                                                    v.reshape(-1, v.shape[-1]))]
                              ).reshape(v.shape),
        [((3, 6), (3, 4)), ((2, 2, 5), (2, 2, 3))], gen=(sorted_row, halves), order=0),
    *op("searchsorted_nd_right", lambda s, v: gradus.searchsorted(s, v, right=True),
        lambda s, v: np.stack([np.searchsorted(a, b, side="right") for a, b in zip(s, v)]),
        [((3, 6), (3, 4))], gen=(sorted_row, halves), order=0),
    *op("bucketize", lambda v, b: gradus.bucketize(v, b), lambda v, b: np.searchsorted(b, v),
        [((2, 3), (5,)), ((7,), (4,)), ((), (4,))], gen=(halves, sorted_row), order=0),
    *op("bucketize_right", lambda v, b: gradus.bucketize(v, b, right=True),
        lambda v, b: np.searchsorted(b, v, side="right"), [((2, 5), (5,))], gen=(halves, sorted_row),
        order=0),
]

test_forward, test_backward, test_double_backward, test_cuda = op_tests(CASES)


# -- what the harness does not see ----------------------------------------------------------
NAN = float("nan")


def test_nan_sorts_as_largest_and_sort_is_stable():
    x = gradus.tensor([3.0, 1.0, NAN, 3.0, 2.0, 1.0, NAN, 3.0])
    v, i = x.sort()
    assert i.tolist() == [1, 5, 4, 0, 3, 7, 2, 6]
    v, i = x.sort(descending=True)
    assert i.tolist() == [2, 6, 0, 3, 7, 4, 1, 5]   # ties keep input order descending too
    assert np.isnan(v.numpy()[:2]).all()
    assert x.topk(2).values.isnan().all().item()
    assert x.topk(3, largest=False).indices.tolist() == [1, 5, 4]
    assert x.topk(1, largest=False).indices.tolist() == [1]   # argmin fast path must skip NaN
    assert np.isnan(x.median().item()) and x.median(0).indices.item() == 2   # first NaN
    assert x.nanmedian().item() == 2.0
    assert x.kthvalue(7).indices.item() == 2


def test_integer_sorts_descending_without_overflow():
    x = gradus.tensor([np.iinfo(np.int64).min, 0, 5, np.iinfo(np.int64).min], dtype=gradus.int64)
    assert x.sort(descending=True).indices.tolist() == [2, 1, 0, 3]
    u = gradus.tensor([0, 255, 7], dtype=gradus.uint8)
    v, i = u.sort(descending=True)
    assert v.tolist() == [255, 7, 0] and v.dtype == gradus.uint8 and i.dtype == gradus.int64


def test_stable_sort_of_many_ties_matches_numpy_stable():
    a = np.random.default_rng(0).integers(0, 5, (4, 1000))
    x = gradus.tensor(a)
    np.testing.assert_array_equal(x.sort(stable=True).indices.numpy(), np.argsort(a, -1, kind="stable"))
    desc = a.shape[-1] - 1 - np.flip(np.argsort(np.flip(a, -1), -1, kind="stable"), -1)
    np.testing.assert_array_equal(x.sort(descending=True, stable=True).indices.numpy(), desc)


def test_topk_ties_sorted_by_index_and_consistent_with_values():
    x = gradus.tensor([[1.0, 3.0, 3.0, 2.0, 3.0, 0.0]])
    v, i = x.topk(4)
    assert v.tolist() == [[3.0, 3.0, 3.0, 2.0]] and i.tolist() == [[1, 2, 4, 3]]
    rng = np.random.default_rng(1)
    a = rng.integers(0, 10, (8, 300)).astype(np.float32)
    for k in (1, 5, 299, 300):
        for largest in (True, False):
            v, i = gradus.tensor(a).topk(k, largest=largest)
            np.testing.assert_array_equal(v.numpy(), np.take_along_axis(a, i.numpy(), -1))
            ref = np.sort(a, -1)[:, ::-1][:, :k] if largest else np.sort(a, -1)[:, :k]
            np.testing.assert_array_equal(v.numpy(), ref)
            assert (np.diff(i.numpy(), axis=-1)[np.diff(v.numpy(), axis=-1) == 0] > 0).all()


def test_median_of_ties_shares_the_gradient_and_dim_median_picks_one():
    x = gradus.tensor([2.0, 1.0, 2.0, 3.0, 2.0], requires_grad=True)
    x.median().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1 / 3, 0, 1 / 3, 0, 1 / 3])
    x = gradus.tensor([2.0, 1.0, NAN, 3.0, NAN], requires_grad=True)
    x.median().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0, 0, 0.5, 0, 0.5])
    x = gradus.tensor([[2.0, 1.0, 3.0], [5.0, 4.0, 6.0]], requires_grad=True)
    x.median(1).values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 0, 0], [1, 0, 0]])


def test_mode_rule():
    assert tuple(map(lambda t: t.item(), gradus.tensor([1.0, 2.0, 2.0, 1.0, 3.0]).mode())) == (1.0, 3)
    assert tuple(map(lambda t: t.item(), gradus.tensor([3, 2, 3, 2, 1, 2, 3]).mode())) == (2, 5)
    assert gradus.tensor([True, True, False]).mode().indices.item() == 1


def test_unique_keeps_nans_apart_and_dtypes():
    u, inv, c = gradus.tensor([NAN, 1.0, NAN]).unique(return_inverse=True, return_counts=True)
    assert u.numel() == 3 and inv.tolist() == [1, 0, 2] and c.tolist() == [1, 1, 1]
    u, inv = gradus.unique(gradus.tensor([3, 1], dtype=gradus.int32), return_inverse=True)
    assert u.dtype == gradus.int32 and inv.dtype == gradus.int64
    assert gradus.unique(gradus.tensor(2.5)).shape == (1,)
    u, inv, c = gradus.unique(gradus.zeros(2, 0), dim=1, return_inverse=True, return_counts=True)
    assert u.shape == (2, 0) and inv.shape == (0,) and c.shape == (0,)
    x = gradus.tensor([1.0, 2.0], requires_grad=True)
    assert not x.unique().requires_grad


def test_searchsorted_follows_torchs_search_on_unsorted_and_nan_sequences():
    s = gradus.tensor([1.0, 2.0, 2.0, 3.0, NAN])
    v = gradus.tensor([[0.0, 2.0, 2.5], [3.0, NAN, 9.0]])
    assert gradus.searchsorted(s, v).tolist() == [[0, 1, 5], [5, 5, 5]]      # torch 2.13's answers
    assert gradus.searchsorted(s, v, right=True).tolist() == [[0, 5, 5], [5, 5, 5]]
    u = gradus.tensor([3.0, 1.0, 2.0])
    got = gradus.searchsorted(u, gradus.tensor([1.5, 2.5]), sorter=gradus.tensor([1, 2, 0]))
    assert got.tolist() == [1, 2]
    r = gradus.searchsorted(gradus.tensor([1, 2, 3]), 2.5)
    assert r.shape == () and r.dtype == gradus.int64 and r.item() == 2
    assert gradus.searchsorted(gradus.zeros(2, 0), gradus.ones(2, 3)).tolist() == [[0] * 3] * 2


def test_node_names_and_values_are_differentiable_twice():
    x = gradus.tensor([[0.3, -1.2, 2.0, 0.7]], requires_grad=True)
    for y, name in ((x.sort().values, "Sort"), (x.topk(2).values, "TopK"), (x.kthvalue(2).values, "KthValue"),
                    (x.median(1).values, "Median"), (x.mode().values, "Mode"), (x.median(), "MedianAll")):
        assert y.grad_fn.name() == f"{name}Backward"
    (g,) = gradus.autograd.grad((x.topk(2).values ** 2).sum(), [x], create_graph=True)
    (gg,) = gradus.autograd.grad(g.sum(), [x])
    np.testing.assert_allclose(gg.numpy(), [[0, 0, 2, 2]])


def test_errors_name_the_op_and_argument():
    x = gradus.randn(2, 3)
    with pytest.raises(GradIndexError, match="topk: k=4 is out of range"):
        x.topk(4)
    with pytest.raises(GradIndexError, match="topk: k=-1"):
        x.topk(-1)
    with pytest.raises(GradIndexError, match="dim 2 is out of range"):
        x.sort(2)
    with pytest.raises(GradIndexError, match="kthvalue: k=0"):
        x.kthvalue(0)
    with pytest.raises(GradIndexError, match="kthvalue: k=4"):
        x.kthvalue(4)
    with pytest.raises(TypeError, match="k must be an int"):
        x.topk(2.0)
    with pytest.raises(DTypeError, match="bool"):
        gradus.tensor([True, False]).topk(1)
    with pytest.raises(DTypeError, match="bool"):
        gradus.tensor([True, False]).median()
    with pytest.raises(GradIndexError, match="non-zero size"):
        gradus.zeros(2, 0).median(1)
    with pytest.raises(GradIndexError, match="non-zero size"):
        gradus.zeros(0).mode()
    with pytest.raises(TypeError, match="keepdim needs a dim"):
        x.median(keepdim=True)
    assert np.isnan(gradus.zeros(0).median().item())
    with pytest.raises(ShapeError, match="leading dims"):
        gradus.searchsorted(gradus.zeros(2, 3), gradus.zeros(2))
    with pytest.raises(ShapeError, match="leading dims"):
        gradus.searchsorted(gradus.zeros(2, 3), 1.0)
    with pytest.raises(ShapeError, match="0-d"):
        gradus.searchsorted(gradus.tensor(1.0), gradus.zeros(2))
    with pytest.raises(ValueError, match="contradict"):
        gradus.searchsorted(gradus.zeros(3), gradus.zeros(2), right=True, side="left")
    with pytest.raises(ValueError, match="'left' or 'right'"):
        gradus.searchsorted(gradus.zeros(3), gradus.zeros(2), side="middle")
    with pytest.raises(DTypeError, match="int64"):
        gradus.searchsorted(gradus.zeros(3), gradus.zeros(2),
                            sorter=gradus.tensor([0, 1, 2], dtype=gradus.int32))
    with pytest.raises(ShapeError, match="sorter"):
        gradus.searchsorted(gradus.zeros(3), gradus.zeros(2), sorter=gradus.tensor([0, 1]))
    with pytest.raises(GradIndexError, match="sorter values"):
        gradus.searchsorted(gradus.zeros(3), gradus.zeros(2), sorter=gradus.tensor([0, 1, 5]))
    with pytest.raises(ShapeError, match="1-D"):
        gradus.bucketize(gradus.zeros(2), gradus.zeros(2, 3))
    with pytest.raises(ShapeError, match="zero-sized"):
        gradus.unique(gradus.zeros(2, 0), dim=0)
    with pytest.raises(GradIndexError, match="no dimensions"):
        gradus.unique(gradus.tensor(1.0), dim=0)


def test_topk_does_not_sort_the_whole_row(monkeypatch):
    """topk partitions, then sorts only the k picked: a full argsort of the row never runs."""
    import gradus.ops.sorting as so

    sizes = []
    real = np.argsort

    def spy(a, *args, **kw):
        sizes.append(np.shape(a))
        return real(a, *args, **kw)

    monkeypatch.setattr(so.np, "argsort", spy)
    x = gradus.randn(4, 1000)
    v, i = x.topk(5)
    assert all(s[-1] <= 5 for s in sizes), sizes
    np.testing.assert_array_equal(v.numpy(), -np.sort(-x.numpy(), -1)[:, :5])


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_topk_of_long_rows_is_exact(dtype):
    """Rows of >= 8192 take the grouped path (group maxima, then partition the kept groups): the
    values must equal a full sort's, with ties and NaN, largest and smallest."""
    rng = np.random.default_rng(2)
    a = rng.integers(0, 50, (3, 20011)).astype(dtype)   # many ties; n not a multiple of the group size
    if dtype != np.int64:
        a[0, rng.choice(20011, 7, replace=False)] = np.nan
        a[1, :] = np.nan
        a[1, 5], a[1, 20010] = -1.0, 3.0   # smallest two of an almost-all-NaN row
    x = gradus.tensor(a)
    for k in (2, 31, 100, 300):
        for largest in (True, False):
            v, i = x.topk(k, largest=largest)
            ref = np.sort(a, -1)   # NumPy sorts NaN last, as PyTorch orders it
            ref = ref[:, ::-1][:, :k] if largest else ref[:, :k]
            np.testing.assert_array_equal(v.numpy(), ref)
            np.testing.assert_array_equal(np.take_along_axis(a, i.numpy(), -1), v.numpy())
            assert all(len(set(r)) == k for r in i.numpy().tolist())   # distinct indices
