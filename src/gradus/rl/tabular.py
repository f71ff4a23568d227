"""Tabular reinforcement learning: planning with a model, then learning from episodes.

Planning (needs the model ``P, R`` of :class:`~gradus.rl.mdp.MDP`, read from a toy-text env):

* :func:`value_iteration` repeats the **Bellman optimality backup**
  ``V_{k+1}(s) = max_a [ R(s, a) + gamma sum_{s'} p(s'|s, a) V_k(s') ]`` until
  ``max_s |V_{k+1}(s) - V_k(s)| < tol``; the policy is greedy in the last ``V``.
* :func:`policy_iteration` alternates exact **policy evaluation** (``(I - gamma P_pi) V = R_pi``)
  and greedy **policy improvement** ``pi'(s) = argmax_a Q^pi(s, a)`` until the policy is stable.

Learning from experience (only ``env.reset`` / ``env.step``):

* :func:`mc_policy_evaluation`, first-visit Monte Carlo: ``V(s)`` is the mean of the returns
  ``G_t`` that follow the first visit of ``s`` in each episode.
* :func:`td0`: ``V(s_t) <- V(s_t) + alpha [r_{t+1} + gamma V(s_{t+1}) - V(s_t)]`` after every step.
* :func:`sarsa` (on-policy TD control): the target uses the action actually taken next,
  ``Q(s,a) <- Q(s,a) + alpha [r + gamma Q(s', a') - Q(s,a)]`` with ``a' ~ eps-greedy(Q(s', .))``,
  so it learns the value of the epsilon-greedy policy it follows (and its exploration risk).
* :func:`q_learning` (off-policy TD control): the target is the greedy one,
  ``Q(s,a) <- Q(s,a) + alpha [r + gamma max_a' Q(s', a') - Q(s,a)]``, whatever the behaviour
  policy does next, so it learns ``Q*`` even while exploring at random.

Conventions: after a *terminal* transition the bootstrap term is 0 (nothing follows the end);
after a *truncation* (a time limit, ``truncated=True``) it is kept (the state is not terminal,
the episode was only cut). Exploration is epsilon-greedy (:func:`epsilon_greedy`): with
probability ``epsilon`` a uniformly random action, else a greedy one, ties broken at random —
all draws from one seeded ``numpy.random.Generator``, and the environment is reset with the same
seed once, so a run is a function of its ``seed``. The learned tables are float64 NumPy arrays:
``V`` of shape ``(n_states,)``, ``Q`` of shape ``(n_states, n_actions)``.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .mdp import MDP, Policy, as_policy_matrix

__all__ = ["value_iteration", "policy_iteration", "policy_evaluation", "mc_policy_evaluation", "td0",
           "sarsa", "q_learning", "epsilon_greedy", "greedy_action", "greedy_policy", "Episode",
           "rollout", "evaluate_policy"]


# --------------------------------------------------------------------------- planning


def greedy_policy(Q: np.ndarray, tol: float = 1e-12) -> np.ndarray:
    """``pi(s) = argmax_a Q(s, a)`` as an ``(n_states,)`` int array; actions within ``tol`` of the
    maximum count as tied and the lowest index wins (deterministic, so two solvers that reach the
    same ``Q`` up to round-off return the same policy)."""
    Q = np.asarray(Q, dtype=np.float64)
    return np.argmax(Q >= Q.max(1, keepdims=True) - tol, axis=1).astype(np.int64)


def value_iteration(env: Any, gamma: float = 0.99, tol: float = 1e-10,
                    max_iter: int = 100_000) -> tuple[np.ndarray, np.ndarray]:
    """Optimal ``(V, policy)`` by value iteration on the model of ``env`` (a toy-text env or an MDP).

    ``V_{k+1}(s) = max_a [R(s, a) + gamma sum_{s'} C(s, a, s') V_k(s')]`` from ``V_0 = 0``, stopped
    when the largest change is below ``tol``. The backup is a ``gamma``-contraction in the max-norm,
    so ``V_k -> V*`` for ``gamma < 1`` (and ``|V_k - V*| <= tol gamma / (1 - gamma)`` at the stop);
    ``gamma = 1`` converges when every policy ends its episodes. ``policy`` is greedy in the
    returned ``V`` (:func:`greedy_policy`, ties within ``1e-9`` to the lowest action).
    """
    mdp = MDP.from_env(env)
    V = np.zeros(mdp.n_states)
    for _ in range(int(max_iter)):
        V_new = mdp.q_from_v(V, gamma).max(1)
        delta = np.abs(V_new - V).max()
        V = V_new
        if delta < tol:
            break
    else:
        raise RuntimeError(f"value iteration did not converge to tol={tol} in {max_iter} sweeps")
    return V, greedy_policy(mdp.q_from_v(V, gamma), tol=1e-9)


def policy_evaluation(env: Any, policy: Policy, gamma: float) -> np.ndarray:
    """``V^pi`` of ``env``'s model exactly (:meth:`MDP.evaluate <gradus.rl.mdp.MDP.evaluate>`)."""
    return MDP.from_env(env).evaluate(policy, gamma)


def policy_iteration(env: Any, gamma: float = 0.99, max_iter: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """Optimal ``(V, policy)`` by policy iteration on the model of ``env``.

    From ``pi_0(s) = 0``: evaluate ``V^pi`` exactly (a linear solve), improve
    ``pi'(s) = argmax_a [R(s, a) + gamma sum_{s'} C(s, a, s') V^pi(s')]``, stop when ``pi' = pi``.
    Each improvement is monotone (``V^{pi'} >= V^pi``) and there are finitely many deterministic
    policies, so it stops, usually in a handful of iterations. The current action is kept when it
    is within ``1e-9`` of the best (otherwise tied actions could make it cycle forever); else ties go
    to the lowest action, as in :func:`value_iteration`. Needs ``gamma < 1`` unless every policy
    ends its episodes (the evaluation is singular otherwise).
    """
    mdp = MDP.from_env(env)
    policy = np.zeros(mdp.n_states, dtype=np.int64)
    states = np.arange(mdp.n_states)
    for _ in range(int(max_iter)):
        V = mdp.evaluate(policy, gamma)
        Q = mdp.q_from_v(V, gamma)
        keep = Q[states, policy] >= Q.max(1) - 1e-9
        new = np.where(keep, policy, greedy_policy(Q, tol=1e-9))
        if np.array_equal(new, policy):
            return V, policy
        policy = new
    raise RuntimeError(f"policy iteration did not stabilise in {max_iter} iterations")


# --------------------------------------------------------------------------- acting


def greedy_action(q: Sequence[float], rng: np.random.Generator | None = None) -> int:
    """``argmax_a q[a]``, ties broken uniformly at random by ``rng`` (the lowest index without one).

    Random tie-breaking matters at the start of learning, when a row of ``Q`` is all zeros: always
    taking action 0 would make a "greedy" agent a deterministic walker into a wall."""
    q = q.tolist() if isinstance(q, np.ndarray) else list(q)  # Python floats: faster for 4-6 actions
    m = max(q)
    best = [a for a, v in enumerate(q) if v == m]
    if len(best) == 1 or rng is None:
        return best[0]
    return best[int(rng.integers(len(best)))]


def epsilon_greedy(q: Sequence[float], epsilon: float, rng: np.random.Generator) -> int:
    """With probability ``epsilon`` a uniformly random action (the greedy one included, as in Sutton
    & Barto), else :func:`greedy_action`: every action has probability ``>= epsilon / n_actions``."""
    if epsilon > 0.0 and rng.random() < epsilon:
        return int(rng.integers(len(q)))
    return greedy_action(q, rng)


@dataclass
class Episode:
    """One episode: ``states[t]``, ``actions[t]``, ``rewards[t]`` (= ``r_{t+1}``, the reward after
    ``actions[t]``), ``terminated`` (ended in a terminal state, not cut by a time limit)."""

    states: list[int]
    actions: list[int]
    rewards: list[float]
    terminated: bool

    @property
    def total_reward(self) -> float:
        """The undiscounted return ``sum_t r_{t+1}``."""
        return float(sum(self.rewards))

    def __len__(self) -> int:
        return len(self.actions)


def _actor(policy: Policy | None, n_states: int, n_actions: int):
    """``(state, rng) -> action`` for a deterministic ``(n_states,)`` or stochastic policy table."""
    p = np.asarray(policy)
    if p.shape == (n_states,):
        acts = p.astype(np.int64).tolist()
        return lambda s, rng: acts[s]
    pi = as_policy_matrix(p, n_states, n_actions)
    cdf = np.cumsum(pi, axis=1)
    return lambda s, rng: int(min(np.searchsorted(cdf[s], rng.random(), side="right"), n_actions - 1))


def _sizes(env: Any) -> tuple[int, int]:
    return int(env.observation_space.n), int(env.action_space.n)


def rollout(env: Any, policy: Policy, seed: int | None = None, rng: np.random.Generator | None = None,
            max_steps: int = 10_000) -> Episode:
    """Run one episode of ``policy`` in ``env`` (``env.reset(seed=seed)``, then ``env.step`` until
    terminated, truncated, or ``max_steps`` steps: a greedy policy may walk in circles in an
    environment without a time limit, such as CliffWalking)."""
    n_s, n_a = _sizes(env)
    act = _actor(policy, n_s, n_a)
    rng = rng if rng is not None else np.random.default_rng(seed)
    s, _ = env.reset(seed=seed)
    states, actions, rewards = [], [], []
    terminated = False
    for _ in range(int(max_steps)):
        a = act(s, rng)
        s2, r, terminated, truncated, _ = env.step(a)
        states.append(int(s))
        actions.append(int(a))
        rewards.append(float(r))
        s = s2
        if terminated or truncated:
            break
    return Episode(states, actions, rewards, bool(terminated))


def evaluate_policy(env: Any, policy: Policy, episodes: int = 100, seed: int = 0,
                    max_steps: int = 10_000) -> np.ndarray:
    """The undiscounted return of ``episodes`` episodes of ``policy`` (shape ``(episodes,)``); the
    environment is reset with ``seed`` once, so the episodes differ and the run repeats exactly."""
    rng = np.random.default_rng(seed)
    out = np.empty(int(episodes))
    for i in range(int(episodes)):
        ep = rollout(env, policy, seed=seed if i == 0 else None, rng=rng, max_steps=max_steps)
        out[i] = ep.total_reward
    return out


# --------------------------------------------------------------------------- prediction


def mc_policy_evaluation(env: Any, policy: Policy, episodes: int = 1000, gamma: float = 0.99,
                         seed: int = 0) -> np.ndarray:
    """``V^pi`` estimated by first-visit Monte Carlo.

    For each episode ``s_0, a_0, r_1, ..., s_{T-1}, a_{T-1}, r_T`` the returns are computed backwards
    (``G_t = r_{t+1} + gamma G_{t+1}``); for each state, the return after its *first* visit in the
    episode is appended, and ``V(s)`` is the mean of its list (the incremental form
    ``V(s) <- V(s) + (G - V(s)) / N(s)``). Unbiased, no bootstrapping, no model; states never visited
    keep ``V = 0``. Episodes cut by a time limit are used as they are (their returns are short)."""
    n_s, n_a = _sizes(env)
    rng = np.random.default_rng(seed)
    V, N = np.zeros(n_s), np.zeros(n_s)
    for i in range(int(episodes)):
        ep = rollout(env, policy, seed=seed if i == 0 else None, rng=rng)
        first: dict[int, int] = {}
        for t, s in enumerate(ep.states):
            first.setdefault(s, t)
        g, G = 0.0, [0.0] * len(ep)
        for t in range(len(ep) - 1, -1, -1):
            g = ep.rewards[t] + gamma * g
            G[t] = g
        for s, t in first.items():
            N[s] += 1
            V[s] += (G[t] - V[s]) / N[s]
    return V


def td0(env: Any, policy: Policy, episodes: int = 1000, alpha: float = 0.1, gamma: float = 0.99,
        seed: int = 0) -> np.ndarray:
    """``V^pi`` estimated by TD(0): after every step
    ``V(s_t) <- V(s_t) + alpha [r_{t+1} + gamma V(s_{t+1}) - V(s_t)]`` (bootstrapped, online),
    with ``V(s_{t+1})`` replaced by 0 after a terminal transition."""
    n_s, n_a = _sizes(env)
    act = _actor(policy, n_s, n_a)
    rng = np.random.default_rng(seed)
    V = np.zeros(n_s)
    for i in range(int(episodes)):
        s, _ = env.reset(seed=seed if i == 0 else None)
        while True:
            s2, r, terminated, truncated, _ = env.step(act(s, rng))
            target = r if terminated else r + gamma * V[s2]
            V[s] += alpha * (target - V[s])
            s = s2
            if terminated or truncated:
                break
    return V


# --------------------------------------------------------------------------- control


def _td_control(env: Any, episodes: int, alpha: float, gamma: float, epsilon: float, seed: int,
                on_policy: bool, return_history: bool):
    n_s, n_a = _sizes(env)
    rng = np.random.default_rng(seed)
    Q = np.zeros((n_s, n_a))
    history = np.zeros(int(episodes))
    for i in range(int(episodes)):
        s, _ = env.reset(seed=seed if i == 0 else None)
        a = epsilon_greedy(Q[s], epsilon, rng)
        total = 0.0
        while True:
            s2, r, terminated, truncated, _ = env.step(a)
            total += r
            a2 = epsilon_greedy(Q[s2], epsilon, rng)  # the behaviour policy's next action
            if terminated:
                target = r
            elif on_policy:
                target = r + gamma * Q[s2, a2]  # SARSA: the action that will be taken
            else:
                target = r + gamma * Q[s2].max()  # Q-learning: the greedy action, taken or not
            Q[s, a] += alpha * (target - Q[s, a])
            s, a = s2, a2
            if terminated or truncated:
                break
        history[i] = total
    return (Q, history) if return_history else Q


def sarsa(env: Any, episodes: int = 500, alpha: float = 0.5, gamma: float = 1.0, epsilon: float = 0.1,
          seed: int = 0, return_history: bool = False):
    """On-policy TD control: the ``(n_states, n_actions)`` table ``Q`` of the epsilon-greedy policy.

    Each step of the quintuple ``(s, a, r, s', a')``, with ``a'`` drawn epsilon-greedily from
    ``Q(s', .)`` *before* the update and then actually taken::

        Q(s, a) <- Q(s, a) + alpha [r + gamma Q(s', a') - Q(s, a)]      (target r after a terminal step)

    With a constant ``epsilon`` it converges to the best *epsilon-greedy* policy, which keeps away
    from states where an exploratory step is costly (the cliff in Sutton & Barto's example 6.6).

    ``return_history=True`` returns ``(Q, returns)``: ``returns[i]`` is the undiscounted return
    ``sum_t r_{t+1}`` that episode ``i`` earned while learning (the "online" return, exploration
    included) — the curves of example 6.6.
    """
    return _td_control(env, episodes, alpha, gamma, epsilon, seed, True, return_history)


def q_learning(env: Any, episodes: int = 500, alpha: float = 0.5, gamma: float = 1.0,
               epsilon: float = 0.1, seed: int = 0, return_history: bool = False):
    """Off-policy TD control (Watkins 1989): the ``(n_states, n_actions)`` table ``Q``, an estimate of
    ``Q*`` whatever the behaviour policy::

        Q(s, a) <- Q(s, a) + alpha [r + gamma max_a' Q(s', a') - Q(s, a)]  (target r after a terminal step)

    The behaviour is epsilon-greedy in ``Q`` (``epsilon=1``: uniformly random, still learning ``Q*``
    as long as every pair keeps being tried). The greedy policy in ``Q`` is the learned one; its
    online return suffers from exploration where the optimal path runs beside a risk (the cliff edge).

    ``return_history=True`` returns ``(Q, returns)`` as in :func:`sarsa`.
    """
    return _td_control(env, episodes, alpha, gamma, epsilon, seed, False, return_history)
