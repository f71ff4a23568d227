"""gradcheck / gradgradcheck: they pass on correct gradients and fail, with a precise message, on
wrong ones (first and second order)."""
import numpy as np
import pytest

import gradus
from gradus.autograd import Function, gradcheck, gradgradcheck
from gradus.autograd.checks import GradcheckError


class WrongSquare(Function):
    """y = x^2 with a gradient wrong at one element (index 1 gets 3x instead of 2x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        scale = gradus.tensor(np.array([2.0, 3.0, 2.0]), dtype=x.dtype)
        return gy * x * scale


class FlatSecondOrder(Function):
    """y = x^3 whose backward is right in value but treats x^2 as a constant: the second derivative
    comes out 3 x^2 * 0 = 0 instead of 6x. Only gradgradcheck can notice."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * (3 * x * x).detach()


def _x(values=(0.5, -1.0, 2.0)):
    return gradus.tensor(np.array(values), requires_grad=True)


def test_gradcheck_passes_on_correct_ops():
    a = _x()
    b = gradus.tensor(np.array([[1.0, 2.0, 3.0]]), requires_grad=True)
    assert gradcheck(lambda a, b: (a * b).tanh().sum(0), (a, b))
    assert gradgradcheck(lambda a, b: (a * b).tanh().sum(0), (a, b))


def test_gradcheck_failure_names_input_index_and_values():
    other = gradus.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda o, x: o + WrongSquare.apply(x), (other, _x()))
    msg = str(info.value)
    assert "input 1" in msg and "index (1,)" in msg
    assert "numerical -2" in msg and "analytic -3" in msg  # d(x^2)/dx at x = -1
    assert not gradcheck(WrongSquare.apply, (_x(),), raise_exception=False)


def test_gradgradcheck_catches_wrong_second_derivative():
    assert gradcheck(FlatSecondOrder.apply, (_x(),))
    with pytest.raises(GradcheckError, match=r"gradcheck failed for input 0 .*numerical .* vs analytic 0"):
        gradgradcheck(FlatSecondOrder.apply, (_x(),))


def test_gradcheck_requires_float64():
    with pytest.raises(GradcheckError, match="float64"):
        gradcheck(lambda x: x * 2, (gradus.ones(2, requires_grad=True),))


def test_gradcheck_handles_non_contiguous_inputs():
    x = gradus.tensor(np.arange(6.0).reshape(2, 3)).T.detach().requires_grad_()
    assert not x.data.flags.c_contiguous
    assert gradcheck(lambda t: (t * t).sum(), (x,))
    with pytest.raises(GradcheckError):
        gradcheck(lambda t: WrongSquare.apply(t.reshape(-1)[:3]), (x,))
