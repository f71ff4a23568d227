"""Classification metrics on NumPy arrays (gradus Tensors are accepted and converted).

Conventions (as scikit-learn / torchmetrics):

* ``output`` is either scores ``(N, C)`` (logits or probabilities: the prediction is the arg-max of
  each row) or already-predicted labels ``(N,)``; ``target`` is integer labels ``(N,)``.
* The confusion matrix ``cm`` is ``(C, C)`` int64 with ``cm[i, j]`` = number of samples of true class
  ``i`` predicted as class ``j`` (rows = truth, columns = prediction).
* Per-class precision ``P_c = cm[c, c] / sum_i cm[i, c]``, recall ``R_c = cm[c, c] / sum_j cm[c, j]``,
  ``F1_c = 2 P_c R_c / (P_c + R_c)``; a 0/0 is reported as 0 (the class was never predicted / absent).

    >>> import numpy as np
    >>> accuracy(np.array([[2.0, 1.0], [0.0, 3.0], [5.0, 1.0]]), np.array([0, 1, 1]))
    0.6666666666666666
    >>> confusion_matrix(np.array([0, 1, 1]), np.array([0, 1, 0]), num_classes=2).tolist()
    [[1, 0], [1, 1]]
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "to_numpy",
    "predictions",
    "accuracy",
    "top_k_accuracy",
    "confusion_matrix",
    "precision_recall_f1",
    "classification_report",
    "RunningMean",
]


def to_numpy(x: Any) -> np.ndarray:
    """A gradus Tensor (on any device), ndarray or array-like as a host ndarray."""
    if hasattr(x, "numpy") and callable(x.numpy) and not isinstance(x, np.ndarray):
        x = x.numpy()
    a = getattr(x, "get", None)  # a CuPy array: copy to the host
    if a is not None and not isinstance(x, np.ndarray) and callable(a):
        x = a()
    return np.asarray(x)


def predictions(output: Any) -> np.ndarray:
    """Predicted labels ``(N,)``: the arg-max of scores ``(N, C)``, or ``output`` itself if 1-D.

    A single score column ``(N, 1)`` is read as a binary logit: class 1 when the score is > 0.
    """
    out = to_numpy(output)
    if out.ndim == 1:
        return out.astype(np.int64, copy=False)
    if out.ndim != 2:
        raise ValueError(f"predictions: expected scores (N, C) or labels (N,), got shape {out.shape}")
    if out.shape[1] == 1:
        return (out[:, 0] > 0).astype(np.int64)
    return out.argmax(axis=1).astype(np.int64)


def _targets(target: Any, n: int) -> np.ndarray:
    t = to_numpy(target).reshape(-1)
    if t.shape[0] != n:
        raise ValueError(f"output has {n} samples but target has {t.shape[0]}")
    return t.astype(np.int64, copy=False)


def accuracy(output: Any, target: Any) -> float:
    """Share of samples whose predicted label equals the target: ``mean(argmax(output) == target)``."""
    pred = predictions(output)
    t = _targets(target, pred.shape[0])
    if pred.shape[0] == 0:
        return float("nan")
    return float(np.mean(pred == t))


def top_k_accuracy(output: Any, target: Any, k: int = 5) -> float:
    """Share of samples whose target is among the ``k`` highest scores of its row of ``(N, C)``.

    Ties at the k-th score count as hits for every tied class (a pessimistic tie-break would
    depend on the sort order).
    """
    scores = to_numpy(output)
    if scores.ndim != 2:
        raise ValueError(f"top_k_accuracy needs scores (N, C), got shape {scores.shape}")
    n, c = scores.shape
    t = _targets(target, n)
    if n == 0:
        return float("nan")
    if k >= c:
        return 1.0
    if k < 1:
        raise ValueError(f"top_k_accuracy: k must be >= 1, got {k}")
    # The k-th largest score of each row; the target is a hit when its score reaches it.
    kth = np.partition(scores, c - k, axis=1)[:, c - k]
    return float(np.mean(scores[np.arange(n), t] >= kth))


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int | None = None) -> np.ndarray:
    """``(C, C)`` int64 counts: row = true class, column = predicted class.

    ``y_pred`` may be labels ``(N,)`` or scores ``(N, C)``. ``num_classes`` defaults to
    ``max(label) + 1`` over both arrays.
    """
    pred = predictions(y_pred)
    t = _targets(y_true, pred.shape[0])
    if num_classes is None:
        num_classes = int(max(t.max(initial=-1), pred.max(initial=-1))) + 1
    if t.size and (t.min() < 0 or t.max() >= num_classes or pred.min() < 0 or pred.max() >= num_classes):
        raise ValueError(
            f"confusion_matrix: labels must be in 0..{num_classes - 1}; got targets in "
            f"[{t.min()}, {t.max()}] and predictions in [{pred.min()}, {pred.max()}]"
        )
    # One bincount over the flattened (true, pred) pair index instead of a Python double loop.
    flat = np.bincount(t * num_classes + pred, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes).astype(np.int64)


def _safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.zeros(a.shape, dtype=np.float64)
    np.divide(a, b, out=out, where=b != 0)
    return out


def precision_recall_f1(cm: Any) -> dict[str, np.ndarray | float]:
    """Per-class precision, recall, F1 and support from a confusion matrix, plus macro averages.

    Returns a dict with ``precision``, ``recall``, ``f1`` (float64 ``(C,)``), ``support`` (int64
    ``(C,)``: true samples per class) and ``macro_precision``, ``macro_recall``, ``macro_f1``
    (unweighted means over the classes), ``accuracy`` (trace / total).
    """
    cm = to_numpy(cm).astype(np.int64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"precision_recall_f1 needs a square confusion matrix, got shape {cm.shape}")
    tp = np.diag(cm).astype(np.float64)
    predicted = cm.sum(axis=0).astype(np.float64)
    support = cm.sum(axis=1)
    precision = _safe_div(tp, predicted)
    recall = _safe_div(tp, support.astype(np.float64))
    f1 = _safe_div(2 * precision * recall, precision + recall)
    total = cm.sum()
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "support": support,
        "macro_precision": float(precision.mean()) if len(tp) else float("nan"),
        "macro_recall": float(recall.mean()) if len(tp) else float("nan"),
        "macro_f1": float(f1.mean()) if len(tp) else float("nan"),
        "accuracy": float(tp.sum() / total) if total else float("nan"),
    }


def classification_report(cm: Any, class_names: Sequence[str] | None = None, digits: int = 3) -> str:
    """A text table (one row per class: precision, recall, F1, support; then the macro average)."""
    cm = to_numpy(cm)
    scores = precision_recall_f1(cm)
    n = cm.shape[0]
    names = [str(c) for c in (class_names if class_names is not None else range(n))]
    if len(names) != n:
        raise ValueError(f"classification_report: {len(names)} class names for {n} classes")
    width = max([len(s) for s in names] + [len("macro avg")])
    head = f"{'':>{width}}  {'precision':>9}  {'recall':>9}  {'f1':>9}  {'support':>8}"
    lines = [head]
    for c, name in enumerate(names):
        lines.append(
            f"{name:>{width}}  {scores['precision'][c]:>9.{digits}f}  {scores['recall'][c]:>9.{digits}f}  "
            f"{scores['f1'][c]:>9.{digits}f}  {int(scores['support'][c]):>8d}"
        )
    lines.append(
        f"{'macro avg':>{width}}  {scores['macro_precision']:>9.{digits}f}  "
        f"{scores['macro_recall']:>9.{digits}f}  {scores['macro_f1']:>9.{digits}f}  "
        f"{int(scores['support'].sum()):>8d}"
    )
    lines.append(f"{'accuracy':>{width}}  {scores['accuracy']:>9.{digits}f}")
    return "\n".join(lines)


class RunningMean:
    """A weighted running mean: ``update(value, n)`` adds ``n`` samples whose mean is ``value``.

    Used for epoch losses: a batch loss with ``reduction='mean'`` weighs by its batch size, so the
    epoch value is the mean over samples even when the last batch is smaller.
    """

    __slots__ = ("total", "count")

    def __init__(self, total: float = 0.0, count: int = 0) -> None:
        self.total = float(total)
        self.count = int(count)

    def update(self, value: float, n: int = 1) -> None:
        self.total += float(value) * n
        self.count += int(n)

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else float("nan")

    def state_dict(self) -> dict:
        return {"total": self.total, "count": self.count}

    def load_state_dict(self, state: dict) -> None:
        self.total = float(state["total"])
        self.count = int(state["count"])
