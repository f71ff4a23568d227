"""The stratified split: held-out indices drawn class by class, so every class keeps its share.

Used by the embedded digits (``Digits(test_fraction=...)``) and by the recipe datasets that need a
test split (bag-of-words text, the synthetic 2-D sets). For a plain random split of a Dataset see
:func:`gradus.data.random_split`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["stratified_split"]


def stratified_split(labels: Any, size: float | int, seed: Any = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, held_out)`` of a seeded stratified split of ``labels``.

    Within each class (in sorted order of the class values) the class's indices are shuffled by one
    generator ``numpy.random.default_rng(seed)`` and the first ``k_c`` go to the held-out part:

    * ``size`` a float in (0, 1), a *fraction*: ``k_c = round(n_c * size)`` (Python's rounding,
      half to even), so the held-out total may differ from ``round(N * size)`` by a few samples;
    * ``size`` an int in [1, N), a *count*: ``size`` samples in total, shared out in proportion to
      the class sizes (largest remainders first, ties to the smaller class value).

    Both parts are returned sorted (a sample's position never depends on the class order), as int64
    index arrays that together cover ``range(N)`` exactly once. The same labels, size and seed
    always give the same split.

    Args:
        labels: ``(N,)`` class labels (any sortable values: ints, strings, ...).
        size: the fraction or the number of samples to hold out (see above). Pass fractions as
            floats: ``1`` is one sample, ``1.0`` is an error.
        seed: anything ``numpy.random.default_rng`` accepts (an int, a ``Generator``, ...).

    Raises:
        ValueError: labels not 1-D or empty; a fraction outside (0, 1) (0 holds nothing out: use
            all indices instead) or one so small that it rounds to no sample; a count below 1 or
            not below N (more requested than available); a class that would lose all of its
            samples to the held-out part (a class with one sample can only be on one side: it
            stays in training unless the fraction rounds its share up to 1).
        TypeError: ``size`` is neither a float nor an int (bools are refused).

    >>> train, test = stratified_split([0, 0, 0, 0, 1, 1, 1, 1, 1, 1], 0.5, seed=0)
    >>> len(train), len(test), sorted(np.asarray([0, 0, 0, 0, 1, 1, 1, 1, 1, 1])[test].tolist())
    (5, 5, [0, 0, 1, 1, 1])
    """
    y = np.asarray(labels)
    if y.ndim != 1:
        raise ValueError(f"stratified_split: labels must be 1-D (N,), got shape {y.shape}")
    n = len(y)
    if n == 0:
        raise ValueError("stratified_split: no labels to split")
    classes, counts = np.unique(y, return_counts=True)
    if isinstance(size, (bool, np.bool_)) or not isinstance(size, (int, float, np.integer, np.floating)):
        raise TypeError(f"stratified_split: size must be a fraction (float) or a count (int), "
                        f"got {type(size).__name__} {size!r}")
    if isinstance(size, (int, np.integer)):
        k = _allocate(int(size), counts, n)
    else:
        frac = float(size)
        if not 0.0 < frac < 1.0:
            hint = " (0 holds nothing out: use all the indices instead)" if frac == 0 else ""
            raise ValueError(f"stratified_split: the held-out fraction must be in (0, 1), got {size}{hint}")
        k = np.array([int(round(int(c) * frac)) for c in counts], dtype=np.int64)
        if k.sum() == 0:
            raise ValueError(f"stratified_split: a fraction of {size} of {n} samples "
                             f"({len(classes)} classes) rounds to no held-out sample; hold out more")
        full = np.flatnonzero(k >= counts)
        if full.size:
            c, nc = classes[full[0]].item(), int(counts[full[0]])
            what = "a single sample" if nc == 1 else f"{nc} samples"
            raise ValueError(f"stratified_split: class {c!r} has {what}, and a fraction of {size} would "
                             "hold all of it out, leaving the class out of the training part; "
                             "use a smaller fraction (or drop the class)")
    rng = np.random.default_rng(seed)
    train, held = [], []
    for c, kc in zip(classes, k):
        idx = rng.permutation(np.flatnonzero(y == c))
        held.append(idx[:kc])
        train.append(idx[kc:])
    return (np.sort(np.concatenate(train)).astype(np.int64, copy=False),
            np.sort(np.concatenate(held)).astype(np.int64, copy=False))


def _allocate(count: int, counts: np.ndarray, n: int) -> np.ndarray:
    """``count`` held-out samples shared out over the classes in proportion to ``counts``, never a
    whole class (largest remainder method)."""
    if count < 1:
        raise ValueError(f"stratified_split: the held-out count must be at least 1, got {count} "
                         "(0 holds nothing out: use all the indices instead)")
    if count >= n:
        raise ValueError(f"stratified_split: cannot hold out {count} of {n} samples: more than "
                         f"available (at most {n - 1}, so that training keeps a sample)")
    quota = count * counts.astype(np.float64) / n
    k = np.floor(quota).astype(np.int64)  # < counts: count < n
    # The rest goes one sample at a time to the class furthest below its quota (the largest
    # remainder; ties to the smaller class value), as long as it keeps a sample for training.
    while k.sum() < count:
        open_ = np.flatnonzero(k < counts - 1)
        if open_.size == 0:
            singles = int((counts == 1).sum())
            raise ValueError(f"stratified_split: cannot hold out {count} of {n} samples and keep every "
                             f"one of the {len(counts)} classes in training (at most "
                             f"{int((counts - 1).sum())}: {singles} classes have a single sample)")
        j = open_[np.argmax(quota[open_] - k[open_])]
        k[j] += 1
    return k
