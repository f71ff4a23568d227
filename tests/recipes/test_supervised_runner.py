import io
import json

import pytest

from gradus.recipes import RecipeError, load_recipe, validate
from gradus.recipes.runners import build_data, build_model, build_optimizer, build_scheduler, run_supervised


def test_supervised_runner_on_a_2d_problem(tmp_path, capsys):
    cfg = load_recipe("digits-mlp", [
        "model.sizes=[2, 32, 3]", "model.dropout=0.0", "data.dataset=spiral", "data.val_fraction=0.2",
        "data.batch_size=32", "optim.lr=0.01", "train.epochs=6", "train.early_stopping.patience=50",
        "scheduler.name=warmup_cosine", "scheduler.warmup_steps=5", "scheduler.total_steps=36",
    ], check=False)
    with pytest.raises(RecipeError, match="unknown key 'data.standardize'"):
        validate(cfg)  # a digits option, not a spiral one
    del cfg["data"]["standardize"]
    validate(cfg)
    res = run_supervised(cfg, tmp_path, progress=True, stream=io.StringIO())
    assert {"test_loss", "test_accuracy", "test_macro_f1", "epochs", "steps", "final_val_loss"} <= set(res)
    assert res["epochs"] == 6 and res["steps"] == 36
    for name in ("decision_boundary.png", "curves.png", "confusion.png", "results.json", "metrics.jsonl"):
        assert (tmp_path / name).is_file(), name
    assert not (tmp_path / "misclassified.png").exists()  # not image data
    summary = json.loads((tmp_path / "results.json").read_text())
    assert summary["results"]["test_accuracy"] == res["test_accuracy"]
    out = capsys.readouterr().out
    assert "LambdaLR per step" in out and "192 train / 48 val / 60 test" in out


def test_builders_follow_the_recipe():
    cfg = load_recipe("digits-mlp", ["optim.name=Adam", "optim.betas=[0.8, 0.9]", "scheduler.name=StepLR",
                                     "scheduler.step_size=3"])
    bundle = build_data(cfg)
    assert len(bundle.val) == 144 and len(bundle.train) == 1294
    model = build_model(cfg)
    opt = build_optimizer(cfg, model)
    assert opt.param_groups[0]["betas"] == (0.8, 0.9)
    sched, interval = build_scheduler(cfg, opt)
    assert type(sched).__name__ == "StepLR" and interval == "epoch"
    cfg["optim"]["nonsense"] = 1
    with pytest.raises(TypeError):
        build_optimizer(cfg, model)
