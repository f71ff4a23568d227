"""RBM: the free energy and log Z against brute-force enumeration, the conditionals and Gibbs sampling
(the chain's states come to follow the exact p(v)), the CD surrogate's gradient against the CD update
written out, CD-1 and persistent CD raising the exact log-likelihood of a tiny RBM, and persistent
chains that persist."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import gradus
from gradus import optim
from gradus.errors import ShapeError
from gradus.models.rbm import RBM


def _states(n):
    return np.array(list(itertools.product((0.0, 1.0), repeat=n)))


def _random_rbm(V, H, seed, scale=1.0):
    """A float64 RBM with O(1) parameters (so every term of the enumeration matters)."""
    rng = np.random.default_rng(seed)
    rbm = RBM(V, H).double()
    with gradus.no_grad():
        rbm.W.copy_(gradus.tensor(rng.normal(scale=scale, size=(H, V))))
        rbm.v_bias.copy_(gradus.tensor(rng.normal(scale=scale, size=V)))
        rbm.h_bias.copy_(gradus.tensor(rng.normal(scale=scale, size=H)))
    return rbm


def _energy(rbm, v, h):
    W, b, c = rbm.W.numpy(), rbm.v_bias.numpy(), rbm.h_bias.numpy()
    return -v @ b - h @ c - np.einsum("bh,hv,bv->b", h, W, v)


def _exact_p_v(rbm):
    """p(v) over all 2^V visible states, from the joint by brute force: sum_h exp(-E(v, h)) / Z."""
    vs, hs = _states(rbm.n_visible), _states(rbm.n_hidden)
    e = np.stack([_energy(rbm, vs, np.tile(h, (len(vs), 1))) for h in hs], 1)     # (2^V, 2^H)
    un = np.exp(-e).sum(1)
    return un / un.sum()


# ----------------------------------------------------------------------------- the model
def test_parameters_and_shapes():
    gradus.manual_seed(0)
    rbm = RBM(7, 3)
    assert rbm.W.shape == (3, 7) and rbm.v_bias.shape == (7,) and rbm.h_bias.shape == (3,)
    assert {n for n, _ in rbm.named_parameters()} == {"W", "v_bias", "h_bias"}
    assert np.std(RBM(200, 100).W.numpy()) == pytest.approx(0.01, rel=0.05)      # Hinton's N(0, 0.01^2)
    v = gradus.bernoulli(gradus.full((5, 7), 0.5))
    p, h = rbm.sample_h(v)
    assert p.shape == h.shape == (5, 3)
    p, v2 = rbm.sample_v(h)
    assert p.shape == v2.shape == (5, 7)
    assert rbm.free_energy(v).shape == rbm(v).shape == (5,) and rbm.gibbs(v, 3).shape == (5, 7)
    with pytest.raises(ShapeError, match=r"\(B, 7\)"):
        rbm.free_energy(gradus.zeros(5, 6))
    with pytest.raises(ValueError, match="k must be >= 1"):
        rbm.gibbs(v, 0)


def test_free_energy_equals_minus_log_sum_over_h_by_enumeration():
    rbm = _random_rbm(4, 3, seed=0)
    vs, hs = _states(4), _states(3)
    for v in vs:
        e = _energy(rbm, np.tile(v, (len(hs), 1)), hs)                  # E(v, h) for all 8 h
        want = -np.log(np.exp(-e).sum())
        got = rbm.free_energy(gradus.tensor(v[None])).item()
        assert got == pytest.approx(want, rel=1e-12, abs=1e-12)
    v, h = vs[:5], hs[[1, 2, 3, 5, 7]]
    np.testing.assert_allclose(rbm.energy(gradus.tensor(v), gradus.tensor(h)).numpy(), _energy(rbm, v, h),
                               rtol=1e-12)


@pytest.mark.parametrize("V, H", [(5, 3), (3, 5)])                      # enumerate h, enumerate v
def test_log_partition_and_log_likelihood_by_brute_force(V, H):
    rbm = _random_rbm(V, H, seed=1)
    vs, hs = _states(V), _states(H)
    e = np.stack([_energy(rbm, vs, np.tile(h, (len(vs), 1))) for h in hs])          # every (v, h)
    log_z = np.log(np.exp(-e).sum())
    assert rbm.log_partition().item() == pytest.approx(log_z, rel=1e-12)
    data = vs[[0, 3, 3, 6]]
    p = _exact_p_v(rbm)
    idx = [int("".join(str(int(b)) for b in row), 2) for row in data]
    assert rbm.log_likelihood(gradus.tensor(data)).item() == pytest.approx(np.log(p[idx]).mean(), rel=1e-12)
    assert p.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="too many"):
        RBM(30, 25).log_partition()


def test_conditionals_and_sampling():
    rbm = _random_rbm(4, 3, seed=2)
    W, b, c = rbm.W.numpy(), rbm.v_bias.numpy(), rbm.h_bias.numpy()
    v = gradus.tensor(np.tile(_states(4)[[5]], (20000, 1)))
    p, h = rbm.sample_h(v, generator=np.random.default_rng(0))
    np.testing.assert_allclose(p.numpy()[0], 1 / (1 + np.exp(-(c + W @ v.numpy()[0]))), rtol=1e-12)
    assert set(np.unique(h.numpy())) <= {0.0, 1.0}
    np.testing.assert_allclose(h.numpy().mean(0), p.numpy()[0], atol=0.015)        # h ~ Bernoulli(p)
    p, v2 = rbm.sample_v(h, generator=np.random.default_rng(1))
    np.testing.assert_allclose(p.numpy(), 1 / (1 + np.exp(-(b + h.numpy() @ W))), rtol=1e-12)
    a = rbm.sample_v(h, generator=np.random.default_rng(1))[1]
    np.testing.assert_array_equal(a.numpy(), v2.numpy())                           # from the generator


def test_gibbs_chains_sample_the_exact_distribution():
    rbm = _random_rbm(3, 2, seed=3)
    g = np.random.default_rng(4)
    v = gradus.tensor(np.zeros((20000, 3)))
    vk = rbm.gibbs(v, k=30, generator=g).numpy()                               # 20,000 chains, 30 steps
    codes = (vk @ np.array([4, 2, 1])).astype(int)
    freq = np.bincount(codes, minlength=8) / len(codes)
    tv = 0.5 * np.abs(freq - _exact_p_v(rbm)).sum()                            # total variation
    assert tv < 0.02, (freq, _exact_p_v(rbm))
    assert not rbm.gibbs(v[:2], 1).requires_grad                                # no graph


# ----------------------------------------------------------------------------- learning
def test_cd_surrogate_gradient_is_the_cd_update():
    rbm = _random_rbm(5, 4, seed=5, scale=0.5)
    rng = np.random.default_rng(6)
    v = gradus.tensor((rng.random((8, 5)) < 0.5).astype(np.float64))
    loss = rbm.contrastive_divergence(v, k=2, generator=np.random.default_rng(7))
    loss.backward()
    vk = rbm.gibbs(v, k=2, generator=np.random.default_rng(7)).numpy()        # the same negative samples
    W, c, v0 = rbm.W.numpy(), rbm.h_bias.numpy(), v.numpy()
    ph0, phk = 1 / (1 + np.exp(-(v0 @ W.T + c))), 1 / (1 + np.exp(-(vk @ W.T + c)))
    # the CD-k update is minus these: <p(h|v) v^T>_data - <p(h|v_k) v_k^T>_model, and so on
    np.testing.assert_allclose(rbm.W.grad.numpy(), -(ph0.T @ v0 / 8 - phk.T @ vk / 8), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(rbm.v_bias.grad.numpy(), -(v0.mean(0) - vk.mean(0)), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(rbm.h_bias.grad.numpy(), -(ph0.mean(0) - phk.mean(0)), rtol=1e-10, atol=1e-12)
    f = rbm.free_energy(v).numpy().mean() - rbm.free_energy(gradus.tensor(vk)).numpy().mean()
    assert loss.item() == pytest.approx(f, rel=1e-12)


def _dataset():
    """60 six-bit vectors: two prototypes (111000, 000011), each bit flipped with probability 0.1."""
    rng = np.random.default_rng(0)
    protos = np.array([[1, 1, 1, 0, 0, 0], [0, 0, 0, 0, 1, 1]], dtype=np.float32)
    x = protos[rng.integers(0, 2, size=60)]
    return gradus.tensor(np.abs(x - (rng.random(x.shape) < 0.1)).astype(np.float32))


@pytest.mark.parametrize("persistent", [False, True], ids=["cd1", "pcd"])
def test_exact_log_likelihood_rises_during_cd_training(persistent):
    """6 visible, 4 hidden: log Z over 2^4 hidden states (checked against 2^6 visible ones above)."""
    gradus.manual_seed(0)
    g = np.random.default_rng(1)
    rbm = RBM(6, 4, generator=g)
    x = _dataset()
    chains = rbm.init_chains(60, generator=g) if persistent else None
    opt = optim.SGD(rbm.parameters(), lr=0.1, momentum=0.5)
    lls = [rbm.log_likelihood(x).item()]
    errors = [rbm.reconstruction_error(x)]
    for step in range(1, 601):
        opt.zero_grad()
        rbm.contrastive_divergence(x, k=1, persistent=chains, generator=g).backward()
        opt.step()
        if step % 100 == 0:
            lls.append(rbm.log_likelihood(x).item())
            errors.append(rbm.reconstruction_error(x))
    assert lls[0] == pytest.approx(-6 * np.log(2), abs=0.05)                 # ~ uniform at the start
    assert lls[-1] > lls[0] + 1.0, lls
    assert all(ll > lls[0] + 0.3 for ll in lls[1:]), lls
    assert lls[-1] > lls[1] - 0.05, lls                                       # no collapse later on
    assert errors[-1] < 0.5 * errors[0], errors


def test_persistent_chains_persist():
    rbm = _random_rbm(5, 3, seed=8, scale=0.5)
    g0 = np.random.default_rng(9)
    chains = rbm.init_chains(7, generator=g0)
    assert chains.shape == (7, 5) and set(np.unique(chains.numpy())) <= {0.0, 1.0}
    start = chains.numpy().copy()
    data_a = gradus.tensor(np.ones((4, 5)))                                  # the batch size need not match
    data_b = gradus.tensor(np.zeros((3, 5)))
    rbm.contrastive_divergence(data_a, k=2, persistent=chains, generator=np.random.default_rng(10))
    after_one = chains.numpy().copy()
    # the chains moved from where they were, exactly as k Gibbs steps from their old state would
    want = rbm.gibbs(gradus.tensor(start), 2, generator=np.random.default_rng(10)).numpy()
    np.testing.assert_array_equal(after_one, want)
    assert not np.array_equal(after_one, start)
    # the next call continues them; the data do not restart them
    rbm.contrastive_divergence(data_b, k=2, persistent=chains, generator=np.random.default_rng(11))
    want = rbm.gibbs(gradus.tensor(after_one), 2, generator=np.random.default_rng(11)).numpy()
    np.testing.assert_array_equal(chains.numpy(), want)
    # plain CD restarts at the data instead: the chains are not touched
    before = chains.numpy().copy()
    rbm.contrastive_divergence(data_a, k=1)
    np.testing.assert_array_equal(chains.numpy(), before)


def test_init_visible_bias_matches_the_data_marginals():
    x = _dataset()
    rbm = RBM(6, 4).init_visible_bias_(x)
    p = np.clip(x.numpy().mean(0), 0.01, 0.99)
    np.testing.assert_allclose(1 / (1 + np.exp(-rbm.v_bias.numpy())), p, rtol=1e-5)
