"""Every primitive against PyTorch 2.13: the same lambda runs on gradus and on torch tensors;
forward values (and dtypes) and the gradients of all inputs must agree, in float64 and float32.

The lambdas take ``L`` first: ``gradus`` or a torch namespace that also exposes
``torch.nn.functional``'s ``pad``/``one_hot``/``embedding``, so ``L.pad(x, ...)`` reads the same in both.
Explicit inputs pin PyTorch's conventions at non-differentiable points: max over all dims splits
the gradient among ties, maximum splits ties in half, clamp's gradient is 1 at the bounds, relu'(0)
= 0, |x|'(0) = 0, pow's exponent gradient is 0 at base 0, std/var default to correction=1.
"""
from __future__ import annotations

import numpy as np
import pytest

import gradus

pytestmark = pytest.mark.oracle


class _TorchLib:
    """``torch`` plus the functional ops gradus has at top level."""

    def __init__(self, torch):
        self._torch = torch

    def __getattr__(self, name):
        if name in ("pad", "one_hot", "embedding"):
            return getattr(self._torch.nn.functional, name)
        return getattr(self._torch, name)


def _gen(spec, rng):
    """An input: an explicit array, a shape (standard normal) or (kind, shape)."""
    if isinstance(spec, np.ndarray):
        return spec.astype(np.float64)
    kind, shape = spec if (len(spec) == 2 and isinstance(spec[0], str)) else ("normal", spec)
    if kind == "normal":
        return rng.standard_normal(shape)
    if kind == "pos":
        return rng.uniform(0.5, 2.0, shape)
    if kind == "nz":
        return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.3, 1.5, shape)
    if kind == "distinct":
        n = int(np.prod(shape))
        return (rng.permutation(n) * 0.25 + rng.uniform(-0.02, 0.02, n)).reshape(shape) - 0.125 * n
    raise ValueError(kind)


def _flat(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def check_op(torch, fn, specs, dtype, rtol=None, atol=None, seed=0):
    """Run ``fn(L, *inputs)`` in both frameworks; compare outputs and all input gradients."""
    rng = np.random.default_rng(seed)
    arrays = [_gen(s, rng).astype(dtype) for s in specs]
    if rtol is None:
        rtol, atol = (1e-7, 1e-9) if dtype == np.float64 else (1e-5, 1e-5)
    xs = [gradus.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    ys, yts = _flat(fn(gradus, *xs)), _flat(fn(_TorchLib(torch), *ts))
    assert len(ys) == len(yts)
    gos = []
    for k, (y, yt) in enumerate(zip(ys, yts)):
        e = yt.detach().numpy()
        assert y.shape == e.shape, f"output {k}: shape {y.shape} vs torch {e.shape}"
        assert y.dtype == e.dtype, f"output {k}: dtype {y.dtype} vs torch {e.dtype}"
        np.testing.assert_allclose(y.numpy(), e, rtol=rtol, atol=atol, err_msg=f"output {k}")
        if y.requires_grad:
            assert yt.requires_grad, f"output {k} requires grad in gradus but not in torch"
            gos.append((y, yt, rng.standard_normal(e.shape).astype(dtype)))
    if not gos:
        return
    loss = sum((y * gradus.tensor(g)).sum() for y, _, g in gos)
    loss_t = sum((yt * torch.tensor(g)).sum() for _, yt, g in gos)
    gx = gradus.autograd.grad(loss, xs, allow_unused=True)
    gt = torch.autograd.grad(loss_t, ts, allow_unused=True)
    for k, (a, b, x) in enumerate(zip(gx, gt, xs)):
        a = np.zeros(x.shape, dtype) if a is None else a.numpy()
        b = np.zeros(x.shape, dtype) if b is None else b.numpy()
        assert a.shape == x.shape and a.dtype == x.dtype, f"grad {k}: {a.shape} {a.dtype}"
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"gradient of input {k}")


# (id, fn(L, *inputs), input specs[, dict(rtol=..., atol=...) for float32])
TIES = np.array([[1.0, 3.0, 3.0], [2.0, 3.0, 0.0]])
BCAST = [((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3)), ((2, 1, 3), (4, 1))]
MASK = np.array([[True, False, True], [False, False, True]])
IDX = np.array([0, 2, 2, 1, 0])
GIDX = np.array([[0, 0, 2], [1, 1, 1]])

CASES = [
    # arithmetic and broadcasting
    *[(f"add{i}", lambda L, a, b: a + b, s) for i, s in enumerate(BCAST)],
    *[(f"sub{i}", lambda L, a, b: a - b, s) for i, s in enumerate(BCAST)],
    *[(f"mul{i}", lambda L, a, b: a * b, s) for i, s in enumerate(BCAST)],
    *[(f"div{i}", lambda L, a, b: a / b, (s[0], ("nz", s[1]))) for i, s in enumerate(BCAST)],
    ("add_alpha", lambda L, a, b: L.add(a, b, alpha=2), ((2, 3), (3,))),
    ("sub_alpha", lambda L, a, b: L.sub(a, b, alpha=0.5), ((2, 3), (3,))),
    ("neg", lambda L, x: -x, ((2, 3),)),
    ("fmod_remainder", lambda L, a, b: (L.fmod(a, b), a.fmod(b), L.remainder(a, b), a.remainder(b), a % b,
                                        L.fmod(a, 1.5), a % -1.5),
     (np.array([-3.5, 3.5, -2.2, 7.1, -0.4, 0.3]), np.array([2.0, -2.0, 0.7, -1.3, 0.9, -0.8]))),
    ("scalars", lambda L, x: (2.0 - x, 3.0 / x, x / 4, 0.5 * x, x + 1, 1 + x, x - 2), (("nz", (2, 3)),)),
    ("rpow", lambda L, x: 2.0 ** x, ((2, 3),)),
    ("pow", lambda L, a, b: a ** b, (("pos", (2, 3)), (3,))),
    ("pow_fn", lambda L, a, b: L.pow(a, b), (("pos", (2, 3)), (2, 1))),
    ("pow_base0", lambda L, a, b: a ** b, (np.array([0.0, 0.0, 0.0, 2.0]), np.array([0.0, 2.0, 0.5, 0.5]))),
    *[(f"pow_{e}", lambda L, x, e=e: x ** e, (("nz", (2, 3)),)) for e in (2, 3, 1, 0, -1, -2)],
    *[(f"pow_{e}", lambda L, x, e=e: x ** e, (("pos", (2, 3)),)) for e in (0.5, 1.5, -2.5)],
    ("pow_at_0", lambda L, x: (x ** 2, x ** 3, x ** 1.5), (np.array([0.0, 1.0, 2.0]),)),
    # unary math
    ("exp", lambda L, x: x.exp(), ((2, 3),)),
    ("log", lambda L, x: L.log(x), (("pos", (2, 3)),)),
    ("log1p", lambda L, x: x.log1p(), (("pos", (2, 3)),)),
    ("sqrt", lambda L, x: L.sqrt(x), (("pos", (2, 3)),)),
    ("abs", lambda L, x: x.abs(), (np.array([-1.5, 0.0, 2.0, -0.3]),)),
    ("sign", lambda L, x: L.sign(x), (np.array([-1.5, 0.0, 2.0]),)),
    ("sin", lambda L, x: x.sin(), ((2, 3),)),
    ("cos", lambda L, x: L.cos(x), ((2, 3),)),
    ("tanh", lambda L, x: x.tanh(), ((2, 3),)),
    ("sigmoid", lambda L, x: L.sigmoid(x), (np.array([-40.0, -3.0, 0.0, 0.5, 3.0, 40.0]),)),
    ("relu", lambda L, x: L.relu(x), (np.array([-1.0, 0.0, 0.5, 2.0]),)),
    ("relu_method", lambda L, x: x.relu(), ((2, 3),)),
    ("square_rsqrt", lambda L, x: (x.square(), x.rsqrt(), x.reciprocal()), (("pos", (3,)),)),
    # selection, with ties
    ("maximum", lambda L, a, b: L.maximum(a, b), ((2, 3), (3,))),
    ("minimum", lambda L, a, b: L.minimum(a, b), ((2, 1), (1, 3))),
    ("maximum_ties", lambda L, a, b: L.maximum(a, b), (np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 4.0]))),
    ("minimum_ties", lambda L, a, b: L.minimum(a, b), (np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 4.0]))),
    ("clamp", lambda L, x: x.clamp(-0.5, 0.5), ((3, 4),)),
    ("clamp_bounds", lambda L, x: (x.clamp(0.0, 1.0), L.clamp(x, min=0.0), L.clip(x, max=1.0)),
     (np.array([-1.0, 0.0, 0.5, 1.0, 2.0]),)),
    ("clamp_tensor", lambda L, x, lo, hi: x.clamp(lo, hi),
     (np.array([-1.0, 0.0, 0.5, 1.0, 2.0]), np.zeros(5), np.array([1.0, 1.0, 1.0, 1.0, 1.5]))),
    ("clamp_tensor_min", lambda L, x, lo: x.clamp(min=lo), ((2, 3), (3,))),
    ("where", lambda L, a, b: L.where(L.tensor(MASK), a, b), ((2, 3), (3,))),
    ("where_cond", lambda L, a, b: L.where(a > 0, a, b), ((2, 3), (2, 1))),
    ("where_scalar", lambda L, a: L.where(a > 0, a, 0.0), ((2, 3),)),
    ("masked_mul", lambda L, x: x * (x > 0), ((2, 3),)),
    ("masked_fill", lambda L, x: x.masked_fill(L.tensor(MASK), -2.0), ((2, 3),)),
    ("masked_fill_bcast", lambda L, x: x.masked_fill(L.tensor([True, False, True]), 0.5), ((4, 3),)),
    # reductions
    ("sum", lambda L, x: (x.sum(), x.sum(0), x.sum(-1, keepdim=True), x.sum((0, 2))), ((2, 3, 4),)),
    ("sum_0d", lambda L, x: (x.sum(), x.sum(0), x.sum(-1, keepdim=True)), ((),)),
    ("mean", lambda L, x: (x.mean(), L.mean(x, 1), x.mean((0, 1), keepdim=True)), ((2, 3, 4),)),
    ("var", lambda L, x: (x.var(), x.var(1), x.var(0, keepdim=True), x.var(correction=0),
                          x.var(1, unbiased=False)), ((3, 4),)),
    ("std", lambda L, x: (x.std(), L.std(x, 1), x.std(0, keepdim=True), x.std((0, 1), correction=0)),
     ((3, 4),)),
    ("prod", lambda L, x: (x.prod(), x.prod(1), x.prod(0, keepdim=True)), (("nz", (3, 4)),)),
    ("prod_zeros", lambda L, x: (x.prod(), x.prod(1), x.prod(0)),
     (np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 1.5], [1.0, -2.0, 3.0]]),)),
    ("max_all", lambda L, x: (x.max(), x.min()), (("distinct", (3, 4)),)),
    ("max_all_ties", lambda L, x: x.max(), (TIES,)),
    ("min_all_ties", lambda L, x: x.min(), (np.array([[1.0, 0.0], [0.0, 0.0]]),)),
    ("max_dim_ties", lambda L, x: (*x.max(1), *x.min(1), x.argmax(1), x.argmin(0), *x.max(0)),
     (np.array([[1.0, 3.0, 3.0], [2.0, 3.0, 0.0], [5.0, 5.0, 5.0]]),)),
    ("max_dim", lambda L, x: (*x.max(1), *x.max(0, keepdim=True), *x.max(-1)), (("distinct", (3, 4)),)),
    ("min_dim", lambda L, x: (*x.min(1), *L.min(x, 0, keepdim=True)), (("distinct", (3, 4)),)),
    ("max_elementwise", lambda L, a, b: L.max(a, b), ((2, 3), (3,))),
    ("amax_ties", lambda L, x: (x.amax(1), L.amin(x, 0), x.amax((0, 1))), (TIES,)),
    ("argmax", lambda L, x: (x.argmax(), x.argmax(1), L.argmin(x, 0, keepdim=True), x.argmin()),
     (("distinct", (3, 4)),)),
    ("logsumexp", lambda L, x: (x.logsumexp(1), L.logsumexp(x, (0, 1)), x.logsumexp(0, keepdim=True)),
     ((3, 4),)),
    ("logsumexp_big", lambda L, x: x.logsumexp(-1), (np.array([[1000.0, 1001.0], [-1000.0, -999.0]]),)),
    ("cumsum", lambda L, x: (x.cumsum(0), L.cumsum(x, -1), x.cumsum(1)), ((3, 4),)),
    ("std_norm_at_zero", lambda L, x: (x.std(0), x.std(1, correction=0), x.norm(dim=0), (x - x).norm()),
     (np.array([[1.0, 0.0, 2.0], [1.0, 0.0, -2.0]]),)),
    ("norm", lambda L, x: (x.norm(), x.norm(dim=1), x.norm(p=1)), (("nz", (3, 4)),)),
    # matmul
    *[(f"matmul{i}", lambda L, a, b: a @ b, s) for i, s in enumerate([
        ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((2, 2, 3), (2, 3, 4)),
        ((2, 2, 3), (3, 4)), ((2, 3), (2, 3, 4)), ((2, 1, 2, 3), (3, 3, 2)), ((3,), (2, 3, 4)),
        ((2, 4, 3), (3,))])],
    ("matmul_fn", lambda L, a, b: (L.matmul(a, b), L.mm(a, b), a.mm(b)), ((2, 3), (3, 2))),
    ("bmm", lambda L, a, b: L.bmm(a, b), ((2, 2, 3), (2, 3, 2))),
    ("einsum", lambda L, a, b: L.einsum("bij,bjk->bik", a, b), ((2, 2, 3), (2, 3, 2))),
    # movement
    ("reshape", lambda L, x: (x.reshape(3, 2), x.reshape(-1), x.view(1, 6), L.reshape(x, (6, 1))), ((2, 3),)),
    ("transpose", lambda L, x: (x.transpose(0, 2), x.permute(1, 2, 0), x.mT, L.transpose(x, -1, 1)),
     ((2, 3, 4),)),
    ("T", lambda L, x: x.T, ((2, 3),)),
    ("squeeze", lambda L, x: (x.squeeze(), x.squeeze(0), x.squeeze(-1), x.squeeze(1)), ((1, 3, 1),)),
    ("unsqueeze", lambda L, x: (x.unsqueeze(0), L.unsqueeze(x, -1), x.unsqueeze(1)), ((2, 3),)),
    ("expand", lambda L, x: (x.expand(2, 4, 3), x.expand(-1, 3), L.broadcast_to(x, (2, 4, 3))), ((4, 1),)),
    ("flatten", lambda L, x: (x.flatten(), L.flatten(x, 1), x.flatten(0, 1)), ((2, 3, 4),)),
    ("cat", lambda L, a, b, c: (L.cat([a, b, c]), L.cat([a, b], 0)), ((1, 3), (2, 3), (3, 3))),
    ("cat_dim", lambda L, a, b: (L.cat((a, b), 1), L.cat([b, a], -1)), ((2, 1), (2, 3))),
    ("stack", lambda L, a, b: (L.stack([a, b]), L.stack([a, b], 1), L.stack([b, a], -1)), ((2, 3), (2, 3))),
    ("split", lambda L, x: (*x.split(2), *L.split(x, [1, 3], 1)), ((5, 4),)),
    ("chunk", lambda L, x: (*x.chunk(3), *L.chunk(x, 2, 1)), ((5, 4),)),
    ("unbind", lambda L, x: x.unbind(1), ((2, 3),)),
    ("pad_constant", lambda L, x: (L.pad(x, (1, 2)), L.pad(x, (1, 0, 2, 1), value=0.5), L.pad(x, (-1, 1))),
     ((2, 3, 4),)),
    *[(f"pad_{m}", lambda L, x, m=m: (L.pad(x[0], (2, 1), mode=m), L.pad(x, (1, 2, 2, 0), mode=m)),
       ((1, 2, 3, 4),)) for m in ("replicate", "reflect", "circular")],
    ("pad_reflect_1d", lambda L, x: L.pad(x, (3, 2), mode="reflect"), ((1, 2, 5),)),
    ("flip", lambda L, x: (x.flip(0), L.flip(x, (0, 2)), x.flip(-1)), ((2, 3, 4),)),
    ("repeat", lambda L, x: (x.repeat(2, 3), x.repeat(2, 1, 2)), ((2, 3),)),
    ("tile", lambda L, x: (x.tile((2,)), L.tile(x, (2, 1, 2))), ((2, 3),)),
    ("repeat_interleave", lambda L, x: (x.repeat_interleave(2, dim=0), x.repeat_interleave(3)), ((2, 3),)),
    ("triu", lambda L, x: (x.triu(), L.triu(x, 1), x.tril(), L.tril(x, -1)), ((2, 3, 4),)),
    ("movedim", lambda L, x: L.movedim(x, 0, -1), ((2, 3, 4),)),
    # indexing
    ("getitem_basic", lambda L, x: (x[1], x[-1, 0], x[1:], x[::2, 1:], x[None, :, None], x[..., 1],
                                    x[:, 1, None]), ((5, 3),)),
    ("getitem_0d", lambda L, x: (x[...], x[None]), ((),)),
    ("getitem_repeated", lambda L, x: (x[L.tensor(IDX)], x[[1, 1, 0]], x[:, [2, 2, 0]]), ((3, 3),)),
    ("getitem_arrays", lambda L, x: (x[[0, 0, 1], [2, 2, 0]], x[1:, None, [0, 0]]), ((3, 3),)),
    ("getitem_mask", lambda L, x: (x[L.tensor(MASK)], x[x > 0], x[L.tensor([True, False])]), ((2, 3),)),
    ("gather", lambda L, x: (x.gather(1, L.tensor(GIDX)), L.gather(x, 0, L.tensor(GIDX[:, :2]))), ((3, 3),)),
    ("take_along_dim", lambda L, x: (L.take_along_dim(x, L.tensor(GIDX), 1),
                                     L.take_along_dim(x, L.tensor(IDX))), ((2, 3),)),
    ("index_select", lambda L, x: (x.index_select(0, L.tensor(IDX)), L.index_select(x, 1, L.tensor(IDX))),
     ((3, 3),)),
    ("embedding", lambda L, w: L.embedding(L.tensor([[1, 3, 1], [0, 1, 2]]), w), ((4, 3),)),
    ("one_hot", lambda L, x: (L.one_hot(L.tensor(IDX), 4), L.one_hot(L.tensor([[0, 2], [1, 1]]))), ((1,),)),
    ("scatter_add", lambda L, x, s: L.scatter_add(x, 1, L.tensor(GIDX), s), ((2, 3), (2, 3))),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_op_matches_torch(torch, case, dtype):
    name, fn, specs = case[:3]
    check_op(torch, fn, specs, dtype)


def test_integer_bitwise_and_mod_match_torch(torch):
    """``&``, ``|``, ``^``, ``~`` are bitwise on integers and logical on bools; ``fmod`` has C's sign
    rule and ``remainder`` / ``%`` Python's, for integers too (``6 & 3 == 2``, ``fmod(-3, 2) == -1``)."""
    a, b = [6, -3, 5, 0, -8, 7], [3, 2, -2, 5, 3, -4]
    bools = ([True, True, False, False], [True, False, True, False])
    for dt in ("int64", "int32", "uint8", "bool"):
        x, y = (bools if dt == "bool" else (a, b))
        if dt == "uint8":
            x, y = [abs(v) for v in x], [abs(v) for v in y]
        g, h = gradus.tensor(x, dtype=dt), gradus.tensor(y, dtype=dt)
        t, u = torch.tensor(x, dtype=getattr(torch, dt)), torch.tensor(y, dtype=getattr(torch, dt))
        c = True if dt == "bool" else 3   # a Python scalar on either side (reflected operators)
        ops = [lambda p, q: p & q, lambda p, q: p | q, lambda p, q: p ^ q, lambda p, q: ~p,
               lambda p, q, c=c: c ^ p, lambda p, q, c=c: c & p, lambda p, q, c=c: p | c,
               lambda p, q: p.bitwise_and(q), lambda p, q: p.bitwise_or(q), lambda p, q: p.bitwise_xor(q),
               lambda p, q: p.bitwise_not()]
        if dt != "bool":
            ops += [lambda p, q: p % q, lambda p, q: p.fmod(q), lambda p, q: p.remainder(q),
                    lambda p, q: p % 4, lambda p, q: p.fmod(4)]
        for k, op in enumerate(ops):
            r, e = op(g, h), op(t, u).numpy()
            assert r.dtype == e.dtype, (dt, k, r.dtype, e.dtype)
            np.testing.assert_array_equal(r.numpy(), e, err_msg=f"{dt} op {k}")
    lib = (gradus.fmod, gradus.remainder, gradus.bitwise_and, gradus.bitwise_or, gradus.bitwise_xor)
    tlib = (torch.fmod, torch.remainder, torch.bitwise_and, torch.bitwise_or, torch.bitwise_xor)
    for f, tf in zip(lib, tlib):
        np.testing.assert_array_equal(f(gradus.tensor(a), gradus.tensor(b)).numpy(),
                                      tf(torch.tensor(a), torch.tensor(b)).numpy())
    assert gradus.fmod(gradus.tensor(-3), 2).item() == -1
    assert gradus.remainder(gradus.tensor(-3), 2).item() == 1
    np.testing.assert_array_equal(gradus.bitwise_not(gradus.tensor(a)).numpy(),
                                  torch.bitwise_not(torch.tensor(a)).numpy())
    # floats are refused by both
    for op in (lambda p: p & p, lambda p: p | 1, lambda p: ~p):
        with pytest.raises(TypeError, match="integer or bool"):
            op(gradus.tensor([1.0, 2.0]))
        with pytest.raises((RuntimeError, TypeError)):
            op(torch.tensor([1.0, 2.0]))


def test_backward_accumulates_like_torch(torch):
    """.backward() twice into leaves (not autograd.grad), through a small composed expression."""
    a = np.random.default_rng(1).standard_normal((3, 4))
    x, xt = gradus.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    for t, L in ((x, gradus), (xt, torch)):
        for _ in range(2):
            y = (L.tanh(t) * t.exp()).sum(1).logsumexp(0) + t.std()
            y.backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-10)


def test_dtype_promotion_matches_torch(torch):
    pairs = [([1, 2], [0.5, 1.5], None, None), ([1, 2], [0.5, 1.5], "float32", "float64"),
             ([1, 2], [True, False], None, None), ([1, 2], [3, 4], "int32", None)]
    for a, b, da, db in pairs:
        for op in (lambda p, q: p + q, lambda p, q: p * q, lambda p, q: p / q, lambda p, q: p - q):
            if isinstance(b[0], bool) and op(1, 1) == 0:
                continue  # torch refuses bool subtraction
            g = op(gradus.tensor(a, dtype=da), gradus.tensor(b, dtype=db))
            t = op(torch.tensor(a, dtype=getattr(torch, da) if da else None),
                   torch.tensor(b, dtype=getattr(torch, db) if db else None))
            assert g.dtype == t.numpy().dtype, (a, b, da, db, g.dtype, t.dtype)
            np.testing.assert_allclose(g.numpy(), t.numpy())
    for scalar in (2, 2.5, True):
        for a, da in (([1, 2], None), ([1.0, 2.0], None), ([1.0], "float64"), ([True], None)):
            g = gradus.tensor(a, dtype=da) * scalar
            t = torch.tensor(a, dtype=getattr(torch, da) if da else None) * scalar
            assert g.dtype == t.numpy().dtype, (a, da, scalar, g.dtype, t.dtype)


def test_repr_matches_torch(torch):
    values = [[1.0, 2.0], [1.5, 2.25], 3.0, 0.5, [1, 2], [[1e-5, 1.0]], [0.001, 10.0], [1.0, 100.0], [1e10],
              [float("nan"), 1.0], [float("inf"), -2.5], [[1.0, 2.0], [3.0, 4.0]], [True, False], [0.0, 0.0],
              [-3, 10, 100], [[1.23456, -100.5], [3.0, 4.0]], 123456.0, 1e-6,
              np.random.default_rng(0).standard_normal((3, 12)).astype(np.float32)]
    for v in values:
        assert repr(gradus.tensor(v)) == repr(torch.tensor(v)).replace("torch.", "gradus."), v
    for g, t in [(gradus.zeros(0), torch.zeros(0)),
                 (gradus.zeros(0, dtype=gradus.int64), torch.zeros(0, dtype=torch.int64)),
                 (gradus.zeros(2, 0), torch.zeros(2, 0)),
                 (gradus.ones(2, dtype=gradus.float64), torch.ones(2, dtype=torch.float64)),
                 (gradus.ones(3, requires_grad=True), torch.ones(3, requires_grad=True)),
                 (gradus.tensor([1, 2], dtype=gradus.int32), torch.tensor([1, 2], dtype=torch.int32))]:
        assert repr(g) == repr(t).replace("torch.", "gradus.")
