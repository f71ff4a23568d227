"""LR schedulers: closed forms, warmup_cosine, ReduceLROnPlateau's rules, state_dict resume.
(tests/oracle/test_optim_lr_scheduler.py compares whole sequences with PyTorch.)"""
from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

import gradus
from gradus import optim
from gradus.optim import flatten_state, lr_scheduler, unflatten_state


def _opt(lrs=(0.1,), cls=optim.SGD, **kw):
    groups = [dict(params=[gradus.zeros(2, requires_grad=True)], lr=lr) for lr in lrs]
    return cls(groups, **kw) if cls is not optim.SGD else cls(groups, momentum=0.9, **kw)


def _sequence(opt, sched, n):
    out = []
    for _ in range(n):
        out.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    return out


def test_step_multistep_exponential_closed_forms():
    opt = _opt()
    s = lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    np.testing.assert_allclose(_sequence(opt, s, 10), [0.1 * 0.5 ** (e // 3) for e in range(10)], rtol=1e-12)
    opt = _opt()
    s = lr_scheduler.MultiStepLR(opt, milestones=[2, 5, 5], gamma=0.1)
    np.testing.assert_allclose(_sequence(opt, s, 7), [0.1, 0.1, 0.01, 0.01, 0.01, 1e-4, 1e-4], rtol=1e-9)
    opt = _opt()
    s = lr_scheduler.ExponentialLR(opt, gamma=0.9)
    np.testing.assert_allclose(_sequence(opt, s, 8), [0.1 * 0.9 ** e for e in range(8)], rtol=1e-12)


def test_cosine_linear_lambda_closed_forms():
    opt = _opt()
    s = lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0.01)
    expected = [0.01 + 0.09 * (1 + math.cos(math.pi * e / 10)) / 2 for e in range(11)]
    np.testing.assert_allclose(_sequence(opt, s, 11), expected, rtol=1e-10)
    opt = _opt()
    s = lr_scheduler.LinearLR(opt, start_factor=0.2, end_factor=1.0, total_iters=4)
    np.testing.assert_allclose(_sequence(opt, s, 7), [0.02, 0.04, 0.06, 0.08, 0.1, 0.1, 0.1], rtol=1e-10)
    opt = _opt((0.1, 1.0))
    s = lr_scheduler.LambdaLR(opt, [lambda e: 1 / (e + 1), lambda e: 2.0 ** -e])
    for e in range(4):
        np.testing.assert_allclose(s.get_last_lr(), [0.1 / (e + 1), 2.0 ** -e], rtol=1e-12)
        opt.step()
        s.step()


@pytest.mark.parametrize("three_phase", [False, True])
@pytest.mark.parametrize("anneal", ["cos", "linear"])
def test_one_cycle_endpoints(three_phase, anneal):
    opt = _opt()
    n = 20
    s = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=n, pct_start=0.25, anneal_strategy=anneal,
                                three_phase=three_phase)
    lrs, moms = [], []
    for _ in range(n):
        lrs.append(s.get_last_lr()[0])
        moms.append(opt.param_groups[0]["momentum"])
        opt.step()
        if len(lrs) < n:
            s.step()
    assert lrs[0] == pytest.approx(1.0 / 25)            # max_lr / div_factor
    assert max(lrs) == pytest.approx(1.0) and int(np.argmax(lrs)) == 4  # peak at pct_start * n - 1
    assert lrs[-1] == pytest.approx(1.0 / 25 / 1e4)     # initial_lr / final_div_factor
    assert moms[0] == pytest.approx(0.95) and moms[4] == pytest.approx(0.85)  # momentum mirrors the lr
    if three_phase:
        assert lrs[8] == pytest.approx(1.0 / 25)         # back at initial_lr after 2 * pct_start * n - 2
    with pytest.raises(ValueError, match="Tried to step"):
        s.step()
        s.step()


def test_one_cycle_requires_momentum_and_valid_args():
    with pytest.raises(ValueError, match="momentum or beta1"):
        lr_scheduler.OneCycleLR(_opt(cls=optim.Adagrad), max_lr=1.0, total_steps=10)
    with pytest.raises(ValueError, match="total_steps"):
        lr_scheduler.OneCycleLR(_opt(), max_lr=1.0)
    with pytest.raises(ValueError, match="pct_start"):
        lr_scheduler.OneCycleLR(_opt(), max_lr=1.0, total_steps=10, pct_start=1.5)
    opt = _opt(cls=optim.Adam)
    lr_scheduler.OneCycleLR(opt, max_lr=0.01, total_steps=10)
    assert opt.param_groups[0]["betas"] == (0.95, 0.999)


def test_warmup_cosine_formula_and_multi_group_min_lr():
    opt = _opt((1.0, 0.1))
    s = lr_scheduler.warmup_cosine(opt, warmup_steps=4, total_steps=12, min_lr=0.01)
    seq = []
    for _ in range(15):
        seq.append(s.get_last_lr())
        opt.step()
        s.step()
    seq = np.array(seq)
    for base, col in ((1.0, 0), (0.1, 1)):
        expected = [base * (e + 1) / 4 if e < 4 else
                    0.01 + (base - 0.01) * 0.5 * (1 + math.cos(math.pi * min(1.0, (e - 4) / 8)))
                    for e in range(15)]
        np.testing.assert_allclose(seq[:, col], expected, rtol=1e-12)
    assert seq[3, 0] == pytest.approx(1.0) and seq[12:, 1] == pytest.approx(0.01)
    with pytest.raises(ValueError, match="warmup_steps"):
        lr_scheduler.warmup_cosine(_opt(), warmup_steps=5, total_steps=3)
    with pytest.raises(ValueError, match="min_lr"):
        lr_scheduler.warmup_cosine(_opt((0.1,)), warmup_steps=1, total_steps=3, min_lr=0.5)


def test_reduce_on_plateau_patience_cooldown_min_lr():
    opt = _opt((1.0,))
    s = lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2, cooldown=1, min_lr=0.3)
    lrs = []
    for m in [1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.5]:
        s.step(m)
        lrs.append(s.get_last_lr()[0])
    # 3 epochs without improvement (> patience 2) halve the lr; 1 cooldown epoch; then the floor
    assert lrs == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.3, 0.3, 0.3, 0.3]
    s.step(gradus.tensor(0.1))  # a 0-d tensor metric works
    with pytest.raises(ValueError, match="Factor"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode"):
        lr_scheduler.ReduceLROnPlateau(opt, mode="best")


class _Scale:
    """A callable object: its attributes are saved in LambdaLR's state_dict."""

    def __init__(self, k):
        self.k = k

    def __call__(self, epoch):
        return self.k ** epoch


SCHEDULERS = {
    "step": lambda o: lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
    "multistep": lambda o: lr_scheduler.MultiStepLR(o, milestones=[4, 12, 12], gamma=0.5),
    "exponential": lambda o: lr_scheduler.ExponentialLR(o, gamma=0.9),
    "cosine": lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=7, eta_min=0.001),
    "linear": lambda o: lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=15),
    "lambda": lambda o: lr_scheduler.LambdaLR(o, _Scale(0.9)),
    "onecycle": lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.5, total_steps=25, three_phase=True),
    "warmup_cosine": lambda o: lr_scheduler.warmup_cosine(o, 5, 20, min_lr=0.001),
}


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_state_dict_resume_continues_the_sequence(name):
    """Save optimizer + scheduler after 10 steps (as arrays + strict JSON), rebuild both, load,
    continue: the same lrs (and momenta) as an uninterrupted run."""
    def run(opt, sched, n):
        out = []
        for _ in range(n):
            opt.step()
            sched.step()
            out.append(sched.get_last_lr() + [opt.param_groups[0]["momentum"]])
        return out

    opt = _opt((0.1, 0.05))
    ref = run(opt, SCHEDULERS[name](opt), 20)

    opt = _opt((0.1, 0.05))
    sched = SCHEDULERS[name](opt)
    run(opt, sched, 10)
    saved = []
    for sd in (opt.state_dict(), sched.state_dict()):
        arrays, meta = flatten_state(sd)
        saved.append(unflatten_state(arrays, json.loads(json.dumps(meta, allow_nan=False))))

    opt2 = _opt((0.7, 0.7))
    sched2 = SCHEDULERS[name](opt2)  # construct the scheduler first, then load (PyTorch's order)
    opt2.load_state_dict(saved[0])
    sched2.load_state_dict(saved[1])
    np.testing.assert_allclose(run(opt2, sched2, 10), ref[10:], rtol=1e-12)


def test_reduce_on_plateau_state_roundtrip_with_infinite_best():
    opt = _opt()
    s = lr_scheduler.ReduceLROnPlateau(opt, mode="max")
    arrays, meta = flatten_state(s.state_dict())
    back = unflatten_state(arrays, json.loads(json.dumps(meta, allow_nan=False)))
    s2 = lr_scheduler.ReduceLROnPlateau(_opt())
    s2.load_state_dict(back)
    assert s2.best == -math.inf and s2.mode == "max"


def test_epoch_argument_is_deprecated_and_uses_closed_form():
    opt = _opt()
    s = lr_scheduler.StepLR(opt, step_size=2, gamma=0.1)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        s.step(5)
    assert any("deprecated" in str(x.message) for x in w)
    assert s.get_last_lr()[0] == pytest.approx(0.1 * 0.1 ** 2)


def test_scheduler_errors():
    with pytest.raises(TypeError, match="not an Optimizer"):
        lr_scheduler.StepLR(object(), step_size=1)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(_opt(), step_size=1, last_epoch=3)
    with pytest.raises(ValueError, match="lr_lambdas"):
        lr_scheduler.LambdaLR(_opt((0.1, 0.2)), [lambda e: 1.0])
