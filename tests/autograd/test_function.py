"""Custom Functions: ctx.save_for_backward, needs_input_grad, once_differentiable, anomaly mode."""
import numpy as np
import pytest

import gradus
from gradus.autograd import Function, once_differentiable
from gradus.errors import AnomalyError, AutogradError


class Cube(Function):
    """y = x^3 with a raw-array backward: differentiable once only."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    @once_differentiable
    def backward(ctx, gy):
        (x,) = ctx.saved_arrays
        return gy * 3 * x ** 2


class ScaleBy(Function):
    """y = a * b, recording which inputs backward was asked for."""

    seen = None

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, gy):
        ScaleBy.seen = ctx.needs_input_grad
        a, b = ctx.saved_tensors
        return (gy * b if ctx.needs_input_grad[0] else None), (gy * a if ctx.needs_input_grad[1] else None)


def test_once_differentiable_first_order_works():
    x = gradus.tensor([1.0, 2.0], requires_grad=True)
    Cube.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 12.0])


def test_once_differentiable_raises_on_double_backward():
    x = gradus.tensor([1.0, 2.0], requires_grad=True)
    (g,) = gradus.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [3.0, 12.0])
    with pytest.raises(AutogradError, match="CubeBackward is once_differentiable"):
        g.sum().backward()


def test_needs_input_grad_and_custom_function_gradcheck():
    a = gradus.tensor([1.0, 2.0], dtype=gradus.float64, requires_grad=True)
    b = gradus.tensor([3.0, 4.0], dtype=gradus.float64)
    ScaleBy.apply(a, b).sum().backward()
    assert ScaleBy.seen == (True, False)
    assert b.grad is None
    assert gradus.autograd.gradcheck(ScaleBy.apply, (a, b.requires_grad_()))
    assert gradus.autograd.gradgradcheck(ScaleBy.apply, (a, b))


def test_function_returning_wrong_number_of_grads_is_reported():
    class Broken(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, gy):
            return gy

    a, b = gradus.ones(2, requires_grad=True), gradus.ones(2, requires_grad=True)
    with pytest.raises(AutogradError, match="BrokenBackward: backward returned 1 gradients but forward had"):
        Broken.apply(a, b).sum().backward()


def test_anomaly_in_forward_names_the_op():
    x = gradus.tensor([-1.0, 2.0], requires_grad=True)
    with gradus.detect_anomaly():
        with pytest.raises(AnomalyError, match="Log produced NaN/Inf in its forward output"):
            with np.errstate(invalid="ignore"):
                gradus.log(x)
    with np.errstate(invalid="ignore"):
        assert np.isnan(gradus.log(x).numpy()[0])  # off again: no check


def test_anomaly_in_backward_names_the_backward_node():
    x = gradus.tensor([0.0, 4.0], requires_grad=True)
    with gradus.detect_anomaly():
        y = gradus.sqrt(x).sum()
        with pytest.raises(AnomalyError, match=r"(?s)SqrtBackward returned NaN/Inf.*forward call that"):
            with np.errstate(divide="ignore"):
                y.backward()
    assert not gradus.autograd.is_anomaly_enabled()


def test_anomaly_as_decorator_and_flag():
    @gradus.detect_anomaly()
    def f():
        return gradus.autograd.is_anomaly_enabled()

    assert f() and not gradus.autograd.is_anomaly_enabled()
    gradus.set_detect_anomaly(True)
    try:
        assert gradus.autograd.is_anomaly_enabled()
    finally:
        gradus.set_detect_anomaly(False)
