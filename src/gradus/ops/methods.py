"""Attach the op library to ``Tensor`` as Python operators and PyTorch-named methods."""
from __future__ import annotations

from ..tensor import Tensor
from . import aliases as al
from . import diagonal as dg
from . import elementwise as ew
from . import indexing as ix
from . import matmul as mm
from . import movement as mv
from . import nonfinite as nf
from . import reduce as rd
from . import scatter as sc
from . import sorting as so
from . import special as sp


def _r(fn):
    """Reversed operator: ``2 - x`` calls ``x.__rsub__(2)`` = ``sub(2, x)``."""
    return lambda self, other: fn(other, self)


_operators = {
    "__add__": ew.add, "__radd__": _r(ew.add), "__sub__": ew.sub, "__rsub__": _r(ew.sub),
    "__mul__": ew.mul, "__rmul__": _r(ew.mul), "__truediv__": ew.div, "__rtruediv__": _r(ew.div),
    "__floordiv__": ew.floor_divide, "__rfloordiv__": _r(ew.floor_divide),
    "__mod__": ew.remainder, "__rmod__": _r(ew.remainder),
    "__pow__": ew.pow, "__rpow__": _r(ew.pow), "__matmul__": mm.matmul, "__rmatmul__": _r(mm.matmul),
    "__neg__": ew.neg, "__pos__": lambda self: self, "__abs__": ew.abs,
    "__eq__": ew.eq, "__ne__": ew.ne, "__lt__": ew.lt, "__le__": ew.le, "__gt__": ew.gt, "__ge__": ew.ge,
    # bitwise on integers, logical on bools (PyTorch's semantics; floats are refused)
    "__and__": ew.bitwise_and, "__or__": ew.bitwise_or, "__xor__": ew.bitwise_xor,
    "__invert__": ew.bitwise_not,
    "__rand__": _r(ew.bitwise_and), "__ror__": _r(ew.bitwise_or), "__rxor__": _r(ew.bitwise_xor),
    "__lshift__": ew.bitwise_left_shift, "__rshift__": ew.bitwise_right_shift,
    "__rlshift__": _r(ew.bitwise_left_shift), "__rrshift__": _r(ew.bitwise_right_shift),
    "__getitem__": ix.getitem,
}

_methods = {
    # elementwise
    "add": ew.add, "sub": ew.sub, "subtract": ew.sub, "mul": ew.mul, "multiply": ew.mul, "div": ew.div,
    "divide": ew.div, "true_divide": ew.div, "neg": ew.neg, "negative": ew.neg, "pow": ew.pow,
    "exp": ew.exp, "log": ew.log, "log1p": ew.log1p, "expm1": ew.expm1, "log2": ew.log2, "log10": ew.log10,
    "sqrt": ew.sqrt, "rsqrt": ew.rsqrt, "square": ew.square, "reciprocal": ew.reciprocal, "abs": ew.abs,
    "sign": ew.sign, "sin": ew.sin, "cos": ew.cos, "tan": ew.tan, "tanh": ew.tanh, "sigmoid": ew.sigmoid,
    "relu": ew.relu, "maximum": ew.maximum, "minimum": ew.minimum, "clamp": ew.clamp, "clip": ew.clamp,
    "eq": ew.eq, "ne": ew.ne, "lt": ew.lt, "le": ew.le, "gt": ew.gt, "ge": ew.ge,
    "isnan": ew.isnan, "isinf": ew.isinf, "isfinite": ew.isfinite, "logical_not": ew.logical_not,
    "logical_and": ew.logical_and, "logical_or": ew.logical_or, "logical_xor": ew.logical_xor,
    "bitwise_and": ew.bitwise_and, "bitwise_or": ew.bitwise_or, "bitwise_xor": ew.bitwise_xor,
    "bitwise_not": ew.bitwise_not, "equal": ew.equal,
    "allclose": ew.allclose, "isclose": ew.isclose,
    "floor": ew.floor, "ceil": ew.ceil, "round": ew.round, "trunc": ew.trunc, "remainder": ew.remainder,
    "fmod": ew.fmod, "floor_divide": ew.floor_divide,
    "where": lambda self, condition, other: ew.where(condition, self, other),
    "exp2": ew.exp2, "copysign": ew.copysign, "lerp": ew.lerp,
    "bitwise_left_shift": ew.bitwise_left_shift, "bitwise_right_shift": ew.bitwise_right_shift,
    # special: inverse trig, hyperbolic, erf family (with NumPy-style aliases, as PyTorch)
    "asin": sp.asin, "acos": sp.acos, "atan": sp.atan, "atan2": sp.atan2, "arcsin": sp.asin,
    "arccos": sp.acos, "arctan": sp.atan, "arctan2": sp.atan2, "sinh": sp.sinh, "cosh": sp.cosh,
    "asinh": sp.asinh, "acosh": sp.acosh, "atanh": sp.atanh, "arcsinh": sp.asinh, "arccosh": sp.acosh,
    "arctanh": sp.atanh, "hypot": sp.hypot, "logaddexp": sp.logaddexp, "logaddexp2": sp.logaddexp2,
    "erf": sp.erf, "erfc": sp.erfc, "erfinv": sp.erfinv,
    # reductions
    "sum": rd.sum, "mean": rd.mean, "prod": rd.prod, "max": rd.max, "min": rd.min, "amax": rd.amax,
    "amin": rd.amin, "argmax": rd.argmax, "argmin": rd.argmin, "logsumexp": rd.logsumexp,
    "cumsum": rd.cumsum, "var": rd.var, "std": rd.std, "norm": rd.norm, "all": rd.all, "any": rd.any,
    "count_nonzero": rd.count_nonzero, "cumprod": rd.cumprod, "cummax": rd.cummax, "cummin": rd.cummin,
    "logcumsumexp": rd.logcumsumexp,
    # movement
    "reshape": mv.reshape, "view": mv.view, "view_as": mv.view_as, "flatten": mv.flatten,
    "unflatten": mv.unflatten, "squeeze": mv.squeeze, "unsqueeze": mv.unsqueeze, "permute": mv.permute,
    "transpose": mv.transpose, "swapaxes": mv.transpose, "t": mv.t, "movedim": mv.movedim,
    "expand": mv.expand, "expand_as": mv.expand_as, "broadcast_to": mv.broadcast_to, "sum_to": mv.sum_to,
    "flip": mv.flip, "split": mv.split, "chunk": mv.chunk, "unbind": mv.unbind, "triu": mv.triu,
    "tril": mv.tril, "repeat": mv.repeat, "tile": mv.tile, "repeat_interleave": mv.repeat_interleave,
    "contiguous": mv.contiguous, "moveaxis": mv.movedim, "roll": mv.roll, "unfold": mv.unfold,
    "narrow": mv.narrow, "diag": dg.diag, "diagonal": dg.diagonal, "diag_embed": dg.diag_embed,
    # matmul
    "matmul": mm.matmul, "mm": mm.mm, "bmm": mm.bmm, "dot": mm.dot, "mv": mm.mv, "outer": mm.outer,
    # indexing
    "gather": ix.gather, "index_select": ix.index_select, "take_along_dim": ix.take_along_dim,
    "masked_fill": ix.masked_fill, "masked_select": ix.masked_select, "nonzero": ix.nonzero,
    "take": ix.take, "scatter": sc.scatter, "scatter_add": sc.scatter_add,
    "scatter_reduce": sc.scatter_reduce, "index_add": sc.index_add, "index_copy": sc.index_copy,
    "masked_scatter": sc.masked_scatter,
    "isposinf": nf.isposinf, "isneginf": nf.isneginf, "nan_to_num": nf.nan_to_num,
    # sorting and selection
    "sort": so.sort, "argsort": so.argsort, "msort": so.msort, "topk": so.topk, "kthvalue": so.kthvalue,
    "median": so.median, "nanmedian": so.nanmedian, "mode": so.mode, "unique": so.unique,
    "unique_consecutive": so.unique_consecutive,
}


def install() -> None:
    for name, fn in {**_operators, **_methods, **al.METHODS}.items():
        setattr(Tensor, name, fn)
    Tensor.__hash__ = lambda self: id(self)  # __eq__ is elementwise, so hash by identity


install()
