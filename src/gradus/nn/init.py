"""Parameter initialisation, with PyTorch's names and formulas.

Every function fills its tensor **in place** (under ``no_grad``, so it works on Parameters), draws
from ``gradus.random.default_generator()`` (one ``gradus.manual_seed`` reproduces a run) unless a
``generator`` is given, and returns the tensor.

    >>> import gradus
    >>> from gradus import nn
    >>> w = nn.Parameter(gradus.empty(256, 128))
    >>> _ = nn.init.kaiming_normal_(w, nonlinearity="relu")   # N(0, 2 / fan_in)
    >>> abs(float(w.std()) - (2 / 128) ** 0.5) < 0.005
    True

Formulas (``fan_in = size(1) * receptive_field``, ``fan_out = size(0) * receptive_field``):

- ``xavier_uniform_``: U(-a, a), ``a = gain * sqrt(6 / (fan_in + fan_out))`` (Glorot & Bengio 2010)
- ``xavier_normal_``: N(0, std²), ``std = gain * sqrt(2 / (fan_in + fan_out))``
- ``kaiming_uniform_``: U(-b, b), ``b = gain * sqrt(3 / fan_mode)`` (He et al. 2015)
- ``kaiming_normal_``: N(0, std²), ``std = gain / sqrt(fan_mode)``
- ``calculate_gain``: linear/conv/sigmoid 1, tanh 5/3, relu √2, leaky_relu √(2 / (1 + slope²)),
  selu 3/4.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from .. import backend
from ..autograd.grad_mode import no_grad
from ..random import default_generator

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_",
           "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
           "orthogonal_", "sparse_"]


# True inside ``nn.utils.skip_init``: every filling function below returns its tensor untouched (no
# random draws), so a model whose weights are about to be loaded is built without paying for them.
_skipping = False


def _skippable(fill):
    """Make the filling function ``fill`` a no-op while ``_skipping``."""
    import functools

    @functools.wraps(fill)
    def wrapper(tensor, *args, **kwargs):
        if _skipping:
            return tensor
        return fill(tensor, *args, **kwargs)   # (the warnings inside use stacklevel=3: this frame)

    return wrapper


def _gen(generator):
    return generator if generator is not None else default_generator()


def _fill(tensor, values):
    """Write ``values`` (a NumPy array or number) into ``tensor`` in place, keeping its dtype/device."""
    with no_grad():
        if backend.is_cupy_array(tensor.data) and isinstance(values, np.ndarray):
            values = backend.to_device(values, tensor.device)
        tensor.data[...] = values
    return tensor


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The recommended gain for ``nonlinearity`` (scales the std of Xavier/Kaiming init).

    ``param`` is leaky_relu's negative slope (default 0.01).
    """
    linear_fns = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d"]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity!r}; choose one of linear, conv1d/2d/3d, "
                     "sigmoid, tanh, relu, leaky_relu, selu")


def _calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out): ``size(1) * receptive_field`` and ``size(0) * receptive_field`` where the
    receptive field is the product of the remaining (kernel) dimensions."""
    if tensor.ndim < 2:
        raise ValueError(f"Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
                         f"(got shape {tuple(tensor.shape)})")
    receptive = 1
    for s in tensor.shape[2:]:
        receptive *= s
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


@_skippable
def uniform_(tensor, a: float = 0.0, b: float = 1.0, generator=None):
    """Fill with U(a, b)."""
    return _fill(tensor, _gen(generator).uniform(a, b, tensor.shape))


@_skippable
def normal_(tensor, mean: float = 0.0, std: float = 1.0, generator=None):
    """Fill with N(mean, std²)."""
    return _fill(tensor, _gen(generator).normal(mean, std, tensor.shape))


@_skippable
def trunc_normal_(tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0,
                  generator=None):
    """Fill with N(mean, std²) truncated to [a, b] (absolute bounds, as in PyTorch).

    Rejection sampling: out-of-range draws are redrawn, which samples exactly the truncated law
    (PyTorch uses the inverse CDF; NumPy has no ``erfinv``).
    """
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The distribution of "
                      "values may be incorrect.", stacklevel=3)
    g = _gen(generator)
    n = int(np.prod(tensor.shape))
    out = np.empty(n)
    filled = 0
    while filled < n:
        draw = g.normal(mean, std, max(2 * (n - filled), 16))
        draw = draw[(draw >= a) & (draw <= b)][: n - filled]
        out[filled:filled + draw.size] = draw
        filled += draw.size
    return _fill(tensor, out.reshape(tensor.shape))


@_skippable
def constant_(tensor, val: float):
    return _fill(tensor, val)


@_skippable
def ones_(tensor):
    return _fill(tensor, 1)


@_skippable
def zeros_(tensor):
    return _fill(tensor, 0)


@_skippable
def eye_(tensor):
    """Fill a 2-D tensor with the identity (preserves the inputs' identity in a Linear layer)."""
    if tensor.ndim != 2:
        raise ValueError(f"eye_: only 2-D tensors are supported, got shape {tuple(tensor.shape)}")
    return _fill(tensor, np.eye(*tensor.shape))


@_skippable
def dirac_(tensor, groups: int = 1):
    """Fill a {3,4,5}-D conv weight with the Dirac delta (the conv passes its input through)."""
    d = tensor.ndim
    if d not in (3, 4, 5):
        raise ValueError(f"dirac_: only 3, 4 and 5-D tensors are supported, got shape {tuple(tensor.shape)}")
    sizes = tensor.shape
    if sizes[0] % groups != 0:
        raise ValueError("dirac_: dim 0 must be divisible by groups")
    out_per_group = sizes[0] // groups
    min_dim = min(out_per_group, sizes[1])
    w = np.zeros(sizes)
    centre = tuple(s // 2 for s in sizes[2:])
    for g in range(groups):
        for i in range(min_dim):
            w[(g * out_per_group + i, i) + centre] = 1
    return _fill(tensor, w)


@_skippable
def xavier_uniform_(tensor, gain: float = 1.0, generator=None):
    """Glorot uniform: U(-a, a) with ``a = gain * sqrt(6 / (fan_in + fan_out))``."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a, generator)


@_skippable
def xavier_normal_(tensor, gain: float = 1.0, generator=None):
    """Glorot normal: N(0, std²) with ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


@_skippable
def kaiming_uniform_(tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator=None):
    """He uniform: U(-bound, bound), ``bound = gain * sqrt(3 / fan)``,
    ``gain = calculate_gain(nonlinearity, a)``.

    ``a`` is the negative slope of the rectifier after this layer (leaky_relu only); ``mode`` picks
    fan_in (preserves forward variance) or fan_out (backward variance).
    """
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    bound = math.sqrt(3.0) * gain / math.sqrt(fan)
    return uniform_(tensor, -bound, bound, generator)


@_skippable
def kaiming_normal_(tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator=None):
    """He normal: N(0, std²), ``std = gain / sqrt(fan)``."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator)


@_skippable
def orthogonal_(tensor, gain: float = 1.0, generator=None):
    """A (semi-)orthogonal matrix (Saxe et al. 2013) times ``gain``; dimensions beyond the first are
    flattened. QR of a Gaussian matrix, signs fixed by diag(R) so the law is uniform (Haar)."""
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: only tensors with 2 or more dimensions are supported, got shape "
                         f"{tuple(tensor.shape)}")
    if tensor.data.size == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.data.size // rows
    flat = _gen(generator).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (gain * q).reshape(tensor.shape))


@_skippable
def sparse_(tensor, sparsity: float, std: float = 0.01, generator=None):
    """2-D: N(0, std²) with a fraction ``sparsity`` of each column set to zero (Martens 2010)."""
    if tensor.ndim != 2:
        raise ValueError(f"sparse_: only 2-D tensors are supported, got shape {tuple(tensor.shape)}")
    g = _gen(generator)
    rows, cols = tensor.shape
    num_zeros = int(math.ceil(sparsity * rows))
    w = g.normal(0.0, std, (rows, cols))
    for c in range(cols):
        w[g.permutation(rows)[:num_zeros], c] = 0
    return _fill(tensor, w)
