"""Simple tokenizers for the text corpora, the PyTorch-tutorial normalisation, and optional subword
trainers.

* :func:`char_tokenize`: ``"abc" -> ["a", "b", "c"]`` (character language models).
* :func:`word_tokenize`: words and punctuation as separate tokens, optionally lower-cased
  (Multi30k, Tatoeba, the sentiment sentences).
* :func:`unicode_to_ascii` / :func:`normalize_string`: the normalisation of the PyTorch
  "NLP From Scratch: seq2seq translation" tutorial (lower-case, strip accents, a space before
  ``. ! ?``, everything else but letters dropped).
* :func:`train_bpe` / :func:`train_wordpiece`: subword vocabularies are *not* hand-written here; these
  helpers train one with the Hugging Face ``tokenizers`` library (the ``text`` extra:
  ``pip install gradus[text]``), imported only when called.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "char_tokenize",
    "word_tokenize",
    "unicode_to_ascii",
    "normalize_string",
    "normalize_strings",
    "train_bpe",
    "train_wordpiece",
]

# A word is a run of letters / digits / underscore (Unicode-aware: "Männer", "garçon"); any other
# non-space character is a token of its own.
_WORD_RE = re.compile(r"\w+|[^\w\s]")


def char_tokenize(text: str) -> list[str]:
    """Every character is a token: ``char_tokenize("Hi!") == ["H", "i", "!"]`` (spaces and
    newlines included, so ``"".join(tokens) == text``)."""
    return list(text)


def word_tokenize(text: str, lower: bool = False) -> list[str]:
    """Split ``text`` into words and punctuation marks.

    The rule (regular expression ``\\w+|[^\\w\\s]``): a token is either a maximal run of word
    characters (Unicode letters, digits, ``_``) or one single other non-whitespace character.
    Whitespace (including the narrow no-break space French puts before ``!``) separates tokens and
    is dropped. Apostrophes and hyphens are punctuation: ``"don't" -> ["don", "'", "t"]``,
    ``"l'homme" -> ["l", "'", "homme"]``, which keeps vocabularies small and the rule simple.

    Args:
        lower: lower-case the text first (``str.lower``).

    >>> word_tokenize("Two young, White males are outside.")
    ['Two', 'young', ',', 'White', 'males', 'are', 'outside', '.']
    >>> word_tokenize("Zwei Männer, im Freien!", lower=True)
    ['zwei', 'männer', ',', 'im', 'freien', '!']
    """
    if lower:
        text = text.lower()
    return _WORD_RE.findall(text)


def unicode_to_ascii(s: str) -> str:
    """Strip accents: NFD-decompose and drop the combining marks (``"garçon été" -> "garcon ete"``).

    The tutorial's ``unicodeToAscii`` (``"".join(c for c in NFD(s) if category(c) != "Mn")``), done
    with one ``str.replace`` per distinct mark; characters without an ASCII base letter
    (``œ``, ``ß``) stay.
    """
    if s.isascii():
        return s
    s = unicodedata.normalize("NFD", s)
    for mark in [c for c in set(s) if unicodedata.category(c) == "Mn"]:
        s = s.replace(mark, "")  # a few C-level passes: much faster than translate on a corpus
    return s


_PUNCT_RE = re.compile(r"([.!?])")
_NON_LETTER_RE = re.compile(r"[^a-zA-Z.!?]+")
_NON_LETTER_NL_RE = re.compile(r"[^a-zA-Z.!?\n]+")


def normalize_string(s: str) -> str:
    """The PyTorch seq2seq tutorial's ``normalizeString``.

    ``lower().strip()``, :func:`unicode_to_ascii`, a space inserted before each of ``. ! ?``, every
    run of characters other than ``a-z . ! ?`` replaced by one space, then stripped.  Tokens are then
    ``s.split(" ")``.  (This is the original tutorial's rule, which keeps ``.``; a later revision of
    the tutorial also drops ``.``.)  Digits are dropped too: ``"I'm 19."`` becomes ``"i m ."``.

    >>> normalize_string("Va, je t'aime\\u202f!")
    'va je t aime !'
    """
    s = unicode_to_ascii(s.lower().strip())
    s = _PUNCT_RE.sub(r" \1", s)
    s = _NON_LETTER_RE.sub(" ", s)
    return s.strip()


def normalize_strings(strings: Iterable[str]) -> list[str]:
    """``[normalize_string(s) for s in strings]``, computed on the joined text at once (every step is
    character-local and the newlines joining the strings are kept as separators): about 20x faster
    on a corpus."""
    strings = list(strings)
    if not strings:
        return []
    if any("\n" in s for s in strings):
        return [normalize_string(s) for s in strings]
    text = unicode_to_ascii("\n".join(strings).lower())
    text = text.replace(".", " .").replace("!", " !").replace("?", " ?")  # = _PUNCT_RE.sub
    text = _NON_LETTER_NL_RE.sub(" ", text)
    return [line.strip() for line in text.split("\n")]


# --------------------------------------------------------------------------- subword (optional)


def _require_tokenizers() -> Any:
    try:
        import tokenizers
    except ImportError as e:
        raise ImportError(
            "subword tokenizers need the Hugging Face 'tokenizers' library, which is not installed: "
            "pip install 'gradus[text]' (or: pip install tokenizers). The character and word "
            "tokenizers (char_tokenize, word_tokenize) need nothing extra."
        ) from e
    return tokenizers


def _train(
    model: str,
    texts: Iterable[str],
    vocab_size: int,
    specials: Sequence[str],
    min_frequency: int,
    lowercase: bool,
    pre_tokenizer: str = "whitespace",
) -> Any:
    tk = _require_tokenizers()
    from tokenizers import decoders, normalizers, pre_tokenizers

    if pre_tokenizer not in ("whitespace", "metaspace"):
        raise ValueError(f"pre_tokenizer must be 'whitespace' or 'metaspace', got {pre_tokenizer!r}")

    unk = "<unk>" if "<unk>" in specials else None
    if model == "bpe":
        from tokenizers.models import BPE
        from tokenizers.trainers import BpeTrainer

        tokenizer = tk.Tokenizer(BPE(unk_token=unk))
        trainer = BpeTrainer(
            vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=list(specials),
            show_progress=False,
        )
    else:
        from tokenizers.models import WordPiece
        from tokenizers.trainers import WordPieceTrainer

        tokenizer = tk.Tokenizer(WordPiece(unk_token=unk or "[UNK]"))
        trainer = WordPieceTrainer(
            vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=list(specials),
            show_progress=False,
        )
    steps = [normalizers.NFKC()] + ([normalizers.Lowercase()] if lowercase else [])
    tokenizer.normalizer = normalizers.Sequence(steps)
    if pre_tokenizer == "metaspace":
        # SentencePiece's convention: a space becomes part of the next piece ("▁word"), so decode()
        # gives back the original text (detokenised output, as sacrebleu wants it)
        # punctuation gets pieces of its own ("shirt." = "▁shirt" + "."); without a "▁" it decodes glued on
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Metaspace(),
                                                           pre_tokenizers.Punctuation()])
        tokenizer.decoder = decoders.Metaspace()
        if model == "wordpiece":
            raise ValueError("pre_tokenizer='metaspace' is for BPE; WordPiece marks continuations with '##'")
    else:
        tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()  # words and punctuation, like word_tokenize
        if model == "wordpiece":
            tokenizer.decoder = decoders.WordPiece()
    tokenizer.train_from_iterator(iter(texts), trainer=trainer)
    return tokenizer


def train_bpe(
    texts: Iterable[str],
    vocab_size: int = 8000,
    specials: Sequence[str] = ("<pad>", "<sos>", "<eos>", "<unk>"),
    min_frequency: int = 2,
    lowercase: bool = False,
    pre_tokenizer: str = "whitespace",
) -> Any:
    """Train a byte-pair-encoding tokenizer (Sennrich et al., 2016) with Hugging Face ``tokenizers``.

    The specials get the first ids in the order given (``<pad>`` = 0 by default, as in
    :class:`~gradus.data.vocab.Vocab`).  Returns a ``tokenizers.Tokenizer``:
    ``tok.encode(text).ids`` -> list of ids, ``tok.decode(ids)`` -> text,
    ``tok.get_vocab_size()``.  ``pre_tokenizer``: ``"whitespace"`` splits words and punctuation
    first (pieces never cross them; ``decode`` joins pieces with spaces), ``"metaspace"`` keeps the
    spaces in the pieces (SentencePiece's "▁"), so ``decode(encode(text).ids) == text`` for text
    without unknown characters — use it when the output must be real text (translation).
    Raises ``ImportError`` with the install command if ``tokenizers`` is missing.
    """
    return _train("bpe", texts, vocab_size, specials, min_frequency, lowercase, pre_tokenizer)


def train_wordpiece(
    texts: Iterable[str],
    vocab_size: int = 8000,
    specials: Sequence[str] = ("<pad>", "<sos>", "<eos>", "<unk>"),
    min_frequency: int = 2,
    lowercase: bool = False,
    pre_tokenizer: str = "whitespace",
) -> Any:
    """Train a WordPiece tokenizer (BERT's subwords, ``##`` continuation prefix) with Hugging Face
    ``tokenizers``; same arguments and return value as :func:`train_bpe` (``decode`` joins the
    continuations back into words; only the ``"whitespace"`` pre-tokenizer).

    Not reproducible across processes: ``tokenizers``' WordPiece trainer numbers the ``##`` pieces in
    the iteration order of a randomly seeded hash map, and merge ties are broken by those ids, so the
    same texts can give a slightly different vocabulary in another run (huggingface/tokenizers issue
    #1794; measured here: 25,075-25,083 tokens for the same 100,000 characters in four runs). Save
    the trained tokenizer with the model (the BERT recipes do) and reuse it; :func:`train_bpe` is
    reproducible."""
    return _train("wordpiece", texts, vocab_size, specials, min_frequency, lowercase, pre_tokenizer)
