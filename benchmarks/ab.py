"""A/B timing of gradus workloads between two source trees (before/after a change), by the
benchmark protocol of DEVELOPERS.md: every run in its own process with the same thread count, only
on a quiet machine (other processes < 0.1 core, read from /proc/stat minus our own CPU time), runs
during which others used > 0.15 core discarded, trees alternated, the median of >= 5 clean runs each,
and the ratio of medians reported.

    python benchmarks/ab.py --a /tmp/before --b . mlp dmlp lenet resnet ops
    python benchmarks/ab.py --a . --b torch lstm        # gradus vs PyTorch, same protocol

``--a`` / ``--b`` are repository roots (their ``src/`` goes first on ``PYTHONPATH``; make one with
``git worktree add /tmp/before <commit>``), or ``torch`` for the same workload in PyTorch (same
thread count: ``torch.set_num_threads``). Workloads (float32, forward + backward + SGD-momentum
step, 2 threads): ``mlp`` 784-1000-1000-10 batch 128 (workload A), ``dmlp`` 784-2500-2000-1500-
1000-500-10 batch 128 (B), ``lenet`` LeNet-5 batch 64 (C), ``resnet`` ResNet-20 batch 64 (D), ``lstm``
2-layer LSTM, input 128, hidden 256, T = 64, batch 32, loss on the last step (E), ``gpt`` GPT 4 layers,
d_model 256, 4 heads, context 128, vocab 65, batch 16, Adam (F; the PyTorch twin is the same
pre-LN GPT written with torch's SDPA), ``minilm`` inference of all-MiniLM-L6-v2 on 64 sentences x 32
tokens (H; the PyTorch side is Hugging Face ``transformers``' BertModel on the same files), ``ops``
fwd+bwd time per tiny op (4x4 tensors, geometric mean over the ops of ``bench_ops.py``, 1 thread).
Ratio > 1 means B is faster.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
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


def wait_quiet(max_wait: float = 600.0) -> float:
    start = time.time()
    while True:
        load = other_load()
        if load < QUIET or time.time() - start > max_wait:
            return load
        print(f"  waiting for a quiet machine (others use {load:.2f} cores)", flush=True)


def run_once(tree: Path | str, workload: str, threads: int) -> tuple[float, float]:
    """(seconds per step, cores used by other processes during the run)."""
    framework = "torch" if str(tree) == "torch" else "gradus"
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
    if framework == "gradus":
        env["PYTHONPATH"] = str(Path(tree) / "src")
    b0, t0 = _busy_jiffies()
    c0, w0 = _children_cpu(), time.perf_counter()
    out = subprocess.run([sys.executable, __file__, "--worker", workload, "--threads", str(threads),
                          "--framework", framework], env=env, capture_output=True, text=True, cwd=HERE)
    wall, own = time.perf_counter() - w0, _children_cpu() - c0
    b1, t1 = _busy_jiffies()
    if out.returncode:
        raise SystemExit(f"worker failed for {tree}:\n{out.stderr}")
    busy_cores_s = (b1 - b0) / max(t1 - t0, 1) * os.cpu_count() * wall
    others = max(busy_cores_s - own, 0.0) / wall
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds"], others


# ---------------------------------------------------------------------------------------------
# the worker: one workload, one process
# ---------------------------------------------------------------------------------------------
def _lstm_step(framework: str):
    """Workload E: 2-layer LSTM (input 128, hidden 256), T = 64, batch 32, linear head on the last
    step, cross-entropy, SGD momentum."""
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 32, 128)).astype(np.float32)
    y = rng.integers(0, 10, 32).astype(np.int64)
    if framework == "torch":
        import torch as lib
        import torch.nn.functional as F
        from torch import nn, optim

        Xt, yt = lib.from_numpy(X), lib.from_numpy(y)
    else:
        import gradus as lib
        import gradus.functional as F
        from gradus import nn, optim

        Xt, yt = lib.tensor(X), lib.tensor(y)
    lib.manual_seed(0)
    lstm, head = nn.LSTM(128, 256, 2), nn.Linear(256, 10)
    opt = optim.SGD(list(lstm.parameters()) + list(head.parameters()), lr=0.01, momentum=0.9)

    def step():
        out, _ = lstm(Xt)
        loss = F.cross_entropy(head(out[-1]), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def _gpt_step(framework: str):
    """Workload F: GPT, 4 layers, d_model 256, 4 heads, context 128, vocab 65, batch 16, Adam."""
    import numpy as np

    rng = np.random.default_rng(0)
    idx = rng.integers(0, 65, (16, 129)).astype(np.int64)
    if framework == "gradus":
        import gradus
        from gradus.models.gpt import GPT, GPTConfig

        gradus.manual_seed(0)
        model = GPT(GPTConfig(vocab_size=65, block_size=128, n_layer=4, n_head=4, n_embd=256))
        opt = gradus.optim.Adam(model.parameters(), lr=3e-4)
        x, y = gradus.tensor(idx[:, :-1]), gradus.tensor(idx[:, 1:])

        def step():
            _, loss = model(x, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return step
    import torch
    import torch.nn.functional as F
    from torch import nn

    torch.manual_seed(0)

    class Block(nn.Module):
        def __init__(self, C, H):
            super().__init__()
            self.ln_1, self.ln_2, self.H = nn.LayerNorm(C), nn.LayerNorm(C), H
            self.c_attn, self.c_proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
            self.fc, self.proj = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)

        def forward(self, x):
            B, T, C = x.shape
            q, k, v = self.c_attn(self.ln_1(x)).split(C, 2)
            q, k, v = (t.view(B, T, self.H, C // self.H).transpose(1, 2) for t in (q, k, v))
            a = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(B, T, C)
            x = x + self.c_proj(a)
            return x + self.proj(F.gelu(self.fc(self.ln_2(x)), approximate="tanh"))

    class TorchGPT(nn.Module):
        def __init__(self, V=65, T=128, L=4, H=4, C=256):
            super().__init__()
            self.wte, self.wpe = nn.Embedding(V, C), nn.Embedding(T, C)
            self.h = nn.ModuleList(Block(C, H) for _ in range(L))
            self.ln_f = nn.LayerNorm(C)

        def forward(self, idx, targets):
            x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
            for b in self.h:
                x = b(x)
            logits = self.ln_f(x) @ self.wte.weight.T                     # tied weights
            return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))

    model = TorchGPT()
    opt = torch.optim.Adam(model.parameters(), lr=3e-4)
    x, y = torch.from_numpy(idx[:, :-1]), torch.from_numpy(idx[:, 1:])

    def step():
        loss = model(x, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def _minilm_step(framework: str):
    """Workload H: all-MiniLM-L6-v2 forward (inference, no graph), 64 sentences x 32 tokens."""
    import numpy as np

    from gradus.models.sentence_encoder import default_model_dir

    directory = default_model_dir()
    rng = np.random.default_rng(0)
    ids = rng.integers(1000, 30000, (64, 32)).astype(np.int64)
    ids[:, 0], ids[:, -1] = 101, 102                                        # [CLS] ... [SEP]
    mask = np.ones_like(ids)
    if framework == "gradus":
        import gradus
        from gradus.models.bert import BertModel

        model = BertModel.from_pretrained(directory).eval()
        x, m = gradus.tensor(ids), gradus.tensor(mask)

        def step():
            with gradus.no_grad():
                model(x, attention_mask=m)
        return step
    import torch
    from transformers import BertModel as HFBert

    model = HFBert.from_pretrained(directory).eval()
    x, m = torch.from_numpy(ids), torch.from_numpy(mask)

    def step():
        with torch.no_grad():
            model(input_ids=x, attention_mask=m)
    return step


def _worker(workload: str, threads: int, framework: str = "gradus") -> None:
    try:  # the parent also sets OPENBLAS_NUM_THREADS / OMP_NUM_THREADS, read when NumPy loads
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=threads)
    except ImportError:
        pass
    import numpy as np

    if framework == "torch":
        import torch

        torch.set_num_threads(threads)
    if workload in ("lstm", "gpt", "minilm"):
        step, steps = {"lstm": _lstm_step, "gpt": _gpt_step, "minilm": _minilm_step}[workload](framework), 5
        for _ in range(2):
            step()
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        print(json.dumps({"seconds": (time.perf_counter() - t0) / steps}))
        return
    if framework == "torch":
        raise SystemExit(f"ab.py: workload {workload!r} has no PyTorch twin here (use benchmarks/bench_*.py)")
    import gradus

    if workload == "ops":
        from bench_ops import OPS

        an = np.random.default_rng(0).random((4, 4), dtype=np.float32)
        a, b = gradus.tensor(an, requires_grad=True), gradus.tensor(an, requires_grad=True)
        logs = []
        for op in OPS.values():
            for _ in range(50):
                op(a, b).sum().backward()
            t0 = time.perf_counter()
            for _ in range(400):
                op(a, b).sum().backward()
            logs.append(np.log((time.perf_counter() - t0) / 400))
        print(json.dumps({"seconds": float(np.exp(np.mean(logs)))}))
        return
    if workload in ("mlp", "dmlp"):
        from bench_mlp import nn_gradus

        sizes = [784, 1000, 1000, 10] if workload == "mlp" else [784, 2500, 2000, 1500, 1000, 500, 10]
        rng = np.random.default_rng(0)
        X = rng.standard_normal((128, 784)).astype(np.float32)
        y = rng.integers(0, 10, 128).astype(np.int64)
        step, steps = nn_gradus(sizes, X, y), (20 if workload == "mlp" else 6)
    else:
        from bench_cnn import WORKLOADS, data, gradus_step

        build, shape = WORKLOADS[workload]
        step, steps = gradus_step(build, *data(shape)), (20 if workload == "lenet" else 6)
    for _ in range(3):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    print(json.dumps({"seconds": (time.perf_counter() - t0) / steps}))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("workloads", nargs="*", default=["mlp", "dmlp", "lenet", "resnet", "ops"])
    ap.add_argument("--a", type=Path, help="repository root of tree A (before)")
    ap.add_argument("--b", type=Path, help="repository root of tree B (after)")
    ap.add_argument("--runs", type=int, default=5, help="clean runs per tree (default 5)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--framework", default="gradus", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        _worker(args.worker, args.threads, args.framework)
        return 0
    trees = {k: (v if str(v) == "torch" else v.resolve()) for k, v in (("A", args.a), ("B", args.b))}
    print(f"# A = {trees['A']}\n# B = {trees['B']}\n# {os.cpu_count()} cores; {args.runs} clean runs per "
          f"tree, alternated; others < {QUIET} core to start, runs with others > {DISCARD} discarded")
    rows = []
    for w in args.workloads:
        threads = 1 if w == "ops" else args.threads
        clean = {"A": [], "B": []}
        discarded = 0
        while min(len(v) for v in clean.values()) < args.runs and discarded < 4 * args.runs:
            for k in ("A", "B") if sum(map(len, clean.values())) % 4 < 2 else ("B", "A"):
                if len(clean[k]) >= args.runs:
                    continue
                wait_quiet()
                sec, others = run_once(trees[k], w, threads)
                if others > DISCARD:
                    discarded += 1
                    print(f"  {w} {k}: {sec * 1e3:.2f} ms  DISCARDED (others used {others:.2f} cores)")
                    continue
                clean[k].append(sec)
                print(f"  {w} {k}: {sec * 1e3:.2f} ms  (others {others:.2f} cores)", flush=True)
        ma, mb = statistics.median(clean["A"]), statistics.median(clean["B"])
        rows.append((w, threads, ma, mb, ma / mb, len(clean["A"]), len(clean["B"]), discarded))
    print("\n| workload | threads | A median | B median | speed B/A | clean runs A/B | discarded |")
    print("|---|---|---|---|---|---|---|")
    for w, th, ma, mb, r, na, nb, d in rows:
        unit, f = ("µs", 1e6) if w == "ops" else ("ms", 1e3)
        print(f"| {w} | {th} | {ma * f:.2f} {unit} | {mb * f:.2f} {unit} | {r:.3f} | {na}/{nb} | {d} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
