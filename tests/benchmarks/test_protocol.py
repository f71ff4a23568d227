"""benchmarks/: the protocol's bookkeeping, the FLOP counts of the workloads, and one real worker run.

The FLOP counts are checked against torch.utils.flop_counter on the PyTorch twins' forward passes, so
a changed workload cannot keep a stale formula."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch  # an oracle: installed by the test command, never skipped
from torch.utils.flop_counter import FlopCounterMode

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

import protocol  # noqa: E402
import workloads  # noqa: E402


def _forward_flops_torch(model, *inputs) -> int:
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(*inputs)
    return counter.get_total_flops()


@pytest.mark.parametrize("wid, build, shape", [
    ("A", lambda nn: workloads.mlp(nn, workloads.MLP_A), (784,)),
    ("B", lambda nn: workloads.mlp(nn, workloads.MLP_B), (784,)),
    ("C", workloads.lenet, (1, 32, 32)),
    ("D", workloads.resnet20, (3, 32, 32)),
])
def test_forward_flops_of_the_classifiers_match_torchs_counter(wid, build, shape):
    torch.manual_seed(0)
    net = build(torch.nn)
    x = torch.randn(workloads.WORKLOADS[wid].batch, *shape)
    assert workloads.forward_flops(wid) == _forward_flops_torch(net, x)


def test_forward_flops_of_the_gpt_match_torchs_counter():
    model = workloads.torch_gpt()
    idx = torch.randint(0, 65, (16, 128))
    # torch's counter does not see its CPU SDPA kernel: the attention products are added by hand
    counted = _forward_flops_torch(model, idx, idx)
    assert workloads.forward_flops("F") == counted + workloads.attention_flops("F")
    assert workloads.attention_flops("F") == 2 * 16 * 128 * 4 * (2 * 128 * 256)


def test_forward_flops_of_the_transformer_encoder_match_torchs_counter():
    layer = torch.nn.TransformerEncoderLayer(512, 8, dim_feedforward=2048, batch_first=True)
    enc = torch.nn.TransformerEncoder(layer, 6, enable_nested_tensor=False).train()
    x = torch.randn(32, 32, 512)
    with FlopCounterMode(display=False) as counter:             # training mode: the path G times
        enc(x)
    assert workloads.forward_flops("G") == counter.get_total_flops()       # its bmm's are counted
    assert workloads.attention_flops("G") > 0 and workloads.attention_flops("A") == 0


def test_forward_flops_of_minilm_match_torchs_counter():
    transformers = pytest.importorskip("transformers")
    cfg = transformers.BertConfig(vocab_size=100, hidden_size=384, num_hidden_layers=6,
                                  num_attention_heads=12, intermediate_size=1536)
    model = transformers.BertModel(cfg).eval()
    ids = torch.randint(0, 100, (64, 32))
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(input_ids=ids, attention_mask=torch.ones_like(ids))
    # Hugging Face runs attention through SDPA, invisible to the counter on CPU
    assert workloads.forward_flops("H") == counter.get_total_flops() + workloads.attention_flops("H")


def test_lstm_flops_are_the_gate_gemms():
    # torch's counter does not see inside the fused CPU LSTM, so the formula is written out here:
    # per step and layer, 4H x (I + H) multiply-adds per sample; plus the head on the last step.
    T, B, H = 64, 32, 256
    macs = T * B * (4 * H * (128 + H) + 4 * H * (2 * H)) + B * H * 10
    assert workloads.forward_flops("E") == 2 * macs


def test_step_flops_training_is_three_forwards_and_inference_one():
    assert workloads.step_flops("A") == 3 * workloads.forward_flops("A")
    assert workloads.step_flops("H") == workloads.forward_flops("H")
    assert workloads.step_flops("ops") == 0


def test_others_during_subtracts_our_own_cpu_time():
    assert protocol.others_during(busy_core_seconds=10.0, own_cpu_seconds=9.0, wall=5.0) == pytest.approx(0.2)
    assert protocol.others_during(1.0, 2.0, 5.0) == 0.0                  # coarse jiffies: never negative


def test_alternated_alternates_discards_and_stops(monkeypatch):
    monkeypatch.setattr(protocol, "wait_quiet", lambda: 0.0)
    calls, loads = [], iter([0.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])

    def measure(name):
        calls.append(name)
        return {"seconds": 1.0}, next(loads)
    clean, discarded = protocol.alternated(3, ("a", "b"), measure, log=lambda s: None)
    assert discarded == 1 and [len(clean["a"]), len(clean["b"])] == [3, 3]
    assert calls[:4] == ["a", "b", "b", "a"] or calls[:3] == ["a", "b", "a"]    # both take turns
    noisy, d = protocol.alternated(2, ("a",), lambda n: ({"seconds": 1.0}, 1.0), max_discarded=3,
                                   log=lambda s: None)
    assert noisy == {"a": []} and d == 3                                 # gives up instead of hanging


def test_summarize_table_and_write_results(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_main", BENCH / "__main__.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    runs = {"gradus": [{"seconds": s, "max_rss_mib": 200.0} for s in (0.030, 0.020, 0.025)],
            "torch": [{"seconds": s, "max_rss_mib": 400.0} for s in (0.050, 0.040, 0.060)]}
    row = bench.summarize("A", runs, peak_gflops=100.0)
    assert row["ratio"] == pytest.approx(0.050 / 0.025) and row["rss_ratio"] == pytest.approx(0.5)
    assert row["gradus"]["gflops"] == pytest.approx(workloads.step_flops("A") / 0.025 / 1e9)
    assert row["gradus"]["samples_per_s"] == pytest.approx(128 / 0.025)
    row["discarded"] = 2
    text = bench.table([row], "header")
    assert "| A |" in text and "**2.00**" in text and "| 3/3 | 2 |" in text
    results = tmp_path / "RESULTS.md"
    results.write_text("# Results\n\nolder text\n")
    bench.write_results(results, "first table")
    bench.write_results(results, "second table")                   # replaces, never duplicates
    out = results.read_text()
    assert out.count(bench.BEGIN) == 1 and "second table" in out and "first table" not in out
    assert out.startswith("# Results\n\nolder text\n")


@pytest.mark.parametrize("framework", ["gradus", "torch"])
def test_a_real_worker_process_reports_time_and_memory(framework):
    env = {"PYTHONPATH": str(BENCH.parent / "src")} if framework == "gradus" else {}
    import os
    import subprocess

    out = subprocess.run([sys.executable, str(BENCH / "workloads.py"), "--worker", "C", "--framework",
                          framework, "--threads", "1", "--budget", "0.05"], capture_output=True, text=True,
                         env={**os.environ, **env}, timeout=300)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert 0 < report["seconds"] < 10 and report["max_rss_mib"] > 10


def test_gemm_peak_is_a_positive_rate():
    assert workloads.gemm_peak_gflops(n=128, repeats=2) > 0.01


def test_unknown_workload_is_a_clear_error():
    import subprocess

    out = subprocess.run([sys.executable, str(BENCH / "workloads.py"), "--worker", "Z"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2 and "unknown workload 'Z'" in out.stderr
    assert np.isfinite(workloads.forward_flops("D"))


def test_time_steps_sizes_the_timed_run_from_steady_steps_not_the_first_ones():
    """A first step that pays a one-time cost (an import, a JIT) must not shrink the timed run."""
    import time

    calls = []

    def step():
        calls.append(None)
        time.sleep(0.5 if len(calls) == 2 else 0.001)   # the second step is the slow, one-time one

    # a budget of 40 steps unless a 1 ms step took > 25 ms (sized from the slow step: 2 steps), so a
    # loaded machine does not make it flaky (it did with a 0.05 s budget)
    seconds = workloads.time_steps(step, budget=1.0, max_steps=40)
    assert len(calls) == 2 + 3 + 40          # warm-up, probe, then the full max_steps
    assert seconds < 0.01                    # with the slow step in the timed run: >= 12.5 ms
