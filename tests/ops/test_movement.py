"""Movement ops through the harness: reshape, permute, squeeze, expand, cat/stack/split, pad, flip,
repeat/tile, triu/tril."""
import numpy as np
import pytest

import gradus

from .harness import op, op_tests


def _pad_np(x, pad, mode, value=0.0):
    """torch.nn.functional.pad's argument order (last dim first) in NumPy terms."""
    width = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        width[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    np_mode = {"replicate": "edge", "circular": "wrap"}.get(mode, mode)
    if mode == "constant":
        return np.pad(x, width, mode="constant", constant_values=value)
    return np.pad(x, width, mode=np_mode)


def _repeat_np(x, *reps):
    return np.tile(x, reps)


CASES = [
    *op("reshape", lambda x: x.reshape(3, 2), lambda x: x.reshape(3, 2), [(2, 3), (6,), (1, 6)]),
    *op("reshape_infer", lambda x: x.reshape(-1, 2), lambda x: x.reshape(-1, 2), [(2, 3), (2, 1, 2)]),
    *op("reshape_0d", lambda x: x.reshape(1, 1), lambda x: x.reshape(1, 1), [()]),
    *op("reshape_to_0d", lambda x: gradus.reshape(x, ()), lambda x: x.reshape(()), [(1,), (1, 1)]),
    *op("view", lambda x: x.view(-1), lambda x: x.reshape(-1), [(2, 3), ()]),
    *op("transpose", lambda x: x.transpose(0, 1), lambda x: x.swapaxes(0, 1), [(2, 3), (2, 1, 3)]),
    *op("transpose_neg", lambda x: gradus.transpose(x, -1, 0), lambda x: x.swapaxes(-1, 0), [(2, 1, 3)]),
    *op("permute", lambda x: x.permute(2, 0, 1), lambda x: x.transpose(2, 0, 1), [(2, 1, 3), (1, 2, 2)]),
    *op("T", lambda x: x.T, lambda x: x.T, [(2, 3), (3,), (2, 1, 3)]),
    *op("mT", lambda x: x.mT, lambda x: np.swapaxes(x, -1, -2), [(2, 3), (2, 1, 3)]),
    *op("squeeze", lambda x: x.squeeze(), np.squeeze, [(1, 3, 1), (1,), (), (2, 3)]),
    *op("squeeze_dim", lambda x: x.squeeze(-1), lambda x: x.squeeze(-1), [(1, 3, 1), (2, 1)]),
    *op("squeeze_dim_noop", lambda x: x.squeeze(0), lambda x: x, [(2, 1)]),
    *op("squeeze_dims", lambda x: x.squeeze((0, 2)), lambda x: x.squeeze((0, 2)), [(1, 3, 1)]),
    *op("unsqueeze", lambda x: x.unsqueeze(0), lambda x: x[None], [(), (3,), (2, 3)]),
    *op("unsqueeze_last", lambda x: gradus.unsqueeze(x, -1), lambda x: x[..., None], [(), (2, 3)]),
    *op("expand", lambda x: x.expand(2, 3), lambda x: np.broadcast_to(x, (2, 3)), [(), (1,), (3,), (2, 1)]),
    *op("expand_keep", lambda x: x.expand(4, -1, 3), lambda x: np.broadcast_to(x, (4, 2, 3)), [(2, 1)]),
    *op("broadcast_to", lambda x: gradus.broadcast_to(x, (2, 1, 3)), lambda x: np.broadcast_to(x, (2, 1, 3)),
        [(1, 3), (2, 1, 1), ()]),
    *op("flatten", lambda x: x.flatten(), lambda x: x.reshape(-1), [(), (2, 3), (2, 1, 3)]),
    *op("flatten_range", lambda x: gradus.flatten(x, 1), lambda x: x.reshape(x.shape[0], -1), [(2, 1, 3)]),
    *op("flatten_mid", lambda x: x.flatten(0, 1), lambda x: x.reshape(-1, x.shape[-1]), [(2, 1, 3)]),
    *op("cat", lambda a, b: gradus.cat([a, b]), lambda a, b: np.concatenate([a, b]),
        [((2,), (3,)), ((1, 3), (2, 3))]),
    *op("cat_dim1", lambda a, b, c: gradus.cat([a, b, c], dim=1),
        lambda a, b, c: np.concatenate([a, b, c], 1),
        [((2, 1), (2, 3), (2, 2)), ((1, 2, 2), (1, 1, 2), (1, 3, 2))]),
    *op("cat_neg", lambda a, b: gradus.cat((a, b), -1), lambda a, b: np.concatenate([a, b], -1),
        [((2, 2), (2, 1))]),
    *op("stack", lambda a, b: gradus.stack([a, b]), lambda a, b: np.stack([a, b]),
        [((), ()), ((3,), (3,)), ((2, 3), (2, 3))]),
    *op("stack_last", lambda a, b, c: gradus.stack([a, b, c], dim=-1),
        lambda a, b, c: np.stack([a, b, c], -1), [((2,), (2,), (2,)), ((1, 2), (1, 2), (1, 2))]),
    *op("split", lambda x: x.split(2), lambda x: tuple(np.split(x, [2, 4])), [(5,), (5, 2)]),
    *op("split_sizes", lambda x: gradus.split(x, [1, 2], dim=1), lambda x: tuple(np.split(x, [1], 1)),
        [(2, 3), (1, 3, 2)]),
    *op("split_one_used", lambda x: x.split(1, 1)[1], lambda x: x[:, 1:2], [(2, 3)]),
    *op("chunk", lambda x: x.chunk(3), lambda x: tuple(np.split(x, [2, 4])), [(5,)]),
    *op("chunk_even", lambda x: gradus.chunk(x, 2, -1), lambda x: tuple(np.split(x, 2, -1)), [(2, 4)]),
    *op("unbind", lambda x: x.unbind(1), lambda x: tuple(x[:, i] for i in range(x.shape[1])), [(2, 3)]),
    *op("pad_constant", lambda x: gradus.pad(x, (1, 2)), lambda x: _pad_np(x, (1, 2), "constant"),
        [(3,), (2, 3)]),
    *op("pad_value", lambda x: gradus.pad(x, (1, 0, 0, 2), value=0.5),
        lambda x: _pad_np(x, (1, 0, 0, 2), "constant", 0.5), [(2, 3), (1, 2, 2)]),
    *op("pad_negative", lambda x: gradus.pad(x, (-1, 2)), lambda x: _pad_np(x[..., 1:], (0, 2), "constant"),
        [(2, 4)]),
    *[c for mode in ("replicate", "reflect", "circular") for c in op(
        f"pad_{mode}", lambda x, m=mode: gradus.pad(x, (2, 1), mode=m),
        lambda x, m=mode: _pad_np(x, (2, 1), m), [(3,), (2, 4)])],
    *[c for mode in ("replicate", "reflect", "circular") for c in op(
        f"pad2d_{mode}", lambda x, m=mode: gradus.pad(x, (1, 1, 2, 0), mode=m),
        lambda x, m=mode: _pad_np(x, (1, 1, 2, 0), m), [(1, 3, 3), (1, 1, 3, 4)])],
    *op("flip", lambda x: x.flip(0), lambda x: np.flip(x, 0), [(3,), (2, 3)]),
    *op("flip_dims", lambda x: gradus.flip(x, (0, -1)), lambda x: np.flip(x, (0, -1)), [(2, 1, 3)]),
    *op("repeat", lambda x: x.repeat(2, 3), lambda x: _repeat_np(x, 2, 3), [(2, 1), (1, 3), (2, 3)]),
    *op("repeat_new_dims", lambda x: x.repeat(2, 1, 2), lambda x: _repeat_np(x, 2, 1, 2), [(3,), (2, 2)]),
    *op("repeat_0d", lambda x: x.repeat(3), lambda x: _repeat_np(x, 3), [()]),
    *op("tile", lambda x: x.tile((2,)), lambda x: np.tile(x, (1, 2)), [(2, 3)]),
    *op("tile_fn", lambda x: gradus.tile(x, (2, 1, 2)), lambda x: np.tile(x, (2, 1, 2)), [(3,), (2, 2)]),
    *op("repeat_interleave", lambda x: x.repeat_interleave(2, dim=0), lambda x: np.repeat(x, 2, 0),
        [(3,), (2, 2)]),
    *op("triu", lambda x: x.triu(), np.triu, [(3, 3), (2, 4), (2, 3, 3)]),
    *op("triu_k", lambda x: x.triu(1), lambda x: np.triu(x, 1), [(3, 3), (4, 2)]),
    *op("tril", lambda x: gradus.tril(x), np.tril, [(3, 3), (2, 4), (2, 3, 3)]),
    *op("tril_k", lambda x: x.tril(-1), lambda x: np.tril(x, -1), [(3, 3), (2, 4)]),
    *op("movedim", lambda x: gradus.movedim(x, 0, -1), lambda x: np.moveaxis(x, 0, -1), [(2, 1, 3)]),
]

test_forward, test_backward, test_double_backward = op_tests(CASES)


def test_reshape_error_names_shapes():
    with pytest.raises(ValueError, match=r"reshape: shape \(4, 2\) is invalid for a tensor of shape \(2, 3"):
        gradus.ones(2, 3).reshape(4, 2)


def test_cat_error_names_shapes():
    with pytest.raises(ValueError, match=r"cat: .*tensor 0 has shape \(2, 3\) but tensor 1 has shape \(2, 4"):
        gradus.cat([gradus.ones(2, 3), gradus.ones(2, 4)])


def test_cat_promotes_like_pytorch():
    assert gradus.cat([gradus.tensor([1]), gradus.tensor([0.5])]).dtype == np.float32
    f64 = gradus.tensor([2.0], dtype=gradus.float64)
    assert gradus.stack([gradus.tensor([1.0]), f64]).dtype == np.float64


def test_expand_error_names_shapes():
    with pytest.raises(ValueError, match=r"cannot broadcast shape \(2, 3\) to \(3, 3\)"):
        gradus.ones(2, 3).expand(3, 3)


def test_zero_dim_movement_accepts_dim_0_and_minus_1():
    x = gradus.tensor(2.0, requires_grad=True)
    y = x.flip(-1) * 3 + gradus.flip(x, 0) + gradus.movedim(x, 0, -1)
    y.backward()
    assert y.shape == () and x.grad.item() == 5.0
    with pytest.raises(IndexError, match="0-d tensor has no dimensions"):
        x.split(1)
