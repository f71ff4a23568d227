"""Recipe ``mnist-overfit-l2``: the lecture's model-complexity figure. A big MLP on a small MNIST
subset, train vs test loss per epoch without and with the regulariser ``alpha ||w||^2``."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import gradus

from ...models.mlp import MLP
from ...random import default_generator
from .common import mnist_arrays, pyplot, section

__all__ = ["overfitting_curves", "plot_overfitting", "run_overfit_l2"]


def overfitting_curves(X, y, X_test, y_test, sizes: Sequence[int], alpha: float, epochs: int = 100,
                       lr: float = 0.05, batch_size: int = 50, momentum: float = 0.9, seed: int = 0,
                       progress: bool = False) -> dict:
    """Train ``MLP(sizes)`` on ``F(w) = E(w) + alpha C(w)``, ``C(w) = ||w||^2`` over the weight
    matrices (biases are not penalised), with SGD + momentum; record the data loss ``E`` (mean cross
    entropy, without the penalty) on the training and the test set after every epoch.

    Returns ``{"train_loss": [...], "test_loss": [...], "train_accuracy": [...], "test_accuracy": [...]}``.
    """
    from ... import functional as F
    from ... import optim

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
    plt = pyplot()
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
    model_cfg, data = section(config, "model"), section(config, "data")
    optim_cfg, train = section(config, "optim"), section(config, "train")
    seed = int(train.get("seed", 0))
    X, y, X_test, y_test = mnist_arrays(data, data.get("subset", 500), data.get("test_subset", 5000), seed)
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
