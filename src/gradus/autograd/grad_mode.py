"""Grad modes: ``no_grad`` / ``enable_grad`` / ``set_grad_enabled``, usable as context managers
and as decorators, exactly like PyTorch's."""
from __future__ import annotations

import functools


class _State:
    __slots__ = ("enabled", "anomaly")

    def __init__(self):
        self.enabled = True   # record the graph?
        self.anomaly = False  # check every forward output and gradient for NaN/Inf?


state = _State()


def is_grad_enabled() -> bool:
    return state.enabled


class _GradMode:
    """Base: switch grad recording to ``self.mode`` inside the block, restore after."""

    mode = True

    def __enter__(self):
        self._prev = state.enabled
        state.enabled = self.mode

    def __exit__(self, *exc):
        state.enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):  # noqa: N801 (PyTorch name)
    """Do not record operations: results have ``requires_grad=False``. Use for evaluation and for
    parameter updates."""

    mode = False


class enable_grad(_GradMode):  # noqa: N801
    """Record operations even inside ``no_grad``."""

    mode = True


class set_grad_enabled(_GradMode):  # noqa: N801
    """``set_grad_enabled(False)`` behaves as ``no_grad``; also callable as a plain function."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self._prev = state.enabled
        state.enabled = self.mode  # takes effect immediately, like torch.set_grad_enabled(False)

    def __enter__(self):
        pass  # already switched in __init__

    def __call__(self, fn):
        state.enabled = self._prev  # used as a decorator: undo the immediate switch
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = state.enabled
            state.enabled = mode
            try:
                return fn(*args, **kwargs)
            finally:
                state.enabled = prev

        return wrapper


inference_mode = no_grad
