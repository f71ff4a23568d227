"""Fuzzing of every file parser (issue 14, part 4): truncated files, oversized headers, wrong magic,
wrong dimensions, flipped bytes, random bytes.

The rule each test holds: a parser either loads the file cleanly (and then the result is exactly
what the file says: no silent garbage) or raises the project's error (``DatasetFormatError``,
``CheckpointError``, ``RecipeError``; all ``ValueError``s) whose message names the file. Anything
else (``IndexError``, ``struct.error``, ``UnicodeDecodeError``, ``KeyError``, ``zlib.error``,
``MemoryError``...) escapes and fails the test. Headers that announce huge sizes are also checked
for the allocation they cause (``tracemalloc`` sees NumPy's buffers).

hypothesis runs derandomized (the same examples on every run) with 40-80 examples per parser, so
the whole file takes well under a minute on one core. Files are written under ``tmp_path``; each
example overwrites the same file name.
"""

from __future__ import annotations

import gzip
import io
import json
import shutil
import struct
import tarfile
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradus import nn, optim
from gradus.data import Vocab
from gradus.data.datasets import CIFAR10, SentimentSentences, SMSSpam, TatoebaFraEng, TinyShakespeare
from gradus.data.datasets.cifar import RECORD_BYTES, read_cifar_bin
from gradus.data.datasets.mnist import read_idx
from gradus.data.datasets.multi30k import read_lines_gz
from gradus.data.download import read_zip_member, safe_extract_tar
from gradus.data.errors import ChecksumError, DatasetFormatError, DatasetNotFoundError
from gradus.recipes import RecipeError, list_recipes, load_recipe, recipe_path
from gradus.train.checkpoint import CheckpointError, load_checkpoint, read_checkpoint, save_checkpoint

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def fuzz(n: int):
    return settings(
        max_examples=n,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                               HealthCheck.data_too_large],
    )


def clear_error(exc: BaseException, path: Path, types=(DatasetFormatError,)) -> None:
    """The error is one of ``types`` and its message names ``path``."""
    assert isinstance(exc, types), f"{type(exc).__name__}: {exc}"
    assert str(path) in str(exc), f"message does not name {path}: {exc}"


def attempt(fn, path: Path, types=(DatasetFormatError,)):
    """``fn()``'s result, or None after checking that it raised a clear error naming ``path``."""
    try:
        return fn()
    except types as e:
        clear_error(e, path, types)
        return None


def mutate(data: bytes, how: str, pos: int, value: int) -> bytes:
    """One corruption of ``data``: cut it at ``pos``, flip a byte there, insert a byte, or drop one."""
    if not data:
        return bytes([value])
    i = pos % len(data)
    if how == "truncate":
        return data[:i]
    if how == "flip":
        return data[:i] + bytes([data[i] ^ (value or 1)]) + data[i + 1:]
    if how == "insert":
        return data[:i] + bytes([value]) + data[i:]
    return data[:i] + data[i + 1:]


mutations = st.tuples(st.sampled_from(["truncate", "flip", "insert", "drop"]),
                      st.integers(0, 1 << 20), st.integers(0, 255))


def peak_bytes(fn) -> int:
    """Peak Python/NumPy memory allocated while ``fn()`` runs (its exception swallowed)."""
    tracemalloc.start()
    try:
        fn()
    except Exception:
        pass
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


# --------------------------------------------------------------------------- IDX (MNIST)

_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def idx_bytes(code: int, dims: tuple[int, ...], payload: bytes) -> bytes:
    return bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + payload


@st.composite
def idx_files(draw):
    """IDX files, valid or not: any type code, 0-4 dims (small or huge), a payload of about the
    announced length (exact, short or long)."""
    code = draw(st.sampled_from([*_IDX_TYPES, 0x00, 0x0A, 0xFF]))
    dims = tuple(draw(st.lists(st.one_of(st.integers(0, 5), st.integers(0, 2**32 - 1)), max_size=4)))
    itemsize = np.dtype(_IDX_TYPES.get(code, "u1")).itemsize
    want = int(np.prod(dims, dtype=object)) * itemsize if dims else 0
    want = want if want < 4096 else draw(st.integers(0, 64))
    n = max(0, want + draw(st.sampled_from([0, 0, 0, -1, 1, -itemsize, 3])))
    magic = draw(st.sampled_from([b"", b"", b"\x01\x00", b"\x00\x01"]))
    head = idx_bytes(code, dims, b"")
    if magic:
        head = magic + head[2:]
    return head + draw(st.binary(min_size=n, max_size=n))


def check_idx(path: Path, data: bytes, payload_start: int | None = None) -> None:
    out = attempt(lambda: read_idx(path), path)
    if out is None:
        return
    # Loaded: the file must have been exactly consistent (magic, dims, payload length) and the
    # values must be its payload, in native byte order.
    assert data[0] == 0 and data[1] == 0 and data[2] in _IDX_TYPES and data[3] == out.ndim >= 1
    dims = struct.unpack(f">{out.ndim}I", data[4:4 + 4 * out.ndim])
    assert out.shape == dims
    payload = data[4 + 4 * out.ndim:]
    expected = np.frombuffer(payload, dtype=_IDX_TYPES[data[2]]).reshape(dims)
    np.testing.assert_array_equal(out, expected)
    assert out.flags.writeable and out.dtype.isnative


@fuzz(80)
@given(data=idx_files(), compress=st.booleans())
def test_idx_generated_headers(tmp_path, data, compress):
    path = tmp_path / "fuzz-idx3-ubyte"
    path.write_bytes(gzip.compress(data, mtime=0) if compress else data)
    check_idx(path, data)


_VALID_IDX = idx_bytes(0x08, (3, 4, 5), bytes(range(60)))


@fuzz(80)
@given(m=mutations, compress=st.booleans())
def test_idx_corrupted_files(tmp_path, m, compress):
    path = tmp_path / "fuzz-idx3-ubyte.gz"
    if compress:
        data = mutate(gzip.compress(_VALID_IDX, mtime=0), *m)
        path.write_bytes(data)
        out = attempt(lambda: read_idx(path), path)
        if out is not None:  # a flip in the gzip header's mtime/OS byte is harmless
            assert out.shape[0] * out[0].nbytes + 4 + 4 * out.ndim <= len(_VALID_IDX) + 1
    else:
        data = mutate(_VALID_IDX, *m)
        path.write_bytes(data)
        check_idx(path, data)


@fuzz(60)
@given(data=st.binary(max_size=300))
def test_idx_random_bytes(tmp_path, data):
    path = tmp_path / "random.idx"
    path.write_bytes(data)
    if data[:2] == b"\x1f\x8b":
        attempt(lambda: read_idx(path), path)
    else:
        check_idx(path, data)


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip"])
@pytest.mark.parametrize("dims", [(2**31,), (2**31, 28, 28), (2**32 - 1,) * 4],
                         ids=["2^31", "2^31x28x28", "4x2^32"])
def test_idx_oversized_header_is_refused_before_allocating(tmp_path, compress, dims):
    data = idx_bytes(0x08, dims, bytes(100))
    path = tmp_path / "huge-idx-ubyte"
    path.write_bytes(gzip.compress(data) if compress else data)
    with pytest.raises(DatasetFormatError) as e:
        read_idx(path)
    clear_error(e.value, path)
    assert peak_bytes(lambda: read_idx(path)) < 1 << 20  # not 2 GiB (or a MemoryError)


def test_idx_gzip_payload_is_read_incrementally(tmp_path):
    # 16 MB announced, which 1032:1 deflate could fit in this 20 KB file, but the stream holds
    # 20 KB: the memory used follows the bytes that come out (in 1 MiB reads), not the header.
    data = idx_bytes(0x08, (16_000_000,), np.random.default_rng(0).bytes(20_000))
    path = tmp_path / "short-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(data))
    with pytest.raises(DatasetFormatError, match="truncated IDX payload") as e:
        read_idx(path)
    clear_error(e.value, path)
    assert peak_bytes(lambda: read_idx(path)) < 2 << 20  # was 16 MB


def test_idx_zero_dims_and_product_overflow(tmp_path):
    path = tmp_path / "zero.idx"
    path.write_bytes(bytes([0, 0, 8, 0, 7]))
    with pytest.raises(DatasetFormatError, match="0 dimensions"):
        read_idx(path)
    # 2**32 * 2**32 wraps to 0 in int64 arithmetic: with an empty payload that "matched".
    path.write_bytes(idx_bytes(0x08, (2**32 - 1, 2**32 - 1, 2**32 - 1, 2**32 - 1), b""))
    with pytest.raises(DatasetFormatError, match="announces"):
        read_idx(path)


# --------------------------------------------------------------------------- CIFAR-10 binary batches


@fuzz(60)
@given(n=st.integers(0, 3), extra=st.integers(-3, 3), labels=st.lists(st.integers(0, 255), min_size=3,
                                                                       max_size=3), seed=st.integers(0, 9))
def test_cifar_generated_batches(tmp_path, n, extra, labels, seed):
    rng = np.random.default_rng(seed)
    records = rng.integers(0, 256, (n, RECORD_BYTES), dtype=np.uint8)
    records[:, 0] = labels[:n]
    data = records.tobytes()
    data = data + bytes(extra) if extra >= 0 else data[:extra]
    path = tmp_path / "data_batch_x.bin"
    path.write_bytes(data)
    got = attempt(lambda: read_cifar_bin(path), path)
    if got is None:
        assert not (len(data) and len(data) % RECORD_BYTES == 0 and max(labels[:n], default=0) < 10)
        return
    images, y = got
    assert len(data) == n * RECORD_BYTES and n > 0 and y.tolist() == labels[:n]
    np.testing.assert_array_equal(images.transpose(0, 3, 1, 2).reshape(n, -1), records[:, 1:])


@fuzz(50)
@given(data=st.binary(max_size=2 * RECORD_BYTES + 5))
def test_cifar_random_bytes(tmp_path, data):
    path = tmp_path / "test_batch.bin"
    path.write_bytes(data)
    got = attempt(lambda: read_cifar_bin(path), path)
    if got is not None:
        assert len(data) % RECORD_BYTES == 0 and got[1].max() < 10


def test_cifar_batch_under_official_name_with_wrong_digest_is_a_checksum_error(tmp_path):
    folder = tmp_path / "cifar10"
    folder.mkdir()
    record = bytes([3]) + bytes(RECORD_BYTES - 1)
    (folder / "test_batch.bin").write_bytes(record * 2)
    with pytest.raises(ChecksumError) as e:
        CIFAR10(root=tmp_path, train=False, download=False)
    assert str(folder / "test_batch.bin") in str(e.value) and "official test_batch.bin" in str(e.value)


def test_cifar_meta_file_is_fuzzed_too(tmp_path, monkeypatch):
    folder = tmp_path / "cifar10"
    folder.mkdir()
    (folder / "test_batch.bin").write_bytes(bytes([1]) + bytes(RECORD_BYTES - 1))
    # Structure checks run when no digest is known for the names (the digest check comes first).
    monkeypatch.setattr(CIFAR10, "known_sha256", {})
    for text, match in ((b"\xff\xfeairplane\n", "not ASCII"), (b"a\nb\n", "expected 10 class names")):
        (folder / "batches.meta.txt").write_bytes(text)
        with pytest.raises(DatasetFormatError, match=match) as e:
            CIFAR10(root=tmp_path, train=False, download=False)
        clear_error(e.value, folder / "batches.meta.txt")


# --------------------------------------------------------------------------- text corpora

_TEXT = "Zwei junge Männer.\nEin Mädchen\r\n\nA dog runs.\n"


@fuzz(60)
@given(m=mutations)
def test_multi30k_gz_corrupted(tmp_path, m):
    path = tmp_path / "train.de.gz"
    path.write_bytes(mutate(gzip.compress(_TEXT.encode(), mtime=0), *m))
    lines = attempt(lambda: read_lines_gz(path), path)
    if lines is not None:  # only harmless header bytes (mtime, OS, XFL) may change
        assert lines == ["Zwei junge Männer.", "Ein Mädchen", "", "A dog runs."]


@fuzz(60)
@given(data=st.binary(max_size=200), compress=st.booleans())
def test_multi30k_gz_random_content(tmp_path, data, compress):
    path = tmp_path / "val.en.gz"
    path.write_bytes(gzip.compress(data, mtime=0) if compress else data)
    lines = attempt(lambda: read_lines_gz(path), path)
    if lines is not None and compress:
        assert "\n".join(lines) == data.decode("utf-8").replace("\r\n", "\n").removesuffix("\n") or (
            data.decode("utf-8").endswith("\r"))


def test_multi30k_gzip_bomb_is_refused_without_inflating_it(tmp_path):
    path = tmp_path / "train.en.gz"
    path.write_bytes(gzip.compress(b"a" * (64 << 20), compresslevel=1))  # 64 MiB of text in 280 KB
    with pytest.raises(DatasetFormatError, match="more than 1048576 bytes") as e:
        read_lines_gz(path, max_bytes=1 << 20)
    clear_error(e.value, path)
    assert peak_bytes(lambda: read_lines_gz(path, max_bytes=1 << 20)) < 8 << 20  # was 64 MiB


@fuzz(50)
@given(data=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)))
def test_tiny_shakespeare_random_text(tmp_path, monkeypatch, data):
    monkeypatch.setattr(TinyShakespeare, "sha256", None)  # reach the parser behind the checksum
    path = tmp_path / "tinyshakespeare" / "input.txt"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    ds = attempt(lambda: TinyShakespeare(root=tmp_path, seq_len=4, download=False), path,
                 (DatasetFormatError, ValueError))
    if ds is not None:
        assert ds.text == data.decode("utf-8") and ds.decode(ds.data) == ds.text[: ds.cut]


def test_tiny_shakespeare_corrupt_file_fails_its_checksum(tmp_path):
    path = tmp_path / "tinyshakespeare" / "input.txt"
    path.parent.mkdir()
    path.write_bytes(b"First Citizen:\nBefore we proceed any further, hear me speak.\n")
    with pytest.raises(ChecksumError) as e:
        TinyShakespeare(root=tmp_path, download=False)
    clear_error(e.value, path, ChecksumError)


def _zip(members: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


_FRA = b"Go.\tVa !\nHi.\tSalut !\nRun!\tCours !\n"


@fuzz(80)
@given(m=mutations, method=st.sampled_from([zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED, zipfile.ZIP_BZIP2,
                                            zipfile.ZIP_LZMA]))
def test_tatoeba_zip_corrupted(tmp_path, monkeypatch, m, method):
    monkeypatch.setattr(TatoebaFraEng, "sha256", None)
    path = tmp_path / "fra-eng" / "fra-eng.zip"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(mutate(_zip({"_about.txt": b"about", "fra.txt": _FRA}, method), *m))
    ds = attempt(lambda: TatoebaFraEng(root=tmp_path, download=False), path,
                 (DatasetFormatError, DatasetNotFoundError))
    if ds is not None:  # a flip zipfile does not read (a timestamp, the comment) is harmless
        assert ds.pairs == [("Go.", "Va !"), ("Hi.", "Salut !"), ("Run!", "Cours !")]


def _tar(members: dict[str, bytes], mode: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


_BATCH = bytes([7]) + bytes(range(256)) * 12  # one CIFAR record


@fuzz(60)
@given(m=mutations, mode=st.sampled_from(["w:gz", "w", "w:xz"]))
def test_cifar_tarball_corrupted(tmp_path, m, mode):
    """The archive CIFAR10 downloads, damaged: extracted cleanly (then the batch is intact) or a
    DatasetFormatError / UnsafeArchiveError naming the archive."""
    path = tmp_path / "cifar-10-binary.tar.gz"
    path.write_bytes(mutate(_tar({"cifar-10-batches-bin/test_batch.bin": _BATCH}, mode), *m))
    dest = tmp_path / "out"
    shutil.rmtree(dest, ignore_errors=True)
    files = attempt(lambda: safe_extract_tar(path, dest), path)
    if files is None:
        assert not dest.exists() or not any(p.is_file() for p in dest.rglob("*"))  # nothing half-written
    elif mode != "w":  # a compressed stream's CRC covers the data (a plain tar has no data checksum)
        assert [f.read_bytes() for f in files] == [_BATCH]


@fuzz(50)
@given(data=st.binary(max_size=400))
def test_zip_random_bytes(tmp_path, data):
    path = tmp_path / "random.zip"
    path.write_bytes(b"PK\x03\x04" + data)
    attempt(lambda: read_zip_member(path, "fra.txt"), path, (DatasetFormatError, DatasetNotFoundError))


@fuzz(50)
@given(lines=st.lists(st.text(st.characters(blacklist_categories=["Cs"]), max_size=30), max_size=6),
       garbage=st.binary(max_size=8))
def test_tatoeba_member_content(tmp_path, monkeypatch, lines, garbage):
    monkeypatch.setattr(TatoebaFraEng, "sha256", None)
    path = tmp_path / "fra-eng" / "fra-eng.zip"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(_zip({"fra.txt": "\n".join(lines).encode() + garbage}))
    ds = attempt(lambda: TatoebaFraEng(root=tmp_path, download=False), path)
    if ds is not None:
        assert all(isinstance(en, str) and isinstance(fr, str) for en, fr in ds.pairs)


_UCI_LINES = ["ham\thello", "spam\tWIN now", "ham", "eggs\tx", "", "spam\t", "I liked it\t1", "bad\t0",
              "x\t2", "\t1 "]


@fuzz(60)
@given(data=st.one_of(st.binary(max_size=200),
                      st.lists(st.sampled_from(_UCI_LINES), max_size=6).map("\n".join).map(str.encode)),
       which=st.sampled_from(["sms", "sentiment"]))
def test_uci_text_files(tmp_path, monkeypatch, data, which):
    if which == "sms":
        monkeypatch.setattr(SMSSpam, "sha256", None)
        path = tmp_path / SMSSpam.folder / SMSSpam.filename
        load = lambda: SMSSpam(root=tmp_path, download=False)  # noqa: E731
    else:
        monkeypatch.setattr(SentimentSentences, "files", {"yelp": ("yelp_labelled.txt", None)})
        path = tmp_path / SentimentSentences.folder / "yelp_labelled.txt"
        load = lambda: SentimentSentences(root=tmp_path, source="yelp", download=False)  # noqa: E731
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    ds = attempt(load, path)
    if ds is not None:
        n = len([line for line in data.decode("utf-8").split("\n") if line.strip()])
        assert len(ds) == n > 0 and set(ds.labels.tolist()) <= {0, 1}


@fuzz(40)
@given(data=st.one_of(st.binary(max_size=200), st.builds(
    lambda itos, v: json.dumps({"format": "gradus-vocab", "version": v, "itos": itos}).encode(),
    st.lists(st.text(max_size=3), max_size=5), st.integers(0, 2))))
def test_vocab_files(tmp_path, data):
    path = tmp_path / "vocab.json"
    path.write_bytes(data)
    vocab = attempt(lambda: Vocab.load(path), path)
    if vocab is not None:
        assert all(isinstance(t, str) for t in vocab.itos)


# --------------------------------------------------------------------------- safetensors checkpoints


@pytest.fixture(scope="module")
def checkpoint_bytes(tmp_path_factory):
    net = nn.Linear(3, 2)
    opt = optim.Adam(net.parameters(), lr=0.01)
    path = tmp_path_factory.mktemp("ckpt") / "c.safetensors"
    meta = {"epoch": 3, "history": [{"loss": 1.5, "val_loss": float("nan")}], "arr": np.arange(4)}
    save_checkpoint(path, net, opt, meta=meta)
    return path.read_bytes(), read_checkpoint(path)


def same(a, b) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, float) and a != a:
        return isinstance(b, float) and b != b
    return type(a) is type(b) and a == b


@fuzz(100)
@given(m=mutations)
def test_checkpoint_corrupted_bytes(tmp_path, checkpoint_bytes, m):
    """One corrupted byte anywhere (length prefix, JSON header, embedded document, tensor data): a
    CheckpointError naming the file, or (a change JSON ignores, such as header padding) the same
    tensors and meta. Never a silently different checkpoint."""
    original_bytes, original = checkpoint_bytes
    path = tmp_path / "c.safetensors"
    path.write_bytes(mutate(original_bytes, *m))
    ck = attempt(lambda: read_checkpoint(path), path, CheckpointError)
    if ck is not None:
        assert same(ck.tensors, original.tensors) and same(ck.meta, original.meta)
        assert ck.doc == original.doc


@fuzz(40)
@given(data=st.binary(max_size=200), length=st.one_of(st.none(), st.integers(0, 2**64 - 1)))
def test_checkpoint_random_bytes_and_header_lengths(tmp_path, data, length):
    path = tmp_path / "r.safetensors"
    path.write_bytes((struct.pack("<Q", length) if length is not None else b"") + data)
    attempt(lambda: read_checkpoint(path), path, CheckpointError)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8) | st.sampled_from(["nan", "inf", "model.weight", "meta.arr"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["__tensor__", "__float__", "__items__", "__tuple__", "kind", "state", "class",
                         "keys", "a", "0"]), inner, max_size=3),
    max_leaves=12,
)
documents = st.fixed_dictionaries({}, optional={
    "format": st.sampled_from(["gradus-checkpoint", "other"]),
    "format_version": st.one_of(st.integers(-1, 3), st.text(max_size=2)),
    "model": json_values, "optimizer": json_values, "scheduler": json_values, "meta": json_values,
    "tensors_sha256": json_values,
})


@fuzz(80)
@given(doc=st.one_of(documents, json_values))
def test_checkpoint_metadata_document(tmp_path, doc):
    """The JSON document in the header, with any structure: a clean load or a CheckpointError
    naming the file, also when the optimizer/scheduler state and the model are read from it."""
    from safetensors.numpy import save as st_save

    path = tmp_path / "m.safetensors"
    tensors = {"model.weight": np.ones((2, 3), np.float32), "model.bias": np.zeros(2, np.float32),
               "meta.arr": np.arange(3)}
    path.write_bytes(st_save(tensors, metadata={"gradus": json.dumps(doc)}))
    ck = attempt(lambda: read_checkpoint(path), path, CheckpointError)
    if ck is None:
        return
    assert isinstance(ck.meta, dict)
    for part in ("optimizer", "scheduler"):
        attempt(lambda: ck.state_of(part), path, CheckpointError)  # noqa: B023
    attempt(lambda: load_checkpoint(path, nn.Linear(3, 2)), path, CheckpointError)


def test_checkpoint_header_length_past_the_file_is_refused(tmp_path, checkpoint_bytes):
    path = tmp_path / "big.safetensors"
    path.write_bytes(struct.pack("<Q", 2**40) + checkpoint_bytes[0][8:])
    with pytest.raises(CheckpointError, match="announces") as e:
        read_checkpoint(path)
    clear_error(e.value, path, CheckpointError)
    assert peak_bytes(lambda: read_checkpoint(path)) < 1 << 20


def test_checkpoint_edited_document_fails_its_digest(tmp_path, checkpoint_bytes):
    data = checkpoint_bytes[0]
    path = tmp_path / "edited.safetensors"
    path.write_bytes(data.replace(b'\\"epoch\\":3', b'\\"epoch\\":7'))
    assert path.read_bytes() != data
    with pytest.raises(CheckpointError, match="metadata document does not match") as e:
        read_checkpoint(path)
    clear_error(e.value, path, CheckpointError)


# --------------------------------------------------------------------------- TOML recipes

_RECIPES = {name: recipe_path(name).read_bytes() for name in list_recipes()}

keys = st.sampled_from(["name", "runner", "description", "target", "factory", "sizes", "dataset",
                        "batch_size", "val_fraction", "lr", "momentum", "betas", "epochs", "seed",
                        "early_stopping", "patience", "interval", "step_size", "loss", "x"])
# No ':' in free strings: a "module:attr" is imported; the ones that can be are listed explicitly.
strings = st.text(st.characters(blacklist_categories=["Cs", "Cc"], blacklist_characters=':"\\'), max_size=8)
scalars = (st.integers(-3, 10**20) | st.floats() | st.booleans() | strings
           | st.sampled_from(["digits", "SGD", "Adam", "StepLR", "epoch", "supervised", ":x", ".x:y",
                              "gradus.models.mlp:MLP", "gradus.models.mlp:Nope", "no_such_module:f"]))
toml_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(keys, inner, max_size=3), max_leaves=8)


def to_toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(repr(value), repr(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(to_toml(v) for v in value) + "]"
    return "{" + ", ".join(f"{k} = {to_toml(v)}" for k, v in value.items()) + "}"


@fuzz(80)
@given(sections=st.dictionaries(
    st.sampled_from(["recipe", "model", "data", "optim", "scheduler", "train", "other"]),
    st.one_of(st.dictionaries(keys, toml_values, max_size=4), scalars), max_size=5))
def test_recipe_generated_documents(tmp_path, sections):
    text = "".join(f"{s} = {to_toml(b)}\n" for s, b in sections.items() if not isinstance(b, dict))
    text += "".join(f"[{s}]\n" + "".join(f"{k} = {to_toml(v)}\n" for k, v in b.items())
                    for s, b in sections.items() if isinstance(b, dict))
    path = tmp_path / "fuzz.toml"
    path.write_text(text, encoding="utf-8")
    cfg = attempt(lambda: load_recipe(path), path, RecipeError)
    if cfg is not None:
        assert cfg["recipe"]["name"] == "fuzz" or "name" in sections.get("recipe", {})


@fuzz(80)
@given(name=st.sampled_from(sorted(_RECIPES)), m=mutations)
def test_recipe_files_corrupted(tmp_path, name, m):
    path = tmp_path / f"{name}.toml"
    path.write_bytes(mutate(_RECIPES[name], *m))
    attempt(lambda: load_recipe(path), path, RecipeError)


@fuzz(40)
@given(data=st.one_of(st.binary(max_size=100), st.just(b"a = " + b"[" * 3000 + b"]" * 3000),
                      st.just(b"a = " + b"{b = " * 2000 + b"1" + b"}" * 2000)))
def test_recipe_random_bytes(tmp_path, data):
    path = tmp_path / "r.toml"
    path.write_bytes(data)
    attempt(lambda: load_recipe(path), path, RecipeError)


def test_recipe_oversized_file_is_not_read(tmp_path):
    path = tmp_path / "big.toml"
    path.write_bytes(b"# " + b"x" * (2 << 20))
    with pytest.raises(RecipeError, match="is not a recipe") as e:
        load_recipe(path)
    clear_error(e.value, path, RecipeError)


def test_override_errors_still_name_only_the_key():
    # The file is fine: an error caused by --set names the key, not the packaged recipe file.
    with pytest.raises(RecipeError) as e:
        load_recipe("digits-mlp", ["train.epochs=2.5"])
    assert str(e.value) == "train.epochs must be a positive integer (e.g. 3), got 2.5"
