"""English-French sentence pairs from Tatoeba (the manythings.org Anki export): the corpus of the
PyTorch "NLP From Scratch: translation with a sequence to sequence network and attention" tutorial.

The archive ``<root>/fra-eng/fra-eng.zip`` is verified against its SHA-256 and ``fra.txt`` is read
from it *in memory* (:func:`~gradus.data.download.read_zip_member`): nothing is extracted, so no
member name can reach the filesystem and a read-only data root is fine.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from ..dataset import Dataset
from ..download import dataset_dir, ensure_file, read_zip_member
from ..errors import DatasetFormatError
from ..tokenize import normalize_strings

__all__ = ["TatoebaFraEng", "ENG_PREFIXES"]

# The tutorial's filter: English sentences of the form "I am ...", "He is ...", ... (after
# normalize_string, which turns "I'm" into "i m").
ENG_PREFIXES: tuple[str, ...] = (
    "i am ",
    "i m ",
    "he is",
    "he s ",
    "she is",
    "she s ",
    "you are",
    "you re ",
    "we are",
    "we re ",
    "they are",
    "they re ",
)


class TatoebaFraEng(Dataset):
    """(English, French) sentence pairs, ordered from short to long sentences (142,787 pairs).

    ``ds[i] = (en, fr)`` (``(fr, en)`` with ``reverse=True``, the tutorial's French -> English).

    Args:
        root: data root (``<root>/fra-eng/fra-eng.zip``); default ``$GRADUS_DATA`` or ``~/.cache/gradus``.
        normalize: apply :func:`~gradus.data.normalize_string` to both sides (lower-case, accents
            stripped, a space before ``. ! ?``, other punctuation dropped), as the tutorial.
        max_length: keep only pairs whose *both* sides have fewer than ``max_length``
            whitespace-separated tokens (the tutorial's ``len(s.split(' ')) < MAX_LENGTH``; it uses 10).
        prefixes: keep only pairs whose English side starts with one of these strings (the tutorial
            uses :data:`ENG_PREFIXES`, meant for normalised text).  Filters apply after normalisation.
        reverse: yield ``(fr, en)``.
        download: fetch the archive if missing.

    Attributes:
        pairs: the (filtered) list of ``(en, fr)`` pairs, always English first.
        n_total: the number of pairs in the file before filtering.

    Licence: CC BY 2.0 FR; attribution: tatoeba.org and www.manythings.org/anki.
    """

    folder = "fra-eng"
    filename = "fra-eng.zip"
    member = "fra.txt"
    sha256 = "16c4f7d0df9e7c5e6c54cdb0447f3f4a18a55052ff5e2e0b27dd4a06c0e49d04"
    # The pinned copy first: manythings.org now serves a newer, larger export (with a third
    # attribution column), which fails the checksum of this 2017-09-29 snapshot.
    mirrors: Sequence[str] = (
        "https://github.com/genimind/seq2seq/raw/4f3f8eb0adde54fcc8b89394336b002e7961244c/fra-eng.zip",
        "http://www.manythings.org/anki/fra-eng.zip",
    )
    eng_prefixes = ENG_PREFIXES

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        normalize: bool = False,
        max_length: int | None = None,
        prefixes: Sequence[str] | None = None,
        reverse: bool = False,
        download: bool = True,
    ) -> None:
        if max_length is not None and (not isinstance(max_length, int) or max_length < 1):
            raise ValueError(f"max_length must be None or a positive int, got {max_length!r}")
        if isinstance(prefixes, str):
            prefixes = (prefixes,)
        self.root = dataset_dir(root, self.folder)
        path = ensure_file(self.filename, self.root, sha256=self.sha256, urls=self.mirrors, download=download)
        raw = read_zip_member(path, self.member)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise DatasetFormatError(f"{path}:{self.member}: not UTF-8 text ({e})") from e
        lines = text.split("\n")  # "\n" only: str.splitlines would also split on U+2028 etc.
        if lines and lines[-1] == "":
            lines.pop()
        pairs: list[tuple[str, str]] = []
        for lineno, line in enumerate(lines, 1):
            fields = line.rstrip("\r").split("\t")
            # 2 fields in this snapshot; newer exports add a third (attribution), ignored.
            if len(fields) not in (2, 3):
                raise DatasetFormatError(
                    f"{path}:{self.member}:{lineno}: expected 'English<TAB>French', got {line[:80]!r}"
                )
            pairs.append((fields[0], fields[1]))
        self.n_total = len(pairs)
        if normalize:
            en_side = normalize_strings(en for en, _ in pairs)
            fr_side = normalize_strings(fr for _, fr in pairs)
            pairs = list(zip(en_side, fr_side))
        if max_length is not None:
            pairs = [p for p in pairs if len(p[0].split()) < max_length and len(p[1].split()) < max_length]
        if prefixes is not None:
            starts = tuple(prefixes)
            pairs = [p for p in pairs if p[0].startswith(starts)]
        self.pairs = pairs
        self.normalize = normalize
        self.reverse = reverse

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> tuple[str, str]:
        en, fr = self.pairs[index]
        return (fr, en) if self.reverse else (en, fr)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __repr__(self) -> str:
        return (
            f"TatoebaFraEng(n={len(self)} of {self.n_total}, normalize={self.normalize}, "
            f"reverse={self.reverse})"
        )
