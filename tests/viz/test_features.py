"""Pictures of what CNNs learn: filters, feature maps (forward hooks) and Grad-CAM."""
import numpy as np
import pytest

import gradus
from gradus import nn
from gradus.models import lenet5_modern, resnet_tiny
from gradus.viz import features as V

PLUS = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], dtype=np.float32)
CROSS = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], dtype=np.float32)


class PatternNet(nn.Module):
    """A CNN whose answer we know: conv channel 0 fires only on a '+' and channel 1 only on an 'x'
    (+-1 template kernels, bias -4.5: only an exact 5-pixel match gets above 0); global average
    pooling of the ReLU maps gives class 0 = '+' evidence, class 1 = 'x' evidence. ``padding=0``
    makes the map 2 pixels smaller than the image (cell i is centred on pixel i + 1)."""

    def __init__(self, padding=1):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, padding=padding)
        self.relu = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2, 2)
        with gradus.no_grad():
            self.conv.weight.copy_(gradus.tensor(np.stack([2 * PLUS - 1, 2 * CROSS - 1])[:, None]))
            self.conv.bias.fill_(-4.5)
            self.fc.weight.copy_(gradus.eye(2))
            self.fc.bias.zero_()

    def forward(self, x):
        return self.fc(self.pool(self.relu(self.conv(x))).flatten(1))


def _scene():
    """16x16 image: a bright '+' centred at (4, 11) and a dimmer 'x' centred at (11, 4)."""
    img = np.zeros((16, 16), dtype=np.float32)
    img[3:6, 10:13] = 2.0 * PLUS
    img[10:13, 3:6] = 1.0 * CROSS
    return img


def _is_png(path):
    data = path.read_bytes()
    return data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000


def test_grad_cam_points_at_the_evidence_for_each_class():
    net = PatternNet()
    img = _scene()
    heat = V.grad_cam(net, img)  # predicted class: '+' (brighter, stronger evidence)
    assert heat.shape == (16, 16) and heat.dtype == np.float32
    assert heat.min() >= 0 and heat.max() == pytest.approx(1.0)
    assert np.unravel_index(heat.argmax(), heat.shape) == (4, 11)
    assert heat[8:, :8].max() < 0.05  # nothing where the 'x' is
    heat_x = V.grad_cam(net, img, target_class=1)
    assert np.unravel_index(heat_x.argmax(), heat_x.shape) == (11, 4)
    assert heat_x[:8, 8:].max() < 0.05


def test_grad_cam_places_a_shrunken_map_where_its_cells_look():
    # valid convolution: the 14x14 map's cell (3, 10) sees the '+' centred on pixel (4, 11); simply
    # stretching 14 cells over 16 pixels would put the peak elsewhere
    net = PatternNet(padding=0)
    heat = V.grad_cam(net, _scene())
    assert heat.shape == (16, 16)
    assert np.unravel_index(heat.argmax(), heat.shape) == (4, 11)
    stretched = V._resize_bilinear(V._grad_cam(net, _scene(), None, None)[5], 16, 16)
    assert np.unravel_index(stretched.argmax(), stretched.shape) != (4, 11)


def test_grad_cam_formula_against_a_direct_computation():
    net = resnet_tiny(num_classes=3)
    x = np.random.default_rng(0).normal(size=(1, 3, 32, 32)).astype(np.float32)
    layer = "layer2.0.conv2"  # (1, 8, 16, 16)
    heat = V.grad_cam(net, x, target_class=2, layer=layer)
    # the same thing by hand: retain the activation's gradient through a hook
    acts = {}
    h = net.get_submodule(layer).register_forward_hook(lambda m, i, o: acts.setdefault("A", o))
    net.eval()
    out = net(gradus.tensor(x))
    h.remove()
    A = acts["A"]
    A.retain_grad()
    out[0, 2].backward()
    alpha = A.grad.numpy()[0].mean((1, 2))
    cam = np.maximum((alpha[:, None, None] * A.numpy()[0]).sum(0), 0)
    assert cam.max() > 0
    raw = V._grad_cam(net, x, 2, layer)[5]
    np.testing.assert_allclose(raw, cam, rtol=1e-4, atol=1e-6)
    assert heat.shape == (32, 32) and heat.max() == pytest.approx(1.0)


@pytest.mark.oracle
def test_bilinear_upsampling_matches_torch_interpolate(torch):
    a = np.random.default_rng(0).normal(size=(5, 7)).astype(np.float32)
    ref = torch.nn.functional.interpolate(torch.from_numpy(a)[None, None], size=(20, 16), mode="bilinear",
                                          align_corners=False)[0, 0].numpy()
    np.testing.assert_allclose(V._resize_bilinear(a, 20, 16), ref, rtol=1e-5, atol=1e-5)


def test_grad_cam_leaves_the_model_untouched():
    net = resnet_tiny()
    net.train()
    V.grad_cam(net, np.zeros((3, 32, 32), np.float32))
    assert net.training
    assert all(p.grad is None for p in net.parameters())
    assert all(not m._forward_hooks for m in net.modules())


def test_grad_cam_default_layer_skips_1x1_maps():
    # LeNet's C5 output is 1x1 (no "where"): the default is the last conv with a real map, C3
    net = lenet5_modern()
    heat = V.grad_cam(net, np.random.default_rng(0).normal(size=(28, 28)).astype(np.float32))
    assert heat.shape == (28, 28)
    name = V._grad_cam(net, np.zeros((1, 1, 28, 28), np.float32), None, None)[3]
    assert name == "c3.0"
    with pytest.raises(KeyError, match="conv layers"):
        V.grad_cam(net, np.zeros((28, 28), np.float32), layer="nope")


def test_plot_filters(tmp_path):
    net = resnet_tiny()  # first conv: 4 filters of 3x3x3, drawn in colour
    p = V.plot_filters(net, tmp_path / "filters.png")
    assert _is_png(p)
    assert _is_png(V.plot_filters(lenet5_modern(), tmp_path / "lenet.png"))               # grey 5x5
    assert _is_png(V.plot_filters(net, tmp_path / "deep.png", layer="layer2.0.conv1"))    # 4 -> 8 channels
    assert _is_png(V.plot_filters(gradus.randn(10, 784), tmp_path / "mlp.png"))           # MLP rows, 28x28
    with pytest.raises(ValueError, match="h\\*h"):
        V.plot_filters(np.zeros((3, 10)), tmp_path / "bad.png")


def test_plot_feature_maps(tmp_path):
    net = lenet5_modern()
    img = np.random.default_rng(0).normal(size=(1, 28, 28)).astype(np.float32)
    p = V.plot_feature_maps(net, img, tmp_path / "maps.png")
    assert _is_png(p)
    p2 = V.plot_feature_maps(net, img, tmp_path / "some.png", layers=["c1", net.s2, "f6"])
    assert _is_png(p2)
    assert all(not m._forward_hooks for m in net.modules())
    import matplotlib.image

    h, w = matplotlib.image.imread(p2).shape[:2]
    assert w > h > 100  # 4 rows (input + 3 layers) of 16 maps


def test_plot_grad_cam(tmp_path):
    p = V.plot_grad_cam(PatternNet(), _scene(), tmp_path / "gradcam.png", class_names=["plus", "cross"])
    assert _is_png(p)
    rgb = resnet_tiny()
    x = np.random.default_rng(0).normal(size=(3, 32, 32))
    assert _is_png(V.plot_grad_cam(rgb, x, tmp_path / "rgb.png"))
