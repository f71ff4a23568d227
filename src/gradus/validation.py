"""Argument checks shared by the public entry points (creation functions, layers, transforms,
schedulers, ...). Each raises an error naming the function, the argument, what it got and what it
expects. They run once per call on Python scalars / shapes, never per element.

    >>> from gradus.validation import check_int
    >>> check_int("Linear", "in_features", 3)
    3
    >>> check_int("Linear", "in_features", 3.5)
    Traceback (most recent call last):
    ...
    TypeError: Linear: in_features must be an int, got 3.5 (float)
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

__all__ = ["check_int", "check_number", "check_size", "check_callable", "check_param_dtype", "check_alloc",
           "available_memory", "describe"]


def describe(value: Any) -> str:
    """``3.5 (float)``: the value and its type, for messages."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def _is_int(value: Any) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (numbers.Integral, np.integer)):
        return True
    # 0-d integer tensors / arrays (x.shape[0] of a Tensor is an int already; this is for x.sum())
    data = getattr(value, "data", value)
    return isinstance(data, np.ndarray) and data.ndim == 0 and data.dtype.kind in "iu"


def check_int(fn: str, name: str, value: Any, *, min: int | None = None) -> int:  # noqa: A002
    """``value`` as an int; refuses floats, bools, strings (TypeError) and values below ``min``
    (ValueError)."""
    if not _is_int(value):
        raise TypeError(f"{fn}: {name} must be an int, got {describe(value)}")
    plain = isinstance(value, (numbers.Integral, np.integer))
    v = int(value) if plain else int(getattr(value, "data", value))
    if min is not None and v < min:
        want = ("positive (an int >= 1)" if min == 1 else "non-negative (an int >= 0)" if min == 0
                else f"an int >= {min}")
        raise ValueError(f"{fn}: {name} must be {want}, got {v}")
    return v


def check_number(fn: str, name: str, value: Any, *, min: float | None = None, strict: bool = False,
                 max: float | None = None) -> float:  # noqa: A002
    """``value`` as a float; refuses non-numbers (TypeError), NaN and values outside
    [min, max] (``strict``: min excluded) (ValueError)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.integer, np.floating)):
        raise TypeError(f"{fn}: {name} must be a number, got {describe(value)}")
    v = float(value)
    if v != v:
        raise ValueError(f"{fn}: {name} must be a number, got nan")
    if min is not None and (v <= min if strict else v < min):
        want = f"> {min}" if strict else f">= {min}"
        raise ValueError(f"{fn}: {name} must be {want}, got {value!r}")
    if max is not None and v > max:
        raise ValueError(f"{fn}: {name} must be <= {max}, got {value!r}")
    return v


def check_size(fn: str, size: Any, name: str = "size") -> tuple[int, ...]:
    """A shape from ``f(2, 3)``, ``f((2, 3))`` or ``f([2, 3])``: non-negative ints, no truncation of
    floats."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    elif len(size) == 1 and hasattr(size[0], "shape") and not _is_int(size[0]):
        # a torch.Size-like object (gradus shapes are tuples)
        size = tuple(size[0])
    out = []
    for i, s in enumerate(size):
        if not _is_int(s):
            raise TypeError(f"{fn}: {name} must be a sequence of ints, got {describe(s)} at position {i} "
                            f"of {tuple(size)!r}")
        s = int(s)
        if s < 0:
            raise ValueError(f"{fn}: {name} must have non-negative dimensions, got {s} at position {i} "
                             f"of {tuple(int(v) if _is_int(v) else v for v in size)!r}")
        out.append(s)
    return tuple(out)


def check_callable(fn: str, name: str, value: Any) -> Any:
    if not callable(value):
        raise TypeError(f"{fn}: {name} must be callable, got {describe(value)}")
    return value


def check_param_dtype(fn: str, input: Any, **params: Any) -> None:  # noqa: A002
    """The floating point ``input`` has the dtype of every given (non-None) parameter.

    The rule, as PyTorch's: a float64 input into a float32 layer is an error, not a silent run of
    the whole layer in float64 (twice the time and memory, and float64 gradients reaching the
    float32 parameters).  The message names both dtypes and both fixes.
    """
    from .errors import DTypeError

    dt = getattr(input, "dtype", None)
    if dt is None or getattr(dt, "kind", "f") != "f":
        return
    for name, p in params.items():
        pdt = getattr(p, "dtype", None)
        if pdt is not None and pdt != dt:
            raise DTypeError(
                f"{fn}: input dtype {dt} does not match the {name} dtype {pdt}; convert the input "
                f"(x.to({pdt})) or the layer's parameters (module.to({dt}))")


# A request below this many bytes is never checked: reading the free memory costs ~20 us, and a
# small tensor cannot be what gets a process killed.
_ALLOC_CHECK_BYTES = 256 * 2**20


def available_memory() -> int | None:
    """Bytes of memory the system can still give (Linux ``MemAvailable``; else free physical pages),
    or None where neither is known."""
    try:
        with open("/proc/meminfo", "rb") as f:
            for line in f:
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        import os

        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _gib(n: int) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


def check_alloc(fn: str, shape: tuple[int, ...], dtype: Any) -> None:
    """Refuse (with :class:`~gradus.errors.OutOfMemoryError`) a host tensor larger than the memory
    available.  NumPy itself only fails for requests beyond the address space; anything between the
    free memory and that is granted lazily by the OS and ends in an OOM kill once it is touched."""
    itemsize = np.dtype(dtype).itemsize
    n = 1
    for s in shape:
        n *= int(s)
    nbytes = n * itemsize
    if nbytes < _ALLOC_CHECK_BYTES:
        return
    free = available_memory()
    if free is not None and nbytes > free:
        from .errors import OutOfMemoryError

        raise OutOfMemoryError(
            f"{fn}: a tensor of shape {tuple(shape)} and dtype {np.dtype(dtype).name} needs "
            f"{_gib(nbytes)}, but only {_gib(free)} of memory is available; use a smaller size"
            + (", float32 instead of float64" if np.dtype(dtype) == np.float64 else "")
            + " or process the data in batches")
