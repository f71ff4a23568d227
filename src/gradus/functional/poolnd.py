"""N-D pooling, exposed for 3-D: ``max_pool3d``, ``avg_pool3d`` and ``adaptive_avg_pool3d`` (layout
NCDHW, PyTorch's names, defaults and index convention), on the N-D window machinery of
``functional/window.py``.

The same design as the 2-D pools of ``functional/pooling.py``, with per-axis tuples:

* **Max pooling is a gather.** A running maximum over the prod(k) strided taps of the padded input
  (``window_taps``: a loop over kernel offsets only, each step one view of the whole batch) gives
  the values and each window's arg-max offset; the gradient scatters ``gy`` to the arg-max positions
  (``ScatterFlat``, whose backward is the gather ``TakeFlat``), so it is differentiable to any order.
  Ties go to the first maximum in window order and NaN wins, as in PyTorch. ``return_indices`` gives
  the flat position of each maximum within its (D*H*W) input volume (for ``max_unpool3d``).
* **Average pooling is linear**: a sum of strided slices divided by a divisor map, the outer product
  of per-axis window counts (``count_include_pad``, ``ceil_mode``, ``divisor_override`` as PyTorch);
  its adjoint adds ``gy / divisor`` back through the same slices, and each is the other's backward.
* **Adaptive average pooling** (bins [floor(i*D/OD), ceil((i+1)*D/OD)) per axis) is separable: one
  averaging matrix per axis (``apply_along``), exact for non-divisible sizes.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..autograd.grad_mode import state as _grad_state
from ..errors import DTypeError, ShapeError
from ..ops.matmul import matmul
from ..tensor import Tensor
from .pooling import ScatterFlat, TakeFlat, adaptive_sizes, averaging_matrix, running_max
from .window import GeomN, make_geom_nd, ntuple, pad_array_nd, window_taps

__all__ = ["max_pool3d", "avg_pool3d", "adaptive_avg_pool3d"]

xp_of = backend.get_array_module

_LAYOUT = {1: "(N, C, L) or (C, L)", 2: "(N, C, H, W) or (C, H, W)", 3: "(N, C, D, H, W) or (C, D, H, W)"}


# ---------------------------------------------------------------------------------------------
# arguments
# ---------------------------------------------------------------------------------------------
def batched(x, nd: int, op: str):
    """(x as (N, C, *spatial), whether it was unbatched)."""
    x = x if isinstance(x, Tensor) else Tensor(x)
    if x.ndim == nd + 1:
        return x.reshape((1,) + x.shape), True
    if x.ndim != nd + 2:
        raise ShapeError(f"{op}: expected input {_LAYOUT[nd]}, got shape {tuple(x.shape)}")
    return x, False


def pool_geom_nd(op, nd, x, kernel_size, stride, padding, dilation, ceil_mode, max_pool: bool) -> GeomN:
    """The window geometry with PyTorch's checks (stride defaults to the kernel; padding at most half
    the (effective) kernel)."""
    kernel = ntuple(kernel_size, nd, "kernel_size", op)
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) \
        else ntuple(stride, nd, "stride", op)
    pad = ntuple(padding, nd, "padding", op)
    dilation = ntuple(dilation, nd, "dilation", op)
    if min(kernel) < 1 or min(stride) < 1 or min(dilation) < 1:
        raise ValueError(f"{op}: kernel_size {kernel}, stride {stride} and dilation {dilation} must be "
                         "positive")
    for p, k, d in zip(pad, kernel, dilation):
        limit = (d * (k - 1) + 1) / 2 if max_pool else k / 2
        if not 0 <= p <= limit:
            raise ValueError(f"{op}: padding {pad} should be non-negative and at most half of the "
                             f"(effective) kernel size {kernel}")
    size = tuple(x.shape[2:])
    g = make_geom_nd(size, kernel, stride, dilation, pad, pad, ceil_mode)
    if min(g.out) <= 0:
        padded = tuple(n + 2 * p for n, p in zip(size, pad))
        raise ShapeError(f"{op}: input spatial size {size} (padded {padded}) is too small for kernel "
                         f"{kernel} with dilation {dilation}: output size would be {g.out}")
    return g


def _non_overlapping(g: GeomN) -> bool:
    """Windows tile the input exactly (kernel == stride, no dilation or padding)."""
    return (g.k == g.s and all(d == 1 for d in g.d) and not (any(g.lo) or any(g.hi))
            and all(o * k == n for o, k, n in zip(g.out, g.k, g.size)))


def _disjoint(g: GeomN) -> bool:
    """No input element lies in two windows (the gradient scatter is a plain assignment)."""
    return all(s >= d * (k - 1) + 1 for s, d, k in zip(g.s, g.d, g.k))


# ---------------------------------------------------------------------------------------------
# max pooling
# ---------------------------------------------------------------------------------------------
def max_pool_nd_arg(x, g: GeomN, with_arg: bool = True):
    """Window maxima y (N, C, *out) and, with ``with_arg``, each window's kernel offset t of its first
    maximum (window order; a NaN wins, the last NaN of a window as PyTorch's kernel). A running
    maximum with the arg-max updated arithmetically (arg += (t - arg) * (tap > y)), as in 2-D."""
    floating = x.dtype.kind == "f"
    low = -np.inf if floating else np.iinfo(x.dtype).min
    xpad = pad_array_nd(x, g, value=low)
    return running_max(xpad, list(window_taps(g)), x.shape[:2] + g.out, with_arg, floating)


def volume_indices(arg, g: GeomN):
    """Kernel offsets -> flat index of the tap within its (prod(size)) input volume: (N, C, *out) int64."""
    xp = xp_of(arg)
    vstride = np.cumprod((1,) + g.size[:0:-1])[::-1]                    # (H*W, W, 1) for (D, H, W)
    taps = np.array(list(np.ndindex(*g.k)), dtype=np.int64).reshape(-1, g.nd)
    table = (taps * (np.array(g.d) * vstride)).sum(axis=1)              # offset t -> volume offset
    base = np.zeros(g.out, dtype=np.int64)
    for ax in range(g.nd):                                              # window origin of every position
        start = (np.arange(g.out[ax]) * g.s[ax] - g.lo[ax]) * vstride[ax]
        base = base + start.reshape((-1,) + (1,) * (g.nd - 1 - ax))
    return xp.asarray(base) + xp.asarray(table)[arg]


def _plane_offsets(xp, n, c, volume):
    """(N, C, 1, ...) offsets of each (n, c) volume in the flattened input."""
    return xp.arange(n * c, dtype=np.int64).reshape(n, c) * volume


class MaxPoolNd(Function):
    """y = max over each window; gx = gy scattered to each window's arg-max (``ScatterFlat``, whose
    backward is the gather ``TakeFlat``: differentiable to any order)."""

    @staticmethod
    def forward(ctx, x, g):
        y, arg = max_pool_nd_arg(x, g)
        ctx.save_raw(arg=arg)
        ctx.g, ctx.shape = g, x.shape
        return y

    @staticmethod
    def backward(ctx, gy):
        g, shape = ctx.g, ctx.shape
        xp = xp_of(ctx.arg)
        off = _plane_offsets(xp, shape[0], shape[1], int(np.prod(g.size)))
        idx = volume_indices(ctx.arg, g) + off.reshape(off.shape + (1,) * g.nd)
        return ScatterFlat.apply(gy, idx, shape, _disjoint(g)), None


def max_pool_nd(op, nd, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):  # noqa: A002
    """The N-D max pool behind ``max_pool3d``: (y, volume indices or None), unbatched as given."""
    x, unbatched = batched(input, nd, op)
    if x.dtype.kind not in "fiu":
        raise DTypeError(f"{op}: unsupported dtype {x.dtype}")
    g = pool_geom_nd(op, nd, x, kernel_size, stride, padding, dilation, ceil_mode, max_pool=True)
    grad = _grad_state.enabled and x.requires_grad
    idx = None
    if not return_indices:
        y = MaxPoolNd.apply(x, g) if grad else Tensor._make(max_pool_nd_arg(x.data, g, with_arg=False)[0])
    else:
        y_arr, arg = max_pool_nd_arg(x.data, g)
        vol = volume_indices(arg, g)
        if grad:
            off = _plane_offsets(xp_of(arg), x.shape[0], x.shape[1], int(np.prod(g.size)))
            y = TakeFlat.apply(x, vol + off.reshape(off.shape + (1,) * nd), _disjoint(g))
        else:
            y = Tensor._make(y_arr)
        idx = Tensor._make(vol)
    if unbatched:
        y = y.reshape(y.shape[1:])
        idx = None if idx is None else Tensor._make(idx.data.reshape(idx.shape[1:]))
    return y, idx


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,  # noqa: A002
               return_indices: bool = False):
    """y[n, c, i, j, l] = max over the (dilated) window at (i, j, l)*stride - padding.

    input (N, C, D, H, W) or (C, D, H, W) -> (N, C, OD, OH, OW), each
    O = floor_or_ceil((I + 2p - d*(k-1) - 1) / s) + 1; ``stride`` defaults to ``kernel_size``; padding
    is -inf. With ``return_indices`` also returns the int64 position of each maximum within its
    (D*H*W) input volume (for ``max_unpool3d``).

        >>> import gradus
        >>> import gradus.functional as F
        >>> F.max_pool3d(gradus.zeros(2, 3, 4, 6, 8), 2).shape
        (2, 3, 2, 3, 4)
    """
    y, idx = max_pool_nd("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode,
                         return_indices)
    return (y, idx) if return_indices else y


# ---------------------------------------------------------------------------------------------
# average pooling
# ---------------------------------------------------------------------------------------------
def _window_sum(xpad, g: GeomN):
    y = None
    for _, sl in window_taps(g):
        if y is None:
            y = xpad[sl].copy()
        else:
            y += xpad[sl]
    return y


def _window_scatter(gy, g: GeomN):
    """The adjoint of ``_window_sum`` followed by cropping the padding: (N, C, *out) -> (N, C, *size)."""
    xp = xp_of(gy)
    n, c = gy.shape[:2]
    if _non_overlapping(g):   # every input element in exactly one window: a broadcast
        inter = sum(((o, 1) for o in g.out), ())
        full = sum(((o, k) for o, k in zip(g.out, g.k)), ())
        return xp.broadcast_to(gy.reshape((n, c) + inter), (n, c) + full).reshape((n, c) + g.size)
    gpad = xp.zeros((n, c) + g.padded, dtype=gy.dtype)
    for _, sl in window_taps(g):
        gpad[sl] += gy
    return gpad[(slice(None), slice(None)) + tuple(slice(a, a + m) for m, a in zip(g.size, g.lo))]


class AvgPoolNd(Function):
    """y = (sum of x over each window) / divisor;  gx = scatter of gy / divisor (``AvgPoolNdAdjoint``)."""

    @staticmethod
    def forward(ctx, x, g, div):
        ctx.save_raw(div=div)  # the divisor map (or a 0-d array)
        ctx.g = g
        if _non_overlapping(g):
            n, c = x.shape[:2]
            split = sum(((o, k) for o, k in zip(g.out, g.k)), ())
            y = x.reshape((n, c) + split).sum(axis=tuple(range(3, 3 + 2 * g.nd, 2)))
        else:
            y = _window_sum(pad_array_nd(x, g), g)
        y /= div
        return y

    @staticmethod
    def backward(ctx, gy):
        return AvgPoolNdAdjoint.apply(gy, ctx.g, ctx.div), None, None


class AvgPoolNdAdjoint(Function):
    """y = scatter of x / divisor back onto the input grid (the gradient of average pooling)."""

    @staticmethod
    def forward(ctx, x, g, div):
        ctx.save_raw(div=div)
        ctx.g = g
        return _window_scatter(x / div, g)

    @staticmethod
    def backward(ctx, gy):
        return AvgPoolNd.apply(gy, ctx.g, ctx.div), None, None


def avg_divisor_nd(op, xp, g: GeomN, count_include_pad: bool, divisor_override, dtype):
    """The divisor map (*out) (or a 0-d array): PyTorch's rule per axis, then an outer product."""
    if divisor_override is not None:
        if divisor_override == 0:
            raise ValueError(f"{op}: divisor_override must be non-zero")
        return xp.asarray(float(divisor_override), dtype=dtype)
    div = np.ones((), dtype=np.float64)
    for n, k, s, p, o in zip(g.size, g.k, g.s, g.lo, g.out):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)       # windows may not count past the far padding
        cnt = end - start if count_include_pad else np.minimum(end, n) - np.maximum(start, 0)
        div = np.multiply.outer(div, cnt)
    if (div == g.kk).all():
        return xp.asarray(float(g.kk), dtype=dtype)
    return xp.asarray(div, dtype=dtype)


def avg_pool_nd(op, nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad,  # noqa: A002
                divisor_override) -> Tensor:
    x, unbatched = batched(input, nd, op)
    if x.dtype.kind != "f":
        raise DTypeError(f"{op}: expects a floating point input, got dtype {x.dtype}; use .float()")
    g = pool_geom_nd(op, nd, x, kernel_size, stride, padding, 1, ceil_mode, max_pool=False)
    div = avg_divisor_nd(op, xp_of(x.data), g, count_include_pad, divisor_override, x.dtype)
    y = AvgPoolNd.apply(x, g, div)
    return y.reshape(y.shape[1:]) if unbatched else y


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False,  # noqa: A002
               count_include_pad: bool = True, divisor_override=None) -> Tensor:
    """y[n, c, i, j, l] = mean of the window at (i, j, l)*stride - padding.

    input (N, C, D, H, W) or (C, D, H, W) -> (N, C, OD, OH, OW). Padding is zeros;
    ``count_include_pad`` counts the padded positions in the divisor (never the positions
    ``ceil_mode`` adds past the padding); ``divisor_override`` replaces the divisor.
    """
    return avg_pool_nd("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       divisor_override)


# ---------------------------------------------------------------------------------------------
# adaptive average pooling (separable)
# ---------------------------------------------------------------------------------------------
def apply_along(x: Tensor, axis: int, A: Tensor) -> Tensor:
    """y = A applied along ``axis`` of x: y[..., i, ...] = sum_j A[i, j] x[..., j, ...], A (o, n).

    One matmul: on the last axis x @ A^T; on any other axis A @ x viewed as (..., n, rest) (a reshape,
    no transpose). Linear, so any-order differentiable through matmul."""
    axis %= x.ndim
    if axis == x.ndim - 1:
        return matmul(x, A.transpose(0, 1))
    shape = x.shape
    rest = int(np.prod(shape[axis + 1:]))
    y = matmul(A, x.reshape(shape[:axis] + (shape[axis], rest)))
    return y.reshape(shape[:axis] + (A.shape[0],) + shape[axis + 1:])


def adaptive_avg_pool3d(input, output_size) -> Tensor:  # noqa: A002
    """Average over PyTorch's adaptive bins [floor(i*D/OD), ceil((i+1)*D/OD)) on each axis:
    (N, C, D, H, W) or (C, D, H, W) -> (N, C, OD, OH, OW); ``output_size`` an int, a triple, or with
    None entries (keep that input size). Divisible sizes are a plain average pooling."""
    op = "adaptive_avg_pool3d"
    x, unbatched = batched(input, 3, op)
    if x.dtype.kind != "f":
        raise DTypeError(f"{op}: expects a floating point input, got dtype {x.dtype}")
    size = tuple(x.shape[2:])
    out = adaptive_sizes(op, output_size, size)
    if all(n % o == 0 for n, o in zip(size, out)):
        k = tuple(n // o for n, o in zip(size, out))
        y = avg_pool_nd(op, 3, x, k, k, 0, False, True, None)
    else:
        xp = xp_of(x.data)
        y = x
        for ax, (n, o) in enumerate(zip(size, out)):
            if n != o:
                y = apply_along(y, 2 + ax, averaging_matrix(n, o, xp, x.dtype))
    return y.reshape(y.shape[1:]) if unbatched else y
