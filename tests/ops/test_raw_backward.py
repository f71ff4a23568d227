"""The primitives whose backward is written twice (FusedFunction: on raw arrays for a plain
backward, with Tensor ops for ``create_graph=True``): both paths give the same gradients, in every
shape case the op has (broadcast operands, 1-D matmul operands, repeated integer indices)."""
import numpy as np
import pytest

import gradus
from gradus.ops.elementwise import Div, Exp, Mul, Relu, Sigmoid, Sub, Tanh
from gradus.ops.indexing import GetItem
from gradus.ops.matmul import MatMul
from gradus.ops.movement import Permute, Reshape
from gradus.ops.reduce import Mean, Sum

rng = np.random.default_rng(0)


def _t(*shape):
    return gradus.tensor(rng.standard_normal(shape), requires_grad=True)  # float64


CASES = {
    "sum all": (lambda a, b: a.sum() * 1.0, [(3, 4)]),
    "sum dim": (lambda a, b: a.sum(1), [(3, 4)]),
    "sum keepdim": (lambda a, b: a.sum((0, 2), keepdim=True), [(2, 3, 4)]),
    "mean all": (lambda a, b: a.mean(), [(3, 4)]),
    "mean dim": (lambda a, b: a.mean(-1), [(2, 3, 4)]),
    "sub": (lambda a, b: a - b, [(3, 4), (3, 4)]),
    "sub broadcast": (lambda a, b: a - b, [(3, 4), (4,)]),
    "div": (lambda a, b: a / (b * b + 1.0), [(3, 4), (3, 4)]),
    "div broadcast": (lambda a, b: a / (b * b + 1.0), [(3, 1), (4,)]),
    "tanh": (lambda a, b: a.tanh(), [(3, 4)]),
    "sigmoid": (lambda a, b: a.sigmoid(), [(3, 4)]),
    "permute": (lambda a, b: a.permute(2, 0, 1), [(2, 3, 4)]),
    "transpose": (lambda a, b: a.transpose(0, 1), [(3, 4)]),
    "mul": (lambda a, b: a * b, [(3, 4), (3, 4)]),
    "mul broadcast": (lambda a, b: a * b, [(3, 1), (1, 4)]),
    "mul by a number": (lambda a, b: a * 2.5, [(3, 4)]),
    "exp": (lambda a, b: a.exp(), [(3, 4)]),
    "relu": (lambda a, b: a.relu(), [(3, 4)]),
    "matmul 2-D": (lambda a, b: a @ b, [(3, 4), (4, 5)]),
    "matmul batched, broadcast b": (lambda a, b: a @ b, [(2, 3, 4), (4, 5)]),
    "matmul vector @ matrix": (lambda a, b: a @ b, [(4,), (2, 4, 5)]),
    "matmul matrix @ vector": (lambda a, b: a @ b, [(2, 3, 4), (4,)]),
    "matmul dot": (lambda a, b: a @ b, [(4,), (4,)]),
    "reshape": (lambda a, b: a.reshape(2, 6), [(3, 4)]),
    "getitem slice": (lambda a, b: a[1:3, ::2], [(3, 4)]),
    "getitem repeated ints": (lambda a, b: a[gradus.tensor([0, 2, 0, 0])], [(3, 4)]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_raw_and_composed_backward_agree(name):
    fn, shapes = CASES[name]
    xs = [_t(*s) for s in shapes]
    args = xs + [None] * (2 - len(xs))
    y = fn(*args)
    gy = gradus.tensor(rng.standard_normal(y.shape))
    raw = gradus.autograd.grad(y, xs, gy, retain_graph=True)                    # backward_raw
    composed = gradus.autograd.grad(y, xs, gy, create_graph=True)               # backward_composed
    for r, c in zip(raw, composed):
        assert r.grad_fn is None and r.shape == c.shape and r.dtype == c.dtype
        np.testing.assert_allclose(r.numpy(), c.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_the_twins_are_fused_functions():
    for cls in (Sum, Mean, Sub, Mul, Div, Exp, Tanh, Sigmoid, Relu, MatMul, Reshape, Permute, GetItem):
        assert issubclass(cls, gradus.autograd.FusedFunction), cls


def test_a_plain_backward_runs_no_op_inside_these_backwards(monkeypatch):
    """The point of the raw path: Sum / Mul / MatMul backward call no Function (each call costs
    microseconds); counted through Function.apply."""
    a, b = _t(3, 4), _t(4, 5)
    loss = (((a @ b).relu() * 2.0).exp().tanh().sigmoid() / (1.0 + (a @ b).permute(1, 0).T) - a.sum()).mean()
    calls = []
    original = gradus.autograd.Function.apply.__func__

    def counting(cls, *args, **kwargs):
        calls.append(cls.__name__)
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(gradus.autograd.Function, "apply", classmethod(counting))
    loss.backward()
    assert calls == [] and a.grad is not None and b.grad is not None
