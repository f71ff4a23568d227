"""A/B timing of two gradus source trees (before/after a change), or of gradus against PyTorch, by the
benchmark protocol (``protocol.py``): each run its own process with the same thread count, started on a
quiet machine, discarded when other processes used > 0.15 core; the two alternate, >= 5 clean runs
each, and the ratio of the medians is reported.

    python benchmarks/ab.py --a /tmp/before --b . A B C D ops     # a change, on the workloads of
    python benchmarks/ab.py --a . --b torch E                     # workloads.py (ids or aliases)

``--a`` / ``--b`` are repository roots (their ``src/`` goes first on ``PYTHONPATH``; make one with
``git worktree add /tmp/before <commit>``), or ``torch`` for the workload's PyTorch twin. For the full
gradus-vs-PyTorch table with peak RSS and GFLOP/s use ``python -m benchmarks``. Ratio > 1: B is faster.
"""
from __future__ import annotations

import argparse
import os
import statistics
from pathlib import Path

import protocol
import workloads


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("workloads", nargs="*", default=["A", "B", "C", "D", "ops"])
    ap.add_argument("--a", type=Path, required=True, help="repository root of tree A (before), or torch")
    ap.add_argument("--b", type=Path, required=True, help="repository root of tree B (after), or torch")
    ap.add_argument("--runs", type=int, default=5, help="clean runs per tree (default 5)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    trees = {k: ("torch" if str(v) == "torch" else v.resolve()) for k, v in (("A", args.a), ("B", args.b))}

    def measure(k, wid, threads):
        framework = "torch" if trees[k] == "torch" else "gradus"
        env = protocol.worker_env(framework, None if framework == "torch" else trees[k])
        return protocol.run_worker([wid, "--framework", framework], env, threads)

    print(f"# A = {trees['A']}\n# B = {trees['B']}\n# {os.cpu_count()} cores; {args.runs} clean runs per "
          f"tree, alternated; others < {protocol.QUIET} core to start, runs with others > "
          f"{protocol.DISCARD} discarded", flush=True)
    rows = []
    for name in args.workloads:
        wid = workloads.ALIASES.get(name, name)
        if wid not in workloads.WORKLOADS:
            ap.error(f"unknown workload {name!r}; known: {list(workloads.WORKLOADS)}, aliases "
                     f"{list(workloads.ALIASES)}")
        threads = workloads.WORKLOADS[wid].threads or args.threads
        print(f"{wid}: {workloads.WORKLOADS[wid].name}", flush=True)
        clean, discarded = protocol.alternated(
            args.runs, ("A", "B"), lambda k, wid=wid, threads=threads: measure(k, wid, threads),
            log=lambda s: print(s, flush=True))
        if not clean["A"] or not clean["B"]:
            print(f"  {wid}: no clean run (the machine never became quiet); skipped")
            continue
        ma, mb = (statistics.median(r["seconds"] for r in clean[k]) for k in ("A", "B"))
        rows.append((wid, threads, ma, mb, ma / mb, len(clean["A"]), len(clean["B"]), discarded))
    print("\n| workload | threads | A median | B median | speed B/A | clean runs A/B | discarded |")
    print("|---|---|---|---|---|---|---|")
    for w, th, ma, mb, r, na, nb, d in rows:
        unit, f = ("µs", 1e6) if w == "ops" else ("ms", 1e3)
        print(f"| {w} | {th} | {ma * f:.2f} {unit} | {mb * f:.2f} {unit} | {r:.3f} | {na}/{nb} | {d} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
