"""shakespeare-char-gpt (gradus.recipes.runners.gpt_lm): windows, the exact validation loss, and the
recipe end to end on a prefix of the real text, then `gradus sample` on its checkpoint."""
import json

import numpy as np
import pytest

import gradus
from gradus.models.gpt import GPT, GPTConfig
from gradus.recipes import load_recipe
from gradus.recipes.runners.gpt_lm import exact_loss, random_windows


def test_random_windows_are_shifted_by_one():
    ids = np.arange(1000)
    x, y = random_windows(ids, 6, 16, np.random.default_rng(0))
    assert x.shape == y.shape == (6, 16) and x.dtype == np.int64
    np.testing.assert_array_equal(y, x + 1)
    assert x.max() < 999


def test_exact_loss_predicts_every_character_once():
    gradus.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=7, block_size=8, n_layer=1, n_head=2, n_embd=8))
    ids = np.random.default_rng(1).integers(0, 7, 8 * 5 + 1)
    got = exact_loss(model, ids, 8, batch_size=2)
    x = gradus.tensor(ids[:-1].reshape(5, 8))
    logits, _ = model.eval()(x)
    logp = gradus.functional.log_softmax(logits, dim=-1).numpy()
    want = -np.mean(logp.reshape(40, 7)[np.arange(40), ids[1:]])
    assert got == pytest.approx(want, rel=1e-5)


def test_recipe_parses():
    cfg = load_recipe("shakespeare-char-gpt")
    assert cfg["recipe"]["target"]["metric"] == "val_loss" and cfg["model"]["block_size"] == 128


def test_char_gpt_learns_and_samples(shared_data, tmp_path, capsys):
    from gradus.cli.main import main

    out = tmp_path / "gpt"
    sets = ["train.max_iters=60", "train.eval_interval=30", "data.max_chars=60000", "data.batch_size=8",
            "scheduler.warmup_steps=10", "model.n_layer=1", "model.n_embd=64", "model.block_size=32",
            "optim.lr=0.003"]
    args = ["train", "shakespeare-char-gpt", "--out", str(out), "--no-progress", "--data", str(shared_data)]
    for s in sets:
        args += ["--set", s]
    assert main(args) == 0
    r = json.loads((out / "results.json").read_text())["results"]
    hist = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [h["iter"] for h in hist] == [30, 60]
    assert r["val_loss"] < np.log(65) - 0.8  # uniform over the 65 characters: 4.17 nats
    assert (out / "sample.txt").read_text().startswith("ROMEO:")
    capsys.readouterr()
    assert main(["sample", str(out / "checkpoint.safetensors"), "--prompt", "KING", "--length", "30"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("KING") and len(text.rstrip("\n")) >= 30
