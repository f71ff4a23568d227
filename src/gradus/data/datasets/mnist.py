"""MNIST and Fashion-MNIST from their original gzip-compressed IDX files.

Files are looked up in ``<root>/mnist/`` (``<root>/fashion-mnist/``), where ``root`` is the
``root=`` argument, ``$GRADUS_DATA`` or ``~/.cache/gradus``, and downloaded from the mirrors when
missing.  Every file is checked against its published digest before it is parsed, and the parser
checks the IDX header against the payload size, so a truncated or corrupt file raises
:class:`~gradus.data.errors.DatasetFormatError` instead of producing a garbage dataset.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..dataset import ArrayDataset
from ..download import dataset_dir, ensure_file
from ..errors import DatasetFormatError

__all__ = ["read_idx", "MNIST", "FashionMNIST", "load_mnist_arrays"]

# IDX type codes -> big-endian NumPy dtypes (http://yann.lecun.com/exdb/mnist/, bottom of page).
_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def _read_exact(f: Any, n: int, what: str, name: str) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise DatasetFormatError(f"{name}: truncated {what}: expected {n} bytes, got {len(data)}")
    return data


# Deflate's maximum compression ratio is 1032:1 (258-byte matches coded in as little as 2 bits; see
# zlib's "technical details"), so a gzip file of S bytes can never decompress to more than about
# 1032 * S bytes.  A header announcing more than that is a lie, refused before anything is read.
_GZIP_MAX_RATIO = 1032
_GZIP_SLACK = 1 << 10  # room for tiny files, where the gzip header/trailer dominate
_CHUNK = 1 << 20  # gzip payloads are read in 1 MiB pieces (see read_idx)


def _show_dims(dims: tuple[int, ...]) -> str:
    # A corrupt header can announce 255 dimensions: keep the message to one readable line.
    return str(dims) if len(dims) <= 6 else f"({', '.join(map(str, dims[:6]))}, ... {len(dims)} dims)"


def _read_payload_gzip(f: Any, nbytes: int) -> bytearray:
    # Incremental: memory grows with the bytes that really come out of the stream, never with what
    # the header announces, so a lying header cannot trigger a large allocation.
    buf = bytearray()
    while len(buf) < nbytes:
        chunk = f.read(min(_CHUNK, nbytes - len(buf)))
        if not chunk:
            break
        buf += chunk
    return buf


def read_idx(path: str | os.PathLike, ndim: int | None = None) -> np.ndarray:
    """Parse an IDX file (gzip-compressed or raw, detected by its first two bytes ``1f 8b``).

    Format (http://yann.lecun.com/exdb/mnist/): two zero bytes, a type code (0x08 uint8, 0x09
    int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64; all big-endian), the number of
    dimensions (1..255), then one big-endian uint32 per dimension; then exactly ``prod(dims)``
    items, row-major.

    The sizes the header announces are checked *before* anything is allocated: a raw file must be
    exactly ``4 + 4 * ndim + prod(dims) * itemsize`` bytes; a gzip file can hold at most
    ``1032 * compressed size`` bytes (deflate's limit) and its payload is read incrementally, so a
    corrupt header (say 2**31 images) is a :class:`DatasetFormatError`, not a ``MemoryError``.

    Args:
        ndim: if given, the required number of dimensions (3 for images, 1 for labels).

    Returns:
        A writable ndarray of shape ``dims`` in native byte order.

    Raises:
        DatasetFormatError: bad magic number, unknown type code, zero or the wrong number of
            dimensions, a payload shorter or longer than the header announces, or a corrupt gzip
            stream.  The message names the file.
    """
    path = Path(path)
    name = str(path)
    file_size = os.path.getsize(path)
    with open(path, "rb") as raw:
        compressed = raw.read(2) == b"\x1f\x8b"
    opener = gzip.open if compressed else open
    try:
        with opener(path, "rb") as f:
            magic = _read_exact(f, 4, "header", name)
            if magic[0] != 0 or magic[1] != 0 or magic[2] not in _IDX_DTYPES:
                raise DatasetFormatError(
                    f"{name}: not an IDX file (magic number 0x{magic.hex()}; expected 0x0000TTNN "
                    "with type code TT in 08,09,0B,0C,0D,0E)"
                )
            dtype, nd = _IDX_DTYPES[magic[2]], magic[3]
            if nd == 0:
                raise DatasetFormatError(f"{name}: IDX header declares 0 dimensions (expected 1..255)")
            if ndim is not None and nd != ndim:
                raise DatasetFormatError(
                    f"{name}: expected an IDX file with {ndim} dimension(s), header says {nd}"
                )
            dims = tuple(int(d) for d in np.frombuffer(_read_exact(f, 4 * nd, "header", name), dtype=">u4"))
            # Python ints: np.prod would silently wrap around for 255 dims of 2**32 - 1.
            nbytes = math.prod(dims) * dtype.itemsize
            header_bytes = 4 + 4 * nd
            if not compressed:
                if header_bytes + nbytes != file_size:
                    what = "truncated IDX payload" if header_bytes + nbytes > file_size else (
                        "IDX payload is longer than the header announces")
                    raise DatasetFormatError(
                        f"{name}: {what}: header {_show_dims(dims)} announces {nbytes} payload bytes "
                        f"({header_bytes + nbytes} in all), the file has {file_size}"
                    )
                out = np.empty(nbytes // dtype.itemsize, dtype=dtype)
                # Straight into the result's buffer: no intermediate bytes object, and writable.
                view = memoryview(out).cast("B")
                got = 0
                while got < nbytes:
                    n = f.readinto(view[got:])
                    if not n:
                        break
                    got += n
            else:
                limit = _GZIP_MAX_RATIO * file_size + _GZIP_SLACK
                if header_bytes + nbytes > limit:
                    raise DatasetFormatError(
                        f"{name}: corrupt IDX header: {_show_dims(dims)} announces {nbytes} payload "
                        f"bytes, more than a {file_size}-byte gzip file can hold (deflate expands at "
                        f"most {_GZIP_MAX_RATIO}:1)"
                    )
                buf = _read_payload_gzip(f, nbytes)
                got = len(buf)
                out = np.frombuffer(buf, dtype=dtype) if got == nbytes else None
            if got != nbytes:
                raise DatasetFormatError(
                    f"{name}: truncated IDX payload: header {_show_dims(dims)} announces {nbytes} bytes, "
                    f"file holds {got}"
                )
            if f.read(1):
                raise DatasetFormatError(
                    f"{name}: IDX payload is longer than the header {_show_dims(dims)} announces"
                )
    except (EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise DatasetFormatError(f"{name}: corrupt or truncated gzip stream ({type(e).__name__}: {e})") from e
    out = out.reshape(dims)
    return out.astype(dtype.newbyteorder("="), copy=False) if dtype.byteorder == ">" else out


class MNIST(ArrayDataset):
    """The MNIST handwritten digits (LeCun, Cortes & Burges).

    Attributes:
        data: ``(N, 28, 28)`` uint8, 0 = background, 255 = ink; N = 60000 (train) or 10000 (test).
        targets: ``(N,)`` int64 labels 0..9.
        classes: class names, as in torchvision.

    A sample is ``(image, target)`` with ``image`` the ``(28, 28)`` uint8 ndarray (use
    ``transforms.ToTensor()`` for a ``(1, 28, 28)`` float32 Tensor in [0, 1]) and ``target`` an int.

    Args:
        root: data root; files are in ``<root>/mnist/``.  Default ``$GRADUS_DATA`` or ``~/.cache/gradus``.
        train: training (60000) or test (10000) split.
        download: fetch missing files from the mirrors.
        transform, target_transform: applied to the image / target of each sample.
    """

    folder = "mnist"
    mirrors: Sequence[str] = (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    )
    # (file name, sha256, md5); the digests are those of the official files.
    resources: dict[str, tuple[str, str | None, str | None]] = {
        "train_images": (
            "train-images-idx3-ubyte.gz",
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        ),
        "train_labels": (
            "train-labels-idx1-ubyte.gz",
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "d53e105ee54ea40749a09fcbcd1e9432",
        ),
        "test_images": (
            "t10k-images-idx3-ubyte.gz",
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "9fb629c4189551a2d022fa330f9573f3",
        ),
        "test_labels": (
            "t10k-labels-idx1-ubyte.gz",
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            "ec29112dd5afa0611ce80d1b7f02629c",
        ),
    }
    classes = [
        "0 - zero",
        "1 - one",
        "2 - two",
        "3 - three",
        "4 - four",
        "5 - five",
        "6 - six",
        "7 - seven",
        "8 - eight",
        "9 - nine",
    ]
    mean, std = (0.1307,), (0.3081,)  # training-set pixel statistics on the [0, 1] scale

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
        split = "train" if train else "test"
        images_path = self._file(f"{split}_images", download)
        labels_path = self._file(f"{split}_labels", download)
        self.data = read_idx(images_path, ndim=3)
        self.targets = read_idx(labels_path, ndim=1).astype(np.int64)
        if self.data.dtype != np.uint8 or self.data.shape[1:] != (28, 28):
            raise DatasetFormatError(
                f"{images_path}: expected uint8 images of 28x28, got {self.data.dtype} {self.data.shape}"
            )
        if len(self.data) != len(self.targets):
            raise DatasetFormatError(
                f"{images_path} has {len(self.data)} images but {labels_path} has {len(self.targets)} labels"
            )
        if len(self.targets) and (self.targets.min() < 0 or self.targets.max() >= len(self.classes)):
            raise DatasetFormatError(f"{labels_path}: labels outside 0..{len(self.classes) - 1}")

    def _file(self, key: str, download: bool) -> Path:
        filename, sha256, md5 = self.resources[key]
        return ensure_file(
            filename,
            self.root,
            sha256=sha256,
            md5=md5 if sha256 is None else None,
            urls=self.mirrors,
            download=download,
        )

    def __repr__(self) -> str:
        split = "train" if self.train else "test"
        return f"{type(self).__name__}(split={split}, n={len(self)}, root={self.root})"


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: same format and API as :class:`MNIST`, files in ``<root>/fashion-mnist/``."""

    folder = "fashion-mnist"
    mirrors = (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    )
    # Only the md5s are published (torchvision uses the same ones).
    resources = {
        "train_images": ("train-images-idx3-ubyte.gz", None, "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        "train_labels": ("train-labels-idx1-ubyte.gz", None, "25c81989df183df01b3e8a0aad5dffbe"),
        "test_images": ("t10k-images-idx3-ubyte.gz", None, "bef4ecab320f06d8554ea6380940ec79"),
        "test_labels": ("t10k-labels-idx1-ubyte.gz", None, "bb300cfdad3c16e7a12a480ee83cd310"),
    }
    classes = [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ]
    mean, std = (0.2860,), (0.3530,)


def load_mnist_arrays(
    root: str | os.PathLike | None = None,
    train: bool = True,
    flatten: bool = True,
    normalize: bool = True,
    standardize: bool = False,
    download: bool = True,
    dataset: type[MNIST] = MNIST,
) -> tuple[np.ndarray, np.ndarray]:
    """MNIST as ready-to-train float32 arrays.

    Returns:
        ``X``: float32 ``(N, 784)`` if ``flatten`` else ``(N, 1, 28, 28)``; scaled to [0, 1] if
        ``normalize``; additionally ``(x - 0.1307) / 0.3081`` if ``standardize``.
        ``y``: int64 ``(N,)``.
    """
    ds = dataset(root=root, train=train, download=download)
    X = ds.data.astype(np.float32)
    if normalize or standardize:
        np.divide(X, np.float32(255), out=X)  # same rounding as ToTensor
    if standardize:
        X -= np.float32(ds.mean[0])
        X /= np.float32(ds.std[0])
    X = X.reshape(len(X), -1) if flatten else X.reshape(len(X), 1, 28, 28)
    return X, ds.targets.copy()
