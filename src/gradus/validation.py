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

__all__ = ["check_int", "check_number", "check_size", "check_callable", "describe"]


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
