"""Error types. Each names what went wrong, the shapes/dtypes/devices involved and the fix.

They subclass the built-in exception a NumPy/PyTorch user would catch (``ValueError`` for shapes,
``TypeError`` for dtypes, ``IndexError`` for indices), so ``except ValueError`` keeps working.
"""


class GradusError(Exception):
    """Base class of every gradus-specific error."""


class ShapeError(GradusError, ValueError):
    """Operands have incompatible shapes (broadcasting, matmul, reshape, cat, layers)."""


class DTypeError(GradusError, TypeError):
    """An operand has a dtype the op cannot take (e.g. gradients of integer tensors)."""


class DeviceError(GradusError, RuntimeError):
    """Operands live on different devices, or the requested device is unavailable."""


class GradIndexError(GradusError, IndexError):
    """An index is out of range for the dimension it indexes."""


class AutogradError(GradusError, RuntimeError):
    """Misuse of the autograd engine (freed graph, non-scalar backward, double-backward of a
    once-differentiable op, ...)."""


class AnomalyError(AutogradError):
    """A NaN or Inf appeared while anomaly detection was on."""


class OutOfMemoryError(GradusError, MemoryError):
    """A requested tensor is larger than the memory available (refused before allocating, so the
    process gets a clear error instead of being killed by the operating system)."""
