"""The process group: who we are (rank, world size) and the collectives, on MPI through ``mpi4py``.

The names and semantics are ``torch.distributed``'s::

    import gradus.distributed as dist
    dist.init_process_group()             # from the MPI environment; a world of one without mpiexec
    dist.get_rank(), dist.get_world_size()
    dist.all_reduce(t)                    # in place: t <- sum over ranks of t
    dist.broadcast(t, src=0)              # in place: t <- rank 0's t
    dist.all_gather(tensor_list, t)       # tensor_list[r] <- rank r's t
    dist.barrier()
    dist.destroy_process_group()

Every collective moves NumPy buffers with mpi4py's *uppercase* (buffer) methods (``Allreduce``,
``Bcast``, ``Allgather``): no object is ever pickled.

**Which world.** ``init_process_group()`` reads the launcher's environment (``PMI_SIZE`` from MPICH's and
Intel MPI's ``mpiexec`` and Slurm's PMI, ``OMPI_COMM_WORLD_SIZE`` from Open MPI, ``PMIX_SIZE``...;
:func:`env_world_size`). With more than one process, mpi4py is imported (a clear error names
``pip install "gradus[dist]"`` when it is missing); with one (a plain ``python x.py``) the world of
one needs no MPI at all and every collective is the identity, so the same script runs anywhere.

**Failures end every rank.** In a world of more than one, an uncaught exception on any rank prints
the traceback prefixed with the rank, then calls ``MPI.COMM_WORLD.Abort(1)``: the launcher kills the
other ranks, which would otherwise wait forever in their next collective (``sys.excepthook``, set by
``init_process_group`` and restored by ``destroy_process_group``; :func:`abort` does it by hand).
"""
from __future__ import annotations

import enum
import os
import sys
import time
import traceback
from typing import Any

import numpy as np

from ..errors import GradusError

__all__ = [
    "DistributedError", "ReduceOp", "init_process_group", "destroy_process_group", "is_initialized",
    "is_available", "get_rank", "get_world_size", "barrier", "all_reduce", "broadcast", "all_gather",
    "env_world_size", "abort", "mpi_comm",
]

INSTALL_HINT = 'pip install "gradus[dist]" (mpi4py and the mpich runtime)'

# The launchers' "how many processes" variables, checked in this order.
WORLD_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "MV2_COMM_WORLD_SIZE")


class DistributedError(GradusError, RuntimeError):
    """A misuse of gradus.distributed (no process group, mpi4py missing, ranks that disagree)."""


class ReduceOp(enum.Enum):
    """The reductions of :func:`all_reduce` (``torch.distributed.ReduceOp``)."""

    SUM = "sum"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    AVG = "avg"  # SUM then divide by the world size (floating point only)


class _World:
    """The default process group: the MPI communicator (None in the world of one), rank and size."""

    def __init__(self, comm: Any, rank: int, size: int) -> None:
        self.comm, self.rank, self.size = comm, rank, size
        self.previous_excepthook = None


_world: _World | None = None


# --------------------------------------------------------------------------------------- setup


def env_world_size() -> int:
    """How many processes the launcher started, from its environment (1 when none is found)."""
    for var in WORLD_SIZE_VARS:
        value = os.environ.get(var, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    return 1


def _import_mpi(why: str):
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise DistributedError(f"{why} needs mpi4py, which is not installed: {INSTALL_HINT}") from e
    return MPI


def is_available() -> bool:
    """Whether multi-process training can work here (mpi4py importable). A world of one always can."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def init_process_group(backend: str | None = "mpi", *, world_size: int = -1, rank: int = -1) -> None:
    """Join the default process group of every process the MPI launcher started.

    Args:
        backend: ``"mpi"`` (the only one; ``None`` means it too).
        world_size, rank: optional checks: when given (>= 0) they must equal what MPI says.

    Without ``mpiexec`` (no launcher variables, see :func:`env_world_size`) this is a world of one and
    mpi4py is not needed; with more processes mpi4py is imported (``DistributedError`` naming
    ``pip install "gradus[dist]"`` when it is missing) and an uncaught exception on any rank aborts
    all of them (the module docstring).
    """
    global _world
    if _world is not None:
        raise DistributedError("init_process_group: the default process group is already initialised; "
                               "call destroy_process_group() first to make a new one")
    if backend not in (None, "mpi"):
        raise DistributedError(f"init_process_group: backend must be 'mpi' (gradus runs on MPI through "
                               f"mpi4py), got {backend!r}")
    launched = env_world_size()
    if launched > 1 or "mpi4py.MPI" in sys.modules:
        MPI = _import_mpi(f"init_process_group in a world of {launched} processes")
        comm = MPI.COMM_WORLD
        world = _World(comm, comm.Get_rank(), comm.Get_size())
    else:
        world = _World(None, 0, 1)
    for name, want, got in (("world_size", world_size, world.size), ("rank", rank, world.rank)):
        if want >= 0 and want != got:
            raise DistributedError(f"init_process_group: {name}={want} was asked for, but MPI says "
                                   f"{got}; launch with `mpiexec -n {world_size if world_size > 0 else 'N'}`")
    if world.size > 1:
        world.previous_excepthook = sys.excepthook
        sys.excepthook = _abort_on_exception
    _world = world


def destroy_process_group() -> None:
    """Leave the default process group (MPI itself stays initialised until the process exits)."""
    global _world
    if _world is None:
        return
    if _world.previous_excepthook is not None and sys.excepthook is _abort_on_exception:
        sys.excepthook = _world.previous_excepthook
    _world = None


def is_initialized() -> bool:
    """Whether :func:`init_process_group` was called (and not undone)."""
    return _world is not None


def _require(fn: str) -> _World:
    if _world is None:
        raise DistributedError(f"{fn}: the default process group is not initialised; call "
                               "gradus.distributed.init_process_group() first")
    return _world


def get_rank() -> int:
    """This process' rank, ``0 <= rank < get_world_size()``."""
    return _require("get_rank").rank


def get_world_size() -> int:
    """The number of processes in the default group."""
    return _require("get_world_size").size


def mpi_comm():
    """The MPI communicator of the default group (``mpi4py.MPI.Comm``), or None in a world of one."""
    return _require("mpi_comm").comm


def abort(message: str = "", errorcode: int = 1) -> None:
    """End every rank now: print ``message`` (prefixed with this rank) to stderr, then
    ``MPI.COMM_WORLD.Abort(errorcode)``. In a world of one (or without a group): ``sys.exit``."""
    world = _world
    prefix = f"[rank {world.rank}/{world.size}] " if world is not None and world.size > 1 else ""
    if message:
        sys.stderr.write("".join(prefix + line + "\n" for line in message.rstrip("\n").split("\n")))
    sys.stdout.flush()
    sys.stderr.flush()
    if world is not None and world.comm is not None and world.size > 1:
        # the launcher forwards each rank's output through pipes and kills every rank on an abort:
        # give it a moment to forward what was just written (seen: an empty stderr without it)
        time.sleep(0.3)
        world.comm.Abort(errorcode)
    raise SystemExit(errorcode)


def _abort_on_exception(exc_type, exc, tb) -> None:
    """``sys.excepthook`` in a world of more than one: the traceback with the rank, then Abort."""
    if issubclass(exc_type, KeyboardInterrupt):
        text = "interrupted"
    else:
        text = "".join(traceback.format_exception(exc_type, exc, tb)).rstrip()
    abort(f"{text}\ngradus.distributed: uncaught {exc_type.__name__} on this rank: aborting every rank",
          errorcode=1)


# --------------------------------------------------------------------------------------- collectives


def _array_of(tensor: Any) -> Any:
    """The ndarray of a Tensor (``.data``), or the ndarray itself (whose ``.data`` is a memoryview)."""
    return tensor if isinstance(tensor, np.ndarray) else getattr(tensor, "data", tensor)


def _as_buffer(fn: str, tensor: Any) -> tuple[np.ndarray, bool]:
    """(a C-contiguous ndarray holding the values, whether it is the tensor's own memory)."""
    a = _array_of(tensor)
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{fn}: expected a gradus Tensor or a NumPy array, got {type(tensor).__name__}")
    if a.flags.c_contiguous and a.flags.writeable:
        return a, True
    return np.ascontiguousarray(a), False


def _write_back(tensor: Any, buf: np.ndarray, own: bool) -> None:
    """Put the result ``buf`` into ``tensor``. A Tensor is written with ``copy_`` under no_grad (as
    optimizers write parameters) so its version counter moves on even when ``buf`` is its own memory
    (a self-copy: one memcpy, negligible next to the communication)."""
    if not isinstance(tensor, np.ndarray):
        from ..autograd import no_grad

        with no_grad():
            tensor.copy_(buf)
    elif not own:
        tensor[...] = buf


def _mpi_op(MPI, op: ReduceOp):
    return {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD,
            ReduceOp.MIN: MPI.MIN, ReduceOp.MAX: MPI.MAX}[op]


def all_reduce(tensor: Any, op: ReduceOp = ReduceOp.SUM, group: Any = None, async_op: bool = False) -> None:
    """In place: every rank's ``tensor`` becomes the reduction (``op``) over the ranks' tensors.

    Shapes and dtypes must match on every rank. ``ReduceOp.AVG`` sums then divides (floats only).
    ``group`` and ``async_op`` exist for PyTorch's signature; only the default group and blocking
    calls are supported (DistributedDataParallel uses non-blocking ones internally).
    """
    world = _check_call("all_reduce", group, async_op)
    if not isinstance(op, ReduceOp):
        raise TypeError(f"all_reduce: op must be a gradus.distributed.ReduceOp, got {op!r}")
    buf, own = _as_buffer("all_reduce", tensor)
    if op is ReduceOp.AVG and buf.dtype.kind not in "fc":
        raise DistributedError(f"all_reduce: ReduceOp.AVG needs a floating-point tensor, got {buf.dtype}")
    if world.size > 1:
        MPI = _import_mpi("all_reduce")
        world.comm.Allreduce(MPI.IN_PLACE, buf, op=_mpi_op(MPI, op))
        if op is ReduceOp.AVG:
            buf /= world.size
    _write_back(tensor, buf, own)


def broadcast(tensor: Any, src: int = 0, group: Any = None, async_op: bool = False) -> None:
    """In place: every rank's ``tensor`` becomes rank ``src``'s (shapes and dtypes must match)."""
    world = _check_call("broadcast", group, async_op)
    if not 0 <= int(src) < world.size:
        raise DistributedError(f"broadcast: src={src} is not a rank of this world of {world.size}")
    buf, own = _as_buffer("broadcast", tensor)
    if world.size > 1:
        world.comm.Bcast(buf, root=int(src))
    _write_back(tensor, buf, own)


def all_gather(tensor_list: list, tensor: Any, group: Any = None, async_op: bool = False) -> None:
    """``tensor_list[r]`` becomes rank ``r``'s ``tensor`` (written in place; one per rank, each of the
    shape and dtype of ``tensor``, which must match on every rank)."""
    world = _check_call("all_gather", group, async_op)
    if len(tensor_list) != world.size:
        raise DistributedError(f"all_gather: tensor_list has {len(tensor_list)} tensors; expected one per "
                               f"rank ({world.size})")
    local, _ = _as_buffer("all_gather", tensor)
    out = np.empty((world.size,) + local.shape, dtype=local.dtype)
    if world.size > 1:
        world.comm.Allgather(local, out)
    else:
        out[0] = local
    for r, t in enumerate(tensor_list):
        target = _array_of(t)
        if np.shape(target) != local.shape or getattr(target, "dtype", None) != local.dtype:
            raise DistributedError(f"all_gather: tensor_list[{r}] has shape {tuple(np.shape(target))} and "
                                   f"dtype {getattr(target, 'dtype', None)}; expected {local.shape}, "
                                   f"{local.dtype} (the input's)")
        _write_back(t, out[r], False)


def barrier(group: Any = None, async_op: bool = False) -> None:
    """Wait until every rank has reached this call."""
    world = _check_call("barrier", group, async_op)
    if world.size > 1:
        world.comm.Barrier()


def _check_call(fn: str, group: Any, async_op: bool) -> _World:
    world = _require(fn)
    if group is not None:
        raise DistributedError(f"{fn}: only the default group is supported (group=None), got {group!r}")
    if async_op:
        raise DistributedError(f"{fn}: async_op=True is not supported; the collectives of "
                               "gradus.distributed block (DistributedDataParallel overlaps its own)")
    return world
