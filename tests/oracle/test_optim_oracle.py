"""Optimizers against PyTorch: same model, same initial weights, same data, each framework's own
autograd and its own optimizer; after 20 steps the weights must agree (float64: 1e-6 relative, in
practice ~1e-13; float32: 1e-5). Also the state_dict layout and a torch -> gradus state transfer."""
from __future__ import annotations

import numpy as np
import pytest

import gradus
from gradus import optim

pytestmark = pytest.mark.oracle

STEPS = 20


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread(torch):
    """Tiny tensors: torch's thread pool only adds contention on a shared CPU (25x slower here)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)

# (optimizer, kwargs): every optimizer with its main options. `maximize` runs maximise -loss.
CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, weight_decay=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.8, weight_decay=0.05, nesterov=True)),
    ("SGD", dict(lr=0.1, maximize=True)),
    ("SGD", dict(lr=0.1, momentum=0.5, weight_decay=0.01, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.05)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-6)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.01, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.05)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-4)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8)),
    ("Adadelta", dict(weight_decay=0.05, eps=1e-4)),
    ("Adadelta", dict(lr=0.5, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.05)),
    ("Adam", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6)),
    ("Adam", dict(lr=0.01, maximize=True)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.05, maximize=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01, betas=(0.5, 0.9), maximize=True)),
]


def _ids(configs):
    return [f"{name}-" + ",".join(f"{k}={v}" for k, v in kw.items()) for name, kw in configs]


def _problem(seed=0):
    """Data and initial weights of a 5 -> 7 -> 3 tanh network."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((16, 5))
    Y = rng.standard_normal((16, 3))
    labels = rng.integers(0, 3, 16)
    init = [rng.standard_normal((5, 7)) * 0.5, rng.standard_normal(7) * 0.1,
            rng.standard_normal((7, 3)) * 0.5, rng.standard_normal(3) * 0.1]
    return X, Y, labels, init


def _gradus_loss(params, X, Y, labels, kind):
    W1, b1, W2, b2 = params
    out = gradus.tanh(X @ W1 + b1) @ W2 + b2
    if kind == "mse":
        return ((out - Y) ** 2).mean()
    onehot = np.eye(3, dtype=out.dtype)[labels]
    return (gradus.logsumexp(out, dim=1) - (out * onehot).sum(dim=1)).mean()


def _torch_loss(torch, params, X, Y, labels, kind):
    W1, b1, W2, b2 = params
    out = torch.tanh(X @ W1 + b1) @ W2 + b2
    if kind == "mse":
        return torch.nn.functional.mse_loss(out, Y)
    return torch.nn.functional.cross_entropy(out, labels)


def _run_gradus(name, kwargs, kind, dtype, steps=STEPS, groups=None):
    X, Y, labels, init = _problem()
    X, Y = gradus.tensor(X, dtype=dtype), gradus.tensor(Y, dtype=dtype)
    params = [gradus.tensor(a, dtype=dtype, requires_grad=True) for a in init]
    sign = -1.0 if kwargs.get("maximize") else 1.0
    spec = params if groups is None else [dict(params=[params[i] for i in idx], **g) for idx, g in groups]
    opt = getattr(optim, name)(spec, **kwargs)
    for _ in range(steps):
        opt.zero_grad()
        (sign * _gradus_loss(params, X, Y, labels, kind)).backward()
        opt.step()
    return [p.numpy() for p in params], opt


def _run_torch(torch, name, kwargs, kind, dtype, steps=STEPS, groups=None):
    X, Y, labels, init = _problem()
    tdtype = getattr(torch, np.dtype(dtype).name)
    X, Y = torch.tensor(X, dtype=tdtype), torch.tensor(Y, dtype=tdtype)
    labels = torch.tensor(labels)
    params = [torch.tensor(a, dtype=tdtype, requires_grad=True) for a in init]
    sign = -1.0 if kwargs.get("maximize") else 1.0
    spec = params if groups is None else [dict(params=[params[i] for i in idx], **g) for idx, g in groups]
    opt = getattr(torch.optim, name)(spec, foreach=False, **kwargs)  # the single-tensor reference path
    for _ in range(steps):
        opt.zero_grad()
        (sign * _torch_loss(torch, params, X, Y, labels, kind)).backward()
        opt.step()
    return [p.detach().numpy() for p in params], opt


@pytest.mark.parametrize("kind", ["mse", "ce"])
@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=_ids(CONFIGS))
def test_matches_torch_float64(torch, name, kwargs, kind):
    ours, _ = _run_gradus(name, kwargs, kind, np.float64)
    ref, _ = _run_torch(torch, name, kwargs, kind, np.float64)
    X, Y, labels, init = _problem()
    moved = max(np.abs(r - i).max() for r, i in zip(ref, init))
    assert moved > 1e-3, "the reference did not move: the test would prove nothing"
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)


FLOAT32 = [CONFIGS[1], CONFIGS[3], CONFIGS[9], CONFIGS[16], CONFIGS[20], CONFIGS[24], CONFIGS[30]]


@pytest.mark.parametrize("name,kwargs", FLOAT32, ids=_ids(FLOAT32))
def test_matches_torch_float32(torch, name, kwargs):
    ours, _ = _run_gradus(name, kwargs, "ce", np.float32)
    ref, _ = _run_torch(torch, name, kwargs, "ce", np.float32)
    for a, b in zip(ours, ref):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.01)),
                                         ("RMSprop", dict(lr=0.01, centered=True))])
def test_param_groups_match_torch(torch, name, kwargs):
    groups = [((0, 1), dict(lr=kwargs["lr"] * 3)), ((2, 3), dict(weight_decay=0.1))]
    ours, _ = _run_gradus(name, kwargs, "mse", np.float64, groups=groups)
    ref, _ = _run_torch(torch, name, kwargs, "mse", np.float64, groups=groups)
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)


STATEFUL = [("SGD", dict(lr=0.1, momentum=0.9)), ("Adagrad", dict(lr=0.1)),
            ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True)), ("Adadelta", dict()),
            ("Adam", dict(lr=0.01, amsgrad=True)), ("AdamW", dict(lr=0.01))]


@pytest.mark.parametrize("name,kwargs", STATEFUL, ids=_ids(STATEFUL))
def test_state_dict_layout_matches_torch(torch, name, kwargs):
    """Same keys, same parameter indices, same buffer names, values and step counters."""
    _, ours = _run_gradus(name, kwargs, "mse", np.float64, steps=5)
    _, ref = _run_torch(torch, name, kwargs, "mse", np.float64, steps=5)
    a, b = ours.state_dict(), ref.state_dict()
    assert list(a) == list(b) == ["state", "param_groups"]
    assert list(a["state"]) == list(b["state"])
    for i in a["state"]:
        assert list(a["state"][i]) == list(b["state"][i])
        for key, value in a["state"][i].items():
            ref_value = b["state"][i][key].numpy()
            assert value.data.dtype == ref_value.dtype, key
            np.testing.assert_allclose(value.numpy(), ref_value, rtol=1e-6, atol=1e-12)
    for ga, gb in zip(a["param_groups"], b["param_groups"]):
        assert ga["params"] == gb["params"]
        for key, value in ga.items():  # every gradus hyper-parameter exists in torch's group
            assert gb[key] == value, key


@pytest.mark.parametrize("name,kwargs", STATEFUL, ids=_ids(STATEFUL))
def test_torch_state_loads_into_gradus(torch, name, kwargs):
    """A PyTorch optimizer's state (tensors as arrays) resumes in gradus exactly where torch goes."""
    X, Y, labels, _ = _problem()
    _, topt = _run_torch(torch, name, kwargs, "mse", np.float64, steps=10)
    tparams = [p for g in topt.param_groups for p in g["params"]]
    sd = topt.state_dict()
    sd = {"state": {i: {k: v.numpy() for k, v in s.items()} for i, s in sd["state"].items()},
          "param_groups": sd["param_groups"]}
    params = [gradus.tensor(p.detach().numpy(), requires_grad=True) for p in tparams]
    opt = getattr(optim, name)(params, **kwargs)
    opt.load_state_dict(sd)
    Xg, Yg = gradus.tensor(X), gradus.tensor(Y)
    for _ in range(10):
        opt.zero_grad()
        _gradus_loss(params, Xg, Yg, labels, "mse").backward()
        opt.step()
    ref, _ = _run_torch(torch, name, kwargs, "mse", np.float64, steps=20)
    for a, b in zip(params, ref):
        np.testing.assert_allclose(a.numpy(), b, rtol=1e-6, atol=1e-9)
