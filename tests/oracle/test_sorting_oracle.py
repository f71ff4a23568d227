"""Sorting and selection against PyTorch 2.13: values, indices, dtypes, shapes and every input
gradient (``check_op``, float64 and float32), on inputs without ties and on the tie cases whose
answer PyTorch documents or fixes (stable sort, mode's rule, median()'s shared gradient, first NaN
of median(dim)); NaN order; integer dtypes and ``out_int32``; 0-d and empty shapes; error classes.

Where PyTorch leaves the choice open (which tied element ``topk``/``kthvalue``/``median(dim)`` picks,
the order of ``topk(sorted=False)``, ``sort(stable=False)`` among ties), the tests check what is
determined: the values, and that each index points at its value.
"""
from __future__ import annotations

import numpy as np
import pytest

import gradus

from .test_ops_oracle import check_op

pytestmark = pytest.mark.oracle

NAN = float("nan")
TIES = np.array([[1.0, 3.0, 3.0, 2.0, 3.0, 0.0], [2.0, 2.0, 1.0, 1.0, 5.0, 1.0]])
NANS = np.array([[3.0, NAN, 1.0, 2.0, 0.5], [NAN, 1.0, 4.0, NAN, -1.0], [0.0, 2.0, -3.0, 1.0, 5.0]])
ONE_NAN = np.array([[3.0, NAN, 1.0, 2.0, 0.5], [1.5, 1.0, 4.0, NAN, -1.0]])
MODE = np.array([[1.0, 2.0, 2.0, 1.0, 3.0, 0.0, 3.0], [3.0, 2.0, 3.0, 2.0, 1.0, 2.0, 3.0],
                 [5.0, 5.0, 1.0, 4.0, 4.0, 4.0, 5.0]])
SEQ = np.array([-1.0, 0.0, 0.0, 0.5, 2.0, 2.0, 3.0])
VALS = np.array([[-2.0, 0.0, 0.25, 2.0], [3.0, 4.0, -1.0, 0.5]])
SEQ2 = np.array([[-1.0, 0.0, 1.0, 1.0, 2.0], [0.0, 0.5, 0.5, 3.0, 4.0]])

# (id, fn(L, *inputs), input specs): inputs are float tensors requiring grad in both frameworks
CASES = [
    # sort / argsort / msort, distinct values
    ("sort", lambda L, x: (*x.sort(), *x.sort(0), *L.sort(x, 1, descending=True), *x.sort(-1, True)),
     (("distinct", (3, 4)),)),
    ("sort_3d", lambda L, x: (*x.sort(1), *L.sort(x, dim=0, descending=True, stable=True)),
     (("distinct", (2, 3, 4)),)),
    ("sort_0d", lambda L, x: (*x.sort(), *x.sort(0, descending=True)), ((),)),
    ("sort_empty", lambda L, x: (*x.sort(), *x.sort(0)), ((2, 0),)),
    ("argsort", lambda L, x: (x.argsort(), L.argsort(x, 0, True), x.argsort(dim=1, descending=True)),
     (("distinct", (3, 4)),)),
    ("msort", lambda L, x: (x.msort(), L.msort(x)), (("distinct", (4, 3)),)),
    # stable sort with ties: documented order, so indices (and the gradient through them) agree
    ("sort_stable_ties", lambda L, x: (*x.sort(stable=True), *x.sort(descending=True, stable=True),
                                       *L.sort(x, dim=0, stable=True), L.argsort(x, dim=-1, stable=True)),
     (TIES,)),
    ("sort_nan", lambda L, x: (*x.sort(stable=True), *x.sort(dim=1, descending=True, stable=True),
                               *x.sort(dim=0, stable=True)), (NANS,)),
    # topk
    ("topk", lambda L, x: (*x.topk(2), *x.topk(3, largest=False), *L.topk(x, 1), *x.topk(1, largest=False),
                           *x.topk(4), *x.topk(2, dim=0), *L.topk(x, 3, 0, False, True)),
     (("distinct", (3, 4)),)),
    ("topk_3d", lambda L, x: (*x.topk(2, 1), *x.topk(3, -1, largest=False)), (("distinct", (2, 3, 5)),)),
    ("topk_large", lambda L, x: (*x.topk(5), *x.topk(7, largest=False)), (("distinct", (3, 200)),)),
    ("topk_0d", lambda L, x: (*x.topk(1), *x.topk(0)), ((),)),
    ("topk_k0", lambda L, x: (*x.topk(0), *x.topk(0, 0)), ((3, 4),)),
    ("topk_empty", lambda L, x: (*x.topk(0), *x.topk(2, 0)), ((2, 0),)),
    ("topk_nan", lambda L, x: (*x.topk(2), *x.topk(3, largest=False), *x.topk(5)), (ONE_NAN,)),
    # kthvalue
    ("kthvalue", lambda L, x: (*x.kthvalue(1), *x.kthvalue(3, 1), *L.kthvalue(x, 2, 0, True),
                               *x.kthvalue(4, dim=-1, keepdim=True)), (("distinct", (3, 4)),)),
    ("kthvalue_0d", lambda L, x: (*x.kthvalue(1), *x.kthvalue(1, 0, True)), ((),)),
    ("kthvalue_nan", lambda L, x: (*x.kthvalue(1), *x.kthvalue(4), *x.kthvalue(5)), (ONE_NAN,)),
    ("kthvalue_empty_rows", lambda L, x: (*x.kthvalue(1, 0), *x.kthvalue(2, 0, True)), ((2, 0),)),
    # median: global (lower median; ties share the gradient), per dim (first NaN wins)
    ("median", lambda L, x: (x.median(), L.median(x)), (("distinct", (3, 4)),)),
    ("median_odd", lambda L, x: x.median(), (("distinct", (5,)),)),
    ("median_dim", lambda L, x: (*x.median(1), *L.median(x, 0, keepdim=True), *x.median(-1, True)),
     (("distinct", (3, 4)),)),
    ("median_3d", lambda L, x: (*x.median(1), *x.median(2)), (("distinct", (2, 3, 5)),)),
    ("median_ties_shared_grad", lambda L, x: x.median(), (np.array([[2.0, 1.0, 2.0], [3.0, 2.0, 0.0]]),)),
    ("median_nan", lambda L, x: (x.median(), *x.median(1), *x.median(0)), (NANS,)),
    ("median_0d", lambda L, x: (x.median(), *x.median(0), *L.median(x, -1, True)), ((),)),
    ("median_empty", lambda L, x: (x.median(), *x.median(0)), ((2, 0),)),
    ("nanmedian", lambda L, x: (x.nanmedian(), *x.nanmedian(1), *L.nanmedian(x, 0, True)), (NANS,)),
    ("nanmedian_all_nan", lambda L, x: (x.nanmedian(), *x.nanmedian(0)), (np.array([NAN, NAN]),)),
    ("nanmedian_distinct", lambda L, x: (x.nanmedian(), *x.nanmedian(0)), (("distinct", (4, 3)),)),
    # mode: smallest of the most frequent, its last occurrence (rows of up to 16 elements)
    ("mode", lambda L, x: (*x.mode(), *x.mode(0), *L.mode(x, 1, keepdim=True)), (MODE,)),
    ("mode_distinct", lambda L, x: (*x.mode(), *x.mode(0, True)), (("distinct", (3, 4)),)),
    ("mode_0d", lambda L, x: (*x.mode(), *x.mode(0, True)), ((),)),
    ("mode_empty_rows", lambda L, x: tuple(x.mode(0)), ((2, 0),)),
    # not differentiable (integer results; torch's unique output needs no gradient either)
    ("unique", lambda L, x: (x.unique(), *L.unique(x, return_inverse=True, return_counts=True),
                             *x.unique(sorted=False, return_counts=True), *x.unique(return_inverse=True)),
     (MODE,)),
    ("unique_dim", lambda L, x: (*L.unique(x, dim=0, return_inverse=True, return_counts=True),
                                 *x.unique(dim=1, return_inverse=True),
                                 *x.unique(dim=-1, return_counts=True)),
     (np.array([[1.0, 2.0, 1.0, 0.0], [0.0, 1.0, 0.0, 0.0], [1.0, 2.0, 1.0, 0.0]]),)),
    ("unique_nan", lambda L, x: L.unique(x, return_inverse=True, return_counts=True),
     (np.array([NAN, 1.0, NAN, -0.5, 1.0]),)),
    ("unique_0d_empty", lambda L, x, e: (x.unique(), *e.unique(return_inverse=True, return_counts=True),
                                         *L.unique(e, dim=1, return_inverse=True, return_counts=True)),
     ((), (2, 0))),
    ("unique_consecutive", lambda L, x: (x.unique_consecutive(),
                                         *L.unique_consecutive(x, return_inverse=True, return_counts=True),
                                         *x.unique_consecutive(dim=0, return_counts=True)),
     (np.array([[1.0, 1.0], [1.0, 1.0], [0.0, 2.0], [1.0, 1.0], [NAN, 1.0], [NAN, 1.0]]),)),
    ("searchsorted", lambda L, s, v: (L.searchsorted(s, v), L.searchsorted(s, v, right=True),
                                      L.searchsorted(s, v, side="right"), L.searchsorted(s, v, side="left"),
                                      L.searchsorted(s, v, out_int32=True), L.searchsorted(s, 0.0),
                                      L.searchsorted(s, 2.0, right=True), L.searchsorted(s, v[0, 1])),
     (SEQ, VALS)),
    ("searchsorted_nd", lambda L, s, v: (L.searchsorted(s, v), L.searchsorted(s, v, right=True)),
     (SEQ2, VALS[:, :3])),
    ("searchsorted_sorter", lambda L, s, v: (
        L.searchsorted(s, v, sorter=L.argsort(s)), L.searchsorted(s, v, right=True, sorter=L.argsort(s))),
     (np.array([3.0, -1.0, 0.5, 2.0, 0.0]), VALS)),
    ("searchsorted_nd_sorter", lambda L, s, v: L.searchsorted(s, v, sorter=s.argsort()),
     (np.array([[3.0, -1.0, 0.5], [0.0, 2.0, 1.0]]), VALS[:, :3])),
    # not sorted, or NaN in the sequence: not checked by torch either; the same binary search answers
    ("searchsorted_unsorted", lambda L, s, v: (L.searchsorted(s, v), L.searchsorted(s, v, right=True)),
     (np.array([3.0, -1.0, 0.5, 2.0, 0.0, 1.0]), VALS)),
    ("searchsorted_nan", lambda L, s, v: (L.searchsorted(s, v), L.searchsorted(s, v, right=True)),
     (np.array([-1.0, 0.0, 2.0, NAN, NAN]), np.array([[NAN, -3.0, 0.0], [2.0, 2.5, 9.0]]))),
    ("searchsorted_nd_nan", lambda L, s, v: (L.searchsorted(s, v), L.searchsorted(s, v, side="right")),
     (np.array([[-1.0, 0.0, NAN], [NAN, 1.0, 2.0]]), np.array([[NAN, -3.0, 0.0], [2.0, 1.0, 9.0]]))),
    ("searchsorted_empty", lambda L, s, e, v: (L.searchsorted(e[0], v), L.searchsorted(s, e),
                                               L.searchsorted(e, L.ones(2, 3))),
     (SEQ, (2, 0), VALS)),
    ("bucketize", lambda L, v, b: (L.bucketize(v, b), L.bucketize(v, b, right=True),
                                   L.bucketize(v, b, out_int32=True), L.bucketize(1.0, b),
                                   L.bucketize(v[0, 0], b, right=True)),
     (VALS, np.array([-1.0, 0.0, 0.5, 2.0]))),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_op_matches_torch(torch, case, dtype):
    name, fn, specs = case
    check_op(torch, fn, specs, dtype)


def _both(torch, data, dtype):
    return gradus.tensor(data, dtype=dtype), torch.tensor(data, dtype=getattr(torch, dtype))


def _same(got, want, what):
    got, want = (list(got), list(want)) if isinstance(got, tuple) else ([got], [want])
    assert len(got) == len(want), what
    for k, (g, w) in enumerate(zip(got, want)):
        w = w.numpy()
        assert g.dtype == w.dtype and g.shape == w.shape, (what, k, g.dtype, w.dtype, g.shape, w.shape)
        np.testing.assert_array_equal(g.numpy(), w, err_msg=f"{what} output {k}")


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "uint8"])
def test_integer_dtypes_match_torch(torch, dtype):
    rng = np.random.default_rng(3)
    data = rng.permutation(24).reshape(4, 6).tolist()        # distinct: every index determined
    reps = rng.integers(0, 4, (3, 7)).tolist()               # ties: only the documented rules
    (g, t), (gr, tr) = _both(torch, data, dtype), _both(torch, reps, dtype)
    ops = {
        "sort": lambda x: tuple(x.sort(1, descending=True)),
        "argsort": lambda x: x.argsort(0), "topk": lambda x: tuple(x.topk(3)),
        "topk_small": lambda x: tuple(x.topk(2, 0, largest=False)),
        "kthvalue": lambda x: tuple(x.kthvalue(2)),
        "median": lambda x: x.median(), "median_dim": lambda x: tuple(x.median(1, keepdim=True)),
        "mode": lambda x: tuple(x.mode(0)), "msort": lambda x: x.msort(),
        "unique": lambda x: x.unique(return_inverse=True, return_counts=True),
        "unique_dim": lambda x: x.unique(dim=1, return_counts=True),
        "unique_consecutive": lambda x: x.unique_consecutive(return_counts=True),
    }
    for name, f in ops.items():
        _same(f(g), f(t), name)
    for name, f in {"sort_stable": lambda x: tuple(x.sort(stable=True)),
                    "sort_stable_desc": lambda x: tuple(x.sort(dim=0, descending=True, stable=True)),
                    "mode": lambda x: tuple(x.mode()), "unique": lambda x: x.unique(return_counts=True),
                    "median": lambda x: x.median()}.items():
        _same(f(gr), f(tr), name + " (ties)")
    seq, seq_t = _both(torch, sorted(reps[0]), dtype)
    for kw in ({}, {"right": True}, {"out_int32": True}, {"side": "right"}):
        _same(gradus.searchsorted(seq, gr, **kw), torch.searchsorted(seq_t, tr, **kw), f"searchsorted {kw}")
        if "side" not in kw:
            _same(gradus.bucketize(gr, seq, **kw), torch.bucketize(tr, seq_t, **kw), f"bucketize {kw}")
    # mixed dtypes are compared after promotion: int sequence, float values (and a Python float)
    f_vals = [[0.5, 1.0, 2.5, 3.5]]
    _same(gradus.searchsorted(seq, gradus.tensor(f_vals)), torch.searchsorted(seq_t, torch.tensor(f_vals)),
          "searchsorted int/float")
    _same(gradus.searchsorted(seq, 1.5), torch.searchsorted(seq_t, 1.5), "searchsorted scalar")


def test_bool_sort_and_mode_match_torch(torch):
    data = [True, False, True, False, False]
    g, t = gradus.tensor(data), torch.tensor(data)
    _same(tuple(g.sort(stable=True)), tuple(t.sort(stable=True)), "sort")
    _same(tuple(g.mode()), tuple(t.mode()), "mode")
    _same(g.unique(return_inverse=True), t.unique(return_inverse=True), "unique")


def test_promotion_in_searchsorted_matches_torch(torch):
    """float64 boundaries, float32 values: compared in float64 (0.1f > 0.1)."""
    s, v = [0.1, 0.2], [0.1]
    got = gradus.searchsorted(gradus.tensor(s, dtype=gradus.float64), gradus.tensor(v, dtype=gradus.float32))
    want = torch.searchsorted(torch.tensor(s, dtype=torch.float64), torch.tensor(v, dtype=torch.float32))
    _same(got, want, "searchsorted f64/f32")


def test_open_tie_choices_are_consistent(torch):
    """Ties where PyTorch fixes no index: values agree, and every index points at its value."""
    rng = np.random.default_rng(5)
    a = rng.integers(0, 6, (5, 40)).astype(np.float64)
    x, t = gradus.tensor(a), torch.tensor(a)
    for f in (lambda L: L.topk(7), lambda L: L.topk(4, largest=False), lambda L: L.topk(40),
              lambda L: L.kthvalue(11), lambda L: L.median(1), lambda L: L.sort(),
              lambda L: L.sort(descending=True)):
        (v, i), (vt, _) = f(x), f(t)
        np.testing.assert_array_equal(v.numpy(), vt.numpy())
        got = np.take_along_axis(a, i.numpy() if i.ndim == 2 else i.numpy()[:, None], 1)
        np.testing.assert_array_equal(got.reshape(v.shape), v.numpy())
    v, i = x.topk(9, sorted=False)
    vt, it = t.topk(9, sorted=False)
    np.testing.assert_array_equal(np.sort(v.numpy(), 1), np.sort(vt.numpy(), 1))


def test_error_classes_match_torch(torch):
    """Each invalid call fails in both; gradus with its typed error (an IndexError, TypeError or
    ValueError subclass), PyTorch with its own (often a RuntimeError)."""
    x, xt = gradus.randn(2, 3), torch.randn(2, 3)
    cases = [
        (lambda L, x: x.topk(4), gradus.errors.GradIndexError, RuntimeError),
        (lambda L, x: x.topk(-1), gradus.errors.GradIndexError, RuntimeError),
        (lambda L, x: x.topk(1, dim=2), gradus.errors.GradIndexError, IndexError),
        (lambda L, x: x.topk(2.0), TypeError, TypeError),
        (lambda L, x: x.sort(2), gradus.errors.GradIndexError, IndexError),
        (lambda L, x: x.argsort(-3), gradus.errors.GradIndexError, IndexError),
        (lambda L, x: x.kthvalue(0), gradus.errors.GradIndexError, RuntimeError),
        (lambda L, x: x.kthvalue(4), gradus.errors.GradIndexError, RuntimeError),
        (lambda L, x: x.kthvalue(1, 3), gradus.errors.GradIndexError, IndexError),
        (lambda L, x: x.median(2), gradus.errors.GradIndexError, IndexError),
        (lambda L, x: x.mode(-3), gradus.errors.GradIndexError, IndexError),
        (lambda L, x: x.median(keepdim=True), TypeError, TypeError),
        (lambda L, x: (x > 0).topk(1), gradus.errors.DTypeError, RuntimeError),
        (lambda L, x: (x > 0).median(), gradus.errors.DTypeError, NotImplementedError),
        (lambda L, x: (x > 0).kthvalue(1), gradus.errors.DTypeError, NotImplementedError),
        (lambda L, x: L.zeros(2, 0).median(1), gradus.errors.GradIndexError, IndexError),
        (lambda L, x: L.zeros(0).kthvalue(1), gradus.errors.GradIndexError, IndexError),
        (lambda L, x: L.zeros(3, 0).mode(1), gradus.errors.GradIndexError, IndexError),
        (lambda L, x: L.zeros(2, 0).unique(dim=0), gradus.errors.ShapeError, RuntimeError),
        (lambda L, x: L.tensor(1.0).unique(dim=0), gradus.errors.GradIndexError, IndexError),
        (lambda L, x: x.unique(dim=2), gradus.errors.GradIndexError, IndexError),
        (lambda L, x: L.searchsorted(x, L.zeros(3)), gradus.errors.ShapeError, RuntimeError),
        (lambda L, x: L.searchsorted(x, L.zeros(2, 1, 2)), gradus.errors.ShapeError, RuntimeError),
        (lambda L, x: L.searchsorted(x, 1.0), gradus.errors.ShapeError, RuntimeError),
        (lambda L, x: L.searchsorted(L.tensor(1.0), x), gradus.errors.ShapeError, RuntimeError),
        (lambda L, x: L.searchsorted(x[0], x, right=True, side="left"), ValueError, RuntimeError),
        (lambda L, x: L.searchsorted(x[0], x, side="middle"), ValueError, RuntimeError),
        (lambda L, x: L.searchsorted(x[0], x, sorter=L.tensor([0, 1])), gradus.errors.ShapeError,
         RuntimeError),
        (lambda L, x: L.searchsorted(x[0], x, sorter=L.tensor([0, 1, 3])), gradus.errors.GradIndexError,
         RuntimeError),
        (lambda L, x: L.searchsorted(x[0], x, sorter=L.tensor([0, 1, 2], dtype=L.int32)),
         gradus.errors.DTypeError, RuntimeError),
        (lambda L, x: L.searchsorted(x[0] > 0, x > 0), gradus.errors.DTypeError, NotImplementedError),
        (lambda L, x: L.bucketize(x[0], x), gradus.errors.ShapeError, RuntimeError),
        (lambda L, x: L.bucketize(x, L.tensor(1.0)), gradus.errors.ShapeError, RuntimeError),
    ]
    for f, gerr, terr in cases:
        with pytest.raises(gerr):
            f(gradus, x)
        with pytest.raises(terr):
            f(torch, xt)
