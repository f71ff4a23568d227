"""VGG (Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image Recognition",
ICLR 2015), in torchvision's layout, plus small VGG-style CNNs built by the same code.

The idea: only 3x3 convolutions (stride 1, padding 1: the spatial size is kept) and 2x2 max pooling
(halves it). Two stacked 3x3 convs see 5x5, three see 7x7, with fewer parameters (3*9C^2 vs 49C^2)
and more non-linearities. A network is a list: numbers are conv widths, ``"M"`` is a max pool::

    vgg16: 64 64 M 128 128 M 256 256 256 M 512 512 512 M 512 512 512 M   (224 -> 7)
    then AdaptiveAvgPool2d(7), Linear 25088->4096, ReLU, Dropout, Linear 4096->4096, ReLU, Dropout,
    Linear 4096->num_classes

Module names and state_dict keys are torchvision's (``features.0.weight``, ``classifier.6.bias``,
and with ``_bn`` the BatchNorm after each conv: ``features.1.running_mean``). Parameter counts
(1000 classes): vgg11 132,863,336; vgg13 133,047,848; vgg16 138,357,544; vgg19 143,667,240; the
``_bn`` versions 5,504 / 5,888 / 8,448 / 11,008 more.

``vgg_tiny()`` (two conv stages and a 128-unit classifier) is the small modern CNN of the
``mnist-cnn`` recipe: conv3x3-BN-ReLU blocks, max pooling, dropout, a 128-unit hidden layer.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from .. import nn

__all__ = ["VGGConfig", "VGG", "CFGS", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn",
           "vgg19", "vgg19_bn", "vgg_tiny"]

# The paper's configurations A, B, D, E (Table 1), named by their number of weight layers.
CFGS: dict[str, list] = {
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg13": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
              512, 512, 512, 512, "M"],
}


@dataclass
class VGGConfig:
    cfg: list | str = "vgg16"   # conv widths and "M" (2x2 max pool), or a name in CFGS
    batch_norm: bool = False    # BatchNorm2d after every conv (the "_bn" variants)
    num_classes: int = 1000     # classifier outputs
    in_channels: int = 3        # image channels
    pool_size: int = 7          # AdaptiveAvgPool2d output side before the classifier
    hidden: int = 4096          # width of the two hidden fully connected layers
    dropout: float = 0.5        # dropout after each hidden fully connected layer
    init_weights: bool = True   # torchvision's init (Kaiming-normal convs, N(0, 0.01) linears)


def make_layers(cfg: list, in_channels: int = 3, batch_norm: bool = False) -> nn.Sequential:
    """The convolutional trunk: ``[conv3x3 (+BN) + ReLU]`` per number, ``MaxPool2d(2)`` per ``"M"``."""
    layers = []
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))  # (N, C, H, W) -> (N, C, H/2, W/2)
        else:
            layers.append(nn.Conv2d(in_channels, int(v), kernel_size=3, padding=1))  # keeps H, W
            if batch_norm:
                layers.append(nn.BatchNorm2d(int(v)))
            layers.append(nn.ReLU())
            in_channels = int(v)
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """VGG: ``(N, in_channels, H, W) -> (N, num_classes)``; H and W divisible by 2^(number of "M")."""

    def __init__(self, config: VGGConfig | None = None, **overrides):
        super().__init__()
        cfg = replace(config or VGGConfig(), **overrides)
        layout = CFGS[cfg.cfg] if isinstance(cfg.cfg, str) else list(cfg.cfg)
        self.config = cfg
        widths = [v for v in layout if v != "M"]
        if not widths:
            raise ValueError(f"VGG: cfg {cfg.cfg!r} has no conv layer")
        self.features = make_layers(layout, cfg.in_channels, cfg.batch_norm)
        self.avgpool = nn.AdaptiveAvgPool2d((cfg.pool_size, cfg.pool_size))
        self.classifier = nn.Sequential(
            nn.Linear(int(widths[-1]) * cfg.pool_size * cfg.pool_size, cfg.hidden),
            nn.ReLU(),
            nn.Dropout(p=cfg.dropout),
            nn.Linear(cfg.hidden, cfg.hidden),
            nn.ReLU(),
            nn.Dropout(p=cfg.dropout),
            nn.Linear(cfg.hidden, cfg.num_classes),
        )
        if cfg.init_weights:
            self._init_weights()

    def _init_weights(self) -> None:
        """torchvision's scheme: He init for convs (fan_out, ReLU gain), N(0, 0.01) for linears, BN 1/0."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        x = self.features(x)            # (N, C_last, H / 2^k, W / 2^k)
        x = self.avgpool(x)             # (N, C_last, pool_size, pool_size)
        x = x.flatten(1)                # (N, C_last * pool_size^2)
        return self.classifier(x)       # (N, num_classes)


def _vgg(name: str, batch_norm: bool, num_classes: int, overrides: dict) -> VGG:
    return VGG(VGGConfig(cfg=name, batch_norm=batch_norm, num_classes=num_classes), **overrides)


def vgg11(num_classes: int = 1000, **overrides) -> VGG:
    """VGG-11 (configuration A): 132,863,336 parameters."""
    return _vgg("vgg11", False, num_classes, overrides)


def vgg11_bn(num_classes: int = 1000, **overrides) -> VGG:
    """VGG-11 with batch normalisation: 132,868,840 parameters."""
    return _vgg("vgg11", True, num_classes, overrides)


def vgg13(num_classes: int = 1000, **overrides) -> VGG:
    """VGG-13 (configuration B): 133,047,848 parameters."""
    return _vgg("vgg13", False, num_classes, overrides)


def vgg13_bn(num_classes: int = 1000, **overrides) -> VGG:
    """VGG-13 with batch normalisation: 133,053,736 parameters."""
    return _vgg("vgg13", True, num_classes, overrides)


def vgg16(num_classes: int = 1000, **overrides) -> VGG:
    """VGG-16 (configuration D): 138,357,544 parameters."""
    return _vgg("vgg16", False, num_classes, overrides)


def vgg16_bn(num_classes: int = 1000, **overrides) -> VGG:
    """VGG-16 with batch normalisation: 138,365,992 parameters."""
    return _vgg("vgg16", True, num_classes, overrides)


def vgg19(num_classes: int = 1000, **overrides) -> VGG:
    """VGG-19 (configuration E): 143,667,240 parameters."""
    return _vgg("vgg19", False, num_classes, overrides)


def vgg19_bn(num_classes: int = 1000, **overrides) -> VGG:
    """VGG-19 with batch normalisation: 143,678,248 parameters."""
    return _vgg("vgg19", True, num_classes, overrides)


def vgg_tiny(num_classes: int = 10, in_channels: int = 1, **overrides) -> VGG:
    """A small VGG-style CNN for 28x28 / 32x32 images (the ``mnist-cnn`` recipe's model)::

        [conv3x3 16, BN, ReLU], maxpool, [conv3x3 32, BN, ReLU], maxpool   (N, 32, 7, 7) for 28x28
        -> Linear 1568->128, ReLU, Dropout(0.25), Linear 128->128, ReLU, Dropout, Linear 128->num_classes

    Keyword ``overrides`` replace fields of its ``VGGConfig``.
    """
    cfg = VGGConfig(cfg=[16, "M", 32, "M"], batch_norm=True, num_classes=num_classes,
                    in_channels=in_channels, pool_size=7, hidden=128, dropout=0.25)
    return VGG(cfg, **overrides)
