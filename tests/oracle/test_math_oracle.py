"""Math and reductions against PyTorch 2.13 (``check_op``: values, dtypes, shapes and every input
gradient, float64 and float32): inverse trig, hyperbolic, exp2 / log2 / log10, the erf family,
atan2 / hypot / logaddexp(2) / copysign / lerp, pow at base 0, div's rounding modes, cumprod /
cummax / cummin / logcumsumexp, p-norms (p = 0, fractional, negative, +-inf), NumPy's axis /
keepdims spellings; then integer inputs (dtypes and values), the bit shifts, and the error
classes on invalid input.

Inputs include the edges where PyTorch fixes a value: gradients at the poles of asin / atanh /
acosh / erfinv (inf), atan2's zero gradient at the origin, hypot's NaN there, logaddexp at +-inf,
copysign at 0, cumprod's gradient with zeros, cummax's tie rule and NaN propagation, the norms'
gradients at zero.
"""
from __future__ import annotations

import numpy as np
import pytest

import gradus
from gradus.errors import DTypeError

from .test_ops_oracle import check_op

pytestmark = pytest.mark.oracle

INF, NAN = float("inf"), float("nan")
_rng = np.random.default_rng(7)
INSIDE = _rng.uniform(-0.95, 0.95, (3, 4))            # domain of asin, acos, atanh, erfinv
ABOVE_ONE = _rng.uniform(1.1, 4.0, (3, 4))            # domain of acosh
WIDE = np.linspace(-9.0, 9.0, 37)                     # erf / erfc, into the tails
EDGES = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
BCAST = [((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3)), ((2, 1, 3), (4, 1))]
ZEROS = np.array([[0.0, 2.0, -1.5, 0.7, 1.1], [1.2, 0.0, 0.0, 3.0, -0.4], [0.5, -2.0, 1.1, 0.9, 0.0],
                  [0.0, 0.0, 0.0, 0.0, 0.0]])
TIES = np.array([[1.0, 3.0, 3.0, 2.0, 5.0, 5.0, 4.0], [2.0, 1.0, 1.0, 0.0, 0.0, 3.0, 0.0]])
NANS = np.array([[1.0, NAN, 3.0, NAN, 0.0], [2.0, 1.0, 2.0, 5.0, NAN]])


def _norms(L, x):
    return [y for p in (0, 0.5, 1, 1.5, 2, 3, -1, INF, -INF, "fro")
            for y in (x.norm(p), x.norm(p, dim=1), L.norm(x, p, 0, keepdim=True))]


CASES = [
    # inverse trig and hyperbolic (functions, methods, NumPy-style aliases)
    ("asin_acos_atan", lambda L, x: (L.asin(x), x.acos(), L.atan(x), x.arcsin(), L.arccos(x), x.arctan()),
     (INSIDE,)),
    ("asin_acos_poles", lambda L, x: (x.asin(), L.acos(x), x.atanh(), L.erfinv(x)), (EDGES,)),
    ("atan_wide", lambda L, x: L.arctan(x * 10), ((3, 4),)),
    ("sinh_cosh", lambda L, x: (x.sinh(), L.cosh(x), L.asinh(x), x.arcsinh()), ((3, 4),)),
    ("acosh", lambda L, x: (x.acosh(), L.arccosh(x)), (ABOVE_ONE,)),
    ("acosh_pole", lambda L, x: L.acosh(x), (np.array([1.0, 1.5, 10.0, 0.5]),)),
    ("atanh", lambda L, x: (L.atanh(x), x.arctanh()), (INSIDE,)),
    # exponentials and logarithms of other bases
    ("exp2", lambda L, x: (L.exp2(x), x.exp2()), ((3, 4),)),
    ("exp2_integers", lambda L, x: L.exp2(x), (np.array([-3.0, 0.0, 1.0, 10.0, 30.0]),)),
    ("log2_log10", lambda L, x: (L.log2(x), x.log2(), L.log10(x), x.log10()), (("pos", (3, 4)),)),
    ("log2_exact", lambda L, x: (x.log2(), x.log10()), (np.array([1.0, 8.0, 1024.0, 1000.0, 1e-3]),)),
    ("expm1_tan", lambda L, x: (x.expm1(), L.expm1(x * 1e-8), x.tan(), L.tan(x)), (INSIDE,)),
    # the erf family
    ("erf", lambda L, x: (L.erf(x), x.erf()), ((3, 4),)),
    ("erf_erfc_wide", lambda L, x: (L.erf(x), L.erfc(x), x.erfc()), (WIDE,)),
    ("erfinv", lambda L, x: (L.erfinv(x), x.erfinv()), (INSIDE,)),
    ("erfinv_tails", lambda L, x: L.erfinv(x),
     (np.array([-0.9999, -0.999, 0.99, 0.999, 0.99999, 1e-8, -1e-12]),)),
    ("erf_roundtrip", lambda L, x: L.erf(L.erfinv(x)) + L.erfc(x), (INSIDE,)),
    # two-argument functions
    *[(f"atan2{i}", lambda L, a, b: (L.atan2(a, b), a.atan2(b), L.arctan2(a, b)), s)
      for i, s in enumerate(BCAST)],
    ("atan2_axes", lambda L, a, b: L.atan2(a, b),
     (np.array([0.0, 0.0, 1.0, -1.0, 0.0, 2.0]), np.array([0.0, 1.0, 0.0, 0.0, -1.0, -3.0]))),
    *[(f"hypot{i}", lambda L, a, b: (L.hypot(a, b), a.hypot(b)), s) for i, s in enumerate(BCAST)],
    ("hypot_origin", lambda L, a, b: L.hypot(a, b),
     (np.array([0.0, 3.0, 1e200]), np.array([0.0, 4.0, 1e200]))),
    *[(f"logaddexp{i}", lambda L, a, b: (L.logaddexp(a, b), a.logaddexp(b), L.logaddexp2(a, b),
                                         a.logaddexp2(b)), s) for i, s in enumerate(BCAST)],
    ("logaddexp_inf", lambda L, a, b: (L.logaddexp(a, b), L.logaddexp2(a, b)),
     (np.array([-INF, INF, 1.0, 800.0, -INF]), np.array([-INF, INF, 2.0, 800.0, 3.0]))),
    *[(f"copysign{i}", lambda L, a, b: (L.copysign(a, b), a.copysign(b)), s) for i, s in enumerate(BCAST)],
    ("copysign_zeros", lambda L, a, b: (L.copysign(a, b), a.copysign(-2.0), L.copysign(a, 1)),
     (np.array([1.0, -1.0, 0.0, -0.0, 2.0, NAN]), np.array([-0.0, 0.0, -1.0, 1.0, NAN, -1.0]))),
    ("lerp_number", lambda L, a, b: (L.lerp(a, b, 0.3), a.lerp(b, 0.5), L.lerp(a, b, 1.0), a.lerp(b, -0.7),
                                     L.lerp(a, b, 2)), ((2, 3), (3,))),
    ("lerp_tensor", lambda L, a, b, w: (L.lerp(a, b, w), a.lerp(b, w)), ((2, 3), (2, 3), (2, 3))),
    ("lerp_bcast", lambda L, a, b, w: L.lerp(a, b, w), ((2, 1), (3,), (2, 3))),
    ("lerp_weights", lambda L, a, b, w: L.lerp(a, b, w),
     ((6,), (6,), np.array([-1.0, 0.0, 0.49, 0.5, 1.0, 2.5]))),
    # pow at base 0: PyTorch's +-inf gradients for negative exponents, 0 for non-negative ones
    ("pow_rbase0", lambda L, x: (0 ** x, 0.0 ** x), (np.array([-1.0, -2.0, -0.3, 0.0, 0.5, 2.0]),)),
    ("pow_base0_tensor", lambda L, a, b: (a ** b, L.pow(a, b)),
     (np.zeros(6), np.array([-1.0, -2.0, -0.3, 0.0, 0.5, 2.0]))),
    ("pow_base0_mixed", lambda L, a, b: a ** b,
     (np.array([0.0, 0.0, 2.0, 0.5]), np.array([-1.0, 3.0, -0.3, -2.0]))),
    ("pow_base0_scalar_exponent", lambda L, x: (x ** -1, x ** -2, x ** -0.5, x ** 0.5, x ** 0),
     (np.array([0.0, 1.0, 2.0]),)),
    # div with rounding modes (piecewise constant: no gradient in gradus, zero in PyTorch)
    ("div_rounding", lambda L, a, b: (L.div(a, b, rounding_mode="floor"), a.div(b, rounding_mode="trunc"),
                                      L.div(a, b, rounding_mode=None), a.div(2.5, rounding_mode="floor")),
     (np.array([-3.5, 3.5, -2.0, 7.1, -0.4, 5.0]), np.array([2.0, -2.0, 0.7, -1.3, 0.9, 2.5]))),
    # cumulative scans
    ("cumprod", lambda L, x: (x.cumprod(0), L.cumprod(x, 1), x.cumprod(-1)), (("nz", (3, 4)),)),
    ("cumprod_zeros", lambda L, x: (x.cumprod(1), L.cumprod(x, 0), x.cumprod(-1)), (ZEROS,)),
    ("cumprod_3d", lambda L, x: (x.cumprod(1), x.cumprod(2)), (("nz", (2, 3, 4)),)),
    ("cumprod_0d", lambda L, x: (x.cumprod(0), x.cumsum(-1), *x.cummax(0), x.logcumsumexp(0)), ((),)),
    ("cummax_cummin", lambda L, x: (*x.cummax(1), *L.cummin(x, 0), *x.cummin(-1), *L.cummax(x, 0)),
     (("distinct", (3, 4)),)),
    ("cummax_ties", lambda L, x: (*x.cummax(1), *x.cummin(1), *L.cummax(x, 0), *L.cummin(x, 0)), (TIES,)),
    ("cummax_nan", lambda L, x: (*x.cummax(1), *x.cummin(1), *x.cummax(0)), (NANS,)),
    ("cummax_3d", lambda L, x: (*x.cummax(1), *L.cummin(x, 2)), (("distinct", (2, 3, 4)),)),
    ("logcumsumexp", lambda L, x: (x.logcumsumexp(1), L.logcumsumexp(x, 0)), ((3, 4),)),
    ("logcumsumexp_big", lambda L, x: x.logcumsumexp(1),
     (np.array([[1000.0, 1001.0, -1000.0], [-1000.0, -999.0, 5.0]]),)),
    ("logcumsumexp_inf", lambda L, x: x.logcumsumexp(0), (np.array([-INF, 0.0, -INF, 1.0]),)),
    # p-norms
    ("norms", _norms, (("nz", (3, 4)),)),
    ("norms_zeros", _norms, (ZEROS,)),
    ("norms_all_zero", lambda L, x: _norms(L, x)[::3], (np.zeros((2, 3)),)),
    ("norm_dims", lambda L, x: (x.norm(3, dim=(0, 2)), L.norm(x, 0.5, (1, 2), True), x.norm(dim=-1),
                                x.norm(-INF, 1)), (("nz", (2, 3, 4)),)),
    # NumPy's axis / keepdims spellings, as PyTorch accepts them
    ("axis_reductions", lambda L, x: (x.sum(axis=1), L.sum(x, axis=0, keepdims=True), x.mean(axis=(0, 1)),
                                      L.mean(x, axis=1, keepdims=True), x.prod(axis=1), x.amax(axis=0),
                                      L.amin(x, axis=1, keepdims=True), x.logsumexp(axis=1),
                                      x.var(axis=0), L.std(x, axis=1, keepdims=True), *L.var_mean(x, axis=1),
                                      *L.std_mean(x, axis=0, keepdims=True)), (("distinct", (3, 4)),)),
    ("axis_selections", lambda L, x: (*x.max(axis=1), *L.min(x, axis=0, keepdims=True), x.argmax(axis=1),
                                      L.argmin(x, axis=0, keepdims=True), x.sum(dim=1, keepdims=True)),
     (("distinct", (3, 4)),)),
    ("axis_scans", lambda L, x: (x.cumsum(axis=1), L.cumprod(x, axis=0), *x.cummax(axis=1),
                                 *L.cummin(x, axis=0), x.logcumsumexp(axis=1)), (("distinct", (3, 4)),)),
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy warns at poles (inf / NaN), PyTorch does not
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_math_matches_torch(torch, case, dtype):
    name, fn, specs = case[:3]
    check_op(torch, fn, specs, dtype)


def _pair(torch, values, dtype):
    return gradus.tensor(values, dtype=dtype), torch.tensor(values, dtype=getattr(torch, dtype))


def _same(g, t, what):
    e = t.numpy()
    assert g.dtype == e.dtype, f"{what}: dtype {g.dtype} vs torch {e.dtype}"
    assert g.shape == e.shape, f"{what}: shape {g.shape} vs torch {e.shape}"
    np.testing.assert_allclose(g.numpy(), e, rtol=1e-6, atol=1e-7, err_msg=what)
    if e.dtype.kind == "f":  # the sign of zero too (copysign, erf(-0), atan2 of signed zeros); not of NaN
        num = ~np.isnan(e)
        np.testing.assert_array_equal(np.signbit(g.numpy())[num], np.signbit(e)[num],
                                      err_msg=f"{what}: signs")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_integer_and_bool_inputs_match_torch(torch):
    """Integer/bool inputs of the float functions give the default float dtype (or float64 with a
    float64 operand); integer scans accumulate in int64; cummax/cummin keep the dtype."""
    unary = ["asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "exp2", "expm1", "log2",
             "log10", "erf", "erfc", "erfinv", "arcsin", "arctanh", "tan"]
    for dt in ("int64", "int32", "uint8", "int8", "bool"):
        vals = [True, False, True] if dt == "bool" else [0, 1, 3]
        g, t = _pair(torch, vals, dt)
        for name in unary:
            _same(getattr(gradus, name)(g), getattr(torch, name)(t), f"{name}({dt})")
            _same(getattr(g, name)(), getattr(t, name)(), f"Tensor.{name}({dt})")
        for name in ("cumsum", "cumprod"):
            _same(getattr(g, name)(0), getattr(t, name)(0), f"{name}({dt})")
        for name in ("cummax", "cummin"):
            (gv, gi), (tv, ti) = getattr(g, name)(0), getattr(t, name)(0)
            _same(gv, tv, f"{name}({dt}) values")
            _same(gi, ti, f"{name}({dt}) indices")
        if dt != "bool":
            ties = [3, 1, 3, 2, 1, 1]
            g_ties, t_ties = _pair(torch, ties, dt)
            _same(g_ties.cummin(0)[1], t_ties.cummin(0)[1], f"cummin ties ({dt})")
            _same(g_ties.cummax(0)[1], t_ties.cummax(0)[1], f"cummax ties ({dt})")
    a, b = [[1, -2, 0], [4, 0, -3]], [3, -1, 0]
    for dt_a, dt_b in (("int64", "int64"), ("int32", "int64"), ("int64", "float32"), ("float32", "int64"),
                       ("int32", "float64")):
        (ga, ta), (gb, tb) = _pair(torch, a, dt_a), _pair(torch, b, dt_b)
        for name in ("atan2", "copysign"):
            _same(getattr(gradus, name)(ga, gb), getattr(torch, name)(ta, tb), f"{name}({dt_a}, {dt_b})")
        if "float" in dt_a + dt_b:
            for name in ("hypot", "logaddexp", "logaddexp2"):
                _same(getattr(gradus, name)(ga, gb), getattr(torch, name)(ta, tb), f"{name}({dt_a}, {dt_b})")
    for dt in ("int64", "int32"):  # copysign with Python numbers
        g, t = _pair(torch, [1, -2, 0], dt)
        for c in (-1, 2.0, -0.0):
            _same(gradus.copysign(g, c), torch.copysign(t, c), f"copysign({dt}, {c})")
    # integer division with rounding modes, every sign combination
    n, d = [7, -7, 7, -7, 6, -6, 0], [2, 2, -2, -2, 3, 4, 5]
    for dt in ("int64", "int32"):
        (gn, tn), (gd, td) = _pair(torch, n, dt), _pair(torch, d, dt)
        for mode in ("floor", "trunc", None):
            _same(gradus.div(gn, gd, rounding_mode=mode), torch.div(tn, td, rounding_mode=mode),
                  f"div {mode} {dt}")
            _same(gn.div(3, rounding_mode=mode), tn.div(3, rounding_mode=mode), f"div scalar {mode} {dt}")
    big = [2 ** 62 + 1, -(2 ** 62) - 1]
    (g, t) = _pair(torch, big, "int64")
    _same(gradus.div(g, 3, rounding_mode="trunc"), torch.div(t, 3, rounding_mode="trunc"), "exact trunc")
    # the p = 0 norm counts nonzeros (NaN included)
    g, t = _pair(torch, [0.0, NAN, -2.0, 0.0], "float32")
    _same(g.norm(0), t.norm(0), "norm(0)")


def test_shifts_match_torch(torch):
    """``<<`` / ``>>`` (and reflected, and the functions): integer dtypes, promotion, Python numbers,
    counts negative or past the bit width (0 / the sign fill, as PyTorch)."""
    vals, counts = [1, -1, 5, -8, 3, 7, 100, -100], [0, 1, 2, 3, 6, 7, 8, -1]
    for dt in ("int64", "int32", "int16", "int8", "uint8"):
        v = [x % 256 for x in vals] if dt == "uint8" else vals
        c = [x % 256 for x in counts] if dt == "uint8" else counts
        (g, t), (gc, tc) = _pair(torch, v, dt), _pair(torch, c, dt)
        wide = [0, 15, 16, 31, 32, 63, 64, 65]
        (gw, tw) = _pair(torch, wide, "int64")
        ops = [lambda p, q: p << q, lambda p, q: p >> q, lambda p, q: p << 2, lambda p, q: p >> 1,
               lambda p, q: 3 << q % 5, lambda p, q: 100 >> q % 8,   # reflected, Python number on the left
               lambda p, q: p.bitwise_left_shift(q), lambda p, q: p.bitwise_right_shift(q)]
        for k, op in enumerate(ops):
            _same(op(g, gc), op(t, tc), f"{dt} op {k}")
        _same(gradus.bitwise_left_shift(g, gw), torch.bitwise_left_shift(t, tw), f"{dt} << wide")
        _same(gradus.bitwise_right_shift(g, gw), torch.bitwise_right_shift(t, tw), f"{dt} >> wide")
        _same(g >> 100, t >> 100, f"{dt} >> 100")
    # bool << int promotes to int64; int << True counts as 1
    _same(gradus.tensor([True, False]) << 1, torch.tensor([True, False]) << 1, "bool << 1")
    _same(gradus.tensor([1, 2]) << True, torch.tensor([1, 2]) << True, "int << True")
    (gu, tu), (gi, ti) = _pair(torch, [1, 2], "uint8"), _pair(torch, [1, 1], "int8")
    _same(gradus.bitwise_left_shift(gu, gi), torch.bitwise_left_shift(tu, ti), "uint8 << int8")


def _raises_both(torch, call, g_exc, t_exc, match=None):
    """``call(L)`` raises ``g_exc`` (message matching ``match``) in gradus and ``t_exc`` in torch."""
    with pytest.raises(g_exc, match=match):
        call(gradus)
    with pytest.raises(t_exc):
        call(torch)


def test_invalid_inputs_raise_like_torch(torch):
    """The same calls are refused by both, with gradus's error types (DTypeError is a TypeError,
    where PyTorch often raises RuntimeError / NotImplementedError)."""
    torch_dtype_errors = (TypeError, RuntimeError, NotImplementedError)
    f, i = [1.0, 2.0], [1, 2]
    checks = [
        # float operands of shifts; bool << bool; a float count
        (lambda L: L.tensor(f) << 1, DTypeError, torch_dtype_errors, "bitwise_left_shift"),
        (lambda L: L.tensor(f) >> L.tensor(f), DTypeError, torch_dtype_errors, "bitwise_right_shift"),
        (lambda L: 1 << L.tensor(f), DTypeError, torch_dtype_errors, "integer tensors"),
        (lambda L: L.tensor(f).bitwise_left_shift(L.tensor(i)), DTypeError, torch_dtype_errors, "shift"),
        (lambda L: L.tensor([True]) << L.tensor([True]), DTypeError, torch_dtype_errors, "integer"),
        (lambda L: L.tensor(i) << 1.5, DTypeError, torch_dtype_errors, "integer"),
        # no integer kernels
        *[(lambda L, n=n: getattr(L, n)(L.tensor(i), L.tensor(i)), DTypeError, torch_dtype_errors, n)
          for n in ("hypot", "logaddexp", "logaddexp2")],
        (lambda L: L.tensor(i).logcumsumexp(0), DTypeError, torch_dtype_errors, "logcumsumexp"),
        (lambda L: L.tensor(i).norm(), DTypeError, torch_dtype_errors, "norm"),
        (lambda L: L.lerp(L.tensor(i), L.tensor(i), 0.5), DTypeError, torch_dtype_errors, "lerp"),
        # lerp's dtypes must match (a 0-d weight may differ)
        (lambda L: L.lerp(L.tensor(f), L.tensor(f, dtype=L.float64), 0.5), DTypeError, RuntimeError, "end"),
        (lambda L: L.lerp(L.tensor(f), L.tensor(f), L.tensor(f, dtype=L.float64)), DTypeError, RuntimeError,
         "weight"),
        # div: an unknown rounding mode
        (lambda L: L.div(L.tensor(f), 2, rounding_mode="bogus"), ValueError, RuntimeError,
         "rounding_mode must be None, 'trunc' or 'floor', got 'bogus'"),
        (lambda L: L.tensor(f).div(2, rounding_mode="round"), ValueError, RuntimeError, "rounding_mode"),
        # sum with something that is not a dtype: a dtype error, not a device error
        *[(lambda L, b=b: L.tensor(f).sum(dtype=b), DTypeError, TypeError, "sum: dtype=")
          for b in ("", "cuda", 3.5, "float33")],
        # dim and axis together; a scan without a dim, with a tuple, out of range
        (lambda L: L.ones(2, 3).sum(dim=0, axis=1), TypeError, TypeError, "both dim=0 and axis=1"),
        (lambda L: L.ones(2, 3).max(dim=0, axis=1), TypeError, TypeError, "axis"),
        (lambda L: L.cumsum(L.ones(2, 3)), TypeError, TypeError, "missing the dim"),
        (lambda L: L.ones(2, 3).cumprod((0,)), TypeError, TypeError, "must be an int"),
        (lambda L: L.ones(2, 3).cummax(2), IndexError, IndexError, "out of range"),
        # a matrix norm
        (lambda L: L.ones(2, 3).norm(p="nuc", dim=0), ValueError, RuntimeError, "nuc"),
    ]
    for k, (call, g_exc, t_exc, match) in enumerate(checks):
        try:
            _raises_both(torch, call, g_exc, t_exc, match)
        except BaseException as e:  # name the failing check
            raise AssertionError(f"check {k} ({match!r}): {e}") from e
    for name in ("mean", "prod", "cumsum", "cumprod", "norm"):
        with pytest.raises(DTypeError, match=f"{name}: dtype="):
            getattr(gradus.ones(2), name)(**({"dim": 0} if name.startswith("cum") else {}), dtype="")
    lerp_0d = [L.lerp(L.tensor(f), L.tensor(f), L.tensor(0.5, dtype=L.float64)) for L in (gradus, torch)]
    assert lerp_0d[0].dtype == lerp_0d[1].numpy().dtype == np.float32   # a 0-d weight may differ
    assert gradus.tensor(i).sum(dtype=gradus.float64).dtype == gradus.float64
    assert gradus.tensor([1.5, 2.0]).sum(dtype=gradus.int64).tolist() == \
        torch.tensor([1.5, 2.0]).sum(dtype=torch.int64).tolist()


def test_norm_zero_has_zero_gradient_and_backward_works(torch):
    x = gradus.tensor([[0.0, 2.0, -3.0], [0.0, 0.0, 1.0]], requires_grad=True)
    y = x.norm(p=0)
    assert y.item() == torch.tensor([[0.0, 2.0, -3.0], [0.0, 0.0, 1.0]]).norm(p=0).item() == 3.0
    y.backward()   # PyTorch leaves x.grad undefined (a zero gradient); gradus stores the zeros
    assert x.grad.tolist() == [[0.0] * 3] * 2
