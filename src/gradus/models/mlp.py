"""Multilayer perceptrons: the general ``MLP`` module, the course's presets, and the TEXTBOOK
back-propagation of the lecture's Algorithm 4-1 written out in plain array code.

Two ways to train the same network, side by side on purpose:

* ``MLP`` is an ``nn.Module`` of ``nn.Linear`` layers; autograd computes the gradients and an
  optimizer from ``gradus.optim`` applies them (what every later chapter does).
* ``TextbookMLP`` keeps the lecture's notation: weight matrices ``U^l`` of shape
  ``(n_l, n_{l-1} + 1)`` whose LAST column is the bias (inputs are augmented with a constant 1),
  sigmoid units, squared error, and the delta recursions (4.6)-(4.9) by hand::

      forward     o^0 = x,   z^l = U^l [o^{l-1}; 1],   o^l = f(z^l)
      output      delta^L = (o^L - y) * f'(z^L)                                  (4.6)
      hidden      delta^l = (U^{l+1}_{:, :-1})^T delta^{l+1} * f'(z^l)            (4.7)
      gradient    dE/dU^l = delta^l [o^{l-1}; 1]^T    (averaged over the batch)   (4.8)
      update      U^l <- U^l - eta dE/dU^l                                       (4.9)

  ``tests/models/test_textbook.py`` checks that one such update equals the autograd + SGD update.

The recipes that train these networks (``xor-mlp``, ``spam-mlp``, ``mnist-textbook``,
``mnist-overfit-l2``, ...) live in :mod:`gradus.recipes.runners`.

Presets (parameter counts include biases):

=================  ===============================  ==========  ===========================
preset             sizes                            parameters  source
=================  ===============================  ==========  ===========================
``mnist_mlp``      784-1000-1000-10, ReLU            1,796,010  the lecture's MNIST MLP
``mnist_dmlp``     784-2500-2000-1500-1000-500-10   11,972,510  Ciresan et al. (2010)
``xor_mlp``        2-2-1, sigmoid                            9  the classic XOR network
``spam_mlp``       n-64-2, ReLU, dropout 0.5                    SMS spam (bag of words)
``spiral_mlp``     2-100-100-3, ReLU                    10,703  CS231n's spiral
``digits_mlp``     64-128-10, ReLU                       9,610  8x8 digits (offline)
=================  ===============================  ==========  ===========================
"""
from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

import gradus

from .. import nn
from ..backend import get_array_module
from ..random import default_generator
from ..tensor import Tensor

__all__ = [
    "MLPConfig",
    "MLP",
    "mnist_mlp",
    "mnist_dmlp",
    "xor_mlp",
    "spam_mlp",
    "spiral_mlp",
    "digits_mlp",
    "TextbookMLP",
    "TextbookResult",
    "train_textbook",
    "binary_logit_loss",
]


# ------------------------------------------------------------------------------------ config

@dataclass
class MLPConfig:
    sizes: Sequence[int] = (784, 1000, 1000, 10)  # widths: input, hidden..., output (>= 2 entries)
    activation: str = "relu"                      # hidden nonlinearity (see ACTIVATIONS)
    dropout: float = 0.0                          # drop probability after every hidden activation
    output_activation: str | None = None          # None: the output is logits (the loss applies softmax)
    batch_norm: bool = False                      # BatchNorm1d between each hidden Linear and activation


# name -> (nn class name, kwargs). Looked up in gradus.nn when the model is built.
ACTIVATIONS = {
    "relu": ("ReLU", {}),
    "sigmoid": ("Sigmoid", {}),
    "tanh": ("Tanh", {}),
    "leaky_relu": ("LeakyReLU", {}),
    "elu": ("ELU", {}),
    "gelu": ("GELU", {}),
    "softplus": ("Softplus", {}),
    "step": ("Heaviside", {}),      # the perceptron's threshold unit (zero gradient: not trainable by SGD)
    "identity": ("Identity", {}),
    "softmax": ("Softmax", {"dim": 1}),
    "log_softmax": ("LogSoftmax", {"dim": 1}),
}


def make_activation(name: str) -> nn.Module:
    """An activation module from its name, e.g. ``"relu"`` -> ``nn.ReLU()``."""
    key = name.lower()
    if key not in ACTIVATIONS:
        raise ValueError(f"MLP: unknown activation {name!r}; choose from {sorted(ACTIVATIONS)}")
    cls_name, kwargs = ACTIVATIONS[key]
    candidates = (cls_name, "Step") if key == "step" else (cls_name,)
    for cand in candidates:
        cls = getattr(nn, cand, None)
        if cls is not None:
            return cls(**kwargs)
    raise ValueError(f"MLP: activation {name!r} needs gradus.nn.{cls_name}, which is not available")


# ------------------------------------------------------------------------------------ model

class MLP(nn.Module):
    """A stack of fully connected layers: ``Linear -> [BatchNorm1d] -> act -> [Dropout]`` per hidden
    layer, then a final ``Linear`` (plus ``output_activation`` if given).

    Args:
        sizes: ``[n_0, n_1, ..., n_L]``: the input width, the hidden widths, the output width.
        activation: hidden nonlinearity name (``"relu"``, ``"sigmoid"``, ``"tanh"``, ...).
        dropout: drop probability after each hidden activation (0 = none).
        output_activation: applied to the last layer's output; ``None`` returns logits.
        batch_norm: insert ``BatchNorm1d`` before each hidden activation (the Linear then has no bias).

    Shapes: input ``(B, n_0)`` or ``(B, *)`` with ``prod(*) == n_0`` (images are flattened);
    output ``(B, n_L)``.  State dict keys: ``layers.<i>.weight``/``bias`` (``[out, in]``),
    ``norms.<i>.*``.

    >>> net = MLP([784, 1000, 1000, 10])
    >>> sum(p.numel() for p in net.parameters())
    1796010
    """

    def __init__(self, sizes: Sequence[int], activation: str = "relu", dropout: float = 0.0,
                 output_activation: str | None = None, batch_norm: bool = False):
        super().__init__()
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"MLP: sizes must list an input and an output width at least (all >= 1), "
                             f"got {sizes}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"MLP: dropout must be in [0, 1), got {dropout}")
        self.config = MLPConfig(tuple(sizes), activation, dropout, output_activation, batch_norm)
        pairs = list(zip(sizes[:-1], sizes[1:]))
        # hidden Linear layers drop their bias under BatchNorm (its shift beta plays that role)
        self.layers = nn.ModuleList(
            [nn.Linear(n_in, n_out, bias=not batch_norm) for n_in, n_out in pairs[:-1]]
            + [nn.Linear(*pairs[-1])]
        )
        self.norms = nn.ModuleList([nn.BatchNorm1d(n) for n in sizes[1:-1]]) if batch_norm else None
        self.act = make_activation(activation)
        self.drop = nn.Dropout(dropout) if dropout > 0 else None
        self.out_act = make_activation(output_activation) if output_activation else None

    @property
    def sizes(self) -> tuple:
        return self.config.sizes

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim > 2:
            x = x.reshape(x.shape[0], -1)                # (B, C, H, W) -> (B, n_0)
        if x.ndim == 0 or x.shape[-1] != self.sizes[0]:
            raise gradus.errors.ShapeError(
                f"MLP: expected {self.sizes[0]} input features, got input of shape {tuple(x.shape)}")
        for i, layer in enumerate(self.layers[:-1]):
            x = layer(x)                                 # (B, n_{i+1})
            if self.norms is not None:
                x = self.norms[i](x)
            x = self.act(x)
            if self.drop is not None:
                x = self.drop(x)
        x = self.layers[-1](x)                           # (B, n_L) logits
        return self.out_act(x) if self.out_act is not None else x

    def extra_repr(self) -> str:
        return f"sizes={list(self.sizes)}"


# ------------------------------------------------------------------------------------ presets

def mnist_mlp(activation: str = "relu", dropout: float = 0.0, batch_norm: bool = False) -> MLP:
    """The lecture's MNIST MLP: 784-1000-1000-10 ReLU (1,796,010 parameters)."""
    return MLP([784, 1000, 1000, 10], activation, dropout, batch_norm=batch_norm)


def mnist_dmlp(activation: str = "relu", dropout: float = 0.0, batch_norm: bool = False) -> MLP:
    """The deep MLP of Ciresan, Meier, Gambardella & Schmidhuber (2010), "Deep, big, simple neural
    nets excel on handwritten digit recognition": 784-2500-2000-1500-1000-500-10 (11,972,510
    parameters).  The paper used tanh units, online SGD and elastic distortions for ~800 epochs
    (0.35% test error); ReLU is the default here because it trains in a handful of epochs."""
    return MLP([784, 2500, 2000, 1500, 1000, 500, 10], activation, dropout, batch_norm=batch_norm)


def xor_mlp(activation: str = "sigmoid") -> MLP:
    """The 2-2-1 network that solves XOR (two sigmoid hidden units, 9 parameters).

    The output is a logit: ``sigmoid(net(x))`` is P(y = 1); the sigmoid of the output unit lives in
    the loss (``binary_cross_entropy_with_logits``), which is the numerically stable form."""
    return MLP([2, 2, 1], activation)


def spam_mlp(n_features: int = 2000, hidden: int = 64, dropout: float = 0.5) -> MLP:
    """Bag-of-words spam filter: ``n_features``-64-2 ReLU with dropout (logits for ham, spam)."""
    return MLP([n_features, hidden, 2], "relu", dropout)


def spiral_mlp(hidden: int = 100, n_classes: int = 3) -> MLP:
    """2-100-100-3 ReLU: carves the interleaved spiral arms that no linear model can separate."""
    return MLP([2, hidden, hidden, n_classes], "relu")


def digits_mlp(hidden: int = 128, dropout: float = 0.0) -> MLP:
    """64-128-10 ReLU for the embedded 8x8 digits (trains offline in seconds)."""
    return MLP([64, hidden, 10], "relu", dropout)


# ------------------------------------------------------------------------------------ textbook backprop

def _sigmoid(z):
    xp = get_array_module(z)
    return 0.5 * (xp.tanh(0.5 * z) + 1.0)  # = 1 / (1 + e^-z), without overflow for large |z|


class TextbookMLP:
    """A sigmoid MLP trained by the lecture's Algorithm 4-1, in plain array code (no autograd).

    Attributes:
        U: list of ``L`` arrays; ``U[l-1]`` is ``U^l`` of shape ``(n_l, n_{l-1} + 1)``, the last
            column being the bias weights (they multiply the constant input 1).

    Batches are rows: ``X`` is ``(B, n_0)``; row ``b`` of ``Z^l = A^{l-1} @ (U^l)^T`` is the
    column vector ``z^l = U^l [o^{l-1}; 1]`` of sample ``b``.
    """

    def __init__(self, sizes: Sequence[int], dtype=np.float32, generator=None, xp=np):
        g = generator if isinstance(generator, np.random.Generator) else (
            default_generator() if generator is None else np.random.default_rng(int(generator)))
        self.sizes = [int(s) for s in sizes]
        # U^l ~ Uniform(-1/sqrt(n_{l-1}), 1/sqrt(n_{l-1})): the same scale as nn.Linear's default
        self.U = [xp.asarray(g.uniform(-1, 1, (n_out, n_in + 1)) / math.sqrt(n_in), dtype=dtype)
                  for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:])]

    @staticmethod
    def f(z):
        """The unit's activation: the logistic sigmoid."""
        return _sigmoid(z)

    @staticmethod
    def f_prime(z):
        """``f'(z) = f(z) (1 - f(z))``."""
        s = _sigmoid(z)
        return s * (1.0 - s)

    @staticmethod
    def with_one(o):
        """Augment with the constant input: ``(B, n) -> (B, n + 1)``, last column = 1."""
        xp = get_array_module(o)
        return xp.concatenate([o, xp.ones((o.shape[0], 1), dtype=o.dtype)], axis=1)

    def forward(self, X):
        """Returns ``zs`` (``z^1..z^L``) and ``os`` (``o^0 = X, o^1..o^L``), each ``(B, n_l)``."""
        zs, os = [], [X]
        for U in self.U:
            z = self.with_one(os[-1]) @ U.T        # (B, n_{l-1}+1) @ (n_{l-1}+1, n_l) -> (B, n_l)
            zs.append(z)
            os.append(self.f(z))                   # o^l = f(z^l)
        return zs, os

    def __call__(self, X):
        return self.forward(X)[1][-1]              # (B, n_L)

    def loss(self, X, Y) -> float:
        """``E = 1/(2B) sum_b ||o^L_b - y_b||^2``."""
        diff = self(X) - Y
        return float((diff * diff).sum() / (2 * X.shape[0]))

    def gradients(self, X, Y):
        """``dE/dU^l`` for every layer by the delta recursions; returns ``(grads, E)``."""
        B = X.shape[0]
        zs, os = self.forward(X)
        L = len(self.U)
        grads = [None] * L
        delta = (os[-1] - Y) * self.f_prime(zs[-1])                      # (4.6)  (B, n_L)
        for l in range(L - 1, -1, -1):                                   # l indexes U^{l+1}
            grads[l] = delta.T @ self.with_one(os[l]) / B                # (4.8)  (n_l, n_{l-1}+1)
            if l > 0:
                delta = (delta @ self.U[l][:, :-1]) * self.f_prime(zs[l - 1])  # (4.7) bias column dropped
        diff = os[-1] - Y
        return grads, float((diff * diff).sum() / (2 * B))

    def step(self, X, Y, lr: float) -> float:
        """One mini-batch update ``U^l <- U^l - eta dE/dU^l`` (4.9); returns E before the update."""
        grads, E = self.gradients(X, Y)
        for U, G in zip(self.U, grads):
            U -= lr * G
        return E

    def predict(self, X):
        """Class = index of the largest output unit: ``(B, n_0) -> (B,)``."""
        return self(X).argmax(axis=1)


@dataclass
class TextbookResult:
    model: TextbookMLP
    train_loss: list = field(default_factory=list)      # mean E per epoch
    test_accuracy: list = field(default_factory=list)   # after each epoch (if a test set was given)
    epoch_seconds: list = field(default_factory=list)


def train_textbook(X, y, sizes: Sequence[int] = (784, 100, 10), lr: float = 3.0, batch_size: int = 10,
                   epochs: int = 5, X_test=None, y_test=None, generator=None, dtype=np.float32,
                   progress: bool = False) -> TextbookResult:
    """Algorithm 4-1: mini-batch SGD with hand-written back-propagation on one-hot targets.

    Args:
        X: ``(N, n_0)`` inputs (scale them to [0, 1] for sigmoid units); y: ``(N,)`` int labels.
        lr: eta.  With ``E`` averaged over the batch, 0.5-5 works for 784-100-10 on MNIST.
        generator: draws the initial weights and the batch order (None: the global generator).
    """
    g = generator if isinstance(generator, np.random.Generator) else (
        default_generator() if generator is None else np.random.default_rng(int(generator)))
    X = np.asarray(X, dtype=dtype)
    y = np.asarray(y).astype(np.int64)
    n_out = sizes[-1]
    Y = np.eye(n_out, dtype=dtype)[y]                   # one-hot targets (N, n_L)
    model = TextbookMLP(sizes, dtype=dtype, generator=g)
    result = TextbookResult(model)
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        order = g.permutation(len(X))
        total = 0.0
        for start in range(0, len(X), batch_size):
            idx = order[start:start + batch_size]
            total += model.step(X[idx], Y[idx], lr) * len(idx)
        result.epoch_seconds.append(time.perf_counter() - t0)
        result.train_loss.append(total / len(X))
        line = f"epoch {epoch}: E = {result.train_loss[-1]:.4f}"
        if X_test is not None:
            acc = float((model.predict(np.asarray(X_test, dtype=dtype)) == np.asarray(y_test)).mean())
            result.test_accuracy.append(acc)
            line += f", test accuracy {acc:.4f}"
        if progress:
            print(f"{line} ({result.epoch_seconds[-1]:.1f} s)", flush=True)
    return result


# ------------------------------------------------------------------------------------ loss

def binary_logit_loss(output: Tensor, target: Tensor) -> Tensor:
    """Binary cross-entropy for a single logit column: ``output`` ``(N, 1)``, ``target`` ``(N,)`` in
    {0, 1} (integer class labels, as the datasets registry yields them).

    ``mean_n [-y_n log sigmoid(o_n) - (1 - y_n) log(1 - sigmoid(o_n))]``."""
    from .. import functional as F

    return F.binary_cross_entropy_with_logits(output.reshape(-1), target.reshape(-1).to(output.dtype))
