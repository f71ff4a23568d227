import hashlib
import io
import tarfile

import numpy as np
import pytest

from gradus.data.datasets import CIFAR10, read_cifar_bin
from gradus.data.errors import DatasetFormatError, DatasetNotFoundError


def make_records(n, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    planes = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)  # (N, C, H, W) as stored
    raw = np.concatenate([labels[:, None], planes.reshape(n, -1)], axis=1).tobytes()
    return raw, labels, planes


def test_read_cifar_bin_layout(tmp_path):
    raw, labels, planes = make_records(4)
    (tmp_path / "b.bin").write_bytes(raw)
    imgs, y = read_cifar_bin(tmp_path / "b.bin")
    assert imgs.shape == (4, 32, 32, 3) and imgs.dtype == np.uint8 and imgs.flags.c_contiguous
    np.testing.assert_array_equal(y, labels)
    # HWC: pixel (row 0, col 1) green value is byte 1 + 1024 + 1 of the record.
    assert imgs[0, 0, 1, 1] == planes[0, 1, 0, 1]
    np.testing.assert_array_equal(imgs.transpose(0, 3, 1, 2), planes)


def test_read_cifar_bin_bad_size_and_label(tmp_path):
    raw, _, _ = make_records(2)
    (tmp_path / "t.bin").write_bytes(raw[:-1])
    with pytest.raises(DatasetFormatError, match="3073"):
        read_cifar_bin(tmp_path / "t.bin")
    bad = bytearray(raw)
    bad[0] = 12
    (tmp_path / "l.bin").write_bytes(bytes(bad))
    with pytest.raises(DatasetFormatError, match="label"):
        read_cifar_bin(tmp_path / "l.bin")


def test_cifar_loads_present_batches_from_subfolder(tmp_path):
    folder = tmp_path / "cifar10" / "cifar-10-batches-bin"
    folder.mkdir(parents=True)
    raw2, l2, _ = make_records(3, seed=2)
    raw3, l3, _ = make_records(5, seed=3)
    (folder / "data_batch_2.bin").write_bytes(raw2)
    (folder / "data_batch_3.bin").write_bytes(raw3)
    with pytest.warns(UserWarning, match="only 8 of 50000"):
        ds = CIFAR10(root=tmp_path, download=False)
    assert ds.is_subset and len(ds) == 8
    np.testing.assert_array_equal(ds.targets, np.concatenate([l2, l3]))
    assert ds.classes[0] == "airplane" and len(ds.classes) == 10
    img, t = ds[0]
    assert img.shape == (32, 32, 3) and isinstance(t, int)


def test_cifar_missing_offline(tmp_path):
    with pytest.raises(DatasetNotFoundError) as e:
        CIFAR10(root=tmp_path, train=False, download=False)
    assert "test_batch.bin" in str(e.value) and str(tmp_path / "cifar10") in str(e.value)


def test_cifar_download_extracts_tarball_safely(tmp_path, monkeypatch):
    # Serve a tiny tarball through a file:// mirror (no network); md5 check disabled for it.
    raw, labels, _ = make_records(2)
    tar_path = tmp_path / "src" / "cifar-10-binary.tar.gz"
    tar_path.parent.mkdir()
    with tarfile.open(tar_path, "w:gz") as tar:
        info = tarfile.TarInfo("cifar-10-batches-bin/test_batch.bin")
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(raw))
    monkeypatch.setattr(CIFAR10, "tar_urls", (tar_path.as_uri(),))
    monkeypatch.setattr(CIFAR10, "tar_md5", hashlib.md5(tar_path.read_bytes()).hexdigest())
    with pytest.warns(UserWarning):
        ds = CIFAR10(root=tmp_path / "root", train=False, download=True)
    np.testing.assert_array_equal(ds.targets, labels)


def test_cifar_subset_from_shared_data(shared_data):
    with pytest.warns(UserWarning, match="only 10000 of 50000"):
        train = CIFAR10(root=shared_data, train=True, download=False)
    assert train.is_subset
    assert train.data.shape == (10000, 32, 32, 3) and train.data.dtype == np.uint8
    assert train.targets.dtype == np.int64 and 0 <= train.targets.min() and train.targets.max() <= 9
    assert train.targets[:10].tolist() == [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]
    assert np.bincount(train.targets).tolist() == [1005, 974, 1032, 1016, 999, 937, 1030, 1001, 1025, 981]
    assert hashlib.sha256(train.data[0].tobytes()).hexdigest() == (
        "7cbda40c52a00fdb4343e76a94b670a6280112167d0e5a0acd9dfeb76d34cff4"
    )
    assert train.classes == ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
                             "truck"]
    with pytest.warns(UserWarning, match="only 1000 of 10000"):
        test = CIFAR10(root=shared_data, train=False, download=False)
    assert test.data.shape == (1000, 32, 32, 3)
    assert test.targets[:10].tolist() == [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]
