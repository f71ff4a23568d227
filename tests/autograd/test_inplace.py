"""In-place operations with PyTorch's semantics: version counters (bumped by every in-place op, shared
by views and ``detach()``) checked by backward, and in-place ops / index assignment on tensors inside a
graph recorded, so they are differentiated (each case against PyTorch)."""
import numpy as np
import pytest

import gradus
from gradus.autograd import gradcheck
from gradus.errors import AutogradError

VERSION_ERROR = r"modified by an in-place operation: .* is at version 1; expected version 0"


def _pair(torch, a, requires_grad=True):
    """The same float64 leaf in gradus and in torch."""
    return (gradus.tensor(a, dtype=gradus.float64, requires_grad=requires_grad),
            torch.tensor(a, dtype=torch.float64, requires_grad=requires_grad))


# ------------------------------------------------------------------------------- version counters
def test_every_in_place_op_bumps_the_version_and_detach_shares_it():
    x = gradus.zeros(3)
    assert x._version == 0
    x.add_(1)
    x.mul_(2)
    x[0] = 5
    d = x.detach()
    d.zero_()
    assert x._version == d._version == 4 and x.tolist() == [0, 0, 0]
    v = x.reshape(3, 1)                         # a view shares the counter too
    v.fill_(1.0)
    assert x._version == 5 and x.tolist() == [1, 1, 1]


@pytest.mark.parametrize("case", ["saved_output", "saved_input", "through_detach", "through_view",
                                  "sigmoid_zero"])
def test_backward_refuses_values_changed_after_they_were_saved(case):
    x = gradus.tensor([0.5, 1.0, 2.0], requires_grad=True)
    if case == "saved_output":                 # exp saves its output
        y = x.exp()
        y.mul_(2)
        loss = y.sum()
    elif case == "saved_input":                # a * b saves a to differentiate b
        a = gradus.tensor([1.0, 2.0, 3.0])
        loss = (a * x).sum()
        a.add_(10)
    elif case == "through_detach":
        y = x.exp()
        loss = y.sum()
        y.detach().zero_()
    elif case == "through_view":
        a = gradus.tensor([1.0, 2.0, 3.0])
        loss = (a * x).sum()
        a.reshape(3, 1).add_(1)
    else:
        y = gradus.sigmoid(x)
        y.zero_()
        loss = y.sum()
    with pytest.raises(AutogradError, match=VERSION_ERROR):
        loss.backward()


def test_the_error_names_the_op_and_the_fix():
    x = gradus.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y.mul_(2)
    with pytest.raises(AutogradError) as e:
        y.sum().backward()
    msg = str(e.value)
    assert "ExpBackward" in msg and "output 0 (shape (2,))" in msg and "clone()" in msg


def test_in_place_ops_outside_any_graph_change_nothing_else():
    x = gradus.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).sum()
    with gradus.no_grad():
        x.add_(1)                               # an optimiser step: allowed, data only
    assert x.tolist() == [2, 3] and x.grad_fn is None and x.requires_grad
    with pytest.raises(AutogradError, match="version 1; expected version 0"):
        y.backward()                            # Mul saved x (PyTorch refuses too)


def test_leaf_requiring_grad_is_refused_outside_no_grad():
    w = gradus.ones(2, requires_grad=True)
    for op in (lambda: w.add_(1), lambda: w.mul_(2), lambda: w.zero_(), lambda: w.__setitem__(0, 1.0)):
        with pytest.raises(AutogradError, match="leaf tensor that requires grad"):
            op()


# ------------------------------------------------------------------------ recorded in-place ops
def _both(torch, fn, a, *others):
    """fn(x, *others) on gradus and torch; returns (gradus grads, torch grads, gradus out, torch out)."""
    gx, tx = _pair(torch, a)
    go = [_pair(torch, o) for o in others]
    g_out = fn(gradus, gx, *[p[0] for p in go])
    t_out = fn(torch, tx, *[p[1] for p in go])
    w = np.linspace(-1, 1, t_out.numel()).reshape(tuple(t_out.shape))
    (g_out * gradus.tensor(w, dtype=gradus.float64)).sum().backward()
    (t_out * torch.tensor(w)).sum().backward()
    grads = [gx.grad.numpy()] + [p[0].grad.numpy() for p in go]
    torch_grads = [tx.grad.numpy()] + [p[1].grad.numpy() for p in go]
    return grads, torch_grads, g_out.detach().numpy(), t_out.detach().numpy()


CASES = {
    "mul_": (lambda m, x: (x * 3).mul_(2), ),
    "add_alpha": (lambda m, x, o: (x * 1).add_(o, alpha=2.5), (3,)),
    "sub_div": (lambda m, x, o: (x * 1).sub_(o).div_(o * 2 + 3), (3,)),
    "clamp_": (lambda m, x: (x * 2).clamp_(-0.5, 0.7), ),
    "zero_": (lambda m, x: (x * 2).zero_() + x, ),
    "fill_": (lambda m, x: (x * 2).fill_(4.0) * x, ),
    "copy_": (lambda m, x, o: (x * 2).copy_(o * 3), (3,)),
    "buffer_add_": (lambda m, x: m.zeros(3, dtype=m.float64).add_(x * x), ),
    "setitem_slice": (lambda m, x, o: _setitem(x * 2, (slice(1, None),), o[:2] * 5), (3,)),
    "setitem_int": (lambda m, x, o: _setitem(x * 2, (0,), o.sum()), (3,)),
    "setitem_mask": (lambda m, x: _setitem(x * 2, (x > 0.1,), 0.0), ),
    "setitem_broadcast": (lambda m, x, o: _setitem(x.reshape(1, 3) * m.ones(2, 1, dtype=m.float64),
                                                   (slice(None), slice(0, 2)), o[:2]), (3,)),
    "setitem_index_tensor": (lambda m, x, o: _setitem(
        x.reshape(1, 3) * m.ones(2, 1, dtype=m.float64), (1, m.tensor([2, 0])), o[1:] * 2), (3,)),
    "twice": (lambda m, x: (x * 1).mul_(x).add_(x), ),
}


def _setitem(t, idx, v):
    t[idx] = v
    return t


@pytest.mark.parametrize("name", sorted(CASES))
def test_recorded_in_place_ops_match_pytorch(torch, name):
    fn, *shapes = CASES[name]
    rng = np.random.default_rng(0)
    others = [rng.normal(size=s) for s in (shapes[0] if shapes else ())]
    g, t, g_out, t_out = _both(torch, fn, rng.normal(size=3), *others)
    np.testing.assert_allclose(g_out, t_out, rtol=1e-12)
    for a, b in zip(g, t):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_the_issue_example_y_mul_2_gives_6():
    x = gradus.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.mul_(2)
    y.sum().backward()
    assert x.grad.tolist() == [6, 6] and y._version == 1


def test_setitem_gradients_by_central_differences():
    def fn(x, v):
        y = x * 1.5
        y[1:, gradus.tensor([0, 2])] = v.exp()
        return y

    x = gradus.randn(3, 3, dtype=gradus.float64, requires_grad=True)
    v = gradus.randn(2, dtype=gradus.float64, requires_grad=True)
    assert gradcheck(fn, (x, v))


def test_in_place_on_a_view_of_a_graph_tensor_is_refused_clearly():
    x = gradus.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x * 2
    with pytest.raises(AutogradError, match=r"view \(GetItemBackward output\).*clone"):
        y[0].mul_(2)
    z = y[0].clone()
    z.mul_(2)                                     # fine on a copy
    z.sum().backward()
    assert x.grad.tolist() == [[4, 4], [0, 0]]
