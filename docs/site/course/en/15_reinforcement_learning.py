r"""
Reinforcement learning: from the MDP to DQN
===========================================

In supervised learning every input comes with its answer. In **reinforcement learning** nobody gives
answers: an **agent** acts in an **environment** and receives **rewards**, and it must find out by
trial and error which actions pay off, often long after they were taken. Time runs in steps
:math:`t = 0, 1, 2, \dots`: the agent observes a **state** :math:`s_t`, chooses an **action**
:math:`a_t`, and the environment answers with a reward :math:`r_{t+1}` and the next state
:math:`s_{t+1}`. When the answer depends on :math:`(s_t, a_t)` only, this is a **Markov decision
process** (MDP) :math:`(\mathcal S, \mathcal A, P, R, \gamma)`, with transition probabilities
:math:`P(s' \mid s, a)` and expected rewards :math:`R(s, a)`.

The agent's behaviour is a **policy** :math:`\pi(a \mid s)`, deterministic (one action per state) or
stochastic. What it wants is a large **return**, the rewards that follow, later ones weighed less
by the **discount factor** :math:`\gamma \in [0, 1]`:

.. math::

    G_t = r_{t+1} + \gamma r_{t+2} + \gamma^2 r_{t+3} + \dots = \sum_{k \ge 0} \gamma^k r_{t+k+1}
        = r_{t+1} + \gamma G_{t+1}

The **state-value function** :math:`V^\pi(s) = \mathbb E_\pi[G_t \mid s_t = s]` is the return
expected from :math:`s` when following :math:`\pi`; the **action-value function**
:math:`Q^\pi(s, a) = \mathbb E_\pi[G_t \mid s_t = s, a_t = a]` fixes the first action too. The
recursion :math:`G_t = r_{t+1} + \gamma G_{t+1}` turns into the **Bellman expectation equations**,
and maximising over actions into the **Bellman optimality equations** of the best values
:math:`V^*, Q^*`:

.. math::

    V^\pi(s) = \sum_a \pi(a \mid s)\, Q^\pi(s, a), \qquad
    Q^\pi(s, a) = R(s, a) + \gamma \sum_{s'} P(s' \mid s, a)\, V^\pi(s')

    V^*(s) = \max_a \Big[ R(s, a) + \gamma \sum_{s'} P(s' \mid s, a)\, V^*(s') \Big], \qquad
    \pi^*(s) = \arg\max_a Q^*(s, a)

gradus writes this vocabulary as types and small functions in :source:`src/gradus/rl/mdp.py`:
``State``, ``Action`` and ``Reward`` (an integer, an integer, a float), ``Policy`` (an array of
actions or a table of :math:`\pi(a \mid s)`), ``ValueFunction`` and ``ActionValueFunction`` (arrays of
shape ``(n_states,)`` and ``(n_states, n_actions)``), ``discounted_return`` and ``returns_to_go``,
and ``MDP``, the model :math:`(P, R)` as arrays. The algorithms of this page are in
:source:`src/gradus/rl/tabular.py` (value and policy iteration, Monte Carlo, TD(0), SARSA,
Q-learning) and :source:`src/gradus/rl/dqn.py` (DQN); the environments come from gymnasium through
``make_env`` (:source:`src/gradus/rl/envs.py`).
"""

# %%
# The vocabulary in code
# ----------------------
# A return is computed backwards, :math:`G_t = r_{t+1} + \gamma G_{t+1}`. The environment of the next
# sections is FrozenLake: a 4x4 frozen lake, start top left, goal bottom right (reward 1), four holes
# that end the episode. The ice is slippery: an action moves the agent in the intended direction or
# in one of the two perpendicular ones, each with probability 1/3. gymnasium's toy-text environments
# carry their model as a table ``P[s][a] = [(prob, s', r, done), ...]``, and ``MDP.from_env`` reads it
# into arrays.
import os

import gymnasium
import matplotlib.pyplot as plt
import numpy as np

from gradus import rl

FAST = os.environ.get("GRADUS_DOCS_FAST") == "1"

rewards = [0.0, 0.0, 0.0, 1.0]
print("returns to go, gamma 0.9:", rl.returns_to_go(rewards, gamma=0.9).round(4),
      "  G_0 =", round(rl.discounted_return(rewards, gamma=0.9), 4))

lake = rl.make_env("FrozenLake-v1")                            # 4x4, slippery
mdp = rl.MDP.from_env(lake)
desc = [c.decode() for c in lake.unwrapped.desc.ravel()]        # S, F (frozen), H (hole), G (goal)
print(f"{lake.spec.id}: {mdp.n_states} states, {mdp.n_actions} actions (0 left, 1 down, 2 right, 3 up)")
print("gymnasium's table P[0][1] (start, 'down'):",
      [(round(p, 3), int(s2), r, d) for p, s2, r, d in lake.unwrapped.P[0][1]])
print("the same as arrays: P[0, 1, s'] nonzero at", np.flatnonzero(mdp.P[0, 1]), " R[0, 1] =", mdp.R[0, 1])


def draw_grid(ax, env, values, marks, title, arrows=None, deltas=None, paths=None):
    """values on env's grid (state s is the cell divmod(s, cols)); cells in `marks` (holes, goal,
    cliff) get their letter; arrows[s]: the action drawn in cell s (deltas[a]: its (row, col) move);
    paths: {name: visited states}."""
    rows, cols = rl.grid_shape(env)
    blank = np.array([marks.get(s) is not None for s in range(rows * cols)]).reshape(rows, cols)
    cmap = plt.get_cmap("viridis").copy()
    cmap.set_bad("dimgray")
    im = ax.imshow(np.ma.masked_where(blank, np.asarray(values, dtype=float).reshape(rows, cols)), cmap=cmap)
    ax.figure.colorbar(im, ax=ax, fraction=0.046 * rows / cols, pad=0.02)
    for s in range(rows * cols):
        r, c = divmod(s, cols)
        if marks.get(s) is not None:
            ax.text(c, r, marks[s], ha="center", va="center", color="w", fontsize=11, fontweight="bold")
        elif arrows is not None:
            dr, dc = deltas[int(arrows[s])]
            ax.arrow(c - 0.25 * dc, r - 0.25 * dr, 0.5 * dc, 0.5 * dr, head_width=0.15,
                     length_includes_head=True, color="w")
    for i, (name, states) in enumerate((paths or {}).items()):
        rc = np.array([divmod(int(s), cols) for s in states])
        off = 0.12 * (2 * i - 1)                                   # two paths on one row stay visible
        ax.plot(rc[:, 1] + off, rc[:, 0] + off, "-o", lw=2.5, ms=3, color=["tab:red", "tab:orange"][i],
                label=f"{name} ({len(states) - 1} steps)")
    if paths:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=len(paths), fontsize=8)
    ax.set_xticks(range(cols))
    ax.set_yticks(range(rows))
    ax.set_title(title, fontsize=9)


# %%
# Value iteration: planning with the model
# ----------------------------------------
# When the model is known, the Bellman optimality equation can be solved by turning it into an update,
# the **Bellman backup**, applied to every state at once from :math:`V_0 = 0`:
#
# .. math::
#
#     V_{k+1}(s) = \max_a \Big[ R(s, a) + \gamma \sum_{s'} P(s' \mid s, a)\, V_k(s') \Big]
#
# The backup is a contraction by the factor :math:`\gamma` (in the max norm), so :math:`V_k` converges
# to :math:`V^*` geometrically, and the greedy policy in :math:`V^*` is optimal. Below, the loop is
# written out with ``MDP.q_from_v`` (the bracket above, for all :math:`s, a`); ``rl.value_iteration``
# is the same loop with a stopping rule, and ``rl.policy_iteration`` (exact evaluation, then greedy
# improvement) must reach the same values. ``MDP.evaluate`` solves the linear Bellman expectation
# equations of a policy exactly; with :math:`\gamma = 1`, the reward 1 of the goal and the
# environment's 100-step limit, :math:`V^\pi(\text{start})` is the probability of reaching the goal.

gamma = 0.99
V_star, policy = rl.value_iteration(lake, gamma=gamma)
V = np.zeros(mdp.n_states)
gaps = []
for _ in range(400):
    V = mdp.q_from_v(V, gamma).max(axis=1)                      # one Bellman backup of every state
    gaps.append(np.abs(V - V_star).max())
V_pi, policy_pi = rl.policy_iteration(lake, gamma=gamma)
success = mdp.evaluate(policy, 1.0, horizon=lake.spec.max_episode_steps)[0]
measured = rl.evaluate_policy(lake, policy, episodes=100 if FAST else 1000, seed=0)
print(f"V*(start) = {V_star[0]:.4f}; after 50 backups max|V_k - V*| = {gaps[49]:.2e}, "
      f"after 400 {gaps[399]:.1e}")
print("policy iteration gives the same policy:", bool((policy_pi == policy).all()),
      f"(max |V difference| {np.abs(V_pi - V_star).max():.1e})")
reached = (measured > 0).mean()
standard_error = np.sqrt(reached * (1 - reached) / len(measured))
print(f"greedy policy: P(goal within {lake.spec.max_episode_steps} steps) = {success:.4f} exactly; measured "
      f"{reached:.3f} +- {standard_error:.3f} over {len(measured)} episodes")

lake_marks = {s: c for s, c in enumerate(desc) if c in "HG"}
lake_moves = [(0, -1), (1, 0), (0, 1), (-1, 0)]                # left, down, right, up
fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.9))
draw_grid(axes[0], lake, V_star, lake_marks, f"FrozenLake: V*(s), gamma={gamma}, and the greedy policy",
          arrows=policy, deltas=lake_moves)
axes[1].semilogy(np.arange(1, len(gaps) + 1), np.maximum(gaps, 1e-16))
axes[1].set_xlabel("backups k")
axes[1].set_ylabel("max_s |V_k(s) - V*(s)|")
axes[1].set_title("value iteration converges geometrically", fontsize=9)
axes[1].grid(alpha=0.3)
fig.tight_layout()

# %%
# The optimal policy looks odd at first: from the start it goes *left*, into the wall. On slippery ice
# an action moves you sideways two times in three, so pushing against the wall is the way to move
# down without any chance of moving towards a hole. Next to a hole the arrow is, for the same reason,
# an action none of whose three possible moves lead into it (only the cell between two holes, row 1,
# column 2, cannot avoid both). The recipe ``frozenlake-value-iteration`` does this too (``gradus train
# frozenlake-value-iteration``).
#
# Monte Carlo vs TD(0): learning values from episodes
# ---------------------------------------------------
# Without the model the agent can only play. **Policy evaluation** estimates :math:`V^\pi` from
# episodes, in two ways. **Monte Carlo** waits until the episode ends and moves :math:`V(s)` towards
# the return that actually followed (first visit of :math:`s`, the running mean of those returns);
# **TD(0)** (temporal difference) updates after every step, towards the one-step target
# :math:`r_{t+1} + \gamma V(s_{t+1})`, an estimate built on another estimate (**bootstrapping**):
#
# .. math::
#
#     \text{MC:}\quad V(s_t) \leftarrow V(s_t) + \frac{1}{N(s_t)} \big[ G_t - V(s_t) \big], \qquad
#     \text{TD(0):}\quad V(s_t) \leftarrow V(s_t) + \alpha \big[ r_{t+1} + \gamma V(s_{t+1}) - V(s_t) \big]
#
# The Monte-Carlo target is unbiased but noisy (a whole episode of randomness); the TD target is biased
# while :math:`V` is wrong but has far less variance. The test bed is Sutton and Barto's random walk
# (example 6.2): states 1 to 5 in a row, start in the middle, a fair coin moves one step left or
# right, the episode ends at either end, with reward 1 only on the right. The walk is a small class
# with gymnasium's ``reset`` / ``step``; ``MDP.from_table`` gives its exact values
# :math:`V(s) = s/6` to measure the error against. Three estimators see the same episodes (the same
# seed replays the same walks, so running 1, 2, 5, ... episodes traces one learning curve): gradus'
# ``rl.mc_policy_evaluation`` (the running mean of the returns, step :math:`1/N(s)`), Monte Carlo
# with a constant step :math:`\alpha` written here from ``rl.rollout`` and ``rl.returns_to_go``, and
# ``rl.td0`` with the same :math:`\alpha`. All start from :math:`V = 0`.

class RandomWalk:
    """States 0..6, start 3; a fair coin moves left or right; 0 and 6 end the episode, reward 1 at 6."""
    observation_space = gymnasium.spaces.Discrete(7)
    action_space = gymnasium.spaces.Discrete(1)                # one action: "walk"

    def reset(self, seed=None, options=None):
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        self.s = 3
        return self.s, {}

    def step(self, action):
        self.s += 1 if self.rng.random() < 0.5 else -1
        return self.s, float(self.s == 6), self.s in (0, 6), False, {}


def walk_outcome(s2):
    return (0.5, s2, float(s2 == 6), s2 in (0, 6))


table = {s: {0: [walk_outcome(s - 1), walk_outcome(s + 1)]} for s in range(1, 6)}
table.update({s: {0: [(1.0, s, 0.0, True)]} for s in (0, 6)})  # the ends: terminal
V_true = rl.MDP.from_table(table).evaluate([0] * 7, gamma=1.0)
print("random walk, exact V(1..5):", V_true[1:6].round(4))

walk = RandomWalk()


def constant_alpha_mc(walk, episodes, seed, alpha=0.1):
    """Monte Carlo with a constant step size: V(s_t) <- V(s_t) + alpha (G_t - V(s_t)), every visit."""
    V = np.zeros(7)
    rng = np.random.default_rng(seed)
    for i in range(episodes):
        episode = rl.rollout(walk, [0] * 7, seed=seed if i == 0 else None, rng=rng)
        for s, G in zip(episode.states, rl.returns_to_go(episode.rewards, gamma=1.0)):
            V[s] += alpha * (G - V[s])
    return V


estimators = {
    "Monte Carlo, mean of returns": lambda n, seed: rl.mc_policy_evaluation(walk, [0] * 7, n, gamma=1.0,
                                                                            seed=seed),
    "Monte Carlo, alpha=0.1": lambda n, seed: constant_alpha_mc(walk, n, seed, alpha=0.1),
    "TD(0), alpha=0.1": lambda n, seed: rl.td0(walk, [0] * 7, n, alpha=0.1, gamma=1.0, seed=seed),
}
budgets = [1, 2, 3, 5, 10, 20, 35, 50, 75, 100] if FAST else [1, 2, 3, 5, 10, 20, 35, 50, 75, 100, 150, 200]
seeds = range(5 if FAST else 50)
errors = {}
for name, estimate in estimators.items():
    errors[name] = [np.mean([np.sqrt(np.mean((estimate(n, seed)[1:6] - V_true[1:6]) ** 2)) for seed in seeds])
                    for n in budgets]
    print(f"{name:30s} RMS error after {budgets[4]} episodes {errors[name][4]:.3f}, "
          f"after {budgets[-1]} {errors[name][-1]:.3f}")

fig, ax = plt.subplots(figsize=(6.5, 3.8))
for name, e in errors.items():
    ax.plot(budgets, e, "-o", ms=3, label=name)
ax.set_xlabel("episodes")
ax.set_ylabel("RMS error of V over states 1-5")
ax.set_title(f"random walk: prediction error, mean of {len(seeds)} runs (V starts at 0)", fontsize=9)
ax.legend(fontsize=8)
ax.grid(alpha=0.3)
fig.tight_layout()

# %%
# Read the curves in two parts. **Early on**, both Monte-Carlo estimators are ahead: after one
# episode every visited state has moved towards the real outcome, while TD, starting from
# :math:`V = 0`, only moves the last state before the reward; the reward travels back one state per
# visit through the bootstrap. (Sutton and Barto start from :math:`V = 0.5`, which hides this bias and
# lets TD lead from the start.) **Later**, at the same step size :math:`\alpha`, TD ends well below
# constant-:math:`\alpha` Monte Carlo: both keep fluctuating around the true values, and TD's target
# :math:`r + \gamma V(s')` varies far less than a whole return. The running mean has a step that
# shrinks, :math:`1/N`, so its error keeps falling like :math:`1/\sqrt N`; a constant step never
# settles, but it keeps following a policy that changes, which is what control needs.
#
# SARSA vs Q-learning on the cliff
# --------------------------------
# For **control** the agent estimates :math:`Q(s, a)` and acts **ε-greedily**: a random action with
# probability :math:`\varepsilon`, else the best one by :math:`Q` (exploration vs exploitation). Two TD
# methods differ in one term of the target:
#
# .. math::
#
#     \text{SARSA:}\quad Q(s, a) \leftarrow Q(s, a) + \alpha \big[ r + \gamma Q(s', a') - Q(s, a) \big]
#
#     \text{Q-learning:}\quad Q(s, a) \leftarrow Q(s, a)
#         + \alpha \big[ r + \gamma \max_{a'} Q(s', a') - Q(s, a) \big]
#
# SARSA uses :math:`a'`, the action its ε-greedy policy really takes next: it is **on-policy** and
# learns the value of the policy *including its exploration*. Q-learning uses the best next action,
# whatever it will do: it is **off-policy** and learns :math:`Q^*`. CliffWalking (Sutton and Barto,
# example 6.6) shows the difference: a 4x12 grid, start bottom left, goal bottom right, the cells in
# between a cliff (reward -100 and back to the start), -1 per step otherwise. The shortest path runs
# along the cliff edge, where an exploratory step now and then falls off. Here: ε = 0.1, α = 0.5,
# γ = 1, as in the book, and a few runs of ``rl.sarsa`` and ``rl.q_learning`` with
# ``return_history=True`` (the return each episode earned while learning, exploration included).

cliff = rl.make_env("CliffWalking-v1")
rows, cols = rl.grid_shape(cliff)
start, goal = (rows - 1) * cols, rows * cols - 1
runs, episodes = (1, 200) if FAST else (10, 500)
learners = {"SARSA": rl.sarsa, "Q-learning": rl.q_learning}
curves = {name: np.zeros(episodes) for name in learners}
Q_mean = {name: np.zeros((cliff.observation_space.n, cliff.action_space.n)) for name in learners}
for run in range(runs):
    for name, learn in learners.items():
        Q, online = learn(cliff, episodes, alpha=0.5, gamma=1.0, epsilon=0.1, seed=run, return_history=True)
        curves[name] += online / runs
        Q_mean[name] += Q / runs

paths = {}
for name in learners:
    episode = rl.rollout(cliff, rl.greedy_policy(Q_mean[name]), seed=0, max_steps=100)
    paths[name] = episode.states + ([goal] if episode.terminated else [])
    print(f"{name:10s}: online return over the last 50 episodes {curves[name][-50:].mean():6.1f}; "
          f"greedy path {len(episode)} steps, return {episode.total_reward:.0f}")

fig, axes = plt.subplots(2, 1, figsize=(8, 7.5), gridspec_kw={"height_ratios": [1.2, 1]})
for i, (name, y) in enumerate(curves.items()):
    axes[0].plot(np.arange(1, episodes + 1), y, color=f"C{i}", alpha=0.25, lw=0.8)
    smooth = np.convolve(y, np.ones(10) / 10, mode="valid")
    axes[0].plot(np.arange(10, episodes + 1), smooth, color=f"C{i}", lw=2,
                 label=f"{name} (moving mean of 10)")
axes[0].set_ylim(-100, 0)
axes[0].set_xlabel("episode")
axes[0].set_ylabel("online return per episode")
axes[0].set_title(f"CliffWalking, epsilon=0.1, alpha=0.5 (runs averaged: {runs})", fontsize=9)
axes[0].legend(fontsize=8)
axes[0].grid(alpha=0.3)
cliff_marks = {s: "C" for s in range(start + 1, goal)}
cliff_marks[goal] = "G"
draw_grid(axes[1], cliff, Q_mean["SARSA"].max(axis=1), cliff_marks,
          "greedy paths in the run-averaged Q (colour: SARSA's max_a Q(s, a))", paths=paths)
fig.tight_layout()

# %%
# The classic picture: **SARSA walks the safe path** along the top, away from the cliff, and
# **Q-learning the cliff edge**. Q-learning's path is the optimal one (13 steps), but while it explores
# beside the cliff an ε-step now and then throws it off, so its *online* return is lower; SARSA's values
# include that risk (the colours: the cells next to the cliff are worth less), so it takes the longer
# detour and earns more while learning. With ε → 0 both would converge to the optimal path.
#
# The recipe ``cliffwalking-sarsa-vs-q-learning`` (``gradus train cliffwalking-sarsa-vs-q-learning``)
# runs the book's experiment in full, 100 runs of 500 episodes. Its measured result, from
# ``benchmarks/RESULTS.md``: online return over the last 100 episodes **-26.5 for SARSA and -49.4
# for Q-learning** (the book: about -25 and -50); greedy paths of 17 steps along the top row (SARSA)
# and 13 along the cliff edge (Q-learning, in 100% of its runs and 0% of SARSA's); 149 s.
#
# DQN: a network for Q
# --------------------
# A table has one entry per state; CartPole's state is four real numbers (cart position and velocity,
# pole angle and angular velocity), and the agent pushes the cart left or right to keep the pole up
# (+1 per step, at most 500). A **deep Q-network** (Mnih et al. 2015) replaces the table by a network
# :math:`Q(s, \cdot\,; \theta)` with one output per action, and Q-learning's update by a regression on
# the TD target:
#
# .. math::
#
#     L(\theta) = \mathbb E_{(s, a, r, s') \sim \mathcal D}\,
#         \ell_\text{Huber}\big( Q(s, a; \theta) - y \big), \qquad
#     y = r + \gamma\, (1 - \text{terminated})\, \max_{a'} Q(s', a'; \theta^-)
#
# Two ideas make this stable. **Experience replay**: transitions go into a buffer :math:`\mathcal D`
# (``rl.ReplayBuffer``, a ring of the last 50,000) and minibatches are drawn from it at random, which
# breaks the correlation of consecutive steps. A **target network** :math:`\theta^-`, a copy of the
# network that changes slowly (``rl.sync_target``, here Polyak averaging
# :math:`\theta^- \leftarrow 0.005\,\theta + 0.995\,\theta^-` every step), computes :math:`y`, so the
# target does not move with every update. gradus uses the Double-DQN target (the online network picks
# :math:`a'`, the target network values it) and the Huber loss; ``rl.td_targets`` computes
# :math:`y`. Note the terminal flag: a pole that fell ends the episode (nothing to bootstrap), the
# 500-step time limit only cuts it.

y_dqn = rl.td_targets(rewards=np.array([1.0, 1.0]), terminated=np.array([0.0, 1.0]),
                      next_q_target=np.array([[1.0, 2.0], [3.0, 4.0]]), gamma=0.99)
y_double = rl.td_targets(np.array([1.0, 1.0]), np.array([0.0, 1.0]), np.array([[1.0, 2.0], [3.0, 4.0]]), 0.99,
                         next_q_online=np.array([[5.0, 0.0], [0.0, 5.0]]))
print("DQN targets:", y_dqn, " Double DQN targets:", y_double, " (the second transition is terminal: y = r)")

steps = 300 if FAST else 6000
q_net, history = rl.dqn("CartPole-v1", steps, seed=0, learning_starts=250 if FAST else 1000,
                        batch_size=32 if FAST else 128)
greedy_returns = rl.play_episodes("CartPole-v1", rl.greedy_actor(q_net), episodes=10, seed=100)
coin = np.random.default_rng(0)
random_returns = rl.play_episodes("CartPole-v1", lambda obs: coin.integers(2, size=len(obs)), episodes=10,
                                  seed=100)
last_returns = np.round(history.episode_returns[-10:]).astype(int)
print(f"{history.stopped_at} env steps, {len(history.losses)} updates, {len(history.episode_returns)} "
      f"episodes ({history.seconds:.1f} s); last 10 training returns {last_returns}")
print(f"greedy policy afterwards: mean return {greedy_returns.mean():.1f} over 10 episodes; random pushes "
      f"{random_returns.mean():.1f}; solved = 475 or more (at most 500)")

fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.4))
axes[0].plot(history.episode_end_steps, history.episode_returns, ".-", ms=4)
axes[0].set_xlabel("environment step")
axes[0].set_ylabel("return of the training episode")
axes[0].set_title(f"DQN on CartPole-v1, the first {steps} steps", fontsize=9)
axes[0].grid(alpha=0.3)
axes[1].plot(np.convolve(history.losses, np.ones(20) / 20, mode="valid"))
axes[1].set_xlabel("update")
axes[1].set_ylabel("Huber loss (moving mean of 20)")
axes[1].set_title("TD regression loss", fontsize=9)
axes[1].grid(alpha=0.3)
fig.tight_layout()

# %%
# This run is only the beginning (compare the greedy return above with random pushes and with 500): the
# exploration rate ε falls linearly from 1 to 0.02 over the first 10,000 steps, so the training episodes
# are still mostly random, and the updates start only after 1,000 steps of collection (250 with the
# short settings). The recipe ``cartpole-dqn``
# (``gradus train cartpole-dqn``: Double DQN, MLP 4-128-128-2, batch 128, Adam 1e-3, five seeds of at
# most 50,000 steps each) solves it. Its measured result, from ``benchmarks/RESULTS.md``: **all 5
# seeds solved** (mean greedy return ≥ 475 over 100 episodes; every full evaluation was 500.0), after
# 30,000 / 24,000 / 20,000 / 40,000 / 32,000 steps (median 30,000), 14 min 20 s in all on one core. A
# first setting with a hard target copy every 500 steps left one seed stuck near 100-185: the slowly
# moving target matters. The policy-gradient alternative, REINFORCE, is ``rl.reinforce``
# (:source:`src/gradus/rl/reinforce.py`, recipe ``cartpole-reinforce``).
