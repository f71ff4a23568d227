"""nn.utils.swa_utils: the averaging rules by hand, the first update copies, the average stays out of
autograd and out of the source model, wrong uses get clear errors."""
from __future__ import annotations

import numpy as np
import pytest

import gradus
from gradus import nn
from gradus.errors import ShapeError
from gradus.nn.utils.swa_utils import AveragedModel, get_ema_avg_fn, get_ema_multi_avg_fn


def _set(model, value):
    with gradus.no_grad():
        for p in model.parameters():
            p.fill_(value)


def test_swa_is_the_running_mean_and_ema_the_decayed_sum():
    net = nn.Linear(2, 2)
    swa = AveragedModel(net)
    ema = AveragedModel(net, multi_avg_fn=get_ema_multi_avg_fn(0.5))
    ema1 = AveragedModel(net, avg_fn=get_ema_avg_fn(0.5))
    for v in (1.0, 2.0, 6.0):
        _set(net, v)
        for a in (swa, ema, ema1):
            a.update_parameters(net)
    # mean(1, 2, 6) = 3; EMA: 1 -> 0.5 * 1 + 0.5 * 2 = 1.5 -> 0.5 * 1.5 + 0.5 * 6 = 3.75
    assert np.allclose(swa.module.weight.numpy(), 3.0)
    assert np.allclose(ema.module.weight.numpy(), 3.75) and np.allclose(ema1.module.weight.numpy(), 3.75)
    assert int(swa.n_averaged.item()) == 3
    assert np.allclose(net.weight.numpy(), 6.0)                      # the source is left alone


def test_average_is_a_copy_outside_autograd():
    net = nn.Linear(3, 1)
    avg = AveragedModel(net)
    assert avg.module is not net and avg.module.weight is not net.weight
    avg.update_parameters(net)
    _set(net, 0.0)
    assert not np.allclose(avg.module.weight.numpy(), 0.0)            # no shared storage
    out = avg(gradus.ones(2, 3))
    assert out.shape == (2, 1)


def test_buffers_copied_or_averaged():
    net = nn.BatchNorm1d(2)
    copied = AveragedModel(net)
    averaged = AveragedModel(net, multi_avg_fn=get_ema_multi_avg_fn(0.5), use_buffers=True)
    for v in (2.0, 4.0):
        with gradus.no_grad():
            net.running_mean.fill_(v)
        copied.update_parameters(net)
        averaged.update_parameters(net)
    assert np.allclose(copied.module.running_mean.numpy(), 4.0)      # kept in step with the model
    assert np.allclose(averaged.module.running_mean.numpy(), 3.0)    # 0.5 * 2 + 0.5 * 4
    assert int(averaged.module.num_batches_tracked.item()) == int(net.num_batches_tracked.item())


def test_wrong_uses():
    with pytest.raises(ValueError, match="decay must be in"):
        get_ema_multi_avg_fn(1.5)
    with pytest.raises(TypeError, match="must be an nn.Module"):
        AveragedModel(np.zeros(3))
    with pytest.raises(ValueError, match="not both"):
        AveragedModel(nn.Linear(1, 1), avg_fn=get_ema_avg_fn(), multi_avg_fn=get_ema_multi_avg_fn())
    avg = AveragedModel(nn.Linear(2, 2))
    with pytest.raises(ShapeError, match="pass the model it was built from"):
        avg.update_parameters(nn.Linear(3, 2))
