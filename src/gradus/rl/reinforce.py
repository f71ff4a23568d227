"""REINFORCE with a learned baseline (Williams 1992; Sutton & Barto, section 13.4).

A stochastic policy ``pi_theta(a | s) = softmax(f_theta(s))_a`` (an MLP from :mod:`gradus.nn` with
one logit per action) is improved by gradient ascent on ``J(theta) = E[G_0]``. The policy-gradient
theorem gives the score-function estimator, with a baseline ``b(s) = V_phi(s)`` that leaves it
unbiased (``E[grad log pi(a|s) b(s)] = 0``) and lowers its variance::

    G_t  = sum_{k >= t} gamma^(k - t) r_{k+1}                    returns-to-go (:func:`discounted_returns`)
    A_t  = G_t - V_phi(s_t)                                      advantage (optionally normalised)
    L_pi = -(1/N) sum_t [A_t log pi_theta(a_t | s_t) + beta H(pi_theta(. | s_t))]
    L_V  = (1/N) sum_t (V_phi(s_t) - G_t)^2

over the ``N`` steps of a batch of episodes (:func:`policy_gradient_loss` is ``L_pi``; ``beta`` the
entropy bonus, ``H(p) = -sum_a p_a log p_a``). ``A_t`` is a constant in ``L_pi`` (no gradient into
the baseline) and ``grad_z L_pi`` for logits ``z_t`` is ``-(1/N) A_t (onehot(a_t) - pi_t)`` (the
entropy term aside), which ``tests/rl/test_reinforce.py`` checks against autograd.

**Truncated episodes.** A time limit cuts an episode without ending the task: the return after the
cut is not zero. With ``bootstrap_truncated`` (default) the returns-to-go of a truncated episode start
from ``G_T = V_phi(s_T)`` (the baseline's estimate of the rest) instead of ``0``; without it every
late step of a 500-step CartPole episode would look bad (its ``G_t`` shrinks to ``r`` at the cut)
and the policy would be pushed away from the perfect episodes it already plays.

Episodes are collected in lockstep (:func:`gradus.rl.dqn.play_episodes`): ``episodes_per_batch``
environments, one batched policy call per time step. The recipe ``cartpole-reinforce`` is
:func:`gradus.recipes.runners.deep_rl.run_cartpole_reinforce`.
"""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import nn, no_grad, optim, tensor
from ..functional import log_softmax, mse_loss, softmax
from ..random import manual_seed
from .dqn import Trajectory, config_from_dict, env_factory, greedy_actor, mlp, play_episodes
from .envs import make_env

__all__ = ["ReinforceConfig", "ReinforceHistory", "reinforce", "policy_gradient_loss",
           "discounted_returns", "sampling_actor", "greedy_policy_actor", "policy_network", "value_network"]


def discounted_returns(rewards: Sequence[float] | np.ndarray, gamma: float,
                       bootstrap: float = 0.0) -> np.ndarray:
    """``G_t = r_{t+1} + gamma G_{t+1}`` for ``t = T-1 .. 0`` from ``G_T = bootstrap`` (0 after a
    terminal state; ``V(s_T)`` after a truncation), float64 of the rewards' length."""
    r = np.asarray(rewards, dtype=np.float64)
    out = np.empty_like(r)
    g = float(bootstrap)
    for t in range(len(r) - 1, -1, -1):
        g = r[t] + gamma * g
        out[t] = g
    return out


def policy_gradient_loss(logits: Any, actions: Any, advantages: Any, entropy_coef: float = 0.0) -> Any:
    """``L_pi = -mean_t [A_t log softmax(z_t)_{a_t} + entropy_coef H(softmax(z_t))]``.

    ``logits`` (N, n_actions) Tensor, ``actions`` (N,) ints, ``advantages`` (N,) array (treated as a
    constant). Its gradient is the REINFORCE estimate of ``-grad J`` (minimise it to ascend ``J``).
    """
    logp = log_softmax(logits, dim=1)
    a = np.asarray(actions.data if hasattr(actions, "data") else actions, dtype=np.int64).reshape(-1, 1)
    adv = np.asarray(advantages.data if hasattr(advantages, "data") else advantages)
    logp_a = logp.gather(1, a).squeeze(1)
    loss = -(logp_a * tensor(adv.astype(logp.data.dtype, copy=False))).mean()
    if entropy_coef:
        entropy = -(softmax(logits, dim=1) * logp).sum(1).mean()
        loss = loss - float(entropy_coef) * entropy
    return loss


def policy_network(obs_dim: int, n_actions: int, hidden: Sequence[int] = (64, 64),
                   activation: Callable[[], nn.Module] = nn.Tanh) -> nn.Sequential:
    """The policy: an MLP ``obs_dim -> hidden... -> n_actions`` of logits (``pi = softmax(logits)``)."""
    return mlp([obs_dim, *hidden, n_actions], activation)


def value_network(obs_dim: int, hidden: Sequence[int] = (64, 64),
                  activation: Callable[[], nn.Module] = nn.Tanh) -> nn.Sequential:
    """The baseline ``V_phi``: an MLP ``obs_dim -> hidden... -> 1``."""
    return mlp([obs_dim, *hidden, 1], activation)


def sampling_actor(policy: nn.Module, rng: np.random.Generator) -> Callable[[np.ndarray], np.ndarray]:
    """``obs batch -> a ~ pi(. | s)`` per row (inverse-CDF draws from ``rng``), under ``no_grad``."""
    def act(obs: np.ndarray) -> np.ndarray:
        with no_grad():
            p = softmax(policy(tensor(obs)), dim=1).data.astype(np.float64)
        u = rng.random((len(p), 1))
        return np.minimum((p.cumsum(1) < u).sum(1), p.shape[1] - 1)
    return act


def greedy_policy_actor(policy: nn.Module) -> Callable[[np.ndarray], np.ndarray]:
    """``obs batch -> argmax_a pi(a | s)`` under ``no_grad`` (the greedy evaluation): softmax keeps
    the order of the logits, so this is DQN's :func:`~gradus.rl.dqn.greedy_actor` on the policy."""
    return greedy_actor(policy)


@dataclass
class ReinforceConfig:
    """The hyperparameters of :func:`reinforce` (defaults: the ``cartpole-reinforce`` recipe's).

    hidden: hidden widths of the policy and of the baseline (tanh MLPs).
    lr, value_lr: Adam's learning rates of the policy and of the baseline.
    gamma: the discount of the returns-to-go.
    episodes_per_batch: episodes per update (played in lockstep).
    baseline: subtract ``V_phi(s_t)`` (False: plain REINFORCE, ``A_t = G_t``).
    normalize_advantages: ``A <- (A - mean A) / (std A + 1e-8)`` over the batch.
    entropy_coef: ``beta``, the weight of the entropy bonus.
    value_steps: Adam steps on ``L_V`` per batch.
    max_grad_norm: clip the policy gradient's global norm (None: no clipping).
    bootstrap_truncated: start a truncated episode's returns from ``V_phi(s_T)`` instead of 0.
    """
    hidden: tuple[int, ...] = (64, 64)
    lr: float = 3e-3
    value_lr: float = 3e-3
    gamma: float = 0.99
    episodes_per_batch: int = 8
    baseline: bool = True
    normalize_advantages: bool = True
    entropy_coef: float = 0.0
    value_steps: int = 1
    max_grad_norm: float | None = None
    bootstrap_truncated: bool = True

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ReinforceConfig:
        """A config from a dict (a recipe's ``[train]`` table); unknown keys are ignored."""
        return config_from_dict(cls, d)


@dataclass
class ReinforceHistory:
    """Per training episode its return and the cumulative env steps after its batch; per update the
    policy loss, the baseline's loss and the mean entropy; ``stopped_at`` (env steps) and ``seconds``."""
    episode_returns: list[float] = field(default_factory=list)
    episode_end_steps: list[int] = field(default_factory=list)
    policy_losses: list[float] = field(default_factory=list)
    value_losses: list[float] = field(default_factory=list)
    entropies: list[float] = field(default_factory=list)
    stopped_at: int = 0
    seconds: float = 0.0


def reinforce(env: Any, total_steps: int, config: ReinforceConfig | None = None, *, seed: int = 0,
              callback: Callable[[int, nn.Module, ReinforceHistory], bool | None] | None = None,
              callback_every: int = 1, **overrides: Any) -> tuple[nn.Module, nn.Module, ReinforceHistory]:
    """Train a softmax policy on ``env`` (a gymnasium env or its id; Box observations, Discrete
    actions) with REINFORCE and a learned baseline until ``total_steps`` environment steps are used;
    returns ``(policy, value, history)``.

    Each update: play ``episodes_per_batch`` episodes with actions sampled from ``pi_theta``, compute
    ``G_t`` (:func:`discounted_returns`, bootstrapped after truncations), ``A_t = G_t - V_phi(s_t)``
    (normalised), one Adam step on :func:`policy_gradient_loss` and ``value_steps`` on the baseline's
    mean squared error ``(V_phi(s_t) - G_t)^2``. ``seed`` seeds the initialisation, the action draws
    and the episodes' reset seeds. ``callback(env_steps, policy, history)`` runs after every
    ``callback_every`` updates; returning True stops training.
    """
    cfg = dataclasses.replace(config or ReinforceConfig(), **overrides)
    if isinstance(env, str):
        env = make_env(env)
    make = env_factory(env)
    pool = [env] + [make() for _ in range(cfg.episodes_per_batch - 1)]
    obs_dim = int(np.prod(env.observation_space.shape))
    n_actions = int(env.action_space.n)
    manual_seed(seed)
    rng = np.random.default_rng(seed)
    policy = policy_network(obs_dim, n_actions, cfg.hidden)
    value = value_network(obs_dim, cfg.hidden)
    opt_pi = optim.Adam(policy.parameters(), lr=cfg.lr)
    opt_v = optim.Adam(value.parameters(), lr=cfg.value_lr)
    hist = ReinforceHistory()
    act = sampling_actor(policy, rng)
    steps, updates = 0, 0
    t0 = time.perf_counter()
    while steps < int(total_steps):
        trajs: list[Trajectory] = play_episodes(pool, act, cfg.episodes_per_batch,
                                                seed=int(rng.integers(2**31)), record=True)
        obs = np.concatenate([t.obs for t in trajs]).reshape(-1, obs_dim)
        actions = np.concatenate([t.actions for t in trajs])
        with no_grad():
            v_obs = value(tensor(obs)).data.reshape(-1).astype(np.float64)
            boot = value(tensor(np.stack([t.final_obs for t in trajs]).reshape(-1, obs_dim))).data.reshape(-1)
        tails = [float(boot[i]) if (t.truncated and cfg.bootstrap_truncated) else 0.0
                 for i, t in enumerate(trajs)]
        G = np.concatenate([discounted_returns(t.rewards, cfg.gamma, g) for t, g in zip(trajs, tails)])
        adv = G - v_obs if cfg.baseline else G.copy()
        if cfg.normalize_advantages and len(adv) > 1:
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        logits = policy(tensor(obs))
        loss = policy_gradient_loss(logits, actions, adv, cfg.entropy_coef)
        opt_pi.zero_grad()
        loss.backward()
        if cfg.max_grad_norm is not None:
            nn.utils.clip_grad_norm_(policy.parameters(), cfg.max_grad_norm)
        opt_pi.step()
        if cfg.baseline:
            target = tensor(G.astype(np.float32).reshape(-1, 1))
            x = tensor(obs)
            for _ in range(int(cfg.value_steps)):
                v_loss = mse_loss(value(x), target)
                opt_v.zero_grad()
                v_loss.backward()
                opt_v.step()
            hist.value_losses.append(float(v_loss.data))
        with no_grad():
            p = softmax(logits.detach(), dim=1).data
        hist.entropies.append(float(-(p * np.log(np.maximum(p, 1e-12))).sum(1).mean()))
        hist.policy_losses.append(float(loss.data))
        for t in trajs:
            steps += len(t.rewards)
            hist.episode_returns.append(t.ret)
        hist.episode_end_steps.extend([steps] * len(trajs))
        updates += 1
        if callback is not None and updates % int(callback_every) == 0:
            if callback(steps, policy, hist):
                break
    hist.stopped_at = steps
    hist.seconds = time.perf_counter() - t0
    return policy, value, hist
