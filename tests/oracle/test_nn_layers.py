"""Every layer against PyTorch: the torch module's state_dict is loaded into the gradus module (same
keys), then outputs, input gradients and parameter gradients are compared in float64 (1e-6 relative;
in practice ~1e-13) and a few in float32 (1e-5)."""
from __future__ import annotations

import numpy as np
import pytest

import gradus
from gradus import nn

pytestmark = pytest.mark.oracle


def run_pair(torch, g_mod, t_mod, inputs, dtype="float64", rtol=1e-6, atol=1e-8, upstream_seed=1,
             int_inputs=False):
    """Load torch's weights into gradus, run both on ``inputs`` (NumPy arrays), backprop the same random
    upstream gradient, compare output, input grads and parameter grads."""
    if dtype == "float64":
        t_mod.double()
        g_mod.double()
    t_state = t_mod.state_dict()
    assert list(g_mod.state_dict().keys()) == list(t_state.keys())
    g_mod.load_state_dict(t_state)  # torch tensors load directly

    t_in = [torch.tensor(a, requires_grad=not int_inputs) for a in inputs]
    g_in = [gradus.tensor(a, requires_grad=not int_inputs) for a in inputs]
    yt = t_mod(*t_in)
    yg = g_mod(*g_in)
    assert tuple(yg.shape) == tuple(yt.shape)
    np.testing.assert_allclose(yg.numpy(), yt.detach().numpy(), rtol=rtol, atol=atol)

    G = np.random.default_rng(upstream_seed).standard_normal(tuple(yt.shape))
    G = G.astype(yt.detach().numpy().dtype)
    yt.backward(torch.tensor(G))
    yg.backward(gradus.tensor(G))
    if not int_inputs:
        for a, b in zip(g_in, t_in):
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=rtol, atol=atol)
    t_params = dict(t_mod.named_parameters())
    g_params = dict(g_mod.named_parameters())
    assert list(g_params) == list(t_params)
    for name, tp in t_params.items():
        gp = g_params[name]
        if tp.grad is None:
            assert gp.grad is None or not np.any(gp.grad.numpy()), name
        else:
            np.testing.assert_allclose(gp.grad.numpy(), tp.grad.numpy(), rtol=rtol, atol=atol, err_msg=name)
    return yg, yt


def rnd(*shape, seed=0, scale=1.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale


# -- linear family ----------------------------------------------------------------------------------
@pytest.mark.parametrize("shape,bias", [((5, 7), True), ((5, 7), False), ((2, 3, 7), True), ((7,), True)])
def test_linear(torch, shape, bias):
    run_pair(torch, nn.Linear(7, 4, bias=bias), torch.nn.Linear(7, 4, bias=bias), [rnd(*shape)])


def test_linear_float32(torch):
    x = rnd(16, 32).astype(np.float32)
    run_pair(torch, nn.Linear(32, 8), torch.nn.Linear(32, 8), [x], dtype="float32", rtol=1e-5, atol=1e-6)


def test_bilinear(torch):
    run_pair(torch, nn.Bilinear(3, 4, 5), torch.nn.Bilinear(3, 4, 5), [rnd(6, 3), rnd(6, 4, seed=1)])


def test_flatten_unflatten_identity(torch):
    x = rnd(2, 3, 4, 5)
    run_pair(torch, nn.Flatten(), torch.nn.Flatten(), [x])
    run_pair(torch, nn.Flatten(0, 2), torch.nn.Flatten(0, 2), [x])
    run_pair(torch, nn.Unflatten(1, (3, 1)), torch.nn.Unflatten(1, (3, 1)), [x])
    run_pair(torch, nn.Identity(), torch.nn.Identity(), [x])


# -- activations ------------------------------------------------------------------------------------
ACTIVATIONS = [
    ("ReLU", ()), ("ReLU6", ()), ("LeakyReLU", ()), ("LeakyReLU", (0.2,)), ("ELU", ()), ("ELU", (0.5,)),
    ("SELU", ()), ("CELU", (0.7,)), ("GELU", ()), ("GELU", ("tanh",)), ("SiLU", ()), ("Mish", ()),
    ("Sigmoid", ()), ("Tanh", ()), ("Softplus", ()), ("Softplus", (2.0, 1.0)), ("Softsign", ()),
    ("LogSigmoid", ()), ("Hardtanh", ()), ("Hardtanh", (-2.0, 0.5)), ("Hardsigmoid", ()), ("Hardswish", ()),
    ("Tanhshrink", ()), ("Softshrink", ()), ("Hardshrink", (0.3,)), ("Threshold", (0.1, -2.0)),
    ("Softmax", (1,)), ("Softmax", (0,)), ("LogSoftmax", (1,)), ("LogSoftmax", (-1,)), ("Softmin", (1,)),
    ("GLU", ()), ("PReLU", ()), ("PReLU", (3,)),
]


@pytest.mark.parametrize("name,args", ACTIVATIONS, ids=[f"{n}{a}" for n, a in ACTIVATIONS])
def test_activation(torch, name, args):
    # avoid the kinks (|x| in {0, 0.3, 0.5, 1, 2, 3, ...}) where one-sided derivatives differ by convention
    x = rnd(4, 3, 6, scale=2.5)
    x = np.where(np.abs(x - np.round(x * 2) / 2) < 1e-3, x + 0.01, x)
    g, t = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    run_pair(torch, g, t, [x])
    assert repr(g) == repr(t)


def test_activations_at_kinks_follow_pytorch(torch):
    x = np.array([-3.0, -1.0, 0.0, 1.0, 3.0, 6.0])
    for name in ["ReLU", "LeakyReLU", "Hardtanh", "ReLU6", "Hardsigmoid", "Hardswish", "ELU", "SELU"]:
        run_pair(torch, getattr(nn, name)(), getattr(torch.nn, name)(), [x])


def test_softmax_huge_logits(torch):
    x = np.array([[1000.0, 0.0, -1000.0], [5e4, 5e4, 1.0]])
    for name in ["Softmax", "LogSoftmax"]:
        yg, _ = run_pair(torch, getattr(nn, name)(1), getattr(torch.nn, name)(1), [x])
        assert np.all(np.isfinite(yg.numpy()))


def test_gelu_float32(torch):
    x = rnd(1000, scale=4).astype(np.float32)
    run_pair(torch, nn.GELU(), torch.nn.GELU(), [x], dtype="float32", rtol=1e-5, atol=1e-6)


def test_erf_matches_torch_everywhere(torch):
    x = np.concatenate([np.linspace(-7, 7, 20001), [0.0, -0.0, 0.84375, 1.25, 1 / 0.35, 6.0, 30.0, -30.0]])
    got = gradus.functional.erf(gradus.tensor(x)).numpy()
    want = torch.erf(torch.tensor(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-15, atol=1e-16)


def test_step_unit():
    x = gradus.tensor([-2.0, -0.0, 0.0, 0.5], requires_grad=True)
    y = nn.Step()(x)
    assert y.tolist() == [0.0, 1.0, 1.0, 1.0]
    assert nn.Step(signed=True)(x).tolist() == [-1.0, 1.0, 1.0, 1.0]
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0, 0.0]


# -- dropout ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
                                 "FeatureAlphaDropout"])
def test_dropout_eval_is_identity_and_repr(torch, cls):
    shape = {"Dropout1d": (2, 3, 4), "Dropout3d": (2, 3, 2, 2, 2)}.get(cls, (2, 3, 4, 4))
    g, t = getattr(nn, cls)(0.3), getattr(torch.nn, cls)(0.3)
    g.eval()
    t.eval()
    run_pair(torch, g, t, [rnd(*shape)])
    assert repr(g) == repr(t)


# -- normalisation ----------------------------------------------------------------------------------
@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (8, 4)), ("BatchNorm1d", (8, 4, 5)),
                                       ("BatchNorm2d", (6, 4, 3, 3)), ("BatchNorm3d", (3, 4, 2, 2, 2))])
@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm_train_then_eval(torch, cls, shape, affine):
    g, t = getattr(nn, cls)(4, affine=affine), getattr(torch.nn, cls)(4, affine=affine)
    if affine:  # non-trivial affine parameters
        with torch.no_grad():
            t.weight.copy_(torch.tensor(rnd(4, seed=5)))
            t.bias.copy_(torch.tensor(rnd(4, seed=6)))
    run_pair(torch, g, t, [rnd(*shape, scale=3) + 1])
    for k in range(2, 5):  # several batches: running stats follow the moving-average rule
        run_pair(torch, g, t, [rnd(*shape, seed=k, scale=2) - k])
    for name in ["running_mean", "running_var", "num_batches_tracked"]:
        np.testing.assert_allclose(getattr(g, name).numpy(), getattr(t, name).numpy(), rtol=1e-12)
    g.eval()
    t.eval()
    run_pair(torch, g, t, [rnd(*shape, seed=9)])
    assert repr(g) == repr(t)


def test_batchnorm_momentum_none_and_no_tracking(torch):
    g, t = nn.BatchNorm1d(3, momentum=None), torch.nn.BatchNorm1d(3, momentum=None)
    for k in range(4):
        run_pair(torch, g, t, [rnd(5, 3, seed=k) * (k + 1)])
    np.testing.assert_allclose(g.running_var.numpy(), t.running_var.numpy(), rtol=1e-12)
    g2, t2 = nn.BatchNorm2d(3, track_running_stats=False), torch.nn.BatchNorm2d(3, track_running_stats=False)
    g2.eval()
    t2.eval()  # without running stats, eval still uses batch statistics
    run_pair(torch, g2, t2, [rnd(4, 3, 2, 2)])
    assert list(g2.state_dict()) == list(t2.state_dict()) == ["weight", "bias"]


def test_batchnorm_float32(torch):
    run_pair(torch, nn.BatchNorm2d(8), torch.nn.BatchNorm2d(8), [rnd(16, 8, 5, 5).astype(np.float32)],
             dtype="float32", rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("ns,shape", [(6, (4, 6)), ((3, 4), (2, 5, 3, 4)), (5, (2, 3, 5))])
def test_layernorm(torch, ns, shape):
    g, t = nn.LayerNorm(ns), torch.nn.LayerNorm(ns)
    with torch.no_grad():
        t.weight.copy_(torch.randn(t.weight.shape, dtype=torch.float64))
        t.bias.copy_(torch.randn(t.bias.shape, dtype=torch.float64))
    run_pair(torch, g, t, [rnd(*shape, scale=2) + 3])
    assert repr(g) == repr(t)
    run_pair(torch, nn.LayerNorm(ns, elementwise_affine=False),
             torch.nn.LayerNorm(ns, elementwise_affine=False),
             [rnd(*shape)])


def test_groupnorm_instancenorm_lrn(torch):
    g, t = nn.GroupNorm(2, 6), torch.nn.GroupNorm(2, 6)
    with torch.no_grad():
        t.weight.copy_(torch.randn(6, dtype=torch.float64))
        t.bias.copy_(torch.randn(6, dtype=torch.float64))
    run_pair(torch, g, t, [rnd(3, 6, 4, 4)])
    assert repr(g) == repr(t)
    run_pair(torch, nn.InstanceNorm2d(3, affine=True), torch.nn.InstanceNorm2d(3, affine=True),
             [rnd(2, 3, 4, 4)])
    run_pair(torch, nn.InstanceNorm1d(3), torch.nn.InstanceNorm1d(3), [rnd(2, 3, 7)])
    g, t = nn.LocalResponseNorm(3, alpha=0.1, beta=0.75, k=2.0), torch.nn.LocalResponseNorm(3, 0.1, 0.75, 2.0)
    run_pair(torch, g, t, [rnd(2, 6, 3, 3)])
    run_pair(torch, nn.LocalResponseNorm(4), torch.nn.LocalResponseNorm(4), [rnd(2, 5, 3, 3)])
    assert repr(g) == repr(t)


# -- embedding --------------------------------------------------------------------------------------
def test_embedding_padding_idx(torch):
    g, t = nn.Embedding(10, 4, padding_idx=2), torch.nn.Embedding(10, 4, padding_idx=2)
    idx = np.array([[1, 2, 2, 9], [2, 0, 1, 1]])
    run_pair(torch, g, t, [idx], int_inputs=True)
    assert not np.any(g.weight.grad.numpy()[2])
    assert repr(g) == repr(t)
    fresh = nn.Embedding(5, 3, padding_idx=-1)
    assert fresh.padding_idx == 4 and not np.any(fresh.weight.numpy()[4])


def test_embedding_from_pretrained(torch):
    W = rnd(6, 3)
    g = nn.Embedding.from_pretrained(gradus.tensor(W))
    t = torch.nn.Embedding.from_pretrained(torch.tensor(W))
    idx = np.array([0, 5, 3])
    np.testing.assert_allclose(g(gradus.tensor(idx)).numpy(), t(torch.tensor(idx)).detach().numpy())
    assert not g.weight.requires_grad
    assert nn.Embedding.from_pretrained(gradus.tensor(W), freeze=False).weight.requires_grad


def test_embedding_max_norm(torch):
    W = rnd(6, 3, scale=3)
    g = nn.Embedding.from_pretrained(gradus.tensor(W), max_norm=1.0)
    t = torch.nn.Embedding.from_pretrained(torch.tensor(W), max_norm=1.0)
    idx = np.array([0, 2, 2])
    want = t(torch.tensor(idx)).detach().numpy()
    np.testing.assert_allclose(g(gradus.tensor(idx)).numpy(), want, rtol=1e-6)
    np.testing.assert_allclose(g.weight.numpy(), t.weight.detach().numpy(), rtol=1e-6)


# -- a whole model: keys, repr, outputs, grads ------------------------------------------------------
def build(lib):
    n = lib.nn
    return n.Sequential(n.Linear(6, 8), n.BatchNorm1d(8), n.ReLU(), n.Dropout(0.25), n.Linear(8, 8), n.Tanh(),
                        n.LayerNorm(8), n.Linear(8, 3), n.LogSoftmax(dim=1))


def test_sequential_model_matches(torch):
    g, t = build(gradus), build(torch)
    assert repr(g) == repr(t)
    assert [k for k, _ in g.named_parameters()] == [k for k, _ in t.named_parameters()]
    assert [k for k, _ in g.named_buffers()] == [k for k, _ in t.named_buffers()]
    g.eval()
    t.eval()
    run_pair(torch, g, t, [rnd(5, 6)])
    g.train()
    t.train()
    g[3].p = t[3].p = 0.0  # dropout off, batch statistics on
    run_pair(torch, g, t, [rnd(5, 6, seed=3)])
