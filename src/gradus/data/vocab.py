"""``Vocab``: the token <-> id mapping of a text corpus (characters or words).

Modelled on torchtext's ``Vocab`` (``stoi``/``itos``, ``lookup_indices``, ``lookup_tokens``,
``get_stoi``, ``get_itos``, ``build_vocab_from_iterator``), with the four specials of seq2seq
models built in::

    from gradus.data import Vocab, word_tokenize
    vocab = Vocab.build((word_tokenize(s, lower=True) for s in sentences), min_freq=2)
    ids = vocab.encode(word_tokenize("A dog runs.", lower=True), add_sos=True, add_eos=True)
    vocab.decode(ids)                      # 'a dog runs .'
    vocab.save("vocab.json"); Vocab.load("vocab.json") == vocab

Ids ``0 .. len(specials) - 1`` are the specials in the order given (default
``<pad>=0, <sos>=1, <eos>=2, <unk>=3``); the corpus tokens follow in the order described in
:meth:`Vocab.build`.  A vocabulary is saved as JSON (never pickle): loading one executes nothing.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._compat import to_numpy
from .errors import DatasetFormatError

__all__ = ["Vocab", "DEFAULT_SPECIALS", "build_vocab_from_iterator"]

DEFAULT_SPECIALS: tuple[str, ...] = ("<pad>", "<sos>", "<eos>", "<unk>")
_FORMAT = "gradus.data.Vocab"
_VERSION = 1


class Vocab:
    """A bijection between tokens and the ids ``0 .. len(self) - 1``.

    Args:
        itos: the tokens in id order (``itos[i]`` is the token of id ``i``); no duplicates.
        specials: which of them are special tokens (skipped by ``decode(strip_specials=True)``).
            Each must be in ``itos``.  Default: those of ``<pad> <sos> <eos> <unk>`` present.
        pad_token, sos_token, eos_token, unk_token: the token playing each role, or ``None`` for
            none.  Default: ``"<pad>"`` etc. when it is in ``specials``, else ``None``.
        sep: what :meth:`decode` puts between tokens: ``" "`` for words, ``""`` for characters.

    Attributes:
        stoi: dict token -> id.  itos: list id -> token (read them, do not mutate them).
        pad_id, sos_id, eos_id, unk_id: the role ids (``None`` when the role has no token).

    Unknown tokens map to ``unk_id``; a vocabulary without an ``<unk>`` raises ``KeyError`` naming
    the token instead.
    """

    def __init__(
        self,
        itos: Iterable[str],
        specials: Sequence[str] | None = None,
        *,
        pad_token: str | None = "<pad>",
        sos_token: str | None = "<sos>",
        eos_token: str | None = "<eos>",
        unk_token: str | None = "<unk>",
        sep: str = " ",
    ) -> None:
        itos = list(itos)
        for i, t in enumerate(itos):
            if not isinstance(t, str):
                raise TypeError(f"Vocab tokens must be str, got {type(t).__name__} {t!r} at id {i}")
        stoi: dict[str, int] = {}
        for i, t in enumerate(itos):
            if t in stoi:
                raise ValueError(f"duplicate token {t!r} in the vocabulary (ids {stoi[t]} and {i})")
            stoi[t] = i
        if specials is None:
            specials = [t for t in DEFAULT_SPECIALS if t in stoi]
        specials = list(specials)
        missing = [t for t in specials if t not in stoi]
        if missing:
            raise ValueError(f"special token(s) {missing} are not in the vocabulary")
        if len(set(specials)) != len(specials):
            raise ValueError(f"duplicate special tokens in {specials}")
        if not isinstance(sep, str):
            raise TypeError(f"sep must be a str, got {type(sep).__name__}")
        self.itos: list[str] = itos
        self.stoi: dict[str, int] = stoi
        self.specials: list[str] = specials
        self.sep = sep
        roles = {"pad": pad_token, "sos": sos_token, "eos": eos_token, "unk": unk_token}
        for role, token in roles.items():
            if token is not None and token not in stoi:
                if token == f"<{role}>":  # the default name and not in this vocab: no such role
                    token = None
                else:
                    raise ValueError(f"{role}_token {token!r} is not in the vocabulary")
            setattr(self, f"{role}_token", token)
        self.freqs: dict[str, int] = {}  # corpus counts of the kept tokens (set by build)
        self._special_ids = frozenset(stoi[t] for t in specials)
        self._unk = None if self.unk_token is None else stoi[self.unk_token]

    # ------------------------------------------------------------------ building

    @classmethod
    def build(
        cls,
        iterator: Iterable[Iterable[str]],
        min_freq: int = 1,
        max_size: int | None = None,
        specials: Sequence[str] = DEFAULT_SPECIALS,
        *,
        order: str = "frequency",
        tie_break: str = "alphabetical",
        sep: str = " ",
        pad_token: str | None = "<pad>",
        sos_token: str | None = "<sos>",
        eos_token: str | None = "<eos>",
        unk_token: str | None = "<unk>",
    ) -> Vocab:
        """Count the tokens of ``iterator`` (an iterable of token lists) and build a vocabulary.

        ``itos = specials + kept``.  A corpus token equal to a special is not added twice.

        Selection: a token is kept when it occurs at least ``min_freq`` times; of those, at most
        ``max_size`` (``max_size`` counts corpus tokens only, not the specials; torchtext's legacy
        ``Field.build_vocab(max_size=)``) are kept, the most frequent first, ties broken by
        ``tie_break``.

        Order of the kept tokens (deterministic, whatever the hash seed):

        * ``order="frequency"`` (default): count descending; equal counts by ``tie_break``:
          ``"alphabetical"`` (code-point order of the strings, torchtext's rule and that of
          :class:`~gradus.data.datasets.Vectorizer`) or ``"first"`` (first appearance in the corpus).
        * ``order="alphabetical"``: sorted (``sorted(set(text))`` for characters, as nanoGPT / char-rnn).
        * ``order="first"``: order of first appearance.

        For a character vocabulary pass strings: ``Vocab.build([text], specials=(), order="alphabetical",
        sep="")`` (a ``str`` iterates over its characters).
        """
        if not isinstance(min_freq, int) or isinstance(min_freq, bool) or min_freq < 1:
            raise ValueError(f"min_freq must be an int >= 1, got {min_freq!r}")
        if max_size is not None and (
            not isinstance(max_size, int) or isinstance(max_size, bool) or max_size < 0
        ):
            raise ValueError(f"max_size must be None or an int >= 0, got {max_size!r}")
        if order not in ("frequency", "alphabetical", "first"):
            raise ValueError(f"order must be 'frequency', 'alphabetical' or 'first', got {order!r}")
        if tie_break not in ("alphabetical", "first"):
            raise ValueError(f"tie_break must be 'alphabetical' or 'first', got {tie_break!r}")
        if isinstance(iterator, str):
            raise TypeError(
                "Vocab.build expects an iterable of token lists; got one str. For characters pass "
                "[text], for words [word_tokenize(text)]"
            )
        specials = list(specials)
        counter: Counter[str] = Counter()
        for tokens in iterator:
            counter.update(tokens)
        for t in counter:
            if not isinstance(t, str):
                raise TypeError(f"tokens must be str, got {type(t).__name__} {t!r}")
        special_set = set(specials)
        first = {t: i for i, t in enumerate(counter)}  # Counter keeps insertion = first appearance
        candidates = [t for t, c in counter.items() if c >= min_freq and t not in special_set]
        if tie_break == "alphabetical":
            candidates.sort(key=lambda t: (-counter[t], t))
        else:
            candidates.sort(key=lambda t: (-counter[t], first[t]))
        if max_size is not None:
            candidates = candidates[:max_size]
        if order == "alphabetical":
            candidates.sort()
        elif order == "first":
            candidates.sort(key=first.__getitem__)
        vocab = cls(
            specials + candidates,
            specials,
            pad_token=pad_token,
            sos_token=sos_token,
            eos_token=eos_token,
            unk_token=unk_token,
            sep=sep,
        )
        vocab.freqs = {t: counter[t] for t in candidates}
        return vocab

    # ------------------------------------------------------------------ lookups

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: object) -> bool:
        return token in self.stoi

    def __iter__(self) -> Iterator[str]:
        return iter(self.itos)

    def __getitem__(self, token: str) -> int:
        """The id of ``token``; ``unk_id`` for an unknown token (``KeyError`` without ``<unk>``)."""
        if not isinstance(token, str):
            raise TypeError(
                f"Vocab[...] takes a token (str), got {type(token).__name__}; "
                "for the token of an id use vocab.lookup_token(i) or vocab.itos[i]"
            )
        i = self.stoi.get(token)
        if i is not None:
            return i
        if self._unk is not None:
            return self._unk
        raise KeyError(
            f"token {token!r} is not in the vocabulary ({len(self)} tokens) and it has no unk_token; "
            "build it with '<unk>' among the specials to map unknown tokens to it"
        )

    def __call__(self, tokens: Iterable[str]) -> list[int]:
        """``vocab(tokens)`` = ``lookup_indices(tokens)`` (torchtext)."""
        return self.lookup_indices(tokens)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocab):
            return NotImplemented
        return self._state() == other._state()

    __hash__ = None  # type: ignore[assignment]  # mutable-looking container: not hashable

    def __repr__(self) -> str:
        head = ", ".join(repr(t) for t in self.itos[:8])
        more = ", ..." if len(self) > 8 else ""
        return f"Vocab(size={len(self)}, specials={self.specials}, itos=[{head}{more}])"

    @property
    def pad_id(self) -> int | None:
        return None if self.pad_token is None else self.stoi[self.pad_token]

    @property
    def sos_id(self) -> int | None:
        return None if self.sos_token is None else self.stoi[self.sos_token]

    @property
    def eos_id(self) -> int | None:
        return None if self.eos_token is None else self.stoi[self.eos_token]

    @property
    def unk_id(self) -> int | None:
        return self._unk

    def get_stoi(self) -> dict[str, int]:
        return dict(self.stoi)

    def get_itos(self) -> list[str]:
        return list(self.itos)

    def lookup_indices(self, tokens: Iterable[str]) -> list[int]:
        stoi, unk = self.stoi, self._unk
        if unk is not None:
            return [stoi.get(t, unk) for t in tokens]
        return [self[t] for t in tokens]

    def lookup_token(self, index: int) -> str:
        index = int(index)
        if not 0 <= index < len(self.itos):
            raise IndexError(f"id {index} is out of range for a vocabulary of {len(self)} tokens")
        return self.itos[index]

    def lookup_tokens(self, indices: Iterable[int]) -> list[str]:
        return [self.lookup_token(i) for i in indices]

    # ------------------------------------------------------------------ encode / decode

    def _need(self, role: str) -> int:
        i = getattr(self, f"{role}_id")
        if i is None:
            raise ValueError(f"this vocabulary has no <{role}> token; build it with one among the specials")
        return i

    def encode(
        self,
        tokens: Iterable[str],
        add_sos: bool = False,
        add_eos: bool = False,
        *,
        as_array: bool = False,
    ) -> list[int] | np.ndarray:
        """Tokens -> ids, with ``<sos>`` prepended / ``<eos>`` appended on request.

        A ``str`` is a sequence of characters for a character vocabulary (``sep=""``) and refused
        (``TypeError``) by a word vocabulary, where it is almost always a forgotten tokenizer.  Returns a
        ``list[int]``, or a 1-D int64 ndarray with ``as_array=True``.  Raises ``ValueError`` when
        ``add_sos``/``add_eos`` is asked of a vocabulary without that token, ``KeyError`` for an
        unknown token when there is no ``<unk>``.
        """
        if isinstance(tokens, str) and self.sep != "":
            raise TypeError(
                "encode got a str, but this is a word vocabulary (sep=' '): pass a list of tokens, e.g. "
                "vocab.encode(word_tokenize(text)). For characters build the vocabulary with sep='' "
                "(then a str is a sequence of characters) or pass list(text)"
            )
        ids = self.lookup_indices(tokens)
        if add_sos:
            ids.insert(0, self._need("sos"))
        if add_eos:
            ids.append(self._need("eos"))
        return np.asarray(ids, dtype=np.int64) if as_array else ids

    def decode(
        self,
        ids: Any,
        strip_specials: bool = True,
        *,
        stop_at_eos: bool = False,
        sep: str | None = None,
    ) -> str:
        """Ids (list, 1-D ndarray or gradus Tensor) -> text: tokens joined by ``sep`` (default
        ``self.sep``).

        Args:
            strip_specials: drop the special tokens (``<pad> <sos> <eos>``, ...), except ``<unk>``,
                which stands for a real (unknown) word and is kept.
            stop_at_eos: cut at the first ``<eos>`` (what greedy / beam decoding wants).
        """
        arr = to_numpy(ids)
        if arr.ndim != 1:
            raise ValueError(
                f"decode takes one sequence (1-D ids), got shape {arr.shape}; "
                "decode a (B, T) batch row by row: [vocab.decode(row) for row in ids]"
            )
        if arr.size and arr.dtype.kind not in "iu":
            raise TypeError(f"decode takes integer ids, got dtype {arr.dtype}")
        seq = arr.tolist()
        if stop_at_eos and self.eos_id is not None and self.eos_id in seq:
            seq = seq[: seq.index(self.eos_id)]
        n = len(self.itos)
        bad = [i for i in seq if not 0 <= i < n]
        if bad:
            raise IndexError(f"id(s) {bad[:5]} out of range for a vocabulary of {n} tokens")
        if strip_specials:
            drop = self._special_ids - ({self._unk} if self._unk is not None else set())
            seq = [i for i in seq if i not in drop]
        itos = self.itos
        return (self.sep if sep is None else sep).join(itos[i] for i in seq)

    # ------------------------------------------------------------------ persistence

    def _state(self) -> dict[str, Any]:
        return {
            "format": _FORMAT,
            "version": _VERSION,
            "itos": self.itos,
            "specials": self.specials,
            "pad_token": self.pad_token,
            "sos_token": self.sos_token,
            "eos_token": self.eos_token,
            "unk_token": self.unk_token,
            "sep": self.sep,
        }

    def to_json(self) -> str:
        return json.dumps(self._state(), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str, source: str = "<string>") -> Vocab:
        try:
            state = json.loads(text)
        except json.JSONDecodeError as e:
            raise DatasetFormatError(f"{source}: not a vocabulary file (invalid JSON: {e})") from e
        except RecursionError:
            raise DatasetFormatError(f"{source}: not a vocabulary file (JSON nested too deeply)") from None
        if not isinstance(state, dict) or state.get("format") != _FORMAT:
            raise DatasetFormatError(
                f"{source}: not a gradus vocabulary (expected a JSON object with format={_FORMAT!r})"
            )
        if state.get("version") != _VERSION:
            raise DatasetFormatError(
                f"{source}: vocabulary format version {state.get('version')!r}, this gradus reads {_VERSION}"
            )
        itos = state.get("itos")
        if not isinstance(itos, list) or not all(isinstance(t, str) for t in itos):
            raise DatasetFormatError(f"{source}: 'itos' must be a list of strings")
        try:
            return cls(
                itos,
                state.get("specials", []),
                pad_token=state.get("pad_token"),
                sos_token=state.get("sos_token"),
                eos_token=state.get("eos_token"),
                unk_token=state.get("unk_token"),
                sep=state.get("sep", " "),
            )
        except (TypeError, ValueError) as e:
            raise DatasetFormatError(f"{source}: inconsistent vocabulary: {e}") from e

    def save(self, path: str | os.PathLike) -> Path:
        """Write the vocabulary as UTF-8 JSON (atomic: a temporary file renamed into place)."""
        path = Path(path)
        tmp = path.with_name(f".{path.name}.part")
        tmp.write_text(self.to_json(), encoding="utf-8")
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> Vocab:
        """Read a vocabulary written by :meth:`save`.  ``FileNotFoundError`` if missing,
        :class:`~gradus.data.errors.DatasetFormatError` (a ``ValueError``) if it is not one."""
        path = Path(path)
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as e:
            raise DatasetFormatError(f"{path}: not a vocabulary file (not UTF-8: {e})") from None
        return cls.from_json(text, source=str(path))


def build_vocab_from_iterator(
    iterator: Iterable[Iterable[str]],
    min_freq: int = 1,
    specials: Sequence[str] | None = None,
    special_first: bool = True,
    max_tokens: int | None = None,
) -> Vocab:
    """torchtext's ``build_vocab_from_iterator``, same semantics.

    No specials by default; ``max_tokens`` counts the specials too; tokens are ordered by frequency,
    ties alphabetically; ``special_first=False`` puts the specials at the end.  The roles
    (``pad_id``, ``unk_id``, ...) are set for the specials named ``<pad> <sos> <eos> <unk>``.
    """
    specials = list(specials or [])
    max_size = None
    if max_tokens is not None:
        if max_tokens <= len(specials):
            raise ValueError(f"max_tokens ({max_tokens}) must be larger than the number of specials")
        max_size = max_tokens - len(specials)
    vocab = Vocab.build(iterator, min_freq=min_freq, max_size=max_size, specials=specials)
    if special_first:
        return vocab
    tokens = vocab.itos[len(specials) :] + specials
    out = Vocab(tokens, specials)
    out.freqs = vocab.freqs
    return out
