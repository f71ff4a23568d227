"""Elementwise primitives through the harness: forward vs NumPy, gradcheck, gradgradcheck,
over 0-d, size-1 and broadcasting shapes."""
import numpy as np
import pytest

import gradus
from gradus.errors import DTypeError

from .harness import BINARY, UNARY, distinct, nonzero, normal, op, op_tests, positive, unit


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


_MASK = np.array([True, False, True])

CASES = [
    # arithmetic, broadcasting both ways
    *op("add", lambda a, b: a + b, np.add, BINARY),
    *op("add_alpha", lambda a, b: gradus.add(a, b, alpha=2.5), lambda a, b: a + 2.5 * b, BINARY[:4]),
    *op("sub", lambda a, b: a - b, np.subtract, BINARY),
    *op("mul", lambda a, b: a * b, np.multiply, BINARY),
    *op("div", lambda a, b: a / b, np.divide, BINARY, gen=(normal, nonzero)),
    *op("neg", lambda x: -x, np.negative, UNARY),
    *op("remainder", lambda a, b: a % b, np.remainder, BINARY[:4], gen=(normal, nonzero)),
    *op("fmod", lambda a, b: gradus.fmod(a, b), np.fmod, BINARY[:4], gen=(normal, nonzero)),
    # reversed Python scalars
    *op("rsub_scalar", lambda x: 2.0 - x, lambda x: 2.0 - x, UNARY[:3]),
    *op("rdiv_scalar", lambda x: 3.0 / x, lambda x: 3.0 / x, UNARY[:3], gen=nonzero),
    *op("rmul_scalar", lambda x: 0.5 * x, lambda x: 0.5 * x, UNARY[:3]),
    *op("sub_scalar", lambda x: x - 1.5, lambda x: x - 1.5, UNARY[:3]),
    *op("rpow_scalar", lambda x: 2 ** x, lambda x: 2.0 ** x, UNARY[:3]),
    # pow: tensor exponent and constant exponents
    *op("pow", lambda a, b: a ** b, np.power, BINARY, gen=(positive, normal)),
    *[c for e in (2, 3, 1, 0, -1) for c in op(f"pow_{e}", lambda x, e=e: x ** e, lambda x, e=e: x ** float(e),
                                               UNARY, gen=nonzero)],
    *[c for e in (0.5, 1.5, -2.5) for c in op(f"pow_{e}", lambda x, e=e: x ** e, lambda x, e=e: x ** e,
                                               UNARY, gen=positive)],
    *op("pow_fn", lambda x: gradus.pow(x, 3), lambda x: x ** 3.0, UNARY[:3]),
    # unary math
    *op("exp", gradus.exp, np.exp, UNARY),
    *op("log", gradus.log, np.log, UNARY, gen=positive),
    *op("log1p", gradus.log1p, np.log1p, UNARY, gen=unit),
    *op("expm1", gradus.expm1, np.expm1, UNARY[:3]),
    *op("sqrt", gradus.sqrt, np.sqrt, UNARY, gen=positive),
    *op("rsqrt", gradus.rsqrt, lambda x: 1 / np.sqrt(x), UNARY[:3], gen=positive),
    *op("abs", gradus.abs, np.abs, UNARY, gen=nonzero),
    *op("sign", gradus.sign, np.sign, UNARY, gen=nonzero),
    *op("sin", gradus.sin, np.sin, UNARY),
    *op("cos", gradus.cos, np.cos, UNARY),
    *op("tan", gradus.tan, np.tan, UNARY[:3], gen=unit),
    *op("tanh", gradus.tanh, np.tanh, UNARY),
    *op("sigmoid", gradus.sigmoid, _sigmoid, UNARY),
    *op("sigmoid_large", gradus.sigmoid, _sigmoid, [(4,)], gen=lambda rng, s: np.array([-30.0, -5, 5, 30])),
    *op("relu", gradus.relu, lambda x: np.maximum(x, 0), UNARY, gen=nonzero),
    *op("square", gradus.square, np.square, UNARY[:3]),
    *op("reciprocal", gradus.reciprocal, np.reciprocal, UNARY[:3], gen=nonzero),
    *op("exp2", gradus.exp2, np.exp2, UNARY),
    *op("exp2_method", lambda x: x.exp2(), np.exp2, UNARY[:3]),
    *op("log2", gradus.log2, np.log2, UNARY, gen=positive),
    *op("log10", lambda x: x.log10(), np.log10, UNARY, gen=positive),
    *op("tan_method", lambda x: x.tan(), np.tan, UNARY, gen=unit),
    # copysign: sign of the second operand (its gradient is 0), broadcasting both ways
    *op("copysign", gradus.copysign, np.copysign, BINARY, gen=(nonzero, nonzero)),
    *op("copysign_scalar", lambda x: x.copysign(-1.0), lambda x: np.copysign(x, -1.0), UNARY[:3],
        gen=nonzero),
    # lerp: number weight, tensor weight (differentiable), broadcasting
    *op("lerp", lambda a, b: gradus.lerp(a, b, 0.3), lambda a, b: a + 0.3 * (b - a), BINARY[:6]),
    *op("lerp_high", lambda a, b: a.lerp(b, 0.8), lambda a, b: b - (b - a) * 0.2, BINARY[:4]),
    *op("lerp_tensor_weight", gradus.lerp, lambda a, b, w: a + w * (b - a),
        [((2, 3), (2, 3), (2, 3)), ((2, 3), (3,), (2, 1)), ((), (3,), ()), ((4,), (4,), (1,))],
        gen=(normal, normal, lambda rng, s: rng.uniform(-0.5, 1.5, s))),
    # selection
    *op("maximum", gradus.maximum, np.maximum, BINARY),
    *op("minimum", gradus.minimum, np.minimum, BINARY),
    *op("clamp", lambda x: x.clamp(-0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5), UNARY, gen=distinct),
    *op("clamp_min", lambda x: gradus.clamp(x, min=0.1), lambda x: np.maximum(x, 0.1), UNARY, gen=distinct),
    *op("clamp_max", lambda x: gradus.clip(x, max=0.1), lambda x: np.minimum(x, 0.1), UNARY, gen=distinct),
    *op("clamp_tensor", lambda x, lo, hi: x.clamp(lo, hi),
        lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi),
        [((2, 3), (2, 3), (3,)), ((4,), (), ())],
        gen=(normal, lambda rng, s: rng.uniform(-1.5, -0.2, s), lambda rng, s: rng.uniform(0.2, 1.5, s))),
    *op("where", lambda a, b: gradus.where(gradus.tensor(_MASK), a, b), lambda a, b: np.where(_MASK, a, b),
        [((3,), (3,)), ((2, 3), (3,)), ((2, 1), ()), ((), (2, 3))]),
    *op("where_scalar", lambda a: gradus.where(gradus.tensor(_MASK), a, 0.0),
        lambda a: np.where(_MASK, a, 0.0), [(3,), (2, 3), ()]),
    *op("where_method", lambda a, b: a.where(a > 0, b), lambda a, b: np.where(a > 0, a, b),
        [((2, 3), (2, 3)), ((2, 3), ())], gen=(nonzero, normal)),
    *op("masked_mul", lambda x: x * (x > 0), lambda x: x * (x > 0), UNARY, gen=nonzero),
]

test_forward, test_backward, test_double_backward, test_cuda = op_tests(CASES)


def test_comparisons_return_bool_tensors():
    a, b = gradus.tensor([1.0, 2.0, 3.0]), gradus.tensor([3.0, 2.0, 1.0])
    T, F = True, False
    for op_, ref in [(a < b, [T, F, F]), (a <= b, [T, T, F]), (a > b, [F, F, T]), (a >= b, [F, T, T]),
                     (a == b, [F, T, F]), (a != b, [T, F, T]), (a > 1.5, [F, T, T]), (2 < a, [F, F, T])]:
        assert op_.dtype == np.bool_ and not op_.requires_grad
        assert op_.tolist() == ref


def test_shifts_follow_pytorch_out_of_range_rules():
    x = gradus.tensor([1, -1, 5, -8])
    assert (x << gradus.tensor([1, 2, 64, -1])).tolist() == [2, -4, 0, 0]     # count >= 64 or < 0: 0
    assert (x >> gradus.tensor([1, 70, 1, -1])).tolist() == [0, -1, 2, -1]    # sign fill
    assert (2 << gradus.tensor([1, 2])).tolist() == [4, 8] and (256 >> gradus.tensor([4])).tolist() == [16]
    u = gradus.tensor([128, 255], dtype=gradus.uint8)
    assert (u >> 9).tolist() == [0, 0] and (u << 1).tolist() == [0, 254] and (u << 1).dtype == gradus.uint8
    with pytest.raises(DTypeError, match="bitwise_left_shift"):
        gradus.tensor([1.0]) << 1


def test_div_rounding_mode_is_checked_and_exact_on_integers():
    a, b = gradus.tensor([7, -7, 7, -7]), gradus.tensor([2, 2, -2, -2])
    assert gradus.div(a, b, rounding_mode="trunc").tolist() == [3, -3, -3, 3]
    assert gradus.div(a, b, rounding_mode="floor").tolist() == [3, -4, -4, 3]
    assert gradus.div(gradus.tensor([2 ** 62 + 1]), 3, rounding_mode="trunc").item() == (2 ** 62 + 1) // 3
    with pytest.raises(ValueError, match="rounding_mode must be None, 'trunc' or 'floor', got 'round'"):
        a.div(b, rounding_mode="round")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_pow_gradients_at_base_zero_are_pytorchs():
    x = gradus.tensor([-1.0, -2.0, -0.3, 0.0, 0.5], requires_grad=True)
    (0 ** x).sum().backward()
    assert x.grad.tolist() == [-np.inf, -np.inf, -np.inf, 0.0, 0.0]    # inf * log 0 where x < 0, else 0
    a = gradus.zeros(2, requires_grad=True)
    b = gradus.tensor([-1.0, 2.0], requires_grad=True)
    (a ** b).sum().backward()
    assert a.grad.tolist() == [-np.inf, 0.0] and b.grad.tolist() == [-np.inf, 0.0]


def test_copysign_signs_and_gradient():
    x = gradus.tensor([1.0, -1.0, 0.0, 2.0], requires_grad=True)
    y = gradus.copysign(x, gradus.tensor([-0.0, 0.0, -1.0, 3.0]))
    assert y.tolist() == [-1.0, 1.0, 0.0, 2.0]
    assert np.signbit(y.numpy()).tolist() == [True, False, True, False]
    y.sum().backward()
    assert x.grad.tolist() == [-1.0, -1.0, 0.0, 1.0]   # y / x, 0 where x == 0
