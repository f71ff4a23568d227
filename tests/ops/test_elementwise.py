"""Elementwise primitives through the harness: forward vs NumPy, gradcheck, gradgradcheck,
over 0-d, size-1 and broadcasting shapes."""
import numpy as np

import gradus

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

test_forward, test_backward, test_double_backward = op_tests(CASES)


def test_comparisons_return_bool_tensors():
    a, b = gradus.tensor([1.0, 2.0, 3.0]), gradus.tensor([3.0, 2.0, 1.0])
    T, F = True, False
    for op_, ref in [(a < b, [T, F, F]), (a <= b, [T, T, F]), (a > b, [F, F, T]), (a >= b, [F, T, T]),
                     (a == b, [F, T, F]), (a != b, [T, F, T]), (a > 1.5, [F, T, T]), (2 < a, [F, F, T])]:
        assert op_.dtype == np.bool_ and not op_.requires_grad
        assert op_.tolist() == ref
