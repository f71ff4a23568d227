"""``LocallyConnected2d``: a convolution whose filters are not shared across positions.

The lecture's middle case between a fully connected layer (every output sees every input, own
weights) and a convolution (local receptive fields, ONE filter bank shared by all positions): here
every output position (i, j) has local receptive fields but its OWN filter bank. It keeps locality
and drops translation equivariance, at OH*OW times the parameters of the same convolution.

    >>> import gradus
    >>> from gradus import nn
    >>> lc = nn.LocallyConnected2d(3, 8, input_size=(10, 10), kernel_size=3)
    >>> lc.weight.shape, lc.bias.shape        # (OH, OW, OC, C*KH*KW), (OC, OH, OW)
    ((8, 8, 8, 27), (8, 8, 8))
    >>> lc(gradus.zeros(2, 3, 10, 10)).shape
    (2, 8, 8, 8)
"""
from __future__ import annotations

import math

from ..errors import ShapeError
from ..functional.patches import locally_connected2d
from ..functional.window import make_geom
from ..tensor import Tensor
from . import init
from .conv import _empty, _tuple
from .module import Module, Parameter

__all__ = ["LocallyConnected2d"]


class LocallyConnected2d(Module):
    """y[n, o, i, j] = b[o, i, j] + sum_k W[i, j, o, k] * cols[n, k, i, j] (``F.locally_connected2d``).

    Shapes: input (N, in_channels, H, W) with (H, W) = ``input_size`` (the weights depend on it);
    ``weight`` (OH, OW, out_channels, in_channels*KH*KW), columns ordered like ``F.unfold``;
    ``bias`` (out_channels, OH, OW). Init as a convolution with the same fan_in = C*KH*KW:
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias.
    """

    def __init__(self, in_channels: int, out_channels: int, input_size, kernel_size, stride=1, padding=0,
                 dilation=1, bias: bool = True, device=None, dtype=None):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.input_size = _tuple(input_size, 2)
        self.kernel_size = _tuple(kernel_size, 2)
        self.stride, self.padding, self.dilation = _tuple(stride, 2), _tuple(padding, 2), _tuple(dilation, 2)
        g = make_geom(*self.input_size, self.kernel_size, self.stride, self.dilation,
                      (self.padding[0], self.padding[0], self.padding[1], self.padding[1]))
        if g.oh <= 0 or g.ow <= 0:
            raise ShapeError(f"LocallyConnected2d: input_size {self.input_size} is too small for kernel "
                             f"{self.kernel_size} (padding {self.padding}, dilation {self.dilation})")
        self.output_size = (g.oh, g.ow)
        fan_in = in_channels * self.kernel_size[0] * self.kernel_size[1]
        self.weight = Parameter(_empty((g.oh, g.ow, out_channels, fan_in), dtype, device))
        if bias:
            self.bias = Parameter(_empty((out_channels, g.oh, g.ow), dtype, device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.weight.shape[-1])  # what kaiming_uniform_(a=sqrt(5)) gives a conv
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):  # noqa: A002
        x = input
        if not isinstance(x, Tensor) or x.ndim != 4:
            raise ShapeError(f"LocallyConnected2d: expected an input of shape (N, C, H, W), got "
                             f"{getattr(x, 'shape', type(x).__name__)}")
        if x.shape[1] != self.in_channels:
            raise ShapeError(f"expected input with {self.in_channels} channels "
                             f"(in_channels={self.in_channels}), but got {x.shape[1]} channels (input shape "
                             f"{tuple(x.shape)})")
        if tuple(x.shape[2:]) != self.input_size:
            raise ShapeError(f"LocallyConnected2d: built for input size {self.input_size} (its weights are "
                             f"per position), but got spatial size {tuple(x.shape[2:])}")
        return locally_connected2d(x, self.weight, self.bias, self.kernel_size, self.stride, self.padding,
                                   self.dilation)

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, input_size={self.input_size}, "
             f"kernel_size={self.kernel_size}, stride={self.stride}")
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.bias is None:
            s += ", bias=False"
        return s
