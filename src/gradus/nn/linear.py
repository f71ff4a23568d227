"""``Linear``, ``Bilinear``, ``Identity``, ``Flatten``, ``Unflatten``.

    >>> import gradus
    >>> from gradus import nn
    >>> layer = nn.Linear(784, 10)
    >>> layer.weight.shape, layer.bias.shape      # weight is [out, in], as in PyTorch
    ((10, 784), (10,))
    >>> layer(gradus.zeros(32, 784)).shape
    (32, 10)
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from .. import dtypes as _dt
from ..functional.linear import bilinear, linear
from ..ops.movement import flatten, unflatten
from ..tensor import Tensor
from ..validation import check_int
from . import init
from .module import Module, Parameter

__all__ = ["Identity", "Linear", "Bilinear", "Flatten", "Unflatten"]


def _empty(shape, dtype=None, device=None) -> np.ndarray:
    a = np.empty(shape, dtype=_dt.to_dtype(dtype) if dtype is not None else _dt.get_default_dtype())
    if device is not None:
        a = backend.to_device(a, backend.Device(device))
    return a


class Identity(Module):
    """Returns its input (a placeholder that keeps a model's structure); ignores any arguments."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):  # noqa: A002
        return input


class Linear(Module):
    """Fully connected layer: ``y = x W^T + b``.

    Shapes: input (*, in_features) -> output (*, out_features); ``weight`` (out_features, in_features),
    ``bias`` (out_features,). Initialisation as PyTorch: ``weight ~ kaiming_uniform_(a=sqrt(5))``, i.e.
    U(-1/sqrt(in_features), 1/sqrt(in_features)), and ``bias ~ U(-1/sqrt(in_features), 1/sqrt(in_features))``.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None):
        super().__init__()
        in_features = check_int("Linear", "in_features", in_features, min=0)
        out_features = check_int("Linear", "out_features", out_features, min=0)
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(Tensor._make(_empty((out_features, in_features), dtype, device)))
        if bias:
            self.bias = Parameter(Tensor._make(_empty((out_features,), dtype, device)))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):  # noqa: A002
        return linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Bilinear(Module):
    """``y_k = x1^T W_k x2 + b_k``; weight (out, in1, in2), init U(-1/sqrt(in1), 1/sqrt(in1))."""

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True,
                 device=None, dtype=None):
        super().__init__()
        in1_features = check_int("Bilinear", "in1_features", in1_features, min=0)
        in2_features = check_int("Bilinear", "in2_features", in2_features, min=0)
        out_features = check_int("Bilinear", "out_features", out_features, min=0)
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        shape = (out_features, in1_features, in2_features)
        self.weight = Parameter(Tensor._make(_empty(shape, dtype, device)))
        if bias:
            self.bias = Parameter(Tensor._make(_empty((out_features,), dtype, device)))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class Flatten(Module):
    """Flatten dims ``start_dim..end_dim`` into one: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):  # noqa: A002
        return flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Expand dim ``dim`` into ``unflattened_size``: (N, 784) -> (N, 1, 28, 28)."""

    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        self.dim = dim
        self.unflattened_size = tuple(unflattened_size)

    def forward(self, input):  # noqa: A002
        return unflatten(input, self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
