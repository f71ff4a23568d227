"""``MultiheadAttention``, PyTorch's exactly (parameters, initialisation, masks, outputs).

    >>> import gradus
    >>> from gradus import nn
    >>> mha = nn.MultiheadAttention(embed_dim=8, num_heads=2, batch_first=True)
    >>> x = gradus.zeros(4, 5, 8)                                  # (N, L, E)
    >>> out, weights = mha(x, x, x)
    >>> out.shape, weights.shape                                   # weights averaged over heads
    ((4, 5, 8), (4, 5, 5))
    >>> list(mha.state_dict())
    ['in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias']

With H heads of size d = E/H (Vaswani et al. 2017, section 3.2.2)::

    head_h = softmax((x_q W_q,h)(x_k W_k,h)^T / sqrt(d) + M) (x_v W_v,h)
    out    = concat(head_1, ..., head_H) W_o^T + b_o

The computation is ``F.multi_head_attention_forward`` (``functional/attention.py``), whose attention
is the fused ``scaled_dot_product_attention`` node.

**Mask conventions are MultiheadAttention's** (the opposite of ``F.scaled_dot_product_attention``'s
bool masks): a bool mask is True where attention is **not** allowed; a float mask is added to the
scores. ``key_padding_mask`` (N, S) hides padded keys per sample; ``attn_mask`` (L, S) or
(N*num_heads, L, S) hides positions (a causal mask: ``nn.Transformer.generate_square_subsequent_mask``).
A query that may attend no key gets NaN with ``need_weights=True`` and zeros with
``need_weights=False``, as in PyTorch 2.13 (which runs a plain softmax in the first case and SDPA in
the second).
"""
from __future__ import annotations

from ..errors import DTypeError, ShapeError
from ..functional.attention import multi_head_attention_forward
from ..tensor import Tensor
from . import init
from .linear import Linear, _empty
from .module import Module, Parameter

__all__ = ["MultiheadAttention"]


class MultiheadAttention(Module):
    """Multi-head attention: ``out, weights = mha(query, key, value)``.

    Args (PyTorch's): ``embed_dim`` E, ``num_heads`` H (E must be divisible by H), ``dropout`` on the
    attention weights (training only), ``bias`` (in- and out-projection biases), ``add_bias_kv``
    (learned ``bias_k``/``bias_v`` (1, 1, E) appended to the keys/values as one extra position),
    ``add_zero_attn`` (one extra all-zero key/value position), ``kdim``/``vdim`` (the key/value
    feature sizes, E by default), ``batch_first`` ((N, L, E) instead of (L, N, E)).

    Parameters (names as PyTorch, so a torch ``state_dict`` loads): ``in_proj_weight`` (3E, E) packing
    W_q, W_k, W_v when kdim = vdim = E, else ``q_proj_weight`` (E, E), ``k_proj_weight`` (E, kdim),
    ``v_proj_weight`` (E, vdim); ``in_proj_bias`` (3E,); ``out_proj`` an ``nn.Linear(E, E)``
    (``out_proj.weight``, ``out_proj.bias``). Initialisation as PyTorch: ``xavier_uniform_`` on the
    in-projection (on the packed (3E, E) matrix), zeros for both biases, out_proj.weight as any
    Linear, ``xavier_normal_`` for bias_k/bias_v.

    Shapes (forward): query (L, N, E), key (S, N, kdim), value (S, N, vdim) (batch first with
    ``batch_first=True``; unbatched (L, E) also accepted) -> output (L, N, E) and weights (N, L, S)
    averaged over heads, (N, H, L, S) with ``average_attn_weights=False``, or None with
    ``need_weights=False``.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device=None, dtype=None):
        super().__init__()
        for name, v in (("embed_dim", embed_dim), ("num_heads", num_heads)):
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"MultiheadAttention: {name} must be a positive integer, got {v!r}")
        if embed_dim % num_heads:
            divisors = [h for h in range(1, embed_dim + 1) if embed_dim % h == 0]
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by num_heads "
                             f"({num_heads}): each head gets embed_dim // num_heads features; choose "
                             f"num_heads among {divisors}")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"MultiheadAttention: dropout must be a probability in [0, 1], got {dropout!r}")
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads

        def param(*shape):
            return Parameter(Tensor._make(_empty(shape, dtype, device)))

        if not self._qkv_same_embed_dim:
            self.q_proj_weight = param(embed_dim, embed_dim)
            self.k_proj_weight = param(embed_dim, self.kdim)
            self.v_proj_weight = param(embed_dim, self.vdim)
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = param(3 * embed_dim, embed_dim)
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = param(3 * embed_dim)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, device=device, dtype=dtype)
        if add_bias_kv:
            self.bias_k = param(1, 1, embed_dim)
            self.bias_v = param(1, 1, embed_dim)
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(self, query, key, value, key_padding_mask=None, need_weights: bool = True, attn_mask=None,
                average_attn_weights: bool = True, is_causal: bool = False):
        """(attn_output, attn_weights or None); see the class docstring for shapes and masks."""
        name = type(self).__name__
        for t, n in ((query, "query"), (key, "key"), (value, "value")):
            if not isinstance(t, Tensor):
                raise TypeError(f"{name}: {n} must be a Tensor, got {type(t).__name__}")
        self._check_inputs(query, key, value, name)
        is_batched = query.ndim == 3
        if self.batch_first and is_batched:
            # keep the "is" identities: they pick the one-GEMM self-attention projection
            if key is value:
                if query is key:
                    query = key = value = query.transpose(1, 0)
                else:
                    query, key = (x.transpose(1, 0) for x in (query, key))
                    value = key
            else:
                query, key, value = (x.transpose(1, 0) for x in (query, key, value))
        out, weights = multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias,
            self.bias_k, self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight,
            self.out_proj.bias, training=self.training, key_padding_mask=key_padding_mask,
            need_weights=need_weights, attn_mask=attn_mask,
            use_separate_proj_weight=not self._qkv_same_embed_dim, q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights, is_causal=is_causal)
        if self.batch_first and is_batched:
            out = out.transpose(1, 0)
        return out, weights

    def _check_inputs(self, query, key, value, name: str) -> None:
        """The layer's own checks first, so a mistake names the layer, the shapes and the fix."""
        if query.ndim not in (2, 3):
            layout = "(N, L, E)" if self.batch_first else "(L, N, E)"
            raise ShapeError(f"{name}: query must be 3-D {layout} or 2-D (L, E) unbatched, got shape "
                             f"{tuple(query.shape)}")
        for t, n, size, arg in ((query, "query", self.embed_dim, "embed_dim"),
                                (key, "key", self.kdim, "kdim"), (value, "value", self.vdim, "vdim")):
            if t.ndim != query.ndim:
                raise ShapeError(f"{name}: query, key and value must all be batched (3-D) or all unbatched "
                                 f"(2-D), got shapes {tuple(query.shape)}, {tuple(key.shape)}, "
                                 f"{tuple(value.shape)}")
            if t.shape[-1] != size:
                raise ShapeError(f"{name}: {n} has {t.shape[-1]} features (last dim, shape {tuple(t.shape)}) "
                                 f"but the layer was built with {arg}={size}; pass {arg}={t.shape[-1]} to "
                                 "the constructor or project the input")
        w = self.out_proj.weight
        if query.dtype != w.dtype:
            raise DTypeError(f"{name}: query dtype gradus.{query.dtype.name} does not match the layer's "
                             f"parameters (gradus.{w.dtype.name}); convert the input (.to(gradus."
                             f"{w.dtype.name})) or the layer (.to(gradus.{query.dtype.name}))")
        if query.ndim == 3:
            b = 0 if self.batch_first else 1
            if not (query.shape[b] == key.shape[b] == value.shape[b]):
                where = "dim 0 (batch_first=True)" if self.batch_first else "dim 1 (batch_first=False)"
                raise ShapeError(f"{name}: query, key and value must have the same batch size in {where}, "
                                 f"got shapes {tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}")
        s = 1 if (self.batch_first and query.ndim == 3) else 0
        if key.shape[s] != value.shape[s]:
            raise ShapeError(f"{name}: key and value must have the same sequence length S, got shapes "
                             f"{tuple(key.shape)} and {tuple(value.shape)}")
