"""PyTorch's alternative names (``ops/aliases.py``) against torch: same values, dtypes and gradients."""
from __future__ import annotations

import numpy as np
import pytest

import gradus

pytestmark = pytest.mark.oracle

A = np.array([[-1.5, 0.0, 2.0], [3.0, -0.25, 1.0], [0.5, 4.0, -2.0]])
B = np.array([[1.0, 0.0, -2.0], [3.0, 1.0, 1.0], [-0.5, 2.0, 2.0]])

CASES = [
    ("compare", lambda L, a, b: [L.greater(a, b), a.greater_equal(b), L.less(a, b), a.less_equal(b),
                                 L.not_equal(a, b)]),
    ("absolute", lambda L, a, b: [L.absolute(a + 0.1), a.absolute()]),
    ("positive", lambda L, a, b: [L.positive(a) * 2, a.positive()]),
    ("fix", lambda L, a, b: [L.fix(a * 1.7), a.fix()]),
    ("clamp_min_max", lambda L, a, b: [L.clamp_min(a, 0.1), a.clamp_max(0.7), a.clamp_min(b)]),
    ("swapdims", lambda L, a, b: [L.swapdims(a.reshape(1, 3, 3), 0, 2), a.swapdims(0, 1)]),
    ("ravel", lambda L, a, b: [L.ravel(a), a.ravel()]),
    ("trace", lambda L, a, b: [L.trace(a), a.trace()]),
    ("rad2deg", lambda L, a, b: [L.rad2deg(a), a.deg2rad(), L.deg2rad(b)]),
    ("rsub", lambda L, a, b: [L.rsub(a, b), L.rsub(a, b, alpha=2), L.rsub(a, 3.0)]),
    ("signbit", lambda L, a, b: [L.signbit(a), a.signbit(), L.signbit(a * 0 - 0.0)]),
    ("reshape_as", lambda L, a, b: [a.reshape_as(b.reshape(9)), a.reshape_as(b)]),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_alias_matches_torch(torch, case, dtype):
    _, fn = case
    a, at = (lib.tensor(A.astype(dtype), requires_grad=True) for lib in (gradus, torch))
    b, bt = (lib.tensor(B.astype(dtype), requires_grad=True) for lib in (gradus, torch))
    ys, yts = fn(gradus, a, b), fn(torch, at, bt)
    loss, loss_t = 0, 0
    for k, (y, yt) in enumerate(zip(ys, yts)):
        assert y.shape == tuple(yt.shape) and y.dtype == yt.detach().numpy().dtype, (k, y.dtype, yt.dtype)
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-6, err_msg=f"output {k}")
        if y.requires_grad:
            w = np.cos(np.arange(y.numel())).reshape(y.shape).astype(dtype)
            loss, loss_t = loss + (y * gradus.tensor(w)).sum(), loss_t + (yt * torch.tensor(w)).sum()
    if not isinstance(loss, int):
        loss.backward()
        loss_t.backward()
        for g, t in ((a, at), (b, bt)):
            if t.grad is not None:
                np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_tensor_conveniences_match_torch(torch):
    x, xt = gradus.tensor(A.astype(np.float32)), torch.tensor(A.astype(np.float32))
    for name, args in (("new_zeros", (2, 3)), ("new_ones", ((4,),)), ("new_full", ((2,), 7.0))):
        g, t = getattr(x, name)(*args), getattr(xt, name)(*args)
        assert g.dtype == t.numpy().dtype and g.shape == tuple(t.shape)
        np.testing.assert_array_equal(g.numpy(), t.numpy())
    assert x.new_empty(3, 2).shape == (3, 2) and x.new_empty(3, 2).dtype == gradus.float32
    np.testing.assert_array_equal(x.new_tensor([1, 2]).numpy(), xt.new_tensor([1, 2]).numpy())
    assert x.new_tensor([1, 2]).dtype == xt.new_tensor([1, 2]).numpy().dtype
    assert x.nelement() == xt.nelement() and x.ndimension() == xt.ndimension()
    assert x.type_as(gradus.tensor([1])).dtype == xt.type_as(torch.tensor([1])).numpy().dtype
    assert x.is_same_size(x) and not x.is_same_size(gradus.zeros(2))
    assert x.is_signed() == xt.is_signed() and gradus.tensor([1], dtype=gradus.uint8).is_signed() is False
    with pytest.raises(ValueError, match="trace"):
        gradus.zeros(2, 2, 2).trace()
