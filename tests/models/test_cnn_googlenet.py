"""GoogLeNet / Inception v1 (torchvision layout): Inception module, keys, aux heads, shapes, overfitting."""
import numpy as np

import gradus
import gradus.functional as F
from gradus.models import GoogLeNet, Inception, googlenet_tiny
from gradus.models.googlenet import BasicConv2d, GoogLeNetOutputs
from tests.helpers import SeededInputs, overfit_one_batch


def test_basic_conv2d_is_conv_without_bias_bn_relu():
    b = BasicConv2d(3, 4, kernel_size=3, padding=1)
    assert b.conv.bias is None and b.bn.eps == 0.001
    b.eval()
    out = b(gradus.randn(2, 3, 5, 5)).numpy()
    assert out.shape == (2, 4, 5, 5) and out.min() >= 0
    assert set(b.state_dict()) == {"conv.weight", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var",
                                   "bn.num_batches_tracked"}


def test_inception_module_concatenates_its_four_branches():
    m = Inception(16, 4, 6, 8, 2, 3, 5)
    m.eval()
    x = gradus.randn(2, 16, 7, 7)
    out = m(x)
    assert out.shape == (2, 4 + 8 + 3 + 5, 7, 7)
    with gradus.no_grad():
        parts = [m.branch1(x), m.branch2(x), m.branch3(x), m.branch4(x)]
    np.testing.assert_allclose(out.numpy(), np.concatenate([p.numpy() for p in parts], 1), rtol=1e-6)
    assert m.branch3[1].conv.kernel_size == (3, 3)  # torchvision's "5x5" branch
    assert Inception(16, 4, 6, 8, 2, 3, 5, branch3_kernel=5).branch3[1].conv.kernel_size == (5, 5)


def test_keys_follow_torchvision():
    net = googlenet_tiny(aux_logits=True)
    keys = set(net.state_dict())
    for k in ("conv1.conv.weight", "conv1.bn.running_var", "inception3a.branch1.conv.weight",
              "inception3a.branch2.1.bn.weight", "inception4e.branch4.1.conv.weight",
              "inception5b.branch3.0.bn.running_mean", "aux1.conv.conv.weight", "aux1.fc1.weight",
              "aux2.fc2.bias", "fc.weight"):
        assert k in keys, k
    names = [n for n, _ in net.named_children()]
    assert names[:5] == ["conv1", "maxpool1", "conv2", "conv3", "maxpool2"]
    assert names[-3:] == ["avgpool", "dropout", "fc"]


def test_shapes_and_aux_outputs():
    net = googlenet_tiny(num_classes=5)
    assert net(gradus.zeros(2, 3, 32, 32)).shape == (2, 5)
    aux = googlenet_tiny(num_classes=5, aux_logits=True)
    out = aux(gradus.zeros(2, 3, 64, 64))  # training mode: (logits, aux2, aux1)
    assert isinstance(out, GoogLeNetOutputs) and [o.shape for o in out] == [(2, 5)] * 3
    aux.eval()
    assert aux(gradus.zeros(2, 3, 64, 64)).shape == (2, 5)  # eval: the main logits only
    assert GoogLeNet(width_div=16, num_classes=3, in_channels=1)(gradus.zeros(2, 1, 32, 32)).shape == (2, 3)


def test_init_is_torchvisions_truncated_normal():
    # trunc_normal_(std=0.01, a=-2, b=2): the bounds are absolute, so in effect N(0, 0.01)
    w = googlenet_tiny().inception4a.branch2[1].conv.weight.numpy()
    assert abs(w.std() - 0.01) < 0.001 and abs(w.mean()) < 0.001


def test_overfit_one_small_batch_with_aux_losses():
    X = SeededInputs(0).tensor(8, 3, 64, 64)
    y = gradus.tensor(np.arange(8) % 4)
    net = googlenet_tiny(num_classes=4, aux_logits=True)

    def loss_with_aux(out, y):  # the paper: total loss = main + 0.3 * (aux1 + aux2)
        return F.cross_entropy(out.logits, y) + 0.3 * (F.cross_entropy(out.aux_logits1, y)
                                                       + F.cross_entropy(out.aux_logits2, y))

    # judged in training mode (batch statistics): 25 steps are too few for BN's running averages of
    # a 57-layer net to settle, which is what eval mode would use
    r = overfit_one_batch(net, X, y, steps=25, lr=3e-3, loss_fn=loss_with_aux, logits=lambda out: out.logits,
                          evaluate=False)
    assert r.train_accuracy == 1.0
    assert F.cross_entropy(r.output.logits, y).item() < 0.1  # the main loss of the last step
    assert all(p.grad is not None for p in net.aux1.parameters())  # the aux heads were trained too
