"""Shape, indexing, scatter, diagonal, einsum and padding ops against PyTorch 2.13.

The value cases run one lambda on gradus and on torch (``check_op`` of ``test_ops_oracle``): values,
dtypes, shapes and the gradients of every input agree in float64 and float32. Index tensors hold
repeated entries wherever the op allows it, so the gradients' accumulation is compared too. Then:
a seeded fuzz of mixed index tuples (ints, slices, None, ..., index tensors, bools) against PyTorch's
placement rule; forward-only cases where PyTorch has no derivative; the error table (gradus raises
the category class -- IndexError, ValueError, TypeError -- where PyTorch raises, mostly
RuntimeError); and the one deliberate gradient difference (amax/amin with ``include_self=False``).
"""
from __future__ import annotations

import random
import warnings

import numpy as np
import pytest

import gradus

from .test_ops_oracle import check_op

pytestmark = [pytest.mark.oracle,
              pytest.mark.filterwarnings("ignore:.*reduce argument of.*scatter:UserWarning"),
              pytest.mark.filterwarnings("ignore:.*indexing argument:UserWarning")]

_R = np.random.default_rng(7)
IDX4 = np.array([0, 2, 2, 1])                                  # repeated: gradients accumulate
D6 = _R.integers(0, 5, (2, 1, 1, 5, 1, 1))                     # the brief's broadcasting index
I3 = np.array([1, 0, 1])
MASK = np.array([[True, False, True], [False, False, True]])
G = np.array([[0, 1, 2, 0], [0, 0, 0, 1]])                     # scatter index into (3, 4) along dim 0
UNIQ = np.array([[2, 0, 1, 2], [0, 2, 2, 0]])                  # no target twice (along dim 0)
TIES = np.array([[2.0, 1.0, 4.0, 4.0], [2.0, 5.0, 4.0, 0.5]])  # src with ties at shared targets
X34 = np.array([[2.0, 3.0, 1.0, 4.0], [0.5, 1.0, 1.5, 2.0], [7.0, -1.0, 2.0, 1.0]])
NONFIN = np.array([1.5, np.inf, -np.inf, np.nan, -0.25, 0.0])


def T(L, a):
    return L.tensor(a)


CASES = [
    # -- advanced indexing: PyTorch applies integers first, then places the index-tensor dims ----
    ("index_brief_int_slice_tensor", lambda L, x: x[0, :, T(L, IDX4)], ((2, 5, 6, 5, 3, 4),)),
    ("index_brief_slices_tensor", lambda L, x: x[1, :, 3:11:2, T(L, D6), 0:2], ((2, 5, 6, 5, 3, 4),)),
    ("index_ints_around_tensor",
     lambda L, x: (x[:, 0, :, T(L, I3)], x[0, T(L, I3), :, 1], x[..., 0, T(L, I3)]), ((2, 3, 2, 4),)),
    ("index_int_between_tensors", lambda L, x: (x[T(L, I3), 1, T(L, I3)], x[:, T(L, I3), 0, T(L, I3)]),
     ((2, 3, 2, 2),)),
    ("index_none_and_ellipsis", lambda L, x: (x[0, None, :, T(L, I3)], x[:, T(L, I3), ..., T(L, I3)],
                                              x[T(L, I3), ..., 1], x[None, 0, T(L, I3)]), ((2, 2, 2),)),
    ("index_0d_tensor_is_an_int", lambda L, x: (x[T(L, np.array(1)), :, T(L, I3)], x[:, T(L, np.array(0))]),
     ((2, 3, 2),)),
    ("index_bools", lambda L, x: (x[True], x[0, :, True, T(L, I3)], x[:, T(L, I3), True, T(L, I3)], x[False]),
     ((2, 2, 3),)),
    ("index_int_and_mask", lambda L, x: (x[1, T(L, MASK)], x[T(L, MASK[:, :2]), 0]), ((2, 2, 3),)),
    ("take", lambda L, x: (x.take(T(L, np.array([[0, 5], [-1, 0]]))), L.take(x, T(L, np.array(3)))),
     ((2, 3),)),
    # -- scatter family (repeated targets, ties, zeros) -----------------------------------------
    ("scatter_src", lambda L, x, s: (x.scatter(0, T(L, UNIQ), s), L.scatter(x, 1, T(L, G[:, :3]), s[:, :3])),
     ((3, 4), (2, 4))),
    # repeated targets: both write the last source; every source element gets gather(grad)
    ("scatter_src_repeated", lambda L, x, s: x.scatter(0, T(L, G), s), ((3, 4), (2, 4))),
    ("scatter_value", lambda L, x: (x.scatter(0, T(L, G), 1.5), L.scatter(x, 1, T(L, G[:, :3]), value=-2.0)),
     ((3, 4),)),
    ("scatter_0d", lambda L, x, s: L.scatter(x, 0, T(L, np.array(0)), s), ((), ())),
    # (PyTorch's scatter_add / scatter_reduce backward fails for an index smaller than src: sliced here)
    ("scatter_add",
     lambda L, x, s: (x.scatter_add(0, T(L, G), s), L.scatter_add(x, 1, T(L, G[:, :2]), s[:, :2])),
     ((3, 4), (2, 4))),
    *[(f"scatter_reduce_{r}_{inc}", lambda L, x, s, r=r, inc=inc: (
        x.scatter_reduce(0, T(L, G), s, r, include_self=inc),
        L.scatter_reduce(x, 1, T(L, G[:, :3]), s[:, :3], r, include_self=inc)),
       (X34, ("nz", (2, 4)))) for r in ("sum", "prod", "mean", "amax", "amin") for inc in (True, False)],
    *[(f"scatter_reduce_{r}_ties", lambda L, x, s, r=r: x.scatter_reduce(0, T(L, G), s, r), (X34, TIES))
      for r in ("amax", "amin")],
    ("scatter_reduce_prod_zeros",
     lambda L, x, s: (x.scatter_reduce(0, T(L, G), s, "prod"),
                      x.scatter_reduce(0, T(L, G), s, "prod", include_self=False)),
     (np.array([[0.0, 2.0, 3.0, 1.5], [1.0, 1.0, 2.0, 0.5], [3.0, 0.0, 2.0, 2.5]]),
      np.array([[4.0, 0.0, 0.0, 5.0], [0.0, 2.0, 3.0, 0.0]]))),
    ("index_add", lambda L, x, s: (x.index_add(0, T(L, np.array([2, 0, 2])), s),
                                   L.index_add(x, 0, T(L, np.array([1, 1, 1])), s, alpha=-1.5)),
     ((3, 4), (3, 4))),
    ("index_add_dim1_0d",
     lambda L, x, s, z: (x.index_add(1, T(L, np.array([3, 0])), s), z.index_add(0, T(L, np.array(0)), z * 2)),
     ((2, 4), (2, 2), ())),
    ("index_copy", lambda L, x, s: (x.index_copy(0, T(L, np.array([2, 0])), s),
                                    L.index_copy(x, 1, T(L, np.array([3, 1])), s.T[:3])), ((3, 4), (2, 4))),
    ("masked_scatter",
     lambda L, x, s: (x.masked_scatter(T(L, MASK), s), L.masked_scatter(x[0], T(L, MASK), s)),
     ((2, 3), (8,))),
    # -- diagonals, rolls, windows --------------------------------------------------------------
    ("diag", lambda L, v, m: (L.diag(v), L.diag(v, 1), v.diag(-2), L.diag(m), m.diag(2), L.diag(m, -5)),
     ((3,), (3, 4))),
    ("diagonal", lambda L, x: (x.diagonal(), L.diagonal(x, 1, 2, 0), x.diagonal(offset=-1, dim1=-1, dim2=-2),
                               L.diagonal(x, 7, 0, 1)), ((2, 3, 4),)),
    ("diag_embed", lambda L, x: (L.diag_embed(x), x.diag_embed(1), L.diag_embed(x, -1, 0, 2),
                                 L.diag_embed(x, 2, -1, 1)), ((2, 3),)),
    ("roll", lambda L, x: (x.roll(1), L.roll(x, -2, 1), x.roll((1, -1), (0, 2)), x.roll((1, 1), (1, 1)),
                           L.roll(x, shifts=5, dims=-1)), ((2, 3, 4),)),
    ("unfold", lambda L, x: (x.unfold(2, 2, 1), x.unfold(1, 2, 2), x.unfold(-1, 3, 1), x.unfold(0, 1, 3),
                             x.unfold(2, 0, 1)), ((2, 3, 4),)),
    ("unfold_0d", lambda L, x: x.unfold(0, 1, 1), ((),)),
    ("narrow", lambda L, x: (x.narrow(1, 1, 2), L.narrow(x, -1, -3, 2), x.narrow(0, 2, 0)), ((2, 3, 4),)),
    ("movedim", lambda L, x: (x.movedim((0, 1), (2, 0)), L.movedim(x, [0, -1], [-1, 0]), L.moveaxis(x, 0, 2),
                              x.moveaxis((1,), (0,))), ((2, 3, 4),)),
    ("unbind", lambda L, x: (*x.unbind(-1), *L.unbind(x, 0)), ((2, 3),)),
    ("meshgrid", lambda L, a, b, c: (*L.meshgrid(a, b, indexing="ij"), *L.meshgrid([a, b, c], indexing="xy"),
                                     *L.meshgrid(a, indexing="xy"), *L.meshgrid(c[0], b, indexing="xy")),
     ((3,), (2,), (4,))),
    ("meshgrid_default_ij", lambda L, a, b: L.meshgrid(a, b), ((3,), (2,))),
    ("squeeze_0d", lambda L, x: (x.squeeze(0), x.squeeze(-1), x.squeeze((0,))), ((),)),
    # -- padding: negative pads in every mode, the largest valid pads ----------------------------
    *[(f"pad_negative_{m}", lambda L, x, m=m: (
        L.pad(x, (-1, 2), mode=m), L.pad(x, (2, -1), mode=m), L.pad(x, (-1, -1, 1, -1), mode=m),
        L.pad(x, (0, 0, -1, 1), mode=m), L.pad(x, (-2, 2), mode=m)), ((1, 3, 4),))
      for m in ("reflect", "replicate", "circular", "constant")],
    *[(f"pad_crop_beyond_{m}", lambda L, x, m=m: (L.pad(x, (-4, 1), mode=m), L.pad(x, (-1, 3), mode=m)),
       ((1, 2, 4),)) for m in ("reflect", "replicate")],
    ("pad_largest", lambda L, x: (L.pad(x, (3, 3), mode="reflect"), L.pad(x, (4, 4), mode="circular"),
                                  L.pad(x, (4, 0, 2, 2), mode="circular"), L.pad(x, (-1, 3), mode="circular"),
                                  L.pad(x, (-3, 3), mode="reflect"), L.pad(x, (-5, 1), mode="circular")),
     ((1, 2, 4),)),
    # -- einsum ----------------------------------------------------------------------------------
    ("einsum_ellipsis", lambda L, a, b: (L.einsum("...id,...jd->...ij", a, b), L.einsum("...id,...jd", a, b),
                                         L.einsum("...ij->ij", a), L.einsum("...ij->j", b)),
     ((2, 3, 4, 5), (3, 6, 5))),
    ("einsum_repeated", lambda L, m, t: (L.einsum("ii->i", m), L.einsum("ii->", m), L.einsum("ii", m),
                                         L.einsum("...ii->...i", t), L.einsum("...ii", t),
                                         L.einsum("iji->j", t.permute(1, 0, 2)),
                                         L.einsum("ii,i->i", m, m[0])),
     ((3, 3), (2, 3, 3))),
    ("einsum_broadcast", lambda L, a, b, c: (L.einsum("...i,...i->...", a, b),
                                             L.einsum("ij,ij->ij", c, b[:1]),
                                             L.einsum("ij,jk->ik", c[:, :1], b[:, :2])),
     ((2, 1, 3), (4, 3), (4, 3))),
    ("einsum_chains", lambda L, a, b, c: (L.einsum("ij,jk,kl->il", a, b, c), L.einsum("i,j->ij", a[0], c[0]),
                                          L.einsum("ij->", a), L.einsum("ba", a), L.einsum("iJ,Jk", a, b),
                                          L.einsum(" i j , j k -> i k ", a, b),
                                          L.einsum(",i->i", a[0, 0], c[0]),
                                          L.einsum("ij,jk", [a, b])), ((2, 3), (3, 4), (4, 2))),
    ("einsum_attention", lambda L, q, k: L.einsum("bhqd,bhkd->bhqk", q, k), ((2, 3, 4, 5), (2, 3, 6, 5))),
    # -- non-finite values -------------------------------------------------------------------------
    ("nan_to_num", lambda L, x: (x.nan_to_num(), L.nan_to_num(x, nan=2.0, posinf=3.0, neginf=-4.0),
                                 L.nan_to_num(x, posinf=1e300)), (NONFIN,)),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_shape_op_matches_torch(torch, case, dtype):
    name, fn, specs = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # nan_to_num's overflow to inf, as in torch
        check_op(torch, fn, specs, dtype)


# -- a seeded fuzz of mixed index tuples: shapes, values and gradients -------------------------------
def _index_trial(rng, shape):
    items, d, ell = [], 0, False
    for _ in range(rng.randrange(1, 7)):
        n = shape[d] if d < len(shape) else 1
        r = rng.random()
        if r < 0.2:
            items.append(("int", rng.randrange(-n, n)))
        elif r < 0.4:
            items.append(("slice", slice(rng.randrange(0, n), None, rng.choice([None, 1, 2]))))
        elif r < 0.65:
            items.append(("tensor", np.array([rng.randrange(0, n) for _ in range(3)])))
        elif r < 0.72:
            items.append(("tensor", np.array([[rng.randrange(0, n)] for _ in range(3)])))
        elif r < 0.8:
            items.append(("none", None))
        elif r < 0.85:
            items.append(("bool", rng.choice([True, False])))
        elif r < 0.9:
            items.append(("tensor", np.array(rng.randrange(0, n))))
        elif not ell:
            ell = True
            items.append(("ellipsis", Ellipsis))
        d += items[-1][0] in ("int", "slice", "tensor")
        if d >= len(shape):
            break
    return items


def test_mixed_index_fuzz_matches_torch(torch):
    shape = (2, 5, 6, 5, 3, 4)
    a = np.random.default_rng(0).standard_normal(shape)
    rng = random.Random(0)
    compared = 0
    for _ in range(400):
        items = _index_trial(rng, shape)
        gi = tuple(gradus.tensor(v) if k == "tensor" else v for k, v in items)
        ti = tuple(torch.tensor(v) if k == "tensor" else v for k, v in items)
        xt = torch.tensor(a, requires_grad=True)
        try:
            yt = xt[ti]
        except (IndexError, RuntimeError):
            with pytest.raises(IndexError):
                gradus.tensor(a)[gi]
            continue
        x = gradus.tensor(a, requires_grad=True)
        if yt.numel() == 0:  # PyTorch skips its bounds check when nothing is read; gradus checks
            try:
                y = x[gi]
            except IndexError:
                continue
        else:
            y = x[gi]
        assert y.shape == tuple(yt.shape), (ti, y.shape, tuple(yt.shape))
        np.testing.assert_array_equal(y.numpy(), yt.detach().numpy(), err_msg=str(ti))
        g = np.random.default_rng(1).standard_normal(y.shape)
        (yt * torch.tensor(g)).sum().backward()
        (y * gradus.tensor(g)).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12, err_msg=str(ti))
        compared += 1
    assert compared > 250


def test_mixed_index_setitem_matches_torch(torch):
    cases = [((0, slice(None), [1, 3]), (3, 2)), ((1, [0, 2], 2), (2,)),
             ((slice(None), 1, [0, 1, 1]), (2, 3)),
             ((0, Ellipsis, [3, 0]), (3, 2)), (([1, 0], slice(None), 0), (2, 3)), ((0, 1), (4,))]
    for idx, vshape in cases:
        v = np.arange(np.prod(vshape), dtype=np.float32).reshape(vshape) + 1
        g, t = gradus.zeros(2, 3, 4), torch.zeros(2, 3, 4)
        gi = tuple(gradus.tensor(i) if isinstance(i, list) else i for i in idx)
        ti = tuple(torch.tensor(i) if isinstance(i, list) else i for i in idx)
        g[gi] = gradus.tensor(v)
        t[ti] = torch.tensor(v)
        np.testing.assert_array_equal(g.numpy(), t.numpy(), err_msg=str(idx))


# -- where PyTorch has no derivative: forward values (and dtypes) only -----------------------------
def test_forward_only_matches_torch(torch):
    x, s = X34, np.array([[2.0, 1.0, 4.0, 3.0], [2.0, 5.0, 4.0, 0.5]])
    for fn in (lambda L, x, s: x.scatter(0, T(L, G), s, reduce="add"),
               lambda L, x, s: x.scatter(0, T(L, G), s, reduce="multiply"),
               lambda L, x, s: L.scatter(x, 0, T(L, G), 2.5, reduce="multiply"),
               lambda L, x, s: x.scatter(1, T(L, G[:, :3]), -1.0, reduce="add")):
        g = fn(gradus, gradus.tensor(x), gradus.tensor(s))
        t = fn(torch, torch.tensor(x), torch.tensor(s))
        assert g.dtype == t.numpy().dtype
        np.testing.assert_array_equal(g.numpy(), t.numpy())
    # integer scatter_reduce (mean floors), integer and bool tensors in the non-finite tests
    xi, si = np.array([10, -10, 7]), np.array([1, 2, 4, -6])
    ii = np.array([0, 0, 1, 2])
    for r in ("sum", "prod", "mean", "amax", "amin"):
        for inc in (True, False):
            g = gradus.tensor(xi).scatter_reduce(0, gradus.tensor(ii), gradus.tensor(si), r, include_self=inc)
            t = torch.tensor(xi).scatter_reduce(0, torch.tensor(ii), torch.tensor(si), r, include_self=inc)
            np.testing.assert_array_equal(g.numpy(), t.numpy(), err_msg=f"{r} {inc}")
    for name in ("isposinf", "isneginf", "isfinite"):
        g, t = getattr(gradus.tensor(NONFIN), name)(), getattr(torch.tensor(NONFIN), name)()
        assert g.dtype == np.bool_ and g.tolist() == t.tolist(), name
    for v in ([1, 2], [True, False]):
        for name in ("isposinf", "isneginf", "isfinite", "nan_to_num"):
            g, t = getattr(gradus.tensor(v), name)(), getattr(torch.tensor(v), name)()
            assert g.dtype == t.numpy().dtype and g.tolist() == t.tolist(), (v, name)
    # nonzero on 0-d tensors
    for v in (3.0, 0.0):
        g, t = gradus.tensor(v), torch.tensor(v)
        assert g.nonzero().shape == tuple(t.nonzero().shape) and g.nonzero().dtype == np.int64
        (gt,), (tt,) = g.nonzero(as_tuple=True), t.nonzero(as_tuple=True)
        assert gt.tolist() == tt.tolist()


def test_creation_matches_torch(torch):
    for args, dt in [((0, 1, 5), None), ((0, 10, 4), "int64"), ((-3, 10, 7), "int32"),
                     ((-3.7, 10.2, 7), "int8"), ((0, 10, 4), "uint8"), ((0, 10, 1), None),
                     ((0, 10, 0), None), ((-1.3, 7.7, 11), None), ((1e-3, 3.3, 101), None),
                     ((0, 1, 1000), None), ((2, -5.5, 9), "float64"), ((2, -5.5, 9), "int16")]:
        g = gradus.linspace(*args, dtype=dt)
        t = torch.linspace(*args, dtype=getattr(torch, dt) if dt else None)
        assert g.dtype == t.numpy().dtype, (args, dt)
        np.testing.assert_array_equal(g.numpy(), t.numpy(), err_msg=f"linspace{args} {dt}")
    for name in ("tril_indices", "triu_indices"):
        for args in [(3, 3), (3, 4, 1), (4, 3, -1), (3, 4, -1), (3, 4, 10), (0, 3), (5, 2, -7)]:
            g, t = getattr(gradus, name)(*args), getattr(torch, name)(*args)
            assert g.dtype == t.numpy().dtype
            np.testing.assert_array_equal(g.numpy(), t.numpy(), err_msg=f"{name}{args}")
        g = getattr(gradus, name)(3, 3, dtype=gradus.int32)
        assert g.dtype == getattr(torch, name)(3, 3, dtype=torch.int32).numpy().dtype


def test_scatter_reduce_excluded_self_is_no_tie():
    """The one deliberate difference: with include_self=False an element of input that equals the
    extremum took no part in it, so src gets the whole gradient (PyTorch 2.13 still counts the input
    element as a tie and gives src 0.5)."""
    x = gradus.tensor([5.0, 1.0], requires_grad=True)
    s = gradus.tensor([5.0, 3.0], requires_grad=True)
    y = x.scatter_reduce(0, gradus.tensor([0, 0]), s, "amax", include_self=False)
    y.sum().backward()
    assert y.tolist() == [5.0, 1.0] and x.grad.tolist() == [0.0, 1.0] and s.grad.tolist() == [1.0, 0.0]


# -- invalid input: both refuse; gradus with the category class -------------------------------------
def _errors(L):
    x, m, z = L.ones(2, 3, 4), L.ones(3, 4), L.tensor(2.0)
    idx = L.tensor(np.array([[0, 1, 2, 0], [2, 0, 0, 1]]))
    src = L.ones(3, 4)
    pad = L.pad
    return [
        ("pad circular wider than input", lambda: pad(x, (5, 0), mode="circular"), ValueError),
        ("pad reflect as wide as input", lambda: pad(x, (4, 0), mode="reflect"), ValueError),
        ("pad negative size", lambda: pad(x, (-3, -2), mode="circular"), ValueError),
        ("squeeze 0-d dim 1", lambda: z.squeeze(1), IndexError),
        ("squeeze 0-d dim -2", lambda: z.squeeze(-2), IndexError),
        ("linspace bool", lambda: L.linspace(0, 1, 5, dtype=L.bool), TypeError),
        ("linspace negative steps", lambda: L.linspace(0, 1, -1), ValueError),
        ("getitem negative step", lambda: x[::-1], ValueError),
        ("getitem float", lambda: x[1.5], IndexError),
        ("getitem out of range mixed", lambda: x[0, :, L.tensor([0, 4])], IndexError),
        ("getitem mask shape", lambda: x[L.tensor([True, False, True])], IndexError),
        ("getitem index shapes", lambda: x[L.tensor([0, 1]), L.tensor([0, 1, 2])], IndexError),
        ("einsum output letter in no input", lambda: L.einsum("ij->k", m), ValueError),
        ("einsum output letter twice", lambda: L.einsum("ij->ii", m), ValueError),
        ("einsum repeated letter sizes", lambda: L.einsum("ii->i", L.ones(2, 3)), ValueError),
        ("einsum sizes", lambda: L.einsum("ij,jk->ik", L.ones(2, 3), L.ones(4, 3)), ValueError),
        ("einsum too few dims", lambda: L.einsum("ijk->i", m), ValueError),
        ("einsum two ellipses", lambda: L.einsum("...i...->i", x), ValueError),
        ("einsum bad letter", lambda: L.einsum("i1->i", m), ValueError),
        ("einsum operand count", lambda: L.einsum("ij,jk->ik", m), ValueError),
        ("diag 3-d", lambda: L.diag(x), ValueError),
        ("diag 0-d", lambda: L.diag(z), ValueError),
        ("diagonal same dims", lambda: m.diagonal(0, 1, 1), ValueError),
        ("diagonal dim out of range", lambda: m.diagonal(0, 0, 2), IndexError),
        ("diag_embed 0-d", lambda: L.diag_embed(z), IndexError),
        ("roll shifts vs dims", lambda: L.roll(m, (1, -1), (0,)), ValueError),
        ("roll tuple without dims", lambda: L.roll(m, (1, 2)), ValueError),
        ("roll 0-d with dim", lambda: L.roll(z, 1, 0), IndexError),
        ("unfold size too big", lambda: m.unfold(0, 4, 1), ValueError),
        ("unfold step 0", lambda: m.unfold(0, 2, 0), ValueError),
        ("unfold negative size", lambda: m.unfold(0, -1, 1), ValueError),
        ("unfold 0-d size 2", lambda: z.unfold(0, 2, 1), ValueError),
        ("narrow past the end", lambda: m.narrow(1, 3, 2), ValueError),
        ("narrow start out of range", lambda: m.narrow(1, 5, 0), IndexError),
        ("narrow negative length", lambda: m.narrow(1, 0, -1), ValueError),
        ("narrow 0-d", lambda: z.narrow(0, 0, 1), ValueError),
        ("movedim length mismatch", lambda: x.movedim((0, 1), (2,)), ValueError),
        ("movedim repeated source", lambda: x.movedim((0, 0), (2, 1)), ValueError),
        ("movedim int and tuple", lambda: x.movedim(0, (2,)), TypeError),
        ("unbind 0-d", lambda: z.unbind(), IndexError),
        ("meshgrid 2-d", lambda: L.meshgrid(m, L.ones(2), indexing="ij"), ValueError),
        ("meshgrid dtypes", lambda: L.meshgrid(L.arange(3), L.ones(2), indexing="ij"), TypeError),
        ("meshgrid indexing", lambda: L.meshgrid(L.ones(3), L.ones(2), indexing="foo"), ValueError),
        ("meshgrid empty", lambda: L.meshgrid(indexing="ij"), ValueError),
        ("tril_indices negative row", lambda: L.tril_indices(-1, 3), ValueError),
        ("triu_indices float dtype", lambda: L.triu_indices(3, 3, dtype=L.float32), TypeError),
        ("scatter index out of range", lambda: m.scatter(0, idx + 2, src), IndexError),
        ("scatter negative index", lambda: m.scatter(0, idx - 3, src), IndexError),
        ("scatter float index", lambda: m.scatter(0, idx.float(), src), TypeError),
        ("scatter index rank", lambda: m.scatter(0, idx[0], src), ValueError),
        ("scatter index larger than src", lambda: m.scatter(0, L.zeros(3, 5, dtype=L.int64), src),
         ValueError),
        ("scatter index larger than self", lambda: m.scatter(1, L.zeros(4, 4, dtype=L.int64), L.ones(4, 4)),
         ValueError),
        ("scatter dtypes", lambda: m.scatter(0, idx, src.double()), TypeError),
        ("scatter reduce name", lambda: m.scatter(0, idx, src, reduce="mean"), ValueError),
        ("scatter_add scalar src", lambda: L.scatter_add(m, 0, idx, 1.0), TypeError),
        ("scatter_reduce name", lambda: m.scatter_reduce(0, idx, src, "median"), ValueError),
        ("scatter_reduce dtypes", lambda: m.scatter_reduce(0, idx, src.double(), "sum"), TypeError),
        ("index_add 2-d index", lambda: m.index_add(0, L.tensor([[0, 0]]), L.ones(2, 4)), IndexError),
        ("index_add source shape", lambda: m.index_add(0, L.tensor([0, 0]), L.ones(3, 4)), ValueError),
        ("index_add source dims", lambda: m.index_add(0, L.tensor([0, 0]), L.ones(2, 3)), ValueError),
        ("index_add dtypes", lambda: m.index_add(0, L.tensor([0, 0]), L.ones(2, 4).double()), TypeError),
        ("index_add float index", lambda: m.index_add(0, L.tensor([0.0, 1.0]), L.ones(2, 4)), TypeError),
        ("index_add out of range", lambda: m.index_add(0, L.tensor([3, 0]), L.ones(2, 4)), IndexError),
        ("index_add negative", lambda: m.index_add(0, L.tensor([-1, 0]), L.ones(2, 4)), IndexError),
        ("index_copy int32 index", lambda: m.index_copy(0, L.tensor([2, 0], dtype=L.int32), L.ones(2, 4)),
         TypeError),
        ("index_copy out of range", lambda: m.index_copy(0, L.tensor([3, 0]), L.ones(2, 4)), IndexError),
        ("masked_scatter float mask", lambda: m.masked_scatter(L.ones(3, 4), L.ones(12)), TypeError),
        ("masked_scatter short source", lambda: m.masked_scatter(L.ones(3, 4, dtype=L.bool), L.ones(5)),
         ValueError),
        ("masked_scatter dtypes", lambda: m.masked_scatter(L.ones(3, 4, dtype=L.bool), L.ones(12).double()),
         TypeError),
        ("take out of range", lambda: m.take(L.tensor([12])), IndexError),
        ("take negative out of range", lambda: m.take(L.tensor([-13])), IndexError),
        ("take float index", lambda: m.take(L.tensor([1.0])), TypeError),
        ("take int32 index", lambda: m.take(L.tensor([1], dtype=L.int32)), TypeError),
    ]


def test_invalid_input_is_refused_like_torch(torch):
    import torch.nn.functional as tF

    class TorchL:
        def __getattr__(self, name):
            return tF.pad if name == "pad" else getattr(torch, name)

    for (name, g_fn, g_err), (_, t_fn, _) in zip(_errors(gradus), _errors(TorchL())):
        try:
            t_fn()
        except Exception:  # noqa: S110 (PyTorch raises RuntimeError, IndexError, TypeError, ...)
            pass
        else:
            pytest.fail(f"{name}: PyTorch accepts it")
        try:
            g_fn()
        except g_err:
            pass
        except Exception as e:
            pytest.fail(f"{name}: gradus raised {type(e).__name__} ({e}), expected {g_err.__name__}")
        else:
            pytest.fail(f"{name}: gradus accepts it")


def test_circular_pad_refused_where_torch_reads_unwritten_memory(torch):
    """A circular pad wider than what its negative side leaves: PyTorch checks only the input size,
    then copies from output memory it has not written yet (values by luck, wrong gradients)."""
    x = gradus.ones(1, 2, 4)
    for p in ((-2, 3), (3, -2), (-4, 1)):
        with pytest.raises(ValueError, match="wraps more than once"):
            gradus.pad(x, p, mode="circular")
