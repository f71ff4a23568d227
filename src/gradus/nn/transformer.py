"""The Transformer (Vaswani et al. 2017) as ``torch.nn`` has it: ``TransformerEncoderLayer``,
``TransformerDecoderLayer``, ``TransformerEncoder``, ``TransformerDecoder`` and ``Transformer``.

    >>> import gradus
    >>> from gradus import nn
    >>> model = nn.Transformer(d_model=16, nhead=4, num_encoder_layers=2, num_decoder_layers=2,
    ...                        dim_feedforward=32, dropout=0.0, batch_first=True)
    >>> src, tgt = gradus.zeros(3, 7, 16), gradus.zeros(3, 5, 16)          # (N, S, E), (N, T, E)
    >>> mask = nn.Transformer.generate_square_subsequent_mask(5)
    >>> model(src, tgt, tgt_mask=mask).shape
    (3, 5, 16)
    >>> [k for k in model.state_dict()][:3]                     # doctest: +NORMALIZE_WHITESPACE
    ['encoder.layers.0.self_attn.in_proj_weight', 'encoder.layers.0.self_attn.in_proj_bias',
     'encoder.layers.0.self_attn.out_proj.weight']

Same names, arguments, defaults, submodules and state_dict keys as PyTorch (``self_attn``, ``linear1``,
``dropout``, ``linear2``, ``norm1``, ``norm2``, ``dropout1``, ``dropout2``; the decoder adds
``multihead_attn``, ``norm3``, ``dropout3``; stacks keep ``layers.<i>`` and ``norm``), so a torch
``state_dict`` loads with ``load_state_dict`` and outputs and gradients match in float64
(tests/oracle/test_transformer_oracle.py).

One encoder layer, post-norm (``norm_first=False``, the paper's) and pre-norm (``norm_first=True``,
which trains deep stacks without warm-up; Xiong et al. 2020)::

    post-norm:  x = norm1(x + SA(x));            x = norm2(x + FF(x))
    pre-norm:   x = x + SA(norm1(x));            x = x + FF(norm2(x))
    SA(x) = dropout1(self_attn(x, x, x)),  FF(x) = dropout2(linear2(dropout(activation(linear1(x)))))

The decoder layer inserts cross-attention on the encoder output (``memory``) between the two:
``x = norm2(x + dropout2(multihead_attn(x, memory, memory)))`` (or its pre-norm form).

Masks follow ``nn.MultiheadAttention``: bool True = NOT allowed, float = added to the scores;
``*_mask`` is (T, T) / (T, S) or (N*nhead, ., .), ``*_key_padding_mask`` is (N, S).
``generate_square_subsequent_mask(sz)`` is the causal float mask (0 on and below the diagonal, -inf
above). ``*_is_causal`` are hints that the mask is causal; ``None`` (the stacks' default) detects it
by comparing with the generated mask, as PyTorch does.

Deviation: PyTorch's inference fast path (eval mode under ``no_grad``, batch_first, with a
``src_key_padding_mask``) packs the encoder input as a nested tensor and returns **zeros** at padded
positions of the encoder output; gradus always computes the ordinary path, so those (padded, unused)
positions hold the values the training path gives. Every non-padded position is the same.
"""
from __future__ import annotations

import copy

import numpy as np

from .. import functional as F
from ..backend import get_array_module
from ..errors import ShapeError
from ..tensor import Tensor
from . import init
from .activation import GELU, ReLU
from .attention import MultiheadAttention
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .norm import LayerNorm

__all__ = ["Transformer", "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer",
           "TransformerDecoderLayer"]


def _generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> Tensor:
    """(sz, sz) float mask: 0 where j <= i, -inf where j > i (position i sees positions 0..i)."""
    from .. import dtypes as _dt

    dt = _dt.to_dtype(dtype) if dtype is not None else _dt.get_default_dtype()
    m = np.triu(np.full((sz, sz), -np.inf, dtype=dt), 1)
    t = Tensor._make(m)
    return t.to(device) if device is not None else t


def _get_activation_fn(activation, who: str):
    if isinstance(activation, str):
        if activation == "relu":
            return F.relu
        if activation == "gelu":
            return F.gelu
        raise ValueError(f"{who}: activation should be 'relu' or 'gelu' (or a callable such as "
                         f"nn.GELU(approximate='tanh')), not {activation!r}")
    if not callable(activation):
        raise TypeError(f"{who}: activation must be 'relu', 'gelu' or a callable, got "
                        f"{type(activation).__name__}")
    return activation


def _seq_len(src: Tensor, batch_first: bool) -> int:
    if src.ndim == 2:
        return src.shape[0]
    return src.shape[1 if batch_first else 0]


def _detect_is_causal_mask(mask, is_causal=None, size=None) -> bool:
    """``is_causal`` when given; else whether ``mask`` equals the generated causal mask (PyTorch's rule)."""
    make_causal = is_causal is True
    if is_causal is None and mask is not None:
        sz = size if size is not None else mask.shape[-2]
        if tuple(mask.shape) == (sz, sz):
            data = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
            xp = get_array_module(data)
            # PyTorch's comparison mask in the mask's dtype: -inf above the diagonal (True for bool)
            fill = True if data.dtype == np.bool_ else -np.inf
            ref = xp.triu(xp.full((sz, sz), fill, dtype=data.dtype), 1)
            make_causal = bool((data == ref).all())
        else:
            make_causal = False
    return make_causal


def _check_input(x, d_model: int, batch_first: bool, who: str, name: str) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{who}: {name} must be a Tensor, got {type(x).__name__}")
    if x.ndim not in (2, 3):
        layout = "(N, S, E)" if batch_first else "(S, N, E)"
        raise ShapeError(f"{who}: {name} must be 3-D {layout} (batch_first={batch_first}) or 2-D (S, E) "
                         f"unbatched, got shape {tuple(x.shape)}")
    if x.shape[-1] != d_model:
        raise ShapeError(f"{who}: {name} has {x.shape[-1]} features (last dim, shape {tuple(x.shape)}) but "
                         f"d_model={d_model}; embed the tokens to d_model features first (nn.Embedding / "
                         "nn.Linear)")


def _check_batch(a, b, batch_first: bool, who: str, names) -> None:
    if a.ndim == 3 and b.ndim == 3:
        d = 0 if batch_first else 1
        if a.shape[d] != b.shape[d]:
            raise ShapeError(f"{who}: the batch size of {names[0]} {tuple(a.shape)} and {names[1]} "
                             f"{tuple(b.shape)} must be equal (dim {d} with batch_first={batch_first})")
    elif a.ndim != b.ndim:
        raise ShapeError(f"{who}: {names[0]} {tuple(a.shape)} and {names[1]} {tuple(b.shape)} must both be "
                         "batched (3-D) or both unbatched (2-D)")


class TransformerEncoderLayer(Module):
    """Self-attention + feed-forward block (see the module docstring for the formulas).

    Args (PyTorch's): ``d_model`` E, ``nhead``, ``dim_feedforward`` (2048), ``dropout`` (0.1),
    ``activation`` ("relu", "gelu" or a callable), ``layer_norm_eps`` (1e-5), ``batch_first``,
    ``norm_first`` (pre-norm), ``bias`` (Linear and LayerNorm biases).

    Shapes: src (S, N, E) ((N, S, E) with batch_first; (S, E) unbatched) -> same shape.
    ``src_mask`` (S, S) or (N*nhead, S, S); ``src_key_padding_mask`` (N, S).
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation="relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None):
        super().__init__()
        fk = dict(device=device, dtype=dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, **fk)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **fk)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **fk)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **fk)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **fk)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        act = _get_activation_fn(activation, type(self).__name__)
        self.activation_relu_or_gelu = 1 if (act is F.relu or isinstance(act, ReLU)) else \
            2 if (act is F.gelu or isinstance(act, GELU)) else 0
        self.activation = act

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal: bool = False):
        who = type(self).__name__
        _check_input(src, self.self_attn.embed_dim, self.self_attn.batch_first, who, "src")
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal=is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal=is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal: bool = False):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout2(x)


class TransformerDecoderLayer(Module):
    """Self-attention + cross-attention on ``memory`` + feed-forward (arguments as the encoder layer).

    Shapes: tgt (T, N, E), memory (S, N, E) (batch first with batch_first; unbatched 2-D) -> (T, N, E).
    ``tgt_mask`` (T, T) (causal: ``Transformer.generate_square_subsequent_mask(T)``), ``memory_mask``
    (T, S), ``tgt_key_padding_mask`` (N, T), ``memory_key_padding_mask`` (N, S).
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation="relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None):
        super().__init__()
        fk = dict(device=device, dtype=dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=batch_first,
                                            bias=bias, **fk)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=batch_first,
                                                 bias=bias, **fk)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **fk)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **fk)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **fk)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **fk)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **fk)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _get_activation_fn(activation, type(self).__name__)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal: bool = False, memory_is_causal: bool = False):
        who = type(self).__name__
        bf = self.self_attn.batch_first
        _check_input(tgt, self.self_attn.embed_dim, bf, who, "tgt")
        _check_input(memory, self.self_attn.embed_dim, bf, who, "memory")
        _check_batch(tgt, memory, bf, who, ("tgt", "memory"))
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask,
                                    memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask,
                                               memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal: bool = False):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           is_causal=is_causal, need_weights=False)[0]
        return self.dropout1(x)

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal: bool = False):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                                is_causal=is_causal, need_weights=False)[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout3(x)


def _get_clones(module: Module, n: int) -> ModuleList:
    """n independent deep copies (PyTorch's: every layer starts from the same weights)."""
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


class TransformerEncoder(Module):
    """A stack of ``num_layers`` deep copies of ``encoder_layer`` (``layers.<i>``), then ``norm`` if given.

    As in PyTorch all layers start from the same weights (copies); ``nn.Transformer`` re-initialises
    them. ``enable_nested_tensor`` / ``mask_check`` are accepted for compatibility (gradus has no
    nested tensors; see the module docstring). Shapes: as ``TransformerEncoderLayer``.
    """

    def __init__(self, encoder_layer: Module, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True):
        super().__init__()
        if not isinstance(num_layers, int) or isinstance(num_layers, bool) or num_layers < 1:
            raise ValueError(f"TransformerEncoder: num_layers must be a positive integer, got {num_layers!r}")
        self.layers = _get_clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal: bool | None = None):
        first = self.layers[0]
        batch_first = first.self_attn.batch_first if hasattr(first, "self_attn") else False
        is_causal = _detect_is_causal_mask(mask, is_causal, _seq_len(src, batch_first))
        output = src
        for mod in self.layers:
            output = mod(output, src_mask=mask, is_causal=is_causal,
                         src_key_padding_mask=src_key_padding_mask)
        if self.norm is not None:
            output = self.norm(output)
        return output


class TransformerDecoder(Module):
    """A stack of ``num_layers`` deep copies of ``decoder_layer`` (``layers.<i>``), then ``norm`` if given.

    Shapes: as ``TransformerDecoderLayer``; every layer attends to the same ``memory``.
    """

    def __init__(self, decoder_layer: Module, num_layers: int, norm: Module | None = None):
        super().__init__()
        if not isinstance(num_layers, int) or isinstance(num_layers, bool) or num_layers < 1:
            raise ValueError(f"TransformerDecoder: num_layers must be a positive integer, got {num_layers!r}")
        self.layers = _get_clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal: bool | None = None,
                memory_is_causal: bool = False):
        first = self.layers[0]
        batch_first = first.self_attn.batch_first if hasattr(first, "self_attn") else False
        tgt_is_causal = _detect_is_causal_mask(tgt_mask, tgt_is_causal, _seq_len(tgt, batch_first))
        output = tgt
        for mod in self.layers:
            output = mod(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                         tgt_key_padding_mask=tgt_key_padding_mask,
                         memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=tgt_is_causal,
                         memory_is_causal=memory_is_causal)
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    """Encoder-decoder Transformer: ``encoder`` (a ``TransformerEncoder`` with a final LayerNorm
    ``encoder.norm``) and ``decoder`` (likewise, ``decoder.norm``); every parameter with more than one
    dimension is re-initialised with ``xavier_uniform_`` (PyTorch's ``_reset_parameters``).

    ``out = model(src, tgt, ...)``: src (S, N, E), tgt (T, N, E) (batch first with batch_first;
    unbatched 2-D) -> (T, N, E). It does not embed tokens, add positions or project to a vocabulary:
    compose it with ``nn.Embedding``, a positional encoding (``nn.SinusoidalPositionalEncoding``) and
    an ``nn.Linear``. Masks: ``src_mask`` (S, S), ``tgt_mask`` (T, T) (usually
    ``generate_square_subsequent_mask(T)``), ``memory_mask`` (T, S), and the (N, .) key padding masks.
    """

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation="relu", custom_encoder: Module | None = None,
                 custom_decoder: Module | None = None,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False, norm_first: bool = False,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        fk = dict(device=device, dtype=dtype)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            layer = TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation,
                                            layer_norm_eps, batch_first, norm_first, bias, **fk)
            self.encoder = TransformerEncoder(layer, num_encoder_layers,
                                              LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **fk))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            layer = TransformerDecoderLayer(d_model, nhead, dim_feedforward, dropout, activation,
                                            layer_norm_eps, batch_first, norm_first, bias, **fk)
            self.decoder = TransformerDecoder(layer, num_decoder_layers,
                                              LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **fk))
        self._reset_parameters()
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal: bool | None = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False):
        who = type(self).__name__
        _check_input(src, self.d_model, self.batch_first, who, "src")
        _check_input(tgt, self.d_model, self.batch_first, who, "tgt")
        _check_batch(src, tgt, self.batch_first, who, ("src", "tgt"))
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=tgt_is_causal,
                            memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> Tensor:
        """The causal mask for a sequence of ``sz`` positions: a (sz, sz) float Tensor, 0.0 where
        j <= i and -inf where j > i (position i attends to positions 0..i only)."""
        return _generate_square_subsequent_mask(sz, device=device, dtype=dtype)

    def _reset_parameters(self) -> None:
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)

