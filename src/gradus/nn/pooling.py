"""Pooling layers: ``MaxPool1d/2d/3d``, ``AvgPool1d/2d/3d``, ``AdaptiveAvgPool1d/2d/3d``,
``AdaptiveMaxPool1d/2d``, ``MaxUnpool1d/2d/3d``.

Arguments, defaults (``stride=None`` means ``stride=kernel_size``) and reprs are PyTorch's.

    >>> import gradus
    >>> from gradus import nn
    >>> pool = nn.MaxPool2d(2)
    >>> pool
    MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    >>> pool(gradus.zeros(8, 6, 28, 28)).shape
    (8, 6, 14, 14)
"""
from __future__ import annotations

from ..functional import pooling as Fp
from ..functional import poolnd as Fn
from ..functional import unpool as Fu
from ..validation import check_int
from .module import Module


def _check_window(layer: str, kernel_size, stride, padding, dilation=1) -> None:
    """Each of kernel_size / stride / dilation an int >= 1 (or a sequence of them), padding >= 0."""
    for arg, v, lo in (("kernel_size", kernel_size, 1), ("stride", stride, 1), ("padding", padding, 0),
                       ("dilation", dilation, 1)):
        if v is None and arg == "stride":
            continue
        for e in (v if isinstance(v, (tuple, list)) else (v,)):
            check_int(layer, arg, e, min=lo)


def _check_output_size(layer: str, output_size) -> None:
    for e in (output_size if isinstance(output_size, (tuple, list)) else (output_size,)):
        if e is not None:  # None keeps the input size (PyTorch)
            check_int(layer, "output_size", e, min=1)

__all__ = ["MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "AdaptiveAvgPool1d",
           "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "MaxUnpool1d",
           "MaxUnpool2d", "MaxUnpool3d"]


class _MaxPoolNd(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices: bool = False,
                 ceil_mode: bool = False):
        super().__init__()
        _check_window(type(self).__name__, kernel_size, stride, padding, dilation)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """Max over sliding windows of (N, C, L) -> (N, C, L_out) (+ indices along L with return_indices)."""

    def forward(self, input):  # noqa: A002
        return Fp.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                             self.ceil_mode, self.return_indices)


class MaxPool2d(_MaxPoolNd):
    """Max over sliding windows of (N, C, H, W) -> (N, C, OH, OW) (+ plane indices with return_indices).

    OH = floor((H + 2*padding - dilation*(KH - 1) - 1) / stride) + 1 (ceil with ``ceil_mode``).
    """

    def forward(self, input):  # noqa: A002
        return Fp.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                             self.ceil_mode, self.return_indices)


class MaxPool3d(_MaxPoolNd):
    """Max over sliding windows of (N, C, D, H, W) -> (N, C, OD, OH, OW) (+ volume indices with
    return_indices, for ``MaxUnpool3d``)."""

    def forward(self, input):  # noqa: A002
        return Fn.max_pool3d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                             self.ceil_mode, self.return_indices)


class AvgPool1d(Module):
    """Mean over sliding windows of (N, C, L) -> (N, C, L_out)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True):
        super().__init__()
        _check_window(type(self).__name__, kernel_size, stride, padding)

        def one(v):  # PyTorch's AvgPool1d stores 1-tuples
            return tuple(v) if isinstance(v, (tuple, list)) else (v,)

        self.kernel_size = one(kernel_size)
        self.stride = one(stride if stride is not None else kernel_size)
        self.padding = one(padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input):  # noqa: A002
        return Fp.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                             self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    """Mean over sliding windows of (N, C, H, W) -> (N, C, OH, OW).

    ``count_include_pad`` counts zero padding in the divisor; ``divisor_override`` replaces it.
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override=None):
        super().__init__()
        _check_window(type(self).__name__, kernel_size, stride, padding)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):  # noqa: A002
        return Fp.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                             self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool3d(AvgPool2d):
    """Mean over sliding windows of (N, C, D, H, W) -> (N, C, OD, OH, OW) (same arguments as AvgPool2d)."""

    def forward(self, input):  # noqa: A002
        return Fn.avg_pool3d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                             self.count_include_pad, self.divisor_override)


class _AdaptivePool(Module):
    def __init__(self, output_size, return_indices: bool = False):
        super().__init__()
        _check_output_size(type(self).__name__, output_size)
        self.output_size = output_size
        self.return_indices = return_indices

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptivePool):
    """(N, C, L) -> (N, C, output_size): mean over bins [floor(i*L/O), ceil((i+1)*L/O))."""

    def __init__(self, output_size):
        super().__init__(output_size)

    def forward(self, input):  # noqa: A002
        return Fp.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveAvgPool2d(_AdaptivePool):
    """(N, C, H, W) -> ``(N, C, *output_size)`` (None keeps that input size); ``AdaptiveAvgPool2d(1)`` is
    global average pooling."""

    def __init__(self, output_size):
        super().__init__(output_size)

    def forward(self, input):  # noqa: A002
        return Fp.adaptive_avg_pool2d(input, self.output_size)


class AdaptiveAvgPool3d(_AdaptivePool):
    """(N, C, D, H, W) -> ``(N, C, *output_size)``: mean over adaptive bins on each axis."""

    def __init__(self, output_size):
        super().__init__(output_size)

    def forward(self, input):  # noqa: A002
        return Fn.adaptive_avg_pool3d(input, self.output_size)


class AdaptiveMaxPool1d(_AdaptivePool):
    """(N, C, L) -> (N, C, output_size): max over adaptive bins (+ indices)."""

    def forward(self, input):  # noqa: A002
        return Fp.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool2d(_AdaptivePool):
    """(N, C, H, W) -> ``(N, C, *output_size)``: max over adaptive bins (+ plane indices)."""

    def forward(self, input):  # noqa: A002
        return Fp.adaptive_max_pool2d(input, self.output_size, self.return_indices)


class _MaxUnpoolNd(Module):
    """Shared parts of the unpooling layers: PyTorch stores kernel_size, stride and padding as tuples."""

    _nd = 2

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()

        def tup(v):
            return tuple(v) if isinstance(v, (tuple, list)) else (v,) * self._nd

        self.kernel_size = tup(kernel_size)
        self.stride = tup(stride if stride is not None else kernel_size)
        self.padding = tup(padding)

    def forward(self, input, indices, output_size=None):  # noqa: A002
        fn = (Fu.max_unpool1d, Fu.max_unpool2d, Fu.max_unpool3d)[self._nd - 1]
        return fn(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """Partial inverse of ``MaxPool1d``: ``forward(x, indices, output_size=None)``,
    (N, C, L) -> (N, C, LO)."""

    _nd = 1


class MaxUnpool2d(_MaxUnpoolNd):
    """Partial inverse of ``MaxPool2d(return_indices=True)``: ``forward(x, indices, output_size=None)``
    puts each value back at its max position, zeros elsewhere; (N, C, H, W) -> (N, C, HO, WO),
    HO = (H-1)*stride - 2*padding + KH (``output_size`` resolves what pooling floored away)."""

    _nd = 2


class MaxUnpool3d(_MaxUnpoolNd):
    """Partial inverse of ``MaxPool3d``: (N, C, D, H, W) -> (N, C, DO, HO, WO)."""

    _nd = 3
