"""Self-supervised pre-training by rotation prediction (Gidaris, Singh & Komodakis 2018), then transfer.

    >>> import gradus
    >>> from gradus.models.rotation import RotationNet, RotationNetConfig, rotate_batch
    >>> net = RotationNet(RotationNetConfig(channels=(8, 16, 32)))
    >>> x = gradus.rand(3, 1, 28, 28)
    >>> xr, r = rotate_batch(x.numpy())                       # every image at 0, 90, 180, 270 degrees
    >>> xr.shape, r.tolist()
    ((12, 1, 28, 28), [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3])
    >>> net.rotation_logits(gradus.tensor(xr)).shape, net(x).shape   # pretext head, task head
    ((12, 4), (3, 10))

**The pretext task.** Labels are expensive; rotations are free. Rotate every unlabelled image by
r * 90 degrees (r = 0..3) and train a network to say which r it sees. To do that it has to know what an
upright digit looks like -- where strokes start, which way a 7's bar points -- so its features carry
information about the classes although it never saw a label.

**Transfer.** The convolutional trunk (``features``) is kept; the rotation head is dropped; a new linear
classifier is put on top and the whole network fine-tuned on the few labelled images. Compared with the
same network started from random weights under the same budget, the pre-trained start should win when
labels are few (the recipe ``mnist-selfsup-transfer`` measures it over several seeds).

The network: ``len(channels)`` blocks of [3x3 conv (padding 1) -> BatchNorm -> ReLU -> 2x2 max-pool],
28 -> 14 -> 7 -> 3, then global average pooling to ``channels[-1]`` features, and two linear heads::

    x (B, 1, 28, 28) -> features (B, C_last) -> rotation head (B, 4)  |  classifier (B, num_classes)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import nn
from .options import configure

__all__ = ["RotationNetConfig", "RotationNet", "rotate_batch"]


@dataclass
class RotationNetConfig:
    in_channels: int = 1
    channels: tuple[int, ...] = (32, 64, 128)   # maps of each conv block
    num_classes: int = 10                      # the downstream task's classes
    num_rotations: int = 4                     # 0, 90, 180, 270 degrees


def rotate_batch(x: np.ndarray, rotations: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Every image of ``x`` (B, C, H, W) with H = W at each of ``rotations`` quarter turns
    (counter-clockwise): ``(x_rot (rotations * B, C, H, W), r (rotations * B,) int64)``, grouped by
    rotation (all of r = 0 first)."""
    x = np.asarray(x)
    if x.ndim != 4 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"rotate_batch: expected square images (B, C, H, W), got shape {x.shape}")
    xs = [np.rot90(x, k, axes=(2, 3)) for k in range(rotations)]
    r = np.repeat(np.arange(rotations, dtype=np.int64), x.shape[0])
    return np.ascontiguousarray(np.concatenate(xs)), r


class RotationNet(nn.Module):
    """A small CNN with a rotation head (the pretext task) and a classifier (the downstream task);
    ``forward`` is the classifier (module docstring for the layers)."""

    def __init__(self, config: RotationNetConfig | None = None, **overrides):
        super().__init__()
        cfg = self.config = configure(RotationNetConfig, config, overrides, "RotationNet")
        cfg.channels = tuple(int(c) for c in cfg.channels)
        blocks, c_in = [], cfg.in_channels
        for c in cfg.channels:
            blocks += [nn.Conv2d(c_in, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(),
                       nn.MaxPool2d(2)]
            c_in = c
        self.features = nn.Sequential(*blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten())   # (B, C_last)
        self.rotation_head = nn.Linear(c_in, cfg.num_rotations)
        self.classifier = nn.Linear(c_in, cfg.num_classes)

    def rotation_logits(self, x):
        """(B, C, H, W) -> (B, num_rotations): which quarter turn the image was given."""
        return self.rotation_head(self.features(x))

    def forward(self, x):
        """(B, C, H, W) -> (B, num_classes) class logits."""
        return self.classifier(self.features(x))

    def reset_classifier(self) -> RotationNet:
        """A fresh classifier head (PyTorch's default Linear initialisation), for transfer."""
        self.classifier = nn.Linear(self.classifier.in_features, self.config.num_classes)
        return self
