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
"""
from __future__ import annotations

import argparse

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2, help="BLAS / torch intra-op threads (default 2)")
    ap.add_argument("--only", default=",".join(WORKLOADS), help="comma-separated workloads")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--profile", choices=sorted(WORKLOADS), help="profile gradus on one workload instead")
    args = ap.parse_args()
    setup_threads(args.threads)
    if args.profile:
        profile(args.profile)
        return
    print(f"# CNN training step, batch {BATCH}, float32, SGD(momentum=0.9); {machine()}; "
          f"{args.threads} threads")
    for name in args.only.split(","):
        build, shape = WORKLOADS[name]
        X, y = data(shape)
        times = interleaved({"gradus": gradus_step(build, X, y), "torch": torch_step(build, X, y)},
                            warmup=2, repeats=args.repeats, inner=2)
        print(report(f"{name} ({'x'.join(map(str, shape))})", BATCH, times["gradus"], times["torch"]))


if __name__ == "__main__":
    main()
