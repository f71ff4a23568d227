"""Attention: ``scaled_dot_product_attention`` (fused) and ``multi_head_attention_forward``, PyTorch's.

    >>> import gradus
    >>> import gradus.functional as F
    >>> q, k, v = gradus.ones(2, 4, 3, 8), gradus.ones(2, 4, 5, 8), gradus.ones(2, 4, 5, 6)
    >>> F.scaled_dot_product_attention(q, k, v).shape          # (N, heads, L, Ev)
    (2, 4, 3, 6)
    >>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
    (2, 4, 3, 6)

The math (Vaswani et al. 2017), for query Q (..., L, E), key K (..., S, E), value V (..., S, Ev)::

    S_ = Q K^T * scale + M          scale = 1/sqrt(E) unless given; M the mask, (..., L, S)
    P  = softmax(S_, dim=-1)        row-wise, with the row maximum subtracted (no overflow)
    O  = dropout(P) V               (..., L, Ev)

**Why fused.** Composed from primitives, attention is about ten graph nodes (matmul, scale, mask,
max, subtract, exp, sum, divide, dropout, matmul) and backward keeps the intermediates of each.
``ScaledDotProductAttention`` is one node: forward computes the scores, the stable softmax and
``P V`` on raw arrays; it keeps only P (and the dropout mask, as bools) beside references to its
inputs. Its raw backward is the textbook one (dP = dO V^T, dS = P * (dP - rowsum(dP * P)), dQ =
dS K scale, dK = dS^T Q scale, dV = P^T dO); its composed backward recomputes the same quantities
from Q and K with Tensor ops, so ``create_graph=True`` (double backward, gradient penalties) works.

**Masks** (SDPA's convention, the opposite of ``nn.MultiheadAttention``'s): a bool ``attn_mask`` is
True where a query may attend a key; a float mask is added to the scores (``-inf`` removes a key).
Either broadcasts to (..., L, S). ``is_causal=True`` is the top-left aligned lower-triangular mask
``tril(ones(L, S))`` (query i sees keys 0..i).

**Fully masked rows** (a query that may attend no key at all): PyTorch 2.13's
``scaled_dot_product_attention`` returns **zeros** for such a row, with zero gradients (its "safe
softmax"), and so does gradus. ``nn.MultiheadAttention`` with ``need_weights=True`` runs a plain
softmax instead and returns **NaN** in that row (output and weights), also as PyTorch does; with
``need_weights=False`` it calls SDPA and returns zeros. (``multi_head_attention_forward`` below
reproduces both paths.)
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from .. import backend, kernels
from ..autograd.function import FusedFunction
from ..errors import DTypeError, ShapeError
from ..ops import elementwise as ew
from ..ops.matmul import matmul
from ..ops.movement import cat, pad, repeat_interleave, reshape
from ..ops.reduce import mean
from ..ops.reduce import sum as _sum
from ..random import default_generator
from ..tensor import Tensor
from .activation import softmax
from .linear import linear

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]

xp_of = backend.get_array_module


def _swap(a):
    """The last two axes exchanged (a view)."""
    return a.swapaxes(-1, -2)


def _softmax_numpy(xp, s, scale, causal, safe):
    """(P, dead) = softmax(s * scale) over the last axis with the causal mask, in NumPy passes (the
    twin of ``kernels.softmax_rows``). ``dead`` marks fully masked rows (bool (..., L, 1)) when
    ``safe`` — they become 0 instead of NaN — else None."""
    if scale != 1.0:
        s *= scale
    if causal:
        L, S = s.shape[-2], s.shape[-1]
        s = xp.where(xp.tri(L, S, dtype=bool), s, -np.inf)
    dead = None
    with np.errstate(invalid="ignore", divide="ignore"):  # NaN rows are the point when not safe
        m = s.max(axis=-1, keepdims=True)
        if safe:
            dead = m == -np.inf
            if dead.any():
                m = xp.where(dead, 0.0, m)  # exp(-inf - 0) = 0: the row becomes exact zeros
            else:
                dead = None
        p = s - m
        xp.exp(p, out=p)
        denom = p.sum(axis=-1, keepdims=True)
        if dead is not None:
            denom[dead] = 1.0
        p /= denom
    return p, dead


class ScaledDotProductAttention(FusedFunction):
    """O = dropout(softmax(Q K^T * scale + M)) V in one node (see the module docstring).

    Shapes: q (..., L, E), k (..., S, E), v (..., S, Ev), the batch dims broadcast; ``mask`` a float
    Tensor (added) or a bool array (True = take part), broadcastable to (..., L, S), or None. Outputs
    O (..., L, Ev) and, with ``with_weights``, the attention weights dropout(P) (..., L, S).

    ``keep`` is the dropout mask (bool, (..., L, S)) and ``keep_scale`` 1/(1 - p); ``safe`` gives
    fully masked rows P = 0 (SDPA) instead of NaN (MultiheadAttention's weights path).

    Backward (dO, and dW for the weights output)::

        dV = dropout(P)^T dO
        dP = (dO V^T + dW) * keep * keep_scale
        dS = P * (dP - rowsum(dP * P))           (the softmax Jacobian, row by row)
        dQ = dS K * scale,  dK = dS^T Q * scale,  dM = dS (a float mask is differentiable)

    Batch dims that were broadcast are summed back by the engine (``sum_to``).
    """

    @staticmethod
    def forward(ctx, q, k, v, mask, keep, keep_scale, scale, causal, safe, with_weights):
        xp = xp_of(q)
        if mask is not None and mask.dtype == np.bool_ and mask.all():
            mask = None            # nothing masked (a padding mask of a batch without padding): skip it
        s = xp.matmul(q, _swap(k))
        fused = None
        if mask is None:           # scale, causal mask and softmax in one compiled pass (numba), or None
            fused = kernels.softmax_rows(s, scale, causal, safe)
        elif mask.dtype == np.bool_:
            s = xp.where(mask, s * scale, -np.inf)
            fused = kernels.softmax_rows(s, 1.0, causal, safe)
        else:
            s *= scale
            s = s + mask
            fused = kernels.softmax_rows(s, 1.0, causal, safe)
        if fused is not None:
            p, dead = fused
            dead = dead if safe else None
        else:
            p, dead = _softmax_numpy(xp, s, scale if mask is None else 1.0, causal, safe)
        pd = p if keep is None else p * keep * keep_scale
        out = xp.matmul(pd, v)
        ctx.save_for_backward(q, k, v, mask if mask is not None and mask.dtype != np.bool_ else None)
        ctx.save_raw(p=p, keep=keep, dead=dead, bool_mask=mask if mask is not None and mask.dtype == np.bool_
                     else None)
        ctx.keep_scale, ctx.scale, ctx.causal, ctx.with_weights = keep_scale, scale, causal, with_weights
        return (out, pd) if with_weights else out

    @staticmethod
    def backward_raw(ctx, go, gw=None):
        q, k, v, fmask = ctx.saved_arrays
        p, keep = ctx.p, ctx.keep
        need_q, need_k, need_v, need_m = ctx.needs_input_grad[:4]
        xp = xp_of(p)
        pd = p if keep is None else p * keep * ctx.keep_scale
        dv = xp.matmul(_swap(pd), go) if need_v else None
        dq = dk = dm = None
        if need_q or need_k or need_m:
            dp = xp.matmul(go, _swap(v))
            if gw is not None:
                dp += gw
            if keep is not None:
                dp *= keep
                dp *= ctx.keep_scale
            # in place, one pass (numba); without a mask gradient to return, the kernel also applies
            # the score scale, so dq and dk need no pass of their own
            ds = kernels.softmax_rows_backward(p, dp, 1.0 if need_m else ctx.scale)
            scaled = ds is not None and not need_m
            if ds is None:
                ds = dp * p
                ds -= p * ds.sum(axis=-1, keepdims=True)   # P * (dP - rowsum(dP * P))
            if need_q:
                dq = xp.matmul(ds, k)
                if not scaled:
                    dq *= ctx.scale
            if need_k:
                dk = xp.matmul(_swap(ds), q)
                if not scaled:
                    dk *= ctx.scale
            if need_m:
                dm = ds
        return dq, dk, dv, dm, None, None, None, None, None, None

    @staticmethod
    def backward_composed(ctx, go, gw=None):
        q, k, v, fmask = ctx.saved_tensors
        need_q, need_k, need_v, need_m = ctx.needs_input_grad[:4]
        p = _attention_probs(q, k, fmask, ctx.bool_mask, ctx.causal, ctx.scale, ctx.dead)
        keepf = None
        if ctx.keep is not None:
            keepf = Tensor._make((ctx.keep * ctx.keep_scale).astype(p.dtype))
        pd = p if keepf is None else p * keepf
        dv = matmul(pd.transpose(-2, -1), go) if need_v else None
        dq = dk = dm = None
        if need_q or need_k or need_m:
            dp = matmul(go, v.transpose(-2, -1))
            if gw is not None:
                dp = dp + gw
            if keepf is not None:
                dp = dp * keepf
            ds = p * (dp - _sum(dp * p, -1, keepdim=True))
            if need_q:
                dq = matmul(ds, k) * ctx.scale
            if need_k:
                dk = matmul(ds.transpose(-2, -1), q) * ctx.scale
            if need_m:
                dm = ds
        return dq, dk, dv, dm, None, None, None, None, None, None


def _attention_probs(q, k, fmask, bool_mask, causal, scale, dead):
    """P = softmax(Q K^T * scale + M) with Tensor ops (the composed twin's forward, differentiable).

    ``dead`` (bool (..., L, 1)) marks the fully masked rows of the safe softmax: their scores are
    replaced by zeros before the softmax and the row is multiplied by 0 after it, so the row is 0 and
    so is its gradient (a softmax of an all -inf row would be NaN, and NaN * 0 is NaN)."""
    s = matmul(q, k.transpose(-2, -1)) * scale
    if fmask is not None:
        s = s + fmask
    if bool_mask is not None:
        s = ew.where(bool_mask, s, -math.inf)
    if causal:
        L, S = s.shape[-2], s.shape[-1]
        s = ew.where(xp_of(s.data).tri(L, S, dtype=bool), s, -math.inf)
    if dead is None:
        return softmax(s, -1)
    s = ew.where(dead, 0.0, s)
    return softmax(s, -1) * Tensor._make((~dead).astype(s.dtype))


def _attention_composed(query, key, value, attn_mask=None, is_causal=False, scale=None):
    """The unfused twin of ``scaled_dot_product_attention`` (no dropout), kept for tests."""
    E = query.shape[-1]
    scale = 1.0 / math.sqrt(E) if scale is None else scale
    fmask = bmask = None
    if attn_mask is not None:
        if attn_mask.dtype == np.bool_:
            bmask = attn_mask.data
        else:
            fmask = attn_mask
    xp = xp_of(query.data)
    dead = None
    with np.errstate(invalid="ignore"):
        probe = xp.matmul(query.data, _swap(key.data)) * 0.0   # the score shape, finite
        if bmask is not None:
            probe = xp.where(bmask, probe, -np.inf)
        if fmask is not None:
            probe = probe + fmask.data
        if is_causal:
            probe = xp.where(xp.tri(probe.shape[-2], probe.shape[-1], dtype=bool), probe, -np.inf)
        dead = probe.max(axis=-1, keepdims=True) == -np.inf
    p = _attention_probs(query, key, fmask, bmask, is_causal, scale, dead if dead.any() else None)
    return matmul(p, value)


# ---------------------------------------------------------------------------------------------
# the public function
# ---------------------------------------------------------------------------------------------
def _as_tensor(x, name: str, op: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray) or backend.is_cupy_array(x):
        return Tensor(x)
    raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")


def _check_qkv(query, key, value, op: str):
    q, k, v = (_as_tensor(t, n, op) for t, n in ((query, "query"), (key, "key"), (value, "value")))
    for t, n in ((q, "query"), (k, "key"), (v, "value")):
        if t.ndim < 2:
            raise ShapeError(f"{op}: query, key and value must be at least 2-D (..., seq_len, features), got "
                             f"{n} of shape {tuple(t.shape)}; add the sequence dim (x.unsqueeze(0))")
        if t.dtype.kind != "f":
            raise DTypeError(f"{op}: query, key and value must be floating point, got {n} of dtype "
                             f"gradus.{t.dtype.name}; use .float() or .double()")
    if not (q.dtype == k.dtype == v.dtype):
        raise DTypeError(f"{op}: query, key and value must have the same dtype, got gradus.{q.dtype.name}, "
                         f"gradus.{k.dtype.name} and gradus.{v.dtype.name}; convert them with .to(dtype)")
    if q.shape[-1] != k.shape[-1]:
        raise ShapeError(f"{op}: query and key must have the same embedding size E (last dim), got query "
                         f"{tuple(q.shape)} and key {tuple(k.shape)}; project them to a common size first")
    if k.shape[-2] != v.shape[-2]:
        raise ShapeError(f"{op}: key and value must have the same sequence length S (dim -2), got key "
                         f"{tuple(k.shape)} and value {tuple(v.shape)}")
    return q, k, v


def _batch_shape(q, k, v, op: str) -> tuple:
    try:
        return tuple(np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2]))
    except ValueError:
        raise ShapeError(f"{op}: the batch dims of query {tuple(q.shape)}, key {tuple(k.shape)} and value "
                         f"{tuple(v.shape)} (all but the last two) cannot be broadcast together") from None


def _check_mask(mask, target_shape, q: Tensor, op: str, name: str = "attn_mask"):
    """A float mask as a Tensor of q's dtype, or a bool mask as an array; checked against (..., L, S)."""
    m = _as_tensor(mask, name, op)
    if m.dtype != np.bool_ and m.dtype.kind != "f":
        raise DTypeError(f"{op}: {name} must be bool (True = the query may attend the key) or floating "
                         f"point (added to the scores), got gradus.{m.dtype.name}; use mask.bool() or "
                         "mask.to(query.dtype)")
    try:
        ok = np.broadcast_shapes(tuple(m.shape), target_shape) == target_shape
    except ValueError:
        ok = False
    if not ok:
        raise ShapeError(f"{op}: {name} of shape {tuple(m.shape)} does not broadcast to the attention "
                         f"scores' shape {target_shape} (..., L, S); give it shape (L, S) or one of "
                         "(N, 1, L, S), (N, heads, L, S)")
    if m.dtype == np.bool_:
        return m.data
    return m if m.dtype == q.dtype else m.to(q.dtype)


def _dropout_keep(shape, p: float, like: Tensor):
    """Bool keep-mask (probability 1 - p) from gradus' generator, on ``like``'s device."""
    keep = default_generator().random(shape, dtype=np.float32) >= p
    if backend.is_cupy_array(like.data):
        keep = backend.to_device(keep, like.device)
    return keep


def _sdpa(q: Tensor, k: Tensor, v: Tensor, mask, dropout_p: float, is_causal: bool, scale: float,
          safe: bool, with_weights: bool):
    """Apply the fused op (inputs checked): O, or (O, weights) with ``with_weights``."""
    keep, keep_scale = None, 1.0
    if dropout_p > 0.0:
        # the weights' shape: every batch dim of the scores and of the mask
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], () if mask is None else mask.shape[:-2])
        shape = tuple(batch) + (q.shape[-2], k.shape[-2])
        keep = _dropout_keep(shape, dropout_p, q)
        keep_scale = 0.0 if dropout_p >= 1.0 else 1.0 / (1.0 - dropout_p)
    return ScaledDotProductAttention.apply(q, k, v, mask, keep, keep_scale, float(scale), bool(is_causal),
                                           safe, with_weights)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(Q K^T * scale + M) V, fused (one graph node), PyTorch's semantics.

    Shapes: query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev); the leading
    (batch, head) dims broadcast. ``attn_mask``: bool (True = the query may attend the key) or float
    (added to the scores), broadcastable to (..., L, S). ``is_causal``: query i attends keys 0..i
    (cannot be combined with ``attn_mask``). ``scale`` defaults to 1/sqrt(E). ``dropout_p > 0``
    drops attention weights with probability p (scaling the rest by 1/(1-p)) on every call, as
    PyTorch's function does (a module passes 0 in eval mode). ``enable_gqa``: grouped-query
    attention, key/value with fewer heads (dim -3) than query, each shared by Hq/Hk query heads.

    A query whose keys are all masked gets a zero output row (and zero gradients), as in PyTorch.
    """
    op = "scaled_dot_product_attention"
    q, k, v = _check_qkv(query, key, value, op)
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{op}: dropout_p has to be between 0 and 1, but got {dropout_p}")
    if is_causal and attn_mask is not None:
        raise ValueError(f"{op}: an explicit attn_mask must not be set when is_causal=True; pass one of "
                         "them (to combine, build the mask: attn_mask & gradus.ones(L, S).tril().bool())")
    if enable_gqa:
        if q.ndim < 3 or k.ndim < 3 or v.ndim < 3:
            raise ShapeError(f"{op}: enable_gqa needs a head dim (-3) on query, key and value, got shapes "
                             f"{tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}")
        hq, hk, hv = q.shape[-3], k.shape[-3], v.shape[-3]
        if hk != hv or hq % hk:
            raise ShapeError(f"{op}: enable_gqa needs key and value with the same number of heads, dividing "
                             f"the query's; got {hq} query, {hk} key and {hv} value heads")
        if hq != hk:
            k = repeat_interleave(k, hq // hk, dim=-3)
            v = repeat_interleave(v, hq // hk, dim=-3)
    batch = _batch_shape(q, k, v, op)
    E = q.shape[-1]
    scale = 1.0 / math.sqrt(E) if scale is None else float(scale)
    mask = None
    if attn_mask is not None:
        mask = _check_mask(attn_mask, batch + (q.shape[-2], k.shape[-2]), q, op)
    return _sdpa(q, k, v, mask, dropout_p, is_causal, scale, safe=True, with_weights=False)


# ---------------------------------------------------------------------------------------------
# multi-head attention (the functional form of nn.MultiheadAttention)
# ---------------------------------------------------------------------------------------------
def _canonical_mask(mask, name: str, dtype, op: str):
    """PyTorch's mask canonicalisation for MHA: bool (True = NOT allowed) -> 0 / -inf in ``dtype``;
    a float mask is kept (cast to ``dtype``)."""
    if mask is None:
        return None
    m = _as_tensor(mask, name, op)
    if m.dtype == np.bool_:
        xp = xp_of(m.data)
        return Tensor._make(xp.where(m.data, -np.inf, 0.0).astype(dtype))
    if m.dtype.kind != "f":
        raise DTypeError(f"{op}: only bool and floating types of {name} are supported, got "
                         f"gradus.{m.dtype.name}; use {name}.bool() (True = masked out)")
    return m if m.dtype == dtype else m.to(dtype)


def _mask_kind(mask):
    if mask is None:
        return None
    return np.bool_ if mask.dtype == np.bool_ else "float"


def multi_head_attention_forward(query, key, value, embed_dim_to_check: int, num_heads: int, in_proj_weight,
                                 in_proj_bias, bias_k, bias_v, add_zero_attn: bool, dropout_p: float,
                                 out_proj_weight, out_proj_bias, training: bool = True, key_padding_mask=None,
                                 need_weights: bool = True, attn_mask=None,
                                 use_separate_proj_weight: bool = False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None, static_v=None,
                                 average_attn_weights: bool = True, is_causal: bool = False):
    """Multi-head attention (``nn.MultiheadAttention``'s computation), PyTorch's exactly.

    Shapes (sequence first): query (L, N, E), key (S, N, kdim), value (S, N, vdim), or unbatched
    (L, E), (S, kdim), (S, vdim). With H heads of size d = E/H::

        Q = query W_q^T + b_q,  K = key W_k^T + b_k,  V = value W_v^T + b_v     (in-projection)
        head_h = softmax(Q_h K_h^T / sqrt(d) + M) V_h                           (per head, (L, d))
        out = concat(head_1..head_H) W_o^T + b_o                                (L, N, E)

    Masks use MultiheadAttention's convention: bool True = NOT allowed, float = added.
    ``key_padding_mask`` (N, S) masks keys per sample; ``attn_mask`` (L, S) or (N*H, L, S). Returns
    ``(out, weights)``: weights (N, L, S) averaged over heads (``average_attn_weights``), else
    (N, H, L, S), after dropout; ``None`` with ``need_weights=False`` (then SDPA is used, and a fully
    masked row is 0 instead of NaN, as in PyTorch). ``is_causal`` is a hint that ``attn_mask`` is
    causal (it must be given): without weights or a padding mask the causal SDPA replaces the mask.
    """
    op = "multi_head_attention_forward (MultiheadAttention)"
    query = _as_tensor(query, "query", op)
    key = _as_tensor(key, "key", op)
    value = _as_tensor(value, "value", op)
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads, op)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = _as_tensor(key_padding_mask, "key_padding_mask", op).unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    if query.dtype.kind != "f":
        raise DTypeError(f"{op}: query must be floating point, got gradus.{query.dtype.name}; use .float()")
    if key_padding_mask is not None and attn_mask is not None \
            and _mask_kind(key_padding_mask) != _mask_kind(attn_mask):
        warnings.warn("Support for mismatched key_padding_mask and attn_mask is deprecated. Use same type "
                      "for both instead.", stacklevel=3)
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", query.dtype, op)
    if is_causal and attn_mask is None:
        raise ValueError(f"{op}: is_causal=True needs attn_mask (it is only a hint that the mask is causal); "
                         "pass attn_mask=nn.Transformer.generate_square_subsequent_mask(L)")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None       # SDPA's causal mode replaces the (causal) mask
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", query.dtype, op)
        if key_padding_mask is not None:
            is_causal = False  # the merged mask is no longer causal
    if embed_dim != embed_dim_to_check:
        raise ShapeError(f"{op}: expected the query's embedding dimension (last dim) to be embed_dim="
                         f"{embed_dim_to_check}, got {embed_dim} (query shape {tuple(query.shape)})")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise ValueError(f"{op}: embed_dim {embed_dim} is not divisible by num_heads {num_heads}; choose "
                         "num_heads among the divisors of embed_dim")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise ShapeError(f"{op}: key's sequence and batch dims {tuple(key.shape[:2])} do not match "
                             f"value's {tuple(value.shape[:2])}")
    elif tuple(key.shape) != tuple(value.shape):
        raise ShapeError(f"{op}: key shape {tuple(key.shape)} does not match value shape "
                         f"{tuple(value.shape)} (with kdim = vdim = embed_dim they must be equal)")
    if key.shape[1] != bsz:
        raise ShapeError(f"{op}: query and key must have the same batch size (dim 1, or dim 0 with "
                         f"batch_first=True), got query {tuple(query.shape)} and key {tuple(key.shape)}")

    # -- in-projection
    if not use_separate_proj_weight:
        for t, n in ((key, "key"), (value, "value")):
            if t.shape[-1] != embed_dim:
                raise ShapeError(f"{op}: {n} has {t.shape[-1]} features (last dim) but the packed "
                                 f"in-projection expects embed_dim={embed_dim}; pass kdim/vdim to "
                                 "MultiheadAttention for other sizes")
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)
    else:
        for t, w, n in ((key, k_proj_weight, "key"), (value, v_proj_weight, "value")):
            if t.shape[-1] != w.shape[1]:
                raise ShapeError(f"{op}: {n} has {t.shape[-1]} features (last dim) but "
                                 f"{n[0]}_proj_weight {tuple(w.shape)} expects {w.shape[1]} (kdim/vdim)")
        b_q = b_k = b_v = None
        if in_proj_bias is not None:
            b_q, b_k, b_v = in_proj_bias.chunk(3)
        q = linear(query, q_proj_weight, b_q)
        k = linear(key, k_proj_weight, b_k)
        v = linear(value, v_proj_weight, b_v)

    # -- masks to (1 or N*H, L, S)
    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise ShapeError(f"{op}: the shape of the 2-D attn_mask is {tuple(attn_mask.shape)}, but "
                                 f"should be (L, S) = {(tgt_len, src_len)}")
            attn_mask = attn_mask.unsqueeze(0)
        elif tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
            raise ShapeError(f"{op}: the shape of the 3-D attn_mask is {tuple(attn_mask.shape)}, but should "
                             f"be (N*num_heads, L, S) = {(bsz * num_heads, tgt_len, src_len)}")

    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise ValueError(f"{op}: bias_k/bias_v cannot be added to a static key/value")
        k = cat([k, bias_k.repeat(1, bsz, 1)])
        v = cat([v, bias_v.repeat(1, bsz, 1)])
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    elif (bias_k is None) != (bias_v is None):
        raise ValueError(f"{op}: bias_k and bias_v must be given together")

    # -- heads: (L, N, E) -> (N*H, L, d), as PyTorch lays them out (batch-major, then head)
    q = reshape(q, (tgt_len, bsz * num_heads, head_dim)).transpose(0, 1)
    if static_k is None:
        k = reshape(k, (k.shape[0], bsz * num_heads, head_dim)).transpose(0, 1)
    else:
        if tuple(static_k.shape[::2]) != (bsz * num_heads, head_dim):
            raise ShapeError(f"{op}: static_k must have shape (N*num_heads, S, head_dim) = "
                             f"({bsz * num_heads}, S, {head_dim}), got {tuple(static_k.shape)}")
        k = static_k
    if static_v is None:
        v = reshape(v, (v.shape[0], bsz * num_heads, head_dim)).transpose(0, 1)
    else:
        if tuple(static_v.shape[::2]) != (bsz * num_heads, head_dim):
            raise ShapeError(f"{op}: static_v must have shape (N*num_heads, S, head_dim) = "
                             f"({bsz * num_heads}, S, {head_dim}), got {tuple(static_v.shape)}")
        v = static_v

    if add_zero_attn:
        xp = xp_of(k.data)
        zeros = Tensor._make(xp.zeros((bsz * num_heads, 1, head_dim), dtype=k.data.dtype))
        k = cat([k, zeros], 1)
        v = cat([v, zeros], 1)
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    src_len = k.shape[1]

    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise ShapeError(f"{op}: key_padding_mask must have shape (N, S) = {(bsz, src_len)}, got "
                             f"{tuple(key_padding_mask.shape)}")
        kpm = reshape(key_padding_mask, (bsz, 1, 1, src_len)).expand(-1, num_heads, -1, -1)
        kpm = reshape(kpm, (bsz * num_heads, 1, src_len))
        attn_mask = kpm if attn_mask is None else attn_mask + kpm

    if not training:
        dropout_p = 0.0
    # per sample and head: (N, H, L, d); the fused op takes any batch dims
    q4 = reshape(q, (bsz, num_heads, tgt_len, head_dim))
    k4 = reshape(k, (bsz, num_heads, src_len, head_dim))
    v4 = reshape(v, (bsz, num_heads, src_len, head_dim))
    mask4 = None
    if attn_mask is not None:
        # (1, L, S) -> (1, 1, L, S); (N*H, L or 1, S) -> (N, H, L or 1, S)
        mask4 = attn_mask.unsqueeze(0) if attn_mask.shape[0] == 1 else \
            reshape(attn_mask, (bsz, num_heads, -1, src_len))
    scale = 1.0 / math.sqrt(head_dim)
    if need_weights:
        # PyTorch's weights path: a plain softmax (NaN for a fully masked row), weights after dropout
        out, weights = _sdpa(q4, k4, v4, mask4, dropout_p, False, scale, safe=False, with_weights=True)
    else:
        out = _sdpa(q4, k4, v4, mask4, dropout_p, is_causal, scale, safe=True, with_weights=False)
        weights = None
    out = reshape(out.permute(2, 0, 1, 3), (tgt_len * bsz, embed_dim))     # (L, N, H, d) -> (L*N, E)
    out = reshape(linear(out, out_proj_weight, out_proj_bias), (tgt_len, bsz, out_proj_weight.shape[0]))
    if weights is not None and average_attn_weights:
        weights = mean(weights, 1)
    if not is_batched:
        out = out.squeeze(1)
        if weights is not None:
            weights = weights.squeeze(0)
    return out, weights


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads, op) -> bool:
    """Batched (3-D) or unbatched (2-D) input, and masks of the matching rank (PyTorch's checks)."""
    if query.ndim == 3:
        if key.ndim != 3 or value.ndim != 3:
            raise ShapeError(f"{op}: for batched (3-D) query {tuple(query.shape)}, expected 3-D key and "
                             f"value, got shapes {tuple(key.shape)} and {tuple(value.shape)}")
        if key_padding_mask is not None and key_padding_mask.ndim != 2:
            raise ShapeError(f"{op}: for batched (3-D) query, key_padding_mask must be None or 2-D (N, S), "
                             f"got shape {tuple(key_padding_mask.shape)}")
        if attn_mask is not None and attn_mask.ndim not in (2, 3):
            raise ShapeError(f"{op}: attn_mask must be 2-D (L, S) or 3-D (N*num_heads, L, S), got shape "
                             f"{tuple(attn_mask.shape)}")
        return True
    if query.ndim == 2:
        if key.ndim != 2 or value.ndim != 2:
            raise ShapeError(f"{op}: for unbatched (2-D) query {tuple(query.shape)}, expected 2-D key and "
                             f"value, got shapes {tuple(key.shape)} and {tuple(value.shape)}")
        if key_padding_mask is not None and key_padding_mask.ndim != 1:
            raise ShapeError(f"{op}: for unbatched (2-D) query, key_padding_mask must be None or 1-D (S,), "
                             f"got shape {tuple(key_padding_mask.shape)}")
        if attn_mask is not None:
            if attn_mask.ndim not in (2, 3):
                raise ShapeError(f"{op}: attn_mask must be 2-D (L, S) or 3-D (num_heads, L, S), got shape "
                                 f"{tuple(attn_mask.shape)}")
            if attn_mask.ndim == 3 and tuple(attn_mask.shape) != (num_heads, query.shape[0], key.shape[0]):
                raise ShapeError(f"{op}: expected a 3-D attn_mask of shape (num_heads, L, S) = "
                                 f"{(num_heads, query.shape[0], key.shape[0])}, got {tuple(attn_mask.shape)}")
        return False
    raise ShapeError(f"{op}: query should be unbatched 2-D (L, E) or batched 3-D (L, N, E) (or (N, L, E) "
                     f"with batch_first=True), got shape {tuple(query.shape)}")


def _in_projection_packed(q, k, v, w, b):
    """Q, K, V from the packed (3E, E) weight: one GEMM for self-attention (q is k is v), two for
    encoder-decoder attention (k is v), three otherwise -- PyTorch's split."""
    E = q.shape[-1]
    if k is v:
        if q is k:
            return linear(q, w, b).chunk(3, -1)
        b_q = b_kv = None
        if b is not None:
            b_q, b_kv = b[:E], b[E:]
        kv = linear(k, w[E:], b_kv).chunk(2, -1)
        return linear(q, w[:E], b_q), kv[0], kv[1]
    w_q, w_k, w_v = w.chunk(3)
    b_q = b_k = b_v = None
    if b is not None:
        b_q, b_k, b_v = b.chunk(3)
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)
