"""Many-to-one recurrent classifiers: read a sequence, classify it from the last hidden state.

    >>> import gradus
    >>> from gradus.models import SequenceClassifier
    >>> net = SequenceClassifier(input_size=28, hidden_size=32, num_classes=10)
    >>> net(gradus.zeros(5, 1, 28, 28)).shape        # an MNIST image read row by row: 28 steps of 28
    (5, 10)

The lectures' "many-to-one" arrangement: h_t = cell(x_t, h_{t-1}) over t = 1..T, then
y = softmax(W h_T + b). Input (N, T, F) sequences (batch first), or images (N, 1, H, W) read row by
row (T = H steps of F = W pixels: *sequential MNIST*). With ``bidirectional=True`` the last states
of both directions are concatenated. Optional ``vocab_size`` puts an embedding in front for token
ids (N, T); with ``padding_idx`` the (right-)padded batch is packed by its lengths
(``pack_padded_sequence``), so the recurrent layer reads only the real tokens and h_T is each
sentence's own last state. ``pool="max"`` classifies the elementwise maximum of the outputs over the
real time steps instead of h_T (still many-to-one; often better on short texts).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import nn
from ..errors import ShapeError
from ..nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from ..ops.movement import cat
from .options import configure

__all__ = ["SequenceClassifierConfig", "SequenceClassifier", "sequential_mnist_lstm"]


@dataclass
class SequenceClassifierConfig:
    input_size: int = 28
    hidden_size: int = 128
    num_classes: int = 10
    num_layers: int = 1
    cell: str = "lstm"              # "lstm", "gru" or "rnn"
    bidirectional: bool = False
    dropout: float = 0.0            # between stacked layers and before the head
    vocab_size: int | None = None   # token ids in: an embedding of size input_size first
    padding_idx: int | None = None  # with token ids: pack the padded batch by its lengths
    pool: str = "last"              # "last" (h_T) or "max" (max over the time steps of the outputs)


class SequenceClassifier(nn.Module):
    def __init__(self, config: SequenceClassifierConfig | None = None, **overrides):
        super().__init__()
        cfg = configure(SequenceClassifierConfig, config, overrides, "SequenceClassifier")
        if cfg.pool not in ("last", "max"):
            raise ValueError(f"SequenceClassifier: pool must be 'last' or 'max', got {cfg.pool!r}")
        if cfg.cell not in ("lstm", "gru", "rnn"):
            raise ValueError(f"SequenceClassifier: cell must be 'lstm', 'gru' or 'rnn', got {cfg.cell!r}")
        self.config = cfg
        self.embed = (nn.Embedding(cfg.vocab_size, cfg.input_size, padding_idx=cfg.padding_idx)
                      if cfg.vocab_size else None)                                   # (N, T) -> (N, T, F)
        layer = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cfg.cell]
        self.rnn = layer(cfg.input_size, cfg.hidden_size, cfg.num_layers, batch_first=True,
                         dropout=cfg.dropout if cfg.num_layers > 1 else 0.0,
                         bidirectional=cfg.bidirectional)                           # -> h_n (L*D, N, H)
        self.drop = nn.Dropout(cfg.dropout)
        d = 2 if cfg.bidirectional else 1
        self.head = nn.Linear(d * cfg.hidden_size, cfg.num_classes)                 # (N, D*H) -> (N, C)

    def forward(self, x):
        lengths = None
        if self.embed is not None:
            if self.config.padding_idx is not None:                                   # real tokens per row
                lengths = np.maximum((x.numpy() != self.config.padding_idx).sum(axis=1), 1)
            x = self.embed(x)
        elif x.ndim == 4:
            if x.shape[1] != 1:
                raise ShapeError(f"SequenceClassifier: images must have one channel (read row by row), got "
                                 f"shape {tuple(x.shape)}")
            x = x.reshape(x.shape[0], x.shape[2], x.shape[3])                       # (N, H, W): H steps
        if x.ndim != 3:
            raise ShapeError(f"SequenceClassifier: expected (N, T, F) sequences, (N, 1, H, W) images or "
                             f"(N, T) token ids with vocab_size, got shape {tuple(x.shape)}")
        if lengths is not None:
            out, h_n = self.rnn(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
            if self.config.pool == "max":   # padded steps -> -inf so they never win the maximum
                out, _ = pad_packed_sequence(out, batch_first=True, padding_value=-1e9)
        else:
            out, h_n = self.rnn(x)
        if self.config.pool == "max":
            return self.head(self.drop(out.max(1)[0]))                              # (N, D*H)
        h_n = h_n[0] if isinstance(h_n, tuple) else h_n                               # LSTM: (h_n, c_n)
        last = cat([h_n[-2], h_n[-1]], -1) if self.config.bidirectional else h_n[-1]  # (N, D*H)
        return self.head(self.drop(last))


def sequential_mnist_lstm(hidden_size: int = 128, num_layers: int = 1, cell: str = "lstm",
                          dropout: float = 0.0) -> SequenceClassifier:
    """Row-by-row MNIST: 28 steps of 28 pixels into an LSTM, classified from the last state."""
    return SequenceClassifier(input_size=28, hidden_size=hidden_size, num_classes=10, num_layers=num_layers,
                              cell=cell, dropout=dropout)
