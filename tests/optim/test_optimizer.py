"""The Optimizer base class: parameter groups, zero_grad, closures, hooks, state_dict and the
(arrays, JSON) checkpoint helpers. Run with every optimizer where the behaviour is shared."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

import gradus
from gradus import optim
from gradus.errors import DTypeError
from gradus.optim import flatten_state, unflatten_state
from tests.helpers import SeededInputs

# one stateful configuration of every gradient-based optimizer
ALL = [
    (optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (optim.Adagrad, dict(lr=0.1, lr_decay=0.01, weight_decay=0.01)),
    (optim.RMSprop, dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.01)),
    (optim.Adadelta, dict(weight_decay=0.01)),
    (optim.Adam, dict(lr=0.01, amsgrad=True, weight_decay=0.01)),
    (optim.AdamW, dict(lr=0.01, amsgrad=True)),
]
IDS = [c.__name__ for c, _ in ALL]


def _params(dtype=gradus.float64, seed=0):
    inputs = SeededInputs(seed, dtype)
    return [inputs.tensor(4, 3, requires_grad=True), inputs.tensor(3, requires_grad=True)]


def _loss(params, seed=1):
    inputs = SeededInputs(seed, params[0].dtype)
    X, Y = inputs.tensor(8, 4), inputs.tensor(8, 3)
    W, b = params
    return ((gradus.tanh(X @ W + b) - Y) ** 2).mean()


def _train(opt, params, steps):
    for _ in range(steps):
        opt.zero_grad()
        _loss(params).backward()
        opt.step()


# -- construction and parameter groups ------------------------------------------------------------
def test_constructor_errors():
    w = gradus.zeros(3, requires_grad=True)
    with pytest.raises(TypeError, match="wrap it in a list"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([w * 2], lr=0.1)
    with pytest.raises(TypeError, match="floating point"):
        optim.SGD([gradus.zeros(3, dtype=gradus.int64)], lr=0.1)
    with pytest.raises(TypeError, match="only optimize Tensors"):
        optim.SGD([np.zeros(3)], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD([{"params": {w}}], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [w]}, {"params": [w]}], lr=0.1)

    class Model:
        def parameters(self):
            yield w

    with pytest.raises(TypeError, match=r"model.parameters\(\)"):
        optim.SGD(Model(), lr=0.1)


def test_required_hyperparameter():
    class Plain(optim.Optimizer):
        def __init__(self, params, lr=optim.required):
            super().__init__(params, dict(lr=lr))

        def step(self, closure=None):
            return None

    w = gradus.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="required optimization parameter lr"):
        Plain([w])
    assert Plain([{"params": [w], "lr": 0.5}]).param_groups[0]["lr"] == 0.5


def test_param_groups_defaults_override_and_add():
    a, b, c = (gradus.ones(2, requires_grad=True) for _ in range(3))
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 1.0, "momentum": 0.5}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 1.0]
    assert opt.param_groups[0]["momentum"] == 0 and opt.param_groups[1]["momentum"] == 0.5
    assert opt.param_groups[1]["params"][0] is b
    opt.add_param_group({"params": [c], "lr": 0.01})
    for p in (a, b, c):
        p.grad = gradus.ones(2)
    opt.step()
    np.testing.assert_allclose(a.numpy(), 0.9)
    np.testing.assert_allclose(b.numpy(), 0.0)
    np.testing.assert_allclose(c.numpy(), 0.99)
    assert "Parameter Group 2" in repr(opt) and "lr: 0.01" in repr(opt)


def test_named_parameters_are_recorded():
    w, b = _params()
    opt = optim.Adam([("layer.weight", w), ("layer.bias", b)])
    assert opt.param_groups[0]["param_names"] == ["layer.weight", "layer.bias"]
    assert opt.param_groups[0]["params"] == [w, b] or opt.param_groups[0]["params"][0] is w
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["layer.weight", "layer.bias"]


def test_duplicate_parameter_in_a_group_warns():
    w = gradus.zeros(2, requires_grad=True)
    with pytest.warns(UserWarning, match="duplicate"):
        optim.SGD([w, w], lr=0.1)


# -- gradients --------------------------------------------------------------------------------------
def test_zero_grad_set_to_none_and_zeros_without_touching_the_old_array():
    a, b = gradus.ones(3, requires_grad=True), gradus.ones(3, requires_grad=True)
    shared = gradus.tensor([1.0, 2.0, 3.0])
    a.grad = b.grad = shared  # the engine may hand one array to two leaves
    opt = optim.SGD([a], lr=0.1)
    opt.zero_grad(set_to_none=False)
    assert a.grad is not shared and np.all(a.grad.numpy() == 0) and a.grad.dtype == shared.dtype
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 2.0, 3.0])  # b's gradient survives
    opt.zero_grad()
    assert a.grad is None and b.grad is shared


@pytest.mark.parametrize("cls,kwargs", ALL + [(optim.SGD, dict(lr=0.1, maximize=True, weight_decay=0.1)),
                                              (optim.Adam, dict(maximize=True))],
                         ids=IDS + ["SGDmax", "Adammax"])
def test_step_never_writes_into_grad(cls, kwargs):
    a, b = gradus.ones(3, requires_grad=True), gradus.ones(3, requires_grad=True)
    shared = gradus.tensor([1.0, -2.0, 3.0])
    a.grad = b.grad = shared
    opt = cls([a, b], **kwargs)
    for _ in range(3):
        opt.step()
    np.testing.assert_array_equal(shared.numpy(), [1.0, -2.0, 3.0])
    assert not np.allclose(a.numpy(), 1.0)


@pytest.mark.parametrize("cls,kwargs", ALL, ids=IDS)
def test_parameters_without_grad_are_skipped(cls, kwargs):
    w, b = _params()
    before = b.numpy().copy()
    opt = cls([w, b], **kwargs)
    w.grad = gradus.ones_like(w)
    opt.step()
    np.testing.assert_array_equal(b.numpy(), before)
    if cls is not optim.Adagrad:  # Adagrad creates its state up front, as PyTorch does
        assert 1 not in opt.state_dict()["state"]


def test_closure_runs_with_grad_enabled_and_step_without():
    w = gradus.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    seen = {}

    def closure():
        seen["closure"] = gradus.is_grad_enabled()
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    def pre_hook(o, args, kwargs):
        seen["pre"] = gradus.is_grad_enabled()

    opt.register_step_pre_hook(pre_hook)
    loss = opt.step(closure)
    assert loss.item() == 5.0 and seen == {"closure": True, "pre": True}
    np.testing.assert_allclose(w.numpy(), [0.8, 1.6])
    assert gradus.is_grad_enabled()


def test_step_hooks_clip_and_remove():
    w = gradus.tensor([0.0], requires_grad=True)
    opt = optim.SGD([w], lr=1.0)
    calls = []

    def clip(o, args, kwargs):
        for g in o.param_groups:
            for p in g["params"]:
                p.grad = gradus.clamp(p.grad, -0.5, 0.5)

    h = opt.register_step_pre_hook(clip)
    opt.register_step_post_hook(lambda o, a, k: calls.append(w.item()))
    w.grad = gradus.tensor([10.0])
    opt.step()
    assert w.item() == -0.5 and calls == [-0.5]
    h.remove()
    w.grad = gradus.tensor([10.0])
    opt.step()
    assert w.item() == -10.5 and calls == [-0.5, -10.5]


def test_lr_changed_in_group_takes_effect():
    w = gradus.tensor([1.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    w.grad = gradus.tensor([1.0])
    opt.param_groups[0]["lr"] = 0.5
    opt.step()
    assert w.item() == pytest.approx(0.5)


# -- dtype ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls,kwargs", ALL, ids=IDS)
def test_float32_stays_float32(cls, kwargs):
    params = _params(gradus.float32)
    opt = cls(params, **kwargs)
    _train(opt, params, 2)
    for p in params:
        assert p.dtype == np.float32
    for s in opt.state_dict()["state"].values():
        for k, v in s.items():
            assert v.data.dtype == np.float32, k  # step counters are float32 too, as in PyTorch
            if k == "step":
                assert v.shape == () and v.item() == 2.0


# -- state_dict ---------------------------------------------------------------------------------------
def test_state_dict_structure():
    params = _params()
    opt = optim.Adam([{"params": params[:1]}, {"params": params[1:], "lr": 0.1}], amsgrad=True)
    _train(opt, params, 3)
    sd = opt.state_dict()
    assert list(sd) == ["state", "param_groups"]
    assert list(sd["state"]) == [0, 1]
    assert list(sd["state"][0]) == ["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
    assert isinstance(sd["state"][0]["exp_avg"], gradus.Tensor) and sd["state"][0]["step"].item() == 3.0
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert sd["param_groups"][1]["lr"] == 0.1 and sd["param_groups"][0]["betas"] == (0.9, 0.999)


def _roundtrip(sd):
    """state_dict -> safetensors bytes + strict JSON -> state_dict."""
    from safetensors.numpy import load, save

    arrays, meta = flatten_state(sd, prefix="optimizer.")
    assert all(k.startswith("optimizer.") for k in arrays)
    return unflatten_state(load(save(arrays)), json.loads(json.dumps(meta, allow_nan=False)))


@pytest.mark.parametrize("cls,kwargs", ALL, ids=IDS)
def test_state_dict_roundtrip_resumes_exactly(cls, kwargs):
    """Save after 10 steps (through safetensors + JSON), load into a fresh optimizer on fresh
    parameters, continue 10 steps == 20 uninterrupted steps, bit for bit."""
    ref_params = _params()
    ref = cls([{"params": ref_params[:1]}, {"params": ref_params[1:], "lr": 0.05}], **kwargs)
    _train(ref, ref_params, 20)

    params = _params()
    opt = cls([{"params": params[:1]}, {"params": params[1:], "lr": 0.05}], **kwargs)
    _train(opt, params, 10)
    saved = _roundtrip(opt.state_dict())
    weights = [p.numpy().copy() for p in params]

    params2 = [gradus.tensor(w, requires_grad=True) for w in weights]
    opt2 = cls([{"params": params2[:1]}, {"params": params2[1:], "lr": 123.0}], **kwargs)
    opt2.load_state_dict(saved)
    assert opt2.param_groups[1]["lr"] == 0.05  # hyper-parameters come from the checkpoint
    assert opt2.param_groups[0]["params"][0] is params2[0]
    _train(opt2, params2, 10)
    for a, b in zip(params2, ref_params):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_load_state_dict_copies_and_casts():
    params = _params()
    opt = optim.Adam(params)
    _train(opt, params, 2)
    sd = opt.state_dict()
    p32 = _params(gradus.float32)
    opt32 = optim.Adam(p32)
    opt32.load_state_dict(sd)
    s = opt32.state[p32[0]]
    assert s["exp_avg"].dtype == np.float32 and s["step"].dtype == sd["state"][0]["step"].dtype
    assert s["exp_avg"].data is not sd["state"][0]["exp_avg"].data
    # string keys (as JSON gives them) and plain arrays are accepted
    sd_json = {"state": {str(k): {n: v.numpy() for n, v in st.items()} for k, st in sd["state"].items()},
               "param_groups": sd["param_groups"]}
    opt_b = optim.Adam(_params())
    opt_b.load_state_dict(sd_json)
    assert opt_b.state_dict()["state"][1]["step"].item() == 2.0


def test_load_state_dict_mismatch_errors():
    params = _params()
    opt = optim.SGD(params, lr=0.1)
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="parameter groups"):
        optim.SGD([{"params": params[:1]}, {"params": params[1:]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="has 2 parameters"):
        optim.SGD(params[:1], lr=0.1).load_state_dict(sd)


def test_flatten_state_special_values_and_errors():
    sd = {"best": math.inf, "worst": -math.inf, "milestones": {3: 1, 8: 2}, "pair": (1, 2.5), "name": "x",
          "none": None, "flag": True, "arr": gradus.tensor([1.0, 2.0]), "np": np.float64(0.5),
          "scalar": gradus.tensor(3.0)}
    arrays, meta = flatten_state(sd)
    back = unflatten_state(arrays, json.loads(json.dumps(meta, allow_nan=False)))
    assert back["best"] == math.inf and back["worst"] == -math.inf
    assert back["milestones"] == {3: 1, 8: 2} and back["pair"] == (1, 2.5) and back["np"] == 0.5
    assert back["name"] == "x" and back["none"] is None and back["flag"] is True
    np.testing.assert_array_equal(back["arr"].numpy(), [1.0, 2.0])
    assert back["scalar"].shape == () and back["scalar"].item() == 3.0  # 0-d stays 0-d
    with pytest.raises(TypeError, match="cannot store a function"):
        flatten_state({"fn": lambda e: e})


def test_optimizer_rejects_bad_hyperparameters():
    w = [gradus.zeros(2, requires_grad=True)]
    with pytest.raises(ValueError, match="learning rate"):
        optim.SGD(w, lr=-1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD(w, lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="beta parameter at index 1"):
        optim.Adam(w, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="rho"):
        optim.Adadelta(w, rho=1.5)
    with pytest.raises(ValueError, match="alpha"):
        optim.RMSprop(w, alpha=-0.1)
    with pytest.raises(ValueError, match="initial_accumulator_value"):
        optim.Adagrad(w, initial_accumulator_value=-1)
    with pytest.raises(DTypeError):
        optim.SGD([gradus.zeros(2, dtype=gradus.int32).requires_grad_()], lr=0.1)
