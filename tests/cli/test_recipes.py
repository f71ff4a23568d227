import pytest

from gradus import recipes
from gradus.recipes import RecipeError, apply_overrides, load_recipe, parse_override


def test_every_packaged_recipe_loads_and_validates():
    names = recipes.list_recipes()
    assert "digits-mlp" in names and names == sorted(names)
    for name in names:
        cfg = load_recipe(name)
        assert cfg["recipe"]["name"] == name
        assert cfg["recipe"]["description"], f"{name}: a one-line description is shown by `gradus list`"


def test_discovery_picks_up_every_toml(tmp_path, monkeypatch):
    (tmp_path / "b-exp.toml").write_text('[recipe]\ndescription = "b"\nrunner = "json:dumps"\n')
    (tmp_path / "a-exp.toml").write_text('[recipe]\ndescription = "a"\nrunner = "json:dumps"\n')
    (tmp_path / "notes.txt").write_text("not a recipe")
    monkeypatch.setattr(recipes, "recipes_dir", lambda: tmp_path)
    assert recipes.list_recipes() == ["a-exp", "b-exp"]
    assert load_recipe("a-exp")["recipe"]["runner"] == "json:dumps"


def test_defaults_are_filled_in():
    cfg = load_recipe("digits-mlp")
    assert cfg["recipe"]["runner"] == "supervised"
    assert cfg["train"]["l2"] == 0.0 and cfg["train"]["early_stopping"]["patience"] == 0
    assert cfg["data"]["eval_batch_size"] == 256


@pytest.mark.parametrize("text,value", [
    ("optim.lr=0.01", 0.01), ("train.epochs=3", 3), ("model.sizes=[64, 32, 10]", [64, 32, 10]),
    ("optim.name=SGD", "SGD"), ('optim.name="SGD"', "SGD"), ("train.plots=false", False),
    ("train.early_stopping={patience = 3}", {"patience": 3}),
])
def test_parse_override_values_are_toml(text, value):
    assert parse_override(text)[1] == value


def test_overrides_apply_and_nest():
    cfg = load_recipe("digits-mlp", ["optim.name=SGD", "optim.momentum=0.9",
                                     "train.early_stopping.patience=4",
                                     "scheduler.name=StepLR", "scheduler.step_size=5"])
    assert cfg["optim"] == {"name": "SGD", "lr": 0.002, "momentum": 0.9}
    es = cfg["train"]["early_stopping"]
    assert es["patience"] == 4 and es["monitor"] == "val_loss"
    assert cfg["scheduler"] == {"name": "StepLR", "step_size": 5}
    base = {"a": {"b": 1}}
    assert apply_overrides(base, ["a.c=2"]) == {"a": {"b": 1, "c": 2}} and base == {"a": {"b": 1}}


@pytest.mark.parametrize("override,message", [
    ("optim.lrr=1", "unknown key 'optim.lrr'; did you mean 'optim.lr'?"),
    ("model.dropuot=0.1", "did you mean 'model.dropout'?"),
    ("data.batchsize=3", "did you mean 'data.batch_size'?"),
    ("train.epoch=3", "did you mean 'train.epochs'?"),
    ("train.early_stopping.patiense=2", "did you mean 'patience'?"),
    ("optim.name=Adamm", "unknown optimizer 'Adamm'; did you mean 'Adam'?"),
    ("scheduler.name=StepLr", "did you mean 'StepLR'?"),
    ("data.dataset=digit", "did you mean 'digits'?"),
    ("recipe.runer=x", "did you mean 'runner'?"),
    ("optimizer.lr=1", "unknown section [optimizer]; did you mean 'optim'?"),
    ("lr", "expects key=value"),
])
def test_bad_keys_are_refused_with_a_suggestion(override, message):
    with pytest.raises(RecipeError) as e:
        load_recipe("digits-mlp", [override])
    assert message in str(e.value)


def test_unknown_recipe_and_bad_files(tmp_path):
    with pytest.raises(RecipeError, match="did you mean 'digits-mlp'"):
        load_recipe("digits_mlp")
    bad = tmp_path / "bad.toml"
    bad.write_text("[recipe\nname = 1")
    with pytest.raises(RecipeError, match="not valid TOML"):
        load_recipe(bad)
    missing = tmp_path / "model-less.toml"
    missing.write_text('[recipe]\nrunner = "supervised"\n[data]\ndataset = "digits"\n[optim]\nname = "SGD"\n')
    with pytest.raises(RecipeError, match="needs model.factory"):
        load_recipe(missing)
    runner = tmp_path / "r.toml"
    runner.write_text('[recipe]\nrunner = "gradus.models.mlp:no_such_runner"\n')
    with pytest.raises(RecipeError, match="has no 'no_such_runner'"):
        load_recipe(runner)


def test_targets():
    cfg = load_recipe("digits-mlp")
    assert recipes.describe_target(cfg) == "test_accuracy >= 0.95"
    assert recipes.target_reached(cfg, {"test_accuracy": 0.96}) is True
    assert recipes.target_reached(cfg, {"test_accuracy": 0.9}) is False
    assert recipes.target_reached(cfg, {}) is None
    loss_target = {"recipe": {"target": {"metric": "test_loss", "value": 0.5}}}
    assert recipes.describe_target(loss_target) == "test_loss <= 0.5"
    assert recipes.target_reached(loss_target, {"test_loss": 0.4}) is True
