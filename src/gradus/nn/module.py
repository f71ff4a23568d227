"""``Parameter`` and ``Module``: the base of every layer and model, with PyTorch's semantics.

    >>> import gradus
    >>> from gradus import nn
    >>> net = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    >>> [name for name, _ in net.named_parameters()]
    ['0.weight', '0.bias']
    >>> net
    Sequential(
      (0): Linear(in_features=2, out_features=3, bias=True)
      (1): ReLU()
    )

Registration is ordered and happens in ``__setattr__``: assigning a ``Parameter`` puts it in
``_parameters``, a ``Module`` in ``_modules``; ``register_buffer`` puts non-trainable state (BatchNorm's
running statistics) in ``_buffers``. ``named_parameters()``/``state_dict()`` walk these dicts in
registration order, so the keys are the same as PyTorch's for the same architecture and PyTorch or
safetensors weights load directly with ``load_state_dict``.

Errors raised inside a submodule's ``forward`` (shape, dtype, index errors) are annotated with the
submodule's qualified path on their way out, e.g. ``Sequential.2 (Linear): ...``.
"""
from __future__ import annotations

import itertools
from collections import OrderedDict, namedtuple

import numpy as np

from .. import backend
from .. import dtypes as _dt
from ..autograd.function import Function
from ..autograd.grad_mode import no_grad
from ..backend import Device
from ..errors import GradusError
from ..tensor import Tensor

__all__ = ["Parameter", "Module", "RemovableHandle"]


class Parameter(Tensor):
    """A Tensor that is a module's learnable parameter: ``requires_grad=True`` by default, and
    assigning it as a module attribute registers it in ``module.parameters()``.

    ``Parameter(t)`` shares ``t``'s array (no copy), like PyTorch.
    """

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            data = np.empty((0,), dtype=_dt.get_default_dtype())
        super().__init__(data)
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class RemovableHandle:
    """Returned by ``register_*_hook``: ``handle.remove()`` unregisters the hook (also a context manager)."""

    _ids = itertools.count()

    def __init__(self, hooks_dict: dict):
        self._hooks = hooks_dict
        self.id = next(RemovableHandle._ids)

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


_IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


def _addindent(s: str, num_spaces: int) -> str:
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    first = lines.pop(0)
    return first + "\n" + "\n".join(" " * num_spaces + line for line in lines)


def _as_array(value, like):
    """A state_dict value (gradus Tensor, NumPy array, PyTorch tensor...) as an array on ``like``'s device."""
    if isinstance(value, Tensor):
        a = value.data
    elif hasattr(value, "detach") and hasattr(value, "numpy"):  # torch.Tensor: PyTorch weights load directly
        a = value.detach().cpu().numpy()
    else:
        a = np.asarray(value)
    if backend.is_cupy_array(like) != backend.is_cupy_array(a):
        a = backend.to_device(a, backend.device_of(like))
    return a


def _value_shape(v) -> tuple:
    return tuple(int(s) for s in v.shape) if hasattr(v, "shape") else tuple(np.shape(v))


def _shape_str(shape) -> str:
    return str(tuple(int(s) for s in shape))


class Module:
    """Base class of all layers and models.

    Subclasses call ``super().__init__()`` first, assign their parameters/submodules as attributes and
    define ``forward``. Call the module (``net(x)``), not ``forward``: ``__call__`` runs the hooks and
    annotates errors with the failing submodule's path.
    """

    training: bool
    _version = 1

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected arguments; Module.__init__ "
                            "takes none (call super().__init__() first)")
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent_buffers_set"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_pre_hooks"] = OrderedDict()
        d["_forward_hooks"] = OrderedDict()
        d["_backward_hooks"] = OrderedDict()

    # -- forward ---------------------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args, **kwargs):
        try:
            if self._forward_pre_hooks or self._forward_hooks or self._backward_hooks:
                return self._call_with_hooks(args, kwargs)
            return self.forward(*args, **kwargs)
        except (GradusError, ValueError, IndexError, TypeError) as e:
            _annotate_error(self, e)
            raise

    def _call_with_hooks(self, args, kwargs):
        for hook in list(self._forward_pre_hooks.values()):
            r = hook(self, args)
            if r is not None:
                args = r if isinstance(r, tuple) else (r,)
        bw_hooks = list(self._backward_hooks.values())
        state = None
        if bw_hooks:
            state = _BackwardHookState(self, bw_hooks)
            args = state.wrap_inputs(args)
        out = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            r = hook(self, args, out)
            if r is not None:
                out = r
        if state is not None:
            out = state.wrap_outputs(out)
        return out

    def register_forward_pre_hook(self, hook) -> RemovableHandle:
        """``hook(module, args) -> None | new_args`` runs before ``forward``."""
        h = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[h.id] = hook
        return h

    def register_forward_hook(self, hook) -> RemovableHandle:
        """``hook(module, args, output) -> None | new_output`` runs after ``forward`` (feature maps,
        Grad-CAM, ``summary``)."""
        h = RemovableHandle(self._forward_hooks)
        self._forward_hooks[h.id] = hook
        return h

    def register_full_backward_hook(self, hook) -> RemovableHandle:
        """``hook(module, grad_input, grad_output) -> None | new_grad_input`` runs when the gradients
        w.r.t. the module's Tensor inputs have been computed (``grad_input`` entries are None for
        inputs that do not require grad)."""
        h = RemovableHandle(self._backward_hooks)
        self._backward_hooks[h.id] = hook
        return h

    # -- registration ----------------------------------------------------------------------------
    def __setattr__(self, name: str, value) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._remove_from(name, d, params)
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                "(gradus.nn.Parameter or None expected)")
            self.register_parameter(name, None)
            return
        modules = d.get("_modules")
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._remove_from(name, d, params)
            modules[name] = value
            return
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' "
                                "(gradus.nn.Module or None expected)")
            modules[name] = None
            return
        buffers = d.get("_buffers")
        if buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                "(gradus.Tensor or None expected)")
            buffers[name] = value
            return
        object.__setattr__(self, name, value)

    def _remove_from(self, name, d, params) -> None:
        for dct in (d.get("_parameters"), d.get("_buffers"), d.get("_modules")):
            if dct is not None and name in dct:
                del dct[name]
        d.pop(name, None)
        d.get("_non_persistent_buffers_set", set()).discard(name)

    def __getattr__(self, name: str):
        # only called when normal lookup fails: parameters, buffers and submodules live in the dicts
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            dct = d.get(key)
            if dct is not None and name in dct:
                return dct[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for key in ("_parameters", "_buffers", "_modules"):
            dct = self.__dict__[key]
            if name in dct:
                del dct[name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        own = set(self._parameters) | set(self._buffers) | set(self._modules)
        return sorted(set(super().__dir__()) | own)

    def _check_name(self, name, kind: str) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if name == "" or "." in name:
            raise KeyError(f"{kind} name can't be empty or contain \".\", got {name!r}")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or a None placeholder, e.g. ``bias=False``) under ``name``."""
        self._check_name(name, "parameter")
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                            "(gradus.nn.Parameter or None required)")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add non-trainable state (e.g. BatchNorm's ``running_mean``). Persistent buffers are part of
        ``state_dict()``; ``to()`` converts all of them."""
        self._check_name(name, "buffer")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            "(gradus.Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module under ``name`` (what ``self.name = module`` does)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_name(name, "module")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        """The submodule at dotted path ``target`` (``""`` is self)."""
        if target == "":
            return self
        mod = self
        for i, item in enumerate(target.split(".")):
            sub = mod._modules.get(item) if isinstance(mod, Module) else None
            if sub is None:
                where = ".".join(target.split(".")[:i]) or type(self).__name__
                raise AttributeError(f"{where} has no submodule `{item}` (looking up '{target}')")
            mod = sub
        return mod

    def get_parameter(self, target: str) -> Parameter:
        mod_path, _, name = target.rpartition(".")
        mod = self.get_submodule(mod_path)
        if name not in mod._parameters:
            raise AttributeError(f"{mod._get_name()} has no parameter `{name}`")
        return mod._parameters[name]

    def get_buffer(self, target: str) -> Tensor:
        mod_path, _, name = target.rpartition(".")
        mod = self.get_submodule(mod_path)
        if name not in mod._buffers:
            raise AttributeError(f"{mod._get_name()} has no buffer `{name}`")
        return mod._buffers[name]

    # -- traversal -------------------------------------------------------------------------------
    def _named_members(self, get_members, prefix: str = "", recurse: bool = True, remove_duplicate=True):
        memo = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse \
            else [(prefix, self)]
        for module_prefix, module in modules:
            for k, v in get_members(module):
                if v is None or v in memo:
                    continue
                if remove_duplicate:
                    memo.add(v)
                yield (module_prefix + ("." if module_prefix else "") + k, v)

    def parameters(self, recurse: bool = True):
        """Iterator over the parameters (each shared parameter once), in registration order."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_parameters(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        """Iterator over ``(dotted_name, parameter)``: the state_dict keys of the parameters."""
        yield from self._named_members(lambda m: m._parameters.items(), prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        yield from self._named_members(lambda m: m._buffers.items(), prefix, recurse, remove_duplicate)

    def children(self):
        for _, m in self.named_children():
            yield m

    def named_children(self):
        memo = set()
        for name, m in self._modules.items():
            if m is not None and m not in memo:
                memo.add(m)
                yield name, m

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_modules(self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True):
        """Iterator over ``(dotted_path, module)`` for self and every descendant, depth first."""
        # explicit stack instead of recursion: deep models (ResNet-1000, long chains) stay safe
        if memo is None:
            memo = set()
        stack = [(prefix, self)]
        while stack:
            name, m = stack.pop()
            if remove_duplicate:
                if m in memo:
                    continue
                memo.add(m)
            yield name, m
            kids = [(name + ("." if name else "") + k, c) for k, c in m._modules.items() if c is not None]
            stack.extend(reversed(kids))

    def __hash__(self) -> int:
        return id(self)

    # -- modes & grads ---------------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode on this module and every descendant (Dropout, BatchNorm act on it)."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (``False``) or unfreeze every parameter."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if p.grad is None:
                continue
            # rebind rather than zero in place: a gradient array may be shared by two leaves
            p.grad = None if set_to_none else Tensor._make(backend.get_array_module(p.grad.data)
                                                           .zeros_like(p.grad.data))

    def apply(self, fn) -> Module:
        """Call ``fn(m)`` on every submodule (children first) and self, e.g. for custom init."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # -- conversion ------------------------------------------------------------------------------
    def _apply_to_arrays(self, convert) -> Module:
        """Replace each parameter's/buffer's (and grad's) array by ``convert(array)``, keeping the
        Parameter objects themselves, so optimizers holding references keep working."""
        for m in self.modules():
            for p in m._parameters.values():
                if p is None:
                    continue
                p.data = convert(p.data)
                if p.grad is not None:
                    p.grad = Tensor._make(convert(p.grad.data))
            for b in m._buffers.values():
                if b is not None:
                    b.data = convert(b.data)
        return self

    def to(self, *args, dtype=None, device=None) -> Module:
        """``to(device)``, ``to(dtype)`` or ``to(device, dtype)``: in place; dtype changes only
        floating-point parameters and buffers (integer counters stay integer), as in PyTorch."""
        for a in args:
            if isinstance(a, Tensor):
                dtype, device = a.dtype, a.device
            elif isinstance(a, (str, Device)):
                device = a
            else:
                dtype = a
        dtype = _dt.to_dtype(dtype) if dtype is not None else None
        if dtype is not None and dtype.kind not in "fc":
            raise TypeError(f"Module.to only accepts floating point dtypes, got {_dt.dtype_name(dtype)}")
        dev = Device(device) if device is not None else None

        def convert(a):
            if dev is not None and backend.device_of(a) != dev:
                a = backend.to_device(a, dev)
            if dtype is not None and a.dtype.kind in "fc" and a.dtype != dtype:
                a = a.astype(dtype)
            return a

        return self._apply_to_arrays(convert)

    def float(self) -> Module:
        return self.to(_dt.float32)

    def double(self) -> Module:
        return self.to(_dt.float64)

    def half(self) -> Module:
        return self.to(_dt.float16)

    def cpu(self) -> Module:
        return self.to("cpu")

    def cuda(self, device: int | None = None) -> Module:
        return self.to("cuda" if device is None else f"cuda:{device}")

    # -- state dict ------------------------------------------------------------------------------
    def _state_items(self):
        """(key, tensor, is_parameter) for every entry of the state dict, in PyTorch's order
        (per module: its parameters, then its persistent buffers, then its children)."""
        for prefix, m in self.named_modules(remove_duplicate=False):
            pre = prefix + "." if prefix else ""
            for k, p in m._parameters.items():
                if p is not None:
                    yield pre + k, p, True
            for k, b in m._buffers.items():
                if b is not None and k not in m._non_persistent_buffers_set:
                    yield pre + k, b, False

    def state_dict(self, destination=None, prefix: str = "", keep_vars: bool = False) -> OrderedDict:
        """An ``OrderedDict`` of name -> Tensor (parameters and persistent buffers), detached and
        sharing memory with the module (save it with ``gradus.train.checkpoint`` / safetensors)."""
        out = OrderedDict() if destination is None else destination
        for k, t, _ in self._state_items():
            out[prefix + k] = t if keep_vars else Tensor._make(t.data)
        return out

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Copy ``state_dict``'s values into this module's parameters and buffers **in place** (the
        Parameter objects stay the same, so an optimizer built before keeps working).

        Values may be gradus Tensors, NumPy arrays or PyTorch tensors. Shape mismatches always raise;
        with ``strict=True`` missing and unexpected keys raise too, listing every offending key with
        its shape. Returns ``(missing_keys, unexpected_keys)``.
        """
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"expected a mapping name -> tensor, got {type(state_dict).__name__}")
        own = OrderedDict((k, t) for k, t, _ in self._state_items())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        mismatched = []
        for k, t in own.items():
            if k in state_dict:
                v = state_dict[k]
                vshape = _value_shape(v)
                if vshape != tuple(t.shape):
                    mismatched.append((k, vshape, tuple(t.shape)))
        errors = []
        if mismatched:
            errors += [f"size mismatch for {k}: copying a param with shape {_shape_str(s)} from checkpoint, "
                       f"the shape in current model is {_shape_str(c)}." for k, s, c in mismatched]
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: " + ", ".join(
                    f'"{k}" {_shape_str(_value_shape(state_dict[k]))}' for k in unexpected) + ".")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: " + ", ".join(
                    f'"{k}" {_shape_str(own[k].shape)}' for k in missing) + ".")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {self._get_name()}:\n\t"
                               + "\n\t".join(errors))
        with no_grad():
            for k, t in own.items():
                if k not in state_dict:
                    continue
                a = _as_array(state_dict[k], t.data)
                if assign:
                    cast = a.dtype != t.dtype and t.dtype.kind in "fc"
                    t.data = a.astype(t.dtype) if cast else a
                else:
                    t.data[...] = a
        return _IncompatibleKeys(missing, unexpected)

    # -- printing --------------------------------------------------------------------------------
    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        """The text between the parentheses of this module's repr (override in layers)."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({k}): " + _addindent(repr(m), 2) for k, m in self._modules.items()]
        lines = extra_lines + child_lines
        s = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                s += extra_lines[0]
            else:
                s += "\n  " + "\n  ".join(lines) + "\n"
        return s + ")"


# -- error paths -------------------------------------------------------------------------------------
def _annotate_error(module: Module, e: BaseException) -> None:
    """Prefix ``e``'s message with the qualified path of the module that raised it.

    The innermost module records itself on the exception; each enclosing ``Module.__call__`` the
    exception travels through finds that module among its descendants and rewrites the prefix, so the
    message the user finally sees names the path from the outermost model called, e.g.
    ``Sequential.2 (Linear): ...``. Only single-string-argument exceptions are rewritten.
    """
    if len(e.args) != 1 or not isinstance(e.args[0], str):
        return
    d = e.__dict__
    if "_gradus_module" not in d:
        d["_gradus_module"] = module
        d["_gradus_leaf"] = module
        d["_gradus_path"] = ""
        d["_gradus_msg"] = e.args[0]
    else:
        inner = d["_gradus_module"]
        if inner is module:
            return
        rel = None
        for name, m in module._modules.items():
            if m is inner:
                rel = name
                break
        if rel is None:
            for name, m in module.named_modules():
                if m is inner:
                    rel = name
                    break
        if rel is None:  # called a module that is not registered here: keep the path we have
            return
        d["_gradus_path"] = rel + ("." + d["_gradus_path"] if d["_gradus_path"] else "")
        d["_gradus_module"] = module
    leaf = d["_gradus_leaf"]
    path = d["_gradus_path"]
    where = f"{module._get_name()}.{path} ({leaf._get_name()})" if path else leaf._get_name()
    msg = d["_gradus_msg"]
    own = leaf._get_name() + ": "
    if msg.startswith(own):   # the module named itself already: not "Linear: Linear: ..."
        msg = msg[len(own):]
    e.args = (f"{where}: {msg}",)


# -- full backward hooks -----------------------------------------------------------------------------
class _BackwardHookState:
    """Wires ``register_full_backward_hook`` hooks with two identity Functions: one on the module's
    Tensor inputs (its backward sees grad_input) and one on its outputs (its backward sees
    grad_output)."""

    def __init__(self, module, hooks):
        self.module, self.hooks = module, hooks
        self.grad_output = None
        self.n_inputs_requiring_grad = 0

    def wrap_inputs(self, args):
        idx = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        self.n_inputs_requiring_grad = len(idx)
        if not idx:
            return args
        outs = _HookIdentity.apply(*(args[i] for i in idx), _callback=self._on_grad_input)
        outs = outs if isinstance(outs, tuple) else (outs,)
        args = list(args)
        for i, o in zip(idx, outs):
            args[i] = o
        self._input_mask = [isinstance(a, Tensor) for a in args]
        self._idx = idx
        return tuple(args)

    def wrap_outputs(self, out):
        single = isinstance(out, Tensor)
        outs = (out,) if single else out
        idx = [i for i, o in enumerate(outs) if isinstance(o, Tensor) and o.requires_grad]
        if not idx:
            return out
        wrapped = _HookIdentity.apply(*(outs[i] for i in idx), _callback=self._on_grad_output)
        wrapped = wrapped if isinstance(wrapped, tuple) else (wrapped,)
        outs = list(outs)
        for i, o in zip(idx, wrapped):
            outs[i] = o
        return outs[0] if single else type(out)(outs) if isinstance(out, (tuple, list)) else tuple(outs)

    def _on_grad_output(self, grads):
        self.grad_output = grads
        if self.n_inputs_requiring_grad == 0:  # nothing upstream to wait for: fire now
            for hook in self.hooks:
                hook(self.module, (None,), self.grad_output)
        return grads

    def _on_grad_input(self, grads):
        for hook in self.hooks:
            r = hook(self.module, grads, self.grad_output)
            if r is not None:
                grads = tuple(r)
        return grads


class _HookIdentity(Function):
    @staticmethod
    def forward(ctx, *xs, _callback=None):
        ctx.save_raw(callback=_callback)  # freed after backward: it holds the grad_output of the hooks
        return xs if len(xs) > 1 else xs[0]

    @staticmethod
    def backward(ctx, *grads):
        r = ctx.callback(tuple(grads))
        return tuple(r) if len(r) > 1 else r[0]
