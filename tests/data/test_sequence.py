"""Padding, PadCollate, BucketBatchSampler (with the DataLoader), batchify / bptt_batches and
TranslationDataset."""

import numpy as np
import pytest

import gradus
from gradus.data import (
    BucketBatchSampler,
    DataLoader,
    PadCollate,
    PaddedBatch,
    TensorDataset,
    TranslationDataset,
    Vocab,
    batchify,
    bptt_batches,
    pad_sequences,
    word_tokenize,
)

SEQS = [[5, 6, 7], [8], [], [9, 10]]


# ----------------------------------------------------------------- pad_sequences


def test_pad_sequences_time_major_default_and_batch_first():
    ids, lengths, mask = pad_sequences(SEQS)
    assert ids.shape == (3, 4) and ids.dtype == np.int64 and mask.dtype == np.bool_
    assert ids.T.tolist() == [[5, 6, 7], [8, 0, 0], [0, 0, 0], [9, 10, 0]]
    assert lengths.tolist() == [3, 1, 0, 2] and lengths.dtype == np.int64
    out = pad_sequences(SEQS, batch_first=True, padding_value=-1)
    assert isinstance(out, PaddedBatch)
    assert out.ids.tolist() == [[5, 6, 7], [8, -1, -1], [-1, -1, -1], [9, 10, -1]]
    # the mask: True = real token, mask[b, t] = t < lengths[b]
    np.testing.assert_array_equal(out.mask, np.arange(3)[None, :] < out.lengths[:, None])
    assert (out.ids[~out.mask] == -1).all()
    assert out.ids[out.mask].tolist() == [5, 6, 7, 8, 9, 10]
    assert out.ids.flags.c_contiguous and ids.flags.c_contiguous


def test_pad_sequences_left_padding_and_inputs():
    out = pad_sequences(
        [np.array([1, 2, 3]), gradus.tensor(np.array([4])), (5, 6)], batch_first=True, padding_side="left"
    )
    assert out.ids.tolist() == [[1, 2, 3], [0, 0, 4], [0, 5, 6]]
    assert out.mask.tolist() == [[True] * 3, [False, False, True], [False, True, True]]
    with pytest.raises(ValueError, match="1-D"):
        pad_sequences([np.zeros((2, 2), dtype=np.int64)])
    with pytest.raises(TypeError, match="integer"):
        pad_sequences([np.array([0.5])])
    with pytest.raises(ValueError, match="no sequences"):
        pad_sequences([])
    with pytest.raises(ValueError, match="padding_side"):
        pad_sequences(SEQS, padding_side="middle")


def test_pad_sequences_matches_torch_pad_sequence(torch):
    rng = np.random.default_rng(0)
    seqs = [rng.integers(1, 50, size=n) for n in [4, 1, 7, 3, 7]]
    for batch_first in (False, True):
        for side in ("right", "left"):
            ours = pad_sequences(seqs, batch_first=batch_first, padding_value=0, padding_side=side).ids
            theirs = torch.nn.utils.rnn.pad_sequence(
                [torch.from_numpy(s) for s in seqs],
                batch_first=batch_first,
                padding_value=0,
                padding_side=side,
            )
            np.testing.assert_array_equal(ours, theirs.numpy())


# ----------------------------------------------------------------- PadCollate


def test_pad_collate_plain_sequences_tensors():
    ids, lengths, mask = PadCollate()(SEQS)
    assert isinstance(ids, gradus.Tensor) and ids.dtype == gradus.int64 and tuple(ids.shape) == (4, 3)
    assert mask.dtype == gradus.bool and lengths.numpy().tolist() == [3, 1, 0, 2]
    assert ids.numpy().tolist()[1] == [8, 0, 0]


def test_pad_collate_fields():
    batch = [(np.array([1, 2]), 1, "a"), (np.array([3]), 0, "b")]
    seq, labels, names = PadCollate(pad_id=9, batch_first=False)(batch)
    assert seq.ids.numpy().tolist() == [[1, 3], [2, 9]]
    assert labels.numpy().tolist() == [1, 0] and names == ["a", "b"]
    src, tgt = PadCollate(as_tensors=False)([([1, 2, 3], [4]), ([5], [6, 7])])
    assert src.ids.tolist() == [[1, 2, 3], [5, 0, 0]] and tgt.ids.tolist() == [[4, 0], [6, 7]]
    d = PadCollate(as_tensors=False)([{"x": [1], "y": 3}, {"x": [2, 2], "y": 4}])
    assert d["x"].lengths.tolist() == [1, 2] and d["y"].tolist() == [3, 4]
    with pytest.raises(ValueError, match="pad_id is None"):
        PadCollate(pad_id=None)
    with pytest.raises(ValueError, match="empty"):
        PadCollate()([])
    with pytest.raises(TypeError, match="sample must be"):
        PadCollate()([object()])


# ----------------------------------------------------------------- BucketBatchSampler


def _lengths(n, seed=0):
    return np.random.default_rng(seed).integers(1, 60, size=n)


@pytest.mark.parametrize("n,bs,mult", [(1, 4, 1), (10, 3, 1), (257, 16, 4), (1000, 32, 100), (64, 8, 2)])
def test_bucket_every_index_exactly_once_per_epoch(n, bs, mult):
    lengths = _lengths(n)
    sampler = BucketBatchSampler(lengths, bs, shuffle=True, seed=1, bucket_size_multiplier=mult)
    for _ in range(3):
        batches = list(sampler)
        assert len(batches) == len(sampler) == -(-n // bs)
        flat = np.concatenate([np.asarray(b) for b in batches])
        np.testing.assert_array_equal(np.sort(flat), np.arange(n))
        assert sum(len(b) < bs for b in batches) <= 1 and all(0 < len(b) <= bs for b in batches)
        for b in batches:  # sorted longest first within each batch
            assert (np.diff(lengths[b]) <= 0).all()
        assert all(isinstance(i, int) for i in batches[0])


def test_bucket_batches_are_sorted_slices_of_a_bucket():
    n, bs = 500, 10
    lengths = _lengths(n)
    # one bucket holding everything: the batches are consecutive slices of one sorted order
    batches = list(BucketBatchSampler(lengths, bs, seed=0, bucket_size_multiplier=1000))
    ordered = sorted(batches, key=lambda b: (-lengths[b[0]], -lengths[b[-1]]))
    concat = lengths[np.concatenate(ordered)]
    assert (np.diff(concat) <= 0).all()
    # buckets of k batches: the indices of each bucket (rebuilt from the same permutation) are
    # exactly the union of k of the batches
    k = 5
    sampler = BucketBatchSampler(lengths, bs, seed=np.random.default_rng(7), bucket_size_multiplier=k)
    batches = [tuple(b) for b in sampler]
    perm = np.random.default_rng(7).permutation(n)
    by_member = {i: b for b in batches for i in b}
    for start in range(0, n, bs * k):
        bucket = set(perm[start : start + bs * k].tolist())
        members = {by_member[i] for i in bucket}
        assert set().union(*members) == bucket and len(members) == k


def test_bucket_reduces_padding_and_shuffles_batches():
    lengths = _lengths(2000)
    bs = 32

    def pad_fraction(batches):
        return sum(int(lengths[b].max()) * len(b) - int(lengths[b].sum()) for b in batches) / (
            sum(int(lengths[b].max()) * len(b) for b in batches)
        )

    random_batches = np.array_split(np.random.default_rng(0).permutation(2000), 2000 // bs)
    bucketed = list(BucketBatchSampler(lengths, bs, seed=0))
    assert pad_fraction(bucketed) < 0.1 < pad_fraction(random_batches)
    s = BucketBatchSampler(lengths, bs, seed=3)
    e1, e2 = list(s), list(s)
    assert e1 != e2  # a new order every epoch
    assert list(BucketBatchSampler(lengths, bs, seed=3)) == e1  # same seed, same epochs
    gradus.manual_seed(5)
    a = list(BucketBatchSampler(lengths, bs))
    gradus.manual_seed(5)
    assert list(BucketBatchSampler(lengths, bs)) == a  # seed=None: the gradus global generator


def test_bucket_no_shuffle_drop_last_and_2d_lengths():
    lengths = np.array([3, 1, 4, 1, 5, 9, 2, 6])
    batches = list(BucketBatchSampler(lengths, 3, shuffle=False))
    assert batches == [[5, 7, 4], [2, 0, 6], [1, 3]]  # globally sorted, longest first, stable
    assert list(BucketBatchSampler(lengths, 3, shuffle=False, descending=False)) == [
        [1, 3, 6],
        [0, 2, 4],
        [7, 5],
    ]
    s = BucketBatchSampler(lengths, 3, shuffle=False, drop_last=True)
    assert list(s) == [[5, 7, 4], [2, 0, 6]] and len(s) == 2
    two = np.array([[2, 5], [2, 7], [1, 9], [3, 1]])  # by column 0, ties by column 1
    assert list(BucketBatchSampler(two, 4, shuffle=False)) == [[3, 1, 0, 2]]
    for bad, err in [([], ValueError), ([1.5, 2.0], TypeError), (np.zeros((2, 2, 2), int), ValueError)]:
        with pytest.raises(err):
            BucketBatchSampler(bad, 2)
    with pytest.raises(ValueError, match="batch_size"):
        BucketBatchSampler(lengths, 0)
    with pytest.raises(ValueError, match="bucket_size_multiplier"):
        BucketBatchSampler(lengths, 2, bucket_size_multiplier=0)


def test_bucket_sampler_with_dataloader_fast_and_collate_paths():
    n = 103
    lengths = _lengths(n)
    data = np.arange(n, dtype=np.int64) * 10
    # fast path (get_batch): TensorDataset, default collate
    sampler = BucketBatchSampler(lengths, 8, seed=0)
    loader = DataLoader(TensorDataset(data), batch_sampler=sampler)
    assert len(loader) == len(sampler) == 13
    seen = np.concatenate([xb.numpy() for (xb,) in loader])
    np.testing.assert_array_equal(np.sort(seen), data)
    # per-sample path with PadCollate on variable-length sequences
    seqs = [np.full(int(L), i, dtype=np.int64) for i, L in enumerate(lengths)]
    loader = DataLoader(seqs, batch_sampler=BucketBatchSampler(lengths, 8, seed=0), collate_fn=PadCollate())
    total = 0
    for ids, lens, mask in loader:
        ids, lens, mask = ids.numpy(), lens.numpy(), mask.numpy()
        assert ids.shape[1] == lens.max() and (mask.sum(1) == lens).all() and (ids[~mask] == 0).all()
        assert (np.diff(lens) <= 0).all()
        total += len(lens)
    assert total == n
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(seqs, batch_size=4, batch_sampler=sampler)


# ----------------------------------------------------------------- truncated BPTT


def test_batchify_and_bptt_batches():
    data = np.arange(103)
    s = batchify(data, 4)
    assert s.shape == (4, 25) and s.dtype == np.int64
    np.testing.assert_array_equal(s.reshape(-1), np.arange(100))  # 3 tokens trimmed; rows contiguous
    np.testing.assert_array_equal(batchify(gradus.tensor(data), 4), s)
    windows = list(bptt_batches(s, 10))
    assert [x.shape for x, _ in windows] == [(4, 10), (4, 10), (4, 4)]  # ceil(24 / 10) windows
    for x, y in windows:
        np.testing.assert_array_equal(y, x + 1)  # next-token targets
    np.testing.assert_array_equal(np.concatenate([x for x, _ in windows], axis=1), s[:, :-1])
    tm = list(bptt_batches(s, 10, batch_first=False))
    assert tm[0][0].shape == (10, 4) and tm[0][0].flags.c_contiguous
    np.testing.assert_array_equal(tm[-1][1], windows[-1][1].T)
    with pytest.raises(ValueError, match="1-D"):
        batchify(s, 2)
    with pytest.raises(ValueError, match="too short"):
        batchify(np.arange(5), 4)
    with pytest.raises(ValueError, match="batch_size"):
        batchify(data, 0)
    with pytest.raises(ValueError, match="bptt"):
        next(bptt_batches(s, 0))
    with pytest.raises(ValueError, match="batchify"):
        next(bptt_batches(data, 3))


# ----------------------------------------------------------------- TranslationDataset

PAIRS = [
    ("Ein Hund läuft.", "A dog runs."),
    ("Ein Mann läuft.", "A man runs."),
    ("Zwei Hunde spielen.", "Two dogs play."),
]


def test_translation_dataset_from_pairs():
    ds = TranslationDataset.from_pairs(PAIRS, lambda s: word_tokenize(s, lower=True))
    assert len(ds) == 3 and ds.src_vocab.itos[:4] == ["<pad>", "<sos>", "<eos>", "<unk>"]
    src, tgt = ds[0]
    assert src.dtype == np.int64 and tgt.dtype == np.int64
    assert src[-1] == ds.src_vocab.eos_id and src[0] != ds.src_vocab.sos_id
    assert tgt[0] == ds.tgt_vocab.sos_id and tgt[-1] == ds.tgt_vocab.eos_id
    assert ds.src_vocab.decode(src) == "ein hund läuft ."
    assert ds.tgt_vocab.decode(tgt) == "a dog runs ."
    assert ds.src_lengths.tolist() == [5, 5, 5] and ds.tgt_lengths.tolist() == [6, 6, 6]
    assert ds.lengths.shape == (3, 2)
    # the validation split reuses the training vocabularies; new words become <unk>
    val = TranslationDataset(
        [("Ein Pferd läuft.", "A horse runs.")],
        ds.src_vocab,
        ds.tgt_vocab,
        ds.src_tokenizer,
        ds.tgt_tokenizer,
        src_sos=True,
    )
    vs, vt = val[0]
    assert vs[0] == ds.src_vocab.sos_id and ds.src_vocab.unk_id in vs.tolist()
    assert ds.tgt_vocab.decode(vt) == "a <unk> runs ."
    with pytest.raises(TypeError, match="pair"):
        TranslationDataset([("only one",)], ds.src_vocab, ds.tgt_vocab)


def test_translation_dataset_in_a_loader():
    ds = TranslationDataset.from_pairs(PAIRS * 5, min_freq=2)
    vocab: Vocab = ds.tgt_vocab
    loader = DataLoader(
        ds,
        batch_sampler=BucketBatchSampler(ds.lengths, 4, seed=0),
        collate_fn=PadCollate(pad_id=vocab.pad_id),
    )
    n = 0
    for src, tgt in loader:
        assert src.ids.numpy().shape[0] == tgt.ids.numpy().shape[0] == len(src.lengths.numpy())
        teacher_in, teacher_out = tgt.ids.numpy()[:, :-1], tgt.ids.numpy()[:, 1:]
        assert (teacher_in[:, 0] == vocab.sos_id).all() and teacher_out.shape == teacher_in.shape
        n += src.ids.numpy().shape[0]
    assert n == 15
