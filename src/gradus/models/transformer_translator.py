"""The Transformer for translation (Vaswani et al. 2017, "Attention Is All You Need"), around
``nn.Transformer``: embeddings, positions, masks, the output projection, greedy and beam decoding.

    >>> import gradus
    >>> from gradus.models.transformer_translator import TransformerTranslator
    >>> m = TransformerTranslator(src_vocab=30, tgt_vocab=40, d_model=16, nhead=2, num_encoder_layers=1,
    ...                           num_decoder_layers=1, dim_feedforward=32)
    >>> src = gradus.tensor([[5, 6, 7, 2], [8, 9, 2, 0]])               # (B, S) ids, 2 = <eos>, 0 = <pad>
    >>> tgt_in = gradus.tensor([[1, 11, 12], [1, 13, 0]])               # (B, T) <sos> + target
    >>> m(src, tgt_in).shape                                            # (B, T, tgt_vocab) logits
    (2, 3, 40)

**The model** (section 3 of the paper)::

    e_src = Emb_src[x] * sqrt(d) + PE          (B, S, d), PE the sinusoidal encoding (section 3.5)
    memory = Encoder(dropout(e_src))           N_enc layers: self-attention + FFN, each LN(x + sublayer(x))
    e_tgt = Emb_tgt[y_<t] * sqrt(d) + PE       (B, T, d), the reference shifted right (<sos> first)
    h = Decoder(dropout(e_tgt), memory)        masked self-attention (position t sees 0..t), attention
                                               on the memory, FFN
    logits = h W_out^T + b                      (B, T, V_tgt); W_out = Emb_tgt when ``tie_embeddings``

Masks: source padding is a key-padding mask in the encoder and in the decoder's cross-attention,
target padding in the decoder's self-attention, plus the causal mask. ``norm_first=False`` is the
paper's post-LN; ``True`` puts LayerNorm at each sublayer's input (pre-LN: trains without warm-up
more easily). ``nn.Transformer`` ends each stack with a LayerNorm, as PyTorch's does.

Decoding: ``greedy(src)`` (batched arg-max) and ``beam(src)`` (one sentence, length penalty
``((5 + |y|) / 6)^alpha``, Wu et al. 2016) with the same interface as ``Seq2Seq`` so the translation
runner drives both. Both compute each step for the new position only: ``decode_step`` caches every
decoder layer's inputs at the earlier positions (a beam hypothesis carries its rows of the cache as
its state): 3x faster greedy decoding on 64 x 30 steps than re-running the prefix.
``attention_maps(src, tgt)`` returns every layer's per-head attention weights: encoder self-attention,
decoder self-attention and cross-attention.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import nn
from ..autograd import no_grad
from ..functional.activation import log_softmax
from ..ops.movement import cat
from ..tensor import Tensor
from .decoding import beam_search, check_beam_source, greedy_search
from .options import configure

__all__ = ["TransformerTranslatorConfig", "TransformerTranslator"]


@dataclass
class TransformerTranslatorConfig:
    src_vocab: int = 1000
    tgt_vocab: int = 1000
    d_model: int = 256
    nhead: int = 4
    num_encoder_layers: int = 3
    num_decoder_layers: int = 3
    dim_feedforward: int = 1024
    dropout: float = 0.1
    activation: str = "relu"
    norm_first: bool = False        # False: post-LN as in the paper
    tie_embeddings: bool = True     # output projection = target embedding matrix (section 3.4)
    max_len: int = 256              # longest sequence the positional encoding covers
    pad_id: int = 0
    sos_id: int = 1
    eos_id: int = 2


class TransformerTranslator(nn.Module):
    def __init__(self, config: TransformerTranslatorConfig | None = None, **overrides):
        super().__init__()
        cfg = self.config = configure(TransformerTranslatorConfig, config, overrides, "TransformerTranslator")
        if cfg.d_model % cfg.nhead:
            raise ValueError(f"TransformerTranslator: d_model ({cfg.d_model}) must be divisible by nhead "
                             f"({cfg.nhead})")
        self.src_embed = nn.Embedding(cfg.src_vocab, cfg.d_model, padding_idx=cfg.pad_id)
        self.tgt_embed = nn.Embedding(cfg.tgt_vocab, cfg.d_model, padding_idx=cfg.pad_id)
        self.pos = nn.SinusoidalPositionalEncoding(cfg.d_model, cfg.max_len, dropout=cfg.dropout,
                                                   batch_first=True)
        self.transformer = nn.Transformer(cfg.d_model, cfg.nhead, cfg.num_encoder_layers,
                                          cfg.num_decoder_layers, cfg.dim_feedforward, cfg.dropout,
                                          cfg.activation, batch_first=True, norm_first=cfg.norm_first)
        self.generator = nn.Linear(cfg.d_model, cfg.tgt_vocab)
        # N(0, d^-1/2) embeddings: after the sqrt(d) scaling their entries are ~N(0, 1), like PE's
        for emb in (self.src_embed, self.tgt_embed):
            nn.init.normal_(emb.weight, 0.0, cfg.d_model ** -0.5)
            emb.weight.data[cfg.pad_id] = 0.0                   # the <pad> row, as padding_idx has it
        if cfg.tie_embeddings:
            self.generator.weight = self.tgt_embed.weight          # one Parameter, both gradients

    # -- the network ----------------------------------------------------------------------------
    def _embed(self, emb, ids):
        return self.pos(emb(ids) * math.sqrt(self.config.d_model))

    def _ids(self, x) -> Tensor:
        return x if isinstance(x, Tensor) else Tensor(np.asarray(x, dtype=np.int64))

    def encode(self, src):
        """src (B, S) ids -> (memory (B, S, d), source padding mask (B, S), True = padding)."""
        src = self._ids(src)
        pad = Tensor(src.numpy() == self.config.pad_id)
        memory = self.transformer.encoder(self._embed(self.src_embed, src), src_key_padding_mask=pad)
        return memory, pad

    def decode(self, tgt_in, memory, src_pad, last_only: bool = False):
        """tgt_in (B, T) ids and the encoder's output -> logits (B, T, V_tgt); ``last_only``: the
        last position's alone, (B, V_tgt) (what a decoding step needs: the output projection, the
        largest layer, runs on one position instead of T)."""
        tgt_in = self._ids(tgt_in)
        T = tgt_in.shape[1]
        causal = _causal_mask(T)
        tgt_pad = Tensor(tgt_in.numpy() == self.config.pad_id)
        h = self.transformer.decoder(self._embed(self.tgt_embed, tgt_in), memory, tgt_mask=causal,
                                     tgt_key_padding_mask=tgt_pad, memory_key_padding_mask=src_pad,
                                     tgt_is_causal=True)
        return self.generator(h[:, -1] if last_only else h)

    def forward(self, src, tgt_in):
        """Teacher forcing: src (B, S), tgt_in (B, T) = <sos> y_1 .. y_{T-1} -> logits (B, T, V_tgt)."""
        memory, src_pad = self.encode(src)
        return self.decode(tgt_in, memory, src_pad)

    # -- decoding -------------------------------------------------------------------------------
    def decode_step(self, ys, memory, src_pad, cache: list) -> Tensor:
        """The next-token logits (B, V_tgt) after the prefixes ys (B, t), computing every decoder layer
        for the last position only (eval mode).

        ``cache``: one entry per decoder layer (start with ``[None] * num_decoder_layers``), layer l's
        inputs at the earlier positions (B, t - 1, d), extended here. A causal layer's output at the
        earlier positions never changes, so their inputs are all the new query needs as keys and
        values; the result equals ``decode(ys, ...)[:, -1]`` (tested) at O(t) instead of O(t^2) work
        per sentence for everything but the self-attention's key/value projections."""
        ys = self._ids(ys)
        t = ys.shape[1]
        layers = self.transformer.decoder.layers
        if len(cache) != len(layers) or (cache[0] is not None and cache[0].shape[1] != t - 1):
            have = None if not cache or cache[0] is None else cache[0].shape[1]
            raise ValueError(f"TransformerTranslator.decode_step: the cache must hold {len(layers)} layers "
                             f"of t - 1 = {t - 1} positions, got {len(cache)} layers of {have}: pass the "
                             "same list at every step of one decoding, starting from [None] * layers")
        key_pad = Tensor(ys.numpy() == self.config.pad_id)                  # (B, t) as decode() masks
        x = self._embed(self.tgt_embed, ys)[:, -1:]                         # (B, 1, d) the new position
        for i, layer in enumerate(layers):
            seq = x if cache[i] is None else cat([cache[i], x], 1)          # (B, t, d) its inputs so far
            cache[i] = seq
            if layer.norm_first:
                kv = layer.norm1(seq)
                h = x + layer.self_attn(kv[:, -1:], kv, kv, key_padding_mask=key_pad, need_weights=False)[0]
                h = h + layer._mha_block(layer.norm2(h), memory, None, src_pad)
                x = h + layer._ff_block(layer.norm3(h))
            else:
                h = layer.norm1(x + layer.self_attn(x, seq, seq, key_padding_mask=key_pad,
                                                    need_weights=False)[0])
                h = layer.norm2(h + layer._mha_block(h, memory, None, src_pad))
                x = layer.norm3(h + layer._ff_block(h))
        if self.transformer.decoder.norm is not None:
            x = self.transformer.decoder.norm(x)
        return self.generator(x[:, 0])

    def greedy(self, src, max_len: int = 50) -> list[list[int]]:
        """Arg-max decoding, one list of ids per source row (without <sos>, stopping after <eos>)."""
        cfg = self.config
        was = self.training
        self.eval()
        try:
            with no_grad():
                memory, src_pad = self.encode(src)

                cache = [None] * len(self.transformer.decoder.layers)

                def next_tokens(ys):               # the new position only, the earlier ones cached
                    return self.decode_step(ys, memory, src_pad, cache).numpy().argmax(-1)
                return greedy_search(next_tokens, memory.shape[0], max_len, cfg.sos_id, cfg.eos_id)
        finally:
            self.train(was)

    def beam(self, src, beam_size: int = 5, max_len: int = 50, alpha: float = 0.6) -> list[int]:
        """Beam search for ONE source sentence src (1, S) (or (S,)): the hypothesis maximising
        log p(y | x) / lp(y), lp(y) = ((5 + |y|) / 6)^alpha; finished hypotheses (ending in <eos>) are
        kept aside; returns its ids (without <sos>, with <eos> if produced)."""
        cfg = self.config
        src = check_beam_source(self._ids(src), beam_size, "TransformerTranslator.beam")
        was = self.training
        self.eval()
        try:
            with no_grad():
                memory, src_pad = self.encode(src)
                tiled = {}

                n_layers = len(self.transformer.decoder.layers)

                def step(prefixes, states):        # a state: its decoder layers' cached inputs (1, t-1, d)
                    k = len(prefixes)
                    if k not in tiled:             # the source memory, one row per beam
                        tiled[k] = (cat([memory] * k, 0), cat([src_pad] * k, 0))
                    ys = np.array([[cfg.sos_id] + p for p in prefixes], dtype=np.int64)     # (k, t)
                    cache = ([None] * n_layers if states[0] is None
                             else [cat([st[i] for st in states], 0) for i in range(n_layers)])
                    logits = self.decode_step(ys, *tiled[k], cache)
                    new = [[c[j:j + 1] for c in cache] for j in range(k)]
                    return log_softmax(logits, -1).numpy(), new

                return beam_search(step, None, beam_size, max_len, alpha, cfg.eos_id)
        finally:
            self.train(was)

    # -- looking inside ---------------------------------------------------------------------------
    def attention_maps(self, src, tgt_in) -> dict[str, list[np.ndarray]]:
        """Per-head attention weights for ONE pair: src (1, S), tgt_in (1, T) (ids; no padding).

        Returns {"encoder_self": [(H, S, S) per layer], "decoder_self": [(H, T, T) ...],
        "cross": [(H, T, S) ...], "logits": (1, T, V)}: row i of a map is query position i's
        distribution over the keys. ``forward`` runs once in eval mode with a hook on every attention
        module that keeps the query/key/value it was given; each is then called again on exactly
        those inputs (and its mask: causal for the decoder's self-attention) with
        ``need_weights=True, average_attn_weights=False``."""
        src, tgt_in = self._ids(src), self._ids(tgt_in)
        if src.shape[0] != 1 or tgt_in.shape[0] != 1:
            raise ValueError(f"TransformerTranslator.attention_maps: one pair at a time, got batches of "
                             f"{src.shape[0]} and {tgt_in.shape[0]}")
        roles = [(layer.self_attn, "encoder_self") for layer in self.transformer.encoder.layers]
        for layer in self.transformer.decoder.layers:
            roles += [(layer.self_attn, "decoder_self"), (layer.multihead_attn, "cross")]
        seen: list[tuple] = []
        handles = [mha.register_forward_hook(lambda m, args, out, role=role: seen.append((m, role, args[:3])))
                   for mha, role in roles]
        was = self.training
        self.eval()
        maps: dict = {"encoder_self": [], "decoder_self": [], "cross": []}
        try:
            with no_grad():
                logits = self.forward(src, tgt_in)
                for h in handles:
                    h.remove()
                causal = _causal_mask(tgt_in.shape[1])
                for mha, role, (q, k, v) in seen:
                    mask = causal if role == "decoder_self" else None
                    w = mha(q, k, v, attn_mask=mask, need_weights=True, average_attn_weights=False)[1]
                    maps[role].append(w.numpy()[0])
        finally:
            for h in handles:
                h.remove()
            self.train(was)
        maps["logits"] = logits.numpy()
        return maps


def _causal_mask(T: int) -> Tensor:
    """(T, T) bool, True above the diagonal: position i may not attend to j > i (the same convention
    as the bool key-padding masks, True = hidden)."""
    return Tensor(np.triu(np.ones((T, T), dtype=bool), 1))
