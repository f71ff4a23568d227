"""Recipes of the generative chapter on MNIST: ``mnist-autoencoder``, ``mnist-denoising-autoencoder``,
``mnist-vae`` and ``mnist-rbm`` (the GAN recipes have their own runner, ``gan.py``).

Each reads ``[model]`` (the keys of :class:`~gradus.models.autoencoder.AutoencoderConfig`, plus
``kind``), ``[data]`` (``subset``, ``test_subset``, ``binarize``), ``[optim]`` and ``[train]``
(``epochs``, ``batch_size``, ``seed``), trains with its own small loop (these models are trained on a
loss of the input alone, ``model.loss(x)``, not on labels), and writes to ``out_dir``:

- ``checkpoint.safetensors`` with the recipe in its metadata, so ``gradus sample CHECKPOINT`` can
  rebuild the model (:func:`generative_model_from_config`) and draw a grid of samples;
- ``metrics.jsonl`` (one line per epoch; ``gradus train`` adds ``results.json``);
- images (when matplotlib is there): reconstructions, the codes of the test set in 2-D coloured by
  label, a latent interpolation grid; for the VAE samples from the prior; for the RBM its filters,
  Gibbs samples and the reconstruction-error curve.

Under ``mpiexec -n N gradus train`` the four train data-parallel (``MethodModule`` in
``DistributedDataParallel``): each rank takes its rows of every global batch. The autoencoders and the
VAE draw the randomness of the whole global batch (corruption, eps) alike on every rank, so N processes
take the steps of one; the RBM's Gibbs chains run on each rank's own random stream (its persistent
chains split over the ranks). Rank 0 alone evaluates, logs, draws and writes.
"""
from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ... import manual_seed, no_grad, randn, tensor
from ...train.checkpoint import save_checkpoint
from .. import RecipeError, optimizer_class
from .common import (
    MethodModule,
    batch_rows,
    jsonable,
    mnist_arrays,
    pyplot,
    rank_shard,
    say,
    section,
    sum_over_ranks,
    world_and_rank,
)

__all__ = ["run_autoencoder", "run_vae", "run_rbm", "generative_model_from_config", "save_image_grid",
           "sample_images", "binarize"]

IMAGE = (1, 28, 28)


# --------------------------------------------------------------------------- building blocks
def generative_model_from_config(config: Mapping[str, Any]) -> Any:
    """The (untrained) model of a generative recipe: ``[model] kind`` is ``"autoencoder"``,
    ``"conv_autoencoder"``, ``"vae"`` or ``"rbm"``; the other keys are the model's options."""
    from ...models.autoencoder import VAE, Autoencoder, AutoencoderConfig, ConvAutoencoder
    from ...models.rbm import RBM

    cfg = dict(config.get("model") or {})
    cfg.pop("factory", None)
    kind = cfg.pop("kind", "autoencoder")
    if kind == "rbm":
        return RBM(int(cfg.get("n_visible", 784)), int(cfg.get("n_hidden", 500)),
                   init_std=float(cfg.get("init_std", 0.01)))
    classes = {"autoencoder": Autoencoder, "conv_autoencoder": ConvAutoencoder, "vae": VAE}
    if kind not in classes:
        raise RecipeError(f"[model] kind must be one of {sorted([*classes, 'rbm'])}, got {kind!r}")
    for k in ("input_shape", "hidden", "channels"):
        if k in cfg:
            cfg[k] = tuple(cfg[k])
    try:
        return classes[kind](AutoencoderConfig(**cfg))
    except TypeError as e:
        raise RecipeError(f"[model] options of {kind}: {e}") from None


def binarize(X: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """Binary pixels: sampled x ~ Bernoulli(intensity) with ``rng`` (dynamic binarisation, the usual
    protocol for likelihoods on MNIST), or thresholded at 0.5 without one."""
    if rng is None:
        return (X > 0.5).astype(np.float32)
    return (rng.random(X.shape, dtype=np.float32) < X).astype(np.float32)


def _mnist(config: Mapping[str, Any], seed: int):
    data = section(config, "data")
    X, y, X_test, y_test = mnist_arrays(data, data.get("subset"), data.get("test_subset"), seed)
    return X.astype(np.float32), y, X_test.astype(np.float32), y_test, data


def _optimizer(config: Mapping[str, Any], model: Any) -> Any:
    cfg = section(config, "optim")
    name = cfg.pop("name", "Adam")
    return optimizer_class(name)(model.parameters(), **{k: tuple(v) if isinstance(v, list) else v
                                                        for k, v in cfg.items()})


def _batches(n: int, batch_size: int, rng: np.random.Generator):
    order = rng.permutation(n)
    for i in range(0, n, batch_size):
        yield order[i:i + batch_size]


def _images(X: np.ndarray) -> Any:
    return tensor(X.reshape((-1,) + IMAGE))


def _loss_net(model: Any, method: str = "loss") -> Any:
    """``MethodModule(model, method)``, wrapped in ``DistributedDataParallel`` under mpiexec."""
    from ... import distributed as dist

    net = MethodModule(model, method)
    return dist.DistributedDataParallel(net) if world_and_rank()[0] > 1 else net


def _train_epoch(model: Any, net: Any, opt: Any, X: np.ndarray, batch_size: int, rng: np.random.Generator,
                 draw=None, as_input=None, **loss_kwargs: Any) -> float:
    """One shuffled pass over X minimising ``net(x, **loss_kwargs)`` (:func:`_loss_net`: the model's
    loss); the example-weighted mean loss.

    Under mpiexec every rank shuffles alike (one seed), takes its rows of each global batch
    (:func:`~.common.batch_rows`) and scales its loss so that DDP's average of the gradients is the
    gradient of the global batch's mean. ``draw(xg)`` returns the randomness of the whole global batch
    ``xg`` as keyword arguments of the loss with ``len(xg)`` rows each (the denoising corruption, the
    VAE's eps): every rank draws them alike and takes its rows, so N processes take one process' steps.
    ``as_input``: rows of X -> the model's input (default: images (B, 1, 28, 28)).
    """
    as_input = as_input or _images
    model.train()
    total = 0.0
    for idx in _batches(len(X), batch_size, rng):
        lo, hi, scale = batch_rows(len(idx))
        rows = hi - lo
        if rows == 0:   # fewer rows than ranks (a tiny last batch): one row at weight 0 keeps it in step
            lo, hi = 0, 1
        if draw is None:
            x, extra = as_input(X[idx[lo:hi]]), {}
        else:
            xg = as_input(X[idx])
            x, extra = xg[lo:hi], {k: v[lo:hi] for k, v in draw(xg).items()}
        loss = net(x, **extra, **loss_kwargs)
        opt.zero_grad()
        (loss if scale == 1 else loss * scale).backward()
        opt.step()
        total += float(loss.item()) * rows
    return sum_over_ranks(total)[0] / len(X)


def _map_batches(fn, X: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """``fn(x_batch) -> array`` over X in batches (in order), concatenated: one test set, bounded memory."""
    return np.concatenate([fn(X[i:i + batch_size]) for i in range(0, len(X), batch_size)])


def _eval_in_batches(fn, X: np.ndarray, batch_size: int = 1000):
    """The example-weighted mean over X of ``fn(x_batch)``, a float or an array of several metrics."""
    total = 0.0
    for i in range(0, len(X), batch_size):
        xb = X[i:i + batch_size]
        total = total + np.asarray(fn(xb), dtype=np.float64) * len(xb)
    out = total / max(len(X), 1)
    return float(out) if np.ndim(out) == 0 else out


def _say_world(progress: bool, batch_size: int) -> None:
    world = world_and_rank()[0]
    if world > 1:
        say(progress, f"  dist   {world} processes (MPI): global batch {batch_size}, split over the ranks")


def _log(out_dir: Path, logs: dict) -> None:
    with open(out_dir / "metrics.jsonl", "a") as f:
        f.write(json.dumps(jsonable(logs)) + "\n")


def _finish(out_dir: Path, model: Any, config: Mapping[str, Any], results: dict) -> dict:
    meta = {"config": dict(config), "results": results}
    save_checkpoint(out_dir / "checkpoint.safetensors", model, meta=meta)
    return results  # `gradus train` writes results.json


# --------------------------------------------------------------------------- pictures
def save_image_grid(images: np.ndarray, path: Path, cols: int = 10, title: str | None = None,
                    row_labels: list[str] | None = None) -> Path | None:
    """Tiles of ``images`` (N, H, W), (N, 1, H, W) or (N, H * W) square, values in [0, 1], ``cols``
    per row, as a PNG (grey, black background = 0). None without matplotlib."""
    plt = pyplot()
    if plt is None:
        return None
    a = np.asarray(images, dtype=np.float32)
    if a.ndim == 2:  # flattened square images (N, H * W)
        side = int(round(a.shape[1] ** 0.5))
        a = a.reshape(a.shape[0], side, side)
    a = a.reshape(a.shape[0], a.shape[-2], a.shape[-1])
    n, h, w = a.shape
    rows = -(-n // cols)
    canvas = np.zeros((rows * (h + 2) + 2, cols * (w + 2) + 2), np.float32)
    for k in range(n):
        r, c = divmod(k, cols)
        canvas[2 + r * (h + 2):2 + r * (h + 2) + h, 2 + c * (w + 2):2 + c * (w + 2) + w] = a[k]
    fig, ax = plt.subplots(figsize=(cols * 0.45 + (1.2 if row_labels else 0.3), rows * 0.45 + 0.6))
    ax.imshow(np.clip(canvas, 0, 1), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    if row_labels:
        ax.set_yticks([2 + r * (h + 2) + h / 2 for r in range(len(row_labels))], row_labels, fontsize=8)
    else:
        ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _scatter_codes(codes: np.ndarray, labels: np.ndarray, path: Path, title: str) -> Path | None:
    """The codes in 2-D coloured by digit: the codes themselves when 2-D, else their first two
    principal components (named on the axes)."""
    plt = pyplot()
    if plt is None:
        return None
    codes = np.asarray(codes, dtype=np.float64)
    if codes.shape[1] == 2:
        xy, axes = codes, ("z1", "z2")
    else:
        c = codes - codes.mean(0)
        _, _, vt = np.linalg.svd(c, full_matrices=False)
        xy, axes = c @ vt[:2].T, ("principal component 1 of the code", "principal component 2")
    fig, ax = plt.subplots(figsize=(6, 5))
    sc = ax.scatter(xy[:, 0], xy[:, 1], c=labels, cmap="tab10", s=3, alpha=0.7)
    fig.colorbar(sc, ax=ax, ticks=range(10), label="digit")
    ax.set_xlabel(axes[0])
    ax.set_ylabel(axes[1])
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _interpolation_grid(encode, decode, X: np.ndarray, y: np.ndarray, path: Path, steps: int = 10,
                        title: str = "") -> Path | None:
    """Rows of ``steps`` images decoded from (1 - t) z_a + t z_b between the codes of two test digits
    of different classes (0 -> 1, 2 -> 3, ...; the pairs the test set has). None without any pair."""
    pairs = []
    for a_cls in range(0, 10, 2):
        ia, ib = np.flatnonzero(y == a_cls), np.flatnonzero(y == a_cls + 1)
        if len(ia) and len(ib):   # (a small test subset may lack a class)
            pairs.append((int(ia[0]), int(ib[0])))
    if not pairs:
        return None
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
    rows = []
    with no_grad():
        for ia, ib in pairs:
            z = encode(_images(X[[ia, ib]])).numpy()
            zs = (1 - t) * z[0] + t * z[1]
            rows.append(decode(tensor(zs)).numpy())
    return save_image_grid(np.concatenate(rows), path, cols=steps, title=title,
                           row_labels=[f"{y[a]} -> {y[b]}" for a, b in pairs])


def sample_images(model: Any, n: int, seed: int = 0, gibbs_steps: int = 1000) -> np.ndarray:
    """``n`` images (n, 1, 28, 28) in [0, 1] from a generative model: VAE / GAN generator
    (``model.sample``), or an RBM (``gibbs_steps`` of block Gibbs sampling from the model's visible
    marginals; the last step's probabilities p(v | h) are shown, as is usual)."""
    from ...models.rbm import RBM

    g = np.random.default_rng(seed)
    model.eval()
    with no_grad():
        if isinstance(model, RBM):
            v = model.init_chains(n, generator=g)
            if gibbs_steps > 1:
                v = model.gibbs(v, gibbs_steps - 1, generator=g)
            p_h, h = model.sample_h(v, generator=g)
            p_v, _ = model.sample_v(h, generator=g)
            out = p_v.numpy()
        elif callable(getattr(model, "sample", None)):
            out = model.sample(n, generator=g).numpy()
        else:
            raise TypeError(f"{type(model).__name__} is not a generative model (it has no sample(n)); "
                            "sample from a VAE, GAN or RBM checkpoint")
    out = np.asarray(out, dtype=np.float32)
    if getattr(getattr(model, "config", None), "tanh_output", False):  # a GAN's G: [-1, 1] -> [0, 1]
        out = (out + 1) / 2
    return out.reshape((n,) + IMAGE)


# --------------------------------------------------------------------------- autoencoders
def run_autoencoder(config: dict, out_dir: Path, *, progress: bool = True) -> dict:
    """Train an (optionally denoising) autoencoder on MNIST pixels in [0, 1] with its BCE
    reconstruction loss; report the test reconstruction loss (nats per image) and MSE per pixel, and
    for a denoising model the MSE of its reconstructions of corrupted test images against the clean
    ones next to the MSE of the corrupted images themselves."""
    from ...models.autoencoder import corrupt

    out_dir = Path(out_dir)
    train = section(config, "train")
    seed = int(train.get("seed", 0))
    epochs, batch_size = int(train.get("epochs", 10)), int(train.get("batch_size", 128))
    world, rank = world_and_rank()
    progress = progress and rank == 0
    manual_seed(seed)     # the same on every rank: the global batches' corruption is drawn alike
    X, _, X_test, y_test, _ = _mnist(config, seed)
    model = generative_model_from_config(config)
    opt = _optimizer(config, model)
    net = _loss_net(model)
    cfg = model.config
    nparams = sum(p.numel() for p in model.parameters())
    say(progress, f"  model  {type(model).__name__} latent {cfg.latent_dim} ({nparams:,} parameters)"
        + (f", denoising (mask p={cfg.drop_prob}, noise std {cfg.noise_std})" if cfg.denoising else ""))
    say(progress, f"  data   MNIST {len(X):,} train / {len(X_test):,} test images")
    _say_world(progress, batch_size)
    rng = np.random.default_rng(seed)
    draw = None
    if cfg.denoising:   # the corruption of the whole global batch (each rank encodes its rows of it)
        def draw(xg):
            return {"corrupted": corrupt(xg, cfg.noise_std, cfg.drop_prob)}
    t0 = time.perf_counter()

    def test_losses():
        model.eval()
        with no_grad():
            bce = _eval_in_batches(lambda xb: float(model.loss(_images(xb)).item()), X_test)
            mse = _eval_in_batches(lambda xb: float(
                ((model(_images(xb)).numpy().reshape(len(xb), -1) - xb) ** 2).mean()), X_test)
        model.train()
        return bce, mse

    for epoch in range(1, epochs + 1):
        t_ep = time.perf_counter()
        train_loss = _train_epoch(model, net, opt, X, batch_size, rng, draw)
        if rank:
            continue   # rank 0 evaluates, logs and writes
        bce, mse = test_losses()
        logs = {"epoch": epoch, "loss": train_loss, "test_bce": bce, "test_mse": mse,
                "seconds": round(time.perf_counter() - t_ep, 1)}
        _log(out_dir, logs)
        say(progress, f"  epoch {epoch}/{epochs}: train loss {logs['loss']:.2f}, test BCE {bce:.2f} "
            f"nats/image, test MSE {mse:.5f}/pixel, {logs['seconds']:.0f} s")
    train_seconds = time.perf_counter() - t0
    if rank:
        return {"epochs": epochs, "train_seconds": round(train_seconds, 1), "world_size": world}
    model.eval()
    results = {"test_bce": bce, "test_mse": mse, "epochs": epochs, "parameters": nparams,
               "latent_dim": cfg.latent_dim, "train_seconds": round(train_seconds, 1), "world_size": world}
    g = np.random.default_rng(seed + 1)
    show = X_test[:10]
    with no_grad():
        if cfg.denoising:
            gen = np.random.default_rng(seed + 1)
            noisy = _map_batches(lambda xb: corrupt(_images(xb), cfg.noise_std, cfg.drop_prob,
                                                    generator=gen).numpy(), X_test).reshape(len(X_test), -1)
            recon = _map_batches(lambda xb: model(_images(xb)).numpy(), noisy).reshape(len(X_test), -1)
            results["test_mse_corrupted"] = float(((noisy - X_test) ** 2).mean())
            results["test_mse_denoised"] = float(((recon - X_test) ** 2).mean())
            say(progress, f"denoising on test: corrupted input MSE {results['test_mse_corrupted']:.5f}, "
                f"reconstruction MSE {results['test_mse_denoised']:.5f}/pixel")
            grid = np.concatenate([X_test[:10], noisy[:10], recon[:10]])
            save_image_grid(grid, out_dir / "denoising.png", title="test digits, corrupted, denoised",
                            row_labels=["clean", "corrupted", "denoised"])
        recon = model(_images(show)).numpy().reshape(10, -1)
        save_image_grid(np.concatenate([show, recon]), out_dir / "reconstructions.png",
                        title=f"{type(model).__name__}: test digits and reconstructions",
                        row_labels=["input", "output"])
        idx = g.permutation(len(X_test))[:3000]
        codes = np.concatenate([model.encode(_images(X_test[idx[i:i + 1000]])).numpy()
                                for i in range(0, 3000, 1000)])
    _scatter_codes(codes, y_test[idx], out_dir / "latent_scatter.png",
                   f"{type(model).__name__}: codes of 3,000 test digits")
    _interpolation_grid(model.encode, model.decode, X_test, y_test, out_dir / "interpolation.png",
                        title="decoding (1 - t) z_a + t z_b")
    say(progress, f"test reconstruction: BCE {bce:.2f} nats/image, MSE {mse:.5f}/pixel; training "
        f"{train_seconds:.0f} s")
    return _finish(out_dir, model, config, results)


# --------------------------------------------------------------------------- VAE
def run_vae(config: dict, out_dir: Path, *, progress: bool = True) -> dict:
    """Train a VAE on dynamically binarised MNIST (a fresh Bernoulli sample of every training image in
    every epoch); report the test ELBO, its reconstruction and KL terms in nats per image on a fixed
    binarisation of the test set (seeded), and draw samples, reconstructions, the latent space and an
    interpolation grid."""
    out_dir = Path(out_dir)
    train = section(config, "train")
    seed = int(train.get("seed", 0))
    epochs, batch_size = int(train.get("epochs", 20)), int(train.get("batch_size", 128))
    world, rank = world_and_rank()
    progress = progress and rank == 0
    manual_seed(seed)     # the same on every rank: the global batches' eps are drawn alike
    X, _, X_test, y_test, _ = _mnist(config, seed)
    rng = np.random.default_rng(seed)
    Xb_test = binarize(X_test, np.random.default_rng(12345))           # the same test binarisation always
    model = generative_model_from_config(config)
    opt = _optimizer(config, model)
    net = _loss_net(model)

    def draw(xg):   # eps ~ N(0, I) of the whole global batch (each rank takes its rows)
        return {"eps": randn(len(xg), model.latent_dim, dtype=xg.dtype)}
    nparams = sum(p.numel() for p in model.parameters())
    say(progress, f"  model  VAE hidden {model.config.hidden} latent {model.latent_dim} "
        f"({nparams:,} parameters)")
    say(progress, f"  data   MNIST {len(X):,} train / {len(X_test):,} test images, dynamically binarised")
    _say_world(progress, batch_size)
    def test_elbo():
        model.eval()
        g = np.random.default_rng(seed + 7)

        def parts(xb):
            e = model.elbo(_images(xb), generator=g)
            return [float(e.elbo.item()), float(e.reconstruction.item()), float(e.kl.item())]
        with no_grad():
            out = _eval_in_batches(parts, Xb_test)
        model.train()
        return out

    t0 = time.perf_counter()
    for epoch in range(1, epochs + 1):
        t_ep = time.perf_counter()
        train_loss = _train_epoch(model, net, opt, binarize(X, rng), batch_size, rng, draw)
        if rank:
            continue   # rank 0 evaluates, logs and writes
        elbo, rec, kl = test_elbo()
        logs = {"epoch": epoch, "train_elbo": -train_loss, "test_elbo": elbo, "test_reconstruction": rec,
                "test_kl": kl, "seconds": round(time.perf_counter() - t_ep, 1)}
        _log(out_dir, logs)
        say(progress, f"  epoch {epoch}/{epochs}: train ELBO {logs['train_elbo']:.2f}, test ELBO {elbo:.2f} "
            f"nats/image (reconstruction {rec:.2f} + KL {kl:.2f}), {logs['seconds']:.0f} s")
    train_seconds = time.perf_counter() - t0
    if rank:
        return {"epochs": epochs, "train_seconds": round(train_seconds, 1), "world_size": world}
    model.eval()
    results = {"test_elbo": elbo, "test_reconstruction": rec, "test_kl": kl, "epochs": epochs,
               "latent_dim": model.latent_dim, "parameters": nparams,
               "train_seconds": round(train_seconds, 1), "world_size": world}
    save_image_grid(sample_images(model, 100, seed), out_dir / "samples.png",
                    title=f"VAE: 100 samples decode(z), z ~ N(0, I) (latent {model.latent_dim})")
    show = Xb_test[:10]
    save_image_grid(np.concatenate([show, model.reconstruct(_images(show)).numpy().reshape(10, -1)]),
                    out_dir / "reconstructions.png",
                    title="VAE: binarised test digits and decode(mu(x))",
                    row_labels=["input", "output"])
    idx = np.random.default_rng(seed + 1).permutation(len(X_test))[:3000]
    with no_grad():
        codes = np.concatenate([model.encode(_images(Xb_test[idx[i:i + 1000]]))[0].numpy()
                                for i in range(0, 3000, 1000)])
    _scatter_codes(codes, y_test[idx], out_dir / "latent_scatter.png", "VAE: posterior means mu(x) of 3,000 "
                   "test digits")
    _interpolation_grid(lambda x: model.encode(x)[0], model.decode, Xb_test, y_test,
                        out_dir / "interpolation.png", title="VAE: decoding (1 - t) mu_a + t mu_b")
    say(progress, f"test ELBO {elbo:.2f} nats/image (-log p(x) <= {-elbo:.2f}); training "
        f"{train_seconds:.0f} s")
    return _finish(out_dir, model, config, results)


# --------------------------------------------------------------------------- RBM
def run_rbm(config: dict, out_dir: Path, *, progress: bool = True) -> dict:
    """Train a Bernoulli RBM on binarised MNIST by CD-k (``train.persistent = true``: persistent CD
    with ``train.chains`` fantasy particles), SGD with momentum; report the mean-field reconstruction
    error per pixel on the binarised test set per epoch (it should fall), and draw the filters (rows
    of W as images), Gibbs samples and the error curve."""
    out_dir = Path(out_dir)
    train = section(config, "train")
    seed = int(train.get("seed", 0))
    epochs, batch_size = int(train.get("epochs", 10)), int(train.get("batch_size", 64))
    k, persistent = int(train.get("k", 1)), bool(train.get("persistent", False))
    world, rank = world_and_rank()
    progress = progress and rank == 0
    manual_seed(seed)
    X, _, X_test, _, _ = _mnist(config, seed)
    Xb, Xb_test = binarize(X), binarize(X_test)
    model = generative_model_from_config(config)
    model.init_visible_bias_(tensor(Xb))
    opt = _optimizer(config, model)
    net = _loss_net(model, "contrastive_divergence")
    # Gibbs sampling: under mpiexec each rank its own stream and its share of the persistent chains
    g = np.random.default_rng(seed if world == 1 else [seed, rank])
    n_chains = int(train.get("chains", 100))
    if persistent and world > 1:
        n_chains = rank_shard(n_chains, f"{config['recipe']['name']}: train.chains")[0]
    chains = model.init_chains(n_chains, generator=g) if persistent else None
    say(progress, f"  model  RBM {model.n_visible} visible x {model.n_hidden} hidden, "
        f"{'PCD' if persistent else 'CD'}-{k}")
    say(progress, f"  data   MNIST {len(X):,} train / {len(X_test):,} test images, binarised at 0.5")
    _say_world(progress, batch_size)
    rng = np.random.default_rng(seed)
    xt = tensor(Xb_test)
    errors = [model.reconstruction_error(xt)]
    say(progress, f"  before training: test reconstruction error {errors[0]:.4f}/pixel")
    t0 = time.perf_counter()
    for epoch in range(1, epochs + 1):
        t_ep = time.perf_counter()
        _train_epoch(model, net, opt, Xb, batch_size, rng, as_input=tensor, k=k, persistent=chains,
                     generator=g)
        if rank:
            continue   # rank 0 evaluates, logs and writes
        errors.append(model.reconstruction_error(xt))
        with no_grad():
            gap = float((model.free_energy(tensor(Xb_test[:1000])).mean()
                         - model.free_energy(tensor(Xb[:1000])).mean()).item())
        logs = {"epoch": epoch, "test_reconstruction_error": errors[-1], "free_energy_gap": gap,
                "seconds": round(time.perf_counter() - t_ep, 1)}
        _log(out_dir, logs)
        say(progress, f"  epoch {epoch}/{epochs}: test reconstruction error {errors[-1]:.4f}/pixel, "
            f"free energy test - train {gap:+.2f}, {logs['seconds']:.0f} s")
    train_seconds = time.perf_counter() - t0
    if rank:
        return {"epochs": epochs, "train_seconds": round(train_seconds, 1), "world_size": world}
    results = {"test_reconstruction_error": errors[-1], "initial_reconstruction_error": errors[0],
               "reconstruction_error_fell": bool(errors[-1] < errors[0]),
               "epochs_error_rose": int(sum(b > a for a, b in zip(errors[:-1], errors[1:]))),
               "epochs": epochs, "k": k, "persistent": persistent, "train_seconds": round(train_seconds, 1),
               "world_size": world}
    W = model.W.detach().numpy()
    lo, hi = W[:100].min(axis=1, keepdims=True), W[:100].max(axis=1, keepdims=True)
    save_image_grid((W[:100] - lo) / np.maximum(hi - lo, 1e-12), out_dir / "filters.png",
                    title="RBM: the first 100 filters (rows of W, each scaled to [0, 1])")
    save_image_grid(sample_images(model, 100, seed, int(train.get("sample_gibbs_steps", 1000))),
                    out_dir / "samples.png", title="RBM: p(v | h) after 1,000 Gibbs steps from the biases")
    plt = pyplot()
    if plt is not None:
        fig, ax = plt.subplots(figsize=(5, 3.2))
        ax.plot(range(len(errors)), errors, marker="o")
        ax.set_xlabel("epoch")
        ax.set_ylabel("test reconstruction error / pixel")
        ax.set_title(f"RBM {'PCD' if persistent else 'CD'}-{k}", fontsize=9)
        fig.tight_layout()
        fig.savefig(out_dir / "reconstruction_error.png", dpi=110)
        plt.close(fig)
    say(progress, f"test reconstruction error {errors[0]:.4f} -> {errors[-1]:.4f}/pixel; training "
        f"{train_seconds:.0f} s")
    return _finish(out_dir, model, config, results)


for _run in (run_autoencoder, run_vae, run_rbm):
    _run.data_parallel = True    # `mpiexec -n N gradus train` may run them (the module docstring)
