"""CNN training step, gradus vs PyTorch in one run (same process, warm-up, interleaved repeats, median).

Workloads (batch 64, float32, random data, SGD momentum 0.9, cross-entropy):
  lenet    LeNet-5-like on 1x32x32: conv5x5 6 -> relu -> maxpool 2 -> conv5x5 16 -> relu -> maxpool 2
           -> fc 120 -> relu -> fc 84 -> relu -> fc 10
  resnet   ResNet-20 on 3x32x32 (He et al. 2016, CIFAR): conv3x3 16 + BN + ReLU, 3 stages x 3 basic
           blocks (16, 32, 64 channels, stride 2 at stages 2 and 3 with a 1x1 conv + BN projection
           shortcut), global average pool, fc 10

The SAME model code builds both networks: it only uses the ``nn`` namespace it is given (gradus.nn or
torch.nn), which is the point of PyTorch-shaped APIs.

Run:      python benchmarks/bench_cnn.py [--threads 2] [--only lenet,resnet]
Profile:  python benchmarks/bench_cnn.py --profile resnet   (cProfile of gradus steps, top functions)
Loaded machine:  OPENBLAS_NUM_THREADS=1 python benchmarks/bench_cnn.py --cpu-time
          (both frameworks on one thread, timed in process CPU time instead of wall time: other
          processes then barely change the numbers, but it measures 1-thread speed)
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from common import interleaved, machine, report, setup_threads

BATCH = 64


# ---------------------------------------------------------------------------------------------
# models, written once against an `nn` namespace
# ---------------------------------------------------------------------------------------------
def lenet(nn):
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),          # (B, 6, 14, 14)
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),         # (B, 16, 5, 5)
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    )


def resnet20(nn):
    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU()
            self.shortcut = nn.Sequential()
            if stride != 1 or cin != cout:
                self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                              nn.BatchNorm2d(cout))

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return self.relu(out + self.shortcut(x))

    layers = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
    cin = 16
    for cout, stride in ((16, 1), (32, 2), (64, 2)):
        for i in range(3):
            layers.append(BasicBlock(cin, cout, stride if i == 0 else 1))
            cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    return nn.Sequential(*layers)


WORKLOADS = {"lenet": (lenet, (1, 32, 32)), "resnet": (resnet20, (3, 32, 32))}


# ---------------------------------------------------------------------------------------------
# training steps
# ---------------------------------------------------------------------------------------------
def gradus_step(build, X, y):
    import gradus
    import gradus.functional as F
    from gradus import nn, optim

    gradus.manual_seed(0)
    net = build(nn)
    opt = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    Xt, yt = gradus.tensor(X), gradus.tensor(y)

    def step():
        loss = F.cross_entropy(net(Xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return step


def torch_step(build, X, y):
    import torch
    import torch.nn.functional as F
    from torch import nn, optim

    torch.manual_seed(0)
    net = build(nn)
    opt = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def step():
        loss = F.cross_entropy(net(Xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return step


def data(shape):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((BATCH,) + shape).astype(np.float32)
    y = rng.integers(0, 10, BATCH).astype(np.int64)
    return X, y


def profile(name: str, steps: int = 5, top: int = 25) -> None:
    import cProfile
    import pstats
    import time

    build, shape = WORKLOADS[name]
    step = gradus_step(build, *data(shape))
    step()
    pr = cProfile.Profile(time.process_time)   # CPU time: robust to other processes on the machine
    pr.enable()
    for _ in range(steps):
        step()
    pr.disable()
    print(f"cProfile (CPU time) of {steps} gradus {name} steps (batch {BATCH}), sorted by own time:")
    pstats.Stats(pr).sort_stats("tottime").print_stats(top)


def interleaved_cpu(fns: dict, warmup: int, repeats: int, inner: int) -> dict:
    """Like ``common.interleaved`` but in process CPU time (robust to other load; 1 thread only)."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    samples = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            t0 = time.process_time()
            for _ in range(inner):
                fn()
            samples[k].append((time.process_time() - t0) / inner)
    return {k: statistics.median(v) for k, v in samples.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2, help="BLAS / torch intra-op threads (default 2)")
    ap.add_argument("--only", default=",".join(WORKLOADS), help="comma-separated workloads")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--profile", choices=sorted(WORKLOADS), help="profile gradus on one workload instead")
    ap.add_argument("--cpu-time", action="store_true",
                    help="1 thread, process CPU time (set OPENBLAS_NUM_THREADS=1 too)")
    args = ap.parse_args()
    if args.cpu_time:
        args.threads = 1
    setup_threads(args.threads)
    if args.profile:
        profile(args.profile)
        return
    clock = "process CPU time" if args.cpu_time else "wall time"
    print(f"# CNN training step, batch {BATCH}, float32, SGD(momentum=0.9); {machine()}; "
          f"{args.threads} threads; {clock}")
    for name in args.only.split(","):
        build, shape = WORKLOADS[name]
        X, y = data(shape)
        timer = interleaved_cpu if args.cpu_time else interleaved
        times = timer({"gradus": gradus_step(build, X, y), "torch": torch_step(build, X, y)},
                      warmup=2, repeats=args.repeats, inner=2)
        print(report(f"{name} ({'x'.join(map(str, shape))})", BATCH, times["gradus"], times["torch"]))


if __name__ == "__main__":
    main()
