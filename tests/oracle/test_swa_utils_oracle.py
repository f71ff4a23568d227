"""nn.utils.swa_utils.AveragedModel against torch.optim.swa_utils.AveragedModel: the same model
(float64, BatchNorm included), the same sequence of weights (an SGD run), every averaging rule (SWA
running mean, EMA through avg_fn and through multi_avg_fn, buffers averaged or copied); after each
update every averaged tensor and n_averaged agree to 1e-12, and the state_dict keys are torch's.
One documented difference: with use_buffers=True torch also "averages" the integer counter
num_batches_tracked (truncated to int); gradus copies counters from the model."""
from __future__ import annotations

import numpy as np
import pytest

import gradus
from gradus import nn, optim
from gradus.nn.utils import swa_utils

pytestmark = pytest.mark.oracle


def _pair(torch):
    g = nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2)).to(dtype=gradus.float64)
    t = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.BatchNorm1d(5), torch.nn.ReLU(),
                            torch.nn.Linear(5, 2)).double()
    with torch.no_grad():
        for (name, tp) in t.state_dict().items():
            tp.copy_(torch.from_numpy(np.array(g.state_dict()[name].numpy())))
    return g, t


RULES = [("swa", {}), ("ema_avg_fn", {"decay": 0.9}), ("ema_multi", {"decay": 0.7})]


@pytest.mark.parametrize("use_buffers", [False, True])
@pytest.mark.parametrize("rule, kw", RULES)
def test_averaged_model_matches_torch(torch, rule, kw, use_buffers):
    from torch.optim import swa_utils as tsw

    g, t = _pair(torch)
    if rule == "swa":
        ga = swa_utils.AveragedModel(g, use_buffers=use_buffers)
        ta = tsw.AveragedModel(t, use_buffers=use_buffers)
    elif rule == "ema_avg_fn":
        ga = swa_utils.AveragedModel(g, avg_fn=swa_utils.get_ema_avg_fn(kw["decay"]), use_buffers=use_buffers)
        ta = tsw.AveragedModel(t, avg_fn=tsw.get_ema_avg_fn(kw["decay"]), use_buffers=use_buffers)
    else:
        ga = swa_utils.AveragedModel(g, multi_avg_fn=swa_utils.get_ema_multi_avg_fn(kw["decay"]),
                                     use_buffers=use_buffers)
        ta = tsw.AveragedModel(t, multi_avg_fn=tsw.get_ema_multi_avg_fn(kw["decay"]), use_buffers=use_buffers)
    assert list(ga.state_dict().keys()) == list(ta.state_dict().keys())
    go, to = optim.SGD(g.parameters(), lr=0.1), torch.optim.SGD(t.parameters(), lr=0.1)
    rng = np.random.default_rng(0)
    for _ in range(6):
        x = rng.standard_normal((8, 3))
        for model, opt, T in ((g, go, gradus.tensor), (t, to, torch.from_numpy)):
            opt.zero_grad()
            model(T(x)).pow(2).sum().backward()
            opt.step()
        ga.update_parameters(g)
        ta.update_parameters(t)
        gs, ts = ga.state_dict(), ta.state_dict()
        for name in ts:
            if name.endswith("num_batches_tracked"):
                assert int(gs[name].item()) == int(g.state_dict()[name[len("module."):]].item())
                continue
            np.testing.assert_allclose(np.asarray(gs[name].numpy(), np.float64),
                                       ts[name].detach().numpy().astype(np.float64), rtol=1e-12, atol=1e-12,
                                       err_msg=name)
    # the averaged copy runs like torch's in eval mode too (running statistics)
    x = rng.standard_normal((4, 3))
    ga.eval()
    ta.eval()
    np.testing.assert_allclose(ga(gradus.tensor(x)).numpy(), ta(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-12, atol=1e-12)
