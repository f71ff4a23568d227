"""GPT: presets and parameter counts, weight tying, causality, learning one batch, sampling rules,
the block-size error, and ``from_pretrained`` against an independent float64 PyTorch GPT-2."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

import gradus
from gradus import nn, optim
from gradus.models.gpt import GPT, PRESETS, GPTConfig, num_parameters

TINY = GPTConfig(vocab_size=23, block_size=12, n_layer=2, n_head=2, n_embd=8)


def _count(model) -> int:
    return sum(p.numel() for p in model.parameters())


def _ids(rng, shape, vocab):
    return gradus.tensor(rng.integers(0, vocab, size=shape))


# ----------------------------------------------------------------------------- sizes and presets
def test_gpt2_small_count_and_published_sizes():
    assert GPTConfig() == PRESETS["gpt2"]
    assert num_parameters(GPTConfig()) == 124_439_808            # tied: wte counted once
    assert num_parameters(PRESETS["gpt2-medium"]) == 354_823_168
    assert num_parameters(PRESETS["gpt2-large"]) == 774_030_080
    assert num_parameters(PRESETS["gpt2-xl"]) == 1_557_611_200
    assert abs(num_parameters(PRESETS["gpt1"]) - 117e6) / 117e6 < 0.01
    # GPT-3 paper, table 2.1 (nominal sizes; 175B within 1%, the rest within 2%)
    nominal = {"gpt3-125m": 125e6, "gpt3-350m": 350e6, "gpt3-760m": 760e6, "gpt3-1.3b": 1.3e9,
               "gpt3-2.7b": 2.7e9, "gpt3-6.7b": 6.7e9, "gpt3-13b": 13e9, "gpt3-175b": 175e9}
    for name, n in nominal.items():
        assert abs(num_parameters(PRESETS[name]) - n) / n < (0.01 if name == "gpt3-175b" else 0.02), name


def test_preset_shapes():
    table = {  # name: (n_layer, n_embd, n_head, block_size, vocab_size)
        "gpt1": (12, 768, 12, 512, 40478), "gpt2": (12, 768, 12, 1024, 50257),
        "gpt2-medium": (24, 1024, 16, 1024, 50257), "gpt2-large": (36, 1280, 20, 1024, 50257),
        "gpt2-xl": (48, 1600, 25, 1024, 50257), "gpt3-125m": (12, 768, 12, 2048, 50257),
        "gpt3-350m": (24, 1024, 16, 2048, 50257), "gpt3-760m": (24, 1536, 16, 2048, 50257),
        "gpt3-1.3b": (24, 2048, 16, 2048, 50257), "gpt3-2.7b": (32, 2560, 32, 2048, 50257),
        "gpt3-6.7b": (32, 4096, 32, 2048, 50257), "gpt3-13b": (40, 5120, 40, 2048, 50257),
        "gpt3-175b": (96, 12288, 96, 2048, 50257)}
    assert set(PRESETS) == set(table)
    for name, (L, C, H, T, V) in table.items():
        c = PRESETS[name]
        assert (c.n_layer, c.n_embd, c.n_head, c.block_size, c.vocab_size) == (L, C, H, T, V), name
        assert C % H == 0 and c.dropout == 0.0 and c.bias
    for name in ("gpt3-1.3b", "gpt3-6.7b", "gpt3-13b", "gpt3-175b"):      # the table's d_head = 128
        assert PRESETS[name].n_embd // PRESETS[name].n_head == 128


@pytest.mark.parametrize("cfg", [TINY, GPTConfig(vocab_size=7, block_size=5, n_layer=3, n_head=3, n_embd=12),
                                 GPTConfig(vocab_size=11, block_size=4, n_layer=1, n_head=1, n_embd=4,
                                           bias=False)])
def test_num_parameters_equals_the_real_count(cfg):
    gpt = GPT(cfg)
    assert _count(gpt) == num_parameters(cfg) == gpt.num_parameters()
    embeddings = gpt.wte.weight.numel() + gpt.wpe.weight.numel()
    assert num_parameters(cfg, non_embedding=True) == _count(gpt) - embeddings


def test_config_errors_and_overrides():
    with pytest.raises(ValueError, match="divisible by n_head"):
        GPT(TINY, n_head=3)
    with pytest.raises(TypeError, match="unknown option"):
        GPT(TINY, n_layers=3)
    gpt = GPT(TINY, n_layer=1)
    assert len(gpt.h) == 1 and TINY.n_layer == 2                  # the caller's config is not modified


def test_gpt2_initialisation():
    gpt = GPT(GPTConfig(vocab_size=300, block_size=64, n_layer=8, n_head=4, n_embd=64))
    assert np.std(gpt.wte.weight.numpy()) == pytest.approx(0.02, rel=0.05)
    assert np.std(gpt.h[0].mlp.c_fc.weight.numpy()) == pytest.approx(0.02, rel=0.05)
    for proj in (gpt.h[3].attn.c_proj, gpt.h[3].mlp.c_proj):         # residual projections: 0.02/sqrt(2L)
        assert np.std(proj.weight.numpy()) == pytest.approx(0.02 / math.sqrt(16), rel=0.1)
        assert not proj.bias.numpy().any()
    np.testing.assert_array_equal(gpt.h[0].ln_1.weight.numpy(), 1.0)


# ----------------------------------------------------------------------------- the model
def test_weight_tying_one_parameter_gradient_of_both_uses():
    rng = np.random.default_rng(0)
    tied = GPT(TINY).double()
    assert tied.lm_head.weight is tied.wte.weight
    assert sum(1 for _ in tied.parameters()) == len(tied.state_dict()) - 1   # lm_head.weight listed once
    untied = GPT(TINY).double()
    untied.load_state_dict(tied.state_dict())
    untied.lm_head.weight = nn.Parameter(gradus.tensor(tied.wte.weight.numpy().copy()))
    idx, tgt = _ids(rng, (3, 7), TINY.vocab_size), _ids(rng, (3, 7), TINY.vocab_size)
    for m in (tied, untied):
        m(idx, tgt)[1].backward()
    both = untied.wte.weight.grad.numpy() + untied.lm_head.weight.grad.numpy()
    np.testing.assert_allclose(tied.wte.weight.grad.numpy(), both, rtol=1e-12, atol=1e-14)
    for use in (untied.wte.weight, untied.lm_head.weight):             # both uses contribute
        assert np.abs(use.grad.numpy()).max() > 1e-6


def test_forward_shapes_and_loss():
    rng = np.random.default_rng(1)
    gpt = GPT(TINY)
    idx = _ids(rng, (2, 5), TINY.vocab_size)
    logits, loss = gpt(idx)
    assert logits.shape == (2, 5, 23) and loss is None
    tgt = rng.integers(0, 23, size=(2, 5))
    tgt[0, :2] = -1                                                    # ignored positions
    logits, loss = gpt(idx, gradus.tensor(tgt))
    z = logits.numpy().astype(np.float64).reshape(-1, 23)
    logp = z - z.max(1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(1, keepdims=True))
    t = tgt.reshape(-1)
    keep = t >= 0
    assert loss.item() == pytest.approx(-logp[keep, t[keep]].mean(), rel=1e-5)
    with pytest.raises(gradus.errors.ShapeError, match="targets"):
        gpt(idx, idx[:, :3])


def test_causal_a_future_token_does_not_change_earlier_logits():
    rng = np.random.default_rng(2)
    gpt = GPT(TINY).double()
    a = rng.integers(0, 23, size=(2, 9))
    b = a.copy()
    b[:, 5] = (b[:, 5] + 1) % 23
    la, lb = gpt(gradus.tensor(a))[0].numpy(), gpt(gradus.tensor(b))[0].numpy()
    np.testing.assert_allclose(la[:, :5], lb[:, :5], rtol=0, atol=1e-13)
    assert (np.abs(la[:, 5:] - lb[:, 5:]).max(axis=-1) > 1e-9).all()   # positions >= 5 do see it


def test_block_size_error_names_the_sizes():
    gpt = GPT(TINY)
    gpt(gradus.zeros(1, 12, dtype=gradus.int64))                       # exactly block_size is fine
    with pytest.raises(ValueError, match=r"length 13.*block size.*is 12"):
        gpt(gradus.zeros(1, 13, dtype=gradus.int64))
    with pytest.raises(gradus.errors.ShapeError, match=r"2-D \(B, T\)"):
        gpt(gradus.zeros(12, dtype=gradus.int64))
    with pytest.raises(TypeError, match="integer token ids"):
        gpt(gradus.zeros(1, 4))


def test_overfits_one_batch():
    gradus.manual_seed(0)
    cfg = GPTConfig(vocab_size=16, block_size=16, n_layer=2, n_head=4, n_embd=32)
    gpt = GPT(cfg)
    rng = np.random.default_rng(3)
    data = rng.integers(0, 16, size=(4, 17))
    x, y = gradus.tensor(data[:, :-1]), gradus.tensor(data[:, 1:])
    opt = optim.AdamW(gpt.parameters(), lr=1e-2, weight_decay=0.0)
    first = None
    for _ in range(80):
        _, loss = gpt(x, y)
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert first == pytest.approx(math.log(16), rel=0.05)              # starts at uniform guessing
    assert gpt(x, y)[1].item() < 0.05


# ----------------------------------------------------------------------------- sampling
def _probs(gpt, seq, temperature):
    """p(next | seq[:t]) for every t, from one forward pass, float64: (B, T, V)."""
    z = gpt(gradus.tensor(seq))[0].numpy().astype(np.float64) / temperature
    p = np.exp(z - z.max(-1, keepdims=True))
    return p / p.sum(-1, keepdims=True)


def test_generate_is_reproducible_and_restores_the_mode():
    rng = np.random.default_rng(4)
    gpt = GPT(TINY, dropout=0.1)
    prompt = _ids(rng, (3, 4), 23)
    a = gpt.generate(prompt, 6, generator=np.random.default_rng(7))
    b = gpt.generate(prompt, 6, generator=np.random.default_rng(7))  # eval mode: dropout off, same draws
    c = gpt.generate(prompt, 6, generator=np.random.default_rng(8))
    assert a.shape == (3, 10) and a.dtype == gradus.int64 and gpt.training
    np.testing.assert_array_equal(a.numpy()[:, :4], prompt.numpy())
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(a.numpy(), c.numpy())
    gradus.manual_seed(5)
    d = gpt.generate(prompt, 6)                                         # the global generator
    gradus.manual_seed(5)
    np.testing.assert_array_equal(d.numpy(), gpt.generate(prompt, 6).numpy())


def test_top_k_1_is_greedy_and_context_is_cropped():
    rng = np.random.default_rng(5)
    gpt = GPT(TINY).double()
    prompt = _ids(rng, (2, 10), 23)
    out = gpt.generate(prompt, 5, temperature=0.8, top_k=1, generator=np.random.default_rng(0)).numpy()
    seq = prompt.numpy()
    for _ in range(5):                                                  # greedy by hand, cropping to 12
        nxt = gpt(gradus.tensor(seq[:, -TINY.block_size:]))[0].numpy()[:, -1].argmax(-1)
        seq = np.concatenate([seq, nxt[:, None]], 1)
    np.testing.assert_array_equal(out, seq)
    np.testing.assert_array_equal(gpt.generate(prompt, 5, temperature=0).numpy(), seq)


def test_top_p_and_top_k_never_sample_outside_their_set():
    rng = np.random.default_rng(6)
    gpt = GPT(TINY).double()
    with gradus.no_grad():
        gpt.wte.weight.data *= 40                                       # peaked next-token distributions
    prompt, new, T0 = _ids(rng, (8, 2), 23), 9, 2
    for top_k, top_p in ((None, 0.6), (4, None), (6, 0.5)):
        out = gpt.generate(prompt, new, temperature=0.9, top_k=top_k, top_p=top_p,
                           generator=np.random.default_rng(1)).numpy()
        p = _probs(gpt, out, 0.9)                                       # (B, T, V); T <= block_size
        sizes = []
        for b in range(out.shape[0]):
            for t in range(T0, T0 + new):
                q, tok = p[b, t - 1], out[b, t]
                order = np.argsort(-q)
                allowed = set(order[:top_k]) if top_k else set(range(23))
                if top_p is not None:
                    qq = np.where(np.isin(np.arange(23), list(allowed)), q, 0)
                    qq /= qq.sum()
                    o = np.argsort(-qq)
                    n = int(np.searchsorted(np.cumsum(qq[o]), top_p) + 1)  # smallest set with mass >= top_p
                    allowed = set(o[:n])
                sizes.append(len(allowed))
                assert tok in allowed, (top_k, top_p, b, t)
        assert max(sizes) < 23                                          # the filter removed something


# ----------------------------------------------------------------------------- from_pretrained
def _hf_weights(cfg: dict, rng) -> dict:
    """Random GPT-2 weights in Hugging Face's layout (Conv1D weights (in, out)), float64."""
    C, V, P = cfg["n_embd"], cfg["vocab_size"], cfg["n_positions"]
    w = {"wte.weight": rng.normal(0, 0.3, (V, C)), "wpe.weight": rng.normal(0, 0.3, (P, C)),
         "ln_f.weight": 1 + rng.normal(0, 0.1, C), "ln_f.bias": rng.normal(0, 0.1, C)}
    for i in range(cfg["n_layer"]):
        p = f"h.{i}."
        for ln in ("ln_1", "ln_2"):
            w[p + ln + ".weight"] = 1 + rng.normal(0, 0.1, C)
            w[p + ln + ".bias"] = rng.normal(0, 0.1, C)
        for name, (fin, fout) in (("attn.c_attn", (C, 3 * C)), ("attn.c_proj", (C, C)),
                                  ("mlp.c_fc", (C, 4 * C)), ("mlp.c_proj", (4 * C, C))):
            w[p + name + ".weight"] = rng.normal(0, 1 / math.sqrt(fin), (fin, fout))
            w[p + name + ".bias"] = rng.normal(0, 0.1, fout)
    return w


def _write_hf_dir(path, cfg, w, prefix="", buffers=True, lm_head=False):
    from safetensors.numpy import save_file

    path.mkdir()
    full = {"model_type": "gpt2", "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5,
            "n_ctx": cfg["n_positions"], "resid_pdrop": 0.1, "embd_pdrop": 0.1, "attn_pdrop": 0.1, **cfg}
    (path / "config.json").write_text(json.dumps(full))
    tensors = {prefix + k: np.ascontiguousarray(v) for k, v in w.items()}
    if buffers:                                                         # HF's causal-mask buffers
        P = cfg["n_positions"]
        for i in range(cfg["n_layer"]):
            tensors[f"{prefix}h.{i}.attn.bias"] = np.tril(np.ones((P, P)))[None, None]
            tensors[f"{prefix}h.{i}.attn.masked_bias"] = np.array(-1e4)
    if lm_head:
        tensors["lm_head.weight"] = w["wte.weight"].copy()
    save_file(tensors, str(path / "model.safetensors"))


def _torch_gpt2(torch, w, cfg, idx, targets):
    """GPT-2's forward written out in PyTorch from the HF tensors: Conv1D is x W + b; explicit softmax
    attention with a -inf causal mask; tanh GELU; tied output layer."""
    Fn = torch.nn.functional
    B, T = idx.shape
    C, H = cfg["n_embd"], cfg["n_head"]
    x = w["wte.weight"][idx] + w["wpe.weight"][:T]
    future = ~torch.tril(torch.ones(T, T, dtype=torch.bool))
    for i in range(cfg["n_layer"]):
        p = f"h.{i}."
        u = Fn.layer_norm(x, (C,), w[p + "ln_1.weight"], w[p + "ln_1.bias"], 1e-5)
        q, k, v = (u @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]).split(C, dim=2)
        q, k, v = (t.reshape(B, T, H, C // H).transpose(1, 2) for t in (q, k, v))
        s = (q @ k.transpose(-2, -1)) / math.sqrt(C // H)
        a = torch.softmax(s.masked_fill(future, float("-inf")), dim=-1) @ v
        a = a.transpose(1, 2).reshape(B, T, C)
        x = x + a @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
        u = Fn.layer_norm(x, (C,), w[p + "ln_2.weight"], w[p + "ln_2.bias"], 1e-5)
        m = Fn.gelu(u @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"], approximate="tanh")
        x = x + m @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
    x = Fn.layer_norm(x, (C,), w["ln_f.weight"], w["ln_f.bias"], 1e-5)
    logits = x @ w["wte.weight"].T
    return logits, Fn.cross_entropy(logits.reshape(B * T, -1), targets.reshape(-1))


HF_CFG = {"vocab_size": 29, "n_positions": 10, "n_layer": 2, "n_head": 2, "n_embd": 8}
CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")


@pytest.mark.parametrize("prefix,lm_head", [("", False), ("transformer.", True)])
def test_from_pretrained_matches_torch_gpt2_outputs_and_gradients(torch, tmp_path, prefix, lm_head):
    rng = np.random.default_rng(7)
    w = _hf_weights(HF_CFG, rng)
    _write_hf_dir(tmp_path / "gpt2", HF_CFG, w, prefix=prefix, lm_head=lm_head)
    gpt = GPT.from_pretrained(tmp_path / "gpt2", dtype=gradus.float64)
    c = gpt.config
    assert (c.vocab_size, c.block_size, c.n_layer, c.n_head, c.n_embd, c.dropout) == (29, 10, 2, 2, 8, 0.0)
    assert gpt.lm_head.weight is gpt.wte.weight and gpt.wte.weight.dtype == gradus.float64
    np.testing.assert_array_equal(gpt.h[1].attn.c_attn.weight.numpy(), w["h.1.attn.c_attn.weight"].T)

    idx, tgt = rng.integers(0, 29, size=(3, 7)), rng.integers(0, 29, size=(3, 7))
    logits, loss = gpt(gradus.tensor(idx), gradus.tensor(tgt))
    loss.backward()
    tw = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in w.items()}
    t_logits, t_loss = _torch_gpt2(torch, tw, HF_CFG, torch.tensor(idx), torch.tensor(tgt))
    t_loss.backward()
    np.testing.assert_allclose(logits.numpy(), t_logits.detach().numpy(), rtol=0, atol=1e-10)
    assert abs(loss.item() - t_loss.item()) < 1e-12
    named = dict(gpt.named_parameters())
    assert set(named) == set(w)                                        # every HF weight, lm_head = wte
    for k, p in named.items():
        g = tw[k].grad.numpy()
        g = g.T if k.endswith(CONV1D) else g
        np.testing.assert_allclose(p.grad.numpy(), g, rtol=1e-10, atol=1e-13, err_msg=k)


def test_from_pretrained_refuses_what_it_cannot_hold(tmp_path):
    rng = np.random.default_rng(8)
    w = _hf_weights(HF_CFG, rng)
    _write_hf_dir(tmp_path / "ok", HF_CFG, w)
    cfg = json.loads((tmp_path / "ok" / "config.json").read_text())
    (tmp_path / "ok" / "config.json").write_text(json.dumps({**cfg, "activation_function": "relu"}))
    with pytest.raises(ValueError, match="activation_function='relu'"):
        GPT.from_pretrained(tmp_path / "ok")
    del w["h.1.mlp.c_fc.bias"]
    _write_hf_dir(tmp_path / "missing", HF_CFG, w, buffers=False)
    with pytest.raises(RuntimeError, match=r"Missing key.*h\.1\.mlp\.c_fc\.bias"):
        GPT.from_pretrained(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="config.json"):
        GPT.from_pretrained(tmp_path / "nowhere")
