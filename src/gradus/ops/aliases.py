"""PyTorch's alternative names and small conveniences, each defined by one line in terms of an op
that already exists (so they need no backward of their own): ``greater`` = ``gt``, ``absolute`` =
``abs``, ``swapdims`` = ``transpose``, ``clamp_min(x, v)`` = ``clamp(x, min=v)``, ``ravel`` =
``reshape(-1)``, ``trace`` = the sum of the diagonal, ``new_zeros`` and friends (same dtype and
device as ``self``), ``rad2deg`` / ``deg2rad``, ``fix`` = ``trunc``, ``rsub(a, b)`` = ``b - a``."""
from __future__ import annotations

import math

from ..backend import get_array_module
from ..tensor import Tensor
from . import elementwise as ew
from . import movement as mv
from . import reduce as rd
from .diagonal import diagonal

__all__ = ["greater", "greater_equal", "less", "less_equal", "not_equal", "absolute", "positive", "fix",
           "clamp_min", "clamp_max", "swapdims", "ravel", "trace", "rad2deg", "deg2rad", "rsub", "signbit"]

greater, greater_equal, less, less_equal, not_equal = ew.gt, ew.ge, ew.lt, ew.le, ew.ne
absolute, fix, swapdims = ew.abs, ew.trunc, mv.transpose


def positive(x: Tensor) -> Tensor:
    """``x`` itself (unary +)."""
    return x


def clamp_min(x: Tensor, min) -> Tensor:  # noqa: A002
    return ew.clamp(x, min=min)


def clamp_max(x: Tensor, max) -> Tensor:  # noqa: A002
    return ew.clamp(x, max=max)


def ravel(x: Tensor) -> Tensor:
    """The elements as a 1-D tensor (row-major)."""
    return mv.reshape(x, (-1,))


def trace(x: Tensor) -> Tensor:
    """Sum of the main diagonal of a 2-D tensor."""
    if x.ndim != 2:
        from ..errors import ShapeError

        raise ShapeError(f"trace: expected a matrix (2-D tensor), got shape {tuple(x.shape)}")
    return rd.sum(diagonal(x))


def rad2deg(x: Tensor) -> Tensor:
    return ew.mul(x, 180.0 / math.pi)


def deg2rad(x: Tensor) -> Tensor:
    return ew.mul(x, math.pi / 180.0)


def rsub(a, b, alpha=1) -> Tensor:
    """``b - alpha * a`` (PyTorch's reversed subtraction)."""
    return ew.sub(b, a, alpha=alpha)


def signbit(x: Tensor) -> Tensor:
    """True where the sign bit is set (negative numbers and -0.0); a bool tensor."""
    return Tensor._make(get_array_module(x.data).signbit(x.data))


def _reshape_as(self, other):
    return mv.reshape(self, tuple(other.shape))


def _new(fill):
    def new(self, *size, dtype=None, device=None, requires_grad=False):
        from .. import creation

        size = size[0] if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
        t = getattr(creation, fill)(*size, dtype=dtype or self.dtype, device=device or self.device)
        t.requires_grad = requires_grad
        return t
    return new


def _new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
    from .. import creation

    t = creation.full(tuple(size), fill_value, dtype=dtype or self.dtype, device=device or self.device)
    t.requires_grad = requires_grad
    return t


def _new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
    from .. import creation

    return creation.tensor(data, dtype=dtype or self.dtype, device=device or self.device,
                           requires_grad=requires_grad)


METHODS = {
    "greater": greater, "greater_equal": greater_equal, "less": less, "less_equal": less_equal,
    "not_equal": not_equal, "absolute": absolute, "positive": positive, "fix": fix,
    "clamp_min": clamp_min, "clamp_max": clamp_max, "swapdims": swapdims, "ravel": ravel, "trace": trace,
    "rad2deg": rad2deg, "deg2rad": deg2rad, "signbit": signbit, "reshape_as": _reshape_as,
    "nelement": lambda self: self.numel(), "ndimension": lambda self: self.dim(),
    "new_zeros": _new("zeros"), "new_ones": _new("ones"), "new_empty": _new("empty"),
    "new_full": _new_full, "new_tensor": _new_tensor,
    "type_as": lambda self, other: self.to(other.dtype),
    "is_same_size": lambda self, other: tuple(self.shape) == tuple(other.shape),
    "is_signed": lambda self: self.data.dtype.kind in "ifc",
}
