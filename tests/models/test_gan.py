"""GANs: the two losses against their formulas, the non-saturating loss's larger gradient where D
rejects the samples, MLP and DCGAN shapes and initialisation, ``gan_step``'s order of updates and
modes, and a tiny 1-D GAN that moves its samples to the target's mean."""
from __future__ import annotations

import math

import numpy as np
import pytest

import gradus
from gradus import optim
from gradus.errors import ShapeError
from gradus.models.gan import (
    DCGANDiscriminator,
    DCGANGenerator,
    GANConfig,
    MLPDiscriminator,
    MLPGenerator,
    discriminator_loss,
    gan_step,
    generator_loss,
)

SMALL = GANConfig(latent_dim=8, g_hidden=(16, 32), d_hidden=(32, 16), g_channels=4, d_channels=4)


def _log_sigmoid(x):
    return -np.logaddexp(0.0, -x)                       # log sigmoid(x), stable


# ----------------------------------------------------------------------------- the objective
def test_losses_equal_their_formulas():
    rng = np.random.default_rng(0)
    lr, lf = rng.normal(1, 2, size=7), rng.normal(-1, 2, size=5)        # D's logits: real, fake
    d_real, d_fake = 1 / (1 + np.exp(-lr)), 1 / (1 + np.exp(-lf))
    real, fake = gradus.tensor(lr), gradus.tensor(lf)
    # -(E log D(x) + E log(1 - D(G(z))))
    want = -(np.log(d_real).mean() + np.log(1 - d_fake).mean())
    assert discriminator_loss(real, fake).item() == pytest.approx(want, rel=1e-12)
    assert generator_loss(fake).item() == pytest.approx(-np.log(d_fake).mean(), rel=1e-12)
    assert generator_loss(fake, non_saturating=False).item() == pytest.approx(np.log(1 - d_fake).mean(),
                                                                             rel=1e-12)
    # the equilibrium D = 1/2 everywhere: 2 log 2
    half = gradus.zeros(4, dtype=gradus.float64)
    assert discriminator_loss(half, half).item() == pytest.approx(2 * math.log(2), rel=1e-12)
    # stable at any logit (BCE with logits: no log(0))
    big = gradus.tensor(np.array([-60.0, 60.0]))
    for v in (discriminator_loss(big, big), generator_loss(big), generator_loss(big, False)):
        assert np.isfinite(v.item())
    assert generator_loss(big).item() == pytest.approx(-_log_sigmoid(np.array([-60.0, 60.0])).mean())


def test_non_saturating_gradient_is_larger_where_d_rejects_the_samples():
    logits = np.array([-9.0, -8.0, -7.0, -10.0])                 # D(G(z)) ~ 1e-4: G is losing
    B = logits.size
    grads = {}
    for ns in (True, False):
        lf = gradus.tensor(logits, requires_grad=True)
        generator_loss(lf, non_saturating=ns).backward()
        grads[ns] = lf.grad.numpy()
    s = 1 / (1 + np.exp(-logits))
    np.testing.assert_allclose(grads[True], -(1 - s) / B, rtol=1e-10)   # -(1 - D) per logit: ~ -1/B
    np.testing.assert_allclose(grads[False], -s / B, rtol=1e-10)        # -D per logit: vanishes
    assert np.all(np.abs(grads[True]) > 1000 * np.abs(grads[False]))
    # both push the logits up (G wants D fooled), and agree at D = 1/2
    assert np.all(grads[True] < 0) and np.all(grads[False] < 0)
    for ns in (True, False):
        lf = gradus.zeros(3, dtype=gradus.float64, requires_grad=True)
        generator_loss(lf, non_saturating=ns).backward()
        np.testing.assert_allclose(lf.grad.numpy(), -0.5 / 3, rtol=1e-12)


# ----------------------------------------------------------------------------- the models
def test_mlp_shapes_and_layers():
    gradus.manual_seed(0)
    G, D = MLPGenerator(SMALL), MLPDiscriminator(SMALL)
    z = gradus.randn(5, 8)
    x = G(z)
    assert x.shape == (5, 1, 28, 28) and D(x).shape == (5,)
    assert x.numpy().min() > -1 and x.numpy().max() < 1                     # tanh output
    assert G.net[0].in_features == 8 and G.net[-2].out_features == 784
    assert D.net[0].in_features == 784 and D.net[-1].out_features == 1
    assert G.net[1].negative_slope == 0.2 and D.net[1].negative_slope == 0.2
    flat = GANConfig(latent_dim=3, data_shape=(2,), g_hidden=(4,), d_hidden=(4,), tanh_output=False)
    assert MLPGenerator(flat)(gradus.randn(6, 3)).shape == (6, 2)
    assert MLPDiscriminator(flat)(gradus.randn(6, 2)).shape == (6,)
    assert not any(type(m).__name__ == "Tanh" for m in MLPGenerator(flat).modules())


@pytest.mark.parametrize("size, maps", [(28, [8, 4]), (32, [16, 8, 4])])
def test_dcgan_shapes(size, maps):
    cfg = GANConfig(latent_dim=8, data_shape=(1, size, size), g_channels=4, d_channels=4)
    G, D = DCGANGenerator(cfg), DCGANDiscriminator(cfg)
    x = G(gradus.randn(3, 8))
    assert x.shape == (3, 1, size, size) and D(x).shape == (3,)
    convt = [m for m in G.modules() if type(m).__name__ == "ConvTranspose2d"]
    assert [m.out_channels for m in convt] == maps + [1]
    assert convt[0].kernel_size == ((7, 7) if size == 28 else (4, 4))           # project and reshape
    assert sum(type(m).__name__ == "BatchNorm2d" for m in G.modules()) == len(maps)   # not the output
    convs = [m for m in D.modules() if type(m).__name__ == "Conv2d"]
    assert [m.out_channels for m in convs] == maps[::-1] + [1]
    assert sum(type(m).__name__ == "BatchNorm2d" for m in D.modules()) == len(maps) - 1  # not the input
    assert type(D.net[1]).__name__ == "LeakyReLU" and D.net[1].negative_slope == 0.2
    assert type(G.net[-1]).__name__ == "Tanh"
    assert DCGANGenerator(cfg, data_shape=(3, size, size))(gradus.randn(2, 8)).shape == (2, 3, size, size)


@pytest.mark.parametrize("d_batchnorm", [True, False])
def test_dcgan_fc_hidden_is_infogans_mnist_variant(d_batchnorm):
    """fc_hidden = F: G = Linear(nz->F) BN ReLU Linear(F->maps*s0*s0) BN ReLU, reshape, transposed convs;
    D = strided convs, Linear(->F) [BN] LeakyReLU, Linear(F->1); shapes, layer widths, the N(0, 0.02^2)
    initialisation of the new layers, and a training step that reaches every parameter."""
    gradus.manual_seed(0)
    cfg = GANConfig(latent_dim=8, data_shape=(1, 28, 28), g_channels=4, d_channels=4, fc_hidden=16,
                    d_batchnorm=d_batchnorm)
    G, D = DCGANGenerator(cfg), DCGANDiscriminator(cfg)
    x = G(gradus.randn(5, 8))
    assert x.shape == (5, 1, 28, 28) and D(x).shape == (5,)
    g_lin = [m for m in G.modules() if type(m).__name__ == "Linear"]
    assert [(m.in_features, m.out_features) for m in g_lin] == [(8, 16), (16, 8 * 7 * 7)]
    assert all(m.bias is None for m in g_lin)                           # BN's shift replaces the bias
    assert [m.num_features for m in G.modules() if type(m).__name__ == "BatchNorm1d"] == [16, 8 * 7 * 7]
    assert [m.out_channels for m in G.modules() if type(m).__name__ == "ConvTranspose2d"] == [4, 1]
    d_lin = [m for m in D.modules() if type(m).__name__ == "Linear"]
    assert [(m.in_features, m.out_features) for m in d_lin] == [(8 * 7 * 7, 16), (16, 1)]
    assert sum(type(m).__name__ == "BatchNorm1d" for m in D.modules()) == int(d_batchnorm)
    assert type(D.net[-2]).__name__ == "LeakyReLU" and D.net[-2].negative_slope == 0.2
    big = DCGANGenerator(GANConfig(fc_hidden=256, g_channels=16))
    w = [m.weight.numpy() for m in big.modules() if type(m).__name__ == "Linear"]
    assert all(np.std(a) == pytest.approx(0.02, rel=0.05) for a in w)
    bn = [m for m in big.modules() if type(m).__name__ == "BatchNorm1d"]
    assert all(np.mean(m.weight.numpy()) == pytest.approx(1.0, abs=0.01) for m in bn)
    og = optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    od = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    before = [p.numpy().copy() for p in list(G.parameters()) + list(D.parameters())]
    gan_step(G, D, og, od, gradus.rand(4, 1, 28, 28) * 2 - 1, gradus.randn(4, 8))
    after = [p.numpy() for p in list(G.parameters()) + list(D.parameters())]
    assert all(not np.array_equal(a, b) for a, b in zip(before, after))


def test_dcgan_initialisation_and_config_errors():
    gradus.manual_seed(0)
    cfg = GANConfig(data_shape=(1, 32, 32), g_channels=32, d_channels=32)
    G, D = DCGANGenerator(cfg), DCGANDiscriminator(cfg)
    for m in list(G.modules()) + list(D.modules()):
        name = type(m).__name__
        if name in ("Conv2d", "ConvTranspose2d") and m.weight.numel() > 2000:
            assert np.std(m.weight.numpy()) == pytest.approx(0.02, rel=0.1)
            assert abs(np.mean(m.weight.numpy())) < 0.002
        if name == "BatchNorm2d":
            assert np.mean(m.weight.numpy()) == pytest.approx(1.0, abs=0.01)
            assert not m.bias.numpy().any()
    with pytest.raises(ShapeError, match="7 \\* 2\\^n or 4 \\* 2\\^n"):
        DCGANGenerator(cfg, data_shape=(1, 30, 30))
    with pytest.raises(ShapeError, match="square"):
        DCGANDiscriminator(cfg, data_shape=(784,))
    with pytest.raises(TypeError, match="unknown option"):
        MLPGenerator(cfg, hidden=(3,))
    G = MLPGenerator(cfg, latent_dim=5)
    assert G.latent_dim == 5 and cfg.latent_dim == 100                # the caller's config is untouched


def test_sample_is_eval_mode_without_graph():
    gradus.manual_seed(0)
    G = DCGANGenerator(GANConfig(latent_dim=8, g_channels=4))
    G.train()
    a = G.sample(6, generator=np.random.default_rng(3))
    b = G.sample(6, generator=np.random.default_rng(3))
    assert a.shape == (6, 1, 28, 28) and not a.requires_grad
    np.testing.assert_array_equal(a.numpy(), b.numpy())               # eval BN: no batch dependence
    assert G.training


# ----------------------------------------------------------------------------- one training step
def _copy(module, cls, cfg):
    twin = cls(cfg)
    twin.load_state_dict(module.state_dict())
    return twin


def test_gan_step_updates_d_then_g_through_the_updated_d():
    gradus.manual_seed(0)
    cfg = GANConfig(latent_dim=3, data_shape=(4,), g_hidden=(8,), d_hidden=(8,))
    G, D = MLPGenerator(cfg).double(), MLPDiscriminator(cfg).double()
    G2, D2 = _copy(G, MLPGenerator, cfg).double(), _copy(D, MLPDiscriminator, cfg).double()
    rng = np.random.default_rng(1)
    real, z = gradus.tensor(rng.normal(size=(6, 4))), gradus.tensor(rng.normal(size=(5, 3)))

    # the reference: algorithm 1 by hand
    og2, od2 = optim.SGD(G2.parameters(), lr=0.3), optim.SGD(D2.parameters(), lr=0.3)
    fake = G2(z)
    d_ref = discriminator_loss(D2(real), D2(fake.detach()))
    od2.zero_grad()
    d_ref.backward()
    d_grads = [p.grad.numpy().copy() for p in D2.parameters()]
    assert all(p.grad is None for p in G2.parameters())                # detached: G untouched
    od2.step()
    g_ref = generator_loss(D2(G2(z)))                                   # through the updated D
    og2.zero_grad()
    g_ref.backward()
    og2.step()

    G.eval()
    D.eval()
    d_loss, g_loss = gan_step(G, D, optim.SGD(G.parameters(), lr=0.3), optim.SGD(D.parameters(), lr=0.3),
                              real, z)
    assert isinstance(d_loss, float) and isinstance(g_loss, float)
    assert d_loss == pytest.approx(d_ref.item(), rel=1e-12)
    assert g_loss == pytest.approx(g_ref.item(), rel=1e-12)
    mine, ref = [*G.parameters(), *D.parameters()], [*G2.parameters(), *D2.parameters()]
    for a, b in zip(mine, ref):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-14)
    for p, g in zip(D.parameters(), d_grads):                            # D's .grad: the D step's only
        np.testing.assert_allclose(p.grad.numpy(), g, rtol=1e-12, atol=1e-14)
        assert p.requires_grad                                          # unfrozen again
    assert G.training and D.training


def test_gan_step_keeps_a_frozen_discriminator_parameter_frozen():
    gradus.manual_seed(0)
    cfg = GANConfig(latent_dim=2, data_shape=(3,), g_hidden=(4,), d_hidden=(4,))
    G, D = MLPGenerator(cfg), MLPDiscriminator(cfg)
    D.net[0].bias.requires_grad_(False)
    d_params = [p for p in D.parameters() if p.requires_grad]
    gan_step(G, D, optim.SGD(G.parameters(), lr=0.1), optim.SGD(d_params, lr=0.1),
             gradus.randn(4, 3), gradus.randn(4, 2))
    assert not D.net[0].bias.requires_grad and D.net[0].weight.requires_grad


def test_dcgan_step_runs_with_batch_norm():
    gradus.manual_seed(0)
    cfg = GANConfig(latent_dim=8, data_shape=(1, 28, 28), g_channels=4, d_channels=4)
    G, D = DCGANGenerator(cfg), DCGANDiscriminator(cfg)
    og = optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    od = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    before = [p.numpy().copy() for p in G.parameters()]
    d_loss, g_loss = gan_step(G, D, og, od, gradus.rand(4, 1, 28, 28) * 2 - 1, gradus.randn(4, 8))
    assert np.isfinite(d_loss) and np.isfinite(g_loss)
    assert all(not np.array_equal(a, p.numpy()) for a, p in zip(before, G.parameters()))


# ----------------------------------------------------------------------------- it learns
def test_tiny_gan_moves_its_samples_to_the_target_mean():
    """1-D data ~ N(2, 0.5^2); G starts near 0. 400 rounds of the game (~2 s)."""
    gradus.manual_seed(3)
    rng = np.random.default_rng(3)
    cfg = GANConfig(latent_dim=2, data_shape=(1,), g_hidden=(16,), d_hidden=(16,), tanh_output=False)
    G, D = MLPGenerator(cfg), MLPDiscriminator(cfg)
    og = optim.Adam(G.parameters(), lr=2e-3, betas=(0.5, 0.999))
    od = optim.Adam(D.parameters(), lr=2e-3, betas=(0.5, 0.999))
    start = G.sample(2000, generator=rng).numpy().mean()
    assert abs(start - 2.0) > 1.5
    for _ in range(400):
        real = gradus.tensor((2.0 + 0.5 * rng.standard_normal((64, 1))).astype(np.float32))
        d_loss, g_loss = gan_step(G, D, og, od, real, gradus.randn(64, 2, generator=rng))
    end = G.sample(2000, generator=rng).numpy()
    assert abs(end.mean() - 2.0) < 0.3
    assert 0.1 < end.std() < 1.0
    assert d_loss == pytest.approx(2 * math.log(2), abs=0.1)            # near the equilibrium D = 1/2


def test_minibatch_std_feature_sees_the_batch_spread_and_is_differentiable():
    import gradus
    from gradus.autograd import gradcheck
    from gradus.errors import ShapeError
    from gradus.models.gan import MLPDiscriminator

    cfg = GANConfig(data_shape=(6,), d_hidden=(8, 4), minibatch_std=True)
    gradus.manual_seed(0)
    D = MLPDiscriminator(cfg).double()
    assert D.net[-1].in_features == 5
    x = gradus.randn(5, 6, dtype=gradus.float64, requires_grad=True)
    assert gradcheck(lambda a: D(a), (x,))
    # the same sample alone in a collapsed batch (spread 0) vs among others: only the spread differs
    row = x.detach()[:1]
    collapsed = D(gradus.cat([row] * 5, 0)).numpy()
    mixed = D(x.detach()).numpy()
    w_spread = float(D.net[-1].weight.numpy()[0, -1])
    h = x.detach()
    for layer in list(D.net)[:-1]:
        h = layer(h)
    s = float(h.numpy().std(0).mean())
    assert collapsed[0] - mixed[0] == pytest.approx(-w_spread * s, abs=1e-10)
    with pytest.raises(ShapeError, match="batch of >= 2"):
        D(x[:1])


def test_generator_ema_is_sampled_once_updated_and_survives_a_checkpoint(tmp_path):
    from gradus.models.gan import GAN
    from gradus.train.checkpoint import load_checkpoint, save_checkpoint

    gradus.manual_seed(0)
    cfg = GANConfig(latent_dim=8, g_channels=4, d_channels=4, g_ema=0.5)
    gan = GAN(cfg, kind="dcgan")
    assert gan.sampler is gan.generator                            # nothing averaged yet
    G, D = gan.generator, gan.discriminator
    og = optim.Adam(G.parameters(), lr=1e-2, betas=(0.5, 0.999))
    od = optim.Adam(D.parameters(), lr=1e-2, betas=(0.5, 0.999))
    first = None
    for step in range(3):
        gan_step(G, D, og, od, gradus.rand(4, 1, 28, 28) * 2 - 1, gradus.randn(4, 8))
        gan.update_ema()
        if step == 0:
            first = [p.numpy().copy() for p in G.parameters()]
    assert gan.sampler is gan.generator_ema.module and int(gan.generator_ema.n_averaged.item()) == 3
    # EMA with decay 0.5 of three iterates: neither the first nor the last one
    w_ema, w_last = gan.generator_ema.module.net[0].weight.numpy(), G.net[0].weight.numpy()
    assert not np.allclose(w_ema, w_last) and not np.allclose(w_ema, first[0])
    a = gan.sample(5, generator=np.random.default_rng(1)).numpy()
    path = tmp_path / "gan.safetensors"
    save_checkpoint(path, gan)
    back = GAN(cfg, kind="dcgan")
    load_checkpoint(path, back)
    np.testing.assert_allclose(back.sample(5, generator=np.random.default_rng(1)).numpy(), a, atol=1e-6)
    with pytest.raises(ValueError, match="g_ema is the EMA decay"):
        GAN(GANConfig(g_ema=1.0))
