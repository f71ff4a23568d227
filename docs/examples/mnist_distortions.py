"""Distorted training sets for MNIST: LeNet-5's affine distortions and Simard's elastic ones.

LeCun et al. (1998) trained LeNet-5 on the 60,000 digits plus distorted copies -- random "horizontal
and vertical translations, scaling, squeezing (simultaneous horizontal compression and vertical
elongation, or the reverse) and horizontal shearing" -- and the test error fell from 0.95% to 0.8%.
Simard, Steinkraus & Platt (2003) added *elastic* distortions: a random displacement field, smoothed
by a Gaussian (sigma 4 px) and scaled (alpha 34), resamples the digit as if drawn by a shaky hand.

The recipes draw them afresh for every batch (``data.augment = "affine" | "elastic" |
"affine+elastic"``): ``mnist-lenet5-paper`` reaches 99.33% with the affine ones, the deep MLP
``mnist-dmlp`` 99.39% after 50 epochs with both (benchmarks/RESULTS.md). This script draws one row
per kind for the first digits of the training set:

    python docs/examples/mnist_distortions.py --data ../shared/data --out docs/images/mnist_distortions.png
"""
import argparse
import os
from pathlib import Path

import numpy as np

from gradus.data.datasets import load_mnist_arrays
from gradus.data.transforms import batch_elastic_distortion, batch_random_affine
from gradus.recipes.datasets import MNIST_AFFINE


def default_data_root() -> Path:
    env = os.environ.get("GRADUS_TEST_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2].parent / "shared" / "data"


def distortions(imgs: np.ndarray, seed: int = 0) -> dict[str, np.ndarray]:
    """The originals (N, 28, 28) in [0, 1] and one distorted copy per kind (blank pixels stay 0)."""
    rng = np.random.default_rng(seed)
    affine = batch_random_affine(imgs, **MNIST_AFFINE, generator=rng)
    return {
        "original": imgs,
        "affine (LeNet-5)": affine,
        "elastic (Simard)": batch_elastic_distortion(imgs, alpha=34.0, sigma=4.0, generator=rng),
        "affine + elastic": batch_elastic_distortion(affine, alpha=34.0, sigma=4.0, generator=rng),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=default_data_root(), help="data root holding mnist/")
    p.add_argument("--n", type=int, default=10, help="digits per row")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("mnist_distortions.png"))
    args = p.parse_args()

    X, y = load_mnist_arrays(root=args.data, train=True, flatten=False, download=False)
    rows = distortions(X[: args.n, 0], args.seed)
    for name, imgs in rows.items():   # ink kept: the distortions move strokes, they do not erase them
        print(f"{name:18s} mean ink per digit {imgs.sum(axis=(1, 2)).mean():6.1f}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(rows), args.n, figsize=(args.n * 0.9, len(rows) * 1.05))
    for r, (name, imgs) in enumerate(rows.items()):
        for c in range(args.n):
            ax = axes[r, c]
            ax.imshow(imgs[c], cmap="gray_r", vmin=0.0, vmax=1.0)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
    fig.suptitle(f"MNIST training digits {', '.join(str(int(v)) for v in y[: args.n])}: one random "
                 "distortion each", fontsize=9)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
