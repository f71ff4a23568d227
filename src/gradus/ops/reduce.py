"""Reductions: sum, mean, prod, max/min (values and indices), logsumexp, cumsum, var/std, argmax.

``dim`` may be an int, a tuple of ints or None (all dimensions); ``keepdim`` keeps reduced
dimensions as size 1, exactly as in PyTorch.
"""
from __future__ import annotations

import builtins
from collections import namedtuple

import numpy as np

from .. import backend
from ..autograd.function import Function, FusedFunction
from ..errors import GradIndexError
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


def _kept_shape(shape, axes):
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _expand_back(gy: Tensor, in_shape, axes, keepdims: bool) -> Tensor:
    """Broadcast a reduced gradient back to the input's shape."""
    if not keepdims and in_shape:
        gy = reshape(gy, _kept_shape(in_shape, axes))
    return broadcast_to(gy, in_shape)


class Sum(Function):
    """y = sum of x over ``axes``;  gx = gy broadcast back to x's shape."""

    @staticmethod
    def forward(ctx, x, axes, keepdims):
        ctx.in_shape, ctx.axes, ctx.keepdims = x.shape, axes, keepdims
        return x.sum(axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, gy):
        return _expand_back(gy, ctx.in_shape, ctx.axes, ctx.keepdims), None, None


class Mean(Function):
    """y = mean of x over ``axes``;  gx = gy / n broadcast back."""

    @staticmethod
    def forward(ctx, x, axes, keepdims):
        ctx.in_shape, ctx.axes, ctx.keepdims = x.shape, axes, keepdims
        ctx.n = int(np.prod([x.shape[a] for a in axes])) if axes else 1
        return x.mean(axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, gy):
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


class CumSum(Function):
    """y_i = sum_{j <= i} x_j along ``axis``;  gx = reverse cumsum of gy."""

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return xp_of(x).cumsum(x, axis=axis)

    @staticmethod
    def backward(ctx, gy):
        return flip(cumsum(flip(gy, ctx.axis), ctx.axis), ctx.axis), None


def _floatify_for_mean(x: Tensor, op: str) -> Tensor:
    if x.data.dtype.kind in "iub":
        raise TypeError(f"{op}: input dtype should be floating point, got gradus.{x.dtype.name}; "
                        "use .float() first")
    return x


def sum(x, dim=None, keepdim: bool = False, dtype=None) -> Tensor:  # noqa: A001
    """Sum over ``dim`` (all dims if None). Bool/int inputs sum to int64 (as PyTorch)."""
    axes = normalize_dims(dim, x.ndim, "sum")
    if dtype is not None:
        x = x.to(dtype)
    elif x.data.dtype.kind in "biu":
        return Tensor._make(x.data.sum(axis=axes, keepdims=keepdim, dtype=np.int64))
    return Sum.apply(x, axes, keepdim)


def mean(x, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    if dtype is not None:
        x = x.to(dtype)
    x = _floatify_for_mean(x, "mean")
    return Mean.apply(x, normalize_dims(dim, x.ndim, "mean"), keepdim)


def prod(x, dim=None, keepdim: bool = False) -> Tensor:
    return Prod.apply(x, normalize_dims(dim, x.ndim, "prod"), keepdim)


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


def max(x, dim=None, keepdim: bool = False):  # noqa: A001
    """``max(x)``: the largest value. ``max(x, dim)``: (values, indices) along ``dim``.
    ``max(a, b)`` with a Tensor second argument is the elementwise maximum."""
    if isinstance(dim, Tensor):
        from .elementwise import maximum

        return maximum(x, dim)
    return _maxmin(x, dim, keepdim, True, "max")


def min(x, dim=None, keepdim: bool = False):  # noqa: A001
    if isinstance(dim, Tensor):
        from .elementwise import minimum

        return minimum(x, dim)
    return _maxmin(x, dim, keepdim, False, "min")


def amax(x, dim=None, keepdim: bool = False) -> Tensor:
    return MaxMinAll.apply(x, normalize_dims(dim, x.ndim, "amax"), keepdim, True)


def amin(x, dim=None, keepdim: bool = False) -> Tensor:
    return MaxMinAll.apply(x, normalize_dims(dim, x.ndim, "amin"), keepdim, False)


def argmax(x, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the largest value (in the flattened tensor when ``dim`` is None); int64, no grad."""
    xp = xp_of(x.data)
    if dim is None:
        idx = xp.argmax(x.data)
        return Tensor._make(xp.asarray(idx, dtype=np.int64).reshape((1,) * x.ndim if keepdim else ()))
    if not normalize_dims(dim, x.ndim, "argmax"):  # 0-d
        return Tensor._make(xp.zeros((), np.int64))
    (axis,) = normalize_dims(dim, x.ndim, "argmax")
    return Tensor._make(xp.argmax(x.data, axis=axis, keepdims=keepdim).astype(np.int64))


def argmin(x, dim=None, keepdim: bool = False) -> Tensor:
    xp = xp_of(x.data)
    if dim is None:
        idx = xp.argmin(x.data)
        return Tensor._make(xp.asarray(idx, dtype=np.int64).reshape((1,) * x.ndim if keepdim else ()))
    if not normalize_dims(dim, x.ndim, "argmin"):  # 0-d
        return Tensor._make(xp.zeros((), np.int64))
    (axis,) = normalize_dims(dim, x.ndim, "argmin")
    return Tensor._make(xp.argmin(x.data, axis=axis, keepdims=keepdim).astype(np.int64))


def logsumexp(x, dim=None, keepdim: bool = False) -> Tensor:
    return LogSumExp.apply(x, normalize_dims(dim, x.ndim, "logsumexp"), keepdim)


def cumsum(x, dim: int) -> Tensor:
    if not normalize_dims(dim, x.ndim, "cumsum"):  # 0-d: the sum of one element
        from .elementwise import clone

        return clone(x)
    (axis,) = normalize_dims(dim, x.ndim, "cumsum")
    return CumSum.apply(x, axis)


def var(x, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Variance sum((x - mean)^2) / (N - correction); correction defaults to 1 (Bessel), as PyTorch.

    Composed of primitives, so it is differentiable to any order.
    """
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


def std(x, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Standard deviation sqrt(var) (see ``var``); its gradient is 0 where it is 0, as in PyTorch."""
    return _sqrt_zero_grad_at_zero(var(x, dim, unbiased, keepdim, correction=correction))


def var_mean(x, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    return var(x, dim, unbiased, keepdim, correction=correction), mean(x, dim, keepdim)


def std_mean(x, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    return std(x, dim, unbiased, keepdim, correction=correction), mean(x, dim, keepdim)


def norm(x, p=2, dim=None, keepdim: bool = False) -> Tensor:
    """Vector p-norm (p = 1, 2, inf or any positive number) over ``dim``."""
    from .elementwise import abs as _abs

    if p == 2 or p == "fro":
        return _sqrt_zero_grad_at_zero(sum(x * x, dim, keepdim))
    if p == 1:
        return sum(_abs(x), dim, keepdim)
    if p == float("inf"):
        return amax(_abs(x), dim, keepdim)
    return sum(_abs(x) ** p, dim, keepdim) ** (1.0 / p)


def all(x, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    axes = normalize_dims(dim, x.ndim, "all")
    return Tensor._make(xp_of(x.data).asarray(x.data.all(axis=axes, keepdims=keepdim)))


def any(x, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    axes = normalize_dims(dim, x.ndim, "any")
    return Tensor._make(xp_of(x.data).asarray(x.data.any(axis=axes, keepdims=keepdim)))


def count_nonzero(x, dim=None) -> Tensor:
    axes = normalize_dims(dim, x.ndim, "count_nonzero")
    return Tensor._make(xp_of(x.data).asarray((x.data != 0).sum(axis=axes), dtype=np.int64))
