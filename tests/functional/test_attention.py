"""``F.scaled_dot_product_attention`` (a FusedFunction) and ``F.multi_head_attention_forward``: float64
central-difference gradient checks (the raw backward), second derivatives (the composed backward),
the fused op against its composed twin, masks, causal, fully masked rows, dropout and the errors.
The PyTorch comparison is in tests/oracle/test_transformer_oracle.py."""
from __future__ import annotations

import numpy as np
import pytest

import gradus
import gradus.functional as F
from gradus.autograd import gradcheck, gradgradcheck
from gradus.errors import DTypeError, ShapeError
from gradus.functional.attention import _attention_composed, _sdpa
from tests.helpers import SeededInputs


def t64(*shape, seed=0, scale=1.0, grad=True):
    return SeededInputs(seed, np.float64).tensor(*shape, scale=scale, requires_grad=grad)


def qkv(qs=(2, 3, 4), ks=(2, 5, 4), vs=(2, 5, 3)):
    return t64(*qs), t64(*ks, seed=1), t64(*vs, seed=2)


def bool_mask(shape, seed=3, dead_row=None):
    m = np.random.default_rng(seed).random(shape) > 0.4
    m[..., 0] = True                   # every row attends at least one key unless asked otherwise
    if dead_row is not None:
        m[..., dead_row, :] = False
    return gradus.tensor(m)


def grads(fn, inputs, seed=9):
    y = fn(*inputs)
    G = t64(*y.shape, seed=seed, grad=False)
    req = [x for x in inputs if x.requires_grad]
    return y, gradus.autograd.grad(y, req, grad_outputs=G)


def assert_twins(inputs, **kw):
    yf, gf = grads(lambda *a: F.scaled_dot_product_attention(*a, **kw), inputs)
    yc, gc = grads(lambda *a: _attention_composed(*a, **kw), inputs)
    np.testing.assert_allclose(yf.numpy(), yc.numpy(), rtol=1e-10, atol=1e-12)
    for a, b in zip(gf, gc):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)


CASES = {
    "plain": dict(),
    "scale": dict(scale=0.37),
    "causal_L<S": dict(is_causal=True),
    "bool_mask": dict(attn_mask=bool_mask((3, 5))),
    "bool_mask_batched": dict(attn_mask=bool_mask((2, 3, 5))),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_gradcheck_and_twin(case):
    q, k, v = qkv()
    kw = CASES[case]
    fn = lambda a, b, c: F.scaled_dot_product_attention(a, b, c, **kw)  # noqa: E731
    assert gradcheck(fn, [q, k, v])
    assert_twins([q, k, v], **kw)


def test_gradgradcheck_composed_path():
    q, k, v = qkv((1, 2, 3), (1, 4, 3), (1, 4, 2))
    assert gradgradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c), [q, k, v])
    m = bool_mask((2, 4))
    assert gradgradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=m), [q, k, v])


def test_float_mask_is_differentiable_and_checked():
    q, k, v = qkv()
    m = t64(1, 3, 5, seed=4)                                     # broadcasts over the batch
    fn = lambda a, b, c, d: F.scaled_dot_product_attention(a, b, c, attn_mask=d)  # noqa: E731
    assert gradcheck(fn, [q, k, v, m])
    yf, gf = grads(fn, [q, k, v, m])
    yc, gc = grads(lambda a, b, c, d: _attention_composed(a, b, c, attn_mask=d), [q, k, v, m])
    for a, b in zip((yf, *gf), (yc, *gc)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)
    assert gradgradcheck(fn, [t64(1, 2, 2), t64(1, 3, 2, seed=1), t64(1, 3, 2, seed=2), t64(2, 3, seed=4)])


def test_causal_with_more_queries_than_keys_and_4d_heads():
    q, k, v = qkv((2, 2, 6, 4), (2, 2, 4, 4), (2, 2, 4, 3))
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True), [q, k, v])
    assert_twins([q, k, v], is_causal=True)
    # causal is the top-left aligned tril(ones(L, S)) mask
    tril = gradus.tensor(np.tril(np.ones((6, 4), bool)))
    np.testing.assert_allclose(F.scaled_dot_product_attention(q, k, v, is_causal=True).numpy(),
                               F.scaled_dot_product_attention(q, k, v, attn_mask=tril).numpy(), rtol=1e-14)


def test_broadcast_batch_dims_and_gqa():
    q, k, v = qkv((2, 1, 3, 4), (1, 3, 5, 4), (5, 3))       # batch dims broadcast to (2, 3)
    out = F.scaled_dot_product_attention(q, k, v)
    assert out.shape == (2, 3, 3, 3)
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c), [q, k, v])
    q, k, v = qkv((1, 4, 3, 2), (1, 2, 5, 2), (1, 2, 5, 3))
    out = F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
    ref = F.scaled_dot_product_attention(q, k.repeat_interleave(2, dim=1), v.repeat_interleave(2, dim=1))
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-14)
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, enable_gqa=True), [q, k, v])


def test_one_node_saving_only_p():
    q, k, v = qkv()
    y = F.scaled_dot_product_attention(q, k, v, attn_mask=bool_mask((3, 5)))
    assert y.grad_fn.name() == "ScaledDotProductAttentionBackward"
    assert {n for n, _ in y.grad_fn.next_functions if n is not None} == {
        t._grad_edge()[0] for t in (q, k, v)}
    assert set(y.grad_fn._raw) == {"p", "keep", "dead", "bool_mask"}
    assert y.grad_fn.p.shape == (2, 3, 5) and y.grad_fn.keep is None


def test_fully_masked_rows_are_zero_with_zero_gradients():
    """PyTorch 2.13's SDPA returns 0 for a query that may attend no key (bool or -inf float mask)."""
    q, k, v = qkv()
    for m in (bool_mask((3, 5), dead_row=1),
              gradus.tensor(np.where(bool_mask((3, 5), dead_row=1).numpy(), 0.0, -np.inf))):
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=m)
        assert np.all(np.isfinite(y.numpy()))
        assert np.all(y.numpy()[:, 1] == 0)
        y.sum().backward()
        assert np.all(np.isfinite(q.grad.numpy())) and np.all(q.grad.numpy()[:, 1] == 0)
        q.grad = k.grad = v.grad = None
        fn = lambda a, b, c, m=m: F.scaled_dot_product_attention(a, b, c, attn_mask=m)  # noqa: E731
        assert gradcheck(fn, [q, k, v])
        assert_twins([q, k, v], attn_mask=m)
        assert gradgradcheck(fn, [q, k, v])


def test_weights_path_is_nan_for_fully_masked_rows_like_multihead_attention():
    q, k, v = qkv((1, 3, 4), (1, 5, 4), (1, 5, 3))
    m = bool_mask((3, 5), dead_row=2).numpy()
    out, w = _sdpa(q, k, v, m, 0.0, False, 0.5, safe=False, with_weights=True)
    assert np.isnan(out.numpy()[0, 2]).all() and np.isnan(w.numpy()[0, 2]).all()
    assert np.isfinite(out.numpy()[0, :2]).all()


def test_weights_output_gradients():
    q, k, v = qkv()
    m = bool_mask((3, 5)).numpy()

    def both(a, b, c):
        return _sdpa(a, b, c, m, 0.0, False, 0.5, safe=True, with_weights=True)

    out, w = both(q, k, v)
    np.testing.assert_allclose(w.numpy().sum(-1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(out.numpy(), (w @ v).numpy(), rtol=1e-13)
    assert gradcheck(both, [q, k, v])
    assert gradgradcheck(both, [q, k, v])


def test_stable_for_huge_scores():
    q, k, v = qkv()
    y = F.scaled_dot_product_attention(q * 1e4, k * 1e4, v)
    assert np.all(np.isfinite(y.numpy()))


def test_dropout_on_the_weights():
    q, k, v = qkv((2, 6, 4), (2, 30, 4), (2, 30, 3))
    gradus.manual_seed(5)
    out, w = _sdpa(q, k, v, None, 0.5, False, 0.5, safe=True, with_weights=True)
    gradus.manual_seed(5)
    _, w_clean = _sdpa(q, k, v, None, 0.0, False, 0.5, safe=True, with_weights=True)
    kept = w.numpy() != 0
    assert 0.35 < kept.mean() < 0.65
    np.testing.assert_allclose(w.numpy()[kept], 2 * w_clean.numpy()[kept], rtol=1e-14)  # 1/(1-p)
    np.testing.assert_allclose(out.numpy(), (w @ v).numpy(), rtol=1e-13)
    # same seed, same mask: reproducible, and the gradient is that of the masked function
    gradus.manual_seed(1)
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.3).numpy()
    gradus.manual_seed(1)
    np.testing.assert_array_equal(a, F.scaled_dot_product_attention(q, k, v, dropout_p=0.3).numpy())

    def fn(a, b, c):
        gradus.manual_seed(2)
        return F.scaled_dot_product_attention(a, b, c, dropout_p=0.4)

    small = qkv((1, 2, 3), (1, 4, 3), (1, 4, 2))
    assert gradcheck(fn, small)
    assert gradgradcheck(fn, small)
    assert np.all(F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).numpy() == 0)
    np.testing.assert_array_equal(F.scaled_dot_product_attention(q, k, v, dropout_p=0.0).numpy(),
                                  F.scaled_dot_product_attention(q, k, v).numpy())


def test_float32_and_mask_dtype_follow_the_query():
    q, k, v = (t.float() for t in qkv())
    y = F.scaled_dot_product_attention(q, k, v, attn_mask=gradus.zeros(3, 5, dtype=gradus.float64))
    assert y.dtype == gradus.float32


@pytest.mark.parametrize("kwargs,shapes,exc,words", [
    (dict(), ((2, 3, 4), (2, 5, 3), (2, 5, 3)), ShapeError, ["scaled_dot_product_attention", "(2, 3, 4)",
                                                             "(2, 5, 3)", "same embedding size"]),
    (dict(), ((2, 3, 4), (2, 5, 4), (2, 4, 3)), ShapeError, ["key and value", "(2, 5, 4)", "(2, 4, 3)"]),
    (dict(), ((2, 3, 4), (3, 5, 4), (3, 5, 3)), ShapeError, ["batch dims", "(2, 3, 4)", "(3, 5, 4)"]),
    (dict(), ((4,), (5, 4), (5, 3)), ShapeError, ["at least 2-D", "(4,)", "unsqueeze"]),
    (dict(attn_mask=np.ones((3, 4), bool)), ((2, 3, 4), (2, 5, 4), (2, 5, 3)), ShapeError,
     ["attn_mask", "(3, 4)", "(2, 3, 5)", "(L, S)"]),
    (dict(attn_mask=np.ones((3, 5), np.int64)), ((2, 3, 4), (2, 5, 4), (2, 5, 3)), DTypeError,
     ["attn_mask", "int64", "bool()"]),
    (dict(attn_mask=np.ones((3, 5), bool), is_causal=True), ((2, 3, 4), (2, 5, 4), (2, 5, 3)), ValueError,
     ["is_causal", "attn_mask"]),
    (dict(dropout_p=1.5), ((2, 3, 4), (2, 5, 4), (2, 5, 3)), ValueError, ["dropout_p", "1.5"]),
    (dict(enable_gqa=True), ((1, 3, 3, 4), (1, 2, 5, 4), (1, 2, 5, 3)), ShapeError,
     ["enable_gqa", "3 query"]),
])
def test_errors_name_the_op_the_shapes_and_the_fix(kwargs, shapes, exc, words):
    q, k, v = (t64(*s, seed=i) for i, s in enumerate(shapes))
    kwargs = {n: gradus.tensor(a) if isinstance(a, np.ndarray) else a for n, a in kwargs.items()}
    with pytest.raises(exc) as e:
        F.scaled_dot_product_attention(q, k, v, **kwargs)
    for w in words:
        assert w in str(e.value), (w, str(e.value))


def test_dtype_errors():
    q, k, v = qkv()
    with pytest.raises(DTypeError, match="same dtype.*float32.*float64"):
        F.scaled_dot_product_attention(q.float(), k, v)
    with pytest.raises(DTypeError, match="floating point.*int64"):
        F.scaled_dot_product_attention(gradus.tensor(np.ones((3, 4), np.int64)), k[0], v[0])


# ---------------------------------------------------------------------------------------------
# multi_head_attention_forward (its parameters from nn.MultiheadAttention; the layer is tested in
# tests/nn/test_transformer.py and against PyTorch in the oracle)
# ---------------------------------------------------------------------------------------------
def _mha_args(E=4, H=2, seed=0):
    s = SeededInputs(seed, np.float64)
    return dict(embed_dim_to_check=E, num_heads=H, in_proj_weight=s.tensor(3 * E, E, requires_grad=True),
                in_proj_bias=s.tensor(3 * E, requires_grad=True), bias_k=None, bias_v=None,
                add_zero_attn=False, dropout_p=0.0, out_proj_weight=s.tensor(E, E, requires_grad=True),
                out_proj_bias=s.tensor(E, requires_grad=True))


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_forward_gradcheck(need_weights):
    x = t64(3, 2, 4)
    kpm = gradus.tensor(np.array([[False, False, True], [False, False, False]]))
    args = _mha_args()

    def fn(x, w, b):
        a = dict(args, in_proj_weight=w, in_proj_bias=b)
        out, _ = F.multi_head_attention_forward(x, x, x, key_padding_mask=kpm, need_weights=need_weights, **a)
        return out

    assert gradcheck(fn, [x, args["in_proj_weight"], args["in_proj_bias"]])


def test_mha_forward_errors():
    x = t64(3, 2, 4)
    with pytest.raises(ShapeError, match=r"embed_dim=6.*got 4.*\(3, 2, 4\)"):
        F.multi_head_attention_forward(x, x, x, **dict(_mha_args(), embed_dim_to_check=6))
    with pytest.raises(ShapeError, match=r"2-D attn_mask is \(3, 4\).*\(3, 3\)"):
        F.multi_head_attention_forward(x, x, x, attn_mask=gradus.zeros(3, 4), **_mha_args())
    with pytest.raises(ShapeError, match=r"3-D attn_mask.*\(4, 3, 3\)"):
        F.multi_head_attention_forward(x, x, x, attn_mask=gradus.zeros(2, 3, 3), **_mha_args())
    with pytest.raises(ShapeError, match=r"key_padding_mask must have shape \(N, S\) = \(2, 3\)"):
        F.multi_head_attention_forward(x, x, x, key_padding_mask=gradus.zeros(2, 4).bool(), **_mha_args())
    with pytest.raises(ValueError, match="is_causal=True needs attn_mask"):
        F.multi_head_attention_forward(x, x, x, is_causal=True, **_mha_args())
    with pytest.raises(DTypeError, match="key_padding_mask.*int64"):
        F.multi_head_attention_forward(x, x, x, key_padding_mask=gradus.zeros(2, 3, dtype=gradus.int64),
                                       **_mha_args())


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_forward_second_derivatives(need_weights):
    """Double backward through the whole multi-head computation (the fused node's composed path)."""
    x = t64(2, 1, 4)
    args = _mha_args()

    def fn(x, w):
        out, _ = F.multi_head_attention_forward(x, x, x, need_weights=need_weights,
                                                **dict(args, in_proj_weight=w))
        return out

    assert gradgradcheck(fn, [x, args["in_proj_weight"]])
