"""``interpolate`` without the oracle: the op harness (forward vs direct, non-separable NumPy
definitions of each mode; float64 gradcheck; gradgradcheck), the interpolation matrices' properties,
PyTorch's size / scale rules and kernel quirks, errors. (PyTorch comparisons, a sweep over sizes,
scale factors and modes: tests/oracle/test_functional_extra_oracle.py.)"""
from __future__ import annotations

import numpy as np
import pytest

import gradus
import gradus.functional as F
from gradus.autograd import gradcheck, gradgradcheck
from gradus.errors import DTypeError, ShapeError
from gradus.functional import resample as R
from tests.autograd.test_saved_state import _backward_and_check
from tests.ops.harness import op, op_tests


# -- direct definitions, one output point at a time, all axes at once --------------------------------
def _source(dst, n, o, factor, align_corners, cubic):
    if align_corners:
        return dst * ((n - 1) / (o - 1) if o > 1 else 0.0)
    scale = 1.0 / factor if factor else n / o
    s = (dst + 0.5) * scale - 0.5
    return s if cubic else max(s, 0.0)


def _keys(t, a=-0.75):
    t = abs(t)
    if t <= 1:
        return ((a + 2) * t - (a + 3)) * t * t + 1
    if t < 2:
        return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a
    return 0.0


def interp_ref(x, out, mode, align_corners=False, factors=None):
    """y[..., i] = sum over the neighbour taps (2 per axis linear, 4 cubic) of prod(weights) * x[..., j]
    with border-clamped j: the textbook definition, not separable matrices."""
    size = x.shape[2:]
    nd = len(size)
    factors = factors or (None,) * nd
    cubic = mode == "bicubic"
    y = np.zeros(x.shape[:2] + tuple(out))
    for pos in np.ndindex(*out):
        taps_per_axis = []
        for i, n, o, f in zip(pos, size, out, factors):
            if o == n and not cubic:           # PyTorch's linear kernels copy an unchanged axis
                taps_per_axis.append([(i, 1.0)])
                continue
            s = _source(i, n, o, f, align_corners, cubic)
            i0 = min(int(np.floor(s)), n - 1)
            t = min(max(s - i0, 0.0), 1.0)
            if cubic:
                taps_per_axis.append([(min(max(i0 + j, 0), n - 1), _keys(t - j)) for j in (-1, 0, 1, 2)])
            else:
                taps_per_axis.append([(i0, 1 - t), (min(i0 + 1, n - 1), t)])
        acc = 0.0
        for combo in np.ndindex(*[len(t) for t in taps_per_axis]):
            idx = tuple(taps_per_axis[a][c][0] for a, c in enumerate(combo))
            w = np.prod([taps_per_axis[a][c][1] for a, c in enumerate(combo)])
            acc = acc + w * x[(slice(None), slice(None)) + idx]
        y[(slice(None), slice(None)) + pos] = acc
    return y


def nearest_ref(x, out, exact=False):
    y = x
    for ax, (n, o) in enumerate(zip(x.shape[2:], out)):
        scale = np.float32(n) / np.float32(o)
        d = np.arange(o, dtype=np.float32)
        src = np.floor((d + np.float32(0.5)) * scale if exact else d * scale).astype(np.int64)
        y = np.take(y, np.minimum(src, n - 1), axis=2 + ax)
    return y


def _case(name, shape, out, mode, ac=None, **extra):
    kw = dict(size=out, mode=mode, align_corners=ac, **extra)
    if mode.startswith("nearest"):
        exact = mode == "nearest-exact"
        return op(name, lambda x: F.interpolate(x, **kw), lambda x: nearest_ref(x, out, exact), [shape])
    return op(name, lambda x: F.interpolate(x, **kw), lambda x: interp_ref(x, out, mode, bool(ac)), [shape])


CASES = (
    _case("linear_up", (2, 2, 4), (7,), "linear")
    + _case("linear_down_ac", (1, 2, 7), (3,), "linear", True)
    + _case("bilinear", (1, 2, 3, 4), (5, 7), "bilinear")
    + _case("bilinear_ac", (1, 1, 4, 3), (2, 5), "bilinear", True)
    + _case("bicubic_up", (1, 2, 3, 4), (6, 7), "bicubic")
    + _case("bicubic_down", (1, 1, 7, 6), (3, 4), "bicubic")
    + _case("bicubic_ac", (1, 1, 4, 4), (7, 3), "bicubic", True)
    + _case("bicubic_same_size", (1, 1, 4, 5), (4, 5), "bicubic")
    + _case("trilinear", (1, 2, 3, 2, 3), (4, 3, 5), "trilinear")
    + _case("trilinear_ac", (1, 1, 2, 4, 3), (3, 2, 4), "trilinear", True)
    + _case("nearest_3d", (1, 2, 3, 2, 4), (5, 4, 3), "nearest")
    + _case("nearest_exact_2d", (1, 2, 4, 5), (7, 3), "nearest-exact")
)

test_forward, test_backward, test_double_backward, test_cuda = op_tests(CASES)


def test_scale_factor_uses_the_given_factor():
    """With scale_factor (and recompute_scale_factor not True) the coordinate scale is 1/factor,
    not in/out: they differ when in * factor is not an integer."""
    x = np.random.default_rng(0).standard_normal((1, 2, 5, 4))
    y = F.interpolate(gradus.tensor(x), scale_factor=(1.7, 2.3), mode="bicubic").numpy()
    assert y.shape == (1, 2, 8, 9)
    np.testing.assert_allclose(y, interp_ref(x, (8, 9), "bicubic", factors=(1.7, 2.3)), atol=1e-12)
    yr = F.interpolate(gradus.tensor(x), scale_factor=(1.7, 2.3), mode="bicubic", recompute_scale_factor=True)
    np.testing.assert_allclose(yr.numpy(), interp_ref(x, (8, 9), "bicubic"), atol=1e-12)
    assert not np.allclose(y, yr.numpy())
    x5 = x[:, :, :, :, None]
    yt = F.interpolate(gradus.tensor(x5), scale_factor=(1.7, 2.3, 1.5), mode="trilinear").numpy()
    ref = interp_ref(x5, (8, 9, 1), "trilinear", factors=(1.7, 2.3, 1.5))
    np.testing.assert_allclose(yt, ref, atol=1e-12)


# -- the matrices ------------------------------------------------------------------------------------
@pytest.mark.parametrize("cubic", [False, True])
@pytest.mark.parametrize("ac", [False, True])
def test_interpolation_rows_sum_to_one_and_linear_reproduces_a_ramp(cubic, ac):
    """Every row sums to 1 (constants are kept, also through the clamped border taps); the linear
    matrix reproduces a linear ramp exactly. (Keys' kernel with A = -0.75 reproduces constants only;
    A = -0.5 would also reproduce quadratics.)"""
    for n, o in [(5, 9), (8, 3), (4, 4), (1, 3), (6, 1)]:
        m = R.interpolation_matrix(n, o, None, ac, cubic)
        assert m.shape == (o, n)
        np.testing.assert_allclose(m.sum(axis=1), 1.0, atol=1e-12)
    if not cubic:
        m = R.interpolation_matrix(10, 17, None, True, False)
        np.testing.assert_allclose(m @ np.arange(10.0), np.arange(17) * 9 / 16, atol=1e-12)


def test_bicubic_kernel_values():
    """Keys' kernel with A = -0.75 at t = 0.5: (-0.09375, 0.59375, 0.59375, -0.09375)."""
    np.testing.assert_allclose(R._cubic_weights(np.array(0.5), -0.75), [-0.09375, 0.59375, 0.59375, -0.09375])
    np.testing.assert_allclose(R._cubic_weights(np.array(0.0), -0.75), [0, 1, 0, 0], atol=1e-15)
    # 2x upsampling without align_corners: output 2 sits at src = 0.75, taps -1, 0, 1, 2 with -1 clamped
    # to 0 (its weight adds to tap 0's); output 5 at src = 2.25: taps 1..4 with 4 clamped to 3
    m = R.interpolation_matrix(4, 8, None, False, True)
    w = R._cubic_weights(np.array(0.75), -0.75)
    np.testing.assert_allclose(m[2], [w[0] + w[1], w[2], w[3], 0.0], atol=1e-15)
    w = R._cubic_weights(np.array(0.25), -0.75)
    np.testing.assert_allclose(m[5], [0.0, w[0], w[1], w[2] + w[3]], atol=1e-15)


def test_antialias_matrix_is_box_like_when_downsampling_by_an_integer():
    """bilinear + antialias, 8 -> 4: each output averages its 2 pixels with a triangle of half-width 2
    (weights 1/8, 3/8, 3/8, 1/8, renormalised at the borders)."""
    m = R.antialias_matrix(8, 4, None, False, False)
    np.testing.assert_allclose(m[1, 1:5], [1 / 8, 3 / 8, 3 / 8, 1 / 8])
    np.testing.assert_allclose(m[0, :3], np.array([3, 3, 1]) / 7)
    np.testing.assert_allclose(m.sum(axis=1), 1.0)


def test_linear_modes_copy_an_unchanged_axis_but_bicubic_does_not():
    x = np.random.default_rng(1).standard_normal((1, 1, 5, 6))
    y = F.interpolate(gradus.tensor(x), scale_factor=(1.1, 2.0), mode="bilinear").numpy()  # 5 -> 5
    np.testing.assert_allclose(y, interp_ref(x, (5, 12), "bilinear", factors=(1.1, 2.0)), atol=1e-12)
    yc = F.interpolate(gradus.tensor(x), scale_factor=(1.1, 1.0), mode="bicubic").numpy()
    assert not np.allclose(yc, x)       # the 1/1.1 scale is applied along the unchanged axis
    assert np.allclose(F.interpolate(gradus.tensor(x), scale_factor=1.0, mode="bicubic").numpy(), x)


def test_nearest_index_rules():
    """'nearest' on 4-D input copies an unchanged axis and halves indices of a doubled one; on 3-D and
    5-D input it always applies the scale; 'nearest-exact' always applies it."""
    ramp = np.arange(5.0)
    x1 = gradus.tensor(ramp.reshape(1, 1, 5))
    np.testing.assert_array_equal(F.interpolate(x1, scale_factor=1.19).numpy().ravel(), [0, 0, 1, 2, 3])
    np.testing.assert_array_equal(F.interpolate(x1, scale_factor=2.1).numpy().ravel(),
                                  [0, 0, 0, 1, 1, 2, 2, 3, 3, 4])
    x2 = gradus.tensor(np.broadcast_to(ramp.reshape(1, 1, 5, 1), (1, 1, 5, 3)).copy())
    np.testing.assert_array_equal(F.interpolate(x2, scale_factor=(1.19, 1.0)).numpy()[0, 0, :, 0], ramp)
    np.testing.assert_array_equal(F.interpolate(x2, scale_factor=(2.1, 1.0)).numpy()[0, 0, :, 0],
                                  np.arange(10) // 2)
    exact = F.interpolate(x2, scale_factor=(1.19, 1.0), mode="nearest-exact").numpy()
    np.testing.assert_array_equal(exact[0, 0, :, 0], [0, 1, 2, 2, 3])
    x3 = gradus.tensor(ramp.reshape(1, 1, 5, 1, 1))
    np.testing.assert_array_equal(F.interpolate(x3, scale_factor=(1.19, 1, 1)).numpy().ravel(),
                                  [0, 0, 1, 2, 3])


def test_nearest_gradient_is_the_adjoint_of_the_forward():
    """The gradient of 1-D nearest with scale 1.05 (5 -> 5, y = x[[0, 0, 1, 2, 3]]) sums into the
    sources (PyTorch's backward copies instead; see resample.py)."""
    x = gradus.tensor(np.arange(5.0).reshape(1, 1, 5), requires_grad=True)
    y = F.interpolate(x, scale_factor=1.05)
    (gx,) = gradus.autograd.grad(y, x, gradus.tensor(np.array([[[1.0, 10, 100, 1000, 10000]]])))
    np.testing.assert_array_equal(gx.numpy().ravel(), [11, 100, 1000, 10000, 0])
    assert gradcheck(lambda x: F.interpolate(x, scale_factor=1.05), (x,))


def test_area_mode_is_adaptive_average_pooling():
    x = gradus.randn(2, 3, 7, 5, 6)
    np.testing.assert_allclose(F.interpolate(x, size=(3, 2, 4), mode="area").numpy(),
                               F.adaptive_avg_pool3d(x, (3, 2, 4)).numpy(), atol=1e-6)
    x2 = gradus.randn(2, 3, 7, 5)
    np.testing.assert_allclose(F.interpolate(x2, scale_factor=0.5, mode="area").numpy(),
                               F.adaptive_avg_pool2d(x2, (3, 2)).numpy(), atol=1e-6)


def test_gradgradcheck_antialias_and_saved_state():
    x = gradus.tensor(np.random.default_rng(2).standard_normal((1, 1, 6, 5)), requires_grad=True)
    for mode in ("bilinear", "bicubic"):
        fn = lambda x: F.interpolate(x, size=(3, 2), mode=mode, antialias=True)  # noqa: E731,B023
        assert gradcheck(fn, (x,))
        assert gradgradcheck(fn, (x,))
    before, after = _backward_and_check(F.interpolate(x, size=(9, 7), mode="bicubic"))
    assert after == []


def test_float32_stays_float32():
    x = gradus.randn(1, 2, 3, 4)
    for mode in ("bilinear", "bicubic", "nearest", "area"):
        assert F.interpolate(x, scale_factor=2, mode=mode).dtype == np.float32
    assert F.interpolate(gradus.randn(1, 1, 2, 2, 2), scale_factor=2, mode="trilinear").dtype == np.float32


# -- errors ------------------------------------------------------------------------------------------
def test_errors_name_the_op_and_what_is_wrong():
    x4, x5 = gradus.zeros(1, 1, 4, 4), gradus.zeros(1, 1, 2, 2, 2)
    with pytest.raises(ShapeError, match=r"interpolate: got 4-D input, but mode 'trilinear' needs 5-D"):
        F.interpolate(x4, scale_factor=2, mode="trilinear")
    with pytest.raises(ShapeError, match=r"interpolate: got 5-D input, but mode 'bicubic' needs 4-D"):
        F.interpolate(x5, scale_factor=2, mode="bicubic")
    with pytest.raises(ShapeError, match=r"interpolate: got 4-D input, but mode 'linear' needs 3-D"):
        F.interpolate(x4, scale_factor=2, mode="linear")
    with pytest.raises(ValueError, match=r"interpolate: antialias=True is restricted to the bilinear and"):
        F.interpolate(x5, scale_factor=2, mode="trilinear", antialias=True)
    with pytest.raises(ValueError, match=r"recompute_scale_factor is not meaningful with an explicit size"):
        F.interpolate(x4, size=3, mode="bilinear", recompute_scale_factor=True)
    with pytest.raises(ValueError, match=r"input and output must have the same number of spatial dim"):
        F.interpolate(x4, size=(3, 3, 3))
    with pytest.raises(ValueError, match=r"input and scale_factor must have the same number of spatial"):
        F.interpolate(x4, scale_factor=(2, 2, 2))
    with pytest.raises(TypeError, match=r"interpolate: expected size to be an int or a tuple of ints"):
        F.interpolate(x4, size=(2.5, 3))
    with pytest.raises(ShapeError, match=r"interpolate: the output size \(0, 0\) must be positive"):
        F.interpolate(x4, scale_factor=0.2)
    with pytest.raises(ValueError, match=r"align_corners option can only be set with the interpolating"):
        F.interpolate(x4, scale_factor=2, mode="area", align_corners=False)
    with pytest.raises(DTypeError, match=r"interpolate: mode 'bicubic' needs a floating point input"):
        F.interpolate(gradus.zeros(1, 1, 2, 2, dtype=gradus.int64), scale_factor=2, mode="bicubic")
    with pytest.raises(ShapeError, match=r"interpolate: expected an input \(N, C, \*spatial\)"):
        F.interpolate(gradus.zeros(4, 4), scale_factor=2)
