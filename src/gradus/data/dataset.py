"""Map-style datasets: ``Dataset``, ``TensorDataset``, ``Subset``, ``ConcatDataset``, ``random_split``.

Batch protocol (the DataLoader fast path)
-----------------------------------------
A dataset may define ``get_batch(indices)``, where ``indices`` is a 1-D int64 ndarray, and return the
*already batched* sample: a tuple of ndarrays whose first dimension is ``len(indices)`` (or a single
ndarray).  It must equal what ``default_collate([ds[i] for i in indices])`` would hold, and may
return ``NotImplemented`` to fall back to per-item ``__getitem__`` (for example when a transform is
set).  The arrays must be new (fancy indexing makes copies, slices do not): the loader wraps
them into Tensors without copying again.  One fancy-indexing gather per array replaces
``batch_size`` Python calls plus a stack.
"""

from __future__ import annotations

import bisect
import math
import warnings
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

import numpy as np

from ._compat import as_generator, is_tensor, to_numpy, to_tensor

__all__ = ["Dataset", "IterableDataset", "ArrayDataset", "TensorDataset", "Subset", "ConcatDataset",
           "random_split"]

T_co = TypeVar("T_co", covariant=True)


def _check_index(ds: Any, index: Any, n: int) -> None:
    """An int index must lie in [-n, n): an IndexError naming the dataset and its length otherwise."""
    if isinstance(index, (int, np.integer)) and not isinstance(index, bool) and not -n <= index < n:
        raise IndexError(f"{type(ds).__name__}: index {int(index)} is out of range for a dataset of {n} "
                         f"samples "
                         f"(expected 0 <= index < {n})")


class Dataset(Generic[T_co]):
    """Abstract map-style dataset: subclasses implement ``__getitem__(index)`` and ``__len__()``."""

    def __getitem__(self, index: int) -> T_co:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset[T_co]):
    """A stream of samples: subclasses implement ``__iter__`` (and may implement ``__len__``).

    For data that does not fit in memory, or has no random access (a file read line by line, a
    generator, a socket): the DataLoader batches the stream as it comes and holds one batch at a
    time.  Shuffling and samplers need random access, so the DataLoader refuses them (as PyTorch);
    shuffle inside ``__iter__`` (e.g. a shuffle buffer) instead.
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __getitem__(self, index: int) -> T_co:
        raise TypeError(f"{type(self).__name__} is an IterableDataset: it has no random access; "
                        "iterate over it (or over a DataLoader of it)")

    def __add__(self, other: Dataset) -> ConcatDataset:
        raise TypeError("IterableDataset: + (ConcatDataset) needs map-style datasets; chain the streams "
                        "with itertools.chain in your own __iter__")


class ArrayDataset(Dataset):
    """Base of the labelled-array datasets (MNIST, CIFAR-10, digits): ``data`` and ``targets``
    arrays with optional per-sample ``transform`` / ``target_transform``.

    ``get_batch`` is the DataLoader's fast path: without transforms a whole batch is one fancy index.
    """

    data: Any
    targets: Any
    transform: Any = None
    target_transform: Any = None

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        _check_index(self, index, len(self.data))
        img, target = self.data[index], int(self.targets[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def get_batch(self, indices: np.ndarray) -> Any:
        if self.transform is not None or self.target_transform is not None:
            return NotImplemented
        return self.data[indices], self.targets[indices]


class TensorDataset(Dataset[tuple]):
    """Samples are rows of the given arrays: ``ds[i] == (a[i], b[i], ...)``.

    Args:
        *tensors: gradus Tensors or ndarrays, all with the same first dimension N.
            Items come back as the type given: ndarray rows (NumPy scalars for 1-D arrays) for
            ndarrays, gradus Tensors for Tensors.

    Example:
        >>> import numpy as np
        >>> ds = TensorDataset(np.zeros((5, 3), np.float32), np.arange(5))
        >>> len(ds), ds[2][0].shape, int(ds[2][1])
        (5, (3,), 2)
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        self.tensors = tensors
        # NumPy views used for indexing; the Tensor flags decide what __getitem__ hands back.
        self.arrays = tuple(to_numpy(t) for t in tensors)
        self._as_tensor = tuple(is_tensor(t) for t in tensors)
        for k, a in enumerate(self.arrays):
            if a.ndim == 0:
                raise ValueError(
                    f"TensorDataset: tensor {k} is 0-d; every tensor needs a first (sample) dimension"
                )
        sizes = [a.shape[0] for a in self.arrays]
        if any(s != sizes[0] for s in sizes):
            shapes = ", ".join(f"tensor {k}: {tuple(a.shape)}" for k, a in enumerate(self.arrays))
            raise ValueError(
                f"TensorDataset: size mismatch between tensors along the first dimension ({shapes})"
            )

    def __getitem__(self, index: int) -> tuple:
        _check_index(self, index, self.arrays[0].shape[0])
        return tuple(
            to_tensor(np.asarray(a[index])) if as_t else a[index]
            for a, as_t in zip(self.arrays, self._as_tensor)
        )

    def __len__(self) -> int:
        return self.arrays[0].shape[0]

    def get_batch(self, indices: np.ndarray) -> tuple[np.ndarray, ...]:
        """Rows ``indices`` of every array, as fresh ndarrays of shape ``(len(indices), ...)``."""
        return tuple(a[indices] for a in self.arrays)


class Subset(Dataset[T_co]):
    """The samples of ``dataset`` at positions ``indices``, in that order."""

    def __init__(self, dataset: Dataset[T_co], indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices
        arr = np.asarray(indices)
        if arr.size and arr.dtype.kind not in "iu":
            raise TypeError(f"Subset: indices must be integers, got dtype {arr.dtype}")
        self._index_array = arr.astype(np.int64).reshape(-1)
        n = len(dataset) if hasattr(dataset, "__len__") else None
        if n is not None and self._index_array.size:
            lo, hi = int(self._index_array.min()), int(self._index_array.max())
            if lo < -n or hi >= n:
                bad = hi if hi >= n else lo
                raise IndexError(f"Subset: index {bad} is out of range for a dataset of {n} samples "
                                 f"(expected 0 <= index < {n})")

    def __getitem__(self, idx: int | list[int]) -> T_co:
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        _check_index(self, idx, len(self._index_array))
        return self.dataset[int(self._index_array[idx])]

    def __len__(self) -> int:
        return len(self._index_array)

    def get_batch(self, indices: np.ndarray) -> Any:
        inner = getattr(self.dataset, "get_batch", None)
        if inner is None:
            return NotImplemented
        return inner(self._index_array[indices])


class ConcatDataset(Dataset[T_co]):
    """Several datasets one after another; ``len`` is the sum of their lengths."""

    def __init__(self, datasets: Sequence[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset needs at least one dataset")
        self.cumulative_sizes: list[int] = []
        total = 0
        for d in self.datasets:
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int) -> T_co:
        if idx < 0:
            if -idx > len(self):
                raise IndexError("absolute value of index should not exceed dataset length")
            idx += len(self)
        if idx >= len(self):
            raise IndexError(f"index {idx} out of range for ConcatDataset of length {len(self)}")
        d = bisect.bisect_right(self.cumulative_sizes, idx)
        offset = idx - (self.cumulative_sizes[d - 1] if d > 0 else 0)
        return self.datasets[d][offset]

    def get_batch(self, indices: np.ndarray) -> Any:
        # Gather from each part and scatter back into batch order; only when every part can.
        parts = []
        which = np.searchsorted(self.cumulative_sizes, indices, side="right")
        starts = np.concatenate([[0], self.cumulative_sizes[:-1]])
        for d in np.unique(which):
            fn = getattr(self.datasets[d], "get_batch", None)
            if fn is None:
                return NotImplemented
            sel = np.nonzero(which == d)[0]
            got = fn(indices[sel] - starts[d])
            if got is NotImplemented:
                return NotImplemented
            parts.append((sel, got if isinstance(got, tuple) else (got,), isinstance(got, tuple)))
        n_fields = len(parts[0][1])
        out = []
        for f in range(n_fields):
            first = parts[0][1][f]
            buf = np.empty((len(indices),) + first.shape[1:], dtype=np.result_type(*(p[1][f] for p in parts)))
            for sel, fields, _ in parts:
                buf[sel] = fields[f]
            out.append(buf)
        return tuple(out) if parts[0][2] else out[0]


def random_split(
    dataset: Dataset[T_co], lengths: Sequence[int | float], generator: Any = None
) -> list[Subset[T_co]]:
    """Split ``dataset`` into non-overlapping random subsets (``Subset``) of the given lengths.

    ``lengths`` are either integers summing to ``len(dataset)`` or fractions summing to 1; as in
    PyTorch, fractional sizes are floored and the remainder is handed out round-robin.

    Args:
        generator: ``None`` (the gradus global generator), an int seed, or a ``numpy.random.Generator``.

    Example:
        >>> import numpy as np
        >>> train, val = random_split(TensorDataset(np.arange(10)), [0.8, 0.2], generator=0)
        >>> len(train), len(val)
        (8, 2)
    """
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        sizes = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"fraction at index {i} is not between 0 and 1: {frac}")
            sizes.append(int(math.floor(n * frac)))
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, s in enumerate(sizes):
            if s == 0:
                warnings.warn(f"length of split at index {i} is 0; this split will be empty", stacklevel=2)
        lengths = sizes
    if any(int(L) != L or L < 0 for L in lengths):
        raise ValueError(
            f"lengths must be non-negative integers or fractions summing to 1, got {list(lengths)}"
        )
    if sum(lengths) != n:
        raise ValueError(
            f"sum of input lengths ({sum(lengths)}) does not equal the length of the dataset ({n})"
        )
    perm = as_generator(generator).permutation(n)
    out, start = [], 0
    for L in lengths:
        out.append(Subset(dataset, perm[start : start + int(L)].tolist()))
        start += int(L)
    return out
