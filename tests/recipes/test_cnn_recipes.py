"""The convolutional-network recipes: each parses and builds its model; each runs end to end on a
tiny slice of the real data; the depth experiment's custom runner writes its curves and metrics;
``gradus viz`` draws filters, feature maps and Grad-CAM from a trained checkpoint."""
import json

import pytest

from gradus import recipes
from gradus.recipes import import_object, load_recipe
from gradus.recipes.runners import build_model

pytestmark = pytest.mark.filterwarnings("ignore:CIFAR10.*only:UserWarning")  # the shared copy is a subset

CNN_RECIPES = ["mnist-lenet5", "mnist-lenet5-paper", "mnist-cnn", "cifar10-resnet20",
               "depth-plain-vs-residual"]


@pytest.mark.parametrize("name", CNN_RECIPES)
def test_recipe_parses_and_references_existing_objects(name):
    assert name in recipes.list_recipes()
    cfg = load_recipe(name)
    rec = cfg["recipe"]
    assert rec["name"] == name and rec["description"] and "\n" not in rec["description"]
    assert {"metric", "value"} <= set(rec["target"])
    if rec["runner"] != "supervised":
        assert callable(import_object(rec["runner"], "recipe.runner"))
    else:
        assert callable(import_object(cfg["model"]["factory"], "model.factory"))
        if cfg.get("scheduler", {}).get("name") == "CosineAnnealingLR":
            assert cfg["scheduler"]["T_max"] == cfg["train"]["epochs"]
    cfg = load_recipe(name, overrides=["train.epochs=3", "train.seed=5"])
    assert cfg["train"]["epochs"] == 3 and cfg["train"]["seed"] == 5


@pytest.mark.parametrize("name,count", [("mnist-lenet5-paper", 60_900), ("mnist-lenet5", 61_706),
                                        ("mnist-cnn", 223_530),
                                        ("cifar10-resnet20", 269_722)])
def test_recipes_build_their_networks(name, count):
    model = build_model(load_recipe(name))
    assert sum(p.numel() for p in model.parameters()) == count


def test_cifar_recipe_says_it_uses_the_subset():
    desc = load_recipe("cifar10-resnet20")["recipe"]["description"]
    assert "10k" in desc and "1k" in desc


@pytest.mark.parametrize("name,sets", [
    ("mnist-lenet5", ["data.subset=2048", "data.test_subset=200"]),
    ("mnist-lenet5-paper", ["data.subset=256", "data.test_subset=200"]),
    ("mnist-cnn", ["data.subset=256", "data.test_subset=200"]),
    ("cifar10-resnet20", ["data.subset=128", "data.test_subset=100", "data.batch_size=64"]),
])
def test_supervised_cnn_recipes_run_end_to_end(name, sets, shared_data, tmp_path):
    from gradus.cli.main import main

    args = ["train", name, "--epochs", "1", "--no-progress", "--data", str(shared_data),
            "--out", str(tmp_path)]
    for s in sets:
        args += ["--set", s]
    assert main(args) == 0
    results = json.loads((tmp_path / "results.json").read_text())
    acc = results["results"]["test_accuracy"]
    assert 0.0 <= acc <= 1.0
    assert (tmp_path / "checkpoint.safetensors").is_file()
    if name.startswith("mnist-lenet5"):
        assert acc > 0.3  # 256-2048 images, one epoch: far from 99%, far above chance
        # gradus viz on the checkpoint: the three CNN pictures
        for what in ("filters", "features", "gradcam"):
            assert main(["viz", str(tmp_path / "checkpoint.safetensors"), "--what", what,
                         "--data", str(shared_data), "--out", str(tmp_path / "viz")]) == 0
        assert len(list((tmp_path / "viz").glob("*.png"))) == 3


def test_depth_experiment_tiny_run(shared_data, tmp_path):
    from gradus.cli.main import main

    sets = ["experiment.depths=[8, 14]", "experiment.width=2", "experiment.log_every=1",
            "data.subset=64", "data.test_subset=50", "data.batch_size=32", "data.eval_batch_size=64"]
    args = ["train", "depth-plain-vs-residual", "--epochs", "2", "--no-progress", "--data", str(shared_data),
            "--out", str(tmp_path)]
    for s in sets:
        args += ["--set", s]
    assert main(args) == 0
    results = json.loads((tmp_path / "results.json").read_text())["results"]
    for net in ("plain8", "plain14", "resnet8", "resnet14"):
        assert 0.0 <= results[f"train_error_{net}"] <= 1.0 and 0.0 <= results[f"test_error_{net}"] <= 1.0
    assert results["plain_degradation"] == pytest.approx(results["train_error_plain14"]
                                                         - results["train_error_plain8"])
    assert results["residual_advantage"] == pytest.approx(results["train_error_plain14"]
                                                          - results["train_error_resnet14"])
    history = json.loads((tmp_path / "history.json").read_text())
    assert set(history) == {"plain8", "plain14", "resnet8", "resnet14"}
    assert history["plain14"]["params"] == history["resnet14"]["params"]  # option A: identical twins
    assert len(history["resnet8"]["step_train_error"]) == 4  # 2 epochs x 2 batches, log_every=1
    png = tmp_path / "training_error.png"
    assert png.is_file() and png.read_bytes()[:4] == b"\x89PNG"


def test_depth_experiment_refuses_unknown_keys():
    with pytest.raises(recipes.RecipeError, match="experiment.depth"):
        load_recipe("depth-plain-vs-residual", overrides=["experiment.depht=[8]"])
