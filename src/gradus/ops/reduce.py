"""Reductions: sum, mean, prod, max/min (values and indices), logsumexp, var/std, norm, argmax,
and the cumulative scans cumsum, cumprod, cummax/cummin, logcumsumexp.

``dim`` may be an int, a tuple of ints or None (all dimensions); ``keepdim`` keeps reduced
dimensions as size 1, exactly as in PyTorch. PyTorch also takes NumPy's names ``axis`` and
``keepdims`` for them; so do these functions (keyword-only, checked only when given, so the
common call pays nothing for them).
"""
from __future__ import annotations

import builtins
import math
from collections import namedtuple

import numpy as np

from .. import backend
from ..autograd.function import Function, FusedFunction
from ..dtypes import to_dtype
from ..errors import DTypeError, GradIndexError
from ..tensor import Tensor
from .movement import broadcast_to, flip, reshape

xp_of = backend.get_array_module

values_indices = namedtuple("values_indices", ["values", "indices"])


def normalize_dims(dim, ndim: int, op: str):
    """``dim`` as a sorted tuple of non-negative axes (None -> all axes)."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = []
    for d in dims:
        d = int(d)
        lim = builtins.max(ndim, 1)
        if not -lim <= d < lim:
            raise GradIndexError(
                f"{op}: dim {d} is out of range for a tensor of {ndim} dimension(s) "
                f"(expected a dim in [{-lim}, {lim - 1}])")
        out.append(d % ndim if ndim else None)
    # a 0-d tensor accepts dim 0 / -1 (as PyTorch) but has no axis to reduce
    return tuple(sorted(set(out))) if ndim else ()


def numpy_names(op: str, dim, keepdim, axis, keepdims):
    """``dim`` / ``keepdim`` from NumPy's ``axis`` / ``keepdims`` (PyTorch accepts both spellings);
    called only when one of them was given."""
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{op}: got both dim={dim!r} and axis={axis!r}; axis is NumPy's name for dim, "
                            "pass one of them")
        dim = axis
    if keepdims is not None:
        if keepdim:
            raise TypeError(f"{op}: got both keepdim and keepdims; keepdims is NumPy's name for keepdim, "
                            "pass one of them")
        keepdim = bool(keepdims)
    return dim, keepdim


def _dtype_arg(dtype, op: str):
    """A ``dtype=`` argument as a NumPy dtype, or a DTypeError naming the op and what was given."""
    try:
        if isinstance(dtype, str) and not dtype.strip():
            raise TypeError
        return to_dtype(dtype)
    except (TypeError, ValueError):
        raise DTypeError(f"{op}: dtype={dtype!r} is not a dtype; expected one such as gradus.float32, "
                         "gradus.float64 or gradus.int64") from None


def _cast(x: Tensor, dtype, op: str) -> Tensor:
    """x in ``dtype`` (a differentiable cast between float dtypes)."""
    from .elementwise import astype

    dt = _dtype_arg(dtype, op)
    return x if dt == x.data.dtype else astype(x, dt)


def _kept_shape(shape, axes):
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _expand_back(gy: Tensor, in_shape, axes, keepdims: bool) -> Tensor:
    """Broadcast a reduced gradient back to the input's shape."""
    if not keepdims and in_shape:
        gy = reshape(gy, _kept_shape(in_shape, axes))
    return broadcast_to(gy, in_shape)


def _expand_back_raw(gy, in_shape, axes, keepdims: bool):
    """``_expand_back`` on a raw array. Small results are written out (NumPy's broadcast_to is
    Python code that costs a few microseconds, more than filling 64K elements); large ones stay a
    read-only broadcast view, as ``broadcast_to`` gives, so no memory is written."""
    if not keepdims and in_shape:
        gy = gy.reshape(_kept_shape(in_shape, axes))
    xp = backend.get_array_module(gy)
    if math.prod(in_shape) <= 65536:
        out = xp.empty(in_shape, dtype=gy.dtype)
        out[...] = gy
        return out
    return xp.broadcast_to(gy, in_shape)


# Sum and Mean end almost every graph (the loss), so their backward is written twice (FusedFunction):
# on raw arrays for a plain backward (no op calls: ~10 us less per call on small tensors) and with
# Tensor ops for create_graph=True.
class Sum(FusedFunction):
    """y = sum of x over ``axes``;  gx = gy broadcast back to x's shape."""

    @staticmethod
    def forward(ctx, x, axes, keepdims):
        ctx.in_shape, ctx.axes, ctx.keepdims = x.shape, axes, keepdims
        return x.sum(axis=axes, keepdims=keepdims)

    @staticmethod
    def backward_raw(ctx, gy):
        return _expand_back_raw(gy, ctx.in_shape, ctx.axes, ctx.keepdims), None, None

    @staticmethod
    def backward_composed(ctx, gy):
        return _expand_back(gy, ctx.in_shape, ctx.axes, ctx.keepdims), None, None


class Mean(FusedFunction):
    """y = mean of x over ``axes``;  gx = gy / n broadcast back."""

    @staticmethod
    def forward(ctx, x, axes, keepdims):
        ctx.in_shape, ctx.axes, ctx.keepdims = x.shape, axes, keepdims
        ctx.n = int(np.prod([x.shape[a] for a in axes])) if axes else 1
        return x.mean(axis=axes, keepdims=keepdims)

    @staticmethod
    def backward_raw(ctx, gy):
        gx = _expand_back_raw(gy * (1.0 / builtins.max(ctx.n, 1)), ctx.in_shape, ctx.axes, ctx.keepdims)
        return gx, None, None

    @staticmethod
    def backward_composed(ctx, gy):
        gx = _expand_back(gy * (1.0 / builtins.max(ctx.n, 1)), ctx.in_shape, ctx.axes, ctx.keepdims)
        return gx, None, None


class Prod(FusedFunction):
    """y = product of x over ``axes``;  gx_i = gy * prod_{j != i} x_j.

    Without zeros this is ``gy * y / x``; with zeros the exclusive products are computed exactly:
    from left and right cumulative products on raw arrays, or (``create_graph=True``) with Tensor ops
    so they can be differentiated again.
    """

    @staticmethod
    def forward(ctx, x, axes, keepdims):
        ctx.in_shape, ctx.axes, ctx.keepdims = x.shape, axes, keepdims
        y = x.prod(axis=axes, keepdims=keepdims)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward_raw(ctx, gy):
        x, y = ctx.saved_arrays
        xp = xp_of(x)
        axes = ctx.axes
        gk = gy if ctx.keepdims else gy.reshape(_kept_shape(ctx.in_shape, axes))
        if not bool((x == 0).any()):
            yk = y if ctx.keepdims else y.reshape(_kept_shape(ctx.in_shape, axes))
            return gk * yk / x, None, None
        # exact exclusive products: move reduced axes last, flatten them, cumprod both ways
        rest = [i for i in range(x.ndim) if i not in axes]
        xt = xp.transpose(x, rest + list(axes))
        moved_shape = xt.shape
        lead = xt.shape[: len(rest)]
        xt = xt.reshape(lead + (-1,))
        ones = xp.ones(lead + (1,), dtype=xt.dtype)
        left = xp.cumprod(xp.concatenate([ones, xt[..., :-1]], axis=-1), axis=-1)
        right = xp.flip(xp.cumprod(xp.flip(xp.concatenate([xt[..., 1:], ones], axis=-1), -1), axis=-1), -1)
        others = xp.transpose((left * right).reshape(moved_shape), np.argsort(rest + list(axes)))
        return gk * others, None, None

    @staticmethod
    def backward_composed(ctx, gy):
        x, y = ctx.saved_tensors
        axes = ctx.axes
        if not bool((x.data == 0).any()):
            yk = y if ctx.keepdims else reshape(y, _kept_shape(ctx.in_shape, axes))
            return _expand_back(gy, ctx.in_shape, axes, ctx.keepdims) * yk / x, None, None
        rest = [i for i in range(x.ndim) if i not in axes]
        others = _exclusive_prod(x, rest, axes)
        return _expand_back(gy, ctx.in_shape, axes, ctx.keepdims) * others, None, None


def _exclusive_prod(x: Tensor, rest, axes) -> Tensor:
    """prod_{j != i} x_j over ``axes`` for every i, with Tensor ops (so it can be differentiated):
    the n reduced elements are repeated n times with the i-th replaced by 1, then multiplied.
    O(n^2) memory, which is why it only serves double backward."""
    from .elementwise import where
    from .movement import permute

    order = list(rest) + list(axes)
    xt = permute(x, *order)
    lead = xt.shape[: len(rest)]
    n = int(np.prod(xt.shape[len(rest):]))
    eye = xp_of(x.data).eye(n, dtype=bool)
    rows = where(eye, 1.0, reshape(xt, lead + (1, n)))       # (..., n, n): row i has x_i -> 1
    others = reshape(prod(rows, -1), xt.shape)                # (..., *reduced)
    return permute(others, *np.argsort(order).tolist())


class MaxMin(Function):
    """Max (or min) over one dim with indices; the gradient flows to the arg-max position."""

    @staticmethod
    def forward(ctx, x, axis, keepdims, is_max):
        xp = xp_of(x)
        idx = (xp.argmax if is_max else xp.argmin)(x, axis=axis, keepdims=True)
        y = xp.take_along_axis(x, idx, axis=axis)
        ctx.in_shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        ctx.save_raw(idx=idx)
        if not keepdims:
            y = y.squeeze(axis)
            idx = idx.squeeze(axis)
        return y, idx.astype(np.int64)  # int output: not differentiable

    @staticmethod
    def backward(ctx, gy, _g_indices):
        xp = xp_of(gy.data)
        shape = [1] * len(ctx.in_shape)
        shape[ctx.axis] = ctx.in_shape[ctx.axis]
        mask = xp.arange(ctx.in_shape[ctx.axis]).reshape(shape) == ctx.idx
        return _expand_back(gy, ctx.in_shape, (ctx.axis,), ctx.keepdims) * mask, None, None, None


class MaxMinAll(Function):
    """Max (or min) over several/all dims; the gradient is shared evenly among tied maxima."""

    @staticmethod
    def forward(ctx, x, axes, keepdims, is_max):
        y = (x.max if is_max else x.min)(axis=axes, keepdims=True)
        mask = x == y
        ctx.save_raw(weights=mask / mask.sum(axis=axes, keepdims=True))
        ctx.in_shape, ctx.axes, ctx.keepdims = x.shape, axes, keepdims
        return y if keepdims else y.reshape(tuple(s for i, s in enumerate(x.shape) if i not in axes))

    @staticmethod
    def backward(ctx, gy):
        w = ctx.weights.astype(gy.dtype, copy=False)
        return _expand_back(gy, ctx.in_shape, ctx.axes, ctx.keepdims) * w, None, None, None


class LogSumExp(Function):
    """y = log(sum(exp(x))) computed stably (shift by the max);  gx = gy * exp(x - y) = gy * softmax."""

    @staticmethod
    def forward(ctx, x, axes, keepdims):
        xp = xp_of(x)
        m = x.max(axis=axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        with np.errstate(divide="ignore"):  # a slice of all -inf: log(0) = -inf is the answer
            y = xp.log(xp.exp(x - m).sum(axis=axes, keepdims=True)) + m
        ctx.in_shape, ctx.axes, ctx.keepdims = x.shape, axes, keepdims
        if not keepdims:
            y = y.reshape(tuple(s for i, s in enumerate(x.shape) if i not in axes))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        from .elementwise import exp

        yk = y if ctx.keepdims else reshape(y, _kept_shape(ctx.in_shape, ctx.axes))
        gk = gy if ctx.keepdims else reshape(gy, _kept_shape(ctx.in_shape, ctx.axes))
        return gk * exp(x - yk), None, None


def _floatify_for_mean(x: Tensor, op: str) -> Tensor:
    if x.data.dtype.kind in "iub":
        raise TypeError(f"{op}: input dtype should be floating point, got gradus.{x.dtype.name}; "
                        "use .float() first")
    return x


def sum(x, dim=None, keepdim: bool = False, dtype=None, *, axis=None, keepdims=None) -> Tensor:  # noqa: A001
    """Sum over ``dim`` (all dims if None). Bool/int inputs sum to int64 (as PyTorch); ``dtype``
    casts the input first."""
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names("sum", dim, keepdim, axis, keepdims)
    axes = normalize_dims(dim, x.ndim, "sum")
    if dtype is not None:
        x = _cast(x, dtype, "sum")
    if x.data.dtype.kind in "biu":
        return Tensor._make(x.data.sum(axis=axes, keepdims=keepdim, dtype=np.int64))
    return Sum.apply(x, axes, keepdim)


def mean(x, dim=None, keepdim: bool = False, dtype=None, *, axis=None, keepdims=None) -> Tensor:
    """Mean over ``dim`` (all dims if None); floating point input (or a floating ``dtype``) only."""
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names("mean", dim, keepdim, axis, keepdims)
    if dtype is not None:
        x = _cast(x, dtype, "mean")
    x = _floatify_for_mean(x, "mean")
    return Mean.apply(x, normalize_dims(dim, x.ndim, "mean"), keepdim)


def prod(x, dim=None, keepdim: bool = False, dtype=None, *, axis=None, keepdims=None) -> Tensor:
    """Product over ``dim`` (all dims if None); bool/int inputs give int64, as PyTorch."""
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names("prod", dim, keepdim, axis, keepdims)
    if dtype is not None:
        x = _cast(x, dtype, "prod")
    axes = normalize_dims(dim, x.ndim, "prod")
    if x.data.dtype.kind in "biu":
        return Tensor._make(xp_of(x.data).asarray(x.data.prod(axis=axes, keepdims=keepdim, dtype=np.int64)))
    return Prod.apply(x, axes, keepdim)


def _maxmin(x, dim, keepdim, is_max: bool, name: str):
    if x.numel() == 0:
        raise ValueError(f"{name}: cannot reduce an empty tensor (shape {tuple(x.shape)})")
    if dim is None or isinstance(dim, (tuple, list)):
        return MaxMinAll.apply(x, normalize_dims(dim, x.ndim, name), keepdim, is_max)
    if x.ndim == 0:
        normalize_dims(dim, 0, name)  # validates dim
        return values_indices(x, Tensor._make(xp_of(x.data).zeros((), np.int64)))
    (axis,) = normalize_dims(dim, x.ndim, name)
    return values_indices(*MaxMin.apply(x, axis, keepdim, is_max))


def max(x, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):  # noqa: A001
    """``max(x)``: the largest value. ``max(x, dim)``: (values, indices) along ``dim``.
    ``max(a, b)`` with a Tensor second argument is the elementwise maximum."""
    if isinstance(dim, Tensor):
        from .elementwise import maximum

        return maximum(x, dim)
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names("max", dim, keepdim, axis, keepdims)
    return _maxmin(x, dim, keepdim, True, "max")


def min(x, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):  # noqa: A001
    """``min(x)``: the smallest value. ``min(x, dim)``: (values, indices) along ``dim``.
    ``min(a, b)`` with a Tensor second argument is the elementwise minimum."""
    if isinstance(dim, Tensor):
        from .elementwise import minimum

        return minimum(x, dim)
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names("min", dim, keepdim, axis, keepdims)
    return _maxmin(x, dim, keepdim, False, "min")


def amax(x, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    """Largest value over ``dim`` (all dims if None); the gradient is shared among ties."""
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names("amax", dim, keepdim, axis, keepdims)
    return MaxMinAll.apply(x, normalize_dims(dim, x.ndim, "amax"), keepdim, True)


def amin(x, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    """Smallest value over ``dim`` (all dims if None); the gradient is shared among ties."""
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names("amin", dim, keepdim, axis, keepdims)
    return MaxMinAll.apply(x, normalize_dims(dim, x.ndim, "amin"), keepdim, False)


def _check_nonempty(name: str, x, dim) -> None:
    """argmax/argmin of an empty tensor (or along an empty dim) has no answer: PyTorch refuses too."""
    if x.data.size == 0:
        where = "an empty tensor" if dim is None else f"dim {dim} of a tensor of shape {tuple(x.shape)}"
        if dim is None or x.shape[normalize_dims(dim, x.ndim, name)[0]] == 0:
            raise IndexError(f"{name}: cannot take the {name} of {where} (expected at least one element; "
                             "specify a non-empty dim)")


def argmax(x, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    """Index of the largest value (in the flattened tensor when ``dim`` is None); int64, no grad."""
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names("argmax", dim, keepdim, axis, keepdims)
    xp = xp_of(x.data)
    _check_nonempty("argmax", x, dim)
    if dim is None:
        idx = xp.argmax(x.data)
        return Tensor._make(xp.asarray(idx, dtype=np.int64).reshape((1,) * x.ndim if keepdim else ()))
    if not normalize_dims(dim, x.ndim, "argmax"):  # 0-d
        return Tensor._make(xp.zeros((), np.int64))
    (axis,) = normalize_dims(dim, x.ndim, "argmax")
    return Tensor._make(xp.argmax(x.data, axis=axis, keepdims=keepdim).astype(np.int64))


def argmin(x, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    """Index of the smallest value (in the flattened tensor when ``dim`` is None); int64, no grad."""
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names("argmin", dim, keepdim, axis, keepdims)
    xp = xp_of(x.data)
    _check_nonempty("argmin", x, dim)
    if dim is None:
        idx = xp.argmin(x.data)
        return Tensor._make(xp.asarray(idx, dtype=np.int64).reshape((1,) * x.ndim if keepdim else ()))
    if not normalize_dims(dim, x.ndim, "argmin"):  # 0-d
        return Tensor._make(xp.zeros((), np.int64))
    (axis,) = normalize_dims(dim, x.ndim, "argmin")
    return Tensor._make(xp.argmin(x.data, axis=axis, keepdims=keepdim).astype(np.int64))


def logsumexp(x, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    """log(sum(exp(x))) over ``dim``, computed stably (shifted by the max)."""
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names("logsumexp", dim, keepdim, axis, keepdims)
    return LogSumExp.apply(x, normalize_dims(dim, x.ndim, "logsumexp"), keepdim)


def var(x, dim=None, unbiased=None, keepdim: bool = False, *, correction=None, axis=None,
        keepdims=None) -> Tensor:
    """Variance sum((x - mean)^2) / (N - correction); correction defaults to 1 (Bessel), as PyTorch.

    Composed of primitives, so it is differentiable to any order.
    """
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names("var", dim, keepdim, axis, keepdims)
    if correction is None:
        correction = 1 if unbiased is None else int(bool(unbiased))
    x = _floatify_for_mean(x, "var")
    axes = normalize_dims(dim, x.ndim, "var")
    n = int(np.prod([x.shape[a] for a in axes])) if axes else 1
    mu = mean(x, axes, keepdim=True)
    d = x - mu
    # N - correction <= 0 gives inf/nan, as in PyTorch
    return sum(d * d, axes, keepdim=keepdim) / float(builtins.max(n - correction, 0))


def _sqrt_zero_grad_at_zero(v: Tensor) -> Tensor:
    """sqrt(v) for v >= 0 whose gradient is 0 (not inf * 0 = nan) where v == 0: PyTorch's choice
    of subgradient for std and norm of constant / zero inputs. Selects, so still differentiable."""
    from .elementwise import sqrt, where

    nonzero = v.data != 0  # NaN stays NaN
    if bool(nonzero.all()):
        return sqrt(v)
    return where(nonzero, sqrt(where(nonzero, v, 1.0)), 0.0)


def std(x, dim=None, unbiased=None, keepdim: bool = False, *, correction=None, axis=None,
        keepdims=None) -> Tensor:
    """Standard deviation sqrt(var) (see ``var``); its gradient is 0 where it is 0, as in PyTorch."""
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names("std", dim, keepdim, axis, keepdims)
    return _sqrt_zero_grad_at_zero(var(x, dim, unbiased, keepdim, correction=correction))


def var_mean(x, dim=None, unbiased=None, keepdim: bool = False, *, correction=None, axis=None,
             keepdims=None):
    """(var, mean) over ``dim``, as two tensors."""
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names("var_mean", dim, keepdim, axis, keepdims)
    return var(x, dim, unbiased, keepdim, correction=correction), mean(x, dim, keepdim)


def std_mean(x, dim=None, unbiased=None, keepdim: bool = False, *, correction=None, axis=None,
             keepdims=None):
    """(std, mean) over ``dim``, as two tensors."""
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names("std_mean", dim, keepdim, axis, keepdims)
    return std(x, dim, unbiased, keepdim, correction=correction), mean(x, dim, keepdim)


class PNorm(Function):
    """y = (sum |x|^p)^(1/p) over ``axes`` for p not in {0, 1, 2, +-inf}, with PyTorch's gradient
    (``norm_backward``), which fixes the values at zeros of x and of y:

    - p < 1:      gx = sign(x) |x|^(p-1) * gy * y^(1-p),  with the first factor 0 where x == 0;
    - 1 < p < 2:  gx = sign(x) |x|^(p-1) * gy / y^(p-1), 0 where y == 0;
    - p > 2:      gx = x |x|^(p-2) * gy / y^(p-1), 0 where y == 0.
    """

    @staticmethod
    def forward(ctx, x, p, axes, keepdims):
        xp = xp_of(x)
        ctx.p, ctx.in_shape, ctx.axes, ctx.keepdims = p, x.shape, axes, keepdims
        with np.errstate(divide="ignore", over="ignore"):  # |0|^p for p < 0 is inf, as PyTorch
            y = (xp.abs(x) ** p).sum(axis=axes, keepdims=keepdims) ** (1.0 / p)
        y = xp.asarray(y, dtype=x.dtype)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        from .elementwise import abs as _abs
        from .elementwise import sign, where

        x, y = ctx.saved_tensors
        p = ctx.p
        if not ctx.keepdims:
            kept = _kept_shape(ctx.in_shape, ctx.axes)
            y, gy = reshape(y, kept), reshape(gy, kept)
        if p < 1:
            zero = x.data == 0
            if bool(zero.any()):  # |x|^(p-1) is inf at 0: mask it (a masked base of 1 keeps it finite)
                scaled = sign(x) * where(zero, 0.0, where(zero, 1.0, _abs(x)) ** (p - 1))
            else:
                scaled = sign(x) * _abs(x) ** (p - 1)
            return scaled * (gy * y ** (1 - p)), None, None, None
        scaled = sign(x) * _abs(x) ** (p - 1) if p < 2 else x * _abs(x) ** (p - 2)
        zero = y.data == 0
        if bool(zero.any()):
            scale = where(zero, 0.0, gy / where(zero, 1.0, y) ** (p - 1))
        else:
            scale = gy / y ** (p - 1)
        return scaled * scale, None, None, None


class CountNonzeroNorm(Function):
    """The "0-norm": the number of nonzero elements, in x's dtype; gradient 0 (PyTorch's)."""

    @staticmethod
    def forward(ctx, x, axes, keepdims):
        ctx.in_shape = x.shape
        xp = xp_of(x)
        return xp.asarray((x != 0).sum(axis=axes, keepdims=keepdims), dtype=x.dtype)

    @staticmethod
    def backward(ctx, gy):
        return Tensor._make(xp_of(gy.data).zeros(ctx.in_shape, gy.dtype)), None, None


def norm(x, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """Vector p-norm ``(sum |x|^p)^(1/p)`` over ``dim`` (all elements if None), for any real p:
    2 / ``"fro"`` (the default), 1, +-inf (max / min of ``|x|``, the gradient shared among ties),
    0 (the number of nonzeros, gradient 0) and any other number; floating point input only.
    Gradients are PyTorch's, including its choices at zeros (0 where the norm is 0 for p >= 1)."""
    from .elementwise import abs as _abs

    if dtype is not None:
        x = _cast(x, dtype, "norm")
    if x.data.dtype.kind not in "fc":
        raise DTypeError(f"norm: expects a floating point tensor, got gradus.{x.dtype.name}; use .float()")
    if isinstance(p, str):
        if p != "fro":
            raise ValueError(f"norm: p={p!r} is not supported; expected a number or 'fro' (matrix norms "
                             "such as 'nuc' are not implemented)")
        p = 2
    if p == 2:
        return _sqrt_zero_grad_at_zero(sum(x * x, dim, keepdim))
    if p == 1:
        return sum(_abs(x), dim, keepdim)
    if p == float("inf"):
        return amax(_abs(x), dim, keepdim)
    if p == -float("inf"):
        return amin(_abs(x), dim, keepdim)
    axes = normalize_dims(dim, x.ndim, "norm")
    if p == 0:
        return CountNonzeroNorm.apply(x, axes, keepdim)
    return PNorm.apply(x, float(p), axes, keepdim)


def all(x, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:  # noqa: A001
    """True where every element over ``dim`` is nonzero (a bool tensor)."""
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names("all", dim, keepdim, axis, keepdims)
    axes = normalize_dims(dim, x.ndim, "all")
    return Tensor._make(xp_of(x.data).asarray(x.data.all(axis=axes, keepdims=keepdim)))


def any(x, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:  # noqa: A001
    """True where some element over ``dim`` is nonzero (a bool tensor)."""
    if axis is not None or keepdims is not None:
        dim, keepdim = numpy_names("any", dim, keepdim, axis, keepdims)
    axes = normalize_dims(dim, x.ndim, "any")
    return Tensor._make(xp_of(x.data).asarray(x.data.any(axis=axes, keepdims=keepdim)))


def count_nonzero(x, dim=None, *, axis=None) -> Tensor:
    """The number of nonzero elements over ``dim`` (int64)."""
    if axis is not None:
        dim, _ = numpy_names("count_nonzero", dim, False, axis, None)
    axes = normalize_dims(dim, x.ndim, "count_nonzero")
    return Tensor._make(xp_of(x.data).asarray((x.data != 0).sum(axis=axes), dtype=np.int64))


# ---------------------------------------------------------------------------------------------
# cumulative scans along one dim: cumsum, cumprod, cummax / cummin, logcumsumexp
# ---------------------------------------------------------------------------------------------
def _scan_axis(x: Tensor, dim, op: str):
    """The one axis a scan runs along, or None for a 0-d tensor (which accepts dim 0 / -1)."""
    if dim is None:
        raise TypeError(f"{op}: missing the dim to scan along (an int)")
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    axes = normalize_dims(dim, x.ndim, op)
    return axes[0] if axes else None


def _reverse_cumsum(g: Tensor, axis: int) -> Tensor:
    """r_k = sum_{j >= k} g_j along ``axis`` (Tensor ops)."""
    return flip(cumsum(flip(g, axis), axis), axis)


class CumSum(Function):
    """y_i = sum_{j <= i} x_j along ``axis``;  gx = reverse cumsum of gy."""

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return xp_of(x).cumsum(x, axis=axis)

    @staticmethod
    def backward(ctx, gy):
        return _reverse_cumsum(gy, ctx.axis), None


class CumProd(FusedFunction):
    """y_j = prod_{i <= j} x_i along ``axis``;  gx_k = sum_{j >= k} gy_j prod_{i <= j, i != k} x_i.

    Without zeros that is reverse_cumsum(gy * y) / x. With zeros (PyTorch's exact rule), along each
    line with its first zero at z: the formula above for k < z; for k = z, reverse_cumsum(gy * y') at
    z, with y' the cumprod of x with x_z replaced by 1; 0 for k > z (every product holds x_z = 0).
    The composed path (double backward) with zeros forms all n exclusive cumprods (O(n^2) memory),
    so that the second derivative is exact too.
    """

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        y = xp_of(x).cumprod(x, axis=axis)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward_raw(ctx, gy):
        x, y = ctx.saved_arrays
        xp, ax = xp_of(x), ctx.axis

        def rcumsum(a):
            return xp.flip(xp.cumsum(xp.flip(a, ax), axis=ax), ax)

        zero = x == 0
        if not bool(zero.any()):
            return rcumsum(gy * y) / x, None
        zeros_so_far = xp.cumsum(zero, axis=ax)
        before = zeros_so_far == 0
        first = zero & (zeros_so_far == 1)
        y1 = xp.cumprod(xp.where(first, 1, x), axis=ax)
        g_before = rcumsum(gy * y) / xp.where(before, x, 1)
        gx = xp.where(before, g_before, xp.where(first, rcumsum(gy * y1), 0))
        return gx.astype(gy.dtype, copy=False), None

    @staticmethod
    def backward_composed(ctx, gy):
        from .elementwise import where
        from .movement import movedim

        x, y = ctx.saved_tensors
        ax = ctx.axis
        if not bool((x.data == 0).any()):
            return _reverse_cumsum(gy * y, ax) / x, None
        xt, gt = movedim(x, ax, -1), movedim(gy, ax, -1)       # (..., n)
        n = xt.shape[-1]
        xp = xp_of(x.data)
        eye = xp.eye(n, dtype=bool)
        rows = where(eye, 1.0, reshape(xt, xt.shape[:-1] + (1, n)))   # row k: x with x_k -> 1
        excl = cumprod(rows, -1)                                        # [..., k, j] = prod_{i<=j, i!=k}
        upper = xp.triu(xp.ones((n, n), dtype=bool))                    # j >= k
        gk = sum(excl * reshape(gt, gt.shape[:-1] + (1, n)) * upper, -1)
        return movedim(gk, -1, ax), None


class CumMaxMin(Function):
    """(values, indices) of the running max (or min) along ``axis``. PyTorch's rules: a tie moves the
    index to the later element, a NaN propagates (its index, and each later NaN's). The gradient of
    the values goes to the element each index points at (summed where several point at one)."""

    @staticmethod
    def forward(ctx, x, axis, is_max):
        xp = xp_of(x)
        values = (xp.maximum if is_max else xp.minimum).accumulate(x, axis=axis)
        shape = [1] * x.ndim
        shape[axis] = x.shape[axis]
        pos = xp.arange(x.shape[axis], dtype=np.int64).reshape(shape)
        # the running index is the last position where x reached the running value (or was NaN)
        reached = x == values
        if x.dtype.kind in "fc":
            reached |= xp.isnan(x)
        idx = xp.maximum.accumulate(xp.where(reached, pos, 0), axis=axis)
        ctx.in_shape, ctx.axis = x.shape, axis
        ctx.save_raw(idx=idx)
        return values, idx

    @staticmethod
    def backward(ctx, gy, _g_indices):
        # gx = zeros.scatter_add(axis, idx, gy): linear in gy, differentiable again (adjoint: a gather)
        zeros = Tensor._make(xp_of(gy.data).zeros(ctx.in_shape, gy.dtype))
        return zeros.scatter_add(ctx.axis, Tensor._make(ctx.idx), gy), None, None


class LogCumSumExp(Function):
    """y_j = log sum_{i <= j} e^(x_i) along ``axis`` (a running log-add-exp: no overflow);
    gx_k = sum_{j >= k} gy_j e^(x_k - y_j), computed as PyTorch does in log space, positive and
    negative parts of gy apart: e^(x + rev_logcumsumexp(log gy+ - y)) - (the same for gy-)."""

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        y = xp_of(x).logaddexp.accumulate(x, axis=axis)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        from .elementwise import exp, log, where

        x, y = ctx.saved_tensors
        ax = ctx.axis
        # "log 0": finite (PyTorch uses the lowest float), so that a line of them is not -inf - -inf = nan;
        # half of it, so that subtracting y does not overflow
        lowest = float(np.finfo(gy.dtype).min) / 2

        def log_abs(mask, sign):  # log |gy| where mask, else "log 0"; the masked base 1 keeps it finite
            return where(mask, log(where(mask, gy * sign, 1.0)), lowest)

        def rev_lcse(t):
            return flip(logcumsumexp(flip(t, ax), ax), ax)

        pos, neg = gy.data > 0, gy.data < 0
        gx = exp(rev_lcse(log_abs(pos, 1.0) - y) + x)
        if bool(neg.any()):
            gx = gx - exp(rev_lcse(log_abs(neg, -1.0) - y) + x)
        return gx, None


def _scan_int_dtype(x: Tensor):
    """Scans of bool / integer tensors accumulate in int64, as PyTorch (NumPy would use uint64 for
    unsigned inputs)."""
    return np.int64 if x.data.dtype.kind in "biu" else None


def cumsum(x, dim=None, *, dtype=None, axis=None) -> Tensor:
    """Running sum along ``dim``: y_i = x_0 + ... + x_i (same shape). Bool/int inputs give int64."""
    if axis is not None:
        dim, _ = numpy_names("cumsum", dim, False, axis, None)
    if dtype is not None:
        x = _cast(x, dtype, "cumsum")
    ax = _scan_axis(x, dim, "cumsum")
    int_dt = _scan_int_dtype(x)
    if int_dt is not None:
        data = x.data if ax is None else xp_of(x.data).cumsum(x.data, axis=ax, dtype=int_dt)
        return Tensor._make(data.astype(int_dt))
    if ax is None:  # 0-d: the sum of one element
        from .elementwise import clone

        return clone(x)
    return CumSum.apply(x, ax)


def cumprod(x, dim=None, *, dtype=None, axis=None) -> Tensor:
    """Running product along ``dim``: y_i = x_0 * ... * x_i (same shape). Bool/int inputs give int64.
    The gradient is exact with zeros in x (PyTorch's rule; see ``CumProd``)."""
    if axis is not None:
        dim, _ = numpy_names("cumprod", dim, False, axis, None)
    if dtype is not None:
        x = _cast(x, dtype, "cumprod")
    ax = _scan_axis(x, dim, "cumprod")
    int_dt = _scan_int_dtype(x)
    if int_dt is not None:
        data = x.data if ax is None else xp_of(x.data).cumprod(x.data, axis=ax, dtype=int_dt)
        return Tensor._make(data.astype(int_dt))
    if ax is None:
        from .elementwise import clone

        return clone(x)
    return CumProd.apply(x, ax)


def _cummaxmin(x, dim, axis, is_max: bool, op: str):
    if axis is not None:
        dim, _ = numpy_names(op, dim, False, axis, None)
    ax = _scan_axis(x, dim, op)
    if ax is None:
        from .elementwise import clone

        return values_indices(clone(x), Tensor._make(xp_of(x.data).zeros((), np.int64)))
    return values_indices(*CumMaxMin.apply(x, ax, is_max))


def cummax(x, dim=None, *, axis=None):
    """(values, indices): the running maximum along ``dim`` and where it was reached. As PyTorch, a
    tie moves the index to the later element and NaN propagates. Any dtype; values are
    differentiable (the gradient goes to the indexed elements)."""
    return _cummaxmin(x, dim, axis, True, "cummax")


def cummin(x, dim=None, *, axis=None):
    """(values, indices): the running minimum along ``dim`` (ties: the later index; NaN
    propagates)."""
    return _cummaxmin(x, dim, axis, False, "cummin")


def logcumsumexp(x, dim=None, *, axis=None) -> Tensor:
    """y_i = log(e^x_0 + ... + e^x_i) along ``dim``, without overflow; floating point only."""
    if axis is not None:
        dim, _ = numpy_names("logcumsumexp", dim, False, axis, None)
    if x.data.dtype.kind not in "fc":
        raise DTypeError(f"logcumsumexp: expects a floating point tensor, got gradus.{x.dtype.name} (PyTorch "
                         "has no integer kernel for it); use .float()")
    ax = _scan_axis(x, dim, "logcumsumexp")
    if ax is None:
        from .elementwise import clone

        return clone(x)
    return LogCumSumExp.apply(x, ax)
