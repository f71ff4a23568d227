"""The workloads of the performance issue, each written once for gradus and once for PyTorch, and the
worker that times one of them in its own process (``protocol.run_worker`` starts it).

    id  workload (float32; training = forward + backward + optimizer step)                 batch
    A   MLP 784-1000-1000-10, ReLU, cross-entropy, SGD momentum 0.9                          128
    B   deep MLP 784-2500-2000-1500-1000-500-10, same                                        128
    C   LeNet-5 on 1x32x32 (conv5x5 6, pool, conv5x5 16, pool, fc 120-84-10), SGD momentum    64
    D   ResNet-20 (CIFAR, BN) on 3x32x32, SGD momentum                                        64
    E   2-layer LSTM, input 128, hidden 256, T = 64, linear head on the last step, SGD m.     32
    F   GPT, 4 layers, d_model 256, 4 heads, context 128, vocab 65, tied head, Adam           16
    G   Transformer encoder (post-LN, ReLU, dropout 0.1), 6 layers, d 512, 8 heads, FFN 2048,
        32 tokens, loss mean(y^2), Adam                                                       32
    H   inference: all-MiniLM-L6-v2 (BertModel with pooler) on 64 sentences x 32 tokens       64
    ops per-op overhead: forward + backward of tiny ops on 4x4 tensors (1 thread, geometric
        mean of the ops' times)                                                                -

Where one model definition serves both frameworks it takes the ``nn`` namespace it is given
(``gradus.nn`` or ``torch.nn``), which is the point of PyTorch-shaped APIs. F's PyTorch twin is the same
pre-LN GPT written with torch's SDPA; H's is Hugging Face ``transformers``' BertModel on the same files.

FLOPs (``forward_flops``) count 2 per multiply-add of the GEMMs, convolutions and attention products
(QK^T and AV over the full T x T, also when causal), nothing for elementwise work; a training step
counts 3x the forward (forward, input gradient, weight gradient: the convention behind "model FLOPs
utilisation"), an inference step 1x. tests/benchmarks checks the forward counts against torch's
FlopCounterMode.

    python benchmarks/workloads.py --worker A --framework gradus --threads 2     # one timing, JSON
    python benchmarks/workloads.py --worker peak --threads 2                     # fp32 GEMM peak
    python benchmarks/workloads.py --profile D                # where gradus' time goes (cProfile)
"""
from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
MLP_A = [784, 1000, 1000, 10]
MLP_B = [784, 2500, 2000, 1500, 1000, 500, 10]


@dataclass(frozen=True)
class Workload:
    id: str
    name: str
    batch: int
    training: bool = True
    threads: int | None = None          # None: the run's thread count; ops: always 1


WORKLOADS = {w.id: w for w in [
    Workload("A", "MLP 784-1000-1000-10, SGD momentum", 128),
    Workload("B", "deep MLP 784-2500-2000-1500-1000-500-10", 128),
    Workload("C", "LeNet-5 on 1x32x32", 64),
    Workload("D", "ResNet-20 (BN) on 3x32x32", 64),
    Workload("E", "2-layer LSTM 128->256, T=64, last step", 32),
    Workload("F", "GPT 4x256, 4 heads, ctx 128, vocab 65, Adam", 16),
    Workload("G", "Transformer encoder 6x512, 8 heads, 32 tokens, Adam", 32),
    Workload("H", "inference: MiniLM-L6, 64 x 32 tokens", 64, training=False),
    Workload("ops", "per-op overhead, 4x4 tensors (fwd+bwd)", 1, threads=1),
]}
ALIASES = {"mlp": "A", "dmlp": "B", "lenet": "C", "resnet": "D", "lstm": "E", "gpt": "F",
           "transformer": "G", "minilm": "H"}


# ---------------------------------------------------------------------------------------------
# FLOPs per step
# ---------------------------------------------------------------------------------------------
def _mlp_macs(sizes):
    return sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))


def _conv_macs(c_in, c_out, k, out_hw):
    return c_out * out_hw * out_hw * c_in * k * k


def _resnet20_macs():
    macs, c, hw = _conv_macs(3, 16, 3, 32), 16, 32
    for c_out, stride in ((16, 1), (32, 2), (64, 2)):
        for i in range(3):
            s = stride if i == 0 else 1
            hw_out = hw // s
            macs += _conv_macs(c, c_out, 3, hw_out) + _conv_macs(c_out, c_out, 3, hw_out)
            if s != 1 or c != c_out:
                macs += _conv_macs(c, c_out, 1, hw_out)                 # 1x1 projection shortcut
            c, hw = c_out, hw_out
    return macs + 64 * 10


def _encoder_macs_per_token(d, ff, T):
    """One Transformer layer per token: Q,K,V and output projections, the FFN, and the token's row of
    QK^T and of AV (T x d each over all heads; the full T x T even under a causal mask, as in the
    "model FLOPs" convention)."""
    return 4 * d * d + 2 * d * ff + 2 * T * d


def forward_flops(wid: str) -> int:
    """FLOPs of one forward pass of workload ``wid`` over its batch (2 per multiply-add)."""
    B = WORKLOADS[wid].batch
    if wid == "A":
        return 2 * B * _mlp_macs(MLP_A)
    if wid == "B":
        return 2 * B * _mlp_macs(MLP_B)
    if wid == "C":
        macs = _conv_macs(1, 6, 5, 28) + _conv_macs(6, 16, 5, 10) + _mlp_macs([400, 120, 84, 10])
        return 2 * B * macs
    if wid == "D":
        return 2 * B * _resnet20_macs()
    if wid == "E":
        T, H = 64, 256
        return 2 * (T * B * (4 * H * (128 + H) + 4 * H * (H + H)) + B * H * 10)
    if wid == "F":
        T, C, L, V = 128, 256, 4, 65
        return 2 * B * T * (L * _encoder_macs_per_token(C, 4 * C, T) + C * V)
    if wid == "G":
        return 2 * B * 32 * 6 * _encoder_macs_per_token(512, 2048, 32)
    if wid == "H":
        d = 384
        return 2 * B * (32 * 6 * _encoder_macs_per_token(d, 4 * d, 32) + d * d)   # + the pooler
    raise KeyError(wid)


def attention_flops(wid: str) -> int:
    """The part of ``forward_flops`` in QK^T and AV (F, G, H; 0 for the others)."""
    B = WORKLOADS[wid].batch
    T, d, L = {"F": (128, 256, 4), "G": (32, 512, 6), "H": (32, 384, 6)}.get(wid, (0, 0, 0))
    return 2 * B * T * L * 2 * T * d


def step_flops(wid: str) -> int:
    """FLOPs of one timed step: 3x the forward for training, 1x for inference; 0 for ``ops``."""
    if wid == "ops":
        return 0
    return forward_flops(wid) * (3 if WORKLOADS[wid].training else 1)


# ---------------------------------------------------------------------------------------------
# models written once against an `nn` namespace
# ---------------------------------------------------------------------------------------------
def mlp(nn, sizes):
    layers = []
    for k, (i, o) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(i, o))
        if k < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def lenet(nn):
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),          # (B, 6, 14, 14)
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),         # (B, 16, 5, 5)
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    )


def resnet20(nn):
    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU()
            self.shortcut = nn.Sequential()
            if stride != 1 or cin != cout:
                self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                              nn.BatchNorm2d(cout))

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return self.relu(out + self.shortcut(x))

    layers = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
    cin = 16
    for cout, stride in ((16, 1), (32, 2), (64, 2)):
        for i in range(3):
            layers.append(BasicBlock(cin, cout, stride if i == 0 else 1))
            cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    return nn.Sequential(*layers)


class _Framework:
    """The names a workload needs from gradus or torch: lib, nn, F, optim, and a NumPy -> tensor."""

    def __init__(self, name: str):
        if name == "torch":
            import torch as lib
            import torch.nn.functional as F
            from torch import nn, optim
            self.tensor = lib.from_numpy
        elif name == "gradus":
            import gradus as lib
            import gradus.functional as F
            from gradus import nn, optim
            self.tensor = lib.tensor
        else:
            raise SystemExit(f"workloads: framework must be 'gradus' or 'torch', got {name!r}")
        self.name, self.lib, self.nn, self.F, self.optim = name, lib, nn, F, optim
        lib.manual_seed(0)


def _train_step(loss_fn, opt):
    """A step: ``loss_fn()``, zero the gradients, backward, ``opt.step()``."""
    def step():
        loss = loss_fn()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def _classifier(fw, net, x_shape, B):
    rng = np.random.default_rng(0)
    X = fw.tensor(rng.standard_normal((B, *x_shape)).astype(np.float32))
    y = fw.tensor(rng.integers(0, 10, B).astype(np.int64))
    opt = fw.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    return _train_step(lambda: fw.F.cross_entropy(net(X), y), opt)


def _lstm(fw, B):
    rng = np.random.default_rng(0)
    X = fw.tensor(rng.standard_normal((64, B, 128)).astype(np.float32))
    y = fw.tensor(rng.integers(0, 10, B).astype(np.int64))
    lstm, head = fw.nn.LSTM(128, 256, 2), fw.nn.Linear(256, 10)
    opt = fw.optim.SGD(list(lstm.parameters()) + list(head.parameters()), lr=0.01, momentum=0.9)

    def loss_fn():
        out, _state = lstm(X)
        return fw.F.cross_entropy(head(out[-1]), y)
    return _train_step(loss_fn, opt)


def torch_gpt():
    """F's PyTorch twin: the pre-LN GPT of gradus.models.gpt written with torch's SDPA."""
    import torch
    import torch.nn.functional as F
    from torch import nn

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

    return TorchGPT()


def _gpt(fw, B):
    idx = np.random.default_rng(0).integers(0, 65, (B, 129)).astype(np.int64)
    x, y = fw.tensor(np.ascontiguousarray(idx[:, :-1])), fw.tensor(np.ascontiguousarray(idx[:, 1:]))
    if fw.name == "gradus":
        from gradus.models.gpt import GPT, GPTConfig

        model = GPT(GPTConfig(vocab_size=65, block_size=128, n_layer=4, n_head=4, n_embd=256))
        return _train_step(lambda: model(x, y)[1], fw.optim.Adam(model.parameters(), lr=3e-4))
    model = torch_gpt()
    return _train_step(lambda: model(x, y), fw.optim.Adam(model.parameters(), lr=3e-4))


def _transformer(fw, B):
    x = fw.tensor(np.random.default_rng(0).standard_normal((B, 32, 512)).astype(np.float32))
    layer = fw.nn.TransformerEncoderLayer(512, 8, dim_feedforward=2048, batch_first=True)
    enc = fw.nn.TransformerEncoder(layer, 6)
    enc.train()
    return _train_step(lambda: (enc(x) ** 2).mean(), fw.optim.Adam(enc.parameters(), lr=1e-4))


def _minilm(fw, B):
    directory = os.environ.get("GRADUS_BENCH_MODEL_DIR")     # set by the parent: torch's process
    if not directory:                                         # then never imports gradus (its RSS)
        from gradus.models.sentence_encoder import default_model_dir

        directory = default_model_dir()
    ids = np.random.default_rng(0).integers(1000, 30000, (B, 32)).astype(np.int64)
    ids[:, 0], ids[:, -1] = 101, 102                                        # [CLS] ... [SEP]
    x, m = fw.tensor(ids), fw.tensor(np.ones_like(ids))
    if fw.name == "gradus":
        from gradus.models.bert import BertModel

        model = BertModel.from_pretrained(directory).eval()
    else:
        from transformers import BertModel as HFBert

        model = HFBert.from_pretrained(directory).eval()

    def step():
        with fw.lib.no_grad():
            model(x, attention_mask=m)
    return step


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


def _ops_seconds(fw) -> float:
    """Geometric mean over OPS of the seconds per forward + backward on 4x4 float32 tensors."""
    an = np.random.default_rng(0).random((4, 4), dtype=np.float32)
    a, b = (fw.tensor(an.copy()).requires_grad_() for _ in range(2))
    logs = []
    for op in OPS.values():
        for _ in range(50):
            op(a, b).sum().backward()
        t0 = time.perf_counter()
        for _ in range(400):
            op(a, b).sum().backward()
        logs.append(math.log((time.perf_counter() - t0) / 400))
    return math.exp(sum(logs) / len(logs))


def build(wid: str, framework: str):
    """The step function (no arguments) of workload ``wid`` in ``framework``."""
    fw = _Framework(framework)
    B = WORKLOADS[wid].batch
    if wid in ("A", "B"):
        return _classifier(fw, mlp(fw.nn, MLP_A if wid == "A" else MLP_B), (784,), B)
    if wid == "C":
        return _classifier(fw, lenet(fw.nn), (1, 32, 32), B)
    if wid == "D":
        return _classifier(fw, resnet20(fw.nn), (3, 32, 32), B)
    return {"E": _lstm, "F": _gpt, "G": _transformer, "H": _minilm}[wid](fw, B)


# ---------------------------------------------------------------------------------------------
# the worker: one timing, one process
# ---------------------------------------------------------------------------------------------
def time_steps(step, budget: float = 3.0, max_steps: int = 50, warmup: int = 2, probe: int = 3) -> float:
    """Seconds per step: ``warmup`` steps, ``probe`` steps that estimate the steady step time, then
    as many steps as fill ~``budget`` seconds (3 to ``max_steps``), timed.

    Why the probe: the first steps pay one-time costs (gradus imports numba and loads its compiled
    kernels on the first kernel call, ~0.5 s; both frameworks allocate their buffers). Estimated from
    them, LeNet-5's step looked like 258 ms instead of 8 ms, so only 11 steps were timed, the first of
    them still warming up."""
    for _ in range(warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(probe):
        step()
    per = (time.perf_counter() - t0) / probe
    n = int(min(max(budget / max(per, 1e-9), 3), max_steps))
    t0 = time.perf_counter()
    for _ in range(n):
        step()
    return (time.perf_counter() - t0) / n


def gemm_peak_gflops(n: int = 2048, repeats: int = 10) -> float:
    """The best GFLOP/s of NumPy's float32 (n x n) @ (n x n) (2 n^3 FLOPs) over ``repeats``."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((n, n)).astype(np.float32) for _ in range(2))
    for _ in range(2):
        a @ b
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 / best / 1e9


def worker(wid: str, framework: str, threads: int, budget: float = 3.0) -> dict:
    """Time workload ``wid`` (or the GEMM ``peak``) in this process: {seconds, max_rss_mib[, gflops]}."""
    try:  # the parent also sets OPENBLAS_NUM_THREADS / OMP_NUM_THREADS, read when NumPy loads
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=threads)
    except ImportError:
        pass
    if framework == "torch":
        import torch

        torch.set_num_threads(threads)
    if wid == "peak":
        report = {"gflops": gemm_peak_gflops(), "seconds": 0.0}
    elif wid == "ops":
        report = {"seconds": _ops_seconds(_Framework(framework))}
    else:
        report = {"seconds": time_steps(build(wid, framework), budget)}
    report["max_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # KiB on Linux
    return report


def profile(wid: str, steps: int = 5, top: int = 25) -> None:
    """cProfile of ``steps`` gradus steps of ``wid`` in process CPU time (robust to other load), sorted by
    own time: the first look before optimising (py-spy / pyinstrument for the native side)."""
    import cProfile
    import pstats

    step = build(wid, "gradus")
    step()
    pr = cProfile.Profile(time.process_time)
    pr.enable()
    for _ in range(steps):
        step()
    pr.disable()
    print(f"cProfile (CPU time) of {steps} gradus steps of {wid}: {WORKLOADS[wid].name}")
    pstats.Stats(pr).sort_stats("tottime").print_stats(top)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    group = ap.add_mutually_exclusive_group(required=True)
    group.add_argument("--worker", help="time a workload id (A-H, ops), an alias, or 'peak'; print JSON")
    group.add_argument("--profile", help="profile gradus on a workload id or alias instead")
    ap.add_argument("--framework", default="gradus", choices=["gradus", "torch"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--budget", type=float, default=3.0, help="seconds of timed steps (default 3)")
    args = ap.parse_args()
    name = args.worker or args.profile
    wid = ALIASES.get(name, name)
    if wid not in WORKLOADS and wid != "peak" or args.profile and wid in ("peak", "ops"):
        print(f"workloads: unknown workload {name!r}; known: {[*WORKLOADS, *ALIASES, 'peak']}",
              file=sys.stderr)
        return 2
    if args.profile:
        profile(wid)
        return 0
    print(json.dumps(worker(wid, args.framework, args.threads, args.budget)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
