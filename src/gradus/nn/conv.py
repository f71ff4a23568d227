"""Convolution layers: ``Conv1d``, ``Conv2d``, ``Conv3d``, ``ConvTranspose1d``, ``ConvTranspose2d``,
``ConvTranspose3d``, ``Unfold``, ``Fold``.

Parameter names, shapes and initialisation are PyTorch's, so PyTorch / safetensors weights load
directly:

- ``Conv2d.weight`` (out_channels, in_channels / groups, KH, KW), ``bias`` (out_channels,)
  (``Conv3d``: (out_channels, in_channels / groups, KD, KH, KW))
- ``ConvTranspose2d.weight`` (in_channels, out_channels / groups, KH, KW), ``bias`` (out_channels,)
  (``ConvTranspose3d``: (in_channels, out_channels / groups, KD, KH, KW))
- init: ``weight ~ kaiming_uniform_(a=sqrt(5))`` = U(-1/sqrt(fan_in), 1/sqrt(fan_in)) and
  ``bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` with fan_in = weight.size(1) * prod(kernel_size).

    >>> import gradus
    >>> from gradus import nn
    >>> conv = nn.Conv2d(3, 64, kernel_size=3, padding=1)
    >>> conv
    Conv2d(3, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
    >>> conv(gradus.zeros(8, 3, 32, 32)).shape
    (8, 64, 32, 32)

The forward is ``gradus.functional.conv2d``: im2col + one GEMM (see ``gradus/functional/conv.py``);
the 3-D layers run ``conv3d`` / ``conv_transpose3d`` (``gradus/functional/convnd.py``).
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from .. import dtypes as _dt
from ..errors import ShapeError
from ..functional import conv as Fc
from ..functional import convnd as Fn
from ..functional import patches as Fu
from ..tensor import Tensor
from ..validation import check_int
from . import init
from .module import Module, Parameter

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "Unfold",
           "Fold"]


def _empty(shape, dtype=None, device=None) -> Tensor:
    a = np.empty(shape, dtype=_dt.to_dtype(dtype) if dtype is not None else _dt.get_default_dtype())
    if device is not None:
        a = backend.to_device(a, backend.Device(device))
    return Tensor._make(a)


def _tuple(v, n):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


def _int_tuple(layer: str, arg: str, v, n: int, min: int):  # noqa: A002
    """``v`` (an int or a sequence of ``n`` ints) as an n-tuple of ints >= ``min``."""
    t = _tuple(v, n)
    if len(t) != n:
        raise ValueError(f"{layer}: {arg} must be an int or a sequence of {n} ints, got {v!r}")
    return tuple(check_int(layer, arg, e, min=min) for e in t)


class _ConvNd(Module):
    """Shared parts of the convolution layers (arguments, parameters, init, repr, input checks)."""

    _nd = 2
    _transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", output_padding=0,
                 device=None, dtype=None):
        super().__init__()
        name, nd = type(self).__name__, self._nd
        in_channels = check_int(name, "in_channels", in_channels, min=1)
        out_channels = check_int(name, "out_channels", out_channels, min=1)
        groups = check_int(name, "groups", groups)
        kernel_size = _int_tuple(name, "kernel_size", kernel_size, nd, 1)
        stride = _int_tuple(name, "stride", stride, nd, 1)
        dilation = _int_tuple(name, "dilation", dilation, nd, 1)
        output_padding = _int_tuple(name, "output_padding", output_padding, nd, 0)
        if not isinstance(padding, str):
            padding = _int_tuple(name, "padding", padding, nd, 0)
        if groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups}")
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups ({groups})")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by groups ({groups})")
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"{name}: padding_mode must be one of 'zeros', 'reflect', 'replicate' or "
                             f"'circular', got {padding_mode!r}")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: padding must be an int, a tuple, 'valid' or 'same', "
                                 f"got {padding!r}")
            if padding == "same" and any(s != 1 for s in _tuple(stride, nd)):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _tuple(kernel_size, nd)
        self.stride = _tuple(stride, nd)
        self.padding = padding if isinstance(padding, str) else _tuple(padding, nd)
        self.dilation = _tuple(dilation, nd)
        self.transposed = self._transposed
        self.output_padding = _tuple(output_padding, nd)
        self.groups = groups
        self.padding_mode = padding_mode
        if self._transposed:
            shape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = Parameter(_empty(shape, dtype, device))
        if bias:
            self.bias = Parameter(_empty((out_channels,), dtype, device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # kaiming_uniform_(a=sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (PyTorch's default)
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * int(np.prod(self.kernel_size))
            if fan_in:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        nd = self._nd
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * nd:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * nd:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * nd:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def _check_input(self, x) -> None:
        nd = self._nd
        if not isinstance(x, Tensor):
            raise TypeError(f"{type(self).__name__}: expected a Tensor input, got {type(x).__name__}")
        if x.ndim not in (nd + 1, nd + 2):
            want = {1: "(N, C, L) or (C, L)", 2: "(N, C, H, W) or (C, H, W)",
                    3: "(N, C, D, H, W) or (C, D, H, W)"}[nd]
            raise ShapeError(f"{type(self).__name__}: expected an input of shape {want}, got shape "
                             f"{tuple(x.shape)}")
        c = x.shape[-nd - 1]
        if c != self.in_channels:
            # the message is prefixed with the layer's name/path by Module.__call__
            raise ShapeError(f"expected input with {self.in_channels} channels "
                             f"(in_channels={self.in_channels}), but got {c} channels (input shape "
                             f"{tuple(x.shape)})")


class Conv1d(_ConvNd):
    """1-D convolution over (N, C_in, L) -> (N, C_out, L_out); weight (C_out, C_in/groups, K)."""

    _nd = 1

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device=device, dtype=dtype)

    def forward(self, input):  # noqa: A002
        self._check_input(input)
        return Fc.conv1d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups,
                         padding_mode=self.padding_mode)


class Conv2d(_ConvNd):
    """2-D convolution over (N, C_in, H, W) -> (N, C_out, OH, OW); weight (C_out, C_in/groups, KH, KW).

    OH = floor((H + 2*padding - dilation*(KH - 1) - 1) / stride) + 1. ``padding`` may be 'same' or
    'valid'; ``padding_mode`` 'zeros', 'reflect', 'replicate' or 'circular'.
    """

    _nd = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device=device, dtype=dtype)

    def forward(self, input):  # noqa: A002
        self._check_input(input)
        return Fc.conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups,
                         padding_mode=self.padding_mode)


class Conv3d(_ConvNd):
    """3-D convolution over (N, C_in, D, H, W) -> (N, C_out, OD, OH, OW); weight
    (C_out, C_in/groups, KD, KH, KW). Each O = floor((I + 2*padding - dilation*(K - 1) - 1) / stride) + 1;
    ``padding`` may be 'same' or 'valid'; ``padding_mode`` 'zeros', 'reflect', 'replicate' or 'circular'.
    """

    _nd = 3

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device=device, dtype=dtype)

    def forward(self, input):  # noqa: A002
        self._check_input(input)
        return Fn.conv3d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups,
                         padding_mode=self.padding_mode)


class _ConvTransposeNd(_ConvNd):
    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, output_padding, groups, bias,
                 dilation, padding_mode, device, dtype):
        if padding_mode != "zeros":
            raise ValueError(f"{type(self).__name__}: only padding_mode='zeros' is supported, got "
                             f"{padding_mode!r}")
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, output_padding, device=device, dtype=dtype)

    def _output_padding(self, x, output_size):
        """The output_padding that gives ``output_size`` (PyTorch's forward(input, output_size))."""
        nd = self._nd
        if output_size is None:
            return self.output_padding
        size = list(output_size)[-nd:]
        if len(size) != nd:
            raise ValueError(f"{type(self).__name__}: output_size must have {nd} or {nd + 2} elements, got "
                             f"{output_size!r}")
        out = []
        for d in range(nd):
            n = x.shape[x.ndim - nd + d]
            lo = ((n - 1) * self.stride[d] - 2 * self.padding[d]
                  + self.dilation[d] * (self.kernel_size[d] - 1) + 1)
            hi = lo + self.stride[d] - 1
            if not lo <= size[d] <= hi:
                raise ShapeError(f"{type(self).__name__}: requested an output size of {tuple(size)}, but "
                                 f"valid sizes for dim {d} range from {lo} to {hi} (for an input of "
                                 f"{tuple(x.shape[-nd:])})")
            out.append(size[d] - lo)
        return tuple(out)


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution: (N, C_in, L) -> (N, C_out, L_out); weight (C_in, C_out/groups, K)."""

    _nd = 1

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, output_padding, groups,
                         bias, dilation, padding_mode, device, dtype)

    def forward(self, input, output_size=None):  # noqa: A002
        self._check_input(input)
        op = self._output_padding(input, output_size)
        return Fc.conv_transpose1d(input, self.weight, self.bias, self.stride, self.padding, op, self.groups,
                                   self.dilation)


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution ("deconvolution", the generator's upsampling layer).

    (N, C_in, H, W) -> (N, C_out, HO, WO),
    HO = (H-1)*stride - 2*padding + dilation*(KH-1) + output_padding + 1;
    weight (C_in, C_out/groups, KH, KW). ``forward(x, output_size)`` picks output_padding for you.
    """

    _nd = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, output_padding, groups,
                         bias, dilation, padding_mode, device, dtype)

    def forward(self, input, output_size=None):  # noqa: A002
        self._check_input(input)
        op = self._output_padding(input, output_size)
        return Fc.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding, op, self.groups,
                                   self.dilation)


class ConvTranspose3d(_ConvTransposeNd):
    """3-D transposed convolution: (N, C_in, D, H, W) -> (N, C_out, OD, OH, OW), each
    O = (I-1)*stride - 2*padding + dilation*(K-1) + output_padding + 1; weight
    (C_in, C_out/groups, KD, KH, KW). ``forward(x, output_size)`` picks output_padding for you.
    """

    _nd = 3

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, output_padding, groups,
                         bias, dilation, padding_mode, device, dtype)

    def forward(self, input, output_size=None):  # noqa: A002
        self._check_input(input)
        op = self._output_padding(input, output_size)
        return Fn.conv_transpose3d(input, self.weight, self.bias, self.stride, self.padding, op, self.groups,
                                   self.dilation)


class Unfold(Module):
    """im2col: (N, C, H, W) -> (N, C*KH*KW, L) (see ``gradus.functional.unfold``)."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input):  # noqa: A002
        return Fu.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")


class Fold(Module):
    """col2im: (N, C*KH*KW, L) -> (N, C, H, W), overlapping values summed (``gradus.functional.fold``)."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):  # noqa: A002
        return Fu.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")
