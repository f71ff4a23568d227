"""Batching variable-length sequences: padding, length bucketing, BPTT streams, translation pairs.

* :func:`pad_sequences`: a list of 1-D int sequences -> one ``(T, B)`` or ``(B, T)`` int64 array,
  ``torch.nn.utils.rnn.pad_sequence`` semantics, plus the lengths and the padding mask.
* :class:`PadCollate`: a ``collate_fn`` for :class:`~gradus.data.DataLoader` that pads every
  sequence field of the samples and returns :class:`PaddedBatch` ``(ids, lengths, mask)``.
* :class:`BucketBatchSampler`: batches of similar length (little padding) that still visit every
  index exactly once per epoch in a shuffled order; pass it as ``DataLoader(batch_sampler=...)``.
* :func:`batchify` / :func:`bptt_batches`: a token stream cut into ``B`` parallel streams and
  windows for truncated back-propagation through time (the PyTorch word-language-model example).
* :class:`TranslationDataset`: ``(src, tgt)`` string pairs + two vocabularies -> encoded items
  ``(src_ids, tgt_ids)`` with ``<sos>``/``<eos>`` around the target.

Typical seq2seq input pipeline::

    train = TranslationDataset.from_pairs(Multi30k(split="train"), min_freq=2)
    loader = DataLoader(train, batch_sampler=BucketBatchSampler(train.lengths, 128, seed=0),
                        collate_fn=PadCollate(pad_id=train.tgt_vocab.pad_id, batch_first=True))
    for src, tgt in loader:      # each a PaddedBatch: ids (B, T) int64, lengths (B,), mask (B, T)
        ...
"""

from __future__ import annotations

import collections.abc
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np

from ._compat import as_generator, is_tensor, to_numpy, to_tensor
from .dataloader import default_collate
from .dataset import Dataset
from .sampler import Sampler
from .tokenize import word_tokenize
from .vocab import DEFAULT_SPECIALS, Vocab

__all__ = [
    "PaddedBatch",
    "pad_sequences",
    "PadCollate",
    "BucketBatchSampler",
    "batchify",
    "bptt_batches",
    "TranslationDataset",
]


# --------------------------------------------------------------------------- padding


class PaddedBatch(NamedTuple):
    """A padded batch of sequences.

    ids: ``(B, T)`` (``batch_first``) or ``(T, B)`` int64, padded with the pad id, ``T = max(lengths)``.
    lengths: ``(B,)`` int64, the true lengths (what ``nn.utils.rnn.pack_padded_sequence`` takes).
    mask: bool, same shape as ``ids``: ``True`` = real token, ``False`` = padding
    (``mask[b, t] = t < lengths[b]`` for right padding).  Attention wants the opposite
    (``key_padding_mask = ~mask``).
    """

    ids: Any
    lengths: Any
    mask: Any


def _as_int_1d(seq: Any, where: str) -> np.ndarray:
    a = to_numpy(seq) if (is_tensor(seq) or isinstance(seq, np.ndarray)) else np.asarray(list(seq))
    if a.ndim != 1:
        raise ValueError(f"{where}: each sequence must be 1-D, got shape {a.shape}")
    if a.size == 0:
        return a.astype(np.int64)
    if a.dtype.kind not in "iu":
        raise TypeError(f"{where}: sequences must hold integer ids, got dtype {a.dtype}")
    return a.astype(np.int64, copy=False)


def pad_sequences(
    sequences: Sequence[Any],
    batch_first: bool = False,
    padding_value: int = 0,
    padding_side: str = "right",
) -> PaddedBatch:
    """Stack 1-D int sequences of lengths ``L_b`` into one array, padding with ``padding_value``.

    ``torch.nn.utils.rnn.pad_sequence`` semantics (``batch_first=False`` -> ``(T, B)``, ``T =
    max_b L_b``; ``padding_side="left"`` puts the padding first), on NumPy: returns a
    :class:`PaddedBatch` of ndarrays ``(ids, lengths, mask)``.  Sequences may be lists, ndarrays or
    gradus Tensors of integers; empty sequences are allowed (all padding).
    """
    if padding_side not in ("right", "left"):
        raise ValueError(f"padding_side must be 'right' or 'left', got {padding_side!r}")
    if len(sequences) == 0:
        raise ValueError("pad_sequences: no sequences given")
    arrays = [_as_int_1d(s, "pad_sequences") for s in sequences]
    lengths = np.fromiter((len(a) for a in arrays), dtype=np.int64, count=len(arrays))
    T = int(lengths.max())
    B = len(arrays)
    ids = np.full((B, T), padding_value, dtype=np.int64)
    positions = np.arange(T)
    if padding_side == "right":
        mask = positions[None, :] < lengths[:, None]
    else:
        mask = positions[None, :] >= (T - lengths)[:, None]
    if B and T:
        ids[mask] = np.concatenate(arrays)  # row-major: row b's True slots in order = sequence b
    if not batch_first:
        ids, mask = np.ascontiguousarray(ids.T), np.ascontiguousarray(mask.T)
    return PaddedBatch(ids, lengths, mask)


def _is_sequence_field(x: Any) -> bool:
    if isinstance(x, (str, bytes)):
        return False
    if is_tensor(x) or isinstance(x, np.ndarray):
        return x.ndim == 1
    if isinstance(x, (list, tuple)):
        return all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in x)
    return False


class PadCollate:
    """``collate_fn`` for variable-length int sequences.

    Each sample is a sequence (1-D ndarray / list of ints / Tensor) or a tuple / list / dict of
    fields.  Every sequence field (a 1-D array, or a list/tuple of ints) is padded with
    :func:`pad_sequences` into a :class:`PaddedBatch`; the other fields (labels, strings, ...) go
    through :func:`~gradus.data.default_collate`.

    Args:
        pad_id: the padding value (``vocab.pad_id``; 0 for the default specials).
        batch_first: ``(B, T)`` if True (default), ``(T, B)`` (PyTorch RNN default) if False.
        padding_side: ``"right"`` (default) or ``"left"``.
        as_tensors: return gradus Tensors (int64 ids and lengths, bool mask; the default, like
            ``default_collate``) or ndarrays.

    Example:
        >>> from gradus.data import PadCollate
        >>> ids, lengths, mask = PadCollate(as_tensors=False)([[5, 6, 7], [8]])
        >>> ids.tolist(), lengths.tolist(), mask.tolist()
        ([[5, 6, 7], [8, 0, 0]], [3, 1], [[True, True, True], [True, False, False]])
    """

    def __init__(
        self,
        pad_id: int | None = 0,
        batch_first: bool = True,
        padding_side: str = "right",
        as_tensors: bool = True,
    ) -> None:
        if pad_id is None:
            raise ValueError("pad_id is None: the vocabulary has no <pad> token; pass pad_id explicitly")
        if padding_side not in ("right", "left"):
            raise ValueError(f"padding_side must be 'right' or 'left', got {padding_side!r}")
        self.pad_id = int(pad_id)
        self.batch_first = batch_first
        self.padding_side = padding_side
        self.as_tensors = as_tensors

    def _pad(self, seqs: list) -> PaddedBatch:
        out = pad_sequences(seqs, self.batch_first, self.pad_id, self.padding_side)
        if self.as_tensors:
            return PaddedBatch(*(to_tensor(a, copy=False) for a in out))
        return out

    def _collate(self, column: list) -> Any:
        if _is_sequence_field(column[0]):
            return self._pad(column)
        if self.as_tensors:
            return default_collate(column)
        return column if isinstance(column[0], (str, bytes)) else np.asarray(column)

    def __call__(self, batch: Sequence[Any]) -> Any:
        if len(batch) == 0:
            raise ValueError("PadCollate: empty batch")
        elem = batch[0]
        if _is_sequence_field(elem):
            return self._pad(list(batch))
        if isinstance(elem, collections.abc.Mapping):
            return {k: self._collate([b[k] for b in batch]) for k in elem}
        if isinstance(elem, (tuple, list)):
            if any(len(b) != len(elem) for b in batch):
                raise ValueError("PadCollate: samples have different numbers of fields")
            cols = [self._collate(list(c)) for c in zip(*batch)]
            if isinstance(elem, tuple) and hasattr(elem, "_fields"):
                return type(elem)(*cols)
            return tuple(cols) if isinstance(elem, tuple) else cols
        raise TypeError(
            "PadCollate: a sample must be a 1-D int sequence or a tuple/list/dict of fields, "
            f"got {type(elem)!r}"
        )

    def __repr__(self) -> str:
        return (
            f"PadCollate(pad_id={self.pad_id}, batch_first={self.batch_first}, "
            f"padding_side={self.padding_side!r}, as_tensors={self.as_tensors})"
        )


# --------------------------------------------------------------------------- bucketing


class BucketBatchSampler(Sampler):
    """Length-bucketed batches: each batch holds sequences of similar length, so little padding.

    One epoch (``iter(sampler)``):

    1. the indices ``0 .. N-1`` are shuffled (``shuffle=True``) or kept in order;
    2. they are cut into buckets of ``batch_size * bucket_size_multiplier`` consecutive indices;
    3. each bucket is sorted by length (stable; ``descending=True`` by default, so every batch is
       sorted longest first, as ``pack_padded_sequence(enforce_sorted=True)`` wants) and cut into
       batches of ``batch_size``;
    4. the order of all batches is shuffled (``shuffle=True``).

    Every index appears in exactly one batch per epoch; nothing is dropped unless ``drop_last``.
    Buckets are whole multiples of ``batch_size``, so at most one batch (from the last bucket) is
    short: ``len(sampler) = ceil(N / batch_size)``.  With ``shuffle=False`` the whole dataset is one
    sorted bucket and the batches come in sorted order (evaluation).

    Args:
        lengths: ``(N,)`` sequence lengths, or ``(N, k)``: sorted by column 0, ties by column 1, ...
            (for translation pairs ``(src_len, tgt_len)``, as torchtext's ``BucketIterator``).
        batch_size: indices per batch.
        shuffle: shuffle the indices before bucketing and the batch order after it.
        seed: ``None`` (the gradus global generator, so ``gradus.manual_seed`` fixes the epochs), an
            int (one generator made here: successive epochs differ, a new sampler with the same
            seed repeats them) or a ``numpy.random.Generator``.
        bucket_size_multiplier: batches per bucket (default 100); larger = less padding, less
            randomness.
        descending: sort longest first within a bucket.
        drop_last: drop the (at most one) short batch.
    """

    def __init__(
        self,
        lengths: Any,
        batch_size: int,
        shuffle: bool = True,
        seed: Any = None,
        bucket_size_multiplier: int = 100,
        descending: bool = True,
        drop_last: bool = False,
    ) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer, got {batch_size!r}")
        if not isinstance(bucket_size_multiplier, int) or bucket_size_multiplier <= 0:
            raise ValueError(
                f"bucket_size_multiplier should be a positive integer, got {bucket_size_multiplier!r}"
            )
        lengths = np.asarray(to_numpy(lengths) if is_tensor(lengths) else lengths)
        if lengths.ndim not in (1, 2) or lengths.shape[0] == 0:
            raise ValueError(f"lengths must be a non-empty (N,) or (N, k) array, got shape {lengths.shape}")
        if lengths.dtype.kind not in "iu":
            raise TypeError(f"lengths must be integers, got dtype {lengths.dtype}")
        self.lengths = lengths.reshape(len(lengths), -1).astype(np.int64)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = None if seed is None else as_generator(seed)
        self.bucket_size_multiplier = bucket_size_multiplier
        self.descending = descending
        self.drop_last = drop_last

    def _sort(self, idx: np.ndarray) -> np.ndarray:
        keys = self.lengths[idx]
        if self.descending:
            keys = -keys
        # np.lexsort sorts by the last key first, stably: pass the columns reversed.
        return idx[np.lexsort(keys.T[::-1])]

    def batches(self) -> list[np.ndarray]:
        """This epoch's batches as int64 arrays (consumes randomness when shuffling)."""
        n = len(self.lengths)
        bs = self.batch_size
        if self.shuffle:
            rng = as_generator(self.generator)
            order = rng.permutation(n).astype(np.int64)
            bucket = bs * self.bucket_size_multiplier
        else:
            rng = None
            order = np.arange(n, dtype=np.int64)
            bucket = n
        out: list[np.ndarray] = []
        for start in range(0, n, bucket):
            pool = self._sort(order[start : start + bucket])
            out.extend(pool[i : i + bs] for i in range(0, len(pool), bs))
        if self.drop_last and out and len(out[-1]) < bs:
            out.pop()
        if rng is not None:
            out = [out[i] for i in rng.permutation(len(out)).tolist()]
        return out

    def __iter__(self) -> Iterator[list[int]]:
        for b in self.batches():
            yield b.tolist()

    def __len__(self) -> int:
        n = len(self.lengths)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __repr__(self) -> str:
        return (
            f"BucketBatchSampler(n={len(self.lengths)}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, "
            f"bucket_size_multiplier={self.bucket_size_multiplier}, drop_last={self.drop_last})"
        )


# --------------------------------------------------------------------------- truncated BPTT


def batchify(data: Any, batch_size: int) -> np.ndarray:
    """Cut a 1-D token stream into ``batch_size`` contiguous streams: ``(B, T_total)`` int64.

    ``T_total = len(data) // B``; the last ``len(data) % B`` tokens are dropped; row ``b`` is
    ``data[b * T_total : (b + 1) * T_total]``.  (The PyTorch word-language-model example returns the
    transpose, ``(T_total, B)``.)  Carrying the hidden state from one window of
    :func:`bptt_batches` to the next then continues each row's text.
    """
    a = to_numpy(data) if is_tensor(data) else np.asarray(data)
    if a.ndim != 1:
        raise ValueError(f"batchify takes a 1-D token stream, got shape {a.shape}")
    if not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"batch_size should be a positive integer, got {batch_size!r}")
    T = len(a) // batch_size
    if T < 2:
        raise ValueError(
            f"a stream of {len(a)} tokens is too short for {batch_size} rows of at least 2 tokens"
        )
    return np.ascontiguousarray(a[: T * batch_size].reshape(batch_size, T), dtype=np.int64)


def bptt_batches(
    streams: np.ndarray, bptt: int, batch_first: bool = True
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Windows ``(x, y)`` over the ``(B, T_total)`` streams of :func:`batchify`, in order.

    Window ``i`` (``t0 = i * bptt``, ``L = min(bptt, T_total - 1 - t0)``):
    ``x = streams[:, t0 : t0 + L]``, ``y = streams[:, t0 + 1 : t0 + 1 + L]`` (next-token targets),
    each ``(B, L)``, or ``(L, B)`` with ``batch_first=False``.  The last window may be shorter;
    ``ceil((T_total - 1) / bptt)`` windows in all.  The arrays are fresh copies.
    """
    streams = np.asarray(streams)
    if streams.ndim != 2:
        raise ValueError(f"bptt_batches takes (B, T_total) streams (see batchify), got shape {streams.shape}")
    if not isinstance(bptt, int) or bptt <= 0:
        raise ValueError(f"bptt should be a positive integer, got {bptt!r}")
    T = streams.shape[1]
    for t0 in range(0, T - 1, bptt):
        L = min(bptt, T - 1 - t0)
        x, y = streams[:, t0 : t0 + L], streams[:, t0 + 1 : t0 + 1 + L]
        if batch_first:
            yield x.copy(), y.copy()
        else:
            yield np.ascontiguousarray(x.T), np.ascontiguousarray(y.T)


# --------------------------------------------------------------------------- translation pairs


def _check_pairs(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    out = [tuple(p) for p in pairs]
    for i, p in enumerate(out):
        if len(p) != 2 or not isinstance(p[0], str) or not isinstance(p[1], str):
            raise TypeError(f"pair {i} is not a (src, tgt) pair of strings: {p!r}")
    return out


class TranslationDataset(Dataset):
    """``(src, tgt)`` string pairs encoded with two vocabularies.

    Item ``i`` is ``(src_ids, tgt_ids)``, 1-D int64 ndarrays:
    ``src_ids = [<sos>]? + src_vocab(src_tokenizer(src)) + [<eos>]?`` (by default only ``<eos>``,
    as in the PyTorch seq2seq tutorial) and ``tgt_ids = <sos> + tgt_vocab(tgt_tokenizer(tgt)) +
    <eos>``, so teacher forcing reads ``tgt_ids[:-1]`` and predicts ``tgt_ids[1:]``.
    Everything is encoded once, here.

    Args:
        pairs: an iterable of ``(src, tgt)`` strings (e.g. :class:`~gradus.data.datasets.Multi30k`).
        src_vocab, tgt_vocab: :class:`~gradus.data.Vocab` (the target one needs ``<sos>``/``<eos>``).
        src_tokenizer: str -> list of tokens; default :func:`~gradus.data.word_tokenize`.
        tgt_tokenizer: default: the same as ``src_tokenizer``.
        src_sos, src_eos, tgt_sos, tgt_eos: which markers to add.

    Attributes:
        src_lengths, tgt_lengths: ``(N,)`` int64 (markers included).
        lengths: ``(N, 2)`` int64 ``[src_len, tgt_len]``: the key for :class:`BucketBatchSampler`.
        pairs: the raw string pairs.
    """

    def __init__(
        self,
        pairs: Iterable[tuple[str, str]],
        src_vocab: Vocab,
        tgt_vocab: Vocab,
        src_tokenizer: Callable[[str], list[str]] | None = None,
        tgt_tokenizer: Callable[[str], list[str]] | None = None,
        *,
        src_sos: bool = False,
        src_eos: bool = True,
        tgt_sos: bool = True,
        tgt_eos: bool = True,
    ) -> None:
        self.pairs = _check_pairs(pairs)
        self.src_tokenizer = src_tokenizer or word_tokenize
        self.tgt_tokenizer = tgt_tokenizer or self.src_tokenizer
        self._encode(
            [self.src_tokenizer(s) for s, _ in self.pairs],
            [self.tgt_tokenizer(t) for _, t in self.pairs],
            src_vocab,
            tgt_vocab,
            src_sos,
            src_eos,
            tgt_sos,
            tgt_eos,
        )

    def _encode(
        self,
        src_tokens: list,
        tgt_tokens: list,
        src_vocab: Vocab,
        tgt_vocab: Vocab,
        src_sos: bool,
        src_eos: bool,
        tgt_sos: bool,
        tgt_eos: bool,
    ) -> None:
        self.src_vocab, self.tgt_vocab = src_vocab, tgt_vocab
        self.src = [src_vocab.encode(t, add_sos=src_sos, add_eos=src_eos, as_array=True) for t in src_tokens]
        self.tgt = [tgt_vocab.encode(t, add_sos=tgt_sos, add_eos=tgt_eos, as_array=True) for t in tgt_tokens]
        self.src_lengths = np.array([len(a) for a in self.src], dtype=np.int64)
        self.tgt_lengths = np.array([len(a) for a in self.tgt], dtype=np.int64)

    @classmethod
    def from_pairs(
        cls,
        pairs: Iterable[tuple[str, str]],
        src_tokenizer: Callable[[str], list[str]] | None = None,
        tgt_tokenizer: Callable[[str], list[str]] | None = None,
        min_freq: int = 1,
        max_size: int | None = None,
        specials: Sequence[str] = DEFAULT_SPECIALS,
        *,
        src_sos: bool = False,
        src_eos: bool = True,
        tgt_sos: bool = True,
        tgt_eos: bool = True,
    ) -> TranslationDataset:
        """Build both vocabularies from ``pairs`` (the training split; :meth:`Vocab.build` with
        ``min_freq``, ``max_size``, ``specials``) and encode them (each sentence tokenised once).

        Reuse ``ds.src_vocab`` / ``ds.tgt_vocab`` for the validation and test splits:
        ``TranslationDataset(val_pairs, ds.src_vocab, ds.tgt_vocab, ds.src_tokenizer, ds.tgt_tokenizer)``.
        """
        self = cls.__new__(cls)
        self.pairs = _check_pairs(pairs)
        self.src_tokenizer = src_tokenizer or word_tokenize
        self.tgt_tokenizer = tgt_tokenizer or self.src_tokenizer
        src_tokens = [self.src_tokenizer(s) for s, _ in self.pairs]
        tgt_tokens = [self.tgt_tokenizer(t) for _, t in self.pairs]
        self._encode(
            src_tokens,
            tgt_tokens,
            Vocab.build(src_tokens, min_freq, max_size, specials),
            Vocab.build(tgt_tokens, min_freq, max_size, specials),
            src_sos,
            src_eos,
            tgt_sos,
            tgt_eos,
        )
        return self

    @property
    def lengths(self) -> np.ndarray:
        return np.stack([self.src_lengths, self.tgt_lengths], axis=1)

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        return self.src[index], self.tgt[index]

    def __repr__(self) -> str:
        return (
            f"TranslationDataset(n={len(self)}, src_vocab={len(self.src_vocab)}, "
            f"tgt_vocab={len(self.tgt_vocab)})"
        )
