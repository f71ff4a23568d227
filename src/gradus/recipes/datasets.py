"""The datasets registry of the recipes: ``DATASETS[name](**data_kwargs, root=None) -> DataBundle``.

Every builder returns ready-to-train gradus Datasets: ``TensorDataset`` of float32 features and
int64 labels wherever possible, so the DataLoader takes its batched fast path (one gather per
batch). Images are scaled to [0, 1] (``normalize``) and optionally standardised per channel.

=============  =========================================================  ==========================
name           data                                                       keyword arguments
=============  =========================================================  ==========================
``digits``     embedded 8x8 digits, 1438 train / 359 test (offline)      flatten, normalize,
                                                                          standardize
``mnist``      MNIST 60000 / 10000 (``<root>/mnist``)                     flatten, normalize,
                                                                          standardize, augment, subset
``cifar10``    CIFAR-10 (``<root>/cifar10``)                              augment, normalize, subset
``spam``       SMS Spam Collection, bag of words, 80/20 split            max_features, mode
``sentiment``  UCI sentiment sentences, bag of words, 80/20 split        source, max_features, mode
``xor`` ...    truth tables of ``xor``/``and``/``or`` (4 rows)            encoding
``spiral``     interleaved spiral arms                                    n_per_class, n_classes, noise
``moons``      two half circles                                           n, noise
``blobs``      Gaussian clusters                                          n, centers, cluster_std
=============  =========================================================  ==========================

Real datasets take ``download`` (default True: fetch missing files from the mirrors; False: fail
at once, naming the path where the files belong). The data root: the ``root`` argument
(``--data DIR`` / ``data.root``), else ``$GRADUS_DATA``, else ``~/.cache/gradus`` (see
:func:`gradus.data.download.resolve_root`).
"""
from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..data import Dataset, Subset, TensorDataset, stratified_split

__all__ = ["DataBundle", "DATASETS", "register_dataset", "build_dataset", "dataset_kwargs",
           "AugmentedImages", "split_validation"]


@dataclass
class DataBundle:
    """What a dataset builder returns.

    Attributes:
        train, val, test: Datasets yielding ``(x, y)``; ``val`` may be None (the runner can split
            one off ``train`` with ``data.val_fraction``).
        num_classes: number of classes (labels are ``0..num_classes-1``).
        input_shape: shape of one input ``x`` (``(64,)`` for flattened digits, ``(3, 32, 32)``...).
        info: extras: ``classes`` (names), ``image_shape`` ((H, W) or (C, H, W) when the inputs are
            images, also when flattened: plots use it), ``feature_names`` (bag of words), ...
    """

    train: Dataset
    val: Dataset | None
    test: Dataset
    num_classes: int
    input_shape: tuple
    info: dict[str, Any] = field(default_factory=dict)


DATASETS: dict[str, Callable[..., DataBundle]] = {}


def register_dataset(name: str) -> Callable:
    """Decorator: add a builder to :data:`DATASETS` under ``name``."""

    def deco(fn: Callable[..., DataBundle]) -> Callable[..., DataBundle]:
        DATASETS[name] = fn
        return fn

    return deco


def dataset_kwargs(name: str) -> list[str]:
    """The keyword arguments the builder ``name`` accepts (for validating recipe keys)."""
    fn = DATASETS[name]
    return [p.name for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]


def build_dataset(name: str, root: Any = None, **kwargs: Any) -> DataBundle:
    """``DATASETS[name](**kwargs, root=root)`` with a clear error for unknown names."""
    if name not in DATASETS:
        import difflib

        close = difflib.get_close_matches(name, list(DATASETS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise KeyError(f"unknown dataset {name!r}{hint} (available: {', '.join(sorted(DATASETS))})")
    return DATASETS[name](root=root, **kwargs)


# --------------------------------------------------------------------------- helpers


def _tensor_ds(X: np.ndarray, y: np.ndarray) -> TensorDataset:
    return TensorDataset(np.ascontiguousarray(X, dtype=np.float32), np.ascontiguousarray(y, dtype=np.int64))


def _subset(X: np.ndarray, y: np.ndarray, n: int | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded random subset of ``n`` samples (kept in their original order)."""
    if not n or n >= len(X):
        return X, y
    idx = np.sort(np.random.default_rng(seed).permutation(len(X))[: int(n)])
    return X[idx], y[idx]


def split_validation(ds: Dataset, fraction: float, seed: int = 0) -> tuple[Dataset, Dataset]:
    """Split ``fraction`` of ``ds`` off for validation, with a generator of its own (seeded), so the
    split is the same whatever the global RNG did before. A plain random split, not a stratified
    one (:func:`gradus.data.stratified_split`): the recipes' validation curves were measured on it."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {fraction}")
    n = len(ds)
    n_val = max(1, int(round(n * fraction)))
    perm = np.random.default_rng([int(seed), 0x5A1]).permutation(n)
    val_idx, train_idx = np.sort(perm[:n_val]), np.sort(perm[n_val:])
    if isinstance(ds, TensorDataset):  # keep plain TensorDatasets (fast path, simple to inspect)
        return (TensorDataset(*(a[train_idx] for a in ds.arrays)),
                TensorDataset(*(a[val_idx] for a in ds.arrays)))
    return Subset(ds, train_idx.tolist()), Subset(ds, val_idx.tolist())


class AugmentedImages(Dataset):
    """Float32 images ``X`` ``(N, ...)`` and int64 labels with a random batch augmentation.

    ``augment(X_batch) -> X_batch`` runs on each gathered batch (one call per batch, not per
    sample), drawing from gradus's global generator, so ``gradus.manual_seed`` reproduces it and a
    checkpoint's RNG state resumes it.
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, augment: Callable[[np.ndarray], np.ndarray],
                 name: str = "") -> None:
        self.X = np.ascontiguousarray(X, dtype=np.float32)
        self.y = np.ascontiguousarray(y, dtype=np.int64)
        self.augment = augment
        self.name = name

    def __len__(self) -> int:
        return len(self.X)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.int64]:
        return self.augment(self.X[index : index + 1])[0], self.y[index]

    def get_batch(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.ascontiguousarray(self.augment(self.X[indices]), dtype=np.float32), self.y[indices]

    def __repr__(self) -> str:
        return f"AugmentedImages(n={len(self)}, augment={self.name or self.augment!r})"


# --------------------------------------------------------------------------- images


def _standardize(X: np.ndarray, Xt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature z-scores with the training set's mean and std (constant features: std 1)."""
    mean = X.mean(axis=0, keepdims=True)
    std = X.std(axis=0, keepdims=True)
    std[std < 1e-6] = 1.0
    return ((X - mean) / std).astype(np.float32), ((Xt - mean) / std).astype(np.float32)


@register_dataset("digits")
def digits(flatten: bool = True, normalize: bool = True, standardize: bool = False,
           test_fraction: float = 0.2, split_seed: int = 0, root: Any = None) -> DataBundle:
    """The embedded 8x8 digits (offline): X ``(N, 64)`` or ``(N, 1, 8, 8)`` in [0, 1] (``/16``);
    ``standardize``: per-pixel z-scores with the training set's statistics instead."""
    from ..data.datasets import Digits, load_digits_arrays

    kw = dict(test_fraction=test_fraction, seed=split_seed, flatten=flatten, normalize=normalize)
    X, y = load_digits_arrays(train=True, **kw)
    Xt, yt = load_digits_arrays(train=False, **kw)
    if standardize:
        X, Xt = _standardize(X, Xt)
    return DataBundle(_tensor_ds(X, y), None, _tensor_ds(Xt, yt), 10, tuple(X.shape[1:]),
                      {"classes": list(Digits.classes), "image_shape": (8, 8), "name": "digits"})


# LeNet-5's distorted training set (LeCun et al. 1998, section III): "horizontal and vertical
# translations, scaling, squeezing ... and horizontal shearing"; the paper gives no ranges, these are
# small enough to keep every digit legible (+-2 px, +-10% size, +-15% squeeze, +-12 degrees shear).
MNIST_AFFINE = dict(translate=(2 / 28, 2 / 28), scale=(0.9, 1.1), squeeze=0.15, shear=12.0)
MNIST_AUGMENTS = ("none", "affine", "elastic", "affine+elastic")


def _mnist_augment(kind: str, background: float) -> Callable[[np.ndarray], np.ndarray] | None:
    """The batch augmentation named ``kind`` (one of ``MNIST_AUGMENTS``); pixels that come from
    outside the image are ``background`` (the value of a blank pixel after normalisation)."""
    if kind in (None, "none", ""):
        return None
    if kind not in MNIST_AUGMENTS:
        names = ", ".join(map(repr, MNIST_AUGMENTS))
        raise ValueError(f"mnist: augment must be one of {names}, got {kind!r}")
    from ..data.transforms import batch_elastic_distortion, batch_random_affine

    steps = kind.split("+")

    def augment(Xb: np.ndarray) -> np.ndarray:
        imgs = Xb.reshape(len(Xb), 28, 28)
        if "affine" in steps:
            imgs = batch_random_affine(imgs, **MNIST_AFFINE, fill=background)
        if "elastic" in steps:  # Simard et al.'s alpha=34, sigma=4; one field per image, the batch at once
            imgs = batch_elastic_distortion(imgs, alpha=34.0, sigma=4.0, fill=background)
        return imgs.reshape(Xb.shape)

    return augment


@register_dataset("mnist")
def mnist(flatten: bool = True, normalize: bool = True, standardize: bool = False, augment: str = "none",
          subset: int | None = None, test_subset: int | None = None, subset_seed: int = 0,
          download: bool = True, root: Any = None) -> DataBundle:
    """MNIST as float32 ``(N, 784)`` or ``(N, 1, 28, 28)``; ``subset`` = a seeded random sample of the
    training set for quick runs, ``test_subset`` = the first n test images; ``augment="elastic"``
    applies Simard et al.'s elastic distortions to every training batch, ``"affine"`` LeNet-5's random
    translations, scaling, squeezing and shearing (``MNIST_AFFINE``), ``"affine+elastic"`` both."""
    from ..data.datasets import MNIST, load_mnist_arrays

    kw = dict(root=root, flatten=flatten, normalize=normalize, standardize=standardize, download=download)
    X, y = load_mnist_arrays(train=True, **kw)
    Xt, yt = load_mnist_arrays(train=False, **kw)
    X, y = _subset(X, y, subset, subset_seed)
    if test_subset:
        Xt, yt = Xt[: int(test_subset)], yt[: int(test_subset)]
    # A blank pixel's value after normalize / standardize: the fill for pixels shifted in from outside.
    background = float(X.min()) if len(X) else 0.0
    aug = _mnist_augment(augment, background)
    train = _tensor_ds(X, y) if aug is None else AugmentedImages(X, y, aug, augment)
    return DataBundle(train, None, _tensor_ds(Xt, yt), 10, tuple(X.shape[1:]),
                      {"classes": [c.split(" - ")[0] for c in MNIST.classes], "image_shape": (28, 28),
                       "name": "mnist"})


@register_dataset("cifar10")
def cifar10(augment: str = "none", normalize: bool = True, standardize: bool = True,
            subset: int | None = None, test_subset: int | None = None, subset_seed: int = 0,
            download: bool = True, root: Any = None) -> DataBundle:
    """CIFAR-10 as float32 ``(N, 3, 32, 32)`` in [0, 1], standardised per channel by default;
    ``augment="crop_flip"``: random 32x32 crops of the 4-pixel zero-padded image plus horizontal
    flips, per training batch."""
    from ..data.datasets import CIFAR10
    from ..data.transforms import batch_random_crop, batch_random_horizontal_flip

    def arrays(train: bool) -> tuple[np.ndarray, np.ndarray, CIFAR10]:
        ds = CIFAR10(root=root, train=train, download=download)
        X = ds.data.astype(np.float32).transpose(0, 3, 1, 2)  # (N, H, W, C) -> (N, C, H, W)
        if normalize or standardize:
            X /= np.float32(255)
        if standardize:
            X -= np.asarray(ds.mean, np.float32)[:, None, None]
            X /= np.asarray(ds.std, np.float32)[:, None, None]
        return np.ascontiguousarray(X), ds.targets.astype(np.int64), ds

    X, y, ds = arrays(True)
    Xt, yt, _ = arrays(False)
    X, y = _subset(X, y, subset, subset_seed)
    if test_subset:
        Xt, yt = Xt[: int(test_subset)], yt[: int(test_subset)]
    if augment in (None, "none", ""):
        train: Dataset = _tensor_ds(X, y)
    elif augment == "crop_flip":
        # The images are already standardised, so zero padding is the mean colour: a neutral border.
        def crop_flip(Xb: np.ndarray) -> np.ndarray:
            return batch_random_horizontal_flip(batch_random_crop(Xb, 32, padding=4))

        train = AugmentedImages(X, y, crop_flip, "crop_flip")
    else:
        raise ValueError(f"cifar10: augment must be 'crop_flip' or 'none', got {augment!r}")
    return DataBundle(train, None, _tensor_ds(Xt, yt), 10, (3, 32, 32),
                      {"classes": list(getattr(ds, "classes", CIFAR10.default_classes)),
                       "image_shape": (3, 32, 32), "name": "cifar10",
                       "is_subset": getattr(ds, "is_subset", False)})


# --------------------------------------------------------------------------- text


def _bag_of_words(texts: list[str], labels: np.ndarray, classes: list[str], name: str, max_features: int,
                  mode: str, test_fraction: float, split_seed: int, min_df: int | float) -> DataBundle:
    from ..data.datasets import Vectorizer

    tr, te = stratified_split(labels, float(test_fraction), split_seed)
    vec = Vectorizer(mode=mode, max_features=max_features, min_df=min_df)
    # Fit the vocabulary (and idf) on the training texts only: the test set stays unseen.
    X = vec.fit_transform([texts[i] for i in tr])
    Xt = vec.transform([texts[i] for i in te])
    return DataBundle(_tensor_ds(X, labels[tr]), None, _tensor_ds(Xt, labels[te]), len(classes),
                      (X.shape[1],), {"classes": classes, "feature_names": vec.get_feature_names_out(),
                                      "name": name, "vectorizer": repr(vec)})


@register_dataset("spam")
def spam(max_features: int = 2000, mode: str = "tfidf", test_fraction: float = 0.2, split_seed: int = 0,
         min_df: int | float = 1, download: bool = True, root: Any = None) -> DataBundle:
    """SMS Spam Collection (ham = 0, spam = 1) as bag-of-words features (vocabulary fitted on the
    training part of a stratified 80/20 split)."""
    from ..data.datasets import SMSSpam

    ds = SMSSpam(root=root, download=download)
    return _bag_of_words(list(ds.texts), np.asarray(ds.labels, np.int64), list(ds.classes), "spam",
                         max_features, mode, test_fraction, split_seed, min_df)


@register_dataset("sentiment")
def sentiment(source: str = "all", max_features: int = 2000, mode: str = "tfidf", test_fraction: float = 0.2,
              split_seed: int = 0, min_df: int | float = 1, download: bool = True,
              root: Any = None) -> DataBundle:
    """UCI Sentiment Labelled Sentences (negative = 0, positive = 1) as bag-of-words features."""
    from ..data.datasets import SentimentSentences

    ds = SentimentSentences(root=root, source=source, download=download)
    return _bag_of_words(list(ds.texts), np.asarray(ds.labels, np.int64), list(ds.classes), "sentiment",
                         max_features, mode, test_fraction, split_seed, min_df)


@register_dataset("sentiment_tokens")
def sentiment_tokens(source: str = "all", max_len: int = 40, min_freq: int = 1, max_vocab: int = 4000,
                     lower: bool = True, test_fraction: float = 0.2, split_seed: int = 0,
                     download: bool = True, root: Any = None) -> DataBundle:
    """UCI Sentiment Labelled Sentences as word ids for sequence models: ``(N, max_len)`` int64, padded
    on the right with ``<pad>`` = 0 (a model packs them by length: ``SequenceClassifier(padding_idx=0)``)
    and truncated to the first ``max_len`` words.
    The vocabulary (at most ``max_vocab`` words + the 4 specials, so a model's embedding size can be
    fixed in the recipe) is built on the training part; the split is the same stratified one as the
    bag-of-words ``sentiment`` dataset with the same ``test_fraction`` / ``split_seed``."""
    from ..data import Vocab, word_tokenize
    from ..data.datasets import SentimentSentences

    ds = SentimentSentences(root=root, source=source, download=download)
    labels = np.asarray(ds.labels, np.int64)
    tr, te = stratified_split(labels, float(test_fraction), split_seed)
    toks = [word_tokenize(t, lower=lower) for t in ds.texts]
    vocab = Vocab.build([toks[i] for i in tr], min_freq=min_freq, max_size=max_vocab)

    def encode(idx):
        X = np.zeros((len(idx), max_len), dtype=np.int64)          # <pad> = 0
        for row, i in enumerate(idx):
            ids = vocab.encode(toks[i], as_array=True)[:max_len]
            X[row, :len(ids)] = ids
        return X

    return DataBundle(TensorDataset(encode(tr), labels[tr]), None, TensorDataset(encode(te), labels[te]),
                      len(ds.classes), (max_len,), {"classes": list(ds.classes), "name": "sentiment_tokens",
                                                    "vocab_size": len(vocab)})


# --------------------------------------------------------------------------- synthetic


def _gate(gate: str) -> Callable[..., DataBundle]:
    def build(encoding: str = "binary", root: Any = None) -> DataBundle:
        from ..data.datasets import logic_gate

        X, y = logic_gate(gate, encoding=encoding)
        if encoding == "bipolar":
            y = (y > 0).astype(np.int64)  # class indices for the loss; the inputs stay bipolar
        ds = _tensor_ds(X, y)
        # Four rows: the truth table is the training set and the test set.
        return DataBundle(ds, None, ds, 2, (2,), {"classes": ["0", "1"], "name": gate})

    build.__name__ = gate
    build.__doc__ = f"The {gate.upper()} truth table: X (4, 2) float32, y (4,) int64 (train = test)."
    return build


for _g in ("xor", "and", "or", "nand"):
    register_dataset(_g)(_gate(_g))


def _toy_bundle(X: np.ndarray, y: np.ndarray, test_fraction: float, seed: int, name: str) -> DataBundle:
    tr, te = stratified_split(y, float(test_fraction), seed)
    k = int(y.max()) + 1
    return DataBundle(_tensor_ds(X[tr], y[tr]), None, _tensor_ds(X[te], y[te]), k, (X.shape[1],),
                      {"classes": [str(c) for c in range(k)], "name": name})


@register_dataset("spiral")
def spiral(n_per_class: int = 100, n_classes: int = 3, noise: float = 0.2, seed: int = 0,
           test_fraction: float = 0.2, root: Any = None) -> DataBundle:
    """CS231n's spiral arms (not linearly separable), stratified train/test split."""
    from ..data.datasets import make_spiral

    X, y = make_spiral(n_per_class, n_classes, noise, seed)
    return _toy_bundle(X, y, test_fraction, seed, "spiral")


@register_dataset("moons")
def moons(n: int = 400, noise: float = 0.1, seed: int = 0, test_fraction: float = 0.2,
          root: Any = None) -> DataBundle:
    """Two interleaving half circles, stratified train/test split."""
    from ..data.datasets import make_moons

    X, y = make_moons(n, noise, seed)
    return _toy_bundle(X, y, test_fraction, seed, "moons")


@register_dataset("blobs")
def blobs(n: int = 400, centers: int | list = 3, cluster_std: float = 1.0, separable: bool = True,
          n_features: int = 2, seed: int = 0, test_fraction: float = 0.2, root: Any = None) -> DataBundle:
    """Gaussian clusters (one class each), stratified train/test split."""
    from ..data.datasets import make_blobs

    X, y = make_blobs(n, centers, cluster_std, seed, separable, n_features)
    return _toy_bundle(X, y, test_fraction, seed, "blobs")
