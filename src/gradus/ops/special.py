"""Transcendental functions beyond exp / log / sin / cos / tanh: inverse trigonometric
(``asin``, ``acos``, ``atan``, ``atan2``), hyperbolic (``sinh``, ``cosh``, ``asinh``, ``acosh``,
``atanh``), the error-function family (``erf``, ``erfc``, ``erfinv``) and the two-argument
relatives ``hypot``, ``logaddexp``, ``logaddexp2``.

    >>> import gradus
    >>> gradus.erfinv(gradus.erf(gradus.tensor([0.5], dtype=gradus.float64)))
    tensor([0.5000], dtype=gradus.float64)

Dtypes follow PyTorch: integer and bool inputs become the default float dtype, except where
PyTorch has no integer kernel (``hypot``, ``logaddexp``, ``logaddexp2`` of two integer tensors:
refused with a ``DTypeError``). Gradients use PyTorch's formulas, so their values at the edges of
the domain agree too (``asin'(1) = inf``, ``atan2``'s gradient 0 at the origin, ``hypot``'s NaN
there). NumPy has no erf / erfc / erfinv: they are computed here, in float64, and returned in the
input's dtype.
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..dtypes import get_default_dtype
from ..errors import DTypeError
from ..tensor import Tensor
from .elementwise import _binary_operands, _float_input, exp, exp2, reciprocal, rsqrt, where

xp_of = backend.get_array_module

__all__ = ["asin", "acos", "atan", "atan2", "sinh", "cosh", "asinh", "acosh", "atanh", "hypot", "logaddexp",
           "logaddexp2", "erf", "erfc", "erfinv", "erf_array", "erfc_array", "erfinv_array",
           "arcsin", "arccos", "arctan", "arctan2", "arcsinh", "arccosh", "arctanh"]

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_TWO = math.sqrt(math.pi) / 2.0


# ---------------------------------------------------------------------------------------------
# inverse trigonometric and hyperbolic functions
# ---------------------------------------------------------------------------------------------
class Asin(Function):
    """y = asin x  (nan outside [-1, 1]);  gx = gy / sqrt(1 - x^2)  (inf at x = +-1, as PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp_of(x).arcsin(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * rsqrt(1.0 - x * x)


class Acos(Function):
    """y = acos x  (nan outside [-1, 1]);  gx = -gy / sqrt(1 - x^2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp_of(x).arccos(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return -(gy * rsqrt(1.0 - x * x))


class Atan(Function):
    """y = atan x;  gx = gy / (1 + x^2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp_of(x).arctan(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy / (x * x + 1.0)


class Sinh(Function):
    """y = sinh x;  gx = gy cosh x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp_of(x).sinh(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * cosh(x)


class Cosh(Function):
    """y = cosh x;  gx = gy sinh x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp_of(x).cosh(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * sinh(x)


class Asinh(Function):
    """y = asinh x = ln(x + sqrt(x^2 + 1));  gx = gy / sqrt(x^2 + 1)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp_of(x).arcsinh(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * rsqrt(x * x + 1.0)


class Acosh(Function):
    """y = acosh x  (nan below 1);  gx = gy / sqrt(x^2 - 1)  (inf at x = 1)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp_of(x).arccosh(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * rsqrt(x * x - 1.0)


class Atanh(Function):
    """y = atanh x  (+-inf at +-1, nan beyond);  gx = gy / (1 - x^2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp_of(x).arctanh(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy / (1.0 - x * x)


def asin(input) -> Tensor:  # noqa: A002 (PyTorch's argument name)
    """Elementwise arcsine, in [-pi/2, pi/2]; NaN outside [-1, 1]. Any shape."""
    return Asin.apply(_float_input(input, "asin"))


def acos(input) -> Tensor:  # noqa: A002
    """Elementwise arccosine, in [0, pi]; NaN outside [-1, 1]. Any shape."""
    return Acos.apply(_float_input(input, "acos"))


def atan(input) -> Tensor:  # noqa: A002
    """Elementwise arctangent, in (-pi/2, pi/2). Any shape."""
    return Atan.apply(_float_input(input, "atan"))


def sinh(input) -> Tensor:  # noqa: A002
    """Elementwise (e^x - e^-x) / 2. Any shape."""
    return Sinh.apply(_float_input(input, "sinh"))


def cosh(input) -> Tensor:  # noqa: A002
    """Elementwise (e^x + e^-x) / 2. Any shape."""
    return Cosh.apply(_float_input(input, "cosh"))


def asinh(input) -> Tensor:  # noqa: A002
    """Elementwise inverse hyperbolic sine. Any shape."""
    return Asinh.apply(_float_input(input, "asinh"))


def acosh(input) -> Tensor:  # noqa: A002
    """Elementwise inverse hyperbolic cosine (x >= 1; NaN below). Any shape."""
    return Acosh.apply(_float_input(input, "acosh"))


def atanh(input) -> Tensor:  # noqa: A002
    """Elementwise inverse hyperbolic tangent (``|x| <= 1``; +-inf at +-1, NaN beyond). Any shape."""
    return Atanh.apply(_float_input(input, "atanh"))


# the NumPy-style names PyTorch also has
arcsin, arccos, arctan = asin, acos, atan
arcsinh, arccosh, arctanh = asinh, acosh, atanh


# ---------------------------------------------------------------------------------------------
# two-argument functions
# ---------------------------------------------------------------------------------------------
def _float_pair(a, b, op: str, ints: bool):
    """Both operands broadcast-checked and promoted (a float with an int is the float); two integer
    operands become the default float when ``ints`` (PyTorch's atan2), else are refused (PyTorch has
    no integer kernel for hypot / logaddexp)."""
    a, b = _binary_operands(a, b, op)
    if a.data.dtype.kind in "iub" and b.data.dtype.kind in "iub":
        if not ints:
            raise DTypeError(f"{op}: expects floating point tensors, got {a.dtype} and {b.dtype} (PyTorch "
                             "has no integer kernel for it); convert with .float()")
        dt = get_default_dtype()
        a, b = Tensor._make(a.data.astype(dt)), Tensor._make(b.data.astype(dt))
    return a, b


class Atan2(Function):
    """y = atan2(a, b), the angle of the point (b, a) in (-pi, pi];
    ga = gy b / (a^2 + b^2),  gb = -gy a / (a^2 + b^2)  (both 0 at the origin, as PyTorch)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return xp_of(a, b).arctan2(a, b)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        r2 = a * a + b * b
        origin = r2.data == 0
        if bool(origin.any()):
            # PyTorch: 1 / r^2 := 0 at the origin, so both gradients are (signed) zeros there
            inv = where(origin, 0.0, reciprocal(where(origin, 1.0, r2)))
        else:
            inv = reciprocal(r2)
        ga = gy * b * inv if ctx.needs_input_grad[0] else None
        gb = gy * -a * inv if ctx.needs_input_grad[1] else None
        return ga, gb


class Hypot(Function):
    """y = sqrt(a^2 + b^2) (without overflow);  ga = gy a / y,  gb = gy b / y  (NaN at the origin,
    as PyTorch)."""

    @staticmethod
    def forward(ctx, a, b):
        y = xp_of(a, b).hypot(a, b)
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        a, b, y = ctx.saved_tensors
        ga = gy * a / y if ctx.needs_input_grad[0] else None
        gb = gy * b / y if ctx.needs_input_grad[1] else None
        return ga, gb


class LogAddExp(Function):
    """y = log(e^a + e^b) (or log2(2^a + 2^b) with ``base2``), computed without overflow;
    ga = gy / (1 + e^(b - a)),  gb = gy / (1 + e^(a - b))  (base 2: 2^ instead of e^). Both NaN where
    a = b = +-inf, as PyTorch."""

    @staticmethod
    def forward(ctx, a, b, base2):
        ctx.save_for_backward(a, b)
        ctx.base2 = base2
        xp = xp_of(a, b)
        return (xp.logaddexp2 if base2 else xp.logaddexp)(a, b)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        pw = exp2 if ctx.base2 else exp
        ga = gy / (pw(b - a) + 1.0) if ctx.needs_input_grad[0] else None
        gb = gy / (pw(a - b) + 1.0) if ctx.needs_input_grad[1] else None
        return ga, gb, None


def atan2(input, other) -> Tensor:  # noqa: A002
    """Elementwise atan2(input, other): the angle of (x = other, y = input), in (-pi, pi].
    Broadcasts; integer operands become the default float."""
    return Atan2.apply(*_float_pair(input, other, "atan2", ints=True))


arctan2 = atan2


def hypot(input, other) -> Tensor:  # noqa: A002
    """Elementwise sqrt(input^2 + other^2), without intermediate overflow. Broadcasts; floats only."""
    return Hypot.apply(*_float_pair(input, other, "hypot", ints=False))


def logaddexp(input, other) -> Tensor:  # noqa: A002
    """Elementwise log(e^input + e^other), stable for large magnitudes. Broadcasts; floats only."""
    return LogAddExp.apply(*_float_pair(input, other, "logaddexp", ints=False), False)


def logaddexp2(input, other) -> Tensor:  # noqa: A002
    """Elementwise log2(2^input + 2^other), stable for large magnitudes. Broadcasts; floats only."""
    return LogAddExp.apply(*_float_pair(input, other, "logaddexp2", ints=False), True)


# ---------------------------------------------------------------------------------------------
# erf, erfc: rational approximations of Sun's fdlibm (s_erf.c; W. J. Cody's method), accurate to
# ~1 ulp in float64, vectorised over the intervals of |x|.
# ---------------------------------------------------------------------------------------------
_ERX = 8.45062911510467529297e-01
_PP = (1.28379167095512558561e-01, -3.25042107247001499370e-01, -2.84817495755985104766e-02,
       -5.77027029648944159157e-03, -2.37630166566501626084e-05)
_QQ = (1.0, 3.97917223959155352819e-01, 6.50222499887672944485e-02, 5.08130628187576562776e-03,
       1.32494738004321644526e-04, -3.96022827877536812320e-06)
_PA = (-2.36211856075265944077e-03, 4.14856118683748331666e-01, -3.72207876035701323847e-01,
       3.18346619901161753674e-01, -1.10894694282396677476e-01, 3.54783043256182359371e-02,
       -2.16637559486879084300e-03)
_QA = (1.0, 1.06420880400844228286e-01, 5.40397917702171048937e-01, 7.18286544141962662868e-02,
       1.26171219808761642112e-01, 1.36370839120290507362e-02, 1.19844998467991074170e-02)
_RA = (-9.86494403484714822705e-03, -6.93858572707181764372e-01, -1.05586262253232909814e+01,
       -6.23753324503260060396e+01, -1.62396669462573470355e+02, -1.84605092906711035994e+02,
       -8.12874355063065934246e+01, -9.81432934416914548592e+00)
_SA = (1.0, 1.96512716674392571292e+01, 1.37657754143519042600e+02, 4.34565877475229228821e+02,
       6.45387271733267880336e+02, 4.29008140027567833386e+02, 1.08635005541779435134e+02,
       6.57024977031928170135e+00, -6.04244152148580987438e-02)
_RB = (-9.86494292470009928597e-03, -7.99283237680523006574e-01, -1.77579549177547519889e+01,
       -1.60636384855821916062e+02, -6.37566443368389627722e+02, -1.02509513161107724954e+03,
       -4.83519191608651397019e+02)
_SB = (1.0, 3.03380607434824582924e+01, 3.25792512996573918826e+02, 1.53672958608443695994e+03,
       3.19985821950859553908e+03, 2.55305040643316442583e+03, 4.74528541206955367215e+02,
       -2.24409524465858183362e+01)


def _horner(z, coeffs):
    r = coeffs[-1]
    for c in reversed(coeffs[:-1]):
        r = r * z + c
    return r


def _erfc_tail(s, xp):
    """erfc(s) for s >= 1.25 (float64 array): exp(-s^2 - 0.5625 + R(1/s^2) / S(1/s^2)) / s."""
    z = 1.0 / (s * s)
    small = s < 1 / 0.35
    rs = xp.where(small, _horner(z, _RA) / _horner(z, _SA), _horner(z, _RB) / _horner(z, _SB))
    # split s = hi + lo with hi exactly representable in 24 bits, so that hi * hi is exact
    hi = s.astype(np.float32).astype(np.float64)
    return xp.exp(-hi * hi - 0.5625) * xp.exp((hi - s) * (hi + s) + rs) / s


# float32 erf: the rational minimax approximation erf(x) = x P(x^2) / Q(x^2) on [-4, 4] (erf(+-4) is 1
# to float32 precision) used by Eigen and XLA for float32 (``generic_fast_erf_float``). Evaluated in
# float32: max abs error 4.2e-7 (about 7 ulp of 1, near |x| = 3.3), relative error 2e-7 for small x;
# no branches, so no boolean-mask gathers -- 5x faster than the float64 fdlibm path on MNIST-sized
# GELU inputs, which made the exact GELU 60% of a MiniLM forward pass.
_ERF32_P = (-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06, -5.69250639462346e-05,
            -7.34990630326855e-04, -2.95459980854025e-03, -1.60960333262415e-02)   # x^12 .. x^0 in x^2
_ERF32_Q = (-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03, -7.37332916720468e-03,
            -1.42647390514189e-02)


def _erf_float32(x):
    xp = xp_of(x)
    v = xp.clip(x, -4.0, 4.0)                      # NaN stays NaN, +-inf -> +-4 -> +-1
    z = v * v
    p = xp.full_like(z, _ERF32_P[0])
    for c in _ERF32_P[1:]:                         # Horner, in place: no temporaries per term
        p *= z
        p += np.float32(c)
    q = xp.full_like(z, _ERF32_Q[0])
    for c in _ERF32_Q[1:]:
        q *= z
        q += np.float32(c)
    p *= v
    p /= q
    return p


def erf_array(x):
    """erf(x) for a float array in x's dtype: float32 by a branch-free rational approximation in
    float32 (max error 4.2e-7), every other dtype by fdlibm's piecewise rational approximations in
    float64 (1 ulp)."""
    xp = xp_of(x)
    if x.dtype == np.float32:
        return _erf_float32(x)
    a = xp.abs(x.astype(np.float64))
    out = xp.empty_like(a)
    # |x| < 0.84375: erf(x) = x + x * P(x^2)/Q(x^2)
    m0 = a < 0.84375
    if m0.any():
        s = a[m0]
        z = s * s
        out[m0] = s + s * (_horner(z, _PP) / _horner(z, _QQ))
    # 0.84375 <= |x| < 1.25: erf(x) = erx + P(s)/Q(s), s = |x| - 1
    m1 = (a >= 0.84375) & (a < 1.25)
    if m1.any():
        s = a[m1] - 1.0
        out[m1] = _ERX + _horner(s, _PA) / _horner(s, _QA)
    # 1.25 <= |x| < 6: erf = 1 - erfc
    m2 = (a >= 1.25) & (a < 6.0)
    if m2.any():
        out[m2] = 1.0 - _erfc_tail(a[m2], xp)
    m3 = ~(m0 | m1 | m2)  # |x| >= 6 (and NaN, which propagates through the sign below)
    if m3.any():
        out[m3] = xp.where(xp.isnan(a[m3]), xp.nan, 1.0)
    out = xp.copysign(out, x)
    return out.astype(x.dtype, copy=False)


def erfc_array(x):
    """erfc(x) = 1 - erf(x) for a float array, without the cancellation of ``1 - erf`` (relative
    accuracy ~1 ulp down to the underflow near x = 27); float64 inside, returned in x's dtype."""
    xp = xp_of(x)
    v = x.astype(np.float64)
    a = xp.abs(v)
    out = xp.empty_like(a)
    # |x| < 0.84375: 1 - (x + x y), rearranged for x >= 1/4 to keep the small terms together
    m0 = a < 0.84375
    if m0.any():
        s = v[m0]
        z = s * s
        y = _horner(z, _PP) / _horner(z, _QQ)
        out[m0] = xp.where(s < 0.25, 1.0 - (s + s * y), 0.5 - (s * y + (s - 0.5)))
    # 0.84375 <= |x| < 1.25
    m1 = (a >= 0.84375) & (a < 1.25)
    if m1.any():
        s = v[m1]
        pq = _horner(xp.abs(s) - 1.0, _PA) / _horner(xp.abs(s) - 1.0, _QA)
        out[m1] = xp.where(s >= 0, (1.0 - _ERX) - pq, 1.0 + (_ERX + pq))
    # 1.25 <= |x| < 28 (x > 0: the tail itself; x < 0: 2 - tail, which is 2 below -6)
    m2 = (a >= 1.25) & (a < 28.0)
    if m2.any():
        s = v[m2]
        with np.errstate(under="ignore"):
            t = _erfc_tail(xp.abs(s), xp)
        out[m2] = xp.where(s > 0, t, 2.0 - t)
    m3 = ~(m0 | m1 | m2)  # |x| >= 28, +-inf, NaN
    if m3.any():
        s = v[m3]
        out[m3] = xp.where(xp.isnan(s), xp.nan, xp.where(s > 0, 0.0, 2.0))
    return out.astype(x.dtype, copy=False)


# ---------------------------------------------------------------------------------------------
# erfinv: Giles' single-precision approximation as the starting point ("Approximating the erfinv
# function", GPU Computing Gems, 2011; relative error < 4e-7 on float32's range, ~10% at the float64
# extreme 1 - 2^-53), then refined to float64 accuracy. For |y| <= 1/2: Halley steps on
# erf(x) - y (each triples the correct digits). For |y| > 1/2, where erf(x) - y would cancel and
# erf is flat: Newton steps on log(erfc(x)) - log(1 - y), which is nearly quadratic in x, so they
# converge from the poor far-tail start too (1 - y is exact there, by Sterbenz's lemma).
# ---------------------------------------------------------------------------------------------
_GILES_CENTRAL = (1.50140941, 0.246640727, -0.00417768164, -0.00125372503, 0.00021858087,
                  -4.39150654e-06, -3.5233877e-06, 3.43273939e-07, 2.81022636e-08)
_GILES_TAIL = (2.83297682, 1.00167406, 0.00943887047, -0.0076224613, 0.00573950773, -0.00367342844,
               0.00134934322, 0.000100950558, -0.000200214257)


def _erfinv_start(t, xp):
    """Giles' approximation of erfinv(t) for 0 <= t < 1."""
    w = -xp.log((1.0 - t) * (1.0 + t))
    central = _horner(w - 2.5, _GILES_CENTRAL)
    tail = _horner(xp.sqrt(xp.maximum(w, 5.0)) - 3.0, _GILES_TAIL)
    return xp.where(w < 5.0, central, tail) * t


def erfinv_array(y):
    """erfinv(y) for a float array: the x in (-inf, inf) with erf(x) = y; +-inf at +-1, NaN for
    |y| > 1 and NaN. Computed in float64 (~1 ulp), returned in y's dtype."""
    xp = xp_of(y)
    v = y.astype(np.float64)
    a = xp.abs(v)
    out = xp.full(a.shape, xp.nan)
    out[a == 1.0] = xp.inf
    low = a <= 0.5
    if low.any():
        t = a[low]
        x = _erfinv_start(t, xp)
        for _ in range(2):
            # Halley: x -= u / (1 + x u), u = f / f', f' = 2/sqrt(pi) e^(-x^2), f'' = -2 x f'
            u = (erf_array(x) - t) / (_TWO_OVER_SQRT_PI * xp.exp(-x * x))
            x = x - u / (1.0 + x * u)
        out[low] = x
    high = (a > 0.5) & (a < 1.0)
    if high.any():
        t = a[high]
        x = _erfinv_start(t, xp)
        log_q = xp.log(1.0 - t)
        for _ in range(4):
            # Newton on g(x) = log erfc(x) - log(1 - t);  g'(x) = -2/sqrt(pi) e^(-x^2) / erfc(x)
            e = erfc_array(x)
            x = x + (xp.log(e) - log_q) * e / (_TWO_OVER_SQRT_PI * xp.exp(-x * x))
        out[high] = x
    out = xp.copysign(out, v)
    return out.astype(y.dtype, copy=False)


class Erf(Function):
    """y = erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt;  gx = gy * 2/sqrt(pi) * exp(-x^2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return erf_array(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * (exp(-(x * x)) * _TWO_OVER_SQRT_PI)


class Erfc(Function):
    """y = erfc(x) = 1 - erf(x);  gx = -gy * 2/sqrt(pi) * exp(-x^2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return erfc_array(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * (exp(-(x * x)) * -_TWO_OVER_SQRT_PI)


class Erfinv(Function):
    """y = erfinv(x), erf(y) = x;  gx = gy * sqrt(pi)/2 * exp(y^2)  (inf at x = +-1)."""

    @staticmethod
    def forward(ctx, x):
        y = erfinv_array(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy * (exp(y * y) * _SQRT_PI_OVER_TWO)


def erf(input) -> Tensor:  # noqa: A002
    """The error function 2/sqrt(pi) * integral_0^x e^(-t^2) dt, elementwise (~1e-16 in float64).
    Any shape; integer inputs become the default float."""
    return Erf.apply(_float_input(input, "erf"))


def erfc(input) -> Tensor:  # noqa: A002
    """The complementary error function 1 - erf(x), elementwise, accurate where it is tiny
    (erfc(10) = 2.1e-45, not 0). Any shape; integer inputs become the default float."""
    return Erfc.apply(_float_input(input, "erfc"))


def erfinv(input) -> Tensor:  # noqa: A002
    """The inverse error function on [-1, 1] (+-inf at +-1, NaN outside), elementwise, accurate to
    ~1 ulp in float64. Any shape; integer inputs become the default float."""
    return Erfinv.apply(_float_input(input, "erfinv"))
