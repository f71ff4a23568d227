"""The text corpora of the recurrent-network / seq2seq chapter against the real files in shared/data:
Tiny Shakespeare, Multi30k, Tatoeba fra-eng, and the sentiment sentences as sequences.

Counts are those of shared/data/README.md. A missing corpus skips locally and FAILS under CI=true.
"""

import os
import shutil
import zipfile

import numpy as np
import pytest

from gradus.data import (
    BucketBatchSampler,
    DataLoader,
    PadCollate,
    TranslationDataset,
    Vocab,
    default_collate,
    word_tokenize,
)
from gradus.data.datasets import (
    ENG_PREFIXES,
    Multi30k,
    SentimentSentences,
    TatoebaFraEng,
    TinyShakespeare,
    encode_chars,
)
from gradus.data.download import file_digest, read_zip_member
from gradus.data.errors import ChecksumError, DatasetFormatError, DatasetNotFoundError, UnsafeArchiveError

from .conftest import DEAD_MIRROR


def corpus(shared_data, folder):
    path = shared_data / folder
    if not path.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"corpus {folder!r} missing from {shared_data}: CI must provide it")
        pytest.skip(f"corpus {folder!r} not in {shared_data}")
    return shared_data


def corrupt_copy(src, dst_dir, offset=1000):
    dst_dir.mkdir(parents=True, exist_ok=True)
    dst = dst_dir / src.name
    shutil.copyfile(src, dst)
    data = bytearray(dst.read_bytes())
    data[offset] ^= 0x01
    dst.write_bytes(bytes(data))
    return dst


# ----------------------------------------------------------------- Tiny Shakespeare


@pytest.fixture(scope="module")
def shakespeare(shared_data):
    root = corpus(shared_data, "tinyshakespeare")
    return TinyShakespeare(root=root, download=False, seq_len=64)


def test_tinyshakespeare_counts_vocab_and_split(shakespeare, shared_data):
    ds = shakespeare
    assert len(ds.text) == 1_115_394 and ds.text.count("\n") == 40_000
    assert len(ds.vocab) == ds.vocab_size == 65 and ds.vocab.specials == []
    assert ds.vocab.itos == sorted(set(ds.text))  # nanoGPT's chars = sorted(list(set(data)))
    assert ds.vocab.itos[:2] == ["\n", " "] and ds.vocab.itos[-1] == "z"
    assert ds.cut == 1_003_854 == int(1_115_394 * 0.9)
    assert ds.data.dtype == np.int64 and len(ds.data) == 1_003_854
    assert ds.decode(ds.data[:200]) == ds.text[:200]
    val = TinyShakespeare(root=shared_data, split="val", download=False, seq_len=64)
    assert len(val.data) == 111_540 and val.decode(val.data) == ds.text[ds.cut :]
    assert val.vocab == ds.vocab  # built on the full text, whatever the split
    full = TinyShakespeare(root=shared_data, split="all", download=False)
    np.testing.assert_array_equal(full.data, np.concatenate([ds.data, val.data]))
    np.testing.assert_array_equal(full.data[:5000], ds.vocab.encode(ds.text[:5000], as_array=True))


def test_tinyshakespeare_items_batches_and_loader(shakespeare, shared_data):
    ds = shakespeare
    T = 64
    assert len(ds) == (1_003_854 - 1 - T) // T + 1
    x, y = ds[3]
    assert x.shape == y.shape == (T,) and x.dtype == np.int64
    np.testing.assert_array_equal(x, ds.data[3 * T : 4 * T])
    np.testing.assert_array_equal(y, ds.data[3 * T + 1 : 4 * T + 1])  # y = x shifted by one
    np.testing.assert_array_equal(ds[-1][1], ds[len(ds) - 1][1])
    with pytest.raises(IndexError):
        ds[len(ds)]
    idx = np.array([0, 17, len(ds) - 1, 5])
    X, Y = ds.get_batch(idx)
    assert X.shape == Y.shape == (4, T)
    ref = default_collate([ds[i] for i in idx.tolist()])
    np.testing.assert_array_equal(X, ref[0].numpy())
    np.testing.assert_array_equal(Y, ref[1].numpy())
    np.testing.assert_array_equal(X[:, 1:], Y[:, :-1])
    fast = [tuple(t.numpy() for t in b) for b in DataLoader(ds, batch_size=256, shuffle=True, generator=3)]
    slow = [
        tuple(t.numpy() for t in b)
        for b in DataLoader(
            ds, batch_size=256, shuffle=True, generator=3, collate_fn=default_collate.__call__
        )
    ]
    assert len(fast) == len(slow) == -(-len(ds) // 256)
    for a, b in zip(fast, slow):
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
    overlapping = TinyShakespeare(root=shared_data, download=False, seq_len=8, stride=1)
    assert len(overlapping) == 1_003_854 - 8
    np.testing.assert_array_equal(overlapping[5][0], ds.data[5:13])
    with pytest.raises(IndexError):
        ds.get_batch(np.array([len(ds)]))


def test_tinyshakespeare_bptt_streams(shakespeare):
    s = shakespeare.streams(32)
    T_total = 1_003_854 // 32
    assert s.shape == (32, T_total)
    np.testing.assert_array_equal(s[1, :10], shakespeare.data[T_total : T_total + 10])
    windows = list(shakespeare.bptt_batches(32, bptt=35))
    assert len(windows) == -(-(T_total - 1) // 35)
    (x0, y0), (x1, _) = windows[0], windows[1]
    assert x0.shape == (32, 35)
    np.testing.assert_array_equal(x1[:, 0], y0[:, -1])  # the next window continues every row
    assert shakespeare.decode(x0[0]) == shakespeare.text[:35]


def test_tinyshakespeare_encode_and_errors(shakespeare, shared_data, tmp_path):
    assert shakespeare.decode(shakespeare.encode("ROMEO:\nO, she doth")) == "ROMEO:\nO, she doth"
    with pytest.raises(KeyError, match="not in the vocabulary"):
        shakespeare.encode("café")  # 'é' does not occur in the corpus and there is no <unk>
    with_unk = Vocab.build(["abc"], specials=["<unk>"], sep="")
    assert encode_chars("abz", with_unk).tolist() == [1, 2, 0]
    assert encode_chars("", with_unk).shape == (0,)
    for kwargs, match in [
        ({"split": "test"}, "split"),
        ({"val_fraction": 1.0}, "val_fraction"),
        ({"seq_len": 0}, "seq_len"),
        ({"stride": 0}, "stride"),
        ({"split": "val", "val_fraction": 0.0}, "too few"),
    ]:
        with pytest.raises(ValueError, match=match):
            TinyShakespeare(root=shared_data, download=False, **kwargs)
    with pytest.raises(DatasetNotFoundError) as e:
        TinyShakespeare(root=tmp_path, download=False)
    assert str(tmp_path / "tinyshakespeare" / "input.txt") in str(e.value)


def test_tinyshakespeare_checksum_and_verified_download(shared_data, tmp_path):
    src = corpus(shared_data, "tinyshakespeare") / "tinyshakespeare" / "input.txt"
    assert file_digest(src) == TinyShakespeare.sha256
    corrupt_copy(src, tmp_path / "bad" / "tinyshakespeare")
    with pytest.raises(ChecksumError, match="input.txt"):
        TinyShakespeare(root=tmp_path / "bad", download=False)

    # "downloading" from a local mirror: the good copy is verified and moved into place ...
    class FromMirror(TinyShakespeare):
        mirrors = (DEAD_MIRROR, src.as_uri())

    ds = FromMirror(root=tmp_path / "fresh")
    assert (tmp_path / "fresh" / "tinyshakespeare" / "input.txt").is_file() and len(ds.text) == 1_115_394

    # ... and a mirror serving corrupt bytes is refused, leaving nothing behind
    bad = tmp_path / "bad" / "tinyshakespeare" / "input.txt"

    class CorruptMirror(TinyShakespeare):
        mirrors = (bad.as_uri(),)

    with pytest.raises(ChecksumError, match="sha256 mismatch"):
        CorruptMirror(root=tmp_path / "other")
    assert not any((tmp_path / "other" / "tinyshakespeare").iterdir())


# ----------------------------------------------------------------- Multi30k


@pytest.fixture(scope="module")
def multi30k_root(shared_data):
    return corpus(shared_data, "multi30k")


@pytest.mark.parametrize("split,n", [("train", 29000), ("val", 1014), ("test2016", 1000)])
def test_multi30k_counts_all_languages(multi30k_root, split, n):
    for pair in [("de", "en"), ("en", "fr"), ("cs", "de")]:
        ds = Multi30k(root=multi30k_root, split=split, language_pair=pair, download=False)
        assert len(ds) == n == len(ds.src) == len(ds.tgt)
        src, tgt = ds[0]
        assert isinstance(src, str) and isinstance(tgt, str) and src and tgt
        assert all(s.strip() and t.strip() for s, t in ds)  # no blank lines, no line ends left
        assert not any("\n" in s or "\r" in s for s in ds.src)


def test_multi30k_content_aliases_and_errors(multi30k_root):
    ds = Multi30k(root=multi30k_root, download=False)
    assert ds.language_pair == ("de", "en")
    assert ds[0] == (
        "Zwei junge weiße Männer sind im Freien in der Nähe vieler Büsche.",
        "Two young, White males are outside near many bushes.",
    )
    assert Multi30k(root=multi30k_root, split="valid", download=False)[0][1] == (
        "A group of men are loading cotton onto a truck"
    )
    test = Multi30k(root=multi30k_root, split="test", language_pair=("en", "de"), download=False)
    assert test.split == "test2016" and test[0][0] == "A man in an orange hat starring at something."
    with pytest.raises(ValueError, match="split"):
        Multi30k(root=multi30k_root, split="test2017")
    for bad in [("de", "de"), ("de", "jp"), ("de",)]:
        with pytest.raises(ValueError, match="language_pair"):
            Multi30k(root=multi30k_root, language_pair=bad)


def test_multi30k_checksum_missing_and_misaligned(multi30k_root, tmp_path):
    folder = tmp_path / "bad" / "multi30k"
    for name in ("val.de.gz", "val.en.gz"):
        shutil.copyfile(
            multi30k_root / "multi30k" / name,
            folder / name if folder.is_dir() else (folder.mkdir(parents=True) or folder / name),
        )
    assert len(Multi30k(root=tmp_path / "bad", split="val", download=False)) == 1014
    corrupt_copy(multi30k_root / "multi30k" / "val.en.gz", folder, offset=500)
    with pytest.raises(ChecksumError, match="val.en.gz"):
        Multi30k(root=tmp_path / "bad", split="val", download=False)
    with pytest.raises(DatasetNotFoundError, match="train.de.gz"):
        Multi30k(root=tmp_path / "bad", split="train", download=False)

    import gzip

    class Unchecked(Multi30k):
        sha256 = {}

    (folder / "val.en.gz").write_bytes(gzip.compress(b"one\ntwo\n"))
    with pytest.raises(DatasetFormatError, match="not aligned"):
        Unchecked(root=tmp_path / "bad", split="val", download=False)
    (folder / "val.en.gz").write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(DatasetFormatError, match="gzip"):
        Unchecked(root=tmp_path / "bad", split="val", download=False)


def test_multi30k_translation_pipeline(multi30k_root):
    def tok(s):
        return word_tokenize(s, lower=True)

    train = TranslationDataset.from_pairs(Multi30k(root=multi30k_root, download=False), tok, min_freq=2)
    assert len(train) == 29000
    # measured with word_tokenize(lower=True), min_freq=2, the 4 specials included
    assert len(train.src_vocab) == 7882 and len(train.tgt_vocab) == 5898
    val = TranslationDataset(
        Multi30k(root=multi30k_root, split="val", download=False), train.src_vocab, train.tgt_vocab, tok, tok
    )
    unk_rate = np.mean(np.concatenate(val.tgt) == train.tgt_vocab.unk_id)
    assert 0 < unk_rate < 0.03
    loader = DataLoader(
        val,
        batch_sampler=BucketBatchSampler(val.lengths, 64, shuffle=False),
        collate_fn=PadCollate(train.tgt_vocab.pad_id),
    )
    batches = list(loader)
    assert sum(b[0].ids.shape[0] for b in batches) == 1014
    src, tgt = batches[0]
    i = int(np.argmax(src.lengths.numpy()))
    assert train.tgt_vocab.decode(tgt.ids.numpy()[i]).count(" ") > 3


# ----------------------------------------------------------------- Tatoeba fra-eng


@pytest.fixture(scope="module")
def tatoeba_root(shared_data):
    return corpus(shared_data, "fra-eng")


@pytest.fixture(scope="module")
def tatoeba_raw(tatoeba_root):
    return TatoebaFraEng(root=tatoeba_root, download=False)


def test_tatoeba_pairs(tatoeba_root, tatoeba_raw):
    ds = tatoeba_raw
    assert len(ds) == ds.n_total == 142_787
    assert ds[0] == ("Go.", "Va !") and ds[2] == ("Run!", "Courez\u202f!")
    assert all(isinstance(en, str) and isinstance(fr, str) and en and fr for en, fr in ds.pairs)
    assert len(ds[-1][0]) > 100  # ordered from short to long sentences
    rev = TatoebaFraEng(root=tatoeba_root, reverse=True, download=False)
    assert rev[0] == ("Va !", "Go.") and rev.pairs[0] == ds.pairs[0]


def test_tatoeba_tutorial_normalisation_and_filters(tatoeba_root, tatoeba_raw):
    tut = TatoebaFraEng(
        root=tatoeba_root, normalize=True, max_length=10, prefixes=ENG_PREFIXES, reverse=True, download=False
    )
    assert len(tut) == 10_922  # this 2017 snapshot; the tutorial's own eng-fra.txt gives a similar number
    for fr, en in tut:
        assert en.startswith(ENG_PREFIXES)
        assert len(fr.split(" ")) < 10 and len(en.split(" ")) < 10
        assert fr == fr.lower() and all(c.isascii() for c in fr)
    raw = tatoeba_raw
    from gradus.data import normalize_string

    assert tut.pairs[1] == ("i m ok .", "je vais bien .") and tut[1] == ("je vais bien .", "i m ok .")
    # the same filter written out on the first pairs, with normalize_string pair by pair
    head = [(normalize_string(en), normalize_string(fr)) for en, fr in raw.pairs[:20000]]
    expected = [
        (en, fr)
        for en, fr in head
        if en.startswith(ENG_PREFIXES) and len(en.split(" ")) < 10 and len(fr.split(" ")) < 10
    ]
    assert len(expected) > 500 and tut.pairs[: len(expected)] == expected
    short = TatoebaFraEng(root=tatoeba_root, max_length=3, download=False)
    assert 0 < len(short) < len(raw) and all(len(en.split()) < 3 for en, _ in short.pairs)
    one = TatoebaFraEng(root=tatoeba_root, prefixes="I am ", download=False)
    assert len(one) > 0 and all(en.startswith("I am ") for en, _ in one.pairs)
    with pytest.raises(ValueError, match="max_length"):
        TatoebaFraEng(root=tatoeba_root, max_length=0)


def test_tatoeba_checksum_and_safe_zip_reading(tatoeba_root, tmp_path):
    src = tatoeba_root / "fra-eng" / "fra-eng.zip"
    corrupt_copy(src, tmp_path / "bad" / "fra-eng", offset=12345)
    with pytest.raises(ChecksumError, match="fra-eng.zip"):
        TatoebaFraEng(root=tmp_path / "bad", download=False)
    with pytest.raises(DatasetNotFoundError, match="fra-eng.zip"):
        TatoebaFraEng(root=tmp_path / "none", download=False)
    # read_zip_member reads by base name in memory: a hostile member name writes nothing anywhere
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../../outside/fra.txt", "Hi.\tSalut.\n")
        zf.writestr("big.txt", "x" * 5000)
    before = set(tmp_path.rglob("*"))
    assert read_zip_member(evil, "fra.txt") == b"Hi.\tSalut.\n"
    assert set(tmp_path.rglob("*")) == before
    with pytest.raises(UnsafeArchiveError, match="limit"):
        read_zip_member(evil, "big.txt", max_bytes=1000)
    with pytest.raises(DatasetNotFoundError, match="no member"):
        read_zip_member(evil, "missing.txt")
    assert read_zip_member(src, "fra.txt")[:8] == b"Go.\tVa !"

    class Unchecked(TatoebaFraEng):
        sha256 = None

    folder = tmp_path / "fmt" / "fra-eng"
    folder.mkdir(parents=True)
    with zipfile.ZipFile(folder / "fra-eng.zip", "w") as zf:
        zf.writestr("fra.txt", "Hi.\tSalut.\tCC-BY attribution\nno tab here\n")
    with pytest.raises(DatasetFormatError, match=":2:"):
        Unchecked(root=tmp_path / "fmt", download=False)


# ----------------------------------------------------------------- sentiment sentences as sequences


def test_sentiment_sentences_feed_a_sequence_model(shared_data):
    root = corpus(shared_data, "sentiment-labelled-sentences")
    raw = SentimentSentences(root=root, download=False)
    assert len(raw.texts) == 3000 and isinstance(raw.texts[0], str) and raw.labels.dtype == np.int64

    def tok(s):
        return word_tokenize(s, lower=True)

    vocab = Vocab.build((tok(t) for t in raw.texts), min_freq=2)
    ds = SentimentSentences(
        root=root, download=False, transform=lambda s: vocab.encode(tok(s), as_array=True)
    )
    ids, label = ds[0]
    assert ids.dtype == np.int64 and label in (0, 1) and vocab.decode(ids).split()[0] == tok(raw.texts[0])[0]
    lengths = np.array([len(tok(t)) for t in raw.texts])
    assert lengths.min() >= 1
    loader = DataLoader(
        ds, batch_sampler=BucketBatchSampler(lengths, 50, seed=0), collate_fn=PadCollate(vocab.pad_id)
    )
    seen = 0
    for (tokens, lens, mask), labels in loader:
        assert tokens.shape[0] == labels.shape[0] and labels.dtype.name == "int64"
        assert (mask.numpy().sum(1) == lens.numpy()).all()
        seen += labels.shape[0]
    assert seen == 3000
