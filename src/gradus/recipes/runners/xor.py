"""Recipe ``xor-mlp``: the 2-2-1 sigmoid network learns XOR, with the supervised building blocks and
a single-logit loss (:func:`gradus.models.mlp.binary_logit_loss`)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ...models.mlp import binary_logit_loss
from ...train import LambdaCallback, Trainer
from .build import supervised_parts
from .common import predict_fn, pyplot, section

__all__ = ["run_xor"]


def _every(n: int, progress: bool) -> LambdaCallback:
    """Print the epoch's loss (and accuracy) every ``n`` epochs and at the last one."""

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
    model, bundle, optimizer, seed = supervised_parts(config)
    data, train = section(config, "data"), section(config, "train")
    epochs = int(train.get("epochs", 1000))
    trainer = Trainer(model, optimizer, binary_logit_loss, seed=seed,
                      callbacks=[_every(max(1, epochs // 5), progress)])
    history = trainer.fit(bundle.train, None, epochs=epochs, batch_size=int(data.get("batch_size", 4)))
    test = trainer.evaluate(bundle.test)
    X, y = bundle.test.arrays[0], bundle.test.arrays[1]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plt = pyplot()
    if plt is not None:
        from ...viz import plots  # needs matplotlib, like pyplot()

        plots.plot_curves(history, out_dir / "curves.png", title="xor-mlp")
        plots.plot_decision_boundary(predict_fn(model), X, y, out_dir / "decision_boundary.png",
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
