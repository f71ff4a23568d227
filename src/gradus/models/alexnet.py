"""AlexNet (Krizhevsky, Sutskever & Hinton, "ImageNet Classification with Deep Convolutional Neural
Networks", NeurIPS 2012), in torchvision's single-GPU layout ("One weird trick", Krizhevsky 2014).

Layout (module names and state_dict keys as torchvision's ``alexnet``), for a 224x224 input::

    features:  conv 11x11/4 64 -> ReLU -> maxpool 3/2      (N, 64, 27, 27)
               conv 5x5 192    -> ReLU -> maxpool 3/2      (N, 192, 13, 13)
               conv 3x3 384 -> ReLU -> conv 3x3 256 -> ReLU -> conv 3x3 256 -> ReLU -> maxpool 3/2
                                                           (N, 256, 6, 6)
    avgpool:   AdaptiveAvgPool2d(6)                        (N, 256, 6, 6)
    classifier: Dropout -> Linear 9216->4096 -> ReLU -> Dropout -> Linear 4096->4096 -> ReLU
               -> Linear 4096->num_classes

``alexnet()`` has 61,100,840 parameters (torchvision's count). The paper's own network differs: 96-256-
384-384-256 channels split over two GPUs, and local response normalisation after conv1 and conv2
(``lrn=True`` adds ``LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2)`` there, the paper's values).

``alexnet_tiny()`` is the same code path with narrow layers and a 1x1 adaptive pool: it accepts
inputs from 63x63 up (smaller inputs shrink to nothing after the three stride-2 poolings) and trains
in seconds.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from .. import nn

__all__ = ["AlexNetConfig", "AlexNet", "alexnet", "alexnet_tiny"]


@dataclass
class AlexNetConfig:
    num_classes: int = 1000                 # classifier outputs
    in_channels: int = 3                    # image channels
    channels: tuple = (64, 192, 384, 256, 256)  # conv1..conv5 widths (the paper: 96, 256, 384, 384, 256)
    hidden: int = 4096                      # width of the two hidden fully connected layers
    pool_size: int = 6                      # AdaptiveAvgPool2d output side (6 -> 256*6*6 = 9216 features)
    dropout: float = 0.5                    # dropout before each hidden fully connected layer
    lrn: bool = False                       # local response normalisation after conv1 and conv2 (the paper)


class AlexNet(nn.Module):
    """AlexNet: ``(N, in_channels, H, W) -> (N, num_classes)`` logits (H, W >= 63)."""

    def __init__(self, config: AlexNetConfig | None = None, **overrides):
        super().__init__()
        cfg = replace(config or AlexNetConfig(), **overrides)
        self.config = cfg
        c1, c2, c3, c4, c5 = cfg.channels
        layers = [nn.Conv2d(cfg.in_channels, c1, kernel_size=11, stride=4, padding=2),  # (N, c1, 55, 55)
                  nn.ReLU()]
        if cfg.lrn:
            layers.append(nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0))
        layers += [nn.MaxPool2d(kernel_size=3, stride=2),                                 # (N, c1, 27, 27)
                   nn.Conv2d(c1, c2, kernel_size=5, padding=2), nn.ReLU()]   # (N, c2, 27, 27)
        if cfg.lrn:
            layers.append(nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0))
        layers += [nn.MaxPool2d(kernel_size=3, stride=2),                                 # (N, c2, 13, 13)
                   nn.Conv2d(c2, c3, kernel_size=3, padding=1), nn.ReLU(),
                   nn.Conv2d(c3, c4, kernel_size=3, padding=1), nn.ReLU(),
                   nn.Conv2d(c4, c5, kernel_size=3, padding=1), nn.ReLU(),   # (N, c5, 13, 13)
                   nn.MaxPool2d(kernel_size=3, stride=2)]                                 # (N, c5, 6, 6)
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((cfg.pool_size, cfg.pool_size))
        self.classifier = nn.Sequential(
            nn.Dropout(p=cfg.dropout),
            nn.Linear(c5 * cfg.pool_size * cfg.pool_size, cfg.hidden),
            nn.ReLU(),
            nn.Dropout(p=cfg.dropout),
            nn.Linear(cfg.hidden, cfg.hidden),
            nn.ReLU(),
            nn.Linear(cfg.hidden, cfg.num_classes),
        )

    def forward(self, x):
        x = self.features(x)            # (N, c5, h, w)
        x = self.avgpool(x)             # (N, c5, pool_size, pool_size)
        x = x.flatten(1)                # (N, c5 * pool_size^2)
        return self.classifier(x)       # (N, num_classes)


def alexnet(num_classes: int = 1000, **overrides) -> AlexNet:
    """torchvision's AlexNet (61,100,840 parameters with 1000 classes)."""
    return AlexNet(AlexNetConfig(num_classes=num_classes), **overrides)


def alexnet_tiny(num_classes: int = 10, **overrides) -> AlexNet:
    """AlexNet's code path at toy width (8-16-24-16-16 channels, 64 hidden units, 1x1 pool), for 64x64
    inputs and tests."""
    cfg = AlexNetConfig(num_classes=num_classes, channels=(8, 16, 24, 16, 16), hidden=64, pool_size=1,
                        dropout=0.0)
    return AlexNet(cfg, **overrides)
