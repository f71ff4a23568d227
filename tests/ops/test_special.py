"""ops.special through the harness (inverse trig, hyperbolic, erf family, atan2 / hypot /
logaddexp): forward vs NumPy / math, float64 gradcheck, gradgradcheck; plus the accuracy of the
hand-written erf / erfc / erfinv against the standard library, their special values and dtypes."""
import math

import numpy as np
import pytest

import gradus
from gradus.errors import DTypeError
from gradus.ops.special import erf_array, erfc_array, erfinv_array

from .harness import BINARY, UNARY, nonzero, normal, op, op_tests


def inside(rng, shape):
    """In (-0.9, 0.9): the open domain of asin, acos, atanh, erfinv (away from the poles at +-1)."""
    return rng.uniform(-0.9, 0.9, shape)


def above_one(rng, shape):
    """In (1.2, 3): the domain of acosh, away from its pole at 1."""
    return rng.uniform(1.2, 3.0, shape)


_erf = np.vectorize(math.erf, otypes=[float])
_erfc = np.vectorize(math.erfc, otypes=[float])


def _erfinv_ref(y):
    """erfinv by bisection on math.erf (to the last bit): a reference independent of the code under test."""
    y = np.asarray(y, dtype=float)
    lo, hi = np.full(y.shape, -6.0), np.full(y.shape, 6.0)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        below = _erf(mid) < y
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return 0.5 * (lo + hi)


CASES = [
    *op("asin", gradus.asin, np.arcsin, UNARY, gen=inside),
    *op("arcsin_method", lambda x: x.arcsin(), np.arcsin, UNARY[:3], gen=inside),
    *op("acos", lambda x: x.acos(), np.arccos, UNARY, gen=inside),
    *op("atan", gradus.atan, np.arctan, UNARY),
    *op("arctan_method", lambda x: x.arctan(), np.arctan, UNARY[:3]),
    *op("sinh", lambda x: x.sinh(), np.sinh, UNARY),
    *op("cosh", gradus.cosh, np.cosh, UNARY),
    *op("asinh", gradus.asinh, np.arcsinh, UNARY),
    *op("acosh", lambda x: x.acosh(), np.arccosh, UNARY, gen=above_one),
    *op("atanh", gradus.atanh, np.arctanh, UNARY, gen=inside),
    *op("arctanh_fn", gradus.arctanh, np.arctanh, UNARY[:3], gen=inside),
    *op("erf", gradus.erf, _erf, UNARY),
    *op("erf_wide", lambda x: x.erf(), _erf, [(6,)], gen=lambda rng, s: rng.uniform(-4, 4, s)),
    *op("erfc", gradus.erfc, _erfc, UNARY),
    *op("erfc_tail", lambda x: x.erfc(), _erfc, [(5,)], gen=lambda rng, s: rng.uniform(2.0, 8.0, s),
        atol32=1e-30),
    *op("erfinv", gradus.erfinv, _erfinv_ref, UNARY, gen=inside),
    *op("erfinv_tail", lambda x: x.erfinv(), _erfinv_ref, [(4,)],
        gen=lambda rng, s: np.array([-0.995, -0.97, 0.98, 0.999])),
    # two-argument functions, broadcasting both ways
    *op("atan2", gradus.atan2, np.arctan2, BINARY, gen=(nonzero, nonzero)),
    *op("arctan2_method", lambda a, b: a.arctan2(b), np.arctan2, BINARY[:4], gen=(normal, nonzero)),
    *op("hypot", gradus.hypot, np.hypot, BINARY, gen=(nonzero, nonzero)),
    *op("logaddexp", gradus.logaddexp, np.logaddexp, BINARY),
    *op("logaddexp_far", lambda a, b: a.logaddexp(b), np.logaddexp, [((3,), (3,))],
        gen=(lambda rng, s: np.array([800.0, -800.0, 3.0]), lambda rng, s: np.array([799.0, -801.0, -40.0]))),
    *op("logaddexp2", gradus.logaddexp2, np.logaddexp2, BINARY[:6]),
]

test_forward, test_backward, test_double_backward, test_cuda = op_tests(CASES)


def test_erf_family_accuracy_float64():
    """erf, erfc against the C library (math); erfinv as erf's inverse: erf(erfinv(y)) == y, and in the
    tails 1 - y == erfc(erfinv(y)), to a few ulps (a sharper check than any float64 reference of the
    inverse itself, whose conditioning is poor where erf is flat)."""
    x = np.concatenate([np.linspace(-8, 8, 4001), np.logspace(-30, 1.5, 200), -np.logspace(-30, 1.5, 50),
                        [0.84375, 1.25, 1 / 0.35, 6.0, 27.0, 27.2, 28.0, -28.0]])
    np.testing.assert_allclose(erf_array(x), _erf(x), rtol=1e-15, atol=1e-300)
    np.testing.assert_allclose(erfc_array(x), _erfc(x), rtol=1e-15, atol=1e-320)   # no 1 - erf cancellation
    y = np.concatenate([np.linspace(-0.999, 0.999, 401), np.logspace(-300, -1, 60), [5e-324, -1e-20]])
    np.testing.assert_allclose(_erf(erfinv_array(y)), y, rtol=4e-16, atol=0)
    np.testing.assert_allclose(erfinv_array(y[:401]), _erfinv_ref(y[:401]), rtol=1e-13)
    t = np.concatenate([1 - np.logspace(-16, -1, 60), [1 - 2.0 ** -53, 1 - 2.0 ** -52, 0.5000000000000001]])
    np.testing.assert_allclose(_erfc(erfinv_array(t)), 1 - t, rtol=1e-14)
    np.testing.assert_allclose(erfinv_array(-t), -erfinv_array(t), rtol=0)   # odd, exactly


def test_erfinv_matches_high_precision():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    y = np.concatenate([np.linspace(-0.9999, 0.9999, 301), 1 - np.logspace(-16, -1, 40),
                        np.logspace(-300, -1, 20), [1 - 2.0 ** -53]])
    want = np.array([float(mpmath.erfinv(mpmath.mpf(float(v)))) for v in y])
    got = erfinv_array(y)
    ulps = np.abs(got - want) / np.spacing(np.abs(want))
    assert ulps.max() <= 1.0, (ulps.max(), y[ulps.argmax()])


def test_erf_family_special_values():
    z = gradus.tensor([0.0, -0.0, np.inf, -np.inf, np.nan], dtype=gradus.float64)
    assert gradus.erf(z).tolist()[:4] == [0.0, -0.0, 1.0, -1.0] and np.isnan(gradus.erf(z).tolist()[4])
    assert gradus.erfc(z).tolist()[:4] == [1.0, 1.0, 0.0, 2.0] and np.isnan(gradus.erfc(z).tolist()[4])
    inv = gradus.erfinv(gradus.tensor([1.0, -1.0, 1.5, -2.0, np.nan, 0.0, -0.0])).numpy()
    assert inv[0] == np.inf and inv[1] == -np.inf and np.isnan(inv[2:5]).all()
    assert inv[5] == 0 and np.signbit(inv[6])
    ten = gradus.tensor(10.0, dtype=gradus.float64)
    assert gradus.erfc(ten).item() == pytest.approx(2.088487583762545e-45, rel=1e-15)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # acosh(0), atanh(1): NaN / inf, as PyTorch
def test_integer_inputs_become_the_default_float():
    i = gradus.tensor([0, 1])
    for f in (gradus.asin, gradus.acos, gradus.atan, gradus.sinh, gradus.cosh, gradus.asinh, gradus.acosh,
              gradus.atanh, gradus.erf, gradus.erfc, gradus.erfinv):
        assert f(i).dtype == gradus.float32, f.__name__
    assert gradus.atan2(i, gradus.tensor([1, 1], dtype=gradus.int32)).dtype == gradus.float32
    assert gradus.erf(gradus.tensor([True])).dtype == gradus.float32
    x64 = gradus.tensor([0.5], dtype=gradus.float64)
    assert gradus.atan2(x64, gradus.tensor([1])).dtype == gradus.float64


def test_float_only_binary_ops_refuse_two_integer_tensors():
    i = gradus.tensor([1, 2])
    for f in (gradus.hypot, gradus.logaddexp, gradus.logaddexp2):
        with pytest.raises(DTypeError, match=f"{f.__name__}: expects floating point"):
            f(i, i)
        assert f(i, gradus.tensor([1.0, 2.0])).dtype == gradus.float32  # one float operand is enough


def test_float32_outputs_stay_float32_and_agree_with_float64():
    x = np.random.default_rng(0).uniform(-0.95, 0.95, 50)
    for f in (gradus.erf, gradus.erfc, gradus.erfinv, gradus.asin, gradus.atanh):
        y32 = f(gradus.tensor(x.astype(np.float32)))
        assert y32.dtype == gradus.float32
        y64 = f(gradus.tensor(x.astype(np.float32).astype(np.float64)))
        np.testing.assert_allclose(y32.numpy(), y64.numpy(), rtol=1e-6, atol=1e-7)
