"""MLP training step, gradus vs PyTorch in one run.

Workloads (batch 128, float32, random MNIST-shaped data):
  raw   784-1000-1000-10 ReLU MLP written with bare tensors (matmul, relu, logsumexp, SGD by hand)
  nn    the same MLP with nn.Linear + F.cross_entropy + optim.SGD(momentum=0.9)
  adam  the same with optim.Adam
  dmlp  the lecture's deep MLP 784-2500-2000-1500-1000-500-10 with nn + SGD

Run:  python benchmarks/bench_mlp.py [--threads N] [--only raw,nn,...]
"""
from __future__ import annotations

import argparse

import numpy as np
from common import interleaved, machine, report, setup_threads

BATCH = 128


def raw_gradus(sizes, X, y, lr=0.01):
    import gradus

    gradus.manual_seed(0)
    params = []
    for i, o in zip(sizes[:-1], sizes[1:]):
        params += [(gradus.randn(i, o) * (2.0 / i) ** 0.5).requires_grad_(),
                   gradus.zeros(o, requires_grad=True)]
    Xt, yt = gradus.tensor(X), gradus.tensor(y)
    rows = gradus.arange(BATCH)

    def step():
        h = Xt
        for k in range(0, len(params), 2):
            h = h @ params[k] + params[k + 1]
            if k < len(params) - 2:
                h = h.relu()
        loss = (h.logsumexp(1) - h[rows, yt]).mean()   # cross-entropy from logits
        for p in params:
            p.grad = None
        loss.backward()
        with gradus.no_grad():
            for p in params:
                p.data -= lr * p.grad.data
        return loss

    return step


def raw_torch(sizes, X, y, lr=0.01):
    import torch

    torch.manual_seed(0)
    params = []
    for i, o in zip(sizes[:-1], sizes[1:]):
        params += [(torch.randn(i, o) * (2.0 / i) ** 0.5).requires_grad_(),
                   torch.zeros(o, requires_grad=True)]
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    rows = torch.arange(BATCH)

    def step():
        h = Xt
        for k in range(0, len(params), 2):
            h = h @ params[k] + params[k + 1]
            if k < len(params) - 2:
                h = h.relu()
        loss = (h.logsumexp(1) - h[rows, yt]).mean()
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
        return loss

    return step


def _mlp(nn, sizes):
    layers = []
    for k, (i, o) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(i, o))
        if k < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def nn_gradus(sizes, X, y, opt="sgd"):
    import gradus
    import gradus.functional as F
    from gradus import nn, optim

    gradus.manual_seed(0)
    net = _mlp(nn, sizes)
    o = (optim.SGD(net.parameters(), lr=0.01, momentum=0.9) if opt == "sgd"
         else optim.Adam(net.parameters(), 1e-3))
    Xt, yt = gradus.tensor(X), gradus.tensor(y)

    def step():
        loss = F.cross_entropy(net(Xt), yt)
        o.zero_grad()
        loss.backward()
        o.step()
        return loss

    return step


def nn_torch(sizes, X, y, opt="sgd"):
    import torch
    import torch.nn.functional as F
    from torch import nn, optim

    torch.manual_seed(0)
    net = _mlp(nn, sizes)
    o = (optim.SGD(net.parameters(), lr=0.01, momentum=0.9) if opt == "sgd"
         else optim.Adam(net.parameters(), 1e-3))
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def step():
        loss = F.cross_entropy(net(Xt), yt)
        o.zero_grad()
        loss.backward()
        o.step()
        return loss

    return step


MLP = [784, 1000, 1000, 10]
DMLP = [784, 2500, 2000, 1500, 1000, 500, 10]
WORKLOADS = {
    "raw": ("MLP 784-1000-1000-10 (bare tensors)", raw_gradus, raw_torch, MLP, {}),
    "nn": ("MLP 784-1000-1000-10 (nn, SGD)", nn_gradus, nn_torch, MLP, {"opt": "sgd"}),
    "adam": ("MLP 784-1000-1000-10 (nn, Adam)", nn_gradus, nn_torch, MLP, {"opt": "adam"}),
    "dmlp": ("deep MLP 784-2500-...-10 (nn, SGD)", nn_gradus, nn_torch, DMLP, {"opt": "sgd"}),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--only", default=",".join(WORKLOADS))
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    n = setup_threads(args.threads)
    print(f"# {machine()}; threads={n}; batch={BATCH}; median of {args.repeats} repeats after warm-up")
    rng = np.random.default_rng(0)
    X = rng.random((BATCH, 784), dtype=np.float32)
    y = rng.integers(0, 10, BATCH).astype(np.int64)
    for key in args.only.split(","):
        title, g, t, sizes, kw = WORKLOADS[key]
        res = interleaved({"gradus": g(sizes, X, y, **kw), "torch": t(sizes, X, y, **kw)},
                          repeats=args.repeats, inner=3 if key == "dmlp" else 5)
        print(report(title, BATCH, res["gradus"], res["torch"]), flush=True)


if __name__ == "__main__":
    main()
