"""Network in Network: mlpconv blocks, global average pooling, shapes, overfitting."""
import numpy as np

import gradus
from gradus import nn
from gradus.models import NiN, nin_cifar10, nin_imagenet, nin_tiny
from gradus.models.nin import mlpconv
from tests.helpers import SeededInputs, overfit_one_batch


def test_mlpconv_is_conv_then_1x1_convs():
    block = mlpconv(3, (8, 6, 4), kernel_size=5, padding=2)
    convs = [m for m in block if isinstance(m, nn.Conv2d)]
    assert [c.kernel_size for c in convs] == [(5, 5), (1, 1), (1, 1)]
    assert [c.out_channels for c in convs] == [8, 6, 4]
    assert sum(isinstance(m, nn.ReLU) for m in block) == 3
    assert block(gradus.zeros(2, 3, 9, 9)).shape == (2, 4, 9, 9)


def test_1x1_conv_is_a_per_pixel_fully_connected_layer():
    block = mlpconv(3, (5,), kernel_size=1)
    x = gradus.randn(2, 3, 4, 4)
    conv = block[0]
    W, b = conv.weight.numpy()[:, :, 0, 0], conv.bias.numpy()
    want = np.maximum(np.einsum("oc,nchw->nohw", W, x.numpy()) + b[:, None, None], 0)
    np.testing.assert_allclose(block(x).numpy(), want, rtol=1e-5, atol=1e-6)


def test_paper_cifar_model():
    net = nin_cifar10()
    assert sum(p.numel() for p in net.parameters()) == 966986
    assert not any(isinstance(m, nn.Linear) for m in net.modules())  # no fully connected layer at all
    net.eval()
    assert net(gradus.zeros(2, 3, 32, 32)).shape == (2, 10)


def test_global_average_pooling_gives_the_logits():
    net = nin_tiny()
    net.eval()
    x = gradus.randn(2, 3, 32, 32)
    with gradus.no_grad():
        maps = net.features(x).numpy()  # (N, num_classes, h, w)
        assert maps.shape == (2, 10, 16, 16)
        np.testing.assert_allclose(net(x).numpy(), maps.mean((2, 3)), rtol=1e-5, atol=1e-6)


def test_imagenet_geometry_and_tiny_shapes():
    net = nin_imagenet(num_classes=1000)
    assert net.features[-1][-2].out_channels == 1000
    small = NiN(num_classes=4, blocks=(((8, 8), 3, 1, 1), ((8, 0), 3, 1, 1)))
    assert small(gradus.zeros(1, 3, 12, 12)).shape == (1, 4)
    assert nin_tiny(in_channels=1)(gradus.zeros(3, 1, 28, 28)).shape == (3, 10)


def test_overfit_one_small_batch():
    X = SeededInputs(0).tensor(8, 3, 32, 32)
    y = gradus.tensor(np.arange(8) % 4)
    # 60 steps: the ReLU before global pooling keeps logits >= 0, a slower descent
    r = overfit_one_batch(nin_tiny(num_classes=4), X, y, steps=60, lr=1e-2)
    assert r.eval_accuracy == 1.0 and r.last_loss < 0.2, r
