"""The generative recipes (gradus.recipes.runners.generative) end to end through `gradus train` on a
few thousand real MNIST images (seconds each), and `gradus sample` on their checkpoints; the full
runs and their measured numbers are in the recipes' header comments and benchmarks/RESULTS.md."""
import json

import numpy as np
import pytest

from gradus.recipes import RecipeError, load_recipe
from gradus.recipes.runners.generative import binarize, generative_model_from_config

RECIPES = ["mnist-autoencoder", "mnist-denoising-autoencoder", "mnist-vae", "mnist-rbm"]  # + selfsup below
SMALL = ["data.subset=3000", "data.test_subset=1000"]


def _train(name, tmp_path, shared_data, epochs, *sets):
    from gradus.cli.main import main

    out = tmp_path / name
    args = ["train", name, "--out", str(out), "--no-progress", "--data", str(shared_data)]
    if epochs is not None:
        args += ["--epochs", str(epochs)]
    for s in [*SMALL, *sets]:
        args += ["--set", s]
    assert main(args) == 0
    history = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return json.loads((out / "results.json").read_text())["results"], history, out


@pytest.mark.parametrize("name", RECIPES)
def test_recipe_parses_and_builds_its_model(name):
    cfg = load_recipe(name)
    assert cfg["recipe"]["runner"].startswith("gradus.recipes.runners.generative:")
    assert {"metric", "value"} <= set(cfg["recipe"]["target"])
    model = generative_model_from_config(cfg)
    assert sum(p.numel() for p in model.parameters()) > 100_000


def test_unknown_model_kind_is_a_recipe_error():
    with pytest.raises(RecipeError, match=r"\[model\] kind must be one of .*'vae'.*got 'gan'"):
        generative_model_from_config({"model": {"kind": "gan"}})


def test_binarize():
    X = np.array([[0.0, 0.2, 0.6, 1.0]], np.float32)
    np.testing.assert_array_equal(binarize(X), [[0, 0, 1, 1]])
    draws = binarize(np.full((20000, 1), 0.3, np.float32), np.random.default_rng(0))
    assert set(np.unique(draws)) <= {0.0, 1.0} and abs(draws.mean() - 0.3) < 0.01


def test_autoencoder_learns_and_draws(shared_data, tmp_path):
    r, hist, out = _train("mnist-autoencoder", tmp_path, shared_data, 3, "train.batch_size=32")
    assert [h["epoch"] for h in hist] == [1, 2, 3]
    assert hist[-1]["test_mse"] < hist[0]["test_mse"] < 0.07
    assert r["test_mse"] < 0.045  # predicting the mean image: ~0.067; the identity: 0
    for f in ["checkpoint.safetensors", "reconstructions.png", "latent_scatter.png", "interpolation.png"]:
        assert (out / f).is_file(), f


def test_denoising_autoencoder_removes_noise(shared_data, tmp_path):
    r, _, out = _train("mnist-denoising-autoencoder", tmp_path, shared_data, 3)
    assert r["test_mse_denoised"] < 0.7 * r["test_mse_corrupted"]
    assert (out / "denoising.png").is_file()


def test_vae_elbo_rises_and_sample_writes_a_grid(shared_data, tmp_path, capsys):
    from gradus.cli.main import main

    r, hist, out = _train("mnist-vae", tmp_path, shared_data, 4)
    elbos = [h["test_elbo"] for h in hist]
    assert elbos[-1] > elbos[0] and r["test_elbo"] > -200
    assert r["test_kl"] > 1.0  # the latent code is used (no posterior collapse)
    np.testing.assert_allclose(r["test_elbo"], -(r["test_reconstruction"] + r["test_kl"]), rtol=1e-6)
    for f in ["samples.png", "reconstructions.png", "latent_scatter.png", "interpolation.png"]:
        assert (out / f).is_file(), f
    png = tmp_path / "grid.png"
    assert main(["sample", str(out / "checkpoint.safetensors"), "--n", "16", "--out", str(png)]) == 0
    assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_rbm_reconstruction_error_falls_and_sample_writes_a_grid(shared_data, tmp_path):
    from gradus.cli.main import main

    r, hist, out = _train("mnist-rbm", tmp_path, shared_data, 3)
    errs = [r["initial_reconstruction_error"]] + [h["test_reconstruction_error"] for h in hist]
    assert all(b < a for a, b in zip(errs, errs[1:])), errs
    assert r["reconstruction_error_fell"] is True
    for f in ["filters.png", "samples.png", "reconstruction_error.png"]:
        assert (out / f).is_file(), f
    png = tmp_path / "rbm.png"
    assert main(["sample", str(out / "checkpoint.safetensors"), "--n", "8", "--gibbs-steps", "20",
                 "--out", str(png)]) == 0
    assert png.is_file()


def test_sample_refuses_a_plain_autoencoder_and_bad_arguments(shared_data, tmp_path, capsys):
    from gradus.cli.main import main

    _, _, out = _train("mnist-autoencoder", tmp_path, shared_data, 1, "data.subset=500",
                       "data.test_subset=200")
    ckpt = str(out / "checkpoint.safetensors")
    assert main(["sample", ckpt]) == 2
    assert "not a generative model" in capsys.readouterr().err
    assert main(["sample", ckpt, "--n", "0"]) == 2
    assert "--n must be in 1..10000" in capsys.readouterr().err


def test_selfsup_transfer_end_to_end(shared_data, tmp_path):
    from gradus.recipes.runners.selfsup import few_labels

    y = np.repeat(np.arange(10), 50)
    idx = few_labels(y, 5, seed=3)
    assert len(idx) == 50 and np.bincount(y[idx]).tolist() == [5] * 10
    assert not np.array_equal(idx, few_labels(y, 5, seed=4))
    r, hist, out = _train("mnist-selfsup-transfer", tmp_path, shared_data, None, "pretrain.epochs=2",
                          "finetune.epochs=3", "finetune.labels_per_class=10", "finetune.seeds=[0, 1]")
    pre = [h for h in hist if h["stage"] == "pretext"]
    assert len(pre) == 2 and pre[-1]["test_rotation_accuracy"] > 0.5   # chance: 0.25
    assert r["seeds"] == 2 and r["labels"] == 100
    assert r["transfer_gain"] == pytest.approx(r["pretrained_accuracy_mean"] - r["random_accuracy_mean"])
    assert (out / "transfer.png").is_file() and (out / "pretext.safetensors").is_file()
