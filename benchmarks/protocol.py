"""The benchmark protocol of DEVELOPERS.md, shared by ``python -m benchmarks`` and ``ab.py``.

This machine has 2 cores shared with other work, and a 2-thread OpenMP/BLAS pool collapses when a
core is taken, so a timing is only trusted when nothing else ran:

* every run is its own process (``python benchmarks/workloads.py --worker ID``), same thread count;
* before each run, wait until other processes use < ``QUIET`` core (``/proc/stat`` busy jiffies);
* after each run, subtract the run's own CPU time from the machine's busy time: if the rest
  (other processes) averaged > ``DISCARD`` core, the run is discarded;
* the frameworks alternate (A B B A A B ...), >= 5 clean runs each, and the ratio of the medians is
  what gets reported.
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUIET, DISCARD = 0.10, 0.15      # cores used by other processes: wait below QUIET, discard above DISCARD


def _busy_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def other_load(seconds: float = 1.0) -> float:
    """Cores used by everything on the machine over ``seconds`` (we are idle while sampling)."""
    b0, t0 = _busy_jiffies()
    time.sleep(seconds)
    b1, t1 = _busy_jiffies()
    return (b1 - b0) / max(t1 - t0, 1) * os.cpu_count()


def wait_quiet(max_wait: float = 900.0) -> float:
    """Block until other processes use < QUIET core (or ``max_wait`` s passed); the last load seen."""
    start = time.time()
    while True:
        load = other_load()
        if load < QUIET or time.time() - start > max_wait:
            return load
        print(f"  waiting for a quiet machine (others use {load:.2f} cores)", flush=True)


def others_during(busy_core_seconds: float, own_cpu_seconds: float, wall: float) -> float:
    """Mean cores used by *other* processes during a run: the machine's busy core-seconds minus the
    run's own CPU time, over its wall time (never negative: jiffies are coarse)."""
    return max(busy_core_seconds - own_cpu_seconds, 0.0) / max(wall, 1e-9)


def worker_env(framework: str, root: Path | None = None) -> dict[str, str]:
    """The environment of a worker process: for gradus, the source tree ``root``'s ``src/`` on
    PYTHONPATH; for PyTorch, this environment without PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if framework == "gradus":
        env["PYTHONPATH"] = str(Path(root) / "src")
    return env


def run_worker(args: list[str], env: dict[str, str], threads: int) -> tuple[dict, float]:
    """Run ``python workloads.py --worker ...args`` in its own process with ``threads`` BLAS/OpenMP
    threads; (its JSON report, cores used by other processes meanwhile)."""
    env = dict(env, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    b0, t0 = _busy_jiffies()
    c0, w0 = _children_cpu(), time.perf_counter()
    out = subprocess.run([sys.executable, str(HERE / "workloads.py"), "--worker", *args,
                          "--threads", str(threads)], env=env, capture_output=True, text=True, cwd=HERE)
    wall, own = time.perf_counter() - w0, _children_cpu() - c0
    b1, t1 = _busy_jiffies()
    if out.returncode:
        raise SystemExit(f"benchmark worker {' '.join(args)} failed:\n{out.stderr[-4000:]}")
    busy = (b1 - b0) / max(t1 - t0, 1) * os.cpu_count() * wall
    return json.loads(out.stdout.strip().splitlines()[-1]), others_during(busy, own, wall)


def alternated(runs: int, names: tuple[str, ...], measure, max_discarded: int | None = None, log=print):
    """Clean measurements for one or two contenders, alternated A B B A A B ... until each has ``runs``.

    ``measure(name) -> (report, others)``; a report whose ``others`` exceeds DISCARD is discarded
    (at most ``max_discarded``, default 4 * runs, then what is clean is returned). Returns
    ({name: [report, ...]}, number discarded)."""
    clean = {n: [] for n in names}
    discarded, limit = 0, 4 * runs if max_discarded is None else max_discarded
    while min(len(v) for v in clean.values()) < runs and discarded < limit:
        order = names if sum(map(len, clean.values())) % 4 < 2 else names[::-1]
        for name in order:
            if len(clean[name]) >= runs:
                continue
            wait_quiet()
            report, others = measure(name)
            if others > DISCARD:
                discarded += 1
                log(f"    {name}: DISCARDED (others used {others:.2f} cores)")
                continue
            clean[name].append(report)
            what = (f"{report['gflops']:.1f} GFLOP/s" if "gflops" in report
                    else f"{report['seconds'] * 1e3:.3f} ms/step")
            log(f"    {name}: {what}, peak RSS {report.get('max_rss_mib', 0):.0f} MiB "
                f"(others {others:.2f} cores)")
    return clean, discarded
