"""Recipes ``perceptron-logic`` and ``adaline``: the first two neurons of the course
(:mod:`gradus.models.perceptron`) trained by their own rules, with their separating lines drawn."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import gradus

from ...models.perceptron import bipolar, train_adaline, train_perceptron
from ...tensor import Tensor
from .common import say, section

__all__ = ["run_perceptron_logic", "run_adaline", "plot_linear_units"]


def plot_linear_units(panels: list, path: Path) -> Path | None:
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
    data, train, model_cfg = section(config, "data"), section(config, "train"), section(config, "model")
    gates = [str(g).lower() for g in data.get("gates", ["and", "or", "xor"])]
    encoding = data.get("encoding", "binary")
    max_epochs = int(train.get("epochs", 100))
    gradus.manual_seed(int(train.get("seed", 0)))
    from ...data.datasets import logic_gate

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
    path = plot_linear_units(panels, out_dir / "decision_boundaries.png")
    if path is not None:
        say(progress, f"decision boundaries: {path}")
        from ...viz import plots  # the project's standard per-model plot, one file per gate

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
    data, train = section(config, "data"), section(config, "train")
    model_cfg, optim_cfg = section(config, "model"), section(config, "optim")
    seed = int(train.get("seed", 0))
    gradus.manual_seed(seed)
    from ...data.datasets import logic_gate, make_blobs

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
    say(progress, f"blobs: E = {r.losses[-1]:.4f} after {r.epochs} epochs, train accuracy {acc:.3f}, "
                   f"test accuracy {test_acc:.3f}")
    say(progress, f"AND: least-squares line, accuracy {and_acc:.2f}")

    out_dir = Path(out_dir)
    plot_linear_units([(f"Adaline on blobs (test accuracy {test_acc:.3f})", X, y, r.weights),
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
