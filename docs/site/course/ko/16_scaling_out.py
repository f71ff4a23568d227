r"""
규모 확장: MPI 데이터 병렬 처리와 GPU
=====================================

학습의 한 스텝은 미니배치 평균 손실의 기울기를 구하는 일입니다. 프로세서 하나로 너무 느릴 때 여러 개를 쓰는
가장 간단한 방법이 **데이터 병렬 처리** 입니다. 프로세스 :math:`N` 개(**랭크** :math:`0, \dots, N-1`,
프로세스 수 :math:`N` 이 **월드 크기**)를 띄우고, 각 프로세스에 모델 전체의 복사본과 매 배치의 서로 다른
:math:`1/N` 을 나눠 줍니다. 각자 자기 몫(샤드)의 기울기를 계산한 뒤, 갱신하기 전에 **기울기를 평균** 합니다.
이 평균이 **올리듀스** 입니다. 올리듀스는 모든 랭크가 함께 참여하는 집합 통신으로, 끝나면 모든 랭크가 전체
랭크 배열의 합(또는 평균)을 갖게 됩니다. 그러면 모든 랭크가 같은 기울기로 같은 옵티마이저 스텝을 밟으므로
복사본들은 계속 똑같이 유지되고, 결과는 프로세스 하나가 모든 일을 한 것과 같습니다.

왜 같을까요? 표본 :math:`B` 개로 이루어진 전체 배치 :math:`\mathcal B` 를 :math:`B/N` 개씩의 샤드
:math:`\mathcal B_r` 로 나누고, 손실을 표본들에 대한 평균으로 두면 다음 식이 성립합니다.

.. math::

    \nabla_\theta \frac{1}{B} \sum_{i \in \mathcal B} \ell_i(\theta)
    = \frac{1}{N} \sum_{r=0}^{N-1} g_r, \qquad
    g_r = \nabla_\theta \frac{1}{B/N} \sum_{i \in \mathcal B_r} \ell_i(\theta)
    \quad \text{(rank } r\text{'s gradient)}

반올림 오차를 빼면 정확한 항등식입니다. 단, 샤드의 크기가 모두 같아야 하고, 배치 안의 표본들을 서로 섞는
층이 없어야 합니다. 배치 정규화는 표본을 섞습니다. 통계를 동기화하지 않으면 각 랭크가 자기 샤드의 평균과
분산으로 정규화하기 때문입니다.

gradus는 이것을 PyTorch와 같은 이름으로, ``mpi4py`` 를 통해 MPI 위에 구현합니다.
:source:`src/gradus/distributed/process_group.py` (``init_process_group``, ``get_rank``, ``get_world_size``,
``all_reduce``, ``broadcast``, ``all_gather``, ``barrier``), :source:`src/gradus/distributed/ddp.py`
(``DistributedDataParallel``: 생성할 때 랭크 0의 가중치를 브로드캐스트하고, 역전파 도중 기울기를 버킷 단위로
평균함), :source:`src/gradus/distributed/sampler.py` (``DistributedSampler``: 랭크마다 겹치지 않는 데이터
몫을 주는 분산 샘플러), :source:`src/gradus/distributed/sync_batchnorm.py` (``SyncBatchNorm``: 동기화 배치
정규화)가 그 코드입니다. 설계, 비용 모델, 측정 결과는 :source:`docs/distributed.md` 에 있습니다. 페이지
끝에서 다루는 GPU 백엔드는 :source:`src/gradus/backend.py` 에 있습니다.
"""

# %%
# 월드 크기 1
# -----------
# ``mpiexec`` 없이 실행한 스크립트는 프로세스가 하나뿐인 월드입니다. 이때 ``init_process_group()`` 은 MPI가
# 필요 없고, 모든 집합 통신은 항등 연산이며, ``DistributedDataParallel`` 은 감싼 모듈 그대로입니다. 그래서
# 같은 스크립트가 노트북에서도 클러스터에서도 돌아갑니다(그룹에서 나올 때는 ``destroy_process_group()``).
# ``DistributedSampler`` 에는 아무 랭크의 몫이나 직접 물어볼 수 있습니다. 에포크의 순서는 순열 하나(시드가
# 같으므로 모든 랭크에서 같음)이고, 랭크 :math:`r` 은 :math:`r` 번째 인덱스부터 :math:`N` 개마다 하나씩
# 가져갑니다.
import os

import matplotlib.pyplot as plt
import numpy as np

import gradus
import gradus.distributed as dist
import gradus.functional as F
from gradus import optim
from gradus.data.datasets import load_mnist_arrays
from gradus.models.lenet import lenet5_modern
from gradus.models.mlp import MLP, mnist_mlp

FAST = os.environ.get("GRADUS_DOCS_FAST") == "1"

dist.init_process_group()
print(f"rank {dist.get_rank()} of a world of {dist.get_world_size()}; "
      f"mpi4py installed (multi-process runs possible): {dist.is_available()}")
t = gradus.tensor([1.0, 2.0, 3.0])
dist.all_reduce(t, op=dist.ReduceOp.SUM)                       # 제자리 연산; 월드 크기 1에서는 항등 연산
print("all_reduce in a world of one:", t)
gradus.manual_seed(0)
net = MLP([784, 64, 10])
ddp = dist.DistributedDataParallel(net)
print("DistributedDataParallel wraps", type(ddp.module).__name__, "; its parameters are the module's:",
      all(a is b for a, b in zip(ddp.parameters(), net.parameters())))
for rank in range(2):
    shard = dist.DistributedSampler(range(10), num_replicas=2, rank=rank, shuffle=True, seed=0)
    print(f"DistributedSampler, 10 samples, rank {rank} of 2:", list(shard))
dist.destroy_process_group()                     # 그룹에서 나옴 (사이트는 모든 페이지를 한 프로세스에서 실행)

# %%
# 두 샤드의 평균은 전체 배치와 같다
# ---------------------------------
# 이제 위의 항등식을 실제 데이터로 확인합니다. MNIST 테스트 이미지 128장을 전체 배치로 삼고, 반올림 오차가
# 아무것도 가리지 않도록 float64 다층 퍼셉트론과 자동 미분을 씁니다. 전체 배치의 기울기를 :math:`N` 개 샤드
# 기울기의 평균과 비교합니다. 샤드는 ``DistributedSampler`` 처럼 :math:`N` 번째 표본마다 하나씩 골라 만들고,
# :math:`N = 1, 2, 4, 8` 을 모두 해 봅니다. 이어서 틀리게 하는 두 가지 경우를 봅니다. 크기가 다른
# 샤드(96개와 32개)를 같은 크기인 것처럼 평균하는 경우, 그리고 각 샤드가 자기 통계를 따로 계산하는 배치
# 정규화 신경망입니다.

X_all, y_all = load_mnist_arrays(train=False)                  # 이미지 10,000장, (N, 784), 값은 [0, 1]
B = 128
X, y = gradus.tensor(X_all[:B], dtype=gradus.float64), gradus.tensor(y_all[:B])


def gradients(model, X, y):
    """The gradient of the mean cross-entropy over (X, y), one NumPy array per parameter."""
    model.zero_grad()
    F.cross_entropy(model(X), y).backward()
    return [p.grad.numpy().copy() for p in model.parameters()]


def max_difference(grads_a, grads_b):
    return max(np.abs(a - b).max() for a, b in zip(grads_a, grads_b))


gradus.manual_seed(0)
model = MLP([784, 128, 10]).double()
full = gradients(model, X, y)
print(f"MLP 784-128-10, global batch {B}; largest |gradient entry| {max(np.abs(g).max() for g in full):.3f}")
for N in (1, 2, 4, 8):
    shards = [gradients(model, X[r::N], y[r::N]) for r in range(N)]   # 랭크 r 의 표본 B/N 개
    average = [np.mean(per_rank, axis=0) for per_rank in zip(*shards)]  # all_reduce(AVG) 가 돌려주는 값
    print(f"N = {N}: max |average of the {N} shard gradients - full-batch gradient| = "
          f"{max_difference(average, full):.1e}")

unequal = [gradients(model, X[:96], y[:96]), gradients(model, X[96:], y[96:])]
naive = [(a + b) / 2 for a, b in zip(*unequal)]
weighted = [(96 * a + 32 * b) / 128 for a, b in zip(*unequal)]
print(f"shards of 96 and 32: plain average off by {max_difference(naive, full):.1e}, "
      f"average weighted by size off by {max_difference(weighted, full):.1e}")

gradus.manual_seed(0)
bn_model = MLP([784, 128, 10], batch_norm=True).double()
bn_full = gradients(bn_model, X, y)
bn_shards = [gradients(bn_model, X[r::2], y[r::2]) for r in range(2)]
bn_average = [np.mean(per_rank, axis=0) for per_rank in zip(*bn_shards)]
print(f"with BatchNorm, 2 shards: off by {max_difference(bn_average, bn_full):.1e} "
      f"(each shard normalises with its own mean and variance)")

# %%
# 크기가 같은 샤드는 모든 :math:`N` 에서 :math:`10^{-16}` 이내로, 즉 float64의 반올림 오차 범위에서
# 일치합니다. ``DistributedSampler`` 가 에포크를 덧붙여(패딩) 모든 랭크에 같은 수의 표본을 주는 이유, 그리고
# ``gradus train`` 이 레시피의 ``batch_size`` 를 *전체* 배치(유효 배치 크기)로 읽고 각 랭크에 ``batch_size /
# N`` 을 주는 이유가 이것입니다. 배치 정규화는 항등식을 깨뜨립니다. ``SyncBatchNorm`` 은 순전파에서 채널별
# 합 :math:`\sum x`, :math:`\sum x^2` 와 표본 수를 올리듀스하고(역전파에서는 그 기울기를 올리듀스하고),
# 그래서 모든 랭크가 전체 배치의 통계로 정규화하므로 항등식이 다시
# 성립합니다(``dist.SyncBatchNorm.convert_sync_batchnorm(net)``; ``tests/distributed`` 가 프로세스 하나의
# 결과와 비교해 검사합니다).
#
# 여러 스텝: 복사본 둘과 프로세스 하나
# ------------------------------------
# DDP는 이 일을 매 스텝 합니다. 아래에서는 같은 신경망의 복사본 두 개(두 번째 복사본이 첫 번째의 가중치를
# 받는 것이 생성할 때의 브로드캐스트입니다)가 각자 모멘텀 SGD를 씁니다. 매 스텝 각 복사본이 배치의 절반으로
# 기울기를 구하고, 두 기울기를 평균한 뒤 각 복사본이 한 스텝 갱신합니다. 그 옆에서 프로세스 하나가 배치
# 전체로 학습합니다. 가중치가 계속 같아야 합니다.

gradus.manual_seed(1)
single = MLP([784, 128, 10]).double()
replicas = [MLP([784, 128, 10]).double() for _ in range(2)]
for replica in replicas:
    replica.load_state_dict(single.state_dict())               # 모든 랭크에 랭크 0의 가중치
opt_single = optim.SGD(single.parameters(), lr=0.1, momentum=0.9)
opts = [optim.SGD(r.parameters(), lr=0.1, momentum=0.9) for r in replicas]
steps = 20 if FAST else 100
losses, drift = [], []
for step in range(steps):
    batch = slice((step * B) % 9984, (step * B) % 9984 + B)
    Xb, yb = gradus.tensor(X_all[batch], dtype=gradus.float64), gradus.tensor(y_all[batch])
    opt_single.zero_grad()
    loss = F.cross_entropy(single(Xb), yb)
    loss.backward()
    opt_single.step()
    local = [gradients(replica, Xb[r::2], yb[r::2]) for r, replica in enumerate(replicas)]
    for replica, opt in zip(replicas, opts):
        for p, g0, g1 in zip(replica.parameters(), *local):
            p.grad = gradus.tensor((g0 + g1) / 2)              # 올리듀스한 평균: 두 복사본에서 같음
        opt.step()
    losses.append(loss.item())
    drift.append(max(np.abs(a.detach().numpy() - b.detach().numpy()).max()
                     for a, b in zip(single.parameters(), replicas[0].parameters())))
between_replicas = max(np.abs(a.detach().numpy() - b.detach().numpy()).max()
                       for a, b in zip(replicas[0].parameters(), replicas[1].parameters()))
print(f"{steps} steps: loss {losses[0]:.3f} -> {losses[-1]:.3f}; largest weight difference single vs "
      f"replica 0: {max(drift):.1e}; replica 0 vs replica 1: {between_replicas:.1e}")

fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.4))
axes[0].plot(losses, label="one process, batch 128")
axes[0].set_xlabel("step")
axes[0].set_ylabel("training loss")
axes[0].set_title("the loss of the single process", fontsize=9)
axes[0].grid(alpha=0.3)
axes[1].semilogy(np.maximum(drift, 1e-20), "o-", ms=3, color="tab:red")
axes[1].set_ylim(1e-20, 1e-6)
axes[1].set_xlabel("step")
axes[1].set_ylabel("max |w_single - w_replica|")
axes[1].set_title("two replicas vs one process (float64)", fontsize=9)
axes[1].grid(alpha=0.3)
fig.tight_layout()

# %%
# 비용: 링 올리듀스
# -----------------
# 매 스텝 모든 기울기를 한 번씩 올리듀스합니다. float32 파라미터가 :math:`P` 개면 :math:`4P` 바이트입니다.
# **링 올리듀스** 에서는 버퍼를 :math:`N` 조각으로 자릅니다. 먼저 리듀스-스캐터(:math:`N-1` 번의 전달: 각
# 랭크가 이웃에게 조각 하나를 넘기고 받은 조각을 더함)를 하면 랭크마다 완전히 합산된 조각이 하나씩 남고,
# 이어서 올개더 (:math:`N-1` 번 더 전달)로 그 조각들을 돌려 나눕니다. 각 랭크가 보내는(그리고 받는) 양은
# 다음과 같습니다.
#
# .. math::
#
#     2\,\frac{N-1}{N}\cdot 4P \ \text{bytes per step}, \qquad
#     T \approx 2(N-1)\,\alpha + 2\,\frac{N-1}{N}\,\frac{4P}{\beta}
#
# :math:`\alpha` 는 메시지 하나의 지연 시간, :math:`\beta` 는 링크 하나의 대역폭입니다. 랭크당 통신량은
# 기울기 크기의 두 배로 다가가고 :math:`N` 이 커져도 더 늘지 않지만, 지연 시간 항은 커집니다. DDP는 기울기를
# **버킷** (첫 버킷은 1 MiB까지, 그다음은 25 MiB까지: PyTorch와 같은 크기)으로 묶어 보냅니다. 버킷은 역전파
# 도중 논블로킹 올리듀스로 시작되므로, 통신이 나머지 역전파와 겹칩니다. 아래 파라미터 수는 레시피 세 개에
# 쓰이는 gradus 모델에서 직접 셉니다. 시간은 :math:`\alpha = 5\,\mu s`, :math:`\beta = 12.5` GB/s (100 Gb/s
# 링크)라고 가정한 것으로, 측정값이 아니라 설명을 위한 예시입니다.

models = {"digits-mlp": MLP([64, 128, 10]), "mnist-lenet5": lenet5_modern(), "mnist-mlp": mnist_mlp()}
P = {name: sum(p.numel() for p in m.parameters()) for name, m in models.items()}
world = np.array([2, 4, 8, 16, 32, 64, 128])
alpha, beta = 5e-6, 12.5e9


def kib(n_bytes):
    return f"{n_bytes / 2**20:.2f} MiB" if n_bytes >= 2**20 else f"{n_bytes / 2**10:.1f} KiB"


fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.6))
for name, n_params in P.items():
    sent = 2 * (world - 1) / world * 4 * n_params
    print(f"{name:13s} P = {n_params:>9,}: all-reduced per step {kib(4 * n_params)}; sent per rank "
          f"N=2 {kib(sent[0])}, N=8 {kib(sent[2])}")
    axes[0].loglog(world, sent, "o-", ms=3, label=f"{name} (P = {n_params:,})")
    axes[1].loglog(world, 2 * (world - 1) * alpha + sent / beta, "o-", ms=3, label=name)
axes[0].set_xlabel("world size N")
axes[0].set_ylabel("bytes sent per rank per step")
axes[0].set_title("ring all-reduce traffic: 2(N-1)/N x 4P", fontsize=9)
axes[1].set_xlabel("world size N")
axes[1].set_ylabel("seconds per all-reduce")
axes[1].set_title("alpha-beta model, alpha 5 us, beta 12.5 GB/s (assumed)", fontsize=9)
for ax in axes:
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
fig.tight_layout()

# %%
# 작은 모델에서는 지연 시간 항이 지배적이고 :math:`N` 과 함께 커집니다. mnist-mlp처럼 기울기가 6.85 MiB나
# 되면 대역폭 항이 지배적이고 이 항은 일정한 값으로 수렴하다가, :math:`N` 에 비례해 커지는 지연 시간 항이
# 그래프 오른쪽 끝에서 따라잡습니다. MPICH는 짧은 메시지에는 재귀적 배가(recursive doubling)를, 긴
# 메시지에는 링과 비슷한 리듀스-스캐터 + 올개더를 고릅니다.
#
# 측정: 프로세스 하나와 둘
# ------------------------
# ``benchmarks/distributed_step.py`` 는 두 레시피의 모델로 학습 스텝 하나에 걸리는 시간을 2코어 머신에서
# 잽니다 (랭크마다 BLAS 스레드 하나, 배치는 레시피의 전체 배치). 다섯 번 실행한 중앙값을
# :source:`docs/distributed.md` 에서 그대로 옮깁니다.
#
# .. list-table::
#    :header-rows: 1
#
#    * - 레시피
#      - 프로세스 수
#      - 전체 배치
#      - 초당 스텝
#      - 속도 향상
#      - 스텝당 올리듀스 양
#    * - mnist-mlp
#      - 1
#      - 128
#      - 19.5
#      - 1.00x
#      - (없음)
#    * - mnist-mlp
#      - 2
#      - 128
#      - 20.6
#      - 1.06x
#      - 6.85 MiB
#    * - mnist-lenet5
#      - 1
#      - 64
#      - 15.9
#      - 1.00x
#      - (없음)
#    * - mnist-lenet5
#      - 2
#      - 64
#      - 23.1
#      - 1.45x
#      - 0.24 MiB
#
# LeNet-5의 스텝은 연산마다 붙는 오버헤드와 im2col 복사가 대부분인데, 이런 일은 두 프로세스로 잘 나뉘고
# 기울기도 작습니다. MLP의 스텝은 거의 행렬 곱입니다. 그 머신의 두 코어는 캐시와 메모리 대역폭을 함께 쓰기
# 때문에 두 번째 프로세스가 보태는 몫이 작고, 게다가 매 스텝 6.85 MiB를 올리듀스해야 합니다. 랭크마다
# 코어(또는 GPU)가 따로 있고 제대로 된 인터커넥트가 있는 클러스터라면 위의 비용 모델대로 동작할 것이라고
# 보면 됩니다.
#
# 실행하는 방법
# -------------
# ``pip install "gradus[dist]"`` 를 하면 mpi4py와 MPICH 런타임(``mpiexec``)이 설치됩니다. 레시피는 아무것도
# 고치지 않고 ``mpiexec`` 아래에서 데이터 병렬로 돌아가며, ``data.batch_size`` 는 여전히 전체 배치입니다.
#
# .. code-block:: bash
#
#     mpiexec -n 2 gradus train mnist-mlp
#     mpiexec -n 2 gradus train mnist-lenet5 --distributed    # 진짜 MPI 아래가 아니면 실패
#
# 직접 작성한 스크립트라면 Trainer가 하는 일을 그대로 하면 됩니다.
#
# .. code-block:: python
#
#     dist.init_process_group()                        # mpiexec 없이는 월드 크기 1
#     ddp = dist.DistributedDataParallel(net)          # 모든 랭크에 랭크 0의 가중치
#     opt = gradus.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
#     sampler = dist.DistributedSampler(train_ds, seed=0)
#     loader = DataLoader(train_ds, batch_size=B // dist.get_world_size(), sampler=sampler)
#     for epoch in range(num_epochs):
#         sampler.set_epoch(epoch)                     # 에포크마다 새 순서, 모든 랭크에서 같은 순서
#         for X, y in loader:
#             opt.zero_grad()
#             F.cross_entropy(ddp(X), y).backward()    # .grad = 랭크들의 평균
#             opt.step()
#
# 출력과 파일 쓰기는 랭크 0만 합니다. 어느 한 랭크에서 예외가 나면 모든 랭크가 함께 종료됩니다(멈춰서
# 기다리는 일이 없습니다). 여러 노드, 랭크당 스레드 수, 호스트 파일은 :source:`docs/distributed.md` 를
# 보세요.
#
# GPU 백엔드 (CuPy)
# -----------------
# GPU는 수천 개의 연산 장치를 병렬로 돌립니다. 딥러닝의 큰 행렬 곱에서는 CPU 코어 하나보다 10배에서 100배
# 빠릅니다. gradus는 NumPy와 같은 인터페이스를 가진 GPU 배열 라이브러리 **CuPy** 를 통해 GPU를 씁니다. 모든
# 연산의 본문은 ``xp = get_array_module(x)`` 로 배열 모듈을 얻은 뒤 ``xp.matmul``, ``xp.exp``, ... 를
# 호출하므로, 같은 코드가 NumPy 배열(CPU)과 CuPy 배열(GPU) 위에서 모두
# 돌아갑니다(:source:`src/gradus/backend.py`). 사용자가 보는 쪽은 PyTorch와 같습니다. ``gradus.device``,
# ``Tensor.to("cuda")``, ``Module.to("cuda")``, 생성 함수의 ``device=``, 그리고
# ``gradus.cuda_is_available()`` 입니다. CuPy는 CUDA 장치를 요청받았을 때에야 import됩니다.

print("gradus.cuda_is_available():", gradus.cuda_is_available())
device = gradus.device("cuda" if gradus.cuda_is_available() else "cpu")
model = MLP([784, 128, 10]).to(device)                          # 파라미터와 버퍼를 제자리에서 옮김
x = gradus.tensor(X_all[:8]).to(device)
print("device:", device, "| input on", x.device, "| parameters on", next(model.parameters()).device,
      "| output on", model(x).device)
try:
    gradus.ones(3).to("cuda")
    print("a tensor moved to cuda")
except gradus.errors.DeviceError as e:
    print("DeviceError:", e)

# %%
# 무엇이 만들어져 있고 무엇이 아직인지 정리합니다. **만들어진 것:** 연산 전체에 걸친 ``xp`` 방식,
# ``Device``, ``Tensor.to`` / ``.cuda()`` / ``.cpu()``, ``Module.to`` / ``.cuda()``, 생성할 때의
# ``device=``, 연산이 장치를 섞으면 두 장치를 모두 밝히는 장치 검사, 옵티마이저 상태를 파라미터와 같은
# 장치에 두는 옵티마이저, ``cupyx`` 를 쓰는 GPU scatter 연산, CuPy 배열을 호스트로 복사해 저장하는
# 체크포인트입니다. **아직 만들어지지 않았거나 검증되지 않은 것:** 테스트 스위트는 GPU 없이 돌기 때문에, GPU
# 경로는 오류 메시지와 (가짜 CuPy 배열을 써서) 장치 검사만 확인됩니다. 실제 GPU에서 연산을 돌리는 테스트는
# 없습니다. ``gradus train`` 과 Trainer에는 장치 옵션이 없고 (DataLoader는 NumPy 배치를 내줍니다),
# ``gradus.distributed`` 는 호스트(NumPy) 버퍼만 주고받습니다. ``DistributedDataParallel`` 은 ``device_ids``
# 를 거부하고, "GPU마다 랭크 하나"는 CuPy 백엔드 이슈(issue 15, :source:`docs/distributed.md` 참고)를
# 기다리고 있습니다. 이 페이지가 어떤 장치에서 빌드되었는지는 위의 출력에 나와 있습니다.
