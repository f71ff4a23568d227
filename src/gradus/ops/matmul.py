"""Matrix product with NumPy's ``matmul`` semantics: 1-D, 2-D, batched, broadcasting batch dims."""
from __future__ import annotations

from .. import backend
from ..autograd.function import FusedFunction
from ..errors import ShapeError
from ..tensor import Tensor, as_operand, promote_pair
from ..validation import check_alloc
from .einsum import einsum  # noqa: F401  (einsum has its own module; importable from here too)
from .movement import squeeze, transpose, unsqueeze

xp_of = backend.get_array_module


class MatMul(FusedFunction):
    """y = a @ b.

    Shapes: a (..., m, k), b (..., k, n) -> y (..., m, n);  ga = gy @ b^T,  gb = a^T @ gy.
    A 1-D operand is a vector (a row for ``a``, a column for ``b``) and its dimension is dropped from
    y. Broadcast batch dimensions are summed back by the engine. The backward is written on raw
    arrays (a plain backward) and with Tensor ops (``create_graph=True``), the same formulas.
    """

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return xp_of(a, b).matmul(a, b)

    @staticmethod
    def backward_raw(ctx, gy):
        a, b = ctx.saved_arrays
        xp = xp_of(a, b)
        ga = gb = None
        need_a, need_b = ctx.needs_input_grad
        if a.ndim == 1 and b.ndim == 1:
            ga = gy * b if need_a else None
            gb = gy * a if need_b else None
        elif a.ndim == 1:
            if need_a:
                ga = xp.matmul(gy[..., None, :], xp.swapaxes(b, -1, -2))[..., 0, :]
            if need_b:
                gb = xp.matmul(a[:, None], gy[..., None, :])
        elif b.ndim == 1:
            if need_a:
                ga = xp.matmul(gy[..., :, None], b[None, :])
            if need_b:
                gb = xp.matmul(xp.swapaxes(a, -1, -2), gy[..., :, None])[..., 0]
        else:
            if need_a:
                ga = xp.matmul(gy, xp.swapaxes(b, -1, -2))
            if need_b:
                gb = xp.matmul(xp.swapaxes(a, -1, -2), gy)
        return ga, gb

    @staticmethod
    def backward_composed(ctx, gy):
        a, b = ctx.saved_tensors
        ga = gb = None
        if a.ndim == 1 and b.ndim == 1:            # dot product: gy is 0-d
            ga = gy * b if ctx.needs_input_grad[0] else None
            gb = gy * a if ctx.needs_input_grad[1] else None
        elif a.ndim == 1:                          # (k,) @ (..., k, n) -> (..., n)
            if ctx.needs_input_grad[0]:
                ga = squeeze(matmul(unsqueeze(gy, -2), transpose(b, -1, -2)), -2)   # (..., k)
            if ctx.needs_input_grad[1]:
                gb = matmul(unsqueeze(a, -1), unsqueeze(gy, -2))                     # (..., k, n)
        elif b.ndim == 1:                          # (..., m, k) @ (k,) -> (..., m)
            if ctx.needs_input_grad[0]:
                ga = matmul(unsqueeze(gy, -1), unsqueeze(b, -2))                     # (..., m, k)
            if ctx.needs_input_grad[1]:
                gb = squeeze(matmul(transpose(a, -1, -2), unsqueeze(gy, -1)), -1)    # (..., k)
        else:
            if ctx.needs_input_grad[0]:
                ga = matmul(gy, transpose(b, -1, -2))
            if ctx.needs_input_grad[1]:
                gb = matmul(transpose(a, -1, -2), gy)
        return ga, gb


def matmul(a, b) -> Tensor:
    """Matrix product ``a @ b`` (see ``MatMul`` for the shape rules)."""
    if not isinstance(a, Tensor):
        a = as_operand(a, b)
    if not isinstance(b, Tensor):
        b = as_operand(b, a)
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"matmul: both arguments need at least 1 dimension, got shapes {tuple(a.shape)} "
                         f"and {tuple(b.shape)}; use * for scaling")
    ka = a.shape[-1]
    kb = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if ka != kb:
        raise ShapeError(
            f"matmul: cannot multiply shapes {tuple(a.shape)} and {tuple(b.shape)}: the inner dimensions "
            f"differ ({ka} != {kb}); the last dim of the first must equal the "
            f"{'only' if b.ndim == 1 else 'second-to-last'} dim of the second")
    if a.ndim > 2 and b.ndim > 2:
        import numpy as np

        try:
            np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        except ValueError:
            raise ShapeError(f"matmul: batch dimensions {tuple(a.shape[:-2])} and {tuple(b.shape[:-2])} "
                             f"(shapes {tuple(a.shape)} and {tuple(b.shape)}) cannot be broadcast") from None
    if a.dtype != b.dtype:
        a, b = promote_pair(a, b)
    if a.ndim == 2 and b.ndim == 2 and a.shape[0] * b.shape[1] > 2**26:
        # an outer-product-like (n, k) @ (k, m) with huge n * m: refuse before NumPy is OOM-killed
        check_alloc(f"matmul of shapes {tuple(a.shape)} and {tuple(b.shape)}",
                    (a.shape[0], b.shape[1]), a.data.dtype)
    return MatMul.apply(a, b)


def mm(a, b) -> Tensor:
    if a.ndim != 2 or b.ndim != 2:
        raise ShapeError(f"mm: expects 2-D tensors, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    return matmul(a, b)


def bmm(a, b) -> Tensor:
    if a.ndim != 3 or b.ndim != 3:
        raise ShapeError(f"bmm: expects 3-D tensors, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    return matmul(a, b)


def dot(a, b) -> Tensor:
    if a.ndim != 1 or b.ndim != 1:
        raise ShapeError(f"dot: expects 1-D tensors, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    return matmul(a, b)


def mv(a, b) -> Tensor:
    return matmul(a, b)


def outer(a, b) -> Tensor:
    return unsqueeze(a, 1) * unsqueeze(b, 0)
