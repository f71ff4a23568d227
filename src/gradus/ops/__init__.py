"""The primitive op library: each op a ``Function`` with a hand-written, differentiable backward.

Families: ``elementwise`` (arithmetic, math, comparisons), ``reduce``, ``movement``, ``matmul``,
``indexing``. ``methods`` attaches them to ``Tensor`` as operators and methods.
"""
from . import elementwise, indexing, matmul, movement, reduce  # noqa: F401
