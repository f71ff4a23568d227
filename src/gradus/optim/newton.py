"""Second-order methods for small models: Newton's method and Hessian-free (truncated Newton).

Both treat all parameters as one vector theta (length n) and need a ``closure`` that computes and
returns the loss (recorded with gradients; the closure must NOT call ``backward()``, since these
methods differentiate the loss twice themselves). Curvature comes from double backward: the
gradient ``g = dL/dtheta`` is computed with ``create_graph=True``, and a Hessian-vector product is
``H v = d(g . v)/dtheta`` (one more backward pass).

- :class:`Newton` builds the full n x n Hessian (n backward passes) and solves
  ``(H + damping I) d = g``: exact on quadratics, quadratic convergence near a minimum, O(n^3).
- :class:`HessianFree` never forms H: it solves the same system approximately by conjugate
  gradient using only ``H v`` products (Martens, 2010), with Levenberg-Marquardt adaptation of the
  damping.

    >>> import gradus
    >>> w = gradus.tensor([5.0, -3.0], dtype=gradus.float64, requires_grad=True)
    >>> A = gradus.tensor([[3.0, 1.0], [1.0, 2.0]], dtype=gradus.float64)
    >>> opt = Newton([w])
    >>> _ = opt.step(lambda: 0.5 * (w @ A @ w) - w.sum())     # minimum at A^-1 1 = (0.2, 0.4)
    >>> [round(v, 12) for v in w.tolist()]
    [0.2, 0.4]
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd import grad as _grad
from ..autograd.grad_mode import enable_grad
from ..errors import AutogradError
from ..tensor import Tensor
from .optimizer import Optimizer, _assign_flat, _check_single_group, _flat_params

__all__ = ["Newton", "HessianFree"]


def _loss_and_grads(closure, params, who: str):
    """Evaluate the closure with gradient recording and return (loss, dL/dp with create_graph=True)."""
    if closure is None:
        raise ValueError(f"{who}.step needs a closure that computes and returns the loss")
    with enable_grad():
        loss = closure()
        if not isinstance(loss, Tensor) or not loss.requires_grad:
            raise AutogradError(f"{who}: the closure must return the loss as a Tensor computed from the "
                                "parameters with gradients recorded (not a float, not detached)")
        try:
            grads = _grad(loss, params, create_graph=True, allow_unused=True)
        except AutogradError as e:
            raise AutogradError(f"{who}: cannot differentiate the closure's loss ({e}). The closure must "
                                "compute and return the loss without calling backward() itself") from e
    return loss, grads


def _flat(arrays, params) -> np.ndarray:
    """Concatenate per-parameter gradients (None -> zeros) into one float64 NumPy vector."""
    parts = []
    for a, p in zip(arrays, params):
        parts.append(np.zeros(p.data.size) if a is None
                     else backend.as_numpy(a.data).reshape(-1).astype(np.float64))
    return np.concatenate(parts) if parts else np.zeros(0)


def _hvp(params, grads):
    """Return ``v -> H v`` (float64 NumPy vectors) by double backward through ``grads``."""
    active = [k for k, g in enumerate(grads) if g is not None and g.requires_grad]
    sizes = [p.data.size for p in params]
    offsets = np.concatenate([[0], np.cumsum(sizes)])

    def hv(v: np.ndarray) -> np.ndarray:
        if not active:  # the gradient is constant: the loss is linear in the parameters
            return np.zeros_like(v)
        outs, gouts = [], []
        for k in active:
            chunk = v[offsets[k]:offsets[k + 1]].reshape(params[k].shape).astype(grads[k].dtype)
            outs.append(grads[k])
            if params[k].is_cuda:
                chunk = backend.to_device(chunk, params[k].device)
            gouts.append(Tensor._make(chunk))
        res = _grad(outs, params, grad_outputs=gouts, retain_graph=True, allow_unused=True)
        return _flat(res, params)

    return hv


class Newton(Optimizer):
    r"""Newton's method with optional Levenberg damping.

    Each ``step(closure)``::

        g = dL/dtheta,  H = d^2L/dtheta^2         (symmetrised: (H + H^T) / 2)
        d = solve(H + damping * I, g)             (least squares if singular)
        theta <- theta - lr * d

    With ``lr=1`` and ``damping=0`` a quadratic is minimised in one step. Costs n backward passes
    for H and an O(n^3) solve: for models with up to a few thousand parameters. On a non-convex
    loss H may be indefinite and the undamped step may head for a saddle or maximum: use
    ``damping`` (>= the most negative eigenvalue) or :class:`HessianFree`.

    Returns the loss evaluated before the update. State (on the first parameter): ``step``.
    """

    def __init__(self, params, lr: float = 1.0, damping: float = 0.0):
        if not lr > 0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if damping < 0:
            raise ValueError(f"Invalid damping: {damping} (must be >= 0)")
        super().__init__(params, dict(lr=lr, damping=damping))
        _check_single_group(self, "Newton")

    def hessian(self, closure) -> tuple[Tensor, np.ndarray, np.ndarray]:
        """``(loss, g, H)`` at the current parameters: the flat gradient (n,) and Hessian (n, n), float64."""
        params = self.param_groups[0]["params"]
        loss, grads = _loss_and_grads(closure, params, type(self).__name__)
        g = _flat(grads, params)
        hv = _hvp(params, grads)
        n = g.size
        H = np.empty((n, n))
        e = np.zeros(n)
        for i in range(n):  # column i = H e_i
            e[i] = 1.0
            H[:, i] = hv(e)
            e[i] = 0.0
        return loss, g, 0.5 * (H + H.T)

    def step(self, closure):
        """One Newton step; returns the loss before it."""
        group = self.param_groups[0]
        params = group["params"]
        loss, g, H = self.hessian(closure)
        A = H + float(group["damping"]) * np.eye(g.size)
        try:
            d = np.linalg.solve(A, g)
        except np.linalg.LinAlgError:  # singular: the minimum-norm least-squares step
            d = np.linalg.lstsq(A, g, rcond=None)[0]
        _assign_flat(params, _flat_params(params) - float(group["lr"]) * d)
        st = self.state[params[0]]
        st["step"] = st.get("step", 0) + 1
        return loss


class HessianFree(Optimizer):
    r"""Hessian-free optimisation: truncated Newton with conjugate gradient on H v products.

    Each ``step(closure)`` solves ``(H + lambda I) d = g`` approximately by at most ``cg_iters``
    conjugate-gradient iterations (one Hessian-vector product each, by double backward), stopping
    when the residual falls below ``cg_tol * |g|`` or when negative curvature is met (then the
    last iterate is used; on the first iteration, the gradient itself). Then ``theta <- theta - lr d``.

    With ``adaptive=True`` (default), as in Martens (2010): lambda follows the Levenberg-Marquardt
    rule (the ratio ``rho = (L(new) - L(old)) / (q(s) - q(0))`` of the actual change to the one the
    quadratic model q predicts for the full step sets ``lambda *= 3/2`` if ``rho < 1/4`` and
    ``lambda *= 2/3`` if ``rho > 3/4``), and a backtracking line search halves the step (from ``lr``,
    at most ``max_backtracks`` times) until the loss decreases by the Armijo condition; if it never
    does, the parameters are left unchanged. This costs one extra H v product and one to a few
    closure evaluations (without gradients) per step. ``damping`` is lambda's start (> 0 when
    adaptive).

    Returns the loss evaluated before the update. State (on the first parameter): ``step``,
    ``damping`` (the current lambda), ``cg_iters_used``.
    """

    max_backtracks = 20  # line-search halvings before a step is given up (2^-20 of lr)

    def __init__(self, params, lr: float = 1.0, cg_iters: int = 50, damping: float = 1e-3,
                 cg_tol: float = 1e-10, adaptive: bool = True):
        if not lr > 0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if cg_iters < 1:
            raise ValueError(f"Invalid cg_iters: {cg_iters} (need >= 1)")
        if damping < 0 or (adaptive and damping == 0):
            raise ValueError(f"Invalid damping: {damping} (must be >= 0, and > 0 with adaptive=True since "
                             "the adaptation multiplies it)")
        super().__init__(params, dict(lr=lr, cg_iters=cg_iters, damping=damping, cg_tol=cg_tol,
                                      adaptive=adaptive))
        _check_single_group(self, "HessianFree")

    @staticmethod
    def _cg(hv, b: np.ndarray, lam: float, iters: int, tol: float) -> tuple[np.ndarray, int]:
        """Conjugate gradient for ``(H + lam I) x = b`` from x = 0; returns (x, iterations)."""
        x = np.zeros_like(b)
        r = b.copy()
        d = r.copy()
        rs = r @ r
        stop = tol * math.sqrt(rs)
        for i in range(iters):
            Ad = hv(d) + lam * d
            curvature = d @ Ad
            if curvature <= 0:  # negative curvature: CG's quadratic model is unbounded along d
                return (b.copy() if i == 0 else x), i + 1
            alpha = rs / curvature
            x += alpha * d
            r -= alpha * Ad
            rs_new = r @ r
            if math.sqrt(rs_new) <= stop:
                return x, i + 1
            d = r + (rs_new / rs) * d
            rs = rs_new
        return x, iters

    def step(self, closure):
        """One truncated-Newton step; returns the loss before it."""
        group = self.param_groups[0]
        params = group["params"]
        st = self.state[params[0]]
        lam = st.get("damping", float(group["damping"]))
        loss, grads = _loss_and_grads(closure, params, "HessianFree")
        b = _flat(grads, params)
        st["step"] = st.get("step", 0) + 1
        if not np.any(b):  # stationary point: nothing to do
            return loss
        hv = _hvp(params, grads)
        x, used = self._cg(hv, b, lam, int(group["cg_iters"]), float(group["cg_tol"]))
        st["cg_iters_used"] = used
        lr = float(group["lr"])
        theta = _flat_params(params)
        _assign_flat(params, theta - lr * x)
        if not group["adaptive"]:
            return loss
        # Levenberg-Marquardt: compare the actual change with the quadratic model's prediction for the
        # full step s = -lr x:  q = g.s + s.H s / 2
        old_loss = float(loss.detach().item())
        slope = -(b @ x)  # directional derivative along -x: < 0 for a descent direction
        predicted = lr * slope + 0.5 * lr * lr * (x @ hv(x))
        new_loss = float(closure())
        rho = (new_loss - old_loss) / predicted if predicted < 0 else -math.inf
        if not rho >= 0.25:  # also NaN
            lam *= 1.5
        elif rho > 0.75:
            lam *= 2.0 / 3.0
        st["damping"] = lam
        # backtracking (Armijo) line search along -x: halve the step until the loss decreases enough
        alpha = lr
        for k in range(self.max_backtracks + 1 if slope < 0 else 0):
            if k > 0:
                alpha *= 0.5
                _assign_flat(params, theta - alpha * x)
                new_loss = float(closure())
            if new_loss <= old_loss + 1e-4 * alpha * slope:
                return loss
        _assign_flat(params, theta)  # no decrease found: undo the step (the damping has grown)
        return loss
