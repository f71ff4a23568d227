"""Convolutions: ``conv1d``, ``conv2d``, ``conv_transpose1d``, ``conv_transpose2d`` (layouts NCL / NCHW,
PyTorch's names, argument orders and defaults). The 3-D ones live in ``functional/convnd.py``;
``unfold``/``fold``/``locally_connected2d`` in ``functional/patches.py``; the im2col machinery they all
share (geometry, padding, im2col/col2im, the scratch workspace, and how a convolution becomes one GEMM)
in ``functional/window.py``.

Higher-order derivatives
------------------------
``Conv2d`` and ``ConvTranspose2d`` are ``FusedFunction``s: the backward has two implementations,
chosen in one place (``FusedFunction.backward``):

* ``backward_raw`` for a plain ``loss.backward()`` (grad mode off in backward): raw array code,
  scratch buffers, ``out=`` GEMMs, no graph bookkeeping;
* ``backward_composed`` when ``create_graph=True`` (gradient penalties, Hessian-vector products,
  ``gradgradcheck``): Tensor ops, GEMMs via ``matmul`` and im2col/col2im via the ``Im2col``/``Col2im``
  Functions, which are each other's adjoint (the backward of one is the other), so the gradient can
  be differentiated again, to any order.

``conv2d_composed`` / ``conv_transpose2d_composed`` are the composed twins of the fused forwards
(used by the tests to check the fused ops).
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.function import FusedFunction
from ..autograd.grad_mode import is_grad_enabled
from ..errors import ShapeError
from ..ops.matmul import matmul
from ..ops.movement import pad as _pad
from ..tensor import Tensor
from .window import (
    COLS,
    GEMM_IN,
    GEMM_OUT,
    Col2im,
    Geom,
    Im2col,
    as_tensor,
    check_conv_args,
    check_fits,
    check_float_dtypes,
    col2im_array,
    col2im_flat_array,
    col2im_nhwc_array,
    conv_padding,
    im2col_array,
    im2col_nhwc_array,
    make_geom,
    ntuple,
    padded_grid_array,
    pair,
    pixel_sum_product,
    release_workspace,  # noqa: F401  (kept importable from here: F.conv.release_workspace())
    scratch,
)

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"]

xp_of = backend.get_array_module


# ---------------------------------------------------------------------------------------------
# fused convolution
# ---------------------------------------------------------------------------------------------
class Conv2d(FusedFunction):
    """y = conv2d(x, W) + b, one GEMM: y2 (G, OC/G, N*L) = W (G, OC/G, C/G*KK) @ cols (G, C/G*KK, N*L).

    x (N, C, H, W), W (OC, C/G, KH, KW), b (OC,) or None -> y (N, OC, OH, OW).
    gW = gy2 @ cols^T,  gx = col2im(W^T @ gy2),  gb = sum of gy over (N, OH, OW).
    """

    @staticmethod
    def forward(ctx, x, W, b, g, groups, keep_cols=False):
        xp = xp_of(x)
        n, c = x.shape[:2]
        oc, kk, L = W.shape[0], g.kh * g.kw, g.oh * g.ow
        P = n * L
        shape = (c, g.kh, g.kw, n, g.oh, g.ow)
        # a small column matrix is kept for the weight gradient (LeNet-5's: 3.8-5 MB), a large one
        # lives in the scratch buffer and backward recomputes it (see window.py, "Memory")
        cols = xp.empty(shape, dtype=x.dtype) if keep_cols else scratch(COLS, shape, x.dtype, xp)
        im2col_array(x, g, out=cols)
        if keep_cols:
            ctx.save_raw(cols=cols)
        y2 = scratch(GEMM_OUT, (groups, oc // groups, P), x.dtype, xp)
        xp.matmul(W.reshape(groups, oc // groups, -1), cols.reshape(groups, c // groups * kk, P), out=y2)
        y = xp.empty((n, oc, g.oh, g.ow), dtype=y2.dtype)
        src = y2.reshape(oc, n, L).transpose(1, 0, 2)
        if b is None:
            xp.copyto(y.reshape(n, oc, L), src)
        else:  # the bias add rides along with the transposing copy
            xp.add(src, b.reshape(1, oc, 1), out=y.reshape(n, oc, L))
        ctx.save_for_backward(x, W)
        ctx.g, ctx.groups, ctx.keep_cols = g, groups, keep_cols
        return y

    @staticmethod
    def backward_raw(ctx, gy):
        return _conv2d_backward_raw(ctx, gy)

    @staticmethod
    def backward_composed(ctx, gy):
        return _conv2d_backward_composed(ctx, gy)


def _conv2d_backward_raw(ctx, gy):
    x, W = ctx.saved_arrays
    g, groups = ctx.g, ctx.groups
    need_x, need_w, need_b = ctx.needs_input_grad[:3]
    xp = xp_of(gy)
    n, c = x.shape[:2]
    oc, kk, L = W.shape[0], g.kh * g.kw, g.oh * g.ow
    P, ocg, ckk = n * L, oc // groups, c // groups * kk
    gy2 = scratch(GEMM_IN, (oc, n, g.oh, g.ow), gy.dtype, xp)          # (OC, N*L): the GEMM layout
    xp.copyto(gy2, gy.transpose(1, 0, 2, 3))
    gx = gW = gb = None
    if need_b:
        gb = gy.sum(axis=(0, 2, 3))
    kept = ctx.keep_cols
    cols = ctx.cols if kept else scratch(COLS, (c, g.kh, g.kw, n, g.oh, g.ow), x.dtype, xp)
    if need_w:
        if not kept:
            im2col_array(x, g, out=cols)   # recomputed: cheaper than keeping a large one
        gW = pixel_sum_product(gy2.reshape(groups, ocg, P), cols.reshape(groups, ckk, P)).reshape(W.shape)
    if need_x:
        # the correlation of the padded gy builds an (OC*KK, N*H*W) column matrix, col2im a (C*KK,
        # N*OH*OW) one: take the smaller (LeNet-5's conv2, 6 -> 16 channels: 2.6x fewer bytes by
        # col2im), and col2im over the padded grid when the stride is 1 (window.col2im_flat_array;
        # LeNet-5's conv2, forward + input gradient: 2.6 -> 2.2 ms; depthwise keeps the correlation,
        # measured 11.5 against 16.8 ms)
        if _transposed_geom(g) is not None and oc * g.h * g.w <= c * L:
            gx = _conv2d_input_grad_stride1(gy2, W, g, groups, n, c)
        elif FLAT_COL2IM and g.sh == 1 and g.sw == 1:
            wt = W.reshape(groups, ocg, ckk).transpose(0, 2, 1)
            gx = _col2im_of_product_flat(wt, gy2, g, groups, n, c)
        else:
            # reuse the scratch buffer (cols is no longer needed), never a kept one (retain_graph)
            gcols = (scratch(COLS, cols.shape, x.dtype, xp) if kept else cols).reshape(groups, ckk, P)
            xp.matmul(W.reshape(groups, ocg, ckk).transpose(0, 2, 1), gy2.reshape(groups, ocg, P), out=gcols)
            gx = col2im_array(gcols, g, n, c)
    return gx, gW, gb, None, None


def _col2im_of_product_flat(wt, a, g: Geom, groups: int, n: int, c: int):
    """col2im(wt @ a) for a stride-1 geometry, the product taken over the padded grid
    (``window.col2im_flat_array``): wt (G, C/G*KH*KW, K/G), a (K, N, OH, OW) of any strides ->
    (N, C, H, W). The input gradient of Conv2d (wt = W^T, a = gy) and the forward of ConvTranspose2d
    (wt = W^T, a = x), stride 1."""
    xp = xp_of(a)
    grid = padded_grid_array(a, g)                                    # (K, N*HP*WP)
    size = grid.shape[1]
    cols = scratch(COLS, (groups, wt.shape[1], size), a.dtype, xp)
    xp.matmul(wt, grid.reshape(groups, -1, size), out=cols)
    return col2im_flat_array(cols, g, n, c)


def _nchw_copy(a):
    """A fresh NCHW array from a (C, N, H, W) one that lives in a scratch buffer. Always a copy: when
    N or C is 1 the transpose is already contiguous and ``ascontiguousarray`` would return a view of
    the scratch buffer, which the next conv call overwrites (a returned gradient must own its data)."""
    out = xp_of(a).empty((a.shape[1], a.shape[0]) + a.shape[2:], dtype=a.dtype)
    xp_of(a).copyto(out, a.transpose(1, 0, 2, 3))
    return out


def _transposed_geom(g: Geom):
    """For a stride-1 conv, the geometry of gx = correlate(gy padded, flipped W): pad gy by
    d*(k-1) - p on each side. None when that is not a plain padding (stride > 1, or p > d*(k-1))."""
    if g.sh != 1 or g.sw != 1:
        return None
    eh, ew = g.dh * (g.kh - 1), g.dw * (g.kw - 1)
    pads = (eh - g.pt, eh - g.pb, ew - g.pl, ew - g.pr)
    if min(pads) < 0:
        return None
    return make_geom(g.oh, g.ow, (g.kh, g.kw), (1, 1), (g.dh, g.dw), pads, out=(g.h, g.w))


def _conv2d_input_grad_stride1(gy2, W, g, groups, n, c):
    """gx for a stride-1 conv as a correlation of the padded gy with the flipped kernel: one im2col of
    gy and one GEMM. Measured ~1.3-1.6x faster than W^T @ gy followed by col2im (which makes KH*KW
    read-modify-write passes over the input gradient)."""
    xp = xp_of(gy2)
    oc, kk = W.shape[0], g.kh * g.kw
    ocg, cg = oc // groups, c // groups
    gt = _transposed_geom(g)
    # gy2 is (OC, N, OH, OW); present it as (N, OC, OH, OW) (a view) to the window machinery
    cols = scratch(COLS, (oc, g.kh, g.kw, n, g.h, g.w), gy2.dtype, xp)
    im2col_array(gy2.transpose(1, 0, 2, 3), gt, out=cols)
    # Wt[g, c, (o, u, v)] = W[g*OCg + o, c, KH-1-u, KW-1-v]
    Wt = W.reshape(groups, ocg, cg, g.kh, g.kw)[:, :, :, ::-1, ::-1].transpose(0, 2, 1, 3, 4)
    gx2 = scratch(GEMM_OUT, (groups, cg, n * g.h * g.w), gy2.dtype, xp)       # (G, Cg, N*H*W)
    Wt = xp.ascontiguousarray(Wt).reshape(groups, cg, ocg * kk)
    xp.matmul(Wt, cols.reshape(groups, ocg * kk, -1), out=gx2)
    return _nchw_copy(gx2.reshape(c, n, g.h, g.w))


def _conv2d_backward_composed(ctx, gy):
    """The same gradients from Tensor ops (matmul + Im2col/Col2im): differentiable again."""
    x, W = ctx.saved_tensors
    g, groups = ctx.g, ctx.groups
    need_x, need_w, need_b = ctx.needs_input_grad[:3]
    n, c = x.shape[:2]
    oc, kk, L = W.shape[0], g.kh * g.kw, g.oh * g.ow
    ocg, ckk = oc // groups, c // groups * kk
    gy2 = gy.reshape(n, groups, ocg, L).permute(1, 2, 0, 3).reshape(groups, ocg, n * L)
    gx = gW = gb = None
    if need_b:
        gb = gy.sum((0, 2, 3))
    if need_w:
        cols = Im2col.apply(x, g).reshape(groups, ckk, n * L)
        gW = matmul(gy2, cols.transpose(1, 2)).reshape(W.shape)
    if need_x:
        gcols = matmul(W.reshape(groups, ocg, ckk).transpose(1, 2), gy2)
        gx = Col2im.apply(gcols.reshape(c * kk, n * L), g, n, c)
    return gx, gW, gb, None, None


class Conv2dChannelsLast(FusedFunction):
    """The same convolution (groups = 1) lowered channel-last: one GEMM with the pixels as rows,
    y2 (N*OH*OW, OC) = cols (N*OH*OW, KH*KW*C) @ W2 (KH*KW*C, OC),  W2[(u, v, c), o] = W[o, c, u, v].

    x (N, C, H, W) of any strides -> y (N, OC, OH, OW) *with channels-last strides* (the NCHW view of
    the (N, OH, OW, OC) GEMM result, as PyTorch's ``channels_last`` memory format): no transposing
    copy of the output, and the next conv reads its input channel-last as it is. Elementwise ops,
    batch norm and pooling keep or accept the layout (NumPy's ufuncs follow the input's memory order).
    Backward: gW2 = cols^T @ gy2, gb = the column sums of gy2, and gx as a correlation of the padded gy
    with the flipped kernel (stride 1) or col2im of gy2 @ W2^T.

    The images go through in chunks whose column matrix is ~``CHUNK_BYTES`` (``_image_chunks``): the
    GEMM then reads the columns from cache right after im2col wrote them. ResNet-20's 16-channel
    32x32 layers are memory-bound otherwise (a 37.7 MB column matrix per call): measured im2col +
    forward GEMM 9.7 -> 5.6 ms at 4 images per chunk.
    """

    @staticmethod
    def forward(ctx, x, W, b, g):
        xp = xp_of(x)
        n, c = x.shape[:2]
        oc, kkc, L = W.shape[0], g.kh * g.kw * c, g.oh * g.ow
        w2 = _weight_rows(W)
        y2 = xp.empty((n * L, oc), dtype=x.dtype)
        for s, e, cols in _image_chunks(n, (g.oh, g.ow, g.kh, g.kw, c), x.dtype, xp):
            im2col_nhwc_array(x[s:e], g, cols)
            xp.matmul(cols.reshape(-1, kkc), w2, out=y2[s * L:e * L])
        if b is not None:
            y2 += b
        ctx.save_for_backward(x, W)
        ctx.g, ctx.groups = g, 1
        return y2.reshape(n, g.oh, g.ow, oc).transpose(0, 3, 1, 2)

    @staticmethod
    def backward_raw(ctx, gy):
        x, W = ctx.saved_arrays
        g = ctx.g
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        xp = xp_of(gy)
        n, c = x.shape[:2]
        oc, kk, L = W.shape[0], g.kh * g.kw, g.oh * g.ow
        gyv = gy.transpose(0, 2, 3, 1)                   # (N, OH, OW, OC): free when gy is channel-last
        if not gyv.flags.c_contiguous:
            buf = scratch(GEMM_IN, gyv.shape, gy.dtype, xp)
            xp.copyto(buf, gyv)
            gyv = buf
        gy2 = gyv.reshape(n * L, oc)
        gx = gW = gb = None
        if need_b:
            gb = gy2.sum(axis=0)
        if need_w:                                       # im2col recomputed, as Conv2d does
            gW2 = xp.zeros((kk * c, oc), dtype=gy.dtype)                          # (KH*KW*C, OC)
            for s, e, cols in _image_chunks(n, (g.oh, g.ow, g.kh, g.kw, c), x.dtype, xp):
                im2col_nhwc_array(x[s:e], g, cols)
                gW2 += cols.reshape(-1, kk * c).T @ gy2[s * L:e * L]
            gW = xp.ascontiguousarray(gW2.reshape(g.kh, g.kw, c, oc).transpose(3, 2, 0, 1))
        if need_x:
            gt = _transposed_geom(g)
            hw = g.h * g.w
            gx2 = xp.empty((n * hw, c), dtype=gy.dtype)
            if gt is not None:
                # gx[n, y, x, c] = sum_{u, v, o} gypad[n, y + u, x + v, o] W[o, c, KH-1-u, KW-1-v]
                wf = xp.ascontiguousarray(W[:, :, ::-1, ::-1].transpose(2, 3, 0, 1)).reshape(kk * oc, c)
                gyc = gyv.transpose(0, 3, 1, 2)
                for s, e, cols in _image_chunks(n, (g.h, g.w, g.kh, g.kw, oc), gy.dtype, xp):
                    im2col_nhwc_array(gyc[s:e], gt, cols)
                    xp.matmul(cols.reshape(-1, kk * oc), wf, out=gx2[s * hw:e * hw])
            else:
                w2t = _weight_rows(W).T
                for s, e, gcols in _image_chunks(n, (g.oh, g.ow, g.kh, g.kw, c), gy.dtype, xp):
                    xp.matmul(gy2[s * L:e * L], w2t, out=gcols.reshape(-1, kk * c))
                    gx2[s * hw:e * hw] = col2im_nhwc_array(gcols, g, e - s, c).reshape(-1, c)
            gx = gx2.reshape(n, g.h, g.w, c).transpose(0, 3, 1, 2)
        return gx, gW, gb, None

    @staticmethod
    def backward_composed(ctx, gy):
        return _conv2d_backward_composed(ctx, gy)[:3] + (None,)


CHUNK_BYTES = 2_500_000   # the column matrix of one chunk of images (measured: 2.4-4.7 MB best here)


def _image_chunks(n, row_shape, dtype, xp):
    """(start, stop, cols) over the n images, ``cols`` a COLS scratch view of (stop - start,
    *row_shape) holding ~CHUNK_BYTES (at least one image)."""
    per_image = int(np.prod(row_shape)) * np.dtype(dtype).itemsize
    step = max(1, min(n, CHUNK_BYTES // max(per_image, 1)))
    buf = scratch(COLS, (step,) + tuple(row_shape), dtype, xp)
    for s in range(0, n, step):
        e = min(n, s + step)
        yield s, e, buf[:e - s]


def _weight_rows(W):
    """W (OC, C, KH, KW) -> W2 (KH*KW*C, OC), the channels-last GEMM's right operand (a small copy)."""
    oc = W.shape[0]
    return xp_of(W).ascontiguousarray(W.transpose(2, 3, 1, 0)).reshape(-1, oc)


def _use_channels_last(x, W, groups) -> bool:
    """Whether conv2d takes the channels-last lowering: groups = 1 and at least 8 input channels (its
    im2col copies runs of KW*C elements; with 1-6 channels the NCHW runs of OW pixels are longer:
    measured slower for 1 -> 6, 3 -> 16 and 6 -> 16 channels, see docs/performance.md), or an input
    that already has channels-last strides (not measured: it spares the NCHW lowering a transposing
    read of the input)."""
    if groups != 1 or not CHANNELS_LAST:
        return False
    return x.shape[1] >= 8 or (x.ndim == 4 and x.shape[1] > 1 and x.strides[1] < x.strides[3])


FLAT_COL2IM = True       # stride-1 col2im over the padded grid (the switch for A/B runs and tests)

KEEP_COLS_BYTES = 8_000_000   # Conv2d keeps a column matrix up to this size for backward

CHANNELS_LAST = True     # the switch for A/B measurements and the tests of both lowerings


class ConvTranspose2d(FusedFunction):
    """y = conv_transpose2d(x, W) + b: the adjoint of conv2d w.r.t. its input.

    x (N, IC, H, W), W (IC, OC/G, KH, KW) -> y (N, OC, HO, WO): cols = W^T @ x (one GEMM per group),
    then col2im. Backward: gcols = im2col(gy), gx = W @ gcols, gW = x @ gcols^T.
    """

    @staticmethod
    def forward(ctx, x, W, b, g, groups):
        xp = xp_of(x)
        n, ic, h, w = x.shape
        ocg, kk, L = W.shape[1], g.kh * g.kw, h * w
        P, icg, oc = n * L, ic // groups, ocg * groups
        wt = W.reshape(groups, icg, ocg * kk).transpose(0, 2, 1)
        if FLAT_COL2IM and g.sh == 1 and g.sw == 1:
            y = _col2im_of_product_flat(wt, x.transpose(1, 0, 2, 3), g, groups, n, oc)
        else:
            x2 = scratch(GEMM_IN, (ic, n, L), x.dtype, xp)
            xp.copyto(x2, x.reshape(n, ic, L).transpose(1, 0, 2))
            cols = scratch(COLS, (groups, ocg * kk, P), x.dtype, xp)
            xp.matmul(wt, x2.reshape(groups, icg, P), out=cols)
            y = col2im_array(cols, g, n, oc)
        if b is not None:
            y += b.reshape(1, oc, 1, 1)
        ctx.save_for_backward(x, W)
        ctx.g, ctx.groups = g, groups
        return y

    @staticmethod
    def backward_raw(ctx, gy):
        return _conv_transpose2d_backward_raw(ctx, gy)

    @staticmethod
    def backward_composed(ctx, gy):
        return _conv_transpose2d_backward_composed(ctx, gy)


def _conv_transpose2d_backward_raw(ctx, gy):
    x, W = ctx.saved_arrays
    g, groups = ctx.g, ctx.groups
    need_x, need_w, need_b = ctx.needs_input_grad[:3]
    xp = xp_of(gy)
    n, ic, h, w = x.shape
    ocg, kk, L = W.shape[1], g.kh * g.kw, h * w
    P, icg, oc = n * L, ic // groups, ocg * groups
    gx = gW = gb = None
    if need_b:
        gb = gy.sum(axis=(0, 2, 3))
    gcols = scratch(COLS, (oc, g.kh, g.kw, n, g.oh, g.ow), gy.dtype, xp)
    im2col_array(gy, g, out=gcols)
    gcols = gcols.reshape(groups, ocg * kk, P)
    if need_x:
        gx2 = scratch(GEMM_OUT, (groups, icg, P), gy.dtype, xp)
        xp.matmul(W.reshape(groups, icg, ocg * kk), gcols, out=gx2)          # (G, ICg, P)
        gx = _nchw_copy(gx2.reshape(ic, n, h, w))
    if need_w:
        x2 = scratch(GEMM_IN, (ic, n, L), x.dtype, xp)
        xp.copyto(x2, x.reshape(n, ic, L).transpose(1, 0, 2))
        gW = pixel_sum_product(x2.reshape(groups, icg, P), gcols).reshape(W.shape)
    return gx, gW, gb, None, None


def _conv_transpose2d_backward_composed(ctx, gy):
    x, W = ctx.saved_tensors
    g, groups = ctx.g, ctx.groups
    need_x, need_w, need_b = ctx.needs_input_grad[:3]
    n, ic, h, w = x.shape
    ocg, kk, P = W.shape[1], g.kh * g.kw, n * h * w
    icg = ic // groups
    gx = gW = gb = None
    if need_b:
        gb = gy.sum((0, 2, 3))
    gcols = Im2col.apply(gy, g).reshape(groups, ocg * kk, P)
    if need_x:
        gx = matmul(W.reshape(groups, icg, ocg * kk), gcols).reshape(ic, n, h, w).permute(1, 0, 2, 3)
    if need_w:
        x2 = x.permute(1, 0, 2, 3).reshape(groups, icg, P)
        gW = matmul(x2, gcols.transpose(1, 2)).reshape(W.shape)
    return gx, gW, gb, None, None


# ---------------------------------------------------------------------------------------------
# public functions
# ---------------------------------------------------------------------------------------------
def _prepare_conv2d(op, input, weight, bias, stride, padding, dilation, groups, padding_mode):
    """Normalise arguments; non-zero padding modes pad explicitly (differentiably) first."""
    x, W, b = as_tensor(input), as_tensor(weight), as_tensor(bias)
    check_conv_args(op, x, W, b, groups, 2)
    check_float_dtypes(op, x, W, b)
    unbatched = x.ndim == 3
    if unbatched:
        x = x.reshape((1,) + x.shape)
    stride = pair(stride, "stride", op)
    dilation = pair(dilation, "dilation", op)
    kernel = tuple(W.shape[2:])
    if any(s < 1 for s in stride) or any(d < 1 for d in dilation):
        raise ValueError(f"{op}: stride {stride} and dilation {dilation} must be positive")
    pads = conv_padding(padding, kernel, stride, dilation, 2, op)   # (top, bottom, left, right)
    if padding_mode != "zeros" and any(pads):
        if padding_mode not in ("reflect", "replicate", "circular"):
            raise ValueError(f"{op}: padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular', "
                             f"got {padding_mode!r}")
        x = _pad(x, (pads[2], pads[3], pads[0], pads[1]), mode=padding_mode)
        pads = (0, 0, 0, 0)
    h, w = x.shape[2:]
    g = make_geom(h, w, kernel, stride, dilation, pads)
    check_fits(op, (h, w), (h + pads[0] + pads[1], w + pads[2] + pads[3]), kernel, dilation, (g.oh, g.ow))
    return x, W, b, g, unbatched


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1, *,  # noqa: A002
           padding_mode: str = "zeros") -> Tensor:
    """2-D cross-correlation (what deep learning calls convolution), fused im2col + GEMM.

    input (N, C, H, W) or (C, H, W); weight (OC, C/groups, KH, KW); bias (OC,) or None ->
    (N, OC, OH, OW) with OH = floor((H + 2*pad - dilation*(KH-1) - 1) / stride) + 1.
    ``padding`` is an int, a pair, ``'valid'`` (0) or ``'same'`` (stride 1; the extra pixel of an odd
    total goes bottom/right, as PyTorch). ``padding_mode`` (a gradus extra; PyTorch keeps it on the
    module) pads with 'zeros', 'reflect', 'replicate' or 'circular'.

        >>> import gradus
        >>> import gradus.functional as F
        >>> x = gradus.ones(1, 1, 4, 4)
        >>> F.conv2d(x, gradus.ones(2, 1, 3, 3), padding=1).shape
        (1, 2, 4, 4)
    """
    x, W, b, g, unbatched = _prepare_conv2d("conv2d", input, weight, bias, stride, padding, dilation,
                                            groups, padding_mode)
    if _use_channels_last(x.data, W.data, groups):
        y = Conv2dChannelsLast.apply(x, W, b, g)
    else:
        cols_bytes = x.shape[0] * x.shape[1] * g.kh * g.kw * g.oh * g.ow * x.data.itemsize
        keep = W.requires_grad and cols_bytes <= KEEP_COLS_BYTES and is_grad_enabled()
        y = Conv2d.apply(x, W, b, g, groups, keep_cols=keep)
    return y.reshape(y.shape[1:]) if unbatched else y


def conv2d_composed(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1, *,  # noqa: A002
                    padding_mode: str = "zeros") -> Tensor:
    """``conv2d`` composed from differentiable pieces (Im2col + matmul + add): the twin of the fused op,
    differentiable to any order."""
    x, W, b, g, unbatched = _prepare_conv2d("conv2d", input, weight, bias, stride, padding, dilation,
                                            groups, padding_mode)
    n, c = x.shape[:2]
    oc, L = W.shape[0], g.oh * g.ow
    cols = Im2col.apply(x, g).reshape(groups, c // groups * g.kh * g.kw, n * L)
    y2 = matmul(W.reshape(groups, oc // groups, -1), cols)                  # (G, OC/G, N*L)
    y = y2.reshape(oc, n, g.oh, g.ow).permute(1, 0, 2, 3)
    if b is not None:
        y = y + b.reshape(1, oc, 1, 1)
    return y.reshape(y.shape[1:]) if unbatched else y


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1, *,  # noqa: A002
           padding_mode: str = "zeros") -> Tensor:
    """1-D convolution: input (N, C, L) or (C, L), weight (OC, C/groups, K) -> (N, OC, LO).

    Runs as ``conv2d`` on a height-1 image (the same single GEMM)."""
    x, W = as_tensor(input), as_tensor(weight)
    check_conv_args("conv1d", x, W, as_tensor(bias), groups, 1)
    stride = ntuple(stride, 1, "stride", "conv1d")
    dilation = ntuple(dilation, 1, "dilation", "conv1d")
    if not isinstance(padding, str):
        padding = (0,) + ntuple(padding, 1, "padding", "conv1d")
    y = conv2d(x.unsqueeze(-2), W.unsqueeze(-2), bias, (1,) + stride, padding, (1,) + dilation, groups,
               padding_mode=padding_mode)
    return y.squeeze(-2)


def _prepare_conv_transpose2d(op, input, weight, bias, stride, padding, output_padding, groups, dilation):
    x, W, b = as_tensor(input), as_tensor(weight), as_tensor(bias)
    check_conv_args(op, x, W, b, groups, 2, transposed=True)
    check_float_dtypes(op, x, W, b)
    unbatched = x.ndim == 3
    if unbatched:
        x = x.reshape((1,) + x.shape)
    stride = pair(stride, "stride", op)
    dilation = pair(dilation, "dilation", op)
    ph, pw = pair(padding, "padding", op)
    oph, opw = pair(output_padding, "output_padding", op)
    kernel = tuple(W.shape[2:])
    for o, s, d in ((oph, stride[0], dilation[0]), (opw, stride[1], dilation[1])):
        if not (0 <= o < max(s, d)):
            raise ValueError(f"{op}: output_padding {(oph, opw)} must be smaller than either stride {stride} "
                             f"or dilation {dilation}")
    h, w = x.shape[2:]
    ho = (h - 1) * stride[0] - 2 * ph + dilation[0] * (kernel[0] - 1) + oph + 1
    wo = (w - 1) * stride[1] - 2 * pw + dilation[1] * (kernel[1] - 1) + opw + 1
    if ho <= 0 or wo <= 0:
        raise ShapeError(f"{op}: the output size ({ho}, {wo}) computed from input {(h, w)}, kernel {kernel}, "
                         f"stride {stride}, padding {(ph, pw)} is not positive; reduce the padding")
    # the output is the *input* of the adjoint convolution, whose windows land on x's (h, w) positions
    g = make_geom(ho, wo, kernel, stride, dilation, (ph, ph, pw, pw), out=(h, w))
    return x, W, b, g, unbatched


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups: int = 1,  # noqa: A002
                     dilation=1) -> Tensor:
    """Transposed convolution (the gradient of conv2d w.r.t. its input; "deconvolution" in generators).

    input (N, IC, H, W); weight (IC, OC/groups, KH, KW) -> (N, OC, HO, WO) with
    HO = (H - 1)*stride - 2*padding + dilation*(KH - 1) + output_padding + 1.
    """
    x, W, b, g, unbatched = _prepare_conv_transpose2d("conv_transpose2d", input, weight, bias, stride,
                                                      padding, output_padding, groups, dilation)
    y = ConvTranspose2d.apply(x, W, b, g, groups)
    return y.reshape(y.shape[1:]) if unbatched else y


def conv_transpose2d_composed(input, weight, bias=None, stride=1, padding=0, output_padding=0,  # noqa: A002
                              groups: int = 1, dilation=1) -> Tensor:
    """``conv_transpose2d`` from differentiable pieces (matmul + Col2im): the fused op's twin."""
    x, W, b, g, unbatched = _prepare_conv_transpose2d("conv_transpose2d", input, weight, bias, stride,
                                                      padding, output_padding, groups, dilation)
    n, ic, h, w = x.shape
    ocg, kk = W.shape[1], g.kh * g.kw
    icg, oc = ic // groups, ocg * groups
    x2 = x.permute(1, 0, 2, 3).reshape(groups, icg, n * h * w)
    cols = matmul(W.reshape(groups, icg, ocg * kk).transpose(1, 2), x2)       # (G, OCg*KK, P)
    y = Col2im.apply(cols.reshape(oc * kk, n * h * w), g, n, oc)
    if b is not None:
        y = y + b.reshape(1, oc, 1, 1)
    return y.reshape(y.shape[1:]) if unbatched else y


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups: int = 1,  # noqa: A002
                     dilation=1) -> Tensor:
    """1-D transposed convolution: input (N, IC, L), weight (IC, OC/groups, K) -> (N, OC, LO)."""
    x, W = as_tensor(input), as_tensor(weight)
    check_conv_args("conv_transpose1d", x, W, as_tensor(bias), groups, 1, transposed=True)

    def lead(v, name, first):  # the height-1 dimension gets stride/dilation 1 and no padding
        return (first,) + ntuple(v, 1, name, "conv_transpose1d")

    y = conv_transpose2d(x.unsqueeze(-2), W.unsqueeze(-2), bias, lead(stride, "stride", 1),
                         lead(padding, "padding", 0), lead(output_padding, "output_padding", 0), groups,
                         lead(dilation, "dilation", 1))
    return y.squeeze(-2)
