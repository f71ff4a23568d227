import hashlib
import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from gradus.data.download import (
    download_file,
    ensure_file,
    extract_zip_member,
    file_digest,
    resolve_root,
    safe_extract_tar,
)
from gradus.data.errors import ChecksumError, DatasetNotFoundError, DownloadError, UnsafeArchiveError

from .conftest import DEAD_MIRROR


def _write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


# ----------------------------------------------------------------- roots


def test_resolve_root_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("GRADUS_DATA", str(tmp_path / "env"))
    assert resolve_root(tmp_path / "arg") == tmp_path / "arg"
    assert resolve_root() == tmp_path / "env"
    monkeypatch.delenv("GRADUS_DATA")
    assert resolve_root() == Path("~/.cache/gradus").expanduser()


# ----------------------------------------------------------------- checksums


def test_ensure_file_present_and_valid(tmp_path):
    sha = _write(tmp_path / "a.bin", b"hello")
    assert ensure_file("a.bin", tmp_path, sha256=sha, urls=[DEAD_MIRROR]) == tmp_path / "a.bin"
    assert file_digest(tmp_path / "a.bin") == sha


def test_ensure_file_checksum_mismatch_names_file_expected_and_got(tmp_path):
    _write(tmp_path / "a.bin", b"hello")
    expected = "0" * 64
    with pytest.raises(ChecksumError) as e:
        ensure_file("a.bin", tmp_path, sha256=expected)
    msg = str(e.value)
    assert "a.bin" in msg and expected in msg and hashlib.sha256(b"hello").hexdigest() in msg
    assert isinstance(e.value, ValueError)


def test_ensure_file_md5(tmp_path):
    _write(tmp_path / "a.bin", b"hello")
    ensure_file("a.bin", tmp_path, md5=hashlib.md5(b"hello").hexdigest())
    with pytest.raises(ChecksumError, match="md5"):
        ensure_file("a.bin", tmp_path, md5="1" * 32)


# ----------------------------------------------------------------- offline behaviour


def test_offline_error_names_file_urls_errors_and_destination(tmp_path):
    urls = [DEAD_MIRROR, DEAD_MIRROR + "mirror2/"]
    with pytest.raises(DownloadError) as e:
        ensure_file(
            "train-images-idx3-ubyte.gz", tmp_path / "mnist", sha256="0" * 64, urls=urls, progress=False
        )
    msg = str(e.value)
    assert "train-images-idx3-ubyte.gz" in msg
    assert "http://127.0.0.1:9/train-images-idx3-ubyte.gz" in msg
    assert "http://127.0.0.1:9/mirror2/train-images-idx3-ubyte.gz" in msg
    assert msg.count("->") == 2  # one error per URL
    assert str(tmp_path / "mnist" / "train-images-idx3-ubyte.gz") in msg
    assert isinstance(e.value, FileNotFoundError)
    assert [p.name for p in (tmp_path / "mnist").iterdir()] == []  # no partial files left


def test_missing_file_without_download(tmp_path):
    with pytest.raises(DatasetNotFoundError) as e:
        ensure_file("x.gz", tmp_path, sha256="0" * 64, urls=[DEAD_MIRROR], download=False)
    assert str(tmp_path / "x.gz") in str(e.value) and "download=False" in str(e.value)


# ----------------------------------------------------------------- downloading (file:// URLs, no network)


def test_download_from_second_mirror_atomic(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    sha = _write(src / "data.bin", os.urandom(3000))
    dest = tmp_path / "dest"
    got = download_file("data.bin", [DEAD_MIRROR, src.as_uri() + "/"], sha, dest, progress=False)
    assert got == dest / "data.bin" and file_digest(got) == sha
    assert sorted(p.name for p in dest.iterdir()) == ["data.bin"]


def test_download_checksum_mismatch_deletes_and_raises(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    _write(src / "data.bin", b"tampered")
    dest = tmp_path / "dest"
    with pytest.raises(ChecksumError, match="sha256 mismatch"):
        download_file("data.bin", [src.as_uri() + "/"], "0" * 64, dest, progress=False)
    assert list(dest.iterdir()) == []


def test_download_with_progress_bar(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    sha = _write(src / "d.bin", b"x" * 5000)
    assert download_file("d.bin", [(src / "d.bin").as_uri()], sha, tmp_path / "o", progress=True).is_file()


# ----------------------------------------------------------------- archives


def _tar(path: Path, members: list[tarfile.TarInfo], payload: bytes = b"data") -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for m in members:
            if m.isfile():
                m.size = len(payload)
                tar.addfile(m, io.BytesIO(payload))
            else:
                tar.addfile(m)
    return path


def _info(name, type_=tarfile.REGTYPE, linkname=""):
    m = tarfile.TarInfo(name)
    m.type = type_
    m.linkname = linkname
    return m


def test_safe_extract_tar_ok(tmp_path):
    tar = _tar(tmp_path / "ok.tar.gz", [_info("d", tarfile.DIRTYPE), _info("d/a.bin"),
                                         _info("d/link", tarfile.SYMTYPE, "a.bin")])
    out = safe_extract_tar(tar, tmp_path / "out")
    assert out == [tmp_path / "out" / "d" / "a.bin"]
    assert (tmp_path / "out" / "d" / "a.bin").read_bytes() == b"data"


@pytest.mark.parametrize(
    "member",
    [
        _info("/etc/evil"),
        _info("../evil"),
        _info("d/../../evil"),
        _info("evil_link", tarfile.SYMTYPE, "/etc/passwd"),
        _info("evil_link", tarfile.SYMTYPE, "../../outside"),
        _info("evil_hard", tarfile.LNKTYPE, "../outside"),
        _info("dev", tarfile.CHRTYPE),
        _info("blk", tarfile.BLKTYPE),
        _info("fifo", tarfile.FIFOTYPE),
    ],
    ids=["absolute", "dotdot", "nested-dotdot", "symlink-abs", "symlink-rel", "hardlink", "chr", "blk",
         "fifo"],
)
def test_safe_extract_tar_refuses(tmp_path, member):
    tar = _tar(tmp_path / "bad.tar.gz", [_info("fine.txt"), member])
    dest = tmp_path / "out"
    with pytest.raises(UnsafeArchiveError):
        safe_extract_tar(tar, dest)
    assert not (tmp_path / "evil").exists() and not (tmp_path / "outside").exists()
    assert not (dest / "fine.txt").exists()  # all members are checked before anything is written


def test_extract_zip_member_ignores_hostile_paths(tmp_path):
    zpath = tmp_path / "a.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr("../../SMSSpamCollection", b"ham\thi\n")
        zf.writestr("__MACOSX/x/._SMSSpamCollection", b"junk")
    out = extract_zip_member(zpath, "SMSSpamCollection", tmp_path / "dest_name")
    assert out.read_bytes() == b"ham\thi\n"
    with pytest.raises(DatasetNotFoundError):
        extract_zip_member(zpath, "missing", tmp_path / "m")
