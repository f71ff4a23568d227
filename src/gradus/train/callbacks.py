"""Callbacks: code that runs at fixed points of the training loop (Keras-style hooks).

``Trainer`` calls, in this order::

    on_train_begin(trainer)
      on_epoch_begin(trainer, epoch)                  # epoch is 1-based
        on_batch_end(trainer, batch, logs)            # logs: loss, batch_size, correct, ...
      on_epoch_end(trainer, epoch, logs)              # logs: loss, accuracy, val_*, lr, time
    on_train_end(trainer, logs)
    on_exception(trainer, exc)                        # instead, when training stops with an error

Callbacks run sorted by their ``order`` (stable): early stopping (0) decides before the loggers
(50) write, and checkpoints (100) are written last so they record every other callback's state.
A callback that must survive ``resume`` implements ``state_dict()`` / ``load_state_dict()``.
"""
from __future__ import annotations

import csv
import io
import json
import math
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "Callback",
    "CallbackList",
    "ProgressBar",
    "EarlyStopping",
    "ModelCheckpoint",
    "CSVLogger",
    "JSONLLogger",
    "TensorBoardLogger",
    "LambdaCallback",
]


class Callback:
    """Base class: override the hooks you need. ``order`` sets the position among callbacks."""

    order = 0

    def on_train_begin(self, trainer: Any) -> None:
        pass

    def on_epoch_begin(self, trainer: Any, epoch: int) -> None:
        pass

    def on_batch_end(self, trainer: Any, batch: int, logs: Mapping[str, Any]) -> None:
        pass

    def on_epoch_end(self, trainer: Any, epoch: int, logs: Mapping[str, Any]) -> None:
        pass

    def on_train_end(self, trainer: Any, logs: Mapping[str, Any]) -> None:
        pass

    def on_exception(self, trainer: Any, exc: BaseException) -> None:
        """Training stopped with ``exc`` (divergence, Ctrl-C, ...): release resources; not a save point."""

    def state_dict(self) -> dict[str, Any]:
        """What ``resume`` must restore (JSON-able; ndarrays are stored as checkpoint tensors)."""
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        pass


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda t, e, logs: ...)``."""

    def __init__(self, order: int = 0, **hooks: Any) -> None:
        names = {"on_train_begin", "on_epoch_begin", "on_batch_end", "on_epoch_end", "on_train_end"}
        bad = set(hooks) - names
        if bad:
            raise TypeError(f"LambdaCallback: unknown hook(s) {sorted(bad)}; choose from {sorted(names)}")
        self.order = order
        for name, fn in hooks.items():
            setattr(self, name, fn)


class CallbackList:
    """Dispatches each hook to every callback, in ``order``."""

    def __init__(self, callbacks: Iterable[Callback]) -> None:
        self.callbacks = sorted(callbacks, key=lambda c: getattr(c, "order", 0))

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self) -> int:
        return len(self.callbacks)

    def append(self, cb: Callback) -> None:
        self.callbacks = sorted([*self.callbacks, cb], key=lambda c: getattr(c, "order", 0))

    def _keys(self) -> list[str]:
        counts: dict[str, int] = {}
        keys = []
        for cb in self.callbacks:
            name = type(cb).__name__
            keys.append(f"{name}.{counts.get(name, 0)}")
            counts[name] = counts.get(name, 0) + 1
        return keys

    def state_dict(self) -> dict[str, Any]:
        out = {}
        for key, cb in zip(self._keys(), self.callbacks):
            st = cb.state_dict()
            if st:
                out[key] = st
        return out

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        for key, cb in zip(self._keys(), self.callbacks):
            if key in state:
                cb.load_state_dict(state[key])

    def on_train_begin(self, trainer: Any) -> None:
        for cb in self.callbacks:
            cb.on_train_begin(trainer)

    def on_epoch_begin(self, trainer: Any, epoch: int) -> None:
        for cb in self.callbacks:
            cb.on_epoch_begin(trainer, epoch)

    def on_batch_end(self, trainer: Any, batch: int, logs: Mapping[str, Any]) -> None:
        for cb in self.callbacks:
            cb.on_batch_end(trainer, batch, logs)

    def on_epoch_end(self, trainer: Any, epoch: int, logs: Mapping[str, Any]) -> None:
        for cb in self.callbacks:
            cb.on_epoch_end(trainer, epoch, logs)

    def on_train_end(self, trainer: Any, logs: Mapping[str, Any]) -> None:
        for cb in self.callbacks:
            cb.on_train_end(trainer, logs)

    def on_exception(self, trainer: Any, exc: BaseException) -> None:
        for cb in self.callbacks:
            hook = getattr(cb, "on_exception", None)
            if hook is not None:
                hook(trainer, exc)


# --------------------------------------------------------------------------- progress


def format_logs(logs: Mapping[str, Any], keys: Iterable[str] | None = None) -> str:
    """``loss 0.1234  accuracy 0.9650  val_loss ...``: floats with 4 decimals (lr in %g)."""
    parts = []
    for k in keys if keys is not None else logs:
        if k not in logs:
            continue
        v = logs[k]
        if isinstance(v, float):
            parts.append(f"{k} {v:.3g}" if k == "lr" else f"{k} {v:.4f}")
        elif isinstance(v, (int, str)):
            parts.append(f"{k} {v}")
    return "  ".join(parts)


_EPOCH_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy", "lr")


class ProgressBar(Callback):
    """Progress per epoch: a live ``tqdm`` bar (samples done, samples/s, running loss) in a
    terminal, else one line per epoch (CI logs stay short). Either way each finished epoch leaves
    one summary line: loss, accuracy, validation metrics, lr, samples/s, seconds.

    Args:
        stream: where to write (default ``sys.stderr``).
        use_tqdm: ``None`` = tqdm when it is installed and ``stream`` is a TTY; ``False`` = plain.
        every: update the bar's running loss every this many batches.
        mininterval: seconds between redraws of the bar.
    """

    order = 60

    def __init__(self, stream: Any = None, use_tqdm: bool | None = None, every: int = 10,
                 mininterval: float = 0.1) -> None:
        self.stream = stream
        self.use_tqdm = use_tqdm
        self.every = max(1, int(every))
        self.mininterval = mininterval
        self._bar = None
        self._tqdm = None

    def _out(self):
        return self.stream if self.stream is not None else sys.stderr

    def on_train_begin(self, trainer: Any) -> None:
        self._tqdm = None
        want = self.use_tqdm
        if want is None:
            isatty = getattr(self._out(), "isatty", None)
            want = bool(isatty and isatty())
        if want:
            try:
                from tqdm.auto import tqdm

                self._tqdm = tqdm
            except ImportError:
                self._tqdm = None
        self._t_train = time.perf_counter()
        if trainer.epoch:
            self._write(f"resuming at epoch {trainer.epoch + 1}/{trainer.epochs} "
                        f"(step {trainer.global_step})")

    def _write(self, line: str) -> None:
        if self._tqdm is not None:
            self._tqdm.write(line, file=self._out())
        else:
            print(line, file=self._out(), flush=True)

    def on_epoch_begin(self, trainer: Any, epoch: int) -> None:
        self._t0 = time.perf_counter()
        self._samples = 0
        self._loss_sum = 0.0
        if self._tqdm is not None:
            # Counted in samples, so tqdm's own rate reads "samples/s".
            try:
                total = len(trainer.train_loader.dataset)
                if getattr(trainer.train_loader, "drop_last", False):
                    total -= total % trainer.train_loader.batch_size
            except (AttributeError, TypeError):
                total = None
            self._bar = self._tqdm(total=total, desc=f"epoch {epoch}/{trainer.epochs}", leave=False,
                                   file=self._out(), unit="samples", unit_scale=True, dynamic_ncols=True,
                                   mininterval=self.mininterval)

    def on_batch_end(self, trainer: Any, batch: int, logs: Mapping[str, Any]) -> None:
        n = int(logs.get("batch_size", 0))
        self._samples += n
        self._loss_sum += float(logs.get("loss", 0.0)) * n
        if self._bar is not None:
            self._bar.update(n)
            if batch % self.every == 0:
                self._bar.set_postfix(loss=f"{self._loss_sum / max(self._samples, 1):.4f}", refresh=False)

    def on_epoch_end(self, trainer: Any, epoch: int, logs: Mapping[str, Any]) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        dt = max(time.perf_counter() - self._t0, 1e-9)
        width = len(str(trainer.epochs))
        rate = f"{self._samples / dt:.0f} samples/s" if self._samples else ""
        self._write(f"epoch {epoch:>{width}}/{trainer.epochs}  {format_logs(logs, _EPOCH_KEYS)}  {rate}  "
                    f"{dt:.1f}s".rstrip())

    def on_train_end(self, trainer: Any, logs: Mapping[str, Any]) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def on_exception(self, trainer: Any, exc: BaseException) -> None:
        self.on_train_end(trainer, {})  # close the bar so the error starts on a fresh line


# --------------------------------------------------------------------------- early stopping


def _resolve_mode(mode: str, monitor: str) -> str:
    if mode == "auto":
        return "max" if any(s in monitor for s in ("acc", "f1", "precision", "recall", "auc")) else "min"
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min', 'max' or 'auto', got {mode!r}")
    return mode


def _snapshot(model: Any) -> dict[str, np.ndarray]:
    """A copy of the model's weights (state_dict shares memory with the live parameters)."""
    from .metrics import to_numpy

    return {k: np.array(to_numpy(v), copy=True) for k, v in model.state_dict().items()}


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs (the lecture's remedy for
    overfitting: the validation error starts rising while the training error keeps falling).

    Args:
        monitor: a logged metric, e.g. ``"val_loss"`` or ``"val_accuracy"``.
        patience: epochs without improvement before stopping.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (max for accuracy-like names, else min).
        min_delta: an improvement must beat the best by more than this.
        restore_best_weights: at the end of training put back the weights of the best epoch.

    Attributes:
        best, best_epoch, stopped_epoch (0 if training ran to the end).
    """

    order = 0

    def __init__(self, monitor: str = "val_loss", patience: int = 5, mode: str = "auto",
                 min_delta: float = 0.0, restore_best_weights: bool = True, verbose: bool = True) -> None:
        if patience < 1:
            raise ValueError(f"EarlyStopping: patience must be >= 1, got {patience}")
        self.monitor = monitor
        self.patience = int(patience)
        self.mode = _resolve_mode(mode, monitor)
        self.min_delta = abs(float(min_delta))
        self.restore_best_weights = restore_best_weights
        self.verbose = verbose
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = 0
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights: dict[str, np.ndarray] | None = None

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, trainer: Any, epoch: int, logs: Mapping[str, Any]) -> None:
        if self.monitor not in logs:
            hint = ""
            if self.monitor.startswith("val_"):
                hint = " (it needs validation data: set data.val_fraction > 0)"
            raise KeyError(
                f"EarlyStopping monitors {self.monitor!r}, which is not logged{hint}; logged: "
                f"{', '.join(sorted(k for k in logs if isinstance(logs[k], float)))}"
            )
        value = float(logs[self.monitor])
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = _snapshot(trainer.model)
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = epoch
                trainer.stop_training = True

    def on_train_end(self, trainer: Any, logs: Mapping[str, Any]) -> None:
        last = trainer.epoch
        if self.restore_best_weights and self.best_weights is not None and self.best_epoch != last:
            from ..tensor import Tensor

            trainer.model.load_state_dict({k: Tensor._make(v.copy()) for k, v in self.best_weights.items()})
            if self.verbose:
                msg = (f"early stopping: {self.monitor} did not improve for {self.patience} epochs"
                       if self.stopped_epoch else "end of training")
                print(f"{msg}; restored the weights of epoch {self.best_epoch} "
                      f"({self.monitor} {self.best:.4f})", file=sys.stderr, flush=True)

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait,
                "stopped_epoch": self.stopped_epoch, "best_weights": self.best_weights}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.best = float(state["best"])
        self.best_epoch = int(state["best_epoch"])
        self.wait = int(state["wait"])
        self.stopped_epoch = int(state.get("stopped_epoch", 0))
        bw = state.get("best_weights")
        self.best_weights = None if bw is None else {k: np.array(v) for k, v in bw.items()}


# --------------------------------------------------------------------------- checkpoints


class ModelCheckpoint(Callback):
    """Save a checkpoint (safetensors + JSON, see :mod:`gradus.train.checkpoint`).

    Args:
        path: the ``.safetensors`` file to write (its directory is created).
        monitor: with ``save_best_only``, the metric deciding what "best" is.
        mode: ``"min"``, ``"max"`` or ``"auto"``.
        save_best_only: write only when ``monitor`` improves (else: after every epoch, overwriting).
        every_n_steps: also write every this many optimisation steps (mid-epoch checkpoints; resume
            replays the epoch's shuffle and skips the finished batches). 0 = off.
        save_on_train_end: write once more when training ends (after early stopping restored the
            best weights), unless ``save_best_only``.

    Attributes:
        last_saved: path of the last checkpoint written (None before the first), with
        ``last_saved_epoch`` / ``last_saved_step``.
    """

    order = 100

    def __init__(self, path: str | Path, monitor: str = "val_loss", mode: str = "auto",
                 save_best_only: bool = False, every_n_steps: int = 0,
                 save_on_train_end: bool = True) -> None:
        self.path = Path(path)
        self.monitor = monitor
        self.mode = _resolve_mode(mode, monitor)
        self.save_best_only = save_best_only
        self.every_n_steps = int(every_n_steps)
        self.save_on_train_end = save_on_train_end
        self.best = math.inf if self.mode == "min" else -math.inf
        self.last_saved: Path | None = None
        self.last_saved_epoch = 0
        self.last_saved_step = 0

    def _save(self, trainer: Any) -> None:
        trainer.save_checkpoint(self.path)
        self.last_saved = self.path
        self.last_saved_epoch = trainer.epoch
        self.last_saved_step = trainer.global_step

    def on_batch_end(self, trainer: Any, batch: int, logs: Mapping[str, Any]) -> None:
        if self.every_n_steps and not self.save_best_only and trainer.global_step % self.every_n_steps == 0:
            self._save(trainer)

    def on_epoch_end(self, trainer: Any, epoch: int, logs: Mapping[str, Any]) -> None:
        if not self.save_best_only:
            self._save(trainer)
            return
        if self.monitor not in logs:
            raise KeyError(f"ModelCheckpoint(save_best_only=True) monitors {self.monitor!r}, which is not "
                           f"logged; logged: {sorted(logs)}")
        value = float(logs[self.monitor])
        better = value < self.best if self.mode == "min" else value > self.best
        if better:
            self.best = value
            self._save(trainer)

    def on_train_end(self, trainer: Any, logs: Mapping[str, Any]) -> None:
        if self.save_on_train_end and not self.save_best_only and trainer.epoch:
            self._save(trainer)

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.best = float(state.get("best", self.best))


# --------------------------------------------------------------------------- loggers


def _scalars(logs: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in logs.items() if isinstance(v, (int, float, str)) and not isinstance(v, bool)}


class CSVLogger(Callback):
    """One row per epoch in a CSV file (columns: every scalar logged, in first-seen order).

    The file is rewritten from ``trainer.history`` at each epoch (it is small), so a resumed run
    continues the file exactly where its checkpoint was, without duplicate rows.
    """

    order = 50

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def _write(self, history: list[Mapping[str, Any]]) -> None:
        from .checkpoint import atomic_write_text

        columns: list[str] = []
        for row in history:
            for k in _scalars(row):
                if k not in columns:
                    columns.append(k)
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        for row in history:
            w.writerow(_scalars(row))
        atomic_write_text(self.path, buf.getvalue())

    def on_train_begin(self, trainer: Any) -> None:
        self._write(trainer.history)

    def on_epoch_end(self, trainer: Any, epoch: int, logs: Mapping[str, Any]) -> None:
        self._write(trainer.history)


class JSONLLogger(Callback):
    """One JSON object per line and epoch (``{"epoch": 1, "loss": ..., ...}``), appended.

    At the start of training the file is rewritten from ``trainer.history`` (empty for a new run,
    the checkpoint's epochs for a resumed one). ``log_every_n_steps > 0`` adds
    ``{"step": s, "loss": ...}`` lines for individual batches.
    """

    order = 50

    def __init__(self, path: str | Path, log_every_n_steps: int = 0) -> None:
        self.path = Path(path)
        self.log_every_n_steps = int(log_every_n_steps)

    def _append(self, record: Mapping[str, Any]) -> None:
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(_scalars(record)) + "\n")

    def on_train_begin(self, trainer: Any) -> None:
        from .checkpoint import atomic_write_text

        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path, "".join(json.dumps(_scalars(r)) + "\n" for r in trainer.history))

    def on_batch_end(self, trainer: Any, batch: int, logs: Mapping[str, Any]) -> None:
        if self.log_every_n_steps and trainer.global_step % self.log_every_n_steps == 0:
            self._append({"step": trainer.global_step, "loss": logs["loss"]})

    def on_epoch_end(self, trainer: Any, epoch: int, logs: Mapping[str, Any]) -> None:
        self._append(logs)


def _tensorboard_writer(log_dir: Path):
    """A scalar writer: tensorboardX's SummaryWriter, else the ``tensorboard`` package's event-file
    writer (the same files ``torch.utils.tensorboard`` writes, without torch)."""
    try:
        from tensorboardX import SummaryWriter  # type: ignore[import-not-found]

        return SummaryWriter(str(log_dir))
    except ImportError:
        pass
    try:
        from tensorboard.compat.proto.event_pb2 import Event  # type: ignore[import-not-found]
        from tensorboard.compat.proto.summary_pb2 import Summary  # type: ignore[import-not-found]
        from tensorboard.summary.writer.event_file_writer import (  # type: ignore[import-not-found]
            EventFileWriter,
        )
    except ImportError:
        raise ImportError(
            "TensorBoardLogger needs the 'tensorboard' package (or 'tensorboardX'): pip install tensorboard"
        ) from None

    class _Writer:
        def __init__(self) -> None:
            self._w = EventFileWriter(str(log_dir))

        def add_scalar(self, tag: str, value: float, global_step: int) -> None:
            summary = Summary(value=[Summary.Value(tag=tag, simple_value=float(value))])
            self._w.add_event(Event(summary=summary, wall_time=time.time(), step=int(global_step)))

        def flush(self) -> None:
            self._w.flush()

        def close(self) -> None:
            self._w.close()

    return _Writer()


class TensorBoardLogger(Callback):
    """Scalars for TensorBoard (``tensorboard --logdir DIR``): every numeric epoch metric under
    ``epoch/<name>`` and, with ``log_every_n_steps``, the batch loss under ``step/loss``."""

    order = 50

    def __init__(self, log_dir: str | Path, log_every_n_steps: int = 0) -> None:
        self.log_dir = Path(log_dir)
        self.log_every_n_steps = int(log_every_n_steps)
        self.writer = _tensorboard_writer(self.log_dir)  # fails here, early, when not installed

    def on_batch_end(self, trainer: Any, batch: int, logs: Mapping[str, Any]) -> None:
        if self.log_every_n_steps and trainer.global_step % self.log_every_n_steps == 0:
            self.writer.add_scalar("step/loss", logs["loss"], trainer.global_step)

    def on_epoch_end(self, trainer: Any, epoch: int, logs: Mapping[str, Any]) -> None:
        for k, v in logs.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "epoch":
                self.writer.add_scalar(f"epoch/{k}", v, epoch)
        self.writer.flush()

    def on_train_end(self, trainer: Any, logs: Mapping[str, Any]) -> None:
        self.writer.close()

    def on_exception(self, trainer: Any, exc: BaseException) -> None:
        self.writer.close()
