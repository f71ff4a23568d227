r"""
순환 신경망: RNN, LSTM, GRU
===========================

글, 음성, 시계열은 **순차 데이터 (시퀀스)** 입니다. 한 원소의 의미가 앞의 원소들에 따라 달라지고, 길이도
제각각입니다. 순환 신경망은 시퀀스를 한 시간 단계씩 읽으면서 지금까지 읽은 모든 것의 요약인 **은닉 상태**
:math:`\mathbf h_t` 를 들고 다닙니다. 모든 시간 단계에서 같은 가중치를 씁니다.

.. math::

    \mathbf h_t = \tanh\big(W_{xh}\,\mathbf x_t + W_{hh}\,\mathbf h_{t-1} + \mathbf b\big), \qquad
    \mathbf y_t = W_{hy}\,\mathbf h_t + \mathbf c

이 순환을 시간 단계마다 펼쳐 그리면(**시간 펼침**, 언롤링) 가중치를 공유하는 층이 시간 단계 수만큼 쌓인
깊은 순방향 신경망이 됩니다. 그래서 학습은 펼친 그래프에서의 평범한 역전파, 곧 **시간 펼침 역전파**
(BPTT)입니다. 공유 가중치는 모든 시간 단계에서 온 기울기의 합을 받고, 단계 :math:`t` 에서 단계
:math:`t-k` 까지 거슬러 가는 기울기는 야코비 행렬 :math:`k` 개의 곱입니다.

.. math::

    \frac{\partial L}{\partial W_{hh}} = \sum_t \frac{\partial L}{\partial W_{hh}^{(t)}}, \qquad
    \frac{\partial \mathbf h_t}{\partial \mathbf h_{t-k}} = \prod_{j=t-k+1}^{t}
    \operatorname{diag}\big(1 - \mathbf h_j^2\big)\, W_{hh}

곱하는 인수가 1보다 작으면 이 곱은 기하급수적으로 줄어듭니다. 기울기가 **소멸** 해서 신경망이 멀리 떨어진
의존 관계를 배우지 못합니다(1보다 크면 폭발하는데, 이쪽은 기울기 클리핑으로 막습니다).
**LSTM** (장단기 메모리, Hochreiter & Schmidhuber 1997)은 덧셈으로 갱신되는 **셀 상태** :math:`\mathbf c_t`
를 더합니다. 셀 상태는 시그모이드 **게이트** 세 개(입력 게이트 :math:`\mathbf i`, 망각 게이트
:math:`\mathbf f`, 출력 게이트 :math:`\mathbf o`)와 후보 값 :math:`\mathbf g` 가 조절합니다.

.. math::

    \mathbf i_t &= \sigma(W_{ii}\mathbf x_t + W_{hi}\mathbf h_{t-1} + \mathbf b_i), \quad
    \mathbf f_t = \sigma(W_{if}\mathbf x_t + W_{hf}\mathbf h_{t-1} + \mathbf b_f), \quad
    \mathbf o_t = \sigma(W_{io}\mathbf x_t + W_{ho}\mathbf h_{t-1} + \mathbf b_o) \\
    \mathbf g_t &= \tanh(W_{ig}\mathbf x_t + W_{hg}\mathbf h_{t-1} + \mathbf b_g), \qquad
    \mathbf c_t = \mathbf f_t \odot \mathbf c_{t-1} + \mathbf i_t \odot \mathbf g_t, \qquad
    \mathbf h_t = \mathbf o_t \odot \tanh(\mathbf c_t)

셀 상태를 따라가는 야코비 행렬은 :math:`\operatorname{diag}(\mathbf f_t)` 입니다. 망각 게이트가 1에 가까우면
기울기가 멀리까지 갑니다. **GRU** (게이트 순환 유닛, Cho 외 2014)는 리셋 게이트 :math:`\mathbf r` 와
업데이트 게이트 :math:`\mathbf z` 두 개만으로, 따로 셀 상태를 두지 않고 같은 효과를 얻습니다.

.. math::

    \mathbf r_t &= \sigma(W_{ir}\mathbf x_t + \mathbf b_{ir} + W_{hr}\mathbf h_{t-1} + \mathbf b_{hr}), \quad
    \mathbf z_t = \sigma(W_{iz}\mathbf x_t + \mathbf b_{iz} + W_{hz}\mathbf h_{t-1} + \mathbf b_{hz}) \\
    \mathbf n_t &= \tanh\big(W_{in}\mathbf x_t + \mathbf b_{in} + \mathbf r_t \odot (W_{hn}\mathbf h_{t-1}
    + \mathbf b_{hn})\big), \qquad
    \mathbf h_t = (1 - \mathbf z_t) \odot \mathbf n_t + \mathbf z_t \odot \mathbf h_{t-1}

gradus에서는 층으로 ``nn.RNN``, ``nn.LSTM``, ``nn.GRU`` 가, 한 시간 단계짜리 셀로 ``nn.RNNCell``,
``nn.LSTMCell``, ``nn.GRUCell`` 이 있으며, 시그니처, 매개변수 이름, 게이트 순서가 모두 PyTorch와 같습니다
(:source:`src/gradus/nn/rnn.py`). 한 단계의 게이트 계산은 :source:`src/gradus/functional/recurrent.py` 에
융합 연산으로 들어 있습니다. 긴 글에서의 단절 BPTT에는 ``gradus.data.bptt_batches``
(:source:`src/gradus/data/sequence.py`)와 ``gradus.train.detach_state``
(:source:`src/gradus/train/trainer.py`)를 쓰고, 문자 수준 언어 모델은 ``gradus.models.CharRNN``
(:source:`src/gradus/models/char_rnn.py`)입니다.
"""

# %%
# 순환을 직접 계산하기, 그리고 BPTT
# ---------------------------------
# ``nn.RNN`` 은 ``(T, B, input_size)`` 시퀀스를 받아 모든 은닉 상태와 마지막 은닉 상태를 돌려줍니다. 같은
# 반복문을 층의 가중치를 그대로 가져와 gradus 연산으로 직접 써 보고 비교합니다(PyTorch의 구성은 편향을
# ``bias_ih`` 와 ``bias_hh`` 두 개로 나누어 두는데, 둘의 합이 식의 :math:`\mathbf b` 입니다).
import os

import matplotlib.pyplot as plt
import numpy as np

import gradus
import gradus.functional as F
from gradus import nn, optim
from gradus.data.datasets import TinyShakespeare
from gradus.models import (
    CharRNN,
    CharRNNConfig,
    DigitCaptioner,
    DigitCaptionerConfig,
    Seq2Seq,
    Seq2SeqConfig,
    SequenceClassifier,
    SequenceTagger,
    SequenceTaggerConfig,
    digit_name_targets,
)
from gradus.train import detach_state

FAST = os.environ.get("GRADUS_DOCS_FAST") == "1"

gradus.manual_seed(0)
T, I, H = 12, 3, 8
rnn = nn.RNN(input_size=I, hidden_size=H)
x = gradus.randn(T, 1, I)
out, h_n = rnn(x)                                             # (T, 1, H), (1, 1, H)

W_xh, W_hh = rnn.weight_ih_l0, rnn.weight_hh_l0               # (H, I), (H, H)
b = rnn.bias_ih_l0 + rnn.bias_hh_l0
W_hh_copies = [gradus.tensor(W_hh.detach().numpy(), requires_grad=True) for _ in range(T)]
h = gradus.zeros(1, H)
states = []
for t in range(T):                                            # 펼친 반복문: 단계마다 W_hh 복사본 하나
    h = gradus.tanh(x[t] @ W_xh.T + h @ W_hh_copies[t].T + b)
    states.append(h)
by_hand = np.stack([s.numpy()[0] for s in states])           # (T, H)
print(f"max |nn.RNN - by hand| over all {T} states: {np.abs(out.numpy()[:, 0] - by_hand).max():.1e}")

states[-1].sum().backward()                                   # L = 마지막 은닉 상태의 합
out[-1].sum().backward()                                      # 같은 L 을 nn.RNN 으로
per_step = [W.grad.numpy() for W in W_hh_copies]
print(f"||dL/dW_hh|| of nn.RNN = {np.linalg.norm(W_hh.grad.numpy()):.6f}, "
      f"sum of the {T} per-step copies = {np.linalg.norm(sum(per_step)):.6f}")

fig, ax = plt.subplots(figsize=(7, 3))
ax.bar(np.arange(1, T + 1), [np.linalg.norm(g) for g in per_step], color="tab:blue")
ax.set_yscale("log")
ax.set_xlabel("time step t of the copy of W_hh")
ax.set_ylabel("||dL/dW_hh^(t)||")
ax.set_title("BPTT: each step's share of the gradient of L = sum(h_T)")
fig.tight_layout()

# %%
# 공유 행렬의 전체 기울기는 시간 단계별 기울기의 합과 같고(두 노름이 일치합니다), 손실에서 먼 단계일수록
# 기여가 몇 자릿수씩 작습니다. 12단계짜리 장난감 예제에서도 벌써 경사 소멸이 보입니다. (1단계의 복사본은
# :math:`\mathbf h_0 = \mathbf 0` 에 곱해지므로 기여가 정확히 0이고, 로그 눈금에는 막대가 나타나지 않습니다.)
#
# 네 가지 구성
# ------------
# 각 시간 단계에 무엇이 들어가고 무엇이 나오는지가 문제를 정합니다. 입력 하나에서 시퀀스가 나오는
# **일대다** (영상 캡션 생성), 시퀀스가 들어가고 끝에서 출력 하나가 나오는 **다대일** (문장 분류), 입력
# 단계마다 출력이 하나씩 나오는 **정렬된 다대다** (단어마다 태그 붙이기, 다음 글자 예측), 그리고 시퀀스를 다
# 읽은 뒤에야 출력 시퀀스가 나오는 **지연된 다대다** (번역, 인코더-디코더 곧 seq2seq)입니다.


def draw_arrangement(ax, title, inputs, outputs, steps=4):
    """Boxes: inputs (bottom, red), hidden states (middle, green), outputs (top, blue)."""
    for t in range(steps):
        ax.add_patch(plt.Rectangle((t - 0.3, 0.7), 0.6, 0.6, color="#86efac"))
        if t > 0:
            ax.annotate("", xy=(t - 0.3, 1.0), xytext=(t - 0.7, 1.0), arrowprops=dict(arrowstyle="->"))
        if t in inputs:
            ax.add_patch(plt.Rectangle((t - 0.3, -0.4), 0.6, 0.6, color="#fca5a5"))
            ax.annotate("", xy=(t, 0.7), xytext=(t, 0.2), arrowprops=dict(arrowstyle="->"))
        if t in outputs:
            ax.add_patch(plt.Rectangle((t - 0.3, 1.8), 0.6, 0.6, color="#93c5fd"))
            ax.annotate("", xy=(t, 1.8), xytext=(t, 1.3), arrowprops=dict(arrowstyle="->"))
    ax.set_xlim(-0.6, steps - 0.4)
    ax.set_ylim(-0.6, 2.6)
    ax.set_title(title, fontsize=9)
    ax.set_axis_off()


fig, axes = plt.subplots(1, 4, figsize=(12, 2.8))
draw_arrangement(axes[0], "one-to-many\n(captioning)", inputs={0}, outputs={0, 1, 2, 3})
draw_arrangement(axes[1], "many-to-one\n(classification)", inputs={0, 1, 2, 3}, outputs={3})
draw_arrangement(axes[2], "aligned many-to-many\n(tagging, next character)", inputs={0, 1, 2, 3},
                 outputs={0, 1, 2, 3})
draw_arrangement(axes[3], "delayed many-to-many\n(translation, seq2seq)", inputs={0, 1}, outputs={2, 3},
                 steps=4)
fig.tight_layout()

# %%
# gradus에는 구성마다 모델이 있습니다(여기서는 학습하지 않았습니다. 형상을 보는 것이 목적입니다).

gradus.manual_seed(0)
captioner = DigitCaptioner(DigitCaptionerConfig(channels=(4, 8), feature_dim=16, hidden_size=16))
tgt_in, tgt_out = digit_name_targets([3, 7])                  # "<sos> t h r e e" -> "t h r e e <eos>"
print("one-to-many   DigitCaptioner:     image (2, 1, 28, 28) -> letters",
      captioner(gradus.zeros(2, 1, 28, 28), gradus.tensor(tgt_in)).shape)
classifier = SequenceClassifier(input_size=28, hidden_size=32, num_classes=10)
print("many-to-one   SequenceClassifier: rows  (5, 1, 28, 28) -> classes",
      classifier(gradus.zeros(5, 1, 28, 28)).shape)
tagger = SequenceTagger(SequenceTaggerConfig(vocab_size=40, num_tags=2, hidden_size=16))
print("many-to-many  SequenceTagger:     ids   (4, 25)        -> tags   ",
      tagger(gradus.zeros(4, 25, dtype=gradus.int64)).shape)
translator = Seq2Seq(Seq2SeqConfig(src_vocab=12, tgt_vocab=14, hidden_size=16, attention=None))
print("delayed       Seq2Seq:            src (3, 7), tgt (3, 5) -> words  ",
      translator(gradus.zeros(3, 7, dtype=gradus.int64), gradus.zeros(3, 5, dtype=gradus.int64)).shape)

# %%
# 실제 데이터로 학습하는 곳과, ``benchmarks/RESULTS.md`` 에 기록된 측정값입니다.
#
# .. list-table::
#    :header-rows: 1
#
#    * - 구성
#      - gradus
#      - 학습하는 곳
#    * - 일대다
#      - ``DigitCaptioner`` (:source:`src/gradus/models/captioner.py`): CNN이 MNIST 숫자를 읽고 LSTM이 그
#        이름을 철자로 씀
#      - :source:`docs/examples/one_to_many_captions.py`
#    * - 다대일
#      - ``SequenceClassifier`` (:source:`src/gradus/models/sequence.py`)
#      - ``gradus train sequential-mnist-lstm`` (MNIST를 한 행씩 읽음: 테스트 정확도 0.9894),
#        ``gradus train sentiment-lstm`` (0.797)
#    * - 정렬된 다대다
#      - ``SequenceTagger`` (:source:`src/gradus/models/tagger.py`), ``CharRNN`` (단계마다 다음 글자를
#        예측)
#      - :source:`docs/examples/many_to_many_tagger.py`, ``gradus train shakespeare-char-lstm``
#    * - 지연된 다대다
#      - ``Seq2Seq`` (:source:`src/gradus/models/seq2seq.py`)
#      - ``gradus train seq2seq-translate`` (BLEU 19.16, 어텐션을 쓰는
#        ``seq2seq-attention-translate``: 25.67)
#
# 게이트 하나하나 들여다본 LSTM과 GRU
# -----------------------------------
# ``nn.LSTMCell`` 과 ``nn.GRUCell`` 의 한 단계를 가중치로부터 직접 계산해 봅니다. PyTorch의 구성은 게이트들을
# 행렬 하나에 쌓아 둡니다. LSTM은 행 순서가 ``[i, f, g, o]``, GRU는 ``[r, z, n]`` 입니다.


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


gradus.manual_seed(0)
xt, h0, c0 = np.random.default_rng(1).standard_normal((3, 2, 4)).astype(np.float32)   # 배치 2, 크기 4
lstm_cell = nn.LSTMCell(4, 4)
Wi, Wh = lstm_cell.weight_ih.detach().numpy(), lstm_cell.weight_hh.detach().numpy()
pre = xt @ Wi.T + lstm_cell.bias_ih.detach().numpy() + h0 @ Wh.T + lstm_cell.bias_hh.detach().numpy()
i, f, g, o = np.split(pre, 4, axis=1)
i, f, g, o = sigmoid(i), sigmoid(f), np.tanh(g), sigmoid(o)
c1 = f * c0 + i * g
h1 = o * np.tanh(c1)
h_cell, c_cell = lstm_cell(gradus.tensor(xt), (gradus.tensor(h0), gradus.tensor(c0)))
print(f"LSTM: max |by hand - LSTMCell|  h {np.abs(h1 - h_cell.numpy()).max():.1e}, "
      f"c {np.abs(c1 - c_cell.numpy()).max():.1e}")

gru_cell = nn.GRUCell(4, 4)
gi = xt @ gru_cell.weight_ih.detach().numpy().T + gru_cell.bias_ih.detach().numpy()
gh = h0 @ gru_cell.weight_hh.detach().numpy().T + gru_cell.bias_hh.detach().numpy()
(gi_r, gi_z, gi_n), (gh_r, gh_z, gh_n) = np.split(gi, 3, axis=1), np.split(gh, 3, axis=1)
r, z = sigmoid(gi_r + gh_r), sigmoid(gi_z + gh_z)
n = np.tanh(gi_n + r * gh_n)
h1_gru = (1 - z) * n + z * h0
h_gru = gru_cell(gradus.tensor(xt), gradus.tensor(h0))
print(f"GRU:  max |by hand - GRUCell|   h {np.abs(h1_gru - h_gru.numpy()).max():.1e}")

for layer in (nn.RNN(128, 128), nn.GRU(128, 128), nn.LSTM(128, 128)):
    print(f"{type(layer).__name__:<5} 128 -> 128: {sum(p.numel() for p in layer.parameters()):,} parameters")

# %%
# 게이트마다 가중치 행렬이 하나씩 있으므로, 크기가 같을 때 GRU는 평범한 RNN의 세 배, LSTM은 네 배의
# 매개변수를 가집니다.
#
# 경사 소멸을 직접 재 보기
# ------------------------
# 마지막 은닉 상태 :math:`\mathbf h_T` 의 기울기 가운데 :math:`k` 단계 앞의 입력까지 도달하는 양,
# :math:`\|\partial \mathbf h_T / \partial \mathbf x_{T-k}\|` 는 얼마일까요? 유닛 64개짜리 층을 막 초기화한
# 상태에서 무작위 입력 시퀀스 네 개로 재고 평균합니다(:source:`docs/examples/rnn_vanishing_gradients.py` 와
# 같은 방법). gradus가 따르는 PyTorch의 초기화는 모든 편향을 0 근처에서 뽑기 때문에, 갓 만든 LSTM의 망각
# 게이트는 :math:`\sigma(0) = 0.5` 근처에 있습니다. 네 번째 곡선은 흔히 쓰는 요령(Jozefowicz 외 2015)대로 망각
# 게이트의 편향을 2로 둔 것입니다(:math:`\sigma(2) \approx 0.88`).

steps = 60 if FAST else 150


def gradient_reach(layer, steps, input_size=16, trials=4, seed=0):
    """||d sum(h_T) / d x_{T-k}|| for k = 0 .. steps-1, mean over `trials` random sequences."""
    rng = np.random.default_rng(seed)
    norms = np.zeros(steps)
    for _ in range(trials):
        x = gradus.tensor(rng.standard_normal((steps, 1, input_size)).astype(np.float32), requires_grad=True)
        out = layer(x)[0]                                     # (T, 1, H)
        out[-1].sum().backward()
        norms += np.linalg.norm(x.grad.numpy()[:, 0, :], axis=1)[::-1]   # 인덱스 k = T - 1 - t
    return norms / trials


gradus.manual_seed(0)
layers = {"RNN (tanh)": nn.RNN(16, 64), "LSTM": nn.LSTM(16, 64), "GRU": nn.GRU(16, 64),
          "LSTM, forget bias 2": nn.LSTM(16, 64)}
with gradus.no_grad():
    layers["LSTM, forget bias 2"].bias_ih_l0[64:128] = 2.0      # 행 순서 [i, f, g, o]: f 는 두 번째 덩어리
reach = {name: gradient_reach(layer, steps) for name, layer in layers.items()}
ks = [k for k in (0, 10, 20, 40, 80) if k < steps] + [steps - 1]
print(f"{'k steps back:':<20}" + "".join(f"{k:>10d}" for k in ks))
for name, curve in reach.items():
    print(f"{name:<20}" + "".join(f"{curve[k]:10.1e}" for k in ks))

fig, ax = plt.subplots(figsize=(7, 3.8))
for name, curve in reach.items():
    ax.semilogy(np.arange(steps), curve, label=name)
ax.set_xlabel("k (steps back from the last one)")
ax.set_ylabel("||dh_T / dx_(T-k)||")
ax.set_title("gradient reaching k steps back (fresh layers, hidden 64)")
ax.legend()
fig.tight_layout()

# %%
# 모든 곡선이 기하급수적으로 떨어집니다. 한 단계 거슬러 갈 때마다 노름이 1보다 작은 야코비 행렬이 곱해지기
# 때문입니다. 평범한 RNN이 단계마다 가장 많이 잃고(곱해지는 인수가 :math:`\operatorname{diag}(1 -
# \mathbf h^2) W_{hh}` 입니다), 갓 만든 LSTM과 GRU는 조금 낫습니다. 덧셈 경로가 있지만 0.5 근처의 게이트가 그
# 경로를 줄이기 때문입니다. 결정적인 것은 망각 게이트입니다. 망각 게이트를 0.88쯤으로 열어 두면 LSTM의 셀
# 상태가 시퀀스 전체에 걸쳐 몇 자릿수나 더 큰 기울기를 실어 나릅니다. 이런 게이트는 학습으로 배울 수 있지만
# (열린 채로 유지되는 망각 게이트가 바로 LSTM이 기억하는 방법입니다), 평범한 RNN에는 이런 손잡이가 없습니다.
#
# 문자 수준 언어 모델
# -------------------
# Karpathy의 char-rnn을 작게 만들어 봅니다. 데이터는 서로 다른 문자 65개로 이루어진 Tiny Shakespeare이고,
# LSTM이 단계마다 글자 하나를 읽고 다음 글자를 예측합니다(정렬된 다대다). 손실은 글자당 nat 단위의 평균 교차
# 엔트로피 :math:`-\frac1N \sum_t \log p(x_{t+1} \mid x_{\le t})` 입니다. 글을 이어진 흐름 32개로 자르고, 학습
# 스텝마다 각 흐름의 다음 50글자 구간을 읽습니다. 이때 앞 구간이 남긴 은닉 상태에서 출발하되 그래프는
# 끊습니다(detach). 이것이 단절 BPTT로, 기울기는 많아야 50단계까지만 거슬러 갑니다.

train_text = TinyShakespeare(split="train")
val_text = TinyShakespeare(split="val")
V = train_text.vocab_size
counts = np.bincount(train_text.data, minlength=V) / len(train_text.data)
print(f"{len(train_text.data):,} training characters, {V} distinct; "
      f"uniform guess {np.log(V):.3f} nats/char, "
      f"character frequencies alone {-(counts * np.log(counts + 1e-12)).sum():.3f}")

train_steps = 12 if FAST else 600
gradus.manual_seed(0)
lm = CharRNN(CharRNNConfig(vocab_size=V, embed_dim=32, hidden_size=128, num_layers=1, dropout=0.0,
                           cell="lstm"))
opt = optim.Adam(lm.parameters(), lr=4e-3)
state, losses = None, []
for step, (xb, yb) in enumerate(train_text.bptt_batches(batch_size=32, bptt=50)):
    if step == train_steps:
        break
    logits, state = lm(gradus.tensor(xb), state)              # (32, 50, V)
    state = detach_state(state)                               # 상태는 넘기고 그래프는 끊음
    loss = F.cross_entropy(logits.reshape(-1, V), gradus.tensor(yb).reshape(-1))
    opt.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(lm.parameters(), 5.0)
    opt.step()
    losses.append(loss.item())

lm.eval()
val_losses, val_state = [], None
with gradus.no_grad():
    for step, (xb, yb) in enumerate(val_text.bptt_batches(batch_size=16, bptt=50)):
        if step == (4 if FAST else 40):
            break
        logits, val_state = lm(gradus.tensor(xb), val_state)
        val_losses.append(F.cross_entropy(logits.reshape(-1, V), gradus.tensor(yb).reshape(-1)).item())
print(f"{train_steps} steps ({train_steps * 32 * 50:,} characters read): "
      f"training loss {np.mean(losses[-10:]):.3f}, "
      f"validation loss {np.mean(val_losses):.3f} nats/char")

prompt = "ROMEO:"
sample = lm.generate(train_text.encode(prompt).tolist(), 300, temperature=0.8, top_k=10,
                     generator=np.random.default_rng(0))
print("--- sample ---\n" + prompt + train_text.decode(sample))

fig, ax = plt.subplots(figsize=(7, 3.4))
ax.plot(np.arange(1, len(losses) + 1), losses, label="training loss (per window)")
ax.axhline(np.mean(val_losses), color="tab:orange", linestyle="--", label="validation loss at the end")
ax.axhline(np.log(V), color="gray", linestyle=":", label="uniform guess, log 65")
ax.set_xlabel("training step (32 streams x 50 characters)")
ax.set_ylabel("nats per character")
ax.set_title("character LSTM on Tiny Shakespeare")
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# 몇백 스텝만으로도 모델은 글의 겉모습을 배웁니다. 대문자로 쓴 화자 이름과 그 뒤의 쌍점, 줄바꿈, 짧은 단어,
# 자주 나오는 영어 철자 같은 것들입니다. 단어 자체는 그다음에 옵니다. 레시피
# ``gradus train shakespeare-char-lstm`` 은 제 크기의 모델(유닛 512개짜리 LSTM 2층, 흐름 64개 × 100단계,
# 전체 글로 4 에포크)을 학습합니다. ``benchmarks/RESULTS.md`` 에 기록된 검증 손실은 글자당 1.516 nat입니다
# (에포크 1-4 뒤 1.818 / 1.615 / 1.547 / 1.516, 다른 작업과 나누어 쓴 CPU 코어 하나에서 4 에포크에 7,132초).
# 다음 장에서는 인코더-디코더와 어텐션을 다룹니다. 여기서 남은 약점, 곧 신경망이 과거에 대해 아는 모든 것이
# :math:`\mathbf h_t` 하나에 담겨야 한다는 문제를 해결하는 방법입니다.
