r"""
최적화 알고리즘과 전역 탐색
===========================

학습은 곧 **최적화** 입니다. 손실 :math:`L(\theta)` 를 작게 만드는 가중치 :math:`\theta` 를 찾아야 하는데,
우리가 아는 것은 지금까지 방문한 점에서의 손실값과 기울기 :math:`\mathbf g = \nabla L(\theta)` 뿐입니다.
**경사 하강법** 은 비탈을 따라 내려갑니다. :math:`\theta \leftarrow \theta - \eta\,\mathbf g` 이고, 딥러닝의
모든 최적화 알고리즘은 이 한 걸음을 다듬은 것입니다. PyTorch가 쓰는 갱신 규칙 그대로 정리하면 다음과 같습니다
(제곱, 제곱근, 나눗셈은 좌표마다 따로 계산하고, :math:`t` 는 스텝 수입니다).

.. list-table::
   :header-rows: 1

   * - 최적화 알고리즘
     - 갱신 규칙
     - 아이디어
   * - SGD
     - :math:`\theta \leftarrow \theta - \eta\,\mathbf g`
     - 비탈을 따라간다
   * - 모멘텀
     - :math:`\mathbf v \leftarrow \mu\mathbf v + \mathbf g`,
       :math:`\theta \leftarrow \theta - \eta\,\mathbf v`
     - 무거운 공: 기울기 방향이 일정하면 계속 가속하고, 진동하면 서로 상쇄된다
   * - 네스테로프 모멘텀
     - :math:`\mathbf v \leftarrow \mu\mathbf v + \mathbf g`,
       :math:`\theta \leftarrow \theta - \eta\,(\mathbf g + \mu\mathbf v)`
     - 한 걸음 앞을 내다보는 모멘텀
   * - AdaGrad
     - :math:`\mathbf s \leftarrow \mathbf s + \mathbf g^2`,
       :math:`\theta \leftarrow \theta - \eta\,\mathbf g / (\sqrt{\mathbf s} + \epsilon)`
     - 좌표마다 보폭이 다르고, 지금까지 기울기가 컸던 좌표일수록 작다. 보폭은 줄어들기만 한다
   * - RMSProp
     - :math:`\mathbf s \leftarrow \alpha\mathbf s + (1-\alpha)\mathbf g^2`,
       :math:`\theta \leftarrow \theta - \eta\,\mathbf g / (\sqrt{\mathbf s} + \epsilon)`
     - 이동 평균을 쓰는 AdaGrad: 오래된 기울기는 잊는다
   * - Adam
     - :math:`\mathbf m \leftarrow \beta_1\mathbf m + (1-\beta_1)\mathbf g`,
       :math:`\mathbf v \leftarrow \beta_2\mathbf v + (1-\beta_2)\mathbf g^2`,
       :math:`\theta \leftarrow \theta - \eta\,\hat{\mathbf m} / (\sqrt{\hat{\mathbf v}} + \epsilon)`,
       :math:`\hat{\mathbf m} = \mathbf m / (1-\beta_1^t),\ \hat{\mathbf v} = \mathbf v / (1-\beta_2^t)`
     - 모멘텀 + RMSProp, 0에서 출발하는 데서 생기는 편향을 보정
   * - 뉴턴 방법
     - :math:`\theta \leftarrow \theta - H^{-1}\mathbf g`, :math:`H = \nabla^2 L(\theta)`
     - 국소적인 2차 근사 모형의 최솟점으로 곧장 뛴다

1차 최적화 알고리즘은 ``gradus.optim.SGD`` (모멘텀과 ``nesterov=True`` 포함), ``Adagrad``, ``RMSprop``,
``Adam`` 입니다. 각각 :source:`src/gradus/optim/sgd.py`, :source:`src/gradus/optim/adagrad.py`,
:source:`src/gradus/optim/rmsprop.py`, :source:`src/gradus/optim/adam.py` 에 있고, 공통 기반 클래스
``Optimizer`` 는 :source:`src/gradus/optim/optimizer.py` 에 있습니다. 뉴턴 방법에는 2계 도함수를 모은 행렬인
**헤세 행렬 (헤시안)** :math:`H` 가 필요한데, gradus는 기울기를 한 번 더 미분해서(이중 역전파) 이를 구합니다.
``optim.Newton`` 은 :source:`src/gradus/optim/newton.py` 에 있습니다. 이 방법들은 모두 지금 있는 곳에서
*내리막* 만 보기 때문에 **지역 최솟값** 을 찾습니다. 이 페이지의 후반부에서는 지역 최솟값이 아주 많은 손실
함수를 만나고, 전역적으로 탐색하는 두 방법인 모의 담금질과 유전 알고리즘(:source:`src/gradus/optim/search.py`)을
살펴봅니다.
"""

# %%
# 하나의 손실 곡면
# ----------------
# **로젠브록 함수** :math:`L(x, y) = (1 - x)^2 + 100\,(y - x^2)^2` 는 고전적인 시험 함수입니다. 최솟점
# :math:`(1, 1)` 은 길고 휘어진 좁은 골짜기의 바닥에 있습니다. 골짜기의 벽은 가파르고(인수 100), 바닥은 거의
# 평평합니다. 깊은 신경망의 학습을 느리게 만드는 것이 바로 이런 상황입니다. 가파른 방향에 맞출 만큼 작은
# 보폭으로는 평평한 방향을 기어가듯 나아갈 수밖에 없습니다. 이 함수는 gradus 연산으로 작성했기 때문에, 자동
# 미분이 여느 신경망의 손실처럼 미분해 줍니다.
import math
import os

import matplotlib.pyplot as plt
import numpy as np

import gradus
from gradus import optim

FAST = os.environ.get("GRADUS_DOCS_FAST") == "1"
steps = 120 if FAST else 1500                      # 로젠브록 골짜기에서 1차 방법의 스텝 수
n_seeds = 2 if FAST else 20                        # 전역 탐색마다 실행 횟수


def rosenbrock(w):
    x, y = w[0], w[1]
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


start = [-1.2, 1.0]                                # 고전적인 출발점


def descend(make_optimizer, steps=steps):
    """Run a gradus optimiser from `start`; return the path (steps + 1, 2) and the losses."""
    w = gradus.tensor(start, dtype=gradus.float64, requires_grad=True)
    opt = make_optimizer([w])
    path, losses = [w.detach().numpy().copy()], []
    for _ in range(steps):
        loss = rosenbrock(w)
        opt.zero_grad()
        loss.backward()
        opt.step()
        path.append(w.detach().numpy().copy())
        losses.append(loss.item())
    losses.append(rosenbrock(w).item())
    return np.array(path), np.array(losses)


optimisers = {                                     # 학습률은 몇 번씩 시도해 손으로 고름
    "SGD": lambda p: optim.SGD(p, lr=2e-3),
    "momentum": lambda p: optim.SGD(p, lr=1e-3, momentum=0.9),
    "Nesterov": lambda p: optim.SGD(p, lr=1e-3, momentum=0.9, nesterov=True),
    "Adagrad": lambda p: optim.Adagrad(p, lr=1.0),
    "RMSprop": lambda p: optim.RMSprop(p, lr=0.01),
    "Adam": lambda p: optim.Adam(p, lr=0.1),
}
runs = {name: descend(make) for name, make in optimisers.items()}

# %%
# 뉴턴 방법과 헤세 행렬
# ---------------------
# 뉴턴 방법의 한 걸음에는 :math:`H` 가 필요합니다. ``gradus.autograd.grad(loss, w, create_graph=True)`` 는
# 기울기를 그 자체로 계산 그래프의 일부인 텐서로 돌려주므로, 그 성분 하나하나를 한 번 더 미분하면 헤세 행렬의
# 한 행이 나옵니다. 아래는 출발점에서의 헤세 행렬을 손으로 구한 식
# :math:`H = \begin{pmatrix} 2 - 400y + 1200x^2 & -400x \\ -400x & 200\end{pmatrix}` 과 비교한 것이고, 최솟점에서의
# 고윳값(두 주축 방향의 곡률)도 함께 출력합니다.


def gradient_and_hessian(point):
    w = gradus.tensor(point, dtype=gradus.float64, requires_grad=True)
    (g,) = gradus.autograd.grad(rosenbrock(w), w, create_graph=True)       # g 도 미분할 수 있음
    H = np.stack([gradus.autograd.grad(g[i], w, retain_graph=True)[0].numpy() for i in range(2)])
    return g.detach().numpy(), H


g, H = gradient_and_hessian(start)
x0, y0 = start
H_by_hand = np.array([[2 - 400 * y0 + 1200 * x0 ** 2, -400 * x0], [-400 * x0, 200.0]])
print("gradient at the start:", g)
print("Hessian by double backward:\n", H)
print("max |H - H_by_hand| =", np.abs(H - H_by_hand).max())
curvatures = np.linalg.eigvalsh(gradient_and_hessian([1.0, 1.0])[1])
print(f"at the minimum (1, 1): curvatures (eigenvalues of H) {curvatures[0]:.2f} and {curvatures[1]:.1f}, "
      f"ratio {curvatures[1] / curvatures[0]:.0f}")

# %%
# ``optim.Newton`` 은 ``step(closure)`` 안에서 바로 이 일을 합니다(클로저는 손실을 돌려주기만 하고, 두 번
# 미분하는 것은 최적화 알고리즘이 직접 합니다). 그런 다음 :math:`H\mathbf d = \mathbf g` 를 풉니다.

w = gradus.tensor(start, dtype=gradus.float64, requires_grad=True)
newton = optim.Newton([w])
newton_path, newton_losses = [w.detach().numpy().copy()], []
for _ in range(8):
    newton_losses.append(newton.step(lambda: rosenbrock(w)).item())
    newton_path.append(w.detach().numpy().copy())
newton_losses.append(rosenbrock(w).item())
runs["Newton"] = (np.array(newton_path), np.array(newton_losses))

for name, (path, losses) in runs.items():
    reached = np.flatnonzero(losses < 1e-6)
    when = f"loss < 1e-6 after {reached[0]} steps" if len(reached) else "loss never < 1e-6"
    print(f"{name:<9} {len(losses) - 1:>5} steps: end ({path[-1, 0]:+.4f}, {path[-1, 1]:+.4f}), "
          f"loss {losses[-1]:.2e}, {when}")

fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
gx, gy = np.meshgrid(np.linspace(-2, 2, 300), np.linspace(-3.5, 3.2, 300))
with gradus.no_grad():
    surface = rosenbrock(gradus.tensor(np.stack([gx, gy]))).numpy()
axes[0].contour(gx, gy, surface, levels=np.logspace(-1, 3.5, 14), colors="gray", linewidths=0.6)
for name, (path, losses) in runs.items():
    style = dict(marker="o", markersize=4, linewidth=1.5) if name == "Newton" else dict(linewidth=1.2)
    axes[0].plot(path[:, 0], path[:, 1], label=name, **style)
    axes[1].plot(np.arange(1, len(losses) + 1), losses, label=name, **style)
axes[0].plot(*start, "ks", markersize=6)
axes[0].plot(1, 1, "k*", markersize=12)
axes[0].set_xlim(-2, 2)
axes[0].set_ylim(-3.5, 3.2)
axes[0].set_title("paths on the Rosenbrock surface (start: square, minimum: star)")
axes[0].legend(fontsize=8, loc="lower right")
axes[1].set_xscale("log")
axes[1].set_yscale("log")
axes[1].set_ylim(1e-10, 1e4)
axes[1].set_xlabel("step + 1")
axes[1].set_ylabel("loss")
axes[1].set_title("loss per step")
fig.subplots_adjust(left=0.06, right=0.98, bottom=0.11, top=0.93, wspace=0.2)   # tight_layout 보다 빠름

# %%
# 경로가 보여 주는 것을 정리해 봅시다. **SGD** 는 먼저 골짜기 안으로 떨어진 뒤(가파른 방향은 기울기가 큽니다)
# 기울기가 아주 작은 바닥을 따라 기어갑니다. 한 걸음이 :math:`\eta\,\mathbf g` 이므로 :math:`\mathbf g` 가 작은
# 곳에서는 걸음도 작습니다. 학습률 :math:`\eta` 를 키워도 소용없는 이유는 출력된 곡률이 말해 줍니다. 골짜기를
# 가로지르는 방향의 곡률이 골짜기를 따라가는 방향보다 수천 배 크고, 곡률이 :math:`\lambda` 인 2차 함수에서 경사
# 하강법은 :math:`\eta > 2/\lambda` 이면 지나쳐 버립니다. 그래서 평평한 방향에 필요한 보폭을 가파른 방향이
# 막아 버립니다(``lr=3e-3`` 을 넣어 보면 결과가 좋아지기는커녕 나빠집니다). **모멘텀** 과 **네스테로프
# 모멘텀** 은 바닥을 따라 일정하게 나오는 작은 기울기들을 (최대 :math:`1/(1-\mu) = 10` 개까지) 쌓아서, SGD의
# 절반인 :math:`\eta` 로도 훨씬 빨리 나아갑니다. **AdaGrad** 와 **RMSProp** 은 좌표마다 그 좌표의 기울기
# 크기로 나누므로, 평평한 바닥에서도 기울기가 아니라 :math:`\eta` 가 정하는 속도로 움직입니다. AdaGrad의 보폭은
# 계속 줄어들고(누적합 :math:`\mathbf s` 는 커지기만 합니다) RMSProp의 보폭은 그렇지 않지만, :math:`\eta` 가
# 고정되어 있으면 RMSProp은 그 정도 크기로 계속 흔들립니다. **Adam** 은 모멘텀과 좌표별 크기 조절을 합친
# 것입니다. **뉴턴 방법** 은 곡률을 이용합니다. 매 걸음 국소 2차 모형의 최솟점으로 뛰는데, 한 번은 골짜기
# 밖으로 멀리 튀어 나갔다가(그곳에서는 2차 모형이 잘 맞지 않습니다) 몇 걸음 만에 :math:`(1, 1)` 에
# 도착합니다(위의 출력). 다만 한 걸음마다 헤세 행렬 계산과 연립방정식 풀이가 필요합니다. 가중치가 :math:`n` 개면
# :math:`H` 의 성분은 :math:`n^2` 개이므로, 딥러닝에서는 1차 방법을 쓰고 뉴턴 방법은 작은 문제에만 씁니다
# (``optim.HessianFree`` 는 헤세 행렬-벡터 곱만 필요하며, 곱 하나에 이중 역전파 한 번이 듭니다).
#
# 지역 최솟값과 전역 탐색
# -----------------------
# 로젠브록 함수의 최솟값은 하나뿐입니다. **라스트리긴 함수**
# :math:`L(\mathbf w) = 10n + \sum_{i=1}^{n} \big(w_i^2 - 10\cos 2\pi w_i\big)` 는 그릇 모양에 잔물결이 더해진
# 함수로, 정수 격자점마다 근처에 **지역 최솟값** 이 있고 **전역 최솟값** 0은 :math:`\mathbf w = 0` 에만
# 있습니다. 경사 하강법은 어느 골짜기에서 출발하든 그 골짜기의 바닥으로 갑니다. 크기가 ``(200, 2)`` 인 텐서
# 하나에 무작위 출발점 200개를 담고 손실은 그 합으로 둡니다. 그러면 각 행은 자기 점의 기울기를 받으므로,
# 최적화 알고리즘 하나가 서로 독립인 경사 하강 200개를 한꺼번에 실행합니다.


def rastrigin(w):
    """Rastrigin's function of each row of w (shape (..., n)): one loss per point."""
    return (w * w - 10 * gradus.cos(2 * math.pi * w)).sum(dim=-1) + 10 * w.shape[-1]


def in_global_basin(points):
    return np.all(np.abs(points) < 0.5, axis=-1)


starts = np.random.default_rng(1).uniform(-4.5, 4.5, (200, 2))
w = gradus.tensor(starts, requires_grad=True, dtype=gradus.float64)
gd = optim.SGD([w], lr=2e-3)
for _ in range(100):
    loss = rastrigin(w).sum()
    gd.zero_grad()
    loss.backward()
    gd.step()
gd_ends = w.detach().numpy()
gd_losses = rastrigin(w).detach().numpy()
print(f"gradient descent from 200 random starts: {in_global_basin(gd_ends).mean():.1%} end in the "
      f"global basin; final loss median {np.median(gd_losses):.2f}, best {gd_losses.min():.2f}")

# %%
# 처음부터 전역 최솟값의 골짜기 안에 있던 몇 안 되는 출발점만 그곳에 도착합니다. 나머지는 지역 최솟값에서
# 멈춥니다. 그곳에서는 기울기가 0이라서 경사 하강법이 더 할 수 있는 일이 없습니다.
#
# **모의 담금질 (시뮬레이티드 어닐링)** (Kirkpatrick 외 1983)은 금속 공학에서 빌려 온 방법입니다. 금속을
# 천천히 식히면 에너지가 낮은 결정 상태로 자리를 잡습니다. 현재 점 :math:`\mathbf w` 에서 무작위 이동
# :math:`\mathbf w' = \mathbf w + \sigma\,\boldsymbol\varepsilon` 을 제안하고,
# :math:`\Delta = L(\mathbf w') - L(\mathbf w)` 일 때 다음 확률로 받아들입니다.
#
# .. math::
#
#     P(\text{수락}) = \begin{cases} 1 & \Delta \le 0 \\ e^{-\Delta / T} & \Delta > 0 \end{cases},
#     \qquad \text{제안마다} \ T \leftarrow c\,T \ (c < 1)
#
# **온도** :math:`T` 가 높을 때는 오르막 이동도 자주 받아들여 골짜기 사이를 돌아다니고, :math:`T` 가 내려가면
# 점점 덜 받아들이면서 깊은 골짜기에 자리 잡습니다(아래에서는 :math:`\sigma = 0.6` 이고, :math:`T` 는 10에서
# 시작해 :math:`c = 0.994` 로 식습니다). **유전 알고리즘** 은 점 하나 대신 점들의 집단(개체군)을 유지하면서
# 세대마다 새 집단을 만들어 냅니다. 더 적합한 점(손실이 낮은 점: 손실이 곧 **적합도** 입니다)이 토너먼트를
# 거쳐 부모로 뽑히고, 자식은 부모의 좌표를 섞어 받은 뒤(교차) 무작위로 조금 흔들리며(돌연변이), 가장 좋은 몇
# 개체는 그대로 다음 세대로 넘어갑니다(엘리트 보존). 두 방법 모두 기울기를 쓰지 않고 손실값만 계산합니다.
# gradus에서는 이들도 다른 최적화 알고리즘과 같은 모양인 ``optim.SimulatedAnnealing`` 과
# ``optim.GeneticAlgorithm`` 이며, ``step(closure)`` 한 번이 제안 한 번 또는 한 세대입니다. 둘 다 전역 최솟값에서
# 멀리 떨어진 같은 점에서 출발하고, 한 번의 실행은 운일 수 있으므로 여러 난수 시드로 실행합니다. 그림은 첫 번째
# 시드의 결과입니다.

far_start = np.array([3.6, -3.3])


def run_annealing(seed, proposals=1000):
    w = gradus.tensor(far_start, dtype=gradus.float64)
    sa = optim.SimulatedAnnealing([w], T0=10.0, cooling=0.994, step_size=0.6,
                                  generator=np.random.default_rng(seed))
    trace, temperatures, losses = [], [], []
    for _ in range(proposals):
        losses.append(sa.step(lambda: rastrigin(w)))
        trace.append(w.numpy().copy())
        temperatures.append(sa.state[w]["temperature"])
    sa.load_best()
    return w.numpy().copy(), sa.best_loss, np.array(trace), np.array(temperatures), np.array(losses)


def run_genetic(seed, generations=30):
    w = gradus.tensor(far_start, dtype=gradus.float64)
    ga = optim.GeneticAlgorithm([w], population=40, mutation_std=0.3, init_std=3.0, elite=4,
                                generator=np.random.default_rng(seed))
    populations, best_losses = [], []
    for _ in range(generations):
        best_losses.append(ga.step(lambda: rastrigin(w)))
        populations.append(ga.state[w]["population"].numpy().copy())
    return w.numpy().copy(), ga.best_loss, np.array(populations), np.array(best_losses)


annealing_runs = [run_annealing(seed) for seed in range(n_seeds)]
genetic_runs = [run_genetic(seed) for seed in range(n_seeds)]
sa_best, sa_loss, sa_trace, sa_temperature, sa_losses = annealing_runs[0]     # 시드 0, 아래에 그림
ga_best, ga_loss, ga_populations, ga_best_losses = genetic_runs[0]
print(f"simulated annealing, {len(sa_trace)} proposals: best point ({sa_best[0]:+.3f}, {sa_best[1]:+.3f}), "
      f"loss {sa_loss:.3f}")
print(f"genetic algorithm, {len(ga_populations)} generations of 40: best point "
      f"({ga_best[0]:+.3f}, {ga_best[1]:+.3f}), loss {ga_loss:.3f}")

fig, axes = plt.subplots(1, 3, figsize=(13, 4.3))
grid = np.linspace(-4.5, 4.5, 301)
rx, ry = np.meshgrid(grid, grid)
with gradus.no_grad():
    landscape = rastrigin(gradus.tensor(np.stack([rx, ry], axis=-1))).numpy()
for ax in axes:
    ax.contourf(rx, ry, landscape, levels=30, cmap="viridis", alpha=0.8)
    ax.plot(0, 0, "w*", markersize=14)
    ax.set_aspect("equal")
    ax.set_xlim(-4.5, 4.5)
    ax.set_ylim(-4.5, 4.5)
    ax.set_xticks([-4, -2, 0, 2, 4])
    ax.set_yticks([-4, -2, 0, 2, 4])
axes[0].scatter(starts[:, 0], starts[:, 1], s=6, c="white", label="starts")
axes[0].scatter(gd_ends[:, 0], gd_ends[:, 1], s=14, c="red", label="ends")
axes[0].set_title(f"gradient descent: {in_global_basin(gd_ends).mean():.1%} reach the global basin")
axes[0].legend(fontsize=8, loc="lower left")
axes[1].plot(sa_trace[:, 0], sa_trace[:, 1], color="white", linewidth=0.6)
axes[1].plot(*far_start, "rs")
axes[1].plot(*sa_best, "r*", markersize=10)
axes[1].set_title("simulated annealing: the accepted points")
for generation, color in zip([0, 5, len(ga_populations) - 1], ["white", "orange", "red"]):
    pop = ga_populations[generation]
    axes[2].scatter(pop[:, 0], pop[:, 1], s=12, c=color, label=f"generation {generation + 1}")
axes[2].set_title("genetic algorithm: the population")
axes[2].legend(fontsize=8, loc="lower left")
fig.subplots_adjust(left=0.03, right=0.99, bottom=0.07, top=0.93, wspace=0.12)

# %%
# 모의 담금질은 처음에 넓게 돌아다니다가(가운데 그림: 흰 궤적이 여러 골짜기를 가로지릅니다) 가운데 골짜기에서
# 끝납니다. 유전 알고리즘의 개체군은 출발점 주위에 흩어져 시작하고(흰색), 선택을 거치면서 몇 세대 만에 가장 깊은
# 골짜기 쪽으로 모입니다(주황색, 빨간색). 온도 스케줄의 효과는 모의 담금질의 손실 곡선에서 보입니다. :math:`T`
# 가 높은 동안에는 현재 점의 손실이 오르내리고, 온도가 식으면서 안정됩니다.

fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
axes[0].plot(sa_losses, linewidth=0.7, label="loss of the current point")
axes[0].plot(sa_temperature, "k--", label="temperature T")
axes[0].set_yscale("log")
axes[0].set_xlabel("proposal")
axes[0].set_title("simulated annealing")
axes[0].legend(fontsize=8)
axes[1].plot(np.arange(1, len(ga_best_losses) + 1), ga_best_losses, "o-", markersize=3)
axes[1].set_xlabel("generation")
axes[1].set_ylabel("best loss so far")
axes[1].set_title("genetic algorithm")
fig.subplots_adjust(left=0.07, right=0.98, bottom=0.15, top=0.91, wspace=0.25)

# %%
# 각 탐색은 모든 시드 가운데 몇 번이나 전역 최솟값의 골짜기에서 끝날까요? 두 방법 모두 0 근처에서 멈추지만
# 정확히 0에 서지는 못합니다(크기 0.6의 무작위 이동이 바닥에 딱 떨어지는 일은 드뭅니다). 그래서 마지막 단계는
# 실제로 쓰는 역할 분담입니다. 전역 탐색이 골짜기를 찾고, 그 최선의 점에서 경사 하강을 몇 걸음 하면 바닥에
# 닿습니다.


def polish(point, steps=30):
    w = gradus.tensor(point, dtype=gradus.float64, requires_grad=True)
    opt = optim.SGD([w], lr=2e-3)
    for _ in range(steps):
        loss = rastrigin(w)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return w.detach().numpy(), rastrigin(w).item()


sa_hits = np.mean([in_global_basin(run[0]) for run in annealing_runs])
ga_hits = np.mean([in_global_basin(run[0]) for run in genetic_runs])
print(f"over {n_seeds} seeds from ({far_start[0]}, {far_start[1]}): simulated annealing ends in the global "
      f"basin {sa_hits:.0%} of the time, the genetic algorithm {ga_hits:.0%} "
      f"(gradient descent from random starts: {in_global_basin(gd_ends).mean():.1%})")
for name, point in [("annealing", sa_best), ("genetic", ga_best)]:
    end, loss = polish(point)
    print(f"{name:<9} best point polished by 30 gradient steps: ({end[0]:+.5f}, {end[1]:+.5f}), "
          f"loss {loss:.2e}")

# %%
# 대가는 손실 계산 횟수입니다. 2차원에서도 모의 담금질 한 번에 약 천 번, 개체 40개로 30세대를 돌리는 유전
# 알고리즘도 그만큼 들고, 필요한 횟수는 차원이 커지면 급격히 늘어납니다. 신경망의 가중치는 수백만 개라서 이런
# 탐색으로는 도저히 다 덮을 수 없지만, 그래도 경사 기반 방법이 잘 통합니다. 고차원에서는 신경망 손실의 임계점
# 대부분이 나쁜 지역 최솟값이 아니라 **안장점** 이고(Dauphin 외 2014), 모멘텀을 쓴 SGD나 Adam은 안장점을
# 지나갈 수 있기 때문입니다. 전역 탐색은 매개변수가 적거나 손실에 기울기가 없는 곳에서 쓰입니다.
# 하이퍼파라미터, 신경망 구조, 이산적인 선택 같은 문제입니다.
