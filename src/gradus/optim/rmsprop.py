"""RMSprop (Hinton's lecture 6e), PyTorch's update rule, with centering and momentum."""
from __future__ import annotations

from ..backend import get_array_module
from ..tensor import Tensor
from .optimizer import Optimizer, _effective_grad, _increment, _new_step, check_hyperparameters

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop: divide the gradient by a running root-mean-square of recent gradients.

    For each parameter p with gradient g (negated if ``maximize``)::

        g   <- g + weight_decay * p
        v   <- alpha * v + (1 - alpha) * g^2
        a   <- a + (1 - alpha) * (g - a);  den = sqrt(v - a^2) + eps     if centered
                                           den = sqrt(v) + eps           otherwise
        b   <- momentum * b + g / den;     p <- p - lr * b               if momentum > 0
                                           p <- p - lr * g / den         otherwise

    State per parameter: ``step`` (0-d float Tensor), ``square_avg`` (v), ``momentum_buffer`` (b, if
    ``momentum > 0``), ``grad_avg`` (a, if ``centered``).

        >>> import gradus
        >>> w = gradus.tensor([1.0], requires_grad=True)
        >>> opt = RMSprop([w], lr=0.01, alpha=0.75)
        >>> (w * w).sum().backward(); opt.step()
        >>> w       # 1 - 0.01 * 2 / sqrt(0.25 * 4) = 0.98
        tensor([0.9800], requires_grad=True)
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, *,
                 maximize: bool = False):
        check_hyperparameters(type(self).__name__, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                              momentum=momentum)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One RMSprop update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
            weight_decay, momentum = float(group["weight_decay"]), float(group["momentum"])
            centered, maximize = group["centered"], group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                xp = get_array_module(p.data)
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _new_step()
                    state["square_avg"] = Tensor._make(xp.zeros_like(p.data))
                    if momentum > 0:
                        state["momentum_buffer"] = Tensor._make(xp.zeros_like(p.data))
                    if centered:
                        state["grad_avg"] = Tensor._make(xp.zeros_like(p.data))
                _increment(state["step"])
                g, _ = _effective_grad(xp, p, weight_decay, maximize, out=self._scratch(p.data, 0))
                v = state["square_avg"].data

                tmp = xp.multiply(g, g, out=self._scratch(p.data, 1))
                tmp *= 1 - alpha
                v *= alpha
                v += tmp
                if centered:
                    a = state["grad_avg"].data
                    xp.subtract(g, a, out=tmp)
                    tmp *= 1 - alpha
                    a += tmp
                    xp.multiply(a, a, out=tmp)
                    xp.subtract(v, tmp, out=tmp)
                    xp.sqrt(tmp, out=tmp)
                else:
                    xp.sqrt(v, out=tmp)
                tmp += eps
                xp.divide(g, tmp, out=tmp)
                if momentum > 0:
                    b = state["momentum_buffer"].data
                    b *= momentum
                    b += tmp
                    xp.multiply(b, lr, out=tmp)
                else:
                    tmp *= lr
                p.data -= tmp
        return loss
