"""Max unpooling: ``max_unpool1d``, ``max_unpool2d``, ``max_unpool3d`` (PyTorch's names, arguments and
output-size rule), the partial inverse of ``max_pool{1,2,3}d(..., return_indices=True)``.

``y = zeros(N, C, *output_size)`` with ``y[n, c].flat[indices[n, c, ...]] = x[n, c, ...]``: every value goes
back to the position of the maximum it came from (indices are flat positions within each (n, c)
plane / volume, gradus' and PyTorch's max-pool convention), everything else is 0. It is a scatter
by assignment (``ScatterFlat`` with ``unique=True``): when an index repeats (overlapping pooling
windows that shared a maximum) one of the values is kept, as PyTorch's CPU kernel; the gradient is
the gather gy.flat[indices] (``TakeFlat``), PyTorch's backward, so each is the other's backward and
unpooling is differentiable to any order.

Output size: (I - 1)*stride - 2*padding + kernel_size per spatial dim, or ``output_size`` (the
spatial sizes, or N, C and the spatial sizes), which must lie strictly within stride of that default
(PyTorch's rule: it resolves the sizes max pooling floored away).

    >>> import gradus
    >>> import gradus.functional as F
    >>> x = gradus.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    >>> y, idx = F.max_pool2d(x, 2, return_indices=True)
    >>> F.max_unpool2d(y, idx, 2)
    tensor([[[[0., 0.],
              [0., 4.]]]])
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..errors import DTypeError, GradIndexError, ShapeError
from ..tensor import Tensor
from .pooling import ScatterFlat
from .poolnd import batched
from .window import ntuple

__all__ = ["max_unpool1d", "max_unpool2d", "max_unpool3d"]

xp_of = backend.get_array_module


def unpool_output_size(op, spatial, kernel, stride, padding, output_size) -> tuple:
    """PyTorch's ``_unpool_output_size``: the default (I-1)*s - 2p + k, or ``output_size`` checked
    to lie strictly within ``stride`` of it."""
    nd = len(kernel)
    default = tuple((i - 1) * s + k - 2 * p for i, s, k, p in zip(spatial, stride, kernel, padding))
    if output_size is None:
        out = default
    else:
        size = tuple(int(v) for v in (output_size if isinstance(output_size, (tuple, list))
                                      else (output_size,) * nd))
        if len(size) == nd + 2:
            size = size[2:]
        if len(size) != nd:
            raise ValueError(f"{op}: output_size should be a sequence containing {nd} or {nd + 2} "
                             f"elements, but it has a length of {len(size)}")
        for d in range(nd):
            lo, hi = default[d] - stride[d], default[d] + stride[d]
            if not lo < size[d] < hi:
                raise ValueError(f"{op}: invalid output_size {size} (dim {d} must be between {lo} and "
                                 f"{hi}, exclusive)")
        out = size
    if min(out) <= 0:
        raise ShapeError(f"{op}: the output size {out} (input spatial size {tuple(spatial)}, kernel "
                         f"{kernel}, stride {stride}, padding {padding}) must be positive")
    return out


def max_unpool_nd(op, nd, input, indices, kernel_size, stride, padding, output_size) -> Tensor:  # noqa: A002
    x, unbatched = batched(input, nd, op)
    idx = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
    if idx.dtype.kind not in "iu":
        raise DTypeError(f"{op}: indices must be an integer tensor (int64, as max_pool{nd}d(..., "
                         f"return_indices=True) returns), got dtype {idx.dtype}")
    if unbatched:
        idx = idx.reshape((1,) + idx.shape)
    if tuple(idx.shape) != tuple(x.shape):
        raise ShapeError(f"{op}: indices must have the shape of the input {tuple(x.shape)}, got "
                         f"{tuple(idx.shape)}")
    kernel = ntuple(kernel_size, nd, "kernel_size", op)
    stride = kernel if stride is None else ntuple(stride, nd, "stride", op)
    padding = ntuple(padding, nd, "padding", op)
    if min(kernel) < 1 or min(stride) < 1 or min(padding) < 0:
        raise ValueError(f"{op}: kernel_size {kernel} and stride {stride} must be positive and padding "
                         f"{padding} non-negative")
    out = unpool_output_size(op, x.shape[2:], kernel, stride, padding, output_size)
    volume = int(np.prod(out))
    xp = xp_of(x.data)
    idx = xp.asarray(idx, dtype=np.int64)
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if lo < 0 or hi >= volume:
            bad = lo if lo < 0 else hi
            raise GradIndexError(f"{op}: found an invalid max index {bad} (the output planes have "
                                 f"{'x'.join(map(str, out))} = {volume} elements); the indices must come "
                                 f"from max_pool{nd}d(..., return_indices=True) on an input of that size")
    n, c = x.shape[:2]
    flat = idx + (xp.arange(n * c, dtype=np.int64) * volume).reshape((n, c) + (1,) * nd)
    y = ScatterFlat.apply(x, flat, (n, c) + out, True)
    return y.reshape(y.shape[1:]) if unbatched else y


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:  # noqa: A002
    """Partial inverse of ``max_pool1d``: (N, C, L) or (C, L) -> (N, C, LO), values put back at their
    ``indices`` (positions along L), zeros elsewhere; LO = (L-1)*stride - 2*padding + kernel_size."""
    return max_unpool_nd("max_unpool1d", 1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:  # noqa: A002
    """Partial inverse of ``max_pool2d``: (N, C, H, W) or (C, H, W) -> (N, C, HO, WO), values put back
    at their ``indices`` (flat positions within each HO*WO plane), zeros elsewhere;
    HO = (H-1)*stride - 2*padding + KH (or ``output_size``)."""
    return max_unpool_nd("max_unpool2d", 2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:  # noqa: A002
    """Partial inverse of ``max_pool3d``: (N, C, D, H, W) or (C, D, H, W) -> (N, C, DO, HO, WO), values
    put back at their ``indices`` (flat positions within each output volume), zeros elsewhere."""
    return max_unpool_nd("max_unpool3d", 3, input, indices, kernel_size, stride, padding, output_size)
