r"""
합성곱, 패딩, 풀링
==========================

완전 연결층은 모든 출력이 모든 입력에 대해 저마다의 가중치를 갖습니다. 영상에 쓰기에는 낭비가 크고, 영상의
구조도 보지 못합니다. 획 하나는 그림의 어디에 있든 같은 뜻이고, 한 화소의 의미는 주로 이웃 화소들이 정합니다.
**합성곱층** 은 이 두 가지 사실을 구조에 그대로 담습니다. 각 출력은 입력의 작은 창(window)만 보고(**희소
연결**), 모든 창에 같은 작은 **필터 (커널)** 를 씁니다(**가중치 공유**). 필터를 입력 위로 밀면서 위치마다
내적을 계산하면 **특징 맵** 이 나옵니다.

.. math::

    y_{o}[i, j] = b_o + \sum_{c=1}^{C} \sum_{u=0}^{K-1} \sum_{v=0}^{K-1}
    w_{o,c}[u, v]\; x_c[\,iS + u - P,\; jS + v - P\,]

여기서 :math:`o` 는 출력 채널, :math:`c` 는 입력 채널, 필터 크기는 :math:`K \times K`, :math:`S` 는 **보폭
(스트라이드)** (창이 한 번에 움직이는 거리), :math:`P` 는 **패딩** (입력 둘레에 덧붙이는 행과 열의 수)입니다.
엄밀히 말하면 이 식은 교차 상관입니다(수학의 합성곱은 필터를 뒤집습니다). 딥러닝에서는 이것을 합성곱이라고
부르며, 필터를 학습하므로 뒤집든 말든 차이가 없습니다. 한 변이 :math:`H` 화소인 입력의 출력 크기는 다음과
같습니다.

.. math::

    H_{\text{out}} = \left\lfloor \frac{H + 2P - K}{S} \right\rfloor + 1 .

gradus는 이 합을 행렬 곱 하나로 계산합니다. 창들을 행렬의 열로 펼친 뒤(**im2col**) 필터와 곱합니다
(``F.conv2d`` 와 ``F.conv1d`` 는 :source:`src/gradus/functional/conv.py`, 창의 기하 구조·패딩·im2col은
:source:`src/gradus/functional/window.py`, 계층 ``nn.Conv1d`` / ``nn.Conv2d`` 는
:source:`src/gradus/nn/conv.py` 에 있습니다). 0이 아닌 값으로 채우는 패딩은 ``F.pad``
(:source:`src/gradus/ops/movement.py`)를 거칩니다. **풀링** (:source:`src/gradus/functional/pooling.py`,
:source:`src/gradus/nn/pooling.py`)은 창마다 최댓값이나 평균 하나로 요약하며, 가중치가 전혀 없습니다. 두 극단
사이에 있는 **부분 연결층** (국소적인 창, 가중치 공유 없음)은 :source:`src/gradus/functional/patches.py` 의
``F.locally_connected2d`` 와 :source:`src/gradus/nn/locally_connected.py` 의 ``nn.LocallyConnected2d`` 입니다.
"""

# %%
# 창을 밀며 구하는 내적
# ------------------------------
# 5 x 5 입력과 3 x 3 필터로 시작합니다. 먼저 위의 식을 이중 반복문으로 그대로 계산하고, 다음으로 ``F.conv2d``
# 로 계산합니다(입력의 형상은 ``(N, C, H, W)``, 가중치의 형상은 ``(출력 채널, 입력 채널, K, K)``).
import os

import matplotlib.pyplot as plt
import numpy as np

import gradus
import gradus.functional as F
from gradus import nn
from gradus.data.datasets import load_mnist_arrays

FAST = os.environ.get("GRADUS_DOCS_FAST") == "1"   # 이 페이지는 어느 쪽이든 빠름

x = np.random.default_rng(0).integers(0, 10, (5, 5)).astype(np.float32)
w = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=np.float32)
by_hand = np.array([[np.sum(w * x[i:i + 3, j:j + 3]) for j in range(3)] for i in range(3)])
by_gradus = F.conv2d(gradus.tensor(x).reshape(1, 1, 5, 5), gradus.tensor(w).reshape(1, 1, 3, 3))
print("by the formula:\n", by_hand)
print("F.conv2d:\n", by_gradus.numpy()[0, 0])
print("max |difference|:", np.abs(by_hand - by_gradus.numpy()[0, 0]).max())

# %%
# 패딩 없이 보폭 1이면 3 x 3 창은 5화소 입력의 각 변을 따라 3곳에 들어가므로 특징 맵은 3 x 3입니다. 이
# 필터(소벨 필터, 뒤에서 다시 나옵니다)는 창의 왼쪽 열이 오른쪽 열보다 밝은 곳에서 큰 값을 냅니다.
#
# 보폭, 패딩, 출력 크기
# --------------------------
# 28 x 28 입력(MNIST 숫자 한 장)에 대해 위의 공식과 ``F.conv2d`` 가 실제로 돌려주는 형상을 비교합니다. 패딩
# :math:`P = (K - 1)/2` 는 크기를 그대로 유지하고("same" 패딩), 보폭 2는 크기를 절반으로 줄입니다.

image = gradus.zeros(1, 1, 28, 28)
for K, S, P in [(3, 1, 0), (3, 1, 1), (5, 1, 0), (5, 1, 2), (3, 2, 1), (5, 2, 0), (7, 3, 3)]:
    formula = (28 + 2 * P - K) // S + 1
    shape = F.conv2d(image, gradus.ones(1, 1, K, K), stride=S, padding=P).shape
    print(f"K={K} S={S} P={P}:  floor((28 + 2*{P} - {K}) / {S}) + 1 = {formula:2d}   "
          f"F.conv2d -> {tuple(shape)}")

# %%
# 0 패딩과 가장자리 패딩
# ----------------------------
# **0 패딩 (제로 패딩)** (``padding_mode="zeros"``, 기본값)은 입력 둘레를 0으로 채웁니다. 그러면 가장자리
# 근처의 창은 존재하지 않는 화소까지 평균에 넣게 되어, 평활화 필터를 쓰면 가장자리가 어두워집니다. **가장자리
# 패딩 (복제 패딩)** (``padding_mode="replicate"``)은 0 대신 경계의 값을 반복해서 채웁니다. 평평하다가 경사가
# 지는 1차원 신호에 폭 3짜리 평균 필터를 ``F.conv1d`` 로 적용해 봅니다.

ramp = gradus.tensor([[[4.0, 4.0, 4.0, 4.0, 5.0, 6.0, 7.0]]])   # (N, C, L): 평평하다가 경사
average = gradus.full((1, 1, 3), 1 / 3)
for mode in ["zeros", "replicate", "reflect", "circular"]:
    out = F.conv1d(ramp, average, padding=1, padding_mode=mode)
    print(f"{mode:>9}: {np.round(out.numpy()[0, 0], 3)}")
print("F.pad replicate:", F.pad(ramp, (1, 1), mode="replicate").numpy()[0, 0])

# %%
# 안쪽에서는 어느 모드든 이웃 세 값의 평균을 내므로 결과가 같고, 양 끝의 두 값만 모드에 따라 달라집니다. 0
# 패딩은 끝값을 0 쪽으로 끌어내립니다(왼쪽 끝의 평평한 4가 2.667이 됩니다). 복제 패딩은 평평한 영상을 경계까지
# 평평하게 유지하고(4), 경사의 마지막 값을 연장합니다. reflect는 안쪽 값을 거울처럼 비추고, circular는 반대쪽
# 끝에서 값을 가져옵니다. 계층에서는 ``nn.Conv2d(..., padding_mode="replicate")`` 가 같은 일을 합니다.
#
# 풀링
# ------
# 풀링층은 창 하나를 숫자 하나로 바꿉니다. 보통 보폭을 창 크기와 같게 해서 창이 겹치지 않게 합니다. **최대
# 풀링** 은 가장 강한 반응을, **평균 풀링** 은 평균을 남깁니다. 2 x 2 풀링은 각 변을 절반으로 줄이며
# 매개변수가 없습니다. 창의 최댓값은 강한 반응이 창 안의 *어디에* 있었는지 따지지 않으므로, 풀링을 거친 출력은
# 작은 이동에 조금 둔감해집니다.

a = gradus.tensor([[1.0, 3.0, 2.0, 0.0],
                   [4.0, 2.0, 1.0, 1.0],
                   [0.0, 1.0, 5.0, 6.0],
                   [2.0, 2.0, 7.0, 8.0]]).reshape(1, 1, 4, 4)
print("max pool 2x2:\n", F.max_pool2d(a, 2).numpy()[0, 0])
print("average pool 2x2:\n", F.avg_pool2d(a, 2).numpy()[0, 0])
print("parameters of nn.MaxPool2d(2):", sum(p.numel() for p in nn.MaxPool2d(2).parameters()))

# %%
# 완전 연결, 부분 연결, 합성곱
# --------------------------------------
# 강의의 예제입니다. 5화소짜리 1차원 입력, 출력 5개, 창 크기 3. **완전 연결층** 은 각 출력을 입력 5개 모두와
# 연결하므로 가중치가 :math:`5 \times 5 = 25` 개입니다. **부분 연결층** 은 각 출력을 자기 창 안의 입력 3개와만
# 연결하고, 가중치는 출력마다 따로 둡니다. 안쪽 출력 3개는 연결이 3개씩이고 양 끝의 출력 2개는 창이 입력
# 밖으로 삐져나가므로 2개씩이어서, 가중치는 :math:`3 \cdot 3 + 2 \cdot 2 = 13` 개입니다. **합성곱층** 은 모든
# 위치에서 같은 가중치 3개를 씁니다. 가중치는 3개입니다. 세 가지를 모두 gradus 모듈로 만들고 매개변수 수를
# 세어 봅니다(가중치만 세도록 편향은 뺍니다). 1 x 5 영상에 1 x 3 창, 패딩 1을 쓴 ``nn.LocallyConnected2d`` 는
# 5개 위치마다 가중치 3개짜리 필터를 저장하므로 숫자 15개를 갖습니다. 그중 2개는 양 끝에서 0 패딩과 곱해져서
# 기울기를 한 번도 받지 못하므로, 정확히 강의의 13개가 남습니다.

gradus.manual_seed(0)
fully = nn.Linear(5, 5, bias=False)
local = nn.LocallyConnected2d(1, 1, input_size=(1, 5), kernel_size=(1, 3), padding=(0, 1), bias=False)
conv = nn.Conv1d(1, 1, kernel_size=3, padding=1, bias=False)
layers = {
    "fully connected": lambda v: fully(v),
    "locally connected": lambda v: local(v.reshape(-1, 1, 1, 5)).reshape(-1, 5),
    "convolutional": lambda v: conv(v.reshape(-1, 1, 5)).reshape(-1, 5),
}
modules = {"fully connected": fully, "locally connected": local, "convolutional": conv}

signal = gradus.randn(1, 5)
local(signal.reshape(1, 1, 1, 5)).sum().backward()
used = int((local.weight.grad.numpy() != 0).sum())
for name, module in modules.items():
    print(f"{name:>17}: {sum(p.numel() for p in module.parameters()):2d} parameters "
          f"{tuple(p.shape for p in module.parameters())}")
print(f"locally connected: {used} of its {local.weight.numel()} weights touch a real input pixel")

# %%
# 여기서 각 계층은 선형이므로 입력에서 출력으로 가는 5 x 5 행렬 하나로 쓸 수 있습니다. 그 행렬의 열은 입력
# :math:`e_1, \dots, e_5` 에 대한 출력입니다. 세 행렬을 그려 보면 세 가지 생각이 한눈에 보입니다. 완전
# 연결층의 행렬은 꽉 차 있고, 부분 연결층의 행렬은 성분 13개짜리 띠인데 값이 모두 다릅니다. 합성곱층의 행렬은
# 같은 띠(연결 13개)에 같은 값 3개가 대각선을 따라 반복됩니다.

fig, axes = plt.subplots(1, 3, figsize=(10, 3.4))
with gradus.no_grad():
    for ax, (name, layer) in zip(axes, layers.items()):
        matrix = layer(gradus.eye(5)).numpy().T                # 행 = 출력, 열 = 입력
        connections = int((np.abs(matrix) > 0).sum())
        distinct = len(np.unique(np.round(matrix[matrix != 0], 6)))
        ax.imshow(np.where(matrix == 0, np.nan, matrix), cmap="coolwarm", vmin=-1, vmax=1)
        for (i, j), value in np.ndenumerate(matrix):
            if value != 0:
                ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7)
        ax.set_title(f"{name}\n{connections} connections, {distinct} distinct weights", fontsize=9)
        ax.set_xticks(range(5), [f"x{k + 1}" for k in range(5)])
        ax.set_yticks(range(5), [f"y{k + 1}" for k in range(5)])
        print(f"{name:>17}: {connections} connections, {distinct} distinct weights")
fig.subplots_adjust(left=0.04, right=0.99, bottom=0.08, top=0.84, wspace=0.25)

# %%
# 영상 크기에서는 차이가 극적입니다. 28 x 28 맵 하나에서 28 x 28 맵 하나로, 3 x 3 창과 "same" 패딩을 쓰면
# 다음과 같습니다.

sizes = {
    "fully connected": nn.Linear(28 * 28, 28 * 28, bias=False),
    "locally connected": nn.LocallyConnected2d(1, 1, input_size=(28, 28), kernel_size=3, padding=1,
                                               bias=False),
    "convolutional": nn.Conv2d(1, 1, kernel_size=3, padding=1, bias=False),
}
for name, module in sizes.items():
    print(f"{name:>17}: {sum(p.numel() for p in module.parameters()):>7,} weights")

# %%
# 합성곱은 가중치 9개로 버티는 대신 한 가지를 가정합니다. 한 곳에서 찾을 가치가 있는 것은 어디서든 찾을 가치가
# 있다는 가정입니다. 입력을 옮기면 특징 맵도 함께 옮겨지며(**평행 이동 등변성**), 경계에서 떨어진 곳에서는
# 정확히 그렇습니다(``np.roll`` 은 반대쪽으로 값을 돌려 넣으므로, 바깥쪽 4개의 행과 열은 비교에서 뺍니다).

digits, labels = load_mnist_arrays(train=False, flatten=False)  # (10000, 1, 28, 28), 값은 [0, 1]
digit = gradus.tensor(digits[:1])
shifted = gradus.tensor(np.roll(digits[:1], shift=(2, 3), axis=(2, 3)))   # 아래로 2, 오른쪽으로 3
kernel = gradus.randn(1, 1, 3, 3)
maps = F.conv2d(digit, kernel, padding=1).numpy()
maps_of_shifted = F.conv2d(shifted, kernel, padding=1).numpy()
inner = (..., slice(4, -4), slice(4, -4))
print("max |conv(shift(x)) - shift(conv(x))| away from the border =",
      np.abs(maps_of_shifted - np.roll(maps, shift=(2, 3), axis=(2, 3)))[inner].max())

# %%
# 실제 숫자 영상에 에지 필터 적용하기
# ------------------------------------------
# 필터를 학습하기 전에는 사람이 설계했습니다. **소벨** 필터는 밝기의 가로 방향, 세로 방향 미분을 어림하므로
# 세로 에지와 가로 에지에 반응합니다(어두운 쪽에서 밝은 쪽인지, 그 반대인지에 따라 부호가 다릅니다).
# **라플라시안** 은 방향과 상관없이 에지에 반응합니다(2차 미분이므로 평평한 곳과 일정한 경사에서는 0입니다). 3
# x 3 평균 필터는 영상을 흐리게 합니다. 필터 네 개는 형상 ``(4, 1, 3, 3)`` 인 가중치 텐서 하나이므로,
# ``F.conv2d`` 를 한 번 호출하면 첫 번째 테스트 숫자의 특징 맵 네 장이 나옵니다. CNN의 한 층처럼 그 뒤에
# ReLU와 2 x 2 최대 풀링을 붙입니다.

sobel_x = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=np.float32)
filters = {
    "Sobel x (vertical edges)": sobel_x,
    "Sobel y (horizontal edges)": sobel_x.T.copy(),
    "Laplacian (all edges)": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=np.float32),
    "mean 3x3 (blur)": np.full((3, 3), 1 / 9, dtype=np.float32),
}
bank = gradus.tensor(np.stack(list(filters.values()))[:, None])        # (4, 1, 3, 3)
feature_maps = F.conv2d(digit, bank, padding=1)                           # (1, 4, 28, 28)
pooled = F.max_pool2d(F.relu(feature_maps), 2)                            # (1, 4, 14, 14)
print("digit", tuple(digit.shape), "label", labels[0], "-> feature maps", tuple(feature_maps.shape),
      "-> ReLU + max pool", tuple(pooled.shape))

fig, axes = plt.subplots(2, 5, figsize=(11, 4.8))
axes[0, 0].imshow(digits[0, 0], cmap="gray")
axes[0, 0].set_title(f"MNIST test digit ({labels[0]})", fontsize=8)
axes[1, 0].imshow(F.max_pool2d(digit, 2).numpy()[0, 0], cmap="gray")
axes[1, 0].set_title("the digit, max pool 2x2", fontsize=8)
for k, name in enumerate(filters):
    fmap = feature_maps.numpy()[0, k]
    limit = np.abs(fmap).max()
    axes[0, k + 1].imshow(fmap, cmap="coolwarm" if k < 3 else "gray",
                          vmin=-limit if k < 3 else 0, vmax=limit)
    axes[0, k + 1].set_title(name, fontsize=8)
    axes[1, k + 1].imshow(pooled.numpy()[0, k], cmap="gray")
    axes[1, k + 1].set_title("ReLU + max pool 2x2 (14x14)", fontsize=8)
for ax in axes.ravel():
    ax.set_axis_off()
fig.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=0.93, wspace=0.08, hspace=0.18)

# %%
# 빨간색은 양의 반응, 파란색은 음의 반응입니다. 두 소벨 맵은 각자의 방향을 가로지르는 에지에서 밝아지고, 획의
# 양쪽에서 부호가 반대입니다. ReLU는 그중 한쪽만 남기고, 풀링된 맵은 획의 배치를 4분의 1 크기로 간직합니다.
# CNN은 이런 필터를 데이터에서 스스로 학습합니다. 학습된 신경망의 첫 층에는 대개 나름의 에지 검출기와 얼룩
# 검출기가 생기고, 그 위의 층들이 이것들을 결합합니다. 다음 페이지의 LeNet-5가 그렇습니다.
# ``benchmarks/RESULTS.md`` 에 따르면 ``gradus train mnist-lenet5`` (합성곱 + 풀링 두 단계와 완전 연결층 세
# 개)는 10 에포크 뒤 MNIST 테스트 정확도 0.9921에 도달합니다.
