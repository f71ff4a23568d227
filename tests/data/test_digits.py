import hashlib
from importlib import resources
from pathlib import Path

import numpy as np

from gradus.data import DataLoader
from gradus.data.datasets import Digits, load_digits_arrays
from gradus.data.datasets.digits import DIGITS_SHA256


def test_embedded_file_checksum_and_readme():
    raw = resources.files("gradus.data.datasets").joinpath("_embedded", "digits.csv").read_bytes()
    assert hashlib.sha256(raw).hexdigest() == DIGITS_SHA256
    # The README is documentation in the source tree (not necessarily installed as package data).
    readme = Path(__file__).resolve().parents[2] / "src/gradus/data/datasets/_embedded/README.md"
    assert DIGITS_SHA256 in readme.read_text()
    assert b"\x00" not in raw and raw.count(b"\n") == 1797


def test_digits_all_and_split():
    full = Digits(train=None)
    assert len(full) == 1797 and full.data.shape == (1797, 8, 8) and full.data.dtype == np.uint8
    assert full.data.max() == 16 and full.data.min() == 0
    assert sorted(np.unique(full.targets).tolist()) == list(range(10))
    train, test = Digits(train=True), Digits(train=False)
    assert len(train) + len(test) == 1797
    assert abs(len(test) - 0.2 * 1797) < 10
    # Stratified: every class is split in (about) the same proportion.
    ratio = np.bincount(test.targets) / np.bincount(full.targets)
    assert np.all(np.abs(ratio - 0.2) < 0.02)
    # Deterministic, and a different seed gives a different split.
    np.testing.assert_array_equal(Digits(train=False).data, test.data)
    assert not np.array_equal(Digits(train=False, seed=1).data, test.data)


def test_load_digits_arrays_and_loader():
    X, y = load_digits_arrays(train=True)
    assert X.shape == (len(y), 64) and X.dtype == np.float32 and y.dtype == np.int64
    assert X.max() == 1.0
    Xb, yb = next(iter(DataLoader(Digits(), batch_size=32, shuffle=True, generator=0)))
    assert Xb.shape == (32, 8, 8) and yb.shape == (32,)
