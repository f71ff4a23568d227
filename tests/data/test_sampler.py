import numpy as np
import pytest

import gradus
from gradus.data import BatchSampler, RandomSampler, SequentialSampler, SubsetRandomSampler


def test_sequential():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    assert len(SequentialSampler(range(4))) == 4


def test_random_sampler_is_permutation_and_reproducible():
    s = RandomSampler(range(50), generator=np.random.default_rng(0))
    order = list(s)
    assert sorted(order) == list(range(50))
    assert order != list(range(50))
    assert list(RandomSampler(range(50), generator=0)) == list(RandomSampler(range(50), generator=0))
    gradus.manual_seed(5)
    a = list(RandomSampler(range(50)))
    gradus.manual_seed(5)
    assert list(RandomSampler(range(50))) == a


def test_random_sampler_new_order_each_epoch():
    s = RandomSampler(range(50), generator=1)
    assert list(s) != list(s)


def test_random_sampler_replacement():
    s = RandomSampler(range(5), replacement=True, num_samples=20, generator=0)
    out = list(s)
    assert len(out) == 20 == len(s)
    assert all(0 <= i < 5 for i in out)
    with pytest.raises(ValueError):
        RandomSampler(range(5), num_samples=6)


def test_subset_random_sampler():
    out = list(SubsetRandomSampler([3, 7, 9], generator=0))
    assert sorted(out) == [3, 7, 9]


def test_batch_sampler():
    assert list(BatchSampler(SequentialSampler(range(7)), 3, False)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(BatchSampler(SequentialSampler(range(7)), 3, True)) == [[0, 1, 2], [3, 4, 5]]
    assert len(BatchSampler(range(7), 3, False)) == 3
    assert len(BatchSampler(range(7), 3, True)) == 2
    with pytest.raises(ValueError):
        BatchSampler(range(7), 0, False)


def test_index_batches_match_list_batches():
    bs = BatchSampler(RandomSampler(range(23), generator=4), 5, drop_last=True)
    fast = [b.tolist() for b in bs._index_batches()]
    bs2 = BatchSampler(RandomSampler(range(23), generator=4), 5, drop_last=True)
    assert fast == list(bs2)
