"""Patches: ``unfold`` / ``fold`` (im2col / col2im as public functions, PyTorch's (N, C*KH*KW, L) layout) and
``locally_connected2d`` (a convolution whose filters are not shared across positions), all built on
the differentiable ``Im2col`` / ``Col2im`` of ``functional/window.py``.
"""
from __future__ import annotations

from ..errors import ShapeError
from ..ops.matmul import matmul
from ..tensor import Tensor
from .window import Col2im, Im2col, as_tensor, check_fits, check_float_dtypes, make_geom, pair

__all__ = ["unfold", "fold", "locally_connected2d"]


# ---------------------------------------------------------------------------------------------
# unfold / fold (PyTorch layout (N, C*KH*KW, L))
# ---------------------------------------------------------------------------------------------
def unfold(input, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:  # noqa: A002
    """im2col as a public function: (N, C, H, W) -> (N, C*KH*KW, L), L = OH*OW (PyTorch's layout:
    row c*KH*KW + u*KW + v of column l holds x[c, oh*s + u*d - p, ow*s + v*d - p])."""
    x = as_tensor(input)
    unbatched = x.ndim == 3
    if unbatched:
        x = x.reshape((1,) + x.shape)
    if x.ndim != 4:
        raise ShapeError(f"unfold: expected a 4-D input (N, C, H, W), got shape {tuple(x.shape)}")
    kernel = pair(kernel_size, "kernel_size", "unfold")
    stride, dilation = pair(stride, "stride", "unfold"), pair(dilation, "dilation", "unfold")
    ph, pw = pair(padding, "padding", "unfold")
    n, c, h, w = x.shape
    g = make_geom(h, w, kernel, stride, dilation, (ph, ph, pw, pw))
    check_fits("unfold", (h, w), (h + 2 * ph, w + 2 * pw), kernel, dilation, (g.oh, g.ow))
    cols = Im2col.apply(x, g).reshape(c * g.kh * g.kw, n, g.oh * g.ow).permute(1, 0, 2)
    return cols.reshape(cols.shape[1:]) if unbatched else cols


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:  # noqa: A002
    """col2im, the adjoint of ``unfold``: (N, C*KH*KW, L) -> (N, C, H, W), overlapping values summed."""
    cols = as_tensor(input)
    unbatched = cols.ndim == 2
    if unbatched:
        cols = cols.reshape((1,) + cols.shape)
    if cols.ndim != 3:
        raise ShapeError(f"fold: expected a 3-D input (N, C*KH*KW, L), got shape {tuple(cols.shape)}")
    kernel = pair(kernel_size, "kernel_size", "fold")
    stride, dilation = pair(stride, "stride", "fold"), pair(dilation, "dilation", "fold")
    ph, pw = pair(padding, "padding", "fold")
    h, w = pair(output_size, "output_size", "fold")
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
    x, W, b = as_tensor(input), as_tensor(weight), as_tensor(bias)
    if kernel_size is None:
        raise ValueError("locally_connected2d: kernel_size is required")
    if x.ndim != 4 or W.ndim != 4:
        raise ShapeError("locally_connected2d: expected input (N, C, H, W) and weight "
                         f"(OH, OW, OC, C*KH*KW), got shapes {tuple(x.shape)} and {tuple(W.shape)}")
    check_float_dtypes("locally_connected2d", x, W, b)
    kernel = pair(kernel_size, "kernel_size", "locally_connected2d")
    stride = pair(stride, "stride", "locally_connected2d")
    dilation = pair(dilation, "dilation", "locally_connected2d")
    ph, pw = pair(padding, "padding", "locally_connected2d")
    n, c, h, w = x.shape
    g = make_geom(h, w, kernel, stride, dilation, (ph, ph, pw, pw))
    check_fits("locally_connected2d", (h, w), (h + 2 * ph, w + 2 * pw), kernel, dilation, (g.oh, g.ow))
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
