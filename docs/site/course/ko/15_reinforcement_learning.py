r"""
강화 학습: MDP에서 DQN까지
==========================

지도 학습에서는 입력마다 정답이 붙어 있습니다. **강화 학습** 에는 정답을 알려 주는 사람이 없습니다.
**에이전트** 가 **환경** 안에서 행동하고 **보상** 을 받을 뿐이며, 어떤 행동이 이득이 되는지를 시행착오로
알아내야 합니다. 그 이득은 행동하고 한참 뒤에야 오는 경우도 많습니다. 시간은 스텝 :math:`t = 0, 1, 2, \dots`
단위로 흐릅니다. 에이전트는 **상태** :math:`s_t` 를 관찰하고 **행동** :math:`a_t` 를 고르며, 환경은 보상
:math:`r_{t+1}` 과 다음 상태 :math:`s_{t+1}` 로 답합니다. 이 답이 :math:`(s_t, a_t)` 에만 의존하면(마르코프
성질) 이것이 **마르코프 결정 과정** (MDP) :math:`(\mathcal S, \mathcal A, P, R, \gamma)` 입니다. :math:`P(s'
\mid s, a)` 는 전이 확률, :math:`R(s, a)` 는 기대 보상입니다.

에이전트가 행동하는 방식이 **정책** :math:`\pi(a \mid s)` 입니다. 상태마다 행동 하나를 정하는 결정적 정책일
수도 있고, 확률로 고르는 확률적 정책일 수도 있습니다. 에이전트가 원하는 것은 큰 **리턴**, 즉 앞으로 받을
보상의 합입니다. 나중 보상일수록 **할인율** :math:`\gamma \in [0, 1]` 만큼 덜 쳐 줍니다.

.. math::

    G_t = r_{t+1} + \gamma r_{t+2} + \gamma^2 r_{t+3} + \dots = \sum_{k \ge 0} \gamma^k r_{t+k+1}
        = r_{t+1} + \gamma G_{t+1}

**상태 가치 함수** :math:`V^\pi(s) = \mathbb E_\pi[G_t \mid s_t = s]` 는 :math:`s` 에서 출발해 :math:`\pi`
를 따를 때 기대되는 리턴이고, **행동 가치 함수** (Q 함수) :math:`Q^\pi(s, a) = \mathbb E_\pi[G_t \mid s_t =
s, a_t = a]` 는 첫 행동까지 정해 둔 값입니다. 점화식 :math:`G_t = r_{t+1} + \gamma G_{t+1}` 에서 **벨만 기대
방정식** 이 나오고, 행동에 대해 최댓값을 취하면 최적 가치 :math:`V^*, Q^*` 의 **벨만 최적 방정식** 이
나옵니다.

.. math::

    V^\pi(s) = \sum_a \pi(a \mid s)\, Q^\pi(s, a), \qquad
    Q^\pi(s, a) = R(s, a) + \gamma \sum_{s'} P(s' \mid s, a)\, V^\pi(s')

    V^*(s) = \max_a \Big[ R(s, a) + \gamma \sum_{s'} P(s' \mid s, a)\, V^*(s') \Big], \qquad
    \pi^*(s) = \arg\max_a Q^*(s, a)

gradus는 이 용어들을 :source:`src/gradus/rl/mdp.py` 에 타입과 작은 함수로 적어 두었습니다. ``State``,
``Action``, ``Reward`` (정수, 정수, 실수), ``Policy`` (행동의 배열 또는 :math:`\pi(a \mid s)` 의 표),
``ValueFunction`` 과 ``ActionValueFunction`` (모양이 ``(n_states,)``, ``(n_states, n_actions)`` 인 배열),
``discounted_return`` 과 ``returns_to_go``, 그리고 모델 :math:`(P, R)` 을 배열로 담은 ``MDP`` 입니다. 이
페이지의 알고리즘은 :source:`src/gradus/rl/tabular.py` (가치 반복과 정책 반복, 몬테카를로, TD(0), SARSA, Q
학습)와 :source:`src/gradus/rl/dqn.py` (DQN)에 있고, 환경은 ``make_env`` (:source:`src/gradus/rl/envs.py`)를
통해 gymnasium에서 가져옵니다.
"""

# %%
# 코드로 보는 용어
# ----------------
# 리턴은 뒤에서부터 계산합니다: :math:`G_t = r_{t+1} + \gamma G_{t+1}`. 다음 절들의 환경은 FrozenLake입니다.
# 4x4 크기의 얼어붙은 호수로, 출발점은 왼쪽 위, 목표는 오른쪽 아래(보상 1)이고, 빠지면 에피소드가 끝나는
# 구멍이 네 개 있습니다. 얼음이 미끄러워서, 행동을 하면 의도한 방향 또는 그와 수직인 두 방향 중 하나로 각각
# 확률 1/3로 움직입니다. gymnasium의 toy-text 환경들은 자기 모델을 ``P[s][a] = [(prob, s', r, done), ...]``
# 라는 표로 갖고 있으며, ``MDP.from_env`` 가 이 표를 배열로 읽어 들입니다.
import os

import gymnasium
import matplotlib.pyplot as plt
import numpy as np

from gradus import rl

FAST = os.environ.get("GRADUS_DOCS_FAST") == "1"

rewards = [0.0, 0.0, 0.0, 1.0]
print("returns to go, gamma 0.9:", rl.returns_to_go(rewards, gamma=0.9).round(4),
      "  G_0 =", round(rl.discounted_return(rewards, gamma=0.9), 4))

lake = rl.make_env("FrozenLake-v1")                            # 4x4, 미끄러운 얼음
mdp = rl.MDP.from_env(lake)
desc = [c.decode() for c in lake.unwrapped.desc.ravel()]        # S (출발), F (얼음), H (구멍), G (목표)
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
        off = 0.12 * (2 * i - 1)                                   # 같은 줄을 지나는 두 경로가 겹치지 않게
        ax.plot(rc[:, 1] + off, rc[:, 0] + off, "-o", lw=2.5, ms=3, color=["tab:red", "tab:orange"][i],
                label=f"{name} ({len(states) - 1} steps)")
    if paths:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=len(paths), fontsize=8)
    ax.set_xticks(range(cols))
    ax.set_yticks(range(rows))
    ax.set_title(title, fontsize=9)


# %%
# 가치 반복: 모델을 이용한 계획
# -----------------------------
# 모델을 알면 벨만 최적 방정식을 갱신 규칙으로 바꿔서 풀 수 있습니다. 이 규칙이 **벨만 백업** 이며,
# :math:`V_0 = 0` 에서 시작해 모든 상태에 한꺼번에 적용합니다.
#
# .. math::
#
#     V_{k+1}(s) = \max_a \Big[ R(s, a) + \gamma \sum_{s'} P(s' \mid s, a)\, V_k(s') \Big]
#
# 백업은 (최대 노름에서) 비율 :math:`\gamma` 의 축소 사상이므로 :math:`V_k` 는 :math:`V^*` 로 기하급수적으로
# 수렴하고, :math:`V^*` 에 대한 탐욕 정책이 최적 정책입니다. 아래에서는 이 반복을 ``MDP.q_from_v`` (위의
# 대괄호를 모든 :math:`s, a` 에 대해 계산)로 직접 적습니다. ``rl.value_iteration`` 은 같은 반복에 멈춤
# 조건을 붙인 것이고, ``rl.policy_iteration`` (정책 평가를 정확히 한 뒤 탐욕적으로 정책 개선)도 같은 값에
# 도달해야 합니다. ``MDP.evaluate`` 는 정책의 선형 벨만 기대 방정식을 정확히 풉니다. :math:`\gamma = 1` 로
# 두면 목표의 보상이 1이고 환경의 스텝 제한이 100이므로, :math:`V^\pi(\text{start})` 는 목표에 도달할 확률이
# 됩니다.

gamma = 0.99
V_star, policy = rl.value_iteration(lake, gamma=gamma)
V = np.zeros(mdp.n_states)
gaps = []
for _ in range(400):
    V = mdp.q_from_v(V, gamma).max(axis=1)                      # 모든 상태에 벨만 백업 한 번
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
lake_moves = [(0, -1), (1, 0), (0, 1), (-1, 0)]                # 왼쪽, 아래, 오른쪽, 위
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
# 최적 정책은 처음 보면 이상합니다. 출발점에서 *왼쪽*, 즉 벽 쪽으로 갑니다. 미끄러운 얼음에서는 세 번에 두
# 번꼴로 옆으로 미끄러지므로, 벽을 향해 미는 것이 구멍 쪽으로 갈 가능성 없이 아래로 내려가는 방법입니다.
# 구멍 옆 칸의 화살표도 같은 이유로, 가능한 세 가지 이동 중 어느 것도 구멍으로 이어지지 않는 행동입니다(두
# 구멍 사이에 있는 1행 2열 칸만은 둘 다 피할 수 없습니다). 레시피 ``frozenlake-value-iteration`` 도 같은
# 계산을 합니다(``gradus train frozenlake-value-iteration``).
#
# 몬테카를로 대 TD(0): 에피소드로부터 가치 배우기
# -----------------------------------------------
# 모델이 없으면 에이전트는 직접 플레이해 볼 수밖에 없습니다. **정책 평가**, 즉 에피소드로부터 :math:`V^\pi`
# 를 추정하는 방법은 두 가지입니다. **몬테카를로 방법** 은 에피소드가 끝날 때까지 기다렸다가 실제로 받은
# 리턴 쪽으로 :math:`V(s)` 를 옮깁니다(:math:`s` 를 처음 방문한 뒤의 리턴들의 평균). **TD(0)** (시간차
# 학습)는 매 스텝마다 한 스텝 목표 :math:`r_{t+1} + \gamma V(s_{t+1})` 쪽으로 갱신합니다. 추정값을 다른
# 추정값으로 갱신하는 것, 이것이 **부트스트래핑** 입니다.
#
# .. math::
#
#     \text{MC:}\quad V(s_t) \leftarrow V(s_t) + \frac{1}{N(s_t)} \big[ G_t - V(s_t) \big], \qquad
#     \text{TD(0):}\quad V(s_t) \leftarrow V(s_t) + \alpha \big[ r_{t+1} + \gamma V(s_{t+1}) - V(s_t) \big]
#
# 몬테카를로의 목표는 편향이 없지만 잡음이 큽니다(에피소드 전체의 무작위성이 다 들어 있습니다). TD의 목표는
# :math:`V` 가 틀린 동안에는 편향되어 있지만 분산이 훨씬 작습니다. 실험 환경은 Sutton과 Barto의 랜덤
# 워크(예제 6.2)입니다. 상태 1부터 5까지가 한 줄로 놓여 있고, 가운데에서 출발해 공정한 동전으로 왼쪽이나
# 오른쪽으로 한 칸씩 움직이며, 양 끝에 닿으면 에피소드가 끝납니다. 보상은 오른쪽 끝에 닿을 때만 1입니다.
# 랜덤 워크는 gymnasium과 같은 ``reset`` / ``step`` 을 가진 작은 클래스로 만들고, ``MDP.from_table`` 로
# 정확한 가치 :math:`V(s) = s/6` 을 구해 오차의 기준으로 씁니다. 세 추정 방법이 같은 에피소드를 봅니다(같은
# 시드는 같은 워크를 재현하므로 에피소드를 1, 2, 5, ... 개 돌리면 학습 곡선 하나가 그려집니다). gradus의
# ``rl.mc_policy_evaluation`` (리턴의 이동 평균, 스텝 크기 :math:`1/N(s)`), 여기서 ``rl.rollout`` 과
# ``rl.returns_to_go`` 로 직접 작성한 고정 스텝 :math:`\alpha` 의 몬테카를로, 그리고 같은 :math:`\alpha` 의
# ``rl.td0`` 입니다. 모두 :math:`V = 0` 에서 시작합니다.

class RandomWalk:
    """States 0..6, start 3; a fair coin moves left or right; 0 and 6 end the episode, reward 1 at 6."""
    observation_space = gymnasium.spaces.Discrete(7)
    action_space = gymnasium.spaces.Discrete(1)                # 행동은 하나뿐: "걷기"

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
table.update({s: {0: [(1.0, s, 0.0, True)]} for s in (0, 6)})  # 양 끝: 종료 상태
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
# 곡선은 두 부분으로 나눠 읽습니다. **초반** 에는 두 몬테카를로 추정이 앞섭니다. 에피소드 하나가 끝나면
# 방문한 모든 상태가 실제 결과 쪽으로 움직이는 반면, :math:`V = 0` 에서 시작한 TD는 보상 직전의 마지막
# 상태만 움직이고, 보상은 부트스트래핑을 통해 방문할 때마다 한 칸씩 거슬러 올라가기 때문입니다(Sutton과
# Barto는 :math:`V = 0.5` 에서 시작하므로 이 편향이 가려지고 TD가 처음부터 앞섭니다). **후반** 에는 같은
# 스텝 크기 :math:`\alpha` 에서 TD가 고정 :math:`\alpha` 몬테카를로보다 훨씬 낮은 오차로 끝납니다. 둘 다
# 참값 주위에서 계속 흔들리지만, TD의 목표 :math:`r + \gamma V(s')` 는 리턴 전체보다 훨씬 덜 흔들리기
# 때문입니다. 이동 평균은 스텝 크기 :math:`1/N` 이 줄어드므로 오차가 :math:`1/\sqrt N` 처럼 계속 줄어듭니다.
# 고정 스텝은 끝내 자리 잡지 않지만, 대신 변하는 정책을 계속 따라갈 수 있고, 제어에서는 바로 그것이
# 필요합니다.
#
# 절벽 걷기: SARSA 대 Q 학습
# --------------------------
# **제어** 에서는 에이전트가 :math:`Q(s, a)` 를 추정하고 **ε-탐욕 정책** 으로 행동합니다. 확률
# :math:`\varepsilon` 로 무작위 행동을, 나머지 경우에는 :math:`Q` 가 가장 큰 행동을 고릅니다(탐험과 활용).
# 두 TD 방법은 목표의 한 항만 다릅니다.
#
# .. math::
#
#     \text{SARSA:}\quad Q(s, a) \leftarrow Q(s, a) + \alpha \big[ r + \gamma Q(s', a') - Q(s, a) \big]
#
#     \text{Q-learning:}\quad Q(s, a) \leftarrow Q(s, a)
#         + \alpha \big[ r + \gamma \max_{a'} Q(s', a') - Q(s, a) \big]
#
# SARSA는 자기 ε-탐욕 정책이 다음에 실제로 고르는 행동 :math:`a'` 를 씁니다. 행동하는 정책과 학습하는 정책이
# 같은 **온폴리시** 방법이며, *탐험까지 포함한* 정책의 가치를 배웁니다. Q 학습은 실제로 무엇을 하든 가장
# 좋은 다음 행동을 씁니다. 두 정책이 다른 **오프폴리시** 방법이며 :math:`Q^*` 를 배웁니다. 그 차이를 보여
# 주는 것이 절벽 걷기 (CliffWalking, Sutton과 Barto 예제 6.6)입니다. 4x12 격자에서 출발점은 왼쪽 아래,
# 목표는 오른쪽 아래이고, 그 사이의 칸들은 절벽(보상 -100, 출발점으로 돌아감)이며, 그 밖에는 한 스텝마다
# -1입니다. 최단 경로는 절벽 가장자리를 따라가는데, 그 길에서는 이따금 탐험으로 고른 한 걸음이 절벽으로
# 떨어집니다. 여기서는 책과 같이 ε = 0.1, α = 0.5, γ = 1로 두고 ``rl.sarsa`` 와 ``rl.q_learning`` 을 몇 번
# 실행합니다. ``return_history=True`` 는 학습하는 동안 각 에피소드가 실제로 받은 리턴(탐험 포함)을
# 돌려줍니다.

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
# 고전적인 그림 그대로입니다. **SARSA는 절벽에서 떨어진 위쪽의 안전한 길** 을, **Q 학습은 절벽 가장자리** 를
# 걷습니다. Q 학습의 경로가 최적 경로(13스텝)이지만, 절벽 옆에서 탐험하다 보면 ε 확률의 한 걸음이 이따금
# 절벽으로 떨어뜨리므로 학습 중에 실제로 받는 리턴(온라인 리턴)은 더 낮습니다. SARSA의 가치에는 그 위험이
# 들어 있어서(색을 보면 절벽 바로 옆 칸들의 가치가 낮습니다) 더 긴 우회로를 택하고, 학습하는 동안 더 많은
# 리턴을 얻습니다. ε을 0으로 줄여 가면 두 방법 모두 최적 경로로 수렴합니다.
#
# 레시피 ``cliffwalking-sarsa-vs-q-learning`` (``gradus train cliffwalking-sarsa-vs-q-learning``)은 책의
# 실험을 500 에피소드씩 100번, 전부 실행합니다. ``benchmarks/RESULTS.md`` 에 기록된 측정 결과는 다음과
# 같습니다. 마지막 100 에피소드의 온라인 리턴이 **SARSA -26.5, Q 학습 -49.4** (책: 약 -25와 -50), 탐욕
# 경로는 SARSA가 맨 윗줄을 따라 17스텝, Q 학습이 절벽 가장자리를 따라 13스텝(Q 학습 실행의 100%, SARSA
# 실행의 0%)이며, 149초가 걸렸습니다.
#
# DQN: Q를 신경망으로
# -------------------
# 표는 상태마다 칸이 하나씩 필요합니다. 카트폴(CartPole)의 상태는 실수 네 개(카트의 위치와 속도, 막대의
# 각도와 각속도)이고, 에이전트는 카트를 왼쪽이나 오른쪽으로 밀어 막대를 세워 둡니다(한 스텝에 +1, 최대 500).
# **심층 Q 네트워크** (DQN, Mnih 외 2015)는 표를 행동마다 출력이 하나씩인 신경망 :math:`Q(s, \cdot\,;
# \theta)` 로 바꾸고, Q 학습의 갱신을 TD 목표에 대한 회귀로 바꿉니다.
#
# .. math::
#
#     L(\theta) = \mathbb E_{(s, a, r, s') \sim \mathcal D}\,
#         \ell_\text{Huber}\big( Q(s, a; \theta) - y \big), \qquad
#     y = r + \gamma\, (1 - \text{terminated})\, \max_{a'} Q(s', a'; \theta^-)
#
# 학습을 안정시키는 아이디어가 두 가지 있습니다. **경험 재생**: 전이를 버퍼 :math:`\mathcal D`
# (``rl.ReplayBuffer``, 최근 50,000개를 담는 링 버퍼)에 저장해 두고 미니배치를 무작위로 뽑아 학습하므로,
# 연속된 스텝 사이의 상관이 깨집니다. **목표 신경망** :math:`\theta^-`: 천천히 변하는 신경망의
# 복사본(``rl.sync_target``, 여기서는 매 스텝 :math:`\theta^- \leftarrow 0.005\,\theta + 0.995\,\theta^-` 로
# 폴리악 평균)이 :math:`y` 를 계산하므로, 목표가 갱신할 때마다 따라 움직이지 않습니다. gradus는 Double DQN
# 목표(온라인 신경망이 :math:`a'` 를 고르고 목표 신경망이 그 값을 매김)와 Huber 손실을 씁니다. :math:`y` 는
# ``rl.td_targets`` 가 계산합니다. 종료 표시에 주의하세요. 막대가 쓰러지면 에피소드가
# 끝나지만(부트스트래핑할 것이 없음), 500스텝 시간 제한은 에피소드를 자를 뿐입니다.

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
# 이 실행은 시작에 불과합니다(위의 탐욕 정책 리턴을 무작위로 밀 때의 리턴, 그리고 500과 비교해 보세요). 탐험
# 비율 ε은 처음 10,000스텝 동안 1에서 0.02로 선형으로 줄어들므로 학습 에피소드는 아직 대부분 무작위이고,
# 갱신은 1,000스텝(짧은 설정에서는 250스텝) 동안 데이터를 모은 뒤에야 시작됩니다. 레시피 ``cartpole-dqn``
# (``gradus train cartpole-dqn``: Double DQN, MLP 4-128-128-2, 배치 128, Adam 1e-3, 시드 다섯 개에 각각 최대
# 50,000스텝)은 이 문제를 풉니다. ``benchmarks/RESULTS.md`` 에 기록된 측정 결과는 **시드 5개 모두 해결**
# (100 에피소드 탐욕 평가의 평균 리턴 ≥ 475; 전체 평가는 모두 500.0)이며, 해결까지 30,000 / 24,000 / 20,000
# / 40,000 / 32,000스텝(중앙값 30,000)이 걸렸고, 코어 하나로 모두 합쳐 14분 20초였습니다. 처음에 시도한,
# 500스텝마다 목표 신경망을 통째로 복사하는 설정에서는 시드 하나가 100-185 근처에 머물렀습니다. 천천히
# 움직이는 목표가 중요하다는 뜻입니다. 정책을 직접 경사 상승으로 학습하는 정책 경사 방법 REINFORCE는
# ``rl.reinforce`` (:source:`src/gradus/rl/reinforce.py`, 레시피 ``cartpole-reinforce``)입니다.
