"""Adadelta (Zeiler, 2012), PyTorch's update rule."""
from __future__ import annotations

from ..backend import get_array_module
from ..tensor import Tensor
from .optimizer import Optimizer, _effective_grad, _increment, _new_step, check_hyperparameters

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Adadelta: steps scaled by the ratio of running RMS of past updates to that of gradients.

    For each parameter p with gradient g (negated if ``maximize``)::

        g   <- g + weight_decay * p
        v   <- rho * v + (1 - rho) * g^2
        dx   = sqrt(u + eps) / sqrt(v + eps) * g
        u   <- rho * u + (1 - rho) * dx^2
        p   <- p - lr * dx

    State per parameter: ``step`` (0-d float Tensor), ``square_avg`` (v), ``acc_delta`` (u).

        >>> import gradus
        >>> w = gradus.tensor([1.0], requires_grad=True)
        >>> opt = Adadelta([w], lr=1.0, rho=0.0, eps=1.0)
        >>> (w * w).sum().backward(); opt.step()
        >>> w       # v = 4; dx = sqrt(1) / sqrt(5) * 2
        tensor([0.1056], requires_grad=True)
    """

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, *, maximize: bool = False):
        check_hyperparameters(type(self).__name__, lr=lr, rho=rho, eps=eps, weight_decay=weight_decay)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One Adadelta update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, rho, eps = float(group["lr"]), float(group["rho"]), float(group["eps"])
            weight_decay, maximize = float(group["weight_decay"]), group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                xp = get_array_module(p.data)
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _new_step()
                    state["square_avg"] = Tensor._make(xp.zeros_like(p.data))
                    state["acc_delta"] = Tensor._make(xp.zeros_like(p.data))
                _increment(state["step"])
                g, _ = _effective_grad(xp, p, weight_decay, maximize, out=self._scratch(p.data, 0))
                v, u = state["square_avg"].data, state["acc_delta"].data

                tmp = xp.multiply(g, g, out=self._scratch(p.data, 1))
                tmp *= 1 - rho
                v *= rho
                v += tmp
                xp.add(v, eps, out=tmp)
                xp.sqrt(tmp, out=tmp)            # std = sqrt(v + eps)
                dx = xp.add(u, eps, out=self._scratch(p.data, 2))
                xp.sqrt(dx, out=dx)
                dx /= tmp
                dx *= g
                xp.multiply(dx, dx, out=tmp)
                tmp *= 1 - rho
                u *= rho
                u += tmp
                dx *= lr
                p.data -= dx
        return loss
