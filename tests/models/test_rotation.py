"""RotationNet and rotate_batch (self-supervised rotation prediction)."""
import numpy as np
import pytest

import gradus
from gradus.models.rotation import RotationNet, RotationNetConfig, rotate_batch


def test_rotate_batch_turns_counter_clockwise_and_groups_by_rotation():
    x = np.zeros((2, 1, 3, 3), np.float32)
    x[:, 0, 0, 2] = [1, 2]                      # top-right pixel
    xr, r = rotate_batch(x)
    assert xr.shape == (8, 1, 3, 3) and r.tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert xr[2, 0, 0, 0] == 1 and xr[3, 0, 0, 0] == 2     # 90 degrees: top-right -> top-left
    assert xr[4, 0, 2, 0] == 1                              # 180: -> bottom-left
    assert xr[6, 0, 2, 2] == 1                              # 270: -> bottom-right
    np.testing.assert_array_equal(rotate_batch(xr[6:8])[0][2:4], x)   # four quarter turns = identity
    with pytest.raises(ValueError, match="square images"):
        rotate_batch(np.zeros((2, 1, 3, 4)))


def test_heads_share_the_trunk_and_reset_classifier_keeps_it():
    net = RotationNet(RotationNetConfig(channels=(4, 8)))
    x = gradus.rand(5, 1, 28, 28)
    assert net.rotation_logits(x).shape == (5, 4) and net(x).shape == (5, 10)
    trunk = {k: v.numpy().copy() for k, v in net.features.state_dict().items()}
    old = net.classifier.weight.numpy().copy()
    net.reset_classifier()
    assert not np.allclose(net.classifier.weight.numpy(), old)
    for k, v in net.features.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), trunk[k])
    with pytest.raises(TypeError, match="unknown option 'chanels'"):
        RotationNet(chanels=(4,))


def test_pretext_task_is_learnable_on_a_small_batch():
    gradus.manual_seed(0)
    rng = np.random.default_rng(0)
    x = (rng.random((16, 1, 12, 12)) < 0.2).astype(np.float32)
    x[:, :, :4, :] = 1.0                                     # an "upright" cue: a bar at the top
    xr, r = rotate_batch(x)
    net = RotationNet(RotationNetConfig(channels=(8, 16)))
    opt = gradus.optim.Adam(net.parameters(), lr=0.01)
    for _ in range(60):
        loss = gradus.functional.cross_entropy(net.rotation_logits(gradus.tensor(xr)), gradus.tensor(r))
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    acc = (net.rotation_logits(gradus.tensor(xr)).numpy().argmax(1) == r).mean()
    assert acc == 1.0
