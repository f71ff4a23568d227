"""Tiny Shakespeare: the character-level language-modelling corpus of char-rnn and nanoGPT.

One plain-text file, ``<root>/tinyshakespeare/input.txt`` (1,115,394 ASCII characters, 65 distinct,
40,000 lines), verified against its SHA-256 before it is read and downloaded from its canonical URL
when missing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ..dataset import Dataset
from ..download import dataset_dir, ensure_file
from ..errors import DatasetFormatError
from ..sequence import batchify, bptt_batches
from ..vocab import Vocab

__all__ = ["TinyShakespeare", "encode_chars"]


def encode_chars(text: str, vocab: Vocab) -> np.ndarray:
    """``text`` -> ``(len(text),)`` int64 ids of a character vocabulary, by one table lookup over the
    code points (about 100x faster than a Python loop on a megabyte of text).  Characters not in the
    vocabulary map to its ``<unk>``, or raise ``KeyError`` if it has none."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
    if codes.size == 0:
        return np.zeros(0, dtype=np.int64)
    single = [(ord(t), i) for t, i in vocab.stoi.items() if len(t) == 1]
    size = max(int(codes.max()), max((c for c, _ in single), default=0)) + 1
    table = np.full(size, -1, dtype=np.int64)
    for c, i in single:
        table[c] = i
    ids = table[codes]
    unknown = ids < 0
    if unknown.any():
        if vocab.unk_id is None:
            bad = sorted({chr(c) for c in codes[unknown][:1000].tolist()})
            raise KeyError(f"character(s) {bad[:10]} are not in the vocabulary, which has no unk_token")
        ids[unknown] = vocab.unk_id
    return ids


class TinyShakespeare(Dataset):
    """Next-character prediction on Tiny Shakespeare (Karpathy, char-rnn; public-domain text).

    Attributes:
        text: the whole corpus (str, 1,115,394 characters).
        vocab: the character :class:`~gradus.data.Vocab` of the *whole* text, without specials,
            sorted by code point (``sorted(set(text))``, as nanoGPT): 65 characters, ``"\\n"`` = 0,
            ``" "`` = 1, ... ``"z"`` = 64; ``decode`` joins with ``""``.
        data: this split's ids, ``(n,)`` int64.  The split is by position, as nanoGPT:
            ``cut = int(len(text) * (1 - val_fraction))``; ``"train"`` is ``ids[:cut]`` (the first
            90% by default: 1,003,854 characters), ``"val"`` is ``ids[cut:]`` (111,540), ``"all"``
            everything.

    Items: ``ds[i] = (x, y)``, two ``(seq_len,)`` int64 arrays with ``x = data[s : s + seq_len]``,
    ``y = data[s + 1 : s + 1 + seq_len]`` (the next characters), ``s = i * stride``;
    ``len(ds) = (n - 1 - seq_len) // stride + 1``.  ``stride = seq_len`` (default) gives
    non-overlapping windows (each character is a target once per epoch); ``stride=1`` every window
    (sample random ones as nanoGPT: ``ds.get_batch(rng.integers(0, len(ds), B))``).

    ``get_batch(indices)`` is the DataLoader fast path: ``(X, Y)``, each ``(B, seq_len)`` int64, by
    one gather.  For truncated BPTT with a carried hidden state use :meth:`streams` /
    :meth:`bptt_batches` instead (contiguous text across batches).

    Args:
        root: data root (``<root>/tinyshakespeare/input.txt``); default ``$GRADUS_DATA`` or
            ``~/.cache/gradus``.
        split: ``"train"``, ``"val"`` or ``"all"``.
        val_fraction: share of the text (its end) held out for ``"val"``; in ``[0, 1)``.
        seq_len: window length ``T``.
        stride: window start spacing (default ``seq_len``).
        download: fetch the file from its canonical URL if missing.
    """

    folder = "tinyshakespeare"
    filename = "input.txt"
    sha256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
    mirrors: Sequence[str] = (
        "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
        "https://raw.githubusercontent.com/karpathy/char-rnn/6f9487a6fe5b420b7ca9afb0d7c078e37c1d1b4e/"
        "data/tinyshakespeare/input.txt",
    )
    splits = ("train", "val", "all")

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        split: str = "train",
        val_fraction: float = 0.1,
        seq_len: int = 128,
        stride: int | None = None,
        download: bool = True,
    ) -> None:
        if split not in self.splits:
            raise ValueError(f"split must be one of {self.splits}, got {split!r}")
        if not 0.0 <= float(val_fraction) < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction!r}")
        if not isinstance(seq_len, int) or isinstance(seq_len, bool) or seq_len <= 0:
            raise ValueError(f"seq_len must be a positive int, got {seq_len!r}")
        stride = seq_len if stride is None else stride
        if not isinstance(stride, int) or isinstance(stride, bool) or stride <= 0:
            raise ValueError(f"stride must be a positive int, got {stride!r}")
        self.root = dataset_dir(root, self.folder)
        path = ensure_file(self.filename, self.root, sha256=self.sha256, urls=self.mirrors, download=download)
        try:
            self.text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as e:
            raise DatasetFormatError(f"{path}: not UTF-8 text ({e})") from e
        if not self.text:
            raise DatasetFormatError(f"{path}: empty file (no text to model)")
        self.vocab = Vocab.build([self.text], specials=(), order="alphabetical", sep="")
        ids = encode_chars(self.text, self.vocab)
        self.cut = int(len(ids) * (1 - float(val_fraction)))
        self.split = split
        self.val_fraction = float(val_fraction)
        self.data = {"train": ids[: self.cut], "val": ids[self.cut :], "all": ids}[split]
        if len(self.data) < seq_len + 1:
            raise ValueError(
                f"{path}: the {split!r} split has {len(self.data)} characters: too few for "
                f"seq_len={seq_len} (need seq_len + 1)"
            )
        self.seq_len = seq_len
        self.stride = stride
        self._offsets = np.arange(seq_len + 1, dtype=np.int64)

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def encode(self, text: str) -> np.ndarray:
        """Characters -> ``(len(text),)`` int64 ids (``KeyError`` for a character not in the corpus)."""
        return encode_chars(text, self.vocab)

    def decode(self, ids: Any) -> str:
        """Ids -> text."""
        return self.vocab.decode(ids)

    def __len__(self) -> int:
        return (len(self.data) - 1 - self.seq_len) // self.stride + 1

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"index {index} is out of range for {n} windows")
        s = index * self.stride
        w = self.data[s : s + self.seq_len + 1]
        return w[:-1].copy(), w[1:].copy()

    def get_batch(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(X, Y)``, each ``(len(indices), seq_len)`` int64, ``Y[b, t] = X[b, t + 1]`` for
        ``t < seq_len - 1``."""
        indices = np.asarray(indices, dtype=np.int64)
        n = len(self)
        if indices.size and (indices.min() < -n or indices.max() >= n):
            raise IndexError(f"indices out of range for {n} windows")
        indices = np.where(indices < 0, indices + n, indices)
        windows = self.data[(indices * self.stride)[:, None] + self._offsets]
        return windows[:, :-1].copy(), windows[:, 1:].copy()

    def streams(self, batch_size: int) -> np.ndarray:
        """This split as ``batch_size`` contiguous streams, ``(B, T_total)`` int64
        (:func:`~gradus.data.batchify`)."""
        return batchify(self.data, batch_size)

    def bptt_batches(
        self, batch_size: int, bptt: int | None = None, batch_first: bool = True
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Consecutive ``(x, y)`` windows of ``bptt`` (default ``seq_len``) steps over
        :meth:`streams`: row ``b`` of window ``i + 1`` continues row ``b`` of window ``i``, so the
        hidden state can be carried (detached) between them (:func:`~gradus.data.bptt_batches`)."""
        return bptt_batches(self.streams(batch_size), bptt or self.seq_len, batch_first)

    def __repr__(self) -> str:
        return (
            f"TinyShakespeare(split={self.split!r}, chars={len(self.data)}, vocab={len(self.vocab)}, "
            f"seq_len={self.seq_len}, stride={self.stride}, n={len(self)})"
        )
