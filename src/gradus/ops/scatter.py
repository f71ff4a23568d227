"""Scatter ops: a copy of ``input`` with values written (or reduced) into it at given indices.

Along ``dim`` with an index of the input's rank (``index[i][j]`` names the row for ``src[i][j]``
when dim=0): ``scatter`` (write a src tensor or a scalar), ``scatter_add``, ``scatter_reduce`` (sum,
prod, mean, amax, amin; ``include_self``). Along ``dim`` with a 1-D index of whole slices:
``index_add``, ``index_copy``. At a bool mask: ``masked_scatter``. Each forward is one NumPy
assignment or ``ufunc.at`` (repeated indices accumulate); each backward is a gather of the output
gradient plus a mask, written with Tensor ops, so gradients are differentiable again.

Validation follows PyTorch: the index is int64 (int32 too where PyTorch takes it), in range (no
negative indices), no larger than src in any dim and than input in any dim but ``dim``; src and
input have the same dtype. The error types are gradus's (IndexError for indices, ValueError for
shapes, TypeError for dtypes) where PyTorch mostly raises RuntimeError.
"""
from __future__ import annotations

import warnings

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..errors import AutogradError, DTypeError, GradIndexError, ShapeError
from ..tensor import Tensor
from .indexing import Gather, IndexAdd, IndexSelect, ScatterAddZeros, _index_data, gather_full_index

xp_of = backend.get_array_module

_warned: set = set()


def _warn_once(key: str, message: str) -> None:
    """PyTorch's TORCH_WARN_ONCE: a deprecation warning the first time per process."""
    if key not in _warned:
        _warned.add(key)
        warnings.warn(message, UserWarning, stacklevel=3)


# ---------------------------------------------------------------------------------------------
# Functions
# ---------------------------------------------------------------------------------------------
class Scatter(Function):
    """y = x with ``src`` written at ``index`` along ``dim`` (y[index[i][j]][j] = src[i][j] for dim=0;
    of repeated targets the last write wins, as PyTorch on CPU);  gx = gy zeroed where written,
    gsrc = gather(gy, dim, index) (every src element, also an overwritten one, as PyTorch)."""

    @staticmethod
    def forward(ctx, x, src, dim, index):
        ctx.save_raw(index=index)
        ctx.dim = dim
        y = x.copy()
        y[gather_full_index(index, dim)] = src
        return y

    @staticmethod
    def backward(ctx, gy):
        gx = ScatterValue.apply(gy, ctx.dim, ctx.index, 0) if ctx.needs_input_grad[0] else None
        gs = Gather.apply(gy, ctx.dim, ctx.index) if ctx.needs_input_grad[1] else None
        return gx, gs, None, None


class ScatterValue(Function):
    """y = x with the scalar ``value`` written at ``index`` along ``dim``;  gx = gy zeroed there."""

    @staticmethod
    def forward(ctx, x, dim, index, value):
        ctx.save_raw(index=index)
        ctx.dim = dim
        y = x.copy()
        y[gather_full_index(index, dim)] = value
        return y

    @staticmethod
    def backward(ctx, gy):
        return ScatterValue.apply(gy, ctx.dim, ctx.index, 0), None, None, None


_UFUNC = {"sum": "add", "mean": "add", "prod": "multiply", "amax": "maximum", "amin": "minimum"}


def _identity(reduce, dtype):
    """The value a reduction starts from when ``include_self=False``."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    big = np.inf if dtype.kind == "f" else np.iinfo(dtype).max
    return -big if reduce == "amax" else big


def _ufunc_at(xp, name, y, full, src) -> None:
    if xp is np:
        getattr(np, name).at(y, full, src)
        return
    import cupyx

    fn = {"add": cupyx.scatter_add, "maximum": cupyx.scatter_max, "minimum": cupyx.scatter_min}.get(name)
    if fn is not None:
        fn(y, full, src)
        return
    host = backend.as_numpy(y)  # no multiply-scatter on the GPU: reduce on the host
    np.multiply.at(host, tuple(backend.as_numpy(i) for i in full), backend.as_numpy(src))
    y[...] = xp.asarray(host)


class ScatterReduce(Function):
    """y = x with ``src`` reduced into it at ``index`` along ``dim`` (``reduce`` in sum, prod, mean,
    amax, amin); with ``include_self=False`` the targeted elements of x take no part.

    Gradients: sum/mean/amax/amin are gy times a constant weight (1, 1/count, the tie-split share of
    the extremum), gx = gy * w_self and gsrc = gather(gy, dim, index) * w_src. prod uses exclusive
    products (a zero factor handled exactly), written with scatter_reduce itself.
    """

    @staticmethod
    def forward(ctx, x, src, dim, index, reduce, include_self):
        xp = xp_of(x)
        full = gather_full_index(index, dim)
        y = x.copy()
        hit = None
        if not include_self:
            hit = xp.zeros(x.shape, dtype=bool)
            hit[full] = True
            y[hit] = _identity(reduce, x.dtype)
        _ufunc_at(xp, _UFUNC[reduce], y, full, src)
        count = None
        if reduce == "mean":
            count = xp.zeros(x.shape, dtype=x.dtype if x.dtype.kind == "f" else np.int64)
            _ufunc_at(xp, "add", count, full, xp.ones(index.shape, dtype=count.dtype))
            if include_self:
                count += 1
            count[count == 0] = 1
            y = y / count if x.dtype.kind == "f" else y // count
        ctx.dim, ctx.reduce, ctx.include_self = dim, reduce, include_self
        ctx.save_raw(index=index)
        if x.dtype.kind not in "fc":
            return y
        if reduce == "prod":
            ctx.save_for_backward(x, src, y)
            if hit is not None:
                ctx.save_raw(keep=~hit)
            return y
        w_self, w_src = _weights(xp, x, src, y, index, dim, reduce, include_self, hit, count)
        ctx.save_raw(w_self=w_self, w_src=w_src)
        return y

    @staticmethod
    def backward(ctx, gy):
        if ctx.reduce == "prod":
            return (*_prod_grads(ctx, gy), None, None, None, None)
        gx = gs = None
        if ctx.needs_input_grad[0]:
            gx = gy * Tensor._make(ctx.w_self)
        if ctx.needs_input_grad[1]:
            gs = Gather.apply(gy, ctx.dim, ctx.index) * Tensor._make(ctx.w_src)
        return gx, gs, None, None, None, None


def _weights(xp, x, src, y, index, dim, reduce, include_self, hit, count):
    """The constant weights of sum/mean/amax/amin: gx = gy * w_self, gsrc = gather(gy) * w_src."""
    full = gather_full_index(index, dim)
    if reduce in ("sum", "mean"):
        w_self = xp.ones(x.shape, dtype=x.dtype)
        if reduce == "mean":
            w_self = w_self / count
        w_src = w_self[full]
        if hit is not None:
            w_self[hit] = 0
        return w_self, w_src
    # amax / amin: the gradient is split evenly among all elements equal to the extremum. Unlike
    # PyTorch (which counts a tied element of x even with include_self=False, so that src receives
    # half the gradient of an extremum x took no part in), an excluded x is never counted.
    value = y[full]
    self_is = x == y
    if hit is not None:
        self_is &= ~hit
    src_is = src == value
    n = self_is.astype(x.dtype)
    _ufunc_at(xp, "add", n, full, src_is.astype(x.dtype))
    n[n == 0] = 1
    return self_is / n, src_is / n[full]


class _NoDoubleBackward(Function):
    """Identity whose backward raises: marks a gradient that is right to first order only."""

    @staticmethod
    def forward(ctx, x, message):
        ctx.message = message
        return x.view()

    @staticmethod
    def backward(ctx, gy):
        raise AutogradError(ctx.message)


def _prod_grads(ctx, gy):
    """Exclusive products, as PyTorch: for a nonzero factor v, d(prod)/dv = prod / v; for the only
    zero at its target, the product of the others (that factor masked to 1); with two or more zeros
    at one target every factor's gradient is 0, and its second derivative is refused."""
    from .elementwise import where

    x, src, y = ctx.saved_tensors
    dim, index, inc = ctx.dim, ctx.index, ctx.include_self
    gx = gs = None
    if ctx.needs_input_grad[0]:
        masked_self = where(x.data == 0, 1.0, x)
        gx = gy * scatter_reduce(masked_self, dim, index, src, "prod", include_self=inc) / masked_self
        if not inc:
            gx = gx * Tensor._make(ctx.keep)
    if ctx.needs_input_grad[1]:
        xp = xp_of(src.data)
        full = gather_full_index(index, dim)
        zs = src.data == 0
        zeros_at = xp.zeros(x.shape, dtype=np.int64)
        _ufunc_at(xp, "add", zeros_at, full, zs.astype(np.int64))
        n_zeros = zeros_at[full]
        single = zs & (n_zeros == 1)
        masked_result = scatter_reduce(x, dim, index, where(single, 1.0, src), "prod", include_self=inc)
        gs = where(single, Gather.apply(gy * masked_result, dim, index),
                   Gather.apply(gy * y, dim, index) / where(zs, 1.0, src))
        if bool((n_zeros > 1).any()):
            gs = _NoDoubleBackward.apply(
                gs, "scatter_reduce(): double backward is unsupported for src when two or more zeros of "
                    "src are reduced into the same element (as in PyTorch)")
    return gx, gs


class IndexCopy(Function):
    """y = x with whole slices ``src`` copied in at ``index`` along ``axis``;  gx = gy zeroed at the
    copied slices, gsrc = gy's slices at ``index`` (index_select)."""

    @staticmethod
    def forward(ctx, x, src, axis, index):
        ctx.save_raw(index=index)
        ctx.axis, ctx.n = axis, x.shape[axis]
        y = x.copy()
        y[(slice(None),) * axis + (index,)] = src
        return y

    @staticmethod
    def backward(ctx, gy):
        gx = gs = None
        if ctx.needs_input_grad[0]:
            xp = xp_of(gy.data)
            keep = xp.ones(ctx.n, dtype=gy.dtype)
            keep[ctx.index] = 0
            gx = gy * Tensor._make(keep.reshape((ctx.n,) + (1,) * (gy.ndim - ctx.axis - 1)))
        if ctx.needs_input_grad[1]:
            gs = IndexSelect.apply(gy, ctx.axis, ctx.index)
        return gx, gs, None, None


class MaskedScatter(Function):
    """y = x with the first ``mask.sum()`` elements of ``src`` (row-major) written where ``mask``;
    gx = gy where not mask, gsrc = gy[mask] in the first places of src (zeros after)."""

    @staticmethod
    def forward(ctx, x, src, mask):
        ctx.save_raw(mask=mask)
        ctx.src_shape = src.shape
        y = x.copy()
        k = int(mask.sum())
        y[mask] = src.reshape(-1)[:k]
        return y

    @staticmethod
    def backward(ctx, gy):
        from .elementwise import where
        from .indexing import getitem
        from .movement import pad, reshape

        gx = gs = None
        if ctx.needs_input_grad[0]:
            gx = where(ctx.mask, 0.0, gy)
        if ctx.needs_input_grad[1]:
            picked = getitem(gy, Tensor._make(ctx.mask))
            n = int(np.prod(ctx.src_shape))
            gs = reshape(pad(picked, (0, n - picked.shape[0])), ctx.src_shape)
        return gx, gs, None


# ---------------------------------------------------------------------------------------------
# public functions
# ---------------------------------------------------------------------------------------------
def _check_dtype(x, src, op) -> None:
    if src.dtype != x.dtype:
        raise DTypeError(f"{op}: self and src must have the same dtype, got {x.dtype} and {src.dtype}; "
                         f"convert one with .to()")


def _scatter_index(x, dim, index, src, op):
    """Validate a scatter along ``dim``: returns (axis, index array). 0-d inputs are handled by the
    callers as 1-d of size 1 (PyTorch accepts dim 0 / -1 for them)."""
    from .movement import _dim

    d = _dim(dim, max(x.ndim, 1), op)
    idx = _index_data(index, op)
    if idx.ndim != x.ndim:
        raise ShapeError(f"{op}: index has {idx.ndim} dims but self has {x.ndim} (index shape "
                         f"{tuple(idx.shape)}, self shape {tuple(x.shape)}); they must have the same number")
    if src is not None and src.ndim != x.ndim:
        raise ShapeError(f"{op}: src has {src.ndim} dims but self has {x.ndim} (src shape "
                         f"{tuple(src.shape)}, self shape {tuple(x.shape)}); they must have the same number")
    for k in range(idx.ndim):
        if (k != d and idx.shape[k] > x.shape[k]) or (src is not None and idx.shape[k] > src.shape[k]):
            raise ShapeError(f"{op}: index shape {tuple(idx.shape)} must be no larger than self "
                             f"{tuple(x.shape)} apart from dimension {d}, and no larger than src "
                             f"{tuple(src.shape) if src is not None else '(a scalar)'}")
    n = x.shape[d] if x.ndim else 1
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= n):
        bad = int(idx.max()) if int(idx.max()) >= n else int(idx.min())
        raise GradIndexError(f"{op}: index {bad} is out of range for dimension {d} with size {n} "
                             f"(indices must be in [0, {n}))")
    return d, idx


def _src_part(src, idx):
    """The leading ``idx.shape`` block of src (what a scatter reads); a differentiable slice."""
    if src.shape == idx.shape:
        return src
    return src[tuple(slice(0, s) for s in idx.shape)]


def _as_1d(x, idx, src):
    """0-d operands as 1-d of size 1 (returns the reshaped triple)."""
    from .movement import reshape

    return (reshape(x, 1), idx.reshape(1),
            None if src is None else reshape(src, 1))


def scatter(input, dim: int, index, src=None, value=None, *, reduce: str | None = None) -> Tensor:  # noqa: A002
    """``out = input.clone()`` with ``out[index[i][j]][j] = src[i][j]`` (dim=0; likewise for other
    dims), or the scalar ``value`` written at every indexed place. ``index`` has input's rank and is
    no larger than src (and than input apart from ``dim``); only its block of src is read.

    ``reduce='add'`` / ``'multiply'`` accumulate instead of writing (PyTorch's deprecated form of
    ``scatter_reduce(..., 'sum' / 'prod', include_self=True)``, which it is here, gradients
    included). Gradients (plain scatter): d input = grad zeroed where written, d src =
    grad.gather(dim, index).
    """
    from .movement import reshape

    if src is not None and not isinstance(src, Tensor):
        src, value = None, src  # x.scatter(dim, index, 2.5): the fourth argument is the value
    if (src is None) == (value is None):
        raise TypeError("scatter: give exactly one of src (a Tensor) and value (a number)")
    if reduce is not None and reduce not in ("add", "multiply"):
        raise ValueError(f"scatter: reduce argument must be either 'add' or 'multiply', got {reduce!r} "
                         "(scatter_reduce has sum, prod, mean, amax, amin)")
    d, idx = _scatter_index(input, dim, index, src, "scatter")
    if src is not None:
        _check_dtype(input, src, "scatter")
    if reduce is not None:
        if src is not None:
            _warn_once("scatter_reduce", "The reduce argument of scatter with Tensor src is deprecated (as "
                       "in PyTorch); use scatter_reduce instead for more reduction options.")
        else:
            src = Tensor._make(xp_of(input.data).full(idx.shape, value, dtype=input.dtype))
        return scatter_reduce(input, dim, index, src, "sum" if reduce == "add" else "prod")
    if input.ndim == 0:
        x1, i1, s1 = _as_1d(input, idx, src)
        return reshape(scatter(x1, 0, i1, s1 if s1 is not None else value), ())
    if src is None:
        return ScatterValue.apply(input, d, idx, input.dtype.type(value))
    return Scatter.apply(input, _src_part(src, idx), d, idx)


def scatter_add(input, dim: int, index, src) -> Tensor:  # noqa: A002
    """``out = input.clone(); out[index[i][j]][j] += src[i][j]`` (dim=0; repeated indices
    accumulate). Gradients: d input = grad, d src = grad.gather(dim, index)."""
    from .movement import reshape

    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add: src must be a Tensor, got {type(src).__name__}")
    d, idx = _scatter_index(input, dim, index, src, "scatter_add")
    _check_dtype(input, src, "scatter_add")
    if input.ndim == 0:
        x1, i1, s1 = _as_1d(input, idx, src)
        return reshape(scatter_add(x1, 0, i1, s1), ())
    return input + ScatterAddZeros.apply(_src_part(src, idx), d, idx, input.shape)


_REDUCES = ("sum", "prod", "mean", "amax", "amin")


def scatter_reduce(input, dim: int, index, src, reduce: str, *, include_self: bool = True) -> Tensor:  # noqa: A002
    """``out = input.clone()`` with each ``src[i][j]`` reduced into ``out[index[i][j]][j]`` (dim=0)
    by ``reduce``: ``sum``, ``prod``, ``mean`` (integer inputs: floor division), ``amax``, ``amin``.
    With ``include_self=False`` the indexed elements of input take no part (those never indexed keep
    input's value).

    Gradients as PyTorch: mean divides by the count, amax/amin split the gradient evenly among ties
    (an excluded input element is not a tie, where PyTorch counts it), prod uses exclusive products
    (zeros exact; second derivative refused with two or more zeros at one target).
    """
    from .movement import reshape

    if reduce not in _REDUCES:
        raise ValueError(f"scatter_reduce: reduce must be one of {', '.join(_REDUCES)}, got {reduce!r}")
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_reduce: src must be a Tensor, got {type(src).__name__}")
    d, idx = _scatter_index(input, dim, index, src, "scatter_reduce")
    _check_dtype(input, src, "scatter_reduce")
    if input.ndim == 0:
        x1, i1, s1 = _as_1d(input, idx, src)
        return reshape(scatter_reduce(x1, 0, i1, s1, reduce, include_self=include_self), ())
    return ScatterReduce.apply(input, _src_part(src, idx), d, idx, reduce, bool(include_self))


def _index_along(x, dim, index, source, op, dtypes):
    """Validate index_add / index_copy: returns (axis, 1-D index array)."""
    from .movement import _dim

    d = _dim(dim, max(x.ndim, 1), op)
    idx = _index_data(index, op, dtypes)
    if idx.ndim > 1:
        raise GradIndexError(f"{op}: index must be a vector (0-d or 1-d), got shape {tuple(idx.shape)}")
    idx = idx.reshape(-1)
    if not isinstance(source, Tensor):
        raise TypeError(f"{op}: source must be a Tensor, got {type(source).__name__}")
    xs = x.shape if x.ndim else (1,)
    ss = source.shape if source.ndim or not x.ndim else None
    expected = xs[:d] + (idx.size,) + xs[d + 1:]
    if x.ndim == 0:
        ok = source.ndim == 0 and idx.size == 1
    else:
        ok = ss is not None and ss == expected
    if not ok:
        raise ShapeError(f"{op}: source of shape {tuple(source.shape)} does not fit self of shape "
                         f"{tuple(x.shape)} with {idx.size} indices along dim {d} (expected "
                         f"{expected if x.ndim else '()'})")
    n = xs[d]
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= n):
        bad = int(idx.max()) if int(idx.max()) >= n else int(idx.min())
        raise GradIndexError(f"{op}: index {bad} is out of range for dimension {d} with size {n}")
    if source.dtype != x.dtype:
        raise DTypeError(f"{op}: self ({x.dtype}) and source ({source.dtype}) must have the same dtype")
    return d, idx


def index_add(input, dim: int, index, source, *, alpha=1) -> Tensor:  # noqa: A002
    """``out = input.clone(); out.select(dim, index[i]) += alpha * source.select(dim, i)``
    (repeated indices accumulate). Gradients: d input = grad, d source = alpha * grad.index_select."""
    from .movement import reshape

    d, idx = _index_along(input, dim, index, source, "index_add", "int64 or int32")
    if input.dtype.kind in "iub":
        alpha = int(alpha)  # PyTorch casts alpha to the integer dtype
    src = source if alpha == 1 else source * alpha
    if input.ndim == 0:
        return reshape(reshape(input, 1) + IndexAdd.apply(reshape(src, 1), 0, idx, 1), ())
    return input + IndexAdd.apply(src, d, idx, input.shape[d])


def index_copy(input, dim: int, index, source) -> Tensor:  # noqa: A002
    """``out = input.clone(); out.select(dim, index[i]) = source.select(dim, i)`` (int64 index, as
    PyTorch). Gradients: d input = grad zeroed at the copied slices, d source = grad.index_select."""
    from .movement import reshape

    d, idx = _index_along(input, dim, index, source, "index_copy", "int64")
    if input.ndim == 0:
        return reshape(IndexCopy.apply(reshape(input, 1), reshape(source, 1), 0, idx), ())
    return IndexCopy.apply(input, source, d, idx)


def masked_scatter(input, mask, source) -> Tensor:  # noqa: A002
    """``out`` = input (broadcast with mask) with the first ``mask.sum()`` elements of ``source``
    (in row-major order) written where ``mask`` is True. Gradients: d input = grad where not mask
    (summed over broadcast dims), d source = grad[mask] in source's first places, zeros after."""
    from .movement import broadcast_to

    m = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise DTypeError(f"masked_scatter: mask must be a bool tensor, got dtype {m.dtype}")
    if not isinstance(source, Tensor):
        raise TypeError(f"masked_scatter: source must be a Tensor, got {type(source).__name__}")
    if source.dtype != input.dtype:
        raise DTypeError(f"masked_scatter: self ({input.dtype}) and source ({source.dtype}) must have the "
                         "same dtype")
    try:
        shape = np.broadcast_shapes(m.shape, input.shape)
    except ValueError:
        raise ShapeError(f"masked_scatter: mask of shape {tuple(m.shape)} does not broadcast with self of "
                         f"shape {tuple(input.shape)}") from None
    m = xp_of(m).broadcast_to(m, shape)
    k = int(m.sum())
    if source.numel() < k:
        raise ShapeError(f"masked_scatter: source has {source.numel()} elements but the mask selects {k}; "
                         "source needs at least as many")
    return MaskedScatter.apply(broadcast_to(input, shape), source, xp_of(m).ascontiguousarray(m))
