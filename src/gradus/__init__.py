"""gradus: a deep-learning framework from first principles on NumPy (and CuPy).

    >>> import gradus
    >>> x = gradus.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = (x ** 2).sum()
    >>> y.backward()
    >>> x.grad
    tensor([2., 4., 6.])
"""
from . import allocator, backend, dtypes, errors, random

allocator.tune_malloc()  # keep freed blocks for the next arrays (see gradus.allocator: ~20% of a step)
from .autograd import (
    detect_anomaly,
    enable_grad,
    grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_detect_anomaly,
    set_grad_enabled,
)
from .backend import Device, cuda_is_available, get_array_module
from .creation import (
    arange,
    as_tensor,
    bernoulli,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    multinomial,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    tensor,
    tril_indices,
    triu_indices,
    zeros,
    zeros_like,
)
from .dtypes import get_default_dtype, set_default_dtype
from .functional import methods as _functional_methods  # noqa: F401  (Tensor.softmax, ...: see there)
from .functional.activation import hardshrink, log_softmax, prelu, softmax
from .functional.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d
from .functional.convnd import conv3d, conv_transpose3d
from .functional.pooling import adaptive_avg_pool1d, avg_pool1d, max_pool1d, max_pool2d
from .functional.poolnd import max_pool3d
from .ops import methods as _methods  # noqa: F401  (attaches operators to Tensor)
from .ops.aliases import *  # noqa: F401,F403  (PyTorch's alternative names: greater, absolute, ...)
from .ops.diagonal import diag, diag_embed, diagonal
from .ops.einsum import einsum
from .ops.elementwise import (
    abs,
    add,
    allclose,
    bitwise_and,
    bitwise_left_shift,
    bitwise_not,
    bitwise_or,
    bitwise_right_shift,
    bitwise_xor,
    ceil,
    clamp,
    clip,
    clone,
    copysign,
    cos,
    div,
    eq,
    equal,
    exp,
    exp2,
    expm1,
    floor,
    floor_divide,
    fmod,
    ge,
    gt,
    isclose,
    isfinite,
    isinf,
    isnan,
    le,
    lerp,
    log,
    log1p,
    log2,
    log10,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    maximum,
    minimum,
    mul,
    ne,
    neg,
    pow,
    reciprocal,
    relu,
    remainder,
    round,
    rsqrt,
    sigmoid,
    sign,
    sin,
    sqrt,
    square,
    sub,
    tan,
    tanh,
    trunc,
    where,
)
from .ops.indexing import (
    embedding,
    gather,
    index_select,
    masked_fill,
    masked_select,
    nonzero,
    one_hot,
    take,
    take_along_dim,
)
from .ops.matmul import bmm, dot, matmul, mm, mv, outer
from .ops.movement import (
    broadcast_to,
    cat,
    chunk,
    concat,
    concatenate,
    expand,
    flatten,
    flip,
    fliplr,
    flipud,
    hstack,
    meshgrid,
    moveaxis,
    movedim,
    narrow,
    pad,
    permute,
    repeat_interleave,
    reshape,
    roll,
    split,
    squeeze,
    stack,
    sum_to,
    swapaxes,
    t,
    tile,
    transpose,
    tril,
    triu,
    unbind,
    unflatten,
    unsqueeze,
    vstack,
)
from .ops.nonfinite import isneginf, isposinf, nan_to_num
from .ops.reduce import (
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    count_nonzero,
    cummax,
    cummin,
    cumprod,
    cumsum,
    logcumsumexp,
    logsumexp,
    max,
    mean,
    min,
    norm,
    prod,
    std,
    std_mean,
    sum,
    var,
    var_mean,
)
from .ops.scatter import index_add, index_copy, masked_scatter, scatter, scatter_add, scatter_reduce
from .ops.sorting import (
    argsort,
    bucketize,
    kthvalue,
    median,
    mode,
    msort,
    nanmedian,
    searchsorted,
    sort,
    topk,
    unique,
    unique_consecutive,
)
from .ops.special import (
    acos,
    acosh,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    cosh,
    erf,
    erfc,
    erfinv,
    hypot,
    logaddexp,
    logaddexp2,
    sinh,
)
from .random import get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from .tensor import Tensor, is_tensor

__version__ = "0.1.0"


def device(spec="cpu") -> Device:
    return Device(spec)


def _export_dtypes():
    # PyTorch dtype names at top level (gradus.float32, gradus.bool, ...); assigned through globals()
    # so that this module's own code never sees builtins like `bool` shadowed.
    g = globals()
    for name in dtypes.__all__:
        g[name] = getattr(dtypes, name)


_export_dtypes()


def __getattr__(name):
    # heavier subpackages load on first use: `gradus.nn`, `gradus.optim`, `gradus.data`, ...
    import importlib

    if name in ("nn", "optim", "data", "functional", "models", "train", "viz", "cli", "autograd",
                "ops", "rl", "distributed", "recipes"):
        mod = importlib.import_module(f".{name}", __name__)
        globals()[name] = mod
        return mod
    if name == "F":
        return importlib.import_module(".functional", __name__)
    raise AttributeError(f"module 'gradus' has no attribute {name!r}")
