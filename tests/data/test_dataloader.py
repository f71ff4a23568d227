import time
from collections import namedtuple

import numpy as np
import pytest

import gradus
from gradus.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    SequentialSampler,
    Subset,
    TensorDataset,
    default_collate,
)


def _ds(n=10):
    X = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int64)
    return TensorDataset(X, y)


class ListDataset(Dataset):
    """A dataset without the batch fast path."""

    def __init__(self, items):
        self.items = items

    def __getitem__(self, i):
        return self.items[i]

    def __len__(self):
        return len(self.items)


def test_batching_shapes_dtypes_and_len():
    loader = DataLoader(_ds(10), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 == len(batches)
    assert [tuple(X.shape) for X, _ in batches] == [(4, 3), (4, 3), (2, 3)]
    X, y = batches[0]
    assert isinstance(X, gradus.Tensor) and X.dtype == np.float32
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y.numpy(), [0, 1, 2, 3])


def test_drop_last():
    loader = DataLoader(_ds(10), batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert [X.shape[0] for X, _ in loader] == [4, 4]


def test_reiterable_and_shuffle_reproducible_with_seed():
    loader = DataLoader(_ds(20), batch_size=5, shuffle=True)
    gradus.manual_seed(0)
    epoch1 = np.concatenate([y.numpy() for _, y in loader])
    epoch2 = np.concatenate([y.numpy() for _, y in loader])
    assert sorted(epoch1.tolist()) == list(range(20))
    assert not np.array_equal(epoch1, epoch2)  # reshuffled each epoch
    gradus.manual_seed(0)
    again = np.concatenate([y.numpy() for _, y in loader])
    np.testing.assert_array_equal(epoch1, again)


def test_generator_argument():
    a = [y.numpy().tolist() for _, y in DataLoader(_ds(20), batch_size=5, shuffle=True, generator=7)]
    b = [y.numpy().tolist() for _, y in DataLoader(_ds(20), batch_size=5, shuffle=True,
                                                     generator=np.random.default_rng(7))]
    assert a == b


@pytest.mark.parametrize("shuffle,drop_last", [(False, False), (True, False), (True, True)])
def test_fast_path_equals_slow_path(shuffle, drop_last):
    ds = _ds(23)
    fast = DataLoader(ds, batch_size=5, shuffle=shuffle, drop_last=drop_last, generator=3)
    slow = DataLoader(ds, batch_size=5, shuffle=shuffle, drop_last=drop_last, generator=3,
                      collate_fn=lambda b: default_collate(b))
    assert fast._uses_fast_path() and not slow._uses_fast_path()
    pairs = list(zip(fast, slow, strict=True))
    assert len(pairs) == len(fast)
    for (Xf, yf), (Xs, ys) in pairs:
        assert Xf.dtype == Xs.dtype and yf.dtype == ys.dtype
        np.testing.assert_array_equal(Xf.numpy(), Xs.numpy())
        np.testing.assert_array_equal(yf.numpy(), ys.numpy())


def test_fast_path_through_subset_and_tensor_backed():
    X = gradus.tensor(np.arange(30, dtype=np.float32).reshape(10, 3))
    base = TensorDataset(X, gradus.tensor(np.arange(10)))
    sub = Subset(base, [9, 1, 5, 3])
    (X, y), = list(DataLoader(sub, batch_size=4))
    np.testing.assert_array_equal(y.numpy(), [9, 1, 5, 3])
    np.testing.assert_array_equal(X.numpy()[0], [27, 28, 29])


def test_fast_path_falls_back_when_dataset_says_not_implemented():
    class Half(TensorDataset):
        def get_batch(self, indices):
            return NotImplemented

    loader = DataLoader(Half(np.arange(6), np.arange(6) * 2), batch_size=4)
    (a, b), (c, d) = list(loader)
    np.testing.assert_array_equal(b.numpy(), [0, 2, 4, 6])
    np.testing.assert_array_equal(d.numpy(), [8, 10])


def test_collate_python_numbers_tuples_dicts_namedtuples_strings():
    assert default_collate([1, 2, 3]).dtype == np.int64
    assert default_collate([1.0, 2.5]).dtype == np.float32
    assert default_collate([True, False]).dtype == np.bool_
    assert default_collate(["a", "b"]) == ["a", "b"]
    out = default_collate([(np.zeros(2, np.float32), 1), (np.ones(2, np.float32), 0)])
    assert isinstance(out, tuple) and out[0].shape == (2, 2) and out[1].numpy().tolist() == [1, 0]
    d = default_collate([{"x": np.zeros((2, 2), np.uint8), "label": 3, "name": "p"},
                         {"x": np.ones((2, 2), np.uint8), "label": 4, "name": "q"}])
    assert set(d) == {"x", "label", "name"}
    assert d["x"].shape == (2, 2, 2) and d["x"].dtype == np.uint8
    assert d["label"].numpy().tolist() == [3, 4] and d["name"] == ["p", "q"]
    Pt = namedtuple("Pt", "a b")
    p = default_collate([Pt(1, 2.0), Pt(3, 4.0)])
    assert isinstance(p, Pt) and p.a.numpy().tolist() == [1, 3]
    t = default_collate([gradus.tensor(np.ones(3, np.float32)), gradus.tensor(np.zeros(3, np.float32))])
    assert t.shape == (2, 3)
    lst = default_collate([[1, 2], [3, 4]])
    assert isinstance(lst, list) and lst[0].numpy().tolist() == [1, 3]
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError):
        default_collate([object(), object()])


def test_loader_over_plain_dataset_uses_collate():
    items = [{"x": np.full(2, i, np.float32), "y": i} for i in range(5)]
    batches = list(DataLoader(ListDataset(items), batch_size=2))
    assert [b["y"].numpy().tolist() for b in batches] == [[0, 1], [2, 3], [4]]


def test_batch_size_none_and_batch_sampler():
    out = list(DataLoader(_ds(3), batch_size=None))
    assert len(out) == 3 and out[1][0].shape == (3,)
    loader = DataLoader(_ds(7), batch_sampler=BatchSampler(SequentialSampler(range(7)), 3, False))
    assert len(loader) == 3
    assert [y.numpy().tolist() for _, y in loader] == [[0, 1, 2], [3, 4, 5], [6]]
    with pytest.raises(ValueError):
        DataLoader(_ds(7), batch_size=2, batch_sampler=[[0, 1]])
    with pytest.raises(ValueError):
        DataLoader(_ds(7), shuffle=True, sampler=[0, 1])


def test_custom_collate_fn_and_sampler():
    loader = DataLoader(
        _ds(6), batch_size=2, sampler=[5, 4, 3, 2, 1, 0], collate_fn=lambda b: [int(s[1]) for s in b]
    )
    assert list(loader) == [[5, 4], [3, 2], [1, 0]]


def test_fast_path_overhead_is_small():
    # 60000 x 784 float32 (MNIST-sized) at batch 128: the loader must cost far less than a training
    # step (~10 ms). Measured ~0.15 ms/batch; the bound is loose so a busy CI machine passes.
    rng = np.random.default_rng(0)
    X = rng.random((60000, 784), dtype=np.float32)
    y = rng.integers(0, 10, 60000)
    loader = DataLoader(TensorDataset(X, y), batch_size=128, shuffle=True, generator=0)
    start = time.perf_counter()
    n = sum(1 for _ in loader)
    per_batch = (time.perf_counter() - start) / n
    assert n == 469
    assert per_batch < 2e-3, f"{per_batch * 1e3:.2f} ms per batch"
