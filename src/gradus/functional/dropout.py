"""Dropout (Srivastava et al. 2014) in its two conventions, plus the channel-wise and alpha variants.

**Inverted dropout** (``dropout``, the default, as PyTorch): at train time each unit is kept with
probability ``1 - p`` and the kept ones are scaled by ``1 / (1 - p)``, so the expected activation is
unchanged and evaluation is the identity::

    train: y = x * m / (1 - p),  m ~ Bernoulli(1 - p)        eval: y = x

**Classic dropout** (``classic_dropout``, the original paper's and the lecture's formulation): train
time keeps activations unscaled, test time multiplies by the keep probability instead::

    train: y = x * m                                           eval: y = x * (1 - p)

Both give the same expected activation; inverted dropout does the scaling at train time so the
deployed network needs no change. Masks are drawn from ``gradus.random.default_generator()``. The
mask is a constant of the graph, so the gradient is ``gy * mask (* scale)`` and dropout is
differentiable any number of times.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..random import default_generator
from ..tensor import Tensor

__all__ = ["dropout", "classic_dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
           "feature_alpha_dropout"]


def _check_p(p: float, who: str) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{who}: dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(shape, p: float, x: Tensor, scale: float):
    """Array of ``scale`` where kept (probability 1 - p), 0 where dropped, in x's dtype and device."""
    u = default_generator().random(shape, dtype=np.float32)
    m = (u >= p).astype(x.dtype)
    if scale != 1.0:
        m *= scale
    if backend.is_cupy_array(x.data):
        m = backend.to_device(m, x.device)
    return m


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    """Inverted dropout: zero each element with probability ``p`` and scale the rest by 1/(1-p)
    (train); identity when ``training=False``."""
    _check_p(p, "dropout")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    return input * Tensor._make(_keep_mask(input.shape, p, input, 1.0 / (1.0 - p)))


def classic_dropout(input, p: float = 0.5, training: bool = True) -> Tensor:  # noqa: A002
    """Classic dropout: zero each element with probability ``p`` and leave the rest unscaled (train);
    multiply by the keep probability ``1 - p`` at test time."""
    _check_p(p, "classic_dropout")
    if not training:
        return input * (1.0 - p)
    if p == 0.0:
        return input
    return input * Tensor._make(_keep_mask(input.shape, p, input, 1.0))


def _channel_dropout(input, p: float, training: bool, batched_ndim: int, who: str) -> Tensor:  # noqa: A002
    """Zero whole channels: the mask has shape (N, C, 1, ..., 1) (or (C, 1, ...) unbatched)."""
    _check_p(p, who)
    x = input
    if x.ndim not in (batched_ndim, batched_ndim - 1):
        raise ValueError(f"{who}: expected a {batched_ndim - 1}-D (unbatched) or {batched_ndim}-D (batched) "
                         f"input, got shape {tuple(x.shape)}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    lead = 2 if x.ndim == batched_ndim else 1
    shape = tuple(x.shape[:lead]) + (1,) * (x.ndim - lead)
    return x * Tensor._make(_keep_mask(shape, p, x, 1.0 / (1.0 - p)))


def dropout1d(input, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    """Channel-wise inverted dropout for (N, C, L) inputs."""
    return _channel_dropout(input, p, training, 3, "dropout1d")


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    """Channel-wise inverted dropout for (N, C, H, W) inputs: whole feature maps are dropped (adjacent
    pixels are correlated, so element-wise dropout barely regularises conv layers)."""
    return _channel_dropout(input, p, training, 4, "dropout2d")


def dropout3d(input, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    """Channel-wise inverted dropout for (N, C, D, H, W) inputs."""
    return _channel_dropout(input, p, training, 5, "dropout3d")


_SELU_NEG = -1.7580993408473766  # -scale * alpha of SELU: the value SELU saturates to


def _alpha(input, p, training, shape_fn, who):  # noqa: A002
    _check_p(p, who)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    # dropped units are set to SELU's saturation value, then an affine map a*y + b restores zero mean
    # and unit variance (Klambauer et al. 2017)
    a = ((1 - p) * (1 + p * _SELU_NEG**2)) ** -0.5
    b = -a * _SELU_NEG * p
    keep = _keep_mask(shape_fn(input), p, input, 1.0)
    shift = ((1 - keep) * (a * _SELU_NEG) + b).astype(input.dtype)
    return input * Tensor._make(keep * a) + Tensor._make(shift)


def alpha_dropout(input, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:  # noqa: A002
    """Alpha dropout for SELU networks: keeps mean 0 and variance 1 of the activations."""
    return _alpha(input, p, training, lambda x: x.shape, "alpha_dropout")


def feature_alpha_dropout(input, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:  # noqa: A002
    """Channel-wise alpha dropout."""
    return _alpha(input, p, training, lambda x: tuple(x.shape[:2]) + (1,) * (x.ndim - 2),
                  "feature_alpha_dropout")
