"""Elementwise primitives. Binary ops broadcast; the engine sums gradients back to each input's
shape, so a backward here returns gradients of the *output's* shape.

Every backward is written with Tensor ops, so it can be differentiated again. The most frequent
ones (Sub, Mul, Div, Exp, Tanh, Sigmoid, Relu) are FusedFunctions: the same formula once more on raw
arrays, the path of a plain ``backward()`` (an op call costs microseconds that dominate on small
tensors).
"""
from __future__ import annotations

import builtins

import numpy as np

from .. import backend, kernels
from ..autograd.function import Function, FusedFunction
from ..dtypes import get_default_dtype
from ..errors import DTypeError, ShapeError
from ..tensor import Tensor, as_operand, promote_pair
from ..validation import check_alloc

xp_of = backend.get_array_module


def _binary_operands(a, b, op: str):
    """Tensors for both operands (numbers become 0-d constants), promoted PyTorch-style, with a
    clear error when their shapes cannot broadcast."""
    if not isinstance(a, Tensor):
        a = as_operand(a, b)
    elif not isinstance(b, Tensor):
        b = as_operand(b, a)
    if a.data.dtype != b.data.dtype:
        a, b = promote_pair(a, b)
    sa, sb = a.data.shape, b.data.shape
    if sa != sb and sa and sb:
        try:
            out = np.broadcast_shapes(sa, sb)
        except ValueError:
            raise ShapeError(
                f"{op}: shapes {tuple(sa)} and {tuple(sb)} cannot be broadcast together (trailing "
                "dimensions must be equal or 1); reshape/unsqueeze one operand") from None
        # broadcasting multiplies sizes (x[:, None] - y[None, :]): check the result fits (a few
        # integer multiplies; the free memory is read only for results over 256 MiB)
        check_alloc(f"{op} of shapes {tuple(sa)} and {tuple(sb)}", out, a.data.dtype)
    return a, b


# ---------------------------------------------------------------------------------------------
# arithmetic
# ---------------------------------------------------------------------------------------------
class Add(Function):
    """y = a + b;  ga = gy, gb = gy."""

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, gy):
        return gy, gy


class Sub(FusedFunction):
    """y = a - b;  ga = gy, gb = -gy."""

    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward_raw(ctx, gy):
        return gy, (-gy if ctx.needs_input_grad[1] else None)

    @staticmethod
    def backward_composed(ctx, gy):
        return gy, (-gy if ctx.needs_input_grad[1] else None)


class Mul(FusedFunction):
    """y = a * b;  ga = gy * b, gb = gy * a."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward_raw(ctx, gy):
        a, b = ctx.saved_arrays
        ga = gy * b if ctx.needs_input_grad[0] else None
        gb = gy * a if ctx.needs_input_grad[1] else None
        return ga, gb

    @staticmethod
    def backward_composed(ctx, gy):
        a, b = ctx.saved_tensors
        ga = gy * b if ctx.needs_input_grad[0] else None
        gb = gy * a if ctx.needs_input_grad[1] else None
        return ga, gb


class Div(FusedFunction):
    """y = a / b;  ga = gy / b, gb = -gy * a / b^2."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        y = a / b
        if a.dtype.kind in "iub" and b.dtype.kind in "iub":  # int / int -> default float, not NumPy's float64
            y = y.astype(get_default_dtype())
        return y

    @staticmethod
    def backward_raw(ctx, gy):
        a, b = ctx.saved_arrays
        ga = gy / b if ctx.needs_input_grad[0] else None
        gb = -gy * a / (b * b) if ctx.needs_input_grad[1] else None
        return ga, gb

    @staticmethod
    def backward_composed(ctx, gy):
        a, b = ctx.saved_tensors
        ga = gy / b if ctx.needs_input_grad[0] else None
        gb = -gy * a / (b * b) if ctx.needs_input_grad[1] else None
        return ga, gb


class Neg(Function):
    """y = -x."""

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, gy):
        return -gy


class PowScalar(Function):
    """y = x ** c for a constant number c;  gx = gy * c * x^(c-1)."""

    @staticmethod
    def forward(ctx, x, c):
        ctx.save_for_backward(x)
        ctx.c = c
        xp = xp_of(x)
        if c == 2:
            return x * x
        if c == 0.5:
            return xp.sqrt(x)
        return xp.power(x, xp.asarray(c, dtype=x.dtype))

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        c = ctx.c
        if c == 0:
            return gy * 0.0, None
        if c == 1:
            return gy, None
        if c == 2:
            return gy * (2.0 * x), None
        return gy * (c * pow(x, c - 1)), None


class Pow(Function):
    """y = a ** b (both tensors);  ga = gy * b * a^(b-1)  (0 where b == 0),
    gb = gy * y * log(a)  (0 where a == 0 and b >= 0)."""

    @staticmethod
    def forward(ctx, a, b):
        y = xp_of(a).power(a, b)
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        a, b, y = ctx.saved_tensors
        ga = None
        if ctx.needs_input_grad[0]:
            # PyTorch's convention: d(a^b)/da := 0 where b == 0 (0 * a^-1 would be nan at a == 0)
            ga = where(b == 0, 0.0, gy * b * pow(a, b - 1))
        gb = None
        if ctx.needs_input_grad[1]:
            # PyTorch's convention: d(a^b)/db := 0 where a == 0 and b >= 0 (instead of 0 * -inf = nan);
            # where a == 0 and b < 0 it is inf * log(0) = -inf, as PyTorch. The masked base is 1, so a
            # second derivative through the masked entries stays finite.
            zero = (a.data == 0) & (b.data >= 0)
            if bool(zero.any()):
                gb = where(zero, 0.0, gy * y * log(where(zero, 1.0, a)))
            else:
                gb = gy * y * log(a)
        return ga, gb


def add(a, b, alpha=1) -> Tensor:
    a, b = _binary_operands(a, b, "add")
    if alpha != 1:
        b = mul(b, alpha)
    return Add.apply(a, b)


def sub(a, b, alpha=1) -> Tensor:
    a, b = _binary_operands(a, b, "sub")
    if alpha != 1:
        b = mul(b, alpha)
    return Sub.apply(a, b)


def mul(a, b) -> Tensor:
    return Mul.apply(*_binary_operands(a, b, "mul"))


def div(a, b, rounding_mode=None) -> Tensor:
    """a / b (true division: integers give the default float); ``rounding_mode="trunc"`` rounds the
    quotient toward zero, ``"floor"`` toward -inf (both keep integer dtypes, no gradient)."""
    a, b = _binary_operands(a, b, "div")
    if rounding_mode is None:
        return Div.apply(a, b)
    if rounding_mode == "floor":
        return floor_divide(a, b)
    if rounding_mode == "trunc":
        xp = xp_of(a.data)
        if a.data.dtype.kind in "iub" and b.data.dtype.kind in "iub":
            _check_int_divisor("div(rounding_mode='trunc')", a, b)
            # exact integer truncation: floor, moved up by one where the quotient is negative and inexact
            q = xp.floor_divide(a.data, b.data)
            return Tensor._make(q + ((q < 0) & (xp.remainder(a.data, b.data) != 0)))
        return Tensor._make(xp.trunc(a.data / b.data))
    raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")


def _check_int_divisor(name: str, a: Tensor, b: Tensor) -> None:
    """Integer division by zero raises ZeroDivisionError, as PyTorch (NumPy would return 0 and warn)."""
    if a.data.dtype.kind in "iub" and b.data.dtype.kind in "iub" and b.data.size and not b.data.all():
        raise ZeroDivisionError(f"{name}: integer division by zero (the divisor of dtype {b.data.dtype} "
                                f"holds "
                                "a 0; use float tensors to get inf/nan instead)")


def floor_divide(a, b) -> Tensor:
    """Floor division (no gradient: piecewise constant). Integer division by zero raises
    ZeroDivisionError, as PyTorch."""
    a, b = _binary_operands(a, b, "floor_divide")
    _check_int_divisor("floor_divide", a, b)
    return Tensor._make(xp_of(a.data).floor_divide(a.data, b.data))


class _Mod(Function):
    """y = a - q * b with q = floor(a / b) (``remainder``, Python's %) or trunc(a / b) (``fmod``, C's);
    ga = gy,  gb = -gy * q (PyTorch's gradients; q is piecewise constant)."""

    @staticmethod
    def forward(ctx, a, b, trunc):
        xp = xp_of(a, b)
        ctx.save_for_backward(a, b)
        ctx.trunc = trunc
        # NumPy's fmod / remainder are exact (computed from the C fmod), like PyTorch's kernels
        return xp.fmod(a, b) if trunc else xp.remainder(a, b)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        gb = None
        if ctx.needs_input_grad[1]:
            xp = xp_of(a.data)
            q = a.data / b.data
            q = xp.trunc(q) if ctx.trunc else xp.floor(q)
            gb = gy * Tensor._make(-q.astype(gy.dtype, copy=False))
        return gy, gb, None


def remainder(a, b) -> Tensor:
    """a - floor(a / b) * b: the sign of the divisor (Python's %, as PyTorch's ``remainder``).

    ``remainder(-3, 2) == 1``; gradients: 1 w.r.t. a, -floor(a / b) w.r.t. b."""
    a, b = _binary_operands(a, b, "remainder")
    _check_int_divisor("remainder", a, b)
    return _Mod.apply(a, b, False)


def fmod(a, b) -> Tensor:
    """a - trunc(a / b) * b: the sign of the dividend (C's fmod, as PyTorch's ``fmod``).

    ``fmod(-3, 2) == -1``; gradients: 1 w.r.t. a, -trunc(a / b) w.r.t. b."""
    a, b = _binary_operands(a, b, "fmod")
    _check_int_divisor("fmod", a, b)
    return _Mod.apply(a, b, True)


def neg(x) -> Tensor:
    return Neg.apply(x)


def pow(x, exponent) -> Tensor:  # noqa: A001 (PyTorch name)
    """x ** exponent; a Python number exponent is a constant (cheaper, exact gradient)."""
    if isinstance(x, Tensor) and not isinstance(exponent, Tensor) and np.isscalar(exponent):
        if x.data.dtype.kind in "iub" and isinstance(exponent, float):
            x = x.float()
        return PowScalar.apply(x, exponent)
    a, b = _binary_operands(x, exponent, "pow")
    return Pow.apply(a, b)


class CopySign(Function):
    """y = |a| with the sign (bit) of b;  ga = gy * y / a  (+-1; 0 where a == 0, as PyTorch),
    gb = 0 (piecewise constant in b)."""

    @staticmethod
    def forward(ctx, a, b):
        y = xp_of(a, b).copysign(a, b)
        ctx.save_for_backward(a, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        a, y = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            xp = xp_of(a.data)
            # the ratio y / a is a constant sign (second derivative 0): +-1, 0 at a == 0, NaN at NaN
            flip = xp.signbit(a.data) != xp.signbit(y.data)
            ratio = xp.where(a.data == 0, 0.0, xp.where(flip, -1.0, 1.0)).astype(gy.dtype, copy=False)
            ratio = xp.where(xp.isnan(a.data), a.data, ratio)
            ga = gy * Tensor._make(ratio)
        if ctx.needs_input_grad[1]:
            gb = Tensor._make(xp_of(gy.data).zeros(gy.shape, gy.dtype))
        return ga, gb


def copysign(input, other) -> Tensor:  # noqa: A002 (PyTorch's argument name)
    """Elementwise ``|input|`` with the sign of ``other`` (including the sign of -0.0). Broadcasts;
    integer operands become the default float, as in PyTorch."""
    a, b = _binary_operands(input, other, "copysign")
    if a.data.dtype.kind in "iub" and b.data.dtype.kind in "iub":
        dt = get_default_dtype()
        a, b = Tensor._make(a.data.astype(dt)), Tensor._make(b.data.astype(dt))
    return CopySign.apply(a, b)


class Lerp(Function):
    """y = start + w (end - start), evaluated as end - (end - start)(1 - w) where |w| >= 1/2 (PyTorch's
    kernel: exact at w = 1);  g_start = gy (1 - w),  g_end = gy w,  g_w = gy (end - start).
    ``w`` is an array (a tensor weight) or a Python number."""

    @staticmethod
    def forward(ctx, start, end, w):
        xp = xp_of(start, end)
        d = end - start
        if isinstance(w, (int, float)):
            ctx.w = w
            y = start + w * d if builtins.abs(w) < 0.5 else end - d * (1.0 - w)
        else:
            ctx.w = None
            y = xp.where(xp.abs(w) < 0.5, start + w * d, end - d * (1.0 - w))
        ctx.save_for_backward(start, end, *(() if ctx.w is not None else (w,)))
        return y.astype(start.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        start, end, *rest = ctx.saved_tensors
        w = ctx.w if ctx.w is not None else rest[0]
        g_start = gy * (1.0 - w) if ctx.needs_input_grad[0] else None
        g_end = gy * w if ctx.needs_input_grad[1] else None
        g_w = gy * (end - start) if ctx.w is None and ctx.needs_input_grad[2] else None
        return g_start, g_end, g_w


def lerp(input, end, weight) -> Tensor:  # noqa: A002
    """Linear interpolation input + weight * (end - input), elementwise; ``weight`` a number or a
    tensor, all broadcast together. As PyTorch: floating point only, and ``end`` (and a weight tensor
    that is not 0-d) must have input's dtype."""
    start = input if isinstance(input, Tensor) else Tensor(input)
    end = end if isinstance(end, Tensor) else as_operand(end, start)
    if start.data.dtype.kind not in "fc":
        raise DTypeError(f"lerp: expects floating point tensors, got input {start.dtype}; convert with "
                         ".float()")
    if end.dtype != start.dtype:
        raise DTypeError(f"lerp: end has dtype {end.dtype} but input has {start.dtype}; they must match "
                         "(convert one with .to())")
    if isinstance(weight, Tensor):
        if weight.dtype != start.dtype:
            if weight.ndim:
                raise DTypeError(f"lerp: weight has dtype {weight.dtype} but input has {start.dtype}; they "
                                 "must match (convert one with .to())")
            weight = weight.to(start.dtype)
        shapes = (start.shape, end.shape, weight.shape)
    else:
        weight = float(weight)
        shapes = (start.shape, end.shape)
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise ShapeError(f"lerp: shapes {', '.join(str(tuple(s)) for s in shapes)} cannot be broadcast "
                         "together") from None
    return Lerp.apply(start, end, weight)


# ---------------------------------------------------------------------------------------------
# unary math
# ---------------------------------------------------------------------------------------------
def _float_input(x: Tensor, op: str) -> Tensor:
    """Integer inputs of transcendental functions become the default float dtype (as PyTorch)."""
    if not isinstance(x, Tensor):
        x = Tensor(x)
    if x.data.dtype.kind in "iub":
        return Tensor._make(x.data.astype(get_default_dtype()))
    return x


class Exp(FusedFunction):
    """y = e^x;  gx = gy * y."""

    @staticmethod
    def forward(ctx, x):
        y = xp_of(x).exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward_raw(ctx, gy):
        (y,) = ctx.saved_arrays
        return gy * y

    @staticmethod
    def backward_composed(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy * y


class Log(Function):
    """y = ln x;  gx = gy / x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp_of(x).log(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy / x


class Log1p(Function):
    """y = ln(1 + x);  gx = gy / (1 + x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp_of(x).log1p(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy / (x + 1.0)


class Expm1(Function):
    """y = e^x - 1;  gx = gy * (y + 1)."""

    @staticmethod
    def forward(ctx, x):
        y = xp_of(x).expm1(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy * (y + 1.0)


class LogBase(Function):
    """y = log_base x (base 2 or 10, NumPy's exact kernels);  gx = gy / (x ln base)."""

    @staticmethod
    def forward(ctx, x, base):
        ctx.save_for_backward(x)
        ctx.ln_base = float(np.log(base))
        xp = xp_of(x)
        return xp.log2(x) if base == 2 else xp.log10(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy / (x * ctx.ln_base), None


class Exp2(Function):
    """y = 2^x;  gx = gy * y * ln 2."""

    @staticmethod
    def forward(ctx, x):
        y = xp_of(x).exp2(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy * (y * float(np.log(2.0)))


class Sqrt(Function):
    """y = sqrt(x);  gx = gy / (2 y)."""

    @staticmethod
    def forward(ctx, x):
        y = xp_of(x).sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy / (y * 2.0)


class Abs(Function):
    """y = |x|;  gx = gy * sign(x)  (0 at x = 0, as PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp_of(x).abs(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * sign(x)


class Sin(Function):
    """y = sin x;  gx = gy cos x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp_of(x).sin(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * cos(x)


class Cos(Function):
    """y = cos x;  gx = -gy sin x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp_of(x).cos(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return -(gy * sin(x))


class Tan(Function):
    """y = tan x;  gx = gy (1 + y^2)."""

    @staticmethod
    def forward(ctx, x):
        y = xp_of(x).tan(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy * (y * y + 1.0)


class Tanh(FusedFunction):
    """y = tanh x;  gx = gy (1 - y^2)."""

    @staticmethod
    def forward(ctx, x):
        y = xp_of(x).tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward_raw(ctx, gy):
        (y,) = ctx.saved_arrays
        return gy * (1.0 - y * y)

    @staticmethod
    def backward_composed(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy * (1.0 - y * y)


class Sigmoid(FusedFunction):
    """y = 1 / (1 + e^-x), computed without overflow;  gx = gy y (1 - y)."""

    @staticmethod
    def forward(ctx, x):
        xp = xp_of(x)
        # stable: e^-|x| never overflows; then pick the right branch
        z = xp.exp(-xp.abs(x))
        y = xp.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z)).astype(x.dtype, copy=False)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward_raw(ctx, gy):
        (y,) = ctx.saved_arrays
        return gy * (y * (1.0 - y))

    @staticmethod
    def backward_composed(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy * (y * (1.0 - y))


class Relu(FusedFunction):
    """y = max(x, 0);  gx = gy * [x > 0]  (0 at x = 0, as PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        y = xp_of(x).maximum(x, 0)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward_raw(ctx, gy):
        (y,) = ctx.saved_arrays
        gx = kernels.relu_backward(y, gy)      # one compiled pass, or None
        return gy * (y > 0) if gx is None else gx

    @staticmethod
    def backward_composed(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy * (y.data > 0)  # the mask is a constant: second derivative 0


class Sign(Function):
    """y = sign(x); gradient 0 everywhere (defined as 0 at the jumps)."""

    @staticmethod
    def forward(ctx, x):
        return xp_of(x).sign(x)

    @staticmethod
    def backward(ctx, gy):
        return gy * 0.0


def exp(x) -> Tensor:
    return Exp.apply(_float_input(x, "exp"))


def log(x) -> Tensor:
    return Log.apply(_float_input(x, "log"))


def log1p(x) -> Tensor:
    return Log1p.apply(_float_input(x, "log1p"))


def expm1(x) -> Tensor:
    return Expm1.apply(_float_input(x, "expm1"))


def log2(x) -> Tensor:
    """Elementwise base-2 logarithm (exact at powers of two: log2(8) == 3)."""
    return LogBase.apply(_float_input(x, "log2"), 2)


def log10(x) -> Tensor:
    """Elementwise base-10 logarithm (exact at powers of ten)."""
    return LogBase.apply(_float_input(x, "log10"), 10)


def exp2(x) -> Tensor:
    """Elementwise 2^x (exact at integers). Integer inputs become the default float."""
    return Exp2.apply(_float_input(x, "exp2"))


def sqrt(x) -> Tensor:
    return Sqrt.apply(_float_input(x, "sqrt"))


def rsqrt(x) -> Tensor:
    return PowScalar.apply(_float_input(x, "rsqrt"), -0.5)


def square(x) -> Tensor:
    return PowScalar.apply(x, 2)


def reciprocal(x) -> Tensor:
    return PowScalar.apply(_float_input(x, "reciprocal"), -1)


def abs(x) -> Tensor:  # noqa: A001
    return Abs.apply(x)


def sign(x) -> Tensor:
    return Sign.apply(x)


def sin(x) -> Tensor:
    return Sin.apply(_float_input(x, "sin"))


def cos(x) -> Tensor:
    return Cos.apply(_float_input(x, "cos"))


def tan(x) -> Tensor:
    return Tan.apply(_float_input(x, "tan"))


def tanh(x) -> Tensor:
    return Tanh.apply(_float_input(x, "tanh"))


def sigmoid(x) -> Tensor:
    return Sigmoid.apply(_float_input(x, "sigmoid"))


def relu(x) -> Tensor:
    return Relu.apply(x)


# ---------------------------------------------------------------------------------------------
# comparisons / selection
# ---------------------------------------------------------------------------------------------
class Maximum(Function):
    """y = max(a, b) elementwise; the gradient goes to the larger input, split in half on ties
    (PyTorch's rule)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return xp_of(a).maximum(a, b)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        xp = xp_of(a.data)
        wa = xp.where(a.data > b.data, 1.0, xp.where(a.data == b.data, 0.5, 0.0)).astype(gy.dtype)
        return gy * wa, gy * (1.0 - wa)


class Minimum(Function):
    """y = min(a, b) elementwise; gradient to the smaller input, split in half on ties."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return xp_of(a).minimum(a, b)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        xp = xp_of(a.data)
        wa = xp.where(a.data < b.data, 1.0, xp.where(a.data == b.data, 0.5, 0.0)).astype(gy.dtype)
        return gy * wa, gy * (1.0 - wa)


class Clamp(Function):
    """y = min(max(x, lo), hi);  gx = gy where lo <= x <= hi, else 0."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.save_raw(lo=lo, hi=hi)  # numbers, or arrays of bounds
        return xp_of(x).clip(x, lo, hi)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        mask = True
        if ctx.lo is not None:
            mask = x.data >= ctx.lo
        if ctx.hi is not None:
            mask = mask & (x.data <= ctx.hi)
        return gy * mask, None, None


class Where(Function):
    """y = a where cond else b;  ga = gy where cond else 0,  gb = gy where not cond else 0."""

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save_raw(cond=cond)
        return xp_of(a, b).where(cond, a, b)

    @staticmethod
    def backward(ctx, gy):
        c = ctx.cond
        ga = where(c, gy, 0.0) if ctx.needs_input_grad[1] else None
        gb = where(c, 0.0, gy) if ctx.needs_input_grad[2] else None
        return None, ga, gb


class Clone(Function):
    """A copy of x (new memory); gradient passes through."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, gy):
        return gy


class AsType(Function):
    """Cast to another dtype; the gradient is cast back (by the engine)."""

    @staticmethod
    def forward(ctx, x, dtype):
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, gy):
        return gy, None


class ToDevice(Function):
    """Move to another device; the gradient moves back."""

    @staticmethod
    def forward(ctx, x, device):
        ctx.src = backend.device_of(x)
        return backend.to_device(x, device)

    @staticmethod
    def backward(ctx, gy):
        return to_device(gy, ctx.src), None


def maximum(a, b) -> Tensor:
    return Maximum.apply(*_binary_operands(a, b, "maximum"))


def minimum(a, b) -> Tensor:
    return Minimum.apply(*_binary_operands(a, b, "minimum"))


def clamp(x, min=None, max=None) -> Tensor:  # noqa: A002
    """Clip values into [min, max] (either bound may be None, or a Tensor)."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        # selects, not maximum/minimum: like the scalar case (and PyTorch), x gets the whole gradient
        # where lo <= x <= hi, including at the bounds, and a bound only where it is the result
        y = x
        if min is not None:
            y = where(lt(x, min), min, y)
        if max is not None:
            y = where(gt(x, max), max, y)
        return y
    return Clamp.apply(x, min, max)


clip = clamp


def where(condition, a=None, b=None) -> Tensor:
    """Elementwise select: ``a`` where ``condition`` else ``b``; with one argument, the indices of
    nonzero elements (as ``nonzero(as_tuple=True)``)."""
    if a is None and b is None:
        c = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
        return tuple(Tensor._make(i.astype(np.int64)) for i in xp_of(c).nonzero(c))
    c = condition.data if isinstance(condition, Tensor) else condition
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = Tensor(a)
    a, b = _binary_operands(a, b, "where")
    if not hasattr(c, "dtype") or c.dtype != np.bool_:
        c = xp_of(a.data).asarray(c).astype(bool)
    try:
        np.broadcast_shapes(c.shape, a.shape, b.shape)
    except ValueError:
        raise ShapeError(f"where: condition {tuple(c.shape)}, input {tuple(a.shape)} and other "
                         f"{tuple(b.shape)} cannot be broadcast together") from None
    return Where.apply(c, a, b)


def clone(x) -> Tensor:
    return Clone.apply(x)


def astype(x, dtype) -> Tensor:
    dtype = np.dtype(dtype)
    if x.requires_grad and dtype.kind in "fc":
        return AsType.apply(x, dtype)
    return Tensor._make(x.data.astype(dtype))


def to_device(x, device) -> Tensor:
    return ToDevice.apply(x, backend.Device(device))


# comparisons: boolean tensors, outside the graph (safe to use as masks: x * (x > 0))
def _compare(name):
    def op(a, b) -> Tensor:
        if not isinstance(a, Tensor):
            a = as_operand(a, b)
        elif not isinstance(b, Tensor):
            b = as_operand(b, a)
        try:
            return Tensor._make(getattr(xp_of(a.data), name)(a.data, b.data))
        except ValueError:
            raise ShapeError(f"{name}: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be broadcast "
                             "together") from None

    op.__name__ = name
    op.__doc__ = f"Elementwise ``{name}``: a bool tensor, not differentiable."
    return op


eq = _compare("equal")
ne = _compare("not_equal")
lt = _compare("less")
le = _compare("less_equal")
gt = _compare("greater")
ge = _compare("greater_equal")
logical_and = _compare("logical_and")
logical_or = _compare("logical_or")
logical_xor = _compare("logical_xor")


def _bitwise(name: str, symbol: str):
    """Bitwise ``name`` on integer tensors, logical on bool tensors (PyTorch's ``&``, ``|``, ``^``):
    ``6 & 3 == 2``, ``True | False == True``. Floating point operands are refused, as PyTorch does."""
    def op(a, b) -> Tensor:
        a, b = _binary_operands(a, b, name)
        if a.data.dtype.kind not in "iub" or b.data.dtype.kind not in "iub":
            raise DTypeError(
                f"{name} ({symbol}): expects integer or bool tensors, got {a.dtype} and {b.dtype}; "
                f"use logical_{name[len('bitwise_'):]} for a truth-value combination of float tensors, or "
                "convert with .long() / .bool()")
        return Tensor._make(getattr(xp_of(a.data), name)(a.data, b.data))

    op.__name__ = name
    op.__doc__ = (f"Elementwise ``{name}`` (``{symbol}``): bitwise on integers, logical on bools; not "
                  "differentiable.")
    return op


bitwise_and = _bitwise("bitwise_and", "&")
bitwise_or = _bitwise("bitwise_or", "|")
bitwise_xor = _bitwise("bitwise_xor", "^")


def logical_not(x) -> Tensor:
    return Tensor._make(xp_of(x.data).logical_not(x.data))


def bitwise_not(x) -> Tensor:
    """``~x``: bitwise NOT on integers, logical NOT on bools; floats are refused (as PyTorch)."""
    if x.data.dtype.kind not in "iub":
        raise DTypeError(f"bitwise_not (~): expects an integer or bool tensor, got {x.dtype}; use "
                         "logical_not for float tensors")
    return Tensor._make(xp_of(x.data).invert(x.data))


def _shift(name: str, symbol: str, left: bool):
    """``a << b`` / ``a >> b`` on integer tensors with PyTorch's rules for out-of-range counts: a
    count < 0 or >= the bit width gives 0 for ``<<`` and the sign fill (0 or -1) for ``>>``, where
    NumPy (C) would be undefined. Same promotion as the other integer ops; bool << bool, floats and
    float counts are refused."""
    def op(a, b) -> Tensor:
        a, b = _binary_operands(a, b, name)
        ka, kb = a.data.dtype.kind, b.data.dtype.kind
        if ka not in "iub" or kb not in "iub" or (ka == "b" and kb == "b"):
            raise DTypeError(f"{name} ({symbol}): expects integer tensors, got {a.dtype} and {b.dtype}; "
                             "convert with .long()")
        xp = xp_of(a.data)
        dt = np.result_type(a.data.dtype, b.data.dtype)
        x, n = a.data.astype(dt, copy=False), b.data.astype(dt, copy=False)
        bits = dt.itemsize * 8
        ok = (n >= 0) & (n < bits)
        n = xp.where(ok, n, 0).astype(dt, copy=False)
        if left:
            y = xp.where(ok, xp.left_shift(x, n), 0)
        else:  # the sign fill: x >> (bits - 1) for signed x (0 or -1), 0 for unsigned
            fill = xp.right_shift(x, dt.type(bits - 1)) if dt.kind == "i" else 0
            y = xp.where(ok, xp.right_shift(x, n), fill)
        return Tensor._make(xp.asarray(y, dtype=dt))

    op.__name__ = name
    op.__doc__ = (f"Elementwise ``{name}`` (``{symbol}``) of integer tensors (not differentiable); counts "
                  f"outside [0, bits) give {'0' if left else 'the sign fill, 0 or -1'}, as PyTorch.")
    return op


bitwise_left_shift = _shift("bitwise_left_shift", "<<", left=True)
bitwise_right_shift = _shift("bitwise_right_shift", ">>", left=False)


def isnan(x) -> Tensor:
    return Tensor._make(xp_of(x.data).isnan(x.data))


def isinf(x) -> Tensor:
    return Tensor._make(xp_of(x.data).isinf(x.data))


def isfinite(x) -> Tensor:
    return Tensor._make(xp_of(x.data).isfinite(x.data))


def equal(a, b) -> bool:
    """True if both tensors have the same shape and elements."""
    return a.shape == b.shape and bool((a.data == b.data).all())


def allclose(a, b, rtol=1e-5, atol=1e-8, equal_nan=False) -> bool:
    a = a.data if isinstance(a, Tensor) else a
    b = b.data if isinstance(b, Tensor) else b
    return bool(xp_of(a).allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(a, b, rtol=1e-5, atol=1e-8, equal_nan=False) -> Tensor:
    return Tensor._make(xp_of(a.data).isclose(a.data, b.data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def floor(x) -> Tensor:
    return Tensor._make(xp_of(x.data).floor(x.data))


def ceil(x) -> Tensor:
    return Tensor._make(xp_of(x.data).ceil(x.data))


def round(x, decimals: int = 0) -> Tensor:  # noqa: A001
    return Tensor._make(xp_of(x.data).round(x.data, decimals))


def trunc(x) -> Tensor:
    return Tensor._make(xp_of(x.data).trunc(x.data))
