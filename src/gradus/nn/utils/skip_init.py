"""``skip_init``: build a module without initialising its weights (PyTorch's ``nn.utils.skip_init``)."""
from __future__ import annotations

from typing import Any

from .. import init
from ..module import Module

__all__ = ["skip_init"]


def skip_init(module_cls: type, *args: Any, **kwargs: Any) -> Module:
    """``module_cls(*args, **kwargs)`` with every ``nn.init`` function a no-op while it is built: its
    parameters hold whatever their allocation left (zeros, or garbage for ``empty``), nothing is drawn
    from the random generator, and building costs only the allocation. Load real values before use
    (``load_state_dict``): the ``from_pretrained`` loaders build this way, since the file overwrites
    every weight (BERT-base: most of the load time was spent drawing weights thrown away).

    Modules that set values without ``nn.init`` (e.g. a buffer from ``arange``) still set them. Unlike
    PyTorch's there is no ``device`` argument to require: gradus builds on the CPU.
    """
    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise TypeError(f"skip_init: expected a gradus.nn.Module subclass, got {module_cls!r}")
    previous = init._skipping
    init._skipping = True
    try:
        return module_cls(*args, **kwargs)
    finally:
        init._skipping = previous
