"""Adam and AdamW (PyTorch's update rules, including AMSGrad and ``maximize``)."""
from __future__ import annotations

import math

from .. import kernels
from ..backend import get_array_module
from ..tensor import Tensor
from .optimizer import Optimizer, _effective_grad, _increment, _new_step, check_hyperparameters

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015), exactly PyTorch's update.

    At step t, for each parameter p with gradient g (negated if ``maximize``)::

        p   <- p * (1 - lr * weight_decay)            if decoupled_weight_decay (AdamW)
        g   <- g + weight_decay * p                   otherwise (L2 penalty)
        m   <- m + (1 - beta1) * (g - m)              (= beta1 m + (1 - beta1) g)
        v   <- beta2 * v + (1 - beta2) * g^2
        vmax <- max(vmax, v);  v_used = vmax if amsgrad else v
        p   <- p - lr / (1 - beta1^t) * m / (sqrt(v_used) / sqrt(1 - beta2^t) + eps)

    State per parameter: ``step`` (0-d float32 Tensor, as PyTorch), ``exp_avg`` (m), ``exp_avg_sq``
    (v) and ``max_exp_avg_sq`` (vmax, with ``amsgrad``). All of the same shape as p.

        >>> import gradus
        >>> w = gradus.tensor([1.0, -1.0], requires_grad=True)
        >>> opt = Adam([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step()
        >>> w       # the first Adam step moves every coordinate by ~lr
        tensor([ 0.9000, -0.9000], requires_grad=True)
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False):
        check_hyperparameters(type(self).__name__, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, betas=(float(betas[0]), float(betas[1])), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One Adam update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
            beta1, beta2 = (float(b) for b in group["betas"])
            amsgrad, maximize = group["amsgrad"], group["maximize"]
            decoupled = group.get("decoupled_weight_decay", False)
            for p in group["params"]:
                if p.grad is None:
                    continue
                xp = get_array_module(p.data)
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _new_step()
                    state["exp_avg"] = Tensor._make(xp.zeros_like(p.data))
                    state["exp_avg_sq"] = Tensor._make(xp.zeros_like(p.data))
                    if amsgrad:
                        state["max_exp_avg_sq"] = Tensor._make(xp.zeros_like(p.data))
                t = _increment(state["step"])
                if weight_decay != 0 and decoupled:
                    p.data *= 1 - lr * weight_decay
                g, owned = _effective_grad(xp, p, 0.0 if decoupled else weight_decay, maximize,
                                           out=self._scratch(p.data, 0))
                m, v = state["exp_avg"].data, state["exp_avg_sq"].data
                step_size = lr / (1 - beta1 ** t)
                if not amsgrad and kernels.adam_update(p.data, g, m, v, beta1, beta2, step_size,
                                                       math.sqrt(1 - beta2 ** t), eps):
                    continue                     # the update below in one compiled pass (numba)

                tmp = xp.multiply(g, g, out=self._scratch(p.data, 1))
                tmp *= 1 - beta2
                v *= beta2
                v += tmp
                d = g if owned else tmp          # m.lerp_(g, 1 - beta1), as PyTorch
                xp.subtract(g, m, out=d)
                d *= 1 - beta1
                m += d

                if amsgrad:
                    vmax = state["max_exp_avg_sq"].data
                    xp.maximum(vmax, v, out=vmax)
                    v = vmax
                xp.sqrt(v, out=tmp)
                tmp /= math.sqrt(1 - beta2 ** t)
                tmp += eps
                xp.divide(m, tmp, out=tmp)
                tmp *= step_size
                p.data -= tmp
        return loss


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019): ``p <- p * (1 - lr * wd)``
    before the Adam step, instead of adding ``wd * p`` to the gradient. Default ``weight_decay=1e-2``.
    Same state as :class:`Adam`."""

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)

    def load_state_dict(self, state_dict: dict) -> None:
        super().load_state_dict(state_dict)
        for group in self.param_groups:  # an AdamW is always decoupled, as in PyTorch
            group["decoupled_weight_decay"] = True
