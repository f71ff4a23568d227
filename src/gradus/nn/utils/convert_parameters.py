"""Flatten parameters into one vector and back (for second-order methods, evolution strategies,
line searches).

    >>> import gradus
    >>> from gradus import nn
    >>> net = nn.Linear(3, 2)
    >>> v = nn.utils.parameters_to_vector(net.parameters())
    >>> v.shape                                     # 2*3 weights + 2 biases
    (8,)
    >>> nn.utils.vector_to_parameters(v * 0, net.parameters())
    >>> float(net.weight.abs().sum())
    0.0
"""
from __future__ import annotations

from ...autograd.grad_mode import no_grad
from ...errors import ShapeError
from ...ops.movement import cat, reshape
from ...tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters) -> Tensor:
    """One 1-D tensor: every parameter flattened and concatenated (differentiable)."""
    params = list(parameters)
    if not params:
        raise ValueError("parameters_to_vector: no parameters given")
    return cat([reshape(p, (-1,)) for p in params])


def vector_to_parameters(vec, parameters) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into ``parameters`` (in place: the Parameter
    objects, and the optimizers holding them, stay the same)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected vec to be a Tensor, got {type(vec).__name__}")
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.shape[0] != total:
        raise ShapeError(f"vector_to_parameters: vec has shape {tuple(vec.shape)} but the parameters have "
                         f"{total} elements in total")
    i = 0
    with no_grad():
        for p in params:
            n = p.numel()
            p.data[...] = vec.data[i:i + n].reshape(p.shape)
            i += n
