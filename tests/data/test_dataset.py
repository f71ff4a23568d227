import numpy as np
import pytest

import gradus
from gradus.data import ConcatDataset, Dataset, Subset, TensorDataset, random_split


def test_tensor_dataset_from_ndarrays():
    X = np.arange(12, dtype=np.float32).reshape(6, 2)
    y = np.arange(6)
    ds = TensorDataset(X, y)
    assert len(ds) == 6
    x2, y2 = ds[2]
    np.testing.assert_array_equal(x2, [4.0, 5.0])
    assert int(y2) == 2


def test_tensor_dataset_from_tensors_returns_tensors():
    ds = TensorDataset(gradus.tensor(np.ones((4, 3), np.float32)), gradus.tensor(np.arange(4)))
    x, y = ds[1]
    assert isinstance(x, gradus.Tensor) and x.shape == (3,)
    assert isinstance(y, gradus.Tensor) and int(y.numpy()) == 1
    assert x.dtype == np.float32


def test_tensor_dataset_size_mismatch_error_names_shapes():
    with pytest.raises(ValueError, match=r"size mismatch.*\(5, 2\).*\(4,\)"):
        TensorDataset(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(ValueError):
        TensorDataset()


def test_abstract_dataset_and_add():
    with pytest.raises(NotImplementedError):
        Dataset()[0]
    a = TensorDataset(np.arange(3))
    b = TensorDataset(np.arange(10, 15))
    both = a + b
    assert isinstance(both, ConcatDataset)
    assert len(both) == 8
    assert [int(both[i][0]) for i in range(8)] == [0, 1, 2, 10, 11, 12, 13, 14]
    assert int(both[-1][0]) == 14
    with pytest.raises(IndexError):
        both[8]


def test_concat_get_batch_matches_items():
    a = TensorDataset(np.arange(3), np.arange(3) * 2.0)
    b = TensorDataset(np.arange(10, 15), np.arange(5) * 1.0)
    both = ConcatDataset([a, b])
    idx = np.array([7, 0, 3, 2, 5])
    got = both.get_batch(idx)
    expected = [both[int(i)] for i in idx]
    np.testing.assert_array_equal(got[0], [int(e[0]) for e in expected])
    np.testing.assert_array_equal(got[1], [float(e[1]) for e in expected])


def test_subset():
    ds = TensorDataset(np.arange(10) * 10)
    sub = Subset(ds, [9, 0, 4])
    assert len(sub) == 3
    assert [int(sub[i][0]) for i in range(3)] == [90, 0, 40]
    np.testing.assert_array_equal(sub.get_batch(np.array([2, 0]))[0], [40, 90])


def test_random_split_integer_and_fraction_lengths():
    ds = TensorDataset(np.arange(10))
    a, b = random_split(ds, [7, 3], generator=0)
    assert (len(a), len(b)) == (7, 3)
    assert sorted(a.indices + b.indices) == list(range(10))
    c, d, e = random_split(ds, [0.5, 0.3, 0.2], generator=0)
    assert (len(c), len(d), len(e)) == (5, 3, 2)
    # Fractions that do not divide evenly: remainder handed out round-robin, as in PyTorch.
    f, g = random_split(TensorDataset(np.arange(11)), [0.5, 0.5], generator=0)
    assert (len(f), len(g)) == (6, 5)


def test_random_split_reproducible_and_uses_global_seed():
    ds = TensorDataset(np.arange(100))
    a = random_split(ds, [50, 50], generator=3)[0].indices
    assert a == random_split(ds, [50, 50], generator=3)[0].indices
    gradus.manual_seed(11)
    first = random_split(ds, [50, 50])[0].indices
    gradus.manual_seed(11)
    assert random_split(ds, [50, 50])[0].indices == first


def test_random_split_errors():
    ds = TensorDataset(np.arange(10))
    with pytest.raises(ValueError, match="sum of input lengths"):
        random_split(ds, [3, 3])
    with pytest.raises(ValueError):
        random_split(ds, [0.5, 0.7])
