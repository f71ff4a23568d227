"""Seq2seq: the toy reverse task is solved to 100% exact match by the attention model; greedy equals
beam search of width 1; masks, shapes and errors."""
from __future__ import annotations

import numpy as np
import pytest

import gradus
import gradus.functional as F
from gradus import optim
from gradus.models import Seq2Seq, Seq2SeqConfig

PAD, SOS, EOS, V = 0, 1, 2, 10


def _reverse_batch(rng, n, lo=3, hi=7):
    """Sources of 3..6 tokens in [3, 10), right-padded; targets = the reversed source + <eos>."""
    lens = rng.integers(lo, hi, n)
    S = hi
    src = np.zeros((n, S), np.int64)
    tgt = np.zeros((n, S + 1), np.int64)
    for i, L in enumerate(lens):
        seq = rng.integers(3, V, L)
        src[i, :L] = seq
        tgt[i, :L] = seq[::-1]
        tgt[i, L] = EOS
    tgt_in = np.concatenate([np.full((n, 1), SOS), tgt[:, :-1]], 1)
    return src, tgt_in, tgt, lens


def _train(attention, steps, seed=0):
    gradus.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = Seq2Seq(Seq2SeqConfig(src_vocab=V, tgt_vocab=V, embed_dim=32, hidden_size=64, attention=attention))
    opt = optim.Adam(net.parameters(), 1e-2)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=1e-4)   # settle at the end
    for _ in range(steps):
        src, tgt_in, tgt, _ = _reverse_batch(rng, 64)
        logits = net(gradus.tensor(src), gradus.tensor(tgt_in))
        loss = F.cross_entropy(logits.reshape(-1, V), gradus.tensor(tgt.reshape(-1)), ignore_index=PAD)
        opt.zero_grad()
        loss.backward()
        gradus.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        sched.step()
    return net


def _exact_match(net, src, tgt, lens):
    hyps = net.greedy(gradus.tensor(src), max_len=src.shape[1] + 2)
    return np.mean([h == list(tgt[i, :lens[i] + 1]) for i, h in enumerate(hyps)])


@pytest.fixture(scope="module")
def trained():
    return _train("general", 500)   # ~35 s on a quiet 2-core machine


def test_attention_model_reverses_to_100_percent_exact_match(trained):
    src, _, tgt, lens = _reverse_batch(np.random.default_rng(123), 200)
    assert _exact_match(trained, src, tgt, lens) == 1.0
    a = trained.attention_weights                            # (B, T, S): rows sum to 1 over real tokens
    assert a.shape[0] == 200 and np.allclose(a.sum(-1), 1, atol=1e-5)
    assert np.all(a[np.arange(200), 0][np.arange(src.shape[1])[None, :] >= lens[:, None]] < 1e-6)
    # the first output token attends to the last source token (reversal)
    assert np.mean(a[np.arange(200), 0].argmax(-1) == lens - 1) > 0.9


def test_greedy_equals_beam_of_width_one_and_beam_is_at_least_as_likely(trained):
    src, _, tgt, lens = _reverse_batch(np.random.default_rng(7), 20)
    greedy = trained.greedy(gradus.tensor(src), max_len=10)
    for i in range(20):
        row = gradus.tensor(src[i:i + 1])
        assert trained.beam(row, beam_size=1, max_len=10, alpha=0.0) == greedy[i]
        assert trained.beam(row, beam_size=5, max_len=10) == list(tgt[i, :lens[i] + 1])


def test_padding_does_not_change_the_encoding(trained):
    src, tgt_in, _, _ = _reverse_batch(np.random.default_rng(3), 4)
    wide = np.concatenate([src, np.zeros((4, 5), np.int64)], 1)
    trained.eval()
    a = trained(gradus.tensor(src), gradus.tensor(tgt_in)).numpy()
    b = trained(gradus.tensor(wide), gradus.tensor(tgt_in)).numpy()
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("attention", [None, "dot", "additive"])
def test_every_variant_learns_the_task(attention):
    """One context vector, dot and additive scores: shapes right, and the loss falls far below chance."""
    net = _train(attention, 60)
    src, tgt_in, tgt, lens = _reverse_batch(np.random.default_rng(5), 64)
    logits = net(gradus.tensor(src), gradus.tensor(tgt_in))
    assert logits.shape == (64, 8, V)
    target = gradus.tensor(tgt.reshape(-1))
    loss = float(F.cross_entropy(logits.reshape(-1, V), target, ignore_index=PAD).item())
    assert loss < 0.6 * np.log(V - 3), loss


def test_errors():
    with pytest.raises(ValueError, match="attention"):
        Seq2Seq(attention="cosine")
    net = Seq2Seq(src_vocab=5, tgt_vocab=5, hidden_size=4, embed_dim=4)
    with pytest.raises(ValueError, match="one sentence"):
        net.beam(gradus.ones(2, 3, dtype=gradus.int64))


def _variant(**kw):
    gradus.manual_seed(1)
    cfg = dict(src_vocab=V, tgt_vocab=V, embed_dim=16, hidden_size=24, attention="general", dropout=0.2)
    cfg.update(kw)
    return Seq2Seq(Seq2SeqConfig(**cfg))


@pytest.mark.parametrize("kw", [dict(bidirectional=True), dict(input_feeding=True),
                                dict(bidirectional=True, input_feeding=True, num_layers=2),
                                dict(attention="none", bidirectional=True)])
def test_teacher_forcing_and_decoding_agree(kw):
    """Feeding greedy's own output back by teacher forcing reproduces it (eval mode): forward and the
    step-by-step decoder compute the same function, input feeding and the bidirectional bridge too."""
    net = _variant(**kw).eval()
    src, _, _, _ = _reverse_batch(np.random.default_rng(2), 6)
    hyps = net.greedy(gradus.tensor(src), max_len=6)
    for i, h in enumerate(hyps):
        tgt_in = gradus.tensor(np.array([[SOS] + h[:-1]]))
        logits = net(gradus.tensor(src[i:i + 1]), tgt_in).numpy()[0]
        assert logits.argmax(-1).tolist() == h
        assert net.beam(gradus.tensor(src[i:i + 1]), beam_size=1, max_len=6, alpha=0.0) == h


def test_bidirectional_input_feeding_model_learns_the_task():
    gradus.manual_seed(0)
    rng = np.random.default_rng(0)
    net = _variant(embed_dim=32, hidden_size=64, bidirectional=True, input_feeding=True, dropout=0.0)
    assert net.encoder.bidirectional and net.decoder.input_size == 32 + 64
    opt = optim.Adam(net.parameters(), 1e-2)
    for _ in range(80):
        src, tgt_in, tgt, _ = _reverse_batch(rng, 64)
        logits = net(gradus.tensor(src), gradus.tensor(tgt_in))
        loss = F.cross_entropy(logits.reshape(-1, V), gradus.tensor(tgt.reshape(-1)), ignore_index=PAD)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss.item()) < 0.4 * np.log(V - 3), float(loss.item())


def test_config_spellings_and_errors():
    net = Seq2Seq(src_vocab=5, tgt_vocab=5, hidden_size=4, embed_dim=4, attention="none")
    assert net.config.attention is None
    with pytest.raises(ValueError, match="input_feeding.*needs attention"):
        Seq2Seq(src_vocab=5, tgt_vocab=5, hidden_size=4, embed_dim=4, attention=None, input_feeding=True)
    with pytest.raises(TypeError, match="unknown option 'heads'"):
        Seq2Seq(heads=2)
