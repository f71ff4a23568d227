"""Weight averaging: ``AveragedModel`` keeps a running average of a model's weights (PyTorch's
``torch.optim.swa_utils``: same names and update rules; here under ``nn.utils`` because the averaged copy
is a Module and ``optim`` never imports ``nn``).

Two averages, both computed in place on a deep copy of the model, outside autograd:

* stochastic weight averaging (Izmailov et al. 2018), the default — the plain mean of every snapshot
  passed to ``update_parameters``:  ``avg <- avg + (p - avg) / (n + 1)``;
* an exponential moving average (``multi_avg_fn=get_ema_multi_avg_fn(decay)`` or
  ``avg_fn=get_ema_avg_fn(decay)``):  ``avg <- decay * avg + (1 - decay) * p``.

The first call copies the weights (``n_averaged`` 0 -> 1); after that each call averages. With
``use_buffers=True`` buffers (batch norm's running statistics) are averaged like the parameters;
otherwise they are copied from the model on every call, so the copy stays usable in eval mode.
Integer buffers (batch norm's ``num_batches_tracked``) are always copied: PyTorch pushes them through
the average too and truncates the result, which makes the counter meaningless.

An EMA of a GAN generator's weights is the classic use (Yazici et al. 2019, "The unusual effectiveness
of averaging in GAN training"): the average sits nearer the centre of the generator's orbit around the
equilibrium than any single iterate, and its samples are cleaner.

    >>> import gradus
    >>> from gradus import nn
    >>> from gradus.nn.utils.swa_utils import AveragedModel, get_ema_multi_avg_fn
    >>> net = nn.Linear(2, 1)
    >>> ema = AveragedModel(net, multi_avg_fn=get_ema_multi_avg_fn(0.9))
    >>> with gradus.no_grad():
    ...     _ = net.bias.fill_(1.0)
    >>> ema.update_parameters(net)            # first call: a copy
    >>> with gradus.no_grad():
    ...     _ = net.bias.fill_(2.0)
    >>> ema.update_parameters(net)            # 0.9 * 1 + 0.1 * 2
    >>> round(float(ema.module.bias.item()), 6)
    1.1
"""
from __future__ import annotations

import copy
from collections.abc import Callable

from ...autograd import no_grad
from ...creation import tensor
from ...errors import ShapeError
from ...tensor import Tensor
from ..module import Module

__all__ = ["AveragedModel", "get_ema_avg_fn", "get_ema_multi_avg_fn", "get_swa_avg_fn",
           "get_swa_multi_avg_fn"]


def _check_decay(decay: float, who: str) -> float:
    decay = float(decay)
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"{who}: decay must be in [0, 1], got {decay} (0.999 is usual for a GAN generator)")
    return decay


def get_ema_avg_fn(decay: float = 0.999) -> Callable:
    """``avg_fn(averaged, current, num_averaged) = decay * averaged + (1 - decay) * current`` (arrays)."""
    decay = _check_decay(decay, "get_ema_avg_fn")

    def ema_update(averaged, current, num_averaged):
        return decay * averaged + (1.0 - decay) * current

    return ema_update


def get_ema_multi_avg_fn(decay: float = 0.999) -> Callable:
    """The EMA over lists of arrays, updated in place: ``a <- decay * a + (1 - decay) * c``."""
    decay = _check_decay(decay, "get_ema_multi_avg_fn")

    def ema_update(averaged_list, current_list, num_averaged):
        for a, c in zip(averaged_list, current_list):
            a *= decay
            a += (1.0 - decay) * c

    return ema_update


def get_swa_avg_fn() -> Callable:
    """``avg_fn(averaged, current, n) = averaged + (current - averaged) / (n + 1)``: the running mean."""

    def swa_update(averaged, current, num_averaged):
        return averaged + (current - averaged) / (num_averaged + 1)

    return swa_update


def get_swa_multi_avg_fn() -> Callable:
    """The running mean over lists of arrays, updated in place."""

    def swa_update(averaged_list, current_list, num_averaged):
        for a, c in zip(averaged_list, current_list):
            a += (c - a) / (num_averaged + 1)

    return swa_update


class AveragedModel(Module):
    """A deep copy of ``model`` (``self.module``) whose weights are the average of the weights passed to
    :meth:`update_parameters`; calling it runs the averaged copy.

    ``avg_fn(averaged, current, num_averaged) -> array`` averages one tensor at a time;
    ``multi_avg_fn(averaged_list, current_list, num_averaged)`` updates lists in place (faster). Give at
    most one; neither: the plain running mean (SWA). ``n_averaged`` (a buffer, saved in checkpoints)
    counts the updates.
    """

    def __init__(self, model: Module, device=None, avg_fn: Callable | None = None,
                 multi_avg_fn: Callable | None = None, use_buffers: bool = False):
        super().__init__()
        if not isinstance(model, Module):
            raise TypeError(f"AveragedModel: model must be an nn.Module, got {type(model).__name__}")
        if avg_fn is not None and multi_avg_fn is not None:
            raise ValueError("AveragedModel: give avg_fn or multi_avg_fn, not both")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module.to(device)
        self.register_buffer("n_averaged", tensor(0, dtype="int64"))
        self.avg_fn, self.multi_avg_fn, self.use_buffers = avg_fn, multi_avg_fn, bool(use_buffers)

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def _tensors(self, model: Module) -> list[Tensor]:
        ts = list(model.parameters())
        return ts + list(model.buffers()) if self.use_buffers else ts

    def update_parameters(self, model: Module) -> None:
        """Fold ``model``'s current weights into the average (the first call copies them)."""
        mine, theirs = self._tensors(self.module), self._tensors(model)
        if len(mine) != len(theirs) or any(a.shape != b.shape for a, b in zip(mine, theirs)):
            raise ShapeError(f"AveragedModel.update_parameters: the model's {len(theirs)} tensors "
                             f"{[tuple(t.shape) for t in theirs][:4]}... do not match the averaged copy's "
                             f"{len(mine)} {[tuple(t.shape) for t in mine][:4]}...: pass the model it was "
                             "built from")
        n = int(self.n_averaged.item())
        with no_grad():
            # only floating tensors are averaged; counters (batch norm's num_batches_tracked) are copied
            pairs = [(a.data, b.data) for a, b in zip(mine, theirs) if a.data.dtype.kind == "f"]
            copies = [(a.data, b.data) for a, b in zip(mine, theirs) if a.data.dtype.kind != "f"]
            if n == 0:
                for a, b in pairs:
                    a[...] = b
            elif self.multi_avg_fn is not None:
                self.multi_avg_fn([a for a, _ in pairs], [b for _, b in pairs], n)
            else:
                fn = self.avg_fn or get_swa_avg_fn()
                for a, b in pairs:
                    a[...] = fn(a, b, n)
            for a, b in copies:
                a[...] = b
            if not self.use_buffers:         # keep the buffers in step with the model
                for a, b in zip(self.module.buffers(), model.buffers()):
                    a.data[...] = b.data
            self.n_averaged.data[...] = n + 1
