"""Layer behaviour that needs no oracle: argument validation and error messages, dtypes, modes,
seeding, the classic dropout convention, the perceptron's step unit."""
from __future__ import annotations

import numpy as np
import pytest

import gradus
import gradus.functional as F
from gradus import nn
from gradus.errors import ShapeError


def test_functional_aliases():
    import gradus.nn.functional as NF

    assert NF is gradus.functional is nn.functional
    assert F.relu is not None and F.cross_entropy is not None and F.linear is not None


def test_linear_defaults_dtype_and_bounds():
    lin = nn.Linear(100, 7)
    assert lin.weight.dtype == gradus.float32 and lin.weight.shape == (7, 100)
    assert np.abs(lin.weight.numpy()).max() <= 0.1 and np.abs(lin.bias.numpy()).max() <= 0.1
    assert nn.Linear(3, 2, dtype=gradus.float64).weight.dtype == gradus.float64
    assert nn.Linear(3, 2, bias=False).bias is None
    gradus.manual_seed(1)
    a = nn.Linear(4, 4).weight.numpy().copy()
    gradus.manual_seed(1)
    assert np.array_equal(a, nn.Linear(4, 4).weight.numpy())
    y = lin(gradus.zeros(2, 3, 100))
    assert y.shape == (2, 3, 7) and y.dtype == gradus.float32


def test_batchnorm_errors_and_modes():
    bn = nn.BatchNorm2d(3)
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input"):
        bn(gradus.zeros(3, 4, 4))
    with pytest.raises(ValueError, match="expected 3 channels"):
        bn(gradus.zeros(2, 4, 4, 4))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(gradus.zeros(1, 3))
    nn.BatchNorm1d(3).eval()(gradus.zeros(1, 3))  # fine in eval mode
    # eval uses the running estimates: a fresh layer is the identity (mean 0, var 1) up to eps
    x = gradus.randn(5, 3)
    np.testing.assert_allclose(nn.BatchNorm1d(3).eval()(x).numpy(), x.numpy() / np.sqrt(1 + 1e-5), rtol=1e-6)
    # training normalises each channel to mean 0, std 1
    y = nn.BatchNorm1d(3)(gradus.randn(256, 3) * 5 + 2).numpy()
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(y.std(0), 1, atol=1e-3)


def test_dropout_validation_and_classic_expectation():
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="mode"):
        nn.Dropout(0.5, mode="other")
    assert repr(nn.Dropout(0.2, mode="classic")) == "Dropout(p=0.2, inplace=False, mode='classic')"
    x = gradus.ones(100_000)
    # classic: train keeps units unscaled, eval multiplies by the keep probability -> same expectation
    d = nn.Dropout(0.25, mode="classic")
    train_mean = d(x).numpy().mean()
    d.eval()
    assert abs(train_mean - d(x).numpy().mean()) < 0.01
    assert nn.Dropout(1.0)(x).numpy().max() == 0
    assert F.dropout(x, 0.5, training=False) is x


def test_dropout_gradient_is_mask():
    x = gradus.ones(1000, requires_grad=True)
    y = F.dropout(x, 0.4)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.numpy())  # d y_i / d x_i = m_i / (1 - p)


def test_step_perceptron_unit():
    x = gradus.tensor([[-1.0, 0.0, 3.0]])
    assert nn.Heaviside is nn.Step
    assert F.step(x).tolist() == [[0.0, 1.0, 1.0]]
    assert repr(nn.Step(signed=True)) == "Step(signed=True)"


def test_embedding_errors():
    emb = nn.Embedding(5, 2)
    with pytest.raises(IndexError, match="index 5 is out of range for an embedding table of 5 rows"):
        emb(gradus.tensor([0, 5]))
    with pytest.raises(TypeError, match="integers"):
        emb(gradus.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(5, 2, padding_idx=7)


def test_softmax_implicit_dim_warns_like_pytorch():
    with pytest.warns(UserWarning, match="Implicit dimension"):
        y = nn.Softmax()(gradus.randn(2, 3))
    np.testing.assert_allclose(y.numpy().sum(1), 1, rtol=1e-6)


def test_loss_shape_and_reduction_errors():
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.mse_loss(gradus.zeros(2), gradus.zeros(2), reduction="avg")
    with pytest.warns(UserWarning, match="different from the input size"):
        F.mse_loss(gradus.zeros(4, 1), gradus.zeros(4))
    with pytest.raises(ShapeError, match="cannot be broadcast"):
        F.l1_loss(gradus.zeros(4), gradus.zeros(3))
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(gradus.tensor([1.5]), gradus.tensor([1.0]))
    with pytest.raises(ShapeError, match="same shape"):
        F.binary_cross_entropy_with_logits(gradus.zeros(3, 1), gradus.zeros(3))
    with pytest.raises(ShapeError, match=r"weight must have shape \(4,\)"):
        F.cross_entropy(gradus.zeros(2, 4), gradus.tensor([0, 1]), weight=gradus.ones(3))
    with pytest.raises(TypeError, match="class-index targets must be integers"):
        F.cross_entropy(gradus.zeros(2, 4), gradus.tensor([0.0, 1.0]))
    # mean over nothing (all targets ignored) is NaN, as PyTorch
    assert np.isnan(F.cross_entropy(gradus.zeros(2, 3), gradus.tensor([-100, -100])).item())


def test_cross_entropy_float32_output_and_stability():
    x = gradus.tensor([[1e30, 0.0], [0.0, -1e30]], requires_grad=True)
    loss = F.cross_entropy(x, gradus.tensor([1, 0]))
    assert loss.dtype == gradus.float32 and loss.ndim == 0 and np.isfinite(loss.item())
    loss.backward()
    assert np.all(np.isfinite(x.grad.numpy()))
