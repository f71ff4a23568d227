"""``linear`` (fused: one node for ``x @ W.T + b``), ``bilinear`` and ``identity``.

    >>> import gradus
    >>> import gradus.functional as F
    >>> x, W, b = gradus.ones(2, 3), gradus.ones(4, 3), gradus.zeros(4)
    >>> F.linear(x, W, b).shape
    (2, 4)

Why fused: ``x @ W.T + b`` composed is three graph nodes (transpose, matmul, add) and the add's
backward reduces the bias gradient through the engine's generic ``sum_to``. ``Linear`` runs one GEMM
forward (N-D input is reshaped to 2-D, so every call is a single BLAS call) and, in backward, the two
GEMMs and one column sum it needs. It is a ``FusedFunction``: the backward is written twice, raw
array code for a plain ``backward()`` (the common case, fastest) and Tensor ops for
``create_graph=True``, so ``linear`` is differentiable any number of times. ``_linear_composed`` is
the unfused twin used by the tests.
"""
from __future__ import annotations

from .. import backend
from ..autograd.function import FusedFunction
from ..errors import ShapeError
from ..ops.matmul import matmul
from ..ops.movement import reshape
from ..ops.reduce import sum as _sum
from ..tensor import Tensor
from ..validation import check_param_dtype

__all__ = ["linear", "bilinear", "identity"]


class Linear(FusedFunction):
    """y = x W^T + b.

    Shapes: x (*, in), W (out, in), b (out,) or None -> y (*, out).
    Backward: gx = gy W,  gW = gy^T x (over all leading dims),  gb = sum of gy over leading dims.
    """

    @staticmethod
    def forward(ctx, x, W, b=None):
        xp = backend.get_array_module(x)
        x2 = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
        y = xp.matmul(x2, W.T)  # BLAS reads W^T through the transpose flag: no copy
        if b is not None:
            y += b
        if x.ndim != 2:
            y = y.reshape(x.shape[:-1] + (W.shape[0],))
        ctx.save_for_backward(x, W)
        ctx.has_bias = b is not None
        return y

    @staticmethod
    def backward_raw(ctx, gy):
        x, W = ctx.saved_arrays
        need_x, need_W = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        need_b = ctx.has_bias and ctx.needs_input_grad[2]
        xp = backend.get_array_module(gy)
        g2 = gy if gy.ndim == 2 else gy.reshape(-1, gy.shape[-1])
        gx = gW = gb = None
        if need_x:
            gx = xp.matmul(g2, W)
            if x.ndim != 2:
                gx = gx.reshape(x.shape)
        if need_W:
            x2 = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
            gW = xp.matmul(g2.T, x2)
        if need_b:
            gb = g2.sum(axis=0)
        return (gx, gW, gb) if ctx.has_bias else (gx, gW)

    @staticmethod
    def backward_composed(ctx, gy):
        x, W = ctx.saved_tensors
        need_x, need_W = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        need_b = ctx.has_bias and ctx.needs_input_grad[2]
        g2 = gy if gy.ndim == 2 else reshape(gy, (-1, gy.shape[-1]))
        gx = gW = gb = None
        if need_x:
            gx = matmul(g2, W)
            if x.ndim != 2:
                gx = reshape(gx, x.shape)
        if need_W:
            x2 = x if x.ndim == 2 else reshape(x, (-1, x.shape[-1]))
            gW = matmul(g2.T, x2)
        if need_b:
            gb = _sum(g2, 0)
        return (gx, gW, gb) if ctx.has_bias else (gx, gW)


def linear(input, weight, bias=None) -> Tensor:  # noqa: A002 (PyTorch name)
    """y = input @ weight.T + bias.

    Shapes: input (*, in_features), weight (out_features, in_features), bias (out_features,) or None
    -> (*, out_features).
    """
    if input.ndim == 0:
        raise ShapeError("linear: input must have at least 1 dimension (the features), got a 0-d tensor")
    if weight.ndim != 2:
        raise ShapeError(f"linear: weight must be 2-D (out_features, in_features), got shape "
                         f"{tuple(weight.shape)}")
    if input.shape[-1] != weight.shape[1]:
        raise ShapeError(
            f"expected input with {weight.shape[1]} features in its last dimension, got "
            f"{input.shape[-1]} (input shape {tuple(input.shape)}, weight shape {tuple(weight.shape)}); "
            "check in_features, or flatten the input first (nn.Flatten)")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ShapeError(f"linear: bias must have shape ({weight.shape[0]},), got {tuple(bias.shape)}")
    check_param_dtype("linear", input, weight=weight, bias=bias)
    if input.ndim == 1:  # (in,) -> (out,): same as PyTorch, via a batch of one
        y = Linear.apply(reshape(input, (1, -1)), weight, bias) if bias is not None else \
            Linear.apply(reshape(input, (1, -1)), weight)
        return reshape(y, (weight.shape[0],))
    if bias is None:
        return Linear.apply(input, weight)
    return Linear.apply(input, weight, bias)


def _linear_composed(input, weight, bias=None) -> Tensor:  # noqa: A002
    """The unfused twin of ``linear`` (matmul + add), kept for tests."""
    y = matmul(input, weight.T)
    return y if bias is None else y + bias


def bilinear(input1, input2, weight, bias=None) -> Tensor:
    """y_k = x1^T W_k x2 + b_k.

    Shapes: input1 ``(*, in1)``, input2 ``(*, in2)``, weight (out, in1, in2), bias (out,) -> ``(*, out)``.
    """
    if weight.ndim != 3:
        raise ShapeError(f"bilinear: weight must be 3-D (out, in1, in2), got shape {tuple(weight.shape)}")
    out, in1, in2 = weight.shape
    if input1.shape[-1] != in1 or input2.shape[-1] != in2:
        raise ShapeError(f"bilinear: expected inputs with {in1} and {in2} features, got shapes "
                         f"{tuple(input1.shape)} and {tuple(input2.shape)}")
    if input1.shape[:-1] != input2.shape[:-1]:
        raise ShapeError(f"bilinear: inputs must have the same leading dimensions, got "
                         f"{tuple(input1.shape)} and {tuple(input2.shape)}")
    check_param_dtype("bilinear", input1, weight=weight, bias=bias)
    check_param_dtype("bilinear", input2, weight=weight)
    lead = input1.shape[:-1]
    x1 = reshape(input1, (-1, in1))
    x2 = reshape(input2, (-1, in2))
    # (B, in1) @ (in1, out*in2) -> (B, out, in2); then contract in2 with x2 by a batched matmul
    t = reshape(matmul(x1, reshape(weight.permute(1, 0, 2), (in1, out * in2))), (-1, out, in2))
    y = reshape(matmul(t, reshape(x2, (-1, in2, 1))), (-1, out))
    if bias is not None:
        y = y + bias
    return reshape(y, lead + (out,))


def identity(input) -> Tensor:  # noqa: A002
    return input
