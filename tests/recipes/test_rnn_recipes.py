"""The recurrent-network recipes: each parses and builds its model, and runs end to end on a slice of
the real data (the full runs and their numbers are in benchmarks/RESULTS.md)."""
import json

import pytest

from gradus import recipes
from gradus.recipes import import_object, load_recipe
from gradus.recipes.runners import build_model

RNN_RECIPES = ["sequential-mnist-lstm"]


@pytest.mark.parametrize("name", RNN_RECIPES)
def test_recipe_parses_and_builds(name):
    assert name in recipes.list_recipes()
    cfg = load_recipe(name)
    assert callable(import_object(cfg["model"]["factory"], "model.factory"))
    assert cfg["scheduler"]["T_max"] == cfg["train"]["epochs"]
    assert sum(p.numel() for p in build_model(cfg).parameters()) == 82_186


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
