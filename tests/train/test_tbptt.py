"""Truncated BPTT in the Trainer (``stateful=True``): the recurrent state is carried from batch to
batch of a contiguous stream, detached between batches, and restarted each epoch and evaluation."""
from __future__ import annotations

import numpy as np

import gradus
import gradus.functional as F
from gradus import nn, optim
from gradus.data import TensorDataset
from gradus.train import Trainer, detach_state


class CharLM(nn.Module):
    def __init__(self, vocab: int, hidden: int = 32, use_state: bool = True):
        super().__init__()
        self.use_state = use_state
        self.embed = nn.Embedding(vocab, 8)
        self.lstm = nn.LSTM(8, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)
        self.seen_states = []

    def forward(self, x, state=None):
        self.seen_states.append(state)
        out, state = self.lstm(self.embed(x), state if self.use_state else None)
        return self.head(out).reshape(-1, self.head.out_features), state


def _lm_loss(out, y):
    return F.cross_entropy(out, y.reshape(-1))


PATTERN = np.array([0, 1, 0, 2, 1, 1, 2])   # period 7 over 3 symbols: the next one depends on history


def _stream(n_batches=6, B=2, k=5):
    """B parallel streams of a periodic sequence, cut into consecutive chunks of k steps: batch j
    holds steps [j*k, (j+1)*k) of every stream (so shuffle must be off)."""
    T = n_batches * k + 1
    seq = PATTERN[(np.arange(T)[None, :] + 3 * np.arange(B)[:, None]) % len(PATTERN)]
    X = np.stack([seq[:, j * k:(j + 1) * k] for j in range(n_batches)])      # (n, B, k)
    Y = np.stack([seq[:, j * k + 1:(j + 1) * k + 1] for j in range(n_batches)])
    return X.reshape(-1, k), Y.reshape(-1, k), B


def test_detach_state_cuts_the_graph_and_keeps_structure():
    h = gradus.randn(2, 3, requires_grad=True) * 2
    s = detach_state((h, (h, h)))
    assert isinstance(s, tuple) and isinstance(s[1], tuple)
    assert not s[0].requires_grad and s[0].grad_fn is None
    np.testing.assert_array_equal(s[0].numpy(), h.numpy())


def test_state_is_carried_detached_and_reset_each_epoch():
    X, Y, B = _stream()
    gradus.manual_seed(0)
    model = CharLM(3)
    ds = TensorDataset(gradus.tensor(X), gradus.tensor(Y))
    trainer = Trainer(model, optim.Adam(model.parameters(), 1e-2), _lm_loss, stateful=True, seed=0)
    loader = trainer.make_loader(ds, batch_size=B, shuffle=False)
    trainer.fit(loader, epochs=2)
    states = model.seen_states
    n = len(X) // B
    assert len(states) == 2 * n
    assert states[0] is None and states[n] is None                    # a new epoch starts fresh
    for s in states[1:n] + states[n + 1:]:
        h, c = s
        assert h.shape == (1, B, 32) and not h.requires_grad and h.grad_fn is None
    model.seen_states.clear()
    trainer.evaluate(loader)
    assert model.seen_states[0] is None and model.seen_states[1] is not None


def test_carried_state_lets_the_model_learn_what_a_chunk_cannot_see():
    """Chunks of 3 steps of a period-7 pattern: the first prediction of a chunk is ambiguous from the
    chunk alone; with the carried state the model gets it right, without it it cannot."""
    X, Y, B = _stream(n_batches=12, B=4, k=3)
    losses = {}
    for use_state in (True, False):
        gradus.manual_seed(0)
        model = CharLM(3, use_state=use_state)
        ds = TensorDataset(gradus.tensor(X), gradus.tensor(Y))
        trainer = Trainer(model, optim.Adam(model.parameters(), 3e-2), _lm_loss, stateful=True, seed=0)
        loader = trainer.make_loader(ds, batch_size=B, shuffle=False)
        trainer.fit(loader, epochs=40)
        losses[use_state] = trainer.evaluate(loader)["loss"]
    assert losses[True] < 0.05 and losses[False] > 0.2, losses
