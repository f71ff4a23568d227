"""Network in Network (Lin, Chen & Yan, ICLR 2014).

Two ideas:

* **mlpconv**: replace the linear filter of a conv layer by a small MLP slid over the image. An MLP
  applied at every position is a conv followed by 1x1 convs (each 1x1 conv is a fully connected
  layer across channels, shared over positions)::

      mlpconv(k) = conv kxk -> ReLU -> conv 1x1 -> ReLU -> conv 1x1 -> ReLU

* **global average pooling** instead of fully connected layers: the last mlpconv outputs one map per
  class and each map is averaged to one logit, (N, num_classes, H, W) -> (N, num_classes). No
  classifier weights to overfit; each map is a class-confidence map.

``nin_cifar10()`` is the paper's CIFAR-10 network (the authors' Caffe model: mlpconv 192-160-96 5x5,
max pool, dropout, mlpconv 192-192-192 5x5, pool, dropout, mlpconv 192-192-10 3x3, global average
pooling; 966,986 parameters). ``nin_imagenet()`` is the ImageNet-sized model (Dive into Deep
Learning's layout: 96-256-384 mlpconvs with 11x11/4, 5x5 and 3x3 kernels). ``nin_tiny()`` trains in
seconds.

Like the paper, the last mlpconv keeps its ReLU before global average pooling (logits are >= 0; the
softmax only needs their differences). ``batch_norm=True`` adds BatchNorm2d after every conv
(not in the paper; it makes small and deep variants train without care).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from .. import nn

__all__ = ["NiNConfig", "NiN", "mlpconv", "nin_cifar10", "nin_imagenet", "nin_tiny"]


@dataclass
class NiNConfig:
    num_classes: int = 10                  # outputs = channels of the last 1x1 conv
    in_channels: int = 3                   # image channels
    # one (widths, kernel_size, stride, padding) per mlpconv block: widths = (conv, 1x1, 1x1 outputs);
    # the last block's last width is replaced by num_classes
    blocks: tuple = (((192, 160, 96), 5, 1, 2), ((192, 192, 192), 5, 1, 2), ((192, 192, 0), 3, 1, 1))
    pool_kernel: int = 3                   # max pool (k, stride 2, pad k//2) after all blocks but the last
    dropout: float = 0.5                   # dropout after every pooling (the paper: 0.5)
    batch_norm: bool = False               # BatchNorm2d after each conv (not in the paper)


def mlpconv(in_channels: int, widths, kernel_size: int, stride: int = 1, padding: int = 0,
            batch_norm: bool = False) -> nn.Sequential:
    """One mlpconv block: ``conv kxk -> ReLU -> (conv 1x1 -> ReLU) x (len(widths) - 1)``.

    Shapes: ``(N, in_channels, H, W) -> (N, widths[-1], (H + 2p - k) / s + 1, ...)``.
    """
    layers = []
    for i, out in enumerate(widths):
        k, s, p = (kernel_size, stride, padding) if i == 0 else (1, 1, 0)
        layers.append(nn.Conv2d(in_channels, out, kernel_size=k, stride=s, padding=p))
        if batch_norm:
            layers.append(nn.BatchNorm2d(out))
        layers.append(nn.ReLU())
        in_channels = out
    return nn.Sequential(*layers)


class NiN(nn.Module):
    """Network in Network: ``(N, in_channels, H, W) -> (N, num_classes)``."""

    def __init__(self, config: NiNConfig | None = None, **overrides):
        super().__init__()
        cfg = replace(config or NiNConfig(), **overrides)
        self.config = cfg
        layers, c = [], cfg.in_channels
        for i, (widths, k, s, p) in enumerate(cfg.blocks):
            widths = list(widths)
            last = i == len(cfg.blocks) - 1
            if last:
                widths[-1] = cfg.num_classes  # one confidence map per class
            layers.append(mlpconv(c, widths, k, s, p, cfg.batch_norm))
            c = widths[-1]
            if not last:
                layers.append(nn.MaxPool2d(cfg.pool_kernel, stride=2, padding=cfg.pool_kernel // 2))
                if cfg.dropout > 0:
                    layers.append(nn.Dropout(cfg.dropout))
        self.features = nn.Sequential(*layers)
        self.gap = nn.AdaptiveAvgPool2d((1, 1))  # global average pooling

    def forward(self, x):
        x = self.features(x)      # (N, num_classes, h, w): class-confidence maps
        x = self.gap(x)           # (N, num_classes, 1, 1)
        return x.flatten(1)       # (N, num_classes)


def nin_cifar10(num_classes: int = 10, **overrides) -> NiN:
    """The paper's CIFAR-10 NiN (32x32 -> 16 -> 8 -> GAP): 966,986 parameters."""
    return NiN(NiNConfig(num_classes=num_classes), **overrides)


def nin_imagenet(num_classes: int = 1000, **overrides) -> NiN:
    """NiN for 224x224 images: mlpconv 96 (11x11/4), 256 (5x5), 384 (3x3), num_classes (3x3); 3x3/2
    max pools between; global average pooling."""
    blocks = (((96, 96, 96), 11, 4, 0),                        # (N, 96, 54, 54) -> pool 27
              ((256, 256, 256), 5, 1, 2),                       # (N, 256, 27, 27) -> pool 14
              ((384, 384, 384), 3, 1, 1),                       # (N, 384, 14, 14) -> pool 7
              ((num_classes,) * 3, 3, 1, 1))                    # (N, num_classes, 7, 7)
    cfg = NiNConfig(num_classes=num_classes, blocks=blocks)
    return NiN(cfg, **overrides)


def nin_tiny(num_classes: int = 10, in_channels: int = 3, **overrides) -> NiN:
    """Toy NiN for 32x32 (or 28x28) inputs: mlpconvs 16-16 (3x3) and 32-num_classes (3x3), with BN."""
    cfg = NiNConfig(num_classes=num_classes, in_channels=in_channels,
                    blocks=(((16, 16), 3, 1, 1), ((32, 0), 3, 1, 1)), dropout=0.0, batch_norm=True)
    return NiN(cfg, **overrides)
