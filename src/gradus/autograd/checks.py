"""Gradient checking by float64 central differences.

``gradcheck(fn, inputs)`` compares the analytic gradient (backward) with
(f(x + eps e_i) - f(x - eps e_i)) / (2 eps) for every element of every input that requires grad,
and reports the first mismatch as: which input, which index, numerical vs analytic.
``gradgradcheck`` does the same for the gradient of the gradient (create_graph=True).
"""
from __future__ import annotations

import numpy as np

from ..errors import GradusError


class GradcheckError(GradusError, AssertionError):
    """The analytic and numerical gradients disagree."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _outputs(fn, inputs):
    from ..tensor import Tensor

    out = _as_tuple(fn(*inputs))
    return tuple(o for o in out if isinstance(o, Tensor) and o.dtype.kind == "f")


def _numerical_jacobian(fn, inputs, k, eps):
    """J[o][:, i] = d out_o / d input_k[i] by central differences (float64)."""
    from ..autograd.grad_mode import no_grad

    x = inputs[k]
    if not (x.data.flags.c_contiguous and x.data.flags.writeable):
        x.data = x.data.copy()  # reshape(-1) must be a writeable view, or the perturbations are lost
    flat = x.data.reshape(-1)  # a view: perturb in place
    with no_grad():
        outs0 = _outputs(fn, inputs)
    jac = [np.zeros((o.numel(), x.numel())) for o in outs0]
    for i in range(x.numel()):
        orig = flat[i].item()
        flat[i] = orig + eps
        with no_grad():
            plus = [o.numpy().astype(np.float64).reshape(-1) for o in _outputs(fn, inputs)]
        flat[i] = orig - eps
        with no_grad():
            minus = [o.numpy().astype(np.float64).reshape(-1) for o in _outputs(fn, inputs)]
        flat[i] = orig
        for j, (p, m) in enumerate(zip(plus, minus)):
            jac[j][:, i] = (p - m) / (2 * eps)
    return jac


def _analytic_jacobian(fn, inputs, k):
    from ..creation import zeros_like
    from . import grad as _grad

    outs = _outputs(fn, inputs)
    jac = []
    for o in outs:
        J = np.zeros((o.numel(), inputs[k].numel()))
        for r in range(o.numel()):
            go = zeros_like(o)
            go.data.reshape(-1)[r] = 1.0
            if not o.requires_grad:
                continue
            (g,) = _grad(o, inputs[k], grad_outputs=go, retain_graph=True, allow_unused=True)
            if g is not None:
                J[r] = g.numpy().astype(np.float64).reshape(-1)
        jac.append(J)
    return jac


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True) -> bool:
    """Check ``fn``'s gradients w.r.t. every input that requires grad (inputs should be float64).

    Returns True, or raises ``GradcheckError`` naming the input, the element index, and both values.
    """
    inputs = _as_tuple(inputs)
    for k, x in enumerate(inputs):
        if not getattr(x, "requires_grad", False):
            continue
        if x.dtype != np.float64:
            msg = (f"gradcheck: input {k} has dtype {x.dtype}; use float64 inputs "
                   "(central differences are meaningless in float32)")
            if raise_exception:
                raise GradcheckError(msg)
            return False
        num = _numerical_jacobian(fn, inputs, k, eps)
        ana = _analytic_jacobian(fn, inputs, k)
        for o, (n, a) in enumerate(zip(num, ana)):
            bad = ~np.isclose(a, n, rtol=rtol, atol=atol, equal_nan=True)
            if bad.any():
                r, i = np.argwhere(bad)[0]
                idx = np.unravel_index(i, x.shape) if x.ndim else ()
                msg = (f"gradcheck failed for input {k} (shape {tuple(x.shape)}) at index "
                       f"{tuple(map(int, idx))}, "
                       f"output {o} element {int(r)}: numerical {n[r, i]:.8g} vs analytic {a[r, i]:.8g} "
                       f"(|diff| {abs(n[r, i] - a[r, i]):.3g}, atol {atol}, rtol {rtol}); "
                       f"{int(bad.sum())} of {bad.size} Jacobian entries differ")
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  raise_exception: bool = True, seed: int = 0) -> bool:
    """Check second derivatives: gradcheck of x -> vjp(fn, x, v) for a fixed random v."""
    from ..tensor import Tensor
    from . import grad as _grad
    from .grad_mode import enable_grad

    inputs = _as_tuple(inputs)
    outs = _outputs(fn, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        grad_outputs = [Tensor(rng.standard_normal(o.shape), dtype=np.float64) for o in outs]
    diff = [x for x in inputs if getattr(x, "requires_grad", False)]

    def first_grads(*xs):
        # gradcheck evaluates fn under no_grad for its finite differences; the first gradients need a
        # graph to exist at all (without this, every output would be empty and the check vacuous)
        with enable_grad():
            return _first_grads(xs)

    def _first_grads(xs):
        outs = _outputs(fn, xs)
        live = [(o, g) for o, g in zip(outs, grad_outputs) if o.requires_grad]
        if not live:
            return ()
        targets = [x for x in xs if getattr(x, "requires_grad", False)]
        gs = _grad([o for o, _ in live], targets, grad_outputs=[g for _, g in live],
                   create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    if not diff:
        return True
    return gradcheck(first_grads, inputs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception)
