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


def _pad_neg_np(x, pad, mode):
    """PyTorch's negative pads: reflect/replicate pad the whole dim then crop; circular crops first."""
    np_mode = {"replicate": "edge", "circular": "wrap"}.get(mode, mode)
    for i in range(len(pad) // 2):
        ax, lo, hi = x.ndim - 1 - i, pad[2 * i], pad[2 * i + 1]
        width = [(0, 0)] * x.ndim
        width[ax] = (max(lo, 0), max(hi, 0))

        def crop(a, ax=ax, lo=lo, hi=hi):
            return np.take(a, range(max(-lo, 0), a.shape[ax] - max(-hi, 0)), axis=ax)
        if mode == "circular":
            x = np.pad(crop(x), width, mode=np_mode)
        else:
            x = crop(np.pad(x, width, mode=np_mode))
    return x


def _unfold_np(x, dim, size, step):
    win = np.lib.stride_tricks.sliding_window_view(x, size, axis=dim)
    return win[(slice(None),) * (dim % x.ndim) + (slice(None, None, step),)]


def _diag_embed_np(x, offset=0, d1=-2, d2=-1):
    n = x.shape[-1] + abs(offset)
    out = np.zeros(x.shape[:-1] + (n, n))
    k = np.arange(x.shape[-1])
    out[..., k + max(-offset, 0), k + max(offset, 0)] = x
    nd = x.ndim + 1
    return np.moveaxis(out, (-2, -1), (d1 % nd, d2 % nd))


CASES += [
    *op("diag_1d", lambda x: x.diag(), np.diag, [(3,), (1,)]),
    *op("diag_1d_offset", lambda x: gradus.diag(x, 2), lambda x: np.diag(x, 2), [(3,)]),
    *op("diag_1d_neg", lambda x: gradus.diag(x, -1), lambda x: np.diag(x, -1), [(2,)]),
    *op("diag_2d", lambda x: x.diag(), np.diag, [(3, 3), (2, 4), (4, 2)]),
    *op("diag_2d_offset", lambda x: gradus.diag(x, 1), lambda x: np.diag(x, 1), [(3, 4)]),
    *op("diag_2d_out_of_range", lambda x: gradus.diag(x, -5), lambda x: np.diag(x, -5), [(3, 4)]),
    *op("diagonal", lambda x: x.diagonal(), lambda x: np.diagonal(x), [(3, 3), (2, 3, 4)]),
    *op("diagonal_dims", lambda x: gradus.diagonal(x, 1, 2, 0), lambda x: np.diagonal(x, 1, 2, 0),
        [(2, 3, 4)]),
    *op("diagonal_neg_dims", lambda x: x.diagonal(offset=-1, dim1=-1, dim2=-2),
        lambda x: np.diagonal(x, -1, -1, -2), [(2, 3, 4)]),
    *op("diag_embed", lambda x: x.diag_embed(), _diag_embed_np, [(3,), (2, 3)]),
    *op("diag_embed_offset_dims", lambda x: gradus.diag_embed(x, -1, 0, 2),
        lambda x: _diag_embed_np(x, -1, 0, 2), [(2, 3)]),
    *op("diag_embed_swapped", lambda x: gradus.diag_embed(x, 2, -1, 1),
        lambda x: _diag_embed_np(x, 2, -1, 1), [(2, 3)]),
    *op("roll_flat", lambda x: x.roll(2), lambda x: np.roll(x, 2), [(5,), (2, 3), ()]),
    *op("roll_dim", lambda x: gradus.roll(x, -1, 1), lambda x: np.roll(x, -1, 1), [(2, 3)]),
    *op("roll_dims", lambda x: x.roll((1, -2), (0, -1)), lambda x: np.roll(x, (1, -2), (0, -1)),
        [(2, 3, 4)]),
    *op("roll_same_dim_twice", lambda x: x.roll((1, 4), (1, 1)), lambda x: np.roll(x, 5, 1), [(2, 3)]),
    *op("unfold_overlapping", lambda x: x.unfold(0, 2, 1), lambda x: _unfold_np(x, 0, 2, 1), [(4,), (3, 2)]),
    *op("unfold_strided", lambda x: x.unfold(-1, 2, 3), lambda x: _unfold_np(x, -1, 2, 3), [(2, 7), (8,)]),
    *op("unfold_many_windows", lambda x: x.unfold(1, 3, 1), lambda x: _unfold_np(x, 1, 3, 1), [(2, 6, 2)]),
    *op("unfold_0d", lambda x: x.unfold(0, 1, 1), lambda x: x.reshape(1), [()]),
    *op("narrow", lambda x: x.narrow(1, 1, 2), lambda x: x[:, 1:3], [(2, 4)]),
    *op("narrow_neg_start", lambda x: gradus.narrow(x, -1, -3, 2), lambda x: x[..., -3:-1], [(3,), (2, 4)]),
    *op("movedim_tuple", lambda x: x.movedim((0, 1), (2, 0)), lambda x: np.moveaxis(x, (0, 1), (2, 0)),
        [(2, 3, 4)]),
    *op("moveaxis", lambda x: gradus.moveaxis(x, [-1], [0]), lambda x: np.moveaxis(x, -1, 0), [(2, 3, 4)]),
    *op("meshgrid_ij", lambda a, b: gradus.meshgrid(a, b, indexing="ij"),
        lambda a, b: tuple(np.meshgrid(a, b, indexing="ij")), [((3,), (2,)), ((), (2,))]),
    *op("meshgrid_xy", lambda a, b, c: gradus.meshgrid([a, b, c], indexing="xy"),
        lambda a, b, c: tuple(np.meshgrid(a, b, c, indexing="xy")), [((3,), (2,), (4,))]),
    *[c for mode in ("replicate", "reflect", "circular") for c in op(
        f"pad_negative_{mode}", lambda x, m=mode: gradus.pad(x, (-1, 2, 1, -1), mode=m),
        lambda x, m=mode: _pad_neg_np(x, (-1, 2, 1, -1), m), [(1, 3, 4)])],
    *[c for mode in ("replicate", "reflect") for c in op(
        f"pad_crop_beyond_{mode}", lambda x, m=mode: gradus.pad(x, (-4, 2), mode=m),
        lambda x, m=mode: _pad_neg_np(x, (-4, 2), m), [(2, 5)])],
    *op("pad_crop_wrap_circular", lambda x: gradus.pad(x, (3, -2), mode="circular"),
        lambda x: _pad_neg_np(x, (3, -2), "circular"), [(2, 5)]),
]

test_forward, test_backward, test_double_backward, test_cuda = op_tests(CASES)


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


def test_meshgrid_default_warns_once_like_pytorch(monkeypatch):
    from gradus.ops import movement

    monkeypatch.setattr(movement, "_meshgrid_warned", [])
    with pytest.warns(UserWarning, match="indexing argument"):
        a, b = gradus.meshgrid(gradus.arange(3), gradus.arange(2))
    assert a.shape == (3, 2) and b.shape == (3, 2)  # 'ij'
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gradus.meshgrid(gradus.arange(3), gradus.arange(2))  # only the first call warns


def test_squeeze_dim_on_0d():
    x = gradus.tensor(2.0)
    assert x.squeeze(0).shape == () and x.squeeze(-1).shape == () and x.squeeze((0,)).shape == ()
    for d in (1, -2, (0, 1)):
        with pytest.raises(IndexError, match="out of range"):
            x.squeeze(d)
