r"""
계산 그래프와 역전파
====================

**계산 그래프** 는 계산 과정을 노드(연산)와 그 사이를 잇는 엣지(연산 사이를 흐르는 값)로 나타낸 것입니다.
순전파는 왼쪽에서 오른쪽으로 값을 계산합니다. **역전파** 는 오른쪽에서 왼쪽으로 미분을 전달합니다. 각 노드는
자기 출력에 대한 최종 출력의 미분 :math:`\partial L/\partial z` 를 받아서 자신의 **국소적 미분** 을 곱한 뒤
입력 쪽으로 넘깁니다. 노드 하나씩 적용하는 연쇄 법칙입니다.

.. math::

    z = f(x, y): \qquad
    \frac{\partial L}{\partial x} = \frac{\partial L}{\partial z}\,\frac{\partial z}{\partial x}, \qquad
    \frac{\partial L}{\partial y} = \frac{\partial L}{\partial z}\,\frac{\partial z}{\partial y}

각 노드는 자기 입력과 오른쪽에서 들어오는 값(숫자 하나 또는 배열 하나)만 알면 되므로, *모든* 입력에 대한
미분을 구하는 비용이 순전파 한 번과 비슷합니다. gradus는 PyTorch처럼 순전파가 실행되는 동안 이 그래프를
기록합니다(define-by-run). 연산으로 만들어진 텐서는 모두 ``grad_fn`` 노드를 갖고 있고, ``backward()`` 는 이
노드들을 역순으로 방문합니다(:source:`src/gradus/autograd/engine.py`). 그래프를 DOT 텍스트로 바꾸는 코드는
:source:`src/gradus/viz/graph.py` 에 있습니다.
"""

# %%
# 장보기 계산서
# -------------
# 100원짜리 사과 2개와 150원짜리 귤 3개를 사고 소비세 10%를 붙이면
# :math:`L = (100 \cdot 2 + 150 \cdot 3) \cdot 1.1 = 715` 원입니다. 같은 예제가
# :source:`docs/examples/shopping.py` 에도 있습니다. ``total.backward()`` 는 모든 잎 노드의 ``.grad`` 를 채웁니다.
# 각 입력이 한 단위 변할 때 지불 금액이 얼마나 변하는지를 나타내는 값입니다.
import os

import matplotlib.pyplot as plt
import numpy as np

import gradus
from gradus.models.mlp import TextbookMLP
from gradus.viz.graph import to_dot

FAST = os.environ.get("GRADUS_DOCS_FAST") == "1"   # 이 페이지는 어느 쪽이든 빠름

leaves = {"apple": 100.0, "n_apple": 2.0, "orange": 150.0, "n_orange": 3.0, "tax": 1.1}
t = {}
for name, value in leaves.items():
    t[name] = gradus.tensor(value, dtype=gradus.float64, requires_grad=True)
    t[name].name = name                                       # 그래프에 표시할 잎 노드 이름

apple_price = t["apple"] * t["n_apple"]                       # 200
orange_price = t["orange"] * t["n_orange"]                    # 450
all_price = apple_price + orange_price                        # 650
total = all_price * t["tax"]                                  # 715
total.name = "total"
total.backward()

print(f"total = {total.item():.1f}")
for name in leaves:
    print(f"dL/d{name:<9} = {t[name].grad.item():g}")

# %%
# ``to_dot`` 은 그래프를 텍스트로 돌려주며, 어떤 Graphviz 뷰어로도 그릴 수 있습니다(Graphviz가 설치되어 있으면
# ``gradus.viz.graph.render`` 가 그려 줍니다). 여기서는 matplotlib 몇 줄로 DOT 텍스트를 배치합니다. 각 열은
# 입력에서 한 단계씩 떨어진 노드들입니다.

dot = to_dot(total, show_values=True, show_grads=True)
print(dot)


def draw_dot(dot, ax):
    """Draw gradus' DOT text: nodes in columns by their distance from the inputs, edges as arrows."""
    import re
    labels = {m[0]: m[1].replace("\\n", "\n") for m in re.findall(r'^\s*(\w+) \[label="([^"]*)"', dot, re.M)}
    edges = re.findall(r"^\s*(\w+) -> (\w+);", dot, re.M)
    depth = {n: 0 for n in labels}
    for _ in labels:                                          # 입력에서의 가장 긴 경로 (재귀 없음)
        for a, b in edges:
            depth[b] = max(depth[b], depth[a] + 1)
    columns = {}
    for n in labels:
        columns.setdefault(depth[n], []).append(n)
    pos = {n: (d, -i + (len(ns) - 1) / 2) for d, ns in columns.items() for i, n in enumerate(sorted(ns))}
    for a, b in edges:
        ax.annotate("", xy=pos[b], xytext=pos[a], arrowprops=dict(arrowstyle="->", color="gray",
                                                                  shrinkA=28, shrinkB=28))
    for n, (x, y) in pos.items():
        leaf = "grad" in labels[n] and "\n" in labels[n]
        ax.text(x, y, labels[n], ha="center", va="center", fontsize=7,
                bbox=dict(boxstyle="round" if not leaf else "square", fc="#dbeafe" if leaf else "#e5e7eb"))
    ax.set_xlim(-0.6, max(depth.values()) + 0.6)
    ax.set_ylim(-max(len(c) for c in columns.values()) / 2 - 0.2, max(len(c) for c in columns.values()) / 2 + 0.2)
    ax.set_axis_off()


fig, ax = plt.subplots(figsize=(10, 3.8))
draw_dot(dot, ax)
ax.set_title("the shopping bill as gradus records it: values and gradients (dL/d leaf)")
fig.tight_layout()

# %%
# 덧셈 노드와 곱셈 노드
# ---------------------
# 여기서 일은 모두 두 종류의 노드가 합니다. **덧셈 노드** :math:`z = x + y` 의 국소적 미분은 1과 1이므로,
# 들어온 기울기를 두 입력에 그대로 흘려보냅니다. **곱셈 노드** :math:`z = x y` 의 국소적 미분은 :math:`y` 와
# :math:`x` 이므로, 각 입력은 들어온 기울기에 *상대편* 입력을 곱한 값을 받습니다. 이 규칙으로 위의 숫자를
# 읽어 봅시다. :math:`\partial L/\partial\,\text{all\_price} = 1.1` (마지막 곱셈 노드를 거친 세율)이고, 덧셈 노드는
# 1.1을 두 가격에 그대로 전달하며, :math:`\partial L/\partial\,\text{apple} = 1.1 \cdot 2 = 2.2`,
# :math:`\partial L/\partial\,\text{n\_apple} = 1.1 \cdot 100 = 110` 입니다.

x = gradus.tensor(3.0, requires_grad=True)
y = gradus.tensor(-2.0, requires_grad=True)
(x * y).backward(gradus.tensor(5.0))                          # 위에서 들어오는 기울기 dL/dz = 5
print(f"multiply: dL/dx = {x.grad.item():g} (= 5 * y), dL/dy = {y.grad.item():g} (= 5 * x)")
x.grad = y.grad = None
(x + y).backward(gradus.tensor(5.0))
print(f"add:      dL/dx = {x.grad.item():g},  dL/dy = {y.grad.item():g}  (passed through)")

# %%
# 어파인 계층
# -----------
# 배치에 적용하는 완전 연결층은 행렬 곱 하나입니다. :math:`Y = XW + \mathbf b` 에서 :math:`X` 의 형상은
# :math:`(N, D)`, :math:`W` 는 :math:`(D, H)`, :math:`Y` 는 :math:`(N, H)` 입니다. 역전파는 행렬 곱 두 개와 합
# 하나이고, 각 결과의 형상은 나머지 형상들로부터 저절로 정해집니다.
#
# .. math::
#
#     \frac{\partial L}{\partial X} = \frac{\partial L}{\partial Y}\, W^{\mathsf T}
#     \quad (N, H)(H, D) = (N, D), \qquad
#     \frac{\partial L}{\partial W} = X^{\mathsf T}\, \frac{\partial L}{\partial Y}
#     \quad (D, N)(N, H) = (D, H), \qquad
#     \frac{\partial L}{\partial \mathbf b} = \sum_{n} \frac{\partial L}{\partial Y_{n,:}}
#
# 세 공식을 자동 미분과 비교해 봅니다. 고정된 난수 행렬 :math:`G` 로 :math:`L = \sum Y \odot G` 를 만들면
# :math:`\partial L/\partial Y = G` 가 됩니다. (``nn.Linear`` 는 PyTorch처럼 :math:`W^{\mathsf T}` 를 형상
# ``(out, in)`` 으로 저장합니다. 여기서는 강의의 형상을 그대로 쓰기 위해 :math:`W` 를 일반 텐서로 둡니다.)

N, D, H = 4, 3, 2
rng = np.random.default_rng(0)
X = gradus.tensor(rng.standard_normal((N, D)), requires_grad=True)
W = gradus.tensor(rng.standard_normal((D, H)), requires_grad=True)
b = gradus.tensor(rng.standard_normal(H), requires_grad=True)
G = rng.standard_normal((N, H))                               # dL/dY 역할
Y = X @ W + b
(Y * gradus.tensor(G)).sum().backward()

by_hand = {"dL/dX": G @ W.detach().numpy().T, "dL/dW": X.detach().numpy().T @ G, "dL/db": G.sum(axis=0)}
by_autograd = {"dL/dX": X.grad.numpy(), "dL/dW": W.grad.numpy(), "dL/db": b.grad.numpy()}
for name in by_hand:
    print(f"{name}: shape {by_hand[name].shape}, autograd shape {by_autograd[name].shape}, "
          f"max |difference| {np.abs(by_hand[name] - by_autograd[name]).max():.1e}")

# %%
# 깊은 다층 퍼셉트론과 알고리즘 4-1
# ---------------------------------
# 시그모이드 유닛으로 이루어진 MLP를 제곱 오차 :math:`E = \frac12 \|\mathbf o^L - \mathbf y\|^2` 로 학습할 때,
# 역전파는 강의의 알고리즘 4-1입니다. :math:`\mathbf z^l = U^l [\mathbf o^{l-1}; 1]` (:math:`U^l` 의 마지막 열이
# 편향)과 :math:`\mathbf o^l = f(\mathbf z^l)` 로 쓰면 다음과 같습니다.
#
# .. math::
#
#     \boldsymbol\delta^L = (\mathbf o^L - \mathbf y) \odot f'(\mathbf z^L), \qquad
#     \boldsymbol\delta^l = (U^{l+1}_{:, :-1})^{\mathsf T} \boldsymbol\delta^{l+1} \odot f'(\mathbf z^l),
#     \qquad
#     \frac{\partial E}{\partial U^l} = \boldsymbol\delta^l\, [\mathbf o^{l-1}; 1]^{\mathsf T}
#
# 갱신은 :math:`U^l \leftarrow U^l - \eta\, \partial E/\partial U^l` 입니다. 아래에서는 6-5-4-3 신경망에 대해 이
# 알고리즘을 NumPy로 직접 작성하고, gradus에 들어 있는 교과서 구현(:source:`src/gradus/models/mlp.py` 의
# ``TextbookMLP.gradients``), 그리고 같은 가중치에 대한 자동 미분과 나란히 비교합니다.

sizes = [6, 5, 4, 3]
B = 8
net = TextbookMLP(sizes, dtype=np.float64, generator=0)
Xb = rng.standard_normal((B, sizes[0]))
Yb = np.eye(sizes[-1])[rng.integers(0, sizes[-1], B)]         # 원-핫 목푯값


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def with_one(o):
    return np.concatenate([o, np.ones((len(o), 1))], axis=1)  # [o; 1]: 편향 입력


# 알고리즘 4-1 직접 구현: 순전파 후, 출력층부터 거꾸로 델타 점화식
zs, os_ = [], [Xb]
for U in net.U:
    zs.append(with_one(os_[-1]) @ U.T)
    os_.append(sigmoid(zs[-1]))
grads_by_hand = [None] * len(net.U)
delta = (os_[-1] - Yb) * sigmoid(zs[-1]) * (1 - sigmoid(zs[-1]))              # delta^L
for l in reversed(range(len(net.U))):
    grads_by_hand[l] = delta.T @ with_one(os_[l]) / B                          # dE/dU^l, 배치 평균
    if l > 0:
        delta = (delta @ net.U[l][:, :-1]) * sigmoid(zs[l - 1]) * (1 - sigmoid(zs[l - 1]))

grads_textbook, _ = net.gradients(Xb, Yb)

# 같은 가중치로 자동 미분: gradus 텐서로 순전파를 쓰고 backward()
Us = [gradus.tensor(U, requires_grad=True) for U in net.U]
o = gradus.tensor(Xb)
for U in Us:
    o = gradus.sigmoid(gradus.cat([o, gradus.ones(B, 1, dtype=o.dtype)], dim=1) @ U.T)
E = 0.5 * ((o - gradus.tensor(Yb)) ** 2).sum() / B
E.backward()

diff_textbook = [np.abs(a - b).max() for a, b in zip(grads_by_hand, grads_textbook)]
diff_autograd = [np.abs(a - U.grad.numpy()).max() for a, U in zip(grads_by_hand, Us)]
for l, (d1, d2) in enumerate(zip(diff_textbook, diff_autograd), 1):
    print(f"U^{l} {net.U[l - 1].shape}: |by hand - TextbookMLP| = {d1:.1e}, |by hand - autograd| = {d2:.1e}")

fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
layers = [f"U^{l}" for l in range(1, len(sizes))]
axes[0].bar(layers, [np.abs(g).mean() for g in grads_by_hand], color="tab:blue")
axes[0].set_title("mean |dE/dU^l| (Algorithm 4-1)")
width = 0.38
positions = np.arange(len(layers))
axes[1].bar(positions - width / 2, np.maximum(diff_textbook, 1e-18), width, label="vs TextbookMLP")
axes[1].bar(positions + width / 2, np.maximum(diff_autograd, 1e-18), width, label="vs autograd")
axes[1].set_xticks(positions, layers)
axes[1].set_yscale("log")
axes[1].set_ylim(1e-18, 1e-6)
axes[1].set_title("max |difference| (float64)")
axes[1].legend(fontsize=8)
fig.tight_layout()

# %%
# 세 방법의 결과는 반올림 오차 수준(float64에서 약 :math:`10^{-17}`)까지 일치합니다. 왼쪽 그림도 눈여겨보세요.
# 입력 쪽으로 갈수록 기울기가 작아집니다. 층을 하나 지날 때마다 :math:`\boldsymbol\delta` 에
# :math:`f'(z) \le 1/4` 가 곱해지기 때문입니다. 이것이 경사 소멸이며, 뒤의 페이지에서 자세히 다룹니다. 이제부터
# 강좌에서는 기울기 계산을 자동 미분에 맡깁니다. 교과서 방식의 갱신 한 번이 자동 미분 + SGD 갱신 한 번과
# 같다는 것은 ``tests/models/test_textbook.py`` 가 확인합니다.
