"""The supervised runner: the generic :class:`~gradus.train.Trainer` loop behind every recipe with
``runner = "supervised"`` (the default).

:func:`run_supervised` builds the model, data, optimizer and scheduler from the config
(:mod:`.build`), trains, evaluates on the test split and writes into ``out_dir``:
``checkpoint.safetensors`` + ``checkpoint.json``, ``metrics.jsonl``, ``metrics.csv``, ``results.json``,
``report.txt`` (per-class precision / recall / F1) and the plots ``curves.png``, ``confusion.png``,
``misclassified.png`` and ``first_layer.png`` (image data), ``decision_boundary.png`` (2-D inputs).

Data-parallel (``mpiexec -n N gradus train``, the process group initialised by the CLI): the model
is wrapped in ``DistributedDataParallel``, ``data.batch_size`` is the *global* batch (each rank
trains on ``batch_size / N`` of it, so N processes take the steps one process takes), and rank 0
alone prints, shows progress and writes files; every rank evaluates the whole test set with the
same weights, so every rank returns the same results (docs/distributed.md).
"""
from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ...data import DataLoader
from ...train import metrics as M
from ...train.callbacks import Callback, CSVLogger, EarlyStopping, JSONLLogger, ModelCheckpoint, ProgressBar
from ...train.checkpoint import atomic_write_text
from ...train.trainer import Trainer, evaluate
from .. import describe_target, target_reached
from ..datasets import DataBundle
from .build import build_data, build_model, build_optimizer, build_scheduler
from .common import count_params, dataset_inputs, dataset_targets, jsonable, predict_fn, print_target

__all__ = ["run_supervised", "write_plots"]


def _first_layer_weight(model: Any, info: Mapping[str, Any]) -> tuple[Any, tuple | None] | None:
    """The first weight that sees the input image: ``(out, prod(image))`` Linear or 4-D conv."""
    shape = info.get("image_shape")
    if shape is None:
        return None
    size = int(np.prod(shape))
    for name, p in model.named_parameters():
        if not name.endswith("weight"):
            continue
        if p.ndim == 2 and p.shape[1] == size:
            return p, tuple(shape)
        if p.ndim == 4:
            return p, None
        return None  # the first weight does not look at the image directly
    return None


def write_plots(out_dir: Path, history: list, bundle: DataBundle, model: Any, outputs: np.ndarray,
                targets: np.ndarray, title: str = "") -> list[Path]:
    """The run's PNGs (see the module docstring); returns the paths written."""
    try:
        from ...viz import plots
    except ImportError:  # matplotlib is an optional dependency
        print("matplotlib is not installed: no plots (pip install gradus[viz])", file=sys.stderr)
        return []
    written = []
    if history:
        written.append(plots.plot_curves(history, out_dir / "curves.png", title=title))
    classification = outputs.ndim == 2 and targets.dtype.kind in "iu"
    info = bundle.info
    names = info.get("classes")
    if classification:
        pred = M.predictions(outputs)
        cm = M.confusion_matrix(targets, pred, num_classes=max(bundle.num_classes, outputs.shape[1]))
        written.append(plots.plot_confusion_matrix(cm, names, out_dir / "confusion.png"))
        if info.get("image_shape") is not None:
            X = dataset_inputs(bundle.test)
            if X is not None:
                written.append(plots.plot_misclassified(X, targets, pred, out_dir / "misclassified.png",
                                                        image_shape=info["image_shape"], class_names=names))
    first = _first_layer_weight(model, info)
    if first is not None:
        written.append(plots.plot_first_layer(first[0], first[1], out_dir / "first_layer.png"))
    if tuple(bundle.input_shape) == (2,) and classification:
        X = dataset_inputs(bundle.train)
        y = dataset_targets(bundle.train)
        if X is not None and y is not None:
            written.append(plots.plot_decision_boundary(predict_fn(model), X, y,
                                                        out_dir / "decision_boundary.png"))
    return written


def run_supervised(config: Mapping[str, Any], out_dir: str | Path, *, progress: bool = True,
                   resume: str | Path | None = None, data_root: Any = None,
                   extra_callbacks: Sequence[Callback] = (), stream: Any = None) -> dict[str, Any]:
    """Train and evaluate a supervised recipe (see the module docstring for what is written).

    Args:
        resume: a checkpoint of this run to continue from (bit-identical in deterministic mode).
        data_root: overrides ``data.root`` (``--data DIR``).
        extra_callbacks: added to the trainer's callbacks.
        stream: where progress goes (default stderr); the summary goes to stdout.

    Returns:
        ``test_loss``, ``test_accuracy`` (and ``test_top5_accuracy``, ``test_macro_f1`` for
        classification), ``epochs``, ``steps``, ``train_seconds``, and the last epoch's metrics
        prefixed ``final_`` (``final_loss``, ``final_val_accuracy``, ...).
    """
    import gradus

    from ... import distributed as dist
    from ... import random as grandom

    config = json.loads(json.dumps(config))  # a plain, JSON-able copy (stored in checkpoints)
    world = dist.get_world_size() if dist.is_initialized() else 1
    primary = world == 1 or dist.get_rank() == 0  # the rank that prints and writes
    progress = progress and primary
    out_dir = Path(out_dir)
    if primary:
        out_dir.mkdir(parents=True, exist_ok=True)
    train_cfg = config["train"]
    seed = train_cfg.get("seed")
    seed = None if seed is None else int(seed)
    name = config["recipe"]["name"]

    # Seed before anything random happens: weight initialisation, dropout, data order.
    if seed is not None:
        grandom.manual_seed(seed)
    if world > 1 and not primary:
        dist.barrier()  # rank 0 builds the data first: a download happens once, into the shared cache
    bundle = build_data(config, root=data_root)
    if world > 1 and primary:
        dist.barrier()
    model = build_model(config)
    optimizer = build_optimizer(config, model)
    scheduler, interval = build_scheduler(config, optimizer)
    # data-parallel: rank 0's weights everywhere, gradients averaged (the optimizer holds the same
    # Parameter objects, so it is built on the plain model)
    net = dist.DistributedDataParallel(model) if world > 1 else model

    ckpt_path = out_dir / "checkpoint.safetensors"
    callbacks: list[Callback] = []
    if progress:
        callbacks.append(ProgressBar(stream=stream))
    es = train_cfg.get("early_stopping") or {}
    if int(es.get("patience") or 0) > 0:
        callbacks.append(EarlyStopping(monitor=es.get("monitor", "val_loss"), patience=int(es["patience"]),
                                       mode=es.get("mode", "auto"), min_delta=float(es.get("min_delta", 0.0)),
                                       restore_best_weights=bool(es.get("restore_best_weights", True)),
                                       verbose=progress))
    if primary:
        callbacks += [
            CSVLogger(out_dir / "metrics.csv"),
            JSONLLogger(out_dir / "metrics.jsonl"),
            ModelCheckpoint(ckpt_path, every_n_steps=int(train_cfg.get("checkpoint_every_n_steps") or 0)),
        ]
    callbacks += list(extra_callbacks)
    monitor = train_cfg.get("monitor") or "val_loss"
    trainer = Trainer(net, optimizer, train_cfg.get("loss", "cross_entropy"), scheduler=scheduler,
                      scheduler_interval=interval, callbacks=callbacks, l2=float(train_cfg.get("l2") or 0.0),
                      clip_grad_norm=float(train_cfg.get("clip_grad_norm") or 0.0), monitor=monitor,
                      seed=seed, config=config)
    if resume is not None:
        trainer.resume(resume)

    out = sys.stdout if primary else None
    n_val = len(bundle.val) if bundle.val is not None else 0
    opt_desc = ", ".join(f"{k}={v}" for k, v in config["optim"].items() if k != "name")
    batch = int(config["data"]["batch_size"])
    if out is not None:
        print(f"gradus {gradus.__version__}: recipe {name} -> {out_dir}", file=out)
        print(f"  model  {type(model).__name__} ({count_params(model):,} parameters)", file=out)
        print(f"  data   {config['data']['dataset']}: {len(bundle.train)} train / {n_val} val / "
              f"{len(bundle.test)} test, batch {batch}", file=out)
        if world > 1:
            print(f"  dist   {world} processes (MPI): global batch {batch} = {world} x {batch // world} "
                  "per rank", file=out)
        print(f"  optim  {config['optim']['name']}({opt_desc})"
              + (f", {type(scheduler).__name__} per {interval}" if scheduler is not None else "")
              + f", {train_cfg['epochs']} epoch{'s' if int(train_cfg['epochs']) != 1 else ''}, seed {seed}",
              file=out, flush=True)

    eval_batch = int(config["data"].get("eval_batch_size") or 256)
    t0 = time.perf_counter()
    history = trainer.fit(bundle.train, bundle.val, epochs=int(train_cfg["epochs"]),
                          batch_size=batch, eval_batch_size=eval_batch)
    train_seconds = time.perf_counter() - t0

    # the whole test set on every rank (not the trainer's shard): the same results everywhere
    test_loader = (trainer.make_loader(bundle.test, eval_batch, shuffle=False) if world == 1
                   else DataLoader(bundle.test, batch_size=eval_batch, shuffle=False))
    if world > 1:
        net.sync_buffers()  # rank 0's BatchNorm statistics: the ones the checkpoint holds
    test = evaluate(model, test_loader, trainer.loss_fn, return_outputs=True)
    outputs, targets = test.pop("outputs"), test.pop("targets")
    results: dict[str, Any] = {f"test_{k}": v for k, v in test.items()}
    report = None
    if outputs.ndim == 2 and targets.dtype.kind in "iu":
        cm = M.confusion_matrix(targets, outputs, num_classes=max(bundle.num_classes, outputs.shape[1]))
        scores = M.precision_recall_f1(cm)
        results["test_macro_f1"] = scores["macro_f1"]
        names = bundle.info.get("classes")
        report = M.classification_report(cm, names if names and len(names) == cm.shape[0] else None)
    results["epochs"] = trainer.epoch
    results["steps"] = trainer.global_step
    results["train_seconds"] = round(train_seconds, 3)
    if history:
        results.update({f"final_{k}": v for k, v in jsonable(history[-1]).items()
                        if k not in ("epoch", "step", "time")})

    if not primary:
        return results
    # The final checkpoint carries the test metrics too (gradus eval recomputes them).
    trainer.save_checkpoint(ckpt_path, extra={"results": jsonable(results)})
    written = [ckpt_path, ckpt_path.with_suffix(".json"), out_dir / "metrics.jsonl", out_dir / "metrics.csv"]
    if train_cfg.get("plots", True):
        title = f"{name}: {type(model).__name__}"
        written += write_plots(out_dir, history, bundle, model, outputs, targets, title=title)
    reached = target_reached(config, results)
    summary = {"recipe": name, "results": jsonable(results), "target": describe_target(config) or None,
               "target_reached": reached, "checkpoint": str(ckpt_path)}
    atomic_write_text(out_dir / "results.json", json.dumps(summary, indent=1, allow_nan=True) + "\n")
    written.append(out_dir / "results.json")
    if report is not None:
        atomic_write_text(out_dir / "report.txt", report + "\n")
        written.append(out_dir / "report.txt")

    shown = [k for k in ("test_loss", "test_accuracy", "test_top5_accuracy", "test_macro_f1") if k in results]
    print("test   " + "  ".join(f"{k[5:]} {results[k]:.4f}" for k in shown)
          + f"   ({trainer.epoch} epochs, {train_seconds:.1f} s)", file=out)
    print_target(config, results, out)
    print("wrote  " + "\n       ".join(str(p) for p in written), file=out, flush=True)
    return results
