"""``DistributedSampler``: each rank's disjoint shard of a dataset (``torch.utils.data.distributed``)."""
from __future__ import annotations

import math
from collections.abc import Iterator, Sized
from typing import Any

import numpy as np

from ..data import Sampler
from ..validation import check_int
from .process_group import get_rank, get_world_size

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """The indices of rank ``rank``'s shard of ``dataset``, one of ``num_replicas`` disjoint shards.

    PyTorch's algorithm, step for step: (1) the epoch's order is a permutation of ``range(n)`` drawn
    from a generator seeded with ``seed + epoch`` (the same on every rank, so the shards are
    disjoint) or ``range(n)`` without ``shuffle``; (2) without ``drop_last`` the order is padded
    with its own first indices up to ``num_samples * num_replicas`` (so every rank gets the same
    count, ``ceil(n / num_replicas)``, and a few samples are seen twice per epoch); with
    ``drop_last`` it is cut to that size (``ceil((n - num_replicas) / num_replicas)`` per rank
    when ``n`` does not divide); (3) rank ``r`` takes every ``num_replicas``-th index from ``r``.
    The one difference: the permutation comes from ``numpy.random.default_rng(seed + epoch)``, not
    from ``torch.randperm``, so the order is not PyTorch's own numbers.

    Step (3) is what makes a global batch of ``B`` split exactly: rank ``r``'s ``k``-th batch of
    ``B / N`` indices, taken over all ranks, is the ``k``-th block of ``B`` of the epoch's order (the
    batch one process with ``num_replicas=1`` and batch ``B`` would see).

    Call :meth:`set_epoch` at the start of each epoch (before iterating the DataLoader), or every
    epoch repeats the same order.

    Args:
        dataset: anything with ``len``.
        num_replicas, rank: default: the default process group's world size and rank.
        shuffle: a new permutation each epoch (``seed + epoch``).
        seed: must be the same on every rank.
        drop_last: drop the tail instead of padding.
    """

    def __init__(self, dataset: Sized, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if not hasattr(dataset, "__len__"):
            raise TypeError(f"DistributedSampler: dataset must have a length, got {type(dataset).__name__}")
        if num_replicas is None:
            num_replicas = get_world_size()
        if rank is None:
            rank = get_rank()
        num_replicas = check_int("DistributedSampler", "num_replicas", num_replicas, min=1)
        rank = check_int("DistributedSampler", "rank", rank)
        if not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.shuffle = bool(shuffle)
        self.seed = check_int("DistributedSampler", "seed", seed)
        self.drop_last = bool(drop_last)
        n = len(dataset)
        if self.drop_last and n % num_replicas != 0:
            # the tail is dropped so that every rank gets the same amount of data
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def index_array(self) -> np.ndarray:
        """This epoch's indices for this rank, as one int64 array of ``num_samples``."""
        n = len(self.dataset)
        if self.shuffle:
            indices = np.random.default_rng(self.seed + self.epoch).permutation(n).astype(np.int64)
        else:
            indices = np.arange(n, dtype=np.int64)
        if not self.drop_last:
            padding_size = self.total_size - n
            if padding_size > 0:
                # repeat the order itself (more than once when there are fewer samples than ranks)
                indices = np.concatenate([indices, np.resize(indices, padding_size)])
        else:
            indices = indices[: self.total_size]
        assert len(indices) == self.total_size
        return indices[self.rank : self.total_size : self.num_replicas]

    def __iter__(self) -> Iterator[int]:
        return iter(self.index_array().tolist())

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: Any) -> None:
        """The epoch whose order the next ``__iter__`` gives (seed ``seed + epoch``)."""
        self.epoch = check_int("DistributedSampler.set_epoch", "epoch", epoch, min=0)
