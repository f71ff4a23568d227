"""Over-fitting, and the regularised objective of the lecture:

    F(w) = beta * E(w) + alpha * C(w),        C(w) = ||w||^2 = sum of the squared weights

A big MLP (784-1000-1000-10: 1.8 million weights) sees only 500 MNIST digits. It learns them by
heart: the training loss E goes to ~0 while the test loss, after an early minimum, climbs again
(the network becomes confidently wrong on unseen digits). Penalising ||w||^2 (alpha > 0) keeps
the weights small, and the test loss stays lower. Both curves are drawn on one plot -- the
lecture's model-complexity figure, with training time playing the role of complexity.

    python docs/examples/overfitting_l2.py                      # MNIST from $GRADUS_DATA or ~/.cache/gradus
    python docs/examples/overfitting_l2.py --data /path/to/data --epochs 60 --alpha 1e-3
    python docs/examples/overfitting_l2.py --dataset digits     # offline: the embedded 8x8 digits

The same experiment is the recipe ``gradus train mnist-overfit-l2``; in any supervised recipe the
penalty is ``train.l2 = alpha``.
"""
import argparse
from pathlib import Path

import numpy as np

import gradus
from gradus import functional as F
from gradus import optim
from gradus.models.mlp import MLP


def load(dataset: str, root, n_train: int, n_test: int):
    """A small training subset (the point of the experiment) and a larger test set."""
    if dataset == "mnist":
        from gradus.data.datasets import load_mnist_arrays

        X, y = load_mnist_arrays(root=root, train=True)
        X_test, y_test = load_mnist_arrays(root=root, train=False)
    else:
        from gradus.data.datasets import load_digits_arrays

        X, y = load_digits_arrays(train=True)
        X_test, y_test = load_digits_arrays(train=False)
    idx = np.random.default_rng(0).permutation(len(X))[:n_train]
    return X[idx], y[idx], X_test[:n_test], y_test[:n_test]


def train(X, y, X_test, y_test, sizes, alpha, beta=1.0, num_epochs=100, lr=0.05, batch_size=50, seed=0):
    """Mini-batch SGD (momentum 0.9) on F(w) = beta E(w) + alpha ||w||^2; returns E per epoch."""
    gradus.manual_seed(seed)                       # the same initial weights for every alpha
    net = MLP(sizes)
    weights = [p for name, p in net.named_parameters() if name.endswith("weight")]  # C(w): not the biases
    optimizer = optim.SGD(net.parameters(), lr=lr, momentum=0.9)
    X, y, X_test, y_test = map(gradus.tensor, (X, y, X_test, y_test))
    curves = {"train": [], "test": []}
    for epoch in range(num_epochs):
        net.train()
        order = gradus.randperm(len(X))
        for start in range(0, len(X), batch_size):
            batch = order[start:start + batch_size]
            E = F.cross_entropy(net(X[batch]), y[batch])          # the data term
            C = sum((W * W).sum() for W in weights)               # the complexity term ||w||^2
            objective = beta * E + alpha * C                      # F(w)
            optimizer.zero_grad()
            objective.backward()
            optimizer.step()
        net.eval()
        with gradus.no_grad():                                    # E alone, comparable across alphas
            curves["train"].append(F.cross_entropy(net(X), y).item())
            curves["test"].append(F.cross_entropy(net(X_test), y_test).item())
        if (epoch + 1) % 10 == 0:
            print(f"alpha={alpha:g}  epoch {epoch + 1:3d}  train E {curves['train'][-1]:.4f}  "
                  f"test E {curves['test'][-1]:.4f}", flush=True)
    return curves


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", choices=["mnist", "digits"], default="mnist")
    p.add_argument("--data", default=None, help="dataset root (default $GRADUS_DATA or ~/.cache/gradus)")
    p.add_argument("--n-train", type=int, default=500)
    p.add_argument("--n-test", type=int, default=5000)
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--alpha", type=float, default=1e-3)
    p.add_argument("--out", type=Path, default=Path("overfitting_l2.png"))
    args = p.parse_args()

    X, y, X_test, y_test = load(args.dataset, args.data, args.n_train, args.n_test)
    sizes = [X.shape[1], 1000, 1000, 10]
    runs = {a: train(X, y, X_test, y_test, sizes, a, num_epochs=args.epochs) for a in (0.0, args.alpha)}

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for color, (alpha, c) in zip(("C0", "C1"), runs.items()):
        epochs = np.arange(1, len(c["train"]) + 1)
        ax.plot(epochs, c["train"], "--", color=color, label=f"train, alpha = {alpha:g}")
        ax.plot(epochs, c["test"], "-", color=color, label=f"test, alpha = {alpha:g}")
    ax.set_ylim(0, 1.6 * max(c["test"][-1] for c in runs.values()))  # crop the first epochs (E ~ 2.3)
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy E")
    ax.set_title(f"{sizes[0]}-1000-1000-10 MLP on {len(X)} {args.dataset} images")
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
