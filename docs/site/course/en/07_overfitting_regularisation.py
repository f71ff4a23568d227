r"""
Overfitting and regularisation
==============================

A model is trained on the **training set** but judged on data it has never seen: what counts is its
**generalisation**, the error on a test set. The classic illustration (Bishop, *Pattern Recognition
and Machine Learning*, §1.1) fits polynomials of order :math:`M`,

.. math::

    y(x, \mathbf w) = \sum_{j=0}^{M} w_j x^j, \qquad
    E(\mathbf w) = \frac12 \sum_{n=1}^{N} \bigl(y(x_n, \mathbf w) - t_n\bigr)^2, \qquad
    E_{\mathrm{RMS}} = \sqrt{2E(\mathbf w^\star)/N},

to :math:`N = 10` noisy samples :math:`t_n = \sin(2\pi x_n) + \varepsilon_n`. A small :math:`M`
cannot follow the curve (**underfitting**); :math:`M = 3` follows it; :math:`M = 9` has ten
coefficients for ten points, passes through every one of them, and swings wildly in between
(**overfitting**): training error zero, test error large. The **model complexity** must match the
data, or be held back. This page shows four ways to hold it back:

- **weight decay**: minimise :math:`F(\mathbf w) = E(\mathbf w) + \alpha C(\mathbf w)` with
  :math:`C(\mathbf w) = \|\mathbf w\|^2`, which keeps the weights small
  (``weight_decay`` of every optimiser in :source:`src/gradus/optim/sgd.py`,
  :source:`src/gradus/optim/adam.py`; the penalty as a loss term is ``l2_penalty`` in
  :source:`src/gradus/train/trainer.py`);
- **early stopping**: stop training when the validation loss stops falling (``EarlyStopping`` in
  :source:`src/gradus/train/callbacks.py`);
- **dropout**: switch off random units while training, which trains an ensemble of sub-networks
  that share their weights (:source:`src/gradus/nn/dropout.py`,
  :source:`src/gradus/functional/dropout.py`);
- **batch normalisation**: normalise every unit over the mini-batch (:source:`src/gradus/nn/norm.py`,
  :source:`src/gradus/functional/norm.py`); it is first of all a way to train faster, with a mild
  regularising effect as a bonus.

The polynomial fits use Newton's method (:source:`src/gradus/optim/newton.py`): the loss is
quadratic in :math:`\mathbf w`, so one Newton step lands exactly on the minimum.
"""

# %%
# Polynomial curve fitting
# ------------------------
# Ten points at evenly spaced :math:`x` in :math:`[0, 1]`, noise of standard deviation 0.3, and a test
# set of 100 fresh points from the same source. The polynomial is written in :math:`u = 2x - 1`
# instead of :math:`x` (the same polynomials, better-conditioned numbers); its coefficients are one
# float64 tensor, and ``optim.Newton`` minimises :math:`E` in one step.
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


fits = {M: fit_polynomial(M) for M in range(10)}            # every order from 0 to 9
fig, axes = plt.subplots(1, 4, figsize=(12, 2.9), sharey=True)
for ax, M in zip(axes, [0, 1, 3, 9]):
    w = fits[M]
    draw_fit(ax, w, f"M = {M}: train {rms_error(w, x_train, t_train):.2f}, "
                    f"test {rms_error(w, x_test, t_test):.2f}")
    print(f"M = {M}: coefficients {np.array2string(w, precision=1, suppress_small=True)}")
axes[0].legend(fontsize=7, loc="lower left")
fig.subplots_adjust(left=0.05, right=0.99, bottom=0.1, top=0.88, wspace=0.08)

# %%
# :math:`M = 0` and :math:`M = 1` are too stiff, :math:`M = 3` is close to :math:`\sin(2\pi x)`, and
# :math:`M = 9` threads every training point. Note the coefficients it needs (printed above): far
# larger than those of the cubic, of both signs, cancelling each other between the points (in the
# raw :math:`x` they would be larger still, as in Bishop's Table 1.1). Now every order from 0 to 9,
# the training and the test :math:`E_{\mathrm{RMS}}`:

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
# The training error can only fall as :math:`M` grows (a larger model contains the smaller ones);
# the test error falls, flattens, and rises again at the high orders. That U-shape is the whole story
# of model selection: it is the **bias–variance trade-off** (a too-simple model errs the same way on
# every data set, a too-flexible one follows the noise of its own data set).
#
# Weight decay: :math:`F = E + \alpha C(\mathbf w)`
# -------------------------------------------------
# Keep :math:`M = 9` and add a penalty on large coefficients:
#
# .. math::
#
#     F(\mathbf w) = E(\mathbf w) + \alpha\, C(\mathbf w), \qquad
#     C(\mathbf w) = \|\mathbf w\|^2 = \sum_j w_j^2, \qquad
#     \nabla F = \nabla E + 2\alpha\,\mathbf w .
#
# A gradient step on :math:`F` is :math:`\mathbf w \leftarrow (1 - 2\eta\alpha)\,\mathbf w - \eta\nabla E`:
# the weights shrink by a constant factor every step, hence **weight decay**. :math:`\alpha` trades the
# data term against the complexity term: :math:`\alpha = 0` is the wild interpolant, a huge
# :math:`\alpha` flattens everything to zero.

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
# In the optimiser the same penalty is one argument. ``SGD(..., weight_decay=lam)`` adds
# :math:`\lambda \mathbf w` to every gradient before the step (:source:`src/gradus/optim/sgd.py`),
# which is the gradient of :math:`\frac{\lambda}{2}\|\mathbf w\|^2`; so ``weight_decay = 2 * alpha``
# minimises :math:`F = E + \alpha \|\mathbf w\|^2`. Full-batch SGD with momentum on :math:`E` alone, with
# that weight decay, lands on the Newton solution of :math:`F`:

alpha = np.exp(-5.0)
Phi, t = gradus.tensor(features(x_train, 9)), gradus.tensor(t_train)
w = gradus.zeros(10, dtype=gradus.float64, requires_grad=True)
sgd = optim.SGD([w], lr=0.2, momentum=0.85, weight_decay=2 * alpha)
for _ in range(400):
    E = 0.5 * ((Phi @ w - t) ** 2).sum()                      # the data term only
    sgd.zero_grad()
    E.backward()
    sgd.step()
w_newton = fit_polynomial(9, alpha)
print(f"ln alpha = -5: max |w_SGD - w_Newton| = {np.abs(w.detach().numpy() - w_newton).max():.1e}")

# %%
# (In Adam, ``weight_decay`` is this same L2 gradient term; ``AdamW`` instead *decouples* the decay,
# :math:`\mathbf w \leftarrow (1 - \eta\lambda)\mathbf w`, outside the adaptive scaling; for plain SGD
# the two are the same thing.) In a network one usually penalises only the weight matrices, not the
# biases, as ``gradus.train.l2_penalty`` does.
#
# Early stopping
# --------------
# Training time is complexity too: a network with many weights fitted to few examples first learns
# what they have in common, then memorises them one by one. The validation loss falls, reaches a
# minimum, and rises while the training loss keeps falling. **Early stopping** watches the validation
# loss and keeps the weights of its best epoch. Here a one-hidden-layer MLP (784-256-10; 784-128-10 in
# the fast build) learns from a small subset of MNIST, and a disjoint part of the MNIST training file
# serves as the validation set. ``EarlyStopping(patience=...)`` ends the run once the validation loss
# has not improved for ``patience`` epochs and restores the best weights.

X_all, y_all = load_mnist_arrays(train=True)                  # (60000, 784) in [0, 1]
order = np.random.default_rng(0).permutation(len(X_all))
n_train, n_val, hidden = (200, 500, 128) if FAST else (1000, 5000, 256)
X_tr, y_tr = X_all[order[:n_train]], y_all[order[:n_train]]
X_val, y_val = X_all[order[n_train:n_train + n_val]], y_all[order[n_train:n_train + n_val]]
train_set, val_set = TensorDataset(X_tr, y_tr), TensorDataset(X_val, y_val)
max_epochs, patience = (18, 6) if FAST else (40, 10)


def mnist_mlp(p_drop=0.0):
    gradus.manual_seed(0)                                     # the same initial weights for every run
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
# The run goes on for ``patience`` epochs after the best one, only to be sure the minimum was not a
# blip; the weights it returns are those of the dashed line. The training loss (the mean over each
# epoch's mini-batches) goes on falling towards zero: the network has learned its few hundred digits
# by heart, and on new digits it becomes more *confidently* wrong, which the cross-entropy punishes.
#
# Dropout
# -------
# Dropout (Srivastava et al. 2014) multiplies every unit of a layer, at every training step, by an
# independent Bernoulli mask :math:`m_i`, keeping it with probability :math:`1 - p`. gradus, like
# PyTorch, uses **inverted dropout**: the kept units are scaled by :math:`1/(1-p)` while training, so
# that their expected value is unchanged and the evaluation-mode network is the plain one,
#
# .. math::
#
#     \text{training: } y_i = \frac{m_i\, x_i}{1 - p}, \quad m_i \sim \mathrm{Bernoulli}(1 - p);
#     \qquad \text{evaluation: } y_i = x_i .
#
# (``nn.Dropout(p, mode="classic")`` is the paper's form: unscaled while training, :math:`\times (1 - p)`
# at test time.) ``model.train()`` and ``model.eval()`` switch the mode:

drop = nn.Dropout(0.5)
ones = gradus.ones(10)
print("train mode:", drop(ones).numpy())
print("eval mode: ", drop.eval()(ones).numpy())
print("classic, eval mode:", nn.Dropout(0.5, mode="classic").eval()(ones).numpy())

# %%
# Each mask picks a **sub-network**: with :math:`n` droppable units there are :math:`2^n` of them,
# all sharing one set of weights, and each training step trains one of them on one mini-batch. A unit
# cannot rely on particular partners being present, so it has to be useful on its own. At test time
# the ideal prediction would average all :math:`2^n` sub-networks (an **ensemble**); the evaluation
# mode's scaling is a cheap approximation of that average (exact for a linear layer). The same MLP with
# dropout :math:`p = 0.5` on its hidden units, with the same data, initial weights and optimiser as
# above, trained for all the epochs (no early stopping):

dropped = mnist_mlp(p_drop=0.5)
history_drop = train(dropped)
print(f"dropout 0.5: best val loss {min(h['val_loss'] for h in history_drop):.3f} "
      f"(without: {min(h['val_loss'] for h in history):.3f}); "
      f"last epoch val loss {history_drop[-1]['val_loss']:.3f}")

# %%
# Then the ensemble view, measured: in training mode every forward pass draws a new mask, that is a new
# sub-network. Averaging the softmax outputs of :math:`K` sampled sub-networks on the validation set
# and comparing with the single evaluation-mode pass:

n_masks = 16 if FAST else 64
X_val_t = gradus.tensor(X_val)
dropped.train()                                               # masks on: each pass is one sub-network
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
# One sub-network alone is a weaker classifier; the average of a handful is already about as good as
# the evaluation-mode pass, which gets the ensemble's prediction for the price of one network.
#
# Batch normalisation
# -------------------
# Batch normalisation (Ioffe & Szegedy 2015) normalises every unit (every channel, for
# ``BatchNorm2d``) over the :math:`m` examples of the mini-batch, then lets the network rescale it
# with two learned parameters :math:`\gamma, \beta` (``weight`` and ``bias``):
#
# .. math::
#
#     \mu_B = \frac1m \sum_{i=1}^m x_i, \qquad \sigma_B^2 = \frac1m \sum_{i=1}^m (x_i - \mu_B)^2, \qquad
#     y_i = \gamma\, \frac{x_i - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}} + \beta .
#
# At evaluation there is no batch to average over (or only one example), so the layer keeps
# **running averages** of the batch statistics while training, updated after every training batch
# with ``momentum`` :math:`= 0.1`,
#
# .. math::
#
#     \hat\mu \leftarrow (1 - 0.1)\,\hat\mu + 0.1\,\mu_B, \qquad
#     \hat\sigma^2 \leftarrow (1 - 0.1)\,\hat\sigma^2 + 0.1\,\frac{m}{m-1}\,\sigma_B^2,
#
# and ``eval()`` normalises with :math:`\hat\mu, \hat\sigma^2` instead. Below: batches of 32 examples of
# three features with means 5, -2, 0 and standard deviations 2, 0.5, 1. In training mode the output
# has mean 0 and standard deviation 1 per feature whatever the batch; the running averages creep
# towards the true statistics at the rate :math:`1 - 0.9^k`.

bn = nn.BatchNorm1d(3)
true_mean, true_std = np.array([5.0, -2.0, 0.0]), np.array([2.0, 0.5, 1.0])
data_rng = np.random.default_rng(0)
running = []
for k in range(60):
    batch = gradus.tensor((true_mean + true_std * data_rng.standard_normal((32, 3))).astype(np.float32))
    out = bn(batch)                                           # training mode: batch statistics
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
# A single example in training mode would be normalised by its own statistics (and fails with an
# error: one value per channel has no variance); in evaluation mode it goes through the fixed affine
# map of the running statistics, and the example at the true mean comes out near 0.
#
# What it does for training
# ~~~~~~~~~~~~~~~~~~~~~~~~~
# Normalising keeps every layer's inputs in the range where the activations have slope, whatever the
# layers below do to their scale, so larger learning rates work and deep sigmoid networks train. The
# same five-layer sigmoid MLP (784-100-100-100-100-10), the same initial weights and data, plain SGD
# with learning rate 0.5, with and without ``BatchNorm1d`` before every sigmoid:


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
    batch_rng = np.random.default_rng(0)                      # the same mini-batches for both
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
# Without normalisation the deep sigmoid network sits on a plateau at :math:`\ln 10 \approx 2.3` (the
# loss of guessing) for a long time: its gradients vanish on the way down (page 5); with batch
# normalisation it learns from the first steps. The batch statistics are also a little noisy from one
# mini-batch to the next, which acts as a mild regulariser.
#
# On the full data
# ----------------
# The recipes put these together on all of MNIST. ``gradus train mnist-lenet5-paper`` (LeNet-5 as
# published, no augmentation, no dropout) reaches a training accuracy of 0.99997 but a test accuracy
# of 0.9891 after 20 epochs: a gap that is overfitting, by the figures of ``benchmarks/RESULTS.md``.
# ``gradus train mnist-cnn``, a small VGG-style network with batch normalisation, reaches a test
# accuracy of 0.9937 in 6 epochs (also from ``benchmarks/RESULTS.md``). The penalty
# :math:`F = E + \alpha\|\mathbf w\|^2` on a large MLP and 500 digits, train and test loss with and
# without it, is the recipe ``gradus train mnist-overfit-l2``.
