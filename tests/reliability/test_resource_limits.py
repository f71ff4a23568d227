"""Resource limits: a tensor larger than the free memory is refused with a clear error *before*
anything is allocated (NumPy alone only fails beyond the address space; in between, the OS grants
the pages lazily and kills the process when they are touched), and the DataLoader streams data
that does not fit in memory (an IterableDataset, or a memory-mapped array)."""

from __future__ import annotations

import numpy as np
import pytest

import gradus
from gradus import validation
from gradus.data import DataLoader, IterableDataset, TensorDataset
from gradus.errors import OutOfMemoryError

from ._table import check

GIB = 2**30


@pytest.fixture
def one_gib_free(monkeypatch):
    """Pretend 1 GiB is free: requests of 1-4 GiB would be granted by NumPy and then OOM-killed."""
    monkeypatch.setattr(validation, "available_memory", lambda: GIB)


CREATION = [
    ("zeros", lambda: gradus.zeros(2**19, 2**10)),  # 2 GiB float32
    ("ones", lambda: gradus.ones(2**19, 2**10)),
    ("empty", lambda: gradus.empty((2**29,))),
    ("full", lambda: gradus.full((2**19, 2**10), 1.5)),
    ("rand", lambda: gradus.rand(2**19, 2**10)),
    ("randn", lambda: gradus.randn(2**19, 2**10)),
    ("randint", lambda: gradus.randint(0, 5, (2**28,))),  # int64: 2 GiB
    ("normal", lambda: gradus.normal(0.0, 1.0, (2**28,))),  # drawn in float64
    ("eye", lambda: gradus.eye(2**15)),  # 4 GiB
    ("zeros", lambda: gradus.zeros(2**18, 2**10, dtype=gradus.float64)),
]


@pytest.mark.parametrize("name, fn", CREATION, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CREATION)])
def test_creation_larger_than_free_memory_is_refused(one_gib_free, name, fn):
    check(fn, OutOfMemoryError, rf"^{name}: a tensor of shape \(.*\) and dtype \w+ needs \d.* GiB, but only "
          r"1\.0 GiB of memory is available")


def test_the_error_is_a_memory_error_and_suggests_float32_for_float64(one_gib_free):
    with pytest.raises(MemoryError, match="float32 instead of float64"):
        gradus.zeros(2**18, 2**10, dtype=gradus.float64)


def test_broadcast_result_larger_than_free_memory_is_refused(one_gib_free):
    x = gradus.randn(2**15)
    # (32768, 1) - (1, 32768) -> 4 GiB: the classic pairwise-distance blow-up
    check(lambda: x[:, None] - x[None, :], OutOfMemoryError,
          r"sub of shapes \(32768, 1\) and \(1, 32768\): a tensor of shape \(32768, 32768\)")
    check(lambda: x[:, None] * x[None, :], OutOfMemoryError, r"mul of shapes")


def test_outer_matmul_larger_than_free_memory_is_refused(one_gib_free):
    a = gradus.randn(2**15, 3)
    check(lambda: a @ a.T, OutOfMemoryError,
          r"matmul of shapes \(32768, 3\) and \(3, 32768\): a tensor of shape \(32768, 32768\)")


def test_requests_beyond_any_machine_are_refused_without_monkeypatching():
    check(lambda: gradus.zeros(2**40), OutOfMemoryError, r"zeros: .* needs 4096\.0 GiB")


def test_small_and_fitting_requests_never_read_the_free_memory(monkeypatch):
    def boom():
        raise AssertionError("available_memory read for a small tensor")

    monkeypatch.setattr(validation, "available_memory", boom)
    assert gradus.zeros(1000, 1000).shape == (1000, 1000)
    x = gradus.randn(1000)
    assert (x[:, None] - x[None, :]).shape == (1000, 1000)


def test_unknown_free_memory_does_not_block(monkeypatch):
    monkeypatch.setattr(validation, "available_memory", lambda: None)
    assert validation.check_alloc("zeros", (2**30,), np.float32) is None


def test_available_memory_reads_a_positive_number():
    free = validation.available_memory()
    assert free is None or free > 0


# --------------------------------------------------------------------------- streaming


class Counting(IterableDataset):
    """A stream of ``n`` samples made on demand; records how many were alive at once."""

    def __init__(self, n):
        self.n, self.made, self.peak_ahead, self.consumed = n, 0, 0, 0

    def __iter__(self):
        for i in range(self.n):
            self.made += 1
            self.peak_ahead = max(self.peak_ahead, self.made - self.consumed)
            yield np.full(4, i, np.float32), i


def test_dataloader_streams_an_iterable_dataset_one_batch_at_a_time():
    ds = Counting(10_000)
    seen = 0
    for x, y in DataLoader(ds, batch_size=32):
        ds.consumed += len(y)
        assert x.shape[1:] == (4,)
        assert int(y[0]) == seen
        seen += len(y)
    assert seen == 10_000
    assert ds.peak_ahead <= 32  # never more than one batch materialised ahead of the consumer


def test_iterable_dataset_drop_last_len_and_no_batching():
    class Sized(Counting):
        def __len__(self):
            return self.n

    assert len(DataLoader(Sized(10), batch_size=3)) == 4
    assert len(DataLoader(Sized(10), batch_size=3, drop_last=True)) == 3
    assert [len(y) for _, y in DataLoader(Sized(10), batch_size=3, drop_last=True)] == [3, 3, 3]
    assert len(list(DataLoader(Sized(5), batch_size=None))) == 5


@pytest.mark.parametrize("kwargs, name", [({"shuffle": True}, "shuffle"), ({"sampler": [0, 1]}, "sampler"),
                                          ({"batch_sampler": [[0]], "batch_size": 1}, "batch_sampler")])
def test_iterable_dataset_refuses_random_access_options(kwargs, name):
    check(lambda: DataLoader(Counting(3), **kwargs), ValueError,
          rf"DataLoader with IterableDataset: expected unspecified {name} option"
          r".*shuffle inside its __iter__")


def test_iterable_dataset_without_len_and_indexing_are_clear_errors():
    check(lambda: len(DataLoader(Counting(3), batch_size=2)), TypeError,
          r"Counting is an IterableDataset without __len__")
    check(lambda: Counting(3)[0], TypeError, r"Counting is an IterableDataset: it has no random access")


def test_memory_mapped_arrays_are_read_batch_by_batch(tmp_path):
    # A dataset on disk: np.memmap pages in only what a batch indexes.
    path = tmp_path / "x.f32"
    mm = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(5000, 64))
    mm[:] = np.arange(5000, dtype=np.float32)[:, None]
    mm.flush()
    del mm
    x = np.load(path, mmap_mode="r")
    ds = TensorDataset(x, np.arange(5000))
    # no copy into memory: the dataset indexes the mapped file itself
    assert np.shares_memory(ds.arrays[0], x) and isinstance(ds.arrays[0], np.memmap)
    total = 0.0
    for xb, yb in DataLoader(ds, batch_size=500, shuffle=True, generator=0):
        assert xb.shape == (500, 64)
        np.testing.assert_array_equal(xb.numpy()[:, 0], yb.numpy().astype(np.float32))
        total += float(xb.sum().item())
    assert total == pytest.approx(64 * 5000 * 4999 / 2)
