r"""
The perceptron and the delta rule
=================================

Rosenblatt's **perceptron** (1958) is one neuron: it weighs its inputs, adds them up and fires when
the sum is positive. With the constant input :math:`x_0 = 1` added to every sample, the bias is just
the weight :math:`w_0` and the threshold is always 0:

.. math::

    \hat y = \begin{cases} +1 & \text{if } \mathbf w \cdot \mathbf x > 0 \\ -1 & \text{otherwise}
    \end{cases}
    \qquad \mathbf x = (1, x_1, \dots, x_n)

Geometrically the unit splits the input space with the hyperplane :math:`\mathbf w \cdot \mathbf x = 0`
(a line for two inputs): everything on one side is the positive set :math:`P`, the rest is :math:`N`.

**The perceptron rule** learns :math:`\mathbf w` from mistakes only. Visit the samples; whenever one is
on the wrong side, move the line towards it:

.. math::

    \mathbf x \in P,\ \mathbf w \cdot \mathbf x \le 0 \ \Rightarrow\ \mathbf w \leftarrow \mathbf w + \mathbf x
    \qquad\qquad
    \mathbf x \in N,\ \mathbf w \cdot \mathbf x \ge 0 \ \Rightarrow\ \mathbf w \leftarrow \mathbf w - \mathbf x

An epoch without a mistake ends training. **The convergence theorem** (Novikoff 1962) says that this
always happens when the data is linearly separable: if some unit vector :math:`\mathbf w^*` separates
the data with margin :math:`\gamma = \min_i y_i\, \mathbf w^* \cdot \mathbf x_i > 0` and every sample has
:math:`\|\mathbf x_i\| \le R`, the rule makes at most :math:`(R/\gamma)^2` corrections. When no line
separates the data, it never stops.

**The delta rule** (Widrow and Hoff's Adaline, 1960, also called LMS) learns from the *size* of the
error instead. During training the unit's output is linear, :math:`f = \mathbf w \cdot \mathbf x`; the
rule is gradient descent on the squared error, and the threshold is applied only to predict:

.. math::

    E = \tfrac12 (t - f)^2, \qquad
    \frac{\partial E}{\partial \mathbf w} = -(t - f)\,\mathbf x, \qquad
    \mathbf w \leftarrow \mathbf w + \eta\,(t - f)\,\mathbf x

It converges to the least-squares solution whether or not the data is separable. Both learners are in
:source:`src/gradus/models/perceptron.py` (``train_perceptron``, ``train_adaline``), written with gradus
tensors, one update per line.
"""

# %%
# AND, OR and XOR
# ---------------
# :func:`gradus.data.datasets.synthetic.logic_gate` gives the four rows of a truth table. We run the
# perceptron rule on three gates, each from the same random start.
import os

import matplotlib.pyplot as plt
import numpy as np

import gradus
import gradus.functional as F
from gradus import nn, optim
from gradus.data.datasets import logic_gate
from gradus.models.perceptron import augment, train_adaline, train_perceptron

FAST = os.environ.get("GRADUS_DOCS_FAST") == "1"
max_epochs = 30 if FAST else 100
gates = ["and", "or", "xor"]

runs = {}
for gate in gates:
    X, y = logic_gate(gate)                                    # X (4, 2) in {0, 1}, y (4,) in {0, 1}
    runs[gate] = train_perceptron(X, y, max_epochs=max_epochs, generator=0, name=gate.upper())
    print(f"{gate.upper():>3}: {runs[gate].message}")

# %%
# For AND and OR the rule stops after a few epochs; the convergence theorem's bound holds. We measure
# the margin :math:`\gamma` of the line that was found (the best line's margin can only be larger, so
# the bound computed from it is an upper bound on the true one):

for gate in ["and", "or"]:
    X, y = logic_gate(gate)
    Xa = augment(X).numpy()                                    # (4, 3): x0 = 1 prepended
    t = np.where(y > 0, 1, -1)
    w = runs[gate].weights.numpy()
    gamma = (t * (Xa @ w)).min() / np.linalg.norm(w)           # margin of the found separating line
    R = np.linalg.norm(Xa, axis=1).max()
    print(f"{gate.upper()}: {runs[gate].updates} corrections <= (R / gamma)^2 = {(R / gamma) ** 2:.1f}")


def draw_line(ax, w, **style):
    """The decision line w0 + w1 x1 + w2 x2 = 0 over the unit square."""
    x1 = np.linspace(-0.5, 1.5, 2)
    if abs(w[2]) > 1e-9:
        ax.plot(x1, -(w[0] + w[1] * x1) / w[2], **style)
    else:
        ax.axvline(-w[0] / w[1], **style)


def draw_points(ax, X, y):
    ax.scatter(*X[y > 0].T, marker="o", s=90, color="tab:red", label="P (y = 1)", zorder=3)
    ax.scatter(*X[y <= 0].T, marker="s", s=90, color="tab:blue", label="N (y = 0)", zorder=3)
    ax.set_xlim(-0.5, 1.5)
    ax.set_ylim(-0.5, 1.5)
    ax.set_aspect("equal")


fig, axes = plt.subplots(1, 4, figsize=(13, 3.3))
for ax, gate in zip(axes, gates):
    X, y = logic_gate(gate)
    draw_points(ax, X, y)
    draw_line(ax, runs[gate].weights.numpy(), color="black")
    verdict = "converged" if runs[gate].converged else f"no line after {max_epochs} epochs"
    ax.set_title(f"{gate.upper()}: {verdict}")
axes[0].legend(loc="upper left", fontsize=8)
for gate in gates:
    axes[3].plot(np.arange(1, runs[gate].epochs + 1), runs[gate].updates_per_epoch, marker=".",
                 label=gate.upper())
axes[3].set_xlabel("epoch")
axes[3].set_ylabel("mistakes (corrections)")
axes[3].set_title("perceptron: mistakes per epoch")
axes[3].legend()
fig.tight_layout()

# %%
# On XOR the mistakes never drop to zero: the positive points (0, 1) and (1, 0) sit on one diagonal,
# the negative ones on the other, and no line has both of one diagonal on the same side. The rule keeps
# correcting forever, moving the line around without settling. This is Minsky and Papert's objection
# (1969), and it is answered on the next page by adding a layer.
#
# The delta rule
# --------------
# Adaline uses the same linear unit and the targets :math:`t \in \{-1, +1\}`; batch mode takes the
# average of the per-sample steps, which is exactly gradient descent on :math:`E`. Its error falls
# smoothly and it settles on every gate, XOR included. But on XOR the least-squares line is worthless:
# by symmetry the best linear output is :math:`f = 0` for all four points (:math:`E = 0.5`), so the
# weights shrink to nearly zero and which points land on the "right" side is decided by rounding.

adaline_epochs = 50 if FAST else 200
fig, axes = plt.subplots(1, 4, figsize=(13, 3.3))
for ax, gate in zip(axes, gates):
    X, y = logic_gate(gate)
    fit = train_adaline(X, y, lr=0.1, epochs=adaline_epochs, mode="batch", generator=0)
    correct = (fit.model.predict(X).numpy() == np.where(y > 0, 1, -1)).mean()
    print(f"{gate.upper():>3}: E = {fit.losses[-1]:.3f} after {fit.epochs} epochs, "
          f"{correct:.0%} of the points on the right side")
    draw_points(ax, X, y)
    draw_line(ax, fit.weights.numpy(), color="tab:green")
    ax.set_title(f"Adaline on {gate.upper()}: {correct:.0%} right")
    axes[3].plot(np.arange(1, fit.epochs + 1), fit.losses, label=gate.upper())
axes[3].set_xlabel("epoch")
axes[3].set_ylabel("E = 1/2 mean (t - f)^2")
axes[3].set_title("delta rule: error per epoch")
axes[3].legend()
fig.tight_layout()

# %%
# The sigmoid: a step you can differentiate
# -----------------------------------------
# The perceptron's step has derivative 0 almost everywhere, so no gradient tells it how to improve,
# and a network of steps cannot be trained by gradient descent. The **logistic sigmoid** is a smooth
# step whose output reads as a probability:
#
# .. math::
#
#     \sigma(z) = \frac{1}{1 + e^{-z}}, \qquad \sigma'(z) = \sigma(z)\,\big(1 - \sigma(z)\big) \le \tfrac14
#
# One sigmoid unit trained by gradient descent on the cross-entropy is logistic regression. Here
# autograd computes the gradient (``loss.backward()``) instead of a hand-derived rule, which is how
# every later page trains. The small maximum of :math:`\sigma'` will come back as the vanishing
# gradient problem.

z = np.linspace(-6, 6, 200)
s = 1 / (1 + np.exp(-z))
X, y = logic_gate("and")
gradus.manual_seed(0)
unit = nn.Linear(2, 1)                                        # w . x + b, the sigmoid lives in the loss
opt = optim.SGD(unit.parameters(), lr=1.0)
Xt, yt = gradus.tensor(X), gradus.tensor(y.astype(np.float32))
for step in range(300 if FAST else 2000):
    loss = F.binary_cross_entropy_with_logits(unit(Xt).reshape(-1), yt)
    opt.zero_grad()
    loss.backward()
    opt.step()
print(f"sigmoid unit on AND: loss {loss.item():.3f}, "
      f"P(y = 1) = {np.round(gradus.sigmoid(unit(Xt)).detach().numpy().ravel(), 3)}")

fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
axes[0].plot(z, np.where(z > 0, 1.0, 0.0), color="gray", label="step (perceptron)")
axes[0].plot(z, s, color="tab:red", label="sigmoid")
axes[0].plot(z, s * (1 - s), color="tab:red", linestyle="--", label="sigmoid'  (max 1/4)")
axes[0].set_xlabel("z")
axes[0].legend(fontsize=8)
axes[0].set_title("step vs sigmoid")
g1, g2 = np.meshgrid(np.linspace(-0.5, 1.5, 101), np.linspace(-0.5, 1.5, 101))
grid = gradus.tensor(np.stack([g1.ravel(), g2.ravel()], axis=1).astype(np.float32))
with gradus.no_grad():
    p = gradus.sigmoid(unit(grid)).numpy().reshape(g1.shape)
contour = axes[1].contourf(g1, g2, p, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
fig.colorbar(contour, ax=axes[1], label="P(y = 1)")
draw_points(axes[1], X, y)
axes[1].set_title("a sigmoid unit trained on AND")
fig.tight_layout()
