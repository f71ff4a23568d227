"""Higher-level derivatives built on the engine: ``vjp``, ``jvp``, ``jacobian``, ``hessian``, ``hvp``.

Only reverse mode exists, so ``jvp`` uses the double-vjp trick: for u with J^T u = g(u),
J v = d/du <g(u), v>. ``hessian`` is the Jacobian of the gradient (``create_graph=True``).

Newton's method on f(x, y) = (1 - x)^2 + 100 (y - x^2)^2 (Rosenbrock), the lecture's
second-order remedy for slow convergence:

    >>> import gradus
    >>> from gradus.autograd.functional import hessian, jacobian
    >>> f = lambda p: (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2
    >>> p = gradus.tensor([-1.2, 1.0], dtype=gradus.float64)
    >>> for _ in range(10):
    ...     g, H = jacobian(f, p), hessian(f, p)
    ...     p = p - gradus.tensor(__import__("numpy").linalg.solve(H.numpy(), g.numpy()))
    >>> [round(v, 6) for v in p.tolist()]
    [1.0, 1.0]
"""
from __future__ import annotations

import numpy as np

from . import grad as _grad
from .grad_mode import enable_grad


def _tuple(x):
    return (tuple(x), True) if isinstance(x, (tuple, list)) else ((x,), False)


def _prepare(inputs, create_graph: bool = False):
    """Fresh tensors to differentiate against. With ``create_graph`` an input that requires grad
    goes through an identity op instead of being detached, so the result stays differentiable with
    respect to the caller's tensor (as in PyTorch)."""
    from ..ops.elementwise import clone

    ins, multi = _tuple(inputs)
    with enable_grad():
        xs = tuple(clone(x) if create_graph and x.requires_grad else x.detach().requires_grad_(True)
                   for x in ins)
    return xs, multi


def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), v^T J): the vector-Jacobian product (one reverse pass)."""
    from ..creation import ones_like, zeros_like

    xs, multi = _prepare(inputs, create_graph)
    with enable_grad():
        out = func(*xs)
        outs, omulti = _tuple(out)
        vs = _tuple(v)[0] if v is not None else tuple(ones_like(o) for o in outs)
        gs = _grad(outs, xs, grad_outputs=vs, create_graph=create_graph, allow_unused=True)
    gs = tuple(zeros_like(x) if g is None else g for x, g in zip(xs, gs))
    res = out if create_graph else (tuple(o.detach() for o in outs) if omulti else outs[0].detach())
    return res, (gs if multi else gs[0])


def jvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), J v): the Jacobian-vector product, via the double-vjp trick."""
    from ..creation import ones_like, zeros_like

    xs, multi = _prepare(inputs, create_graph)
    vs = _tuple(v)[0] if v is not None else tuple(ones_like(x) for x in xs)
    with enable_grad():
        out = func(*xs)
        outs, omulti = _tuple(out)
        us = tuple(zeros_like(o).requires_grad_(True) for o in outs)
        gs = _grad(outs, xs, grad_outputs=us, create_graph=True, allow_unused=True)
        pairs = [(g, vv) for g, vv in zip(gs, vs) if g is not None and g.requires_grad]
        if pairs:
            inner = sum((g * vv).sum() for g, vv in pairs)
            jv = _grad(inner, us, create_graph=create_graph, allow_unused=True)
        else:
            jv = (None,) * len(us)
    jv = tuple(zeros_like(o) if j is None else j for o, j in zip(outs, jv))
    res = tuple(o.detach() for o in outs) if omulti else outs[0].detach()
    return res, (jv if omulti else jv[0])


def jacobian(func, inputs, create_graph: bool = False, strict: bool = False):
    """Full Jacobian d func / d inputs, shape ``out.shape + in.shape`` (one vjp per output element).

    For several inputs (or outputs) a tuple (of tuples) is returned, as in PyTorch.
    """
    from ..creation import zeros_like
    from ..ops.movement import reshape, stack

    xs, multi = _prepare(inputs, create_graph)
    with enable_grad():
        out = func(*xs)
        outs, omulti = _tuple(out)
        result = []
        for o in outs:
            rows = [[] for _ in xs]
            for r in range(max(o.numel(), 1)):
                go = zeros_like(o)
                go.data.reshape(-1)[r] = 1.0
                gs = _grad(o, xs, grad_outputs=go, retain_graph=True, create_graph=create_graph,
                           allow_unused=True) if o.requires_grad else (None,) * len(xs)
                for k, (x, g) in enumerate(zip(xs, gs)):
                    rows[k].append(zeros_like(x) if g is None else g)
            per_in = tuple(reshape(stack(rk), o.shape + x.shape) for rk, x in zip(rows, xs))
            result.append(per_in if multi else per_in[0])
    if not create_graph:
        result = [tuple(j.detach() for j in r) if multi else r.detach() for r in result]
    return tuple(result) if omulti else result[0]


def hessian(func, inputs, create_graph: bool = False, strict: bool = False):
    """Hessian of a scalar function: the Jacobian of its gradient, shape ``in.shape + in.shape``."""
    xs, multi = _prepare(inputs, create_graph)

    def grad_fn(*ys):
        out = func(*ys)
        gs = _grad(out, ys, create_graph=True, allow_unused=True)
        from ..creation import zeros_like

        gs = tuple(zeros_like(y) if g is None else g for y, g in zip(ys, gs))
        return gs if multi else gs[0]

    return jacobian(grad_fn, xs if multi else xs[0], create_graph=create_graph)


def vhp(func, inputs, v, create_graph: bool = False, strict: bool = False):
    """(func(inputs), v^T H)."""
    xs, multi = _prepare(inputs, create_graph)
    vs = _tuple(v)[0]
    with enable_grad():
        out = func(*xs)
        gs = _grad(out, xs, create_graph=True)
        inner = sum((g * vv).sum() for g, vv in zip(gs, vs))
        hv = _grad(inner, xs, create_graph=create_graph, allow_unused=True)
    from ..creation import zeros_like

    hv = tuple(zeros_like(x) if h is None else h for x, h in zip(xs, hv))
    return out.detach(), (hv if multi else hv[0])


def hvp(func, inputs, v, create_graph: bool = False, strict: bool = False):
    """(func(inputs), H v): the Hessian-vector product (H is symmetric, so equal to vhp)."""
    return vhp(func, inputs, v, create_graph=create_graph)


__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]
_ = np
