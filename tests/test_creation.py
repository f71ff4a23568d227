"""Creation functions: shapes, dtypes (as PyTorch), values, requires_grad, and seeding."""
import numpy as np
import pytest

import gradus


@pytest.mark.parametrize("make, shape, dtype, values", [
    (lambda: gradus.zeros(2, 3), (2, 3), np.float32, 0.0),
    (lambda: gradus.zeros((2, 3)), (2, 3), np.float32, 0.0),
    (lambda: gradus.zeros(()), (), np.float32, 0.0),
    (lambda: gradus.ones(4), (4,), np.float32, 1.0),
    (lambda: gradus.ones(2, dtype=gradus.int64), (2,), np.int64, 1),
    (lambda: gradus.full((2,), 1.5), (2,), np.float32, 1.5),
    (lambda: gradus.full((2, 1), 7), (2, 1), np.int64, 7),
    (lambda: gradus.full(3, True), (3,), np.bool_, True),
    (lambda: gradus.full((2,), 2, dtype=gradus.float64), (2,), np.float64, 2.0),
    (lambda: gradus.empty(2, 3), (2, 3), np.float32, None),
    (lambda: gradus.eye(3), (3, 3), np.float32, np.eye(3)),
    (lambda: gradus.eye(2, 3), (2, 3), np.float32, np.eye(2, 3)),
    (lambda: gradus.arange(5), (5,), np.int64, np.arange(5)),
    (lambda: gradus.arange(1, 10, 3), (3,), np.int64, [1, 4, 7]),
    (lambda: gradus.arange(0, 1, 0.25), (4,), np.float32, [0, 0.25, 0.5, 0.75]),
    (lambda: gradus.arange(3.0), (3,), np.float32, [0, 1, 2]),
    (lambda: gradus.arange(4, dtype=gradus.float64), (4,), np.float64, [0, 1, 2, 3]),
    (lambda: gradus.linspace(0, 1, 5), (5,), np.float32, [0, 0.25, 0.5, 0.75, 1]),
    (lambda: gradus.logspace(0, 2, 3), (3,), np.float32, [1, 10, 100]),
])
def test_factories(make, shape, dtype, values):
    t = make()
    assert t.shape == shape and t.dtype == dtype and isinstance(t.data, np.ndarray)
    if values is not None:
        np.testing.assert_allclose(t.numpy(), np.broadcast_to(values, shape))


def test_like_factories_keep_dtype_and_shape():
    x = gradus.ones(2, 3, dtype=gradus.float64)
    i = gradus.ones(2, dtype=gradus.int64)
    assert gradus.zeros_like(x).dtype == np.float64 and gradus.zeros_like(i).dtype == np.int64
    assert gradus.ones_like(x).tolist() == [[1, 1, 1]] * 2
    assert gradus.full_like(x, 3).tolist() == [[3, 3, 3]] * 2 and gradus.full_like(x, 3).dtype == np.float64
    assert gradus.empty_like(x).shape == (2, 3)
    assert gradus.zeros_like(x, dtype=gradus.float32).dtype == np.float32
    assert gradus.rand_like(x).dtype == np.float64 and gradus.randn_like(x).shape == (2, 3)
    r = gradus.randint_like(i, 0, 3)
    assert r.dtype == np.int64 and r.shape == (2,) and 0 <= r.min().item() and r.max().item() < 3


def test_requires_grad_argument():
    for t in (gradus.zeros(2, requires_grad=True), gradus.ones(2, requires_grad=True),
              gradus.rand(2, requires_grad=True), gradus.randn(2, requires_grad=True),
              gradus.tensor([1.0], requires_grad=True), gradus.full((2,), 1.0, requires_grad=True)):
        assert t.requires_grad and t.is_leaf


def test_random_factories_ranges_and_dtypes():
    u = gradus.rand(1000)
    assert u.dtype == np.float32 and 0 <= u.min().item() and u.max().item() < 1
    n = gradus.randn(2000, dtype=gradus.float64)
    assert n.dtype == np.float64 and abs(n.mean().item()) < 0.1 and abs(n.std().item() - 1) < 0.1
    k = gradus.randint(3, 7, (500,))
    assert k.dtype == np.int64 and set(k.tolist()) == {3, 4, 5, 6}
    assert gradus.randint(5, size=(3,)).max().item() < 5
    p = gradus.randperm(6)
    assert p.dtype == np.int64 and sorted(p.tolist()) == list(range(6))
    b = gradus.bernoulli(gradus.full((1000,), 0.3))
    assert set(b.tolist()) <= {0.0, 1.0} and 0.2 < b.mean().item() < 0.4
    m = gradus.multinomial(gradus.tensor([0.0, 1.0, 0.0]), 4, replacement=True)
    assert m.tolist() == [1, 1, 1, 1]
    assert gradus.normal(5.0, 0.0, (3,)).tolist() == [5.0, 5.0, 5.0]


def test_manual_seed_reproducibility():
    def draw():
        return (gradus.rand(3).numpy(), gradus.randn(2, 2).numpy(), gradus.randint(0, 100, (5,)).numpy(),
                gradus.randperm(7).numpy(), gradus.empty(4).uniform_(-1, 1).numpy(),
                gradus.empty(3).normal_().numpy())

    gradus.manual_seed(123)
    first = draw()
    gradus.manual_seed(123)
    second = draw()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    gradus.manual_seed(124)
    assert not np.array_equal(draw()[0], first[0])
    assert gradus.initial_seed() == 124


def test_rng_state_round_trip_and_explicit_generator():
    state = gradus.get_rng_state()
    a = gradus.randn(4).numpy()
    gradus.set_rng_state(state)
    np.testing.assert_array_equal(gradus.randn(4).numpy(), a)
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    np.testing.assert_array_equal(gradus.rand(3, generator=g1).numpy(), gradus.rand(3, generator=g2).numpy())


def test_linspace_dtypes_and_refusals():
    assert gradus.linspace(0, 10, 4, dtype=gradus.int64).tolist() == [0, 3, 6, 10]  # truncated
    assert gradus.linspace(-3.7, 10.2, 7, dtype=gradus.int8).tolist() == [-3, 0, 1, 3, 5, 7, 10]
    assert gradus.linspace(0, 1, 3, dtype=gradus.float64).dtype == np.float64
    assert gradus.linspace(2.0, 5.0, 1).tolist() == [2.0] and gradus.linspace(0, 1, 0).shape == (0,)
    y = gradus.linspace(-1.3, 7.7, 11)
    assert y[0].item() == np.float32(-1.3) and y[-1].item() == np.float32(7.7)  # both ends exact
    with pytest.raises(TypeError, match="not implemented for dtype bool"):
        gradus.linspace(0, 1, 5, dtype=gradus.bool)
    with pytest.raises(ValueError, match="non-negative"):
        gradus.linspace(0, 1, -1)


def test_tril_triu_indices():
    r, c = gradus.tril_indices(3, 4, 1).numpy()
    assert (r >= 0).all() and ((c - r) <= 1).all() and len(r) == int(np.tril(np.ones((3, 4)), 1).sum())
    u = gradus.triu_indices(4, 3, -1)
    assert u.dtype == np.int64 and u.shape == (2, int(np.triu(np.ones((4, 3)), -1).sum()))
    assert gradus.tril_indices(3, 3, dtype=gradus.int32).dtype == np.int32
    assert gradus.triu_indices(3, 4, 10).shape == (2, 0) and gradus.tril_indices(0, 3).shape == (2, 0)
    with pytest.raises(ValueError, match="row must be non-negative"):
        gradus.tril_indices(-1, 3)
    with pytest.raises(TypeError, match="integer dtype"):
        gradus.triu_indices(3, 3, dtype=gradus.float32)
