"""The lecture's Algorithm 4-1 (hand-written delta recursions) against autograd + SGD."""
import numpy as np
import pytest

import gradus
from gradus import functional as F
from gradus import optim
from gradus.models.mlp import MLP, TextbookMLP, train_textbook


def _autograd_twin(tb: TextbookMLP) -> MLP:
    """The same network as an nn.Module: Linear weight = U[:, :-1], bias = U[:, -1]."""
    net = MLP(tb.sizes, activation="sigmoid", output_activation="sigmoid").double()
    with gradus.no_grad():
        for layer, U in zip(net.layers, tb.U):
            layer.weight.copy_(U[:, :-1])
            layer.bias.copy_(U[:, -1])
    return net


@pytest.mark.parametrize("sizes", [(5, 4, 3), (6, 5, 4, 2), (3, 2)])
def test_one_textbook_update_equals_autograd_sgd(sizes):
    rng = np.random.default_rng(1)
    B, lr = 7, 0.8
    X = rng.random((B, sizes[0]))
    Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], B)]
    tb = TextbookMLP(sizes, dtype=np.float64, generator=0)
    net = _autograd_twin(tb)
    opt = optim.SGD(net.parameters(), lr=lr)

    # autograd: E = 1/(2B) sum_b ||o_b - y_b||^2, then w <- w - lr dE/dw
    out = net(gradus.tensor(X))
    E = F.mse_loss(out, gradus.tensor(Y), reduction="sum") / (2 * B)
    opt.zero_grad()
    E.backward()
    grads_autograd = [np.c_[layer.weight.grad.numpy(), layer.bias.grad.numpy()] for layer in net.layers]
    opt.step()

    grads, E_tb = tb.gradients(X, Y)
    assert E_tb == pytest.approx(E.item(), rel=1e-12)
    for g_tb, g_ag in zip(grads, grads_autograd):
        np.testing.assert_allclose(g_tb, g_ag, rtol=1e-6, atol=1e-12)

    E_before = tb.step(X, Y, lr)                      # the textbook update (4.9)
    assert E_before == pytest.approx(E.item(), rel=1e-12)
    for layer, U in zip(net.layers, tb.U):
        np.testing.assert_allclose(U[:, :-1], layer.weight.numpy(), rtol=1e-6, atol=1e-12)
        np.testing.assert_allclose(U[:, -1], layer.bias.numpy(), rtol=1e-6, atol=1e-12)


def test_textbook_gradient_matches_finite_differences():
    rng = np.random.default_rng(2)
    X, Y = rng.random((4, 3)), np.eye(2)[[0, 1, 1, 0]]
    tb = TextbookMLP((3, 4, 2), dtype=np.float64, generator=3)
    grads, _ = tb.gradients(X, Y)
    eps = 1e-6
    for U, G in zip(tb.U, grads):
        for idx in [(0, 0), (1, -1), (U.shape[0] - 1, 1)]:   # includes a bias entry (last column)
            old = U[idx]
            U[idx] = old + eps
            e_plus = tb.loss(X, Y)
            U[idx] = old - eps
            e_minus = tb.loss(X, Y)
            U[idx] = old
            assert G[idx] == pytest.approx((e_plus - e_minus) / (2 * eps), rel=1e-5, abs=1e-10)


def test_textbook_shapes_and_bias_column():
    tb = TextbookMLP((784, 100, 10), generator=0)
    assert [U.shape for U in tb.U] == [(100, 785), (10, 101)]
    assert tb.U[0].dtype == np.float32
    zs, os = tb.forward(np.zeros((3, 784), np.float32))
    assert [z.shape for z in zs] == [(3, 100), (3, 10)]
    assert [o.shape for o in os] == [(3, 784), (3, 100), (3, 10)]
    # with zero inputs only the bias column acts: z^1 = U^1[:, -1]
    np.testing.assert_allclose(zs[0][0], tb.U[0][:, -1], rtol=1e-6)
    assert tb.predict(np.zeros((3, 784), np.float32)).shape == (3,)


def test_textbook_learns_xor():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float64)
    y = np.array([0, 1, 1, 0])
    r = train_textbook(X, y, sizes=(2, 4, 2), lr=5.0, batch_size=4, epochs=1500, generator=0,
                       dtype=np.float64)
    assert (r.model.predict(X) == y).all()
    assert r.train_loss[-1] < 0.05


def test_textbook_on_digits():
    from gradus.data.datasets import load_digits_arrays

    X, y = load_digits_arrays(train=True)
    Xt, yt = load_digits_arrays(train=False)
    r = train_textbook(X, y, sizes=(64, 32, 10), lr=2.0, batch_size=10, epochs=8, X_test=Xt, y_test=yt,
                       generator=0)
    assert r.train_loss[-1] < r.train_loss[0]
    assert r.test_accuracy[-1] >= 0.9
