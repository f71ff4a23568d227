"""Gradient clipping (Pascanu et al. 2013): ``clip_grad_norm_`` and ``clip_grad_value_``.

    >>> import gradus
    >>> from gradus import nn
    >>> w = nn.Parameter(gradus.zeros(2))
    >>> w.grad = gradus.tensor([3.0, 4.0])
    >>> nn.utils.clip_grad_norm_([w], max_norm=1.0)      # returns the norm before clipping
    tensor(5.)
    >>> w.grad
    tensor([0.6000, 0.8000])

Gradients are never modified in place: the engine may share one gradient array between two leaves
(``a + b`` hands the same ``gy`` to both), so the clipped gradient is a new tensor bound to ``p.grad``.
"""
from __future__ import annotations

import math

import numpy as np

from ... import backend
from ...tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm"]


def _params(parameters):
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def get_total_norm(tensors, norm_type: float = 2.0) -> Tensor:
    """The ``norm_type``-norm of all ``tensors`` together (as if concatenated into one vector)."""
    tensors = [t for t in tensors if t is not None]
    if not tensors:
        return Tensor._make(np.asarray(0.0, dtype=np.float32))
    norm_type = float(norm_type)
    xp = backend.get_array_module(tensors[0].data)
    dtype = tensors[0].dtype
    if math.isinf(norm_type):
        total = max(float(xp.abs(t.data).max()) if t.data.size else 0.0 for t in tensors)
    else:
        # accumulate in float64: many float32 squares would lose precision
        acc = 0.0
        for t in tensors:
            a = t.data.astype(np.float64, copy=False)
            acc += float(xp.vdot(a, a).real) if norm_type == 2.0 else float((xp.abs(a) ** norm_type).sum())
        total = acc ** (1.0 / norm_type)
    return Tensor._make(np.asarray(total, dtype=dtype))


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach=None) -> Tensor:
    """Rescale the gradients so that their total norm is at most ``max_norm``.

    total = ||(g_1, ..., g_k)||_p;  every g_i <- g_i * min(1, max_norm / (total + 1e-6)).
    Returns the total norm before clipping (a 0-d tensor).
    """
    params = [p for p in _params(parameters) if p.grad is not None]
    total = get_total_norm([p.grad for p in params], norm_type)
    tv = float(total.data)
    if error_if_nonfinite and not math.isfinite(tv):
        raise RuntimeError(f"The total norm of order {float(norm_type)} for gradients from `parameters` "
                           "is non-finite, so it cannot be clipped. To disable this error and scale the "
                           "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
    coef = float(max_norm) / (tv + 1e-6)
    if coef < 1.0 or math.isnan(coef):
        for p in params:
            g = p.grad
            p.grad = Tensor._make((g.data * coef).astype(g.dtype, copy=False))
    return total


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient element into [-clip_value, clip_value]."""
    c = float(clip_value)
    for p in _params(parameters):
        if p.grad is not None:
            xp = backend.get_array_module(p.grad.data)
            p.grad = Tensor._make(xp.clip(p.grad.data, -c, c))
