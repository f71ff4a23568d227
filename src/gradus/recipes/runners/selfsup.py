"""Recipe ``mnist-selfsup-transfer``: self-supervised pre-training by rotation prediction, then
fine-tuning with few labels, against the same network started from random weights.

1. **Pretext** (no labels read): a :class:`~gradus.models.rotation.RotationNet` learns to tell which
   quarter turn r in {0, 90, 180, 270} degrees each training image was given (one random r per image
   per epoch); its rotation accuracy on the test images is reported.
2. **Transfer**, for each seed: ``[finetune] labels_per_class`` labelled training images per class are
   drawn (seeded); the pre-trained network gets a fresh classifier head and is fine-tuned end to end;
   a RotationNet from random weights (seeded) is trained on the same images with the same optimizer,
   epochs and batches. Both are tested on the full test set.
3. Results: test accuracy mean and std over the seeds for both starts, the gain (pre-trained minus
   random, the target), whether the pre-trained start won for every seed; a bar chart.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from ... import manual_seed, no_grad, tensor
from ...functional import cross_entropy
from ...models.rotation import RotationNet, RotationNetConfig
from ...train.checkpoint import save_checkpoint
from .. import optimizer_class
from .common import mnist_arrays, pyplot, say, section

__all__ = ["run_selfsup_transfer", "rotation_net_from_config", "few_labels"]

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


def rotation_net_from_config(config) -> RotationNet:
    cfg = dict(config.get("model") or {})
    cfg.pop("factory", None)
    if "channels" in cfg:
        cfg["channels"] = tuple(cfg["channels"])
    return RotationNet(RotationNetConfig(**cfg))


def few_labels(y: np.ndarray, per_class: int, seed: int) -> np.ndarray:
    """Indices of ``per_class`` examples of every class of ``y``, drawn with ``seed`` (sorted)."""
    rng = np.random.default_rng(seed)
    idx = [rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in np.unique(y)]
    return np.sort(np.concatenate(idx))


def _accuracy(model, X: np.ndarray, y: np.ndarray, fn=None, batch_size: int = 1000) -> float:
    model.eval()
    fn = fn or model
    with no_grad():
        pred = np.concatenate(
            [fn(tensor(X[i : i + batch_size])).numpy().argmax(1) for i in range(0, len(X), batch_size)]
        )
    model.train()
    return float((pred == y).mean())


def _optimizer(cfg: dict, model):
    cfg = dict(cfg)
    name = cfg.pop("name", "Adam")
    keep = {
        k: (tuple(v) if isinstance(v, list) else v)
        for k, v in cfg.items()
        if k in ("lr", "betas", "weight_decay", "momentum")
    }
    return optimizer_class(name)(model.parameters(), **keep)


def _pretrain(model, X: np.ndarray, X_test: np.ndarray, cfg: dict, seed: int, progress: bool, out_dir: Path):
    rng = np.random.default_rng(seed)
    opt = _optimizer(cfg, model)
    epochs, bs = int(cfg.get("epochs", 5)), int(cfg.get("batch_size", 128))
    r_test = np.random.default_rng(seed + 99).integers(0, 4, len(X_test))
    Xr_test = np.stack([np.rot90(x, k, axes=(1, 2)) for x, k in zip(X_test, r_test)])
    acc = 0.0
    for epoch in range(1, epochs + 1):
        t_ep, total, steps = time.perf_counter(), 0.0, 0
        order = rng.permutation(len(X))
        model.train()
        for i in range(0, len(X), bs):
            xb = X[order[i : i + bs]]
            r = rng.integers(0, 4, len(xb))
            xr = np.stack([np.rot90(x, k, axes=(1, 2)) for x, k in zip(xb, r)])  # one turn per image
            loss = cross_entropy(model.rotation_logits(tensor(xr)), tensor(r))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total, steps = total + float(loss.item()), steps + 1
        acc = _accuracy(model, Xr_test, r_test, model.rotation_logits)
        logs = {
            "stage": "pretext",
            "epoch": epoch,
            "loss": total / steps,
            "test_rotation_accuracy": acc,
            "seconds": round(time.perf_counter() - t_ep, 1),
        }
        with open(out_dir / "metrics.jsonl", "a") as f:
            f.write(json.dumps(logs) + "\n")
        say(
            progress,
            f"  pretext epoch {epoch}/{epochs}: rotation loss {logs['loss']:.3f}, test rotation "
            f"accuracy {acc:.4f}, {logs['seconds']:.0f} s",
        )
    return acc


def _finetune(model, X: np.ndarray, y: np.ndarray, cfg: dict, seed: int) -> None:
    rng = np.random.default_rng(seed)
    opt = _optimizer(cfg, model)
    epochs, bs = int(cfg.get("epochs", 30)), int(cfg.get("batch_size", 64))
    model.train()
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for i in range(0, len(X), bs):
            idx = order[i : i + bs]
            loss = cross_entropy(model(tensor(X[idx])), tensor(y[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()


def run_selfsup_transfer(config: dict, out_dir: Path, *, progress: bool = True) -> dict:
    out_dir = Path(out_dir)
    data, pre, fine = section(config, "data"), section(config, "pretrain"), section(config, "finetune")
    seed = int(section(config, "train").get("seed", 0))
    seeds = [int(s) for s in fine.get("seeds", [0, 1, 2])]
    per_class = int(fine.get("labels_per_class", 100))
    manual_seed(seed)
    X, y, X_test, y_test = mnist_arrays(data, data.get("subset"), data.get("test_subset"), seed)
    X = ((X.astype(np.float32) - MNIST_MEAN) / MNIST_STD).reshape(-1, 1, 28, 28)
    X_test = ((X_test.astype(np.float32) - MNIST_MEAN) / MNIST_STD).reshape(-1, 1, 28, 28)
    net = rotation_net_from_config(config)
    say(
        progress,
        f"  model  RotationNet channels {net.config.channels} "
        f"({sum(p.numel() for p in net.parameters()):,} parameters)",
    )
    say(
        progress,
        f"  data   MNIST: {len(X):,} unlabelled images for the pretext task; {per_class} labels per "
        f"class for fine-tuning; {len(X_test):,} test images; seeds {seeds}",
    )
    t0 = time.perf_counter()
    rot_acc = _pretrain(net, X, X_test, pre, seed, progress, out_dir)
    pretrain_seconds = time.perf_counter() - t0
    pretrained = {k: v.detach().clone() for k, v in net.state_dict().items()}
    save_checkpoint(out_dir / "pretext.safetensors", net, meta={"config": config})
    accs = {"pretrained": [], "random": []}
    t1 = time.perf_counter()
    for s in seeds:
        idx = few_labels(y, per_class, s)
        for start in ("pretrained", "random"):
            manual_seed(1000 + s)
            model = rotation_net_from_config(config)
            if start == "pretrained":
                model.load_state_dict(pretrained)
                model.reset_classifier()
            _finetune(model, X[idx], y[idx], fine, s)
            accs[start].append(_accuracy(model, X_test, y_test))
        say(
            progress,
            f"  seed {s}: {len(idx)} labels -> test accuracy pre-trained {accs['pretrained'][-1]:.4f}, "
            f"random start {accs['random'][-1]:.4f}",
        )
        with open(out_dir / "metrics.jsonl", "a") as f:
            f.write(
                json.dumps(
                    {
                        "stage": "transfer",
                        "seed": s,
                        "pretrained": accs["pretrained"][-1],
                        "random": accs["random"][-1],
                    }
                )
                + "\n"
            )
    finetune_seconds = time.perf_counter() - t1
    p, r = np.array(accs["pretrained"]), np.array(accs["random"])
    results = {
        "pretrained_accuracy_mean": float(p.mean()),
        "pretrained_accuracy_std": float(p.std(ddof=1)) if len(p) > 1 else 0.0,
        "random_accuracy_mean": float(r.mean()),
        "random_accuracy_std": float(r.std(ddof=1)) if len(r) > 1 else 0.0,
        "transfer_gain": float(p.mean() - r.mean()),
        "pretrained_wins_every_seed": bool(np.all(p > r)),
        "test_rotation_accuracy": rot_acc,
        "labels": per_class * 10,
        "seeds": len(seeds),
        "pretrain_seconds": round(pretrain_seconds, 1),
        "finetune_seconds": round(finetune_seconds, 1),
    }
    plt = pyplot()
    if plt is not None:
        fig, ax = plt.subplots(figsize=(4.5, 3.4))
        means, stds = (
            [p.mean(), r.mean()],
            [results["pretrained_accuracy_std"], results["random_accuracy_std"]],
        )
        ax.bar(
            ["rotation pre-trained", "random start"],
            means,
            yerr=stds,
            capsize=6,
            color=["tab:blue", "tab:grey"],
        )
        for i, (m, sd) in enumerate(zip(means, stds)):
            ax.text(i, m + sd + 0.002, f"{m:.4f}", ha="center", fontsize=9)
        ax.set_ylim(min(means) - 0.05, min(1.0, max(means) + 0.03))
        ax.set_ylabel("test accuracy")
        ax.set_title(f"{per_class * 10} labels, mean ± std over {len(seeds)} seeds", fontsize=9)
        fig.tight_layout()
        fig.savefig(out_dir / "transfer.png", dpi=110)
        plt.close(fig)
    say(
        progress,
        f"fine-tuned on {per_class * 10} labels: pre-trained {p.mean():.4f} "
        f"± {results['pretrained_accuracy_std']:.4f} vs random start {r.mean():.4f} "
        f"± {results['random_accuracy_std']:.4f} (gain {results['transfer_gain']:+.4f}); "
        f"pretext {pretrain_seconds:.0f} s, fine-tuning {finetune_seconds:.0f} s",
    )
    return results
