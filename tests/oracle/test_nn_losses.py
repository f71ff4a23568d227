"""Every loss against PyTorch, with every reduction and option: forward value and gradients with
respect to the input (and to the target where PyTorch differentiates it), float64, 1e-6 relative."""
from __future__ import annotations

import numpy as np
import pytest

import gradus
import gradus.functional as F
from gradus import nn

pytestmark = pytest.mark.oracle
REDUCTIONS = ["mean", "sum", "none"]


def rnd(*shape, seed=0, scale=1.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale


def compare(torch, g_fn, t_fn, x, target, grad_target=False, rtol=1e-6, atol=1e-9):
    """Run ``g_fn(input, target)`` and ``t_fn(...)``; compare values and gradients."""
    xt = torch.tensor(x, requires_grad=True)
    xg = gradus.tensor(x, requires_grad=True)
    float_target = np.asarray(target).dtype.kind == "f"
    tt = torch.tensor(target, requires_grad=grad_target and float_target)
    tg = gradus.tensor(target, requires_grad=grad_target and float_target)
    lt, lg = t_fn(xt, tt), g_fn(xg, tg)
    assert tuple(lg.shape) == tuple(lt.shape)
    np.testing.assert_allclose(lg.numpy(), lt.detach().numpy(), rtol=rtol, atol=atol)
    G = rnd(*lt.shape, seed=7) if lt.ndim else np.array(1.3)
    lt.backward(torch.tensor(G))
    lg.backward(gradus.tensor(G))
    np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), rtol=rtol, atol=atol)
    if grad_target and float_target:
        np.testing.assert_allclose(tg.grad.numpy(), tt.grad.numpy(), rtol=rtol, atol=atol)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
def test_regression(torch, name, reduction):
    x, y = rnd(4, 5), rnd(4, 5, seed=1)
    compare(torch, lambda a, b: getattr(F, name)(a, b, reduction=reduction),
            lambda a, b: getattr(torch.nn.functional, name)(a, b, reduction=reduction), x, y,
            grad_target=True)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("beta", [1.0, 0.5, 0.0])
def test_smooth_l1(torch, reduction, beta):
    x, y = rnd(6, 5, scale=2), rnd(6, 5, seed=1)
    compare(torch, lambda a, b: F.smooth_l1_loss(a, b, reduction=reduction, beta=beta),
            lambda a, b: torch.nn.functional.smooth_l1_loss(a, b, reduction=reduction, beta=beta), x, y,
            grad_target=True)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("delta", [1.0, 0.3, 2.5])
def test_huber(torch, reduction, delta):
    x, y = rnd(6, 5, scale=2), rnd(6, 5, seed=1)
    compare(torch, lambda a, b: F.huber_loss(a, b, reduction=reduction, delta=delta),
            lambda a, b: torch.nn.functional.huber_loss(a, b, reduction=reduction, delta=delta), x, y,
            grad_target=True)


# -- cross-entropy ----------------------------------------------------------------------------------
CE_CASES = [
    dict(),
    dict(weight=True),
    dict(ignore_index=1),
    dict(ignore_index=1, weight=True),
    dict(label_smoothing=0.1),
    dict(label_smoothing=0.2, weight=True),
    dict(label_smoothing=0.15, weight=True, ignore_index=2),
]


def _ce_kwargs(lib, case, C):
    kw = {k: v for k, v in case.items() if k != "weight"}
    if case.get("weight"):
        w = np.linspace(0.5, 2.0, C)
        kw["weight"] = lib.tensor(w)
    return kw


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CE_CASES, ids=[str(c) for c in CE_CASES])
@pytest.mark.parametrize("shape", [(6, 5), (3, 5, 2, 2), (5,)], ids=["2d", "4d", "unbatched"])
def test_cross_entropy_class_indices(torch, case, reduction, shape):
    C = shape[0] if len(shape) == 1 else shape[1]
    x = rnd(*shape, scale=3)
    tshape = () if len(shape) == 1 else (shape[0],) + shape[2:]
    y = np.random.default_rng(3).integers(0, C, tshape)
    if "ignore_index" in case and len(shape) > 1:
        y.reshape(-1)[::3] = case["ignore_index"]
    compare(torch, lambda a, b: F.cross_entropy(a, b, reduction=reduction, **_ce_kwargs(gradus, case, C)),
            lambda a, b: torch.nn.functional.cross_entropy(a, b, reduction=reduction,
                                                           **_ce_kwargs(torch, case, C)), x, y)
    # the composed twin (log_softmax + nll_loss) agrees as well
    xg = gradus.tensor(x)
    fused = F.cross_entropy(xg, gradus.tensor(y), reduction=reduction, **_ce_kwargs(gradus, case, C))
    composed = F.loss._cross_entropy_composed(xg, gradus.tensor(y), reduction=reduction,
                                              **_ce_kwargs(gradus, case, C))
    np.testing.assert_allclose(fused.numpy(), composed.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", [dict(), dict(weight=True), dict(label_smoothing=0.1),
                                  dict(weight=True, label_smoothing=0.3)], ids=str)
@pytest.mark.parametrize("shape", [(6, 5), (2, 5, 3)], ids=["2d", "3d"])
def test_cross_entropy_probabilities(torch, case, reduction, shape):
    C = shape[1]
    x = rnd(*shape, scale=2)
    p = np.exp(rnd(*shape, seed=4))
    p /= p.sum(axis=1, keepdims=True)
    compare(torch, lambda a, b: F.cross_entropy(a, b, reduction=reduction, **_ce_kwargs(gradus, case, C)),
            lambda a, b: torch.nn.functional.cross_entropy(a, b, reduction=reduction,
                                                           **_ce_kwargs(torch, case, C)), x, p)


def test_cross_entropy_huge_logits_and_float32(torch):
    x = np.array([[1e4, 0.0, -1e4], [-5e3, 5e3, 5e3], [88.0, 89.0, 90.0]])
    y = np.array([1, 2, 0])
    compare(torch, F.cross_entropy, torch.nn.functional.cross_entropy, x, y)
    x32 = rnd(128, 10, scale=4).astype(np.float32)
    y32 = np.random.default_rng(0).integers(0, 10, 128)
    compare(torch, F.cross_entropy, torch.nn.functional.cross_entropy, x32, y32, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", [dict(), dict(weight=True), dict(ignore_index=0),
                                  dict(weight=True, ignore_index=3)], ids=str)
@pytest.mark.parametrize("shape", [(7, 4), (2, 4, 3)], ids=["2d", "3d"])
def test_nll_loss(torch, case, reduction, shape):
    C = shape[1]
    x = np.log(np.random.default_rng(1).dirichlet(np.ones(C), size=int(np.prod(shape)) // C))
    x = np.moveaxis(x.reshape((shape[0],) + shape[2:] + (C,)), -1, 1).copy()
    y = np.random.default_rng(2).integers(0, C, (shape[0],) + shape[2:])
    compare(torch, lambda a, b: F.nll_loss(a, b, reduction=reduction, **_ce_kwargs(gradus, case, C)),
            lambda a, b: torch.nn.functional.nll_loss(a, b, reduction=reduction,
                                                      **_ce_kwargs(torch, case, C)),
            x, y)


# -- binary ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_bce(torch, reduction, weighted):
    x = np.random.default_rng(0).uniform(0.02, 0.98, (5, 3))
    y = np.random.default_rng(1).uniform(0, 1, (5, 3))
    w = rnd(3, seed=2) ** 2 + 0.1

    def g(a, b):
        wg = gradus.tensor(w) if weighted else None
        return F.binary_cross_entropy(a, b, weight=wg, reduction=reduction)

    def t(a, b):
        return torch.nn.functional.binary_cross_entropy(a, b, weight=torch.tensor(w) if weighted else None,
                                                        reduction=reduction)

    compare(torch, g, t, x, y, grad_target=True)


def test_bce_clamps_log_at_saturation(torch):
    x = np.array([0.0, 1.0, 0.5, 1e-50])
    y = np.array([1.0, 0.0, 1.0, 1.0])
    compare(torch, lambda a, b: F.binary_cross_entropy(a, b, reduction="none"),
            lambda a, b: torch.nn.functional.binary_cross_entropy(a, b, reduction="none"), x, y)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", ["plain", "weight", "pos_weight", "both"])
def test_bce_with_logits(torch, reduction, opts):
    x = rnd(6, 4, scale=5)
    x[0, 0], x[0, 1], x[1, 0] = 0.0, 200.0, -300.0  # stable at extreme logits
    y = (np.random.default_rng(1).uniform(size=(6, 4)) > 0.5).astype(np.float64)
    w, pw = rnd(4, seed=2) ** 2 + 0.1, np.array([0.5, 1.0, 2.0, 3.0])

    def kw(lib):
        d = {}
        if opts in ("weight", "both"):
            d["weight"] = lib.tensor(w)
        if opts in ("pos_weight", "both"):
            d["pos_weight"] = lib.tensor(pw)
        return d

    compare(torch, lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction, **kw(gradus)),
            lambda a, b: torch.nn.functional.binary_cross_entropy_with_logits(a, b, reduction=reduction,
                                                                              **kw(torch)),
            x, y, grad_target=True)


@pytest.mark.parametrize("reduction", ["mean", "batchmean", "sum", "none"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(torch, reduction, log_target):
    rng = np.random.default_rng(0)
    inp = np.log(rng.dirichlet(np.ones(5), size=4))
    tgt = rng.dirichlet(np.ones(5), size=4)
    if log_target:
        tgt = np.log(tgt)

    def g(a, b):
        return F.kl_div(a, b, reduction=reduction, log_target=log_target)

    def t(a, b):
        return torch.nn.functional.kl_div(a, b, reduction=reduction, log_target=log_target)

    with pytest.warns(UserWarning) if reduction == "mean" else _nullcontext():  # PyTorch warns about 'mean'
        compare(torch, g, t, inp, tgt, grad_target=True)
    if not log_target:
        # a zero probability contributes 0 (not NaN) to the loss and to the input's gradient; PyTorch's
        # gradient w.r.t. that target entry is NaN (xlogy at 0), so only the input's gradient is compared
        tgt[0, 1] = 0.0
        with pytest.warns(UserWarning) if reduction == "mean" else _nullcontext():
            compare(torch, g, t, inp, tgt)


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


# -- module forms ------------------------------------------------------------------------------------
MODULES = [
    ("MSELoss", {}, "reg"), ("L1Loss", {"reduction": "sum"}, "reg"), ("SmoothL1Loss", {"beta": 0.5}, "reg"),
    ("HuberLoss", {"delta": 0.7}, "reg"), ("CrossEntropyLoss", {"label_smoothing": 0.1}, "cls"),
    ("CrossEntropyLoss", {"weight": True, "ignore_index": 0}, "cls"), ("NLLLoss", {"weight": True}, "logp"),
    ("BCELoss", {}, "prob"), ("BCEWithLogitsLoss", {"pos_weight": True}, "bin"),
    ("KLDivLoss", {"reduction": "batchmean"}, "kl"),
]


@pytest.mark.parametrize("name,kw,kind", MODULES, ids=[m[0] + str(m[1]) for m in MODULES])
def test_loss_modules(torch, name, kw, kind):
    rng = np.random.default_rng(0)
    C = 4

    def make(lib):
        k = dict(kw)
        if k.get("weight") is True:
            k["weight"] = lib.tensor(np.linspace(0.5, 2, C))
        if k.get("pos_weight") is True:
            k["pos_weight"] = lib.tensor(np.linspace(0.5, 2, C))
        return getattr(lib.nn, name)(**k)

    x = {"reg": rnd(5, C), "cls": rnd(5, C), "logp": np.log(rng.dirichlet(np.ones(C), 5)),
         "prob": rng.uniform(0.1, 0.9, (5, C)), "bin": rnd(5, C),
         "kl": np.log(rng.dirichlet(np.ones(C), 5))}[kind]
    y = {"reg": rnd(5, C, seed=1), "cls": rng.integers(0, C, 5), "logp": rng.integers(0, C, 5),
         "prob": rng.uniform(0, 1, (5, C)), "bin": (rng.uniform(size=(5, C)) > 0.5) * 1.0,
         "kl": rng.dirichlet(np.ones(C), 5)}[kind]
    g, t = make(gradus), make(torch)
    assert repr(g) == repr(t)
    assert list(g.state_dict()) == list(t.state_dict())
    compare(torch, g, t, x, y)


def test_cross_entropy_label_errors():
    x = gradus.randn(4, 10)
    with pytest.raises(IndexError, match=r"label 10 is out of range for 10 classes"):
        F.cross_entropy(x, gradus.tensor([1, 2, 10, 3]))
    with pytest.raises(IndexError, match=r"label -3"):
        nn.CrossEntropyLoss()(x, gradus.tensor([1, 2, -3, 3]))
    with pytest.raises(ValueError, match=r"batch size mismatch.*\(4, 10\).*\(5,\)"):
        F.cross_entropy(x, gradus.tensor([1, 2, 3, 4, 5]))
    with pytest.raises(TypeError, match="integers"):
        F.cross_entropy(x, gradus.tensor([1.0, 2.0, 3.0, 4.0]))
    # ignore_index labels are exempt from the range check
    assert np.isfinite(F.cross_entropy(x, gradus.tensor([1, -100, 2, 3])).item())
