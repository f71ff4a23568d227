r"""
Computational graphs and backpropagation
========================================

A **computational graph** writes a computation as nodes (operations) joined by edges (the values that
flow between them). The forward pass computes the values left to right. The **backward pass**
(backpropagation) sends derivatives right to left: each node receives the derivative of the final
output with respect to its own output, :math:`\partial L/\partial z`, multiplies it by its **local
derivative** and passes the result to its inputs. That is the chain rule, one node at a time:

.. math::

    z = f(x, y): \qquad
    \frac{\partial L}{\partial x} = \frac{\partial L}{\partial z}\,\frac{\partial z}{\partial x}, \qquad
    \frac{\partial L}{\partial y} = \frac{\partial L}{\partial z}\,\frac{\partial z}{\partial y}

Every node needs only its own inputs and the one number (or array) coming from the right, so the
derivatives with respect to *all* inputs cost about as much as one forward pass. gradus records this
graph while the forward pass runs (define-by-run, as PyTorch): every tensor made by an operation keeps
a ``grad_fn`` node, and ``backward()`` walks the nodes in reverse order
(:source:`src/gradus/autograd/engine.py`). :source:`src/gradus/viz/graph.py` turns the graph into
DOT text.
"""

# %%
# The shopping bill
# -----------------
# Two apples at 100 won, three oranges at 150 won, 10% tax:
# :math:`L = (100 \cdot 2 + 150 \cdot 3) \cdot 1.1 = 715`. The same example runs as
# :source:`docs/examples/shopping.py`. ``total.backward()`` fills ``.grad`` of every leaf: how much the
# bill moves per unit change of each input.
import os

import matplotlib.pyplot as plt
import numpy as np

import gradus
from gradus.models.mlp import TextbookMLP
from gradus.viz.graph import to_dot

FAST = os.environ.get("GRADUS_DOCS_FAST") == "1"   # this page is fast either way

leaves = {"apple": 100.0, "n_apple": 2.0, "orange": 150.0, "n_orange": 3.0, "tax": 1.1}
t = {}
for name, value in leaves.items():
    t[name] = gradus.tensor(value, dtype=gradus.float64, requires_grad=True)
    t[name].name = name                                       # labels the leaf in the graph

apple_price = t["apple"] * t["n_apple"]                       # 200
orange_price = t["orange"] * t["n_orange"]                    # 450
all_price = apple_price + orange_price                        # 650
total = all_price * t["tax"]                                  # 715
total.name = "total"
total.backward()

print(f"total = {total.item():.1f}")
for name in leaves:
    print(f"dL/d{name:<9} = {t[name].grad.item():g}")

# %%
# ``to_dot`` gives the graph as text; any Graphviz viewer draws it (``gradus.viz.graph.render`` does,
# when Graphviz is installed). Here the DOT text is laid out with a few lines of matplotlib: each column
# is one step away from the inputs.

dot = to_dot(total, show_values=True, show_grads=True)
print(dot)


def draw_dot(dot, ax):
    """Draw gradus' DOT text: nodes in columns by their distance from the inputs, edges as arrows."""
    import re
    labels = {m[0]: m[1].replace("\\n", "\n") for m in re.findall(r'^\s*(\w+) \[label="([^"]*)"', dot, re.M)}
    edges = re.findall(r"^\s*(\w+) -> (\w+);", dot, re.M)
    depth = {n: 0 for n in labels}
    for _ in labels:                                          # longest path from an input (no recursion)
        for a, b in edges:
            depth[b] = max(depth[b], depth[a] + 1)
    columns = {}
    for n in labels:
        columns.setdefault(depth[n], []).append(n)
    pos = {n: (d, -i + (len(ns) - 1) / 2) for d, ns in columns.items() for i, n in enumerate(sorted(ns))}
    for a, b in edges:
        ax.annotate("", xy=pos[b], xytext=pos[a], arrowprops=dict(arrowstyle="->", color="gray",
                                                                  shrinkA=28, shrinkB=28))
    for n, (x, y) in pos.items():
        leaf = "grad" in labels[n] and "\n" in labels[n]
        ax.text(x, y, labels[n], ha="center", va="center", fontsize=7,
                bbox=dict(boxstyle="round" if not leaf else "square", fc="#dbeafe" if leaf else "#e5e7eb"))
    ax.set_xlim(-0.6, max(depth.values()) + 0.6)
    ax.set_ylim(-max(len(c) for c in columns.values()) / 2 - 0.2, max(len(c) for c in columns.values()) / 2 + 0.2)
    ax.set_axis_off()


fig, ax = plt.subplots(figsize=(10, 3.8))
draw_dot(dot, ax)
ax.set_title("the shopping bill as gradus records it: values and gradients (dL/d leaf)")
fig.tight_layout()

# %%
# Add and multiply nodes
# ----------------------
# Two kinds of node do all the work here. An **add node** :math:`z = x + y` has local derivatives 1 and
# 1: it passes the incoming gradient to both inputs unchanged. A **multiply node** :math:`z = x y` has
# local derivatives :math:`y` and :math:`x`: each input receives the incoming gradient times the
# *other* input. Read the numbers above with these rules: :math:`\partial L/\partial\,\text{all\_price} =
# 1.1` (the tax, through the last multiply), the add node passes 1.1 to both prices, and
# :math:`\partial L/\partial\,\text{apple} = 1.1 \cdot 2 = 2.2`, :math:`\partial L/\partial\,
# \text{n\_apple} = 1.1 \cdot 100 = 110`.

x = gradus.tensor(3.0, requires_grad=True)
y = gradus.tensor(-2.0, requires_grad=True)
(x * y).backward(gradus.tensor(5.0))                          # upstream gradient dL/dz = 5
print(f"multiply: dL/dx = {x.grad.item():g} (= 5 * y), dL/dy = {y.grad.item():g} (= 5 * x)")
x.grad = y.grad = None
(x + y).backward(gradus.tensor(5.0))
print(f"add:      dL/dx = {x.grad.item():g},  dL/dy = {y.grad.item():g}  (passed through)")

# %%
# The affine layer
# ----------------
# A fully connected layer on a batch is one matrix product: :math:`Y = XW + \mathbf b` with
# :math:`X` of shape :math:`(N, D)`, :math:`W` :math:`(D, H)`, :math:`Y` :math:`(N, H)`. Its backward pass
# is two more matrix products and a sum; each shape is forced by the shapes of the others:
#
# .. math::
#
#     \frac{\partial L}{\partial X} = \frac{\partial L}{\partial Y}\, W^{\mathsf T}
#     \quad (N, H)(H, D) = (N, D), \qquad
#     \frac{\partial L}{\partial W} = X^{\mathsf T}\, \frac{\partial L}{\partial Y}
#     \quad (D, N)(N, H) = (D, H), \qquad
#     \frac{\partial L}{\partial \mathbf b} = \sum_{n} \frac{\partial L}{\partial Y_{n,:}}
#
# We check the three formulas against autograd. :math:`L = \sum Y \odot G` for a fixed random
# :math:`G` makes :math:`\partial L/\partial Y = G` (``nn.Linear`` stores :math:`W^{\mathsf T}`, shape
# ``(out, in)``, as PyTorch does; here :math:`W` is a plain tensor to keep the course's shapes).

N, D, H = 4, 3, 2
rng = np.random.default_rng(0)
X = gradus.tensor(rng.standard_normal((N, D)), requires_grad=True)
W = gradus.tensor(rng.standard_normal((D, H)), requires_grad=True)
b = gradus.tensor(rng.standard_normal(H), requires_grad=True)
G = rng.standard_normal((N, H))                               # plays dL/dY
Y = X @ W + b
(Y * gradus.tensor(G)).sum().backward()

by_hand = {"dL/dX": G @ W.detach().numpy().T, "dL/dW": X.detach().numpy().T @ G, "dL/db": G.sum(axis=0)}
by_autograd = {"dL/dX": X.grad.numpy(), "dL/dW": W.grad.numpy(), "dL/db": b.grad.numpy()}
for name in by_hand:
    print(f"{name}: shape {by_hand[name].shape}, autograd shape {by_autograd[name].shape}, "
          f"max |difference| {np.abs(by_hand[name] - by_autograd[name]).max():.1e}")

# %%
# The deep MLP and Algorithm 4-1
# ------------------------------
# For an MLP of sigmoid units with squared error :math:`E = \frac12 \|\mathbf o^L - \mathbf y\|^2`, the
# backward pass is the lecture's Algorithm 4-1. With :math:`\mathbf z^l = U^l [\mathbf o^{l-1}; 1]`
# (the last column of :math:`U^l` is the bias) and :math:`\mathbf o^l = f(\mathbf z^l)`:
#
# .. math::
#
#     \boldsymbol\delta^L = (\mathbf o^L - \mathbf y) \odot f'(\mathbf z^L), \qquad
#     \boldsymbol\delta^l = (U^{l+1}_{:, :-1})^{\mathsf T} \boldsymbol\delta^{l+1} \odot f'(\mathbf z^l),
#     \qquad
#     \frac{\partial E}{\partial U^l} = \boldsymbol\delta^l\, [\mathbf o^{l-1}; 1]^{\mathsf T}
#
# and the update :math:`U^l \leftarrow U^l - \eta\, \partial E/\partial U^l`. Below it is written out
# by hand in NumPy for a 6-5-4-3 network, next to gradus' own textbook version
# (``TextbookMLP.gradients`` in :source:`src/gradus/models/mlp.py`) and next to autograd on the same
# weights.

sizes = [6, 5, 4, 3]
B = 8
net = TextbookMLP(sizes, dtype=np.float64, generator=0)
Xb = rng.standard_normal((B, sizes[0]))
Yb = np.eye(sizes[-1])[rng.integers(0, sizes[-1], B)]         # one-hot targets


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def with_one(o):
    return np.concatenate([o, np.ones((len(o), 1))], axis=1)  # [o; 1]: the bias input


# Algorithm 4-1 by hand: forward, then the delta recursion from the output back
zs, os_ = [], [Xb]
for U in net.U:
    zs.append(with_one(os_[-1]) @ U.T)
    os_.append(sigmoid(zs[-1]))
grads_by_hand = [None] * len(net.U)
delta = (os_[-1] - Yb) * sigmoid(zs[-1]) * (1 - sigmoid(zs[-1]))              # delta^L
for l in reversed(range(len(net.U))):
    grads_by_hand[l] = delta.T @ with_one(os_[l]) / B                          # dE/dU^l, batch mean
    if l > 0:
        delta = (delta @ net.U[l][:, :-1]) * sigmoid(zs[l - 1]) * (1 - sigmoid(zs[l - 1]))

grads_textbook, _ = net.gradients(Xb, Yb)

# autograd on the same weights: the forward pass written with gradus tensors, then backward()
Us = [gradus.tensor(U, requires_grad=True) for U in net.U]
o = gradus.tensor(Xb)
for U in Us:
    o = gradus.sigmoid(gradus.cat([o, gradus.ones(B, 1, dtype=o.dtype)], dim=1) @ U.T)
E = 0.5 * ((o - gradus.tensor(Yb)) ** 2).sum() / B
E.backward()

diff_textbook = [np.abs(a - b).max() for a, b in zip(grads_by_hand, grads_textbook)]
diff_autograd = [np.abs(a - U.grad.numpy()).max() for a, U in zip(grads_by_hand, Us)]
for l, (d1, d2) in enumerate(zip(diff_textbook, diff_autograd), 1):
    print(f"U^{l} {net.U[l - 1].shape}: |by hand - TextbookMLP| = {d1:.1e}, |by hand - autograd| = {d2:.1e}")

fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
layers = [f"U^{l}" for l in range(1, len(sizes))]
axes[0].bar(layers, [np.abs(g).mean() for g in grads_by_hand], color="tab:blue")
axes[0].set_title("mean |dE/dU^l| (Algorithm 4-1)")
width = 0.38
positions = np.arange(len(layers))
axes[1].bar(positions - width / 2, np.maximum(diff_textbook, 1e-18), width, label="vs TextbookMLP")
axes[1].bar(positions + width / 2, np.maximum(diff_autograd, 1e-18), width, label="vs autograd")
axes[1].set_xticks(positions, layers)
axes[1].set_yscale("log")
axes[1].set_ylim(1e-18, 1e-6)
axes[1].set_title("max |difference| (float64)")
axes[1].legend(fontsize=8)
fig.tight_layout()

# %%
# The three agree to rounding error (about :math:`10^{-17}`, float64). Note the left panel: the
# gradients get smaller towards the input, because every layer multiplies :math:`\boldsymbol\delta` by
# :math:`f'(z) \le 1/4`. That is the vanishing gradient, the subject of a later page. From here on the
# course lets autograd compute the gradients; ``tests/models/test_textbook.py`` checks that one textbook
# update equals one autograd + SGD update.
