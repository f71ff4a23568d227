"""Recipe ``mnist-textbook``: the lecture's Algorithm 4-1 (:class:`gradus.models.mlp.TextbookMLP`,
hand-written back-propagation) trained on MNIST, with its curves and first-layer weights."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import gradus

from ...models.mlp import train_textbook
from .common import mnist_arrays, pyplot, section

__all__ = ["run_textbook"]


def run_textbook(config: dict, out_dir: Path, *, progress: bool = True) -> dict:
    """Recipe ``mnist-textbook``: Algorithm 4-1 (sigmoid units, squared error, hand-written deltas)
    on MNIST with one-hot targets.

    Config keys: ``model.sizes``, ``optim.lr``, ``data.batch_size``, ``data.subset`` (training
    samples, for quick runs), ``data.root``, ``train.epochs``, ``train.seed``.
    Writes ``curves.png`` (E and test accuracy per epoch) and ``first_layer.png`` (the first
    layer's weights as 28x28 images); returns ``test_accuracy``, ``train_loss``, ``seconds_per_epoch``.
    """
    model_cfg, data = section(config, "model"), section(config, "data")
    optim_cfg, train = section(config, "optim"), section(config, "train")
    seed = int(train.get("seed", 0))
    gradus.manual_seed(seed)
    X, y, X_test, y_test = mnist_arrays(data, data.get("subset"), data.get("test_subset"), seed)
    sizes = list(model_cfg.get("sizes", [784, 100, 10]))
    r = train_textbook(X, y, sizes, lr=float(optim_cfg.get("lr", 3.0)),
                       batch_size=int(data.get("batch_size", 10)), epochs=int(train.get("epochs", 5)),
                       X_test=X_test, y_test=y_test, progress=progress)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plt = pyplot()
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
        from ...viz import plots

        W = r.model.U[0][:, :-1]                                   # (n_1, 784) without the bias column
        plots.plot_first_layer(W, (28, 28), out_dir / "first_layer.png",
                               title="first-layer weights U^1 (one hidden unit per tile)")
    return {"test_accuracy": r.test_accuracy[-1], "train_loss": r.train_loss[-1],
            "seconds_per_epoch": float(np.mean(r.epoch_seconds)), "epochs": len(r.train_loss)}
