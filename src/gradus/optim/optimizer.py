"""``Optimizer``: the base class of every optimizer (PyTorch's structure, NumPy updates).

An optimizer holds ``param_groups`` (a list of dicts: ``"params"`` plus the hyper-parameters of that
group) and ``state`` (a dict keyed by parameter Tensor: that parameter's buffers, e.g. Adam's
``exp_avg``). ``step()`` updates ``p.data`` in place with vectorised array code (``xp`` = NumPy or
CuPy); it never records a graph and never writes into ``p.grad`` (the engine may hand the same
gradient array to two leaves, so writing into one would corrupt the other).

    >>> import gradus
    >>> w = gradus.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = gradus.optim.SGD([w], lr=0.1)
    >>> (w * w).sum().backward()        # grad = 2 w
    >>> opt.step()
    >>> w
    tensor([ 0.8000, -1.6000], requires_grad=True)
    >>> sorted(opt.state_dict())
    ['param_groups', 'state']

``state_dict()`` follows PyTorch: ``{"state": {param_index: {name: Tensor | number}},
"param_groups": [{hyper-parameters..., "params": [param_index, ...]}]}``. ``flatten_state`` splits it
into named arrays (for a safetensors file) and JSON-serialisable metadata; ``unflatten_state`` joins
them back.
"""
from __future__ import annotations

import functools
import math
import numbers
import warnings
from collections import OrderedDict, defaultdict
from itertools import chain

import numpy as np

from .. import backend
from .. import dtypes as _dt
from ..autograd.grad_mode import enable_grad, no_grad
from ..tensor import Tensor

__all__ = ["Optimizer", "required", "flatten_state", "unflatten_state"]


class _RequiredParameter:
    """Sentinel for a hyper-parameter with no default (a param group must then give it)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


class _RemovableHandle:
    """Returned by ``register_step_*_hook``; ``remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks: OrderedDict):
        self._hooks = hooks
        self.id = _RemovableHandle._next_id
        _RemovableHandle._next_id += 1

    def remove(self) -> None:
        self._hooks.pop(self.id, None)


def _wrap_step(fn):
    """Run ``fn`` (a subclass's ``step``) under ``no_grad``, between the step pre- and post-hooks."""

    @functools.wraps(fn)
    def step(self, *args, **kwargs):
        if self._in_step:  # an overriding subclass called super().step(): hooks already ran
            return fn(self, *args, **kwargs)
        for hook in list(self._step_pre_hooks.values()):
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"step pre-hook {hook!r} must return None or a tuple "
                                       f"(new_args, new_kwargs), but returned {result!r}")
                args, kwargs = result
        self._in_step = True
        try:
            with no_grad():
                out = fn(self, *args, **kwargs)
        finally:
            self._in_step = False
        for hook in list(self._step_post_hooks.values()):
            hook(self, args, kwargs)
        return out

    return step


class Optimizer:
    """Base class: parameter groups, per-parameter state, ``zero_grad``, ``state_dict``.

    Args:
        params: an iterable of Tensors, of ``(name, Tensor)`` pairs, or of dicts (param groups:
            ``{"params": [...], "lr": 0.1, ...}``; keys a group leaves out take ``defaults``).
        defaults: the optimizer's hyper-parameters and their default values.

    Subclasses implement ``step(closure=None)``; the base class runs it under ``no_grad`` and
    between the hooks registered with ``register_step_pre_hook`` / ``register_step_post_hook``
    (e.g. gradient clipping as a pre-hook).
    """

    _in_step = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:
            cls.step = _wrap_step(cls.__dict__["step"])

    def __init__(self, params, defaults: dict):
        self.defaults = dict(defaults)
        self._scratch_buffers: dict = {}
        self._step_pre_hooks: OrderedDict = OrderedDict()
        self._step_post_hooks: OrderedDict = OrderedDict()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or "
                            "dicts, but got a Tensor; wrap it in a list: [tensor]")
        if callable(getattr(params, "parameters", None)) and not isinstance(params, (list, tuple)):
            raise TypeError(f"params argument given to the optimizer is a {type(params).__name__}; "
                            "pass model.parameters() instead")
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        groups = list(params)
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # -- parameter groups ---------------------------------------------------------------------
    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own hyper-parameters (e.g. when unfreezing layers)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        param_group = dict(param_group)
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the "
                            "ordering of tensors in sets changes between runs; use a list instead")
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names; some names are missing")
            param_group["param_names"] = names
        for k, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but parameter {k} is a "
                                f"{type(p).__name__}")
            if not (p.is_leaf or p.retains_grad):
                raise ValueError(f"can't optimize a non-leaf Tensor (parameter {k}, shape {tuple(p.shape)}); "
                                 "optimize the leaf it was computed from, or .detach().requires_grad_()")
            if p.data.dtype.kind != "f":
                raise TypeError(f"optimizer can only optimize floating point Tensors, but parameter {k} "
                                f"has dtype {_dt.dtype_name(p.dtype)}")
        param_group["params"] = params
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization "
                                 f"parameter {name}")
            param_group.setdefault(name, default)
        ids = [id(p) for p in params]
        if len(ids) != len(set(ids)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; each will be "
                          "updated once per occurrence", stacklevel=3)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if seen.intersection(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def __repr__(self) -> str:
        s = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            s += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key != "params":
                    s += f"    {key}: {group[key]}\n"
        return s + ")"

    # -- gradients ------------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of every parameter.

        ``set_to_none=True`` (default) drops them (``p.grad = None``: optimizers then skip ``p``);
        ``set_to_none=False`` gives each a fresh zeros array (never zeroing the old one in place,
        since the engine may share one gradient array between two leaves).
        """
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    xp = backend.get_array_module(p.grad.data)
                    p.grad = Tensor._make(xp.zeros_like(p.grad.data))

    def step(self, closure=None):
        """Update the parameters once. ``closure`` (optional for most optimizers) re-evaluates the
        model under ``enable_grad`` and returns the loss, which ``step`` returns."""
        raise NotImplementedError

    def _scratch(self, like, slot: int = 0):
        """A reusable temporary shaped like the array ``like`` (slot = which of several temporaries).

        One flat buffer per (slot, dtype, device), grown to the largest parameter: an update then
        allocates nothing, which saves both the allocation and the page faults of fresh memory on
        every step. Never stored in ``state``; its content is garbage between uses.
        """
        key = (slot, like.dtype, backend.device_of(like))
        buf = self._scratch_buffers.get(key)
        if buf is None or buf.size < like.size:
            buf = backend.get_array_module(like).empty(like.size, dtype=like.dtype)
            self._scratch_buffers[key] = buf
        return buf[:like.size].reshape(like.shape)

    @staticmethod
    def _eval_closure(closure):
        """Call ``closure`` with gradient recording on (``step`` itself runs under ``no_grad``)."""
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # -- hooks -------------------------------------------------------------------------------------
    def register_step_pre_hook(self, hook) -> _RemovableHandle:
        """``hook(optimizer, args, kwargs)`` runs before each ``step``; it may return
        ``(new_args, new_kwargs)``. Returns a handle with ``remove()``."""
        handle = _RemovableHandle(self._step_pre_hooks)
        self._step_pre_hooks[handle.id] = hook
        return handle

    def register_step_post_hook(self, hook) -> _RemovableHandle:
        """``hook(optimizer, args, kwargs)`` runs after each ``step``."""
        handle = _RemovableHandle(self._step_post_hooks)
        self._step_post_hooks[handle.id] = hook
        return handle

    # -- checkpoints ------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """The optimizer's state in PyTorch's structure.

        ``{"state": {i: {...}}, "param_groups": [{..., "params": [i, ...]}]}`` where ``i`` numbers the
        parameters in group order. Like PyTorch, the state Tensors are the live buffers (not copies):
        serialise them (``flatten_state``) before stepping again if you need a snapshot.
        """
        mapping: dict[int, int] = {}
        start = 0
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                mapping.setdefault(id(p), i)
            packed["params"] = [mapping[id(p)] for p in group["params"]]
            start += len(packed["params"])
            groups.append(packed)
        state = {(mapping[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items() if v}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a ``state_dict()`` (from gradus, or PyTorch's with its tensors turned into arrays).

        Parameters are matched by position; every array is copied, cast to its parameter's dtype
        (except the ``step`` counters) and moved to its device. Integer keys given as strings (JSON)
        are accepted.
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            got = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError(f"{name}.load_state_dict: expected a dict with 'state' and 'param_groups' (from "
                             f"optimizer.state_dict()), got {got}")
        groups = self.param_groups
        saved_groups = [_copy_group(g) for g in state_dict["param_groups"]]
        for k, s in enumerate(saved_groups):
            missing = sorted(set(self.defaults) - set(s))
            current = set(groups[k]) if k < len(groups) else set(self.defaults)
            foreign = set(s) - current - {"params", "initial_lr", "param_names"}
            if missing and not foreign:  # a state saved before a hyper-parameter was added: its default
                for key in missing:
                    s[key] = self.defaults[key]
            elif missing:
                raise ValueError(
                    f"{name}.load_state_dict: parameter group {k} of the loaded state lacks "
                    f"{', '.join(map(repr, missing))}, hyper-parameters of {name}: it looks like the state "
                    f"of "
                    f"another optimizer (its keys: {', '.join(sorted(k2 for k2 in s if k2 != 'params'))})")
        if len(groups) != len(saved_groups):
            raise ValueError(f"loaded state dict has {len(saved_groups)} parameter groups, the optimizer "
                             f"has {len(groups)}")
        for k, (g, s) in enumerate(zip(groups, saved_groups)):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(f"loaded state dict's parameter group {k} has {len(s['params'])} "
                                 f"parameters, the optimizer's has {len(g['params'])}")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))
        state: defaultdict = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if isinstance(key, str) and key.isdigit():
                key = int(key)
            if key in id_map:
                p = id_map[key]
                state[p] = {name: _cast_state(p, name, v) for name, v in value.items()}
            else:
                state[key] = value
        for g, s in zip(groups, saved_groups):
            s["params"] = g["params"]
            if "param_names" in g and "param_names" not in s:
                s["param_names"] = g["param_names"]
        self.state = state
        self.param_groups = saved_groups


_SEQUENCE_HYPERPARAMETERS = {"betas", "etas", "step_sizes"}


def check_hyperparameters(owner: str, **values) -> None:
    """Each hyper-parameter is a real number (or a tuple of them, e.g. ``betas``): a TypeError naming
    the optimizer and the argument otherwise (e.g. ``lr="abc"`` from a config file). 0-d tensors
    (PyTorch's tensor learning rates) are accepted."""
    from ..validation import check_number

    for name, v in values.items():
        if isinstance(v, Tensor):
            continue
        if isinstance(v, (tuple, list)) and name in _SEQUENCE_HYPERPARAMETERS:
            if len(v) != 2:
                raise ValueError(f"{owner}: {name} must be a pair of numbers, got {v!r}")
            for i, e in enumerate(v):
                if not isinstance(e, Tensor):
                    check_number(owner, f"{name}[{i}]", e)
        else:
            check_number(owner, name, v)


def _copy_group(group: dict) -> dict:
    return {k: (list(v) if isinstance(v, list) else v) for k, v in group.items()}


def _is_array(v) -> bool:
    return isinstance(v, np.ndarray) or backend.is_cupy_array(v) or (
        hasattr(v, "__array__") and hasattr(v, "shape") and not isinstance(v, np.generic))


def _cast_state(p: Tensor, key, value):
    """A copy of a loaded state value: arrays to ``p``'s device, and those shaped like ``p`` (the
    per-parameter buffers) to its dtype. ``step`` counters stay float CPU 0-d arrays, as in PyTorch;
    other shapes (e.g. a genetic algorithm's population) keep their dtype."""
    if isinstance(value, Tensor) or _is_array(value):
        a = value.data if isinstance(value, Tensor) else value
        if key == "step":
            return Tensor._make(np.array(backend.as_numpy(a), copy=True))
        if not backend.is_cupy_array(a):
            a = np.asarray(a)  # also accepts array-likes such as CPU torch tensors
        cast = a.dtype.kind == "f" and tuple(a.shape) == tuple(p.shape)
        a = a.astype(p.dtype) if cast else a.copy()  # astype copies too
        return Tensor._make(backend.to_device(a, p.device) if p.is_cuda else backend.as_numpy(a))
    if isinstance(value, dict):
        return {k: _cast_state(p, k, v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_state(p, None, v) for v in value)
    if isinstance(value, np.generic):
        return value.item()
    return value


# -- helpers shared by the update rules ---------------------------------------------------------
def _scalar_dtype():
    """dtype of the ``step`` counters: PyTorch keeps them as float32 (float64 when that is the
    default dtype) 0-d tensors on the CPU."""
    return np.dtype("float64") if _dt.get_default_dtype() == np.float64 else np.dtype("float32")


def _new_step() -> Tensor:
    return Tensor._make(np.zeros((), dtype=_scalar_dtype()))


def _increment(step: Tensor) -> float:
    """``step += 1`` in place; returns the new count as a Python float."""
    step.data += 1
    return float(step.data)


def _effective_grad(xp, p: Tensor, weight_decay: float, maximize: bool, out):
    """The gradient the update rule sees: ``g = (-grad if maximize else grad) + weight_decay * p``.

    Returns ``(g, owned)``: ``owned`` is True when ``g`` was computed into ``out`` (a scratch array the
    caller may overwrite); otherwise ``g`` IS ``p.grad.data`` and must only be read.
    """
    grad = p.grad.data
    if weight_decay != 0:
        g = xp.multiply(p.data, weight_decay, out=out)
        if maximize:
            g -= grad
        else:
            g += grad
        return g, True
    if maximize:
        return xp.negative(grad, out=out), True
    return grad, False


def _check_single_group(opt: Optimizer, what: str) -> list:
    """Whole-vector methods (Newton, search) treat all parameters as one vector: one group only."""
    if len(opt.param_groups) != 1:
        raise ValueError(f"{what} doesn't support per-parameter options (parameter groups); pass a "
                         "plain list of parameters")
    return opt.param_groups[0]["params"]


def _flat_params(params) -> np.ndarray:
    """All parameters concatenated into one float64 NumPy vector (a copy)."""
    if not params:
        return np.zeros(0)
    return np.concatenate([backend.as_numpy(p.data).reshape(-1).astype(np.float64) for p in params])


def _assign_flat(params, vec) -> None:
    """Write the flat vector ``vec`` back into the parameters' data, in place (cast to their dtype)."""
    offset = 0
    for p in params:
        n = p.data.size
        chunk = vec[offset:offset + n].reshape(p.shape)
        p.data[...] = backend.to_device(chunk, p.device) if p.is_cuda else chunk
        offset += n


# -- state <-> (arrays, JSON) -------------------------------------------------------------------
def flatten_state(state_dict: dict, prefix: str = "") -> tuple[dict, dict]:
    """Split a state dict into ``(arrays, meta)`` for a safetensors + JSON checkpoint.

    ``arrays`` maps names like ``"{prefix}state.0.exp_avg"`` to contiguous NumPy arrays; ``meta`` is
    JSON-serialisable even with ``allow_nan=False`` (each array is replaced by
    ``{"__tensor__": name}``, tuples by ``{"__tuple__": [...]}``, dicts with non-string keys such as
    the integer parameter indices by ``{"__items__": [[key, value], ...]}``, and non-finite floats
    by ``{"__float__": "inf"}``). Works for optimizer and scheduler state dicts alike.

        >>> import gradus, json
        >>> w = gradus.zeros(3, requires_grad=True)
        >>> opt = gradus.optim.Adam([w])
        >>> w.grad = gradus.ones(3); opt.step()
        >>> arrays, meta = flatten_state(opt.state_dict(), prefix="optimizer.")
        >>> sorted(arrays)
        ['optimizer.state.0.exp_avg', 'optimizer.state.0.exp_avg_sq', 'optimizer.state.0.step']
        >>> sd = unflatten_state(arrays, json.loads(json.dumps(meta)))
        >>> sd["param_groups"][0]["betas"], sd["state"][0]["step"].item()
        ((0.9, 0.999), 1.0)
    """
    arrays: dict[str, np.ndarray] = {}

    def enc(v, path: str):
        if isinstance(v, Tensor) or _is_array(v):
            a = v.data if isinstance(v, Tensor) else v
            name = prefix + path
            if name in arrays:
                raise ValueError(f"flatten_state: two arrays would both be named {name!r}")
            a = backend.as_numpy(a)
            # (not np.ascontiguousarray: it turns 0-d step counters into 1-d arrays)
            arrays[name] = a if a.flags.c_contiguous else a.copy(order="C")
            return {"__tensor__": name}
        if isinstance(v, np.generic):
            v = v.item()
        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, numbers.Integral):
            return int(v)
        if isinstance(v, numbers.Real):
            v = float(v)
            return v if math.isfinite(v) else {"__float__": repr(v)}

        def sub(k) -> str:
            return f"{path}.{k}" if path else str(k)

        if isinstance(v, tuple):
            return {"__tuple__": [enc(e, sub(i)) for i, e in enumerate(v)]}
        if isinstance(v, list):
            return [enc(e, sub(i)) for i, e in enumerate(v)]
        if isinstance(v, dict):
            if all(isinstance(k, str) and not k.startswith("__") for k in v):
                return {k: enc(e, sub(k)) for k, e in v.items()}
            return {"__items__": [[enc(k, sub(f"key{i}")), enc(e, sub(k))]
                                  for i, (k, e) in enumerate(v.items())]}
        raise TypeError(f"flatten_state: cannot store a {type(v).__name__} at {path or '<root>'!r}; only "
                        "Tensors/arrays, numbers, strings, None, lists, tuples and dicts")

    return arrays, enc(state_dict, "")


def unflatten_state(arrays: dict, meta) -> dict:
    """Inverse of ``flatten_state``: rebuild the state dict (arrays become fresh gradus Tensors)."""

    def dec(v):
        if isinstance(v, dict):
            if "__tensor__" in v:
                return Tensor._make(np.array(arrays[v["__tensor__"]], copy=True))
            if "__tuple__" in v:
                return tuple(dec(e) for e in v["__tuple__"])
            if "__float__" in v:
                return float(v["__float__"])
            if "__items__" in v:
                return {dec(k): dec(e) for k, e in v["__items__"]}
            return {k: dec(e) for k, e in v.items()}
        if isinstance(v, list):
            return [dec(e) for e in v]
        return v

    return dec(meta)
