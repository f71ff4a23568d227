"""Generative adversarial networks (Goodfellow et al. 2014) and DCGAN (Radford, Metz & Chintala 2016).

    >>> import gradus
    >>> from gradus.models.gan import GANConfig, MLPGenerator, MLPDiscriminator, DCGANGenerator
    >>> G, D = MLPGenerator(GANConfig()), MLPDiscriminator(GANConfig())
    >>> z = gradus.randn(4, 100)                                  # (B, latent_dim) noise
    >>> x = G(z)                                                  # (B, 1, 28, 28) images in (-1, 1)
    >>> x.shape, D(x).shape                                       # D returns one logit per example
    ((4, 1, 28, 28), (4,))
    >>> DCGANGenerator(GANConfig(data_shape=(1, 32, 32)))(z).shape
    (4, 1, 32, 32)

**The game.** A generator G maps noise z ~ p(z) = N(0, I) to a sample G(z); a discriminator D maps a
sample to the probability D(x) = sigmoid(logit(x)) that it came from the data. They play::

    min_G max_D  V(D, G) = E_x~data[log D(x)] + E_z~p(z)[log(1 - D(G(z)))]

For a fixed G the best discriminator is D*(x) = p_data(x) / (p_data(x) + p_G(x)), and against it
V = -log 4 + 2 JS(p_data || p_G): the generator's best answer is p_G = p_data, where D* = 1/2
everywhere (Goodfellow et al. 2014, theorem 1). In logits, log D = log sigmoid(l) and
log(1 - D) = log sigmoid(-l), so both players' losses are binary cross-entropies with logits
(stable for any logit; no sigmoid is ever taken and then logged)::

    discriminator_loss = BCE(l_real, 1) + BCE(l_fake, 0) = -V(D, G)        (D ascends V)
    generator_loss     = -BCE(l_fake, 0) = E[log(1 - D(G(z)))]              (saturating: G descends V)
                       =  BCE(l_fake, 1) = -E[log D(G(z))]                  (non-saturating, the default)

**Why non-saturating.** Early in training D rejects the samples confidently, D(G(z)) ~ 0, and the
saturating loss is flat there: d/dl log(1 - sigmoid(l)) = -sigmoid(l) -> 0. The non-saturating loss
max_G E[log D(G(z))] has the same fixed point but the gradient d/dl (-log sigmoid(l)) = -(1 - sigmoid(l))
-> -1, i.e. strongest exactly where G is worst (Goodfellow et al. 2014, section 3).

**The models.** ``MLPGenerator`` / ``MLPDiscriminator``: fully connected, LeakyReLU(0.2) hidden
layers, a tanh output (the data are scaled to [-1, 1]), for MNIST's 784 pixels or any flat data
(``data_shape=(D,)``). ``DCGANGenerator`` / ``DCGANDiscriminator`` follow Radford et al.'s guidelines
(section 3): no pooling (strided convolutions in D, fractionally strided ``ConvTranspose2d`` in G), batch
norm in both except G's output and D's input layer, ReLU in G with a tanh output, LeakyReLU(0.2) in D,
no fully connected hidden layers, every weight ~ N(0, 0.02^2). Their 64x64 design is shrunk to MNIST
sizes: G projects z to a 4x4 (or 7x7) map and doubles it with 4x4 stride-2 transposed convolutions::

    28x28: z (nz,1,1) -> 2ngf@7x7 -> ngf@14x14 -> C@28x28            D: the mirror image,
    32x32: z (nz,1,1) -> 4ngf@4x4 -> 2ngf@8x8 -> ngf@16x16 -> C@32x32   ending in one 7x7 / 4x4 conv

Any size s0 * 2^n with s0 = 7 or 4 and n >= 1 works (64x64 is the paper's, with ngf = 128).

``fc_hidden = F > 0`` is the MNIST variant of InfoGAN (Chen et al. 2016, table 1), which departs from
the "no fully connected hidden layers" rule on purpose: G starts with Linear(nz -> F) -> BN -> ReLU ->
Linear(F -> maps*s0*s0) -> BN -> ReLU, and D ends with Linear(maps*s0*s0 -> F) -> BN -> LeakyReLU ->
Linear(F -> 1). A layer that sees the whole image (or makes it) gives both players a view of the
digit's global shape, which 4x4 kernels on 7x7 maps see only in part::

    28x28, F = 1024: z -> 1024 -> 2ngf*7*7 -> 2ngf@7x7 -> ngf@14x14 -> C@28x28
                     D: C@28x28 -> ndf@14x14 -> 2ndf@7x7 -> 1024 -> 1 logit

``gan_step`` is one round of the game as Goodfellow et al.'s algorithm 1 plays it (k = 1): one
discriminator update, then one generator update, each with its own optimizer.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .. import nn
from ..autograd import no_grad
from ..creation import ones_like, randn, zeros_like
from ..errors import ShapeError
from ..functional.loss import binary_cross_entropy_with_logits
from ..nn.utils.swa_utils import AveragedModel, get_ema_multi_avg_fn
from ..ops.movement import cat
from .options import configure

__all__ = ["GANConfig", "discriminator_loss", "generator_loss", "MLPGenerator", "MLPDiscriminator",
           "DCGANGenerator", "DCGANDiscriminator", "dcgan_init", "gan_step", "GAN"]


@dataclass
class GANConfig:
    latent_dim: int = 100                            # nz: z ~ N(0, I_nz)
    data_shape: tuple[int, ...] = (1, 28, 28)        # (C, H, W) images; the MLP pair also takes (D,)
    g_hidden: tuple[int, ...] = (256, 512, 1024)     # MLP generator widths
    d_hidden: tuple[int, ...] = (1024, 512, 256)     # MLP discriminator widths
    negative_slope: float = 0.2                      # LeakyReLU slope (both papers' 0.2)
    g_channels: int = 64                             # DCGAN ngf: G's last hidden map count
    d_channels: int = 64                             # DCGAN ndf: D's first map count
    d_batchnorm: bool = True                         # DCGAN: batch norm in D's inner layers
    tanh_output: bool = True                         # G's output in (-1, 1); False: linear
    minibatch_std: bool = False                      # MLP D: + the batch's feature spread (anti collapse)
    g_ema: float = 0.0                               # > 0: keep an EMA of G's weights, this decay; sample it
    fc_hidden: int = 0                               # DCGAN: > 0 adds one fully connected hidden layer this
                                                     # wide to G (after z) and to D (before the logit)


def _configure(config: GANConfig | None, overrides: dict, who: str) -> GANConfig:
    cfg = configure(GANConfig, config, overrides, who)
    cfg.data_shape = tuple(int(s) for s in cfg.data_shape)
    return cfg


# ----------------------------------------------------------------------------------- the objective
def discriminator_loss(d_real_logits, d_fake_logits):
    """The discriminator's loss, -V(D, G) for one batch: with D(x) = sigmoid(l),

        -( mean_i log D(x_i) + mean_j log(1 - D(G(z_j))) ) = BCE(l_real, 1) + BCE(l_fake, 0)

    ``d_real_logits`` (B,) are D's logits on data, ``d_fake_logits`` (B',) on generated samples.
    A scalar; 2 log 2 ~= 1.386 at the equilibrium D = 1/2."""
    real = binary_cross_entropy_with_logits(d_real_logits, ones_like(d_real_logits))
    fake = binary_cross_entropy_with_logits(d_fake_logits, zeros_like(d_fake_logits))
    return real + fake


def generator_loss(d_fake_logits, non_saturating: bool = True):
    """The generator's loss on D's logits ``d_fake_logits`` (B,) for generated samples. A scalar.

    ``non_saturating=True`` (the default): max_G E[log D(G(z))], i.e. the loss
    ``-mean log D(G(z)) = BCE(l_fake, 1)``, gradient -(1 - D) per logit.
    ``non_saturating=False``: the minimax game's own min_G E[log(1 - D(G(z)))], the loss
    ``mean log(1 - D(G(z))) = -BCE(l_fake, 0)``, gradient -D per logit, which vanishes as D(G(z)) -> 0.
    """
    if non_saturating:
        return binary_cross_entropy_with_logits(d_fake_logits, ones_like(d_fake_logits))
    return -binary_cross_entropy_with_logits(d_fake_logits, zeros_like(d_fake_logits))


# ----------------------------------------------------------------------------------- MLP pair
class _Generator(nn.Module):
    """What every generator shares: ``latent_dim`` and ``sample``."""

    config: GANConfig

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def sample(self, n: int, generator=None):
        """``n`` samples G(z), z ~ N(0, I) drawn from ``generator`` (default: the global one); eval mode
        (batch norm uses its running statistics), no graph. Shape (n, *data_shape)."""
        p = next(self.parameters())
        was = self.training
        self.eval()
        try:
            with no_grad():
                z = randn(n, self.latent_dim, generator=generator, dtype=p.dtype, device=p.device)
                return self(z)
        finally:
            self.train(was)


class MLPGenerator(_Generator):
    """z (B, nz) -> [Linear -> LeakyReLU] per ``g_hidden`` width -> Linear -> tanh -> ``(B, *data_shape)``."""

    def __init__(self, config: GANConfig | None = None, **overrides):
        super().__init__()
        cfg = self.config = _configure(config, overrides, "MLPGenerator")
        layers, width = [], cfg.latent_dim
        for h in cfg.g_hidden:
            layers += [nn.Linear(width, h), nn.LeakyReLU(cfg.negative_slope)]
            width = h
        layers.append(nn.Linear(width, math.prod(cfg.data_shape)))
        if cfg.tanh_output:
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, z):
        return self.net(z).reshape(z.shape[0], *self.config.data_shape)


class MLPDiscriminator(nn.Module):
    """x ``(B, *data_shape)`` -> flatten -> [Linear -> LeakyReLU] per ``d_hidden`` width -> Linear
    -> (B,) logits.

    No sigmoid: the losses take logits (``discriminator_loss``, ``generator_loss``).

    ``minibatch_std=True`` (Karras et al. 2018, "minibatch standard deviation") appends one feature to
    every sample's last hidden vector h_i (F,) before the output layer: the spread of the batch,
    s = mean_f std_i(h_if) (population std over the B samples). A generator that collapses onto a few
    modes makes batches whose s is smaller than real batches', which D then sees directly, so G is
    pushed to cover the data. D sees real and generated samples in separate batches (``gan_step``),
    which is what makes s informative; B must be >= 2."""

    def __init__(self, config: GANConfig | None = None, **overrides):
        super().__init__()
        cfg = self.config = _configure(config, overrides, "MLPDiscriminator")
        layers, width = [], math.prod(cfg.data_shape)
        for h in cfg.d_hidden:
            layers += [nn.Linear(width, h), nn.LeakyReLU(cfg.negative_slope)]
            width = h
        layers.append(nn.Linear(width + (1 if cfg.minibatch_std else 0), 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        B = x.shape[0]
        if not self.config.minibatch_std:
            return self.net(x.reshape(B, -1)).reshape(B)
        if B < 2:
            raise ShapeError(f"MLPDiscriminator: minibatch_std needs a batch of >= 2 samples, got {B}")
        layers = list(self.net)
        h = x.reshape(B, -1)
        for layer in layers[:-1]:
            h = layer(h)                                                    # (B, F)
        spread = h.std(0, correction=0).mean()                              # s: a scalar
        h = cat([h, spread.expand(B, 1)], 1)                                # (B, F + 1)
        return layers[-1](h).reshape(B)


# ----------------------------------------------------------------------------------- DCGAN
def _dcgan_geometry(data_shape: tuple[int, ...], who: str) -> tuple[int, int, int]:
    """(channels, s0, n): the image is s0 * 2^n square with s0 = 7 or 4, n >= 1 stride-2 layers."""
    if len(data_shape) != 3 or data_shape[1] != data_shape[2]:
        raise ShapeError(f"{who}: data_shape must be (C, S, S) square images, got {data_shape}")
    c, size = data_shape[0], data_shape[1]
    for s0 in (7, 4):
        n = round(math.log2(size / s0)) if size >= s0 else 0
        if n >= 1 and s0 * 2 ** n == size:
            return c, s0, n
    raise ShapeError(f"{who}: image size must be 7 * 2^n or 4 * 2^n (n >= 1: 14, 28, 8, 16, 32, 64, ...), "
                     f"got {size}")


def dcgan_init(module: nn.Module, generator=None) -> None:
    """Radford et al.'s initialisation, in place: every (transposed) convolution and Linear weight
    ~ N(0, 0.02^2) and bias 0; batch-norm gains ~ N(1, 0.02^2) (as in PyTorch's DCGAN example), shifts 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02, generator=generator)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(m.weight, 1.0, 0.02, generator=generator)
            nn.init.zeros_(m.bias)


class DCGANGenerator(_Generator):
    """z (B, nz) -> (B, C, S, S) in (-1, 1) with S = s0 * 2^n (see the module docstring):

        ConvT(nz -> ngf 2^(n-1), s0x s0, stride 1) -> BN -> ReLU            (B, ngf 2^(n-1), s0, s0)
        n - 1 x [ConvT(4x4, stride 2, pad 1): maps halve, size doubles -> BN -> ReLU]
        ConvT(ngf -> C, 4x4, stride 2, pad 1) -> tanh                        (B, C, S, S)

    The first layer is Radford et al.'s "project and reshape": a transposed convolution of the 1x1
    noise map is exactly a Linear layer to s0 * s0 * maps outputs. No bias before batch norm (BN's
    shift replaces it)."""

    def __init__(self, config: GANConfig | None = None, **overrides):
        super().__init__()
        cfg = self.config = _configure(config, overrides, "DCGANGenerator")
        c, s0, n = _dcgan_geometry(cfg.data_shape, "DCGANGenerator")
        maps = cfg.g_channels * 2 ** (n - 1)
        if cfg.fc_hidden > 0:   # InfoGAN's MNIST generator: two fully connected layers, then reshape
            f = cfg.fc_hidden
            layers = [nn.Flatten(), nn.Linear(cfg.latent_dim, f, bias=False), nn.BatchNorm1d(f), nn.ReLU(),
                      nn.Linear(f, maps * s0 * s0, bias=False), nn.BatchNorm1d(maps * s0 * s0), nn.ReLU(),
                      nn.Unflatten(1, (maps, s0, s0))]                  # (B, maps, s0, s0)
        else:
            layers = [nn.ConvTranspose2d(cfg.latent_dim, maps, s0, 1, 0, bias=False), nn.BatchNorm2d(maps),
                      nn.ReLU()]
        for _ in range(n - 1):
            layers += [nn.ConvTranspose2d(maps, maps // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(maps // 2),
                       nn.ReLU()]
            maps //= 2
        layers.append(nn.ConvTranspose2d(maps, c, 4, 2, 1))
        if cfg.tanh_output:
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)
        dcgan_init(self)

    def forward(self, z):
        return self.net(z.reshape(z.shape[0], z.shape[1], 1, 1))


class DCGANDiscriminator(nn.Module):
    """x (B, C, S, S) -> (B,) logits, the generator's mirror image:

        Conv(C -> ndf, 4x4, stride 2, pad 1) -> LeakyReLU(0.2)              no BN on the input layer
        n - 1 x [Conv(4x4, stride 2, pad 1): maps double, size halves -> BN -> LeakyReLU(0.2)]
        Conv(ndf 2^(n-1) -> 1, s0 x s0)                                      (B, 1, 1, 1) -> (B,)
        (fc_hidden = F > 0: Flatten -> Linear(-> F) -> BN -> LeakyReLU(0.2) -> Linear(F -> 1) instead)

    ``d_batchnorm=False`` leaves batch norm out (e.g. for a gradient-penalty critic)."""

    def __init__(self, config: GANConfig | None = None, **overrides):
        super().__init__()
        cfg = self.config = _configure(config, overrides, "DCGANDiscriminator")
        c, s0, n = _dcgan_geometry(cfg.data_shape, "DCGANDiscriminator")
        maps = cfg.d_channels
        layers = [nn.Conv2d(c, maps, 4, 2, 1), nn.LeakyReLU(cfg.negative_slope)]
        for _ in range(n - 1):
            layers.append(nn.Conv2d(maps, 2 * maps, 4, 2, 1, bias=not cfg.d_batchnorm))
            if cfg.d_batchnorm:
                layers.append(nn.BatchNorm2d(2 * maps))
            layers.append(nn.LeakyReLU(cfg.negative_slope))
            maps *= 2
        if cfg.fc_hidden > 0:   # InfoGAN's MNIST discriminator: one fully connected hidden layer
            f = cfg.fc_hidden
            layers += [nn.Flatten(), nn.Linear(maps * s0 * s0, f, bias=not cfg.d_batchnorm)]
            if cfg.d_batchnorm:
                layers.append(nn.BatchNorm1d(f))
            layers += [nn.LeakyReLU(cfg.negative_slope), nn.Linear(f, 1)]
        else:
            layers.append(nn.Conv2d(maps, 1, s0, 1, 0))
        self.net = nn.Sequential(*layers)
        dcgan_init(self)

    def forward(self, x):
        return self.net(x).reshape(x.shape[0])


# ----------------------------------------------------------------------------------- training
def gan_step(G: nn.Module, D: nn.Module, opt_g, opt_d, real, z, non_saturating: bool = True):
    """One round of the game (Goodfellow et al. 2014, algorithm 1 with k = 1); returns the two losses
    ``(d_loss, g_loss)`` as floats.

    1. Discriminator: ``d_loss = discriminator_loss(D(real), D(G(z).detach()))``, one ``opt_d`` step.
       The samples are detached, so this step leaves G's gradients alone.
    2. Generator: ``g_loss = generator_loss(D(G(z)), non_saturating)`` through the *updated* D, one
       ``opt_g`` step. D's parameters are frozen meanwhile (``requires_grad`` off, restored after), so
       no weight gradients are computed for D and nothing is left in D's ``.grad``.

    G(z) is computed once and serves both steps. Both networks are put in training mode (batch norm
    uses and updates batch statistics; D sees real and generated samples in separate batches, as in
    Radford et al.'s code) and stay in it. ``real`` ``(B, *data_shape)``, ``z`` (B', latent_dim).
    """
    G.train()
    D.train()
    fake = G(z)                                                     # one graph through G

    opt_d.zero_grad()
    d_loss = discriminator_loss(D(real), D(fake.detach()))
    d_loss.backward()
    opt_d.step()

    frozen = [(p, p.requires_grad) for p in D.parameters()]
    for p, _ in frozen:
        p.requires_grad_(False)
    try:
        opt_g.zero_grad()
        g_loss = generator_loss(D(fake), non_saturating)
        g_loss.backward()
        opt_g.step()
    finally:
        for p, flag in frozen:
            p.requires_grad_(flag)
    return d_loss.item(), g_loss.item()


class GAN(nn.Module):
    """The two players in one module, so one checkpoint holds both: ``generator`` and
    ``discriminator`` (``kind="mlp"``: ``MLPGenerator`` / ``MLPDiscriminator``; ``"dcgan"``: the DCGAN
    pair). Each keeps its own optimizer in training (``gan_step``); ``sample(n)`` draws from G.

    ``g_ema > 0`` adds ``generator_ema``, an exponential moving average of G's weights and batch-norm
    statistics (``nn.utils.swa_utils.AveragedModel``, ``avg <- g_ema * avg + (1 - g_ema) * G``) that
    ``update_ema()`` advances after each training step; once it has been updated, ``sampler`` (and so
    ``sample``) is the average, not the last iterate (Yazici et al. 2019: GAN iterates
    circle the equilibrium; their average lies nearer it and draws cleaner samples).

        >>> GAN(GANConfig(), kind="dcgan").sample(2).shape
        (2, 1, 28, 28)
    """

    def __init__(self, config: GANConfig | None = None, kind: str = "mlp", **overrides):
        super().__init__()
        cfg = self.config = _configure(config, overrides, "GAN")
        pairs = {"mlp": (MLPGenerator, MLPDiscriminator), "dcgan": (DCGANGenerator, DCGANDiscriminator)}
        if kind not in pairs:
            raise ValueError(f"GAN: kind must be 'mlp' or 'dcgan', got {kind!r}")
        self.kind = kind
        self.generator = pairs[kind][0](cfg)
        self.discriminator = pairs[kind][1](cfg)
        if not 0.0 <= cfg.g_ema < 1.0:
            raise ValueError(f"GAN: g_ema is the EMA decay of G's weights, in [0, 1) (0: none, 0.999 "
                             f"usual), got {cfg.g_ema}")
        if cfg.g_ema > 0:
            self.generator_ema = AveragedModel(self.generator, multi_avg_fn=get_ema_multi_avg_fn(cfg.g_ema),
                                               use_buffers=True)

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def sampler(self) -> nn.Module:
        """The generator that draws samples: the weight average once it has been updated, else G."""
        ema = getattr(self, "generator_ema", None)
        if ema is not None and int(ema.n_averaged.item()) > 0:
            return ema.module
        return self.generator

    def update_ema(self) -> None:
        """Fold G's current weights into ``generator_ema`` (no-op when ``g_ema`` is 0)."""
        ema = getattr(self, "generator_ema", None)
        if ema is not None:
            ema.update_parameters(self.generator)

    def forward(self, z):
        """G(z) of the trained generator: (B, latent_dim) -> ``(B, *data_shape)``."""
        return self.generator(z)

    def sample(self, n: int, generator=None):
        """``n`` samples G(z), z ~ N(0, I), in eval mode (batch norm on running statistics), no graph."""
        return self.sampler.sample(n, generator=generator)
