"""Loss functions with PyTorch's names, arguments, reductions and normalisations.

    >>> import gradus
    >>> import gradus.functional as F
    >>> logits = gradus.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]])
    >>> y = gradus.tensor([0, 2])
    >>> round(F.cross_entropy(logits, y).item(), 4)
    0.1755

``reduction``: ``'mean'`` (default), ``'sum'`` or ``'none'`` (per-element / per-sample losses).

``cross_entropy`` with class-index targets is **fused** (log-softmax + NLL + label smoothing + class
weights in one node): stable for huge logits (the log-sum-exp is shifted by the row max) and its
backward is the closed form ``(softmax(x) - onehot) * w / denominator`` on raw arrays. It is a
``FusedFunction``: when a graph is being recorded (``create_graph=True``) the same closed form is built
from Tensor ops instead (softmax of the input Tensor), so the fused loss is also twice differentiable.
``_cross_entropy_composed`` (``log_softmax`` + ``nll_loss``) is the unfused twin the tests compare against.
"""
from __future__ import annotations

import warnings

import numpy as np

from .. import backend
from ..autograd.function import Function, FusedFunction
from ..errors import DTypeError, GradIndexError, ShapeError
from ..ops import elementwise as ew
from ..ops.movement import movedim, reshape
from ..ops.reduce import mean as _mean
from ..ops.reduce import sum as _sum
from ..tensor import Tensor
from .activation import log_softmax, logsigmoid, softmax

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div"]

xp_of = backend.get_array_module
_REDUCTIONS = ("mean", "sum", "none")


def legacy_reduction(size_average, reduce, reduction: str, who: str) -> str:
    """PyTorch's legacy ``size_average``/``reduce`` flags, else ``reduction`` (validated)."""
    if size_average is not None or reduce is not None:
        sa = True if size_average is None else size_average
        rd = True if reduce is None else reduce
        reduction = "mean" if (sa and rd) else "sum" if rd else "none"
    if reduction not in _REDUCTIONS and not (who == "kl_div" and reduction == "batchmean"):
        raise ValueError(f"{who}: {reduction!r} is not a valid value for reduction "
                         "(use 'mean', 'sum' or 'none')")
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return _mean(loss)
    if reduction == "sum":
        return _sum(loss)
    return loss


def _as_tensor(t, like: Tensor) -> Tensor:
    return t if isinstance(t, Tensor) else Tensor(t, dtype=like.dtype)


def _check_same_size(input, target, who: str, strict: bool = False) -> None:  # noqa: A002
    if tuple(input.shape) == tuple(target.shape):
        return
    msg = (f"{who}: target size {tuple(target.shape)} is different from the input size {tuple(input.shape)}")
    if strict:
        raise ShapeError(msg + "; make them the same shape")
    try:
        np.broadcast_shapes(input.shape, target.shape)
    except ValueError:
        raise ShapeError(msg + " and they cannot be broadcast together") from None
    warnings.warn(msg + ". This will likely lead to incorrect results due to broadcasting; make them the "
                  "same shape.", stacklevel=3)


# ---------------------------------------------------------------------------------------------
# regression losses
# ---------------------------------------------------------------------------------------------
def mse_loss(input, target, size_average=None, reduce=None, reduction: str = "mean") -> Tensor:  # noqa: A002
    """(input - target)^2, reduced."""
    reduction = legacy_reduction(size_average, reduce, reduction, "mse_loss")
    target = _as_tensor(target, input)
    _check_same_size(input, target, "mse_loss")
    d = input - target
    return _reduce(d * d, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean") -> Tensor:  # noqa: A002
    """``|input - target|``, reduced."""
    reduction = legacy_reduction(size_average, reduce, reduction, "l1_loss")
    target = _as_tensor(target, input)
    _check_same_size(input, target, "l1_loss")
    return _reduce(ew.abs(input - target), reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean",  # noqa: A002
                   beta: float = 1.0) -> Tensor:
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta`` (d = input - target); beta 0: L1."""
    reduction = legacy_reduction(size_average, reduce, reduction, "smooth_l1_loss")
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    target = _as_tensor(target, input)
    _check_same_size(input, target, "smooth_l1_loss")
    d = input - target
    a = ew.abs(d)
    if beta == 0:
        return _reduce(a, reduction)
    loss = ew.where(a.data < beta, d * d * (0.5 / beta), a - 0.5 * beta)
    return _reduce(loss, reduction)


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0) -> Tensor:  # noqa: A002
    """``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)`` (d = input - target)."""
    reduction = legacy_reduction(None, None, reduction, "huber_loss")
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    target = _as_tensor(target, input)
    _check_same_size(input, target, "huber_loss")
    d = input - target
    a = ew.abs(d)
    loss = ew.where(a.data < delta, d * d * 0.5, (a - 0.5 * delta) * delta)
    return _reduce(loss, reduction)


# ---------------------------------------------------------------------------------------------
# classification losses
# ---------------------------------------------------------------------------------------------
def _class_last(x: Tensor) -> Tensor:
    """(N, C, d1, ...) -> (N * d1 * ..., C); (N, C) unchanged."""
    if x.ndim == 2:
        return x
    return reshape(movedim(x, 1, -1), (-1, x.shape[1]))


def _check_class_target(input, target, who: str):  # noqa: A002
    """Validate class-index targets against (N, C, *) / (C,) input; return the flat int array."""
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype.kind not in "iu":
        raise DTypeError(f"{who}: class-index targets must be integers (int64), got dtype {t.dtype}; for "
                         "class probabilities pass a float target of the same shape as the input")
    if input.ndim == 1:
        if t.ndim != 0:
            raise ShapeError(f"{who}: unbatched input of shape {tuple(input.shape)} needs a 0-d target, got "
                             f"shape {tuple(t.shape)}")
    else:
        want = (input.shape[0],) + tuple(input.shape[2:])
        if tuple(t.shape) != want:
            if t.ndim >= 1 and t.shape[0] != input.shape[0]:
                raise ShapeError(
                    f"{who}: batch size mismatch: input has shape {tuple(input.shape)} ({input.shape[0]} "
                    f"samples) but target has shape {tuple(t.shape)} ({t.shape[0]} samples)")
            raise ShapeError(f"{who}: expected target of shape {want} for input of shape "
                             f"{tuple(input.shape)}, got {tuple(t.shape)}")
    return t.reshape(-1)


def _check_labels(t, C: int, ignore_index: int, who: str) -> None:
    xp = xp_of(t)
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= C))
    if bool(bad.any()):
        label = int(t[xp.argmax(bad)])
        raise GradIndexError(
            f"{who}: target label {label} is out of range for {C} classes (labels must be in [0, {C - 1}]"
            f", or equal ignore_index={ignore_index})")


class CrossEntropy(FusedFunction):
    """Fused cross-entropy from logits with class-index targets.

    Shapes: x (M, C) logits, t (M,) labels, w (C,) class weights or None.
    Per sample (ignored ones contribute 0 and weigh 0):
        loss_n = (1 - eps) * w[t_n] * (-log p_n[t_n]) + eps / C * sum_c w_c (-log p_n[c])
    'mean' divides the sum by sum_n w[t_n] (PyTorch's weighted mean).
    d loss_n / d x_n = (1 - eps) w[t_n] (p_n - onehot(t_n)) + eps / C (sum(w) p_n - w).
    """

    @staticmethod
    def forward(ctx, x, t, w, ignore_index, reduction, eps):
        xp = xp_of(x)
        M, C = x.shape
        logp = x - x.max(axis=1, keepdims=True)
        logp -= xp.log(xp.exp(logp).sum(axis=1, keepdims=True))
        valid = t != ignore_index
        tt = xp.where(valid, t, 0)
        rows = xp.arange(M)
        wt = valid.astype(x.dtype) if w is None else w[tt] * valid
        loss = -logp[rows, tt] * wt
        if eps > 0:
            smooth = -(logp.sum(axis=1) if w is None else logp @ w) * valid
            loss = (1 - eps) * loss + (eps / C) * smooth
        denom = wt.sum()
        if reduction == "mean":
            with np.errstate(invalid="ignore", divide="ignore"):  # every target ignored: NaN, as PyTorch
                out = loss.sum() / denom
        elif reduction == "sum":
            out = loss.sum()
        else:
            out = loss
        ctx.save_for_backward(x)
        ctx.save_raw(logp=logp, tt=tt, wt=wt, valid=valid, denom=denom, w=w)
        ctx.reduction, ctx.eps = reduction, eps
        return xp.asarray(out, dtype=x.dtype)

    @staticmethod
    def _coefficients(ctx, xp, dtype):
        """(a, B): d loss_n / d x_n = a_n * p_n - B_n (before the reduction's scaling)."""
        M, C = ctx.logp.shape
        eps, wt, valid, w = ctx.eps, ctx.wt, ctx.valid, ctx.w
        a = (1 - eps) * wt
        B = xp.zeros((M, C), dtype=dtype)
        B[xp.arange(M), ctx.tt] = (1 - eps) * wt
        if eps > 0:
            vf = valid.astype(dtype)
            wsum = C if w is None else w.sum()
            a = a + (eps / C) * wsum * vf
            B += (eps / C) * (vf[:, None] if w is None else vf[:, None] * w[None, :])
        return a.astype(dtype, copy=False), B

    @staticmethod
    def backward_raw(ctx, g):
        xp = xp_of(ctx.logp)
        a, B = CrossEntropy._coefficients(ctx, xp, ctx.logp.dtype)
        G = xp.exp(ctx.logp)
        G *= a[:, None]
        G -= B
        if ctx.reduction == "mean":
            with np.errstate(invalid="ignore", divide="ignore"):
                G *= g / ctx.denom
        elif ctx.reduction == "sum":
            G *= g
        else:
            G *= g[:, None]
        return G, None, None, None, None, None

    @staticmethod
    def backward_composed(ctx, gy):
        (x,) = ctx.saved_tensors
        xp = xp_of(x.data)
        a, B = CrossEntropy._coefficients(ctx, xp, x.dtype)
        G = softmax(x, 1) * Tensor._make(a[:, None]) - Tensor._make(B)
        if ctx.reduction == "mean":
            G = G * (gy / Tensor._make(xp.asarray(ctx.denom, dtype=x.dtype)))
        elif ctx.reduction == "sum":
            G = G * gy
        else:
            G = G * reshape(gy, (-1, 1))
        return G, None, None, None, None, None


def cross_entropy(input, target, weight=None, size_average=None, ignore_index: int = -100,  # noqa: A002
                  reduce=None, reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy between logits ``input`` and ``target``.

    Shapes: input (N, C), (N, C, d1, ...) or (C,); target either class indices (N,) / (N, d1, ...) /
    () (int64), or class probabilities of input's shape (float). ``weight`` (C,) rescales classes;
    ``ignore_index`` targets contribute nothing; ``label_smoothing`` eps mixes the target with the
    uniform distribution: (1 - eps) * target + eps / C.
    """
    reduction = legacy_reduction(size_average, reduce, reduction, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    if input.ndim == 0:
        raise ShapeError("cross_entropy: input must have a class dimension, got a 0-d tensor")
    if input.data.dtype.kind != "f":
        raise DTypeError(f"cross_entropy: input (logits) must be floating point, got "
                         f"gradus.{input.dtype.name}")
    C = input.shape[0] if input.ndim == 1 else input.shape[1]
    if weight is not None and tuple(weight.shape) != (C,):
        raise ShapeError(f"cross_entropy: weight must have shape ({C},) (one per class), got "
                         f"{tuple(weight.shape)}")
    t_data = target.data if isinstance(target, Tensor) else np.asarray(target)
    if t_data.dtype.kind == "f":
        return _cross_entropy_probs(input, _as_tensor(target, input), weight, reduction, label_smoothing)
    t = _check_class_target(input, target, "cross_entropy")
    _check_labels(t, C, ignore_index, "cross_entropy")
    x2 = reshape(input, (1, -1)) if input.ndim == 1 else _class_last(input)
    w = None if weight is None else weight.data.astype(input.dtype, copy=False)
    out = CrossEntropy.apply(x2, t, w, ignore_index, reduction, float(label_smoothing))
    if reduction == "none":
        out = reshape(out, t_data.shape)
    return out


def _cross_entropy_probs(input, target, weight, reduction, eps) -> Tensor:  # noqa: A002
    """Soft targets: loss_n = -sum_c w_c t_nc log p_nc; 'mean' divides by the number of samples."""
    if tuple(target.shape) != tuple(input.shape):
        msg = (f"cross_entropy: got a float target of shape {tuple(target.shape)} for input of shape "
               f"{tuple(input.shape)}: class-index targets must be integers (use target.long()), and "
               f"probability targets must have the input's shape")
        cls_shape = () if input.ndim == 1 else (input.shape[0],) + tuple(input.shape[2:])
        raise DTypeError(msg) if tuple(target.shape) == cls_shape else ShapeError(msg)
    cdim = 0 if input.ndim == 1 else 1
    C = input.shape[cdim]
    logp = log_softmax(input, cdim)
    if eps > 0:
        target = target * (1 - eps) + eps / C
    prod = logp * target
    if weight is not None:
        prod = prod * reshape(weight, (C,) + (1,) * (input.ndim - cdim - 1))
    loss = -_sum(prod, cdim)
    if reduction == "mean":
        n = input.data.size // C
        return _sum(loss) / float(n)
    return _reduce(loss, reduction)


def nll_loss(input, target, weight=None, size_average=None, ignore_index: int = -100, reduce=None,  # noqa: A002
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood from log-probabilities ``input``: loss_n = -w[t_n] * input[n, t_n].

    Shapes as ``cross_entropy`` with class indices. 'mean' divides by sum_n w[t_n] over non-ignored n.
    """
    reduction = legacy_reduction(size_average, reduce, reduction, "nll_loss")
    if input.ndim == 0:
        raise ShapeError("nll_loss: input must have a class dimension, got a 0-d tensor")
    C = input.shape[0] if input.ndim == 1 else input.shape[1]
    if weight is not None and tuple(weight.shape) != (C,):
        raise ShapeError(f"nll_loss: weight must have shape ({C},), got {tuple(weight.shape)}")
    t_data = target.data if isinstance(target, Tensor) else np.asarray(target)
    t = _check_class_target(input, target, "nll_loss")
    _check_labels(t, C, ignore_index, "nll_loss")
    x2 = reshape(input, (1, -1)) if input.ndim == 1 else _class_last(input)
    xp = xp_of(x2.data)
    valid = t != ignore_index
    tt = xp.where(valid, t, 0)
    wt = valid.astype(input.dtype) if weight is None else weight.data[tt].astype(input.dtype) * valid
    loss = -x2[xp.arange(t.shape[0]), tt] * Tensor._make(wt)
    if reduction == "mean":
        return _sum(loss) / Tensor._make(xp.asarray(wt.sum(), dtype=input.dtype))
    if reduction == "sum":
        return _sum(loss)
    return reshape(loss, t_data.shape)


def _cross_entropy_composed(input, target, weight=None, ignore_index: int = -100, reduction: str = "mean",  # noqa: A002
                            label_smoothing: float = 0.0) -> Tensor:
    """Unfused twin of ``cross_entropy`` with class indices: log_softmax + nll_loss (+ smoothing term),
    exactly PyTorch's decomposition. For tests."""
    cdim = 0 if input.ndim == 1 else 1
    C = input.shape[cdim]
    logp = log_softmax(input, cdim)
    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing == 0:
        return nll
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    valid = Tensor._make((t != ignore_index).astype(input.dtype))
    wl = logp if weight is None else logp * reshape(weight, (C,) + (1,) * (input.ndim - cdim - 1))
    smooth = -_sum(wl, cdim) * valid
    if reduction == "mean":
        tt = np.where(t != ignore_index, t, 0)
        denom = float(valid.data.sum()) if weight is None else float((weight.data[tt] * valid.data).sum())
        red = _sum(smooth) / denom
    else:
        red = _reduce(smooth, reduction)
    return nll * (1 - label_smoothing) + red * (label_smoothing / C)


class BinaryCrossEntropy(Function):
    """loss = -(t log x + (1 - t) log(1 - x)), each log clamped to >= -100 (PyTorch's rule, so x = 0 or
    1 give a finite loss).  gx = gy (x - t) / max(x (1 - x), 1e-12);  gt = gy (log(1 - x) - log x)."""

    @staticmethod
    def forward(ctx, x, t):
        xp = xp_of(x)
        with np.errstate(divide="ignore"):
            lx = xp.maximum(xp.log(x), -100)
            l1x = xp.maximum(xp.log1p(-x), -100)
        ctx.save_for_backward(x, t)
        return (-(t * lx + (1 - t) * l1x)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        x, t = ctx.saved_tensors
        gx = gt = None
        if ctx.needs_input_grad[0]:
            gx = gy * (x - t) / ew.clamp(x * (1 - x), min=1e-12)
        if ctx.needs_input_grad[1]:
            gt = gy * (ew.clamp(ew.log1p(-x), min=-100) - ew.clamp(ew.log(x), min=-100))
        return gx, gt


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,  # noqa: A002
                         reduction: str = "mean") -> Tensor:
    """BCE between probabilities ``input`` in [0, 1] and ``target`` (same shape); ``weight`` broadcasts."""
    reduction = legacy_reduction(size_average, reduce, reduction, "binary_cross_entropy")
    target = _as_tensor(target, input)
    _check_same_size(input, target, "binary_cross_entropy", strict=True)
    x = input.data
    if x.size and not (float(x.min()) >= 0 and float(x.max()) <= 1):  # NaN fails both comparisons
        raise ValueError(f"binary_cross_entropy: all elements of input should be between 0 and 1, got values "
                         f"in [{float(x.min())}, {float(x.max())}] (pass probabilities, e.g. sigmoid "
                         f"outputs, "
                         "or use binary_cross_entropy_with_logits)")
    t = target.data
    if t.size and not (float(t.min()) >= 0 and float(t.max()) <= 1):
        raise ValueError(f"binary_cross_entropy: all elements of target should be between 0 and 1, got "
                         f"values "
                         f"in [{float(t.min())}, {float(t.max())}] (targets are probabilities of the "
                         f"positive "
                         "class, e.g. 0/1 labels)")
    loss = BinaryCrossEntropy.apply(input, target.to(input.dtype))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,  # noqa: A002
                                     reduction: str = "mean", pos_weight=None) -> Tensor:
    """BCE on logits, stable for any logit: loss = (1 - t) x - (1 + (pw - 1) t) log sigmoid(x), times
    ``weight``. ``pos_weight`` (broadcast over the last dim, e.g. (C,)) weighs positive examples."""
    reduction = legacy_reduction(size_average, reduce, reduction, "binary_cross_entropy_with_logits")
    target = _as_tensor(target, input)
    _check_same_size(input, target, "binary_cross_entropy_with_logits", strict=True)
    ls = logsigmoid(input)
    if pos_weight is not None:
        lw = target * (pos_weight - 1) + 1
        loss = (1 - target) * input - lw * ls
    else:
        loss = (1 - target) * input - ls
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction: str = "mean",  # noqa: A002
           log_target: bool = False) -> Tensor:
    """KL(target || model) pointwise, with ``input`` the model's **log**-probabilities:
    target * (log target - input)  (0 where target = 0), or exp(t) (t - input) with ``log_target``.

    ``reduction='batchmean'`` divides the sum by the batch size (the true KL divergence); 'mean'
    averages over all elements, as PyTorch (which warns about it).
    """
    reduction = legacy_reduction(size_average, reduce, reduction, "kl_div")
    target = _as_tensor(target, input)
    if log_target:
        loss = ew.exp(target) * (target - input)
    else:
        pos = target.data > 0
        safe_log = ew.log(ew.where(pos, target, 1.0))  # log(1) = 0 where target = 0: no -inf * 0
        loss = target * safe_log - target * input
    if reduction == "batchmean":
        return _sum(loss) / float(input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)
