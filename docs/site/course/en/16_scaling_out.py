r"""
Scaling out: data parallelism on MPI, and the GPU
=================================================

A training step is a gradient of a mean over a minibatch. When one processor is too slow, the
simplest way to use more of them is **data parallelism**: start :math:`N` processes (**ranks**
:math:`0, \dots, N-1`, the **world size** :math:`N`), give each a full copy of the model and a
different :math:`1/N` of every batch, let each compute the gradient of its shard, and **average the
gradients** before the update. The average is an **all-reduce**: a collective operation after which
every rank holds the sum (or mean) of all ranks' arrays. Every rank then takes the same optimizer
step with the same gradient, so the replicas stay identical, as if one process had done the work.

Why it is the same: with a global batch :math:`\mathcal B` of :math:`B` samples split into
:math:`N` shards :math:`\mathcal B_r` of :math:`B/N` each, and the loss the mean over the samples,

.. math::

    \nabla_\theta \frac{1}{B} \sum_{i \in \mathcal B} \ell_i(\theta)
    = \frac{1}{N} \sum_{r=0}^{N-1} g_r, \qquad
    g_r = \nabla_\theta \frac{1}{B/N} \sum_{i \in \mathcal B_r} \ell_i(\theta)
    \quad \text{(rank } r\text{'s gradient)}

an identity, exact up to rounding, *provided* the shards are equal in size and no layer mixes
samples across the batch (batch normalisation does: each rank would normalise with its own shard's
statistics, unless they are synchronised).

gradus implements this with PyTorch's names on MPI (through ``mpi4py``):
:source:`src/gradus/distributed/process_group.py` (``init_process_group``, ``get_rank``,
``get_world_size``, ``all_reduce``, ``broadcast``, ``all_gather``, ``barrier``),
:source:`src/gradus/distributed/ddp.py` (``DistributedDataParallel``: broadcasts rank 0's weights at
construction, then averages the gradients in buckets during backward),
:source:`src/gradus/distributed/sampler.py` (``DistributedSampler``: each rank's disjoint share of
the data) and :source:`src/gradus/distributed/sync_batchnorm.py` (``SyncBatchNorm``). The design,
the cost model and the measurements are in :source:`docs/distributed.md`. The GPU backend, at the
end of the page, lives in :source:`src/gradus/backend.py`.
"""

# %%
# A world of one
# --------------
# Started without ``mpiexec``, a script is a world of one process: ``init_process_group()`` needs no
# MPI, every collective is the identity, and ``DistributedDataParallel`` is the module it wraps. So
# the same script runs on a laptop and on a cluster (``destroy_process_group()`` leaves the group).
# ``DistributedSampler`` can be asked for any rank's share directly: the epoch's order is one
# permutation (seeded, the same on every rank) and rank :math:`r` takes every :math:`N`-th index
# starting at :math:`r`.
import os

import matplotlib.pyplot as plt
import numpy as np

import gradus
import gradus.distributed as dist
import gradus.functional as F
from gradus import optim
from gradus.data.datasets import load_mnist_arrays
from gradus.models.lenet import lenet5_modern
from gradus.models.mlp import MLP, mnist_mlp

FAST = os.environ.get("GRADUS_DOCS_FAST") == "1"

dist.init_process_group()
print(f"rank {dist.get_rank()} of a world of {dist.get_world_size()}; "
      f"mpi4py installed (multi-process runs possible): {dist.is_available()}")
t = gradus.tensor([1.0, 2.0, 3.0])
dist.all_reduce(t, op=dist.ReduceOp.SUM)                       # in place; the identity in a world of one
print("all_reduce in a world of one:", t)
gradus.manual_seed(0)
net = MLP([784, 64, 10])
ddp = dist.DistributedDataParallel(net)
print("DistributedDataParallel wraps", type(ddp.module).__name__, "; its parameters are the module's:",
      all(a is b for a, b in zip(ddp.parameters(), net.parameters())))
for rank in range(2):
    shard = dist.DistributedSampler(range(10), num_replicas=2, rank=rank, shuffle=True, seed=0)
    print(f"DistributedSampler, 10 samples, rank {rank} of 2:", list(shard))
dist.destroy_process_group()                     # leave it (the site runs all its pages in one process)

# %%
# Two shards average to the full batch
# ------------------------------------
# Now the identity above, on real data: a global batch of 128 MNIST test images, an MLP in float64 (so
# that rounding does not hide anything), and autograd. The gradient of the full batch is compared with
# the average of the gradients of :math:`N` shards, each taken as ``DistributedSampler`` would (every
# :math:`N`-th sample), for :math:`N = 1, 2, 4, 8`. Then two ways to get it wrong: shards of unequal
# size (96 and 32) averaged as if they were equal, and a network with batch normalisation, whose
# statistics each shard computes on its own.

X_all, y_all = load_mnist_arrays(train=False)                  # 10,000 images, (N, 784) in [0, 1]
B = 128
X, y = gradus.tensor(X_all[:B], dtype=gradus.float64), gradus.tensor(y_all[:B])


def gradients(model, X, y):
    """The gradient of the mean cross-entropy over (X, y), one NumPy array per parameter."""
    model.zero_grad()
    F.cross_entropy(model(X), y).backward()
    return [p.grad.numpy().copy() for p in model.parameters()]


def max_difference(grads_a, grads_b):
    return max(np.abs(a - b).max() for a, b in zip(grads_a, grads_b))


gradus.manual_seed(0)
model = MLP([784, 128, 10]).double()
full = gradients(model, X, y)
print(f"MLP 784-128-10, global batch {B}; largest |gradient entry| {max(np.abs(g).max() for g in full):.3f}")
for N in (1, 2, 4, 8):
    shards = [gradients(model, X[r::N], y[r::N]) for r in range(N)]   # rank r's B/N samples
    average = [np.mean(per_rank, axis=0) for per_rank in zip(*shards)]  # what all_reduce(AVG) returns
    print(f"N = {N}: max |average of the {N} shard gradients - full-batch gradient| = "
          f"{max_difference(average, full):.1e}")

unequal = [gradients(model, X[:96], y[:96]), gradients(model, X[96:], y[96:])]
naive = [(a + b) / 2 for a, b in zip(*unequal)]
weighted = [(96 * a + 32 * b) / 128 for a, b in zip(*unequal)]
print(f"shards of 96 and 32: plain average off by {max_difference(naive, full):.1e}, "
      f"average weighted by size off by {max_difference(weighted, full):.1e}")

gradus.manual_seed(0)
bn_model = MLP([784, 128, 10], batch_norm=True).double()
bn_full = gradients(bn_model, X, y)
bn_shards = [gradients(bn_model, X[r::2], y[r::2]) for r in range(2)]
bn_average = [np.mean(per_rank, axis=0) for per_rank in zip(*bn_shards)]
print(f"with BatchNorm, 2 shards: off by {max_difference(bn_average, bn_full):.1e} "
      f"(each shard normalises with its own mean and variance)")

# %%
# Equal shards agree to within :math:`10^{-16}`, float64's rounding, for every :math:`N`. This is why
# ``DistributedSampler`` pads the epoch so that every rank gets the same number of samples, and why
# ``gradus train`` reads a recipe's ``batch_size`` as the *global* batch and gives every rank
# ``batch_size / N``. BatchNorm breaks the identity; ``SyncBatchNorm`` all-reduces the per-channel
# sums :math:`\sum x`, :math:`\sum x^2` and the count in forward (and their gradients in backward), so
# every rank normalises with the statistics of the global batch and the identity holds again
# (``dist.SyncBatchNorm.convert_sync_batchnorm(net)``; ``tests/distributed`` checks it against one
# process).
#
# Many steps: two replicas vs one process
# ---------------------------------------
# DDP does this at every step. Below, two replicas of the same network (the second receives the
# first's weights, which is the broadcast at construction), SGD with momentum each, every step each
# replica takes the gradient of its half of the batch, the two gradients are averaged and each replica
# steps; next to them one process takes the whole batch. The weights must stay the same.

gradus.manual_seed(1)
single = MLP([784, 128, 10]).double()
replicas = [MLP([784, 128, 10]).double() for _ in range(2)]
for replica in replicas:
    replica.load_state_dict(single.state_dict())               # rank 0's weights on every rank
opt_single = optim.SGD(single.parameters(), lr=0.1, momentum=0.9)
opts = [optim.SGD(r.parameters(), lr=0.1, momentum=0.9) for r in replicas]
steps = 20 if FAST else 100
losses, drift = [], []
for step in range(steps):
    batch = slice((step * B) % 9984, (step * B) % 9984 + B)
    Xb, yb = gradus.tensor(X_all[batch], dtype=gradus.float64), gradus.tensor(y_all[batch])
    opt_single.zero_grad()
    loss = F.cross_entropy(single(Xb), yb)
    loss.backward()
    opt_single.step()
    local = [gradients(replica, Xb[r::2], yb[r::2]) for r, replica in enumerate(replicas)]
    for replica, opt in zip(replicas, opts):
        for p, g0, g1 in zip(replica.parameters(), *local):
            p.grad = gradus.tensor((g0 + g1) / 2)              # the all-reduced average, the same on both
        opt.step()
    losses.append(loss.item())
    drift.append(max(np.abs(a.detach().numpy() - b.detach().numpy()).max()
                     for a, b in zip(single.parameters(), replicas[0].parameters())))
between_replicas = max(np.abs(a.detach().numpy() - b.detach().numpy()).max()
                       for a, b in zip(replicas[0].parameters(), replicas[1].parameters()))
print(f"{steps} steps: loss {losses[0]:.3f} -> {losses[-1]:.3f}; largest weight difference single vs "
      f"replica 0: {max(drift):.1e}; replica 0 vs replica 1: {between_replicas:.1e}")

fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.4))
axes[0].plot(losses, label="one process, batch 128")
axes[0].set_xlabel("step")
axes[0].set_ylabel("training loss")
axes[0].set_title("the loss of the single process", fontsize=9)
axes[0].grid(alpha=0.3)
axes[1].semilogy(np.maximum(drift, 1e-20), "o-", ms=3, color="tab:red")
axes[1].set_ylim(1e-20, 1e-6)
axes[1].set_xlabel("step")
axes[1].set_ylabel("max |w_single - w_replica|")
axes[1].set_title("two replicas vs one process (float64)", fontsize=9)
axes[1].grid(alpha=0.3)
fig.tight_layout()

# %%
# The cost: a ring all-reduce
# ---------------------------
# Every step all-reduces every gradient once: :math:`4P` bytes for :math:`P` float32 parameters. In a
# **ring all-reduce** the buffer is cut into :math:`N` pieces; a reduce-scatter (:math:`N-1` hops, each
# rank passing one piece to its neighbour and adding the piece it receives) leaves every rank with
# one fully summed piece, and an all-gather (:math:`N-1` more hops) hands the pieces round. Each rank
# sends (and receives)
#
# .. math::
#
#     2\,\frac{N-1}{N}\cdot 4P \ \text{bytes per step}, \qquad
#     T \approx 2(N-1)\,\alpha + 2\,\frac{N-1}{N}\,\frac{4P}{\beta}
#
# with :math:`\alpha` the latency of one message and :math:`\beta` the bandwidth of a link. The traffic
# per rank tends to twice the gradient size and stops growing with :math:`N`; the latency term grows.
# DDP sends the gradients in **buckets** (the first up to 1 MiB, then 25 MiB, PyTorch's sizes),
# launched as non-blocking all-reduces during backward so that communication overlaps the rest of
# the backward pass. The parameter counts come from gradus' own models of three recipes; the times
# assume :math:`\alpha = 5\,\mu s` and :math:`\beta = 12.5` GB/s (a 100 Gb/s link), an illustration, not
# a measurement.

models = {"digits-mlp": MLP([64, 128, 10]), "mnist-lenet5": lenet5_modern(), "mnist-mlp": mnist_mlp()}
P = {name: sum(p.numel() for p in m.parameters()) for name, m in models.items()}
world = np.array([2, 4, 8, 16, 32, 64, 128])
alpha, beta = 5e-6, 12.5e9


def kib(n_bytes):
    return f"{n_bytes / 2**20:.2f} MiB" if n_bytes >= 2**20 else f"{n_bytes / 2**10:.1f} KiB"


fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.6))
for name, n_params in P.items():
    sent = 2 * (world - 1) / world * 4 * n_params
    print(f"{name:13s} P = {n_params:>9,}: all-reduced per step {kib(4 * n_params)}; sent per rank "
          f"N=2 {kib(sent[0])}, N=8 {kib(sent[2])}")
    axes[0].loglog(world, sent, "o-", ms=3, label=f"{name} (P = {n_params:,})")
    axes[1].loglog(world, 2 * (world - 1) * alpha + sent / beta, "o-", ms=3, label=name)
axes[0].set_xlabel("world size N")
axes[0].set_ylabel("bytes sent per rank per step")
axes[0].set_title("ring all-reduce traffic: 2(N-1)/N x 4P", fontsize=9)
axes[1].set_xlabel("world size N")
axes[1].set_ylabel("seconds per all-reduce")
axes[1].set_title("alpha-beta model, alpha 5 us, beta 12.5 GB/s (assumed)", fontsize=9)
for ax in axes:
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
fig.tight_layout()

# %%
# For the small models the latency term dominates and grows with :math:`N`. For mnist-mlp's 6.85 MiB
# of gradients the bandwidth term dominates and levels off, until the latency term, which grows
# linearly with :math:`N`, catches up at the right edge of the plot. MPICH picks recursive doubling for short
# messages and the ring-like reduce-scatter + all-gather for long ones.
#
# Measured: one process vs two
# ----------------------------
# ``benchmarks/distributed_step.py`` times a training step of two recipes' own models on a 2-core
# machine (one BLAS thread per rank, the global batch of the recipe). The medians of 5 runs, quoted
# from :source:`docs/distributed.md`:
#
# .. list-table::
#    :header-rows: 1
#
#    * - recipe
#      - processes
#      - global batch
#      - steps/s
#      - speed-up
#      - all-reduced per step
#    * - mnist-mlp
#      - 1
#      - 128
#      - 19.5
#      - 1.00x
#      - (none)
#    * - mnist-mlp
#      - 2
#      - 128
#      - 20.6
#      - 1.06x
#      - 6.85 MiB
#    * - mnist-lenet5
#      - 1
#      - 64
#      - 15.9
#      - 1.00x
#      - (none)
#    * - mnist-lenet5
#      - 2
#      - 64
#      - 23.1
#      - 1.45x
#      - 0.24 MiB
#
# LeNet-5's step is dominated by per-operation overhead and im2col copies, which do split over two
# processes, and its gradients are small. The MLP's step is matrix products: the two cores of that
# machine share their caches and memory bandwidth, so a second process adds little, and 6.85 MiB must
# be all-reduced every step. On a cluster, with a core (or a GPU) per rank and a real interconnect, the
# cost model above is what to expect.
#
# How to launch
# -------------
# ``pip install "gradus[dist]"`` installs mpi4py and the MPICH runtime (``mpiexec``). A recipe runs
# data-parallel under ``mpiexec`` with no change; ``data.batch_size`` stays the global batch:
#
# .. code-block:: bash
#
#     mpiexec -n 2 gradus train mnist-mlp
#     mpiexec -n 2 gradus train mnist-lenet5 --distributed    # fail unless really under MPI
#
# A script of one's own does what the Trainer does:
#
# .. code-block:: python
#
#     dist.init_process_group()                        # a world of one without mpiexec
#     ddp = dist.DistributedDataParallel(net)          # rank 0's weights on every rank
#     opt = gradus.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
#     sampler = dist.DistributedSampler(train_ds, seed=0)
#     loader = DataLoader(train_ds, batch_size=B // dist.get_world_size(), sampler=sampler)
#     for epoch in range(num_epochs):
#         sampler.set_epoch(epoch)                     # a new order, the same on every rank
#         for X, y in loader:
#             opt.zero_grad()
#             F.cross_entropy(ddp(X), y).backward()    # .grad = the ranks' average
#             opt.step()
#
# Rank 0 alone prints and writes files; an exception on any rank aborts all of them (no hang). Several
# nodes, threads per rank and hostfiles are in :source:`docs/distributed.md`.
#
# The GPU backend (CuPy)
# ----------------------
# A GPU runs thousands of arithmetic units in parallel; for the large matrix products of deep learning
# it is one to two orders of magnitude faster than a CPU core. gradus reaches it through **CuPy**, a
# GPU array library with NumPy's interface: every operation body asks ``xp = get_array_module(x)``
# and calls ``xp.matmul``, ``xp.exp``, ... so the same code runs on NumPy arrays (CPU) and CuPy arrays
# (GPU) (:source:`src/gradus/backend.py`). The user-facing side is PyTorch's: ``gradus.device``,
# ``Tensor.to("cuda")``, ``Module.to("cuda")``, ``device=`` in the creation functions, and
# ``gradus.cuda_is_available()``. CuPy is imported only when a CUDA device is asked for.

print("gradus.cuda_is_available():", gradus.cuda_is_available())
device = gradus.device("cuda" if gradus.cuda_is_available() else "cpu")
model = MLP([784, 128, 10]).to(device)                          # moves parameters and buffers, in place
x = gradus.tensor(X_all[:8]).to(device)
print("device:", device, "| input on", x.device, "| parameters on", next(model.parameters()).device,
      "| output on", model(x).device)
try:
    gradus.ones(3).to("cuda")
    print("a tensor moved to cuda")
except gradus.errors.DeviceError as e:
    print("DeviceError:", e)

# %%
# What is built and what is not. **Built:** the ``xp`` idiom through the operations, ``Device``,
# ``Tensor.to`` / ``.cuda()`` / ``.cpu()``, ``Module.to`` / ``.cuda()``, ``device=`` at creation,
# device checks that name both devices when an operation mixes them, optimizers that keep their state
# on the parameter's device, GPU scatter operations through ``cupyx``, checkpoints that copy CuPy
# arrays to the host. **Not built or not verified yet:** the test suite runs without a GPU, so the
# GPU paths are checked only for their error messages and, with a fake CuPy array, for the device
# checks; no test runs the operations on a real GPU. ``gradus train`` and the Trainer have no device
# option (the DataLoader yields NumPy batches), and ``gradus.distributed`` moves host (NumPy) buffers
# only: ``DistributedDataParallel`` refuses ``device_ids``, and "one rank per GPU" waits for the CuPy
# backend's issue (issue 15 in :source:`docs/distributed.md`). The output above says on which device
# this page was built.
