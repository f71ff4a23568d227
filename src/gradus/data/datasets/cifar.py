"""CIFAR-10 from the official *binary* distribution (``cifar-10-binary.tar.gz``); never pickle.

Files are looked up in ``<root>/cifar10/`` and ``<root>/cifar10/cifar-10-batches-bin/``:
``data_batch_1.bin`` .. ``data_batch_5.bin`` (train), ``test_batch.bin`` (test) and
``batches.meta.txt`` (class names).  Each record is 3073 bytes: one label byte, then the 32x32 red,
green and blue planes (row-major).  Whichever batches are present are loaded; when fewer than the
full 50000 / 10000 images are there, ``is_subset`` is True and a warning says so.  When *no*
batch of the split is present and downloads are allowed, the tarball is fetched (md5-checked),
extracted with :func:`~gradus.data.download.safe_extract_tar`, and loaded.

Every batch file (and ``batches.meta.txt``) is checked against the SHA-256 of the official file
before it is parsed, as torchvision checks each batch's md5: a file under an official name whose
digest differs is a :class:`~gradus.data.errors.ChecksumError` (corrupt, truncated or another
version).  The one exception is a *known* subset (the first 1,000 test records shipped with gradus'
shared data), which loads with a warning saying it could not be verified against the official file;
a batch name with no published digest loads with a warning too, never silently.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..dataset import ArrayDataset
from ..download import dataset_dir, download_file, file_digest, safe_extract_tar, verify_file
from ..errors import ChecksumError, DatasetFormatError, DatasetNotFoundError

__all__ = ["CIFAR10", "read_cifar_bin"]

RECORD_BYTES = 1 + 3 * 32 * 32


def read_cifar_bin(path: str | os.PathLike, n_classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Parse one CIFAR-10 binary batch.

    Format: no header, no separators; N records of 3073 bytes, each one label byte (0..9) then the
    32x32 red, green and blue planes (1024 bytes each, row-major).  N is the file size / 3073, so
    the only allocation is the file's own size.

    Returns:
        images: ``(N, 32, 32, 3)`` uint8 (HWC, like torchvision's ``CIFAR10.data``).
        labels: ``(N,)`` int64.

    Raises:
        DatasetFormatError: the file is empty or its size is not a multiple of 3073 bytes, or a label
            byte is >= ``n_classes``.  The message names the file.
    """
    size = os.path.getsize(path)
    if size == 0 or size % RECORD_BYTES:
        raise DatasetFormatError(
            f"{path}: {size} bytes is not a whole number of {RECORD_BYTES}-byte CIFAR-10 records "
            "(truncated or not a CIFAR-10 binary batch)"
        )
    # count=size: a file that grows or shrinks after the size check cannot change what is read.
    flat = np.fromfile(path, dtype=np.uint8, count=size)
    if flat.size != size:
        raise DatasetFormatError(f"{path}: file shrank from {size} to {flat.size} bytes while being read")
    records = flat.reshape(-1, RECORD_BYTES)
    labels = records[:, 0].astype(np.int64)
    if labels.max() >= n_classes:
        bad = int(np.argmax(labels >= n_classes))
        raise DatasetFormatError(
            f"{path}: label byte {labels[bad]} of record {bad} outside 0..{n_classes - 1} "
            "(corrupt file or not a CIFAR-10 batch)"
        )
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
    # SHA-256 of the official files of cifar-10-binary.tar.gz (cifar-10-batches-bin/).  The publisher
    # lists only the tarball's md5; these per-file digests are published by
    # ankane/torchvision-ruby (lib/torchvision/datasets/cifar10.rb@9bf22501) and agree with the
    # per-file md5s below; data_batch_1.bin was also checked here against the bit-identical copy in
    # gradus' shared data.  batches.meta.txt: no published digest was found; this is the digest of
    # the shared copy (61 bytes: the 10 class names, one per line, then an empty line, as in the
    # tarball).
    known_sha256 = {
        "data_batch_1.bin": "cee916563c9f80d84e3cc88e17fdc0941787f1244f00a67874d45b261883ada5",
        "data_batch_2.bin": "a591ca11fa1708a91ee40f54b3da4784ccd871ecf2137de63f51ada8b3fa57ed",
        "data_batch_3.bin": "bbe8596564c0f86427f876058170b84dac6670ddf06d79402899d93ceea26f67",
        "data_batch_4.bin": "014e562d6e23c72197cc727519169a60359f5eccd8945ad5a09d710285ff4e48",
        "data_batch_5.bin": "755304fc0b379caeae8c14f0dac912fbc7d6cd469eb67a1029a08a39453a9add",
        "test_batch.bin": "8e2eb146ae340b09e24670f29cabc6326dba54da8789dab6768acf480273f65b",
        "batches.meta.txt": "558e74b5e208382e186da55784b4bac2cd52e558448e1b5800990fdb28ed8033",
    }
    # md5 of the same official files (rai-project/dldataset vision/cifar10.go@271f48a9, and the
    # CMake fetch scripts of pytorch-cpp style projects), for reference and for md5-only tools.
    known_md5 = {
        "data_batch_1.bin": "5dd7e06a14cb22eb9f671a540d1b7c25",
        "data_batch_2.bin": "5ea93a67294ea407fff1d09f752e9692",
        "data_batch_3.bin": "942cd6a4bcdd0dd3c604fbe906cb4421",
        "data_batch_4.bin": "ae636b3ba5c66a11e91e8cb52e771fcb",
        "data_batch_5.bin": "53f37980c15c3d472c316c40844f3f0d",
        "test_batch.bin": "803d5f7f4d78ea53de84dbe85f74fb6d",
    }
    # Known, deliberate subsets of an official file: name -> {sha256: description}.  They load with
    # a warning (they cannot be verified against the official digest) instead of a ChecksumError.
    known_subsets = {
        "test_batch.bin": {
            "8314c96d7cd65618193bab23acdd5d4c4af15bf6dd00a1781d55beedf3be1ef5":
                "the first 1,000 of the 10,000 official test records (gradus' shared-data subset)",
        },
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
            self._verify(path)
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

    def _verify(self, path: Path) -> None:
        """Check ``path`` against the official digest of its name (see ``known_sha256``).

        Official digest: silent.  A known subset's digest, or a name without a known digest: a
        warning that says the file was not verified and why.  Any other digest under an official
        name: :class:`ChecksumError`."""
        expected = self.known_sha256.get(path.name)
        if expected is None:
            warnings.warn(
                f"CIFAR10: {path} was not verified: no published checksum is known for {path.name!r}",
                UserWarning,
                stacklevel=3,
            )
            return
        got = file_digest(path, "sha256")
        if got == expected:
            return
        subset = self.known_subsets.get(path.name, {}).get(got)
        if subset is not None:
            warnings.warn(
                f"CIFAR10: {path} was not verified against the official {path.name}: it is {subset} "
                "(its sha256 matches that subset, not the official file)",
                UserWarning,
                stacklevel=3,
            )
            return
        raise ChecksumError(
            f"sha256 mismatch for {path}:\n  expected {expected} (the official {path.name})\n"
            f"  got      {got}\n"
            "The file is corrupt, truncated or a different version. Delete it and download it again "
            f"({self.tar_urls[0]}, md5 {self.tar_md5}), or put the correct file there."
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
                self._verify(meta)
                try:
                    text = meta.read_bytes().decode("ascii")
                except UnicodeDecodeError as e:
                    raise DatasetFormatError(f"{meta}: not ASCII text ({e})") from None
                # Blank lines are skipped: the official file ends with an empty line.
                names = [line.strip() for line in text.split("\n") if line.strip()]
                if len(names) != 10:
                    raise DatasetFormatError(f"{meta}: expected 10 class names, got {len(names)}")
                return names
        return list(self.default_classes)

    def __repr__(self) -> str:
        return (
            f"CIFAR10(split={'train' if self.train else 'test'}, n={len(self)}, "
            f"subset={self.is_subset}, root={self.root})"
        )
