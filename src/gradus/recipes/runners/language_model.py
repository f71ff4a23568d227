"""Recipe runner for character language models (``shakespeare-char-lstm``): truncated BPTT over
contiguous streams, validation loss in nats per character, and a text sample at the end.

The training text is cut into ``data.batch_size`` contiguous streams (``batchify``); batch j holds
steps [j*k, (j+1)*k) of every stream (k = ``data.bptt``), so ``Trainer(stateful=True)`` carries the
hidden state from batch to batch (detached: gradients flow through k steps at most). The loss is the
mean cross-entropy over every position: -1/N sum_t log p(x_t | x_<t), in nats per character.

**Data-parallel** (``mpiexec -n N gradus train shakespeare-char-lstm``): rank r trains streams
[r*B/N, (r+1)*B/N) of the B (``data.batch_size`` is the global number of streams) in a
``DistributedDataParallel`` model and carries their hidden states; the averaged gradient is that of
all B streams, so N processes take one process' steps. The validation streams are split the same way
(when ``data.val_batch_size`` divides by N) and the losses all-reduced by the Trainer; rank 0 alone
prints and writes.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from ...data import DataLoader, TensorDataset
from ...data.datasets import TinyShakespeare
from ...functional import cross_entropy
from ...models.char_rnn import CharRNN, CharRNNConfig
from ...tensor import Tensor
from ...train import CSVLogger, JSONLLogger, ModelCheckpoint, ProgressBar, Trainer
from ...train.checkpoint import atomic_write_text
from .build import build_optimizer, build_scheduler
from .common import rank_shard, section, world_and_rank

__all__ = ["run_char_lm", "lm_loss", "stream_dataset", "char_lm_from_config"]


def lm_loss(logits: Tensor, target: Tensor) -> Tensor:
    """Mean next-character cross-entropy: logits (B, T, V), target (B, T) -> nats per character."""
    return cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))


def stream_dataset(ids: np.ndarray, batch_size: int, bptt: int) -> TensorDataset:
    """(x, y) rows ordered so that a sequential DataLoader of ``batch_size`` yields consecutive
    windows of the same ``batch_size`` streams: batch j = steps [j*bptt, (j+1)*bptt) of every stream."""
    T = len(ids) // batch_size
    streams = np.asarray(ids[: T * batch_size], dtype=np.int64).reshape(batch_size, T)
    n = (T - 1) // bptt
    if n < 1:
        raise ValueError(f"language model: {len(ids)} characters are too few for {batch_size} streams of "
                         f"windows of {bptt} steps")
    x = np.stack([streams[:, j * bptt:(j + 1) * bptt] for j in range(n)])           # (n, B, bptt)
    y = np.stack([streams[:, j * bptt + 1:(j + 1) * bptt + 1] for j in range(n)])
    return TensorDataset(Tensor(x.reshape(n * batch_size, bptt)), Tensor(y.reshape(n * batch_size, bptt)))


def _rank_streams(ds: TensorDataset, n_streams: int, world: int, rank: int) -> TensorDataset:
    """The rows of a ``stream_dataset`` of ``n_streams`` streams that belong to ``rank``'s streams
    [rank*n/world, (rank+1)*n/world), in the same order (batch j = window j of those streams)."""
    per = n_streams // world
    rows = np.arange(len(ds))
    mine = rows[(rows % n_streams) // per == rank]
    x, y = ds.arrays
    return TensorDataset(Tensor(x[mine]), Tensor(y[mine]))


def char_lm_from_config(config: dict) -> CharRNN:
    """The model of a ``shakespeare-char-*`` recipe (``model.vocab_size`` filled in by the runner)."""
    m = {k: v for k, v in section(config, "model").items() if k != "factory"}
    return CharRNN(CharRNNConfig(**m))


def run_char_lm(config: dict, out_dir: Path, *, progress: bool = True) -> dict[str, Any]:
    """Train a character LM. Keys: ``model.*`` (``CharRNNConfig``), ``data.batch_size``, ``data.bptt``,
    ``data.val_fraction``, ``data.root``, ``data.max_chars`` (a prefix, for quick runs), ``optim.*``,
    ``scheduler.*``, ``train.epochs``/``seed``/``clip_grad_norm``, ``sample.prompt``/``length``/
    ``temperature``/``top_k``. Returns ``val_loss`` (nats/char), ``train_loss``, ``val_bpc``, timing."""
    import gradus

    from ... import distributed as dist

    data, train, smp = section(config, "data"), section(config, "train"), section(config, "sample")
    world, rank = world_and_rank()
    primary = rank == 0
    progress = progress and primary
    seed = int(train.get("seed", 0))
    root = data.get("root")
    B, bptt = int(data.get("batch_size", 64)), int(data.get("bptt", 100))
    val_B = int(data.get("val_batch_size", 16))
    tr = TinyShakespeare(root=root, split="train", val_fraction=float(data.get("val_fraction", 0.1)))
    va = TinyShakespeare(root=root, split="val", val_fraction=float(data.get("val_fraction", 0.1)))
    train_ids, val_ids = tr.data, va.data
    if data.get("max_chars"):
        train_ids = train_ids[: int(data["max_chars"])]
        val_ids = val_ids[: max(int(data["max_chars"]) // 9, (bptt + 1) * val_B + val_B)]
    itos = list(tr.vocab.itos)
    config = json.loads(json.dumps(config))
    config["model"]["vocab_size"] = len(itos)
    config["vocab"] = {"itos": itos}             # stored in every checkpoint: `gradus sample` needs it

    gradus.manual_seed(seed)
    model = char_lm_from_config(config)
    optimizer = build_optimizer(config, model)
    scheduler, interval = build_scheduler(config, optimizer)
    train_ds = stream_dataset(train_ids, B, bptt)
    val_ds = stream_dataset(val_ids, val_B, bptt)
    B_all, val_B_all = B, val_B
    if world > 1:     # this rank's streams: rows whose stream index (row % B) is in [lo, lo + B/N)
        per, _ = rank_shard(B, f"{config['recipe']['name']}: data.batch_size (the number of streams)")
        train_ds, B = _rank_streams(train_ds, B, world, rank), per
        if val_B % world == 0:
            val_ds, val_B = _rank_streams(val_ds, val_B, world, rank), val_B // world
    callbacks = []
    if primary:
        out_dir.mkdir(parents=True, exist_ok=True)
        callbacks = [JSONLLogger(out_dir / "metrics.jsonl"), CSVLogger(out_dir / "metrics.csv"),
                     ModelCheckpoint(out_dir / "checkpoint.safetensors",
                                     every_n_steps=int(train.get("checkpoint_every_n_steps") or 0))]
    if progress:
        callbacks.append(ProgressBar())
    net = dist.DistributedDataParallel(model) if world > 1 else model
    trainer = Trainer(net, optimizer, lm_loss, scheduler=scheduler, scheduler_interval=interval,
                      callbacks=callbacks, clip_grad_norm=float(train.get("clip_grad_norm") or 0.0),
                      seed=seed, config=config, stateful=True)
    n_params = sum(p.numel() for p in model.parameters())
    say = print if primary else (lambda *a, **k: None)
    say(f"  model  CharRNN {model.config.cell} {model.config.num_layers}x{model.config.hidden_size} "
          f"({n_params:,} parameters), vocab {len(itos)}")
    say(f"  data   tinyshakespeare: {len(train_ids):,} train / {len(val_ids):,} val characters, "
        f"{B_all} streams x {bptt} steps ({len(train_ds) // B} batches per epoch)", flush=True)
    if world > 1:
        say(f"  dist   {world} processes (MPI): {B_all} streams = {world} x {B} per rank (validation "
            f"{val_B_all} streams{'' if val_B != val_B_all else ', on every rank'})", flush=True)
    t0 = time.perf_counter()
    train_loader = DataLoader(train_ds, batch_size=B, shuffle=False)
    val_loader = DataLoader(val_ds, batch_size=val_B, shuffle=False)
    history = trainer.fit(train_loader, val_loader, epochs=int(train.get("epochs", 1)))
    seconds = time.perf_counter() - t0
    last = history[-1]
    chars = trainer.global_step * B_all * bptt
    results = {"val_loss": float(last["val_loss"]), "train_loss": float(last["loss"]),
               "val_bpc": float(last["val_loss"]) / np.log(2), "train_seconds": round(seconds, 1),
               "chars_per_second": round(chars / seconds, 1), "epochs": int(train.get("epochs", 1)),
               "world_size": world}
    if not primary:                  # rank 0 writes the sample; every rank returns the same metrics
        return results
    prompt = str(smp.get("prompt", "ROMEO:"))
    text = prompt + "".join(itos[i] for i in model.generate(
        tr.vocab.encode(prompt), int(smp.get("length", 400)), float(smp.get("temperature", 0.8)),
        int(smp["top_k"]) if smp.get("top_k") else None, generator=np.random.default_rng(seed)))
    atomic_write_text(out_dir / "sample.txt", text + "\n")
    say(f"val loss {results['val_loss']:.4f} nats/char ({results['val_bpc']:.3f} bits), "
          f"{seconds:.0f} s, {results['chars_per_second']:,.0f} chars/s\n--- sample ---\n{text}\n---")
    return results


run_char_lm.data_parallel = True    # `mpiexec -n N gradus train` may run it (the docstring)
