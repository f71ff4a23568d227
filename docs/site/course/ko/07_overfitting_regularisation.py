r"""
과적합과 규제
==========================

모델은 **훈련 집합** 으로 학습하지만, 평가는 한 번도 본 적 없는 데이터로 받습니다. 중요한 것은 모델의
**일반화**, 곧 테스트 집합에서의 오차입니다. 이를 보여 주는 고전적인 예(Bishop, *Pattern Recognition and
Machine Learning*, 1.1절)는 :math:`M` 차 다항식을 맞추는 것입니다.

.. math::

    y(x, \mathbf w) = \sum_{j=0}^{M} w_j x^j, \qquad
    E(\mathbf w) = \frac12 \sum_{n=1}^{N} \bigl(y(x_n, \mathbf w) - t_n\bigr)^2, \qquad
    E_{\mathrm{RMS}} = \sqrt{2E(\mathbf w^\star)/N}

잡음이 섞인 표본 :math:`t_n = \sin(2\pi x_n) + \varepsilon_n` 을 :math:`N = 10` 개 놓고 다항식을 맞춥니다.
:math:`M` 이 작으면 곡선을 따라가지 못하고(**과소적합**), :math:`M = 3` 은 곡선을 잘 따라갑니다. :math:`M = 9`
는 점 10개에 계수가 10개이므로 모든 점을 정확히 지나지만, 점과 점 사이에서는 크게 출렁입니다(**과적합
(과대적합)**). 훈련 오차는 0인데 테스트 오차는 큽니다. **모델 복잡도 (모델 용량)** 는 데이터에 맞아야 하고,
그렇지 않으면 억눌러야 합니다. 이 페이지에서는 복잡도를 억누르는 방법 네 가지를 봅니다.

- **가중치 감쇠**: :math:`C(\mathbf w) = \|\mathbf w\|^2` 으로 두고 :math:`F(\mathbf w) = E(\mathbf w) +
  \alpha C(\mathbf w)` 를 최소화해서 가중치를 작게 유지합니다(모든 옵티마이저의 ``weight_decay``,
  :source:`src/gradus/optim/sgd.py`, :source:`src/gradus/optim/adam.py`; 손실 함수에 더하는 항으로는
  :source:`src/gradus/train/trainer.py` 의 ``l2_penalty``).
- **조기 종료**: 검증 손실이 더 이상 줄지 않으면 학습을 멈춥니다(:source:`src/gradus/train/callbacks.py` 의
  ``EarlyStopping``).
- **드롭아웃**: 학습하는 동안 유닛을 무작위로 끕니다. 가중치를 공유하는 부분 신경망들의 앙상블을 학습하는
  셈입니다 (:source:`src/gradus/nn/dropout.py`, :source:`src/gradus/functional/dropout.py`).
- **배치 정규화**: 유닛마다 미니배치 전체에 걸쳐 정규화합니다(:source:`src/gradus/nn/norm.py`,
  :source:`src/gradus/functional/norm.py`). 무엇보다 학습을 빠르게 하는 방법이고, 약한 규제 효과는 덤입니다.

다항식은 뉴턴 방법(:source:`src/gradus/optim/newton.py`)으로 맞춥니다. 손실이 :math:`\mathbf w` 의 2차
함수이므로 뉴턴 방법은 한 단계 만에 정확히 최솟값에 도착합니다.
"""

# %%
# 다항식 곡선 맞춤
# ------------------------
# :math:`[0, 1]` 에 고르게 놓인 :math:`x` 10개, 표준편차 0.3인 잡음, 그리고 같은 방식으로 새로 뽑은 점 100개의
# 테스트 집합을 씁니다. 다항식은 :math:`x` 대신 :math:`u = 2x - 1` 로 씁니다(같은 다항식이지만 수치 조건이 더
# 좋습니다). 계수는 float64 텐서 하나이고, ``optim.Newton`` 이 한 단계 만에 :math:`E` 를 최소화합니다.
import os

import matplotlib.pyplot as plt
import numpy as np

import gradus
import gradus.functional as F
from gradus import nn, optim
from gradus.data import TensorDataset
from gradus.data.datasets import load_mnist_arrays
from gradus.train import EarlyStopping, Trainer

FAST = os.environ.get("GRADUS_DOCS_FAST") == "1"

rng = np.random.default_rng(1)
x_train = np.linspace(0, 1, 10)
t_train = np.sin(2 * np.pi * x_train) + rng.normal(0, 0.3, 10)
x_test = rng.uniform(0, 1, 100)
t_test = np.sin(2 * np.pi * x_test) + rng.normal(0, 0.3, 100)


def features(x, M):
    """The design matrix: columns u^0 .. u^M with u = 2x - 1."""
    return np.stack([(2 * x - 1) ** j for j in range(M + 1)], axis=1)


def fit_polynomial(M, alpha=0.0):
    """Minimise F(w) = E(w) + alpha ||w||^2 with one Newton step (exact: F is quadratic)."""
    Phi, t = gradus.tensor(features(x_train, M)), gradus.tensor(t_train)
    w = gradus.zeros(M + 1, dtype=gradus.float64, requires_grad=True)
    newton = optim.Newton([w])

    def objective():
        E = 0.5 * ((Phi @ w - t) ** 2).sum()
        return E + alpha * (w * w).sum()

    newton.step(objective)
    return w.detach().numpy()


def rms_error(w, x, t):
    return np.sqrt(np.mean((features(x, len(w) - 1) @ w - t) ** 2))


x_plot = np.linspace(0, 1, 300)


def draw_fit(ax, w, title):
    ax.plot(x_plot, np.sin(2 * np.pi * x_plot), color="tab:green", label="sin(2 pi x)")
    ax.plot(x_plot, features(x_plot, len(w) - 1) @ w, color="tab:red", label="fit")
    ax.scatter(x_train, t_train, facecolors="none", edgecolors="tab:blue", zorder=3, label="training")
    ax.set_ylim(-1.6, 1.6)
    ax.set_title(title, fontsize=9)


fits = {M: fit_polynomial(M) for M in range(10)}            # 0차부터 9차까지 모든 차수
fig, axes = plt.subplots(1, 4, figsize=(12, 2.9), sharey=True)
for ax, M in zip(axes, [0, 1, 3, 9]):
    w = fits[M]
    draw_fit(ax, w, f"M = {M}: train {rms_error(w, x_train, t_train):.2f}, "
                    f"test {rms_error(w, x_test, t_test):.2f}")
    print(f"M = {M}: coefficients {np.array2string(w, precision=1, suppress_small=True)}")
axes[0].legend(fontsize=7, loc="lower left")
fig.subplots_adjust(left=0.05, right=0.99, bottom=0.1, top=0.88, wspace=0.08)

# %%
# :math:`M = 0` 과 :math:`M = 1` 은 너무 뻣뻣하고, :math:`M = 3` 은 :math:`\sin(2\pi x)` 에 가깝습니다.
# :math:`M = 9` 는 모든 훈련점을 꿰뚫고 지나갑니다. 여기에 필요한 계수(위에 출력)를 보세요. 3차 다항식의
# 계수보다 훨씬 크고 부호가 제각각이어서, 점과 점 사이에서 서로 상쇄됩니다(원래 변수 :math:`x` 로 쓰면
# Bishop의 표 1.1처럼 더욱 커집니다). 이제 0차부터 9차까지 모든 차수에 대해 훈련 :math:`E_{\mathrm{RMS}}` 와
# 테스트 :math:`E_{\mathrm{RMS}}` 를 구합니다.

orders = np.arange(10)
errors = np.array([[rms_error(fits[M], x_train, t_train), rms_error(fits[M], x_test, t_test)]
                   for M in orders])
fig, ax = plt.subplots(figsize=(5, 3.2))
ax.plot(orders, errors[:, 0], "o-", label="training")
ax.plot(orders, errors[:, 1], "s-", label="test")
ax.set_xlabel("M (order of the polynomial)")
ax.set_ylabel("E_RMS")
ax.legend()
fig.subplots_adjust(left=0.13, right=0.97, bottom=0.16, top=0.95)
print("best test error at M =", orders[errors[:, 1].argmin()],
      f"({errors[:, 1].min():.3f}); M = 9: training {errors[9, 0]:.1e}, test {errors[9, 1]:.3f}")

# %%
# :math:`M` 이 커질수록 훈련 오차는 줄어들기만 합니다(큰 모델은 작은 모델을 포함하니까요). 테스트 오차는
# 줄어들다가 평평해지고, 높은 차수에서 다시 커집니다. 이 U자 모양이 모델 선택의 전부입니다. 바로 **편향-분산
# 트레이드오프** 입니다(너무 단순한 모델은 어떤 데이터 집합에서든 같은 방식으로 틀리고, 너무 유연한 모델은
# 자기 데이터 집합의 잡음까지 따라갑니다). 여기서 '편향'은 통계적인 뜻으로, 뉴런의 편향(바이어스)과는
# 다릅니다.
#
# 가중치 감쇠: :math:`F = E + \alpha C(\mathbf w)`
# -------------------------------------------------------
# :math:`M = 9` 를 그대로 두고, 계수가 커지는 것에 벌점을 줍니다.
#
# .. math::
#
#     F(\mathbf w) = E(\mathbf w) + \alpha\, C(\mathbf w), \qquad
#     C(\mathbf w) = \|\mathbf w\|^2 = \sum_j w_j^2, \qquad
#     \nabla F = \nabla E + 2\alpha\,\mathbf w .
#
# :math:`F` 에 대한 경사 하강 한 단계는 :math:`\mathbf w \leftarrow (1 - 2\eta\alpha)\,\mathbf w - \eta\nabla
# E` 입니다. 매 단계 가중치가 일정한 비율로 줄어들기 때문에 **가중치 감쇠** 라고 부릅니다. 이것이 **L2 규제**
# 입니다. :math:`\alpha` 는 데이터 항과 복잡도 항 사이의 균형을 정합니다. :math:`\alpha = 0` 이면 마구
# 출렁이는 보간 다항식이고, :math:`\alpha` 가 아주 크면 모든 것이 0으로 납작해집니다.

log_alphas = np.arange(-20.0, 2.1, 2.0)
decay_fits = {a: fit_polynomial(9, np.exp(a)) for a in log_alphas}
decay_errors = np.array([[rms_error(w, x_train, t_train), rms_error(w, x_test, t_test)]
                         for w in decay_fits.values()])
best = decay_errors[:, 1].argmin()
fig, axes = plt.subplots(1, 3, figsize=(11, 2.9))
for ax, log_alpha in zip(axes[:2], [log_alphas[best], 0.0]):
    w = decay_fits[log_alpha]
    draw_fit(ax, w, f"M = 9, ln alpha = {log_alpha:g}: |w|max {np.abs(w).max():.1f}")
axes[0].legend(fontsize=7, loc="lower left")
axes[2].plot(log_alphas, decay_errors[:, 0], "o-", label="training")
axes[2].plot(log_alphas, decay_errors[:, 1], "s-", label="test")
axes[2].set_xlabel("ln alpha")
axes[2].set_title("M = 9: E_RMS against alpha", fontsize=9)
axes[2].legend(fontsize=7)
fig.subplots_adjust(left=0.05, right=0.99, bottom=0.17, top=0.88, wspace=0.2)
print(f"M = 9, best test error {decay_errors[best, 1]:.3f} at ln alpha = {log_alphas[best]:g} "
      f"(alpha = 0: {errors[9, 1]:.3f}); |w|max {np.abs(fits[9]).max():.1f} at alpha = 0")

# %%
# 옵티마이저에서는 같은 벌점이 인자 하나입니다. ``SGD(..., weight_decay=lam)`` 은 갱신하기 전에 모든 기울기에
# :math:`\lambda \mathbf w` 를 더합니다(:source:`src/gradus/optim/sgd.py`). 이것은
# :math:`\frac{\lambda}{2}\|\mathbf w\|^2` 의 기울기이므로, ``weight_decay = 2 * alpha`` 로 두면 :math:`F = E
# + \alpha \|\mathbf w\|^2` 를 최소화합니다. :math:`E` 만 계산하고 이 가중치 감쇠를 준 전체 배치 모멘텀 SGD가
# :math:`F` 의 뉴턴 해에 도착하는지 확인해 봅니다.

alpha = np.exp(-5.0)
Phi, t = gradus.tensor(features(x_train, 9)), gradus.tensor(t_train)
w = gradus.zeros(10, dtype=gradus.float64, requires_grad=True)
sgd = optim.SGD([w], lr=0.2, momentum=0.85, weight_decay=2 * alpha)
for _ in range(400):
    E = 0.5 * ((Phi @ w - t) ** 2).sum()                      # 데이터 항만
    sgd.zero_grad()
    E.backward()
    sgd.step()
w_newton = fit_polynomial(9, alpha)
print(f"ln alpha = -5: max |w_SGD - w_Newton| = {np.abs(w.detach().numpy() - w_newton).max():.1e}")

# %%
# (Adam의 ``weight_decay`` 도 이와 똑같은 L2 기울기 항입니다. 반면 ``AdamW`` 는 감쇠를 적응적 스케일링
# 바깥에서 :math:`\mathbf w \leftarrow (1 - \eta\lambda)\mathbf w` 로 따로 적용합니다(*분리된* 가중치 감쇠).
# 보통의 SGD에서는 둘이 같습니다.) 신경망에서는 보통 편향은 빼고 가중치 행렬에만 벌점을 주며,
# ``gradus.train.l2_penalty`` 도 그렇게 합니다.
#
# 조기 종료
# --------------
# 학습 시간도 복잡도입니다. 가중치가 많은 신경망을 적은 예제로 학습하면, 처음에는 예제들의 공통점을 배우다가
# 나중에는 예제를 하나씩 외워 버립니다. 검증 손실은 줄어들다가 최솟값에 이른 뒤 다시 커지지만, 훈련 손실은
# 계속 줄어듭니다. **조기 종료** 는 검증 손실을 지켜보다가 가장 좋았던 에포크의 가중치를 남깁니다. 여기서는
# 은닉층이 하나인 MLP(784-256-10, 빠른 빌드에서는 784-128-10)가 MNIST의 작은 부분 집합으로 학습하고, MNIST
# 학습 파일에서 겹치지 않는 다른 부분을 **검증 집합** 으로 씁니다. ``EarlyStopping(patience=...)`` 은 검증
# 손실이 ``patience`` 에포크 동안 나아지지 않으면 학습을 끝내고 가장 좋았던 가중치를 되돌려 놓습니다.

X_all, y_all = load_mnist_arrays(train=True)                  # (60000, 784), 값은 [0, 1]
order = np.random.default_rng(0).permutation(len(X_all))
n_train, n_val, hidden = (200, 500, 128) if FAST else (1000, 5000, 256)
X_tr, y_tr = X_all[order[:n_train]], y_all[order[:n_train]]
X_val, y_val = X_all[order[n_train:n_train + n_val]], y_all[order[n_train:n_train + n_val]]
train_set, val_set = TensorDataset(X_tr, y_tr), TensorDataset(X_val, y_val)
max_epochs, patience = (18, 6) if FAST else (40, 10)


def mnist_mlp(p_drop=0.0):
    gradus.manual_seed(0)                                     # 모든 실행에서 같은 초기 가중치
    return nn.Sequential(nn.Linear(784, hidden), nn.ReLU(), nn.Dropout(p_drop), nn.Linear(hidden, 10))


def train(net, callbacks=()):
    opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    trainer = Trainer(net, opt, callbacks=list(callbacks), seed=0)
    return trainer.fit(train_set, val_set, epochs=max_epochs, batch_size=50)


def val_accuracy(net):
    net.eval()
    with gradus.no_grad():
        return (net(gradus.tensor(X_val)).argmax(dim=1).numpy() == y_val).mean()


plain = mnist_mlp()
stopper = EarlyStopping("val_loss", patience=patience, verbose=False)
history = train(plain, [stopper])
epochs = [h["epoch"] for h in history]
last = history[-1]
print(f"stopped after epoch {epochs[-1]}; best epoch {stopper.best_epoch} (val loss {stopper.best:.3f}); "
      f"last epoch: train loss {last['loss']:.3f}, val loss {last['val_loss']:.3f}")
print(f"restored weights of epoch {stopper.best_epoch}: validation accuracy {val_accuracy(plain):.3f}")

fig, ax = plt.subplots(figsize=(6, 3.4))
ax.plot(epochs, [h["loss"] for h in history], label="training loss")
ax.plot(epochs, [h["val_loss"] for h in history], label="validation loss")
ax.axvline(stopper.best_epoch, color="k", linestyle="--", linewidth=1,
           label=f"best epoch {stopper.best_epoch} (weights kept)")
ax.set_xlabel("epoch")
ax.set_ylabel("cross-entropy")
ax.set_title(f"784-{hidden}-10 MLP on {n_train} MNIST digits")
ax.legend()
fig.subplots_adjust(left=0.12, right=0.97, bottom=0.15, top=0.91)

# %%
# 학습은 최선의 에포크 뒤로도 ``patience`` 에포크만큼 더 진행됩니다. 그 최솟값이 잠깐의 우연이 아니었음을
# 확인하기 위해서입니다. 돌려받는 가중치는 점선 위치의 가중치입니다. 훈련 손실(각 에포크 미니배치 손실의
# 평균)은 계속 0을 향해 떨어집니다. 신경망이 수백 장의 숫자를 통째로 외워 버린 것이고, 새 숫자에서는 점점 더
# *확신에 차서* 틀리게 되는데 교차 엔트로피는 바로 이것을 크게 벌합니다.
#
# 드롭아웃
# ------------
# 드롭아웃(Srivastava 외 2014)은 학습하는 매 단계마다 층의 모든 유닛에 독립적인 베르누이 마스크 :math:`m_i` 를
# 곱해서, 각 유닛을 확률 :math:`1 - p` 로 남깁니다. gradus는 PyTorch처럼 **역 드롭아웃** 을 씁니다. 학습할 때
# 남은 유닛을 :math:`1/(1-p)` 배 해 두어 기댓값이 변하지 않게 하므로, 평가 모드의 신경망은 드롭아웃이 없는
# 신경망 그대로입니다.
#
# .. math::
#
#     \text{training: } y_i = \frac{m_i\, x_i}{1 - p}, \quad m_i \sim \mathrm{Bernoulli}(1 - p);
#     \qquad \text{evaluation: } y_i = x_i .
#
# (``nn.Dropout(p, mode="classic")`` 은 논문의 방식입니다. 학습할 때는 배율을 바꾸지 않고, 테스트할 때
# :math:`(1 - p)` 를 곱합니다.) **학습 모드와 평가 모드** 는 ``model.train()`` 과 ``model.eval()`` 로
# 바꿉니다.

drop = nn.Dropout(0.5)
ones = gradus.ones(10)
print("train mode:", drop(ones).numpy())
print("eval mode: ", drop.eval()(ones).numpy())
print("classic, eval mode:", nn.Dropout(0.5, mode="classic").eval()(ones).numpy())

# %%
# 마스크 하나는 **부분 신경망** 하나를 고릅니다. 끌 수 있는 유닛이 :math:`n` 개면 부분 신경망은 :math:`2^n`
# 개이고, 모두 한 벌의 가중치를 공유합니다. 학습의 각 단계는 그중 하나를 미니배치 하나로 학습합니다. 어떤
# 유닛도 특정한 짝이 곁에 있으리라고 기댈 수 없으므로, 각자 스스로 쓸모가 있어야 합니다. 테스트할 때 이상적인
# 예측은 :math:`2^n` 개의 부분 신경망을 모두 평균하는 것(**앙상블**)입니다. 평가 모드의 배율 조정은 이 평균을
# 싸게 근사합니다(선형 층에서는 정확합니다). 위와 같은 MLP의 은닉 유닛에 드롭아웃 :math:`p = 0.5` 를 넣고,
# 데이터, 초기 가중치, 옵티마이저를 모두 같게 한 채 조기 종료 없이 전체 에포크 동안 학습합니다.

dropped = mnist_mlp(p_drop=0.5)
history_drop = train(dropped)
print(f"dropout 0.5: best val loss {min(h['val_loss'] for h in history_drop):.3f} "
      f"(without: {min(h['val_loss'] for h in history):.3f}); "
      f"last epoch val loss {history_drop[-1]['val_loss']:.3f}")

# %%
# 이제 앙상블이라는 관점을 직접 재 봅니다. 학습 모드에서는 순전파를 할 때마다 새 마스크, 곧 새 부분 신경망이
# 뽑힙니다. 검증 집합에서 :math:`K` 개의 부분 신경망이 낸 소프트맥스 출력을 평균하고, 평가 모드로 한 번 계산한
# 결과와 비교합니다.

n_masks = 16 if FAST else 64
X_val_t = gradus.tensor(X_val)
dropped.train()                                               # 마스크 켜짐: 순전파 한 번이 부분 신경망 하나
with gradus.no_grad():
    probs = [F.softmax(dropped(X_val_t), dim=1).numpy() for _ in range(n_masks)]
ensemble_sizes = [k for k in (1, 2, 4, 8, 16, 32, 64) if k <= n_masks]
ensemble_acc = [(np.mean(probs[:k], axis=0).argmax(axis=1) == y_val).mean() for k in ensemble_sizes]
single_acc = [(p.argmax(axis=1) == y_val).mean() for p in probs]
eval_acc = val_accuracy(dropped)
print(f"one sub-network: accuracy {np.mean(single_acc):.3f} on average; average of {n_masks}: "
      f"{ensemble_acc[-1]:.3f}; eval mode (weight scaling): {eval_acc:.3f}")

fig, axes = plt.subplots(1, 2, figsize=(11, 3.4))
axes[0].plot(epochs, [h["val_loss"] for h in history], label="no dropout: validation")
axes[0].plot([h["epoch"] for h in history_drop], [h["val_loss"] for h in history_drop],
             label="dropout 0.5: validation")
axes[0].plot([h["epoch"] for h in history_drop], [h["loss"] for h in history_drop], ":",
             label="dropout 0.5: training")
axes[0].set_xlabel("epoch")
axes[0].set_ylabel("cross-entropy")
axes[0].legend(fontsize=8)
axes[1].plot(ensemble_sizes, ensemble_acc, "o-", label="average of K sub-networks")
axes[1].axhline(eval_acc, color="k", linestyle="--", label="eval mode (one pass)")
axes[1].set_xscale("log", base=2)
axes[1].set_xlabel("K (sampled dropout masks)")
axes[1].set_ylabel("validation accuracy")
axes[1].legend(fontsize=8)
fig.subplots_adjust(left=0.07, right=0.98, bottom=0.15, top=0.96, wspace=0.25)

# %%
# 부분 신경망 하나만으로는 더 약한 분류기입니다. 몇 개만 평균해도 이미 평가 모드 한 번과 비슷해지며, 평가
# 모드는 신경망 하나의 비용으로 앙상블의 예측을 얻는 셈입니다.
#
# 배치 정규화
# ----------------
# 배치 정규화(Ioffe & Szegedy 2015)는 각 유닛(``BatchNorm2d`` 에서는 각 채널)을 미니배치의 예제 :math:`m` 개에
# 걸쳐 정규화한 뒤, 학습되는 두 매개변수 :math:`\gamma, \beta` (``weight`` 와 ``bias``)로 신경망이 다시 크기를
# 조정하게 합니다.
#
# .. math::
#
#     \mu_B = \frac1m \sum_{i=1}^m x_i, \qquad \sigma_B^2 = \frac1m \sum_{i=1}^m (x_i - \mu_B)^2, \qquad
#     y_i = \gamma\, \frac{x_i - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}} + \beta .
#
# 평가할 때는 평균을 낼 배치가 없거나 예제가 하나뿐일 수 있습니다. 그래서 이 층은 학습하는 동안 배치 통계의
# **이동 평균** 을 모아 두고, 학습 배치마다 ``momentum`` :math:`= 0.1` 로 갱신합니다.
#
# .. math::
#
#     \hat\mu \leftarrow (1 - 0.1)\,\hat\mu + 0.1\,\mu_B, \qquad
#     \hat\sigma^2 \leftarrow (1 - 0.1)\,\hat\sigma^2 + 0.1\,\frac{m}{m-1}\,\sigma_B^2,
#
# ``eval()`` 에서는 배치 통계 대신 :math:`\hat\mu, \hat\sigma^2` 로 정규화합니다. 아래에서는 특징 세 개의
# 평균이 5, -2, 0이고 표준편차가 2, 0.5, 1인 예제 32개짜리 배치를 씁니다. 학습 모드의 출력은 배치가 무엇이든
# 특징마다 평균 0, 표준편차 1이고, 이동 평균은 :math:`1 - 0.9^k` 의 속도로 참값에 다가갑니다.

bn = nn.BatchNorm1d(3)
true_mean, true_std = np.array([5.0, -2.0, 0.0]), np.array([2.0, 0.5, 1.0])
data_rng = np.random.default_rng(0)
running = []
for k in range(60):
    batch = gradus.tensor((true_mean + true_std * data_rng.standard_normal((32, 3))).astype(np.float32))
    out = bn(batch)                                           # 학습 모드: 배치 통계
    running.append(bn.running_mean.numpy().copy())
    if k == 0:
        print("first batch: batch mean", batch.numpy().mean(axis=0).round(3),
              "-> running_mean", bn.running_mean.numpy().round(3), "(= 0.1 x batch mean)")
        print("   training-mode output: mean", out.detach().numpy().mean(axis=0).round(3),
              "std", out.detach().numpy().std(axis=0).round(3))
print(f"after {bn.num_batches_tracked.item()} batches: running_mean", bn.running_mean.numpy().round(2),
      "running_var", bn.running_var.numpy().round(2))
one = gradus.tensor([[5.0, -2.0, 0.0]])
print("eval mode on the single example (5, -2, 0):", bn.eval()(one).detach().numpy().round(3))

fig, ax = plt.subplots(figsize=(5.5, 3.2))
running = np.array(running)
k = np.arange(1, len(running) + 1)
for j, colour in enumerate(["tab:blue", "tab:orange", "tab:green"]):
    ax.plot(k, running[:, j], color=colour, label=f"running_mean[{j}]")
    ax.plot(k, true_mean[j] * (1 - 0.9 ** k), ":", color=colour)
ax.set_xlabel("training batches seen")
ax.set_title("running averages (dotted: mean x (1 - 0.9^k))", fontsize=9)
ax.legend(fontsize=8)
fig.subplots_adjust(left=0.1, right=0.97, bottom=0.16, top=0.9)

# %%
# 예제 하나를 학습 모드에 넣으면 그 예제 자신의 통계로 정규화하게 됩니다(채널마다 값이 하나뿐이면 분산이
# 없으므로 오류가 납니다). 평가 모드에서는 이동 평균으로 정해진 고정된 아핀 변환을 거치므로, 참 평균에 놓인
# 예제는 0 근처로 나옵니다.
#
# 학습에 주는 효과
# ~~~~~~~~~~~~~~~~~~~~~~~~
# 정규화를 하면 아래층이 크기를 어떻게 바꾸든 각 층의 입력이 활성화 함수의 기울기가 살아 있는 범위에 머뭅니다.
# 그래서 더 큰 학습률을 쓸 수 있고 깊은 시그모이드 신경망도 학습됩니다. 같은 5층 시그모이드
# MLP(784-100-100-100-100-10)를 같은 초기 가중치와 데이터, 학습률 0.5의 보통 SGD로 학습하되, 모든 시그모이드
# 앞에 ``BatchNorm1d`` 를 넣은 것과 넣지 않은 것을 비교합니다.


def sigmoid_mlp(batch_norm):
    gradus.manual_seed(0)
    layers, width = [], 784
    for _ in range(4):
        layers += [nn.Linear(width, 100)] + ([nn.BatchNorm1d(100)] if batch_norm else []) + [nn.Sigmoid()]
        width = 100
    return nn.Sequential(*layers, nn.Linear(width, 10))


n_bn, bn_epochs = (800, 3) if FAST else (5000, 6)
X_bn, y_bn = gradus.tensor(X_all[order[-n_bn:]]), gradus.tensor(y_all[order[-n_bn:]])
curves = {}
for name, use_bn in [("without batch norm", False), ("with BatchNorm1d", True)]:
    net = sigmoid_mlp(use_bn)
    opt = optim.SGD(net.parameters(), lr=0.5)
    losses = []
    batch_rng = np.random.default_rng(0)                      # 두 신경망에 같은 미니배치
    for _ in range(bn_epochs):
        perm = batch_rng.permutation(n_bn)
        for start in range(0, n_bn, 50):
            idx = gradus.tensor(perm[start:start + 50])
            loss = F.cross_entropy(net(X_bn[idx]), y_bn[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    curves[name] = losses
    print(f"{name}: training loss of the last 10 steps {np.mean(losses[-10:]):.3f}, "
          f"validation accuracy {val_accuracy(net):.3f}")

fig, ax = plt.subplots(figsize=(6, 3.4))
for name, losses in curves.items():
    ax.plot(losses, label=name, linewidth=1)
ax.set_xlabel("SGD step")
ax.set_ylabel("training cross-entropy")
ax.set_title("784-100-100-100-100-10 sigmoid MLP, SGD lr 0.5")
ax.legend()
fig.subplots_adjust(left=0.11, right=0.97, bottom=0.15, top=0.91)

# %%
# 정규화가 없으면 깊은 시그모이드 신경망은 오랫동안 :math:`\ln 10 \approx 2.3` (찍기의 손실)의 평지에
# 머뭅니다. 기울기가 아래층으로 내려가면서 사라지기 때문입니다(5쪽, 경사 소멸). 배치 정규화를 넣으면 처음 몇
# 단계부터 학습이 됩니다. 배치 통계는 미니배치마다 조금씩 흔들리는데, 이 흔들림이 약한 규제로 작용하기도
# 합니다.
#
# 전체 데이터에서
# --------------------
# 레시피들은 이 방법들을 MNIST 전체에서 함께 씁니다. ``benchmarks/RESULTS.md`` 의 수치에 따르면 ``gradus train
# mnist-lenet5-paper`` (논문 그대로의 LeNet-5, 데이터 증강도 드롭아웃도 없음)는 20 에포크 뒤 훈련 정확도
# 0.99997에 이르지만 테스트 정확도는 0.9891입니다. 이 차이가 과적합입니다. 배치 정규화를 쓰는 작은 VGG 방식
# 신경망인 ``gradus train mnist-cnn`` 은 6 에포크 만에 테스트 정확도 0.9937에 이릅니다(역시
# ``benchmarks/RESULTS.md``). 큰 MLP와 숫자 500장으로 벌점 :math:`F = E + \alpha\|\mathbf w\|^2` 가 있을 때와
# 없을 때의 훈련 손실과 테스트 손실을 비교하는 실험은 레시피 ``gradus train mnist-overfit-l2`` 입니다.
