"""Sequence to sequence: an encoder-decoder with one context vector (Sutskever et al. 2014; Cho et al.
2014) and with attention (Bahdanau et al. 2015; Luong et al. 2015), greedy and beam-search decoding.

    >>> import gradus
    >>> from gradus.models import Seq2Seq, Seq2SeqConfig
    >>> net = Seq2Seq(Seq2SeqConfig(src_vocab=12, tgt_vocab=14, hidden_size=16, attention="general"))
    >>> src, tgt_in = gradus.zeros(3, 7, dtype=gradus.int64), gradus.zeros(3, 5, dtype=gradus.int64)
    >>> net(src, tgt_in).shape                        # teacher forcing: next-token scores per step
    (3, 5, 14)

Encoder: embedding -> GRU (``num_layers``, optionally bidirectional) over the source, outputs
s_1..s_S (B, S, H) and the final state h_S.  A bidirectional encoder's outputs [fwd; bwd] (B, S, 2H)
are projected back to H (``enc_proj``) and the decoder starts from tanh(W_b [h_fwd; h_bwd]) (the
bridge of Bahdanau et al.).
Decoder, step t (input y_{t-1}, state h_{t-1})::

    h_t = GRU(embed(y_{t-1}) [; c] [; o_{t-1}], h_{t-1})
    no attention:   o_t = h_t, and the context is fixed: the decoder starts from c = h_S (the single
                    context vector of the encoder — the bottleneck) and reads it at every step
    attention:      e_{t,j} = score(h_t, s_j)   dot: h_t . s_j   general: h_t . W_a s_j
                                                additive (Bahdanau): v . tanh(W_1 h_t + W_2 s_j)
                    a_t = softmax_j(e_t) (masked to the real source tokens),  c_t = sum_j a_{t,j} s_j
                    o_t = tanh(W_c [c_t; h_t])          (Luong's attentional hidden state)
                    ``input_feeding``: o_{t-1} is part of the next step's input (Luong et al. 2015)
    p(y_t | y_<t, x) = softmax(W_o dropout(o_t) + b_o)

``forward(src, tgt_in)`` runs teacher forcing and returns the scores (B, T, V) (the output layer is one
GEMM over all steps); ``greedy`` and ``beam`` decode (beam: width k, length penalty
``((5 + |y|) / 6)^alpha`` of Wu et al. 2016; width 1 = greedy).  ``attention_weights`` of the last decode
(B, T, S) are kept for heat-maps.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import nn
from ..autograd import no_grad
from ..functional.activation import log_softmax, softmax
from ..ops import elementwise as ew
from ..ops.matmul import matmul
from ..ops.movement import cat, stack
from ..tensor import Tensor
from .decoding import beam_search, check_beam_source, greedy_search
from .options import configure

__all__ = ["Seq2SeqConfig", "Seq2Seq"]


@dataclass
class Seq2SeqConfig:
    src_vocab: int = 1000
    tgt_vocab: int = 1000
    embed_dim: int = 64
    hidden_size: int = 128
    attention: str | None = "general"   # None/"none" (one context vector), "dot", "general", "additive"
    pad_id: int = 0
    sos_id: int = 1
    eos_id: int = 2
    dropout: float = 0.0          # on the embeddings and on o_t before the output layer
    num_layers: int = 1           # encoder layers
    bidirectional: bool = False   # encoder
    input_feeding: bool = False   # o_{t-1} fed to the next decoder step (attention models)


class Seq2Seq(nn.Module):
    def __init__(self, config: Seq2SeqConfig | None = None, **overrides):
        super().__init__()
        cfg = configure(Seq2SeqConfig, config, overrides, "Seq2Seq")
        if cfg.attention in ("none", ""):          # recipes (TOML has no null) spell None so
            cfg.attention = None
        if cfg.attention not in (None, "dot", "general", "additive"):
            raise ValueError(f"Seq2Seq: attention must be None, 'dot', 'general' or 'additive', got "
                             f"{cfg.attention!r}")
        self.config = cfg
        if cfg.input_feeding and cfg.attention is None:
            raise ValueError("Seq2Seq: input_feeding feeds the attentional state o_{t-1}; it needs attention")
        H, E = cfg.hidden_size, cfg.embed_dim
        self.src_embed = nn.Embedding(cfg.src_vocab, E, padding_idx=cfg.pad_id)
        self.encoder = nn.GRU(E, H, num_layers=cfg.num_layers, batch_first=True,    # (B, S, E) -> (B, S, H)
                              dropout=cfg.dropout if cfg.num_layers > 1 else 0.0,
                              bidirectional=cfg.bidirectional)
        if cfg.bidirectional:
            self.enc_proj = nn.Linear(2 * H, H)                              # s_j = W [fwd_j; bwd_j]
            self.bridge = nn.Linear(2 * H, H)                                # h_0 = tanh(W_b [h_fwd; h_bwd])
        self.tgt_embed = nn.Embedding(cfg.tgt_vocab, E, padding_idx=cfg.pad_id)
        # without attention the decoder reads the fixed context at every step: input [y; c];
        # with input feeding it reads the previous attentional state: input [y; o_{t-1}]
        self.decoder = nn.GRUCell(E + (H if cfg.attention is None or cfg.input_feeding else 0), H)
        if cfg.attention == "general":
            self.W_a = nn.Linear(H, H, bias=False)
        elif cfg.attention == "additive":
            self.W_1, self.W_2 = nn.Linear(H, H, bias=False), nn.Linear(H, H)
            self.v = nn.Linear(H, 1, bias=False)
        if cfg.attention is not None:
            self.W_c = nn.Linear(2 * H, H)                                  # o_t = tanh(W_c [c_t; h_t])
        self.drop = nn.Dropout(cfg.dropout)
        self.out = nn.Linear(H, cfg.tgt_vocab)
        self.attention_weights = None

    # -- pieces ---------------------------------------------------------------------------------
    def encode(self, src: Tensor):
        """(encoder outputs (B, S, H), final state (B, H), source mask (B, S) float: 1 = real token)."""
        lengths = np.maximum((src.numpy() != self.config.pad_id).sum(axis=1), 1)
        from ..nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

        packed = pack_padded_sequence(self.src_embed(src), lengths, batch_first=True, enforce_sorted=False)
        out, h = self.encoder(packed)
        enc, _ = pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])
        mask = (np.arange(src.shape[1])[None, :] < lengths[:, None]).astype(enc.data.dtype)
        if self.config.bidirectional:           # h: (2L, B, H), the last layer's fwd and bwd states last
            return self.enc_proj(enc), ew.tanh(self.bridge(cat([h[-2], h[-1]], -1))), Tensor(mask)
        return enc, h[-1], Tensor(mask)

    def _keys(self, enc):
        """What the scores compare h_t with, computed once per source: W_a s_j / W_2 s_j / s_j."""
        a = self.config.attention
        return self.W_a(enc) if a == "general" else self.W_2(enc) if a == "additive" else enc

    def _attend(self, h, enc, keys, mask):
        """(o_t (B, H), a_t (B, S)) for decoder state h (B, H)."""
        if self.config.attention == "additive":
            e = self.v(ew.tanh(self.W_1(h).unsqueeze(1) + keys)).squeeze(-1)          # (B, S)
        else:
            e = matmul(keys, h.unsqueeze(-1)).squeeze(-1)                              # (B, S)
        e = e + (mask - 1.0) * 1e9                                                     # no weight on padding
        a = softmax(e, -1)
        c = matmul(a.unsqueeze(1), enc).squeeze(1)                                     # (B, H)
        return ew.tanh(self.W_c(cat([c, h], -1))), a

    def _state(self, x, h, o_prev, ctx, enc, keys, mask):
        """One decoder step from the embedded input x (B, E): (o_t (B, H), h_t, a_t (B, S) or None)."""
        if self.config.attention is None:
            h = self.decoder(cat([x, ctx], -1), h)
            return h, h, None
        h = self.decoder(cat([x, o_prev], -1) if self.config.input_feeding else x, h)
        o, a = self._attend(h, enc, keys, mask)
        return o, h, a

    def _start(self, src):
        """Encode src: (h_0, o_0, (ctx, enc, keys, mask)) for the decoder."""
        enc, h, mask = self.encode(src)
        keys = self._keys(enc) if self.config.attention else None
        o = Tensor(np.zeros(h.shape, h.data.dtype)) if self.config.input_feeding else None
        return h, o, (h, enc, keys, mask)

    def _step(self, y_prev, h, o_prev, memory):
        """One decoding step from token ids y_prev (B,): (scores (B, V), h_t, o_t, a_t or None)."""
        o, h, a = self._state(self.drop(self.tgt_embed(y_prev)), h, o_prev, *memory)
        return self.out(o), h, o, a

    # -- training -------------------------------------------------------------------------------
    def forward(self, src, tgt_in):
        """Teacher forcing: src (B, S), tgt_in (B, T) = <sos> y_1 .. y_{T-1} -> scores (B, T, V)."""
        h, o, memory = self._start(src)
        x = self.drop(self.tgt_embed(tgt_in))                                          # (B, T, E)
        states = []
        for t in range(tgt_in.shape[1]):
            o, h, _ = self._state(x[:, t], h, o, *memory)
            states.append(o)
        return self.out(self.drop(stack(states, 1)))                                   # (B, T, V)

    # -- decoding -------------------------------------------------------------------------------
    def greedy(self, src, max_len: int = 50) -> list[list[int]]:
        """Arg-max decoding, one list of ids per source row (without <sos>, stopping after <eos>)."""
        cfg = self.config
        was = self.training
        self.eval()
        try:
            with no_grad():
                state, attn = list(self._start(src)), []           # [h, o, memory]

                def next_tokens(ys):
                    logits, state[0], state[1], a = self._step(Tensor(ys[:, -1]), *state)
                    if a is not None:
                        attn.append(a.numpy())
                    return logits.numpy().argmax(-1)

                out = greedy_search(next_tokens, src.shape[0], max_len, cfg.sos_id, cfg.eos_id)
                self.attention_weights = np.stack(attn, 1) if attn else None          # (B, T, S)
        finally:
            self.train(was)
        return out

    def beam(self, src, beam_size: int = 5, max_len: int = 50, alpha: float = 0.6) -> list[int]:
        """Beam search for ONE source sentence src (1, S) (or (S,)): the hypothesis maximising
        log p(y | x) / lp(y), lp(y) = ((5 + |y|) / 6)^alpha; finished hypotheses (ending in <eos>) are
        kept aside; returns its ids (without <sos>, with <eos> if produced)."""
        cfg = self.config
        src = check_beam_source(src, beam_size, "Seq2Seq.beam")
        was = self.training
        self.eval()
        try:
            with no_grad():
                h, o, memory = self._start(src)
                tiled = {}

                def step(prefixes, states):
                    k = len(prefixes)
                    if k not in tiled:                     # the source memory, one row per beam
                        tiled[k] = tuple(_repeat(t, k) for t in memory)
                    y = Tensor(np.array([p[-1] if p else cfg.sos_id for p in prefixes], dtype=np.int64))
                    hs = cat([st[0] for st in states], 0)
                    os = cat([st[1] for st in states], 0) if cfg.input_feeding else None
                    logits, h_new, o_new, _ = self._step(y, hs, os, tiled[k])
                    return log_softmax(logits, -1).numpy(), [
                        (h_new[i:i + 1], None if o_new is None else o_new[i:i + 1]) for i in range(k)]

                return beam_search(step, (h, o), beam_size, max_len, alpha, cfg.eos_id)
        finally:
            self.train(was)


def _repeat(t, k: int):
    """``t`` (1, ...) repeated k times along dim 0 (one row per beam), None stays None."""
    return t if t is None else cat([t] * k, 0)
