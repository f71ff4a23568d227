"""Diagonals: ``diagonal`` reads the diagonal of 2-D planes, ``diag_embed`` writes a last dim onto
the diagonal of new planes of zeros; each is the other's gradient (they are mutually adjoint linear
maps), so both are differentiable to any order. ``diag`` is one or the other for 1-D / 2-D input.

The diagonal ``offset`` of the plane (dim1, dim2) holds the elements ``[i, i + offset]`` (offset > 0
above the main diagonal, < 0 below); dim1 indexes the rows, so swapping dim1 and dim2 transposes.
"""
from __future__ import annotations

from .. import backend
from ..autograd.function import Function
from ..errors import ShapeError
from ..tensor import Tensor
from .movement import _dim

xp_of = backend.get_array_module


class Diagonal(Function):
    """y = diagonal ``offset`` of the (a1, a2) planes of x: a1 and a2 removed, the diagonal appended
    as the last dim (length max(0, min(n1 - max(-offset, 0), n2 - max(offset, 0))));
    gx = gy put back on that diagonal of zeros (DiagEmbed)."""
    is_view = True

    @staticmethod
    def forward(ctx, x, offset, a1, a2):
        ctx.in_shape, ctx.offset, ctx.a1, ctx.a2 = x.shape, offset, a1, a2
        return xp_of(x).diagonal(x, offset, a1, a2)

    @staticmethod
    def backward(ctx, gy):
        return DiagEmbed.apply(gy, ctx.in_shape, ctx.offset, ctx.a1, ctx.a2), None, None, None


class DiagEmbed(Function):
    """y = zeros(``shape``) with x's last dim written on diagonal ``offset`` of the (a1, a2) planes
    (x's other dims are y's other dims, in order);  gx = diagonal(gy, offset, a1, a2)."""

    @staticmethod
    def forward(ctx, x, shape, offset, a1, a2):
        ctx.offset, ctx.a1, ctx.a2 = offset, a1, a2
        xp = xp_of(x)
        y = xp.zeros(shape, dtype=x.dtype)
        planes = xp.moveaxis(y, (a1, a2), (-2, -1))  # a writable view of y
        k = xp.arange(x.shape[-1])
        planes[..., k + max(-offset, 0), k + max(offset, 0)] = x
        return y

    @staticmethod
    def backward(ctx, gy):
        return Diagonal.apply(gy, ctx.offset, ctx.a1, ctx.a2), None, None, None, None


def diagonal(input, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:  # noqa: A002
    """The diagonal ``offset`` of every (dim1, dim2) plane: shape = input's without dim1 and dim2,
    plus the diagonal's length as the last dim (0 when the offset lies outside the plane)."""
    a1, a2 = _dim(dim1, input.ndim, "diagonal"), _dim(dim2, input.ndim, "diagonal")
    if a1 == a2:
        raise ValueError(f"diagonal: dim1 and dim2 cannot be identical, got {dim1} and {dim2}")
    return Diagonal.apply(input, int(offset), a1, a2)


def diag_embed(input, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:  # noqa: A002
    """(..., n) -> planes of zeros whose diagonal ``offset`` holds the last dim: the output has one
    dim more; dims dim1 and dim2 (of the output) have size ``n + |offset|``, the others are input's
    leading dims in order."""
    nd = input.ndim + 1
    a1, a2 = _dim(dim1, nd, "diag_embed"), _dim(dim2, nd, "diag_embed")
    if a1 == a2:
        raise ValueError(f"diag_embed: dim1 and dim2 cannot be identical, got {dim1} and {dim2}")
    n = input.shape[-1] + abs(int(offset))
    rest = iter(input.shape[:-1])
    shape = tuple(n if k in (a1, a2) else next(rest) for k in range(nd))
    return DiagEmbed.apply(input, shape, int(offset), a1, a2)


def diag(input, diagonal: int = 0) -> Tensor:  # noqa: A002
    """1-D (n,) -> the ``(n + |k|, n + |k|)`` matrix with input on diagonal k; 2-D -> its diagonal k."""
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim == 2:
        return Diagonal.apply(input, int(diagonal), 0, 1)
    raise ShapeError(f"diag: supports 1-D or 2-D tensors, got {input.ndim}-D (shape {tuple(input.shape)}); "
                     "use diagonal / diag_embed for batches")
