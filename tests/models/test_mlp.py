"""gradus.models.mlp: the MLP module, its presets, and small trainings (XOR, one batch, spam)."""
import numpy as np
import pytest

import gradus
from gradus import functional as F
from gradus import nn, optim
from gradus.errors import ShapeError
from gradus.models.mlp import (
    ACTIVATIONS,
    MLP,
    binary_logit_loss,
    digits_mlp,
    mnist_dmlp,
    mnist_mlp,
    spam_mlp,
    spiral_mlp,
    xor_mlp,
)


def n_params(net):
    return sum(p.numel() for p in net.parameters())


def test_mlp_shapes_and_flattening():
    net = MLP([12, 20, 7, 5])
    assert net(gradus.randn(3, 12)).shape == (3, 5)
    assert net(gradus.randn(3, 3, 2, 2)).shape == (3, 5)        # (B, C, H, W) is flattened to (B, 12)
    assert [tuple(layer.weight.shape) for layer in net.layers] == [(20, 12), (7, 20), (5, 7)]  # [out, in]
    assert list(net.state_dict()) == ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
                                      "layers.2.weight", "layers.2.bias"]
    with pytest.raises(ShapeError, match="expected 12 input features"):
        net(gradus.randn(3, 11))


@pytest.mark.parametrize("factory,count", [
    (mnist_mlp, 1_796_010),                 # 785*1000 + 1001*1000 + 1001*10
    (mnist_dmlp, 11_972_510),               # 785*2500 + 2501*2000 + 2001*1500 + 1501*1000 + 1001*500 + 501*10
    (xor_mlp, 9),
    (spiral_mlp, 10_703),
    (digits_mlp, 9_610),
    (lambda: spam_mlp(2000), 128_194),
])
def test_preset_parameter_counts(factory, count):
    net = factory()
    assert n_params(net) == count
    sizes = net.sizes
    assert n_params(net) == sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))


def test_presets_sizes():
    assert mnist_mlp().sizes == (784, 1000, 1000, 10)
    assert mnist_dmlp.__doc__ and "784-2500-2000-1500-1000-500-10" in mnist_dmlp.__doc__
    assert isinstance(xor_mlp().act, nn.Sigmoid)
    assert spam_mlp(300).sizes == (300, 64, 2)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_every_activation_builds(name):
    net = MLP([4, 6, 3], activation=name)
    assert net(gradus.randn(2, 4)).shape == (2, 3)


def test_bad_arguments_are_explained():
    with pytest.raises(ValueError, match="unknown activation 'rleu'"):
        MLP([4, 3], activation="rleu")
    with pytest.raises(ValueError, match="sizes"):
        MLP([4])
    with pytest.raises(ValueError, match="dropout"):
        MLP([4, 3], dropout=1.0)


def test_output_activation_and_dropout_modes():
    net = MLP([5, 16, 4], dropout=0.5, output_activation="softmax")
    X = gradus.randn(8, 5)
    net.eval()
    p1, p2 = net(X).numpy(), net(X).numpy()
    np.testing.assert_allclose(p1.sum(1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(p1, p2)                          # eval: dropout is off
    net.train()
    assert not np.array_equal(net(X).numpy(), net(X).numpy())      # train: random masks


def test_batch_norm_variant():
    net = MLP([5, 16, 16, 3], batch_norm=True)
    assert net.layers[0].bias is None and net.layers[-1].bias is not None
    assert len(net.norms) == 2
    out = net(gradus.randn(10, 5))
    assert out.shape == (10, 3)
    net.eval()
    assert np.isfinite(net(gradus.randn(1, 5)).numpy()).all()     # running statistics in eval mode


def test_xor_mlp_solves_xor():
    from gradus.data.datasets import logic_gate

    X, y = logic_gate("xor")
    gradus.manual_seed(0)
    net = xor_mlp()
    opt = optim.SGD(net.parameters(), lr=1.0, momentum=0.9)      # the xor-mlp recipe's settings
    X_t, y_t = gradus.tensor(X), gradus.tensor(y)
    for _ in range(300):
        loss = binary_logit_loss(net(X_t), y_t)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.05
    assert ((net(X_t).numpy()[:, 0] > 0) == y).all()              # 100% on the truth table


def test_mlp_overfits_one_small_batch():
    from gradus.data.datasets import load_digits_arrays
    from tests.helpers import overfit_one_batch

    X, y = load_digits_arrays(train=True)
    X, y = gradus.tensor(X[:32]), gradus.tensor(y[:32])
    r = overfit_one_batch(digits_mlp(), X, y, steps=100, lr=0.01)  # no dropout: eval mode == train mode
    assert r.last_loss < 0.01
    assert r.eval_accuracy == 1.0


def test_spam_mlp_on_a_subset(shared_data):
    from gradus.data import TensorDataset
    from gradus.recipes.datasets import build_dataset
    from gradus.train import Trainer
    from gradus.train.metrics import confusion_matrix, precision_recall_f1

    bundle = build_dataset("spam", root=shared_data, max_features=500)
    X, y = bundle.train.arrays
    Xt, yt = bundle.test.arrays
    idx = np.random.default_rng(0).permutation(len(X))[:1500]
    gradus.manual_seed(0)
    net = spam_mlp(500, hidden=32)
    trainer = Trainer(net, optim.Adam(net.parameters(), lr=0.003), "cross_entropy", seed=0)
    trainer.fit(TensorDataset(X[idx], y[idx]), epochs=4, batch_size=32)
    net.eval()
    with gradus.no_grad():
        scores = net(gradus.tensor(Xt)).numpy()
    acc = float((scores.argmax(1) == yt).mean())
    prf = precision_recall_f1(confusion_matrix(yt, scores, num_classes=2))
    print(f"spam subset: accuracy {acc:.4f}, spam precision {prf['precision'][1]:.4f}, "
          f"recall {prf['recall'][1]:.4f}")
    assert acc >= 0.96
    assert prf["precision"][1] >= 0.9 and prf["recall"][1] >= 0.75     # spam is class 1


@pytest.mark.oracle
def test_mlp_matches_torch(torch):
    net = MLP([6, 5, 4, 3], activation="tanh").double()
    ref = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Tanh(), torch.nn.Linear(5, 4), torch.nn.Tanh(),
                              torch.nn.Linear(4, 3)).double()
    keys = {f"layers.{i}.{k}": f"{2 * i}.{k}" for i in range(3) for k in ("weight", "bias")}
    ref.load_state_dict({keys[k]: torch.from_numpy(v.numpy().copy()) for k, v in net.state_dict().items()})
    X = np.random.default_rng(0).standard_normal((7, 6))
    y = np.array([0, 1, 2, 0, 1, 2, 0])
    loss = F.cross_entropy(net(gradus.tensor(X)), gradus.tensor(y))
    loss.backward()
    ref_loss = torch.nn.functional.cross_entropy(ref(torch.from_numpy(X)), torch.from_numpy(y))
    ref_loss.backward()
    assert loss.item() == pytest.approx(ref_loss.item(), rel=1e-10)
    for k, p in net.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), dict(ref.named_parameters())[keys[k]].grad.numpy(),
                                   rtol=1e-8, atol=1e-12)
    assert net(gradus.randn(6, dtype=gradus.float64)).shape == (3,)     # a single unbatched sample
