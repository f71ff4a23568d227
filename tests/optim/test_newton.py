"""Second-order methods: Newton solves a quadratic in one step; Newton and Hessian-free reach the
closed-form / long-run optimum of least squares and logistic regression in a few steps; HF
converges on Rosenbrock."""
from __future__ import annotations

import numpy as np
import pytest

import gradus
from gradus import optim
from gradus.errors import AutogradError
from tests.helpers import SeededInputs

f64 = gradus.float64


def test_newton_solves_a_quadratic_in_one_step():
    """f(W, b) = 1/2 theta^T A theta - c^T theta over two parameter tensors (W: 2x3, b: 2)."""
    inputs = SeededInputs(0, np.float64)
    M = inputs.array(8, 8)
    A, c = M @ M.T + 8 * np.eye(8), inputs.array(8)
    W = inputs.tensor(2, 3, requires_grad=True)
    b = inputs.tensor(2, requires_grad=True)
    At, ct = gradus.tensor(A), gradus.tensor(c)

    def f():
        theta = gradus.cat([W.reshape(-1), b])
        return 0.5 * (theta @ At @ theta) - ct @ theta

    opt = optim.Newton([W, b])
    opt.step(f)
    theta = np.concatenate([W.numpy().ravel(), b.numpy()])
    np.testing.assert_allclose(theta, np.linalg.solve(A, c), rtol=1e-10)
    _, g, H = opt.hessian(f)
    np.testing.assert_allclose(H, A, rtol=1e-12)
    assert np.abs(g).max() < 1e-10


def test_newton_damping_and_lr():
    A = np.array([[4.0, 1.0], [1.0, 3.0]])
    w = gradus.tensor([1.0, 1.0], dtype=f64, requires_grad=True)
    opt = optim.Newton([w], lr=0.5, damping=2.0)
    opt.step(lambda: 0.5 * (w @ gradus.tensor(A) @ w))
    g = A @ [1.0, 1.0]
    expected = [1.0, 1.0] - 0.5 * np.linalg.solve(A + 2 * np.eye(2), g)
    np.testing.assert_allclose(w.numpy(), expected, rtol=1e-12)


def _least_squares(seed=0):
    inputs = SeededInputs(seed, np.float64)
    X = inputs.array(40, 4)
    y = X @ inputs.array(4) + inputs.array(40, scale=0.1) + 0.7
    A = np.hstack([X, np.ones((40, 1))])
    return X, y, np.linalg.lstsq(A, y, rcond=None)[0]


@pytest.mark.parametrize("cls,kwargs,steps", [(optim.Newton, {}, 1),
                                              (optim.HessianFree, dict(cg_iters=10), 3)])
def test_least_squares_reaches_the_closed_form(cls, kwargs, steps):
    X, y, ref = _least_squares()
    Xg, yg = gradus.tensor(X), gradus.tensor(y)
    w, b = gradus.zeros(4, dtype=f64, requires_grad=True), gradus.zeros(1, dtype=f64, requires_grad=True)
    opt = cls([w, b], **kwargs)
    for _ in range(steps):
        opt.step(lambda: ((Xg @ w + b - yg) ** 2).mean())
    np.testing.assert_allclose(np.concatenate([w.numpy(), b.numpy()]), ref, rtol=1e-8, atol=1e-10)


def _logistic(seed=0):
    """A non-separable logistic regression and its optimum from a long NumPy IRLS run."""
    inputs = SeededInputs(seed, np.float64)
    X = inputs.array(60, 3)
    p = 1 / (1 + np.exp(-(X @ np.array([1.5, -2.0, 0.5]) + 0.3)))
    y = (inputs.rng.random(60) < p).astype(float)
    A, theta = np.hstack([X, np.ones((60, 1))]), np.zeros(4)
    for _ in range(50):
        mu = 1 / (1 + np.exp(-A @ theta))
        theta -= np.linalg.solve((A.T * (mu * (1 - mu))) @ A, A.T @ (mu - y))
    return X, y, theta


@pytest.mark.parametrize("cls,kwargs,steps", [(optim.Newton, {}, 7),
                                              (optim.HessianFree, dict(cg_iters=10), 8)])
def test_logistic_regression_reaches_the_optimum(cls, kwargs, steps):
    X, y, ref = _logistic()
    Xg, yg = gradus.tensor(X), gradus.tensor(y)
    w, b = gradus.zeros(3, dtype=f64, requires_grad=True), gradus.zeros(1, dtype=f64, requires_grad=True)

    def bce():
        z = Xg @ w + b  # log(1 + e^z) - y z, with log(1 + e^z) = logsumexp([0, z])
        return (gradus.logsumexp(gradus.stack([gradus.zeros_like(z), z], dim=1), dim=1) - yg * z).mean()

    opt = cls([w, b], **kwargs)
    losses = [opt.step(bce).item() for _ in range(steps)]
    np.testing.assert_allclose(np.concatenate([w.numpy(), b.numpy()]), ref, rtol=1e-6, atol=1e-8)
    assert losses[0] == pytest.approx(np.log(2))  # the returned loss is the one before each step


def test_hessian_free_converges_on_rosenbrock():
    xy = gradus.tensor([-1.2, 1.0], dtype=f64, requires_grad=True)

    def rosenbrock():
        return (1 - xy[0]) ** 2 + 100 * (xy[1] - xy[0] ** 2) ** 2

    opt = optim.HessianFree([xy], cg_iters=10)
    losses = [opt.step(rosenbrock).item() for _ in range(30)]
    np.testing.assert_allclose(xy.numpy(), [1.0, 1.0], atol=1e-8)
    assert all(b <= a for a, b in zip(losses, losses[1:]))  # the line search never goes uphill
    st = opt.state_dict()["state"][0]
    assert st["step"] == 30 and st["damping"] > 0 and 1 <= st["cg_iters_used"] <= 10


def test_hessian_free_without_adaptation_is_a_plain_truncated_newton_step():
    """On a quadratic with cg_iters >= n and no damping, one HF step is the exact Newton step."""
    A = np.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.0]])
    w = gradus.tensor([1.0, -1.0, 2.0], dtype=f64, requires_grad=True)
    opt = optim.HessianFree([w], cg_iters=3, damping=0.0, adaptive=False)
    opt.step(lambda: 0.5 * (w @ gradus.tensor(A) @ w) - w.sum())
    np.testing.assert_allclose(w.numpy(), np.linalg.solve(A, np.ones(3)), rtol=1e-10)


def test_float32_parameters_stay_float32():
    w = gradus.tensor([1.0, 2.0], requires_grad=True)
    for opt in (optim.Newton([w]), optim.HessianFree([w])):
        opt.step(lambda: ((w - 3.0) ** 2).sum())
        assert w.dtype == np.float32
    np.testing.assert_allclose(w.numpy(), [3.0, 3.0], rtol=1e-6)


def test_unused_parameter_is_left_alone():
    w = gradus.tensor([2.0], dtype=f64, requires_grad=True)
    unused = gradus.ones(2, dtype=f64, requires_grad=True)
    opt = optim.Newton([w, unused])
    opt.step(lambda: ((w - 1.0) ** 2).sum())  # singular Hessian: least-squares step
    assert w.item() == pytest.approx(1.0) and np.array_equal(unused.numpy(), [1.0, 1.0])


def test_closure_errors_are_explained():
    w = gradus.tensor([1.0], dtype=f64, requires_grad=True)

    def calls_backward():
        loss = (w ** 4).sum()
        loss.backward()
        return loss

    with pytest.raises(AutogradError, match="without calling backward"):
        optim.Newton([w]).step(calls_backward)
    with pytest.raises(AutogradError, match="closure must return the loss as a Tensor"):
        optim.HessianFree([w]).step(lambda: float((w ** 2).sum().item()))
    with pytest.raises(ValueError, match="closure"):
        optim.Newton([w]).step(None)
    with pytest.raises(ValueError, match="parameter groups"):
        optim.Newton([{"params": [w]}, {"params": [gradus.zeros(1, requires_grad=True)]}])
    with pytest.raises(ValueError, match="damping"):
        optim.HessianFree([w], damping=0.0)
