"""Recipes of deep reinforcement learning (:mod:`gradus.rl.dqn`, :mod:`gradus.rl.reinforce`) on
CartPole-v1: ``cartpole-dqn`` and ``cartpole-reinforce``.

Both train one agent per seed of ``train.seeds`` and measure when it *solves* the task. Every
``train.eval_every`` environment steps the greedy policy plays a quick evaluation
(``train.quick_eval_episodes`` episodes); when its mean return reaches ``train.solve_return``, the
full evaluation follows (``train.eval_episodes`` episodes, 100 for the usual CartPole criterion) and a
mean of at least ``solve_return`` there solves the seed: ``steps_to_solve`` is the number of training
environment steps done at that moment (evaluation episodes are played on separate environments and
not counted). With ``train.stop_on_solve`` the seed's training stops there; a seed that never passes
gets one full evaluation of its final network. The evaluation episodes use their own reset seeds
(``10**6 + step`` for the quick ones, ``10**7`` for the full one), never the training seeds.

Metrics: ``seeds_solved`` (the target), ``steps_to_solve`` (per seed, ``-1`` = not solved, as text,
and ``steps_to_solve_seed<k>`` each), ``median_steps_to_solve`` (of the solved seeds),
``mean_eval_return`` (the mean over seeds of each seed's last full evaluation), ``min_eval_return``,
``seconds_seed<k>`` and ``train_seconds``. Written to ``out_dir``: ``seeds.json`` (every evaluation
of every seed) and, with matplotlib, ``returns.png`` (return per training episode for each seed, and
the quick evaluations against environment steps).

Under ``mpiexec -n N gradus train`` the seeds are shared out over the ranks (each seed's run is
independent and seeded, so the results are one process'; rank 0 gathers and writes): the time is in
the environments and Python, which only more agents at once divide, not a gradient all-reduce.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ...rl import (
    DQNConfig,
    ReinforceConfig,
    dqn,
    env_factory,
    greedy_actor,
    greedy_policy_actor,
    make_env,
    play_episodes,
    reinforce,
    sampling_actor,
)
from ...train.checkpoint import atomic_write_text
from .common import pyplot, say, section, share_out, world_and_rank

__all__ = ["run_cartpole_dqn", "run_cartpole_reinforce", "SolveMonitor", "plot_seed_returns"]

QUICK_EVAL_SEED = 10**6
FULL_EVAL_SEED = 10**7


class SolveMonitor:
    """The training callback that evaluates: every ``eval_every`` env steps a quick greedy
    evaluation, and the full one when the quick mean reaches ``solve_return``; returns True (stop)
    once solved when ``stop_on_solve``. ``actor_of(net)`` turns the trained network into
    ``obs batch -> actions``. ``evals`` lists ``(step, quick_mean, full_mean or None)``."""

    def __init__(self, pool: list, actor_of: Callable[[Any], Callable], *, eval_every: int,
                 quick_episodes: int, full_episodes: int, solve_return: float, stop_on_solve: bool = True,
                 progress: bool = False, label: str = "") -> None:
        self.pool, self.actor_of = pool, actor_of
        self.eval_every, self.quick, self.full = int(eval_every), int(quick_episodes), int(full_episodes)
        self.solve_return, self.stop_on_solve = float(solve_return), bool(stop_on_solve)
        self.progress, self.label = progress, label
        self.next_eval = self.eval_every
        self.evals: list[tuple[int, float, float | None]] = []
        self.solved_at: int | None = None
        self.last_full: float | None = None

    def full_eval(self, net: Any) -> float:
        r = play_episodes(self.pool, self.actor_of(net), self.full, seed=FULL_EVAL_SEED)
        self.last_full = float(r.mean())
        return self.last_full

    def __call__(self, step: int, net: Any, history: Any) -> bool:
        if step < self.next_eval:
            return False
        while self.next_eval <= step:
            self.next_eval += self.eval_every
        quick = float(play_episodes(self.pool, self.actor_of(net), self.quick,
                                    seed=QUICK_EVAL_SEED + step).mean())
        full = self.full_eval(net) if quick >= self.solve_return else None
        self.evals.append((int(step), quick, full))
        recent = history.episode_returns[-10:]
        say(self.progress, f"{self.label}step {step}: greedy return {quick:.1f} over {self.quick} episodes"
                           + (f", {full:.1f} over {self.full}" if full is not None else "")
                           + (f" (training episodes: last 10 mean {np.mean(recent):.1f})" if recent else ""))
        if full is not None and full >= self.solve_return and self.solved_at is None:
            self.solved_at = int(step)
            return self.stop_on_solve
        return False


def plot_seed_returns(runs: Mapping[int, Mapping[str, Any]], path: Path, title: str, solve_return: float,
                      window: int = 10) -> Path | None:
    """Left: return per training episode (moving mean of ``window``) for each seed, against the env
    step at which the episode ended; right: the quick greedy evaluations. None without matplotlib."""
    plt = pyplot()
    if plt is None:
        return None
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 4.2))
    for i, (seed, run) in enumerate(runs.items()):
        y = np.asarray(run["episode_returns"], dtype=np.float64)
        x = np.asarray(run["episode_end_steps"])
        c = f"C{i}"
        ax.plot(x, y, color=c, alpha=0.2, lw=0.7)
        if len(y) >= window:
            note = f" (solved at {run['steps_to_solve']})" if run["steps_to_solve"] > 0 else " (not solved)"
            ax.plot(x[window - 1:], np.convolve(y, np.ones(window) / window, mode="valid"), color=c, lw=1.6,
                    label=f"seed {seed}{note}")
        ev = run["evals"]
        if ev:
            ax2.plot([e[0] for e in ev], [e[1] for e in ev], "-o", ms=3, color=c, label=f"seed {seed}")
            full = [(e[0], e[2]) for e in ev if e[2] is not None]
            if full:
                ax2.plot(*zip(*full), "*", ms=11, color=c)
    for a in (ax, ax2):
        a.axhline(solve_return, color="k", ls="--", lw=0.8)
        a.set_xlabel("environment steps")
        a.grid(alpha=0.3)
        a.legend(fontsize=7)
    ax.set_ylabel(f"return per training episode (moving mean of {window})")
    ax2.set_ylabel("greedy evaluation return (stars: full evaluation)")
    ax.set_title(title, fontsize=10)
    ax2.set_title("periodic evaluation of the greedy policy", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _solve_seeds(config: dict, out_dir: Path, progress: bool, name: str,
                 train_one: Callable[[Any, int, int, SolveMonitor], tuple[Any, Any]],
                 actor_of: Callable[[Any], Callable],
                 extra: Callable[[Any, Any, list], dict] | None = None) -> dict:
    """Train one agent per seed with a :class:`SolveMonitor`; the metrics of the module docstring."""
    train = section(config, "train")
    env_cfg = section(config, "env")
    env_id = str(env_cfg.pop("id", "CartPole-v1"))
    seeds = [int(s) for s in train.get("seeds", [0, 1, 2, 3, 4])]
    total = int(train.get("total_steps", 50_000))
    full_n, quick_n = int(train.get("eval_episodes", 100)), int(train.get("quick_eval_episodes", 10))
    solve = float(train.get("solve_return", 475.0))
    make = env_factory(lambda: make_env(env_id, **env_cfg))
    pool = [make() for _ in range(max(full_n, quick_n))]
    world, rank = world_and_rank()
    m: dict[str, Any] = {}
    t_all = time.perf_counter()

    def solve_seed(seed: int) -> dict[str, Any]:
        mon = SolveMonitor(pool, actor_of, eval_every=int(train.get("eval_every", 2000)),
                           quick_episodes=quick_n, full_episodes=full_n, solve_return=solve,
                           stop_on_solve=bool(train.get("stop_on_solve", True)),
                           progress=progress and rank == 0, label=f"[seed {seed}] ")
        t0 = time.perf_counter()
        net, hist = train_one(make(), seed, total, mon)
        if mon.solved_at is None or not mon.stop_on_solve:
            mon.full_eval(net)  # the final network's full evaluation
        seconds = time.perf_counter() - t0
        steps = mon.solved_at if mon.solved_at is not None else -1
        run = {"steps_to_solve": steps, "eval_return": mon.last_full, "env_steps": hist.stopped_at,
               "episodes": len(hist.episode_returns), "seconds": seconds, "evals": mon.evals,
               "episode_returns": [float(r) for r in hist.episode_returns],
               "episode_end_steps": [int(s) for s in hist.episode_end_steps]}
        if extra is not None:
            run.update(extra(net, hist, pool))
        if world == 1:
            _say_seed(progress, seed, run, full_n)
        return run

    # the seeds are independent runs, shared out over the ranks and gathered (share_out), so rank 0
    # reports exactly what one process would
    runs = dict(zip(seeds, share_out(seeds, solve_seed)))
    if world > 1:
        progress = progress and rank == 0
        for seed in seeds:
            _say_seed(progress, seed, runs[seed], full_n)
    for seed, run in runs.items():
        m[f"steps_to_solve_seed{seed}"] = run["steps_to_solve"]
        m[f"seconds_seed{seed}"] = round(run["seconds"], 1)
    solved = [r["steps_to_solve"] for r in runs.values() if r["steps_to_solve"] > 0]
    m.update({"seeds_solved": len(solved), "seeds": len(seeds),
              "steps_to_solve": ", ".join(f"{s}: {r['steps_to_solve']}" for s, r in runs.items()),
              "median_steps_to_solve": float(np.median(solved)) if solved else -1.0,
              "max_steps_to_solve": max(solved) if solved else -1,
              "mean_eval_return": float(np.mean([r["eval_return"] for r in runs.values()])),
              "min_eval_return": float(np.min([r["eval_return"] for r in runs.values()])),
              "train_seconds": round(time.perf_counter() - t_all, 1), "env": pool[0].spec.id,
              "total_steps": total, "world_size": world})
    if extra is not None:
        for key in runs[seeds[0]]:
            if key.startswith("extra_"):
                m[key[len("extra_"):]] = float(np.mean([r[key] for r in runs.values()]))
    say(progress, f"{name}: {len(solved)}/{len(seeds)} seeds solved (mean return >= {solve:g} over {full_n} "
                  f"greedy episodes within {total} env steps); steps to solve {m['steps_to_solve']}; "
                  f"{m['train_seconds']:.0f} s")
    if rank:
        return m   # rank 0 writes
    out_dir = Path(out_dir)
    atomic_write_text(out_dir / "seeds.json", json.dumps({str(k): v for k, v in runs.items()}) + "\n")
    plot_seed_returns(runs, out_dir / "returns.png", f"{name} on {m['env']}: return per training episode",
                      solve)
    return m


def _say_seed(progress: bool, seed: int, run: Mapping[str, Any], full_n: int) -> None:
    steps = run["steps_to_solve"]
    say(progress, f"[seed {seed}] " + (f"solved at {steps} env steps" if steps > 0 else
                                       f"not solved within {run['env_steps']} env steps")
                  + f": mean greedy return {run['eval_return']:.1f} over {full_n} episodes "
                    f"({run['episodes']} training episodes, {run['seconds']:.0f} s)")


def _config_of(cls: Any, train: Mapping[str, Any]) -> Any:
    kw = dict(train)
    if "max_grad_norm" in kw and (kw["max_grad_norm"] is None or float(kw["max_grad_norm"]) <= 0):
        kw["max_grad_norm"] = None  # TOML has no None: 0 means no clipping
    return cls.from_dict(kw)


def run_cartpole_dqn(config: dict, out_dir: Path, *, progress: bool = True) -> dict:
    """Recipe ``cartpole-dqn``: DQN (:func:`gradus.rl.dqn.dqn`) on CartPole-v1, one run per seed.

    Config: ``env.id``; ``train.seeds``, ``train.total_steps`` (the budget per seed),
    ``train.eval_every``, ``train.quick_eval_episodes``, ``train.eval_episodes``, ``train.solve_return``,
    ``train.stop_on_solve`` and every field of :class:`~gradus.rl.dqn.DQNConfig` (``lr``, ``gamma``,
    ``batch_size``, ``buffer_size``, ``learning_starts``, ``train_freq``, ``gradient_steps``,
    ``target_update``, ``tau``, ``eps_*``, ``max_grad_norm`` (0: none), ``huber_delta``, ``double``,
    ``hidden``). Metrics: see the module docstring; the target is ``seeds_solved``.
    """
    cfg = _config_of(DQNConfig, section(config, "train"))

    def train_one(env: Any, seed: int, total: int, mon: SolveMonitor) -> tuple[Any, Any]:
        return dqn(env, total, cfg, seed=seed, callback=mon, callback_every=mon.eval_every)

    return _solve_seeds(config, out_dir, progress, "DQN" + (" (double)" if cfg.double else ""), train_one,
                        greedy_actor)


def run_cartpole_reinforce(config: dict, out_dir: Path, *, progress: bool = True) -> dict:
    """Recipe ``cartpole-reinforce``: REINFORCE with a learned baseline
    (:func:`gradus.rl.reinforce.reinforce`) on CartPole-v1, one run per seed.

    Config: as ``cartpole-dqn`` for the budget and the evaluation (the greedy policy is
    ``argmax_a pi(a|s)``), and every field of :class:`~gradus.rl.reinforce.ReinforceConfig`.
    Besides the common metrics, ``mean_sampled_return``: the mean over seeds of the return of the
    final *stochastic* policy (actions sampled from ``pi``) over ``eval_episodes`` episodes.
    """
    cfg = _config_of(ReinforceConfig, section(config, "train"))

    def train_one(env: Any, seed: int, total: int, mon: SolveMonitor) -> tuple[Any, Any]:
        policy, _, hist = reinforce(env, total, cfg, seed=seed, callback=mon)
        return policy, hist

    def extra(policy: Any, hist: Any, pool: list) -> dict:
        rng = np.random.default_rng(FULL_EVAL_SEED)
        n = int(section(config, "train").get("eval_episodes", 100))
        sampled = play_episodes(pool, sampling_actor(policy, rng), n, seed=FULL_EVAL_SEED)
        return {"extra_mean_sampled_return": float(sampled.mean())}

    return _solve_seeds(config, out_dir, progress, "REINFORCE with baseline", train_one, greedy_policy_actor,
                        extra)


# `mpiexec -n N gradus train cartpole-*` shares the seeds out over the ranks (_solve_seeds)
run_cartpole_dqn.data_parallel = True
run_cartpole_reinforce.data_parallel = True
