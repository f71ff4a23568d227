"""``SyncBatchNorm``: batch normalisation with the statistics of the *global* batch (all ranks).

With plain BatchNorm under DistributedDataParallel each rank normalises with the mean and variance of
its own ``B / N`` samples, so N processes do not compute what one process with batch ``B`` does.
SyncBatchNorm all-reduces the per-channel sums ``(sum x, sum x^2, count)`` in forward, so every rank
normalises with the global batch's statistics, and -- because the all-reduce is a differentiable
op (:func:`differentiable_all_reduce`, whose backward all-reduces the incoming gradients) -- the
backward sums the statistics' gradients over the ranks too. Two processes with SyncBatchNorm and a
global batch ``B`` then give the weights one process with BatchNorm and batch ``B`` gives.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import cat, rsqrt
from ..autograd import Function
from ..creation import from_numpy
from ..nn import BatchNorm1d, Module
from .process_group import get_world_size, is_initialized, mpi_comm

__all__ = ["SyncBatchNorm", "differentiable_all_reduce"]


class _AllReduceSum(Function):
    """y = sum over ranks of x (on every rank); gx = sum over ranks of gy.

    The adjoint of "every rank gets the sum" is "every rank gets the sum of the gradients": rank s's
    x reaches the loss of every rank r through y_r.
    """

    @staticmethod
    def forward(ctx, x):
        from mpi4py import MPI

        y = np.ascontiguousarray(x).copy()
        mpi_comm().Allreduce(MPI.IN_PLACE, y, op=MPI.SUM)
        return y

    @staticmethod
    def backward(ctx, gy):
        return _AllReduceSum.apply(gy)


def differentiable_all_reduce(x):
    """The sum over ranks of the Tensor ``x`` (same shape on every rank), as a differentiable op: the
    gradient that reaches ``x`` is the sum over ranks of the gradients of the result. Identity in a
    world of one."""
    if not is_initialized() or get_world_size() == 1:
        return x
    return _AllReduceSum.apply(x)


class SyncBatchNorm(BatchNorm1d):
    """Batch norm over (N, C, *) inputs whose training statistics are those of the global batch.

    PyTorch's ``nn.SyncBatchNorm``: same parameters and buffers as ``BatchNorm{1,2,3}d`` (it accepts
    any input with ``ndim >= 2``); in training the per-channel mean and biased variance come from
    every rank's samples, the running variance gets the unbiased factor ``n / (n - 1)`` with ``n``
    the global count; in evaluation (or outside a process group, or in a world of one) it is plain
    batch norm. Convert a model with :meth:`convert_sync_batchnorm` before wrapping it in
    DistributedDataParallel. Every rank must call it in the same order (the statistics are a
    collective): the same model on every rank guarantees that.
    """

    _dims = (2, 3, 4, 5)

    def forward(self, input):  # noqa: A002
        distributed = self.training and is_initialized() and get_world_size() > 1
        if not distributed:
            return super().forward(input)
        self._check_input_dim(input)
        x = input
        C = self.num_features
        if x.shape[1] != C:
            raise ValueError(f"SyncBatchNorm: expected {C} channels in dim 1, got input of shape "
                             f"{tuple(x.shape)}")
        axes = (0,) + tuple(range(2, x.ndim))
        bshape = (1, C) + (1,) * (x.ndim - 2)
        local_n = np.full((1,), x.data.size // C, dtype=x.data.dtype)
        stats = differentiable_all_reduce(cat([x.sum(dim=axes), (x * x).sum(dim=axes),
                                               from_numpy(local_n)]))  # (2C + 1,)
        n = float(stats.data[2 * C])
        if n <= 1:
            raise ValueError(f"SyncBatchNorm: expected more than 1 value per channel when training, got "
                             f"{int(n)} over all ranks (this rank's input: {tuple(x.shape)})")
        mean = stats[:C] / n                                   # (C,)
        var = stats[C:2 * C] / n - mean * mean                 # (C,) biased, as batch norm normalises
        if self.track_running_stats and self.running_mean is not None:
            m = self._count_batch()
            rm, rv = self.running_mean.data, self.running_var.data
            rm *= 1 - m
            rm += (m * mean.data).astype(rm.dtype, copy=False)
            rv *= 1 - m
            rv += (m * var.data * (n / (n - 1))).astype(rv.dtype, copy=False)
        y = (x - mean.reshape(bshape)) * rsqrt(var + self.eps).reshape(bshape)
        if self.weight is not None:
            y = y * self.weight.reshape(bshape)
        if self.bias is not None:
            y = y + self.bias.reshape(bshape)
        return y

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group: Any = None) -> Module:
        """``module`` with every ``BatchNorm{1,2,3}d`` replaced by a SyncBatchNorm holding the same
        parameters and buffers (the module itself when it is one; PyTorch's classmethod)."""
        from ..nn import BatchNorm2d, BatchNorm3d

        if process_group is not None:
            raise ValueError("SyncBatchNorm.convert_sync_batchnorm: only the default group (None) is "
                             f"supported, got {process_group!r}")
        if isinstance(module, (BatchNorm1d, BatchNorm2d, BatchNorm3d)) and not isinstance(module, cls):
            new = cls(module.num_features, module.eps, module.momentum, module.affine,
                      module.track_running_stats, bias=getattr(module, "bias", None) is not None)
            for name in ("weight", "bias"):
                if getattr(module, name, None) is not None:
                    setattr(new, name, getattr(module, name))
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                setattr(new, name, getattr(module, name))
            new.train(module.training)
            return new
        for name, child in list(module.named_children()):
            setattr(module, name, cls.convert_sync_batchnorm(child))
        return module
