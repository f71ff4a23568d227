"""Wrong uses of the optimizers and schedulers: hyper-parameters, resumed states of another
optimizer, scheduler arguments of zero."""

from __future__ import annotations

import pytest

import gradus
from gradus import nn, optim
from gradus.optim import lr_scheduler as S

from ._table import check


def _params():
    return [gradus.zeros(3, requires_grad=True)]


def _opt(cls=optim.SGD, **kw):
    kw.setdefault("lr", 0.1)
    return cls(_params(), **kw)


def _stepped(cls, **kw):
    o = _opt(cls, **kw)
    for p in o.param_groups[0]["params"]:
        p.grad = gradus.ones(3)
    o.step()
    return o


def _resume(src, dst):
    dst.load_state_dict(src.state_dict())


CASES = [
    # hyper-parameters of the wrong type or range
    (
        "SGD-lr-str",
        lambda: optim.SGD(_params(), lr="abc"),
        TypeError,
        r"SGD: lr must be a number, got "
        r"'abc' \(str\)",
    ),
    ("SGD-lr-negative", lambda: optim.SGD(_params(), lr=-1), ValueError, r"Invalid learning rate: -1"),
    ("SGD-lr-none", lambda: optim.SGD(_params(), lr=None), TypeError, r"SGD: lr must be a number, got None"),
    (
        "SGD-momentum-str",
        lambda: optim.SGD(_params(), lr=0.1, momentum="x"),
        TypeError,
        r"SGD: momentum "
        r"must be a number",
    ),
    (
        "SGD-momentum-negative",
        lambda: optim.SGD(_params(), lr=0.1, momentum=-0.5),
        ValueError,
        r"Invalid momentum value",
    ),
    (
        "SGD-weight-decay-list",
        lambda: optim.SGD(_params(), lr=0.1, weight_decay=[1]),
        TypeError,
        r"SGD: weight_decay must be a number, got \[1\]",
    ),
    (
        "SGD-nesterov-no-momentum",
        lambda: optim.SGD(_params(), lr=0.1, nesterov=True),
        ValueError,
        r"[Nn]esterov",
    ),
    (
        "SGD-nan-lr",
        lambda: optim.SGD(_params(), lr=float("nan")),
        ValueError,
        r"SGD: lr must be a number, "
        r"got nan",
    ),
    (
        "Adam-lr-str",
        lambda: optim.Adam(_params(), lr="1e-3"),
        TypeError,
        r"Adam: lr must be a number, got "
        r"'1e-3'",
    ),
    (
        "Adam-betas-str",
        lambda: optim.Adam(_params(), betas=("a", 0.9)),
        TypeError,
        r"Adam: betas\[0\] must "
        r"be a number, got 'a'",
    ),
    (
        "Adam-beta-range",
        lambda: optim.Adam(_params(), betas=(0.9, 1.5)),
        ValueError,
        r"Invalid beta "
        r"parameter at index 1: 1\.5",
    ),
    ("Adam-eps-negative", lambda: optim.Adam(_params(), eps=-1), ValueError, r"Invalid epsilon value: -1"),
    (
        "Adam-weight-decay-negative",
        lambda: optim.Adam(_params(), weight_decay=-1),
        ValueError,
        r"Invalid weight_decay value",
    ),
    ("AdamW-lr-str", lambda: optim.AdamW(_params(), lr="x"), TypeError, r"AdamW: lr must be a number"),
    (
        "RMSprop-alpha-negative",
        lambda: optim.RMSprop(_params(), alpha=-1),
        ValueError,
        r"[Ii]nvalid alpha "
        r"value",
    ),
    (
        "RMSprop-eps-str",
        lambda: optim.RMSprop(_params(), eps="x"),
        TypeError,
        r"RMSprop: eps must be a "
        r"number",
    ),
    (
        "Adagrad-lr-decay",
        lambda: optim.Adagrad(_params(), lr_decay=-1),
        ValueError,
        r"[Ii]nvalid lr_decay "
        r"value",
    ),
    (
        "Adagrad-str",
        lambda: optim.Adagrad(_params(), initial_accumulator_value="x"),
        TypeError,
        r"Adagrad: initial_accumulator_value must be a number",
    ),
    ("Adadelta-rho", lambda: optim.Adadelta(_params(), rho=2), ValueError, r"[Ii]nvalid rho value"),
    (
        "Adadelta-rho-str",
        lambda: optim.Adadelta(_params(), rho="x"),
        TypeError,
        r"Adadelta: rho must be a "
        r"number",
    ),
    (
        "Optimizer-tensor-params",
        lambda: optim.SGD(gradus.zeros(3, requires_grad=True), lr=0.1),
        TypeError,
        r"should be an iterable of Tensors or dicts, but got a Tensor",
    ),
    (
        "Optimizer-module-params",
        lambda: optim.SGD(nn.Linear(2, 2), lr=0.1),
        TypeError,
        r"pass model\.parameters\(\) instead",
    ),
    # resuming the state of another optimizer (was KeyError: 'eps')
    (
        "resume-SGD-into-Adam",
        lambda: _resume(_stepped(optim.SGD, momentum=0.9), _opt(optim.Adam)),
        ValueError,
        r"Adam\.load_state_dict: parameter group 0 of the loaded state lacks .*'eps'.*state of another "
        r"optimizer",
    ),
    (
        "resume-Adam-into-SGD",
        lambda: _resume(_stepped(optim.Adam), _opt(optim.SGD, momentum=0.9)),
        ValueError,
        r"SGD\.load_state_dict: .*lacks .*'momentum'.*another optimizer \(its keys: .*betas",
    ),
    (
        "resume-RMSprop-into-Adagrad",
        lambda: _resume(_stepped(optim.RMSprop), _opt(optim.Adagrad)),
        ValueError,
        r"Adagrad\.load_state_dict: .*lacks .*'lr_decay'",
    ),
    (
        "resume-not-a-dict",
        lambda: _opt().load_state_dict([1, 2]),
        ValueError,
        r"SGD\.load_state_dict: expected a dict with 'state' and 'param_groups'.*got list",
    ),
    (
        "resume-missing-keys",
        lambda: _opt().load_state_dict({"state": {}}),
        ValueError,
        r"SGD\.load_state_dict: expected a dict with 'state' and 'param_groups'.*\['state'\]",
    ),
    (
        "resume-group-count",
        lambda: _opt().load_state_dict({"state": {}, "param_groups": []}),
        ValueError,
        r"loaded state dict has 0 parameter groups, the optimizer has 1",
    ),
    (
        "resume-param-count",
        lambda: _opt().load_state_dict(
            {"state": {}, "param_groups": [dict(_opt().state_dict()["param_groups"][0], params=[0, 1])]}
        ),
        ValueError,
        r"parameter group 0 has 2 parameters, the optimizer's has 1",
    ),
    # schedulers: zero, negative, float and string arguments
    (
        "StepLR-zero",
        lambda: S.StepLR(_opt(), step_size=0),
        ValueError,
        r"StepLR: step_size must be "
        r"positive \(an int >= 1\), got 0",
    ),
    (
        "StepLR-negative",
        lambda: S.StepLR(_opt(), step_size=-2),
        ValueError,
        r"StepLR: step_size must be "
        r"positive.*-2",
    ),
    (
        "StepLR-float",
        lambda: S.StepLR(_opt(), step_size=2.5),
        TypeError,
        r"StepLR: step_size must be an "
        r"int, got 2\.5",
    ),
    (
        "StepLR-str",
        lambda: S.StepLR(_opt(), step_size="5"),
        TypeError,
        r"StepLR: step_size must be an int, "
        r"got '5'",
    ),
    (
        "StepLR-gamma-zero",
        lambda: S.StepLR(_opt(), step_size=1, gamma=0),
        ValueError,
        r"StepLR: gamma must "
        r"be > 0\.0, got 0",
    ),
    (
        "StepLR-gamma-str",
        lambda: S.StepLR(_opt(), step_size=1, gamma="x"),
        TypeError,
        r"StepLR: gamma must "
        r"be a number",
    ),
    (
        "MultiStepLR-int",
        lambda: S.MultiStepLR(_opt(), milestones=3),
        TypeError,
        r"MultiStepLR: milestones must be a list of ints, got 3",
    ),
    (
        "MultiStepLR-float",
        lambda: S.MultiStepLR(_opt(), milestones=[1.5]),
        TypeError,
        r"MultiStepLR: milestones must be an int, got 1\.5",
    ),
    (
        "MultiStepLR-negative",
        lambda: S.MultiStepLR(_opt(), milestones=[-1]),
        ValueError,
        r"MultiStepLR: milestones must be non-negative",
    ),
    (
        "MultiStepLR-gamma",
        lambda: S.MultiStepLR(_opt(), milestones=[2], gamma=-1),
        ValueError,
        r"MultiStepLR: gamma must be > 0\.0",
    ),
    (
        "ExponentialLR-zero",
        lambda: S.ExponentialLR(_opt(), gamma=0),
        ValueError,
        r"ExponentialLR: gamma "
        r"must be > 0\.0, got 0",
    ),
    (
        "ExponentialLR-str",
        lambda: S.ExponentialLR(_opt(), gamma="0.9"),
        TypeError,
        r"ExponentialLR: gamma "
        r"must be a number",
    ),
    (
        "CosineAnnealingLR-zero",
        lambda: S.CosineAnnealingLR(_opt(), T_max=0),
        ValueError,
        r"CosineAnnealingLR: T_max must be positive \(an int >= 1\), got 0",
    ),
    (
        "CosineAnnealingLR-float",
        lambda: S.CosineAnnealingLR(_opt(), T_max=2.5),
        TypeError,
        r"CosineAnnealingLR: T_max must be an int, got 2\.5",
    ),
    (
        "CosineAnnealingLR-eta-min",
        lambda: S.CosineAnnealingLR(_opt(), T_max=5, eta_min=-1),
        ValueError,
        r"CosineAnnealingLR: eta_min must be >= 0\.0",
    ),
    (
        "LinearLR-total-iters-zero",
        lambda: S.LinearLR(_opt(), total_iters=0),
        ValueError,
        r"LinearLR: total_iters must be positive",
    ),
    (
        "LinearLR-start-factor",
        lambda: S.LinearLR(_opt(), start_factor=0),
        ValueError,
        r"Starting multiplicative factor",
    ),
    (
        "LinearLR-end-factor",
        lambda: S.LinearLR(_opt(), end_factor=2),
        ValueError,
        r"Ending multiplicative "
        r"factor",
    ),
    (
        "OneCycleLR-total-steps-zero",
        lambda: S.OneCycleLR(_opt(), max_lr=1.0, total_steps=0),
        ValueError,
        r"Expected positive integer total_steps, but got 0",
    ),
    (
        "OneCycleLR-no-length",
        lambda: S.OneCycleLR(_opt(), max_lr=1.0),
        ValueError,
        r"You must define either total_steps OR \(epochs AND steps_per_epoch\)",
    ),
    (
        "OneCycleLR-pct",
        lambda: S.OneCycleLR(_opt(), max_lr=1.0, total_steps=10, pct_start=2.0),
        ValueError,
        r"Expected float between 0 and 1 pct_start, but got 2\.0",
    ),
    (
        "ReduceLROnPlateau-factor-zero",
        lambda: S.ReduceLROnPlateau(_opt(), factor=0),
        ValueError,
        r"ReduceLROnPlateau: factor must be > 0\.0, got 0",
    ),
    (
        "ReduceLROnPlateau-factor-one",
        lambda: S.ReduceLROnPlateau(_opt(), factor=1.5),
        ValueError,
        r"ReduceLROnPlateau: Factor should be < 1\.0, got 1\.5",
    ),
    (
        "ReduceLROnPlateau-patience",
        lambda: S.ReduceLROnPlateau(_opt(), patience=-1),
        ValueError,
        r"ReduceLROnPlateau: patience must be non-negative",
    ),
    (
        "ReduceLROnPlateau-cooldown",
        lambda: S.ReduceLROnPlateau(_opt(), cooldown=1.5),
        TypeError,
        r"ReduceLROnPlateau: cooldown must be an int, got 1\.5",
    ),
    ("ReduceLROnPlateau-mode", lambda: S.ReduceLROnPlateau(_opt(), mode="best"), ValueError, r"mode"),
    (
        "warmup_cosine-total-zero",
        lambda: S.warmup_cosine(_opt(), warmup_steps=0, total_steps=0),
        ValueError,
        r"warmup_cosine: total_steps must be positive",
    ),
    (
        "warmup_cosine-warmup-negative",
        lambda: S.warmup_cosine(_opt(), warmup_steps=-1, total_steps=5),
        ValueError,
        r"warmup_cosine: warmup_steps must be non-negative",
    ),
    (
        "warmup_cosine-warmup-too-long",
        lambda: S.warmup_cosine(_opt(), warmup_steps=6, total_steps=5),
        ValueError,
        r"warmup_cosine: need 0 <= warmup_steps <= total_steps",
    ),
    (
        "warmup_cosine-float",
        lambda: S.warmup_cosine(_opt(), warmup_steps=1, total_steps=5.5),
        TypeError,
        r"warmup_cosine: total_steps must be an int, got 5\.5",
    ),
    (
        "scheduler-not-optimizer",
        lambda: S.StepLR([1, 2], step_size=1),
        TypeError,
        r"list is not an "
        r"Optimizer",
    ),
]


@pytest.mark.parametrize("fn,exc,pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_wrong_use_is_refused_clearly(fn, exc, pattern):
    check(fn, exc, pattern)


def test_valid_uses_still_work():
    o = _stepped(optim.Adam)
    o2 = _opt(optim.Adam)
    o2.load_state_dict(o.state_dict())
    state = o.state_dict()
    del state["param_groups"][0]["amsgrad"]  # a state saved before a hyper-parameter existed
    o2.load_state_dict(state)
    assert o2.param_groups[0]["amsgrad"] is False
    assert S.StepLR(_opt(), step_size=1, gamma=1).step_size == 1
    assert S.MultiStepLR(_opt(), milestones=(2, 4)).milestones[2] == 1
    assert S.warmup_cosine(_opt(), warmup_steps=0, total_steps=1) is not None


def test_betas_must_be_a_pair():
    check(
        lambda: optim.Adam(_params(), betas=(0.9,)),
        ValueError,
        r"Adam: betas must be a pair of "
        r"numbers, got \(0\.9,\)",
    )
