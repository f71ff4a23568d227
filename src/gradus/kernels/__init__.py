"""Optional compiled kernels for the hot elementwise chains (numba), with NumPy as the fallback.

The ops keep their NumPy code; where a chain of NumPy passes is hot (GELU, the attention softmax,
layer norm, batch norm, an LSTM step's gate math, the Adam and SGD-momentum updates, the max-pool
and ReLU backward) they first offer the work to a kernel here::

    y = kernels.gelu(x, approximate)          # None: not taken, run the NumPy code
    if y is None:
        ...                                   # the NumPy formula, unchanged

A kernel is taken when numba is installed (``pip install "gradus[fast]"``), the arrays are NumPy
(not CuPy) float32/float64, C-contiguous (ReLU's backward: dense in any axis order), and large
enough that one compiled loop beats NumPy's passes (``min_size`` elements; tiny tensors keep
NumPy's lower call overhead). Each kernel is one
vectorised loop on the calling thread (why not numba's thread pool: ``_compiled``) computing the
same formula as its NumPy twin; the two are tested against each other (tests/kernels), and the op
test suites pass with every kernel forced on.

Switches: ``GRADUS_KERNELS=numpy`` in the environment (or ``kernels.use("numpy")``) turns them off;
``kernels.use("numba", min_size=0)`` forces them on for any size (tests; ``GRADUS_KERNELS_MIN_SIZE=0``
runs a whole test suite through them).
"""
from __future__ import annotations

import contextlib
import importlib.util
import os

import numpy as np

__all__ = ["available", "enabled", "use", "gelu", "gelu_backward", "softmax_rows", "softmax_rows_backward",
           "layer_norm_rows", "layer_norm_rows_backward", "batch_norm_stats", "batch_norm_apply",
           "batch_norm_backward", "adam_update", "sgd_momentum_update", "lstm_steps",
           "max_pool2d_backward", "relu_backward"]

_WANTED = os.environ.get("GRADUS_KERNELS", "").lower() != "numpy"
_AVAILABLE = _WANTED and importlib.util.find_spec("numba") is not None
_nb = None  # gradus.kernels._compiled, imported (and numba with it, ~1 s) on the first kernel call
_state = {"on": _AVAILABLE, "min_size": int(os.environ.get("GRADUS_KERNELS_MIN_SIZE", 1 << 12))}
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _load():
    """Import numba and the kernels once; the numba import stays out of ``import gradus``."""
    global _nb
    if _nb is None:
        from . import _compiled

        _nb = _compiled
    return _nb


def available() -> bool:
    """True when numba is installed (and not turned off by GRADUS_KERNELS=numpy)."""
    return _AVAILABLE


def enabled() -> bool:
    """True when the compiled kernels are in use."""
    return _state["on"]


@contextlib.contextmanager
def use(which: str, min_size: int | None = None):
    """Run the block with ``"numba"`` kernels (error if numba is missing) or the ``"numpy"`` code;
    ``min_size`` overrides the size threshold inside the block."""
    if which not in ("numba", "numpy"):
        raise ValueError(f"kernels.use: which must be 'numba' or 'numpy', got {which!r}")
    if which == "numba" and not _AVAILABLE:
        raise RuntimeError("kernels.use('numba'): numba is not installed (or GRADUS_KERNELS=numpy); "
                           "pip install 'gradus[fast]'")
    saved = dict(_state)
    _state["on"] = which == "numba"
    if min_size is not None:
        _state["min_size"] = int(min_size)
    try:
        yield
    finally:
        _state.update(saved)


def _take(*arrays) -> bool:
    """Whether the compiled path applies to these arrays (see the module docstring)."""
    if not _state["on"]:
        return False
    first = arrays[0]
    if type(first) is not np.ndarray or first.dtype not in _FLOATS or first.size < _state["min_size"]:
        return False
    for a in arrays:
        if type(a) is not np.ndarray or a.dtype != first.dtype or not a.flags.c_contiguous:
            return False
    _load()
    return True


# ---------------------------------------------------------------------------------------------
# GELU
# ---------------------------------------------------------------------------------------------
def gelu(x, approximate: str):
    """y = x Phi(x) (``approximate="none"``) or its tanh form; a new array, or None."""
    if not _take(x):
        return None
    y = np.empty_like(x)
    k = _nb.gelu_constants(x.dtype)
    if approximate == "tanh":
        _nb.gelu_tanh(x.reshape(-1), y.reshape(-1), k)
    else:
        _nb.gelu_erf(x.reshape(-1), y.reshape(-1), k)
    return y


def gelu_backward(x, gy, approximate: str):
    """gx = gy * dGELU/dx; a new array, or None."""
    if gy.shape != x.shape or not _take(x, gy):
        return None
    gx = np.empty_like(x)
    k = _nb.gelu_constants(x.dtype)
    if approximate == "tanh":
        _nb.gelu_tanh_backward(x.reshape(-1), gy.reshape(-1), gx.reshape(-1), k)
    else:
        _nb.gelu_erf_backward(x.reshape(-1), gy.reshape(-1), gx.reshape(-1), k)
    return gx


# ---------------------------------------------------------------------------------------------
# softmax over the last axis
# ---------------------------------------------------------------------------------------------
def softmax_rows(s, scale: float = 1.0, causal: bool = False, safe: bool = False):
    """softmax(s * scale) (scale > 0) over the last axis IN PLACE, ``causal``: entries above the
    diagonal of each (L, S) matrix are masked (top-left aligned, as ``is_causal``). Fully masked rows
    become NaN, or 0 with ``safe``. Returns (s, dead) — dead a bool array (..., L, 1) of the fully
    masked rows, or None when there are none — or None when not taken."""
    if s.ndim < 2 or not scale > 0 or not _take(s):
        return None
    L, n = s.shape[-2], s.shape[-1]
    rows = s.reshape(-1, n)
    dead = np.empty(rows.shape[0], dtype=np.bool_)
    _nb.softmax_rows(rows, s.dtype.type(scale), L, bool(causal), dead, s.dtype.type(0.0 if safe else np.nan))
    if not dead.any():
        return s, None
    return s, dead.reshape(*s.shape[:-1], 1)


def softmax_rows_backward(p, dp, scale: float = 1.0):
    """dp <- scale * p * (dp - rowsum(dp * p)) in place over the last axis; returns dp, or None."""
    if p.shape != dp.shape or not _take(p, dp):
        return None
    n = p.shape[-1]
    _nb.softmax_rows_backward(p.reshape(-1, n), dp.reshape(-1, n), p.dtype.type(scale))
    return dp


# ---------------------------------------------------------------------------------------------
# layer norm over the last axis
# ---------------------------------------------------------------------------------------------
def layer_norm_rows(x, w, b, eps: float):
    """(y, xhat, inv) of layer norm over the last axis with weight w and bias b (1-d, or None);
    inv has shape (..., 1). None when not taken."""
    if x.ndim < 1 or not _take(x):
        return None
    n = x.shape[-1]
    w = np.ones(n, dtype=x.dtype) if w is None else w
    b = np.zeros(n, dtype=x.dtype) if b is None else b
    if w.shape != (n,) or b.shape != (n,) or not _take(x, w, b):
        return None
    y, xhat = np.empty_like(x), np.empty_like(x)
    inv = np.empty(x.shape[:-1] + (1,), dtype=x.dtype)
    mu = np.empty(inv.size, dtype=x.dtype)
    _nb.layer_norm_rows(x.reshape(-1, n), w, b, float(eps), y.reshape(-1, n), xhat.reshape(-1, n), mu,
                        inv.reshape(-1))
    return y, xhat, inv


def layer_norm_rows_backward(g, w, xhat, inv):
    """(gx, gw, gb) of layer norm over the last axis (w 1-d or None; gw, gb summed over every leading
    axis, in x's dtype); None when not taken."""
    n = xhat.shape[-1]
    w = np.ones(n, dtype=xhat.dtype) if w is None else w
    if g.shape != xhat.shape or inv.shape != xhat.shape[:-1] + (1,) or w.shape != (n,) \
            or not _take(xhat, g, w, inv):
        return None
    gx = np.empty_like(xhat)
    s1, s2 = np.empty(inv.size, dtype=xhat.dtype), np.empty(inv.size, dtype=xhat.dtype)
    gw, gb = np.zeros(n), np.zeros(n)
    _nb.layer_norm_rows_backward(g.reshape(-1, n), w, xhat.reshape(-1, n), inv.reshape(-1),
                                 gx.reshape(-1, n), s1, s2, gw, gb)
    return gx, gw.astype(xhat.dtype), gb.astype(xhat.dtype)


# ---------------------------------------------------------------------------------------------
# batch norm (every axis but the channel axis 1)
# ---------------------------------------------------------------------------------------------
def _bn_view(a):
    """``a`` (N, C, *) as the array a kernel loops over: ("cl", (rows, C)) when its memory is
    channels-last (conv2d's channels-last output, or (N, C)), ("cf", (N, C, L)) when it is NCHW
    C-contiguous; None otherwise (no copy is ever made for a kernel)."""
    if a.ndim < 2 or type(a) is not np.ndarray:
        return None
    C = a.shape[1]
    cl = np.moveaxis(a, 1, -1)
    if cl.flags.c_contiguous:
        return "cl", cl.reshape(-1, C)
    if a.flags.c_contiguous:
        return "cf", a.reshape(a.shape[0], C, -1)
    return None


def batch_norm_stats(x):
    """(mean, biased var) per channel, each (C,) in x's dtype; None when not taken."""
    v = _bn_view(x)
    if v is None or not _take(v[1]):
        return None
    C = x.shape[1]
    total, sq = np.zeros(C), np.zeros(C)
    getattr(_nb, "batch_norm_stats_" + v[0])(v[1], total, sq)
    return total.astype(x.dtype), (sq / (x.size // C)).astype(x.dtype)


def batch_norm_apply(x, mu, inv, w, b):
    """(y, xhat): xhat = (x - mu) inv, y = xhat w + b, in x's layout; mu, inv, w, b (C,) (w, b may be
    None). None when not taken."""
    v = _bn_view(x)
    if v is None or not _take(v[1]):
        return None
    C = x.shape[1]
    t = x.dtype
    w = np.ones(C, dtype=t) if w is None else w.reshape(C)
    b = np.zeros(C, dtype=t) if b is None else b.reshape(C)
    if w.dtype != t or b.dtype != t:
        return None
    y, xhat = np.empty_like(x), np.empty_like(x)         # the same strides as x
    yv, hv = _bn_view(y)[1], _bn_view(xhat)[1]
    getattr(_nb, "batch_norm_apply_" + v[0])(v[1], mu.reshape(C).astype(t), inv.reshape(C).astype(t),
                                            np.ascontiguousarray(w), np.ascontiguousarray(b), yv, hv)
    return y, xhat


def batch_norm_backward(g, xhat, inv, w):
    """(gx, gw, gb) of batch norm from the output gradient g, xhat and inv (C,) (w (C,) or None);
    None when not taken (g and xhat must share a layout)."""
    vh = _bn_view(xhat)
    # g passes _take too once it is an ndarray of xhat's shape and dtype (its view is C-contiguous)
    if vh is None or g.shape != xhat.shape or type(g) is not np.ndarray or g.dtype != xhat.dtype \
            or not _take(vh[1]):
        return None
    vg = _bn_view(g)
    if vg is None or vg[0] != vh[0]:
        # g in another layout than xhat (a residual sum of a channels-last and an NCHW branch):
        # one copy into xhat's layout costs less than NumPy's passes
        g2 = np.empty_like(xhat)
        np.copyto(g2, g)
        g, vg = g2, _bn_view(g2)
    C, t = g.shape[1], g.dtype
    n = g.size // C
    gb, gw = np.zeros(C), np.zeros(C)
    kind = vg[0]
    getattr(_nb, "batch_norm_grad_sums_" + kind)(vg[1], vh[1], gb, gw)
    k = inv.reshape(C).astype(np.float64) * (1.0 if w is None else w.reshape(C).astype(np.float64))
    gx = np.empty_like(xhat)
    getattr(_nb, "batch_norm_input_grad_" + kind)(vg[1], vh[1], k.astype(t), (gb / n).astype(t),
                                                  (gw / n).astype(t), _bn_view(gx)[1])
    return gx, gw.astype(t), gb.astype(t)


# ---------------------------------------------------------------------------------------------
# Adam
# ---------------------------------------------------------------------------------------------
def adam_update(p, g, m, v, beta1, beta2, step_size, bias2_sqrt, eps) -> bool:
    """One Adam update in place (p, m, v); True when taken. The formula is Adam.step's."""
    if not _take(p, g, m, v) or not (p.shape == g.shape == m.shape == v.shape):
        return False
    t = p.dtype.type
    _nb.adam_update(p.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1), t(beta2), t(1 - beta1),
                    t(1 - beta2), t(step_size), t(bias2_sqrt), t(eps))
    return True


def sgd_momentum_update(p, g, buf, momentum, lr) -> bool:
    """buf = momentum * buf + g; p -= lr * buf, in place (SGD.step without dampening or Nesterov);
    True when taken."""
    if not _take(p, g, buf) or not (p.shape == g.shape == buf.shape):
        return False
    t = p.dtype.type
    _nb.sgd_momentum_update(p.reshape(-1), g.reshape(-1), buf.reshape(-1), t(momentum), t(lr))
    return True


# ---------------------------------------------------------------------------------------------
# LSTM time steps (functional.recurrent.LSTMLayer)
# ---------------------------------------------------------------------------------------------
def lstm_steps(*arrays):
    """The compiled step functions ``(forward, backward)`` of an LSTM layer (``_compiled``'s
    ``lstm_step_forward`` / ``lstm_step_backward``) when they apply to these arrays -- numba on,
    float32 (the kernels' tanh is a float32 formula; float64 keeps NumPy's), C-contiguous, the gate
    array ``arrays[0]`` (T, B, 4H) at least ``min_size`` elements per step -- else None. Decided once
    per layer call: the per-step slices of C-contiguous (T, ...) arrays are C-contiguous too."""
    first = arrays[0]
    if type(first) is not np.ndarray or first.dtype != np.float32 or first.ndim != 3 \
            or first[0].size < _state["min_size"] or not _take(*arrays):
        return None
    return _nb.lstm_step_forward, _nb.lstm_step_backward


# ---------------------------------------------------------------------------------------------
# max pooling
# ---------------------------------------------------------------------------------------------
def max_pool2d_backward(gy, arg, g, shape):
    """gx (N, C, H, W) of a 2-D max pool of geometry ``g`` from gy (N, C, OH, OW) and the window
    offsets ``arg`` (same shape, int8/int32: k = u*KW + v of each window's arg-max); a new array, or
    None (then the NumPy scatter runs). Why: the NumPy path builds an int64 pixel index per output
    (~6 passes) and scatters through it; one compiled pass over gy does both (LeNet-5's two pools:
    see docs/performance.md)."""
    if not _take(gy) or type(arg) is not np.ndarray or not arg.flags.c_contiguous or arg.shape != gy.shape:
        return None
    n, c, h, w = shape
    gx = np.zeros(shape, dtype=gy.dtype)
    k = np.arange(g.kh * g.kw)
    rows, cols = (k // g.kw) * g.dh, (k % g.kw) * g.dw                 # tap k -> pixel offset in its window
    _nb.max_pool2d_backward(gy.reshape(n * c, g.oh, g.ow), arg.reshape(n * c, g.oh, g.ow), rows, cols,
                            g.sh, g.sw, g.pt, g.pl, gx.reshape(n * c, h, w))
    return gx


# ---------------------------------------------------------------------------------------------
# ReLU
# ---------------------------------------------------------------------------------------------
def _flat_in_memory_order(a):
    """``a``'s elements as a 1-D view in memory order when ``a`` is dense in some axis order (e.g. the
    channels-last NCHW view a conv returns), else None."""
    if a.flags.c_contiguous:
        return a.reshape(-1)
    v = a.transpose(np.argsort(a.strides, kind="stable")[::-1])
    return v.reshape(-1) if v.flags.c_contiguous else None


def relu_backward(y, gy):
    """gx = gy * [y > 0] (ReLU's backward from its output) in one pass instead of a comparison and a
    multiply: a new array in y's memory layout, or None. y and gy: same shape and strides, dense."""
    if not _state["on"] or type(y) is not np.ndarray or type(gy) is not np.ndarray or y.dtype not in _FLOATS \
            or gy.dtype != y.dtype or y.size < _state["min_size"] or y.shape != gy.shape \
            or y.strides != gy.strides:
        return None
    fy, fg = _flat_in_memory_order(y), _flat_in_memory_order(gy)
    if fy is None or fg is None:
        return None
    gx = np.empty_like(y)                      # order "K": y's layout, so its memory order matches
    fx = _flat_in_memory_order(gx)
    if fx is None or gx.strides != y.strides:
        return None
    _load().relu_backward(fy, fg, fx)
    return gx
