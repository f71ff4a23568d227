"""The backward engine: gradients in, accumulation, retained/freed graphs, hooks, higher order,
deep graphs, broadcasting and dtype invariants, and the errors for misuse."""
import numpy as np
import pytest

import gradus
from gradus.errors import AutogradError


def test_backward_with_gradient_argument():
    x = gradus.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    y.backward(gradient=gradus.tensor([1.0, 0.5, -1.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, -6.0])


def test_backward_gradient_as_ndarray_and_wrong_shape():
    x = gradus.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).backward(np.array([1.0, 2.0]))
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 6.0])
    with pytest.raises(AutogradError, match=r"gradient for output 0 has shape \(3,\) but the output"):
        (x * 3).backward(gradus.ones(3))


def test_non_scalar_backward_without_gradient_is_a_clear_error():
    x = gradus.ones(2, 3, requires_grad=True)
    with pytest.raises(AutogradError, match=r"scalar outputs.*shape \(2, 3\).*gradient=gradus.ones_like"):
        (x * 2).backward()


def test_backward_on_tensor_without_graph_is_a_clear_error():
    with pytest.raises(AutogradError, match="does not require grad"):
        gradus.ones(2).sum().backward()
    x = gradus.ones(2, requires_grad=True)
    with gradus.no_grad():
        y = (x * 2).sum()
    with pytest.raises(AutogradError, match="no_grad"):
        y.backward()


def test_gradients_accumulate_into_leaves_across_backward_calls():
    x = gradus.tensor([1.0, -2.0], requires_grad=True)
    (x * x).sum().backward()
    (3 * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0 + 3.0, -4.0 + 3.0])
    x.grad = None
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_leaf_grads_are_writeable_and_not_shared():
    """grad.zero_() / in-place optimizer updates must be possible and must not leak into other
    leaves: sum's backward is a read-only broadcast view and + hands one array to both sides."""
    a, b = gradus.ones(3, requires_grad=True), gradus.ones(3, requires_grad=True)
    (a + b).sum().backward()
    a.grad.zero_()
    np.testing.assert_allclose(b.grad.numpy(), [1.0, 1.0, 1.0])
    g = gradus.tensor([1.0, 2.0, 3.0])
    c = gradus.ones(3, requires_grad=True)
    c.backward(g)
    c.grad.mul_(0.0)
    np.testing.assert_allclose(g.numpy(), [1.0, 2.0, 3.0])


def test_retain_graph_allows_a_second_backward():
    x = gradus.tensor(2.0, requires_grad=True)
    y = x.exp() * x
    y.backward(retain_graph=True)
    first = x.grad.item()
    y.backward()
    assert x.grad.item() == pytest.approx(2 * first)


def test_second_backward_through_freed_graph_raises():
    x = gradus.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(AutogradError, match=r"backward through the graph a second time.*retain_graph=True"):
        y.backward()


def test_partially_freed_graph_raises_when_reused():
    x = gradus.tensor([1.0, 2.0], requires_grad=True)
    h = x.sin()
    h.sum().backward()  # frees SinBackward
    with pytest.raises(AutogradError, match="SinBackward"):
        (h * 2).sum().backward()


def test_higher_order_derivatives_of_sin():
    x = gradus.tensor([0.3, 1.2], dtype=gradus.float64, requires_grad=True)
    y = x.sin().sum()
    (g1,) = gradus.autograd.grad(y, x, create_graph=True)
    (g2,) = gradus.autograd.grad(g1.sum(), x, create_graph=True)
    (g3,) = gradus.autograd.grad(g2.sum(), x, create_graph=True)
    (g4,) = gradus.autograd.grad(g3.sum(), x)
    xs = x.detach().numpy()
    np.testing.assert_allclose(g1.detach().numpy(), np.cos(xs), rtol=1e-12)
    np.testing.assert_allclose(g2.detach().numpy(), -np.sin(xs), rtol=1e-12)
    np.testing.assert_allclose(g3.detach().numpy(), -np.cos(xs), rtol=1e-12)
    np.testing.assert_allclose(g4.numpy(), np.sin(xs), rtol=1e-12)


def test_create_graph_backward_leaves_differentiable_grad():
    x = gradus.tensor(3.0, dtype=gradus.float64, requires_grad=True)
    (x ** 3).backward(create_graph=True)
    assert x.grad.requires_grad and x.grad.item() == pytest.approx(27.0)
    gx = x.grad
    x.grad = None
    gx.backward()
    assert x.grad.item() == pytest.approx(18.0)


def test_second_order_of_0d_outputs_that_save_their_output():
    """exp/tanh/sigmoid/sqrt save their output; on 0-d inputs NumPy returns scalars, which must
    still be recognised as the output (else the second derivative silently loses a term)."""
    x = gradus.tensor(0.7, dtype=gradus.float64, requires_grad=True)
    th = np.tanh(0.7)
    for f, d2 in [(gradus.exp, np.exp(0.7)), (gradus.sqrt, -0.25 * 0.7 ** -1.5),
                  (gradus.tanh, -2 * th * (1 - th ** 2)), (lambda t: 2 ** t, np.log(2) ** 2 * 2 ** 0.7)]:
        (g,) = gradus.autograd.grad(f(x), x, create_graph=True)
        (gg,) = gradus.autograd.grad(g, x)
        assert gg.item() == pytest.approx(d2, rel=1e-12)


def test_autograd_grad_allow_unused():
    x = gradus.tensor([1.0, 2.0], requires_grad=True)
    z = gradus.tensor([3.0], requires_grad=True)
    y = (x * 2).sum()
    with pytest.raises(AutogradError, match=r"input 1 .* was not used.*allow_unused=True"):
        gradus.autograd.grad(y, [x, z], retain_graph=True)
    gx, gz = gradus.autograd.grad(y, [x, z], allow_unused=True)
    np.testing.assert_allclose(gx.numpy(), [2.0, 2.0])
    assert gz is None
    assert x.grad is None and z.grad is None  # autograd.grad does not touch .grad


def test_autograd_grad_with_grad_outputs_and_several_outputs():
    x = gradus.tensor([1.0, 2.0], requires_grad=True)
    y1, y2 = x * 2, x * x
    gx, = gradus.autograd.grad([y1, y2], x, grad_outputs=[gradus.ones(2), gradus.tensor([1.0, -1.0])])
    np.testing.assert_allclose(gx.numpy(), [2 + 2.0, 2 - 4.0])


def test_backward_inputs_restricts_accumulation():
    a, b = gradus.tensor(1.0, requires_grad=True), gradus.tensor(2.0, requires_grad=True)
    (a * b).backward(inputs=[a])
    assert a.grad.item() == 2.0 and b.grad is None


def test_requires_grad_flag_and_requires_grad_():
    x = gradus.ones(2)
    assert not x.requires_grad and x.is_leaf
    assert x.requires_grad_() is x and x.requires_grad
    y = x * 2
    assert y.requires_grad and not y.is_leaf and y.grad_fn.name() == "MulBackward"
    with pytest.raises(AutogradError, match="non-leaf"):
        y.requires_grad_(False)
    x.requires_grad_(False)
    assert not (x * 2).requires_grad
    with pytest.raises(TypeError, match="only floating point tensors can require gradients"):
        gradus.tensor([1, 2]).requires_grad_()


def test_retain_grad_on_non_leaf():
    x = gradus.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    out = (h * h).sum()
    out.backward()
    np.testing.assert_allclose(h.grad.numpy(), [6.0, 12.0])
    np.testing.assert_allclose(x.grad.numpy(), [18.0, 36.0])
    h2 = x * 3
    (h2 * h2).sum().backward()
    assert h2.grad is None  # not retained: interior grads are freed


def test_register_hook_on_leaf_modifies_grad_and_can_be_removed():
    x = gradus.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    handle = x.register_hook(lambda g: seen.append(g.numpy().copy()) or g * 10)
    (x * x).sum().backward()
    np.testing.assert_allclose(seen[0], [2.0, 4.0])
    np.testing.assert_allclose(x.grad.numpy(), [20.0, 40.0])
    handle.remove()
    x.grad = None
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_register_hook_on_non_leaf_changes_what_flows_back():
    x = gradus.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.register_hook(lambda g: g * 0.5)
    h.retain_grad()
    (h * 3).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), [1.5, 1.5])  # retain_grad sees the hooked gradient
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])
    with pytest.raises(AutogradError, match="does not require grad"):
        gradus.ones(2).register_hook(lambda g: g)


def test_deep_chain_without_recursion_error():
    """100,000 ops deep (neg: the cheapest op, as this test is about depth, not arithmetic)."""
    x = gradus.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = -y
    y.backward()
    assert x.grad.item() == 1.0  # an even number of negations


def test_broadcast_grads_reduced_to_input_shape_and_dtype():
    w = gradus.ones(3, requires_grad=True)                     # float32 parameter
    b = gradus.zeros(2, 1, requires_grad=True)
    z = w * gradus.tensor(np.arange(6.0).reshape(2, 3)) + b    # float64 data: promoted result
    assert z.dtype == np.float64
    z.sum().backward()
    assert w.grad.shape == (3,) and w.grad.dtype == np.float32
    assert b.grad.shape == (2, 1) and b.grad.dtype == np.float32
    np.testing.assert_allclose(w.grad.numpy(), [3.0, 5.0, 7.0])
    np.testing.assert_allclose(b.grad.numpy(), [[3.0], [3.0]])
    s = gradus.tensor(2.0, requires_grad=True)                 # 0-d scalar broadcast over everything
    (s * gradus.ones(4, 5)).sum().backward()
    assert s.grad.shape == () and s.grad.item() == 20.0


def test_mask_multiplication_does_not_crash():
    x = gradus.tensor([-1.0, 2.0, -3.0, 4.0], requires_grad=True)
    y = x * (x > 0)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 1.0, 0.0, 1.0])
    assert x.grad.dtype == np.float32


def test_same_tensor_used_many_times():
    x = gradus.tensor(3.0, requires_grad=True)
    y = x * x + x * 2 + x
    y.backward()
    assert x.grad.item() == 2 * 3 + 2 + 1


def test_detach_cuts_the_graph():
    x = gradus.tensor(2.0, requires_grad=True)
    y = x * x.detach()
    y.backward()
    assert x.grad.item() == 2.0
    assert not x.detach().requires_grad


@pytest.mark.oracle
def test_hooks_and_grad_wrt_leaves_and_non_leaves_match_torch(torch):
    res = []
    for L in (gradus, torch):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        x.register_hook(lambda g: g * 10)          # leaf hook: applies to autograd.grad's result too
        h = x * 3
        y = (h * h).sum() + h.prod()
        gx, gh = L.autograd.grad(y, [x, h], retain_graph=True)
        y.backward()
        res.append([t.detach().numpy() for t in (gx, gh, x.grad)])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b)
