"""The translation recipes (seq2seq-translate, seq2seq-attention-translate): parse, share everything but
the attention, run end to end on a slice of Multi30k (the full runs and their BLEU are in
benchmarks/RESULTS.md), and the BLEU helpers score what sacrebleu scores."""
import json

import numpy as np
import pytest

from gradus.recipes import load_recipe
from gradus.recipes.runners.translate import LENGTH_BUCKETS, bleu_by_length, corpus_bleu

NAMES = ("seq2seq-translate", "seq2seq-attention-translate")


def test_the_two_recipes_differ_only_in_attention_and_budget():
    """The same model, data, optimiser and decoding; attention trains 20 epochs (its target, 28 BLEU,
    needs them) where the context-vector model trains 7 (the comparison at 7 epochs is in RESULTS)."""
    a, b = (load_recipe(n) for n in NAMES)
    assert (a["train"].pop("epochs"), a["scheduler"].pop("T_max")) == (7, 7)
    assert (b["train"].pop("epochs"), b["scheduler"].pop("T_max")) == (20, 20)
    assert a["model"].pop("attention") == "none" and b["model"].pop("attention") == "general"
    assert a["model"].pop("input_feeding") is False and b["model"].pop("input_feeding") is True
    assert a["model"] == b["model"]
    for part in ("data", "optim", "scheduler", "train", "decode"):
        assert a[part] == b[part], part
    assert b["recipe"]["target"] == {"metric": "test_bleu", "value": 28.0}
    assert b["decode"]["beam_size"] == 5


def test_corpus_bleu_and_buckets():
    refs = ["a man rides a horse .", "two dogs play in the snow near a tree ."]
    score, sig = corpus_bleu(refs, refs)
    assert score == pytest.approx(100.0) and "tok:13a" in sig and "case:mixed" in sig
    assert corpus_bleu(["A man rides a horse .", refs[1]], refs, lowercase=True)[0] == pytest.approx(100.0)
    assert corpus_bleu(["the cat", "sat"], refs)[0] < 5
    src = ["ein mann reitet", " ".join(["wort"] * 30)]
    rows = bleu_by_length(src, refs, refs)
    assert [(r["lo"], r["n"]) for r in rows] == [(1, 1), (LENGTH_BUCKETS[-1][0], 1)]


@pytest.mark.parametrize("name", NAMES)
def test_recipe_runs_end_to_end(name, shared_data, tmp_path):
    """CI version: 500 pairs, a 32-unit model, 2 epochs (~15-30 s); the loss falls, every artefact is
    written, and the checkpoint holds both tokenizers, so it translates on its own."""
    from gradus.cli.main import main
    from gradus.models import Seq2Seq, Seq2SeqConfig
    from gradus.tensor import Tensor
    from gradus.train.checkpoint import load_checkpoint

    small = ["data.max_train_pairs=500", "data.max_eval_pairs=20", "scheduler.T_max=2",
             "model.hidden_size=32", "model.embed_dim=32", "data.src_vocab_size=400",
             "data.tgt_vocab_size=400", "decode.beam_size=2"]
    args = ["train", name, "--epochs", "2", "--no-progress", "--data", str(shared_data),
            "--out", str(tmp_path)]
    args += [a for s in small for a in ("--set", s)]
    assert main(args) == 0
    res = json.loads((tmp_path / "results.json").read_text())["results"]
    assert res["bleu_signature"].startswith("nrefs:1|case:mixed|eff:no|tok:13a")
    assert "case:lc" in res["bleu_signature_lowercase"]
    buckets = json.loads((tmp_path / "bleu_by_length.json").read_text())["buckets"]
    assert 0 <= res["test_bleu"] <= 100 and sum(r["n"] for r in buckets) == 20
    logs = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert len(logs) == 2 and logs[1]["loss"] < logs[0]["loss"] and logs[1]["val_loss"] < np.log(400)
    assert (tmp_path / "translations.txt").read_text().count("HYP  ") == 20
    assert (tmp_path / "attention.png").exists() == (name == "seq2seq-attention-translate")

    import tokenizers

    meta = json.loads((tmp_path / "checkpoint.json").read_text())["meta"]
    cfg = meta["config"]
    net = Seq2Seq(Seq2SeqConfig(**cfg["model"]))
    load_checkpoint(tmp_path / "checkpoint.safetensors", net)
    src_tok = tokenizers.Tokenizer.from_str(cfg["tokenizers"]["src"])
    tgt_tok = tokenizers.Tokenizer.from_str(cfg["tokenizers"]["tgt"])
    ids = src_tok.encode("Ein Mann fährt Fahrrad.").ids + [2]
    out = net.greedy(Tensor(np.array([ids])), max_len=12)[0]
    assert isinstance(tgt_tok.decode(out), str) and len(out) <= 12


def test_transformer_recipe_is_the_papers_recipe_sized_for_this_cpu():
    cfg = load_recipe("transformer-translate")
    m, sched = cfg["model"], cfg["scheduler"]
    assert m["architecture"] == "transformer" and m["norm_first"] is False and m["tie_embeddings"] is True
    assert m["d_model"] % m["nhead"] == 0 and sched["name"] == "noam" and sched["d_model"] == m["d_model"]
    assert cfg["train"]["label_smoothing"] == 0.1 and cfg["decode"]["beam_size"] == 5
    assert cfg["recipe"]["target"] == {"metric": "test_bleu", "value": 35.0}
    assert tuple(cfg["optim"]["betas"]) == (0.9, 0.98)


def test_transformer_recipe_runs_end_to_end(shared_data, tmp_path):
    """CI version: 600 pairs, a 1+1-layer d_model 32 Transformer, 3 epochs; the loss falls, the
    per-head attention figure is drawn, and the checkpoint rebuilds the model (build_translator)."""
    from gradus.cli.main import main
    from gradus.recipes.runners.translate import build_translator
    from gradus.tensor import Tensor
    from gradus.train.checkpoint import load_checkpoint

    small = ["data.max_train_pairs=600", "data.max_eval_pairs=12", "model.d_model=32", "model.nhead=4",
             "model.num_encoder_layers=1", "model.num_decoder_layers=1", "model.dim_feedforward=64",
             "scheduler.d_model=32", "scheduler.warmup_steps=10", "scheduler.factor=1.0",
             "data.src_vocab_size=300", "data.tgt_vocab_size=300", "decode.beam_size=2"]
    args = ["train", "transformer-translate", "--epochs", "3", "--no-progress", "--data", str(shared_data),
            "--out", str(tmp_path)]
    args += [a for s in small for a in ("--set", s)]
    assert main(args) == 0
    res = json.loads((tmp_path / "results.json").read_text())["results"]
    assert 0 <= res["test_bleu"] <= 100 and res["bleu_signature"].startswith("nrefs:1|case:mixed")
    logs = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert len(logs) == 3 and logs[2]["loss"] < logs[0]["loss"] and logs[2]["val_loss"] < np.log(300)
    assert 0 < logs[0]["lr"] and (tmp_path / "attention.png").stat().st_size > 10_000
    meta = json.loads((tmp_path / "checkpoint.json").read_text())["meta"]
    net = build_translator(meta["config"]["model"])
    load_checkpoint(tmp_path / "checkpoint.safetensors", net)
    out = net.greedy(Tensor(np.array([[5, 6, 7, 2]])), max_len=8)[0]
    assert len(out) <= 8 and net.generator.weight is net.tgt_embed.weight


def test_weight_averaging_option(shared_data, tmp_path, monkeypatch):
    """train.ema_decay: the average is updated after every optimizer step and is what is validated,
    kept and decoded (the checkpoint holds it); a decay outside [0, 1) is a recipe error."""
    from gradus.cli.main import main
    from gradus.nn.utils.swa_utils import AveragedModel
    from gradus.recipes import RecipeError
    from gradus.recipes.runners.translate import run_translate

    calls = []
    original = AveragedModel.update_parameters
    monkeypatch.setattr(AveragedModel, "update_parameters",
                        lambda self, model: (calls.append(1), original(self, model))[1])
    small = ["data.max_train_pairs=300", "data.max_eval_pairs=10", "scheduler.T_max=1",
             "model.hidden_size=16", "model.embed_dim=16", "data.src_vocab_size=300",
             "data.tgt_vocab_size=300", "decode.beam_size=1", "train.ema_decay=0.9"]
    args = ["train", "seq2seq-attention-translate", "--epochs", "1", "--no-progress", "--data",
            str(shared_data), "--out", str(tmp_path)]
    assert main(args + [a for s in small for a in ("--set", s)]) == 0
    steps = json.loads((tmp_path / "metrics.jsonl").read_text().splitlines()[0])["step"]
    assert steps > 0 and len(calls) == steps
    config = load_recipe("seq2seq-attention-translate")
    config["train"]["ema_decay"] = 1.0
    with pytest.raises(RecipeError, match="ema_decay must be in"):
        run_translate(config, tmp_path / "bad", progress=False)
