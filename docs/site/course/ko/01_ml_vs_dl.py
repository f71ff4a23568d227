r"""
머신러닝과 딥러닝
==================

전통적인 머신러닝 시스템은 서로 다른 손이 만든 두 부분으로 이루어집니다. 먼저 사람이 **특징(feature)** 을
설계합니다. 원시 입력에서 계산한 숫자들 가운데 설계자가 보기에 중요한 정보를 담고 있는 것들입니다. 손글씨
숫자라면 행마다, 열마다 잉크가 얼마나 있는지, 획이 좌우 대칭인지, 고리가 몇 개인지 같은 것입니다. 그다음
학습 알고리즘이 이 특징 위에서 간단한 분류기를 학습합니다. 분류기는 학습되지만 특징은 학습되지 않으므로,
시스템 전체의 성능은 결코 특징의 품질을 넘어설 수 없습니다.

**딥러닝** 은 특징까지 학습합니다. 깊은 신경망은 원시 입력(모든 화소)을 그대로 받아 층을 쌓고, 각 층은
앞 층이 만든 특징으로부터 새로운 특징을 계산합니다. 첫 층부터 마지막 층까지 모든 가중치를 하나의 손실
함수에 대해 경사 하강법으로 한꺼번에 학습합니다. 이것이 **종단간 학습(end-to-end learning)** 입니다.
화소에서 답에 이르는 과정 어디에도 사람이 손으로 설계한 단계가 없습니다.

.. math::

    \text{머신러닝:}\quad \hat y = g_{\theta}\big(\phi(x)\big),
    \quad \phi \text{ 는 설계}, \ \theta \text{ 는 학습}
    \qquad\qquad
    \text{딥러닝:}\quad \hat y = f_{\theta_L}\big(\cdots f_{\theta_2}(f_{\theta_1}(x))\big),
    \quad \text{모든 } \theta_l \text{ 을 학습}

이 페이지에서는 gradus에 들어 있는 8x8 손글씨 숫자 데이터(1,797장, 내려받을 필요 없음)로 두 방식을 직접
비교하고, 신경망이 무엇을 배웠는지 들여다본 뒤, 깊은 신경망이 어떻게 주류가 되었는지 그 역사를 살펴봅니다.
"""

# %%
# 데이터와 손으로 만든 특징
# -------------------------
# :func:`gradus.data.datasets.digits.load_digits_arrays` 는 이미지를 [0, 1] 범위의 화소 64개로 펼쳐서
# 돌려주며, 학습/테스트 분할(1,438 / 359장)은 클래스 비율을 유지한 채 항상 같습니다. 데이터를 읽는 코드는
# :source:`src/gradus/data/datasets/digits.py` 에 있습니다.
#
# 여기서 손으로 만든 특징 사상 :math:`\phi` 는 고전적인 *투영 프로파일* 입니다. 8개 행과 8개 열 각각의 평균
# 잉크 양으로, 이미지 한 장을 화소 64개 대신 숫자 16개로 나타냅니다.
#
# ``GRADUS_DOCS_FAST=1`` 은 이 사이트를 빌드하는 테스트가 설정하는 환경 변수로, 학습을 짧게 줄이기만
# 합니다. 이 페이지를 직접 실행하면 원래 크기의 실험이 돌아갑니다.
import os

import matplotlib.pyplot as plt
import numpy as np

import gradus
import gradus.functional as F
from gradus import nn, optim
from gradus.data.datasets.digits import load_digits_arrays

FAST = os.environ.get("GRADUS_DOCS_FAST") == "1"
num_epochs = 10 if FAST else 30

X_train, y_train = load_digits_arrays(train=True)   # (1438, 64) float32, [0, 1] 범위 / (1438,) int64
X_test, y_test = load_digits_arrays(train=False)    # (359, 64), (359,)


def hand_made_features(X):
    """phi(x): mean ink per row (8) and per column (8) of each 8x8 image -> (N, 16)."""
    images = X.reshape(-1, 8, 8)
    rows = images.mean(axis=2)                       # (N, 8)
    cols = images.mean(axis=1)                       # (N, 8)
    return np.concatenate([rows, cols], axis=1).astype(np.float32)


print("raw pixels:", X_train.shape, " hand-made features:", hand_made_features(X_train).shape)

fig, axes = plt.subplots(1, 3, figsize=(9, 2.8))
image = X_train[0].reshape(8, 8)
axes[0].imshow(image, cmap="gray_r")
axes[0].set_title(f"raw input x (label {y_train[0]})")
axes[1].barh(np.arange(8), image.mean(axis=1), color="tab:blue")
axes[1].invert_yaxis()
axes[1].set_title("feature: ink per row")
axes[2].bar(np.arange(8), image.mean(axis=0), color="tab:orange")
axes[2].set_title("feature: ink per column")
fig.tight_layout()

# %%
# 분류기 셋, 학습 루프 하나
# -------------------------
# 세 모델 모두 같은 루프로 학습합니다. 미니배치 크기는 64, 손실은 소프트맥스 교차 엔트로피
# (:func:`gradus.functional.loss.cross_entropy`), 최적화기는 Adam(:source:`src/gradus/optim/adam.py`)이고,
# 모든 기울기는 자동 미분(autograd)이 계산합니다. 바뀌는 것은 입력과 모델뿐입니다.
#
# 1. 손으로 만든 특징 + 선형 분류기(``nn.Linear(16, 10)``, 즉 소프트맥스 회귀): 전통적인 머신러닝
# 2. 원시 화소 + 선형 분류기(``nn.Linear(64, 10)``): 학습은 하지만 특징이 전혀 없음
# 3. 원시 화소 + 은닉층 하나(ReLU 유닛 128개)짜리 다층 퍼셉트론(MLP): 은닉층이 특징을 스스로 *학습* 하는
#    종단간 학습


def train(net, X, y, num_epochs, lr=0.01, batch_size=64):
    gradus.manual_seed(0)                                    # 매번 같은 초기 가중치
    opt = optim.Adam(net.parameters(), lr=lr)
    X, y = gradus.tensor(X), gradus.tensor(y)
    order_rng = np.random.default_rng(0)
    for epoch in range(num_epochs):
        for idx in np.array_split(order_rng.permutation(len(y)), len(y) // batch_size):
            idx = gradus.tensor(idx)
            loss = F.cross_entropy(net(X[idx]), y[idx])      # 소프트맥스 + 음의 로그 우도
            opt.zero_grad()
            loss.backward()                                  # 자동 미분: 모든 가중치에 대한 dL/dw
            opt.step()
    return net


def accuracy(net, X, y):
    with gradus.no_grad():
        y_hat = net(gradus.tensor(X)).argmax(dim=1).numpy()
    return float((y_hat == y).mean())


gradus.manual_seed(0)
linear_on_features = train(nn.Linear(16, 10), hand_made_features(X_train), y_train, num_epochs)
gradus.manual_seed(0)
linear_on_pixels = train(nn.Linear(64, 10), X_train, y_train, num_epochs)
gradus.manual_seed(0)
mlp_on_pixels = train(nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)),
                      X_train, y_train, num_epochs)

results = {
    "hand-made features\n+ linear": accuracy(linear_on_features, hand_made_features(X_test), y_test),
    "raw pixels\n+ linear": accuracy(linear_on_pixels, X_test, y_test),
    "raw pixels\n+ MLP (learned features)": accuracy(mlp_on_pixels, X_test, y_test),
}
for name, acc in results.items():
    print(f"{name.replace(chr(10), ' '):<40} test accuracy {acc:.3f}")

fig, ax = plt.subplots(figsize=(7, 3))
bars = ax.bar(list(results), list(results.values()), color=["tab:gray", "tab:blue", "tab:green"])
ax.bar_label(bars, fmt="%.3f")
ax.set_ylim(0.5, 1.0)
ax.set_ylabel("test accuracy")
ax.set_title(f"8x8 digits, {num_epochs} epochs")
fig.tight_layout()

# %%
# 투영 프로파일은 정보를 버립니다. 서로 다른 이미지라도 행 합과 열 합이 같을 수 있고, 그 위에 어떤 분류기를
# 올려도 버려진 정보는 되찾을 수 없습니다. 원시 화소를 쓰는 선형 모델은 정보를 모두 갖고 있지만 화소 공간에
# 초평면밖에 그을 수 없습니다. MLP는 자기만의 특징 128개를 학습해서 그것으로 분류하며, 셋 가운데 가장
# 정확합니다.
#
# 신경망은 무엇을 배웠을까
# ------------------------
# 은닉 유닛 하나는 :math:`\mathrm{ReLU}(w_j \cdot x + b_j)` 를 계산하므로, 그 가중치 벡터 :math:`w_j`
# (숫자 64개)가 곧 특징 검출기이고 8x8 이미지로 그려 볼 수 있습니다. 빨간 화소는 유닛을 흥분시키고 파란
# 화소는 억제합니다. 누구도 이것을 설계하지 않았습니다. 경사 하강법이 찾아낸 것입니다.

W = mlp_on_pixels[0].weight.detach().numpy()                 # (128, 64): 은닉 유닛마다 한 행
fig, axes = plt.subplots(2, 8, figsize=(9, 2.6))
for j, ax in enumerate(axes.flat):
    limit = np.abs(W[j]).max()
    ax.imshow(W[j].reshape(8, 8), cmap="bwr", vmin=-limit, vmax=limit)
    ax.set_axis_off()
fig.suptitle("first-layer weights of 16 hidden units (learned features)")
fig.tight_layout()

# %%
# 깊은 신경망이 이기기까지: 짧은 역사
# -----------------------------------
# 은닉층이 여러 개인 신경망은 오래된 아이디어입니다(오류 역전파는 1986년에 널리 알려졌습니다). 하지만 그 뒤
# 20년 가까이 깊은 신경망은 잘 학습되지 않았습니다. 세 가지가 상황을 바꾸었습니다.
#
# - **경사 소멸(vanishing gradient).** 시그모이드나 tanh 유닛을 쓰면 층을 하나 거꾸로 지날 때마다 역전파되는
#   기울기에 :math:`f'(z) \le 1/4` (시그모이드의 경우)가 곱해지므로, 깊은 신경망의 앞쪽 층은 거의 학습되지
#   않습니다. 층별 사전 학습(2006)이 이 문제를 처음 우회한 방법이었습니다.
# - **ReLU.** :math:`\max(0, z)` 는 유닛이 활성화된 곳에서 도함수가 1이므로 기울기가 여러 층을 그대로
#   통과합니다. ReLU에 좋은 초기화, 그리고 나중에 나온 배치 정규화와 잔차 연결이 더해지면서 깊은 신경망을
#   무작위 초기값에서부터 학습할 수 있게 되었습니다.
# - **GPU와 데이터.** GPU는 행렬 곱셈을 CPU보다 수십 배 빠르게 하므로, 가중치가 수백만 개인 신경망을 수백만
#   장의 이미지로 학습할 수 있게 되었습니다.
#
# 그 경주가 벌어진 곳이 MNIST(28x28 손글씨 숫자, 학습 60,000장, 테스트 10,000장)였습니다.
#
# .. list-table::
#    :header-rows: 1
#
#    * - 결과
#      - 테스트 오류율
#    * - Ciresan 외 2010: 탄성 변형(elastic distortion)으로 데이터를 늘려 GPU에서 학습한 평범한 깊은
#        다층 퍼셉트론(784-2500-2000-1500-1000-500-10)
#      - 0.35%
#    * - Ciresan 외 2012: CNN 35개의 위원회(앙상블)
#      - 0.23%
#
# gradus가 노트북 CPU에서 재현한 결과는 다음과 같습니다. ``benchmarks/RESULTS.md`` 에 기록된 측정값이며,
# ``gradus train <레시피 이름>`` 으로 직접 돌려 볼 수 있습니다.
#
# .. list-table::
#    :header-rows: 1
#
#    * - 레시피
#      - 측정값
#    * - ``mnist-mlp``: 784-1000-1000-10 ReLU, 10 에포크
#      - 테스트 정확도 0.9846
#    * - ``mnist-dmlp``: Ciresan의 784-2500-2000-1500-1000-500-10, 탄성 변형, 10 에포크
#        (논문은 약 800 에포크)
#      - 테스트 정확도 0.9919
#    * - ``mnist-lenet5``: ReLU와 최대 풀링을 쓰는 LeNet-5, 10 에포크
#      - 테스트 정확도 0.9921
#    * - ``mnist-cnn``: 배치 정규화를 쓰는 작은 VGG 스타일 CNN, 6 에포크
#      - 테스트 정확도 0.9937
#
# 모델 코드는 :source:`src/gradus/models/mlp.py` (``mnist_mlp``, ``mnist_dmlp``)와
# :source:`src/gradus/models/lenet.py` 에 있습니다. 다음 페이지는 이야기가 시작된 곳, 뉴런 하나에서
# 출발합니다.
