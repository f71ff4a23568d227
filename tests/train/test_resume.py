"""Kill a real `gradus train` process mid-run, resume it, and compare with an uninterrupted run.

This is the end-to-end guarantee of checkpoints: in deterministic mode (a seed) the resumed run ends
with bit-identical weights and optimizer state. The three short subprocess runs take a few seconds
together (that is the reason this test is slower than the others).
"""
import os
import signal
import subprocess
import sys

import numpy as np
from safetensors.numpy import load_file

from gradus.cli.main import KILL_ENV
from gradus.train.checkpoint import read_checkpoint

# 4 epochs of digits (41 steps each), a checkpoint every 10 steps; killed after step 95, i.e. in
# epoch 3, 5 steps after the checkpoint of step 90 (mid-epoch: the resume must replay the shuffle).
ARGS = ["train", "--epochs", "4", "--no-progress", "--set", "train.plots=false",
        "--set", "train.checkpoint_every_n_steps=10"]


def gradus_cmd(*args):
    return [sys.executable, "-m", "gradus.cli.main", *args]


def run(args, env=None, cwd=None):
    full_env = dict(os.environ, OPENBLAS_NUM_THREADS="1", **(env or {}))
    return subprocess.run(gradus_cmd(*args), capture_output=True, text=True, env=full_env, cwd=cwd,
                          timeout=300)


def test_kill_and_resume_is_bit_identical(tmp_path):
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    r = run([*ARGS, "--out", str(straight)], cwd=tmp_path)
    assert r.returncode == 0, r.stderr

    r = run([*ARGS, "--out", str(killed)], env={KILL_ENV: "95"}, cwd=tmp_path)
    assert r.returncode in (-signal.SIGKILL, 137), (r.returncode, r.stderr)
    ckpt = killed / "checkpoint.safetensors"
    meta = read_checkpoint(ckpt).meta
    assert (meta["epoch"], meta["step"], meta["batch_in_epoch"]) == (2, 90, 8)
    assert not (killed / "results.json").exists()

    r = run(["train", "--resume", str(ckpt), "--no-progress", "--set", "train.plots=false"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr

    a = load_file(straight / "checkpoint.safetensors")
    b = load_file(ckpt)
    assert a.keys() == b.keys()
    for k in a:
        if k.startswith(("model.", "optim.")):
            assert a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]), k
    assert read_checkpoint(ckpt).meta["step"] == 164  # 4 epochs x 41 steps, as the straight run
    # the logs were continued, not duplicated: same epochs, same values (times aside)
    rows_a = [line.rsplit(",", 1)[0] for line in (straight / "metrics.csv").read_text().splitlines()]
    rows_b = [line.rsplit(",", 1)[0] for line in (killed / "metrics.csv").read_text().splitlines()]
    assert rows_a == rows_b and len(rows_a) == 5
