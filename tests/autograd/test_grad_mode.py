"""no_grad / enable_grad / set_grad_enabled / inference_mode as context managers and decorators."""
import pytest

import gradus


def _x():
    return gradus.ones(2, requires_grad=True)


def test_no_grad_context_manager_and_restore():
    x = _x()
    with gradus.no_grad():
        assert not gradus.is_grad_enabled()
        y = x * 2
    assert gradus.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None


def test_no_grad_restores_on_exception():
    with pytest.raises(ZeroDivisionError):
        with gradus.no_grad():
            raise ZeroDivisionError
    assert gradus.is_grad_enabled()


def test_enable_grad_inside_no_grad():
    x = _x()
    with gradus.no_grad():
        with gradus.enable_grad():
            y = x * 2
        z = x * 2
    assert y.requires_grad and not z.requires_grad


def test_decorators():
    x = _x()

    @gradus.no_grad()
    def f(t):
        return t * 2

    @gradus.enable_grad()
    def g(t):
        return t * 2

    @gradus.set_grad_enabled(False)
    def h(t):
        return t * 2

    assert gradus.is_grad_enabled()  # decorating switched nothing
    assert not f(x).requires_grad and not h(x).requires_grad
    with gradus.no_grad():
        assert g(x).requires_grad
    assert f.__name__ == "f"


def test_set_grad_enabled_context_and_function():
    x = _x()
    with gradus.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert gradus.is_grad_enabled()
    with gradus.set_grad_enabled(True):
        assert (x * 2).requires_grad
    gradus.set_grad_enabled(False)  # as a plain call, like torch
    try:
        assert not gradus.is_grad_enabled()
    finally:
        gradus.set_grad_enabled(True)
    assert gradus.is_grad_enabled()


def test_inference_mode():
    x = _x()
    with gradus.inference_mode():
        assert not (x + 1).requires_grad


def test_in_place_update_of_leaf_needs_no_grad():
    w = gradus.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"in-place operation; wrap it in `with gradus.no_grad\(\):`"):
        w.sub_(1.0)
    with gradus.no_grad():
        w.sub_(gradus.tensor([0.5, 0.5, 0.5]))
    assert w.tolist() == [0.5, 0.5, 0.5] and w.requires_grad
