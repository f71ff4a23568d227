"""Conv layers: PyTorch parameter names/shapes/init/repr, shapes, error messages, a tiny CNN that learns."""
from __future__ import annotations

import math

import numpy as np
import pytest

import gradus
import gradus.functional as F
from gradus import nn
from gradus.errors import ShapeError
from tests.helpers import SeededInputs, overfit_one_batch


@pytest.mark.parametrize("layer,x_shape,w_shape,y_shape", [
    (lambda: nn.Conv2d(3, 8, 3), (2, 3, 10, 9), (8, 3, 3, 3), (2, 8, 8, 7)),
    (lambda: nn.Conv2d(4, 6, (3, 5), stride=2, padding=(1, 2), groups=2), (1, 4, 9, 9), (6, 2, 3, 5),
     (1, 6, 5, 5)),
    (lambda: nn.Conv2d(3, 5, 4, padding="same", dilation=2), (2, 3, 7, 8), (5, 3, 4, 4), (2, 5, 7, 8)),
    (lambda: nn.Conv1d(3, 6, 5, stride=2, padding=2), (4, 3, 20), (6, 3, 5), (4, 6, 10)),
    (lambda: nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1), (2, 8, 5, 6), (8, 4, 4, 4), (2, 4, 10, 12)),
    (lambda: nn.ConvTranspose2d(4, 6, 3, stride=2, output_padding=1, groups=2), (1, 4, 3, 3), (4, 3, 3, 3),
     (1, 6, 8, 8)),
    (lambda: nn.ConvTranspose1d(3, 2, 3, stride=3), (2, 3, 4), (3, 2, 3), (2, 2, 12)),
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


def test_default_init_is_pytorch_kaiming_uniform():
    m = nn.Conv2d(16, 32, 3)
    bound = 1 / math.sqrt(16 * 9)   # kaiming_uniform_(a=sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    w, b = m.weight.numpy(), m.bias.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound
    assert np.abs(b).max() <= bound
    t = nn.ConvTranspose2d(16, 8, 4, groups=2)   # fan_in = weight.size(1) * KH * KW = 4 * 16
    assert np.abs(t.weight.numpy()).max() <= 1 / math.sqrt(4 * 16)
    assert nn.Conv2d(3, 4, 3, bias=False).bias is None
    gradus.manual_seed(3)
    a = nn.Conv2d(3, 4, 3).weight.numpy()
    gradus.manual_seed(3)
    np.testing.assert_array_equal(a, nn.Conv2d(3, 4, 3).weight.numpy())


def test_repr_matches_pytorch():
    assert repr(nn.Conv2d(3, 64, 3, padding=1)) == (
        "Conv2d(3, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))")
    assert repr(nn.Conv2d(3, 64, (3, 5), 2, 2, 2, 1, False, "reflect")) == (
        "Conv2d(3, 64, kernel_size=(3, 5), stride=(2, 2), padding=(2, 2), dilation=(2, 2), bias=False, "
        "padding_mode=reflect)")
    assert repr(nn.Conv1d(3, 6, 5, padding="same", groups=3)) == (
        "Conv1d(3, 6, kernel_size=(5,), stride=(1,), padding=same, groups=3)")
    assert repr(nn.ConvTranspose2d(16, 8, 4, 2, 1, output_padding=1)) == (
        "ConvTranspose2d(16, 8, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1), output_padding=(1, 1))")


def test_padding_modes():
    x = gradus.randn(2, 3, 6, 6)
    for mode in ("zeros", "reflect", "replicate", "circular"):
        m = nn.Conv2d(3, 4, 3, padding=1, padding_mode=mode)
        xp = F.pad(x, (1, 1, 1, 1), mode="constant" if mode == "zeros" else mode)
        ref = F.conv2d(xp, m.weight, m.bias)
        np.testing.assert_allclose(m(x).numpy(), ref.numpy(), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")


def test_conv_transpose_output_size():
    m = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1)
    x = gradus.randn(1, 4, 5, 5)
    assert m(x).shape == (1, 2, 9, 9)
    assert m(x, output_size=(10, 10)).shape == (1, 2, 10, 10)
    assert m(x, output_size=[1, 2, 10, 9]).shape == (1, 2, 10, 9)
    with pytest.raises(ShapeError, match="valid sizes for dim 0 range from 9 to 10"):
        m(x, output_size=(11, 10))


def test_error_messages_name_the_layer_and_both_counts():
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Conv2d(4, 8, 3))
    with pytest.raises(ShapeError, match=r"Sequential\.2 \(Conv2d\): expected input with 4 channels "
                                         r"\(in_channels=4\), but got 8 channels"):
        net(gradus.zeros(1, 3, 10, 10))
    with pytest.raises(ShapeError, match=r"Conv2d: .*input spatial size \(2, 2\).*kernel size \(3, 3\)"):
        nn.Conv2d(3, 8, 3)(gradus.zeros(1, 3, 2, 2))
    with pytest.raises(ShapeError, match=r"Conv1d: expected an input of shape \(N, C, L\)"):
        nn.Conv1d(3, 8, 3)(gradus.zeros(1, 1, 3, 8))
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 8, 3, groups=2)
    with pytest.raises(ValueError, match="strided"):
        nn.Conv2d(3, 8, 3, stride=2, padding="same")


def test_unfold_fold_modules():
    x = gradus.randn(2, 3, 6, 6)
    cols = nn.Unfold(3, padding=1)(x)
    assert cols.shape == (2, 27, 36)
    # fold(unfold(x)) multiplies each pixel by the number of windows covering it
    cover = nn.Fold(6, 3, padding=1)(nn.Unfold(3, padding=1)(gradus.ones(1, 1, 6, 6)))
    np.testing.assert_allclose(nn.Fold(6, 3, padding=1)(cols).numpy(), (x * cover).numpy(), rtol=1e-5)


def test_tiny_cnn_overfits_a_small_batch():
    gradus.manual_seed(0)
    inputs = SeededInputs(0)
    X = inputs.tensor(16, 1, 12, 12)
    y = inputs.labels(16, num_classes=3)
    net = nn.Sequential(nn.Conv2d(1, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(6, 8, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(),
                        nn.Linear(32, 3))
    r = overfit_one_batch(net, X, y, steps=60, lr=0.02, evaluate=False)
    assert r.last_loss < 0.2 * r.first_loss
