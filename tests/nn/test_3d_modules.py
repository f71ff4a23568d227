"""The 3-D layers and unpooling layers: ``Conv3d``, ``ConvTranspose3d``, ``MaxPool3d``, ``AvgPool3d``,
``AdaptiveAvgPool3d``, ``MaxUnpool1d/2d/3d``. PyTorch's parameter names, shapes, init, attributes and
reprs (loading a torch state_dict: tests/oracle/test_functional_extra_oracle.py), shapes, errors."""
from __future__ import annotations

import math

import numpy as np
import pytest

import gradus
import gradus.functional as F
from gradus import nn
from gradus.errors import ShapeError
from tests.helpers import SeededInputs


@pytest.mark.parametrize("layer,x_shape,w_shape,y_shape", [
    (lambda: nn.Conv3d(3, 8, 3), (2, 3, 6, 7, 5), (8, 3, 3, 3, 3), (2, 8, 4, 5, 3)),
    (lambda: nn.Conv3d(4, 6, (1, 3, 2), stride=(1, 2, 2), padding=(0, 1, 1), groups=2), (1, 4, 3, 9, 8),
     (6, 2, 1, 3, 2), (1, 6, 3, 5, 5)),
    (lambda: nn.Conv3d(2, 4, 3, padding="same", dilation=2, padding_mode="reflect"), (1, 2, 5, 6, 7),
     (4, 2, 3, 3, 3), (1, 4, 5, 6, 7)),
    (lambda: nn.ConvTranspose3d(4, 2, 4, stride=2, padding=1), (2, 4, 3, 4, 2), (4, 2, 4, 4, 4),
     (2, 2, 6, 8, 4)),
    (lambda: nn.ConvTranspose3d(4, 6, 3, stride=2, output_padding=(1, 0, 1), groups=2), (1, 4, 2, 2, 2),
     (4, 3, 3, 3, 3), (1, 6, 6, 5, 6)),
])
def test_shapes_and_parameters(layer, x_shape, w_shape, y_shape):
    m = layer()
    assert [n for n, _ in m.named_parameters()] == ["weight", "bias"]
    assert m.weight.shape == w_shape and m.bias.shape == (m.out_channels,)
    assert m.weight.dtype == np.float32
    y = m(gradus.randn(*x_shape))
    assert y.shape == y_shape and y.dtype == np.float32
    y.sum().backward()
    assert m.weight.grad.shape == w_shape and m.bias.grad.shape == (m.out_channels,)
    assert m(gradus.randn(*x_shape[1:])).shape == y_shape[1:]          # unbatched


def test_default_init_is_pytorch_kaiming_uniform():
    m = nn.Conv3d(8, 16, 3)
    bound = 1 / math.sqrt(8 * 27)
    w = m.weight.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert np.abs(m.bias.numpy()).max() <= bound
    t = nn.ConvTranspose3d(8, 4, 2, groups=2)    # fan_in = weight.size(1) * prod(kernel) = 2 * 8
    assert np.abs(t.weight.numpy()).max() <= 1 / math.sqrt(2 * 8)
    assert nn.Conv3d(2, 2, 1, bias=False).bias is None
    assert nn.Conv3d(2, 2, 1, dtype=gradus.float64).weight.dtype == np.float64


def test_attributes_and_reprs_match_pytorch():
    m = nn.Conv3d(2, 4, 3, padding=1)
    assert (m.kernel_size, m.stride, m.padding, m.dilation) == ((3, 3, 3), (1, 1, 1), (1, 1, 1), (1, 1, 1))
    assert repr(m) == "Conv3d(2, 4, kernel_size=(3, 3, 3), stride=(1, 1, 1), padding=(1, 1, 1))"
    assert repr(nn.ConvTranspose3d(4, 2, (2, 3, 3), stride=2)) == (
        "ConvTranspose3d(4, 2, kernel_size=(2, 3, 3), stride=(2, 2, 2))")
    assert repr(nn.MaxPool3d(2)) == (
        "MaxPool3d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)")
    assert repr(nn.AvgPool3d(3, 2, 1)) == "AvgPool3d(kernel_size=3, stride=2, padding=1)"
    assert repr(nn.AdaptiveAvgPool3d((2, None, 3))) == "AdaptiveAvgPool3d(output_size=(2, None, 3))"
    assert repr(nn.MaxUnpool2d(2)) == "MaxUnpool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))"
    assert repr(nn.MaxUnpool1d(2)) == "MaxUnpool1d(kernel_size=(2,), stride=(2,), padding=(0,))"
    assert repr(nn.MaxUnpool3d(2, 1)) == (
        "MaxUnpool3d(kernel_size=(2, 2, 2), stride=(1, 1, 1), padding=(0, 0, 0))")


def test_pool_modules_equal_the_functions():
    x = SeededInputs(1).tensor(2, 3, 6, 5, 7)
    np.testing.assert_array_equal(nn.MaxPool3d(3, 2, 1)(x).numpy(), F.max_pool3d(x, 3, 2, 1).numpy())
    y, idx = nn.MaxPool3d(2, return_indices=True, ceil_mode=True)(x)
    y2, idx2 = F.max_pool3d(x, 2, ceil_mode=True, return_indices=True)
    np.testing.assert_array_equal(idx.numpy(), idx2.numpy())
    np.testing.assert_allclose(nn.AvgPool3d(2, 1, 1, count_include_pad=False)(x).numpy(),
                               F.avg_pool3d(x, 2, 1, 1, count_include_pad=False).numpy())
    np.testing.assert_allclose(nn.AvgPool3d(2, divisor_override=3)(x).numpy(),
                               F.avg_pool3d(x, 2, divisor_override=3).numpy())
    np.testing.assert_allclose(nn.AdaptiveAvgPool3d(1)(x).numpy(),
                               x.numpy().mean(axis=(2, 3, 4), keepdims=True), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_unpool_modules_with_pool_modules(nd):
    pool = (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)[nd - 1](2, return_indices=True)
    unpool = (nn.MaxUnpool1d, nn.MaxUnpool2d, nn.MaxUnpool3d)[nd - 1](2)
    shape = (2, 3) + (7, 5, 5)[:nd]
    x = gradus.tensor(np.random.default_rng(2).permutation(int(np.prod(shape))).reshape(shape) + 1.0)
    y, idx = pool(x)
    z = unpool(y, idx, output_size=x.shape)
    assert z.shape == x.shape
    kept = z.numpy() != 0
    np.testing.assert_array_equal(z.numpy()[kept], x.numpy()[kept])
    assert kept.sum() == y.numel()


def test_channel_mismatch_names_the_layer():
    m = nn.Conv3d(3, 4, 3)
    with pytest.raises(ShapeError, match=r"expected input with 3 channels.*got 2 channels"):
        m(gradus.zeros(1, 2, 4, 4, 4))
    with pytest.raises(ShapeError, match=r"Conv3d: expected an input of shape \(N, C, D, H, W\)"):
        m(gradus.zeros(1, 3, 4))
    t = nn.ConvTranspose3d(2, 2, 3, stride=2)
    with pytest.raises(ShapeError, match=r"ConvTranspose3d: requested an output size of"):
        t(gradus.zeros(1, 2, 3, 3, 3), output_size=(9, 9, 9))
    assert t(gradus.zeros(1, 2, 3, 3, 3), output_size=(8, 7, 8)).shape == (1, 2, 8, 7, 8)
    with pytest.raises(ValueError, match="ConvTranspose3d: only padding_mode='zeros'"):
        nn.ConvTranspose3d(2, 2, 3, padding_mode="reflect")


def test_a_tiny_3d_network_trains():
    """Conv3d, MaxPool3d, AdaptiveAvgPool3d and a linear head: the loss on one batch goes down."""
    gradus.manual_seed(0)
    net = nn.Sequential(nn.Conv3d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool3d(2),
                        nn.Conv3d(4, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool3d(1), nn.Flatten(),
                        nn.Linear(4, 2))
    opt = gradus.optim.Adam(net.parameters(), lr=0.02)
    inputs = SeededInputs(3)
    X, y = inputs.tensor(8, 1, 4, 6, 6), gradus.tensor(np.arange(8) % 2)
    X = X + gradus.tensor((np.arange(8) % 2).reshape(8, 1, 1, 1, 1).astype(np.float32))   # separable
    first = None
    for _ in range(40):
        loss = F.cross_entropy(net(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
    assert loss.item() < 0.5 * first
