r"""
CNN architectures: from LeNet-5 to ResNet
=========================================

The convolutional networks that won the image-recognition contests of 1998-2015 share one plan:
convolutions and pooling shrink the image while the number of feature maps grows, then a classifier
reads the result. What changed from one to the next is a handful of ideas, each of which made a
deeper network trainable or cheaper:

.. list-table::
   :header-rows: 1

   * - network
     - what it introduced
     - ImageNet top-5 error (ILSVRC)
   * - LeNet-5 (LeCun et al. 1998)
     - convolution + subsampling + fully connected layers, trained end to end by backpropagation
       (handwritten digits and cheques)
     - (before ImageNet)
   * - AlexNet (Krizhevsky, Sutskever & Hinton 2012)
     - the same plan at scale: ReLU, dropout, data augmentation, training on two GPUs
     - 15.3% (2012, first)
   * - VGG (Simonyan & Zisserman 2014)
     - only 3×3 convolutions, stacked 16 or 19 layers deep
     - 7.3% (2014, second)
   * - GoogLeNet (Szegedy et al. 2014)
     - the Inception module: parallel 1×1, 3×3, 5×5 and pooling branches, 1×1 convolutions to cut
       the cost, global average pooling instead of big fully connected layers
     - 6.7% (2014, first)
   * - ResNet (He et al. 2015)
     - residual learning: every block adds its input to its output, 152 layers
     - 3.57% (2015, first)

Two formulas do most of the bookkeeping. A convolution with kernel :math:`K`, padding :math:`P` and
stride :math:`S` maps a side of :math:`H` pixels to :math:`H_{out}`, and it has one :math:`K\times K\times
C_{in}` filter plus a bias per output channel:

.. math::

    H_{out} = \left\lfloor \frac{H + 2P - K}{S} \right\rfloor + 1, \qquad
    \#\text{params} = (K^2 C_{in} + 1)\, C_{out}

VGG's argument follows: two stacked 3×3 convolutions see a 5×5 window, with :math:`2 \cdot 9C^2`
weights instead of :math:`25C^2` and one more non-linearity. GoogLeNet's: a 1×1 convolution that
first reduces :math:`C_{in}` to a few channels makes the 3×3 and 5×5 branches cheap. ResNet's block
computes a **residual** :math:`F(\mathbf x)` (two 3×3 conv-BN layers) and adds the input back,

.. math::

    \mathbf y = \operatorname{ReLU}\big(F(\mathbf x) + \mathbf x\big), \qquad
    \frac{\partial L}{\partial \mathbf x} = \frac{\partial L}{\partial \mathbf y'}
    \Big(I + \frac{\partial F}{\partial \mathbf x}\Big) \quad (\mathbf y' = F(\mathbf x) + \mathbf x)

so the gradient has an identity path through every block, and a block that has nothing to add can
learn :math:`F = 0`.

All five are gradus models, written after the papers (and, where there is one, with torchvision's
layout and parameter count): :source:`src/gradus/models/lenet.py` (``lenet5``, ``lenet5_modern``),
:source:`src/gradus/models/alexnet.py`, :source:`src/gradus/models/vgg.py`,
:source:`src/gradus/models/googlenet.py` (``Inception``) and :source:`src/gradus/models/resnet.py`
(``BasicBlock``, ``Bottleneck``, the CIFAR nets ``resnet_cifar`` and their plain twins). The layer
tables come from ``nn.summary`` (:source:`src/gradus/nn/summary.py`), the pictures of what a trained
network learned from :source:`src/gradus/viz/features.py`.
"""

# %%
# The zoo in numbers
# ------------------
# Each model is built and run once on one 224×224 image (32×32 for LeNet-5); ``nn.summary`` records
# every layer's output shape and parameters with forward hooks. We split the parameters into those of
# convolutions and those of fully connected layers. (Building the big ones means drawing tens of
# millions of random numbers, seconds each: the quick build of this site keeps only LeNet-5 and
# ResNet-18.)
import os
import warnings

import matplotlib.pyplot as plt
import numpy as np

import gradus
import gradus.functional as F
from gradus import nn, optim
from gradus.data.datasets import CIFAR10, load_mnist_arrays
from gradus.models import alexnet, googlenet, lenet5, lenet5_modern, resnet18, resnet34, resnet_cifar, vgg16
from gradus.models.googlenet import Inception
from gradus.models.resnet import BasicBlock
from gradus.viz.features import grad_cam

FAST = os.environ.get("GRADUS_DOCS_FAST") == "1"

zoo = {"LeNet-5": (lenet5, 32), "AlexNet": (alexnet, 224), "VGG-16": (vgg16, 224),
       "GoogLeNet": (googlenet, 224), "ResNet-18": (resnet18, 224), "ResNet-34": (resnet34, 224)}
if FAST:
    zoo = {k: v for k, v in zoo.items() if k in ("LeNet-5", "ResNet-18")}


def is_conv(m):
    return isinstance(m, nn.Conv2d)


stats = {}
for name, (build, size) in zoo.items():
    gradus.manual_seed(0)
    net = build()
    table = nn.summary(net, (1, 1 if name == "LeNet-5" else 3, size, size))
    conv_params = sum(p.numel() for m in net.modules() if is_conv(m) for p in m.parameters(recurse=False))
    fc_params = sum(p.numel() for m in net.modules() if isinstance(m, nn.Linear)
                    for p in m.parameters(recurse=False))
    convs = [r for r in table.rows if r.type in ("Conv2d", "MaskedConv2d")]
    # the main path: every conv outside the Inception modules, and each module's concatenated output
    path = [r for r in table.rows
            if r.type == "Inception" or (r.type == "Conv2d" and "inception" not in r.path)]
    stats[name] = dict(total=table.total_params, conv=conv_params, fc=fc_params, n_conv=len(convs),
                       n_fc=sum(isinstance(m, nn.Linear) for m in net.modules()),
                       channels=[r.output_shape[1] for r in path], sides=[r.output_shape[2] for r in path])
    del net

print(f"{'model':<10} {'parameters':>12} {'conv layers':>12} {'fc layers':>10} {'in conv':>8} {'in fc':>8}")
for name, s in stats.items():
    print(f"{name:<10} {s['total']:>12,} {s['n_conv']:>12} {s['n_fc']:>10} "
          f"{s['conv'] / s['total']:>8.1%} {s['fc'] / s['total']:>8.1%}")

fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
names = list(stats)
axes[0].bar(names, [stats[n]["total"] for n in names], color="tab:blue")
axes[0].set_yscale("log")
axes[0].set_title("parameters (log scale)")
axes[1].bar(names, [stats[n]["conv"] / stats[n]["total"] for n in names], label="convolutions")
axes[1].bar(names, [stats[n]["fc"] / stats[n]["total"] for n in names],
            bottom=[stats[n]["conv"] / stats[n]["total"] for n in names], label="fully connected")
axes[1].set_title("where the parameters are")
axes[1].legend(fontsize=8, loc="lower right")
for name in names:
    if name not in ("LeNet-5", "ResNet-34"):                   # ResNet-34 follows ResNet-18's path
        axes[2].plot(stats[name]["sides"], stats[name]["channels"], "o-", markersize=3, label=name)
axes[2].set_xscale("log", base=2)
axes[2].set_yscale("log", base=2)
axes[2].invert_xaxis()
axes[2].set_xlabel("feature-map side along the network (224x224 input)")
axes[2].set_ylabel("channels")
axes[2].set_title("maps shrink, channels grow")
axes[2].legend(fontsize=8)
for ax in axes[:2]:
    ax.tick_params(axis="x", rotation=30)
fig.tight_layout()

# %%
# AlexNet and VGG keep most of their parameters in the first fully connected layer (it reads a
# 256×6×6 or 512×7×7 block of features); GoogLeNet and ResNet average each final map to one number
# (global average pooling), so almost all of their parameters are convolutions and the whole
# GoogLeNet is an order of magnitude smaller than AlexNet while being much deeper. (ResNet-18's 20
# convolutions include the three 1×1 projections of its shortcuts; the "18" counts the weight layers
# on the main path, the fully connected one included.)
#
# LeNet-5 layer by layer
# ----------------------
# The published network, as ``nn.summary`` prints it (the 28×28 digit is padded to 32×32 first).
# C3 uses the paper's connection table (each C3 map sees only some S2 maps): its weight tensor holds
# the full ``16×6×5×5`` entries, of which the masked ones stay zero, so the count of the weights that
# can train is the paper's 60,000.

paper_net = lenet5()
print(nn.summary(paper_net, (1, 1, 28, 28)))
print(f"trainable weights that can be non-zero (the paper's count): {paper_net.num_paper_parameters():,}")

# %%
# VGG's 3×3 stacks and GoogLeNet's 1×1 bottlenecks
# ------------------------------------------------
# Both ideas are about what it costs to see more. Here they are counted on one of GoogLeNet's own
# modules, ``inception3a``: it reads 192 channels of 28×28 and writes 256. Its four branches (the
# widths are the paper's Table 1) run side by side and are concatenated along the channels.
# (``googlenet()`` follows torchvision, whose "5×5" branch uses a 3×3 kernel; ``branch3_kernel=5``
# is the paper's module.)

block = Inception(192, 64, 96, 128, 16, 32, 32, branch3_kernel=5)
x = gradus.randn(1, 192, 28, 28)
with gradus.no_grad():
    parts = [block.branch1(x), block.branch2(x), block.branch3(x), block.branch4(x)]
    y = block(x)
for i, part in enumerate(parts, 1):
    print(f"branch{i}: {tuple(part.shape)}")
print(f"concatenated: {tuple(y.shape)}")


def n_params(module):
    return sum(p.numel() for p in module.parameters())


costs = {"Inception 3a\n(1x1 reductions)": n_params(block),
         "one 3x3 conv\n192 -> 256": n_params(nn.Conv2d(192, 256, 3, padding=1)),
         "one 5x5 conv\n192 -> 256": n_params(nn.Conv2d(192, 256, 5, padding=2)),
         "two 3x3 convs\n256 -> 256 (5x5 view)": n_params(nn.Sequential(nn.Conv2d(256, 256, 3, padding=1),
                                                                       nn.Conv2d(256, 256, 3, padding=1))),
         "one 5x5 conv\n256 -> 256": n_params(nn.Conv2d(256, 256, 5, padding=2))}
for name, n in costs.items():
    print(f"{name.replace(chr(10), ' '):<40} {n:>10,} parameters")

fig, ax = plt.subplots(figsize=(9, 3.2))
ax.barh(list(costs), list(costs.values()),
        color=["tab:green", "tab:gray", "tab:gray", "tab:orange", "tab:gray"])
ax.invert_yaxis()
ax.set_xlabel("parameters")
ax.set_title("the cost of seeing a wider window")
fig.tight_layout()

# %%
# The Inception module sees 1×1, 3×3 and 5×5 windows for far fewer parameters than one plain 3×3
# convolution of the same width, because its 3×3 and 5×5 branches read only 96 and 16 channels,
# made by 1×1 convolutions. Two stacked 3×3 layers cost 18/25 of one 5×5 layer with the same view.
#
# ResNet: the residual block
# --------------------------
# ``BasicBlock`` is ``relu(bn2(conv2(relu(bn1(conv1(x))))) + x)``. With the last batch-norm scale set
# to 0 (``zero_init_residual``) the branch :math:`F` outputs 0 and the block is exactly the identity on
# non-negative inputs (the outputs of a ReLU): adding blocks cannot make a network worse at the start.

res_block = BasicBlock(16, 16)
res_block.eval()
nn.init.constant_(res_block.bn2.weight, 0)
x = F.relu(gradus.randn(2, 16, 8, 8))
with gradus.no_grad():
    print("block(x) == x:", bool(np.allclose(res_block(x).numpy(), x.numpy())))

# %%
# Why it matters shows in the gradients. For a plain network and its residual twin (the CIFAR nets of
# the paper, ``resnet_cifar(depth, residual=...)``, option-A shortcuts, so both have the same
# parameters), freshly initialised, we backpropagate the loss of one batch of real CIFAR-10 images and
# measure the gradient norm of every convolution's weight, from the input (layer 1) to the output.
# (The shared data copy holds one of CIFAR-10's five training batches, 10,000 images; the loader's
# warning that the set is incomplete is silenced here.)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    cifar = CIFAR10(train=True)
mean, std = np.array(cifar.mean, np.float32), np.array(cifar.std, np.float32)
images = ((cifar.data[:32] / np.float32(255) - mean) / std).transpose(0, 3, 1, 2).astype(np.float32)
labels = cifar.targets[:32]
depths = [8, 14] if FAST else [20, 32, 56]
layer_norms = {}
for depth in depths:
    for residual in (False, True):
        gradus.manual_seed(0)
        net = resnet_cifar(depth, residual=residual, width=4)
        F.cross_entropy(net(gradus.tensor(images)), gradus.tensor(labels)).backward()
        norms = [float(np.linalg.norm(m.weight.grad.numpy())) for m in net.modules() if is_conv(m)]
        label = f"{'ResNet' if residual else 'plain'}-{depth}"
        layer_norms[label] = norms
        print(f"{label:<10} ||dL/dW||: conv 1 {norms[0]:8.3g}, last conv {norms[-1]:6.3g}, "
              f"largest / smallest over the layers {max(norms) / min(norms):6.1f}")

fig, ax = plt.subplots(figsize=(7, 3.8))
for name, norms in layer_norms.items():
    colour = f"C{depths.index(int(name.split('-')[1]))}"                 # one colour per depth
    ax.semilogy(np.arange(1, len(norms) + 1), norms, "--" if name.startswith("plain") else "-",
                color=colour, label=name)
ax.set_xlabel("conv layer (1 = next to the input)")
ax.set_ylabel("||dL/dW|| at initialisation")
ax.set_title("gradient reaching each layer: plain vs residual (CIFAR-10 batch)")
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# In the plain nets the gradient changes by orders of magnitude from the last layer to the first, and
# the deeper the net the more (with batch normalisation it grows towards the input rather than
# vanishing, but either way the layers near the input and near the output are trained at very
# different rates). The residual twins pass roughly the same gradient to every layer, through the
# identity paths.
#
# The training that shows the consequence is the recipe ``gradus train depth-plain-vs-residual``
# (:source:`src/gradus/recipes/depth-plain-vs-residual.toml`, runner
# :source:`src/gradus/recipes/runners/depth.py`): plain and residual CIFAR nets of 8, 20 and 32
# layers (widths 4/8/16), the same 1,000 CIFAR-10 images, seed and budget (16 epochs = 256 SGD steps).
# It takes about ten minutes, too long for this page; its measured final errors, from
# ``benchmarks/RESULTS.md``, training error (test error):
#
# .. list-table::
#    :header-rows: 1
#
#    * - depth
#      - plain
#      - residual
#    * - 8
#      - 0.579 (0.618)
#      - 0.581 (0.626)
#    * - 20
#      - 0.537 (0.724)
#      - 0.354 (0.612)
#    * - 32
#      - 0.606 (0.724)
#      - 0.336 (0.606)
#
# The deeper residual nets fit the training set better; the deepest plain net is the worst of the
# plain ones. That is He et al.'s **degradation problem**: a deeper plain network has a *higher
# training* error, so it is not overfitting but a failure of optimisation, and the shortcuts cure it.
#
# What the layers learn
# ---------------------
# Now a trained network. LeNet-5 in its modern form (``lenet5_modern``: ReLU, max pooling, a linear
# output; the recipe ``mnist-lenet5``) is trained briefly on standardised MNIST digits with Adam.

Xtrain, ytrain = load_mnist_arrays(train=True, flatten=False, standardize=True)
Xtest, ytest = load_mnist_arrays(train=False, flatten=False, standardize=True)
steps, batch = (15, 64) if FAST else (600, 64)
gradus.manual_seed(0)
lenet = lenet5_modern(pad_value=float((0 - 0.1307) / 0.3081))   # pad with the background value
opt = optim.Adam(lenet.parameters(), lr=2e-3)
rng = np.random.default_rng(0)
for _ in range(steps):
    idx = rng.integers(0, len(Xtrain), batch)
    loss = F.cross_entropy(lenet(gradus.tensor(Xtrain[idx])), gradus.tensor(ytrain[idx]))
    opt.zero_grad()
    loss.backward()
    opt.step()
lenet.eval()
n_test = 1000 if FAST else 10000
with gradus.no_grad():
    predicted = np.concatenate([lenet(gradus.tensor(Xtest[i:i + 1000])).argmax(dim=1).numpy()
                                for i in range(0, n_test, 1000)])
accuracy = (predicted == ytest[:n_test]).mean()
print(f"{steps} steps of {batch} images ({steps * batch:,} digits seen), last training loss "
      f"{loss.item():.3f}: test accuracy {accuracy:.4f} on {n_test:,} test digits")

# %%
# The recipe ``gradus train mnist-lenet5`` trains the same network for 10 full epochs; its measured
# test accuracy in ``benchmarks/RESULTS.md`` is 0.9921.
#
# The first layer's six 5×5 filters, and what the layers make of one test digit: the six C1 maps
# (28×28) and the sixteen C3 maps (10×10), captured with forward hooks as ``nn.summary`` does.
# A filter is a small template; its map is bright where the image matches it (strokes of one
# orientation, edges on one side).

captured = {}
hooks = [lenet.c1.register_forward_hook(lambda m, inp, out: captured.update(C1=out.numpy()[0])),
         lenet.c3.register_forward_hook(lambda m, inp, out: captured.update(C3=out.numpy()[0]))]
digit = Xtest[0]
with gradus.no_grad():
    lenet(gradus.tensor(digit[None]))
for h in hooks:
    h.remove()

filters = lenet.c1[0].weight.detach().numpy()[:, 0]             # (6, 5, 5)


def montage(maps, columns):
    """(n, h, w) maps -> one image, a grid of `columns` tiles, each scaled to [0, 1], 1-pixel gaps."""
    n, h, w = maps.shape
    rows = -(-n // columns)
    grid = np.full((rows * (h + 1) - 1, columns * (w + 1) - 1), np.nan)
    for k, m in enumerate(maps):
        r, q = divmod(k, columns)
        span = max(m.max() - m.min(), 1e-12)
        grid[r * (h + 1):r * (h + 1) + h, q * (w + 1):q * (w + 1) + w] = (m - m.min()) / span
    return grid


fig, axes = plt.subplots(1, 4, figsize=(12, 2.8), gridspec_kw={"width_ratios": [1, 2.2, 2.2, 3]})
axes[0].imshow(digit[0], cmap="gray")
axes[0].set_title(f"test digit ({ytest[0]})", fontsize=9)
axes[1].imshow(montage(filters, 3), cmap="gray")
axes[1].set_title("the 6 C1 filters (5x5)", fontsize=9)
axes[2].imshow(montage(captured["C1"], 3), cmap="viridis")
axes[2].set_title("C1 feature maps (6 @ 28x28)", fontsize=9)
axes[3].imshow(montage(captured["C3"], 8), cmap="viridis")
axes[3].set_title("C3 feature maps (16 @ 10x10)", fontsize=9)
for ax in axes:
    ax.set_axis_off()
fig.tight_layout()

# %%
# Grad-CAM: where the evidence is
# -------------------------------
# Grad-CAM (Selvaraju et al. 2017) asks which places of the last convolutional map speak for a class
# :math:`c`. With the map's channels :math:`A_k` and the class score :math:`y_c` (the logit):
#
# .. math::
#
#     \alpha_k = \frac{1}{hw} \sum_{i,j} \frac{\partial y_c}{\partial A_k[i, j]}, \qquad
#     L_c = \operatorname{ReLU}\Big(\sum_k \alpha_k A_k\Big)
#
# Here it is by hand with gradus' autograd on C3's convolution (its 16×10×10 output, before the
# ReLU), and then with ``gradus.viz.features.grad_cam``, which does the same and places the 10×10 map
# on the input pixels its cells see.

acts = {}
hook = lenet.c3[0].register_forward_hook(lambda m, inp, out: acts.update(A=out))
with gradus.enable_grad():
    scores = lenet(gradus.tensor(digit[None]))
hook.remove()
c = int(scores.numpy()[0].argmax())
(dA,) = gradus.autograd.grad(scores[0, c], [acts["A"]])
alpha = dA.numpy()[0].mean(axis=(1, 2))                          # (16,) channel importances
cam_by_hand = np.maximum((alpha[:, None, None] * acts["A"].numpy()[0]).sum(0), 0)
print(f"predicted class {c}; the 4 most important C3 channels: {np.argsort(-alpha)[:4]}")

examples = [int(np.flatnonzero(ytest[:n_test] == d)[0]) for d in (0, 2, 3, 7)]
fig, axes = plt.subplots(1, 2 + len(examples), figsize=(12, 2.6))
axes[0].imshow(digit[0], cmap="gray")
axes[0].set_title(f"digit, predicted {c}", fontsize=8)
axes[1].imshow(cam_by_hand, cmap="jet")
axes[1].set_title("by hand: C3 map (10x10)", fontsize=8)
for ax, i in zip(axes[2:], examples):
    heat = grad_cam(lenet, Xtest[i])                          # (28, 28) in [0, 1], predicted class
    ax.imshow(Xtest[i, 0], cmap="gray")
    ax.imshow(heat, cmap="jet", alpha=0.5, vmin=0, vmax=1)
    ax.set_title(f"grad_cam: {ytest[i]} read as {predicted[i]}", fontsize=8)
for ax in axes:
    ax.set_axis_off()
fig.tight_layout()

# %%
# The heat sits on a few places of the strokes, the ones whose C3 features speak most for the
# predicted class; the background gets none. C3 is LeNet-5's last map that still has a "where" (C5 is
# 1×1), so its 10×10 cells, each seeing a 14×14 patch of the padded digit, are the resolution
# Grad-CAM can offer. The lesson of the page in one line: convolutions learn local templates, deeper
# layers combine them, and the architectures above are different answers to one question, how to
# stack many such layers and still train them.
