"""Run every benchmark (gradus vs PyTorch side by side, one process per workload family) and
print their reports. Needs PyTorch (`pip install torch==2.13.0`).

    python benchmarks/run.py                # all
    python benchmarks/run.py mlp ops        # some: bench_<name>.py
    python benchmarks/run.py --threads 2    # same thread count for NumPy's BLAS and PyTorch

Run it on an otherwise idle machine and compare ratios, never absolute times across runs.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", help="benchmark names (bench_<name>.py); default: all")
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    available = sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    names = args.names or available
    unknown = [n for n in names if n not in available]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; available: {available}", file=sys.stderr)
        return 2
    status = 0
    for name in names:
        cmd = [sys.executable, str(HERE / f"bench_{name}.py")]
        if args.threads:
            cmd += ["--threads", str(args.threads)]
        print(f"\n## {name}: {' '.join(cmd[1:])}", flush=True)
        status |= subprocess.call(cmd, cwd=HERE)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
