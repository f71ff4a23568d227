"""The Tensor methods that are functional ops: ``x.softmax(dim)``, ``x.log_softmax(dim)``,
``x.hardshrink(lambd)``, ``x.prelu(weight)`` (PyTorch's ``torch.Tensor`` methods of the same names).

``ops/methods.py`` attaches the primitives' methods, but ``ops`` sits below ``functional`` and may not
import it, so the methods of functional ops are attached here, from the layer that defines them.
``functional/__init__.py`` imports this module and the package root imports ``functional``, so
``import gradus; gradus.randn(2, 3).softmax(1)`` works without importing ``gradus.functional``.

Only ops that are real ``torch.Tensor`` methods get one (``relu``, ``sigmoid``, ``tanh`` already come
from ``ops``; ``erf`` is an ``ops`` primitive). Not methods, as in PyTorch: ``dropout``, ``gelu``,
``logsigmoid``, ``softmin``, ``normalize``, ... ``Tensor.unfold(dimension, size, step)`` exists in
PyTorch but is a different op from ``F.unfold`` (im2col), so ``F.unfold`` is not attached.
"""
from __future__ import annotations

from ..tensor import Tensor
from . import activation as A


def softmax(self, dim, dtype=None) -> Tensor:
    """``Tensor.softmax(dim, dtype=None)``: ``F.softmax(self, dim, dtype)`` (``dim`` is required)."""
    return A.softmax(self, dim, dtype)


def log_softmax(self, dim, dtype=None) -> Tensor:
    """``Tensor.log_softmax(dim, dtype=None)``: ``F.log_softmax(self, dim, dtype)``."""
    return A.log_softmax(self, dim, dtype)


def hardshrink(self, lambd: float = 0.5) -> Tensor:
    """``Tensor.hardshrink(lambd=0.5)``: ``F.hardshrink(self, lambd)``."""
    return A.hardshrink(self, lambd)


def prelu(self, weight) -> Tensor:
    """``Tensor.prelu(weight)``: ``F.prelu(self, weight)``."""
    return A.prelu(self, weight)


METHODS = {"softmax": softmax, "log_softmax": log_softmax, "hardshrink": hardshrink, "prelu": prelu}


def install() -> None:
    for name, fn in METHODS.items():
        setattr(Tensor, name, fn)


install()
