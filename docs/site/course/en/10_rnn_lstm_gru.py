r"""
Recurrent networks: RNN, LSTM and GRU
=====================================

Text, speech and time series are **sequences**: the meaning of an element depends on the ones before
it, and the length varies. A recurrent network reads a sequence one step at a time and carries a
**hidden state** :math:`\mathbf h_t`, its summary of everything read so far. The same weights are used
at every step:

.. math::

    \mathbf h_t = \tanh\big(W_{xh}\,\mathbf x_t + W_{hh}\,\mathbf h_{t-1} + \mathbf b\big), \qquad
    \mathbf y_t = W_{hy}\,\mathbf h_t + \mathbf c

Drawn step by step (**unrolled**), the loop becomes a deep feed-forward network with one layer per
time step and shared weights, and training it is ordinary backpropagation on that graph,
**backpropagation through time** (BPTT). A shared weight receives the sum of its gradients from
every step, and the gradient that reaches step :math:`t-k` from step :math:`t` is a product of
:math:`k` Jacobians:

.. math::

    \frac{\partial L}{\partial W_{hh}} = \sum_t \frac{\partial L}{\partial W_{hh}^{(t)}}, \qquad
    \frac{\partial \mathbf h_t}{\partial \mathbf h_{t-k}} = \prod_{j=t-k+1}^{t}
    \operatorname{diag}\big(1 - \mathbf h_j^2\big)\, W_{hh}

When the factors are smaller than 1 the product shrinks geometrically: the gradient **vanishes**
and the network cannot learn long-range dependencies (larger than 1, it explodes: gradient clipping
is the cure for that one). The **LSTM** (Hochreiter & Schmidhuber 1997) adds a **cell state**
:math:`\mathbf c_t` that is updated by addition, under the control of three sigmoid **gates**
(input :math:`\mathbf i`, forget :math:`\mathbf f`, output :math:`\mathbf o`) and a candidate
:math:`\mathbf g`:

.. math::

    \mathbf i_t &= \sigma(W_{ii}\mathbf x_t + W_{hi}\mathbf h_{t-1} + \mathbf b_i), \quad
    \mathbf f_t = \sigma(W_{if}\mathbf x_t + W_{hf}\mathbf h_{t-1} + \mathbf b_f), \quad
    \mathbf o_t = \sigma(W_{io}\mathbf x_t + W_{ho}\mathbf h_{t-1} + \mathbf b_o) \\
    \mathbf g_t &= \tanh(W_{ig}\mathbf x_t + W_{hg}\mathbf h_{t-1} + \mathbf b_g), \qquad
    \mathbf c_t = \mathbf f_t \odot \mathbf c_{t-1} + \mathbf i_t \odot \mathbf g_t, \qquad
    \mathbf h_t = \mathbf o_t \odot \tanh(\mathbf c_t)

Along the cell state the Jacobian is :math:`\operatorname{diag}(\mathbf f_t)`: with forget gates near
1 the gradient travels far. The **GRU** (Cho et al. 2014) gets the same effect with two gates, reset
:math:`\mathbf r` and update :math:`\mathbf z`, and no separate cell:

.. math::

    \mathbf r_t &= \sigma(W_{ir}\mathbf x_t + \mathbf b_{ir} + W_{hr}\mathbf h_{t-1} + \mathbf b_{hr}), \quad
    \mathbf z_t = \sigma(W_{iz}\mathbf x_t + \mathbf b_{iz} + W_{hz}\mathbf h_{t-1} + \mathbf b_{hz}) \\
    \mathbf n_t &= \tanh\big(W_{in}\mathbf x_t + \mathbf b_{in} + \mathbf r_t \odot (W_{hn}\mathbf h_{t-1}
    + \mathbf b_{hn})\big), \qquad
    \mathbf h_t = (1 - \mathbf z_t) \odot \mathbf n_t + \mathbf z_t \odot \mathbf h_{t-1}

In gradus the layers are ``nn.RNN``, ``nn.LSTM``, ``nn.GRU`` and the one-step cells ``nn.RNNCell``,
``nn.LSTMCell``, ``nn.GRUCell``, with PyTorch's signatures, parameter names and gate orders
(:source:`src/gradus/nn/rnn.py`); the gate arithmetic of one step is a fused operation in
:source:`src/gradus/functional/recurrent.py`. Truncated BPTT over a long text uses
``gradus.data.bptt_batches`` (:source:`src/gradus/data/sequence.py`) and ``gradus.train.detach_state``
(:source:`src/gradus/train/trainer.py`); the character-level language model is ``gradus.models.CharRNN``
(:source:`src/gradus/models/char_rnn.py`).
"""

# %%
# The recurrence by hand, and BPTT
# --------------------------------
# ``nn.RNN`` takes a ``(T, B, input_size)`` sequence and returns all hidden states and the last one.
# We write the same loop with gradus operations, from the layer's own weights (PyTorch's layout keeps
# two biases, ``bias_ih`` and ``bias_hh``; their sum is the :math:`\mathbf b` of the formula), and
# compare.
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
for t in range(T):                                            # the unrolled loop: one copy of W_hh per step
    h = gradus.tanh(x[t] @ W_xh.T + h @ W_hh_copies[t].T + b)
    states.append(h)
by_hand = np.stack([s.numpy()[0] for s in states])           # (T, H)
print(f"max |nn.RNN - by hand| over all {T} states: {np.abs(out.numpy()[:, 0] - by_hand).max():.1e}")

states[-1].sum().backward()                                   # L = sum of the last hidden state
out[-1].sum().backward()                                      # the same L through nn.RNN
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
# The total gradient of the shared matrix is the sum of the per-step gradients (the two norms agree),
# and the steps far from the loss contribute orders of magnitude less: the vanishing gradient, already
# visible in a 12-step toy. (Step 1's copy multiplies :math:`\mathbf h_0 = \mathbf 0`, so its share is
# exactly zero and has no bar on the log scale.)
#
# Four arrangements
# -----------------
# What goes in and comes out at each step defines the task. One input and a sequence out
# (**one-to-many**: captioning an image); a sequence in and one output at the end (**many-to-one**:
# classifying a sentence); one output per input step (**aligned many-to-many**: tagging each
# word, or predicting the next character); and a whole sequence in before a sequence comes out
# (**delayed many-to-many**: translation, the encoder-decoder or seq2seq).


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
# gradus has a model for each (untrained here: the shapes are the point):

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
# Where they are trained on real data, with the figures measured in ``benchmarks/RESULTS.md``:
#
# .. list-table::
#    :header-rows: 1
#
#    * - arrangement
#      - gradus
#      - trained by
#    * - one-to-many
#      - ``DigitCaptioner`` (:source:`src/gradus/models/captioner.py`): a CNN reads an MNIST digit, an
#        LSTM spells its name
#      - :source:`docs/examples/one_to_many_captions.py`
#    * - many-to-one
#      - ``SequenceClassifier`` (:source:`src/gradus/models/sequence.py`)
#      - ``gradus train sequential-mnist-lstm`` (MNIST read row by row: test accuracy 0.9894),
#        ``gradus train sentiment-lstm`` (0.797)
#    * - aligned many-to-many
#      - ``SequenceTagger`` (:source:`src/gradus/models/tagger.py`), ``CharRNN`` (every step predicts
#        the next character)
#      - :source:`docs/examples/many_to_many_tagger.py`, ``gradus train shakespeare-char-lstm``
#    * - delayed many-to-many
#      - ``Seq2Seq`` (:source:`src/gradus/models/seq2seq.py`)
#      - ``gradus train seq2seq-translate`` (BLEU 19.16; with attention,
#        ``seq2seq-attention-translate``: 25.67)
#
# LSTM and GRU, gate by gate
# --------------------------
# One step of ``nn.LSTMCell`` and of ``nn.GRUCell`` written out from their weights. PyTorch's layout
# stacks the gates in one matrix: rows ``[i, f, g, o]`` for the LSTM, ``[r, z, n]`` for the GRU.


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


gradus.manual_seed(0)
xt, h0, c0 = np.random.default_rng(1).standard_normal((3, 2, 4)).astype(np.float32)   # batch 2, size 4
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
# One weight matrix per gate: a GRU has three times, an LSTM four times the parameters of a plain
# RNN of the same size.
#
# The vanishing gradient, measured
# --------------------------------
# How much of the gradient of the last hidden state :math:`\mathbf h_T` reaches the input
# :math:`k` steps back, :math:`\|\partial \mathbf h_T / \partial \mathbf x_{T-k}\|`? Freshly
# initialised layers of 64 units, random input sequences, averaged over four of them (the method of
# :source:`docs/examples/rnn_vanishing_gradients.py`). PyTorch's initialisation, which gradus uses,
# draws every bias around 0, so a fresh LSTM's forget gates sit near :math:`\sigma(0) = 0.5`; a fourth
# curve sets the forget-gate bias to 2 (:math:`\sigma(2) \approx 0.88`), the usual trick
# (Jozefowicz et al. 2015).

steps = 60 if FAST else 150


def gradient_reach(layer, steps, input_size=16, trials=4, seed=0):
    """||d sum(h_T) / d x_{T-k}|| for k = 0 .. steps-1, mean over `trials` random sequences."""
    rng = np.random.default_rng(seed)
    norms = np.zeros(steps)
    for _ in range(trials):
        x = gradus.tensor(rng.standard_normal((steps, 1, input_size)).astype(np.float32), requires_grad=True)
        out = layer(x)[0]                                     # (T, 1, H)
        out[-1].sum().backward()
        norms += np.linalg.norm(x.grad.numpy()[:, 0, :], axis=1)[::-1]   # index k = T - 1 - t
    return norms / trials


gradus.manual_seed(0)
layers = {"RNN (tanh)": nn.RNN(16, 64), "LSTM": nn.LSTM(16, 64), "GRU": nn.GRU(16, 64),
          "LSTM, forget bias 2": nn.LSTM(16, 64)}
with gradus.no_grad():
    layers["LSTM, forget bias 2"].bias_ih_l0[64:128] = 2.0      # rows [i, f, g, o]: f is the 2nd block
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
# Every curve falls geometrically: each step back multiplies the gradient by a Jacobian of norm
# below 1. The vanilla RNN loses the most per step (its factor is :math:`\operatorname{diag}(1 -
# \mathbf h^2) W_{hh}`); the fresh LSTM and GRU do somewhat better, their additive paths being scaled
# by gates near 0.5. The forget gate is what decides: opened to about 0.88, the LSTM's cell state
# carries a gradient over the whole sequence that is many orders of magnitude larger. Training can
# learn such gates (a forget gate that stays open is how an LSTM remembers), a plain RNN has no such
# knob.
#
# A character-level language model
# --------------------------------
# Karpathy's char-rnn in small: Tiny Shakespeare, 65 distinct characters, an LSTM that reads a
# character and predicts the next one at every step (aligned many-to-many). The loss is the mean
# cross-entropy :math:`-\frac1N \sum_t \log p(x_{t+1} \mid x_{\le t})` in nats per character. The
# text is cut into 32 contiguous streams; each training step reads the next window of 50 characters
# of every stream, starting from the hidden state the previous window left (detached: truncated BPTT,
# the gradient flows back at most 50 steps).

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
    state = detach_state(state)                               # carry the state, cut the graph
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
# A few hundred steps teach the model the look of the text: speaker names in capitals followed by a
# colon, line breaks, short words, frequent English spellings; the words themselves come later. The
# recipe ``gradus train shakespeare-char-lstm`` trains the full-size model (2 LSTM layers of 512
# units, 64 streams × 100 steps, 4 epochs over the whole text); its measured validation loss in
# ``benchmarks/RESULTS.md`` is 1.516 nats per character (1.818 / 1.615 / 1.547 / 1.516 after epochs
# 1-4; 7,132 s for the four epochs, on a CPU core shared with other work). Next come the
# encoder-decoder and attention, which fix the one weakness left here: everything the network knows
# about the past must fit into :math:`\mathbf h_t`.
