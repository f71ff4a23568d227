"""Adagrad (Duchi et al., 2011), PyTorch's update rule."""
from __future__ import annotations

from ..backend import get_array_module
from ..tensor import Tensor
from .optimizer import Optimizer, _effective_grad, _increment, _new_step, check_hyperparameters

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad: per-coordinate learning rates shrinking with the accumulated squared gradients.

    At step t, for each parameter p with gradient g (negated if ``maximize``)::

        g   <- g + weight_decay * p
        clr  = lr / (1 + (t - 1) * lr_decay)
        s   <- s + g^2                      (s starts at initial_accumulator_value)
        p   <- p - clr * g / (sqrt(s) + eps)

    State per parameter (created at construction, as PyTorch): ``step`` (0-d float Tensor) and
    ``sum`` (s, same shape as p).

        >>> import gradus
        >>> w = gradus.tensor([3.0], requires_grad=True)
        >>> opt = Adagrad([w], lr=1.0)
        >>> (w * w).sum().backward(); opt.step()
        >>> w       # 3 - 6 / sqrt(36)
        tensor([2.], requires_grad=True)
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, *, maximize: bool = False):
        check_hyperparameters(type(self).__name__, lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                              initial_accumulator_value=initial_accumulator_value, eps=eps)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p)

    def _init_state(self, p: Tensor) -> dict:
        state = self.state[p]
        if len(state) == 0:
            xp = get_array_module(p.data)
            state["step"] = _new_step()
            # PyTorch reads the accumulator's start value from the defaults, not the group
            state["sum"] = Tensor._make(xp.full_like(p.data, self.defaults["initial_accumulator_value"]))
        return state

    def step(self, closure=None):
        """One Adagrad update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, lr_decay = float(group["lr"]), float(group["lr_decay"])
            eps, weight_decay, maximize = float(group["eps"]), float(group["weight_decay"]), group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                xp = get_array_module(p.data)
                state = self._init_state(p)
                t = _increment(state["step"])
                g, _ = _effective_grad(xp, p, weight_decay, maximize, out=self._scratch(p.data, 0))
                clr = lr / (1 + (t - 1) * lr_decay)
                s = state["sum"].data
                tmp = xp.multiply(g, g, out=self._scratch(p.data, 1))
                s += tmp
                xp.sqrt(s, out=tmp)
                tmp += eps
                xp.divide(g, tmp, out=tmp)
                tmp *= clr
                p.data -= tmp
        return loss
