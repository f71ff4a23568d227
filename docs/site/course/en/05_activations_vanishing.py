r"""
Activations, output functions and vanishing gradients
=====================================================

Without a nonlinearity between them, layers collapse: :math:`W_2(W_1\mathbf x) = (W_2W_1)\mathbf x` is
one linear map, however many matrices are stacked. The **activation function** :math:`f` applied to
every unit's weighted sum :math:`z` is what lets depth add anything. Which :math:`f`? Backpropagation
multiplies the gradient by :math:`f'(z)` at every layer, so the *derivative* matters as much as the
function itself. The classic choices:

.. list-table::
   :header-rows: 1

   * - activation
     - :math:`f(z)`
     - :math:`f'(z)`
   * - step (threshold)
     - :math:`1` if :math:`z \ge 0`, else :math:`0`
     - :math:`0` (almost everywhere): nothing to backpropagate
   * - sigmoid
     - :math:`\sigma(z) = 1 / (1 + e^{-z})`
     - :math:`\sigma(z)(1 - \sigma(z)) \le 1/4`
   * - tanh
     - :math:`\tanh z = 2\sigma(2z) - 1`
     - :math:`1 - \tanh^2 z \le 1`
   * - ReLU
     - :math:`\max(0, z)`
     - :math:`1` if :math:`z > 0`, else :math:`0`
   * - leaky ReLU
     - :math:`z` if :math:`z > 0`, else :math:`\alpha z` (:math:`\alpha = 0.01`)
     - :math:`1` or :math:`\alpha`
   * - GELU
     - :math:`z\,\Phi(z)` (:math:`\Phi`: the standard normal CDF)
     - :math:`\Phi(z) + z\,\varphi(z)`

The sigmoid and tanh **saturate**: for large :math:`|z|` they are flat and their derivative is near 0.
ReLU does not saturate for :math:`z > 0` and passes the gradient unchanged there; its weakness is the
other side, where a unit whose :math:`z` is negative for every input gets no gradient at all (a *dying
ReLU*; leaky ReLU keeps a small slope :math:`\alpha` against it). GELU, the activation of BERT and GPT,
is a smooth ReLU.

The functions are in :source:`src/gradus/functional/activation.py` (``F.sigmoid``, ``F.relu``,
``F.gelu``, ...) and the modules with PyTorch's names (``nn.Sigmoid``, ``nn.ReLU``, ``nn.LeakyReLU``,
``nn.GELU``, ...) in :source:`src/gradus/nn/activation.py`. This page draws them and their derivatives,
matches the output functions with their losses, and then measures the **vanishing gradient** in a
10-layer network on MNIST.
"""

# %%
# The activations and their derivatives
# -------------------------------------
# Each derivative below is computed by autograd, not typed in: ``f(z).sum().backward()`` leaves
# :math:`f'(z_i)` in ``z.grad`` (the sum's gradient is 1 for every element).
import os

import matplotlib.pyplot as plt
import numpy as np

import gradus
import gradus.functional as F
from gradus import nn, optim
from gradus.data.datasets import load_mnist_arrays
from gradus.models.mlp import MLP

FAST = os.environ.get("GRADUS_DOCS_FAST") == "1"
train_steps = 50 if FAST else 500

activations = {
    "step": F.step,
    "sigmoid": F.sigmoid,
    "tanh": F.tanh,
    "ReLU": F.relu,
    "leaky ReLU (0.1)": lambda z: F.leaky_relu(z, 0.1),      # a visible slope; the default is 0.01
    "GELU": F.gelu,
}
z_grid = np.linspace(-4, 4, 801)
values, slopes = {}, {}
for name, f in activations.items():
    z = gradus.tensor(z_grid, requires_grad=True)
    out = f(z)
    out.sum().backward()
    values[name], slopes[name] = out.detach().numpy(), z.grad.numpy()
    print(f"{name:<17} max f'(z) on [-4, 4] = {slopes[name].max():.3f}   f'(-4) = {slopes[name][0]:.4f}")

fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
for name in activations:
    axes[0].plot(z_grid, values[name], label=name)
    axes[1].plot(z_grid, slopes[name], label=name)
axes[0].set_title("activation f(z)")
axes[1].set_title("derivative f'(z), by autograd")
axes[0].set_ylim(-1.5, 4)
for ax in axes:
    ax.axhline(0, color="gray", linewidth=0.5)
    ax.axvline(0, color="gray", linewidth=0.5)
    ax.set_xlabel("z")
axes[1].legend(fontsize=8)
fig.tight_layout()

# %%
# The printed maxima are the numbers to remember: the sigmoid's derivative never exceeds
# :math:`1/4`, tanh's reaches 1 only at :math:`z = 0`, and both are small at :math:`z = -4`, where
# ReLU's is exactly 0 and leaky ReLU's is its slope (GELU's slightly exceeds 1 just above 0). The
# step's derivative is 0 everywhere: gradus' ``F.step`` passes no gradient, which is why the perceptron
# has its own learning rule.
#
# Output functions and their losses
# ---------------------------------
# The last layer is different: its activation, the **output function**, turns the logits :math:`\mathbf z`
# into a prediction of the kind the target is, and each has a loss that belongs with it:
#
# .. list-table::
#    :header-rows: 1
#
#    * - task
#      - output function :math:`\hat y = g(z)`
#      - loss
#      - gradus
#    * - regression
#      - identity: :math:`\hat y = z`
#      - mean squared error :math:`\frac12 (\hat y - y)^2`
#      - ``F.mse_loss``
#    * - two classes
#      - sigmoid: :math:`\hat y = \sigma(z)`
#      - binary cross-entropy :math:`-y\log\hat y - (1-y)\log(1-\hat y)`
#      - ``F.binary_cross_entropy_with_logits``
#    * - :math:`C` classes
#      - softmax: :math:`\hat y_k = e^{z_k} / \sum_j e^{z_j}`
#      - cross-entropy :math:`-\sum_k y_k \log \hat y_k` (:math:`\mathbf y` one-hot)
#      - ``F.cross_entropy``
#
# Each pair is the negative log-likelihood of one probability model (Gaussian, Bernoulli,
# categorical), and each gives the same, simplest possible gradient with respect to the logit. For
# softmax and cross-entropy, with :math:`\partial \hat y_k / \partial z_i = \hat y_k(\delta_{ki} - \hat y_i)`
# and :math:`\sum_k y_k = 1`:
#
# .. math::
#
#     \frac{\partial L}{\partial z_i} = -\sum_k \frac{y_k}{\hat y_k}\,\hat y_k(\delta_{ki} - \hat y_i)
#     = -y_i + \hat y_i \sum_k y_k = \hat y_i - y_i
#
# The error signal that starts backpropagation is simply *prediction minus target*. gradus uses this
# closed form: ``F.cross_entropy`` is one fused node whose backward is ``softmax(z) - onehot(y)``
# (:source:`src/gradus/functional/loss.py`), and the logits never pass through a separate softmax
# whose :math:`\log` could underflow. Autograd confirms all three pairs on random logits:

rng = np.random.default_rng(0)
logits = rng.standard_normal((5, 4))
labels = rng.integers(0, 4, 5)
bits = rng.integers(0, 2, 5).astype(np.float64)
reals = rng.standard_normal(5)


def gradient_wrt_logits(loss_fn, z):
    z = gradus.tensor(z, requires_grad=True)
    loss_fn(z).backward()
    return z.grad.numpy()


pairs = {
    "identity + MSE": (gradient_wrt_logits(lambda z: 0.5 * F.mse_loss(z, gradus.tensor(reals),
                                                                      reduction="sum"), logits[:, 0]),
                       logits[:, 0] - reals),
    "sigmoid + BCE": (gradient_wrt_logits(lambda z: F.binary_cross_entropy_with_logits(
                          z, gradus.tensor(bits), reduction="sum"), logits[:, 0]),
                      1 / (1 + np.exp(-logits[:, 0])) - bits),
    "softmax + CE": (gradient_wrt_logits(lambda z: F.cross_entropy(z, gradus.tensor(labels), reduction="sum"),
                                         logits),
                     np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True) - np.eye(4)[labels]),
}
for name, (autograd_grad, y_hat_minus_y) in pairs.items():
    print(f"{name:<15} max |dL/dz - (y_hat - y)| = {np.abs(autograd_grad - y_hat_minus_y).max():.1e}")

# %%
# Why not sigmoid with squared error?
# -----------------------------------
# With the *wrong* partner the gradient gets an extra factor. A sigmoid output trained with squared
# error has :math:`\partial L/\partial z = (\hat y - y)\,\sigma'(z)`, and :math:`\sigma'(z) \to 0`
# exactly when the unit is saturated, including when it is confidently **wrong**. Take a positive
# example (:math:`y = 1`) and move its logit :math:`z` from very wrong (negative) to very right:

z = gradus.tensor(np.linspace(-8, 8, 401), requires_grad=True)
ones = gradus.ones(401, dtype=z.dtype)
F.binary_cross_entropy_with_logits(z, ones, reduction="sum").backward()
grad_ce = -z.grad.numpy()
z.grad = None
(0.5 * F.mse_loss(F.sigmoid(z), ones, reduction="sum")).backward()
grad_mse = -z.grad.numpy()
print(f"at z = -8 (confidently wrong): -dL/dz = {grad_ce[0]:.4f} with cross-entropy, "
      f"{grad_mse[0]:.6f} with squared error")

fig, ax = plt.subplots(figsize=(6, 3.4))
ax.plot(z.detach().numpy(), grad_ce, label="sigmoid + cross-entropy: 1 - y_hat")
ax.plot(z.detach().numpy(), grad_mse, label="sigmoid + squared error: (1 - y_hat) y_hat (1 - y_hat)")
ax.set_xlabel("logit z of a positive example (y = 1)")
ax.set_ylabel("-dL/dz (the push towards y)")
ax.legend(loc="upper right", fontsize=8)
fig.tight_layout()

# %%
# Cross-entropy pushes hardest where the prediction is worst; squared error barely pushes at all
# there, and learning from such examples stalls. The same factor :math:`f'(z)`, now in *every*
# hidden layer, is the next problem.
#
# Vanishing gradients
# -------------------
# Backpropagation (page 4) sends the error back one layer at a time,
# :math:`\boldsymbol\delta^{l} = (W^{l+1})^{\mathsf T}\boldsymbol\delta^{l+1} \odot f'(\mathbf z^{l})`, and
# the gradient of layer :math:`l`'s weights is :math:`\boldsymbol\delta^l (\mathbf o^{l-1})^{\mathsf T}`.
# Unrolled from the output layer :math:`L` down to layer :math:`l`, the error is a product of
# :math:`L - l` factors:
#
# .. math::
#
#     \boldsymbol\delta^{l} = \Big(\prod_{k=l+1}^{L} \operatorname{diag} f'(\mathbf z^{k-1})\,
#     (W^{k})^{\mathsf T}\Big)\,\boldsymbol\delta^{L}
#
# If each factor shrinks a vector by a ratio :math:`r < 1`, the first layers get :math:`r^{L}` of
# the signal: they **vanish** (if :math:`r > 1`, they **explode**). With the sigmoid,
# :math:`f' \le 1/4` at every unit, so every layer shrinks the gradient unless the weights are large,
# and large weights saturate the units, which makes :math:`f'` smaller still.
#
# We measure it. A 10-layer MLP (784, nine hidden layers of 128, 10) from
# :source:`src/gradus/models/mlp.py`, one batch of 256 real MNIST digits, the cross-entropy, one
# ``backward()``, and the norm :math:`\|\partial L / \partial W^l\|` of every layer's weight gradient,
# **at initialisation** (before any training). Four networks: sigmoid and ReLU, each with the default
# initialisation of ``nn.Linear`` (PyTorch's: :math:`U(-1/\sqrt{n_{in}}, 1/\sqrt{n_{in}})`) and with the
# initialisation made for it (next section).

X_test, y_test = load_mnist_arrays(train=False)              # (10000, 784) in [0, 1], (10000,)
X_batch, y_batch = gradus.tensor(X_test[:256]), gradus.tensor(y_test[:256])
sizes = [784] + [128] * 9 + [10]


def build(activation, init, seed=0):
    """The 10-layer MLP with one of three initialisations of its weights (biases 0 for xavier/he)."""
    gradus.manual_seed(seed)
    net = MLP(sizes, activation)
    for layer in net.layers:
        if init == "xavier":
            nn.init.xavier_normal_(layer.weight)
            nn.init.zeros_(layer.bias)
        elif init == "he":
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            nn.init.zeros_(layer.bias)
    return net


def layer_gradient_norms(net):
    net.zero_grad()
    F.cross_entropy(net(X_batch), y_batch).backward()
    return np.array([layer.weight.grad.norm().item() for layer in net.layers])


setups = {"sigmoid, default init": ("sigmoid", "default"), "sigmoid, Xavier init": ("sigmoid", "xavier"),
          "ReLU, default init": ("relu", "default"), "ReLU, He init": ("relu", "he")}
norms = {name: layer_gradient_norms(build(*setup)) for name, setup in setups.items()}
for name, g in norms.items():
    print(f"{name:<22} |dL/dW| layer 1: {g[0]:.1e}   layer 10: {g[-1]:.1e}   ratio {g[0] / g[-1]:.1e}")

fig, ax = plt.subplots(figsize=(7, 4))
for name, g in norms.items():
    ax.plot(np.arange(1, len(g) + 1), g, "o-", label=name)
ax.set_yscale("log")
ax.set_xticks(np.arange(1, len(sizes)))
ax.set_xlabel("layer (1 = next to the input, 10 = output)")
ax.set_ylabel("||dL/dW|| at initialisation")
ax.set_title("10-layer MLP on a batch of 256 MNIST digits")
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# Read the plot from right to left, the way the gradient travels. With sigmoid units and the default
# initialisation the gradient shrinks by a roughly constant factor per layer, and the first layer
# gets a tiny fraction of what the last one gets (the printed ratio): a step size that moves the last
# layer would leave the first one untouched. Xavier initialisation helps the sigmoid a little, but it
# cannot undo :math:`f' \le 1/4`. ReLU with He initialisation keeps the norm about the same in every
# layer; ReLU with the default initialisation still shrinks, because its weights are too small for it.
#
# How ReLU and initialisation fix it
# ----------------------------------
# Take one layer with :math:`n_{in}` inputs and :math:`n_{out}` outputs,
# :math:`z_j = \sum_{i} w_{ji}\, o_i`, and independent zero-mean weights of variance
# :math:`\operatorname{Var}(w)`. Forward, each :math:`z_j` sums :math:`n_{in}` terms; backward, each
# :math:`\delta_i` sums :math:`n_{out}` terms :math:`w_{ji}\delta_j f'(z_i)`:
#
# .. math::
#
#     \operatorname{Var}(z^{l+1}) = n_{in}\operatorname{Var}(w)\,\mathbb E[f(z^{l})^2], \qquad
#     \operatorname{Var}(\delta^{l}) = n_{out}\operatorname{Var}(w)\,\mathbb E[f'(z^{l})^2]\,
#     \operatorname{Var}(\delta^{l+1})
#
# The signal keeps its size from layer to layer when the factor in front is 1. For ReLU,
# :math:`f'` is 1 on half of the inputs, so :math:`\mathbb E[f'^2] = 1/2` and
# :math:`\mathbb E[f(z)^2] = \operatorname{Var}(z)/2`: hence **He (Kaiming) initialisation**
# :math:`\operatorname{Var}(w) = 2/n_{in}` (``nn.init.kaiming_normal_(w, nonlinearity="relu")``). For
# tanh near 0, :math:`f' \approx 1`, and the compromise between the two conditions is **Xavier
# (Glorot)** :math:`\operatorname{Var}(w) = 2/(n_{in} + n_{out})` (``nn.init.xavier_normal_``). The
# default :math:`U(-1/\sqrt n, 1/\sqrt n)` has :math:`\operatorname{Var}(w) = 1/(3n)`, so the ReLU
# factor is :math:`1/6` in variance per layer: the slow decay of the third curve. For the sigmoid no
# variance works: :math:`\mathbb E[f'^2] \le 1/16`, and the weights large enough to compensate
# saturate the units. The initialisers are in :source:`src/gradus/nn/init.py`, with
# ``calculate_gain`` for each nonlinearity.
#
# Does it matter for training?
# ----------------------------
# The two extremes, trained the same way: SGD with momentum 0.9, learning rate 0.02, mini-batches of 64
# MNIST training images, the same steps, then tested on 2,000 test images.

X_train, y_train = load_mnist_arrays(train=True)
X_eval, y_eval = gradus.tensor(X_test[-2000:]), y_test[-2000:]
curves = {}
for name in ["sigmoid, default init", "ReLU, He init"]:
    net = build(*setups[name])
    opt = optim.SGD(net.parameters(), lr=0.02, momentum=0.9)
    batches = np.random.default_rng(0)
    curves[name] = []
    for _ in range(train_steps):
        idx = batches.integers(0, len(X_train), 64)
        loss = F.cross_entropy(net(gradus.tensor(X_train[idx])), gradus.tensor(y_train[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        curves[name].append(loss.item())
    with gradus.no_grad():
        accuracy = (net(X_eval).argmax(dim=1).numpy() == y_eval).mean()
    print(f"{name:<22} after {train_steps} steps: training loss {np.mean(curves[name][-10:]):.3f} "
          f"(mean of the last 10), test accuracy {accuracy:.3f}")

fig, ax = plt.subplots(figsize=(6, 3.4))
for name, losses in curves.items():
    ax.plot(np.arange(1, train_steps + 1), losses, label=name)
ax.axhline(np.log(10), color="gray", linestyle="--", linewidth=0.8, label="log 10 (chance)")
ax.set_xlabel("SGD step")
ax.set_ylabel("cross-entropy")
ax.set_title("10-layer MLP on MNIST")
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# The sigmoid network sits at the loss of guessing, :math:`\log 10 \approx 2.30`, while the ReLU
# network with He initialisation is already learning: its first layers receive a gradient, the
# sigmoid network's do not. This is the wall that deep networks hit before the late 2000s. ReLU,
# careful initialisation (and later batch normalisation and residual connections, in later chapters)
# are what made the deep MLP trainable: ``gradus train mnist-dmlp``, Ciresan et al.'s
# 784-2500-2000-1500-1000-500-10 network with ReLU units and elastic distortions, reaches a **test
# accuracy of 0.9919 after 10 epochs** (measured, as recorded in ``benchmarks/RESULTS.md``, section 4).
