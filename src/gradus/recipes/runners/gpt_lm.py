"""Recipe ``shakespeare-char-gpt``: a character-level GPT (decoder-only Transformer) on Tiny
Shakespeare, trained the way nanoGPT trains its "baby GPT": random windows of ``block_size``
characters, next-character cross-entropy at every position, AdamW with weight decay on the matrices
only, linear warm-up then cosine decay of the learning rate per iteration, gradient-norm clipping.

The validation loss reported (the target) is exact, not an estimate: the mean next-character loss
over the whole validation split (the same last 10% as ``shakespeare-char-lstm``), cut into windows of
``block_size`` characters; every character is predicted once. During training a cheaper estimate on
``train.eval_batches`` random windows is logged every ``train.eval_interval`` iterations. The
checkpoint stores the vocabulary, so ``gradus sample CHECKPOINT --prompt "ROMEO:"`` prints text.

**Data-parallel** (``mpiexec -n N gradus train shakespeare-char-gpt``): every rank draws the same global
batch of ``data.batch_size`` windows (one seed) and trains on its own ``batch_size / N`` rows of it in a
``DistributedDataParallel`` model, whose averaged gradient is the gradient of the global batch's mean
loss; so N processes take the same steps as one process with the same batch (up to float summation
order; dropout masks are drawn per rank). The validation windows are split across the ranks and their
loss sums all-reduced; rank 0 alone prints and writes.
"""
from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from ... import distributed as dist
from ... import manual_seed, no_grad, tensor
from ...data.datasets import TinyShakespeare
from ...models.gpt import GPT, GPTConfig
from ...train.checkpoint import atomic_write_text, save_checkpoint
from .. import optimizer_class, scheduler_factory
from .common import rank_shard, say, section, sum_over_ranks, update, world_and_rank

__all__ = ["run_char_gpt", "char_gpt_from_config", "random_windows", "exact_loss"]


def char_gpt_from_config(config: dict) -> GPT:
    """A GPT of ``[model]`` (the keys of :class:`~gradus.models.gpt.GPTConfig`; ``vocab_size`` is set
    from the data by the runner)."""
    m = {k: v for k, v in section(config, "model").items() if k != "factory"}
    return GPT(GPTConfig(**m))


def random_windows(ids: np.ndarray, batch_size: int, block_size: int, rng: np.random.Generator):
    """``(x, y)``: ``batch_size`` windows of ``block_size`` ids at random offsets, and the same windows
    shifted by one (the next characters), (B, T) int64 each."""
    start = rng.integers(0, len(ids) - block_size - 1, batch_size)
    rows = start[:, None] + np.arange(block_size + 1)
    w = ids[rows].astype(np.int64)
    return w[:, :-1], w[:, 1:]


def exact_loss(model: GPT, ids: np.ndarray, block_size: int, batch_size: int = 32) -> float:
    """Mean next-id cross-entropy (nats) over ``ids``: consecutive windows of ``block_size`` inputs,
    each position predicting the id after it; every id but the first is predicted exactly once.
    Under ``mpiexec`` each rank takes every N-th batch of windows and the sums are all-reduced."""
    n = (len(ids) - 1) // block_size
    x = ids[:n * block_size].reshape(n, block_size).astype(np.int64)
    y = ids[1:n * block_size + 1].reshape(n, block_size).astype(np.int64)
    world, rank = world_and_rank()
    model.eval()
    total = 0.0
    with no_grad():
        for i in range(rank * batch_size, n, world * batch_size):
            _, loss = model(tensor(x[i:i + batch_size]), tensor(y[i:i + batch_size]))
            total += float(loss.item()) * len(x[i:i + batch_size])
    model.train()
    return sum_over_ranks(total)[0] / n


def run_char_gpt(config: dict, out_dir: Path, *, progress: bool = True) -> dict[str, Any]:
    data, train, smp = section(config, "data"), section(config, "train"), section(config, "sample")
    world, rank = world_and_rank()
    primary = rank == 0
    progress = progress and primary
    seed = int(train.get("seed", 0))
    vf = float(data.get("val_fraction", 0.1))
    tr = TinyShakespeare(root=data.get("root"), split="train", val_fraction=vf)
    va = TinyShakespeare(root=data.get("root"), split="val", val_fraction=vf)
    train_ids, val_ids = np.asarray(tr.data), np.asarray(va.data)
    if data.get("max_chars"):
        n = int(data["max_chars"])
        train_ids, val_ids = train_ids[:n], val_ids[:max(n // 9, 4096)]
    itos = list(tr.vocab.itos)
    config = json.loads(json.dumps(config))
    config["model"]["vocab_size"] = len(itos)
    config["vocab"] = {"itos": itos}
    block = int(config["model"].get("block_size", 128))
    B = int(data.get("batch_size", 32))
    iters, eval_every = int(train.get("max_iters", 3000)), int(train.get("eval_interval", 250))

    b, lo = rank_shard(B, f"{config['recipe']['name']}: data.batch_size")   # my rows of each global batch
    manual_seed(seed)
    model = char_gpt_from_config(config)
    # rank 0's weights everywhere, gradients averaged; the optimizer holds the plain model's Parameters
    net = dist.DistributedDataParallel(model) if world > 1 else model
    opt_cfg = section(config, "optim")
    name, wd = opt_cfg.pop("name", "AdamW"), float(opt_cfg.pop("weight_decay", 0.1))
    kw = {k: tuple(v) if isinstance(v, list) else v for k, v in opt_cfg.items()}
    # weight decay on the matrices (Linear weights, embeddings), not on biases and LayerNorm gains
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    optimizer = optimizer_class(name)([{"params": decay, "weight_decay": wd},
                                       {"params": no_decay, "weight_decay": 0.0}], **kw)
    sch = section(config, "scheduler")
    scheduler = scheduler_factory("warmup_cosine")(
        optimizer, warmup_steps=int(sch.get("warmup_steps", 100)), total_steps=iters,
        min_lr=float(sch.get("min_lr", 1e-4)))
    clip = float(train.get("clip_grad_norm") or 0.0)
    mc = model.config
    say(progress, f"  model  GPT {mc.n_layer} layers, d {mc.n_embd}, {mc.n_head} heads, context {block} "
        f"({model.num_parameters():,} parameters), vocab {len(itos)}")
    say(progress, f"  data   tinyshakespeare: {len(train_ids):,} train / {len(val_ids):,} val characters; "
        f"{iters} iterations of {B} x {block} characters")
    if world > 1:
        say(progress, f"  dist   {world} processes (MPI): global batch {B} = {world} x {b} windows per rank")
    if primary:
        out_dir.mkdir(parents=True, exist_ok=True)
    rng, erng = np.random.default_rng(seed), np.random.default_rng(seed + 1)
    t0, t_log, running = time.perf_counter(), time.perf_counter(), []
    for it in range(1, iters + 1):
        x, y = random_windows(train_ids, B, block, rng)             # the global batch, same on every rank
        _, loss = net(tensor(x[lo:lo + b]), tensor(y[lo:lo + b]))
        update(loss, optimizer, model.parameters(), clip, scheduler)
        running.append(float(loss.item()))
        if it % eval_every == 0 or it == iters:
            model.eval()
            with no_grad():
                est = np.mean([float(model(tensor(xv[lo:lo + b]), tensor(yv[lo:lo + b]))[1].item())
                               for xv, yv in (random_windows(val_ids, B, block, erng)
                                              for _ in range(int(train.get("eval_batches", 8))))])
            model.train()
            mean_loss, est = (v / world for v in sum_over_ranks(np.mean(running), est))
            logs = {"iter": it, "loss": float(mean_loss), "val_loss_estimate": float(est),
                    "lr": float(optimizer.param_groups[0]["lr"]),
                    "seconds": round(time.perf_counter() - t0, 1)}
            running = []
            if primary:
                with open(out_dir / "metrics.jsonl", "a") as f:
                    f.write(json.dumps(logs) + "\n")
                save_checkpoint(out_dir / "checkpoint.safetensors", model,
                                meta={"config": config, "iter": it, "world_size": world})
            say(progress, f"  iter {it}/{iters}: train loss {logs['loss']:.3f}, val loss (estimate) "
                f"{est:.3f}, lr {logs['lr']:.2e}, {(time.perf_counter() - t_log) / eval_every:.2f} s/iter")
            t_log = time.perf_counter()
    train_seconds = time.perf_counter() - t0
    val_loss = exact_loss(model, val_ids, block)
    if primary:
        save_checkpoint(out_dir / "checkpoint.safetensors", model,
                        meta={"config": config, "iter": iters, "world_size": world})
    results = {"val_loss": val_loss, "val_bpc": val_loss / math.log(2), "iterations": iters,
               "parameters": model.num_parameters(), "train_seconds": round(train_seconds, 1),
               "chars_per_second": round(iters * B * block / train_seconds, 1), "world_size": world}
    if not primary:                  # rank 0 writes the sample; every rank returns the same metrics
        return results
    prompt = str(smp.get("prompt", "ROMEO:"))
    ids = model.generate(np.array([tr.vocab.encode(prompt)]), int(smp.get("length", 500)),
                         float(smp.get("temperature", 0.8)), int(smp["top_k"]) if smp.get("top_k") else None,
                         generator=np.random.default_rng(seed))
    text = "".join(itos[i] for i in ids.numpy()[0].tolist())
    atomic_write_text(out_dir / "sample.txt", text + "\n")
    say(progress, f"val loss {val_loss:.4f} nats/char ({results['val_bpc']:.3f} bits) over the whole "
        f"validation split; {train_seconds:.0f} s\n--- sample ---\n{text}\n---")
    return results


run_char_gpt.data_parallel = True    # `mpiexec -n N gradus train` may run it (the docstring)
