import numpy as np
import pytest

pytest.importorskip("matplotlib")
import matplotlib  # noqa: E402
import matplotlib.image as mpimg  # noqa: E402

import gradus  # noqa: E402
from gradus.viz import plots  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def check_png(path, min_w=100, min_h=50):
    assert path.is_file() and path.stat().st_size > 1000
    assert path.read_bytes()[:8] == PNG_MAGIC
    img = mpimg.imread(path)
    assert img.shape[1] >= min_w and img.shape[0] >= min_h
    assert img[..., :3].std() > 0.01  # not a blank canvas
    return img


def test_backend_is_agg():
    assert matplotlib.get_backend().lower() == "agg"


def test_plot_curves_from_history_and_dict(tmp_path):
    hist = [{"epoch": e, "loss": 1 / e, "val_loss": 1.2 / e, "accuracy": 1 - 0.5 / e,
             "val_accuracy": 1 - 0.6 / e} for e in range(1, 6)]
    out = plots.plot_curves(hist, tmp_path / "curves.png", title="t")
    assert out == tmp_path / "curves.png"
    img = check_png(out, min_w=600)
    # loss only (no accuracy logged): one panel, so a narrower figure
    narrow = check_png(plots.plot_curves({"loss": [3.0, 2.0, 1.0]}, tmp_path / "loss.png"))
    assert narrow.shape[1] < img.shape[1]


def test_plot_confusion_matrix(tmp_path):
    cm = np.array([[5, 1, 0], [0, 7, 2], [1, 0, 9]])
    check_png(plots.plot_confusion_matrix(cm, ["a", "b", "c"], tmp_path / "cm.png"))
    check_png(plots.plot_confusion_matrix(cm, None, tmp_path / "cmn.png", normalize=True))


def test_plot_misclassified_and_samples(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.random((30, 64)).astype(np.float32)
    y = rng.integers(0, 10, 30)
    pred = y.copy()
    pred[::4] = (pred[::4] + 1) % 10
    check_png(plots.plot_misclassified(images, y, pred, tmp_path / "mis.png", image_shape=(8, 8)))
    check_png(plots.plot_misclassified(images, y, y, tmp_path / "none.png", image_shape=(8, 8)), min_w=50)
    check_png(plots.plot_samples(gradus.tensor(images), y, tmp_path / "s.png", image_shape=(8, 8)))
    rgb = rng.random((6, 3, 16, 16))
    check_png(plots.plot_samples(rgb, None, tmp_path / "rgb.png"))


def test_plot_first_layer_linear_and_conv(tmp_path):
    W = np.random.default_rng(0).standard_normal((20, 64))
    check_png(plots.plot_first_layer(W, (8, 8), tmp_path / "w.png"))
    check_png(plots.plot_first_layer(np.random.default_rng(1).standard_normal((6, 3, 5, 5)), None,
                                      tmp_path / "conv.png"))
    with pytest.raises(ValueError, match="image_shape"):
        plots.plot_first_layer(W, (7, 7), tmp_path / "bad.png")


def test_plot_decision_boundary(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)

    def predict(P):
        return (P[:, 0] + P[:, 1] > 0).astype(np.int64)  # labels (M,)

    img = check_png(plots.plot_decision_boundary(predict, X, y, tmp_path / "db.png"))
    assert img.shape[0] > 200
    with pytest.raises(ValueError, match="2-D inputs"):
        plots.plot_decision_boundary(predict, np.zeros((5, 3)), np.zeros(5), tmp_path / "x.png")


def test_decision_boundary_wants_labels(tmp_path):
    """Scores must be turned into labels by the caller (viz does not import train.metrics)."""
    X, y = np.zeros((4, 2)), np.zeros(4)
    with pytest.raises(ValueError, match="integer labels of shape"):
        plots.plot_decision_boundary(lambda P: np.zeros((len(P), 2)), X, y, tmp_path / "x.png")
    with pytest.raises(ValueError, match="integer labels of shape"):
        plots.plot_decision_boundary(lambda P: np.zeros(len(P)), X, y, tmp_path / "x.png")  # floats
