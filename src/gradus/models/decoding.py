"""Greedy and beam search shared by the translators (``Seq2Seq`` and ``TransformerTranslator``).

Greedy: every row takes its arg-max token until it has emitted <eos> (or ``max_len`` tokens).

Hypotheses are extended one token at a time; at every step the ``beam_size`` best open hypotheses by
total log-probability are kept, a hypothesis that emits <eos> is set aside as finished, and the result
is the finished one (or, if none finished within ``max_len``, the open one) maximising::

    log p(y | x) / lp(y),    lp(y) = ((5 + |y|) / 6)^alpha         (Wu et al. 2016, GNMT)

The search stops when ``beam_size`` hypotheses have finished and the best finished score is at least the
best open one.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["greedy_search", "beam_search", "check_beam_source"]


def greedy_search(next_tokens: Callable[[np.ndarray], np.ndarray], batch: int, max_len: int, sos_id: int,
                  eos_id: int) -> list[list[int]]:
    """Arg-max decoding of ``batch`` rows: one list of ids per row (without <sos>, ending with <eos>
    when produced). ``next_tokens(ys)`` maps the prefixes so far, ys (batch, t) int64 starting with
    <sos>, to each row's arg-max next token (batch,); it is called at most ``max_len`` times."""
    ys = np.full((batch, 1), sos_id, dtype=np.int64)
    out, done = [[] for _ in range(batch)], np.zeros(batch, bool)
    for _ in range(max_len):
        nxt = np.asarray(next_tokens(ys))
        for b in np.nonzero(~done)[0]:
            out[b].append(int(nxt[b]))
        done |= nxt == eos_id
        if done.all():
            break
        ys = np.concatenate([ys, nxt[:, None].astype(np.int64)], 1)
    return out


def check_beam_source(src, beam_size: int, who: str):
    """``src`` as (1, S) for a beam search of ONE sentence (a (S,) input gains its batch axis);
    ValueError naming ``who`` for a batch of several or a beam_size < 1."""
    if beam_size < 1:
        raise ValueError(f"{who}: beam_size must be >= 1, got {beam_size}")
    src = src if src.ndim == 2 else src.unsqueeze(0)
    if src.shape[0] != 1:
        raise ValueError(f"{who} decodes one sentence at a time, got a batch of {src.shape[0]}")
    return src


def beam_search(step: Callable[[list[list[int]], list[Any]], tuple[np.ndarray, list[Any]]], start: Any,
                beam_size: int, max_len: int, alpha: float, eos_id: int) -> list[int]:
    """The best hypothesis (ids, without <sos>, with <eos> if produced) for one source sentence.

    ``step(prefixes, states) -> (logp, new_states)``: for k open hypotheses (their ids so far and the
    model state each carries; ``start`` is the first state), the next-token log-probabilities
    ``logp`` (k, V) and the k states after reading their last token."""
    lp = lambda n: ((5 + n) / 6) ** alpha  # noqa: E731
    beams: list[tuple[list[int], float, Any]] = [([], 0.0, start)]
    finished: list[tuple[list[int], float]] = []
    for _ in range(max_len):
        logp, states = step([b[0] for b in beams], [b[2] for b in beams])
        total = np.array([b[1] for b in beams])[:, None] + logp
        new = []
        for f in np.argsort(-total, axis=None, kind="stable")[: 2 * beam_size]:
            i, tok = divmod(int(f), logp.shape[1])
            ids = beams[i][0] + [tok]
            if tok == eos_id:
                finished.append((ids, float(total[i, tok])))
            else:
                new.append((ids, float(total[i, tok]), states[i]))
            if len(new) == beam_size:
                break
        beams = new
        best_open = max((s / lp(len(ids)) for ids, s, _ in beams), default=-np.inf)
        best_done = max((s / lp(len(ids)) for ids, s in finished), default=-np.inf)
        if not beams or (len(finished) >= beam_size and best_done >= best_open):
            break
    pool = finished or [(ids, s) for ids, s, _ in beams]
    return max(pool, key=lambda p: p[1] / lp(len(p[0])))[0]
