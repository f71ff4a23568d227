"""Deep Q-learning (DQN, Mnih et al. 2015) with the Double-DQN target (van Hasselt et al. 2016).

Q-learning's table becomes a network ``Q(s, . ; theta)`` (an MLP from :mod:`gradus.nn`, one output
per action) trained by regression on a bootstrapped target. The pieces, each a name of this module:

* :class:`ReplayBuffer`: a ring buffer of the last ``capacity`` transitions
  ``(s, a, r, s', terminated)`` in preallocated NumPy arrays; minibatches are drawn uniformly (with
  replacement), which breaks the correlation of consecutive steps.
* an **online** network ``Q_theta`` (trained) and a **target** network ``Q_theta'`` (a lagged copy
  that only the target reads): every ``target_update`` environment steps
  ``theta' <- tau theta + (1 - tau) theta'`` (``tau = 1``: the hard copy of DQN; ``tau < 1``:
  Polyak averaging, usually with ``target_update = 1``).
* the **TD target** (:func:`td_targets`) of a transition ``(s, a, r, s')``::

      DQN         y = r + gamma (1 - terminated) max_a' Q_theta'(s', a')
      Double DQN  y = r + gamma (1 - terminated) Q_theta'(s', argmax_a' Q_theta(s', a'))

  Double DQN picks the next action with the online network and values it with the target one,
  which removes most of the max operator's overestimation bias.
* the **loss** is the Huber loss of the TD error ``delta = Q_theta(s, a) - y``: ``0.5 delta^2`` for
  ``|delta| < beta``, else ``beta (|delta| - 0.5 beta)`` (quadratic near 0, linear beyond ``beta =
  huber_delta``, so a large TD error cannot blow up the gradient), computed with ``F.smooth_l1_loss``
  (which is this divided by ``beta``; the same for the default ``beta = 1``), averaged over the
  minibatch; ``y`` is a constant (no gradient flows into the target). Adam minimises it, the
  gradient's global norm clipped to ``max_grad_norm``.
* **epsilon-greedy** exploration with a linear schedule (:func:`linear_schedule`):
  ``eps(t) = eps_start + min(1, t / eps_decay_steps) (eps_end - eps_start)``.

**Terminated vs truncated.** gymnasium's ``step`` says why an episode ended. ``terminated`` (the
pole fell) means ``s'`` is terminal: nothing follows, so the target is ``y = r``. ``truncated`` (the
time limit, 500 steps on CartPole-v1) only cuts the episode: ``s'`` is an ordinary state whose value
the target must keep, so the buffer stores ``terminated`` alone and a truncated transition is
bootstrapped like any other (storing ``terminated or truncated`` would teach the network that the
500th step of a perfect episode is worth ``r`` alone).

:func:`play_episodes` plays many episodes in lockstep, one environment each, with one batched
network call per step (the evaluation of the recipes, and REINFORCE's data collection).
The recipe ``cartpole-dqn`` is :func:`gradus.recipes.runners.deep_rl.run_cartpole_dqn`.
"""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from .. import nn, no_grad, optim, tensor
from ..functional import smooth_l1_loss
from ..random import manual_seed
from .envs import make_env

__all__ = ["ReplayBuffer", "Transitions", "DQNConfig", "DQNHistory", "dqn", "td_targets",
           "linear_schedule", "q_network", "mlp", "sync_target", "play_episodes", "Trajectory",
           "greedy_actor", "env_factory"]


# --------------------------------------------------------------------------- replay buffer


class Transitions(NamedTuple):
    """A minibatch of transitions as arrays with a leading batch dimension ``B``."""
    obs: np.ndarray         # (B, *obs_shape) float32: s
    actions: np.ndarray     # (B,) int64: a
    rewards: np.ndarray     # (B,) float32: r
    next_obs: np.ndarray    # (B, *obs_shape) float32: s'
    terminated: np.ndarray  # (B,) float32: 1.0 where s' is terminal (not where the episode was truncated)


class ReplayBuffer:
    """A fixed-size ring buffer of transitions ``(s, a, r, s', terminated)``.

    The arrays are allocated once (``capacity`` rows). :meth:`add` writes row ``pos`` and advances
    ``pos = (pos + 1) % capacity``: once full, the newest transition overwrites the oldest.
    :meth:`sample` draws ``batch_size`` row indices uniformly from the ``len(self)`` rows filled so
    far (with replacement) and returns copies (a :class:`Transitions`).
    """

    def __init__(self, capacity: int, obs_shape: Sequence[int] | int, *, obs_dtype: Any = np.float32,
                 seed: int | None = None) -> None:
        capacity = int(capacity)
        if capacity < 1:
            raise ValueError(f"ReplayBuffer: capacity must be >= 1, got {capacity}")
        shape = (int(obs_shape),) if np.isscalar(obs_shape) else tuple(int(s) for s in obs_shape)
        self.capacity = capacity
        self.obs = np.zeros((capacity, *shape), dtype=obs_dtype)
        self.next_obs = np.zeros((capacity, *shape), dtype=obs_dtype)
        self.actions = np.zeros(capacity, dtype=np.int64)
        self.rewards = np.zeros(capacity, dtype=np.float32)
        self.terminated = np.zeros(capacity, dtype=np.float32)
        self.pos = 0    # the row the next add writes
        self.size = 0   # rows filled so far (at most capacity)
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return self.size

    def add(self, obs: Any, action: int, reward: float, next_obs: Any, terminated: bool) -> None:
        """Store one transition (``terminated``: ``s'`` is terminal; pass False on a truncation)."""
        i = self.pos
        self.obs[i] = obs
        self.actions[i] = action
        self.rewards[i] = reward
        self.next_obs[i] = next_obs
        self.terminated[i] = float(bool(terminated))
        self.pos = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator | None = None) -> Transitions:
        """``batch_size`` transitions drawn uniformly with replacement from the filled rows."""
        if self.size == 0:
            raise ValueError("ReplayBuffer.sample: the buffer is empty")
        idx = (rng or self.rng).integers(0, self.size, size=int(batch_size))
        return Transitions(self.obs[idx], self.actions[idx], self.rewards[idx], self.next_obs[idx],
                           self.terminated[idx])


# --------------------------------------------------------------------------- the math


def td_targets(rewards: np.ndarray, terminated: np.ndarray, next_q_target: np.ndarray, gamma: float,
               next_q_online: np.ndarray | None = None) -> np.ndarray:
    """The TD targets of a minibatch, as float32 arrays of shape ``(B,)``.

    ``next_q_target`` is ``Q_theta'(s', .)`` of shape ``(B, n_actions)``. Without ``next_q_online``
    (DQN): ``y = r + gamma (1 - terminated) max_a' Q_theta'(s', a')``. With it (Double DQN, the
    online ``Q_theta(s', .)``): ``y = r + gamma (1 - terminated) Q_theta'(s', argmax_a' Q_theta(s', a'))``.
    ``terminated`` is 1 only for a terminal ``s'``; a truncated transition has 0 and is bootstrapped.
    """
    r = np.asarray(rewards, dtype=np.float32)
    done = np.asarray(terminated, dtype=np.float32)
    qt = np.asarray(next_q_target, dtype=np.float32)
    if next_q_online is None:
        nxt = qt.max(1)
    else:
        a_star = np.asarray(next_q_online).argmax(1)
        nxt = qt[np.arange(len(qt)), a_star]
    return r + np.float32(gamma) * (1.0 - done) * nxt


def linear_schedule(start: float, end: float, duration: int) -> Callable[[int], float]:
    """``t -> start + min(1, t / duration) (end - start)``: linear from ``start`` to ``end`` over
    ``duration`` steps, then constant (``duration <= 0``: ``end`` from the start)."""
    start, end, duration = float(start), float(end), int(duration)

    def eps(t: int) -> float:
        if duration <= 0:
            return end
        return start + min(1.0, t / duration) * (end - start)

    return eps


def mlp(sizes: Sequence[int], activation: Callable[[], nn.Module] = nn.ReLU) -> nn.Sequential:
    """``Linear(sizes[0], sizes[1]), act, ..., Linear(sizes[-2], sizes[-1])`` (no activation last)."""
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2:
        raise ValueError(f"mlp: need at least an input and an output size, got {sizes}")
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


def q_network(obs_dim: int, n_actions: int, hidden: Sequence[int] = (128, 128)) -> nn.Sequential:
    """The Q network: an MLP ``obs_dim -> hidden... -> n_actions`` with ReLU, ``Q(s, a)`` for every ``a``."""
    return mlp([obs_dim, *hidden, n_actions])


def sync_target(target: nn.Module, online: nn.Module, tau: float = 1.0) -> None:
    """``theta' <- tau theta + (1 - tau) theta'`` for every parameter, in place (``tau = 1``: copy)."""
    with no_grad():
        for pt, p in zip(target.parameters(), online.parameters()):
            if tau >= 1.0:
                pt.data[...] = p.data
            else:
                pt.data *= (1.0 - tau)
                pt.data += tau * p.data


# --------------------------------------------------------------------------- playing episodes


def env_factory(env: Any) -> Callable[[], Any]:
    """A function that makes fresh copies of ``env``: an env id (``make_env``), a gymnasium env
    (``gymnasium.make(env.spec)``, the same id, keyword arguments and wrappers) or a callable."""
    if isinstance(env, str):
        return lambda: make_env(env)
    if callable(env) and not hasattr(env, "step"):
        return env
    spec = getattr(env, "spec", None)
    if spec is None:
        raise TypeError("env_factory: an env without a spec cannot be copied; pass a callable that makes one")
    from .envs import gymnasium_module

    gym = gymnasium_module()
    return lambda: gym.make(spec)


@dataclass
class Trajectory:
    """One episode: ``obs[t]`` the state in which ``actions[t]`` was taken and ``rewards[t]`` earned
    (``t = 0 .. T-1``), ``final_obs`` the state after the last step, and how it ended."""
    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    final_obs: np.ndarray
    terminated: bool
    truncated: bool

    @property
    def ret(self) -> float:
        """The undiscounted return ``sum_t rewards[t]``."""
        return float(self.rewards.sum())


def play_episodes(envs: Any, act: Callable[[np.ndarray], np.ndarray], episodes: int, *, seed: int = 0,
                  max_steps: int | None = None, record: bool = False) -> np.ndarray | list[Trajectory]:
    """Play ``episodes`` episodes in lockstep, episode ``i`` on its own environment reset with seed
    ``seed + i``; ``act`` maps the ``(n, *obs_shape)`` float32 batch of the still-running episodes
    to their ``n`` actions (one network call per time step for all of them).

    ``envs``: a list of at least ``episodes`` environments (reused: keep a pool for repeated
    evaluations), or anything :func:`env_factory` takes. An episode ends on ``terminated`` or
    ``truncated`` (or after ``max_steps``, counted as truncated). Returns the undiscounted returns,
    shape ``(episodes,)``, or with ``record=True`` the :class:`Trajectory` of every episode.
    """
    episodes = int(episodes)
    if isinstance(envs, (list, tuple)):
        if len(envs) < episodes:
            raise ValueError(f"play_episodes: {episodes} episodes need {episodes} environments, "
                             f"got {len(envs)}")
        pool = list(envs[:episodes])
    else:
        make = env_factory(envs)
        pool = [make() for _ in range(episodes)]
    obs = np.stack([np.asarray(e.reset(seed=int(seed) + i)[0], dtype=np.float32) for i, e in enumerate(pool)])
    alive = np.ones(episodes, dtype=bool)
    returns = np.zeros(episodes)
    steps = np.zeros(episodes, dtype=np.int64)
    logs: list[tuple[list, list, list]] = [([], [], []) for _ in range(episodes)] if record else []
    ends: list[tuple[bool, bool]] = [(False, False)] * episodes
    final = obs.copy()
    while alive.any():
        idx = np.flatnonzero(alive)
        actions = np.asarray(act(obs[idx])).reshape(-1)
        for j, i in enumerate(idx):
            a = actions[j].item()
            o, r, term, trunc, _ = pool[i].step(a)
            if record:
                logs[i][0].append(obs[i].copy())
                logs[i][1].append(a)
                logs[i][2].append(r)
            returns[i] += r
            steps[i] += 1
            obs[i] = o
            if max_steps is not None and steps[i] >= max_steps:
                trunc = True
            if term or trunc:
                alive[i] = False
                ends[i] = (bool(term), bool(trunc and not term))
                final[i] = o
    if not record:
        return returns
    return [Trajectory(np.asarray(o_, dtype=np.float32).reshape(len(o_), *obs.shape[1:]),
                       np.asarray(a_, dtype=np.int64), np.asarray(r_, dtype=np.float32), final[i].copy(),
                       *ends[i]) for i, (o_, a_, r_) in enumerate(logs)]


def greedy_actor(q_net: nn.Module) -> Callable[[np.ndarray], np.ndarray]:
    """``obs batch -> argmax_a Q(s, a)`` under ``no_grad`` (for :func:`play_episodes`)."""
    def act(obs: np.ndarray) -> np.ndarray:
        with no_grad():
            return q_net(tensor(obs)).data.argmax(1)
    return act


# --------------------------------------------------------------------------- DQN


@dataclass
class DQNConfig:
    """The hyperparameters of :func:`dqn` (defaults: the ``cartpole-dqn`` recipe's).

    hidden: the Q network's hidden widths (ReLU MLP).
    lr: Adam's learning rate; adam_eps: its epsilon.
    gamma: the discount in the TD target.
    batch_size: transitions per gradient step.
    buffer_size: replay capacity (the ring overwrites the oldest beyond it).
    learning_starts: env steps of pure data collection (no updates) before learning begins.
    train_freq, gradient_steps: every ``train_freq`` env steps, ``gradient_steps`` updates.
    target_update, tau: every ``target_update`` env steps ``theta' <- tau theta + (1 - tau) theta'``.
    eps_start, eps_end, eps_decay_steps: the linear epsilon schedule, counted from step 0.
    max_grad_norm: clip the global gradient norm to this (None: no clipping).
    huber_delta: the Huber threshold ``beta`` (the TD error beyond which the loss is linear).
    double: Double DQN's target (online argmax, target value) instead of the max of the target net.
    """
    hidden: tuple[int, ...] = (128, 128)
    lr: float = 1e-3
    adam_eps: float = 1e-8
    gamma: float = 0.99
    batch_size: int = 128
    buffer_size: int = 50_000
    learning_starts: int = 1_000
    train_freq: int = 1
    gradient_steps: int = 1
    target_update: int = 1
    tau: float = 0.005
    eps_start: float = 1.0
    eps_end: float = 0.02
    eps_decay_steps: int = 10_000
    max_grad_norm: float | None = 10.0
    huber_delta: float = 1.0
    double: bool = True

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DQNConfig:
        """A config from a dict (a recipe's ``[train]`` table); unknown keys are ignored."""
        return config_from_dict(cls, d)


def config_from_dict(cls: type, d: dict[str, Any]) -> Any:
    """An instance of the dataclass ``cls`` from the keys of ``d`` that name its fields (a recipe's
    ``[train]`` table; other keys ignored), with ``hidden`` made a tuple of ints."""
    names = {f.name for f in dataclasses.fields(cls)}
    kw = {k: v for k, v in d.items() if k in names}
    if "hidden" in kw:
        kw["hidden"] = tuple(int(h) for h in kw["hidden"])
    return cls(**kw)


@dataclass
class DQNHistory:
    """What :func:`dqn` records: per finished training episode its return and the env step at which
    it ended; the loss of every gradient step; ``stopped_at`` (env steps done) and ``seconds``."""
    episode_returns: list[float] = field(default_factory=list)
    episode_end_steps: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    stopped_at: int = 0
    seconds: float = 0.0


def dqn(env: Any, total_steps: int, config: DQNConfig | None = None, *, seed: int = 0,
        callback: Callable[[int, nn.Module, DQNHistory], bool | None] | None = None,
        callback_every: int = 1000, replay_buffer: ReplayBuffer | None = None,
        **overrides: Any) -> tuple[nn.Module, DQNHistory]:
    """Train a Q network on ``env`` (a gymnasium env with a flat Box observation and Discrete actions,
    or its id) for ``total_steps`` environment steps; returns ``(q_net, history)``.

    Each step: ``a`` epsilon-greedy in ``Q_theta(s, .)`` (``eps`` from the linear schedule), store
    ``(s, a, r, s', terminated)``, then (after ``learning_starts``, every ``train_freq`` steps)
    ``gradient_steps`` times: sample a minibatch, ``y`` = :func:`td_targets` with the target network
    (Double DQN with ``config.double``), Huber loss of ``Q_theta(s, a) - y``, clipped Adam step; every
    ``target_update`` steps :func:`sync_target`. Acting and the targets run under ``no_grad``.

    ``config``: a :class:`DQNConfig`; ``overrides`` replace its fields (``dqn(env, 50_000, lr=5e-4)``).
    ``seed`` seeds everything: the network initialisation (``gradus.manual_seed``), epsilon draws and
    minibatches (one NumPy generator), the environment (``reset(seed=seed)`` once, then unseeded
    resets continue its generator). ``callback(step, q_net, history)`` runs every ``callback_every``
    env steps (evaluation, logging); returning True stops training. ``replay_buffer``: the buffer to
    fill (None: a new one of ``buffer_size`` rows), e.g. to inspect what was stored.
    """
    cfg = dataclasses.replace(config or DQNConfig(), **overrides)
    if isinstance(env, str):
        env = make_env(env)
    n_actions = int(env.action_space.n)
    obs_shape = tuple(env.observation_space.shape)
    manual_seed(seed)
    rng = np.random.default_rng(seed)
    q = q_network(int(np.prod(obs_shape)), n_actions, cfg.hidden)
    q_target = q_network(int(np.prod(obs_shape)), n_actions, cfg.hidden)
    sync_target(q_target, q)
    q_target.eval()
    opt = optim.Adam(q.parameters(), lr=cfg.lr, eps=cfg.adam_eps)
    params = list(q.parameters())
    buf = replay_buffer if replay_buffer is not None else ReplayBuffer(cfg.buffer_size, obs_shape, seed=seed)
    eps = linear_schedule(cfg.eps_start, cfg.eps_end, cfg.eps_decay_steps)
    hist = DQNHistory()
    gamma = float(cfg.gamma)

    def update() -> float:
        b = buf.sample(cfg.batch_size, rng)
        with no_grad():
            next_obs = tensor(b.next_obs)
            q_next_t = q_target(next_obs).data
            q_next_o = q(next_obs).data if cfg.double else None
        y = td_targets(b.rewards, b.terminated, q_next_t, gamma, q_next_o)
        q_sa = q(tensor(b.obs)).gather(1, b.actions[:, None]).squeeze(1)
        loss = smooth_l1_loss(q_sa, tensor(y), beta=cfg.huber_delta)
        opt.zero_grad()
        loss.backward()
        if cfg.max_grad_norm is not None:
            nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
        opt.step()
        return float(loss.data)

    t0 = time.perf_counter()
    obs, _ = env.reset(seed=int(seed))
    obs = np.asarray(obs, dtype=np.float32)
    ep_return = 0.0
    step = 0
    for step in range(1, int(total_steps) + 1):
        if rng.random() < eps(step - 1):
            action = int(rng.integers(n_actions))
        else:
            with no_grad():
                action = int(q(tensor(obs[None])).data[0].argmax())
        next_obs, reward, terminated, truncated, _ = env.step(action)
        next_obs = np.asarray(next_obs, dtype=np.float32)
        buf.add(obs, action, reward, next_obs, terminated)  # truncated: s' is not terminal, bootstrap
        ep_return += float(reward)
        if terminated or truncated:
            hist.episode_returns.append(ep_return)
            hist.episode_end_steps.append(step)
            ep_return = 0.0
            obs = np.asarray(env.reset()[0], dtype=np.float32)
        else:
            obs = next_obs
        if step > cfg.learning_starts and step % cfg.train_freq == 0:
            for _ in range(cfg.gradient_steps):
                hist.losses.append(update())
        if step % cfg.target_update == 0:
            sync_target(q_target, q, cfg.tau)
        if callback is not None and step % int(callback_every) == 0:
            if callback(step, q, hist):
                break
    hist.stopped_at = step
    hist.seconds = time.perf_counter() - t0
    return q, hist
