"""Indexing ops. Reading with an index is a gather; its gradient is a scatter-add into zeros
(repeated indices accumulate), and the gradient of that scatter is the gather again.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.function import Function, FusedFunction
from ..errors import DTypeError, GradIndexError, ShapeError
from ..tensor import Tensor

xp_of = backend.get_array_module


def index_arrays(idx):
    """Replace Tensors / lists inside an index by arrays (bool masks stay bool)."""
    if isinstance(idx, tuple):
        return tuple(index_arrays(i) for i in idx)
    if isinstance(idx, Tensor):
        return idx.data
    if isinstance(idx, list):
        return np.asarray(idx) if idx else np.zeros(0, np.int64)  # x[[]]: an empty integer index
    return idx


def _has_no_int_arrays(idx) -> bool:
    """True when no integer array is in the index (so no element can be addressed twice)."""
    items = idx if isinstance(idx, tuple) else (idx,)
    return not any(hasattr(i, "dtype") and i.dtype.kind in "iu" for i in items)


class GetItem(FusedFunction):
    """y = x[idx];  gx = zeros with gy scatter-added at idx (on raw arrays for a plain backward,
    with the ``IndexAddZeros`` op for ``create_graph=True``)."""
    is_view = True

    @staticmethod
    def forward(ctx, x, idx):
        ctx.save_raw(idx=idx)  # may hold index arrays
        ctx.in_shape = x.shape
        y = x[idx]
        return y

    @staticmethod
    def backward_raw(ctx, gy):
        return _index_add_zeros(gy, ctx.idx, ctx.in_shape), None

    @staticmethod
    def backward_composed(ctx, gy):
        return IndexAddZeros.apply(gy, ctx.idx, ctx.in_shape), None


def _index_add_zeros(x, idx, shape):
    """zeros(shape) with ``x`` added at ``idx`` (repeated indices accumulate)."""
    xp = xp_of(x)
    y = xp.zeros(shape, dtype=x.dtype)
    if _has_no_int_arrays(idx):  # slices / ints / bool masks never address an element twice
        y[idx] = x
    elif xp is np:
        np.add.at(y, idx, x)
    else:
        _scatter_add_gpu(y, idx, x)
    return y


class IndexAddZeros(Function):
    """y = zeros(shape) with x added at ``idx`` (np.add.at: repeated indices accumulate);
    gx = y_grad[idx]."""

    @staticmethod
    def forward(ctx, x, idx, shape):
        ctx.save_raw(idx=idx)
        return _index_add_zeros(x, idx, shape)

    @staticmethod
    def backward(ctx, gy):
        return GetItem.apply(gy, ctx.idx), None, None


def _scatter_add_gpu(y, idx, x):
    import cupyx

    cupyx.scatter_add(y, idx, x)


# ---------------------------------------------------------------------------------------------
# x[idx]: PyTorch's placement of advanced-index dimensions
# ---------------------------------------------------------------------------------------------
# NumPy and PyTorch agree on every index but one family. NumPy counts an integer as an advanced
# index when an array index is present; PyTorch applies integers first, like slices (``select``),
# and only then places the dimensions of the index tensors: where the first one was when all index
# tensors are adjacent (after the integers are gone), else at the front. So ``x[0, :, idx]`` is
# (5, len(idx), ...) in PyTorch but (len(idx), 5, ...) in NumPy; an Ellipsis that covers no
# dimension does not separate index tensors in PyTorch either. ``_torch_index`` rewrites such an
# index into one NumPy evaluates with PyTorch's placement: integers between the first and last
# index tensor stay integers (NumPy then sees the same adjacency as PyTorch), integers outside that
# span become one-element slices whose size-1 dimensions are dropped afterwards (a reshape).
def _item(it):
    """One index item as NumPy takes it; a 0-d integer tensor indexes like an int (as in PyTorch)."""
    t = type(it)
    if t is int or it is None or it is Ellipsis:
        return it
    if t is slice:
        if it.step is not None and int(it.step) <= 0:
            raise ValueError(f"getitem: slice step must be greater than zero, got {it.step} "
                             "(PyTorch has no negative steps; use flip)")
        return it
    if isinstance(it, Tensor):
        it = it.data
    elif t is list:
        it = np.asarray(it) if it else np.zeros(0, np.int64)
    if isinstance(it, (bool, np.bool_)):
        return bool(it)
    if isinstance(it, (int, np.integer)):
        return int(it)
    if isinstance(it, float):
        raise GradIndexError(f"getitem: only integers, slices, None, ..., and integer or bool tensors are "
                             f"valid indices, got the float {it}")
    if hasattr(it, "dtype") and it.ndim == 0 and it.dtype.kind in "iu":
        return int(it)
    return it


def _is_advanced(it) -> bool:
    """Index tensors (integer or bool) and Python bools: the items PyTorch records as tensors."""
    return type(it) is bool or hasattr(it, "dtype")


def _consumed(it) -> int:
    """How many dimensions of the indexed tensor an item uses up."""
    if it is None or it is Ellipsis or type(it) is bool:
        return 0
    if hasattr(it, "dtype") and it.dtype == np.bool_:
        return it.ndim
    return 1


def _prepare(idx, shape, op):
    """Normalise ``idx`` (``_item`` on each entry), check integer bounds, and tell whether the
    index needs ``_torch_index`` (an index tensor together with an integer or an Ellipsis)."""
    items = tuple(_item(i) for i in idx) if type(idx) is tuple else (_item(idx),)
    ndim = len(shape)
    n_explicit = sum(_consumed(i) for i in items)
    dim, adv, special = 0, False, False
    for it in items:
        t = type(it)
        if t is slice:
            dim += 1
            continue
        if it is None or t is bool:
            adv = adv or t is bool
            continue
        if it is Ellipsis:
            dim += ndim - n_explicit
            special = True
            continue
        if dim >= ndim:
            raise GradIndexError(f"{op}: too many indices for a tensor of shape {tuple(shape)}")
        size = shape[dim]
        if t is int:
            if not -size <= it < size:
                raise GradIndexError(f"{op}: index {it} is out of range for dimension {dim} with "
                                     f"size {size} (tensor shape {tuple(shape)})")
            special = True
            dim += 1
            continue
        adv = True
        if it.dtype == np.bool_:
            dim += it.ndim
            continue
        if it.size and it.dtype.kind in "iu":
            lo, hi = int(it.min()), int(it.max())
            if lo < -size or hi >= size:
                bad = hi if hi >= size else lo
                raise GradIndexError(f"{op}: index {bad} is out of range for dimension {dim} with size "
                                     f"{size} (tensor shape {tuple(shape)})")
        dim += 1
    return (items if type(idx) is tuple else items[0]), adv and special


def _torch_index(items, shape):
    """``(np_index, torch_shape, np_shape)`` for a normalised tuple index that mixes index tensors
    with integers or an Ellipsis: a NumPy index giving PyTorch's result for ``x[items]`` up to a
    reshape from NumPy's result shape ``np_shape`` to ``torch_shape`` (both None when NumPy's result
    already is PyTorch's)."""
    items = list(items)
    adv = [k for k, it in enumerate(items) if _is_advanced(it)]
    first, last = adv[0], adv[-1]
    has_int = any(type(it) is int for it in items)
    ellipses = [k for k, it in enumerate(items) if it is Ellipsis]
    if not has_int and not any(first < k < last for k in ellipses):
        return tuple(items), None, None
    if len(ellipses) > 1:
        raise GradIndexError("getitem: an index can only have a single ellipsis ('...')")
    if ellipses:  # spelled out: an Ellipsis covering no dimension separates nothing in PyTorch
        k = ellipses[0]
        items[k:k + 1] = [slice(None)] * max(len(shape) - sum(_consumed(it) for it in items), 0)
        adv = [k for k, it in enumerate(items) if _is_advanced(it)]
        first, last = adv[0], adv[-1]
    # walk the items: NumPy's basic output dims (size, dropped?) and the advanced index shapes
    basic, adv_shapes, out, dim = [], [], [], 0
    before = 0  # number of basic dims before the advanced block (when it is adjacent)
    for k, it in enumerate(items):
        if k == first:
            before = len(basic)
        if it is None:
            basic.append((1, False))
        elif type(it) is slice:
            basic.append((len(range(*it.indices(shape[dim]))), False))
        elif type(it) is int:
            if first <= k <= last:
                adv_shapes.append(())
            else:  # PyTorch's select, as a one-element slice whose dim is dropped below
                i = it % shape[dim]
                basic.append((1, True))
                it = slice(i, i + 1)
        elif type(it) is bool:
            adv_shapes.append((int(it),))
        elif it.dtype == np.bool_:
            adv_shapes.append((int(xp_of(it).count_nonzero(it)),))
        else:
            adv_shapes.append(it.shape)
        out.append(it)
        dim += _consumed(items[k])
    basic += [(shape[d], False) for d in range(dim, len(shape))]
    try:
        bshape = [(s, False) for s in np.broadcast_shapes(*adv_shapes)]
    except ValueError:
        raise GradIndexError(f"getitem: shape mismatch: indexing tensors could not be broadcast together "
                             f"with shapes {[tuple(s) for s in adv_shapes]}") from None
    adjacent = all(_is_advanced(it) or type(it) is int for it in items[first:last + 1])
    dims = basic[:before] + bshape + basic[before:] if adjacent else bshape + basic
    np_shape = tuple(s for s, _ in dims)
    torch_shape = tuple(s for s, drop in dims if not drop)
    if torch_shape == np_shape:
        return tuple(out), None, None
    return tuple(out), torch_shape, np_shape


def setitem_index(shape, idx):
    """For ``x[idx] = v`` on the data (``Tensor.__setitem__``): the NumPy index, and None or a
    function that lays out a value given in PyTorch's result layout the way NumPy's assignment
    expects it (when integers are mixed with index tensors)."""
    shape = tuple(shape)
    idx, special = _prepare(idx, shape, "__setitem__")
    if not special:
        return idx, None
    np_idx, torch_shape, np_shape = _torch_index(idx, shape)
    if torch_shape is None:
        return np_idx, None

    def layout(v):
        v = v if hasattr(v, "shape") else np.asarray(v)
        return xp_of(v).broadcast_to(v, torch_shape).reshape(np_shape)
    layout.torch_shape = torch_shape            # for the gradient of a recorded assignment (SetItem)
    return np_idx, layout


def getitem(x, idx) -> Tensor:
    """``x[idx]`` with ints, slices, None, ..., integer arrays and bool masks (PyTorch semantics,
    including where the dimensions of index tensors land when integers are mixed in)."""
    idx, special = _prepare(idx, x.shape, "getitem")
    if hasattr(idx, "dtype") and idx.dtype == np.bool_ and idx.shape != x.shape[: idx.ndim]:
        raise GradIndexError(f"getitem: boolean mask of shape {idx.shape} does not match the indexed "
                             f"tensor of shape {tuple(x.shape)}")
    if not special:
        return GetItem.apply(x, idx)
    np_idx, torch_shape, _ = _torch_index(idx, x.shape)
    y = GetItem.apply(x, np_idx)
    if torch_shape is not None:  # drop the dims of integers applied as one-element slices
        from .movement import reshape

        y = reshape(y, torch_shape)
    return y


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


def gather_full_index(index, dim):
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
        return x[gather_full_index(index, dim)]

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
        full = gather_full_index(index, dim)
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
    """``ops.scatter.scatter_add`` (the scatter family lives in ``ops.scatter``; kept importable here)."""
    from .scatter import scatter_add as scatter_add_

    return scatter_add_(x, dim, index, src)


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
    """Indices of the nonzero elements: an int64 (n, ndim) tensor, or a tuple of ndim int64 (n,)
    tensors with ``as_tuple``. A 0-d tensor counts as 1-d for ``as_tuple`` (PyTorch) and gives
    (1, 0) or (0, 0) otherwise."""
    xp = xp_of(x.data)
    if x.ndim == 0:
        n = int(bool(x.data))
        if as_tuple:
            return (Tensor._make(xp.zeros(n, dtype=np.int64)),)
        return Tensor._make(xp.zeros((n, 0), dtype=np.int64))
    idx = xp.nonzero(x.data)
    if as_tuple:
        return tuple(Tensor._make(i.astype(np.int64)) for i in idx)
    return Tensor._make(xp.stack(idx, axis=1).astype(np.int64))


def _index_data(index, op: str, dtypes: str = "int64 or int32"):
    """The raw integer array of an index argument, refusing other dtypes as PyTorch does."""
    idx = index.data if isinstance(index, Tensor) else np.asarray(index)
    ok = idx.dtype == np.int64 or (dtypes == "int64 or int32" and idx.dtype == np.int32)
    if not ok:
        raise DTypeError(f"{op}: index must be an {dtypes} tensor, got dtype {idx.dtype}")
    return idx


def take(x, index) -> Tensor:
    """``x`` read as a 1-D tensor at ``index`` (int64, any shape; negative counts from the end);
    out has ``index``'s shape. Gradient: scatter-add into the flattened x (repeats accumulate)."""
    from .movement import reshape

    idx = _index_data(index, "take", "int64")
    n = x.numel()
    if idx.size and (int(idx.min()) < -n or int(idx.max()) >= n):
        bad = int(idx.max()) if int(idx.max()) >= n else int(idx.min())
        raise GradIndexError(f"take: index {bad} is out of range for a tensor of {n} elements "
                             f"(shape {tuple(x.shape)})")
    flat = idx.reshape(-1)
    if flat.size and int(flat.min()) < 0:  # -1 and n-1 must be one element for the scatter-add
        flat = flat % n
    return reshape(IndexSelect.apply(reshape(x, -1), 0, flat), idx.shape)
