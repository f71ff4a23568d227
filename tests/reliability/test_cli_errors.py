"""Wrong uses of the `gradus` command: every user error exits 2 (usage) or 1 (runtime) with one or
two lines naming what was wrong and the closest valid key/value; never a traceback. Internal errors
show their full traceback with --debug."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from gradus.cli import main as cli

# (id, --set overrides, regex of the message). All are refused before any training starts.
SET_CASES = [
    (
        "lr-str",
        ["optim.lr=abc"],
        r"optim\.lr must be a positive number .*got \"abc\" \(a string: numbers "
        r"are written without quotes\)",
    ),
    ("lr-negative", ["optim.lr=-0.1"], r"optim\.lr must be a positive number .*got -0\.1"),
    ("lr-zero", ["optim.lr=0"], r"optim\.lr must be a positive number .*got 0"),
    ("lr-bool", ["optim.lr=true"], r"optim\.lr must be a positive number .*got True"),
    ("lr-list", ["optim.lr=[0.1]"], r"optim\.lr must be a positive number .*got \[0\.1\]"),
    ("batch-size-str", ["data.batch_size=abc"], r"data\.batch_size must be a positive integer .*got \"abc\""),
    ("batch-size-zero", ["data.batch_size=0"], r"data\.batch_size must be a positive integer .*got 0"),
    ("batch-size-float", ["data.batch_size=2.5"], r"data\.batch_size must be a positive integer .*got 2\.5"),
    ("batch-size-negative", ["data.batch_size=-3"], r"data\.batch_size must be a positive integer .*got -3"),
    ("eval-batch-size-zero", ["data.eval_batch_size=0"], r"data\.eval_batch_size must be a positive integer"),
    (
        "val-fraction-range",
        ["data.val_fraction=1.5"],
        r"data\.val_fraction must be a number in \[0, 1\) "
        r".*got 1\.5",
    ),
    ("val-fraction-str", ["data.val_fraction=abc"], r"data\.val_fraction must be a number in \[0, 1\)"),
    ("epochs-float", ["train.epochs=2.5"], r"train\.epochs must be a positive integer .*got 2\.5"),
    ("epochs-negative", ["train.epochs=-1"], r"train\.epochs must be a positive integer .*got -1"),
    ("epochs-zero", ["train.epochs=0"], r"train\.epochs must be a positive integer .*got 0"),
    ("epochs-str", ["train.epochs=abc"], r"train\.epochs must be a positive integer .*\"abc\""),
    (
        "epochs-float-integral",
        ["train.epochs=3.0"],
        r"train\.epochs must be a positive integer .*got 3\.0 "
        r"\(write 3\)",
    ),
    ("seed-negative", ["train.seed=-1"], r"train\.seed must be a non-negative integer .*got -1"),
    ("seed-float", ["train.seed=1.5"], r"train\.seed must be a non-negative integer"),
    ("l2-negative", ["train.l2=-1"], r"train\.l2 must be a non-negative number .*got -1"),
    ("clip-str", ["train.clip_grad_norm=abc"], r"train\.clip_grad_norm must be a non-negative number"),
    ("plots-int", ["train.plots=3"], r"train\.plots must be true or false, got 3"),
    ("loss-int", ["train.loss=5"], r"train\.loss must be a non-empty string"),
    (
        "checkpoint-steps-negative",
        ["train.checkpoint_every_n_steps=-5"],
        r"train\.checkpoint_every_n_steps must be a non-negative integer",
    ),
    (
        "patience-negative",
        ["train.early_stopping.patience=-2"],
        r"train\.early_stopping\.patience must be a non-negative integer .*got -2",
    ),
    (
        "es-mode",
        ["train.early_stopping.mode=maxx"],
        r"train\.early_stopping\.mode must be 'auto' or 'min' or 'max', got \"maxx\"; did you mean 'max'\?",
    ),
    (
        "momentum-negative",
        ["optim.name=SGD", "optim.momentum=-0.9"],
        r"optim\.momentum must be a "
        r"non-negative number",
    ),
    ("weight-decay-str", ["optim.weight_decay=abc"], r"optim\.weight_decay must be a non-negative number"),
    ("betas-short", ["optim.betas=[0.9]"], r"optim\.betas must be two numbers in \[0, 1\) .*got \[0\.9\]"),
    ("betas-range", ["optim.betas=[0.9, 1.5]"], r"optim\.betas must be two numbers in \[0, 1\)"),
    ("eps-zero", ["optim.eps=0"], r"optim\.eps must be a positive number"),
    (
        "nesterov-str",
        ["optim.name=SGD", "optim.nesterov=yes"],
        r"optim\.nesterov must be true or false, "
        r"got \"yes\"",
    ),
    (
        "interval",
        ["scheduler.name=StepLR", "scheduler.step_size=2", "scheduler.interval=daily"],
        r"scheduler\.interval must be 'epoch' or 'step', got \"daily\"",
    ),
    (
        "interval-typo",
        ["scheduler.name=StepLR", "scheduler.step_size=2", "scheduler.interval=stpe"],
        r"scheduler\.interval must be .*did you mean 'step'\?",
    ),
    # an incomplete scheduler / optimizer section
    (
        "steplr-incomplete",
        ["scheduler.name=StepLR"],
        r"\[scheduler\] StepLR needs scheduler\.step_size "
        r".*--set scheduler\.step_size=",
    ),
    (
        "cosine-incomplete",
        ["scheduler.name=CosineAnnealingLR"],
        r"\[scheduler\] CosineAnnealingLR needs "
        r"scheduler\.T_max",
    ),
    (
        "exponential-incomplete",
        ["scheduler.name=ExponentialLR"],
        r"\[scheduler\] ExponentialLR needs "
        r"scheduler\.gamma",
    ),
    (
        "multistep-incomplete",
        ["scheduler.name=MultiStepLR"],
        r"\[scheduler\] MultiStepLR needs "
        r"scheduler\.milestones",
    ),
    (
        "warmup-incomplete",
        ["scheduler.name=warmup_cosine"],
        r"\[scheduler\] warmup_cosine needs scheduler\.warmup_steps, scheduler\.total_steps",
    ),
    (
        "onecycle-incomplete",
        ["scheduler.name=OneCycleLR"],
        r"\[scheduler\] OneCycleLR needs "
        r"scheduler\.max_lr",
    ),
    (
        "step-size-zero",
        ["scheduler.name=StepLR", "scheduler.step_size=0"],
        r"scheduler\.step_size must be "
        r"a positive integer .*got 0",
    ),
    (
        "step-size-str",
        ["scheduler.name=StepLR", "scheduler.step_size=abc"],
        r"scheduler\.step_size must be "
        r"a positive integer",
    ),
    (
        "gamma-negative",
        ["scheduler.name=StepLR", "scheduler.step_size=2", "scheduler.gamma=-1"],
        r"scheduler\.gamma must be a positive number",
    ),
    (
        "milestones-float",
        ["scheduler.name=MultiStepLR", "scheduler.milestones=[1.5]"],
        r"scheduler\.milestones must be a list of non-negative integers",
    ),
    (
        "tmax-zero",
        ["scheduler.name=CosineAnnealingLR", "scheduler.T_max=0"],
        r"scheduler\.T_max must be a "
        r"positive integer",
    ),
    (
        "model-sizes-negative",
        ["model.sizes=[64, -1, 10]"],
        r"model\.sizes must be a non-empty list of "
        r"positive integers",
    ),
    ("model-sizes-str", ["model.sizes=abc"], r"model\.sizes must be a non-empty list of positive integers"),
    # unknown keys, sections and names: the closest valid one is suggested
    ("unknown-optim-key", ["optim.lrr=1"], r"unknown key 'optim\.lrr'; did you mean 'optim\.lr'\?"),
    ("unknown-data-key", ["data.batchsize=3"], r"did you mean 'data\.batch_size'\?"),
    ("unknown-train-key", ["train.epoch=3"], r"did you mean 'train\.epochs'\?"),
    ("unknown-model-key", ["model.dropuot=0.1"], r"did you mean 'model\.dropout'\?"),
    ("unknown-es-key", ["train.early_stopping.patiense=2"], r"did you mean 'patience'\?"),
    ("unknown-section", ["optimizer.lr=1"], r"unknown section \[optimizer\]; did you mean 'optim'\?"),
    ("unknown-optimizer", ["optim.name=Adamm"], r"unknown optimizer 'Adamm'; did you mean 'Adam'\?"),
    ("unknown-scheduler", ["scheduler.name=StepLr"], r"unknown scheduler 'StepLr'; did you mean 'StepLR'\?"),
    ("unknown-dataset", ["data.dataset=digit"], r"unknown dataset 'digit'; did you mean 'digits'\?"),
    ("unknown-recipe-key", ["recipe.runer=x"], r"unknown key 'recipe\.runer'; did you mean 'runner'\?"),
    (
        "scheduler-key-for-other",
        ["scheduler.name=StepLR", "scheduler.step_size=2", "scheduler.T_max=3"],
        r"unknown key 'scheduler\.T_max'",
    ),
    ("no-equals", ["lr"], r"--set expects key=value \(e\.g\. optim\.lr=0\.01\), got 'lr'"),
    ("no-section", ["lr=0.1"], r"--set key must be section\.key \(e\.g\. optim\.lr\), got 'lr'"),
    ("empty-part", ["optim..lr=0.1"], r"--set key must be section\.key"),
    ("not-a-table", ["train.epochs.x=1"], r"--set train\.epochs\.x=1: train\.epochs is not a table"),
]

# Custom-runner recipes: an override keeps the kind of value the recipe file gives.
CUSTOM_CASES = [
    (
        "perceptron-epochs-str",
        "perceptron-logic",
        ["train.epochs=abc"],
        r"train\.epochs must be a positive "
        r"integer",
    ),
    (
        "perceptron-encoding-int",
        "perceptron-logic",
        ["data.encoding=3"],
        r"data\.encoding must be a string like the recipe's \"binary\", got 3",
    ),
    (
        "lm-bptt-float",
        "shakespeare-char-lstm",
        ["data.bptt=2.5"],
        r"data\.bptt must be an integer like the "
        r"recipe's \d+, got 2\.5",
    ),
    (
        "lm-unknown-key",
        "shakespeare-char-lstm",
        ["data.bpt=64"],
        r"unknown key 'data\.bpt' for recipe "
        r"'shakespeare-char-lstm'",
    ),
    ("xor-lr-str", "xor-mlp", ["optim.lr=fast"], r"optim\.lr must be a positive number"),
]


def run_main(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def _assert_usage(code, err, pattern):
    assert code == cli.EXIT_USAGE, err
    assert re.search(pattern, err), f"{err!r} does not match {pattern!r}"
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 4, err


@pytest.mark.parametrize("overrides,pattern", [c[1:] for c in SET_CASES], ids=[c[0] for c in SET_CASES])
def test_bad_set_values_exit_2_with_one_line(capsys, tmp_path, overrides, pattern):
    argv = ["train", "--no-progress", "--out", tmp_path / "run"]
    for o in overrides:
        argv += ["--set", o]
    code, _, err = run_main(capsys, *argv)
    _assert_usage(code, err, pattern)
    assert not (tmp_path / "run").exists()  # refused before anything was written


@pytest.mark.parametrize(
    "recipe,overrides,pattern", [c[1:] for c in CUSTOM_CASES], ids=[c[0] for c in CUSTOM_CASES]
)
def test_custom_runner_overrides_keep_their_kind(capsys, tmp_path, recipe, overrides, pattern):
    argv = ["train", recipe, "--no-progress", "--out", tmp_path / "run"]
    for o in overrides:
        argv += ["--set", o]
    code, _, err = run_main(capsys, *argv)
    _assert_usage(code, err, pattern)


def _recipe_file(tmp_path, text, name="mine.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


_GOOD = (
    '[recipe]\nrunner = "supervised"\ndescription = "x"\n[model]\nfactory = "gradus.models.mlp:MLP"\n'
    'sizes = [64, 10]\n[data]\ndataset = "digits"\n[optim]\nname = "SGD"\nlr = 0.1\n'
)

FILE_CASES = [
    ("malformed-toml", "[recipe\nname = 1", r"mine\.toml: not valid TOML: .*line 1"),
    ("unclosed-string", '[recipe]\ndescription = "x\n', r"not valid TOML"),
    ("duplicate-key", "[optim]\nlr = 1\nlr = 2\n", r"not valid TOML"),
    (
        "lr-str-in-file",
        _GOOD.replace("lr = 0.1", 'lr = "abc"'),
        r"optim\.lr must be a positive number "
        r".*\"abc\"",
    ),
    ("epochs-float-in-file", _GOOD + "[train]\nepochs = 2.5\n", r"train\.epochs must be a positive integer"),
    (
        "no-model",
        _GOOD.replace('factory = "gradus.models.mlp:MLP"\nsizes = [64, 10]\n', ""),
        r"a supervised recipe needs model\.factory",
    ),
    (
        "bad-factory",
        _GOOD.replace("gradus.models.mlp:MLP", "gradus.models.mlp:MLPP"),
        r"model\.factory 'gradus\.models\.mlp:MLPP': module 'gradus\.models\.mlp' has no 'MLPP'; "
        r"did you mean 'MLP'\?",
    ),
    (
        "bad-factory-form",
        _GOOD.replace("gradus.models.mlp:MLP", "MLP"),
        r"model\.factory must be "
        r"'package\.module:name', got 'MLP'",
    ),
    ("section-not-table", "train = 3\n" + _GOOD, r"mine\.toml: \[train\] must be a table .*got 3"),
    (
        "data-not-table",
        "data = 3\n" + _GOOD.replace('[data]\ndataset = "digits"\n', ""),
        r"mine\.toml: "
        r"\[data\] must be a table .*got 3",
    ),
    (
        "bad-target",
        _GOOD.replace('description = "x"', 'description = "x"\ntarget = 0.9'),
        r"recipe\.target must be \{ metric = \"\.\.\.\", value = \.\.\. \}, got 0\.9",
    ),
    (
        "incomplete-scheduler-in-file",
        _GOOD + '[scheduler]\nname = "StepLR"\n',
        r"\[scheduler\] StepLR "
        r"needs scheduler\.step_size",
    ),
]


@pytest.mark.parametrize("text,pattern", [c[1:] for c in FILE_CASES], ids=[c[0] for c in FILE_CASES])
def test_bad_recipe_files_exit_2(capsys, tmp_path, text, pattern):
    code, _, err = run_main(
        capsys, "train", _recipe_file(tmp_path, text), "--no-progress", "--out", tmp_path / "r"
    )
    _assert_usage(code, err, pattern)


ARG_CASES = [
    ("unknown-recipe", ["train", "digits_mlp"], r"unknown recipe 'digits_mlp'; did you mean 'digits-mlp'\?"),
    ("missing-recipe-file", ["train", "nowhere/x.toml"], r"recipe file nowhere/x\.toml does not exist"),
    ("epochs-flag-zero", ["train", "--epochs", "0"], r"train\.epochs must be a positive integer .*got 0"),
    (
        "epochs-flag-negative",
        ["train", "--epochs", "-1"],
        r"train\.epochs must be a positive integer .*got "
        r"-1",
    ),
    ("seed-flag-negative", ["train", "--seed", "-3"], r"train\.seed must be a non-negative integer"),
    ("embed-batch-size", ["embed", "a", "--batch-size", "0"], r"--batch-size must be >= 1, got 0"),
]


@pytest.mark.parametrize("argv,pattern", [c[1:] for c in ARG_CASES], ids=[c[0] for c in ARG_CASES])
def test_bad_arguments_exit_2(capsys, argv, pattern):
    code, _, err = run_main(capsys, *argv, *(["--no-progress"] if argv[0] == "train" else []))
    _assert_usage(code, err, pattern)


def test_out_pointing_at_a_file_is_refused(capsys, tmp_path):
    f = tmp_path / "taken"
    f.write_text("mine")
    code, _, err = run_main(capsys, "train", "--no-progress", "--out", f)
    _assert_usage(code, err, r"--out .*taken: is an existing file; expected a directory")
    assert f.read_text() == "mine"


# --------------------------------------------------------------------------- checkpoints


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "digits"
    code = cli.main(
        ["train", "--epochs", "1", "--out", str(out), "--no-progress", "--set", "train.plots=false"]
    )
    assert code == 0
    return out / "checkpoint.safetensors"


CKPT_CASES = [
    (
        "resume-other-shapes",
        lambda c, t: ["train", "--resume", c, "--set", "model.sizes=[64, 16, 10]", "--out", t],
        cli.EXIT_USAGE,
        r"cannot load .* into MLP [^\n]*\n\s+shape mismatch: layers\.0\.weight \(checkpoint "
        r"\(\d+, 64\), model \(16, 64\)\)",
    ),
    (
        "resume-other-depth",
        lambda c, t: ["train", "--resume", c, "--set", "model.sizes=[64, 32, 16, 10]", "--out", t],
        cli.EXIT_USAGE,
        r"cannot load .* into MLP",
    ),
    (
        "resume-other-optimizer",
        lambda c, t: ["train", "--resume", c, "--set", "optim.name=SGD", "--epochs", "2", "--out", t],
        cli.EXIT_USAGE,
        r"optimizer state .*\(saved from Adam\) into SGD: .*lacks .*'momentum'.*another "
        r"optimizer",
    ),
    (
        "resume-other-recipe",
        lambda c, t: ["train", "mnist-mlp", "--resume", c, "--out", t],
        cli.EXIT_USAGE,
        r"is a checkpoint of recipe 'digits-mlp', not 'mnist-mlp'",
    ),
    (
        "resume-bad-value",
        lambda c, t: ["train", "--resume", c, "--set", "optim.lr=abc", "--out", t],
        cli.EXIT_USAGE,
        r"optim\.lr must be a positive number",
    ),
    (
        "sample-classifier",
        lambda c, t: ["sample", c],
        cli.EXIT_USAGE,
        r"is not a language-model checkpoint \(no vocabulary stored\)",
    ),
    (
        "viz-out-file",
        lambda c, t: ["viz", c, "--out", c],
        cli.EXIT_USAGE,
        r"--out .*: is an existing file; "
        r"expected a directory",
    ),
    (
        "resume-missing",
        lambda c, t: ["train", "--resume", t / "none.safetensors"],
        cli.EXIT_FAILURE,
        r"CheckpointError: checkpoint .*none\.safetensors does not exist",
    ),
    ("eval-missing", lambda c, t: ["eval", t / "none.safetensors"], cli.EXIT_FAILURE, r"does not exist"),
]


@pytest.mark.parametrize("argv,code,pattern", [c[1:] for c in CKPT_CASES], ids=[c[0] for c in CKPT_CASES])
def test_checkpoints_of_another_model_are_refused(capsys, tmp_path, ckpt, argv, code, pattern):
    got, _, err = run_main(
        capsys, *argv(ckpt, tmp_path), *(["--no-progress"] if argv(ckpt, tmp_path)[0] == "train" else [])
    )
    assert got == code, err
    assert re.search(pattern, err), f"{err!r} does not match {pattern!r}"
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "content", [b"", b"not a checkpoint at all", b"\xff" * 64], ids=["empty", "text", "bytes"]
)
def test_corrupt_checkpoints_exit_1(capsys, tmp_path, content):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(content)
    for cmd in (["train", "--resume", bad, "--no-progress"], ["eval", bad], ["sample", bad]):
        code, _, err = run_main(capsys, *cmd)
        assert code == cli.EXIT_FAILURE and "CheckpointError" in err and "Traceback" not in err, err


# --------------------------------------------------------------------------- --debug


def _boom(args):
    raise RuntimeError("kaboom inside")


def test_internal_error_is_one_line_without_debug(capsys, monkeypatch):
    monkeypatch.setattr(cli, "cmd_list", _boom)
    monkeypatch.delenv("GRADUS_DEBUG", raising=False)
    code, _, err = run_main(capsys, "list")
    assert code == cli.EXIT_FAILURE
    assert re.search(r"gradus list: internal error: RuntimeError: kaboom inside", err)
    assert "--debug" in err and "Traceback" not in err


@pytest.mark.parametrize("argv", [["--debug", "list"], ["list", "--debug"]], ids=["before", "after"])
def test_internal_error_shows_traceback_with_debug(monkeypatch, argv):
    monkeypatch.setattr(cli, "cmd_list", _boom)
    with pytest.raises(RuntimeError, match="kaboom inside"):
        cli.main(argv)


def test_gradus_debug_env(monkeypatch):
    monkeypatch.setattr(cli, "cmd_list", _boom)
    monkeypatch.setenv("GRADUS_DEBUG", "1")
    with pytest.raises(RuntimeError):
        cli.main(["list"])


def test_usage_error_with_debug_keeps_exit_2_and_adds_traceback(capsys):
    code, _, err = run_main(capsys, "--debug", "train", "--set", "optim.lr=abc", "--no-progress")
    assert code == cli.EXIT_USAGE and "Traceback" in err and "optim.lr must be a positive number" in err


def test_real_command_has_no_traceback(tmp_path):
    """The installed entry point, as a learner runs it."""
    r = subprocess.run(
        [sys.executable, "-m", "gradus", "train", "--set", "train.epochs=2.5", "--no-progress"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip() == (
        "gradus train: error: train.epochs must be a positive integer (e.g. 3), got 2.5"
    )
