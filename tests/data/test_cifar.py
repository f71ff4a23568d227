import hashlib
import io
import tarfile

import numpy as np
import pytest

from gradus.data.datasets import CIFAR10, read_cifar_bin
from gradus.data.errors import ChecksumError, DatasetFormatError, DatasetNotFoundError


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


def unverified(monkeypatch, *names):
    """Synthetic batches under official names: drop those names' digests (they load with a
    'not verified' warning instead of failing the official checksum)."""
    table = {k: v for k, v in CIFAR10.known_sha256.items() if k not in names}
    monkeypatch.setattr(CIFAR10, "known_sha256", table)


def test_cifar_loads_present_batches_from_subfolder(tmp_path, monkeypatch):
    folder = tmp_path / "cifar10" / "cifar-10-batches-bin"
    folder.mkdir(parents=True)
    raw2, l2, _ = make_records(3, seed=2)
    raw3, l3, _ = make_records(5, seed=3)
    (folder / "data_batch_2.bin").write_bytes(raw2)
    (folder / "data_batch_3.bin").write_bytes(raw3)
    unverified(monkeypatch, "data_batch_2.bin", "data_batch_3.bin")
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
    unverified(monkeypatch, "test_batch.bin")
    with pytest.warns(UserWarning, match="not verified"):
        ds = CIFAR10(root=tmp_path / "root", train=False, download=True)
    np.testing.assert_array_equal(ds.targets, labels)


def test_every_official_batch_has_a_digest():
    # torchvision checks each batch file's md5; gradus checks each one's sha256 (md5 recorded too).
    for name in CIFAR10.train_files + CIFAR10.test_files + ["batches.meta.txt"]:
        assert len(CIFAR10.known_sha256[name]) == 64
    assert set(CIFAR10.known_md5) == set(CIFAR10.train_files + CIFAR10.test_files)


def test_cifar_batch_with_an_official_name_but_another_digest_is_refused(tmp_path):
    folder = tmp_path / "cifar10"
    folder.mkdir()
    raw, _, _ = make_records(2)
    (folder / "data_batch_4.bin").write_bytes(raw)
    with pytest.raises(ChecksumError, match="sha256 mismatch") as e:
        CIFAR10(root=tmp_path, download=False)
    assert str(folder / "data_batch_4.bin") in str(e.value)
    assert CIFAR10.known_sha256["data_batch_4.bin"] in str(e.value)


def test_cifar_corrupt_class_names_file_is_refused(tmp_path, monkeypatch):
    folder = tmp_path / "cifar10"
    folder.mkdir()
    raw, _, _ = make_records(1)
    (folder / "test_batch.bin").write_bytes(raw)
    (folder / "batches.meta.txt").write_text("airplane\nautomobile\n")
    unverified(monkeypatch, "test_batch.bin")
    with pytest.raises(ChecksumError, match="batches.meta.txt"):
        CIFAR10(root=tmp_path, train=False, download=False)


def test_known_subset_and_unknown_names_warn_that_they_were_not_verified(tmp_path, monkeypatch):
    folder = tmp_path / "cifar10"
    folder.mkdir()
    raw, labels, _ = make_records(3)
    (folder / "test_batch.bin").write_bytes(raw)
    digest = hashlib.sha256(raw).hexdigest()
    monkeypatch.setattr(CIFAR10, "known_subsets", {"test_batch.bin": {digest: "a 3-record test subset"}})
    with pytest.warns(UserWarning, match=r"was not verified against the official test_batch.bin: it is a "
                                         r"3-record test subset") as record:
        ds = CIFAR10(root=tmp_path, train=False, download=False)
    assert str(folder / "test_batch.bin") in str(record[0].message)
    np.testing.assert_array_equal(ds.targets, labels)
    # A batch name with no known digest at all: loaded, with a warning saying so.
    monkeypatch.setattr(CIFAR10, "test_files", ["my_batch.bin"])
    (folder / "my_batch.bin").write_bytes(raw)
    with pytest.warns(UserWarning, match="no published checksum is known for 'my_batch.bin'"):
        CIFAR10(root=tmp_path, train=False, download=False)


def test_cifar_subset_from_shared_data(shared_data):
    with pytest.warns(UserWarning, match="only 10000 of 50000") as record:
        train = CIFAR10(root=shared_data, train=True, download=False)
    # data_batch_1.bin and batches.meta.txt are the official files: verified, no such warning.
    assert not any("not verified" in str(w.message) for w in record)
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
    with pytest.warns(UserWarning, match="only 1000 of 10000") as record:
        test = CIFAR10(root=shared_data, train=False, download=False)
    # The shared test_batch.bin is the known 1,000-record subset: not the official file, and said so.
    assert any("not verified against the official test_batch.bin" in str(w.message) for w in record)
    assert test.data.shape == (1000, 32, 32, 3)
    assert test.targets[:10].tolist() == [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]
