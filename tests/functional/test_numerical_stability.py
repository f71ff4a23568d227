"""Numerical safety: the saturating ops stay finite and exact for |x| up to 1e4.

A naive ``exp(x) / sum(exp(x))`` overflows at x ~ 89 in float32 (710 in float64) and
``log(sigmoid(x))`` underflows to ``log(0) = -inf`` at x ~ -104.  Every op below is checked at
extreme inputs, forward and backward, in float32 and float64, against PyTorch 2.13 (whose
implementations are the stable ones) in the same dtype, so a regression to a naive formula fails here.
(Same dtype: at x ~ 1e4 a float32 result has an ulp of 1e-3, so e.g. logsumexp's gradient
exp(x - y) is only good to ~1e-4 in float32 -- in PyTorch as here.)
"""

from __future__ import annotations

import numpy as np
import pytest

import gradus as g
import gradus.functional as F

torch = pytest.importorskip("torch")  # tests/conftest.py turns this skip into a failure in CI

EXTREMES = np.array([-1e4, -1e3, -200.0, -90.0, -30.0, -1.0, 0.0, 1.0, 30.0, 90.0, 200.0, 1e3, 1e4])
ROWS = np.array(
    [
        [1e4, 0.0, -1e4, 5.0],
        [-1e4, -1e4 + 1.0, -1e4 + 2.0, -1e4],  # all very negative: naive softmax is 0/0
        [1e4, 1e4, 1e4 - 3.0, -50.0],  # all very positive: naive softmax is inf/inf
        [-3.0, 2.0, 0.5, 1e3],
    ]
)
DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=2e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-14)}


def _pair(x: np.ndarray, dtype):
    a = g.tensor(x.astype(dtype), requires_grad=True)
    t = torch.tensor(x.astype(dtype), requires_grad=True)
    return a, t


def _check(out, ref, a, t, dtype, weight=None):
    """Forward finite and equal to torch's; backward of sum(w * out) finite and equal too."""
    y = out.detach().numpy()
    assert np.all(np.isfinite(y)), f"non-finite forward: {y}"
    np.testing.assert_allclose(y, ref.detach().numpy(), **TOL[dtype])
    w = np.linspace(0.5, 1.5, max(y.size, 1)).reshape(y.shape) if weight is None else weight
    (out * g.tensor(w.astype(dtype))).sum().backward()
    (ref * torch.tensor(w.astype(dtype))).sum().backward()
    ga = a.grad.numpy()
    assert np.all(np.isfinite(ga)), f"non-finite gradient: {ga}"
    np.testing.assert_allclose(ga, t.grad.numpy(), **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_and_log_softmax(dtype, dim):
    a, t = _pair(ROWS, dtype)
    _check(F.softmax(a, dim=dim), torch.softmax(t, dim=dim), a, t, dtype)
    a, t = _pair(ROWS, dtype)
    _check(F.log_softmax(a, dim=dim), torch.log_softmax(t, dim=dim), a, t, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_logsumexp(dtype, dim, keepdim):
    a, t = _pair(ROWS, dtype)
    out, ref = g.logsumexp(a, dim=dim, keepdim=keepdim), torch.logsumexp(t, dim=dim, keepdim=keepdim)
    _check(out, ref, a, t, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_logsumexp_of_all_minus_inf_is_minus_inf_with_zero_gradient_like_torch(dtype):
    x = np.array([[-np.inf, -np.inf], [0.0, -np.inf]])
    a, t = _pair(x, dtype)
    out, ref = g.logsumexp(a, dim=1), torch.logsumexp(t, dim=1)
    np.testing.assert_array_equal(out.detach().numpy(), ref.detach().numpy())
    out[1].backward()
    ref[1].backward()
    np.testing.assert_array_equal(a.grad.numpy(), t.grad.numpy())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "name, ours, theirs",
    [
        ("sigmoid", F.sigmoid, torch.sigmoid),
        ("logsigmoid", F.logsigmoid, torch.nn.functional.logsigmoid),
        ("softplus", F.softplus, torch.nn.functional.softplus),
        ("tanh", F.tanh, torch.tanh),
        ("silu", F.silu, torch.nn.functional.silu),
        ("gelu", F.gelu, torch.nn.functional.gelu),
        ("elu", F.elu, torch.nn.functional.elu),
    ],
)
def test_elementwise_saturating(dtype, name, ours, theirs):
    a, t = _pair(EXTREMES, dtype)
    _check(ours(a), theirs(t), a, t, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_binary_cross_entropy_with_logits(dtype, reduction):
    target = (np.arange(EXTREMES.size) % 2).astype(np.float64)  # half the logits confidently wrong
    a, t = _pair(EXTREMES, dtype)
    out = F.binary_cross_entropy_with_logits(a, g.tensor(target.astype(dtype)), reduction=reduction)
    ref = torch.nn.functional.binary_cross_entropy_with_logits(
        t, torch.tensor(target.astype(dtype)), reduction=reduction)
    _check(out, ref, a, t, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_cross_entropy_with_logits_pos_weight(dtype):
    target = np.array([1.0, 0.0, 1.0, 0.0, 1.0] * 2 + [1.0, 0.0, 1.0])
    pw = np.full(EXTREMES.size, 3.0)
    a, t = _pair(EXTREMES, dtype)
    out = F.binary_cross_entropy_with_logits(
        a, g.tensor(target.astype(dtype)), pos_weight=g.tensor(pw.astype(dtype)), reduction="none"
    )
    ref = torch.nn.functional.binary_cross_entropy_with_logits(
        t, torch.tensor(target.astype(dtype)), pos_weight=torch.tensor(pw.astype(dtype)), reduction="none"
    )
    _check(out, ref, a, t, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_cross_entropy(dtype, reduction, label_smoothing):
    target = np.array([2, 0, 3, 1])  # row 0 and 3: the target is the least likely class by 1e4
    a, t = _pair(ROWS, dtype)
    out = F.cross_entropy(a, g.tensor(target), reduction=reduction, label_smoothing=label_smoothing)
    ref = torch.nn.functional.cross_entropy(
        t, torch.tensor(target), reduction=reduction, label_smoothing=label_smoothing
    )
    _check(out, ref, a, t, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_loss_value_is_the_margin_not_inf(dtype):
    # log-softmax done right: -log p = 2e4 exactly, where exp() of the logits overflows.
    x = np.array([[1e4, -1e4]])
    out = F.cross_entropy(g.tensor(x.astype(dtype)), g.tensor(np.array([1])))
    assert float(out.item()) == pytest.approx(2e4, rel=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_rows_sum_to_one_at_extremes(dtype):
    p = F.softmax(g.tensor(ROWS.astype(dtype)), dim=1).numpy()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6 if dtype == np.float32 else 1e-14)
