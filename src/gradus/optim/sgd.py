"""Stochastic gradient descent with momentum, Nesterov momentum and weight decay (PyTorch's rule)."""
from __future__ import annotations

from .. import kernels
from ..backend import get_array_module
from ..tensor import Tensor
from .optimizer import Optimizer, _effective_grad, check_hyperparameters

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent, exactly PyTorch's update.

    For each parameter p with gradient g (negated if ``maximize``)::

        g  <- g + weight_decay * p
        b  <- g                                   (first step)
        b  <- momentum * b + (1 - dampening) * g  (later steps)       [if momentum != 0]
        g  <- g + momentum * b  if nesterov else  b                   [if momentum != 0]
        p  <- p - lr * g

    State per parameter: ``momentum_buffer`` (only when ``momentum != 0``).

        >>> import gradus
        >>> w = gradus.tensor([1.0], requires_grad=True)
        >>> opt = SGD([w], lr=0.5, momentum=0.9)
        >>> for _ in range(2):
        ...     opt.zero_grad(); (w * w).sum().backward(); opt.step()
        >>> w        # 1 - 0.5*2 = 0 ; then b = 0.9*2 + 0 = 1.8 -> 0 - 0.9
        tensor([-0.9000], requires_grad=True)
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False):
        check_hyperparameters(type(self).__name__, lr=lr, momentum=momentum, dampening=dampening,
                              weight_decay=weight_decay)
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, momentum = float(group["lr"]), float(group["momentum"])
            dampening, weight_decay = float(group["dampening"]), float(group["weight_decay"])
            nesterov, maximize = group["nesterov"], group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                xp = get_array_module(p.data)
                g, _ = _effective_grad(xp, p, weight_decay, maximize, out=self._scratch(p.data, 0))
                tmp = self._scratch(p.data, 1)
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:  # first step: the buffer starts as a copy of the gradient
                        buf = Tensor._make(g.copy())
                        state["momentum_buffer"] = buf
                    elif dampening == 0 and not nesterov and kernels.sgd_momentum_update(
                            p.data, g, buf.data, momentum, lr):
                        continue                 # the update below in one pass (numba)
                    else:
                        b = buf.data
                        b *= momentum
                        if dampening == 0:
                            b += g
                        else:
                            xp.multiply(g, 1 - dampening, out=tmp)
                            b += tmp
                    if nesterov:
                        xp.multiply(buf.data, momentum, out=tmp)
                        tmp += g
                        g = tmp
                    else:
                        g = buf.data
                xp.multiply(g, lr, out=tmp)  # p -= lr * g, without allocating
                p.data -= tmp
        return loss
