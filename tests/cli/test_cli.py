"""The real `gradus` command, run in subprocesses (as a learner runs it)."""
import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

import gradus


def gradus_cmd():
    exe = shutil.which("gradus")
    return [exe] if exe else [sys.executable, "-m", "gradus.cli.main"]


def run(*args, cwd=None, env=None, timeout=300):
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([*gradus_cmd(), *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env=full_env, timeout=timeout)


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """`gradus train` with no arguments at all: the embedded default recipe, as shipped."""
    cwd = tmp_path_factory.mktemp("default")
    r = run("train", cwd=cwd)
    return cwd, r


def test_version():
    r = run("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"gradus {gradus.__version__}"


def test_python_dash_m_entry_point():
    r = subprocess.run([sys.executable, "-m", "gradus.cli", "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and gradus.__version__ in r.stdout


def test_list_is_an_aligned_table():
    r = run("list")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["RECIPE", "TARGET", "DESCRIPTION"]
    row = next(line for line in lines if line.startswith("digits-mlp "))
    assert "test_accuracy >= 0.95" in row and "digits" in row
    col = lines[0].index("DESCRIPTION")
    for line in lines[1:]:
        # every description starts in the same column
        assert line[col - 2 : col] == "  " and line[col] != " ", line
    from gradus.recipes import list_recipes

    assert [line.split()[0] for line in lines[1:]] == list_recipes()


def test_default_train_reaches_the_target_and_writes_everything(default_run):
    cwd, r = default_run
    assert r.returncode == 0, r.stderr
    runs = list((cwd / "runs").iterdir())
    assert len(runs) == 1 and runs[0].name.startswith("digits-mlp-")
    out = runs[0]
    results = json.loads((out / "results.json").read_text())
    assert results["results"]["test_accuracy"] >= 0.95 and results["target_reached"] is True
    for name in ("checkpoint.safetensors", "checkpoint.json", "metrics.jsonl", "metrics.csv", "curves.png",
                 "confusion.png", "misclassified.png", "first_layer.png", "report.txt"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    # it says where things went and whether the target was reached
    assert "target test_accuracy >= 0.95: reached" in r.stdout
    assert str(out / "checkpoint.safetensors") in r.stdout or "checkpoint.safetensors" in r.stdout
    # progress without a TTY: one short line per epoch
    epochs = [line for line in r.stderr.splitlines() if line.startswith("epoch ")]
    assert len(epochs) == 30 and "samples/s" in epochs[0]


def test_eval_reproduces_the_test_accuracy(default_run):
    cwd, r = default_run
    assert r.returncode == 0, r.stderr
    out = next((cwd / "runs").iterdir())
    acc = json.loads((out / "results.json").read_text())["results"]["test_accuracy"]
    e = run("eval", out / "checkpoint.safetensors")
    assert e.returncode == 0, e.stderr
    assert f"accuracy {acc:.4f}" in e.stdout and "macro avg" in e.stdout and "359 samples" in e.stdout


def test_unknown_recipe_is_a_usage_error():
    # (more misspellings are checked in-process in test_recipes.py)
    r = run("train", "digits-mpl")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    want = "unknown recipe 'digits-mpl'; did you mean 'digits-mlp'? (`gradus list` shows them all)"
    assert want in r.stderr


def test_unknown_key_is_a_usage_error_with_suggestion():
    r = run("train", "--set", "optim.lrr=1")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "gradus train: error: unknown key 'optim.lrr'; did you mean 'optim.lr'?" in r.stderr


def test_overrides_and_resume(tmp_path):
    out = tmp_path / "run"
    r = run("train", "--epochs", "2", "--seed", "1", "--set", "optim.lr=0.003", "--set", "train.plots=false",
            "--no-progress", "--out", out)
    assert r.returncode == 0, r.stderr
    assert "Adam(lr=0.003), 2 epochs, seed 1" in r.stdout and r.stderr.count("epoch ") == 0
    ckpt = json.loads((out / "checkpoint.json").read_text())
    assert ckpt["meta"]["epoch"] == 2 and ckpt["meta"]["config"]["optim"]["lr"] == 0.003
    # --resume continues from the checkpoint's recipe, in its directory, up to the new epoch count
    r = run("train", "--resume", out / "checkpoint.safetensors", "--epochs", "3")
    assert r.returncode == 0, r.stderr
    assert "resuming at epoch 3/3" in r.stderr
    assert json.loads((out / "checkpoint.json").read_text())["meta"]["epoch"] == 3
    assert len((out / "metrics.csv").read_text().splitlines()) == 4
    r = run("train", "spiral-mlp", "--resume", out / "checkpoint.safetensors")
    assert r.returncode == 2 and "checkpoint of recipe 'digits-mlp'" in r.stderr


def test_corrupt_checkpoint_is_reported(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00" * 4)
    r = run("eval", bad)
    assert r.returncode == 1 and "CheckpointError" in r.stderr and "truncated" in r.stderr


def test_custom_runner_and_check_target(tmp_path):
    (tmp_path / "myrunner.py").write_text(textwrap.dedent("""
        import json
        def run(config, out_dir, *, progress=True):
            (out_dir / "seen.json").write_text(json.dumps(config))
            return {"test_accuracy": 0.5, "epochs": config["train"]["epochs"]}
    """))
    recipe = tmp_path / "my-exp.toml"
    recipe.write_text(textwrap.dedent("""
        [recipe]
        description = "a custom experiment"
        runner = "myrunner:run"
        target = { metric = "test_accuracy", value = 0.9 }
        [train]
        epochs = 2
    """))
    env = {"PYTHONPATH": str(tmp_path) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = tmp_path / "out"
    r = run("train", recipe, "--epochs", "7", "--out", out, "--check-target", env=env)
    assert r.returncode == 3, r.stderr
    assert "target test_accuracy >= 0.9: NOT reached (0.5000)" in r.stdout
    seen = json.loads((out / "seen.json").read_text())
    assert seen["train"]["epochs"] == 7 and seen["recipe"]["name"] == "my-exp"
    assert json.loads((out / "results.json").read_text())["target_reached"] is False
    r = run("train", recipe, "--set", "train.epochz=1", env=env)
    assert r.returncode == 2 and "did you mean 'train.epochs'?" in r.stderr


def test_viz_filters_features_gradcam(tmp_path, default_run):
    pytest.importorskip("gradus.viz.features")
    (tmp_path / "tinycnn.py").write_text(textwrap.dedent("""
        from gradus import nn
        def tiny_cnn(num_classes=10):
            return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(),
                                 nn.Linear(4 * 8 * 8, num_classes))
    """))
    env = {"PYTHONPATH": str(tmp_path) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = tmp_path / "cnn"
    recipe = tmp_path / "digits-cnn.toml"
    recipe.write_text(textwrap.dedent("""
        [recipe]
        description = "tiny CNN"
        target = { metric = "test_accuracy", value = 0.5 }
        [model]
        factory = "tinycnn:tiny_cnn"
        [data]
        dataset = "digits"
        flatten = false
        [optim]
        name = "Adam"
        lr = 0.01
        [train]
        epochs = 1
    """))
    r = run("train", recipe, "--out", out, "--no-progress", env=env)
    assert r.returncode == 0, r.stderr
    assert (out / "first_layer.png").is_file()  # conv kernels
    ckpt = out / "checkpoint.safetensors"
    for what, name in (("filters", "filters.png"), ("features", "features_3.png"),
                       ("gradcam", "gradcam_3.png")):
        v = run("viz", ckpt, "--what", what, "--index", "3", env=env)
        assert v.returncode == 0, v.stderr
        assert (out / name).is_file() and str(out / name) in v.stdout
    # an MLP has no feature maps: a clear message, not a traceback
    mlp_ckpt = next((default_run[0] / "runs").iterdir()) / "checkpoint.safetensors"
    v = run("viz", mlp_ckpt, "--what", "gradcam")
    assert v.returncode == 1 and "Conv2d" in v.stderr and "Traceback" not in v.stderr


def test_missing_data_says_where_to_put_it(tmp_path):
    r = run("train", "mnist-mlp", "--data", tmp_path, "--set", "data.download=false", "--epochs", "1")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "not found" in r.stderr and str(tmp_path / "mnist") in r.stderr
