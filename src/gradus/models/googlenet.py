"""GoogLeNet / Inception v1 (Szegedy et al., "Going Deeper with Convolutions", CVPR 2015), in
torchvision's layout.

An Inception module runs four branches on the same input and concatenates them along channels::

    branch1: 1x1 conv                                   (cheap, keeps per-pixel features)
    branch2: 1x1 conv (reduce) -> 3x3 conv              (the 1x1 "bottleneck" cuts the 3x3's cost)
    branch3: 1x1 conv (reduce) -> 3x3 conv              (the paper: 5x5; see below)
    branch4: 3x3 max pool (stride 1) -> 1x1 conv (projection)
    output:  cat([b1, b2, b3, b4], dim=1)               (N, ch1x1 + ch3x3 + ch5x5 + pool_proj, H, W)

Each conv is torchvision's ``BasicConv2d``: conv (no bias) -> BatchNorm2d(eps=0.001) -> ReLU (batch
norm came after the paper, with Inception v2; torchvision's GoogLeNet has it). torchvision's
"5x5" branch actually uses a 3x3 kernel (a bug kept for its pretrained weights); ``branch3_kernel=3``
(default) reproduces it and torchvision's 6,624,904 parameters (no auxiliary heads);
``branch3_kernel=5`` is the paper.

Stem and stages for 224x224::

    conv1 7x7/2 64 (112) -> maxpool 3/2 (56) -> conv2 1x1 64 -> conv3 3x3 192 -> maxpool (28)
    -> inception3a, 3b (256, 480 ch) -> maxpool (14) -> 4a..4e (512, 512, 512, 528, 832) -> maxpool (7)
    -> 5a, 5b (832, 1024) -> global average pool -> dropout 0.2 -> fc 1024->num_classes

The auxiliary classifiers (after 4a and 4d, ``aux_logits=True``) add gradient signal to the middle
of the network during training: in training mode the model then returns
``GoogLeNetOutputs(logits, aux_logits2, aux_logits1)``; the paper weights their losses by 0.3.

``googlenet_tiny()`` divides every width by 8: the same code path, trains in seconds on 32x32 input.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NamedTuple

import gradus

from .. import functional as F
from .. import nn

__all__ = ["GoogLeNetConfig", "GoogLeNet", "GoogLeNetOutputs", "BasicConv2d", "Inception",
           "InceptionAux", "googlenet", "googlenet_tiny"]

# (in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj) of each Inception module (Table 1)
INCEPTION_CFG: dict[str, tuple[int, ...]] = {
    "inception3a": (192, 64, 96, 128, 16, 32, 32),
    "inception3b": (256, 128, 128, 192, 32, 96, 64),
    "inception4a": (480, 192, 96, 208, 16, 48, 64),
    "inception4b": (512, 160, 112, 224, 24, 64, 64),
    "inception4c": (512, 128, 128, 256, 24, 64, 64),
    "inception4d": (512, 112, 144, 288, 32, 64, 64),
    "inception4e": (528, 256, 160, 320, 32, 128, 128),
    "inception5a": (832, 256, 160, 320, 32, 128, 128),
    "inception5b": (832, 384, 192, 384, 48, 128, 128),
}


class GoogLeNetOutputs(NamedTuple):
    logits: object
    aux_logits2: object
    aux_logits1: object


@dataclass
class GoogLeNetConfig:
    num_classes: int = 1000     # classifier outputs
    in_channels: int = 3        # image channels
    aux_logits: bool = False    # build the two auxiliary classifiers (after inception4a and 4d)
    width_div: int = 1          # divide every channel count by this (8 for the tiny preset)
    branch3_kernel: int = 3     # kernel of the "5x5" branch: 3 = torchvision, 5 = the paper
    dropout: float = 0.2        # dropout before the final fc
    dropout_aux: float = 0.7    # dropout in the auxiliary classifiers
    aux_hidden: int = 1024      # hidden width of the auxiliary classifiers
    init_weights: bool = True   # torchvision's init: truncated N(0, 0.01) for convs and linears


class BasicConv2d(nn.Module):
    """conv (bias=False) -> BatchNorm2d(eps=0.001) -> ReLU; keys ``conv.weight``, ``bn.running_mean``..."""

    def __init__(self, in_channels: int, out_channels: int, **kwargs):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class Inception(nn.Module):
    """Four parallel branches concatenated on channels; spatial size is preserved."""

    def __init__(self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int, ch5x5: int,
                 pool_proj: int, branch3_kernel: int = 3):
        super().__init__()
        self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(
            BasicConv2d(in_channels, ch3x3red, kernel_size=1),
            BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1),
        )
        self.branch3 = nn.Sequential(
            BasicConv2d(in_channels, ch5x5red, kernel_size=1),
            BasicConv2d(ch5x5red, ch5x5, kernel_size=branch3_kernel, padding=branch3_kernel // 2),
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
            BasicConv2d(in_channels, pool_proj, kernel_size=1),
        )

    def forward(self, x):
        outputs = [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)]  # each (N, c_i, H, W)
        return gradus.cat(outputs, 1)                                                  # (N, sum c_i, H, W)


class InceptionAux(nn.Module):
    """Auxiliary head: avg pool to 4x4 -> 1x1 conv 128 -> fc 2048->1024 -> ReLU -> dropout -> fc."""

    def __init__(self, in_channels: int, num_classes: int, width: int = 128, hidden: int = 1024,
                 dropout: float = 0.7):
        super().__init__()
        self.conv = BasicConv2d(in_channels, width, kernel_size=1)
        self.fc1 = nn.Linear(width * 4 * 4, hidden)
        self.fc2 = nn.Linear(hidden, num_classes)
        self.dropout = nn.Dropout(p=dropout)

    def forward(self, x):
        x = F.adaptive_avg_pool2d(x, (4, 4))   # (N, C, 4, 4)
        x = self.conv(x).flatten(1)            # (N, width * 16)
        x = self.dropout(F.relu(self.fc1(x)))  # (N, hidden)
        return self.fc2(x)                     # (N, num_classes)


class GoogLeNet(nn.Module):
    """GoogLeNet: ``(N, in_channels, H, W) -> (N, num_classes)`` (or ``GoogLeNetOutputs`` when training
    with ``aux_logits``). Works from 32x32 inputs up (64x64 with the auxiliary heads)."""

    def __init__(self, config: GoogLeNetConfig | None = None, **overrides):
        super().__init__()
        cfg = replace(config or GoogLeNetConfig(), **overrides)
        self.config = cfg
        self.aux_logits = cfg.aux_logits
        d = cfg.width_div

        def w(c: int) -> int:
            return max(1, c // d)

        self.conv1 = BasicConv2d(cfg.in_channels, w(64), kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = BasicConv2d(w(64), w(64), kernel_size=1)
        self.conv3 = BasicConv2d(w(64), w(192), kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        c = w(192)  # channels flowing into the next Inception module
        width_after = {}
        for name in INCEPTION_CFG:
            if name == "inception4a":
                self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
            elif name == "inception5a":
                self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
            _, ch1, ch3r, ch3, ch5r, ch5, proj = (w(v) for v in INCEPTION_CFG[name])
            self.add_module(name, Inception(c, ch1, ch3r, ch3, ch5r, ch5, proj, cfg.branch3_kernel))
            c = width_after[name] = ch1 + ch3 + ch5 + proj
        if cfg.aux_logits:
            aux = dict(width=w(128), hidden=w(cfg.aux_hidden), dropout=cfg.dropout_aux)
            self.aux1 = InceptionAux(width_after["inception4a"], cfg.num_classes, **aux)
            self.aux2 = InceptionAux(width_after["inception4d"], cfg.num_classes, **aux)
        else:
            self.aux1 = None
            self.aux2 = None
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=cfg.dropout)
        self.fc = nn.Linear(c, cfg.num_classes)
        if cfg.init_weights:
            self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(m.weight, mean=0.0, std=0.01, a=-2, b=2)
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        x = self.conv1(x)                 # (N, 64, 112, 112)   for a 224x224 input
        x = self.maxpool1(x)              # (N, 64, 56, 56)
        x = self.conv3(self.conv2(x))     # (N, 192, 56, 56)
        x = self.maxpool2(x)              # (N, 192, 28, 28)
        x = self.inception3a(x)           # (N, 256, 28, 28)
        x = self.inception3b(x)           # (N, 480, 28, 28)
        x = self.maxpool3(x)              # (N, 480, 14, 14)
        x = self.inception4a(x)           # (N, 512, 14, 14)
        aux1 = self.aux1(x) if self.aux1 is not None and self.training else None
        x = self.inception4b(x)           # (N, 512, 14, 14)
        x = self.inception4c(x)           # (N, 512, 14, 14)
        x = self.inception4d(x)           # (N, 528, 14, 14)
        aux2 = self.aux2(x) if self.aux2 is not None and self.training else None
        x = self.inception4e(x)           # (N, 832, 14, 14)
        x = self.maxpool4(x)              # (N, 832, 7, 7)
        x = self.inception5a(x)           # (N, 832, 7, 7)
        x = self.inception5b(x)           # (N, 1024, 7, 7)
        x = self.avgpool(x).flatten(1)    # (N, 1024)
        x = self.fc(self.dropout(x))      # (N, num_classes)
        if self.training and self.aux_logits:
            return GoogLeNetOutputs(x, aux2, aux1)
        return x


def googlenet(num_classes: int = 1000, aux_logits: bool = False, **overrides) -> GoogLeNet:
    """torchvision's GoogLeNet: 6,624,904 parameters without, 13,004,888 with the auxiliary heads."""
    return GoogLeNet(GoogLeNetConfig(num_classes=num_classes, aux_logits=aux_logits), **overrides)


def googlenet_tiny(num_classes: int = 10, aux_logits: bool = False, **overrides) -> GoogLeNet:
    """GoogLeNet with every width divided by 8 (~0.1M parameters), for 32x32 inputs and tests."""
    cfg = GoogLeNetConfig(num_classes=num_classes, aux_logits=aux_logits, width_div=8, dropout=0.0,
                          dropout_aux=0.0)
    return GoogLeNet(cfg, **overrides)
