"""Wrong uses of transforms, datasets, samplers, the DataLoader and evaluate(): each raises an error
naming the culprit, what it got and what it expects."""

from __future__ import annotations

import numpy as np
import pytest

import gradus
from gradus import nn
from gradus.data import ConcatDataset, DataLoader, Subset, TensorDataset, random_split, stratified_split
from gradus.data import transforms as T
from gradus.data.sampler import BatchSampler, RandomSampler, SequentialSampler
from gradus.errors import ShapeError
from gradus.train.trainer import evaluate

from ._table import check


def _ds(n=10):
    return TensorDataset(np.zeros((n, 2), np.float32), np.arange(n))


def _chw():
    return gradus.zeros(1, 8, 8)


def _evaluate_empty(drop_last=False, n=0):
    model = nn.Linear(2, 3)
    loader = DataLoader(_ds(n), batch_size=4, drop_last=drop_last)
    return evaluate(model, loader)


CASES = [
    # Normalize
    (
        "Normalize-3-means-2-stds",
        lambda: T.Normalize((0.5, 0.5, 0.5), (0.2, 0.2)),
        ShapeError,
        r"Normalize: mean has 3 values but std has 2; expected one of each per channel",
    ),
    ("Normalize-std-zero", lambda: T.Normalize((0.5,), (0.0,)), ValueError, r"std evaluated to zero"),
    (
        "Normalize-std-negative",
        lambda: T.Normalize((0.5,), (-1.0,)),
        ValueError,
        r"Normalize: std must be "
        r"positive",
    ),
    (
        "Normalize-mean-str",
        lambda: T.Normalize("a", 1.0),
        TypeError,
        r"Normalize: mean must be a number, "
        r"got 'a'",
    ),
    (
        "Normalize-std-none",
        lambda: T.Normalize(0.5, None),
        TypeError,
        r"Normalize: std must be a number, "
        r"got None",
    ),
    (
        "Normalize-mean-2d",
        lambda: T.Normalize([[0.5]], [[0.2]]),
        ShapeError,
        r"Normalize: mean and std must be numbers or 1-D sequences",
    ),
    (
        "Normalize-hwc-array",
        lambda: T.Normalize((0.5, 0.5, 0.5), (0.2, 0.2, 0.2))(np.zeros((8, 8, 3), np.float32)),
        ShapeError,
        r"Normalize: 3 channel means/stds for an image of shape \(8, 8, 3\).*apply ToTensor\(\) "
        r"first",
    ),
    (
        "Normalize-wrong-channels",
        lambda: T.Normalize((0.5, 0.5, 0.5), (0.2, 0.2, 0.2))(_chw()),
        ShapeError,
        r"Normalize: 3 channel means/stds for an image of shape \(1, 8, 8\): expected \(\.\.\., 3, H, W\)",
    ),
    # crops and flips
    ("RandomCrop-negative", lambda: T.RandomCrop(-3), ValueError, r"RandomCrop: size must be positive.*-3"),
    ("RandomCrop-zero", lambda: T.RandomCrop(0), ValueError, r"RandomCrop: size must be positive.*got 0"),
    (
        "RandomCrop-float",
        lambda: T.RandomCrop(2.5),
        TypeError,
        r"RandomCrop: size must be an int or a "
        r"sequence of 1 or 2",
    ),
    (
        "RandomCrop-3-tuple",
        lambda: T.RandomCrop((2, 3, 4)),
        TypeError,
        r"RandomCrop: size must be an int "
        r"or a sequence of 1 or 2",
    ),
    ("RandomCrop-str", lambda: T.RandomCrop("a"), TypeError, r"RandomCrop: size .*'a'"),
    (
        "RandomCrop-tuple-negative",
        lambda: T.RandomCrop((4, -1)),
        ValueError,
        r"RandomCrop: size must be "
        r"positive.*-1",
    ),
    (
        "RandomCrop-padding-negative",
        lambda: T.RandomCrop(3, padding=-1),
        ValueError,
        r"RandomCrop: padding must be non-negative, got -1",
    ),
    (
        "RandomCrop-padding-3",
        lambda: T.RandomCrop(3, padding=(1, 2, 3)),
        ValueError,
        r"padding must be an int or a sequence of 1, 2 or 4 ints",
    ),
    (
        "RandomCrop-padding-float",
        lambda: T.RandomCrop(3, padding=1.5),
        TypeError,
        r"RandomCrop: padding "
        r"must be",
    ),
    (
        "RandomCrop-padding-mode",
        lambda: T.RandomCrop(3, padding_mode="wrap"),
        ValueError,
        r"RandomCrop: unknown padding_mode 'wrap' \(expected 'constant'",
    ),
    (
        "RandomCrop-too-large",
        lambda: T.RandomCrop(10)(_chw()),
        ValueError,
        r"crop size \(10, 10\) is larger than the \(padded\) image size \(8, 8\)",
    ),
    (
        "RandomHorizontalFlip-p",
        lambda: T.RandomHorizontalFlip(p=1.5),
        ValueError,
        r"RandomHorizontalFlip: p must be <= 1\.0, got 1\.5",
    ),
    (
        "RandomVerticalFlip-p",
        lambda: T.RandomVerticalFlip(p=-0.1),
        ValueError,
        r"RandomVerticalFlip: p "
        r"must be >= 0\.0",
    ),
    (
        "RandomHorizontalFlip-str",
        lambda: T.RandomHorizontalFlip(p="x"),
        TypeError,
        r"RandomHorizontalFlip: p must be a number, got 'x'",
    ),
    # elastic distortion / Gaussian smoothing
    (
        "ElasticDistortion-sigma",
        lambda: T.ElasticDistortion(sigma=-1),
        ValueError,
        r"ElasticDistortion: sigma must be >= 0\.0, got -1",
    ),
    (
        "ElasticDistortion-alpha",
        lambda: T.ElasticDistortion(alpha=-1),
        ValueError,
        r"ElasticDistortion: "
        r"alpha must be >= 0",
    ),
    (
        "ElasticDistortion-str",
        lambda: T.ElasticDistortion(sigma="4"),
        TypeError,
        r"ElasticDistortion: "
        r"sigma must be a number",
    ),
    (
        "gaussian_filter-sigma",
        lambda: T.gaussian_filter(np.zeros((4, 4)), -1.0),
        ValueError,
        r"gaussian_filter: sigma must be >= 0\.0, got -1\.0",
    ),
    (
        "batch_elastic-sigma",
        lambda: T.batch_elastic_distortion(np.zeros((2, 4, 4)), sigma=-2),
        ValueError,
        r"batch_elastic_distortion: sigma must be >= 0",
    ),
    (
        "batch_random_crop-size",
        lambda: T.batch_random_crop(np.zeros((2, 1, 4, 4)), 0),
        ValueError,
        r"batch_random_crop: size must be positive",
    ),
    (
        "batch_random_crop-padding",
        lambda: T.batch_random_crop(np.zeros((2, 1, 4, 4)), 2, padding=-1),
        ValueError,
        r"batch_random_crop: padding must be non-negative",
    ),
    (
        "batch_random_crop-ndim",
        lambda: T.batch_random_crop(np.zeros((4, 4)), 2),
        ValueError,
        r"batch_random_crop expects \(N, C, H, W\)",
    ),
    (
        "batch_flip-p",
        lambda: T.batch_random_horizontal_flip(np.zeros((2, 4)), p=2),
        ValueError,
        r"batch_random_horizontal_flip: p must be <= 1\.0",
    ),
    # Compose, Lambda, ToTensor
    (
        "Compose-non-callable",
        lambda: T.Compose([T.ToTensor(), 3]),
        TypeError,
        r"Compose: transforms\[1\] must be callable .*got 3 \(int\)",
    ),
    (
        "Compose-single-transform",
        lambda: T.Compose(T.ToTensor()),
        TypeError,
        r"Compose: transforms must be a list of callables, got ToTensor",
    ),
    (
        "Compose-str",
        lambda: T.Compose("abc"),
        TypeError,
        r"Compose: transforms must be a list of "
        r"callables, got 'abc'",
    ),
    ("Compose-none-item", lambda: T.Compose([None]), TypeError, r"Compose: transforms\[0\] must be callable"),
    ("Lambda-non-callable", lambda: T.Lambda(3), TypeError, r"Lambda needs a callable"),
    (
        "ToTensor-4d",
        lambda: T.ToTensor()(np.zeros((1, 2, 3, 4))),
        ValueError,
        r"ToTensor expects \(H, W\) "
        r"or \(H, W, C\)",
    ),
    # datasets and samplers: index out of range
    (
        "TensorDataset-index",
        lambda: _ds()[10],
        IndexError,
        r"TensorDataset: index 10 is out of range for a dataset of 10 samples \(expected 0 <= index < 10\)",
    ),
    (
        "TensorDataset-negative-index",
        lambda: _ds()[-11],
        IndexError,
        r"TensorDataset: index -11 is out of "
        r"range",
    ),
    ("TensorDataset-empty", lambda: TensorDataset(), ValueError, r"TensorDataset needs at least one tensor"),
    (
        "TensorDataset-mismatch",
        lambda: TensorDataset(np.zeros((3, 2)), np.zeros(4)),
        ValueError,
        r"TensorDataset: size mismatch .*tensor 0: \(3, 2\), tensor 1: \(4,\)",
    ),
    (
        "TensorDataset-0d",
        lambda: TensorDataset(np.float32(1.0)),
        ValueError,
        r"TensorDataset: tensor 0 is "
        r"0-d",
    ),
    (
        "Subset-index",
        lambda: Subset(_ds(), [0, 1])[5],
        IndexError,
        r"Subset: index 5 is out of range for a "
        r"dataset of 2",
    ),
    (
        "Subset-indices-out-of-range",
        lambda: Subset(_ds(), [0, 10]),
        IndexError,
        r"Subset: index 10 is out of range for a dataset of 10 samples",
    ),
    (
        "Subset-float-indices",
        lambda: Subset(_ds(), [0.5]),
        TypeError,
        r"Subset: indices must be integers, "
        r"got dtype float64",
    ),
    (
        "ConcatDataset-index",
        lambda: ConcatDataset([_ds()])[25],
        IndexError,
        r"index 25 out of range for "
        r"ConcatDataset of length 10",
    ),
    (
        "ConcatDataset-empty",
        lambda: ConcatDataset([]),
        ValueError,
        r"ConcatDataset needs at least one "
        r"dataset",
    ),
    (
        "random_split-sum",
        lambda: random_split(_ds(), [3, 3]),
        ValueError,
        r"sum of input lengths \(6\) does not equal the length of the dataset \(10\)",
    ),
    (
        "random_split-fractions",
        lambda: random_split(_ds(), [0.5, 0.7]),
        ValueError,
        r"lengths must be non-negative integers or fractions summing to 1, got \[0\.5, 0\.7\]",
    ),
    (
        "stratified_split-fraction",
        lambda: stratified_split(np.arange(10) % 2, 1.5),
        ValueError,
        r"stratified_split: the held-out fraction must be in \(0, 1\), got 1\.5",
    ),
    (
        "stratified_split-count",
        lambda: stratified_split(np.arange(10) % 2, 20),
        ValueError,
        r"stratified_split: cannot hold out 20 of 10 samples",
    ),
    (
        "SequentialSampler-unsized",
        lambda: SequentialSampler(5),
        TypeError,
        r"SequentialSampler: data_source must have a length .*got int",
    ),
    (
        "RandomSampler-replacement",
        lambda: RandomSampler(_ds(), replacement="no"),
        TypeError,
        r"RandomSampler: replacement should be a bool, got 'no'",
    ),
    (
        "RandomSampler-num-samples",
        lambda: RandomSampler(_ds(), num_samples=0),
        ValueError,
        r"num_samples should be a positive integer, got 0",
    ),
    (
        "RandomSampler-too-many",
        lambda: RandomSampler(_ds(), num_samples=20),
        ValueError,
        r"num_samples cannot exceed len\(data_source\) without replacement",
    ),
    (
        "BatchSampler-batch-size",
        lambda: BatchSampler(range(5), 0, False),
        ValueError,
        r"batch_size should be a positive integer, got 0",
    ),
    (
        "BatchSampler-drop-last",
        lambda: BatchSampler(range(5), 2, "x"),
        ValueError,
        r"drop_last should be a "
        r"bool, got 'x'",
    ),
    # DataLoader
    (
        "DataLoader-batch-size-zero",
        lambda: DataLoader(_ds(), batch_size=0),
        ValueError,
        r"DataLoader: batch_size must be a positive int or None, got 0",
    ),
    (
        "DataLoader-batch-size-float",
        lambda: DataLoader(_ds(), batch_size=2.5),
        ValueError,
        r"DataLoader: batch_size must be a positive int or None, got 2\.5",
    ),
    (
        "DataLoader-batch-size-str",
        lambda: DataLoader(_ds(), batch_size="8"),
        ValueError,
        r"DataLoader: batch_size must be a positive int or None, got '8'",
    ),
    (
        "DataLoader-sampler-and-shuffle",
        lambda: DataLoader(_ds(), shuffle=True, sampler=[1, 2]),
        ValueError,
        r"sampler option is mutually exclusive with shuffle",
    ),
    (
        "DataLoader-sampler-index",
        lambda: list(DataLoader(_ds(), batch_size=2, sampler=[0, 11])),
        IndexError,
        r"DataLoader: the sampler gave index 11, out of range for a dataset of 10 samples",
    ),
    (
        "DataLoader-sampler-index-slow",
        lambda: list(DataLoader(_ds(), batch_size=2, sampler=[0, 11], collate_fn=lambda b: b)),
        IndexError,
        r"TensorDataset: index 11 is out of range for a dataset of 10 samples",
    ),
    (
        "DataLoader-batch-sampler-index",
        lambda: list(DataLoader(_ds(), batch_sampler=[[0, 1], [9, 10]])),
        IndexError,
        r"DataLoader: the sampler gave index 10",
    ),
    # evaluate() on nothing: an error, not {'loss': nan}
    (
        "evaluate-empty-loader",
        lambda: _evaluate_empty(),
        ValueError,
        r"evaluate: the loader yielded 0 batches; expected at least one",
    ),
    (
        "evaluate-drop-last",
        lambda: _evaluate_empty(drop_last=True, n=3),
        ValueError,
        r"evaluate: .*0 batches.*drop_last=True",
    ),
    (
        "evaluate-empty-list",
        lambda: evaluate(nn.Linear(2, 3), []),
        ValueError,
        r"evaluate: the loader "
        r"yielded 0 batches",
    ),
]


@pytest.mark.parametrize("fn,exc,pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_wrong_use_is_refused_clearly(fn, exc, pattern):
    check(fn, exc, pattern)


def test_valid_uses_still_work():
    out = T.Normalize((0.5, 0.5, 0.5), 0.5)(gradus.ones(3, 2, 2))
    assert out.shape == (3, 2, 2) and float(out.sum().item()) == pytest.approx(12.0)
    assert T.RandomCrop((4,), padding=(1, 2))(_chw()).shape == (1, 4, 4)
    assert T.Compose((T.Flatten(),))(np.zeros((2, 2))).shape == (4,)
    assert T.ElasticDistortion(alpha=0.0, sigma=0.0)(np.zeros((4, 4), np.float32)).shape == (4, 4)
    assert len(list(DataLoader(_ds(), batch_size=None))) == 10 and int(_ds()[-1][1]) == 9
    res = evaluate(nn.Linear(2, 10), DataLoader(_ds(), batch_size=4))
    assert set(res) >= {"loss", "accuracy"}
