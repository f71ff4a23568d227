"""Tiny synthetic classification sets for first experiments (perceptrons, MLPs, decision boundaries).

Every function returns ``X`` float32 ``(n, n_features)`` and ``y`` int64 ``(n,)`` NumPy arrays and is
deterministic given ``seed``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["logic_gate", "make_spiral", "make_moons", "make_blobs"]

_GATES = {
    "and": [0, 0, 0, 1],
    "or": [0, 1, 1, 1],
    "xor": [0, 1, 1, 0],
    "nand": [1, 1, 1, 0],
    "nor": [1, 0, 0, 0],
    "xnor": [1, 0, 0, 1],
}


def logic_gate(gate: str, encoding: str = "binary") -> tuple[np.ndarray, np.ndarray]:
    """The 4-row truth table of a two-input gate.

    Args:
        gate: ``"and"``, ``"or"``, ``"xor"``, ``"nand"`` (also ``"nor"``, ``"xnor"``).
        encoding: ``"binary"``: inputs and outputs in {0, 1}; ``"bipolar"``: both in {-1, +1}
            (the classic perceptron convention).

    Returns:
        X ``(4, 2)`` float32 with rows (0,0), (0,1), (1,0), (1,1) (or their bipolar images), y ``(4,)`` int64.

    >>> X, y = logic_gate("xor"); y.tolist()
    [0, 1, 1, 0]
    """
    key = gate.lower()
    if key not in _GATES:
        raise ValueError(f"unknown gate {gate!r}; choose from {sorted(_GATES)}")
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array(_GATES[key], dtype=np.int64)
    if encoding == "bipolar":
        return 2 * X - 1, 2 * y - 1
    if encoding != "binary":
        raise ValueError(f"encoding must be 'binary' or 'bipolar', got {encoding!r}")
    return X, y


def make_spiral(
    n_per_class: int = 100, n_classes: int = 3, noise: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms (the CS231n toy set): not linearly separable.

    Arm ``k`` has radius ``r`` in ``[0, 1]`` and angle ``4 * (k + r) + noise * N(0, 1)``.

    Returns X ``(n_per_class * n_classes, 2)`` float32, y int64 in ``0..n_classes-1`` (grouped by class).
    """
    rng = np.random.default_rng(seed)
    X = np.empty((n_per_class * n_classes, 2), dtype=np.float32)
    y = np.empty(n_per_class * n_classes, dtype=np.int64)
    r = np.linspace(0.0, 1.0, n_per_class)
    for k in range(n_classes):
        t = np.linspace(4.0 * k, 4.0 * (k + 1), n_per_class) + rng.standard_normal(n_per_class) * noise
        sl = slice(k * n_per_class, (k + 1) * n_per_class)
        X[sl, 0] = r * np.sin(t)
        X[sl, 1] = r * np.cos(t)
        y[sl] = k
    return X, y


def make_moons(n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (as scikit-learn's ``make_moons``), shuffled, plus Gaussian noise.

    Returns X ``(n, 2)`` float32, y ``(n,)`` int64 in {0, 1}.
    """
    rng = np.random.default_rng(seed)
    n_outer = n // 2
    n_inner = n - n_outer
    t_out = np.linspace(0, np.pi, n_outer)
    t_in = np.linspace(0, np.pi, n_inner)
    X = np.concatenate(
        [
            np.stack([np.cos(t_out), np.sin(t_out)], axis=1),
            np.stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5], axis=1),
        ]
    )
    y = np.concatenate([np.zeros(n_outer, np.int64), np.ones(n_inner, np.int64)])
    X += rng.normal(scale=noise, size=X.shape)
    order = rng.permutation(n)
    return X[order].astype(np.float32), y[order]


def make_blobs(
    n: int = 200,
    centers: int | Sequence[Sequence[float]] = 2,
    cluster_std: float = 1.0,
    seed: int = 0,
    separable: bool = True,
    n_features: int = 2,
    return_centers: bool = False,
):
    """Gaussian clusters, one class per centre.

    ``separable=True`` guarantees a linearly separable set: points are drawn by rejection so that
    each lies closer to its own centre than to any other by a margin of ``0.5 * cluster_std``; the
    nearest-centre rule is a linear (multi-class) classifier, so it classifies every point.
    ``separable=False`` guarantees the opposite: with the default centres the clusters overlap
    heavily, and in addition the first point of each class is placed exactly at the centre of the
    next class, inside that class's cloud, where no linear classifier can carve it out.

    Args:
        centers: number of classes (centres then sit on a circle in the first two coordinates:
            radius ``4 * cluster_std`` if separable, ``1 * cluster_std`` if not) or an explicit
            ``(k, n_features)`` array.

    Returns:
        X ``(n, n_features)`` float32, y ``(n,)`` int64 (classes balanced to within one, shuffled),
        and the centres ``(k, n_features)`` float32 if ``return_centers``.
    """
    rng = np.random.default_rng(seed)
    if isinstance(centers, (int, np.integer)):
        k = int(centers)
        if k < 2 and not separable:
            raise ValueError("a non-separable set needs at least 2 centres")
        radius = (4.0 if separable else 1.0) * cluster_std
        angles = 2 * np.pi * np.arange(k) / k
        C = np.zeros((k, n_features))
        C[:, 0] = radius * np.cos(angles)
        if n_features > 1:
            C[:, 1] = radius * np.sin(angles)
    else:
        C = np.asarray(centers, dtype=np.float64)
        k, n_features = C.shape
    y = np.arange(n) % k
    X = np.empty((n, n_features))
    margin = 0.5 * cluster_std
    for c in range(k):
        need = int(np.sum(y == c))
        pts: list[np.ndarray] = []
        got = 0
        tries = 0
        while got < need:
            cand = C[c] + cluster_std * rng.standard_normal((max(2 * need, 16), n_features))
            if separable and k > 1:
                d = np.linalg.norm(cand[:, None, :] - C[None, :, :], axis=2)  # (m, k)
                own = d[:, c].copy()
                d[:, c] = np.inf
                cand = cand[own + margin < d.min(axis=1)]
            pts.append(cand)
            got += len(cand)
            tries += 1
            if tries > 1000:
                raise ValueError(
                    "centres too close for a separable set; move them apart or lower cluster_std"
                )
        X[y == c] = np.concatenate(pts)[:need]
    if not separable and k > 1:
        for c in range(k):
            first = np.flatnonzero(y == c)[0]
            X[first] = C[(c + 1) % k]
    order = rng.permutation(n)
    X, y = X[order].astype(np.float32), y[order].astype(np.int64)
    if return_centers:
        return X, y, C.astype(np.float32)
    return X, y
