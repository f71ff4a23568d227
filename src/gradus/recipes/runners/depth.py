"""Recipe ``depth-plain-vs-residual``: an experiment with the CNN zoo that is more than one training run.

``depth_plain_vs_residual`` is the lecture's version of He et al. 2016, Fig. 1 / Fig. 6: CIFAR-style
networks of several depths (6n+2 layers), each trained twice on the SAME data, in the SAME order, from
the same seed, with the same optimiser and budget: once "plain" (no shortcuts) and once residual
(identity shortcuts, option A: the two twins have exactly the same parameters). Expected shape of
the result (the degradation problem): the deeper plain nets reach a HIGHER training error than the
shallower ones (it is an optimisation difficulty, not overfitting: the training error is what
suffers), while the deeper residual nets reach a lower or equal one.

Run it with ``gradus train depth-plain-vs-residual`` (a few minutes on a CPU with the packaged
budget); ``--set experiment.depths=[8,14] --set data.subset=256 --set train.epochs=1`` is a quick
smoke run.
"""
from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

import gradus

from .common import share_out, world_and_rank

__all__ = ["depth_plain_vs_residual", "plot_depth_curves"]


def _net_name(residual: bool, depth: int) -> str:
    return f"{'resnet' if residual else 'plain'}{depth}"


def _error_rate(model, loader) -> tuple[float, float]:
    """(error rate, mean cross-entropy) of ``model`` on ``loader``, in eval mode."""
    from ... import functional as F

    model.eval()
    wrong, total, loss_sum = 0, 0, 0.0
    with gradus.no_grad():
        for X, y in loader:
            out = model(X)
            y_np = y.numpy()
            wrong += int((out.numpy().argmax(1) != y_np).sum())
            loss_sum += float(F.cross_entropy(out, y, reduction="sum").item())
            total += len(y_np)
    return wrong / max(total, 1), loss_sum / max(total, 1)


def depth_plain_vs_residual(config: Mapping[str, Any], out_dir: Path, *, progress: bool = True) -> dict:
    """Train plain and residual CIFAR-style nets of ``experiment.depths`` layers on the same data.

    Config: ``[experiment]`` depths (each 6n+2), width (first-stage channels; the paper: 16),
    shortcut ("A" / "B"), log_every (steps between points of the per-step training-error curve),
    schedule ("cosine": the optimiser's lr decays to 0 along a cosine over all steps | "constant");
    ``[data]`` dataset + builder keywords + batch_size; ``[optim]`` name + keywords; ``[train]``
    epochs, seed.

    Writes ``training_error.png`` (the paper's Fig. 6 layout: plain left, residual right, training
    error thin, test error bold dashed), ``history.json`` (every curve) and ``results.json``; returns
    per-network final errors plus three summary numbers:

    * ``plain_degradation`` = train error of the deepest plain net - that of the shallowest (> 0:
      deeper plain nets train worse);
    * ``residual_gain`` = train error of the shallowest residual net - that of the deepest (>= 0:
      deeper residual nets train at least as well);
    * ``residual_advantage`` = train error of the deepest plain net - that of the deepest residual one.
    """
    from ... import functional as F
    from ... import optim
    from ...data import DataLoader
    from ...models.resnet import resnet_cifar
    from ..datasets import build_dataset

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    exp = dict(config.get("experiment") or {})
    depths = [int(d) for d in exp.get("depths", [8, 20, 32])]
    width = int(exp.get("width", 16))
    shortcut = str(exp.get("shortcut", "A"))
    log_every = int(exp.get("log_every", 10))
    schedule = str(exp.get("schedule", "cosine"))
    if schedule not in ("cosine", "constant"):
        raise ValueError(f"experiment.schedule must be 'cosine' or 'constant', got {schedule!r}")
    data_cfg = dict(config["data"])
    dataset = data_cfg.pop("dataset")
    batch_size = int(data_cfg.pop("batch_size", 64))
    eval_batch_size = int(data_cfg.pop("eval_batch_size", 256))
    root = data_cfg.pop("root", None)
    data_cfg.pop("val_fraction", None)
    optim_cfg = dict(config["optim"])
    optim_name = optim_cfg.pop("name")
    optim_kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in optim_cfg.items()}
    train_cfg = config.get("train") or {}
    epochs = int(train_cfg.get("epochs", 5))
    seed = int(train_cfg.get("seed", 0))
    log = sys.stdout if progress else None

    bundle = build_dataset(dataset, root=root, **data_cfg)
    in_channels = bundle.input_shape[0]
    train_eval = DataLoader(bundle.train, batch_size=eval_batch_size)
    test_loader = DataLoader(bundle.test, batch_size=eval_batch_size)
    if log:
        print(f"depth-plain-vs-residual: {dataset} {len(bundle.train)} train / {len(bundle.test)} test, "
              f"depths {depths}, width {width}, shortcut {shortcut}, {epochs} epochs of batch {batch_size}, "
              f"{optim_name}({', '.join(f'{k}={v}' for k, v in optim_kwargs.items())})", file=log, flush=True)

    # the networks are independent, each seeded: shared out over the ranks and their curves gathered
    # (share_out), so rank 0 reports what one process would
    world, rank = world_and_rank()
    if rank:
        log = None
    jobs = [(residual, depth) for residual in (False, True) for depth in depths]
    def train_net(job: tuple[bool, int]) -> dict[str, Any]:
        residual, depth = job
        name = _net_name(residual, depth)
        gradus.manual_seed(seed)  # same initial draw for every twin
        model = resnet_cifar(depth, num_classes=bundle.num_classes, residual=residual, width=width,
                             shortcut=shortcut, in_channels=in_channels)
        opt = getattr(optim, optim_name)(model.parameters(), **optim_kwargs)
        base_lrs = [g["lr"] for g in opt.param_groups]
        # the same shuffling for every network: a fresh generator with the same seed
        loader = DataLoader(bundle.train, batch_size=batch_size, shuffle=True,
                            generator=np.random.default_rng(seed))
        total_steps = epochs * len(loader)
        rec = {"depth": depth, "residual": residual,
               "params": int(sum(p.numel() for p in model.parameters())),
               "epoch": [], "epoch_step": [], "test_error": [], "test_loss": [],
               "running_train_error": [], "step": [], "step_train_error": []}
        step, t0 = 0, time.perf_counter()
        for epoch in range(1, epochs + 1):
            model.train()
            wrong, seen, window_wrong, window_seen = 0, 0, 0, 0
            for X, y in loader:
                if schedule == "cosine":  # lr_t = lr * (1 + cos(pi t / T)) / 2, every step
                    for g, lr0 in zip(opt.param_groups, base_lrs):
                        g["lr"] = lr0 * 0.5 * (1.0 + math.cos(math.pi * step / total_steps))
                out = model(X)                       # (B, num_classes)
                loss = F.cross_entropy(out, y)
                opt.zero_grad()
                loss.backward()
                opt.step()
                miss = int((out.numpy().argmax(1) != y.numpy()).sum())
                wrong += miss
                seen += len(y)
                window_wrong += miss
                window_seen += len(y)
                step += 1
                if step % log_every == 0:  # the paper's thin curves: error on the batches being trained
                    rec["step"].append(step)
                    rec["step_train_error"].append(window_wrong / window_seen)
                    window_wrong = window_seen = 0
            test_err, test_loss = _error_rate(model, test_loader)
            rec["epoch"].append(epoch)
            rec["epoch_step"].append(step)
            rec["running_train_error"].append(wrong / max(seen, 1))  # train mode, weights moving
            rec["test_error"].append(test_err)
            rec["test_loss"].append(test_loss)
            if log:
                print(f"  {name:>10s} epoch {epoch:3d}  running train error {wrong / max(seen, 1):.4f}  "
                      f"test error {test_err:.4f}  ({time.perf_counter() - t0:.0f} s)", file=log,
                      flush=True)
        # the final training error: the whole training set, eval mode (what the summary compares)
        rec["train_error"], rec["train_loss"] = _error_rate(model, train_eval)
        rec["seconds"] = time.perf_counter() - t0
        return rec

    history = dict(zip((_net_name(r, d) for r, d in jobs), share_out(jobs, train_net)))

    results: dict[str, float] = {}
    for name, rec in history.items():
        results[f"train_error_{name}"] = rec["train_error"]
        results[f"test_error_{name}"] = rec["test_error"][-1]
    shallow, deep = min(depths), max(depths)
    plain = {d: history[_net_name(False, d)]["train_error"] for d in depths}
    resid = {d: history[_net_name(True, d)]["train_error"] for d in depths}
    results["plain_degradation"] = plain[deep] - plain[shallow]
    results["residual_gain"] = resid[shallow] - resid[deep]
    results["residual_advantage"] = plain[deep] - resid[deep]
    results["world_size"] = world
    if rank:
        return results   # rank 0 writes

    plot_depth_curves(history, out_dir / "training_error.png",
                      title=f"{dataset}: {len(bundle.train)} training images, {epochs} epochs")
    (out_dir / "history.json").write_text(json.dumps(history, indent=1) + "\n", encoding="utf-8")
    (out_dir / "results.json").write_text(json.dumps(
        {"recipe": (config.get("recipe") or {}).get("name", "depth-plain-vs-residual"),
         "results": results}, indent=1) + "\n", encoding="utf-8")
    if log:
        print(f"  deeper plain nets: train error {plain[shallow]:.4f} ({shallow} layers) -> "
              f"{plain[deep]:.4f} ({deep} layers); deeper residual nets: {resid[shallow]:.4f} -> "
              f"{resid[deep]:.4f}", file=log)
        print(f"  wrote {out_dir / 'training_error.png'}", file=log, flush=True)
    return results


def plot_depth_curves(history: Mapping[str, Mapping[str, Any]], path, title: str = "") -> Path:
    """He et al.'s Fig. 6 layout: plain nets left, residual nets right, one colour per depth, against
    iterations: thin lines = training error on the mini-batches being trained (averaged over
    ``log_every`` steps), bold dashed = test error at the end of each epoch. Returns ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    depths = sorted({int(r["depth"]) for r in history.values()})
    cmap = plt.get_cmap("viridis")
    colours = {d: cmap(i / max(len(depths) - 1, 1) * 0.85) for i, d in enumerate(depths)}
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, residual in zip(axes, (False, True)):
        for d in depths:
            name = _net_name(residual, d)
            rec = history.get(name)
            if rec is None:
                continue
            if rec["step"]:
                ax.plot(rec["step"], np.asarray(rec["step_train_error"]) * 100, "-", color=colours[d], lw=0.9,
                        label=f"{name} train")
            ax.plot(rec["epoch_step"], np.asarray(rec["test_error"]) * 100, "--o", color=colours[d], lw=2,
                    ms=3, label=f"{name} test")
        ax.set_title("plain" if not residual else "residual (identity shortcuts)")
        ax.set_xlabel("iteration")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    axes[0].set_ylabel("error (%)")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


# `mpiexec -n N gradus train depth-plain-vs-residual` shares the networks out over the ranks
depth_plain_vs_residual.data_parallel = True
