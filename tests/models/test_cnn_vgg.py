"""VGG (torchvision layout) and the small VGG-style CNN: structure, keys, shapes, overfitting."""
import numpy as np
import pytest

import gradus
from gradus import nn
from gradus.models import VGG, vgg_tiny
from gradus.models.vgg import CFGS
from tests.helpers import SeededInputs, overfit_one_batch


def test_configurations_are_the_papers():
    # weight layers = convs + 3 fully connected
    for name, n in (("vgg11", 11), ("vgg13", 13), ("vgg16", 16), ("vgg19", 19)):
        assert sum(v != "M" for v in CFGS[name]) + 3 == n
        assert CFGS[name].count("M") == 5


def test_keys_and_bn_placement():
    net = VGG(cfg="vgg11", batch_norm=True, pool_size=1, hidden=16, num_classes=3)
    keys = set(net.state_dict())
    # torchvision vgg11_bn: conv at 0, BN at 1, ReLU 2, pool 3, conv 4 ...
    assert {"features.0.weight", "features.1.running_mean", "features.4.weight",
            "classifier.0.weight", "classifier.3.weight", "classifier.6.bias"} <= keys
    assert isinstance(net.features[3], nn.MaxPool2d)


def test_shapes_small_inputs():
    # the full vgg code path on 32x32 (5 pools: 32 -> 1), narrow classifier
    net = VGG(cfg="vgg11", pool_size=1, hidden=32, num_classes=10)
    assert net(gradus.zeros(2, 3, 32, 32)).shape == (2, 10)
    tiny = vgg_tiny()
    assert tiny(gradus.zeros(4, 1, 28, 28)).shape == (4, 10)
    assert vgg_tiny(in_channels=3, num_classes=5)(gradus.zeros(2, 3, 28, 28)).shape == (2, 5)


def test_torchvision_init():
    net = vgg_tiny()
    lin = net.classifier[0].weight.numpy()
    assert abs(lin.std() - 0.01) < 0.002 and np.all(net.classifier[0].bias.numpy() == 0)
    conv = net.features[0].weight.numpy()  # kaiming normal, fan_out = 16 * 9
    assert abs(conv.std() - np.sqrt(2 / (16 * 9))) < 0.05


@pytest.mark.parametrize("cfg", [[8, "M", 16, "M"], "tiny"])
def test_overfit_one_small_batch(cfg):
    X = SeededInputs(0).tensor(8, 1, 28, 28)
    y = gradus.tensor(np.arange(8) % 4)
    if cfg == "tiny":
        net = vgg_tiny(num_classes=4)
    else:
        net = VGG(cfg=cfg, in_channels=1, batch_norm=False, pool_size=2, hidden=32, dropout=0.0,
                  num_classes=4)
    r = overfit_one_batch(net, X, y, steps=40, lr=1e-2)
    assert r.eval_accuracy == 1.0 and r.last_loss < 0.1, r
