"""Many-to-one recurrent classifiers: input forms, bidirectional heads, learning one batch."""
from __future__ import annotations

import numpy as np
import pytest

import gradus
from gradus.models import SequenceClassifier, sequential_mnist_lstm
from tests.helpers import SeededInputs, overfit_one_batch


def test_input_forms_and_shapes():
    net = SequenceClassifier(input_size=6, hidden_size=8, num_classes=3, bidirectional=True, num_layers=2)
    assert net(gradus.zeros(4, 5, 6)).shape == (4, 3)
    assert net(gradus.zeros(4, 1, 5, 6)).shape == (4, 3)          # image rows as time steps
    tok = SequenceClassifier(input_size=6, hidden_size=8, num_classes=2, vocab_size=20, padding_idx=0)
    assert tok(gradus.tensor(np.ones((3, 7), np.int64))).shape == (3, 2)
    with pytest.raises(ValueError, match="one channel"):
        net(gradus.zeros(2, 3, 5, 6))
    with pytest.raises(TypeError, match="unknown option"):
        SequenceClassifier(hidden=3)
    assert sum(p.numel() for p in sequential_mnist_lstm().parameters()) == 82_186


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_overfits_one_batch_of_image_rows(cell):
    gradus.manual_seed(0)
    s = SeededInputs(0)
    X, y = s.tensor(16, 1, 8, 8), gradus.tensor(np.arange(16) % 4)
    net = SequenceClassifier(input_size=8, hidden_size=24, num_classes=4, cell=cell)
    r = overfit_one_batch(net, X, y, steps=100, lr=1e-2)
    assert r.eval_accuracy == 1.0, r


@pytest.mark.parametrize("pool", ["last", "max"])
def test_token_inputs_are_packed_so_padding_changes_nothing(pool):
    gradus.manual_seed(0)
    net = SequenceClassifier(input_size=6, hidden_size=8, num_classes=2, vocab_size=12, padding_idx=0,
                             pool=pool, bidirectional=True)
    net.eval()
    short = np.array([[3, 5, 7, 0, 0], [4, 4, 9, 2, 11]])
    longer = np.concatenate([short, np.zeros((2, 4), np.int64)], axis=1)      # more right padding
    np.testing.assert_allclose(net(gradus.tensor(short)).numpy(), net(gradus.tensor(longer)).numpy(),
                               rtol=1e-5, atol=1e-6)
    alone = net(gradus.tensor(short[:1, :3])).numpy()                           # no padding at all
    np.testing.assert_allclose(net(gradus.tensor(short)).numpy()[:1], alone, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="pool"):
        SequenceClassifier(pool="mean")
