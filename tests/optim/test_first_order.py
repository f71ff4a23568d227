"""First-order optimizers against small NumPy references written from the published algorithms
(PyTorch's documentation pseudo-code), fed the same sequence of gradients. The PyTorch oracle tests
(tests/oracle/test_optim_oracle.py) check the same rules against torch itself."""
from __future__ import annotations

import numpy as np
import pytest

import gradus
from gradus import optim
from tests.helpers import SeededInputs

STEPS = 6


def _grads(seed=0, shape=(3, 2)):
    inputs = SeededInputs(seed, np.float64)
    return [inputs.array(shape) for _ in range(STEPS)]


def ref_sgd(p, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    b = None
    for g in grads:
        g = (-g if maximize else g) + weight_decay * p
        if momentum:
            b = g.copy() if b is None else momentum * b + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        p = p - lr * g
    return p


def ref_adagrad(p, grads, lr, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
                maximize=False):
    s = np.full_like(p, initial_accumulator_value)
    for t, g in enumerate(grads, 1):
        g = (-g if maximize else g) + weight_decay * p
        s = s + g * g
        p = p - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s) + eps)
    return p


def ref_rmsprop(p, grads, lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                maximize=False):
    v, a, b = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    for g in grads:
        g = (-g if maximize else g) + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g
        vt = v
        if centered:
            a = alpha * a + (1 - alpha) * g
            vt = v - a * a
        if momentum > 0:
            b = momentum * b + g / (np.sqrt(vt) + eps)
            p = p - lr * b
        else:
            p = p - lr * g / (np.sqrt(vt) + eps)
    return p


def ref_adadelta(p, grads, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False):
    v, u = np.zeros_like(p), np.zeros_like(p)
    for g in grads:
        g = (-g if maximize else g) + weight_decay * p
        v = rho * v + (1 - rho) * g * g
        dx = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u = rho * u + (1 - rho) * dx * dx
        p = p - lr * dx
    return p


def ref_adam(p, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False,
             decoupled=False):
    b1, b2 = betas
    m, v, vmax = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    for t, g in enumerate(grads, 1):
        g = -g if maximize else g
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        mhat = m / (1 - b1 ** t)
        vmax = np.maximum(vmax, v)
        vhat = (vmax if amsgrad else v) / (1 - b2 ** t)
        p = p - lr * mhat / (np.sqrt(vhat) + eps)
    return p


CASES = [
    (optim.SGD, ref_sgd, dict(lr=0.1)),
    (optim.SGD, ref_sgd, dict(lr=0.1, momentum=0.9, dampening=0.2, weight_decay=0.1)),
    (optim.SGD, ref_sgd, dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True)),
    (optim.Adagrad, ref_adagrad, dict(lr=0.5)),
    (optim.Adagrad, ref_adagrad, dict(lr=0.5, lr_decay=0.1, weight_decay=0.2, initial_accumulator_value=0.3)),
    (optim.Adagrad, ref_adagrad, dict(lr=0.5, maximize=True)),
    (optim.RMSprop, ref_rmsprop, dict(lr=0.01)),
    (optim.RMSprop, ref_rmsprop, dict(lr=0.01, alpha=0.8, centered=True, momentum=0.7, weight_decay=0.1)),
    (optim.RMSprop, ref_rmsprop, dict(lr=0.01, centered=True, maximize=True)),
    (optim.Adadelta, ref_adadelta, dict()),
    (optim.Adadelta, ref_adadelta, dict(lr=0.7, rho=0.5, eps=1e-3, weight_decay=0.1, maximize=True)),
    (optim.Adam, ref_adam, dict(lr=0.1)),
    (optim.Adam, ref_adam, dict(lr=0.1, betas=(0.7, 0.9), amsgrad=True, weight_decay=0.1)),
    (optim.Adam, ref_adam, dict(lr=0.1, amsgrad=True, maximize=True)),
]


@pytest.mark.parametrize("cls,ref,kwargs", CASES,
                         ids=[f"{c.__name__}{i}" for i, (c, _, _) in enumerate(CASES)])
def test_matches_reference(cls, ref, kwargs):
    grads = _grads()
    p0 = SeededInputs(1, np.float64).array(3, 2)
    w = gradus.tensor(p0, requires_grad=True)
    opt = cls([w], **kwargs)
    for g in grads:
        w.grad = gradus.tensor(g)
        opt.step()
    np.testing.assert_allclose(w.numpy(), ref(p0, grads, **kwargs), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kwargs", [dict(lr=0.1),
                                    dict(lr=0.1, weight_decay=0.3, amsgrad=True, maximize=True)])
def test_adamw_is_decoupled(kwargs):
    grads = _grads()
    p0 = SeededInputs(1, np.float64).array(3, 2)
    w = gradus.tensor(p0, requires_grad=True)
    opt = optim.AdamW([w], **kwargs)
    assert opt.param_groups[0]["weight_decay"] == kwargs.get("weight_decay", 1e-2)  # PyTorch's default
    for g in grads:
        w.grad = gradus.tensor(g)
        opt.step()
    wd = kwargs.get("weight_decay", 1e-2)
    expected = ref_adam(p0, grads, **{**kwargs, "weight_decay": wd}, decoupled=True)
    np.testing.assert_allclose(w.numpy(), expected, rtol=1e-12)
    coupled = ref_adam(p0, grads, **{**kwargs, "weight_decay": wd})
    assert not np.allclose(expected, coupled, rtol=1e-6)  # the two weight decays really differ


@pytest.mark.parametrize("cls,kwargs,steps", [
    (optim.SGD, dict(lr=0.1, momentum=0.9), 150), (optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True), 150),
    (optim.Adagrad, dict(lr=0.5), 300), (optim.RMSprop, dict(lr=0.01, centered=True), 400),
    (optim.Adadelta, dict(lr=0.5, eps=1e-2), 400), (optim.Adam, dict(lr=0.05), 300),
    (optim.AdamW, dict(lr=0.05), 300),
])
def test_minimises_a_least_squares_problem(cls, kwargs, steps):
    """A small regression y = X w* + b*: every optimizer gets close to the least-squares optimum."""
    X = SeededInputs(0, np.float64).array(32, 3)
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.3
    Xg, yg = gradus.tensor(X), gradus.tensor(y)
    w, b = gradus.zeros(3, requires_grad=True), gradus.zeros(1, requires_grad=True)
    opt = cls([w, b], **kwargs)
    for _ in range(steps):
        opt.zero_grad()
        ((Xg @ w + b - yg) ** 2).mean().backward()
        opt.step()
    np.testing.assert_allclose(np.concatenate([w.numpy(), b.numpy()]), [1.0, -2.0, 0.5, 0.3], atol=0.05)
