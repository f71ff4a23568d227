r"""
CNN 구조: LeNet-5에서 ResNet까지
================================

1998년부터 2015년까지 영상 인식 대회를 휩쓴 합성곱 신경망들은 모두 같은 설계를 따릅니다. 합성곱과
풀링으로 영상을 점점 작게 줄이는 동안 특징 맵의 수(채널)는 늘리고, 마지막에 분류기가 그 결과를 읽습니다.
한 세대에서 다음 세대로 넘어갈 때 바뀐 것은 몇 가지 아이디어뿐이며, 그 하나하나가 더 깊은 신경망을
학습할 수 있게 하거나 더 가볍게 만들었습니다.

.. list-table::
   :header-rows: 1

   * - 신경망
     - 새로 도입한 것
     - ImageNet top-5 오류율 (ILSVRC)
   * - LeNet-5 (LeCun 외 1998)
     - 합성곱 + 부분 샘플링 + 완전 연결층을 역전파로 처음부터 끝까지 한 번에 학습
       (손글씨 숫자, 수표 인식)
     - (ImageNet 이전)
   * - AlexNet (Krizhevsky, Sutskever & Hinton 2012)
     - 같은 설계를 대규모로: ReLU, 드롭아웃, 데이터 증강, GPU 두 대로 학습
     - 15.3% (2012년 1위)
   * - VGG (Simonyan & Zisserman 2014)
     - 3×3 합성곱만 16층 또는 19층으로 깊게 쌓음
     - 7.3% (2014년 2위)
   * - GoogLeNet (Szegedy 외 2014)
     - 인셉션 모듈: 1×1, 3×3, 5×5 합성곱과 풀링을 나란히 두고, 1×1 합성곱으로 계산량을 줄이며,
       큰 완전 연결층 대신 전역 평균 풀링을 사용
     - 6.7% (2014년 1위)
   * - ResNet (He 외 2015)
     - 잔차 학습: 블록마다 입력을 출력에 더함, 152층
     - 3.57% (2015년 1위)

크기 계산은 대부분 두 식으로 해결됩니다. 필터 크기 :math:`K`, 패딩 :math:`P`, 보폭 :math:`S` 인 합성곱은
한 변이 :math:`H` 픽셀인 입력을 :math:`H_{out}` 으로 바꾸고, 출력 채널마다 :math:`K\times K\times C_{in}`
필터 하나와 편향 하나를 가집니다.

.. math::

    H_{out} = \left\lfloor \frac{H + 2P - K}{S} \right\rfloor + 1, \qquad
    \#\text{params} = (K^2 C_{in} + 1)\, C_{out}

여기서 VGG의 논리가 나옵니다. 3×3 합성곱 두 개를 쌓으면 5×5 영역을 보는데, 가중치는 :math:`25C^2` 개가 아니라
:math:`2 \cdot 9C^2` 개이고 비선형성은 하나 더 들어갑니다. GoogLeNet의 논리는 이렇습니다. 1×1 합성곱으로
:math:`C_{in}` 을 먼저 몇 개의 채널로 줄여 두면 3×3, 5×5 가지의 계산이 싸집니다. ResNet의 블록은
**잔차** :math:`F(\mathbf x)` (3×3 합성곱-배치 정규화 층 두 개)를 계산하고 입력을 다시 더합니다.

.. math::

    \mathbf y = \operatorname{ReLU}\big(F(\mathbf x) + \mathbf x\big), \qquad
    \frac{\partial L}{\partial \mathbf x} = \frac{\partial L}{\partial \mathbf y'}
    \Big(I + \frac{\partial F}{\partial \mathbf x}\Big) \quad (\mathbf y' = F(\mathbf x) + \mathbf x)

따라서 기울기는 모든 블록을 항등 경로로 통과할 수 있고, 더할 것이 없는 블록은 :math:`F = 0` 을 배우면 됩니다.

다섯 신경망 모두 논문을 따라 작성된 gradus 모델입니다(torchvision에 있는 모델은 그 구성과 매개변수 수까지
같습니다): :source:`src/gradus/models/lenet.py` (``lenet5``, ``lenet5_modern``),
:source:`src/gradus/models/alexnet.py`, :source:`src/gradus/models/vgg.py`,
:source:`src/gradus/models/googlenet.py` (``Inception``), :source:`src/gradus/models/resnet.py`
(``BasicBlock``, ``Bottleneck``, CIFAR용 신경망 ``resnet_cifar`` 와 지름길 연결이 없는 쌍둥이 평범한 망).
층별 표는 ``nn.summary`` (:source:`src/gradus/nn/summary.py`)가 만들고, 학습된 신경망이 배운 것을 보여 주는
그림은 :source:`src/gradus/viz/features.py` 의 도구로 그립니다.
"""

# %%
# 숫자로 보는 모델들
# ------------------
# 각 모델을 만들고 224×224 영상 한 장(LeNet-5는 32×32)에 한 번 실행합니다. ``nn.summary`` 가 순전파 훅으로
# 모든 층의 출력 형상과 매개변수 수를 기록합니다. 매개변수는 합성곱층의 것과 완전 연결층의 것으로 나누어
# 셉니다. (큰 모델을 만들려면 난수를 수천만 개 뽑아야 해서 모델마다 몇 초씩 걸립니다. 그래서 이 사이트의
# 빠른 빌드에서는 LeNet-5와 ResNet-18만 남깁니다.)
import os
import warnings

import matplotlib.pyplot as plt
import numpy as np

import gradus
import gradus.functional as F
from gradus import nn, optim
from gradus.data.datasets import CIFAR10, load_mnist_arrays
from gradus.models import alexnet, googlenet, lenet5, lenet5_modern, resnet18, resnet34, resnet_cifar, vgg16
from gradus.models.googlenet import Inception
from gradus.models.resnet import BasicBlock
from gradus.viz.features import grad_cam

FAST = os.environ.get("GRADUS_DOCS_FAST") == "1"

zoo = {"LeNet-5": (lenet5, 32), "AlexNet": (alexnet, 224), "VGG-16": (vgg16, 224),
       "GoogLeNet": (googlenet, 224), "ResNet-18": (resnet18, 224), "ResNet-34": (resnet34, 224)}
if FAST:
    zoo = {k: v for k, v in zoo.items() if k in ("LeNet-5", "ResNet-18")}


def is_conv(m):
    return isinstance(m, nn.Conv2d)


stats = {}
for name, (build, size) in zoo.items():
    gradus.manual_seed(0)
    net = build()
    table = nn.summary(net, (1, 1 if name == "LeNet-5" else 3, size, size))
    conv_params = sum(p.numel() for m in net.modules() if is_conv(m) for p in m.parameters(recurse=False))
    fc_params = sum(p.numel() for m in net.modules() if isinstance(m, nn.Linear)
                    for p in m.parameters(recurse=False))
    convs = [r for r in table.rows if r.type in ("Conv2d", "MaskedConv2d")]
    # 주 경로: 인셉션 모듈 밖의 모든 합성곱, 그리고 각 모듈의 이어 붙인 출력
    path = [r for r in table.rows
            if r.type == "Inception" or (r.type == "Conv2d" and "inception" not in r.path)]
    stats[name] = dict(total=table.total_params, conv=conv_params, fc=fc_params, n_conv=len(convs),
                       n_fc=sum(isinstance(m, nn.Linear) for m in net.modules()),
                       channels=[r.output_shape[1] for r in path], sides=[r.output_shape[2] for r in path])
    del net

print(f"{'model':<10} {'parameters':>12} {'conv layers':>12} {'fc layers':>10} {'in conv':>8} {'in fc':>8}")
for name, s in stats.items():
    print(f"{name:<10} {s['total']:>12,} {s['n_conv']:>12} {s['n_fc']:>10} "
          f"{s['conv'] / s['total']:>8.1%} {s['fc'] / s['total']:>8.1%}")

fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
names = list(stats)
axes[0].bar(names, [stats[n]["total"] for n in names], color="tab:blue")
axes[0].set_yscale("log")
axes[0].set_title("parameters (log scale)")
axes[1].bar(names, [stats[n]["conv"] / stats[n]["total"] for n in names], label="convolutions")
axes[1].bar(names, [stats[n]["fc"] / stats[n]["total"] for n in names],
            bottom=[stats[n]["conv"] / stats[n]["total"] for n in names], label="fully connected")
axes[1].set_title("where the parameters are")
axes[1].legend(fontsize=8, loc="lower right")
for name in names:
    if name not in ("LeNet-5", "ResNet-34"):                   # ResNet-34 는 ResNet-18 과 같은 경로
        axes[2].plot(stats[name]["sides"], stats[name]["channels"], "o-", markersize=3, label=name)
axes[2].set_xscale("log", base=2)
axes[2].set_yscale("log", base=2)
axes[2].invert_xaxis()
axes[2].set_xlabel("feature-map side along the network (224x224 input)")
axes[2].set_ylabel("channels")
axes[2].set_title("maps shrink, channels grow")
axes[2].legend(fontsize=8)
for ax in axes[:2]:
    ax.tick_params(axis="x", rotation=30)
fig.tight_layout()

# %%
# AlexNet과 VGG는 매개변수 대부분을 첫 번째 완전 연결층에 두고 있습니다(이 층이 256×6×6 또는 512×7×7 크기의
# 특징 덩어리를 통째로 읽기 때문입니다). GoogLeNet과 ResNet은 마지막 특징 맵을 각각 숫자 하나로 평균 내므로
# (전역 평균 풀링) 매개변수가 거의 모두 합성곱에 있습니다. 그래서 GoogLeNet 전체가 훨씬 깊으면서도 AlexNet보다
# 10배쯤 작습니다. (ResNet-18의 합성곱 20개에는 지름길 연결의 1×1 사영 합성곱 세 개가 포함됩니다. 이름의
# "18"은 주 경로에 있는 가중치 층 수이며, 완전 연결층도 하나로 셉니다.)
#
# LeNet-5를 층별로
# ----------------
# 논문에 발표된 신경망을 ``nn.summary`` 로 출력한 것입니다(28×28 숫자 영상은 먼저 32×32로 패딩됩니다).
# C3는 논문의 연결 표를 사용합니다. C3의 각 특징 맵은 S2 맵 가운데 일부만 봅니다. 가중치 텐서에는
# ``16×6×5×5`` 개 항목이 모두 들어 있지만 가려진 항목은 0으로 남으므로, 학습되는 가중치 수는 논문과 같은
# 60,000개입니다.

paper_net = lenet5()
print(nn.summary(paper_net, (1, 1, 28, 28)))
print(f"trainable weights that can be non-zero (the paper's count): {paper_net.num_paper_parameters():,}")

# %%
# VGG의 3×3 쌓기와 GoogLeNet의 1×1 병목
# -------------------------------------
# 두 아이디어 모두 더 넓게 보는 데 드는 비용에 관한 것입니다. GoogLeNet의 모듈 가운데 하나인
# ``inception3a`` 로 직접 세어 봅니다. 이 모듈은 28×28 크기의 192채널을 읽어 256채널을 씁니다. 네 가지 가지
# (채널 수는 논문의 표 1)가 나란히 실행되고, 그 출력을 채널 방향으로 이어 붙입니다.
# (``googlenet()`` 은 torchvision을 따르는데, torchvision의 "5×5" 가지는 실제로는 3×3 필터를 씁니다.
# ``branch3_kernel=5`` 가 논문의 모듈입니다.)

block = Inception(192, 64, 96, 128, 16, 32, 32, branch3_kernel=5)
x = gradus.randn(1, 192, 28, 28)
with gradus.no_grad():
    parts = [block.branch1(x), block.branch2(x), block.branch3(x), block.branch4(x)]
    y = block(x)
for i, part in enumerate(parts, 1):
    print(f"branch{i}: {tuple(part.shape)}")
print(f"concatenated: {tuple(y.shape)}")


def n_params(module):
    return sum(p.numel() for p in module.parameters())


costs = {"Inception 3a\n(1x1 reductions)": n_params(block),
         "one 3x3 conv\n192 -> 256": n_params(nn.Conv2d(192, 256, 3, padding=1)),
         "one 5x5 conv\n192 -> 256": n_params(nn.Conv2d(192, 256, 5, padding=2)),
         "two 3x3 convs\n256 -> 256 (5x5 view)": n_params(nn.Sequential(nn.Conv2d(256, 256, 3, padding=1),
                                                                       nn.Conv2d(256, 256, 3, padding=1))),
         "one 5x5 conv\n256 -> 256": n_params(nn.Conv2d(256, 256, 5, padding=2))}
for name, n in costs.items():
    print(f"{name.replace(chr(10), ' '):<40} {n:>10,} parameters")

fig, ax = plt.subplots(figsize=(9, 3.2))
ax.barh(list(costs), list(costs.values()),
        color=["tab:green", "tab:gray", "tab:gray", "tab:orange", "tab:gray"])
ax.invert_yaxis()
ax.set_xlabel("parameters")
ax.set_title("the cost of seeing a wider window")
fig.tight_layout()

# %%
# 인셉션 모듈은 1×1, 3×3, 5×5 영역을 모두 보면서도, 같은 폭의 평범한 3×3 합성곱 하나보다 매개변수가 훨씬
# 적습니다. 3×3 가지와 5×5 가지가 1×1 합성곱이 만든 96채널과 16채널만 읽기 때문입니다. 3×3 층 두 개를
# 쌓으면 5×5 층 하나와 같은 영역을 보면서 비용은 18/25입니다.
#
# ResNet: 잔차 블록
# -----------------
# ``BasicBlock`` 은 ``relu(bn2(conv2(relu(bn1(conv1(x))))) + x)`` 입니다. 마지막 배치 정규화의 배율을 0으로
# 두면(``zero_init_residual``) 가지 :math:`F` 의 출력이 0이 되어, 음이 아닌 입력(ReLU의 출력)에 대해 블록이
# 정확히 항등 함수가 됩니다. 처음에는 블록을 더 쌓는다고 신경망이 나빠질 수 없다는 뜻입니다.

res_block = BasicBlock(16, 16)
res_block.eval()
nn.init.constant_(res_block.bn2.weight, 0)
x = F.relu(gradus.randn(2, 16, 8, 8))
with gradus.no_grad():
    print("block(x) == x:", bool(np.allclose(res_block(x).numpy(), x.numpy())))

# %%
# 이것이 왜 중요한지는 기울기에서 드러납니다. 평범한 망과 그 잔차 쌍둥이(논문의 CIFAR용 신경망
# ``resnet_cifar(depth, residual=...)``, 옵션 A 지름길이라 두 망의 매개변수가 똑같습니다)를 막 초기화한
# 상태에서, 실제 CIFAR-10 영상 한 배치의 손실을 역전파하고 각 합성곱 가중치의 기울기 노름을 입력 쪽(1층)부터
# 출력 쪽까지 잽니다. (공유 데이터에는 CIFAR-10 훈련 배치 다섯 개 가운데 하나, 10,000장만 있습니다. 데이터가
# 완전하지 않다는 로더의 경고는 여기서는 꺼 둡니다.)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    cifar = CIFAR10(train=True)
mean, std = np.array(cifar.mean, np.float32), np.array(cifar.std, np.float32)
images = ((cifar.data[:32] / np.float32(255) - mean) / std).transpose(0, 3, 1, 2).astype(np.float32)
labels = cifar.targets[:32]
depths = [8, 14] if FAST else [20, 32, 56]
layer_norms = {}
for depth in depths:
    for residual in (False, True):
        gradus.manual_seed(0)
        net = resnet_cifar(depth, residual=residual, width=4)
        F.cross_entropy(net(gradus.tensor(images)), gradus.tensor(labels)).backward()
        norms = [float(np.linalg.norm(m.weight.grad.numpy())) for m in net.modules() if is_conv(m)]
        label = f"{'ResNet' if residual else 'plain'}-{depth}"
        layer_norms[label] = norms
        print(f"{label:<10} ||dL/dW||: conv 1 {norms[0]:8.3g}, last conv {norms[-1]:6.3g}, "
              f"largest / smallest over the layers {max(norms) / min(norms):6.1f}")

fig, ax = plt.subplots(figsize=(7, 3.8))
for name, norms in layer_norms.items():
    colour = f"C{depths.index(int(name.split('-')[1]))}"                 # 깊이마다 한 가지 색
    ax.semilogy(np.arange(1, len(norms) + 1), norms, "--" if name.startswith("plain") else "-",
                color=colour, label=name)
ax.set_xlabel("conv layer (1 = next to the input)")
ax.set_ylabel("||dL/dW|| at initialisation")
ax.set_title("gradient reaching each layer: plain vs residual (CIFAR-10 batch)")
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# 평범한 망에서는 기울기가 마지막 층에서 첫 층으로 가면서 몇 자릿수씩 변하고, 망이 깊을수록 그 차이가
# 커집니다(배치 정규화가 있으면 기울기가 소멸하기보다 입력 쪽으로 갈수록 커지지만, 어느 쪽이든 입력 근처의
# 층과 출력 근처의 층이 전혀 다른 속도로 학습됩니다). 잔차 쌍둥이는 항등 경로 덕분에 모든 층에 비슷한 크기의
# 기울기를 전달합니다.
#
# 그 결과를 학습으로 보여 주는 것이 레시피 ``gradus train depth-plain-vs-residual`` 입니다
# (:source:`src/gradus/recipes/depth-plain-vs-residual.toml`, 실행 코드
# :source:`src/gradus/recipes/runners/depth.py`). 8층, 20층, 32층의 평범한 망과 잔차 망(폭 4/8/16)을 같은
# CIFAR-10 영상 1,000장, 같은 시드, 같은 예산(16 에포크 = SGD 256스텝)으로 학습합니다. 10분쯤 걸려서 이
# 페이지에서 돌리기에는 너무 깁니다. ``benchmarks/RESULTS.md`` 에 기록된 최종 훈련 오차(괄호 안은 테스트
# 오차)는 다음과 같습니다.
#
# .. list-table::
#    :header-rows: 1
#
#    * - 깊이
#      - 평범한 망
#      - 잔차 망
#    * - 8
#      - 0.579 (0.618)
#      - 0.581 (0.626)
#    * - 20
#      - 0.537 (0.724)
#      - 0.354 (0.612)
#    * - 32
#      - 0.606 (0.724)
#      - 0.336 (0.606)
#
# 잔차 망은 깊을수록 훈련 집합을 더 잘 맞추고, 평범한 망에서는 가장 깊은 망이 가장 나쁩니다. 이것이 He 외가
# 말한 **성능 저하 문제** 입니다. 더 깊은 평범한 망은 *훈련* 오차부터 높으므로 과적합이 아니라 최적화의
# 실패이고, 지름길 연결이 이것을 고칩니다.
#
# 층들은 무엇을 배우는가
# ----------------------
# 이제 학습된 신경망을 봅니다. 현대식 LeNet-5(``lenet5_modern``: ReLU, 최대 풀링, 선형 출력층. 레시피
# ``mnist-lenet5`` 의 모델)를 표준화한 MNIST 숫자로 Adam을 써서 짧게 학습합니다.

Xtrain, ytrain = load_mnist_arrays(train=True, flatten=False, standardize=True)
Xtest, ytest = load_mnist_arrays(train=False, flatten=False, standardize=True)
steps, batch = (15, 64) if FAST else (600, 64)
gradus.manual_seed(0)
lenet = lenet5_modern(pad_value=float((0 - 0.1307) / 0.3081))   # 배경 값으로 패딩
opt = optim.Adam(lenet.parameters(), lr=2e-3)
rng = np.random.default_rng(0)
for _ in range(steps):
    idx = rng.integers(0, len(Xtrain), batch)
    loss = F.cross_entropy(lenet(gradus.tensor(Xtrain[idx])), gradus.tensor(ytrain[idx]))
    opt.zero_grad()
    loss.backward()
    opt.step()
lenet.eval()
n_test = 1000 if FAST else 10000
with gradus.no_grad():
    predicted = np.concatenate([lenet(gradus.tensor(Xtest[i:i + 1000])).argmax(dim=1).numpy()
                                for i in range(0, n_test, 1000)])
accuracy = (predicted == ytest[:n_test]).mean()
print(f"{steps} steps of {batch} images ({steps * batch:,} digits seen), last training loss "
      f"{loss.item():.3f}: test accuracy {accuracy:.4f} on {n_test:,} test digits")

# %%
# 레시피 ``gradus train mnist-lenet5`` 는 같은 신경망을 전체 데이터로 10 에포크 학습하며,
# ``benchmarks/RESULTS.md`` 에 기록된 테스트 정확도는 0.9921입니다.
#
# 첫 층의 5×5 필터 여섯 개와, 테스트 숫자 하나를 각 층이 어떻게 바꾸는지 봅니다. C1 특징 맵 여섯 개(28×28)와
# C3 특징 맵 열여섯 개(10×10)를 ``nn.summary`` 와 같은 방식으로 순전파 훅을 걸어 붙잡습니다. 필터는 작은
# 틀(템플릿)이고, 특징 맵은 영상이 그 틀과 맞는 곳(한 방향의 획, 한쪽 가장자리)에서 밝습니다.

captured = {}
hooks = [lenet.c1.register_forward_hook(lambda m, inp, out: captured.update(C1=out.numpy()[0])),
         lenet.c3.register_forward_hook(lambda m, inp, out: captured.update(C3=out.numpy()[0]))]
digit = Xtest[0]
with gradus.no_grad():
    lenet(gradus.tensor(digit[None]))
for h in hooks:
    h.remove()

filters = lenet.c1[0].weight.detach().numpy()[:, 0]             # (6, 5, 5)


def montage(maps, columns):
    """(n, h, w) maps -> one image, a grid of `columns` tiles, each scaled to [0, 1], 1-pixel gaps."""
    n, h, w = maps.shape
    rows = -(-n // columns)
    grid = np.full((rows * (h + 1) - 1, columns * (w + 1) - 1), np.nan)
    for k, m in enumerate(maps):
        r, q = divmod(k, columns)
        span = max(m.max() - m.min(), 1e-12)
        grid[r * (h + 1):r * (h + 1) + h, q * (w + 1):q * (w + 1) + w] = (m - m.min()) / span
    return grid


fig, axes = plt.subplots(1, 4, figsize=(12, 2.8), gridspec_kw={"width_ratios": [1, 2.2, 2.2, 3]})
axes[0].imshow(digit[0], cmap="gray")
axes[0].set_title(f"test digit ({ytest[0]})", fontsize=9)
axes[1].imshow(montage(filters, 3), cmap="gray")
axes[1].set_title("the 6 C1 filters (5x5)", fontsize=9)
axes[2].imshow(montage(captured["C1"], 3), cmap="viridis")
axes[2].set_title("C1 feature maps (6 @ 28x28)", fontsize=9)
axes[3].imshow(montage(captured["C3"], 8), cmap="viridis")
axes[3].set_title("C3 feature maps (16 @ 10x10)", fontsize=9)
for ax in axes:
    ax.set_axis_off()
fig.tight_layout()

# %%
# Grad-CAM: 근거가 있는 곳
# ------------------------
# Grad-CAM(Selvaraju 외 2017)은 마지막 합성곱 특징 맵의 어느 위치가 클래스 :math:`c` 를 지지하는지 묻습니다.
# 특징 맵의 채널을 :math:`A_k`, 클래스 점수(로짓)를 :math:`y_c` 라 하면
#
# .. math::
#
#     \alpha_k = \frac{1}{hw} \sum_{i,j} \frac{\partial y_c}{\partial A_k[i, j]}, \qquad
#     L_c = \operatorname{ReLU}\Big(\sum_k \alpha_k A_k\Big)
#
# 입니다. 먼저 gradus의 자동 미분으로 C3 합성곱의 출력(16×10×10, ReLU 이전)에서 직접 계산하고, 이어서
# ``gradus.viz.features.grad_cam`` 을 씁니다. 이 함수는 같은 계산을 한 뒤 10×10 맵의 각 칸을 그 칸이 보는 입력
# 픽셀 위에 옮겨 놓습니다.

acts = {}
hook = lenet.c3[0].register_forward_hook(lambda m, inp, out: acts.update(A=out))
with gradus.enable_grad():
    scores = lenet(gradus.tensor(digit[None]))
hook.remove()
c = int(scores.numpy()[0].argmax())
(dA,) = gradus.autograd.grad(scores[0, c], [acts["A"]])
alpha = dA.numpy()[0].mean(axis=(1, 2))                          # (16,) 채널별 중요도
cam_by_hand = np.maximum((alpha[:, None, None] * acts["A"].numpy()[0]).sum(0), 0)
print(f"predicted class {c}; the 4 most important C3 channels: {np.argsort(-alpha)[:4]}")

examples = [int(np.flatnonzero(ytest[:n_test] == d)[0]) for d in (0, 2, 3, 7)]
fig, axes = plt.subplots(1, 2 + len(examples), figsize=(12, 2.6))
axes[0].imshow(digit[0], cmap="gray")
axes[0].set_title(f"digit, predicted {c}", fontsize=8)
axes[1].imshow(cam_by_hand, cmap="jet")
axes[1].set_title("by hand: C3 map (10x10)", fontsize=8)
for ax, i in zip(axes[2:], examples):
    heat = grad_cam(lenet, Xtest[i])                          # (28, 28), [0, 1] 범위, 예측한 클래스 기준
    ax.imshow(Xtest[i, 0], cmap="gray")
    ax.imshow(heat, cmap="jet", alpha=0.5, vmin=0, vmax=1)
    ax.set_title(f"grad_cam: {ytest[i]} read as {predicted[i]}", fontsize=8)
for ax in axes:
    ax.set_axis_off()
fig.tight_layout()

# %%
# 열(heat)은 획 위의 몇 군데, 곧 C3의 특징이 예측한 클래스를 가장 강하게 지지하는 곳에 모이고, 배경에는
# 없습니다.
# C3는 LeNet-5에서 아직 "어디"가 남아 있는 마지막 특징 맵이므로(C5는 1×1), 패딩된 숫자의 14×14 조각을 보는
# 10×10 칸이 Grad-CAM이 줄 수 있는 해상도입니다. 이 페이지를 한 줄로 요약하면 이렇습니다. 합성곱은 국소적인
# 틀을 배우고, 깊은 층은 그것들을 조합하며, 위의 구조들은 "이런 층을 많이 쌓고도 어떻게 학습시킬 것인가"라는
# 하나의 질문에 대한 서로 다른 답입니다.
