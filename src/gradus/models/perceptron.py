"""The first two neurons of the course: Rosenblatt's perceptron and Widrow & Hoff's Adaline.

Both are linear threshold units ``y_hat = +1 if w . x > 0 else -1`` on inputs augmented with a
constant bias input ``x0 = 1`` (so ``w[0]`` is the bias weight and the threshold is always 0).
They differ only in how ``w`` is learned:

* the **perceptron rule** (Rosenblatt 1958, as in the lecture): pick ``x`` from ``P u N``;
  if ``x in P`` and ``w . x <= 0`` then ``w <- w + x``; if ``x in N`` and ``w . x >= 0`` then
  ``w <- w - x``.  It only reacts to mistakes, stops when an epoch makes no update, and is
  guaranteed to stop on every linearly separable set (Novikoff 1962).  On XOR it never stops:
  no line separates ``{(0,1), (1,0)}`` from ``{(0,0), (1,1)}``.
* the **delta rule** (Widrow & Hoff 1960, "LMS"): ``w <- w + eta (y - f) x`` with the *linear*
  output ``f = w . x``, i.e. gradient descent on ``E = 1/2 (y - f)^2``; the threshold is only
  applied at prediction time.  It converges to the least-squares solution, separable or not.

Neither needs autograd (the perceptron rule is not gradient descent; the delta rule's gradient
is one line), so they are written directly with gradus tensors, one readable update per line.
The recipes ``perceptron-logic`` and ``adaline`` that run them live in
:mod:`gradus.recipes.runners.perceptron`.

    >>> from gradus.data.datasets import logic_gate
    >>> X, y = logic_gate("and")
    >>> train_perceptron(X, y, max_epochs=100, generator=0).converged
    True
    >>> r = train_perceptron(*logic_gate("xor"), max_epochs=100, generator=0, name="XOR")
    >>> r.message
    'did not converge in 100 epochs: the data is not linearly separable (XOR)'
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

import gradus

from ..random import default_generator
from ..tensor import Tensor

__all__ = [
    "PerceptronConfig",
    "Perceptron",
    "PerceptronResult",
    "train_perceptron",
    "Adaline",
    "AdalineResult",
    "train_adaline",
]


# ------------------------------------------------------------------------------------ helpers

def _generator(generator) -> np.random.Generator:
    """``None`` -> the global gradus generator (``gradus.manual_seed``), int -> a fresh seeded one."""
    if generator is None:
        return default_generator()
    if isinstance(generator, np.random.Generator):
        return generator
    return np.random.default_rng(int(generator))


def _as_tensor(X) -> Tensor:
    return X if isinstance(X, Tensor) else gradus.tensor(np.asarray(X, dtype=np.float32))


def augment(X) -> Tensor:
    """Prepend the constant bias input ``x0 = 1``: ``(N, n) -> (N, n + 1)``."""
    X = _as_tensor(X)
    if X.ndim != 2:
        raise gradus.errors.ShapeError(f"augment: expected inputs of shape (N, n_features), "
                                       f"got {tuple(X.shape)}")
    ones = gradus.ones(X.shape[0], 1, dtype=X.dtype)
    return gradus.cat([ones, X], dim=1)  # (N, n+1), column 0 is x0 = 1


def bipolar(y) -> Tensor:
    """Labels -> targets in {-1, +1}: ``y > 0`` is the positive set P, everything else N.

    Accepts {0, 1} or {-1, +1} labels (``logic_gate``'s two encodings)."""
    y = np.asarray(y.numpy() if isinstance(y, Tensor) else y).reshape(-1)
    return gradus.tensor(np.where(y > 0, 1, -1).astype(np.int64))


# ------------------------------------------------------------------------------------ perceptron

@dataclass
class PerceptronConfig:
    in_features: int = 2    # n: inputs per sample; the model adds the bias input x0 = 1 itself
    init: str = "random"    # "random": w ~ N(0, 1) (the lecture: "w0 is generated randomly"), or "zeros"


class Perceptron:
    """Rosenblatt's perceptron: ``y_hat = +1 if w . [1, x] > 0 else -1``.

    Attributes:
        weight: ``(in_features + 1,)`` float32; ``weight[0]`` multiplies the bias input ``x0 = 1``.

    It is not an ``nn.Module``: nothing here is trained by gradients.
    """

    def __init__(self, in_features: int = 2, init: str = "random", generator=None):
        self.config = PerceptronConfig(in_features, init)
        if init == "random":
            self.weight = gradus.randn(in_features + 1, generator=_generator(generator))  # (n+1,)
        elif init == "zeros":
            self.weight = gradus.zeros(in_features + 1)
        else:
            raise ValueError(f"Perceptron: init must be 'random' or 'zeros', got {init!r}")

    def forward(self, X) -> Tensor:
        """Scores ``w . [1, x]``: ``(N, n) -> (N,)``."""
        return augment(X) @ self.weight  # (N, n+1) @ (n+1,) -> (N,)

    __call__ = forward

    def predict(self, X) -> Tensor:
        """Threshold at 0: ``(N, n) -> (N,)`` int64 in {-1, +1}."""
        return gradus.where(self.forward(X) > 0, 1, -1).long()

    def update(self, x: Tensor, in_P: bool) -> bool:  # noqa: N803 (the lecture's P)
        """One step of the lecture's rule on an augmented sample ``x`` ``(n+1,)``; True if w changed."""
        s = self.weight.dot(x).item()          # w . x
        if in_P and s <= 0:                    # x in P classified as N (or on the line)
            self.weight.add_(x)                # w <- w + x
            return True
        if not in_P and s >= 0:                # x in N classified as P (or on the line)
            self.weight.sub_(x)                # w <- w - x
            return True
        return False

    def __repr__(self) -> str:
        return f"Perceptron(in_features={self.config.in_features}, weight={self.weight.tolist()})"


@dataclass
class PerceptronResult:
    converged: bool               # an epoch made no update: every sample is on its side of the line
    epochs: int                   # epochs run (including the final update-free one when converged)
    weights: Tensor               # (n+1,) the final w; weights[0] is the bias weight
    updates: int                  # total number of corrections w <- w +- x
    message: str                  # human-readable verdict
    updates_per_epoch: list = field(default_factory=list)  # mistakes met in each epoch
    model: Perceptron | None = None


def train_perceptron(X, y, max_epochs: int = 100, generator=None, *, init: str = "random",
                     shuffle: bool = True, name: str | None = None) -> PerceptronResult:
    """Rosenblatt's learning rule until an epoch makes no update, or ``max_epochs``.

    Args:
        X: ``(N, n)`` inputs (array or Tensor).
        y: ``(N,)`` labels; ``y > 0`` is the positive set P, the rest is N ({0,1} or {-1,+1}).
        max_epochs: epoch limit.  An epoch visits every sample once (in a random order when
            ``shuffle``: the lecture's "pick x from P u N at random", without repeats).
        generator: ``numpy.random.Generator``, int seed, or None for the global gradus generator;
            draws the initial weights and the visiting order.
        name: the data's name for the message (e.g. ``"XOR"``).

    Returns:
        A :class:`PerceptronResult`.  Without convergence the message says that the data is not
        linearly separable: by the perceptron convergence theorem a separable set with margin
        ``gamma`` and radius ``R`` is learned after at most ``(R / gamma)^2`` updates, so an epoch
        limit well beyond that bound is the perceptron's evidence (for XOR it is a fact).
    """
    g = _generator(generator)
    Xa = augment(X)                                     # (N, n+1)
    in_P = bipolar(y).numpy() > 0                       # (N,) bool: x in P?
    if len(in_P) != Xa.shape[0]:
        raise gradus.errors.ShapeError(f"train_perceptron: X has {Xa.shape[0]} samples but y has {len(in_P)}")
    model = Perceptron(Xa.shape[1] - 1, init=init, generator=g)
    history: list[int] = []
    for epoch in range(1, max_epochs + 1):
        order = g.permutation(len(in_P)) if shuffle else range(len(in_P))
        n_updates = sum(model.update(Xa[int(i)], bool(in_P[i])) for i in order)
        history.append(n_updates)
        if n_updates == 0:
            msg = (f"converged after {epoch} epochs ({sum(history)} updates): "
                   f"w = {[round(float(v), 4) for v in model.weight.numpy()]} separates the data")
            return PerceptronResult(True, epoch, model.weight, sum(history), msg, history, model)
    what = f" ({name})" if name else ""
    msg = f"did not converge in {max_epochs} epochs: the data is not linearly separable{what}"
    return PerceptronResult(False, max_epochs, model.weight, sum(history), msg, history, model)


# ------------------------------------------------------------------------------------ adaline

class Adaline:
    """ADAptive LINear Element: linear output ``f = w . [1, x]`` while learning, threshold at predict.

    Attributes:
        weight: ``(in_features + 1,)`` float32; ``weight[0]`` is the bias weight.
    """

    def __init__(self, in_features: int = 2, generator=None, init_std: float = 0.01):
        g = _generator(generator)
        self.weight = gradus.randn(in_features + 1, generator=g) * init_std  # (n+1,) small: start near 0

    def forward(self, X) -> Tensor:
        """Linear output ``f = w . [1, x]``: ``(N, n) -> (N,)``."""
        return augment(X) @ self.weight

    __call__ = forward

    def predict(self, X) -> Tensor:
        """``(N, n) -> (N,)`` int64 in {-1, +1}."""
        return gradus.where(self.forward(X) > 0, 1, -1).long()

    def mse(self, X, y) -> float:
        """``E = 1/2 mean (t - f)^2`` with bipolar targets ``t``."""
        t = bipolar(y).float()
        return float((0.5 * (t - self.forward(X)) ** 2).mean().item())


@dataclass
class AdalineResult:
    weights: Tensor                 # (n+1,) final w
    losses: list                    # E = 1/2 mean (t - f)^2 after each epoch
    epochs: int                     # epochs run
    converged: bool                 # the loss changed by less than tol (relative) in the last epoch
    model: Adaline | None = None


def train_adaline(X, y, lr: float = 0.01, epochs: int = 50, mode: str = "online", generator=None,
                  tol: float = 0.0) -> AdalineResult:
    """The delta rule ``w <- w + eta (t - f) x`` with ``f = w . x`` linear and ``t`` in {-1, +1}.

    Args:
        mode: ``"online"`` (Widrow-Hoff LMS: one update per sample, random order) or ``"batch"``
            (the average of the per-sample steps: gradient descent on ``E``).
        tol: stop early once the epoch's relative loss change is below ``tol`` (0 = run all epochs).

    Raises:
        FloatingPointError: the updates diverged (``lr`` too large: batch mode is stable only for
            ``lr < 2 / lambda_max(X^T X / N)`` with X augmented; the message gives the bound).
    """
    if mode not in ("online", "batch"):
        raise ValueError(f"train_adaline: mode must be 'online' or 'batch', got {mode!r}")
    g = _generator(generator)
    Xa = augment(X)                                      # (N, n+1)
    t = bipolar(y).float()                               # (N,) targets in {-1, +1}
    N = Xa.shape[0]
    model = Adaline(Xa.shape[1] - 1, generator=g)
    w = model.weight
    losses: list[float] = []
    converged = False
    for epoch in range(1, epochs + 1):
        if mode == "online":
            for i in g.permutation(N):
                x = Xa[int(i)]                           # (n+1,)
                f = w.dot(x)                             # linear output, no threshold
                w.add_(x * (lr * (t[int(i)] - f)))       # w <- w + eta (t - f) x
        else:
            f = Xa @ w                                   # (N,)
            w.add_((Xa.T @ (t - f)) * (lr / N))          # w <- w + eta mean_i (t_i - f_i) x_i
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported just below
            losses.append(model.mse(X, y))
        if not math.isfinite(losses[-1]):
            lam = float(np.linalg.eigvalsh(Xa.numpy().astype(np.float64).T @ Xa.numpy() / N).max())
            raise FloatingPointError(
                f"train_adaline: the delta rule diverged at epoch {epoch} with lr={lr}; "
                f"use lr < 2 / lambda_max(X^T X / N) = {2 / lam:.4g} (smaller still for mode='online')")
        if tol and epoch > 1 and abs(losses[-2] - losses[-1]) <= tol * max(losses[-2], 1e-12):
            converged = True
            break
    return AdalineResult(w, losses, len(losses), converged, model)
