"""The training loop: ``Trainer`` (and the one-call ``fit``), ``evaluate`` and ``predict``.

One optimisation step on a mini-batch ``(X, y)`` is the lecture's recipe::

    optimizer.zero_grad()
    y_hat = net(X)                                   # forward
    l = loss(y_hat, y) + l2 * sum_W ||W||^2          # the regularised objective F(w) = E + alpha ||w||^2
    l.backward()                                     # gradients of every parameter
    clip_grad_norm_(net.parameters(), max_norm)      # optional
    optimizer.step()                                 # w <- w - lr * grad (or Adam, ...)

and an epoch is one pass over the training loader, followed by an evaluation on the validation
loader. Around it the ``Trainer`` adds what a real run needs: callbacks (progress, early stopping,
checkpoints, logs), LR schedulers stepped per epoch or per step, NaN/Inf detection that stops with
the step, the loss and the first parameter or op where the value appeared, deterministic data
order (``seed=``) and checkpoints from which ``resume`` continues bit-identically.

**Data-parallel.** Given a ``gradus.distributed.DistributedDataParallel`` model in a world of ``N > 1``
processes (``mpiexec -n N``), the same loop trains data-parallel: ``batch_size`` is the *global*
batch, each rank loads its ``batch_size / N`` samples of it through a ``DistributedSampler``
(``set_epoch`` every epoch), the gradients are averaged by DDP, the epoch's metrics and every
evaluation are all-reduced (so every rank logs and decides -- early stopping, ``ReduceLROnPlateau``
-- on the same numbers), checkpoints hold the plain model (``ddp.module``, no ``module.`` prefix) and
load into a run with any ``N``. Writing files is the caller's: give the file-writing callbacks
to rank 0 only (``recipes.runners.supervised`` does). docs/distributed.md has the details.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GradusError
from . import metrics as M
from .callbacks import Callback, CallbackList

__all__ = ["Trainer", "fit", "evaluate", "predict", "TrainingDivergedError", "resolve_loss", "l2_penalty"]


class TrainingDivergedError(GradusError, FloatingPointError):
    """The loss or a gradient became NaN/Inf.

    Attributes:
        step: the optimisation step (1-based) whose loss or gradients were non-finite.
        epoch: the epoch (1-based) it happened in.
        loss: the loss value of that step (may be finite if only a gradient was NaN/Inf).
        parameter: name of the first parameter found non-finite (value or gradient), or None.
        op: the anomaly-mode report naming the first op that produced NaN/Inf, or None.
        checkpoint: path of the last good checkpoint written by a ``ModelCheckpoint``, or None.
    """

    def __init__(self, message: str, *, step: int, epoch: int, loss: float, parameter: str | None = None,
                 op: str | None = None, checkpoint: str | None = None) -> None:
        super().__init__(message)
        self.step = step
        self.epoch = epoch
        self.loss = loss
        self.parameter = parameter
        self.op = op
        self.checkpoint = checkpoint


# --------------------------------------------------------------------------- helpers


def resolve_loss(loss: str | Callable | None) -> Callable:
    """A loss callable ``loss(y_hat, y) -> scalar Tensor``: a name in ``gradus.functional``
    (``"cross_entropy"``, ``"mse_loss"``, ...) or the callable itself. ``None`` = cross-entropy."""
    if loss is None:
        loss = "cross_entropy"
    if callable(loss):
        return loss
    from .. import functional as F

    fn = getattr(F, str(loss), None)
    if fn is None or not callable(fn):
        import difflib

        names = [n for n in dir(F) if n.endswith("loss") or n in ("cross_entropy", "nll_loss")]
        close = difflib.get_close_matches(str(loss), names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; losses available: {', '.join(sorted(names))}"
        raise ValueError(f"unknown loss {loss!r}: not a function in gradus.functional{hint}")
    return fn


def _regularised_params(model: Any) -> list:
    """The weights the L2 term penalises: parameters with 2 or more dimensions (the ``W`` of linear
    and conv layers), not biases or normalisation scales, as in the lecture's ``alpha ||w||^2``."""
    return [p for p in model.parameters() if p.requires_grad and p.ndim >= 2]


def l2_penalty(model: Any, alpha: float):
    """``alpha * sum_W sum(W**2)`` over the weights (``ndim >= 2``) of ``model``: a scalar Tensor."""
    total = None
    for W in _regularised_params(model):
        term = (W * W).sum()
        total = term if total is None else total + term
    if total is None:
        from .. import tensor

        return tensor(0.0)
    return total * alpha


def _as_batch(batch: Any) -> tuple[Any, Any]:
    """``(X, y)`` from what a loader yields (a tuple/list whose first two items are input, target)."""
    if isinstance(batch, Mapping):
        return batch["input"], batch["target"]
    if isinstance(batch, (tuple, list)) and len(batch) >= 2:
        return batch[0], batch[1]
    raise TypeError(
        f"the Trainer expects batches (X, y); the loader yielded {type(batch).__name__}"
        + (f" of length {len(batch)}" if isinstance(batch, (tuple, list)) else "")
    )


def _batch_size(y: Any) -> int:
    shape = getattr(y, "shape", None)
    return int(shape[0]) if shape else len(y)


def _array(x: Any) -> np.ndarray:
    return M.to_numpy(x)


def _is_classification(out: np.ndarray, y: np.ndarray) -> bool:
    return out.ndim == 2 and y.ndim == 1 and y.dtype.kind in "iu" and out.shape[0] == y.shape[0]


def _sampler_generator(loader: Any) -> np.random.Generator | None | str:
    """The Generator that shuffles ``loader``: its sampler's own, ``"global"`` when the sampler draws
    from gradus's global generator, or None when the order is not random."""
    from ..data.sampler import RandomSampler

    sampler = getattr(loader, "sampler", None)
    if isinstance(sampler, RandomSampler):
        g = sampler.generator
        return g if isinstance(g, np.random.Generator) else "global"
    return None


def _unwrap(model: Any) -> Any:
    """The model inside a DistributedDataParallel wrapper (``.module``), else ``model``."""
    from ..distributed import DistributedDataParallel

    return model.module if isinstance(model, DistributedDataParallel) else model


def _world(model: Any) -> tuple[int, int]:
    """(world size, rank) of a data-parallel ``model``; (1, 0) for any other model."""
    from ..distributed import DistributedDataParallel, get_rank

    if isinstance(model, DistributedDataParallel) and model.world_size > 1:
        return model.world_size, get_rank()
    return 1, 0


# --------------------------------------------------------------------------- evaluation


def detach_state(state: Any) -> Any:
    """``state`` with every Tensor detached from its graph (tuples/lists kept): what truncated BPTT
    does between batches (PyTorch's word-LM example calls it ``repackage_hidden``)."""
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(s) for s in state)
    return state.detach() if hasattr(state, "detach") else state


def evaluate(
    model: Any,
    loader: Iterable,
    loss_fn: str | Callable | None = None,
    *,
    topk: int = 5,
    return_outputs: bool = False,
    stateful: bool = False,
) -> dict[str, Any]:
    """Evaluate ``model`` on every batch of ``loader`` (eval mode, no graph).

    ``stateful``: the model is called as ``model(X, state) -> (output, state)`` and the state is
    carried from batch to batch (contiguous language-model streams), starting from ``None``.

    Returns:
        ``{"loss": mean loss over samples, "accuracy": ..., f"top{topk}_accuracy": ...}`` (accuracy
        only for classification: scores ``(N, C)`` and integer targets; top-k only if ``C > topk``).
        With ``return_outputs=True`` also ``"outputs"`` (``(N, C)`` scores) and ``"targets"`` ``(N,)``.
    """
    from ..autograd import no_grad

    loss_fn = resolve_loss(loss_fn)
    was_training = getattr(model, "training", True)
    model.eval()
    running = M.RunningMean()
    outs, ys = [], []
    state = None
    try:
        with no_grad():
            for batch in loader:
                X, y = _as_batch(batch)
                if stateful:
                    out, state = model(X, state)
                else:
                    out = model(X)
                n = _batch_size(y)
                running.update(float(loss_fn(out, y).item()), n)
                outs.append(_array(out))
                ys.append(_array(y))
    finally:
        model.train(was_training)
    if not outs:
        n = len(loader) if hasattr(loader, "__len__") else "no"
        raise ValueError(f"evaluate: the loader yielded {n} batches; expected at least one (is the dataset "
                         "empty, or drop_last=True with fewer samples than batch_size?)")
    result: dict[str, Any] = {"loss": running.mean}
    if outs:
        out_all, y_all = np.concatenate(outs), np.concatenate(ys)
        if _is_classification(out_all, y_all):
            result["accuracy"] = M.accuracy(out_all, y_all)
            if out_all.shape[1] > topk:
                result[f"top{topk}_accuracy"] = M.top_k_accuracy(out_all, y_all, topk)
        if return_outputs:
            result["outputs"], result["targets"] = out_all, y_all
    return result


def predict(model: Any, loader: Iterable) -> np.ndarray:
    """Model outputs for every batch of ``loader``, concatenated: ``(N, ...)`` ndarray."""
    from ..autograd import no_grad

    was_training = getattr(model, "training", True)
    model.eval()
    outs = []
    try:
        with no_grad():
            for batch in loader:
                X = _as_batch(batch)[0] if isinstance(batch, (tuple, list, Mapping)) else batch
                outs.append(_array(model(X)))
    finally:
        model.train(was_training)
    return np.concatenate(outs) if outs else np.zeros((0,))


# --------------------------------------------------------------------------- the trainer


class Trainer:
    """Train ``model`` with ``optimizer`` on a loss.

    Args:
        model: a ``gradus.nn.Module`` mapping a batch ``X`` to outputs ``y_hat``.
        optimizer: a ``gradus.optim`` optimizer over ``model.parameters()``.
        loss_fn: a name in ``gradus.functional`` (default ``"cross_entropy"``) or a callable
            ``loss_fn(y_hat, y) -> scalar Tensor`` (mean over the batch).
        scheduler: an LR scheduler from ``gradus.optim.lr_scheduler`` (``ReduceLROnPlateau`` is
            stepped with the ``monitor`` value at the end of each epoch).
        scheduler_interval: ``"epoch"`` (``scheduler.step()`` after each epoch) or ``"step"``
            (after each optimisation step, for warm-up and one-cycle schedules).
        callbacks: ``Callback`` objects (progress bar, early stopping, checkpoints, loggers).
        l2: ``alpha`` of the regularised objective ``E + alpha * sum_W ||W||^2`` (weights with
            ``ndim >= 2``). The logged ``loss`` is the data term ``E`` (comparable with
            ``val_loss``); the penalty is logged as ``l2_penalty``.
        clip_grad_norm: rescale the gradients so their global L2 norm is at most this (0 = off).
        monitor: the logged metric ``ReduceLROnPlateau`` watches (default ``"val_loss"``, falling
            back to ``"loss"`` without validation data).
        seed: deterministic mode: the global generator (dropout, augmentation) is re-seeded now
            with ``gradus.manual_seed`` of a seed derived from ``seed``, and the data order gets a
            generator of its own seeded from it. Call ``gradus.manual_seed(seed)`` before building
            the model too, for a reproducible initialisation (the recipe runner does).
        check_finite: stop with :class:`TrainingDivergedError` as soon as the loss or a gradient is
            NaN/Inf.
        config: a JSON-able dict (the recipe) stored in every checkpoint.
            (With a DistributedDataParallel ``model`` in a world of N > 1: see the module docstring.
            ``seed`` then derives rank r's dropout stream from ``(seed, r)``, r = 0 keeping the
            one-process stream, and the DistributedSampler's seed from ``seed``.)
        stateful: truncated backpropagation through time for recurrent models on contiguous streams
            (batches are consecutive chunks of k time steps of the same ``B`` sequences, e.g.
            ``TinyShakespeare`` batchified): the model is called as ``model(X, state) -> (output,
            state)``; the state returned for one batch is detached (``detach_state``) and fed to the
            next, so gradients flow through at most the k steps of a batch while the hidden state
            carries over all of them. It starts from ``None`` each epoch and each evaluation.

    Attributes:
        epoch: completed epochs; ``global_step``: completed optimisation steps; ``history``: one
        dict of metrics per completed epoch; ``stop_training``: set by a callback to stop after
        the current epoch.

    Example::

        trainer = Trainer(net, gradus.optim.SGD(net.parameters(), lr=0.1), seed=0)
        history = trainer.fit(train_ds, val_ds, epochs=10, batch_size=64)
        print(trainer.evaluate(test_ds))
    """

    def __init__(
        self,
        model: Any,
        optimizer: Any,
        loss_fn: str | Callable | None = "cross_entropy",
        *,
        scheduler: Any = None,
        scheduler_interval: str = "epoch",
        callbacks: Sequence[Callback] | None = None,
        l2: float = 0.0,
        clip_grad_norm: float | None = 0.0,
        monitor: str = "val_loss",
        seed: int | None = None,
        check_finite: bool = True,
        config: Mapping[str, Any] | None = None,
        stateful: bool = False,
    ) -> None:
        if scheduler_interval not in ("epoch", "step"):
            raise ValueError(f"scheduler_interval must be 'epoch' or 'step', got {scheduler_interval!r}")
        if l2 < 0:
            raise ValueError(f"l2 must be >= 0, got {l2}")
        self.model = model
        self.optimizer = optimizer
        self.loss_fn = resolve_loss(loss_fn)
        self.scheduler = scheduler
        self.scheduler_interval = scheduler_interval
        self.callbacks = CallbackList(callbacks or [])
        self.l2 = float(l2)
        self.clip_grad_norm = float(clip_grad_norm or 0.0)
        self.monitor = monitor
        self.seed = seed
        self.check_finite = check_finite
        self.config = dict(config) if config is not None else None
        self.stateful = bool(stateful)
        self.state: Any = None  # the carried recurrent state (stateful training only)

        from .. import random as grandom

        self.world_size, self.rank = _world(model)
        if seed is not None:
            # Training-time randomness (dropout, augmentation) restarts from a seed derived from
            # `seed`: not `seed` itself, whose stream usually initialised the weights just before
            # (dropout masks must not replay the numbers drawn for the initial weights). Each rank of
            # a data-parallel run gets its own (rank 0 the one-process stream): their dropout masks
            # must differ, as their samples do.
            grandom.manual_seed(self._training_seed(int(seed)))
            # A stream of its own for the data order, so that adding dropout to a model does not
            # change which samples go into which batch.
            self.data_generator = np.random.default_rng([int(seed), 0xDA7A])
        else:
            self.data_generator = np.random.default_rng(grandom.default_generator().integers(2**63))

        self.epoch = 0
        self.global_step = 0
        self.batch_in_epoch = 0
        self.epochs = 0
        self.history: list[dict[str, Any]] = []
        self.stop_training = False
        self.resumed_from: str | None = None
        self.train_loader: Any = None
        self.val_loader: Any = None
        self._running: dict[str, M.RunningMean] = {}
        self._epoch_start_rng: dict | None = None
        self._pending_resume: dict | None = None
        self._epoch_t0 = 0.0
        self.sampler_seed = self._common_sampler_seed() if self.world_size > 1 else None

    # -- data-parallel -------------------------------------------------------------------------------
    @property
    def module(self) -> Any:
        """The plain model: ``model.module`` of a DistributedDataParallel ``model``, else ``model``."""
        return _unwrap(self.model)

    def _training_seed(self, seed: int, *extra: int) -> int:
        entropy = [seed, 0x7EA1] + ([self.rank, *extra] if self.rank or extra else [])
        return int(np.random.SeedSequence(entropy).generate_state(1)[0])

    def _common_sampler_seed(self) -> int:
        """The DistributedSampler's seed, the same on every rank: from ``seed``, else rank 0's draw."""
        from .. import distributed as dist

        if self.seed is not None:
            value = int(np.random.SeedSequence([int(self.seed), 0xDA7A]).generate_state(1)[0]) % 2**31
        else:
            value = int(self.data_generator.integers(2**31))
        buf = np.array([value], dtype=np.int64)
        dist.broadcast(buf, src=0)
        return int(buf[0])

    def _all_reduce_means(self, means: Mapping[str, float], count: float) -> dict[str, float]:
        """Means over this rank's ``count`` samples -> means over every rank's samples (same keys on
        every rank: the same model and loss give the same metrics)."""
        from .. import distributed as dist

        keys = sorted(means)
        buf = np.array([float(means[k]) * count for k in keys] + [float(count)], dtype=np.float64)
        dist.all_reduce(buf)
        total = buf[-1]
        return {k: float(buf[i] / total) if total else float("nan") for i, k in enumerate(keys)}

    # -- loaders ---------------------------------------------------------------------------------
    def make_loader(self, data: Any, batch_size: int = 32, shuffle: bool = True, drop_last: bool = False):
        """A gradus ``Dataset`` becomes ``DataLoader(data, batch_size, shuffle,
        generator=self.data_generator)``; anything else (a DataLoader, a list of ``(X, y)`` batches:
        an iterable that can be iterated once per epoch) is returned as is."""
        from ..data import DataLoader, Dataset

        if data is None:
            return None
        if isinstance(data, Dataset) and self.world_size > 1:
            return self._shard_loader(data, batch_size, shuffle, drop_last)
        if isinstance(data, Dataset):
            return DataLoader(data, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last,
                              generator=self.data_generator if shuffle else None)
        return data

    def _shard_loader(self, data: Any, batch_size: int, shuffle: bool, drop_last: bool):
        """This rank's loader in a data-parallel run. Training (``shuffle``): a DistributedSampler and
        ``batch_size / N`` per rank (``batch_size`` is the global batch). Evaluation: every N-th
        sample from this rank's (no padding: each sample counted once; the metrics are all-reduced)."""
        from .. import distributed as dist
        from ..data import DataLoader, Subset

        n = self.world_size
        if shuffle:
            if batch_size % n:
                raise ValueError(f"Trainer: the global batch_size={batch_size} does not split over {n} "
                                 f"processes; use a multiple of {n} (each rank takes batch_size / {n})")
            sampler = dist.DistributedSampler(data, num_replicas=n, rank=self.rank, shuffle=True,
                                              seed=self.sampler_seed, drop_last=drop_last)
            return DataLoader(data, batch_size=batch_size // n, sampler=sampler, drop_last=drop_last)
        if len(data) < n:  # too few to share: every rank evaluates all (the same numbers)
            return DataLoader(data, batch_size=batch_size, shuffle=False)
        return DataLoader(Subset(data, range(self.rank, len(data), n)), batch_size=batch_size, shuffle=False)

    # -- RNG state ---------------------------------------------------------------------------------
    def _data_rng_state(self) -> dict | None:
        g = _sampler_generator(self.train_loader)
        if g is None:
            return None
        if g == "global":
            return {"global": True}
        return g.bit_generator.state

    def _set_data_rng_state(self, state: dict | None) -> None:
        g = _sampler_generator(self.train_loader)
        if state is None or g is None or state.get("global"):
            return
        g.bit_generator.state = state

    def rng_state(self) -> dict:
        """RNG states for a checkpoint: gradus's global generator and the data-order generator."""
        from .. import random as grandom

        return {
            "gradus": grandom.get_rng_state(),
            "data": self._data_rng_state(),
            "data_epoch_start": self._epoch_start_rng,
        }

    # -- checkpoints -------------------------------------------------------------------------------
    def state_meta(self) -> dict[str, Any]:
        """Everything but the tensors of model/optimizer/scheduler that ``resume`` needs."""
        from .. import __version__

        return {
            "epoch": self.epoch,
            "step": self.global_step,
            "batch_in_epoch": self.batch_in_epoch,
            "epochs": self.epochs,
            "history": self.history,
            "rng": self.rng_state(),
            "running": {k: v.state_dict() for k, v in self._running.items()},
            "callbacks": self.callbacks.state_dict(),
            "config": self.config,
            "seed": self.seed,
            "gradus_version": __version__,
        }

    def save_checkpoint(self, path: str | Path, extra: Mapping[str, Any] | None = None) -> Path:
        """Write model, optimizer, scheduler and :meth:`state_meta` (+ ``extra``) to ``path``."""
        from .checkpoint import save_checkpoint

        meta = self.state_meta()
        meta["world_size"] = self.world_size
        if extra:
            meta.update(extra)
        # the plain model: a checkpoint of a data-parallel run loads into a model never wrapped
        return save_checkpoint(path, self.module, self.optimizer, self.scheduler, meta=meta)

    def resume(self, path: str | Path, strict: bool = True) -> dict[str, Any]:
        """Load a checkpoint written by :meth:`save_checkpoint` and continue from it on the next
        ``fit``. In deterministic mode the run ends bit-identical to one never interrupted: the data
        order, dropout masks, optimizer and scheduler states all continue where they stopped (a
        mid-epoch checkpoint replays the epoch's shuffle and skips the batches already done).

        Returns the checkpoint's meta dict.
        """
        from .. import random as grandom
        from .checkpoint import load_checkpoint

        meta = load_checkpoint(path, self.module, self.optimizer, self.scheduler, strict=strict)
        self.epoch = int(meta.get("epoch", 0))
        self.global_step = int(meta.get("step", 0))
        self.batch_in_epoch = int(meta.get("batch_in_epoch", 0))
        self.history = list(meta.get("history", []))
        self.callbacks.load_state_dict(meta.get("callbacks") or {})
        rng = meta.get("rng") or {}
        if self.batch_in_epoch:
            # Restored in _train_epoch, after the epoch's permutation has been replayed.
            self._pending_resume = {"rng": rng, "running": meta.get("running") or {}}
        elif rng.get("gradus"):
            grandom.set_rng_state(rng["gradus"])
            self._pending_resume = {"rng": rng, "running": {}}
        if self.rank:
            # The checkpoint holds rank 0's generator; another rank continues with a stream of its own
            # (data-parallel resumes are exact for the weights and the data order, not for dropout).
            grandom.manual_seed(self._training_seed(int(self.seed or 0), self.global_step))
            if self._pending_resume is not None:
                self._pending_resume["rng"] = {**self._pending_resume["rng"], "gradus": None}
        self.resumed_from = str(path)
        return meta

    # -- one step ------------------------------------------------------------------------------------
    def _named_parameters(self) -> list[tuple[str, Any]]:
        named = getattr(self.model, "named_parameters", None)
        if callable(named):
            return list(named())
        return [(f"param{i}", p) for i, p in enumerate(self.model.parameters())]

    def _params_with_grads(self):
        return [p for p in self.optimizer_params() if p.grad is not None]

    def optimizer_params(self) -> list:
        return [p for group in self.optimizer.param_groups for p in group["params"]]

    @staticmethod
    def _finite(a: Any) -> bool:
        from ..backend import get_array_module

        xp = get_array_module(a)
        # A sum propagates NaN and Inf and allocates nothing; confirm element-wise only when it
        # says "non-finite" (a float32 sum of huge finite values can overflow).
        if math.isfinite(float(xp.sum(a))):
            return True
        return bool(xp.isfinite(a).all())

    def _last_checkpoint(self) -> tuple[str, str] | None:
        """(path, "epoch e, step s") of the last checkpoint a callback wrote, if any."""
        for cb in self.callbacks:
            last = getattr(cb, "last_saved", None)
            if last:
                epoch, step = getattr(cb, "last_saved_epoch", "?"), getattr(cb, "last_saved_step", "?")
                when = f"epoch {epoch}, step {step}"
                return str(last), when
        return None

    def _diverged(self, X: Any, y: Any, loss_value: float, what: str) -> None:
        """Find where the NaN/Inf appeared, then raise TrainingDivergedError."""
        from ..autograd import detect_anomaly
        from ..errors import AnomalyError

        step = self.global_step + 1
        parameter = None
        op = None
        # 1) a parameter that is itself already NaN/Inf: the previous update produced it.
        for name, p in self._named_parameters():
            if not self._finite(p.data):
                when = f"the update of step {step - 1} made it so" if step > 1 else "before the first update"
                parameter, where = name, f"parameter {name!r} holds NaN/Inf ({when})"
                break
        else:
            where = None
            if what == "grad":
                for name, p in self._named_parameters():
                    if p.grad is not None and not self._finite(p.grad.data):
                        parameter, where = name, f"the gradient of parameter {name!r} is NaN/Inf"
                        break
            # 2) re-run this step under anomaly mode: the first op whose output is NaN/Inf (through
            # the plain module: a data-parallel backward would wait for ranks that did not diverge).
            self.optimizer.zero_grad()
            try:
                with detect_anomaly(), np.errstate(all="ignore"):
                    obj = self.loss_fn(self.module(X), y)
                    if self.l2:
                        obj = obj + l2_penalty(self.model, self.l2)
                    obj.backward()
            except AnomalyError as e:
                op = str(e).strip().splitlines()[0]
            except Exception as e:  # noqa: BLE001 - diagnosis only; the divergence is the error
                op = f"(re-running the step under anomaly mode failed: {type(e).__name__}: {e})"
            self.optimizer.zero_grad()
        last = self._last_checkpoint()
        ckpt = last[0] if last else None
        lines = [
            f"training diverged at step {step} (epoch {self.epoch + 1}, batch {self.batch_in_epoch + 1}): "
            f"loss = {loss_value!r}" + (" and a gradient is NaN/Inf" if what == "grad" else ""),
        ]
        if where:
            lines.append(f"first non-finite value: {where}")
        if op:
            lines.append(f"first op producing NaN/Inf: {op}")
        lines.append(f"last good checkpoint: {last[0]} ({last[1]})" if last
                     else "no checkpoint was written before this step")
        lines.append("try a smaller learning rate (optim.lr), gradient clipping (train.clip_grad_norm) or "
                     "input normalisation")
        raise TrainingDivergedError("\n  ".join(lines), step=step, epoch=self.epoch + 1, loss=loss_value,
                                    parameter=parameter, op=op, checkpoint=ckpt)

    def training_step(self, X: Any, y: Any) -> dict[str, Any]:
        """One optimisation step on ``(X, y)``; returns ``{"loss", "batch_size", ...}``."""
        self.optimizer.zero_grad()
        if self.stateful:
            out, state = self.model(X, self.state)
            self.state = detach_state(state)  # truncated BPTT: the next batch starts from a constant
        else:
            out = self.model(X)
        loss = self.loss_fn(out, y)
        obj = loss
        logs: dict[str, Any] = {}
        if self.l2:
            penalty = l2_penalty(self.model, self.l2)
            obj = loss + penalty
            logs["l2_penalty"] = float(penalty.item())
        loss_value = float(loss.item())
        obj_value = float(obj.item()) if self.l2 else loss_value
        if self.check_finite and not math.isfinite(obj_value):
            self._diverged(X, y, obj_value, "loss")
        obj.backward()
        if self.check_finite:
            for p in self._params_with_grads():
                if not self._finite(p.grad.data):
                    self._diverged(X, y, obj_value, "grad")
        if self.clip_grad_norm > 0:
            from ..nn.utils import clip_grad_norm_

            logs["grad_norm"] = float(clip_grad_norm_(self.optimizer_params(), self.clip_grad_norm))
        self.optimizer.step()
        if self.scheduler is not None and self.scheduler_interval == "step":
            self.scheduler.step()
        self.global_step += 1
        n = _batch_size(y)
        logs["loss"] = loss_value
        logs["batch_size"] = n
        out_a, y_a = _array(out), _array(y)
        if _is_classification(out_a, y_a):
            logs["correct"] = int((M.predictions(out_a) == y_a).sum())
        return logs

    # -- one epoch -------------------------------------------------------------------------------------
    def _train_epoch(self) -> dict[str, Any]:
        from .. import random as grandom

        self.model.train()
        self.state = None
        pending = self._pending_resume
        self._pending_resume = None
        skip = self.batch_in_epoch if pending else 0
        if skip:
            # Replay this epoch's shuffle from its starting state, skip the batches already done,
            # then put every generator where it was when the checkpoint was written.
            start = pending["rng"].get("data_epoch_start")
            if start and start.get("global"):
                grandom.set_rng_state(start["gradus"])
            else:
                self._set_data_rng_state(start)
            self._epoch_start_rng = start
            self._running = {k: M.RunningMean(**v) for k, v in pending["running"].items()}
        else:
            self.batch_in_epoch = 0
            if pending:
                self._set_data_rng_state(pending["rng"].get("data"))
            start = self._data_rng_state()
            if start is not None and start.get("global"):
                start = {"global": True, "gradus": grandom.get_rng_state()}
            self._epoch_start_rng = start
            self._running = {"loss": M.RunningMean()}
        sampler = getattr(self.train_loader, "sampler", None)
        if callable(getattr(sampler, "set_epoch", None)):
            sampler.set_epoch(self.epoch)  # DistributedSampler: this epoch's order, the same on every rank
        iterator = iter(self.train_loader)
        for _ in range(skip):
            next(iterator)
        if skip:
            if pending["rng"].get("gradus"):
                grandom.set_rng_state(pending["rng"]["gradus"])
            self._set_data_rng_state(pending["rng"].get("data"))

        for batch in iterator:
            X, y = _as_batch(batch)
            logs = self.training_step(X, y)
            n = logs["batch_size"]
            self._running["loss"].update(logs["loss"], n)
            if "correct" in logs:
                self._running.setdefault("accuracy", M.RunningMean()).update(logs["correct"] / n, n)
            if "l2_penalty" in logs:
                self._running.setdefault("l2_penalty", M.RunningMean()).update(logs["l2_penalty"], n)
            self.batch_in_epoch += 1
            self.callbacks.on_batch_end(self, self.batch_in_epoch, logs)
        if self.world_size > 1:
            count = self._running["loss"].count
            return self._all_reduce_means({k: v.total / count if count else 0.0
                                           for k, v in self._running.items()}, count)
        return {k: v.mean for k, v in self._running.items()}

    def current_lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def fit(
        self,
        train_data: Any,
        val_data: Any = None,
        epochs: int = 1,
        batch_size: int = 32,
        eval_batch_size: int | None = None,
        shuffle: bool = True,
    ) -> list[dict[str, Any]]:
        """Train until ``epochs`` epochs are completed (counting those of a resumed checkpoint).

        Args:
            train_data, val_data: DataLoaders, or Datasets (wrapped in a DataLoader with
                ``batch_size``; the training one shuffled by the trainer's seeded generator).

        Returns:
            ``history``: one dict per epoch with ``epoch``, ``step``, ``loss``, ``accuracy``,
            ``val_loss``, ``val_accuracy`` (with validation data), ``lr`` and ``time`` (seconds).
        """
        self.train_loader = self.make_loader(train_data, batch_size, shuffle=shuffle)
        self.val_loader = self.make_loader(val_data, eval_batch_size or max(batch_size, 256), shuffle=False)
        self.epochs = int(epochs)
        self.stop_training = False
        self.callbacks.on_train_begin(self)
        try:
            self._fit_epochs()
        except BaseException as exc:
            self.callbacks.on_exception(self, exc)
            raise
        self.callbacks.on_train_end(self, self.history[-1] if self.history else {})
        return self.history

    def _fit_epochs(self) -> None:
        while self.epoch < self.epochs and not self.stop_training:
            self._epoch_t0 = time.perf_counter()
            self.callbacks.on_epoch_begin(self, self.epoch + 1)
            logs: dict[str, Any] = {"epoch": self.epoch + 1}
            logs.update(self._train_epoch())
            if self.val_loader is not None:
                val = self.evaluate(self.val_loader)
                logs.update({f"val_{k}": v for k, v in val.items()})
            logs["lr"] = self.current_lr()
            self._step_scheduler_epoch(logs)
            self.epoch += 1
            self.batch_in_epoch = 0
            logs["step"] = self.global_step
            logs["time"] = round(time.perf_counter() - self._epoch_t0, 4)
            self.history.append(logs)
            self._epoch_start_rng = None
            self.callbacks.on_epoch_end(self, self.epoch, logs)

    def monitored(self, logs: Mapping[str, Any]) -> float:
        """The value of ``self.monitor`` in ``logs`` (``val_X`` falls back to ``X`` without validation)."""
        if self.monitor in logs:
            return float(logs[self.monitor])
        if self.monitor.startswith("val_") and self.monitor[4:] in logs and self.val_loader is None:
            return float(logs[self.monitor[4:]])
        raise KeyError(f"monitored metric {self.monitor!r} is not among the logged ones: {sorted(logs)}")

    def _step_scheduler_epoch(self, logs: Mapping[str, Any]) -> None:
        if self.scheduler is None or self.scheduler_interval != "epoch":
            return
        if type(self.scheduler).__name__ == "ReduceLROnPlateau":
            self.scheduler.step(self.monitored(logs))
        else:
            self.scheduler.step()

    def evaluate(self, data: Any, batch_size: int = 256, **kwargs: Any) -> dict[str, Any]:
        """:func:`evaluate` of this trainer's model and loss on a DataLoader or Dataset."""
        loader = self.make_loader(data, batch_size, shuffle=False)
        kwargs.setdefault("stateful", self.stateful)
        if self.world_size == 1:
            return evaluate(self.model, loader, self.loss_fn, **kwargs)
        # every rank evaluates rank 0's model (its BatchNorm statistics) on its shard; the means are
        # combined, weighted by the shards' sizes
        self.model.sync_buffers()
        result = evaluate(self.model, loader, self.loss_fn, **kwargs)
        dataset = getattr(loader, "dataset", None)
        count = len(dataset) if dataset is not None and hasattr(dataset, "__len__") else 1
        means = {k: v for k, v in result.items() if isinstance(v, float)}
        result.update(self._all_reduce_means(means, count))
        return result


def fit(
    model: Any,
    optimizer: Any,
    train_data: Any,
    val_data: Any = None,
    epochs: int = 1,
    batch_size: int = 32,
    **trainer_kwargs: Any,
) -> Trainer:
    """Train in one call: ``Trainer(model, optimizer, **trainer_kwargs).fit(...)``; returns the
    trainer (its ``history`` holds the per-epoch metrics).

    Example::

        trainer = fit(net, gradus.optim.Adam(net.parameters()), train_ds, val_ds, epochs=5, seed=0)
        trainer.history[-1]["val_accuracy"]
    """
    trainer = Trainer(model, optimizer, **trainer_kwargs)
    trainer.fit(train_data, val_data, epochs=epochs, batch_size=batch_size)
    return trainer
