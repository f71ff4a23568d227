"""The recurrent-network recipes: each parses and builds its model, and runs end to end on a slice of
the real data (the full runs and their numbers are in benchmarks/RESULTS.md)."""
import json

import numpy as np
import pytest

from gradus import recipes
from gradus.recipes import import_object, load_recipe
from gradus.recipes.runners import build_model

RNN_RECIPES = ["sequential-mnist-lstm", "sentiment-lstm"]  # + shakespeare-char-lstm (custom runner, below)


@pytest.mark.parametrize("name", RNN_RECIPES)
def test_recipe_parses_and_builds(name):
    assert name in recipes.list_recipes()
    cfg = load_recipe(name)
    assert callable(import_object(cfg["model"]["factory"], "model.factory"))
    if "scheduler" in cfg:
        assert cfg["scheduler"]["T_max"] == cfg["train"]["epochs"]
    counts = {"sequential-mnist-lstm": 82_186, "sentiment-lstm": 289_666}
    assert sum(p.numel() for p in build_model(cfg).parameters()) == counts[name]


def test_sentiment_lstm_and_its_baseline_run_on_the_same_split(shared_data, tmp_path):
    """CI version: one epoch each (the 5-epoch numbers, over seeds, are in RESULTS.md)."""
    from gradus.cli.main import main
    from gradus.recipes import build_dataset

    for name in ("sentiment-lstm", "sentiment-bow-mlp"):
        out = tmp_path / name
        assert main(["train", name, "--epochs", "1", "--no-progress", "--data", str(shared_data),
                     "--out", str(out)]) == 0
        acc = json.loads((out / "results.json").read_text())["results"]["test_accuracy"]
        assert acc > 0.55, (name, acc)
    tok = build_dataset("sentiment_tokens", root=shared_data)
    bow = build_dataset("sentiment", root=shared_data)
    assert len(tok.test) == len(bow.test) == 600
    labels = [np.asarray([int(ds[i][1]) for i in range(len(ds))]) for ds in (tok.test, bow.test)]
    np.testing.assert_array_equal(*labels)


def test_sequential_mnist_lstm_runs_end_to_end(shared_data, tmp_path):
    """CI version: 6,000 images, one epoch (~10-25 s): measured 0.70 test accuracy (the full recipe's
    8 epochs are in RESULTS.md)."""
    from gradus.cli.main import main

    args = ["train", "sequential-mnist-lstm", "--epochs", "1", "--no-progress", "--data", str(shared_data),
            "--out", str(tmp_path), "--set", "data.subset=6000", "--set", "data.test_subset=2000",
            "--set", "scheduler.T_max=1"]
    assert main(args) == 0
    acc = json.loads((tmp_path / "results.json").read_text())["results"]["test_accuracy"]
    assert acc > 0.5, acc


def test_shakespeare_char_lstm_runs_and_samples(shared_data, tmp_path, capsys):
    """CI version of shakespeare-char-lstm: a 20k-character prefix, a 64-unit LSTM, one epoch; then
    `gradus sample` on its checkpoint (the vocabulary travels in the checkpoint)."""
    from gradus.cli.main import main

    cfg = load_recipe("shakespeare-char-lstm")
    assert cfg["scheduler"]["T_max"] == cfg["train"]["epochs"] and cfg["recipe"]["target"]["value"] == 1.55
    args = ["train", "shakespeare-char-lstm", "--epochs", "1", "--no-progress", "--data", str(shared_data),
            "--out", str(tmp_path), "--set", "data.max_chars=20000", "--set", "model.hidden_size=64",
            "--set", "data.batch_size=16", "--set", "data.bptt=50", "--set", "scheduler.T_max=1",
            "--set", "sample.length=40"]
    assert main(args) == 0
    res = json.loads((tmp_path / "results.json").read_text())["results"]
    assert 1.0 < res["val_loss"] < 4.17 + 0.3      # ln 65 = 4.17: the uniform guess
    assert (tmp_path / "sample.txt").read_text().startswith("ROMEO:")
    capsys.readouterr()
    assert main(["sample", str(tmp_path / "checkpoint.safetensors"), "--prompt", "KING", "--length", "30",
                 "--top-k", "10"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("KING") and len(out.rstrip("\n")) >= 30
    assert main(["sample", str(tmp_path / "checkpoint.safetensors"), "--prompt", "€"]) == 2
