"""Activation modules: thin wrappers over ``gradus.functional`` with PyTorch's names, arguments and
reprs (``LeakyReLU(negative_slope=0.01)``, ``Softmax(dim=1)``, ...).

    >>> import gradus
    >>> from gradus import nn
    >>> nn.ReLU()(gradus.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    >>> nn.Step(signed=True)(gradus.tensor([-0.5, 0.0, 3.0]))   # the perceptron's threshold unit
    tensor([-1.,  1.,  1.])
"""
from __future__ import annotations

from ..functional import activation as A
from ..tensor import Tensor
from .module import Module, Parameter

__all__ = ["Step", "Heaviside", "Threshold", "ReLU", "ReLU6", "LeakyReLU", "ELU", "SELU", "CELU", "GELU",
           "SiLU", "Mish", "Sigmoid", "Tanh", "Softplus", "Softsign", "LogSigmoid", "Hardtanh",
           "Hardsigmoid", "Hardswish", "Tanhshrink", "Softshrink", "Hardshrink", "PReLU", "GLU", "Softmax",
           "LogSoftmax", "Softmin"]


def _inplace_str(inplace: bool, first: bool = False) -> str:
    if not inplace:
        return ""
    return "inplace=True" if first else ", inplace=True"


class Step(Module):
    """Threshold unit (Heaviside step): 1 where x >= 0 else 0, or +1/-1 with ``signed=True``.

    Zero gradient: use it in perceptrons trained by the perceptron rule, not by backprop.
    """

    def __init__(self, signed: bool = False):
        super().__init__()
        self.signed = signed

    def forward(self, input):  # noqa: A002
        return A.step(input, self.signed)

    def extra_repr(self) -> str:
        return "signed=True" if self.signed else ""


Heaviside = Step


class Threshold(Module):
    """y = x if x > threshold else value."""

    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input):  # noqa: A002
        return A.threshold(input, self.threshold, self.value)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}{_inplace_str(self.inplace)}"


class ReLU(Module):
    """y = max(x, 0)."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):  # noqa: A002
        return A.relu(input)

    def extra_repr(self) -> str:
        return _inplace_str(self.inplace, first=True)


class LeakyReLU(Module):
    """y = x if x > 0 else negative_slope * x."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):  # noqa: A002
        return A.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}{_inplace_str(self.inplace)}"


class ELU(Module):
    """y = x if x > 0 else alpha (exp(x) - 1)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):  # noqa: A002
        return A.elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}{_inplace_str(self.inplace)}"


class CELU(ELU):
    """y = max(0, x) + min(0, alpha (exp(x / alpha) - 1))."""

    def forward(self, input):  # noqa: A002
        return A.celu(input, self.alpha)


class SELU(Module):
    """y = scale * elu(x, alpha) with the self-normalising constants."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):  # noqa: A002
        return A.selu(input)

    def extra_repr(self) -> str:
        return _inplace_str(self.inplace, first=True)


class GELU(Module):
    """y = x Phi(x) (``approximate='none'``, via erf) or its tanh approximation."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):  # noqa: A002
        return A.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(SELU):
    """y = x sigmoid(x) (swish)."""

    def forward(self, input):  # noqa: A002
        return A.silu(input)


class Mish(SELU):
    """y = x tanh(softplus(x))."""

    def forward(self, input):  # noqa: A002
        return A.mish(input)


class Sigmoid(Module):
    """y = 1 / (1 + exp(-x))."""

    def forward(self, input):  # noqa: A002
        return A.sigmoid(input)


class Tanh(Module):
    def forward(self, input):  # noqa: A002
        return A.tanh(input)


class Softplus(Module):
    """y = log(1 + exp(beta x)) / beta, linear above ``threshold``."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):  # noqa: A002
        return A.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softsign(Module):
    def forward(self, input):  # noqa: A002
        return A.softsign(input)


class LogSigmoid(Module):
    def forward(self, input):  # noqa: A002
        return A.logsigmoid(input)


class Tanhshrink(Module):
    def forward(self, input):  # noqa: A002
        return A.tanhshrink(input)


class Hardtanh(Module):
    """y = clip(x, min_val, max_val)."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        super().__init__()
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input):  # noqa: A002
        return A.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace_str(self.inplace)}"


class ReLU6(Hardtanh):
    """y = min(max(x, 0), 6)."""

    def __init__(self, inplace: bool = False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return _inplace_str(self.inplace, first=True)


class Hardsigmoid(Module):
    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):  # noqa: A002
        return A.hardsigmoid(input)


class Hardswish(Hardsigmoid):
    def forward(self, input):  # noqa: A002
        return A.hardswish(input)


class Hardshrink(Module):
    def __init__(self, lambd: float = 0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):  # noqa: A002
        return A.hardshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Softshrink(Hardshrink):
    def forward(self, input):  # noqa: A002
        return A.softshrink(input, self.lambd)


class PReLU(Module):
    """y = x if x > 0 else a x with learnable ``weight`` a: one shared value or one per channel."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(_full((num_parameters,), float(init), dtype))

    def reset_parameters(self) -> None:
        from . import init as _init

        _init.constant_(self.weight, self.init)

    def forward(self, input):  # noqa: A002
        return A.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


def _full(shape, value, dtype=None) -> Tensor:
    from ..creation import full

    return full(shape, value, dtype=dtype)


class GLU(Module):
    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, input):  # noqa: A002
        return A.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(Module):
    """Softmax along ``dim`` (PyTorch's legacy choice when ``dim`` is None, with a warning)."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input):  # noqa: A002
        return A.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    def forward(self, input):  # noqa: A002
        return A.log_softmax(input, self.dim)


class Softmin(Softmax):
    def forward(self, input):  # noqa: A002
        return A.softmin(input, self.dim)
