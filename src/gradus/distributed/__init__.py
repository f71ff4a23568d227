"""gradus.distributed: data-parallel training on MPI (``torch.distributed``'s names and semantics).

::

    import gradus.distributed as dist
    dist.init_process_group()                 # mpiexec -n N python train.py; a world of one without it
    ddp = dist.DistributedDataParallel(net)   # rank 0's weights everywhere; gradients averaged in backward
    sampler = dist.DistributedSampler(train_ds)          # this rank's disjoint shard
    loader = DataLoader(train_ds, batch_size=B // dist.get_world_size(), sampler=sampler)
    for epoch in range(num_epochs):
        sampler.set_epoch(epoch)                          # a new order each epoch, the same on every rank
        ...

Multi-process runs need the ``[dist]`` extra (``pip install "gradus[dist]"``: mpi4py and the mpich
runtime); a world of one needs nothing. How it works, the cost model and how to run on a cluster:
docs/distributed.md.
"""
from .ddp import DistributedDataParallel
from .process_group import (
    DistributedError,
    ReduceOp,
    abort,
    all_gather,
    all_reduce,
    barrier,
    broadcast,
    destroy_process_group,
    env_world_size,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_initialized,
    mpi_comm,
)
from .sampler import DistributedSampler
from .sync_batchnorm import SyncBatchNorm, differentiable_all_reduce

__all__ = [
    "init_process_group", "destroy_process_group", "is_initialized", "is_available", "get_rank",
    "get_world_size", "barrier", "all_reduce", "broadcast", "all_gather", "ReduceOp", "DistributedError",
    "abort", "env_world_size", "mpi_comm", "DistributedDataParallel", "DistributedSampler",
    "SyncBatchNorm", "differentiable_all_reduce",
]
