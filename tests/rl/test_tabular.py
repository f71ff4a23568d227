"""gradus.rl: the vocabulary, planning (value / policy iteration against an exact solve) and
learning (Monte Carlo, TD(0), SARSA, Q-learning) on gymnasium's toy-text environments."""
import numpy as np
import pytest

from gradus.rl import (
    MDP,
    discounted_return,
    epsilon_greedy,
    greedy_action,
    greedy_policy,
    mc_policy_evaluation,
    policy_iteration,
    q_learning,
    returns_to_go,
    rollout,
    sarsa,
    td0,
    value_iteration,
)

gym = pytest.importorskip("gymnasium")
from gradus.rl import make_env  # noqa: E402

# A hand-made 3-state MDP: 0 -a0-> 1 (r 0), 0 -a1-> stays with prob 0.5 / ends with prob 0.5 (r 1);
# 1 -a0-> 2 terminal (r 10), 1 -a1-> back to 0 (r 2); 2 absorbing (r 0, done).
TABLE = {
    0: {0: [(1.0, 1, 0.0, False)], 1: [(0.5, 0, 1.0, False), (0.5, 2, 1.0, True)]},
    1: {0: [(1.0, 2, 10.0, True)], 1: [(1.0, 0, 2.0, False)]},
    2: {0: [(1.0, 2, 0.0, True)], 1: [(1.0, 2, 0.0, True)]},
}


def test_discounted_return_and_returns_to_go():
    assert discounted_return([1.0, 2.0, 3.0], 0.5) == pytest.approx(1 + 0.5 * 2 + 0.25 * 3)
    assert discounted_return([], 0.9) == 0.0
    assert discounted_return([1.0] * 4, 1.0) == 4.0
    G = returns_to_go([1.0, 2.0, 3.0], 0.5)
    np.testing.assert_allclose(G, [2.75, 3.5, 3.0])
    assert G[0] == pytest.approx(discounted_return([1.0, 2.0, 3.0], 0.5))


def test_mdp_from_table():
    mdp = MDP.from_table(TABLE)
    assert mdp.P.shape == (3, 2, 3) and mdp.R.shape == (3, 2)
    np.testing.assert_allclose(mdp.P.sum(-1), 1.0)
    assert mdp.R[0, 1] == 1.0 and mdp.R[1, 0] == 10.0
    assert mdp.C[0, 1, 0] == 0.5 and mdp.C[0, 1, 2] == 0.0  # the terminal outcome does not continue
    assert mdp.C[1, 0].sum() == 0.0


@pytest.mark.parametrize("gamma", [0.5, 0.9, 0.99])
def test_value_iteration_equals_the_exact_solution(gamma):
    V, policy = value_iteration(MDP.from_table(TABLE), gamma=gamma, tol=1e-13)
    mdp = MDP.from_table(TABLE)
    # every deterministic policy's exact value, (I - gamma P_pi) V = R_pi with P_pi the continuing part
    best = None
    for a0 in range(2):
        for a1 in range(2):
            pi = np.array([a0, a1, 0])
            P_pi = mdp.C[np.arange(3), pi]
            R_pi = mdp.R[np.arange(3), pi]
            V_pi = np.linalg.solve(np.eye(3) - gamma * P_pi, R_pi)
            if best is None or V_pi[0] > best[1][0] + 1e-12:
                best = (pi, V_pi)
    np.testing.assert_allclose(V, best[1], atol=1e-10)
    np.testing.assert_array_equal(policy[:2], best[0][:2])
    # the optimal value satisfies the Bellman optimality equation
    np.testing.assert_allclose(V, mdp.q_from_v(V, gamma).max(1), atol=1e-10)
    # by hand: with gamma = 0.5 state 1 cashes the 10 (V = [5, 10, 0]); with gamma = 0.9 the loop
    # 1 -> 0 -> 1 paying 2 every other step is worth more, V(1) = 2 / (1 - 0.81), V(0) = 0.9 V(1)
    if gamma == 0.5:
        np.testing.assert_allclose(V, [5.0, 10.0, 0.0], atol=1e-9)
    if gamma == 0.9:
        np.testing.assert_allclose(V, [1.8 / 0.19, 2 / 0.19, 0.0], atol=1e-9)
        assert policy[1] == 1


def test_policy_iteration_and_value_iteration_agree_on_frozenlake():
    env = make_env("FrozenLake-v1", map_name="4x4", is_slippery=True)
    V_vi, pi_vi = value_iteration(env, gamma=0.99, tol=1e-12)
    V_pi, pi_pi = policy_iteration(env, gamma=0.99)
    np.testing.assert_allclose(V_vi, V_pi, atol=1e-8)
    np.testing.assert_array_equal(pi_vi, pi_pi)
    mdp = MDP.from_env(env)
    np.testing.assert_allclose(mdp.evaluate(pi_vi, 0.99), V_pi, atol=1e-8)
    # the known optimum: the goal within the 100-step limit with probability 0.7402 (14/17 without it)
    assert mdp.evaluate(pi_vi, 1.0, horizon=100)[0] == pytest.approx(0.7402, abs=1e-4)
    assert mdp.evaluate(pi_vi, 1.0)[0] == pytest.approx(14 / 17, abs=1e-9)


def test_off_policy_q_learning_with_a_random_behaviour_finds_the_optimal_path():
    """epsilon = 1: the agent never follows its estimate, yet the greedy policy in Q is optimal."""
    env = make_env("FrozenLake-v1", map_name="4x4", is_slippery=False)
    Q = q_learning(env, episodes=3000, alpha=0.5, gamma=0.9, epsilon=1.0, seed=0)
    _, optimal = value_iteration(env, gamma=0.9)
    ep = rollout(env, greedy_policy(Q), seed=0, max_steps=50)
    assert ep.terminated and ep.total_reward == 1.0 and len(ep) == 6  # the shortest path: 6 moves
    ep_opt = rollout(env, optimal, seed=0, max_steps=50)
    assert len(ep_opt) == 6
    V_star, _ = value_iteration(env, gamma=0.9, tol=1e-12)
    path = ep.states
    np.testing.assert_allclose(Q.max(1)[path], V_star[path], atol=1e-3)


@pytest.mark.parametrize("fn", [sarsa, q_learning])
def test_td_control_is_deterministic_under_a_seed(fn):
    env = make_env("FrozenLake-v1", map_name="4x4", is_slippery=True)
    Q1, h1 = fn(env, episodes=200, alpha=0.1, gamma=0.99, epsilon=0.2, seed=3, return_history=True)
    Q2, h2 = fn(env, episodes=200, alpha=0.1, gamma=0.99, epsilon=0.2, seed=3, return_history=True)
    Q3 = fn(env, episodes=200, alpha=0.1, gamma=0.99, epsilon=0.2, seed=4)
    assert Q1.shape == (16, 4) and Q1.dtype == np.float64 and h1.shape == (200,)
    np.testing.assert_array_equal(Q1, Q2)
    np.testing.assert_array_equal(h1, h2)
    assert not np.array_equal(Q1, Q3)
    assert set(np.unique(h1)) <= {0.0, 1.0}


def test_sarsa_and_q_learning_differ_on_the_cliff():
    """Example 6.6 in one run: the same seed and settings, SARSA's greedy path keeps off the edge."""
    env = make_env("CliffWalking-v1")
    Qs = sarsa(env, episodes=500, alpha=0.5, gamma=1.0, epsilon=0.1, seed=0)
    Qq = q_learning(env, episodes=500, alpha=0.5, gamma=1.0, epsilon=0.1, seed=0)
    path_q = rollout(env, greedy_policy(Qq), seed=0, max_steps=100)
    path_s = rollout(env, greedy_policy(Qs), seed=0, max_steps=100)
    assert path_q.terminated and len(path_q) == 13  # up, 11 x right along the cliff, down
    assert path_s.terminated and len(path_s) > 13
    beside = [s for s in path_s.states if s // 12 == 2 and s % 12 not in (0, 11)]
    assert not beside, beside  # SARSA never walks the row beside the cliff (only its two ends)


def test_monte_carlo_and_td0_estimate_v_pi():
    env = make_env("FrozenLake-v1", map_name="4x4", is_slippery=True)
    _, policy = value_iteration(env, gamma=0.9)
    exact = MDP.from_env(env).evaluate(policy, 0.9)
    V_mc = mc_policy_evaluation(env, policy, episodes=3000, gamma=0.9, seed=0)
    V_td = td0(env, policy, episodes=3000, alpha=0.02, gamma=0.9, seed=0)
    assert abs(V_mc[0] - exact[0]) < 0.02 and abs(V_td[0] - exact[0]) < 0.03
    visited = exact > 0
    assert np.abs(V_mc - exact)[visited].max() < 0.1
    np.testing.assert_array_equal(mc_policy_evaluation(env, policy, 50, 0.9, seed=1),
                                  mc_policy_evaluation(env, policy, 50, 0.9, seed=1))


def test_epsilon_greedy_breaks_ties_at_random():
    rng = np.random.default_rng(0)
    picks = [greedy_action(np.zeros(4), rng) for _ in range(400)]
    assert set(picks) == {0, 1, 2, 3}
    assert greedy_action([0.0, 2.0, 1.0, 2.0]) == 1  # without a generator: the lowest index
    counts = np.bincount([epsilon_greedy([0.0, 1.0, 0.0], 0.3, rng) for _ in range(3000)], minlength=3)
    # P(a=1) = 1 - eps + eps/3 = 0.8, the others eps/3 = 0.1 each
    np.testing.assert_allclose(counts / 3000, [0.1, 0.8, 0.1], atol=0.03)
    assert greedy_policy(np.array([[0.0, 1.0], [1.0, 1.0 - 1e-15]])).tolist() == [1, 0]
