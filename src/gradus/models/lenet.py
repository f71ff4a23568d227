"""LeNet-5 (LeCun, Bottou, Bengio & Haffner, "Gradient-based learning applied to document
recognition", Proc. IEEE 1998), as published, and its modern variant.

The published network (Fig. 2 of the paper), on a 32x32 input::

    INPUT 1@32x32 -> C1 6@28x28 (5x5 conv) -> S2 6@14x14 (subsampling) -> C3 16@10x10 (5x5 conv,
    partial connection table) -> S4 16@5x5 (subsampling) -> C5 120@1x1 (5x5 conv) -> F6 84
    -> OUTPUT 10 (Euclidean RBF units against fixed +-1 prototypes)

* Every layer up to F6 squashes its weighted sum with the paper's scaled tanh
  ``f(a) = 1.7159 tanh(2a/3)`` (Appendix A: f(+-1) = +-1, maximal second derivative at +-1).
* A subsampling unit (S2, S4) adds its four 2x2 inputs, multiplies by ONE trainable coefficient per
  feature map, adds one trainable bias per map, then squashes: 2 parameters per map.
* C3 sees only some S2 maps (Table I of the paper), "to keep the number of connections within
  reasonable bounds" and "to force a break of symmetry": implemented as a fixed 0/1 mask on a full
  ``(16, 6, 5, 5)`` conv weight (the masked entries are initialised to 0 and receive zero gradient).
* Trainable parameters: C1 156 + S2 12 + C3 1,516 + S4 32 + C5 48,120 + F6 10,164 = 60,000,
  exactly the paper's count (the module holds 2,416 C3 entries; 900 of them are the masked zeros).
* Initialisation: the paper draws weights from U(-2.4/F, 2.4/F) (F = fan-in); that shrinks the signal
  layer after layer and costs accuracy early on (91.9% vs 96.1% test accuracy after 30,000 MNIST
  images with Adam, measured on this code's PyTorch twin). The default is therefore LeCun's own
  variance-1/F rule from "Efficient BackProp" (same year); ``init="paper"`` restores Appendix C.
* Output: unit i computes ``y_i = sum_j (x_j - w_ij)^2`` against a FIXED prototype ``w_i``. The paper
  uses stylised 7x12 bitmaps of the characters; we use fixed random +-1 84-vectors, one per class,
  drawn from a private generator seeded with 1998 (the same for every run, independent of the global
  seed; ``gradus.nn.RBF``'s ``weight`` buffer, so saved with the model). The model returns ``-y`` as
  logits, so ``F.cross_entropy(logits, t)`` is ``y_t + log sum_i exp(-y_i)``: the paper's MAP
  criterion, eq. (9), without its constant "rubbish class" term ``exp(-j)`` (``map_loss`` keeps it).

The modern variant keeps the geometry (32x32 input, 6 and 16 feature maps, 120-84-10) but uses
ReLU, 2x2 max pooling, a fully connected C3 and a plain linear output trained with softmax
cross-entropy: what LeNet-5 looks like when written today.

MNIST digits are 28x28: inputs smaller than 32x32 are zero-padded symmetrically to 32x32 (the paper
pads the 28x28 field to 32x32 so that stroke end-points can reach the centre of C3's receptive
fields).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

import gradus

from .. import functional as F
from .. import nn
from ..errors import ShapeError

__all__ = [
    "LeNet5Config",
    "LeNet5",
    "ScaledTanh",
    "Subsampling",
    "MaskedConv2d",
    "C3_CONNECTIONS",
    "c3_connection_mask",
    "map_loss",
    "lenet5",
    "lenet5_modern",
]

# Table I of the paper: C3 feature map j (0..15) takes its input from these S2 maps (0..5).
# Maps 0-5 see 3 contiguous maps, 6-11 see 4 contiguous, 12-14 see 4 non-contiguous, 15 sees all.
C3_CONNECTIONS: tuple[tuple[int, ...], ...] = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)


def c3_connection_mask() -> np.ndarray:
    """Table I as a ``(16, 6)`` float32 0/1 matrix: ``mask[j, i] = 1`` iff C3 map j sees S2 map i."""
    mask = np.zeros((16, 6), dtype=np.float32)
    for j, inputs in enumerate(C3_CONNECTIONS):
        mask[j, list(inputs)] = 1.0
    return mask


@dataclass
class LeNet5Config:
    num_classes: int = 10            # output units (10 digits)
    in_channels: int = 1             # input image channels (grey-level digits)
    activation: str = "scaled_tanh"  # "scaled_tanh" (1.7159 tanh(2a/3): the paper) | "tanh" | "sigmoid" |
    #                                  "relu"
    pooling: str = "subsample"       # "subsample" (trainable coefficient + bias per map, then activation) |
    #                                  "max" | "avg" (parameter-free 2x2 pooling, no activation after it)
    connection_table: bool = True    # C3 sees the S2 maps listed in Table I (False: every C3 map sees all 6)
    output: str = "rbf"              # "rbf" (distances to fixed +-1 prototypes, returned negated) | "linear"
    rbf_seed: int = 1998             # seed of the private generator drawing the fixed RBF prototypes
    init: str = "lecun"              # "lecun": U(-sqrt(3/F), sqrt(3/F)), variance 1/F ("Efficient BackProp",
    #                                  1998) | "paper": U(-2.4/F, 2.4/F) (Appendix C) | "default": the layers'
    pad_value: float = 0.0           # value used to pad inputs smaller than 32x32 (background intensity)


class ScaledTanh(nn.Module):
    """LeCun's sigmoid ``f(a) = A tanh(S a)`` with ``A = 1.7159`` and ``S = 2/3`` (paper, Appendix A)."""

    def __init__(self, A: float = 1.7159, S: float = 2.0 / 3.0):
        super().__init__()
        self.A, self.S = A, S

    def forward(self, x):
        return gradus.tanh(x * self.S) * self.A

    def extra_repr(self) -> str:
        return f"A={self.A}, S={self.S:.4f}"


class Subsampling(nn.Module):
    """S2/S4 of LeNet-5: ``y[c] = coefficient[c] * sum_{2x2}(x[c]) + bias[c]`` (no activation here).

    Shapes: ``(N, C, H, W) -> (N, C, H/2, W/2)``. Parameters: ``weight (C,)``, ``bias (C,)``.
    """

    def __init__(self, channels: int, kernel_size: int = 2):
        super().__init__()
        self.channels, self.kernel_size = channels, kernel_size
        self.weight = nn.Parameter(gradus.ones(channels))
        self.bias = nn.Parameter(gradus.zeros(channels))

    def forward(self, x):
        k = self.kernel_size
        pooled = F.avg_pool2d(x, k) * float(k * k)  # sum of each kxk block, (N, C, H/k, W/k)
        return pooled * self.weight.reshape(1, -1, 1, 1) + self.bias.reshape(1, -1, 1, 1)

    def extra_repr(self) -> str:
        return f"{self.channels}, kernel_size={self.kernel_size}"


class MaskedConv2d(nn.Conv2d):
    """A ``Conv2d`` whose weight is multiplied by a fixed 0/1 ``connection`` mask ``(out, in)``.

    Output map ``j`` only sees the input maps ``i`` with ``connection[j, i] = 1``. The product
    ``weight * mask`` makes the gradient of the masked entries exactly 0, so (initialised to 0)
    they stay 0 under any gradient-based optimiser, weight decay included.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, connection: np.ndarray,
                 **kwargs):
        super().__init__(in_channels, out_channels, kernel_size, **kwargs)
        connection = np.asarray(connection, dtype=np.float32)
        if connection.shape != (out_channels, in_channels):
            raise ShapeError(f"MaskedConv2d: connection mask has shape {connection.shape}, expected "
                             f"(out_channels, in_channels) = ({out_channels}, {in_channels})")
        # (out, in, 1, 1): broadcasts over the kernel window
        self.register_buffer("mask", gradus.tensor(connection[:, :, None, None]))
        with gradus.no_grad():
            self.weight.mul_(self.mask)

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)


def _activation(name: str) -> nn.Module:
    table = {"scaled_tanh": ScaledTanh, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "relu": nn.ReLU}
    if name not in table:
        raise ValueError(f"LeNet5: unknown activation {name!r}; use one of {sorted(table)}")
    return table[name]()


class LeNet5(nn.Module):
    """LeNet-5; attribute names follow the paper (``c1 s2 c3 s4 c5 f6 output``).

    Input ``(N, in_channels, H, W)`` with ``H, W <= 32`` (zero-padded to 32x32); output ``(N, num_classes)``
    logits (for the RBF output: minus the squared distances to the class prototypes).

    >>> import gradus
    >>> net = lenet5()
    >>> net(gradus.zeros(2, 1, 28, 28)).shape
    (2, 10)
    """

    def __init__(self, config: LeNet5Config | None = None, **overrides):
        super().__init__()
        cfg = replace(config or LeNet5Config(), **overrides)
        self.config = cfg
        if cfg.pooling not in ("subsample", "max", "avg"):
            raise ValueError(f"LeNet5: unknown pooling {cfg.pooling!r}; use 'subsample', 'max' or 'avg'")
        if cfg.output not in ("rbf", "linear"):
            raise ValueError(f"LeNet5: unknown output {cfg.output!r}; use 'rbf' or 'linear'")

        def pool(channels):  # S2 / S4
            if cfg.pooling == "subsample":
                return nn.Sequential(Subsampling(channels), _activation(cfg.activation))
            return nn.MaxPool2d(2) if cfg.pooling == "max" else nn.AvgPool2d(2)

        self.c1 = nn.Sequential(nn.Conv2d(cfg.in_channels, 6, 5), _activation(cfg.activation))  # 6@28x28
        self.s2 = pool(6)                                                                      # 6@14x14
        if cfg.connection_table:
            c3 = MaskedConv2d(6, 16, 5, connection=c3_connection_mask())
        else:
            c3 = nn.Conv2d(6, 16, 5)
        self.c3 = nn.Sequential(c3, _activation(cfg.activation))                               # 16@10x10
        self.s4 = pool(16)                                                                     # 16@5x5
        self.c5 = nn.Sequential(nn.Conv2d(16, 120, 5), _activation(cfg.activation))            # 120@1x1
        self.f6 = nn.Sequential(nn.Linear(120, 84), _activation(cfg.activation))               # 84
        if cfg.output == "rbf":
            self.output = nn.RBF(84, cfg.num_classes)  # fixed prototypes: a buffer, not trained
            with gradus.no_grad():  # the code book: +-1 from a private generator (same for every run)
                rng = np.random.default_rng(cfg.rbf_seed)
                protos = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=(cfg.num_classes, 84))
                self.output.weight.copy_(gradus.tensor(protos))
        else:
            self.output = nn.Linear(84, cfg.num_classes)
        if cfg.init not in ("paper", "lecun", "default"):
            raise ValueError(f"LeNet5: unknown init {cfg.init!r}; use 'paper', 'lecun' or 'default'")
        if cfg.init != "default":
            self._init_weights()

    def _init_weights(self) -> None:
        """Every weight ~ U(-b, b) from the unit's fan-in F (the inputs it really sees: 25 per connected
        map in C3, 4 in S2/S4); biases start at 0.

        * ``"paper"`` (Appendix C): ``b = 2.4 / F``. Weighted sums then have standard deviation
          ``1.39 / sqrt(F)``: the signal shrinks layer after layer and the first epochs are slow.
        * ``"lecun"``: ``b = sqrt(3 / F)``, i.e. variance ``1 / F`` (LeCun et al., "Efficient BackProp",
          1998): unit-variance weighted sums; measured ~5 points better after one MNIST epoch.
        """
        def bound(fan_in):
            return 2.4 / fan_in if self.config.init == "paper" else np.sqrt(3.0 / fan_in)

        with gradus.no_grad():
            for m in self.modules():
                if isinstance(m, MaskedConv2d):
                    mask = m.mask.numpy()[:, :, 0, 0]  # (out, in)
                    k = m.weight.shape[2] * m.weight.shape[3]
                    b = bound(k * mask.sum(1)).reshape(-1, 1, 1, 1)  # one bound per output map
                    u = gradus.random.default_generator().uniform(-1.0, 1.0, size=m.weight.shape)
                    m.weight.copy_(gradus.tensor((u * b).astype(np.float32)) * m.mask)
                    m.bias.zero_()
                elif isinstance(m, (nn.Conv2d, nn.Linear)):
                    b = float(bound(math.prod(m.weight.shape[1:])))
                    m.weight.uniform_(-b, b)
                    m.bias.zero_()
                elif isinstance(m, Subsampling):
                    b = float(bound(m.kernel_size**2))
                    m.weight.uniform_(-b, b)
                    m.bias.zero_()

    def forward(self, x):
        h, w = x.shape[-2:]
        if h > 32 or w > 32 or (32 - h) % 2 or (32 - w) % 2:
            raise ShapeError(f"LeNet5: expected inputs of at most 32x32 that pad evenly to 32x32, "
                             f"got {h}x{w}")
        if h < 32 or w < 32:  # (N, C, 28, 28) -> (N, C, 32, 32)
            ph, pw = (32 - h) // 2, (32 - w) // 2
            x = F.pad(x, (pw, pw, ph, ph), value=self.config.pad_value)
        x = self.s2(self.c1(x))           # (N, 6, 14, 14)
        x = self.s4(self.c3(x))           # (N, 16, 5, 5)
        x = self.c5(x).flatten(1)         # (N, 120)
        x = self.f6(x)                    # (N, 84)
        y = self.output(x)                # (N, num_classes)
        return -y if self.config.output == "rbf" else y

    def num_paper_parameters(self) -> int:
        """Trainable parameters that can be non-zero (masked C3 entries excluded): 60,000 as published."""
        total = sum(p.numel() for p in self.parameters() if p.requires_grad)
        for m in self.modules():
            if isinstance(m, MaskedConv2d):
                total -= int((m.mask.numpy() == 0).sum()) * m.weight.shape[2] * m.weight.shape[3]
        return total


def map_loss(logits, target, j: float = 0.0):
    """The paper's MAP criterion, eq. (9): ``E = mean_p [ y_{D_p} + log(exp(-j) + sum_i exp(-y_i)) ]``.

    ``logits = -y`` (what ``LeNet5`` returns), ``target (N,)`` class indices. It is the cross-entropy of
    the logits with one extra constant "rubbish class" logit ``-j``; ``j -> inf`` gives plain
    ``F.cross_entropy``. ``j`` is positive in the paper (pushes wrong-class distances up only until
    they exceed ``j``).
    """
    n = logits.shape[0]
    rubbish = gradus.full((n, 1), -float(j), dtype=logits.dtype)
    return F.cross_entropy(gradus.cat([logits, rubbish], 1), target)


def lenet5(num_classes: int = 10, **overrides) -> LeNet5:
    """LeNet-5 as published: scaled tanh, trainable subsampling, Table I connections, RBF output."""
    return LeNet5(LeNet5Config(num_classes=num_classes), **overrides)


def lenet5_modern(num_classes: int = 10, **overrides) -> LeNet5:
    """LeNet-5 with today's choices: ReLU, 2x2 max pooling, full C3, linear output (softmax CE)."""
    cfg = LeNet5Config(num_classes=num_classes, activation="relu", pooling="max", connection_table=False,
                       output="linear", init="default")
    return LeNet5(cfg, **overrides)
