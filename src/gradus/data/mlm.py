"""BERT's pre-training data: masked-LM corruption and next-sentence pairs (Devlin et al. 2019, 3.1).

* :func:`mask_tokens`: Hugging Face's ``DataCollatorForLanguageModeling.torch_mask_tokens`` on NumPy.
  Each position that is not special (``[CLS]``, ``[SEP]``, ``[PAD]``, ...) is *selected* with
  probability p = ``mlm_probability`` (0.15); a selected position becomes ``[MASK]`` with probability
  0.8, a uniformly random id of the vocabulary with probability 0.1, and keeps its id with
  probability 0.1. ``labels`` hold the original id at the selected positions and -100 (the
  ``ignore_index`` of ``cross_entropy``) elsewhere, so the loss is taken on the selected 15% only::

      selected_t ~ Bernoulli(p) * [x_t not special]
      x~_t = [MASK]  w.p. 0.8,   u ~ U{0..V-1}  w.p. 0.1,   x_t  w.p. 0.1      (selected t)
      labels_t = x_t if selected_t else -100

  Why not always ``[MASK]``: ``[MASK]`` never occurs when fine-tuning, so the model must also
  predict (and keep a good representation of) tokens that look unchanged or wrong.
* :class:`NextSentencePairs` / :func:`next_sentence_pairs`: from documents (lists of sentences,
  each a list of token ids) the pairs ``[CLS] A [SEP] B [SEP]``, B the sentence after A in its
  document for half of them (IsNext) and a random sentence of another document for the other
  half (NotNext); segment ids 0 for ``[CLS] A [SEP]`` and 1 for ``B [SEP]``; pairs longer than
  ``max_length`` are cut, one token at a time from the end of the longer sentence (Hugging Face's
  ``longest_first``); padded to the longest pair with :func:`~gradus.data.pad_sequences`.

Labels follow Hugging Face's ``BertForPreTraining``: ``next_sentence_label`` 0 = IsNext (B continues
A), 1 = NotNext (B is random).

    >>> import numpy as np
    >>> from gradus.data.mlm import mask_tokens, next_sentence_pairs
    >>> ids = np.array([[2, 7, 8, 9, 3, 0]])                    # [CLS] w w w [SEP] [PAD]
    >>> x, labels = mask_tokens(ids, [0, 2, 3], vocab_size=20, mask_token_id=4, mlm_probability=1.0,
    ...                         generator=np.random.default_rng(0))
    >>> labels                                                  # every non-special position selected
    array([[-100,    7,    8,    9, -100, -100]])
    >>> docs = [[[10, 11], [12]], [[13, 14, 15], [16]]]        # 2 documents of 2 sentences
    >>> p = next_sentence_pairs(docs, max_length=8, cls_token_id=2, sep_token_id=3,
    ...                         generator=np.random.default_rng(0))
    >>> p.input_ids.shape == p.token_type_ids.shape == p.attention_mask.shape, p.next_sentence_label.shape
    (True, (2,))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from ._compat import as_generator
from .sequence import pad_sequences

__all__ = ["IGNORE_INDEX", "mask_tokens", "special_tokens_mask", "SentencePairs", "NextSentencePairs",
           "next_sentence_pairs"]

IGNORE_INDEX = -100  # PyTorch's (and gradus') cross_entropy ignore_index: no loss at this position


def special_tokens_mask(input_ids: np.ndarray, special_ids: Sequence[int]) -> np.ndarray:
    """Bool array of ``input_ids``' shape: True where the id is one of ``special_ids``."""
    return np.isin(np.asarray(input_ids), np.asarray(list(special_ids), dtype=np.int64))


def mask_tokens(
    input_ids: Any,
    special_mask_or_ids: Any,
    vocab_size: int,
    mask_token_id: int,
    mlm_probability: float = 0.15,
    generator: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """BERT's masked-LM corruption (see the module docstring): ``(inputs, labels)``, int64 arrays of
    ``input_ids``' shape; ``input_ids`` itself is not modified.

    Args:
        input_ids: integer ids of any shape, usually (B, T).
        special_mask_or_ids: positions never selected: a bool array of ``input_ids``' shape (True =
            special, e.g. Hugging Face's ``special_tokens_mask`` with the padding or-ed in), or a
            sequence of ids (``[PAD]``, ``[CLS]``, ``[SEP]``, ...) never to select wherever they are.
        vocab_size: V; random replacements are drawn uniformly from 0..V-1 (specials included, as
            Hugging Face does).
        mask_token_id: the ``[MASK]`` id.
        mlm_probability: p, the share of the eligible positions selected, in [0, 1].
        generator: a ``numpy.random.Generator``, an int seed, or None (gradus' global generator).
    """
    ids = np.asarray(input_ids)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"mask_tokens: input_ids must hold integer ids, got dtype {ids.dtype}")
    if not 0.0 <= float(mlm_probability) <= 1.0:
        raise ValueError(f"mask_tokens: mlm_probability must be in [0, 1], got {mlm_probability!r}")
    if int(vocab_size) <= 0 or not 0 <= int(mask_token_id) < int(vocab_size):
        raise ValueError(f"mask_tokens: need vocab_size > 0 and 0 <= mask_token_id < vocab_size, got "
                         f"vocab_size={vocab_size!r}, mask_token_id={mask_token_id!r}")
    special = np.asarray(special_mask_or_ids)
    if special.dtype == bool:
        if special.shape != ids.shape:
            raise ValueError(f"mask_tokens: a special-token mask must have input_ids' shape {ids.shape}, "
                             f"got {special.shape}")
    else:
        special = special_tokens_mask(ids, special.ravel().tolist())
    rng = as_generator(generator)
    # the three draws are made for every position (not only the selected ones), as Hugging Face does:
    # the stream of random numbers does not depend on which positions were selected
    selected = (rng.random(ids.shape) < mlm_probability) & ~special
    u = rng.random(ids.shape)
    to_mask = selected & (u < 0.8)                                     # 80%: [MASK]
    to_random = selected & (u >= 0.8) & (u < 0.9)                      # 10%: a random id; 10%: unchanged
    random_ids = rng.integers(0, int(vocab_size), ids.shape)
    labels = np.where(selected, ids, IGNORE_INDEX).astype(np.int64)
    inputs = ids.astype(np.int64, copy=True)
    inputs[to_mask] = int(mask_token_id)
    inputs[to_random] = random_ids[to_random]
    return inputs, labels


class SentencePairs(NamedTuple):
    """N packed sentence pairs ``[CLS] A [SEP] B [SEP]``, padded to the longest (T).

    input_ids (N, T) int64; token_type_ids (N, T) int64 (0 up to the first ``[SEP]``, 1 after, 0 on
    padding); attention_mask (N, T) int64 (1 = real token); next_sentence_label (N,) int64 (0 =
    IsNext, 1 = NotNext); special_tokens_mask (N, T) bool (``[CLS]``, ``[SEP]`` and padding: what
    :func:`mask_tokens` must not select).
    """

    input_ids: np.ndarray
    token_type_ids: np.ndarray
    attention_mask: np.ndarray
    next_sentence_label: np.ndarray
    special_tokens_mask: np.ndarray


def _truncate_pair(a: list, b: list, max_tokens: int) -> tuple[list, list]:
    """Drop tokens from the end of the longer sentence until ``len(a) + len(b) <= max_tokens``."""
    a, b = list(a), list(b)
    while len(a) + len(b) > max_tokens:
        if len(a) >= len(b):
            a.pop()
        else:
            b.pop()
    return a, b


class NextSentencePairs:
    """Next-sentence-prediction pairs drawn from a fixed corpus of documents (see the module
    docstring); the documents are read and indexed once, so drawing a batch costs only the batch.

    ``sampler = NextSentencePairs(documents, max_length, cls_token_id, sep_token_id, pad_token_id=0)``,
    then ``sampler.sample(num_pairs=None, generator=None) -> SentencePairs``.

    Sentence A runs over the sentences that have a successor in their document (documents of one
    sentence only ever give a random B); with probability 1/2 B is that successor, else a sentence
    drawn uniformly from the other documents. ``num_pairs=None`` makes one pair per such A, in a
    random order; an int draws that many A's with replacement. Each pair is at most ``max_length``
    tokens (>= 5: ``[CLS]``, two ``[SEP]`` and a token of each sentence); empty sentences are skipped.
    """

    def __init__(self, documents: Sequence[Sequence[Sequence[int]]], max_length: int, cls_token_id: int,
                 sep_token_id: int, pad_token_id: int = 0):
        if isinstance(max_length, bool) or not isinstance(max_length, (int, np.integer)) or max_length < 5:
            raise ValueError(f"next_sentence_pairs: max_length must be an int >= 5 ([CLS] A [SEP] B [SEP] "
                             f"with a token each), got {max_length!r}")
        docs = [[list(map(int, s)) for s in doc if len(s)] for doc in documents]
        self.documents = [d for d in docs if d]
        if len(self.documents) < 2:
            raise ValueError(f"next_sentence_pairs: need at least 2 non-empty documents (a random B comes "
                             f"from another document), got {len(self.documents)}")
        # (document, sentence) of every possible A (it has a successor) and of every sentence
        self.starts = [(d, i) for d, doc in enumerate(self.documents) for i in range(len(doc) - 1)]
        if not self.starts:
            raise ValueError("next_sentence_pairs: no document has 2 sentences, so there is no true next "
                             "sentence to pair")
        self.sentences = [(d, i) for d, doc in enumerate(self.documents) for i in range(len(doc))]
        self.max_length = int(max_length)
        self.cls, self.sep, self.pad = cls_token_id, sep_token_id, pad_token_id

    def __len__(self) -> int:
        """The number of possible A's (the pairs of ``sample(None)``)."""
        return len(self.starts)

    def sample(self, num_pairs: int | None = None, generator: Any = None) -> SentencePairs:
        rng = as_generator(generator)
        docs, n = self.documents, len(self.starts)
        order = rng.permutation(n) if num_pairs is None else rng.integers(0, n, int(num_pairs))
        seqs, types, labels = [], [], []
        for k in order:
            d, i = self.starts[k]
            if rng.random() < 0.5:
                b, label = docs[d][i + 1], 0                                   # IsNext
            else:
                while True:                  # a sentence of another document (rejection: few rounds)
                    e, j = self.sentences[rng.integers(0, len(self.sentences))]
                    if e != d:
                        break
                b, label = docs[e][j], 1                                       # NotNext
            a, b = _truncate_pair(docs[d][i], b, self.max_length - 3)
            seqs.append([self.cls, *a, self.sep, *b, self.sep])
            types.append([0] * (len(a) + 2) + [1] * (len(b) + 1))
            labels.append(label)
        ids = pad_sequences(seqs, batch_first=True, padding_value=self.pad)
        tt = pad_sequences(types, batch_first=True, padding_value=0).ids
        special = ~ids.mask | np.isin(ids.ids, [self.cls, self.sep])
        return SentencePairs(ids.ids, tt, ids.mask.astype(np.int64), np.asarray(labels, dtype=np.int64),
                             special)


def next_sentence_pairs(
    documents: Sequence[Sequence[Sequence[int]]],
    max_length: int,
    cls_token_id: int,
    sep_token_id: int,
    pad_token_id: int = 0,
    generator: Any = None,
    num_pairs: int | None = None,
) -> SentencePairs:
    """``NextSentencePairs(documents, max_length, ...).sample(num_pairs, generator)``: the pairs of
    a corpus at once (to draw many batches from one corpus, keep a :class:`NextSentencePairs`)."""
    return NextSentencePairs(documents, max_length, cls_token_id, sep_token_id, pad_token_id).sample(
        num_pairs, generator)
