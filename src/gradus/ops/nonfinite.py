"""Non-finite values: test for them (``isposinf``, ``isneginf``; ``isfinite`` / ``isinf`` /
``isnan`` live with the comparisons in ``elementwise``) and replace them (``nan_to_num``).
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..tensor import Tensor

xp_of = backend.get_array_module


def isposinf(x) -> Tensor:
    """Bool tensor: True where x is +inf (never for integer or bool x)."""
    xp = xp_of(x.data)
    if x.dtype.kind not in "fc":
        return Tensor._make(xp.zeros(x.shape, dtype=bool))
    return Tensor._make(xp.isposinf(x.data))


def isneginf(x) -> Tensor:
    """Bool tensor: True where x is -inf (never for integer or bool x)."""
    xp = xp_of(x.data)
    if x.dtype.kind not in "fc":
        return Tensor._make(xp.zeros(x.shape, dtype=bool))
    return Tensor._make(xp.isneginf(x.data))


class NanToNum(Function):
    """y = x with NaN -> ``nan``, +inf -> ``posinf``, -inf -> ``neginf``;  gx = gy where x is finite
    (0 at the replaced elements, whose value no longer depends on x)."""

    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        xp = xp_of(x)
        finite = xp.isfinite(x)
        ctx.save_raw(finite=finite)
        return xp.nan_to_num(x, copy=True, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, gy):
        from .elementwise import where

        return where(ctx.finite, gy, 0.0), None, None, None


def nan_to_num(x, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Tensor:
    """Replace NaN by ``nan`` (0), +inf by ``posinf`` and -inf by ``neginf`` (default: the largest /
    lowest finite value of x's dtype). Integer and bool tensors come back unchanged (a copy)."""
    if x.dtype.kind not in "fc":
        return Tensor._make(x.data.copy())
    info = np.finfo(x.dtype)
    # a replacement outside the dtype's range overflows to inf, as PyTorch's cast does
    posinf = info.max if posinf is None else posinf
    neginf = info.min if neginf is None else neginf
    with np.errstate(over="ignore"):
        vals = tuple(x.dtype.type(v) for v in (nan, posinf, neginf))
    return NanToNum.apply(x, *vals)
