"""Steps per second of data-parallel training (``DistributedDataParallel`` on MPI) for 1, 2, ... processes.

    python benchmarks/distributed_step.py                          # mnist-mlp and mnist-lenet5, 1 and 2 procs
    python benchmarks/distributed_step.py --recipes mnist-mlp --procs 1 2 4 --steps 100
    python benchmarks/distributed_step.py --bind                   # mpiexec -bind-to core (one core per rank)

Each configuration runs in its own ``mpiexec -n N`` (the mpich wheel's launcher: ``pip install
"gradus[dist]"``), one BLAS/OpenMP thread per rank. The model is the recipe's own (``build_model``),
the data synthetic (random inputs of the recipe's shape, random labels: the step time does not depend
on the values), the optimizer the recipe's. The *global* batch is the recipe's ``data.batch_size``
(``--batch`` overrides it) and each rank takes ``batch / N`` of it -- strong scaling, what
``mpiexec -n N gradus train`` does -- so ideal scaling doubles steps/s from 1 to 2 processes.

Timed: ``--steps`` full steps (zero_grad, forward, loss, backward with the bucketed all-reduce,
optimizer step) after ``--warmup`` untimed ones, between two barriers; the step time is the slowest
rank's. Printed: a Markdown table (steps/s, samples/s, speed-up over one process, ms per step, the
gradient bytes all-reduced per step and the DDP buckets). Run it on a quiet machine: other processes
on the same cores make the numbers meaningless (the one-process baseline suffers first).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Input shapes (without the batch dim) and classes of the recipes' datasets: synthetic data needs no download.
INPUTS = {
    "digits": ((64,), 10),
    "mnist": ((784,), 10),
    "mnist-image": ((1, 32, 32), 10),  # LeNet-5 recipes pad MNIST to 32x32
    "cifar10": ((3, 32, 32), 10),
}
DEFAULT_RECIPES = ["mnist-mlp", "mnist-lenet5"]


def _input_shape(config: dict) -> tuple[tuple[int, ...], int]:
    data = config["data"]
    name = data["dataset"]
    if name == "mnist" and data.get("flatten", True) is False:
        return INPUTS["mnist-image"]
    if name not in INPUTS:
        raise SystemExit(f"distributed_step.py: no synthetic input shape for dataset {name!r} of recipe "
                         f"{config['recipe']['name']!r}; known: {sorted(INPUTS)}")
    return INPUTS[name]


# --------------------------------------------------------------------------------------- one rank


def worker(recipe: str, steps: int, warmup: int, batch: int | None) -> None:
    import numpy as np

    import gradus
    import gradus.distributed as dist
    from gradus.recipes import load_recipe
    from gradus.recipes.runners import build_model, build_optimizer
    from gradus.train.trainer import resolve_loss

    dist.init_process_group()
    rank, world = dist.get_rank(), dist.get_world_size()
    config = load_recipe(recipe)
    global_batch = int(batch or config["data"]["batch_size"])
    if global_batch % world:
        raise SystemExit(f"the global batch {global_batch} does not split over {world} processes")
    local = global_batch // world
    shape, classes = _input_shape(config)
    gradus.manual_seed(0)
    model = build_model(config)
    ddp = dist.DistributedDataParallel(model)
    optimizer = build_optimizer(config, model)
    loss_fn = resolve_loss(config["train"].get("loss", "cross_entropy"))
    rng = np.random.default_rng(rank)
    X = gradus.tensor(rng.standard_normal((local, *shape)).astype(np.float32))
    y = gradus.tensor(rng.integers(0, classes, local))

    def step():
        optimizer.zero_grad()
        loss_fn(ddp(X), y).backward()
        optimizer.step()

    for _ in range(warmup):
        step()
    dist.barrier()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    dist.barrier()
    elapsed = np.array([time.perf_counter() - t0])
    dist.all_reduce(elapsed, op=dist.ReduceOp.MAX)
    if rank == 0:
        n_params = sum(int(p.numel()) for p in model.parameters() if p.requires_grad)
        itemsize = next(model.parameters()).data.dtype.itemsize
        print("RESULT " + json.dumps({
            "recipe": recipe, "procs": world, "global_batch": global_batch, "steps": steps,
            "seconds": float(elapsed[0]), "params": n_params, "grad_bytes": n_params * itemsize,
            "buckets": ddp.bucket_sizes,
        }), flush=True)


# --------------------------------------------------------------------------------------- the driver


def run_one(mpiexec: str, recipe: str, procs: int, args: argparse.Namespace) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    cmd = [mpiexec, "-n", str(procs)] + (["-bind-to", "core"] if args.bind else []) + [
        sys.executable, str(Path(__file__).resolve()), "--worker", recipe, "--steps", str(args.steps),
        "--warmup", str(args.warmup)] + (["--batch", str(args.batch)] if args.batch else [])
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=args.timeout)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise SystemExit(f"{' '.join(cmd)} failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n"
                     f"{proc.stderr[-3000:]}")


def table(rows: list[dict]) -> str:
    out = ["| recipe | procs | global batch | steps/s | samples/s | speed-up | ms/step | "
           "all-reduced per step | buckets (elements) |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    base = {r["recipe"]: r["seconds"] / r["steps"] for r in rows if r["procs"] == 1}
    for r in rows:
        per_step = r["seconds"] / r["steps"]
        speedup = f"{base[r['recipe']] / per_step:.2f}x" if r["recipe"] in base else "-"
        buckets = ", ".join(f"{b:,}" for b in r["buckets"]) or "- (one process: none)"
        out.append(f"| {r['recipe']} | {r['procs']} | {r['global_batch']} | {1 / per_step:.1f} | "
                   f"{r['global_batch'] / per_step:,.0f} | {speedup} | {1000 * per_step:.1f} | "
                   f"{r['grad_bytes'] / 2**20:.2f} MiB | {buckets} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--recipes", nargs="+", default=DEFAULT_RECIPES)
    p.add_argument("--procs", nargs="+", type=int, default=[1, 2])
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--batch", type=int, default=None, help="global batch (default: the recipe's)")
    p.add_argument("--bind", action="store_true", help="mpiexec -bind-to core")
    p.add_argument("--timeout", type=float, default=1800)
    p.add_argument("--worker", metavar="RECIPE", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        worker(args.worker, args.steps, args.warmup, args.batch)
        return 0
    beside = Path(sys.executable).parent / "mpiexec"  # the mpich wheel's, in this environment
    mpiexec = str(beside) if beside.is_file() else shutil.which("mpiexec")
    if mpiexec is None:
        raise SystemExit('distributed_step.py: mpiexec not found: pip install "gradus[dist]"')
    rows = []
    for recipe in args.recipes:
        for procs in args.procs:
            rows.append(run_one(mpiexec, recipe, procs, args))
            print(f"  {recipe} on {procs}: {rows[-1]['steps'] / rows[-1]['seconds']:.1f} steps/s",
                  file=sys.stderr, flush=True)
    print(f"steps/s of DDP training, {args.steps} steps after {args.warmup} warm-up, "
          f"one thread per rank{', bound to cores' if args.bind else ''} ({os.cpu_count()} CPUs)\n")
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
