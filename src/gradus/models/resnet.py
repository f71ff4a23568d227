"""Residual networks (He, Zhang, Ren & Sun, "Deep Residual Learning for Image Recognition", CVPR 2016),
the ImageNet models in torchvision's layout, the CIFAR-10 models of the paper's section 4.2, and
"plain" twins without shortcuts.

A residual block learns a correction ``F(x)`` to its input instead of a whole new mapping::

    y = relu(F(x) + shortcut(x))        BasicBlock:  F = conv3x3 -> BN -> ReLU -> conv3x3 -> BN
                                        Bottleneck:  F = conv1x1 -> BN -> ReLU -> conv3x3 -> BN -> ReLU
                                                         -> conv1x1 (4x wider) -> BN

``shortcut`` is the identity, except where ``F`` changes the shape (stride 2 or more channels):

* option **B** (``downsample``): a 1x1 conv with that stride + BN, a learned projection
  (torchvision and the paper's ImageNet models);
* option **A**: identity subsampled with stride 2 and zero-padded with the extra channels; no
  parameters (the paper's CIFAR-10 models, which is why resnet20 has 0.27M parameters).

``residual=False`` removes the shortcut (``y = relu(F(x))``) and gives the paper's "plain" networks:
same depth, width, parameters (with option A) and cost. The paper's finding (Fig. 1, Fig. 6): deeper
plain nets have HIGHER training error (the degradation problem), deeper residual nets lower.

ImageNet models (``resnet18/34/50/101/152``; stem conv7x7/2 64 + maxpool 3/2, stages 64-128-256-512
with 2-2-2-2, 3-4-6-3, 3-4-6-3, 3-4-23-3, 3-8-36-3 blocks): parameter counts and state_dict keys
match torchvision (``conv1.weight``, ``bn1.running_mean``, ``layer1.0.conv1.weight``,
``layer2.0.downsample.0.weight``, ``fc.weight``); Bottleneck puts the stride on the 3x3 conv ("v1.5").

CIFAR models (``resnet20/32/44/56/110``, depth 6n+2): conv3x3 16 -> 3 stages of n BasicBlocks with
16/32/64 channels (32 -> 16 -> 8 pixels) -> global average pooling -> fc. Option A shortcuts, as in
the paper (``shortcut="B"`` for projections). ``resnet_cifar(depth, residual=...)`` builds any 6n+2
depth; ``plain20/32/44/56/110`` are the plain twins. ``resnet_tiny()`` is an 8-layer, 4/8/16-channel
CIFAR net that trains in seconds.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from .. import functional as F
from .. import nn

__all__ = ["ResNetConfig", "ResNet", "BasicBlock", "Bottleneck", "ShortcutA", "resnet18", "resnet34",
           "resnet50", "resnet101", "resnet152", "resnet_cifar", "resnet20", "resnet32", "resnet44",
           "resnet56", "resnet110", "plain18", "plain34", "plain20", "plain32", "plain44", "plain56",
           "plain110", "resnet_tiny"]


@dataclass
class ResNetConfig:
    block: str = "basic"                  # "basic" (two 3x3 convs) | "bottleneck" (1x1 3x3 1x1, x4 wider)
    layers: tuple = (2, 2, 2, 2)          # number of blocks in each stage
    widths: tuple = (64, 128, 256, 512)   # block width ("planes") of each stage; stage i > 0 has stride 2
    stem: str = "imagenet"                # "imagenet" (7x7/2 conv + 3x3/2 max pool) | "cifar" (3x3 conv)
    num_classes: int = 1000               # fc outputs
    in_channels: int = 3                  # image channels
    shortcut: str = "B"                   # where shapes change: "B" 1x1 conv + BN | "A" subsample + zero-pad
    residual: bool = True                 # False: the "plain" network (no shortcuts at all)
    zero_init_residual: bool = False      # start each block's last BN at gamma = 0 (block = identity at init)


class ShortcutA(nn.Module):
    """Option A shortcut: ``x[:, :, ::stride, ::stride]`` zero-padded from ``in_channels`` to
    ``out_channels`` (the new channels split evenly before and after). No parameters."""

    def __init__(self, in_channels: int, out_channels: int, stride: int):
        super().__init__()
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride

    def forward(self, x):
        if self.stride > 1:
            x = x[:, :, :: self.stride, :: self.stride]  # (N, C_in, H/s, W/s)
        extra = self.out_channels - self.in_channels
        return F.pad(x, (0, 0, 0, 0, extra // 2, extra - extra // 2))  # (N, C_out, H/s, W/s)

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, stride={self.stride}"


def _conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


def _conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """``relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))``.

    Shapes: ``(N, inplanes, H, W) -> (N, planes, H/s, W/s)``.
    """

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None,
                 residual: bool = True):
        super().__init__()
        self.conv1 = _conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = _conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride
        self.residual = residual

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))   # (N, planes, H/s, W/s)
        out = self.bn2(self.conv2(out))            # (N, planes, H/s, W/s): F(x)
        if self.residual:
            identity = x if self.downsample is None else self.downsample(x)
            out = out + identity                   # F(x) + x
        return self.relu(out)


class Bottleneck(nn.Module):
    """1x1 reduce -> 3x3 (stride here, torchvision's "v1.5") -> 1x1 expand (x4), plus the shortcut.

    Shapes: ``(N, inplanes, H, W) -> (N, 4 * planes, H/s, W/s)``.
    """

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None,
                 residual: bool = True):
        super().__init__()
        self.conv1 = _conv1x1(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = _conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = _conv1x1(planes, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU()
        self.downsample = downsample
        self.stride = stride
        self.residual = residual

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))    # (N, planes, H, W)
        out = self.relu(self.bn2(self.conv2(out)))  # (N, planes, H/s, W/s)
        out = self.bn3(self.conv3(out))             # (N, 4 planes, H/s, W/s): F(x)
        if self.residual:
            identity = x if self.downsample is None else self.downsample(x)
            out = out + identity
        return self.relu(out)


class ResNet(nn.Module):
    """ResNet (or its plain twin): ``(N, in_channels, H, W) -> (N, num_classes)``."""

    def __init__(self, config: ResNetConfig | None = None, **overrides):
        super().__init__()
        cfg = replace(config or ResNetConfig(), **overrides)
        if cfg.block not in ("basic", "bottleneck"):
            raise ValueError(f"ResNet: unknown block {cfg.block!r}; use 'basic' or 'bottleneck'")
        if cfg.stem not in ("imagenet", "cifar"):
            raise ValueError(f"ResNet: unknown stem {cfg.stem!r}; use 'imagenet' or 'cifar'")
        if cfg.shortcut not in ("A", "B"):
            raise ValueError(f"ResNet: unknown shortcut option {cfg.shortcut!r}; use 'A' or 'B'")
        if len(cfg.layers) != len(cfg.widths):
            raise ValueError(f"ResNet: layers {tuple(cfg.layers)} and widths {tuple(cfg.widths)} must have "
                             "the same length (one entry per stage)")
        self.config = cfg
        block = BasicBlock if cfg.block == "basic" else Bottleneck
        self.inplanes = cfg.widths[0]
        if cfg.stem == "imagenet":
            self.conv1 = nn.Conv2d(cfg.in_channels, self.inplanes, kernel_size=7, stride=2, padding=3,
                                   bias=False)                                   # (N, 64, H/2, W/2)
            self.bn1 = nn.BatchNorm2d(self.inplanes)
            self.relu = nn.ReLU()
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)      # (N, 64, H/4, W/4)
        else:
            self.conv1 = _conv3x3(cfg.in_channels, self.inplanes)                # (N, 16, H, W)
            self.bn1 = nn.BatchNorm2d(self.inplanes)
            self.relu = nn.ReLU()
            self.maxpool = None
        for i, (planes, blocks) in enumerate(zip(cfg.widths, cfg.layers)):
            # stage i: (N, C, H, W) -> (N, planes * expansion, H/s, W/s), s = 1 for the first stage, else 2
            stage = self._make_layer(block, planes, blocks, stride=1 if i == 0 else 2)
            self.add_module(f"layer{i + 1}", stage)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(self.inplanes, cfg.num_classes)
        self._init_weights()

    def _make_layer(self, block, planes: int, blocks: int, stride: int) -> nn.Sequential:
        cfg = self.config
        out_channels = planes * block.expansion
        downsample = None
        if cfg.residual and (stride != 1 or self.inplanes != out_channels):
            if cfg.shortcut == "B":
                downsample = nn.Sequential(_conv1x1(self.inplanes, out_channels, stride),
                                           nn.BatchNorm2d(out_channels))
            else:
                downsample = ShortcutA(self.inplanes, out_channels, stride)
        layers = [block(self.inplanes, planes, stride, downsample, residual=cfg.residual)]
        self.inplanes = out_channels
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, residual=cfg.residual))
        return nn.Sequential(*layers)

    def _init_weights(self) -> None:
        """torchvision's: He-normal convs (fan_out, ReLU gain), BN gamma 1 / beta 0, default fc."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if self.config.zero_init_residual:
            # each residual branch starts at 0: every block is the identity at init (Goyal et al. 2017)
            for m in self.modules():
                if isinstance(m, Bottleneck):
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock):
                    nn.init.constant_(m.bn2.weight, 0)

    def stages(self) -> list:
        """The residual stages ``[layer1, layer2, ...]``."""
        return [getattr(self, f"layer{i + 1}") for i in range(len(self.config.layers))]

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))   # (N, w0, H/2, W/2) imagenet stem | (N, w0, H, W) cifar stem
        if self.maxpool is not None:
            x = self.maxpool(x)                  # (N, w0, H/4, W/4)
        for layer in self.stages():
            x = layer(x)                         # each stage after the first halves H and W
        x = self.avgpool(x).flatten(1)           # (N, C_last)
        return self.fc(x)                        # (N, num_classes)


# ----------------------------------------------------------------------------- ImageNet presets
def _imagenet(block: str, layers, num_classes: int, overrides: dict) -> ResNet:
    return ResNet(ResNetConfig(block=block, layers=tuple(layers), num_classes=num_classes), **overrides)


def resnet18(num_classes: int = 1000, **overrides) -> ResNet:
    """ResNet-18: BasicBlocks 2-2-2-2, 11,689,512 parameters."""
    return _imagenet("basic", (2, 2, 2, 2), num_classes, overrides)


def resnet34(num_classes: int = 1000, **overrides) -> ResNet:
    """ResNet-34: BasicBlocks 3-4-6-3, 21,797,672 parameters."""
    return _imagenet("basic", (3, 4, 6, 3), num_classes, overrides)


def resnet50(num_classes: int = 1000, **overrides) -> ResNet:
    """ResNet-50: Bottlenecks 3-4-6-3, 25,557,032 parameters."""
    return _imagenet("bottleneck", (3, 4, 6, 3), num_classes, overrides)


def resnet101(num_classes: int = 1000, **overrides) -> ResNet:
    """ResNet-101: Bottlenecks 3-4-23-3, 44,549,160 parameters."""
    return _imagenet("bottleneck", (3, 4, 23, 3), num_classes, overrides)


def resnet152(num_classes: int = 1000, **overrides) -> ResNet:
    """ResNet-152: Bottlenecks 3-8-36-3, 60,192,808 parameters."""
    return _imagenet("bottleneck", (3, 8, 36, 3), num_classes, overrides)


def plain18(num_classes: int = 1000, **overrides) -> ResNet:
    """The paper's plain-18 (ResNet-18 without shortcuts)."""
    return _imagenet("basic", (2, 2, 2, 2), num_classes, {"residual": False, **overrides})


def plain34(num_classes: int = 1000, **overrides) -> ResNet:
    """The paper's plain-34 (ResNet-34 without shortcuts)."""
    return _imagenet("basic", (3, 4, 6, 3), num_classes, {"residual": False, **overrides})


# ----------------------------------------------------------------------------- CIFAR presets
def resnet_cifar(depth: int = 20, num_classes: int = 10, residual: bool = True, width: int = 16,
                 shortcut: str = "A", in_channels: int = 3, **overrides) -> ResNet:
    """The paper's CIFAR-10 network of ``depth = 6n + 2`` weight layers (n BasicBlocks per stage,
    widths ``width``, ``2 width``, ``4 width``); ``residual=False`` is the plain twin."""
    if depth < 8 or (depth - 2) % 6:
        raise ValueError(f"resnet_cifar: depth must be 6n + 2 with n >= 1 (8, 14, 20, 32, 44, 56, 110), "
                         f"got {depth}")
    n = (depth - 2) // 6
    cfg = ResNetConfig(block="basic", layers=(n, n, n), widths=(width, 2 * width, 4 * width), stem="cifar",
                       num_classes=num_classes, in_channels=in_channels, shortcut=shortcut,
                       residual=residual)
    return ResNet(cfg, **overrides)


def resnet20(num_classes: int = 10, **overrides) -> ResNet:
    """CIFAR ResNet-20 (n = 3), option A: 269,722 parameters (the paper: 0.27M)."""
    return resnet_cifar(20, num_classes, **overrides)


def resnet32(num_classes: int = 10, **overrides) -> ResNet:
    """CIFAR ResNet-32 (n = 5): 0.46M parameters."""
    return resnet_cifar(32, num_classes, **overrides)


def resnet44(num_classes: int = 10, **overrides) -> ResNet:
    """CIFAR ResNet-44 (n = 7): 0.66M parameters."""
    return resnet_cifar(44, num_classes, **overrides)


def resnet56(num_classes: int = 10, **overrides) -> ResNet:
    """CIFAR ResNet-56 (n = 9): 0.85M parameters."""
    return resnet_cifar(56, num_classes, **overrides)


def resnet110(num_classes: int = 10, **overrides) -> ResNet:
    """CIFAR ResNet-110 (n = 18): 1.7M parameters."""
    return resnet_cifar(110, num_classes, **overrides)


def plain20(num_classes: int = 10, **overrides) -> ResNet:
    """CIFAR plain-20: ResNet-20 without shortcuts."""
    return resnet_cifar(20, num_classes, residual=False, **overrides)


def plain32(num_classes: int = 10, **overrides) -> ResNet:
    """CIFAR plain-32."""
    return resnet_cifar(32, num_classes, residual=False, **overrides)


def plain44(num_classes: int = 10, **overrides) -> ResNet:
    """CIFAR plain-44."""
    return resnet_cifar(44, num_classes, residual=False, **overrides)


def plain56(num_classes: int = 10, **overrides) -> ResNet:
    """CIFAR plain-56."""
    return resnet_cifar(56, num_classes, residual=False, **overrides)


def plain110(num_classes: int = 10, **overrides) -> ResNet:
    """CIFAR plain-110."""
    return resnet_cifar(110, num_classes, residual=False, **overrides)


def resnet_tiny(num_classes: int = 10, in_channels: int = 3, residual: bool = True, **overrides) -> ResNet:
    """An 8-layer CIFAR-style ResNet with 4/8/16 channels (~5k parameters), for tests and demos."""
    return resnet_cifar(8, num_classes, residual=residual, width=4, in_channels=in_channels, **overrides)
