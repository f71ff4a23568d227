r"""
활성화 함수, 출력 함수, 경사 소멸
=================================

층과 층 사이에 비선형 함수가 없으면 층을 아무리 쌓아도 하나로 합쳐집니다.
:math:`W_2(W_1\mathbf x) = (W_2W_1)\mathbf x` 는 행렬을 몇 개 곱하든 결국 선형 사상 하나입니다. 각 유닛의
가중합 :math:`z` 에 적용하는 **활성화 함수** :math:`f` 가 있어야 비로소 깊이가 의미를 갖습니다. 그렇다면 어떤
:math:`f` 를 써야 할까요? 역전파는 층을 지날 때마다 기울기에 :math:`f'(z)` 를 곱하므로, 함수 자체만큼이나
그 *도함수* 가 중요합니다. 대표적인 활성화 함수는 다음과 같습니다.

.. list-table::
   :header-rows: 1

   * - 활성화 함수
     - :math:`f(z)`
     - :math:`f'(z)`
   * - 계단 함수 (임계값)
     - :math:`z \ge 0` 이면 :math:`1`, 아니면 :math:`0`
     - (거의 모든 곳에서) :math:`0`: 역전파할 것이 없음
   * - 시그모이드
     - :math:`\sigma(z) = 1 / (1 + e^{-z})`
     - :math:`\sigma(z)(1 - \sigma(z)) \le 1/4`
   * - tanh
     - :math:`\tanh z = 2\sigma(2z) - 1`
     - :math:`1 - \tanh^2 z \le 1`
   * - 렐루 (ReLU)
     - :math:`\max(0, z)`
     - :math:`z > 0` 이면 :math:`1`, 아니면 :math:`0`
   * - 리키 렐루
     - :math:`z > 0` 이면 :math:`z`, 아니면 :math:`\alpha z` (:math:`\alpha = 0.01`)
     - :math:`1` 또는 :math:`\alpha`
   * - GELU
     - :math:`z\,\Phi(z)` (:math:`\Phi`: 표준 정규 분포의 누적 분포 함수)
     - :math:`\Phi(z) + z\,\varphi(z)`

시그모이드와 tanh는 **포화** 됩니다. :math:`|z|` 가 크면 함수가 평평해져서 도함수가 0에 가까워집니다. 렐루는
:math:`z > 0` 에서 포화되지 않고 기울기를 그대로 통과시킵니다. 약점은 반대쪽에 있습니다. 어떤 입력에 대해서도
:math:`z` 가 음수인 유닛은 기울기를 전혀 받지 못합니다(*죽은 렐루*). 리키 렐루는 음수 쪽에 작은 기울기
:math:`\alpha` 를 남겨서 이 문제를 막습니다. BERT와 GPT가 쓰는 GELU는 렐루를 매끄럽게 만든 함수입니다.

함수들은 :source:`src/gradus/functional/activation.py` (``F.sigmoid``, ``F.relu``, ``F.gelu`` 등)에, PyTorch와
같은 이름의 모듈들(``nn.Sigmoid``, ``nn.ReLU``, ``nn.LeakyReLU``, ``nn.GELU`` 등)은
:source:`src/gradus/nn/activation.py` 에 있습니다. 이 페이지에서는 활성화 함수와 그 도함수를 그려 보고, 출력
함수와 손실 함수의 짝을 맞춰 본 다음, MNIST 위에서 10층 신경망의 **경사 소멸** 을 직접 측정합니다.
"""

# %%
# 활성화 함수와 그 도함수
# -----------------------
# 아래의 도함수는 손으로 입력한 식이 아니라 자동 미분으로 계산한 것입니다. ``f(z).sum().backward()`` 를 실행하면
# ``z.grad`` 에 :math:`f'(z_i)` 가 남습니다(합의 기울기는 모든 원소에 대해 1이기 때문입니다).
import os

import matplotlib.pyplot as plt
import numpy as np

import gradus
import gradus.functional as F
from gradus import nn, optim
from gradus.data.datasets import load_mnist_arrays
from gradus.models.mlp import MLP

FAST = os.environ.get("GRADUS_DOCS_FAST") == "1"
train_steps = 50 if FAST else 500

activations = {
    "step": F.step,
    "sigmoid": F.sigmoid,
    "tanh": F.tanh,
    "ReLU": F.relu,
    "leaky ReLU (0.1)": lambda z: F.leaky_relu(z, 0.1),      # 눈에 보이는 기울기; 기본값은 0.01
    "GELU": F.gelu,
}
z_grid = np.linspace(-4, 4, 801)
values, slopes = {}, {}
for name, f in activations.items():
    z = gradus.tensor(z_grid, requires_grad=True)
    out = f(z)
    out.sum().backward()
    values[name], slopes[name] = out.detach().numpy(), z.grad.numpy()
    print(f"{name:<17} max f'(z) on [-4, 4] = {slopes[name].max():.3f}   f'(-4) = {slopes[name][0]:.4f}")

fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
for name in activations:
    axes[0].plot(z_grid, values[name], label=name)
    axes[1].plot(z_grid, slopes[name], label=name)
axes[0].set_title("activation f(z)")
axes[1].set_title("derivative f'(z), by autograd")
axes[0].set_ylim(-1.5, 4)
for ax in axes:
    ax.axhline(0, color="gray", linewidth=0.5)
    ax.axvline(0, color="gray", linewidth=0.5)
    ax.set_xlabel("z")
axes[1].legend(fontsize=8)
fig.tight_layout()

# %%
# 출력된 최댓값이 기억해 둘 숫자입니다. 시그모이드의 도함수는 결코 :math:`1/4` 을 넘지 않고, tanh의 도함수는
# :math:`z = 0` 에서만 1에 이르며, 둘 다 :math:`z = -4` 에서는 작은 값입니다. 같은 곳에서 렐루의 도함수는 정확히
# 0이고, 리키 렐루의 도함수는 음수 쪽 기울기 그대로입니다(GELU의 도함수는 0보다 조금 큰 곳에서 1을 살짝
# 넘습니다). 계단 함수의 도함수는 어디서나 0입니다. gradus의 ``F.step`` 은 기울기를 전달하지 않으며, 퍼셉트론이
# 역전파가 아닌 자기만의 학습 규칙을 쓰는 이유가 바로 이것입니다.
#
# 출력 함수와 손실 함수
# ---------------------
# 마지막 층은 사정이 다릅니다. 마지막 층의 활성화 함수, 곧 **출력 함수** 는 로짓 :math:`\mathbf z` 를 목푯값과
# 같은 종류의 예측으로 바꿉니다. 그리고 출력 함수마다 짝이 되는 손실 함수가 있습니다.
#
# .. list-table::
#    :header-rows: 1
#
#    * - 문제
#      - 출력 함수 :math:`\hat y = g(z)`
#      - 손실 함수
#      - gradus
#    * - 회귀
#      - 항등 함수: :math:`\hat y = z`
#      - 평균 제곱 오차 :math:`\frac12 (\hat y - y)^2`
#      - ``F.mse_loss``
#    * - 이진 분류
#      - 시그모이드: :math:`\hat y = \sigma(z)`
#      - 이진 교차 엔트로피 :math:`-y\log\hat y - (1-y)\log(1-\hat y)`
#      - ``F.binary_cross_entropy_with_logits``
#    * - :math:`C` 개 클래스 분류
#      - 소프트맥스: :math:`\hat y_k = e^{z_k} / \sum_j e^{z_j}`
#      - 교차 엔트로피 :math:`-\sum_k y_k \log \hat y_k` (:math:`\mathbf y` 는 원-핫 인코딩)
#      - ``F.cross_entropy``
#
# 각 짝은 하나의 확률 모형(가우시안, 베르누이, 범주형 분포)의 음의 로그 우도이고, 셋 모두 로짓에 대해 똑같이
# 가장 단순한 기울기를 줍니다. 소프트맥스와 교차 엔트로피의 경우
# :math:`\partial \hat y_k / \partial z_i = \hat y_k(\delta_{ki} - \hat y_i)` 와 :math:`\sum_k y_k = 1` 을 쓰면
#
# .. math::
#
#     \frac{\partial L}{\partial z_i} = -\sum_k \frac{y_k}{\hat y_k}\,\hat y_k(\delta_{ki} - \hat y_i)
#     = -y_i + \hat y_i \sum_k y_k = \hat y_i - y_i
#
# 입니다. 역전파를 시작하는 오차 신호는 그저 *예측값 빼기 목푯값* 입니다. gradus는 이 닫힌 형태를 그대로
# 씁니다. ``F.cross_entropy`` 는 하나로 합쳐진(fused) 노드이고, 그 역전파는 ``softmax(z) - onehot(y)``
# 입니다(:source:`src/gradus/functional/loss.py`). 로짓이 별도의 소프트맥스를 거치지 않으므로 :math:`\log` 에서
# 언더플로가 일어날 일도 없습니다. 무작위 로짓으로 세 짝 모두를 자동 미분과 비교해 확인합니다.

rng = np.random.default_rng(0)
logits = rng.standard_normal((5, 4))
labels = rng.integers(0, 4, 5)
bits = rng.integers(0, 2, 5).astype(np.float64)
reals = rng.standard_normal(5)


def gradient_wrt_logits(loss_fn, z):
    z = gradus.tensor(z, requires_grad=True)
    loss_fn(z).backward()
    return z.grad.numpy()


pairs = {
    "identity + MSE": (gradient_wrt_logits(lambda z: 0.5 * F.mse_loss(z, gradus.tensor(reals),
                                                                      reduction="sum"), logits[:, 0]),
                       logits[:, 0] - reals),
    "sigmoid + BCE": (gradient_wrt_logits(lambda z: F.binary_cross_entropy_with_logits(
                          z, gradus.tensor(bits), reduction="sum"), logits[:, 0]),
                      1 / (1 + np.exp(-logits[:, 0])) - bits),
    "softmax + CE": (gradient_wrt_logits(lambda z: F.cross_entropy(z, gradus.tensor(labels), reduction="sum"),
                                         logits),
                     np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True) - np.eye(4)[labels]),
}
for name, (autograd_grad, y_hat_minus_y) in pairs.items():
    print(f"{name:<15} max |dL/dz - (y_hat - y)| = {np.abs(autograd_grad - y_hat_minus_y).max():.1e}")

# %%
# 시그모이드에 제곱 오차를 쓰면 안 되는 이유
# ------------------------------------------
# *맞지 않는* 짝을 쓰면 기울기에 인수가 하나 더 붙습니다. 시그모이드 출력을 제곱 오차로 학습하면
# :math:`\partial L/\partial z = (\hat y - y)\,\sigma'(z)` 가 되는데, :math:`\sigma'(z) \to 0` 이 되는 것은 바로
# 유닛이 포화되었을 때이고, 여기에는 확신을 가지고 **틀린** 경우도 포함됩니다. 양성 예제(:math:`y = 1`) 하나를
# 잡고 로짓 :math:`z` 를 크게 틀린 쪽(음수)에서 확실히 맞는 쪽으로 옮겨 가며 기울기를 봅니다.

z = gradus.tensor(np.linspace(-8, 8, 401), requires_grad=True)
ones = gradus.ones(401, dtype=z.dtype)
F.binary_cross_entropy_with_logits(z, ones, reduction="sum").backward()
grad_ce = -z.grad.numpy()
z.grad = None
(0.5 * F.mse_loss(F.sigmoid(z), ones, reduction="sum")).backward()
grad_mse = -z.grad.numpy()
print(f"at z = -8 (confidently wrong): -dL/dz = {grad_ce[0]:.4f} with cross-entropy, "
      f"{grad_mse[0]:.6f} with squared error")

fig, ax = plt.subplots(figsize=(6, 3.4))
ax.plot(z.detach().numpy(), grad_ce, label="sigmoid + cross-entropy: 1 - y_hat")
ax.plot(z.detach().numpy(), grad_mse, label="sigmoid + squared error: (1 - y_hat) y_hat (1 - y_hat)")
ax.set_xlabel("logit z of a positive example (y = 1)")
ax.set_ylabel("-dL/dz (the push towards y)")
ax.legend(loc="upper right", fontsize=8)
fig.tight_layout()

# %%
# 교차 엔트로피는 예측이 가장 나쁜 곳에서 가장 세게 밀어 줍니다. 제곱 오차는 바로 그곳에서 거의 밀지 않으므로,
# 그런 예제로부터는 학습이 멈춰 버립니다. 이 :math:`f'(z)` 인수가 이번에는 *모든* 은닉층에 나타나는 것이 다음
# 문제입니다.
#
# 경사 소멸
# ---------
# 역전파(4장)는 오차를 한 층씩 거꾸로 보냅니다.
# :math:`\boldsymbol\delta^{l} = (W^{l+1})^{\mathsf T}\boldsymbol\delta^{l+1} \odot f'(\mathbf z^{l})` 이고, 층
# :math:`l` 의 가중치에 대한 기울기는 :math:`\boldsymbol\delta^l (\mathbf o^{l-1})^{\mathsf T}` 입니다. 출력층
# :math:`L` 에서 층 :math:`l` 까지 풀어 쓰면 오차는 :math:`L - l` 개 인수의 곱입니다.
#
# .. math::
#
#     \boldsymbol\delta^{l} = \Big(\prod_{k=l+1}^{L} \operatorname{diag} f'(\mathbf z^{k-1})\,
#     (W^{k})^{\mathsf T}\Big)\,\boldsymbol\delta^{L}
#
# 인수 하나하나가 벡터를 :math:`r < 1` 배로 줄인다면 앞쪽 층에는 신호의 :math:`r^{L}` 만 도착합니다. 기울기가
# **소멸** 하는 것입니다(:math:`r > 1` 이면 **폭발** 합니다). 시그모이드는 모든 유닛에서 :math:`f' \le 1/4`
# 이므로, 가중치가 크지 않은 한 층을 지날 때마다 기울기가 줄어듭니다. 그렇다고 가중치를 키우면 유닛이 포화되어
# :math:`f'` 가 더 작아집니다.
#
# 직접 측정해 봅시다. :source:`src/gradus/models/mlp.py` 의 10층 MLP(입력 784, 크기 128인 은닉층 9개, 출력
# 10)에 실제 MNIST 숫자 256개로 된 배치 하나를 넣고, 교차 엔트로피를 계산해 ``backward()`` 를 한 번 호출한 뒤,
# 각 층의 가중치 기울기 노름 :math:`\|\partial L / \partial W^l\|` 를 잽니다. 모두 **초기화 직후**, 학습하기
# 전의 값입니다. 신경망은 네 가지입니다. 시그모이드와 렐루 각각에 대해 ``nn.Linear`` 의 기본 초기화(PyTorch와
# 같은 :math:`U(-1/\sqrt{n_{in}}, 1/\sqrt{n_{in}})`)와, 그 활성화 함수에 맞춘 초기화(다음 절)를 씁니다.

X_test, y_test = load_mnist_arrays(train=False)              # (10000, 784), 값은 [0, 1], (10000,)
X_batch, y_batch = gradus.tensor(X_test[:256]), gradus.tensor(y_test[:256])
sizes = [784] + [128] * 9 + [10]


def build(activation, init, seed=0):
    """The 10-layer MLP with one of three initialisations of its weights (biases 0 for xavier/he)."""
    gradus.manual_seed(seed)
    net = MLP(sizes, activation)
    for layer in net.layers:
        if init == "xavier":
            nn.init.xavier_normal_(layer.weight)
            nn.init.zeros_(layer.bias)
        elif init == "he":
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            nn.init.zeros_(layer.bias)
    return net


def layer_gradient_norms(net):
    net.zero_grad()
    F.cross_entropy(net(X_batch), y_batch).backward()
    return np.array([layer.weight.grad.norm().item() for layer in net.layers])


setups = {"sigmoid, default init": ("sigmoid", "default"), "sigmoid, Xavier init": ("sigmoid", "xavier"),
          "ReLU, default init": ("relu", "default"), "ReLU, He init": ("relu", "he")}
norms = {name: layer_gradient_norms(build(*setup)) for name, setup in setups.items()}
for name, g in norms.items():
    print(f"{name:<22} |dL/dW| layer 1: {g[0]:.1e}   layer 10: {g[-1]:.1e}   ratio {g[0] / g[-1]:.1e}")

fig, ax = plt.subplots(figsize=(7, 4))
for name, g in norms.items():
    ax.plot(np.arange(1, len(g) + 1), g, "o-", label=name)
ax.set_yscale("log")
ax.set_xticks(np.arange(1, len(sizes)))
ax.set_xlabel("layer (1 = next to the input, 10 = output)")
ax.set_ylabel("||dL/dW|| at initialisation")
ax.set_title("10-layer MLP on a batch of 256 MNIST digits")
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# 그림은 기울기가 이동하는 방향대로 오른쪽에서 왼쪽으로 읽으면 됩니다. 시그모이드 유닛에 기본 초기화를 쓰면
# 기울기가 층마다 거의 일정한 비율로 줄어들어, 첫 번째 층은 마지막 층이 받는 기울기의 아주 작은 일부만
# 받습니다(출력된 비율). 마지막 층을 움직이는 학습률로는 첫 번째 층이 거의 꿈쩍도 하지 않는다는 뜻입니다.
# 자비에 초기화는 시그모이드를 조금 돕지만 :math:`f' \le 1/4` 을 되돌리지는 못합니다. He 초기화를 쓴 렐루는
# 모든 층에서 노름이 거의 같게 유지됩니다. 기본 초기화를 쓴 렐루는 여전히 기울기가 줄어드는데, 렐루에게는
# 가중치가 너무 작기 때문입니다.
#
# 렐루와 초기화가 문제를 해결하는 방법
# ------------------------------------
# 입력이 :math:`n_{in}` 개, 출력이 :math:`n_{out}` 개인 층 하나 :math:`z_j = \sum_{i} w_{ji}\, o_i` 를
# 생각합니다. 가중치는 서로 독립이고 평균이 0, 분산이 :math:`\operatorname{Var}(w)` 라고 합시다. 순전파에서 각
# :math:`z_j` 는 :math:`n_{in}` 개 항의 합이고, 역전파에서 각 :math:`\delta_i` 는 :math:`n_{out}` 개 항
# :math:`w_{ji}\delta_j f'(z_i)` 의 합입니다.
#
# .. math::
#
#     \operatorname{Var}(z^{l+1}) = n_{in}\operatorname{Var}(w)\,\mathbb E[f(z^{l})^2], \qquad
#     \operatorname{Var}(\delta^{l}) = n_{out}\operatorname{Var}(w)\,\mathbb E[f'(z^{l})^2]\,
#     \operatorname{Var}(\delta^{l+1})
#
# 앞에 붙은 인수가 1이면 신호의 크기가 층에서 층으로 유지됩니다. 렐루는 입력의 절반에서 :math:`f'` 가 1이므로
# :math:`\mathbb E[f'^2] = 1/2`, :math:`\mathbb E[f(z)^2] = \operatorname{Var}(z)/2` 입니다. 여기서
# **He 초기화 (카이밍 초기화)** :math:`\operatorname{Var}(w) = 2/n_{in}` 이 나옵니다
# (``nn.init.kaiming_normal_(w, nonlinearity="relu")``). 0 근처의 tanh는 :math:`f' \approx 1` 이고, 두 조건을
# 절충한 것이 **자비에 초기화 (글로럿 초기화)** :math:`\operatorname{Var}(w) = 2/(n_{in} + n_{out})` 입니다
# (``nn.init.xavier_normal_``). 기본 초기화 :math:`U(-1/\sqrt n, 1/\sqrt n)` 은
# :math:`\operatorname{Var}(w) = 1/(3n)` 이라서, 렐루에서는 층마다 분산이 :math:`1/6` 배가 됩니다. 세 번째
# 곡선이 천천히 내려가는 이유입니다. 시그모이드에는 맞는 분산이 없습니다. :math:`\mathbb E[f'^2] \le 1/16` 이고,
# 이를 메울 만큼 가중치를 키우면 유닛이 포화됩니다. 초기화 함수들은 :source:`src/gradus/nn/init.py` 에 있고,
# 비선형 함수마다 권장 이득을 주는 ``calculate_gain`` 도 함께 있습니다.
#
# 학습에도 차이가 날까?
# ---------------------
# 양 끝의 두 신경망을 같은 방법으로 학습합니다. 모멘텀 0.9의 SGD, 학습률 0.02, MNIST 훈련 이미지 64개짜리
# 미니배치로 같은 횟수만큼 갱신한 뒤, 테스트 이미지 2,000개로 평가합니다.

X_train, y_train = load_mnist_arrays(train=True)
X_eval, y_eval = gradus.tensor(X_test[-2000:]), y_test[-2000:]
curves = {}
for name in ["sigmoid, default init", "ReLU, He init"]:
    net = build(*setups[name])
    opt = optim.SGD(net.parameters(), lr=0.02, momentum=0.9)
    batches = np.random.default_rng(0)
    curves[name] = []
    for _ in range(train_steps):
        idx = batches.integers(0, len(X_train), 64)
        loss = F.cross_entropy(net(gradus.tensor(X_train[idx])), gradus.tensor(y_train[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        curves[name].append(loss.item())
    with gradus.no_grad():
        accuracy = (net(X_eval).argmax(dim=1).numpy() == y_eval).mean()
    print(f"{name:<22} after {train_steps} steps: training loss {np.mean(curves[name][-10:]):.3f} "
          f"(mean of the last 10), test accuracy {accuracy:.3f}")

fig, ax = plt.subplots(figsize=(6, 3.4))
for name, losses in curves.items():
    ax.plot(np.arange(1, train_steps + 1), losses, label=name)
ax.axhline(np.log(10), color="gray", linestyle="--", linewidth=0.8, label="log 10 (chance)")
ax.set_xlabel("SGD step")
ax.set_ylabel("cross-entropy")
ax.set_title("10-layer MLP on MNIST")
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# 시그모이드 신경망은 찍기 수준의 손실 :math:`\log 10 \approx 2.30` 에 머물러 있지만, He 초기화를 쓴 렐루
# 신경망은 이미 학습하고 있습니다. 렐루 신경망의 앞쪽 층은 기울기를 받고, 시그모이드 신경망의 앞쪽 층은 받지
# 못합니다. 2000년대 후반까지 깊은 신경망이 부딪힌 벽이 바로 이것입니다. 렐루와 세심한 초기화(그리고 뒤의
# 장에서 다룰 배치 정규화와 잔차 연결) 덕분에 깊은 MLP를 학습할 수 있게 되었습니다.
# ``gradus train mnist-dmlp`` 는 Ciresan 등의 784-2500-2000-1500-1000-500-10 신경망을 렐루 유닛과 탄성 변형으로
# 학습하며, **10 에포크 뒤 테스트 정확도 0.9919** 에 이릅니다(``benchmarks/RESULTS.md`` 4절에 기록된 측정값).
