"""N-D convolutions, exposed for 3-D: ``conv3d`` and ``conv_transpose3d`` (layout NCDHW, PyTorch's
names, argument orders and defaults), on the N-D window machinery of ``functional/window.py`` (``GeomN``,
``im2col_nd_array``, ``Im2colNd``/``Col2imNd``).

The convolution is the 2-D design with one more spatial axis: a 3-D im2col copies every receptive
field into one column of cols (C*KD*KH*KW, N*OD*OH*OW) (one strided view, one copy; no per-sample or
per-position loop), and the whole convolution is ONE GEMM per group::

    y2 (G, OC/G, N*L) = W (G, OC/G, C/G*KK) @ cols (G, C/G*KK, N*L)

The ops are ``FusedFunction``s written for any number of spatial dims (``ConvNd`` /
``ConvTransposeNd``), like ``Conv2d``: ``backward_raw`` uses scratch buffers and
``out=`` GEMMs (the cols matrix, KK times the input, is the largest array of the layer and is reused
across calls instead of being allocated and page-faulted each time), and for stride 1 computes the
input gradient as a correlation of the padded gy with the flipped kernel (one im2col + one GEMM instead
of col2im's KK read-modify-write passes); ``backward_composed`` (``create_graph=True``) is the same
math in Tensor ops, differentiable again. ``conv3d_composed`` / ``conv_transpose3d_composed`` are the
composed twins the tests check the fused ops against (values, gradients, gradcheck, gradgradcheck).

Why fused and not just composed: speed is a wash, memory is not. Measured here (batch 8, 8 -> 16
channels, 3x3x3, 16^3, float32, forward + backward, median of 9, a shared 2-core machine): fused
~82-86 ms, composed ~74-79 ms; at 16 -> 32 channels on 8x16x16 fused ~42-50, composed ~36-37 ms.
The fused op recomputes cols in backward (one extra 3-D im2col) where the composed one kept it: the
composed ``matmul`` saves its cols operand, C*KK*N*L elements (27x the input for a 3x3x3 kernel: 28 MB
for the first case) per layer from forward to backward, while the fused op saves only x and W and
keeps cols in the reused scratch buffer. For a network of 3-D layers that is the difference between
holding 27x and 1x the activations, so 3-D convolution is fused, like conv2d.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.function import FusedFunction
from ..errors import ShapeError
from ..ops.matmul import matmul
from ..ops.movement import pad as _pad
from ..tensor import Tensor
from .window import (
    COLS,
    GEMM_IN,
    GEMM_OUT,
    Col2imNd,
    GeomN,
    Im2colNd,
    as_tensor,
    check_conv_args,
    check_fits,
    check_float_dtypes,
    col2im_nd_array,
    conv_padding,
    im2col_nd_array,
    make_geom_nd,
    nc_swap_copy,
    ntuple,
    pixel_sum_product,
    scratch,
)

__all__ = ["conv3d", "conv_transpose3d"]

xp_of = backend.get_array_module


def _spatial_axes(g: GeomN) -> tuple:
    return tuple(range(2, 2 + g.nd))


# ---------------------------------------------------------------------------------------------
# fused convolution (any number of spatial dims; used for 3-D)
# ---------------------------------------------------------------------------------------------
class ConvNd(FusedFunction):
    """y = conv(x, W) + b as one GEMM per group: y2 (G, OC/G, N*L) = W (G, OC/G, C/G*KK) @ cols.

    x (N, C, *S), W (OC, C/G, *K), b (OC,) or None -> y (N, OC, *O).
    gW = gy2 @ cols^T,  gx = col2im(W^T @ gy2) (or, stride 1: correlate(pad(gy), flip(W))),
    gb = sum of gy over (N, *O).
    """

    @staticmethod
    def forward(ctx, x, W, b, g, groups):
        xp = xp_of(x)
        n, c = x.shape[:2]
        oc, P = W.shape[0], n * g.L
        cols = scratch(COLS, (c,) + g.k + (n,) + g.out, x.dtype, xp)
        im2col_nd_array(x, g, out=cols)
        y2 = scratch(GEMM_OUT, (groups, oc // groups, P), x.dtype, xp)
        xp.matmul(W.reshape(groups, oc // groups, -1), cols.reshape(groups, -1, P), out=y2)
        y = xp.empty((n, oc) + g.out, dtype=x.dtype)
        src = y2.reshape(oc, n, g.L).transpose(1, 0, 2)
        if b is None:
            xp.copyto(y.reshape(n, oc, g.L), src)
        else:  # the bias add rides along with the transposing copy
            xp.add(src, b.reshape(1, oc, 1), out=y.reshape(n, oc, g.L))
        ctx.save_for_backward(x, W)
        ctx.g, ctx.groups = g, groups
        return y

    @staticmethod
    def backward_raw(ctx, gy):
        x, W = ctx.saved_arrays
        g, groups = ctx.g, ctx.groups
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        xp = xp_of(gy)
        n, c = x.shape[:2]
        oc = W.shape[0]
        P, ocg, ckk = n * g.L, oc // groups, c // groups * g.kk
        gy2 = scratch(GEMM_IN, (oc, n) + g.out, gy.dtype, xp)          # (OC, N*L): the GEMM layout
        xp.copyto(gy2, xp.swapaxes(gy, 0, 1))
        gx = gW = gb = None
        if need_b:
            gb = gy.sum(axis=(0,) + _spatial_axes(g))
        cols = scratch(COLS, (c,) + g.k + (n,) + g.out, x.dtype, xp)
        if need_w:
            im2col_nd_array(x, g, out=cols)   # recomputed: cheaper than keeping it (see window.py)
            gW = pixel_sum_product(gy2.reshape(groups, ocg, P), cols.reshape(groups, ckk, P)).reshape(W.shape)
        if need_x:
            if transposed_geom_nd(g) is not None:
                gx = _input_grad_stride1(gy2, W, g, groups, n, c)
            else:
                gcols = cols.reshape(groups, ckk, P)  # reuse the buffer: cols is no longer needed
                xp.matmul(W.reshape(groups, ocg, ckk).transpose(0, 2, 1), gy2.reshape(groups, ocg, P),
                          out=gcols)
                gx = col2im_nd_array(gcols, g, n, c)
        return gx, gW, gb, None, None

    @staticmethod
    def backward_composed(ctx, gy):
        """The same gradients from Tensor ops (matmul + Im2colNd/Col2imNd): differentiable again."""
        x, W = ctx.saved_tensors
        g, groups = ctx.g, ctx.groups
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        n, c = x.shape[:2]
        oc = W.shape[0]
        ocg, ckk = oc // groups, c // groups * g.kk
        gy2 = gy.reshape(n, groups, ocg, g.L).permute(1, 2, 0, 3).reshape(groups, ocg, n * g.L)
        gx = gW = gb = None
        if need_b:
            gb = gy.sum((0,) + _spatial_axes(g))
        if need_w:
            cols = Im2colNd.apply(x, g).reshape(groups, ckk, n * g.L)
            gW = matmul(gy2, cols.transpose(1, 2)).reshape(W.shape)
        if need_x:
            gcols = matmul(W.reshape(groups, ocg, ckk).transpose(1, 2), gy2)
            gx = Col2imNd.apply(gcols.reshape(c * g.kk, n * g.L), g, n, c)
        return gx, gW, gb, None, None


def transposed_geom_nd(g: GeomN):
    """For a stride-1 conv, the geometry of gx = correlate(gy padded, flipped W): gy is padded by
    d*(k-1) - p on each side. None when that is not a plain padding (stride > 1, or p > d*(k-1))."""
    if any(s != 1 for s in g.s):
        return None
    ext = tuple(d * (k - 1) for k, d in zip(g.k, g.d))
    lo = tuple(e - p for e, p in zip(ext, g.lo))
    hi = tuple(e - p for e, p in zip(ext, g.hi))
    if min(lo + hi) < 0:
        return None
    return make_geom_nd(g.out, g.k, (1,) * g.nd, g.d, lo, hi, out=g.size)


def _input_grad_stride1(gy2, W, g: GeomN, groups, n, c):
    """gx of a stride-1 conv as a correlation of the padded gy with the flipped kernel: one im2col of gy
    and one GEMM (the 2-D measurement: 1.3-1.6x faster than W^T @ gy followed by col2im)."""
    xp = xp_of(gy2)
    oc = W.shape[0]
    ocg, cg = oc // groups, c // groups
    gt = transposed_geom_nd(g)
    cols = scratch(COLS, (oc,) + g.k + (n,) + g.size, gy2.dtype, xp)
    im2col_nd_array(xp.swapaxes(gy2, 0, 1), gt, out=cols)     # gy2 is (OC, N, *O): present it as NC...
    # Wt[g, c, (o, *u)] = W[g*OCg + o, c, *(k - 1 - u)]
    flip = (slice(None),) * 3 + (slice(None, None, -1),) * g.nd
    Wt = W.reshape((groups, ocg, cg) + g.k)[flip]
    Wt = xp.ascontiguousarray(xp.swapaxes(Wt, 1, 2)).reshape(groups, cg, ocg * g.kk)
    gx2 = scratch(GEMM_OUT, (groups, cg, n * int(np.prod(g.size))), gy2.dtype, xp)
    xp.matmul(Wt, cols.reshape(groups, ocg * g.kk, -1), out=gx2)
    return nc_swap_copy(gx2.reshape((c, n) + g.size))


class ConvTransposeNd(FusedFunction):
    """y = conv_transpose(x, W) + b: the adjoint of the convolution w.r.t. its input.

    x (N, IC, *S), W (IC, OC/G, *K) -> y (N, OC, *O): cols = W^T @ x (one GEMM per group), then
    col2im. Backward: gcols = im2col(gy), gx = W @ gcols, gW = x @ gcols^T. (``g`` describes the
    adjoint convolution: its ``size`` is this op's output, its ``out`` this op's input.)
    """

    @staticmethod
    def forward(ctx, x, W, b, g, groups):
        xp = xp_of(x)
        n, ic = x.shape[:2]
        ocg, L = W.shape[1], g.L
        P, icg, oc = n * L, ic // groups, ocg * groups
        x2 = scratch(GEMM_IN, (ic, n, L), x.dtype, xp)
        xp.copyto(x2, x.reshape(n, ic, L).transpose(1, 0, 2))
        cols = scratch(COLS, (groups, ocg * g.kk, P), x.dtype, xp)
        xp.matmul(W.reshape(groups, icg, ocg * g.kk).transpose(0, 2, 1), x2.reshape(groups, icg, P), out=cols)
        y = col2im_nd_array(cols, g, n, oc)
        if b is not None:
            y += b.reshape((1, oc) + (1,) * g.nd)
        ctx.save_for_backward(x, W)
        ctx.g, ctx.groups = g, groups
        return y

    @staticmethod
    def backward_raw(ctx, gy):
        x, W = ctx.saved_arrays
        g, groups = ctx.g, ctx.groups
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        xp = xp_of(gy)
        n, ic = x.shape[:2]
        ocg, L = W.shape[1], g.L
        P, icg, oc = n * L, ic // groups, ocg * groups
        gx = gW = gb = None
        if need_b:
            gb = gy.sum(axis=(0,) + _spatial_axes(g))
        gcols = scratch(COLS, (oc,) + g.k + (n,) + g.out, gy.dtype, xp)
        im2col_nd_array(gy, g, out=gcols)
        gcols = gcols.reshape(groups, ocg * g.kk, P)
        if need_x:
            gx2 = scratch(GEMM_OUT, (groups, icg, P), gy.dtype, xp)
            xp.matmul(W.reshape(groups, icg, ocg * g.kk), gcols, out=gx2)          # (G, ICg, P)
            gx = nc_swap_copy(gx2.reshape((ic, n) + x.shape[2:]))
        if need_w:
            x2 = scratch(GEMM_IN, (ic, n, L), x.dtype, xp)
            xp.copyto(x2, x.reshape(n, ic, L).transpose(1, 0, 2))
            gW = pixel_sum_product(x2.reshape(groups, icg, P), gcols).reshape(W.shape)
        return gx, gW, gb, None, None

    @staticmethod
    def backward_composed(ctx, gy):
        x, W = ctx.saved_tensors
        g, groups = ctx.g, ctx.groups
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        n, ic = x.shape[:2]
        ocg, P = W.shape[1], n * g.L
        icg = ic // groups
        gx = gW = gb = None
        if need_b:
            gb = gy.sum((0,) + _spatial_axes(g))
        gcols = Im2colNd.apply(gy, g).reshape(groups, ocg * g.kk, P)
        if need_x:
            gx = matmul(W.reshape(groups, icg, ocg * g.kk), gcols).reshape((ic, n) + x.shape[2:])
            gx = gx.transpose(0, 1)
        if need_w:
            x2 = x.transpose(0, 1).reshape(groups, icg, P)
            gW = matmul(x2, gcols.transpose(1, 2)).reshape(W.shape)
        return gx, gW, gb, None, None


# ---------------------------------------------------------------------------------------------
# argument handling (shared by the fused ops and their composed twins)
# ---------------------------------------------------------------------------------------------
def prepare_convnd(op, nd, input, weight, bias, stride, padding, dilation, groups, padding_mode):  # noqa: A002
    """Normalise arguments -> (x batched, W, b, GeomN, unbatched); non-zero padding modes pad
    explicitly (differentiably) first."""
    x, W, b = as_tensor(input), as_tensor(weight), as_tensor(bias)
    check_conv_args(op, x, W, b, groups, nd)
    check_float_dtypes(op, x, W, b)
    unbatched = x.ndim == nd + 1
    if unbatched:
        x = x.reshape((1,) + x.shape)
    stride = ntuple(stride, nd, "stride", op)
    dilation = ntuple(dilation, nd, "dilation", op)
    kernel = tuple(W.shape[2:])
    if any(s < 1 for s in stride) or any(d < 1 for d in dilation):
        raise ValueError(f"{op}: stride {stride} and dilation {dilation} must be positive")
    pads = conv_padding(padding, kernel, stride, dilation, nd, op)     # (lo0, hi0, lo1, hi1, ...)
    if padding_mode != "zeros" and any(pads):
        if padding_mode not in ("reflect", "replicate", "circular"):
            raise ValueError(f"{op}: padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular', "
                             f"got {padding_mode!r}")
        # F.pad takes the last axis first: (lo_last, hi_last, ..., lo_first, hi_first)
        torch_order = tuple(p for ax in reversed(range(nd)) for p in pads[2 * ax:2 * ax + 2])
        x = _pad(x, torch_order, mode=padding_mode)
        pads = (0,) * (2 * nd)
    size = tuple(x.shape[2:])
    lo, hi = pads[0::2], pads[1::2]
    g = make_geom_nd(size, kernel, stride, dilation, lo, hi)
    check_fits(op, size, g.padded, kernel, dilation, g.out)
    return x, W, b, g, unbatched


def prepare_conv_transposend(op, nd, input, weight, bias, stride, padding, output_padding, groups,  # noqa: A002
                             dilation):
    x, W, b = as_tensor(input), as_tensor(weight), as_tensor(bias)
    check_conv_args(op, x, W, b, groups, nd, transposed=True)
    check_float_dtypes(op, x, W, b)
    unbatched = x.ndim == nd + 1
    if unbatched:
        x = x.reshape((1,) + x.shape)
    stride = ntuple(stride, nd, "stride", op)
    dilation = ntuple(dilation, nd, "dilation", op)
    pad = ntuple(padding, nd, "padding", op)
    out_pad = ntuple(output_padding, nd, "output_padding", op)
    kernel = tuple(W.shape[2:])
    if any(s < 1 for s in stride) or any(d < 1 for d in dilation) or min(pad) < 0:
        raise ValueError(f"{op}: stride {stride} and dilation {dilation} must be positive and padding {pad} "
                         "non-negative")
    for o, s, d in zip(out_pad, stride, dilation):
        if not (0 <= o < max(s, d)):
            raise ValueError(f"{op}: output_padding {out_pad} must be smaller than either stride {stride} "
                             f"or dilation {dilation}")
    size = tuple(x.shape[2:])
    out = tuple((m - 1) * s - 2 * p + d * (k - 1) + o + 1
                for m, s, p, d, k, o in zip(size, stride, pad, dilation, kernel, out_pad))
    if min(out) <= 0:
        raise ShapeError(f"{op}: the output size {out} computed from input {size}, kernel {kernel}, stride "
                         f"{stride}, padding {pad} is not positive; reduce the padding")
    # the output is the *input* of the adjoint convolution, whose windows land on x's positions
    g = make_geom_nd(out, kernel, stride, dilation, pad, pad, out=size)
    return x, W, b, g, unbatched


def _unbatch(y: Tensor, unbatched: bool) -> Tensor:
    return y.reshape(y.shape[1:]) if unbatched else y


# ---------------------------------------------------------------------------------------------
# public functions
# ---------------------------------------------------------------------------------------------
def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1, *,  # noqa: A002
           padding_mode: str = "zeros") -> Tensor:
    """3-D cross-correlation (video / volumetric convolution), fused 3-D im2col + one GEMM per group.

    input (N, C, D, H, W) or (C, D, H, W); weight (OC, C/groups, KD, KH, KW); bias (OC,) or None ->
    (N, OC, OD, OH, OW), each O = floor((I + 2*padding - dilation*(K-1) - 1) / stride) + 1.
    ``padding``: an int, a triple, ``'valid'`` or ``'same'`` (stride 1; the odd pixel goes after, as
    PyTorch). ``padding_mode`` (a gradus extra; PyTorch keeps it on the module): 'zeros', 'reflect',
    'replicate' or 'circular'.

        >>> import gradus
        >>> import gradus.functional as F
        >>> F.conv3d(gradus.ones(1, 2, 4, 5, 6), gradus.ones(3, 2, 3, 3, 3), padding=1).shape
        (1, 3, 4, 5, 6)
    """
    x, W, b, g, unbatched = prepare_convnd("conv3d", 3, input, weight, bias, stride, padding, dilation,
                                           groups, padding_mode)
    return _unbatch(ConvNd.apply(x, W, b, g, groups), unbatched)


def conv3d_composed(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1, *,  # noqa: A002
                    padding_mode: str = "zeros") -> Tensor:
    """``conv3d`` composed from differentiable pieces (Im2colNd + matmul + add): the fused op's twin,
    differentiable to any order."""
    x, W, b, g, unbatched = prepare_convnd("conv3d", 3, input, weight, bias, stride, padding, dilation,
                                           groups, padding_mode)
    return _unbatch(convnd_composed(x, W, b, g, groups), unbatched)


def convnd_composed(x, W, b, g: GeomN, groups: int) -> Tensor:
    """The composed convolution for a prepared (batched) input and geometry."""
    n, c = x.shape[:2]
    oc = W.shape[0]
    cols = Im2colNd.apply(x, g).reshape(groups, c // groups * g.kk, n * g.L)
    y2 = matmul(W.reshape(groups, oc // groups, -1), cols)                  # (G, OC/G, N*L)
    y = y2.reshape((oc, n) + g.out).transpose(0, 1)
    if b is not None:
        y = y + b.reshape((1, oc) + (1,) * g.nd)
    return y


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups: int = 1,  # noqa: A002
                     dilation=1) -> Tensor:
    """3-D transposed convolution (the gradient of conv3d w.r.t. its input).

    input (N, IC, D, H, W) or (IC, D, H, W); weight (IC, OC/groups, KD, KH, KW) -> (N, OC, OD, OH, OW)
    with each O = (I - 1)*stride - 2*padding + dilation*(K - 1) + output_padding + 1.
    """
    x, W, b, g, unbatched = prepare_conv_transposend("conv_transpose3d", 3, input, weight, bias, stride,
                                                     padding, output_padding, groups, dilation)
    return _unbatch(ConvTransposeNd.apply(x, W, b, g, groups), unbatched)


def conv_transpose3d_composed(input, weight, bias=None, stride=1, padding=0, output_padding=0,  # noqa: A002
                              groups: int = 1, dilation=1) -> Tensor:
    """``conv_transpose3d`` from differentiable pieces (matmul + Col2imNd): the fused op's twin."""
    x, W, b, g, unbatched = prepare_conv_transposend("conv_transpose3d", 3, input, weight, bias, stride,
                                                     padding, output_padding, groups, dilation)
    return _unbatch(conv_transposend_composed(x, W, b, g, groups), unbatched)


def conv_transposend_composed(x, W, b, g: GeomN, groups: int) -> Tensor:
    n, ic = x.shape[:2]
    ocg = W.shape[1]
    icg, oc, P = ic // groups, ocg * groups, n * g.L
    x2 = x.transpose(0, 1).reshape(groups, icg, P)
    cols = matmul(W.reshape(groups, icg, ocg * g.kk).transpose(1, 2), x2)       # (G, OCg*KK, P)
    y = Col2imNd.apply(cols.reshape(oc * g.kk, P), g, n, oc)
    if b is not None:
        y = y + b.reshape((1, oc) + (1,) * g.nd)
    return y
