"""The restricted Boltzmann machine (Smolensky 1986; Hinton 2002), trained by contrastive divergence
(CD-k) or persistent contrastive divergence (Tieleman 2008).

    >>> import gradus
    >>> from gradus.models.rbm import RBM
    >>> rbm = RBM(n_visible=784, n_hidden=64)
    >>> rbm.W.shape, rbm.v_bias.shape, rbm.h_bias.shape
    ((64, 784), (784,), (64,))
    >>> v = gradus.bernoulli(gradus.full((8, 784), 0.5))                # (B, n_visible) binary data
    >>> p_h, h = rbm.sample_h(v)                                        # (B, n_hidden) each
    >>> rbm.free_energy(v).shape                                        # one F(v) per example
    (8,)
    >>> loss = rbm.contrastive_divergence(v, k=1)                       # backward() gives the CD-1 update
    >>> loss.backward()

**The model.** Binary visible units v in {0,1}^V and hidden units h in {0,1}^H, with the energy

    E(v, h) = -v . b - h . c - h^T W v            b = ``v_bias`` (V,), c = ``h_bias`` (H,), W (H, V)

and p(v, h) = exp(-E(v, h)) / Z. "Restricted": no visible-visible or hidden-hidden weights, so each
layer is conditionally independent given the other,

    p(h_j = 1 | v) = sigmoid(c_j + W_j. v)        p(v_i = 1 | h) = sigmoid(b_i + ``W_.i^T`` h)

and the hidden units sum out in closed form: p(v) = exp(-F(v)) / Z with the *free energy*

    F(v) = -log sum_h exp(-E(v, h)) = -v . b - sum_j softplus(c_j + W_j. v)

**Learning.** The log-likelihood gradient is a difference of two expectations of the free energy's
gradient (d/dtheta log p(v) = -dF(v)/dtheta + E_model[dF/dtheta]):

    d/dtheta mean_data log p(v) = -( E_data[dF(v)/dtheta] - E_model[dF(v)/dtheta] )
                                     positive phase        negative phase

For W this is the familiar <p(h|v) v^T>_data - <p(h|v) v^T>_model. The model expectation is
intractable (it needs Z); CD-k replaces it with samples v_k from k steps of block Gibbs sampling
v -> h -> v started at the data (Hinton 2002); persistent CD keeps the Gibbs chains running from one
update to the next instead of restarting them at the data, so they can wander far from it and sample
the model better (Tieleman 2008). ``contrastive_divergence`` returns the surrogate loss

    L = mean_data F(v) - mean_chains F(v_k)       (v_k a constant: sampled without a graph)

whose gradient is exactly the CD (or PCD) estimate of the negative log-likelihood gradient, so a
gradus optimizer minimising L does CD learning (SGD: theta <- theta - lr * dL/dtheta). L's value is
*not* the likelihood; monitor ``reconstruction_error``, or for a small model the exact
``log_likelihood`` (``log_partition`` enumerates 2^min(V, H) states).

Initialisation, from Hinton's practical guide (2010): W ~ N(0, 0.01^2), hidden biases 0, visible
biases 0 (``init_visible_bias_`` sets b_i = log(p_i / (1 - p_i)) from the data's pixel means).
"""
from __future__ import annotations

import itertools

import numpy as np

from .. import nn
from ..autograd import no_grad
from ..creation import bernoulli, ones, randn, tensor, zeros
from ..errors import ShapeError
from ..functional.activation import sigmoid, softplus

__all__ = ["RBM"]

_MAX_ENUMERATED = 20          # log_partition sums over 2^min(V, H) states: at most ~1M


class RBM(nn.Module):
    """A Bernoulli-Bernoulli RBM with ``W`` (n_hidden, n_visible), ``v_bias`` (n_visible,) and
    ``h_bias`` (n_hidden,). Inputs are (B, n_visible) batches of 0/1 (or probability) values."""

    def __init__(self, n_visible: int, n_hidden: int, init_std: float = 0.01, generator=None):
        super().__init__()
        if n_visible < 1 or n_hidden < 1:
            raise ValueError(f"RBM: need n_visible, n_hidden >= 1, got {n_visible}, {n_hidden}")
        self.n_visible, self.n_hidden = n_visible, n_hidden
        self.W = nn.Parameter(randn(n_hidden, n_visible, generator=generator) * init_std)
        self.v_bias = nn.Parameter(zeros(n_visible))
        self.h_bias = nn.Parameter(zeros(n_hidden))

    def extra_repr(self) -> str:
        return f"n_visible={self.n_visible}, n_hidden={self.n_hidden}"

    def _check(self, x, n: int, what: str):
        if x.ndim != 2 or x.shape[1] != n:
            raise ShapeError(f"RBM: expected {what} of shape (B, {n}), got {tuple(x.shape)}")

    # ------------------------------------------------------------------------------- energies
    def energy(self, v, h):
        """E(v, h) = -v . b - h . c - h^T W v per example: v (B, V), h (B, H) -> (B,)."""
        self._check(v, self.n_visible, "v")
        self._check(h, self.n_hidden, "h")
        return -(v @ self.v_bias) - (h @ self.h_bias) - ((h @ self.W) * v).sum(-1)

    def free_energy(self, v):
        """F(v) = -v . b - sum_j softplus(c_j + W_j. v) = -log sum_h exp(-E(v, h)): (B, V) -> (B,)."""
        self._check(v, self.n_visible, "v")
        return -(v @ self.v_bias) - softplus(v @ self.W.T + self.h_bias).sum(-1)

    def forward(self, v):
        """The free energy F(v), (B,)."""
        return self.free_energy(v)

    # ------------------------------------------------------------------------------- sampling
    def sample_h(self, v, generator=None):
        """``(p, h)``: p = p(h = 1 | v) = sigmoid(c + v W^T) and a sample h ~ Bernoulli(p), (B, H) each."""
        self._check(v, self.n_visible, "v")
        p = sigmoid(v @ self.W.T + self.h_bias)
        return p, bernoulli(p, generator=generator)

    def sample_v(self, h, generator=None):
        """``(p, v)``: p = p(v = 1 | h) = sigmoid(b + h W) and a sample v ~ Bernoulli(p), (B, V) each."""
        self._check(h, self.n_hidden, "h")
        p = sigmoid(h @ self.W + self.v_bias)
        return p, bernoulli(p, generator=generator)

    def gibbs(self, v, k: int = 1, generator=None):
        """``k`` steps of block Gibbs sampling from v: h ~ p(h | v), then v ~ p(v | h), k times. Returns
        the binary v_k, (B, V); no graph."""
        if k < 1:
            raise ValueError(f"RBM.gibbs: k must be >= 1, got {k}")
        with no_grad():
            for _ in range(k):
                _, h = self.sample_h(v, generator)
                _, v = self.sample_v(h, generator)
        return v

    def init_chains(self, n: int, generator=None):
        """``n`` starting states for persistent chains, v ~ Bernoulli(sigmoid(b)) (the model with W = 0),
        (n, V). Pass the result as ``persistent`` to ``contrastive_divergence``, again and again."""
        with no_grad():
            p = ones(n, 1, dtype=self.W.dtype) * sigmoid(self.v_bias)          # (n, V)
            return bernoulli(p, generator=generator)

    # ------------------------------------------------------------------------------- learning
    def contrastive_divergence(self, v, k: int = 1, persistent=None, generator=None):
        """The CD-k surrogate loss ``mean F(v) - mean F(v_k)`` (module docstring): its gradient is the
        CD-k estimate of the negative log-likelihood gradient, for any gradus optimizer.

        ``persistent=None``: the negative-phase chains start at the data v (CD-k). Otherwise
        ``persistent`` (n_chains, V) holds the chains' states (persistent CD): they run k steps from
        there, and the new states are written back into ``persistent`` in place, so the next call
        continues them. The number of chains need not equal the batch size.
        """
        self._check(v, self.n_visible, "v")
        start = v if persistent is None else persistent
        if persistent is not None:
            self._check(persistent, self.n_visible, "persistent chains")
        v_model = self.gibbs(start, k, generator)                        # constant: no graph
        if persistent is not None:
            with no_grad():
                persistent.copy_(v_model)
        return self.free_energy(v).mean() - self.free_energy(v_model).mean()

    def init_visible_bias_(self, v) -> RBM:
        """b_i = log(p_i / (1 - p_i)) with p_i the mean of column i of the data v (clipped to
        [0.01, 0.99]): the visible units start at the data's marginals (Hinton 2010, section 8.1)."""
        with no_grad():
            p = np.clip(v.numpy().astype(np.float64).mean(0), 0.01, 0.99)
            self.v_bias.copy_(tensor(np.log(p / (1 - p)), dtype=self.v_bias.dtype))
        return self

    # ------------------------------------------------------------------------------- monitoring
    def reconstruction_error(self, v):
        """Mean squared error per unit between v and its mean-field reconstruction
        p(v | h = p(h | v)): a cheap (if crude) progress measure; a float."""
        with no_grad():
            p_h, _ = self.sample_h(v)
            p_v = sigmoid(p_h @ self.W + self.v_bias)
            return float(((v - p_v) ** 2).mean().item())

    def log_partition(self):
        """log Z, exactly, by enumerating the smaller layer's 2^min(V, H) states (a scalar Tensor, with
        a graph): over h when H <= V, log Z = logsumexp_h [h . c + sum_i softplus(b_i + ``W_.i^T`` h)];
        otherwise logsumexp_v [-F(v)]. For small models only (min(V, H) <= 20)."""
        n = min(self.n_visible, self.n_hidden)
        if n > _MAX_ENUMERATED:
            raise ValueError(f"RBM.log_partition: enumerating 2^{n} states is too many "
                             f"(min(n_visible, n_hidden) must be <= {_MAX_ENUMERATED})")
        states = tensor(np.array(list(itertools.product((0.0, 1.0), repeat=n))), dtype=self.W.dtype)
        if self.n_hidden <= self.n_visible:                  # sum out v analytically, enumerate h
            neg_fh = states @ self.h_bias + softplus(states @ self.W + self.v_bias).sum(-1)
            return neg_fh.logsumexp(0)
        return (-self.free_energy(states)).logsumexp(0)

    def log_likelihood(self, v):
        """The exact mean log-likelihood mean_data log p(v) = mean(-F(v)) - log Z, in nats per example
        (a scalar Tensor); small models only (``log_partition``). Random guessing scores -V log 2."""
        return (-self.free_energy(v)).mean() - self.log_partition()

