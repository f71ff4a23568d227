"""The primitive op library: each op a ``Function`` with a hand-written, differentiable backward.

Families: ``elementwise`` (arithmetic, math, comparisons), ``reduce``, ``movement``, ``matmul``,
``indexing``, ``sorting``, ``special`` (inverse trig, hyperbolic, erf family), ``einsum``, ``scatter``
(scatter / index_add / index_copy / masked_scatter), ``diagonal`` (diag, diagonal, diag_embed),
``nonfinite`` (isposinf, isneginf, nan_to_num), ``aliases`` (PyTorch's other names: greater, absolute,
swapdims, ...). ``methods`` attaches them to ``Tensor`` as operators
and methods.
"""
from . import (  # noqa: F401
    aliases,
    diagonal,
    einsum,
    elementwise,
    indexing,
    matmul,
    movement,
    nonfinite,
    reduce,
    scatter,
    sorting,
    special,
)
