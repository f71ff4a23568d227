r"""
seq2seq와 어텐션
================

번역은 한 시퀀스를 길이가 다른 시퀀스로 바꾸는 문제입니다. **인코더-디코더** (Sutskever 외 2014; Cho 외 2014)는
이 일을 순환 신경망 두 개로 해냅니다. 인코더는 원문 :math:`x_1 \dots x_S` 를 읽으며 은닉 상태
:math:`\mathbf s_j` 를 남기고, 그 마지막 상태가 **문맥 벡터** :math:`\mathbf c = \mathbf s_S` 가 됩니다. 디코더는
:math:`\mathbf c` 에서 출발해 번역문을 한 토큰씩 써 나갑니다. 매 단계 바로 앞 토큰을 읽고, Cho의 모델에서는
:math:`\mathbf c` 도 다시 읽습니다.

.. math::

    \mathbf s_j = \mathrm{GRU}(\mathbf e(x_j), \mathbf s_{j-1}), \qquad
    \mathbf h_t = \mathrm{GRU}([\mathbf e(y_{t-1}); \mathbf c], \mathbf h_{t-1}), \qquad
    p(y_t \mid y_{<t}, x) = \mathrm{softmax}(W_o \mathbf h_t + \mathbf b_o)

학습에는 **교사 강요** 를 씁니다. 디코더는 자기가 추측한 토큰이 아니라 정답 :math:`y_{t-1}` 을 입력으로 읽고,
손실은 모든 :math:`y_t` 에 대한 교차 엔트로피입니다. 약점은 :math:`\mathbf c` 입니다. 문장이 아무리 길어도 크기가
고정된 벡터 하나에 문장 전체를 담아야 합니다. 이것이 **병목** 이고, 그래서 문장이 길수록 번역이 나빠집니다.

**어텐션** (Bahdanau 외 2015; Luong 외 2015)은 이 병목을 없앱니다. 디코더는 매 단계 인코더의 상태 *전부* 를
다시 봅니다. 현재 상태와 원문의 각 위치를 비교해 점수를 매기고, 소프트맥스로 점수를 가중치로 바꾼 다음,
상태들의 가중 평균을 읽습니다. 이것이 그 단계만의 문맥 벡터 :math:`\mathbf c_t` 입니다.

.. math::

    e_{t,j} = \mathrm{score}(\mathbf h_t, \mathbf s_j), \qquad
    a_{t,j} = \frac{\exp e_{t,j}}{\sum_{k=1}^{S} \exp e_{t,k}}, \qquad
    \mathbf c_t = \sum_{j=1}^{S} a_{t,j}\, \mathbf s_j, \qquad
    \tilde{\mathbf h}_t = \tanh(W_c [\mathbf c_t; \mathbf h_t])

그리고 :math:`\tilde{\mathbf h}_t` 로 :math:`y_t` 를 예측합니다. **정렬 점수** (alignment score)에는 고전적인 형태가
세 가지 있습니다. *dot* :math:`\mathbf h_t^{\mathsf T} \mathbf s_j`, *general*
:math:`\mathbf h_t^{\mathsf T} W_a \mathbf s_j` (Luong), 그리고 *가산 어텐션* (바다나우 어텐션)
:math:`\mathbf v^{\mathsf T} \tanh(W_1 \mathbf h_t + W_2 \mathbf s_j)` 입니다. **어텐션 가중치**
:math:`a_{t,j}` 는 모델이 단어 :math:`t` 를 쓸 때 원문의 어디를 보는지 알려 줍니다. 행렬로 그리면 부드러운 단어
정렬이 되는데, 데이터에 정렬 정보가 전혀 없는데도 모델이 스스로 학습한 것입니다.

gradus에는 두 모델이 한 클래스 ``gradus.models.Seq2Seq`` (:source:`src/gradus/models/seq2seq.py`)에 들어 있습니다.
``attention=None`` 이면 문맥 벡터 하나를 쓰는 모델이고, ``"dot"``, ``"general"``, ``"additive"`` 는 어텐션 점수의
종류입니다. ``forward`` 는 교사 강요로 계산하고, ``greedy`` 와 ``beam`` 은 디코딩을 합니다
(:source:`src/gradus/models/decoding.py`). ``attention_weights`` 에는 마지막 탐욕적 디코딩의 가중치가 남습니다.
인코더는 패킹된 시퀀스 위에서 도는 ``nn.GRU`` (:source:`src/gradus/nn/rnn.py`)이므로 패딩은 상태에 섞여 들지
않습니다.
"""

# %%
# 장난감 번역: 숫자열 뒤집기
# --------------------------
# "문장"은 숫자 2개에서 ``max_len`` 개로 된 숫자열이고, 그 "번역"은 같은 숫자를 거꾸로 쓴 것입니다. 언어
# 지식은 필요 없고 기억력만 필요한 과제입니다. 출력의 첫 숫자를 쓰려면 입력의 *마지막* 숫자를 알아야 하므로,
# 숫자열 전체가 디코더까지 전달되어야 합니다. 토큰 id는 0이 패딩, 1이 ``<sos>``, 2가 ``<eos>`` 이고, 숫자
# 0-9는 id 3-12입니다. 원문은 ``<eos>`` 로 끝나고, 목표 시퀀스는 ``<sos>`` + 뒤집은 숫자 + ``<eos>`` 이며,
# 디코더는 이것을 한 칸 밀어서 읽습니다.
import os

import matplotlib.pyplot as plt
import numpy as np

import gradus
import gradus.functional as F
from gradus import optim
from gradus.models import Seq2Seq, Seq2SeqConfig

FAST = os.environ.get("GRADUS_DOCS_FAST") == "1"
max_len = 5 if FAST else 12                     # 가장 긴 숫자열
steps = 30 if FAST else 250                     # 모델마다 학습 스텝 수
batch = 256 if FAST else 128
hidden = 32 if FAST else 64
lr = 0.03 if FAST else 0.01
PAD, SOS, EOS, VOCAB = 0, 1, 2, 13


def reversal_batch(n, rng, lo=2, hi=max_len):
    """n random digit strings of lo..hi digits: (source ids, target ids, lengths), padded with 0."""
    lengths = rng.integers(lo, hi + 1, n)
    src = np.zeros((n, hi + 1), np.int64)
    tgt = np.zeros((n, hi + 2), np.int64)
    for i, n_digits in enumerate(lengths):
        digits = rng.integers(3, VOCAB, n_digits)
        src[i, :n_digits], src[i, n_digits] = digits, EOS
        tgt[i, 0], tgt[i, 1:n_digits + 1], tgt[i, n_digits + 1] = SOS, digits[::-1], EOS
    return src, tgt, lengths


def show(ids):
    """Token ids as text: digits, and <eos> as '.'"""
    return "".join("." if t == EOS else str(t - 3) for t in ids if t != PAD and t != SOS)


src, tgt, lengths = reversal_batch(3, np.random.default_rng(0))
for s, t in zip(src, tgt):
    print(f"source {show(s):<14} target {show(t):<14} ids {s.tolist()} -> {t.tolist()}")

# %%
# 문맥 벡터 하나 대 어텐션
# ------------------------
# ``attention`` 만 다르고 나머지는 같은 ``Seq2Seq`` 모델 두 개를 학습합니다. 임베딩과 GRU 크기가 같고, 데이터
# 흐름도 같고(스텝마다 새로 뽑은 무작위 배치), 교사 강요로 계산한 교차 엔트로피에 Adam을 같은 스텝 수만큼
# 적용합니다. 그다음 두 모델이 처음 보는 숫자열을 탐욕적 디코딩으로 번역하게 하고, 완전히 맞게 뒤집은 숫자열의
# 비율을 길이별로 셉니다.


def train(attention, seed=0):
    gradus.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = Seq2Seq(Seq2SeqConfig(src_vocab=VOCAB, tgt_vocab=VOCAB, embed_dim=32, hidden_size=hidden,
                                attention=attention, pad_id=PAD, sos_id=SOS, eos_id=EOS))
    opt = optim.Adam(net.parameters(), lr=lr)
    for step in range(steps):
        src, tgt, _ = reversal_batch(batch, rng)
        logits = net(gradus.tensor(src), gradus.tensor(tgt[:, :-1]))       # 교사 강요
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), gradus.tensor(tgt[:, 1:].reshape(-1)),
                               ignore_index=PAD)
        opt.zero_grad()
        loss.backward()
        opt.step()
    n_params = sum(p.numel() for p in net.parameters())
    print(f"attention={attention!s:<8} {n_params} parameters, final training loss {loss.item():.3f}")
    return net


def exact(hyps, tgt, lengths):
    """Per string: was the whole reversal, <eos> included, right?"""
    return np.array([h == t[1:n + 2].tolist() for h, t, n in zip(hyps, tgt, lengths)])


models = {"one context vector": train(None), "attention (general)": train("general")}
test_src, test_tgt, test_len = reversal_batch(400, np.random.default_rng(1))
by_length = {}
for name, net in models.items():
    ok = exact(net.greedy(gradus.tensor(test_src), max_len=max_len + 2), test_tgt, test_len)
    by_length[name] = [ok[test_len == n].mean() for n in range(2, max_len + 1)]
    print(f"{name:<20} exact match {ok.mean():.3f}; by length:",
          " ".join(f"{a:.2f}" for a in by_length[name]))

fig, ax = plt.subplots(figsize=(6, 3.6))
for name, acc in by_length.items():
    ax.plot(range(2, max_len + 1), acc, "o-", label=name)
ax.set_xticks(range(2, max_len + 1))
ax.set_xlabel("digits in the string")
ax.set_ylabel("strings reversed exactly")
ax.set_ylim(-0.03, 1.03)
ax.set_title(f"the bottleneck in miniature ({steps} training steps each)")
ax.legend()
fig.tight_layout()

# %%
# 짧은 숫자열은 두 모델 모두 맞힙니다. 문맥 벡터 하나만 쓰는 모델은 숫자열이 길어질수록 정확도가 떨어집니다.
# 크기가 고정된 상태 하나가 디코더가 쓸 때까지 모든 숫자를 들고 있어야 하기 때문입니다. 어텐션 모델은 숫자를
# 들고 다니지 않고, 필요할 때 돌아가서 봅니다(위에 출력된 숫자). 빠른 빌드의 작은 설정에서는 학습이 짧아 두
# 모델 모두 약하지만, 길이에 따라 벌어지는 격차는 같은 이야기를 합니다.
#
# 디코더는 어디를 보는가
# ----------------------
# ``greedy`` 는 디코딩하면서 계산한 어텐션 가중치 :math:`a_{t,j}` 를 ``attention_weights`` 에 남깁니다. 형상은
# (배치, 출력 단계, 원문 위치)입니다. 뒤집기에서 올바른 정렬은 반대쪽 대각선입니다. 출력의 :math:`t` 번째
# 숫자는 입력의 :math:`S - t` 번째 숫자입니다. (학습된 지도는 이 대각선에서 한 칸 비껴 있을 수도 있습니다. 인코더
# 상태 :math:`\mathbf s_{j+1}` 은 :math:`x_j` 를 막 읽은 상태라서 :math:`\mathbf s_j` 못지않게 쓸모가 있기
# 때문입니다.)

net = models["attention (general)"]
examples, _, example_len = reversal_batch(3, np.random.default_rng(2), lo=max_len, hi=max_len)
fig, axes = plt.subplots(1, 3, figsize=(11, 4.3))
for ax, s, n in zip(axes, examples, example_len):
    out = net.greedy(gradus.tensor(s[None]), max_len=max_len + 2)[0]
    weights = net.attention_weights[0, :len(out), :n + 1]                  # (출력 단계, 원문 위치)
    ax.imshow(weights, cmap="viridis", vmin=0, vmax=1)
    ax.set_xticks(range(n + 1), list(show(s[:n + 1])))
    ax.set_yticks(range(len(out)), list(show(out)))
    ax.set_xlabel("source")
    ax.set_ylabel("output")
    ax.set_title(f"{show(s)} -> {show(out)}", fontsize=9)
    print(f"{show(s)} -> {show(out)}; largest weight per output step at source position",
          weights.argmax(axis=1).tolist())
fig.suptitle("attention weights a_tj of the trained model")
fig.tight_layout()

# %%
# 출력 단계마다 가중치 대부분이 원문의 한 위치에 몰리고, 그 위치는 거꾸로 진행합니다. 모델은 문장 쌍만 보고
# 과제의 정렬을 학습했습니다. Multi30k에서도 단어 단위로 같은 그림이 나옵니다. 아래 레시피의 어텐션 지도는
# 거의 단조로운 일대일 정렬이고(``Mann`` → ``man``, ``weißen Zaun`` → ``white fence``), 어떤 단어는 원문 단어
# 두 개를 함께 봅니다.
#
# 탐욕적 디코딩과 빔 탐색
# -----------------------
# 모델은 :math:`p(y \mid x) = \prod_t p(y_t \mid y_{<t}, x)` 를 주고, 디코딩은 이 값을 최대로 만드는 :math:`y`
# 를 찾는 일입니다. **탐욕적 디코딩** 은 매 단계 가장 확률이 높은 토큰을 고릅니다. 빠르지만, 그 순간에는 최선으로
# 보인 이른 선택이 더 나쁜 문장으로 이어질 수 있습니다. **빔 탐색** 은 매 단계 (로그 확률의 합으로) 가장 좋은
# 부분 가설 :math:`k` 개를 유지합니다. 각 가설을 모든 토큰으로 한 칸씩 늘린 뒤 다시 가장 좋은 :math:`k` 개만
# 남기고, ``<eos>`` 를 낸 가설은 완성된 것으로 따로 둡니다. 로그 확률의 합은 짧은 출력에 유리하므로, 완성된
# 가설들은 길이 벌점 :math:`\mathrm{lp}(y) = ((5 + |y|)/6)^{\alpha}` (Wu 외 2016)로 나눈
# :math:`\log p(y \mid x) / \mathrm{lp}(y)` 로 비교합니다. 빔 폭이 1이면 탐욕적 디코딩과 같습니다. ``beam`` 은
# 한 번에 한 문장씩 디코딩합니다(:source:`src/gradus/models/decoding.py`). 아래에서는 출력에 가장 자신 없는
# 모델, 곧 문맥 벡터 하나짜리 모델로 긴 숫자열을 탐욕적 디코딩과 빔 폭 4로 번역해 봅니다. ``log p`` 는 가설을
# 교사 강요로 모델에 넣어 계산합니다.


def log_prob(net, src_row, hyp):
    """log p(hyp | src) = sum over steps of log p(y_t | y_<t, x), by teacher forcing."""
    net.eval()
    with gradus.no_grad():
        logits = net(gradus.tensor(src_row[None]), gradus.tensor(np.array([[SOS] + hyp[:-1]])))
    net.train()
    logp = F.log_softmax(logits[0], -1).numpy()
    return float(logp[np.arange(len(hyp)), hyp].sum())


net = models["one context vector"]
n_beam = 20 if FAST else 100
src, tgt, lengths = reversal_batch(n_beam, np.random.default_rng(3), lo=max_len - 1, hi=max_len)
greedy_out = net.greedy(gradus.tensor(src), max_len=max_len + 2)
beam_out = [net.beam(gradus.tensor(s[:n + 1]), beam_size=4, max_len=max_len + 2)
            for s, n in zip(src, lengths)]
print(f"{n_beam} strings of {max_len - 1}-{max_len} digits: exact match greedy "
      f"{exact(greedy_out, tgt, lengths).mean():.3f}, beam 4 {exact(beam_out, tgt, lengths).mean():.3f}")
changed = [i for i in range(n_beam) if greedy_out[i] != beam_out[i]]
print(f"beam search changed {len(changed)} of {n_beam} outputs")
for i in changed[:3]:
    print(f"  source {show(src[i])}: greedy {show(greedy_out[i])} (log p "
          f"{log_prob(net, src[i], greedy_out[i]):.2f}), beam {show(beam_out[i])} "
          f"(log p {log_prob(net, src[i], beam_out[i]):.2f}), reference {show(tgt[i])}")

# %%
# 빔 탐색은 모델 자신이 더 높게 평가하는 가설(길이 벌점을 감안하면 더 큰 ``log p``)을 찾아냅니다. 그 가설이
# *정답* 인지는 모델에 달려 있습니다. 빔 탐색은 답을 모르는 모델을 고쳐 주지 못합니다. 이른 토큰 하나 때문에
# 탐욕적 디코딩이 좋은 문장을 놓치는 일을 막아 줄 뿐입니다.
#
# 실제 번역에서는
# ---------------
# 레시피 ``seq2seq-translate`` 와 ``seq2seq-attention-translate``
# (:source:`src/gradus/recipes/seq2seq-translate.toml`,
# :source:`src/gradus/recipes/seq2seq-attention-translate.toml`, 실행은 둘 다
# :source:`src/gradus/recipes/runners/translate.py`)는 두 종류의 모델을 Multi30k 독일어 → 영어 데이터로
# 학습합니다(문장 쌍 29,000개, BPE 서브워드, 크기 256의 양방향 GRU 인코더, 7 에포크, 레이블 스무딩; 테스트
# BLEU는 sacrebleu로, 빔 폭 5). **BLEU 점수** 는 출력과 정답 번역 사이 1-gram부터 4-gram까지 정밀도의 기하
# 평균에 짧은 출력에 대한 벌점(brevity penalty)을 곱한 값으로, 0-100 척도입니다. :source:`benchmarks/RESULTS.md`
# 에 기록된 측정값입니다(``gradus train seq2seq-translate``, ``gradus train seq2seq-attention-translate``, 시드 0).
#
# .. list-table::
#    :header-rows: 1
#
#    * - 레시피
#      - 파라미터 수
#      - 테스트 BLEU, 빔 5
#      - 탐욕적 디코딩
#    * - ``seq2seq-translate`` (문맥 벡터 하나)
#      - 6.26 M
#      - 19.16
#      - 19.34
#    * - ``seq2seq-attention-translate`` (general 점수, 입력 피딩)
#      - 6.45 M
#      - 25.67
#      - 24.71
#
# 파라미터는 3% 늘었을 뿐인데 BLEU는 6.5 올랐습니다. 같은 파일에 있는 원문 길이별 BLEU입니다(테스트 2016,
# 빔 5).
#
# .. list-table::
#    :header-rows: 1
#
#    * - 원문 단어 수
#      - 1-8
#      - 9-11
#      - 12-14
#      - 15-17
#      - 18-21
#      - 22+
#    * - 문맥 벡터 하나
#      - 25.5
#      - 20.9
#      - 16.8
#      - 16.2
#      - 11.4
#      - 9.9
#    * - 어텐션
#      - 29.0
#      - 27.6
#      - 24.9
#      - 24.1
#      - 16.6
#      - 16.6
#
# 문맥 벡터 하나짜리 모델은 가장 짧은 문장에서 가장 긴 문장으로 가면서 BLEU를 15.6 잃고, 어텐션 모델과의
# 차이는 가장 짧은 문장의 +3.5에서 중간 길이의 약 +8로 커집니다. 실제 문장에서 나타난 병목입니다. (더 오래
# 학습하면 어텐션 모델은 더 나아갑니다. 12 에포크에 27.13, 레시피 자체의 예산인 20 에포크에 28.78로
# 목표 28에 이릅니다. 위의 7 에포크 실행은 두 모델을 같은 예산에서 비교한 것입니다. 모두 RESULTS.md에
# 있습니다.) 빔 탐색은 어텐션 모델에는 탐욕적 디코딩보다 BLEU를 1가량 더 주었지만(25.67 대 24.71), 문맥
# 벡터 모델에는 도움이 되지 않았습니다(19.16 대 19.34). 인코더 상태들 위의 어텐션은 다음 장에서 끝까지 밀고
# 나가는 아이디어입니다. 트랜스포머는 순환을 버리고 어텐션만 남깁니다.
