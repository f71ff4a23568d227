"""The recipes of the course's first chapter: each parses, names objects that exist, and the fast
ones reach their targets; mnist-mlp reaches 97% after ONE epoch on the real MNIST (slow test)."""
import time

import pytest

from gradus import recipes
from gradus.recipes import import_object, load_recipe, target_reached, validate
from gradus.recipes.datasets import DATASETS
from gradus.recipes.runners import run_recipe, run_supervised

CHAPTER1 = ["perceptron-logic", "adaline", "xor-mlp", "mnist-mlp", "mnist-dmlp", "mnist-textbook",
            "spam-mlp", "spiral-mlp", "mnist-overfit-l2"]


@pytest.mark.parametrize("name", CHAPTER1)
def test_recipe_parses_and_references_existing_objects(name):
    assert name in recipes.list_recipes()
    cfg = load_recipe(name)                       # validates keys against the factory/optimizer/dataset
    rec = cfg["recipe"]
    assert rec["name"] == name and rec["description"] and "\n" not in rec["description"]
    assert {"metric", "value"} <= set(rec["target"])
    assert " >= " in recipes.describe_target(cfg)   # every chapter-1 target is a "higher is better" metric
    if rec["runner"] != "supervised":
        assert callable(import_object(rec["runner"], "recipe.runner"))
    factory = (cfg.get("model") or {}).get("factory")
    if factory:
        assert callable(import_object(factory, "model.factory"))
    dataset = (cfg.get("data") or {}).get("dataset")
    if dataset:
        assert dataset in DATASETS
    # --epochs / --seed work for every recipe (custom runners only accept the keys they list)
    cfg = load_recipe(name, overrides=["train.epochs=3", "train.seed=5"])
    assert cfg["train"]["epochs"] == 3 and cfg["train"]["seed"] == 5


def test_mnist_recipes_build_the_lecture_networks():
    from gradus.recipes.runners import build_model

    for name, count in [("mnist-mlp", 1_796_010), ("mnist-dmlp", 11_972_510)]:
        cfg = load_recipe(name)
        model = build_model(cfg)
        assert sum(p.numel() for p in model.parameters()) == count
        # the per-step cosine schedule spans exactly the run: epochs x ceil(60000 / batch_size) steps
        steps = -(-60000 // cfg["data"]["batch_size"])
        assert cfg["scheduler"]["total_steps"] == cfg["train"]["epochs"] * steps
    assert load_recipe("mnist-dmlp")["data"]["augment"] == "elastic"


@pytest.mark.parametrize("name", ["perceptron-logic", "adaline", "xor-mlp", "spiral-mlp"])
def test_fast_recipe_reaches_its_target(name, tmp_path):
    cfg = load_recipe(name)
    results = run_recipe(cfg, tmp_path, progress=False)
    assert target_reached(cfg, results), results
    assert list(tmp_path.glob("*.png")), "the run writes its plots"


def test_mnist_recipes_smoke(shared_data, tmp_path):
    """`gradus train <recipe> --epochs 1 --set data.subset=...` runs end to end for each MNIST recipe."""
    from gradus.cli.main import main

    runs = {
        "mnist-mlp": ["--set", "data.subset=512", "--set", "data.test_subset=500"],
        "mnist-dmlp": ["--set", "data.subset=256", "--set", "data.test_subset=200",
                       "--set", "scheduler.warmup_steps=2", "--set", "scheduler.total_steps=2"],
        "mnist-overfit-l2": ["--set", "data.subset=100", "--set", "data.test_subset=200",
                             "--set", "model.sizes=[784, 32, 10]"],
    }
    for name, extra in runs.items():
        out = tmp_path / name
        code = main(["train", name, "--epochs", "1", "--data", str(shared_data), "--out", str(out),
                     "--no-progress", *extra])
        assert code == 0, name
        assert (out / "results.json").exists()


@pytest.mark.slow
def test_mnist_mlp_one_epoch(shared_data, tmp_path):
    """The lecture's 784-1000-1000-10 MLP: one epoch of SGD + momentum (batch 128, lr 0.1 decayed
    to 0 along a cosine within the epoch) on the 60,000 real MNIST images -> >= 97% test accuracy.

    Measured: ~0.976 (torch, same recipe); 10-30 s on an idle 2-core machine."""
    cfg = load_recipe("mnist-mlp", overrides=["train.epochs=1", "scheduler.total_steps=469",
                                              "train.plots=false"])
    validate(cfg)
    t0 = time.perf_counter()
    results = run_supervised(cfg, tmp_path, progress=False, data_root=shared_data)
    print(f"mnist-mlp, 1 epoch: test accuracy {results['test_accuracy']:.4f} in "
          f"{time.perf_counter() - t0:.1f} s")
    assert results["steps"] == 469
    assert results["test_accuracy"] >= 0.97
