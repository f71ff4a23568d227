"""Resampling: ``interpolate`` (+ the deprecated ``upsample*`` aliases), PyTorch's modes, arguments and
index rules, down to the kernels' quirks.

Every mode is separable: the output is the input resampled along one spatial axis at a time.

* **nearest / nearest-exact** gather along each axis (``index_select``; a broadcast-reshape for
  integer up-scaling). Source index: ``floor(dst * scale)`` ('nearest', PyTorch's legacy rule) or
  ``floor((dst + 0.5) * scale)`` ('nearest-exact'), in float32 arithmetic as PyTorch's kernels.
* **linear / bilinear / trilinear / bicubic** multiply by an (out, in) interpolation matrix along each
  axis: ``y = A_d x`` per axis (a matmul: linear, exact adjoint, differentiable to any order; the
  rows hold 2 taps (linear) or 4 (cubic), so the matrices are small and banded). Source coordinate
  (PyTorch's ``area_pixel_compute_source_index``): ``src = dst * (in - 1) / (out - 1)`` with
  ``align_corners=True``, else ``src = (dst + 0.5) * scale - 0.5`` (clamped at 0 for the linear
  modes, not for cubic). Linear: the two neighbours with weights (1 - t, t). Cubic: Keys' kernel
  with A = -0.75 on the 4 neighbours floor(src) - 1 .. floor(src) + 2, indices clamped to the border.
* **antialias=True** ('bilinear' / 'bicubic', 4-D: PIL-style downsampling): the filter (triangle, or
  Keys with A = -0.5) is stretched by the down-scale factor, so each output averages every input
  pixel under it; the weights of each row are normalised to sum to 1.
* **area** is adaptive average pooling to the output size.

``scale`` is ``1 / scale_factor`` when a scale factor is given (and ``recompute_scale_factor`` is not
True), else ``in / out``; the output size is ``floor(in * scale_factor)``. PyTorch's kernels differ in
two corners, matched here: the linear modes copy an axis whose size does not change (even if the
given scale factor is not exactly 1), and 'nearest' on 4-D input (only there) copies such an axis and
maps ``dst -> dst // 2`` when the size exactly doubles.

One PyTorch behaviour is deliberately not matched: for 'nearest' on 3-D and 5-D input, PyTorch's
*backward* applies those two 4-D shortcuts although its forward does not, so when a scale factor
that is not exactly 1 or 2 still gives the same or the doubled size (``scale_factor=1.05`` on L=5),
its input gradient is not the gradient of its output. Here the gradient is the exact adjoint of the
forward (which matches PyTorch's values).
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..errors import DTypeError, ShapeError
from ..ops.indexing import index_select
from ..tensor import Tensor
from .pooling import adaptive_avg_pool1d, adaptive_avg_pool2d
from .poolnd import adaptive_avg_pool3d, apply_along

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear"]

xp_of = backend.get_array_module

_LINEAR_MODES = {"linear": 1, "bilinear": 2, "trilinear": 3, "bicubic": 2}
_MODES = ("nearest", "nearest-exact", "area") + tuple(_LINEAR_MODES)
_CUBIC_A = -0.75        # PyTorch's (and OpenCV's) bicubic; antialias uses Keys' -0.5 (as PIL)


# ---------------------------------------------------------------------------------------------
# sizes and scales
# ---------------------------------------------------------------------------------------------
def output_size_and_scales(op, spatial, size, scale_factor, recompute_scale_factor):
    """(output sizes, per-axis scale factors or None) with PyTorch's checks and its
    ``recompute_scale_factor`` rule."""
    nd = len(spatial)
    if size is not None and scale_factor is not None:
        raise ValueError(f"{op}: only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError(f"{op}: either size or scale_factor should be defined")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError(f"{op}: recompute_scale_factor is not meaningful with an explicit size")
        sizes = tuple(size) if isinstance(size, (tuple, list)) else (size,) * nd
        if len(sizes) != nd:
            raise ValueError(f"{op}: input and output must have the same number of spatial dimensions, but "
                             f"got input with spatial dimensions of {list(spatial)} and output size of "
                             f"{size}")
        if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in sizes):
            raise TypeError(f"{op}: expected size to be an int or a tuple of ints, got {size!r}")
        return tuple(int(s) for s in sizes), (None,) * nd
    factors = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * nd
    if len(factors) != nd:
        raise ValueError(f"{op}: input and scale_factor must have the same number of spatial dimensions, "
                         f"but got input with spatial dimensions of {list(spatial)} and scale_factor of "
                         f"shape {scale_factor}")
    factors = tuple(float(f) for f in factors)
    out = tuple(int(n * f) for n, f in zip(spatial, factors))    # truncation, as PyTorch
    if recompute_scale_factor:
        return out, (None,) * nd
    return out, factors


def _coordinate_scale(n, o, factor, align_corners) -> float:
    """PyTorch's ``area_pixel_compute_scale``: the source step per output step."""
    if align_corners:
        return (n - 1) / (o - 1) if o > 1 else 0.0
    return 1.0 / factor if factor is not None and factor > 0 else n / o


# ---------------------------------------------------------------------------------------------
# nearest
# ---------------------------------------------------------------------------------------------
def _nearest_axis(x, axis, n, o, factor, exact, legacy_shortcuts):
    """Resample one axis by nearest neighbour (see the module docstring for the index rules)."""
    xp = xp_of(x.data)
    if legacy_shortcuts and o == n:
        return x
    if legacy_shortcuts and o == 2 * n:
        src = np.arange(o) >> 1
    else:
        # float32 arithmetic as PyTorch's kernel (compute_scales_value<float>): the same rounding
        given = factor is not None and factor > 0
        scale = np.float32(1.0 / factor) if given else np.float32(n) / np.float32(o)
        dst = np.arange(o, dtype=np.float32)
        src = np.floor((dst + np.float32(0.5)) * scale) if exact else np.floor(dst * scale)
        src = np.minimum(src.astype(np.int64), n - 1)
    if np.array_equal(src, np.arange(n)):
        return x
    if o % n == 0 and np.array_equal(src, np.arange(o) // (o // n)):
        r = o // n  # integer up-scaling: repeat each element (broadcast + reshape, no gather)
        shape = x.shape
        y = x.reshape(shape[:axis + 1] + (1,) + shape[axis + 1:])
        y = y.expand(*(shape[:axis + 1] + (r,) + shape[axis + 1:]))
        return y.reshape(shape[:axis] + (o,) + shape[axis + 1:])
    return index_select(x, axis, Tensor._make(xp.asarray(src)))


# ---------------------------------------------------------------------------------------------
# interpolation matrices
# ---------------------------------------------------------------------------------------------
def _cubic_weights(t, a):
    """Keys' cubic convolution weights of the 4 taps floor(src) - 1 .. + 2 at fractional offset t."""
    def near(x):   # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):    # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], axis=-1)


def interpolation_matrix(n, o, factor, align_corners, cubic: bool):
    """A (o, n) float64: row i holds the weights of output i on the inputs (PyTorch's source index;
    duplicate clamped taps add up)."""
    scale = _coordinate_scale(n, o, factor, align_corners)
    dst = np.arange(o, dtype=np.float64)
    src = dst * scale if align_corners else (dst + 0.5) * scale - 0.5
    if not cubic:
        src = np.maximum(src, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n - 1)
    t = np.clip(src - i0, 0.0, 1.0)
    if cubic:
        idx = np.clip(i0[:, None] + np.arange(-1, 3), 0, n - 1)
        w = _cubic_weights(t, _CUBIC_A)
    else:
        idx = np.stack([i0, np.minimum(i0 + 1, n - 1)], axis=1)
        w = np.stack([1.0 - t, t], axis=1)
    m = np.zeros((o, n))
    np.add.at(m, (np.repeat(np.arange(o), idx.shape[1]), idx.reshape(-1)), w.reshape(-1))
    return m


def antialias_matrix(n, o, factor, align_corners, cubic: bool):
    """A (o, n) float64 for ``antialias=True`` (PyTorch's ``_compute_weights_aa``): the filter, stretched
    by the down-scale factor, centred on each output pixel; weights normalised per row."""
    scale = _coordinate_scale(n, o, factor, align_corners)
    support = (2.0 if cubic else 1.0) * (scale if scale >= 1.0 else 1.0)
    invscale = 1.0 / scale if scale >= 1.0 else 1.0
    center = scale * (np.arange(o) + 0.5)
    xmin = np.maximum((center - support + 0.5).astype(np.int64), 0)
    xmax = np.minimum((center + support + 0.5).astype(np.int64), n)
    j = np.arange(n)
    x = np.abs((j[None, :] - center[:, None] + 0.5) * invscale)
    if cubic:
        a = -0.5
        w = np.where(x < 1.0, ((a + 2) * x - (a + 3)) * x * x + 1,
                     np.where(x < 2.0, (((x - 5) * x + 8) * x - 4) * a, 0.0))
    else:
        w = np.maximum(1.0 - x, 0.0)
    w = np.where((j[None, :] >= xmin[:, None]) & (j[None, :] < xmax[:, None]), w, 0.0)
    total = w.sum(axis=1, keepdims=True)
    return np.divide(w, total, out=np.zeros_like(w), where=total != 0)


def _linear_family(x, mode, out, factors, align_corners, antialias):
    xp = xp_of(x.data)
    y = x
    for ax, (n, o, f) in enumerate(zip(x.shape[2:], out, factors)):
        if o == n and mode != "bicubic" and not antialias:
            continue   # PyTorch's linear kernels copy an unchanged axis, whatever the scale factor
        if antialias:
            m = antialias_matrix(n, o, f, align_corners, mode == "bicubic")
        else:
            m = interpolation_matrix(n, o, f, align_corners, mode == "bicubic")
        if o == n and np.array_equal(m, np.eye(n)):
            continue
        y = apply_along(y, 2 + ax, Tensor._make(xp.asarray(m, dtype=x.dtype)))
    return y


# ---------------------------------------------------------------------------------------------
# the public function
# ---------------------------------------------------------------------------------------------
def interpolate(input, size=None, scale_factor=None, mode: str = "nearest", align_corners=None,  # noqa: A002
                recompute_scale_factor=None, antialias: bool = False) -> Tensor:
    """Resample the spatial dims of (N, C, L), (N, C, H, W) or (N, C, D, H, W) to ``size`` or by
    ``scale_factor`` (exactly one of them).

    ``mode``: 'nearest' (src = floor(dst * scale), PyTorch's legacy rule), 'nearest-exact'
    (src = floor((dst + 0.5) * scale)), 'linear' (3-D input), 'bilinear' and 'bicubic' (4-D; cubic:
    A = -0.75, border clamped), 'trilinear' (5-D), each with ``align_corners`` (default False), and
    'area' (adaptive average pooling). ``antialias`` (bilinear / bicubic) low-pass filters when
    downsampling. ``recompute_scale_factor=True`` computes the coordinate scale from the (floored)
    output size instead of the given factor. The formulas: see the module docstring.

        >>> import gradus
        >>> import gradus.functional as F
        >>> F.interpolate(gradus.tensor([[[0.0, 1.0, 2.0]]]), size=5, mode="linear", align_corners=True)
        tensor([[[0.0000, 0.5000, 1.0000, 1.5000, 2.0000]]])
    """
    op = "interpolate"
    x = input if isinstance(input, Tensor) else Tensor(input)
    if not 3 <= x.ndim <= 5:
        raise ShapeError(f"{op}: expected an input (N, C, *spatial) with 1 to 3 spatial dims, got shape "
                         f"{tuple(x.shape)}")
    if mode not in _MODES:
        raise ValueError(f"{op}: unsupported mode {mode!r}; use one of {', '.join(map(repr, _MODES))}")
    if mode in ("nearest", "nearest-exact", "area"):
        if align_corners is not None:
            raise ValueError(f"{op}: align_corners option can only be set with the interpolating modes: "
                             f"linear | bilinear | bicubic | trilinear (got mode {mode!r})")
    else:
        align_corners = bool(align_corners)
    nd = x.ndim - 2
    if mode in _LINEAR_MODES and _LINEAR_MODES[mode] != nd:
        want = _LINEAR_MODES[mode] + 2
        raise ShapeError(f"{op}: got {x.ndim}-D input, but mode {mode!r} needs {want}-D input "
                         f"(N, C{', *spatial' if want > 3 else ', L'}); got shape {tuple(x.shape)}")
    if antialias and not (mode in ("bilinear", "bicubic") and x.ndim == 4):
        raise ValueError(f"{op}: antialias=True is restricted to the bilinear and bicubic modes and "
                         f"requires a 4-D input, got mode {mode!r} with a {x.ndim}-D input")
    if mode == "area" and scale_factor is not None:
        recompute_scale_factor = True       # PyTorch: area always works from the output size
    spatial = tuple(x.shape[2:])
    out, factors = output_size_and_scales(op, spatial, size, scale_factor, recompute_scale_factor)
    if any(o <= 0 for o in out):
        raise ShapeError(f"{op}: the output size {out} must be positive (input spatial size {spatial})")
    if mode in ("nearest", "nearest-exact"):
        exact, legacy = mode == "nearest-exact", mode == "nearest" and nd == 2
        y = x
        for i, (n, o, f) in enumerate(zip(spatial, out, factors)):
            y = _nearest_axis(y, 2 + i, n, o, f, exact, legacy)
        return y
    if x.dtype.kind != "f":
        raise DTypeError(f"{op}: mode {mode!r} needs a floating point input, got {x.dtype}; use .float()")
    if mode == "area":
        return (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[nd - 1](x, out)
    return _linear_family(x, mode, out, factors, align_corners, antialias)


def upsample(input, size=None, scale_factor=None, mode: str = "nearest", align_corners=None) -> Tensor:  # noqa: A002
    """Deprecated PyTorch alias of ``interpolate``."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None) -> Tensor:  # noqa: A002
    """Deprecated PyTorch alias: ``interpolate(..., mode='nearest')``."""
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None) -> Tensor:  # noqa: A002
    """PyTorch's ``upsample_bilinear`` (align_corners=True)."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
