"""Shared timing helpers: gradus and PyTorch are timed side by side in ONE process, with warm-up,
the median of several repeats, and the same thread count (the machine is noisy: compare ratios)."""
from __future__ import annotations

import os
import platform
import statistics
import time

_limiter = None


def setup_threads(n: int | None = None) -> int:
    """Give both frameworks the same number of threads (default: all cores): PyTorch's intra-op
    pool and NumPy's BLAS pool (through threadpoolctl when installed; else OPENBLAS_NUM_THREADS,
    which must be set before NumPy is imported, e.g. on the command line)."""
    global _limiter
    n = n or int(os.environ.get("OPENBLAS_NUM_THREADS", 0)) or os.cpu_count() or 1
    try:
        import torch

        torch.set_num_threads(n)
    except ImportError:
        pass
    try:
        from threadpoolctl import threadpool_limits

        _limiter = threadpool_limits(limits=n)
    except ImportError:
        pass
    return n


def time_fn(fn, warmup: int = 3, repeats: int = 7, inner: int = 5) -> float:
    """Median seconds per call of ``fn`` over ``repeats`` blocks of ``inner`` calls, after warm-up."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - t0) / inner)
    return statistics.median(samples)


def interleaved(fns: dict, warmup: int = 3, repeats: int = 7, inner: int = 5) -> dict:
    """Time several functions with their repeats interleaved (A B A B ...), so background load hits
    all of them alike. Returns the median seconds per call of each."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    samples = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            for _ in range(inner):
                fn()
            samples[k].append((time.perf_counter() - t0) / inner)
    return {k: statistics.median(v) for k, v in samples.items()}


def machine() -> str:
    import numpy as np

    try:
        import torch

        tv = torch.__version__
    except ImportError:
        tv = "absent"
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}, NumPy {np.__version__}, torch {tv}")


def report(name: str, batch: int, t_gradus: float, t_torch: float) -> str:
    """One line: samples/s of each and the ratio (>1 means gradus is faster)."""
    sg, st = batch / t_gradus, batch / t_torch
    return (f"{name:<34} gradus {sg:>10.0f} samples/s ({t_gradus * 1e3:7.2f} ms)   "
            f"torch {st:>10.0f} samples/s ({t_torch * 1e3:7.2f} ms)   ratio {sg / st:5.2f}x")
