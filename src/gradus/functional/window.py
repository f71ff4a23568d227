"""Sliding windows, shared by convolution, pooling, ``unfold``/``fold`` and locally connected layers:
argument normalisation, the window geometry (``Geom``), padding, im2col/col2im on raw arrays (and as
the differentiable ``Im2col``/``Col2im`` Functions) and the scratch workspace; the same machinery for
any number of spatial dims (``GeomN``, ``im2col_nd_array``, ``Im2colNd``/``Col2imNd``, ``window_taps``)
for the 3-D convolutions and pools (``convnd.py``, ``poolnd.py``) and unpooling.

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
is consumed within one forward or backward, never returned (the rule is written at the role
constants below). ``release_workspace()`` frees them.
"""
from __future__ import annotations

import threading
from typing import NamedTuple

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..errors import DTypeError, ShapeError
from ..tensor import Tensor

xp_of = backend.get_array_module


# ---------------------------------------------------------------------------------------------
# argument normalisation
# ---------------------------------------------------------------------------------------------
def ntuple(v, n: int, name: str, op: str) -> tuple:
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


def pair(v, name="argument", op="conv2d") -> tuple:
    """``ntuple(v, 2, ...)``."""
    return ntuple(v, 2, name, op)


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


def conv_padding(padding, kernel, stride, dilation, nd: int, op: str) -> tuple:
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
    p = ntuple(padding, nd, "padding", op)
    if any(v < 0 for v in p):
        raise ValueError(f"{op}: negative padding {p} is not supported")
    out = []
    for v in p:
        out += [v, v]
    return tuple(out)



# ---------------------------------------------------------------------------------------------
# scratch workspace
# ---------------------------------------------------------------------------------------------
# Scratch roles. The reuse rule: a role's buffer holds ONE value at a time. Whoever fills it consumes
# it before anything else fills the same role, within one forward or one backward call, and never
# returns it to the caller or keeps it on ctx. Two values alive at the same time need two roles.
COLS = "cols"           # an im2col matrix (C*KH*KW, N*OH*OW) (or the GEMM output written over it)
GEMM_OUT = "y2"         # a GEMM result before its transposing copy into NCHW
GEMM_IN = "gy2"         # an NCHW array copied into the (C, N*L) layout a GEMM reads
PADDED = "xpad"         # the padded input that im2col reads (filled by pad_array)
GRID = "grid"           # a GEMM operand laid out over the padded grid (``padded_grid_array``)


class _Workspace(threading.local):
    def __init__(self):
        self.bufs = {}


_ws = _Workspace()


def scratch(role: str, shape, dtype, xp):
    """A reusable uninitialised array of ``shape`` for one ``role`` (``COLS``, ``GEMM_IN``, ...).

    Never returned to the user and never kept across calls: each Function uses it only inside one
    forward or one backward (the reuse rule above).
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
def pad_array(x, g: Geom, value=0.0, role: str | None = PADDED):
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


PIXEL_CHUNK = 2048   # pixels per partial product in ``pixel_sum_product`` (measured: 2048-4096 best)


def pixel_sum_product(a, b):
    """(G, M, N) = a (G, M, P) @ b (G, N, P)^T, a sum over the P = N*OH*OW pixels: the weight gradient
    of a lowered convolution (gy2 @ cols^T, or x2 @ gcols^T for the transposed one).

    Why not ``a @ b^T`` as written: OpenBLAS is 1.4-2.3x slower on these long-K products when the
    result's row count is the smaller of M and N (measured for LeNet-5's (6 x 25) and (16 x 150)
    and ResNet-20's (16 x 27) .. (64 x 576) weight gradients; the channels-last lowering's
    ``cols^T @ gy2`` already has its larger side first). So the product is taken with the larger side
    as rows and transposed back (a small copy). With at most 64 rows and columns it is also summed in
    slices of ``PIXEL_CHUNK`` pixels: (6 x 25) over 50,176 pixels 0.86 -> 0.42 ms.
    """
    xp = xp_of(a)
    M, N, P = a.shape[1], b.shape[1], a.shape[2]
    rows, other = (a, b) if M >= N else (b, a)
    if max(M, N) <= 64 and P > 2 * PIXEL_CHUNK:
        out = xp.matmul(rows[:, :, :PIXEL_CHUNK], other[:, :, :PIXEL_CHUNK].transpose(0, 2, 1))
        for s in range(PIXEL_CHUNK, P, PIXEL_CHUNK):
            out += xp.matmul(rows[:, :, s:s + PIXEL_CHUNK], other[:, :, s:s + PIXEL_CHUNK].transpose(0, 2, 1))
    else:
        out = xp.matmul(rows, other.transpose(0, 2, 1))
    return out if M >= N else xp.ascontiguousarray(out.transpose(0, 2, 1))


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


def padded_grid_array(a, g: Geom, role: str = GRID):
    """a (C, N, OH, OW), any strides -> (C, N*HP*WP): each image's (OH, OW) values in the top-left
    corner of its padded (HP, WP) plane, zeros elsewhere (stride 1: OH <= HP, OW <= WP). A scratch
    buffer of ``role``. The columns that ``col2im_flat_array`` reads are a GEMM of this."""
    xp = xp_of(a)
    c, n = a.shape[:2]
    hp, wp = g.h + g.pt + g.pb, g.w + g.pl + g.pr
    out = scratch(role, (c, n, hp, wp), a.dtype, xp)
    out[:, :, g.oh:] = 0
    out[:, :, :g.oh, g.ow:] = 0
    out[:, :, :g.oh, :g.ow] = a
    return out.reshape(c, n * hp * wp)


def col2im_flat_array(cols, g: Geom, n: int, c: int):
    """``col2im_array`` for a stride-1 geometry, from columns over the padded grid:
    cols (C*KH*KW, N*HP*WP) -> x (N, C, H, W), C-contiguous.

    Why: with stride 1 the input pixel of output (i, j) and tap (u, v) sits at flat offset
    p + u*dh*WP + v*dw of the padded planes, p = (n*HP + i)*WP + j. Over the padded grid every tap is
    then ONE contiguous shifted add of N*HP*WP elements for all channels, where ``col2im_array`` adds
    (N*OH) runs of OW pixels per tap (LeNet-5's conv2: runs of 10). The grid's extra positions
    (i >= OH or j >= OW) hold zeros (``padded_grid_array``), so what they add, also across row and
    image boundaries, is zero; each pixel sums its taps in the same (u, v) order as ``col2im_array``
    (the same bits; with a non-finite weight the extra positions carry its NaN to more pixels,
    whose gradient is then NaN rather than partly finite). Measured 1.3-2.1x faster for the input
    gradient GEMM + col2im of LeNet-5's and 3x3 convs at batch 64, although the GEMM covers HP*WP
    instead of OH*OW pixels per image.
    """
    xp = xp_of(cols)
    hp, wp = g.h + g.pt + g.pb, g.w + g.pl + g.pr
    size = n * hp * wp
    c4 = cols.reshape(c, g.kh, g.kw, size)
    tail = (g.kh - 1) * g.dh * wp + (g.kw - 1) * g.dw     # the last taps reach past the last plane
    acc = scratch(PADDED, (c, size + tail), cols.dtype, xp)
    acc.fill(0)
    for u in range(g.kh):
        for v in range(g.kw):
            off = u * g.dh * wp + v * g.dw
            acc[:, off:off + size] += c4[:, u, v]
    core = acc[:, :size].reshape(c, n, hp, wp)[:, :, g.pt:g.pt + g.h, g.pl:g.pl + g.w]
    out = xp.empty((n, c, g.h, g.w), dtype=cols.dtype)   # always a copy: acc is a scratch buffer
    xp.copyto(out, core.transpose(1, 0, 2, 3))
    return out


# ---------------------------------------------------------------------------------------------
# channels-last im2col (the lowering of conv2d when it pays: see functional/conv.py)
# ---------------------------------------------------------------------------------------------
def pad_nhwc(x, pads, role: str = PADDED):
    """x as an (N, H, W, C) array padded with zeros by ``pads`` = (top, bottom, left, right): a
    scratch buffer of ``role`` (the reuse rule above). ``x`` is an NCHW array of any strides; its
    channels-last view is copied into the interior (a plain copy when x has channels-last strides).
    Without padding, the channels-last view itself (no copy)."""
    pt, pb, pl, pr = pads
    xv = x.transpose(0, 2, 3, 1)
    if not (pt or pb or pl or pr):
        return xv
    n, h, w, c = xv.shape
    out = scratch(role, (n, h + pt + pb, w + pl + pr, c), x.dtype, xp_of(x))
    out[:, :pt] = 0
    out[:, pt + h:] = 0
    out[:, pt:pt + h, :pl] = 0
    out[:, pt:pt + h, pl + w:] = 0
    out[:, pt:pt + h, pl:pl + w] = xv
    return out


def im2col_nhwc_array(x, g: Geom, out):
    """x (N, C, H, W), any strides -> ``out`` (N, OH, OW, KH, KW, C) = the receptive fields in rows:
    out[n, i, j, u, v, c] = xpad[n, i*sh + u*dh, j*sw + v*dw, c]. Each row of the (N*OH*OW, KH*KW*C)
    matrix is KH runs of KW*C contiguous elements (stride-1 dilation), where the NCHW layout copies
    runs of OW: measured 2-6x faster for 16-64 channels at 8-32 pixels."""
    xpad = pad_nhwc(x, (g.pt, g.pb, g.pl, g.pr))
    sn, sh, sw, sc = xpad.strides
    view = xp_of(x).lib.stride_tricks.as_strided(
        xpad, (x.shape[0], g.oh, g.ow, g.kh, g.kw, x.shape[1]),
        (sn, g.sh * sh, g.sw * sw, g.dh * sh, g.dw * sw, sc))
    xp_of(x).copyto(out, view)
    return out


def col2im_nhwc_array(cols, g: Geom, n: int, c: int):
    """The adjoint of ``im2col_nhwc_array``: cols (N, OH, OW, KH, KW, C) -> x (N, H, W, C), contiguous
    (overlapping windows summed: one strided slice-add per kernel tap)."""
    xp = xp_of(cols)
    acc = xp.zeros((n, g.h + g.pt + g.pb, g.w + g.pl + g.pr, c), dtype=cols.dtype)
    he, we = g.sh * (g.oh - 1) + 1, g.sw * (g.ow - 1) + 1
    for u in range(g.kh):
        for v in range(g.kw):
            i0, j0 = u * g.dh, v * g.dw
            acc[:, i0:i0 + he:g.sh, j0:j0 + we:g.sw] += cols[:, :, :, u, v]
    if g.pt or g.pb or g.pl or g.pr:
        return xp.ascontiguousarray(acc[:, g.pt:g.pt + g.h, g.pl:g.pl + g.w])
    return acc


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
# N-D windows (3-D convolution, pooling and unpooling)
# ---------------------------------------------------------------------------------------------
# The same machinery for any number of spatial dims, with per-axis tuples instead of named fields.
# The 2-D code above keeps its own (measured, hot) path; the N-D functions below are checked against
# it in the tests (a 2-D convolution run through them gives the same numbers).
class GeomN(NamedTuple):
    """The geometry of an N-D sliding window; one entry per spatial axis: kernel, stride, dilation,
    padding before (``lo``) and after (``hi``), the input's (unpadded) size and the number of window
    positions (``out``)."""

    k: tuple
    s: tuple
    d: tuple
    lo: tuple
    hi: tuple
    size: tuple
    out: tuple

    @property
    def nd(self) -> int:
        return len(self.k)

    @property
    def kk(self) -> int:
        """Taps per window: prod(k)."""
        return int(np.prod(self.k))

    @property
    def L(self) -> int:
        """Window positions: prod(out)."""
        return int(np.prod(self.out))

    @property
    def padded(self) -> tuple:
        return tuple(n + a + b for n, a, b in zip(self.size, self.lo, self.hi))


def make_geom_nd(size, kernel, stride, dilation, lo, hi, ceil_mode=False, out=None) -> GeomN:
    """Geometry for an input of spatial ``size``; ``out`` forces the number of window positions."""
    if out is None:
        out = tuple(out_size(n, k, s, d, a, b, ceil_mode)
                    for n, k, s, d, a, b in zip(size, kernel, stride, dilation, lo, hi))
    # windows that run past the end (ceil_mode) need that much more padding to be read
    hi = tuple(max(b, (o - 1) * s + d * (k - 1) + 1 - n - a)
               for b, o, s, d, k, n, a in zip(hi, out, stride, dilation, kernel, size, lo))
    return GeomN(tuple(kernel), tuple(stride), tuple(dilation), tuple(lo), hi, tuple(size), tuple(out))


def pad_array_nd(x, g: GeomN, value=0.0, role: str | None = PADDED):
    """x ``(N, C, *size)`` padded on the spatial dims as ``g`` says (no copy without padding); with a
    ``role`` the result is that scratch buffer (the reuse rule above)."""
    if not (any(g.lo) or any(g.hi)):
        return x
    xp = xp_of(x)
    shape = x.shape[:2] + g.padded
    out = xp.empty(shape, dtype=x.dtype) if role is None else scratch(role, shape, x.dtype, xp)
    lead = (slice(None), slice(None))
    for ax, (n, a) in enumerate(zip(g.size, g.lo)):   # the borders only, axis by axis
        before = (slice(None),) * ax
        out[lead + before + (slice(0, a),)] = value
        out[lead + before + (slice(a + n, None),)] = value
    out[lead + tuple(slice(a, a + n) for n, a in zip(g.size, g.lo))] = x
    return out


def window_view_nd(xpad, g: GeomN):
    """The receptive fields of the padded input as a strided view in the im2col layout
    ``(C, *k, N, *out)``: element ``[c, *u, n, *i] = xpad[n, c, *(i*s + u*d)]``."""
    sn, sc, *ss = xpad.strides
    n, c = xpad.shape[:2]
    as_strided = xp_of(xpad).lib.stride_tricks.as_strided
    tap_strides = tuple(d * t for d, t in zip(g.d, ss))
    pos_strides = tuple(s * t for s, t in zip(g.s, ss))
    return as_strided(xpad, (c,) + g.k + (n,) + g.out, (sc,) + tap_strides + (sn,) + pos_strides)


def im2col_nd_array(x, g: GeomN, out=None):
    """x ``(N, C, *size)`` -> cols ``(C, *k, N, *out)``, C-contiguous (written into ``out`` if given)."""
    v = window_view_nd(pad_array_nd(x, g), g)
    if out is None:
        return v.copy()
    xp_of(x).copyto(out, v)
    return out


def window_taps(g: GeomN):
    """(t, slices) for each kernel offset in window order (t = the flat offset in the kernel): the
    slices of the padded input ``(N, C, *padded)`` holding that tap of every window (prod(out) elements).
    A loop over the prod(k) kernel offsets only; each step is one strided view of the whole batch."""
    for t, u in enumerate(np.ndindex(*g.k)):
        yield t, (slice(None), slice(None)) + tuple(
            slice(ui * d, ui * d + s * (o - 1) + 1, s) for ui, d, s, o in zip(u, g.d, g.s, g.out))


def col2im_nd_array(cols, g: GeomN, n: int, c: int):
    """The adjoint of ``im2col_nd_array``: cols (C*KK, N*L) -> x ``(N, C, *size)``, C-contiguous, a new
    array. Every column is added back into its receptive field, one strided slice-add per kernel offset
    (accumulated in (C, N, ...) order, which reads ``cols`` contiguously)."""
    xp = xp_of(cols)
    cv = cols.reshape((c, g.kk, n) + g.out)
    acc = xp.zeros((c, n) + g.padded, dtype=cols.dtype)
    for t, sl in window_taps(g):
        acc[sl] += cv[:, t]
    core = acc[(slice(None), slice(None)) + tuple(slice(a, a + m) for m, a in zip(g.size, g.lo))]
    return nc_swap_copy(core)


def nc_swap_copy(a):
    """A fresh C-contiguous copy of ``a`` with its first two axes swapped ((C, N, ...) -> (N, C, ...)).
    Always a copy (see ``conv._nchw_copy``: a gradient must never be a view of a scratch buffer)."""
    xp = xp_of(a)
    out = xp.empty((a.shape[1], a.shape[0]) + a.shape[2:], dtype=a.dtype)
    xp.copyto(out, xp.swapaxes(a, 0, 1))
    return out


class Im2colNd(Function):
    """cols = im2col(x): x ``(N, C, *size)`` -> (C*KK, N*L);  gx = col2im(gcols). ``Col2imNd`` is its
    adjoint: each is the other's backward, so both are differentiable to any order."""

    @staticmethod
    def forward(ctx, x, g):
        ctx.g, ctx.n, ctx.c = g, x.shape[0], x.shape[1]
        return im2col_nd_array(x, g).reshape(x.shape[1] * g.kk, x.shape[0] * g.L)

    @staticmethod
    def backward(ctx, gcols):
        return Col2imNd.apply(gcols, ctx.g, ctx.n, ctx.c), None


class Col2imNd(Function):
    """x = col2im(cols): (C*KK, N*L) -> ``(N, C, *size)``, overlapping windows summed; gcols = im2col(gx)."""

    @staticmethod
    def forward(ctx, cols, g, n, c):
        ctx.g = g
        return col2im_nd_array(cols, g, n, c)

    @staticmethod
    def backward(ctx, gx):
        return Im2colNd.apply(gx, ctx.g), None, None, None


# ---------------------------------------------------------------------------------------------
# shared argument checks
# ---------------------------------------------------------------------------------------------
def as_tensor(t):
    """A Tensor (or None) from a Tensor, array or None."""
    return t if isinstance(t, Tensor) or t is None else Tensor(t)


def check_float_dtypes(op, x, W, b):
    """The input is floating point and the weight / bias (if any) have its dtype."""
    for name, t in (("weight", W), ("bias", b)):
        if t is not None and t.dtype != x.dtype:
            raise DTypeError(f"{op}: input dtype {x.dtype} and {name} dtype {t.dtype} should be the same; "
                             f"convert one with .to({x.dtype}) / .float() / .double()")
    if x.dtype.kind != "f":
        raise DTypeError(f"{op}: expects a floating point input, got dtype {x.dtype}; use .float()")


def check_fits(op, spatial, padded, kernel, dilation, geom_out):
    """A clear error when the (padded) input is smaller than the (dilated) kernel."""
    if any(o <= 0 for o in geom_out):
        eff = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
        raise ShapeError(f"{op}: input spatial size {tuple(spatial)} (padded {tuple(padded)}) is smaller "
                         f"than the (dilated) kernel size {eff}; use a larger input, more padding or a "
                         "smaller kernel")


def check_conv_args(op, x, W, b, groups, nd, transposed=False):
    """Shapes: input ``(N, C, *spatial)`` (or unbatched ``(C, *spatial)``), weight, bias, groups."""
    if W.ndim != nd + 2:
        raise ShapeError(f"{op}: weight must have {nd + 2} dims, got shape {tuple(W.shape)}")
    if x.ndim not in (nd + 1, nd + 2):
        want = {1: "(N, C, L)", 2: "(N, C, H, W)", 3: "(N, C, D, H, W)"}[nd]
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
