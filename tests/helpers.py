"""Helpers shared by the tests above the op level (models, nn, functional, optim).

- :class:`SeededInputs`: seeded random inputs (tensors or arrays) from one NumPy stream.
- :func:`overfit_one_batch`: train a model on one fixed batch, the standard "can it learn at all"
  smoke test of a model, and report what the tests assert on (:class:`OverfitResult`).

Import them as ``from tests.helpers import SeededInputs, overfit_one_batch`` (``tests`` is a package).
The op-level harness (``tests/ops/harness.py``) and the PyTorch oracle tests keep their own makers.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import gradus
import gradus.functional as F
from gradus import optim

__all__ = ["SeededInputs", "OverfitResult", "overfit_one_batch"]


def _shape(shape: tuple) -> tuple[int, ...]:
    """``(2, 3)`` or ``((2, 3),)`` (as gradus.randn / NumPy take them) -> ``(2, 3)``."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


class SeededInputs:
    """A seeded source of random test inputs.

    Every call draws the next values from ONE ``np.random.default_rng(seed)`` stream, so the inputs
    depend only on the seed and on the order of the calls, never on the global seed or on other
    tests. A maker is therefore interchangeable with the hand-written pattern it replaces::

        rng = np.random.default_rng(2)                      inputs = SeededInputs(2, np.float64)
        x = gradus.tensor(rng.standard_normal((4, 3)))       x = inputs.tensor(4, 3)
        W = gradus.tensor(rng.standard_normal(3))            W = inputs.tensor(3)

    (same values, bit for bit). Shapes are given like ``gradus.randn``: ``tensor(4, 3)`` or
    ``tensor((4, 3))``.

    Args:
        seed: seed of the stream.
        dtype: the default floating dtype of what the maker returns (``np.float32``, the framework
            default; tests that gradcheck use ``np.float64``). Each method can override it.

    Attributes:
        rng: the underlying ``np.random.Generator``, for draws the methods do not cover (they
            advance the same stream).
    """

    def __init__(self, seed: int = 0, dtype=np.float32):
        self.seed = seed
        self.dtype = np.dtype(dtype)
        self.rng = np.random.default_rng(seed)

    def array(self, *shape, scale: float = 1.0, shift: float = 0.0, dtype=None) -> np.ndarray:
        """The next ``standard_normal(shape) * scale + shift`` values as a NumPy array of ``dtype``.

        The draw is float64 and is cast last, so ``array(..., dtype=np.float32)`` equals
        ``rng.standard_normal(shape).astype(np.float32)``.
        """
        a = self.rng.standard_normal(_shape(shape))
        if scale != 1.0:
            a = a * scale
        if shift != 0.0:
            a = a + shift
        return np.asarray(a, dtype=self.dtype if dtype is None else np.dtype(dtype))

    def tensor(self, *shape, scale: float = 1.0, shift: float = 0.0, dtype=None,
               requires_grad: bool = False) -> gradus.Tensor:
        """The next standard-normal values (``* scale + shift``) as a gradus Tensor (see :meth:`array`)."""
        return gradus.tensor(self.array(*shape, scale=scale, shift=shift, dtype=dtype),
                             requires_grad=requires_grad)

    def uniform(self, *shape, low: float = 0.0, high: float = 1.0, dtype=None,
                requires_grad: bool = False) -> gradus.Tensor:
        """The next ``rng.uniform(low, high, shape)`` values as a gradus Tensor."""
        a = self.rng.uniform(low, high, _shape(shape))
        return gradus.tensor(np.asarray(a, dtype=self.dtype if dtype is None else np.dtype(dtype)),
                             requires_grad=requires_grad)

    def labels(self, *shape, num_classes: int) -> gradus.Tensor:
        """The next ``rng.integers(0, num_classes, shape)`` class indices as an int64 Tensor."""
        return gradus.tensor(self.rng.integers(0, num_classes, _shape(shape)))


@dataclass
class OverfitResult:
    """What :func:`overfit_one_batch` measured.

    Attributes:
        losses: the training loss of every step, as floats, each measured on the forward pass of that
            step (i.e. before that step's parameter update). ``losses[0]`` is the loss at
            initialisation; ``losses[-1]`` the loss of the last step's forward pass.
        output: the model's output of the last training step (training mode, before the last update),
            whatever the model returns (a Tensor, or e.g. GoogLeNet's ``(logits, aux2, aux1)``).
        train_accuracy: the fraction of ``y`` that ``logits(output).argmax(1)`` gets right.
        eval_loss: after training, ``float(loss_fn(model(X), y))`` with the model in eval mode and no
            gradient; ``None`` with ``evaluate=False``.
        eval_accuracy: the same eval-mode forward pass's argmax accuracy; ``None`` with
            ``evaluate=False``.
    """

    losses: list[float]
    output: Any
    train_accuracy: float
    eval_loss: float | None = None
    eval_accuracy: float | None = None

    @property
    def first_loss(self) -> float:
        """The training loss of the first step (at initialisation)."""
        return self.losses[0]

    @property
    def last_loss(self) -> float:
        """The training loss of the last step (its forward pass, before its update)."""
        return self.losses[-1]


def _accuracy(logits: gradus.Tensor, y: gradus.Tensor) -> float:
    return float((logits.numpy().argmax(1) == y.numpy()).mean())


def overfit_one_batch(model, X: gradus.Tensor, y: gradus.Tensor, *, steps: int, lr: float = 3e-3,
                      optimizer: Callable[..., optim.Optimizer] = optim.Adam,
                      loss_fn: Callable[[Any, gradus.Tensor], gradus.Tensor] = F.cross_entropy,
                      logits: Callable[[Any], gradus.Tensor] = lambda out: out,
                      evaluate: bool = True) -> OverfitResult:
    """Train ``model`` for ``steps`` full-batch steps on the one batch ``(X, y)``; report the result.

    A network that cannot drive the loss on a handful of samples to ~0 has a wiring or gradient bug;
    the callers assert on the returned :class:`OverfitResult` (their own thresholds).

    The loop: ``model.train()``, then ``steps`` times ``out = model(X)``, ``loss = loss_fn(out, y)``,
    ``opt.zero_grad()``, ``loss.backward()``, ``opt.step()`` with ``opt = optimizer(model.parameters(),
    lr=lr)``. Then, if ``evaluate``, one more forward pass in eval mode under ``gradus.no_grad()``
    (the model is left in eval mode); otherwise the model is left in training mode and the accuracy
    to judge is ``train_accuracy`` (in training mode, e.g. with BatchNorm's batch statistics).

    Args:
        model: a ``gradus.nn.Module`` (freshly built: the helper does not reseed).
        X, y: the batch and its integer class labels.
        steps: number of optimizer steps.
        lr: learning rate passed to ``optimizer``.
        optimizer: an optimizer class (or any ``f(params, lr=...)``), ``optim.Adam`` by default.
        loss_fn: ``loss_fn(output, y) -> scalar Tensor`` to minimise, ``F.cross_entropy`` by default;
            e.g. GoogLeNet's main + 0.3 * (aux1 + aux2) on its tuple output.
        logits: maps the model's output to the ``(N, classes)`` logits the accuracy is computed from,
            e.g. ``lambda out: out.logits`` for a model that returns a named tuple in training mode.
        evaluate: also measure ``eval_loss`` / ``eval_accuracy`` in eval mode after training.

    Asserts (``AssertionError``, before the callers' own checks):
        - ``steps >= 1``;
        - every training loss is finite (the message names the first step where it was not);
        - after training, every parameter that requires grad has received a gradient (a parameter the
          loss does not depend on is a wiring bug: a layer left out of ``forward``).

    Returns:
        OverfitResult: ``losses`` (per step), ``output`` (of the last step), ``train_accuracy``,
        ``eval_loss`` and ``eval_accuracy`` (``None`` unless ``evaluate``).
    """
    assert steps >= 1, f"steps must be >= 1, got {steps}"
    opt = optimizer(model.parameters(), lr=lr)
    model.train()
    losses: list[float] = []
    out = None
    for step in range(steps):
        out = model(X)
        loss = loss_fn(out, y)
        value = float(loss.item())
        assert math.isfinite(value), f"overfit_one_batch: the loss is {value} at step {step} (of {steps})"
        losses.append(value)
        opt.zero_grad()
        loss.backward()
        opt.step()
    missing = [name for name, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing, f"overfit_one_batch: these parameters never received a gradient: {missing}"
    result = OverfitResult(losses=losses, output=out, train_accuracy=_accuracy(logits(out), y))
    if evaluate:
        model.eval()
        with gradus.no_grad():
            ev = model(X)
            result.eval_loss = float(loss_fn(ev, y).item())
        result.eval_accuracy = _accuracy(logits(ev), y)
    return result
