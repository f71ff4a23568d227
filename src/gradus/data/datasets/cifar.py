"""CIFAR-10 from the official *binary* distribution (``cifar-10-binary.tar.gz``); never pickle.

Files are looked up in ``<root>/cifar10/`` and ``<root>/cifar10/cifar-10-batches-bin/``:
``data_batch_1.bin`` .. ``data_batch_5.bin`` (train), ``test_batch.bin`` (test) and
``batches.meta.txt`` (class names).  Each record is 3073 bytes: one label byte, then the 32x32 red,
green and blue planes (row-major).  Whichever batches are present are loaded; when fewer than the
full 50000 / 10000 images are there, ``is_subset`` is True and a warning says so.  When *no*
batch of the split is present and downloads are allowed, the tarball is fetched (md5-checked),
extracted with :func:`~gradus.data.download.safe_extract_tar`, and loaded.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..dataset import ArrayDataset
from ..download import dataset_dir, download_file, safe_extract_tar, verify_file
from ..errors import DatasetFormatError, DatasetNotFoundError

__all__ = ["CIFAR10", "read_cifar_bin"]

RECORD_BYTES = 1 + 3 * 32 * 32


def read_cifar_bin(path: str | os.PathLike, n_classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Parse one CIFAR-10 binary batch.

    Returns:
        images: ``(N, 32, 32, 3)`` uint8 (HWC, like torchvision's ``CIFAR10.data``).
        labels: ``(N,)`` int64.

    Raises:
        DatasetFormatError: the size is not a multiple of 3073 bytes, or a label is >= ``n_classes``.
    """
    size = os.path.getsize(path)
    if size == 0 or size % RECORD_BYTES:
        raise DatasetFormatError(
            f"{path}: {size} bytes is not a whole number of {RECORD_BYTES}-byte CIFAR-10 records "
            "(truncated or not a CIFAR-10 binary batch)"
        )
    records = np.fromfile(path, dtype=np.uint8).reshape(-1, RECORD_BYTES)
    labels = records[:, 0].astype(np.int64)
    if labels.max() >= n_classes:
        raise DatasetFormatError(f"{path}: label byte {labels.max()} outside 0..{n_classes - 1}")
    # (N, 3, 32, 32) planes -> (N, 32, 32, 3), made contiguous once here.
    images = np.ascontiguousarray(records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    return images, labels


class CIFAR10(ArrayDataset):
    """CIFAR-10 (Krizhevsky, 2009): 32x32 colour images in 10 classes.

    Attributes:
        data: ``(N, 32, 32, 3)`` uint8, HWC (``transforms.ToTensor()`` gives ``(3, 32, 32)`` in [0, 1]).
        targets: ``(N,)`` int64 labels 0..9.
        classes: names from ``batches.meta.txt`` (airplane, automobile, ..., truck).
        files: the batch files that were loaded.
        is_subset: fewer than the full 50000 (train) / 10000 (test) images were found.

    Args:
        root: data root; files in ``<root>/cifar10/`` (or its ``cifar-10-batches-bin/``).
        train: training batches (``data_batch_1..5.bin``) or the test batch.
        download: fetch and extract the official tarball when no batch of the split is present.
        transform, target_transform: applied per sample; a sample is ``((32, 32, 3) uint8, int)``.
    """

    folder = "cifar10"
    subfolder = "cifar-10-batches-bin"
    train_files = [f"data_batch_{i}.bin" for i in range(1, 6)]
    test_files = ["test_batch.bin"]
    full_sizes = {True: 50000, False: 10000}
    tar_name = "cifar-10-binary.tar.gz"
    tar_md5 = "c32a1d4ab5d03f1284b67883e8d87530"
    tar_urls = ("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",)
    # sha256 of the official files where known (others are checked structurally only).
    known_sha256 = {
        "data_batch_1.bin": "cee916563c9f80d84e3cc88e17fdc0941787f1244f00a67874d45b261883ada5",
    }
    default_classes = [
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ]
    mean = (0.4914, 0.4822, 0.4465)  # per-channel statistics of the 50000 training images, [0, 1] scale
    std = (0.2470, 0.2435, 0.2616)

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        download: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
    ) -> None:
        self.root = dataset_dir(root, self.folder)
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        names = self.train_files if train else self.test_files
        found = self._find(names)
        if not found:
            if not download:
                raise DatasetNotFoundError(self._missing_message(names, "download=False"))
            self._download()
            found = self._find(names)
            if not found:
                raise DatasetNotFoundError(
                    self._missing_message(names, "the downloaded archive did not contain them")
                )
        images, labels = [], []
        for path in found:
            if path.name in self.known_sha256:
                verify_file(path, sha256=self.known_sha256[path.name])
            x, y = read_cifar_bin(path)
            images.append(x)
            labels.append(y)
        self.files = found
        self.data = np.concatenate(images) if len(images) > 1 else images[0]
        self.targets = np.concatenate(labels) if len(labels) > 1 else labels[0]
        self.classes = self._read_classes()
        self.is_subset = len(self.data) < self.full_sizes[train]
        if self.is_subset:
            warnings.warn(
                f"CIFAR10({'train' if train else 'test'}): only {len(self.data)} of "
                f"{self.full_sizes[train]} images present ({', '.join(p.name for p in found)}); "
                "results are not comparable with the full dataset",
                UserWarning,
                stacklevel=2,
            )

    def _dirs(self) -> list[Path]:
        return [self.root, self.root / self.subfolder]

    def _find(self, names: list[str]) -> list[Path]:
        found = []
        for name in names:
            for d in self._dirs():
                if (d / name).is_file():
                    found.append(d / name)
                    break
        return found

    def _missing_message(self, names: list[str], why: str) -> str:
        return (
            f"no CIFAR-10 {'training' if self.train else 'test'} batch found ({why}). Looked for "
            f"{', '.join(names)} in:\n"
            + "\n".join(f"  {d}" for d in self._dirs())
            + f"\nDownload {self.tar_urls[0]} (md5 {self.tar_md5}) and extract it into {self.root}, "
            "or place the .bin files there."
        )

    def _download(self) -> None:
        tar_path = self.root / self.tar_name
        if not tar_path.is_file():
            download_file(self.tar_name, self.tar_urls, None, self.root, md5=self.tar_md5)
        else:
            verify_file(tar_path, md5=self.tar_md5)
        safe_extract_tar(tar_path, self.root)

    def _read_classes(self) -> list[str]:
        for d in self._dirs():
            meta = d / "batches.meta.txt"
            if meta.is_file():
                names = [
                    line.strip() for line in meta.read_text(encoding="ascii").split("\n") if line.strip()
                ]
                if len(names) != 10:
                    raise DatasetFormatError(f"{meta}: expected 10 class names, got {len(names)}")
                return names
        return list(self.default_classes)

    def __repr__(self) -> str:
        return (
            f"CIFAR10(split={'train' if self.train else 'test'}, n={len(self)}, "
            f"subset={self.is_subset}, root={self.root})"
        )
