"""RNN / LSTM / GRU and their cells against torch.nn with the same weights (float64): outputs, final
states and the gradients of the input, the initial states and every parameter — multi-layer,
bidirectional, batch_first, with and without initial states, unbatched, packed (sorted and unsorted
lengths)."""
from __future__ import annotations

import numpy as np
import pytest

import gradus
from gradus import nn
from gradus.nn.utils import rnn as grnn

pytestmark = pytest.mark.oracle

T, B, I, H = 5, 3, 4, 6


def _pair(torch, kind, **kw):
    """(gradus module, torch module) with the torch weights loaded into gradus, both float64."""
    torch.manual_seed(0)
    tm = getattr(torch.nn, kind)(I, H, **kw).double()
    gm = getattr(nn, kind)(I, H, **kw).double()
    gm.load_state_dict({k: gradus.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    assert list(gm.state_dict()) == list(tm.state_dict())
    return gm, tm


def _compare_grads(gm, tm, pairs, rtol=1e-9, atol=1e-11):
    for (g, t, what) in pairs:
        assert (g.grad is None) == (t.grad is None), what
        if g.grad is not None:
            np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=atol, err_msg=what)
    for (name, p), (tname, tp) in zip(gm.named_parameters(), tm.named_parameters()):
        assert name == tname
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=rtol, atol=atol, err_msg=name)


def _flat(out):
    if isinstance(out, tuple):
        res = []
        for o in out:
            res += _flat(o)
        return res
    return [out]


CONFIGS = [
    dict(num_layers=1),
    dict(num_layers=2),
    dict(num_layers=2, bidirectional=True),
    dict(batch_first=True),
    dict(num_layers=2, bias=False),
    dict(num_layers=3, bidirectional=True, batch_first=True),
]
KINDS = ["RNN", "LSTM", "GRU"]


def _run(torch, kind, kw, with_hx, unbatched=False, extra=None):
    extra = extra or {}
    gm, tm = _pair(torch, kind, **kw, **extra)
    rng = np.random.default_rng(1)
    shape = (T, I) if unbatched else ((B, T, I) if kw.get("batch_first") else (T, B, I))
    xn = rng.standard_normal(shape)
    x, xt = gradus.tensor(xn, requires_grad=True), torch.tensor(xn, requires_grad=True)
    D = 2 if kw.get("bidirectional") else 1
    L = kw.get("num_layers", 1)
    hshape = (L * D, H) if unbatched else (L * D, B, H)
    ins = [(x, xt, "input")]
    args_g, args_t = [x], [xt]
    if with_hx:
        hn = rng.standard_normal(hshape)
        h, ht = gradus.tensor(hn, requires_grad=True), torch.tensor(hn, requires_grad=True)
        ins.append((h, ht, "h0"))
        if kind == "LSTM":
            cn = rng.standard_normal(hshape)
            c, ct = gradus.tensor(cn, requires_grad=True), torch.tensor(cn, requires_grad=True)
            ins.append((c, ct, "c0"))
            args_g.append((h, c))
            args_t.append((ht, ct))
        else:
            args_g.append(h)
            args_t.append(ht)
    outs_g, outs_t = _flat(gm(*args_g)), _flat(tm(*args_t))
    assert len(outs_g) == len(outs_t)
    loss_g, loss_t = 0, 0
    for k, (og, ot) in enumerate(zip(outs_g, outs_t)):
        assert og.shape == tuple(ot.shape), (k, og.shape, ot.shape)
        np.testing.assert_allclose(og.numpy(), ot.detach().numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=f"out {k}")
        w = rng.standard_normal(og.shape)
        loss_g = loss_g + (og * gradus.tensor(w)).sum()
        loss_t = loss_t + (ot * torch.tensor(w)).sum()
    loss_g.backward()
    loss_t.backward()
    _compare_grads(gm, tm, ins)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("cfg", range(len(CONFIGS)))
@pytest.mark.parametrize("with_hx", [False, True], ids=["no_hx", "hx"])
def test_layer_matches_torch(torch, kind, cfg, with_hx):
    _run(torch, kind, CONFIGS[cfg], with_hx)


@pytest.mark.parametrize("kind", KINDS)
def test_unbatched_matches_torch(torch, kind):
    _run(torch, kind, dict(num_layers=2, bidirectional=True), True, unbatched=True)


def test_relu_rnn_and_dropout_in_eval_match_torch(torch):
    _run(torch, "RNN", dict(num_layers=2), True, extra=dict(nonlinearity="relu"))
    gm, tm = _pair(torch, "LSTM", num_layers=2, dropout=0.5)
    gm.eval(), tm.eval()
    x = np.random.default_rng(0).standard_normal((T, B, I))
    np.testing.assert_allclose(gm(gradus.tensor(x))[0].numpy(), tm(torch.tensor(x))[0].detach().numpy(),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("enforce_sorted", [True, False], ids=["sorted", "unsorted"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
def test_packed_sequences_match_torch(torch, kind, enforce_sorted, bidirectional):
    lengths = [5, 3, 3, 1] if enforce_sorted else [3, 5, 1, 3]
    gm, tm = _pair(torch, kind, num_layers=2, bidirectional=bidirectional)
    rng = np.random.default_rng(2)
    xn = rng.standard_normal((5, 4, I))
    x, xt = gradus.tensor(xn, requires_grad=True), torch.tensor(xn, requires_grad=True)
    D = 2 if bidirectional else 1
    hn = rng.standard_normal((2 * D, 4, H))
    h, ht = gradus.tensor(hn, requires_grad=True), torch.tensor(hn, requires_grad=True)
    hx_g = (h, h * 0.5) if kind == "LSTM" else h
    hx_t = (ht, ht * 0.5) if kind == "LSTM" else ht
    pg = grnn.pack_padded_sequence(x, lengths, enforce_sorted=enforce_sorted)
    pt = torch.nn.utils.rnn.pack_padded_sequence(xt, torch.tensor(lengths), enforce_sorted=enforce_sorted)
    np.testing.assert_array_equal(pg.batch_sizes.numpy(), pt.batch_sizes.numpy())
    np.testing.assert_allclose(pg.data.numpy(), pt.data.detach().numpy())
    og, sg = gm(pg, hx_g)
    ot, st = tm(pt, hx_t)
    np.testing.assert_allclose(og.data.numpy(), ot.data.detach().numpy(), rtol=1e-10, atol=1e-12)
    padded_g, len_g = grnn.pad_packed_sequence(og, batch_first=True, padding_value=-1.0)
    padded_t, len_t = torch.nn.utils.rnn.pad_packed_sequence(ot, batch_first=True, padding_value=-1.0)
    np.testing.assert_allclose(padded_g.numpy(), padded_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(len_g.numpy(), len_t.numpy())
    states_g, states_t = _flat(sg), _flat(st)
    for a, b in zip(states_g, states_t):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)
    w = rng.standard_normal(padded_g.shape)
    loss_g = (padded_g * gradus.tensor(w)).sum() + sum((s * 1.5).sum() for s in states_g)
    loss_t = (padded_t * torch.tensor(w)).sum() + sum((s * 1.5).sum() for s in states_t)
    loss_g.backward()
    loss_t.backward()
    _compare_grads(gm, tm, [(x, xt, "input"), (h, ht, "h0")])


def test_pad_sequence_and_pack_sequence_match_torch(torch):
    rng = np.random.default_rng(3)
    seqs = [rng.standard_normal((n, 2)) for n in (2, 4, 1)]
    for bf in (False, True):
        for side in ("right", "left"):
            g = grnn.pad_sequence([gradus.tensor(s) for s in seqs], batch_first=bf, padding_value=0.5,
                                  padding_side=side)
            t = torch.nn.utils.rnn.pad_sequence([torch.tensor(s) for s in seqs], batch_first=bf,
                                                padding_value=0.5, padding_side=side)
            np.testing.assert_allclose(g.numpy(), t.numpy())
    pg = grnn.pack_sequence([gradus.tensor(s) for s in seqs], enforce_sorted=False)
    pt = torch.nn.utils.rnn.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    np.testing.assert_allclose(pg.data.numpy(), pt.data.numpy())
    np.testing.assert_array_equal(pg.sorted_indices.numpy(), pt.sorted_indices.numpy())
    np.testing.assert_array_equal(pg.unsorted_indices.numpy(), pt.unsorted_indices.numpy())
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        grnn.pack_padded_sequence(gradus.zeros(4, 3, 2), [1, 3, 2])


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("batched", [True, False])
def test_cells_match_torch(torch, kind, batched):
    torch.manual_seed(0)
    tm = getattr(torch.nn, kind)(I, H).double()
    gm = getattr(nn, kind)(I, H).double()
    gm.load_state_dict({k: gradus.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    rng = np.random.default_rng(4)
    lead = (B,) if batched else ()
    xn, hn, cn = (rng.standard_normal(lead + (n,)) for n in (I, H, H))
    x, xt = gradus.tensor(xn, requires_grad=True), torch.tensor(xn, requires_grad=True)
    h, ht = gradus.tensor(hn, requires_grad=True), torch.tensor(hn, requires_grad=True)
    c, ct = gradus.tensor(cn, requires_grad=True), torch.tensor(cn, requires_grad=True)
    if kind == "LSTMCell":
        og, ot = _flat(gm(x, (h, c))), _flat(tm(xt, (ht, ct)))
        ins = [(x, xt, "x"), (h, ht, "h"), (c, ct, "c")]
    else:
        og, ot = [gm(x, h)], [tm(xt, ht)]
        ins = [(x, xt, "x"), (h, ht, "h")]
    loss_g, loss_t = 0, 0
    for a, b in zip(og, ot):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)
        w = rng.standard_normal(a.shape)
        loss_g, loss_t = loss_g + (a * gradus.tensor(w)).sum(), loss_t + (b * torch.tensor(w)).sum()
    loss_g.backward()
    loss_t.backward()
    _compare_grads(gm, tm, ins)
    # no hx: zeros, as torch
    np.testing.assert_allclose(_flat(gm(x))[0].numpy(), _flat(tm(xt))[0].detach().numpy(), rtol=1e-10)


def test_errors_name_the_layer(torch):
    lstm = nn.LSTM(I, H)
    with pytest.raises(ValueError, match="input_size"):
        lstm(gradus.zeros(T, B, I + 1))
    with pytest.raises(ValueError, match="h_0"):
        lstm(gradus.zeros(T, B, I), (gradus.zeros(2, B, H), gradus.zeros(1, B, H)))
    with pytest.raises(TypeError, match="tuple"):
        lstm(gradus.zeros(T, B, I), gradus.zeros(1, B, H))
    with pytest.raises(TypeError, match="dtype"):
        lstm(gradus.zeros(T, B, I, dtype=gradus.float64))
    with pytest.raises(ValueError, match="hidden_size"):
        nn.GRU(I, 0)
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(I, H, nonlinearity="sigmoid")
