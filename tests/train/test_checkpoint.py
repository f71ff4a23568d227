import json

import numpy as np
import pytest

import gradus
from gradus import nn, optim
from gradus.train.checkpoint import (
    CheckpointError,
    flatten_state,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
    sidecar_path,
    unflatten_state,
)


def make_net(hidden=8):
    return nn.Sequential(nn.Linear(4, hidden), nn.ReLU(), nn.Linear(hidden, 3))


def train_steps(net, opt, n, sched=None, seed=1):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        X = gradus.tensor(rng.standard_normal((16, 4)).astype(np.float32))
        y = gradus.tensor(rng.integers(0, 3, 16))
        opt.zero_grad()
        gradus.functional.cross_entropy(net(X), y).backward()
        opt.step()
        if sched is not None:
            sched.step()


def weights(net):
    return {k: v.numpy().copy() for k, v in net.state_dict().items()}


def test_round_trip_model_optimizer_scheduler_and_meta(tmp_path):
    net = make_net()
    opt = optim.Adam(net.parameters(), lr=0.01)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    train_steps(net, opt, 3, sched)
    meta = {"epoch": 3, "history": [{"loss": 1.0, "val_loss": float("nan")}],
            "rng": gradus.random.get_rng_state(), "arr": np.arange(3, dtype=np.int16),
            "scalar": np.float32(2.5), "by_int": {0: "a", 1: (1, 2)}}
    path = save_checkpoint(tmp_path / "ckpt.safetensors", net, opt, sched, meta=meta)
    assert path.is_file() and sidecar_path(path).is_file()
    # the sidecar is strict JSON (no NaN literal) with the gradus version and the meta
    doc = json.loads(sidecar_path(path).read_text(), parse_constant=lambda c: pytest.fail(f"non-JSON {c}"))
    assert doc["gradus_version"] == gradus.__version__ and doc["meta"]["epoch"] == 3
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left

    net2 = make_net()
    opt2 = optim.Adam(net2.parameters(), lr=0.01)
    sched2 = optim.lr_scheduler.StepLR(opt2, step_size=2, gamma=0.5)
    got = load_checkpoint(path, net2, opt2, sched2)
    for k, v in weights(net).items():
        np.testing.assert_array_equal(weights(net2)[k], v)
    assert got["epoch"] == 3 and np.isnan(got["history"][0]["val_loss"])
    assert got["arr"].dtype == np.int16 and got["arr"].tolist() == [0, 1, 2]
    assert isinstance(got["scalar"], np.float32) and got["scalar"] == 2.5
    assert got["by_int"] == {0: "a", 1: (1, 2)}
    assert sched2.last_epoch == sched.last_epoch and opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    # continuing both gives bit-identical weights: the optimizer state came back exactly
    train_steps(net, opt, 4, sched, seed=7)
    train_steps(net2, opt2, 4, sched2, seed=7)
    for k, v in weights(net).items():
        np.testing.assert_array_equal(weights(net2)[k], v)


def test_optimizer_step_counters_stay_0d(tmp_path):
    net = make_net()
    opt = optim.Adam(net.parameters())
    train_steps(net, opt, 1)
    save_checkpoint(tmp_path / "c.safetensors", net, opt)
    ck = read_checkpoint(tmp_path / "c.safetensors")
    steps = [k for k in ck.tensors if k.endswith(".step")]
    assert steps and all(ck.tensors[k].shape == () for k in steps)


def test_flatten_unflatten_round_trip():
    state = {"state": {0: {"step": gradus.tensor(3.0), "buf": np.ones((2, 2))}},
             "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0]}], "inf": float("inf")}
    skeleton, tensors = flatten_state(state, "optim")
    json.dumps(skeleton, allow_nan=False)  # strict JSON
    assert sorted(tensors) == ["optim.state.0.buf", "optim.state.0.step"]
    back = unflatten_state(json.loads(json.dumps(skeleton)), tensors)
    assert back["param_groups"][0]["betas"] == (0.9, 0.999) and back["inf"] == float("inf")
    assert isinstance(back["state"][0]["step"], gradus.Tensor) and back["state"][0]["step"].item() == 3.0
    with pytest.raises(TypeError, match="no pickle"):
        flatten_state({"f": object()}, "x")
    with pytest.raises(ValueError, match="both be stored as tensor 'x.a.b'"):
        flatten_state({"a.b": np.zeros(1), "a": {"b": np.ones(1)}}, "x")


def test_truncated_file_is_a_clear_error(tmp_path):
    net = make_net()
    path = save_checkpoint(tmp_path / "c.safetensors", net)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 10])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_checkpoint(path, make_net())
    path.write_bytes(data[:5])
    with pytest.raises(CheckpointError, match="truncated"):
        load_checkpoint(path, make_net())


def test_corrupt_tensor_bytes_fail_the_hash(tmp_path):
    path = save_checkpoint(tmp_path / "c.safetensors", make_net())
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF  # flip bits inside the last tensor's data
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="SHA-256"):
        read_checkpoint(path)


def test_garbage_and_missing_files(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
    with pytest.raises(CheckpointError, match="corrupt"):
        read_checkpoint(bad)
    with pytest.raises(CheckpointError, match="does not exist"):
        read_checkpoint(tmp_path / "nope.safetensors")
    save_checkpoint(tmp_path / "run" / "checkpoint.safetensors", make_net())
    with pytest.raises(CheckpointError, match="did you mean"):
        read_checkpoint(tmp_path / "run")


def test_key_and_shape_mismatch_refused_with_a_list(tmp_path):
    path = save_checkpoint(tmp_path / "c.safetensors", make_net(hidden=8))
    other = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3), nn.ReLU(), nn.Linear(3, 2))
    before = weights(other)
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(path, other)
    msg = str(e.value)
    assert "missing in checkpoint: 4.weight, 4.bias" in msg
    # nothing was changed by the refused load
    for k, v in before.items():
        np.testing.assert_array_equal(weights(other)[k], v)
    # strict=False loads the keys both have
    load_checkpoint(path, other, strict=False)
    np.testing.assert_array_equal(weights(other)["0.weight"], read_checkpoint(path).tensors["model.0.weight"])

    want = r"shape mismatch: 0.weight \(checkpoint \(8, 4\), model \(16, 4\)\)"
    with pytest.raises(CheckpointError, match=want):
        load_checkpoint(path, make_net(hidden=16), strict=False)


def test_optimizer_mismatch_is_a_checkpoint_error(tmp_path):
    net = make_net()
    opt = optim.Adam(net.parameters())
    train_steps(net, opt, 1)
    path = save_checkpoint(tmp_path / "c.safetensors", net, opt)
    small = nn.Linear(4, 3)
    with pytest.raises(CheckpointError, match="optimizer state"):
        load_checkpoint(path, None, optim.Adam(small.parameters()))
    path2 = save_checkpoint(tmp_path / "m.safetensors", net)
    with pytest.raises(CheckpointError, match="holds no optimizer state"):
        load_checkpoint(path2, net, optim.Adam(net.parameters()))


def test_stale_temp_from_a_killed_write_is_removed_by_the_next_write(tmp_path):
    import os
    import time

    target = tmp_path / "c.safetensors"
    # What a write killed between mkstemp and os.replace leaves behind.
    stale = tmp_path / ".c.safetensors.abc123.tmp"
    stale.write_bytes(b"partial")
    old = time.time() - 5
    os.utime(stale, (old, old))
    other = tmp_path / ".other.safetensors.xyz.tmp"  # another file's temp: not ours to remove
    other.write_bytes(b"x")
    os.utime(other, (old, old))
    save_checkpoint(target, make_net())
    assert not stale.exists()
    assert other.exists()
    assert target.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == [".other.safetensors.xyz.tmp"]
