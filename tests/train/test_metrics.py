import numpy as np
import pytest

import gradus
from gradus.train import metrics as M


def test_accuracy_from_scores_and_labels():
    scores = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [5.0, 1.0, 9.0], [0.1, 0.2, 0.0]])
    y = np.array([0, 1, 1, 1])
    assert M.accuracy(scores, y) == pytest.approx(0.75)
    assert M.accuracy(np.array([0, 1, 2, 1]), y) == pytest.approx(0.75)
    # gradus Tensors are accepted
    assert M.accuracy(gradus.tensor(scores), gradus.tensor(y)) == pytest.approx(0.75)


def test_accuracy_binary_logit_column():
    out = np.array([[-1.0], [2.0], [0.5]])
    assert M.accuracy(out, np.array([0, 1, 0])) == pytest.approx(2 / 3)


def test_accuracy_size_mismatch():
    with pytest.raises(ValueError, match="3 samples but target has 2"):
        M.accuracy(np.zeros((3, 2)), np.zeros(2, np.int64))


def test_top_k_accuracy_against_brute_force():
    rng = np.random.default_rng(0)
    scores = rng.standard_normal((200, 10))
    y = rng.integers(0, 10, 200)
    for k in (1, 3, 5):
        topk = np.argsort(-scores, axis=1)[:, :k]
        expected = np.mean([y[i] in topk[i] for i in range(200)])
        assert M.top_k_accuracy(scores, y, k) == pytest.approx(expected)
    assert M.top_k_accuracy(scores, y, 1) == pytest.approx(M.accuracy(scores, y))
    assert M.top_k_accuracy(scores, y, 10) == 1.0


def test_confusion_matrix_counts():
    y = np.array([0, 0, 1, 2, 2, 2])
    p = np.array([0, 1, 1, 2, 0, 2])
    cm = M.confusion_matrix(y, p, num_classes=3)
    assert cm.dtype == np.int64
    assert cm.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    assert cm.sum() == len(y)
    assert M.confusion_matrix(y, p).shape == (3, 3)
    with pytest.raises(ValueError, match="labels must be in 0..1"):
        M.confusion_matrix(y, p, num_classes=2)


def test_precision_recall_f1_per_class():
    cm = np.array([[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    s = M.precision_recall_f1(cm)
    # class 0: tp 1, predicted 2, support 2
    np.testing.assert_allclose(s["precision"], [1 / 2, 1 / 2, 1.0])
    np.testing.assert_allclose(s["recall"], [1 / 2, 1.0, 2 / 3])
    f1 = [2 * a * b / (a + b) for a, b in zip(s["precision"], s["recall"])]
    np.testing.assert_allclose(s["f1"], f1)
    assert s["support"].tolist() == [2, 1, 3]
    assert s["macro_f1"] == pytest.approx(np.mean(f1))
    assert s["accuracy"] == pytest.approx(4 / 6)


def test_precision_of_a_never_predicted_class_is_zero():
    cm = np.array([[2, 0], [1, 0]])
    s = M.precision_recall_f1(cm)
    assert s["precision"][1] == 0.0 and s["recall"][1] == 0.0 and s["f1"][1] == 0.0


def test_classification_report_lists_classes():
    cm = np.array([[5, 1], [2, 7]])
    text = M.classification_report(cm, ["ham", "spam"])
    lines = text.splitlines()
    assert "precision" in lines[0]
    assert lines[1].strip().startswith("ham") and lines[2].strip().startswith("spam")
    assert "macro avg" in text and "0.800" in text  # accuracy 12/15


def test_running_mean_weights_by_count():
    r = M.RunningMean()
    r.update(1.0, 3)
    r.update(2.0, 1)
    assert r.mean == pytest.approx(1.25)
    r2 = M.RunningMean()
    r2.load_state_dict(r.state_dict())
    assert r2.mean == r.mean
