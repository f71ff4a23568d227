"""Dropout modules. They act only in training mode (``module.train()``); ``eval()`` turns them off.

Two conventions (see ``gradus.functional.dropout`` for the formulas):

- ``Dropout(p)`` — inverted dropout (PyTorch's): scale kept units by 1/(1-p) while training, identity
  at evaluation.
- ``Dropout(p, mode="classic")`` — the original paper's: keep units unscaled while training, multiply
  by the keep probability 1-p at evaluation.

    >>> import gradus
    >>> from gradus import nn
    >>> d = nn.Dropout(0.5, mode="classic").eval()
    >>> d(gradus.ones(3))
    tensor([0.5000, 0.5000, 0.5000])
"""
from __future__ import annotations

from ..functional.dropout import (
    alpha_dropout,
    classic_dropout,
    dropout,
    dropout1d,
    dropout2d,
    dropout3d,
    feature_alpha_dropout,
)
from .module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"]


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)):
            raise TypeError(f"{type(self).__name__}: p (the dropout probability) must be a number in [0, 1], "
                            f"got {p!r} ({type(p).__name__})")
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: dropout probability has to be between 0 and 1, but "
                             f"got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zero each element with probability ``p`` while training.

    ``mode="inverted"`` (default, PyTorch): y = x * m / (1-p) in training, y = x in evaluation.
    ``mode="classic"``: y = x * m in training, y = x * (1-p) in evaluation.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False, mode: str = "inverted"):
        super().__init__(p, inplace)
        if mode not in ("inverted", "classic"):
            raise ValueError(f"Dropout: mode must be 'inverted' or 'classic', got {mode!r}")
        self.mode = mode

    def forward(self, input):  # noqa: A002
        if self.mode == "classic":
            return classic_dropout(input, self.p, self.training)
        return dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return super().extra_repr() + (", mode='classic'" if self.mode == "classic" else "")


class Dropout1d(_DropoutNd):
    """Drop whole channels of (N, C, L) inputs."""

    def forward(self, input):  # noqa: A002
        return dropout1d(input, self.p, self.training)


class Dropout2d(_DropoutNd):
    """Drop whole feature maps of (N, C, H, W) inputs."""

    def forward(self, input):  # noqa: A002
        return dropout2d(input, self.p, self.training)


class Dropout3d(_DropoutNd):
    """Drop whole channels of (N, C, D, H, W) inputs."""

    def forward(self, input):  # noqa: A002
        return dropout3d(input, self.p, self.training)


class AlphaDropout(_DropoutNd):
    """Dropout for SELU networks (keeps zero mean and unit variance)."""

    def forward(self, input):  # noqa: A002
        return alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(_DropoutNd):
    def forward(self, input):  # noqa: A002
        return feature_alpha_dropout(input, self.p, self.training)
