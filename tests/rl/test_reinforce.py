"""gradus.rl.reinforce: returns-to-go with a bootstrapped tail, the policy-gradient loss's gradient
against the analytic score function and central differences (float64), the sampling actor's
distribution, and REINFORCE improving CartPole in a short run."""
import json

import numpy as np
import pytest

import gradus
from gradus.autograd import gradcheck
from gradus.rl import (
    ReinforceConfig,
    discounted_returns,
    greedy_policy_actor,
    play_episodes,
    policy_gradient_loss,
    policy_network,
    reinforce,
    sampling_actor,
)

gym = pytest.importorskip("gymnasium")
from gradus.rl import make_env  # noqa: E402


def test_discounted_returns_and_bootstrap():
    np.testing.assert_allclose(discounted_returns([1.0, 2.0, 3.0], 0.5), [2.75, 3.5, 3.0])
    # a truncated episode: the tail after the cut is worth V(s_T) = 8, discounted once more per step back
    np.testing.assert_allclose(discounted_returns([1.0, 2.0, 3.0], 0.5, bootstrap=8.0),
                               [2.75 + 0.125 * 8, 3.5 + 0.25 * 8, 3.0 + 0.5 * 8])
    assert discounted_returns([], 0.9).shape == (0,)


def _softmax(z):
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def test_policy_gradient_loss_matches_the_score_function():
    """grad_z [-(1/N) sum_t A_t log pi(a_t | z_t)] = -(1/N) A_t (onehot(a_t) - softmax(z_t))."""
    rng = np.random.default_rng(0)
    z = rng.normal(size=(5, 3))
    a = np.array([0, 2, 1, 1, 0])
    adv = rng.normal(size=5)
    logits = gradus.tensor(z, dtype=gradus.float64, requires_grad=True)
    loss = policy_gradient_loss(logits, a, adv)
    p = _softmax(z)
    assert float(loss.data) == pytest.approx(-np.mean(adv * np.log(p[np.arange(5), a])), rel=1e-12)
    loss.backward()
    expected = -(adv[:, None] * (np.eye(3)[a] - p)) / 5
    np.testing.assert_allclose(logits.grad.data, expected, rtol=1e-10, atol=1e-14)


def test_policy_gradient_loss_with_entropy_central_differences():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(4, 3))
    a = np.array([2, 0, 1, 2])
    adv = rng.normal(size=4)
    logits = gradus.tensor(z, dtype=gradus.float64, requires_grad=True)
    assert gradcheck(lambda x: policy_gradient_loss(x, a, adv, entropy_coef=0.3), (logits,))
    # and by hand: the loss, then each partial derivative by central differences
    def f(zz):
        p = _softmax(zz)
        return -np.mean(adv * np.log(p[np.arange(4), a])) - 0.3 * np.mean(-(p * np.log(p)).sum(1))
    loss = policy_gradient_loss(logits, a, adv, entropy_coef=0.3)
    assert float(loss.data) == pytest.approx(f(z), rel=1e-12)
    loss.backward()
    num = np.zeros_like(z)
    h = 1e-6
    for idx in np.ndindex(z.shape):
        zp, zm = z.copy(), z.copy()
        zp[idx] += h
        zm[idx] -= h
        num[idx] = (f(zp) - f(zm)) / (2 * h)
    np.testing.assert_allclose(logits.grad.data, num, rtol=1e-6, atol=1e-9)
    # the entropy bonus pushes towards uniform: its gradient alone is not zero away from uniform
    assert not np.allclose(num, -(adv[:, None] * (np.eye(3)[a] - _softmax(z))) / 4)


def test_sampling_actor_draws_from_the_policy():
    gradus.manual_seed(0)
    pol = policy_network(4, 3, (8,))
    obs = np.random.default_rng(0).normal(size=(1, 4)).astype(np.float32)
    with gradus.no_grad():
        p = gradus.functional.softmax(pol(gradus.tensor(obs)), dim=1).data[0]
    act = sampling_actor(pol, np.random.default_rng(0))
    draws = act(np.repeat(obs, 30000, axis=0))
    freq = np.bincount(draws, minlength=3) / len(draws)
    np.testing.assert_allclose(freq, p, atol=0.015)
    assert greedy_policy_actor(pol)(obs)[0] == int(np.argmax(p))


def test_reinforce_improves_cartpole():
    """20,000 env steps (the recipe's defaults, seed 1; ~170 episodes, a few seconds): the greedy
    policy's mean return over 20 episodes goes from the untrained net's to >= 150 (measured: the
    recipe's seed 1 solves, >= 475 over 100 episodes, at 15,124 steps)."""
    steps = 20_000
    pool = [make_env("CartPole-v1") for _ in range(20)]
    gradus.manual_seed(1)
    before = play_episodes(pool, greedy_policy_actor(policy_network(4, 2, (64, 64))), 20, seed=999).mean()
    policy, value, hist = reinforce("CartPole-v1", steps, seed=1)
    after = play_episodes(pool, greedy_policy_actor(policy), 20, seed=999).mean()
    assert after >= 150 and after > before + 100, (before, after)
    first, last = np.mean(hist.episode_returns[:40]), np.mean(hist.episode_returns[-40:])
    assert last > 2 * first, (first, last)
    assert len(hist.policy_losses) == len(hist.value_losses) == len(hist.entropies) > 0
    assert hist.stopped_at >= steps


def test_reinforce_config_from_dict():
    cfg = ReinforceConfig.from_dict({"lr": 1e-2, "hidden": [16], "total_steps": 5})
    assert cfg.lr == 1e-2 and cfg.hidden == (16,) and cfg.baseline


def test_cartpole_reinforce_recipe_short(tmp_path):
    """The recipe end to end through `gradus train`, tiny: one seed, 3,000 steps (~100 episodes of a
    still poor policy, so no seed solves), evaluated twice."""
    from gradus.cli.main import main

    out = tmp_path / "reinforce"
    assert main(["train", "cartpole-reinforce", "--out", str(out), "--no-progress",
                 "--set", "train.seeds=[1]", "--set", "train.total_steps=3000",
                 "--set", "train.eval_every=1500",
                 "--set", "train.eval_episodes=5", "--set", "train.quick_eval_episodes=3"]) == 0
    r = json.loads((out / "results.json").read_text())
    m = r["results"]
    assert r["recipe"] == "cartpole-reinforce" and r["target_reached"] is False
    assert m["seeds"] == 1 and m["seeds_solved"] == 0 and m["steps_to_solve_seed1"] == -1
    assert 8 <= m["mean_eval_return"] < 475 and 8 <= m["mean_sampled_return"] <= 500
    seeds = json.loads((out / "seeds.json").read_text())
    assert len(seeds["1"]["evals"]) == 2 and seeds["1"]["env_steps"] >= 3000
    assert (out / "returns.png").stat().st_size > 1000
