"""The numba kernels: each loop below is the formula of its NumPy twin in ``gradus.kernels``, written
as one vectorised pass over memory, on the calling thread.

Why compiled loops at all: a NumPy expression such as ``0.5 * x * (1 + erf(x / sqrt 2))`` is four
passes over a (B, T, 4d) array, each on ONE core, each reading and writing the whole array; PyTorch
runs the same formula as one loop. Here too, now: one read of the inputs, one write of the result.
Arithmetic is in the array's own dtype, except where a reduction or a transcendental needs float64
for accuracy (noted at the loop).

Imported only when numba is installed; ``gradus.kernels`` chooses between this and NumPy.
"""
from __future__ import annotations

import math
import warnings

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload

# numba's SSA pass emits a "pedantic" NumbaIRAssumptionWarning when it inlines the scalar helpers
# below (``inline="always"``, which the loops need to vectorise); the compiled code is unaffected.
warnings.filterwarnings("ignore", category=numba.core.errors.NumbaIRAssumptionWarning)

# Serial loops on the calling thread, on purpose: OpenBLAS' worker threads spin for a while after
# each GEMM, and a second pool (numba's parallel=True) fighting them for the same cores made a GEMM
# followed by a GELU 1.7x slower than the two run back to back (26.6 ms against 15.5 ms here).
# error_model="numpy" (no ZeroDivisionError checks) is what lets LLVM vectorise the loops.
_JIT = dict(fastmath=False, cache=True, nogil=True, error_model="numpy")
# Kernels with row sums: "reassoc" lets LLVM split a sum into vector lanes (a different summation
# order, as NumPy's pairwise sum is too); nothing else is relaxed (NaN and inf keep IEEE semantics).
_JIT_SUM = dict(_JIT, fastmath={"reassoc"})

_SQRT1_2 = 1 / math.sqrt(2.0)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_SQRT_2_PI = math.sqrt(2 / math.pi)
_C = 0.044715


# ----------------------------------------------------------------------------------------------
# scalar functions in the argument's precision: ``erf`` and ``exp`` resolve, while numba compiles a
# kernel for float32 or float64 arrays, to a vectorisable float32 formula or to libm (``overload``),
# so a loop reads as its formula.
# ----------------------------------------------------------------------------------------------
# float32 erf: the branch-free rational approximation of ops.special._erf_float32 (max error 4.2e-7),
# same coefficients and Horner order in float32, so both paths give the same bits; no libm call, so
# LLVM vectorises the loop. float64: libm's erf (1 ulp, as fdlibm's in ops.special).
_f32 = np.float32
P0, P1, P2, P3, P4, P5, P6 = (_f32(c) for c in (
    -2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06, -5.69250639462346e-05,
    -7.34990630326855e-04, -2.95459980854025e-03, -1.60960333262415e-02))
Q0, Q1, Q2, Q3, Q4 = (_f32(c) for c in (
    -1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03, -7.37332916720468e-03,
    -1.42647390514189e-02))
# float32 exp (Cephes' expf): exp(x) = 2^n exp(r), n = round(x / ln 2), |r| <= ln(2)/2, exp(r) by a
# polynomial, 2^n written into the exponent bits (LLVM bitcasts: no libm call, so loops vectorise,
# as fast as NumPy's SIMD exp on one core); relative error 8e-8 (NumPy's: 2e-7). No denormals:
# exp(x) = 0 below -87.34 (exp(-inf) = 0 exactly, as softmax needs), and inf above 88.376 (float32's
# true limit is 88.72: the 2.4e38..3.4e38 range is lost).
LOG2E, LN2_HI, LN2_LO = _f32(1.44269504088896341), _f32(0.693359375), _f32(-2.12194440e-4)
E0, E1, E2, E3, E4, E5 = (_f32(c) for c in (
    1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1))
_EXP_MAX, _EXP_MIN = _f32(88.3762626647949), _f32(-87.3365447504)


@intrinsic
def _as_float32(typingctx, bits):
    """Reinterpret the bits of an int32 as a float32 (no conversion)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())
    return types.float32(types.int32), codegen


@intrinsic
def _as_int32(typingctx, x):
    """Reinterpret the bits of a float32 as an int32 (no conversion)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))
    return types.int32(types.float32), codegen


_ROUND = _f32(12582912.0)  # 1.5 * 2^23: t = v + _ROUND rounds v to an integer n held in t's low bits


@numba.njit(inline="always")
def exp32(x):
    v = min(max(x, _EXP_MIN), _EXP_MAX)
    t = v * LOG2E + _ROUND
    n = t - _ROUND                                   # round(v / ln 2), as a float
    r = v - n * LN2_HI - n * LN2_LO                  # |r| <= ln(2) / 2, in two steps (Cody-Waite)
    p = (((((E0 * r + E1) * r + E2) * r + E3) * r + E4) * r + E5) * (r * r) + r + _f32(1.0)
    y = p * _as_float32((_as_int32(t) + np.int32(127 - 0x400000)) << 23)   # p * 2^n
    y = _f32(0.0) if x < _EXP_MIN else y
    y = _f32(np.inf) if x > _EXP_MAX else y
    return x if x != x else y


@numba.njit(inline="always")
def erf32(a):
    v = min(max(a, _f32(-4.0)), _f32(4.0))        # +-inf -> +-1
    z = v * v
    p = ((((((P0 * z + P1) * z + P2) * z + P3) * z + P4) * z + P5) * z + P6) * v
    q = (((Q0 * z + Q1) * z + Q2) * z + Q3) * z + Q4
    return p / q


# float32 tanh: the rational (odd degree 13 / even degree 6) approximation Eigen uses for float, on
# [-7.905, 7.905] (beyond it float32 tanh is +-1 to the last bit); max abs error 2.4e-7 against
# NumPy's tanh, no libm call (so loops vectorise).
TA1, TA3, TA5, TA7, TA9, TA11, TA13 = (_f32(c) for c in (
    4.89352455891786e-03, 6.37261928875436e-04, 1.48572235717979e-05, 5.12229709037114e-08,
    -8.60467152213735e-11, 2.00018790482477e-13, -2.76076847742355e-16))
TB0, TB2, TB4, TB6 = (_f32(c) for c in (
    4.89352518554385e-03, 2.26843463243900e-03, 1.18534705686654e-04, 1.19825839466702e-06))
_TANH_CLAMP = _f32(7.90531110763549805)


@numba.njit(inline="always")
def tanh32(a):
    v = min(max(a, -_TANH_CLAMP), _TANH_CLAMP)
    z = v * v
    p = ((((((TA13 * z + TA11) * z + TA9) * z + TA7) * z + TA5) * z + TA3) * z + TA1) * v
    q = ((TB6 * z + TB4) * z + TB2) * z + TB0
    return a if a != a else p / q


def erf(a):
    """erf in a's own precision: ``erf32`` for float32, libm's for float64 (chosen while compiling)."""
    raise NotImplementedError("numba-only")


def exp(a):
    """exp in a's own precision: ``exp32`` for float32, libm's for float64 (chosen while compiling)."""
    raise NotImplementedError("numba-only")


@overload(erf, inline="always")
def _erf_typed(a):
    if isinstance(a, types.Float) and a.bitwidth == 32:
        return lambda a: erf32(a)
    return lambda a: math.erf(a)


@overload(exp, inline="always")
def _exp_typed(a):
    if isinstance(a, types.Float) and a.bitwidth == 32:
        return lambda a: exp32(a)
    return lambda a: math.exp(a)


# ----------------------------------------------------------------------------------------------
# GELU: y = x Phi(x), exact (erf) or tanh; backward dy/dx (see functional.activation.Gelu). ``k`` holds
# the constants in the array's dtype (``gelu_constants``): float32 stays float32 (a float64 literal
# would promote the whole loop), in the NumPy twin's order of operations.
# ----------------------------------------------------------------------------------------------
def gelu_constants(dtype):
    """(1/2, 1, 1/sqrt 2, 1/sqrt(2 pi), sqrt(2/pi), 0.044715 sqrt(2/pi), 3 * 0.044715 sqrt(2/pi))."""
    t = np.dtype(dtype).type
    return tuple(t(c) for c in (0.5, 1.0, _SQRT1_2, _INV_SQRT_2PI, _SQRT_2_PI, _C * _SQRT_2_PI,
                                3 * _C * _SQRT_2_PI))


@numba.njit(**_JIT)
def gelu_erf(x, y, k):
    half, one, s2 = k[0], k[1], k[2]
    for i in range(x.size):
        a = x[i]
        y[i] = (erf(a * s2) + one) * a * half


@numba.njit(**_JIT)
def gelu_erf_backward(x, gy, gx, k):
    half, one, s2, inv_s2pi = k[0], k[1], k[2], k[3]
    for i in range(x.size):
        a = x[i]
        d = (erf(a * s2) + one) * half + exp(a * a * -half) * a * inv_s2pi   # Phi(a) + a phi(a)
        gx[i] = gy[i] * d


@numba.njit(**_JIT)
def gelu_tanh(x, y, k):
    """0.5 x (1 + tanh(u)) = x sigmoid(2u) = x / (1 + exp(-2u)): one exp, no cancellation."""
    one, s, cs = k[1], k[4], k[5]
    for i in range(x.size):
        a = x[i]
        y[i] = a / (one + exp((a * a * cs + s) * a * -(one + one)))


@numba.njit(**_JIT)
def gelu_tanh_backward(x, gy, gx, k):
    """With sig = sigmoid(2u): 0.5 (1 + t) = sig and 0.5 (1 - t^2) = 2 sig (1 - sig), so
    dy/dx = sig + 2 x sig (1 - sig) du/dx, du/dx = sqrt(2/pi) (1 + 3 * 0.044715 x^2)."""
    one, s, cs, cs3 = k[1], k[4], k[5], k[6]
    for i in range(x.size):
        a = x[i]
        a2 = a * a
        sig = one / (one + exp((a2 * cs + s) * a * -(one + one)))
        du = a2 * cs3 + s
        gx[i] = gy[i] * (sig + (one + one) * a * sig * (one - sig) * du)


# ----------------------------------------------------------------------------------------------
# softmax over the last axis of a (rows, n) array, in place; causal: row r of a block of L rows keeps
# columns j <= r mod L (the top-left aligned lower triangle of scaled_dot_product_attention)
# ----------------------------------------------------------------------------------------------
@numba.njit(**_JIT_SUM)
def softmax_rows(s, scale, L, causal, dead, dead_value):
    """``scale`` > 0 comes in the row's dtype, so max(s) * scale = max(s * scale) exactly and the scores
    are read once for the max and once for exp. ``dead[r]`` is set for a fully masked row (every score
    -inf), which becomes ``dead_value``: NaN as the unfused formula gives, or 0 (the "safe" softmax
    of attention)."""
    rows, n = s.shape
    for r in range(rows):
        row = s[r]
        stop = min(r % L + 1, n) if causal else n
        m = row[0]
        for j in range(stop):
            m = max(m, row[j])
        dead[r] = m == -np.inf
        if dead[r]:
            for j in range(n):
                row[j] = dead_value
            continue
        ms = m * scale
        total = 0.0                        # float64 accumulator
        for j in range(stop):
            e = exp(row[j] * scale - ms)
            row[j] = e
            total += e
        inv = 1.0 / total
        for j in range(stop):
            row[j] *= inv
        for j in range(stop, n):
            row[j] = 0.0


@numba.njit(**_JIT_SUM)
def softmax_rows_backward(p, dp, scale):
    """dp <- scale * p * (dp - sum(dp * p)) row by row (the softmax Jacobian-vector product, times the
    score scale the caller would otherwise apply in two more passes), in place."""
    rows, n = p.shape
    for r in range(rows):
        pr, dr = p[r], dp[r]
        dot = 0.0
        for j in range(n):
            dot += dr[j] * pr[j]
        for j in range(n):
            dr[j] = pr[j] * (dr[j] - dot) * scale


# ----------------------------------------------------------------------------------------------
# layer norm over the last axis of (rows, n): y = (x - mu) / sqrt(var + eps) * w + b. The statistics
# are summed in float64, then stored in (rows,) arrays of x's dtype (``mu``, ``inv``) and read back,
# so the per-element loops run in x's dtype (a float64 scalar in them would promote, and not vectorise).
# ----------------------------------------------------------------------------------------------
@numba.njit(**_JIT_SUM)
def layer_norm_rows(x, w, b, eps, y, xhat, mu, inv):
    rows, n = x.shape
    for r in range(rows):
        xr = x[r]
        total = 0.0
        for j in range(n):
            total += xr[j]
        mean = total / n
        ss = 0.0
        for j in range(n):
            d = xr[j] - mean
            ss += d * d
        mu[r] = mean
        inv[r] = 1.0 / math.sqrt(ss / n + eps)
        m, iv = mu[r], inv[r]
        hr, yr = xhat[r], y[r]
        for j in range(n):
            h = (xr[j] - m) * iv
            hr[j] = h
            yr[j] = h * w[j] + b[j]


@numba.njit(**_JIT_SUM)
def layer_norm_rows_backward(g, w, xhat, inv, gx, s1, s2, gw, gb):
    """gx = (g w - mean(g w) - xhat mean(g w xhat)) * inv, row by row; s1, s2: (rows,) scratch; the
    parameter gradients gw += g xhat and gb += g are summed over the rows on the way ((n,) float64)."""
    rows, n = g.shape
    for r in range(rows):
        gr, hr, out = g[r], xhat[r], gx[r]
        a = 0.0
        c = 0.0
        for j in range(n):
            gh = gr[j] * w[j]
            a += gh
            c += gh * hr[j]
            gw[j] += gr[j] * hr[j]
            gb[j] += gr[j]
        s1[r] = a / n
        s2[r] = c / n
        m1, m2, iv = s1[r], s2[r], inv[r]
        for j in range(n):
            out[j] = (gr[j] * w[j] - m1 - hr[j] * m2) * iv


# ----------------------------------------------------------------------------------------------
# Adam (PyTorch's order of operations): v = b2 v + (1-b2) g^2; m += (1-b1)(g - m);
# p -= step_size * m / (sqrt(v) / bias2_sqrt + eps)
# ----------------------------------------------------------------------------------------------
@numba.njit(**_JIT)
def adam_update(p, g, m, v, beta2, one_m_beta1, one_m_beta2, step_size, bias2_sqrt, eps):
    """The scalars come in p's dtype (as NumPy casts them), so float32 stays float32: same bits."""
    for i in range(p.size):
        gi = g[i]
        vi = v[i] * beta2 + gi * gi * one_m_beta2
        v[i] = vi
        mi = m[i] + (gi - m[i]) * one_m_beta1
        m[i] = mi
        p[i] -= mi / (math.sqrt(vi) / bias2_sqrt + eps) * step_size


# ----------------------------------------------------------------------------------------------
# SGD with momentum (dampening 0, not Nesterov): buf = momentum * buf + g; p -= lr * buf
# ----------------------------------------------------------------------------------------------
@numba.njit(**_JIT)
def sgd_momentum_update(p, g, buf, momentum, lr):
    """The scalars come in p's dtype, the NumPy twin's order of operations: the same bits."""
    for i in range(p.size):
        b = buf[i] * momentum + g[i]
        buf[i] = b
        p[i] -= b * lr


# ----------------------------------------------------------------------------------------------
# batch norm over every axis but the channels, in the two memory layouts a conv net produces:
# channels-last, a (rows, C) array (the channels the inner, contiguous axis: conv2d's channels-last
# lowering, BatchNorm1d's (N, C)), and NCHW, an (N, C, L) array. Statistics summed in float64 into
# (C,) arrays, then read back in x's dtype for the per-element loops (which then vectorise).
# ----------------------------------------------------------------------------------------------
@numba.njit(**_JIT_SUM)
def batch_norm_stats_cl(x, total, sq):
    """x (rows, C): total[c] = sum_r x; then, with total replaced by the mean, sq[c] = sum (x - mean)^2."""
    rows, C = x.shape
    for r in range(rows):
        xr = x[r]
        for c in range(C):
            total[c] += xr[c]
    for c in range(C):
        total[c] /= rows
    for r in range(rows):
        xr = x[r]
        for c in range(C):
            d = xr[c] - total[c]
            sq[c] += d * d


@numba.njit(**_JIT_SUM)
def batch_norm_stats_cf(x, total, sq):
    """x (N, C, L): the same per channel c over (n, l)."""
    N, C, L = x.shape
    for n in range(N):
        for c in range(C):
            xr = x[n, c]
            s = 0.0
            for j in range(L):
                s += xr[j]
            total[c] += s
    for c in range(C):
        total[c] /= N * L
    for n in range(N):
        for c in range(C):
            xr = x[n, c]
            m = total[c]
            s = 0.0
            for j in range(L):
                d = xr[j] - m
                s += d * d
            sq[c] += s


@numba.njit(**_JIT)
def batch_norm_apply_cl(x, mu, inv, w, b, y, xhat):
    """xhat = (x - mu) inv, y = xhat w + b; x, y, xhat (rows, C), the rest (C,) in x's dtype."""
    rows, C = x.shape
    for r in range(rows):
        xr, hr, yr = x[r], xhat[r], y[r]
        for c in range(C):
            h = (xr[c] - mu[c]) * inv[c]
            hr[c] = h
            yr[c] = h * w[c] + b[c]


@numba.njit(**_JIT)
def batch_norm_apply_cf(x, mu, inv, w, b, y, xhat):
    N, C, L = x.shape
    for n in range(N):
        for c in range(C):
            xr, hr, yr = x[n, c], xhat[n, c], y[n, c]
            m, iv, wc, bc = mu[c], inv[c], w[c], b[c]
            for j in range(L):
                h = (xr[j] - m) * iv
                hr[j] = h
                yr[j] = h * wc + bc


@numba.njit(**_JIT_SUM)
def batch_norm_grad_sums_cl(g, xhat, gb, gw):
    """gb[c] = sum g, gw[c] = sum g xhat (float64)."""
    rows, C = g.shape
    for r in range(rows):
        gr, hr = g[r], xhat[r]
        for c in range(C):
            gb[c] += gr[c]
            gw[c] += gr[c] * hr[c]


@numba.njit(**_JIT_SUM)
def batch_norm_grad_sums_cf(g, xhat, gb, gw):
    N, C, L = g.shape
    for n in range(N):
        for c in range(C):
            gr, hr = g[n, c], xhat[n, c]
            a = 0.0
            s = 0.0
            for j in range(L):
                a += gr[j]
                s += gr[j] * hr[j]
            gb[c] += a
            gw[c] += s


@numba.njit(**_JIT)
def batch_norm_input_grad_cl(g, xhat, k, m1, m2, gx):
    """gx = k (g - m1 - xhat m2) with k = w inv, m1 = mean(g), m2 = mean(g xhat), all (C,)."""
    rows, C = g.shape
    for r in range(rows):
        gr, hr, out = g[r], xhat[r], gx[r]
        for c in range(C):
            out[c] = (gr[c] - m1[c] - hr[c] * m2[c]) * k[c]


@numba.njit(**_JIT)
def batch_norm_input_grad_cf(g, xhat, k, m1, m2, gx):
    N, C, L = g.shape
    for n in range(N):
        for c in range(C):
            gr, hr, out = g[n, c], xhat[n, c], gx[n, c]
            a, s, kc = m1[c], m2[c], k[c]
            for j in range(L):
                out[j] = (gr[j] - a - hr[j] * s) * kc


# ----------------------------------------------------------------------------------------------
# one LSTM time step of functional.recurrent.LSTMLayer (float32 only): the gate math of one step,
# one pass instead of ~9 (forward) and ~15 (backward) NumPy calls on (B, 4H) and (B, H) arrays.
# Gate order [i, f, g, o]; ``a`` holds the pre-activations with i, f, o halved (LSTMLayer), so ONE
# tanh activates all four: gate = tanh(a) * scale + shift.
# ----------------------------------------------------------------------------------------------
@numba.njit(**_JIT)
def lstm_step_forward(a, gh, scale, shift, c_prev, c, tc, h):
    """a (B, 4H) += gh, activated in place; c = f c_prev + i g, tc = tanh(c), h = o tc (B, H)."""
    B, G = a.shape
    H = G // 4
    for b in range(B):
        ar = a[b]
        gr = gh[b]
        for j in range(G):
            ar[j] = tanh32(ar[j] + gr[j]) * scale[j] + shift[j]
        cp, cr, tr, hr = c_prev[b], c[b], tc[b], h[b]
        for j in range(H):
            v = ar[H + j] * cp[j] + ar[j] * ar[2 * H + j]
            cr[j] = v
            t = tanh32(v)
            tr[j] = t
            hr[j] = ar[3 * H + j] * t


@numba.njit(**_JIT)
def lstm_step_backward(a, tc, c_prev, dh, g_out, dc, d):
    """From dL/dh_t = dh + g_out and dL/dc_t (carried in ``dc``): d (B, 4H) = dL/d(pre-activations)
    of [i, f, g, o], and dc = dL/dc_{t-1} in place. The NumPy twin's order of operations (the same
    bits): gc = (dh o)(1 - tc^2) + dc; d = [gc g, gc c_prev, gc i, dh tc] (1 - a)(a + [0, 0, 1, 0])."""
    B, G = a.shape
    H = G // 4
    one = _f32(1.0)
    for b in range(B):
        ar, dr = a[b], d[b]
        tr, cp, hr, gor, cr = tc[b], c_prev[b], dh[b], g_out[b], dc[b]
        for j in range(H):
            i, f, g, o = ar[j], ar[H + j], ar[2 * H + j], ar[3 * H + j]
            dhj = hr[j] + gor[j]
            t = tr[j]
            gc = dhj * o * (one - t * t) + cr[j]
            dr[j] = gc * g * (one - i) * i
            dr[H + j] = gc * cp[j] * (one - f) * f
            dr[2 * H + j] = gc * i * (one - g) * (g + one)
            dr[3 * H + j] = dhj * t * (one - o) * o
            cr[j] = gc * f


# ----------------------------------------------------------------------------------------------
# the max-pool backward (functional.pooling.MaxPool2d): each output's gradient added at the input
# pixel its window's arg-max points to, one pass, instead of building an int64 index per output and
# scattering through it (six NumPy passes and a fancy-index assignment)
# ----------------------------------------------------------------------------------------------
@numba.njit(**_JIT)
def max_pool2d_backward(gy, arg, rows, cols, sh, sw, pt, pl, gx):
    """gx (P, H, W) += gy (P, OH, OW) at each window's arg-max k: pixel (i*sh - pt + rows[k],
    j*sw - pl + cols[k]) (rows[k] = u*dh, cols[k] = v*dw for k = u*KW + v: tables, as integer
    division per element measured 2x slower). Sequential, so overlapping windows accumulate; a tap in
    the padding (possible only when the window's pixels are all -inf) adds nothing."""
    P, OH, OW = gy.shape
    H, W = gx.shape[1], gx.shape[2]
    for p in range(P):
        gp, ap, xp = gy[p], arg[p], gx[p]
        for i in range(OH):
            r0 = i * sh - pt
            for j in range(OW):
                k = ap[i, j]
                r = r0 + rows[k]
                c = j * sw - pl + cols[k]
                if r >= 0 and r < H and c >= 0 and c < W:
                    xp[r, c] += gp[i, j]


@numba.njit(**_JIT)
def relu_backward(y, gy, gx):
    """gx = gy * [y > 0] in one pass (the NumPy twin's bits: gy * 0 keeps NaN and the sign of zero)."""
    zero = gy.dtype.type(0)
    for i in range(y.size):
        gx[i] = gy[i] if y[i] > 0 else gy[i] * zero
