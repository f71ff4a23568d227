"""Autoencoders: fully connected, convolutional, denoising (Vincent et al. 2008), and the variational
autoencoder (Kingma & Welling 2014).

    >>> import gradus
    >>> from gradus.models.autoencoder import Autoencoder, ConvAutoencoder, VAE, AutoencoderConfig
    >>> x = gradus.rand(4, 1, 28, 28)                               # (B, C, H, W) pixels in [0, 1]
    >>> ae = Autoencoder(AutoencoderConfig(hidden=(64,), latent_dim=8))
    >>> ae.encode(x).shape, ae(x).shape                             # code, reconstruction
    ((4, 8), (4, 1, 28, 28))
    >>> ConvAutoencoder(latent_dim=8)(x).shape
    (4, 1, 28, 28)
    >>> vae = VAE(AutoencoderConfig(hidden=(64,), latent_dim=2))
    >>> out = vae.elbo(x)                                           # nats per example
    >>> out.elbo.shape, out.reconstruction.shape, out.kl.shape
    ((), (), ())

**Autoencoder.** An encoder f maps x (D numbers) to a code h = f(x) with fewer numbers, a decoder g
maps it back, and training minimises the reconstruction error L(x, g(f(x))); the bottleneck forces
the code to keep what matters for reconstruction. The decoder returns logits a = g(h): with
``loss="bce"`` (pixels in [0, 1]) the reconstruction is sigmoid(a) and

    L = -sum_d [x_d log sigmoid(a_d) + (1 - x_d) log(1 - sigmoid(a_d))]     (BCE with logits)

summed over the D pixels, averaged over the batch, i.e. nats per example for binary x (for grey
levels it is the cross-entropy, whose minimum is the pixels' entropy, not 0). ``loss="mse"`` gives
a linear output and L = sum_d (x_d - a_d)^2, for data outside [0, 1]. The fully connected model
mirrors its widths: D -> hidden... -> latent -> reversed(hidden)... -> D, ReLU between layers and a
linear code. ``ConvAutoencoder`` halves the image with each 3x3 stride-2 convolution of ``channels``
and doubles it back with 3x3 stride-2 transposed convolutions (28x28: 1 -> 16@14x14 -> 32@7x7 ->
Linear -> code, and back).

**Denoising** (``denoising=True``): in training mode the encoder sees a corrupted copy
x~ = corrupt(x) -- masking noise (each input set to 0 with probability ``drop_prob``, Vincent et al.'s
choice) and/or additive Gaussian noise of std ``noise_std`` -- and the loss compares g(f(x~)) with the
*clean* x: the code must capture the structure that lets it undo the noise, not the identity map.
In eval mode nothing is corrupted.

**VAE.** A latent-variable model p(z) = N(0, I), p(x | z) = prod_d Bernoulli(x_d; sigmoid(a_d(z)))
with an encoder q(z | x) = N(mu(x), diag sigma^2(x)) (it outputs mu and log sigma^2). Training
maximises the evidence lower bound (ELBO)

    log p(x) >= ELBO(x) = E_q[log p(x | z)] - KL(q(z | x) || p(z))

The expectation is estimated with one sample drawn by the *reparameterisation trick*,
z = mu + sigma * eps with eps ~ N(0, I) (sigma = exp(log sigma^2 / 2)): the noise is an input, so
the gradient reaches mu and sigma through a deterministic function. The KL term is analytic,

    KL(N(mu, sigma^2) || N(0, I)) = -1/2 sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2)

``elbo(x)`` returns the batch means of ELBO, of the reconstruction term -log p(x | z) and of KL, in
nats per example (ELBO = -(reconstruction + KL)); the training loss is ``-elbo``. On binarised MNIST
-ELBO is an upper bound on the negative log-likelihood in nats (Kingma & Welling report ~ 100).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

from .. import nn
from ..autograd import no_grad
from ..creation import bernoulli, full_like, randn
from ..errors import ShapeError
from ..functional.activation import sigmoid
from ..functional.loss import binary_cross_entropy_with_logits, mse_loss
from .options import configure

__all__ = ["AutoencoderConfig", "corrupt", "Autoencoder", "ConvAutoencoder", "gaussian_kl", "ELBO", "VAE"]


@dataclass
class AutoencoderConfig:
    input_shape: tuple[int, ...] = (1, 28, 28)   # one example's shape: (C, H, W), or (D,) for the FC ones
    hidden: tuple[int, ...] = (512, 256)         # FC encoder widths (the decoder mirrors them)
    channels: tuple[int, ...] = (16, 32)         # ConvAutoencoder: maps of each stride-2 conv layer
    latent_dim: int = 32                         # the code (VAE: the dimension of z)
    loss: str = "bce"                            # "bce" (sigmoid output, data in [0, 1]) or "mse"
    denoising: bool = False                      # corrupt the input in training mode (not for VAE)
    noise_std: float = 0.0                       # denoising: additive Gaussian noise
    drop_prob: float = 0.25                      # denoising: masking noise (inputs set to 0)


def _configure(config: AutoencoderConfig | None, overrides: dict, who: str) -> AutoencoderConfig:
    cfg = configure(AutoencoderConfig, config, overrides, who)
    cfg.input_shape = tuple(int(s) for s in cfg.input_shape)
    if cfg.loss not in ("bce", "mse"):
        raise ValueError(f"{who}: loss must be 'bce' or 'mse', got {cfg.loss!r}")
    if not 0.0 <= cfg.drop_prob < 1.0 or cfg.noise_std < 0:
        raise ValueError(f"{who}: need 0 <= drop_prob < 1 and noise_std >= 0, got {cfg.drop_prob}, "
                         f"{cfg.noise_std}")
    return cfg


def corrupt(x, noise_std: float = 0.0, drop_prob: float = 0.0, generator=None):
    """The denoising autoencoder's corruption x~ = m * x + noise_std * eps, with a mask
    m_i ~ Bernoulli(1 - drop_prob) (masking noise: each input zeroed with probability ``drop_prob``)
    and eps ~ N(0, I), both drawn from ``generator`` (default: the global one). Same shape as x; no
    rescaling by 1/(1 - p) (unlike dropout: the network must see what a damaged input looks like);
    no clipping. With both at 0 it returns x itself."""
    out = x
    if drop_prob > 0:
        out = out * bernoulli(full_like(x, 1.0 - drop_prob), generator=generator)
    if noise_std > 0:
        out = out + noise_std * randn(*x.shape, generator=generator, dtype=x.dtype, device=x.device)
    return out


def _per_example(logits, x, kind: str):
    """-log p(x | a) per example (B,): BCE with logits (Bernoulli) or squared error, summed over all
    but the batch dimension."""
    elems = (binary_cross_entropy_with_logits(logits, x, reduction="none") if kind == "bce"
             else mse_loss(logits, x, reduction="none"))
    return elems.reshape(x.shape[0], -1).sum(1)


def _mlp(widths: list[int]) -> list[nn.Module]:
    """Linear layers through ``widths`` with ReLU between them (none after the last)."""
    layers = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            layers.append(nn.ReLU())
    return layers


# ----------------------------------------------------------------------------------- autoencoders
class _Autoencoder(nn.Module):
    """encode / decode / forward / loss, shared by the FC and the convolutional model; subclasses build
    ``self.encoder`` (x -> code) and ``self.decoder`` (code -> logits of x's shape)."""

    config: AutoencoderConfig

    def encode(self, x):
        """The code h = f(x), (B, latent_dim)."""
        return self.encoder(x)

    def decode_logits(self, h):
        """The decoder's pre-activation a = g(h), (B, *input_shape)."""
        return self.decoder(h)

    def decode(self, h):
        """The reconstruction: sigmoid(a) for ``loss="bce"``, a itself for ``"mse"``."""
        a = self.decode_logits(h)
        return sigmoid(a) if self.config.loss == "bce" else a

    def _check(self, x, what: str = "inputs"):
        if tuple(x.shape[1:]) != self.config.input_shape:
            raise ShapeError(f"{type(self).__name__}: expected {what} of shape "
                             f"(B, *{self.config.input_shape}), got {tuple(x.shape)}")

    def _input(self, x, generator):
        cfg = self.config
        self._check(x)
        if self.training and cfg.denoising:
            return corrupt(x, cfg.noise_std, cfg.drop_prob, generator)
        return x

    def forward(self, x, generator=None):
        """The reconstruction of x (of a corrupted x in training mode when ``denoising``), x's shape."""
        return self.decode(self.encode(self._input(x, generator)))

    def loss(self, x, generator=None, corrupted=None):
        """The reconstruction loss against the clean x: per-example sum (module docstring), batch mean.

        ``corrupted``: the input to encode instead of x (not corrupted again), e.g. ``corrupt(x, ...)``
        drawn by the caller for a whole global batch of which this process takes its rows; x's shape."""
        if corrupted is None:
            inp = self._input(x, generator)
        else:
            self._check(x)
            if tuple(corrupted.shape) != tuple(x.shape):
                raise ShapeError(f"{type(self).__name__}.loss: corrupted has shape {tuple(corrupted.shape)}"
                                 f" but x has {tuple(x.shape)}: pass the corrupted version of the same batch")
            inp = corrupted
        logits = self.decode_logits(self.encode(inp))
        return _per_example(logits, x, self.config.loss).mean()


class Autoencoder(_Autoencoder):
    """Fully connected: flatten D = prod(input_shape) -> hidden... -> latent_dim (linear code)
    -> reversed(hidden)... -> D -> reshape to x's shape. ReLU between layers."""

    def __init__(self, config: AutoencoderConfig | None = None, **overrides):
        super().__init__()
        cfg = self.config = _configure(config, overrides, "Autoencoder")
        widths = [math.prod(cfg.input_shape), *cfg.hidden, cfg.latent_dim]
        self.encoder = nn.Sequential(nn.Flatten(), *_mlp(widths))                     # (B, ...) -> (B, K)
        self.decoder = nn.Sequential(*_mlp(widths[::-1]), nn.Unflatten(1, cfg.input_shape))  # -> (B, ...)


class ConvAutoencoder(_Autoencoder):
    """Convolutional, on (B, C, S, S) images with S divisible by 2^len(channels)::

        encoder: n x [Conv2d(3x3, stride 2, pad 1) -> ReLU]  (size halves)  -> flatten -> Linear -> code
        decoder: Linear -> ReLU -> unflatten -> n x [ConvTranspose2d(3x3, stride 2, pad 1,
                 output_padding 1)  (size doubles exactly)  -> ReLU, none after the last]

    Keyword ``overrides`` replace fields of ``config`` (an ``AutoencoderConfig``).
    """

    def __init__(self, config: AutoencoderConfig | None = None, **overrides):
        super().__init__()
        cfg = self.config = _configure(config, overrides, "ConvAutoencoder")
        if len(cfg.input_shape) != 3:
            raise ShapeError(f"ConvAutoencoder: input_shape must be (C, H, W), got {cfg.input_shape}")
        c, h, w = cfg.input_shape
        n = len(cfg.channels)
        if h % 2 ** n or w % 2 ** n:
            raise ShapeError(f"ConvAutoencoder: {len(cfg.channels)} stride-2 layers need H and W divisible "
                             f"by {2 ** n}, got {h}x{w}")
        maps = [c, *cfg.channels]
        small = (maps[-1], h // 2 ** n, w // 2 ** n)                               # the last feature map
        enc = []
        for a, b in zip(maps[:-1], maps[1:]):
            enc += [nn.Conv2d(a, b, 3, stride=2, padding=1), nn.ReLU()]
        self.encoder = nn.Sequential(*enc, nn.Flatten(), nn.Linear(math.prod(small), cfg.latent_dim))
        dec = [nn.Linear(cfg.latent_dim, math.prod(small)), nn.ReLU(), nn.Unflatten(1, small)]
        for i, (a, b) in enumerate(zip(maps[::-1][:-1], maps[::-1][1:])):
            dec.append(nn.ConvTranspose2d(a, b, 3, stride=2, padding=1, output_padding=1))
            if i < n - 1:
                dec.append(nn.ReLU())
        self.decoder = nn.Sequential(*dec)


# ----------------------------------------------------------------------------------- the VAE
def gaussian_kl(mu, logvar):
    """KL(N(mu, diag exp(logvar)) || N(0, I)) per example, in nats: mu, logvar (B, K) -> (B,)

        -1/2 sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2)
    """
    return -0.5 * (1 + logvar - mu * mu - logvar.exp()).sum(-1)


class ELBO(NamedTuple):
    """Batch means in nats per example: ``elbo = -(reconstruction + kl)``."""

    elbo: object             # scalar Tensor: E_q[log p(x | z)] - KL (one-sample estimate)
    reconstruction: object   # scalar Tensor: -log p(x | z) at the sampled z (BCE summed over pixels)
    kl: object               # scalar Tensor: KL(q(z | x) || N(0, I)), analytic


class VAE(nn.Module):
    """Variational autoencoder with a Gaussian encoder and a Bernoulli decoder (module docstring)::

        x (B, *input_shape) -> flatten -> [Linear -> ReLU] per hidden width -> mu, logvar (B, K) each
        z = mu + exp(logvar / 2) * eps                                       (B, K)
        z -> [Linear -> ReLU] per reversed hidden width -> Linear -> logits  (B, *input_shape)

    The encoder outputs log sigma^2 rather than sigma: unconstrained, and sigma = exp(logvar / 2) > 0.
    """

    def __init__(self, config: AutoencoderConfig | None = None, **overrides):
        super().__init__()
        cfg = self.config = _configure(config, overrides, "VAE")
        if cfg.loss != "bce" or cfg.denoising:
            raise ValueError("VAE: the decoder is Bernoulli (loss='bce'), without denoising")
        D, K = math.prod(cfg.input_shape), cfg.latent_dim
        trunk = [D, *cfg.hidden]
        self.encoder = nn.Sequential(nn.Flatten(), *[m for a, b in zip(trunk[:-1], trunk[1:])
                                                     for m in (nn.Linear(a, b), nn.ReLU())])
        self.mu = nn.Linear(trunk[-1], K)
        self.logvar = nn.Linear(trunk[-1], K)
        self.decoder = nn.Sequential(*_mlp([K, *cfg.hidden[::-1], D]), nn.Unflatten(1, cfg.input_shape))

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def encode(self, x):
        """q(z | x)'s parameters ``(mu, logvar)``, (B, K) each."""
        h = self.encoder(x)
        return self.mu(h), self.logvar(h)

    def reparameterize(self, mu, logvar, eps=None, generator=None):
        """z = mu + sigma * eps, sigma = exp(logvar / 2); eps ~ N(0, I) from ``generator`` unless given
        (a fixed ``eps`` makes the ELBO a deterministic function, e.g. for gradient checks)."""
        if eps is None:
            eps = randn(*mu.shape, generator=generator, dtype=mu.dtype, device=mu.device)
        return mu + (0.5 * logvar).exp() * eps

    def decode_logits(self, z):
        """The Bernoulli logits of p(x | z), ``(B, *input_shape)``."""
        return self.decoder(z)

    def decode(self, z):
        """The Bernoulli means sigmoid(logits): what an image "looks like" for code z."""
        return sigmoid(self.decode_logits(z))

    def forward(self, x, eps=None, generator=None):
        """``(logits, mu, logvar)``: the decoder's logits at z = mu + sigma * eps and q's parameters."""
        mu, logvar = self.encode(x)
        return self.decode_logits(self.reparameterize(mu, logvar, eps, generator)), mu, logvar

    def elbo(self, x, eps=None, generator=None) -> ELBO:
        """ELBO, reconstruction (-log p(x | z)) and KL, batch means in nats per example (``ELBO``)."""
        logits, mu, logvar = self(x, eps, generator)
        rec = _per_example(logits, x, "bce").mean()
        kl = gaussian_kl(mu, logvar).mean()
        return ELBO(-(rec + kl), rec, kl)

    def loss(self, x, eps=None, generator=None):
        """The training loss -ELBO (nats per example)."""
        return -self.elbo(x, eps, generator).elbo

    def reconstruct(self, x):
        """The Bernoulli means at the posterior mean z = mu (no sampling, no graph)."""
        with no_grad():
            return self.decode(self.encode(x)[0])

    def sample(self, n: int, generator=None):
        """``n`` images decode(z), z ~ N(0, I) from ``generator``; no graph. ``(n, *input_shape)``."""
        p = next(self.parameters())
        with no_grad():
            return self.decode(randn(n, self.latent_dim, generator=generator, dtype=p.dtype, device=p.device))
