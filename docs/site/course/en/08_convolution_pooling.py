r"""
Convolution, padding and pooling
================================

A fully connected layer gives every output its own weight to every input. For images that is both
wasteful and blind to structure: a stroke means the same thing wherever it is in the picture, and a
pixel's meaning depends mostly on its neighbours. A **convolutional layer** builds both facts in. Each
output looks only at a small window of the input (**sparse connectivity**), and every window is
weighed by the same small **filter** (kernel) (**weight sharing**). Sliding the filter over the input
and taking a dot product at each position gives a **feature map**:

.. math::

    y_{o}[i, j] = b_o + \sum_{c=1}^{C} \sum_{u=0}^{K-1} \sum_{v=0}^{K-1}
    w_{o,c}[u, v]\; x_c[\,iS + u - P,\; jS + v - P\,]

for output channel :math:`o`, input channels :math:`c`, a :math:`K \times K` filter, **stride**
:math:`S` (how far the window moves) and **padding** :math:`P` (the rows and columns added around
the input). Strictly this is a cross-correlation (a convolution would flip the filter); deep learning
calls it convolution, and since the filter is learned the flip does not matter. An :math:`H`-pixel
side gives

.. math::

    H_{\text{out}} = \left\lfloor \frac{H + 2P - K}{S} \right\rfloor + 1 .

gradus computes the sum as one matrix product: the windows are unfolded into the columns of a
matrix (**im2col**) and multiplied by the filters (``F.conv2d`` and ``F.conv1d`` in
:source:`src/gradus/functional/conv.py`; the window geometry, padding and im2col in
:source:`src/gradus/functional/window.py`; the layers ``nn.Conv1d`` / ``nn.Conv2d`` in
:source:`src/gradus/nn/conv.py`). Padding other than zeros goes through ``F.pad``
(:source:`src/gradus/ops/movement.py`). **Pooling** (:source:`src/gradus/functional/pooling.py`,
:source:`src/gradus/nn/pooling.py`) summarises each window by its maximum or its mean, with no
weights at all. The **locally connected** layer, between the two extremes (local windows, no
sharing), is ``F.locally_connected2d`` in :source:`src/gradus/functional/patches.py` and
``nn.LocallyConnected2d`` in :source:`src/gradus/nn/locally_connected.py`.
"""

# %%
# The sliding dot product
# -----------------------
# A 5 x 5 input and a 3 x 3 filter, first by the formula with two loops, then by ``F.conv2d``
# (inputs are ``(N, C, H, W)``, weights ``(out_channels, in_channels, K, K)``).
import os

import matplotlib.pyplot as plt
import numpy as np

import gradus
import gradus.functional as F
from gradus import nn
from gradus.data.datasets import load_mnist_arrays

FAST = os.environ.get("GRADUS_DOCS_FAST") == "1"   # this page is fast either way

x = np.random.default_rng(0).integers(0, 10, (5, 5)).astype(np.float32)
w = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=np.float32)
by_hand = np.array([[np.sum(w * x[i:i + 3, j:j + 3]) for j in range(3)] for i in range(3)])
by_gradus = F.conv2d(gradus.tensor(x).reshape(1, 1, 5, 5), gradus.tensor(w).reshape(1, 1, 3, 3))
print("by the formula:\n", by_hand)
print("F.conv2d:\n", by_gradus.numpy()[0, 0])
print("max |difference|:", np.abs(by_hand - by_gradus.numpy()[0, 0]).max())

# %%
# No padding and stride 1: a 3 x 3 window fits in 3 positions along each side of a 5-pixel input, so
# the feature map is 3 x 3. This filter (a Sobel filter, more on it below) is large where the left
# column of the window is brighter than the right one.
#
# Stride, padding and the output size
# -----------------------------------
# The formula against the shapes ``F.conv2d`` actually returns, for a 28 x 28 input (an MNIST digit):
# padding :math:`P = (K - 1)/2` keeps the size ("same" padding), stride 2 halves it.

image = gradus.zeros(1, 1, 28, 28)
for K, S, P in [(3, 1, 0), (3, 1, 1), (5, 1, 0), (5, 1, 2), (3, 2, 1), (5, 2, 0), (7, 3, 3)]:
    formula = (28 + 2 * P - K) // S + 1
    shape = F.conv2d(image, gradus.ones(1, 1, K, K), stride=S, padding=P).shape
    print(f"K={K} S={S} P={P}:  floor((28 + 2*{P} - {K}) / {S}) + 1 = {formula:2d}   "
          f"F.conv2d -> {tuple(shape)}")

# %%
# Zero padding and edge padding
# -----------------------------
# **Zero padding** (``padding_mode="zeros"``, the default) surrounds the input with zeros; near the
# border the window then averages in pixels that are not there, and a smoothing filter darkens the
# edges. **Edge (replicate) padding** (``padding_mode="replicate"``) repeats the border values
# instead. A 3-wide averaging filter on a ramp, with ``F.conv1d``:

ramp = gradus.tensor([[[4.0, 4.0, 4.0, 4.0, 5.0, 6.0, 7.0]]])   # (N, C, L): flat, then a ramp
average = gradus.full((1, 1, 3), 1 / 3)
for mode in ["zeros", "replicate", "reflect", "circular"]:
    out = F.conv1d(ramp, average, padding=1, padding_mode=mode)
    print(f"{mode:>9}: {np.round(out.numpy()[0, 0], 3)}")
print("F.pad replicate:", F.pad(ramp, (1, 1), mode="replicate").numpy()[0, 0])

# %%
# Inside, every mode gives the mean of three neighbours; only the two end values depend on the mode.
# Zero padding pulls them towards 0 (the flat 4 at the left end becomes 2.667); replicate padding
# keeps a flat image flat at its border (4) and extends the ramp's last value; reflect mirrors the
# inside and circular wraps around. ``nn.Conv2d(..., padding_mode="replicate")`` does the same in a
# layer.
#
# Pooling
# -------
# A pooling layer replaces each window by one number, usually with stride = window size so that the
# windows do not overlap: **max pooling** keeps the strongest response, **average pooling** the mean.
# A 2 x 2 pool halves each side and has no parameters. Because the maximum of a window does not care
# *where* in the window the strong response was, pooling makes the output a little insensitive to
# small shifts.

a = gradus.tensor([[1.0, 3.0, 2.0, 0.0],
                   [4.0, 2.0, 1.0, 1.0],
                   [0.0, 1.0, 5.0, 6.0],
                   [2.0, 2.0, 7.0, 8.0]]).reshape(1, 1, 4, 4)
print("max pool 2x2:\n", F.max_pool2d(a, 2).numpy()[0, 0])
print("average pool 2x2:\n", F.avg_pool2d(a, 2).numpy()[0, 0])
print("parameters of nn.MaxPool2d(2):", sum(p.numel() for p in nn.MaxPool2d(2).parameters()))

# %%
# Fully connected, locally connected, convolutional
# -------------------------------------------------
# The lecture's example: a 1-D input of 5 pixels, 5 outputs, and a window of 3. A **fully connected**
# layer connects each output to all 5 inputs: :math:`5 \times 5 = 25` weights. A **locally connected**
# layer connects each output only to the 3 inputs of its window, with weights of its own: the 3 inner
# outputs have 3 connections and the 2 at the ends only 2 (their window sticks out of the input), so
# :math:`3 \cdot 3 + 2 \cdot 2 = 13` weights. A **convolutional** layer uses the same 3 weights at
# every position: 3 weights. We build all three with gradus modules and count their parameters (no
# biases, to count weights only). ``nn.LocallyConnected2d`` on a 1 x 5 image with a 1 x 3 window and
# padding 1 stores a 3-weight filter at each of the 5 positions, 15 numbers; two of them multiply the
# zero padding at the ends and never receive a gradient, which leaves exactly the lecture's 13.

gradus.manual_seed(0)
fully = nn.Linear(5, 5, bias=False)
local = nn.LocallyConnected2d(1, 1, input_size=(1, 5), kernel_size=(1, 3), padding=(0, 1), bias=False)
conv = nn.Conv1d(1, 1, kernel_size=3, padding=1, bias=False)
layers = {
    "fully connected": lambda v: fully(v),
    "locally connected": lambda v: local(v.reshape(-1, 1, 1, 5)).reshape(-1, 5),
    "convolutional": lambda v: conv(v.reshape(-1, 1, 5)).reshape(-1, 5),
}
modules = {"fully connected": fully, "locally connected": local, "convolutional": conv}

signal = gradus.randn(1, 5)
local(signal.reshape(1, 1, 1, 5)).sum().backward()
used = int((local.weight.grad.numpy() != 0).sum())
for name, module in modules.items():
    print(f"{name:>17}: {sum(p.numel() for p in module.parameters()):2d} parameters "
          f"{tuple(p.shape for p in module.parameters())}")
print(f"locally connected: {used} of its {local.weight.numel()} weights touch a real input pixel")

# %%
# Each layer here is linear, so it is a 5 x 5 matrix from inputs to outputs: its columns are the
# outputs for the inputs :math:`e_1, \dots, e_5`. Drawn, the three matrices show the three ideas:
# the dense one is full; the local one is a band of 13 entries, all different; the convolutional one
# is the same band (13 connections) with the same 3 values repeated down the diagonals.

fig, axes = plt.subplots(1, 3, figsize=(10, 3.4))
with gradus.no_grad():
    for ax, (name, layer) in zip(axes, layers.items()):
        matrix = layer(gradus.eye(5)).numpy().T                # row = output, column = input
        connections = int((np.abs(matrix) > 0).sum())
        distinct = len(np.unique(np.round(matrix[matrix != 0], 6)))
        ax.imshow(np.where(matrix == 0, np.nan, matrix), cmap="coolwarm", vmin=-1, vmax=1)
        for (i, j), value in np.ndenumerate(matrix):
            if value != 0:
                ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7)
        ax.set_title(f"{name}\n{connections} connections, {distinct} distinct weights", fontsize=9)
        ax.set_xticks(range(5), [f"x{k + 1}" for k in range(5)])
        ax.set_yticks(range(5), [f"y{k + 1}" for k in range(5)])
        print(f"{name:>17}: {connections} connections, {distinct} distinct weights")
fig.subplots_adjust(left=0.04, right=0.99, bottom=0.08, top=0.84, wspace=0.25)

# %%
# At image size the gap is dramatic. One 28 x 28 map to one 28 x 28 map, 3 x 3 windows with "same"
# padding:

sizes = {
    "fully connected": nn.Linear(28 * 28, 28 * 28, bias=False),
    "locally connected": nn.LocallyConnected2d(1, 1, input_size=(28, 28), kernel_size=3, padding=1,
                                               bias=False),
    "convolutional": nn.Conv2d(1, 1, kernel_size=3, padding=1, bias=False),
}
for name, module in sizes.items():
    print(f"{name:>17}: {sum(p.numel() for p in module.parameters()):>7,} weights")

# %%
# The convolution pays for its 9 weights with an assumption: what is worth detecting in one place is
# worth detecting everywhere. Shift the input and the feature map shifts with it (**translation
# equivariance**), exactly, away from the border (``np.roll`` wraps around, so the 4 outer rows and
# columns are left out of the comparison):

digits, labels = load_mnist_arrays(train=False, flatten=False)  # (10000, 1, 28, 28) in [0, 1]
digit = gradus.tensor(digits[:1])
shifted = gradus.tensor(np.roll(digits[:1], shift=(2, 3), axis=(2, 3)))   # 2 down, 3 right
kernel = gradus.randn(1, 1, 3, 3)
maps = F.conv2d(digit, kernel, padding=1).numpy()
maps_of_shifted = F.conv2d(shifted, kernel, padding=1).numpy()
inner = (..., slice(4, -4), slice(4, -4))
print("max |conv(shift(x)) - shift(conv(x))| away from the border =",
      np.abs(maps_of_shifted - np.roll(maps, shift=(2, 3), axis=(2, 3)))[inner].max())

# %%
# Edge filters on a real digit
# ----------------------------
# Before filters were learned they were designed. The **Sobel** filters estimate the horizontal and
# vertical derivatives of the brightness, so they respond to vertical and horizontal edges (with a
# sign: dark-to-bright or bright-to-dark); the **Laplacian** responds to edges of any direction (it
# is the second derivative, zero on flat areas and on ramps); a 3 x 3 mean blurs. Four filters are one
# weight tensor of shape ``(4, 1, 3, 3)``, so one call to ``F.conv2d`` gives four feature maps of the
# first test digit; a ReLU and a 2 x 2 max pool follow, as in a CNN layer.

sobel_x = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=np.float32)
filters = {
    "Sobel x (vertical edges)": sobel_x,
    "Sobel y (horizontal edges)": sobel_x.T.copy(),
    "Laplacian (all edges)": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=np.float32),
    "mean 3x3 (blur)": np.full((3, 3), 1 / 9, dtype=np.float32),
}
bank = gradus.tensor(np.stack(list(filters.values()))[:, None])        # (4, 1, 3, 3)
feature_maps = F.conv2d(digit, bank, padding=1)                           # (1, 4, 28, 28)
pooled = F.max_pool2d(F.relu(feature_maps), 2)                            # (1, 4, 14, 14)
print("digit", tuple(digit.shape), "label", labels[0], "-> feature maps", tuple(feature_maps.shape),
      "-> ReLU + max pool", tuple(pooled.shape))

fig, axes = plt.subplots(2, 5, figsize=(11, 4.8))
axes[0, 0].imshow(digits[0, 0], cmap="gray")
axes[0, 0].set_title(f"MNIST test digit ({labels[0]})", fontsize=8)
axes[1, 0].imshow(F.max_pool2d(digit, 2).numpy()[0, 0], cmap="gray")
axes[1, 0].set_title("the digit, max pool 2x2", fontsize=8)
for k, name in enumerate(filters):
    fmap = feature_maps.numpy()[0, k]
    limit = np.abs(fmap).max()
    axes[0, k + 1].imshow(fmap, cmap="coolwarm" if k < 3 else "gray",
                          vmin=-limit if k < 3 else 0, vmax=limit)
    axes[0, k + 1].set_title(name, fontsize=8)
    axes[1, k + 1].imshow(pooled.numpy()[0, k], cmap="gray")
    axes[1, k + 1].set_title("ReLU + max pool 2x2 (14x14)", fontsize=8)
for ax in axes.ravel():
    ax.set_axis_off()
fig.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=0.93, wspace=0.08, hspace=0.18)

# %%
# Red is a positive response, blue a negative one. Each Sobel map lights up on the edges across its
# direction, with opposite signs on the two sides of a stroke; the ReLU keeps one side, and the pooled
# maps keep the layout of the strokes at a quarter of the size. A CNN learns filters like these from
# the data instead: the first layer of a trained network typically ends up with edge and blob
# detectors of its own, and the layers above combine them. That is the next page's LeNet-5;
# ``gradus train mnist-lenet5`` (two convolution + pooling stages and three fully connected layers)
# reaches a test accuracy of 0.9921 on MNIST after 10 epochs, according to ``benchmarks/RESULTS.md``.
