"""Pooling: ``max_pool1d/2d``, ``avg_pool1d/2d``, ``adaptive_avg_pool1d/2d``, ``adaptive_max_pool1d/2d``,
with PyTorch's names and defaults. (3-D pools: ``functional/poolnd.py``; unpooling:
``functional/unpool.py``; ``interpolate``: ``functional/resample.py``; ``local_response_norm``:
``functional/norm.py``.)

Design
------
* **Max pooling is a gather.** A running maximum over the KH*KW strided taps of the padded input
  (a loop over kernel offsets only) gives the values and each window's arg-max offset. The gradient
  scatters ``gy`` to the arg-max positions (flat indices; a plain assignment when windows cannot
  overlap, ``bincount`` when they can). Gather and scatter are each other's adjoint (``TakeFlat`` /
  ``ScatterFlat``), so max pooling is differentiable to any order. Ties go to the first maximum in
  window order and NaN wins, as in PyTorch. Without grad only the running maximum is computed.
* **Average pooling is linear**: a sum of KH*KW strided slices (a loop over kernel offsets only),
  divided by a divisor map that is an outer product of per-axis window counts (it depends on
  ``count_include_pad`` and on the windows ``ceil_mode`` lets run off the edge). Its adjoint adds
  ``gy / divisor`` back through the same slices; the two are each other's backward.
* **Adaptive average pooling** with bins [floor(i*H/OH), ceil((i+1)*H/OH)) is separable: y = A_h x A_w^T
  with small averaging matrices — two matmuls, exact for non-divisible sizes, any-order differentiable.
"""
from __future__ import annotations

import numpy as np

from .. import backend, kernels
from ..autograd.function import Function, FusedFunction
from ..autograd.grad_mode import state as _grad_state
from ..errors import DTypeError, ShapeError
from ..ops.matmul import matmul
from ..tensor import Tensor
from .window import Geom, make_geom, ntuple, pad_array

__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d"]

xp_of = backend.get_array_module


# ---------------------------------------------------------------------------------------------
# gather / scatter by flat index (the linear core of every max pool)
# ---------------------------------------------------------------------------------------------
class TakeFlat(Function):
    """y = x.flat[idx] (idx: int64 array of any shape, indices into x's flattened elements);
    gx = ScatterFlat(gy, idx)."""

    @staticmethod
    def forward(ctx, x, idx, unique):
        ctx.save_raw(idx=idx)
        ctx.shape, ctx.unique = x.shape, unique
        return xp_of(x).ascontiguousarray(x).reshape(-1)[idx]

    @staticmethod
    def backward(ctx, gy):
        return ScatterFlat.apply(gy, ctx.idx, ctx.shape, ctx.unique), None, None


def scatter_flat_array(x, idx, shape, unique: bool):
    """y = zeros(shape) with y.flat[idx] += x, on arrays (``unique``: no index repeats)."""
    xp = xp_of(x)
    size = int(np.prod(shape))
    if unique:  # no index repeats: a plain assignment, much faster than an accumulation
        y = xp.zeros(size, dtype=x.dtype)
        y[idx.reshape(-1)] = x.reshape(-1)
    else:
        y = xp.bincount(idx.reshape(-1), weights=x.reshape(-1), minlength=size)
        y = y.astype(x.dtype, copy=False)
    return y.reshape(shape)


class ScatterFlat(Function):
    """y = zeros(shape) with y.flat[idx] += x (repeated indices accumulate unless ``unique``);
    gx = TakeFlat(gy, idx)."""

    @staticmethod
    def forward(ctx, x, idx, shape, unique):
        ctx.save_raw(idx=idx)
        ctx.unique = unique
        return scatter_flat_array(x, idx, shape, unique)

    @staticmethod
    def backward(ctx, gy):
        return TakeFlat.apply(gy, ctx.idx, ctx.unique), None, None, None


# ---------------------------------------------------------------------------------------------
# argument handling
# ---------------------------------------------------------------------------------------------
def _as_tensor(t):
    return t if isinstance(t, Tensor) else Tensor(t)


def _batched(x, nd: int, op: str):
    """(x as (N, C, *spatial), whether it was unbatched)."""
    x = _as_tensor(x)
    if x.ndim == nd + 1:
        return x.reshape((1,) + x.shape), True
    if x.ndim != nd + 2:
        want = "(N, C, L) or (C, L)" if nd == 1 else "(N, C, H, W) or (C, H, W)"
        raise ShapeError(f"{op}: expected input {want}, got shape {tuple(x.shape)}")
    return x, False


def _pool_geom(op, x, kernel_size, stride, padding, dilation, ceil_mode, max_pool: bool) -> Geom:
    kernel = ntuple(kernel_size, 2, "kernel_size", op)
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) \
        else ntuple(stride, 2, "stride", op)
    ph, pw = ntuple(padding, 2, "padding", op)
    dilation = ntuple(dilation, 2, "dilation", op)
    if min(kernel) < 1 or min(stride) < 1 or min(dilation) < 1:
        raise ValueError(f"{op}: kernel_size {kernel}, stride {stride} and dilation {dilation} must be "
                         "positive")
    for p, k, d in ((ph, kernel[0], dilation[0]), (pw, kernel[1], dilation[1])):
        limit = (d * (k - 1) + 1) / 2 if max_pool else k / 2
        if not 0 <= p <= limit:
            raise ValueError(f"{op}: padding {(ph, pw)} should be non-negative and at most half of the "
                             f"(effective) kernel size {kernel}")
    h, w = x.shape[2:]
    g = make_geom(h, w, kernel, stride, dilation, (ph, ph, pw, pw), ceil_mode)
    if g.oh <= 0 or g.ow <= 0:
        raise ShapeError(f"{op}: input spatial size {(h, w)} (padded {(h + 2 * ph, w + 2 * pw)}) is too "
                         f"small for kernel {kernel} with dilation {dilation}: output size would be "
                         f"{(g.oh, g.ow)}")
    return g


def _expand1d(x, op):
    """(N, C, L) -> (N, C, 1, L) for the 1-D pools (which run as 2-D pools of height 1)."""
    x, unbatched = _batched(x, 1, op)
    return x.unsqueeze(2), unbatched


def _lead(v, first, op, name):
    return None if v is None else (first,) + ntuple(v, 1, name, op)


# ---------------------------------------------------------------------------------------------
# max pooling
# ---------------------------------------------------------------------------------------------
def _non_overlapping(g: Geom) -> bool:
    return (g.kh == g.sh and g.kw == g.sw and g.dh == 1 and g.dw == 1 and not (g.pt or g.pb or g.pl or g.pr)
            and g.oh * g.kh == g.h and g.ow * g.kw == g.w)


def kernel_offsets(g: Geom):
    """(k, slices): for each kernel offset k = u*KW + v in window order, the slices of the padded input
    that hold that tap of every window (a strided view: OH x OW elements)."""
    he, we = g.sh * (g.oh - 1) + 1, g.sw * (g.ow - 1) + 1
    for u in range(g.kh):
        for v in range(g.kw):
            i0, j0 = u * g.dh, v * g.dw
            yield u * g.kw + v, (slice(None), slice(None), slice(i0, i0 + he, g.sh), slice(j0, j0 + we, g.sw))


def max_pool_arg(x, g: Geom, with_arg: bool = True):
    """Window maxima y (N, C, OH, OW) and, with ``with_arg``, the window offset k = u*KW + v of each
    (the first maximum in window order; a NaN wins, the last NaN of a window as in PyTorch's kernel).

    A running maximum over the KH*KW strided taps, with the arg-max updated arithmetically
    (arg += (k - arg) * (tap > y)): measured 4-5x faster than copying the windows out and calling
    argmax along a short last axis, and than masked copies.
    """
    floating = x.dtype.kind == "f"
    low = -np.inf if floating else np.iinfo(x.dtype).min
    xpad = pad_array(x, g, value=low)
    return running_max(xpad, list(kernel_offsets(g)), x.shape[:2] + (g.oh, g.ow), with_arg, floating)


def running_max(xpad, taps, shape, with_arg: bool, floating: bool):
    """(y, arg): the maximum over the strided ``taps`` ``[(offset k, slice of xpad), ...]`` of each
    window, and the offset of its first maximum (a NaN wins, the last NaN of a window as PyTorch's
    kernel). Shared by the 2-D and N-D max pools."""
    xp = xp_of(xpad)
    adt = np.int8 if len(taps) <= 127 else np.int32
    y = arg = better = step = None
    for k, sl in taps:
        tap = xpad[sl]
        if y is None:
            y = tap.copy()
            if with_arg:
                arg = xp.zeros(shape, dtype=adt)
                better, step = xp.empty(shape, dtype=bool), xp.empty(shape, dtype=adt)
            continue
        if with_arg:
            xp.greater(tap, y, out=better)
            xp.subtract(adt(k), arg, out=step)
            step *= better
            arg += step
        xp.maximum(y, tap, out=y)          # propagates NaN
    if with_arg and floating:
        nan = xp.isnan(y)
        if nan.any():                      # rare: point each NaN window at its (last) NaN tap
            for k, sl in taps:
                arg[nan & xp.isnan(xpad[sl])] = k
    return y, arg


def plane_indices(arg, g: Geom, w: int):
    """Window offsets -> flat index of the tap within its (H*W) input plane: (N, C, OH, OW) int64."""
    xp = xp_of(arg)
    table = (np.arange(g.kh)[:, None] * (g.dh * w) + np.arange(g.kw) * g.dw).reshape(-1)   # k -> offset
    base = (((np.arange(g.oh) * g.sh - g.pt) * w).reshape(g.oh, 1) + (np.arange(g.ow) * g.sw - g.pl))
    return xp.asarray(base) + xp.asarray(table)[arg]


class MaxPool2d(FusedFunction):
    """y = max over each window; gx = gy scattered to each window's arg-max. Composed: the scatter is
    ``ScatterFlat``, whose backward is the gather ``TakeFlat`` (max pooling is differentiable to any
    order); raw: one compiled pass (``kernels.max_pool2d_backward``) or ``ScatterFlat``'s array code."""

    @staticmethod
    def forward(ctx, x, g):
        y, arg = max_pool_arg(x, g)
        ctx.save_raw(arg=arg)
        ctx.g, ctx.shape = g, x.shape
        return y

    @staticmethod
    def _flat_index(ctx):
        """(flat int64 index into gx of each window's arg-max, whether no two windows overlap)."""
        g, (n, c, h, w) = ctx.g, ctx.shape
        xp = xp_of(ctx.arg)
        idx = plane_indices(ctx.arg, g, w) + (xp.arange(n * c, dtype=np.int64) * (h * w)).reshape(n, c, 1, 1)
        unique = g.sh >= g.dh * (g.kh - 1) + 1 and g.sw >= g.dw * (g.kw - 1) + 1  # windows never overlap
        return idx, unique

    @staticmethod
    def backward_raw(ctx, gy):
        gx = kernels.max_pool2d_backward(gy, ctx.arg, ctx.g, ctx.shape)
        if gx is None:
            idx, unique = MaxPool2d._flat_index(ctx)
            gx = scatter_flat_array(gy, idx, ctx.shape, unique)
        return gx, None

    @staticmethod
    def backward_composed(ctx, gy):
        idx, unique = MaxPool2d._flat_index(ctx)
        return ScatterFlat.apply(gy, idx, ctx.shape, unique), None


def _max_pool2d(op, x, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    if x.dtype.kind not in "fiu":
        raise DTypeError(f"{op}: unsupported dtype {x.dtype}")
    g = _pool_geom(op, x, kernel_size, stride, padding, dilation, ceil_mode, max_pool=True)
    if not return_indices:
        if _grad_state.enabled and x.requires_grad:
            return MaxPool2d.apply(x, g), None
        return Tensor._make(max_pool_arg(x.data, g, with_arg=False)[0]), None   # inference: max only
    y, arg = max_pool_arg(x.data, g)
    idx = Tensor._make(plane_indices(arg, g, x.shape[3]))  # PyTorch's indices: into each (H*W) plane
    if _grad_state.enabled and x.requires_grad:
        n, c, h, w = x.shape
        flat = idx.data + (xp_of(arg).arange(n * c, dtype=np.int64) * (h * w)).reshape(n, c, 1, 1)
        unique = g.sh >= g.dh * (g.kh - 1) + 1 and g.sw >= g.dw * (g.kw - 1) + 1
        y = TakeFlat.apply(x, flat, unique)
    else:
        y = Tensor._make(y)
    return y, idx


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,  # noqa: A002
               return_indices: bool = False):
    """y[n, c, i, j] = max over the (dilated) window at (i*stride - padding, j*stride - padding).

    input (N, C, H, W) or (C, H, W) -> (N, C, OH, OW), OH = floor_or_ceil((H + 2p - d*(k-1) - 1)/s) + 1;
    ``stride`` defaults to ``kernel_size``; padding is -inf. With ``return_indices`` also returns the
    int64 position of each maximum within its (H*W) input plane (for ``max_unpool2d``).
    """
    x, unbatched = _batched(input, 2, "max_pool2d")
    y, idx = _max_pool2d("max_pool2d", x, kernel_size, stride, padding, dilation, ceil_mode, return_indices)
    if unbatched:
        y = y.reshape(y.shape[1:])
        idx = None if idx is None else Tensor._make(idx.data.reshape(idx.shape[1:]))
    return (y, idx) if return_indices else y


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,  # noqa: A002
               return_indices: bool = False):
    """1-D max pooling: (N, C, L) or (C, L) -> (N, C, LO); indices are positions along L."""
    op = "max_pool1d"
    x, unbatched = _expand1d(input, op)
    y, idx = _max_pool2d(op, x, _lead(kernel_size, 1, op, "kernel_size"), _lead(stride, 1, op, "stride"),
                         _lead(padding, 0, op, "padding"), _lead(dilation, 1, op, "dilation"), ceil_mode,
                         return_indices)
    y = y.squeeze(2)
    if unbatched:
        y = y.reshape(y.shape[1:])
    if not return_indices:
        return y
    i = idx.data.squeeze(2)
    return y, Tensor._make(i.reshape(i.shape[1:]) if unbatched else i)


# ---------------------------------------------------------------------------------------------
# average pooling
# ---------------------------------------------------------------------------------------------
def _window_sum(xpad, g: Geom):
    """sum over each window of the padded input: (N, C, Hp, Wp) -> (N, C, OH, OW), one strided add
    per kernel offset."""
    y = None
    for _, sl in kernel_offsets(g):
        if y is None:
            y = xpad[sl].copy()
        else:
            y += xpad[sl]
    return y


def _window_scatter(gy, g: Geom):
    """The adjoint of ``_window_sum`` followed by cropping the padding: (N, C, OH, OW) -> (N, C, H, W)."""
    xp = xp_of(gy)
    n, c = gy.shape[:2]
    if _non_overlapping(g):
        gx = xp.broadcast_to(gy.reshape(n, c, g.oh, 1, g.ow, 1), (n, c, g.oh, g.kh, g.ow, g.kw))
        return gx.reshape(n, c, g.h, g.w)
    gpad = xp.zeros((n, c, g.h + g.pt + g.pb, g.w + g.pl + g.pr), dtype=gy.dtype)
    for _, sl in kernel_offsets(g):
        gpad[sl] += gy
    return gpad[:, :, g.pt:g.pt + g.h, g.pl:g.pl + g.w]


class AvgPool2d(Function):
    """y = (sum of x over each window) / divisor;  gx = scatter of gy / divisor (``AvgPool2dAdjoint``)."""

    @staticmethod
    def forward(ctx, x, g, div):
        ctx.save_raw(div=div)  # the divisor map (or a 0-d array)
        ctx.g = g
        if _non_overlapping(g):
            n, c = x.shape[:2]
            y = x.reshape(n, c, g.oh, g.kh, g.ow, g.kw).sum(axis=(3, 5))
        else:
            y = _window_sum(pad_array(x, g), g)
        y /= div
        return y

    @staticmethod
    def backward(ctx, gy):
        return AvgPool2dAdjoint.apply(gy, ctx.g, ctx.div), None, None


class AvgPool2dAdjoint(Function):
    """y = scatter of x / divisor back onto the input grid (the gradient of average pooling)."""

    @staticmethod
    def forward(ctx, x, g, div):
        ctx.save_raw(div=div)  # the divisor map (or a 0-d array)
        ctx.g = g
        return _window_scatter(x / div, g)

    @staticmethod
    def backward(ctx, gy):
        return AvgPool2d.apply(gy, ctx.g, ctx.div), None, None


def _avg_divisor(xp, g: Geom, count_include_pad: bool, divisor_override, dtype):
    """The (OH, OW) divisor map (or a scalar): PyTorch's rule, per axis then an outer product."""
    if divisor_override is not None:
        if divisor_override == 0:
            raise ValueError("avg_pool2d: divisor_override must be non-zero")
        return xp.asarray(float(divisor_override), dtype=dtype)

    def counts(n, k, s, p, o):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)       # windows may not count past the right padding
        if count_include_pad:
            return end - start
        return np.minimum(end, n) - np.maximum(start, 0)

    ch = counts(g.h, g.kh, g.sh, g.pt, g.oh)
    cw = counts(g.w, g.kw, g.sw, g.pl, g.ow)
    if (ch == g.kh).all() and (cw == g.kw).all():
        return xp.asarray(float(g.kh * g.kw), dtype=dtype)
    return xp.asarray(np.outer(ch, cw), dtype=dtype)


def _avg_pool2d(op, x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    if x.dtype.kind != "f":
        raise DTypeError(f"{op}: expects a floating point input, got dtype {x.dtype}; use .float()")
    g = _pool_geom(op, x, kernel_size, stride, padding, 1, ceil_mode, max_pool=False)
    div = _avg_divisor(xp_of(x.data), g, count_include_pad, divisor_override, x.dtype)
    return AvgPool2d.apply(x, g, div)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False,  # noqa: A002
               count_include_pad: bool = True, divisor_override=None) -> Tensor:
    """y[n, c, i, j] = mean of the window at (i*stride - padding, j*stride - padding).

    input (N, C, H, W) or (C, H, W) -> (N, C, OH, OW). Padding is zeros; ``count_include_pad`` counts
    the padded positions in the divisor (never the positions ``ceil_mode`` adds past the padding).
    """
    x, unbatched = _batched(input, 2, "avg_pool2d")
    y = _avg_pool2d("avg_pool2d", x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                    divisor_override)
    return y.reshape(y.shape[1:]) if unbatched else y


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False,  # noqa: A002
               count_include_pad: bool = True) -> Tensor:
    """1-D average pooling: (N, C, L) or (C, L) -> (N, C, LO)."""
    op = "avg_pool1d"
    x, unbatched = _expand1d(input, op)
    y = _avg_pool2d(op, x, _lead(kernel_size, 1, op, "kernel_size"), _lead(stride, 1, op, "stride"),
                    _lead(padding, 0, op, "padding"), ceil_mode, count_include_pad, None).squeeze(2)
    return y.reshape(y.shape[1:]) if unbatched else y


# ---------------------------------------------------------------------------------------------
# adaptive pooling
# ---------------------------------------------------------------------------------------------
def _bins(n: int, o: int):
    """PyTorch's adaptive bins: [floor(i*n/o), ceil((i+1)*n/o)) for i < o."""
    i = np.arange(o)
    return (i * n) // o, -(-((i + 1) * n) // o)


def averaging_matrix(n: int, o: int, xp, dtype):
    """A (o, n) with A[i, j] = 1/len(bin i) for j in bin i: y = A @ x averages each bin."""
    start, end = _bins(n, o)
    j = np.arange(n)
    m = (j >= start[:, None]) & (j < end[:, None])
    return Tensor._make(xp.asarray(m / (end - start)[:, None], dtype=dtype))


def adaptive_sizes(op, output_size, spatial):
    nd = len(spatial)
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * nd
    if len(sizes) != nd:
        raise ValueError(f"{op}: output_size must be an int or a tuple of {nd}, got {output_size!r}")
    out = tuple(int(n) if s is None else int(s) for s, n in zip(sizes, spatial))
    if any(s <= 0 for s in out) or any(n <= 0 for n in spatial):
        raise ShapeError(f"{op}: output_size {out} and input spatial size {tuple(spatial)} must be positive")
    return out


def adaptive_avg_pool2d(input, output_size) -> Tensor:  # noqa: A002
    """Average over bins [floor(i*H/OH), ceil((i+1)*H/OH)) x [same for W]: (N, C, H, W) -> (N, C, OH, OW).

    ``output_size`` is an int, a pair, or has None entries (keep that input size). Divisible sizes
    are a plain average pooling; otherwise y = A_h @ x @ A_w^T with averaging matrices.
    """
    x, unbatched = _batched(input, 2, "adaptive_avg_pool2d")
    if x.dtype.kind != "f":
        raise DTypeError(f"adaptive_avg_pool2d: expects a floating point input, got dtype {x.dtype}")
    h, w = x.shape[2:]
    oh, ow = adaptive_sizes("adaptive_avg_pool2d", output_size, (h, w))
    if h % oh == 0 and w % ow == 0:
        y = _avg_pool2d("adaptive_avg_pool2d", x, (h // oh, w // ow), None, 0, False, True, None)
    else:
        xp = xp_of(x.data)
        y = x if oh == h else matmul(averaging_matrix(h, oh, xp, x.dtype), x)          # (N, C, OH, W)
        if ow != w:
            y = matmul(y, averaging_matrix(w, ow, xp, x.dtype).transpose(0, 1))       # (N, C, OH, OW)
    return y.reshape(y.shape[1:]) if unbatched else y


def adaptive_avg_pool1d(input, output_size) -> Tensor:  # noqa: A002
    """(N, C, L) -> (N, C, LO), bins [floor(i*L/LO), ceil((i+1)*L/LO))."""
    x, unbatched = _batched(input, 1, "adaptive_avg_pool1d")
    (o,) = adaptive_sizes("adaptive_avg_pool1d", output_size, x.shape[2:])
    y = adaptive_avg_pool2d(x.unsqueeze(2), (1, o)).squeeze(2)
    return y.reshape(y.shape[1:]) if unbatched else y


def _adaptive_max_pool2d(op, x, oh, ow, return_indices):
    n, c, h, w = x.shape
    if h % oh == 0 and w % ow == 0:
        kh, kw = h // oh, w // ow
        return _max_pool2d(op, x, (kh, kw), (kh, kw), 0, 1, False, return_indices)
    xp = xp_of(x.data)

    def taps(size, o):
        start, end = _bins(size, o)
        k = int((end - start).max())
        # pad short bins by repeating their last element: duplicates never change the max or its
        # first-occurrence index
        return np.minimum(start[:, None] + np.arange(k), end[:, None] - 1), k

    hi, kh = taps(h, oh)
    wi, kw = taps(w, ow)
    # (N, C, OH, KH, OW, KW): every bin's taps, gathered
    win = x.data[:, :, xp.asarray(hi)[:, :, None, None], xp.asarray(wi)[None, None, :, :]]
    a = win.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, oh, ow, kh * kw).argmax(axis=-1)
    u, v = a // kw, a % kw
    rows = xp.asarray(hi)[xp.arange(oh)[:, None], u]
    cols = xp.asarray(wi)[xp.arange(ow), v]
    plane = (xp.arange(n * c, dtype=np.int64) * (h * w)).reshape(n, c, 1, 1)
    idx = plane + rows * w + cols
    y = TakeFlat.apply(x, idx, False)
    return y, (Tensor._make(idx - plane) if return_indices else None)


def adaptive_max_pool2d(input, output_size, return_indices: bool = False):  # noqa: A002
    """Max over PyTorch's adaptive bins: (N, C, H, W) -> (N, C, OH, OW) (+ plane indices)."""
    x, unbatched = _batched(input, 2, "adaptive_max_pool2d")
    oh, ow = adaptive_sizes("adaptive_max_pool2d", output_size, x.shape[2:])
    y, idx = _adaptive_max_pool2d("adaptive_max_pool2d", x, oh, ow, return_indices)
    if unbatched:
        y = y.reshape(y.shape[1:])
        idx = None if idx is None else Tensor._make(idx.data.reshape(idx.shape[1:]))
    return (y, idx) if return_indices else y


def adaptive_max_pool1d(input, output_size, return_indices: bool = False):  # noqa: A002
    """(N, C, L) -> (N, C, LO) (+ indices along L)."""
    x, unbatched = _batched(input, 1, "adaptive_max_pool1d")
    (o,) = adaptive_sizes("adaptive_max_pool1d", output_size, x.shape[2:])
    y, idx = _adaptive_max_pool2d("adaptive_max_pool1d", x.unsqueeze(2), 1, o, return_indices)
    y = y.squeeze(2)
    if unbatched:
        y = y.reshape(y.shape[1:])
    if not return_indices:
        return y
    i = idx.data.squeeze(2)
    return y, Tensor._make(i.reshape(i.shape[1:]) if unbatched else i)
