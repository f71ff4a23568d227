"""Convolutions without the oracle: fused vs composed twins, gradchecks, im2col/col2im adjointness,
reference loops, argument handling and error messages. (PyTorch comparisons: tests/oracle.)"""
from __future__ import annotations

import numpy as np
import pytest

import gradus
import gradus.functional as F
from gradus.autograd import gradcheck, gradgradcheck
from gradus.errors import DTypeError, ShapeError
from gradus.functional import conv as C
from tests.helpers import SeededInputs


def t64(a, requires_grad=True):
    return gradus.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def conv2d_loop(x, W, b, stride, padding, dilation, groups):
    """Direct definition: y[n,o,i,j] = b[o] + sum W[o,c,u,v] xpad[n, g*Cg + c, i*s + u*d, j*s + v*d]."""
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    n, c, h, w = x.shape
    oc, cg, kh, kw = W.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    y = np.zeros((n, oc, oh, ow))
    ocg = oc // groups
    for o in range(oc):
        gi = o // ocg
        for i in range(oh):
            for j in range(ow):
                patch = xp[:, gi * cg:(gi + 1) * cg, i * sh:i * sh + dh * (kh - 1) + 1:dh,
                           j * sw:j * sw + dw * (kw - 1) + 1:dw]
                y[:, o, i, j] = (patch * W[o]).sum(axis=(1, 2, 3))
    if b is not None:
        y += b[None, :, None, None]
    return y


CASES = [  # (N, C, H, W, OC, kernel, stride, padding, dilation, groups)
    (2, 3, 7, 6, 4, (3, 3), (1, 1), (1, 1), (1, 1), 1),
    (1, 4, 9, 8, 6, (3, 2), (2, 3), (2, 0), (2, 1), 2),
    (2, 4, 6, 7, 8, (3, 3), (1, 2), (0, 1), (1, 2), 4),   # depthwise, channel multiplier 2
    (3, 2, 5, 5, 3, (1, 1), (2, 2), (0, 0), (1, 1), 1),
    (1, 3, 8, 5, 2, (5, 3), (3, 1), (2, 1), (1, 1), 1),
]


@pytest.mark.parametrize("case", CASES)
def test_conv2d_matches_direct_loop(case):
    n, c, h, w, oc, k, s, p, d, g = case
    inputs = SeededInputs(1, np.float64)
    x = inputs.array(n, c, h, w)
    W = inputs.array((oc, c // g) + k)
    b = inputs.array(oc)
    y = F.conv2d(t64(x, False), t64(W, False), t64(b, False), s, p, d, g)
    np.testing.assert_allclose(y.numpy(), conv2d_loop(x, W, b, s, p, d, g), rtol=1e-12, atol=1e-12)
    assert y.dtype == np.float64


@pytest.mark.parametrize("case", CASES)
def test_fused_and_composed_twins_agree(case):
    """Same forward; and the raw (once-differentiable) backward equals the Tensor-op backward that
    autograd uses under create_graph=True."""
    n, c, h, w, oc, k, s, p, d, g = case
    inputs = SeededInputs(2, np.float64)
    x = inputs.tensor(n, c, h, w, requires_grad=True)
    W = inputs.tensor((oc, c // g) + k, requires_grad=True)
    b = inputs.tensor(oc, requires_grad=True)
    y_fused = F.conv2d(x, W, b, s, p, d, g)
    y_comp = C.conv2d_composed(x, W, b, s, p, d, g)
    np.testing.assert_allclose(y_fused.numpy(), y_comp.numpy(), rtol=1e-12, atol=1e-12)
    gy = inputs.tensor(y_fused.shape)
    raw = gradus.autograd.grad(y_fused, (x, W, b), gy, retain_graph=True)
    composed_bw = gradus.autograd.grad(y_fused, (x, W, b), gy, create_graph=True)
    twin = gradus.autograd.grad(y_comp, (x, W, b), gy)
    for a, bb, cc in zip(raw, composed_bw, twin):
        np.testing.assert_allclose(a.numpy(), bb.numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(a.numpy(), cc.numpy(), rtol=1e-12, atol=1e-12)
    assert composed_bw[0].requires_grad  # a real graph, differentiable again


def test_conv2d_float32_fused_vs_composed():
    inputs = SeededInputs(3)
    x = inputs.tensor(4, 6, 11, 9, requires_grad=True)
    W = inputs.tensor(8, 3, 3, 3, requires_grad=True)
    y = F.conv2d(x, W, None, 2, 1, 1, 2)
    y2 = C.conv2d_composed(x, W, None, 2, 1, 1, 2)
    assert y.dtype == np.float32 and y.data.flags.c_contiguous
    np.testing.assert_allclose(y.numpy(), y2.numpy(), rtol=1e-5, atol=1e-5)
    y.sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.shape == x.shape and W.grad.shape == W.shape


@pytest.mark.parametrize("groups,stride,padding,dilation", [(1, 1, 1, 1), (2, 2, 1, 1), (1, 1, 0, 2)])
def test_conv2d_gradcheck_and_gradgradcheck(groups, stride, padding, dilation):
    inputs = SeededInputs(4, np.float64)
    x = inputs.tensor(2, 2, 3, 5, requires_grad=True)
    W = inputs.tensor(2, 2 // groups, 1, 3, requires_grad=True)
    b = inputs.tensor(2, requires_grad=True)

    def fn(x, W, b):
        return F.conv2d(x, W, b, stride, padding, dilation, groups)

    assert gradcheck(fn, (x, W, b))
    assert gradgradcheck(fn, (x, W, b))


def test_composed_conv2d_gradgradcheck():
    inputs = SeededInputs(5, np.float64)
    x, W = inputs.tensor(1, 2, 4, 4, requires_grad=True), inputs.tensor(3, 2, 2, 2, requires_grad=True)
    assert gradgradcheck(lambda x, W: C.conv2d_composed(x, W, None, 1, 1), (x, W))


def test_gradient_penalty_through_conv():
    """d/dW of ||dy/dx||^2 (a WGAN-GP-style penalty) needs the composed backward; check it against
    central differences of the penalty itself."""
    inputs = SeededInputs(6, np.float64)
    x = inputs.tensor(1, 1, 4, 4, requires_grad=True)
    W = inputs.tensor(2, 1, 3, 3, requires_grad=True)

    def penalty(W):
        with gradus.enable_grad():  # gradcheck's finite differences run fn under no_grad
            y = F.conv2d(x, W, padding=1)
            (gx,) = gradus.autograd.grad((y * y).sum(), x, create_graph=True)
            return (gx * gx).sum()

    assert gradcheck(penalty, (W,))


def test_once_differentiable_raw_path_is_not_used_with_create_graph():
    """The fused backward picks the composed path by itself: no AutogradError for a double backward."""
    x = gradus.randn(1, 2, 5, 5, requires_grad=True)
    W = gradus.randn(3, 2, 3, 3, requires_grad=True)
    y = F.conv2d(x, W)
    (gx,) = gradus.autograd.grad(y.sum(), x, create_graph=True)
    (gW,) = gradus.autograd.grad((gx * gx).sum(), W)
    assert gW.shape == W.shape and np.isfinite(gW.numpy()).all()


def test_fused_conv_backward_is_chosen_by_grad_mode():
    """FusedFunction picks the raw backward for a plain backward() and the composed one (a gradient
    that can be differentiated again) under create_graph=True; both give the same gradient."""
    x = gradus.randn(1, 1, 4, 4, requires_grad=True, dtype=gradus.float64)
    W = gradus.randn(1, 1, 3, 3, requires_grad=True, dtype=gradus.float64)
    (g_raw,) = gradus.autograd.grad(F.conv2d(x, W).sum(), x)
    assert g_raw.grad_fn is None
    (g_comp,) = gradus.autograd.grad(F.conv2d(x, W).sum(), x, create_graph=True)
    assert g_comp.requires_grad and g_comp.grad_fn is not None
    np.testing.assert_allclose(g_raw.numpy(), g_comp.numpy(), rtol=1e-12)
    (gg,) = gradus.autograd.grad((g_comp * g_comp).sum(), W)   # d/dW of |dL/dx|^2: a second order path
    assert gg.shape == W.shape and float(abs(gg).sum()) > 0


# -- conv_transpose ------------------------------------------------------------------------------
def test_conv_transpose2d_is_the_adjoint_of_conv2d():
    """<conv2d(x, W), z> == <x, conv_transpose2d(z, W)> for every stride/padding/dilation/groups."""
    inputs = SeededInputs(7, np.float64)
    for s, p, d, g in [(1, 0, 1, 1), (2, 1, 1, 2), (3, 2, 2, 1), (2, 0, 1, 4)]:
        x = inputs.array(2, 4, 9, 8)
        W = inputs.array(4, 4 // g, 3, 3)
        y = F.conv2d(t64(x, False), t64(W, False), None, s, p, d, g).numpy()
        z = inputs.array(y.shape)
        # output_padding so that the transposed conv reproduces x's spatial size exactly
        op = tuple(n - ((o - 1) * s - 2 * p + d * 2 + 1) for n, o in zip(x.shape[2:], y.shape[2:]))
        xt = F.conv_transpose2d(t64(z, False), t64(W, False), None, s, p, op, g, d).numpy()
        assert xt.shape == x.shape
        np.testing.assert_allclose((y * z).sum(), (x * xt).sum(), rtol=1e-10)


@pytest.mark.parametrize("stride,padding,output_padding,groups,dilation",
                         [(1, 0, 0, 1, 1), (2, 1, 1, 2, 1), (3, 1, (2, 0), 1, 2)])
def test_conv_transpose2d_twins_and_gradgradcheck(stride, padding, output_padding, groups, dilation):
    inputs = SeededInputs(8, np.float64)
    x = inputs.tensor(1, 2, 3, 4, requires_grad=True)
    W = inputs.tensor(2, 3 // groups if groups == 1 else 1, 3, 2, requires_grad=True)
    b = inputs.tensor(W.shape[1] * groups, requires_grad=True)
    args = (stride, padding, output_padding, groups, dilation)
    y = F.conv_transpose2d(x, W, b, *args)
    np.testing.assert_allclose(y.numpy(), C.conv_transpose2d_composed(x, W, b, *args).numpy(), atol=1e-12)
    fn = lambda x, W, b: F.conv_transpose2d(x, W, b, *args)  # noqa: E731
    assert gradcheck(fn, (x, W, b))
    assert gradgradcheck(fn, (x, W, b))


def test_conv_transpose2d_output_shape_formula():
    x = gradus.zeros(2, 8, 5, 7)
    W = gradus.zeros(8, 3, 4, 3)
    y = F.conv_transpose2d(x, W, stride=2, padding=1, output_padding=1)
    assert y.shape == (2, 3, (5 - 1) * 2 - 2 + 3 + 1 + 1, (7 - 1) * 2 - 2 + 2 + 1 + 1)


# -- conv1d, padding modes, unbatched, same ------------------------------------------------------
def test_conv1d_equals_conv2d_on_height_one():
    inputs = SeededInputs(9, np.float64)
    x, W, b = inputs.array(2, 4, 13), inputs.array(6, 2, 3), inputs.array(6)
    y = F.conv1d(t64(x, False), t64(W, False), t64(b, False), 2, 1, 2, 2).numpy()
    ref = conv2d_loop(x[:, :, None], W[:, :, None], b, (1, 2), (0, 1), (1, 2), 2)[:, :, 0]
    np.testing.assert_allclose(y, ref, atol=1e-12)
    xg = inputs.tensor(1, 2, 6, requires_grad=True)
    Wg = inputs.tensor(2, 2, 3, requires_grad=True)
    assert gradcheck(lambda x, W: F.conv1d(x, W, padding="same", padding_mode="circular"), (xg, Wg))


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_padding_modes_equal_explicit_pad(mode):
    inputs = SeededInputs(10, np.float64)
    x = inputs.tensor(2, 3, 6, 5, requires_grad=True)
    W = inputs.tensor(4, 3, 3, 3, requires_grad=True)
    y = F.conv2d(x, W, None, 1, (2, 1), padding_mode=mode)
    ref = F.conv2d(F.pad(x, (1, 1, 2, 2), mode=mode), W)
    np.testing.assert_allclose(y.numpy(), ref.numpy(), atol=1e-12)
    assert gradcheck(lambda x, W: F.conv2d(x, W, None, 1, 1, padding_mode=mode),
                     (inputs.tensor(1, 1, 4, 4, requires_grad=True),
                      inputs.tensor(1, 1, 3, 3, requires_grad=True)))


def test_same_padding_keeps_the_size_even_kernel_and_dilation():
    x = gradus.randn(2, 3, 7, 8)
    for k, d in [(3, 1), (4, 1), (2, 3), ((4, 5), (2, 1))]:
        kk = (k, k) if isinstance(k, int) else k
        y = F.conv2d(x, gradus.randn(5, 3, *kk), padding="same", dilation=d)
        assert y.shape == (2, 5, 7, 8)
    assert F.conv2d(x, gradus.randn(5, 3, 3, 3), padding="valid").shape == (2, 5, 5, 6)
    with pytest.raises(ValueError, match="same"):
        F.conv2d(x, gradus.randn(5, 3, 3, 3), stride=2, padding="same")


def test_unbatched_input():
    x = gradus.randn(3, 8, 8)
    W = gradus.randn(4, 3, 3, 3)
    y = F.conv2d(x, W, padding=1)
    assert y.shape == (4, 8, 8)
    np.testing.assert_allclose(y.numpy(), F.conv2d(x.unsqueeze(0), W, padding=1).numpy()[0], atol=1e-6)
    assert F.conv1d(gradus.randn(3, 10), gradus.randn(2, 3, 3)).shape == (2, 8)


def test_non_contiguous_input_and_weight():
    inputs = SeededInputs(11, np.float64)
    x = inputs.array(5, 8, 3, 2).transpose(3, 2, 0, 1)     # (2, 3, 5, 8), not contiguous
    W = inputs.array(3, 3, 4, 2).transpose(0, 1, 3, 2)
    y = F.conv2d(t64(x, False), t64(W, False), padding=1).numpy()
    np.testing.assert_allclose(y, conv2d_loop(x, W, None, (1, 1), (1, 1), (1, 1), 1), atol=1e-12)


def test_workspace_is_reused_across_shapes_and_dtypes():
    """The scratch buffers are shared by all calls: alternating sizes/dtypes must stay correct."""
    inputs = SeededInputs(12, np.float64)
    for shape, dtype in [((4, 3, 16, 16), np.float32), ((1, 3, 5, 5), np.float64),
                         ((2, 3, 9, 9), np.float32), ((4, 3, 16, 16), np.float64)]:
        x = inputs.array(shape, dtype=dtype)
        W = inputs.array(2, 3, 3, 3, dtype=dtype)
        xt, Wt = gradus.tensor(x, requires_grad=True), gradus.tensor(W, requires_grad=True)
        y = F.conv2d(xt, Wt, padding=1)
        y.sum().backward()
        tol = 1e-4 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(y.numpy(), conv2d_loop(x.astype(np.float64), W.astype(np.float64), None,
                                                          (1, 1), (1, 1), (1, 1), 1), rtol=tol, atol=tol)
    C.release_workspace()
    assert F.conv2d(gradus.ones(1, 1, 3, 3), gradus.ones(1, 1, 3, 3)).item() == 9.0


# -- unfold / fold ------------------------------------------------------------------------------
def test_unfold_layout_and_fold_adjoint():
    inputs = SeededInputs(13, np.float64)
    x = inputs.array(2, 3, 7, 6)
    cols = F.unfold(t64(x, False), (3, 2), dilation=(1, 2), padding=1, stride=(2, 1)).numpy()
    # row c*KH*KW + u*KW + v, column oh*OW + ow holds xpad[c, oh*2 + u, ow + 2v]
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    oh, ow = (7 + 2 - 2 - 1) // 2 + 1, (6 + 2 - 2 - 1) + 1
    assert cols.shape == (2, 3 * 6, oh * ow)
    for c, u, v, i, j in [(0, 0, 0, 0, 0), (2, 2, 1, 3, 4), (1, 1, 0, 2, 5)]:
        assert cols[1, c * 6 + u * 2 + v, i * ow + j] == xp[1, c, i * 2 + u, j + 2 * v]
    z = inputs.array(cols.shape)
    back = F.fold(t64(z, False), (7, 6), (3, 2), dilation=(1, 2), padding=1, stride=(2, 1)).numpy()
    np.testing.assert_allclose((cols * z).sum(), (x * back).sum(), rtol=1e-12)


def test_unfold_fold_gradgradcheck():
    x = SeededInputs(14, np.float64).tensor(1, 2, 4, 5, requires_grad=True)

    def fn(x):
        c = F.unfold(x, 2, padding=1, stride=2)
        return F.fold(c * c, (4, 5), 2, padding=1, stride=2)

    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_fold_errors():
    with pytest.raises(ShapeError, match="blocks"):
        F.fold(gradus.zeros(1, 9, 5), (4, 4), 3)
    with pytest.raises(ShapeError, match="divisible"):
        F.fold(gradus.zeros(1, 10, 4), (4, 4), 3)


# -- locally connected ----------------------------------------------------------------------------
def test_locally_connected2d_definition_and_gradients():
    inputs = SeededInputs(15, np.float64)
    x = inputs.array(2, 3, 5, 6)
    W = inputs.array(2, 2, 4, 3 * 3 * 3)   # kernel 3, stride 2, no padding -> 2x2 positions
    n, k, s, p = 2, 3, 2, 0
    oh, ow = (5 - k) // s + 1, (6 - k) // s + 1
    assert (oh, ow) == (2, 2)
    b = inputs.array(4, oh, ow)
    y = F.locally_connected2d(t64(x, False), t64(W, False), t64(b, False), k, s, p).numpy()
    ref = np.zeros((n, 4, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, :, i * s:i * s + k, j * s:j * s + k].reshape(n, -1)   # (N, C*K*K)
            ref[:, :, i, j] = patch @ W[i, j].T + b[:, i, j]
    np.testing.assert_allclose(y, ref, atol=1e-12)
    # with identical weights at every position it IS a convolution
    Wc = inputs.array(4, 3, 3, 3)
    Wl = np.broadcast_to(Wc.reshape(4, -1), (oh, ow, 4, 27)).copy()
    np.testing.assert_allclose(F.locally_connected2d(t64(x, False), t64(Wl, False), None, 3, 2).numpy(),
                               F.conv2d(t64(x, False), t64(Wc, False), None, 2).numpy(), atol=1e-12)
    xs, Ws, bs = t64(x[:1, :, :4, :4]), t64(W[:1, :1, :2, :]), t64(b[:2, :1, :1])
    assert gradcheck(lambda x, W, b: F.locally_connected2d(x, W, b, 3, 2), (xs, Ws, bs))


def test_locally_connected2d_shape_errors():
    with pytest.raises(ShapeError, match=r"expected \(2, 2, OC, 27\)"):
        F.locally_connected2d(gradus.zeros(1, 3, 5, 6), gradus.zeros(3, 2, 4, 27), None, 3, 2)
    with pytest.raises(ValueError, match="kernel_size is required"):
        F.locally_connected2d(gradus.zeros(1, 3, 5, 6), gradus.zeros(3, 2, 4, 27))


# -- errors ---------------------------------------------------------------------------------------
def test_error_messages_name_the_op_and_the_sizes():
    x = gradus.zeros(2, 4, 8, 8)
    with pytest.raises(ShapeError, match=r"conv2d: .*expects an input with 3 channels.*with 4 channels"):
        F.conv2d(x, gradus.zeros(6, 3, 3, 3))
    with pytest.raises(ShapeError, match=r"groups=2 expects an input with 6 channels"):
        F.conv2d(x, gradus.zeros(6, 3, 3, 3), groups=2)
    with pytest.raises(ShapeError, match=r"not divisible by groups"):
        F.conv2d(x, gradus.zeros(5, 2, 3, 3), groups=2)
    with pytest.raises(ShapeError, match=r"spatial size \(2, 2\) \(padded \(2, 2\)\).*kernel size \(5, 5\)"):
        F.conv2d(gradus.zeros(1, 4, 2, 2), gradus.zeros(1, 4, 3, 3), dilation=2)
    with pytest.raises(ShapeError, match=r"bias must have shape \(6,\)"):
        F.conv2d(x, gradus.zeros(6, 4, 3, 3), gradus.zeros(5))
    with pytest.raises(ShapeError, match="4-D input"):
        F.conv2d(gradus.zeros(8, 8), gradus.zeros(6, 4, 3, 3))
    with pytest.raises(DTypeError, match="float64"):
        F.conv2d(x, gradus.zeros(6, 4, 3, 3, dtype=gradus.float64))
    with pytest.raises(ValueError, match="padding_mode"):
        F.conv2d(x, gradus.zeros(6, 4, 3, 3), padding=1, padding_mode="mirror")
    with pytest.raises(ValueError, match="output_padding"):
        F.conv_transpose2d(x, gradus.zeros(4, 2, 3, 3), stride=2, output_padding=2)
    with pytest.raises(ShapeError, match="expects an input with 5 channels"):
        F.conv_transpose2d(x, gradus.zeros(5, 2, 3, 3))


@pytest.mark.parametrize("k,p,d,groups", [(3, 1, 1, 1), ((3, 5), (0, 2), (2, 1), 2), (1, 0, 1, 1),
                                          (4, "same", 1, 4)])
def test_stride1_input_gradient_paths_agree(monkeypatch, k, p, d, groups):
    """Stride-1 convs get gx from a correlation with the flipped kernel; the general col2im path must
    give the same gradient."""
    inputs = SeededInputs(16, np.float64)
    kk = k if isinstance(k, tuple) else (k, k)
    x = inputs.tensor(2, 4, 9, 10, requires_grad=True)
    W = inputs.tensor((8, 4 // groups) + kk, requires_grad=True)
    gy = inputs.tensor(F.conv2d(x, W, None, 1, p, d, groups).shape)
    assert C._transposed_geom(F.conv2d(x, W, None, 1, p, d, groups).grad_fn.g) is not None
    (fast,) = gradus.autograd.grad(F.conv2d(x, W, None, 1, p, d, groups), x, gy)
    monkeypatch.setattr(C, "_transposed_geom", lambda g: None)
    (general,) = gradus.autograd.grad(F.conv2d(x, W, None, 1, p, d, groups), x, gy)
    np.testing.assert_allclose(fast.numpy(), general.numpy(), rtol=1e-12, atol=1e-12)


def _pair(v):
    return tuple(v) if isinstance(v, tuple) else (v, v)


@pytest.mark.parametrize("k,p,d", [(5, 0, 1), (3, 1, 1), ((3, 2), (2, 0), (1, 2)), (1, 0, 1), (4, (1, 2), 1)])
def test_flat_col2im_equals_col2im(k, p, d):
    """col2im over the padded grid (stride 1, the columns a GEMM of the zero-extended gy) gives the
    bits of the per-tap col2im, for padding, dilation and rectangular kernels."""
    from gradus.functional.window import col2im_array, col2im_flat_array, make_geom, padded_grid_array

    kk, pp, dd = (_pair(v) for v in (k, p, d))
    inputs = SeededInputs(5, np.float64)
    n, c, h, w, oc = 3, 2, 9, 8, 4
    g = make_geom(h, w, kk, (1, 1), dd, (pp[0], pp[0], pp[1], pp[1]))
    gy, W = inputs.array(n, oc, g.oh, g.ow), inputs.array(oc, c * kk[0] * kk[1])
    for dtype in (np.float64, np.float32):
        a, Wt = gy.astype(dtype).transpose(1, 0, 2, 3), W.astype(dtype).T          # (OC, N, OH, OW)
        ref = col2im_array(Wt @ np.ascontiguousarray(a).reshape(oc, -1), g, n, c)
        grid = padded_grid_array(a, g)
        assert grid.shape == (oc, n * (h + 2 * pp[0]) * (w + 2 * pp[1]))
        out = col2im_flat_array(Wt @ grid, g, n, c)
        assert out.shape == (n, c, h, w) and out.dtype == dtype and out.flags.c_contiguous
        np.testing.assert_array_equal(out, ref)


@pytest.mark.parametrize("case", [  # (N, C, H, W, OC, kernel, padding, dilation, groups)
    (2, 1, 12, 12, 6, 5, 0, 1, 1),       # LeNet-5's conv1 in miniature
    (2, 6, 9, 8, 4, 3, 1, 1, 2),         # groups
    (1, 3, 7, 9, 5, (2, 3), (1, 0), (2, 1), 1),
])
def test_stride1_conv_gradients_and_transposed_conv_with_and_without_the_flat_col2im(monkeypatch, case):
    """The NCHW Conv2d's input gradient and ConvTranspose2d's stride-1 forward take the flat col2im;
    switched off they take the per-tap one: the same values, and gradcheck holds on both."""
    n, c, h, w, oc, k, p, d, groups = case
    inputs = SeededInputs(8, np.float64)
    kk = _pair(k)
    x = inputs.tensor(n, c, h, w, requires_grad=True)
    W = inputs.tensor((oc, c // groups) + kk, requires_grad=True)
    xt = inputs.tensor(n, oc, h, w, requires_grad=True)           # conv_transpose2d: oc -> c channels
    gy = inputs.tensor(F.conv2d(x, W, None, 1, p, d, groups).shape)

    out_pads = [(0, 0), tuple(int(v > 1) for v in _pair(d))]   # stride 1: output_padding < dilation

    def run():
        (gx,) = gradus.autograd.grad(F.conv2d(x, W, None, 1, p, d, groups), x, gy)
        return [gx.numpy()] + [F.conv_transpose2d(xt, W, None, 1, p, op, groups, d).numpy()
                               for op in out_pads]

    assert C.FLAT_COL2IM
    flat = run()
    monkeypatch.setattr(C, "FLAT_COL2IM", False)
    per_tap = run()
    for a, b in zip(flat, per_tap):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    monkeypatch.setattr(C, "FLAT_COL2IM", True)
    assert gradcheck(lambda a, b: F.conv2d(a, b, None, 1, p, d, groups), (x, W))
    assert gradcheck(lambda a, b: F.conv_transpose2d(a, b, None, 1, p, 0, groups, d), (xt, W))


# -- the channels-last lowering (groups 1, >= 8 input channels or a channels-last input) ----------
CL_CASES = [  # (N, C, H, W, OC, kernel, stride, padding, dilation)
    (2, 8, 7, 6, 5, (3, 3), (1, 1), (1, 1), (1, 1)),
    (2, 9, 8, 8, 4, (3, 3), (2, 2), (1, 1), (1, 1)),
    (1, 8, 9, 7, 3, (1, 1), (2, 2), (0, 0), (1, 1)),
    (2, 8, 10, 9, 6, (3, 2), (1, 1), (2, 1), (2, 1)),
    (1, 12, 6, 6, 7, (5, 5), (1, 1), (0, 0), (1, 1)),
    (2, 8, 11, 11, 3, (3, 3), (3, 3), (1, 1), (1, 1)),
]


def _cl_case(case, seed):
    """Float64 x, W, b (requiring grad) of a CL_CASES entry, its stride/padding/dilation, the conv's
    output y and a random output gradient gy."""
    n, c, h, w, oc, k, s, p, d = case
    inputs = SeededInputs(seed, np.float64)
    x = inputs.tensor(n, c, h, w, requires_grad=True)
    W = inputs.tensor((oc, c) + k, requires_grad=True)
    b = inputs.tensor(oc, requires_grad=True)
    y = F.conv2d(x, W, b, s, p, d)
    return x, W, b, s, p, d, y, inputs.tensor(y.shape)


def _conv_and_grads(x, W, b, s, p, d, gy):
    for t in (x, W, b):
        t.grad = None
    y = F.conv2d(x, W, b, s, p, d)
    y.backward(gy)
    return y, x.grad.numpy(), W.grad.numpy(), b.grad.numpy()


@pytest.mark.parametrize("case", CL_CASES)
def test_channels_last_lowering_equals_the_loop_and_the_nchw_lowering(monkeypatch, case):
    x, W, b, s, p, d, y, gy = _cl_case(case, seed=5)
    cl = _conv_and_grads(x, W, b, s, p, d, gy)
    assert cl[0].data.strides[1] == 8 and cl[0].shape == y.shape       # channels-last strides
    monkeypatch.setattr(C, "CHUNK_BYTES", 1)                          # one image per chunk
    chunked = _conv_and_grads(x, W, b, s, p, d, gy)
    monkeypatch.setattr(C, "CHANNELS_LAST", False)
    nchw = _conv_and_grads(x, W, b, s, p, d, gy)
    assert nchw[0].data.flags.c_contiguous
    np.testing.assert_allclose(cl[0].numpy(), conv2d_loop(x.numpy(), W.numpy(), b.numpy(), s, p, d, 1),
                               rtol=1e-12, atol=1e-12)
    for a, bb, cc in zip(cl, nchw, chunked):
        np.testing.assert_allclose(np.asarray(a), np.asarray(bb), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(np.asarray(cc), np.asarray(bb), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", CL_CASES[:4])
def test_channels_last_twins_agree(case):
    """The raw backward of the channels-last lowering equals its composed backward (create_graph)."""
    x, W, b, s, p, d, y, gy = _cl_case(case, seed=6)
    assert "Conv2dChannelsLast" in repr(y.grad_fn)
    raw = gradus.autograd.grad(y, (x, W, b), gy, retain_graph=True)
    composed = gradus.autograd.grad(y, (x, W, b), gy, create_graph=True)
    for a, bb in zip(raw, composed):
        np.testing.assert_allclose(a.numpy(), bb.numpy(), rtol=1e-12, atol=1e-12)
    assert composed[0].requires_grad


def test_channels_last_gradcheck_gradgradcheck_and_layout_inputs():
    inputs = SeededInputs(7, np.float64)
    x = inputs.tensor(1, 8, 4, 5, requires_grad=True)
    W = inputs.tensor(3, 8, 3, 3, requires_grad=True)
    fn = lambda x, W: F.conv2d(x, W, None, 1, 1)   # noqa: E731
    assert gradcheck(fn, (x, W))
    assert gradgradcheck(fn, (x, W))
    # a 3-channel input that already has channels-last strides takes the lowering too; a plain
    # NCHW 3-channel input does not; both give the loop's numbers
    a = inputs.array(2, 3, 6, 6)
    Wc = inputs.array(4, 3, 3, 3)
    xl = gradus.tensor(np.ascontiguousarray(a.transpose(0, 2, 3, 1))).permute(0, 3, 1, 2)   # a view
    assert C._use_channels_last(xl.data, None, 1) and not C._use_channels_last(a, None, 1)
    ref = conv2d_loop(a, Wc, None, (1, 1), (1, 1), (1, 1), 1)
    for inp in (xl, gradus.tensor(a)):
        np.testing.assert_allclose(F.conv2d(inp, gradus.tensor(Wc), None, 1, 1).numpy(), ref, rtol=1e-12,
                                   atol=1e-12)


def test_channels_last_float32_and_downstream_ops():
    """float32 stays float32, and the channels-last output flows through batch norm, ReLU, pooling,
    flatten and a second conv with the numbers of the NCHW lowering."""
    import gradus.nn as nn
    inputs = SeededInputs(8)
    net = nn.Sequential(nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(16, 8, 3, stride=2, padding=1), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    x = inputs.tensor(4, 8, 12, 12, requires_grad=True)
    outs = []
    for flag in (True, False):
        C.CHANNELS_LAST = flag
        try:
            for prm in list(net.parameters()) + [x]:
                prm.grad = None
            y = net(x)
            y.sum().backward()
            outs.append((y.numpy(), x.grad.numpy(), net[0].weight.grad.numpy()))
        finally:
            C.CHANNELS_LAST = True
    assert outs[0][0].dtype == np.float32 and outs[0][1].dtype == np.float32
    for a, bb in zip(*outs):
        np.testing.assert_allclose(a, bb, rtol=2e-5, atol=2e-5)


def test_kept_column_matrix_equals_the_recomputed_one_and_survives_retain_graph(monkeypatch):
    """A small column matrix is kept from forward for the weight gradient; the gradients equal the
    recomputing path's, and a second backward (retain_graph) sees the same matrix (col2im's buffer
    is never the kept one)."""
    inputs = SeededInputs(9, np.float64)
    x = inputs.tensor(2, 3, 9, 8, requires_grad=True)
    W = inputs.tensor(5, 3, 3, 3, requires_grad=True)
    grads = []
    for limit in (C.KEEP_COLS_BYTES, 0):
        monkeypatch.setattr(C, "KEEP_COLS_BYTES", limit)
        for stride in (1, 2):                     # stride 2: the input gradient goes through col2im
            y = F.conv2d(x, W, None, stride, 1)
            assert getattr(y.grad_fn, "keep_cols", None) == (limit > 0)
            first = gradus.autograd.grad(y.sum(), (x, W), retain_graph=True)
            second = gradus.autograd.grad(y.sum(), (x, W))
            for a, b in zip(first, second):
                np.testing.assert_array_equal(a.numpy(), b.numpy())
            grads.append([g.numpy() for g in first])
    for a, b in zip(grads[:2], grads[2:]):
        for u, v in zip(a, b):
            np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("groups, M, N, P", [
    (1, 6, 25, 50176),    # LeNet-5's conv1: both sides <= 64, summed in slices
    (1, 25, 6, 9000),     # the larger side first already; sliced, last slice partial
    (1, 16, 150, 6400),   # LeNet-5's conv2: larger side 150, one product, transposed back
    (3, 4, 9, 5000),      # groups: a batch of products
    (1, 5, 7, 4096),      # P <= 2 * PIXEL_CHUNK: one product
])
def test_pixel_sum_product_equals_the_plain_product(groups, M, N, P):
    from gradus.functional.window import pixel_sum_product

    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((groups, M, P)), rng.standard_normal((groups, N, P))
    out = pixel_sum_product(a, b)
    assert out.shape == (groups, M, N) and out.flags.c_contiguous and out.dtype == np.float64
    np.testing.assert_allclose(out, a @ b.transpose(0, 2, 1), rtol=1e-10, atol=1e-9)
    out32 = pixel_sum_product(a.astype(np.float32), b.astype(np.float32))
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, a @ b.transpose(0, 2, 1), rtol=1e-4, atol=1e-2)


def test_weight_gradient_over_many_pixels_equals_its_definition():
    """A 1 -> 6 channel 5x5 conv over 8 x 28 x 28 = 6,272 output pixels: its weight gradient is summed
    in pixel slices (pixel_sum_product); it equals the gradient of the direct loop's sum."""
    inputs = SeededInputs(3, np.float64)
    x = inputs.array(8, 1, 32, 32)
    W = inputs.array(6, 1, 5, 5)
    gy = inputs.array(8, 6, 28, 28)
    Wt = t64(W)
    F.conv2d(t64(x, False), Wt).backward(gradus.tensor(gy))
    # dL/dW[o, 0, u, v] = sum_{n, i, j} gy[n, o, i, j] x[n, 0, i + u, j + v]
    ref = np.stack([np.stack([np.einsum("nij,nij->", gy[:, o], x[:, 0, u:u + 28, v:v + 28])
                              for u in range(5) for v in range(5)]) for o in range(6)]).reshape(6, 1, 5, 5)
    np.testing.assert_allclose(Wt.grad.numpy(), ref, rtol=1e-11, atol=1e-11)
