"""Positional encodings for attention models (gradus extensions: PyTorch has no such modules; its
tutorials write them by hand).

    >>> import gradus
    >>> from gradus import nn
    >>> pe = nn.SinusoidalPositionalEncoding(d_model=6, max_len=50, batch_first=True)
    >>> pe(gradus.zeros(2, 10, 6)).shape                 # (N, T, d_model): x + PE[:T]
    (2, 10, 6)
    >>> list(pe.state_dict())                            # the table is a non-persistent buffer
    []
    >>> lpe = nn.LearnedPositionalEncoding(max_len=50, d_model=6)
    >>> list(lpe.state_dict())
    ['embedding.weight']

Why they are needed: attention is permutation-equivariant (shuffling the keys and values shuffles
nothing in the output), so a Transformer sees a bag of tokens unless position is added to each
token's vector. Both modules compute ``dropout(x + P[t])`` for the token at position t; the
sinusoidal table is fixed, the learned one is trained.
"""
from __future__ import annotations

import math

import numpy as np

from .. import dtypes as _dt
from ..backend import get_array_module
from ..errors import ShapeError
from ..functional.dropout import dropout
from ..tensor import Tensor
from . import init
from .embedding import Embedding
from .module import Module

__all__ = ["SinusoidalPositionalEncoding", "LearnedPositionalEncoding"]


def _check(x, d_model: int, max_len: int, batch_first: bool, who: str) -> int:
    """The sequence length of ``x`` ((T, N, d) / (N, T, d) / (T, d)), after checking its shape."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{who}: input must be a Tensor, got {type(x).__name__}")
    if x.ndim not in (2, 3) or x.shape[-1] != d_model:
        layout = "(N, T, d_model)" if batch_first else "(T, N, d_model)"
        raise ShapeError(f"{who}: expected input of shape {layout} (batch_first={batch_first}) or "
                         f"(T, d_model) with d_model={d_model}, got {tuple(x.shape)}")
    T = x.shape[1] if (x.ndim == 3 and batch_first) else x.shape[0]
    if T > max_len:
        raise ShapeError(f"{who}: the sequence has {T} positions but max_len={max_len}; build the module "
                         f"with max_len >= {T}")
    return T


def _positions_shape(x, T: int, d: int, batch_first: bool) -> tuple:
    """How P[:T] (T, d) broadcasts against x: (T, 1, d), (1, T, d) or (T, d)."""
    if x.ndim == 2:
        return (T, d)
    return (1, T, d) if batch_first else (T, 1, d)


class SinusoidalPositionalEncoding(Module):
    """The fixed encoding of "Attention Is All You Need" (Vaswani et al. 2017, section 3.5)::

        PE[t, 2i]   = sin(t / 10000^(2i / d_model))
        PE[t, 2i+1] = cos(t / 10000^(2i / d_model))          t = 0 .. max_len-1

    Each pair of dimensions is a sinusoid of its own wavelength (2 pi to 10000 * 2 pi), so PE[t + k]
    is a linear function (a rotation) of PE[t] for every offset k. ``forward(x) = dropout(x + PE[:T])``.

    Shapes: x (T, N, d_model), or (N, T, d_model) with ``batch_first=True``, or (T, d_model) -> same.
    ``pe`` is a non-persistent buffer (max_len, d_model): recomputed, never in the state_dict, and
    moved by ``.to()`` with the module. An odd ``d_model`` ends with a sine column. The Transformer
    paper also multiplies the token embeddings by sqrt(d_model) before adding PE (do that in the
    model, as PyTorch's tutorial does).
    """

    def __init__(self, d_model: int, max_len: int = 5000, dropout: float = 0.0,
                 batch_first: bool = False, device=None, dtype=None):
        super().__init__()
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"SinusoidalPositionalEncoding: dropout must be in [0, 1], got {dropout!r}")
        self.d_model, self.max_len, self.dropout, self.batch_first = d_model, max_len, dropout, batch_first
        pos = np.arange(max_len, dtype=np.float64)[:, None]
        div = np.exp(np.arange(0, d_model, 2, dtype=np.float64) * (-math.log(10000.0) / d_model))
        pe = np.zeros((max_len, d_model))
        pe[:, 0::2] = np.sin(pos * div)
        pe[:, 1::2] = np.cos(pos * div[: d_model // 2])
        d = _dt.to_dtype(dtype) if dtype is not None else _dt.get_default_dtype()
        self.register_buffer("pe", Tensor._make(pe.astype(d)), persistent=False)
        if device is not None:
            self.to(device)

    def forward(self, x):
        T = _check(x, self.d_model, self.max_len, self.batch_first, type(self).__name__)
        p = self.pe.data[:T].reshape(_positions_shape(x, T, self.d_model, self.batch_first))
        return dropout(x + Tensor._make(p.astype(x.dtype, copy=False)), self.dropout, self.training)

    def extra_repr(self) -> str:
        return (f"d_model={self.d_model}, max_len={self.max_len}, dropout={self.dropout}, "
                f"batch_first={self.batch_first}")


class LearnedPositionalEncoding(Module):
    """A trained vector per position (BERT, GPT-2): ``forward(x) = dropout(x + P[0:T])`` with
    ``P = embedding.weight`` (max_len, d_model), an ``nn.Embedding`` of the positions 0..max_len-1.

    Initialised N(0, ``init_std``^2), 0.02 by default (BERT's and GPT-2's choice: small against
    unit-scale token embeddings, so training starts close to a bag of tokens and learns how much position to
    add). Shapes: x (T, N, d_model), or (N, T, d_model) with ``batch_first=True``, or (T, d_model)
    -> same; sequences longer than ``max_len`` are an error (there is no vector for them).
    """

    def __init__(self, max_len: int, d_model: int, dropout: float = 0.0, batch_first: bool = False,
                 init_std: float = 0.02, device=None, dtype=None):
        super().__init__()
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"LearnedPositionalEncoding: dropout must be in [0, 1], got {dropout!r}")
        self.max_len, self.d_model, self.dropout, self.batch_first = max_len, d_model, dropout, batch_first
        self.init_std = init_std
        self.embedding = Embedding(max_len, d_model, device=device, dtype=dtype)
        init.normal_(self.embedding.weight, 0.0, init_std)

    def forward(self, x):
        T = _check(x, self.d_model, self.max_len, self.batch_first, type(self).__name__)
        xp = get_array_module(x.data)
        p = self.embedding(Tensor._make(xp.arange(T)))                                # (T, d_model)
        p = p.reshape(_positions_shape(x, T, self.d_model, self.batch_first))
        return dropout(x + p, self.dropout, self.training)

    def extra_repr(self) -> str:
        return (f"max_len={self.max_len}, d_model={self.d_model}, dropout={self.dropout}, "
                f"batch_first={self.batch_first}")
