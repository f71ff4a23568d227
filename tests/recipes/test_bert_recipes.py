"""bert-pretrain / bert-finetune (gradus.recipes.runners.bert): the recipe files, the corpus (the SMS
test split never enters pre-training), the gathered MLM loss, and CI-sized runs of both recipes end to
end through `gradus train` on the real data (seconds; the full runs are described in the recipes'
header comments)."""
import json

import numpy as np
import pytest

import gradus
from gradus.models.bert import BertConfig, BertForPreTraining
from gradus.recipes import RecipeError, load_recipe, validate
from gradus.recipes.runners import bert as R

TINY = ["model.hidden_size=32", "model.num_hidden_layers=1", "model.intermediate_size=64",
        "tokenizer.vocab_size=800", "data.shakespeare_max_chars=50000", "pretrain.eval_pairs=256",
        "pretrain.max_length=32", "pretrain.warmup_steps=10", "pretrain.lr=0.01"]
FINE = ["finetune.epochs=2", "finetune.labels_per_class=8", "finetune.max_length=32", "finetune.seeds=[0, 1]"]


def _train(name, out, shared_data, *sets):
    from gradus.cli.main import main

    args = ["train", name, "--out", str(out), "--no-progress", "--data", str(shared_data)]
    for s in sets:
        args += ["--set", s]
    assert main(args) == 0
    hist = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return json.loads((out / "results.json").read_text())["results"], hist


@pytest.mark.parametrize("name", ["bert-pretrain", "bert-finetune"])
def test_recipes_load_and_validate(name):
    cfg = load_recipe(name)
    validate(cfg)
    assert cfg["recipe"]["runner"].startswith("gradus.recipes.runners.bert:run_bert_")
    assert cfg["data"]["test_fraction"] == 0.3 and cfg["pretrain"]["mlm_probability"] == 0.15
    bc = R.bert_config(cfg["model"], cfg["tokenizer"]["vocab_size"])
    assert bc.max_position_embeddings >= cfg["pretrain"]["max_length"]
    if name == "bert-finetune":
        assert cfg["finetune"]["checkpoint"] == "" and len(cfg["finetune"]["seeds"]) >= 3


def test_split_sentences():
    assert R.split_sentences("Ok lar... Joking wif u oni...") == ["Ok lar...", "Joking wif u oni..."]
    assert R.split_sentences("  no end ") == ["no end"]


def test_sms_test_split_never_enters_pretraining(shared_data):
    data = {"root": str(shared_data), "corpus": ["sms"], "test_fraction": 0.3, "split_seed": 0}
    sms, pool, test = R.sms_split(data)
    assert len(set(pool) & set(test)) == 0 and len(pool) + len(test) == len(sms)
    docs = R.pretraining_documents(data, sms, pool, test)
    def key(text):
        return " ".join(text.lower().split())

    seen = {key(" ".join(d)) for d in docs}
    test_texts = {key(sms.texts[i]) for i in test}
    assert not seen & test_texts                                   # not even a repeat of a test message
    kept = [i for i in pool if key(sms.texts[i]) not in test_texts]
    assert len(docs) == len(kept) > 0.9 * len(pool)
    assert all(key(sms.texts[i]) in seen for i in kept)
    with pytest.raises(RecipeError, match="data.corpus must be .* got \\['wiki'\\]"):
        R.pretraining_documents({**data, "corpus": ["wiki"]}, sms, pool, test)


def test_gathered_mlm_loss_equals_the_full_model_loss():
    gradus.manual_seed(0)
    model = BertForPreTraining(BertConfig(vocab_size=60, hidden_size=16, num_hidden_layers=1,
                                          num_attention_heads=2, intermediate_size=32,
                                          max_position_embeddings=32)).eval()
    rng = np.random.default_rng(0)
    docs = [[list(rng.integers(5, 60, rng.integers(2, 9))) for _ in range(3)] for _ in range(20)]
    sampler = R.NextSentencePairs(docs, 24, R.CLS, R.SEP, R.PAD)
    x, tt, attn, labels, nsl = R._pair_batch(sampler, 8, 60, 0.3, rng)
    loss, mlm, nsp, mc, nc = R.pretraining_losses(model, x, tt, attn, labels, nsl)
    full = model(x, attn, tt, labels=labels, next_sentence_label=nsl)
    assert loss.item() == pytest.approx(full.loss.item(), rel=1e-5)
    assert mlm.item() == pytest.approx(full.mlm_loss.item(), rel=1e-5)
    sel = labels != -100
    assert mc == int((full.prediction_logits.numpy().argmax(-1)[sel] == labels[sel]).sum())
    assert nc == int((full.seq_relationship_logits.numpy().argmax(-1) == nsl).sum())


@pytest.fixture(scope="module")
def pretrained(shared_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("bert") / "pre"
    r, hist = _train("bert-pretrain", out, shared_data, *TINY, "pretrain.steps=60",
                     "pretrain.eval_interval=30")
    return out, r, hist


def test_bert_pretrain_end_to_end(pretrained):
    out, r, hist = pretrained
    assert [h["step"] for h in hist] == [30, 60] and all(h["stage"] == "pretrain" for h in hist)
    assert hist[-1]["mlm_loss"] < hist[0]["mlm_loss"] < np.log(800)   # learning from uniform (6.68 nats)
    assert 0.0 < r["unigram_mlm_accuracy"] < 0.1 and 0.0 <= r["heldout_mlm_accuracy"] <= 1.0
    assert r["mlm_gain_over_unigram"] == pytest.approx(r["heldout_mlm_accuracy"] - r["unigram_mlm_accuracy"])
    assert 0.3 < r["heldout_nsp_accuracy"] < 0.7 and r["vocab_size"] <= 800 and r["steps"] == 60
    assert (out / "checkpoint.safetensors").is_file() and (out / "tokenizer.json").is_file()
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(out / "tokenizer.json"))
    assert [tok.token_to_id(s) for s in R.SPECIALS] == [0, 1, 2, 3, 4]


def test_bert_finetune_from_the_checkpoint(pretrained, shared_data, tmp_path, capsys):
    ckpt = pretrained[0] / "checkpoint.safetensors"
    r, hist = _train("bert-finetune", tmp_path / "fine", shared_data, *TINY, *FINE,
                     f"finetune.checkpoint='{ckpt}'")
    assert [h["seed"] for h in hist] == [0, 1] and all(h["labels"] == 16 for h in hist)
    for start in ("pretrained", "random"):
        assert 0.0 <= r[f"{start}_accuracy_mean"] <= 1.0 and r[f"{start}_accuracy_std"] >= 0.0
        assert np.mean([h[f"{start}_accuracy"] for h in hist]) == pytest.approx(r[f"{start}_accuracy_mean"])
    assert r["transfer_gain"] == pytest.approx(r["pretrained_accuracy_mean"] - r["random_accuracy_mean"])
    assert r["majority_baseline_accuracy"] == pytest.approx(0.866, abs=0.002) and r["test_messages"] == 1672
    # a checkpoint pre-trained on another split may have read these test messages: refused
    from gradus.cli.main import main

    capsys.readouterr()
    assert main(["train", "bert-finetune", "--out", str(tmp_path / "bad"), "--no-progress",
                 "--data", str(shared_data), "--set", "data.split_seed=1",
                 "--set", f"finetune.checkpoint='{ckpt}'",
                 *[a for s in TINY + FINE for a in ("--set", s)]]) != 0
    assert "was pre-trained with the SMS split" in capsys.readouterr().err


def test_bert_finetune_pretrains_itself_without_a_checkpoint(shared_data, tmp_path):
    out = tmp_path / "fine"
    r, hist = _train("bert-finetune", out, shared_data, *TINY, *FINE, "finetune.seeds=[0]",
                     "pretrain.steps=20", "pretrain.eval_interval=20")
    assert (out / "pretrain" / "checkpoint.safetensors").is_file()
    assert [h["stage"] for h in hist] == ["finetune"] and r["seeds"] == 1
    assert "pretrain_heldout_mlm_accuracy" in r and r["pretrained_accuracy_std"] == 0.0


def test_bert_pretrain_reads_a_saved_tokenizer(pretrained, shared_data, tmp_path, capsys):
    """tokenizer.file: the saved tokenizer.json is used as is (the WordPiece trainer is not reproducible
    across processes); a missing file is a recipe error that says what to give."""
    out, r, _ = pretrained
    r2, _ = _train("bert-pretrain", tmp_path / "again", shared_data, *TINY, "pretrain.steps=10",
                   "pretrain.eval_interval=10", f"tokenizer.file='{out / 'tokenizer.json'}'")
    assert r2["vocab_size"] == r["vocab_size"]
    assert (tmp_path / "again" / "tokenizer.json").read_text() == (out / "tokenizer.json").read_text()
    from gradus.cli.main import main

    capsys.readouterr()
    assert main(["train", "bert-pretrain", "--out", str(tmp_path / "bad"), "--no-progress", "--data",
                 str(shared_data), "--set", f"tokenizer.file='{tmp_path / 'missing.json'}'"]) == 2
    assert "tokenizer.file: cannot read" in capsys.readouterr().err
