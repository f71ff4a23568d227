"""``Tensor``: an ``xp.ndarray`` plus what autograd needs (``requires_grad``, ``grad``, ``grad_fn``).

    >>> import gradus
    >>> x = gradus.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    tensor([[2., 4.],
            [6., 8.]])

Construction follows PyTorch: Python floats become float32 (the default dtype), Python ints int64,
bools bool; NumPy arrays keep their dtype. ``data`` is always an ``xp.ndarray`` (0-d arrays, never
NumPy scalars). Operators and methods delegate to the op library (``gradus.ops``).
"""
from __future__ import annotations

import numbers
import weakref

import numpy as np

from . import backend
from . import dtypes as _dt
from .autograd.function import AccumulateGrad
from .autograd.grad_mode import state as _grad_state
from .backend import Device
from .errors import AutogradError, DTypeError, ShapeError
from .validation import describe


def _to_array(data, dtype=None):
    """Convert ``data`` to an ndarray with PyTorch's dtype rules."""
    if isinstance(data, Tensor):
        a = data.data
    elif isinstance(data, np.ndarray) or backend.is_cupy_array(data):
        a = data
    elif isinstance(data, np.generic):
        a = np.asarray(data)
    else:
        if isinstance(data, (list, tuple)) and any(isinstance(e, Tensor) for e in _flat(data)):
            data = _tensors_to_lists(data)
        try:
            a = np.asarray(data)
        except ValueError as e:  # ragged nested lists: "inhomogeneous shape after N dimensions"
            raise ShapeError(f"tensor(): nested sequences must be rectangular (every row of a dimension the "
                             f"same length), got a ragged {type(data).__name__} ({e})") from None
        if dtype is None:
            if a.dtype.kind == "f":
                a = a.astype(_dt.get_default_dtype(), copy=False)
            elif a.dtype.kind in "iu":
                a = a.astype(np.int64, copy=False)
            elif a.dtype.kind == "O":
                raise TypeError(
                    f"tensor(): cannot build a tensor from {type(data).__name__} of mixed objects")
    if a.dtype.kind in "USV":
        raise TypeError(f"tensor(): cannot build a tensor from strings or bytes ({describe(data)}); "
                        "expected numbers or bools (encode text with a vocabulary first)")
    if dtype is not None:
        dtype = _dt.to_dtype(dtype)
        if a.dtype != dtype:
            a = a.astype(dtype)
    return a


def _flat(x):
    for e in x:
        if isinstance(e, (list, tuple)):
            yield from _flat(e)
        else:
            yield e


def _tensors_to_lists(x):
    if isinstance(x, Tensor):
        return x.numpy()
    if isinstance(x, (list, tuple)):
        return [_tensors_to_lists(e) for e in x]
    return x


class Tensor:
    """A multi-dimensional array that records the operations applied to it for autograd."""

    __slots__ = ("data", "_grad", "requires_grad", "grad_fn", "_output_nr", "_accumulator", "_hooks",
                 "_retains", "name", "_vc", "__weakref__")
    __array_priority__ = 1000
    __array_ufunc__ = None  # `ndarray + Tensor` defers to Tensor.__radd__

    def __init__(self, data, requires_grad: bool = False, dtype=None, device=None):
        a = _to_array(data, dtype)
        if device is not None:
            a = backend.to_device(a, Device(device))
        self.data = a
        self._grad = None
        self.grad_fn = None
        self._output_nr = 0
        self._accumulator = None
        self._hooks = None
        self._retains = False
        self.name = None
        self._vc = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data) -> Tensor:
        """Fast internal constructor: wrap an array as is (no conversion, no grad)."""
        t = object.__new__(cls)
        t.data = data
        t._grad = None
        t.requires_grad = False
        t.grad_fn = None
        t._output_nr = 0
        t._accumulator = None
        t._hooks = None
        t._retains = False
        t.name = None
        t._vc = None  # version counter, made on first need (a list [n], shared by views and detach)
        return t

    @staticmethod
    def _zeros_like_meta(shape, dtype, like=None) -> Tensor:
        xp = backend.get_array_module(like) if like is not None else np
        return Tensor._make(xp.zeros(shape, dtype=dtype))

    # -- properties ---------------------------------------------------------------------------
    @property
    def grad(self):
        """The accumulated gradient (a Tensor of this tensor's shape and a floating dtype) or None."""
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            _check_grad(self, value, "assigned grad")
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def device(self) -> Device:
        return backend.device_of(self.data)

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def is_cuda(self) -> bool:
        return backend.is_cupy_array(self.data)

    @property
    def T(self) -> Tensor:  # noqa: N802
        """All dimensions reversed (the matrix transpose for 2-D tensors)."""
        return self.permute(*reversed(range(self.ndim))) if self.ndim >= 2 else self

    @property
    def mT(self) -> Tensor:  # noqa: N802
        """Transpose of the last two dimensions (batched matrix transpose)."""
        return self.transpose(-2, -1)

    def size(self, dim: int | None = None):
        return self.shape if dim is None else self.shape[dim]

    def dim(self) -> int:
        return self.data.ndim

    def numel(self) -> int:
        return int(self.data.size)

    def element_size(self) -> int:
        return self.data.itemsize

    def is_floating_point(self) -> bool:
        return self.data.dtype.kind == "f"

    # -- conversion -----------------------------------------------------------------------------
    def item(self):
        """The single value as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item(): only one-element tensors can be converted to Python scalars, "
                             f"got shape {tuple(self.shape)}")
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (shares memory on CPU; refuses tensors that require grad
        only in PyTorch — here it is allowed, as reading values is what learners do)."""
        return backend.as_numpy(self.data)

    def tolist(self):
        return self.numpy().tolist()

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iub" or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous "
                               f"(shape {tuple(self.shape)}); use .any() or .all()")
        return bool(self.item())

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __hash__(self) -> int:
        return id(self)

    def detach(self) -> Tensor:
        """Same data (and version counter: an in-place change through it is seen), cut from the graph."""
        t = Tensor._make(self.data)
        t._vc = self._version_counter()
        return t

    # -- version counter (PyTorch's): bumped by every in-place op, checked by backward ------------
    def _version_counter(self) -> list:
        vc = self._vc
        if vc is None:
            vc = self._vc = [0]
        return vc

    @property
    def _version(self) -> int:
        """How many in-place operations changed this tensor's memory (shared with views/detach)."""
        return 0 if self._vc is None else self._vc[0]

    def _bump_version(self) -> None:
        vc = self._vc
        if vc is None:
            self._vc = [1]
        else:
            vc[0] += 1

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self.requires_grad = False
        return self

    def clone(self) -> Tensor:
        from .ops.elementwise import clone

        return clone(self)

    def to(self, *args, dtype=None, device=None, copy: bool = False) -> Tensor:
        """``to(dtype)``, ``to("cpu" | "cuda")``, ``to(device, dtype)`` or ``to(other_tensor)``."""
        for a in args:
            if isinstance(a, Tensor):
                dtype, device = a.dtype, a.device
            elif isinstance(a, (str, Device)):
                device = a
            else:
                dtype = a
        out = self
        if device is not None and Device(device) != self.device:
            from .ops.elementwise import to_device

            out = to_device(out, Device(device))
        if dtype is not None:
            dtype = _dt.to_dtype(dtype)
            if dtype != out.dtype:
                from .ops.elementwise import astype

                out = astype(out, dtype)
        if copy and out is self:
            out = self.clone()
        return out

    def astype(self, dtype) -> Tensor:
        return self.to(dtype)

    def type(self, dtype=None):
        if dtype is None:
            return f"gradus.{self.dtype.name}"
        return self.to(dtype)

    def float(self) -> Tensor:
        return self.to(_dt.float32)

    def double(self) -> Tensor:
        return self.to(_dt.float64)

    def half(self) -> Tensor:
        return self.to(_dt.float16)

    def long(self) -> Tensor:
        return self.to(_dt.int64)

    def int(self) -> Tensor:
        return self.to(_dt.int32)

    def bool(self) -> Tensor:
        return self.to(_dt.bool)

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self, device: int | None = None) -> Tensor:
        return self.to("cuda" if device is None else f"cuda:{device}")

    # -- autograd -------------------------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self.data.dtype.kind not in "fc":
            raise DTypeError(
                f"only floating point tensors can require gradients, got dtype {_dt.dtype_name(self.dtype)}; "
                "convert first with .float()")
        if not requires_grad and self.grad_fn is not None:
            raise AutogradError("requires_grad_(False) on a non-leaf tensor: use .detach() instead")
        self.requires_grad = bool(requires_grad)
        return self

    def _grad_edge(self):
        """(node, output_nr) where this tensor's gradient flows: its grad_fn, or its accumulator."""
        if self.grad_fn is not None:
            return self.grad_fn, self._output_nr
        acc = self._accumulator
        if acc is None or acc.variable() is not self:
            acc = self._accumulator = AccumulateGrad(self)
        return acc, 0

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise AutogradError("retain_grad() on a tensor that does not require grad")
        if self.grad_fn is None or self._retains:
            return
        self._retains = True
        node = self.grad_fn
        if node._retained is None:
            node._retained = {}
        node._retained[self._output_nr] = weakref.ref(self)

    @property
    def retains_grad(self) -> bool:
        return self._retains

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned Tensor replaces it.

        Returns a handle with ``remove()``.
        """
        if not self.requires_grad:
            raise AutogradError("register_hook() on a tensor that does not require grad")
        if not callable(hook):
            raise TypeError(f"register_hook: hook must be callable, got {type(hook).__name__}")
        hook = _checked_hook(hook)
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            self.grad_fn.register_hook(self._output_nr, hook)
            hooks = self.grad_fn._hooks[self._output_nr]
        if hook not in hooks:
            hooks.append(hook)
        return _HookHandle(hooks, hook)

    def backward(self, gradient=None, retain_graph: bool | None = None, create_graph: bool = False,
                 inputs=None) -> None:
        """Accumulate the gradient of this tensor w.r.t. every leaf into the leaves' ``.grad``.

        ``gradient`` is required unless the tensor has one element. The graph is freed afterwards
        unless ``retain_graph=True``; ``create_graph=True`` records the backward pass itself so the
        gradients can be differentiated again.
        """
        _autograd.backward(self, gradient, retain_graph, create_graph, inputs)

    # -- in-place updates ----------------------------------------------------------------------
    # Outside a graph (no_grad, or nothing requires grad) they change the data and bump the version.
    # On a tensor inside a graph (or with an operand that requires grad) they are recorded, as in
    # PyTorch: y.mul_(2) is differentiated as y = y * 2 (see ops/inplace.py).
    def _check_inplace(self, op: str) -> None:
        if _grad_state.enabled and self.requires_grad and self.grad_fn is None:
            raise AutogradError(
                f"{op}: a leaf tensor that requires grad is being used in an in-place operation; "
                "wrap it in `with gradus.no_grad():`")

    def _recording(self, other=None) -> bool:
        return _grad_state.enabled and (
            self.requires_grad or (isinstance(other, Tensor) and other.requires_grad))

    def _rebase(self, op: str, compute) -> Tensor:
        """Record an in-place op: ``new = compute(old)`` out of place on a private copy of the old
        value, written back into this tensor's memory; this tensor moves to ``new``'s node."""
        gf = self.grad_fn
        if gf is not None and gf.fn.is_view and getattr(self.data, "base", None) is not None:
            raise AutogradError(
                f"{op}: in-place operation on a view ({gf.name()} output) of a tensor that is part of a "
                "graph; gradus does not rewrite the base tensor's history. Do it out of place, or on "
                ".clone() of the view")
        old = Tensor._make(self.data.copy())
        if self.requires_grad:
            old.requires_grad, old.grad_fn, old._output_nr = True, gf, self._output_nr
            old._accumulator = self._accumulator
        new = compute(old)
        self.data[...] = new.data
        self._bump_version()
        self.grad_fn, self._output_nr, self.requires_grad = new.grad_fn, new._output_nr, new.requires_grad
        return self

    def _set(self, op: str, value) -> Tensor:
        self._check_inplace(op)
        if self._recording(value):
            from .ops.inplace import replace

            return self._rebase(op, lambda old: replace(old, value))
        v = value.data if isinstance(value, Tensor) else value
        self.data[...] = v
        self._bump_version()
        return self

    def __setitem__(self, idx, value) -> None:
        """``x[idx] = value``: recorded by autograd when x is inside a graph or value requires grad
        (gradient: zero at the assigned positions for x, the gathered gradient for value); refused on
        leaves requiring grad outside ``no_grad`` (as PyTorch)."""
        from .ops.indexing import setitem_index

        self._check_inplace("__setitem__")
        np_idx, layout = setitem_index(self.shape, idx)  # PyTorch's placement of index-tensor dims
        if self._recording(value):
            from .ops.inplace import set_item

            self._rebase("__setitem__", lambda old: set_item(old, np_idx, layout, value))
            return
        value = value.data if isinstance(value, Tensor) else value
        self.data[np_idx] = value if layout is None else layout(value)
        self._bump_version()

    def zero_(self) -> Tensor:
        return self._set("zero_", 0)

    def fill_(self, value) -> Tensor:
        return self._set("fill_", value)

    def copy_(self, src) -> Tensor:
        arr = src.data if isinstance(src, Tensor) else src
        shape = tuple(np.shape(arr))
        if shape != self.shape and np.broadcast_shapes(shape, self.shape) != self.shape:
            raise ValueError(f"copy_: cannot copy shape {np.shape(arr)} into {tuple(self.shape)}")
        if isinstance(src, Tensor) and src.requires_grad and _grad_state.enabled:
            return self._set("copy_", src)           # recorded: the gradient flows to src
        arr = backend.to_device(arr, self.device) if self.is_cuda else backend.as_numpy(arr)
        return self._set("copy_", arr)

    def add_(self, other, alpha=1) -> Tensor:
        self._check_inplace("add_")
        if self._recording(other):
            return self._rebase("add_", lambda old: old + (other * alpha if alpha != 1 else other))
        o = other.data if isinstance(other, Tensor) else other
        self.data += o * alpha if alpha != 1 else o
        self._bump_version()
        return self

    def sub_(self, other, alpha=1) -> Tensor:
        return self.add_(other, alpha=-alpha)

    def mul_(self, other) -> Tensor:
        self._check_inplace("mul_")
        if self._recording(other):
            return self._rebase("mul_", lambda old: old * other)
        self.data *= other.data if isinstance(other, Tensor) else other
        self._bump_version()
        return self

    def div_(self, other) -> Tensor:
        self._check_inplace("div_")
        if self._recording(other):
            return self._rebase("div_", lambda old: old / other)
        self.data /= other.data if isinstance(other, Tensor) else other
        self._bump_version()
        return self

    def clamp_(self, min=None, max=None) -> Tensor:  # noqa: A002
        self._check_inplace("clamp_")
        if self._recording():
            return self._rebase("clamp_", lambda old: old.clamp(min, max))
        xp = backend.get_array_module(self.data)
        xp.clip(self.data, min, max, out=self.data)
        self._bump_version()
        return self

    def uniform_(self, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
        from .random import default_generator

        g = generator or default_generator()
        return self._set("uniform_", g.uniform(a, b, self.shape).astype(self.dtype))

    def normal_(self, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
        from .random import default_generator

        g = generator or default_generator()
        return self._set("normal_", (g.standard_normal(self.shape) * std + mean).astype(self.dtype))

    def bernoulli_(self, p: float = 0.5, generator=None) -> Tensor:
        from .random import default_generator

        g = generator or default_generator()
        return self._set("bernoulli_", (g.random(self.shape) < p).astype(self.dtype))

    # -- printing -------------------------------------------------------------------------------
    def __repr__(self) -> str:
        a = self.numpy()
        extras = []
        if a.size == 0:
            body = "[]"
            if a.ndim != 1:
                extras.append(f"size={tuple(a.shape)}")
            if a.dtype != _dt.get_default_dtype():  # nothing printed tells the dtype of an empty tensor
                extras.append(f"dtype={_dt.dtype_name(a.dtype)}")
        else:
            body = _array_str(a)
            if a.dtype not in (_dt.get_default_dtype(), np.dtype("int64"), np.dtype("bool")):
                extras.append(f"dtype={_dt.dtype_name(a.dtype)}")
        if self.is_cuda:
            extras.append(f"device='{self.device}'")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    def __format__(self, spec: str) -> str:
        if self.ndim == 0:
            return format(self.item(), spec)
        return repr(self)


_THRESHOLD, _EDGEITEMS = 1000, 3


def _summarized(a):
    """The elements PyTorch shows of a large array (the first and last 3 along every dim)."""
    if a.size <= _THRESHOLD:
        return a
    for axis, n in enumerate(a.shape):
        if n > 2 * _EDGEITEMS:
            keep = list(range(_EDGEITEMS)) + list(range(n - _EDGEITEMS, n))
            a = np.take(a, keep, axis=axis)
    return a


def _float_formatter(a):
    """PyTorch's rules: whole numbers print as ``2.``; scientific notation (4 digits) when the
    nonzero magnitudes span more than 1000x, exceed 1e8, or go below 1e-4; else 4 decimals. Every
    element is right-aligned to the widest."""
    vals = _summarized(a).astype(np.float64).ravel()
    nz = np.abs(vals[np.isfinite(vals) & (vals != 0)])
    if nz.size == 0:
        return lambda v: f"{v:.0f}." if np.isfinite(v) else f"{v:.0f}"
    lo, hi = nz.min(), nz.max()
    int_mode = bool(np.all(nz == np.ceil(nz)))
    sci = hi / lo > 1000.0 or hi > 1.0e8 or (not int_mode and lo < 1.0e-4)
    if sci:
        fmt = "{:.4e}".format
    elif int_mode:
        def fmt(v):
            return f"{v:.0f}." if np.isfinite(v) else f"{v:.0f}"
    else:
        fmt = "{:.4f}".format
    width = max(len(fmt(v)) for v in vals[np.isfinite(vals) & (vals != 0)])
    return lambda v: fmt(v).rjust(width)


def _array_str(a) -> str:
    # max_line_width=81: NumPy counts the trailing separator, so this wraps where PyTorch's 80 does
    if a.dtype.kind == "f":
        formatter = _float_formatter(a)
        if a.ndim == 0:
            return formatter(a.item()).strip()
        return np.array2string(a, separator=", ", prefix="tensor(", threshold=_THRESHOLD,
                               edgeitems=_EDGEITEMS, max_line_width=81, formatter={"float_kind": formatter})
    if a.ndim == 0:
        return str(a.item())
    return np.array2string(a, separator=", ", prefix="tensor(", threshold=_THRESHOLD, edgeitems=_EDGEITEMS,
                           max_line_width=81)


class _HookHandle:
    def __init__(self, hooks: list, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _check_grad(t, g, what: str) -> None:
    """A gradient for ``t`` (a tensor, or the incoming gradient a hook replaces) must be a Tensor of
    ``t``'s shape with a floating (or complex) dtype."""
    if not isinstance(g, Tensor):
        raise TypeError(f"{what}: expected a Tensor or None, got {type(g).__name__}")
    if g.data.shape != t.data.shape:
        raise ShapeError(f"{what} has shape {tuple(g.data.shape)}, but the tensor has shape "
                         f"{tuple(t.data.shape)}: a gradient must have the shape of its tensor")
    if g.data.dtype.kind not in "fc":
        raise DTypeError(f"{what} has dtype {g.data.dtype}; gradients must be floating point (the tensor is "
                         f"{t.data.dtype})")


def _checked_hook(hook):
    """``hook`` wrapped so that a returned gradient of the wrong shape or dtype is refused (naming the
    hook) instead of flowing on into the graph."""
    import functools

    @functools.wraps(hook)
    def checked(grad):
        out = hook(grad)
        if out is not None:
            name = getattr(hook, "__qualname__", repr(hook))
            _check_grad(grad, out, f"the gradient returned by hook {name}")
        return out

    checked.__wrapped_hook__ = hook
    return checked


def is_tensor(x) -> bool:
    return isinstance(x, Tensor)


def _scalar_like(value, like: Tensor) -> Tensor:
    """A Python number as a 0-d constant whose dtype follows PyTorch's scalar promotion: a number
    does not change a tensor's dtype within its category (float32 + 2.5 stays float32), but an int
    tensor combined with a float number becomes the default float dtype."""
    xp = backend.get_array_module(like.data)
    k = like.data.dtype.kind
    if isinstance(value, bool):
        dtype = like.dtype
    elif isinstance(value, numbers.Integral):
        dtype = like.dtype if k != "b" else np.dtype("int64")
    elif isinstance(value, numbers.Real):
        dtype = like.dtype if k in "fc" else _dt.get_default_dtype()
    elif isinstance(value, numbers.Complex):
        dtype = np.result_type(like.dtype, np.complex64)
    else:
        raise TypeError(f"unsupported operand type {type(value).__name__} for a Tensor operation")
    return Tensor._make(xp.asarray(value, dtype=dtype))


def as_operand(x, like: Tensor) -> Tensor:
    """Convert the other operand of a binary op (number, list, ndarray) to a Tensor."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, numbers.Number):
        return _scalar_like(x, like)
    a = _to_array(x)
    if backend.is_cupy_array(like.data):
        a = backend.to_device(a, like.device)
    return Tensor._make(a)


def promote_pair(a: Tensor, b: Tensor):
    """PyTorch-like promotion across categories (bool < int < float): int32 + float32 -> float32,
    not NumPy's float64. Within a category NumPy's rules (float32 + float64 -> float64) apply."""
    ka, kb = a.data.dtype.kind, b.data.dtype.kind
    if ka == kb or a.data.dtype == b.data.dtype:
        return a, b
    rank = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}
    ra, rb = rank.get(ka, 2), rank.get(kb, 2)
    if ra > rb:
        return a, Tensor._make(b.data.astype(a.dtype))
    if rb > ra:
        return Tensor._make(a.data.astype(b.dtype)), b
    return a, b


from . import autograd as _autograd  # noqa: E402  (complete by now: importing autograd.function above ran it)
from .autograd import function as _function  # noqa: E402

_function.register_tensor_class(Tensor)

# Operators and methods are attached in gradus.ops.methods (imported by gradus/__init__), keeping
# this file about the data structure and the ops about the math.
