"""Indexing ops. Reading with an index is a gather; its gradient is a scatter-add into zeros
(repeated indices accumulate), and the gradient of that scatter is the gather again.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..errors import GradIndexError, ShapeError
from ..tensor import Tensor

xp_of = backend.get_array_module


def index_arrays(idx):
    """Replace Tensors / lists inside an index by arrays (bool masks stay bool)."""
    if isinstance(idx, tuple):
        return tuple(index_arrays(i) for i in idx)
    if isinstance(idx, Tensor):
        return idx.data
    if isinstance(idx, list):
        return np.asarray(idx)
    return idx


def _has_no_int_arrays(idx) -> bool:
    """True when no integer array is in the index (so no element can be addressed twice)."""
    items = idx if isinstance(idx, tuple) else (idx,)
    return not any(hasattr(i, "dtype") and i.dtype.kind in "iu" for i in items)


class GetItem(Function):
    """y = x[idx];  gx = zeros with gy scatter-added at idx."""

    @staticmethod
    def forward(ctx, x, idx):
        ctx.save_raw(idx=idx)  # may hold index arrays
        ctx.in_shape = x.shape
        y = x[idx]
        return y

    @staticmethod
    def backward(ctx, gy):
        return IndexAddZeros.apply(gy, ctx.idx, ctx.in_shape), None


class IndexAddZeros(Function):
    """y = zeros(shape) with x added at ``idx`` (np.add.at: repeated indices accumulate);
    gx = y_grad[idx]."""

    @staticmethod
    def forward(ctx, x, idx, shape):
        ctx.save_raw(idx=idx)
        xp = xp_of(x)
        y = xp.zeros(shape, dtype=x.dtype)
        if _has_no_int_arrays(idx):  # slices / ints / bool masks never address an element twice
            y[idx] = x
        elif xp is np:
            np.add.at(y, idx, x)
        else:
            _scatter_add_gpu(y, idx, x)
        return y

    @staticmethod
    def backward(ctx, gy):
        return GetItem.apply(gy, ctx.idx), None, None


def _scatter_add_gpu(y, idx, x):
    import cupyx

    cupyx.scatter_add(y, idx, x)


def getitem(x, idx) -> Tensor:
    """``x[idx]`` with ints, slices, None, ..., integer arrays and bool masks (PyTorch semantics)."""
    idx = index_arrays(idx)
    if isinstance(idx, np.ndarray) and idx.dtype == np.bool_ and idx.shape != x.shape[: idx.ndim]:
        raise GradIndexError(f"getitem: boolean mask of shape {idx.shape} does not match the indexed "
                             f"tensor of shape {tuple(x.shape)}")
    _check_int_bounds(x, idx)
    return GetItem.apply(x, idx)


def _check_int_bounds(x, idx) -> None:
    """Name the index and the size when an integer index is out of range."""
    items = idx if isinstance(idx, tuple) else (idx,)
    dim = 0
    n_explicit = sum(1 for i in items if i is not None and i is not Ellipsis)
    for it in items:
        if it is Ellipsis:
            dim += x.ndim - n_explicit
            continue
        if it is None:
            continue
        if dim >= x.ndim:
            raise GradIndexError(f"getitem: too many indices for a tensor of shape {tuple(x.shape)}")
        size = x.shape[dim]
        if isinstance(it, (int, np.integer)):
            if not -size <= it < size:
                raise GradIndexError(f"getitem: index {int(it)} is out of range for dimension {dim} with "
                                     f"size {size} (tensor shape {tuple(x.shape)})")
        elif hasattr(it, "dtype") and it.dtype.kind in "iu" and it.size:
            lo, hi = int(it.min()), int(it.max())
            if lo < -size or hi >= size:
                bad = hi if hi >= size else lo
                raise GradIndexError(f"getitem: index {bad} is out of range for dimension {dim} with size "
                                     f"{size} (tensor shape {tuple(x.shape)})")
        dim += it.ndim if hasattr(it, "dtype") and it.dtype == np.bool_ else 1


class IndexSelect(Function):
    """y = x.take(index, axis);  gx = zeros with gy added at ``index`` along ``axis``."""

    @staticmethod
    def forward(ctx, x, axis, index):
        ctx.save_raw(index=index)
        ctx.axis, ctx.in_shape = axis, x.shape
        return xp_of(x).take(x, index, axis=axis)

    @staticmethod
    def backward(ctx, gy):
        return IndexAdd.apply(gy, ctx.axis, ctx.index, ctx.in_shape[ctx.axis]), None, None


class IndexAdd(Function):
    """y = zeros with size ``n`` along ``axis``, x's slices added at ``index``;  gx = y_grad.take(index)."""

    @staticmethod
    def forward(ctx, x, axis, index, n):
        ctx.save_raw(index=index)
        ctx.axis = axis
        xp = xp_of(x)
        shape = list(x.shape)
        shape[axis] = n
        y = xp.zeros(shape, dtype=x.dtype)
        sl = (slice(None),) * axis + (index,)
        if xp is np:
            if axis == 0 and x.ndim == 2 and index.ndim == 1:
                _rows_add(y, index, x)
            else:
                np.add.at(y, sl, x)
        else:
            _scatter_add_gpu(y, sl, x)
        return y

    @staticmethod
    def backward(ctx, gy):
        return IndexSelect.apply(gy, ctx.axis, ctx.index), None, None, None


def _rows_add(y, index, x) -> None:
    """y[index[i]] += x[i] for 2-D x: sort once and sum runs (much faster than np.add.at)."""
    if index.size == 0:
        return
    order = np.argsort(index, kind="stable")
    si = index[order]
    starts = np.flatnonzero(np.r_[True, si[1:] != si[:-1]])
    y[si[starts]] += np.add.reduceat(x[order], starts, axis=0)


def index_select(x, dim: int, index) -> Tensor:
    """Rows (or slices along ``dim``) of x picked by a 1-D integer ``index``."""
    from .movement import _dim

    axis = _dim(dim, x.ndim, "index_select")
    idx = index.data if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"index_select: index must be an integer tensor, got {idx.dtype}")
    n = x.shape[axis]
    if idx.size and (int(idx.min()) < -n or int(idx.max()) >= n):
        bad = int(idx.max()) if int(idx.max()) >= n else int(idx.min())
        raise GradIndexError(f"index_select: index {bad} is out of range for dimension {axis} with size {n} "
                             f"(tensor shape {tuple(x.shape)})")
    if idx.size and int(idx.min()) < 0:  # -1 and n-1 must be one row for the backward's scatter-add
        idx = idx % n
    return IndexSelect.apply(x, axis, idx)


def embedding(input, weight) -> Tensor:  # noqa: A002 (PyTorch name)
    """Rows of ``weight`` (V, D) picked by integer ``input`` (any shape) -> (*input.shape, D).

    The gradient scatter-adds into the picked rows (repeated tokens accumulate).
    """
    from .movement import reshape

    idx = input.data if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {idx.dtype}")
    v = weight.shape[0]
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= v):
        bad = int(idx.max()) if int(idx.max()) >= v else int(idx.min())
        raise GradIndexError(f"embedding: index {bad} is out of range for an embedding table of {v} rows "
                             f"(weight shape {tuple(weight.shape)})")
    flat = IndexSelect.apply(weight, 0, idx.reshape(-1))
    return reshape(flat, idx.shape + (weight.shape[1],))


def _gather_full_index(index, dim):
    """Open-mesh index tuple so that ``y[full] `` addresses ``y[..., index[...], ...]`` at ``dim``."""
    xp = xp_of(index)
    full = []
    for d in range(index.ndim):
        if d == dim:
            full.append(index)
        else:
            shape = [1] * index.ndim
            shape[d] = index.shape[d]
            full.append(xp.arange(index.shape[d]).reshape(shape))
    return tuple(full)


class Gather(Function):
    """y[i][j][k] = x[i][index[i][j][k]][k] (for dim=1);  gx = scatter-add of gy at index."""

    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.save_raw(index=index)
        ctx.dim, ctx.in_shape = dim, x.shape
        return x[_gather_full_index(index, dim)]

    @staticmethod
    def backward(ctx, gy):
        return ScatterAddZeros.apply(gy, ctx.dim, ctx.index, ctx.in_shape), None, None


class ScatterAddZeros(Function):
    """y = zeros(shape); y[..index..] += x along ``dim``;  gx = gather(y_grad, dim, index)."""

    @staticmethod
    def forward(ctx, x, dim, index, shape):
        ctx.save_raw(index=index)
        ctx.dim = dim
        xp = xp_of(x)
        y = xp.zeros(shape, dtype=x.dtype)
        full = _gather_full_index(index, dim)
        if xp is np:
            np.add.at(y, full, x)
        else:
            _scatter_add_gpu(y, full, x)
        return y

    @staticmethod
    def backward(ctx, gy):
        return Gather.apply(gy, ctx.dim, ctx.index), None, None, None


def gather(x, dim: int, index) -> Tensor:
    """PyTorch's ``gather``: ``index`` has x's number of dims and is no larger in any dim but ``dim``."""
    from .movement import _dim

    d = _dim(dim, x.ndim, "gather")
    idx = index.data if isinstance(index, Tensor) else np.asarray(index)
    if idx.ndim != x.ndim:
        raise ShapeError(f"gather: index has {idx.ndim} dims but input has {x.ndim} "
                         f"(shapes {tuple(idx.shape)} and {tuple(x.shape)})")
    for k in range(x.ndim):
        if k != d and idx.shape[k] > x.shape[k]:
            raise ShapeError(f"gather: index shape {tuple(idx.shape)} is larger than input shape "
                             f"{tuple(x.shape)} in dim {k}")
    n = x.shape[d]
    if idx.size and (int(idx.min()) < -n or int(idx.max()) >= n):
        bad = int(idx.max()) if int(idx.max()) >= n else int(idx.min())
        raise GradIndexError(f"gather: index {bad} is out of range for dimension {d} with size {n}")
    return Gather.apply(x, d, idx % n if idx.size and int(idx.min()) < 0 else idx)


def scatter_add(x, dim: int, index, src) -> Tensor:
    """out = x.clone(); out[..index..] += src along ``dim`` (differentiable in x and src)."""
    from .movement import _dim

    d = _dim(dim, x.ndim, "scatter_add")
    idx = index.data if isinstance(index, Tensor) else np.asarray(index)
    if src.shape != idx.shape:
        src = src[tuple(slice(0, s) for s in idx.shape)]
    return x + ScatterAddZeros.apply(src, d, idx, x.shape)


def take_along_dim(x, indices, dim: int | None = None) -> Tensor:
    """Like NumPy's ``take_along_axis``; with ``dim=None`` on the flattened tensor."""
    from .movement import broadcast_to, reshape

    if dim is None:
        return gather(reshape(x, -1), 0, reshape(indices, -1) if isinstance(indices, Tensor)
                      else np.asarray(indices).reshape(-1))
    idx = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
    shape = list(np.broadcast_shapes(tuple(s if k != dim % x.ndim else 1 for k, s in enumerate(x.shape)),
                                     tuple(s if k != dim % x.ndim else 1 for k, s in enumerate(idx.shape))))
    xs = list(shape)
    xs[dim % x.ndim] = x.shape[dim]
    ish = list(shape)
    ish[dim % x.ndim] = idx.shape[dim]
    return gather(broadcast_to(x, tuple(xs)), dim, xp_of(idx).broadcast_to(idx, tuple(ish)))


def one_hot(x, num_classes: int = -1) -> Tensor:
    """Integer tensor (...,) -> int64 one-hot (..., num_classes). Not differentiable."""
    idx = x.data if isinstance(x, Tensor) else np.asarray(x)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expects an integer tensor, got dtype {idx.dtype}")
    if num_classes < 0:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= num_classes):
        raise GradIndexError(f"one_hot: class values must be in [0, {num_classes}), got "
                             f"min {int(idx.min())} and max {int(idx.max())}")
    xp = xp_of(idx)
    out = (idx[..., None] == xp.arange(num_classes)).astype(np.int64)
    return Tensor._make(out)


def masked_fill(x, mask, value) -> Tensor:
    """x with ``value`` where ``mask`` is True (mask broadcasts to x);  gx = gy where not mask."""
    from .elementwise import where

    m = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise TypeError(f"masked_fill: mask must be a bool tensor, got dtype {m.dtype}")
    try:
        if np.broadcast_shapes(m.shape, x.shape) != x.shape:
            raise ValueError
    except ValueError:
        raise ShapeError(f"masked_fill: mask of shape {tuple(m.shape)} cannot broadcast to input shape "
                         f"{tuple(x.shape)}") from None
    if isinstance(value, Tensor):
        return where(m, value.to(x.dtype) if value.dtype != x.dtype else value, x)
    return where(m, Tensor._make(xp_of(x.data).asarray(value, dtype=x.dtype)), x)


def masked_select(x, mask) -> Tensor:
    m = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    from .movement import broadcast_to

    shape = np.broadcast_shapes(m.shape, x.shape)
    return getitem(broadcast_to(x, shape), xp_of(m).broadcast_to(m, shape))


def nonzero(x, as_tuple: bool = False):
    idx = xp_of(x.data).nonzero(x.data)
    if as_tuple:
        return tuple(Tensor._make(i.astype(np.int64)) for i in idx)
    return Tensor._make(xp_of(x.data).stack(idx, axis=1).astype(np.int64))
