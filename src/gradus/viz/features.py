"""What a CNN learns, as pictures: first-layer filters, feature maps, and Grad-CAM class-evidence maps.

* ``plot_filters(model_or_weight, path)``: the convolution kernels of one layer as an image grid
  (first layer by default: on images they look like oriented edge / colour-blob detectors).
* ``plot_feature_maps(model, image, path)``: the activations of chosen layers for one input,
  captured with forward hooks (``Module.register_forward_hook``), one row per layer.
* ``grad_cam(model, image)`` / ``plot_grad_cam``: Grad-CAM (Selvaraju et al., ICCV 2017). For a conv
  layer with activations ``A`` of shape ``(K, h, w)`` and the class score ``y_c`` (the logit, before
  softmax)::

      alpha_k = mean_{i,j} d y_c / d A_k[i, j]          (K,)      importance of channel k for class c
      L_c     = ReLU( sum_k alpha_k A_k )                (h, w)    where the evidence for c is
      heatmap = L_c resampled (bilinear) onto the input pixels, divided by its maximum (in [0, 1])

  The resampling puts each cell where its receptive field is centred on the input (found from the
  gradient of the cell w.r.t. the input), not simply stretched over the image: the two differ when
  the model pads internally or uses valid convolutions (LeNet-5's C3 sees the centre of the digit).

  The gradient is taken with ``gradus.autograd.grad`` (no ``.grad`` of the model is touched). By
  default the layer is the last ``Conv2d`` whose output is larger than 1x1.

Images may be ``(H, W)``, ``(C, H, W)`` or ``(1, C, H, W)``, as NumPy arrays or Tensors, already
normalised the way the model expects. Plots use matplotlib's Agg backend and are written as PNG.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

import gradus

from .. import nn
from ..errors import ShapeError

__all__ = ["plot_filters", "plot_feature_maps", "grad_cam", "plot_grad_cam", "find_layer",
           "conv_layers"]


def _plt():
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    import matplotlib.pyplot as plt

    return plt


def _to_numpy(x) -> np.ndarray:
    if isinstance(x, gradus.Tensor):
        return x.detach().numpy()  # copies from the GPU when needed
    return np.asarray(x)


def conv_layers(model) -> list[tuple[str, nn.Module]]:
    """``(name, module)`` of every ``Conv2d`` in ``model``, in registration (forward) order."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]


def find_layer(model, layer) -> tuple[str, nn.Module]:
    """Resolve ``layer`` (a dotted name from ``named_modules()``, or a module of ``model``)."""
    named = dict(model.named_modules())
    if isinstance(layer, str):
        if layer not in named:
            convs = [n for n, _ in conv_layers(model)]
            raise KeyError(f"no layer named {layer!r} in {type(model).__name__}; conv layers: {convs}")
        return layer, named[layer]
    for name, m in named.items():
        if m is layer:
            return name, m
    raise KeyError(f"{type(layer).__name__} is not a submodule of {type(model).__name__}")


def _as_batch(image) -> np.ndarray:
    """(H, W) | (C, H, W) | (1, C, H, W) -> float32 (1, C, H, W)."""
    x = _to_numpy(image).astype(np.float32, copy=False)
    if x.ndim == 2:
        x = x[None, None]
    elif x.ndim == 3:
        x = x[None]
    if x.ndim != 4 or x.shape[0] != 1:
        raise ShapeError(f"expected one image of shape (H, W), (C, H, W) or (1, C, H, W), got {x.shape}")
    return x


def _display(x: np.ndarray) -> np.ndarray:
    """(1, C, H, W) -> (H, W) grey or (H, W, 3) RGB in [0, 1] (min-max scaled) for imshow."""
    img = x[0]
    img = img[0] if img.shape[0] != 3 else np.transpose(img, (1, 2, 0))
    lo, hi = float(img.min()), float(img.max())
    return (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)


def _normalize01(a: np.ndarray) -> np.ndarray:
    lo, hi = float(a.min()), float(a.max())
    return (a - lo) / (hi - lo) if hi > lo else np.full_like(a, 0.5)


# --------------------------------------------------------------------------------------------- filters
def _filter_weight(model_or_weight, layer) -> tuple[str, np.ndarray]:
    if isinstance(model_or_weight, nn.Module):
        model = model_or_weight
        if layer is None:
            convs = conv_layers(model)
            linears = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear)]
            if not convs and not linears:
                raise ValueError(f"plot_filters: {type(model).__name__} has no Conv2d or Linear layer")
            name, m = (convs or linears)[0]
        else:
            name, m = find_layer(model, layer)
        if getattr(m, "weight", None) is None:
            raise ValueError(f"plot_filters: layer {name!r} ({type(m).__name__}) has no weight")
        return name, _to_numpy(m.weight)
    return "weight", _to_numpy(model_or_weight)


def plot_filters(model_or_weight, path, layer=None, max_filters: int = 64, max_inputs: int = 8) -> Path:
    """Draw the kernels of a conv layer (default: the first) as a grid; returns ``path``.

    ``model_or_weight``: a model (``layer`` = name or module; default the first ``Conv2d``, else the
    first ``Linear``), or a weight array / Tensor: ``(out, in, kh, kw)`` conv kernels, or ``(out, D)``
    linear weights with ``D = h*h`` or ``3*h*h`` (shown as h x h images: what a neuron of an MLP's
    first layer looks for). A filter with 3 input channels is drawn in colour, one with 1 in grey;
    otherwise each row is one output filter and each column one of its first ``max_inputs`` input
    channels. Each tile is min-max scaled on its own (a filter's pattern, not its magnitude).
    """
    plt = _plt()
    name, W = _filter_weight(model_or_weight, layer)
    if W.ndim == 2:  # linear: (out, D) -> (out, c, h, h)
        d = W.shape[1]
        for c in (1, 3):
            h = math.isqrt(d // c)
            if c * h * h == d:
                W = W.reshape(W.shape[0], c, h, h)
                break
        else:
            raise ShapeError(f"plot_filters: a linear weight (out, D) needs D = h*h or 3*h*h to be drawn as "
                             f"images; got D = {d}")
    if W.ndim != 4:
        raise ShapeError(f"plot_filters: expected a (out, in, kh, kw) weight, got shape {W.shape}")
    out_c, in_c = W.shape[:2]
    n = min(out_c, max_filters)
    if in_c in (1, 3):  # one tile per filter
        cols = math.ceil(math.sqrt(n))
        rows = math.ceil(n / cols)
        fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.9 + 0.4, rows * 0.9 + 0.6), squeeze=False)
        for i, ax in enumerate(axes.flat):
            ax.axis("off")
            if i < n:
                tile = _normalize01(W[i])  # (c, kh, kw)
                if in_c == 3:
                    ax.imshow(np.transpose(tile, (1, 2, 0)), interpolation="nearest")
                else:
                    ax.imshow(tile[0], cmap="gray", interpolation="nearest")
    else:  # rows = output filters, columns = input channels
        m = min(in_c, max_inputs)
        n = min(out_c, 32)
        fig, axes = plt.subplots(n, m, figsize=(m * 0.6 + 0.4, n * 0.6 + 0.6), squeeze=False)
        for i in range(n):
            for j in range(m):
                ax = axes[i, j]
                ax.axis("off")
                ax.imshow(_normalize01(W[i, j]), cmap="gray", interpolation="nearest")
    fig.suptitle(f"{name}: {out_c} filters of {in_c}x{W.shape[2]}x{W.shape[3]}", fontsize=9)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


# ---------------------------------------------------------------------------------------- feature maps
def _capture(model, modules: list[tuple[str, nn.Module]], x: np.ndarray, need_grad: bool):
    """Run ``model`` on ``x`` (eval mode) and return ``(output, {name: output Tensor of that module})``;
    with ``need_grad`` the input Tensor (which requires grad) is stored under ``acts["<input>"]``."""
    acts: dict[str, object] = {}
    handles = []
    for name, m in modules:
        def hook(module, inputs, output, _name=name):
            acts[_name] = output
        handles.append(m.register_forward_hook(hook))
    was_training = model.training
    model.eval()
    try:
        if need_grad:
            with gradus.enable_grad():
                xt = gradus.tensor(x, requires_grad=True)  # so every activation is in the graph
                acts["<input>"] = xt
                out = model(xt)
        else:
            with gradus.no_grad():
                out = model(gradus.tensor(x))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return out, acts


def plot_feature_maps(model, image, path, layers=None, max_maps: int = 16) -> Path:
    """Draw the activations of ``layers`` (names or modules; default every ``Conv2d``, at most 6) for
    one ``image``: the input, then one row per layer with its first ``max_maps`` channels. Returns
    ``path``. Activations are captured by forward hooks, so any submodule works (a ``(1, F)`` output
    is drawn as a 1 x F strip)."""
    plt = _plt()
    x = _as_batch(image)
    if layers is None:
        chosen = conv_layers(model)[:6]
        if not chosen:
            raise ValueError(f"plot_feature_maps: {type(model).__name__} has no Conv2d layer; pass layers=")
    else:
        chosen = [find_layer(model, layer) for layer in (layers if isinstance(layers, (list, tuple))
                                                         else [layers])]
    _, acts = _capture(model, chosen, x, need_grad=False)
    rows = len(chosen) + 1
    fig = plt.figure(figsize=(max_maps * 0.9, rows * 1.0 + 0.3))
    grid = fig.add_gridspec(rows, max_maps)
    ax = fig.add_subplot(grid[0, 0])
    img = _display(x)
    ax.imshow(img, cmap=None if img.ndim == 3 else "gray")
    ax.set_title("input", fontsize=7)
    ax.axis("off")
    for r, (name, _) in enumerate(chosen, start=1):
        if name not in acts:
            raise RuntimeError(f"plot_feature_maps: layer {name!r} was not called by the forward pass")
        a = _to_numpy(acts[name])[0]  # (C, h, w) | (F,) | ...
        lo, hi = float(a.min()), float(a.max())  # one colour scale per layer: channels are comparable
        if a.ndim == 3 and a.shape[1] * a.shape[2] > 1:
            cells = [fig.add_subplot(grid[r, j]) for j in range(min(a.shape[0], max_maps))]
            for j, ax in enumerate(cells):
                ax.imshow(a[j], cmap="viridis", vmin=lo, vmax=hi, interpolation="nearest")
                ax.axis("off")
            first = cells[0]
        else:  # a vector (or 1x1 maps): one strip across the row, one cell per unit
            first = fig.add_subplot(grid[r, :])
            first.imshow(a.reshape(1, -1), cmap="viridis", vmin=lo, vmax=hi, interpolation="nearest",
                         aspect="auto")
            first.axis("off")
        first.set_title(f"{name} {tuple(a.shape)}", fontsize=7, loc="left")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


# -------------------------------------------------------------------------------------------- Grad-CAM
def _resize_bilinear(a: np.ndarray, H: int, W: int) -> np.ndarray:
    """Bilinear resize of a 2-D map (pixel centres aligned, like ``align_corners=False``)."""
    h, w = a.shape
    ys = np.clip((np.arange(H) + 0.5) * h / H - 0.5, 0, h - 1)
    xs = np.clip((np.arange(W) + 0.5) * w / W - 0.5, 0, w - 1)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    wy, wx = (ys - y0)[:, None], (xs - x0)[None, :]
    top = a[y0][:, x0] * (1 - wx) + a[y0][:, x1] * wx
    bottom = a[y1][:, x0] * (1 - wx) + a[y1][:, x1] * wx
    return (top * (1 - wy) + bottom * wy).astype(np.float32)


def _cell_centres(A, xt):
    """Where the cells of the activation map ``A (1, K, h, w)`` sit on the input ``xt (1, C, H, W)``.

    A map is not always a stretched copy of the image: valid convolutions and padding inside the
    model shift it (LeNet-5's C3 covers only the centre of the 28x28 digit). For two interior cells
    per axis, the centroid of ``|d sum_k A[k, i, j] / d x|`` (the cell's effective receptive field)
    gives its centre in input pixels; the map is affine, ``centre(i) = offset + i * step``. Returns
    ``((offset_y, step_y), (offset_x, step_x))``, or None (stretch the map over the image) when the
    fit agrees with stretching, a probe cell's field touches the image border (deep layers whose
    receptive fields cover the whole image: the centroid would be pulled inwards), a cell has no
    gradient, or the fit is degenerate.
    """
    _, _, h, w = A.shape
    if h < 2 or w < 2:
        return None
    i0, i1 = h // 4, h - 1 - h // 4
    j0, j1 = w // 4, w - 1 - w // 4
    if i1 <= i0 or j1 <= j0:
        return None
    centres = []
    for i, j in ((i0, j0), (i1, j1)):
        (gx,) = gradus.autograd.grad(A[0, :, i, j].sum(), [xt], retain_graph=True)
        mass = np.abs(_to_numpy(gx)[0]).sum(0)  # (H, W)
        total = float(mass.sum())
        if not np.isfinite(total) or total <= 0:
            return None
        inner = float(mass[1:-1, 1:-1].sum())
        if total - inner > 0.02 * total:  # the field reaches the border: clipped, its centroid is biased
            return None
        ys, xs = np.arange(mass.shape[0]), np.arange(mass.shape[1])
        centres.append((float((mass.sum(1) * ys).sum() / total), float((mass.sum(0) * xs).sum() / total)))
    (cy0, cx0), (cy1, cx1) = centres
    step_y, step_x = (cy1 - cy0) / (i1 - i0), (cx1 - cx0) / (j1 - j0)
    if step_y <= 0 or step_x <= 0:
        return None
    fit = (cy0 - i0 * step_y, step_y), (cx0 - j0 * step_x, step_x)
    # The centroids are noisy (ReLU / max-pool gating, receptive fields clipped by the border). Where
    # they agree with the plain stretch to within half a cell, the stretch is the geometry (exact
    # for "same"-padded nets: ResNet, VGG, GoogLeNet); only a real shift or shrink (LeNet) is used.
    H, W = xt.shape[2], xt.shape[3]
    for (off, step), n, size in ((fit[0], h, H), (fit[1], w, W)):
        s_naive = size / n
        o_naive = 0.5 * s_naive - 0.5
        dev = max(abs(off - o_naive), abs(off + (n - 1) * step - o_naive - (n - 1) * s_naive))
        if dev >= 0.5 * s_naive:
            return fit
    return None


def _resize_affine(a: np.ndarray, H: int, W: int, y_map, x_map) -> np.ndarray:
    """Bilinear resampling of a 2-D map whose cell ``(i, j)`` is centred on input pixel
    ``(offset_y + i * step_y, offset_x + j * step_x)``. Beyond the outer cells the map fades to 0
    over one cell (the pixels there are not covered by any cell: no evidence, rather than a smear of
    the edge value)."""
    (oy, sy), (ox, sx) = y_map, x_map
    a = np.pad(a, 1)  # a ring of zero cells at index -1 and h (w)
    h, w = a.shape
    ys = np.clip((np.arange(H) - oy) / sy + 1, 0, h - 1)
    xs = np.clip((np.arange(W) - ox) / sx + 1, 0, w - 1)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    wy, wx = (ys - y0)[:, None], (xs - x0)[None, :]
    top = a[y0][:, x0] * (1 - wx) + a[y0][:, x1] * wx
    bottom = a[y1][:, x0] * (1 - wx) + a[y1][:, x1] * wx
    return (top * (1 - wy) + bottom * wy).astype(np.float32)


def _grad_cam(model, image, target_class, layer):
    x = _as_batch(image)
    if layer is None:
        candidates = conv_layers(model)
        if not candidates:
            raise ValueError(f"grad_cam: {type(model).__name__} has no Conv2d layer; pass layer=")
    else:
        candidates = [find_layer(model, layer)]
    out, acts = _capture(model, candidates, x, need_grad=True)
    if isinstance(out, tuple):  # e.g. GoogLeNetOutputs: the main logits come first
        out = out[0]
    if out.ndim != 2 or out.shape[0] != 1:
        raise ShapeError(f"grad_cam: expected the model to return (1, num_classes) scores, "
                         f"got {tuple(out.shape)}")
    # the last chosen layer whose output is a real map (a 1x1 output, e.g. LeNet's C5, has no "where")
    usable = [(n, acts[n]) for n, _ in candidates if n in acts and acts[n].ndim == 4
              and (layer is not None or acts[n].shape[2] * acts[n].shape[3] > 1)]
    if not usable:
        raise ValueError("grad_cam: no chosen layer produced a (1, K, h, w) activation in the forward pass")
    name, A = usable[-1]
    scores = _to_numpy(out)[0]
    c = int(scores.argmax()) if target_class is None else int(target_class)
    if not 0 <= c < scores.shape[0]:
        raise IndexError(f"grad_cam: target_class {c} out of range for {scores.shape[0]} classes")
    (dA,) = gradus.autograd.grad(out[0, c], [A], retain_graph=True)  # (1, K, h, w): d y_c / d A
    A_np, g = _to_numpy(A)[0], _to_numpy(dA)[0]           # (K, h, w)
    alpha = g.mean(axis=(1, 2))                           # (K,) channel importances
    cam = np.maximum((alpha[:, None, None] * A_np).sum(0), 0.0).astype(np.float32)  # (h, w)
    H, W = x.shape[2], x.shape[3]
    geometry = _cell_centres(A, acts["<input>"])
    if geometry is None:  # plain stretch of the map over the image
        heat = _resize_bilinear(cam, H, W)
    else:
        heat = _resize_affine(cam, H, W, *geometry)
    peak = float(heat.max())
    heat = heat / peak if peak > 0 else heat
    probs = np.exp(scores - scores.max())
    return heat.astype(np.float32), c, float(probs[c] / probs.sum()), name, x, cam


def grad_cam(model, image, target_class=None, layer=None) -> np.ndarray:
    """Grad-CAM heatmap ``(H, W)`` float32 in [0, 1] for ``target_class`` (default: the predicted
    class) at ``layer`` (name or module; default the last ``Conv2d`` with an output larger than 1x1).
    Runs the model in eval mode and restores its mode; does not touch any ``.grad``."""
    return _grad_cam(model, image, target_class, layer)[0]


def plot_grad_cam(model, image, path, target_class=None, layer=None, class_names=None,
                  alpha: float = 0.5) -> Path:
    """Save ``[image | Grad-CAM heatmap | overlay]`` for ``target_class`` to ``path``; returns ``path``."""
    plt = _plt()
    heat, c, p, name, x, _ = _grad_cam(model, image, target_class, layer)
    img = _display(x)
    label = class_names[c] if class_names is not None else str(c)
    fig, axes = plt.subplots(1, 3, figsize=(7.5, 2.8))
    cmap = None if img.ndim == 3 else "gray"
    axes[0].imshow(img, cmap=cmap)
    axes[0].set_title("input", fontsize=9)
    axes[1].imshow(heat, cmap="jet", vmin=0, vmax=1)
    axes[1].set_title(f"Grad-CAM @ {name}", fontsize=9)
    axes[2].imshow(img, cmap=cmap)
    axes[2].imshow(heat, cmap="jet", alpha=alpha, vmin=0, vmax=1)
    axes[2].set_title(f"class {label} (p={p:.2f})", fontsize=9)
    for ax in axes:
        ax.axis("off")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path
