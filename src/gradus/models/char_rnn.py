"""A character-level recurrent language model (Karpathy's char-rnn): predict the next character.

    >>> import gradus
    >>> from gradus.models import CharRNN, CharRNNConfig
    >>> lm = CharRNN(CharRNNConfig(vocab_size=65, hidden_size=32, num_layers=2))
    >>> logits, state = lm(gradus.zeros(4, 10, dtype=gradus.int64))   # (B, T) character ids
    >>> logits.shape                                                    # next-character scores
    (4, 10, 65)

The model: embedding -> ``num_layers`` LSTM (or GRU / RNN) layers -> dropout -> linear to the
vocabulary. Trained with cross-entropy on every position, i.e. the negative log-likelihood of the
text factorised left to right, ``-log p(x) = -sum_t log p(x_t | x_<t)``, in nats per character.
``forward(ids, state)`` takes and returns the recurrent state, so training can carry it across
contiguous batches (truncated BPTT: ``Trainer(stateful=True)``) and generation can feed one
character at a time. ``generate`` samples with temperature, top-k and top-p (nucleus) filtering.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import nn
from ..autograd import no_grad
from ..random import default_generator
from ..tensor import Tensor
from .options import configure

__all__ = ["CharRNNConfig", "CharRNN", "sample_next"]


@dataclass
class CharRNNConfig:
    vocab_size: int = 65
    embed_dim: int = 64
    hidden_size: int = 512
    num_layers: int = 2
    dropout: float = 0.2
    cell: str = "lstm"          # "lstm", "gru" or "rnn"


class CharRNN(nn.Module):
    def __init__(self, config: CharRNNConfig | None = None, **overrides):
        super().__init__()
        cfg = configure(CharRNNConfig, config, overrides, "CharRNN")
        if cfg.cell not in ("lstm", "gru", "rnn"):
            raise ValueError(f"CharRNN: cell must be 'lstm', 'gru' or 'rnn', got {cfg.cell!r}")
        self.config = cfg
        layer = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cfg.cell]
        self.embed = nn.Embedding(cfg.vocab_size, cfg.embed_dim)                     # (B, T) -> (B, T, E)
        self.rnn = layer(cfg.embed_dim, cfg.hidden_size, cfg.num_layers, batch_first=True,
                         dropout=cfg.dropout if cfg.num_layers > 1 else 0.0)          # -> (B, T, H)
        self.drop = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(cfg.hidden_size, cfg.vocab_size)                      # -> (B, T, V)

    def forward(self, ids, state=None):
        out, state = self.rnn(self.embed(ids), state)
        return self.head(self.drop(out)), state

    def generate(self, prompt_ids, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None,
                 top_p: float | None = None, generator=None) -> list[int]:
        """Feed ``prompt_ids`` (a list of ints), then sample ``max_new_tokens`` characters one at a time;
        returns the new ids. Eval mode, no graph."""
        if not prompt_ids:
            raise ValueError("CharRNN.generate: the prompt must hold at least one character")
        gen = generator if generator is not None else default_generator()
        was = self.training
        self.eval()
        out_ids = []
        try:
            with no_grad():
                logits, state = self(Tensor(np.asarray([prompt_ids], dtype=np.int64)))
                for _ in range(max_new_tokens):
                    nxt = sample_next(logits.numpy()[0, -1], temperature, top_k, top_p, gen)
                    out_ids.append(nxt)
                    logits, state = self(Tensor(np.asarray([[nxt]], dtype=np.int64)), state)
        finally:
            self.train(was)
        return out_ids


def sample_next(logits: np.ndarray, temperature: float = 1.0, top_k: int | None = None,
                top_p: float | None = None, generator=None) -> int:
    """One id from scores ``logits`` (V,): softmax(logits / temperature) restricted to the ``top_k``
    most likely ids and/or the smallest set whose probability reaches ``top_p``; temperature 0 is
    greedy (arg-max)."""
    if temperature < 0:
        raise ValueError(f"sample_next: temperature must be >= 0, got {temperature}")
    z = np.asarray(logits, dtype=np.float64).reshape(-1)
    if temperature == 0:
        return int(z.argmax())
    z = z / temperature
    if top_k is not None:
        if top_k < 1:
            raise ValueError(f"sample_next: top_k must be >= 1, got {top_k}")
        if top_k < z.size:
            kth = np.partition(z, -top_k)[-top_k]
            z = np.where(z < kth, -np.inf, z)
    p = np.exp(z - z.max())
    p /= p.sum()
    if top_p is not None:
        if not 0 < top_p <= 1:
            raise ValueError(f"sample_next: top_p must be in (0, 1], got {top_p}")
        order = np.argsort(-p, kind="stable")
        keep = np.cumsum(p[order]) - p[order] < top_p       # the nucleus: up to and including top_p
        mask = np.zeros_like(p, dtype=bool)
        mask[order[keep]] = True
        p = np.where(mask, p, 0.0)
        p /= p.sum()
    gen = generator if generator is not None else default_generator()
    return int(gen.choice(p.size, p=p))
