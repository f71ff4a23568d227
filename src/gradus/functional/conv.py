"""Convolutions: ``conv1d``, ``conv2d``, ``conv_transpose1d``, ``conv_transpose2d``, ``unfold``, ``fold``
and ``locally_connected2d`` (layouts NCL / NCHW, PyTorch's names, argument orders and defaults).

How a convolution becomes one GEMM (im2col)
-------------------------------------------
For input x (N, C, H, W), weight W (OC, C/groups, KH, KW), stride s, dilation d and padding p::

    y[n, o, i, j] = b[o] + sum_{c, u, v} W[o, c, u, v] * xpad[n, c, i*s + u*d, j*s + v*d]

``im2col`` copies every receptive field into one column of a matrix ``cols`` of shape
(C*KH*KW, N*OH*OW): a strided *view* of the padded input (``as_strided``, no copy) with shape
(C, KH, KW, N, OH, OW) is copied once into a contiguous buffer. The convolution is then one GEMM,
``W.reshape(OC, C*KH*KW) @ cols`` -> (OC, N*OH*OW), batched over the groups when groups > 1.
The backward is two more GEMMs (gW = gy2 @ cols^T and gcols = W^T @ gy2) and ``col2im``, which adds
each column back into its receptive field: a loop over the KH*KW kernel offsets only, each a strided
slice-add over the whole batch. For stride-1 convolutions (most of a ResNet) the input gradient is
instead a correlation of the padded gy with the flipped kernel — one im2col of gy and one GEMM —
which avoids col2im's KH*KW read-modify-write passes (measured 1.3-1.6x faster for 3x3 layers).

Layout choice (measured, batch 64, 16 -> 16 channels, 3x3, 32x32): the (C*KK, N*L) layout makes the
inner copy loop run along the image rows (long contiguous runs) and the weight gradient one plain
GEMM; the alternative (N*L, C*KK) layout copies runs of only KW elements and was ~6x slower to build;
the per-sample batched layout (N, C*KK, L) needs a batched reduction for gW (~2x slower).

Memory: the column buffer (the biggest array of a conv layer, KH*KW times the input) is *not* kept
between forward and backward: it lives in a per-thread scratch workspace that is reused by every
conv call (freshly allocated arrays this large are returned to the OS on free, so every call would
pay page faults again — that cost as much as the copy itself). Backward recomputes it (one copy).
The padded input, the (OC, N*L) gradient layout and the GEMM outputs use scratch buffers too; each
is consumed within one forward or backward, never returned. ``release_workspace()`` frees them.

Higher-order derivatives
------------------------
``Conv2d``'s backward has two implementations, chosen automatically:

* when grad mode is off in backward (a plain ``loss.backward()``), raw array code
  (``once_differentiable``): scratch buffers, ``out=`` GEMMs, no graph bookkeeping;
* when ``create_graph=True`` (gradient penalties, Hessian-vector products, ``gradgradcheck``), the
  *composed* backward written with Tensor ops: GEMMs via ``matmul`` and im2col/col2im via the
  ``Im2col``/``Col2im`` Functions, which are each other's adjoint (the backward of one is the other),
  so the gradient can be differentiated again, to any order.

``conv2d_composed`` / ``conv_transpose2d_composed`` are the composed twins of the fused forwards
(used by the tests to check the fused ops).
"""
from __future__ import annotations

import threading
from typing import NamedTuple

import numpy as np

from .. import backend
from ..autograd.function import Function, once_differentiable
from ..autograd.grad_mode import state as _grad_state
from ..errors import DTypeError, ShapeError
from ..ops.matmul import matmul
from ..ops.movement import pad as _pad
from ..tensor import Tensor

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "unfold", "fold",
           "locally_connected2d"]

xp_of = backend.get_array_module


# ---------------------------------------------------------------------------------------------
# argument normalisation
# ---------------------------------------------------------------------------------------------
def _ntuple(v, n: int, name: str, op: str) -> tuple:
    """``3 -> (3, 3)``; tuples/lists pass through after a length check."""
    if isinstance(v, (tuple, list)):
        if len(v) == 1:
            v = tuple(v) * n
        if len(v) != n:
            raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {v!r}")
        out = tuple(int(e) for e in v)
    else:
        out = (int(v),) * n
    return out


def _pair(v, name="argument", op="conv2d") -> tuple:
    return _ntuple(v, 2, name, op)


class Geom(NamedTuple):
    """The geometry of a 2-D sliding window: kernel, stride, dilation, per-side padding, the input's
    (unpadded) spatial size and the number of window positions (OH, OW)."""

    kh: int
    kw: int
    sh: int
    sw: int
    dh: int
    dw: int
    pt: int   # padding: top, bottom, left, right
    pb: int
    pl: int
    pr: int
    h: int    # input height and width (unpadded)
    w: int
    oh: int   # number of window positions
    ow: int


def out_size(n: int, k: int, s: int, d: int, lo: int, hi: int, ceil_mode: bool = False) -> int:
    """Number of window positions: floor((n + lo + hi - d*(k-1) - 1) / s) + 1 (ceil for ceil_mode,
    where the last window must still start inside the input or the left padding, as PyTorch)."""
    span = n + lo + hi - d * (k - 1) - 1
    if span < 0:
        return 0
    if ceil_mode:
        o = -(-span // s) + 1
        if (o - 1) * s >= n + lo:
            o -= 1
        return o
    return span // s + 1


def make_geom(h, w, kernel, stride, dilation, pads, ceil_mode=False, out=None) -> Geom:
    """Geometry for an (h, w) input; ``pads`` = (top, bottom, left, right). ``out`` forces (OH, OW)."""
    kh, kw = kernel
    sh, sw = stride
    dh, dw = dilation
    pt, pb, pl, pr = pads
    if out is None:
        oh = out_size(h, kh, sh, dh, pt, pb, ceil_mode)
        ow = out_size(w, kw, sw, dw, pl, pr, ceil_mode)
    else:
        oh, ow = out
    # windows that run past the bottom/right (ceil_mode) need that much more padding to be read
    pb = max(pb, (oh - 1) * sh + dh * (kh - 1) + 1 - h - pt)
    pr = max(pr, (ow - 1) * sw + dw * (kw - 1) + 1 - w - pl)
    return Geom(kh, kw, sh, sw, dh, dw, pt, pb, pl, pr, h, w, oh, ow)


def _conv_padding(padding, kernel, stride, dilation, nd: int, op: str) -> tuple:
    """Per-side padding (lo0, hi0, lo1, hi1, ...) from an int, a tuple, 'valid' or 'same'."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0,) * (2 * nd)
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{op}: padding='same' is not supported for strided convolutions "
                                 f"(stride={stride}); use an explicit padding")
            out = []
            for k, d in zip(kernel, dilation):
                total = d * (k - 1)
                out += [total // 2, total - total // 2]  # the extra one goes right, as PyTorch
            return tuple(out)
        raise ValueError(f"{op}: padding must be an int, a tuple, 'valid' or 'same', got {padding!r}")
    p = _ntuple(padding, nd, "padding", op)
    if any(v < 0 for v in p):
        raise ValueError(f"{op}: negative padding {p} is not supported")
    out = []
    for v in p:
        out += [v, v]
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# scratch workspace
# ---------------------------------------------------------------------------------------------
class _Workspace(threading.local):
    def __init__(self):
        self.bufs = {}


_ws = _Workspace()


def scratch(role: str, shape, dtype, xp):
    """A reusable uninitialised array of ``shape`` for one role ("cols", "gy2", ...).

    Never returned to the user and never kept across calls: each Function uses it only inside one
    forward or one backward.
    """
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    key = (role, xp.__name__) if xp is np else (role, xp.__name__, xp.cuda.Device().id)
    buf = _ws.bufs.get(key)
    if buf is None or buf.nbytes < nbytes:
        buf = xp.empty(max(nbytes, 1), dtype=np.uint8)
        _ws.bufs[key] = buf
    return buf[:nbytes].view(dtype).reshape(shape)


def release_workspace() -> None:
    """Free this thread's conv/pool scratch buffers (they are reallocated on the next call)."""
    _ws.bufs.clear()


# ---------------------------------------------------------------------------------------------
# im2col / col2im on raw arrays
# ---------------------------------------------------------------------------------------------
def pad_array(x, g: Geom, value=0.0, role: str | None = "xpad"):
    """x (N, C, H, W) padded on the spatial dims as ``g`` says (no copy when there is no padding).

    With a ``role`` the result is a scratch buffer (only its borders are filled, then the interior
    copied): callers must consume it before the next call that pads with the same role. ``np.pad``
    is several times slower and allocates.
    """
    if not (g.pt or g.pb or g.pl or g.pr):
        return x
    xp = xp_of(x)
    n, c, h, w = x.shape
    shape = (n, c, h + g.pt + g.pb, w + g.pl + g.pr)
    out = xp.empty(shape, dtype=x.dtype) if role is None else scratch(role, shape, x.dtype, xp)
    out[:, :, :g.pt] = value
    out[:, :, g.pt + h:] = value
    out[:, :, g.pt:g.pt + h, :g.pl] = value
    out[:, :, g.pt:g.pt + h, g.pl + w:] = value
    out[:, :, g.pt:g.pt + h, g.pl:g.pl + w] = x
    return out


def window_view(xpad, g: Geom):
    """The receptive fields of the padded input as a strided *view* (no copy), in the im2col layout
    (C, KH, KW, N, OH, OW): element [c, u, v, n, i, j] = xpad[n, c, i*sh + u*dh, j*sw + v*dw]."""
    sn, sc, sh, sw = xpad.strides
    as_strided = xp_of(xpad).lib.stride_tricks.as_strided
    n, c = xpad.shape[:2]
    return as_strided(xpad, (c, g.kh, g.kw, n, g.oh, g.ow),
                      (sc, g.dh * sh, g.dw * sw, sn, g.sh * sh, g.sw * sw))


def im2col_array(x, g: Geom, out=None):
    """x (N, C, H, W) -> cols (C, KH, KW, N, OH, OW), C-contiguous (written into ``out`` if given)."""
    v = window_view(pad_array(x, g), g)
    if out is None:
        return v.copy()
    xp_of(x).copyto(out, v)
    return out


def col2im_array(cols, g: Geom, n: int, c: int):
    """The adjoint of ``im2col_array``: cols (C*KH*KW, N*OH*OW) -> x (N, C, H, W), C-contiguous.

    Every column is added back into its receptive field: one strided slice-add per kernel offset.
    Accumulating in (C, N, H, W) order reads ``cols`` contiguously; one final transposed copy makes NCHW.
    """
    xp = xp_of(cols)
    c6 = cols.reshape(c, g.kh, g.kw, n, g.oh, g.ow)
    hp, wp = g.h + g.pt + g.pb, g.w + g.pl + g.pr
    acc = xp.zeros((c, n, hp, wp), dtype=cols.dtype)
    he, we = g.sh * (g.oh - 1) + 1, g.sw * (g.ow - 1) + 1
    for u in range(g.kh):
        for v in range(g.kw):
            i0, j0 = u * g.dh, v * g.dw
            acc[:, :, i0:i0 + he:g.sh, j0:j0 + we:g.sw] += c6[:, u, v]
    core = acc[:, :, g.pt:g.pt + g.h, g.pl:g.pl + g.w]
    return xp.ascontiguousarray(core.transpose(1, 0, 2, 3))


class Im2col(Function):
    """cols = im2col(x): x (N, C, H, W) -> (C*KH*KW, N*OH*OW);  gx = col2im(gcols).

    Linear, and ``Col2im`` is its adjoint: the backward of each is the other, so both are
    differentiable to any order.
    """

    @staticmethod
    def forward(ctx, x, g):
        ctx.g, ctx.n, ctx.c = g, x.shape[0], x.shape[1]
        cols = im2col_array(x, g)
        return cols.reshape(x.shape[1] * g.kh * g.kw, x.shape[0] * g.oh * g.ow)

    @staticmethod
    def backward(ctx, gcols):
        return Col2im.apply(gcols, ctx.g, ctx.n, ctx.c), None


class Col2im(Function):
    """x = col2im(cols): (C*KH*KW, N*OH*OW) -> (N, C, H, W), overlapping windows summed;
    gcols = im2col(gx)."""

    @staticmethod
    def forward(ctx, cols, g, n, c):
        ctx.g = g
        return col2im_array(cols, g, n, c)

    @staticmethod
    def backward(ctx, gx):
        return Im2col.apply(gx, ctx.g), None, None, None


# ---------------------------------------------------------------------------------------------
# fused convolution
# ---------------------------------------------------------------------------------------------
class Conv2d(Function):
    """y = conv2d(x, W) + b, one GEMM: y2 (G, OC/G, N*L) = W (G, OC/G, C/G*KK) @ cols (G, C/G*KK, N*L).

    x (N, C, H, W), W (OC, C/G, KH, KW), b (OC,) or None -> y (N, OC, OH, OW).
    gW = gy2 @ cols^T,  gx = col2im(W^T @ gy2),  gb = sum of gy over (N, OH, OW).
    """

    @staticmethod
    def forward(ctx, x, W, b, g, groups):
        xp = xp_of(x)
        n, c = x.shape[:2]
        oc, kk, L = W.shape[0], g.kh * g.kw, g.oh * g.ow
        P = n * L
        cols = scratch("cols", (c, g.kh, g.kw, n, g.oh, g.ow), x.dtype, xp)
        im2col_array(x, g, out=cols)
        y2 = scratch("y2", (groups, oc // groups, P), x.dtype, xp)
        xp.matmul(W.reshape(groups, oc // groups, -1), cols.reshape(groups, c // groups * kk, P), out=y2)
        y = xp.empty((n, oc, g.oh, g.ow), dtype=y2.dtype)
        src = y2.reshape(oc, n, L).transpose(1, 0, 2)
        if b is None:
            xp.copyto(y.reshape(n, oc, L), src)
        else:  # the bias add rides along with the transposing copy
            xp.add(src, b.reshape(1, oc, 1), out=y.reshape(n, oc, L))
        ctx.save_for_backward(x, W)
        ctx.g, ctx.groups = g, groups
        return y

    @staticmethod
    def backward(ctx, gy):
        if _grad_state.enabled:  # create_graph=True: a backward that can be differentiated again
            return _conv2d_backward_composed(ctx, gy)
        return _conv2d_backward_fused(ctx, gy)


@once_differentiable
def _conv2d_backward_fused(ctx, gy):
    x, W = ctx.saved_arrays
    g, groups = ctx.g, ctx.groups
    need_x, need_w, need_b = ctx.needs_input_grad[:3]
    xp = xp_of(gy)
    n, c = x.shape[:2]
    oc, kk, L = W.shape[0], g.kh * g.kw, g.oh * g.ow
    P, ocg, ckk = n * L, oc // groups, c // groups * kk
    gy2 = scratch("gy2", (oc, n, g.oh, g.ow), gy.dtype, xp)          # (OC, N*L): the GEMM layout
    xp.copyto(gy2, gy.transpose(1, 0, 2, 3))
    gx = gW = gb = None
    if need_b:
        gb = gy.sum(axis=(0, 2, 3))
    cols = scratch("cols", (c, g.kh, g.kw, n, g.oh, g.ow), x.dtype, xp)
    if need_w:
        im2col_array(x, g, out=cols)   # recomputed: cheaper than keeping it (see module docstring)
        gW = xp.matmul(gy2.reshape(groups, ocg, P), cols.reshape(groups, ckk, P).transpose(0, 2, 1))
        gW = gW.reshape(W.shape)
    if need_x:
        if _transposed_geom(g) is not None:
            gx = _conv2d_input_grad_stride1(gy2, W, g, groups, n, c)
        else:
            gcols = cols.reshape(groups, ckk, P)  # reuse the buffer: cols is no longer needed
            xp.matmul(W.reshape(groups, ocg, ckk).transpose(0, 2, 1), gy2.reshape(groups, ocg, P), out=gcols)
            gx = col2im_array(gcols, g, n, c)
    return gx, gW, gb, None, None


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
    cols = scratch("cols", (oc, g.kh, g.kw, n, g.h, g.w), gy2.dtype, xp)
    im2col_array(gy2.transpose(1, 0, 2, 3), gt, out=cols)
    # Wt[g, c, (o, u, v)] = W[g*OCg + o, c, KH-1-u, KW-1-v]
    Wt = W.reshape(groups, ocg, cg, g.kh, g.kw)[:, :, :, ::-1, ::-1].transpose(0, 2, 1, 3, 4)
    gx2 = scratch("y2", (groups, cg, n * g.h * g.w), gy2.dtype, xp)       # (G, Cg, N*H*W)
    Wt = xp.ascontiguousarray(Wt).reshape(groups, cg, ocg * kk)
    xp.matmul(Wt, cols.reshape(groups, ocg * kk, -1), out=gx2)
    return xp.ascontiguousarray(gx2.reshape(c, n, g.h, g.w).transpose(1, 0, 2, 3))


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


class ConvTranspose2d(Function):
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
        x2 = scratch("gy2", (ic, n, L), x.dtype, xp)
        xp.copyto(x2, x.reshape(n, ic, L).transpose(1, 0, 2))
        cols = scratch("cols", (groups, ocg * kk, P), x.dtype, xp)
        xp.matmul(W.reshape(groups, icg, ocg * kk).transpose(0, 2, 1), x2.reshape(groups, icg, P), out=cols)
        y = col2im_array(cols, g, n, oc)
        if b is not None:
            y += b.reshape(1, oc, 1, 1)
        ctx.save_for_backward(x, W)
        ctx.g, ctx.groups = g, groups
        return y

    @staticmethod
    def backward(ctx, gy):
        if _grad_state.enabled:
            return _conv_transpose2d_backward_composed(ctx, gy)
        return _conv_transpose2d_backward_fused(ctx, gy)


@once_differentiable
def _conv_transpose2d_backward_fused(ctx, gy):
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
    gcols = scratch("cols", (oc, g.kh, g.kw, n, g.oh, g.ow), gy.dtype, xp)
    im2col_array(gy, g, out=gcols)
    gcols = gcols.reshape(groups, ocg * kk, P)
    if need_x:
        gx2 = scratch("y2", (groups, icg, P), gy.dtype, xp)
        xp.matmul(W.reshape(groups, icg, ocg * kk), gcols, out=gx2)          # (G, ICg, P)
        gx = xp.ascontiguousarray(gx2.reshape(ic, n, h, w).transpose(1, 0, 2, 3))
    if need_w:
        x2 = scratch("gy2", (ic, n, L), x.dtype, xp)
        xp.copyto(x2, x.reshape(n, ic, L).transpose(1, 0, 2))
        gW = xp.matmul(x2.reshape(groups, icg, P), gcols.transpose(0, 2, 1)).reshape(W.shape)
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
# argument checks
# ---------------------------------------------------------------------------------------------
def _as_tensor(t):
    return t if isinstance(t, Tensor) or t is None else Tensor(t)


def _check_dtypes(op, x, W, b):
    for name, t in (("weight", W), ("bias", b)):
        if t is not None and t.dtype != x.dtype:
            raise DTypeError(f"{op}: input dtype {x.dtype} and {name} dtype {t.dtype} should be the same; "
                             f"convert one with .to({x.dtype}) / .float() / .double()")
    if x.dtype.kind != "f":
        raise DTypeError(f"{op}: expects a floating point input, got dtype {x.dtype}; use .float()")


def _check_conv_args(op, x, W, b, groups, nd, transposed=False):
    """Shapes: input (N, C, *spatial) (or unbatched (C, *spatial)), weight, bias, groups."""
    if W.ndim != nd + 2:
        raise ShapeError(f"{op}: weight must have {nd + 2} dims, got shape {tuple(W.shape)}")
    if x.ndim not in (nd + 1, nd + 2):
        want = "(N, C, L)" if nd == 1 else "(N, C, H, W)"
        raise ShapeError(f"{op}: expected a {nd + 2}-D input {want} (or {nd + 1}-D unbatched), "
                         f"got shape {tuple(x.shape)}")
    if groups < 1:
        raise ValueError(f"{op}: groups must be a positive integer, got {groups}")
    c = x.shape[-nd - 1]
    if transposed:
        if W.shape[0] != c:
            raise ShapeError(f"{op}: weight of shape {tuple(W.shape)} expects an input with {W.shape[0]} "
                             f"channels, but got input of shape {tuple(x.shape)} with {c} channels")
        if c % groups:
            raise ShapeError(f"{op}: in_channels {c} is not divisible by groups={groups}")
        oc = W.shape[1] * groups
    else:
        if W.shape[1] * groups != c:
            raise ShapeError(
                f"{op}: weight of shape {tuple(W.shape)} and groups={groups} expects an input with "
                f"{W.shape[1] * groups} channels, but got input of shape {tuple(x.shape)} with {c} channels")
        if W.shape[0] % groups:
            raise ShapeError(f"{op}: out_channels {W.shape[0]} (weight shape {tuple(W.shape)}) is not "
                             f"divisible by groups={groups}")
        oc = W.shape[0]
    if b is not None and tuple(b.shape) != (oc,):
        raise ShapeError(f"{op}: bias must have shape ({oc},) (one per output channel), got {tuple(b.shape)}")


def _check_fits(op, spatial, padded, kernel, dilation, geom_out):
    if any(o <= 0 for o in geom_out):
        eff = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
        raise ShapeError(f"{op}: input spatial size {tuple(spatial)} (padded {tuple(padded)}) is smaller "
                         f"than the (dilated) kernel size {eff}; use a larger input, more padding or a "
                         "smaller kernel")


# ---------------------------------------------------------------------------------------------
# public functions
# ---------------------------------------------------------------------------------------------
def _prepare_conv2d(op, input, weight, bias, stride, padding, dilation, groups, padding_mode):
    """Normalise arguments; non-zero padding modes pad explicitly (differentiably) first."""
    x, W, b = _as_tensor(input), _as_tensor(weight), _as_tensor(bias)
    _check_conv_args(op, x, W, b, groups, 2)
    _check_dtypes(op, x, W, b)
    unbatched = x.ndim == 3
    if unbatched:
        x = x.reshape((1,) + x.shape)
    stride = _pair(stride, "stride", op)
    dilation = _pair(dilation, "dilation", op)
    kernel = tuple(W.shape[2:])
    if any(s < 1 for s in stride) or any(d < 1 for d in dilation):
        raise ValueError(f"{op}: stride {stride} and dilation {dilation} must be positive")
    pads = _conv_padding(padding, kernel, stride, dilation, 2, op)   # (top, bottom, left, right)
    if padding_mode != "zeros" and any(pads):
        if padding_mode not in ("reflect", "replicate", "circular"):
            raise ValueError(f"{op}: padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular', "
                             f"got {padding_mode!r}")
        x = _pad(x, (pads[2], pads[3], pads[0], pads[1]), mode=padding_mode)
        pads = (0, 0, 0, 0)
    h, w = x.shape[2:]
    g = make_geom(h, w, kernel, stride, dilation, pads)
    _check_fits(op, (h, w), (h + pads[0] + pads[1], w + pads[2] + pads[3]), kernel, dilation, (g.oh, g.ow))
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
    y = Conv2d.apply(x, W, b, g, groups)
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
    x, W = _as_tensor(input), _as_tensor(weight)
    _check_conv_args("conv1d", x, W, _as_tensor(bias), groups, 1)
    stride = _ntuple(stride, 1, "stride", "conv1d")
    dilation = _ntuple(dilation, 1, "dilation", "conv1d")
    if not isinstance(padding, str):
        padding = (0,) + _ntuple(padding, 1, "padding", "conv1d")
    y = conv2d(x.unsqueeze(-2), W.unsqueeze(-2), bias, (1,) + stride, padding, (1,) + dilation, groups,
               padding_mode=padding_mode)
    return y.squeeze(-2)


def _prepare_conv_transpose2d(op, input, weight, bias, stride, padding, output_padding, groups, dilation):
    x, W, b = _as_tensor(input), _as_tensor(weight), _as_tensor(bias)
    _check_conv_args(op, x, W, b, groups, 2, transposed=True)
    _check_dtypes(op, x, W, b)
    unbatched = x.ndim == 3
    if unbatched:
        x = x.reshape((1,) + x.shape)
    stride = _pair(stride, "stride", op)
    dilation = _pair(dilation, "dilation", op)
    ph, pw = _pair(padding, "padding", op)
    oph, opw = _pair(output_padding, "output_padding", op)
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
    x, W = _as_tensor(input), _as_tensor(weight)
    _check_conv_args("conv_transpose1d", x, W, _as_tensor(bias), groups, 1, transposed=True)

    def lead(v, name, first):  # the height-1 dimension gets stride/dilation 1 and no padding
        return (first,) + _ntuple(v, 1, name, "conv_transpose1d")

    y = conv_transpose2d(x.unsqueeze(-2), W.unsqueeze(-2), bias, lead(stride, "stride", 1),
                         lead(padding, "padding", 0), lead(output_padding, "output_padding", 0), groups,
                         lead(dilation, "dilation", 1))
    return y.squeeze(-2)


# ---------------------------------------------------------------------------------------------
# unfold / fold (PyTorch layout (N, C*KH*KW, L))
# ---------------------------------------------------------------------------------------------
def unfold(input, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:  # noqa: A002
    """im2col as a public function: (N, C, H, W) -> (N, C*KH*KW, L), L = OH*OW (PyTorch's layout:
    row c*KH*KW + u*KW + v of column l holds x[c, oh*s + u*d - p, ow*s + v*d - p])."""
    x = _as_tensor(input)
    unbatched = x.ndim == 3
    if unbatched:
        x = x.reshape((1,) + x.shape)
    if x.ndim != 4:
        raise ShapeError(f"unfold: expected a 4-D input (N, C, H, W), got shape {tuple(x.shape)}")
    kernel = _pair(kernel_size, "kernel_size", "unfold")
    stride, dilation = _pair(stride, "stride", "unfold"), _pair(dilation, "dilation", "unfold")
    ph, pw = _pair(padding, "padding", "unfold")
    n, c, h, w = x.shape
    g = make_geom(h, w, kernel, stride, dilation, (ph, ph, pw, pw))
    _check_fits("unfold", (h, w), (h + 2 * ph, w + 2 * pw), kernel, dilation, (g.oh, g.ow))
    cols = Im2col.apply(x, g).reshape(c * g.kh * g.kw, n, g.oh * g.ow).permute(1, 0, 2)
    return cols.reshape(cols.shape[1:]) if unbatched else cols


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:  # noqa: A002
    """col2im, the adjoint of ``unfold``: (N, C*KH*KW, L) -> (N, C, H, W), overlapping values summed."""
    cols = _as_tensor(input)
    unbatched = cols.ndim == 2
    if unbatched:
        cols = cols.reshape((1,) + cols.shape)
    if cols.ndim != 3:
        raise ShapeError(f"fold: expected a 3-D input (N, C*KH*KW, L), got shape {tuple(cols.shape)}")
    kernel = _pair(kernel_size, "kernel_size", "fold")
    stride, dilation = _pair(stride, "stride", "fold"), _pair(dilation, "dilation", "fold")
    ph, pw = _pair(padding, "padding", "fold")
    h, w = _pair(output_size, "output_size", "fold")
    n, ckk, L = cols.shape
    kk = kernel[0] * kernel[1]
    g = make_geom(h, w, kernel, stride, dilation, (ph, ph, pw, pw))
    if ckk % kk:
        raise ShapeError(f"fold: input dim 1 ({ckk}) must be divisible by the kernel size product {kk}")
    if g.oh * g.ow != L:
        raise ShapeError(f"fold: expected {g.oh * g.ow} blocks ({g.oh} x {g.ow}) for output_size {(h, w)}, "
                         f"kernel {kernel}, stride {stride}, padding {(ph, pw)}, dilation {dilation}; "
                         f"got L={L}")
    c2 = cols.permute(1, 0, 2).reshape(ckk, n * L)
    y = Col2im.apply(c2, g, n, ckk // kk)
    return y.reshape(y.shape[1:]) if unbatched else y


# ---------------------------------------------------------------------------------------------
# locally connected
# ---------------------------------------------------------------------------------------------
def locally_connected2d(input, weight, bias=None, kernel_size=None, stride=1, padding=0,  # noqa: A002
                        dilation=1) -> Tensor:
    """A convolution whose filters are NOT shared across positions (the middle ground between a
    fully connected and a convolutional layer; PyTorch has no such op).

        y[n, o, i, j] = b[o, i, j] + sum_k W[i, j, o, k] * cols[n, k, i, j]

    input (N, C, H, W); weight (OH, OW, OC, C*KH*KW) (one OC x C*KH*KW filter bank per output
    position, columns ordered c*KH*KW + u*KW + v like ``unfold``); bias (OC, OH, OW) or None ->
    (N, OC, OH, OW). ``kernel_size`` is required (it cannot be read off the weight's shape).
    The OH*OW small GEMMs run as one batched matmul; the gradient comes from autograd.
    """
    x, W, b = _as_tensor(input), _as_tensor(weight), _as_tensor(bias)
    if kernel_size is None:
        raise ValueError("locally_connected2d: kernel_size is required")
    if x.ndim != 4 or W.ndim != 4:
        raise ShapeError("locally_connected2d: expected input (N, C, H, W) and weight "
                         f"(OH, OW, OC, C*KH*KW), got shapes {tuple(x.shape)} and {tuple(W.shape)}")
    _check_dtypes("locally_connected2d", x, W, b)
    kernel = _pair(kernel_size, "kernel_size", "locally_connected2d")
    stride = _pair(stride, "stride", "locally_connected2d")
    dilation = _pair(dilation, "dilation", "locally_connected2d")
    ph, pw = _pair(padding, "padding", "locally_connected2d")
    n, c, h, w = x.shape
    g = make_geom(h, w, kernel, stride, dilation, (ph, ph, pw, pw))
    _check_fits("locally_connected2d", (h, w), (h + 2 * ph, w + 2 * pw), kernel, dilation, (g.oh, g.ow))
    ckk = c * g.kh * g.kw
    if W.shape[0] != g.oh or W.shape[1] != g.ow or W.shape[3] != ckk:
        raise ShapeError(f"locally_connected2d: weight shape {tuple(W.shape)} does not match input "
                         f"{tuple(x.shape)} with kernel {kernel}: expected ({g.oh}, {g.ow}, OC, {ckk})")
    oc = W.shape[2]
    L = g.oh * g.ow
    cols = Im2col.apply(x, g).reshape(ckk, n, L).permute(2, 1, 0)       # (L, N, C*KK)
    y = matmul(cols, W.reshape(L, oc, ckk).transpose(1, 2))              # (L, N, OC)
    y = y.permute(1, 2, 0).reshape(n, oc, g.oh, g.ow)
    if b is not None:
        if tuple(b.shape) != (oc, g.oh, g.ow):
            raise ShapeError(f"locally_connected2d: bias must have shape {(oc, g.oh, g.ow)}, got "
                             f"{tuple(b.shape)}")
        y = y + b
    return y
