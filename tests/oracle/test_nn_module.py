"""The Module API against PyTorch: registration order, parameter/buffer/state_dict keys, reprs,
loading PyTorch state dicts, train/eval behaviour, gradient clipping, parameter vectors."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import gradus
from gradus import nn

pytestmark = pytest.mark.oracle


def make_net(lib):
    n = lib.nn

    class Block(n.Module):
        def __init__(self):
            super().__init__()
            self.fc = n.Linear(4, 4)
            self.register_buffer("scale", lib.ones(4))
            self.register_buffer("cache", lib.zeros(2), persistent=False)
            self.norm = n.BatchNorm1d(4)
            self.gain = n.Parameter(lib.ones(1))

        def forward(self, x):
            return self.norm(self.fc(x)) * self.scale * self.gain

    class Net(n.Module):
        def __init__(self):
            super().__init__()
            self.emb = n.Embedding(10, 4, padding_idx=0)
            self.blocks = n.ModuleList([Block(), Block()])
            self.heads = n.ModuleDict({"a": n.Linear(4, 2), "b": n.Sequential(n.ReLU(), n.Linear(4, 3))})
            self.extra = n.ParameterList([n.Parameter(lib.zeros(2)), n.Parameter(lib.zeros(3))])
            self.pd = n.ParameterDict({"u": n.Parameter(lib.zeros(1))})
            self.ln = n.LayerNorm(4)
            self.shared = self.heads["a"]  # the same module under two names

        def forward(self, idx):
            h = self.emb(idx).mean(1)
            for b in self.blocks:
                h = b(h)
            return self.heads["a"](self.ln(h)), self.heads["b"](h)

    return Net()


def test_names_and_keys_match_pytorch(torch):
    g, t = make_net(gradus), make_net(torch)
    assert [k for k, _ in g.named_parameters()] == [k for k, _ in t.named_parameters()]
    assert [k for k, _ in g.named_buffers()] == [k for k, _ in t.named_buffers()]
    assert list(g.state_dict()) == list(t.state_dict())
    assert [k for k, _ in g.named_modules()] == [k for k, _ in t.named_modules()]
    assert [k for k, _ in g.named_children()] == [k for k, _ in t.named_children()]
    assert [k for k, _ in g.named_parameters(remove_duplicate=False)] == \
        [k for k, _ in t.named_parameters(remove_duplicate=False)]
    assert [k for k, _ in g.blocks[0].named_parameters(prefix="x", recurse=False)] == \
        [k for k, _ in t.blocks[0].named_parameters(prefix="x", recurse=False)]
    assert len(list(g.parameters())) == len(list(t.parameters()))


def test_repr_matches_pytorch(torch):
    g, t = make_net(gradus), make_net(torch)
    assert repr(g) == repr(t).replace("torch.FloatTensor", "gradus.float32").replace("torch.", "gradus.")
    assert repr(nn.Sequential(nn.Linear(2, 3), nn.ReLU())) == \
        "Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=True)\n  (1): ReLU()\n)"
    od = OrderedDict([("fc", nn.Linear(2, 3, bias=False)), ("act", nn.LeakyReLU(0.2)),
                      ("drop", nn.Dropout(0.1))])
    odt = OrderedDict([("fc", torch.nn.Linear(2, 3, bias=False)), ("act", torch.nn.LeakyReLU(0.2)),
                       ("drop", torch.nn.Dropout(0.1))])
    assert repr(nn.Sequential(od)) == repr(torch.nn.Sequential(odt))


def test_load_pytorch_state_dict_then_same_outputs(torch):
    g, t = make_net(gradus), make_net(torch)
    t.double()
    g.double()
    # make running stats non-trivial
    with torch.no_grad():
        for b in t.blocks:
            b.norm.running_mean.uniform_(-1, 1)
            b.norm.running_var.uniform_(0.5, 2)
    g.load_state_dict(t.state_dict())
    g.eval()
    t.eval()
    idx = np.random.default_rng(0).integers(0, 10, (5, 3))
    ga, gb = g(gradus.tensor(idx))
    ta, tb = t(torch.tensor(idx))
    np.testing.assert_allclose(ga.numpy(), ta.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(gb.numpy(), tb.detach().numpy(), rtol=1e-10)
    # and the other way round: a gradus state_dict loads into PyTorch
    t2 = make_net(torch).double()
    t2.load_state_dict({k: torch.tensor(v.numpy()) for k, v in g.state_dict().items()})
    t2.eval()
    np.testing.assert_allclose(t2(torch.tensor(idx))[0].detach().numpy(), ga.numpy(), rtol=1e-10)


def test_dropout_train_eval_statistics(torch):
    d = nn.Dropout(0.3)
    x = gradus.ones(200_000)
    y = d(x).numpy()
    assert np.allclose(np.unique(y), [0.0, 1 / 0.7])
    assert abs((y == 0).mean() - 0.3) < 0.01          # drop rate p
    assert abs(y.mean() - 1.0) < 0.01                  # inverted: expectation preserved
    d.eval()
    assert np.array_equal(d(x).numpy(), x.numpy())
    c = nn.Dropout(0.3, mode="classic")
    yc = c(x).numpy()
    assert set(np.unique(yc)) <= {0.0, 1.0} and abs(yc.mean() - 0.7) < 0.01
    c.eval()
    np.testing.assert_allclose(c(x).numpy(), 0.7)
    td = torch.nn.Dropout(0.3)
    assert abs((td(torch.ones(200_000)) == 0).float().mean().item() - (y == 0).mean()) < 0.01
    # channel-wise: whole (N, C) maps are zero or scaled together
    m = nn.Dropout2d(0.5)(gradus.ones(8, 16, 3, 3)).numpy()
    per_map = m.reshape(8, 16, 9)
    assert np.all((per_map == 0).all(-1) | (per_map == 2.0).all(-1))


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm(torch, norm_type, max_norm):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(s) for s in [(3, 4), (4,), (2, 2, 2)]]
    gp = [nn.Parameter(gradus.zeros(*a.shape, dtype=gradus.float64)) for a in grads]
    tp = [torch.nn.Parameter(torch.zeros(*a.shape, dtype=torch.float64)) for a in grads]
    for p, q, a in zip(gp, tp, grads):
        p.grad = gradus.tensor(a)
        q.grad = torch.tensor(a)
    n_g = nn.utils.clip_grad_norm_(gp, max_norm, norm_type)
    n_t = torch.nn.utils.clip_grad_norm_(tp, max_norm, norm_type)
    np.testing.assert_allclose(n_g.item(), n_t.item(), rtol=1e-12)
    for p, q in zip(gp, tp):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12)


def test_clip_grad_value_and_vectors(torch):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((5, 3)) * 3
    p, q = nn.Parameter(gradus.tensor(a)), torch.nn.Parameter(torch.tensor(a))
    p.grad, q.grad = gradus.tensor(a), torch.tensor(a)
    nn.utils.clip_grad_value_([p], 1.5)
    torch.nn.utils.clip_grad_value_([q], 1.5)
    np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
    g, t = nn.Linear(3, 2).double(), torch.nn.Linear(3, 2).double()
    g.load_state_dict(t.state_dict())
    vg = nn.utils.parameters_to_vector(g.parameters())
    vt = torch.nn.utils.parameters_to_vector(t.parameters())
    np.testing.assert_array_equal(vg.numpy(), vt.detach().numpy())
    w_before = g.weight
    nn.utils.vector_to_parameters(vg * 2, g.parameters())
    torch.nn.utils.vector_to_parameters(vt * 2, t.parameters())
    assert g.weight is w_before
    np.testing.assert_array_equal(g.weight.numpy(), t.weight.detach().numpy())


def test_zero_grad_and_requires_grad(torch):
    g = nn.Linear(3, 2)
    g(gradus.randn(4, 3)).sum().backward()
    assert g.weight.grad is not None
    g.zero_grad()
    assert g.weight.grad is None
    g(gradus.randn(4, 3)).sum().backward()
    g.zero_grad(set_to_none=False)
    assert g.weight.grad is not None and not np.any(g.weight.grad.numpy())
    g.requires_grad_(False)
    assert not any(p.requires_grad for p in g.parameters())
