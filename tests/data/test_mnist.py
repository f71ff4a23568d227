import gzip
import hashlib
import struct

import numpy as np
import pytest

from gradus.data import DataLoader
from gradus.data.datasets import MNIST, load_mnist_arrays, read_idx
from gradus.data.errors import ChecksumError, DatasetFormatError, DownloadError

from .conftest import DEAD_MIRROR


def idx_bytes(arr: np.ndarray, type_code: int = 0x08) -> bytes:
    header = bytes([0, 0, type_code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def write_gz(path, data: bytes) -> str:
    path.write_bytes(gzip.compress(data))
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ----------------------------------------------------------------- IDX parser


def test_read_idx_valid_gz_and_raw(tmp_path):
    imgs = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    write_gz(tmp_path / "i.gz", idx_bytes(imgs))
    out = read_idx(tmp_path / "i.gz", ndim=3)
    np.testing.assert_array_equal(out, imgs)
    assert out.flags.writeable
    (tmp_path / "raw").write_bytes(idx_bytes(imgs))
    np.testing.assert_array_equal(read_idx(tmp_path / "raw"), imgs)


def test_read_idx_multibyte_types(tmp_path):
    a = np.arange(6, dtype=np.int32).reshape(2, 3) - 3
    (tmp_path / "a").write_bytes(idx_bytes(a, 0x0C))
    out = read_idx(tmp_path / "a")
    assert out.dtype == np.int32 and out.dtype.byteorder in "=|<"
    np.testing.assert_array_equal(out, a)


def test_read_idx_truncated(tmp_path):
    data = idx_bytes(np.zeros((10, 28, 28), np.uint8))
    write_gz(tmp_path / "t.gz", data[:-100])
    with pytest.raises(DatasetFormatError, match="truncated"):
        read_idx(tmp_path / "t.gz")


def test_read_idx_truncated_gzip_stream(tmp_path):
    gz = gzip.compress(idx_bytes(np.arange(1000, dtype=np.uint8).reshape(10, 100) % 7))
    (tmp_path / "t.gz").write_bytes(gz[: len(gz) // 2])
    with pytest.raises(DatasetFormatError):
        read_idx(tmp_path / "t.gz")


def test_read_idx_trailing_bytes(tmp_path):
    write_gz(tmp_path / "t.gz", idx_bytes(np.zeros(4, np.uint8)) + b"\x00")
    with pytest.raises(DatasetFormatError, match="longer"):
        read_idx(tmp_path / "t.gz")


@pytest.mark.parametrize("header", [b"\x00\x00\x08", b"\x01\x00\x08\x01", b"\x00\x00\x07\x01", b"PK\x03\x04"])
def test_read_idx_bad_magic(tmp_path, header):
    (tmp_path / "b").write_bytes(header + b"\x00" * 20)
    with pytest.raises(DatasetFormatError):
        read_idx(tmp_path / "b")


def test_read_idx_wrong_ndim(tmp_path):
    write_gz(tmp_path / "l.gz", idx_bytes(np.zeros(4, np.uint8)))
    with pytest.raises(DatasetFormatError, match="dimension"):
        read_idx(tmp_path / "l.gz", ndim=3)


# ----------------------------------------------------------------- MNIST class on generated files


@pytest.fixture
def fake_mnist(tmp_path):
    """A 12-image MNIST in tmp_path/mnist, with a subclass whose checksums match it."""
    rng = np.random.default_rng(1)
    imgs = rng.integers(0, 256, (12, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 12).astype(np.uint8)
    folder = tmp_path / "mnist"
    folder.mkdir()
    sha_i = write_gz(folder / "train-images-idx3-ubyte.gz", idx_bytes(imgs))
    sha_l = write_gz(folder / "train-labels-idx1-ubyte.gz", idx_bytes(labels))

    class Tiny(MNIST):
        mirrors = (DEAD_MIRROR,)
        resources = dict(MNIST.resources,
                         train_images=("train-images-idx3-ubyte.gz", sha_i, None),
                         train_labels=("train-labels-idx1-ubyte.gz", sha_l, None))

    return Tiny, tmp_path, imgs, labels


def test_mnist_on_generated_files(fake_mnist):
    Tiny, root, imgs, labels = fake_mnist
    ds = Tiny(root=root, train=True, download=False)
    assert ds.data.shape == (12, 28, 28) and ds.data.dtype == np.uint8
    assert ds.targets.dtype == np.int64
    np.testing.assert_array_equal(ds.targets, labels)
    img, target = ds[3]
    np.testing.assert_array_equal(img, imgs[3])
    assert target == int(labels[3]) and isinstance(target, int)


def test_mnist_checksum_mismatch(fake_mnist):
    Tiny, root, imgs, _ = fake_mnist
    (root / "mnist" / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(imgs[:5])))
    with pytest.raises(ChecksumError, match="train-images-idx3-ubyte.gz"):
        Tiny(root=root, download=False)


def test_mnist_missing_offline_message(tmp_path):
    with pytest.raises(DownloadError) as e:
        type("Offline", (MNIST,), {"mirrors": (DEAD_MIRROR,)})(root=tmp_path, train=False)
    msg = str(e.value)
    assert "t10k-images-idx3-ubyte.gz" in msg
    assert str(tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz") in msg


def test_mnist_default_root_from_env(fake_mnist, monkeypatch):
    Tiny, root, _, _ = fake_mnist
    monkeypatch.setenv("GRADUS_DATA", str(root))
    assert len(Tiny(download=False)) == 12


# ----------------------------------------------------------------- real MNIST


def test_mnist_from_shared_data(shared_data):
    test = MNIST(root=shared_data, train=False, download=False)
    assert test.data.shape == (10000, 28, 28) and test.data.dtype == np.uint8
    assert np.bincount(test.targets).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert test.targets[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert hashlib.sha256(test.data[0].tobytes()).hexdigest() == (
        "8f6a418c9a639f9e14e96feca47a97df2a35a0a68ae2875431c5c80e05536941"
    )
    X, y = load_mnist_arrays(root=shared_data, train=True, download=False)
    assert X.shape == (60000, 784) and X.dtype == np.float32 and y.dtype == np.int64
    assert 0.0 == X.min() and X.max() == 1.0
    assert np.bincount(y).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    Xb, yb = next(iter(DataLoader(test, batch_size=64)))
    assert Xb.shape == (64, 28, 28) and Xb.dtype == np.uint8
    np.testing.assert_array_equal(yb.numpy(), test.targets[:64])


def test_mnist_with_transforms_through_loader(shared_data):
    from gradus.data import transforms as T

    test = MNIST(root=shared_data, train=False, download=False,
                 transform=T.Compose([T.ToTensor(), T.Normalize(MNIST.mean, MNIST.std)]))
    X, y = next(iter(DataLoader(test, batch_size=16)))
    assert X.shape == (16, 1, 28, 28) and X.dtype == np.float32
    expected = (test.data[:16, None].astype(np.float32) / 255 - 0.1307) / 0.3081
    np.testing.assert_allclose(X.numpy(), expected, rtol=1e-5, atol=1e-5)
