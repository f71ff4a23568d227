"""Where a workload's time goes: sample gradus with ``py-spy --native`` and sort the samples into
GEMM, copies (im2col, padding, transposes, concatenation), elementwise ufunc loops, reductions,
allocation, and Python/interpreter overhead.

    python benchmarks/breakdown.py C D E         # one thread each, ~15 s of steps per workload
    python benchmarks/breakdown.py --seconds 30 --threads 2 D

Needs ``pip install py-spy``. A sample is classified by its stack: any BLAS frame (``gemm``,
``gemv``, OpenBLAS kernels) is GEMM; otherwise the innermost native frame decides (a reduction
ufunc, an elementwise loop, a memory copy, malloc/free); a sample with no native frame below the
interpreter is Python overhead. Proportions stay valid on a shared core (being descheduled hits every
frame alike), so this runs while other work does - unlike the timings of ``python -m benchmarks``.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
# "other": mostly NumPy's own per-call bookkeeping (array creation, dtype discovery, dispatch)
CATEGORIES = ["GEMM", "copies", "elementwise", "reductions", "allocation", "Python overhead", "other"]

_GEMM = ("gemm", "gemv", "openblas", "cblas_", "sgemm", "dgemm", "_kernel_")
_REDUCE = ("reduce", "_sum", "add_reduce", "maximum_reduce", "argmax", "argmin", "PyUFunc_Reduce")
_COPY = ("memcpy", "memmove", "copy", "_strided_to_", "_contig_to_", "raw_array_assign", "assign_",
         "PyArray_Concatenate", "take", "put", "transpose", "cast", "_swap", "npy_fastput", "mapiter",
         "subscript", "fancy")
_ALLOC = ("malloc", "free", "calloc", "realloc", "mmap", "munmap", "PyDataMem", "npy_alloc", "brk",
          "default_alloc", "_int_free", "arena", "page")
_ELEMENTWISE = ("FLOAT_", "DOUBLE_", "_loop", "simd", "avx", "AVX", "sse", "ufunc", "exp", "tanh",
                "log", "sqrt", "maximum", "minimum", "where", "multiply", "divide", "subtract", "add")
_PY = (".py:", ".py)", "<frozen ")


def _native(frame: str) -> bool:
    return not any(p in frame for p in _PY)


def classify(stack: list[str]) -> str:
    """The category of one sample, ``stack`` from the outermost frame to the innermost."""
    if any(any(g in f.lower() for g in _GEMM) for f in stack if _native(f)):
        return "GEMM"
    # the native frames below the innermost Python frame
    last_py = max((i for i, f in enumerate(stack) if not _native(f)), default=-1)
    below = stack[last_py + 1:]
    if not below or all("libpython" in f for f in below):        # the interpreter itself, its GC
        return "Python overhead"
    names = " ".join(f.split(" (")[0] for f in below)
    if any(k in names for k in _ALLOC):
        return "allocation"
    if any(k in names for k in _REDUCE):
        return "reductions"
    if any(k in names for k in _COPY):
        return "copies"
    if any(k in names for k in _ELEMENTWISE):
        return "elementwise"
    return "other"


def parse_raw(text: str) -> Counter:
    """py-spy's raw format (``frame;frame;... count`` per line) -> Counter of categories, counting only
    samples inside a workload's step function (not the imports and model building before it)."""
    out: Counter = Counter()
    for line in text.splitlines():
        frames, _, count = line.rpartition(" ")
        if frames and count.isdigit() and "<locals>.step (workloads.py" in frames:
            out[classify(frames.split(";"))] += int(count)
    return out


def profile(wid: str, seconds: float, threads: int) -> Counter:
    script = (f"import sys, time; sys.path.insert(0, {str(HERE)!r}); import workloads; "
              f"step = workloads.build({wid!r}, 'gradus'); step(); t0 = time.perf_counter()\n"
              f"while time.perf_counter() - t0 < {seconds}: step()")
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.txt"
        subprocess.run(["py-spy", "record", "--native", "-r", "200", "-f", "raw", "-o", str(raw), "--",
                        sys.executable, "-c", script], env=env, check=True, capture_output=True)
        return parse_raw(raw.read_text())


def main() -> int:
    sys.path.insert(0, str(HERE))
    import workloads

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("workloads", nargs="*", default=["A", "B", "C", "D", "E", "F", "G", "H"])
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    print("| id | workload | " + " | ".join(CATEGORIES) + " | samples |")
    print("|---|---|" + "---|" * (len(CATEGORIES) + 1))
    for name in args.workloads:
        wid = workloads.ALIASES.get(name, name)
        counts = profile(wid, args.seconds, args.threads)
        total = sum(counts.values()) or 1
        cells = " | ".join(f"{counts[c] / total:.0%}" for c in CATEGORIES)
        print(f"| {wid} | {workloads.WORKLOADS[wid].name} | {cells} | {total} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
