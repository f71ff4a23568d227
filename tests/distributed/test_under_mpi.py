"""The tests that run on every rank of ``mpiexec -n 2`` (launched by ``test_distributed.py``).

Collected directly (plain ``pytest``) they skip: they need ``GRADUS_MPI_TESTS=1`` and a world of two,
which ``test_distributed.py::test_the_mpi_suite_passes_under_mpiexec`` sets up::

    GRADUS_MPI_TESTS=1 mpiexec -n 2 python -m pytest -q -p no:cacheprovider \
        tests/distributed/test_under_mpi.py

Every test runs on both ranks with the same arguments; where one process is the reference, each rank
computes it itself (the whole global batch, no communication) and compares with what DDP gave. A
failing test aborts both ranks (``conftest.py``), so a failure never turns into a hang.
"""
from __future__ import annotations

import copy
import os

import numpy as np
import pytest

import gradus
import gradus.functional as F
from gradus import nn

pytestmark = pytest.mark.skipif(os.environ.get("GRADUS_MPI_TESTS") != "1",
                                reason="runs under mpiexec -n 2 (test_distributed.py launches it)")

dist = pytest.importorskip("gradus.distributed")


@pytest.fixture(scope="module", autouse=True)
def world():
    dist.init_process_group()
    assert dist.get_world_size() == 2, "run this file with mpiexec -n 2"
    yield dist.get_rank(), dist.get_world_size()
    dist.destroy_process_group()


def _gathered(a: np.ndarray) -> list[np.ndarray]:
    out = [np.empty_like(a) for _ in range(dist.get_world_size())]
    dist.all_gather(out, np.array(a, order="C"))
    return out


def _data(n=48, d=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.integers(0, classes, n)


def _mlp(norm=None):
    layers = [nn.Linear(6, 16)]
    if norm is not None:
        layers.append(norm(16))
    layers += [nn.Tanh(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 3)]
    return nn.Sequential(*layers).double()


def _train(model, make_opt, X, y, order, batch, rank=0, world=1, steps=None):
    """Train on consecutive batches of ``order``; rank r of `world` takes every world-th index of a
    global batch (the DistributedSampler's split)."""
    opt = make_opt(model.parameters())
    for k, start in enumerate(range(0, len(order), batch)):
        if steps is not None and k == steps:
            break
        idx = order[start:start + batch][rank::world]
        opt.zero_grad()
        F.cross_entropy(model(gradus.tensor(X[idx])), gradus.tensor(y[idx])).backward()
        opt.step()
    return model


OPTIMIZERS = {
    "sgd-momentum": lambda ps: gradus.optim.SGD(ps, lr=0.1, momentum=0.9),
    "adam": lambda ps: gradus.optim.Adam(ps, lr=0.01),
}


# ----------------------------------------------------------------------------- collectives


def test_collectives(world):
    rank, n = world
    t = gradus.tensor([1.0, 2.0]) * (rank + 1)
    dist.all_reduce(t)
    np.testing.assert_array_equal(t.numpy(), [3.0, 6.0])
    m = gradus.tensor([float(rank)])
    dist.all_reduce(m, op=dist.ReduceOp.MAX)
    assert m.item() == n - 1
    a = gradus.tensor([2.0 * rank])
    dist.all_reduce(a, op=dist.ReduceOp.AVG)
    assert a.item() == 1.0
    b = gradus.tensor(np.full((2, 2), float(rank)))
    dist.broadcast(b, src=1)
    np.testing.assert_array_equal(b.numpy(), np.ones((2, 2)))
    out = [gradus.zeros(3, dtype=gradus.int64) for _ in range(n)]
    dist.all_gather(out, gradus.tensor([rank, rank, rank]))
    assert [o.numpy().tolist() for o in out] == [[0, 0, 0], [1, 1, 1]]
    dist.barrier()


# ----------------------------------------------------------------------------- DDP = one process


def test_construction_broadcasts_rank0_weights(world):
    rank, _ = world
    gradus.manual_seed(100 + rank)  # a different initialisation on each rank
    net = _mlp(nn.BatchNorm1d)
    net[1].running_mean.data[...] = rank
    dist.DistributedDataParallel(net)
    for name, t in list(net.named_parameters()) + list(net.named_buffers()):
        copies = _gathered(t.data)
        np.testing.assert_array_equal(copies[0], copies[1], err_msg=name)


@pytest.mark.parametrize("optim", sorted(OPTIMIZERS))
@pytest.mark.parametrize("bucket_cap_mb", [25.0, 0.0005])  # one bucket, and several
def test_two_ranks_match_one_process(world, optim, bucket_cap_mb):
    """Global batch B on 2 ranks (B/2 each) = batch B on one process, to 1e-6 after 6 steps."""
    rank, n = world
    X, y = _data()
    gradus.manual_seed(0)
    net = _mlp()
    ref = copy.deepcopy(net)
    start = copy.deepcopy(net)
    ddp = dist.DistributedDataParallel(net, bucket_cap_mb=bucket_cap_mb)
    if bucket_cap_mb < 1:
        assert len(ddp.bucket_sizes) > 1
    sampler = dist.DistributedSampler(range(len(X)), seed=3)
    order = dist.DistributedSampler(range(len(X)), num_replicas=1, rank=0, seed=3).index_array()
    # the sampler's shard, batch by batch, is what rank r's slice of each global batch is
    np.testing.assert_array_equal(sampler.index_array(), order[rank::n])
    _train(ddp, OPTIMIZERS[optim], X, y, order, batch=8, rank=rank, world=n)
    _train(ref, OPTIMIZERS[optim], X, y, order, batch=8)
    for (name, p), q, p0 in zip(net.named_parameters(), ref.parameters(), start.parameters()):
        np.testing.assert_allclose(p.data, q.data, rtol=0, atol=1e-6, err_msg=name)
        assert np.abs(p.data - p0.data).max() > 1e-3, f"{name} did not train"


def test_sync_batchnorm_matches_one_process_batchnorm(world):
    """SyncBatchNorm on 2 ranks = BatchNorm on one process with the global batch (weights and
    running statistics), with SGD momentum and Adam."""
    rank, n = world
    X, y = _data()
    order = np.random.default_rng(5).permutation(len(X))
    for make_opt in OPTIMIZERS.values():
        gradus.manual_seed(0)
        net = _mlp(nn.BatchNorm1d)
        ref = copy.deepcopy(net)
        net = dist.SyncBatchNorm.convert_sync_batchnorm(net)
        assert isinstance(net[1], dist.SyncBatchNorm)
        ddp = dist.DistributedDataParallel(net)
        _train(ddp, make_opt, X, y, order, batch=8, rank=rank, world=n)
        _train(ref, make_opt, X, y, order, batch=8)
        for (name, t), r in zip(list(net.named_parameters()) + list(net.named_buffers()),
                                list(ref.parameters()) + list(ref.buffers())):
            np.testing.assert_allclose(t.data, r.data, rtol=0, atol=1e-6, err_msg=name)


def test_plain_batchnorm_keeps_the_ranks_identical(world):
    """Plain BatchNorm normalises with each rank's own B/N samples, so 2 ranks do NOT equal one
    process (that is what SyncBatchNorm is for). What holds: the parameters stay identical on every
    rank, and each training forward starts from rank 0's running statistics (broadcast_buffers)."""
    rank, n = world
    X, y = _data()
    gradus.manual_seed(0)
    net = _mlp(nn.BatchNorm1d)
    ddp = dist.DistributedDataParallel(net)
    seen = []
    net[1].register_forward_pre_hook(lambda m, args: seen.append(m.running_mean.data.copy()))
    _train(ddp, OPTIMIZERS["sgd-momentum"], X, y, np.arange(len(X)), batch=8, rank=rank, world=n)
    for name, p in net.named_parameters():
        copies = _gathered(p.data)
        np.testing.assert_array_equal(copies[0], copies[1], err_msg=name)
    for before in seen:
        copies = _gathered(before)
        np.testing.assert_array_equal(copies[0], copies[1])
    # after the last forward each rank updated its statistics with its own samples
    last = _gathered(net[1].running_mean.data)
    assert not np.array_equal(last[0], last[1])
    ddp.sync_buffers()
    last = _gathered(net[1].running_mean.data)
    np.testing.assert_array_equal(last[0], last[1])


def test_no_sync_accumulates_then_syncs(world):
    rank, n = world
    X, y = _data(n=24)
    gradus.manual_seed(0)
    net = _mlp()
    ref = copy.deepcopy(net)
    ddp = dist.DistributedDataParallel(net)
    micro = [np.arange(k * 8, (k + 1) * 8) for k in range(3)]  # 3 global micro-batches of 8
    with ddp.no_sync():
        for idx in micro[:2]:
            idx = idx[rank::n]
            F.cross_entropy(ddp(gradus.tensor(X[idx])), gradus.tensor(y[idx])).backward()
    local = [p.grad.data.copy() for p in net.parameters()]
    copies = _gathered(local[0])
    assert not np.allclose(copies[0], copies[1]), "inside no_sync the gradients are each rank's own"
    idx = micro[2][rank::n]
    F.cross_entropy(ddp(gradus.tensor(X[idx])), gradus.tensor(y[idx])).backward()
    for idx in micro:  # the reference: the sum of the 3 micro-batch gradients of one process
        F.cross_entropy(ref(gradus.tensor(X[idx])), gradus.tensor(y[idx])).backward()
    for p, q in zip(net.parameters(), ref.parameters()):
        np.testing.assert_allclose(p.grad.data, q.grad.data, rtol=0, atol=1e-10)


def test_unused_parameters(world):
    rank, n = world

    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.body, self.a, self.b = nn.Linear(6, 4), nn.Linear(4, 3), nn.Linear(4, 3)

        def forward(self, x):
            return self.a(self.body(x))  # head b is never used

    X, y = _data(n=8)
    gradus.manual_seed(0)
    ddp = dist.DistributedDataParallel(TwoHeads().double(), find_unused_parameters=True)
    for _ in range(2):
        F.cross_entropy(ddp(gradus.tensor(X[rank::n])), gradus.tensor(y[rank::n])).backward()
    assert np.all(ddp.module.b.weight.grad.data == 0)
    copies = _gathered(ddp.module.a.weight.grad.data)
    np.testing.assert_array_equal(copies[0], copies[1])

    strict = dist.DistributedDataParallel(TwoHeads().double())
    F.cross_entropy(strict(gradus.tensor(X[rank::n])), gradus.tensor(y[rank::n])).backward()
    with pytest.raises(dist.DistributedError, match="find_unused_parameters=True"):
        strict(gradus.tensor(X[rank::n]))


# ----------------------------------------------------------------------------- the sampler


@pytest.mark.parametrize("size, drop_last", [(48, False), (11, False), (11, True), (1, False)])
def test_sampler_covers_the_dataset_once_per_epoch(world, size, drop_last):
    rank, n = world
    sampler = dist.DistributedSampler(range(size), shuffle=True, seed=7, drop_last=drop_last)
    counts = _gathered(np.array([len(sampler)]))
    assert counts[0] == counts[1], "every rank gets the same number of samples"
    epochs = []
    for epoch in range(2):
        sampler.set_epoch(epoch)
        shards = _gathered(sampler.index_array())
        everything = np.concatenate(shards)
        if drop_last:  # the tail is dropped: what is left is seen exactly once
            assert len(np.unique(everything)) == len(everything) == (size // n) * n
        else:  # every sample once, plus the padding (the first few of the order again)
            assert set(everything.tolist()) == set(range(size))
            padding = len(everything) - size
            assert padding == -size % n
            values, seen = np.unique(everything, return_counts=True)
            assert seen.sum() - len(values) == padding
        overlap = set(shards[0].tolist()) & set(shards[1].tolist())
        assert len(overlap) <= (0 if drop_last else -size % n), "the shards are disjoint (padding aside)"
        epochs.append(everything)
    if size > 2:
        assert not np.array_equal(epochs[0], epochs[1]), "set_epoch reshuffles"


# ----------------------------------------------------------------------------- the Trainer


def test_trainer_with_ddp_matches_one_process(world):
    """Trainer.fit with a DDP model and the global batch 8 (4 per rank) = one process taking the
    sampler's order in batches of 8; metrics are all-reduced (the same on every rank); dropout
    streams differ per rank while the sampler seed agrees."""
    from gradus.data import TensorDataset
    from gradus.train import Trainer

    rank, n = world
    X, y = _data(n=32)
    ds = TensorDataset(gradus.tensor(X), gradus.tensor(y))
    gradus.manual_seed(0)
    net = _mlp()
    ref = copy.deepcopy(net)
    ddp = dist.DistributedDataParallel(net)
    trainer = Trainer(ddp, OPTIMIZERS["adam"](net.parameters()), seed=1)
    draws = _gathered(gradus.rand(4).numpy())
    assert not np.array_equal(draws[0], draws[1]), "dropout streams must differ per rank"
    assert len(set(_gathered(np.array([trainer.sampler_seed]))[i][0] for i in range(n))) == 1
    history = trainer.fit(ds, ds, epochs=2, batch_size=8)
    opt = OPTIMIZERS["adam"](ref.parameters())
    for epoch in range(2):
        sampler = dist.DistributedSampler(ds, num_replicas=1, rank=0, seed=trainer.sampler_seed)
        sampler.set_epoch(epoch)
        order = sampler.index_array()
        for start in range(0, len(order), 8):
            idx = order[start:start + 8]
            opt.zero_grad()
            F.cross_entropy(ref(gradus.tensor(X[idx])), gradus.tensor(y[idx])).backward()
            opt.step()
    for p, q in zip(net.parameters(), ref.parameters()):
        np.testing.assert_allclose(p.data, q.data, rtol=0, atol=1e-6)
    assert trainer.global_step == 2 * 32 // 8
    logs = _gathered(np.array([history[-1]["loss"], history[-1]["val_loss"], history[-1]["val_accuracy"]]))
    np.testing.assert_array_equal(logs[0], logs[1])
    from gradus.data import DataLoader
    from gradus.train import evaluate

    full = evaluate(ref, DataLoader(ds, batch_size=32), "cross_entropy")
    np.testing.assert_allclose(history[-1]["val_loss"], full["loss"], rtol=1e-9)
    np.testing.assert_allclose(history[-1]["val_accuracy"], full["accuracy"], rtol=1e-9)
