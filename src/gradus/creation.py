"""Tensor factories with PyTorch names: ``tensor, zeros, ones, full, empty, arange, linspace, eye,
rand, randn, randint, randperm, *_like``. Random ones draw from the global generator
(``gradus.manual_seed``)."""
from __future__ import annotations

import numpy as np

from . import backend
from . import dtypes as _dt
from .backend import Device
from .errors import DTypeError
from .random import default_generator
from .tensor import Tensor
from .validation import check_alloc, check_int, check_number, check_size, describe


def _finish(a, dtype, device, requires_grad) -> Tensor:
    if dtype is not None:
        a = a.astype(_dt.to_dtype(dtype), copy=False)
    if device is not None and Device(device).type != "cpu":
        a = backend.to_device(a, Device(device))
    t = Tensor._make(a)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _size(size, fn: str = "size", dtype=None):
    """The shape of a new tensor, checked; with ``dtype``, also checked against the free memory."""
    shape = check_size(fn, size)
    if dtype is not None:
        check_alloc(fn, shape, dtype)
    return shape


def _fill(fn: str, value):
    """A fill value: a number, a bool or a one-element tensor (strings and objects refused)."""
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise ValueError(f"{fn}: fill_value must be a number or a one-element tensor, got a tensor of "
                             f"shape {value.shape}")
        return value.item()
    if not isinstance(value, (bool, int, float, complex, np.number, np.bool_)):
        raise TypeError(f"{fn}: fill_value must be a number or a bool, got {describe(value)}")
    return value


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (list, number, ndarray or Tensor)."""
    src = data.data if isinstance(data, Tensor) else data
    t = Tensor(src, dtype=dtype, device=device)
    if t.data is src:
        t.data = t.data.copy()
    if requires_grad:
        t.requires_grad_(True)
    return t


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with an ndarray when no conversion is needed."""
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    return Tensor(data, dtype=dtype, device=device)


def from_numpy(a: np.ndarray) -> Tensor:
    """Wrap an ndarray without copying (the dtype is kept)."""
    return Tensor._make(np.asarray(a))


def _float(dtype):
    return _dt.get_default_dtype() if dtype is None else _dt.to_dtype(dtype)


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    dt = _float(dtype)
    return _finish(np.zeros(_size(size, "zeros", dt), dtype=dt), None, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    dt = _float(dtype)
    return _finish(np.ones(_size(size, "ones", dt), dtype=dt), None, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    dt = _float(dtype)
    return _finish(np.empty(_size(size, "empty", dt), dtype=dt), None, device, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    shape = check_size("full", (size,) if not isinstance(size, (tuple, list)) else (tuple(size),))
    fill_value = _fill("full", fill_value)
    if dtype is None:
        dtype = (np.bool_ if isinstance(fill_value, bool) else np.int64 if isinstance(fill_value, int)
                 else _dt.get_default_dtype())
    check_alloc("full", shape, _dt.to_dtype(dtype))
    return _finish(np.full(shape, fill_value, dtype=_dt.to_dtype(dtype)), None, device, requires_grad)


def _like(x, dtype, device):
    return (x.dtype if dtype is None else dtype), (x.device if device is None else device)


def zeros_like(x, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    dtype, device = _like(x, dtype, device)
    xp = Device(device).xp
    return _finish(xp.zeros(x.shape, dtype=_dt.to_dtype(dtype)), None, None, requires_grad)


def ones_like(x, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    dtype, device = _like(x, dtype, device)
    xp = Device(device).xp
    return _finish(xp.ones(x.shape, dtype=_dt.to_dtype(dtype)), None, None, requires_grad)


def empty_like(x, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return zeros_like(x, dtype, device, requires_grad)


def full_like(x, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    fill_value = _fill("full_like", fill_value)
    dtype, device = _like(x, dtype, device)
    xp = Device(device).xp
    return _finish(xp.full(x.shape, fill_value, dtype=_dt.to_dtype(dtype)), None, None, requires_grad)


def rand_like(x, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return rand(*x.shape, dtype=dtype or x.dtype, device=device or x.device, requires_grad=requires_grad)


def randn_like(x, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return randn(*x.shape, dtype=dtype or x.dtype, device=device or x.device, requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """[start, end) with ``step``; int64 when all arguments are ints, else the default float."""
    if end is None:
        start, end = 0, start
    start, end, step = (v.item() if isinstance(v, Tensor) else v for v in (start, end, step))
    for name, v in (("start", start), ("end", end), ("step", step)):
        check_number("arange", name, v)
    if step == 0:
        raise ValueError("arange: step must be nonzero, got 0")
    if (end - start) * step < 0:
        raise ValueError(f"arange: the range [{start}, {end}) is inconsistent with the sign of step {step} "
                         "(use a negative step to count down)")
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if ints else _dt.get_default_dtype()
    return _finish(np.arange(start, end, step, dtype=_dt.to_dtype(dtype)), None, device, requires_grad)


def linspace(start, end, steps: int, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """``steps`` values from ``start`` to ``end`` inclusive, evenly spaced, computed as PyTorch does:
    in the output dtype, ``start + i * step`` for the first half and ``end - (steps - 1 - i) * step``
    for the second (so both ends are exact); integer dtypes truncate ``start`` and ``end`` first and
    step in float64. Bool is refused (as PyTorch)."""
    dt = _float(dtype)
    if dt == np.bool_ or dt.kind not in "iuf":
        raise DTypeError(f"linspace: not implemented for dtype {dt} (use a floating or integer dtype)")
    start, end = (float(v.item()) if isinstance(v, Tensor) else v for v in (start, end))
    check_number("linspace", "start", start)
    check_number("linspace", "end", end)
    steps = check_int("linspace", "steps", steps, min=0)
    i = np.arange(steps)
    if dt.kind == "f":
        lo, hi = dt.type(start), dt.type(end)
        step = (hi - lo) / dt.type(max(steps - 1, 1))
        # PyTorch's kernel fuses multiply and add (one rounding): emulate it in a wider type
        wide = {np.dtype(np.float16): np.float32, np.dtype(np.float32): np.float64}.get(dt, np.longdouble)
        lo, hi, step = wide(lo), wide(hi), wide(step)
        a = np.where(i < steps // 2, lo + step * i, hi - step * (steps - 1 - i))
    else:
        lo, hi = int(start), int(end)
        step = (hi - lo) / max(steps - 1, 1)
        a = np.where(i < steps // 2, lo + step * i, hi - step * (steps - 1 - i))
        a = np.trunc(a)
    if steps == 1:
        a = np.asarray([start])
    return _finish(a.astype(dt), None, device, requires_grad)


def _tri_indices(row, col, offset, dtype, device, upper: bool) -> Tensor:
    name = "triu_indices" if upper else "tril_indices"
    row, col = check_int(name, "row", row, min=0), check_int(name, "col", col, min=0)
    offset = check_int(name, "offset", offset)
    dt = _dt.to_dtype(dtype) if dtype is not None else np.dtype(np.int64)
    if dt.kind not in "iu":
        raise DTypeError(f"{name}: dtype must be an integer dtype, got {dt}")
    fn = np.triu_indices if upper else np.tril_indices
    rows, cols = fn(row, offset, col)
    return _finish(np.stack([rows, cols]).astype(dt).reshape(2, -1), None, device, False)


def tril_indices(row: int, col: int, offset: int = 0, dtype=None, device=None) -> Tensor:
    """The (2, N) int64 coordinates of the lower triangle (on and below diagonal ``offset``) of a
    row x col matrix, in row-major order."""
    return _tri_indices(row, col, offset, dtype, device, upper=False)


def triu_indices(row: int, col: int, offset: int = 0, dtype=None, device=None) -> Tensor:
    """The (2, N) int64 coordinates of the upper triangle (on and above diagonal ``offset``) of a
    row x col matrix, in row-major order."""
    return _tri_indices(row, col, offset, dtype, device, upper=True)


def logspace(start, end, steps: int, base: float = 10.0, dtype=None, device=None) -> Tensor:
    check_number("logspace", "start", start)
    check_number("logspace", "end", end)
    steps = check_int("logspace", "steps", steps, min=0)
    check_number("logspace", "base", base)
    return _finish(np.logspace(start, end, steps, base=base).astype(_float(dtype)), None, device, False)


def eye(n: int, m: int | None = None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    n = check_int("eye", "n", n, min=0)
    m = None if m is None else check_int("eye", "m", m, min=0)
    check_alloc("eye", (n, n if m is None else m), _float(dtype))
    return _finish(np.eye(n, m, dtype=_float(dtype)), None, device, requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Uniform [0, 1) samples."""
    g = generator or default_generator()
    dt = _float(dtype)
    _size(size, "rand", dt)
    a = (g.random(_size(size, "rand"), dtype=dt) if dt in (np.float32, np.float64)
         else g.random(_size(size, "rand")).astype(dt))
    return _finish(a, None, device, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples."""
    g = generator or default_generator()
    dt = _float(dtype)
    _size(size, "randn", dt)
    a = (g.standard_normal(_size(size, "randn"), dtype=dt) if dt in (np.float32, np.float64)
         else g.standard_normal(_size(size, "randn")).astype(dt))
    return _finish(a, None, device, requires_grad)


def randint(low, high=None, size=(), generator=None, dtype=None, device=None) -> Tensor:
    """Integers uniform in [low, high) (int64 by default)."""
    if high is None:
        low, high = 0, low
    low, high = check_int("randint", "low", low), check_int("randint", "high", high)
    if high <= low:
        raise ValueError(f"randint: high must be > low, got low={low}, high={high}")
    shape = check_size("randint", (size,) if not isinstance(size, (tuple, list)) else (tuple(size),))
    check_alloc("randint", shape, np.int64)
    g = generator or default_generator()
    a = g.integers(low, high, size=shape, dtype=np.int64)
    return _finish(a, dtype, device, False)


def randint_like(x, low, high=None, dtype=None) -> Tensor:
    return randint(low, high, x.shape, dtype=dtype or x.dtype)


def randperm(n: int, generator=None, dtype=None, device=None) -> Tensor:
    n = check_int("randperm", "n", n, min=0)
    g = generator or default_generator()
    return _finish(g.permutation(n).astype(np.int64), dtype, device, False)


def normal(mean=0.0, std=1.0, size=(), generator=None, dtype=None) -> Tensor:
    if isinstance(std, (int, float)):
        check_number("normal", "std", std, min=0)
    shape = check_size("normal", (tuple(size),))
    check_alloc("normal", shape, np.float64)  # drawn in float64, then cast
    g = generator or default_generator()
    return _finish((g.standard_normal(shape) * std + mean).astype(_float(dtype)), None, None, False)


def bernoulli(p, generator=None) -> Tensor:
    """0/1 samples with probabilities ``p`` (a Tensor)."""
    g = generator or default_generator()
    pd = p.data if isinstance(p, Tensor) else np.asarray(p)
    return Tensor._make((g.random(pd.shape) < pd).astype(pd.dtype))


def multinomial(probs, num_samples: int, replacement: bool = False, generator=None) -> Tensor:
    """Sample category indices from (unnormalised) probabilities ``probs`` of shape (C,) or (B, C)."""
    g = generator or default_generator()
    p = backend.as_numpy(probs.data if isinstance(probs, Tensor) else probs).astype(np.float64)
    two_d = p.ndim == 2
    p = p.reshape(-1, p.shape[-1])
    out = np.stack([g.choice(p.shape[1], size=num_samples, replace=replacement, p=row / row.sum())
                    for row in p]).astype(np.int64)
    return Tensor._make(out if two_d else out[0])
