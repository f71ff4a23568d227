r"""
퍼셉트론과 델타 규칙
====================

로젠블랫(Rosenblatt)의 **퍼셉트론** (1958)은 뉴런 하나입니다. 입력에 가중치를 곱해 더하고, 그 합이 양수이면
발화합니다. 모든 샘플에 상수 입력 :math:`x_0 = 1` 을 덧붙이면 편향은 그냥 가중치 :math:`w_0` 이 되고 임곗값은
언제나 0입니다.

.. math::

    \hat y = \begin{cases} +1 & \mathbf w \cdot \mathbf x > 0 \text{ 일 때} \\ -1 & \text{그 밖의 경우}
    \end{cases}
    \qquad \mathbf x = (1, x_1, \dots, x_n)

기하학적으로 보면 이 유닛은 초평면 :math:`\mathbf w \cdot \mathbf x = 0` (입력이 두 개면 직선)으로 입력 공간을
둘로 나눕니다. 한쪽에 있는 것은 모두 양성 집합 :math:`P`, 나머지는 :math:`N` 입니다.

**퍼셉트론 학습 규칙** 은 틀렸을 때만 배웁니다. 샘플을 차례로 보다가 잘못된 쪽에 있는 샘플을 만나면, 직선을
그 샘플 쪽으로 옮깁니다.

.. math::

    \mathbf x \in P,\ \mathbf w \cdot \mathbf x \le 0 \ \Rightarrow\ \mathbf w \leftarrow \mathbf w + \mathbf x
    \qquad\qquad
    \mathbf x \in N,\ \mathbf w \cdot \mathbf x \ge 0 \ \Rightarrow\ \mathbf w \leftarrow \mathbf w - \mathbf x

한 에포크 동안 한 번도 틀리지 않으면 학습이 끝납니다. **퍼셉트론 수렴 정리** (Novikoff 1962)에 따르면,
데이터가 선형 분리 가능하면 학습은 반드시 끝납니다. 어떤 단위 벡터 :math:`\mathbf w^*` 가 마진
:math:`\gamma = \min_i y_i\, \mathbf w^* \cdot \mathbf x_i > 0` 으로 데이터를 가르고 모든 샘플이
:math:`\|\mathbf x_i\| \le R` 이면, 수정 횟수는 많아야 :math:`(R/\gamma)^2` 번입니다. 반대로 데이터를 가르는
직선이 없으면 학습은 영원히 끝나지 않습니다.

**델타 규칙** (위드로-호프의 아달린(Adaline), 1960, LMS라고도 합니다)은 틀렸는지 여부가 아니라 오차의
*크기* 로부터 배웁니다. 학습하는 동안 유닛의 출력은 선형 :math:`f = \mathbf w \cdot \mathbf x` 이고, 규칙은
제곱 오차에 대한 경사 하강법입니다. 임곗값은 예측할 때만 씁니다.

.. math::

    E = \tfrac12 (t - f)^2, \qquad
    \frac{\partial E}{\partial \mathbf w} = -(t - f)\,\mathbf x, \qquad
    \mathbf w \leftarrow \mathbf w + \eta\,(t - f)\,\mathbf x

델타 규칙은 데이터가 선형 분리 가능하든 아니든 최소 제곱 해로 수렴합니다. 두 학습 규칙 모두
:source:`src/gradus/models/perceptron.py` (``train_perceptron``, ``train_adaline``)에 gradus 텐서로 한 줄에
갱신식 하나씩 구현되어 있습니다.
"""

# %%
# AND, OR, XOR
# ------------
# :func:`gradus.data.datasets.synthetic.logic_gate` 는 진리표의 네 행을 돌려줍니다. 세 가지 논리 게이트에
# 퍼셉트론 학습 규칙을 적용해 봅니다. 초기 가중치는 모두 같은 난수로 시작합니다.
import os

import matplotlib.pyplot as plt
import numpy as np

import gradus
import gradus.functional as F
from gradus import nn, optim
from gradus.data.datasets import logic_gate
from gradus.models.perceptron import augment, train_adaline, train_perceptron

FAST = os.environ.get("GRADUS_DOCS_FAST") == "1"
max_epochs = 30 if FAST else 100
gates = ["and", "or", "xor"]

runs = {}
for gate in gates:
    X, y = logic_gate(gate)                                    # X (4, 2), 값은 {0, 1} / y (4,), 값은 {0, 1}
    runs[gate] = train_perceptron(X, y, max_epochs=max_epochs, generator=0, name=gate.upper())
    print(f"{gate.upper():>3}: {runs[gate].message}")

# %%
# AND와 OR에서는 몇 에포크 만에 학습이 끝나고, 수렴 정리의 상한도 성립합니다. 찾아낸 직선의 마진
# :math:`\gamma` 를 재어 보겠습니다. 가장 좋은 직선의 마진은 이보다 클 수밖에 없으므로, 여기서 계산한 값은
# 정리가 말하는 상한보다도 큰 상한입니다.

for gate in ["and", "or"]:
    X, y = logic_gate(gate)
    Xa = augment(X).numpy()                                    # (4, 3): 맨 앞에 x0 = 1
    t = np.where(y > 0, 1, -1)
    w = runs[gate].weights.numpy()
    gamma = (t * (Xa @ w)).min() / np.linalg.norm(w)           # 찾아낸 분리 직선의 마진
    R = np.linalg.norm(Xa, axis=1).max()
    print(f"{gate.upper()}: {runs[gate].updates} corrections <= (R / gamma)^2 = {(R / gamma) ** 2:.1f}")


def draw_line(ax, w, **style):
    """The decision line w0 + w1 x1 + w2 x2 = 0 over the unit square."""
    x1 = np.linspace(-0.5, 1.5, 2)
    if abs(w[2]) > 1e-9:
        ax.plot(x1, -(w[0] + w[1] * x1) / w[2], **style)
    else:
        ax.axvline(-w[0] / w[1], **style)


def draw_points(ax, X, y):
    ax.scatter(*X[y > 0].T, marker="o", s=90, color="tab:red", label="P (y = 1)", zorder=3)
    ax.scatter(*X[y <= 0].T, marker="s", s=90, color="tab:blue", label="N (y = 0)", zorder=3)
    ax.set_xlim(-0.5, 1.5)
    ax.set_ylim(-0.5, 1.5)
    ax.set_aspect("equal")


fig, axes = plt.subplots(1, 4, figsize=(13, 3.3))
for ax, gate in zip(axes, gates):
    X, y = logic_gate(gate)
    draw_points(ax, X, y)
    draw_line(ax, runs[gate].weights.numpy(), color="black")
    verdict = "converged" if runs[gate].converged else f"no line after {max_epochs} epochs"
    ax.set_title(f"{gate.upper()}: {verdict}")
axes[0].legend(loc="upper left", fontsize=8)
for gate in gates:
    axes[3].plot(np.arange(1, runs[gate].epochs + 1), runs[gate].updates_per_epoch, marker=".",
                 label=gate.upper())
axes[3].set_xlabel("epoch")
axes[3].set_ylabel("mistakes (corrections)")
axes[3].set_title("perceptron: mistakes per epoch")
axes[3].legend()
fig.tight_layout()

# %%
# XOR에서는 틀린 개수가 결코 0이 되지 않습니다. 양성인 두 점 (0, 1)과 (1, 0)은 한 대각선 위에, 음성인 두 점은
# 다른 대각선 위에 있는데, 한 대각선의 두 점을 같은 쪽에 두는 직선은 없습니다. 퍼셉트론은 직선을 이리저리
# 옮기며 끝없이 수정을 되풀이합니다. 이것이 민스키와 페퍼트(Minsky & Papert, 1969)가 제기한 한계이며, 다음
# 페이지에서 층을 하나 더하는 것으로 그 답을 봅니다.
#
# 델타 규칙
# ---------
# 아달린은 같은 선형 유닛에 목푯값 :math:`t \in \{-1, +1\}` 을 씁니다. 배치 모드는 샘플별 갱신량의 평균을 쓰므로
# 정확히 :math:`E` 에 대한 경사 하강법입니다. 오차는 매끄럽게 줄어들고 XOR을 포함한 모든 게이트에서 수렴합니다.
# 하지만 XOR에서 최소 제곱 직선은 쓸모가 없습니다. 대칭성 때문에 네 점 모두에 대해 :math:`f = 0` 을 출력하는
# 것이 최선의 선형 출력(:math:`E = 0.5`)이므로, 가중치는 거의 0으로 줄어들고 어느 점이 "맞는" 쪽에 놓이는지는
# 반올림 오차가 정합니다.

adaline_epochs = 50 if FAST else 200
fig, axes = plt.subplots(1, 4, figsize=(13, 3.3))
for ax, gate in zip(axes, gates):
    X, y = logic_gate(gate)
    fit = train_adaline(X, y, lr=0.1, epochs=adaline_epochs, mode="batch", generator=0)
    correct = (fit.model.predict(X).numpy() == np.where(y > 0, 1, -1)).mean()
    print(f"{gate.upper():>3}: E = {fit.losses[-1]:.3f} after {fit.epochs} epochs, "
          f"{correct:.0%} of the points on the right side")
    draw_points(ax, X, y)
    draw_line(ax, fit.weights.numpy(), color="tab:green")
    ax.set_title(f"Adaline on {gate.upper()}: {correct:.0%} right")
    axes[3].plot(np.arange(1, fit.epochs + 1), fit.losses, label=gate.upper())
axes[3].set_xlabel("epoch")
axes[3].set_ylabel("E = 1/2 mean (t - f)^2")
axes[3].set_title("delta rule: error per epoch")
axes[3].legend()
fig.tight_layout()

# %%
# 시그모이드: 미분할 수 있는 계단 함수
# ------------------------------------
# 퍼셉트론의 계단 함수는 거의 모든 곳에서 도함수가 0이라서, 어느 방향으로 고쳐야 할지 알려 주는 기울기가
# 없습니다. 그래서 계단 함수로 이루어진 신경망은 경사 하강법으로 학습할 수 없습니다. **로지스틱 시그모이드**
# 는 매끄러운 계단 함수이고, 그 출력은 확률로 읽을 수 있습니다.
#
# .. math::
#
#     \sigma(z) = \frac{1}{1 + e^{-z}}, \qquad \sigma'(z) = \sigma(z)\,\big(1 - \sigma(z)\big) \le \tfrac14
#
# 시그모이드 유닛 하나를 교차 엔트로피에 대해 경사 하강법으로 학습하면 로지스틱 회귀가 됩니다. 여기서는 손으로
# 유도한 규칙 대신 자동 미분(``loss.backward()``)이 기울기를 계산합니다. 이후의 모든 페이지가 이 방식으로
# 학습합니다. :math:`\sigma'` 의 최댓값이 작다는 사실은 나중에 경사 소멸 문제로 다시 등장합니다.

z = np.linspace(-6, 6, 200)
s = 1 / (1 + np.exp(-z))
X, y = logic_gate("and")
gradus.manual_seed(0)
unit = nn.Linear(2, 1)                                        # w . x + b, 시그모이드는 손실 함수 안에 있음
opt = optim.SGD(unit.parameters(), lr=1.0)
Xt, yt = gradus.tensor(X), gradus.tensor(y.astype(np.float32))
for step in range(300 if FAST else 2000):
    loss = F.binary_cross_entropy_with_logits(unit(Xt).reshape(-1), yt)
    opt.zero_grad()
    loss.backward()
    opt.step()
print(f"sigmoid unit on AND: loss {loss.item():.3f}, "
      f"P(y = 1) = {np.round(gradus.sigmoid(unit(Xt)).detach().numpy().ravel(), 3)}")

fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
axes[0].plot(z, np.where(z > 0, 1.0, 0.0), color="gray", label="step (perceptron)")
axes[0].plot(z, s, color="tab:red", label="sigmoid")
axes[0].plot(z, s * (1 - s), color="tab:red", linestyle="--", label="sigmoid'  (max 1/4)")
axes[0].set_xlabel("z")
axes[0].legend(fontsize=8)
axes[0].set_title("step vs sigmoid")
g1, g2 = np.meshgrid(np.linspace(-0.5, 1.5, 101), np.linspace(-0.5, 1.5, 101))
grid = gradus.tensor(np.stack([g1.ravel(), g2.ravel()], axis=1).astype(np.float32))
with gradus.no_grad():
    p = gradus.sigmoid(unit(grid)).numpy().reshape(g1.shape)
contour = axes[1].contourf(g1, g2, p, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
fig.colorbar(contour, ax=axes[1], label="P(y = 1)")
draw_points(axes[1], X, y)
axes[1].set_title("a sigmoid unit trained on AND")
fig.tight_layout()
