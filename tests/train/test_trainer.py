import io
import json
import math
import sys
import types

import numpy as np
import pytest

import gradus
from gradus import nn, optim
from gradus.data import DataLoader, TensorDataset
from gradus.data.datasets import make_blobs
from gradus.train import (
    CSVLogger,
    EarlyStopping,
    JSONLLogger,
    LambdaCallback,
    ModelCheckpoint,
    ProgressBar,
    TensorBoardLogger,
    Trainer,
    TrainingDivergedError,
    evaluate,
    fit,
    l2_penalty,
)
from gradus.train.checkpoint import read_checkpoint


def blobs(n=120, seed=0, k=3):
    X, y = make_blobs(n, centers=k, cluster_std=1.0, seed=seed)
    return TensorDataset(X, y)


def mlp(k=3, hidden=16):
    return nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, k))


def weights(net):
    return {k: v.numpy().copy() for k, v in net.state_dict().items()}


def assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_loss_decreases_and_accuracy_rises():
    gradus.manual_seed(0)
    net = mlp()
    trainer = Trainer(net, optim.SGD(net.parameters(), lr=0.1), seed=0)
    hist = trainer.fit(blobs(), blobs(60, seed=1), epochs=8, batch_size=16)
    assert len(hist) == 8 and trainer.epoch == 8 and trainer.global_step == 8 * math.ceil(120 / 16)
    assert hist[-1]["loss"] < 0.5 * hist[0]["loss"]
    assert hist[-1]["val_accuracy"] > 0.9 and hist[-1]["accuracy"] > 0.9
    assert {"epoch", "step", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "time"} <= set(hist[-1])
    res = trainer.evaluate(blobs(60, seed=2))
    assert set(res) == {"loss", "accuracy"} and res["accuracy"] > 0.9


def test_evaluate_top5_and_outputs():
    net = nn.Linear(2, 8)
    X = np.random.default_rng(0).standard_normal((50, 2)).astype(np.float32)
    y = np.random.default_rng(1).integers(0, 8, 50)
    res = evaluate(net, DataLoader(TensorDataset(X, y), batch_size=16), return_outputs=True)
    assert res["outputs"].shape == (50, 8) and res["targets"].tolist() == y.tolist()
    assert 0 <= res["accuracy"] <= res["top5_accuracy"] <= 1
    assert net.training  # the mode is restored


def test_deterministic_with_seed_and_different_without():
    def run(seed):
        gradus.manual_seed(seed)
        net = mlp()
        Trainer(net, optim.SGD(net.parameters(), lr=0.1, momentum=0.9), seed=seed).fit(blobs(), epochs=2,
                                                                                       batch_size=8)
        return weights(net)

    assert_same(run(3), run(3))
    a, b = run(3), run(4)
    assert any(not np.array_equal(a[k], b[k]) for k in a)


def test_early_stopping_triggers_and_restores_best_weights():
    # Validation labels are a permutation of the truth: the better the model fits the training data,
    # the worse the validation loss gets, so the best epoch is the first one.
    train = blobs()
    X, y = train.arrays
    val = TensorDataset(X, (y + 1) % 3)
    gradus.manual_seed(0)
    net = mlp()
    snapshots = {}
    record = LambdaCallback(order=-1,
                            on_epoch_end=lambda t, e, logs: snapshots.__setitem__(e, weights(t.model)))
    es = EarlyStopping("val_loss", patience=2, verbose=False)
    trainer = Trainer(net, optim.SGD(net.parameters(), lr=0.2), callbacks=[es, record], seed=0)
    hist = trainer.fit(train, val, epochs=20, batch_size=16)
    assert es.best_epoch == 1 and es.stopped_epoch == 3 and len(hist) == 3
    assert hist[1]["val_loss"] > hist[0]["val_loss"] and hist[2]["val_loss"] > hist[0]["val_loss"]
    assert_same(weights(net), snapshots[1])  # restored the weights of epoch 1, not those of epoch 3
    assert any(not np.array_equal(snapshots[3][k], snapshots[1][k]) for k in snapshots[1])


def test_early_stopping_without_validation_data_explains():
    net = mlp()
    trainer = Trainer(net, optim.SGD(net.parameters(), lr=0.1),
                      callbacks=[EarlyStopping("val_loss", patience=1)])
    with pytest.raises(KeyError, match="needs validation data"):
        trainer.fit(blobs(), epochs=2)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_nan_detection_names_step_and_parameter(tmp_path):
    gradus.manual_seed(0)
    net = mlp(hidden=32)
    ckpt = ModelCheckpoint(tmp_path / "c.safetensors")
    trainer = Trainer(net, optim.SGD(net.parameters(), lr=1e10), callbacks=[ckpt], seed=0)
    with pytest.raises(TrainingDivergedError) as e:
        trainer.fit(blobs(), epochs=50, batch_size=16)
    err = e.value
    msg = str(err)
    assert f"training diverged at step {err.step}" in msg and err.step > 1
    assert err.parameter is not None or err.op is not None
    if err.parameter is not None:
        assert repr(err.parameter) in msg
    if err.op is not None:
        assert "NaN/Inf" in err.op
    # the last good checkpoint is kept and named, and its weights are finite
    if err.checkpoint is not None:
        assert "last good checkpoint" in msg
        ck = read_checkpoint(err.checkpoint)
        assert all(np.isfinite(v).all() for k, v in ck.model_state().items())


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_nan_in_the_data_names_the_op():
    X = np.ones((8, 2), np.float32)
    X[3, 0] = np.nan
    net = mlp()
    trainer = Trainer(net, optim.SGD(net.parameters(), lr=0.1))
    with pytest.raises(TrainingDivergedError) as e:
        trainer.fit(TensorDataset(X, np.zeros(8, np.int64)), epochs=1, batch_size=8)
    assert e.value.step == 1 and e.value.parameter is None
    assert e.value.op is not None and "NaN/Inf" in e.value.op
    assert "first op producing NaN/Inf" in str(e.value)


def test_schedulers_per_epoch_and_per_step():
    net = mlp()
    opt = optim.SGD(net.parameters(), lr=0.1)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    hist = Trainer(net, opt, scheduler=sched).fit(blobs(), epochs=3, batch_size=40)
    assert [h["lr"] for h in hist] == pytest.approx([0.1, 0.05, 0.025])
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0125)

    net = mlp()
    opt = optim.SGD(net.parameters(), lr=0.1)
    sched = optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
    trainer = Trainer(net, opt, scheduler=sched, scheduler_interval="step")
    trainer.fit(blobs(), epochs=2, batch_size=40)  # 3 steps per epoch
    assert trainer.global_step == 6 and opt.param_groups[0]["lr"] == pytest.approx(0.1 * 0.9**6)


def test_reduce_lr_on_plateau_follows_the_monitored_metric():
    net = mlp()
    opt = optim.SGD(net.parameters(), lr=1e-12)  # nothing moves: the validation loss plateaus at once
    sched = optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=0)
    Trainer(net, opt, scheduler=sched, monitor="val_loss").fit(blobs(), blobs(30, seed=1), epochs=3)
    assert opt.param_groups[0]["lr"] == pytest.approx(1e-12 * 0.25)


def test_l2_term_adds_alpha_times_squared_weights():
    gradus.manual_seed(0)
    net = mlp()
    alpha = 0.01
    expected = alpha * sum(float((v.numpy().astype(np.float64) ** 2).sum())
                           for k, v in net.state_dict().items() if k.endswith("weight"))
    assert float(l2_penalty(net, alpha).item()) == pytest.approx(expected, rel=1e-5)
    X, y = blobs(16).arrays
    init = weights(net)
    lr = 0.1
    # one SGD step with and without the penalty: the weights differ by exactly lr * 2 * alpha * W,
    # the biases (not penalised) not at all
    results = {}
    for a in (0.0, alpha):
        net.load_state_dict({k: gradus.tensor(v) for k, v in init.items()})
        trainer = Trainer(net, optim.SGD(net.parameters(), lr=lr), l2=a)
        logs = trainer.training_step(gradus.tensor(X), gradus.tensor(y))
        if a:
            assert logs["l2_penalty"] == pytest.approx(expected, rel=1e-5)
        results[a] = weights(net)
    for k, w0 in init.items():
        diff = results[alpha][k] - results[0.0][k]
        want = -lr * 2 * alpha * w0 if k.endswith("weight") else np.zeros_like(w0)
        np.testing.assert_allclose(diff, want, atol=1e-6)


def test_gradient_clipping_bounds_the_update():
    gradus.manual_seed(0)
    net = mlp()
    X, y = blobs(32).arrays
    before = weights(net)
    trainer = Trainer(net, optim.SGD(net.parameters(), lr=1.0), clip_grad_norm=0.01)
    logs = trainer.training_step(gradus.tensor(X), gradus.tensor(y))
    assert logs["grad_norm"] > 0.01  # the unclipped norm is reported
    step = np.sqrt(sum(((weights(net)[k] - before[k]).astype(np.float64) ** 2).sum() for k in before))
    assert step == pytest.approx(0.01, rel=1e-3)


def test_fit_function_and_loaders():
    net = mlp()
    loader = DataLoader(blobs(), batch_size=32, shuffle=True)
    trainer = fit(net, optim.Adam(net.parameters(), lr=0.01), loader, epochs=2)
    assert len(trainer.history) == 2 and trainer.train_loader is loader


def test_resume_in_process_is_bit_identical(tmp_path):
    def setup(callbacks=()):
        gradus.manual_seed(0)
        net = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3))
        opt = optim.Adam(net.parameters(), lr=0.01)
        sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
        # early stopping on a metric that peaks early: its best weights must survive the resume
        es = EarlyStopping("val_accuracy", patience=5, verbose=False)
        return net, Trainer(net, opt, scheduler=sched, callbacks=[es, *callbacks], seed=5)

    net, trainer = setup()
    trainer.fit(blobs(), blobs(30, seed=1), epochs=3, batch_size=16)
    straight = weights(net)

    # interrupted after step 12 (mid-epoch 2: 8 steps per epoch), checkpoint every 4 steps
    class Stop(Exception):
        pass

    def stop(t, b, logs):
        if t.global_step == 13:
            raise Stop

    path = tmp_path / "c.safetensors"
    net, trainer = setup([ModelCheckpoint(path, every_n_steps=4),
                          LambdaCallback(order=200, on_batch_end=stop)])
    with pytest.raises(Stop):
        trainer.fit(blobs(), blobs(30, seed=1), epochs=3, batch_size=16)
    meta = read_checkpoint(path).meta
    assert (meta["epoch"], meta["step"], meta["batch_in_epoch"]) == (1, 12, 4)

    net, trainer = setup()
    trainer.resume(path)
    hist = trainer.fit(blobs(), blobs(30, seed=1), epochs=3, batch_size=16)
    assert len(hist) == 3
    assert_same(weights(net), straight)


def test_loggers_write_one_row_per_epoch(tmp_path):
    net = mlp()
    csv_path, jsonl_path = tmp_path / "m.csv", tmp_path / "m.jsonl"
    Trainer(net, optim.SGD(net.parameters(), lr=0.1),
            callbacks=[CSVLogger(csv_path), JSONLLogger(jsonl_path, log_every_n_steps=2)]).fit(
        blobs(), blobs(30, seed=1), epochs=3, batch_size=40)
    rows = csv_path.read_text().splitlines()
    assert rows[0].split(",")[:3] == ["epoch", "loss", "accuracy"] and len(rows) == 4
    records = [json.loads(line) for line in jsonl_path.read_text().splitlines()]
    epochs = [r for r in records if "epoch" in r]
    assert [r["epoch"] for r in epochs] == [1, 2, 3] and "val_loss" in epochs[0]
    assert [r["step"] for r in records if "epoch" not in r] == [2, 4, 6, 8]


def test_progress_plain_is_one_line_per_epoch():
    out = io.StringIO()
    net = mlp()
    Trainer(net, optim.SGD(net.parameters(), lr=0.1), callbacks=[ProgressBar(stream=out)]).fit(
        blobs(), epochs=3, batch_size=40)
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("epoch 1/3") and "loss" in lines[0] and "samples/s" in lines[0]


def test_progress_tqdm_bar():
    pytest.importorskip("tqdm")
    out = io.StringIO()
    net = mlp()
    Trainer(net, optim.SGD(net.parameters(), lr=0.1), callbacks=[ProgressBar(stream=out, use_tqdm=True,
                                                                              every=1, mininterval=0)]).fit(
        blobs(), epochs=1, batch_size=40)
    text = out.getvalue()
    assert "epoch 1/1:" in text and "samples/s" in text and "loss=" in text  # the live bar
    assert "epoch 1/1  loss" in text  # the epoch summary


def test_tensorboard_logger(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    with pytest.raises(ImportError, match="pip install tensorboard"):
        TensorBoardLogger(tmp_path)

    calls = []

    class FakeWriter:
        def __init__(self, logdir):
            calls.append(("init", logdir))

        def add_scalar(self, tag, value, step):
            calls.append((tag, value, step))

        def flush(self):
            pass

        def close(self):
            calls.append(("close",))

    monkeypatch.setitem(sys.modules, "tensorboardX", types.SimpleNamespace(SummaryWriter=FakeWriter))
    net = mlp()
    Trainer(net, optim.SGD(net.parameters(), lr=0.1), callbacks=[TensorBoardLogger(tmp_path)]).fit(
        blobs(), epochs=2, batch_size=60)
    tags = {c[0] for c in calls}
    assert {"epoch/loss", "epoch/accuracy", "epoch/lr"} <= tags and calls[-1] == ("close",)
    assert [c[2] for c in calls if c[0] == "epoch/loss"] == [1, 2]


def test_bad_arguments():
    net = mlp()
    opt = optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="scheduler_interval"):
        Trainer(net, opt, scheduler_interval="batch")
    with pytest.raises(ValueError, match="unknown loss 'cross_entropi'.*did you mean 'cross_entropy'"):
        Trainer(net, opt, "cross_entropi")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_nan_parameter_is_named():
    net = mlp()
    with gradus.no_grad():
        net[2].weight.data[0, 0] = np.inf
    trainer = Trainer(net, optim.SGD(net.parameters(), lr=0.1))
    want = r"parameter '2.weight' holds NaN/Inf \(before the first update\)"
    with pytest.raises(TrainingDivergedError, match=want):
        trainer.fit(blobs(), epochs=1)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_nan_gradient_with_finite_loss_is_named():
    # sqrt(0) = 0 is a fine loss value, but its derivative 1 / (2 sqrt(0)) is infinite
    def loss(out, y):
        return (out * 0).sum().sqrt()

    net = mlp()
    trainer = Trainer(net, optim.SGD(net.parameters(), lr=0.1), loss)
    with pytest.raises(TrainingDivergedError) as e:
        trainer.fit(blobs(), epochs=1)
    assert e.value.step == 1 and e.value.loss == 0.0
    assert "a gradient is NaN/Inf" in str(e.value) and e.value.parameter == "0.weight"
