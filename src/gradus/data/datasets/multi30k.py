"""Multi30k task 1 (Elliott et al., 2016): English / German / French / Czech image captions,
line-aligned translations -- the standard small seq2seq and Transformer translation corpus.

Files are the gzip-compressed raw (untokenised, cased) sentences, one per line, in
``<root>/multi30k/`` (``train.de.gz``, ``val.en.gz``, ``test_2016_flickr.fr.gz``, ...), each checked
against its SHA-256 and downloaded from the dataset's GitHub repository when missing.
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Sequence
from pathlib import Path

from ..dataset import Dataset
from ..download import dataset_dir, ensure_file
from ..errors import DatasetFormatError

__all__ = ["Multi30k", "read_lines_gz"]


_MAX_TEXT_BYTES = 1 << 30  # 1 GiB of decompressed text; Multi30k's largest file is about 2 MB
_CHUNK = 1 << 20  # decompressed in 1 MiB pieces: memory follows the output


def read_lines_gz(path: str | os.PathLike, max_bytes: int = _MAX_TEXT_BYTES) -> list[str]:
    """The lines of a gzip-compressed UTF-8 text file, without their line ends.

    Split on ``"\\n"`` only (``str.splitlines`` would also split on U+0085 and friends); a final
    newline does not make an extra empty line; a ``"\\r"`` before ``"\\n"`` is dropped.  Empty lines
    elsewhere are kept (line ``i`` of one language must stay line ``i`` of the others).

    The stream is decompressed in 1 MiB pieces and refused once it passes ``max_bytes`` (a gzip
    bomb expands up to 1032:1; its size is not known before decompressing it).

    Raises:
        DatasetFormatError: not gzip, a corrupt or truncated stream, more than ``max_bytes`` of
            text, or text that is not UTF-8.  The message names the file.
    """
    path = Path(path)
    pieces: list[bytes] = []
    with open(path, "rb") as fh:  # outside the try: a missing file stays a FileNotFoundError
        # Python's gzip reads a 0-byte file as an empty stream; a real .gz has at least a header.
        if not fh.read(1):
            raise DatasetFormatError(f"{path}: empty file (not a gzip stream)")
        fh.seek(0)
        try:
            _read_gzip_pieces(fh, path, pieces, max_bytes)
        except (OSError, EOFError, zlib.error) as e:
            raise DatasetFormatError(
                f"{path}: corrupt or truncated gzip stream ({type(e).__name__}: {e})"
            ) from e
    raw = b"".join(pieces)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DatasetFormatError(f"{path}: not UTF-8 text ({e})") from e
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _read_gzip_pieces(fh, path: Path, pieces: list[bytes], max_bytes: int) -> None:
    """Decompress the open file ``fh`` into ``pieces``, refusing more than ``max_bytes`` of output."""
    total = 0
    with gzip.GzipFile(fileobj=fh, mode="rb") as f:
        while True:
            chunk = f.read(_CHUNK)
            if not chunk:
                return
            total += len(chunk)
            if total > max_bytes:
                raise DatasetFormatError(
                    f"{path}: decompresses to more than {max_bytes} bytes (a gzip bomb or not a text "
                    "corpus); refused"
                )
            pieces.append(chunk)


class Multi30k(Dataset):
    """Multi30k task 1 translation pairs (raw strings).

    ``ds[i] = (src_sentence, tgt_sentence)`` for ``language_pair = (src, tgt)``; sizes
    29,000 (train), 1,014 (val), 1,000 (test2016).  Tokenise and encode with
    :class:`~gradus.data.TranslationDataset`.

    Attributes:
        src, tgt: the lists of source / target sentences (aligned).

    Args:
        root: data root (files in ``<root>/multi30k/``); default ``$GRADUS_DATA`` or ``~/.cache/gradus``.
        split: ``"train"``, ``"val"`` (alias ``"valid"``, torchtext's name) or ``"test2016"``
            (aliases ``"test"``, ``"test_2016_flickr"``).
        language_pair: two distinct languages out of ``"en"``, ``"de"``, ``"fr"``, ``"cs"``; default
            German -> English, as torchtext.
        download: fetch missing files from the dataset repository.

    Licence: the repository has none; the captions derive from Flickr30k (research use). Cite
    Elliott, Frank, Sima'an & Specia (2016).
    """

    folder = "multi30k"
    mirrors: Sequence[str] = (
        "https://github.com/multi30k/dataset/raw/master/data/task1/raw/",
        "https://raw.githubusercontent.com/multi30k/dataset/a3d2e0d26b56f3846f66a952536ffed4e401d05a/"
        "data/task1/raw/",
    )
    languages = ("en", "de", "fr", "cs")
    split_files = {"train": "train", "val": "val", "test2016": "test_2016_flickr"}
    split_aliases = {"valid": "val", "test": "test2016", "test_2016_flickr": "test2016"}
    sizes = {"train": 29000, "val": 1014, "test2016": 1000}
    sha256 = {
        "train.en.gz": "d79cfa999dd4c51d2cb42499b6796d5a882c3a8a961923c25a898c90f8bbd56f",
        "train.de.gz": "726e39b2fa9eb9ffb6dc763fb35a179f80fae06ffc5d28b6ace5faa883de28a6",
        "train.fr.gz": "622e75069e9f4c577425c4f277116ce66e63a2401c0a2312d90073cb12379a3c",
        "train.cs.gz": "a65adb8b32e3bc664f21ecba7a6e7f6950fd1f405e135f7c312faabdb6255077",
        "val.en.gz": "14f7d25ddd868909a9213e361768460edcacdd6ab9d1e77b92560dc10c10dc28",
        "val.de.gz": "f0cba2f995189cf5770f29a8a9a537a3ad3f51657ad873405082ff6863a5e75a",
        "val.fr.gz": "ca3106f1a72390591d25f6c45cb4cd39dec4cd3f123e099748a3ce5256c160e9",
        "val.cs.gz": "b63226e05c4bd5dd6a42897d74b86a1b9d2c31498252c572b1ea7f7996927fcc",
        "test_2016_flickr.en.gz": "611d361c6334bc7246101d48097c13cf5c4413c5befc793cc629934359d532d9",
        "test_2016_flickr.de.gz": "9204244e408ccb38d2a55cfcd344df15005fc42a07a6e55ca6c52b6ababb8cc8",
        "test_2016_flickr.fr.gz": "6d326e188d259fb1d04ac19eae3af956559b3a0b93d7635e56c90987c40c8b90",
        "test_2016_flickr.cs.gz": "200a4a74cc9560f051924abb9803be008d1908d77f747e9141aeb86dfd2797f1",
    }

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        split: str = "train",
        language_pair: tuple[str, str] = ("de", "en"),
        download: bool = True,
    ) -> None:
        split = self.split_aliases.get(split, split)
        if split not in self.split_files:
            raise ValueError(
                f"split must be one of {sorted(self.split_files)} "
                f"(or {sorted(self.split_aliases)}), got {split!r}"
            )
        pair = tuple(language_pair)
        if len(pair) != 2 or any(lang not in self.languages for lang in pair) or pair[0] == pair[1]:
            raise ValueError(
                f"language_pair must be two different languages out of {self.languages}, "
                f"got {language_pair!r}"
            )
        self.root = dataset_dir(root, self.folder)
        self.split = split
        self.language_pair = pair
        columns = []
        for lang in pair:
            name = f"{self.split_files[split]}.{lang}.gz"
            path = ensure_file(
                name, self.root, sha256=self.sha256.get(name), urls=self.mirrors, download=download
            )
            columns.append((path, read_lines_gz(path)))
        (src_path, src), (tgt_path, tgt) = columns
        if len(src) != len(tgt):
            raise DatasetFormatError(
                f"{src_path} has {len(src)} lines but {tgt_path} has {len(tgt)}: the files are not aligned"
            )
        self.src, self.tgt = src, tgt

    def __len__(self) -> int:
        return len(self.src)

    def __getitem__(self, index: int) -> tuple[str, str]:
        return self.src[index], self.tgt[index]

    def __iter__(self):
        return zip(self.src, self.tgt)

    def __repr__(self) -> str:
        return f"Multi30k(split={self.split!r}, language_pair={self.language_pair}, n={len(self)})"
