"""The 8x8 handwritten digits, embedded in the package (works offline, no download).

1797 images of 8x8 pixels with values 0..16 and labels 0..9: the UCI "Optical Recognition of
Handwritten Digits" test set as redistributed by scikit-learn (CC BY 4.0; see
``_embedded/README.md``).  scikit-learn is *not* needed at run time.
"""

from __future__ import annotations

import functools
import hashlib
import io
from collections.abc import Callable
from importlib import resources

import numpy as np

from ..dataset import ArrayDataset
from ..errors import ChecksumError, DatasetFormatError
from ..split import stratified_split

__all__ = ["Digits", "load_digits_arrays", "DIGITS_SHA256"]

DIGITS_SHA256 = "6ebb3d2fee246a4e99363262ddf8a00a3c41bee6014c373ed9d9216ba7f651b8"
_N, _PIXELS = 1797, 64


@functools.lru_cache(maxsize=1)
def _load_all() -> tuple[np.ndarray, np.ndarray]:
    """All 1797 samples: images uint8 (N, 8, 8), labels int64 (N,); sha256-verified, cached."""
    ref = resources.files("gradus.data.datasets").joinpath("_embedded", "digits.csv")
    raw = ref.read_bytes()
    got = hashlib.sha256(raw).hexdigest()
    if got != DIGITS_SHA256:
        raise ChecksumError(
            f"embedded digits.csv ({ref}) is corrupt: expected sha256 {DIGITS_SHA256}, got {got}. "
            "Reinstall gradus."
        )
    table = np.loadtxt(io.StringIO(raw.decode("ascii")), delimiter=",", dtype=np.int64)
    if table.shape != (_N, _PIXELS + 1):
        raise DatasetFormatError(f"embedded digits.csv has shape {table.shape}, expected {(_N, _PIXELS + 1)}")
    images = table[:, :_PIXELS].astype(np.uint8).reshape(_N, 8, 8)
    labels = table[:, _PIXELS].copy()
    images.flags.writeable = labels.flags.writeable = False  # shared by every Digits instance
    return images, labels


class Digits(ArrayDataset):
    """The 8x8 digits with a deterministic stratified train/test split (:func:`gradus.data.stratified_split`).

    Attributes:
        data: ``(N, 8, 8)`` uint8, values 0..16 (not 0..255: divide by 16 to scale to [0, 1]).
        targets: ``(N,)`` int64 labels 0..9.
        classes: ``["0", ..., "9"]``.

    Args:
        train: ``True`` for the training part, ``False`` for the test part, ``None`` for all 1797.
        test_fraction: share of each class that goes to the test part, in (0, 1) (default 0.2:
            1438 / 359); ``train=None`` takes all 1797 samples without a split.
        seed: seed of the per-class shuffle; the same seed always gives the same split.
        transform, target_transform: applied per sample; a sample is ``((8, 8) uint8, int)``.
    """

    classes = [str(d) for d in range(10)]

    def __init__(
        self,
        train: bool | None = True,
        test_fraction: float = 0.2,
        seed: int = 0,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
    ) -> None:
        images, labels = _load_all()
        if train is None:
            idx = np.arange(len(labels))
        else:
            train_idx, test_idx = stratified_split(labels, float(test_fraction), seed)
            idx = train_idx if train else test_idx
        self.train = train
        self.data = images[idx]  # fancy indexing copies: writable, private to this instance
        self.targets = labels[idx]
        self.transform = transform
        self.target_transform = target_transform


def load_digits_arrays(
    train: bool | None = True,
    test_fraction: float = 0.2,
    seed: int = 0,
    flatten: bool = True,
    normalize: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """The digits as float32 ``X`` (``(N, 64)`` or ``(N, 1, 8, 8)``; /16 into [0, 1] if ``normalize``)
    and int64 ``y`` ``(N,)``, with the same split as :class:`Digits`."""
    ds = Digits(train=train, test_fraction=test_fraction, seed=seed)
    X = ds.data.astype(np.float32)
    if normalize:
        X /= np.float32(16)
    X = X.reshape(len(X), -1) if flatten else X.reshape(len(X), 1, 8, 8)
    return X, ds.targets.copy()
