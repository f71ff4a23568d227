"""gradus.data.mlm: BERT's masked-LM corruption statistics (15% selected, 80/10/10) and the
next-sentence pairs (50% IsNext, packing, segment ids, truncation, padding)."""
import numpy as np
import pytest

from gradus.data.mlm import IGNORE_INDEX, NextSentencePairs, mask_tokens, next_sentence_pairs

PAD, CLS, SEP, MASK, V = 0, 2, 3, 4, 1000


def _batch(B=400, T=128, seed=0):
    """[CLS] w ... w [SEP] [PAD]...: words in 5..V-1, random lengths."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(5, V, (B, T))
    lengths = rng.integers(T // 2, T + 1, B)
    ids[:, 0] = CLS
    ids[np.arange(B), lengths - 1] = SEP
    ids[np.arange(T)[None, :] >= lengths[:, None]] = PAD
    return ids


def test_masking_statistics_on_a_large_batch():
    ids = _batch()
    x, labels = mask_tokens(ids, [PAD, CLS, SEP], V, MASK, generator=np.random.default_rng(1))
    eligible = ~np.isin(ids, [PAD, CLS, SEP])
    selected = labels != IGNORE_INDEX
    n = selected.sum()
    assert abs(n / eligible.sum() - 0.15) < 0.005                 # ~38k eligible: std 0.0018
    assert not (selected & ~eligible).any()                        # specials and padding never selected
    np.testing.assert_array_equal(labels[selected], ids[selected])  # the original ids
    assert (labels[~selected] == -100).all()
    np.testing.assert_array_equal(x[~selected], ids[~selected])      # nothing else changes
    masked = (x == MASK) & selected
    unchanged = (x == ids) & selected
    random = selected & ~masked & ~unchanged
    assert abs(masked.sum() / n - 0.8) < 0.015
    # a random id equal to the original (1/V) counts as unchanged: 0.1 + 0.1/V
    assert abs(unchanged.sum() / n - 0.1) < 0.012
    assert abs(random.sum() / n - 0.1) < 0.012
    assert x.dtype == labels.dtype == np.int64 and x.shape == ids.shape
    r = x[random]
    # ~570 uniform draws from 0..V-1: spread over the vocabulary (mean (V-1)/2, std ~12)
    assert r.min() >= 0 and r.max() < V and abs(r.mean() - (V - 1) / 2) < 60 and len(np.unique(r)) > 300


def test_bool_special_mask_and_reproducibility():
    ids = _batch(50, 40, seed=3)
    special = np.isin(ids, [PAD, CLS, SEP])
    a = mask_tokens(ids, special, V, MASK, generator=np.random.default_rng(7))
    b = mask_tokens(ids, [PAD, CLS, SEP], V, MASK, generator=np.random.default_rng(7))
    c = mask_tokens(ids, special, V, MASK, generator=7)
    d = mask_tokens(ids, special, V, MASK, generator=np.random.default_rng(8))
    for u, w in zip(a, b):
        np.testing.assert_array_equal(u, w)
    for u, w in zip(a, c):
        np.testing.assert_array_equal(u, w)
    assert not np.array_equal(a[1], d[1])
    before = ids.copy()
    mask_tokens(ids, special, V, MASK, generator=0)
    np.testing.assert_array_equal(ids, before)                      # the input is not modified


def test_probability_zero_and_one():
    ids = _batch(20, 30)
    _, labels = mask_tokens(ids, [PAD, CLS, SEP], V, MASK, mlm_probability=0.0, generator=0)
    assert (labels == -100).all()
    _, labels = mask_tokens(ids, [PAD, CLS, SEP], V, MASK, mlm_probability=1.0, generator=0)
    np.testing.assert_array_equal(labels != -100, ~np.isin(ids, [PAD, CLS, SEP]))


def test_mask_tokens_errors_name_the_bad_values():
    ids = _batch(2, 8)
    with pytest.raises(ValueError, match=r"mask_tokens: mlm_probability must be in \[0, 1\], got 1.5"):
        mask_tokens(ids, [0], V, MASK, mlm_probability=1.5)
    with pytest.raises(ValueError, match=r"mask_token_id < vocab_size, got vocab_size=4, mask_token_id=4"):
        mask_tokens(ids, [0], 4, 4)
    with pytest.raises(ValueError, match=r"must have input_ids' shape \(2, 8\), got \(2, 7\)"):
        mask_tokens(ids, np.zeros((2, 7), bool), V, MASK)
    with pytest.raises(TypeError, match="mask_tokens: input_ids must hold integer ids, got dtype float"):
        mask_tokens(ids.astype(float), [0], V, MASK)


def _docs(n_docs=300, seed=0):
    """Document d's sentence i is [d*1000 + i*10 + k for k < len]: every token says where it is from."""
    rng = np.random.default_rng(seed)
    return [[[d * 1000 + i * 10 + k + 5 for k in range(rng.integers(1, 8))]
             for i in range(rng.integers(1, 6))] for d in range(n_docs)]


def _split(row, types):
    """(A, B) of a packed row, checking the [CLS] A [SEP] B [SEP] layout and the segment ids."""
    n = int((row != PAD).sum())
    assert row[0] == CLS and row[n - 1] == SEP and (row[n:] == PAD).all()
    seps = np.flatnonzero(row[:n] == SEP)
    assert len(seps) == 2
    a, b = row[1:seps[0]], row[seps[0] + 1:n - 1]
    np.testing.assert_array_equal(types[:seps[0] + 1], 0)
    np.testing.assert_array_equal(types[seps[0] + 1:n], 1)
    np.testing.assert_array_equal(types[n:], 0)
    return a, b


def test_next_sentence_pairs_half_are_next_and_formats():
    docs = _docs()
    p = next_sentence_pairs(docs, 64, CLS, SEP, PAD, generator=np.random.default_rng(0), num_pairs=4000)
    assert abs(p.next_sentence_label.mean() - 0.5) < 0.025          # 1 = NotNext: ~50%
    N, T = p.input_ids.shape
    assert p.token_type_ids.shape == p.attention_mask.shape == p.special_tokens_mask.shape == (N, T)
    np.testing.assert_array_equal(p.attention_mask, p.input_ids != PAD)
    np.testing.assert_array_equal(p.special_tokens_mask, np.isin(p.input_ids, [PAD, CLS, SEP]))
    assert T == int(p.attention_mask.sum(1).max())                  # padded to the longest pair
    for row, types, label in zip(p.input_ids[:500], p.token_type_ids[:500], p.next_sentence_label[:500]):
        a, b = _split(row, types)
        da, ia = divmod(int(a[0]) - 5, 1000)
        db, ib = divmod(int(b[0]) - 5, 1000)
        if label == 0:                                             # IsNext: the next sentence of A's document
            assert db == da and ib // 10 == ia // 10 + 1
            assert len(b) == len(docs[da][ia // 10 + 1])
        else:                                                      # NotNext: from another document
            assert db != da


def test_one_pair_per_start_without_num_pairs_and_seeded():
    docs = _docs(50)
    sampler = NextSentencePairs(docs, 64, CLS, SEP, PAD)
    p = sampler.sample(generator=1)
    assert len(p.input_ids) == len(sampler) == sum(len(d) - 1 for d in docs)
    firsts = sorted(int(r[1]) for r in p.input_ids)                 # each A exactly once
    assert firsts == sorted(s[0] for d in docs for s in d[:-1])
    q = sampler.sample(generator=1)
    np.testing.assert_array_equal(p.input_ids, q.input_ids)


def test_truncation_cuts_the_longer_sentence_from_its_end():
    docs = [[list(range(100, 120)), list(range(200, 205))], [list(range(300, 330))]]
    p = next_sentence_pairs(docs, 12, CLS, SEP, PAD, generator=0, num_pairs=200)
    assert p.input_ids.shape[1] == 12
    for row, types, label in zip(p.input_ids, p.token_type_ids, p.next_sentence_label):
        a, b = _split(row, types)
        assert len(a) + len(b) == 9
        if label == 0:                   # A (20 tokens) + B (5) -> 9: only the longer A is cut
            np.testing.assert_array_equal(a, range(100, 104))
            np.testing.assert_array_equal(b, range(200, 205))
        else:                            # B (30) from the other document: both cut, longest first
            np.testing.assert_array_equal(a, range(100, 100 + len(a)))
            np.testing.assert_array_equal(b, range(300, 300 + len(b)))
            assert abs(len(a) - len(b)) <= 1


def test_nsp_errors():
    with pytest.raises(ValueError, match="max_length must be an int >= 5"):
        next_sentence_pairs(_docs(3), 4, CLS, SEP)
    with pytest.raises(ValueError, match="need at least 2 non-empty documents.*got 1"):
        next_sentence_pairs([[[5, 6], [7]], [[]]], 10, CLS, SEP)
    with pytest.raises(ValueError, match="no document has 2 sentences"):
        next_sentence_pairs([[[5]], [[6]]], 10, CLS, SEP)
