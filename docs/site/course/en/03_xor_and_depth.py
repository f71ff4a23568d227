r"""
XOR, and why layers matter
==========================

One unit draws one line. XOR needs two: the positive points (0, 1) and (1, 0) lie *between* two
parallel lines, the negative ones outside them. A **hidden layer** supplies those lines. Each hidden
unit :math:`j` computes a feature :math:`h_j = \sigma(\mathbf w_j \cdot \mathbf x + b_j)`, which is
close to 1 on one side of its line and close to 0 on the other, and the output unit combines the
features with a line of its own, now in the space of :math:`h`:

.. math::

    \mathbf h = \sigma(W_1 \mathbf x + \mathbf b_1), \qquad
    \hat y = \sigma(\mathbf w_2 \cdot \mathbf h + b_2)

With two hidden units, "above line 1 **and** below line 2" is one linear decision in :math:`(h_1, h_2)`,
and XOR is solved. Layer by layer this gives the classic picture (Lippmann 1987), exact for threshold
units and a good guide for smooth ones:

.. list-table::
   :header-rows: 1

   * - network
     - the regions it can form
   * - one layer (no hidden layer)
     - a half-plane, bounded by one line
   * - two layers (one hidden layer)
     - convex regions: intersections of the hidden units' half-planes
   * - three layers (two hidden layers)
     - arbitrary regions: unions of convex ones

The networks are ``gradus.models.MLP`` (:source:`src/gradus/models/mlp.py`): ``MLP([2, 2, 1], "sigmoid")``
is the 2-2-1 XOR network (``xor_mlp``), and ``MLP([2, 1])`` with no hidden layer is logistic regression.
"""

# %%
# The 2-2-1 network solves XOR
# ----------------------------
# The output is a logit; ``binary_cross_entropy_with_logits`` applies the output sigmoid inside the
# loss, which is the numerically stable form.
import os

import matplotlib.pyplot as plt
import numpy as np

import gradus
import gradus.functional as F
from gradus import optim
from gradus.data.datasets import logic_gate, make_spiral
from gradus.models.mlp import MLP

FAST = os.environ.get("GRADUS_DOCS_FAST") == "1"
steps = 300 if FAST else 2000


def train_mlp(sizes, X, y, activation="tanh", steps=steps, lr=0.05, seed=0):
    """Full-batch Adam on the cross-entropy; one output = binary (logit), more = classes."""
    gradus.manual_seed(seed)
    net = MLP(sizes, activation)
    opt = optim.Adam(net.parameters(), lr=lr)
    X, y = gradus.tensor(X), gradus.tensor(y)
    for step in range(steps):
        out = net(X)
        if sizes[-1] == 1:
            loss = F.binary_cross_entropy_with_logits(out.reshape(-1), y.float())
        else:
            loss = F.cross_entropy(out, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net


def predict(net, X):
    with gradus.no_grad():
        out = net(gradus.tensor(np.asarray(X, dtype=np.float32)))
    return (out.reshape(-1) > 0).long().numpy() if out.shape[1] == 1 else out.argmax(dim=1).numpy()


def draw_regions(ax, net, X, y, title, lim=1.6):
    g1, g2 = np.meshgrid(np.linspace(-lim, lim, 150), np.linspace(-lim, lim, 150))
    regions = predict(net, np.stack([g1.ravel(), g2.ravel()], axis=1)).reshape(g1.shape)
    n_classes = max(int(y.max()), 1) + 1                     # fixed colours even if one class wins
    ax.contourf(g1, g2, regions, levels=np.arange(-0.5, n_classes), cmap="coolwarm", alpha=0.35,
                vmin=0, vmax=n_classes - 1)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", s=12, edgecolors="k", linewidths=0.3,
               vmin=0, vmax=n_classes - 1)
    accuracy = (predict(net, X) == y).mean()
    ax.set_title(f"{title}\naccuracy {accuracy:.3f}", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


X, y = logic_gate("xor", encoding="bipolar")                 # corners (+-1, +-1), y in {-1, +1}
y = (y > 0).astype(np.int64)                                  # -> {0, 1}
xor_net = train_mlp([2, 2, 1], X, y, activation="sigmoid", lr=0.1)
print("XOR predictions:", predict(xor_net, X), " targets:", y)

fig, ax = plt.subplots(figsize=(4.2, 4.2))
draw_regions(ax, xor_net, X, y, "2-2-1 sigmoid network on XOR")
W1 = xor_net.layers[0].weight.detach().numpy()                # (2, 2): one row per hidden unit
b1 = xor_net.layers[0].bias.detach().numpy()
x1 = np.linspace(-1.6, 1.6, 2)
for j in range(2):                                            # hidden unit j's line w_j . x + b_j = 0
    ax.plot(x1, -(b1[j] + W1[j, 0] * x1) / W1[j, 1], "k--", linewidth=1, label=f"hidden unit {j + 1}")
ax.set_xlim(-1.6, 1.6)
ax.set_ylim(-1.6, 1.6)
ax.legend(loc="lower left", fontsize=8)

# %%
# One, two and three layers
# -------------------------
# Now the table, drawn by trained networks. Two targets on the square :math:`[-1.5, 1.5]^2`: the inside
# of a triangle (convex) and two separate disks (not convex, not even connected). Three networks with
# small layers of 4 tanh units: no hidden layer, one, and two.

rng = np.random.default_rng(0)
P = rng.uniform(-1.5, 1.5, (300, 2)).astype(np.float32)
targets = {
    "triangle (convex)": ((P[:, 1] > -0.8) & (P[:, 1] < 1.2 * P[:, 0] + 0.9)
                          & (P[:, 1] < -1.2 * P[:, 0] + 0.9)).astype(np.int64),
    "two disks (not convex)": ((np.linalg.norm(P - [-0.75, -0.75], axis=1) < 0.55)
                               | (np.linalg.norm(P - [0.75, 0.75], axis=1) < 0.55)).astype(np.int64),
}
depths = {"one layer\n(no hidden layer)": [2, 1], "two layers\n(hidden 4)": [2, 4, 1],
          "three layers\n(hidden 4, 4)": [2, 4, 4, 1]}

fig, axes = plt.subplots(len(targets), len(depths), figsize=(9, 7.2))
for row, (target_name, t) in enumerate(targets.items()):
    for col, (depth_name, sizes) in enumerate(depths.items()):
        net = train_mlp(sizes, P, t, lr=0.1)
        draw_regions(axes[row, col], net, P, t, f"{depth_name}\n{target_name}")
fig.tight_layout()

# %%
# No hidden layer draws one line, whatever the target; here the best line is to call everything
# negative. One hidden layer bounds a region by (soft versions of) its units' lines, which is enough
# for the triangle but not for the two disks; the second hidden layer combines such pieces and gets both
# disks. Smooth units blur the table a little (a sigmoid or tanh output unit can combine its hidden
# lines in more ways than "and", and with *enough* hidden units one layer approximates any region:
# the universal approximation theorem), but with few units per layer it is exactly what we see.
#
# Depth vs width
# --------------
# Is it the number of units or their arrangement? Same data (three interleaved spiral arms, which no
# line separates), same training, the same 20 hidden units: one hidden layer of 20 against two hidden
# layers of 10. In the deep network the units of layer 2 combine the *regions* of layer 1, where a
# unit of a single hidden layer can only add one more line to the picture.

Xs, ys = make_spiral(n_per_class=100, n_classes=3, noise=0.2, seed=0)
contenders = {"wide: 2-20-3": [2, 20, 3], "deep: 2-10-10-3": [2, 10, 10, 3]}
fig, axes = plt.subplots(1, 2, figsize=(8, 4))
for ax, (name, sizes) in zip(axes, contenders.items()):
    net = train_mlp(sizes, Xs, ys, activation="relu", lr=0.02)
    n_params = sum(p.numel() for p in net.parameters())
    print(f"{name}: {n_params} parameters, training accuracy {(predict(net, Xs) == ys).mean():.3f}")
    draw_regions(ax, net, Xs, ys, f"{name} ({n_params} parameters)", lim=1.2)
fig.tight_layout()

# %%
# On a problem this small both arrangements fit the arms (the accuracies are printed above), so one toy
# problem does not decide the question. What depth buys shows on functions that are compositions: a
# deep ReLU network can cut the plane into exponentially more linear pieces than a shallow one with
# the same number of units (Montúfar et al. 2014), because each layer folds the space the next one
# cuts. Depth is not free (later chapters meet the vanishing gradient and the tricks that cure it),
# but it is why deep learning is *deep*: each layer builds on the features of the one below.
