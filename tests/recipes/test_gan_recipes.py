"""The GAN recipes (gradus.recipes.runners.gan): the judge's scores on known distributions, and
`gradus train mnist-gan / mnist-dcgan` end to end on a few hundred real digits with a stand-in judge
(an untrained LeNet-5 checkpoint: the plumbing, not the quality, which the full runs measure), then
`gradus sample` on the GAN checkpoint."""
import json

import numpy as np
import pytest

from gradus.recipes import load_recipe
from gradus.recipes.runners.gan import classifier_scores, gan_from_config, inception_score


def test_inception_score_bounds():
    k = 10
    one_hot_uniform = np.eye(k)[np.arange(1000) % k]
    assert inception_score(one_hot_uniform) == pytest.approx(10.0)
    assert inception_score(np.tile(np.eye(k)[3], (50, 1))) == pytest.approx(1.0)  # mode collapse
    assert inception_score(np.full((50, k), 1 / k)) == pytest.approx(1.0)          # unsure of everything
    half = np.eye(k)[np.arange(1000) % 5]                                          # 5 classes only
    assert inception_score(half) == pytest.approx(5.0)


class _FixedJudge:
    """Logits that make image i class (i mod 10) with probability ~0.99."""

    def eval(self):
        return self

    def __call__(self, x):
        import gradus

        n = x.shape[0]
        logits = np.zeros((n, 10), np.float32)
        logits[np.arange(n), np.arange(n) % 10] = 10.0
        return gradus.tensor(logits)


def test_classifier_scores_of_a_confident_balanced_judge():
    s = classifier_scores(_FixedJudge(), np.zeros((200, 1, 28, 28), np.float32), batch_size=1000)
    assert s["mean_confidence"] > 0.99
    assert s["class_min_fraction"] == s["class_max_fraction"] == pytest.approx(0.1)
    assert s["inception_score"] > 9.8


@pytest.mark.parametrize("name, kind", [("mnist-gan", "mlp"), ("mnist-dcgan", "dcgan")])
def test_recipe_parses_and_builds_both_players(name, kind):
    cfg = load_recipe(name)
    gan = gan_from_config(cfg)
    assert gan.kind == kind and gan.sample(3).shape == (3, 1, 28, 28)


@pytest.fixture(scope="module")
def stand_in_judge(tmp_path_factory):
    """An untrained LeNet-5 saved as `gradus train mnist-lenet5` would save it."""
    from gradus.recipes.runners.build import build_model
    from gradus.train.checkpoint import save_checkpoint

    cfg = load_recipe("mnist-lenet5")
    path = tmp_path_factory.mktemp("judge") / "checkpoint.safetensors"
    save_checkpoint(path, build_model(cfg), meta={"config": cfg})
    return path


@pytest.mark.parametrize("name", ["mnist-gan", "mnist-dcgan"])
def test_gan_recipe_end_to_end(name, shared_data, tmp_path, stand_in_judge):
    from gradus.cli.main import main

    out = tmp_path / name
    sets = ["data.subset=256", "data.test_subset=200", f"eval.classifier={json.dumps(str(stand_in_judge))}",
            "eval.samples=200", "train.batch_size=32"]
    args = ["train", name, "--out", str(out), "--no-progress", "--data", str(shared_data), "--epochs", "2"]
    for s in sets:
        args += ["--set", s]
    assert main(args) == 0
    r = json.loads((out / "results.json").read_text())["results"]
    assert 1.0 <= r["inception_score"] <= 10.0 and 0.0 < r["mean_confidence"] <= 1.0
    shares = [float(f) for f in r["class_fractions"].split()]
    assert len(shares) == 10 and sum(shares) == pytest.approx(1.0, abs=0.01) and r["samples_judged"] == 200
    hist = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [h["epoch"] for h in hist] == [1, 2] and all(np.isfinite(h["d_loss"]) for h in hist)
    assert all(1.0 <= h["inception_score"] <= 10.0 for h in hist)         # judged every epoch
    # mnist-dcgan samples from the EMA of G's weights and also scores the last iterate
    assert all(("inception_score_last_iterate" in h) == (name == "mnist-dcgan") for h in hist)
    assert hist[-1]["inception_score"] == pytest.approx(r["inception_score"])
    for f in ["samples/epoch_001.png", "samples/epoch_002.png", "samples.png", "losses.png"]:
        assert (out / f).is_file(), f
    png = tmp_path / "grid.png"
    assert main(["sample", str(out / "checkpoint.safetensors"), "--n", "12", "--out", str(png)]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"
