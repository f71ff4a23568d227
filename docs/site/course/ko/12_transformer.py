r"""
트랜스포머
==========

앞 장의 어텐션은 순환 디코더가 인코더의 모든 상태를 다시 볼 수 있게 해 주었습니다. **트랜스포머**
(Vaswani 외 2017, "Attention Is All You Need")는 어텐션은 남기고 순환을 버립니다. 모든 층에서 모든 위치가 다른
모든 위치를 한꺼번에 보므로, 문장을 단어 하나씩 차례로 처리하지 않고 병렬로 처리하며, 두 단어가 아무리 멀리
떨어져 있어도 그 사이의 경로는 한 단계입니다.

**셀프 어텐션.** 시퀀스 :math:`X` (토큰마다 한 행, 특징 :math:`d` 개)의 각 위치 :math:`i` 는 학습되는 행렬 세
개를 거쳐 **쿼리** :math:`\mathbf q_i`, **키** :math:`\mathbf k_i`, **값** :math:`\mathbf v_i` 가 됩니다.
:math:`Q = X W_Q`, :math:`K = X W_K`, :math:`V = X W_V` 입니다. 위치 :math:`i` 는 자기 쿼리를 모든 키와 비교하고,
그 점수의 소프트맥스를 가중치로 삼아 값들을 읽습니다. 이것이 **스케일드 닷-프로덕트 어텐션** 입니다.

.. math::

    \mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{Q K^{\mathsf T}}{\sqrt{d_k}} + M\right) V

여기서 :math:`d_k` 는 쿼리의 크기이고 :math:`M` 은 마스크입니다(쿼리가 볼 수 있는 곳은 0, 볼 수 없는 곳은
:math:`-\infty`). 앞 장의 "dot" 점수에 쿼리, 키, 값을 따로 둔 것이라고 보면 됩니다. **멀티헤드 어텐션** 은 이런
어텐션 :math:`h` 개를 크기 :math:`d/h` 의 사영 위에서 나란히 계산하고 이어 붙입니다. 헤드마다 서로 다른 것을
찾아볼 수 있도록 하기 위해서입니다.

.. math::

    \mathrm{head}_j = \mathrm{Attention}(X W_Q^{(j)}, X W_K^{(j)}, X W_V^{(j)}), \qquad
    \mathrm{MultiHead}(X) = [\mathrm{head}_1; \dots; \mathrm{head}_h]\, W_O

층의 나머지 부분은 깊게 쌓아도 학습이 되게 하는 배관입니다. 모든 위치에 똑같이 적용하는 **위치별 피드포워드
신경망** :math:`\mathrm{FFN}(\mathbf x) = W_2 \max(0, W_1 \mathbf x + \mathbf b_1) + \mathbf b_2`, 두 부층(sublayer)을
감싸는 **잔차 연결**, 그리고 각 덧셈 뒤의 **층 정규화** 입니다(논문의 *post-LN*).

.. math::

    \mathbf x \leftarrow \mathrm{LN}(\mathbf x + \mathrm{MultiHead}(\mathbf x)), \qquad
    \mathbf x \leftarrow \mathrm{LN}(\mathbf x + \mathrm{FFN}(\mathbf x))

gradus의 코드는 PyTorch와 이름과 인자가 같습니다. ``F.scaled_dot_product_attention`` 과
``F.multi_head_attention_forward`` (:source:`src/gradus/functional/attention.py`), ``nn.MultiheadAttention``
(:source:`src/gradus/nn/attention.py`), ``nn.LayerNorm`` (:source:`src/gradus/nn/norm.py`),
``nn.TransformerEncoderLayer``, ``nn.TransformerDecoderLayer``, ``nn.Transformer``
(:source:`src/gradus/nn/transformer.py`), 그리고 위치 인코딩(:source:`src/gradus/nn/positional.py`)이 있습니다.
``gradus.models.transformer_translator.TransformerTranslator``
(:source:`src/gradus/models/transformer_translator.py`)는 여기에 임베딩, 마스크, 출력층, 탐욕적 디코딩과 빔 탐색을
더합니다. 이 모두가 float64에서 PyTorch와 약 :math:`10^{-14}` 까지 일치합니다
(``tests/oracle/test_transformer_oracle.py``).
"""

# %%
# :math:`\sqrt{d_k}` 로 나누는 이유
# ---------------------------------
# :math:`\mathbf q` 와 :math:`\mathbf k` 의 성분이 평균 0, 분산 1로 서로 독립이면, 내적
# :math:`\mathbf q \cdot \mathbf k = \sum_{m=1}^{d_k} q_m k_m` 의 분산은 :math:`d_k` 입니다. :math:`d_k = 512` 이면
# 점수가 대략 :math:`\pm 23` 범위로 퍼지고, 이런 수들의 소프트맥스는 거의 원-핫이 됩니다. 소프트맥스가
# **포화** 되어 그 기울기(야코비 행렬 :math:`\mathrm{diag}(\mathbf p) - \mathbf p \mathbf p^{\mathsf T}`)가 사라집니다.
# :math:`\sqrt{d_k}` 로 나누면 크기와 상관없이 분산이 다시 1이 됩니다. 직접 재 봅니다. 쿼리마다 키 16개, 쿼리
# 200개로, 스케일이 있을 때와 없을 때 가장 큰 소프트맥스 가중치와 점수까지 전달되는 기울기를 측정합니다.
import inspect
import os

import matplotlib.pyplot as plt
import numpy as np

import gradus
import gradus.functional as F
from gradus import nn, optim
from gradus.models.transformer_translator import TransformerTranslator

FAST = os.environ.get("GRADUS_DOCS_FAST") == "1"
rng = np.random.default_rng(0)

sizes = [4, 16, 64, 256, 1024]
table = {"unscaled": [], "scaled by 1/sqrt(d_k)": []}
grads = {"unscaled": [], "scaled by 1/sqrt(d_k)": []}
for d_k in sizes:
    q = rng.standard_normal((200, 1, d_k))
    k = rng.standard_normal((200, 16, d_k))
    raw = (q * k).sum(-1)                                          # (200, 16) 내적
    for name, scale in (("unscaled", 1.0), ("scaled by 1/sqrt(d_k)", 1 / np.sqrt(d_k))):
        scores = gradus.tensor(raw * scale, requires_grad=True)
        p = gradus.softmax(scores, -1)
        (p * gradus.tensor(rng.standard_normal(p.shape))).sum().backward()   # 무작위 상류 기울기
        table[name].append(p.numpy().max(-1).mean())
        grads[name].append(np.linalg.norm(scores.grad.numpy(), axis=-1).mean())
    print(f"d_k = {d_k:4d}: score std {raw.std():6.2f}, mean largest weight unscaled "
          f"{table['unscaled'][-1]:.3f} / scaled {table['scaled by 1/sqrt(d_k)'][-1]:.3f}, "
          f"gradient norm unscaled {grads['unscaled'][-1]:.4f} / scaled {grads['scaled by 1/sqrt(d_k)'][-1]:.4f}")

fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
for name in table:
    axes[0].plot(sizes, table[name], "o-", label=name)
    axes[1].plot(sizes, grads[name], "o-", label=name)
axes[0].axhline(1 / 16, color="gray", linestyle=":", label="uniform (1/16)")
axes[0].set_title("mean largest softmax weight (16 keys)")
axes[1].set_title("mean |dL/d scores| (a random upstream)")
for ax in axes:
    ax.set_xscale("log", base=2)
    ax.set_xlabel("d_k")
axes[0].legend(fontsize=8)
axes[1].set_yscale("log")
fig.tight_layout()

# %%
# 스케일이 없으면 :math:`d_k` 가 커질수록 가장 큰 가중치가 1에 가까워지고, 점수에 전달되는 기울기도 함께
# 줄어듭니다. 어텐션은 우연히 키 하나를 고르고, 다른 키를 고르는 법은 느리게 배웁니다. 스케일을 두면 크기가
# 얼마든 두 값 모두 :math:`d_k = 4` 일 때와 같은 자리에 머뭅니다.
#
# 마스크
# ------
# 마스크는 두 가지를 씁니다. **패딩 마스크** 는 배치 안의 짧은 시퀀스에 붙은 패딩 위치를 키에서 가립니다.
# **인과적 마스크** (룩어헤드 마스크)는 디코더의 위치 :math:`i` 가 그 뒤의 위치 :math:`j > i` 를 보지 못하게
# 합니다. 그래서 문장 전체를 한 번에 학습해도 단어를 하나씩 써 나가는 것과 같아집니다.
# ``F.scaled_dot_product_attention`` 은 불리언 ``attn_mask`` (True: 볼 수 있음)나 ``is_causal=True`` 를 받습니다.
# (``nn.MultiheadAttention`` 과 ``nn.Transformer`` 는 PyTorch와 같이 반대 규칙을 씁니다. True가 *가림* 이고, 0과
# :math:`-\infty` 로 된 실수 마스크도 받습니다.) 값을 단위 행렬로 두면 어텐션의 출력이 곧 가중치 행렬이므로,
# 융합된 함수가 실제로 쓴 가중치를 그려 볼 수 있습니다.

L = 6
q = gradus.tensor(rng.standard_normal((1, L, 8)))
k = gradus.tensor(rng.standard_normal((1, L, 8)))
identity = gradus.tensor(np.eye(L))                               # V = I: 출력 = 가중치
padding = gradus.tensor(np.arange(L) < 4)                          # 마지막 키 2개는 패딩
masks = {"no mask": dict(), "padding mask (2 keys)": dict(attn_mask=padding),
         "causal mask": dict(is_causal=True)}
fig, axes = plt.subplots(1, 3, figsize=(9.5, 3.3))
for ax, (name, kwargs) in zip(axes, masks.items()):
    weights = F.scaled_dot_product_attention(q, k, identity, **kwargs).numpy()[0]
    ax.imshow(weights, cmap="viridis", vmin=0, vmax=1)
    ax.set_title(name, fontsize=9)
    ax.set_xlabel("key position")
    ax.set_ylabel("query position")
    print(f"{name:<22} weight above the diagonal {np.triu(weights, 1).sum():.3f}, "
          f"on the last 2 keys {weights[:, 4:].sum():.3f}, rows sum to 1: {np.allclose(weights.sum(-1), 1)}")
fig.tight_layout()

# 같은 가중치를 공식으로: softmax(Q K^T / sqrt(d_k) + M)
scores = q.numpy()[0] @ k.numpy()[0].T / np.sqrt(8) + np.where(np.tri(L) > 0, 0, -np.inf)
by_hand = np.exp(scores - scores.max(-1, keepdims=True))
by_hand /= by_hand.sum(-1, keepdims=True)
print("causal: max |SDPA - formula| =", np.abs(weights - by_hand).max())

# %%
# 멀티헤드 어텐션
# ---------------
# ``nn.MultiheadAttention(embed_dim, num_heads)`` 는 :math:`W_Q, W_K, W_V` 를 형상 :math:`(3d, d)` 의
# ``in_proj_weight`` 하나에 묶어 두고, :math:`W_O` 는 ``out_proj`` 에 둡니다. 아래에서는 모듈의 출력을 손으로 다시
# 계산합니다. 사영하고, 특징을 헤드별로 나누고, 모든 헤드에 대해 한꺼번에 ``F.scaled_dot_product_attention`` 을
# 실행하고(헤드는 배치 차원 하나일 뿐입니다), 헤드를 다시 이어 붙여 사영합니다. ``average_attn_weights=False``
# 로 부르면 헤드마다의 가중치를 돌려줍니다.

d, h, T = 16, 4, 5
gradus.manual_seed(0)
mha = nn.MultiheadAttention(embed_dim=d, num_heads=h, batch_first=True)
x = gradus.tensor(rng.standard_normal((2, T, d)).astype(np.float32))          # (N, T, d)
with gradus.no_grad():
    out, per_head = mha(x, x, x, average_attn_weights=False)
    W_q, W_k, W_v = mha.in_proj_weight.chunk(3, dim=0)
    b_q, b_k, b_v = mha.in_proj_bias.chunk(3, dim=0)

    def heads(t):                                                  # (N, T, d) -> (N, h, T, d/h)
        return t.reshape(2, T, h, d // h).permute(0, 2, 1, 3)

    o = F.scaled_dot_product_attention(heads(F.linear(x, W_q, b_q)), heads(F.linear(x, W_k, b_k)),
                                       heads(F.linear(x, W_v, b_v)))
    o = mha.out_proj(o.permute(0, 2, 1, 3).reshape(2, T, d))
print("per-head weights:", per_head.shape, " max |module - by hand| =", np.abs(out.numpy() - o.numpy()).max())
n_mha = sum(p.numel() for p in mha.parameters())
print(f"parameters: {n_mha} = 4 d^2 + 4 d = {4 * d * d + 4 * d}")

# %%
# 파라미터 수는 :math:`h` 와 상관이 없습니다. 헤드가 많아지면 헤드 하나가 작아질 뿐이고, 층 전체의 비용은 크기
# :math:`d` 의 어텐션 하나와 같습니다.
#
# 위치 인코딩
# -----------
# 어텐션은 입력을 집합으로 다룹니다. 토큰 순서를 섞으면 출력도 똑같이 섞일 뿐 다른 것은 바뀌지 않습니다.
# 그래서 단어의 순서를 입력에 더해 주어야 합니다. 논문은 각 토큰 임베딩에 고정된 **사인파 위치 인코딩** 을
# 더합니다.
#
# .. math::
#
#     \mathrm{PE}_{t, 2i} = \sin\!\left(t / 10000^{2i/d}\right), \qquad
#     \mathrm{PE}_{t, 2i+1} = \cos\!\left(t / 10000^{2i/d}\right)
#
# 특징 두 개씩이 각자의 파장을 가진 시계이고, 파장은 :math:`2\pi` 에서 :math:`10000 \cdot 2\pi` 위치까지
# 늘어납니다. :math:`\mathrm{PE}_{t+k}` 는 :math:`\mathrm{PE}_t` 를 :math:`k` 에만 의존하는 각도만큼 회전한
# 것이므로, 두 위치의 내적은 둘 사이의 거리에만 의존합니다(``nn.SinusoidalPositionalEncoding``. BERT와 GPT는
# 대신 위치 벡터를 학습합니다: 학습된 위치 임베딩, ``nn.LearnedPositionalEncoding``).

pe = nn.SinusoidalPositionalEncoding(d_model=64, max_len=100).pe.numpy()            # (100, 64)
fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
image = axes[0].imshow(pe.T, aspect="auto", cmap="RdBu", vmin=-1, vmax=1)
axes[0].set_xlabel("position t")
axes[0].set_ylabel("feature")
axes[0].set_title("PE (100 positions, d = 64)")
fig.colorbar(image, ax=axes[0])
for i in (0, 4, 8, 16):
    axes[1].plot(pe[:, 2 * i], label=f"feature {2 * i}")
axes[1].set_xlabel("position t")
axes[1].set_title("sin features: wavelengths grow with i")
axes[1].legend(fontsize=7)
similarity = pe @ pe.T
axes[2].imshow(similarity, cmap="viridis")
axes[2].set_xlabel("position")
axes[2].set_ylabel("position")
axes[2].set_title("PE_t . PE_s: a function of t - s")
fig.tight_layout()
print("PE_t . PE_(t+5) for t = 0, 10, 50:", [round(float(similarity[t, t + 5]), 4) for t in (0, 10, 50)])

# %%
# 층 정규화
# ---------
# 배치 정규화(앞의 장)는 특징마다 배치에 걸쳐 평균을 냅니다. 길이가 제각각인 시퀀스와 작은 배치에서는
# 다루기 불편합니다. **층 정규화** (Ba 외 2016)는 대신 토큰 하나를 그 토큰 자신의 특징들에 걸쳐 정규화하고,
# 학습되는 :math:`\boldsymbol\gamma, \boldsymbol\beta` 로 크기와 위치를 조정합니다.
# :math:`\mathrm{LN}(\mathbf x) = \boldsymbol\gamma \odot (\mathbf x - \mu)/\sqrt{\sigma^2 + \epsilon}
# + \boldsymbol\beta` 이고, :math:`\mu, \sigma^2` 는 그 토큰 하나가 가진 특징 :math:`d` 개의 평균과 분산입니다.
# 학습 모드와 평가 모드에서 똑같이 동작하고, 배치 크기가 1이어도 문제없습니다.

tokens = gradus.tensor((rng.standard_normal((3, 8)) * [[1], [10], [0.1]] + [[0], [5], [-3]]).astype(np.float32))
normed = nn.LayerNorm(8)(tokens)
for name, t in (("before", tokens), ("after LayerNorm", normed)):
    a = t.detach().numpy()
    print(f"{name:<16} per-token mean {(a.mean(-1).round(3) + 0.0).tolist()}, std {a.std(-1).round(3).tolist()}")

# %%
# Post-LN과 pre-LN
# ----------------
# 논문은 LayerNorm을 각 잔차 덧셈 *뒤* 에 둡니다(post-LN, ``norm_first=False``, gradus와 PyTorch의 기본값).
# 이후의 많은 모델은 각 부층 *앞* 에 둡니다.
# :math:`\mathbf x \leftarrow \mathbf x + \mathrm{MultiHead}(\mathrm{LN}(\mathbf x))` (pre-LN,
# ``norm_first=True``)로, 출력에서 입력까지 항등 경로가 그대로 남습니다. Xiong 외(2020)는 초기화 시점에
# post-LN이 출력에 가까운 층에 그 아래 층들보다 큰 기울기를 준다는 것을 보였습니다. 그래서 post-LN에는 **학습률
# 워밍업** (``gradus.optim.lr_scheduler.noam``)이 필요하고, pre-LN은 워밍업 없이도 학습됩니다. 초기화된 6층
# 인코더에서 역전파를 한 번 하고, 층마다 파라미터의 기울기 노름을 봅니다.


def layer_gradient_norms(norm_first, n_layers=6, d_model=64):
    gradus.manual_seed(0)
    layer = nn.TransformerEncoderLayer(d_model, nhead=4, dim_feedforward=4 * d_model, dropout=0.0,
                                       batch_first=True, norm_first=norm_first)
    encoder = nn.TransformerEncoder(layer, n_layers, norm=nn.LayerNorm(d_model) if norm_first else None)
    head = nn.Linear(d_model, 10)
    x = gradus.tensor(np.random.default_rng(1).standard_normal((16, 12, d_model)).astype(np.float32))
    y = gradus.tensor(np.random.default_rng(2).integers(0, 10, (16 * 12,)))
    F.cross_entropy(head(encoder(x)).reshape(-1, 10), y).backward()
    return [np.sqrt(sum(float((p.grad.numpy() ** 2).sum()) for p in lyr.parameters())) for lyr in encoder.layers]


fig, ax = plt.subplots(figsize=(5.5, 3.3))
for norm_first, name in ((False, "post-LN (paper)"), (True, "pre-LN (norm_first=True)")):
    norms = layer_gradient_norms(norm_first)
    ax.plot(range(1, len(norms) + 1), norms, "o-", label=name)
    print(f"{name:<26} gradient norm per layer:", " ".join(f"{g:.3f}" for g in norms))
ax.set_xlabel("encoder layer (1 = next to the input)")
ax.set_ylabel("gradient norm")
ax.set_title("gradients at initialisation")
ax.legend()
fig.tight_layout()

# %%
# 기본 모델의 파라미터 세기
# -------------------------
# 인자 없이 만든 ``nn.Transformer()`` 가 논문의 기본(base) 모델입니다. :math:`d = 512`, 헤드 8개, 인코더 6층과
# 디코더 6층, FFN 2048, 드롭아웃 0.1입니다. 인코더 층에는 어텐션 하나(:math:`4d^2 + 4d`), FFN
# (:math:`2 \cdot 512 \cdot 2048 + 2048 + 512`), LayerNorm 두 개가 있습니다. 디코더 층에는 두 번째 어텐션(인코더
# 출력을 보는 **크로스 어텐션**)과 세 번째 LayerNorm이 더해지고, 각 스택의 끝에는 LayerNorm이 하나 있습니다.
# gradus의 기본값으로 센 결과입니다. (``nn.Transformer()`` 의 파라미터 44 M개를 모두 할당하는 것보다 빠르도록
# 종류마다 층 하나만 그 기본값으로 만듭니다. 스택은 그 층 하나를 깊은 복사한 것입니다.)

defaults = {k: v.default for k, v in inspect.signature(nn.Transformer).parameters.items()
            if k in ("d_model", "nhead", "num_encoder_layers", "num_decoder_layers", "dim_feedforward", "dropout")}
print("nn.Transformer defaults:", defaults)


def count(module):
    return sum(p.numel() for p in module.parameters())


d_model, layer_args = defaults["d_model"], (defaults["d_model"], defaults["nhead"], defaults["dim_feedforward"])
n_enc = count(nn.TransformerEncoderLayer(*layer_args))
n_dec = count(nn.TransformerDecoderLayer(*layer_args))
n_norm = count(nn.LayerNorm(d_model))
encoder = defaults["num_encoder_layers"] * n_enc + n_norm
decoder = defaults["num_decoder_layers"] * n_dec + n_norm
print(f"one encoder layer {n_enc:,}; one decoder layer {n_dec:,}; a LayerNorm {n_norm:,}")
print(f"nn.Transformer(): encoder {encoder:,} + decoder {decoder:,} = {encoder + decoder:,}")
vocab = 37000                                       # 논문에서 영어-독일어가 함께 쓰는 BPE 어휘
print(f"+ one shared {vocab} x {d_model} embedding (also the output layer): "
      f"{encoder + decoder + vocab * d_model:,} parameters")

# %%
# 논문은 기본 모델의 파라미터를 65 M개로 보고합니다. 어휘에 따라 달라지는 부분은 임베딩입니다.
# ``norm_first=True`` 는 LayerNorm의 위치를 바꿀 뿐 개수는 바꾸지 않습니다.
#
# 작은 트랜스포머가 정렬을 배운다
# -------------------------------
# ``TransformerTranslator`` 는 인코더-디코더 전체입니다. 토큰 임베딩에 :math:`\sqrt d` 를 곱하고 사인파 위치
# 인코딩을 더한 입력, 패딩 마스크와 인과적 마스크를 쓰는 ``nn.Transformer``, 목표 언어 임베딩과 가중치를 묶은
# 출력층으로 되어 있습니다. 장난감 "번역"은 숫자열을 넣으면 같은 숫자를 정렬해서 내놓는 과제입니다. 정렬하려면
# 입력 숫자를 한꺼번에 모두 보아야 하는데(가장 작은 숫자가 맨 끝에 있을 수도 있으니까요), 바로 어텐션이 주는
# 능력입니다. 인코더 1층, 디코더 1층, :math:`d = 32`, 헤드 4개, Adam, 교사 강요로 학습한 뒤, 처음 보는 숫자열을
# 탐욕적 디코딩으로 정렬하게 합니다.

PAD, SOS, EOS, VOCAB = 0, 1, 2, 13                  # 숫자 0-9는 토큰 id 3-12
n_digits = 5 if FAST else 8
steps = 60 if FAST else 500


def sort_batch(n, rng):
    digits = rng.integers(3, VOCAB, (n, n_digits))
    src = np.concatenate([digits, np.full((n, 1), EOS)], 1)
    tgt = np.concatenate([np.full((n, 1), SOS), np.sort(digits, 1), np.full((n, 1), EOS)], 1)
    return src, tgt


gradus.manual_seed(0)
data_rng = np.random.default_rng(0)
model = TransformerTranslator(src_vocab=VOCAB, tgt_vocab=VOCAB, d_model=32, nhead=4, num_encoder_layers=1,
                              num_decoder_layers=1, dim_feedforward=64, dropout=0.0, max_len=16,
                              pad_id=PAD, sos_id=SOS, eos_id=EOS)
opt = optim.Adam(model.parameters(), lr=0.01)
losses = []
for step in range(steps):
    src, tgt = sort_batch(128, data_rng)
    logits = model(gradus.tensor(src), gradus.tensor(tgt[:, :-1]))
    loss = F.cross_entropy(logits.reshape(-1, VOCAB), gradus.tensor(tgt[:, 1:].reshape(-1)))
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())

test_src, test_tgt = sort_batch(500, np.random.default_rng(1))
out = np.array([row[:n_digits + 1] + [PAD] * (n_digits + 1 - len(row))
                for row in model.greedy(gradus.tensor(test_src), max_len=n_digits + 1)])
token_acc = (out == test_tgt[:, 1:]).mean()
exact = (out == test_tgt[:, 1:]).all(1).mean()
print(f"{count(model):,} parameters, {steps} steps: training loss {losses[0]:.3f} -> {losses[-1]:.3f}")
print(f"500 unseen strings of {n_digits} digits: token accuracy {token_acc:.3f}, exactly sorted {exact:.3f}")

fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(losses)
ax.set_yscale("log")
ax.set_xlabel("step")
ax.set_ylabel("cross-entropy")
ax.set_title("training the tiny Transformer to sort")
fig.tight_layout()

# %%
# 헤드들은 무엇을 보는가
# ----------------------
# ``attention_maps`` 는 문장 쌍 하나를 모델에 통과시키고 모든 헤드의 가중치를 돌려줍니다. 인코더의 셀프
# 어텐션(원문 × 원문)과 디코더의 크로스 어텐션(출력 × 원문)입니다. 크로스 어텐션에서 숫자 :math:`v` 를 쓰는
# 출력 단계는 :math:`v` 가 있는 원문 위치를 보아야 합니다.


def show(ids):
    return ["<eos>" if t == EOS else "<sos>" if t == SOS else str(t - 3) for t in ids]


src, tgt = sort_batch(1, np.random.default_rng(5))
maps = model.attention_maps(gradus.tensor(src), gradus.tensor(tgt[:, :-1]))
fig, axes = plt.subplots(2, 4, figsize=(12, 6.2))
for row, (role, xlabels, ylabels) in enumerate((("encoder_self", src[0], src[0]), ("cross", src[0], tgt[0, :-1]))):
    for head in range(4):
        ax = axes[row, head]
        ax.imshow(maps[role][0][head], cmap="viridis", vmin=0, vmax=1)
        ax.set_xticks(range(len(xlabels)), show(xlabels), fontsize=7)
        ax.set_yticks(range(len(ylabels)), show(ylabels), fontsize=7)
        ax.set_title(f"{role.replace('_', ' ')}, head {head + 1}", fontsize=9)
axes[1, 0].set_ylabel("decoder input (predicts the next digit)")
axes[0, 0].set_ylabel("source position (query)")
fig.tight_layout()
cross = maps["cross"][0].mean(0)                                    # (T, S), 헤드 평균
next_digit = tgt[0, 1:]
on_target = [cross[t, src[0] == next_digit[t]].sum() for t in range(n_digits)]
print("source", " ".join(show(src[0])), "-> sorted", " ".join(show(tgt[0, 1:])))
print("weight (mean over heads) on the source positions holding the digit being written:",
      " ".join(f"{w:.2f}" for w in on_target))

# %%
# 크로스 어텐션 지도의 각 행은 *다음* 숫자를 쓰는 디코더 단계입니다(입력은 그 앞의 숫자). 출력된 가중치는
# 헤드 평균 어텐션 중 얼마가 지금 쓰는 숫자를 가진 원문 위치에 떨어지는지를 보여 줍니다. 헤드마다 보는 곳은
# 다르지만, 함께 모이면 그 숫자를 찾아냅니다.
#
# 실제 번역에서는
# ---------------
# 레시피 ``transformer-translate`` (:source:`src/gradus/recipes/transformer-translate.toml`, 실행은
# :source:`src/gradus/recipes/runners/translate.py`)는 이 모델을 PyTorch의 작은 튜토리얼 트랜스포머 크기(3 + 3층,
# :math:`d = 256`, 헤드 8개, FFN 512, post-LN, 묶은 임베딩, "noam" 워밍업)로 Multi30k 독일어 → 영어에 학습합니다.
# 앞 장의 순환 모델(``seq2seq-attention-translate``: 7 에포크에 테스트 BLEU 25.67, 20 에포크에 28.78)과 비교할
# 모델입니다. :source:`benchmarks/RESULTS.md` 와 레시피 파일에 기록된 측정값은 이렇습니다. 두 프로세스에서
# 15 에포크(이 기계에서 학습 약 52분) 뒤 테스트 BLEU **39.63** (빔 5, sacrebleu, 토큰화를 되돌리고 대소문자
# 구분; 소문자로는 39.87)으로, 목표 35를 넘고 어텐션을 쓴 순환 모델보다 BLEU가 약 11 높습니다.
# (``gradus train transformer-translate`` 로 실행합니다.) 트랜스포머의 부품에 대해서는 RESULTS.md에 기록이
# 있습니다. gradus의 ``nn.Transformer`` 와 그 구성 요소는 같은 가중치에서 PyTorch와 약 :math:`10^{-14}` 까지
# 일치하고(출력, 어텐션 가중치, 기울기, 155가지 경우), 작은 트랜스포머(d 32, 헤드 4개, 1 + 1층)는 약 100 스텝
# 만에 길이 5의 시퀀스를 정확하게 복사하거나 뒤집습니다. 위의 정렬 모델이 저마다의 방식으로 해낸 것과 같은
# 일입니다.
