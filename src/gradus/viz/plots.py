"""Training and model plots as PNG files (matplotlib, Agg backend: no display needed).

Each function takes plain NumPy arrays (gradus Tensors are converted), writes one PNG and returns
its path::

    plot_curves(trainer.history, "run/curves.png")              # loss / accuracy, train vs validation
    plot_confusion_matrix(cm, class_names, "run/confusion.png")
    plot_misclassified(images, y_true, y_pred, "run/misclassified.png")
    plot_first_layer(net.layers[0].weight, (28, 28), "run/first_layer.png")
    plot_decision_boundary(predict_fn, X, y, "run/decision_boundary.png")
    plot_samples(images, labels, "run/samples.png")
"""
from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: works on servers and CI, never opens a window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = [
    "plot_curves",
    "plot_confusion_matrix",
    "plot_misclassified",
    "plot_first_layer",
    "plot_decision_boundary",
    "plot_samples",
    "image_grid",
]

_DPI = 100


def _np(x: Any) -> np.ndarray:
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        x = x.numpy()
    return np.asarray(x)


def _save(fig: Any, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=_DPI, bbox_inches="tight")
    plt.close(fig)
    return path


def _to_display(img: np.ndarray, image_shape: Sequence[int] | None = None) -> tuple[np.ndarray, str | None]:
    """One image as ``(H, W)`` (gray) or ``(H, W, 3)`` in [0, 1] for imshow, and its colormap.

    Accepts ``(H, W)``, ``(1, H, W)``, ``(3, H, W)``, ``(H, W, 3)`` or a flat vector with
    ``image_shape``. Values are rescaled to [0, 1] per image (standardised inputs are fine).
    """
    a = np.asarray(img, dtype=np.float64)
    if image_shape is not None and a.ndim == 1:
        a = a.reshape(tuple(image_shape))
    if a.ndim == 3 and a.shape[0] in (1, 3) and a.shape[-1] not in (1, 3):
        a = np.moveaxis(a, 0, -1)  # CHW -> HWC
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim == 1:  # a flat vector without a shape: show it as the most square grid
        side = int(math.isqrt(a.size))
        a = a.reshape(side, -1) if side * side == a.size else a.reshape(1, -1)
    lo, hi = float(np.min(a)), float(np.max(a))
    a = (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)
    return a, ("gray_r" if a.ndim == 2 else None)


def _labels(output: Any, n: int) -> np.ndarray:
    """The ``(n,)`` integer labels a ``predict_fn`` must return (scores are turned into labels by the
    caller, e.g. with ``gradus.train.metrics.predictions``: viz does not import train, they are peers)."""
    out = _np(output)
    if out.shape != (n,) or out.dtype.kind not in "iub":
        raise ValueError(f"predict_fn must return integer labels of shape ({n},), got {out.dtype} of shape "
                         f"{out.shape}; turn scores into labels first (gradus.train.metrics.predictions)")
    return out.astype(np.int64, copy=False)


def image_grid(n: int, max_cols: int = 10) -> tuple[int, int]:
    """(rows, cols) for ``n`` tiles, at most ``max_cols`` wide."""
    cols = max(1, min(n, max_cols))
    return max(1, math.ceil(n / cols)), cols


# --------------------------------------------------------------------------- curves


def plot_curves(history: Sequence[Mapping[str, Any]] | Mapping[str, Sequence[float]], path: str | os.PathLike,
                title: str | None = None) -> Path:
    """Loss (left) and accuracy (right, when logged) per epoch, training vs validation.

    Args:
        history: a list of per-epoch dicts (``Trainer.history``: ``loss``, ``val_loss``,
            ``accuracy``, ``val_accuracy``, ...) or a dict of lists.

    A widening gap between the training and validation curves is overfitting (the lecture's
    cue for early stopping or regularisation).
    """
    if isinstance(history, Mapping):
        n = max((len(v) for v in history.values()), default=0)
        rows = [{k: v[i] for k, v in history.items() if i < len(v)} for i in range(n)]
    else:
        rows = list(history)
    epochs = [r.get("epoch", i + 1) for i, r in enumerate(rows)]

    def series(key: str) -> list[float] | None:
        vals = [r.get(key) for r in rows]
        if all(v is None for v in vals):
            return None
        return [float("nan") if v is None else float(v) for v in vals]

    panels = [("loss", "loss")]
    if series("accuracy") is not None or series("val_accuracy") is not None:
        panels.append(("accuracy", "accuracy"))
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.8), squeeze=False)
    for ax, (key, label) in zip(axes[0], panels):
        for prefix, name, style in (("", "training", "-o"), ("val_", "validation", "-s")):
            ys = series(prefix + key)
            if ys is not None:
                ax.plot(epochs, ys, style, markersize=3, label=name)
        if key == "accuracy":
            ax.set_ylim(top=1.01)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
        ax.set_title(label)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)


# --------------------------------------------------------------------------- confusion matrix


def plot_confusion_matrix(cm: Any, class_names: Sequence[str] | None, path: str | os.PathLike,
                          normalize: bool = False, title: str | None = None) -> Path:
    """The confusion matrix as a heat map: row = true class, column = predicted class, with counts
    (or row shares with ``normalize=True``) written in the cells."""
    cm = _np(cm)
    n = cm.shape[0]
    names = [str(c) for c in (class_names if class_names is not None else range(n))]
    shown = cm.astype(np.float64)
    if normalize:
        shown = shown / np.maximum(shown.sum(axis=1, keepdims=True), 1)
    size = max(4.0, 0.5 * n + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    im = ax.imshow(shown, cmap="Blues")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(n), names, rotation=45 if max(map(len, names)) > 3 else 0, ha="right"
                  if max(map(len, names)) > 3 else "center")
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if n <= 30:
        thresh = shown.max() / 2 if shown.size else 0
        for i in range(n):
            for j in range(n):
                text = f"{shown[i, j]:.2f}" if normalize else str(int(cm[i, j]))
                ax.text(j, i, text, ha="center", va="center", fontsize=8 if n <= 12 else 6,
                        color="white" if shown[i, j] > thresh else "black")
    acc = np.trace(cm) / max(cm.sum(), 1)
    ax.set_title(title or f"confusion matrix (accuracy {acc:.4f})")
    fig.tight_layout()
    return _save(fig, path)


# --------------------------------------------------------------------------- image grids
# One mosaic image drawn by a single imshow (tiles separated by blank lines) instead of one matplotlib
# Axes per tile: 64 Axes take seconds to lay out and render, one image takes milliseconds.


def _mosaic(tiles: list[np.ndarray], cols: int, pad: int = 1, fill: float = np.nan) -> np.ndarray:
    """Tiles of equal shape ``(h, w)`` or ``(h, w, 3)`` arranged ``cols`` per row, ``pad`` pixels apart."""
    h, w = tiles[0].shape[:2]
    extra = tiles[0].shape[2:]
    rows = math.ceil(len(tiles) / cols)
    out = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad, *extra), fill, dtype=np.float64)
    for k, t in enumerate(tiles):
        r, c = divmod(k, cols)
        out[r * (h + pad): r * (h + pad) + h, c * (w + pad): c * (w + pad) + w] = t
    return out


def _tile_figure(tiles: list[np.ndarray], cols: int, titles: Sequence[str] | None = None,
                 title_color: str = "black", cmap: Any = "gray_r", vmin: float | None = None,
                 vmax: float | None = None, tile_inches: float = 0.9, title: str | None = None) -> Any:
    """A figure showing ``tiles`` as one mosaic, with an optional title above each tile."""
    h, w = tiles[0].shape[:2]
    pad = max(1, round(0.12 * max(h, w))) if titles is None else max(2, round(0.4 * h))
    mosaic = _mosaic(tiles, cols, pad)
    if mosaic.ndim == 3:  # RGB: blank separators in white
        mosaic = np.where(np.isnan(mosaic), 1.0, mosaic)
    top = pad if titles is not None else 0  # a band above the first row for its titles
    width = max(2.5, tile_inches * cols)
    # Size the figure to the mosaic's aspect ratio, so no blank bands appear around it.
    fig, ax = plt.subplots(figsize=(width, width * (mosaic.shape[0] + top) / mosaic.shape[1]))
    cm = plt.get_cmap(cmap).with_extremes(bad="white") if isinstance(cmap, str) else cmap
    ax.imshow(mosaic, cmap=cm, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.axis("off")
    fig.subplots_adjust(left=0, right=1, bottom=0, top=1)
    if title:
        ax.set_title(title, fontsize=10)  # outside the axes; bbox_inches="tight" makes room
    if titles is not None:
        # Titles go into the blank band above each tile (the band is `pad` pixels high).
        ax.set_ylim(mosaic.shape[0] - 0.5, -top - 0.5)
        for k, t in enumerate(titles[: len(tiles)]):
            r, c = divmod(k, cols)
            ax.text(c * (w + pad) + (w - 1) / 2, r * (h + pad) - 0.6, t, ha="center", va="bottom",
                    fontsize=7, color=title_color)
    return fig


def plot_samples(images: Any, labels: Sequence[Any] | None, path: str | os.PathLike,
                 image_shape: Sequence[int] | None = None, class_names: Sequence[str] | None = None,
                 max_images: int = 64, title: str | None = None) -> Path:
    """A grid of images with their labels above them.

    Args:
        images: ``(N, H, W)``, ``(N, C, H, W)``, ``(N, H, W, C)``, or ``(N, D)`` with ``image_shape``.
        labels: one label per image (ints are mapped through ``class_names``), or None.
    """
    imgs = _np(images)[:max_images]
    if len(imgs) == 0:
        raise ValueError("plot_samples: no images")
    tiles = [_to_display(im, image_shape)[0] for im in imgs]
    titles = None
    if labels is not None:
        titles = []
        for lab in list(_np(labels).tolist())[: len(imgs)]:
            if class_names is not None and isinstance(lab, int) and 0 <= lab < len(class_names):
                lab = class_names[lab]
            titles.append(str(lab))
    fig = _tile_figure(tiles, image_grid(len(tiles))[1], titles,
                       cmap="gray_r" if tiles[0].ndim == 2 else None, vmin=0, vmax=1, title=title)
    return _save(fig, path)


def plot_misclassified(images: Any, y_true: Any, y_pred: Any, path: str | os.PathLike,
                       image_shape: Sequence[int] | None = None, class_names: Sequence[str] | None = None,
                       max_images: int = 40) -> Path:
    """The misclassified examples among ``images``, titled ``true->predicted`` (in red).

    ``images``/``y_true``/``y_pred`` cover a whole evaluated set; only the samples with
    ``y_true != y_pred`` are drawn (the first ``max_images``).
    """
    imgs, t, p = _np(images), _np(y_true).reshape(-1), _np(y_pred).reshape(-1)
    wrong = np.flatnonzero(t != p)[:max_images]

    def name(c: int) -> str:
        return str(class_names[c]) if class_names is not None and 0 <= c < len(class_names) else str(c)

    if len(wrong) == 0:
        fig, ax = plt.subplots(figsize=(4, 1.5))
        ax.axis("off")
        ax.text(0.5, 0.5, f"no misclassified examples among {len(t)}", ha="center", va="center")
        return _save(fig, path)
    tiles = [_to_display(imgs[i], image_shape)[0] for i in wrong]
    titles = [f"{name(int(t[i]))}\u2192{name(int(p[i]))}" for i in wrong]
    fig = _tile_figure(tiles, image_grid(len(tiles))[1], titles, title_color="tab:red",
                       cmap="gray_r" if tiles[0].ndim == 2 else None, vmin=0, vmax=1,
                       title=f"misclassified: {int((t != p).sum())} of {len(t)} (true \u2192 predicted)")
    return _save(fig, path)


def plot_first_layer(weight: Any, image_shape: Sequence[int] | None, path: str | os.PathLike,
                     max_units: int = 64, title: str | None = None) -> Path:
    """First-layer weights drawn as images: what each unit "looks for" in the input.

    Args:
        weight: a Linear weight ``(out, in)`` with ``in == prod(image_shape)`` (row ``k`` is the
            receptive field of unit ``k``), or a conv weight ``(out, C, kh, kw)``.
        image_shape: ``(H, W)`` or ``(C, H, W)`` for a Linear weight; ignored for conv weights.

    Gray-scale tiles use a diverging colormap centred on 0 (red = positive, blue = negative
    weight), each tile scaled by its own largest ``|w|``; 3-channel tiles are shown as colours.
    """
    W = _np(weight).astype(np.float64)
    if W.ndim == 2:
        if image_shape is None or int(np.prod(image_shape)) != W.shape[1]:
            raise ValueError(f"plot_first_layer: weight (out, in) = {W.shape} needs image_shape with "
                             f"prod == {W.shape[1]}, got {image_shape}")
        tiles_w = W.reshape((W.shape[0], *tuple(image_shape)))
    elif W.ndim == 4:
        tiles_w = W
    else:
        raise ValueError(f"plot_first_layer: expected a (out, in) or (out, C, kh, kw) weight, got {W.shape}")
    tiles_w = tiles_w[:max_units]
    rgb = tiles_w.ndim == 4 and tiles_w.shape[1] == 3
    tiles = []
    for t in tiles_w:
        if rgb:
            tiles.append(_to_display(t)[0])
            continue
        if t.ndim == 3:
            t = t.mean(axis=0) if t.shape[0] != 1 else t[0]  # several input channels: their average
        m = float(np.abs(t).max()) or 1.0
        tiles.append(t / m)
    cols = min(8, len(tiles))
    fig = _tile_figure(tiles, cols, None, cmap=None if rgb else "RdBu_r", vmin=None if rgb else -1.0,
                       vmax=None if rgb else 1.0,
                       title=title or f"first-layer weights ({len(tiles)} of {W.shape[0]} units)")
    return _save(fig, path)


# --------------------------------------------------------------------------- decision boundary


def plot_decision_boundary(predict_fn: Callable[[np.ndarray], Any], X: Any, y: Any, path: str | os.PathLike,
                           resolution: int = 300, margin: float = 0.5, title: str | None = None) -> Path:
    """The regions a classifier assigns to each class over the plane, with the data on top.

    Args:
        predict_fn: maps float32 points ``(M, 2)`` to integer labels ``(M,)``.
        X: ``(N, 2)`` inputs; y: ``(N,)`` labels.
    """
    X, y = _np(X).astype(np.float64), _np(y).reshape(-1)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary needs 2-D inputs (N, 2), got {X.shape}")
    x0, x1 = X[:, 0].min() - margin, X[:, 0].max() + margin
    y0, y1 = X[:, 1].min() - margin, X[:, 1].max() + margin
    xx, yy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    grid = np.stack([xx.ravel(), yy.ravel()], axis=1).astype(np.float32)
    zz = _labels(predict_fn(grid), len(grid)).reshape(xx.shape)
    classes = np.unique(np.concatenate([np.unique(y), np.unique(zz)])).astype(int)
    k = int(classes.max()) + 1 if len(classes) else 1
    cmap = plt.get_cmap("tab10" if k <= 10 else "tab20")
    fig, ax = plt.subplots(figsize=(5, 4.5))
    ax.contourf(xx, yy, zz, levels=np.arange(-0.5, k + 0.5), cmap=cmap, alpha=0.3, vmin=-0.5,
                vmax=(10 if k <= 10 else 20) - 0.5)
    ax.contour(xx, yy, zz, levels=np.arange(0.5, k - 0.5), colors="k", linewidths=0.6)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap=cmap, vmin=-0.5, vmax=(10 if k <= 10 else 20) - 0.5,
               edgecolors="k", linewidths=0.5, s=22)
    acc = float(np.mean(_labels(predict_fn(X.astype(np.float32)), len(X)) == y)) if len(y) else float("nan")
    ax.set_title(title or f"decision boundary (accuracy {acc:.3f})")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    fig.tight_layout()
    return _save(fig, path)
