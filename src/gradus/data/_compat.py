"""Bridges to the gradus core (Tensor, global RNG), imported lazily.

The data layer works on NumPy; only the final hand-over to the user creates
gradus Tensors.  Importing the core lazily keeps ``gradus.data`` importable on
its own and avoids import cycles with ``gradus/__init__.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_fallback_rng: np.random.Generator | None = None


def default_generator() -> np.random.Generator:
    """The global ``numpy.random.Generator`` that ``gradus.manual_seed(s)`` reseeds."""
    try:
        from gradus import random as grandom

        return grandom.default_generator()
    except (ImportError, AttributeError):
        # The core RNG module is not there (partial checkout): use a private generator so that
        # shuffling still works, just not tied to gradus.manual_seed.
        global _fallback_rng
        if _fallback_rng is None:
            _fallback_rng = np.random.default_rng()
        return _fallback_rng


def as_generator(generator: Any = None) -> np.random.Generator:
    """Normalize a ``generator`` argument.

    ``None`` -> the gradus global generator (looked up now, so a later ``manual_seed`` counts);
    an ``int`` -> a fresh ``numpy.random.default_rng(seed)``; a ``numpy.random.Generator`` -> itself;
    an object with a ``numpy_generator`` / ``generator`` attribute holding one -> that one.
    """
    if generator is None:
        return default_generator()
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        return np.random.default_rng(int(generator))
    for attr in ("numpy_generator", "generator", "_generator"):
        inner = getattr(generator, attr, None)
        if isinstance(inner, np.random.Generator):
            return inner
    raise TypeError(
        f"generator must be None, an int seed or a numpy.random.Generator, got {type(generator)!r}"
    )


def tensor_class() -> type | None:
    try:
        import gradus

        return getattr(gradus, "Tensor", None)
    except ImportError:  # pragma: no cover - gradus itself is always importable here
        return None


def is_tensor(x: Any) -> bool:
    """True for a gradus Tensor."""
    cls = tensor_class()
    return cls is not None and isinstance(x, cls)


def to_numpy(x: Any) -> np.ndarray:
    """A gradus Tensor or array-like as an ndarray (no copy when already an ndarray)."""
    if isinstance(x, np.ndarray):
        return x
    if is_tensor(x):
        return x.numpy()
    return np.asarray(x)


def to_tensor(a: np.ndarray, copy: bool = True) -> Any:
    """An ndarray as a gradus Tensor, keeping its dtype.

    ``copy=False`` wraps the array without copying (``gradus.from_numpy``); callers use it only for
    arrays they just created (a stack, a fancy-indexing gather), which nobody else references.
    """
    import gradus

    if not copy and hasattr(gradus, "from_numpy"):
        return gradus.from_numpy(a)
    return gradus.tensor(a)
