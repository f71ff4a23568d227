"""Autoencoders: shapes, the corruption and the denoising flag, overfitting a small batch (FC, conv,
VAE), the analytic KL against a Monte-Carlo estimate, the ELBO against its formula, and the ELBO's
gradient against float64 central differences on a tiny VAE with fixed noise."""
from __future__ import annotations

import math

import numpy as np
import pytest

import gradus
from gradus import optim
from gradus.autograd import gradcheck
from gradus.errors import ShapeError
from gradus.models.autoencoder import (
    ELBO,
    VAE,
    Autoencoder,
    AutoencoderConfig,
    ConvAutoencoder,
    corrupt,
    gaussian_kl,
)


def _patterns(n=16, side=8, seed=0):
    """n binary side x side images: a random bar pattern each (structured, so a small code suffices)."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 1, side, side), dtype=np.float32)
    for i in range(n):
        x[i, 0, rng.integers(side), :] = 1                                   # one row
        x[i, 0, :, rng.integers(side)] = 1                                   # one column
    return gradus.tensor(x)


def _bce(logits, x):
    """-log Bernoulli(x; sigmoid(a)) per example, summed over pixels (float64 NumPy)."""
    a, x = logits.reshape(len(logits), -1).astype(np.float64), x.reshape(len(x), -1).astype(np.float64)
    return (np.logaddexp(0, a) - x * a).sum(1)


# ----------------------------------------------------------------------------- shapes
def test_shapes():
    gradus.manual_seed(0)
    x = gradus.rand(3, 1, 28, 28)
    ae = Autoencoder(hidden=(32, 16), latent_dim=4)
    assert ae.encode(x).shape == (3, 4) and ae(x).shape == (3, 1, 28, 28)
    assert [m.out_features for m in ae.encoder if hasattr(m, "out_features")] == [32, 16, 4]
    assert [m.out_features for m in ae.decoder if hasattr(m, "out_features")] == [16, 32, 784]
    r = ae(x).numpy()
    assert r.min() > 0 and r.max() < 1                                     # bce: sigmoid output
    mse = Autoencoder(input_shape=(5,), hidden=(3,), latent_dim=2, loss="mse")
    v = gradus.randn(7, 5)
    assert mse(v).shape == (7, 5)
    np.testing.assert_allclose(mse(v).numpy(), mse.decode_logits(mse.encode(v)).numpy())   # linear output
    want = ((mse(v).numpy() - v.numpy()) ** 2).sum(1).mean()                # squared error per example
    assert mse.loss(v).item() == pytest.approx(want, rel=1e-5)
    conv = ConvAutoencoder(latent_dim=6)
    assert conv.encode(x).shape == (3, 6) and conv(x).shape == (3, 1, 28, 28)
    assert [m.out_channels for m in conv.encoder if hasattr(m, "out_channels")] == [16, 32]
    big = ConvAutoencoder(input_shape=(3, 32, 32), channels=(4, 8, 16), latent_dim=5)
    assert big(gradus.rand(2, 3, 32, 32)).shape == (2, 3, 32, 32)
    vae = VAE(hidden=(16,), latent_dim=3)
    logits, mu, logvar = vae(x)
    assert logits.shape == (3, 1, 28, 28) and mu.shape == logvar.shape == (3, 3)
    assert vae.sample(5).shape == (5, 1, 28, 28) and vae.reconstruct(x).shape == (3, 1, 28, 28)
    assert vae.decode(mu).shape == (3, 1, 28, 28)


def test_config_errors():
    with pytest.raises(ShapeError, match="divisible by 8"):
        ConvAutoencoder(input_shape=(1, 28, 28), channels=(4, 8, 16))
    with pytest.raises(ShapeError, match="expected inputs of shape"):
        Autoencoder(hidden=(4,), latent_dim=2)(gradus.rand(2, 1, 8, 8))
    with pytest.raises(ValueError, match="'bce' or 'mse'"):
        Autoencoder(loss="l1")
    with pytest.raises(ValueError, match="Bernoulli"):
        VAE(loss="mse")
    with pytest.raises(TypeError, match="unknown option"):
        VAE(latent=3)
    cfg = AutoencoderConfig()
    Autoencoder(cfg, latent_dim=3)
    assert cfg.latent_dim == 32                                            # the caller's config untouched


# ----------------------------------------------------------------------------- denoising
def test_corrupt_masking_and_gaussian_noise():
    x = gradus.ones(200, 500)
    m = corrupt(x, drop_prob=0.3, generator=np.random.default_rng(0)).numpy()
    assert set(np.unique(m)) == {0.0, 1.0}                                 # zeroed, not rescaled
    assert (m == 0).mean() == pytest.approx(0.3, abs=0.005)
    g = corrupt(x, noise_std=0.2, generator=np.random.default_rng(0)).numpy() - 1
    assert g.mean() == pytest.approx(0.0, abs=0.002) and g.std() == pytest.approx(0.2, rel=0.01)
    both = corrupt(x, noise_std=0.2, drop_prob=0.5, generator=np.random.default_rng(1))
    again = corrupt(x, noise_std=0.2, drop_prob=0.5, generator=np.random.default_rng(1))
    np.testing.assert_array_equal(both.numpy(), again.numpy())             # reproducible from a generator
    assert corrupt(x) is x


def test_denoising_flag_corrupts_in_training_only_and_targets_the_clean_input():
    gradus.manual_seed(0)
    x = _patterns(6)
    ae = Autoencoder(input_shape=(1, 8, 8), hidden=(16,), latent_dim=4, denoising=True, drop_prob=0.5,
                     noise_std=0.1)
    ae.eval()
    np.testing.assert_array_equal(ae(x).numpy(), ae(x).numpy())            # eval: clean, deterministic
    plain = Autoencoder(input_shape=(1, 8, 8), hidden=(16,), latent_dim=4)
    plain.load_state_dict(ae.state_dict())
    np.testing.assert_allclose(ae(x).numpy(), plain(x).numpy())
    ae.train()
    loss = ae.loss(x, generator=np.random.default_rng(5)).item()
    x_tilde = corrupt(x, 0.1, 0.5, np.random.default_rng(5))
    want = _bce(ae.decode_logits(ae.encode(x_tilde)).numpy(), x.numpy()).mean()   # against the clean x
    assert loss == pytest.approx(want, rel=1e-5)
    assert not np.allclose(ae(x, generator=np.random.default_rng(5)).numpy(), plain(x).numpy())

    # a corruption drawn by the caller (a global batch's, sliced per process): no second draw
    assert ae.loss(x, corrupted=x_tilde).item() == pytest.approx(want, rel=1e-5)
    g = np.random.default_rng(9)
    ae.loss(x, generator=g, corrupted=x_tilde)
    assert g.random() == np.random.default_rng(9).random(), "corrupted= must not draw from the generator"
    with pytest.raises(ShapeError, match=r"Autoencoder.loss: corrupted has shape \(3, 1, 8, 8\) but x has "
                                         r"\(6, 1, 8, 8\)"):
        ae.loss(x, corrupted=x_tilde[:3])


# ----------------------------------------------------------------------------- overfitting
def _fit(model, x, steps, lr, seed=0):
    gradus.manual_seed(seed)
    opt = optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = model.loss(x)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("make", [
    lambda: Autoencoder(input_shape=(1, 8, 8), hidden=(64,), latent_dim=8),
    lambda: Autoencoder(input_shape=(1, 8, 8), hidden=(64,), latent_dim=8, denoising=True, drop_prob=0.1),
    lambda: ConvAutoencoder(input_shape=(1, 8, 8), channels=(16, 32), latent_dim=8),
], ids=["fc", "denoising", "conv"])
def test_autoencoders_overfit_a_small_batch(make):
    gradus.manual_seed(0)
    model = make()
    x = _patterns(16)
    losses = _fit(model, x, steps=300, lr=1e-2)
    model.eval()
    final = model.loss(x).item()                                           # clean input
    assert final < 0.1 * losses[0], (losses[0], final)                     # nats per example: ~44 at first
    assert ((model(x).numpy() > 0.5) == (x.numpy() > 0.5)).mean() > 0.99    # pixels reproduced


def test_vae_overfits_a_small_batch():
    gradus.manual_seed(0)
    vae = VAE(input_shape=(1, 8, 8), hidden=(64,), latent_dim=4)
    x = _patterns(16)
    first = vae.elbo(x).reconstruction.item()
    _fit(vae, x, steps=400, lr=1e-2)
    out = vae.elbo(x)
    assert out.reconstruction.item() < 0.3 * first                          # reconstruction error falls
    assert out.kl.item() > 1.0                                              # the code is used
    assert out.elbo.item() > -(0.5 * first)


# ----------------------------------------------------------------------------- the ELBO
def test_kl_formula_against_monte_carlo():
    rng = np.random.default_rng(0)
    mu, logvar = rng.normal(size=(3, 4)), rng.normal(scale=0.7, size=(3, 4))
    kl = gaussian_kl(gradus.tensor(mu), gradus.tensor(logvar)).numpy()
    assert kl.shape == (3,)
    sigma = np.exp(0.5 * logvar)
    z = mu + sigma * rng.standard_normal((200_000, 3, 4))                  # z ~ q(z | x)
    log_q = (-0.5 * ((z - mu) / sigma) ** 2 - np.log(sigma) - 0.5 * math.log(2 * math.pi)).sum(-1)
    log_p = (-0.5 * z ** 2 - 0.5 * math.log(2 * math.pi)).sum(-1)
    diff = log_q - log_p                                                    # E_q[log q - log p] = KL
    se = diff.std(0) / math.sqrt(len(diff))
    assert np.all(np.abs(diff.mean(0) - kl) < 4 * se), (diff.mean(0), kl, se)
    assert gaussian_kl(gradus.zeros(2, 5), gradus.zeros(2, 5)).numpy() == pytest.approx([0, 0])  # q = p


def test_elbo_equals_its_formula_in_nats_per_example():
    gradus.manual_seed(1)
    vae = VAE(input_shape=(6,), hidden=(5,), latent_dim=2).double()
    rng = np.random.default_rng(2)
    x = gradus.tensor((rng.random((4, 6)) < 0.5).astype(np.float64))
    eps = gradus.tensor(rng.standard_normal((4, 2)))
    out = vae.elbo(x, eps=eps)
    assert isinstance(out, ELBO)
    mu, logvar = (t.numpy() for t in vae.encode(x))
    z = mu + np.exp(0.5 * logvar) * eps.numpy()                             # reparameterisation
    np.testing.assert_allclose(vae.reparameterize(*vae.encode(x), eps=eps).numpy(), z, rtol=1e-12)
    rec = _bce(vae.decode_logits(gradus.tensor(z)).numpy(), x.numpy())
    kl = -0.5 * (1 + logvar - mu ** 2 - np.exp(logvar)).sum(1)
    assert out.reconstruction.item() == pytest.approx(rec.mean(), rel=1e-10)
    assert out.kl.item() == pytest.approx(kl.mean(), rel=1e-10)
    assert out.elbo.item() == pytest.approx(-(rec + kl).mean(), rel=1e-10)
    assert vae.loss(x, eps=eps).item() == pytest.approx(-out.elbo.item(), rel=1e-12)
    # per example: the batch's ELBO is the mean of the examples' ELBOs (nats per example, not per batch)
    each = [vae.elbo(x[i:i + 1], eps=eps[i:i + 1]).elbo.item() for i in range(4)]
    assert out.elbo.item() == pytest.approx(np.mean(each), rel=1e-10)


def test_elbo_gradient_against_central_differences():
    """d ELBO / d (every parameter, and the input) with eps fixed: a deterministic float64 function."""
    gradus.manual_seed(3)
    vae = VAE(input_shape=(5,), hidden=(4,), latent_dim=2).double()
    rng = np.random.default_rng(4)
    x = gradus.tensor(rng.random((3, 5)), requires_grad=True)              # grey levels: BCE still smooth
    eps = gradus.tensor(rng.standard_normal((3, 2)))
    params = list(vae.parameters())
    assert gradcheck(lambda *_: vae.elbo(x, eps=eps).elbo, params, eps=1e-6, atol=1e-7, rtol=1e-5)
    assert gradcheck(lambda x_: vae.elbo(x_, eps=eps).elbo, (x,), eps=1e-6, atol=1e-7, rtol=1e-5)
    # the terms separately too: the reparameterised reconstruction and the analytic KL
    assert gradcheck(lambda *_: vae.elbo(x, eps=eps)[1:], params, eps=1e-6, atol=1e-7, rtol=1e-5)
