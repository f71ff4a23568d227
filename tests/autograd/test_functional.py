"""autograd.functional (jacobian, hessian, hvp, vhp, vjp, jvp) against torch.autograd.functional."""
import numpy as np
import pytest

import gradus
from gradus.autograd import functional as AF


def _f_vec(L, x):
    """R^3 -> R^2, nonlinear."""
    return L.stack([(x * x).sum() * x[0], (x.sin() * x.exp()).sum()])


def _f_scalar(L, x):
    return (x ** 3).sum() + (x[0] * x[1]).tanh() + (x * x).sum().sqrt()


def _f_two(L, a, b):
    return (a @ b).tanh()


def _rosen(L, p):
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


_X = np.array([0.3, -0.7, 1.1])
_V = np.array([1.0, -2.0, 0.5])


def _g(a):
    return gradus.tensor(a, dtype=gradus.float64)


def _close(a, b):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.oracle
def test_jacobian_and_hessian_match_torch(torch):
    TF = torch.autograd.functional
    t = torch.tensor(_X)
    _close(AF.jacobian(lambda x: _f_vec(gradus, x), _g(_X)), TF.jacobian(lambda x: _f_vec(torch, x), t))
    _close(AF.hessian(lambda x: _f_scalar(gradus, x), _g(_X)), TF.hessian(lambda x: _f_scalar(torch, x), t))
    p = np.array([-1.2, 1.0])
    _close(AF.hessian(lambda q: _rosen(gradus, q), _g(p)),
           TF.hessian(lambda q: _rosen(torch, q), torch.tensor(p)))


@pytest.mark.oracle
def test_jacobian_of_two_inputs_matches_torch(torch):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 2))
    J = AF.jacobian(lambda a, b: _f_two(gradus, a, b), (_g(a), _g(b)))
    Jt = torch.autograd.functional.jacobian(lambda a, b: _f_two(torch, a, b),
                                            (torch.tensor(a), torch.tensor(b)))
    assert isinstance(J, tuple) and len(J) == 2
    for j, jt in zip(J, Jt):
        assert j.shape == tuple(jt.shape)
        _close(j, jt)


@pytest.mark.oracle
def test_vjp_jvp_hvp_vhp_match_torch(torch):
    TF = torch.autograd.functional
    t, v = torch.tensor(_X), torch.tensor(_V)
    u = np.array([0.5, -1.5])
    out, g = AF.vjp(lambda x: _f_vec(gradus, x), _g(_X), _g(u))
    out_t, g_t = TF.vjp(lambda x: _f_vec(torch, x), t, torch.tensor(u))
    _close(out, out_t)
    _close(g, g_t)
    out, jv = AF.jvp(lambda x: _f_vec(gradus, x), _g(_X), _g(_V))
    out_t, jv_t = TF.jvp(lambda x: _f_vec(torch, x), t, v)
    _close(out, out_t)
    _close(jv, jv_t)
    for ours, theirs in ((AF.hvp, TF.hvp), (AF.vhp, TF.vhp)):
        out, hv = ours(lambda x: _f_scalar(gradus, x), _g(_X), _g(_V))
        out_t, hv_t = theirs(lambda x: _f_scalar(torch, x), t, v)
        _close(out, out_t)
        _close(hv, hv_t)


def test_functional_leaves_inputs_untouched_and_hessian_is_symmetric():
    x = _g(_X)
    H = AF.hessian(lambda x: _f_scalar(gradus, x), x)
    assert H.shape == (3, 3) and not H.requires_grad
    np.testing.assert_allclose(H.numpy(), H.numpy().T, rtol=1e-12)
    assert not x.requires_grad and x.grad is None


@pytest.mark.oracle
def test_create_graph_keeps_results_differentiable_wrt_the_inputs(torch):
    TF = torch.autograd.functional
    x = gradus.tensor(_X, dtype=gradus.float64, requires_grad=True)
    t = torch.tensor(_X, requires_grad=True)
    J = AF.jacobian(lambda x: _f_vec(gradus, x), x, create_graph=True)
    Jt = TF.jacobian(lambda x: _f_vec(torch, x), t, create_graph=True)
    _close(gradus.autograd.grad((J * J).sum(), x)[0], torch.autograd.grad((Jt * Jt).sum(), t)[0])
    H = AF.hessian(lambda x: _f_scalar(gradus, x), x, create_graph=True)
    Ht = TF.hessian(lambda x: _f_scalar(torch, x), t, create_graph=True)
    _close(gradus.autograd.grad(H[0, 1] + H[2, 2], x)[0], torch.autograd.grad(Ht[0, 1] + Ht[2, 2], t)[0])
    _, hv = AF.hvp(lambda x: _f_scalar(gradus, x), x, _g(_V), create_graph=True)
    _, hv_t = TF.hvp(lambda x: _f_scalar(torch, x), t, torch.tensor(_V), create_graph=True)
    _close(gradus.autograd.grad(hv.sum(), x)[0], torch.autograd.grad(hv_t.sum(), t)[0])
