"""LeNet-5 as published (LeCun et al. 1998) and its modern variant: structure, parameter counts, the
C3 connection table, the RBF output, shapes, overfitting one batch, and MNIST accuracy."""
import time

import numpy as np
import pytest

import gradus
import gradus.functional as F
from gradus import nn, optim
from gradus.errors import ShapeError
from gradus.models import lenet as L
from gradus.models import lenet5, lenet5_modern
from tests.helpers import SeededInputs, overfit_one_batch


# ------------------------------------------------------------------------------------------ structure
def test_published_layer_sizes_and_paper_parameter_count():
    net = lenet5()
    x = gradus.randn(2, 1, 32, 32)
    sizes = []
    for name in ("c1", "s2", "c3", "s4", "c5"):
        x = getattr(net, name)(x)
        sizes.append(tuple(x.shape[1:]))
    assert sizes == [(6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 5, 5), (120, 1, 1)]
    per_layer = {n: sum(p.numel() for p in getattr(net, n).parameters()) for n in ("c1", "s2", "c5", "f6")}
    assert per_layer == {"c1": 156, "s2": 12, "c5": 48120, "f6": 10164}  # the paper's counts
    assert sum(p.numel() for p in net.s4.parameters()) == 32
    # C3 holds a full (16, 6, 5, 5) weight, of which the 60 connections of Table I are live: 1,516
    assert int((net.c3[0].weight.numpy() != 0).sum()) == 60 * 25
    assert net.num_paper_parameters() == 60000  # "about 60,000 free parameters", exactly
    # the RBF prototypes are a fixed buffer, not trainable
    assert "output.weight" in net.state_dict()
    assert all(not n.startswith("output") for n, _ in net.named_parameters())


def test_c3_connection_table_is_table_one():
    mask = L.c3_connection_mask()
    assert mask.shape == (16, 6) and mask.sum() == 60
    # Table I of the paper, row by row (S2 map i -> the C3 maps it feeds)
    rows = {0: [0, 4, 5, 6, 9, 10, 11, 12, 14, 15], 1: [0, 1, 5, 6, 7, 10, 11, 12, 13, 15],
            2: [0, 1, 2, 6, 7, 8, 11, 13, 14, 15], 3: [1, 2, 3, 6, 7, 8, 9, 12, 14, 15],
            4: [2, 3, 4, 7, 8, 9, 10, 12, 13, 15], 5: [3, 4, 5, 8, 9, 10, 11, 13, 14, 15]}
    for i, cols in rows.items():
        assert np.flatnonzero(mask[:, i]).tolist() == cols
    assert mask.sum(1).tolist() == [3] * 6 + [4] * 9 + [6]


def test_masked_c3_entries_get_zero_gradient_and_stay_zero():
    net = lenet5()
    opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3)
    X, y = gradus.randn(4, 1, 28, 28), gradus.tensor([0, 1, 2, 3])
    for _ in range(2):
        opt.zero_grad()
        F.cross_entropy(net(X), y).backward()
        opt.step()
    dead = L.c3_connection_mask() == 0  # (16, 6)
    assert np.all(net.c3[0].weight.grad.numpy()[dead] == 0)
    assert np.all(net.c3[0].weight.numpy()[dead] == 0)
    assert np.any(net.c3[0].weight.grad.numpy()[~dead] != 0)


def test_scaled_tanh_and_subsampling_formulas():
    f = L.ScaledTanh()
    x = np.array([-1.0, 0.0, 1.0, 3.0], dtype=np.float32)
    np.testing.assert_allclose(f(gradus.tensor(x)).numpy(), 1.7159 * np.tanh(2 * x / 3), rtol=1e-6)
    assert abs(f(gradus.tensor(1.0)).item() - 1.0) < 1e-4  # f(1) = 1, the reason for A and S
    s = L.Subsampling(3)
    with gradus.no_grad():
        s.weight.copy_(gradus.tensor([0.5, -1.0, 2.0]))
        s.bias.copy_(gradus.tensor([0.1, 0.2, 0.3]))
    x = SeededInputs(0).array(2, 3, 4, 6)
    want = x.reshape(2, 3, 2, 2, 3, 2).sum((3, 5)) * np.array([0.5, -1.0, 2.0])[:, None, None] \
        + np.array([0.1, 0.2, 0.3])[:, None, None]
    np.testing.assert_allclose(s(gradus.tensor(x)).numpy(), want, rtol=1e-5, atol=1e-6)


def test_rbf_output_is_minus_squared_distance_to_fixed_prototypes():
    net = lenet5()
    protos = net.output.weight.numpy()
    assert protos.shape == (10, 84) and set(np.unique(protos)) == {-1.0, 1.0}
    gradus.manual_seed(123)
    assert np.array_equal(lenet5().output.weight.numpy(), protos)  # the code book does not depend on the seed
    assert len({tuple(p) for p in protos}) == 10
    x = gradus.randn(3, 1, 28, 28)
    with gradus.no_grad():
        h = net.f6(net.c5(net.s4(net.c3(net.s2(net.c1(F.pad(x, (2, 2, 2, 2))))))).flatten(1)).numpy()
        logits = net(x).numpy()
    want = -((h[:, None, :] - protos[None]) ** 2).sum(-1)
    np.testing.assert_allclose(logits, want, rtol=1e-4, atol=1e-3)


def test_map_loss_is_cross_entropy_with_a_rubbish_class():
    logits = gradus.tensor([[-3.0, -10.0, -1.0], [-0.5, -2.0, -7.0]])
    y = gradus.tensor([2, 1])
    yv = -logits.numpy()
    j = 4.0
    want = np.mean([yv[p, t] + np.log(np.exp(-j) + np.exp(-yv[p]).sum()) for p, t in enumerate([2, 1])])
    assert abs(L.map_loss(logits, y, j=j).item() - want) < 1e-5
    assert abs(L.map_loss(logits, y, j=1e4).item() - F.cross_entropy(logits, y).item()) < 1e-5


def test_shapes_padding_and_errors():
    for make in (lenet5, lenet5_modern):
        net = make()
        assert net(gradus.zeros(5, 1, 28, 28)).shape == (5, 10)
        assert net(gradus.zeros(5, 1, 32, 32)).shape == (5, 10)
        with pytest.raises(ShapeError, match="32x32"):
            net(gradus.zeros(1, 1, 36, 36))
    assert lenet5(num_classes=26)(gradus.zeros(1, 1, 28, 28)).shape == (1, 26)
    assert lenet5_modern(in_channels=3)(gradus.zeros(2, 3, 32, 32)).shape == (2, 10)
    with pytest.raises(ValueError, match="pooling"):
        lenet5(pooling="median")


def test_modern_variant_structure():
    net = lenet5_modern()
    assert sum(p.numel() for p in net.parameters()) == 61706
    assert isinstance(net.s2, nn.MaxPool2d) and isinstance(net.output, nn.Linear)
    assert isinstance(net.c3[0], nn.Conv2d) and not isinstance(net.c3[0], L.MaskedConv2d)
    assert isinstance(net.c1[1], nn.ReLU)


def test_init_schemes():
    for init, bound in (("paper", 2.4 / 25), ("lecun", np.sqrt(3 / 25))):
        w = lenet5(init=init).c1[0].weight.numpy()
        assert np.abs(w).max() <= bound + 1e-7 and np.abs(w).max() > 0.8 * bound
    with pytest.raises(ValueError, match="init"):
        lenet5(init="xavier")


@pytest.mark.parametrize("make", [lenet5, lenet5_modern])
def test_overfit_one_small_batch(make):
    X = SeededInputs(0).tensor(16, 1, 28, 28)
    y = gradus.tensor(np.arange(16) % 10)
    r = overfit_one_batch(make(), X, y, steps=60)
    assert r.eval_accuracy == 1.0 and r.last_loss < 0.1, r


# --------------------------------------------------------------------------------------------- MNIST
def _mnist(shared_data):
    from gradus.data.datasets.mnist import load_mnist_arrays

    X, y = load_mnist_arrays(root=shared_data, train=True, flatten=False, standardize=True)
    Xt, yt = load_mnist_arrays(root=shared_data, train=False, flatten=False, standardize=True)
    return X, y, Xt, yt


def _train_one_pass(net, X, y, n, batch_size, lr):
    """Adam over a seeded sample of ``n`` training images, lr decayed linearly to 0."""
    opt = optim.Adam(net.parameters(), lr=lr)
    order = np.random.default_rng(0).permutation(len(X))[:n]
    steps = -(-n // batch_size)
    net.train()
    for k, i in enumerate(range(0, n, batch_size)):
        for g in opt.param_groups:
            g["lr"] = lr * (1 - k / steps)
        idx = order[i:i + batch_size]
        loss = F.cross_entropy(net(gradus.tensor(X[idx])), gradus.tensor(y[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()


def _accuracy(net, Xt, yt):
    net.eval()
    with gradus.no_grad():
        pred = np.concatenate([net(gradus.tensor(Xt[i:i + 1000])).numpy().argmax(1)
                               for i in range(0, len(Xt), 1000)])
    return float((pred == yt).mean())


@pytest.mark.slow  # ~30 s on an idle CPU (one pass over 40,000 images), more on a shared one
def test_lenet5_modern_reaches_98_percent_on_mnist(shared_data):
    # measured: 98.21% (98.12% after 30,000 images)
    X, y, Xt, yt = _mnist(shared_data)
    net = lenet5_modern()
    t0 = time.perf_counter()
    _train_one_pass(net, X, y, n=40000, batch_size=64, lr=5e-3)
    acc = _accuracy(net, Xt, yt)
    print(f"lenet5_modern: test accuracy {acc:.4f} after 40,000 images ({time.perf_counter() - t0:.0f} s)")
    assert acc >= 0.98


@pytest.mark.slow  # ~27 s on an idle CPU; the tanh / subsampling / RBF network learns more slowly
def test_lenet5_published_learns_mnist(shared_data):
    # One pass over 30,000 images: 96.11% measured (96.1% in the PyTorch twin of this code); the
    # paper's 99% takes ~20 epochs (the mnist-lenet5 recipe; 99.01% in the PyTorch twin).
    X, y, Xt, yt = _mnist(shared_data)
    net = lenet5()
    t0 = time.perf_counter()
    _train_one_pass(net, X, y, n=30000, batch_size=64, lr=3e-3)
    acc = _accuracy(net, Xt, yt)
    print(f"lenet5 (published): test accuracy {acc:.4f} after 30,000 images "
          f"({time.perf_counter() - t0:.0f} s)")
    assert acc >= 0.95
