"""Per-op overhead on tiny tensors (where Python bookkeeping, not arithmetic, is the cost),
gradus vs PyTorch in one run. Prints microseconds per call for forward (with a graph recorded)
and for forward+backward.

Run:  python benchmarks/bench_ops.py
"""
from __future__ import annotations

import numpy as np
from common import interleaved, machine, setup_threads

OPS = {
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "matmul": lambda a, b: a @ b,
    "relu": lambda a, b: a.relu(),
    "exp": lambda a, b: a.exp(),
    "sum": lambda a, b: a.sum(),
    "mean(dim)": lambda a, b: a.mean(1),
    "reshape": lambda a, b: a.reshape(16),
    "getitem": lambda a, b: a[1:3],
    "scalar mul": lambda a, b: a * 2.0,
}


def main():
    import argparse

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", type=int, default=1, help="tiny tensors: 1 thread for both (default)")
    args = ap.parse_args()
    setup_threads(args.threads)
    import torch

    import gradus

    print(f"# {machine()}; 4x4 float32 tensors; microseconds per call (lower is better)")
    print(f"{'op':<12} {'gradus fwd':>11} {'torch fwd':>10} {'ratio':>6}   "
          f"{'gradus f+b':>11} {'torch f+b':>10} {'ratio':>6}")
    an = np.random.default_rng(0).random((4, 4), dtype=np.float32)
    ga, gb = gradus.tensor(an, requires_grad=True), gradus.tensor(an, requires_grad=True)
    ta, tb = torch.tensor(an, requires_grad=True), torch.tensor(an, requires_grad=True)
    ratios = []
    for name, op in OPS.items():
        fwd = interleaved({"g": lambda op=op: op(ga, gb), "t": lambda op=op: op(ta, tb)},
                          warmup=50, repeats=7, inner=400)

        def gfb(op=op):
            op(ga, gb).sum().backward()

        def tfb(op=op):
            op(ta, tb).sum().backward()

        fb = interleaved({"g": gfb, "t": tfb}, warmup=20, repeats=7, inner=200)
        r1, r2 = fwd["t"] / fwd["g"], fb["t"] / fb["g"]
        ratios.append(r2)
        print(f"{name:<12} {fwd['g'] * 1e6:11.1f} {fwd['t'] * 1e6:10.1f} {r1:6.2f}   "
              f"{fb['g'] * 1e6:11.1f} {fb['t'] * 1e6:10.1f} {r2:6.2f}", flush=True)
    print(f"geometric-mean speed ratio (forward+backward, >1 = gradus faster): "
          f"{float(np.exp(np.mean(np.log(ratios)))):.2f}")


if __name__ == "__main__":
    main()
