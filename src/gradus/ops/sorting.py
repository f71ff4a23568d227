"""Sorting and selection: sort, argsort, msort, topk, kthvalue, median, nanmedian, mode, unique,
unique_consecutive, searchsorted, bucketize.

Order. Values are ordered as PyTorch orders them: NaN is larger than every number (``sort`` puts it
last, ``descending=True`` first; ``topk`` picks it first; ``median`` returns it when present), and
-0.0 equals 0.0. Every sort here is stable: ties keep their input order (``descending`` too), which is
what ``stable=True`` promises in PyTorch and one of the orders ``stable=False`` allows.

Gradients. The values output of a selection (sort, topk, kthvalue, median(dim), mode) is
``x`` gathered at the selected indices, ``y = take_along(x, idx, dim)``; its gradient scatters ``gy``
back to those positions, ``gx = put_along(zeros_like(x), idx, gy, dim)``. The two are each other's
adjoint (``TakeAlong`` / ``PutAlong`` below), so gradients of any order follow. Indices within one
row are distinct, which makes the scatter a plain assignment (no ``np.add.at``). The indices output,
``unique``, ``searchsorted`` and ``bucketize`` are integer results outside the graph.
"""
from __future__ import annotations

import builtins
import numbers

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..errors import DTypeError, GradIndexError, ShapeError
from ..tensor import Tensor, as_operand, promote_pair
from .indexing import gather_full_index
from .movement import reshape
from .reduce import normalize_dims, values_indices

xp_of = backend.get_array_module


# -- the differentiable gather / scatter at distinct indices -------------------------------------
class TakeAlong(Function):
    """y = x gathered at ``idx`` along ``axis`` (idx has x's rank, size-1 axis squeezed unless
    ``keepdims``);  gx = gy put back at ``idx`` into zeros (``PutAlong``)."""

    @staticmethod
    def forward(ctx, x, axis, idx, keepdims):
        ctx.save_raw(idx=idx)
        ctx.axis, ctx.in_shape, ctx.keepdims = axis, x.shape, keepdims
        y = x[gather_full_index(idx, axis)]
        return y if keepdims else y.squeeze(axis)

    @staticmethod
    def backward(ctx, gy):
        if not ctx.keepdims:
            kept = list(ctx.in_shape)
            kept[ctx.axis] = 1
            gy = reshape(gy, tuple(kept))
        return PutAlong.apply(gy, ctx.axis, ctx.idx, ctx.in_shape), None, None, None


class PutAlong(Function):
    """y = zeros(shape) with x written at ``idx`` along ``axis`` (indices distinct within a row);
    gx = gy gathered at ``idx`` (``TakeAlong``)."""

    @staticmethod
    def forward(ctx, x, axis, idx, shape):
        ctx.save_raw(idx=idx)
        ctx.axis = axis
        y = xp_of(x).zeros(shape, dtype=x.dtype)
        y[gather_full_index(idx, axis)] = x
        return y

    @staticmethod
    def backward(ctx, gy):
        return TakeAlong.apply(gy, ctx.axis, ctx.idx, True), None, None, None


# One node class per op, so the graph reads SortBackward, TopKBackward, ... (the math is TakeAlong's).
class Sort(TakeAlong):
    """Sorted values along a dim."""


class TopK(TakeAlong):
    """The k largest (or smallest) values along a dim."""


class KthValue(TakeAlong):
    """The k-th smallest value along a dim."""


class Median(TakeAlong):
    """The lower median along a dim (NaN when the row has one)."""


class NanMedian(TakeAlong):
    """The lower median of the non-NaN values along a dim."""


class Mode(TakeAlong):
    """The most frequent value along a dim."""


class MedianAll(Function):
    """y = the lower median of all elements;  gx = gy shared evenly by the elements equal to y
    (PyTorch's rule, so the subgradient is deterministic under ties; NaN: shared by the NaNs)."""

    @staticmethod
    def forward(ctx, x, value):
        xp = xp_of(x)
        mask = xp.isnan(x) if (x.dtype.kind == "f" and bool(xp.isnan(value))) else (x == value)
        ctx.save_raw(weights=mask / builtins.max(int(mask.sum()), 1))
        return xp.asarray(value, dtype=x.dtype)

    @staticmethod
    def backward(ctx, gy):
        return gy * ctx.weights.astype(gy.dtype, copy=False), None


# -- raw-array orderings ---------------------------------------------------------------------
def _argsort(a, axis: int, descending: bool):
    """Stable argsort along ``axis``; NaN is the largest value (NumPy's order, as PyTorch).

    Descending and still stable: sort the reversed array ascending (ties then come out last-first),
    reverse the result back and map positions of the reversed array to the original ones. (Negating
    would put NaN last and overflow the smallest integer.)"""
    xp = xp_of(a)
    if not descending:
        return xp.argsort(a, axis=axis, kind="stable")
    n = a.shape[axis]
    return (n - 1) - xp.flip(xp.argsort(xp.flip(a, axis), axis=axis, kind="stable"), axis)


def _take(a, idx, axis):
    return a[gather_full_index(idx, axis)]


def _has_nan(a) -> bool:
    return a.dtype.kind in "fc" and bool(xp_of(a).isnan(a).any())


def _topk_indices(a, k: int, axis: int, largest: bool, sorted_: bool):
    """Indices of the k largest (smallest) elements along ``axis``.

    O(n) selection with ``argpartition``, then an O(k log k) sort of only the k picked; a full sort
    only when k is the whole dim. Sorted output is ordered as a stable sort would order the picked
    elements (ties by index). ``sorted=False`` keeps the partition's order (unspecified, as in
    PyTorch)."""
    xp = xp_of(a)
    n = a.shape[axis]
    if k == n:
        return _argsort(a, axis, largest)
    if k == 0:
        shape = list(a.shape)
        shape[axis] = 0
        return xp.zeros(shape, dtype=np.int64)
    if k == 1:  # argmax / argmin: one pass, no partition
        if largest:  # NaN counts as largest: argmax returns the first NaN, as wanted
            return xp.argmax(a, axis=axis, keepdims=True)
        idx = xp.argmin(a, axis=axis, keepdims=True)  # argmin also returns a NaN: then partition
        if not _has_nan(_take(a, idx, axis)):
            return idx
    # a long last dim, small k (sampling / beam search over a vocabulary): measured faster from here
    if axis == a.ndim - 1 and n >= 8192 and 64 * k <= n:
        idx = _topk_grouped(a.reshape(-1, n), k, largest).reshape(a.shape[:-1] + (k,))
    else:
        idx = _partition_top(a, k, axis, largest)
    if not sorted_:
        return idx
    idx = xp.sort(idx, axis=axis)  # ties by index, so the result does not depend on the partition
    return _take(idx, _argsort(_take(a, idx, axis), axis, largest), axis)


def _partition_top(a, k: int, axis: int, largest: bool):
    """Unordered indices of the k largest (smallest) along ``axis``: one ``argpartition``."""
    n = a.shape[axis]
    part = xp_of(a).argpartition(a, n - k if largest else k - 1, axis=axis)
    sl = [slice(None)] * a.ndim
    sl[axis] = slice(n - k, None) if largest else slice(0, k)
    return part[tuple(sl)]


def _topk_grouped(a, k: int, largest: bool):
    """Unordered indices of the k largest (smallest) of each row of ``a`` (R, n), for k << n.

    argpartition of the whole row costs ~4 ns per element; a max over groups costs ~0.4. Split each
    row into m groups of b strided elements (group g = {g, g + m, ..., g + (b - 1) m}, plus the
    n - m b tail elements kept as candidates), take each group's max, keep the k groups with the
    largest maxima, and partition only their k b elements. Exact: an element of the top k whose
    group is not kept is beaten by the k kept maxima, k other elements, a contradiction (with ties:
    the values are exact, which tied index is picked is unspecified anyway). NaN is the largest:
    ``max`` propagates it, and for the smallest ``fmin`` ignores it unless the group is all NaN.
    b ~ sqrt(n / k) balances the m group maxima against the k b candidates."""
    xp = xp_of(a)
    rows, n = a.shape
    b = builtins.max(2, int((n / k) ** 0.5))
    m = n // b
    groups = a[:, : m * b].reshape(rows, b, m)
    best = groups.max(axis=1) if largest else xp.fmin.reduce(groups, axis=1)
    kept = _partition_top(best, k, 1, largest)                                   # (R, k) groups
    cand = (kept[:, None, :] + m * xp.arange(b)[None, :, None]).reshape(rows, k * b)
    if m * b < n:
        cand = xp.concatenate([cand, xp.broadcast_to(xp.arange(m * b, n), (rows, n - m * b))], axis=1)
    # gather through flat indices: ~2x faster than a 2-D fancy index for scattered reads
    values = a.reshape(-1).take(cand + (xp.arange(rows) * n)[:, None])
    return _take(cand, _partition_top(values, k, 1, largest), 1)


def _kth_indices(a, k: int, axis: int):
    """Index (kept dim of size 1) of the k-th smallest element along ``axis`` (1-based k)."""
    xp = xp_of(a)
    part = xp.argpartition(a, k - 1, axis=axis)
    sl = [slice(None)] * a.ndim
    sl[axis] = slice(k - 1, k)
    return part[tuple(sl)]


def _first_nan_or(a, idx, axis: int):
    """Where a row holds a NaN, the index of its first NaN instead of ``idx`` (median's rule)."""
    xp = xp_of(a)
    if a.dtype.kind not in "fc":
        return idx
    nan = xp.isnan(a)
    has = nan.any(axis=axis, keepdims=True)
    if not bool(has.any()):
        return idx
    return xp.where(has, xp.argmax(nan, axis=axis, keepdims=True), idx)


def _nanmedian_indices(a, axis: int):
    """Index of the lower median of each row's non-NaN values (a row of NaNs: its first element).
    The rank varies per row, so this sorts (stable, NaN last) and picks position (count - 1) // 2."""
    xp = xp_of(a)
    order = xp.argsort(a, axis=axis, kind="stable")
    count = (~xp.isnan(a)).sum(axis=axis, keepdims=True) if a.dtype.kind in "fc" else a.shape[axis]
    pos = xp.maximum((xp.asarray(count) - 1) // 2, 0)
    pos = xp.broadcast_to(pos, tuple(1 if d == axis else s for d, s in enumerate(a.shape)))
    return _take(order, pos.astype(np.int64), axis)


def _mode_indices(a, axis: int):
    """Index (kept dim of size 1) of the most frequent value along ``axis``: PyTorch's rule.

    PyTorch sorts each row and scans its runs of equal values: the smallest value among the most
    frequent wins, and its index is the one at the end of its run -- with our stable sort, its last
    occurrence (PyTorch's own sort keeps that order for rows of up to 16 elements). Vectorised: run
    starts from a cumulative max of boundary positions, run lengths at the run ends, argmax. NaN !=
    NaN, so each NaN is its own run of length 1."""
    xp = xp_of(a)
    n = a.shape[axis]
    order = xp.argsort(a, axis=axis, kind="stable")
    s = xp.moveaxis(_take(a, order, axis), axis, -1)
    pos = xp.arange(n)
    new_run = xp.ones(s.shape, dtype=bool)
    new_run[..., 1:] = s[..., 1:] != s[..., :-1]
    start = xp.maximum.accumulate(xp.where(new_run, pos, 0), axis=-1)
    run_end = xp.ones(s.shape, dtype=bool)
    run_end[..., :-1] = new_run[..., 1:]
    length = xp.where(run_end, pos - start + 1, 0)
    best = xp.argmax(length, axis=-1)[..., None]  # first max: the smallest value among the most frequent
    return _take(order, xp.moveaxis(best, -1, axis), axis)


# -- argument checks -------------------------------------------------------------------------
def _one_dim(dim, x: Tensor, op: str) -> int | None:
    """``dim`` as a non-negative axis, or None for a 0-d tensor (which accepts dim 0 / -1)."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__} {dim!r}")
    axes = normalize_dims(int(dim), x.ndim, op)
    return axes[0] if axes else None


def _int_arg(k, name: str, op: str) -> int:
    if isinstance(k, Tensor) and k.ndim == 0 and k.data.dtype.kind in "iu":
        return int(k.item())
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"{op}: {name} must be an int, got {type(k).__name__} {k!r}")
    return int(k)


def _refuse_bool(x: Tensor, op: str) -> None:
    if x.data.dtype == np.bool_:
        raise DTypeError(f"{op}: does not support bool tensors (as PyTorch); convert with .int() first")


def _nonempty_dim(x: Tensor, axis: int, op: str) -> None:
    if x.shape[axis] == 0:
        raise GradIndexError(f"{op}: expected reduction dim {axis} to have non-zero size "
                             f"(input shape {tuple(x.shape)})")


def _int64_indices(idx) -> Tensor:
    """Indices returned to the user: a copy (the graph keeps its own), int64 as PyTorch."""
    return Tensor._make(idx.astype(np.int64))


def _select(fn_class, x: Tensor, axis: int, idx, keepdims: bool):
    """(values, indices) for indices ``idx`` with x's rank (size-1 axis unless sorting)."""
    values = fn_class.apply(x, axis, idx, keepdims)
    return values_indices(values, _int64_indices(idx if keepdims else idx.squeeze(axis)))


def _zero_dim_result(x: Tensor):
    """A 0-d input: it is its own sort, top-1, k-th value, median and mode, at index 0."""
    from .elementwise import clone

    return values_indices(clone(x), Tensor._make(xp_of(x.data).zeros((), np.int64)))


# -- sort -----------------------------------------------------------------------------------
def sort(input, dim: int = -1, descending: bool = False, stable: bool = False):  # noqa: A002
    """(values, indices) of ``input`` sorted along ``dim``; both have input's shape.

    ``values = take_along_dim(input, indices, dim)``, ascending (``descending=False``) with NaN last.
    Always stable (ties keep their input order); ``stable`` is accepted for PyTorch's signature.
    The gradient of ``values`` flows back to ``input[indices]``.
    """
    axis = _one_dim(dim, input, "sort")
    if axis is None:
        return _zero_dim_result(input)
    idx = _argsort(input.data, axis, descending)
    return values_indices(Sort.apply(input, axis, idx, True), _int64_indices(idx))


def argsort(input, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:  # noqa: A002
    """int64 indices that sort ``input`` along ``dim`` (``sort(...).indices``); not differentiable."""
    axis = _one_dim(dim, input, "argsort")
    if axis is None:
        return Tensor._make(xp_of(input.data).zeros((), np.int64))
    return _int64_indices(_argsort(input.data, axis, descending))


def msort(input) -> Tensor:  # noqa: A002
    """``sort(input, dim=0).values``."""
    return sort(input, 0).values


# -- topk / kthvalue -------------------------------------------------------------------------
def topk(input, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
    """(values, indices) of the ``k`` largest (``largest=False``: smallest) elements along ``dim``.

    Shapes: input's, with ``dim`` of size k. ``values = take_along_dim(input, indices, dim)``; sorted
    descending (ascending for smallest) when ``sorted``, else in an unspecified order. NaN counts as
    the largest value. O(n + k log k) per row (partition, then sort the k), not a full sort.
    Ties at the k-th place: which of the tied elements is picked is unspecified (as in PyTorch).
    """
    k = _int_arg(k, "k", "topk")
    _refuse_bool(input, "topk")
    axis = _one_dim(dim, input, "topk")
    n = input.shape[axis] if axis is not None else 1
    if not 0 <= k <= n:
        raise GradIndexError(f"topk: k={k} is out of range for dimension {dim} of size {n} "
                             f"(input shape {tuple(input.shape)}); expected 0 <= k <= {n}")
    if axis is None:
        return _zero_dim_result(input)
    idx = _topk_indices(input.data, k, axis, largest, sorted)
    return values_indices(TopK.apply(input, axis, idx, True), _int64_indices(idx))


def _kth_checks(input, k, dim, op):
    k = _int_arg(k, "k", op)
    _refuse_bool(input, op)
    axis = _one_dim(dim, input, op)
    n = input.shape[axis] if axis is not None else 1
    if axis is not None:
        _nonempty_dim(input, axis, op)
    if not 1 <= k <= n:
        raise GradIndexError(f"{op}: k={k} is out of range for dimension {dim} of size {n} "
                             f"(input shape {tuple(input.shape)}); expected 1 <= k <= {n}")
    return k, axis


def kthvalue(input, k: int, dim: int = -1, keepdim: bool = False):  # noqa: A002
    """(values, indices) of the k-th smallest element (1-based) along ``dim``.

    Shapes: input's without ``dim`` (size 1 with ``keepdim``). NaN counts as the largest value.
    Which index is returned among equal values is unspecified (as in PyTorch).
    """
    k, axis = _kth_checks(input, k, dim, "kthvalue")
    if axis is None:
        return _zero_dim_result(input)
    return _select(KthValue, input, axis, _kth_indices(input.data, k, axis), keepdim)


# -- median / nanmedian / mode ----------------------------------------------------------------
def _median_all(input, ignore_nan: bool, op: str) -> Tensor:
    xp = xp_of(input.data)
    flat = input.data.reshape(-1)
    if ignore_nan and flat.dtype.kind in "fc":
        flat = flat[~xp.isnan(flat)]
    n = flat.size
    if n == 0:
        if flat.dtype.kind not in "fc":  # PyTorch returns an arbitrary integer here
            raise ValueError(f"{op}: the median of an empty {input.dtype.name} tensor has no value")
        value = xp.asarray(np.nan, dtype=flat.dtype)  # empty, or all NaN: NaN, as PyTorch
    elif not ignore_nan and _has_nan(flat):
        value = xp.asarray(np.nan, dtype=flat.dtype)  # NaN propagates
    else:
        value = xp.partition(flat, (n - 1) // 2)[(n - 1) // 2]
    return MedianAll.apply(input, value)


def _median(input, dim, keepdim, ignore_nan: bool, op: str):
    _refuse_bool(input, op)
    if dim is None:
        if keepdim:
            raise TypeError(f"{op}: keepdim needs a dim (median(input, dim, keepdim=True))")
        return _median_all(input, ignore_nan, op)
    axis = _one_dim(dim, input, op)
    if axis is None:
        return _zero_dim_result(input)
    _nonempty_dim(input, axis, op)
    a = input.data
    if ignore_nan:
        return _select(NanMedian, input, axis, _nanmedian_indices(a, axis), keepdim)
    idx = _first_nan_or(a, _kth_indices(a, (a.shape[axis] - 1) // 2 + 1, axis), axis)
    return _select(Median, input, axis, idx, keepdim)


def median(input, dim=None, keepdim: bool = False):  # noqa: A002
    """``median(input)``: the lower median of all elements (the ((n - 1) // 2)-th smallest, not the
    mean of the middle two), a 0-d tensor; NaN if any element is NaN (NaN for an empty float tensor).
    Its gradient is shared evenly by the elements equal to it.

    ``median(input, dim, keepdim=False)``: (values, indices) of the lower median along ``dim`` (shape:
    input's without ``dim``); a row holding a NaN gives NaN at its first NaN. The gradient flows to
    the returned index.
    """
    return _median(input, dim, keepdim, False, "median")


def nanmedian(input, dim=None, keepdim: bool = False):  # noqa: A002
    """``median`` ignoring NaN: the lower median of the non-NaN values (NaN when there are none;
    with ``dim`` such a row returns index 0)."""
    return _median(input, dim, keepdim, True, "nanmedian")


def mode(input, dim: int = -1, keepdim: bool = False):  # noqa: A002
    """(values, indices) of the most frequent value along ``dim`` (shape: input's without ``dim``).

    PyTorch's rule: among equally frequent values the smallest wins, and the index is that of its
    last occurrence. The gradient flows to the returned index.
    """
    axis = _one_dim(dim, input, "mode")
    if axis is None:
        return _zero_dim_result(input)
    _nonempty_dim(input, axis, "mode")
    return _select(Mode, input, axis, _mode_indices(input.data, axis), keepdim)


# -- unique / unique_consecutive ---------------------------------------------------------------
def _runs(a, new_run, order, n):
    """(first position of each run, inverse, counts) for rows ``a[order]`` with run starts ``new_run``."""
    xp = xp_of(a)
    starts = xp.flatnonzero(new_run)
    run_id = xp.cumsum(new_run) - 1
    inverse = xp.empty(n, dtype=np.int64)
    if order is None:
        inverse[:] = run_id
    else:
        inverse[order] = run_id
    counts = xp.diff(xp.concatenate([starts, xp.asarray([n])])).astype(np.int64)
    return starts, inverse, counts


def _unique_impl(input, return_inverse, return_counts, dim, consecutive: bool, op: str):
    """Shared by unique (sort first) and unique_consecutive (runs in input order)."""
    xp = xp_of(input.data)
    a = input.data
    if dim is None:
        rows = a.reshape(-1, 1)
        inv_shape = a.shape
    else:
        if a.ndim == 0:
            raise GradIndexError(f"{op}: dim {dim} given but the tensor has no dimensions")
        axis = _one_dim(dim, input, op)
        rows = xp.moveaxis(a, axis, 0)
        rest = rows.shape[1:]
        if rows.shape[0] and not int(np.prod(rest)):
            raise ShapeError(f"{op}: input of shape {tuple(a.shape)} has zero-sized dimensions other "
                             f"than dim {dim}, so there are no slices to compare")
        rows = rows.reshape(rows.shape[0], int(np.prod(rest)))
        inv_shape = (rows.shape[0],)
    n = rows.shape[0]
    if consecutive or n == 0:
        order = None
    elif rows.shape[1] == 1:
        order = xp.argsort(rows[:, 0], kind="stable")
    else:  # lexicographic order of the slices (lexsort's last key is the primary one)
        order = xp.lexsort(rows.T[::-1])
    s = rows if order is None else rows[order]
    new_run = xp.ones(n, dtype=bool)
    if n:
        new_run[1:] = (s[1:] != s[:-1]).any(axis=1)  # NaN != NaN: every NaN is its own value
    starts, inverse, counts = _runs(a, new_run, order, n)
    picked = s[starts]
    if dim is None:
        out = picked.reshape(-1)
    else:
        out = xp.moveaxis(picked.reshape((picked.shape[0],) + rest), 0, axis)
    res = [Tensor._make(xp.ascontiguousarray(out))]
    if return_inverse:
        res.append(Tensor._make(inverse.reshape(inv_shape)))
    if return_counts:
        res.append(Tensor._make(counts))
    return res[0] if len(res) == 1 else tuple(res)


def unique(input, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,  # noqa: A002
           dim=None):
    """The distinct values of ``input`` in ascending order (a 1-D tensor; with ``dim``: the distinct
    slices along ``dim``, in lexicographic order), plus optionally

    - ``inverse`` (int64, input's shape; with ``dim`` of length ``input.shape[dim]``):
      ``output[inverse] == input`` (``index_select(output, dim, inverse)`` with dim);
    - ``counts`` (int64, one per distinct value): how often each occurs.

    Returns the output alone, or the tuple (output[, inverse][, counts]). NaN != NaN, so every NaN
    is its own value (as PyTorch). ``sorted=False`` also sorts (PyTorch's CPU result). Not
    differentiable.
    """
    return _unique_impl(input, return_inverse, return_counts, dim, False, "unique")


def unique_consecutive(input, return_inverse: bool = False, return_counts: bool = False,  # noqa: A002
                       dim=None):
    """``unique`` of runs of equal consecutive values (or slices along ``dim``), in input order:
    ``[1, 1, 2, 1] -> [1, 2, 1]``."""
    return _unique_impl(input, return_inverse, return_counts, dim, True, "unique_consecutive")


# -- searchsorted / bucketize -----------------------------------------------------------------
def _binary_search(seq, vals, right: bool, sorter):
    """PyTorch's lower/upper-bound binary search, run for all values at once (log2(n) vector steps).

    Row r of ``seq`` (R, n) is searched for row r of ``vals`` (R, m). The comparisons are exactly
    PyTorch's (``!(mid >= v)`` / ``!(mid > v)``), so sequences that are not sorted, or hold NaN, give
    PyTorch's answers too: nothing is checked, as in PyTorch."""
    xp = xp_of(seq)
    rows_n, n = seq.shape
    lo = xp.zeros(vals.shape, dtype=np.int64)
    hi = xp.full(vals.shape, n, dtype=np.int64)
    rows = xp.arange(rows_n)[:, None]
    active = lo < hi
    while bool(active.any()):
        mid = lo + ((hi - lo) >> 1)
        at = xp.minimum(mid, n - 1)  # finished entries may have mid == n
        if sorter is not None:
            at = sorter[rows, at]
        m = seq[rows, at]
        go_right = ~(m > vals) if right else ~(m >= vals)
        lo = xp.where(active & go_right, mid + 1, lo)
        hi = xp.where(active & ~go_right, mid, hi)
        active = lo < hi
    return lo


def _is_plainly_sorted(s) -> bool:
    """Non-decreasing without NaN: there NumPy's searchsorted gives exactly PyTorch's answers."""
    if _has_nan(s):
        return False
    return s.size < 2 or bool((s[1:] >= s[:-1]).all())


def searchsorted(sorted_sequence, values, *, out_int32: bool = False, right: bool = False, side=None,
                 sorter=None) -> Tensor:
    """Insertion indices of ``values`` into ``sorted_sequence`` along its last dim.

    ``right=False`` (``side='left'``): the first i with ``sorted_sequence[..., i] >= v``;
    ``right=True`` (``side='right'``): the first i with ``sorted_sequence[..., i] > v``.
    ``sorted_sequence``: 1-D (n,) for values of any shape, or (*B, n) with values (*B, m) (the same
    leading dims). ``values`` may be a Python number (then a 0-d result). ``sorter``: int64 indices
    that sort an unsorted sequence along its last dim. Result: values' shape, int64 (int32 with
    ``out_int32``). Compared in the promoted dtype. Not differentiable; sortedness is not checked.
    """
    if not isinstance(sorted_sequence, Tensor):
        raise TypeError("searchsorted: sorted_sequence must be a Tensor, got "
                        f"{type(sorted_sequence).__name__}")
    if side is not None:
        if side not in ("left", "right"):
            raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
        if right and side == "left":
            raise ValueError("searchsorted: side='left' and right=True contradict each other")
        right = side == "right"
    if sorted_sequence.data.dtype == np.bool_:
        raise DTypeError("searchsorted: bool sequences are not supported (as PyTorch)")
    scalar = isinstance(values, numbers.Number)
    s, v = promote_pair(sorted_sequence, as_operand(values, sorted_sequence))
    sd, vd = s.data, v.data
    if sd.ndim == 0:
        raise ShapeError("searchsorted: sorted_sequence must have at least one dimension, got a 0-d tensor")
    if sd.ndim > 1 and (scalar or vd.ndim != sd.ndim or vd.shape[:-1] != sd.shape[:-1]):
        raise ShapeError(
            f"searchsorted: sorted_sequence of shape {tuple(sd.shape)} needs values whose leading dims "
            f"match its first {sd.ndim - 1} (values of shape (*{tuple(sd.shape[:-1])}, m)), got values of "
            f"shape {tuple(vd.shape)}; or use a 1-D sorted_sequence")
    xp = xp_of(sd)
    n = sd.shape[-1]
    srt = None
    if sorter is not None:
        srt = sorter.data if isinstance(sorter, Tensor) else np.asarray(sorter)
        if srt.dtype != np.int64:
            raise DTypeError(f"searchsorted: sorter must be an int64 tensor, got {srt.dtype}")
        if srt.shape != sd.shape:
            raise ShapeError(f"searchsorted: sorter of shape {tuple(srt.shape)} must have sorted_sequence's "
                             f"shape {tuple(sd.shape)}")
        if srt.size and (int(srt.min()) < 0 or int(srt.max()) >= n):
            raise GradIndexError(f"searchsorted: sorter values must be in [0, {n}), got "
                                 f"[{int(srt.min())}, {int(srt.max())}]")
    dtype = np.int32 if out_int32 else np.int64
    if n == 0:
        return Tensor._make(xp.zeros(vd.shape, dtype=dtype))
    if sd.ndim == 1:
        seq = sd if srt is None else sd[srt]
        if _is_plainly_sorted(seq):  # the common case: NumPy's C loop
            return Tensor._make(xp.asarray(xp.searchsorted(seq, vd, side="right" if right else "left"),
                                           dtype=dtype))
        out = _binary_search(sd.reshape(1, n), vd.reshape(1, -1), right,
                             None if srt is None else srt.reshape(1, n))
    else:
        rows = int(np.prod(sd.shape[:-1]))
        out = _binary_search(sd.reshape(rows, n), vd.reshape(rows, -1), right,
                             None if srt is None else srt.reshape(rows, n))
    return Tensor._make(out.reshape(vd.shape).astype(dtype))


def bucketize(input, boundaries, *, out_int32: bool = False, right: bool = False) -> Tensor:  # noqa: A002
    """Bucket index of each element of ``input`` for 1-D ``boundaries``: ``right=False`` gives i with
    ``boundaries[i-1] < x <= boundaries[i]``, ``right=True`` gives ``boundaries[i-1] <= x <
    boundaries[i]`` (that is ``searchsorted(boundaries, input, right=right)``). Result: input's
    shape (0-d for a Python number), int64 (int32 with ``out_int32``). Not differentiable."""
    if not isinstance(boundaries, Tensor) or boundaries.ndim != 1:
        got = f"{boundaries.ndim}-d" if isinstance(boundaries, Tensor) else type(boundaries).__name__
        raise ShapeError(f"bucketize: boundaries must be a 1-D tensor, got {got}")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)
