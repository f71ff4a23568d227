"""Finding, downloading and verifying dataset files.

Every dataset file lives at ``<root>/<dataset folder>/<file name>``, where ``root`` is, in order:
the ``root=`` argument, ``$GRADUS_DATA``, or ``~/.cache/gradus``.  A missing file is fetched from an
ordered list of mirrors, written to a temporary file beside its destination, verified (SHA-256, or
MD5 where that is all the publisher lists) and only then renamed into place, so an interrupted
download never leaves a half-written file under the real name.  When every mirror fails the error
lists each URL with its error and the exact path where the file can be placed by hand.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import http.client
import lzma
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath

from .errors import (
    ChecksumError,
    DatasetFormatError,
    DatasetNotFoundError,
    DownloadError,
    UnsafeArchiveError,
)

__all__ = [
    "resolve_root",
    "dataset_dir",
    "file_digest",
    "verify_file",
    "download_file",
    "ensure_file",
    "safe_extract_tar",
    "extract_zip_member",
    "read_zip_member",
]

ENV_VAR = "GRADUS_DATA"
DEFAULT_ROOT = Path("~/.cache/gradus")
_CHUNK = 1 << 20
_USER_AGENT = "gradus-data/0.1 (+https://github.com/; python urllib)"


# --------------------------------------------------------------------------- roots


def resolve_root(root: str | os.PathLike | None = None) -> Path:
    """The dataset root: ``root`` if given, else ``$GRADUS_DATA``, else ``~/.cache/gradus``.

    The directory is not created here (a read-only root, such as a shared data folder, is fine).
    """
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    return DEFAULT_ROOT.expanduser()


def dataset_dir(root: str | os.PathLike | None, folder: str) -> Path:
    """``resolve_root(root) / folder``: where one dataset's files live."""
    return resolve_root(root) / folder


# --------------------------------------------------------------------------- digests


def file_digest(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in 1 MiB chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_file(path: str | os.PathLike, sha256: str | None = None, md5: str | None = None) -> None:
    """Raise :class:`ChecksumError` (naming the file, expected and actual digest) on mismatch."""
    for algorithm, expected in (("sha256", sha256), ("md5", md5)):
        if expected is None:
            continue
        got = file_digest(path, algorithm)
        if got.lower() != expected.lower():
            raise ChecksumError(
                f"{algorithm} mismatch for {path}:\n  expected {expected.lower()}\n  got      {got}\n"
                "The file is corrupt, truncated or a different version. Delete it and download it "
                "again (or put the correct file there)."
            )


# --------------------------------------------------------------------------- download


def _mirror_url(url: str, filename: str) -> str:
    # A mirror given as a folder ("https://host/mnist/") gets the file name appended.
    return url + filename if url.endswith("/") else url


def _progress_bar(total: int | None, desc: str, enabled: bool):
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=desc, leave=False)


def _fetch(url: str, out, desc: str, progress: bool, timeout: float) -> tuple[str, str]:
    """Stream ``url`` into the open binary file ``out``; return its (sha256, md5) hex digests."""
    sha, md5 = hashlib.sha256(), hashlib.md5()
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        length = response.headers.get("Content-Length") if hasattr(response, "headers") else None
        bar = _progress_bar(int(length) if length and length.isdigit() else None, desc, progress)
        try:
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                out.write(chunk)
                sha.update(chunk)
                md5.update(chunk)
                if bar is not None:
                    bar.update(len(chunk))
        finally:
            if bar is not None:
                bar.close()
    return sha.hexdigest(), md5.hexdigest()


def download_file(
    filename: str,
    urls: Sequence[str],
    sha256: str | None,
    dest_dir: str | os.PathLike,
    progress: bool = True,
    *,
    md5: str | None = None,
    timeout: float = 30.0,
) -> Path:
    """Download ``filename`` into ``dest_dir``, trying each mirror in ``urls`` in order.

    A URL ending in ``/`` is a folder: ``filename`` is appended.  Bytes are streamed into a
    temporary file in ``dest_dir`` and renamed to ``dest_dir/filename`` only after the digest
    matches (``sha256`` and/or ``md5``; both ``None`` skips verification).  A mirror that serves
    wrong bytes counts as failed: its temporary file is deleted and the next mirror is tried.

    Returns the final path.  Raises :class:`ChecksumError` if every mirror that answered served
    bytes with the wrong digest, else :class:`DownloadError` listing each URL with its error.
    """
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / filename
    failures: list[tuple[str, str]] = []
    checksum_failures = 0
    for base in urls:
        url = _mirror_url(base, filename)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{filename}.", suffix=".part", dir=dest_dir)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                got_sha, got_md5 = _fetch(url, out, filename, progress, timeout)
            if sha256 is not None and got_sha != sha256.lower():
                checksum_failures += 1
                failures.append((url, f"sha256 mismatch: expected {sha256.lower()}, got {got_sha}"))
                continue
            if md5 is not None and got_md5 != md5.lower():
                checksum_failures += 1
                failures.append((url, f"md5 mismatch: expected {md5.lower()}, got {got_md5}"))
                continue
            os.replace(tmp, dest)  # atomic on the same filesystem
            return dest
        except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as e:
            # URLError/HTTPError/timeouts are OSErrors; ValueError: malformed URL;
            # HTTPException: e.g. IncompleteRead when the connection drops mid-file.
            failures.append((url, f"{type(e).__name__}: {e}"))
        finally:
            if tmp.exists():
                tmp.unlink()
    tried = "\n".join(f"  {u}\n    -> {err}" for u, err in failures) or "  (no URL given)"
    if failures and checksum_failures == len(failures):
        raise ChecksumError(f"every mirror served a file with the wrong digest for {filename!r}:\n{tried}")
    raise DownloadError(
        f"could not download {filename!r}. Tried:\n{tried}\n"
        f"Without internet access, place the file at:\n  {dest}\n"
        f"(or pass root=... / set ${ENV_VAR} to a directory that contains {dest_dir.name}/{filename})"
    )


def ensure_file(
    filename: str,
    dest_dir: str | os.PathLike,
    sha256: str | None = None,
    urls: Sequence[str] = (),
    download: bool = True,
    progress: bool = True,
    *,
    md5: str | None = None,
) -> Path:
    """Return ``dest_dir/filename``, verified; download it first if missing and allowed.

    Raises:
        ChecksumError: the file is present but its digest is wrong (message names file,
            expected and actual digest).
        DatasetNotFoundError: the file is missing and ``download=False`` or no URL is known.
        DownloadError: the file is missing and every mirror failed (message lists each URL with
            its error and the exact path where to put the file).
    """
    path = Path(dest_dir) / filename
    if path.is_file():
        verify_file(path, sha256=sha256, md5=md5)
        return path
    if not download or not urls:
        why = "download=False" if not download else "no download URL is known for it"
        raise DatasetNotFoundError(
            f"dataset file {filename!r} not found ({why}). Place the file at:\n  {path}\n"
            f"(or pass root=... / set ${ENV_VAR} to a directory that contains "
            f"{Path(dest_dir).name}/{filename})"
        )
    return download_file(filename, urls, sha256, dest_dir, progress=progress, md5=md5)


# --------------------------------------------------------------------------- archives


def _check_member_name(name: str, archive: str | os.PathLike = "archive") -> PurePosixPath:
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise UnsafeArchiveError(f"{archive}: refusing archive member with an absolute path: {name!r}")
    if ".." in p.parts:
        raise UnsafeArchiveError(f"{archive}: refusing archive member with a '..' component: {name!r}")
    return p


def _inside(base: Path, target: Path) -> bool:
    base, target = os.path.realpath(base), os.path.realpath(target)
    return os.path.commonpath([base, target]) == base


def safe_extract_tar(
    path: str | os.PathLike, dest: str | os.PathLike, members: Iterable[str] | None = None
) -> list[Path]:
    """Extract a (possibly compressed) tar archive into ``dest``, refusing anything unsafe.

    Refused (``UnsafeArchiveError``) before anything is written: absolute member names, names with
    a ``..`` component, names that resolve outside ``dest``, symbolic or hard links whose target
    resolves outside ``dest``, and device / FIFO members.  On Pythons that have it, the stdlib
    ``filter="data"`` is applied as a second line of defence.  A damaged archive (not a tar, a bad
    header checksum, a corrupt or truncated compressed stream, whose CRC is checked before anything
    is written) is a :class:`DatasetFormatError`; both name the archive.

    Args:
        members: if given, only these member names are extracted (others are still checked).

    Returns the paths of the extracted regular files.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    wanted = set(members) if members is not None else None
    with open(path, "rb") as fh:  # outside the try: a missing file stays a FileNotFoundError
        try:
            tar = tarfile.open(fileobj=fh, mode="r:*")
        except _TAR_ERRORS as e:
            raise _corrupt_tar(path, e) from None
        with tar:
            return _extract_checked(tar, path, dest, wanted)


# The stdlib's own refusal of an unsafe member (Python >= 3.11.4 / 3.12); () matches nothing.
_FILTER_ERROR = getattr(tarfile, "FilterError", ())
# A damaged tar: not a tar / bad header (ReadError), a corrupt or truncated gzip, bz2 or xz stream.
_TAR_ERRORS: tuple[type[BaseException], ...] = (
    tarfile.TarError, EOFError, zlib.error, lzma.LZMAError, OSError,
)


def _corrupt_tar(path: str | os.PathLike, e: BaseException) -> DatasetFormatError:
    return DatasetFormatError(f"{path}: corrupt or truncated tar archive ({type(e).__name__}: {e})")


def _extract_checked(
    tar: tarfile.TarFile, path: str | os.PathLike, dest: Path, wanted: set[str] | None
) -> list[Path]:
    try:
        infos = tar.getmembers()
        # A compressed stream's CRC (gzip) or check (xz, bz2) is verified only at its very end, which
        # getmembers() need not reach (it stops at the end-of-archive blocks): read to the end now,
        # so corrupt member data is refused before anything is written. (A plain tar has no data
        # checksum at all: verify the archive's digest first, as the datasets do.)
        if isinstance(tar.fileobj, (gzip.GzipFile, lzma.LZMAFile, bz2.BZ2File)):
            while tar.fileobj.read(_CHUNK):
                pass
    except _TAR_ERRORS as e:
        raise _corrupt_tar(path, e) from None
    chosen: list[tarfile.TarInfo] = []
    for m in infos:
        rel = _check_member_name(m.name, path)
        target = dest / rel
        if not _inside(dest, target):
            raise UnsafeArchiveError(f"{path}: refusing archive member outside the destination: {m.name!r}")
        if m.isdev():  # character / block devices and FIFOs
            raise UnsafeArchiveError(f"{path}: refusing device or FIFO archive member: {m.name!r}")
        if m.issym():
            link = PurePosixPath(m.linkname)
            if link.is_absolute() or not _inside(dest, target.parent / link):
                raise UnsafeArchiveError(
                    f"{path}: refusing symlink escaping the destination: {m.name!r} -> {m.linkname!r}"
                )
        elif m.islnk():
            # Hard-link targets are archive-relative names.
            _check_member_name(m.linkname, path)
            if not _inside(dest, dest / m.linkname):
                raise UnsafeArchiveError(
                    f"{path}: refusing hard link escaping the destination: {m.name!r} -> {m.linkname!r}"
                )
        elif not (m.isfile() or m.isdir()):
            raise UnsafeArchiveError(f"{path}: refusing unsupported archive member type: {m.name!r}")
        if wanted is None or m.name in wanted:
            chosen.append(m)
    if wanted is not None:
        missing = wanted - {m.name for m in chosen}
        if missing:
            raise UnsafeArchiveError(f"{path}: archive has no member(s) {sorted(missing)}")
    try:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, members=chosen, filter="data")
        else:  # pragma: no cover - Python without PEP 706 backport; our checks above still ran
            tar.extractall(dest, members=chosen)
    except _FILTER_ERROR as e:  # the stdlib filter refused a member our checks let through
        raise UnsafeArchiveError(f"{path}: {e}") from None
    except (tarfile.TarError, EOFError, zlib.error, lzma.LZMAError, gzip.BadGzipFile) as e:
        # Not every OSError here: a full disk or a read-only dest is not a corrupt archive.
        raise _corrupt_tar(path, e) from None
    return [dest / m.name for m in chosen if m.isfile()]


def _zip_member(zf: zipfile.ZipFile, member_basename: str, zip_path: str | os.PathLike) -> zipfile.ZipInfo:
    # The first regular member with this base name, wherever it sits in the archive (the name is
    # only compared, never used as a path); macOS resource forks are skipped.
    for info in zf.infolist():
        if (
            not info.is_dir()
            and PurePosixPath(info.filename.replace("\\", "/")).name == member_basename
            and not info.filename.startswith("__MACOSX/")
        ):
            return info
    raise DatasetNotFoundError(f"{zip_path}: archive has no member named {member_basename!r}")


# What zipfile raises for a damaged archive: not a zip / bad central directory / bad CRC
# (BadZipFile), a corrupt deflate stream (zlib.error), a truncated member (EOFError), an unsupported
# compression method (NotImplementedError), an encrypted member (RuntimeError), inconsistent header
# fields (ValueError, OSError from a seek outside the file), an lzma/bz2 stream that is corrupt.
_ZIP_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,
    RuntimeError,
    ValueError,
    OSError,
    lzma.LZMAError,
)


def _corrupt_zip(zip_path: str | os.PathLike, e: BaseException) -> DatasetFormatError:
    return DatasetFormatError(f"{zip_path}: corrupt or unreadable zip archive ({type(e).__name__}: {e})")


def read_zip_member(
    zip_path: str | os.PathLike, member_basename: str, max_bytes: int = 1 << 30
) -> bytes:
    """The contents of the zip member whose base name is ``member_basename``, read in memory.

    Nothing is written to disk, so a hostile member name cannot place a file anywhere (and a
    read-only data root is fine).  A member announcing more than ``max_bytes`` uncompressed bytes
    (a zip bomb) is refused with :class:`UnsafeArchiveError`, and at most ``max_bytes + 1`` bytes
    are ever decompressed (the announced size may lie); the CRC is checked by ``zipfile``.  A
    damaged archive (not a zip, truncated, bad CRC, corrupt stream, encrypted or unsupported
    member) is a :class:`DatasetFormatError` naming the archive.
    """
    with open(zip_path, "rb") as fh:  # outside the try: a missing file stays a FileNotFoundError
        try:
            zf = zipfile.ZipFile(fh)
        except _ZIP_ERRORS as e:
            raise _corrupt_zip(zip_path, e) from None
        with zf:
            info = _zip_member(zf, member_basename, zip_path)
            if info.file_size > max_bytes:
                raise UnsafeArchiveError(
                    f"{zip_path}: member {info.filename!r} is {info.file_size} bytes uncompressed, "
                    f"over the {max_bytes}-byte limit"
                )
            try:
                with zf.open(info) as src:
                    data = src.read(max_bytes + 1)
            except _ZIP_ERRORS as e:
                raise _corrupt_zip(zip_path, e) from None
    if len(data) > max_bytes:
        raise UnsafeArchiveError(f"{zip_path}: member {info.filename!r} exceeds {max_bytes} bytes")
    return data


def extract_zip_member(
    zip_path: str | os.PathLike, member_basename: str, dest_file: str | os.PathLike
) -> Path:
    """Copy the one zip member whose base name is ``member_basename`` to ``dest_file`` (atomic).

    Only the chosen member's *contents* are read and written under a name we choose, so a
    hostile member name (absolute, ``..``) can never place a file anywhere else.  A damaged
    archive is a :class:`DatasetFormatError` naming it, and leaves no partial ``dest_file``.
    """
    dest_file = Path(dest_file)
    with open(zip_path, "rb") as fh:
        try:
            zf = zipfile.ZipFile(fh)
        except _ZIP_ERRORS as e:
            raise _corrupt_zip(zip_path, e) from None
        with zf:
            info = _zip_member(zf, member_basename, zip_path)
            fd, tmp_name = tempfile.mkstemp(
                prefix=f".{dest_file.name}.", suffix=".part", dir=dest_file.parent
            )
            try:
                with os.fdopen(fd, "wb") as out:
                    try:
                        with zf.open(info) as src:
                            shutil.copyfileobj(src, out, _CHUNK)
                    except _ZIP_ERRORS as e:
                        raise _corrupt_zip(zip_path, e) from None
                os.replace(tmp_name, dest_file)
            finally:
                if os.path.exists(tmp_name):
                    os.unlink(tmp_name)
    return dest_file
