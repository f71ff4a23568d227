"""The fused recurrent cell steps against their composed twins: float64 gradcheck of the raw
backward, gradgradcheck (the composed backward), and the same values as a step written with
primitive ops. Plus the recurrent layers learn (overfit one batch) and free their graphs."""
from __future__ import annotations

import numpy as np
import pytest

import gradus
import gradus.functional as F
from gradus import nn
from gradus.autograd import gradcheck, gradgradcheck
from gradus.ops import elementwise as ew
from tests.helpers import SeededInputs, overfit_one_batch

H = 3


def _lstm_composed(gi, gh, c):
    pre = gi + gh
    i, f = ew.sigmoid(pre[:, :H]), ew.sigmoid(pre[:, H:2 * H])
    g, o = ew.tanh(pre[:, 2 * H:3 * H]), ew.sigmoid(pre[:, 3 * H:])
    c2 = f * c + i * g
    return o * ew.tanh(c2), c2


def _gru_composed(gi, gh, h):
    r = ew.sigmoid(gi[:, :H] + gh[:, :H])
    z = ew.sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
    n = ew.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
    return (1 - z) * n + z * h


def _inputs(gates, seed=0):
    s = SeededInputs(seed, np.float64)
    return [s.tensor(2, gates * H, requires_grad=True), s.tensor(2, gates * H, requires_grad=True),
            s.tensor(2, H, requires_grad=True)]


@pytest.mark.parametrize("fused,composed,gates", [(F.lstm_cell, _lstm_composed, 4),
                                                  (F.gru_cell, _gru_composed, 3)], ids=["lstm", "gru"])
def test_cell_step_matches_composed_twin(fused, composed, gates):
    xs = _inputs(gates)
    yf, yc = fused(*xs), composed(*xs)
    yf, yc = (yf if isinstance(yf, tuple) else (yf,)), (yc if isinstance(yc, tuple) else (yc,))
    for a, b in zip(yf, yc):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-14)
    w = [SeededInputs(9, np.float64).tensor(*a.shape) for a in yf]
    gf = gradus.autograd.grad(sum((a * v).sum() for a, v in zip(yf, w)), xs)
    gc = gradus.autograd.grad(sum((a * v).sum() for a, v in zip(yc, w)), xs)
    for a, b in zip(gf, gc):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-11, atol=1e-13)
    assert gradcheck(fused, _inputs(gates, 1), eps=1e-6, atol=1e-6, rtol=1e-4)
    assert gradgradcheck(fused, _inputs(gates, 2), eps=1e-6, atol=1e-6, rtol=1e-4)


def test_float32_step_keeps_dtype_and_shapes():
    s = SeededInputs(3)
    gi, gh, c = s.tensor(4, 4 * H, requires_grad=True), s.tensor(4, 4 * H, requires_grad=True), \
        s.tensor(4, H, requires_grad=True)
    h2, c2 = F.lstm_cell(gi, gh, c)
    (h2.sum() + c2.sum()).backward()
    assert h2.dtype == gradus.float32 and gi.grad.dtype == gradus.float32 and c.grad.shape == (4, H)


def test_cell_shape_errors_name_the_op():
    with pytest.raises(ValueError, match="lstm_cell"):
        F.lstm_cell(gradus.zeros(2, 8), gradus.zeros(2, 8), gradus.zeros(2, 3))


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_recurrent_classifier_overfits_one_batch(kind):
    """Many-to-one: the last hidden state of a 2-layer bidirectional layer classifies 8 sequences."""

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = getattr(nn, kind)(5, 16, num_layers=2, batch_first=True, bidirectional=True)
            self.head = nn.Linear(32, 4)

        def forward(self, x):
            out, _ = self.rnn(x)
            return self.head(out[:, -1])

    gradus.manual_seed(0)
    s = SeededInputs(0)
    X, y = s.tensor(8, 7, 5), gradus.tensor(np.arange(8) % 4)
    r = overfit_one_batch(Net(), X, y, steps=80, lr=1e-2)
    assert r.eval_accuracy == 1.0 and r.last_loss < 0.1 * r.first_loss, r


def _layer_inputs(seed, bias=True):
    s = SeededInputs(seed, np.float64)
    xs = [s.tensor(3, 2, 4 * H, requires_grad=True), s.tensor(2, H, requires_grad=True),
          s.tensor(2, H, requires_grad=True), s.tensor(4 * H, H, scale=0.5, requires_grad=True)]
    return xs + ([s.tensor(4 * H, requires_grad=True)] if bias else [])


def _layer_by_steps(gi, h, c, w, b=None, reverse=False):
    """The twin of F.lstm_layer: one lstm_cell per step."""
    outs = [None] * gi.shape[0]
    for t in (range(gi.shape[0] - 1, -1, -1) if reverse else range(gi.shape[0])):
        h, c = F.lstm_cell(gi[t], F.linear(h, w, b), c)
        outs[t] = h
    return gradus.stack(outs, 0), h, c


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
def test_lstm_layer_matches_the_step_by_step_twin(reverse, bias):
    xs = _layer_inputs(0, bias)
    fused = F.lstm_layer(*xs, reverse=reverse) if bias else F.lstm_layer(*xs, None, reverse=reverse)
    steps = _layer_by_steps(*xs, reverse=reverse) if bias else _layer_by_steps(*xs, None, reverse=reverse)
    for a, b in zip(fused, steps):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-14)
    w = [SeededInputs(5, np.float64).tensor(*a.shape) for a in fused]
    ga = gradus.autograd.grad(sum((a * v).sum() for a, v in zip(fused, w)), xs)
    gb = gradus.autograd.grad(sum((a * v).sum() for a, v in zip(steps, w)), xs)
    for a, b in zip(ga, gb):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-11, atol=1e-13)

    def fn(*args):
        return F.lstm_layer(*args, reverse=reverse) if bias else F.lstm_layer(*args, None, reverse=reverse)

    assert gradcheck(fn, _layer_inputs(1, bias), eps=1e-6, atol=1e-6, rtol=1e-4)
    assert gradgradcheck(fn, _layer_inputs(2, bias), eps=1e-6, atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_residual_stacking_adds_each_layers_input(kind):
    """residual=True (a gradus extension): layer k >= 1 outputs layer_k(y) + y. Checked against the same
    weights run as separate one-layer modules with the skip added by hand."""
    gradus.manual_seed(0)
    deep = getattr(nn, kind)(4, 6, num_layers=3, residual=True).double()
    assert "residual=True" in repr(deep)
    layers = [getattr(nn, kind)(4 if k == 0 else 6, 6).double() for k in range(3)]
    for k, layer in enumerate(layers):
        layer.load_state_dict({n: getattr(deep, n.replace("_l0", f"_l{k}")) for n in layer.state_dict()})
    x = SeededInputs(1, np.float64).tensor(5, 2, 4)
    y = layers[0](x)[0]
    for layer in layers[1:]:
        y = layer(y)[0] + y
    np.testing.assert_allclose(deep(x)[0].numpy(), y.numpy(), rtol=1e-12, atol=1e-14)
