"""``DataLoader`` and ``default_collate``.

The loader runs in the main process (there are no worker processes).  Its cost per batch matters
because a small MLP step on MNIST takes about 10 ms: with the default collation, a dataset that
implements ``get_batch(indices)`` (``TensorDataset``, ``Subset`` of one, MNIST/CIFAR/Digits without
transforms) is batched by one fancy-indexing gather per array instead of ``batch_size``
``__getitem__`` calls plus a stack.  Both paths give the same batches in the same order.
"""

from __future__ import annotations

import collections.abc
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from ._compat import is_tensor, to_tensor
from .dataset import Dataset, IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "default_collate", "default_convert"]


def _stack(arrays: Sequence[np.ndarray]) -> np.ndarray:
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise RuntimeError(f"default_collate: cannot stack samples of different shapes {sorted(shapes)}")
    return np.stack(arrays)


def default_collate(batch: Sequence[Any]) -> Any:
    """Merge a list of samples into a batch of gradus Tensors, recursing into containers.

    ======================================  ==============================================
    sample element                          batch element
    ======================================  ==============================================
    gradus Tensor / ndarray, shape S        Tensor ``(B, *S)``, same dtype
    NumPy scalar                            Tensor (B,), same dtype
    ``bool`` / ``int`` / ``float``          Tensor (B,) bool / int64 / float32
    ``str`` / ``bytes``                     list of B values, unchanged
    ``dict`` (Mapping)                      same mapping type, each value collated
    ``tuple`` / ``namedtuple`` / ``list``   same type, collated position by position
    ======================================  ==============================================

    Python floats become float32 (PyTorch makes float64) because float32 is gradus's default.
    """
    if len(batch) == 0:
        raise ValueError("default_collate: empty batch")
    elem = batch[0]
    if is_tensor(elem):
        return to_tensor(_stack([b.numpy() for b in batch]), copy=False)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "OUS":
            raise TypeError(f"default_collate: cannot make a Tensor of ndarray with dtype {elem.dtype}")
        return to_tensor(_stack(batch), copy=False)
    if isinstance(elem, np.generic):
        if elem.dtype.kind in "OUS":
            return list(batch)
        return to_tensor(np.array(batch, dtype=elem.dtype), copy=False)
    if isinstance(elem, bool):
        return to_tensor(np.array(batch, dtype=np.bool_), copy=False)
    if isinstance(elem, int):
        return to_tensor(np.array(batch, dtype=np.int64), copy=False)
    if isinstance(elem, float):
        return to_tensor(np.array(batch, dtype=np.float32), copy=False)
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            return type(elem)(collated)
        except TypeError:  # a Mapping type that cannot be built from a dict
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(b) != size for b in batch):
            raise RuntimeError("default_collate: each element in the batch should be of equal size")
        columns = [default_collate(list(s)) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return tuple(columns)
        return columns
    raise TypeError(
        "default_collate: batch must contain Tensors, ndarrays, numbers, str, dicts or sequences; "
        f"found {type(elem)!r}"
    )


def default_convert(data: Any, copy: bool = True) -> Any:
    """Turn ndarrays (and NumPy scalars) inside ``data`` into gradus Tensors, leaving the rest.

    Used when automatic batching is off (``batch_size=None``) and, with ``copy=False``, for the
    batched fast path, whose arrays are fresh gathers that can be wrapped without a copy.
    """
    if isinstance(data, np.ndarray):
        return data if data.dtype.kind in "OUS" else to_tensor(data, copy=copy)
    if isinstance(data, np.generic) and data.dtype.kind not in "OUS":
        return to_tensor(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return type(data)({k: default_convert(v, copy) for k, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d, copy) for d in data))
    if isinstance(data, tuple):
        return tuple(default_convert(d, copy) for d in data)
    if isinstance(data, list):
        return [default_convert(d, copy) for d in data]
    return data


class DataLoader:
    """Iterate over a dataset in (shuffled) mini-batches.

    Args:
        dataset: a map-style dataset (``__getitem__`` + ``__len__``), or an
            :class:`IterableDataset` (a stream, batched as it comes: for data larger than memory).
        batch_size: samples per batch; ``None`` turns batching off (yields single samples).
        shuffle: reshuffle at every epoch (a fresh ``iter(loader)``).
        sampler: iterable of indices; mutually exclusive with ``shuffle``.
        batch_sampler: iterable of index lists; mutually exclusive with ``batch_size``,
            ``shuffle``, ``sampler`` and ``drop_last``.
        num_workers: accepted for PyTorch compatibility; loading always happens in this process.
        collate_fn: merges a list of samples into a batch; default :func:`default_collate`.
        drop_last: drop the last incomplete batch.
        generator: the shuffle RNG: ``None`` (gradus global generator, so ``gradus.manual_seed``
            makes the order reproducible), an int seed, or a ``numpy.random.Generator``.

    Example:
        >>> import numpy as np
        >>> from gradus.data import TensorDataset
        >>> ds = TensorDataset(np.arange(10, dtype=np.float32).reshape(5, 2), np.arange(5))
        >>> [tuple(X.shape) for X, y in DataLoader(ds, batch_size=2)]
        [(2, 2), (2, 2), (1, 2)]
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int | None = 1,
        shuffle: bool = False,
        sampler: Sampler | Iterable[int] | None = None,
        batch_sampler: Sampler | Iterable[Sequence[int]] | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[list], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        generator: Any = None,
    ) -> None:
        if num_workers:
            warnings.warn(
                "gradus DataLoader has no worker processes; num_workers is ignored "
                "(the fast batched path usually makes them unnecessary)",
                stacklevel=2,
            )
        if batch_size is not None and (isinstance(batch_size, bool)
                                       or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0):
            raise ValueError(f"DataLoader: batch_size must be a positive int or None, got {batch_size!r}")
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            for name, value, unset in (("shuffle", shuffle, False), ("sampler", sampler, None),
                                       ("batch_sampler", batch_sampler, None)):
                if value is not unset and value != unset:
                    raise ValueError(f"DataLoader with IterableDataset: expected unspecified {name} option, "
                                     f"but got {name}={value!r}; an IterableDataset has no random access, "
                                     "shuffle inside its __iter__ instead")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with "
                    "batch_size, shuffle, sampler, and drop_last"
                )
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError(
                "batch_size=None option disables auto-batching and is mutually exclusive with drop_last"
            )

        if self._iterable:
            pass  # no sampler: the stream's own order
        elif sampler is None:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.generator = generator
        self._auto_collation = batch_sampler is not None or (self._iterable and batch_size is not None)
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    def _uses_fast_path(self) -> bool:
        return self.collate_fn is default_collate and callable(getattr(self.dataset, "get_batch", None))

    def __iter__(self) -> Iterator[Any]:
        if self._iterable:
            yield from self._stream_batches()
            return
        if not self._auto_collation:
            for index in self.sampler:
                yield self.collate_fn(self.dataset[index])
            return
        if self._uses_fast_path():
            batches = (
                self.batch_sampler._index_batches()
                if isinstance(self.batch_sampler, BatchSampler)
                else (np.asarray(b, dtype=np.int64) for b in self.batch_sampler)
            )
            n = len(self.dataset)
            for indices in batches:
                if indices.size and (indices.max() >= n or indices.min() < -n):
                    bad = int(indices.max()) if indices.max() >= n else int(indices.min())
                    raise IndexError(f"DataLoader: the sampler gave index {bad}, out of range for a "
                                     f"dataset of {n} "
                                     f"samples (expected 0 <= index < {n})")
                batch = self.dataset.get_batch(indices)
                if batch is NotImplemented:  # e.g. a transform is set: per-item for this and later batches
                    yield self.collate_fn([self.dataset[i] for i in indices.tolist()])
                    yield from self._slow_batches(batches)
                    return
                yield default_convert(batch, copy=False)
            return
        yield from self._slow_batches(iter(self.batch_sampler))

    def _stream_batches(self) -> Iterator[Any]:
        """Batches of an IterableDataset: at most one batch of samples is held at a time."""
        if not self._auto_collation:
            for sample in self.dataset:
                yield self.collate_fn(sample)
            return
        batch: list[Any] = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

    def _slow_batches(self, batches: Iterator[Any]) -> Iterator[Any]:
        for indices in batches:
            if isinstance(indices, np.ndarray):
                indices = indices.tolist()
            yield self.collate_fn([self.dataset[i] for i in indices])

    def __len__(self) -> int:
        if self._iterable:
            try:
                n = len(self.dataset)
            except (TypeError, NotImplementedError):
                raise TypeError(f"DataLoader: {type(self.dataset).__name__} is an IterableDataset without "
                                "__len__, so the number of batches is unknown") from None
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        if self._auto_collation:
            return len(self.batch_sampler)  # type: ignore[arg-type]
        return len(self.sampler)  # type: ignore[arg-type]
