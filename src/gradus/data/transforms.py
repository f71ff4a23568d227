"""Per-sample transforms, NumPy based, with torchvision names.

Layout convention (as torchvision's PIL-vs-tensor split):

* an **ndarray** is a raw image: ``(H, W)`` or ``(H, W, C)`` (what ``MNIST.data[i]`` and
  ``CIFAR10.data[i]`` are);
* a **gradus Tensor** is ``(..., C, H, W)`` (what :class:`ToTensor` produces).

Geometric transforms keep the type (and dtype) they are given.  Randomness comes from
``generator`` (an int seed or a ``numpy.random.Generator``) or else the gradus global generator,
so ``gradus.manual_seed(s)`` makes augmentation reproducible.

Batched helpers (:func:`batch_random_crop`, :func:`batch_random_horizontal_flip`) work on a whole
``(N, C, H, W)`` ndarray at once, which is much cheaper than a per-sample Python loop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..errors import ShapeError
from ..validation import check_int, check_number, describe
from ._compat import as_generator, is_tensor, to_tensor

__all__ = [
    "Compose",
    "ToTensor",
    "Normalize",
    "Lambda",
    "Flatten",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomVerticalFlip",
    "ElasticDistortion",
    "RandomAffine",
    "batch_elastic_distortion",
    "batch_random_affine",
    "gaussian_filter",
    "bilinear_sample",
    "batch_random_crop",
    "batch_random_horizontal_flip",
]


# --------------------------------------------------------------------------- helpers


def _unwrap(x: Any) -> tuple[np.ndarray, bool]:
    """(array, was_tensor)."""
    if is_tensor(x):
        return x.numpy(), True
    return np.asarray(x), False


def _rewrap(a: np.ndarray, was_tensor: bool) -> Any:
    return to_tensor(np.ascontiguousarray(a)) if was_tensor else a


def _hw_axes(a: np.ndarray, was_tensor: bool) -> tuple[int, int]:
    """Axes of height and width: last two for Tensors (CHW), first two for ndarrays (HW / HWC)."""
    if a.ndim < 2:
        raise ValueError(f"expected an image with at least 2 dimensions, got shape {a.shape}")
    if was_tensor or a.ndim == 2:
        return a.ndim - 2, a.ndim - 1
    return 0, 1


def _pair(size: int | Sequence[int], fn: str = "size", arg: str = "size") -> tuple[int, int]:
    """An int or a sequence of 1 or 2 ints -> (h, w), each a positive int."""
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        v = check_int(fn, arg, size, min=1)
        return v, v
    if not isinstance(size, (tuple, list)) or len(size) not in (1, 2):
        raise TypeError(f"{fn}: {arg} must be an int or a sequence of 1 or 2 ints, got {describe(size)}")
    vals = [check_int(fn, arg, v, min=1) for v in size]
    return (vals[0], vals[0]) if len(vals) == 1 else (vals[0], vals[1])


def _restore_dtype(out: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Cast float results back to an integer image dtype with rounding and clipping."""
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.clip(np.rint(out), info.min, info.max).astype(dtype)
    return out.astype(dtype, copy=False)


# --------------------------------------------------------------------------- basic


class Compose:
    """Apply transforms in order: ``Compose([ToTensor(), Normalize((0.1307,), (0.3081,))])``."""

    def __init__(self, transforms: Sequence[Callable]) -> None:
        if callable(transforms) or not isinstance(transforms, (list, tuple)):
            raise TypeError(f"Compose: transforms must be a list of callables, got {describe(transforms)}")
        for i, t in enumerate(transforms):
            if not callable(t):
                raise TypeError(f"Compose: transforms[{i}] must be callable (a transform or a function), "
                                f"got {describe(t)}")
        self.transforms = list(transforms)

    def __call__(self, x: Any) -> Any:
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"{type(self).__name__}({inner}\n)"


class ToTensor:
    """Image ndarray ``(H, W)`` or ``(H, W, C)`` -> gradus Tensor ``(C, H, W)`` float32.

    uint8 input is scaled by 1/255 into [0, 1] (as torchvision); other dtypes are converted to
    float32 unscaled.  A gradus Tensor input is returned unchanged.
    """

    def __call__(self, pic: Any) -> Any:
        if is_tensor(pic):
            return pic
        a = np.asarray(pic)
        scale = a.dtype == np.uint8
        if a.ndim == 2:
            a = a[None, :, :]  # (1, H, W)
        elif a.ndim == 3:
            a = a.transpose(2, 0, 1)  # (H, W, C) -> (C, H, W)
        else:
            raise ValueError(f"ToTensor expects (H, W) or (H, W, C), got shape {a.shape}")
        out = np.ascontiguousarray(a, dtype=np.float32)
        if scale:
            np.divide(out, 255.0, out=out)
        return to_tensor(out)

    def __repr__(self) -> str:
        return "ToTensor()"


class Normalize:
    """``(x - mean[c]) / std[c]`` per channel of a ``(C, H, W)`` image (or elementwise if scalars).

    Works on gradus Tensors and ndarrays, returning the same type.
    """

    def __init__(
        self, mean: float | Sequence[float], std: float | Sequence[float], inplace: bool = False
    ) -> None:
        for arg, v in (("mean", mean), ("std", std)):
            items = v if isinstance(v, (list, tuple, np.ndarray)) else [v]
            for e in np.ravel(np.asarray(items, dtype=object)):
                check_number("Normalize", arg, e)
        self.mean = np.asarray(mean, dtype=np.float32)
        self.std = np.asarray(std, dtype=np.float32)
        if self.mean.ndim > 1 or self.std.ndim > 1:
            raise ShapeError(f"Normalize: mean and std must be numbers or 1-D sequences (one per channel), "
                             f"got shapes {self.mean.shape} and {self.std.shape}")
        if self.mean.size != self.std.size and 1 not in (self.mean.size, self.std.size):
            raise ShapeError(f"Normalize: mean has {self.mean.size} values but std has {self.std.size}; "
                             "expected one of each per channel (or a single number)")
        if np.any(self.std < 0):
            raise ValueError(f"Normalize: std must be positive, got {std}")
        if np.any(self.std == 0):
            raise ValueError(f"std evaluated to zero after conversion to float32: {std}")
        self.inplace = inplace

    def __call__(self, x: Any) -> Any:
        a, was_tensor = _unwrap(x)
        mean, std = self.mean, self.std
        if mean.ndim == 1 and a.ndim >= 3:  # per-channel over (C, H, W)
            n = max(mean.size, std.size)
            if n != 1 and a.shape[-3] != n:
                hint = (" (it looks like an (H, W, C) array: apply ToTensor() first, which gives (C, H, W))"
                        if a.shape[-1] == n else "")
                raise ShapeError(f"Normalize: {n} channel means/stds for an image of shape {a.shape}: "
                                 f"expected "
                                 f"(..., {n}, H, W){hint}")
            mean, std = mean.reshape(-1, 1, 1), std.reshape(-1, 1, 1)
        if not np.issubdtype(a.dtype, np.floating):
            a = a.astype(np.float32)
        if self.inplace and a.flags.writeable:
            a -= mean
            a /= std
            out = a
        else:
            out = ((a - mean) / std).astype(np.result_type(a.dtype, np.float32), copy=False)
        return _rewrap(out, was_tensor)

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


class Lambda:
    """Wrap a function as a transform."""

    def __init__(self, lambd: Callable[[Any], Any]) -> None:
        if not callable(lambd):
            raise TypeError(f"Lambda needs a callable, got {type(lambd)!r}")
        self.lambd = lambd

    def __call__(self, x: Any) -> Any:
        return self.lambd(x)

    def __repr__(self) -> str:
        return "Lambda()"


class Flatten:
    """Reshape a sample to 1-D (e.g. ``(1, 28, 28)`` -> ``(784,)``) for MLPs."""

    def __call__(self, x: Any) -> Any:
        a, was_tensor = _unwrap(x)
        return _rewrap(a.reshape(-1), was_tensor)

    def __repr__(self) -> str:
        return "Flatten()"


# --------------------------------------------------------------------------- random geometry


def _padding4(padding: int | Sequence[int], fn: str = "pad") -> tuple[int, int, int, int]:
    """torchvision's padding forms -> (left, top, right, bottom)."""
    if isinstance(padding, (int, np.integer)):
        p = check_int(fn, "padding", padding)
        return p, p, p, p
    if not isinstance(padding, (tuple, list)):
        raise TypeError(f"{fn}: padding must be an int or a sequence of 1, 2 or 4 ints, got "
                        f"{describe(padding)}")
    padding = [check_int(fn, "padding", p) for p in padding]
    if len(padding) == 1:
        return padding[0], padding[0], padding[0], padding[0]
    if len(padding) == 2:
        return padding[0], padding[1], padding[0], padding[1]
    if len(padding) == 4:
        return padding[0], padding[1], padding[2], padding[3]
    raise ValueError(f"padding must be an int or a sequence of 1, 2 or 4 ints, got {padding}")


def _pad_hw(
    a: np.ndarray, hw: tuple[int, int], lt_rb: tuple[int, int, int, int], fill: float, mode: str
) -> np.ndarray:
    left, top, right, bottom = lt_rb
    pads = [(0, 0)] * a.ndim
    pads[hw[0]] = (top, bottom)
    pads[hw[1]] = (left, right)
    if mode == "constant":
        return np.pad(a, pads, mode="constant", constant_values=fill)
    return np.pad(a, pads, mode=mode)


class RandomCrop:
    """Crop a random ``size`` window, after optional padding (torchvision semantics).

    Args:
        size: ``int`` for a square crop or ``(h, w)``.
        padding: ``int``, ``(left/right, top/bottom)`` or ``(left, top, right, bottom)``.
        pad_if_needed: pad images smaller than ``size``.
        fill: value for ``padding_mode="constant"``.
        padding_mode: ``"constant"``, ``"edge"``, ``"reflect"`` or ``"symmetric"``.
    """

    def __init__(
        self,
        size: int | Sequence[int],
        padding: int | Sequence[int] | None = None,
        pad_if_needed: bool = False,
        fill: float = 0,
        padding_mode: str = "constant",
        generator: Any = None,
    ) -> None:
        self.size = _pair(size, "RandomCrop")
        if padding is not None:
            lt_rb = _padding4(padding, "RandomCrop")
            if min(lt_rb) < 0:
                raise ValueError(f"RandomCrop: padding must be non-negative, got {padding!r}")
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError(f"RandomCrop: unknown padding_mode {padding_mode!r} (expected 'constant', "
                             f"'edge', "
                             "'reflect' or 'symmetric')")
        self.padding_mode = padding_mode
        self.generator = generator

    def __call__(self, img: Any) -> Any:
        a, was_tensor = _unwrap(img)
        hw = _hw_axes(a, was_tensor)
        if self.padding is not None:
            a = _pad_hw(a, hw, _padding4(self.padding), self.fill, self.padding_mode)
        th, tw = self.size
        if self.pad_if_needed:
            dh, dw = max(th - a.shape[hw[0]], 0), max(tw - a.shape[hw[1]], 0)
            if dh or dw:
                a = _pad_hw(a, hw, (dw, dh, dw, dh), self.fill, self.padding_mode)
        h, w = a.shape[hw[0]], a.shape[hw[1]]
        if h < th or w < tw:
            raise ValueError(f"crop size {(th, tw)} is larger than the (padded) image size {(h, w)}")
        rng = as_generator(self.generator)
        i = int(rng.integers(0, h - th + 1))
        j = int(rng.integers(0, w - tw + 1))
        index = [slice(None)] * a.ndim
        index[hw[0]] = slice(i, i + th)
        index[hw[1]] = slice(j, j + tw)
        return _rewrap(np.ascontiguousarray(a[tuple(index)]), was_tensor)

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirror left-right with probability ``p``."""

    _axis = 1  # index into _hw_axes: width

    def __init__(self, p: float = 0.5, generator: Any = None) -> None:
        self.p = check_number(type(self).__name__, "p", p, min=0.0, max=1.0)
        self.generator = generator

    def __call__(self, img: Any) -> Any:
        if as_generator(self.generator).random() >= self.p:
            return img
        a, was_tensor = _unwrap(img)
        axis = _hw_axes(a, was_tensor)[self._axis]
        return _rewrap(np.flip(a, axis=axis).copy(), was_tensor)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror top-bottom with probability ``p``."""

    _axis = 0


# --------------------------------------------------------------------------- elastic distortion


def _gaussian_kernel1d(sigma: float, truncate: float = 4.0) -> np.ndarray:
    radius = int(truncate * sigma + 0.5)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


def gaussian_filter(
    a: np.ndarray, sigma: float, axes: tuple[int, ...] = (0, 1), truncate: float = 4.0
) -> np.ndarray:
    """Separable Gaussian blur of ``a`` along ``axes`` (boundary: mirror, like SciPy's "reflect").

    The kernel is sampled on ``[-r, r]`` with ``r = round(truncate * sigma)`` and normalized to sum
    to 1; each axis is one loop over the kernel taps (vectorized over the image), which is fast
    for the small images and sigmas used in augmentation.  Returns float64.
    """
    out = np.asarray(a, dtype=np.float64)
    check_number("gaussian_filter", "sigma", sigma, min=0.0)
    if sigma <= 0:
        return out.copy()
    k = _gaussian_kernel1d(sigma, truncate)
    r = len(k) // 2
    for axis in axes:
        n = out.shape[axis]
        pads = [(0, 0)] * out.ndim
        pads[axis] = (r, r)
        # "symmetric" repeats the edge sample (d c b a | a b c d), which is SciPy's "reflect".
        # For a kernel wider than the image, np.pad reflects repeatedly, as SciPy does.
        padded = np.pad(out, pads, mode="symmetric")
        acc = np.zeros_like(out)
        for t, w in enumerate(k):
            acc += w * np.take(padded, np.arange(t, t + n), axis=axis)
        out = acc
    return out


def bilinear_sample(img: np.ndarray, ys: np.ndarray, xs: np.ndarray, fill: float = 0.0) -> np.ndarray:
    """Sample ``img`` at real coordinates with bilinear interpolation.

    Args:
        img: ``(H, W)`` or ``(H, W, C)``.
        ys, xs: ``(H', W')`` row / column coordinates.  Neighbours outside the image count as ``fill``.

    Returns:
        ``(H', W')`` or ``(H', W', C)`` float64.
    """
    img = np.asarray(img, dtype=np.float64)
    H, W = img.shape[:2]
    y0 = np.floor(ys).astype(np.int64)
    x0 = np.floor(xs).astype(np.int64)
    wy = (ys - y0)[..., None] if img.ndim == 3 else ys - y0
    wx = (xs - x0)[..., None] if img.ndim == 3 else xs - x0

    def corner(yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
        valid = (yy >= 0) & (yy < H) & (xx >= 0) & (xx < W)
        v = img[np.clip(yy, 0, H - 1), np.clip(xx, 0, W - 1)]
        mask = valid[..., None] if img.ndim == 3 else valid
        return np.where(mask, v, fill)

    top = corner(y0, x0) * (1 - wx) + corner(y0, x0 + 1) * wx
    bottom = corner(y0 + 1, x0) * (1 - wx) + corner(y0 + 1, x0 + 1) * wx
    return top * (1 - wy) + bottom * wy


def batch_elastic_distortion(imgs: np.ndarray, alpha: float = 34.0, sigma: float = 4.0,
                             generator: np.random.Generator | None = None, fill: float = 0.0) -> np.ndarray:
    """``ElasticDistortion`` for a whole batch ``(N, H, W)`` at once (one random field per image).

    The displacement fields of all images are smoothed in one separable Gaussian pass and sampled
    with one vectorized bilinear gather, so a batch of 128 MNIST digits costs a few milliseconds
    instead of a Python loop over images. Returns float32 ``(N, H, W)``.
    """
    imgs = np.asarray(imgs, dtype=np.float32)
    if imgs.ndim != 3:
        raise ValueError(f"batch_elastic_distortion: expects (N, H, W) images, got shape {imgs.shape}")
    check_number("batch_elastic_distortion", "alpha", alpha, min=0.0)
    check_number("batch_elastic_distortion", "sigma", sigma, min=0.0)
    if alpha == 0:
        return imgs.copy()
    rng = as_generator(generator)
    N, H, W = imgs.shape
    dx = gaussian_filter(rng.uniform(-1.0, 1.0, size=(N, H, W)), sigma, axes=(1, 2)) * alpha
    dy = gaussian_filter(rng.uniform(-1.0, 1.0, size=(N, H, W)), sigma, axes=(1, 2)) * alpha
    yy, xx = np.meshgrid(np.arange(H), np.arange(W), indexing="ij")
    return _batch_bilinear(imgs, yy + dy, xx + dx, fill)


def _batch_bilinear(imgs: np.ndarray, ys: np.ndarray, xs: np.ndarray, fill: float) -> np.ndarray:
    """Sample each image of ``imgs`` ``(N, H, W)`` at its own real coordinates ``ys, xs`` ``(N, H, W)``
    (bilinear; neighbours outside the image count as ``fill``) in one vectorized gather."""
    N, H, W = imgs.shape
    y0, x0 = np.floor(ys).astype(np.int64), np.floor(xs).astype(np.int64)
    wy, wx = (ys - y0).astype(np.float32), (xs - x0).astype(np.float32)
    n = np.arange(N)[:, None, None]

    def corner(y, x):
        valid = (y >= 0) & (y < H) & (x >= 0) & (x < W)
        return np.where(valid, imgs[n, np.clip(y, 0, H - 1), np.clip(x, 0, W - 1)], np.float32(fill))

    top = corner(y0, x0) * (1 - wx) + corner(y0, x0 + 1) * wx
    bottom = corner(y0 + 1, x0) * (1 - wx) + corner(y0 + 1, x0 + 1) * wx
    return (top * (1 - wy) + bottom * wy).astype(np.float32)


# --------------------------------------------------------------------------- affine distortion


def _range(fn: str, name: str, value: float | Sequence[float]) -> tuple[float, float]:
    """A number ``v >= 0`` -> ``(-v, v)``; a pair is taken as ``(low, high)``."""
    if isinstance(value, (int, float, np.number)):
        v = check_number(fn, name, value, min=0.0)
        return (-v, v)
    pair = tuple(float(t) for t in value)
    if len(pair) != 2 or pair[0] > pair[1]:
        raise ValueError(f"{fn}: {name} must be a number or a (low, high) pair with low <= high, "
                         f"got {value!r}")
    return pair  # type: ignore[return-value]


def batch_random_affine(
    imgs: np.ndarray,
    degrees: float | Sequence[float] = 0.0,
    translate: Sequence[float] | None = None,
    scale: Sequence[float] | None = None,
    shear: float | Sequence[float] = 0.0,
    squeeze: float = 0.0,
    fill: float = 0.0,
    generator: Any = None,
) -> np.ndarray:
    """Independent random planar affine distortions of a batch ``(N, H, W)`` -> float32 ``(N, H, W)``.

    Per image, about the image centre ``c``: the output pixel ``p`` is the input bilinearly sampled
    at ``A^-1 (p - c - t) + c`` (``fill`` outside), where ``A = R(angle) @ Shear(k) @ diag(sx, sy)``:

    * ``angle ~ U(degrees)``, counter-clockwise as displayed (rows point down);
    * ``k = tan(U(shear))`` horizontal shear (``x' = x + k y``), ``shear`` in degrees;
    * ``sx = s * q``, ``sy = s / q`` with ``s ~ U(scale)`` and ``q ~ U(1 - squeeze, 1 + squeeze)``:
      *squeezing* is LeCun et al.'s (1998) simultaneous horizontal compression and vertical
      elongation (or the reverse), a gradus extension of torchvision's arguments;
    * ``t = (U(-a W, a W), U(-b H, b H))`` pixels for ``translate = (a, b)``.

    ``degrees`` / ``shear``: a number ``v`` means ``(-v, v)``; ``scale``: a ``(low, high)`` range,
    ``None`` = no scaling.  These are torchvision's ``RandomAffine`` ranges (bilinear, not nearest).
    LeNet-5's distorted training set used translations, scaling, squeezing and horizontal shearing.
    """
    fn = "batch_random_affine"
    imgs = np.asarray(imgs, dtype=np.float32)
    if imgs.ndim != 3:
        raise ShapeError(f"{fn}: expects (N, H, W) images, got shape {imgs.shape}")
    ys, xs = _affine_coords(fn, imgs.shape, degrees, translate, scale, shear, squeeze, generator)
    return _batch_bilinear(imgs, ys, xs, fill)


def _affine_coords(fn: str, shape: tuple[int, int, int], degrees, translate, scale, shear, squeeze,
                   generator) -> tuple[np.ndarray, np.ndarray]:
    """The input coordinates ``(ys, xs)``, each ``(N, H, W)``, that ``N`` random affine maps (the
    ranges of :func:`batch_random_affine`, checked here) sample for every output pixel."""
    deg = _range(fn, "degrees", degrees)
    sh = _range(fn, "shear", shear)
    sc = (1.0, 1.0) if scale is None else _range(fn, "scale", scale)
    if sc[0] <= 0:
        raise ValueError(f"{fn}: scale must be positive, got {scale!r}")
    check_number(fn, "squeeze", squeeze, min=0.0, max=0.99)
    a, b = (0.0, 0.0) if translate is None else (float(translate[0]), float(translate[1]))
    if not (0.0 <= a <= 1.0 and 0.0 <= b <= 1.0):
        raise ValueError(f"{fn}: translate must be fractions (a, b) in [0, 1], got {translate!r}")
    rng = as_generator(generator)
    N, H, W = shape
    angle = np.deg2rad(rng.uniform(*deg, size=N))
    k = np.tan(np.deg2rad(rng.uniform(*sh, size=N)))
    s = rng.uniform(*sc, size=N)
    q = rng.uniform(1.0 - squeeze, 1.0 + squeeze, size=N)
    tx = rng.uniform(-a * W, a * W, size=N)
    ty = rng.uniform(-b * H, b * H, size=N)
    # A = R @ Shear @ diag(sx, sy) in (x, y) coordinates; its inverse maps output to input positions.
    cos, sin = np.cos(angle), np.sin(angle)
    R = np.stack([np.stack([cos, sin], -1), np.stack([-sin, cos], -1)], -2)        # (N, 2, 2)
    Sh = np.zeros((N, 2, 2))
    Sh[:, 0, 0] = Sh[:, 1, 1] = 1.0
    Sh[:, 0, 1] = k
    D = np.zeros((N, 2, 2))
    D[:, 0, 0], D[:, 1, 1] = s * q, s / q
    Ainv = np.linalg.inv(R @ Sh @ D)                                                 # (N, 2, 2)
    cy, cx = (H - 1) / 2.0, (W - 1) / 2.0
    yy, xx = np.meshgrid(np.arange(H, dtype=np.float64), np.arange(W, dtype=np.float64), indexing="ij")
    u = xx[None] - cx - tx[:, None, None]                                            # (N, H, W)
    v = yy[None] - cy - ty[:, None, None]
    xs = Ainv[:, 0, 0, None, None] * u + Ainv[:, 0, 1, None, None] * v + cx
    ys = Ainv[:, 1, 0, None, None] * u + Ainv[:, 1, 1, None, None] * v + cy
    return ys, xs


class RandomAffine:
    """Random affine transform of one image, torchvision's ``RandomAffine`` with bilinear sampling.

    ``RandomAffine(degrees, translate=None, scale=None, shear=0, squeeze=0, fill=0)``: the ranges of
    :func:`batch_random_affine` (``squeeze`` is a gradus extension: LeNet-5's squeezing).  Works on
    ``(H, W)`` / ``(H, W, C)`` ndarrays and ``(..., C, H, W)`` Tensors; keeps shape and dtype (one
    transform for all channels).
    """

    def __init__(self, degrees: float | Sequence[float], translate: Sequence[float] | None = None,
                 scale: Sequence[float] | None = None, shear: float | Sequence[float] = 0.0,
                 squeeze: float = 0.0, fill: float = 0.0, generator: Any = None) -> None:
        self.ranges = dict(degrees=degrees, translate=translate, scale=scale, shear=shear, squeeze=squeeze)
        _affine_coords("RandomAffine", (1, 2, 2), **self.ranges, generator=0)      # validates now
        self.fill = fill
        self.generator = generator

    def __call__(self, img: Any) -> Any:
        a, was_tensor = _unwrap(img)
        if a.ndim < 2:
            raise ShapeError(f"RandomAffine: expects an image of at least 2 dims, got shape {a.shape}")
        channels_first = was_tensor or a.ndim == 2
        planes = a.reshape(-1, *a.shape[-2:]) if channels_first else np.moveaxis(a, -1, 0)  # (C*, H, W)
        H, W = planes.shape[1:]
        # one draw for the image: every channel samples the same coordinates
        ys, xs = _affine_coords("RandomAffine", (1, H, W), **self.ranges, generator=self.generator)
        out = _batch_bilinear(planes.astype(np.float32), np.broadcast_to(ys, planes.shape),
                              np.broadcast_to(xs, planes.shape), self.fill)
        out = out.reshape(a.shape) if channels_first else np.moveaxis(out, 0, -1)
        return _rewrap(_restore_dtype(out, a.dtype), was_tensor)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in {**self.ranges, "fill": self.fill}.items())
        return f"RandomAffine({args})"


class ElasticDistortion:
    """Elastic deformation of Simard, Steinkraus & Platt (ICDAR 2003), for MNIST-like images.

    Two random displacement fields ``dx, dy ~ U(-1, 1)`` of the image size are smoothed by a
    Gaussian of standard deviation ``sigma`` (pixels) and scaled by ``alpha``; the output pixel
    at ``(y, x)`` is the input bilinearly sampled at ``(y + dy, x + dx)`` (zero outside).  The
    paper uses ``alpha=34, sigma=4`` on 28x28 digits.  ``alpha=0`` is the identity.

    Works on ``(H, W)`` / ``(H, W, C)`` ndarrays and ``(C, H, W)`` Tensors; keeps shape and dtype
    (integer images are rounded and clipped).
    """

    def __init__(
        self, alpha: float = 34.0, sigma: float = 4.0, fill: float = 0.0, generator: Any = None
    ) -> None:
        self.alpha = check_number("ElasticDistortion", "alpha", alpha, min=0.0)
        self.sigma = check_number("ElasticDistortion", "sigma", sigma, min=0.0)
        self.fill = fill
        self.generator = generator

    def __call__(self, img: Any) -> Any:
        a, was_tensor = _unwrap(img)
        if was_tensor and a.ndim >= 3:
            work = np.moveaxis(a, (-2, -1), (0, 1)).reshape(a.shape[-2], a.shape[-1], -1)  # (H, W, C*)
        else:
            work = a
        H, W = work.shape[:2]
        rng = as_generator(self.generator)
        dx = gaussian_filter(rng.uniform(-1.0, 1.0, size=(H, W)), self.sigma) * self.alpha
        dy = gaussian_filter(rng.uniform(-1.0, 1.0, size=(H, W)), self.sigma) * self.alpha
        yy, xx = np.meshgrid(np.arange(H, dtype=np.float64), np.arange(W, dtype=np.float64), indexing="ij")
        out = bilinear_sample(work, yy + dy, xx + dx, fill=self.fill)
        if was_tensor and a.ndim >= 3:
            lead = a.shape[:-2]
            out = np.moveaxis(out.reshape(H, W, *lead), (0, 1), (-2, -1))
        return _rewrap(_restore_dtype(out, a.dtype), was_tensor)

    def __repr__(self) -> str:
        return f"ElasticDistortion(alpha={self.alpha}, sigma={self.sigma})"


# --------------------------------------------------------------------------- batched versions


def batch_random_crop(
    x: np.ndarray, size: int | Sequence[int], padding: int = 0, fill: float = 0, generator: Any = None
) -> np.ndarray:
    """Independent random crops of a whole batch ``(N, C, H, W)`` -> ``(N, C, h, w)``.

    One padded copy and one fancy-indexing gather: no per-sample Python loop.
    """
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"batch_random_crop expects (N, C, H, W), got shape {x.shape}")
    th, tw = _pair(size, "batch_random_crop")
    padding = check_int("batch_random_crop", "padding", padding, min=0)
    if padding:
        x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)), constant_values=fill)
    N, C, H, W = x.shape
    if H < th or W < tw:
        raise ValueError(f"crop size {(th, tw)} is larger than the (padded) image size {(H, W)}")
    rng = as_generator(generator)
    i = rng.integers(0, H - th + 1, size=N)
    j = rng.integers(0, W - tw + 1, size=N)
    rows = (i[:, None] + np.arange(th))[:, None, :, None]  # (N, 1, th, 1)
    cols = (j[:, None] + np.arange(tw))[:, None, None, :]  # (N, 1, 1, tw)
    n = np.arange(N)[:, None, None, None]
    c = np.arange(C)[None, :, None, None]
    return x[n, c, rows, cols]


def batch_random_horizontal_flip(x: np.ndarray, p: float = 0.5, generator: Any = None) -> np.ndarray:
    """Flip each image of ``(N, ..., W)`` left-right with probability ``p``; returns a new array."""
    check_number("batch_random_horizontal_flip", "p", p, min=0.0, max=1.0)
    x = np.array(x, copy=True)
    flip = as_generator(generator).random(x.shape[0]) < p
    x[flip] = x[flip][..., ::-1]
    return x
