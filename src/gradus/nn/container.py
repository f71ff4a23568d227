"""Containers: ``Sequential``, ``ModuleList``, ``ModuleDict``, ``ParameterList``, ``ParameterDict``.

    >>> from gradus import nn
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    >>> len(net), type(net[0]).__name__, len(net[1:])
    (3, 'Linear', 2)

Their children are registered under the string keys ``"0"``, ``"1"``, ... (or the dict keys), so
state_dict keys are PyTorch's (``0.weight``, ``2.bias``).
"""
from __future__ import annotations

import operator
from collections import OrderedDict

from ..tensor import Tensor
from .module import Module, Parameter, _addindent

__all__ = ["Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"]


def _norm_index(idx: int, n: int, who: str) -> int:
    idx = operator.index(idx)
    if not -n <= idx < n:
        raise IndexError(f"{who}: index {idx} is out of range for length {n}")
    return idx + n if idx < 0 else idx


class Sequential(Module):
    """Modules applied one after the other: ``Sequential(m0, m1, ...)`` or ``Sequential(OrderedDict)``.

    ``forward(x) = m_{n-1}(... m1(m0(x)))``.
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for key, module in args[0].items():
                self.add_module(key, module)
        else:
            for idx, module in enumerate(args):
                self.add_module(str(idx), module)

    def forward(self, input):  # noqa: A002  (PyTorch's argument name)
        for module in self._modules.values():
            input = module(input)
        return input

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        keys = list(self._modules)
        return self._modules[keys[_norm_index(idx, len(keys), "Sequential")]]

    def __setitem__(self, idx, module: Module) -> None:
        keys = list(self._modules)
        self.add_module(keys[_norm_index(idx, len(keys), "Sequential")], module)

    def __delitem__(self, idx) -> None:
        keys = list(self._modules)
        targets = keys[idx] if isinstance(idx, slice) else [keys[_norm_index(idx, len(keys), "Sequential")]]
        for k in targets:
            del self._modules[k]
        # PyTorch renumbers so that keys stay "0".."n-1"
        items = list(self._modules.values())
        self._modules.clear()
        for i, m in enumerate(items):
            self._modules[str(i)] = m

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __add__(self, other: Sequential) -> Sequential:
        if not isinstance(other, Sequential):
            raise TypeError(f"add operator supports only Sequential, got {type(other).__name__}")
        return Sequential(*self, *other)

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules) -> Sequential:
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> Sequential:
        n = len(self._modules)
        if not -n <= index <= n:
            raise IndexError(f"Sequential.insert: index {index} is out of range for length {n}")
        index = index + n if index < 0 else index
        items = list(self._modules.values())
        items.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(items):
            self.add_module(str(i), m)
        return self

    def pop(self, index: int = -1) -> Module:
        m = self[index]
        del self[index]
        return m


class ModuleList(Module):
    """A list of modules, registered (so their parameters are found) but not called in sequence."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])
        keys = list(self._modules)
        return self._modules[keys[_norm_index(idx, len(keys), "ModuleList")]]

    def __setitem__(self, idx, module: Module) -> None:
        keys = list(self._modules)
        self.add_module(keys[_norm_index(idx, len(keys), "ModuleList")], module)

    def __delitem__(self, idx) -> None:
        keys = list(self._modules)
        targets = keys[idx] if isinstance(idx, slice) else [keys[_norm_index(idx, len(keys), "ModuleList")]]
        for k in targets:
            del self._modules[k]
        items = list(self._modules.values())
        self._modules.clear()
        for i, m in enumerate(items):
            self._modules[str(i)] = m

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __iadd__(self, modules) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other) -> ModuleList:
        return ModuleList([*self, *other])

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules) -> ModuleList:
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        items = list(self._modules.values())
        items.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(items):
            self.add_module(str(i), m)

    def pop(self, index: int = -1) -> Module:
        m = self[index]
        del self[index]
        return m

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleList is a container, not a layer: iterate over it in your forward")

    def __repr__(self) -> str:
        """Like PyTorch: runs of identical children are compressed to ``(0-11): 12 x Block(...)``."""
        reprs = [repr(m) for m in self]
        if not reprs:
            return self._get_name() + "()"
        runs = []  # [start, end, repr]
        for i, r in enumerate(reprs):
            if runs and runs[-1][2] == r:
                runs[-1][1] = i
            else:
                runs.append([i, i, r])
        lines = []
        for start, end, r in runs:
            head = f"({start}): " if start == end else f"({start}-{end}): {end - start + 1} x "
            lines.append(_addindent(head + r, 2))
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """An ordered dict of modules with string keys (registered under those keys)."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key: str) -> bool:
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def pop(self, key: str) -> Module:
        m = self[key]
        del self[key]
        return m

    def clear(self) -> None:
        self._modules.clear()

    def update(self, modules) -> None:
        items = modules.items() if hasattr(modules, "items") else modules
        for k, m in items:
            self[k] = m

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleDict is a container, not a layer: index it in your forward")


def _params_repr(params) -> str:
    """PyTorch's layout (including its two-space indent): ``  (0): Parameter containing: [gradus.float32 of
    size 2x3]``."""
    lines = []
    for k, p in params.items():
        if p is None:
            continue
        shape = "x".join(str(s) for s in p.shape)
        dev = f" ({p.device})" if p.is_cuda else ""
        lines.append(f"  ({k}): Parameter containing: [gradus.{p.dtype.name} of size {shape}{dev}]")
    return "\n".join(lines)


def _as_parameter(value):
    if value is None or isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value)
    raise TypeError(f"expected a Parameter or Tensor, got {type(value).__name__}")


class ParameterList(Module):
    """A list of Parameters registered under ``"0"``, ``"1"``, ... (Tensors are wrapped as Parameters)."""

    def __init__(self, values=None):
        super().__init__()
        self._size = 0
        if values is not None:
            self.extend(values)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ParameterList([self[i] for i in range(len(self))[idx]])
        return self._parameters[str(_norm_index(idx, self._size, "ParameterList"))]

    def __setitem__(self, idx, value) -> None:
        self.register_parameter(str(_norm_index(idx, self._size, "ParameterList")), _as_parameter(value))

    def __len__(self) -> int:
        return self._size

    def __iter__(self):
        return (self[i] for i in range(self._size))

    def __iadd__(self, values) -> ParameterList:
        return self.extend(values)

    def append(self, value) -> ParameterList:
        self.register_parameter(str(self._size), _as_parameter(value))
        self._size += 1
        return self

    def extend(self, values) -> ParameterList:
        for v in values:
            self.append(v)
        return self

    def extra_repr(self) -> str:
        return _params_repr(self._parameters)

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ParameterList is a container, not a layer")


class ParameterDict(Module):
    """An ordered dict of Parameters with string keys."""

    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str) -> Parameter:
        return self._parameters[key]

    def __setitem__(self, key: str, value) -> None:
        self.register_parameter(key, _as_parameter(value))

    def __delitem__(self, key: str) -> None:
        del self._parameters[key]

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters)

    def __contains__(self, key: str) -> bool:
        return key in self._parameters

    def keys(self):
        return self._parameters.keys()

    def values(self):
        return self._parameters.values()

    def items(self):
        return self._parameters.items()

    def pop(self, key: str) -> Parameter:
        p = self[key]
        del self[key]
        return p

    def update(self, parameters) -> None:
        items = parameters.items() if hasattr(parameters, "items") else parameters
        for k, v in items:
            self[k] = v

    def extra_repr(self) -> str:
        return _params_repr(self._parameters)

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ParameterDict is a container, not a layer")
