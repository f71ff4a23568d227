"""Fused functions against their composed twins: forward values, gradients (gradcheck, raw-array
backward path) and second derivatives (gradgradcheck, Tensor-op backward path)."""
from __future__ import annotations

import math

import numpy as np
import pytest

import gradus
import gradus.functional as F
from gradus.autograd import gradcheck, gradgradcheck
from gradus.functional.activation import _log_softmax_composed, _softmax_composed
from gradus.functional.linear import _linear_composed
from gradus.functional.loss import _cross_entropy_composed
from gradus.functional.norm import _normalize_composed
from tests.helpers import SeededInputs


def t64(*shape, seed=0, scale=1.0, shift=0.0, grad=True):
    """A float64 standard-normal input (``* scale + shift``) of its own seed, requiring grad."""
    return SeededInputs(seed, np.float64).tensor(*shape, scale=scale, shift=shift, requires_grad=grad)


def grads(fn, inputs, seed=1):
    """Gradients of <fn(*inputs), G> w.r.t. the inputs that require grad, G random."""
    y = fn(*inputs)
    G = t64(y.shape, seed=seed, grad=False)
    req = [x for x in inputs if x.requires_grad]
    return y, gradus.autograd.grad(y, req, grad_outputs=G)


def assert_twins(fused, composed, inputs, rtol=1e-10):
    yf, gf = grads(fused, inputs)
    yc, gc = grads(composed, inputs)
    np.testing.assert_allclose(yf.numpy(), yc.numpy(), rtol=rtol, atol=1e-12)
    for a, b in zip(gf, gc):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("xshape", [(4, 3), (2, 3, 3), (3,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(xshape, bias):
    x, W = t64(*xshape), t64(5, 3, seed=1)
    args = [x, W] + ([t64(5, seed=2)] if bias else [])
    assert_twins(F.linear, _linear_composed, args)
    assert gradcheck(F.linear, args)
    assert gradgradcheck(F.linear, args)


def test_linear_is_one_node_and_fast_path_returns_right_shapes():
    x, W, b = t64(8, 3), t64(4, 3, seed=1), t64(4, seed=2)
    y = F.linear(x, W, b)
    assert y.grad_fn.name() == "LinearBackward"
    leaves = {x._grad_edge()[0], W._grad_edge()[0], b._grad_edge()[0]}
    assert {n for n, _ in y.grad_fn.next_functions} == leaves
    y.sum().backward()
    assert x.grad.shape == (8, 3) and W.grad.shape == (4, 3) and b.grad.shape == (4,)
    np.testing.assert_allclose(b.grad.numpy(), np.full(4, 8.0))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_and_log_softmax(dim):
    x = t64(3, 4, 2, scale=3)
    assert_twins(lambda a: F.softmax(a, dim), lambda a: _softmax_composed(a, dim), [x])
    assert_twins(lambda a: F.log_softmax(a, dim), lambda a: _log_softmax_composed(a, dim), [x])
    for fn in (F.softmax, F.log_softmax):
        assert gradcheck(lambda a, fn=fn: fn(a, dim), [x])
        assert gradgradcheck(lambda a, fn=fn: fn(a, dim), [x])


def test_softmax_stable_for_huge_inputs():
    x = gradus.tensor([[1e30, 1.0, -1e30], [710.0, 700.0, 0.0]])
    p = F.softmax(x, 1).numpy()
    assert np.all(np.isfinite(p)) and np.allclose(p.sum(1), 1)
    lp = F.log_softmax(x, 1).numpy()
    assert np.all(np.isfinite(lp)) and lp[0, 0] == 0.0


CE_CASES = [dict(), dict(weight=True), dict(ignore_index=2), dict(label_smoothing=0.2),
            dict(weight=True, ignore_index=1, label_smoothing=0.1)]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", CE_CASES, ids=str)
@pytest.mark.parametrize("shape", [(5, 4), (2, 4, 3)])
def test_cross_entropy_fused_vs_composed(case, reduction, shape):
    C = shape[1]
    x = t64(*shape, scale=2)
    y = SeededInputs(3).labels((shape[0],) + shape[2:], num_classes=C).numpy().copy()
    kw = dict(case, reduction=reduction)
    if case.get("weight"):
        kw["weight"] = gradus.tensor(np.linspace(0.5, 2.0, C))
    if "ignore_index" in case:
        y.reshape(-1)[::2] = case["ignore_index"]
    t = gradus.tensor(y)

    def fused(a):
        return F.cross_entropy(a, t, **kw)

    def composed(a):
        return _cross_entropy_composed(a, t, **kw)

    assert_twins(fused, composed, [x])
    assert gradcheck(fused, [x])
    assert gradgradcheck(fused, [x])  # the fused op is twice differentiable (Tensor-op backward)


def test_cross_entropy_double_backward_matches_composed():
    """A gradient penalty d/dx ||d loss / dx||^2 through the fused loss equals the composed one."""
    y = gradus.tensor([0, 2, 1])
    out = []
    for fn in (F.cross_entropy, _cross_entropy_composed):
        x = t64(3, 4, seed=5)
        (g,) = gradus.autograd.grad(fn(x, y), x, create_graph=True)
        (gg,) = gradus.autograd.grad((g * g).sum(), x)
        out.append(gg.numpy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("kind", ["batch", "layer", "group"])
def test_normalize_fused_vs_composed(kind):
    x = t64(4, 6, 3, scale=2, shift=1)
    w, b = t64(6, seed=1), t64(6, seed=2)
    if kind == "batch":
        def fused(a, w, b):
            return F.batch_norm(a, None, None, w, b, training=True)

        def composed(a, w, b):
            return _normalize_composed(a, (0, 2), 1e-5) * w.reshape(1, 6, 1) + b.reshape(1, 6, 1)
        args = [x, w, b]
    elif kind == "layer":
        w, b = t64(6, 3, seed=1), t64(6, 3, seed=2)

        def fused(a, w, b):
            return F.layer_norm(a, (6, 3), w, b)

        def composed(a, w, b):
            return _normalize_composed(a, (1, 2), 1e-5) * w + b
        args = [x, w, b]
    else:
        def fused(a, w, b):
            return F.group_norm(a, 3, w, b)

        def composed(a, w, b):
            xg = _normalize_composed(a.reshape(4, 3, -1), (2,), 1e-5).reshape(4, 6, 3)
            return xg * w.reshape(1, 6, 1) + b.reshape(1, 6, 1)
        args = [x, w, b]
    assert_twins(fused, composed, args)
    assert gradcheck(fused, args)
    assert gradgradcheck(fused, args)


@pytest.mark.parametrize("name,kw", [("gelu", {}), ("gelu", {"approximate": "tanh"}), ("silu", {}),
                                     ("elu", {"alpha": 0.7}), ("selu", {}), ("softplus", {"beta": 2.0}),
                                     ("logsigmoid", {}), ("leaky_relu", {"negative_slope": 0.1}),
                                     ("hardswish", {}), ("mish", {}), ("erf", {}), ("celu", {"alpha": 1.5})])
def test_activation_grad_and_gradgrad(name, kw):
    x = t64(7, scale=2)
    x.data[np.abs(x.data) < 0.05] += 0.1  # keep away from kinks
    fn = getattr(F, name)
    assert gradcheck(lambda a: fn(a, **kw), [x])
    assert gradgradcheck(lambda a: fn(a, **kw), [x])


def test_erf_accuracy_and_special_values():
    xs = np.concatenate([np.linspace(-8, 8, 4001), np.logspace(-30, 1.5, 200), [0.84375, 1.25, 2.857142857]])
    want = np.array([math.erf(v) for v in xs])
    got = F.erf(gradus.tensor(xs)).numpy()
    np.testing.assert_allclose(got, want, rtol=2e-16 * 4, atol=1e-300)
    special = F.erf(gradus.tensor([0.0, np.inf, -np.inf, np.nan])).numpy()
    assert special[0] == 0 and special[1] == 1 and special[2] == -1 and np.isnan(special[3])
    f32 = F.erf(gradus.tensor([0.5, -2.0])).numpy()
    assert f32.dtype == np.float32 and np.allclose(f32, [math.erf(0.5), math.erf(-2.0)], rtol=1e-7)


def test_gelu_exact_formula():
    x = np.linspace(-6, 6, 101)
    want = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x])
    np.testing.assert_allclose(F.gelu(gradus.tensor(x)).numpy(), want, rtol=1e-14, atol=1e-300)


def test_embedding_padding_gets_no_gradient():
    W = t64(5, 3)
    idx = gradus.tensor([[0, 1, 1], [4, 0, 2]])
    F.embedding(idx, W, padding_idx=0).sum().backward()
    np.testing.assert_array_equal(W.grad.numpy()[:, 0], [0.0, 2.0, 1.0, 0.0, 1.0])
    W2 = t64(5, 3)
    assert gradgradcheck(lambda w: F.embedding(idx, w, padding_idx=1) ** 2, [W2])


def test_bce_and_dropout_differentiable():
    x = SeededInputs(0, np.float64).uniform(3, 2, low=0.1, high=0.9, requires_grad=True)
    t = SeededInputs(1, np.float64).uniform(3, 2, requires_grad=True)
    assert gradcheck(F.binary_cross_entropy, [x, t])
    assert gradgradcheck(lambda a: F.binary_cross_entropy(a, t), [x])
    z = t64(4, 3)
    tz = SeededInputs(2, np.float64).uniform(4, 3)
    pw = gradus.tensor([0.5, 1.0, 3.0])
    assert gradcheck(lambda a: F.binary_cross_entropy_with_logits(a, tz, pos_weight=pw), [z])
    assert gradgradcheck(lambda a: F.binary_cross_entropy_with_logits(a, tz, pos_weight=pw), [z])
    gradus.manual_seed(0)
    y1 = F.dropout(z, 0.5)
    gradus.manual_seed(0)
    y2 = F.dropout(z, 0.5)
    np.testing.assert_array_equal(y1.numpy(), y2.numpy())  # one seed reproduces the masks
