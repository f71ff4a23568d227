"""The custom runners of gradus.recipes.runners, called directly (the recipes' end-to-end runs are in
test_chapter1_recipes.py), and the runner strings of recipes written for the old locations."""
import pytest

from gradus.recipes import MOVED_RUNNERS, import_object, load_recipe
from gradus.recipes.runners.perceptron import run_adaline, run_perceptron_logic
from gradus.recipes.runners.textbook import run_textbook


def test_run_perceptron_logic_writes_plot(tmp_path, capsys):
    config = {"data": {"gates": ["and", "or", "xor"]}, "train": {"epochs": 100, "seed": 0}}
    m = run_perceptron_logic(config, tmp_path, progress=True)
    assert m["and_accuracy"] == m["or_accuracy"] == m["and_or_accuracy"] == 1.0
    assert m["and_converged"] and m["or_converged"] and not m["xor_converged"]
    out = capsys.readouterr().out
    assert "the data is not linearly separable (XOR)" in out
    assert (tmp_path / "decision_boundaries.png").stat().st_size > 1000


def test_run_adaline(tmp_path):
    m = run_adaline({"train": {"epochs": 10, "seed": 0}, "optim": {"lr": 0.01}}, tmp_path, progress=False)
    assert m["test_accuracy"] >= 0.99 and m["and_accuracy"] == 1.0
    assert (tmp_path / "adaline.png").exists() and (tmp_path / "adaline_loss.png").exists()


def test_run_textbook_on_mnist_subset(shared_data, tmp_path):
    config = {"model": {"sizes": [784, 30, 10]}, "optim": {"lr": 3.0},
              "data": {"batch_size": 10, "subset": 3000, "test_subset": 1000, "root": str(shared_data)},
              "train": {"epochs": 2, "seed": 0}}
    m = run_textbook(config, tmp_path, progress=False)
    assert m["test_accuracy"] >= 0.8
    assert (tmp_path / "curves.png").exists() and (tmp_path / "first_layer.png").exists()


def test_recipes_name_the_runners_package():
    from gradus.recipes import list_recipes

    for name in list_recipes():
        runner = load_recipe(name, check=False)["recipe"]["runner"]
        assert runner == "supervised" or runner.startswith("gradus.recipes.runners."), (name, runner)


@pytest.mark.parametrize("old", sorted(MOVED_RUNNERS))
def test_old_runner_strings_still_resolve(old):
    """A recipe file written for `gradus.models.mlp:run_xor` & co. keeps working."""
    assert import_object(old, "recipe.runner") is import_object(MOVED_RUNNERS[old], "recipe.runner")


def test_the_recipes_package_reaches_its_runners_and_datasets():
    import gradus.recipes as recipes
    from gradus.recipes.datasets import DATASETS, build_dataset
    from gradus.recipes.runners import run_recipe

    assert recipes.DATASETS is DATASETS and recipes.build_dataset is build_dataset
    assert recipes.run_recipe is run_recipe
    with pytest.raises(AttributeError):
        recipes.no_such_name  # noqa: B018
