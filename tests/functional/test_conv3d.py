"""3-D convolutions without the oracle: the op harness (forward vs a NumPy reference, float64 gradcheck,
gradgradcheck), fused vs composed twins, the N-D machinery against the 2-D code, adjointness, the
scratch-buffer rule, saved state, errors. (PyTorch comparisons: tests/oracle/test_functional_extra_oracle.py.)
"""
from __future__ import annotations

import numpy as np
import pytest

import gradus
import gradus.functional as F
from gradus.autograd import gradcheck, gradgradcheck
from gradus.errors import DTypeError, ShapeError
from gradus.functional import conv as C2
from gradus.functional import convnd as C
from gradus.functional import window as Wn
from tests.autograd.test_saved_state import _backward_and_check
from tests.helpers import SeededInputs
from tests.ops.harness import op, op_tests


# -- a NumPy reference (NumPy's own sliding windows, not gradus' as_strided) --------------------
def conv_nd_ref(x, W, b=None, stride=1, padding=0, dilation=1, groups=1):
    """y[n, o, *i] = b[o] + sum_{c, *u} W[o, c, *u] * xpad[n, g*Cg + c, *(i*s + u*d)]."""
    nd = W.ndim - 2
    s, p, d = ((v,) * nd if isinstance(v, int) else tuple(v) for v in (stride, padding, dilation))
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple((q, q) for q in p))
    k = W.shape[2:]
    span = tuple(di * (ki - 1) + 1 for ki, di in zip(k, d))
    win = np.lib.stride_tricks.sliding_window_view(xp, span, axis=tuple(range(2, 2 + nd)))
    win = win[(slice(None), slice(None)) + tuple(slice(None, None, si) for si in s)
              + tuple(slice(None, None, di) for di in d)]            # (N, C, *O, *K)
    oc, cg = W.shape[:2]
    ocg = oc // groups
    letters = "defghi"[:nd]
    kl = "uvw"[:nd]
    out = []
    for gi in range(groups):
        xw = win[:, gi * cg:(gi + 1) * cg]
        Wg = W[gi * ocg:(gi + 1) * ocg]
        out.append(np.einsum(f"nc{letters}{kl},oc{kl}->no{letters}", xw, Wg))
    y = np.concatenate(out, axis=1)
    if b is not None:
        y = y + b.reshape((1, -1) + (1,) * nd)
    return y


def conv_transpose_nd_ref(x, W, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The adjoint of ``conv_nd_ref`` w.r.t. its input, by scattering each input element's kernel."""
    nd = W.ndim - 2
    s, p, op_, d = ((v,) * nd if isinstance(v, int) else tuple(v)
                    for v in (stride, padding, output_padding, dilation))
    n, ic = x.shape[:2]
    icg, ocg = ic // groups, W.shape[1]
    k = W.shape[2:]
    full = tuple((m - 1) * si + di * (ki - 1) + 1 + oi
                 for m, si, di, ki, oi in zip(x.shape[2:], s, d, k, op_))
    y = np.zeros((n, ocg * groups) + full)
    for pos in np.ndindex(*x.shape[2:]):
        for u in np.ndindex(*k):
            at = tuple(pi * si + ui * di for pi, si, ui, di in zip(pos, s, u, d))
            for gi in range(groups):
                xv = x[(slice(None), slice(gi * icg, (gi + 1) * icg)) + pos]             # (N, ICg)
                Wv = W[(slice(gi * icg, (gi + 1) * icg), slice(None)) + u]               # (ICg, OCg)
                y[(slice(None), slice(gi * ocg, (gi + 1) * ocg)) + at] += xv @ Wv
    y = y[(slice(None), slice(None)) + tuple(slice(pi, f - pi) for pi, f in zip(p, full))]
    if b is not None:
        y = y + b.reshape((1, -1) + (1,) * nd)
    return y


# -- the op harness ------------------------------------------------------------------------------
def _conv3d_case(name, x, w, b, **kw):
    if b is None:
        return op(name, lambda x, W: F.conv3d(x, W, None, **kw), lambda x, W: conv_nd_ref(x, W, None, **kw),
                  [(x, w)])
    return op(name, lambda x, W, b: F.conv3d(x, W, b, **kw), lambda x, W, b: conv_nd_ref(x, W, b, **kw),
              [(x, w, b)])


def _ct3d_case(name, x, w, b, **kw):
    return op(name, lambda x, W, b: F.conv_transpose3d(x, W, b, **kw),
              lambda x, W, b: conv_transpose_nd_ref(x, W, b, **kw), [(x, w, b)])


CASES = (
    _conv3d_case("conv3d", (1, 2, 3, 4, 4), (2, 2, 2, 2, 2), (2,))
    + _conv3d_case("conv3d_pad_stride", (2, 2, 4, 3, 5), (3, 2, 3, 2, 3), (3,), stride=(2, 1, 2), padding=1)
    + _conv3d_case("conv3d_dil_groups", (1, 4, 5, 4, 3), (2, 2, 2, 2, 1), None, dilation=(2, 1, 1), groups=2,
                   padding=(0, 1, 0))
    + _conv3d_case("conv3d_depthwise", (1, 2, 3, 3, 3), (4, 1, 1, 2, 2), (4,), groups=2)
    + _ct3d_case("conv_transpose3d", (1, 2, 2, 3, 2), (2, 2, 2, 2, 2), (2,), stride=2, padding=1)
    + _ct3d_case("conv_transpose3d_groups", (1, 4, 2, 2, 3), (4, 1, 2, 1, 2), (2,), stride=(1, 2, 1),
                 groups=2, dilation=(1, 1, 2), output_padding=(0, 1, 0))
)

test_forward, test_backward, test_double_backward, test_cuda = op_tests(CASES)


def test_references_agree_with_the_2d_loop():
    """The NumPy references are checked against conv2d (itself checked against a direct loop)."""
    inputs = SeededInputs(0, np.float64)
    x, W = inputs.array(2, 4, 7, 6), inputs.array(6, 2, 3, 2)
    ref = conv_nd_ref(x, W, None, (2, 1), (1, 0), (1, 2), 2)
    got = F.conv2d(gradus.tensor(x), gradus.tensor(W), None, (2, 1), (1, 0), (1, 2), 2).numpy()
    np.testing.assert_allclose(got, ref, atol=1e-12)
    z, Wt = inputs.array(2, 4, 3, 4), inputs.array(4, 3, 3, 2)
    ref = conv_transpose_nd_ref(z, Wt, None, 2, 1, 1, 2, 1)
    got = F.conv_transpose2d(gradus.tensor(z), gradus.tensor(Wt), None, 2, 1, 1, 2, 1).numpy()
    np.testing.assert_allclose(got, ref, atol=1e-12)


# -- fused vs composed twins ---------------------------------------------------------------------
TWIN_CASES = [  # (x shape, W shape, stride, padding, dilation, groups)
    ((2, 3, 5, 4, 6), (4, 3, 3, 3, 3), 1, 1, 1, 1),              # stride 1: the correlation input gradient
    ((1, 4, 6, 5, 4), (6, 2, 2, 3, 2), (2, 1, 3), (1, 0, 1), (1, 2, 1), 2),
    ((2, 4, 4, 4, 4), (4, 1, 3, 1, 3), 1, "same", (2, 1, 1), 4),
    ((1, 2, 3, 3, 3), (3, 2, 1, 1, 1), 2, 0, 1, 1),
]


@pytest.mark.parametrize("case", TWIN_CASES, ids=[str(i) for i in range(len(TWIN_CASES))])
def test_fused_and_composed_twins_agree(case):
    """Same forward; the raw backward (plain backward()) equals the Tensor-op backward used under
    create_graph=True and the twin's autograd gradient."""
    xs, ws, s, p, d, g = case
    inputs = SeededInputs(1, np.float64)
    x = inputs.tensor(xs, requires_grad=True)
    W = inputs.tensor(ws, requires_grad=True)
    b = inputs.tensor(ws[0], requires_grad=True)
    y = F.conv3d(x, W, b, s, p, d, g)
    yc = C.conv3d_composed(x, W, b, s, p, d, g)
    np.testing.assert_allclose(y.numpy(), yc.numpy(), rtol=1e-12, atol=1e-12)
    gy = inputs.tensor(y.shape)
    raw = gradus.autograd.grad(y, (x, W, b), gy, retain_graph=True)
    composed = gradus.autograd.grad(y, (x, W, b), gy, create_graph=True)
    twin = gradus.autograd.grad(yc, (x, W, b), gy)
    for r, c, t in zip(raw, composed, twin):
        np.testing.assert_allclose(r.numpy(), c.numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(r.numpy(), t.numpy(), rtol=1e-12, atol=1e-12)
    assert raw[0].grad_fn is None and composed[0].requires_grad


def test_twins_gradcheck_and_gradgradcheck():
    inputs = SeededInputs(2, np.float64)
    x = inputs.tensor(1, 2, 3, 3, 2, requires_grad=True)
    W = inputs.tensor(2, 1, 2, 2, 1, requires_grad=True)
    b = inputs.tensor(2, requires_grad=True)
    for fn in (lambda x, W, b: F.conv3d(x, W, b, 1, 1, 1, 2),
               lambda x, W, b: C.conv3d_composed(x, W, b, 1, 1, 1, 2)):
        assert gradcheck(fn, (x, W, b))
        assert gradgradcheck(fn, (x, W, b))
    Wt = inputs.tensor(2, 2, 2, 1, 2, requires_grad=True)
    bt = inputs.tensor(2, requires_grad=True)
    for fn in (lambda x, W, b: F.conv_transpose3d(x, W, b, 2, 0, (1, 0, 0)),
               lambda x, W, b: C.conv_transpose3d_composed(x, W, b, 2, 0, (1, 0, 0))):
        assert gradcheck(fn, (x, Wt, bt))
        assert gradgradcheck(fn, (x, Wt, bt))
    y = F.conv_transpose3d(x, Wt, bt, 2, 0, (1, 0, 0))
    np.testing.assert_allclose(y.numpy(), C.conv_transpose3d_composed(x, Wt, bt, 2, 0, (1, 0, 0)).numpy(),
                               atol=1e-12)


@pytest.mark.parametrize("k,p,d,groups", [(3, 1, 1, 1), ((3, 1, 2), (0, 0, 1), (2, 1, 1), 2), (1, 0, 1, 1)])
def test_stride1_input_gradient_paths_agree(monkeypatch, k, p, d, groups):
    """Stride-1 3-D convs get gx from a correlation with the flipped kernel; the col2im path must agree."""
    inputs = SeededInputs(3, np.float64)
    kk = k if isinstance(k, tuple) else (k,) * 3
    x = inputs.tensor(2, 4, 5, 6, 5, requires_grad=True)
    W = inputs.tensor((6, 4 // groups) + kk, requires_grad=True)
    y = F.conv3d(x, W, None, 1, p, d, groups)
    assert C.transposed_geom_nd(y.grad_fn.g) is not None
    gy = inputs.tensor(y.shape)
    (fast,) = gradus.autograd.grad(y, x, gy)
    monkeypatch.setattr(C, "transposed_geom_nd", lambda g: None)
    (general,) = gradus.autograd.grad(F.conv3d(x, W, None, 1, p, d, groups), x, gy)
    np.testing.assert_allclose(fast.numpy(), general.numpy(), rtol=1e-12, atol=1e-12)


# -- the N-D machinery against the 2-D code --------------------------------------------------------
@pytest.mark.parametrize("s,p,d,groups", [(1, 1, 1, 1), ((2, 1), (1, 2), (1, 2), 2), (3, 0, 2, 4)])
def test_nd_functions_reproduce_conv2d(s, p, d, groups):
    """ConvNd / ConvTransposeNd and their composed forms on a 2-D input give conv2d's numbers."""
    inputs = SeededInputs(4, np.float64)
    x = inputs.tensor(2, 4, 9, 8, requires_grad=True)
    W = inputs.tensor(8, 4 // groups, 3, 2, requires_grad=True)
    x2, W2, b2, g, _ = C.prepare_convnd("t", 2, x, W, None, s, p, d, groups, "zeros")
    y = C.ConvNd.apply(x2, W2, None, g, groups)
    ref = F.conv2d(x, W, None, s, p, d, groups)
    np.testing.assert_allclose(y.numpy(), ref.numpy(), atol=1e-12)
    np.testing.assert_allclose(C.convnd_composed(x2, W2, None, g, groups).numpy(), ref.numpy(), atol=1e-12)
    gy = inputs.tensor(y.shape)
    for a, r in zip(gradus.autograd.grad(y, (x, W), gy), gradus.autograd.grad(ref, (x, W), gy)):
        np.testing.assert_allclose(a.numpy(), r.numpy(), atol=1e-12)
    z = inputs.tensor(2, 4, 4, 5, requires_grad=True)
    Wt = inputs.tensor(4, 6 // groups if groups < 4 else 1, 3, 2, requires_grad=True)
    zt, Wtt, _, gt, _ = C.prepare_conv_transposend("t", 2, z, Wt, None, s, p, 0, groups, d)
    yt = C.ConvTransposeNd.apply(zt, Wtt, None, gt, groups)
    np.testing.assert_allclose(yt.numpy(), F.conv_transpose2d(z, Wt, None, s, p, 0, groups, d).numpy(),
                               atol=1e-12)


def test_im2col_nd_and_col2im_nd_are_adjoint_and_match_2d():
    inputs = SeededInputs(5, np.float64)
    x = inputs.array(2, 3, 5, 6, 4)
    g = Wn.make_geom_nd((5, 6, 4), (2, 3, 2), (2, 1, 3), (1, 2, 1), (1, 0, 1), (1, 0, 1))
    cols = Wn.im2col_nd_array(x, g).reshape(3 * g.kk, 2 * g.L)
    z = inputs.array(cols.shape)
    back = Wn.col2im_nd_array(z, g, 2, 3)
    assert back.shape == x.shape and back.flags.c_contiguous
    np.testing.assert_allclose((cols * z).sum(), (x * back).sum(), rtol=1e-12)
    # an element: cols[c, u, v, w, n, i, j, l] = xpad[n, c, i*s0 + u*d0, ...]
    c6 = cols.reshape((3,) + g.k + (2,) + g.out)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (0, 0), (1, 1)))
    for c, u, v, w, n, i, j, l in [(0,) * 8, (2, 1, 2, 1, 1, 1, 1, 1), (1, 1, 0, 1, 0, 2, 1, 0)]:
        assert c6[c, u, v, w, n, i, j, l] == xp[n, c, i * 2 + u, j + 2 * v, l * 3 + w]
    # and in 2-D it is the 2-D im2col
    x2 = inputs.array(2, 3, 7, 6)
    g2 = Wn.make_geom(7, 6, (3, 2), (2, 1), (1, 2), (1, 1, 0, 0))
    gn = Wn.make_geom_nd((7, 6), (3, 2), (2, 1), (1, 2), (1, 0), (1, 0))
    np.testing.assert_array_equal(Wn.im2col_array(x2, g2), Wn.im2col_nd_array(x2, gn))
    c2 = inputs.array(3 * 6, 2 * g2.oh * g2.ow)
    np.testing.assert_allclose(Wn.col2im_array(c2, g2, 2, 3), Wn.col2im_nd_array(c2, gn, 2, 3), atol=1e-12)


def test_im2col_nd_functions_are_differentiable_twice():
    inputs = SeededInputs(6, np.float64)
    g = Wn.make_geom_nd((3, 3, 2), (2, 2, 1), (1, 1, 1), (1, 1, 1), (0, 1, 0), (0, 1, 0))
    x = inputs.tensor(1, 2, 3, 3, 2, requires_grad=True)
    assert gradgradcheck(lambda x: Wn.Im2colNd.apply(x, g) ** 2, (x,))
    c = inputs.tensor(2 * g.kk, g.L, requires_grad=True)
    assert gradgradcheck(lambda c: Wn.Col2imNd.apply(c * c, g, 1, 2), (c,))


# -- scratch buffers, saved state, layouts ------------------------------------------------------------
def test_returned_arrays_never_alias_the_scratch_buffers():
    """With N = 1 or C = 1 the transposed layouts are already contiguous: every returned gradient must
    still own its data (the next conv call overwrites the scratch buffers)."""
    inputs = SeededInputs(7, np.float64)
    for n, c in [(1, 3), (2, 1), (1, 1)]:
        x = inputs.tensor(n, c, 4, 3, 5, requires_grad=True)
        W = inputs.tensor(2, c, 3, 3, 3, requires_grad=True)
        b = inputs.tensor(2, requires_grad=True)
        for stride in (1, 2):
            y = F.conv3d(x, W, b, stride, 1)
            gy = inputs.tensor(y.shape)
            grads = gradus.autograd.grad(y, (x, W, b), gy)
            saved = [gr.numpy().copy() for gr in grads]
            F.conv3d(inputs.tensor(n, c, 4, 3, 5), inputs.tensor(2, c, 3, 3, 3), None, stride, 1).sum()
            y2 = F.conv3d(x, W, b, stride, 1)
            gradus.autograd.grad(y2, (x, W, b), inputs.tensor(y2.shape))   # refills every scratch role
            for gr, sv in zip(grads, saved):
                np.testing.assert_array_equal(gr.numpy(), sv)
            z = inputs.tensor(n, c, 2, 3, 2, requires_grad=True)
            Wt = inputs.tensor(c, 2, 2, 2, 2, requires_grad=True)
            yt = F.conv_transpose3d(z, Wt, None, stride)
            gt = gradus.autograd.grad(yt, (z, Wt), inputs.tensor(yt.shape))
            keep = [gr.numpy().copy() for gr in gt]
            yt2 = F.conv_transpose3d(z, Wt, None, stride)
            gradus.autograd.grad(yt2, (z, Wt), inputs.tensor(yt2.shape))
            for gr, sv in zip(gt, keep):
                np.testing.assert_array_equal(gr.numpy(), sv)


def test_float32_non_contiguous_and_unbatched():
    inputs = SeededInputs(8)
    x = inputs.array(5, 4, 6, 3, 2).transpose(4, 3, 0, 1, 2)       # (2, 3, 5, 4, 6), not contiguous
    W = inputs.array(4, 3, 3, 2, 3).transpose(0, 1, 2, 4, 3)       # (4, 3, 3, 3, 2)
    y = F.conv3d(gradus.tensor(x), gradus.tensor(W), None, 1, 1)
    assert y.dtype == np.float32 and y.data.flags.c_contiguous
    np.testing.assert_allclose(y.numpy(), conv_nd_ref(x.astype(np.float64), W.astype(np.float64), None, 1, 1),
                               rtol=1e-4, atol=1e-4)
    u = F.conv3d(gradus.tensor(x[0]), gradus.tensor(W), None, 1, 1)
    assert u.shape == y.shape[1:]
    np.testing.assert_allclose(u.numpy(), y.numpy()[0], atol=1e-6)
    ut = F.conv_transpose3d(gradus.tensor(x[0]), gradus.tensor(W.transpose(1, 0, 2, 3, 4).copy()))
    assert ut.shape == (4, 7, 6, 7)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_padding_modes_equal_explicit_pad(mode):
    inputs = SeededInputs(9, np.float64)
    x = inputs.tensor(1, 2, 4, 5, 4, requires_grad=True)
    W = inputs.tensor(3, 2, 3, 3, 3, requires_grad=True)
    y = F.conv3d(x, W, None, 1, (1, 2, 1), padding_mode=mode)
    ref = F.conv3d(F.pad(x, (1, 1, 2, 2, 1, 1), mode=mode), W)
    np.testing.assert_allclose(y.numpy(), ref.numpy(), atol=1e-12)
    assert gradcheck(lambda x, W: F.conv3d(x, W, None, 1, 1, padding_mode=mode),
                     (inputs.tensor(1, 1, 3, 3, 2, requires_grad=True),
                      inputs.tensor(1, 1, 2, 2, 2, requires_grad=True)))


def test_same_and_valid_padding():
    x = gradus.randn(1, 2, 5, 6, 7)
    for k, d in [(3, 1), (4, 1), (2, 2), ((2, 3, 4), (1, 2, 1))]:
        kk = (k,) * 3 if isinstance(k, int) else k
        assert F.conv3d(x, gradus.randn(3, 2, *kk), padding="same", dilation=d).shape == (1, 3, 5, 6, 7)
    assert F.conv3d(x, gradus.randn(3, 2, 3, 3, 3), padding="valid").shape == (1, 3, 3, 4, 5)


@pytest.mark.parametrize("fn", ["conv3d", "conv_transpose3d"])
def test_saved_state_is_freed_after_backward(fn):
    inputs = SeededInputs(10, np.float64)
    x = inputs.tensor(2, 2, 3, 4, 3, requires_grad=True)
    W = inputs.tensor(2, 2, 2, 2, 2, requires_grad=True)
    b = inputs.tensor(2, requires_grad=True)
    before, after = _backward_and_check(getattr(F, fn)(x, W, b, 1, 1))
    assert before and after == []


def test_output_shape_formulas():
    y = F.conv3d(gradus.zeros(2, 4, 9, 8, 7), gradus.zeros(6, 2, 3, 2, 4), None, (2, 3, 1), (1, 0, 2),
                 (1, 2, 1), 2)
    assert y.shape == (2, 6, (9 + 2 - 2 - 1) // 2 + 1, (8 - 2 - 1) // 3 + 1, (7 + 4 - 3 - 1) + 1)
    z = F.conv_transpose3d(gradus.zeros(2, 4, 3, 4, 5), gradus.zeros(4, 3, 3, 2, 2), None, 2, 1, (1, 0, 1))
    assert z.shape == (2, 3, 2 * 2 - 2 + 2 + 1 + 1, 3 * 2 - 2 + 1 + 1, 4 * 2 - 2 + 1 + 1 + 1)


# -- errors -----------------------------------------------------------------------------------------
def test_error_messages_name_the_op_and_the_sizes():
    x = gradus.zeros(2, 4, 5, 5, 5)
    with pytest.raises(ShapeError, match=r"conv3d: .*expects an input with 3 channels.*with 4 channels"):
        F.conv3d(x, gradus.zeros(6, 3, 3, 3, 3))
    with pytest.raises(ShapeError, match=r"conv3d: expected a 5-D input \(N, C, D, H, W\)"):
        F.conv3d(gradus.zeros(4, 5, 5), gradus.zeros(6, 4, 3, 3, 3))
    with pytest.raises(ShapeError, match=r"conv3d: weight must have 5 dims"):
        F.conv3d(x, gradus.zeros(6, 4, 3, 3))
    with pytest.raises(ShapeError, match=r"conv3d: out_channels 5 .* not divisible by groups=2"):
        F.conv3d(x, gradus.zeros(5, 2, 3, 3, 3), groups=2)
    with pytest.raises(ShapeError, match=r"conv3d: input spatial size \(5, 5, 5\).*kernel size \(9, 3, 3\)"):
        F.conv3d(x, gradus.zeros(6, 4, 5, 3, 3), dilation=(2, 1, 1))
    with pytest.raises(ShapeError, match=r"conv3d: bias must have shape \(6,\)"):
        F.conv3d(x, gradus.zeros(6, 4, 3, 3, 3), gradus.zeros(5))
    with pytest.raises(DTypeError, match=r"conv3d: input dtype float32 and weight dtype float64"):
        F.conv3d(x, gradus.zeros(6, 4, 3, 3, 3, dtype=gradus.float64))
    with pytest.raises(DTypeError, match=r"conv3d: expects a floating point input"):
        F.conv3d(gradus.zeros(1, 1, 3, 3, 3, dtype=gradus.int64),
                 gradus.zeros(1, 1, 1, 1, 1, dtype=gradus.int64))
    with pytest.raises(ValueError, match=r"conv3d: padding='same' is not supported for strided"):
        F.conv3d(x, gradus.zeros(6, 4, 3, 3, 3), stride=2, padding="same")
    with pytest.raises(ValueError, match=r"conv3d: stride must be an int or a tuple of 3 ints"):
        F.conv3d(x, gradus.zeros(6, 4, 3, 3, 3), stride=(1, 2))
    with pytest.raises(ValueError, match=r"conv3d: padding_mode must be"):
        F.conv3d(x, gradus.zeros(6, 4, 3, 3, 3), padding=1, padding_mode="mirror")
    with pytest.raises(ValueError, match=r"conv_transpose3d: output_padding \(2, 0, 0\) must be smaller"):
        F.conv_transpose3d(x, gradus.zeros(4, 2, 3, 3, 3), stride=2, output_padding=(2, 0, 0))
    with pytest.raises(ShapeError, match=r"conv_transpose3d: weight of shape .* expects an input with 5"):
        F.conv_transpose3d(x, gradus.zeros(5, 2, 3, 3, 3))
    with pytest.raises(ShapeError, match=r"conv_transpose3d: the output size .* is not positive"):
        F.conv_transpose3d(gradus.zeros(1, 4, 1, 1, 1), gradus.zeros(4, 2, 1, 1, 1), padding=1)


def test_conv2d_error_still_names_its_layout():
    """check_conv_args moved to window.py and learned 3-D; the 1-D/2-D messages are unchanged."""
    with pytest.raises(ShapeError, match=r"conv2d: expected a 4-D input \(N, C, H, W\)"):
        F.conv2d(gradus.zeros(8, 8), gradus.zeros(6, 4, 3, 3))
    with pytest.raises(ShapeError, match=r"conv1d: expected a 3-D input \(N, C, L\)"):
        F.conv1d(gradus.zeros(8), gradus.zeros(6, 4, 3))
    assert C2.check_conv_args is Wn.check_conv_args
