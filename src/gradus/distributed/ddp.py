"""``DistributedDataParallel``: the same model on every rank, gradients averaged during backward.

How one step runs (PyTorch's design, on MPI):

1. **Construction.** Every rank checks that the ranks hold the same parameters (count and sizes,
   an ``Allreduce`` of MIN and MAX), then rank 0's parameters and buffers are broadcast, so every
   rank starts from identical weights whatever its seed. The parameters that require grad are put
   into *buckets*: in reverse order of ``module.parameters()`` (backward produces the last layers'
   gradients first), one dtype per bucket, the first bucket up to 1 MiB (so communication starts
   early; ``bucket_cap_mb`` if smaller) and the others up to ``bucket_cap_mb``.
2. **Forward.** In training mode with grad enabled, rank 0's buffers (BatchNorm running stats) are
   broadcast first (``broadcast_buffers=True``), then the module runs. The backward of this forward
   is armed to synchronise unless inside :meth:`no_sync`.
3. **Backward.** A gradient hook on each parameter (``Tensor.register_hook``; it runs when the
   engine reaches the parameter's ``AccumulateGrad``, with the parameter's whole gradient of this
   backward) copies the gradient -- plus whatever ``.grad`` already holds from ``no_sync`` steps --
   into the bucket's flat buffer. When every parameter of a bucket has arrived the bucket is
   launched as a non-blocking ``Iallreduce`` (buckets are launched in index order on every rank, so
   the collectives always match), while the engine goes on with the rest of backward. When the last
   bucket is launched (the last parameter's hook), all requests are waited for, each bucket is
   divided by the world size (the *average* of the ranks' gradients: with the loss a mean over the
   per-rank batch and equal per-rank batches, that is the gradient of the mean over the global
   batch), and every ``.grad`` becomes a view into its bucket's buffer.

Why this overlaps only partly: gradus' engine has no end-of-backward callback, so the final wait
happens in the last parameter's hook; and MPICH progresses non-blocking collectives only inside MPI
calls, so every hook also calls ``Testall`` on the launched requests to push them on
(``MPIR_CVAR_ASYNC_PROGRESS=1`` gives MPICH a progress thread; see docs/distributed.md).

``state_dict()`` is PyTorch's: keys are prefixed with ``module.``. Save ``ddp.module`` (the plain
model: ``gradus train`` does) so a checkpoint loads into a model that was never wrapped.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..autograd import AccumulateGrad, is_grad_enabled
from ..creation import from_numpy
from ..nn import Module
from .process_group import DistributedError, get_world_size, mpi_comm

__all__ = ["DistributedDataParallel"]

FIRST_BUCKET_BYTES = 1024 * 1024  # PyTorch's dist._DEFAULT_FIRST_BUCKET_BYTES


class _Bucket:
    """Some parameters' gradients in one flat buffer: ``(index in the param list, offset, numel)``."""

    def __init__(self, dtype: np.dtype) -> None:
        self.dtype = dtype
        self.slots: list[tuple[int, int, int]] = []
        self.numel = 0
        # per backward
        self.buffer: np.ndarray | None = None
        self.missing = 0
        self.request: Any = None

    def add(self, index: int, numel: int) -> None:
        self.slots.append((index, self.numel, numel))
        self.numel += numel

    def reset(self) -> None:
        self.buffer, self.missing, self.request = None, len(self.slots), None


class DistributedDataParallel(Module):
    """Data-parallel training of ``module``: one replica per rank, gradients averaged in backward.

    Use it like PyTorch's: build the model, wrap it, build the optimizer over ``ddp.parameters()``,
    and give every rank its own shard of the data (:class:`DistributedSampler`)::

        dist.init_process_group()
        ddp = DistributedDataParallel(net)
        opt = gradus.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
        for X, y in loader:                      # this rank's B / N samples of the global batch
            opt.zero_grad()
            F.cross_entropy(ddp(X), y).backward()  # .grad = mean over ranks of the local gradients
            opt.step()                           # identical update on every rank

    Args:
        module: the model (already on every rank, of the same architecture).
        broadcast_buffers: broadcast rank 0's buffers at the start of every training forward
            (PyTorch's default), so BatchNorm running statistics stay rank 0's.
        bucket_cap_mb: the size of a gradient bucket (after the first, of 1 MiB), in MiB.
        find_unused_parameters: after each forward, walk the output's graph and mark the parameters
            it does not reach as ready (their gradient counts as zero), so their buckets can be
            reduced. Without it every parameter that requires grad must get a gradient in each
            synchronised backward (an error at the next forward says which did not).
        device_ids, output_device, dim: PyTorch's arguments; gradus runs on the CPU: leave them None/0.

    Attributes:
        module: the wrapped model (save this one: ``save_checkpoint(path, ddp.module, ...)``).
        require_backward_grad_sync: False inside :meth:`no_sync`.

    Seeds: weights need no common seed (construction broadcasts rank 0's); randomness that must
    differ per rank (dropout) comes from each rank's own generator -- seed it per rank, e.g.
    ``gradus.manual_seed(seed + rank)`` (the Trainer derives it from ``(seed, rank)``).
    """

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None, dim: int = 0,
                 broadcast_buffers: bool = True, bucket_cap_mb: float = 25.0,
                 find_unused_parameters: bool = False) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be a gradus.nn.Module, got "
                            f"{type(module).__name__}")
        if device_ids is not None or output_device is not None or dim != 0:
            raise DistributedError("DistributedDataParallel: gradus runs one CPU process per rank; "
                                   f"device_ids={device_ids!r}, output_device={output_device!r}, "
                                   f"dim={dim!r} must be left at None, None, 0")
        if not bucket_cap_mb > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be > 0, got {bucket_cap_mb!r}")
        self.module = module
        self.broadcast_buffers = bool(broadcast_buffers)
        self.bucket_cap_mb = float(bucket_cap_mb)
        self.find_unused_parameters = bool(find_unused_parameters)
        self.require_backward_grad_sync = True
        self.world_size = get_world_size()
        comm = mpi_comm()
        # A communicator of our own: the buckets' non-blocking collectives never interleave with a
        # user's blocking ones on COMM_WORLD (e.g. an all_reduce of a metric during backward).
        object.__setattr__(self, "_comm", comm.Dup() if comm is not None else None)
        params = [p for p in module.parameters() if p.requires_grad]
        object.__setattr__(self, "_params", params)
        names = {id(p): n for n, p in module.named_parameters()}
        object.__setattr__(self, "_names", [names.get(id(p), "?") for p in params])
        self._buckets: list[_Bucket] = []
        self._where: list[tuple[int, int, int]] = []  # per param: (bucket, offset, numel)
        self._armed = False
        self._launched = 0
        self._got = np.zeros(len(params), dtype=bool)  # per param: its gradient arrived this backward
        self._hook_handles: list = []
        if self.world_size > 1:
            self._verify_same_model()
            self.sync_module_states()
            self._build_buckets()
            self._hook_handles = [p.register_hook(self._make_hook(i)) for i, p in enumerate(params)]

    # -- construction ------------------------------------------------------------------------------
    def _verify_same_model(self) -> None:
        """The same number of parameters and elements on every rank, or a clear error on every rank."""
        from mpi4py import MPI

        tensors = self._state_tensors()
        sizes = np.array([len(tensors), sum(int(t.data.size) for t in tensors)], dtype=np.int64)
        lo, hi = sizes.copy(), sizes.copy()
        self._comm.Allreduce(MPI.IN_PLACE, lo, op=MPI.MIN)
        self._comm.Allreduce(MPI.IN_PLACE, hi, op=MPI.MAX)
        if (lo != hi).any():
            raise DistributedError(
                "DistributedDataParallel: the ranks hold different models (parameters + buffers: "
                f"{lo[0]}..{hi[0]} tensors, {lo[1]}..{hi[1]} elements across ranks; this rank has "
                f"{sizes[0]} and {sizes[1]}); build the same architecture on every rank")

    def sync_module_states(self) -> None:
        """Broadcast rank 0's parameters and buffers to every rank (done at construction)."""
        self._broadcast_coalesced(self._state_tensors())

    def _state_tensors(self) -> list:
        """The module's parameters and (non-None) buffers: what construction checks and broadcasts."""
        return list(self.module.parameters()) + [b for b in self.module.buffers() if b is not None]

    def sync_buffers(self) -> None:
        """Broadcast rank 0's buffers (what every training forward does with ``broadcast_buffers``);
        call it before evaluating so every rank evaluates rank 0's BatchNorm statistics."""
        if self.world_size > 1:
            self._broadcast_coalesced([b for b in self.module.buffers() if b is not None])

    def _broadcast_coalesced(self, tensors: list) -> None:
        """One ``Bcast`` per dtype of all ``tensors`` packed into a flat buffer, unpacked in place."""
        if not tensors:
            return
        by_dtype: dict[np.dtype, list] = {}
        for t in tensors:
            by_dtype.setdefault(t.data.dtype, []).append(t)
        for dtype, group in by_dtype.items():
            flat = np.concatenate([t.data.reshape(-1) for t in group]).astype(dtype, copy=False)
            self._comm.Bcast(flat, root=0)
            offset = 0
            for t in group:
                n = t.data.size
                # in place, like an optimizer step: the tensors stay the module's own objects
                t.data[...] = flat[offset:offset + n].reshape(t.data.shape)
                offset += n

    def _build_buckets(self) -> None:
        cap = int(self.bucket_cap_mb * 1024 * 1024)
        where: list[tuple[int, int, int] | None] = [None] * len(self._params)
        current: dict[np.dtype, _Bucket] = {}  # the open bucket per dtype
        for i in reversed(range(len(self._params))):
            p = self._params[i]
            dtype = p.data.dtype
            bucket = current.get(dtype)
            limit = min(FIRST_BUCKET_BYTES, cap) if not self._buckets or bucket is self._buckets[0] else cap
            if bucket is None or (bucket.numel and (bucket.numel + p.data.size) * dtype.itemsize > limit):
                bucket = _Bucket(dtype)
                self._buckets.append(bucket)
                current[dtype] = bucket
            where[i] = (self._buckets.index(bucket), bucket.numel, int(p.data.size))
            bucket.add(i, int(p.data.size))
        self._where = where  # type: ignore[assignment]

    @property
    def bucket_sizes(self) -> list[int]:
        """The number of gradient elements in each bucket, in launch order (empty in a world of one)."""
        return [b.numel for b in self._buckets]

    # -- forward ------------------------------------------------------------------------------------
    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        sync = self.world_size > 1 and is_grad_enabled() and self.require_backward_grad_sync
        if sync and self._armed:
            self._check_previous_backward()
        if self.world_size > 1 and self.broadcast_buffers and self.module.training and is_grad_enabled():
            self.sync_buffers()
        if sync:
            for b in self._buckets:
                b.reset()
            self._got[:] = False
            self._launched = 0
            self._armed = True
        out = self.module(*inputs, **kwargs)
        if sync and self.find_unused_parameters:
            self._mark_unused(out)
        return out

    def _check_previous_backward(self) -> None:
        """A synchronised backward that started but left some parameters without a gradient."""
        if not self._got.any():
            return  # a forward whose backward never ran (e.g. evaluation under grad mode): fine
        missing = [self._names[i] for i in np.flatnonzero(~self._got)]
        self._armed = False
        raise DistributedError(
            "DistributedDataParallel: the previous backward did not produce gradients for "
            f"{len(missing)} parameter(s) that require grad ({', '.join(missing[:8])}"
            f"{', ...' if len(missing) > 8 else ''}), so their buckets were never reduced; pass "
            "find_unused_parameters=True when parts of the model are not used in every step, or freeze "
            "them (requires_grad_(False)) before wrapping")

    def _mark_unused(self, out: Any) -> None:
        """Mark the parameters the graph of ``out`` does not reach as ready (zero gradient)."""
        reached: set[int] = set()
        stack, seen = [], set()
        for t in _tensors_in(out):
            if t.grad_fn is not None:
                stack.append(t.grad_fn)
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, AccumulateGrad):
                leaf = node.variable()
                if leaf is not None:
                    reached.add(id(leaf))
                continue
            for nxt, _ in node.next_functions:
                if nxt is not None:
                    stack.append(nxt)
        for i, p in enumerate(self._params):
            if id(p) not in reached:
                g = self._ready(i, None)
                if g is not None:  # no parameter is used at all: everything was reduced already
                    p.grad = g

    # -- backward -----------------------------------------------------------------------------------
    def _make_hook(self, index: int):
        def hook(grad):
            if not self._armed:
                return None  # no_sync, evaluation, autograd.grad outside a DDP forward
            return self._ready(index, grad)

        hook.__qualname__ = f"DistributedDataParallel.hook[{self._names[index]}]"
        return hook

    def _ready(self, index: int, grad: Any) -> Any:
        """Parameter ``index``'s gradient of this backward arrived (None: it is unused)."""
        from mpi4py import MPI

        if self._got[index]:
            raise DistributedError(
                f"DistributedDataParallel: parameter {self._names[index]!r} received a second gradient in "
                "one synchronised backward; call the wrapped model once per backward (or use no_sync)")
        self._got[index] = True
        b_idx, offset, numel = self._where[index]
        bucket = self._buckets[b_idx]
        if bucket.buffer is None:
            bucket.buffer = np.empty(bucket.numel, dtype=bucket.dtype)
        p = self._params[index]
        dest = bucket.buffer[offset:offset + numel]
        # what .grad will hold after this backward on this rank: the accumulated no_sync steps + this one
        if grad is None:
            dest[...] = 0 if p.grad is None else p.grad.data.reshape(-1)
        elif p.grad is None:
            dest[...] = grad.data.reshape(-1)
        else:
            np.add(p.grad.data.reshape(-1), grad.data.reshape(-1), out=dest)
        bucket.missing -= 1
        # launch every ready bucket in index order (the same order on every rank)
        while self._launched < len(self._buckets) and self._buckets[self._launched].missing == 0:
            nxt = self._buckets[self._launched]
            nxt.request = self._comm.Iallreduce(MPI.IN_PLACE, nxt.buffer, op=MPI.SUM)
            self._launched += 1
        requests = [b.request for b in self._buckets[: self._launched]]
        if self._launched < len(self._buckets):
            MPI.Request.Testall(requests)  # drive MPICH's progress engine while backward goes on
            return None
        MPI.Request.Waitall(requests)
        return self._finish(index)

    def _finish(self, current: int) -> Any:
        """Every bucket is reduced: average and hand the gradients to the parameters."""
        self._armed = False
        replacement = None
        for bucket in self._buckets:
            bucket.buffer /= self.world_size
            for i, offset, numel in bucket.slots:
                p = self._params[i]
                g = from_numpy(bucket.buffer[offset:offset + numel].reshape(p.data.shape))
                if i == current:
                    # the engine accumulates this hook's return value into .grad right after: start
                    # that parameter from None so it ends up holding exactly the average
                    p.grad = None
                    replacement = g
                else:
                    p.grad = g
            bucket.request = None
        return replacement

    # -- gradient accumulation ----------------------------------------------------------------------
    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Backward passes of forwards run inside this context accumulate ``.grad`` locally, without
        communication; the first synchronised backward after it averages the accumulated sum::

            with ddp.no_sync():
                for X, y in micro_batches[:-1]:
                    loss_fn(ddp(X), y).backward()      # local accumulation
            loss_fn(ddp(X_last), y_last).backward()    # all-reduce of the sum of all micro-batches
        """
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def extra_repr(self) -> str:
        return f"world_size={self.world_size}, buckets={self.bucket_sizes}"


def _tensors_in(out: Any) -> Iterator[Any]:
    """The Tensors in a forward's output (a Tensor, or tuples / lists / dicts of them)."""
    if isinstance(out, (tuple, list)):
        for o in out:
            yield from _tensors_in(o)
    elif isinstance(out, dict):
        for o in out.values():
            yield from _tensors_in(o)
    elif hasattr(out, "grad_fn"):
        yield out
