"""``RBF``: LeNet-5's output layer (LeCun et al. 1998), one Euclidean radial basis unit per class.

    y_j = sum_i (x_i - w_ji)^2

Each output is the squared distance between the input and the class's prototype ``w_j``: the
*smaller* y_j, the more likely class j (use ``-y`` as logits, or LeNet-5's MAP loss). In the paper
the prototypes are fixed stylised 7x12 bitmaps of the characters with entries +-1, so the default is
``trainable=False``: ``weight`` is then a (persistent) buffer, not a parameter; random +-1 prototypes
are drawn unless you assign your own (``rbf.weight.data[...] = bitmaps``).

    >>> import gradus
    >>> from gradus import nn
    >>> rbf = nn.RBF(84, 10)
    >>> rbf(gradus.zeros(2, 84))[0, 0].item()     # |0 - w_0|^2 = 84 for +-1 prototypes
    84.0
"""
from __future__ import annotations

from .. import dtypes as _dt
from ..errors import ShapeError
from ..ops.matmul import matmul
from ..ops.reduce import sum as _sum
from ..random import default_generator
from ..tensor import Tensor
from .module import Module, Parameter

__all__ = ["RBF"]


class RBF(Module):
    """Euclidean RBF units: input (*, in_features) -> (*, out_features), y_j = ||x - w_j||^2.

    ``weight`` (out_features, in_features): a buffer of +-1 prototypes (``trainable=False``, LeNet-5)
    or a Parameter (``trainable=True``).
    """

    def __init__(self, in_features: int, out_features: int, trainable: bool = False, dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.trainable = trainable
        d = _dt.to_dtype(dtype) if dtype is not None else _dt.get_default_dtype()
        signs = default_generator().integers(0, 2, (out_features, in_features)) * 2 - 1
        w = Tensor._make(signs.astype(d))
        if trainable:
            self.weight = Parameter(w)
        else:
            self.register_buffer("weight", w)

    def forward(self, input):  # noqa: A002
        x = input
        if x.shape[-1] != self.in_features:
            raise ShapeError(f"expected input with {self.in_features} features in its last dimension, got "
                             f"{x.shape[-1]} (input shape {tuple(x.shape)})")
        W = self.weight
        # ||x - w||^2 = ||x||^2 - 2 x.w + ||w||^2: one GEMM instead of an (N, out, in) difference tensor
        return _sum(x * x, -1, keepdim=True) - 2 * matmul(x, W.T) + _sum(W * W, 1)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, trainable={self.trainable}"


def _rbf_direct(x, W) -> Tensor:
    """Direct twin sum_i (x_i - w_ji)^2 via broadcasting (for tests)."""
    d = x.unsqueeze(-2) - W
    return _sum(d * d, -1)
