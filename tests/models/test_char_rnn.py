"""The character-level language model: shapes, state passing, learning a string, sampling rules."""
from __future__ import annotations

import numpy as np
import pytest

import gradus
import gradus.functional as F
from gradus import optim
from gradus.models import CharRNN, CharRNNConfig, sample_next


def test_shapes_and_state_round_trip():
    lm = CharRNN(CharRNNConfig(vocab_size=11, hidden_size=8, num_layers=2, embed_dim=4))
    ids = gradus.tensor(np.arange(12).reshape(2, 6) % 11)
    logits, (h, c) = lm(ids)
    assert logits.shape == (2, 6, 11) and h.shape == (2, 2, 8)
    lm.eval()
    full, _ = lm(ids)
    first, state = lm(ids[:, :3])
    rest, _ = lm(ids[:, 3:], state)                  # feeding the state continues the sequence
    np.testing.assert_allclose(np.concatenate([first.numpy(), rest.numpy()], 1), full.numpy(), rtol=1e-5,
                               atol=1e-6)
    with pytest.raises(TypeError, match="unknown option"):
        CharRNN(hiden_size=3)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_learns_a_string_and_greedy_generation_recites_it(cell):
    text = "hello world. "
    chars = sorted(set(text))
    ids = np.array([chars.index(ch) for ch in text * 4])
    gradus.manual_seed(0)
    lm = CharRNN(vocab_size=len(chars), hidden_size=32, num_layers=1, embed_dim=8, dropout=0.0, cell=cell)
    opt = optim.Adam(lm.parameters(), 2e-2)
    x, y = gradus.tensor(ids[None, :-1]), gradus.tensor(ids[1:])
    for _ in range(150):
        logits, _ = lm(x)
        loss = F.cross_entropy(logits.reshape(-1, len(chars)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss.item()) < 0.05
    prompt = [chars.index(ch) for ch in "hello"]
    out = lm.generate(prompt, 8, temperature=0)
    assert "".join(chars[i] for i in out) == " world. "


def test_sample_next_rules():
    logits = np.log(np.array([0.5, 0.3, 0.15, 0.05]))
    gen = np.random.default_rng(0)
    assert sample_next(logits, 0) == 0
    assert {sample_next(logits, 1.0, top_k=2, generator=gen) for _ in range(200)} == {0, 1}
    assert {sample_next(logits, 1.0, top_p=0.7, generator=gen) for _ in range(200)} == {0, 1}
    assert {sample_next(logits, 1.0, top_p=0.5, generator=gen) for _ in range(50)} == {0}
    draws = [sample_next(logits, 1.0, generator=gen) for _ in range(4000)]
    np.testing.assert_allclose(np.bincount(draws, minlength=4) / 4000, [0.5, 0.3, 0.15, 0.05], atol=0.03)
    with pytest.raises(ValueError, match="top_p"):
        sample_next(logits, 1.0, top_p=0)
    with pytest.raises(ValueError, match="temperature"):
        sample_next(logits, -1.0)
