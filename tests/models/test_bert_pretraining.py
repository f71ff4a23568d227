"""BertForPreTraining / BertForSequenceClassification (gradus.models.bert): shapes, the tied MLM
decoder, losses against hand-computed cross-entropy, overfitting one batch, Hugging Face's exact
state-dict names, and (when ``transformers`` is installed) Hugging Face's own models as the oracle."""
import numpy as np
import pytest

import gradus
from gradus.errors import ShapeError
from gradus.models.bert import BertConfig, BertForPreTraining, BertForSequenceClassification

CFG = dict(vocab_size=40, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
           max_position_embeddings=12)


def _inputs(B=3, T=7, seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(5, 40, (B, T))
    ids[:, 0] = 2
    attn = np.ones((B, T), np.int64)
    attn[1, 5:] = 0
    ids[1, 5:] = 0
    tt = np.zeros((B, T), np.int64)
    tt[:, 4:] = 1
    labels = np.full((B, T), -100)
    labels[0, 2], labels[1, 3], labels[2, 1], labels[2, 6] = 7, 9, 11, 13
    return ids, attn, tt, labels, np.array([0, 1, 0])


def _logsoftmax(z):
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def test_shapes_and_loss_equal_hand_computed_cross_entropy():
    model = BertForPreTraining(BertConfig(**CFG)).eval()
    ids, attn, tt, labels, nsl = _inputs()
    out = model(ids, attn, tt, labels=labels, next_sentence_label=nsl)
    assert out.prediction_logits.shape == (3, 7, 40) and out.seq_relationship_logits.shape == (3, 2)
    lp = _logsoftmax(out.prediction_logits.numpy().astype(np.float64))
    sel = labels != -100
    mlm = -lp[sel, labels[sel]].mean()                       # mean over the 4 selected positions only
    nsp = -_logsoftmax(out.seq_relationship_logits.numpy().astype(np.float64))[np.arange(3), nsl].mean()
    assert out.mlm_loss.item() == pytest.approx(mlm, rel=1e-5)
    assert out.nsp_loss.item() == pytest.approx(nsp, rel=1e-5)
    assert out.loss.item() == pytest.approx(mlm + nsp, rel=1e-5)
    only = model(ids, attn, tt, labels=labels)
    assert only.loss.item() == pytest.approx(mlm, rel=1e-5) and only.nsp_loss is None
    none = model(ids, attn, tt)
    assert none.loss is None and none.mlm_loss is None
    assert out.prediction_logits.dtype == gradus.float32


def test_decoder_is_tied_to_the_word_embeddings_and_gets_both_gradients():
    gradus.manual_seed(0)
    model = BertForPreTraining(BertConfig(**CFG, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0))
    emb = model.bert.embeddings.word_embeddings.weight
    assert model.cls.predictions.decoder.weight is emb
    assert model.cls.predictions.decoder.bias is model.cls.predictions.bias
    assert np.shares_memory(model.state_dict()["cls.predictions.decoder.weight"].numpy(), emb.numpy())
    H, V = 16, 40                       # the tied matrix and bias are counted once: only the heads' own
    heads = (H * H + H) + 2 * H + V + (2 * H + 2)           # transform dense + LN, bias, seq_relationship
    assert sum(p.numel() for p in model.parameters()) == model.bert.num_parameters() + heads
    ids, attn, tt, labels, nsl = _inputs()
    model(ids, attn, tt, labels=labels, next_sentence_label=nsl).loss.backward()
    tied = emb.grad.numpy().copy()
    # untie: a separate decoder weight with the same values; the tied gradient is the sum of both uses
    model.zero_grad()
    model.cls.predictions.decoder.weight = gradus.nn.Parameter(emb.detach().clone())
    model(ids, attn, tt, labels=labels, next_sentence_label=nsl).loss.backward()
    g_in, g_out = emb.grad.numpy(), model.cls.predictions.decoder.weight.grad.numpy()
    assert np.abs(g_in).max() > 0 and np.abs(g_out).max() > 0
    np.testing.assert_allclose(tied, g_in + g_out, rtol=1e-4, atol=1e-7)
    model.tie_weights()
    assert model.cls.predictions.decoder.weight is emb


def test_overfits_one_batch():
    gradus.manual_seed(0)
    model = BertForPreTraining(BertConfig(**CFG, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0))
    ids, attn, tt, labels, nsl = _inputs()
    opt = gradus.optim.Adam(model.parameters(), lr=0.01)
    first = None
    for _ in range(80):
        loss = model(ids, attn, tt, labels=labels, next_sentence_label=nsl).loss
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert first > 3.0 and loss.item() < 0.02


STATE_KEYS_ONE_LAYER = [
    "bert.embeddings.word_embeddings.weight", "bert.embeddings.position_embeddings.weight",
    "bert.embeddings.token_type_embeddings.weight", "bert.embeddings.LayerNorm.weight",
    "bert.embeddings.LayerNorm.bias",
    "bert.encoder.layer.0.attention.self.query.weight", "bert.encoder.layer.0.attention.self.query.bias",
    "bert.encoder.layer.0.attention.self.key.weight", "bert.encoder.layer.0.attention.self.key.bias",
    "bert.encoder.layer.0.attention.self.value.weight", "bert.encoder.layer.0.attention.self.value.bias",
    "bert.encoder.layer.0.attention.output.dense.weight", "bert.encoder.layer.0.attention.output.dense.bias",
    "bert.encoder.layer.0.attention.output.LayerNorm.weight",
    "bert.encoder.layer.0.attention.output.LayerNorm.bias",
    "bert.encoder.layer.0.intermediate.dense.weight", "bert.encoder.layer.0.intermediate.dense.bias",
    "bert.encoder.layer.0.output.dense.weight", "bert.encoder.layer.0.output.dense.bias",
    "bert.encoder.layer.0.output.LayerNorm.weight", "bert.encoder.layer.0.output.LayerNorm.bias",
    "bert.pooler.dense.weight", "bert.pooler.dense.bias",
]
HEADS = ["cls.predictions.bias", "cls.predictions.transform.dense.weight",
         "cls.predictions.transform.dense.bias", "cls.predictions.transform.LayerNorm.weight",
         "cls.predictions.transform.LayerNorm.bias", "cls.predictions.decoder.weight",
         "cls.predictions.decoder.bias", "cls.seq_relationship.weight", "cls.seq_relationship.bias"]


def test_state_dict_keys_are_hugging_faces():
    cfg = BertConfig(**{**CFG, "num_hidden_layers": 1})
    sd = BertForPreTraining(cfg).state_dict()
    assert list(sd) == STATE_KEYS_ONE_LAYER + HEADS               # HF's names, in HF's order
    assert tuple(sd["cls.predictions.decoder.weight"].shape) == (40, 16)
    assert tuple(sd["cls.seq_relationship.weight"].shape) == (2, 16)
    clf = BertForSequenceClassification(cfg, num_labels=3).state_dict()
    assert list(clf) == STATE_KEYS_ONE_LAYER + ["classifier.weight", "classifier.bias"]


def test_sequence_classification_loss_and_pretrained_start():
    cfg = BertConfig(**CFG)
    pre = BertForPreTraining(cfg)
    clf = BertForSequenceClassification(cfg, num_labels=3).eval()
    clf.bert.load_state_dict(pre.bert.state_dict())
    np.testing.assert_array_equal(clf.bert.encoder.layer[1].output.dense.weight.numpy(),
                                  pre.bert.encoder.layer[1].output.dense.weight.numpy())
    ids, attn, tt, _, _ = _inputs()
    y = np.array([2, 0, 1])
    out = clf(ids, attn, tt, labels=y)
    assert out.logits.shape == (3, 3)
    want = -_logsoftmax(out.logits.numpy().astype(np.float64))[np.arange(3), y].mean()
    assert out.loss.item() == pytest.approx(want, rel=1e-5)
    assert clf(ids, attn).loss is None
    with pytest.raises(ValueError, match="num_labels must be an int >= 2.*got 1"):
        BertForSequenceClassification(cfg, num_labels=1)


def test_label_shapes_are_checked():
    model = BertForPreTraining(BertConfig(**CFG))
    ids, attn, tt, labels, nsl = _inputs()
    with pytest.raises(ShapeError, match=r"labels must have input_ids' shape .* = \(3, 7\), got \(3, 6\)"):
        model(ids, labels=labels[:, :6])
    with pytest.raises(ShapeError, match=r"next_sentence_label must have .* = \(3,\), got \(2,\)"):
        model(ids, next_sentence_label=nsl[:2])


# ------------------------------------------------------------------------------ Hugging Face oracle
def _hf_dir(tmp_path, cls_name, **kw):
    transformers = pytest.importorskip("transformers")
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    hf_cfg = transformers.BertConfig(**CFG, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                                     attn_implementation="eager", **kw)
    hf = getattr(transformers, cls_name)(hf_cfg).eval()
    with torch.no_grad():                 # HF zero-initialises some biases: make every value count
        for p in hf.parameters():
            p.add_(0.05 * torch.randn_like(p))
    hf.save_pretrained(tmp_path, safe_serialization=True)
    return torch, hf.double()


def test_hf_bert_for_pretraining_oracle(tmp_path):
    torch, hf = _hf_dir(tmp_path, "BertForPreTraining")
    model = BertForPreTraining.from_pretrained(tmp_path, dtype=gradus.float64)
    assert model.cls.predictions.decoder.weight is model.bert.embeddings.word_embeddings.weight
    ids, attn, tt, labels, nsl = _inputs()
    with torch.no_grad():
        ref = hf(input_ids=torch.tensor(ids), attention_mask=torch.tensor(attn),
                 token_type_ids=torch.tensor(tt), labels=torch.tensor(labels),
                 next_sentence_label=torch.tensor(nsl))
    out = model(ids, attn, tt, labels=labels, next_sentence_label=nsl)
    real = attn.astype(bool)          # padded positions' outputs are meaningless (see BertModel)
    np.testing.assert_allclose(out.prediction_logits.numpy()[real], ref.prediction_logits.numpy()[real],
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out.seq_relationship_logits.numpy(), ref.seq_relationship_logits.numpy(),
                               rtol=1e-5, atol=1e-5)
    assert out.loss.item() == pytest.approx(ref.loss.item(), rel=1e-5)
    f32 = BertForPreTraining.from_pretrained(tmp_path)             # float32 by default
    np.testing.assert_allclose(f32(ids, attn, tt).seq_relationship_logits.numpy(),
                               ref.seq_relationship_logits.numpy(), rtol=1e-4, atol=1e-4)


def test_hf_sequence_classification_oracle(tmp_path):
    torch, hf = _hf_dir(tmp_path, "BertForSequenceClassification", num_labels=3)
    model = BertForSequenceClassification.from_pretrained(tmp_path, dtype=gradus.float64)
    assert model.num_labels == 3
    ids, attn, tt, _, _ = _inputs()
    y = np.array([2, 0, 1])
    with torch.no_grad():
        ref = hf(input_ids=torch.tensor(ids), attention_mask=torch.tensor(attn),
                 token_type_ids=torch.tensor(tt), labels=torch.tensor(y))
    out = model(ids, attn, tt, labels=y)
    np.testing.assert_allclose(out.logits.numpy(), ref.logits.numpy(), rtol=1e-5, atol=1e-5)
    assert out.loss.item() == pytest.approx(ref.loss.item(), rel=1e-5)


def test_from_pretrained_refuses_an_untied_decoder(tmp_path):
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    import json

    cfg = BertConfig(**CFG)
    state = {k: v.numpy().copy() for k, v in BertForPreTraining(cfg).state_dict().items()}
    state["cls.predictions.decoder.weight"] = state["cls.predictions.decoder.weight"] + 1.0
    safetensors_numpy.save_file(state, str(tmp_path / "model.safetensors"))
    (tmp_path / "config.json").write_text(json.dumps({**CFG, "model_type": "bert"}))
    with pytest.raises(ValueError, match="decoder.weight differs from bert.embeddings.word_embeddings"):
        BertForPreTraining.from_pretrained(tmp_path)
    del state["cls.predictions.decoder.weight"], state["cls.predictions.decoder.bias"]   # as save_pretrained
    safetensors_numpy.save_file(state, str(tmp_path / "model.safetensors"))
    m = BertForPreTraining.from_pretrained(tmp_path)
    np.testing.assert_array_equal(m.cls.predictions.decoder.weight.numpy(),
                                  state["bert.embeddings.word_embeddings.weight"])
    del state["cls.seq_relationship.bias"]
    safetensors_numpy.save_file(state, str(tmp_path / "model.safetensors"))
    with pytest.raises(ValueError, match=r"BertForPreTraining.from_pretrained: .* lack 1: cls.seq_rel"):
        BertForPreTraining.from_pretrained(tmp_path)
