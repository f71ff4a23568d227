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
from pathlib import Path

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
    "run_textbook",
    "overfitting_curves",
    "run_overfit_l2",
    "binary_logit_loss",
    "run_xor",
    "run_spam",
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


# ------------------------------------------------------------------------------------ recipe runners

def _section(config: dict, name: str) -> dict:
    return dict(config.get(name) or {})


def _data_root(data: dict):
    return data.get("root")  # None -> $GRADUS_DATA -> ~/.cache/gradus (gradus.data.download.resolve_root)


def _mnist_arrays(data: dict, subset: int | None = None, test_subset: int | None = None, seed: int = 0):
    from ..data.datasets import load_mnist_arrays

    root = _data_root(data)
    X, y = load_mnist_arrays(root=root, train=True)
    X_test, y_test = load_mnist_arrays(root=root, train=False)
    rng = np.random.default_rng(seed)
    if subset:
        idx = np.sort(rng.permutation(len(X))[:int(subset)])
        X, y = X[idx], y[idx]
    if test_subset:
        X_test, y_test = X_test[:int(test_subset)], y_test[:int(test_subset)]
    return X, y, X_test, y_test


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        return plt
    except ImportError:
        return None


def run_textbook(config: dict, out_dir: Path, *, progress: bool = True) -> dict:
    """Recipe ``mnist-textbook``: Algorithm 4-1 (sigmoid units, squared error, hand-written deltas)
    on MNIST with one-hot targets.

    Config keys: ``model.sizes``, ``optim.lr``, ``data.batch_size``, ``data.subset`` (training
    samples, for quick runs), ``data.root``, ``train.epochs``, ``train.seed``.
    Writes ``curves.png`` (E and test accuracy per epoch) and ``first_layer.png`` (the first
    layer's weights as 28x28 images); returns ``test_accuracy``, ``train_loss``, ``seconds_per_epoch``.
    """
    model_cfg, data = _section(config, "model"), _section(config, "data")
    optim_cfg, train = _section(config, "optim"), _section(config, "train")
    seed = int(train.get("seed", 0))
    gradus.manual_seed(seed)
    X, y, X_test, y_test = _mnist_arrays(data, data.get("subset"), data.get("test_subset"), seed)
    sizes = list(model_cfg.get("sizes", [784, 100, 10]))
    r = train_textbook(X, y, sizes, lr=float(optim_cfg.get("lr", 3.0)),
                       batch_size=int(data.get("batch_size", 10)), epochs=int(train.get("epochs", 5)),
                       X_test=X_test, y_test=y_test, progress=progress)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plt = _pyplot()
    if plt is not None:
        epochs = range(1, len(r.train_loss) + 1)
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.5))
        a1.plot(epochs, r.train_loss, marker="o")
        a1.set_xlabel("epoch")
        a1.set_ylabel("E (squared error / 2)")
        a1.set_title("training loss")
        a2.plot(epochs, r.test_accuracy, marker="o", color="tab:green")
        a2.set_xlabel("epoch")
        a2.set_ylabel("test accuracy")
        a2.set_title(f"Algorithm 4-1, {'-'.join(map(str, sizes))} sigmoid")
        fig.tight_layout()
        fig.savefig(out_dir / "curves.png", dpi=100)
        plt.close(fig)
        from ..viz import plots

        W = r.model.U[0][:, :-1]                                   # (n_1, 784) without the bias column
        plots.plot_first_layer(W, (28, 28), out_dir / "first_layer.png",
                               title="first-layer weights U^1 (one hidden unit per tile)")
    return {"test_accuracy": r.test_accuracy[-1], "train_loss": r.train_loss[-1],
            "seconds_per_epoch": float(np.mean(r.epoch_seconds)), "epochs": len(r.train_loss)}


def overfitting_curves(X, y, X_test, y_test, sizes: Sequence[int], alpha: float, epochs: int = 100,
                       lr: float = 0.05, batch_size: int = 50, momentum: float = 0.9, seed: int = 0,
                       progress: bool = False) -> dict:
    """Train ``MLP(sizes)`` on ``F(w) = E(w) + alpha C(w)``, ``C(w) = ||w||^2`` over the weight
    matrices (biases are not penalised), with SGD + momentum; record the data loss ``E`` (mean cross
    entropy, without the penalty) on the training and the test set after every epoch.

    Returns ``{"train_loss": [...], "test_loss": [...], "train_accuracy": [...], "test_accuracy": [...]}``.
    """
    from .. import functional as F
    from .. import optim

    gradus.manual_seed(seed)
    net = MLP(sizes)
    weights = [p for name, p in net.named_parameters() if name.endswith("weight")]
    opt = optim.SGD(net.parameters(), lr=lr, momentum=momentum)
    X_t, y_t = gradus.tensor(X), gradus.tensor(y)
    Xte_t, yte_t = gradus.tensor(X_test), gradus.tensor(y_test)
    g = default_generator()
    curves = {"train_loss": [], "test_loss": [], "train_accuracy": [], "test_accuracy": []}
    for epoch in range(1, epochs + 1):
        net.train()
        order = g.permutation(len(X))
        for start in range(0, len(X), batch_size):
            idx = gradus.tensor(order[start:start + batch_size])
            E = F.cross_entropy(net(X_t[idx]), y_t[idx])
            objective = E + alpha * sum((w * w).sum() for w in weights) if alpha else E   # F(w)
            opt.zero_grad()
            objective.backward()
            opt.step()
        net.eval()
        with gradus.no_grad():
            for split, (A, b) in {"train": (X_t, y_t), "test": (Xte_t, yte_t)}.items():
                logits = net(A)
                curves[f"{split}_loss"].append(float(F.cross_entropy(logits, b).item()))
                curves[f"{split}_accuracy"].append(float((logits.argmax(1).numpy() == b.numpy()).mean()))
        if progress and (epoch % 10 == 0 or epoch == epochs):
            print(f"alpha={alpha:g} epoch {epoch}: train E {curves['train_loss'][-1]:.4f}, "
                  f"test E {curves['test_loss'][-1]:.4f}, test accuracy {curves['test_accuracy'][-1]:.4f}",
                  flush=True)
    return curves


def plot_overfitting(runs: dict, path: Path, title: str = "") -> Path | None:
    """``runs``: alpha -> curves (from :func:`overfitting_curves`); train dashed, test solid."""
    plt = _pyplot()
    if plt is None:
        return None
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for i, (alpha, c) in enumerate(runs.items()):
        color = f"C{i}"
        epochs = range(1, len(c["train_loss"]) + 1)
        ax.plot(epochs, c["train_loss"], "--", color=color, label=f"train, alpha = {alpha:g}")
        ax.plot(epochs, c["test_loss"], "-", color=color, label=f"test, alpha = {alpha:g}")
    ax.set_xlabel("epoch (the fitted model grows more complex with training)")
    ax.set_ylabel("cross-entropy E (without the penalty)")
    # linear scale, cropped above the final test losses: the first epochs (E ~ ln 10) leave the
    # chart and the U-shaped test curve of the lecture's figure fills it
    ax.set_ylim(0, 1.6 * max(c["test_loss"][-1] for c in runs.values()))
    ax.set_title(title or "over-fitting and the regulariser alpha ||w||^2")
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def run_overfit_l2(config: dict, out_dir: Path, *, progress: bool = True) -> dict:
    """Recipe ``mnist-overfit-l2``: the lecture's model-complexity figure.  A big MLP on a small
    MNIST subset, trained once with ``alpha = 0`` and once with ``alpha > 0`` in
    ``F(w) = E + alpha ||w||^2``; train and test loss per epoch on one plot (``overfitting_l2.png``).

    Config keys: ``model.sizes``, ``data.subset`` (training samples), ``data.test_subset``,
    ``data.batch_size``, ``data.root``, ``optim.lr``, ``optim.momentum``, ``train.epochs``,
    ``train.seed``, ``train.alphas`` (list; default ``[0.0, 1e-3]``).
    Returns, per alpha, ``train_loss_alpha_<a>``, ``test_loss_alpha_<a>``, ``test_accuracy_alpha_<a>``
    and ``min_test_loss_alpha_<a>``; ``overfit_rise`` (final minus lowest test loss at alpha = 0) and
    ``l2_test_loss_reduction`` (final test loss at alpha = 0 minus that at the largest alpha).
    """
    model_cfg, data = _section(config, "model"), _section(config, "data")
    optim_cfg, train = _section(config, "optim"), _section(config, "train")
    seed = int(train.get("seed", 0))
    X, y, X_test, y_test = _mnist_arrays(data, data.get("subset", 500), data.get("test_subset", 5000), seed)
    alphas = [float(a) for a in train.get("alphas", [0.0, 1e-3])]
    runs = {}
    for alpha in alphas:
        runs[alpha] = overfitting_curves(
            X, y, X_test, y_test, model_cfg.get("sizes", [784, 1000, 1000, 10]), alpha,
            epochs=int(train.get("epochs", 100)), lr=float(optim_cfg.get("lr", 0.05)),
            batch_size=int(data.get("batch_size", 50)), momentum=float(optim_cfg.get("momentum", 0.9)),
            seed=seed, progress=progress)
    path = plot_overfitting(runs, Path(out_dir) / "overfitting_l2.png",
                            f"MLP on {len(X)} MNIST digits: train (dashed) vs test (solid)")
    if path is not None and progress:
        print(f"plot: {path}", flush=True)
    metrics: dict = {}
    for alpha, c in runs.items():
        for key in ("train_loss", "test_loss", "test_accuracy"):
            metrics[f"{key}_alpha_{alpha:g}"] = c[key][-1]
        metrics[f"min_test_loss_alpha_{alpha:g}"] = min(c["test_loss"])
    if 0.0 in runs:
        base = runs[0.0]["test_loss"]
        metrics["overfit_rise"] = base[-1] - min(base)     # how far over-fitting lifted the test loss
        regularised = [a for a in runs if a > 0]
        if regularised:                                    # > 0: the penalty lowered the final test loss
            metrics["l2_test_loss_reduction"] = base[-1] - runs[max(regularised)]["test_loss"][-1]
    return metrics


def binary_logit_loss(output: Tensor, target: Tensor) -> Tensor:
    """Binary cross-entropy for a single logit column: ``output`` ``(N, 1)``, ``target`` ``(N,)`` in
    {0, 1} (integer class labels, as the datasets registry yields them).

    ``mean_n [-y_n log sigmoid(o_n) - (1 - y_n) log(1 - sigmoid(o_n))]``."""
    from .. import functional as F

    return F.binary_cross_entropy_with_logits(output.reshape(-1), target.reshape(-1).to(output.dtype))


def _supervised_parts(config: dict):
    """Model, data bundle and optimizer built from the recipe's sections, as the supervised runner does."""
    from ..train.runner import build_data, build_model, build_optimizer

    seed = int(_section(config, "train").get("seed", 0))
    gradus.manual_seed(seed)  # before anything random: the initial weights
    bundle = build_data(config)
    model = build_model(config)
    return model, bundle, build_optimizer(config, model), seed


def _every(n: int, progress: bool):
    from ..train import LambdaCallback

    def show(trainer, epoch, logs):
        if progress and (epoch % n == 0 or epoch == trainer.epochs):
            acc = f", accuracy {logs['accuracy']:.3f}" if "accuracy" in logs else ""
            print(f"epoch {epoch}: loss {logs['loss']:.4f}{acc}", flush=True)

    return LambdaCallback(on_epoch_end=show)


def run_xor(config: dict, out_dir: Path, *, progress: bool = True) -> dict:
    """Recipe ``xor-mlp``: the 2-2-1 sigmoid network learns XOR (full batch, binary cross-entropy on
    the output logit).  A custom runner only because the single-logit loss takes integer labels.

    Reads the supervised sections (``model.factory``, ``data.dataset``/``batch_size``, ``optim.*``,
    ``train.epochs``/``seed``).  Writes ``curves.png``, ``decision_boundary.png`` and
    ``hidden_units.png`` (the two hidden units' lines ``w . x + b = 0``: each is a perceptron-like
    cut, the output unit combines them).  Returns ``test_accuracy`` (on the truth table), ``test_loss``.
    """
    from ..train import Trainer

    model, bundle, optimizer, seed = _supervised_parts(config)
    data, train = _section(config, "data"), _section(config, "train")
    epochs = int(train.get("epochs", 1000))
    trainer = Trainer(model, optimizer, binary_logit_loss, seed=seed,
                      callbacks=[_every(max(1, epochs // 5), progress)])
    history = trainer.fit(bundle.train, None, epochs=epochs, batch_size=int(data.get("batch_size", 4)))
    test = trainer.evaluate(bundle.test)
    X, y = bundle.test.arrays[0], bundle.test.arrays[1]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plt = _pyplot()
    if plt is not None:
        from ..train.runner import _predict_fn
        from ..viz import plots

        plots.plot_curves(history, out_dir / "curves.png", title="xor-mlp")
        plots.plot_decision_boundary(_predict_fn(model), X, y, out_dir / "decision_boundary.png",
                                     title=f"2-2-1 sigmoid MLP on XOR (accuracy {test['accuracy']:.2f})")
        W, b = model.layers[0].weight.numpy(), model.layers[0].bias.numpy()   # (2, 2), (2,)
        fig, ax = plt.subplots(figsize=(4.5, 4.5))
        ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", s=120, edgecolors="k", zorder=3)
        xs = np.linspace(-0.5, 1.5, 2)
        for j in range(len(W)):                         # hidden unit j: W[j] . x + b[j] = 0
            if abs(W[j, 1]) > 1e-8:
                ax.plot(xs, -(W[j, 0] * xs + b[j]) / W[j, 1], label=f"hidden unit {j + 1}")
            else:
                ax.axvline(-b[j] / W[j, 0], label=f"hidden unit {j + 1}")
        ax.set_xlim(-0.5, 1.5)
        ax.set_ylim(-0.5, 1.5)
        ax.set_title("the hidden units' lines")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out_dir / "hidden_units.png", dpi=100)
        plt.close(fig)
    if progress:
        print(f"XOR: test accuracy {test['accuracy']:.2f}, loss {test['loss']:.4f}", flush=True)
    return {"test_accuracy": test["accuracy"], "test_loss": test["loss"], "epochs": trainer.epoch}


def run_spam(config: dict, out_dir: Path, *, progress: bool = True) -> dict:
    """Recipe ``spam-mlp``: the supervised runner (checked against its schema), plus precision and
    recall of the spam class on the test set -- accuracy alone hides a filter that lets spam through
    (only 13% of the messages are spam: "always ham" already scores 0.87).

    Returns the supervised metrics plus ``spam_precision`` (share of messages flagged as spam that
    are spam), ``spam_recall`` (share of spam that is caught) and ``spam_f1``.
    """
    import copy

    from ..recipes import DATA_RUNNER_KEYS, SUPERVISED, TRAIN_DEFAULTS, validate
    from ..train import Callback, predict
    from ..train import metrics as M
    from ..train.runner import build_data, run_supervised

    sup = copy.deepcopy(dict(config))
    sup["recipe"] = {**sup["recipe"], "runner": SUPERVISED}
    validate(sup)                                   # the same key checks as a supervised recipe
    for section, defaults in (("train", TRAIN_DEFAULTS), ("data", DATA_RUNNER_KEYS)):
        for k, v in defaults.items():
            sup.setdefault(section, {}).setdefault(k, copy.deepcopy(v))

    class _Keep(Callback):
        def on_train_end(self, trainer, logs):
            self.trainer = trainer

    keep = _Keep()
    results = dict(run_supervised(sup, out_dir, progress=progress, extra_callbacks=[keep]))
    bundle = build_data(sup)                        # deterministic: the same split and vocabulary
    trainer = keep.trainer
    scores = predict(trainer.model, trainer.make_loader(bundle.test, 512, shuffle=False))
    cm = M.confusion_matrix(bundle.test.arrays[1], scores, num_classes=2)
    prf = M.precision_recall_f1(cm)
    classes = list(bundle.info.get("classes") or ["ham", "spam"])
    spam = classes.index("spam") if "spam" in classes else 1
    results.update(spam_precision=float(prf["precision"][spam]), spam_recall=float(prf["recall"][spam]),
                   spam_f1=float(prf["f1"][spam]))
    print(f"spam   precision {results['spam_precision']:.4f}  recall {results['spam_recall']:.4f}  "
          f"f1 {results['spam_f1']:.4f}   (confusion [[ham->ham, ham->spam], [spam->ham, spam->spam]] = "
          f"{cm.tolist()})", flush=True)
    return results
