"""Aligned many-to-many: a recurrent tagger that labels every step of its input sequence.

    >>> import gradus
    >>> from gradus.models import SequenceTagger, SequenceTaggerConfig
    >>> net = SequenceTagger(SequenceTaggerConfig(vocab_size=40, num_tags=2, hidden_size=16))
    >>> net(gradus.zeros(4, 25, dtype=gradus.int64)).shape          # (B, T) ids -> (B, T, num_tags)
    (4, 25, 2)
    >>> lower, tags = truecase_tags("First Citizen:\\nI say.")        # the truecasing task
    >>> lower, tags.tolist()[:7]
    ('first citizen:\\ni say.', [1, 0, 0, 0, 0, 0, 1])

The lectures' "many-to-many" arrangement with input and output aligned step for step (part-of-speech
tagging, named entities, ...): one output per input, y_t from the whole sequence.

    e_t = embed(x_t)                                        (B, T) -> (B, T, E)
    ->h_t = LSTM(e_t, ->h_{t-1}),   <-h_t = LSTM(e_t, <-h_{t+1})     (``bidirectional=True``)
    p(y_t | x_1..x_T) = softmax(W [->h_t; <-h_t] + b)       -> (B, T, num_tags)

A unidirectional tagger sees only x_1..x_t when it tags step t (causal); the bidirectional one also
sees the right context, which is what a tagger usually needs ("i" is "I" in "i say" but not in "in").
With ``padding_idx`` a right-padded batch is packed by its lengths, so the backward direction starts
at each row's own last token (padding never leaks into the real steps); the padded steps' scores are
just the head's bias and should be left out of the loss (``ignore_index``).

The truecasing helpers make a tagging task out of any cased text (used in the tests and in
``docs/examples/many_to_many_tagger.py`` on Tiny Shakespeare): ``truecase_tags`` lower-cases the text
and tags each character 1 = "was upper-case", 0 = "keep"; ``restore_case`` applies tags back;
``rule_truecase_tags`` is the rule baseline (upper-case the first letter of the text, of every line
and after a sentence end ``.!?``, and the word "i").
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .. import nn
from ..errors import ShapeError
from ..nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from .options import configure

__all__ = ["SequenceTaggerConfig", "SequenceTagger", "truecase_tags", "restore_case", "rule_truecase_tags"]


@dataclass
class SequenceTaggerConfig:
    vocab_size: int = 40
    num_tags: int = 2
    embed_dim: int = 32
    hidden_size: int = 128
    num_layers: int = 1
    bidirectional: bool = True
    cell: str = "lstm"              # "lstm", "gru" or "rnn"
    dropout: float = 0.0            # between stacked layers and before the head
    padding_idx: int | None = None  # pack a right-padded batch by its lengths


class SequenceTagger(nn.Module):
    def __init__(self, config: SequenceTaggerConfig | None = None, **overrides):
        super().__init__()
        cfg = configure(SequenceTaggerConfig, config, overrides, "SequenceTagger")
        if cfg.cell not in ("lstm", "gru", "rnn"):
            raise ValueError(f"SequenceTagger: cell must be 'lstm', 'gru' or 'rnn', got {cfg.cell!r}")
        self.config = cfg
        layer = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cfg.cell]
        self.embed = nn.Embedding(cfg.vocab_size, cfg.embed_dim, padding_idx=cfg.padding_idx)  # (B, T, E)
        self.rnn = layer(cfg.embed_dim, cfg.hidden_size, cfg.num_layers, batch_first=True,
                         dropout=cfg.dropout if cfg.num_layers > 1 else 0.0,
                         bidirectional=cfg.bidirectional)                               # -> (B, T, D*H)
        self.drop = nn.Dropout(cfg.dropout)
        d = 2 if cfg.bidirectional else 1
        self.head = nn.Linear(d * cfg.hidden_size, cfg.num_tags)                       # -> (B, T, num_tags)

    def forward(self, ids):
        """Token ids (B, T) -> tag scores (B, T, num_tags)."""
        if ids.ndim != 2:
            raise ShapeError(f"SequenceTagger: expected token ids of shape (B, T), got {tuple(ids.shape)}")
        x = self.embed(ids)
        if self.config.padding_idx is not None:                                         # real tokens per row
            lengths = np.maximum((ids.numpy() != self.config.padding_idx).sum(axis=1), 1)
            out, _ = self.rnn(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
            out, _ = pad_packed_sequence(out, batch_first=True, total_length=ids.shape[1])
        else:
            out, _ = self.rnn(x)
        return self.head(self.drop(out))


# -- truecasing: a tagging task made from cased text ------------------------------------------------
def truecase_tags(text: str) -> tuple[str, np.ndarray]:
    """``text`` -> ``(text.lower(), tags)``: tags (n,) int64, 1 where the character was upper-case."""
    lower = text.lower()
    if len(lower) != len(text):
        raise ValueError("truecase_tags: lower-casing changed the length of the text (non-ASCII case rules)")
    return lower, np.fromiter((ch.isupper() for ch in text), dtype=np.int64, count=len(text))


def restore_case(lower: str, tags) -> str:
    """Apply tags to lower-case text: upper-case the characters tagged 1."""
    tags = np.asarray(tags).reshape(-1)
    if tags.size != len(lower):
        raise ShapeError(f"restore_case: {tags.size} tags for {len(lower)} characters")
    return "".join(ch.upper() if t else ch for ch, t in zip(lower, tags.tolist()))


_WORD_I = re.compile(r"(?<![a-z'])i(?![a-z])")


def rule_truecase_tags(lower: str) -> np.ndarray:
    """The rule baseline, (n,) int64: 1 on the first letter of the text, the first letter after a
    newline or a sentence end (``.``, ``!``, ``?``; non-letters in between are skipped), and the word
    "i" (also in "i'll", "i'": a lone i between non-letters)."""
    tags = np.zeros(len(lower), dtype=np.int64)
    start = True
    for k, ch in enumerate(lower):
        if "a" <= ch <= "z":
            if start:
                tags[k] = 1
                start = False
        elif ch in "\n.!?":
            start = True
    for m in _WORD_I.finditer(lower):
        tags[m.start()] = 1
    return tags
