"""Attention and Transformer layers against PyTorch 2.13 with the SAME weights (torch's state_dict loaded
into gradus), float64, dropout 0: outputs, attention weights and the gradients of every input and
every parameter, for every mask kind (bool / float, attn / key padding, causal hint, fully masked
rows), batch_first both ways, norm_first both ways, relu and gelu. Tolerance: rtol 1e-9, atol 1e-11
(the observed differences are ~1e-14)."""
from __future__ import annotations

import numpy as np
import pytest

import gradus
import gradus.functional as F
from gradus import nn

pytestmark = [
    pytest.mark.oracle,
    # both libraries warn about a bool padding mask beside a float attention mask (allowed, deprecated),
    # PyTorch also about its nested-tensor fast path: the tests mix mask kinds on purpose
    pytest.mark.filterwarnings("ignore:Support for mismatched"),
    pytest.mark.filterwarnings("ignore:enable_nested_tensor is True"),
    pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors"),
]

RTOL, ATOL = 1e-9, 1e-11


def _close(g, t, what):
    t = t.detach().numpy() if hasattr(t, "detach") else t
    g = g.numpy() if hasattr(g, "numpy") else g
    assert g.shape == t.shape, (what, g.shape, t.shape)
    np.testing.assert_array_equal(np.isnan(g), np.isnan(t), err_msg=f"{what}: NaN pattern")
    np.testing.assert_allclose(g, t, rtol=RTOL, atol=ATOL, err_msg=what, equal_nan=True)


def _inputs(torch, rng, shapes, grad=True):
    """(gradus tensors, torch tensors) for arrays drawn with these shapes."""
    arrays = [rng.standard_normal(s) for s in shapes]
    return ([gradus.tensor(a, requires_grad=grad) for a in arrays],
            [torch.tensor(a, requires_grad=grad) for a in arrays])


def _mask_pair(torch, m, grad=False):
    if m is None:
        return None, None
    if m.dtype == bool:
        return gradus.tensor(m), torch.tensor(m)
    return gradus.tensor(m, requires_grad=grad), torch.tensor(m, requires_grad=grad)


def _backprop(torch, rng, outs_g, outs_t):
    """Backprop the same random upstream gradient through matching outputs; False (nothing done) when
    an output holds NaN (MultiheadAttention's fully masked rows with need_weights=True)."""
    pairs = [(og, ot) for og, ot in zip(outs_g, outs_t) if og is not None]
    if any(np.isnan(og.numpy()).any() for og, _ in pairs):
        return False
    loss_g, loss_t = 0, 0
    for og, ot in pairs:
        G = rng.standard_normal(tuple(ot.shape))
        loss_g = loss_g + (og * gradus.tensor(G)).sum()
        loss_t = loss_t + (ot * torch.tensor(G)).sum()
    loss_g.backward()
    loss_t.backward()
    return True


# ---------------------------------------------------------------------------------------------
# scaled_dot_product_attention
# ---------------------------------------------------------------------------------------------
def _dead_bool(shape, rows):
    m = np.random.default_rng(7).random(shape) > 0.4
    m[..., 0] = True
    for r in rows:
        m[..., r, :] = False
    return m


SDPA_CASES = {
    "3d": (((2, 3, 4), (2, 5, 4), (2, 5, 6)), dict()),
    "4d_heads": (((2, 3, 4, 4), (2, 3, 5, 4), (2, 3, 5, 2)), dict()),
    "unbatched_2d": (((3, 4), (5, 4), (5, 6)), dict()),
    "broadcast_batch": (((2, 1, 3, 4), (1, 3, 5, 4), (5, 2)), dict()),
    "scale": (((2, 3, 4), (2, 5, 4), (2, 5, 6)), dict(scale=0.21)),
    "causal_L<S": (((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3)), dict(is_causal=True)),
    "causal_L>S": (((2, 2, 6, 4), (2, 2, 5, 4), (2, 2, 5, 3)), dict(is_causal=True)),
    "causal_square": (((2, 5, 4), (2, 5, 4), (2, 5, 3)), dict(is_causal=True)),
    "bool_LS": (((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3)), dict(attn_mask=_dead_bool((3, 5), []))),
    "bool_N1LS": (((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3)), dict(attn_mask=_dead_bool((2, 1, 3, 5), []))),
    "bool_fully_masked_rows": (((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3)),
                               dict(attn_mask=_dead_bool((2, 2, 3, 5), [1]))),
    "float": (((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3)),
              dict(attn_mask=np.random.default_rng(3).standard_normal((2, 2, 3, 5)))),
    "float_-inf_and_fully_masked": (((2, 3, 4), (2, 5, 4), (2, 5, 3)),
                                    dict(attn_mask=np.where(_dead_bool((3, 5), [2]), 0.5, -np.inf))),
    "gqa": (((2, 4, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3)), dict(enable_gqa=True)),
}


@pytest.mark.parametrize("case", sorted(SDPA_CASES))
def test_sdpa_matches_torch(torch, case):
    shapes, kw = SDPA_CASES[case]
    rng = np.random.default_rng(0)
    (gq, gk, gv), (tq, tk, tv) = _inputs(torch, rng, shapes)
    kw_g, kw_t = dict(kw), dict(kw)
    gm = tm = None
    if "attn_mask" in kw:
        gm, tm = _mask_pair(torch, kw["attn_mask"], grad=kw["attn_mask"].dtype != bool)
        kw_g["attn_mask"], kw_t["attn_mask"] = gm, tm
    og = F.scaled_dot_product_attention(gq, gk, gv, **kw_g)
    ot = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, **kw_t)
    _close(og, ot, "output")
    assert _backprop(torch, rng, [og], [ot])
    for g, t, n in ((gq, tq, "query"), (gk, tk, "key"), (gv, tv, "value")):
        _close(g.grad, t.grad, f"grad of {n}")
    if gm is not None and gm.requires_grad:
        _close(gm.grad, tm.grad, "grad of the float mask")


def test_sdpa_dropout_zero_and_no_grad_match_torch(torch):
    rng = np.random.default_rng(1)
    (gq, gk, gv), (tq, tk, tv) = _inputs(torch, rng, [(2, 3, 4), (2, 5, 4), (2, 5, 3)], grad=False)
    _close(F.scaled_dot_product_attention(gq, gk, gv, dropout_p=0.0),
           torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, dropout_p=0.0), "output")


# ---------------------------------------------------------------------------------------------
# MultiheadAttention
# ---------------------------------------------------------------------------------------------
E, H = 8, 2


def _load(torch, g_mod, t_mod, perturb=True):
    """Random torch weights (biases too, which PyTorch initialises to 0), loaded into gradus."""
    t_mod.double()
    g_mod.double()
    if perturb:
        gen = torch.Generator().manual_seed(0)
        with torch.no_grad():
            for p in t_mod.parameters():
                p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype) * 0.5)
    state = t_mod.state_dict()
    assert list(g_mod.state_dict()) == list(state)
    g_mod.load_state_dict(state)


def _compare_params(g_mod, t_mod):
    g_params, t_params = dict(g_mod.named_parameters()), dict(t_mod.named_parameters())
    assert list(g_params) == list(t_params)
    for name, tp in t_params.items():
        gp = g_params[name]
        if tp.grad is None:
            assert gp.grad is None or not np.any(gp.grad.numpy()), name
        else:
            _close(gp.grad, tp.grad, f"grad of {name}")


MHA_CONFIGS = {
    "default": dict(),
    "batch_first": dict(batch_first=True),
    "no_bias": dict(bias=False),
    "kdim_vdim": dict(kdim=5, vdim=3),
    "bias_kv": dict(add_bias_kv=True),
    "zero_attn": dict(add_zero_attn=True),
    "all_extras_batch_first": dict(add_bias_kv=True, add_zero_attn=True, kdim=5, vdim=3, batch_first=True),
}
L_, S_, N_ = 3, 4, 2
_KPM = np.array([[False, False, True, False], [False, True, False, True]])
MASKS = {
    "none": (None, None, False),
    "kpm_bool": (_KPM, None, False),
    "kpm_float": (np.where(_KPM, -np.inf, 0.0), None, False),
    "attn_bool_2d": (None, ~_dead_bool((L_, S_), []), False),          # True = NOT allowed
    "attn_float_2d": (None, np.random.default_rng(5).standard_normal((L_, S_)), False),
    "attn_float_3d": (None, np.random.default_rng(6).standard_normal((N_ * H, L_, S_)), False),
    "attn_bool_3d": (None, np.random.default_rng(8).random((N_ * H, L_, S_)) > 0.7, False),
    "both_bool": (_KPM, np.random.default_rng(9).random((L_, S_)) > 0.8, False),
    "both_float": (np.where(_KPM, -1e9, 0.0), np.random.default_rng(10).standard_normal((L_, S_)), False),
    "fully_masked_row_kpm": (np.array([[True] * S_, [False, True, False, True]]), None, False),
    "fully_masked_row_attn": (None, np.array([[False] * S_, [True] * S_, [False, True, True, True]]), False),
}


def _mha_run(torch, cfg, mask_case, need_weights, average, self_attention, unbatched=False, is_causal=False,
             seed=0):
    kw = MHA_CONFIGS[cfg]
    torch.manual_seed(0)
    tm = torch.nn.MultiheadAttention(E, H, **kw)
    gm = nn.MultiheadAttention(E, H, **kw)
    _load(torch, gm, tm)
    rng = np.random.default_rng(seed)
    bf = kw.get("batch_first", False)
    kd, vd = kw.get("kdim", E), kw.get("vdim", E)
    S = L_ if self_attention else S_

    def shape(T, D):
        if unbatched:
            return (T, D)
        return (N_, T, D) if bf else (T, N_, D)

    kpm, am, _ = MASKS[mask_case]
    if self_attention:
        kpm = None if kpm is None else kpm[:, :S]
        am = None if am is None else am[..., :S, :S]
        (gx,), (tx,) = _inputs(torch, rng, [shape(L_, E)])
        g_args, t_args, ins = (gx, gx, gx), (tx, tx, tx), [(gx, tx, "x")]
    else:
        gs, ts = _inputs(torch, rng, [shape(L_, E), shape(S, kd), shape(S, vd)])
        g_args, t_args = tuple(gs), tuple(ts)
        ins = [(g, t, n) for g, t, n in zip(gs, ts, ("query", "key", "value"))]
    if unbatched:
        kpm = None if kpm is None else kpm[0]
        am = None if am is None or am.ndim == 2 else am[:H]
    gk, tk = _mask_pair(torch, kpm)
    ga, ta = _mask_pair(torch, am)
    opts = dict(need_weights=need_weights, average_attn_weights=average, is_causal=is_causal)
    out_g, w_g = gm(*g_args, key_padding_mask=gk, attn_mask=ga, **opts)
    out_t, w_t = tm(*t_args, key_padding_mask=tk, attn_mask=ta, **opts)
    _close(out_g, out_t, "attn_output")
    if need_weights:
        _close(w_g, w_t, "attn_weights")
    else:
        assert w_g is None and w_t is None
    if _backprop(torch, rng, [out_g, w_g], [out_t, w_t]):
        for g, t, n in ins:
            _close(g.grad, t.grad, f"grad of {n}")
        _compare_params(gm, tm)


@pytest.mark.parametrize("cfg", sorted(MHA_CONFIGS))
@pytest.mark.parametrize("need_weights", [True, False], ids=["weights", "no_weights"])
def test_mha_configs_match_torch(torch, cfg, need_weights):
    self_attention = "kdim" not in MHA_CONFIGS[cfg]
    mask_case = "kpm_bool" if self_attention else "both_bool"
    _mha_run(torch, cfg, mask_case, need_weights, True, self_attention)
    _mha_run(torch, cfg, "attn_float_3d", need_weights, False, False)


@pytest.mark.parametrize("mask_case", sorted(MASKS))
@pytest.mark.parametrize("need_weights", [True, False], ids=["weights", "no_weights"])
def test_mha_masks_match_torch(torch, mask_case, need_weights):
    """Cross-attention (L=3, S=4) with every mask kind; fully masked rows are NaN with weights, 0
    without (PyTorch's two paths)."""
    _mha_run(torch, "default", mask_case, need_weights, mask_case.endswith("3d"), False)


@pytest.mark.parametrize("need_weights", [True, False], ids=["weights", "no_weights"])
@pytest.mark.parametrize("with_kpm", [False, True], ids=["causal", "causal+kpm"])
def test_mha_causal_hint_matches_torch(torch, need_weights, with_kpm):
    kw = dict(batch_first=True)
    torch.manual_seed(0)
    tm, gm = torch.nn.MultiheadAttention(E, H, **kw), nn.MultiheadAttention(E, H, **kw)
    _load(torch, gm, tm)
    rng = np.random.default_rng(2)
    (gx,), (tx,) = _inputs(torch, rng, [(N_, 5, E)])
    causal = np.where(np.triu(np.ones((5, 5), bool), 1), -np.inf, 0.0)
    kpm = np.array([[0.0] * 4 + [-np.inf], [0.0] * 5]) if with_kpm else None  # float, as the mask
    gk, tk = _mask_pair(torch, kpm)
    out_g, w_g = gm(gx, gx, gx, attn_mask=gradus.tensor(causal), key_padding_mask=gk, is_causal=True,
                    need_weights=need_weights)
    out_t, w_t = tm(tx, tx, tx, attn_mask=torch.tensor(causal), key_padding_mask=tk, is_causal=True,
                    need_weights=need_weights)
    _close(out_g, out_t, "attn_output")
    if need_weights:
        _close(w_g, w_t, "attn_weights")
    assert _backprop(torch, rng, [out_g, w_g], [out_t, w_t])
    _close(gx.grad, tx.grad, "grad of x")
    _compare_params(gm, tm)


@pytest.mark.parametrize("need_weights", [True, False], ids=["weights", "no_weights"])
def test_mha_unbatched_matches_torch(torch, need_weights):
    _mha_run(torch, "default", "kpm_bool", need_weights, True, False, unbatched=True)
    _mha_run(torch, "bias_kv", "attn_float_3d", need_weights, False, False, unbatched=True)


def test_mha_eval_with_dropout_and_fast_path_match_torch(torch):
    """In eval mode dropout is off; under no_grad PyTorch takes its fused fast path, same numbers."""
    torch.manual_seed(0)
    tm = torch.nn.MultiheadAttention(E, H, dropout=0.5, batch_first=True)
    gm = nn.MultiheadAttention(E, H, dropout=0.5, batch_first=True)
    _load(torch, gm, tm)
    tm.eval(), gm.eval()
    x = np.random.default_rng(3).standard_normal((N_, L_, E))
    kpm = np.array([[False, False, True], [False, False, False]])
    with torch.no_grad():
        for need_weights in (True, False):
            out_t, w_t = tm(*[torch.tensor(x)] * 3, key_padding_mask=torch.tensor(kpm),
                            need_weights=need_weights)
            out_g, w_g = gm(*[gradus.tensor(x)] * 3, key_padding_mask=gradus.tensor(kpm),
                            need_weights=need_weights)
            _close(out_g, out_t, "attn_output")
            if need_weights:
                _close(w_g, w_t, "attn_weights")


def test_mha_dropout_in_training_drops_weights(torch):
    """Dropout masks come from different generators, so compare statistics: the weights PyTorch and gradus
    return are the dropped-out, rescaled softmax (kept entries = 2 * the eval weights for p = 0.5)."""
    gm = nn.MultiheadAttention(E, H, dropout=0.5).double()
    x = gradus.tensor(np.random.default_rng(4).standard_normal((6, N_, E)))
    gm.train()
    _, w = gm(x, x, x, average_attn_weights=False)
    gm.eval()
    _, w_eval = gm(x, x, x, average_attn_weights=False)
    kept = w.numpy() != 0
    assert 0.3 < kept.mean() < 0.7
    np.testing.assert_allclose(w.numpy()[kept], 2 * w_eval.numpy()[kept], rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# Transformer layers, stacks and the whole model
# ---------------------------------------------------------------------------------------------
D, NH, FF = 8, 2, 16
S_SRC, T_TGT, NB = 5, 4, 3


def _act(torch, name):
    """(gradus activation, torch activation) for a layer's ``activation`` argument."""
    if name == "gelu_tanh_module":
        return nn.GELU(approximate="tanh"), torch.nn.GELU(approximate="tanh")
    return name, name


def _pair(torch, cls, *args, act="relu", **kw):
    ga, ta = _act(torch, act)
    torch.manual_seed(0)
    t_mod = getattr(torch.nn, cls)(*args, activation=ta, **kw)
    g_mod = getattr(nn, cls)(*args, activation=ga, **kw)
    _load(torch, g_mod, t_mod)
    return g_mod, t_mod


def _seq(torch, rng, T, batch_first, unbatched=False, grad=True):
    shape = (T, D) if unbatched else ((NB, T, D) if batch_first else (T, NB, D))
    (g,), (t,) = _inputs(torch, rng, [shape], grad=grad)
    return g, t


def _masks(torch, kind, T, S=None):
    """(gradus kwargs, torch kwargs) builders for a (T, S) attention mask and (N, S) padding mask."""
    S = T if S is None else S
    kpm = np.zeros((NB, S), bool)
    kpm[0, -2:] = True
    kpm[2, -1] = True
    causal = np.where(np.triu(np.ones((T, S), bool), 1), -np.inf, 0.0)
    if kind == "none":
        return None, None
    if kind == "causal_float+kpm_bool":
        return causal, kpm
    if kind == "bool_both":
        return np.triu(np.ones((T, S), bool), 1), kpm
    if kind == "float_both":
        return np.random.default_rng(11).standard_normal((T, S)), np.where(kpm, -np.inf, 0.0)
    if kind == "3d_float":
        return np.random.default_rng(12).standard_normal((NB * NH, T, S)), None
    raise KeyError(kind)


def _t(torch, a):
    return None if a is None else (gradus.tensor(a), torch.tensor(a))


def _split(pairs):
    return ({k: (v[0] if v is not None else None) for k, v in pairs.items()},
            {k: (v[1] if v is not None else None) for k, v in pairs.items()})


LAYER_MASKS = ["none", "causal_float+kpm_bool", "bool_both", "float_both", "3d_float"]


@pytest.mark.parametrize("batch_first", [False, True], ids=["seq_first", "batch_first"])
@pytest.mark.parametrize("norm_first", [False, True], ids=["post_norm", "pre_norm"])
@pytest.mark.parametrize("act", ["relu", "gelu"])
@pytest.mark.parametrize("mask", LAYER_MASKS)
def test_encoder_layer_matches_torch(torch, batch_first, norm_first, act, mask):
    g_mod, t_mod = _pair(torch, "TransformerEncoderLayer", D, NH, FF, 0.0, act=act, batch_first=batch_first,
                         norm_first=norm_first)
    rng = np.random.default_rng(0)
    gx, tx = _seq(torch, rng, S_SRC, batch_first)
    am, kpm = _masks(torch, mask, S_SRC)
    kw_g, kw_t = _split({"src_mask": _t(torch, am), "src_key_padding_mask": _t(torch, kpm)})
    _close(out_g := g_mod(gx, **kw_g), out_t := t_mod(tx, **kw_t), "output")
    assert _backprop(torch, rng, [out_g], [out_t])
    _close(gx.grad, tx.grad, "grad of src")
    _compare_params(g_mod, t_mod)


@pytest.mark.parametrize("batch_first", [False, True], ids=["seq_first", "batch_first"])
@pytest.mark.parametrize("norm_first", [False, True], ids=["post_norm", "pre_norm"])
@pytest.mark.parametrize("act", ["relu", "gelu"])
@pytest.mark.parametrize("mask", LAYER_MASKS)
def test_decoder_layer_matches_torch(torch, batch_first, norm_first, act, mask):
    g_mod, t_mod = _pair(torch, "TransformerDecoderLayer", D, NH, FF, 0.0, act=act, batch_first=batch_first,
                         norm_first=norm_first)
    rng = np.random.default_rng(1)
    gy, ty = _seq(torch, rng, T_TGT, batch_first)
    gm, tm = _seq(torch, rng, S_SRC, batch_first)
    tgt_mask, tgt_kpm = _masks(torch, mask, T_TGT)
    mem_mask, mem_kpm = _masks(torch, mask, T_TGT, S_SRC)
    kw_g, kw_t = _split({"tgt_mask": _t(torch, tgt_mask), "tgt_key_padding_mask": _t(torch, tgt_kpm),
                         "memory_mask": _t(torch, mem_mask), "memory_key_padding_mask": _t(torch, mem_kpm)})
    out_g, out_t = g_mod(gy, gm, **kw_g), t_mod(ty, tm, **kw_t)
    _close(out_g, out_t, "output")
    assert _backprop(torch, rng, [out_g], [out_t])
    _close(gy.grad, ty.grad, "grad of tgt")
    _close(gm.grad, tm.grad, "grad of memory")
    _compare_params(g_mod, t_mod)


@pytest.mark.parametrize("cls", ["TransformerEncoderLayer", "TransformerDecoderLayer"])
def test_layers_without_bias_unbatched_and_module_activation_match_torch(torch, cls):
    g_mod, t_mod = _pair(torch, cls, D, NH, FF, 0.0, act="gelu_tanh_module", bias=False, norm_first=True)
    assert "linear1.bias" not in g_mod.state_dict() and "norm1.bias" not in g_mod.state_dict()
    rng = np.random.default_rng(2)
    gx, tx = _seq(torch, rng, S_SRC, False, unbatched=True)
    kpm = np.array([False, False, False, True, False])
    extra_g, extra_t = ((gx,), (tx,)) if cls == "TransformerDecoderLayer" else ((), ())
    key = "memory_key_padding_mask" if extra_g else "src_key_padding_mask"
    out_g = g_mod(gx, *extra_g, **{key: gradus.tensor(kpm)})
    out_t = t_mod(tx, *extra_t, **{key: torch.tensor(kpm)})
    _close(out_g, out_t, "output")
    assert _backprop(torch, rng, [out_g], [out_t])
    _close(gx.grad, tx.grad, "grad of the input")
    _compare_params(g_mod, t_mod)


@pytest.mark.parametrize("is_causal", [None, True], ids=["detected", "hint"])
@pytest.mark.parametrize("batch_first", [False, True], ids=["seq_first", "batch_first"])
def test_stacks_with_norm_and_causal_masks_match_torch(torch, is_causal, batch_first):
    torch.manual_seed(0)
    kw = dict(dim_feedforward=FF, dropout=0.0, batch_first=batch_first)
    t_enc = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(D, NH, **kw), 2,
                                        norm=torch.nn.LayerNorm(D), enable_nested_tensor=False)
    g_enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(D, NH, **kw), 2, norm=nn.LayerNorm(D))
    t_dec = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(D, NH, **kw), 2,
                                        norm=torch.nn.LayerNorm(D))
    g_dec = nn.TransformerDecoder(nn.TransformerDecoderLayer(D, NH, **kw), 2, norm=nn.LayerNorm(D))
    _load(torch, g_enc, t_enc)
    _load(torch, g_dec, t_dec)
    rng = np.random.default_rng(3)
    gx, tx = _seq(torch, rng, S_SRC, batch_first)
    gy, ty = _seq(torch, rng, T_TGT, batch_first)
    src_causal = nn.Transformer.generate_square_subsequent_mask(S_SRC, dtype=gradus.float64)
    tgt_causal = nn.Transformer.generate_square_subsequent_mask(T_TGT, dtype=gradus.float64)
    np.testing.assert_array_equal(
        tgt_causal.numpy(), torch.nn.Transformer.generate_square_subsequent_mask(T_TGT, dtype=torch.float64))
    mem_g = g_enc(gx, mask=src_causal, is_causal=is_causal)
    mem_t = t_enc(tx, mask=torch.tensor(src_causal.numpy()), is_causal=is_causal)
    _close(mem_g, mem_t, "encoder output")
    out_g = g_dec(gy, mem_g, tgt_mask=tgt_causal, tgt_is_causal=is_causal)
    out_t = t_dec(ty, mem_t, tgt_mask=torch.tensor(tgt_causal.numpy()), tgt_is_causal=is_causal)
    _close(out_g, out_t, "decoder output")
    assert _backprop(torch, rng, [out_g], [out_t])
    _close(gx.grad, tx.grad, "grad of src")
    _close(gy.grad, ty.grad, "grad of tgt")
    _compare_params(g_enc, t_enc)
    _compare_params(g_dec, t_dec)


@pytest.mark.parametrize("batch_first", [False, True], ids=["seq_first", "batch_first"])
@pytest.mark.parametrize("norm_first", [False, True], ids=["post_norm", "pre_norm"])
@pytest.mark.parametrize("act", ["relu", "gelu"])
def test_transformer_matches_torch(torch, batch_first, norm_first, act):
    g_mod, t_mod = _pair(torch, "Transformer", D, NH, 2, 2, FF, 0.0, act=act, batch_first=batch_first,
                         norm_first=norm_first)
    rng = np.random.default_rng(4)
    gx, tx = _seq(torch, rng, S_SRC, batch_first)
    gy, ty = _seq(torch, rng, T_TGT, batch_first)
    _, src_kpm = _masks(torch, "causal_float+kpm_bool", S_SRC)
    tgt_mask, tgt_kpm = _masks(torch, "causal_float+kpm_bool", T_TGT)
    mem_mask = np.random.default_rng(13).standard_normal((T_TGT, S_SRC))
    src_mask = np.random.default_rng(14).standard_normal((S_SRC, S_SRC))
    kw_g, kw_t = _split({"src_mask": _t(torch, src_mask), "tgt_mask": _t(torch, tgt_mask),
                         "memory_mask": _t(torch, mem_mask), "src_key_padding_mask": _t(torch, src_kpm),
                         "tgt_key_padding_mask": _t(torch, tgt_kpm),
                         "memory_key_padding_mask": _t(torch, src_kpm)})
    out_g, out_t = g_mod(gx, gy, **kw_g), t_mod(tx, ty, **kw_t)
    _close(out_g, out_t, "output")
    assert _backprop(torch, rng, [out_g], [out_t])
    _close(gx.grad, tx.grad, "grad of src")
    _close(gy.grad, ty.grad, "grad of tgt")
    _compare_params(g_mod, t_mod)


def test_transformer_initialisation_is_pytorchs(torch):
    """Same parameter names, shapes and init distributions: xavier_uniform_ bounds on every matrix,
    LayerNorm ones/zeros, zero attention biases."""
    g_mod = nn.Transformer(16, 4, 1, 1, 32, 0.0)
    t_mod = torch.nn.Transformer(16, 4, 1, 1, 32, 0.0)
    g_state, t_state = g_mod.state_dict(), t_mod.state_dict()
    assert list(g_state) == list(t_state)
    for name, tv in t_state.items():
        gv = g_state[name].numpy()
        assert gv.shape == tuple(tv.shape), name
        if gv.ndim > 1:
            bound = np.sqrt(6.0 / (gv.shape[0] + gv.shape[1]))
            assert np.abs(gv).max() <= bound and np.abs(gv).max() > 0.8 * bound, name
        elif "norm" in name and name.endswith("weight"):
            assert np.all(gv == 1), name
        elif "in_proj_bias" in name or "out_proj.bias" in name or "norm" in name:
            assert np.all(gv == 0), name


def test_eval_no_grad_matches_torch_fast_path(torch):
    """Eval mode under no_grad: PyTorch runs its fused fast path (nested tensors with a padding mask);
    every non-padded position agrees (padded encoder positions are zeros in PyTorch's nested path)."""
    g_mod, t_mod = _pair(torch, "TransformerEncoderLayer", D, NH, FF, 0.1, batch_first=True)
    torch.manual_seed(0)
    t_enc = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(D, NH, FF, 0.1, batch_first=True), 2)
    g_enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(D, NH, FF, 0.1, batch_first=True), 2)
    _load(torch, g_enc, t_enc)
    for m in (g_mod, t_mod, g_enc, t_enc):
        m.eval()
    x = np.random.default_rng(5).standard_normal((NB, S_SRC, D))
    kpm = np.zeros((NB, S_SRC), bool)
    kpm[0, -2:] = True
    with torch.no_grad():
        _close(g_mod(gradus.tensor(x)), t_mod(torch.tensor(x)), "layer output")
        _close(g_mod(gradus.tensor(x), src_key_padding_mask=gradus.tensor(kpm)),
               t_mod(torch.tensor(x), src_key_padding_mask=torch.tensor(kpm)), "layer output with padding")
        out_g = g_enc(gradus.tensor(x), src_key_padding_mask=gradus.tensor(kpm)).numpy()
        out_t = t_enc(torch.tensor(x), src_key_padding_mask=torch.tensor(kpm)).numpy()
    np.testing.assert_allclose(out_g[~kpm], out_t[~kpm], rtol=RTOL, atol=ATOL)
    assert np.all(out_t[kpm] == 0)                     # PyTorch's nested-tensor padding (documented)
