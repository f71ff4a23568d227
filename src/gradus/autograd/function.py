"""``Function``: one op = one ``forward`` on raw arrays + one ``backward`` on Tensors::

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):          # x: xp.ndarray
            y = xp.exp(x)
            ctx.save_for_backward(y)  # keep only what backward needs
            return y
        @staticmethod
        def backward(ctx, gy):        # gy: Tensor
            y, = ctx.saved_tensors    # Tensors: backward is itself differentiable
            return gy * y

``Function.apply`` wraps the arrays into Tensors and, when grad mode is on and an input requires
grad, records a ``Node`` (which *is* the ``ctx``) in the backward graph. Because ``backward`` is
written with Tensor ops, running it with grad mode on (``create_graph=True``) records the graph of
the gradient itself: higher-order derivatives come for free.

Saved arrays are resolved to Tensors lazily: an input array comes back as the input Tensor (so a
double backward reaches the input's history), an output array as a Tensor whose ``grad_fn`` is this
node, anything else as a constant. Nodes hold their inputs' *nodes*, not their data, so memory is
only what ``save_for_backward`` asked for.

Saved state has one door (two entrances): ``ctx.save_for_backward(*arrays)`` for values backward
reads as Tensors (``ctx.saved_tensors``), and ``ctx.save_raw(name=array, ...)`` for raw arrays that
backward reads as ``ctx.name`` but never differentiates (masks, indices, normalised activations of a
fused op). ``_release()`` after backward frees both, so a graph kept alive by a user (``losses.append
(loss)``) pins no activations. Only small metadata (shapes, axes, flags) is set on ``ctx`` directly.
"""
from __future__ import annotations

import functools
import traceback
import weakref

import numpy as np

from .. import backend
from ..errors import AnomalyError, AutogradError, DeviceError, GradusError, ShapeError
from .anomaly import has_nonfinite
from .grad_mode import state

_INPUT, _OUTPUT, _CONST = 0, 1, 2


class Node:
    """A node of the backward graph, and the ``ctx`` of the Function call that made it.

    ``next_functions[i]`` is ``(node, output_nr)`` for the i-th argument of ``forward`` (``(None, 0)``
    when it is not a Tensor requiring grad); leaves are represented by their ``AccumulateGrad`` node.
    """

    _raw = None  # {name: array} from save_raw (a class default: most nodes save no raw arrays)
    # [(version counter, version when saved, what it is)] of the tensors whose values backward reads;
    # checked before backward (the version counters of in-place ops, PyTorch's semantics)
    _versions = None

    def __init__(self, fn):
        self.fn = fn
        self.next_functions = ()
        self.needs_input_grad = ()
        self._to_save = ()
        self._saved = None
        self._input_meta = ()   # (shape, dtype) per forward argument (None for non-Tensors)
        self._output_meta = ()  # (shape, dtype) per output
        self._hooks = None      # {output_nr: [hook, ...]} for non-leaf tensors
        self._retained = None   # {output_nr: weakref(tensor)} for retain_grad()
        self._released = False
        self._stack = None      # forward traceback, recorded in anomaly mode

    # -- what forward calls -------------------------------------------------------------------
    def save_for_backward(self, *arrays) -> None:
        """Keep these arrays (inputs, outputs or others) for backward."""
        self._to_save = arrays

    def save_raw(self, **arrays) -> None:
        """Keep raw arrays that backward reads back as ``ctx.<name>`` (never as Tensors).

        For what backward needs but does not differentiate: masks, indices, a fused op's normalised
        activations. Freed with the saved tensors after backward (``_release``); reading one after
        that raises the "backward through the graph a second time" error."""
        if self._raw is None:
            self._raw = arrays
        else:
            self._raw.update(arrays)

    def __getattr__(self, name):
        # only called when normal lookup fails: the names given to save_raw
        raw = self.__dict__.get("_raw")
        if raw is not None and name in raw:
            if self.__dict__.get("_released"):
                self._raise_released()
            return raw[name]
        raise AttributeError(f"{type(self).__name__} object has no attribute {name!r}")

    def mark_non_differentiable(self, *arrays) -> None:
        self._non_diff = {id(a) for a in arrays}

    # -- what backward calls ------------------------------------------------------------------
    @property
    def saved_tensors(self) -> tuple:
        """The saved arrays as Tensors (inputs as the very input Tensors; outputs linked to this node)."""
        if self._released:
            self._raise_released()
        Tensor = _Tensor
        out = []
        for kind, a, b in self._saved:
            if kind == _INPUT:
                out.append(a)
            elif kind == _OUTPUT:
                t = Tensor._make(a)
                if state.enabled:  # create_graph: the output is differentiable through this node
                    t.requires_grad = True
                    t.grad_fn = self
                    t._output_nr = b
                out.append(t)
            else:
                out.append(None if a is None else Tensor._make(a))
        return tuple(out)

    @property
    def saved_arrays(self) -> tuple:
        """The saved values as raw arrays (for ``once_differentiable`` backwards)."""
        if self._released:
            return self.saved_tensors  # raises the clear error
        return tuple(a.data if kind == _INPUT else a for kind, a, _ in self._saved)

    def _raise_released(self):
        raise AutogradError(
            f"{self.name()}: trying to backward through the graph a second time (or to read saved "
            "tensors after they were freed). Pass retain_graph=True to the first backward() or "
            "autograd.grad() if you need to backward twice.")

    # -- graph bookkeeping --------------------------------------------------------------------
    def name(self) -> str:
        return f"{self.fn.__name__}Backward"

    def __repr__(self) -> str:
        return f"<{self.name()}>"

    def register_hook(self, output_nr: int, hook) -> None:
        if self._hooks is None:
            self._hooks = {}
        self._hooks.setdefault(output_nr, []).append(hook)

    def _check_versions(self) -> None:
        for counter, expected, what in self._versions:
            if counter[0] != expected:
                raise AutogradError(
                    f"{self.name()}: one of the variables needed for gradient computation has been "
                    f"modified by an in-place operation: {what} is at version {counter[0]}; expected "
                    f"version {expected} instead. Do the in-place operation out of place (y = y * 2 "
                    "instead of y.mul_(2)), or clone() the tensor before modifying it.")

    def _release(self) -> None:
        """Free everything backward needed (called after backward unless retain_graph=True): the saved
        tensors and the raw arrays. The raw names stay (mapped to None) so a late read says why."""
        self._saved = None
        if self._raw is not None:
            self._raw = dict.fromkeys(self._raw)
        self._released = True


class AccumulateGrad(Node):
    """The node of a leaf tensor: adds the incoming gradient into ``tensor.grad``.

    Holds the leaf by weak reference so a leaf's ``_accumulator`` does not keep it alive.
    """

    def __init__(self, tensor):
        super().__init__(AccumulateGrad)
        self.variable = weakref.ref(tensor)
        self._output_meta = ((tensor.shape, tensor.dtype),)

    def name(self) -> str:
        return "AccumulateGrad"

    def _release(self) -> None:
        pass  # nothing saved; a leaf's accumulator is reused by every graph


class Function:
    """Base class of every differentiable op. Subclasses define static ``forward`` and ``backward``.

    ``forward(ctx, *args, **kwargs)`` receives arrays for Tensor arguments (other arguments as given)
    and returns an array or a tuple of arrays. ``backward(ctx, *grad_outputs)`` receives one Tensor
    per output and returns one gradient (Tensor, array or None) per positional argument of forward.
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError

    # True for ops whose output may be a view of their first input's memory (reshape, permute, basic
    # indexing, ...): such an output shares the input's version counter, so an in-place change
    # through either is seen by every graph that saved the other
    is_view = False

    @classmethod
    def apply(cls, *args, **kwargs):
        Tensor = _Tensor
        arrays = []
        any_requires_grad = False
        first_cupy = None
        for a in args:
            if isinstance(a, Tensor):
                arrays.append(a.data)
                if a.requires_grad:
                    any_requires_grad = True
                if backend.loaded_cupy is not None:
                    first_cupy = _check_same_device(cls, a, first_cupy)
            else:
                arrays.append(a)

        ctx = Node(cls)
        try:
            out = cls.forward(ctx, *arrays, **kwargs)
        except GradusError:
            raise
        except (ValueError, IndexError, TypeError) as e:
            raise _rewrap_error(cls, e, args) from e
        if type(out) is tuple:
            outs = tuple(o if isinstance(o, _ndarray_types()) else _asarray(o) for o in out)
        else:
            outs = (out if isinstance(out, _ndarray_types()) else _asarray(out),)
        if state.anomaly:
            _check_anomaly_forward(cls, outs, args)

        if any_requires_grad and state.enabled:
            results = tuple(Tensor._make(o) for o in outs)
            if cls.is_view:
                _share_version(args[0], results[0])
            _record(ctx, args, outs, results, out if type(out) is tuple else (out,))
            return results if type(out) is tuple else results[0]
        if type(out) is tuple:
            return tuple(Tensor._make(o) for o in outs)
        result = Tensor._make(outs[0])
        if cls.is_view:
            _share_version(args[0], result)
        return result


class FusedFunction(Function):
    """Base class of a fused op: one node for a chain of math, with its backward written twice.

    Subclasses define ``forward`` (as any Function) and

    * ``backward_raw(ctx, *grads)``: raw arrays in, raw arrays (or None) out — the fast path, taken by
      a plain ``loss.backward()``: no Tensor wrapping, no graph bookkeeping, in-place array updates;
    * ``backward_composed(ctx, *grads)``: Tensors in, Tensors out, written with differentiable ops —
      taken when ``create_graph=True`` (gradient penalties, Hessian-vector products,
      ``gradgradcheck``), so the gradient can be differentiated again, to any order.

    Both compute the same formulas; the choice is made here, once, from the grad mode the engine
    sets for backward (on exactly when ``create_graph=True``). Every fused op is tested against its
    composed (unfused) twin, and ``gradgradcheck`` exercises ``backward_composed``. In ``backward_raw``
    read saved values with ``ctx.saved_arrays`` (raw) and raw state with ``ctx.<name>``.
    """

    @classmethod
    def backward(cls, ctx, *grads):
        if state.enabled:  # create_graph=True: record the gradient's own graph
            return cls.backward_composed(ctx, *grads)
        return cls.backward_raw(ctx, *(None if g is None else g.data for g in grads))

    @staticmethod
    def backward_raw(ctx, *grads):
        raise NotImplementedError

    @staticmethod
    def backward_composed(ctx, *grads):
        raise NotImplementedError


_Tensor = None  # set by gradus.tensor once the class exists (avoids an import per op call)


def register_tensor_class(cls) -> None:
    """Called once by ``gradus.tensor``: the Tensor class that ``Function.apply`` wraps arrays in."""
    global _Tensor
    _Tensor = cls


def _ndarray_types():
    return (np.ndarray, backend.loaded_cupy.ndarray) if backend.loaded_cupy is not None else np.ndarray


def _asarray(o):
    """NumPy reductions return NumPy scalars; the framework keeps 0-d arrays."""
    if backend.is_cupy_array(o):
        return o
    return np.asarray(o)


def _check_same_device(cls, t, first):
    """Raise a clear error when Tensor arguments live on different devices."""
    dev = t.device
    if first is None:
        return (dev, t)
    if dev != first[0]:
        raise DeviceError(
            f"{cls.__name__}: expected all tensors on the same device, got {first[0]} "
            f"(shape {tuple(first[1].shape)}) and {dev} (shape {tuple(t.shape)}); move one with .to()")
    return first


def _share_version(base, view) -> None:
    """``view`` (an op's output) shares ``base``'s version counter if its array is a view of memory."""
    if isinstance(base, _Tensor) and getattr(view.data, "base", None) is not None:
        view._vc = base._version_counter()


def _root(a):
    while getattr(a, "base", None) is not None:
        a = a.base
    return a


def _record(ctx, args, outs, results, raw_outs) -> None:
    """Link ``ctx`` into the graph: edges to the inputs' nodes, resolved saved values, output metas.

    ``raw_outs`` are forward's return values before NumPy scalars became 0-d arrays: a saved output
    is recognised by identity with either form (else 0-d outputs would be saved as constants and
    their double backward silently lose a term)."""
    Tensor = _Tensor
    nexts, needs, metas = [], [], []
    for a in args:
        if isinstance(a, Tensor):
            metas.append((a.shape, a.dtype))
            if a.requires_grad:
                nexts.append(a._grad_edge())
                needs.append(True)
                continue
        else:
            metas.append(None)
        nexts.append((None, 0))
        needs.append(False)
    ctx.next_functions = tuple(nexts)
    ctx.needs_input_grad = tuple(needs)
    ctx._input_meta = tuple(metas)
    ctx._output_meta = tuple((o.shape, o.dtype) for o in outs)

    saved = []
    versions = []
    for s in ctx._to_save:
        for k, a in enumerate(args):
            if isinstance(a, Tensor) and a.data is s:
                saved.append((_INPUT, a, None))
                vc = a._version_counter()
                versions.append((vc, vc[0], f"input {k} (shape {tuple(a.shape)})"))
                break
        else:
            for i, (o, r) in enumerate(zip(outs, raw_outs)):
                if o is s or r is s:
                    saved.append((_OUTPUT, o, i))
                    versions.append((results[i]._version_counter(), 0, f"output {i} (shape {o.shape})"))
                    break
            else:
                const = s if s is None or isinstance(s, _ndarray_types()) else _asarray(s)
                saved.append((_CONST, const, None))
    if ctx._raw:  # raw arrays that alias an input's memory (a view of it) are read by backward too
        for name, r in ctx._raw.items():
            if getattr(r, "base", None) is not None or any(
                    isinstance(a, Tensor) and a.data is r for a in args):
                root = _root(r)
                for k, a in enumerate(args):
                    if isinstance(a, Tensor) and _root(a.data) is root:
                        vc = a._version_counter()
                        versions.append((vc, vc[0], f"input {k} (shape {tuple(a.shape)}, saved as {name!r})"))
                        break
    if versions:
        ctx._versions = versions
    ctx._saved = saved
    ctx._to_save = ()
    if state.anomaly:
        ctx._stack = "".join(traceback.format_stack()[:-3])

    non_diff = ctx.__dict__.get("_non_diff", ())
    for i, (t, o) in enumerate(zip(results, outs)):
        if o.dtype.kind in "fc" and id(o) not in non_diff:
            t.requires_grad = True
            t.grad_fn = ctx
            t._output_nr = i


def _rewrap_error(cls, e, args):
    """Turn a raw NumPy error from inside a forward into one naming the op and the shapes."""
    from ..tensor import Tensor

    desc = ", ".join(
        f"Tensor(shape={tuple(a.shape)}, dtype={a.dtype})" if isinstance(a, Tensor) else repr(a)
        for a in args)
    msg = f"{cls.__name__}: {e} (arguments: {desc})"
    if isinstance(e, IndexError):
        from ..errors import GradIndexError

        return GradIndexError(msg)
    if isinstance(e, ValueError):
        return ShapeError(msg)
    return TypeError(msg)


def _check_anomaly_forward(cls, outs, args) -> None:
    for o in outs:
        if has_nonfinite(backend.get_array_module(o), o):
            from ..tensor import Tensor

            shapes = [tuple(a.shape) for a in args if isinstance(a, Tensor)]
            raise AnomalyError(
                f"anomaly detected: {cls.__name__} produced NaN/Inf in its forward output "
                f"(input shapes {shapes}, output shape {tuple(o.shape)})")


class _DelayedError(Function):
    """Stands in the graph of a gradient computed by a once-differentiable backward."""


def once_differentiable(backward):
    """Decorator for a ``backward`` written in raw array code (fused ops).

    The wrapped backward receives and returns arrays. Under ``create_graph=True`` its results get a
    node that raises a clear error if someone differentiates through them a second time.
    """

    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        from ..tensor import Tensor

        raw = backward(ctx, *(g.data if isinstance(g, Tensor) else g for g in grads))
        multi = isinstance(raw, tuple)
        raw = raw if multi else (raw,)
        out = []
        for g in raw:
            if g is None:
                out.append(None)
                continue
            t = Tensor._make(g)
            if state.enabled:  # create_graph=True: poison the second-order path
                err = Node(_DelayedError)
                err._op_name = ctx.name()
                err._output_meta = ((t.shape, t.dtype),)
                t.requires_grad, t.grad_fn, t._output_nr = True, err, 0
            out.append(t)
        return tuple(out) if multi else out[0]

    wrapper._once_differentiable = True
    return wrapper


def _delayed_error_backward(ctx, *grads):
    raise AutogradError(
        f"{ctx._op_name} is once_differentiable: its backward is written in raw array code and cannot "
        "be differentiated again (create_graph=True through it). Use the composed (unfused) version of "
        "the op for higher-order derivatives.")


_DelayedError.backward = staticmethod(_delayed_error_backward)
