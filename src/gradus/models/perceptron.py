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
from pathlib import Path

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
    "run_perceptron_logic",
    "run_adaline",
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


# ------------------------------------------------------------------------------------ recipe runners

def _section(config: dict, name: str) -> dict:
    return dict(config.get(name) or {})


def _say(progress: bool, text: str) -> None:
    if progress:
        print(text, flush=True)


def _plot_linear_units(panels: list, path: Path) -> Path | None:
    """One panel per (title, X, y, weight): points, the line ``w0 + w1 x1 + w2 x2 = 0`` and the
    two half-planes (drawn from ``w`` exactly, not sampled); returns None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 4), squeeze=False)
    for ax, (title, X, y, w) in zip(axes[0], panels):
        X = np.asarray(X, dtype=np.float64)
        pos = np.asarray(bipolar(y).numpy()) > 0
        w = np.asarray(w.numpy() if isinstance(w, Tensor) else w, dtype=np.float64)
        lo, hi = X.min(0) - 0.5, X.max(0) + 0.5
        xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
        score = w[0] + w[1] * xx + w[2] * yy
        ax.contourf(xx, yy, score > 0, levels=[-0.5, 0.5, 1.5], colors=["#f4c7c3", "#c6dbef"], alpha=0.8)
        ax.contour(xx, yy, score, levels=[0.0], colors="k", linewidths=1.5)
        ax.scatter(X[pos, 0], X[pos, 1], marker="o", s=60, c="#1f77b4", edgecolors="k", label="P (y = +1)")
        ax.scatter(X[~pos, 0], X[~pos, 1], marker="s", s=60, c="#d62728", edgecolors="k", label="N (y = -1)")
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
        ax.set_title(title, fontsize=10)
        ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def run_perceptron_logic(config: dict, out_dir: Path, *, progress: bool = True) -> dict:
    """Recipe ``perceptron-logic``: the perceptron rule on the AND, OR and XOR truth tables.

    Config keys: ``data.gates`` (default ``["and", "or", "xor"]``), ``data.encoding``
    (``"binary"`` | ``"bipolar"``), ``train.epochs`` (epoch limit, default 100), ``train.seed``,
    ``model.init`` (``"random"`` | ``"zeros"``).

    Writes ``decision_boundaries.png`` (one panel per gate, the learned line drawn from ``w``) and
    ``decision_boundary_<gate>.png`` (``gradus.viz.plots.plot_decision_boundary``); returns, per gate,
    ``<gate>_accuracy``, ``<gate>_converged``, ``<gate>_epochs``, plus ``and_or_accuracy``
    (the mean over AND and OR, which must be 1.0: both are linearly separable).
    """
    data, train, model_cfg = _section(config, "data"), _section(config, "train"), _section(config, "model")
    gates = [str(g).lower() for g in data.get("gates", ["and", "or", "xor"])]
    encoding = data.get("encoding", "binary")
    max_epochs = int(train.get("epochs", 100))
    gradus.manual_seed(int(train.get("seed", 0)))
    from ..data.datasets import logic_gate

    metrics: dict = {}
    panels, results = [], []
    for gate in gates:
        X, y = logic_gate(gate, encoding)
        r = train_perceptron(X, y, max_epochs, init=model_cfg.get("init", "random"), name=gate.upper())
        acc = float((r.model.predict(X).numpy() == bipolar(y).numpy()).mean())
        metrics[f"{gate}_accuracy"] = acc
        metrics[f"{gate}_converged"] = r.converged
        metrics[f"{gate}_epochs"] = r.epochs
        print(f"{gate.upper():>4}: {r.message}; accuracy {acc:.2f}", flush=True)  # the result itself
        verdict = (f"converged in {r.epochs} epochs" if r.converged
                   else f"no separating line in {r.epochs} epochs")
        panels.append((f"{gate.upper()}: {verdict}\naccuracy {acc:.2f}", X, y, r.weights))
        results.append((gate, X, y, r.model))
    separable = [metrics[f"{g}_accuracy"] for g in ("and", "or") if f"{g}_accuracy" in metrics]
    if separable:
        metrics["and_or_accuracy"] = float(np.mean(separable))
    out_dir = Path(out_dir)
    path = _plot_linear_units(panels, out_dir / "decision_boundaries.png")
    if path is not None:
        _say(progress, f"decision boundaries: {path}")
        from ..viz import plots  # the project's standard per-model plot, one file per gate

        for gate, X, y, model in results:
            plots.plot_decision_boundary(lambda G, m=model: (m.predict(G).numpy() > 0).astype(np.int64),
                                         X, (np.asarray(y) > 0).astype(np.int64),
                                         out_dir / f"decision_boundary_{gate}.png",
                                         title=f"perceptron on {gate.upper()}")
    return metrics


def run_adaline(config: dict, out_dir: Path, *, progress: bool = True) -> dict:
    """Recipe ``adaline``: the delta rule on two Gaussian blobs (linearly separable) and on AND.

    Config keys: ``data.n`` (training points, default 200), ``data.n_test`` (default 1000),
    ``data.cluster_std``, ``optim.lr``, ``model.mode`` (``"online"`` | ``"batch"``), ``train.epochs``,
    ``train.seed``, ``train.tol``.

    Writes ``adaline.png`` (the learned lines) and ``adaline_loss.png`` (E per epoch); returns
    ``train_accuracy``, ``test_accuracy``, ``and_accuracy``, ``final_loss``.
    """
    data, train = _section(config, "data"), _section(config, "train")
    model_cfg, optim_cfg = _section(config, "model"), _section(config, "optim")
    seed = int(train.get("seed", 0))
    gradus.manual_seed(seed)
    from ..data.datasets import logic_gate, make_blobs

    std = float(data.get("cluster_std", 1.0))
    X, y = make_blobs(int(data.get("n", 200)), centers=2, cluster_std=std, seed=seed)
    X_test, y_test = make_blobs(int(data.get("n_test", 1000)), centers=2, cluster_std=std, seed=seed + 1)
    lr, epochs = float(optim_cfg.get("lr", 0.01)), int(train.get("epochs", 20))
    mode, tol = model_cfg.get("mode", "online"), float(train.get("tol", 0.0))

    r = train_adaline(X, y, lr=lr, epochs=epochs, mode=mode, tol=tol)
    acc = float((r.model.predict(X).numpy() == bipolar(y).numpy()).mean())
    test_acc = float((r.model.predict(X_test).numpy() == bipolar(y_test).numpy()).mean())
    Xg, yg = logic_gate("and", "binary")
    r_and = train_adaline(Xg, yg, lr=lr * 5, epochs=max(epochs, 200), mode=mode)
    and_acc = float((r_and.model.predict(Xg).numpy() == bipolar(yg).numpy()).mean())
    _say(progress, f"blobs: E = {r.losses[-1]:.4f} after {r.epochs} epochs, train accuracy {acc:.3f}, "
                   f"test accuracy {test_acc:.3f}")
    _say(progress, f"AND: least-squares line, accuracy {and_acc:.2f}")

    out_dir = Path(out_dir)
    _plot_linear_units([(f"Adaline on blobs (test accuracy {test_acc:.3f})", X, y, r.weights),
                        (f"Adaline on AND (accuracy {and_acc:.2f})", Xg, yg, r_and.weights)],
                       out_dir / "adaline.png")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5, 3.5))
        ax.plot(range(1, len(r.losses) + 1), r.losses, marker=".")
        ax.set_xlabel("epoch")
        ax.set_ylabel("E = 1/2 mean (t - w.x)^2")
        ax.set_title(f"delta rule ({mode}, lr={lr})")
        fig.tight_layout()
        fig.savefig(out_dir / "adaline_loss.png", dpi=100)
        plt.close(fig)
    except ImportError:
        pass
    return {"train_accuracy": acc, "test_accuracy": test_acc, "and_accuracy": and_acc,
            "final_loss": r.losses[-1], "epochs": r.epochs}
