"""BertForPreTraining and BertForSequenceClassification against an independent float64 PyTorch
implementation (tests/models/test_bert.torch_bert plus the heads written out here): the logits, the
losses (MLM with ignored positions + NSP; classification) and the gradient of every parameter,
the tied word-embedding / decoder matrix included (its gradient is the sum of both uses), to 1e-10.
Unlike the Hugging Face oracle in tests/models/test_bert_pretraining.py this one needs only torch,
so it runs (and must pass) in CI."""
from __future__ import annotations

import math

import numpy as np
import pytest

import gradus
from gradus.models.bert import BertForPreTraining, BertForSequenceClassification

from ..models.test_bert import TINY, _batch, random_weights, torch_bert

pytestmark = pytest.mark.oracle


def _weights(model, seed=3):
    """Random float64 weights for every parameter of ``model`` (HF names), set into it."""
    base = random_weights(TINY, seed=seed)
    rng = np.random.default_rng(seed + 1)
    W = {}
    for name, p in model.named_parameters():
        key = name[len("bert."):] if name.startswith("bert.") else None
        if key in base:
            W[name] = base[key]
        elif name.endswith("LayerNorm.weight"):
            W[name] = 1.0 + 0.3 * rng.standard_normal(p.shape)
        else:
            scale = 0.1 if name.endswith("bias") else 1 / math.sqrt(p.shape[-1])
            W[name] = rng.standard_normal(p.shape) * scale
    with gradus.no_grad():
        for name, p in model.named_parameters():
            p.copy_(gradus.tensor(W[name]))
    return W


def _ln(torch, x, w, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * w + b


def _compare_grads(model, tw):
    worst = 0.0
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        ref = tw[name].grad.numpy()
        err = np.abs(p.grad.numpy() - ref).max() / max(1.0, np.abs(ref).max())
        assert err < 1e-10, (name, err)
        worst = max(worst, err)
    return worst


def test_bert_for_pretraining_matches_torch(torch):
    model = BertForPreTraining(TINY).double().eval()
    names = [n for n, _ in model.named_parameters()]
    assert "cls.predictions.decoder.weight" not in names            # tied: one Parameter, listed once
    W = _weights(model)
    ids, mask, types = _batch(TINY)
    labels = np.full(ids.shape, -100)
    labels[0, 1], labels[0, 5], labels[1, 2], labels[2, 0] = 7, 3, 11, 39
    nsl = np.array([1, 0, 1])
    out = model(ids, mask, types, labels=labels, next_sentence_label=nsl)
    out.loss.backward()

    tw = {k: torch.tensor(v, requires_grad=True) for k, v in W.items()}
    enc = {k[len("bert."):]: v for k, v in tw.items() if k.startswith("bert.")}
    h, pooled = torch_bert(torch, enc, TINY, torch.tensor(ids), torch.tensor(mask), torch.tensor(types))
    t = h @ tw["cls.predictions.transform.dense.weight"].T + tw["cls.predictions.transform.dense.bias"]
    t = 0.5 * t * (1.0 + torch.erf(t / math.sqrt(2.0)))
    t = _ln(torch, t, tw["cls.predictions.transform.LayerNorm.weight"],
            tw["cls.predictions.transform.LayerNorm.bias"], TINY.layer_norm_eps)
    logits = t @ tw["bert.embeddings.word_embeddings.weight"].T + tw["cls.predictions.bias"]   # tied
    nsp = pooled @ tw["cls.seq_relationship.weight"].T + tw["cls.seq_relationship.bias"]
    y = torch.tensor(labels).reshape(-1)
    keep = y != -100
    mlm = -torch.log_softmax(logits.reshape(-1, TINY.vocab_size), -1)[keep, y[keep]].mean()
    nsp_loss = -torch.log_softmax(nsp, -1)[torch.arange(3), torch.tensor(nsl)].mean()
    (mlm + nsp_loss).backward()

    tol = dict(rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(out.prediction_logits.numpy(), logits.detach().numpy(), **tol)
    np.testing.assert_allclose(out.seq_relationship_logits.numpy(), nsp.detach().numpy(), **tol)
    assert out.mlm_loss.item() == pytest.approx(mlm.item(), rel=1e-12)
    assert out.nsp_loss.item() == pytest.approx(nsp_loss.item(), rel=1e-12)
    _compare_grads(model, tw)
    # the tied matrix really received both uses: the decoder's share alone is not its gradient
    assert np.abs(tw["bert.embeddings.word_embeddings.weight"].grad.numpy()).max() > 0


def test_bert_for_sequence_classification_matches_torch(torch):
    model = BertForSequenceClassification(TINY, num_labels=3).double().eval()
    W = _weights(model, seed=5)
    ids, mask, types = _batch(TINY, seed=2)
    y = np.array([2, 0, 1])
    out = model(ids, mask, types, labels=y)
    out.loss.backward()

    tw = {k: torch.tensor(v, requires_grad=True) for k, v in W.items()}
    enc = {k[len("bert."):]: v for k, v in tw.items() if k.startswith("bert.")}
    _, pooled = torch_bert(torch, enc, TINY, torch.tensor(ids), torch.tensor(mask), torch.tensor(types))
    logits = pooled @ tw["classifier.weight"].T + tw["classifier.bias"]
    loss = -torch.log_softmax(logits, -1)[torch.arange(3), torch.tensor(y)].mean()
    loss.backward()
    np.testing.assert_allclose(out.logits.numpy(), logits.detach().numpy(), rtol=1e-10, atol=1e-10)
    assert out.loss.item() == pytest.approx(loss.item(), rel=1e-12)
    _compare_grads(model, tw)
