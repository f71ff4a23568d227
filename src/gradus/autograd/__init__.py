"""Reverse-mode automatic differentiation: ``Function``, the engine, grad modes, checking tools.

    >>> import gradus
    >>> x = gradus.tensor([2.0, 3.0], requires_grad=True)
    >>> (gx,) = gradus.autograd.grad((x ** 3).sum(), x, create_graph=True)
    >>> gx                          # 3 x^2
    tensor([12., 27.], grad_fn=<MulBackward>)
    >>> gradus.autograd.grad(gx.sum(), x)[0]   # 6 x
    tensor([12., 18.])
"""
from __future__ import annotations

from ..backend import get_array_module
from ..errors import AutogradError
from . import function as _function
from .anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .engine import run_backward
from .function import AccumulateGrad, Function, FusedFunction, Node, once_differentiable
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled

__all__ = [
    "Function", "FusedFunction", "Node", "AccumulateGrad", "once_differentiable", "backward", "grad",
    "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode",
    "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "gradcheck", "gradgradcheck",
    "functional",
]


def _as_tuple(x):
    if x is None:
        return None
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _make_grads(outputs, grad_outputs, who: str):
    """Default gradients: ones for scalars; non-scalars must be given one."""
    Tensor = _function._Tensor
    grads = []
    for i, y in enumerate(outputs):
        if not isinstance(y, Tensor):
            raise TypeError(f"{who}: outputs must be Tensors, got {type(y).__name__}")
        if not y.requires_grad:
            raise AutogradError(
                f"{who}: output {i} (shape {tuple(y.shape)}) does not require grad and has no grad_fn: "
                "no input of the computation had requires_grad=True, or it ran under no_grad()")
        g = None if grad_outputs is None else grad_outputs[i]
        if g is None:
            if y.numel() != 1:
                raise AutogradError(
                    f"{who}: grad can be implicitly created only for scalar outputs, but output {i} has "
                    f"shape {tuple(y.shape)}; pass gradient=gradus.ones_like(y) (or reduce it first, "
                    "e.g. y.sum())")
            g = Tensor._make(get_array_module(y.data).ones(y.shape, dtype=y.data.dtype))
        elif not isinstance(g, Tensor):
            g = Tensor(g, dtype=y.dtype)
        elif g.dtype != y.dtype:  # else a leaf root would get a .grad of another dtype than itself
            g = g.to(y.dtype)
        if g.shape != y.shape:
            raise AutogradError(
                f"{who}: gradient for output {i} has shape {tuple(g.shape)} but the output has shape "
                f"{tuple(y.shape)}")
        grads.append(g)
    return grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(tensors)/d(leaf) into every leaf's ``.grad`` (see ``Tensor.backward``)."""
    tensors = _as_tuple(tensors)
    grads = _make_grads(tensors, _as_tuple(grad_tensors), "backward()")
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:  # accumulate only into the given leaves
        inputs = _as_tuple(inputs)
        res = run_backward(tensors, grads, retain_graph, create_graph, inputs=inputs, allow_unused=True)
        for t, g in zip(inputs, res):
            if g is not None:
                g = g if create_graph else _function._Tensor._make(g.data.copy())  # writeable, not shared
                t.grad = g if t.grad is None else t.grad + g
        return
    run_backward(tensors, grads, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """Return d(outputs)/d(inputs) as a tuple, without touching ``.grad``.

    With ``create_graph=True`` the returned gradients are themselves differentiable.
    """
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    grads = _make_grads(outputs, _as_tuple(grad_outputs), "autograd.grad()")
    if retain_graph is None:
        retain_graph = create_graph
    return run_backward(outputs, grads, retain_graph, create_graph, inputs=inputs, allow_unused=allow_unused)


def __getattr__(name):
    # gradcheck and functional import ops; load them lazily to keep the import graph layered
    if name in ("gradcheck", "gradgradcheck"):
        from . import checks

        return getattr(checks, name)
    if name == "functional":
        import importlib

        return importlib.import_module(".functional", __name__)
    raise AttributeError(name)
