"""Samplers: which indices a DataLoader visits, and in which order.

Randomness comes from a ``numpy.random.Generator``: the one passed as ``generator`` (an int seed
is accepted too), else the gradus global generator looked up at each ``__iter__``, so
``gradus.manual_seed(s)`` before an epoch makes its order reproducible.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Any

import numpy as np

from ._compat import as_generator

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "BatchSampler"]


def _check_sized(name: str, data_source: Any) -> None:
    if not hasattr(data_source, "__len__"):
        raise TypeError(f"{name}: data_source must have a length (a dataset or a sequence), got "
                        f"{type(data_source).__name__}")


class Sampler:
    """Base class: an iterable over dataset indices (or over lists of indices, for batch samplers)."""

    def __iter__(self) -> Iterator:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError


class SequentialSampler(Sampler):
    """``0, 1, ..., len(data_source) - 1``."""

    def __init__(self, data_source: Sized) -> None:
        _check_sized("SequentialSampler", data_source)
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation of the indices (or ``num_samples`` draws with replacement).

    Args:
        data_source: anything with ``len``.
        replacement: draw with replacement (then ``num_samples`` may exceed ``len(data_source)``).
        num_samples: how many indices per epoch; default ``len(data_source)``.
        generator: ``None`` (gradus global generator), an int seed or a ``numpy.random.Generator``.
            An int seed is turned into one generator at construction, so successive epochs differ
            but a fresh sampler with the same seed repeats them.
    """

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: Any = None,
    ) -> None:
        _check_sized("RandomSampler", data_source)
        if not isinstance(replacement, bool):
            raise TypeError(f"RandomSampler: replacement should be a bool, got {replacement!r}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = None if generator is None else as_generator(generator)
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer, got {self.num_samples!r}")
        if not replacement and num_samples is not None and num_samples > len(data_source):
            raise ValueError("num_samples cannot exceed len(data_source) without replacement")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _index_array(self) -> np.ndarray:
        """This epoch's indices as one int64 array (consumes randomness)."""
        rng = as_generator(self.generator)
        n = len(self.data_source)
        if self.replacement:
            return rng.integers(0, n, size=self.num_samples, dtype=np.int64)
        return rng.permutation(n)[: self.num_samples].astype(np.int64, copy=False)

    def __iter__(self) -> Iterator[int]:
        return iter(self._index_array().tolist())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order each epoch."""

    def __init__(self, indices: Sequence[int], generator: Any = None) -> None:
        self.indices = indices
        self.generator = None if generator is None else as_generator(generator)

    def __iter__(self) -> Iterator[int]:
        order = as_generator(self.generator).permutation(len(self.indices))
        return (self.indices[i] for i in order.tolist())

    def __len__(self) -> int:
        return len(self.indices)


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size``.

    Example:
        >>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
        [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer, got {batch_size!r}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a bool, got {drop_last!r}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        batch: list[int] = []
        for idx in self.sampler:
            batch.append(idx)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def _index_batches(self) -> Iterator[np.ndarray]:
        """The same batches as int64 arrays, without a Python int per index when the sampler
        can hand over a whole epoch at once (the DataLoader fast path)."""
        # Exact types only: a subclass may override __iter__ and must then be honoured.
        if type(self.sampler) is SequentialSampler:
            order = np.arange(len(self.sampler), dtype=np.int64)
        elif type(self.sampler) is RandomSampler:
            order = self.sampler._index_array()
        else:
            for batch in self:
                yield np.asarray(batch, dtype=np.int64)
            return
        n = len(order)
        stop = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            yield order[start : start + self.batch_size]

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]
        return n // self.batch_size if self.drop_last else (n + self.batch_size - 1) // self.batch_size
