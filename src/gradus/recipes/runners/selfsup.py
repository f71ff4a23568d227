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

Under ``mpiexec -n N gradus train`` the pretext training is data-parallel (DDP, SyncBatchNorm: one
process' steps) and the 2 x seeds fine-tunings are shared out over the ranks; rank 0 writes.
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
from .common import (
    MethodModule,
    batch_rows,
    mnist_arrays,
    pyplot,
    say,
    section,
    share_out,
    sum_over_ranks,
    world_and_rank,
)

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
    """The pretext task: minimise the rotation cross-entropy; the test rotation accuracy.

    Under mpiexec the network's batch norms become ``SyncBatchNorm`` and its ``rotation_logits`` run in
    ``DistributedDataParallel``: every rank draws the same shuffles and turns (one seed) and trains on
    its rows of each global batch (:func:`~.common.batch_rows`), so N processes take one process'
    steps (a last batch with fewer images than ranks is skipped); rank 0 alone evaluates and logs."""
    from ... import distributed as dist

    world, rank = world_and_rank()
    rng = np.random.default_rng(seed)
    opt = _optimizer(cfg, model)
    epochs, bs = int(cfg.get("epochs", 5)), int(cfg.get("batch_size", 128))
    model.classifier.requires_grad_(False)   # unused by the pretext task (and DDP wants every gradient)
    if world > 1:   # global-batch statistics: the same steps as one process
        dist.SyncBatchNorm.convert_sync_batchnorm(model)
        logits_of = dist.DistributedDataParallel(MethodModule(model, "rotation_logits"))
    else:
        logits_of = model.rotation_logits
    r_test = np.random.default_rng(seed + 99).integers(0, 4, len(X_test))
    Xr_test = np.stack([np.rot90(x, k, axes=(1, 2)) for x, k in zip(X_test, r_test)])
    acc = 0.0
    for epoch in range(1, epochs + 1):
        t_ep, total, steps = time.perf_counter(), 0.0, 0
        order = rng.permutation(len(X))
        model.train()
        for i in range(0, len(X), bs):
            xb = X[order[i : i + bs]]
            r = rng.integers(0, 4, len(xb))          # the turns of the whole global batch
            if len(xb) < world:   # a last batch of fewer images than ranks: skipped by every rank alike
                continue
            lo, hi, scale = batch_rows(len(xb))
            xb, r_mine = xb[lo:hi], r[lo:hi]
            xr = np.stack([np.rot90(x, k, axes=(1, 2)) for x, k in zip(xb, r_mine)])  # one turn per image
            loss = cross_entropy(logits_of(tensor(xr)), tensor(r_mine))
            opt.zero_grad()
            (loss if scale == 1 else loss * scale).backward()
            opt.step()
            total, steps = total + float(loss.item()) * scale / world, steps + 1
        total = sum_over_ranks(total)[0]   # the sum over the steps of each global batch's mean loss
        if rank:
            continue   # rank 0 evaluates and logs
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
    model.classifier.requires_grad_(True)
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
    world, rank = world_and_rank()
    progress = progress and rank == 0
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
    if rank == 0:
        save_checkpoint(out_dir / "pretext.safetensors", net, meta={"config": config})
    # the fine-tunings are independent jobs, each seeded on its own: shared out over the ranks
    jobs = [(s, start) for s in seeds for start in ("pretrained", "random")]

    def finetuned_accuracy(job):
        s, start = job
        idx = few_labels(y, per_class, s)
        manual_seed(1000 + s)
        model = rotation_net_from_config(config)
        if start == "pretrained":
            model.load_state_dict(pretrained)
            model.reset_classifier()
        _finetune(model, X[idx], y[idx], fine, s)
        return _accuracy(model, X_test, y_test)

    t1 = time.perf_counter()
    acc_of = share_out(jobs, finetuned_accuracy)
    accs = {start: [float(a) for a, (_, st) in zip(acc_of, jobs) if st == start]
            for start in ("pretrained", "random")}
    for k, s in enumerate(seeds):
        say(
            progress,
            f"  seed {s}: {per_class * 10} labels -> test accuracy pre-trained {accs['pretrained'][k]:.4f}, "
            f"random start {accs['random'][k]:.4f}",
        )
        if rank == 0:
            with open(out_dir / "metrics.jsonl", "a") as f:
                f.write(json.dumps({"stage": "transfer", "seed": s, "pretrained": accs["pretrained"][k],
                                    "random": accs["random"][k]}) + "\n")
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
        "world_size": world,
    }
    plt = pyplot() if rank == 0 else None
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


run_selfsup_transfer.data_parallel = True    # `mpiexec -n N gradus train` may run it (the module docstring)
