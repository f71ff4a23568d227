import numpy as np
import pytest

from gradus.data.datasets import logic_gate, make_blobs, make_moons, make_spiral


def test_logic_gates():
    X, y = logic_gate("and")
    assert X.dtype == np.float32 and y.dtype == np.int64 and X.shape == (4, 2)
    assert y.tolist() == [0, 0, 0, 1]
    assert logic_gate("or")[1].tolist() == [0, 1, 1, 1]
    assert logic_gate("xor")[1].tolist() == [0, 1, 1, 0]
    assert logic_gate("NAND")[1].tolist() == [1, 1, 1, 0]
    Xb, yb = logic_gate("xor", encoding="bipolar")
    assert set(Xb.ravel().tolist()) == {-1.0, 1.0} and yb.tolist() == [-1, 1, 1, -1]
    with pytest.raises(ValueError):
        logic_gate("implies")


def test_spiral_and_moons():
    X, y = make_spiral(50, 3, noise=0.1, seed=0)
    assert X.shape == (150, 2) and X.dtype == np.float32 and np.bincount(y).tolist() == [50, 50, 50]
    np.testing.assert_array_equal(X, make_spiral(50, 3, noise=0.1, seed=0)[0])
    X, y = make_moons(101, noise=0.05, seed=1)
    assert X.shape == (101, 2) and np.bincount(y).tolist() == [50, 51]


def _nearest_centre_accuracy(X, y, C):
    d = np.linalg.norm(X[:, None, :] - C[None], axis=2)
    return (d.argmin(axis=1) == y).mean()


def test_blobs_separable_and_not():
    X, y, C = make_blobs(300, centers=3, seed=0, separable=True, return_centers=True)
    assert X.dtype == np.float32 and y.dtype == np.int64 and X.shape == (300, 2)
    assert _nearest_centre_accuracy(X, y, C) == 1.0  # a linear classifier that is perfect
    X, y, C = make_blobs(300, centers=2, seed=0, separable=False, return_centers=True)
    assert _nearest_centre_accuracy(X, y, C) < 0.95
    # Closed-form least squares (a linear classifier) cannot be perfect on the overlapping set.
    A = np.c_[X, np.ones(len(X))]
    w = np.linalg.lstsq(A, 2.0 * y - 1, rcond=None)[0]
    assert ((A @ w > 0) == (y == 1)).mean() < 1.0
    X2, y2 = make_blobs(50, centers=[[0, 0, 0], [10, 10, 10]], seed=3)
    assert X2.shape == (50, 3)
