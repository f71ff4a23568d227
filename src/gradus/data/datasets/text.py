"""Small text-classification datasets and a bag-of-words vectorizer.

* :class:`SMSSpam`: the SMS Spam Collection v.1 (5574 messages, 747 spam), in
  ``<root>/sms-spam-collection/SMSSpamCollection``.
* :class:`SentimentSentences`: UCI Sentiment Labelled Sentences (1000 sentences each from Amazon,
  IMDb and Yelp), in ``<root>/sentiment-labelled-sentences/``.
* :func:`tokenize` and :class:`Vectorizer`: text -> float32 feature matrix (count, binary, tf, tf-idf).

Both datasets are distributed by UCI as zip archives; when a file is missing and downloads are
allowed, the archive is fetched, only the needed members are copied out (under names we choose,
so hostile member names cannot escape), each is checked against its sha256, and the zip is removed.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..dataset import Dataset
from ..download import dataset_dir, download_file, ensure_file, extract_zip_member
from ..errors import DatasetFormatError, DatasetNotFoundError

__all__ = ["SMSSpam", "SentimentSentences", "tokenize", "Vectorizer"]


def _fetch_from_zip(
    folder: Path, files: dict[str, str], zip_name: str, zip_urls: Sequence[str], download: bool
) -> dict[str, Path]:
    """Make sure every ``files`` entry (name -> sha256) is in ``folder``; fetch the zip if needed."""
    missing = [name for name in files if not (folder / name).is_file()]
    if missing and download:
        try:
            zip_path = download_file(zip_name, zip_urls, None, folder)
        except DatasetNotFoundError as e:
            where = "\n".join(f"  {folder / m}" for m in missing)
            raise DatasetNotFoundError(f"{e}\nAlternatively place the extracted file(s) at:\n{where}") from e
        try:
            for name in missing:
                extract_zip_member(zip_path, name, folder / name)
        finally:
            zip_path.unlink(missing_ok=True)
    # ensure_file verifies the sha256 (and produces the "place the file at" message if still missing).
    return {name: ensure_file(name, folder, sha256=sha, download=False) for name, sha in files.items()}


def _read_lines(path: Path) -> list[str]:
    """The non-blank lines of a UTF-8 text file (``DatasetFormatError`` naming it if it is not UTF-8
    or has no line at all: an empty corpus is never the real file)."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise DatasetFormatError(f"{path}: not UTF-8 text ({e})") from None
    # Split on "\n" only: str.splitlines() would also break on U+0085 (NEL), which occurs
    # inside IMDb sentences.
    lines = [line.rstrip("\r") for line in text.split("\n") if line.strip()]
    if not lines:
        raise DatasetFormatError(f"{path}: no text lines (an empty or blank file)")
    return lines


class SMSSpam(Dataset):
    """SMS Spam Collection v.1 (Almeida & Gomez Hidalgo, 2011; CC BY 4.0).

    Attributes:
        texts: list of N message strings (N = 5574).
        labels: ``(N,)`` int64, 1 = spam, 0 = ham.
        classes: ``["ham", "spam"]``.

    A sample is ``(text, label)``; pass ``transform`` (e.g. a fitted ``Vectorizer`` wrapped in a
    ``Lambda``) to turn text into features.
    """

    folder = "sms-spam-collection"
    filename = "SMSSpamCollection"
    sha256 = "7d039a24a6083ed9ef0f806ebad56bbb976e3aeb8de05669173bfdc4996c239d"
    zip_name = "smsspamcollection.zip"
    zip_urls = (
        "https://archive.ics.uci.edu/ml/machine-learning-databases/00228/smsspamcollection.zip",
        "https://archive.ics.uci.edu/static/public/228/sms+spam+collection.zip",
    )
    classes = ["ham", "spam"]

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        download: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
    ) -> None:
        self.root = dataset_dir(root, self.folder)
        path = _fetch_from_zip(
            self.root, {self.filename: self.sha256}, self.zip_name, self.zip_urls, download
        )[self.filename]
        texts, labels = [], []
        for lineno, line in enumerate(_read_lines(path), 1):
            label, sep, text = line.partition("\t")
            if not sep or label not in ("ham", "spam"):
                raise DatasetFormatError(
                    f"{path}:{lineno}: expected 'ham<TAB>text' or 'spam<TAB>text', got {line[:60]!r}"
                )
            texts.append(text)
            labels.append(1 if label == "spam" else 0)
        self.texts = texts
        self.labels = np.asarray(labels, dtype=np.int64)
        self.transform = transform
        self.target_transform = target_transform

    @property
    def targets(self) -> np.ndarray:
        return self.labels

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        text, label = self.texts[index], int(self.labels[index])
        if self.transform is not None:
            text = self.transform(text)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return text, label


class SentimentSentences(Dataset):
    """UCI Sentiment Labelled Sentences (Kotzias et al., KDD 2015; CC BY 4.0).

    Attributes:
        texts: list of N sentences (1000 per source, 3000 for ``"all"``).
        labels: ``(N,)`` int64, 1 = positive, 0 = negative.
        sources: list of N source names (``"amazon"``, ``"imdb"``, ``"yelp"``).

    Args:
        source: ``"all"`` or one of ``"amazon"``, ``"imdb"``, ``"yelp"``.
    """

    folder = "sentiment-labelled-sentences"
    files = {
        "amazon": (
            "amazon_cells_labelled.txt",
            "47003fc0a0d4840b00e96e715b6189bad09e7443a3da41c4cbe12ffc79f86ae3",
        ),
        "imdb": ("imdb_labelled.txt", "aef2e49e3da25714d61175e3a6e68eeef74a20a2f914318dc3be9947ea86512d"),
        "yelp": ("yelp_labelled.txt", "c76468b7b5c6e56a0804d728345c5f84aa2142ddb214420f61cc9cfd4c00d2ea"),
    }
    zip_name = "sentiment labelled sentences.zip"
    zip_urls = (
        "https://archive.ics.uci.edu/ml/machine-learning-databases/00331/sentiment%20labelled%20sentences.zip",
        "https://archive.ics.uci.edu/static/public/331/sentiment+labelled+sentences.zip",
    )
    classes = ["negative", "positive"]

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        source: str = "all",
        download: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
    ) -> None:
        if source != "all" and source not in self.files:
            raise ValueError(f"source must be 'all' or one of {sorted(self.files)}, got {source!r}")
        sources = list(self.files) if source == "all" else [source]
        self.root = dataset_dir(root, self.folder)
        wanted = {self.files[s][0]: self.files[s][1] for s in sources}
        paths = _fetch_from_zip(self.root, wanted, self.zip_name, self.zip_urls, download)
        self.texts: list[str] = []
        labels: list[int] = []
        self.sources: list[str] = []
        for s in sources:
            path = paths[self.files[s][0]]
            for lineno, line in enumerate(_read_lines(path), 1):
                # The label is the last tab field; a sentence may itself contain a tab.
                sentence, sep, label = line.rpartition("\t")
                label = label.strip()
                if not sep or label not in ("0", "1"):
                    raise DatasetFormatError(
                        f"{path}:{lineno}: expected 'sentence<TAB>0|1', got {line[-60:]!r}"
                    )
                self.texts.append(sentence.strip())
                labels.append(int(label))
                self.sources.append(s)
        self.labels = np.asarray(labels, dtype=np.int64)
        self.source = source
        self.transform = transform
        self.target_transform = target_transform

    @property
    def targets(self) -> np.ndarray:
        return self.labels

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        text, label = self.texts[index], int(self.labels[index])
        if self.transform is not None:
            text = self.transform(text)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return text, label


# --------------------------------------------------------------------------- bag of words

_TOKEN_RE = re.compile(r"\w+(?:'\w+)*")


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens: runs of letters/digits/underscore, keeping inner apostrophes.

    >>> tokenize("Don't WIN a FREE prize, call 0800-123!")
    ["don't", 'win', 'a', 'free', 'prize', 'call', '0800', '123']
    """
    return _TOKEN_RE.findall(text.lower())


class Vectorizer:
    """Bag-of-words features: texts -> float32 matrix ``(n_texts, n_features)``.

    Modes:
        ``"count"``: occurrences of each term.  ``"binary"``: 1 if present.
        ``"tf"``: counts divided by the number of in-vocabulary tokens of the text.
        ``"tfidf"``: counts times ``idf = ln((1 + n) / (1 + df)) + 1`` (scikit-learn's smooth idf),
        then each row scaled to unit L2 norm.

    Args:
        max_features: keep only the most frequent terms (by total count in the fitted texts).
        min_df: drop terms in fewer documents than this (int) or this share of documents (float).
        tokenizer: text -> list of tokens; default :func:`tokenize`.

    Attributes (after ``fit``):
        ``vocabulary_``: dict term -> column, ordered by total count (descending), then alphabetically.
        ``idf_``: ``(n_features,)`` float32 (``"tfidf"`` only).

    The matrix is dense; memory is ``n_texts * n_features * 4`` bytes, so cap ``max_features`` for
    big corpora.
    """

    modes = ("count", "binary", "tf", "tfidf")

    def __init__(
        self,
        mode: str = "count",
        max_features: int | None = None,
        min_df: int | float = 1,
        tokenizer: Callable[[str], list[str]] | None = None,
    ) -> None:
        if mode not in self.modes:
            raise ValueError(f"mode must be one of {self.modes}, got {mode!r}")
        self.mode = mode
        self.max_features = max_features
        self.min_df = min_df
        self.tokenizer = tokenizer or tokenize
        self.vocabulary_: dict[str, int] | None = None
        self.idf_: np.ndarray | None = None

    def fit(self, texts: Iterable[str]) -> Vectorizer:
        docs = [self.tokenizer(t) for t in texts]
        counts: Counter[str] = Counter()
        df: Counter[str] = Counter()
        for tokens in docs:
            counts.update(tokens)
            df.update(set(tokens))
        n_docs = len(docs)
        min_df = self.min_df if isinstance(self.min_df, int) else int(np.ceil(self.min_df * n_docs))
        terms = [t for t in counts if df[t] >= min_df]
        terms.sort(key=lambda t: (-counts[t], t))  # deterministic: frequency, then alphabet
        if self.max_features is not None:
            terms = terms[: self.max_features]
        self.vocabulary_ = {t: i for i, t in enumerate(terms)}
        dfs = np.array([df[t] for t in terms], dtype=np.float64)
        self.idf_ = (np.log((1 + n_docs) / (1 + dfs)) + 1).astype(np.float32)
        return self

    def get_feature_names_out(self) -> list[str]:
        self._check_fitted()
        return list(self.vocabulary_)

    def _check_fitted(self) -> None:
        if self.vocabulary_ is None:
            raise RuntimeError("Vectorizer is not fitted: call fit(texts) first")

    def transform(self, texts: Iterable[str]) -> np.ndarray:
        """``(n_texts, n_features)`` float32."""
        self._check_fitted()
        vocab = self.vocabulary_
        rows: list[int] = []
        cols: list[int] = []
        n = 0
        for r, text in enumerate(texts):
            n = r + 1
            for tok in self.tokenizer(text):
                j = vocab.get(tok)
                if j is not None:
                    rows.append(r)
                    cols.append(j)
        # Work on the non-zero entries only (a sparse COO view), then scatter once into the dense
        # result: the dense matrix is touched a single time, whatever the mode.
        V = len(vocab)
        flat = np.asarray(rows, dtype=np.int64) * V + np.asarray(cols, dtype=np.int64)
        positions, counts = np.unique(flat, return_counts=True)  # repeated (row, col) pairs counted
        r, c = positions // V, positions % V
        values = counts.astype(np.float64)
        if self.mode == "binary":
            values[:] = 1.0
        elif self.mode == "tf":
            values /= np.bincount(r, weights=values, minlength=n)[r]
        elif self.mode == "tfidf":
            values *= self.idf_[c]
            values /= np.sqrt(np.bincount(r, weights=values**2, minlength=n))[r]
        X = np.zeros((n, V), dtype=np.float32)
        X.reshape(-1)[positions] = values
        return X

    def fit_transform(self, texts: Iterable[str]) -> np.ndarray:
        texts = list(texts)
        return self.fit(texts).transform(texts)

    def __call__(self, text: str) -> np.ndarray:
        """One text -> ``(n_features,)`` float32, so a fitted vectorizer works as a transform."""
        return self.transform([text])[0]

    def __repr__(self) -> str:
        size = None if self.vocabulary_ is None else len(self.vocabulary_)
        return (
            f"Vectorizer(mode={self.mode!r}, max_features={self.max_features}, "
            f"min_df={self.min_df}, vocab={size})"
        )
