"""Pooling, upsampling and locally connected layers: shapes, reprs, argument defaults, errors."""
from __future__ import annotations

import math

import numpy as np
import pytest

import gradus
import gradus.functional as F
from gradus import nn
from gradus.errors import ShapeError


def test_max_pool_modules():
    x = gradus.randn(2, 3, 9, 8)
    m = nn.MaxPool2d(3, 2, 1)
    assert m.stride == 2 and nn.MaxPool2d(2).stride == 2
    assert m(x).shape == (2, 3, 5, 4)
    y, idx = nn.MaxPool2d(2, return_indices=True)(x)
    assert y.shape == idx.shape == (2, 3, 4, 4) and idx.dtype == np.int64
    assert nn.MaxPool2d(2, ceil_mode=True)(x).shape == (2, 3, 5, 4)
    assert nn.MaxPool1d(3, 2)(gradus.randn(2, 3, 11)).shape == (2, 3, 5)
    assert repr(m) == "MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)"
    assert list(nn.MaxPool2d(2).parameters()) == []


def test_avg_and_adaptive_pool_modules():
    x = gradus.randn(2, 3, 9, 8)
    assert nn.AvgPool2d(3, 2, 1, count_include_pad=False)(x).shape == (2, 3, 5, 4)
    np.testing.assert_allclose(nn.AvgPool2d(3, 1, 1, divisor_override=1)(x).numpy(),
                               F.avg_pool2d(x, 3, 1, 1, divisor_override=1).numpy())
    assert nn.AvgPool1d(4)(gradus.randn(2, 3, 9)).shape == (2, 3, 2)
    gap = nn.AdaptiveAvgPool2d(1)(x)
    np.testing.assert_allclose(gap.numpy()[..., 0, 0], x.numpy().mean(axis=(2, 3)), rtol=1e-5, atol=1e-6)
    assert nn.AdaptiveAvgPool2d((None, 3))(x).shape == (2, 3, 9, 3)
    y, idx = nn.AdaptiveMaxPool2d((4, 3), return_indices=True)(x)
    assert y.shape == idx.shape == (2, 3, 4, 3)
    assert nn.AdaptiveMaxPool1d(4)(gradus.randn(1, 2, 9)).shape == (1, 2, 4)
    assert nn.AdaptiveAvgPool1d(4)(gradus.randn(1, 2, 9)).shape == (1, 2, 4)
    assert repr(nn.AvgPool2d(3, 2, 1)) == "AvgPool2d(kernel_size=3, stride=2, padding=1)"
    assert repr(nn.AvgPool1d(3)) == "AvgPool1d(kernel_size=(3,), stride=(3,), padding=(0,))"
    assert repr(nn.AdaptiveAvgPool2d((1, 1))) == "AdaptiveAvgPool2d(output_size=(1, 1))"


def test_pool_too_small_input_names_sizes():
    with pytest.raises(ShapeError, match=r"MaxPool2d: max_pool2d: input spatial size \(2, 3\)"):
        nn.MaxPool2d(3)(gradus.zeros(1, 1, 2, 3))


def test_upsample_modules():
    x = gradus.randn(1, 2, 3, 4)
    assert nn.Upsample(scale_factor=2)(x).shape == (1, 2, 6, 8)
    assert nn.Upsample(size=(5, 5), mode="bilinear")(x).shape == (1, 2, 5, 5)
    np.testing.assert_allclose(nn.UpsamplingBilinear2d(scale_factor=2)(x).numpy(),
                               F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True).numpy())
    assert nn.UpsamplingNearest2d(size=6)(x).shape == (1, 2, 6, 6)
    assert repr(nn.Upsample(scale_factor=2)) == "Upsample(scale_factor=2.0, mode='nearest')"
    assert repr(nn.Upsample(size=(3, 4), mode="bilinear")) == "Upsample(size=(3, 4), mode='bilinear')"
    assert nn.Upsample(scale_factor=3)(gradus.randn(1, 2, 5)).shape == (1, 2, 15)


def test_locally_connected2d():
    m = nn.LocallyConnected2d(3, 8, input_size=(10, 9), kernel_size=3, stride=2, padding=1)
    assert m.output_size == (5, 5)
    assert m.weight.shape == (5, 5, 8, 27) and m.bias.shape == (8, 5, 5)
    n_conv = 8 * 27 + 8
    assert sum(p.numel() for p in m.parameters()) == 25 * 8 * 27 + 8 * 25   # ~25x a conv's n_conv
    assert sum(p.numel() for p in m.parameters()) > 20 * n_conv
    bound = 1 / math.sqrt(27)
    assert np.abs(m.weight.numpy()).max() <= bound and np.abs(m.bias.numpy()).max() <= bound
    x = gradus.randn(2, 3, 10, 9)
    y = m(x)
    assert y.shape == (2, 8, 5, 5)
    y.sum().backward()
    assert m.weight.grad.shape == m.weight.shape
    assert repr(m) == ("LocallyConnected2d(3, 8, input_size=(10, 9), kernel_size=(3, 3), stride=(2, 2), "
                       "padding=(1, 1))")
    with pytest.raises(ShapeError, match=r"built for input size \(10, 9\).*\(9, 9\)"):
        m(gradus.randn(2, 3, 9, 9))
    with pytest.raises(ShapeError, match=r"LocallyConnected2d: expected input with 3 channels.*got 4"):
        m(gradus.randn(2, 4, 10, 9))
    with pytest.raises(ShapeError, match="too small"):
        nn.LocallyConnected2d(3, 8, input_size=2, kernel_size=3)
