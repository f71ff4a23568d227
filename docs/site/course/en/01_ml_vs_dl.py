r"""
Machine learning vs deep learning
=================================

A classic machine-learning system has two parts made by different hands. An engineer designs
**features**: numbers computed from the raw input that, in the engineer's judgement, carry what
matters (for a handwritten digit: how much ink each row and each column holds, whether the strokes
are symmetric, how many loops there are). A learning algorithm then fits a simple classifier on
those features. The classifier is learned; the features are not, and the system can never be
better than they are.

**Deep learning** learns the features too. A deep network takes the raw input (every pixel) and
stacks layers, each computing new features from the previous layer's; all the weights, from the
first layer to the last, are trained together by gradient descent on one loss. This is
**end-to-end learning**: nothing between the pixels and the answer is designed by hand.

.. math::

    \text{machine learning:}\quad \hat y = g_{\theta}\big(\phi(x)\big),
    \quad \phi \text{ designed}, \ \theta \text{ learned}
    \qquad\qquad
    \text{deep learning:}\quad \hat y = f_{\theta_L}\big(\cdots f_{\theta_2}(f_{\theta_1}(x))\big),
    \quad \text{every } \theta_l \text{ learned}

This page runs both on the 8x8 handwritten digits that ship with gradus (1,797 images, no download),
then looks at what the network learned, and ends with the history of how deep networks won.
"""

# %%
# The data and the hand-made features
# -----------------------------------
# :func:`gradus.data.datasets.digits.load_digits_arrays` returns the images flattened to 64 pixels in
# [0, 1] with a fixed, stratified train/test split (1,438 / 359 images); the loader is in
# :source:`src/gradus/data/datasets/digits.py`.
#
# Our hand-made feature map :math:`\phi` is the classic *projection profile*: the mean ink of each of the
# 8 rows and each of the 8 columns, 16 numbers per image instead of 64 pixels.
#
# ``GRADUS_DOCS_FAST=1`` is set by the test that builds this site; it only shortens training.
# Run the page yourself and you get the full experiment.
import os

import matplotlib.pyplot as plt
import numpy as np

import gradus
import gradus.functional as F
from gradus import nn, optim
from gradus.data.datasets.digits import load_digits_arrays

FAST = os.environ.get("GRADUS_DOCS_FAST") == "1"
num_epochs = 10 if FAST else 30

X_train, y_train = load_digits_arrays(train=True)   # (1438, 64) float32 in [0, 1], (1438,) int64
X_test, y_test = load_digits_arrays(train=False)    # (359, 64), (359,)


def hand_made_features(X):
    """phi(x): mean ink per row (8) and per column (8) of each 8x8 image -> (N, 16)."""
    images = X.reshape(-1, 8, 8)
    rows = images.mean(axis=2)                       # (N, 8)
    cols = images.mean(axis=1)                       # (N, 8)
    return np.concatenate([rows, cols], axis=1).astype(np.float32)


print("raw pixels:", X_train.shape, " hand-made features:", hand_made_features(X_train).shape)

fig, axes = plt.subplots(1, 3, figsize=(9, 2.8))
image = X_train[0].reshape(8, 8)
axes[0].imshow(image, cmap="gray_r")
axes[0].set_title(f"raw input x (label {y_train[0]})")
axes[1].barh(np.arange(8), image.mean(axis=1), color="tab:blue")
axes[1].invert_yaxis()
axes[1].set_title("feature: ink per row")
axes[2].bar(np.arange(8), image.mean(axis=0), color="tab:orange")
axes[2].set_title("feature: ink per column")
fig.tight_layout()

# %%
# Three classifiers, one training loop
# ------------------------------------
# The same loop trains all three models: mini-batches of 64, softmax cross-entropy
# (:func:`gradus.functional.loss.cross_entropy`), Adam (:source:`src/gradus/optim/adam.py`), and autograd
# computing every gradient. Only the input and the model change:
#
# 1. hand-made features + a linear classifier (``nn.Linear(16, 10)``, i.e. softmax regression):
#    classic machine learning;
# 2. raw pixels + a linear classifier (``nn.Linear(64, 10)``): learning, but no features at all;
# 3. raw pixels + an MLP with one hidden layer of 128 ReLU units: the hidden layer *learns* its
#    features, end to end.


def train(net, X, y, num_epochs, lr=0.01, batch_size=64):
    gradus.manual_seed(0)                                    # same initial weights on every run
    opt = optim.Adam(net.parameters(), lr=lr)
    X, y = gradus.tensor(X), gradus.tensor(y)
    order_rng = np.random.default_rng(0)
    for epoch in range(num_epochs):
        for idx in np.array_split(order_rng.permutation(len(y)), len(y) // batch_size):
            idx = gradus.tensor(idx)
            loss = F.cross_entropy(net(X[idx]), y[idx])      # softmax + negative log-likelihood
            opt.zero_grad()
            loss.backward()                                  # autograd: dL/dw for every weight
            opt.step()
    return net


def accuracy(net, X, y):
    with gradus.no_grad():
        y_hat = net(gradus.tensor(X)).argmax(dim=1).numpy()
    return float((y_hat == y).mean())


gradus.manual_seed(0)
linear_on_features = train(nn.Linear(16, 10), hand_made_features(X_train), y_train, num_epochs)
gradus.manual_seed(0)
linear_on_pixels = train(nn.Linear(64, 10), X_train, y_train, num_epochs)
gradus.manual_seed(0)
mlp_on_pixels = train(nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)),
                      X_train, y_train, num_epochs)

results = {
    "hand-made features\n+ linear": accuracy(linear_on_features, hand_made_features(X_test), y_test),
    "raw pixels\n+ linear": accuracy(linear_on_pixels, X_test, y_test),
    "raw pixels\n+ MLP (learned features)": accuracy(mlp_on_pixels, X_test, y_test),
}
for name, acc in results.items():
    print(f"{name.replace(chr(10), ' '):<40} test accuracy {acc:.3f}")

fig, ax = plt.subplots(figsize=(7, 3))
bars = ax.bar(list(results), list(results.values()), color=["tab:gray", "tab:blue", "tab:green"])
ax.bar_label(bars, fmt="%.3f")
ax.set_ylim(0.5, 1.0)
ax.set_ylabel("test accuracy")
ax.set_title(f"8x8 digits, {num_epochs} epochs")
fig.tight_layout()

# %%
# The projection profile throws information away (many different images have the same row and column
# sums), and no classifier on top of it can get that information back. The linear model on raw pixels
# keeps everything but can only draw hyperplanes in pixel space. The MLP learns 128 features of its
# own and classifies with them, and it is the most accurate of the three.
#
# What did it learn?
# ------------------
# Each hidden unit computes :math:`\mathrm{ReLU}(w_j \cdot x + b_j)`, so its weight vector
# :math:`w_j` (64 numbers) *is* a feature detector, and it can be shown as an 8x8 image: the pixels
# that excite the unit (red) and the ones that inhibit it (blue). Nobody designed these; gradient
# descent found them.

W = mlp_on_pixels[0].weight.detach().numpy()                 # (128, 64): one row per hidden unit
fig, axes = plt.subplots(2, 8, figsize=(9, 2.6))
for j, ax in enumerate(axes.flat):
    limit = np.abs(W[j]).max()
    ax.imshow(W[j].reshape(8, 8), cmap="bwr", vmin=-limit, vmax=limit)
    ax.set_axis_off()
fig.suptitle("first-layer weights of 16 hidden units (learned features)")
fig.tight_layout()

# %%
# How deep networks won: a short history
# --------------------------------------
# Networks with several hidden layers are old (back-propagation was popularised in 1986), but for two
# decades they trained badly. Three things changed:
#
# - **Vanishing gradients.** With sigmoid or tanh units every layer multiplies the back-propagated
#   gradient by :math:`f'(z) \le 1/4` (sigmoid), so the first layers of a deep network barely learn.
#   Layer-wise pre-training (2006) was the first way around it.
# - **ReLU.** :math:`\max(0, z)` has derivative 1 wherever the unit is active, so gradients pass
#   through many layers; with ReLU, good initialisation and later batch normalisation and residual
#   connections, deep networks train from a random start.
# - **GPUs and data.** A GPU multiplies matrices tens of times faster than a CPU, which made networks
#   with millions of weights trainable on millions of images.
#
# MNIST (60,000 training and 10,000 test images of 28x28 handwritten digits) was the race track:
#
# .. list-table::
#    :header-rows: 1
#
#    * - result
#      - test error
#    * - Ciresan et al. 2010: a plain deep MLP (784-2500-2000-1500-1000-500-10) trained on a GPU
#        with elastic distortions
#      - 0.35%
#    * - Ciresan et al. 2012: a committee of 35 CNNs
#      - 0.23%
#
# What gradus reproduces on a laptop CPU, as measured in ``benchmarks/RESULTS.md`` (recipe name,
# run with ``gradus train <recipe>``):
#
# .. list-table::
#    :header-rows: 1
#
#    * - recipe
#      - measured
#    * - ``mnist-mlp``: 784-1000-1000-10 ReLU, 10 epochs
#      - test accuracy 0.9846
#    * - ``mnist-dmlp``: Ciresan's 784-2500-2000-1500-1000-500-10 with elastic distortions, 10 epochs
#        (the paper trained for about 800)
#      - test accuracy 0.9919
#    * - ``mnist-lenet5``: LeNet-5 with ReLU and max-pooling, 10 epochs
#      - test accuracy 0.9921
#    * - ``mnist-cnn``: a small VGG-style CNN with batch normalisation, 6 epochs
#      - test accuracy 0.9937
#
# The models are in :source:`src/gradus/models/mlp.py` (``mnist_mlp``, ``mnist_dmlp``) and
# :source:`src/gradus/models/lenet.py`. The next page starts where the story starts: with one neuron.
