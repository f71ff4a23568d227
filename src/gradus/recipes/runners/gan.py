"""Recipes ``mnist-gan`` (fully connected) and ``mnist-dcgan`` (DCGAN): the adversarial game on MNIST
scaled to [-1, 1], one discriminator and one generator update per batch with their own Adam optimizers
(:func:`gradus.models.gan.gan_step`), a grid of samples from a fixed noise batch after every epoch, and
the quality of the final generator measured by a digit classifier:

- a LeNet-5 judge, trained by the CNN recipe ``mnist-lenet5`` (``[eval] classifier``: the checkpoint of
  such a run; empty: the runner trains one for ``[eval] classifier_epochs`` epochs first, in
  ``out_dir/judge``), labels ``[eval] samples`` generated digits;
- ``mean_confidence``: the mean top-class probability (are the digits recognisable?);
- ``class_min_fraction`` / ``class_max_fraction``: the share of the rarest and the commonest class
  (mode coverage: 10% each for a perfect generator; collapse shows as a class near 0);
- ``inception_score``: the classifier-based Inception Score (Salimans et al. 2016) with the judge in
  place of Inception, IS = exp(E_x KL(p(y | x) || p(y))), between 1 and 10 classes; the same judge
  scores the real test digits too (``test_set_inception_score``, about 9.9) as the ceiling.

**Data-parallel** (``mpiexec -n N gradus train mnist-dcgan``): both players are wrapped in
``DistributedDataParallel`` with their batch norms converted to ``SyncBatchNorm`` (statistics of the
global batch); every rank draws the same global batch of images and noise (one seed) and plays on its
own ``batch_size / N`` rows, so N processes take the steps of one process with the same batch. Rank 0
alone judges, draws the grids and writes; every rank trains the judge together when it is trained here.
"""
from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ... import distributed as dist
from ... import manual_seed, no_grad, tensor
from ...models.gan import GAN, GANConfig, gan_step
from ...train.checkpoint import load_checkpoint, save_checkpoint
from .. import RecipeError, optimizer_class
from .common import jsonable, mnist_arrays, pyplot, rank_shard, say, section, sum_over_ranks, world_and_rank
from .generative import save_image_grid

__all__ = ["run_gan", "gan_from_config", "classifier_scores", "inception_score", "load_judge"]

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081          # the judge's input standardisation (mnist-lenet5)


def gan_from_config(config: Mapping[str, Any]) -> GAN:
    """The (untrained) :class:`~gradus.models.gan.GAN` of a recipe: ``[model] kind`` ("mlp" or
    "dcgan") and the keys of :class:`~gradus.models.gan.GANConfig`."""
    cfg = dict(config.get("model") or {})
    cfg.pop("factory", None)
    kind = cfg.pop("kind", "mlp")
    for k in ("data_shape", "g_hidden", "d_hidden"):
        if k in cfg:
            cfg[k] = tuple(cfg[k])
    try:
        return GAN(GANConfig(**cfg), kind=kind)
    except (TypeError, ValueError) as e:
        raise RecipeError(f"[model] of the GAN: {e}") from None


# --------------------------------------------------------------------------- judging samples
def inception_score(probs: np.ndarray) -> float:
    """IS = exp( mean_i KL(p(y | x_i) || p(y)) ), p(y) = mean_i p(y | x_i): (N, K) class probabilities
    -> a number in [1, K]; K when every sample is confidently one class and all classes are equally
    common."""
    p = np.asarray(probs, dtype=np.float64)
    py = p.mean(axis=0, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        kl = np.where(p > 0, p * (np.log(p) - np.log(py)), 0.0).sum(axis=1)
    return float(np.exp(kl.mean()))


def classifier_scores(judge: Any, images: np.ndarray, batch_size: int = 500) -> dict:
    """The judge's verdict on images (N, 1, 28, 28) in [0, 1]: mean top-class probability, the share
    of each class (a string of 10 numbers, digits 0..9), the smallest and largest share, and the
    classifier-based Inception Score."""
    from ...functional import softmax

    judge.eval()
    x = ((np.asarray(images, np.float32) - MNIST_MEAN) / MNIST_STD).reshape(-1, 1, 28, 28)
    with no_grad():
        probs = np.concatenate([softmax(judge(tensor(x[i:i + batch_size])), dim=1).numpy()
                                for i in range(0, len(x), batch_size)])
    counts = np.bincount(probs.argmax(axis=1), minlength=probs.shape[1])
    frac = counts / counts.sum()
    return {"mean_confidence": float(probs.max(axis=1).mean()),
            "class_fractions": " ".join(f"{f:.3f}" for f in frac),          # digits 0..9
            "class_min_fraction": float(frac.min()), "class_max_fraction": float(frac.max()),
            "inception_score": inception_score(probs)}


def load_judge(path: str | Path) -> Any:
    """A LeNet-5 (or any MNIST classifier) from a ``gradus train mnist-lenet5`` checkpoint."""
    from ...train.checkpoint import read_checkpoint
    from .build import build_model

    config = read_checkpoint(path).meta.get("config") or {}
    if "factory" not in (config.get("model") or {}):
        raise RecipeError(f"[eval] classifier {path}: not a checkpoint of a supervised recipe such as "
                          "mnist-lenet5")
    model = build_model(config)
    load_checkpoint(path, model)
    return model.eval()


def _train_judge(out_dir: Path, epochs: int, data: Mapping[str, Any], progress: bool) -> Path:
    """Train the CNN recipe ``mnist-lenet5`` for ``epochs`` epochs into ``out_dir`` (the judge)."""
    from .. import load_recipe
    from .dispatch import run_recipe

    cfg = load_recipe("mnist-lenet5", overrides=[f"train.epochs={epochs}", f"scheduler.T_max={epochs}"])
    say(progress, f"  judge  training LeNet-5 (recipe mnist-lenet5, {epochs} epochs) into {out_dir}")
    m = run_recipe(cfg, out_dir, progress=False, data_root=data.get("root"))
    say(progress, f"  judge  test accuracy {m.get('test_accuracy', float('nan')):.4f}")
    return out_dir / "checkpoint.safetensors"


# --------------------------------------------------------------------------- the runner
def run_gan(config: dict, out_dir: Path, *, progress: bool = True) -> dict:
    """Train the recipe's GAN on MNIST, save a sample grid per epoch and judge the final samples."""
    out_dir = Path(out_dir)
    train, data, ev = section(config, "train"), section(config, "data"), section(config, "eval")
    seed = int(train.get("seed", 0))
    epochs, batch_size = int(train.get("epochs", 20)), int(train.get("batch_size", 64))
    non_saturating = bool(train.get("non_saturating", True))
    world, rank = world_and_rank()
    primary = rank == 0
    progress = progress and primary
    b, lo = rank_shard(batch_size, f"{config['recipe']['name']}: train.batch_size")   # my rows of each batch
    manual_seed(seed)
    X, _, X_test, _ = mnist_arrays(data, data.get("subset"), data.get("test_subset"), seed)
    X = (X.astype(np.float32) * 2 - 1).reshape(-1, 1, 28, 28)             # [0, 1] -> [-1, 1]
    gan = gan_from_config(config)
    if world > 1:   # global-batch statistics: the same steps as one process (the EMA keeps plain BN)
        gan.generator = dist.SyncBatchNorm.convert_sync_batchnorm(gan.generator)
        gan.discriminator = dist.SyncBatchNorm.convert_sync_batchnorm(gan.discriminator)
    G, D = gan.generator, gan.discriminator
    opt_cfg = section(config, "optim")
    name = opt_cfg.pop("name", "Adam")
    kw = {k: tuple(v) if isinstance(v, list) else v for k, v in opt_cfg.items()}
    g_lr, d_lr = kw.pop("g_lr", kw.get("lr", 2e-4)), kw.pop("d_lr", kw.get("lr", 2e-4))
    kw.pop("lr", None)
    opt_g = optimizer_class(name)(G.parameters(), lr=g_lr, **kw)
    opt_d = optimizer_class(name)(D.parameters(), lr=d_lr, **kw)
    n_g, n_d = (sum(p.numel() for p in m.parameters()) for m in (G, D))
    say(progress, f"  model  GAN {gan.kind}: G {n_g:,} + D {n_d:,} parameters, latent {gan.latent_dim}, "
        f"{'non-saturating' if non_saturating else 'minimax (saturating)'} generator loss")
    say(progress, f"  data   MNIST {len(X):,} training images in [-1, 1], batch {batch_size}")
    if world > 1:
        say(progress, f"  dist   {world} processes (MPI): global batch {batch_size} = {world} x {b} per "
            "rank, SyncBatchNorm")
    # the optimizers hold the plain players' Parameters; the game is played by their DDP wrappers
    G_play, D_play = ((dist.DistributedDataParallel(G), dist.DistributedDataParallel(D)) if world > 1
                      else (G, D))
    rng = np.random.default_rng(seed)
    fixed = np.random.default_rng(seed + 1).standard_normal((100, gan.latent_dim)).astype(np.float32)
    samples_dir = out_dir / "samples"
    # the judge first, so that every epoch's samples are scored on the way (the curve in metrics.jsonl)
    judge_path = ev.get("classifier") or ""
    if not judge_path:
        judge_path = _train_judge(out_dir / "judge", int(ev.get("classifier_epochs", 3)), data, progress)
    judge = load_judge(judge_path) if primary else None
    n = int(ev.get("samples", 1000))
    if gan.config.g_ema > 0:
        say(progress, f"  ema    samples from an exponential moving average of G's weights (decay "
            f"{gan.config.g_ema})")
    def judged_samples(g):
        """``n`` samples of generator ``g`` from the same z every epoch, in [0, 1], and their verdict."""
        images = (g.sample(n, generator=np.random.default_rng(seed + 2)).numpy() + 1) / 2
        return images, classifier_scores(judge, images)

    fake = scores = None
    t0 = time.perf_counter()
    for epoch in range(1, epochs + 1):
        t_ep, d_sum, g_sum, steps = time.perf_counter(), 0.0, 0.0, 0
        order = rng.permutation(len(X))
        for i in range(0, len(X) - batch_size + 1, batch_size):          # full batches: batch norm
            real = tensor(X[order[i:i + batch_size]][lo:lo + b])
            z = tensor(rng.standard_normal((batch_size, gan.latent_dim)).astype(np.float32)[lo:lo + b])
            d_loss, g_loss = gan_step(G_play, D_play, opt_g, opt_d, real, z, non_saturating)
            gan.update_ema()
            d_sum, g_sum, steps = d_sum + float(d_loss), g_sum + float(g_loss), steps + 1
        seconds = round(time.perf_counter() - t_ep, 1)
        if world > 1:                        # the ranks' shard means -> the global batches' means
            d_sum, g_sum = (v / world for v in sum_over_ranks(d_sum, g_sum))
        if not primary:
            continue
        sampler = gan.sampler.eval()
        with no_grad():
            grid = (sampler(tensor(fixed)).numpy() + 1) / 2
        save_image_grid(grid, samples_dir / f"epoch_{epoch:03d}.png",
                        title=f"{config['recipe']['name']}: epoch {epoch}, the same 100 z")
        # this epoch's samples judged (the same z every epoch; the last epoch's are the final verdict)
        fake, scores = judged_samples(sampler)
        logs = {"epoch": epoch, "d_loss": d_sum / steps, "g_loss": g_sum / steps, "seconds": seconds,
                "inception_score": scores["inception_score"], "mean_confidence": scores["mean_confidence"],
                "class_min_fraction": scores["class_min_fraction"],
                "class_max_fraction": scores["class_max_fraction"]}
        if sampler is not G:                 # the last iterate too, to show what the average buys
            logs["inception_score_last_iterate"] = judged_samples(G)[1]["inception_score"]
        with open(out_dir / "metrics.jsonl", "a") as f:
            f.write(json.dumps(logs) + "\n")
        extra = (f" (last iterate {logs['inception_score_last_iterate']:.2f})"
                 if "inception_score_last_iterate" in logs else "")
        say(progress, f"  epoch {epoch}/{epochs}: D loss {logs['d_loss']:.3f}, G loss {logs['g_loss']:.3f}, "
            f"IS {logs['inception_score']:.2f}{extra}, confidence {logs['mean_confidence']:.3f}, "
            f"classes {logs['class_min_fraction']:.3f}..{logs['class_max_fraction']:.3f}, {seconds:.0f} s")
        save_checkpoint(out_dir / "checkpoint.safetensors", gan, meta={"config": config, "epoch": epoch})
    train_seconds = time.perf_counter() - t0
    if not primary:                          # rank 0 judges and writes
        return {"epochs": epochs, "train_seconds": round(train_seconds, 1), "world_size": world}

    if scores is None:                       # no epoch ran: judge the untrained generator
        fake, scores = judged_samples(gan.sampler)
    real_scores = classifier_scores(judge, X_test[:n].reshape(-1, 1, 28, 28))
    results = {**scores, "test_set_inception_score": real_scores["inception_score"],
               "test_set_mean_confidence": real_scores["mean_confidence"], "samples_judged": n,
               "epochs": epochs, "generator_parameters": n_g, "discriminator_parameters": n_d,
               "train_seconds": round(train_seconds, 1), "judge": str(judge_path), "world_size": world}
    save_image_grid(fake[:100], out_dir / "samples.png", title=f"{config['recipe']['name']}: 100 samples")
    save_checkpoint(out_dir / "checkpoint.safetensors", gan, meta={"config": config, "epoch": epochs,
                                                                   "results": jsonable(results)})
    plt = pyplot()
    if plt is not None:
        hist = [json.loads(line) for line in (out_dir / "metrics.jsonl").read_text().splitlines()]
        fig, ax = plt.subplots(figsize=(5, 3.2))
        ax.plot([h["epoch"] for h in hist], [h["d_loss"] for h in hist], label="D loss")
        ax.plot([h["epoch"] for h in hist], [h["g_loss"] for h in hist], label="G loss")
        ax.axhline(2 * np.log(2), color="grey", lw=0.8, ls="--", label="D at equilibrium (2 log 2)")
        ax.set_xlabel("epoch")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out_dir / "losses.png", dpi=110)
        plt.close(fig)
    say(progress, f"judged {n} samples: mean confidence {scores['mean_confidence']:.3f}, class shares "
        f"{scores['class_min_fraction']:.3f}..{scores['class_max_fraction']:.3f}, inception score "
        f"{scores['inception_score']:.2f} (test digits: {real_scores['inception_score']:.2f}); training "
        f"{train_seconds:.0f} s")
    return results


run_gan.data_parallel = True    # `mpiexec -n N gradus train` may run it (the docstring)
