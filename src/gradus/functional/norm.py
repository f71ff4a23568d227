"""Normalisation: ``batch_norm``, ``layer_norm``, ``group_norm``, ``instance_norm``,
``local_response_norm``, ``normalize``.

Batch and layer norm share one fused op, ``Normalize``: over the reduced ``axes``

    mu = mean(x),  var = mean((x - mu)^2)  (biased),  x_hat = (x - mu) / sqrt(var + eps),
    y = x_hat * weight + bias

with the classic backward (one pass, no graph of a dozen small ops)::

    g_hat = gy * weight
    gx = (g_hat - mean(g_hat) - x_hat * mean(g_hat * x_hat)) / sqrt(var + eps)
    gweight = sum(gy * x_hat),  gbias = sum(gy)     (over the non-parameter axes)

``Normalize`` is a ``FusedFunction``: its backward runs on raw arrays unless a graph is being recorded
(``create_graph=True``), in which case it recomputes the same formulas with Tensor ops from ``x``, so
normalisation layers are twice differentiable (gradient penalties, Hessian-vector products).
"""
from __future__ import annotations

from .. import backend, kernels
from ..autograd.function import FusedFunction
from ..errors import GradIndexError, ShapeError
from ..ops import elementwise as ew
from ..ops.movement import pad as _pad
from ..ops.movement import reshape
from ..ops.reduce import mean as _mean
from ..ops.reduce import norm as _norm
from ..ops.reduce import sum as _sum
from ..tensor import Tensor
from ..validation import check_param_dtype

__all__ = ["batch_norm", "layer_norm", "group_norm", "instance_norm", "local_response_norm", "normalize"]

xp_of = backend.get_array_module


def _channel_axes(ndim: int) -> tuple:
    """Batch norm's axes: every axis but the channel axis 1."""
    return (0,) + tuple(range(2, ndim))


class Normalize(FusedFunction):
    """y = (x - mean) / sqrt(var + eps) * w + b over ``axes`` (see the module docstring).

    ``w``/``b`` (or None) have shape ``pshape``; ``bshape`` is their broadcast shape against x.
    ``stats`` = (mean, var) arrays (keepdims) when the caller already has them (batch norm).
    """

    @staticmethod
    def forward(ctx, x, w, b, axes, bshape, eps, stats=None):
        xp = xp_of(x)
        ctx.save_for_backward(x, w)
        ctx.axes, ctx.bshape, ctx.eps = axes, bshape, eps
        ctx.has_w, ctx.has_b = w is not None, b is not None
        ctx.pshape = w.shape if w is not None else (b.shape if b is not None else None)
        fused = None
        if stats is None and axes == (x.ndim - 1,):  # layer norm over the last axis: one compiled pass
            fused = kernels.layer_norm_rows(x, None if w is None else w.reshape(-1),
                                            None if b is None else b.reshape(-1), eps)
        if fused is not None:
            y, xhat, inv = fused
            ctx.save_raw(xhat=xhat, inv=inv)
            return y
        if stats is not None and axes == _channel_axes(x.ndim):   # batch norm: one compiled pass
            mu, var = stats
            inv = 1.0 / xp.sqrt(var + eps)
            fused = kernels.batch_norm_apply(x, mu, inv, None if w is None else w.reshape(-1),
                                             None if b is None else b.reshape(-1))
            if fused is not None:
                y, xhat = fused
                ctx.save_raw(xhat=xhat, inv=inv)
                return y
        if stats is None:
            mu = x.mean(axis=axes, keepdims=True)
            xc = x - mu
            var = xp.mean(xc * xc, axis=axes, keepdims=True)
        else:
            mu, var = stats
            xc = x - mu
        inv = 1.0 / xp.sqrt(var + eps)
        xhat = xc
        xhat *= inv
        y = xhat * w.reshape(bshape) if w is not None else xhat.copy()
        if b is not None:
            y += b.reshape(bshape)
        ctx.save_raw(xhat=xhat, inv=inv)
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def _needs(ctx):
        """(need_x, need_w, need_b, parameter axes): parameter gradients reduce over every axis where
        the parameter is broadcast."""
        paxes = tuple(i for i, s in enumerate(ctx.bshape) if s == 1)
        return (ctx.needs_input_grad[0], ctx.has_w and ctx.needs_input_grad[1],
                ctx.has_b and ctx.needs_input_grad[2], paxes)

    @staticmethod
    def backward_raw(ctx, g):
        _, w = ctx.saved_arrays
        need_x, need_w, need_b, paxes = Normalize._needs(ctx)
        xhat, inv, axes = ctx.xhat, ctx.inv, ctx.axes
        gx = gw = gb = None
        if need_x and axes == (g.ndim - 1,) and paxes == tuple(range(g.ndim - 1)):
            fused = kernels.layer_norm_rows_backward(g, w.reshape(-1) if ctx.has_w else None, xhat, inv)
            if fused is not None:   # gx, gw and gb in one pass over the rows (numba)
                gx, gw_all, gb_all = fused
                return (gx, gw_all.reshape(ctx.pshape) if need_w else None,
                        gb_all.reshape(ctx.pshape) if need_b else None, None, None, None)
        if need_x and axes == _channel_axes(g.ndim) and paxes in (axes, ()):
            fused = kernels.batch_norm_backward(g, xhat, inv, w.reshape(-1) if ctx.has_w else None)
            if fused is not None:   # batch norm: gx, gw and gb in two passes (numba)
                gx, gw_all, gb_all = fused
                return (gx, gw_all.reshape(ctx.pshape) if need_w else None,
                        gb_all.reshape(ctx.pshape) if need_b else None, None, None, None)
        if need_w:
            gw = (g * xhat).sum(axis=paxes).reshape(ctx.pshape)
        if need_b:
            gb = g.sum(axis=paxes).reshape(ctx.pshape)
        if need_x:
            ghat = g * w.reshape(ctx.bshape) if ctx.has_w else g
            gx = ghat - ghat.mean(axis=axes, keepdims=True)
            gx -= xhat * (ghat * xhat).mean(axis=axes, keepdims=True)
            gx *= inv
        return gx, gw, gb, None, None, None

    @staticmethod
    def backward_composed(ctx, gy):
        # recompute with Tensor ops from x so the result is differentiable again
        x, w = ctx.saved_tensors
        need_x, need_w, need_b, paxes = Normalize._needs(ctx)
        axes, bshape = ctx.axes, ctx.bshape
        gx = gw = gb = None
        mu = _mean(x, axes, keepdim=True)
        xc = x - mu
        var = _mean(xc * xc, axes, keepdim=True)
        inv = ew.rsqrt(var + ctx.eps)
        xhat = xc * inv
        if need_w:
            gw = reshape(_sum(gy * xhat, paxes), ctx.pshape)
        if need_b:
            gb = reshape(_sum(gy, paxes), ctx.pshape)
        if need_x:
            ghat = gy * reshape(w, bshape) if ctx.has_w else gy
            gx = (ghat - _mean(ghat, axes, keepdim=True)
                  - xhat * _mean(ghat * xhat, axes, keepdim=True)) * inv
        return gx, gw, gb, None, None, None


def _normalize_composed(x, axes, eps):
    """Unfused twin of ``Normalize`` without affine (for tests)."""
    mu = _mean(x, axes, keepdim=True)
    xc = x - mu
    var = _mean(xc * xc, axes, keepdim=True)
    return xc * ew.rsqrt(var + eps)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training: bool = False,  # noqa: A002
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalisation over every dim but the channel dim 1 (Ioffe & Szegedy 2015).

    Shapes: input (N, C) or (N, C, *), running stats / weight / bias (C,).
    Training (or no running stats): normalise with the batch statistics; running stats, when given,
    are updated in place by the moving average ``r = (1 - momentum) r + momentum * s`` with the
    *unbiased* batch variance (n / (n - 1)), as PyTorch. Evaluation: normalise with the running stats.
    """
    x = input
    if x.ndim < 2:
        raise ShapeError(f"batch_norm: expected input of shape (N, C) or (N, C, *), got {tuple(x.shape)}")
    C = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if t is not None and tuple(t.shape) != (C,):
            raise ShapeError(f"batch_norm: {name} has shape {tuple(t.shape)} but the input has {C} channels "
                             f"(dim 1 of shape {tuple(x.shape)})")
    check_param_dtype("batch_norm", x, weight=weight, bias=bias, running_mean=running_mean)
    axes = _channel_axes(x.ndim)
    bshape = (1, C) + (1,) * (x.ndim - 2)
    use_batch = training or running_mean is None or running_var is None
    if use_batch:
        n = x.data.size // C
        if training and n <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                             f"{tuple(x.shape)}")
        xp = xp_of(x.data)
        fused = kernels.batch_norm_stats(x.data)          # one compiled pass each, or None
        if fused is not None:
            mu, var = (a.reshape(bshape) for a in fused)
        else:
            mu = x.data.mean(axis=axes, keepdims=True)
            var = xp.var(x.data, axis=axes, keepdims=True)
        if training and running_mean is not None:
            # the moving-average rule: in place, so the module's buffers (and optimizers) see it
            m = momentum
            rm, rv = running_mean.data, running_var.data
            rm *= 1 - m
            rm += (m * mu.reshape(C)).astype(rm.dtype, copy=False)
            rv *= 1 - m
            rv += (m * var.reshape(C) * (n / max(n - 1, 1))).astype(rv.dtype, copy=False)
        return Normalize.apply(x, weight, bias, axes, bshape, eps, stats=(mu, var))
    # evaluation: an affine map with the running statistics
    scale = ew.rsqrt(running_var + eps)
    if weight is not None:
        scale = scale * weight
    shift = -running_mean * scale
    if bias is not None:
        shift = shift + bias
    return x * reshape(scale, bshape) + reshape(shift, bshape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> Tensor:  # noqa: A002
    """Normalise over the trailing dims ``normalized_shape`` of each sample (Ba et al. 2016).

    Shapes: input ``(*, *normalized_shape)``, weight / bias ``normalized_shape``.
    """
    x = input
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(ns)
    if tuple(x.shape[x.ndim - k:]) != ns or x.ndim < k:
        raise ShapeError(f"layer_norm: input of shape {tuple(x.shape)} does not end with normalized_shape "
                         f"{ns}")
    check_param_dtype("layer_norm", x, weight=weight, bias=bias)
    axes = tuple(range(x.ndim - k, x.ndim))
    bshape = (1,) * (x.ndim - k) + ns
    return Normalize.apply(x, weight, bias, axes, bshape, eps)


def group_norm(input, num_groups: int, weight=None, bias=None, eps: float = 1e-5) -> Tensor:  # noqa: A002
    """Normalise each sample over groups of ``C / num_groups`` channels (Wu & He 2018).

    Shapes: input ``(N, C, *)``, weight / bias (C,).
    """
    x = input
    if x.ndim < 2:
        raise ShapeError(f"group_norm: expected input of shape (N, C, *), got {tuple(x.shape)}")
    N, C = x.shape[:2]
    if C % num_groups:
        raise ShapeError(f"group_norm: {C} channels are not divisible into {num_groups} groups")
    check_param_dtype("group_norm", x, weight=weight, bias=bias)
    xg = reshape(x, (N, num_groups, -1))
    y = reshape(Normalize.apply(xg, None, None, (2,), (1, 1, 1), eps), x.shape)
    bshape = (1, C) + (1,) * (x.ndim - 2)
    if weight is not None:
        y = y * reshape(weight, bshape)
    if bias is not None:
        y = y + reshape(bias, bshape)
    return y


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,  # noqa: A002
                  use_input_stats: bool = True, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel of each sample over its spatial dims (Ulyanov et al. 2016)."""
    x = input
    if not use_input_stats and running_mean is not None:
        return batch_norm(x, running_mean, running_var, weight, bias, False, momentum, eps)
    N, C = x.shape[:2]
    check_param_dtype("instance_norm", x, weight=weight, bias=bias, running_mean=running_mean)
    axes = tuple(range(2, x.ndim))
    if running_mean is not None and running_var is not None:
        n = x.data.size // (N * C)
        xp = xp_of(x.data)
        mu = x.data.mean(axis=axes).mean(axis=0)
        var = xp.var(x.data, axis=axes).mean(axis=0) * (n / max(n - 1, 1))
        running_mean.data *= 1 - momentum
        running_mean.data += momentum * mu
        running_var.data *= 1 - momentum
        running_var.data += momentum * var
    y = Normalize.apply(x, None, None, axes, (1, 1) + x.shape[2:], eps)
    bshape = (1, C) + (1,) * (x.ndim - 2)
    if weight is not None:
        y = y * reshape(weight, bshape)
    if bias is not None:
        y = y + reshape(bias, bshape)
    return y


def local_response_norm(input, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:  # noqa: A002
    """Local response normalisation across channels (AlexNet, Krizhevsky et al. 2012), PyTorch's form:

    ``y_c = x_c / (k + alpha / size * sum_{c' in window(c)} x_{c'}^2) ^ beta``, the window of ``size``
    channels centred on c (zero padded).
    """
    x = input
    if x.ndim < 3:
        raise ShapeError(f"local_response_norm: expected input of shape (N, C, *), got {tuple(x.shape)}")
    C = x.shape[1]
    sq = x * x
    # pad the channel dim by (size // 2, (size - 1) // 2) and sum `size` shifted slices
    pads = [0, 0] * (x.ndim - 2) + [size // 2, (size - 1) // 2]
    sqp = _pad(sq, tuple(pads))
    acc = None
    for j in range(size):
        s = sqp[:, j:j + C]
        acc = s if acc is None else acc + s
    div = (acc * (alpha / size) + k) ** beta
    return x / div


def normalize(input, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:  # noqa: A002
    """``y = x / max(||x||_p, eps)`` along ``dim`` (same shape as x), PyTorch's norms:
    ``p = 0``: the number of nonzero entries (a step function: it contributes no gradient, as in
    PyTorch); ``p = inf``: ``max |x|``; ``p = -inf``: ``min |x|``; otherwise ``(sum |x|^p)^(1/p)``.

        >>> import gradus
        >>> import gradus.functional as F
        >>> F.normalize(gradus.tensor([[3.0, 0.0, 4.0]]), p=0)
        tensor([[1.5000, 0.0000, 2.0000]])
    """
    x = input if isinstance(input, Tensor) else Tensor(input)
    if x.ndim == 0 or not -x.ndim <= dim < x.ndim:
        raise GradIndexError(f"normalize: dim {dim} is out of range for a tensor of shape {tuple(x.shape)} "
                             f"(expected a dim in [{-max(x.ndim, 1)}, {max(x.ndim, 1) - 1}])")
    return x / ew.clamp(_norm(x, p, dim, keepdim=True), min=eps)

