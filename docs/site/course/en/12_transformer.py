r"""
The Transformer
===============

The attention of the previous page let a recurrent decoder look back at every encoder state. The
**Transformer** (Vaswani et al. 2017, "Attention Is All You Need") keeps the attention and drops the
recurrence: every layer lets every position look at every other position at once, so a sentence is
processed in parallel instead of one word after the other, and the path between two words is one
step long however far apart they are.

**Self-attention.** Each position :math:`i` of a sequence :math:`X` (one row per token, :math:`d`
features) is turned into a **query** :math:`\mathbf q_i`, a **key** :math:`\mathbf k_i` and a
**value** :math:`\mathbf v_i` by three learned matrices, :math:`Q = X W_Q`, :math:`K = X W_K`,
:math:`V = X W_V`. Position :math:`i` compares its query with every key, and reads the values with
the softmax of the scores as weights: the **scaled dot-product attention**

.. math::

    \mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{Q K^{\mathsf T}}{\sqrt{d_k}} + M\right) V

where :math:`d_k` is the size of a query and :math:`M` a mask (0 where a query may look, :math:`-\infty`
where it may not). It is the "dot" score of the previous page with queries, keys and values of their
own. **Multi-head attention** runs :math:`h` such attentions side by side on :math:`d/h`-sized
projections and concatenates them, so that different heads can look for different things:

.. math::

    \mathrm{head}_j = \mathrm{Attention}(X W_Q^{(j)}, X W_K^{(j)}, X W_V^{(j)}), \qquad
    \mathrm{MultiHead}(X) = [\mathrm{head}_1; \dots; \mathrm{head}_h]\, W_O

The rest of a layer is plumbing that makes deep stacks train: a **position-wise feed-forward
network** :math:`\mathrm{FFN}(\mathbf x) = W_2 \max(0, W_1 \mathbf x + \mathbf b_1) + \mathbf b_2`
applied to every position, **residual connections** around both sublayers and **layer
normalisation** after each sum (the paper's *post-LN*):

.. math::

    \mathbf x \leftarrow \mathrm{LN}(\mathbf x + \mathrm{MultiHead}(\mathbf x)), \qquad
    \mathbf x \leftarrow \mathrm{LN}(\mathbf x + \mathrm{FFN}(\mathbf x))

The gradus code has PyTorch's names and arguments: ``F.scaled_dot_product_attention`` and
``F.multi_head_attention_forward`` (:source:`src/gradus/functional/attention.py`),
``nn.MultiheadAttention`` (:source:`src/gradus/nn/attention.py`), ``nn.LayerNorm``
(:source:`src/gradus/nn/norm.py`), ``nn.TransformerEncoderLayer``, ``nn.TransformerDecoderLayer`` and
``nn.Transformer`` (:source:`src/gradus/nn/transformer.py`), and the positional encodings
(:source:`src/gradus/nn/positional.py`). ``gradus.models.transformer_translator.TransformerTranslator``
(:source:`src/gradus/models/transformer_translator.py`) adds the embeddings, the masks, the output layer
and greedy and beam decoding; all of them match PyTorch to about :math:`10^{-14}` in float64
(``tests/oracle/test_transformer_oracle.py``).
"""

# %%
# Why divide by :math:`\sqrt{d_k}`
# --------------------------------
# If the entries of :math:`\mathbf q` and :math:`\mathbf k` are independent with mean 0 and variance
# 1, their dot product :math:`\mathbf q \cdot \mathbf k = \sum_{m=1}^{d_k} q_m k_m` has variance
# :math:`d_k`. With :math:`d_k = 512` the scores are spread over about :math:`\pm 23`, and a softmax
# of such numbers is nearly one-hot: it **saturates**, and its gradient (the Jacobian
# :math:`\mathrm{diag}(\mathbf p) - \mathbf p \mathbf p^{\mathsf T}`) vanishes. Dividing by
# :math:`\sqrt{d_k}` brings the variance back to 1 whatever the size. We measure it: 16 keys per
# query, 200 queries, the largest softmax weight and the gradient that reaches the scores, with and
# without the scale.
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
    raw = (q * k).sum(-1)                                          # (200, 16) dot products
    for name, scale in (("unscaled", 1.0), ("scaled by 1/sqrt(d_k)", 1 / np.sqrt(d_k))):
        scores = gradus.tensor(raw * scale, requires_grad=True)
        p = gradus.softmax(scores, -1)
        (p * gradus.tensor(rng.standard_normal(p.shape))).sum().backward()   # a random upstream
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
# Unscaled, the largest weight goes towards 1 as :math:`d_k` grows, and the gradient that reaches the
# scores falls with it: the attention picks one key, by chance, and learns slowly to pick another.
# Scaled, both stay where they were at :math:`d_k = 4`, whatever the size.
#
# Masks
# -----
# Two masks are used. A **padding mask** hides the padding positions of shorter sequences in a batch,
# as keys. A **causal mask** (look-ahead mask) stops position :math:`i` of a decoder from looking at
# the positions after it, :math:`j > i`, so that training on a whole sentence at once is the same as
# writing it word by word. ``F.scaled_dot_product_attention`` takes a boolean ``attn_mask`` (True: may
# attend) or ``is_causal=True``. (``nn.MultiheadAttention`` and ``nn.Transformer`` use the opposite
# boolean convention, PyTorch's: True means *hidden*; or a float mask of 0 and :math:`-\infty`.) With the
# values set to the identity matrix the output of attention *is* its weight matrix, which lets us draw
# the weights the fused function used.

L = 6
q = gradus.tensor(rng.standard_normal((1, L, 8)))
k = gradus.tensor(rng.standard_normal((1, L, 8)))
identity = gradus.tensor(np.eye(L))                               # V = I: output = weights
padding = gradus.tensor(np.arange(L) < 4)                          # the last 2 keys are padding
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

# the same weights by the formula: softmax(Q K^T / sqrt(d_k) + M)
scores = q.numpy()[0] @ k.numpy()[0].T / np.sqrt(8) + np.where(np.tri(L) > 0, 0, -np.inf)
by_hand = np.exp(scores - scores.max(-1, keepdims=True))
by_hand /= by_hand.sum(-1, keepdims=True)
print("causal: max |SDPA - formula| =", np.abs(weights - by_hand).max())

# %%
# Multi-head attention
# --------------------
# ``nn.MultiheadAttention(embed_dim, num_heads)`` holds :math:`W_Q, W_K, W_V` packed in one
# ``in_proj_weight`` of shape :math:`(3d, d)` and :math:`W_O` in ``out_proj``. Below, the module's
# output is recomputed by hand: project, split the features into heads, run
# ``F.scaled_dot_product_attention`` on all heads at once (the head is a batch dimension), join the heads
# and project back. ``average_attn_weights=False`` returns the weights of every head.

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
# The parameter count does not depend on :math:`h`: more heads means smaller heads, and the total
# cost of the layer stays that of one attention of size :math:`d`.
#
# Positional encoding
# -------------------
# Attention treats its input as a set: shuffle the tokens and the outputs are shuffled the same way,
# nothing else changes. Word order has to be added to the input. The paper adds to each token
# embedding a fixed **sinusoidal positional encoding**
#
# .. math::
#
#     \mathrm{PE}_{t, 2i} = \sin\!\left(t / 10000^{2i/d}\right), \qquad
#     \mathrm{PE}_{t, 2i+1} = \cos\!\left(t / 10000^{2i/d}\right)
#
# Each pair of features is a clock of its own wavelength, from :math:`2\pi` to :math:`10000 \cdot 2\pi`
# positions, and :math:`\mathrm{PE}_{t+k}` is a rotation of :math:`\mathrm{PE}_t` by an angle that
# depends only on :math:`k`, so the dot product of two positions depends only on their distance
# (``nn.SinusoidalPositionalEncoding``; BERT and GPT learn their position vectors instead,
# ``nn.LearnedPositionalEncoding``).

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
# Layer normalisation
# -------------------
# Batch normalisation (an earlier page) averages each feature over the batch; with sequences of
# varying length and small batches that is awkward. **Layer normalisation** (Ba et al. 2016)
# normalises each token over its own features instead, then scales and shifts with learned
# :math:`\boldsymbol\gamma, \boldsymbol\beta`:
# :math:`\mathrm{LN}(\mathbf x) = \boldsymbol\gamma \odot (\mathbf x - \mu)/\sqrt{\sigma^2 + \epsilon}
# + \boldsymbol\beta`, with :math:`\mu, \sigma^2` the mean and variance of the :math:`d` features of
# that one token. It behaves the same in training and evaluation and for a batch of one.

tokens = gradus.tensor((rng.standard_normal((3, 8)) * [[1], [10], [0.1]] + [[0], [5], [-3]]).astype(np.float32))
normed = nn.LayerNorm(8)(tokens)
for name, t in (("before", tokens), ("after LayerNorm", normed)):
    a = t.detach().numpy()
    print(f"{name:<16} per-token mean {(a.mean(-1).round(3) + 0.0).tolist()}, std {a.std(-1).round(3).tolist()}")

# %%
# Post-LN and pre-LN
# ------------------
# The paper puts LayerNorm *after* each residual sum (post-LN, ``norm_first=False``, gradus' and
# PyTorch's default); many later models put it *before* each sublayer,
# :math:`\mathbf x \leftarrow \mathbf x + \mathrm{MultiHead}(\mathrm{LN}(\mathbf x))` (pre-LN,
# ``norm_first=True``), which leaves an identity path from the output to the input. Xiong et al. (2020)
# showed that at initialisation post-LN gives the layers near the output larger gradients than the
# ones below them, which is why post-LN needs a learning-rate **warm-up**
# (``gradus.optim.lr_scheduler.noam``), and pre-LN trains without one. A 6-layer encoder at
# initialisation, one backward pass, the gradient norm of each layer's parameters:


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
# The base model, counted
# -----------------------
# ``nn.Transformer()`` with no arguments is the paper's base model: :math:`d = 512`, 8 heads, 6 encoder
# and 6 decoder layers, FFN 2048, dropout 0.1. An encoder layer has one attention
# (:math:`4d^2 + 4d`), the FFN (:math:`2 \cdot 512 \cdot 2048 + 2048 + 512`) and two LayerNorms; a decoder
# layer adds a second attention (on the encoder output, the **cross-attention**) and a third
# LayerNorm; each stack ends with a LayerNorm. The counts, from gradus' defaults (one layer of each
# kind is built with them, which is quicker than allocating all 44 M parameters of ``nn.Transformer()``;
# its stacks are deep copies of that one layer):

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
vocab = 37000                                       # the paper's shared English-German BPE vocabulary
print(f"+ one shared {vocab} x {d_model} embedding (also the output layer): "
      f"{encoder + decoder + vocab * d_model:,} parameters")

# %%
# The paper reports 65 M parameters for the base model; the embedding is the part that depends on the
# vocabulary. ``norm_first=True`` changes where the LayerNorms sit, not how many there are.
#
# A tiny Transformer learns to sort
# ---------------------------------
# ``TransformerTranslator`` is the whole encoder-decoder: token embeddings times :math:`\sqrt d` plus
# the sinusoidal encoding, ``nn.Transformer`` with a padding mask and the causal mask, an output layer
# tied to the target embeddings. The toy "translation": a string of digits in, the same digits sorted
# out. Sorting needs every input digit at once (the smallest may come last), which is what attention
# gives. One encoder and one decoder layer, :math:`d = 32`, 4 heads, Adam, teacher forcing; then greedy
# decoding of strings it has never seen.

PAD, SOS, EOS, VOCAB = 0, 1, 2, 13                  # digits 0-9 are token ids 3-12
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
# What the heads look at
# ----------------------
# ``attention_maps`` runs one pair through the model and returns every head's weights: the encoder's
# self-attention (source × source) and the decoder's cross-attention (output × source). In the
# cross-attention an output step that writes digit :math:`v` should look at the source positions
# holding :math:`v`.


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
cross = maps["cross"][0].mean(0)                                    # (T, S), averaged over heads
next_digit = tgt[0, 1:]
on_target = [cross[t, src[0] == next_digit[t]].sum() for t in range(n_digits)]
print("source", " ".join(show(src[0])), "-> sorted", " ".join(show(tgt[0, 1:])))
print("weight (mean over heads) on the source positions holding the digit being written:",
      " ".join(f"{w:.2f}" for w in on_target))

# %%
# Each row of a cross-attention map is the decoder step that writes the *next* digit (its input is the
# digit before). The printed weights say how much of the attention, averaged over the heads, falls on
# source positions that hold the digit being written; heads differ, and together they find it.
#
# On real translation
# -------------------
# The recipe ``transformer-translate`` (:source:`src/gradus/recipes/transformer-translate.toml`, run by
# :source:`src/gradus/recipes/runners/translate.py`) is this model at the size of PyTorch's small
# tutorial Transformer (3 + 3 layers, :math:`d = 256`, 8 heads, FFN 512, post-LN, tied embeddings, the
# "noam" warm-up) on Multi30k German → English, to be compared with the recurrent models of the previous
# page (``seq2seq-attention-translate``: test BLEU 25.67 in 7 epochs, 28.78 in 20). Measured, as
# recorded in :source:`benchmarks/RESULTS.md` and in the recipe file: test BLEU **39.63** (beam 5,
# sacrebleu, detokenised and cased; 39.87 lower-cased) after 15 epochs on two processes (~52 min of
# training here), past its target of 35 and 11 BLEU above the recurrent model with attention.
# (``gradus train transformer-translate`` runs it.) What RESULTS.md does record for the Transformer
# pieces: gradus' ``nn.Transformer`` and its parts agree with PyTorch's on the same weights to about
# :math:`10^{-14}` (outputs, attention weights and gradients, 155 cases), and a tiny Transformer
# (d 32, 4 heads, 1 + 1 layers) copies or reverses length-5 sequences exactly after about 100 steps,
# as the sorting model above does in its own way.
