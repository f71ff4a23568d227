"""gradus.rl.dqn: the replay buffer's ring, the (Double) DQN target on a hand-made batch, terminated
vs truncated transitions in the buffer, the target-network sync, the lockstep evaluation, and DQN
learning CartPole with a small budget."""
import json

import numpy as np
import pytest

from gradus.rl import (
    DQNConfig,
    ReplayBuffer,
    dqn,
    greedy_actor,
    linear_schedule,
    play_episodes,
    q_network,
    sync_target,
    td_targets,
)

gym = pytest.importorskip("gymnasium")
from gradus.rl import make_env  # noqa: E402


def _obs(i):
    return np.full(4, float(i), dtype=np.float32)


def test_replay_buffer_ring_overwrites_the_oldest():
    buf = ReplayBuffer(3, 4, seed=0)
    assert len(buf) == 0 and buf.obs.shape == (3, 4) and buf.obs.dtype == np.float32
    for i in range(5):
        buf.add(_obs(i), i % 2, float(i), _obs(i + 1), i == 4)
    assert len(buf) == 3 and buf.pos == 2          # 5 adds into 3 rows: rows 0, 1 hold adds 3, 4
    np.testing.assert_array_equal(buf.obs[:, 0], [3, 4, 2])
    np.testing.assert_array_equal(buf.next_obs[:, 0], [4, 5, 3])
    np.testing.assert_array_equal(buf.actions, [1, 0, 0])
    np.testing.assert_array_equal(buf.rewards, [3, 4, 2])
    np.testing.assert_array_equal(buf.terminated, [0, 1, 0])


def test_replay_buffer_sampling_shapes_and_contents():
    buf = ReplayBuffer(100, (4,), seed=1)
    with pytest.raises(ValueError, match="empty"):
        buf.sample(8)
    for i in range(10):
        buf.add(_obs(i), i % 2, float(i), _obs(i + 1), False)
    b = buf.sample(32)
    assert b.obs.shape == (32, 4) and b.next_obs.shape == (32, 4)
    assert b.actions.shape == b.rewards.shape == b.terminated.shape == (32,)
    assert b.actions.dtype == np.int64 and b.rewards.dtype == np.float32 and b.obs.dtype == np.float32
    # only the 10 filled rows, and every field of one sample comes from the same transition
    assert set(b.obs[:, 0].astype(int)) <= set(range(10))
    np.testing.assert_array_equal(b.next_obs[:, 0], b.obs[:, 0] + 1)
    np.testing.assert_array_equal(b.rewards, b.obs[:, 0])
    np.testing.assert_array_equal(b.actions, b.obs[:, 0].astype(int) % 2)
    # uniform over the filled rows: 10 rows, 20000 draws
    counts = np.bincount(buf.sample(20000).obs[:, 0].astype(int), minlength=10)
    assert counts.min() > 1700 and counts.max() < 2300
    # seeded: the same draws from the same generator state
    b1 = ReplayBuffer(100, 4, seed=7)
    b2 = ReplayBuffer(100, 4, seed=7)
    for bb in (b1, b2):
        for i in range(10):
            bb.add(_obs(i), 0, 0.0, _obs(i), False)
    np.testing.assert_array_equal(b1.sample(16).obs, b2.sample(16).obs)


def test_td_targets_terminated_vs_truncated():
    gamma = 0.9
    r = np.array([1.0, 1.0, 0.5])
    # row 0: an ordinary step; row 1: the pole fell (terminated); row 2: the time limit (truncated,
    # so terminated = 0 and the target bootstraps like row 0)
    terminated = np.array([0.0, 1.0, 0.0])
    q_next_target = np.array([[1.0, 3.0], [5.0, 2.0], [-1.0, -2.0]])
    y = td_targets(r, terminated, q_next_target, gamma)
    np.testing.assert_allclose(y, [1 + 0.9 * 3, 1.0, 0.5 + 0.9 * -1], rtol=1e-6)
    assert y.dtype == np.float32 and y.shape == (3,)
    # Double DQN: the online net picks a* = [0, 1, 1], the target net values it
    q_next_online = np.array([[2.0, 1.0], [0.0, 1.0], [0.0, 1.0]])
    y2 = td_targets(r, terminated, q_next_target, gamma, q_next_online)
    np.testing.assert_allclose(y2, [1 + 0.9 * 1, 1.0, 0.5 + 0.9 * -2], rtol=1e-6)


def test_dqn_stores_terminated_and_bootstraps_truncated():
    """CartPole cut at 5 steps: every episode is truncated (the pole cannot fall so soon), none of
    the stored transitions may be marked terminal; with the usual limit and random actions the
    pole falls and exactly the last transition of each episode is terminal."""
    env = make_env("CartPole-v1", max_episode_steps=5)
    buf = ReplayBuffer(100, 4)
    _, hist = dqn(env, 50, seed=0, learning_starts=10_000, replay_buffer=buf)
    assert len(hist.episode_returns) == 10 and len(buf) == 50
    assert buf.terminated.sum() == 0
    buf2 = ReplayBuffer(1000, 4)
    _, hist2 = dqn(make_env("CartPole-v1"), 300, seed=0, learning_starts=10_000, replay_buffer=buf2)
    ends = np.asarray(hist2.episode_end_steps) - 1
    assert len(ends) >= 5 and buf2.terminated.sum() == len(ends)
    np.testing.assert_array_equal(np.flatnonzero(buf2.terminated[:300]), ends)


def test_linear_schedule():
    eps = linear_schedule(1.0, 0.1, 100)
    assert eps(0) == 1.0 and eps(50) == pytest.approx(0.55) and eps(100) == pytest.approx(0.1)
    assert eps(10_000) == pytest.approx(0.1)
    assert linear_schedule(1.0, 0.2, 0)(0) == 0.2


def test_sync_target_hard_and_polyak():
    a, b = q_network(4, 2, (8,)), q_network(4, 2, (8,))
    pa, pb = list(a.parameters()), list(b.parameters())
    old = [p.data.copy() for p in pb]
    sync_target(b, a, tau=0.25)
    for p, q_, o in zip(pa, pb, old):
        np.testing.assert_allclose(q_.data, 0.25 * p.data + 0.75 * o, rtol=1e-5, atol=1e-7)
    sync_target(b, a)
    for p, q_ in zip(pa, pb):
        np.testing.assert_array_equal(q_.data, p.data)
        assert q_.data is not p.data  # a copy, not shared memory


def test_play_episodes_lockstep():
    env = make_env("CartPole-v1")
    pool = [make_env("CartPole-v1") for _ in range(4)]
    act = lambda obs: np.zeros(len(obs), dtype=np.int64)  # noqa: E731  (always push left)
    r = play_episodes(pool, act, 4, seed=3)
    # the same as playing each episode alone with reset seed 3 + i
    for i in range(4):
        env.reset(seed=3 + i)
        n, done = 0, False
        while not done:
            _, rew, term, trunc, _ = env.step(0)
            n += rew
            done = term or trunc
        assert r[i] == n
    trajs = play_episodes(pool, act, 3, seed=3, record=True, max_steps=5)
    assert [len(t.rewards) for t in trajs] == [5, 5, 5]
    assert all(t.truncated and not t.terminated for t in trajs)
    assert trajs[0].obs.shape == (5, 4) and trajs[0].actions.dtype == np.int64
    with pytest.raises(ValueError, match="environments"):
        play_episodes(pool, act, 5)


def test_dqn_learns_cartpole():
    """A reduced target for CI (the recipe cartpole-dqn asks for >= 475 over 100 episodes within
    50,000 steps): with the recipe's hyperparameters (DQNConfig's defaults), the greedy policy's mean
    return over 10 evaluation episodes, checked every 1,000 steps, reaches 150 within 5,000 steps,
    and holds >= 100 over 20 other episodes. Measured on seeds 0-7: reached at 2,000 (3,000 for
    seeds 3 and 6), re-evaluated 140-237; an untrained net scores ~9 and random actions ~22. Seed 0:
    ~8 s on one core."""
    pool = [make_env("CartPole-v1") for _ in range(20)]
    evals = []

    def check(step, q, hist):
        evals.append(play_episodes(pool, greedy_actor(q), 10, seed=777 + step).mean())
        return evals[-1] >= 150

    q, hist = dqn("CartPole-v1", 5_000, seed=0, callback=check, callback_every=1000)
    assert evals[0] < 100 and max(evals) >= 150, evals   # it starts bad and learns
    assert hist.stopped_at < 5_000
    assert play_episodes(pool, greedy_actor(q), 20, seed=4242).mean() >= 100
    assert len(hist.losses) == hist.stopped_at - DQNConfig().learning_starts
    assert np.isfinite(hist.losses).all()


def test_dqn_config_from_dict_ignores_other_keys():
    cfg = DQNConfig.from_dict({"lr": 5e-4, "hidden": [32, 16], "seeds": [0, 1], "eval_every": 10})
    assert cfg.lr == 5e-4 and cfg.hidden == (32, 16) and cfg.gamma == 0.99


def test_cartpole_dqn_recipe_short(tmp_path):
    """The recipe end to end through `gradus train`, tiny: one seed, 2,000 steps, evaluated twice."""
    from gradus.cli.main import main

    out = tmp_path / "dqn"
    assert main(["train", "cartpole-dqn", "--out", str(out), "--no-progress", "--set", "train.seeds=[3]",
                 "--set", "train.total_steps=2000", "--set", "train.eval_every=1000",
                 "--set", "train.eval_episodes=5", "--set", "train.quick_eval_episodes=3"]) == 0
    r = json.loads((out / "results.json").read_text())
    m = r["results"]
    assert r["recipe"] == "cartpole-dqn" and r["target"] == "seeds_solved >= 4"
    assert r["target_reached"] is False and m["seeds"] == 1 and m["total_steps"] == 2000
    seeds = json.loads((out / "seeds.json").read_text())
    run = seeds["3"]
    assert [e[0] for e in run["evals"]] == [1000, 2000][:len(run["evals"])]
    if m["seeds_solved"]:   # a lucky early pass of the (5-episode) full evaluation: consistent numbers
        assert m["steps_to_solve_seed3"] == run["evals"][-1][0] and run["eval_return"] >= 475
    else:
        assert m["steps_to_solve_seed3"] == -1 and run["env_steps"] == 2000
    assert 8 <= m["mean_eval_return"] <= 500 and m["mean_eval_return"] == run["eval_return"]
    assert len(run["episode_returns"]) == len(run["episode_end_steps"]) > 10
    assert (out / "returns.png").stat().st_size > 1000
