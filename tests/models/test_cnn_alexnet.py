"""AlexNet (torchvision layout): structure, keys, shapes, overfitting one batch."""
import numpy as np
import pytest

import gradus
from gradus import nn
from gradus.models import AlexNet, alexnet_tiny
from tests.helpers import SeededInputs, overfit_one_batch


def test_torchvision_layout_and_keys():
    net = alexnet_tiny()
    assert isinstance(net.features[0], nn.Conv2d) and net.features[0].kernel_size == (11, 11)
    assert net.features[0].stride == (4, 4) and net.features[0].padding == (2, 2)
    conv_idx = [i for i, m in enumerate(net.features) if isinstance(m, nn.Conv2d)]
    pool_idx = [i for i, m in enumerate(net.features) if isinstance(m, nn.MaxPool2d)]
    assert conv_idx == [0, 3, 6, 8, 10] and pool_idx == [2, 5, 12]  # torchvision's indices
    lin_idx = [i for i, m in enumerate(net.classifier) if isinstance(m, nn.Linear)]
    assert lin_idx == [1, 4, 6]
    keys = set(net.state_dict())
    assert {"features.0.weight", "features.10.bias", "classifier.1.weight", "classifier.6.bias"} <= keys


def test_shapes_tiny_and_lrn_variant():
    net = alexnet_tiny(num_classes=7)
    assert net(gradus.zeros(2, 3, 64, 64)).shape == (2, 7)
    assert net(gradus.zeros(1, 3, 63, 63)).shape == (1, 7)  # the smallest input that survives 3 poolings
    lrn = AlexNet(channels=(8, 16, 24, 16, 16), hidden=32, pool_size=2, lrn=True, num_classes=5)
    assert sum(isinstance(m, nn.LocalResponseNorm) for m in lrn.features) == 2
    assert lrn(gradus.zeros(2, 3, 64, 64)).shape == (2, 5)


def test_overfit_one_small_batch():
    X = SeededInputs(0).tensor(8, 3, 64, 64)
    y = gradus.tensor(np.arange(8) % 4)
    r = overfit_one_batch(alexnet_tiny(num_classes=4), X, y, steps=80)
    assert r.eval_accuracy == 1.0 and r.last_loss < 0.1, r


def test_bad_input_channels_is_a_clear_error():
    with pytest.raises(ValueError, match="channels"):
        alexnet_tiny()(gradus.zeros(1, 1, 64, 64))
