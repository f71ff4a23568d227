"""Movement ops: they rearrange elements without arithmetic, so each gradient is the inverse
movement (reshape <-> reshape, permute <-> inverse permute, broadcast <-> sum_to, cat <-> split...).
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.function import Function, FusedFunction
from ..errors import GradIndexError, ShapeError
from ..tensor import Tensor

xp_of = backend.get_array_module


def _dim(d: int, ndim: int, op: str) -> int:
    if not -ndim <= d < ndim:
        expected = f"expected a dim in [{-ndim}, {ndim - 1}]" if ndim else "a 0-d tensor has no dimensions"
        raise GradIndexError(f"{op}: dim {d} is out of range for a tensor of {ndim} dimension(s) "
                             f"({expected})")
    return d % ndim


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(int(s) for s in shape)


class Reshape(FusedFunction):
    """y = x viewed with another shape (same elements, row-major);  gx = gy reshaped back
    (on the raw array for a plain backward, with the op for ``create_graph=True``)."""
    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward_raw(ctx, gy):
        return gy.reshape(ctx.in_shape), None

    @staticmethod
    def backward_composed(ctx, gy):
        return reshape(gy, ctx.in_shape), None


class Permute(FusedFunction):
    """y = x with dimensions reordered by ``axes``;  gx = gy permuted by the inverse order (on the raw
    array for a plain backward, with the op for ``create_graph=True``)."""
    is_view = True

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return x.transpose(axes)

    @staticmethod
    def backward_raw(ctx, gy):
        return gy.transpose(np.argsort(ctx.axes)), None

    @staticmethod
    def backward_composed(ctx, gy):
        return permute(gy, *np.argsort(ctx.axes).tolist()), None


class BroadcastTo(Function):
    """y = x broadcast to ``shape`` (a read-only view);  gx = sum_to(gy, x.shape)."""
    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return xp_of(x).broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, gy):
        return sum_to(gy, ctx.in_shape), None


class SumTo(Function):
    """y = gy summed down to ``shape`` (the inverse of broadcasting);  gx = broadcast_to(gy, x.shape)."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return sum_to_array(x, shape)

    @staticmethod
    def backward(ctx, gy):
        return broadcast_to(gy, ctx.in_shape), None


def sum_to_array(x, shape):
    """Sum array ``x`` over the dimensions that broadcasting added to reach ``x.shape`` from ``shape``."""
    shape = tuple(shape)
    if x.shape == shape:
        return x
    lead = x.ndim - len(shape)
    if lead < 0:
        raise ValueError(f"cannot sum shape {x.shape} down to {shape}")
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and x.shape[i + lead] != 1)
    for i, s in enumerate(shape):
        if s != 1 and x.shape[i + lead] != s:
            raise ValueError(f"cannot sum shape {x.shape} down to {shape}")
    y = x.sum(axis=axes, keepdims=True) if axes else x
    return y.reshape(shape) if lead else y


class Flip(Function):
    """y = x reversed along ``axes``;  gx = gy reversed along ``axes``."""

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return xp_of(x).flip(x, axes)

    @staticmethod
    def backward(ctx, gy):
        return flip(gy, ctx.axes), None


class Cat(Function):
    """y = concatenation of the inputs along ``axis``;  each gradient is its slice of gy."""

    @staticmethod
    def forward(ctx, axis, *xs):
        ctx.axis = axis
        ctx.sizes = [x.shape[axis] for x in xs]
        return xp_of(*xs).concatenate(xs, axis=axis)

    @staticmethod
    def backward(ctx, gy):
        return (None, *split(gy, ctx.sizes, ctx.axis))


class Split(Function):
    """ys = x cut into pieces of ``sizes`` along ``axis``;  gx = cat of the pieces' gradients."""

    @staticmethod
    def forward(ctx, x, sizes, axis):
        ctx.axis = axis
        bounds = np.cumsum(sizes)[:-1].tolist()
        return tuple(xp_of(x).split(x, bounds, axis=axis))

    @staticmethod
    def backward(ctx, *gys):
        return cat(list(gys), ctx.axis), None, None


class Triangle(Function):
    """y = upper (``upper=True``) or lower triangle of the last two dims, from diagonal ``k``."""

    @staticmethod
    def forward(ctx, x, k, upper):
        ctx.k, ctx.upper = k, upper
        xp = xp_of(x)
        return xp.triu(x, k) if upper else xp.tril(x, k)

    @staticmethod
    def backward(ctx, gy):
        return Triangle.apply(gy, ctx.k, ctx.upper), None, None


class PadConstant(Function):
    """y = x padded with a constant;  gx = the interior slice of gy."""

    @staticmethod
    def forward(ctx, x, pad_width, value):
        ctx.slices = tuple(slice(lo, lo + n) for (lo, _), n in zip(pad_width, x.shape))
        return xp_of(x).pad(x, pad_width, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, gy):
        return gy[ctx.slices], None, None


# ---------------------------------------------------------------------------------------------
# public functions
# ---------------------------------------------------------------------------------------------
def reshape(x, *shape) -> Tensor:
    """Same elements, new shape; one dimension may be -1 (inferred)."""
    shape = _shape_arg(shape)
    if shape == x.shape:
        return x
    size, known = x.numel(), 1
    for s in shape:
        if s != -1:
            known *= s
    if shape.count(-1) > 1 or (-1 in shape and (known == 0 or size % known)) or \
            (-1 not in shape and known != size):
        raise ShapeError(f"reshape: shape {tuple(shape)} is invalid for a tensor of shape {tuple(x.shape)} "
                         f"({size} elements)")
    return Reshape.apply(x, shape)


view = reshape


def view_as(x, other) -> Tensor:
    return reshape(x, other.shape)


def flatten(x, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions start_dim..end_dim into one."""
    if x.ndim == 0:
        return reshape(x, 1)
    s, e = _dim(start_dim, x.ndim, "flatten"), _dim(end_dim, x.ndim, "flatten")
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = x.shape[:s] + (int(np.prod(x.shape[s:e + 1])),) + x.shape[e + 1:]
    return reshape(x, shape)


def unflatten(x, dim: int, sizes) -> Tensor:
    d = _dim(dim, x.ndim, "unflatten")
    return reshape(x, x.shape[:d] + tuple(sizes) + x.shape[d + 1:])


def squeeze(x, dim=None) -> Tensor:
    """Remove size-1 dimensions (all of them, or only ``dim`` if it has size 1)."""
    if dim is None:
        shape = tuple(s for s in x.shape if s != 1)
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        dims = {_dim(d, max(x.ndim, 1), "squeeze") for d in dims}  # 0-d: dim 0 / -1 only, as PyTorch
        shape = tuple(s for i, s in enumerate(x.shape) if not (i in dims and s == 1))
    return reshape(x, shape)


def unsqueeze(x, dim: int) -> Tensor:
    """Insert a size-1 dimension at ``dim``."""
    d = _dim(dim, x.ndim + 1, "unsqueeze")
    return reshape(x, x.shape[:d] + (1,) + x.shape[d:])


def permute(x, *dims) -> Tensor:
    dims = _shape_arg(dims)
    if len(dims) != x.ndim:
        raise ShapeError(f"permute: got {len(dims)} dims {dims} for a tensor of {x.ndim} dimensions")
    axes = tuple(_dim(d, x.ndim, "permute") for d in dims)
    if sorted(axes) != list(range(x.ndim)):
        raise ValueError(f"permute: dims {dims} are not a permutation of 0..{x.ndim - 1}")
    if axes == tuple(range(x.ndim)):
        return x
    return Permute.apply(x, axes)


def transpose(x, dim0: int = 0, dim1: int = 1) -> Tensor:
    """Swap two dimensions."""
    if x.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1, 1):
        return x
    a, b = _dim(dim0, x.ndim, "transpose"), _dim(dim1, x.ndim, "transpose")
    axes = list(range(x.ndim))
    axes[a], axes[b] = axes[b], axes[a]
    return permute(x, *axes)


swapaxes = transpose


def t(x) -> Tensor:
    """Transpose of a tensor of at most 2 dimensions."""
    if x.ndim > 2:
        raise ValueError(f"t: expects a tensor of at most 2 dims, got {x.ndim}; use transpose/permute")
    return transpose(x, 0, 1) if x.ndim == 2 else x


def movedim(x, source, destination) -> Tensor:
    """Move dim(s) ``source`` to position(s) ``destination`` (two ints, or two sequences of equal
    length); the other dims keep their order."""
    single = isinstance(source, (int, np.integer)), isinstance(destination, (int, np.integer))
    if single[0] != single[1]:
        raise TypeError(f"movedim: source and destination must both be ints or both be sequences, got "
                        f"{type(source).__name__} and {type(destination).__name__}")
    src = (int(source),) if single[0] else tuple(int(d) for d in source)
    dst = (int(destination),) if single[1] else tuple(int(d) for d in destination)
    if len(src) != len(dst):
        raise ValueError(f"movedim: source {list(src)} and destination {list(dst)} must name the same "
                         "number of dims")
    nd = max(x.ndim, 1)  # like PyTorch, a 0-d tensor accepts dim 0 / -1 as if it were 1-d
    src = [_dim(d, nd, "movedim") for d in src]
    dst = [_dim(d, nd, "movedim") for d in dst]
    for name, dims in (("source", src), ("destination", dst)):
        if len(set(dims)) != len(dims):
            raise ValueError(f"movedim: repeated dim in {name} {dims}")
    if x.ndim == 0:
        return x
    order = [None] * x.ndim
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(i for i in range(x.ndim) if i not in src)
    return permute(x, *[o if o is not None else next(rest) for o in order])


moveaxis = movedim


def broadcast_to(x, *shape) -> Tensor:
    shape = _shape_arg(shape)
    if shape == x.shape:
        return x
    try:
        np.broadcast_shapes(x.shape, shape)
        if len(shape) < x.ndim or np.broadcast_shapes(x.shape, shape) != shape:
            raise ValueError
    except ValueError:
        raise ShapeError(f"expand/broadcast_to: cannot broadcast shape {tuple(x.shape)} to {shape} "
                         "(each dimension must match or be 1)") from None
    return BroadcastTo.apply(x, shape)


def expand(x, *sizes) -> Tensor:
    """Broadcast to ``sizes``; -1 keeps a dimension (PyTorch's ``expand``)."""
    sizes = list(_shape_arg(sizes))
    lead = len(sizes) - x.ndim
    for i in range(x.ndim):
        if sizes[lead + i] == -1:
            sizes[lead + i] = x.shape[i]
    return broadcast_to(x, tuple(sizes))


def expand_as(x, other) -> Tensor:
    return broadcast_to(x, other.shape)


def sum_to(x, shape) -> Tensor:
    """Sum ``x`` down to ``shape`` (the adjoint of broadcasting)."""
    shape = tuple(shape)
    if x.shape == shape:
        return x
    return SumTo.apply(x, shape)


def flip(x, dims) -> Tensor:
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    axes = tuple(_dim(d, max(x.ndim, 1), "flip") for d in dims)  # 0-d: dim 0 / -1 allowed, as PyTorch
    return Flip.apply(x, axes if x.ndim else ())


def fliplr(x) -> Tensor:
    return flip(x, 1)


def flipud(x) -> Tensor:
    return flip(x, 0)


def _check_same_shapes(tensors, axis, op, skip_axis=True):
    ref = tensors[0].shape
    for i, t in enumerate(tensors[1:], 1):
        if len(t.shape) != len(ref) or any(
                a != b for k, (a, b) in enumerate(zip(t.shape, ref)) if not (skip_axis and k == axis)):
            what = "all dimensions except dim " + str(axis) if skip_axis else "the same shape"
            raise ShapeError(f"{op}: tensors must have {what} equal; tensor 0 has shape {tuple(ref)} "
                             f"but tensor {i} has shape {tuple(t.shape)}")


def _promote_types(dtypes):
    """PyTorch's promotion across categories (bool < int < float): int64 with float32 is float32,
    not NumPy's float64; within the highest category NumPy's rule applies."""
    rank = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}
    top = max(rank.get(d.kind, 2) for d in dtypes)
    return np.result_type(*[d for d in dtypes if rank.get(d.kind, 2) == top])


def cat(tensors, dim: int = 0) -> Tensor:
    """Concatenate along an existing dimension."""
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    tensors = [t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0)] or tensors[:1]
    axis = _dim(dim, tensors[0].ndim, "cat")
    _check_same_shapes(tensors, axis, "cat")
    dtype = _promote_types([t.dtype for t in tensors])
    tensors = [t if t.dtype == dtype else t.to(dtype) for t in tensors]
    if len(tensors) == 1:
        return tensors[0]
    return Cat.apply(axis, *tensors)


concatenate = concat = cat


def stack(tensors, dim: int = 0) -> Tensor:
    """Join along a new dimension."""
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: expected a non-empty list of tensors")
    _check_same_shapes(tensors, None, "stack", skip_axis=False)
    d = _dim(dim, tensors[0].ndim + 1, "stack")
    return cat([unsqueeze(t, d) for t in tensors], d)


def hstack(tensors) -> Tensor:
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    return cat([t if t.ndim >= 2 else reshape(t, 1, -1) for t in tensors], 0)


def split(x, split_size_or_sections, dim: int = 0):
    """Split into pieces of ``split_size`` (the last may be smaller) or of the listed sizes."""
    axis = _dim(dim, x.ndim, "split")
    n = x.shape[axis]
    if isinstance(split_size_or_sections, (int, np.integer)):
        k = int(split_size_or_sections)
        if k <= 0:
            raise ValueError(f"split: split_size must be positive, got {k}")
        sizes = [k] * (n // k) + ([n % k] if n % k else [])
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if np.sum(sizes) != n:
            raise ShapeError(f"split: sizes {sizes} sum to {int(np.sum(sizes))} but dim {dim} has size {n}")
    if len(sizes) == 1:
        return (x,)
    out = Split.apply(x, sizes, axis)
    return out if isinstance(out, tuple) else (out,)


def chunk(x, chunks: int, dim: int = 0):
    """Split into ``chunks`` pieces of equal size (the last may be smaller), as PyTorch."""
    from ..validation import check_int

    chunks = check_int("chunk", "chunks", chunks, min=1)
    n = x.shape[_dim(dim, x.ndim, "chunk")]
    size = -(-n // chunks)
    return split(x, max(size, 1), dim)


def unbind(x, dim: int = 0):
    """Tuple of all slices along ``dim`` (that dimension removed)."""
    axis = _dim(dim, x.ndim, "unbind")
    return tuple(squeeze(p, axis) for p in split(x, 1, axis))


def triu(x, diagonal: int = 0) -> Tensor:
    return Triangle.apply(x, diagonal, True)


def tril(x, diagonal: int = 0) -> Tensor:
    return Triangle.apply(x, diagonal, False)


def repeat(x, *repeats) -> Tensor:
    """Tile ``x`` (PyTorch's ``Tensor.repeat``, NumPy's ``tile``): built from reshape + expand +
    reshape, so the gradient (a sum over the copies) comes from those primitives."""
    reps = _shape_arg(repeats)
    if len(reps) < x.ndim:
        raise ValueError(f"repeat: number of repeats {len(reps)} can not be smaller than the number of "
                         f"dimensions {x.ndim}")
    shape = (1,) * (len(reps) - x.ndim) + x.shape
    inter = []
    for s in shape:
        inter += [1, s]
    y = reshape(x, tuple(inter))
    big = []
    for r, s in zip(reps, shape):
        big += [r, s]
    y = broadcast_to(y, tuple(big))
    return reshape(y, tuple(r * s for r, s in zip(reps, shape)))


def tile(x, dims) -> Tensor:
    dims = tuple(dims)
    if len(dims) < x.ndim:
        dims = (1,) * (x.ndim - len(dims)) + dims
    return repeat(x, *dims)


def repeat_interleave(x, repeats: int, dim: int | None = None) -> Tensor:
    """Repeat each element ``repeats`` times along ``dim`` (flattened if None)."""
    from ..validation import check_int

    if isinstance(repeats, Tensor) and repeats.ndim == 0:
        repeats = int(repeats.item())
    if isinstance(repeats, Tensor) or isinstance(repeats, (list, tuple)):
        raise TypeError("repeat_interleave: repeats must be an int (per-element repeats are not supported), "
                        f"got {type(repeats).__name__}")
    repeats = check_int("repeat_interleave", "repeats", repeats, min=0)
    if dim is None:
        x, dim = reshape(x, -1), 0
    d = _dim(dim, x.ndim, "repeat_interleave")
    y = unsqueeze(x, d + 1)
    y = expand(y, *(x.shape[: d + 1] + (repeats,) + x.shape[d + 1:]))
    return flatten(y, d, d + 1)


class Roll(Function):
    """y = x shifted cyclically by ``shifts`` along ``axes`` (y[(i + s) % n] = x[i]);
    gx = gy rolled back by -shifts."""

    @staticmethod
    def forward(ctx, x, shifts, axes):
        ctx.shifts, ctx.axes = shifts, axes
        return xp_of(x).roll(x, shifts, axes)

    @staticmethod
    def backward(ctx, gy):
        return Roll.apply(gy, tuple(-s for s in ctx.shifts), ctx.axes), None, None


def roll(x, shifts, dims=None) -> Tensor:
    """Cyclic shift: ``out[(i + shift) % n] = x[i]`` along each dim of ``dims`` (ints or
    sequences of equal length; the same dim may repeat, its shifts add up). Without ``dims`` the
    tensor is rolled as if flattened, then given its shape back."""
    shifts = (int(shifts),) if isinstance(shifts, (int, np.integer)) else tuple(int(s) for s in shifts)
    if dims is None:
        if len(shifts) != 1:
            raise ValueError(f"roll: {len(shifts)} shifts need as many dims, got none (shifts and dims "
                             "must align)")
        return reshape(Roll.apply(reshape(x, -1), shifts, (0,)), x.shape)
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    if len(dims) != len(shifts):
        raise ValueError(f"roll: shifts {list(shifts)} and dims {list(dims)} must have the same length")
    axes = tuple(_dim(int(d), x.ndim, "roll") for d in dims)
    return Roll.apply(x, shifts, axes)


class Unfold(Function):
    """Windows along one dim: y[..., w, ..., k] = x[..., w * step + k, ...] (``axis`` becomes the
    window count (n - size) // step + 1, and a last dim of ``size`` is added; a strided view);
    gx = the windows of gy summed back into place (UnfoldBackward)."""

    @staticmethod
    def forward(ctx, x, axis, size, step):
        ctx.in_shape, ctx.axis, ctx.size, ctx.step = x.shape, axis, size, step
        xp = xp_of(x)
        win = xp.lib.stride_tricks.sliding_window_view(x, size, axis=axis)
        return win[(slice(None),) * axis + (slice(None, None, step),)]

    @staticmethod
    def backward(ctx, gy):
        return UnfoldBackward.apply(gy, ctx.in_shape, ctx.axis, ctx.size, ctx.step), None, None, None


class UnfoldBackward(Function):
    """y = zeros(``shape``) with every window of x (as ``Unfold`` lays them out) added back at its
    place (overlapping windows accumulate);  gx = Unfold(gy)."""

    @staticmethod
    def forward(ctx, x, shape, axis, size, step):
        ctx.axis, ctx.size, ctx.step = axis, size, step
        xp = xp_of(x)
        y = xp.zeros(shape, dtype=x.dtype)
        n_win = x.shape[axis]
        head = (slice(None),) * axis
        if size <= n_win:  # one strided add per offset inside the window
            for k in range(size):
                y[head + (slice(k, k + step * (n_win - 1) + 1, step),)] += x[..., k]
        else:  # one add per window
            for w in range(n_win):
                y[head + (slice(w * step, w * step + size),)] += xp.moveaxis(x.take(w, axis=axis), -1, axis)
        return y

    @staticmethod
    def backward(ctx, gy):
        return Unfold.apply(gy, ctx.axis, ctx.size, ctx.step), None, None, None, None


def unfold(x, dimension: int, size: int, step: int) -> Tensor:
    """``Tensor.unfold``: all windows of ``size`` elements, ``step`` apart, along ``dimension``:
    out shape = x's with that dim replaced by (n - size) // step + 1, plus a last dim ``size``."""
    size, step = int(size), int(step)
    if size < 0:
        raise ValueError(f"unfold: size must be >= 0, got {size}")
    if step <= 0:
        raise ValueError(f"unfold: step must be > 0, got {step}")
    if x.ndim == 0:  # PyTorch: a 0-d tensor unfolds as one element
        _dim(dimension, 1, "unfold")
        if size > 1:
            raise ShapeError(f"unfold: maximum size for a 0-d tensor is 1, got size {size}")
        return reshape(x, 1)[:size]
    axis = _dim(dimension, x.ndim, "unfold")
    if size > x.shape[axis]:
        raise ShapeError(f"unfold: maximum size for dimension {axis} is {x.shape[axis]} but size is {size} "
                         f"(tensor shape {tuple(x.shape)})")
    return Unfold.apply(x, axis, size, step)


def narrow(x, dim: int, start, length: int) -> Tensor:
    """``x`` restricted to ``length`` elements from ``start`` along ``dim`` (start may be negative
    or a 0-d integer tensor)."""
    if x.ndim == 0:
        raise ValueError("narrow: cannot be applied to a 0-d tensor")
    d = _dim(dim, x.ndim, "narrow")
    start, length = int(start.item() if isinstance(start, Tensor) else start), int(length)
    n = x.shape[d]
    if not -n <= start <= n:
        raise GradIndexError(f"narrow: start {start} is out of range for dimension {d} of size {n} "
                             f"(expected it in [{-n}, {n}])")
    start = start + n if start < 0 else start
    if length < 0:
        raise ValueError(f"narrow: length must be non-negative, got {length}")
    if start + length > n:
        raise ValueError(f"narrow: start ({start}) + length ({length}) exceeds dimension size ({n})")
    from .indexing import getitem

    return getitem(x, (slice(None),) * d + (slice(start, start + length),))


_meshgrid_warned = []


def meshgrid(*tensors, indexing: str | None = None):
    """Coordinate grids from 0-d / 1-d tensors t_1..t_k of sizes n_1..n_k: output i is t_i expanded
    to shape (n_1, ..., n_k) along dim i (``indexing='ij'``), or with the first two dims swapped
    (``'xy'``, Cartesian: shape (n_2, n_1, n_3, ...)). Without ``indexing`` it is 'ij' with
    PyTorch's one-time warning. Outputs are broadcast views; gradients sum back."""
    import warnings

    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if not tensors:
        raise ValueError("meshgrid: expects a non-empty list of tensors")
    if indexing is None:
        if not _meshgrid_warned:
            _meshgrid_warned.append(True)
            warnings.warn("meshgrid: in an upcoming release, it will be required to pass the indexing "
                          "argument (as in torch.meshgrid; the default is 'ij').", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be one of 'xy' or 'ij', got {indexing!r}")
    for i, t in enumerate(tensors):
        if t.ndim > 1:
            raise ShapeError(f"meshgrid: expects 0-d or 1-d tensors, got shape {tuple(t.shape)} for "
                             f"tensor {i}")
        if t.dtype != tensors[0].dtype:
            from ..errors import DTypeError

            raise DTypeError(f"meshgrid: expects all tensors to have the same dtype, got {tensors[0].dtype} "
                             f"and {t.dtype}")
    sizes = [t.numel() for t in tensors]
    pos = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) >= 2:  # Cartesian: x varies along columns (dim 1)
        pos[0], pos[1] = 1, 0
    shape = [0] * len(tensors)
    for p, s in zip(pos, sizes):
        shape[p] = s
    out = []
    for p, t in zip(pos, tensors):
        view = [1] * len(tensors)
        view[p] = t.numel()
        out.append(broadcast_to(reshape(t, tuple(view)), tuple(shape)))
    return tuple(out)


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "edge": "edge",
              "circular": "wrap", "wrap": "wrap"}


def pad(x, pad, mode: str = "constant", value: float = 0.0) -> Tensor:
    """Pad like ``torch.nn.functional.pad``: ``pad = (left_last, right_last, left_2nd_last, ...)``.

    Modes: ``constant`` (``value``), ``reflect`` (mirror without the edge), ``replicate``/``edge``
    (repeat the edge), ``circular``. A negative pad crops (in every mode, with PyTorch's order of
    crop and pad, see ``_pad_source``). Non-constant modes are gathers along each padded dim
    (``index_select`` with the source index), so their gradient scatter-adds into the edges. Unlike
    PyTorch, non-constant modes take any number of padded dims and 1-d inputs.
    """
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: padding length {len(pad)} must be even and at most 2 * ndim ({2 * x.ndim})")
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: unknown mode {mode!r}; use one of {sorted(_PAD_MODES)}")
    width = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        width[x.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    for axis, (lo, hi) in enumerate(width):
        if x.shape[axis] + lo + hi < 0:
            raise ValueError(f"pad: padding ({lo}, {hi}) of dim {axis} (size {x.shape[axis]}) gives a "
                             f"negative size {x.shape[axis] + lo + hi}")
    if mode == "constant":
        if any(lo < 0 or hi < 0 for lo, hi in width):  # negative padding crops
            slices = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for (lo, hi), n in zip(width, x.shape))
            x = x[slices]
            width = [(max(lo, 0), max(hi, 0)) for lo, hi in width]
        return PadConstant.apply(x, tuple(width), value)
    from .indexing import index_select

    np_mode = _PAD_MODES[mode]
    for axis, (lo, hi) in enumerate(width):
        if lo == 0 and hi == 0:
            continue
        src = _pad_source(x.shape[axis], lo, hi, np_mode, axis)
        x = index_select(x, axis, Tensor._make(xp_of(x.data).asarray(src)))
    return x


def _pad_source(n: int, lo: int, hi: int, np_mode: str, axis: int):
    """The source position of every output element of one padded dim (a negative pad crops).

    PyTorch's rules: reflect and replicate pad the whole input and then crop (a negative pad on one
    side does not change what the other side mirrors); circular crops first and then wraps around
    what is left. A reflect pad must be smaller than the input size, a circular one at most as large
    as what is left after cropping (PyTorch checks the input size only, and past it returns values
    read from memory it is still writing, and wrong gradients).
    """
    plo, phi, clo, chi = max(lo, 0), max(hi, 0), max(-lo, 0), max(-hi, 0)
    if n + lo + hi == 0:
        return np.zeros(0, np.int64)
    if np_mode == "wrap":
        if plo > n or phi > n:
            raise ValueError(f"pad: circular padding ({lo}, {hi}) of dim {axis} wraps around more than once "
                             f"(it must be at most the input size {n})")
        kept = np.arange(n)[clo:n - chi]
        if plo > kept.size or phi > kept.size:  # PyTorch would read memory it has not written yet
            raise ValueError(f"pad: circular padding ({lo}, {hi}) of dim {axis} (size {n}) wraps more than "
                             f"once around the {kept.size} element(s) its negative side leaves")
        return np.pad(kept, (plo, phi), mode="wrap")
    if np_mode == "reflect" and (plo >= n or phi >= n):
        raise ValueError(f"pad: reflect padding ({lo}, {hi}) must be smaller than the input size {n} "
                         f"of dim {axis}")
    full = np.pad(np.arange(n), (plo, phi), mode=np_mode)
    return full[clo:full.size - chi]


def contiguous(x) -> Tensor:
    """Data laid out in C order (a no-op for the graph)."""
    xp = xp_of(x.data)
    if x.data.flags.c_contiguous:
        return x
    out = Reshape.apply(x, x.shape)  # keeps the graph
    out.data = xp.ascontiguousarray(out.data)
    return out
