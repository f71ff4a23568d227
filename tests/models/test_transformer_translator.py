"""models/transformer_translator: the Transformer translator around nn.Transformer."""
from __future__ import annotations

import numpy as np
import pytest

import gradus
from gradus.models.transformer_translator import TransformerTranslator, TransformerTranslatorConfig
from gradus.optim.lr_scheduler import noam


def _small(**kw):
    gradus.manual_seed(0)
    cfg = dict(src_vocab=20, tgt_vocab=20, d_model=16, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
               dim_feedforward=32, dropout=0.0)
    cfg.update(kw)
    return TransformerTranslator(**cfg)


def test_shapes_tied_weights_and_config_copy():
    cfg = TransformerTranslatorConfig(src_vocab=20, tgt_vocab=30, d_model=16, nhead=2, num_encoder_layers=1,
                                      num_decoder_layers=1, dim_feedforward=32)
    m = TransformerTranslator(cfg, dropout=0.0)
    assert cfg.dropout == 0.1                                     # the caller's config is untouched
    out = m(gradus.tensor([[3, 4, 2, 0]]), gradus.tensor([[1, 5, 6]]))
    assert out.shape == (1, 3, 30)
    assert m.generator.weight is m.tgt_embed.weight
    out.sum().backward()
    assert m.tgt_embed.weight.grad is not None and m.src_embed.weight.grad is not None
    untied = TransformerTranslator(cfg, tie_embeddings=False)
    assert untied.generator.weight is not untied.tgt_embed.weight
    with pytest.raises(ValueError, match=r"d_model \(15\) must be divisible by nhead \(2\)"):
        TransformerTranslator(cfg, d_model=15)


def test_padding_and_causality():
    m = _small().eval()
    a = m(gradus.tensor([[3, 4, 2]]), gradus.tensor([[1, 5, 6, 7]])).numpy()
    padded = m(gradus.tensor([[3, 4, 2, 0, 0]]), gradus.tensor([[1, 5, 6, 7]])).numpy()
    np.testing.assert_allclose(padded, a, atol=1e-5)               # source padding is invisible
    changed = m(gradus.tensor([[3, 4, 2]]), gradus.tensor([[1, 5, 9, 7]])).numpy()
    # a later target token cannot reach earlier logits
    np.testing.assert_allclose(changed[:, :2], a[:, :2], atol=1e-6)
    assert np.abs(changed[:, 2:] - a[:, 2:]).max() > 1e-4


def test_decode_last_only_is_the_last_position_of_decode():
    m = _small().eval()
    memory, pad = m.encode(gradus.tensor([[3, 4, 2, 0], [5, 6, 7, 2]]))
    ys = gradus.tensor([[1, 5, 6], [1, 8, 0]])
    full = m.decode(ys, memory, pad).numpy()                      # (2, 3, V)
    last = m.decode(ys, memory, pad, last_only=True).numpy()      # (2, V)
    assert last.shape == (2, 20)
    np.testing.assert_allclose(last, full[:, -1], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("norm_first", [False, True])
def test_decode_step_with_its_cache_is_decode_at_the_last_position(norm_first):
    """Step by step, the cached decoder gives decode()'s last-position logits: post- and pre-LN, two
    layers, source padding, and a <pad> inside a prefix (masked as a key by both)."""
    m = _small(norm_first=norm_first, num_decoder_layers=2).eval()
    memory, pad = m.encode(gradus.tensor([[3, 4, 2, 0], [5, 6, 7, 2]]))
    ys = np.array([[1, 5, 6, 9, 4], [1, 8, 0, 3, 3]])
    cache = [None, None]
    for t in range(1, ys.shape[1] + 1):
        step = m.decode_step(ys[:, :t], memory, pad, cache).numpy()
        full = m.decode(gradus.tensor(ys[:, :t]), memory, pad).numpy()[:, -1]
        np.testing.assert_allclose(step, full, rtol=1e-5, atol=1e-5, err_msg=f"t={t}")
    assert cache[1].shape == (2, 5, 16)
    with pytest.raises(ValueError, match=r"decode_step: the cache must hold 2 layers of t - 1 = 2 positions, "
                                         r"got 2 layers of 5"):
        m.decode_step(ys[:, :3], memory, pad, cache)


def test_cached_beam_and_greedy_equal_re_running_the_prefix():
    """beam() and greedy() (cached steps) pick the ids a search re-running decode() on every prefix
    picks, on an untrained model (whose near-flat scores make any numerical difference show)."""
    from gradus.functional import log_softmax
    from gradus.models.decoding import beam_search, greedy_search

    m = _small(tgt_vocab=30, num_decoder_layers=2).eval()
    src = gradus.tensor([[3, 4, 5, 6, 2]])
    memory, pad = m.encode(src)

    def step(prefixes, states):
        k = len(prefixes)
        ys = gradus.tensor([[1] + p for p in prefixes])
        out = m.decode(ys, gradus.cat([memory] * k, 0), gradus.cat([pad] * k, 0), last_only=True)
        return log_softmax(out, -1).numpy(), states

    assert m.beam(src, beam_size=4, max_len=12) == beam_search(step, None, 4, 12, 0.6, 2)
    def next_tokens(ys):
        return m.decode(gradus.tensor(ys), memory, pad, last_only=True).numpy().argmax(-1)

    plain = greedy_search(next_tokens, 1, 12, 1, 2)
    assert m.greedy(src, max_len=12) == plain


def test_learns_to_copy_and_decodes_it_greedily_and_by_beam():
    """A 1+1-layer model learns to copy 3-5-token sequences; greedy and beam give the copy back."""
    m = _small(d_model=32, nhead=4, dim_feedforward=64)
    rng = np.random.default_rng(0)
    opt = gradus.optim.Adam(m.parameters(), lr=3e-3)
    for _ in range(300):
        L = 4
        seq = rng.integers(3, 20, (32, L))
        src = np.concatenate([seq, np.full((32, 1), 2)], 1)
        tgt = np.concatenate([np.full((32, 1), 1), seq, np.full((32, 1), 2)], 1)
        logits = m(gradus.tensor(src), gradus.tensor(tgt[:, :-1]))
        loss = gradus.functional.cross_entropy(logits.reshape(-1, 20), gradus.tensor(tgt[:, 1:].reshape(-1)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    test = rng.integers(3, 20, (8, 4))
    src = np.concatenate([test, np.full((8, 1), 2)], 1)
    greedy = m.greedy(gradus.tensor(src), max_len=8)
    assert sum(g == list(t) + [2] for g, t in zip(greedy, test)) >= 7
    beams = [m.beam(gradus.tensor(src[i:i + 1]), beam_size=3, max_len=8) for i in range(8)]
    assert sum(b == list(t) + [2] for b, t in zip(beams, test)) >= 7
    assert m.training                                              # decoding restores the mode
    with pytest.raises(ValueError, match="one sentence at a time"):
        m.beam(gradus.tensor(src), 3)


@pytest.mark.parametrize("norm_first", [False, True])
def test_attention_maps_are_the_forward_passes_weights(norm_first):
    m = _small(num_encoder_layers=2, num_decoder_layers=2, norm_first=norm_first)
    src, tgt = gradus.tensor([[3, 4, 5, 2]]), gradus.tensor([[1, 6, 7]])
    maps = m.attention_maps(src, tgt)
    np.testing.assert_allclose(maps["logits"], m.eval()(src, tgt).numpy(), atol=1e-6)
    assert [a.shape for a in maps["encoder_self"]] == [(2, 4, 4)] * 2
    assert [a.shape for a in maps["decoder_self"]] == [(2, 3, 3)] * 2
    assert [a.shape for a in maps["cross"]] == [(2, 3, 4)] * 2
    for key in ("encoder_self", "decoder_self", "cross"):
        for a in maps[key]:
            np.testing.assert_allclose(a.sum(-1), 1.0, atol=1e-5)
    assert all(np.triu(a, 1).max() == 0 for a in maps["decoder_self"][0])    # causal: nothing ahead
    # the heads differ (they are per head, not averaged) and no hook is left behind
    assert np.abs(maps["cross"][0][0] - maps["cross"][0][1]).max() > 1e-3
    assert not m.transformer.decoder.layers[0].multihead_attn._forward_hooks


def test_noam_schedule_is_the_papers_formula():
    opt = gradus.optim.Adam([gradus.zeros(1, requires_grad=True)], lr=1.0)
    s = noam(opt, d_model=256, warmup_steps=10, factor=2.0)
    lrs = []
    for _ in range(40):
        lrs.append(s.get_last_lr()[0])
        opt.step()
        s.step()
    expect = [2.0 * 256 ** -0.5 * min(k ** -0.5, k * 10 ** -1.5) for k in range(1, 41)]
    np.testing.assert_allclose(lrs, expect, rtol=1e-12)
    assert int(np.argmax(lrs)) == 9
    state = s.state_dict()
    s2 = noam(gradus.optim.Adam([gradus.zeros(1, requires_grad=True)], lr=1.0), d_model=256,
              warmup_steps=10, factor=2.0)
    s2.load_state_dict(state)
    assert s2.last_epoch == s.last_epoch
    with pytest.raises(ValueError, match="warmup_steps"):
        noam(opt, d_model=256, warmup_steps=0)
