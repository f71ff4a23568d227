"""Recipes of the reinforcement-learning chapter (:mod:`gradus.rl`), on gymnasium's toy-text worlds:
``frozenlake-value-iteration``, ``frozenlake-q-learning``, ``cliffwalking-sarsa-vs-q-learning``
(Sutton & Barto's example 6.6) and ``taxi-q-learning``.

Every recipe reads ``[env]`` (``id`` and the keyword arguments of ``gymnasium.make``) and ``[train]``;
plots are written to ``out_dir`` when matplotlib is there: returns per episode, the value function
as a heat-map with the greedy policy's arrows on the grid worlds.
"""
from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ...rl import (
    MDP,
    evaluate_policy,
    greedy_policy,
    grid_shape,
    make_env,
    policy_iteration,
    q_learning,
    rollout,
    sarsa,
    value_iteration,
)
from .common import pyplot, say, section

__all__ = ["run_frozenlake_value_iteration", "run_frozenlake_q_learning", "run_cliffwalking",
           "run_taxi_q_learning", "plot_grid_values", "plot_returns", "action_deltas"]


def _env(config: Mapping[str, Any]) -> Any:
    cfg = section(config, "env")
    return make_env(str(cfg.pop("id")), **cfg)


def action_deltas(env: Any) -> list[tuple[int, int]]:
    """The (row, column) move of each action of a grid world: FrozenLake numbers its actions
    left, down, right, up; CliffWalking up, right, down, left."""
    name = type(getattr(env, "unwrapped", env)).__name__
    if name.startswith("FrozenLake"):
        return [(0, -1), (1, 0), (0, 1), (-1, 0)]
    if name.startswith("CliffWalking"):
        return [(-1, 0), (0, 1), (1, 0), (0, -1)]
    raise ValueError(f"no arrows known for the actions of {name}")


def _cell_labels(env: Any) -> dict[int, str]:
    """Letters of the special cells: FrozenLake's S/H/G, CliffWalking's start, cliff and goal."""
    base = getattr(env, "unwrapped", env)
    desc = getattr(base, "desc", None)
    if desc is not None:
        flat = [c.decode() if isinstance(c, bytes) else str(c) for c in np.asarray(desc).ravel()]
        return {s: c for s, c in enumerate(flat) if c in "SHG"}
    cliff = getattr(base, "_cliff", None)  # a gymnasium attribute: CliffWalking's cliff mask
    rows, cols = grid_shape(env)
    labels = {(rows - 1) * cols: "S", rows * cols - 1: "G"}
    if cliff is not None:
        labels.update({int(s): "C" for s in np.flatnonzero(np.asarray(cliff).ravel())})
    return labels


def plot_grid_values(env: Any, V: np.ndarray, policy: np.ndarray | None, path: Path, title: str,
                     paths: Mapping[str, Sequence[int]] | None = None, ax: Any = None) -> Path | None:
    """``V`` as a heat-map on the grid, the greedy action of ``policy`` as an arrow in each cell
    that is not terminal (holes, goal, cliff get their letter instead), and optionally state
    sequences drawn as lines (``{"SARSA": [36, 24, ...]}``). None without matplotlib."""
    plt = pyplot()
    if plt is None:
        return None
    rows, cols = grid_shape(env)
    labels = _cell_labels(env)
    deltas = action_deltas(env)
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(max(5.5, 0.75 * cols + 1.5), 0.75 * rows + 1.2))
    # holes, goal and cliff are terminal or never occupied: their V = 0 would only stretch the colours
    blank = np.array([labels.get(s) in ("H", "G", "C") for s in range(rows * cols)]).reshape(rows, cols)
    cmap = plt.get_cmap("viridis").copy()
    cmap.set_bad("dimgray")
    im = ax.imshow(np.ma.masked_where(blank, np.asarray(V, dtype=np.float64).reshape(rows, cols)), cmap=cmap)
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="V(s)")
    for s in range(rows * cols):
        r, c = divmod(s, cols)
        mark = labels.get(s)
        if mark in ("H", "G", "C"):
            ax.text(c, r, mark, ha="center", va="center", color="w", fontsize=12, fontweight="bold")
            continue
        if policy is not None:
            dr, dc = deltas[int(policy[s])]
            ax.arrow(c - 0.25 * dc, r - 0.25 * dr, 0.5 * dc, 0.5 * dr, head_width=0.15,
                     length_includes_head=True, color="w")
        if mark == "S":
            ax.text(c - 0.35, r - 0.3, "S", color="w", fontsize=8)
    colors = ["tab:red", "tab:orange", "tab:pink", "tab:cyan"]
    for i, (name, states) in enumerate((paths or {}).items()):
        rc = np.array([divmod(int(s), cols) for s in states])
        off = 0.12 * (i - (len(paths) - 1) / 2)  # two paths on one edge stay visible side by side
        ax.plot(rc[:, 1] + off, rc[:, 0] + off, "-o", color=colors[i % len(colors)], lw=2.5, ms=3,
                label=f"{name} ({len(states) - 1} steps)")
    if paths:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=len(paths), fontsize=8)
    ax.set_xticks(range(cols))
    ax.set_yticks(range(rows))
    ax.set_title(title, fontsize=10)
    if own:
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=100)
        plt.close(fig)
    return path


def plot_returns(curves: Mapping[str, np.ndarray], path: Path, title: str, window: int = 10,
                 ylim: tuple[float, float] | None = None, ax: Any = None) -> Path | None:
    """Return per episode for each curve (thin) and its moving average over ``window`` episodes."""
    plt = pyplot()
    if plt is None:
        return None
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(7, 4))
    for i, (name, y) in enumerate(curves.items()):
        y = np.asarray(y, dtype=np.float64)
        color = f"C{i}"
        ax.plot(np.arange(1, len(y) + 1), y, color=color, alpha=0.25, lw=0.8)
        if len(y) >= window > 1:
            smooth = np.convolve(y, np.ones(window) / window, mode="valid")
            ax.plot(np.arange(window, len(y) + 1), smooth, color=color, lw=2,
                    label=f"{name} (moving mean of {window})")
        else:
            ax.lines[-1].set_label(name)
    if ylim:
        ax.set_ylim(*ylim)
    ax.set_xlabel("episode")
    ax.set_ylabel("return per episode")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    if own:
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=100)
        plt.close(fig)
    return path


def _start_state(mdp: MDP) -> int:
    return int(np.argmax(mdp.start)) if mdp.start is not None else 0


def _horizon(env: Any, default: int = 10_000) -> int:
    steps = getattr(env.spec, "max_episode_steps", None) if env.spec is not None else None
    return int(steps or default)


def run_frozenlake_value_iteration(config: dict, out_dir: Path, *, progress: bool = True) -> dict:
    """Recipe ``frozenlake-value-iteration``: plan with the model, then walk the greedy policy.

    Config: ``env.*`` (``id``, ``map_name``, ``is_slippery``), ``train.gamma``, ``train.tol``,
    ``train.eval_episodes``, ``train.seed``. Returns ``success_rate`` (greedy episodes that reach the
    goal), ``success_probability`` (the same, exactly from the model: ``V^pi`` of the start state with
    ``gamma = 1`` within the environment's step limit), ``success_probability_unlimited`` (without the
    limit), ``v_start`` (``V*(s_0)`` at the recipe's ``gamma``), ``plan_seconds`` and whether
    policy iteration returns the same values (``policy_iteration_agrees``). Writes ``values_policy.png``.
    """
    train = section(config, "train")
    gamma, tol = float(train.get("gamma", 0.99)), float(train.get("tol", 1e-10))
    env = _env(config)
    mdp = MDP.from_env(env)
    t0 = time.perf_counter()
    V, policy = value_iteration(mdp, gamma=gamma, tol=tol)
    plan_s = time.perf_counter() - t0
    V_pi, policy_pi = policy_iteration(mdp, gamma=gamma)
    s0 = _start_state(mdp)
    n_eval, seed = int(train.get("eval_episodes", 1000)), int(train.get("seed", 0))
    returns = evaluate_policy(env, policy, n_eval, seed=seed)
    m = {"success_rate": float((returns > 0).mean()),
         "success_probability": float(mdp.evaluate(policy, 1.0, horizon=_horizon(env))[s0]),
         "success_probability_unlimited": float(mdp.evaluate(policy, 1.0)[s0]),
         "v_start": float(V[s0]), "plan_seconds": plan_s,
         "policy_iteration_agrees": bool(np.allclose(V, V_pi, atol=1e-6)
                                         and np.allclose(mdp.evaluate(policy_pi, gamma), V, atol=1e-6)),
         "env": env.spec.id}
    say(progress, f"{env.spec.id}: V*(start) = {m['v_start']:.4f} (gamma {gamma}); greedy policy reaches the "
                  f"goal with probability {m['success_probability']:.4f} within {_horizon(env)} steps "
                  f"({m['success_probability_unlimited']:.4f} without a limit); measured "
                  f"{m['success_rate']:.3f} over {len(returns)} episodes")
    plot_grid_values(env, V, policy, Path(out_dir) / "values_policy.png",
                     f"value iteration, gamma={gamma}: V* and the greedy policy")
    return m


def run_frozenlake_q_learning(config: dict, out_dir: Path, *, progress: bool = True) -> dict:
    """Recipe ``frozenlake-q-learning``: Q-learning from episodes, compared with the planned optimum.

    Config: ``env.*``, ``train.episodes``, ``train.alpha``, ``train.gamma``, ``train.epsilon``,
    ``train.seed``, ``train.eval_episodes``. Returns ``success_rate`` (of the greedy policy in the
    learned ``Q``, measured), ``success_probability`` (exact, from the model), ``optimal_success_rate``
    and ``optimal_success_probability`` (value iteration's policy on the same evaluation episodes),
    ``train_seconds``. Writes ``returns.png`` (per episode while learning) and ``values_policy.png``.
    """
    train = section(config, "train")
    gamma, seed = float(train.get("gamma", 0.99)), int(train.get("seed", 0))
    n_eval = int(train.get("eval_episodes", 1000))
    env = _env(config)
    mdp = MDP.from_env(env)
    t0 = time.perf_counter()
    Q, history = q_learning(env, int(train.get("episodes", 20000)), float(train.get("alpha", 0.05)), gamma,
                            float(train.get("epsilon", 0.5)), seed=seed, return_history=True)
    train_s = time.perf_counter() - t0
    policy = greedy_policy(Q)
    _, optimal = value_iteration(mdp, gamma=gamma)
    s0, H = _start_state(mdp), _horizon(env)
    m = {"success_rate": float((evaluate_policy(env, policy, n_eval, seed=seed) > 0).mean()),
         "success_probability": float(mdp.evaluate(policy, 1.0, horizon=H)[s0]),
         "optimal_success_rate": float((evaluate_policy(env, optimal, n_eval, seed=seed) > 0).mean()),
         "optimal_success_probability": float(mdp.evaluate(optimal, 1.0, horizon=H)[s0]),
         "policy_matches_optimal": int((policy == optimal).sum()), "train_seconds": train_s,
         "env": env.spec.id}
    say(progress, f"Q-learning, {len(history)} episodes ({train_s:.1f} s): greedy success rate "
                  f"{m['success_rate']:.3f} (exactly {m['success_probability']:.4f}); value iteration's "
                  f"policy {m['optimal_success_rate']:.3f} (exactly {m['optimal_success_probability']:.4f})")
    out_dir = Path(out_dir)
    plot_returns({"Q-learning": history}, out_dir / "returns.png",
                 f"Q-learning on {env.spec.id}: success per episode while exploring", window=500)
    plot_grid_values(env, Q.max(1), policy, out_dir / "values_policy.png",
                     "Q-learning: max_a Q(s, a) and the greedy policy")
    return m


def _greedy_path(env: Any, Q: np.ndarray, max_steps: int = 200) -> tuple[list[int], bool]:
    """The states visited by the greedy policy from the start (the final state included) and
    whether it reached the goal (a terminal state) within ``max_steps``."""
    ep = rollout(env, greedy_policy(Q), seed=0, max_steps=max_steps)
    last = int(env.unwrapped.s)  # a toy-text attribute: the current state after the episode
    return ep.states + [last], ep.terminated


def run_cliffwalking(config: dict, out_dir: Path, *, progress: bool = True) -> dict:
    """Recipe ``cliffwalking-sarsa-vs-q-learning``: Sutton & Barto's example 6.6.

    SARSA and Q-learning, epsilon-greedy with the same constant ``epsilon``, ``train.runs``
    independent runs each (seeds ``seed, seed+1, ...``). Config: ``env.id``, ``train.episodes``,
    ``train.runs``, ``train.alpha``, ``train.gamma``, ``train.epsilon``, ``train.seed``.

    Returns ``sarsa_last100_return`` / ``q_learning_last100_return`` (the online return, averaged
    over runs and over the last 100 episodes), ``online_return_gap`` (their difference: SARSA higher),
    ``sarsa_path_length`` / ``q_learning_path_length`` (steps of the greedy path in the run-averaged
    ``Q``), and per method the fraction of runs whose own greedy path is the 13-step cliff edge
    (``*_cliff_edge_runs``). Writes ``cliffwalking.png`` (the averaged curves and both paths on the
    4x12 grid) and ``values_policy_{sarsa,q_learning}.png``.
    """
    train = section(config, "train")
    episodes, runs = int(train.get("episodes", 500)), int(train.get("runs", 100))
    seed = int(train.get("seed", 0))
    kw = dict(alpha=float(train.get("alpha", 0.5)), gamma=float(train.get("gamma", 1.0)),
              epsilon=float(train.get("epsilon", 0.1)), return_history=True)
    env = _env(config)
    rows, cols = grid_shape(env)
    shortest = 1 + (cols - 1) + 1  # the cliff edge: one step up, along the edge, one step down
    methods = {"sarsa": sarsa, "q_learning": q_learning}
    curves = {k: np.zeros(episodes) for k in methods}
    Q_mean = {k: np.zeros((env.observation_space.n, env.action_space.n)) for k in methods}
    edge = dict.fromkeys(methods, 0)
    t0 = time.perf_counter()
    for r in range(runs):
        for name, fn in methods.items():
            Q, history = fn(env, episodes, seed=seed + r, **kw)
            curves[name] += history / runs
            Q_mean[name] += Q / runs
            states, reached = _greedy_path(env, Q)
            edge[name] += int(reached and len(states) - 1 == shortest)
        if progress and (r + 1) % max(1, runs // 5) == 0:
            print(f"run {r + 1}/{runs}: last-100 online return so far SARSA "
                  f"{curves['sarsa'][-100:].mean() * runs / (r + 1):.1f}, Q-learning "
                  f"{curves['q_learning'][-100:].mean() * runs / (r + 1):.1f}", flush=True)
    train_s = time.perf_counter() - t0
    m: dict[str, Any] = {}
    paths = {}
    for name in methods:
        m[f"{name}_last100_return"] = float(curves[name][-100:].mean())
        states, reached = _greedy_path(env, Q_mean[name])
        m[f"{name}_path_length"] = len(states) - 1 if reached else -1
        m[f"{name}_cliff_edge_runs"] = edge[name] / runs
        paths[name] = states
    m["online_return_gap"] = m["sarsa_last100_return"] - m["q_learning_last100_return"]
    m["train_seconds"] = train_s
    m["env"] = env.spec.id
    say(progress, f"{runs} runs x {episodes} episodes ({train_s:.0f} s): online return over the last "
                  f"100 episodes SARSA {m['sarsa_last100_return']:.1f}, Q-learning "
                  f"{m['q_learning_last100_return']:.1f}; greedy paths {m['sarsa_path_length']} (SARSA) and "
                  f"{m['q_learning_path_length']} (Q-learning) steps; the cliff edge in "
                  f"{m['sarsa_cliff_edge_runs']:.0%} / {m['q_learning_cliff_edge_runs']:.0%} of the runs")
    plt = pyplot()
    if plt is not None:
        out_dir = Path(out_dir)
        labels = {"sarsa": "SARSA", "q_learning": "Q-learning"}
        fig, axes = plt.subplots(2, 1, figsize=(9, 8.5), gridspec_kw={"height_ratios": [1.3, 1]})
        plot_returns({labels[k]: v for k, v in curves.items()}, out_dir / "cliffwalking.png",
                     f"online return per episode, mean of {runs} runs (epsilon={kw['epsilon']}, "
                     f"alpha={kw['alpha']})", window=10, ylim=(-100, 0), ax=axes[0])
        V = Q_mean["sarsa"].max(1)  # the colour shows why SARSA keeps away: values fall beside the cliff
        plot_grid_values(env, V, None, out_dir / "cliffwalking.png",
                         "greedy paths of the run-averaged Q (colour: SARSA's max_a Q)",
                         paths={labels[k]: v for k, v in paths.items()}, ax=axes[1])
        fig.tight_layout()
        fig.savefig(out_dir / "cliffwalking.png", dpi=100)
        plt.close(fig)
        for name in methods:
            plot_grid_values(env, Q_mean[name].max(1), greedy_policy(Q_mean[name]),
                             out_dir / f"values_policy_{name}.png",
                             f"{labels[name]}: max_a Q(s, a) averaged over {runs} runs, greedy policy")
    return m


def run_taxi_q_learning(config: dict, out_dir: Path, *, progress: bool = True) -> dict:
    """Recipe ``taxi-q-learning``: Q-learning on Taxi (500 states, 6 actions).

    Config: ``env.id``, ``train.episodes``, ``train.alpha``, ``train.gamma``, ``train.epsilon``,
    ``train.seed``, ``train.eval_episodes``. Returns ``mean_greedy_return`` (of the greedy policy over
    the evaluation episodes), ``optimal_eval_return`` (value iteration's policy on the same episodes),
    ``optimal_mean_return`` (its exact expectation over the random start states, from the model),
    ``greedy_expected_return`` (the learned policy's, exactly), ``train_seconds``. Writes ``returns.png``.
    """
    train = section(config, "train")
    gamma, seed = float(train.get("gamma", 0.99)), int(train.get("seed", 0))
    n_eval = int(train.get("eval_episodes", 100))
    env = _env(config)
    mdp = MDP.from_env(env)
    t0 = time.perf_counter()
    Q, history = q_learning(env, int(train.get("episodes", 5000)), float(train.get("alpha", 0.1)), gamma,
                            float(train.get("epsilon", 0.1)), seed=seed, return_history=True)
    train_s = time.perf_counter() - t0
    policy = greedy_policy(Q)
    _, optimal = value_iteration(mdp, gamma=gamma)
    H = _horizon(env)
    m = {"mean_greedy_return": float(evaluate_policy(env, policy, n_eval, seed=seed, max_steps=H).mean()),
         "greedy_expected_return": float(mdp.start @ mdp.evaluate(policy, 1.0, horizon=H)),
         "optimal_eval_return": float(evaluate_policy(env, optimal, n_eval, seed=seed).mean()),
         "optimal_mean_return": float(mdp.start @ mdp.evaluate(optimal, 1.0, horizon=H)),
         "train_seconds": train_s, "env": env.spec.id}
    say(progress, f"Q-learning on {env.spec.id}, {len(history)} episodes ({train_s:.1f} s): mean greedy "
                  f"return {m['mean_greedy_return']:.2f} over {n_eval} episodes (expected "
                  f"{m['greedy_expected_return']:.2f}); value iteration's policy "
                  f"{m['optimal_eval_return']:.2f} (expected {m['optimal_mean_return']:.2f})")
    plot_returns({"Q-learning": history}, Path(out_dir) / "returns.png",
                 f"Q-learning on {env.spec.id}: return per episode while exploring", window=50,
                 ylim=(max(-300.0, float(history.min())), 20))
    return m
