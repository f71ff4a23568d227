"""ResNets (torchvision ImageNet layout, the paper's CIFAR nets, plain twins): blocks, shortcuts,
keys, shapes, overfitting, and resnet18 against a PyTorch twin built here from torch.nn."""
import numpy as np
import pytest

import gradus
import gradus.functional as F
from gradus import nn
from gradus.models import (
    BasicBlock,
    Bottleneck,
    ResNet,
    ShortcutA,
    plain20,
    resnet18,
    resnet20,
    resnet_cifar,
    resnet_tiny,
)
from tests.helpers import SeededInputs, overfit_one_batch


def test_basic_block_adds_the_identity():
    block = BasicBlock(4, 4)
    block.eval()
    x = gradus.randn(2, 4, 6, 6)
    with gradus.no_grad():
        f = block.bn2(block.conv2(F.relu(block.bn1(block.conv1(x))))).numpy()
        y = block(x).numpy()
    np.testing.assert_allclose(y, np.maximum(f + x.numpy(), 0), rtol=1e-5, atol=1e-6)
    plain = BasicBlock(4, 4, residual=False)
    plain.load_state_dict(block.state_dict())
    plain.eval()
    with gradus.no_grad():
        np.testing.assert_allclose(plain(x).numpy(), np.maximum(f, 0), rtol=1e-5, atol=1e-6)


def test_shortcut_option_a_subsamples_and_zero_pads():
    s = ShortcutA(2, 6, stride=2)
    x = gradus.randn(1, 2, 4, 4)
    y = s(x).numpy()
    assert y.shape == (1, 6, 2, 2)
    np.testing.assert_array_equal(y[:, 2:4], x.numpy()[:, :, ::2, ::2])
    assert np.all(y[:, :2] == 0) and np.all(y[:, 4:] == 0)
    assert list(s.parameters()) == []


def test_bottleneck_shapes_and_stride_on_the_3x3():
    down = nn.Sequential(nn.Conv2d(8, 16, 1, stride=2, bias=False), nn.BatchNorm2d(16))
    b = Bottleneck(8, 4, stride=2, downsample=down)
    assert b.conv2.stride == (2, 2) and b.conv1.stride == (1, 1)
    assert b(gradus.randn(2, 8, 8, 8)).shape == (2, 16, 4, 4)


def test_cifar_models_structure():
    net = resnet20()
    assert sum(p.numel() for p in net.parameters()) == 269722  # the paper's "0.27M"
    assert [len(net.layer1), len(net.layer2), len(net.layer3)] == [3, 3, 3]
    assert isinstance(net.layer2[0].downsample, ShortcutA) and net.layer1[0].downsample is None
    n_convs = sum(isinstance(m, nn.Conv2d) for m in net.modules())
    assert n_convs + 1 == 20  # 19 convs + fc: "20 layers"
    b = resnet20(shortcut="B")
    assert isinstance(b.layer2[0].downsample, nn.Sequential)
    assert sum(p.numel() for p in b.parameters()) == 269722 + 16 * 32 + 32 * 64 + 2 * (32 + 64)
    twin = plain20()
    assert sum(p.numel() for p in twin.parameters()) == 269722  # option A: identical parameters
    assert all(not blk.residual and blk.downsample is None for layer in twin.stages() for blk in layer)
    with pytest.raises(ValueError, match="6n"):
        resnet_cifar(21)


def test_shapes():
    assert resnet20()(gradus.zeros(2, 3, 32, 32)).shape == (2, 10)
    assert resnet_tiny(in_channels=1, num_classes=4)(gradus.zeros(3, 1, 28, 28)).shape == (3, 4)
    small = ResNet(block="bottleneck", layers=(1, 1), widths=(4, 8), num_classes=3)
    assert small(gradus.zeros(2, 3, 32, 32)).shape == (2, 3)
    assert small.fc.in_features == 32


def test_resnet18_small_input_shape():
    net = resnet18(num_classes=7)
    net.eval()
    with gradus.no_grad():
        assert net(gradus.randn(1, 3, 64, 64)).shape == (1, 7)


def test_zero_init_residual():
    net = resnet_tiny(zero_init_residual=True)
    assert all(np.all(blk.bn2.weight.numpy() == 0) for layer in net.stages() for blk in layer)


@pytest.mark.parametrize("residual", [True, False])
def test_overfit_one_small_batch(residual):
    X = SeededInputs(0).tensor(8, 3, 32, 32)
    y = gradus.tensor(np.arange(8) % 4)
    r = overfit_one_batch(resnet_tiny(num_classes=4, residual=residual), X, y, steps=40, lr=1e-2)
    assert r.eval_accuracy == 1.0 and r.eval_loss < 0.2, r


def test_overfit_bottleneck_resnet():
    X = SeededInputs(1).tensor(8, 3, 32, 32)
    y = gradus.tensor(np.arange(8) % 4)
    net = ResNet(block="bottleneck", layers=(1, 1), widths=(4, 8), num_classes=4)
    r = overfit_one_batch(net, X, y, steps=40, lr=1e-2)
    assert r.eval_accuracy == 1.0 and r.eval_loss < 0.2, r


# ------------------------------------------------------------------------------- PyTorch twin of resnet18
def _torch_resnet18(torch, num_classes):
    tnn = torch.nn

    class Block(tnn.Module):
        def __init__(self, inplanes, planes, stride):
            super().__init__()
            self.conv1 = tnn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(planes)
            self.relu = tnn.ReLU()
            self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = tnn.BatchNorm2d(planes)
            self.downsample = None
            if stride != 1 or inplanes != planes:
                self.downsample = tnn.Sequential(tnn.Conv2d(inplanes, planes, 1, stride, bias=False),
                                                 tnn.BatchNorm2d(planes))

        def forward(self, x):
            out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
            return self.relu(out + (x if self.downsample is None else self.downsample(x)))

    class Net(tnn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = tnn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = tnn.BatchNorm2d(64)
            self.relu = tnn.ReLU()
            self.maxpool = tnn.MaxPool2d(3, 2, 1)
            c = 64
            for i, planes in enumerate((64, 128, 256, 512)):
                stride = 1 if i == 0 else 2
                stage = tnn.Sequential(Block(c, planes, stride), Block(planes, planes, 1))
                setattr(self, f"layer{i + 1}", stage)
                c = planes
            self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
            self.fc = tnn.Linear(512, num_classes)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(self.avgpool(x).flatten(1))

    return Net()


@pytest.mark.oracle
def test_resnet18_keys_and_forward_match_a_torch_twin(torch):
    net = resnet18(num_classes=10)
    ref = _torch_resnet18(torch, 10)
    ours, theirs = net.state_dict(), ref.state_dict()
    assert list(ours) == list(theirs)  # same names, same order (torchvision's)
    assert all(tuple(ours[k].shape) == tuple(theirs[k].shape) for k in ours)
    # our weights (and non-trivial BN statistics) into the twin; compare eval-mode outputs
    rng = np.random.default_rng(0)
    with gradus.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(gradus.tensor(rng.normal(0, 0.1, m.num_features).astype(np.float32)))
                m.running_var.copy_(gradus.tensor(rng.uniform(0.5, 1.5, m.num_features).astype(np.float32)))
    ref.load_state_dict({k: torch.from_numpy(np.array(v.numpy())) for k, v in net.state_dict().items()})
    net.eval()
    ref.eval()
    x = rng.normal(size=(2, 3, 64, 64)).astype(np.float32)
    with gradus.no_grad():
        y = net(gradus.tensor(x)).numpy()
    with torch.no_grad():
        y_ref = ref(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(y, y_ref, rtol=1e-4, atol=1e-4)
