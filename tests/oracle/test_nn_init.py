"""Initialisation against PyTorch: gains and fans equal, and large draws of every initialiser have
the same distribution (bounds, mean, std) as PyTorch's."""
from __future__ import annotations

import math

import numpy as np
import pytest

import gradus
from gradus import nn

pytestmark = pytest.mark.oracle


@pytest.mark.parametrize("nl,param", [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                                      ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
                                      ("leaky_relu", math.sqrt(5)), ("selu", None)])
def test_calculate_gain(torch, nl, param):
    want = torch.nn.init.calculate_gain(nl, param)
    assert nn.init.calculate_gain(nl, param) == pytest.approx(want, rel=1e-15)


@pytest.mark.parametrize("shape", [(3, 4), (8, 3, 5, 5), (6, 2, 7)])
def test_fans(torch, shape):
    g = nn.init._calculate_fan_in_and_fan_out(gradus.empty(*shape))
    t = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))
    assert g == t


def both(torch, name, shape, *args, **kw):
    g = gradus.empty(*shape, dtype=gradus.float64)
    t = torch.empty(*shape, dtype=torch.float64)
    getattr(nn.init, name)(g, *args, **kw)
    getattr(torch.nn.init, name)(t, *args, **kw)
    return g.numpy(), t.numpy()


SHAPE = (400, 250, 3)  # 300k draws: mean/std agree to well under 1 %


@pytest.mark.parametrize("name,args,kw", [
    ("uniform_", (-2.0, 3.0), {}), ("normal_", (1.5, 0.5), {}), ("xavier_uniform_", (), {"gain": 2.0}),
    ("xavier_normal_", (), {}), ("kaiming_uniform_", (), {}), ("kaiming_uniform_", (), {"a": math.sqrt(5)}),
    ("kaiming_uniform_", (), {"mode": "fan_out", "nonlinearity": "relu"}),
    ("kaiming_normal_", (), {"nonlinearity": "relu"}), ("kaiming_normal_", (), {"a": 0.1, "mode": "fan_out"}),
    ("trunc_normal_", (), {"mean": 0.5, "std": 1.0, "a": -1.0, "b": 1.5}),
])
def test_distributions(torch, name, args, kw):
    g, t = both(torch, name, SHAPE, *args, **kw)
    scale = t.std()
    assert abs(g.mean() - t.mean()) < 0.01 * scale + 1e-3
    assert g.std() == pytest.approx(t.std(), rel=0.01)
    if "uniform" in name or name == "trunc_normal_":  # same support
        assert g.min() >= t.min() - 0.01 * scale and g.max() <= t.max() + 0.01 * scale
        assert g.min() == pytest.approx(t.min(), abs=0.01 * scale)
        assert g.max() == pytest.approx(t.max(), abs=0.01 * scale)


def test_kaiming_std_formula():
    w = nn.init.kaiming_normal_(gradus.empty(512, 300, dtype=gradus.float64), nonlinearity="relu")
    assert w.numpy().std() == pytest.approx(math.sqrt(2 / 300), rel=0.01)
    w = nn.init.xavier_uniform_(gradus.empty(300, 500, dtype=gradus.float64))
    bound = math.sqrt(6 / 800)
    assert np.abs(w.numpy()).max() <= bound and np.abs(w.numpy()).max() > 0.99 * bound


def test_orthogonal_and_deterministic(torch):
    for shape in [(6, 4), (4, 6), (3, 2, 2)]:
        w = nn.init.orthogonal_(gradus.empty(*shape, dtype=gradus.float64), gain=2.0).numpy()
        m = w.reshape(shape[0], -1)
        gram = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
        np.testing.assert_allclose(gram, 4.0 * np.eye(gram.shape[0]), atol=1e-12)
    g, t = both(torch, "eye_", (3, 5))
    np.testing.assert_array_equal(g, t)
    g, t = both(torch, "dirac_", (4, 2, 3, 3))
    np.testing.assert_array_equal(g, t)
    g, t = both(torch, "constant_", (2, 3), 0.7)
    np.testing.assert_array_equal(g, t)


def test_linear_default_init_matches_pytorch_law(torch):
    """PyTorch's Linear: W, b ~ U(-1/sqrt(in), 1/sqrt(in)) (kaiming_uniform a=sqrt(5))."""
    g = nn.Linear(500, 600)
    t = torch.nn.Linear(500, 600)
    bound = 1 / math.sqrt(500)
    pairs = [(g.weight.numpy(), t.weight.detach().numpy(), 0.01),
             (g.bias.numpy(), t.bias.detach().numpy(), 0.12)]
    for a, b, rel in pairs:  # (rel: 300k weights vs 600 biases)
        assert np.abs(a).max() <= bound and np.abs(b).max() <= bound
        assert a.std() == pytest.approx(bound / math.sqrt(3), rel=rel)
        assert b.std() == pytest.approx(bound / math.sqrt(3), rel=rel)


def test_init_is_seeded_and_in_place():
    w = nn.Parameter(gradus.empty(5, 5))
    arr = w.data
    gradus.manual_seed(3)
    nn.init.normal_(w)
    first = w.numpy().copy()
    gradus.manual_seed(3)
    nn.init.normal_(w)
    assert w.data is arr and np.array_equal(first, w.numpy())
    assert w.requires_grad and w.grad_fn is None
