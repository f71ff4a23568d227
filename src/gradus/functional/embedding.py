"""``embedding`` (with ``padding_idx`` and ``max_norm``) and ``one_hot``.

    >>> import gradus
    >>> import gradus.functional as F
    >>> W = gradus.arange(6.0).reshape(3, 2)
    >>> F.embedding(gradus.tensor([[2, 0]]), W)
    tensor([[[4., 5.],
             [0., 1.]]])

The lookup ``y[..., :] = weight[input[...], :]`` is a row gather; its gradient scatter-adds ``gy``
into the picked rows (repeated indices accumulate). Rows looked up through ``padding_idx`` receive no
gradient, so a padding vector stays what it was initialised to (zero in ``nn.Embedding``).
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..autograd.grad_mode import no_grad
from ..errors import GradIndexError, ShapeError
from ..ops.indexing import IndexAdd, one_hot  # noqa: F401  (one_hot re-exported as F.one_hot)
from ..tensor import Tensor

__all__ = ["embedding", "one_hot"]

xp_of = backend.get_array_module


class Embedding(Function):
    """y = weight[idx] (rows);  gweight = zeros with gy rows added at idx (none at ``padding_idx``).

    Shapes: weight (V, D), idx flat (B,) -> y (B, D).
    """

    @staticmethod
    def forward(ctx, weight, idx, padding_idx):
        ctx.save_raw(idx=idx)
        ctx.padding_idx, ctx.num = padding_idx, weight.shape[0]
        return xp_of(weight).take(weight, idx, axis=0)

    @staticmethod
    def backward(ctx, gy):
        if ctx.padding_idx is not None:
            keep = (ctx.idx != ctx.padding_idx)[:, None]
            gy = gy * keep
        return IndexAdd.apply(gy, 0, ctx.idx, ctx.num), None, None


def embedding(input, weight, padding_idx: int | None = None, max_norm: float | None = None,  # noqa: A002
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Look up rows of ``weight`` (V, D) with integer ``input`` (any shape) -> ``(*input.shape, D)``.

    ``max_norm``: rows looked up are first renormalised in place to norm <= max_norm (PyTorch).
    """
    idx = input.data if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers (int64), got dtype {idx.dtype}")
    if weight.ndim != 2:
        raise ShapeError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got shape "
                         f"{tuple(weight.shape)}")
    V = weight.shape[0]
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= V):
        bad = int(idx.max()) if int(idx.max()) >= V else int(idx.min())
        raise GradIndexError(f"embedding: index {bad} is out of range for an embedding table of {V} rows "
                             f"(num_embeddings={V}, weight shape {tuple(weight.shape)})")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += V
    flat = idx.reshape(-1)
    if max_norm is not None:
        _renorm_rows(weight, flat, max_norm, norm_type)
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: scale_grad_by_freq and sparse gradients are not supported")
    y = Embedding.apply(weight, flat, padding_idx)
    return y.reshape(idx.shape + (weight.shape[1],))


def _renorm_rows(weight, idx, max_norm: float, norm_type: float) -> None:
    xp = xp_of(weight.data)
    rows = xp.unique(idx)
    w = weight.data[rows]
    norms = (xp.abs(w) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(w.dtype)
    with no_grad():
        weight.data[rows] = w * scale[:, None]
