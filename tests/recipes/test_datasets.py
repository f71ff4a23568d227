import numpy as np
import pytest

from gradus.data import DataLoader, TensorDataset
from gradus.recipes.datasets import DATASETS, AugmentedImages, build_dataset, dataset_kwargs, split_validation

CONTRACT = {"digits", "mnist", "cifar10", "spam", "sentiment", "xor", "and", "or", "spiral", "moons", "blobs"}


def test_registry_has_the_contract_names():
    assert CONTRACT <= set(DATASETS)
    assert {"flatten", "normalize", "augment", "subset", "root"} <= set(dataset_kwargs("mnist"))


def test_digits_bundle():
    b = build_dataset("digits")
    assert (len(b.train), len(b.test), b.num_classes, b.input_shape) == (1438, 359, 10, (64,))
    assert b.val is None and b.info["image_shape"] == (8, 8) and len(b.info["classes"]) == 10
    X, y = b.train.arrays
    assert X.dtype == np.float32 and y.dtype == np.int64 and 0 <= X.min() and X.max() <= 1
    assert hasattr(b.train, "get_batch")  # the DataLoader fast path applies
    b2 = build_dataset("digits", flatten=False, standardize=True)
    X2 = b2.train.arrays[0]
    assert X2.shape[1:] == (1, 8, 8) and b2.input_shape == (1, 8, 8)
    flat = X2.reshape(len(X2), -1)
    assert np.abs(flat.mean(axis=0)).max() < 1e-4
    assert np.allclose(flat.std(axis=0)[flat.std(axis=0) > 0], 1, atol=1e-3)


def test_synthetic_sets():
    x = build_dataset("xor")
    assert x.train.arrays[1].tolist() == [0, 1, 1, 0] and x.test is x.train and x.input_shape == (2,)
    bip = build_dataset("and", encoding="bipolar")
    assert set(bip.train.arrays[0].ravel().tolist()) == {-1.0, 1.0}
    assert bip.train.arrays[1].tolist() == [0, 0, 0, 1]
    s = build_dataset("spiral", n_per_class=50, n_classes=4)
    assert len(s.train) + len(s.test) == 200 and s.num_classes == 4
    # stratified: every class in both parts
    assert set(s.test.arrays[1].tolist()) == {0, 1, 2, 3}
    assert build_dataset("moons", n=100).num_classes == 2
    assert build_dataset("blobs", n=90, centers=3).num_classes == 3


def test_unknown_dataset_suggests():
    with pytest.raises(KeyError, match="did you mean 'digits'"):
        build_dataset("digit")


def test_split_validation_is_seeded_and_disjoint():
    X = np.arange(100, dtype=np.float32)[:, None]
    ds = TensorDataset(X, np.arange(100))
    tr, va = split_validation(ds, 0.2, seed=3)
    tr2, va2 = split_validation(ds, 0.2, seed=3)
    assert len(va) == 20 and len(tr) == 80
    assert va.arrays[1].tolist() == va2.arrays[1].tolist()
    assert not set(tr.arrays[1].tolist()) & set(va.arrays[1].tolist())
    assert split_validation(ds, 0.2, seed=4)[1].arrays[1].tolist() != va.arrays[1].tolist()


def test_augmented_images_batches_through_the_loader():
    X = np.zeros((10, 1, 4, 4), np.float32)
    ds = AugmentedImages(X, np.arange(10), lambda b: b + 1.0, "plus-one")
    Xb, yb = next(iter(DataLoader(ds, batch_size=4)))
    assert Xb.shape == (4, 1, 4, 4) and float(Xb.numpy().min()) == 1.0 and yb.numpy().tolist() == [0, 1, 2, 3]
    assert ds[3][0].shape == (1, 4, 4)


def test_mnist(shared_data):
    b = build_dataset("mnist", root=shared_data, subset=500, test_subset=100)
    assert (len(b.train), len(b.test), b.input_shape) == (500, 100, (784,))
    X = b.train.arrays[0]
    assert X.dtype == np.float32 and X.max() <= 1.0
    img = build_dataset("mnist", root=shared_data, subset=20, test_subset=10, flatten=False,
                        augment="elastic")
    Xb, yb = img.train.get_batch(np.arange(4))
    assert Xb.shape == (4, 1, 28, 28) and not np.array_equal(Xb, img.train.X[:4])


def test_mnist_augmentations_fill_with_the_background(shared_data):
    from gradus.recipes.datasets import _mnist_augment

    """Pixels shifted in from outside the image get the value of a blank pixel after
    standardisation ((0 - 0.1307) / 0.3081), not 0 (which is grey there)."""
    for kind in ("affine", "elastic", "affine+elastic"):
        b = build_dataset("mnist", root=shared_data, subset=32, test_subset=10, flatten=False,
                          standardize=True, augment=kind)
        Xb, _ = b.train.get_batch(np.arange(32))
        background = float(b.train.X.min())
        assert abs(background + 0.4242) < 1e-3 and not np.array_equal(Xb, b.train.X)
        assert float(Xb.min()) >= background - 1e-5
        blank = np.full((4, 1, 28, 28), background, np.float32)  # stays blank: nothing grey comes in
        np.testing.assert_allclose(_mnist_augment(kind, background)(blank), blank, atol=1e-5)
        assert repr(b.train).endswith(f"augment={kind!r})")
    with pytest.raises(ValueError, match="augment must be one of"):
        build_dataset("mnist", root=shared_data, subset=32, augment="rotate")


@pytest.mark.filterwarnings("ignore:CIFAR10")
def test_cifar10(shared_data):
    b = build_dataset("cifar10", root=shared_data, subset=100, augment="crop_flip")
    Xb, yb = b.train.get_batch(np.arange(8))
    assert Xb.shape == (8, 3, 32, 32) and Xb.dtype == np.float32 and b.input_shape == (3, 32, 32)
    assert abs(float(b.test.arrays[0].mean())) < 0.3  # standardised per channel


def test_spam_bag_of_words(shared_data):
    b = build_dataset("spam", root=shared_data, max_features=300)
    assert b.input_shape == (300,) and b.num_classes == 2 and len(b.train) + len(b.test) == 5574
    assert len(b.info["feature_names"]) == 300
    # stratified split: the spam share is the same on both sides
    assert abs(b.train.arrays[1].mean() - b.test.arrays[1].mean()) < 0.01
