"""Activation functions (PyTorch names and defaults), plus the fused ``softmax`` / ``log_softmax``;
``erf`` is re-exported from ``ops.special``, where it is implemented.

    >>> import gradus
    >>> import gradus.functional as F
    >>> F.softmax(gradus.tensor([1.0, 2.0, 3.0]), dim=0)
    tensor([0.0900, 0.2447, 0.6652])
    >>> F.step(gradus.tensor([-1.0, 0.0, 2.0]))
    tensor([0., 1., 1.])

Conventions: elementwise ops whose derivative is piecewise constant (leaky_relu, hardtanh, ...)
multiply the gradient by a constant mask, so they are differentiable again (second derivative 0).
Smooth ones (elu, gelu, softplus, ...) write their backward with Tensor ops. The hot fused ones
(softmax, log_softmax, gelu, silu) are ``FusedFunction``s: raw array code in backward when no graph is
being recorded, Tensor ops when ``create_graph=True`` — fast, and still twice differentiable.
``inplace=`` arguments are accepted for PyTorch compatibility but results are always new tensors
(autograd-safe).
"""
from __future__ import annotations

import math
import warnings

from .. import backend, kernels
from ..autograd.function import Function, FusedFunction
from ..errors import DTypeError
from ..ops import elementwise as ew
from ..ops.reduce import sum as _sum
from ..ops.special import erf, erf_array  # noqa: F401 (erf is re-exported: F.erf)
from ..tensor import Tensor
from ..validation import check_param_dtype

__all__ = ["erf", "step", "threshold", "relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu",
           "mish", "sigmoid", "tanh", "softplus", "softsign", "logsigmoid", "hardtanh", "hardsigmoid",
           "hardswish", "tanhshrink", "softshrink", "hardshrink", "prelu", "glu", "softmax", "log_softmax",
           "softmin"]

xp_of = backend.get_array_module


def _float(x, op: str) -> Tensor:
    if not isinstance(x, Tensor):
        x = Tensor(x)
    if x.data.dtype.kind not in "fc":
        raise DTypeError(f"{op}: expects a floating point tensor, got gradus.{x.dtype.name}; use .float()")
    return x


# ---------------------------------------------------------------------------------------------
# threshold units
# ---------------------------------------------------------------------------------------------
class Step(Function):
    """Heaviside threshold unit: y = 1 if x >= 0 else 0 (``signed``: +1 / -1).

    The derivative is 0 almost everywhere; gradients through it are zero (the perceptron learns by
    its own rule, not by backpropagation).
    """

    @staticmethod
    def forward(ctx, x, signed):
        xp = xp_of(x)
        pos = x >= 0
        y = xp.where(pos, 1.0, -1.0 if signed else 0.0).astype(x.dtype)
        return y

    @staticmethod
    def backward(ctx, gy):
        return gy * 0.0, None


def step(input, signed: bool = False) -> Tensor:  # noqa: A002
    """Threshold unit: 1 where input >= 0 else 0 (or -1 with ``signed=True``); zero gradient."""
    return Step.apply(_float(input, "step"), bool(signed))


class _MaskedLinear(Function):
    """y = f(x) where f is piecewise linear: y = x * slope_mask + offset;  gx = gy * slope_mask."""

    @staticmethod
    def forward(ctx, x, slope, offset):
        ctx.save_raw(slope=slope)
        y = x * slope
        if offset is not None:
            y = y + offset
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        return gy * ctx.slope, None, None


def threshold(input, threshold: float, value: float, inplace: bool = False) -> Tensor:  # noqa: A002
    """y = x if x > threshold else value."""
    x = _float(input, "threshold")
    keep = x.data > threshold
    off = xp_of(x.data).where(keep, 0.0, value).astype(x.dtype)
    return _MaskedLinear.apply(x, keep.astype(x.dtype), off)


def relu(input, inplace: bool = False) -> Tensor:  # noqa: A002
    """y = max(x, 0); gradient 0 at x = 0 (PyTorch's convention)."""
    return ew.relu(input)


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:  # noqa: A002
    """y = x if x > 0 else negative_slope * x."""
    x = _float(input, "leaky_relu")
    xp = xp_of(x.data)
    slope = xp.where(x.data > 0, 1.0, negative_slope).astype(x.dtype)
    return _MaskedLinear.apply(x, slope, None)


def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """y = clip(x, min_val, max_val); gradient 1 strictly inside, 0 at and beyond the bounds."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    x = _float(input, "hardtanh")
    xp = xp_of(x.data)
    inside = (x.data > min_val) & (x.data < max_val)
    off = xp.where(inside, 0.0, xp.where(x.data <= min_val, min_val, max_val)).astype(x.dtype)
    return _MaskedLinear.apply(x, inside.astype(x.dtype), off)


def relu6(input, inplace: bool = False) -> Tensor:  # noqa: A002
    """y = min(max(x, 0), 6)."""
    return hardtanh(input, 0.0, 6.0)


def hardsigmoid(input, inplace: bool = False) -> Tensor:  # noqa: A002
    """y = relu6(x + 3) / 6: 0 for x <= -3, 1 for x >= 3, linear in between (gradient 1/6 inside)."""
    x = _float(input, "hardsigmoid")
    xp = xp_of(x.data)
    inside = (x.data > -3) & (x.data < 3)
    slope = xp.where(inside, 1.0 / 6, 0.0).astype(x.dtype)
    off = xp.where(inside, 0.5, xp.where(x.data >= 3, 1.0, 0.0)).astype(x.dtype)
    return _MaskedLinear.apply(x, slope, off)


class Hardswish(Function):
    """y = x * relu6(x + 3) / 6;  gx = gy * (0 if x <= -3, (2x + 3)/6 if -3 < x < 3, else 1)
    (PyTorch's one-sided choices at the kinks)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x * xp_of(x).clip(x + 3, 0, 6) / 6).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        lo, mid = x.data <= -3, (x.data > -3) & (x.data < 3)
        d = ew.where(mid, x * (1 / 3) + 0.5, ew.where(lo, 0.0, 1.0))
        return gy * d


def hardswish(input, inplace: bool = False) -> Tensor:  # noqa: A002
    return Hardswish.apply(_float(input, "hardswish"))


def hardshrink(input, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """``y = x if |x| > lambd else 0``."""
    x = _float(input, "hardshrink")
    keep = (xp_of(x.data).abs(x.data) > lambd).astype(x.dtype)
    return _MaskedLinear.apply(x, keep, None)


def softshrink(input, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """y = x - lambd if x > lambd, x + lambd if x < -lambd, else 0."""
    x = _float(input, "softshrink")
    xp = xp_of(x.data)
    keep = (xp.abs(x.data) > lambd).astype(x.dtype)
    off = xp.where(x.data > lambd, -lambd, xp.where(x.data < -lambd, lambd, 0.0)).astype(x.dtype)
    return _MaskedLinear.apply(x, keep, off)


# ---------------------------------------------------------------------------------------------
# smooth activations
# ---------------------------------------------------------------------------------------------
def sigmoid(input) -> Tensor:  # noqa: A002
    """``y = 1 / (1 + exp(-x))`` (stable for large ``|x|``)."""
    return ew.sigmoid(input)


def tanh(input) -> Tensor:  # noqa: A002
    return ew.tanh(input)


class Elu(Function):
    """y = scale * (x if x > 0 else alpha * (exp(x) - 1));  gx = gy * scale * (1 or alpha * exp(x))."""

    @staticmethod
    def forward(ctx, x, alpha, scale):
        xp = xp_of(x)
        ctx.save_for_backward(x)
        ctx.alpha, ctx.scale = alpha, scale
        neg = alpha * xp.expm1(xp.minimum(x, 0))  # min(x, 0): no overflow in the unused branch
        y = xp.where(x > 0, x, neg)
        if scale != 1.0:
            y = y * scale
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        pos = x.data > 0
        d = ew.where(pos, ctx.scale, ew.exp(ew.clamp(x, max=0.0)) * (ctx.alpha * ctx.scale))
        return gy * d, None, None


def elu(input, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """y = x if x > 0 else alpha * (exp(x) - 1)."""
    return Elu.apply(_float(input, "elu"), float(alpha), 1.0)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace: bool = False) -> Tensor:  # noqa: A002
    """y = scale * elu(x, alpha) with the self-normalising constants (Klambauer et al. 2017)."""
    return Elu.apply(_float(input, "selu"), _SELU_ALPHA, _SELU_SCALE)


def celu(input, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """y = max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0")
    x = _float(input, "celu")
    return Elu.apply(x / alpha, 1.0, 1.0) * alpha


_SQRT1_2 = 1 / math.sqrt(2.0)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_SQRT_2_PI = math.sqrt(2 / math.pi)


class Gelu(FusedFunction):
    """Exact: y = x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2));  gx = gy * (Phi(x) + x phi(x)).
    tanh: y = 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3);
          gx = gy * (0.5 (1 + t) + 0.5 x (1 - t^2) du/dx),  du/dx = sqrt(2/pi) (1 + 3 * 0.044715 x^2).
    """

    @staticmethod
    def forward(ctx, x, approximate):
        xp = xp_of(x)
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        y = kernels.gelu(x, approximate)            # one compiled pass (numba), or None: NumPy below
        if y is not None:
            return y
        if approximate == "tanh":                   # in place over one new array
            y = x * x
            y *= 0.044715 * _SQRT_2_PI
            y += _SQRT_2_PI
            y *= x                                  # u = sqrt(2/pi) (x + 0.044715 x^3)
            xp.tanh(y, out=y)
            y += 1
            y *= x
            y *= 0.5
        else:
            y = erf_array(x * _SQRT1_2)             # a new array in x's dtype: finished in place
            y += 1
            y *= x
            y *= 0.5
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward_raw(ctx, gy):
        (a,) = ctx.saved_arrays
        xp = xp_of(a)
        gx = kernels.gelu_backward(a, gy, ctx.approximate)
        if gx is not None:
            return gx, None
        if ctx.approximate == "tanh":               # 0.5 (1 + t) + 0.5 a (1 - t^2) du/da, in place
            a2 = a * a
            t = a2 * (0.044715 * _SQRT_2_PI)
            t += _SQRT_2_PI
            t *= a
            xp.tanh(t, out=t)
            a2 *= 3 * 0.044715 * _SQRT_2_PI
            a2 += _SQRT_2_PI                        # du/da
            a2 *= a
            a2 *= 0.5
            d = t * t
            xp.subtract(1, d, out=d)
            d *= a2                                 # 0.5 a (1 - t^2) du/da
            t += 1
            t *= 0.5
            d += t
        else:                                       # Phi(a) + a phi(a), in place over two arrays
            d = erf_array(a * _SQRT1_2)
            d += 1
            d *= 0.5
            t = a * a
            t *= -0.5
            xp.exp(t, out=t)
            t *= a
            t *= _INV_SQRT_2PI
            d += t
        return gy * d.astype(gy.dtype, copy=False), None

    @staticmethod
    def backward_composed(ctx, gy):
        (x,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            t = ew.tanh((x + x * x * x * 0.044715) * _SQRT_2_PI)
            d = (1 + t) * 0.5 + x * 0.5 * (1 - t * t) * ((1 + x * x * (3 * 0.044715)) * _SQRT_2_PI)
        else:
            d = (1 + erf(x * _SQRT1_2)) * 0.5 + x * ew.exp(x * x * -0.5) * _INV_SQRT_2PI
        return gy * d, None


def gelu(input, approximate: str = "none") -> Tensor:  # noqa: A002
    """Gaussian Error Linear Unit, y = x * Phi(x); ``approximate='tanh'`` uses the tanh formula."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(_float(input, "gelu"), approximate)


class Silu(FusedFunction):
    """y = x * sigmoid(x);  gx = gy * s (1 + x (1 - s)), s = sigmoid(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x * _sigmoid_array(x)).astype(x.dtype, copy=False)

    @staticmethod
    def backward_raw(ctx, gy):
        (x,) = ctx.saved_arrays
        s = _sigmoid_array(x)
        return gy * (s * (1 + x * (1 - s))).astype(gy.dtype, copy=False)

    @staticmethod
    def backward_composed(ctx, gy):
        (x,) = ctx.saved_tensors
        s = ew.sigmoid(x)
        return gy * (s * (1 + x * (1 - s)))


def _sigmoid_array(x):
    xp = xp_of(x)
    z = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + z), z / (1 + z)).astype(x.dtype, copy=False)


def silu(input, inplace: bool = False) -> Tensor:  # noqa: A002
    """SiLU / swish: y = x * sigmoid(x)."""
    return Silu.apply(_float(input, "silu"))


class Softplus(Function):
    """y = log(1 + exp(beta x)) / beta, and y = x where beta x > threshold (linear regime);
    gx = gy * sigmoid(beta x) (1 in the linear regime)."""

    @staticmethod
    def forward(ctx, x, beta, threshold):
        xp = xp_of(x)
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        bx = beta * x
        # log1p(exp(z)) = max(z, 0) + log1p(exp(-|z|)): never overflows
        sp = (xp.maximum(bx, 0) + xp.log1p(xp.exp(-xp.abs(bx)))) / beta
        return xp.where(bx > threshold, x, sp).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        lin = (x.data * ctx.beta) > ctx.threshold
        return ew.where(lin, gy, gy * ew.sigmoid(x * ctx.beta)), None, None


def softplus(input, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    """y = (1/beta) log(1 + exp(beta x)), linear above ``threshold`` (for numerical stability)."""
    return Softplus.apply(_float(input, "softplus"), float(beta), float(threshold))


class LogSigmoid(Function):
    """y = log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|));  gx = gy * (1 - sigmoid(x))."""

    @staticmethod
    def forward(ctx, x):
        xp = xp_of(x)
        ctx.save_for_backward(x)
        return (xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * ew.sigmoid(-x)


def logsigmoid(input) -> Tensor:  # noqa: A002
    """``y = log(1 / (1 + exp(-x)))``, stable for large ``|x|``."""
    return LogSigmoid.apply(_float(input, "logsigmoid"))


def softsign(input) -> Tensor:  # noqa: A002
    """``y = x / (1 + |x|)``."""
    x = _float(input, "softsign")
    return x / (ew.abs(x) + 1)


def tanhshrink(input) -> Tensor:  # noqa: A002
    """y = x - tanh(x)."""
    x = _float(input, "tanhshrink")
    return x - ew.tanh(x)


def mish(input, inplace: bool = False) -> Tensor:  # noqa: A002
    """y = x * tanh(softplus(x)) (Misra 2019)."""
    x = _float(input, "mish")
    return x * ew.tanh(softplus(x))


def prelu(input, weight) -> Tensor:  # noqa: A002
    """y = x if x > 0 else a * x, with learnable ``weight`` a of shape (1,) or (channels,) (dim 1)."""
    x = _float(input, "prelu")
    check_param_dtype("prelu", x, weight=weight)
    if weight.numel() != 1:
        if x.ndim < 2 or x.shape[1] != weight.numel():
            raise ValueError(f"prelu: weight has {weight.numel()} elements but input of shape "
                             f"{tuple(x.shape)} has {x.shape[1] if x.ndim >= 2 else 1} channels (dim 1)")
        weight = weight.reshape((1, -1) + (1,) * (x.ndim - 2))
    return ew.where(x.data > 0, x, weight * x)


def glu(input, dim: int = -1) -> Tensor:  # noqa: A002
    """Gated linear unit: split ``input`` in halves a, b along ``dim``; y = a * sigmoid(b)."""
    x = _float(input, "glu")
    if x.shape[dim] % 2:
        raise ValueError(f"glu: dimension {dim} of size {x.shape[dim]} is not divisible by 2")
    a, b = x.chunk(2, dim)
    return a * ew.sigmoid(b)


# ---------------------------------------------------------------------------------------------
# softmax family (fused)
# ---------------------------------------------------------------------------------------------
def _softmax_dim(ndim: int, dim, name: str) -> int:
    if dim is None:
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to "
                      "include dim=X as an argument.", stacklevel=3)
        dim = 0 if ndim in (0, 1, 3) else 1
    if ndim == 0:
        return 0
    if not -ndim <= dim < ndim:
        raise IndexError(f"{name}: dim {dim} is out of range for a tensor with {ndim} dimensions")
    return dim % ndim


class Softmax(FusedFunction):
    """y_i = exp(x_i - max x) / sum_j exp(x_j - max x) along ``dim``;
    gx = y * (gy - sum(gy * y, dim))."""

    @staticmethod
    def forward(ctx, x, dim):
        xp = xp_of(x)
        if x.ndim == 0:
            y = xp.ones_like(x)
        else:
            y = x - x.max(axis=dim, keepdims=True)
            xp.exp(y, out=y)
            y /= y.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward_raw(ctx, g):
        (y,) = ctx.saved_arrays
        if y.ndim == 0:
            return g * 0.0, None
        gx = g * y
        gx -= y * gx.sum(axis=ctx.dim, keepdims=True)
        return gx, None

    @staticmethod
    def backward_composed(ctx, gy):
        (y,) = ctx.saved_tensors
        if y.ndim == 0:
            return gy * 0.0, None
        return y * (gy - _sum(gy * y, ctx.dim, keepdim=True)), None


class LogSoftmax(FusedFunction):
    """y = x - max x - log sum exp(x - max x) along ``dim``;  gx = gy - exp(y) * sum(gy, dim)."""

    @staticmethod
    def forward(ctx, x, dim):
        xp = xp_of(x)
        if x.ndim == 0:
            y = xp.zeros_like(x)
        else:
            y = x - x.max(axis=dim, keepdims=True)
            y -= xp.log(xp.exp(y).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward_raw(ctx, g):
        (y,) = ctx.saved_arrays
        if y.ndim == 0:
            return g * 0.0, None
        gx = xp_of(y).exp(y)
        gx *= -g.sum(axis=ctx.dim, keepdims=True)
        gx += g
        return gx, None

    @staticmethod
    def backward_composed(ctx, gy):
        (y,) = ctx.saved_tensors
        if y.ndim == 0:
            return gy * 0.0, None
        return gy - ew.exp(y) * _sum(gy, ctx.dim, keepdim=True), None


def _cast(x: Tensor, dtype) -> Tensor:
    return x if dtype is None else x.to(dtype)


def softmax(input, dim: int | None = None, dtype=None) -> Tensor:  # noqa: A002
    """Softmax along ``dim`` (fused, stable for huge inputs): probabilities that sum to 1."""
    x = _cast(_float(input, "softmax"), dtype)
    return Softmax.apply(x, _softmax_dim(x.ndim, dim, "softmax"))


def log_softmax(input, dim: int | None = None, dtype=None) -> Tensor:  # noqa: A002
    """log(softmax(x)) along ``dim``, computed without ever forming softmax (no log(0))."""
    x = _cast(_float(input, "log_softmax"), dtype)
    return LogSoftmax.apply(x, _softmax_dim(x.ndim, dim, "log_softmax"))


def softmin(input, dim: int | None = None, dtype=None) -> Tensor:  # noqa: A002
    """softmax(-x) along ``dim``."""
    x = _cast(_float(input, "softmin"), dtype)
    return Softmax.apply(-x, _softmax_dim(x.ndim, dim, "softmin"))


def _softmax_composed(x, dim: int) -> Tensor:
    """Unfused twin of ``softmax`` (for tests)."""
    e = ew.exp(x - x.max(dim, keepdim=True)[0].detach())
    return e / _sum(e, dim, keepdim=True)


def _log_softmax_composed(x, dim: int) -> Tensor:
    """Unfused twin of ``log_softmax`` (for tests)."""
    from ..ops.reduce import logsumexp

    return x - logsumexp(x, dim, keepdim=True)
