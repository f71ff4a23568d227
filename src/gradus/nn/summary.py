"""``summary(model, input_shape)``: a table of every layer's output shape and parameter count.

    >>> from gradus import nn
    >>> net = nn.Sequential(nn.Flatten(), nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10))
    >>> s = nn.summary(net, (1, 1, 28, 28))
    >>> s.total_params, s.trainable_params
    (79510, 79510)
    >>> print(s)                                                        # doctest: +NORMALIZE_WHITESPACE
    ----------------------------------------------------------------
    Layer (type)                      Output Shape           Param #
    ================================================================
    Sequential                        (1, 10)                      0
      0 (Flatten)                     (1, 784)                     0
      1 (Linear)                      (1, 100)                78,500
      2 (ReLU)                        (1, 100)                     0
      3 (Linear)                      (1, 10)                  1,010
    ================================================================
    Total params: 79,510
    Trainable params: 79,510
    Non-trainable params: 0
    ----------------------------------------------------------------

It runs one forward pass on a random input (under ``no_grad``, in eval mode, with a private random
generator so the global seed's stream is untouched) and records each module's output with forward
hooks. Parameter counts are each module's *own* parameters; shared parameters count once in the
totals.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import dtypes as _dt
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from .module import Module

__all__ = ["summary", "ModelSummary"]


@dataclass
class SummaryRow:
    path: str          # qualified name ("" for the root)
    type: str          # class name
    depth: int
    output_shape: object = None
    num_params: int = 0


@dataclass
class ModelSummary:
    """What ``summary`` returns: ``rows`` (in call order), totals, and a printable table (``str``)."""

    rows: list = field(default_factory=list)
    total_params: int = 0
    trainable_params: int = 0
    input_shape: tuple = ()

    @property
    def non_trainable_params(self) -> int:
        return self.total_params - self.trainable_params

    def __str__(self) -> str:
        names = [("  " * r.depth) + (f"{r.path.rsplit('.', 1)[-1]} ({r.type})" if r.path else r.type)
                 for r in self.rows]
        shapes = [_shape_str(r.output_shape) for r in self.rows]
        counts = [f"{r.num_params:,}" for r in self.rows]
        w0 = max([len("Layer (type)")] + [len(n) for n in names]) + 4
        w1 = max([len("Output Shape")] + [len(s) for s in shapes]) + 2
        w2 = max([len("Param #")] + [len(c) for c in counts]) + 2
        width = max(64, w0 + w1 + w2)
        w0 = width - w1 - w2
        lines = ["-" * width, f"{'Layer (type)':<{w0}}{'Output Shape':<{w1}}{'Param #':>{w2}}", "=" * width]
        lines += [f"{n:<{w0}}{s:<{w1}}{c:>{w2}}" for n, s, c in zip(names, shapes, counts)]
        lines += ["=" * width, f"Total params: {self.total_params:,}",
                  f"Trainable params: {self.trainable_params:,}",
                  f"Non-trainable params: {self.non_trainable_params:,}", "-" * width]
        return "\n".join(lines)

    __repr__ = __str__


def _shape_of(out):
    if isinstance(out, Tensor):
        return tuple(out.shape)
    if isinstance(out, (tuple, list)):
        return [_shape_of(o) for o in out]
    if isinstance(out, dict):
        return {k: _shape_of(v) for k, v in out.items()}
    return type(out).__name__


def _shape_str(s) -> str:
    if isinstance(s, tuple):
        return "(" + ", ".join(str(d) for d in s) + ("," if len(s) == 1 else "") + ")"
    if isinstance(s, list):
        return "[" + ", ".join(_shape_str(e) for e in s) + "]"
    return str(s)


def summary(model: Module, input_shape, dtype=_dt.float32, seed: int = 0) -> ModelSummary:
    """Run ``model`` once on a random input of ``input_shape`` (including the batch dimension, e.g.
    ``(1, 1, 28, 28)``; a list of shapes for several inputs) and tabulate every module called.

    Integer ``dtype`` inputs (token ids for embeddings) are drawn from [0, 2).
    """
    shapes = input_shape if (isinstance(input_shape, list) and input_shape
                             and isinstance(input_shape[0], (tuple, list))) else [input_shape]
    rng = np.random.default_rng(seed)
    dt = _dt.to_dtype(dtype)
    inputs = []
    for s in shapes:
        s = tuple(s)
        a = rng.standard_normal(s).astype(dt) if dt.kind == "f" else rng.integers(0, 2, s).astype(dt)
        inputs.append(Tensor._make(a))

    paths = {id(m): p for p, m in model.named_modules()}
    rows: list[SummaryRow] = []
    pending: dict[int, list] = {}

    def pre_hook(m, args):
        path = paths.get(id(m), "?")
        row = SummaryRow(path, type(m).__name__, path.count(".") + 1 if path else 0,
                         num_params=sum(p.numel() for p in m.parameters(recurse=False)))
        rows.append(row)
        pending.setdefault(id(m), []).append(row)

    def hook(m, args, out):
        stack = pending.get(id(m))
        if stack:
            stack.pop().output_shape = _shape_of(out)

    handles = []
    for m in model.modules():
        handles.append(m.register_forward_pre_hook(pre_hook))
        handles.append(m.register_forward_hook(hook))
    modes = {m: m.training for m in model.modules()}
    try:
        model.eval()
        with no_grad():
            model(*inputs)
    finally:
        for h in handles:
            h.remove()
        for m, mode in modes.items():
            m.__dict__["training"] = mode
    params = list(model.parameters())
    return ModelSummary(rows=rows, total_params=sum(p.numel() for p in params),
                        trainable_params=sum(p.numel() for p in params if p.requires_grad),
                        input_shape=tuple(shapes[0]) if len(shapes) == 1 else [tuple(s) for s in shapes])
