"""The reinforcement-learning recipes (gradus.recipes.runners.rl) end to end through `gradus train`,
each with small settings (a few seconds), reaching sane values; the full runs and their measured
numbers are in the recipes' header comments."""
import json

import pytest

from gradus.recipes import load_recipe

pytest.importorskip("gymnasium")

RL_RECIPES = ["frozenlake-value-iteration", "frozenlake-q-learning", "cliffwalking-sarsa-vs-q-learning",
              "taxi-q-learning"]


def _train(name, tmp_path, *sets):
    from gradus.cli.main import main

    out = tmp_path / name
    args = ["train", name, "--out", str(out), "--no-progress"]
    for s in sets:
        args += ["--set", s]
    assert main(args) == 0
    results = json.loads((out / "results.json").read_text())
    return results, out


@pytest.mark.parametrize("name", RL_RECIPES)
def test_rl_recipe_parses(name):
    cfg = load_recipe(name)
    assert cfg["recipe"]["runner"].startswith("gradus.recipes.runners.rl:")
    assert cfg["env"]["id"] and {"metric", "value"} <= set(cfg["recipe"]["target"])
    assert load_recipe(name, overrides=["train.seed=3"])["train"]["seed"] == 3


def test_frozenlake_value_iteration(tmp_path):
    r, out = _train("frozenlake-value-iteration", tmp_path, "train.eval_episodes=300")
    m = r["results"]
    assert m["success_probability"] == pytest.approx(0.7402, abs=1e-4)   # the known optimum
    assert 0.65 < m["success_rate"] < 0.83 and m["policy_iteration_agrees"]
    assert r["target_reached"] is not None
    assert (out / "values_policy.png").stat().st_size > 1000


def test_frozenlake_q_learning(tmp_path):
    r, out = _train("frozenlake-q-learning", tmp_path, "train.episodes=3000", "train.alpha=0.05",
                    "train.eval_episodes=200")
    m = r["results"]
    assert m["optimal_success_probability"] == pytest.approx(0.7402, abs=1e-4)
    assert m["success_probability"] > 0.5
    assert (out / "returns.png").exists() and (out / "values_policy.png").exists()


def test_cliffwalking_sarsa_vs_q_learning(tmp_path):
    r, out = _train("cliffwalking-sarsa-vs-q-learning", tmp_path, "train.runs=4", "train.episodes=500")
    m = r["results"]
    assert m["sarsa_last100_return"] > m["q_learning_last100_return"]   # SARSA earns more online
    assert m["q_learning_path_length"] == 13 and m["sarsa_path_length"] > 13
    assert m["q_learning_cliff_edge_runs"] > 0.5 > m["sarsa_cliff_edge_runs"]
    assert (out / "cliffwalking.png").stat().st_size > 1000
    assert (out / "values_policy_sarsa.png").exists() and (out / "values_policy_q_learning.png").exists()


def test_taxi_q_learning(tmp_path):
    r, out = _train("taxi-q-learning", tmp_path, "train.episodes=2000", "train.alpha=0.5",
                    "train.eval_episodes=50")
    m = r["results"]
    assert m["optimal_mean_return"] == pytest.approx(7.93, abs=0.05)
    assert m["mean_greedy_return"] > 5.0
    assert (out / "returns.png").exists()
