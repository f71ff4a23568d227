"""The vocabulary of reinforcement learning as types and small functions.

An agent and an environment interact in discrete time steps ``t = 0, 1, 2, ...``:

* a **state** ``s_t`` (:data:`State`) is what the agent observes; in the tabular environments of
  ``gymnasium.envs.toy_text`` it is an integer in ``range(n_states)``;
* an **action** ``a_t`` (:data:`Action`), an integer in ``range(n_actions)``, chosen by the agent;
* a **reward** ``r_{t+1}`` (:data:`Reward`) and the next state ``s_{t+1}`` come back from the
  environment; the transition is *Markov*: ``p(s', r | s, a)`` depends on ``(s_t, a_t)`` only;
* a **terminal** transition ends the episode (``done``); a time limit that *truncates* it is not a
  property of the MDP (the value after a truncation is still bootstrapped);
* the **discount factor** ``gamma`` in ``[0, 1]`` weighs later rewards less; the **return** is
  ``G_t = sum_{k >= 0} gamma^k r_{t+k+1} = r_{t+1} + gamma G_{t+1}`` (:func:`discounted_return`,
  :func:`returns_to_go`);
* a **policy** ``pi(a | s)`` (:data:`Policy`): here either a deterministic array of actions,
  shape ``(n_states,)`` (``pi(s) = policy[s]``), or a stochastic table, shape
  ``(n_states, n_actions)`` with rows summing to 1;
* the **state-value function** ``V^pi(s) = E_pi[G_t | s_t = s]`` and the **action-value function**
  ``Q^pi(s, a) = E_pi[G_t | s_t = s, a_t = a]``, related by ``V^pi(s) = sum_a pi(a|s) Q^pi(s, a)``
  and ``Q^pi(s, a) = R(s, a) + gamma sum_s' P(s'|s, a) V^pi(s')`` (the Bellman expectation
  equations); ``V*`` and ``Q*`` are their maxima over policies (the Bellman optimality equations
  ``V*(s) = max_a Q*(s, a)``).

:class:`MDP` is the *model* ``(P, R)`` as arrays, read from a toy-text environment's table
``env.unwrapped.P[s][a] = [(prob, s', r, done), ...]``; the planning algorithms of
:mod:`gradus.rl.tabular` (value and policy iteration) need it, the learning ones (Monte Carlo, TD,
SARSA, Q-learning) only call ``env.reset`` / ``env.step``.

    >>> discounted_return([0.0, 0.0, 1.0], gamma=0.9)           # 0.9^2 * 1
    0.81
    >>> mdp = MDP.from_table({0: {0: [(1.0, 1, 0.0, False)], 1: [(1.0, 0, 0.5, False)]},
    ...                       1: {0: [(1.0, 1, 1.0, True)], 1: [(1.0, 1, 1.0, True)]}})
    >>> mdp.n_states, mdp.n_actions
    (2, 2)
    >>> mdp.evaluate([0, 0], gamma=0.9).round(3).tolist()     # V(0) = 0 + 0.9 * 1
    [0.9, 1.0]
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["State", "Action", "Reward", "Policy", "ValueFunction", "ActionValueFunction", "MDP",
           "discounted_return", "returns_to_go", "as_policy_matrix"]

State = int  # an index in range(n_states)
Action = int  # an index in range(n_actions)
Reward = float
Policy = np.ndarray | Sequence[int]  # (n_states,) actions or (n_states, n_actions) pi(a|s)
ValueFunction = np.ndarray  # V(s): shape (n_states,)
ActionValueFunction = np.ndarray  # Q(s, a): shape (n_states, n_actions)


def discounted_return(rewards: Sequence[float], gamma: float) -> float:
    """``G_0 = sum_k gamma^k r_{k+1}`` of one reward sequence ``[r_1, r_2, ...]``.

    Summed backwards (``G_t = r_{t+1} + gamma G_{t+1}``), the same recursion TD methods bootstrap.
    """
    g = 0.0
    for r in reversed(list(rewards)):
        g = float(r) + gamma * g
    return g


def returns_to_go(rewards: Sequence[float], gamma: float) -> np.ndarray:
    """``[G_0, G_1, ..., G_{T-1}]`` of one episode (``G_t = r_{t+1} + gamma G_{t+1}``, ``G_T = 0``):
    what Monte-Carlo methods average, one entry per visited state."""
    r = np.asarray(rewards, dtype=np.float64)
    out = np.empty_like(r)
    g = 0.0
    for t in range(len(r) - 1, -1, -1):
        g = r[t] + gamma * g
        out[t] = g
    return out


def as_policy_matrix(policy: Policy, n_states: int, n_actions: int) -> np.ndarray:
    """``pi(a | s)`` as an ``(n_states, n_actions)`` table: a deterministic ``(n_states,)`` array of
    actions becomes one-hot rows; a stochastic table is checked and returned as float64."""
    p = np.asarray(policy)
    if p.shape == (n_states,):
        out = np.zeros((n_states, n_actions))
        out[np.arange(n_states), p.astype(np.int64)] = 1.0
        return out
    if p.shape != (n_states, n_actions):
        raise ValueError(f"a policy is ({n_states},) actions or a ({n_states}, {n_actions}) table of "
                         f"pi(a|s), got shape {p.shape}")
    p = p.astype(np.float64)
    if not np.allclose(p.sum(1), 1.0) or (p < 0).any():
        raise ValueError("the rows of a stochastic policy must be probabilities summing to 1")
    return p


@dataclass(frozen=True)
class MDP:
    """A finite MDP as arrays (the model of a toy-text environment).

    * ``P[s, a, s']``: the transition probability ``p(s' | s, a)``;
    * ``R[s, a]``: the expected reward ``sum_{s'} p(s'|s, a) r(s, a, s')``;
    * ``C[s, a, s']``: the probability of moving to ``s'`` *without* ending the episode
      (``p(s'|s, a)`` summed over the outcomes with ``done=False``): the backups bootstrap through
      ``C``, so a terminal transition contributes its reward and nothing after it;
    * ``start[s]``: the initial-state distribution (``env.unwrapped.initial_state_distrib``), or
      None when the table does not say.

    With these, ``Q(s, a) = R[s, a] + gamma * C[s, a] @ V`` for any ``V`` (:meth:`q_from_v`).
    """

    P: np.ndarray
    R: np.ndarray
    C: np.ndarray
    start: np.ndarray | None = None

    @property
    def n_states(self) -> int:
        return self.P.shape[0]

    @property
    def n_actions(self) -> int:
        return self.P.shape[1]

    @classmethod
    def from_table(cls, table: Mapping[int, Mapping[int, Sequence[tuple]]],
                   start: Sequence[float] | None = None) -> MDP:
        """From ``table[s][a] = [(prob, s', r, done), ...]`` (gymnasium's toy-text ``P``) and,
        optionally, the initial-state distribution ``start``."""
        n_s = len(table)
        n_a = len(table[0])
        P, C, R = np.zeros((n_s, n_a, n_s)), np.zeros((n_s, n_a, n_s)), np.zeros((n_s, n_a))
        for s in range(n_s):
            for a in range(n_a):
                for prob, s2, r, done in table[s][a]:
                    P[s, a, s2] += prob
                    R[s, a] += prob * r
                    if not done:
                        C[s, a, s2] += prob
        if not np.allclose(P.sum(-1), 1.0):
            raise ValueError("the transition probabilities of every (s, a) must sum to 1")
        return cls(P, R, C, None if start is None else np.asarray(start, dtype=np.float64))

    @classmethod
    def from_env(cls, env: Any) -> MDP:
        """From a gymnasium toy-text environment (``env.unwrapped.P``), or an MDP (returned as is)."""
        if isinstance(env, MDP):
            return env
        base = getattr(env, "unwrapped", env)
        table = getattr(base, "P", None)
        if table is None:
            raise TypeError(f"{type(env).__name__} has no transition table P: planning needs a model "
                            "(a gymnasium toy-text environment or a gradus.rl.MDP)")
        # FrozenLake and Taxi name it initial_state_distrib; CliffWalking has a start_state_index
        start = getattr(base, "initial_state_distrib", None)
        if start is None and hasattr(base, "start_state_index"):
            start = np.eye(len(table))[base.start_state_index]
        return cls.from_table(table, start)

    def q_from_v(self, V: np.ndarray, gamma: float) -> np.ndarray:
        """``Q(s, a) = R(s, a) + gamma sum_{s'} C(s, a, s') V(s')``: one step of look-ahead."""
        return self.R + gamma * (self.C @ np.asarray(V, dtype=np.float64))

    def evaluate(self, policy: Policy, gamma: float, horizon: int | None = None) -> np.ndarray:
        """``V^pi`` exactly: the linear Bellman expectation equations ``(I - gamma C_pi) V = R_pi``,
        solved with ``numpy.linalg.solve`` (``C_pi[s, s'] = sum_a pi(a|s) C[s, a, s']``,
        ``R_pi[s] = sum_a pi(a|s) R[s, a]``). Singular when ``gamma = 1`` and the policy can loop
        forever without ending the episode.

        With ``horizon=H`` the value of at most ``H`` steps instead (an episode truncated by a time
        limit): ``V_0 = 0``, ``V_{k+1} = R_pi + gamma C_pi V_k``, returns ``V_H``. With ``gamma=1``
        and a reward of 1 for reaching a goal (FrozenLake) that is the probability of reaching it
        within ``H`` steps.
        """
        pi = as_policy_matrix(policy, self.n_states, self.n_actions)
        C_pi = np.einsum("sa,sat->st", pi, self.C)
        R_pi = (pi * self.R).sum(1)
        if horizon is None:
            return np.linalg.solve(np.eye(self.n_states) - gamma * C_pi, R_pi)
        V = np.zeros(self.n_states)
        for _ in range(int(horizon)):
            V = R_pi + gamma * (C_pi @ V)
        return V
