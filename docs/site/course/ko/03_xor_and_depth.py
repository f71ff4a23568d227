r"""
XOR, 그리고 층이 중요한 이유
============================

유닛 하나는 직선 하나를 긋습니다. XOR에는 직선이 두 개 필요합니다. 양성인 점 (0, 1)과 (1, 0)은 평행한 두
직선 *사이* 에 있고, 음성인 점은 그 바깥에 있기 때문입니다. 이 직선들을 제공하는 것이 **은닉층** 입니다.
은닉 유닛 :math:`j` 는 특징 :math:`h_j = \sigma(\mathbf w_j \cdot \mathbf x + b_j)` 를 계산하는데, 이 값은 자기
직선의 한쪽에서는 1에 가깝고 다른 쪽에서는 0에 가깝습니다. 출력 유닛은 이 특징들을 자기 나름의 직선으로
결합합니다. 이번에는 :math:`h` 의 공간에서 긋는 직선입니다.

.. math::

    \mathbf h = \sigma(W_1 \mathbf x + \mathbf b_1), \qquad
    \hat y = \sigma(\mathbf w_2 \cdot \mathbf h + b_2)

은닉 유닛이 두 개면 "직선 1의 위쪽 **이면서** 직선 2의 아래쪽"이 :math:`(h_1, h_2)` 공간에서는 직선 하나로 내리는
결정이 되고, XOR이 풀립니다. 층을 하나씩 늘려 가면 다음과 같은 고전적인 표(Lippmann 1987)를 얻습니다. 계단
함수 유닛에서는 정확히 성립하고, 매끄러운 유닛에서도 좋은 길잡이가 됩니다.

.. list-table::
   :header-rows: 1

   * - 신경망
     - 만들 수 있는 영역
   * - 1층 (은닉층 없음)
     - 반평면: 직선 하나로 나뉜 한쪽
   * - 2층 (은닉층 1개)
     - 볼록 영역: 은닉 유닛들이 만든 반평면의 교집합
   * - 3층 (은닉층 2개)
     - 임의의 영역: 볼록 영역들의 합집합

여기서 쓰는 신경망은 ``gradus.models.MLP`` (:source:`src/gradus/models/mlp.py`)입니다.
``MLP([2, 2, 1], "sigmoid")`` 는 2-2-1 XOR 신경망(``xor_mlp``)이고, 은닉층이 없는 ``MLP([2, 1])`` 은 로지스틱
회귀입니다.
"""

# %%
# 2-2-1 신경망으로 XOR 풀기
# -------------------------
# 출력은 로짓(logit)입니다. ``binary_cross_entropy_with_logits`` 가 출력 시그모이드를 손실 함수 안에서 함께
# 계산하는데, 이렇게 하는 편이 수치적으로 안정합니다.
import os

import matplotlib.pyplot as plt
import numpy as np

import gradus
import gradus.functional as F
from gradus import optim
from gradus.data.datasets import logic_gate, make_spiral
from gradus.models.mlp import MLP

FAST = os.environ.get("GRADUS_DOCS_FAST") == "1"
steps = 300 if FAST else 2000


def train_mlp(sizes, X, y, activation="tanh", steps=steps, lr=0.05, seed=0):
    """Full-batch Adam on the cross-entropy; one output = binary (logit), more = classes."""
    gradus.manual_seed(seed)
    net = MLP(sizes, activation)
    opt = optim.Adam(net.parameters(), lr=lr)
    X, y = gradus.tensor(X), gradus.tensor(y)
    for step in range(steps):
        out = net(X)
        if sizes[-1] == 1:
            loss = F.binary_cross_entropy_with_logits(out.reshape(-1), y.float())
        else:
            loss = F.cross_entropy(out, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net


def predict(net, X):
    with gradus.no_grad():
        out = net(gradus.tensor(np.asarray(X, dtype=np.float32)))
    return (out.reshape(-1) > 0).long().numpy() if out.shape[1] == 1 else out.argmax(dim=1).numpy()


def draw_regions(ax, net, X, y, title, lim=1.6):
    g1, g2 = np.meshgrid(np.linspace(-lim, lim, 150), np.linspace(-lim, lim, 150))
    regions = predict(net, np.stack([g1.ravel(), g2.ravel()], axis=1)).reshape(g1.shape)
    n_classes = max(int(y.max()), 1) + 1                     # 한 클래스만 예측해도 색은 고정
    ax.contourf(g1, g2, regions, levels=np.arange(-0.5, n_classes), cmap="coolwarm", alpha=0.35,
                vmin=0, vmax=n_classes - 1)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", s=12, edgecolors="k", linewidths=0.3,
               vmin=0, vmax=n_classes - 1)
    accuracy = (predict(net, X) == y).mean()
    ax.set_title(f"{title}\naccuracy {accuracy:.3f}", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


X, y = logic_gate("xor", encoding="bipolar")                 # 꼭짓점 (+-1, +-1), y 는 {-1, +1}
y = (y > 0).astype(np.int64)                                  # -> {0, 1}
xor_net = train_mlp([2, 2, 1], X, y, activation="sigmoid", lr=0.1)
print("XOR predictions:", predict(xor_net, X), " targets:", y)

fig, ax = plt.subplots(figsize=(4.2, 4.2))
draw_regions(ax, xor_net, X, y, "2-2-1 sigmoid network on XOR")
W1 = xor_net.layers[0].weight.detach().numpy()                # (2, 2): 은닉 유닛마다 한 행
b1 = xor_net.layers[0].bias.detach().numpy()
x1 = np.linspace(-1.6, 1.6, 2)
for j in range(2):                                            # 은닉 유닛 j 의 직선 w_j . x + b_j = 0
    ax.plot(x1, -(b1[j] + W1[j, 0] * x1) / W1[j, 1], "k--", linewidth=1, label=f"hidden unit {j + 1}")
ax.set_xlim(-1.6, 1.6)
ax.set_ylim(-1.6, 1.6)
ax.legend(loc="lower left", fontsize=8)

# %%
# 1층, 2층, 3층
# -------------
# 이제 앞의 표를 학습된 신경망으로 직접 그려 봅니다. 정사각형 :math:`[-1.5, 1.5]^2` 위에 목표 영역 두 가지를
# 둡니다. 삼각형의 내부(볼록)와 서로 떨어진 두 원판(볼록하지 않고, 연결되어 있지도 않음)입니다. 신경망은
# 세 가지로, tanh 유닛 4개짜리 작은 층을 각각 0개, 1개, 2개 둡니다.

rng = np.random.default_rng(0)
P = rng.uniform(-1.5, 1.5, (300, 2)).astype(np.float32)
targets = {
    "triangle (convex)": ((P[:, 1] > -0.8) & (P[:, 1] < 1.2 * P[:, 0] + 0.9)
                          & (P[:, 1] < -1.2 * P[:, 0] + 0.9)).astype(np.int64),
    "two disks (not convex)": ((np.linalg.norm(P - [-0.75, -0.75], axis=1) < 0.55)
                               | (np.linalg.norm(P - [0.75, 0.75], axis=1) < 0.55)).astype(np.int64),
}
depths = {"one layer\n(no hidden layer)": [2, 1], "two layers\n(hidden 4)": [2, 4, 1],
          "three layers\n(hidden 4, 4)": [2, 4, 4, 1]}

fig, axes = plt.subplots(len(targets), len(depths), figsize=(9, 7.2))
for row, (target_name, t) in enumerate(targets.items()):
    for col, (depth_name, sizes) in enumerate(depths.items()):
        net = train_mlp(sizes, P, t, lr=0.1)
        draw_regions(axes[row, col], net, P, t, f"{depth_name}\n{target_name}")
fig.tight_layout()

# %%
# 은닉층이 없으면 목표가 무엇이든 직선 하나밖에 긋지 못합니다. 여기서는 모든 점을 음성이라고 하는 것이 가장
# 나은 직선입니다. 은닉층이 하나면 은닉 유닛들의 직선(의 매끄러운 형태)으로 둘러싸인 영역을 만듭니다.
# 삼각형에는 충분하지만 두 원판에는 부족합니다. 두 번째 은닉층은 그런 조각들을 결합해서 두 원판을 모두
# 잡아냅니다. 매끄러운 유닛은 표의 경계를 조금 흐립니다. 시그모이드나 tanh 출력 유닛은 은닉 유닛의 직선들을
# "그리고(AND)"보다 다양한 방식으로 결합할 수 있고, 은닉 유닛이 *충분히 많으면* 은닉층 하나로도 어떤 영역이든
# 근사할 수 있습니다(보편 근사 정리). 그래도 층마다 유닛이 적을 때는 위 그림에서 보듯 표 그대로입니다.
#
# 깊이 대 너비
# ------------
# 중요한 것은 유닛의 개수일까요, 배치일까요? 같은 데이터(직선으로는 가를 수 없게 서로 감긴 나선 팔 세 개),
# 같은 학습 방법, 같은 은닉 유닛 20개로 비교합니다. 은닉층 하나에 유닛 20개를 둔 신경망과, 유닛 10개짜리
# 은닉층 두 개를 둔 신경망입니다. 깊은 신경망에서는 2층의 유닛이 1층이 만든 *영역* 들을 결합하는 반면, 은닉층이
# 하나뿐인 신경망의 유닛은 그림에 직선을 하나 더 보탤 수 있을 뿐입니다.

Xs, ys = make_spiral(n_per_class=100, n_classes=3, noise=0.2, seed=0)
contenders = {"wide: 2-20-3": [2, 20, 3], "deep: 2-10-10-3": [2, 10, 10, 3]}
fig, axes = plt.subplots(1, 2, figsize=(8, 4))
for ax, (name, sizes) in zip(axes, contenders.items()):
    net = train_mlp(sizes, Xs, ys, activation="relu", lr=0.02)
    n_params = sum(p.numel() for p in net.parameters())
    print(f"{name}: {n_params} parameters, training accuracy {(predict(net, Xs) == ys).mean():.3f}")
    draw_regions(ax, net, Xs, ys, f"{name} ({n_params} parameters)", lim=1.2)
fig.tight_layout()

# %%
# 이 정도로 작은 문제에서는 두 구조 모두 나선 팔을 잘 맞춥니다(정확도는 위에 출력되어 있습니다). 그러니 장난감
# 문제 하나로 결론을 낼 수는 없습니다. 깊이의 이점은 함수의 합성으로 이루어진 문제에서 드러납니다. 깊은 ReLU
# 신경망은 유닛 수가 같은 얕은 신경망보다 평면을 지수적으로 더 많은 선형 조각으로 나눌 수 있습니다(Montúfar 외
# 2014). 각 층이 공간을 접으면 다음 층이 그것을 자르기 때문입니다. 깊이에는 대가가 따르지만(뒤의 장에서 경사
# 소멸 문제와 그 해결책들을 만납니다), 딥러닝이 *깊은* 이유가 바로 이것입니다. 각 층은 아래층의 특징 위에
# 새로운 특징을 쌓습니다.
