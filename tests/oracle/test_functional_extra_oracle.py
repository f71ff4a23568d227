"""3-D convolution and pooling, max unpooling, ``interpolate`` (every mode), ``F.normalize`` (every p) and
the functional Tensor methods against PyTorch.

Every case compares the forward AND the gradients w.r.t. every differentiable input (``compare`` of
test_conv_oracle: float64 at ~1e-10, float32 at 1e-4), on grids that cover every stride / padding /
dilation / groups / mode value; modules load PyTorch's state_dict. Invalid arguments must be refused
by both (PyTorch's RuntimeError/ValueError/NotImplementedError vs gradus' ShapeError/DTypeError/
GradIndexError, each a ValueError/TypeError/IndexError).
"""
from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import gradus
import gradus.functional as F
from gradus import nn
from gradus.functional import methods as M
from tests.oracle.test_conv_oracle import TOL, compare, distinct

pytestmark = [pytest.mark.oracle,
              pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")]


def _load(gm, tm):
    gm.load_state_dict({k: gradus.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})


# -- conv3d grid ----------------------------------------------------------------------------------
def _conv3d_grid():
    cases = []
    kernels = [(1, 1, 1), (3, 3, 3), (2, 3, 1), (3, 1, 2)]
    strides = [1, 2, (1, 2, 3)]
    paddings = [0, 1, (1, 0, 2), "same", "valid"]
    for i, (k, s, p, d, g) in enumerate(itertools.product(kernels, strides, paddings, (1, 2, (2, 1, 1)),
                                                          ("1", "2", "dw"))):
        if p == "same" and s != 1:
            continue
        if (i + i // 5) % 3:   # thin the grid (the offset walks the phase): every value still appears
            continue
        n = 1 if i % 2 else 2
        cin = 4
        groups = {"1": 1, "2": 2, "dw": cin}[g]
        oc = {"1": 3, "2": 6, "dw": cin * (1 + i % 2)}[g]
        size = (5, 6, 5) if i % 4 else (6, 5, 7)
        pt = (p,) * 3 if isinstance(p, int) else ((0,) * 3 if isinstance(p, str) else p)
        dd = (d,) * 3 if isinstance(d, int) else d
        if any(m + 2 * q < e * (kk - 1) + 1 for m, q, e, kk in zip(size, pt, dd, k)):
            continue
        j = len(cases)
        dtype = np.float32 if j % 4 == 1 else np.float64
        cases.append((n, cin, size, oc, k, s, p, d, groups, j % 7 != 0, dtype))
    return cases


CONV3D_CASES = _conv3d_grid()


@pytest.mark.parametrize("case", CONV3D_CASES, ids=[str(i) for i in range(len(CONV3D_CASES))])
def test_conv3d_grid(torch, case):
    n, cin, size, oc, k, s, p, d, groups, bias, dtype = case
    rng = np.random.default_rng(CONV3D_CASES.index(case))
    arrays = [rng.standard_normal((n, cin) + size), rng.standard_normal((oc, cin // groups) + k),
              rng.standard_normal(oc) if bias else None]
    compare(torch, lambda x, W, b: F.conv3d(x, W, b, s, p, d, groups),
            lambda x, W, b: torch.nn.functional.conv3d(x, W, b, s, p, d, groups), arrays, dtype)


def test_conv3d_grid_covers_every_value():
    assert {c[4] for c in CONV3D_CASES} == {(1, 1, 1), (3, 3, 3), (2, 3, 1), (3, 1, 2)}
    assert {str(c[5]) for c in CONV3D_CASES} == {"1", "2", "(1, 2, 3)"}
    assert {str(c[6]) for c in CONV3D_CASES} == {"0", "1", "(1, 0, 2)", "same", "valid"}
    assert {str(c[7]) for c in CONV3D_CASES} == {"1", "2", "(2, 1, 1)"}
    assert {c[8] for c in CONV3D_CASES} == {1, 2, 4}
    assert {c[9] for c in CONV3D_CASES} == {True, False} and {c[10] for c in CONV3D_CASES} == {np.float32,
                                                                                           np.float64}


def _transpose3d_grid():
    cases = []
    for i, (k, s, p, op, d, g) in enumerate(itertools.product([1, 3, (2, 3, 1)], (1, 2, (1, 2, 3)), (0, 1),
                                                              (0, 1), (1, 2), (1, 2))):
        ss = (s,) * 3 if isinstance(s, int) else s
        if op >= max(min(ss), d) or i % 2:
            continue
        cases.append((k, s, p, op, d, g, i % 3 != 0, np.float32 if i % 7 == 3 else np.float64))
    return cases


TRANSPOSE3D_CASES = _transpose3d_grid()


@pytest.mark.parametrize("case", TRANSPOSE3D_CASES, ids=[str(i) for i in range(len(TRANSPOSE3D_CASES))])
def test_conv_transpose3d_grid(torch, case):
    k, s, p, op, d, g, bias, dtype = case
    k3 = k if isinstance(k, tuple) else (k,) * 3
    rng = np.random.default_rng(40 + TRANSPOSE3D_CASES.index(case))
    arrays = [rng.standard_normal((2, 4, 3, 4, 3)), rng.standard_normal((4, 6 // g) + k3),
              rng.standard_normal(6) if bias else None]
    compare(torch, lambda x, W, b: F.conv_transpose3d(x, W, b, s, p, op, g, d),
            lambda x, W, b: torch.nn.functional.conv_transpose3d(x, W, b, s, p, op, g, d), arrays, dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", [1, (2, 1, 0), "same"])
def test_conv3d_module_padding_modes(torch, mode, padding, dtype):
    """nn.Conv3d with PyTorch's state_dict loaded, every padding mode; weight and bias gradients too."""
    k = (3, 2, 3) if padding == "same" else 3
    td = torch.float64 if dtype == np.float64 else torch.float32
    tm = torch.nn.Conv3d(3, 4, k, padding=padding, padding_mode=mode, dtype=td)
    gm = nn.Conv3d(3, 4, k, padding=padding, padding_mode=mode,
                   dtype=gradus.float64 if dtype == np.float64 else gradus.float32)
    _load(gm, tm)
    x = np.random.default_rng(2).standard_normal((2, 3, 4, 5, 4))
    compare(torch, lambda x: gm(x), lambda x: tm(x), [x], dtype)
    np.testing.assert_allclose(gm.weight.grad.numpy(), tm.weight.grad.numpy(), **TOL[dtype])
    np.testing.assert_allclose(gm.bias.grad.numpy(), tm.bias.grad.numpy(), **TOL[dtype])


def test_conv_transpose3d_module_output_size(torch):
    tm = torch.nn.ConvTranspose3d(4, 6, 3, 2, 1, groups=2, dtype=torch.float64)
    gm = nn.ConvTranspose3d(4, 6, 3, 2, 1, groups=2, dtype=gradus.float64)
    _load(gm, tm)
    x = np.random.default_rng(3).standard_normal((2, 4, 3, 4, 2))
    compare(torch, lambda x: gm(x, output_size=(6, 7, 4)), lambda x: tm(x, output_size=(6, 7, 4)), [x])
    np.testing.assert_allclose(gm.weight.grad.numpy(), tm.weight.grad.numpy(), **TOL[np.float64])
    assert [n for n, _ in gm.named_parameters()] == [n for n, _ in tm.named_parameters()]


def test_default_init_statistics_match_pytorch(torch):
    """Same init distribution (kaiming_uniform_(a=sqrt(5)), bias U(+-1/sqrt(fan_in))): compare bounds."""
    for g, t in [(nn.Conv3d(8, 16, 3), torch.nn.Conv3d(8, 16, 3)),
                 (nn.ConvTranspose3d(8, 4, (2, 3, 3), groups=2),
                  torch.nn.ConvTranspose3d(8, 4, (2, 3, 3), groups=2))]:
        assert g.weight.shape == tuple(t.weight.shape) and g.bias.shape == tuple(t.bias.shape)
        gw, tw = np.abs(g.weight.numpy()).max(), np.abs(t.weight.detach().numpy()).max()
        assert abs(gw - tw) < 0.05 * tw
        gb, tb = np.abs(g.bias.numpy()).max(), np.abs(t.bias.detach().numpy()).max()
        assert gb <= 1.02 * max(tb, gw) and tb <= 1.02 * max(gb, tw)


# -- 3-D pooling -------------------------------------------------------------------------------------
def _max_pool3d_grid():
    cases = []
    for k, s, p, d, ceil in itertools.product([1, 2, 3, (3, 2, 1)], (None, 1, 2, (1, 2, 3)), (0, 1), (1, 2),
                                              (False, True)):
        kk = k if isinstance(k, tuple) else (k,) * 3
        if any(p > (d * (x - 1) + 1) / 2 for x in kk):
            continue
        cases.append((k, s, p, d, ceil))
    return cases[::2]


MAX_POOL3D_CASES = _max_pool3d_grid()


@pytest.mark.parametrize("case", MAX_POOL3D_CASES, ids=[str(i) for i in range(len(MAX_POOL3D_CASES))])
def test_max_pool3d_grid(torch, case):
    k, s, p, d, ceil = case
    x = distinct(np.random.default_rng(8), (2, 2, 5, 6, 7))
    compare(torch, lambda x: F.max_pool3d(x, k, s, p, d, ceil, True),
            lambda x: torch.nn.functional.max_pool3d(x, k, s, p, d, ceil, True), [x], n_out=2)


def _avg_pool3d_grid():
    cases = []
    for k, s, p, ceil, cip in itertools.product([1, 2, 3, (3, 2, 1)], (None, 1, 2, (1, 2, 3)), (0, 1),
                                                (False, True), (True, False)):
        kk = k if isinstance(k, tuple) else (k,) * 3
        if any(p > x / 2 for x in kk):
            continue
        cases.append((k, s, p, ceil, cip, None))
    return cases[::2] + [(3, 1, 1, False, True, 4), ((2, 3, 2), 2, 1, True, False, 7)]


AVG_POOL3D_CASES = _avg_pool3d_grid()


@pytest.mark.parametrize("case", AVG_POOL3D_CASES, ids=[str(i) for i in range(len(AVG_POOL3D_CASES))])
def test_avg_pool3d_grid(torch, case):
    k, s, p, ceil, cip, div = case
    x = np.random.default_rng(10).standard_normal((2, 2, 5, 6, 7))
    compare(torch, lambda x: F.avg_pool3d(x, k, s, p, ceil, cip, div),
            lambda x: torch.nn.functional.avg_pool3d(x, k, s, p, ceil, cip, div), [x])


@pytest.mark.parametrize("in_size,out_size", [((7, 5, 6), (3, 2, 4)), ((4, 6, 8), (2, 3, 4)), ((5, 5, 5), 1),
                                              ((6, 4, 5), (6, None, 2)), ((3, 4, 5), (5, 7, 6))])
def test_adaptive_avg_pool3d(torch, in_size, out_size):
    x = np.random.default_rng(12).standard_normal((2, 3) + in_size)
    compare(torch, lambda x: F.adaptive_avg_pool3d(x, out_size),
            lambda x: torch.nn.functional.adaptive_avg_pool3d(x, out_size), [x])
    compare(torch, lambda x: nn.AdaptiveAvgPool3d(out_size)(x),
            lambda x: torch.nn.AdaptiveAvgPool3d(out_size)(x), [x], np.float32)


def test_pool3d_modules_float32(torch):
    x = distinct(np.random.default_rng(13), (2, 3, 5, 6, 4))
    compare(torch, lambda x: nn.MaxPool3d(3, 2, 1, ceil_mode=True)(x),
            lambda x: torch.nn.MaxPool3d(3, 2, 1, ceil_mode=True)(x), [x], np.float32)
    compare(torch, lambda x: nn.MaxPool3d(2, return_indices=True)(x),
            lambda x: torch.nn.MaxPool3d(2, return_indices=True)(x), [x], np.float32, n_out=2)
    compare(torch, lambda x: nn.AvgPool3d(2, 1, 1, count_include_pad=False)(x),
            lambda x: torch.nn.AvgPool3d(2, 1, 1, count_include_pad=False)(x), [x], np.float32)
    compare(torch, lambda x: F.max_pool3d(x[0], 2), lambda x: torch.nn.functional.max_pool3d(x[0], 2), [x])


# -- max unpooling ----------------------------------------------------------------------------------
@pytest.mark.parametrize("nd,shape,k,s,p,out", [
    (1, (2, 3, 11), 2, None, 0, None), (1, (2, 3, 11), 3, 3, 1, (11,)),
    (2, (2, 3, 8, 6), 2, None, 0, None), (2, (2, 3, 7, 9), 2, 2, 0, (7, 9)),
    (2, (1, 2, 7, 8), 3, 3, 1, (7, 8)),
    (2, (3, 7, 8), 2, None, 0, None), (2, (2, 2, 7, 8), (2, 3), (2, 3), (1, 1), (2, 2, 7, 8)),
    (3, (2, 2, 4, 6, 4), 2, None, 0, None), (3, (1, 2, 5, 6, 7), 2, 2, 0, (5, 6, 7)),
    (3, (1, 2, 5, 6, 7), 3, 3, 1, (5, 6, 7)),
])
def test_max_unpool(torch, nd, shape, k, s, p, out):
    """Pool with both frameworks (same indices), then unpool values at those indices: the output and the
    gradient of the values."""
    tf = torch.nn.functional
    a = distinct(np.random.default_rng(14), shape)
    yt, it = getattr(tf, f"max_pool{nd}d")(torch.tensor(a), k, s, p, return_indices=True)
    yg, ig = getattr(F, f"max_pool{nd}d")(gradus.tensor(a), k, s, p, return_indices=True)
    np.testing.assert_array_equal(ig.numpy(), it.numpy())
    v = np.random.default_rng(15).standard_normal(yt.shape)
    gi = gradus.tensor(ig.numpy())
    compare(torch, lambda v: getattr(F, f"max_unpool{nd}d")(v, gi, k, s, p, out),
            lambda v: getattr(tf, f"max_unpool{nd}d")(v, it, k, s, p, out), [v])
    gmod = (nn.MaxUnpool1d, nn.MaxUnpool2d, nn.MaxUnpool3d)[nd - 1](k, s, p)
    tmod = (torch.nn.MaxUnpool1d, torch.nn.MaxUnpool2d, torch.nn.MaxUnpool3d)[nd - 1](k, s, p)
    assert repr(gmod) == repr(tmod)
    compare(torch, lambda v: gmod(v, gi, out), lambda v: tmod(v, it, out), [v], np.float32)


def test_max_unpool_refuses_what_pytorch_refuses(torch):
    tf = torch.nn.functional
    yt, it = tf.max_pool2d(torch.randn(1, 1, 4, 4), 2, return_indices=True)
    yg, ig = gradus.tensor(yt.numpy()), gradus.tensor(it.numpy())
    for bad in [lambda L, y, i: L.max_unpool2d(y, i * 100, 2),
                lambda L, y, i: L.max_unpool2d(y, i, 2, output_size=(7, 7)),
                lambda L, y, i: L.max_unpool2d(y, i, 2, output_size=(1, 4, 4)),
                lambda L, y, i: L.max_unpool2d(y, i[..., :1], 2)]:
        with pytest.raises((RuntimeError, ValueError, IndexError)):
            bad(tf, yt, it)
        with pytest.raises((ValueError, IndexError)):
            bad(F, yg, ig)


# -- interpolate --------------------------------------------------------------------------------------
def _interp_grid():
    """(shape, kwargs): every mode with size= and scale_factor= (non-integer factors where in*factor is
    not an integer, up and down), align_corners, recompute_scale_factor, antialias."""
    cases = []
    dims = {"nearest": (1, 2, 3), "nearest-exact": (1, 2, 3), "area": (1, 2, 3), "linear": (1,),
            "bilinear": (2,), "bicubic": (2,), "trilinear": (3,)}
    for mode, nds in dims.items():
        acs = (None,) if mode in ("nearest", "nearest-exact", "area") else (False, True)
        for nd, ac in itertools.product(nds, acs):
            base = (5, 4, 6)[:nd]
            for sf in (0.5, 0.7, 1.3, 2.0, 2.5, (1.7, 0.6, 3.1)[:nd]):
                if isinstance(sf, tuple) and nd == 1:
                    sf = sf[0]
                for rsf in (None, True):
                    cases.append(((2, 2) + base, dict(scale_factor=sf, mode=mode, align_corners=ac,
                                                      recompute_scale_factor=rsf)))
            for size in ((1, 1, 1)[:nd], (3, 7, 2)[:nd], (9, 4, 11)[:nd], base):
                size = size if nd > 1 else size[0]
                cases.append(((1, 2) + base, dict(size=size, mode=mode, align_corners=ac)))
    for mode, ac in itertools.product(("bilinear", "bicubic"), (False, True)):
        for kw in (dict(size=(3, 2)), dict(size=(2, 7)), dict(scale_factor=0.4), dict(scale_factor=1.6),
                   dict(size=(11, 9))):
            cases.append(((1, 2, 9, 8), dict(mode=mode, align_corners=ac, antialias=True, **kw)))
    return cases


INTERP_CASES = _interp_grid()


def _torch_nearest_grad_is_inconsistent(shape, kw):
    """PyTorch's 'nearest' backward on 3-D / 5-D input applies its 4-D index shortcuts (copy when the size
    is unchanged, halve when it doubles) that its forward does not apply (see functional/resample.py): its
    gradient is then not the gradient of its output, and ours (the exact adjoint) differs."""
    sf = kw.get("scale_factor")
    if kw.get("mode", "nearest") != "nearest" or len(shape) == 4 or sf is None:
        return False
    if kw.get("recompute_scale_factor"):
        return False
    sfs = sf if isinstance(sf, tuple) else (sf,) * (len(shape) - 2)
    return any(int(n * f) in (n, 2 * n) and f not in (1.0, 2.0) for n, f in zip(shape[2:], sfs))


@pytest.mark.parametrize("case", INTERP_CASES, ids=[str(i) for i in range(len(INTERP_CASES))])
def test_interpolate_grid(torch, case):
    shape, kw = case
    x = np.random.default_rng(INTERP_CASES.index(case)).standard_normal(shape)
    tf = torch.nn.functional
    assert not _torch_nearest_grad_is_inconsistent(shape, kw)
    dtype = np.float32 if INTERP_CASES.index(case) % 4 == 1 else np.float64
    compare(torch, lambda x: F.interpolate(x, **kw), lambda x: tf.interpolate(x, **kw), [x], dtype)


def test_interpolate_grid_covers_the_brief():
    modes = {kw["mode"] for _, kw in INTERP_CASES}
    assert modes == {"nearest", "nearest-exact", "area", "linear", "bilinear", "bicubic", "trilinear"}
    for mode in ("linear", "bilinear", "bicubic", "trilinear"):
        kws = [kw for _, kw in INTERP_CASES if kw["mode"] == mode]
        assert {kw["align_corners"] for kw in kws} == {False, True}
        assert any("size" in kw for kw in kws) and any(kw.get("recompute_scale_factor") for kw in kws)
        assert any("scale_factor" in kw and not kw.get("recompute_scale_factor") for kw in kws)


def test_interpolate_nearest_where_pytorch_backward_disagrees_with_its_forward(torch):
    """Forward values match PyTorch; the gradient is the exact adjoint of that forward, where PyTorch's
    is not (its backward copies an axis whose size did not change although the forward resampled it)."""
    x = np.arange(5.0).reshape(1, 1, 5)
    kw = dict(scale_factor=1.05)
    assert _torch_nearest_grad_is_inconsistent(x.shape, kw)
    g = gradus.tensor(x, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    y, yt = F.interpolate(g, **kw), torch.nn.functional.interpolate(t, **kw)
    np.testing.assert_array_equal(y.numpy(), yt.detach().numpy())
    w = np.array([[[1.0, 10, 100, 1000, 10000]]])
    y.backward(gradus.tensor(w))
    yt.backward(torch.tensor(w))
    # <y, w> = x0 * (1 + 10) + x1 * 100 + ...: the true gradient; PyTorch returns w itself
    np.testing.assert_array_equal(g.grad.numpy().ravel(), [11, 100, 1000, 10000, 0])
    np.testing.assert_array_equal(t.grad.numpy().ravel(), w.ravel())


@pytest.mark.parametrize("kw", [dict(scale_factor=2, mode="bicubic"), dict(size=(5, 3), mode="bicubic",
                                                                              align_corners=True),
                                dict(scale_factor=(1, 2, 0.5), mode="trilinear"), dict(size=7, mode="linear"),
                                dict(scale_factor=0.5, mode="area")])
def test_upsample_module(torch, kw):
    nd = {"bicubic": 2, "trilinear": 3, "linear": 1, "area": 2}[kw["mode"]]
    x = np.random.default_rng(16).standard_normal((2, 3) + (4, 5, 3)[:nd])
    compare(torch, lambda x: nn.Upsample(**kw)(x), lambda x: torch.nn.Upsample(**kw)(x), [x], np.float32)


def test_interpolate_refuses_what_pytorch_refuses(torch):
    tf = torch.nn.functional
    x4 = np.zeros((1, 1, 4, 4))
    bad = [dict(scale_factor=2, mode="trilinear"), dict(scale_factor=2, mode="linear"),
           dict(size=3, scale_factor=2), dict(), dict(size=(3, 3, 3)), dict(scale_factor=(2, 2, 2)),
           dict(size=3, mode="bilinear", recompute_scale_factor=True),
           dict(scale_factor=2, align_corners=True),
           dict(scale_factor=2, mode="nearest", antialias=True), dict(scale_factor=2, mode="cubic")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for kw in bad:
            with pytest.raises((ValueError, NotImplementedError, RuntimeError, TypeError)):
                tf.interpolate(torch.tensor(x4), **kw)
            with pytest.raises((ValueError, TypeError)):
                F.interpolate(gradus.tensor(x4), **kw)


# -- normalize ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [0, 1, 2, 3, 0.5, float("inf"), -float("inf"), -1.5])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_normalize(torch, p, dim, dtype):
    x = np.random.default_rng(17).standard_normal((3, 4, 5))
    x[0, 1] = 0
    x[1, :, 2] = 0
    x[2, 0, 0] = 0
    compare(torch, lambda x: F.normalize(x, p, dim), lambda x: torch.nn.functional.normalize(x, p, dim), [x],
            dtype)


# -- Tensor methods ---------------------------------------------------------------------------------------
def test_every_method_is_a_pytorch_tensor_method(torch):
    for name in M.METHODS:
        assert hasattr(torch.Tensor, name), name


def test_functional_ops_that_pytorch_has_as_methods_are_methods(torch):
    """Every ``gradus.functional`` name that is also a ``torch.Tensor`` method is a gradus Tensor method
    (``unfold`` excepted: ``Tensor.unfold(dim, size, step)`` is a different op from F.unfold)."""
    names = {n for n in dir(F) if not n.startswith("_") and callable(getattr(F, n))}
    missing = sorted(n for n in names & set(dir(torch.Tensor)) - {"unfold"} if not hasattr(gradus.Tensor, n))
    assert missing == []


@pytest.mark.parametrize("name,args", [("softmax", (1,)), ("softmax", (0,)), ("log_softmax", (1,)),
                                       ("log_softmax", (-1,)), ("hardshrink", ()), ("hardshrink", (0.8,)),
                                       ("relu", ()), ("sigmoid", ()), ("tanh", ())])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_methods_match_pytorch(torch, name, args, dtype):
    x = np.random.default_rng(18).standard_normal((3, 4)) * 2
    compare(torch, lambda x: getattr(x, name)(*args), lambda x: getattr(x, name)(*args), [x], dtype)


def test_prelu_and_dtype_methods_match_pytorch(torch):
    rng = np.random.default_rng(19)
    x, w = rng.standard_normal((2, 3, 4)), rng.uniform(0.1, 0.5, 3)
    compare(torch, lambda x, w: x.prelu(w), lambda x, w: x.prelu(w), [x, w])
    compare(torch, lambda x: gradus.softmax(x, 2), lambda x: torch.softmax(x, 2), [x])
    compare(torch, lambda x: gradus.log_softmax(x, 0), lambda x: torch.log_softmax(x, 0), [x])
    g = gradus.tensor(x.astype(np.float32)).softmax(1, dtype=gradus.float64)
    t = torch.tensor(x.astype(np.float32)).softmax(1, dtype=torch.float64)
    assert g.dtype == np.float64 and t.dtype == torch.float64
    np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-12)


def test_top_level_functions_match_pytorch(torch):
    rng = np.random.default_rng(20)
    x, W = rng.standard_normal((2, 4, 5, 6, 5)), rng.standard_normal((4, 2, 3, 3, 3))
    compare(torch, lambda x, W: gradus.conv3d(x, W, None, 1, 1, 1, 2),
            lambda x, W: torch.conv3d(x, W, None, 1, 1, 1, 2), [x, W])
    compare(torch, lambda x: gradus.max_pool3d(x, 2), lambda x: torch.max_pool3d(x, 2),
            [distinct(rng, x.shape)])
    Wt = rng.standard_normal((4, 2, 2, 2, 2))
    compare(torch, lambda x, W: gradus.conv_transpose3d(x, W, None, 2),
            lambda x, W: torch.conv_transpose3d(x, W, None, 2), [x, Wt])
