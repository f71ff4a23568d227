"""Anomaly mode: stop at the first NaN/Inf, naming the op (forward) or its backward, with the
traceback of the forward call that created the node."""
from __future__ import annotations

from .grad_mode import state


class detect_anomaly:  # noqa: N801 (PyTorch name)
    """Context manager / decorator turning on NaN/Inf checks for every op's forward and backward."""

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan

    def __enter__(self):
        self._prev = state.anomaly
        state.anomaly = self.check_nan

    def __exit__(self, *exc):
        state.anomaly = self._prev
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)

        return wrapper


def set_detect_anomaly(mode: bool) -> None:
    state.anomaly = bool(mode)


def is_anomaly_enabled() -> bool:
    return state.anomaly


def has_nonfinite(xp, a) -> bool:
    """True if a floating array holds NaN or Inf."""
    return a.dtype.kind in "fc" and not bool(xp.isfinite(a).all())
