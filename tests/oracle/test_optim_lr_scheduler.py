"""LR schedulers against PyTorch: the lr of every parameter group (and OneCycle's momentum) over
~30 steps, alone and chained (two schedulers stepping the same optimizer)."""
from __future__ import annotations

import numpy as np
import pytest

import gradus
from gradus import optim

# torch warns when an optimizer steps without gradients, which is all these tests do
pytestmark = [pytest.mark.oracle, pytest.mark.filterwarnings("ignore::UserWarning")]

STEPS = 30


def _lam(epoch):
    return 0.95 ** epoch + (0.5 if epoch % 7 == 0 else 0.0)


# each case: list of (scheduler name, kwargs) stepped together, and the optimizer to use
CASES = {
    "step": [("StepLR", dict(step_size=4, gamma=0.5))],
    "multistep": [("MultiStepLR", dict(milestones=[3, 8, 8, 20], gamma=0.3))],
    "exponential": [("ExponentialLR", dict(gamma=0.9))],
    "cosine": [("CosineAnnealingLR", dict(T_max=10, eta_min=0.001))],  # 30 steps: past T_max, rises again
    "cosine_long": [("CosineAnnealingLR", dict(T_max=40))],
    "lambda": [("LambdaLR", dict(lr_lambda=_lam))],
    "linear": [("LinearLR", dict(start_factor=0.25, end_factor=0.9, total_iters=12))],
    "linear_default": [("LinearLR", dict())],
    "onecycle_cos": [("OneCycleLR", dict(max_lr=[1.0, 0.5], total_steps=STEPS + 1))],
    "onecycle_linear": [("OneCycleLR", dict(max_lr=0.8, total_steps=STEPS + 1, anneal_strategy="linear",
                                            pct_start=0.25, div_factor=10.0, final_div_factor=100.0))],
    "onecycle_three_phase": [("OneCycleLR", dict(max_lr=1.0, total_steps=STEPS + 1, three_phase=True,
                                                 pct_start=0.2))],
    "onecycle_no_momentum": [("OneCycleLR", dict(max_lr=1.0, epochs=3, steps_per_epoch=11,
                                                 cycle_momentum=False))],
    "chain_step_exp": [("StepLR", dict(step_size=5, gamma=0.5)), ("ExponentialLR", dict(gamma=0.95))],
    "chain_linear_cosine": [("LinearLR", dict(start_factor=0.1, total_iters=5)),
                            ("CosineAnnealingLR", dict(T_max=30, eta_min=0.0))],
    "chain_multistep_cosine": [("MultiStepLR", dict(milestones=[10, 20], gamma=0.5)),
                               ("CosineAnnealingLR", dict(T_max=7, eta_min=0.01))],
}


def _lrs(opt, sched):
    # get_last_lr() must agree with the groups; momentum and betas show OneCycle's cycling
    groups = opt.param_groups
    rec = [g["lr"] for g in groups] + [g.get("momentum", g.get("betas", (0,))[0]) for g in groups]
    assert sched.get_last_lr() == [g["lr"] for g in groups]
    return rec


def _run(lib, case, adam=False):
    params = [lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)]
    spec = [dict(params=[params[0]], lr=0.1), dict(params=[params[1]], lr=0.05)]
    mod = optim if lib is gradus else lib.optim
    opt = mod.Adam(spec) if adam else mod.SGD(spec, momentum=0.9)
    scheds = [getattr(mod.lr_scheduler, name)(opt, **kw) for name, kw in case]
    out = [_lrs(opt, scheds[-1])]
    for _ in range(STEPS):
        opt.step()
        for s in scheds:
            s.step()
        out.append(_lrs(opt, scheds[-1]))
    return np.array(out)


@pytest.mark.parametrize("case", list(CASES))
def test_sequence_matches_torch(torch, case):
    ours = _run(gradus, CASES[case])
    ref = _run(torch, CASES[case])
    assert np.ptp(ref[:, 0]) > 0, "the reference lr never changed: the test would prove nothing"
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-15)


def test_onecycle_cycles_adam_beta1_like_torch(torch):
    """With Adam, OneCycle cycles beta1; both raise once stepped past total_steps."""
    case = [("OneCycleLR", dict(max_lr=0.01, total_steps=STEPS))]
    ours, ref = _run_limited(gradus, case, STEPS - 1), _run_limited(torch, case, STEPS - 1)
    np.testing.assert_allclose(ours, ref, rtol=1e-12)


def _run_limited(lib, case, steps):
    params = [lib.zeros(2, requires_grad=True)]
    mod = optim if lib is gradus else lib.optim
    opt = mod.Adam(params)
    s = getattr(mod.lr_scheduler, case[0][0])(opt, **case[0][1])
    out = []
    for _ in range(steps):
        opt.step()
        s.step()
        out.append([opt.param_groups[0]["lr"], opt.param_groups[0]["betas"][0]])
    with pytest.raises(ValueError, match="Tried to step"):
        opt.step()
        s.step()
        s.step()
    return np.array(out)


@pytest.mark.parametrize("threshold_mode", ["rel", "abs"])
@pytest.mark.parametrize("mode", ["min", "max"])
def test_reduce_on_plateau_matches_torch(torch, mode, threshold_mode):
    rng = np.random.default_rng(0)
    metrics = np.concatenate([np.linspace(1.0, 0.5, 8), 0.5 + 0.01 * rng.standard_normal(30)])
    if mode == "max":
        metrics = -metrics
    res = []
    for lib in (gradus, torch):
        params = [lib.zeros(2, requires_grad=True), lib.zeros(1, requires_grad=True)]
        mod = optim if lib is gradus else lib.optim
        opt = mod.SGD([dict(params=[params[0]], lr=1.0), dict(params=[params[1]], lr=0.1)])
        s = mod.lr_scheduler.ReduceLROnPlateau(opt, mode=mode, factor=0.5, patience=2, threshold=0.01,
                                               threshold_mode=threshold_mode, cooldown=1, min_lr=[0.05, 0.02])
        lrs = []
        for m in metrics:
            s.step(float(m))
            lrs.append(s.get_last_lr() + [s.num_bad_epochs, s.cooldown_counter, s.best])
        res.append(np.array(lrs))
    assert np.ptp(res[1][:, 0]) > 0
    np.testing.assert_allclose(res[0], res[1], rtol=1e-12)
