"""Helpers the recipe runners share: config sections, output, plots, predictions, dataset arrays."""
from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ...nn import Module
from .. import RecipeError, describe_target, target_reached

__all__ = ["section", "say", "pyplot", "predict_fn", "dataset_inputs", "dataset_targets", "jsonable",
           "count_params", "mnist_arrays", "print_target"]


def section(config: Mapping[str, Any], name: str) -> dict:
    """A copy of the table ``[name]`` of a recipe (``{}`` when it is missing)."""
    return dict(config.get(name) or {})


def update(loss: Any, optimizer: Any, parameters: Any = None, clip: float = 0.0,
           scheduler: Any = None) -> None:
    """One optimizer update from ``loss``: zero the gradients, backward, clip the gradient norm of
    ``parameters`` to ``clip`` (when non-zero), ``optimizer.step()``, then ``scheduler.step()`` (when
    given: a per-step schedule)."""
    from ...nn.utils import clip_grad_norm_

    optimizer.zero_grad()
    loss.backward()
    if clip:
        clip_grad_norm_(parameters, clip)
    optimizer.step()
    if scheduler is not None:
        scheduler.step()


def world_and_rank() -> tuple[int, int]:
    """(world size, rank) of a data-parallel run under ``mpiexec``; (1, 0) otherwise."""
    from ... import distributed as dist

    if dist.is_initialized() and dist.get_world_size() > 1:
        return dist.get_world_size(), dist.get_rank()
    return 1, 0


def rank_shard(batch_size: int, what: str) -> tuple[int, int]:
    """``(rows, first)``: this rank's share of a global batch of ``batch_size`` rows split evenly over
    the ranks (rows ``first .. first + rows``; the whole batch in a world of one). ``what`` names the
    setting in the error when the batch does not split, e.g. ``"mnist-dcgan: train.batch_size"``."""
    world, rank = world_and_rank()
    if batch_size % world:
        raise RecipeError(f"{what}={batch_size} is the global batch, split over {world} processes: use a "
                          f"multiple of {world}")
    rows = batch_size // world
    return rows, rank * rows


def batch_rows(n: int) -> tuple[int, int, float]:
    """``(lo, hi, scale)`` for a global batch of ``n`` rows whose size need not split evenly (the last
    batch of an epoch): this rank's rows ``lo .. hi`` (as even as possible, rank order) and the factor
    that turns the mean loss of those rows into this rank's share of the global-batch mean once
    ``DistributedDataParallel`` averages the gradients over the ranks: ``scale = (hi - lo) * N / n``
    (1 for an even split; ``(0, n, 1.0)`` in a world of one)."""
    world, rank = world_and_rank()
    lo, hi = rank * n // world, (rank + 1) * n // world
    return lo, hi, (hi - lo) * world / n


class MethodModule(Module):
    """A module whose forward is the method ``method`` of ``model`` (``model.loss``,
    ``model.contrastive_divergence``, ``model.rotation_logits``...), or ``method(model, *args)`` when
    it is a function: ``DistributedDataParallel(MethodModule(model, "loss"))`` then sees that
    computation's graph in its forward, as DDP needs, for the models trained through something other
    than their forward (autoencoders, the VAE, the RBM, a pretext head, BERT's two losses). ``model``
    is its only submodule."""

    def __init__(self, model: Any, method: str | Callable[..., Any] = "loss") -> None:
        super().__init__()
        self.model = model
        self.method = method

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if callable(self.method):
            return self.method(self.model, *args, **kwargs)
        return getattr(self.model, self.method)(*args, **kwargs)

    def extra_repr(self) -> str:
        name = self.method if isinstance(self.method, str) else getattr(self.method, "__name__", "?")
        return f"forward = model.{name}" if isinstance(self.method, str) else f"forward = {name}(model, ...)"


def broadcast_text(text: str | None) -> str:
    """Rank 0's ``text`` on every rank (``text`` itself in a world of one; the other ranks may pass
    None): its UTF-8 bytes in two broadcasts, length then bytes (no pickling)."""
    world, rank = world_and_rank()
    if world == 1:
        return text
    from ... import distributed as dist
    from ...tensor import Tensor

    raw = np.frombuffer(text.encode("utf-8"), dtype=np.uint8) if rank == 0 else np.zeros(0, np.uint8)
    n = Tensor(np.array([raw.size], dtype=np.int64))
    dist.broadcast(n, src=0)
    buf = Tensor(raw.copy() if rank == 0 else np.zeros(int(n.numpy()[0]), dtype=np.uint8))
    dist.broadcast(buf, src=0)
    return buf.numpy().tobytes().decode("utf-8")


def all_gather_text(text: str) -> list[str]:
    """Every rank's ``text``, in rank order (``[text]`` in a world of one): the UTF-8 bytes, padded to
    the longest, in two all-gathers (lengths, bytes; no pickling)."""
    world, _ = world_and_rank()
    if world == 1:
        return [text]
    from ... import distributed as dist

    raw = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    sizes = [np.zeros(1, np.int64) for _ in range(world)]
    dist.all_gather(sizes, np.array([raw.size], dtype=np.int64))
    longest = int(max(int(n[0]) for n in sizes))
    padded = np.zeros(longest, np.uint8)
    padded[:raw.size] = raw
    parts = [np.zeros(longest, np.uint8) for _ in range(world)]
    dist.all_gather(parts, padded)
    return [p[:int(n[0])].tobytes().decode("utf-8") for p, n in zip(parts, sizes)]


def share_out(jobs: list, run: Callable[[Any], Any]) -> list:
    """``[run(job) for job in jobs]`` for independent, separately seeded jobs: under mpiexec rank r runs
    the jobs j with j % N == r and the (JSON-able) results are gathered, so every rank returns the
    whole list in order -- one process' results in about 1 / N of the time. Every rank must call it."""
    world, rank = world_and_rank()
    mine = {j: run(job) for j, job in enumerate(jobs) if j % world == rank}
    if world > 1:
        import json

        for text in all_gather_text(json.dumps(mine)):
            mine.update({int(j): r for j, r in json.loads(text).items()})
    return [mine[j] for j in range(len(jobs))]


def sum_over_ranks(*values: float) -> list[float]:
    """The sums of ``values`` over the ranks (one float64 all-reduce; the values themselves in a world
    of one)."""
    if world_and_rank()[0] == 1:
        return [float(v) for v in values]
    from ... import distributed as dist
    from ...tensor import Tensor

    buf = Tensor(np.array(values, dtype=np.float64))
    dist.all_reduce(buf)
    return [float(v) for v in buf.numpy()]


def say(progress: bool, text: str) -> None:
    """Print ``text`` (flushed) when ``progress`` is on."""
    if progress:
        print(text, flush=True)


def pyplot() -> Any:
    """``matplotlib.pyplot`` with the file-only Agg backend, or None when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        return plt
    except ImportError:
        return None


def predict_fn(model: Any):
    """``X (M, ...) ndarray -> predicted labels (M,)`` (``train.metrics.predictions`` of the outputs),
    in eval mode and without recording a graph (the model's training mode is restored afterwards);
    what the decision-boundary plots call."""
    from ... import no_grad, tensor
    from ...train.metrics import predictions

    def fn(X: np.ndarray) -> np.ndarray:
        was = getattr(model, "training", True)
        model.eval()
        try:
            with no_grad():
                return predictions(model(tensor(X)))
        finally:
            model.train(was)

    return fn


def dataset_inputs(ds: Any) -> np.ndarray | None:
    """The input array of a TensorDataset (``arrays[0]``) or of a dataset with ``X``; else None."""
    arrays = getattr(ds, "arrays", None)
    if arrays:
        return arrays[0]
    return getattr(ds, "X", None)


def dataset_targets(ds: Any) -> np.ndarray | None:
    """The label array of a TensorDataset (``arrays[1]``) or of a dataset with ``y``; else None."""
    arrays = getattr(ds, "arrays", None)
    if arrays and len(arrays) > 1:
        return arrays[1]
    return getattr(ds, "y", None)


def jsonable(d: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of ``d`` that JSON can hold (NumPy scalars become Python numbers)."""
    out = {}
    for k, v in d.items():
        if isinstance(v, (np.floating, np.integer)):
            v = v.item()
        if isinstance(v, (int, float, str, bool)) or v is None:
            out[k] = v
    return out


def count_params(model: Any) -> int:
    """Number of parameter elements of ``model``."""
    return int(sum(p.data.size for p in model.parameters()))


def mnist_arrays(data: Mapping[str, Any], subset: int | None = None, test_subset: int | None = None,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST ``X, y, X_test, y_test`` (flattened, in [0, 1]) from ``data.root`` (None: ``$GRADUS_DATA``,
    then ``~/.cache/gradus``); ``subset``: a seeded random sample of the training set (kept in order),
    ``test_subset``: the first n test images."""
    from ...data.datasets import load_mnist_arrays

    root = data.get("root")
    X, y = load_mnist_arrays(root=root, train=True)
    X_test, y_test = load_mnist_arrays(root=root, train=False)
    rng = np.random.default_rng(seed)
    if subset:
        idx = np.sort(rng.permutation(len(X))[:int(subset)])
        X, y = X[idx], y[idx]
    if test_subset:
        X_test, y_test = X_test[:int(test_subset)], y_test[:int(test_subset)]
    return X, y, X_test, y_test


def print_target(config: Mapping[str, Any], results: Mapping[str, Any], out: Any = None) -> None:
    """``target test_accuracy >= 0.95: reached (0.9721)``."""
    out = out or sys.stdout
    desc = describe_target(config)
    if not desc:
        return
    reached = target_reached(config, results)
    metric = config["recipe"]["target"]["metric"]
    if reached is None:
        print(f"target {desc}: not reported by this run", file=out)
    else:
        verdict = "reached" if reached else "NOT reached"
        print(f"target {desc}: {verdict} ({float(results[metric]):.4f})", file=out)
