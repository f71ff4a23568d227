"""Rosenblatt's perceptron rule and the Widrow-Hoff delta rule (gradus.models.perceptron)."""
import numpy as np
import pytest

import gradus
from gradus.data.datasets import logic_gate, make_blobs
from gradus.models.perceptron import (
    Adaline,
    Perceptron,
    train_adaline,
    train_perceptron,
)


def _accuracy(model, X, y):
    t = np.where(np.asarray(y) > 0, 1, -1)
    return float((model.predict(X).numpy() == t).mean())


@pytest.mark.parametrize("gate", ["and", "or", "nand"])
@pytest.mark.parametrize("encoding", ["binary", "bipolar"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_perceptron_learns_linearly_separable_gates(gate, encoding, seed):
    X, y = logic_gate(gate, encoding)
    r = train_perceptron(X, y, max_epochs=100, generator=seed)
    assert r.converged and r.epochs < 100
    assert r.updates == sum(r.updates_per_epoch) and r.updates_per_epoch[-1] == 0
    assert r.message.startswith("converged after")
    assert _accuracy(r.model, X, y) == 1.0
    # the returned weights really separate: w . [1, x] > 0 exactly on P
    scores = np.c_[np.ones(4), X] @ r.weights.numpy()
    assert np.all((scores > 0) == (np.asarray(y) > 0))


@pytest.mark.parametrize("encoding", ["binary", "bipolar"])
def test_perceptron_fails_on_xor_and_says_why(encoding):
    X, y = logic_gate("xor", encoding)
    r = train_perceptron(X, y, max_epochs=100, generator=0, name="XOR")
    assert not r.converged
    assert r.epochs == 100 and len(r.updates_per_epoch) == 100
    assert r.message == "did not converge in 100 epochs: the data is not linearly separable (XOR)"
    assert all(n > 0 for n in r.updates_per_epoch)  # every epoch still finds a mistake
    assert _accuracy(r.model, X, y) < 1.0


def test_perceptron_rule_is_the_lectures():
    p = Perceptron(2, init="zeros")
    x = gradus.tensor([1.0, 2.0, -1.0])                 # augmented: x0 = 1 first
    assert p.update(x, in_P=True)                       # w . x = 0 <= 0 on P: w <- w + x
    np.testing.assert_array_equal(p.weight.numpy(), [1.0, 2.0, -1.0])
    assert not p.update(x, in_P=True)                   # now w . x = 6 > 0: no change
    assert p.update(x, in_P=False)                      # x in N with w . x >= 0: w <- w - x
    np.testing.assert_array_equal(p.weight.numpy(), [0.0, 0.0, 0.0])
    assert p.update(x, in_P=False)                      # w . x = 0 >= 0 on N is a mistake too
    np.testing.assert_array_equal(p.weight.numpy(), [-1.0, -2.0, 1.0])
    # output is +-1 with the threshold at 0
    assert p.predict(np.array([[0.0, 0.0], [-5.0, 0.0]])).tolist() == [-1, 1]


def test_perceptron_is_reproducible_and_counts_epochs():
    X, y = logic_gate("or")
    a = train_perceptron(X, y, max_epochs=50, generator=3)
    b = train_perceptron(X, y, max_epochs=50, generator=3)
    np.testing.assert_array_equal(a.weights.numpy(), b.weights.numpy())
    assert a.epochs == b.epochs == len(a.updates_per_epoch)
    with pytest.raises(ValueError, match="init"):
        Perceptron(2, init="ones")


def test_perceptron_separates_blobs():
    X, y = make_blobs(100, centers=2, cluster_std=1.0, seed=0)
    r = train_perceptron(X, y, max_epochs=200, generator=0)
    assert r.converged
    assert _accuracy(r.model, X, y) == 1.0


@pytest.mark.parametrize("mode,lr", [("online", 0.01), ("batch", 0.1)])
def test_adaline_converges_on_separable_blobs(mode, lr):
    X, y = make_blobs(200, centers=2, cluster_std=1.0, seed=0)
    X_test, y_test = make_blobs(500, centers=2, cluster_std=1.0, seed=1)
    r = train_adaline(X, y, lr=lr, epochs=10 if mode == "online" else 200, mode=mode, generator=0, tol=1e-6)
    E0 = Adaline(2, generator=0).mse(X, y)         # the same initial weights (same seed)
    assert r.losses[-1] < E0 / 10                  # E decreased
    assert _accuracy(r.model, X, y) == 1.0
    assert _accuracy(r.model, X_test, y_test) >= 0.99
    # the delta rule's fixed point is the least-squares solution of [1, X] w = t
    A = np.c_[np.ones(len(X)), X].astype(np.float64)
    w_ls = np.linalg.lstsq(A, np.where(y > 0, 1.0, -1.0), rcond=None)[0]
    tol = 0.05 if mode == "online" else 0.02        # online LMS hovers around it (constant lr)
    np.testing.assert_allclose(r.weights.numpy(), w_ls, atol=tol)


def test_adaline_one_online_step_is_the_delta_rule():
    X = np.array([[2.0, -1.0]], dtype=np.float32)
    r = train_adaline(X, np.array([1]), lr=0.1, epochs=1, generator=0)
    w0 = Adaline(2, generator=0).weight.numpy()          # same seed -> same initial weights
    x = np.array([1.0, 2.0, -1.0])
    f = w0 @ x
    np.testing.assert_allclose(r.weights.numpy(), w0 + 0.1 * (1 - f) * x, rtol=1e-6)


def test_adaline_divergence_is_reported():
    X, y = make_blobs(50, centers=2, seed=0)
    with pytest.raises(FloatingPointError, match="lr <"):
        train_adaline(X, y, lr=5.0, epochs=50, mode="batch")
    with pytest.raises(ValueError, match="mode"):
        train_adaline(X, y, mode="minibatch")
