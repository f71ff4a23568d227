"""gradus.data.stratified_split: the one stratified split (digits, recipe test splits)."""
import numpy as np
import pytest

from gradus.data import stratified_split


def _reference(y, fraction, seed):
    """The split the digits and the recipe datasets always used (recipe results depend on it)."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        k = int(round(len(idx) * fraction))
        test.append(idx[:k])
        train.append(idx[k:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


@pytest.mark.parametrize("seed", [0, 1, 7])
@pytest.mark.parametrize("fraction", [0.1, 0.2, 0.5])
def test_fraction_split_is_the_established_one(seed, fraction):
    y = np.random.default_rng(seed).integers(0, 4, 203)
    got = stratified_split(y, fraction, seed)
    for a, b in zip(got, _reference(y, fraction, seed)):
        np.testing.assert_array_equal(a, b)


def test_parts_are_sorted_disjoint_complete_and_stratified():
    y = np.repeat(np.arange(3), [50, 100, 150])
    train, held = stratified_split(y, 0.2, seed=3)
    assert train.dtype == held.dtype == np.int64
    assert np.all(np.diff(train) > 0) and np.all(np.diff(held) > 0)
    np.testing.assert_array_equal(np.sort(np.concatenate([train, held])), np.arange(300))
    assert np.bincount(y[held]).tolist() == [10, 20, 30]
    # deterministic; another seed, another split
    np.testing.assert_array_equal(stratified_split(y, 0.2, seed=3)[1], held)
    assert not np.array_equal(stratified_split(y, 0.2, seed=4)[1], held)


def test_digits_use_it():
    from gradus.data.datasets import Digits
    from gradus.data.datasets.digits import _load_all

    _, labels = _load_all()
    _, test_idx = stratified_split(labels, 0.2, 0)
    np.testing.assert_array_equal(Digits(train=False).targets, labels[test_idx])
    assert len(test_idx) == 359


def test_count_is_shared_out_in_proportion():
    y = np.repeat(np.arange(3), [50, 100, 150])
    train, held = stratified_split(y, 30, seed=0)
    assert len(held) == 30 and np.bincount(y[held]).tolist() == [5, 10, 15]
    _, held = stratified_split(y, 31, seed=0)  # quotas 5.17, 10.33, 15.5: the largest remainder wins
    assert len(held) == 31 and np.bincount(y[held]).tolist() == [5, 10, 16]
    _, held = stratified_split(np.array(["b", "a", "a", "b", "b", "a"]), 2)  # any sortable labels
    assert len(held) == 2 and sorted(np.array(["b", "a", "a", "b", "b", "a"])[held].tolist()) == ["a", "b"]


def test_a_class_with_one_sample():
    y = np.array([0, 0, 0, 0, 1])
    train, held = stratified_split(y, 0.25, seed=0)  # its share rounds to 0: it stays in training
    assert 4 in train and len(held) == 1
    with pytest.raises(ValueError, match="class 1 has a single sample.*out of the training part"):
        stratified_split(y, 0.6, seed=0)
    train, held = stratified_split(y, 3, seed=0)  # a count never takes a whole class
    assert 4 in train and len(held) == 3
    with pytest.raises(ValueError, match="keep every one of the 2 classes in training"):
        stratified_split(y, 4, seed=0)


@pytest.mark.parametrize("size, match", [
    (0.0, r"in \(0, 1\), got 0.0 \(0 holds nothing out"),
    (1.0, r"in \(0, 1\), got 1.0"),
    (-0.1, r"in \(0, 1\)"),
    (float("nan"), r"in \(0, 1\)"),
    (0, "count must be at least 1"),
    (10, "cannot hold out 10 of 10 samples: more than available"),
    (11, "cannot hold out 11 of 10 samples"),
    (0.01, "rounds to no held-out sample"),
])
def test_bad_sizes_are_explained(size, match):
    with pytest.raises(ValueError, match=match):
        stratified_split(np.repeat([0, 1], 5), size)


def test_bad_arguments_are_explained():
    with pytest.raises(TypeError, match="fraction .* or a count"):
        stratified_split([0, 1, 0, 1], True)
    with pytest.raises(TypeError, match="fraction .* or a count"):
        stratified_split([0, 1, 0, 1], "0.5")
    with pytest.raises(ValueError, match="1-D"):
        stratified_split(np.zeros((4, 2)), 0.5)
    with pytest.raises(ValueError, match="no labels"):
        stratified_split([], 0.5)


def test_digits_refuse_a_zero_test_fraction():
    from gradus.data.datasets import Digits

    with pytest.raises(ValueError, match="0 holds nothing out"):
        Digits(train=True, test_fraction=0.0)
    assert len(Digits(train=None)) == 1797  # all the samples, without a split
