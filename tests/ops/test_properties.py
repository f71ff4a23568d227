"""Property tests (hypothesis): broadcasting, movement round trips, indexing against NumPy."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gradus

# few, deterministic examples: these run on every test invocation on a shared machine
fast = settings(max_examples=25, deadline=None, derandomize=True)

_OPS = [(lambda a, b: a + b, np.add), (lambda a, b: a - b, np.subtract), (lambda a, b: a * b, np.multiply),
        (gradus.maximum, np.maximum),
        (lambda a, b: gradus.where(a > 0, a, b), lambda a, b: np.where(a > 0, a, b))]


def _values(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@fast
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=3),
       k=st.integers(0, len(_OPS) - 1))
def test_broadcast_values_and_grad_shapes(shapes, k):
    (sa, sb), out_shape = shapes.input_shapes, shapes.result_shape
    fn, ref = _OPS[k]
    a = gradus.tensor(_values(sa, 1).astype(np.float32), requires_grad=True)
    b = gradus.tensor(_values(sb, 2), requires_grad=True)          # float64: promoted result
    y = fn(a, b)
    assert y.shape == out_shape and y.dtype == np.float64
    np.testing.assert_allclose(y.numpy(), ref(a.numpy().astype(np.float64), b.numpy()), rtol=1e-6)
    y.sum().backward()
    assert a.grad.shape == sa and a.grad.dtype == np.float32
    assert b.grad.shape == sb and b.grad.dtype == np.float64
    if k == 0:  # d(sum(a + b))/da counts how many output elements each element of a reaches
        np.testing.assert_allclose(a.grad.numpy(), np.full(sa, np.prod(out_shape) / max(np.prod(sa), 1)))


@fast
@given(shape=hnp.array_shapes(min_dims=0, max_dims=4, max_side=3), data=st.data())
def test_reshape_permute_flip_round_trips(shape, data):
    x = gradus.tensor(_values(shape), requires_grad=True)
    n = x.numel()
    new = data.draw(st.sampled_from([(n,), (1, n), (n, 1), ()] if n == 1 else [(n,), (1, n), (n, 1), (-1,)]))
    assert np.array_equal(x.reshape(new).reshape(shape).numpy(), x.numpy())
    perm = data.draw(st.permutations(range(x.ndim)))
    inv = np.argsort(perm).tolist()
    y = x.permute(*perm)
    np.testing.assert_array_equal(y.numpy(), np.transpose(x.numpy(), perm))
    np.testing.assert_array_equal(y.permute(*inv).numpy(), x.numpy())
    if x.ndim:
        dims = data.draw(st.lists(st.integers(0, x.ndim - 1), min_size=1, max_size=x.ndim, unique=True))
        np.testing.assert_array_equal(x.flip(dims).flip(dims).numpy(), x.numpy())
        np.testing.assert_array_equal(x.flip(dims).numpy(), np.flip(x.numpy(), dims))
    g = _values(shape, 3)
    (y.permute(*inv) * gradus.tensor(g)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), g)  # movement is a bijection: grads move back unchanged


@fast
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5), data=st.data())
def test_cat_and_split_are_inverse(shape, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[dim]
    sizes = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=4))
    parts = [gradus.tensor(_values(shape[:dim % len(shape)] + (s,) + shape[dim % len(shape) + 1:], i),
                           requires_grad=True) for i, s in enumerate(sizes)]
    y = gradus.cat(parts, dim)
    np.testing.assert_array_equal(y.numpy(), np.concatenate([p.numpy() for p in parts], dim))
    back = gradus.split(y, sizes, dim)
    assert len(back) == len(parts)
    for p, q in zip(parts, back):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    x = gradus.tensor(_values(shape))
    k = data.draw(st.integers(1, n))
    np.testing.assert_array_equal(gradus.cat(x.split(k, dim), dim).numpy(), x.numpy())
    (y * y).sum().backward()
    for p in parts:
        np.testing.assert_allclose(p.grad.numpy(), 2 * p.numpy())


@fast
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5), data=st.data())
def test_basic_indexing_matches_numpy(shape, data):
    # PyTorch has no negative slice steps, so only positive ones are drawn
    idx = data.draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True).filter(
        lambda ix: all(not isinstance(i, slice) or i.step is None or i.step > 0
                       for i in (ix if isinstance(ix, tuple) else (ix,)))))
    a = _values(shape)
    x = gradus.tensor(a, requires_grad=True)
    y = x[idx]
    np.testing.assert_array_equal(y.numpy(), a[idx])
    y.sum().backward()
    count = np.zeros(shape)
    count[idx] += 1
    np.testing.assert_array_equal(x.grad.numpy(), count)


@fast
@given(n=st.integers(1, 6), data=st.data())
def test_integer_array_gradient_is_the_scatter_add_count(n, data):
    idx = np.array(data.draw(st.lists(st.integers(-n, n - 1), min_size=0, max_size=10)), dtype=np.int64)
    x = gradus.tensor(_values((n, 2)), requires_grad=True)
    y = x[idx]
    np.testing.assert_array_equal(y.numpy(), x.numpy()[idx])
    y.sum().backward()
    count = np.bincount(idx % n, minlength=n).astype(np.float64)
    np.testing.assert_array_equal(x.grad.numpy(), np.repeat(count[:, None], 2, 1))
    # index_select and embedding scatter-add the same way
    x.grad = None
    if idx.size:
        x.index_select(0, gradus.tensor(idx)).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy()[:, 0], count)


@fast
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), seed=st.integers(0, 100))
def test_bool_mask_indexing(shape, seed):
    rng = np.random.default_rng(seed)
    a, mask = rng.standard_normal(shape), rng.random(shape) < 0.5
    x = gradus.tensor(a, requires_grad=True)
    y = x[gradus.tensor(mask)]
    np.testing.assert_array_equal(y.numpy(), a[mask])
    (y * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2.0 * mask)
